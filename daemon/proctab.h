/*
 * proctab.h: a hash table from PID to a pointer, O(1) lookup: the reaper's
 * table of owners (reaper.h), and a set of PIDs for the process tracker.
 *
 * The table does not own what it points to.
 */
#ifndef TEND_PROCTAB_H
#define TEND_PROCTAB_H

#include <sys/types.h>

#include <stddef.h>

struct proctab;

struct proctab	*proctab_new(void);
void		 proctab_free(struct proctab *);
/* Returns 0, or -1 if pid is already present. */
int		 proctab_add(struct proctab *, pid_t, void *);
/* Returns the pointer, or NULL. */
void		*proctab_find(const struct proctab *, pid_t);
/* Returns the owner it removed, or NULL. */
void		*proctab_remove(struct proctab *, pid_t);
size_t		 proctab_count(const struct proctab *);

#endif
