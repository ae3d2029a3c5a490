/*
 * conf_int.h: what the loader's files share inside conf/ (not part of
 * conf.h, the interface): the per-file loader context, the key table's
 * row type, error reporting (errors.c), the key walk (keys.c), programs
 * (program.c), their comparison and hashing (diff.c), and value getters
 * (values.c).
 */
#ifndef TEND_CONF_INT_H
#define TEND_CONF_INT_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include <libconfig.h>

#include "conf.h"

/*
 * Bounds on what one load reads and builds (docs/config.md), far above any
 * real configuration: reading a configuration must never stall tendd's
 * loop, and libconfig 1.5 checks each new member of a group against all
 * the others (quadratic: without a bound, a 4 MiB file of 276,000
 * top-level settings took minutes).
 */
#define CONF_MAX_FILE		(4 * 1024 * 1024)	/* one file */
#define CONF_MAX_TEXT		(16 * 1024 * 1024)	/* a load's files */
#define CONF_MAX_FILES		10000	/* files read by a load, @include
					   and include_dir ones included */
#define CONF_MAX_DEPTH		10	/* @include nesting, as libconfig */
#define CONF_MAX_SETTINGS	1000000	/* values in all, list elements
					   included */
#define CONF_MAX_MEMBERS	100	/* settings of one group */
#define CONF_MAX_ERRORS		100	/* errors kept; the rest are counted */
#define CONF_MAX_ERROR_LEN	1024	/* bytes of one message */
#define CONF_MAX_INSTANCES	10000
#define CONF_MAX_GROUPS		65536

#define CONF_KIB		1024LL
#define CONF_MIB		(1024 * CONF_KIB)
#define CONF_GIB		(1024 * CONF_MIB)

#define nitems(a)	(sizeof (a) / sizeof (a)[0])

#define CONF_NAME_RULES	"(1 to 64 letters, digits, '_', '.' or '-', " \
			"not starting with '.' or '-', and not \"all\")"

/* A file in a conf_text. */
struct conf_src {
	char		*name;		/* in errors: the top file's name, or
					   as its @include wrote it */
	char		*dir;		/* relative paths in it are from here */
	char		*file;		/* name kept in conf->files, once a
					   program is defined in it */
};

/* Where the lines of a conf_text from first on come from. */
struct conf_seg {
	unsigned	 first;		/* line of the text */
	unsigned	 src;		/* index in srcs */
	unsigned	 line;		/* its line in that file */
};

/*
 * The text libconfig parses for one file: the file with its @include
 * directives expanded, and a map from its lines to the files' own.
 */
struct conf_text {
	char		*buf;		/* NUL-terminated */
	size_t		 len, cap;
	unsigned	 line;		/* the line buf ends on, from 1 */
	struct conf_src	*srcs;
	size_t		 nsrcs, capsrcs;
	struct conf_seg	*segs;
	size_t		 nsegs, capsegs;
};

/* Program names of one load, to find duplicates in linear time. */
struct conf_names {
	struct conf_program **v;	/* open addressing; NULL: free */
	size_t		 size;		/* 0 or a power of 2 */
	size_t		 n;
};

/* What one load has read and built so far, across its files. */
struct conf_load {
	size_t		 bytes;		/* CONF_MAX_TEXT */
	unsigned	 files;		/* CONF_MAX_FILES */
	size_t		 settings;	/* CONF_MAX_SETTINGS */
	size_t		 dropped;	/* errors past CONF_MAX_ERRORS */
	struct conf_names names;
};

/* Loader state for one file. Errors are collected; the walk never stops. */
struct conf_ctx {
	struct conf_errors	*errs;
	struct conf		*conf;
	struct conf_load	*load;
	struct conf_text	*text;	/* NULL before it is read */
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

/* errors.c: errors at a setting, or at a file and line. */
void	 conf_err(struct conf_ctx *, const config_setting_t *, const char *,
	    ...) __attribute__((format(printf, 3, 4)));
void	 conf_error_at(struct conf_ctx *, const char *, unsigned,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
const char *conf_sfile(const struct conf_ctx *, const config_setting_t *);
unsigned conf_sline(const struct conf_ctx *, const config_setting_t *);
struct conf_src *conf_ssrc(const struct conf_ctx *, const config_setting_t *);
bool	 conf_errors_full(const struct conf_ctx *);
/* Past CONF_MAX_ERRORS, say how many more there were. */
void	 conf_errors_note(struct conf_errors *, size_t);

/* keys.c: check every member of a group against keys (where: "in ..." for
   unknown keys) and store what it says into obj. */
void	 conf_walk(struct conf_ctx *, const config_setting_t *,
	    const struct conf_key *, size_t, void *, const char *);

/* The values a string key may take. */
struct conf_choice {
	const char	*name;
	int		 value;
};

int	 conf_choice_find(const config_setting_t *, const struct conf_choice *,
	    size_t);
int	 conf_get_choice(struct conf_ctx *, const config_setting_t *,
	    const char *, const struct conf_choice *, size_t, int *);

/*
 * program.c: the program key table (in the order conf_program_diff()
 * reports keys), the "programs" key's handler, and programs: new ones
 * have every default; conf_program_free() frees what the keys set.
 */
extern const struct conf_key conf_program_keys[];
extern const size_t conf_nprogram_keys;

void	 conf_programs(struct conf_ctx *, const config_setting_t *, void *);
void	 conf_program_defaults(struct conf_program *);
struct conf_program *conf_program_new(char *, unsigned);
void	 conf_program_free(struct conf_program *);
/* A file name kept in conf->files, for programs to point to. */
char	*conf_file_add(struct conf *, const char *);
/* A NULL-terminated copy of v, array and strings in one block. */
char	**conf_argv(const char *const *, size_t);

/*
 * diff.c: equality and FNV-1a hashes of the program keys that are not
 * plain scalars (the key table's eq and hash).
 */
#define CONF_FNV_BASIS	0xcbf29ce484222325ULL
#define CONF_FNV_PRIME	0x100000001b3ULL

uint64_t conf_hash_bytes(uint64_t, const void *, size_t);

bool	 conf_eq_command(const struct conf_program *,
	    const struct conf_program *);
bool	 conf_eq_env(const struct conf_program *, const struct conf_program *);
bool	 conf_eq_env_files(const struct conf_program *,
	    const struct conf_program *);
bool	 conf_eq_runtime_dirs(const struct conf_program *,
	    const struct conf_program *);
bool	 conf_eq_user(const struct conf_program *, const struct conf_program *);
bool	 conf_eq_group(const struct conf_program *,
	    const struct conf_program *);
bool	 conf_eq_umask(const struct conf_program *,
	    const struct conf_program *);
bool	 conf_eq_codes(const struct conf_program *,
	    const struct conf_program *);
uint64_t conf_hash_command(uint64_t, const struct conf_program *);
uint64_t conf_hash_env(uint64_t, const struct conf_program *);
uint64_t conf_hash_env_files(uint64_t, const struct conf_program *);
uint64_t conf_hash_runtime_dirs(uint64_t, const struct conf_program *);
uint64_t conf_hash_user(uint64_t, const struct conf_program *);
uint64_t conf_hash_group(uint64_t, const struct conf_program *);
uint64_t conf_hash_umask(uint64_t, const struct conf_program *);
uint64_t conf_hash_codes(uint64_t, const struct conf_program *);

struct stat;

/*
 * text.c: read a file into a conf_text (path absolute, name for errors;
 * relative @include names are from ctx->dir), or take a string. 0, or -1
 * once the errors are reported: libconfig must then not see the text.
 */
int	 conf_text_file(struct conf_ctx *, const char *, const char *,
	    struct conf_text *);
int	 conf_text_string(struct conf_ctx *, const char *, const char *,
	    struct conf_text *);
void	 conf_text_clear(struct conf_text *);
/* The file of a line of the text, and its line there (NULL: line 0). */
struct conf_src *conf_text_where(const struct conf_text *, unsigned,
	    unsigned *);
/*
 * Before libconfig: report integers it would wrap, and bound the
 * settings. -1 if a bound is passed: libconfig must not see the text.
 */
int	 conf_text_scan(struct conf_ctx *, const struct conf_text *);
/*
 * Read a whole regular file of at most CONF_MAX_FILE bytes without ever
 * blocking. 0 with a NUL-terminated *buf, or -1 with why.
 */
int	 conf_read(const char *, struct stat *, char **, size_t *, char *,
	    size_t);

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
