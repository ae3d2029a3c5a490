/* output.c: tendctl's aligned tables, with colour only on a terminal. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util.h"

#define OUTPUT_GAP	2	/* spaces between columns */

struct output_cell {
	char			*text;
	enum output_colour	 colour;
	size_t			 coloured;	/* bytes of text in colour */
};

struct output_column {
	char			*name;
	int			 flags;		/* OUTPUT_* */
	size_t			 width;		/* widest cell or the name */
	int			 used;		/* a row has a non-empty cell */
};

struct output_table {
	struct output_column	*cols;
	size_t			 ncols;
	struct output_cell	*cells;		/* nrows * ncols */
	size_t			 nrows;
	size_t			 caprows;	/* rows cells has room for */
	size_t			 ncell;		/* cells set in the last row */
};

static const char *const output_escapes[] = {
	[OUTPUT_PLAIN] = "",
	[OUTPUT_BOLD] = "\033[1m",
	[OUTPUT_GREEN] = "\033[32m",
	[OUTPUT_YELLOW] = "\033[33m",
	[OUTPUT_RED] = "\033[31m",
	[OUTPUT_DIM] = "\033[2m",
};
#define OUTPUT_RESET	"\033[0m"

struct output_table *
output_table_new(void)
{
	return xcalloc(1, sizeof(struct output_table));
}

void
output_table_free(struct output_table *t)
{
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i].text);
	free(t->cols);
	free(t->cells);
	free(t);
}

void
output_table_column(struct output_table *t, const char *name, int flags)
{
	struct output_column	*c;

	if (t->nrows != 0)
		abort();	/* columns must come before rows */
	t->cols = xreallocarray(t->cols, t->ncols + 1, sizeof *t->cols);
	c = &t->cols[t->ncols++];
	c->name = xstrdup(name);
	c->flags = flags;
	c->width = strlen(name);
	c->used = 0;
}

void
output_table_row(struct output_table *t)
{
	size_t	 i, first;

	/* Doubling: status of thousands of instances is one table. */
	if (t->nrows == t->caprows) {
		t->caprows = t->caprows == 0 ? 16 : t->caprows * 2;
		t->cells = xreallocarray(t->cells, t->caprows * t->ncols,
		    sizeof *t->cells);
	}
	first = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++) {
		t->cells[first + i].text = NULL;
		t->cells[first + i].colour = OUTPUT_PLAIN;
		t->cells[first + i].coloured = 0;
	}
	t->nrows++;
	t->ncell = 0;
}

/* Set the next cell of the last row to text, which it takes over. */
static void
output_cell_set(struct output_table *t, enum output_colour colour,
    char *text, size_t coloured)
{
	struct output_cell	*cell;
	struct output_column	*c;
	size_t			 len;

	if (t->nrows == 0 || t->ncell >= t->ncols)
		abort();	/* more cells than columns */
	cell = &t->cells[(t->nrows - 1) * t->ncols + t->ncell];
	c = &t->cols[t->ncell++];
	cell->text = text;
	cell->colour = colour;
	len = strlen(text);
	cell->coloured = coloured < len ? coloured : len;
	if (len > c->width)
		c->width = len;
	if (len != 0)
		c->used = 1;
}

void
output_table_cell(struct output_table *t, enum output_colour colour,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*text, buf[128];
	int	 len;

	/* A table has a cell per instance and column: format on the stack
	   and copy, or just copy a "%s", rather than vasprintf each. */
	va_start(ap, fmt);
	if (strcmp(fmt, "%s") == 0)
		text = xstrdup(va_arg(ap, const char *));
	else if ((len = vsnprintf(buf, sizeof buf, fmt, ap)) >= 0 &&
	    (size_t)len < sizeof buf)
		text = xstrdup(buf);
	else {
		va_end(ap);
		va_start(ap, fmt);
		xvasprintf(&text, fmt, ap);
	}
	va_end(ap);
	output_cell_set(t, colour, text, SIZE_MAX);
}

void
output_table_cell_tail(struct output_table *t, enum output_colour colour,
    const char *text, const char *tail)
{
	char	*s;

	xasprintf(&s, "%s%s", text, tail);
	output_cell_set(t, colour, s, strlen(text));
}

void
output_colour(FILE *f, bool style, enum output_colour colour,
    const char *text)
{
	if (!style || colour == OUTPUT_PLAIN) {
		fputs(text, f);
		return;
	}
	fprintf(f, "%s%s%s", output_escapes[colour], text, OUTPUT_RESET);
}

static int
output_visible(const struct output_column *c)
{
	return !(c->flags & OUTPUT_OPTIONAL) || c->used;
}

/* n spaces: a table of thousands of rows pads every cell, and a
   fprintf("%*s") each was a fifth of tendctl's time for status. */
static void
output_pad(FILE *f, size_t n)
{
	static const char	 spaces[] = "                                ";
	size_t			 k;

	while (n > 0) {
		k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
		fwrite(spaces, 1, k, f);
		n -= k;
	}
}

/* The text of column i on a line: a header name or a cell. */
static const char *
output_text(const struct output_cell *cells, const char *const *names,
    size_t i)
{
	if (names != NULL)
		return names[i];
	return cells[i].text != NULL ? cells[i].text : "";
}

/* A cell: its coloured part, then the rest plain. */
static void
output_cell_print(FILE *f, bool style, const struct output_cell *cell)
{
	if (cell->text == NULL)
		return;
	if (!style || cell->colour == OUTPUT_PLAIN || cell->coloured == 0) {
		fputs(cell->text, f);
		return;
	}
	fprintf(f, "%s%.*s%s%s", output_escapes[cell->colour],
	    (int)cell->coloured, cell->text, OUTPUT_RESET,
	    cell->text + cell->coloured);
}

/*
 * One line. Widths come from the plain text, so escapes never shift the
 * columns; the line ends at its last non-empty cell (no trailing blanks).
 */
static void
output_line(const struct output_table *t, FILE *f, bool style,
    const struct output_cell *cells, const char *const *names)
{
	const struct output_column	*c;
	const char			*text;
	size_t				 i, end = 0, len, pad;
	int				 first = 1;

	for (i = 0; i < t->ncols; i++) {
		if (output_visible(&t->cols[i]) &&
		    *output_text(cells, names, i) != '\0')
			end = i + 1;
	}
	for (i = 0; i < end; i++) {
		c = &t->cols[i];
		if (!output_visible(c))
			continue;
		text = output_text(cells, names, i);
		if (!first)
			output_pad(f, OUTPUT_GAP);
		first = 0;
		len = strlen(text);
		pad = c->width - len;
		if (c->flags & OUTPUT_RIGHT)
			output_pad(f, pad);
		if (names != NULL)
			output_colour(f, style, OUTPUT_BOLD, text);
		else
			output_cell_print(f, style, &cells[i]);
		if (!(c->flags & OUTPUT_RIGHT) && i + 1 != end)
			output_pad(f, pad);
	}
	fputc('\n', f);
}

void
output_table_print(const struct output_table *t, FILE *f, bool style)
{
	const char	**names;
	size_t		  i;

	names = xreallocarray(NULL, t->ncols, sizeof *names);
	for (i = 0; i < t->ncols; i++)
		names[i] = t->cols[i].name;
	output_line(t, f, style, NULL, names);
	free(names);
	for (i = 0; i < t->nrows; i++)
		output_line(t, f, style, &t->cells[i * t->ncols], NULL);
}
