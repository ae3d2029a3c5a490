/*
 * launch.h: start one instance's process.
 *
 * The child gets a new session, the program's directory, environment,
 * umask and (when tendd is root) user, group and supplementary groups, an
 * empty signal mask with default dispositions, stdin on /dev/null,
 * stdout/stderr as given, and no other fd. Without a user switch this is
 * posix_spawn (glibc uses clone(CLONE_VM|CLONE_VFORK): nothing of tendd's
 * address space is copied); with one it is fork with only async-signal-safe
 * calls in the child and the exec errno sent back through a CLOEXEC pipe.
 */
#ifndef TEND_LAUNCH_H
#define TEND_LAUNCH_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

struct launch_stdio {
	int	 in;		/* fds to put on 0, 1, 2; -1 keeps tendd's */
	int	 out;
	int	 err;
};

/*
 * Raise tendd's own open-file limit to the hard limit (each instance holds
 * pipes), remembering the original so children get it back.
 */
void	 launch_init(void);

/*
 * Returns the pid, or -1 with a message in err and *permanent set when the
 * failure will not go away by retrying (no such command, not executable,
 * bad environment file).
 */
pid_t	 launch_instance(const struct conf_program *, unsigned index,
	    const struct launch_stdio *, char *err, size_t errlen,
	    bool *permanent);

/* Find cmd in a PATH list; returns a malloc'd path or NULL (errno set). */
char	*launch_find_path(const char *cmd, const char *path);

#endif
