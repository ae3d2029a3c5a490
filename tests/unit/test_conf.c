/* test_conf.c: the config loader, from strings and from temp files. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

#include "t.h"

#define SEC	USEC_PER_SEC
#define nitems_(a)	(sizeof (a) / sizeof (a)[0])
#define MSEC	USEC_PER_MSEC

static struct conf_errors errs;

static struct conf *
load(const char *text)
{
	return conf_read_string(text, "tend.conf", "/etc/tend", &errs);
}

/* Is want one of the formatted errors? Print them all if not. */
static bool
has_error(const char *want)
{
	size_t	 i;
	char	*s;
	bool	 found = false;

	for (i = 0; i < errs.n && !found; i++) {
		s = conf_error_format(&errs.v[i]);
		found = strcmp(s, want) == 0;
		free(s);
	}
	if (!found) {
		fprintf(stderr, "  wanted: %s\n  got %zu errors:\n", want,
		    errs.n);
		for (i = 0; i < errs.n; i++) {
			s = conf_error_format(&errs.v[i]);
			fprintf(stderr, "    %s\n", s);
			free(s);
		}
	}
	return found;
}

/* The load must fail with exactly one error, want. */
#define T_ERR(text, want) do {						\
	struct conf *t_c_ = load(text);					\
	T_CHECK(t_c_ == NULL);						\
	T_CHECK(has_error(want));					\
	T_INTEQ(errs.n, 1);						\
	conf_unref(t_c_);						\
} while (0)

/* One program "web" with extra keys on line 2. */
#define WEB(keys)							\
	"programs = ( { name = \"web\"; command = \"true\";\n"		\
	keys "\n} );\n"

static const struct conf_program *
only(const struct conf *c)
{
	if (c == NULL || c->nprograms != 1)
		return NULL;
	return c->programs[0];
}

T_CASE(t_defaults)
{
	struct conf			*c;
	const struct conf_program	*p;
	char				*s;

	c = load("programs = ( { name = \"web\"; command = [\"/bin/x\"]; } );");
	T_CHECK(c != NULL);
	if (c == NULL)
		return;
	T_INTEQ(errs.n, 0);
	T_INTEQ(c->refs, 1);
	T_STREQ(c->file, "/etc/tend/tend.conf");
	s = conf_default_socket();
	T_STREQ(c->socket, s);
	free(s);
	s = conf_default_state_dir();
	T_STREQ(c->state_dir, s);
	free(s);
	s = conf_default_log_dir();
	T_STREQ(c->log_dir, s);
	free(s);
	T_INTEQ(c->socket_mode, 0600);
	T_CHECK(c->socket_group == NULL);
	T_CHECK(c->include_dir == NULL);
	T_CHECK(c->subreaper);
	T_INTEQ(c->shutdown_timeout, 60 * SEC);
	T_CHECK(!c->exit_when_done);
	T_INTEQ(c->cgroups, CONF_CGROUPS_AUTO);
	T_INTEQ(c->event_buffer, 10000);

	T_CHECK((p = only(c)) != NULL);
	if (p == NULL)
		goto out;
	T_STREQ(p->name, "web");
	T_STREQ(p->file, "tend.conf");
	T_INTEQ(p->line, 1);
	T_INTEQ(p->argc, 1);
	T_STREQ(p->argv[0], "/bin/x");
	T_CHECK(p->argv[1] == NULL);
	T_CHECK(!p->shell);
	T_CHECK(!p->literal);
	T_INTEQ(p->type, CONF_TYPE_SIMPLE);
	T_CHECK(p->pidfile == NULL);
	T_INTEQ(p->nenv, 0);
	T_INTEQ(p->nenv_files, 0);
	T_CHECK(!p->clear_environment);
	T_CHECK(p->directory == NULL);
	T_CHECK(p->user == NULL);
	T_CHECK(p->group == NULL);
	T_INTEQ(p->uid, geteuid());
	T_INTEQ(p->gid, getegid());
	T_INTEQ(p->ngroups, 0);
	T_CHECK(p->home == NULL);
	T_CHECK(!p->has_umask);
	T_INTEQ(p->instances, 1);
	T_CHECK(p->autostart);
	T_CHECK(!p->daemon);
	T_CHECK(!p->essential);
	T_INTEQ(p->restart, CONF_RESTART_ON_FAILURE);
	T_INTEQ(p->nsuccess_codes, 1);
	T_INTEQ(p->success_codes[0], 0);
	T_INTEQ(p->start_secs, 1 * SEC);
	T_INTEQ(p->start_timeout, 30 * SEC);
	T_INTEQ(p->restart_delay, 100 * MSEC);
	T_INTEQ(p->restart_delay_max, 30 * SEC);
	T_INTEQ(p->start_limit, 5);
	T_INTEQ(p->failed_retry, 0);
	T_INTEQ(p->stop_signal, SIGTERM);
	T_INTEQ(p->stop_timeout, 10 * SEC);
	T_INTEQ(p->kill_mode, CONF_KILL_GROUP);
	T_INTEQ(p->stdout_sink, CONF_SINK_FILE);
	T_INTEQ(p->stderr_sink, CONF_SINK_FILE);
	T_CHECK(p->log_prefix);
	xasprintf(&s, "%s/web.log", c->log_dir);
	T_STREQ(p->log_file, s);
	free(s);
	T_CHECK(!p->log_file_per_instance);
	T_INTEQ(p->log_max_size, 10 * 1024 * 1024);
	T_INTEQ(p->log_keep, 5);
	T_INTEQ(p->log_rotate_every, 0);
	T_CHECK(!p->log_timestamps);
	T_INTEQ(p->log_mode, 0640);
	T_INTEQ(p->log_ring_size, 64 * 1024);
	T_INTEQ(p->log_line_max, 64 * 1024);
	T_CHECK(conf_find(c, "web") == p);
	T_CHECK(conf_find(c, "nope") == NULL);
out:
	conf_unref(c);
}

T_CASE(t_root_defaults)
{
	char	*s;

	if (geteuid() != 0)
		return;
	s = conf_default_config();
	T_STREQ(s, "/etc/tend/tend.conf");
	free(s);
	s = conf_default_socket();
	T_STREQ(s, "/run/tend/tend.sock");
	free(s);
	s = conf_default_state_dir();
	T_STREQ(s, "/var/lib/tend");
	free(s);
	s = conf_default_log_dir();
	T_STREQ(s, "/var/log/tend");
	free(s);
}

#define EMPTY_ERROR "tend.conf: empty configuration: no 'supervisor' and " \
	"no 'programs' (to run no programs, write 'supervisor = {};')"

T_CASE(t_empty)
{
	struct conf	*c;

	/* A reload would take it for "stop everything". */
	T_ERR("", EMPTY_ERROR);
	T_ERR("# nothing\n/* at all */\n// here\n", EMPTY_ERROR);
	/* Saying so is enough: tendd may run with no programs. */
	c = load("supervisor = {};\n");
	T_CHECK(c != NULL);
	T_INTEQ(errs.n, 0);
	if (c != NULL)
		T_INTEQ(c->nprograms, 0);
	conf_unref(c);
	c = load("programs = ();\n");
	T_CHECK(c != NULL);
	conf_unref(c);
	c = load("# nothing\nprograms = ();\nsupervisor = {};\n");
	T_CHECK(c != NULL);
	conf_unref(c);
}

static const char full[] =
    "supervisor = {\n"
    "  socket = \"run/tend.sock\";\n"
    "  socket_mode = \"0660\";\n"
    "  socket_group = \"root\";\n"
    "  state_dir = \"./state\";\n"
    "  log_dir = \"/var/log/x\";\n"
    "  subreaper = false;\n"
    "  shutdown_timeout = \"2m\"; event_buffer = 50;\n"
    "};\n"
    "programs = (\n"
    "  { name = \"web\";\n"
    "    command = [\"/usr/bin/python3\", \"-m\", \"http.server\","
    " \"80{instance}\"];\n"
    "    environment = { PORT = \"80{instance}\"; MODE = \"prod\";"
    " X_1 = \"\"; };\n"
    "    environment_file = \"web.env\";\n"
    "    clear_environment = true;\n"
    "    directory = \"srv/web\";\n"
    "    user = \"root\";\n"
    "    group = \"root\";\n"
    "    umask = \"027\";\n"
    "    autostart = false; daemon = true;\n"
    "    restart = \"always\";\n"
    "    success_exit_codes = [0, 2];\n"
    "    start_secs = \"250ms\";\n"
    "    restart_delay = 0.5;\n"
    "    restart_delay_max = \"1m30s\";\n"
    "    start_limit = 7;\n"
    "    failed_retry = \"5m\";\n"
    "    stop_signal = \"INT\";\n"
    "    stop_timeout = 3;\n"
    "    kill_group = false;\n"
    "    instances = 4;\n"
    "  },\n"
    "  { name = \"job\"; command = \"echo $HOME\"; restart = \"never\"; }\n"
    ");\n";

T_CASE(t_every_key)
{
	struct conf			*c;
	const struct conf_program	*p;

	if (geteuid() != 0)	/* user and group "root" */
		return;
	c = load(full);
	T_CHECK(c != NULL);
	if (c == NULL || c->nprograms != 2) {
		T_CHECK(0);
		conf_unref(c);
		return;
	}
	T_STREQ(c->socket, "/etc/tend/run/tend.sock");
	T_INTEQ(c->socket_mode, 0660);
	T_STREQ(c->socket_group, "root");
	T_INTEQ(c->socket_gid, 0);
	T_STREQ(c->state_dir, "/etc/tend/state");
	T_STREQ(c->log_dir, "/var/log/x");
	T_CHECK(!c->subreaper);
	T_INTEQ(c->shutdown_timeout, 120 * SEC);
	T_INTEQ(c->event_buffer, 50);

	p = c->programs[0];
	T_STREQ(p->name, "web");
	T_INTEQ(p->line, 11);
	T_INTEQ(p->argc, 4);
	T_STREQ(p->argv[0], "/usr/bin/python3");
	T_STREQ(p->argv[3], "80{instance}");
	T_CHECK(p->argv[4] == NULL);
	T_CHECK(!p->shell);
	T_INTEQ(p->nenv, 3);
	T_STREQ(p->env[0].key, "PORT");
	T_STREQ(p->env[0].value, "80{instance}");
	T_STREQ(p->env[1].key, "MODE");
	T_STREQ(p->env[1].value, "prod");
	T_STREQ(p->env[2].key, "X_1");
	T_STREQ(p->env[2].value, "");
	T_INTEQ(p->nenv_files, 1);
	T_STREQ(p->env_files[0], "/etc/tend/web.env");
	T_CHECK(p->clear_environment);
	T_STREQ(p->directory, "/etc/tend/srv/web");
	T_STREQ(p->user, "root");
	T_INTEQ(p->uid, 0);
	T_STREQ(p->group, "root");
	T_INTEQ(p->gid, 0);
	T_STREQ(p->home, getpwuid(0)->pw_dir);
	T_CHECK(p->login_shell != NULL);
	T_CHECK(p->ngroups >= 1);
	T_CHECK(p->has_umask);
	T_INTEQ(p->umask, 027);
	T_CHECK(!p->autostart);
	T_CHECK(p->daemon);
	T_INTEQ(p->restart, CONF_RESTART_ALWAYS);
	T_INTEQ(p->nsuccess_codes, 2);
	T_INTEQ(p->success_codes[1], 2);
	T_INTEQ(p->start_secs, 250 * MSEC);
	T_INTEQ(p->restart_delay, 500 * MSEC);
	T_INTEQ(p->restart_delay_max, 90 * SEC);
	T_INTEQ(p->start_limit, 7);
	T_INTEQ(p->failed_retry, 300 * SEC);
	T_INTEQ(p->stop_signal, SIGINT);
	T_INTEQ(p->stop_timeout, 3 * SEC);
	T_INTEQ(p->kill_mode, CONF_KILL_MAIN);
	T_INTEQ(p->instances, 4);

	p = c->programs[1];
	T_STREQ(p->name, "job");
	T_INTEQ(p->line, 33);
	T_CHECK(p->shell);
	T_INTEQ(p->argc, 3);
	T_STREQ(p->argv[0], "/bin/sh");
	T_STREQ(p->argv[1], "-c");
	T_STREQ(p->argv[2], "echo $HOME");
	T_CHECK(p->argv[3] == NULL);
	T_INTEQ(p->restart, CONF_RESTART_NEVER);
	T_CHECK(conf_find(c, "job") == p);
	conf_unref(c);
}

T_CASE(t_command_forms)
{
	struct conf			*c;
	const struct conf_program	*p;

	/* A list "( )" works as well as an array "[ ]". */
	c = load("programs = ( { name = \"a\"; command = (\"/bin/echo\","
	    " \"hi there\"); } );");
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_INTEQ(p->argc, 2);
		T_STREQ(p->argv[1], "hi there");
		T_CHECK(!p->shell);
	}
	conf_unref(c);

	T_ERR("programs = ( { name = \"a\";\n command = []; } );",
	    "tend.conf:2: program 'a': command must not be an empty list");
	T_ERR("programs = ( { name = \"a\";\n command = \"\"; } );",
	    "tend.conf:2: program 'a': command must not be empty");
	T_ERR("programs = ( { name = \"a\";\n command = (\"x\",\n 5); } );",
	    "tend.conf:3: program 'a': command[1] must be a string "
	    "(got an integer)");
	T_ERR("programs = ( { name = \"a\";\n command = [\"\", \"x\"]; } );",
	    "tend.conf:2: program 'a': command[0] must not be empty");
	T_ERR("programs = ( { name = \"a\";\n command = 5; } );",
	    "tend.conf:2: program 'a': command must be a list of strings or "
	    "a string (got an integer)");
}

static uint64_t
duration(const char *value, bool *ok)
{
	struct conf	*c;
	char		 buf[256];
	uint64_t	 v = 0;

	snprintf(buf, sizeof buf, WEB("stop_timeout = %s;"), value);
	c = load(buf);
	*ok = c != NULL;
	if (c != NULL)
		v = c->programs[0]->stop_timeout;
	conf_unref(c);
	return v;
}

T_CASE(t_durations)
{
	static const struct {
		const char	*in;
		uint64_t	 usec;
	} good[] = {
		{ "0", 0 },
		{ "10", 10 * SEC },
		{ "0x10", 16 * SEC },
		{ "1.5", 1500 * MSEC },
		{ "0.1", 100 * MSEC },
		{ "20L", 20 * SEC },
		{ "\"250ms\"", 250 * MSEC },
		{ "\"10s\"", 10 * SEC },
		{ "\"5m\"", 300 * SEC },
		{ "\"1m30s\"", 90 * SEC },
		{ "\"2h\"", 7200 * SEC },
		{ "\"1d\"", 86400 * SEC },
		{ "\"1.5\"", 1500 * MSEC },
		{ "\"100us\"", 100 },
	};
	static const char *bad[] = {
		"\"abc\"", "\"-5s\"", "\"10x\"", "\"\"", "\"5 s\"",
	};
	size_t		 i;
	bool		 ok;
	uint64_t	 v;
	char		 want[256];

	for (i = 0; i < nitems_(good); i++) {
		v = duration(good[i].in, &ok);
		if (!ok || v != good[i].usec)
			fprintf(stderr, "  duration %s\n", good[i].in);
		T_CHECK(ok);
		T_INTEQ(v, good[i].usec);
	}
	for (i = 0; i < nitems_(bad); i++) {
		duration(bad[i], &ok);
		T_CHECK(!ok);
		snprintf(want, sizeof want, "tend.conf:2: program 'web': "
		    "stop_timeout must be a duration such as \"10s\", "
		    "\"250ms\" or \"1m30s\" (got %s)", bad[i]);
		T_CHECK(has_error(want));
	}
	T_ERR(WEB("start_secs = -5;"), "tend.conf:2: program 'web': "
	    "start_secs must not be negative (got -5)");
	T_ERR(WEB("start_secs = -0.5;"), "tend.conf:2: program 'web': "
	    "start_secs must not be negative (got -0.5)");
	T_ERR(WEB("start_secs = 1e13;"), "tend.conf:2: program 'web': "
	    "start_secs is out of range (got 1e+13)");
	T_ERR(WEB("failed_retry = true;"), "tend.conf:2: program 'web': "
	    "failed_retry must be a duration: a number of seconds or a string "
	    "such as \"10s\" (got a boolean)");
	T_ERR("supervisor = { shutdown_timeout = \"soon\"; };",
	    "tend.conf:1: shutdown_timeout must be a duration such as "
	    "\"10s\", \"250ms\" or \"1m30s\" (got \"soon\")");
}

T_CASE(t_signals)
{
	static const struct {
		const char	*in;
		int		 sig;
	} good[] = {
		{ "\"TERM\"", SIGTERM },
		{ "\"SIGTERM\"", SIGTERM },
		{ "\"term\"", SIGTERM },
		{ "\"hup\"", SIGHUP },
		{ "\"SIGQUIT\"", SIGQUIT },
		{ "\"USR1\"", SIGUSR1 },
		{ "9", SIGKILL },
		{ "\"2\"", SIGINT },
	};
	struct conf	*c;
	char		 buf[256];
	size_t		 i;

	for (i = 0; i < nitems_(good); i++) {
		snprintf(buf, sizeof buf, WEB("stop_signal = %s;"), good[i].in);
		c = load(buf);
		T_CHECK(c != NULL);
		if (c != NULL)
			T_INTEQ(c->programs[0]->stop_signal, good[i].sig);
		conf_unref(c);
	}
	T_ERR(WEB("stop_signal = \"FOO\";"), "tend.conf:2: program 'web': "
	    "stop_signal must be a signal name or number such as \"TERM\" or "
	    "15 (got \"FOO\")");
	T_ERR(WEB("stop_signal = 0;"), "tend.conf:2: program 'web': "
	    "stop_signal must be a signal name or number such as \"TERM\" or "
	    "15 (got \"0\")");
	T_ERR(WEB("stop_signal = 1.5;"), "tend.conf:2: program 'web': "
	    "stop_signal must be a signal name or number (got a float)");
}

T_CASE(t_paths)
{
	struct conf			*c;
	const struct conf_program	*p;

	c = conf_read_string(
	    "supervisor = { socket = \"./a/../s.sock\"; state_dir = \".\";"
	    " log_dir = \"/abs/log\"; include_dir = \"./\"; };\n"
	    "programs = ( { name = \"web\"; command = \"x\";"
	    " directory = \"././srv\";"
	    " environment_file = [\"a.env\", \"-./opt.env\", \"-/abs.env\","
	    " \"/x/y.env\"]; } );\n",
	    "x.conf", "/base/", &errs);
	/* The include_dir /base/ does not exist: one error. */
	T_CHECK(c == NULL);
	T_CHECK(has_error("x.conf:1: include_dir \"/base\": No such file or "
	    "directory"));
	T_INTEQ(errs.n, 1);
	conf_unref(c);

	c = conf_read_string(
	    "supervisor = { socket = \"./a/../s.sock\"; state_dir = \".\";"
	    " log_dir = \"/abs/log\"; };\n"
	    "programs = ( { name = \"web\"; command = \"x\";"
	    " directory = \"././srv\";"
	    " environment_file = [\"a.env\", \"-./opt.env\", \"-/abs.env\","
	    " \"/x/y.env\"]; } );\n",
	    "x.conf", "/base/", &errs);
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_STREQ(c->file, "/base/x.conf");
		T_STREQ(c->socket, "/base/a/../s.sock");
		T_STREQ(c->state_dir, "/base");
		T_STREQ(c->log_dir, "/abs/log");
		T_STREQ(p->directory, "/base/srv");
		T_INTEQ(p->nenv_files, 4);
		T_STREQ(p->env_files[0], "/base/a.env");
		T_STREQ(p->env_files[1], "-/base/opt.env");
		T_STREQ(p->env_files[2], "-/abs.env");
		T_STREQ(p->env_files[3], "/x/y.env");
	}
	conf_unref(c);

	/* A single string, and a basedir of "/". */
	c = conf_read_string(WEB("environment_file = \"e\";"), "t.conf", "/",
	    &errs);
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_STREQ(c->file, "/t.conf");
		T_INTEQ(p->nenv_files, 1);
		T_STREQ(p->env_files[0], "/e");
	}
	conf_unref(c);

	/* Relative paths come from basedir, whatever the name says. */
	c = conf_read_string("supervisor = { state_dir = \"s\"; };",
	    "sub/x.conf", "/b", &errs);
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_STREQ(c->file, "/b/sub/x.conf");
		T_STREQ(c->state_dir, "/b/s");
	}
	conf_unref(c);

	T_ERR(WEB("environment_file = \"-\";"), "tend.conf:2: program 'web': "
	    "environment_file must not be empty");
	T_ERR(WEB("environment_file = (\"a\",\n 1);"), "tend.conf:3: program "
	    "'web': environment_file[1] must be a string (got an integer)");
	T_ERR(WEB("directory = \"\";"), "tend.conf:2: program 'web': "
	    "directory must not be empty");
	T_ERR("supervisor = {\n state_dir = 5; };", "tend.conf:2: state_dir "
	    "must be a string (got an integer)");
	T_ERR("supervisor = {\n socket = \"/x/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"; };",
	    "tend.conf: socket path \"/x/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" "
	    "is too long (at most 107 bytes)");
}

T_CASE(t_instances)
{
	struct conf	*c;

	c = load(WEB("instances = 10000;"));
	T_CHECK(c != NULL);
	if (c != NULL)
		T_INTEQ(c->programs[0]->instances, 10000);
	conf_unref(c);
	T_ERR(WEB("instances = 0;"), "tend.conf:2: program 'web': instances "
	    "must be between 1 and 10000 (got 0)");
	T_ERR(WEB("instances = 10001;"), "tend.conf:2: program 'web': "
	    "instances must be between 1 and 10000 (got 10001)");
	T_ERR(WEB("instances = \"4\";"), "tend.conf:2: program 'web': "
	    "instances must be an integer (got a string)");
	T_ERR(WEB("instances = 2.0;"), "tend.conf:2: program 'web': "
	    "instances must be an integer (got a float)");
	T_ERR(WEB("start_limit = 0;"), "tend.conf:2: program 'web': "
	    "start_limit must be at least 1 (got 0)");
	T_ERR(WEB("start_limit = 5000000000L;"), "tend.conf:2: program 'web': "
	    "start_limit must be at least 1 (got 5000000000)");
}

/* libconfig 1.5 would wrap these silently. */
T_CASE(t_big_integers)
{
	T_ERR(WEB("instances = 4294967297;"),
	    "tend.conf:2: integer 4294967297 is out of range");
	T_ERR(WEB("stop_timeout = -3000000000;"),
	    "tend.conf:2: integer -3000000000 is out of range");
	T_ERR(WEB("start_limit = 0x100000001;"),
	    "tend.conf:2: integer 0x100000001 is out of range");
	/* libconfig clamps this one: a range error comes too. */
	T_CHECK(load(WEB("start_limit = 99999999999999999999L;")) == NULL);
	T_CHECK(has_error("tend.conf:2: integer 99999999999999999999L is out "
	    "of range"));
	/* Not integers: strings, comments, names, floats. */
	T_CHECK(load(WEB("# 99999999999\n/* 99999999999 */ // 99999999999\n"
	    "environment = { A1 = \"99999999999\"; };\n"
	    "stop_timeout = 99999999999.0; start_secs = 1e10;"
	    " restart_delay = .99999999999;"
	    " restart_delay_max = 1e+99999999999; "
	    "failed_retry = 3000000000L;")) == NULL);
	/* Only the float's range error, nothing about integers. */
	T_INTEQ(errs.n, 1);
	T_CHECK(has_error("tend.conf:5: program 'web': restart_delay_max is "
	    "out of range (got inf)"));
}

T_CASE(t_modes)
{
	struct conf	*c;

	c = load("supervisor = { socket_mode = \"660\"; };\n"
	    WEB("umask = \"0\";"));
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_INTEQ(c->socket_mode, 0660);
		T_CHECK(c->programs[0]->has_umask);
		T_INTEQ(c->programs[0]->umask, 0);
	}
	conf_unref(c);
	T_ERR(WEB("umask = \"0999\";"), "tend.conf:2: program 'web': umask "
	    "must be an octal string from \"0\" to \"0777\" (got \"0999\")");
	T_ERR(WEB("umask = \"01777\";"), "tend.conf:2: program 'web': umask "
	    "must be an octal string from \"0\" to \"0777\" (got \"01777\")");
	T_ERR(WEB("umask = \"\";"), "tend.conf:2: program 'web': umask "
	    "must be an octal string from \"0\" to \"0777\" (got \"\")");
	T_ERR(WEB("umask = 022;"), "tend.conf:2: program 'web': umask "
	    "must be an octal string such as \"0640\" (got an integer)");
	T_ERR("supervisor = { socket_mode = \"-1\"; };", "tend.conf:1: "
	    "socket_mode must be an octal string from \"0\" to \"0777\" "
	    "(got \"-1\")");
}

T_CASE(t_restart_and_codes)
{
	struct conf	*c;

	c = load(WEB("restart = \"on-failure\"; success_exit_codes = 3;"));
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_INTEQ(c->programs[0]->restart, CONF_RESTART_ON_FAILURE);
		T_INTEQ(c->programs[0]->nsuccess_codes, 1);
		T_INTEQ(c->programs[0]->success_codes[0], 3);
	}
	conf_unref(c);
	c = load(WEB("success_exit_codes = (0, 1, 255);"));
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_INTEQ(c->programs[0]->nsuccess_codes, 3);
		T_INTEQ(c->programs[0]->success_codes[2], 255);
	}
	conf_unref(c);
	T_ERR(WEB("restart = \"sometimes\";"), "tend.conf:2: program 'web': "
	    "restart must be one of \"always\", \"on-failure\", \"never\" "
	    "(got \"sometimes\")");
	T_ERR(WEB("restart = true;"), "tend.conf:2: program 'web': "
	    "restart must be one of \"always\", \"on-failure\", \"never\" "
	    "(got a boolean)");
	T_ERR(WEB("success_exit_codes = [0, 256];"), "tend.conf:2: program "
	    "'web': success_exit_codes must be between 0 and 255 (got 256)");
	T_ERR(WEB("success_exit_codes = [];"), "tend.conf:2: program 'web': "
	    "success_exit_codes must not be empty");
	T_ERR(WEB("success_exit_codes = \"0\";"), "tend.conf:2: program "
	    "'web': success_exit_codes must be a list of integers "
	    "(got a string)");
	T_ERR(WEB("restart_delay = 60;"), "tend.conf:2: program 'web': "
	    "restart_delay_max (30s) must not be less than restart_delay "
	    "(1m00s)");
	T_ERR(WEB("restart_delay = 5;\nrestart_delay_max = \"2s\";"),
	    "tend.conf:3: program 'web': restart_delay_max (2s) must not be "
	    "less than restart_delay (5s)");
}

T_CASE(t_environment)
{
	T_ERR(WEB("environment = {\n A-B = \"x\"; };"), "tend.conf:3: "
	    "program 'web': environment: invalid variable name 'A-B'");
	/* libconfig puts a setting on the line of its name. */
	T_ERR(WEB("environment = {\n PORT =\n 80; };"), "tend.conf:3: "
	    "program 'web': environment: PORT must be a string "
	    "(got an integer)");
	T_ERR(WEB("environment = [\"A=b\"];"), "tend.conf:2: program 'web': "
	    "environment must be a group such as { KEY = \"value\"; } "
	    "(got an array)");
}

T_CASE(t_type_errors)
{
	T_ERR(WEB("autostart = \"yes\";"), "tend.conf:2: program 'web': "
	    "autostart must be true or false (got a string)");
	T_ERR(WEB("kill_group = 1;"), "tend.conf:2: program 'web': "
	    "kill_group must be true or false (got an integer)");
	T_ERR(WEB("kill_mode = \"all\";"), "tend.conf:2: program 'web': "
	    "kill_mode must be one of \"group\", \"main\", \"process\" "
	    "(got \"all\")");
	T_ERR(WEB("kill_mode = \"main\"; kill_group = true;"), "tend.conf:2: "
	    "program 'web': kill_mode and kill_group: set kill_mode only "
	    "(kill_group = true is \"group\", false is \"main\")");
	T_ERR("supervisor = { event_buffer = 0; };", "tend.conf:1: "
	    "event_buffer must be between 1 and 1000000 (got 0)");
	T_ERR("supervisor = {\n\n subreaper = \"no\"; };", "tend.conf:3: "
	    "subreaper must be true or false (got a string)");
	T_ERR("supervisor = 5;", "tend.conf:1: supervisor must be a group "
	    "{ ... } (got an integer)");
	T_ERR("programs = { name = \"x\"; };", "tend.conf:1: programs must be "
	    "a list of groups, as in programs = ( { name = \"web\"; ... } ); "
	    "(got a group)");
	T_ERR("programs = (\n \"web\" );", "tend.conf:2: programs: entry 1 "
	    "must be a group { ... } (got a string)");
	T_ERR(WEB("user = true;"), "tend.conf:2: program 'web': user must be "
	    "a name or a number (got a boolean)");
	T_ERR(WEB("group = -1;"), "tend.conf:2: program 'web': group must be "
	    "between 0 and 4294967294 (got -1)");
	T_ERR(WEB("clear_environment = \"true\";"), "tend.conf:2: program "
	    "'web': clear_environment must be true or false (got a string)");
}

T_CASE(t_names)
{
	T_ERR("programs = (\n { command = \"x\"; } );", "tend.conf:2: "
	    "program #1: missing required key 'name'");
	T_ERR("programs = ( { name = \"a\"; command = \"x\"; },\n"
	    " { name = \"b\"; } );", "tend.conf:2: program 'b': missing "
	    "required key 'command'");
	T_ERR("programs = ( {\n name = 5; command = \"x\"; } );",
	    "tend.conf:2: program #1: name must be a string (got an integer)");
	T_ERR("programs = ( { name = \"we b\"; command = \"x\"; } );",
	    "tend.conf:1: program #1: invalid name \"we b\" (1 to 64 letters, "
	    "digits, '_', '.' or '-', not starting with '.' or '-', and not "
	    "\"all\")");
	T_ERR("programs = ( { name = \"all\"; command = \"x\"; } );",
	    "tend.conf:1: program #1: invalid name \"all\" (1 to 64 letters, "
	    "digits, '_', '.' or '-', not starting with '.' or '-', and not "
	    "\"all\")");
	T_ERR("programs = ( { name = \"a\"; command = \"x\"; },\n"
	    " { name = \".b\"; command = \"x\"; } );", "tend.conf:2: program "
	    "#2: invalid name \".b\" (1 to 64 letters, digits, '_', '.' or "
	    "'-', not starting with '.' or '-', and not \"all\")");
}

T_CASE(t_unknown_keys)
{
	T_ERR(WEB("restat = \"always\";"), "tend.conf:2: unknown key "
	    "'restat' in program 'web' (did you mean 'restart'?)");
	T_ERR(WEB("stop_timout = 5;"), "tend.conf:2: unknown key "
	    "'stop_timout' in program 'web' (did you mean 'stop_timeout'?)");
	T_ERR(WEB("frobnicate = 5;"), "tend.conf:2: unknown key "
	    "'frobnicate' in program 'web'");
	T_ERR("supervisor = {\n sockt = \"x\"; };", "tend.conf:2: unknown "
	    "key 'sockt' in supervisor (did you mean 'socket'?)");
	T_ERR("\nprogams = ();", "tend.conf:2: unknown key 'progams' at "
	    "the top level (did you mean 'programs'?)");
	T_ERR("program = {};", "tend.conf:1: unknown key 'program' at "
	    "the top level (did you mean 'programs'?)");
	T_ERR("settings = {};", "tend.conf:1: unknown key 'settings' at "
	    "the top level");
	/* Supervisor keys do not belong in a program. */
	T_ERR(WEB("state_dir = \"x\";"), "tend.conf:2: unknown key "
	    "'state_dir' in program 'web'");
}

T_CASE(t_many_errors)
{
	struct conf	*c;

	c = load("supervisor = {\n"			/* 1 */
	    "  socket_mode = \"888\";\n"		/* 2 */
	    "  shutdown_timeout = -1;\n"		/* 3 */
	    "};\n"					/* 4 */
	    "programs = (\n"				/* 5 */
	    "  { name = \"web\"; command = \"x\";\n"	/* 6 */
	    "    restat = \"always\";\n"		/* 7 */
	    "    instances = 0;\n"			/* 8 */
	    "    user = \"no-such-user-tend\";\n"	/* 9 */
	    "  },\n"					/* 10 */
	    "  { name = \"db\";\n"			/* 11 */
	    "    stop_signal = \"NOPE\";\n"		/* 12 */
	    "  },\n"					/* 13 */
	    "  { name = \"web\"; command = [\"y\"]; }\n"	/* 14 */
	    ");\n");
	T_CHECK(c == NULL);
	T_INTEQ(errs.n, 8);
	T_CHECK(has_error("tend.conf:2: socket_mode must be an octal string "
	    "from \"0\" to \"0777\" (got \"888\")"));
	T_CHECK(has_error("tend.conf:3: shutdown_timeout must not be negative "
	    "(got -1)"));
	T_CHECK(has_error("tend.conf:7: unknown key 'restat' in program 'web'"
	    " (did you mean 'restart'?)"));
	T_CHECK(has_error("tend.conf:8: program 'web': instances must be "
	    "between 1 and 10000 (got 0)"));
	T_CHECK(has_error("tend.conf:9: program 'web': user "
	    "\"no-such-user-tend\" does not exist"));
	T_CHECK(has_error("tend.conf:12: program 'db': stop_signal must be a "
	    "signal name or number such as \"TERM\" or 15 (got \"NOPE\")"));
	T_CHECK(has_error("tend.conf:11: program 'db': missing required key "
	    "'command'"));
	T_CHECK(has_error("tend.conf:14: program 'web' is already defined at "
	    "tend.conf:6"));
	/* In file order. */
	if (errs.n == 8) {
		T_INTEQ(errs.v[0].line, 2);
		T_INTEQ(errs.v[7].line, 14);
	}
	conf_unref(c);
}

T_CASE(t_syntax_error)
{
	T_ERR("supervisor = {\n  socket = \"x\"\n  state_dir = ;\n};\n",
	    "tend.conf:3: syntax error");
	T_ERR("a = 1;\na = 2;\n", "tend.conf:2: duplicate setting name");
	T_ERR("programs = ( { name = \"a\"; command = \"x\"; }\n",
	    "tend.conf:2: syntax error");
}

T_CASE(t_users)
{
	struct conf			*c;
	const struct conf_program	*p;
	size_t				 i;
	bool				 found = false;

	T_ERR(WEB("user = \"no-such-user-tend\";"), "tend.conf:2: program "
	    "'web': user \"no-such-user-tend\" does not exist");
	T_ERR(WEB("group = \"no-such-group-tend\";"), "tend.conf:2: program "
	    "'web': group \"no-such-group-tend\" does not exist");
	T_ERR("supervisor = { socket_group = \"no-such-group-tend\"; };",
	    "tend.conf:1: socket_group \"no-such-group-tend\" does not exist");
	T_ERR(WEB("user = \"4294967293\";"), "tend.conf:2: program 'web': "
	    "user \"4294967293\" does not exist");
	if (geteuid() != 0)
		return;

	/* As root: any user, by name or number; groups from the user. */
	c = load(WEB("user = \"0\";"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_STREQ(p->user, "root");
		T_INTEQ(p->uid, 0);
		T_INTEQ(p->gid, 0);
		T_CHECK(p->group == NULL);
		T_STREQ(p->home, getpwuid(0)->pw_dir);
		T_STREQ(p->login_shell, getpwuid(0)->pw_shell);
		for (i = 0; i < p->ngroups; i++)
			found |= p->groups[i] == 0;
		T_CHECK(found);
	}
	conf_unref(c);

	c = load(WEB("user = \"nobody\"; group = 0;"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL && getpwnam("nobody") != NULL) {
		T_STREQ(p->user, "nobody");
		T_INTEQ(p->uid, getpwnam("nobody")->pw_uid);
		T_STREQ(p->group, getgrgid(0)->gr_name);
		T_INTEQ(p->gid, 0);
	}
	conf_unref(c);

	/* A group alone keeps tendd's user. */
	c = load(WEB("group = \"root\";"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_CHECK(p->user == NULL);
		T_INTEQ(p->uid, 0);
		T_STREQ(p->group, "root");
		T_INTEQ(p->ngroups, 0);
	}
	conf_unref(c);
}

/* Run fn in a child that dropped root to nobody; fails if fn fails. */
static void
as_nobody(void (*fn)(void))
{
	struct passwd	*pw;
	pid_t		 pid;
	int		 status;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL) {
		printf("# skipped: needs root and a 'nobody' user\n");
		return;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		T_CHECK(0);
		return;
	}
	if (pid == 0) {
		if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
		    setuid(pw->pw_uid) == -1)
			_exit(100);
		t_failed_checks = 0;
		fn();
		conf_errors_clear(&errs);
		fflush(NULL);
		/* _exit: the parent's LeakSanitizer report is the one. */
		_exit(t_failed_checks == 0 ? 0 : 1);
	}
	T_CHECK(waitpid(pid, &status, 0) == pid);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
unprivileged_checks(void)
{
	struct conf	*c;
	char		 want[256], *s;
	unsigned	 uid = (unsigned)geteuid();

	snprintf(want, sizeof want, "tend.conf:2: program 'web': user: tendd "
	    "runs as uid %u and cannot switch to user \"root\"", uid);
	T_ERR(WEB("user = \"root\";"), want);
	snprintf(want, sizeof want, "tend.conf:2: program 'web': group: tendd "
	    "runs as uid %u and is not a member of group \"root\"", uid);
	T_ERR(WEB("group = \"root\";"), want);
	snprintf(want, sizeof want, "tend.conf:1: socket_group: tendd runs as "
	    "uid %u and is not a member of group \"root\"", uid);
	T_ERR("supervisor = { socket_group = \"root\"; };", want);
	c = load(WEB("user = \"nobody\";"));
	T_CHECK(c != NULL);
	if (c != NULL)
		T_INTEQ(c->programs[0]->uid, uid);
	conf_unref(c);

	/* Defaults from XDG, ignoring unset, empty or relative values. */
	setenv("HOME", "/home/x", 1);
	setenv("XDG_CONFIG_HOME", "/cfg", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/9", 1);
	setenv("XDG_STATE_HOME", "/st", 1);
	s = conf_default_config();
	T_STREQ(s, "/cfg/tend/tend.conf");
	free(s);
	s = conf_default_socket();
	T_STREQ(s, "/run/user/9/tend/tend.sock");
	free(s);
	s = conf_default_state_dir();
	T_STREQ(s, "/st/tend");
	free(s);
	s = conf_default_log_dir();
	T_STREQ(s, "/st/tend/log");
	free(s);
	setenv("XDG_CONFIG_HOME", "rel", 1);
	setenv("XDG_RUNTIME_DIR", "", 1);
	unsetenv("XDG_STATE_HOME");
	s = conf_default_config();
	T_STREQ(s, "/home/x/.config/tend/tend.conf");
	free(s);
	s = conf_default_socket();
	snprintf(want, sizeof want, "/tmp/tend-%u/tend.sock", uid);
	T_STREQ(s, want);
	free(s);
	s = conf_default_state_dir();
	T_STREQ(s, "/home/x/.local/state/tend");
	free(s);
	s = conf_default_log_dir();
	T_STREQ(s, "/home/x/.local/state/tend/log");
	free(s);

	/* Unprivileged, log_dir follows a configured state_dir. */
	c = load(WEB("") "supervisor = { state_dir = \"st\"; };");
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_STREQ(c->state_dir, "/etc/tend/st");
		T_STREQ(c->log_dir, "/etc/tend/st/log");
		T_STREQ(c->socket, want);
		T_STREQ(c->programs[0]->log_file, "/etc/tend/st/log/web.log");
	}
	conf_unref(c);
}

T_CASE(t_unprivileged)
{
	as_nobody(unprivileged_checks);
}

T_CASE(t_socket_group)
{
	struct conf	*c;

	if (geteuid() != 0)
		return;
	c = load("supervisor = { socket_group = \"0\"; };");
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_STREQ(c->socket_group, getgrgid(0)->gr_name);
		T_INTEQ(c->socket_gid, 0);
	}
	conf_unref(c);
}

T_CASE(t_log_keys)
{
	struct conf			*c;
	const struct conf_program	*p;

	c = load(WEB("stdout = \"journal\"; stderr = \"stdout\";"
	    " log_prefix = false;\n log_file = \"logs/{name}-{instance}.log\";"
	    " log_max_size = \"1M\"; log_keep = 0; log_rotate_every = \"1d\";"
	    " log_timestamps = true; log_mode = \"0600\"; log_ring_size = 0;"
	    " log_line_max = 256;"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_INTEQ(p->stdout_sink, CONF_SINK_JOURNAL);
		T_INTEQ(p->stderr_sink, CONF_SINK_STDOUT);
		T_CHECK(!p->log_prefix);
		T_STREQ(p->log_file, "/etc/tend/logs/{name}-{instance}.log");
		T_CHECK(p->log_file_per_instance);
		T_INTEQ(p->log_max_size, 1024 * 1024);
		T_INTEQ(p->log_keep, 0);
		T_INTEQ(p->log_rotate_every, 86400 * SEC);
		T_CHECK(p->log_timestamps);
		T_INTEQ(p->log_mode, 0600);
		T_INTEQ(p->log_ring_size, 0);
		T_INTEQ(p->log_line_max, 256);
	}
	conf_unref(c);

	c = load(WEB("stdout = \"inherit\"; stderr = \"null\";"
	    " log_file = \"/var/log/{name}.log\"; log_max_size = 0;"
	    " log_keep = 1000; log_rotate_every = 1; log_ring_size = \"16M\";"
	    " log_line_max = \"16MiB\"; log_mode = \"644\";"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_INTEQ(p->stdout_sink, CONF_SINK_INHERIT);
		T_INTEQ(p->stderr_sink, CONF_SINK_NULL);
		T_STREQ(p->log_file, "/var/log/{name}.log");
		T_CHECK(!p->log_file_per_instance);
		T_INTEQ(p->log_max_size, 0);
		T_INTEQ(p->log_keep, 1000);
		T_INTEQ(p->log_rotate_every, 1 * SEC);
		T_INTEQ(p->log_ring_size, 16 * 1024 * 1024);
		T_INTEQ(p->log_line_max, 16 * 1024 * 1024);
		T_INTEQ(p->log_mode, 0644);
	}
	conf_unref(c);

	c = load(WEB("stdout = \"null\"; stderr = \"journal\";"
	    " log_file = \"./x/{instance\";"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_INTEQ(p->stdout_sink, CONF_SINK_NULL);
		T_INTEQ(p->stderr_sink, CONF_SINK_JOURNAL);
		T_STREQ(p->log_file, "/etc/tend/x/{instance");
		T_CHECK(!p->log_file_per_instance);
	}
	conf_unref(c);
	c = load(WEB("stdout = \"file\"; stderr = \"file\";"
	    " log_file = \"{instance}\";"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_INTEQ(p->stdout_sink, CONF_SINK_FILE);
		T_INTEQ(p->stderr_sink, CONF_SINK_FILE);
		T_STREQ(p->log_file, "/etc/tend/{instance}");
		T_CHECK(p->log_file_per_instance);
	}
	conf_unref(c);
}

T_CASE(t_log_errors)
{
	T_ERR(WEB("stdout = \"stdot\";"), "tend.conf:2: program 'web': "
	    "stdout must be one of \"file\", \"journal\", \"inherit\", "
	    "\"null\" (got \"stdot\")");
	T_ERR(WEB("stdout = \"stdout\";"), "tend.conf:2: program 'web': "
	    "stdout must be one of \"file\", \"journal\", \"inherit\", "
	    "\"null\" (got \"stdout\")");
	T_ERR(WEB("stdout = \"stderr\";"), "tend.conf:2: program 'web': "
	    "stdout must be one of \"file\", \"journal\", \"inherit\", "
	    "\"null\" (got \"stderr\")");
	T_ERR(WEB("stderr = \"File\";"), "tend.conf:2: program 'web': "
	    "stderr must be one of \"file\", \"journal\", \"inherit\", "
	    "\"null\", \"stdout\" (got \"File\")");
	T_ERR(WEB("stderr = 2;"), "tend.conf:2: program 'web': stderr must "
	    "be one of \"file\", \"journal\", \"inherit\", \"null\", "
	    "\"stdout\" (got an integer)");
	T_ERR(WEB("log_prefix = \"no\";"), "tend.conf:2: program 'web': "
	    "log_prefix must be true or false (got a string)");
	T_ERR(WEB("log_timestamps = 1;"), "tend.conf:2: program 'web': "
	    "log_timestamps must be true or false (got an integer)");
	T_ERR(WEB("log_file = \"\";"), "tend.conf:2: program 'web': "
	    "log_file must not be empty");
	T_ERR(WEB("log_file = [\"a\"];"), "tend.conf:2: program 'web': "
	    "log_file must be a string (got an array)");
	T_ERR(WEB("log_keep = 1001;"), "tend.conf:2: program 'web': "
	    "log_keep must be between 0 and 1000 (got 1001)");
	T_ERR(WEB("log_keep = -1;"), "tend.conf:2: program 'web': "
	    "log_keep must be between 0 and 1000 (got -1)");
	T_ERR(WEB("log_keep = \"5\";"), "tend.conf:2: program 'web': "
	    "log_keep must be an integer (got a string)");
	T_ERR(WEB("log_rotate_every = \"500ms\";"), "tend.conf:2: program "
	    "'web': log_rotate_every must be 0 (never) or at least 1s "
	    "(got 500ms)");
	T_ERR(WEB("log_rotate_every = \"daily\";"), "tend.conf:2: program "
	    "'web': log_rotate_every must be a duration such as \"10s\", "
	    "\"250ms\" or \"1m30s\" (got \"daily\")");
	T_ERR(WEB("log_mode = \"0999\";"), "tend.conf:2: program 'web': "
	    "log_mode must be an octal string from \"0\" to \"0777\" "
	    "(got \"0999\")");
	T_ERR(WEB("log_mode = 0640;"), "tend.conf:2: program 'web': "
	    "log_mode must be an octal string such as \"0640\" "
	    "(got an integer)");
	T_ERR(WEB("log_max_sise = \"1M\";"), "tend.conf:2: unknown key "
	    "'log_max_sise' in program 'web' (did you mean 'log_max_size'?)");
	T_ERR(WEB("stdot = \"file\";"), "tend.conf:2: unknown key "
	    "'stdot' in program 'web' (did you mean 'stdout'?)");
	T_ERR(WEB("log_timestamp = true;"), "tend.conf:2: unknown key "
	    "'log_timestamp' in program 'web' (did you mean "
	    "'log_timestamps'?)");
}

/* Load log_max_size = value; its value, or the load failed. */
static uint64_t
size(const char *value, bool *ok)
{
	struct conf	*c;
	char		 buf[256];
	uint64_t	 v = 0;

	snprintf(buf, sizeof buf, WEB("log_max_size = %s;"), value);
	c = load(buf);
	*ok = c != NULL;
	if (c != NULL)
		v = c->programs[0]->log_max_size;
	conf_unref(c);
	return v;
}

T_CASE(t_log_sizes)
{
	static const struct {
		const char	*in;
		uint64_t	 bytes;
	} good[] = {
		{ "0", 0 },
		{ "4096", 4096 },
		{ "0x1000", 4096 },
		{ "\"4096\"", 4096 },
		{ "\"64K\"", 64 * 1024 },
		{ "\"64k\"", 64 * 1024 },
		{ "\"64KB\"", 64 * 1024 },
		{ "\"64kib\"", 64 * 1024 },
		{ "\"10M\"", 10 * 1024 * 1024 },
		{ "\"10MiB\"", 10 * 1024 * 1024 },
		{ "\"10mb\"", 10 * 1024 * 1024 },
		{ "\"1G\"", 1024 * 1024 * 1024 },
		{ "\"1GB\"", 1024 * 1024 * 1024 },
		{ "\"1gib\"", 1024 * 1024 * 1024 },
		{ "\"1024G\"", 1ULL << 40 },
		{ "1099511627776L", 1ULL << 40 },
		{ "\"0\"", 0 },
	};
	static const char *bad[] = {
		"\"\"", "\"10X\"", "\"1.5M\"", "\"-1K\"", "\"1 M\"",
		"\" 1M\"", "\"1T\"", "\"M\"", "\"1MM\"", "\"0x10\"",
	};
	size_t		 i;
	bool		 ok;
	uint64_t	 v;
	char		 want[256];

	for (i = 0; i < nitems_(good); i++) {
		v = size(good[i].in, &ok);
		if (!ok || v != good[i].bytes)
			fprintf(stderr, "  size %s\n", good[i].in);
		T_CHECK(ok);
		T_INTEQ(v, good[i].bytes);
	}
	for (i = 0; i < nitems_(bad); i++) {
		size(bad[i], &ok);
		T_CHECK(!ok);
		snprintf(want, sizeof want, "tend.conf:2: program 'web': "
		    "log_max_size must be a size such as \"512\", \"64K\" or "
		    "\"10M\" (got %s)", bad[i]);
		T_CHECK(has_error(want));
		T_INTEQ(errs.n, 1);
	}

	/* Ranges: limits and values are shown with a unit when exact. */
	T_ERR(WEB("log_max_size = 4095;"), "tend.conf:2: program 'web': "
	    "log_max_size must be 0 (no limit) or at least 4K (got 4095)");
	T_ERR(WEB("log_max_size = \"1\";"), "tend.conf:2: program 'web': "
	    "log_max_size must be 0 (no limit) or at least 4K (got 1)");
	T_ERR(WEB("log_max_size = \"1025G\";"), "tend.conf:2: program "
	    "'web': log_max_size must be at most 1024G (got 1025G)");
	T_ERR(WEB("log_max_size = 1099511627777L;"), "tend.conf:2: program "
	    "'web': log_max_size must be at most 1024G (got 1099511627777)");
	T_ERR(WEB("log_max_size = -1;"), "tend.conf:2: program 'web': "
	    "log_max_size must not be negative (got -1)");
	T_ERR(WEB("log_max_size = 1.5;"), "tend.conf:2: program 'web': "
	    "log_max_size must be a size: a number of bytes or a string such "
	    "as \"64K\" (got a float)");
	T_ERR(WEB("log_ring_size = \"17M\";"), "tend.conf:2: program 'web': "
	    "log_ring_size must be at most 16M (got 17M)");
	T_ERR(WEB("log_ring_size = 16777217;"), "tend.conf:2: program 'web': "
	    "log_ring_size must be at most 16M (got 16777217)");
	T_ERR(WEB("log_line_max = 255;"), "tend.conf:2: program 'web': "
	    "log_line_max must be between 256 and 16M (got 255)");
	T_ERR(WEB("log_line_max = 0;"), "tend.conf:2: program 'web': "
	    "log_line_max must be between 256 and 16M (got 0)");
	T_ERR(WEB("log_line_max = \"1G\";"), "tend.conf:2: program 'web': "
	    "log_line_max must be between 256 and 16M (got 1G)");
	T_ERR(WEB("log_line_max = true;"), "tend.conf:2: program 'web': "
	    "log_line_max must be a size: a number of bytes or a string such "
	    "as \"64K\" (got a boolean)");
	/* A bad value leaves no other error behind. */
	T_CHECK(load(WEB("log_max_size = \"x\";\nlog_ring_size = -5;"))
	    == NULL);
	T_INTEQ(errs.n, 2);
}

/* The default log_file uses the final log_dir, wherever it is set. */
T_CASE(t_log_file_default)
{
	struct conf	*c;

	c = load("supervisor = { log_dir = \"/l\"; };\n" WEB(""));
	T_CHECK(c != NULL);
	if (c != NULL)
		T_STREQ(c->programs[0]->log_file, "/l/web.log");
	conf_unref(c);
	c = load(WEB("") "supervisor = { log_dir = \"l\"; };\n");
	T_CHECK(c != NULL);
	if (c != NULL)
		T_STREQ(c->programs[0]->log_file, "/etc/tend/l/web.log");
	conf_unref(c);
	/* The name is written out, not as {name}. */
	c = load("programs = ( { name = \"a.b-c_1\"; command = \"x\"; } );\n"
	    "supervisor = { log_dir = \"/l/\"; };\n");
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_STREQ(c->programs[0]->log_file, "/l/a.b-c_1.log");
		T_CHECK(!c->programs[0]->log_file_per_instance);
	}
	conf_unref(c);
}

/* Temp dirs. */

static char tmpdir[64];

static void
write_file(const char *rel, const char *text)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
	T_CHECK((f = fopen(path, "w")) != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* A file of any bytes, NUL included. */
static void
write_bytes(const char *rel, const char *buf, size_t len)
{
	char	 path[256];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
	T_CHECK((f = fopen(path, "w")) != NULL);
	if (f == NULL)
		return;
	T_INTEQ(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* Is want, with every %s replaced by tmpdir, one of the errors? */
/* fmt with every %s replaced by value, into buf of 1024 bytes. */
static void
fill(char *buf, const char *fmt, const char *value)
{
	const char	*p;
	size_t		 len = 0, vlen = strlen(value);

	for (p = fmt; *p != '\0' && len + vlen < 1023; p++) {
		if (p[0] == '%' && p[1] == 's') {
			memcpy(buf + len, value, vlen);
			len += vlen;
			p++;
		} else
			buf[len++] = *p;
	}
	buf[len] = '\0';
}

static bool
has_error_tmp(const char *want)
{
	char	 buf[1024];

	fill(buf, want, tmpdir);
	return has_error(buf);
}

static void
make_tmpdir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_conf.XXXXXX");
	T_CHECK(mkdtemp(tmpdir) != NULL);
}

static void
remove_tmpdir(void)
{
	char	*cmd;

	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	T_CHECK(system(cmd) == 0);
	free(cmd);
}

T_CASE(t_include_dir)
{
	struct conf	*c;
	char		 base[512], path[256];

	make_tmpdir();
	snprintf(base, sizeof base, "%s/etc", tmpdir);
	T_CHECK(mkdir(base, 0755) == 0);
	write_file("etc/tend.conf",
	    "supervisor = { include_dir = \"conf.d\"; };\n"
	    "programs = ( { name = \"main\"; command = \"x\"; } );\n");
	snprintf(path, sizeof path, "%s/etc/conf.d", tmpdir);
	T_CHECK(mkdir(path, 0755) == 0);
	write_file("etc/conf.d/b.conf",
	    "programs = ( { name = \"b\"; command = \"x\";"
	    " directory = \"srv\"; } );\n");
	write_file("etc/conf.d/a.conf",
	    "programs = ( { name = \"a1\"; command = \"x\"; },\n"
	    "  { name = \"a2\"; command = \"x\"; } );\n");
	write_file("etc/conf.d/B.conf", "programs = ();\n");
	write_file("etc/conf.d/notes.txt", "not a config {{{\n");
	write_file("etc/conf.d/.hidden.conf", "not a config {{{\n");
	write_file("etc/conf.d/empty.conf", "");
	snprintf(path, sizeof path, "%s/etc/conf.d/dir.conf", tmpdir);
	T_CHECK(mkdir(path, 0755) == 0);

	snprintf(path, sizeof path, "%s/etc/tend.conf", tmpdir);
	c = conf_load(path, &errs);
	T_CHECK(c != NULL);
	T_INTEQ(errs.n, 0);
	if (c != NULL && c->nprograms == 4) {
		snprintf(path, sizeof path, "%s/etc/conf.d", tmpdir);
		T_STREQ(c->include_dir, path);
		T_STREQ(c->programs[0]->name, "main");
		T_STREQ(c->programs[1]->name, "a1");
		T_STREQ(c->programs[2]->name, "a2");
		T_STREQ(c->programs[3]->name, "b");
		snprintf(path, sizeof path, "%s/etc/conf.d/a.conf", tmpdir);
		T_STREQ(c->programs[2]->file, path);
		T_INTEQ(c->programs[2]->line, 2);
		snprintf(path, sizeof path, "%s/etc/conf.d/srv", tmpdir);
		T_STREQ(c->programs[3]->directory, path);
	} else
		T_CHECK(0);
	conf_unref(c);

	/* Programs of include files take the main file's log_dir, even when
	   it comes last; their relative log_file is from the include dir. */
	write_file("etc/tend.conf", "# supervisor last\n"
	    "programs = ( { name = \"main\"; command = \"x\"; } );\n"
	    "supervisor = { include_dir = \"conf.d\";"
	    " log_dir = \"logs\"; };\n");
	write_file("etc/conf.d/b.conf",
	    "programs = ( { name = \"b\"; command = \"x\";"
	    " log_file = \"b/{instance}.log\"; } );\n");
	snprintf(path, sizeof path, "%s/etc/tend.conf", tmpdir);
	c = conf_load(path, &errs);
	T_CHECK(c != NULL);
	T_INTEQ(errs.n, 0);
	if (c != NULL && c->nprograms == 4) {
		snprintf(path, sizeof path, "%s/etc/logs/main.log", tmpdir);
		T_STREQ(c->programs[0]->log_file, path);
		snprintf(path, sizeof path, "%s/etc/logs/a2.log", tmpdir);
		T_STREQ(c->programs[2]->log_file, path);
		T_CHECK(!c->programs[2]->log_file_per_instance);
		snprintf(path, sizeof path, "%s/etc/conf.d/b/{instance}.log",
		    tmpdir);
		T_STREQ(c->programs[3]->log_file, path);
		T_CHECK(c->programs[3]->log_file_per_instance);
	} else
		T_CHECK(0);
	conf_unref(c);

	/* Errors in an include file name it; duplicates name both files. */
	write_file("etc/conf.d/c.conf",
	    "supervisor = {};\n"
	    "programs = ( { name = \"x\"; command = \"x\";\n"
	    "  instances = -1; },\n"
	    "  { name = \"main\"; command = \"y\"; } );\n");
	snprintf(path, sizeof path, "%s/etc/tend.conf", tmpdir);
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	T_INTEQ(errs.n, 3);
	snprintf(base, sizeof base, "%s/etc/conf.d/c.conf:1: unknown key "
	    "'supervisor' in an include_dir file (only 'programs' is "
	    "allowed)", tmpdir);
	T_CHECK(has_error(base));
	snprintf(base, sizeof base, "%s/etc/conf.d/c.conf:3: program 'x': "
	    "instances must be between 1 and 10000 (got -1)", tmpdir);
	T_CHECK(has_error(base));
	snprintf(base, sizeof base, "%s/etc/conf.d/c.conf:4: program 'main' "
	    "is already defined at %s/etc/tend.conf:2", tmpdir, tmpdir);
	T_CHECK(has_error(base));
	conf_unref(c);

	/* A syntax error in an include file. */
	write_file("etc/conf.d/c.conf", "programs = (\n{ name = }\n);\n");
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	snprintf(base, sizeof base, "%s/etc/conf.d/c.conf:2: syntax error",
	    tmpdir);
	T_CHECK(has_error(base));
	T_INTEQ(errs.n, 1);
	conf_unref(c);

	/* A missing include_dir. */
	write_file("etc/tend.conf", "supervisor = {\n"
	    "  include_dir = \"nope.d\"; };\n");
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	snprintf(base, sizeof base, "%s:2: include_dir \"%s/etc/nope.d\": "
	    "No such file or directory", path, tmpdir);
	T_CHECK(has_error(base));
	conf_unref(c);
	remove_tmpdir();
}

/* An include_dir with no .conf file in it adds nothing (found by
   tests/fuzz: qsort was given a NULL array). */
T_CASE(t_include_dir_empty)
{
	struct conf	*c;
	char		 path[256];

	make_tmpdir();
	write_file("tend.conf",
	    "supervisor = { include_dir = \"conf.d\"; };\n"
	    "programs = ( { name = \"main\"; command = \"x\"; } );\n");
	snprintf(path, sizeof path, "%s/conf.d", tmpdir);
	T_CHECK(mkdir(path, 0755) == 0);
	write_file("conf.d/notes.txt", "not a config {{{\n");
	snprintf(path, sizeof path, "%s/tend.conf", tmpdir);
	c = conf_load(path, &errs);
	T_CHECK(c != NULL);
	T_INTEQ(errs.n, 0);
	T_INTEQ(c != NULL ? c->nprograms : 0, 1);
	conf_unref(c);
	remove_tmpdir();
}

T_CASE(t_conf_load)
{
	struct conf	*c;
	char		 path[256], *cwd;

	c = conf_load("/nonexistent/tend.conf", &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error("/nonexistent/tend.conf: cannot read: No such file "
	    "or directory"));
	T_INTEQ(errs.n, 1);
	conf_unref(c);
	c = conf_load("/tmp", &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error("/tmp: cannot read: Is a directory"));
	conf_unref(c);

	/* A relative path: errors name it so, paths are absolute. */
	make_tmpdir();
	write_file("t.conf", "supervisor = { state_dir = \"st\"; };\n"
	    "programs = ( { name = \"a\"; command = \"x\";\n"
	    "  instances = \"2\"; } );\n");
	cwd = getcwd(NULL, 0);
	T_CHECK(chdir(tmpdir) == 0);
	c = conf_load("./t.conf", &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error("./t.conf:3: program 'a': instances must be an "
	    "integer (got a string)"));
	write_file("t.conf", "supervisor = { state_dir = \"st\"; };\n"
	    "programs = ( { name = \"a\"; command = \"x\"; } );\n");
	c = conf_load("t.conf", &errs);
	T_CHECK(c != NULL);
	T_INTEQ(errs.n, 0);
	if (c != NULL) {
		snprintf(path, sizeof path, "%s/t.conf", tmpdir);
		T_STREQ(c->file, path);
		snprintf(path, sizeof path, "%s/st", tmpdir);
		T_STREQ(c->state_dir, path);
		T_STREQ(c->programs[0]->file, "t.conf");
	}
	conf_unref(c);

	/* libconfig's @include works, relative to the including file. */
	write_file("inc.cfg", "programs = ( { name = \"inc\";\n"
	    " command = \"x\"; directory = \"d\"; } );\n");
	write_file("t.conf", "@include \"inc.cfg\"\n");
	c = conf_load("t.conf", &errs);
	T_CHECK(c != NULL);
	if (c != NULL && c->nprograms == 1) {
		snprintf(path, sizeof path, "%s/d", tmpdir);
		T_STREQ(c->programs[0]->directory, path);
	}
	conf_unref(c);
	write_file("inc.cfg", "programs = ( { name = \"inc\";\n"
	    " command = 5; } );\n");
	c = conf_load("t.conf", &errs);
	T_CHECK(c == NULL);
	/* Named as the @include directive wrote it. */
	T_CHECK(has_error("inc.cfg:2: program 'inc': command must be a list "
	    "of strings or a string (got an integer)"));
	conf_unref(c);

	T_CHECK(chdir(cwd) == 0);
	free(cwd);
	remove_tmpdir();
}

/* Only regular files are read: never a wait on a FIFO, never a device. */
T_CASE(t_special_files)
{
	struct conf	*c;
	char		 path[256];

	make_tmpdir();
	snprintf(path, sizeof path, "%s/fifo.conf", tmpdir);
	T_CHECK(mkfifo(path, 0600) == 0);
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error_tmp("%s/fifo.conf: cannot read: a FIFO, not a "
	    "regular file"));
	T_INTEQ(errs.n, 1);
	conf_unref(c);
	c = conf_load("/dev/null", &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error("/dev/null: cannot read: a character device, not a "
	    "regular file"));
	conf_unref(c);

	/* In include_dir, a FIFO is an error naming it; a directory named
	   x.conf is still skipped. */
	snprintf(path, sizeof path, "%s/conf.d", tmpdir);
	T_CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof path, "%s/conf.d/dir.conf", tmpdir);
	T_CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof path, "%s/conf.d/p.conf", tmpdir);
	T_CHECK(mkfifo(path, 0600) == 0);
	write_file("conf.d/a.conf", "programs = ( { name = \"a\"; command = "
	    "\"x\"; } );\n");
	write_file("tend.conf",
	    "supervisor = { include_dir = \"conf.d\"; };\n");
	snprintf(path, sizeof path, "%s/tend.conf", tmpdir);
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error_tmp("%s/conf.d/p.conf: cannot read: a FIFO, not a "
	    "regular file"));
	T_INTEQ(errs.n, 1);
	conf_unref(c);

	/* include_dir itself a FIFO: no wait either. */
	write_file("tend.conf", "supervisor = { include_dir = \"fifo.conf\"; "
	    "};\n");
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error_tmp("%s/tend.conf:1: include_dir \"%s/fifo.conf\": "
	    "Not a directory"));
	conf_unref(c);
	remove_tmpdir();
}

/* A NUL would hide the rest of the file from libconfig. */
T_CASE(t_nul)
{
	struct conf	*c;
	char		 path[256], zeros[64];
	static const char text[] = "supervisor = {};\n# a comment\n\0"
	    "programs = ( { name = \"a\"; command = \"x\"; } );\n";

	make_tmpdir();
	snprintf(path, sizeof path, "%s/tend.conf", tmpdir);
	write_bytes("tend.conf", text, sizeof text - 1);
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error_tmp("%s/tend.conf:3: NUL byte: a configuration file "
	    "is text"));
	T_INTEQ(errs.n, 1);
	conf_unref(c);

	/* All NULs: not an empty configuration either. */
	memset(zeros, 0, sizeof zeros);
	write_bytes("tend.conf", zeros, sizeof zeros);
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error_tmp("%s/tend.conf:1: NUL byte: a configuration file "
	    "is text"));
	T_INTEQ(errs.n, 1);
	conf_unref(c);

	/* In an @include file and an include_dir file: named. */
	write_bytes("inc.cfg", "\n\n\0", 3);
	write_file("tend.conf", "supervisor = {};\n@include \"inc.cfg\"\n");
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error("inc.cfg:3: NUL byte: a configuration file is "
	    "text"));
	T_INTEQ(errs.n, 1);
	conf_unref(c);
	snprintf(path, sizeof path, "%s/conf.d", tmpdir);
	T_CHECK(mkdir(path, 0755) == 0);
	write_bytes("conf.d/a.conf", "programs = ();\0", 15);
	write_file("tend.conf",
	    "supervisor = { include_dir = \"conf.d\"; };\n");
	snprintf(path, sizeof path, "%s/tend.conf", tmpdir);
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error_tmp("%s/conf.d/a.conf:1: NUL byte: a configuration "
	    "file is text"));
	conf_unref(c);
	remove_tmpdir();
}

/* Load t.conf from the temp dir, which must fail with exactly want. */
static void
include_error(const char *text, const char *want)
{
	struct conf	*c;
	char		 path[256];

	write_file("t.conf", text);
	snprintf(path, sizeof path, "%s/t.conf", tmpdir);
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error_tmp(want));
	T_INTEQ(errs.n, 1);
	conf_unref(c);
}

/* tend expands @include itself: libconfig 1.5 exits the process when it
   cannot read an included file. */
T_CASE(t_include)
{
	struct conf	*c;
	char		 path[256], name[32], text[128];
	int		 i;

	make_tmpdir();
	snprintf(path, sizeof path, "%s/sub", tmpdir);
	T_CHECK(mkdir(path, 0755) == 0);
	snprintf(path, sizeof path, "%s/fifo", tmpdir);
	T_CHECK(mkfifo(path, 0600) == 0);

	include_error("supervisor = {};\n@include \"sub\"\n",
	    "%s/t.conf:2: @include \"sub\": Is a directory");
	include_error("supervisor = {};\n@include \"\"\n",
	    "%s/t.conf:2: @include \"\": no file name");
	include_error("supervisor = {};\n@include \".\"\n",
	    "%s/t.conf:2: @include \".\": Is a directory");
	include_error("supervisor = {};\n  @include\t\"fifo\"\n",
	    "%s/t.conf:2: @include \"fifo\": a FIFO, not a regular file");
	include_error("@include \"/dev/zero\"\n",
	    "%s/t.conf:1: @include \"/dev/zero\": a character device, not a "
	    "regular file");
	include_error("@include \"nope.cfg\"\n",
	    "%s/t.conf:1: @include \"nope.cfg\": No such file or directory");
	include_error("supervisor = {};\n@include \"nope.cfg\n",
	    "%s/t.conf:2: @include: no closing quote");

	/* Loops, and nesting as deep as libconfig allows (10). */
	write_file("loop.cfg", "# me again\n@include \"loop.cfg\"\n");
	include_error("@include \"loop.cfg\"\n",
	    "loop.cfg:2: @include \"loop.cfg\": a loop (that file is already "
	    "being read)");
	include_error("supervisor = {};\n@include \"t.conf\"\n",
	    "%s/t.conf:2: @include \"t.conf\": a loop (that file is already "
	    "being read)");
	for (i = 1; i <= 11; i++) {
		snprintf(name, sizeof name, "d%d.cfg", i);
		snprintf(text, sizeof text, "@include \"d%d.cfg\"\n", i + 1);
		write_file(name, text);
	}
	write_file("d11.cfg", "supervisor = {};\n");
	include_error("@include \"d1.cfg\"\n", "d10.cfg:1: @include "
	    "\"d11.cfg\": more than 10 nested @include");
	write_file("d10.cfg", "supervisor = {};\n");
	write_file("t.conf", "@include \"d1.cfg\"\n");
	snprintf(path, sizeof path, "%s/t.conf", tmpdir);
	c = conf_load(path, &errs);
	T_CHECK(c != NULL);
	conf_unref(c);

	/*
	 * Lines: each file's own, before and after an @include; the rest of
	 * a directive's line is the including file's. Not a directive in a
	 * comment or a string, nor after another on the same line.
	 */
	write_file("sub/a.cfg", "\n# a.cfg line 2\n"
	    "programs = ( { name = \"a\"; command = \"x\";\n"
	    "  directory = \"d\"; }\n");
	write_file("b.cfg", "/* b.cfg */\n");
	write_file("t.conf",
	    "supervisor = { state_dir = \"st\"; };\n"
	    "/*\n@include \"nope.cfg\"\n*/\n"
	    "@include \"sub/a.cfg\"\n"
	    ", { name = \"b\"; command = \"x\n@include \\\"nope\\\"\"; }\n"
	    "@include \"b.cfg\" , { name = \"c\"; command = \"x\"; }\n"
	    ", { name = \"d\"; command = \"x\"; } );\n");
	c = conf_load(path, &errs);
	T_CHECK(c != NULL);
	if (c != NULL && c->nprograms == 4) {
		T_STREQ(c->programs[0]->file, "sub/a.cfg");
		T_INTEQ(c->programs[0]->line, 3);
		snprintf(path, sizeof path, "%s/sub/d", tmpdir);
		T_STREQ(c->programs[0]->directory, path);
		snprintf(path, sizeof path, "%s/st", tmpdir);
		T_STREQ(c->state_dir, path);
		snprintf(path, sizeof path, "%s/t.conf", tmpdir);
		T_STREQ(c->programs[1]->file, path);
		T_INTEQ(c->programs[1]->line, 6);
		T_STREQ(c->programs[1]->argv[2], "x\n@include \"nope\"");
		T_INTEQ(c->programs[2]->line, 8);
		T_INTEQ(c->programs[3]->line, 9);
	} else
		T_CHECK(0);
	conf_unref(c);
	include_error("supervisor = {};\n@include \"b.cfg\" @include "
	    "\"b.cfg\"\n", "%s/t.conf:2: syntax error");
	include_error("supervisor = {};\n@include \"sub/a.cfg\"\n"
	    "  , { name = \"b\"; command = 1; } );\n",
	    "%s/t.conf:3: program 'b': command must be a list of strings or "
	    "a string (got an integer)");

	/* Errors in an included file, named as the directive wrote it. */
	write_file("sub/a.cfg", "programs = (\n{ name = }\n);\n");
	include_error("supervisor = {};\n@include \"sub/a.cfg\"\n",
	    "sub/a.cfg:2: syntax error");
	write_file("sub/a.cfg", "\nx = 4294967297;\n");
	write_file("t.conf", "supervisor = {};\n@include \"sub/a.cfg\"\n");
	c = conf_load(path, &errs);
	T_CHECK(c == NULL);
	T_CHECK(has_error("sub/a.cfg:2: integer 4294967297 is out of range"));
	conf_unref(c);
	/* A string of an included file would go on in the including one. */
	write_file("sub/a.cfg", "supervisor = { socket = \"x;\n");
	include_error("@include \"sub/a.cfg\"\n\";};\n",
	    "sub/a.cfg:1: the file ends inside a string");

	/* Nested names are from the top file's directory, as libconfig's;
	   escapes as libconfig reads them. */
	write_file("sub/a.cfg", "@include \"sub/b\\\"\\\\.cfg\"\n");
	write_file("sub/b\"\\.cfg", "programs = ( { name = \"b\"; command = "
	    "\"x\"; directory = \"d\"; } );\n");
	write_file("t.conf", "@include \"sub/a.cfg\"\n");
	c = conf_load(path, &errs);
	T_CHECK(c != NULL);
	if (c != NULL && c->nprograms == 1) {
		T_STREQ(c->programs[0]->file, "sub/b\"\\.cfg");
		snprintf(path, sizeof path, "%s/sub/d", tmpdir);
		T_STREQ(c->programs[0]->directory, path);
	} else
		T_CHECK(0);
	conf_unref(c);
	/* An absolute name is used as it is. */
	snprintf(text, sizeof text, "@include \"%s/b.cfg\"\nsupervisor = "
	    "{};\n", tmpdir);
	write_file("t.conf", text);
	snprintf(path, sizeof path, "%s/t.conf", tmpdir);
	c = conf_load(path, &errs);
	T_CHECK(c != NULL);
	conf_unref(c);
	remove_tmpdir();
}

/* A growing buffer for big generated configs. */
struct gen {
	char	*buf;
	size_t	 len, cap;
};

static void __attribute__((format(printf, 2, 3)))
gen_add(struct gen *g, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(g->buf + g->len, g->cap - g->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < g->cap - g->len)
			break;
		g->cap = g->cap == 0 ? 65536 : g->cap * 2;
		g->buf = xreallocarray(g->buf, g->cap, 1);
	}
	g->len += (size_t)n;
}

/*
 * Bounds that keep the loader's work linear: libconfig checks each new
 * member of a group against all the others, so 276,000 top-level
 * settings took minutes. Passing a bound is one clear error, found
 * before libconfig sees the text.
 */
T_CASE(t_bounds)
{
	struct conf	*c;
	struct gen	 g = { NULL, 0, 0 };
	int		 i;

	for (i = 0; i < 276000; i++)
		gen_add(&g, "k%06d = 1;\n", i);
	T_ERR(g.buf, "tend.conf:101: more than 100 settings at the top level");

	/* 100 settings in a group are fine, 101 are not. */
	g.len = 0;
	gen_add(&g, "programs = ( { name = \"a\"; command = \"x\";\n"
	    "  environment = {\n");
	for (i = 0; i < 100; i++)
		gen_add(&g, "    V%d = \"x\";\n", i);
	gen_add(&g, "  }; } );\n");
	c = load(g.buf);
	T_CHECK(c != NULL);
	if (c != NULL)
		T_INTEQ(c->programs[0]->nenv, 100);
	conf_unref(c);
	g.len -= strlen("  }; } );\n");
	gen_add(&g, "    V100 = \"x\";\n  }; } );\n");
	T_ERR(g.buf, "tend.conf:103: more than 100 settings in one group");

	/* Lists are linear in libconfig, but every value takes memory. */
	g.len = 0;
	gen_add(&g, "programs = ( { name = \"a\"; command = \"x\";\n"
	    "  success_exit_codes = [0");
	for (i = 0; i < 1000000; i++)
		gen_add(&g, ",0");
	gen_add(&g, "]; } );\n");
	T_ERR(g.buf, "tend.conf:2: more than 1000000 settings in the "
	    "configuration");

	/* Duplicate names among many programs: each found once, naming the
	   first definition. */
	g.len = 0;
	gen_add(&g, "programs = (\n");
	for (i = 0; i < 20000; i++)
		gen_add(&g, "{ name = \"p%d\"; command = \"x\"; },\n", i);
	gen_add(&g, "{ name = \"p17\"; command = \"x\"; } );\n");
	T_ERR(g.buf, "tend.conf:20002: program 'p17' is already defined at "
	    "tend.conf:19");
	free(g.buf);
}

/* At most 100 errors, each at most 1024 bytes: a reload's answer fits. */
T_CASE(t_error_bounds)
{
	struct conf	*c;
	struct gen	 g = { NULL, 0, 0 };
	const char	*m;
	size_t		 len;
	int		 i;

	gen_add(&g, "programs = (\n");
	for (i = 0; i < 150; i++)
		gen_add(&g, "%s{ name = \"p%d\"; command = \"x\"; restat = 1; "
		    "}\n", i == 0 ? "" : ",", i);
	gen_add(&g, ");\n");
	c = load(g.buf);
	T_CHECK(c == NULL);
	T_INTEQ(errs.n, 101);
	T_CHECK(has_error("tend.conf:101: unknown key 'restat' in program "
	    "'p99' (did you mean 'restart'?)"));
	T_CHECK(has_error("50 more errors not shown"));
	conf_unref(c);

	/* A message quoting a long value is cut between two characters. */
	g.len = 0;
	gen_add(&g, "programs = ( { command = \"x\"; name = \"");
	for (i = 0; i < 2000; i++)
		gen_add(&g, "\xc3\xa9");
	gen_add(&g, "\"; } );\n");
	c = load(g.buf);
	T_CHECK(c == NULL);
	T_INTEQ(errs.n, 1);
	if (errs.n == 1) {
		m = errs.v[0].msg;
		len = strlen(m);
		T_CHECK(len <= 1024 && len > 1000);
		T_CHECK(strncmp(m, "program #1: invalid name \"", 26) == 0);
		T_STREQ(m + len - 3, "...");
		/* Whole é pairs only. */
		T_INTEQ((len - 3 - 26) % 2, 0);
		T_INTEQ((unsigned char)m[len - 4], 0xa9);
	}
	conf_unref(c);
	free(g.buf);
}

/* t.conf's socket for tendctl -c: want (%s: tmpdir), or NULL for the
   default; or the error err. */
static void
socket_is(const char *text, const char *want, const char *err)
{
	char	 path[256], buf[1024], *sock, *e, *def = conf_default_socket();

	write_file("t.conf", text);
	snprintf(path, sizeof path, "%s/t.conf", tmpdir);
	if (err == NULL) {
		T_INTEQ(conf_socket(path, &sock, &e), 0);
		fill(buf, want != NULL ? want : def, tmpdir);
		T_STREQ(sock, buf);
	} else {
		T_INTEQ(conf_socket(path, &sock, &e), -1);
		T_CHECK(sock == NULL);
		fill(buf, err, path);
		T_STREQ(e, buf);
	}
	free(sock);
	free(e);
	free(def);
}

/* tendctl -c needs only the socket: errors elsewhere do not matter,
   but a socket that is not certain is an error. */
T_CASE(t_socket)
{
	char	 path[256], *sock, *e;

	make_tmpdir();
	snprintf(path, sizeof path, "%s/sub", tmpdir);
	T_CHECK(mkdir(path, 0755) == 0);
	socket_is("supervisor = { socket = \"run/x.sock\"; };\n",
	    "%s/run/x.sock", NULL);
	socket_is("programs = ();\n", NULL, NULL);
	socket_is("", NULL, NULL);
	/* Unknown keys, bad values, bad programs. */
	socket_is("supervisor = { socket = \"x.sock\"; bogus = 1;\n"
	    "  shutdown_timeout = \"never\"; };\n"
	    "programs = ( { name = \"bad name\"; }, 5 );\n",
	    "%s/x.sock", NULL);
	socket_is("supervisor = { socket = 5; };\n", NULL,
	    "%s:1: socket must be a string (got an integer)");
	socket_is("supervisor = 5;\n", NULL,
	    "%s:1: supervisor must be a group { ... } (got an integer)");
	/* Syntax errors: the socket setting found in the text. */
	socket_is("supervisor = { socket = \"/abs/x.sock\"; };\n"
	    "programs = ( { name = = \"a\"; command = \"x\"; } );\n",
	    "/abs/x.sock", NULL);
	socket_is("programs = ( { name = \"a\" } ) );\n"
	    "supervisor : { state_dir = \"s\";\n"
	    "  socket = \"a\" /* two */ \"\\x41.sock\" };\n",
	    NULL, "cannot tell which socket %s names (%s:1: syntax error); "
	    "name it with -s SOCKET");
	socket_is("programs = ( { name = = \"a\" } );\n"
	    "supervisor : { state_dir = \"s\";\n"
	    "  socket = \"a\" /* two */ \"\\x41.sock\" };\n",
	    "%s/aA.sock", NULL);
	socket_is("programs = ( { name = = \"a\" } );\n", NULL, NULL);
	socket_is("# socket = \"/x.sock\";\n"
	    "programs = ( { name = = \"a\" } );\n", NULL,
	    "cannot tell which socket %s names (%s:2: syntax error); "
	    "name it with -s SOCKET");
	socket_is("programs = ( { name = \"a\"; environment = {\n"
	    "supervisor = { socket = \"/evil.sock\"; };\n", NULL,
	    "cannot tell which socket %s names (%s:3: syntax error); "
	    "name it with -s SOCKET");
	socket_is("supervisor = { socket = \"a.sock\"; };\n"
	    "supervisor = { socket = \"b.sock\"; };\n", NULL,
	    "cannot tell which socket %s names (socket is set more than "
	    "once); name it with -s SOCKET");
	/* @include: relative to the file that holds the setting. */
	write_file("sub/sock.cfg", "socket = \"s.sock\";\n");
	socket_is("supervisor = {\n@include \"sub/sock.cfg\"\n};\n"
	    "programs = 5;\n", "%s/sub/s.sock", NULL);
	socket_is("supervisor = { socket = \"x.sock\"; };\n"
	    "@include \"nope.cfg\"\n", "%s/x.sock", NULL);
	socket_is("supervisor = {};\n@include \"nope.cfg\"\n", NULL,
	    "cannot tell which socket %s names (%s:2: @include \"nope.cfg\": "
	    "No such file or directory); name it with -s SOCKET");
	/* Not even the file. */
	T_INTEQ(conf_socket("/nonexistent/t.conf", &sock, &e), -1);
	T_STREQ(e, "/nonexistent/t.conf: cannot read: No such file or "
	    "directory");
	free(e);
	remove_tmpdir();
}

T_CASE(t_refs_and_errors)
{
	struct conf		*c;
	struct conf_error	 e = { NULL, 0, (char *)"msg" };
	char			*s;

	c = load("supervisor = {};");
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_CHECK(conf_ref(c) == c);
		T_INTEQ(c->refs, 2);
		conf_unref(c);
		T_INTEQ(c->refs, 1);
	}
	conf_unref(c);
	conf_unref(NULL);

	s = conf_error_format(&e);
	T_STREQ(s, "msg");
	free(s);
	e.line = 3;
	s = conf_error_format(&e);
	T_STREQ(s, "line 3: msg");
	free(s);
	e.file = (char *)"f";
	s = conf_error_format(&e);
	T_STREQ(s, "f:3: msg");
	free(s);
	e.line = 0;
	s = conf_error_format(&e);
	T_STREQ(s, "f: msg");
	free(s);

	/* A reused errs is cleared; a NULL errs is allowed. */
	T_CHECK(load("x = 1;") == NULL);
	T_INTEQ(errs.n, 1);
	c = load("supervisor = {};");
	T_INTEQ(errs.n, 0);
	conf_unref(c);
	T_CHECK(conf_read_string("x = 1;", NULL, NULL, NULL) == NULL);
	conf_errors_clear(&errs);
	conf_errors_clear(&errs);
	T_CHECK(errs.v == NULL && errs.n == 0);
}

/* Load two one-program configs and diff them. */
static int
diff(const char *a, const char *b, const char **keys, size_t nkeys,
    size_t *n)
{
	struct conf	*ca, *cb;
	int		 r = -1;

	ca = load(a);
	cb = load(b);
	T_CHECK(ca != NULL && cb != NULL);
	if (ca != NULL && cb != NULL)
		r = conf_program_diff(ca->programs[0], cb->programs[0], keys,
		    nkeys, n);
	conf_unref(ca);
	conf_unref(cb);
	return r;
}

T_CASE(t_diff)
{
	const char	*keys[8];
	size_t		 n = 99;
	int		 r;

	if (geteuid() == 0) {
		T_INTEQ(diff(full, full, keys, 8, &n), 0);
		T_INTEQ(n, 0);
	}
	T_INTEQ(diff(WEB(""), WEB("instances = 1; stop_timeout = 10;"), keys,
	    8, &n), 0);
	T_INTEQ(n, 0);

	r = diff(WEB(""), WEB("instances = 3;"), keys, 8, &n);
	T_INTEQ(r, CONF_DIFF_INSTANCES);
	T_INTEQ(n, 1);
	T_STREQ(keys[0], "instances");

	r = diff(WEB("stop_timeout = 10;"), WEB("stop_timeout = 11;"), keys,
	    8, &n);
	T_INTEQ(r, CONF_DIFF_LIVE);
	T_INTEQ(n, 1);
	T_STREQ(keys[0], "stop_timeout");

	r = diff("programs = ( { name = \"web\"; command = \"true\"; } );",
	    "programs = ( { name = \"web\"; command = [\"true\"]; } );", keys,
	    8, &n);
	T_INTEQ(r, CONF_DIFF_RESTART);
	T_INTEQ(n, 1);
	T_STREQ(keys[0], "command");

	/* Several at once, in table order; the count is all of them. */
	r = diff(WEB("environment = { A = \"1\"; B = \"2\"; };"),
	    WEB("environment = { B = \"2\"; A = \"1\"; };\n"
	    "instances = 2; restart = \"never\"; umask = \"022\";"
	    " stop_signal = \"KILL\"; success_exit_codes = [0, 1];"),
	    keys, 3, &n);
	T_INTEQ(r, CONF_DIFF_RESTART | CONF_DIFF_INSTANCES | CONF_DIFF_LIVE);
	T_INTEQ(n, 6);
	T_STREQ(keys[0], "environment");
	T_STREQ(keys[1], "umask");
	T_STREQ(keys[2], "instances");

	r = diff(WEB(""), WEB("autostart = false; daemon = true;"
	    " start_secs = 2; restart_delay = 1; restart_delay_max = 31;"
	    " start_limit = 6; failed_retry = 1; kill_group = false;"),
	    keys, 8, &n);
	T_INTEQ(r, CONF_DIFF_LIVE);
	T_INTEQ(n, 8);
	T_STREQ(keys[0], "autostart");
	/* The old key changes the new one's value. */
	T_STREQ(keys[7], "kill_mode");

	r = diff(WEB(""), WEB("environment_file = \"x\"; clear_environment ="
	    " true; directory = \"/\";"), keys, 8, &n);
	T_INTEQ(r, CONF_DIFF_RESTART);
	T_INTEQ(n, 3);
	T_STREQ(keys[0], "environment_file");
	T_STREQ(keys[1], "clear_environment");
	T_STREQ(keys[2], "directory");

	r = diff(WEB("log_max_size = \"10M\";"), WEB("log_max_size = "
	    "\"20M\";"), keys, 8, &n);
	T_INTEQ(r, CONF_DIFF_LIVE);
	T_INTEQ(n, 1);
	T_STREQ(keys[0], "log_max_size");

	/* Compared after parsing: the defaults written out are no change. */
	T_INTEQ(diff(WEB(""), WEB("stdout = \"file\"; log_max_size = 10485760;"
	    " log_ring_size = \"64KiB\"; log_mode = \"640\";"), keys, 8, &n),
	    0);
	T_INTEQ(n, 0);

	r = diff(WEB(""), WEB("stdout = \"null\"; stderr = \"stdout\";"
	    " log_prefix = false; log_file = \"/x\"; log_max_size = 0;"
	    " log_keep = 1;\n log_rotate_every = 60; log_timestamps = true;"
	    " log_mode = \"0600\"; log_ring_size = 0; log_line_max = 512;"),
	    keys, 8, &n);
	T_INTEQ(r, CONF_DIFF_LIVE);
	T_INTEQ(n, 11);
	T_STREQ(keys[0], "stdout");
	T_STREQ(keys[1], "stderr");
	T_STREQ(keys[3], "log_file");
	T_STREQ(keys[7], "log_timestamps");

	/* A new log_dir moves the default log_file. */
	r = diff(WEB("") "supervisor = { log_dir = \"/a\"; };",
	    WEB("") "supervisor = { log_dir = \"/b\"; };", keys, 8, &n);
	T_INTEQ(r, CONF_DIFF_LIVE);
	T_INTEQ(n, 1);
	T_STREQ(keys[0], "log_file");

	r = diff(WEB(""), WEB("type = \"forking\";"), keys, 8, &n);
	T_INTEQ(r, CONF_DIFF_RESTART);
	T_INTEQ(n, 1);
	T_STREQ(keys[0], "type");
	r = diff(WEB("type = \"forking\"; pidfile = \"/a.pid\";"),
	    WEB("type = \"forking\"; pidfile = \"/b.pid\";"), keys, 8, &n);
	T_INTEQ(r, CONF_DIFF_RESTART);
	T_INTEQ(n, 1);
	T_STREQ(keys[0], "pidfile");
	/* None to one. */
	r = diff(WEB("type = \"forking\";"), WEB("type = \"forking\";"
	    " pidfile = \"a.pid\";"), keys, 8, &n);
	T_INTEQ(r, CONF_DIFF_RESTART);
	T_INTEQ(n, 1);
	T_STREQ(keys[0], "pidfile");
	/* The same path written two ways is no change. */
	T_INTEQ(diff(WEB("type = \"forking\"; pidfile = \"./a.pid\";"),
	    WEB("type = \"forking\"; pidfile = \"/etc/tend/a.pid\";"), keys,
	    8, &n), 0);
	r = diff(WEB(""), WEB("essential = true; start_timeout = 5;"), keys,
	    8, &n);
	T_INTEQ(r, CONF_DIFF_LIVE);
	T_INTEQ(n, 2);
	T_STREQ(keys[0], "essential");
	T_STREQ(keys[1], "start_timeout");
	/* type and pidfile come right after command. */
	r = diff(WEB("essential = true;"), WEB("type = \"forking\";"
	    " pidfile = \"/p\"; environment = { A = \"1\"; };"), keys, 8,
	    &n);
	T_INTEQ(r, CONF_DIFF_RESTART | CONF_DIFF_LIVE);
	T_INTEQ(n, 4);
	T_STREQ(keys[0], "type");
	T_STREQ(keys[1], "pidfile");
	T_STREQ(keys[2], "environment");
	T_STREQ(keys[3], "essential");

	/* No room for names, no count: still the flags. */
	T_INTEQ(diff(WEB(""), WEB("daemon = true;"), NULL, 0, NULL),
	    CONF_DIFF_LIVE);

	if (geteuid() == 0) {
		r = diff(WEB(""), WEB("user = \"root\"; group = \"root\";"),
		    keys, 8, &n);
		T_INTEQ(r, CONF_DIFF_RESTART);
		T_INTEQ(n, 2);
		T_STREQ(keys[0], "user");
		T_STREQ(keys[1], "group");
	}
}

T_CASE(t_forking)
{
	struct conf			*c;
	const struct conf_program	*p;

	c = load(WEB("type = \"forking\";\n"
	    " pidfile = \"run/{name}-{instance}.pid\";"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_INTEQ(p->type, CONF_TYPE_FORKING);
		T_STREQ(p->pidfile, "/etc/tend/run/{name}-{instance}.pid");
	}
	conf_unref(c);
	/* A pidfile is optional. */
	c = load(WEB("type = \"forking\";"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_INTEQ(p->type, CONF_TYPE_FORKING);
		T_CHECK(p->pidfile == NULL);
	}
	conf_unref(c);
	c = load(WEB("type = \"simple\";"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL)
		T_INTEQ(p->type, CONF_TYPE_SIMPLE);
	conf_unref(c);

	T_ERR(WEB("type = \"oneshot\";"), "tend.conf:2: program 'web': "
	    "type must be one of \"simple\", \"forking\" (got \"oneshot\")");
	T_ERR(WEB("type = \"Forking\";"), "tend.conf:2: program 'web': "
	    "type must be one of \"simple\", \"forking\" (got \"Forking\")");
	T_ERR(WEB("type = 1;"), "tend.conf:2: program 'web': "
	    "type must be one of \"simple\", \"forking\" (got an integer)");
	T_ERR(WEB("pidfile = \"/run/web.pid\";"), "tend.conf:2: program "
	    "'web': pidfile needs type = \"forking\"");
	T_ERR(WEB("type = \"simple\";\n\n pidfile = \"web.pid\";"),
	    "tend.conf:4: program 'web': pidfile needs type = \"forking\"");
	/* A bad type is reported once, not again by pidfile. */
	T_ERR(WEB("type = \"fork\";\n pidfile = \"web.pid\";"),
	    "tend.conf:2: program 'web': type must be one of \"simple\", "
	    "\"forking\" (got \"fork\")");
	T_ERR(WEB("type = \"forking\";\n pidfile = \"\";"), "tend.conf:3: "
	    "program 'web': pidfile must not be empty");
	T_ERR(WEB("type = \"forking\";\n pidfile = 5;"), "tend.conf:3: "
	    "program 'web': pidfile must be a string (got an integer)");
	T_ERR(WEB("pidfil = \"x\";"), "tend.conf:2: unknown key 'pidfil' in "
	    "program 'web' (did you mean 'pidfile'?)");
}

T_CASE(t_essential_and_start_timeout)
{
	struct conf			*c;
	const struct conf_program	*p;

	c = load(WEB("essential = true; start_timeout = \"2m\";"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_CHECK(p->essential);
		T_INTEQ(p->start_timeout, 120 * SEC);
	}
	conf_unref(c);
	c = load(WEB("essential = false; start_timeout = 0.5;"));
	T_CHECK((p = only(c)) != NULL);
	if (p != NULL) {
		T_CHECK(!p->essential);
		T_INTEQ(p->start_timeout, 500 * MSEC);
	}
	conf_unref(c);

	T_ERR(WEB("start_timeout = 0;"), "tend.conf:2: program 'web': "
	    "start_timeout must be more than 0");
	T_ERR(WEB("\n start_timeout = \"0s\";"), "tend.conf:3: program 'web': "
	    "start_timeout must be more than 0");
	T_ERR(WEB("start_timeout = -1;"), "tend.conf:2: program 'web': "
	    "start_timeout must not be negative (got -1)");
	T_ERR(WEB("start_timeout = \"soon\";"), "tend.conf:2: program 'web': "
	    "start_timeout must be a duration such as \"10s\", \"250ms\" or "
	    "\"1m30s\" (got \"soon\")");
	T_ERR(WEB("essential = \"yes\";"), "tend.conf:2: program 'web': "
	    "essential must be true or false (got a string)");
	T_ERR(WEB("essential = 1;"), "tend.conf:2: program 'web': "
	    "essential must be true or false (got an integer)");
	/* literal is set by conf_run() only. */
	T_ERR(WEB("literal = true;"), "tend.conf:2: unknown key 'literal' in "
	    "program 'web'");
	/* Supervisor keys are not program keys, and the other way round. */
	T_ERR(WEB("exit_when_done = true;"), "tend.conf:2: unknown key "
	    "'exit_when_done' in program 'web'");
	T_ERR("supervisor = {\n essential = true; };", "tend.conf:2: unknown "
	    "key 'essential' in supervisor");
}

T_CASE(t_supervisor_new_keys)
{
	struct conf	*c;

	c = load("supervisor = { exit_when_done = true; cgroups = \"off\"; };");
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_CHECK(c->exit_when_done);
		T_INTEQ(c->cgroups, CONF_CGROUPS_OFF);
	}
	conf_unref(c);
	c = load("supervisor = { exit_when_done = false;"
	    " cgroups = \"auto\"; };");
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_CHECK(!c->exit_when_done);
		T_INTEQ(c->cgroups, CONF_CGROUPS_AUTO);
	}
	conf_unref(c);

	T_ERR("supervisor = {\n cgroups = \"on\"; };", "tend.conf:2: cgroups "
	    "must be one of \"auto\", \"off\" (got \"on\")");
	T_ERR("supervisor = {\n cgroups = \"\"; };", "tend.conf:2: cgroups "
	    "must be one of \"auto\", \"off\" (got \"\")");
	T_ERR("supervisor = {\n\n cgroups = false; };", "tend.conf:3: cgroups "
	    "must be one of \"auto\", \"off\" (got a boolean)");
	T_ERR("supervisor = {\n exit_when_done = \"yes\"; };", "tend.conf:2: "
	    "exit_when_done must be true or false (got a string)");
	T_ERR("supervisor = {\n cgroup = \"off\"; };", "tend.conf:2: unknown "
	    "key 'cgroup' in supervisor (did you mean 'cgroups'?)");
}

T_CASE(t_conf_run)
{
	static char		*argv[] = { (char *)"/bin/echo",
				    (char *)"{name}-{instance}",
				    (char *)"a b", NULL };
	static char		*empty[] = { (char *)"", NULL };
	struct conf		*c, *lc;
	struct conf_program	*p;
	const char		*keys[8];
	size_t			 n = 99;
	char			*s;

	c = conf_run(argv, 3, "job", &errs);
	T_CHECK(c != NULL);
	T_INTEQ(errs.n, 0);
	if (c == NULL || c->nprograms != 1) {
		T_CHECK(0);
		conf_unref(c);
		return;
	}
	T_INTEQ(c->refs, 1);
	T_STREQ(c->file, "(command line)");
	s = conf_default_socket();
	T_STREQ(c->socket, s);
	free(s);
	s = conf_default_state_dir();
	T_STREQ(c->state_dir, s);
	free(s);
	s = conf_default_log_dir();
	T_STREQ(c->log_dir, s);
	free(s);
	T_INTEQ(c->socket_mode, 0600);
	T_CHECK(c->socket_group == NULL);
	T_CHECK(c->include_dir == NULL);
	T_CHECK(c->subreaper);
	T_INTEQ(c->shutdown_timeout, 60 * SEC);
	T_CHECK(c->exit_when_done);
	T_INTEQ(c->cgroups, CONF_CGROUPS_AUTO);

	p = c->programs[0];
	T_CHECK(conf_find(c, "job") == p);
	T_STREQ(p->name, "job");
	T_STREQ(p->file, "(command line)");
	T_INTEQ(p->line, 0);
	/* Copied, verbatim: no substitution. */
	T_INTEQ(p->argc, 3);
	T_CHECK(p->argv != argv && p->argv[1] != argv[1]);
	T_STREQ(p->argv[0], "/bin/echo");
	T_STREQ(p->argv[1], "{name}-{instance}");
	T_STREQ(p->argv[2], "a b");
	T_CHECK(p->argv[3] == NULL);
	T_CHECK(!p->shell);
	T_CHECK(p->literal);
	T_INTEQ(p->type, CONF_TYPE_SIMPLE);
	T_CHECK(p->pidfile == NULL);
	T_INTEQ(p->restart, CONF_RESTART_NEVER);
	T_INTEQ(p->start_secs, 0);
	T_INTEQ(p->stdout_sink, CONF_SINK_INHERIT);
	T_INTEQ(p->stderr_sink, CONF_SINK_INHERIT);
	T_CHECK(!p->log_prefix);
	T_CHECK(p->autostart);
	T_CHECK(!p->daemon);
	T_CHECK(!p->essential);
	T_INTEQ(p->instances, 1);
	T_INTEQ(p->nsuccess_codes, 1);
	T_INTEQ(p->success_codes[0], 0);
	T_INTEQ(p->start_timeout, 30 * SEC);
	T_INTEQ(p->stop_signal, SIGTERM);
	T_INTEQ(p->uid, geteuid());
	T_INTEQ(p->gid, getegid());
	xasprintf(&s, "%s/job.log", c->log_dir);
	T_STREQ(p->log_file, s);
	free(s);
	T_CHECK(!p->log_file_per_instance);

	/* Everything else is a loaded program's default: no key differs
	   from the same program written in a file, only literal. */
	lc = load("programs = ( { name = \"job\";"
	    " command = [\"/bin/echo\", \"{name}-{instance}\", \"a b\"];"
	    " restart = \"never\"; start_secs = 0; stdout = \"inherit\";"
	    " stderr = \"inherit\"; log_prefix = false; } );");
	T_CHECK(lc != NULL);
	if (lc != NULL) {
		T_INTEQ(conf_program_diff(lc->programs[0], p, keys, 8, &n), 0);
		T_INTEQ(n, 0);
		T_CHECK(conf_program_hash(lc->programs[0]) !=
		    conf_program_hash(p));
		p->literal = false;
		T_CHECK(conf_program_hash(lc->programs[0]) ==
		    conf_program_hash(p));
		p->literal = true;
	}
	conf_unref(lc);
	conf_unref(c);

	/* One argument. */
	c = conf_run(argv, 1, "a.b-c_1", &errs);
	T_CHECK(c != NULL);
	if (c != NULL) {
		T_INTEQ(c->programs[0]->argc, 1);
		T_CHECK(c->programs[0]->argv[1] == NULL);
	}
	conf_unref(c);

	T_CHECK(conf_run(argv, 3, "a b", &errs) == NULL);
	T_CHECK(has_error("(command line): invalid name \"a b\" (1 to 64 "
	    "letters, digits, '_', '.' or '-', not starting with '.' or '-', "
	    "and not \"all\")"));
	T_INTEQ(errs.n, 1);
	T_CHECK(conf_run(argv, 3, "all", &errs) == NULL);
	T_INTEQ(errs.n, 1);
	T_CHECK(conf_run(argv, 3, "", &errs) == NULL);
	T_INTEQ(errs.n, 1);
	T_CHECK(conf_run(argv, 3, NULL, &errs) == NULL);
	T_INTEQ(errs.n, 1);
	T_CHECK(conf_run(argv, 0, "job", &errs) == NULL);
	T_CHECK(has_error("(command line): no command to run"));
	T_INTEQ(errs.n, 1);
	T_CHECK(conf_run(NULL, 0, "job", &errs) == NULL);
	T_INTEQ(errs.n, 1);
	T_CHECK(conf_run(empty, 1, "job", &errs) == NULL);
	T_CHECK(has_error("(command line): command[0] must not be empty"));
	T_INTEQ(errs.n, 1);
	/* Every error, not just the first. */
	T_CHECK(conf_run(empty, 1, "-x", &errs) == NULL);
	T_INTEQ(errs.n, 2);
	/* A NULL errs is allowed; a reused errs is cleared. */
	T_CHECK(conf_run(empty, 1, "job", NULL) == NULL);
	c = conf_run(argv, 3, "job", &errs);
	T_CHECK(c != NULL);
	T_INTEQ(errs.n, 0);
	conf_unref(c);
}

/* The hash of the one program of text, or 0 if it does not load. */
static uint64_t
hash(const char *text)
{
	struct conf	*c;
	uint64_t	 h = 0;

	c = load(text);
	T_CHECK(c != NULL && c->nprograms == 1);
	if (c != NULL && c->nprograms == 1)
		h = conf_program_hash(c->programs[0]);
	conf_unref(c);
	return h;
}

#define PROG(keys)	"programs = ( { " keys " } );"

T_CASE(t_hash)
{
	/* Each pair differs in one key (or in how it is written). */
	static const struct {
		const char	*a, *b;
	} differ[] = {
		{ PROG("name = \"web\"; command = [\"/x\", \"ab\", \"c\"];"),
		  PROG("name = \"web\"; command = [\"/x\", \"a\", \"bc\"];") },
		{ PROG("name = \"web\"; command = [\"/x\", \"ab\"];"),
		  PROG("name = \"web\"; command = [\"/x\", \"ab\", \"\"];") },
		{ PROG("name = \"web\"; command = [\"/x\"];"),
		  PROG("name = \"web\"; command = [\"/y\"];") },
		{ WEB(""), PROG("name = \"web\"; command = [\"true\"];") },
		{ WEB(""), PROG("name = \"web2\"; command = \"true\";") },
		{ WEB(""), WEB("type = \"forking\";") },
		{ WEB("type = \"forking\";"),
		  WEB("type = \"forking\"; pidfile = \"/a.pid\";") },
		{ WEB("type = \"forking\"; pidfile = \"/a.pid\";"),
		  WEB("type = \"forking\"; pidfile = \"/b.pid\";") },
		{ WEB(""), WEB("environment = { A = \"1\"; };") },
		{ WEB("environment = { A = \"1\"; };"),
		  WEB("environment = { A = \"2\"; };") },
		{ WEB("environment = { A = \"1\"; B = \"2\"; };"),
		  WEB("environment = { B = \"2\"; A = \"1\"; };") },
		{ WEB("environment = { A = \"bc\"; };"),
		  WEB("environment = { A = \"b\"; B = \"c\"; };") },
		{ WEB(""), WEB("environment_file = \"a\";") },
		{ WEB(""), WEB("clear_environment = true;") },
		{ WEB(""), WEB("directory = \"/srv\";") },
		{ WEB(""), WEB("umask = \"0\";") },
		{ WEB(""), WEB("instances = 2;") },
		{ WEB(""), WEB("autostart = false;") },
		{ WEB(""), WEB("daemon = true;") },
		{ WEB(""), WEB("essential = true;") },
		{ WEB(""), WEB("restart = \"always\";") },
		{ WEB(""), WEB("success_exit_codes = [0, 1];") },
		{ WEB(""), WEB("start_secs = 2;") },
		{ WEB(""), WEB("start_timeout = 5;") },
		{ WEB(""), WEB("restart_delay = 1;") },
		{ WEB(""), WEB("restart_delay_max = 31;") },
		{ WEB(""), WEB("start_limit = 6;") },
		{ WEB(""), WEB("failed_retry = 1;") },
		{ WEB(""), WEB("stop_signal = \"INT\";") },
		{ WEB(""), WEB("stop_timeout = 11;") },
		{ WEB(""), WEB("kill_group = false;") },
		{ WEB(""), WEB("kill_mode = \"process\";") },
		{ WEB("kill_mode = \"main\";"), WEB("kill_mode = \"process\";") },
		{ WEB(""), WEB("stdout = \"null\";") },
		{ WEB(""), WEB("stderr = \"stdout\";") },
		{ WEB(""), WEB("log_prefix = false;") },
		{ WEB(""), WEB("log_file = \"/x.log\";") },
		{ WEB("log_file = \"/x.log\";"),
		  WEB("log_file = \"/y.log\";") },
		{ WEB(""), WEB("log_max_size = 0;") },
		{ WEB(""), WEB("log_keep = 1;") },
		{ WEB(""), WEB("log_rotate_every = 60;") },
		{ WEB(""), WEB("log_timestamps = true;") },
		{ WEB(""), WEB("log_mode = \"0600\";") },
		{ WEB(""), WEB("log_ring_size = 0;") },
		{ WEB(""), WEB("log_line_max = 512;") },
	};
	/* Each pair is the same config written two ways. */
	static const struct {
		const char	*a, *b;
	} same[] = {
		{ WEB(""), WEB("stop_timeout = \"10s\"; instances = 1;"
		  " log_max_size = \"10M\"; stop_signal = 15;") },
		{ WEB("type = \"forking\"; pidfile = \"./a.pid\";"),
		  WEB("pidfile = \"/etc/tend/a.pid\"; type = \"forking\";") },
		{ WEB("umask = \"022\";"), WEB("umask = \"0022\";") },
		/* The old key and the new one for the same thing. */
		{ WEB("kill_group = false;"), WEB("kill_mode = \"main\";") },
		/* A key at its default counts for nothing, so a version that
		   adds one keeps every fingerprint (and the decisions saved
		   with them). */
		{ WEB(""), WEB("kill_mode = \"group\"; restart_delay = 0.1;"
		  " autostart = true; log_keep = 5; start_secs = \"1s\";") },
	};
	struct conf		*c1, *c2;
	struct conf_program	*p;
	uint64_t		 h1, h2;
	size_t			 i;

	for (i = 0; i < nitems_(differ); i++) {
		h1 = hash(differ[i].a);
		h2 = hash(differ[i].b);
		if (h1 == h2)
			fprintf(stderr, "  same hash:\n    %s\n    %s\n",
			    differ[i].a, differ[i].b);
		T_CHECK(h1 != h2);
	}
	for (i = 0; i < nitems_(same); i++) {
		h1 = hash(same[i].a);
		h2 = hash(same[i].b);
		if (h1 != h2)
			fprintf(stderr, "  different hash:\n    %s\n    %s\n",
			    same[i].a, same[i].b);
		T_CHECK(h1 == h2);
	}

	/* Two loads (other pointers) hash the same. */
	c1 = load(full);
	c2 = load(full);
	if (c1 != NULL && c2 != NULL) {
		for (i = 0; i < c1->nprograms; i++) {
			T_CHECK(c1->programs[i] != c2->programs[i]);
			T_INTEQ(conf_program_hash(c1->programs[i]),
			    conf_program_hash(c2->programs[i]));
		}
		T_CHECK(conf_program_hash(c1->programs[0]) !=
		    conf_program_hash(c1->programs[1]));
	} else
		T_CHECK(geteuid() != 0);	/* full needs root */
	conf_unref(c1);
	conf_unref(c2);

	/* NULL is not "". */
	c1 = load(WEB(""));
	if ((p = c1 != NULL ? c1->programs[0] : NULL) != NULL) {
		h1 = conf_program_hash(p);
		T_INTEQ(h1, conf_program_hash(p));
		p->directory = (char *)"";
		h2 = conf_program_hash(p);
		p->directory = NULL;
		T_CHECK(h1 != h2);
		T_INTEQ(h1, conf_program_hash(p));
	} else
		T_CHECK(0);
	conf_unref(c1);
}

/*
 * docs/config.md, from $TEND_SOURCE_ROOT or next to this source file (meson
 * compiles it by a path relative to the build directory, where tests run).
 */
static char *
read_doc(void)
{
	const char	*root = getenv("TEND_SOURCE_ROOT");
	char		*path, *text = NULL, *slash;
	FILE		*f;
	size_t		 size = 0;

	if (root != NULL)
		xasprintf(&path, "%s/docs/config.md", root);
	else {
		path = xstrdup(__FILE__);
		if ((slash = strrchr(path, '/')) != NULL)
			*slash = '\0';
		else
			strcpy(path, ".");
		slash = path;
		xasprintf(&path, "%s/../../docs/config.md", slash);
		free(slash);
	}
	if ((f = fopen(path, "r")) != NULL) {
		if (getdelim(&text, &size, '\0', f) == -1) {
			free(text);
			text = NULL;
		}
		fclose(f);
	}
	free(path);
	return text;
}

/* Users, groups and include_dir of the examples may not exist here. */
static bool
doc_error_ok(void)
{
	size_t	 i;
	bool	 ok = true;
	char	*s;

	for (i = 0; i < errs.n; i++) {
		s = conf_error_format(&errs.v[i]);
		if (strstr(s, "\" does not exist") == NULL &&
		    strstr(s, ": tendd runs as uid ") == NULL &&
		    strstr(s, ": include_dir \"") == NULL) {
			fprintf(stderr, "  docs/config.md: %s\n", s);
			ok = false;
		}
		free(s);
	}
	return ok;
}

/* Every block marked conf or conf-program in docs/config.md loads. */
T_CASE(t_doc_examples)
{
	struct conf	*c;
	char		*doc, *p, *end, *text;
	bool		 program;
	int		 n = 0;

	if ((doc = read_doc()) == NULL) {
		printf("# skipped: docs/config.md not found (set "
		    "TEND_SOURCE_ROOT)\n");
		return;
	}
	for (p = doc; (p = strstr(p, "\n```conf")) != NULL; p = end) {
		p += 8;
		program = strncmp(p, "-program\n", 9) == 0;
		if (!program && *p != '\n') {
			end = p;
			continue;
		}
		p = strchr(p, '\n') + 1;
		if ((end = strstr(p, "\n```\n")) == NULL) {
			T_CHECK(0);
			break;
		}
		if (program)
			xasprintf(&text, "programs = (\n%.*s\n);\n",
			    (int)(end - p), p);
		else
			xasprintf(&text, "%.*s\n", (int)(end - p), p);
		c = conf_read_string(text, "config.md", "/etc/tend", &errs);
		T_CHECK(c != NULL || doc_error_ok());
		conf_unref(c);
		free(text);
		n++;
	}
	T_CHECK(n >= 4);
	free(doc);
}

T_MAIN(
	T_ENTRY(t_defaults),
	T_ENTRY(t_root_defaults),
	T_ENTRY(t_empty),
	T_ENTRY(t_every_key),
	T_ENTRY(t_command_forms),
	T_ENTRY(t_durations),
	T_ENTRY(t_signals),
	T_ENTRY(t_paths),
	T_ENTRY(t_instances),
	T_ENTRY(t_big_integers),
	T_ENTRY(t_modes),
	T_ENTRY(t_restart_and_codes),
	T_ENTRY(t_environment),
	T_ENTRY(t_type_errors),
	T_ENTRY(t_names),
	T_ENTRY(t_unknown_keys),
	T_ENTRY(t_many_errors),
	T_ENTRY(t_syntax_error),
	T_ENTRY(t_users),
	T_ENTRY(t_unprivileged),
	T_ENTRY(t_socket_group),
	T_ENTRY(t_log_keys),
	T_ENTRY(t_log_errors),
	T_ENTRY(t_log_sizes),
	T_ENTRY(t_log_file_default),
	T_ENTRY(t_include_dir),
	T_ENTRY(t_include_dir_empty),
	T_ENTRY(t_conf_load),
	T_ENTRY(t_special_files),
	T_ENTRY(t_nul),
	T_ENTRY(t_include),
	T_ENTRY(t_bounds),
	T_ENTRY(t_error_bounds),
	T_ENTRY(t_socket),
	T_ENTRY(t_refs_and_errors),
	T_ENTRY(t_diff),
	T_ENTRY(t_forking),
	T_ENTRY(t_essential_and_start_timeout),
	T_ENTRY(t_supervisor_new_keys),
	T_ENTRY(t_conf_run),
	T_ENTRY(t_hash),
	T_ENTRY(t_doc_examples),
)
