/* keys.c: check a group's settings against a key table and store them. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "conf.h"
#include "util.h"

#include "conf_int.h"

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
void
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

/* Keys that take one of a set of strings (struct conf_choice). */

/* Which of the n choices the string setting s names: its index, or -1. */
int
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
int
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
