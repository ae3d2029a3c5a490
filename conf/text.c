/*
 * text.c: the text libconfig parses for one config file. Only a bounded
 * regular file of text is read, never blocking on a FIFO or a device. Its
 * @include directives are expanded here as libconfig 1.5's scanner would,
 * because libconfig exits the process when it cannot read an included
 * file (a directory, ""); a map takes every line of the text back to its
 * own file and line. Then the checks made before libconfig sees the text:
 * integers it would wrap, and the bounds that keep its work linear.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf_int.h"
#include "util.h"

/*
 * The states of libconfig's scanner that decide where an @include is. They
 * are flex's start conditions, global to the scanner: a state an included
 * file ends in goes on in the including one.
 */
enum conf_lex {
	CONF_LEX_INITIAL,
	CONF_LEX_COMMENT,	/* in a slash-star comment */
	CONF_LEX_STRING,
};

/* The expansion of one top file (the main file or an include_dir one). */
struct conf_expand {
	struct conf_ctx		*ctx;
	struct conf_text	*t;
	enum conf_lex		 state;
	unsigned		 depth;		/* nested @include */
	unsigned		 string_line;	/* where the string began */
	dev_t			 dev[CONF_MAX_DEPTH + 1]; /* files being read */
	ino_t			 ino[CONF_MAX_DEPTH + 1];
	bool			 failed;
};

/* Building the text. */

static void
conf_text_put(struct conf_text *t, const char *p, size_t n)
{
	const char	*nl, *end = p + n;
	size_t		 cap;

	if (t->len + n + 1 > t->cap) {
		for (cap = t->cap == 0 ? 4096 : t->cap; cap < t->len + n + 1;)
			cap *= 2;
		t->buf = xreallocarray(t->buf, cap, 1);
		t->cap = cap;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
	t->buf[t->len] = '\0';
	for (nl = p; (nl = memchr(nl, '\n', (size_t)(end - nl))) != NULL; nl++)
		t->line++;
}

/* From the line the text is on, the lines are src's from line on. */
static void
conf_text_seg(struct conf_text *t, unsigned src, unsigned line)
{
	struct conf_seg	*g;

	if (t->nsegs > 0 && t->segs[t->nsegs - 1].first == t->line)
		g = &t->segs[t->nsegs - 1];
	else {
		if (t->nsegs == t->capsegs) {
			t->capsegs = t->capsegs == 0 ? 16 : t->capsegs * 2;
			t->segs = xreallocarray(t->segs, t->capsegs,
			    sizeof *t->segs);
		}
		g = &t->segs[t->nsegs++];
	}
	g->first = t->line;
	g->src = src;
	g->line = line;
}

/* A new file in the text; dir is taken over. */
static unsigned
conf_text_src(struct conf_text *t, const char *name, char *dir)
{
	struct conf_src	*s;

	if (t->nsrcs == t->capsrcs) {
		t->capsrcs = t->capsrcs == 0 ? 4 : t->capsrcs * 2;
		t->srcs = xreallocarray(t->srcs, t->capsrcs, sizeof *t->srcs);
	}
	s = &t->srcs[t->nsrcs];
	s->name = xstrdup(name);
	s->dir = dir;
	s->file = NULL;
	return (unsigned)t->nsrcs++;
}

void
conf_text_clear(struct conf_text *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nsrcs; i++) {
		free(t->srcs[i].name);
		free(t->srcs[i].dir);
	}
	free(t->srcs);
	free(t->segs);
	free(t->buf);
	memset(t, 0, sizeof *t);
}

struct conf_src *
conf_text_where(const struct conf_text *t, unsigned line, unsigned *srcline)
{
	const struct conf_seg	*g;
	size_t			 lo = 0, hi, mid;

	*srcline = 0;
	if (t == NULL || t->nsegs == 0 || line == 0)
		return NULL;
	/* The last segment that starts at or before line. */
	for (hi = t->nsegs; hi - lo > 1;) {
		mid = lo + (hi - lo) / 2;
		if (t->segs[mid].first <= line)
			lo = mid;
		else
			hi = mid;
	}
	g = &t->segs[lo];
	*srcline = g->line + (line - g->first);
	return &t->srcs[g->src];
}

/* Reading files. */

/* What a file that is not a regular one is, for errors. */
static const char *
conf_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "a special file";
}

/* May st be read as a config file? 0, or -1 with why. */
static int
conf_readable(const struct stat *st, char *why, size_t whylen)
{
	if (S_ISDIR(st->st_mode))
		snprintf(why, whylen, "%s", strerror(EISDIR));
	else if (!S_ISREG(st->st_mode))
		snprintf(why, whylen, "%s, not a regular file",
		    conf_kind(st->st_mode));
	else if (st->st_size > CONF_MAX_FILE)
		snprintf(why, whylen, "%s (more than %d MiB)", strerror(EFBIG),
		    CONF_MAX_FILE / (1024 * 1024));
	else
		return 0;
	return -1;
}

/*
 * Anything but a regular file is refused before it is opened (a FIFO would
 * wait for a writer, a device may act on open), and again once it is open,
 * in case it was replaced in between.
 */
int
conf_read(const char *path, struct stat *st, char **bufp, size_t *lenp,
    char *why, size_t whylen)
{
	char	*buf = NULL;
	size_t	 len = 0, cap;
	ssize_t	 n;
	int	 fd;

	*bufp = NULL;
	*lenp = 0;
	if (stat(path, st) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (conf_readable(st, why, whylen) != 0)
		return -1;
	if ((fd = open(path, O_RDONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC)) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1) {
		snprintf(why, whylen, "%s", strerror(errno));
		goto fail;
	}
	if (conf_readable(st, why, whylen) != 0)
		goto fail;
	/* To the end, one byte past the bound: a file may grow, and some
	   (in /proc) say they have no size. */
	cap = (size_t)st->st_size + 1;
	buf = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap > CONF_MAX_FILE) {
				snprintf(why, whylen, "%s (more than %d MiB)",
				    strerror(EFBIG), CONF_MAX_FILE /
				    (1024 * 1024));
				goto fail;
			}
			cap = cap > (CONF_MAX_FILE + 1) / 2 ?
			    CONF_MAX_FILE + 1 : cap * 2;
			buf = xreallocarray(buf, cap + 1, 1);
		}
		if ((n = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "%s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;

fail:
	free(buf);
	close(fd);
	return -1;
}

/* A NUL would end libconfig's text there, hiding the rest. */
static int
conf_check_nul(struct conf_ctx *ctx, const char *name, const char *buf,
    size_t len)
{
	const char	*nul, *p;
	unsigned	 line = 1;

	if ((nul = memchr(buf, '\0', len)) == NULL)
		return 0;
	for (p = buf; (p = memchr(p, '\n', (size_t)(nul - p))) != NULL; p++)
		line++;
	conf_error_at(ctx, name, line, "NUL byte: a configuration file is "
	    "text");
	return -1;
}

/* Count a file against the load's bounds; why says which one is passed. */
static int
conf_count_file(struct conf_ctx *ctx, size_t len, char *why, size_t whylen)
{
	if (ctx->load->files >= CONF_MAX_FILES) {
		snprintf(why, whylen, "more than %d files in the "
		    "configuration", CONF_MAX_FILES);
		return -1;
	}
	if (len > CONF_MAX_TEXT - ctx->load->bytes) {
		snprintf(why, whylen, "the configuration would be more than "
		    "%d MiB in all", CONF_MAX_TEXT / (1024 * 1024));
		return -1;
	}
	ctx->load->files++;
	ctx->load->bytes += len;
	return 0;
}

/* @include. */

/*
 * If p, at the start of a line in libconfig's INITIAL state, begins an
 * @include (its rule: ^[ \t]*@include[ \t]+\"), where the file name
 * starts; else NULL.
 */
static const char *
conf_directive(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 10 || memcmp(p, "@include", 8) != 0)
		return NULL;
	p += 8;
	if (*p != ' ' && *p != '\t')
		return NULL;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p != '"')
		return NULL;
	return p + 1;
}

/*
 * The file name of an @include, from just after its opening quote, read
 * as libconfig does: \\ and \" are escapes, any other backslash is
 * dropped (libconfig echoes it to stdout), newlines are kept. Written to
 * out unless NULL; returns its length. *endp is just past the closing
 * quote (NULL if there is none), *nl the newlines before it.
 */
static size_t
conf_include_name(const char *p, const char *end, char *out,
    const char **endp, unsigned *nl)
{
	size_t	 n = 0;

	*endp = NULL;
	*nl = 0;
	for (; p < end; p++) {
		if (*p == '"') {
			*endp = p + 1;
			break;
		}
		if (*p == '\\') {
			if (p + 1 == end || (p[1] != '\\' && p[1] != '"'))
				continue;
			p++;
		}
		*nl += *p == '\n';
		if (out != NULL)
			out[n] = *p;
		n++;
	}
	return n;
}

static void	conf_expand_file(struct conf_expand *, unsigned, const char *,
		    size_t);

/* The @include of name at line of file from: its text goes in here. */
static void
conf_include(struct conf_expand *x, unsigned from, unsigned line,
    const char *name)
{
	struct conf_ctx		*ctx = x->ctx;
	struct conf_text	*t = x->t;
	struct stat		 st;
	const char		*inc = t->srcs[from].name;
	char			 why[128], *path, *abs, *buf;
	size_t			 len;
	unsigned		 i, src;

	if (*name == '\0') {
		conf_error_at(ctx, inc, line, "@include \"\": no file name");
		goto fail;
	}
	if (x->depth == CONF_MAX_DEPTH) {
		conf_error_at(ctx, inc, line, "@include \"%s\": more than %d "
		    "nested @include", name, CONF_MAX_DEPTH);
		goto fail;
	}
	/* As libconfig, a relative name is from the top file's directory,
	   also in an included file. */
	path = *name == '/' ? xstrdup(name) : conf_join(ctx->dir, name);
	if (conf_read(path, &st, &buf, &len, why, sizeof why) == -1) {
		conf_error_at(ctx, inc, line, "@include \"%s\": %s", name, why);
		free(path);
		goto fail;
	}
	free(path);
	for (i = 0; i <= x->depth; i++) {
		if (x->dev[i] == st.st_dev && x->ino[i] == st.st_ino) {
			conf_error_at(ctx, inc, line, "@include \"%s\": a loop "
			    "(that file is already being read)", name);
			free(buf);
			goto fail;
		}
	}
	if (conf_count_file(ctx, len, why, sizeof why) == -1) {
		conf_error_at(ctx, inc, line, "@include \"%s\": %s", name, why);
		free(buf);
		goto fail;
	}
	abs = conf_absolute(ctx->dir, name);
	src = conf_text_src(t, name, conf_dirname(abs));
	free(abs);
	if (conf_check_nul(ctx, name, buf, len) == -1) {
		free(buf);
		goto fail;
	}

	x->depth++;
	x->dev[x->depth] = st.st_dev;
	x->ino[x->depth] = st.st_ino;
	conf_expand_file(x, src, buf, len);
	x->depth--;
	free(buf);
	/* libconfig would go on with the string in the including file. */
	if (x->state == CONF_LEX_STRING) {
		conf_error_at(ctx, name, x->string_line, "the file ends inside "
		    "a string");
		x->state = CONF_LEX_INITIAL;
		goto fail;
	}
	/* The including file goes on from a line of its own. */
	if (t->len > 0 && t->buf[t->len - 1] != '\n')
		conf_text_put(t, "\n", 1);
	return;

fail:
	x->failed = true;
}

/*
 * Copy a file's text, with its @include directives expanded, following
 * the scanner's state to know where one is.
 */
static void
conf_expand_file(struct conf_expand *x, unsigned src, const char *buf,
    size_t len)
{
	struct conf_text	*t = x->t;
	const char		*p = buf, *end = buf + len, *run = buf, *q;
	const char		*after;
	char			*name;
	unsigned		 line = 1, nl;
	size_t			 n;

	conf_text_seg(t, src, 1);
	while (p < end) {
		if (x->state == CONF_LEX_INITIAL && (p == buf ||
		    p[-1] == '\n') && (q = conf_directive(p, end)) != NULL) {
			conf_text_put(t, run, (size_t)(p - run));
			n = conf_include_name(q, end, NULL, &after, &nl);
			if (after == NULL) {
				conf_error_at(x->ctx, t->srcs[src].name, line,
				    "@include: no closing quote");
				x->failed = true;
				return;
			}
			name = xmalloc(n + 1);
			conf_include_name(q, end, name, &after, &nl);
			name[n] = '\0';
			/* libconfig's line: the closing quote's. */
			line += nl;
			conf_include(x, src, line, name);
			free(name);
			/*
			 * The rest of the line is this file's again. It does
			 * not start a line in the file, nor must it in the
			 * text: \f is space to libconfig but not [ \t].
			 */
			conf_text_seg(t, src, line);
			conf_text_put(t, "\f", 1);
			p = run = after;
			continue;
		}
		switch (x->state) {
		case CONF_LEX_INITIAL:
			if (*p == '"') {
				x->state = CONF_LEX_STRING;
				x->string_line = line;
			} else if (*p == '#' || (*p == '/' && p + 1 < end &&
			    p[1] == '/')) {
				/* To the newline, counted below. */
				if ((q = memchr(p, '\n', (size_t)(end - p))) ==
				    NULL)
					q = end;
				p = q;
				continue;
			} else if (*p == '/' && p + 1 < end && p[1] == '*') {
				x->state = CONF_LEX_COMMENT;
				p++;
			}
			break;
		case CONF_LEX_COMMENT:
			if (*p == '*' && p + 1 < end && p[1] == '/') {
				x->state = CONF_LEX_INITIAL;
				p++;
			}
			break;
		case CONF_LEX_STRING:
			if (*p == '\\' && p + 1 < end && (p[1] == '"' ||
			    p[1] == '\\'))
				p++;
			else if (*p == '"')
				x->state = CONF_LEX_INITIAL;
			break;
		}
		line += *p == '\n';
		p++;
	}
	conf_text_put(t, run, (size_t)(end - run));
}

/* The text of a top file's contents, named name (dev, ino: the file's). */
static int
conf_text_top(struct conf_ctx *ctx, struct conf_text *t, const char *name,
    const char *buf, size_t len, dev_t dev, ino_t ino)
{
	struct conf_expand	 x;

	memset(&x, 0, sizeof x);
	x.ctx = ctx;
	x.t = t;
	x.dev[0] = dev;
	x.ino[0] = ino;
	conf_text_src(t, name, xstrdup(ctx->dir));
	conf_expand_file(&x, 0, buf, len);
	if (t->buf == NULL)
		conf_text_put(t, "", 0);
	return x.failed ? -1 : 0;
}

static void
conf_text_init(struct conf_text *t)
{
	memset(t, 0, sizeof *t);
	t->line = 1;
	t->buf = xstrdup("");
	t->cap = 1;
}

int
conf_text_file(struct conf_ctx *ctx, const char *path, const char *name,
    struct conf_text *t)
{
	struct stat	 st;
	char		 why[128], *buf;
	size_t		 len;
	int		 rc;

	conf_text_init(t);
	if (conf_read(path, &st, &buf, &len, why, sizeof why) == -1 ||
	    conf_count_file(ctx, len, why, sizeof why) == -1) {
		conf_error_at(ctx, name, 0, "cannot read: %s", why);
		free(buf);
		return -1;
	}
	if (conf_check_nul(ctx, name, buf, len) == -1) {
		free(buf);
		return -1;
	}
	rc = conf_text_top(ctx, t, name, buf, len, st.st_dev, st.st_ino);
	free(buf);
	return rc;
}

int
conf_text_string(struct conf_ctx *ctx, const char *text, const char *name,
    struct conf_text *t)
{
	char	 why[128];
	size_t	 len = strlen(text);

	conf_text_init(t);
	if (len > CONF_MAX_FILE) {
		conf_error_at(ctx, name, 0, "cannot read: %s (more than %d "
		    "MiB)", strerror(EFBIG), CONF_MAX_FILE / (1024 * 1024));
		return -1;
	}
	if (conf_count_file(ctx, len, why, sizeof why) == -1) {
		conf_error_at(ctx, name, 0, "cannot read: %s", why);
		return -1;
	}
	/* No file: no loop to find through it (no file has inode 0). */
	return conf_text_top(ctx, t, name, text, len, 0, 0);
}

/* Checks before libconfig. */

/* Report at a line of the text, in its own file's terms. */
static void
conf_text_report(struct conf_ctx *ctx, const struct conf_text *t,
    unsigned line, const char *msg)
{
	const struct conf_src	*src;
	unsigned		 l;

	if ((src = conf_text_where(t, line, &l)) == NULL)
		conf_error_at(ctx, ctx->file, line, "%s", msg);
	else
		conf_error_at(ctx, src->name, l, "%s", msg);
}

/* A group, list or array open at some point of the text. */
struct conf_open {
	char		 close;		/* '}', ')' or ']' */
	unsigned	 members;	/* a group's settings so far */
};

/*
 * libconfig 1.5 keeps integers without an L suffix in 32 bits and
 * silently wraps bigger ones: find literals that do not fit. Count the
 * settings as libconfig will make them (a name in a group, a value in a
 * list or an array), and stop before one passes a bound.
 */
int
conf_text_scan(struct conf_ctx *ctx, const struct conf_text *t)
{
	struct conf_open	*open = NULL;
	const char		*p, *start;
	char			 msg[128];
	unsigned		 line = 1, root = 0, *members;
	size_t			 depth = 0, cap = 0, settings = 0, len;
	long long		 v;
	bool			 hex, l, name, list, value;
	bool			 string = false, after_string;
	int			 rc = 0;

	for (p = t->buf; *p != '\0'; p++) {
		if (*p == '\n') {
			line++;
			continue;
		}
		if (isspace((unsigned char)*p))
			continue;
		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			p += strcspn(p, "\n") - 1;
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && (p[0] != '*' || p[1] != '/');
			    p++)
				line += *p == '\n';
			if (*p++ == '\0')
				break;
			continue;
		}

		list = depth > 0 && open[depth - 1].close != '}';
		name = value = false;
		after_string = string;
		string = *p == '"';
		if (*p == '"') {
			/* Adjacent strings are one value. */
			value = !after_string;
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				line += *p == '\n';
			}
			if (*p == '\0')
				p--;
		} else if (isalpha((unsigned char)*p) || *p == '*') {
			start = p;
			while (isalnum((unsigned char)p[1]) || p[1] == '-' ||
			    p[1] == '_' || p[1] == '*')
				p++;
			len = (size_t)(p - start) + 1;
			if ((len == 4 && strncasecmp(start, "true", 4) == 0) ||
			    (len == 5 && strncasecmp(start, "false", 5) == 0))
				value = true;
			else
				name = true;
		} else if (isdigit((unsigned char)*p) || (*p == '.' &&
		    isdigit((unsigned char)p[1])) || ((*p == '-' ||
		    *p == '+') && isdigit((unsigned char)p[1]))) {
			value = true;
			start = p;
			p += *p == '-' || *p == '+';
			hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
			p += hex ? 2 + strspn(p + 2, "0123456789abcdefABCDEF") :
			    strspn(p, "0123456789");
			if (!hex && (*p == '.' || *p == 'e' || *p == 'E')) {
				/* A float: skip it whole. */
				p += strspn(p, ".0123456789eE");
				if ((*p == '-' || *p == '+') &&
				    (p[-1] == 'e' || p[-1] == 'E'))
					p += 1 + strspn(p + 1, "0123456789");
				p--;
			} else {
				if ((l = *p == 'L'))
					p += p[1] == 'L';
				errno = 0;
				v = strtoll(start, NULL, hex ? 16 : 10);
				if (errno == ERANGE || (!l && (v < INT_MIN ||
				    v > INT_MAX))) {
					snprintf(msg, sizeof msg, "integer "
					    "%.*s is out of range",
					    (int)(p - start + l), start);
					conf_text_report(ctx, t, line, msg);
				}
				p -= !l;
			}
		} else if (*p == '{' || *p == '(' || *p == '[') {
			value = true;
			if (depth == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				open = xreallocarray(open, cap, sizeof *open);
			}
			open[depth].close = *p == '{' ? '}' : *p == '(' ?
			    ')' : ']';
			open[depth++].members = 0;
		} else if (depth > 0 && *p == open[depth - 1].close)
			depth--;

		/* A name in a group or a value in a list is a setting. */
		if ((name && !list) || (value && list))
			settings++;
		members = depth > 0 ? &open[depth - 1].members : &root;
		if (name && !list && ++*members > CONF_MAX_MEMBERS) {
			snprintf(msg, sizeof msg, "more than %d settings %s",
			    CONF_MAX_MEMBERS, depth == 0 ? "at the top level" :
			    "in one group");
			conf_text_report(ctx, t, line, msg);
			rc = -1;
			break;
		}
		if (settings > CONF_MAX_SETTINGS - ctx->load->settings) {
			snprintf(msg, sizeof msg, "more than %d settings in "
			    "the configuration", CONF_MAX_SETTINGS);
			conf_text_report(ctx, t, line, msg);
			rc = -1;
			break;
		}
	}
	ctx->load->settings += settings;
	free(open);
	return rc;
}
