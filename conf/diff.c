/* diff.c: compare and fingerprint programs key by key, for reload's diff
 * and conf_program_hash(). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "conf.h"

#include "conf_int.h"

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

bool
conf_eq_command(const struct conf_program *a, const struct conf_program *b)
{
	return a->shell == b->shell &&
	    conf_strv_eq(a->argv, a->argc, b->argv, b->argc);
}

bool
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

bool
conf_eq_env_files(const struct conf_program *a, const struct conf_program *b)
{
	return conf_strv_eq(a->env_files, a->nenv_files, b->env_files,
	    b->nenv_files);
}

bool
conf_eq_runtime_dirs(const struct conf_program *a,
    const struct conf_program *b)
{
	return conf_strv_eq(a->runtime_dirs, a->nruntime_dirs,
	    b->runtime_dirs, b->nruntime_dirs);
}

/* The passwd entry may change between loads: compare what it gave. */
bool
conf_eq_user(const struct conf_program *a, const struct conf_program *b)
{
	return conf_streq(a->user, b->user) && a->uid == b->uid &&
	    conf_streq(a->home, b->home) &&
	    conf_streq(a->login_shell, b->login_shell) &&
	    a->ngroups == b->ngroups && (a->ngroups == 0 ||
	    memcmp(a->groups, b->groups, a->ngroups * sizeof *a->groups) == 0);
}

bool
conf_eq_group(const struct conf_program *a, const struct conf_program *b)
{
	return conf_streq(a->group, b->group) && a->gid == b->gid;
}

bool
conf_eq_umask(const struct conf_program *a, const struct conf_program *b)
{
	return a->has_umask == b->has_umask &&
	    (!a->has_umask || a->umask == b->umask);
}

bool
conf_eq_codes(const struct conf_program *a, const struct conf_program *b)
{
	return a->nsuccess_codes == b->nsuccess_codes &&
	    memcmp(a->success_codes, b->success_codes,
	    a->nsuccess_codes * sizeof *a->success_codes) == 0;
}

/* Hashes of the same keys, for conf_program_hash(): FNV-1a over values. */

uint64_t
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

uint64_t
conf_hash_command(uint64_t h, const struct conf_program *p)
{
	h = conf_hash_u64(h, p->shell);
	return conf_hash_strv(h, p->argv, p->argc);
}

uint64_t
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

uint64_t
conf_hash_env_files(uint64_t h, const struct conf_program *p)
{
	return conf_hash_strv(h, p->env_files, p->nenv_files);
}

uint64_t
conf_hash_runtime_dirs(uint64_t h, const struct conf_program *p)
{
	return conf_hash_strv(h, p->runtime_dirs, p->nruntime_dirs);
}

uint64_t
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

uint64_t
conf_hash_group(uint64_t h, const struct conf_program *p)
{
	h = conf_hash_str(h, p->group);
	return conf_hash_u64(h, p->gid);
}

/* As conf_eq_umask: the mode counts only if set. */
uint64_t
conf_hash_umask(uint64_t h, const struct conf_program *p)
{
	h = conf_hash_u64(h, p->has_umask);
	return conf_hash_u64(h, p->has_umask ? p->umask : 0);
}

uint64_t
conf_hash_codes(uint64_t h, const struct conf_program *p)
{
	size_t	 i;

	h = conf_hash_u64(h, p->nsuccess_codes);
	for (i = 0; i < p->nsuccess_codes; i++)
		h = conf_hash_u64(h, (uint64_t)p->success_codes[i]);
	return h;
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
	for (i = 0; i < conf_nprogram_keys; i++) {
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

	for (i = 0; i < conf_nprogram_keys; i++) {
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
