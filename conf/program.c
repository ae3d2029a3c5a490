/* program.c: a program's keys (their table, parsers and checks, defaults)
 * and the programs list of a file. */
#include <sys/types.h>

#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "util.h"

#include "conf_int.h"

/* The default success_exit_codes, {0}: one array for the programs that
   keep it, 1000s of them. Never written (a conf does not change). */
static int conf_default_codes[1];

/* Keys. */

/* A NULL-terminated copy of v, array and strings in one block (one free):
   1000s of programs have one. */
char **
conf_argv(const char *const *v, size_t n)
{
	char	**argv, *p;
	size_t	  i, len = 0;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	argv = xmalloc((n + 1) * sizeof *argv + len);
	p = (char *)(argv + n + 1);
	for (i = 0; i < n; i++) {
		len = strlen(v[i]) + 1;
		argv[i] = memcpy(p, v[i], len);
		p += len;
	}
	argv[n] = NULL;
	return argv;
}

static void
conf_p_command(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf_program	*p = obj;
	config_setting_t	*e;
	const char		*v, *sh[3], **list;
	int			 i, n;

	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		if (conf_get_string(ctx, s, &v) != 0)
			return;
		sh[0] = "/bin/sh";
		sh[1] = "-c";
		sh[2] = v;
		p->argv = conf_argv(sh, 3);
		p->argc = 3;
		p->shell = true;
		return;
	}
	if (!conf_is_list(s)) {
		conf_err(ctx, s, "command must be a list of strings or a string"
		    " (got %s)", conf_type_name(s));
		return;
	}
	if ((n = config_setting_length(s)) == 0) {
		conf_err(ctx, s, "command must not be an empty list");
		return;
	}
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			conf_err(ctx, e, "command[%d] must be a string "
			    "(got %s)", i, conf_type_name(e));
			return;
		}
	}
	if (*config_setting_get_string_elem(s, 0) == '\0') {
		conf_err(ctx, s, "command[0] must not be empty");
		return;
	}
	list = xcalloc((size_t)n, sizeof *list);
	for (i = 0; i < n; i++)
		list[i] = config_setting_get_string_elem(s, i);
	p->argv = conf_argv(list, (size_t)n);
	p->argc = (uint32_t)n;
	free(list);
}

static bool
conf_valid_env_name(const char *s)
{
	return (isalpha((unsigned char)*s) || *s == '_') && s[strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")]
	    == '\0';
}

static void
conf_p_env(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf_program	*p = obj;
	config_setting_t	*e;
	const char		*key;
	int			 i, n = config_setting_length(s);

	if (!config_setting_is_group(s)) {
		conf_err(ctx, s, "environment must be a group such as "
		    "{ KEY = \"value\"; } (got %s)", conf_type_name(s));
		return;
	}
	p->env = xcalloc((size_t)n, sizeof *p->env);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		key = config_setting_name(e);
		if (!conf_valid_env_name(key))
			conf_err(ctx, e, "environment: invalid variable name "
			    "'%s'", key);
		else if (config_setting_type(e) != CONFIG_TYPE_STRING)
			conf_err(ctx, e, "environment: %s must be a string "
			    "(got %s)", key, conf_type_name(e));
		else {
			p->env[p->nenv].key = xstrdup(key);
			p->env[p->nenv++].value =
			    xstrdup(config_setting_get_string(e));
		}
	}
}

static void
conf_p_env_files(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf_program	*p = obj;
	const config_setting_t	*e = s;
	const char		*v;
	char			*abs;
	bool			 list = conf_is_list(s);
	int			 i, n = list ? config_setting_length(s) : 1;

	if (!list && config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err(ctx, s, "environment_file must be a string or a list "
		    "of strings (got %s)", conf_type_name(s));
		return;
	}
	p->env_files = xcalloc((size_t)n, sizeof *p->env_files);
	for (i = 0; i < n; i++) {
		if (list)
			e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			conf_err(ctx, e, "environment_file[%d] must be a string"
			    " (got %s)", i, conf_type_name(e));
			continue;
		}
		v = config_setting_get_string(e);
		if (v[*v == '-'] == '\0') {
			conf_err(ctx, e, "environment_file must not be empty");
			continue;
		}
		/* A leading '-' (optional file, as systemd) is kept. */
		abs = conf_setting_path(ctx, e, v + (*v == '-'));
		if (*v == '-') {
			xasprintf(&p->env_files[p->nenv_files], "-%s", abs);
			free(abs);
		} else
			p->env_files[p->nenv_files] = abs;
		p->nenv_files++;
	}
}

/* The base of runtime_directory: /run for root, else $XDG_RUNTIME_DIR
   (as systemd's RuntimeDirectory=), or NULL. */
static const char *
conf_runtime_base(void)
{
	const char	*x;

	if (geteuid() == 0)
		return "/run";
	x = getenv("XDG_RUNTIME_DIR");
	return x != NULL && *x == '/' ? x : NULL;
}

/* A runtime_directory: relative, each component a name (no "", ".",
   ".."), at most 255 bytes in all. */
static bool
conf_valid_runtime_dir(const char *v)
{
	const char	*p, *e;
	size_t		 n;

	if (*v == '\0' || *v == '/' || strlen(v) > 255)
		return false;
	for (p = v;; p = e + 1) {
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (e == NULL)
			return true;
	}
}

static void
conf_p_runtime_dirs(struct conf_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct conf_program	*p = obj;
	const config_setting_t	*e = s;
	const char		*v, *base;
	bool			 list = conf_is_list(s);
	int			 i, n = list ? config_setting_length(s) : 1;

	if (!list && config_setting_type(s) != CONFIG_TYPE_STRING) {
		conf_err(ctx, s, "runtime_directory must be a string or a list "
		    "of strings (got %s)", conf_type_name(s));
		return;
	}
	if ((base = conf_runtime_base()) == NULL) {
		conf_err(ctx, s, "runtime_directory needs $XDG_RUNTIME_DIR when "
		    "tendd does not run as root (it goes under /run for root)");
		return;
	}
	p->runtime_dirs = xcalloc((size_t)n + 1, sizeof *p->runtime_dirs);
	for (i = 0; i < n; i++) {
		if (list)
			e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			conf_err(ctx, e, "runtime_directory[%d] must be a string"
			    " (got %s)", i, conf_type_name(e));
			continue;
		}
		v = config_setting_get_string(e);
		if (!conf_valid_runtime_dir(v)) {
			conf_err(ctx, e, "runtime_directory \"%s\" must be a "
			    "relative path without \".\" or \"..\" (it goes "
			    "under %s)", v, base);
			continue;
		}
		xasprintf(&p->runtime_dirs[p->nruntime_dirs++], "%s/%s", base,
		    v);
	}
}

static void
conf_p_umask(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf_program	*p = obj;

	if (conf_get_mode(ctx, s, &p->umask) == 0)
		p->has_umask = true;
}

static const struct conf_choice conf_restart_names[] = {
	{ "always", CONF_RESTART_ALWAYS },
	{ "on-failure", CONF_RESTART_ON_FAILURE },
	{ "never", CONF_RESTART_NEVER },
};

static void
conf_p_restart(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf_program	*p = obj;
	int			 v;

	if (conf_get_choice(ctx, s, "restart", conf_restart_names,
	    nitems(conf_restart_names), &v) == 0)
		p->restart = v;
}

static const struct conf_choice conf_kill_mode_names[] = {
	{ "group", CONF_KILL_GROUP },
	{ "main", CONF_KILL_MAIN },
	{ "process", CONF_KILL_PROCESS },
};

static void
conf_p_kill_mode(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf_program	*p = obj;
	int			 v;

	if (config_setting_get_member(config_setting_parent(s),
	    "kill_group") != NULL) {
		conf_err(ctx, s, "kill_mode and kill_group: set kill_mode only "
		    "(kill_group = true is \"group\", false is \"main\")");
		return;
	}
	if (conf_get_choice(ctx, s, "kill_mode", conf_kill_mode_names,
	    nitems(conf_kill_mode_names), &v) == 0)
		p->kill_mode = (uint8_t)v;
}

/* The key before kill_mode, still read: true is "group", false "main". */
static void
conf_p_kill_group(struct conf_ctx *ctx, const config_setting_t *s,
    void *obj)
{
	struct conf_program	*p = obj;

	/* Both: kill_mode's handler says so. */
	if (config_setting_get_member(config_setting_parent(s),
	    "kill_mode") != NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		conf_err(ctx, s, "kill_group must be true or false (got %s)",
		    conf_type_name(s));
		return;
	}
	p->kill_mode = config_setting_get_bool(s) ? CONF_KILL_GROUP :
	    CONF_KILL_MAIN;
}

static const struct conf_choice conf_type_names[] = {
	{ "simple", CONF_TYPE_SIMPLE },
	{ "forking", CONF_TYPE_FORKING },
};

static void
conf_p_type(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf_program	*p = obj;
	int			 v;

	if (conf_get_choice(ctx, s, "type", conf_type_names,
	    nitems(conf_type_names), &v) == 0)
		p->type = v;
}

/* "stdout" is last: only stderr may go there. */
static const struct conf_choice conf_sink_names[] = {
	{ "file", CONF_SINK_FILE },
	{ "journal", CONF_SINK_JOURNAL },
	{ "inherit", CONF_SINK_INHERIT },
	{ "null", CONF_SINK_NULL },
	{ "stdout", CONF_SINK_STDOUT },
};

/* The "stdout" and "stderr" keys. */
static void
conf_p_sink(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf_program	*p = obj;
	const char		*key = config_setting_name(s);
	bool			 err = strcmp(key, "stderr") == 0;
	int			 v;

	if (conf_get_choice(ctx, s, key, conf_sink_names,
	    nitems(conf_sink_names) - !err, &v) == 0)
		*(err ? &p->stderr_sink : &p->stdout_sink) = v;
}

static void
conf_p_codes(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf_program	*p = obj;
	const config_setting_t	*e = s;
	long long		 v;
	bool			 list = conf_is_list(s);
	int			 i, n = list ? config_setting_length(s) : 1;

	if (!list && !conf_is_int(s)) {
		conf_err(ctx, s, "success_exit_codes must be a list of "
		    "integers (got %s)", conf_type_name(s));
		return;
	}
	if (n == 0) {
		conf_err(ctx, s, "success_exit_codes must not be empty");
		return;
	}
	/* Replaces the default {0} of conf_program_new(). */
	if (p->success_codes != conf_default_codes)
		free(p->success_codes);
	p->nsuccess_codes = 0;
	p->success_codes = xcalloc((size_t)n, sizeof *p->success_codes);
	for (i = 0; i < n; i++) {
		if (list)
			e = config_setting_get_elem(s, (unsigned)i);
		if (conf_get_int(ctx, e, "success_exit_codes", 0, 255, &v) == 0)
			p->success_codes[p->nsuccess_codes++] = (int)v;
	}
}

static void
conf_p_signal(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf_program	*p = obj;
	char			 buf[32];
	const char		*v = buf;

	if (conf_is_int(s))
		snprintf(buf, sizeof buf, "%lld", config_setting_get_int64(s));
	else if (config_setting_type(s) == CONFIG_TYPE_STRING)
		v = config_setting_get_string(s);
	else {
		conf_err(ctx, s, "stop_signal must be a signal name or number "
		    "(got %s)", conf_type_name(s));
		return;
	}
	if ((p->stop_signal = util_parse_signal(v)) == -1) {
		conf_err(ctx, s, "stop_signal must be a signal name or number "
		    "such as \"TERM\" or 15 (got \"%s\")", v);
		p->stop_signal = SIGTERM;
	}
}

/* The key table. */

#define F(t, f)		offsetof(struct t, f), sizeof ((struct t *)0)->f
#define PG(n, k, f, d)	{ n, k, F(conf_program, f), 0, 0, NULL, d, NULL, \
			    NULL }
#define PGN(n, f, max, d) { n, CONF_UINT, F(conf_program, f), 1, max, NULL, \
			    d, NULL, NULL }
#define PGR(n, k, f, min, max) { n, k, F(conf_program, f), min, max, NULL, \
			    CONF_DIFF_LIVE, NULL, NULL }
/* A scalar set by fn, compared and hashed as PG. */
#define PGS(n, f, fn, d) { n, CONF_FN, F(conf_program, f), 0, 0, fn, d, \
			    NULL, NULL }
/* Compared by eq and hashed by h. */
#define PGF(n, fn, d, eq, h) { n, CONF_FN, 0, 0, 0, 0, fn, d, eq, h }

/*
 * In the order conf_program_diff() reports them: what shapes the processes,
 * instances, then what applies live (lifecycle, then logs).
 */
const struct conf_key conf_program_keys[] = {
	/* Read first, as messages need it; no diff: it names the program. */
	PGF("name", NULL, 0, NULL, NULL),
	PGF("command", conf_p_command, CONF_DIFF_RESTART, conf_eq_command,
	    conf_hash_command),
	PGS("type", type, conf_p_type, CONF_DIFF_RESTART),
	/* Needs type "forking": checked in conf_program_load(). */
	PG("pidfile", CONF_PATH, pidfile, CONF_DIFF_RESTART),
	PGF("environment", conf_p_env, CONF_DIFF_RESTART, conf_eq_env,
	    conf_hash_env),
	PGF("environment_file", conf_p_env_files, CONF_DIFF_RESTART,
	    conf_eq_env_files, conf_hash_env_files),
	PG("clear_environment", CONF_BOOL, clear_environment,
	    CONF_DIFF_RESTART),
	PG("directory", CONF_PATH, directory, CONF_DIFF_RESTART),
	{ "user", CONF_ID, F(conf_program, user), 0, 0, NULL,
	  CONF_DIFF_RESTART, conf_eq_user, conf_hash_user },
	{ "group", CONF_ID, F(conf_program, group), 0, 0, NULL,
	  CONF_DIFF_RESTART, conf_eq_group, conf_hash_group },
	PGF("umask", conf_p_umask, CONF_DIFF_RESTART, conf_eq_umask,
	    conf_hash_umask),
	PGF("runtime_directory", conf_p_runtime_dirs, CONF_DIFF_RESTART,
	    conf_eq_runtime_dirs, conf_hash_runtime_dirs),
	PGN("instances", instances, CONF_MAX_INSTANCES, CONF_DIFF_INSTANCES),
	PG("autostart", CONF_BOOL, autostart, CONF_DIFF_LIVE),
	PG("daemon", CONF_BOOL, daemon, CONF_DIFF_LIVE),
	PG("essential", CONF_BOOL, essential, CONF_DIFF_LIVE),
	PGS("restart", restart, conf_p_restart, CONF_DIFF_LIVE),
	PGF("success_exit_codes", conf_p_codes, CONF_DIFF_LIVE,
	    conf_eq_codes, conf_hash_codes),
	PG("start_secs", CONF_DURATION, start_secs, CONF_DIFF_LIVE),
	/* > 0: checked in conf_program_load(). */
	PG("start_timeout", CONF_DURATION, start_timeout, CONF_DIFF_LIVE),
	PG("restart_delay", CONF_DURATION, restart_delay, CONF_DIFF_LIVE),
	PG("restart_delay_max", CONF_DURATION, restart_delay_max,
	    CONF_DIFF_LIVE),
	PGN("start_limit", start_limit, INT_MAX, CONF_DIFF_LIVE),
	PG("failed_retry", CONF_DURATION, failed_retry, CONF_DIFF_LIVE),
	PGS("stop_signal", stop_signal, conf_p_signal, CONF_DIFF_LIVE),
	PG("stop_timeout", CONF_DURATION, stop_timeout, CONF_DIFF_LIVE),
	PGS("kill_mode", kill_mode, conf_p_kill_mode, CONF_DIFF_LIVE),
	PG("runtime_directory_mode", CONF_MODE, runtime_mode, CONF_DIFF_LIVE),
	/* The same field, under its old name: no diff of its own. */
	PGS("kill_group", kill_mode, conf_p_kill_group, 0),
	PGS("stdout", stdout_sink, conf_p_sink, CONF_DIFF_LIVE),
	PGS("stderr", stderr_sink, conf_p_sink, CONF_DIFF_LIVE),
	PG("log_prefix", CONF_BOOL, log_prefix, CONF_DIFF_LIVE),
	/* Defaults from log_dir once every file is read: conf_log_files(). */
	PG("log_file", CONF_PATH, log_file, CONF_DIFF_LIVE),
	/* 0 or at least 4K: checked in conf_program_load(). */
	PGR("log_max_size", CONF_SIZE, log_max_size, 0, 1024 * CONF_GIB),
	PGR("log_keep", CONF_UINT, log_keep, 0, 1000),
	PG("log_rotate_every", CONF_DURATION, log_rotate_every,
	    CONF_DIFF_LIVE),
	PG("log_timestamps", CONF_BOOL, log_timestamps, CONF_DIFF_LIVE),
	PG("log_mode", CONF_MODE, log_mode, CONF_DIFF_LIVE),
	PGR("log_ring_size", CONF_SIZE, log_ring_size, 0, 16 * CONF_MIB),
	PGR("log_line_max", CONF_SIZE, log_line_max, 256, 16 * CONF_MIB),
};

const size_t conf_nprogram_keys = nitems(conf_program_keys);

#undef F
#undef PG
#undef PGN
#undef PGR
#undef PGS
#undef PGF

/* Programs. */

void
conf_program_free(struct conf_program *p)
{
	size_t	 i;

	for (i = 0; i < p->nenv; i++) {
		free(p->env[i].key);
		free(p->env[i].value);
	}
	for (i = 0; i < p->nenv_files; i++)
		free(p->env_files[i]);
	for (i = 0; i < p->nruntime_dirs; i++)
		free(p->runtime_dirs[i]);
	free(p->runtime_dirs);
	free(p->argv);
	free(p->pidfile);
	free(p->env);
	free(p->env_files);
	free(p->name);
	free(p->directory);
	free(p->user);
	free(p->group);
	free(p->groups);
	free(p->home);
	free(p->login_shell);
	if (p->success_codes != conf_default_codes)
		free(p->success_codes);
	free(p->log_file);
	free(p);
}

/* A file name for the programs of a conf to point to. */
char *
conf_file_add(struct conf *conf, const char *file)
{
	if ((conf->nfiles & (conf->nfiles - 1)) == 0)
		conf->files = xreallocarray(conf->files, conf->nfiles == 0 ?
		    1 : conf->nfiles * 2, sizeof *conf->files);
	return conf->files[conf->nfiles++] = xstrdup(file);
}

/*
 * The name of the file of setting s, kept once per file read: 1000s of
 * programs may come from one file, and 1000s of files may be read.
 */
static char *
conf_sfile_kept(struct conf_ctx *ctx, const config_setting_t *s)
{
	struct conf_src	*src = conf_ssrc(ctx, s);

	if (src == NULL)
		return conf_file_add(ctx->conf, ctx->file);
	if (src->file == NULL)
		src->file = conf_file_add(ctx->conf, src->name);
	return src->file;
}

/* Every default of a program's keys, into p (zeroed first). */
void
conf_program_defaults(struct conf_program *p)
{
	memset(p, 0, sizeof *p);
	p->type = CONF_TYPE_SIMPLE;
	p->uid = geteuid();
	p->gid = getegid();
	p->instances = 1;
	p->autostart = true;
	p->restart = CONF_RESTART_ON_FAILURE;
	/* conf_p_codes() replaces it. */
	p->success_codes = conf_default_codes;
	p->nsuccess_codes = 1;
	p->start_secs = USEC_PER_SEC;
	p->start_timeout = 30 * USEC_PER_SEC;
	p->restart_delay = 100 * USEC_PER_MSEC;
	p->restart_delay_max = 30 * USEC_PER_SEC;
	p->start_limit = 5;
	p->stop_signal = SIGTERM;
	p->stop_timeout = 10 * USEC_PER_SEC;
	p->kill_mode = CONF_KILL_GROUP;
	p->runtime_mode = 0755;
	p->stdout_sink = CONF_SINK_FILE;
	p->stderr_sink = CONF_SINK_FILE;
	p->log_prefix = true;
	p->log_max_size = 10 * CONF_MIB;
	p->log_keep = 5;
	p->log_mode = 0640;
	p->log_ring_size = 64 * CONF_KIB;
	p->log_line_max = 64 * CONF_KIB;
}

/* A program with every default, for conf_program_load() and conf_run();
   file is one of conf->files. */
struct conf_program *
conf_program_new(char *file, unsigned line)
{
	struct conf_program	*p;

	p = xmalloc(sizeof *p);
	conf_program_defaults(p);
	p->file = file;
	p->line = line;
	return p;
}

/* A type that is set but invalid has its own error. */
static bool
conf_type_ok(const config_setting_t *s)
{
	const config_setting_t	*m = config_setting_get_member(s, "type");

	return m == NULL || conf_choice_find(m, conf_type_names,
	    nitems(conf_type_names)) != -1;
}

static struct conf_program *
conf_program_load(struct conf_ctx *ctx, const config_setting_t *s, int idx)
{
	struct conf_program	*p;
	const config_setting_t	*m;
	const char		*name;
	char			 where[128], a[32], b[32];

	p = conf_program_new(conf_sfile_kept(ctx, s), conf_sline(ctx, s));
	snprintf(ctx->what, sizeof ctx->what, "program #%d", idx + 1);
	if ((m = config_setting_get_member(s, "name")) == NULL)
		conf_err(ctx, s, "missing required key 'name'");
	else if (config_setting_type(m) != CONFIG_TYPE_STRING)
		conf_err(ctx, m, "name must be a string (got %s)",
		    conf_type_name(m));
	else if (!util_valid_name(name = config_setting_get_string(m)))
		conf_err(ctx, m, "invalid name \"%s\" " CONF_NAME_RULES, name);
	else {
		p->name = xstrdup(name);
		snprintf(ctx->what, sizeof ctx->what, "program '%s'", name);
	}
	snprintf(where, sizeof where, "in %s", ctx->what);
	conf_walk(ctx, s, conf_program_keys, nitems(conf_program_keys), p,
	    where);

	if (config_setting_get_member(s, "command") == NULL)
		conf_err(ctx, s, "missing required key 'command'");
	if (p->pidfile != NULL && p->type != CONF_TYPE_FORKING &&
	    conf_type_ok(s))
		conf_err(ctx, config_setting_get_member(s, "pidfile"),
		    "pidfile needs type = \"forking\"");
	if (p->start_timeout == 0)
		conf_err(ctx, config_setting_get_member(s, "start_timeout"),
		    "start_timeout must be more than 0");
	if (p->restart_delay_max < p->restart_delay) {
		if ((m = config_setting_get_member(s,
		    "restart_delay_max")) == NULL)
			m = config_setting_get_member(s, "restart_delay");
		util_format_duration(p->restart_delay_max, a, sizeof a);
		util_format_duration(p->restart_delay, b, sizeof b);
		conf_err(ctx, m, "restart_delay_max (%s) must not be less than "
		    "restart_delay (%s)", a, b);
	}
	if (p->log_max_size != 0 && p->log_max_size < 4 * CONF_KIB)
		conf_err(ctx, config_setting_get_member(s, "log_max_size"),
		    "log_max_size must be 0 (no limit) or at least 4K "
		    "(got %llu)", (unsigned long long)p->log_max_size);
	if (p->log_rotate_every != 0 && p->log_rotate_every < USEC_PER_SEC) {
		util_format_duration(p->log_rotate_every, a, sizeof a);
		conf_err(ctx, config_setting_get_member(s,
		    "log_rotate_every"), "log_rotate_every must be 0 (never) "
		    "or at least 1s (got %s)", a);
	}
	conf_program_ids(ctx, p, s);
	ctx->what[0] = '\0';
	return p;
}

/* The slot of the program named name in t, or of the free one for it. */
static size_t
conf_names_slot(const struct conf_names *t, const char *name)
{
	size_t	 i, mask = t->size - 1;

	i = (size_t)conf_hash_bytes(CONF_FNV_BASIS, name, strlen(name)) & mask;
	while (t->v[i] != NULL && strcmp(t->v[i]->name, name) != 0)
		i = (i + 1) & mask;
	return i;
}

/* The program named as p already, or NULL once p is added. */
static struct conf_program *
conf_names_add(struct conf_names *t, struct conf_program *p)
{
	struct conf_program	**old = t->v;
	size_t			  i, oldsize = t->size;

	/* At most half full: probes stay short. */
	if (2 * (t->n + 1) > t->size) {
		t->size = t->size == 0 ? 64 : t->size * 2;
		t->v = xcalloc(t->size, sizeof *t->v);
		for (i = 0; i < oldsize; i++) {
			if (old[i] != NULL)
				t->v[conf_names_slot(t, old[i]->name)] = old[i];
		}
		free(old);
	}
	i = conf_names_slot(t, p->name);
	if (t->v[i] != NULL)
		return t->v[i];
	t->v[i] = p;
	t->n++;
	return NULL;
}

void
conf_programs(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf		*conf = obj;
	struct conf_program	*p, *q;
	config_setting_t	*e;
	int			 i, n = config_setting_length(s);

	if (!config_setting_is_list(s) &&
	    !(config_setting_is_array(s) && n == 0)) {
		conf_err(ctx, s, "programs must be a list of groups, as in "
		    "programs = ( { name = \"web\"; ... } ); (got %s)",
		    conf_type_name(s));
		return;
	}
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (!config_setting_is_group(e)) {
			conf_err(ctx, e, "programs: entry %d must be a group "
			    "{ ... } (got %s)", i + 1, conf_type_name(e));
			continue;
		}
		p = conf_program_load(ctx, e, i);
		if (p->name != NULL &&
		    (q = conf_names_add(&ctx->load->names, p)) != NULL)
			conf_error_at(ctx, p->file, p->line, "program '%s' is "
			    "already defined at %s:%u", p->name, q->file,
			    q->line);
		/* Doubling: 100,000s of programs may come one at a time. */
		if ((conf->nprograms & (conf->nprograms - 1)) == 0)
			conf->programs = xreallocarray(conf->programs,
			    conf->nprograms == 0 ? 1 : conf->nprograms * 2,
			    sizeof *conf->programs);
		conf->programs[conf->nprograms++] = p;
	}
}
