/*
 * cgroup.h: one cgroup v2 per instance, so every descendant of a program,
 * whatever it does (setsid, double fork), is found and killed with it.
 *
 * Layout: tendd's own cgroup (from /proc/self/cgroup, under the cgroup2
 * mount found in /proc/self/mountinfo) gets a subtree named by the caller
 * (one per state_dir, so a restarted tendd finds its predecessor's), and
 * that gets one leaf per instance ("web@0"). No controller is enabled:
 * the leaves are for tracking and cgroup.kill only.
 */
#ifndef TEND_CGROUP_H
#define TEND_CGROUP_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

struct cgroup_root;

/*
 * One line of /proc/self/mountinfo (cut up in place): if it is a cgroup2
 * mount (*seen is set then) whose root holds own, the directory own is
 * at, malloc'd; else NULL. Apart from the reading for tests/fuzz.
 */
char		*cgroup_mountinfo_dir(char *line, const char *own, bool *seen);

/*
 * Find cgroup2 and tendd's cgroup, create the subtree name there (if
 * missing) and check it is usable (a leaf can be made and written). NULL
 * with the reason in err when tendd cannot use cgroups here (none
 * mounted, no cgroup2, read-only, not delegated, ...).
 */
struct cgroup_root *cgroup_root_open(const char *name, char *err,
		    size_t errlen);
/* Remove the subtree if it is empty, and free. NULL is a no-op. */
void		 cgroup_root_free(struct cgroup_root *);
/* The subtree's path under the cgroup2 mount, e.g. "/tend-1a2b3c4d"
   (as in /proc/PID/cgroup). */
const char	*cgroup_root_path(const struct cgroup_root *);

/* Make (if missing) the leaf and open it O_PATH|O_DIRECTORY|O_CLOEXEC
   for CLONE_INTO_CGROUP. Returns the fd, or -1 with errno. */
int		 cgroup_open(struct cgroup_root *, const char *leaf);
/* The PIDs in the leaf (cgroup.procs). A missing leaf has none. Returns
   0 with a malloc'd array (NULL when empty), or -1 with errno. */
int		 cgroup_pids(struct cgroup_root *, const char *leaf, pid_t **,
		    size_t *);
/* Send sig to every process of the leaf (SIGKILL: cgroup.kill where the
   kernel has it, which also catches processes forking meanwhile).
   Returns how many were signalled (cgroup.kill: those listed before), or
   -1 with errno. A missing leaf is 0. */
int		 cgroup_signal(struct cgroup_root *, const char *leaf, int sig);
/* The leaf's cgroup.procs, opened once to count its processes again and
   again (cheaper than a path lookup each time). -1 with errno. */
int		 cgroup_procs_open(struct cgroup_root *, const char *leaf);
/* How many processes cgroup.procs (from cgroup_procs_open) lists now,
   except the PID except (0: none). -1 with errno (ENODEV: the leaf was
   removed; open it again). */
int		 cgroup_procs_count(int fd, pid_t except);
/* The PIDs cgroup.procs (from cgroup_procs_open) lists now, as
   cgroup_pids. -1 with errno (ENODEV: the leaf was removed). */
int		 cgroup_procs_pids(int fd, pid_t **, size_t *);
/* rmdir the leaf: 0, or -1 with errno (EBUSY: processes left). A missing
   leaf is 0. */
int		 cgroup_remove(struct cgroup_root *, const char *leaf);
/* rmdir every leaf of the subtree that holds no process (the others
   fail with EBUSY and stay, their names into *left, sorted, malloc'd
   with each name, when left is not NULL). Returns how many were
   removed. */
int		 cgroup_prune(struct cgroup_root *, char ***left, size_t *nleft);
/*
 * Remove the subtrees next to ours named prefix followed by a PID, whose
 * owner (that PID, in our PID namespace) is gone and whose leaves hold no
 * process: what a tendd --run that was killed left. Returns how many were
 * removed.
 */
int		 cgroup_prune_siblings(struct cgroup_root *, const char *prefix);
/* Is pid in the leaf now? */
bool		 cgroup_contains(struct cgroup_root *, const char *leaf, pid_t);

#endif
