/* errors.c: collect a load's errors, bounded, with their file and line. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "conf.h"
#include "util.h"

#include "conf_int.h"

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
void
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
