/*
 * reaper.h: every child of tendd's, and who owns it.
 *
 * Each PID tendd is responsible for is registered with its owner: an
 * instance's main process, a forking program's launcher, and (later) jobs,
 * probes and per-connection children. A kind of owner brings its own
 * operations; the reaper never knows what an owner is. On SIGCHLD, once
 * per loop pass, the reaper collects every waiting child with
 * waitpid(WNOHANG), takes each PID out of the table at once (a PID handed
 * out again must not find the old owner), and then hands each exit to its
 * owner. A PID nobody registered is an adopted orphan: the orphan hook
 * hears of it.
 *
 * Ownership: the reaper does not own the owners; an owner that goes away
 * removes its PIDs (reaper_remove).
 */
#ifndef TEND_REAPER_H
#define TEND_REAPER_H

#include <sys/types.h>

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct proc_owner;

struct proc_owner_ops {
	const char	*kind;		/* "main", "launcher", ... */
	/* pid ended with the wait status (it is no longer registered). */
	void		(*exited)(struct proc_owner *, pid_t, int status);
	/* What pid is, for ps and logs: "web:1" */
	void		(*describe)(const struct proc_owner *, pid_t, char *,
			    size_t);
};

/* Embedded in whatever owns processes. */
struct proc_owner {
	const struct proc_owner_ops	*ops;
};

struct reaper_hooks {
	/* Every reaped PID, owned or not, before any exit is handled (the
	   process tracker forgets it). May be NULL. */
	void		(*reaped)(pid_t, void *);
	/* A reaped PID that no owner had: an adopted orphan. */
	void		(*orphan)(pid_t, int status, void *);
	/* After each pass that reaped something or was woken. */
	void		(*pass)(void *);
	void		*arg;
};

struct reaper;

struct reaper	*reaper_new(struct event_base *, const struct reaper_hooks *);
void		 reaper_free(struct reaper *);
/* Take SIGCHLD from now on, and reap what ended before. */
void		 reaper_start(struct reaper *);

/* Register pid to owner. -1 if pid is registered already. */
int		 reaper_add(struct reaper *, pid_t, struct proc_owner *);
/* The owner of pid, or NULL. */
struct proc_owner *reaper_find(const struct reaper *, pid_t);
/* Unregister pid; returns its owner, or NULL. */
struct proc_owner *reaper_remove(struct reaper *, pid_t);
size_t		 reaper_count(const struct reaper *);

/* Reap now (also what reaper_start and SIGCHLD do). */
void		 reaper_reap(struct reaper *);

/*
 * Hold SIGCHLD back while signalling many processes, so that children
 * dying meanwhile are one pending signal, delivered at release (a stop
 * of 1000 took about 1000 deliveries otherwise).
 */
void		 reaper_hold(sigset_t *old);
void		 reaper_release(const sigset_t *old);

/* Has tendd a child left (running, or a zombie not yet reaped)? */
bool		 reaper_has_children(void);

#endif
