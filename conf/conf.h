/*
 * conf.h: tend's configuration: load a libconfig file (plus include_dir),
 * validate everything, and produce an immutable, fully resolved struct conf.
 *
 * Ownership: conf_load() and conf_read_string() return a conf with one
 * reference; conf_unref() drops one and frees at zero. Everything reachable
 * from a conf is owned by it and never changes after loading. All paths in
 * a loaded conf are absolute (relative ones are taken from the directory of
 * the file that holds them).
 */
#ifndef TEND_CONF_H
#define TEND_CONF_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum conf_restart {
	CONF_RESTART_ON_FAILURE,
	CONF_RESTART_ALWAYS,
	CONF_RESTART_NEVER,
};

enum conf_type {
	CONF_TYPE_SIMPLE,	/* the command is the main process (default) */
	CONF_TYPE_FORKING,	/* the command forks the main process and
				   exits 0 (self-daemonizing programs) */
};

enum conf_cgroups {
	CONF_CGROUPS_AUTO,	/* one cgroup v2 per instance when tendd may
				   create them (default) */
	CONF_CGROUPS_OFF,	/* process-tree tracking only */
};

/* Who stop_signal, and SIGKILL after stop_timeout, go to. */
enum conf_kill_mode {
	CONF_KILL_MAIN,		/* "main": the main process; what is left
				   once it has exited gets SIGKILL */
	CONF_KILL_GROUP,	/* "group" (default): every process of the
				   instance */
	CONF_KILL_PROCESS,	/* "process": the main process only; what
				   it leaves is left alone (sshd's sessions) */
};

/* Where a program's stdout or stderr goes. */
enum conf_sink {
	CONF_SINK_FILE,		/* "file": log_file (default) */
	CONF_SINK_JOURNAL,	/* "journal": systemd-journald */
	CONF_SINK_INHERIT,	/* "inherit": tendd's own stdout/stderr */
	CONF_SINK_NULL,		/* "null": discarded (still in the ring) */
	CONF_SINK_STDOUT,	/* "stdout": stderr only, merged into stdout */
};

struct conf_env {
	char	*key;
	char	*value;		/* may hold {name} and {instance} */
};

/*
 * One per program, 1000s of them: the 8-byte fields come first and the
 * small ones last (in the same parts), so that there is no padding.
 */
struct conf_program {
	char		*name;
	char		*file;		/* where the program is defined,
					   or "(command line)" (conf_run);
					   one of the conf's files */

	/* What shapes the processes (a change means a restart on reload). */
	char		**argv;		/* NULL-terminated; may hold {name},
					   {instance}; a string command is
					   {"/bin/sh", "-c", string, NULL} */
	char		*pidfile;	/* forking only; absolute, may hold
					   {name} and {instance}; NULL: none */
	struct conf_env	*env;		/* in file order */
	char		**env_files;	/* absolute; a leading '-' kept: the
					   file is optional (as systemd) */
	char		**runtime_dirs;	/* runtime_directory: absolute, under
					   /run or $XDG_RUNTIME_DIR; may hold
					   {name} and {instance} */
	char		*directory;	/* absolute, or NULL: tendd's cwd */
	char		*user;		/* NULL: tendd's own user */
	char		*group;		/* NULL: the user's primary group */
	gid_t		*groups;	/* supplementary groups of user */
	char		*home;		/* user's home and shell, from passwd */
	char		*login_shell;

	/* What applies live. */
	uint64_t	 start_timeout;	/* usec, default 30s: forking's
					   launcher exit and pidfile */
	int		*success_codes;	/* default {0}, shared */
	uint64_t	 start_secs;	/* usec, default 1s */
	uint64_t	 restart_delay;	/* usec, default 100ms */
	uint64_t	 restart_delay_max; /* usec, default 30s */
	uint64_t	 failed_retry;	/* usec, 0 = never (default) */
	uint64_t	 stop_timeout;	/* usec, default 10s */

	/* Logs: all apply live. */
	char		*log_file;	/* absolute; default
					   <log_dir>/<name>.log; may hold
					   {name} and {instance} */
	uint64_t	 log_max_size;	/* bytes, default 10M; 0: no limit */
	uint64_t	 log_rotate_every; /* usec, 0 (default): never */

	/*
	 * The small fields, in the same order of parts. Counts are 32-bit:
	 * libconfig's lists are (and a command line's) int-sized.
	 */
	unsigned	 line;		/* 0 from conf_run() */

	uint32_t	 argc;
	uint32_t	 nenv;
	uint32_t	 nenv_files;
	uint32_t	 nruntime_dirs;
	mode_t		 runtime_mode;	/* runtime_directory_mode, 0755 */
	uint32_t	 ngroups;	/* at most CONF_MAX_GROUPS */
	enum conf_type	 type;		/* default simple */
	uid_t		 uid;
	gid_t		 gid;
	mode_t		 umask;
	unsigned	 instances;	/* >= 1 */
	bool		 shell;		/* command was given as a string */
	bool		 literal;	/* argv taken as is: no {name} or
					   {instance} (tendd --run) */
	bool		 clear_environment;
	bool		 has_umask;

	uint32_t	 nsuccess_codes;
	enum conf_restart restart;	/* default on-failure */
	unsigned	 start_limit;	/* default 5, >= 1 */
	int		 stop_signal;	/* default SIGTERM */
	bool		 autostart;	/* default true */
	bool		 daemon;	/* default false */
	bool		 essential;	/* default false */
	uint8_t		 kill_mode;	/* enum conf_kill_mode, default
					   group ("kill_group" is the old
					   key: true group, false main) */

	enum conf_sink	 stdout_sink;	/* key "stdout", default file */
	enum conf_sink	 stderr_sink;	/* key "stderr", default file */
	unsigned	 log_keep;	/* rotated files kept, default 5 */
	mode_t		 log_mode;	/* new log files, default 0640 */
	uint32_t	 log_ring_size;	/* bytes, default 64K, at most 16M */
	uint32_t	 log_line_max;	/* bytes, default 64K, at most 16M */
	bool		 log_prefix;	/* instance name before inherited
					   lines; default true */
	bool		 log_file_per_instance; /* log_file holds {instance} */
	bool		 log_timestamps; /* RFC 3339 time before each line */
};

struct conf {
	int		  refs;
	char		 *file;		/* absolute path of the main file,
					   or "(command line)" (conf_run) */

	char		 *socket;	/* absolute */
	mode_t		  socket_mode;	/* default 0600 */
	char		 *socket_group;	/* NULL: none */
	gid_t		  socket_gid;
	char		 *state_dir;
	char		 *log_dir;
	char		 *include_dir;	/* NULL: none */
	bool		  subreaper;	/* default true */
	uint64_t	  shutdown_timeout; /* usec, default 60s */
	bool		  exit_when_done; /* default false */
	enum conf_cgroups cgroups;	/* default auto */
	unsigned	  max_clients;	/* default 128; a quarter is kept
					   for privileged peers */
	unsigned	  event_buffer;	/* events kept for replay, default
					   10000 */

	struct conf_program **programs;	/* main file first, then include_dir
					   files in name order */
	size_t		  nprograms;
	char		**files;	/* the programs' file names, once
					   each: what their file points to */
	size_t		  nfiles;
};

struct conf_error {
	char		*file;		/* NULL if not tied to a file */
	unsigned	 line;		/* 0 if unknown */
	char		*msg;
};

struct conf_errors {
	struct conf_error *v;
	size_t		 n;
};

/*
 * Load and validate. On success returns a conf and leaves errs empty; on
 * failure returns NULL with every error found in errs (not just the first).
 */
struct conf	*conf_load(const char *path, struct conf_errors *errs);
/* The same from a string; name is used in errors, basedir for relative
   paths and include_dir. */
struct conf	*conf_read_string(const char *text, const char *name,
		    const char *basedir, struct conf_errors *errs);
struct conf	*conf_ref(struct conf *);
void		 conf_unref(struct conf *);	/* NULL is a no-op */

void		 conf_errors_clear(struct conf_errors *);
/* "file:line: message" (or without the parts that are unknown). */
char		*conf_error_format(const struct conf_error *);

const struct conf_program *conf_find(const struct conf *, const char *);

/*
 * The configuration of tendd --run: default paths and supervisor settings
 * (exit_when_done true), and one program called name running argv
 * literally (no {name}/{instance} substitution, not through a shell),
 * restart never, start_secs 0, stdout and stderr inherited without a
 * prefix. file is "(command line)". NULL with errs on a bad name or an
 * empty argv.
 */
struct conf	*conf_run(char *const *argv, size_t argc, const char *name,
		    struct conf_errors *errs);

/*
 * A 64-bit fingerprint of every key of a program (FNV-1a over the values,
 * never over pointers), equal across processes for equal configs: tells a
 * restarted tendd whether a program's config changed since an operator's
 * decision was recorded.
 */
uint64_t	 conf_program_hash(const struct conf_program *);

/*
 * The control socket the config file at path names, for tendctl -c:
 * supervisor's socket (relative to its file's directory), else the
 * default socket. Mistakes elsewhere in the file do not matter, a syntax
 * error included, as long as the socket setting itself is certain.
 * Returns 0 and *socket, or -1 and *err; the caller frees them.
 */
int		 conf_socket(const char *path, char **socket, char **err);

/*
 * Default paths, from the effective uid and XDG variables (see README):
 * root: /etc/tend/tend.conf, /run/tend/tend.sock, /var/lib/tend,
 * /var/log/tend; others: $XDG_CONFIG_HOME/tend/tend.conf,
 * $XDG_RUNTIME_DIR/tend/tend.sock, $XDG_STATE_HOME/tend, and its log/.
 * Return malloc'd strings.
 */
char		*conf_default_config(void);
char		*conf_default_socket(void);
char		*conf_default_state_dir(void);
char		*conf_default_log_dir(void);

/*
 * What changed between two versions of a program (same name), for reload.
 * Returns a mask of CONF_DIFF_*; the names of changed keys are written to
 * keys (up to nkeys) and their count to *nchanged.
 */
#define CONF_DIFF_RESTART	0x1	/* a key that shapes the processes */
#define CONF_DIFF_INSTANCES	0x2	/* instances count only */
#define CONF_DIFF_LIVE		0x4	/* keys applied without a restart */
int		 conf_program_diff(const struct conf_program *old,
		    const struct conf_program *new, const char **keys,
		    size_t nkeys, size_t *nchanged);

#endif
