/* env.c: environment vectors and environment files. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "util.h"

void
env_init(struct env *e)
{
	e->cap = 16;
	e->n = 0;
	e->v = xcalloc(e->cap + 1, sizeof *e->v);
}

void
env_free(struct env *e)
{
	size_t	 i;

	if (e->v == NULL)
		return;
	for (i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

static ssize_t
env_find(const struct env *e, const char *key, size_t klen)
{
	size_t	 i;

	for (i = 0; i < e->n; i++) {
		if (strncmp(e->v[i], key, klen) == 0 && e->v[i][klen] == '=')
			return (ssize_t)i;
	}
	return -1;
}

static void
env_store(struct env *e, size_t klen, char *entry)
{
	ssize_t	 i = env_find(e, entry, klen);

	if (i >= 0) {
		free(e->v[i]);
		e->v[i] = entry;
		return;
	}
	if (e->n == e->cap) {
		e->cap *= 2;
		e->v = xreallocarray(e->v, e->cap + 1, sizeof *e->v);
	}
	e->v[e->n++] = entry;
	e->v[e->n] = NULL;
}

void
env_set(struct env *e, const char *key, const char *value)
{
	char	*entry;

	xasprintf(&entry, "%s=%s", key, value);
	env_store(e, strlen(key), entry);
}

int
env_put(struct env *e, const char *kv)
{
	const char	*eq = strchr(kv, '=');

	if (eq == NULL || eq == kv)
		return -1;
	env_store(e, (size_t)(eq - kv), xstrdup(kv));
	return 0;
}

void
env_import(struct env *e, char *const *vec)
{
	for (; vec != NULL && *vec != NULL; vec++)
		(void)env_put(e, *vec);
}

void
env_unset(struct env *e, const char *key)
{
	ssize_t	 i = env_find(e, key, strlen(key));

	if (i < 0)
		return;
	free(e->v[i]);
	memmove(&e->v[i], &e->v[i + 1], (e->n - (size_t)i) * sizeof *e->v);
	e->n--;
}

const char *
env_get(const struct env *e, const char *key)
{
	size_t	 klen = strlen(key);
	ssize_t	 i = env_find(e, key, klen);

	return i >= 0 ? e->v[i] + klen + 1 : NULL;
}

int
env_valid_key(const char *k, size_t len)
{
	size_t	 i;

	if (len == 0 || (!isalpha((unsigned char)k[0]) && k[0] != '_'))
		return 0;
	for (i = 1; i < len; i++) {
		if (!isalnum((unsigned char)k[i]) && k[i] != '_')
			return 0;
	}
	return 1;
}

/* Unquote a value in place-independent fashion; returns a new string. */
static char *
env_unquote(const char *p, size_t len)
{
	char	*out, *o;
	size_t	 i;

	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	if (len >= 2 && p[0] == '\'' && p[len - 1] == '\'')
		return xstrndup(p + 1, len - 2);
	if (len < 2 || p[0] != '"' || p[len - 1] != '"')
		return xstrndup(p, len);
	o = out = xmalloc(len);
	for (i = 1; i < len - 1; i++) {
		if (p[i] == '\\' && i + 1 < len - 1) {
			i++;
			*o++ = p[i] == 'n' ? '\n' : p[i];
		} else
			*o++ = p[i];
	}
	*o = '\0';
	return out;
}

int
env_parse_file(struct env *e, const char *text, size_t len,
    unsigned *badline)
{
	const char	*p = text, *end = text + len, *nl, *eq, *k, *kend;
	unsigned	 line = 0;
	char		*key, *value;

	while (p < end) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		while (p < nl && isspace((unsigned char)*p))
			p++;
		if (p == nl || *p == '#' || *p == ';') {
			p = nl + 1;
			continue;
		}
		if ((size_t)(nl - p) > 7 && strncmp(p, "export ", 7) == 0)
			p += 7;
		eq = memchr(p, '=', (size_t)(nl - p));
		if (eq == NULL) {
			*badline = line;
			return -1;
		}
		k = p;
		kend = eq;
		while (kend > k && isspace((unsigned char)kend[-1]))
			kend--;
		if (!env_valid_key(k, (size_t)(kend - k))) {
			*badline = line;
			return -1;
		}
		p = eq + 1;
		while (p < nl && (*p == ' ' || *p == '\t'))
			p++;
		key = xstrndup(k, (size_t)(kend - k));
		value = env_unquote(p, (size_t)(nl - p));
		env_set(e, key, value);
		free(key);
		free(value);
		p = nl + 1;
	}
	return 0;
}
