/*
 * shutdown.h: tendd's way down, one explicit state machine.
 *
 *   RUNNING ── begin ──► WORK: every program but the daemon ones (helpers)
 *                        is stopped; shutdown_timeout armed
 *   WORK ── work down ──► HELPERS: the daemon programs are stopped
 *   HELPERS ── all down ──► STRAYS: adopted orphans no program claims are
 *                        killed; tendd waits for its children to be reaped
 *                        (LINGER at most), then DONE
 *   WORK/HELPERS ── timeout, or asked again ──► KILLING: SIGKILL to
 *                        everything; once all is down as from HELPERS,
 *                        else after KILL_GRACE: DONE with status 1
 *
 * shutdown_check() is called whenever something may have come down (the
 * daemon's garbage collection); the stage moves only here. Side effects go
 * through ops, so unit tests drive it with fakes.
 */
#ifndef TEND_SHUTDOWN_H
#define TEND_SHUTDOWN_H

#include <stdbool.h>
#include <stdint.h>

enum shutdown_stage {
	SHUTDOWN_RUNNING,	/* not shutting down */
	SHUTDOWN_WORK,		/* stopping the programs */
	SHUTDOWN_HELPERS,	/* stopping the daemon programs */
	SHUTDOWN_KILLING,	/* SIGKILL sent to what was left */
	SHUTDOWN_STRAYS,	/* all down: reaping the last children */
	SHUTDOWN_DONE,
};

/* After SIGKILL, how long to wait for the dead before leaving anyway. */
#define SHUTDOWN_KILL_GRACE	(5 * 1000000ULL)
/* With everything down, how long to wait for children killed with what
   was left of their process group to be reaped. */
#define SHUTDOWN_LINGER		(1000000ULL)

struct shutdown_ops {
	/* Is every instance (of the non-daemon programs with work_only)
	   down, with no process? */
	bool	(*all_down)(bool work_only, void *);
	/* Stop the non-daemon programs, or the daemon ones (helpers). */
	void	(*stop)(bool helpers, void *);
	/* Send sig to every process of every instance. */
	void	(*kill_all)(int sig, void *);
	/* Kill adopted processes no program claims; how many. */
	int	(*kill_strays)(void *);
	/* Has tendd a child left (zombies not yet reaped included)? */
	bool	(*has_children)(void *);
	/* The one timer: arm (usec) or cancel (0). */
	void	(*timer)(uint64_t, void *);
	/* Leave the loop; failed: some processes would not die. */
	void	(*done)(bool failed, void *);
};

struct shutdown;

struct shutdown	*shutdown_new(const struct shutdown_ops *, void *arg);
void		 shutdown_free(struct shutdown *);
/* Asked to shut down (timeout 0: wait for ever). Asked again: kill now. */
void		 shutdown_begin(struct shutdown *, uint64_t timeout);
/* Something may have come down: move on if the stage is over. */
void		 shutdown_check(struct shutdown *);
/* The timer fired. */
void		 shutdown_timer(struct shutdown *);
enum shutdown_stage shutdown_stage(const struct shutdown *);
const char	*shutdown_stage_name(enum shutdown_stage);

#endif
