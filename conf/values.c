/* values.c: read typed values out of libconfig settings (strings,
 * integers, durations, sizes, modes, paths, users and groups), reporting
 * errors with file and line. */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf_int.h"
#include "util.h"

/* Paths. */

char *
conf_join(const char *dir, const char *rel)
{
	char	*s;
	size_t	 len = strlen(dir);

	if (*rel == '\0' || strcmp(rel, ".") == 0)
		return xstrdup(dir);
	if (len > 0 && dir[len - 1] == '/')
		xasprintf(&s, "%s%s", dir, rel);
	else
		xasprintf(&s, "%s/%s", dir, rel);
	return s;
}

/* The directory of an absolute file path. */
char *
conf_dirname(const char *path)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL || slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Make path absolute against dir, dropping a leading "./" and trailing /. */
char *
conf_absolute(const char *dir, const char *path)
{
	char	*s;
	size_t	 len;

	while (path[0] == '.' && path[1] == '/') {
		path += 2;
		while (*path == '/')
			path++;
	}
	s = *path == '/' ? xstrdup(path) : conf_join(dir, path);
	for (len = strlen(s); len > 1 && s[len - 1] == '/'; len--)
		s[len - 1] = '\0';
	return s;
}

/* Relative paths are taken from the directory of the file holding s. */
char *
conf_setting_path(const struct conf_ctx *ctx, const config_setting_t *s,
    const char *path)
{
	const struct conf_src	*src = conf_ssrc(ctx, s);

	return conf_absolute(src != NULL ? src->dir : ctx->dir, path);
}

/* NULL (errno set) if the working directory is gone. */
char *
conf_cwd_absolute(const char *path)
{
	char	*cwd, *s;

	if (path[0] == '/')
		return conf_absolute("/", path);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	s = conf_absolute(cwd, path);
	free(cwd);
	return s;
}

/* Typed getters: each reports its own error and returns -1. */

const char *
conf_type_name(const config_setting_t *s)
{
	/* Indexed by CONFIG_TYPE_*. */
	static const char *const names[] = { "nothing", "a group",
	    "an integer", "an integer", "a float", "a string", "a boolean",
	    "an array", "a list" };
	unsigned	 t = (unsigned)config_setting_type(s);

	return t < nitems(names) ? names[t] : "nothing";
}

bool
conf_is_int(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	    config_setting_type(s) == CONFIG_TYPE_INT64;
}

bool
conf_is_list(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

int
conf_get_string(struct conf_ctx *ctx, const config_setting_t *s,
    const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err(ctx, s, "%s must be a string (got %s)",
		    config_setting_name(s), conf_type_name(s));
		return -1;
	}
	if (*(*out = config_setting_get_string(s)) == '\0') {
		conf_err(ctx, s, "%s must not be empty",
		    config_setting_name(s));
		return -1;
	}
	return 0;
}

int
conf_get_int(struct conf_ctx *ctx, const config_setting_t *s,
    const char *name, long long min, long long max, long long *out)
{
	long long	 v;

	if (!conf_is_int(s)) {
		conf_err(ctx, s, "%s must be an integer (got %s)", name,
		    conf_type_name(s));
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v >= min && v <= max) {
		*out = v;
		return 0;
	}
	if (max == INT_MAX)
		conf_err(ctx, s, "%s must be at least %lld (got %lld)", name,
		    min, v);
	else
		conf_err(ctx, s, "%s must be between %lld and %lld (got %lld)",
		    name, min, max, v);
	return -1;
}

int
conf_get_duration(struct conf_ctx *ctx, const config_setting_t *s,
    uint64_t *out)
{
	const char	*name = config_setting_name(s), *v;
	double		 secs;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		if (util_parse_duration(v = config_setting_get_string(s),
		    out) == 0)
			return 0;
		conf_err(ctx, s, "%s must be a duration such as \"10s\", "
		    "\"250ms\" or \"1m30s\" (got \"%s\")", name, v);
		return -1;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		secs = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		secs = config_setting_get_float(s);
		break;
	default:
		conf_err(ctx, s, "%s must be a duration: a number of seconds "
		    "or a string such as \"10s\" (got %s)", name,
		    conf_type_name(s));
		return -1;
	}
	if (secs < 0) {
		conf_err(ctx, s, "%s must not be negative (got %g)", name,
		    secs);
		return -1;
	}
	if (util_seconds_to_usec(secs, out) != 0) {
		conf_err(ctx, s, "%s is out of range (got %g)", name, secs);
		return -1;
	}
	return 0;
}

/* "64K" for a multiple of 1K, else the number: limits in messages. */
void
conf_format_size(uint64_t v, char *buf, size_t len)
{
	if (v != 0 && v % CONF_GIB == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(v / CONF_GIB));
	else if (v != 0 && v % CONF_MIB == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(v / CONF_MIB));
	else if (v != 0 && v % CONF_KIB == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(v / CONF_KIB));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* A size: bytes as an integer, or a string such as "64K". */
int
conf_get_size(struct conf_ctx *ctx, const config_setting_t *s,
    long long min, long long max, uint64_t *out)
{
	const char	*name = config_setting_name(s), *v;
	char		 lo[32], hi[32], got[32];
	long long	 n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		if (util_parse_size(v = config_setting_get_string(s), out) ==
		    0)
			break;
		conf_err(ctx, s, "%s must be a size such as \"512\", \"64K\" "
		    "or \"10M\" (got \"%s\")", name, v);
		return -1;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		if ((n = config_setting_get_int64(s)) < 0) {
			conf_err(ctx, s, "%s must not be negative (got %lld)",
			    name, n);
			return -1;
		}
		*out = (uint64_t)n;
		break;
	default:
		conf_err(ctx, s, "%s must be a size: a number of bytes or a "
		    "string such as \"64K\" (got %s)", name, conf_type_name(s));
		return -1;
	}
	if (*out >= (uint64_t)min && *out <= (uint64_t)max)
		return 0;
	conf_format_size((uint64_t)min, lo, sizeof lo);
	conf_format_size((uint64_t)max, hi, sizeof hi);
	conf_format_size(*out, got, sizeof got);
	if (min == 0)
		conf_err(ctx, s, "%s must be at most %s (got %s)", name, hi,
		    got);
	else
		conf_err(ctx, s, "%s must be between %s and %s (got %s)", name,
		    lo, hi, got);
	return -1;
}

/* Octal strings only: libconfig would read 022 as decimal 22. */
int
conf_get_mode(struct conf_ctx *ctx, const config_setting_t *s,
    mode_t *out)
{
	const char	*name = config_setting_name(s), *v, *p;
	unsigned long	 m = 0;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err(ctx, s, "%s must be an octal string such as \"0640\""
		    " (got %s)", name, conf_type_name(s));
		return -1;
	}
	v = config_setting_get_string(s);
	for (p = v; *p >= '0' && *p <= '7' && m <= 0777; p++)
		m = m * 8 + (unsigned long)(*p - '0');
	if (*v == '\0' || *p != '\0' || m > 0777) {
		conf_err(ctx, s, "%s must be an octal string from \"0\" to "
		    "\"0777\" (got \"%s\")", name, v);
		return -1;
	}
	*out = (mode_t)m;
	return 0;
}

/* A user or group: a name, or a number as a string or an integer. */
int
conf_get_id(struct conf_ctx *ctx, const config_setting_t *s, char **out)
{
	const char	*v;
	long long	 n;

	if (conf_is_int(s)) {
		if (conf_get_int(ctx, s, config_setting_name(s), 0,
		    (long long)UINT_MAX - 1, &n) != 0)
			return -1;
		xasprintf(out, "%lld", n);
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err(ctx, s, "%s must be a name or a number (got %s)",
		    config_setting_name(s), conf_type_name(s));
		return -1;
	}
	if (conf_get_string(ctx, s, &v) != 0)
		return -1;
	*out = xstrdup(v);
	return 0;
}

/* Users and groups. */

/* Is s all digits (then a uid or gid, stored in *id)? */
bool
conf_numeric_id(const char *s, unsigned *id)
{
	unsigned long long	 n;
	char			*end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*end != '\0')
		return false;
	*id = errno != 0 || n >= UINT_MAX ? UINT_MAX : (unsigned)n;
	return true;
}

struct passwd *
conf_getpw(const char *v)
{
	unsigned	 id;

	if (!conf_numeric_id(v, &id))
		return getpwnam(v);
	return id == UINT_MAX ? NULL : getpwuid((uid_t)id);
}

struct group *
conf_getgr(const char *v)
{
	unsigned	 id;

	if (!conf_numeric_id(v, &id))
		return getgrnam(v);
	return id == UINT_MAX ? NULL : getgrgid((gid_t)id);
}

/* Without root, tendd can only use its own groups (setgid, chown). */
bool
conf_own_gid(gid_t gid)
{
	gid_t	*list;
	int	 n, i;
	bool	 found = false;

	if (geteuid() == 0 || gid == getegid())
		return true;
	if ((n = getgroups(0, NULL)) <= 0)
		return false;
	list = xreallocarray(NULL, (size_t)n, sizeof *list);
	n = getgroups(n, list);
	for (i = 0; i < n && !found; i++)
		found = list[i] == gid;
	free(list);
	return found;
}

/* Resolve *name (from s); on failure report it and free *name. */
void
conf_resolve_group(struct conf_ctx *ctx, const config_setting_t *s,
    char **name, gid_t *gid)
{
	struct group	*gr;
	const char	*key = config_setting_name(s);

	if ((gr = conf_getgr(*name)) == NULL)
		conf_err(ctx, s, "%s \"%s\" does not exist", key, *name);
	else if (!conf_own_gid(gr->gr_gid))
		conf_err(ctx, s, "%s: tendd runs as uid %u and is not a member"
		    " of group \"%s\"", key, (unsigned)geteuid(), *name);
	else {
		*gid = gr->gr_gid;
		free(*name);
		*name = xstrdup(gr->gr_name);
		return;
	}
	free(*name);
	*name = NULL;
}

/* Resolve user and group once both are read: the gid depends on both. */
void
conf_program_ids(struct conf_ctx *ctx, struct conf_program *p,
    const config_setting_t *s)
{
	const config_setting_t	*us = config_setting_get_member(s, "user");
	struct passwd		*pw = NULL;
	int			 n;

	p->uid = geteuid();
	p->gid = getegid();
	if (p->user != NULL && (pw = conf_getpw(p->user)) == NULL)
		conf_err(ctx, us, "user \"%s\" does not exist", p->user);
	else if (pw != NULL && geteuid() != 0 && pw->pw_uid != geteuid())
		conf_err(ctx, us, "user: tendd runs as uid %u and cannot "
		    "switch to user \"%s\"", (unsigned)geteuid(), p->user);
	else if (pw != NULL) {
		free(p->user);
		p->user = xstrdup(pw->pw_name);
		p->uid = pw->pw_uid;
		p->gid = pw->pw_gid;
		p->home = xstrdup(pw->pw_dir);
		p->login_shell = xstrdup(pw->pw_shell);
	}
	if (p->user != NULL && p->home == NULL) {
		free(p->user);
		p->user = NULL;
	}
	if (p->group != NULL)
		conf_resolve_group(ctx, config_setting_get_member(s, "group"),
		    &p->group, &p->gid);
	if (p->user == NULL)
		return;

	/* As initgroups(user, gid) would set them. */
	n = 32;
	p->groups = xreallocarray(NULL, (size_t)n, sizeof *p->groups);
	if (getgrouplist(p->user, p->gid, p->groups, &n) == -1) {
		/* n now holds the number needed. */
		if (n > 0 && n <= CONF_MAX_GROUPS) {
			p->groups = xreallocarray(p->groups, (size_t)n,
			    sizeof *p->groups);
			if (getgrouplist(p->user, p->gid, p->groups, &n) == -1)
				n = 0;
		} else
			n = 0;
	}
	p->ngroups = (uint32_t)n;
}

/* Key handlers. */

void
conf_socket_group(struct conf_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct conf	*conf = obj;

	if (conf_get_id(ctx, s, &conf->socket_group) == 0)
		conf_resolve_group(ctx, s, &conf->socket_group,
		    &conf->socket_gid);
}
