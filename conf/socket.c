/*
 * socket.c: the control socket a config file names, for tendctl -c. Only
 * that one setting matters, so a mistake elsewhere in the file (an
 * unknown key, a bad value, a bad program, even a syntax error) must not
 * keep tendctl from reaching tendd; but a socket that cannot be known for
 * sure is an error, never a guess at another tendd's.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "conf.h"
#include "util.h"

#include "conf_int.h"

/* A token of the lexical scan, used when libconfig cannot parse. */
enum conf_tok {
	CONF_TOK_END,
	CONF_TOK_NAME,
	CONF_TOK_STRING,
	CONF_TOK_OTHER,		/* a number, a punctuation mark, garbage */
};

struct conf_lex {
	const char	*p;
	unsigned	 line;
	const char	*start;		/* the token's text */
	size_t		 len;
	unsigned	 tline;		/* its line */
};

/* The next token, past white space and comments, as libconfig's scanner
   splits them. */
static enum conf_tok
conf_lex_next(struct conf_lex *l)
{
	const char	*p = l->p;

	for (;;) {
		if (*p == '\n')
			l->line++;
		else if (*p == '#' || (p[0] == '/' && p[1] == '/'))
			p += strcspn(p, "\n") - 1;
		else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && (p[0] != '*' || p[1] != '/');
			    p++)
				l->line += *p == '\n';
			if (*p == '\0')
				break;
			p++;
		} else if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\f')
			break;
		p++;
	}
	l->start = p;
	l->tline = l->line;
	if (*p == '\0') {
		l->p = p;
		l->len = 0;
		return CONF_TOK_END;
	}
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			l->line += *p == '\n';
		}
		p += *p == '"';
		l->p = p;
		l->len = (size_t)(p - l->start);
		return CONF_TOK_STRING;
	}
	if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
	    *p == '*') {
		p += 1 + strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_*");
		l->p = p;
		l->len = (size_t)(p - l->start);
		return CONF_TOK_NAME;
	}
	l->p = p + 1;
	l->len = 1;
	return CONF_TOK_OTHER;
}

static bool
conf_lex_is(const struct conf_lex *l, enum conf_tok tok, const char *s)
{
	return tok != CONF_TOK_END && l->len == strlen(s) &&
	    memcmp(l->start, s, l->len) == 0;
}

/* Append a string token's value, with libconfig's escapes. */
static void
conf_lex_string(const struct conf_lex *l, char **buf, size_t *len)
{
	const char	*p = l->start + 1, *end = l->start + l->len - 1;
	char		*out;

	*buf = xreallocarray(*buf, *len + l->len + 1, 1);
	out = *buf + *len;
	for (; p < end; p++) {
		if (*p != '\\' || p + 1 == end)
			*out++ = *p;
		else if (strchr("nrtf\\\"", p[1]) != NULL) {
			p++;
			*out++ = *p == 'n' ? '\n' : *p == 'r' ? '\r' :
			    *p == 't' ? '\t' : *p == 'f' ? '\f' : *p;
		} else if ((p[1] == 'x' || p[1] == 'X') && end - p >= 4 &&
		    strspn(p + 2, "0123456789abcdefABCDEF") >= 2) {
			*out++ = (char)((p[2] <= '9' ? p[2] - '0' :
			    (p[2] | 0x20) - 'a' + 10) * 16 + (p[3] <= '9' ?
			    p[3] - '0' : (p[3] | 0x20) - 'a' + 10));
			p += 3;
		} else
			*out++ = *p;
	}
	*len = (size_t)(out - *buf);
	(*buf)[*len] = '\0';
}

/*
 * Without libconfig: the one `socket = "..."` directly in a `supervisor`
 * group at the top level. 0 with *socket, or -1 after an error saying
 * why libconfig could not tell. If there is none, the default socket is
 * right only if nothing could hide one: the text is whole and does not
 * hold the word "socket" anywhere.
 */
static int
conf_socket_scan(struct conf_ctx *ctx, const struct conf_text *t,
    bool whole, char **socket, const char *why)
{
	struct conf_lex		 l = { t->buf, 1, NULL, 0, 0 };
	const struct conf_src	*src;
	enum conf_tok		 tok;
	char			*value = NULL, *found = NULL;
	size_t			 depth = 0, sup = 0, len, n = 0;
	unsigned		 line, at = 0, name;
	bool			 broken = false, again = false;

	for (;;) {
		/* A token read ahead that did not fit is taken again. */
		if (!again)
			tok = conf_lex_next(&l);
		again = false;
		if (tok == CONF_TOK_END)
			break;
		if (tok == CONF_TOK_OTHER && strchr("{([", *l.start) != NULL)
			depth++;
		else if (tok == CONF_TOK_OTHER && strchr("})]", *l.start) !=
		    NULL) {
			/* Too many closed: where things are is unknown. */
			if (depth == 0)
				broken = true;
			else if (--depth < sup)
				sup = 0;
		} else if (depth == 0 && !broken &&
		    conf_lex_is(&l, tok, "supervisor")) {
			tok = conf_lex_next(&l);
			if (conf_lex_is(&l, tok, "=") ||
			    conf_lex_is(&l, tok, ":")) {
				tok = conf_lex_next(&l);
				if (conf_lex_is(&l, tok, "{")) {
					sup = ++depth;
					continue;
				}
			}
			again = true;
		} else if (sup != 0 && depth == sup && !broken &&
		    conf_lex_is(&l, tok, "socket")) {
			name = l.tline;
			tok = conf_lex_next(&l);
			again = true;
			if (!conf_lex_is(&l, tok, "=") &&
			    !conf_lex_is(&l, tok, ":"))
				continue;
			len = 0;
			while ((tok = conf_lex_next(&l)) == CONF_TOK_STRING)
				conf_lex_string(&l, &value, &len);
			if (len == 0 || !(conf_lex_is(&l, tok, ";") ||
			    conf_lex_is(&l, tok, ",") ||
			    conf_lex_is(&l, tok, "}")))
				continue;
			free(found);
			found = value;
			value = NULL;
			at = name;
			n++;
		}
	}
	free(value);
	if (n == 1) {
		src = conf_text_where(t, at, &line);
		*socket = conf_absolute(src != NULL ? src->dir : ctx->dir,
		    found);
		free(found);
		return 0;
	}
	free(found);
	if (n == 0 && whole && strstr(t->buf, "socket") == NULL) {
		*socket = conf_default_socket();
		return 0;
	}
	conf_error_at(ctx, NULL, 0, "cannot tell which socket %s names (%s);"
	    " name it with -s SOCKET", ctx->file, n > 1 ? "socket is set "
	    "more than once" : why);
	return -1;
}

/*
 * With libconfig: supervisor.socket, or the default. 0 with *socket, -1
 * after an error, or 1 if libconfig cannot parse the text (*why says).
 */
static int
conf_socket_parse(struct conf_ctx *ctx, const struct conf_text *t,
    char **socket, char **why)
{
	const struct conf_src	*src;
	config_t		 cfg;
	config_setting_t	*sup, *s;
	const char		*v;
	unsigned		 line;
	int			 rc = 0;

	config_init(&cfg);
	config_set_options(&cfg, 0);
	/* As in conf.c: no @include is left, and none could be read. */
	config_set_include_dir(&cfg, "/dev/null");
	if (config_read_string(&cfg, t->buf) != CONFIG_TRUE) {
		src = conf_text_where(t, (unsigned)config_error_line(&cfg),
		    &line);
		xasprintf(why, "%s:%u: %s", src != NULL ? src->name :
		    ctx->file, line, config_error_text(&cfg));
		config_destroy(&cfg);
		return 1;
	}
	sup = config_setting_get_member(config_root_setting(&cfg),
	    "supervisor");
	if (sup != NULL && !config_setting_is_group(sup)) {
		conf_err(ctx, sup, "supervisor must be a group { ... } "
		    "(got %s)", conf_type_name(sup));
		rc = -1;
	} else if (sup != NULL &&
	    (s = config_setting_get_member(sup, "socket")) != NULL) {
		if (conf_get_string(ctx, s, &v) == 0)
			*socket = conf_setting_path(ctx, s, v);
		else
			rc = -1;
	} else
		*socket = conf_default_socket();
	config_destroy(&cfg);
	return rc;
}

int
conf_socket(const char *path, char **socket, char **err)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf_load	 load;
	struct conf_text	 t;
	struct conf_ctx		 ctx;
	char			*abspath, *dir, *why = NULL;
	int			 rc = -1, read;

	*socket = *err = NULL;
	if ((abspath = conf_cwd_absolute(path)) == NULL) {
		xasprintf(err, "%s: cannot get the working directory: %s",
		    path, strerror(errno));
		return -1;
	}
	dir = conf_dirname(abspath);
	memset(&load, 0, sizeof load);
	memset(&ctx, 0, sizeof ctx);
	ctx.errs = &errs;
	ctx.load = &load;
	ctx.file = path;
	ctx.dir = dir;

	read = conf_text_file(&ctx, abspath, path, &t);
	/* Not even the file itself (missing, a FIFO, a NUL byte...). */
	if (t.nsrcs == 0)
		goto out;
	ctx.text = &t;
	if (read == 0 && conf_text_scan(&ctx, &t) == 0) {
		/* Out-of-range integers do not matter here. */
		conf_errors_clear(&errs);
		rc = conf_socket_parse(&ctx, &t, socket, &why);
	} else {
		/* An @include that failed, or a bound passed: say that. */
		why = conf_error_format(&errs.v[read == -1 ? 0 : errs.n - 1]);
		rc = 1;
	}
	if (rc == 1) {
		conf_errors_clear(&errs);
		rc = conf_socket_scan(&ctx, &t, read == 0, socket, why);
	}

out:
	if (rc == -1 && errs.n > 0)
		*err = conf_error_format(&errs.v[0]);
	else if (rc == -1)
		xasprintf(err, "%s: cannot read the configuration", path);
	conf_errors_clear(&errs);
	conf_text_clear(&t);
	free(why);
	free(dir);
	free(abspath);
	return rc;
}
