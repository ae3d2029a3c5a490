/* pidrec.c: state_dir/pids, the spawn record; see pidrec.h. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"
#include "pidrec.h"
#include "procfs.h"
#include "util.h"

#define PIDREC_FILE	"pids"
#define PIDREC_MAGIC	"tend pids 1\n"
/* Slots added at a time when none is free. */
#define PIDREC_GROW	64
/* Far beyond any real number of instances: a bigger file is not ours. */
#define PIDREC_MAX	(64 * 1024 * 1024)

/* The header, then slot i at PIDREC_SLOT * (i + 1). */
struct pidrec_header {
	char		 magic[16];
	uint32_t	 slot_size;
	uint32_t	 reserved;
	char		 boot_id[40];
	uint8_t		 pad[64];
};

/* What a start records, 24 bytes, no padding. */
struct pidrec_data {
	int32_t		 pid;		/* the child's */
	uint32_t	 flags;
	uint64_t	 t0;		/* CLOCK_BOOTTIME ns before the clone */
	uint64_t	 t1;		/* the child's reading */
};

struct pidrec_slot {
	char		 program[72];	/* NUL-terminated; "" when free */
	uint32_t	 index;
	uint32_t	 used;
	struct pidrec_data data;
	uint8_t		 pad[24];
};
#define PIDREC_SLOT	128

_Static_assert(sizeof(struct pidrec_header) == PIDREC_SLOT, "header size");
_Static_assert(sizeof(struct pidrec_slot) == PIDREC_SLOT, "slot size");
_Static_assert(offsetof(struct pidrec_slot, data) == 80, "data offset");
_Static_assert(sizeof(struct pidrec_data) == 24, "record size");
_Static_assert(sizeof(struct pidrec_slot) <= LAUNCH_RECORD_MAX,
    "a slot is what a child writes");

/* A predecessor's slot, until settled. */
struct pidrec_old {
	struct pidrec_entry	 e;
	int			 slot;
	bool			 claimed;
};

struct pidrec {
	int			 fd;
	char			*path;
	size_t			 nslots;	/* in the file */
	int			*free;		/* free slots, a stack */
	size_t			 nfree;
	size_t			 capfree;
	struct pidrec_old	*old;		/* sorted by program, index */
	size_t			 nold;
	uint64_t		 fsize;		/* RLIMIT_FSIZE, at open */
};

static off_t
pidrec_offset(int slot)
{
	return (off_t)PIDREC_SLOT * (slot + 1);
}

static void
pidrec_push_free(struct pidrec *r, int slot)
{
	if (r->nfree == r->capfree) {
		r->capfree = r->capfree == 0 ? PIDREC_GROW : r->capfree * 2;
		r->free = xreallocarray(r->free, r->capfree,
		    sizeof *r->free);
	}
	r->free[r->nfree++] = slot;
}

static int
pidrec_old_cmp(const void *a, const void *b)
{
	const struct pidrec_entry *x = &((const struct pidrec_old *)a)->e;
	const struct pidrec_entry *y = &((const struct pidrec_old *)b)->e;
	int			 c;

	if ((c = strcmp(x->program, y->program)) != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int
pidrec_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t	 n;

	do
		n = pwrite(fd, buf, len, off);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Start the file afresh: a header for this boot and no slot. */
static int
pidrec_reset(struct pidrec *r, const char *boot)
{
	struct pidrec_header	 h;

	memset(&h, 0, sizeof h);
	memcpy(h.magic, PIDREC_MAGIC, sizeof PIDREC_MAGIC - 1);
	h.slot_size = PIDREC_SLOT;
	snprintf(h.boot_id, sizeof h.boot_id, "%s", boot);
	if (ftruncate(r->fd, 0) == -1 ||
	    pidrec_pwrite(r->fd, &h, sizeof h, 0) == -1)
		return -1;
	r->nslots = 0;
	return 0;
}

/* Take in what the predecessor recorded (buf holds the whole file). */
static void
pidrec_load(struct pidrec *r, const char *buf, size_t len)
{
	const struct pidrec_slot	*sl;
	struct pidrec_old		*o;
	size_t				 i;

	r->nslots = len / PIDREC_SLOT - 1;
	r->old = xcalloc(r->nslots + 1, sizeof *r->old);
	for (i = 0; i < r->nslots; i++) {
		sl = (const struct pidrec_slot *)(const void *)
		    (buf + PIDREC_SLOT * (i + 1));
		if (sl->used != 1 ||
		    memchr(sl->program, '\0', sizeof sl->program) == NULL ||
		    !util_valid_name(sl->program)) {
			pidrec_push_free(r, (int)i);
			continue;
		}
		o = &r->old[r->nold++];
		o->e.program = xstrdup(sl->program);
		o->e.index = sl->index;
		o->e.pid = sl->data.pid > 0 ? sl->data.pid : 0;
		o->e.flags = sl->data.flags;
		o->e.t0 = sl->data.t0;
		o->e.t1 = sl->data.t1;
		o->slot = (int)i;
	}
	qsort(r->old, r->nold, sizeof *r->old, pidrec_old_cmp);
	/* The free stack pops the lowest slots first. */
	for (i = 0; i < r->nfree / 2; i++) {
		int	 t = r->free[i];

		r->free[i] = r->free[r->nfree - 1 - i];
		r->free[r->nfree - 1 - i] = t;
	}
}

struct pidrec *
pidrec_open(const char *dir, char *err, size_t errlen)
{
	struct pidrec			*r;
	const struct pidrec_header	*h;
	struct rlimit			 rl;
	struct stat			 st;
	char				 boot[40], *buf = NULL;
	size_t				 len = 0;
	ssize_t				 n;

	if (procfs_boot_id(boot, sizeof boot) == -1)
		boot[0] = '\0';
	r = xcalloc(1, sizeof *r);
	r->fsize = UINT64_MAX;
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		r->fsize = rl.rlim_cur;
	xasprintf(&r->path, "%s/%s", dir, PIDREC_FILE);
	r->fd = open(r->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY |
	    O_NOFOLLOW | O_NONBLOCK, 0600);
	if (r->fd == -1) {
		snprintf(err, errlen, "open %s: %s", r->path, strerror(errno));
		goto fail;
	}
	if (fstat(r->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", r->path);
		goto fail;
	}
	if (st.st_size > PIDREC_MAX)
		st.st_size = 0;		/* not ours: start afresh */
	len = (size_t)st.st_size;
	buf = xmalloc(len + 1);
	for (size_t got = 0; got < len; got += (size_t)n) {
		if ((n = pread(r->fd, buf + got, len - got, (off_t)got)) ==
		    -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			len = got;
			break;
		}
	}
	h = (const struct pidrec_header *)(const void *)buf;
	if (len >= PIDREC_SLOT && boot[0] != '\0' &&
	    memcmp(h->magic, PIDREC_MAGIC, sizeof PIDREC_MAGIC - 1) == 0 &&
	    h->slot_size == PIDREC_SLOT &&
	    strncmp(h->boot_id, boot, sizeof h->boot_id) == 0)
		pidrec_load(r, buf, len - len % PIDREC_SLOT);
	else if (pidrec_reset(r, boot) == -1) {
		snprintf(err, errlen, "write %s: %s", r->path,
		    strerror(errno));
		goto fail;
	}
	free(buf);
	return r;

fail:
	free(buf);
	pidrec_free(r);
	return NULL;
}

static void
pidrec_forget_old(struct pidrec *r)
{
	size_t	 i;

	for (i = 0; i < r->nold; i++)
		free((char *)r->old[i].e.program);
	free(r->old);
	r->old = NULL;
	r->nold = 0;
}

void
pidrec_free(struct pidrec *r)
{
	if (r == NULL)
		return;
	if (r->fd != -1)
		close(r->fd);
	pidrec_forget_old(r);
	free(r->free);
	free(r->path);
	free(r);
}

static struct pidrec_old *
pidrec_old_find(const struct pidrec *r, const char *program, unsigned index)
{
	struct pidrec_old	 key;

	if (r->nold == 0)
		return NULL;
	memset(&key, 0, sizeof key);
	key.e.program = program;
	key.e.index = index;
	return bsearch(&key, r->old, r->nold, sizeof *r->old, pidrec_old_cmp);
}

const struct pidrec_entry *
pidrec_find(const struct pidrec *r, const char *program, unsigned index)
{
	struct pidrec_old	*o = pidrec_old_find(r, program, index);

	return o != NULL && o->e.pid > 0 ? &o->e : NULL;
}

/* Add PIDREC_GROW slots to the file, allocated so that no write into
   them can fail for space. */
static int
pidrec_grow(struct pidrec *r)
{
	size_t	 i;
	int	 e;

	e = posix_fallocate(r->fd, pidrec_offset((int)r->nslots),
	    (off_t)PIDREC_SLOT * PIDREC_GROW);
	if (e != 0) {
		errno = e;
		return -1;
	}
	for (i = PIDREC_GROW; i > 0; i--)
		pidrec_push_free(r, (int)(r->nslots + i - 1));
	r->nslots += PIDREC_GROW;
	return 0;
}

int
pidrec_claim(struct pidrec *r, const char *program, unsigned index)
{
	struct pidrec_old	*o;

	if ((o = pidrec_old_find(r, program, index)) != NULL &&
	    !o->claimed) {
		o->claimed = true;
		return o->slot;
	}
	if (r->nfree == 0 && pidrec_grow(r) == -1)
		return -1;
	return r->free[--r->nfree];
}

void
pidrec_release(struct pidrec *r, int slot)
{
	struct pidrec_slot	 sl;

	if (r == NULL || slot < 0)
		return;
	memset(&sl, 0, sizeof sl);
	/* If this fails the record stays: harmless, as its process is
	   gone; the slot is not used again. */
	if (pidrec_pwrite(r->fd, &sl, sizeof sl, pidrec_offset(slot)) == 0)
		pidrec_push_free(r, slot);
}

void
pidrec_settle(struct pidrec *r, void (*fn)(const struct pidrec_entry *,
    void *), void *arg)
{
	size_t	 i;

	for (i = 0; i < r->nold; i++) {
		if (r->old[i].claimed)
			continue;
		if (r->old[i].e.pid > 0 && fn != NULL)
			fn(&r->old[i].e, arg);
		pidrec_release(r, r->old[i].slot);
	}
	pidrec_forget_old(r);
}

void
pidrec_target(const struct pidrec *r, int slot, const char *program,
    unsigned index, uint32_t flags, uint64_t t0, struct launch_record *rec)
{
	struct pidrec_slot	 sl;

	memset(&sl, 0, sizeof sl);
	snprintf(sl.program, sizeof sl.program, "%s", program);
	sl.index = index;
	sl.used = 1;
	sl.data.flags = flags;
	sl.data.t0 = t0;
	memcpy(rec->image, &sl, sizeof sl);
	rec->len = sizeof sl;
	rec->pid_off = offsetof(struct pidrec_slot, data) +
	    offsetof(struct pidrec_data, pid);
	rec->t1_off = offsetof(struct pidrec_slot, data) +
	    offsetof(struct pidrec_data, t1);
	rec->offset = pidrec_offset(slot);
	rec->fd = slot >= 0 ? r->fd : -1;
	/* A write past RLIMIT_FSIZE (the child has tendd's) would raise
	   SIGXFSZ in the child, pending until its signals are unblocked
	   with default dispositions: it would die before its exec. */
	if (rec->fd != -1 && (uint64_t)rec->offset + rec->len > r->fsize)
		rec->fd = -1;
}

bool
pidrec_matches(const struct pidrec_entry *e, pid_t pid, uint64_t starttime)
{
	static long	 hz;
	uint64_t	 per, hi;

	if (hz == 0)
		hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0 || e->pid <= 0 || pid != e->pid || e->t0 == 0)
		return false;
	per = 1000000000 / (uint64_t)hz;
	hi = e->t1 != 0 ? e->t1 : procfs_boot_now();
	return starttime >= e->t0 / per && starttime <= hi / per;
}
