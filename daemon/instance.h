/*
 * instance.h: the runtime around one instance's state machine (svc.h).
 *
 * svc.c decides; instance.c carries its decisions out: it implements
 * svc_ops (spawn through launch.c, signals through the process tracker or
 * a pidfd with the PID-reuse guard, the instance's timer), registers the
 * instance's processes with the reaper as typed owners (the main process,
 * a forking program's launcher), watches a main process that is not
 * tendd's child, waits for a forking program's pidfile, and publishes
 * every change of the instance on the event stream. What else must react
 * (waiters, persistence, the exit policy, readiness towards systemd)
 * subscribes to the stream.
 *
 * Ownership: the daemon owns the environment and the instances
 * (instance_new/instance_free); an instance's svc is freed with it.
 */
#ifndef TEND_INSTANCE_H
#define TEND_INSTANCE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "launch.h"

struct event_base;
struct events;
struct logs;
struct pidrec;
struct reaper;
struct svc;
struct track;
struct instance_env;

/*
 * What every instance shares, filled in by the daemon. The daemon may
 * change pidrec (once state_dir is open) and stopping (shutdown) at any
 * time; instance_env_new sets the rest up.
 */
/* What an instance asks of the system, for unit tests to fake. */
struct instance_sys {
	/* launch_instance (launch.h) */
	pid_t		(*launch)(const struct conf_program *, unsigned index,
			    const struct launch_stdio *, int cgroup_fd,
			    struct launch_record *, char *err,
			    size_t errlen, bool *permanent);
	/* The monotonic clock, usec (util_now_mono). */
	uint64_t	(*now)(void);
};

struct instance_env_params {
	const struct instance_sys *sys;	/* NULL: the real ones */
	struct event_base	*base;
	struct reaper		*reaper;
	struct track		*track;
	struct logs		*logs;
	bool			 run_mode;	/* tendd --run: the command
						   has tendd's stdout and
						   stderr, no logs */
	struct events		*events;
	struct launch_stdio	*stdio;
};

struct instance_env *instance_env_new(const struct instance_env_params *);
void		 instance_env_free(struct instance_env *);
/* The spawn record to write into (persist.c opens it), or NULL. */
void		 instance_env_set_pidrec(struct instance_env *,
		    struct pidrec *);
/* While tendd shuts down, nothing is started. */
void		 instance_env_set_stopping(struct instance_env *, bool);
/* Call fn for each instance (retiring ones too) until it returns true;
   returns that instance. */
struct svc	*instance_each(struct instance_env *,
		    bool (*fn)(struct svc *, void *), void *);
/* After a reap: orphans that may be an instance's, and instances waiting
   for what outlived their main process. */
void		 instance_env_reaped(struct instance_env *);

/* A new instance (stopped) of the program cp, index i, named name. owner
   is the daemon's program, given back by instance_owner. */
struct svc	*instance_new(struct instance_env *, const struct conf_program *,
		    unsigned index, const char *name, void *owner);
void		 instance_free(struct svc *);
void		*instance_owner(const struct svc *);

/*
 * Take over a process a crashed tendd left (persist.c): watch it as
 * tendd's child or by pidfd (starttime tells a recycled PID apart), and
 * bring the instance to running. -1 if it is gone or another process
 * now.
 */
int		 instance_adopt(struct svc *, pid_t, uint64_t starttime,
		    uint64_t age);
/* The instance whose main process an owner is (reaper.h), or NULL. */
struct proc_owner;
struct svc	*instance_of(const struct proc_owner *);
/* Claim the instance's slot in the spawn record (persist.c, before it
   settles the record), if not done yet. */
void		 instance_claim_record(struct svc *);
/* The start time of the main process (procfs ticks: with its PID, what
   tells it apart from a later process with the same PID), read from
   /proc once if not known; 0 without one. */
uint64_t	 instance_starttime(struct svc *);
/* Is the main process not tendd's child (watched by pidfd)? */
bool		 instance_watched(const struct svc *);

/*
 * Send sig as a stop would (tendctl signal, the shutdown's SIGKILL,
 * forwarding): with group to every process of the instance, else to its
 * main process alone, by pidfd where it is not tendd's child. The number
 * of processes signalled, or -1 with errno.
 */
int		 instance_signal(struct svc *, int sig, bool group);

#endif
