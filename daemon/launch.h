/*
 * launch.h: start one instance's process.
 *
 * The child gets a new session, the program's directory, environment,
 * umask and (when tendd is root) user, group and supplementary groups, an
 * empty signal mask with default dispositions, stdin on /dev/null,
 * stdout/stderr as given, and no other fd. It is started with
 * clone(CLONE_VM|CLONE_VFORK|CLONE_FILES), like glibc's posix_spawn but
 * sharing tendd's fd table instead of copying it (see launch.c), with
 * only raw, async-signal-safe system calls in the child and its errno
 * handed back through shared memory. With a cgroup the child writes
 * itself into cgroup.procs before anything else: posix_spawn cannot place
 * a child in a cgroup before it runs (not before glibc 2.39), and moving
 * it in after exec would let it fork outside first.
 */
#ifndef TEND_LAUNCH_H
#define TEND_LAUNCH_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct launch_stdio {
	int	 in;		/* fds to put on 0, 1, 2; -1 keeps tendd's */
	int	 out;
	int	 err;
	bool	 foreground;	/* tendd --run: stay in tendd's session (and
				   its terminal) in a process group of its
				   own, instead of a new session */
	bool	 terminal;	/* with foreground: make that group the
				   foreground of the terminal on fd 0 (which
				   tendd's group is), before exec */
};

/*
 * Where the child records itself before it runs anything of the program
 * (pidrec.h): first of all, it puts its own PID (int32_t) at pid_off and
 * the CLOCK_BOOTTIME it reads then (uint64_t, ns) at t1_off of image, and
 * writes the len bytes of image at offset of fd with one pwrite; the rest
 * of image is the caller's. A tendd that dies at any moment after the
 * clone leaves the PID on file. fd -1: no record.
 */
#define LAUNCH_RECORD_MAX	128
struct launch_record {
	int		 fd;
	off_t		 offset;
	size_t		 len;
	size_t		 pid_off;	/* 4-aligned */
	size_t		 t1_off;	/* 8-aligned */
	uint64_t	 image[LAUNCH_RECORD_MAX / sizeof(uint64_t)];
};

/*
 * Raise tendd's own open-file limit to the hard limit (each instance holds
 * pipes), remembering the original so children get it back.
 */
void	 launch_init(void);

/*
 * Returns the pid, or -1 with errno, a message in err and *permanent set
 * when the failure will not go away by retrying (no such command, not executable,
 * bad environment file). With cgroup_fd (from cgroup_open) other than -1
 * the child moves itself into that cgroup before exec: the program has no
 * moment outside it in which to fork.
 */
pid_t	 launch_instance(const struct conf_program *, unsigned index,
	    const struct launch_stdio *, int cgroup_fd,
	    struct launch_record *, char *err, size_t errlen,
	    bool *permanent);

/* Find cmd in a PATH list; returns a malloc'd path or NULL (errno set). */
char	*launch_find_path(const char *cmd, const char *path);

#endif
