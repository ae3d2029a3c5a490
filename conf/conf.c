/* conf.c: load tend's config files (the main one, its include_dir) and the
 * supervisor's keys into the immutable, fully resolved struct conf. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "util.h"

#include "conf_int.h"

#define CONF_RUN_FILE	"(command line)"

/* Supervisor keys. */

static const struct conf_choice conf_cgroups_names[] = {
	{ "auto", CONF_CGROUPS_AUTO },
	{ "off", CONF_CGROUPS_OFF },
};

static void
conf_s_cgroups(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	struct conf	*conf = obj;
	int		 v;

	if (conf_get_choice(ctx, s, "cgroups", conf_cgroups_names,
	    nitems(conf_cgroups_names), &v) == 0)
		conf->cgroups = v;
}

/* The supervisor's key table. */

#define F(t, f)		offsetof(struct t, f), sizeof ((struct t *)0)->f
#define SV(n, k, f)	{ n, k, F(conf, f), 0, 0, NULL, 0, NULL, NULL }
#define SVF(n, fn)	{ n, CONF_FN, 0, 0, 0, 0, fn, 0, NULL, NULL }
#define SVN(n, f, min, max) { n, CONF_UINT, F(conf, f), min, max, NULL, 0, \
			    NULL, NULL }

static const struct conf_key conf_supervisor_keys[] = {
	SV("socket", CONF_PATH, socket),
	SV("socket_mode", CONF_MODE, socket_mode),
	SVF("socket_group", conf_socket_group),
	SV("state_dir", CONF_PATH, state_dir),
	SV("log_dir", CONF_PATH, log_dir),
	SV("include_dir", CONF_PATH, include_dir),
	SV("subreaper", CONF_BOOL, subreaper),
	SV("shutdown_timeout", CONF_DURATION, shutdown_timeout),
	SV("exit_when_done", CONF_BOOL, exit_when_done),
	SVF("cgroups", conf_s_cgroups),
	SVN("max_clients", max_clients, 4, 65536),
	SVN("event_buffer", event_buffer, 1, 1000000),
};

#undef F
#undef SV
#undef SVF
#undef SVN

static void
conf_supervisor(struct conf_ctx *ctx, const config_setting_t *s, void *obj)
{
	if (!config_setting_is_group(s)) {
		conf_err(ctx, s, "supervisor must be a group { ... } (got %s)",
		    conf_type_name(s));
		return;
	}
	conf_walk(ctx, s, conf_supervisor_keys, nitems(conf_supervisor_keys),
	    obj, "in supervisor");
}

static const struct conf_key conf_top_keys[] = {
	{ "supervisor", CONF_FN, 0, 0, 0, 0, conf_supervisor, 0, NULL, NULL },
	{ "programs", CONF_FN, 0, 0, 0, 0, conf_programs, 0, NULL, NULL },
};

/* An include_dir file may only add programs. */
static const struct conf_key conf_include_keys[] = {
	{ "programs", CONF_FN, 0, 0, 0, 0, conf_programs, 0, NULL, NULL },
};

/* Files. */

static void	conf_includes(struct conf_ctx *, const config_setting_t *);

/*
 * Parse one file into ctx->conf: text, or else the file at path (absolute).
 * libconfig sees it only once text.c has expanded every @include and
 * checked the bounds.
 */
static void
conf_parse_text(struct conf_ctx *ctx, const char *text, const char *path,
    bool main)
{
	struct conf_text	 t;
	const struct conf_src	*src;
	config_t		 cfg;
	config_setting_t	*root, *inc;
	unsigned		 line;
	int			 rc;

	if (text != NULL)
		rc = conf_text_string(ctx, text, ctx->file, &t);
	else
		rc = conf_text_file(ctx, path, ctx->file, &t);
	if (rc == -1 || conf_text_scan(ctx, &t) == -1) {
		conf_text_clear(&t);
		return;
	}
	ctx->text = &t;
	config_init(&cfg);
	config_set_options(&cfg, 0);
	/* No @include is left; were one, it would fail to open (/dev/null
	   is no directory) rather than make libconfig exit. */
	config_set_include_dir(&cfg, "/dev/null");
	if (config_read_string(&cfg, t.buf) != CONFIG_TRUE) {
		src = conf_text_where(&t, (unsigned)config_error_line(&cfg),
		    &line);
		conf_error_at(ctx, src != NULL ? src->name : ctx->file, line,
		    "%s", config_error_text(&cfg));
	} else if (main) {
		root = config_root_setting(&cfg);
		conf_walk(ctx, root, conf_top_keys, nitems(conf_top_keys),
		    ctx->conf, "at the top level");
		/* Most likely a mistake, which a reload would obey by
		   stopping every program. */
		if (config_setting_length(root) == 0)
			conf_error_at(ctx, ctx->file, 0, "empty configuration: "
			    "no 'supervisor' and no 'programs' (to run no "
			    "programs, write 'supervisor = {};')");
		if (ctx->conf->include_dir != NULL && (inc = config_lookup(&cfg,
		    "supervisor.include_dir")) != NULL)
			conf_includes(ctx, inc);
	} else
		conf_walk(ctx, config_root_setting(&cfg), conf_include_keys,
		    nitems(conf_include_keys), ctx->conf,
		    "in an include_dir file (only 'programs' is allowed)");
	config_destroy(&cfg);
	ctx->text = NULL;
	conf_text_clear(&t);
}

/* Read and parse a file (path absolute; name for errors). */
static void
conf_parse_file(struct conf_ctx *parent, const char *path, const char *name,
    bool main)
{
	struct conf_ctx	 ctx;
	char		*dir;

	dir = conf_dirname(path);
	memset(&ctx, 0, sizeof ctx);
	ctx.errs = parent->errs;
	ctx.conf = parent->conf;
	ctx.load = parent->load;
	ctx.file = name;
	ctx.dir = dir;
	conf_parse_text(&ctx, NULL, path, main);
	free(dir);
}

/* Byte order, not the locale's: the same order everywhere. */
static int
conf_include_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
conf_includes(struct conf_ctx *ctx, const config_setting_t *s)
{
	const char	*dir = ctx->conf->include_dir;
	struct dirent	*d;
	struct stat	 st;
	DIR		*dp;
	char		**names = NULL, *path;
	size_t		 i, n = 0, len;

	/* Not a directory (a FIFO...): ENOTDIR at once, never a wait. */
	if ((dp = opendir(dir)) == NULL) {
		conf_err(ctx, s, "include_dir \"%s\": %s", dir,
		    strerror(errno));
		return;
	}
	for (;;) {
		errno = 0;
		if ((d = readdir(dp)) == NULL) {
			if (errno != 0) {
				conf_err(ctx, s, "include_dir \"%s\": %s", dir,
				    strerror(errno));
				goto out;
			}
			break;
		}
		len = strlen(d->d_name);
		if (d->d_name[0] == '.' || len <= 5 ||
		    strcmp(d->d_name + len - 5, ".conf") != 0)
			continue;
		if (n == CONF_MAX_FILES) {
			conf_err(ctx, s, "include_dir \"%s\": more than %d "
			    ".conf files", dir, CONF_MAX_FILES);
			goto out;
		}
		if ((n & (n - 1)) == 0)
			names = xreallocarray(names, n == 0 ? 1 : n * 2,
			    sizeof *names);
		names[n++] = xstrdup(d->d_name);
	}
	/* No file: names is NULL, which qsort must not be given. */
	if (n > 0)
		qsort(names, n, sizeof *names, conf_include_cmp);
	for (i = 0; i < n; i++) {
		path = conf_join(dir, names[i]);
		/* A directory named x.conf is not a config file; any other
		   file that is not a regular one is an error (conf_read). */
		if (stat(path, &st) == -1 || !S_ISDIR(st.st_mode))
			conf_parse_file(ctx, path, path, false);
		free(path);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dp);
}

/*
 * Once every file is read, as supervisor may come after programs and
 * include_dir files have no log_dir of their own.
 */
static void
conf_log_files(struct conf *conf)
{
	struct conf_program	*p;
	char			*base;
	size_t			 i;

	for (i = 0; i < conf->nprograms; i++) {
		p = conf->programs[i];
		if (p->log_file == NULL && p->name != NULL) {
			xasprintf(&base, "%s.log", p->name);
			p->log_file = conf_join(conf->log_dir, base);
			free(base);
		}
		p->log_file_per_instance = p->log_file != NULL &&
		    strstr(p->log_file, "{instance}") != NULL;
	}
}

static void
conf_free(struct conf *conf)
{
	size_t	 i;

	for (i = 0; i < conf->nprograms; i++)
		conf_program_free(conf->programs[i]);
	free(conf->programs);
	for (i = 0; i < conf->nfiles; i++)
		free(conf->files[i]);
	free(conf->files);
	free(conf->file);
	free(conf->socket);
	free(conf->socket_group);
	free(conf->state_dir);
	free(conf->log_dir);
	free(conf->include_dir);
	free(conf);
}

/* A conf with every supervisor default, for conf_parse() and conf_run(). */
static struct conf *
conf_new(const char *file)
{
	struct conf	*conf;

	conf = xcalloc(1, sizeof *conf);
	conf->refs = 1;
	conf->file = xstrdup(file);
	conf->socket_mode = 0600;
	conf->subreaper = true;
	conf->shutdown_timeout = 60 * USEC_PER_SEC;
	conf->exit_when_done = false;
	conf->cgroups = CONF_CGROUPS_AUTO;
	conf->max_clients = 128;
	conf->event_buffer = 10000;
	return conf;
}

/* Once everything is read: default paths and log files, final checks. */
static void
conf_finish(struct conf_ctx *ctx)
{
	struct conf		*conf = ctx->conf;
	struct sockaddr_un	 sun;

	if (conf->socket == NULL)
		conf->socket = conf_default_socket();
	if (conf->state_dir == NULL)
		conf->state_dir = conf_default_state_dir();
	/* Unprivileged, logs follow the (maybe configured) state_dir. */
	if (conf->log_dir == NULL && geteuid() == 0)
		conf->log_dir = conf_default_log_dir();
	else if (conf->log_dir == NULL)
		conf->log_dir = conf_join(conf->state_dir, "log");
	conf_log_files(conf);
	if (strlen(conf->socket) >= sizeof sun.sun_path)
		conf_error_at(ctx, ctx->file, 0, "socket path \"%s\" is too "
		    "long (at most %zu bytes)", conf->socket,
		    sizeof sun.sun_path - 1);
}

/*
 * Parse the main file (text, or read from abspath if text is NULL) and
 * fill in defaults. Errors name the file as name; relative paths are from
 * dir. abspath NULL: getcwd failed.
 */
static struct conf *
conf_parse(const char *text, const char *name, const char *abspath,
    const char *dir, struct conf_errors *errs)
{
	struct conf_errors	 local = { NULL, 0 };
	struct conf		*conf = NULL;
	struct conf_load	 load;
	struct conf_ctx		 ctx;

	if (errs == NULL)
		errs = &local;
	conf_errors_clear(errs);
	memset(&load, 0, sizeof load);
	memset(&ctx, 0, sizeof ctx);
	ctx.errs = errs;
	ctx.load = &load;
	ctx.file = name;
	if (abspath == NULL) {
		conf_error_at(&ctx, name, 0, "cannot get the working "
		    "directory: %s", strerror(errno));
		goto out;
	}
	conf = ctx.conf = conf_new(abspath);
	ctx.dir = dir;
	conf_parse_text(&ctx, text, abspath, true);
	conf_finish(&ctx);
	free(load.names.v);
	conf_errors_note(errs, load.dropped);

	if (errs->n != 0) {
		conf_free(conf);
		conf = NULL;
	}
out:
	conf_errors_clear(&local);
	return conf;
}

struct conf *
conf_load(const char *path, struct conf_errors *errs)
{
	struct conf	*conf;
	char		*abspath, *dir = NULL;

	if ((abspath = conf_cwd_absolute(path)) != NULL)
		dir = conf_dirname(abspath);
	conf = conf_parse(NULL, path, abspath, dir, errs);
	free(abspath);
	free(dir);
	return conf;
}

struct conf *
conf_read_string(const char *text, const char *name, const char *basedir,
    struct conf_errors *errs)
{
	struct conf	*conf;
	char		*dir, *abspath = NULL;

	if (name == NULL)
		name = "<string>";
	if ((dir = conf_cwd_absolute(basedir != NULL ? basedir : ".")) != NULL)
		abspath = conf_absolute(dir, name);
	conf = conf_parse(text, name, abspath, dir, errs);
	free(abspath);
	free(dir);
	return conf;
}

struct conf *
conf_run(char *const *argv, size_t argc, const char *name,
    struct conf_errors *errs)
{
	struct conf_errors	 local = { NULL, 0 };
	struct conf		*conf = NULL;
	struct conf_program	*p;
	struct conf_ctx		 ctx;
	size_t			 i;

	if (errs == NULL)
		errs = &local;
	conf_errors_clear(errs);
	memset(&ctx, 0, sizeof ctx);
	ctx.errs = errs;
	ctx.file = CONF_RUN_FILE;
	if (name == NULL || !util_valid_name(name))
		conf_error_at(&ctx, ctx.file, 0, "invalid name \"%s\" "
		    CONF_NAME_RULES, name != NULL ? name : "");
	if (argv == NULL || argc == 0)
		conf_error_at(&ctx, ctx.file, 0, "no command to run");
	else if (argv[0] == NULL || *argv[0] == '\0')
		conf_error_at(&ctx, ctx.file, 0, "command[0] must not be "
		    "empty");
	for (i = 1; argv != NULL && i < argc; i++) {
		if (argv[i] == NULL) {
			conf_error_at(&ctx, ctx.file, 0, "command[%zu] is "
			    "missing", i);
			break;
		}
	}
	if (errs->n != 0)
		goto out;

	conf = ctx.conf = conf_new(CONF_RUN_FILE);
	conf->exit_when_done = true;

	/* Defaults first, so nothing differs from a loaded program but
	   what tendd --run means. */
	p = conf_program_new(conf_file_add(conf, CONF_RUN_FILE), 0);
	p->name = xstrdup(name);
	p->argv = conf_argv((const char *const *)argv, argc);
	p->argc = (uint32_t)argc;
	p->shell = false;
	p->literal = true;
	p->restart = CONF_RESTART_NEVER;
	p->start_secs = 0;
	p->stdout_sink = CONF_SINK_INHERIT;
	p->stderr_sink = CONF_SINK_INHERIT;
	p->log_prefix = false;
	p->autostart = true;
	conf->programs = xcalloc(1, sizeof *conf->programs);
	conf->programs[conf->nprograms++] = p;
	conf_finish(&ctx);

	if (errs->n != 0) {
		conf_free(conf);
		conf = NULL;
	}
out:
	conf_errors_clear(&local);
	return conf;
}

struct conf *
conf_ref(struct conf *conf)
{
	conf->refs++;
	return conf;
}

void
conf_unref(struct conf *conf)
{
	if (conf != NULL && --conf->refs == 0)
		conf_free(conf);
}

const struct conf_program *
conf_find(const struct conf *conf, const char *name)
{
	size_t	 i;

	for (i = 0; i < conf->nprograms; i++) {
		if (strcmp(conf->programs[i]->name, name) == 0)
			return conf->programs[i];
	}
	return NULL;
}
