/*
 * state.h: what must survive a tendd restart, kept in state_dir.
 *
 * state.json records, for each instance, its main PID and that process's
 * start time (so a PID reused since is never mistaken for it), and the
 * operator's last start/stop decision with the fingerprint of the
 * program's config at that time. It is replaced atomically (a temporary
 * file renamed over it); fsync is asked for only where a decision must
 * survive a power loss. A lock file keeps two tendds off one state_dir.
 * It also keeps where the change stream's sequence numbers go on, so they
 * never go back across restarts.
 */
#ifndef TEND_STATE_H
#define TEND_STATE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define STATE_VERSION	1

enum state_want {
	STATE_WANT_NONE,	/* no operator decision: config's autostart */
	STATE_WANT_UP,		/* tendctl start/restart */
	STATE_WANT_DOWN,	/* tendctl stop */
};

struct state_instance {
	char		*program;
	unsigned	 index;
	pid_t		 pid;		/* 0: no process */
	uint64_t	 starttime;	/* of pid, /proc/PID/stat field 22 */
	enum state_want	 want;
	uint64_t	 conf_hash;	/* conf_program_hash() at decision */
};

struct state {
	char			 boot_id[40];	/* "" if unknown */
	pid_t			 tendd_pid;
	uint64_t		 events_next;	/* where event sequence numbers
						   go on (events_reserve); 0:
						   unknown (an older file) */
	struct state_instance	*v;	/* owned, v[i].program too */
	size_t			 n;
};

struct state_lock;

/*
 * Create dir (0700, parents too) if missing and lock dir/tendd.lock with
 * flock, writing tendd's pid into it. NULL with a message in err; *busy
 * is set when another tendd holds the lock (its pid in the message).
 * *other (if not NULL) is the pid the lock file named: the holder when
 * busy, else the last tendd that held it (0: none known).
 */
struct state_lock *state_lock(const char *dir, bool *busy, pid_t *other,
		    char *err, size_t errlen);
void		 state_unlock(struct state_lock *);	/* NULL: no-op */

/* Read dir/state.json. A missing file is an empty state (0); an
   unreadable or malformed one is -1 with a message, and st empty. */
int		 state_load(const char *dir, struct state *st, char *err,
		    size_t errlen);
/* Replace dir/state.json atomically; with sync, fsync file and dir. */
int		 state_save(const char *dir, const struct state *st,
		    bool sync, char *err, size_t errlen);
/* Append an instance record (program copied); returns it. */
struct state_instance *state_add(struct state *, const char *program,
		    unsigned index);
const struct state_instance *state_find(const struct state *,
		    const char *program, unsigned index);
void		 state_clear(struct state *);

/* The JSON form, exposed for tests. */
json_t		*state_to_json(const struct state *);
int		 state_from_json(const json_t *, struct state *, char *err,
		    size_t errlen);

#endif
