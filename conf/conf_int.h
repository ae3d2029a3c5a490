/*
 * conf_int.h: what the loader's files share inside conf/ (not part of
 * conf.h, the interface): the per-file loader context, the key table's
 * row type, error reporting, and value getters (values.c).
 */
#ifndef TEND_CONF_INT_H
#define TEND_CONF_INT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include <libconfig.h>

#include "conf.h"

#define CONF_MAX_FILE		(4 * 1024 * 1024)
#define CONF_MAX_INSTANCES	10000
#define CONF_MAX_GROUPS		65536

#define CONF_KIB		1024LL
#define CONF_MIB		(1024 * CONF_KIB)
#define CONF_GIB		(1024 * CONF_MIB)

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

/* Loader state for one file. Errors are collected; the walk never stops. */
struct conf_ctx {
	struct conf_errors	*errs;
	struct conf		*conf;
	const char		*file;	/* the file's name in errors */
	const char		*dir;	/* its directory, absolute */
	char			 what[96]; /* "program 'web'" or "" */
};

enum conf_kind {
	CONF_BOOL,
	CONF_UINT,
	CONF_DURATION,
	CONF_SIZE,		/* bytes, into a uint64_t or size_t */
	CONF_MODE,
	CONF_PATH,
	CONF_ID,		/* user or group name, or number */
	CONF_FN,
};

/*
 * One row per key: generic kinds store at off, CONF_FN calls fn. A program
 * key is compared (conf_program_diff) and hashed (conf_program_hash) as a
 * string if it is a CONF_PATH, else as the scalar of size bytes at off,
 * unless it has eq and hash: a key with one needs the other.
 */
struct conf_key {
	const char	*name;
	enum conf_kind	 kind;
	size_t		 off;
	size_t		 size;
	long long	 min, max;	/* CONF_UINT, CONF_SIZE */
	void		(*fn)(struct conf_ctx *, const config_setting_t *,
			    void *);
	int		 diff;		/* CONF_DIFF_* of a program key */
	bool		(*eq)(const struct conf_program *,
			    const struct conf_program *);
	uint64_t	(*hash)(uint64_t, const struct conf_program *);
};

void	 conf_err(struct conf_ctx *, const config_setting_t *, const char *,
	    ...) __attribute__((format(printf, 3, 4)));
void	 conf_error_at(struct conf_ctx *, const char *, unsigned,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
const char *conf_sfile(const struct conf_ctx *, const config_setting_t *);

/* values.c: paths, typed getters, users and groups. */
struct group;
struct passwd;

char	*conf_join(const char *, const char *);
char	*conf_dirname(const char *);
char	*conf_absolute(const char *, const char *);
char	*conf_setting_path(const struct conf_ctx *, const config_setting_t *,
	    const char *);
char	*conf_cwd_absolute(const char *);
const char	*conf_type_name(const config_setting_t *);
bool	 conf_is_int(const config_setting_t *);
bool	 conf_is_list(const config_setting_t *);
int	 conf_get_string(struct conf_ctx *, const config_setting_t *,
	    const char **);
int	 conf_get_int(struct conf_ctx *, const config_setting_t *,
	    const char *, long long, long long, long long *);
int	 conf_get_duration(struct conf_ctx *, const config_setting_t *,
	    uint64_t *);
void	 conf_format_size(uint64_t, char *, size_t);
int	 conf_get_size(struct conf_ctx *, const config_setting_t *, long long,
	    long long, uint64_t *);
int	 conf_get_mode(struct conf_ctx *, const config_setting_t *, mode_t *);
int	 conf_get_id(struct conf_ctx *, const config_setting_t *, char **);
bool	 conf_numeric_id(const char *, unsigned *);
struct passwd	*conf_getpw(const char *);
struct group	*conf_getgr(const char *);
bool	 conf_own_gid(gid_t);
void	 conf_resolve_group(struct conf_ctx *, const config_setting_t *,
	    char **, gid_t *);
void	 conf_program_ids(struct conf_ctx *, struct conf_program *,
	    const config_setting_t *);
void	 conf_socket_group(struct conf_ctx *, const config_setting_t *,
	    void *);

#endif
