/* conf.c: load tend's libconfig files, check them against key tables, and
 * build the immutable, fully resolved struct conf. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>

#include "conf.h"
#include "util.h"

#include "conf_int.h"

#define CONF_RUN_FILE	"(command line)"
#define CONF_NAME_RULES	"(1 to 64 letters, digits, '_', '.' or '-', " \
			"not starting with '.' or '-', and not \"all\")"

/* The default success_exit_codes, {0}: one array for the programs that
   keep it, 1000s of them. Never written (a conf does not change). */
static int conf_default_codes[1];

/* Errors. */

static void __attribute__((format(printf, 5, 0)))
conf_add(struct conf_ctx *ctx, const char *file, unsigned line,
    const char *prefix, const char *fmt, va_list ap)
{
	struct conf_errors	*errs = ctx->errs;
	struct conf_error	*e;
	char			*msg;
	size_t			 len;

	/* A bound on what a reload's reply carries, and on the work. */
	if (conf_errors_full(ctx)) {
		if (ctx->load != NULL)
			ctx->load->dropped++;
		return;
	}
	errs->v = xreallocarray(errs->v, errs->n + 1, sizeof *errs->v);
	e = &errs->v[errs->n++];
	e->file = file != NULL ? xstrdup(file) : NULL;
	e->line = line;
	xvasprintf(&msg, fmt, ap);
	if (prefix != NULL && *prefix != '\0') {
		xasprintf(&e->msg, "%s: %s", prefix, msg);
		free(msg);
	} else
		e->msg = msg;
	/* A message may quote a value of any length: cut it, between two
	   UTF-8 characters. */
	if (strlen(e->msg) > CONF_MAX_ERROR_LEN) {
		len = CONF_MAX_ERROR_LEN - 3;
		while (len > 0 && ((unsigned char)e->msg[len] & 0xc0) == 0x80)
			len--;
		memcpy(e->msg + len, "...", 4);
	}
}

void
conf_error_at(struct conf_ctx *ctx, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_add(ctx, file, line, NULL, fmt, ap);
	va_end(ap);
}

bool
conf_errors_full(const struct conf_ctx *ctx)
{
	return ctx->errs->n >= CONF_MAX_ERRORS;
}

/*
 * The file setting s (NULL: the file) is in, and its line there: libconfig
 * parsed a text with the @include files in it (text.c), whose map says.
 */
struct conf_src *
conf_ssrc(const struct conf_ctx *ctx, const config_setting_t *s)
{
	unsigned	 line;

	if (s == NULL)
		return NULL;
	return conf_text_where(ctx->text, config_setting_source_line(s), &line);
}

const char *
conf_sfile(const struct conf_ctx *ctx, const config_setting_t *s)
{
	const struct conf_src	*src = conf_ssrc(ctx, s);

	return src != NULL ? src->name : ctx->file;
}

unsigned
conf_sline(const struct conf_ctx *ctx, const config_setting_t *s)
{
	unsigned	 line;

	if (s == NULL || conf_text_where(ctx->text,
	    config_setting_source_line(s), &line) == NULL)
		return 0;
	return line;
}

/* An error at setting s (NULL: the file), prefixed by the program. */
void
conf_err(struct conf_ctx *ctx, const config_setting_t *s, const char *fmt,
    ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_add(ctx, conf_sfile(ctx, s), conf_sline(ctx, s), ctx->what, fmt,
	    ap);
	va_end(ap);
}

void
conf_errors_clear(struct conf_errors *errs)
{
	size_t	 i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++) {
		free(errs->v[i].file);
		free(errs->v[i].msg);
	}
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}

/* Past CONF_MAX_ERRORS, say how many more there were. */
static void
conf_errors_note(struct conf_errors *errs, size_t dropped)
{
	struct conf_error	*e;

	if (dropped == 0)
		return;
	errs->v = xreallocarray(errs->v, errs->n + 1, sizeof *errs->v);
	e = &errs->v[errs->n++];
	e->file = NULL;
	e->line = 0;
	xasprintf(&e->msg, "%zu more error%s not shown", dropped,
	    dropped == 1 ? "" : "s");
}

char *
conf_error_format(const struct conf_error *e)
{
	char	*s;

	if (e->file != NULL && e->line != 0)
		xasprintf(&s, "%s:%u: %s", e->file, e->line, e->msg);
	else if (e->file != NULL)
		xasprintf(&s, "%s: %s", e->file, e->msg);
	else if (e->line != 0)
		xasprintf(&s, "line %u: %s", e->line, e->msg);
	else
		s = xstrdup(e->msg);
	return s;
}

/* A NULL-terminated copy of v, array and strings in one block (one free):
   1000s of programs have one. */
static char **
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

/* The values a string key may take. */
struct conf_choice {
	const char	*name;
	int		 value;
};

/* Which of the n choices the string setting s names: its index, or -1. */
static int
conf_choice_find(const config_setting_t *s, const struct conf_choice *c,
    size_t n)
{
	const char	*v;
	size_t		 i;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return -1;
	v = config_setting_get_string(s);
	for (i = 0; i < n; i++) {
		if (strcmp(v, c[i].name) == 0)
			return (int)i;
	}
	return -1;
}

/* A key that must be one of the n choices: 0 with its value in *out, or
   -1 after reporting 'KEY must be one of "a", "b" (got ...)'. */
static int
conf_get_choice(struct conf_ctx *ctx, const config_setting_t *s,
    const char *key, const struct conf_choice *c, size_t n, int *out)
{
	char	 names[256];
	size_t	 i, len = 0;
	int	 k;

	if ((k = conf_choice_find(s, c, n)) != -1) {
		*out = c[k].value;
		return 0;
	}
	names[0] = '\0';
	for (i = 0; i < n && len < sizeof names; i++)
		len += (size_t)snprintf(names + len, sizeof names - len,
		    "%s\"%s\"", i == 0 ? "" : ", ", c[i].name);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		conf_err(ctx, s, "%s must be one of %s (got %s)", key, names,
		    conf_type_name(s));
	else
		conf_err(ctx, s, "%s must be one of %s (got \"%s\")", key,
		    names, config_setting_get_string(s));
	return -1;
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

/* Equality of the keys that are not plain scalars, for reload. */

static bool
conf_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
conf_strv_eq(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t	 i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		if (!conf_streq(a[i], b[i]))
			return false;
	}
	return true;
}

static bool
conf_eq_command(const struct conf_program *a, const struct conf_program *b)
{
	return a->shell == b->shell &&
	    conf_strv_eq(a->argv, a->argc, b->argv, b->argc);
}

static bool
conf_eq_env(const struct conf_program *a, const struct conf_program *b)
{
	size_t	 i;

	if (a->nenv != b->nenv)
		return false;
	for (i = 0; i < a->nenv; i++) {
		if (!conf_streq(a->env[i].key, b->env[i].key) ||
		    !conf_streq(a->env[i].value, b->env[i].value))
			return false;
	}
	return true;
}

static bool
conf_eq_env_files(const struct conf_program *a, const struct conf_program *b)
{
	return conf_strv_eq(a->env_files, a->nenv_files, b->env_files,
	    b->nenv_files);
}

static bool
conf_eq_runtime_dirs(const struct conf_program *a,
    const struct conf_program *b)
{
	return conf_strv_eq(a->runtime_dirs, a->nruntime_dirs,
	    b->runtime_dirs, b->nruntime_dirs);
}

/* The passwd entry may change between loads: compare what it gave. */
static bool
conf_eq_user(const struct conf_program *a, const struct conf_program *b)
{
	return conf_streq(a->user, b->user) && a->uid == b->uid &&
	    conf_streq(a->home, b->home) &&
	    conf_streq(a->login_shell, b->login_shell) &&
	    a->ngroups == b->ngroups && (a->ngroups == 0 ||
	    memcmp(a->groups, b->groups, a->ngroups * sizeof *a->groups) == 0);
}

static bool
conf_eq_group(const struct conf_program *a, const struct conf_program *b)
{
	return conf_streq(a->group, b->group) && a->gid == b->gid;
}

static bool
conf_eq_umask(const struct conf_program *a, const struct conf_program *b)
{
	return a->has_umask == b->has_umask &&
	    (!a->has_umask || a->umask == b->umask);
}

static bool
conf_eq_codes(const struct conf_program *a, const struct conf_program *b)
{
	return a->nsuccess_codes == b->nsuccess_codes &&
	    memcmp(a->success_codes, b->success_codes,
	    a->nsuccess_codes * sizeof *a->success_codes) == 0;
}

/* Hashes of the same keys, for conf_program_hash(): FNV-1a over values. */

#define CONF_FNV_BASIS	0xcbf29ce484222325ULL
#define CONF_FNV_PRIME	0x100000001b3ULL

static uint64_t
conf_hash_bytes(uint64_t h, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= CONF_FNV_PRIME;
	}
	return h;
}

/* Little-endian whatever the host, so the value alone decides. */
static uint64_t
conf_hash_u64(uint64_t h, uint64_t v)
{
	unsigned char	 b[8];
	size_t		 i;

	for (i = 0; i < sizeof b; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return conf_hash_bytes(h, b, sizeof b);
}

/* A length in front keeps {"ab","c"} apart from {"a","bc"}; a tag keeps
   NULL apart from "". */
static uint64_t
conf_hash_str(uint64_t h, const char *s)
{
	if (s == NULL)
		return conf_hash_u64(h, 0);
	h = conf_hash_u64(h, 1);
	h = conf_hash_u64(h, strlen(s));
	return conf_hash_bytes(h, s, strlen(s));
}

static uint64_t
conf_hash_strv(uint64_t h, char *const *v, size_t n)
{
	size_t	 i;

	h = conf_hash_u64(h, n);
	for (i = 0; i < n; i++)
		h = conf_hash_str(h, v[i]);
	return h;
}

static uint64_t
conf_hash_command(uint64_t h, const struct conf_program *p)
{
	h = conf_hash_u64(h, p->shell);
	return conf_hash_strv(h, p->argv, p->argc);
}

static uint64_t
conf_hash_env(uint64_t h, const struct conf_program *p)
{
	size_t	 i;

	h = conf_hash_u64(h, p->nenv);
	for (i = 0; i < p->nenv; i++) {
		h = conf_hash_str(h, p->env[i].key);
		h = conf_hash_str(h, p->env[i].value);
	}
	return h;
}

static uint64_t
conf_hash_env_files(uint64_t h, const struct conf_program *p)
{
	return conf_hash_strv(h, p->env_files, p->nenv_files);
}

static uint64_t
conf_hash_runtime_dirs(uint64_t h, const struct conf_program *p)
{
	return conf_hash_strv(h, p->runtime_dirs, p->nruntime_dirs);
}

static uint64_t
conf_hash_user(uint64_t h, const struct conf_program *p)
{
	size_t	 i;

	h = conf_hash_str(h, p->user);
	h = conf_hash_u64(h, p->uid);
	h = conf_hash_str(h, p->home);
	h = conf_hash_str(h, p->login_shell);
	h = conf_hash_u64(h, p->ngroups);
	for (i = 0; i < p->ngroups; i++)
		h = conf_hash_u64(h, p->groups[i]);
	return h;
}

static uint64_t
conf_hash_group(uint64_t h, const struct conf_program *p)
{
	h = conf_hash_str(h, p->group);
	return conf_hash_u64(h, p->gid);
}

/* As conf_eq_umask: the mode counts only if set. */
static uint64_t
conf_hash_umask(uint64_t h, const struct conf_program *p)
{
	h = conf_hash_u64(h, p->has_umask);
	return conf_hash_u64(h, p->has_umask ? p->umask : 0);
}

static uint64_t
conf_hash_codes(uint64_t h, const struct conf_program *p)
{
	size_t	 i;

	h = conf_hash_u64(h, p->nsuccess_codes);
	for (i = 0; i < p->nsuccess_codes; i++)
		h = conf_hash_u64(h, (uint64_t)p->success_codes[i]);
	return h;
}

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

/* Key tables. */

#define F(t, f)		offsetof(struct t, f), sizeof ((struct t *)0)->f
#define SV(n, k, f)	{ n, k, F(conf, f), 0, 0, NULL, 0, NULL, NULL }
#define SVF(n, fn)	{ n, CONF_FN, 0, 0, 0, 0, fn, 0, NULL, NULL }
#define SVN(n, f, min, max) { n, CONF_UINT, F(conf, f), min, max, NULL, 0, \
			    NULL, NULL }
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
};

/*
 * In the order conf_program_diff() reports them: what shapes the processes,
 * instances, then what applies live (lifecycle, then logs).
 */
static const struct conf_key conf_program_keys[] = {
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

#undef F
#undef SV
#undef SVF
#undef PG
#undef PGN
#undef PGR
#undef PGS
#undef PGF

/* The walk. */

static void
conf_unknown(struct conf_ctx *ctx, const config_setting_t *s,
    const struct conf_key *keys, size_t n, const char *where)
{
	const char	*name = config_setting_name(s), *best = NULL;
	unsigned	 d, bestd = 3;
	size_t		 i;

	/* A suggestion costs; past the bound the error is only counted. */
	for (i = 0; i < n && !conf_errors_full(ctx); i++) {
		if ((d = util_edit_distance(name, keys[i].name)) < bestd) {
			bestd = d;
			best = keys[i].name;
		}
	}
	if (best != NULL)
		conf_error_at(ctx, conf_sfile(ctx, s), conf_sline(ctx, s),
		    "unknown key '%s' %s (did you mean '%s'?)", name, where,
		    best);
	else
		conf_error_at(ctx, conf_sfile(ctx, s), conf_sline(ctx, s),
		    "unknown key '%s' %s", name, where);
}

/* Check every member of a group against keys and store what it says. */
static void
conf_walk(struct conf_ctx *ctx, const config_setting_t *group,
    const struct conf_key *keys, size_t nkeys, void *obj, const char *where)
{
	const struct conf_key	*k;
	config_setting_t	*s;
	const char		*str;
	char			*dst;
	long long		 v;
	uint64_t		 u;
	uint32_t		 u32;
	int			 i, n = config_setting_length(group);
	size_t			 j;

	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(group, (unsigned)i);
		for (j = 0, k = NULL; j < nkeys && k == NULL; j++) {
			if (strcmp(keys[j].name, config_setting_name(s)) == 0)
				k = &keys[j];
		}
		if (k == NULL) {
			conf_unknown(ctx, s, keys, nkeys, where);
			continue;
		}
		dst = (char *)obj + k->off;
		switch (k->kind) {
		case CONF_BOOL:
			if (config_setting_type(s) == CONFIG_TYPE_BOOL)
				*(bool *)dst = config_setting_get_bool(s) != 0;
			else
				conf_err(ctx, s, "%s must be true or false "
				    "(got %s)", k->name, conf_type_name(s));
			break;
		case CONF_UINT:
			if (conf_get_int(ctx, s, k->name, k->min, k->max, &v) ==
			    0)
				*(unsigned *)dst = (unsigned)v;
			break;
		case CONF_DURATION:
			conf_get_duration(ctx, s, (uint64_t *)dst);
			break;
		case CONF_SIZE:
			if (conf_get_size(ctx, s, k->min, k->max, &u) != 0)
				break;
			/* A size_t field may be 32 bits; max fits it. */
			if (k->size == sizeof u32) {
				u32 = (uint32_t)u;
				memcpy(dst, &u32, sizeof u32);
			} else
				memcpy(dst, &u, sizeof u);
			break;
		case CONF_MODE:
			conf_get_mode(ctx, s, (mode_t *)dst);
			break;
		case CONF_PATH:
			if (conf_get_string(ctx, s, &str) == 0)
				*(char **)dst = conf_setting_path(ctx, s, str);
			break;
		case CONF_ID:
			conf_get_id(ctx, s, (char **)dst);
			break;
		case CONF_FN:
			if (k->fn != NULL)
				k->fn(ctx, s, obj);
			break;
		}
	}
}

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

/* Programs. */

static void
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
static char *
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
static void
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
static struct conf_program *
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

static void
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

/* Reload. */

static bool
conf_key_eq(const struct conf_key *k, const struct conf_program *a,
    const struct conf_program *b)
{
	const char	*pa = (const char *)a + k->off;
	const char	*pb = (const char *)b + k->off;

	if (k->eq != NULL)
		return k->eq(a, b);
	if (k->kind == CONF_PATH)
		return conf_streq(*(char *const *)pa, *(char *const *)pb);
	return memcmp(pa, pb, k->size) == 0;
}

/* Fields are read by width, so the value alone decides the hash. */
static uint64_t
conf_key_scalar(const struct conf_key *k, const struct conf_program *p)
{
	const char	*src = (const char *)p + k->off;
	uint8_t		 u8;
	uint16_t	 u16;
	uint32_t	 u32;
	uint64_t	 u64;

	switch (k->size) {
	case sizeof u8:
		memcpy(&u8, src, sizeof u8);
		return u8;
	case sizeof u16:
		memcpy(&u16, src, sizeof u16);
		return u16;
	case sizeof u32:
		memcpy(&u32, src, sizeof u32);
		return u32;
	case sizeof u64:
		memcpy(&u64, src, sizeof u64);
		return u64;
	}
	/* A key of another width needs its own eq and hash. */
	abort();
}

uint64_t
conf_program_hash(const struct conf_program *p)
{
	const struct conf_key	*k;
	struct conf_program	 def;
	uint64_t		 h = CONF_FNV_BASIS;
	size_t			 i;

	/* The name's row has no diff; literal is not a key. */
	h = conf_hash_str(h, p->name);
	h = conf_hash_u64(h, p->literal);
	/*
	 * Keys at their default count for nothing: a version of tend that
	 * adds a key (with a default that does what was done before) keeps
	 * the fingerprints, and with them the operator's decisions saved
	 * in state_dir.
	 */
	conf_program_defaults(&def);
	for (i = 0; i < nitems(conf_program_keys); i++) {
		k = &conf_program_keys[i];
		if (k->diff == 0 ||	/* name, above */
		    conf_key_eq(k, p, &def))
			continue;
		h = conf_hash_str(h, k->name);
		if (k->hash != NULL)
			h = k->hash(h, p);
		else if (k->kind == CONF_PATH)
			h = conf_hash_str(h, *(char *const *)((const char *)p +
			    k->off));
		else
			h = conf_hash_u64(h, conf_key_scalar(k, p));
	}
	return h;
}

int
conf_program_diff(const struct conf_program *old,
    const struct conf_program *new, const char **keys, size_t nkeys,
    size_t *nchanged)
{
	const struct conf_key	*k;
	size_t			 i, n = 0;
	int			 flags = 0;

	for (i = 0; i < nitems(conf_program_keys); i++) {
		k = &conf_program_keys[i];
		if (k->diff == 0 || conf_key_eq(k, old, new))
			continue;
		if (keys != NULL && n < nkeys)
			keys[n] = k->name;
		n++;
		flags |= k->diff;
	}
	if (nchanged != NULL)
		*nchanged = n;
	return flags;
}
