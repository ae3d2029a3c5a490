/*
 * rundir.h: a program's runtime_directory (systemd's RuntimeDirectory=):
 * directories under /run (or $XDG_RUNTIME_DIR) made for it before it
 * starts, owned by its user and group, and removed with all they hold
 * once it is stopped.
 *
 * A directory whose name holds {instance} is each instance's own (made
 * and removed with that instance); the others are the program's, made
 * before any instance starts and removed once none runs. The caller
 * decides when; this module only does it, never following a symlink a
 * program may have put there.
 */
#ifndef TEND_RUNDIR_H
#define TEND_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>

struct conf_program;

/* Make the directories of instance index that are missing, with their
   parents, and give them the program's owner and runtime_directory_mode.
   0, or -1 with errno and a message in err. */
int		 rundir_create(const struct conf_program *, unsigned index,
		    char *err, size_t errlen);
/* Remove the program's directories: those of instance index (with
   shared, the program's own too). Failures are logged. */
void		 rundir_remove(const struct conf_program *, unsigned index,
		    bool shared);
/* Does the program have directories that are not per instance? */
bool		 rundir_shared(const struct conf_program *);

#endif
