/*
 * svc.h: one instance of a program and its state machine.
 *
 * Every state change goes through svc.c; the actions[state][event] grid
 * there is the whole behaviour. Side effects (spawning, signalling, timers,
 * the clock, and telling the daemon about a change) go through svc_ops so
 * unit tests can drive the machine with fakes.
 *
 * Ownership: the daemon owns svcs (svc_new/svc_free). cp is borrowed from
 * a conf the owning program keeps a reference on; the daemon swaps it on
 * reload.
 */
#ifndef TEND_SVC_H
#define TEND_SVC_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

enum svc_state {
	SVC_STOPPED,
	SVC_STARTING,
	SVC_RUNNING,
	SVC_BACKOFF,
	SVC_STOPPING,
	SVC_EXITED,
	SVC_FAILED,
	SVC_NSTATES
};

enum svc_event {
	SVC_EV_START,		/* operator (or autostart) wants it up */
	SVC_EV_STOP,		/* operator wants it down */
	SVC_EV_RESTART,		/* stop if running, then start */
	SVC_EV_EXITED,		/* main process reaped; arg is wait status */
	SVC_EV_LAUNCHER_EXITED,	/* a forking program's launcher reaped; arg
				   is wait status */
	SVC_EV_READY,		/* the program said it is ready */
	SVC_EV_LOOK,		/* a forking program: look for the main
				   process again (its pidfile changed, or
				   start_secs passed) */
	SVC_EV_MAIN,		/* the main process is now pid arg (its
				   pidfile names another process of the
				   instance after the last one ended) */
	SVC_EV_TIMER,		/* the instance's one timer fired */
	SVC_EV_RESET,		/* clear failures */
	SVC_EV_EMPTY,		/* no process of the instance is left */
	SVC_EV_ADOPT,		/* take over pid arg, left running by a
				   crashed tendd (svc_adopt) */
	SVC_NEVENTS
};

struct svc;
struct logio;

/* What follows an exit (svc_change.next). */
enum svc_next {
	SVC_NEXT_NONE,
	SVC_NEXT_RESTART,	/* started again at once */
	SVC_NEXT_BACKOFF,	/* started again after delay */
	SVC_NEXT_GIVE_UP,	/* failed: not started again */
	SVC_NEXT_EXITED,	/* done, as the restart policy says */
	SVC_NEXT_STOPPED,	/* it was being stopped */
	SVC_NEXT_WAIT,		/* a forking launcher: the main process is
				   looked for next */
};

/* Something that happened to the instance besides a change of state
   (svc_ops.changed): a process started, one ended, one taken over. */
struct svc_change {
	enum {
		SVC_CH_SPAWNED,		/* pid started */
		SVC_CH_EXITED,		/* pid ended with status */
		SVC_CH_ADOPTED,		/* pid taken over */
		SVC_CH_MAIN,		/* pid is the main process now
					   (status: the one before) */
	}		 kind;
	pid_t		 pid;
	int		 status;	/* wait status, SVC_STATUS_UNKNOWN */
	uint64_t	 ran;		/* usec it ran */
	enum svc_next	 next;
	uint64_t	 delay;		/* before the next try (backoff) */
	int		 from;		/* a spawn: the state it left (the
					   change to starting, or running with
					   start_secs 0, is told with it, not
					   apart); -1: no change */
	bool		 launcher;	/* a forking program's launcher */
};

/* Why a start failed (svc_ops.spawn). */
enum svc_spawn_fail {
	SVC_SPAWN_RETRY,	/* a failed start: back off, counted */
	SVC_SPAWN_PERMANENT,	/* cannot work: failed at once */
	SVC_SPAWN_RESOURCES,	/* tendd's shortage: back off, not counted:
				   never failed for it */
};

struct svc_ops {
	/*
	 * Start a process. Returns its pid, or -1 with a message in err and
	 * in *fail why: SVC_SPAWN_PERMANENT when trying again cannot help
	 * (no such file, not executable, bad user), SVC_SPAWN_RESOURCES when
	 * tendd itself is short of descriptors, memory or processes (not the
	 * program's failure), else SVC_SPAWN_RETRY.
	 */
	pid_t		(*spawn)(struct svc *, char *err, size_t errlen,
			    enum svc_spawn_fail *fail);
	/* Send sig to pid, or to its process group when group is set. */
	int		(*kill)(struct svc *, pid_t, int sig, bool group);
	/* The instance's single timer: arm (relative usec) or cancel. */
	void		(*timer_set)(struct svc *, uint64_t);
	void		(*timer_cancel)(struct svc *);
	uint64_t	(*now)(void);
	/* Called after every state change (not for the initial state),
	   with ch NULL; and with ch when a process started or ended or was
	   taken over, before the state changes that follow from it (old is
	   then the state now; a spawn into starting comes with that change,
	   ch->from the state left). */
	void		(*changed)(struct svc *, enum svc_state old,
			    const struct svc_change *ch);
	/* SIGKILL every process of the instance other than a main one (what
	   outlived its main process). Returns how many were signalled. */
	int		(*kill_rest)(struct svc *);
	/* Has the instance a process left besides its main process? */
	bool		(*busy)(struct svc *);
	/*
	 * Forking programs, once the launcher has exited 0: the main process
	 * (pid > 0, now watched); 0 when not known yet (the daemon sends
	 * SVC_EV_READY when it may be); -1 with a message in err when it
	 * cannot be found.
	 */
	pid_t		(*find_main)(struct svc *, char *err, size_t errlen);
};

/* The status of an exit tendd could not see (an adopted process that was
   not its child): neither exited nor signalled. */
#define SVC_STATUS_UNKNOWN	(-1)

struct svc_exit {
	bool		 valid;
	int		 status;	/* raw wait status */
	uint64_t	 wall;		/* when it was reaped (usec, epoch) */
};

/* 1000s of these: 8-byte fields first, then the small ones (no padding). */
struct svc {
	const struct svc_ops		*ops;
	const struct conf_program	*cp;
	void				*owner;	/* the instance (instance.h) */
	char				*name;	/* "web" or "web:2" */

	uint64_t			 started;	/* mono usec of spawn */
	uint64_t			 since;		/* mono of last change */
	uint64_t			 delay;		/* next backoff delay */
	uint64_t			 adopt_age;	/* SVC_EV_ADOPT's process
							   age, usec */
	struct svc_exit			 last_exit;
	char				*error;		/* why failed/backoff */

	void				*waits;	/* the daemon's waiters */
	uint64_t			 op_hash; /* conf hash at op */
	struct logio			*logio;	/* output capture (logs.c) */

	unsigned			 index;
	enum svc_state			 state;
	pid_t				 pid;	/* 0: none */
	unsigned			 restarts;	/* automatic ones */
	unsigned			 fails;		/* failed starts in a row */
	unsigned			 spawns;	/* spawn attempts */
	unsigned			 rest_kills; /* SIGKILL rounds for
						        what is left */
	pid_t				 sid;	/* session (and process group)
						   of the current or last run;
						   0: never ran */
	int				 cg_procs; /* track's cgroup.procs
						     fd, or -1 */
	enum { SVC_OP_NONE, SVC_OP_UP, SVC_OP_DOWN } op; /* operator's
						   last start/stop */
	bool				 want_up;
	bool				 launcher; /* pid is a forking
						      program's launcher */
	bool				 adopted; /* pid taken over from a
						     crashed tendd */
	bool				 timed_out; /* start_timeout passed */
};

struct svc	*svc_new(const struct svc_ops *, const struct conf_program *,
		    void *owner, unsigned index, const char *name);
void		 svc_free(struct svc *);
/* The same in storage of the caller's (an instance embeds its svc). */
void		 svc_init(struct svc *, const struct svc_ops *,
		    const struct conf_program *, void *owner, unsigned index,
		    const char *name);
void		 svc_clear(struct svc *);
void		 svc_rename(struct svc *, const char *);

void		 svc_event(struct svc *, enum svc_event, int arg);
/* Take over a running process (from a crashed tendd's state), started
   age usec ago (SVC_EV_ADOPT, from stopped only): running, wanted up. */
void		 svc_adopt(struct svc *, pid_t, uint64_t age);

/* Why the instance waits (a forking program's pidfile not right yet),
   shown as its error; the state does not change. */
void		 svc_note(struct svc *, const char *);

const char	*svc_state_name(enum svc_state);
/* Has no process and will not start one by itself. */
bool		 svc_is_down(const struct svc *);
bool		 svc_is_down_state(enum svc_state);
/* Did it end well: stopped on purpose, or exited with a success code?
   (exit_when_done and tendctl wait judge alike.) */
bool		 svc_ended_well(const struct svc *);
/* The exit status tendd gives for an instance that ended for good: its
   code, 128+N for signal N, 127 if it never started, 1 if unknown. */
int		 svc_exit_code(const struct svc *);
/* Did the last exit count as a success for this program? */
bool		 svc_exit_success(const struct conf_program *, int status);

#endif
