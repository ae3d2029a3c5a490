/*
 * fuzz_envfile.c: environment_file contents (env_parse_file), which
 * tendd reads at every start of a program that names one.
 *
 * Properties: a rejected file names a line it has; an accepted one gives
 * distinct KEY=value entries with valid keys, and writing them out
 * double-quoted and parsing that again gives the same environment.
 */
#include "env.h"
#include "fuzz.h"
#include "util.h"

/* KEY="value" lines, escaped as env_parse_file reads them. */
static char *
fuzz_write(const struct env *e, size_t *lenp)
{
	const char	*p;
	char		*out, *o;
	size_t		 i, size = 1;

	for (i = 0; i < e->n; i++)
		size += 2 * strlen(e->v[i]) + 4;
	o = out = xmalloc(size);
	for (i = 0; i < e->n; i++) {
		for (p = e->v[i]; *p != '='; p++)
			*o++ = *p;
		*o++ = '=';
		*o++ = '"';
		for (p++; *p != '\0'; p++) {
			if (*p == '\n') {
				*o++ = '\\';
				*o++ = 'n';
				continue;
			}
			if (*p == '"' || *p == '\\')
				*o++ = '\\';
			*o++ = *p;
		}
		*o++ = '"';
		*o++ = '\n';
	}
	*o = '\0';
	*lenp = (size_t)(o - out);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*text = (const char *)data, *eq;
	struct env	 e, again;
	unsigned	 bad = 0, lines;
	size_t		 i, j, len;
	char		*out;
	int		 rc;

	env_init(&e);
	rc = env_parse_file(&e, text, size, &bad);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(e.v[e.n] == NULL);
	if (rc == -1) {
		/* A line the file has: one more than its newlines before
		   the end. */
		lines = 1;
		for (i = 0; i + 1 < size; i++)
			lines += text[i] == '\n';
		FUZZ_CHECK(bad >= 1 && bad <= lines);
		env_free(&e);
		return 0;
	}
	for (i = 0; i < e.n; i++) {
		FUZZ_CHECK((eq = strchr(e.v[i], '=')) != NULL);
		FUZZ_CHECK(env_valid_key(e.v[i], (size_t)(eq - e.v[i])));
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strncmp(e.v[i], e.v[j],
			    (size_t)(eq - e.v[i]) + 1) != 0);
	}

	out = fuzz_write(&e, &len);
	env_init(&again);
	FUZZ_CHECK(env_parse_file(&again, out, len, &bad) == 0);
	FUZZ_CHECK(again.n == e.n);
	for (i = 0; i < e.n && i < again.n; i++)
		FUZZ_CHECK(strcmp(e.v[i], again.v[i]) == 0);
	env_free(&again);
	free(out);
	env_free(&e);
	return 0;
}
