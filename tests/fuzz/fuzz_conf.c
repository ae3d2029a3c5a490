/*
 * fuzz_conf.c: the config loader, with its includes. The input is up to
 * five files, separated by lines holding only "%%":
 *
 *   tend.conf  (loaded)   a.conf  b.conf  (for @include)
 *   conf.d/x.conf  conf.d/y.conf  (for include_dir = "conf.d")
 *
 * They are written into a private directory, conf_load() reads tend.conf,
 * and conf_read_string() reads the same text; then every file is removed.
 *
 * Properties: both calls agree (unless tend.conf holds a NUL, which only
 * a file can); a failure comes with at most 100 errors and a count of the
 * rest, each at most 1 KiB, that format; a loaded conf has named,
 * distinct programs with a command; loading writes nothing.
 *
 * The target only writes regular files under names it chose, and refuses
 * inputs that would make tend read outside its directory, which would make
 * what an input does depend on the machine: an @include of anything but
 * those files and the two directories (tend refuses a directory), or an
 * include_dir in tend.conf that is absolute or climbs out with "..". One
 * set by an included file is not seen; tend reads only regular *.conf
 * files there, without blocking.
 */
#include <sys/stat.h>

#include <libconfig.h>

#include "conf.h"
#include "fuzz.h"
#include "util.h"

#define FUZZ_NFILES	5

static const char *const fuzz_names[FUZZ_NFILES] = {
	"tend.conf", "a.conf", "b.conf", "conf.d/x.conf", "conf.d/y.conf",
};
/* What an @include may name: from the top directory or conf.d, each of
   these is one of the files, one of the directories, or nothing. */
static const char *const fuzz_includes[] = {
	"tend.conf", "a.conf", "b.conf", "x.conf", "y.conf",
	"conf.d/x.conf", "conf.d/y.conf", "", ".", "conf.d",
};

static char	*fuzz_dir;
static char	*fuzz_paths[FUZZ_NFILES];
static char	*fuzz_confd;

static void
fuzz_cleanup(void)
{
	size_t	 i;

	if (fuzz_dir == NULL)
		return;
	for (i = 0; i < FUZZ_NFILES; i++)
		unlink(fuzz_paths[i]);
	rmdir(fuzz_confd);
	rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t	 i;

	fuzz_dir = fuzz_mkdtemp("conf");
	for (i = 0; i < FUZZ_NFILES; i++)
		xasprintf(&fuzz_paths[i], "%s/%s", fuzz_dir, fuzz_names[i]);
	xasprintf(&fuzz_confd, "%s/conf.d", fuzz_dir);
	atexit(fuzz_cleanup);
	return 0;
}

/* Cut the input at "%%" lines. Returns the number of files, or -1 for
   too many. */
static int
fuzz_split(const char *p, size_t size, const char **text, size_t *len)
{
	const char	*end = p + size, *line, *nl;
	int		 n = 0;

	text[0] = p;
	for (line = p; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		if (nl - line != 2 || line[0] != '%' || line[1] != '%')
			continue;
		len[n] = (size_t)(line - text[n]);
		if (++n == FUZZ_NFILES)
			return -1;
		text[n] = nl < end ? nl + 1 : end;
	}
	len[n] = (size_t)(end - text[n]);
	return n + 1;
}

/* Every @include names one of fuzz_includes, plainly. */
static int
fuzz_includes_ok(const char *p, size_t len)
{
	const char	*end = p + len, *at, *name, *q;
	size_t		 i;
	int		 ok;

	while ((at = memmem(p, (size_t)(end - p), "@include", 8)) != NULL) {
		q = at + 8;
		if (q == end || (*q != ' ' && *q != '\t'))
			return 0;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q == end || *q++ != '"')
			return 0;
		name = q;
		while (q < end && *q != '"' && *q != '\\')
			q++;
		if (q == end || *q != '"')
			return 0;
		ok = 0;
		for (i = 0; i < sizeof fuzz_includes / sizeof fuzz_includes[0];
		    i++)
			ok |= strlen(fuzz_includes[i]) == (size_t)(q - name) &&
			    memcmp(fuzz_includes[i], name, (size_t)(q - name)) ==
			    0;
		if (!ok)
			return 0;
		p = q;
	}
	return 1;
}

/*
 * The include_dir tend.conf sets (read by libconfig, as conf.c reads it)
 * stays in the directory. Its @include directives are blanked out first
 * (fuzz_includes_ok let only @include "NAME" through): libconfig 1.5
 * would exit on one of a directory. If libconfig cannot parse the rest,
 * neither can conf.c, and no include_dir is read.
 */
static int
fuzz_include_dir_ok(const char *text)
{
	config_t	 cfg;
	const char	*v, *p;
	char		*copy, *at;
	int		 ok = 1, quotes;

	copy = xstrdup(text);
	for (at = copy; (at = strstr(at, "@include")) != NULL; at++) {
		/* Up to the name's closing quote: the second. */
		for (quotes = 0; *at != '\0' && quotes < 2; at++) {
			quotes += *at == '"';
			*at = ' ';
		}
		at--;
	}
	config_init(&cfg);
	config_set_include_dir(&cfg, "/dev/null");
	if (config_read_string(&cfg, copy) == CONFIG_TRUE &&
	    config_lookup_string(&cfg, "supervisor.include_dir", &v) ==
	    CONFIG_TRUE) {
		if (v[0] == '/')
			ok = 0;
		for (p = v; ok && (p = strstr(p, "..")) != NULL; p += 2)
			ok = !((p == v || p[-1] == '/') &&
			    (p[2] == '\0' || p[2] == '/'));
	}
	config_destroy(&cfg);
	free(copy);
	return ok;
}

static void
fuzz_check_errors(const struct conf_errors *errs)
{
	char	*s;
	size_t	 i;

	FUZZ_CHECK(errs->n > 0 && errs->n <= 101);
	for (i = 0; i < errs->n; i++) {
		FUZZ_CHECK(errs->v[i].msg != NULL);
		FUZZ_CHECK(strlen(errs->v[i].msg) <= 1024);
		s = conf_error_format(&errs->v[i]);
		FUZZ_CHECK(s != NULL && *s != '\0');
		free(s);
	}
}

static void
fuzz_check_conf(const struct conf *c)
{
	const struct conf_program	*p;
	const char			*keys[64];
	size_t				 i, n;

	FUZZ_CHECK(c->socket != NULL && c->state_dir != NULL &&
	    c->log_dir != NULL);
	for (i = 0; i < c->nprograms; i++) {
		p = c->programs[i];
		FUZZ_CHECK(p->name != NULL && util_valid_name(p->name));
		FUZZ_CHECK(conf_find(c, p->name) == p);
		FUZZ_CHECK(p->argc >= 1 && p->argv != NULL &&
		    p->argv[p->argc] == NULL && p->argv[0] != NULL);
		FUZZ_CHECK(p->instances >= 1);
		FUZZ_CHECK(p->file != NULL && p->log_file != NULL);
		FUZZ_CHECK(conf_program_hash(p) == conf_program_hash(p));
		FUZZ_CHECK(conf_program_diff(p, p, keys, 64, &n) == 0 &&
		    n == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errors	 errs = { NULL, 0 }, errs2 = { NULL, 0 };
	struct conf		*c, *c2;
	const char		*text[FUZZ_NFILES];
	size_t			 len[FUZZ_NFILES];
	char			*main_text;
	int			 i, n;

	if ((n = fuzz_split((const char *)data, size, text, len)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (!fuzz_includes_ok(text[i], len[i]))
			return -1;
	}
	/* What a string can hold of it: up to a NUL. */
	main_text = xstrndup(text[0], len[0]);
	if (!fuzz_include_dir_ok(main_text)) {
		free(main_text);
		return -1;
	}

	FUZZ_CHECK(mkdir(fuzz_confd, 0700) == 0);
	for (i = 0; i < n; i++)
		fuzz_write_file(fuzz_paths[i], text[i], len[i]);

	c = conf_load(fuzz_paths[0], &errs);
	c2 = conf_read_string(main_text, fuzz_names[0], fuzz_dir, &errs2);
	if (strlen(main_text) != len[0])
		FUZZ_CHECK(c == NULL);
	else
		FUZZ_CHECK((c == NULL) == (c2 == NULL));
	if (c == NULL)
		fuzz_check_errors(&errs);
	else {
		FUZZ_CHECK(errs.n == 0);
		FUZZ_CHECK(c->nprograms == c2->nprograms);
		fuzz_check_conf(c);
	}
	if (c2 == NULL)
		fuzz_check_errors(&errs2);
	conf_unref(c);
	conf_unref(c2);
	conf_errors_clear(&errs);
	conf_errors_clear(&errs2);
	free(main_text);

	for (i = 0; i < n; i++)
		FUZZ_CHECK(unlink(fuzz_paths[i]) == 0);
	/* Nothing else was written: both directories are empty again. */
	FUZZ_CHECK(rmdir(fuzz_confd) == 0);
	FUZZ_CHECK(rmdir(fuzz_dir) == 0 && mkdir(fuzz_dir, 0700) == 0);
	return 0;
}
