/* paths.c: tend's default paths, from the effective user and the XDG
 * base directory variables. */
#include <sys/types.h>

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

/*
 * An unprivileged default: $xdg/tend/rest if that variable holds an
 * absolute path (as the XDG spec asks), else $HOME/home_rel/tend/rest.
 */
static char *
conf_user_path(const char *xdg, const char *home_rel, const char *rest)
{
	const char	*v = getenv(xdg), *home = getenv("HOME");
	struct passwd	*pw;
	char		*s;

	if (v != NULL && v[0] == '/')
		xasprintf(&s, "%s/tend%s", v, rest);
	else {
		if ((home == NULL || home[0] != '/') &&
		    (pw = getpwuid(geteuid())) != NULL)
			home = pw->pw_dir;
		if (home == NULL || home[0] != '/')
			home = "";
		xasprintf(&s, "%s/%s/tend%s", strcmp(home, "/") == 0 ? "" :
		    home, home_rel, rest);
	}
	return s;
}

char *
conf_default_config(void)
{
	if (geteuid() == 0)
		return xstrdup("/etc/tend/tend.conf");
	return conf_user_path("XDG_CONFIG_HOME", ".config", "/tend.conf");
}

char *
conf_default_socket(void)
{
	const char	*v = getenv("XDG_RUNTIME_DIR");
	char		*s;

	if (geteuid() == 0)
		return xstrdup("/run/tend/tend.sock");
	if (v != NULL && v[0] == '/')
		xasprintf(&s, "%s/tend/tend.sock", v);
	else
		xasprintf(&s, "/tmp/tend-%u/tend.sock", (unsigned)geteuid());
	return s;
}

char *
conf_default_state_dir(void)
{
	if (geteuid() == 0)
		return xstrdup("/var/lib/tend");
	return conf_user_path("XDG_STATE_HOME", ".local/state", "");
}

char *
conf_default_log_dir(void)
{
	if (geteuid() == 0)
		return xstrdup("/var/log/tend");
	return conf_user_path("XDG_STATE_HOME", ".local/state", "/log");
}
