/*
 * track.h: which processes belong to which instance, beyond its main
 * process: children, grandchildren, and what they left behind (orphans
 * re-parented to tendd, the subreaper).
 *
 * Two modes. cgroup: each instance runs in its own cgroup v2 leaf, so its
 * processes are exactly that leaf's, whatever they do. process-tree (no
 * usable cgroup2, or cgroups = "off"): an instance's processes are its
 * main process's descendants, plus the orphans re-parented to tendd that
 * are attributed to it, and their descendants. An orphan is attributed
 * by, in order: what an earlier look saw of it (PID and start time), its
 * session or process group (the instance's main process leads both, and
 * the kernel never reuses a PID that still names a live session or
 * group), and the TEND_PROGRAM/TEND_INSTANCE variables it was started
 * with. What this cannot attribute: an orphan that left the session and
 * group and changed those variables before tendd looked at it; tendd
 * still reaps it and kills it when it exits.
 */
#ifndef TEND_TRACK_H
#define TEND_TRACK_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct svc;
struct track;
struct track_ps;

/* What the tracker asks of whoever holds the instances. */
struct track_hooks {
	/* fn for each instance (retiring ones too) until it returns true;
	   that instance, or NULL. */
	struct svc	*(*each)(bool (*fn)(struct svc *, void *), void *,
			    void *ctx);
	/* The instance whose main process pid is (a child of tendd's, or
	   one watched by pidfd), or NULL. */
	struct svc	*(*main_of)(pid_t, void *ctx);
	/* What owns pid among tendd's children, for ps ("main",
	   "launcher", ...: reaper.h's owner kinds), or NULL. */
	const char	*(*role)(pid_t, void *ctx);
	void		*ctx;
};

/* Choose the mode (cgroups unless off or unusable, logged) for a tendd
   whose state lives in state_dir (NULL: tendd --run). */
struct track	*track_new(const struct track_hooks *, bool want_cgroups,
		    const char *state_dir);
/* Once tendd is sure to be the only one of its state_dir: remove the
   empty cgroups a predecessor left (for tendd --run, also those of other
   tendd --runs that are gone), and remember which are left: until
   track_started(), only those can hold a predecessor's processes. */
void		 track_prune(struct track *);
/* The instances tendd starts with are started. */
void		 track_started(struct track *);
/* Can an instance that never ran in this tendd have processes left (a
   predecessor's, or a removed program's still stopping)? */
bool		 track_may_hold(struct track *, const struct svc *);
void		 track_free(struct track *);
/* "cgroup" or "process-tree". */
const char	*track_mode(const struct track *);
/* The instance's cgroup as in /proc/PID/cgroup, or NULL. */
char		*track_cgroup_path(const struct track *, const struct svc *);

/* An fd for launch_instance's cgroup_fd (caller closes), or -1. */
int		 track_spawn_fd(struct track *, const struct svc *);
/* Send sig to every process of the instance, main process included.
   Returns how many were signalled; *found_main (if not NULL) says whether
   the main process was among the instance's processes. */
int		 track_signal(struct track *, struct svc *, int sig,
		    bool *found_main);
/* Is a process of the instance left besides its main process? */
bool		 track_busy(struct track *, struct svc *);
/* How many processes of each instance are alive besides its main one,
   into counts[] (one look at the tree for all of them, not one each). */
void		 track_counts(struct track *, struct svc **, size_t n,
		    size_t *counts);
/* Does track_counts cost each instance its own read (cgroups), so that
   counting a list in parts costs no more than counting it at once? In
   process-tree mode every call walks all of tendd's processes. */
bool		 track_counts_each(const struct track *);
/* PIDs of the instance's processes other than its main process that
   are tendd's children (what a forking launcher left). */
int		 track_orphans_of(struct track *, struct svc *, pid_t **,
		    size_t *);
/* The program name (caller frees) and *index that pid was started with
   (its TEND_PROGRAM and TEND_INSTANCE), or NULL. */
char		*track_env_instance(pid_t, unsigned *index);
/* The PIDs of the instance's processes, main one included (malloc'd,
   NULL when none): 0, or -1 with errno. */
int		 track_pids(struct track *, struct svc *, pid_t **, size_t *);
/*
 * SIGKILL pid, if it is still the process that started at starttime,
 * with its process group if it leads one and every descendant it has
 * (found by following parent links, before anything is killed). For
 * processes tendd knows of no instance for (a predecessor's). Returns
 * how many were signalled.
 */
int		 track_kill_tree(struct track *, pid_t, uint64_t starttime);
/*
 * Process-tree mode: is pid a child of tendd's (an orphan re-parented to
 * it) that no other instance claims? Then it is the instance's from now
 * on. Always false in cgroup mode, where the leaf says whose a process
 * is.
 */
bool		 track_claim_orphan(struct track *, struct svc *, pid_t);
/* Is pid one of the instance's processes? */
bool		 track_owns(struct track *, struct svc *, pid_t);

/* A child of tendd's was reaped: forget what was known of it. */
void		 track_reaped(struct track *, pid_t);
/* New children of tendd's (orphans just re-parented): look at them now,
   while their session, group and parentage still tell whose they are. */
void		 track_look(struct track *);
/* An instance is about to be freed: forget it, and remove its cgroup
   if nothing is left in it. */
void		 track_forget(struct track *, struct svc *);
/* SIGKILL tendd's children that belong to no instance. Returns how
   many. */
int		 track_kill_strays(struct track *);

/*
 * The processes of the given instances as docs/protocol.md's "ps" lists
 * them (with strays, also those attributed to no instance), one process
 * object at a time, so that the caller can send them in parts. new looks
 * at every process; next reads one's command line, and returns NULL past
 * the last. The list must be freed before an instance in v is.
 */
struct track_ps	*track_ps_new(struct track *, struct svc **, size_t,
		    bool strays);
json_t		*track_ps_next(struct track_ps *);
void		 track_ps_free(struct track_ps *);	/* NULL ok */

#endif
