/*
 * proctab.h: the one table of every PID tendd is responsible for, keyed by
 * PID, O(1) lookup. The reaper looks each reaped PID up here and hands the
 * exit to its owner; a PID not here is an adopted orphan.
 *
 * The table does not own the owners; owners remove their PIDs.
 */
#ifndef TEND_PROCTAB_H
#define TEND_PROCTAB_H

#include <sys/types.h>

#include <stddef.h>

enum proctab_kind {
	PROCTAB_INSTANCE,	/* owner is a struct svc */
};

struct proctab;

struct proctab	*proctab_new(void);
void		 proctab_free(struct proctab *);
/* Returns 0, or -1 if pid is already present. */
int		 proctab_add(struct proctab *, pid_t, enum proctab_kind,
		    void *);
/* Returns the owner (and its kind) or NULL. */
void		*proctab_find(const struct proctab *, pid_t,
		    enum proctab_kind *);
/* Returns the owner it removed, or NULL. */
void		*proctab_remove(struct proctab *, pid_t);
size_t		 proctab_count(const struct proctab *);

#endif
