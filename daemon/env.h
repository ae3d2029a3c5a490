/*
 * env.h: build a child's environment: a vector of "KEY=value" strings where
 * a later set of the same key replaces the earlier one, and parse
 * environment files (systemd EnvironmentFile syntax).
 */
#ifndef TEND_ENV_H
#define TEND_ENV_H

#include <stddef.h>

struct env {
	char	**v;		/* NULL-terminated; owned */
	size_t	  n;
	size_t	  cap;
};

void	 env_init(struct env *);
void	 env_free(struct env *);
/* Copy every entry of a NULL-terminated vector (such as environ). */
void	 env_import(struct env *, char *const *);
void	 env_set(struct env *, const char *key, const char *value);
/* Set from "KEY=value"; returns -1 if there is no '=' or key is empty. */
int	 env_put(struct env *, const char *);
const char *env_get(const struct env *, const char *);
void	 env_unset(struct env *, const char *);

/*
 * Parse an environment file's text into env. Lines: KEY=value, blank lines,
 * comments starting with '#' or ';', an optional "export " prefix; values
 * may be quoted with '' or "" (with \" \\ \n escapes in double quotes).
 * Returns 0, or -1 with the first bad line number in *badline.
 */
int	 env_parse_file(struct env *, const char *text, size_t len,
	    unsigned *badline);
/* Is this a valid variable name ([A-Za-z_][A-Za-z0-9_]*)? */
int	 env_valid_key(const char *, size_t);

#endif
