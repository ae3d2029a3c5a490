/* proctab.c: open-addressing hash table of PIDs (linear probing, deletion
 * by backward shift, so no tombstones and lookups stay short). */
#include <stdint.h>
#include <stdlib.h>

#include "proctab.h"
#include "util.h"

struct proctab_slot {
	pid_t			 pid;	/* 0: empty */
	void			*owner;
};

struct proctab {
	struct proctab_slot	*slots;
	size_t			 cap;	/* power of two */
	size_t			 count;
};

static size_t
proctab_hash(pid_t pid, size_t cap)
{
	uint32_t	 h = (uint32_t)pid * 2654435761u;

	return (size_t)h & (cap - 1);
}

struct proctab *
proctab_new(void)
{
	struct proctab	*t = xcalloc(1, sizeof *t);

	t->cap = 64;
	t->slots = xcalloc(t->cap, sizeof *t->slots);
	return t;
}

void
proctab_free(struct proctab *t)
{
	if (t == NULL)
		return;
	free(t->slots);
	free(t);
}

static void
proctab_grow(struct proctab *t)
{
	struct proctab_slot	*old = t->slots;
	size_t			 oldcap = t->cap, i, j;

	t->cap *= 2;
	t->slots = xcalloc(t->cap, sizeof *t->slots);
	for (i = 0; i < oldcap; i++) {
		if (old[i].pid == 0)
			continue;
		j = proctab_hash(old[i].pid, t->cap);
		while (t->slots[j].pid != 0)
			j = (j + 1) & (t->cap - 1);
		t->slots[j] = old[i];
	}
	free(old);
}

int
proctab_add(struct proctab *t, pid_t pid, void *owner)
{
	size_t	 i;

	if ((t->count + 1) * 4 > t->cap * 3)
		proctab_grow(t);
	i = proctab_hash(pid, t->cap);
	while (t->slots[i].pid != 0) {
		if (t->slots[i].pid == pid)
			return -1;
		i = (i + 1) & (t->cap - 1);
	}
	t->slots[i].pid = pid;
	t->slots[i].owner = owner;
	t->count++;
	return 0;
}

static struct proctab_slot *
proctab_slot(const struct proctab *t, pid_t pid)
{
	size_t	 i = proctab_hash(pid, t->cap);

	while (t->slots[i].pid != 0) {
		if (t->slots[i].pid == pid)
			return &t->slots[i];
		i = (i + 1) & (t->cap - 1);
	}
	return NULL;
}

void *
proctab_find(const struct proctab *t, pid_t pid)
{
	struct proctab_slot	*s;

	if (pid <= 0 || (s = proctab_slot(t, pid)) == NULL)
		return NULL;
	return s->owner;
}

void *
proctab_remove(struct proctab *t, pid_t pid)
{
	struct proctab_slot	*s;
	size_t			 i, j, k, mask = t->cap - 1;
	void			*owner;

	if (pid <= 0 || (s = proctab_slot(t, pid)) == NULL)
		return NULL;
	owner = s->owner;
	i = (size_t)(s - t->slots);
	t->slots[i].pid = 0;
	t->count--;
	/* Shift back later entries of the same probe run into the hole. */
	j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (t->slots[j].pid == 0)
			break;
		k = proctab_hash(t->slots[j].pid, t->cap);
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			t->slots[i] = t->slots[j];
			t->slots[j].pid = 0;
			i = j;
		}
	}
	return owner;
}

size_t
proctab_count(const struct proctab *t)
{
	return t->count;
}
