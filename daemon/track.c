/* track.c: every process of every instance; see track.h for the modes. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "procfs.h"
#include "proctab.h"
#include "proto.h"
#include "svc.h"
#include "track.h"
#include "util.h"
#include "wire.h"

#define TRACK_CMDLINE_MAX	4096

/* What an earlier look found out about a process. */
struct track_known {
	pid_t		 pid;
	uint64_t	 starttime;
	struct svc	*svc;		/* NULL: nobody's */
};

struct track {
	struct track_hooks	 hooks;
	struct cgroup_root	*cg;
	struct track_known	*known;
	size_t			 nknown;
	size_t			 capknown;
	pid_t			 self;
	bool			 run;		/* tendd --run's subtree */
	bool			 starting;	/* left below is all there is */
	char			**left;		/* leaves that were not empty at
						   start, sorted */
	size_t			 nleft;
};

/* One process found, in tree order. */
struct track_proc {
	pid_t		 pid;
	pid_t		 ppid;
	pid_t		 pgrp;
	char		 state;
	struct svc	*svc;
	unsigned	 depth;
	bool		 main;
	bool		 adopted;
};

struct track_list {
	struct track_proc	*v;
	size_t			 n;
	size_t			 cap;
};

struct pids {
	pid_t	*v;
	size_t	 n;
	size_t	 cap;
};

static void
track_leaf(const struct svc *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s@%u", s->cp->name, s->index);
}

/* One subtree per state_dir: a restarted tendd finds its predecessor's
   leaves; two tendds never share one. */
static void
track_root_name(const char *state_dir, char *buf, size_t len)
{
	uint32_t	 h = 2166136261u;
	const char	*p;

	for (p = state_dir; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	snprintf(buf, len, "tend-%08x", h);
}

/*
 * tendd --run keeps no state: a subtree of its own, named after its PID
 * namespace and PID (each container's tendd is PID 1), so that a later
 * one can tell whether the tendd that made it is gone.
 */
static void
track_run_prefix(char *buf, size_t len)
{
	struct stat	 ns;

	if (stat("/proc/self/ns/pid", &ns) == -1)
		ns.st_ino = 0;
	snprintf(buf, len, "tend-run-%llu-", (unsigned long long)ns.st_ino);
}

struct track *
track_new(const struct track_hooks *hooks, bool want_cgroups,
    const char *state_dir)
{
	struct track	*t = xcalloc(1, sizeof *t);
	char		 name[64], err[512];

	t->hooks = *hooks;
	t->self = getpid();
	if (!want_cgroups) {
		log_info("tracking descendants by process tree (cgroups = "
		    "\"off\")");
		return t;
	}
	if (state_dir != NULL)
		track_root_name(state_dir, name, sizeof name);
	else {
		track_run_prefix(name, sizeof name);
		snprintf(name + strlen(name), sizeof name - strlen(name), "%d",
		    (int)t->self);
		t->run = true;
	}
	if ((t->cg = cgroup_root_open(name, err, sizeof err)) == NULL)
		log_info("tracking descendants by process tree: %s", err);
	else
		log_info("tracking descendants with cgroups under %s",
		    cgroup_root_path(t->cg));
	return t;
}

void
track_prune(struct track *t)
{
	char	 prefix[64];
	int	 n;

	if (t->cg == NULL)
		return;
	if ((n = cgroup_prune(t->cg, &t->left, &t->nleft)) > 0)
		log_info("removed %d empty cgroup%s a previous tendd left",
		    n, n == 1 ? "" : "s");
	t->starting = true;
	if (!t->run)
		return;
	track_run_prefix(prefix, sizeof prefix);
	if ((n = cgroup_prune_siblings(t->cg, prefix)) > 0)
		log_info("removed the empty cgroups of %d tendd --run%s that "
		    "ended", n, n == 1 ? "" : "s");
}

static void
track_forget_left(struct track *t)
{
	size_t	 i;

	for (i = 0; i < t->nleft; i++)
		free(t->left[i]);
	free(t->left);
	t->left = NULL;
	t->nleft = 0;
}

void
track_started(struct track *t)
{
	t->starting = false;
	track_forget_left(t);
}

static int
track_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool
track_may_hold(struct track *t, const struct svc *s)
{
	char	 leaf[128], *key = leaf;

	/* By process tree, nothing is found of an instance that never ran
	   here (no session, no main process). */
	if (t->cg == NULL)
		return false;
	/* At start, one look at the subtree instead of one per instance
	   (a thousand failed opens). */
	if (!t->starting)
		return true;
	track_leaf(s, leaf, sizeof leaf);
	return t->nleft > 0 && bsearch(&key, t->left, t->nleft,
	    sizeof *t->left, track_strcmp) != NULL;
}

void
track_free(struct track *t)
{
	if (t == NULL)
		return;
	track_forget_left(t);
	cgroup_root_free(t->cg);
	free(t->known);
	free(t);
}

const char *
track_mode(const struct track *t)
{
	return t->cg != NULL ? "cgroup" : "process-tree";
}

char *
track_cgroup_path(const struct track *t, const struct svc *s)
{
	char	 leaf[128], *path;

	if (t->cg == NULL)
		return NULL;
	track_leaf(s, leaf, sizeof leaf);
	xasprintf(&path, "%s/%s", cgroup_root_path(t->cg), leaf);
	return path;
}

int
track_spawn_fd(struct track *t, const struct svc *s)
{
	char	 leaf[128];
	int	 fd;

	if (t->cg == NULL)
		return -1;
	track_leaf(s, leaf, sizeof leaf);
	if ((fd = cgroup_open(t->cg, leaf)) == -1)
		log_warn("%s: cgroup %s", s->name, leaf);
	return fd;
}

/* Lists */

static void
pids_add(struct pids *p, pid_t pid)
{
	if (p->n == p->cap) {
		p->cap = p->cap == 0 ? 16 : p->cap * 2;
		p->v = xreallocarray(p->v, p->cap, sizeof *p->v);
	}
	p->v[p->n++] = pid;
}

static int
pid_cmp(const void *a, const void *b)
{
	pid_t	 x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

static void
list_add(struct track_list *l, const struct procfs_stat *st, struct svc *s,
    unsigned depth, bool main, bool adopted)
{
	struct track_proc	*p;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 32 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	p = &l->v[l->n++];
	p->pid = st->pid;
	p->ppid = st->ppid;
	p->pgrp = st->pgrp;
	p->state = st->state;
	p->svc = s;
	p->depth = depth;
	p->main = main;
	p->adopted = adopted;
}

/* Instances */

/* Call fn for every instance, retiring ones too; stop when it says so. */
static struct svc *
track_each(struct track *t, bool (*fn)(struct svc *, void *), void *arg)
{
	return t->hooks.each(fn, arg, t->hooks.ctx);
}

static bool
match_session(struct svc *s, void *arg)
{
	const struct procfs_stat	*st = arg;

	return s->sid != 0 && (s->sid == st->session || s->sid == st->pgrp);
}

struct env_match {
	const char	*program;
	unsigned	 index;
};

static bool
match_env(struct svc *s, void *arg)
{
	const struct env_match	*m = arg;

	return s->index == m->index && strcmp(s->cp->name, m->program) == 0;
}

static bool
match_leaf(struct svc *s, void *arg)
{
	char	 leaf[128];

	track_leaf(s, leaf, sizeof leaf);
	return strcmp(leaf, arg) == 0;
}

/* Is pid the main process of an instance (a child of tendd's, or one
   watched by pidfd)? */
static struct svc *
track_main_of(struct track *t, pid_t pid)
{
	return t->hooks.main_of(pid, t->hooks.ctx);
}

/* The known cache */

static struct track_known *
known_find(struct track *t, pid_t pid)
{
	size_t	 i;

	for (i = 0; i < t->nknown; i++) {
		if (t->known[i].pid == pid)
			return &t->known[i];
	}
	return NULL;
}

/* Drop what is known of processes that are gone: descendants deeper
   than tendd's children are reaped by others, unseen. */
static void
known_prune(struct track *t)
{
	struct procfs_stat	 st;
	size_t			 i;

	for (i = 0; i < t->nknown;) {
		if (procfs_read_stat(t->known[i].pid, &st) == -1 ||
		    st.starttime != t->known[i].starttime)
			t->known[i] = t->known[--t->nknown];
		else
			i++;
	}
}

static void
known_set(struct track *t, pid_t pid, uint64_t starttime, struct svc *s)
{
	struct track_known	*k;

	if ((k = known_find(t, pid)) == NULL) {
		/* Full: make room from the dead before growing, so what is
		   kept stays bounded by what lives. */
		if (t->nknown == t->capknown)
			known_prune(t);
		/* Still mostly full: grow, or the next one prunes again. */
		if (t->nknown >= t->capknown - t->capknown / 4) {
			t->capknown = t->capknown == 0 ? 16 : t->capknown * 2;
			t->known = xreallocarray(t->known, t->capknown,
			    sizeof *t->known);
		}
		k = &t->known[t->nknown++];
	}
	k->pid = pid;
	k->starttime = starttime;
	k->svc = s;
}

void
track_reaped(struct track *t, pid_t pid)
{
	size_t	 i;

	for (i = 0; i < t->nknown; i++) {
		if (t->known[i].pid == pid) {
			t->known[i] = t->known[--t->nknown];
			return;
		}
	}
}

void
track_forget(struct track *t, struct svc *s)
{
	char	 leaf[128];
	size_t	 i;

	if (s->cg_procs != -1) {
		close(s->cg_procs);
		s->cg_procs = -1;
	}
	if (t->cg != NULL) {
		track_leaf(s, leaf, sizeof leaf);
		if (cgroup_remove(t->cg, leaf) == -1 && errno != EBUSY)
			log_warn("%s: remove cgroup %s", s->name, leaf);
	}
	for (i = 0; i < t->nknown; i++) {
		if (t->known[i].svc == s)
			t->known[i].svc = NULL;
	}
}

/* The leaf under tendd's subtree that pid is in (its first component). */
static bool
track_pid_leaf(struct track *t, pid_t pid, char *leaf, size_t len)
{
	const char	*root = cgroup_root_path(t->cg), *p, *e;
	char		 path[64], buf[4096];
	size_t		 rlen = strlen(root);
	ssize_t		 n;
	int		 fd;

	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (p = buf; p != NULL && *p != '\0'; p = e != NULL ? e + 1 : NULL) {
		e = strchr(p, '\n');
		if (strncmp(p, "0::", 3) != 0)
			continue;
		p += 3;
		if (strncmp(p, root, rlen) != 0 || p[rlen] != '/')
			return false;
		p += rlen + 1;
		for (n = 0; p[n] != '\0' && p[n] != '/' && p[n] != '\n';
		    n++)
			;
		if (n == 0 || (size_t)n >= len)
			return false;
		memcpy(leaf, p, (size_t)n);
		leaf[n] = '\0';
		return true;
	}
	return false;
}

char *
track_env_instance(pid_t pid, unsigned *index)
{
	char		*prog, *inst, *end;
	unsigned long	 idx;
	bool		 ok = false;

	if ((prog = procfs_environ_get(pid, "TEND_PROGRAM")) == NULL)
		return NULL;
	if ((inst = procfs_environ_get(pid, "TEND_INSTANCE")) != NULL) {
		errno = 0;
		idx = strtoul(inst, &end, 10);
		ok = errno == 0 && *inst != '\0' && *end == '\0' &&
		    idx <= UINT32_MAX;
		*index = (unsigned)idx;
		free(inst);
	}
	if (!ok) {
		free(prog);
		return NULL;
	}
	return prog;
}

/* Whose is this process (not a main one)? NULL: nobody's. */
static struct svc *
track_attribute(struct track *t, pid_t pid)
{
	struct procfs_stat	 st;
	struct track_known	*k;
	struct env_match	 m;
	struct svc		*s = NULL;
	char			*prog, leaf[256];

	if (procfs_read_stat(pid, &st) == -1)
		return NULL;
	if ((k = known_find(t, pid)) != NULL && k->starttime == st.starttime)
		return k->svc;
	if (t->cg != NULL) {
		/* Its leaf says it all. */
		if (track_pid_leaf(t, pid, leaf, sizeof leaf))
			s = track_each(t, match_leaf, leaf);
		known_set(t, pid, st.starttime, s);
		return s;
	}
	s = track_each(t, match_session, &st);
	if (s == NULL && (prog = track_env_instance(pid, &m.index)) != NULL) {
		m.program = prog;
		s = track_each(t, match_env, &m);
		free(prog);
	}
	known_set(t, pid, st.starttime, s);
	return s;
}

void
track_look(struct track *t)
{
	struct pids	 kids = { NULL, 0, 0 };
	size_t		 i;

	if (procfs_children(t->self, &kids.v, &kids.n, &kids.cap) == -1)
		return;
	for (i = 0; i < kids.n; i++) {
		if (track_main_of(t, kids.v[i]) == NULL &&
		    known_find(t, kids.v[i]) == NULL)
			(void)track_attribute(t, kids.v[i]);
	}
	free(kids.v);
}

/* Collecting */

struct track_frame {
	pid_t		 pid;
	unsigned	 depth;
};

/*
 * Add root and its descendants, depth first in PID order, to l; pids in
 * seen are skipped (a process re-parented while we walk is listed once).
 * In process-tree mode what is found is remembered for later looks.
 */
static void
track_subtree(struct track *t, struct track_list *l, struct proctab *seen,
    pid_t root, struct svc *s, bool main, bool adopted)
{
	struct track_frame	*stack = NULL, f;
	struct procfs_stat	 st;
	struct pids		 kids = { NULL, 0, 0 };
	size_t			 n = 0, cap = 0, i;

	stack = xreallocarray(NULL, cap = 16, sizeof *stack);
	stack[n].pid = root;
	stack[n++].depth = 0;
	while (n > 0) {
		f = stack[--n];
		if (proctab_find(seen, f.pid) != NULL ||
		    procfs_read_stat(f.pid, &st) == -1)
			continue;
		(void)proctab_add(seen, f.pid, t);
		list_add(l, &st, s, f.depth, f.pid == root && main,
		    f.pid == root && adopted);
		if (t->cg == NULL && !(f.pid == root && main))
			known_set(t, f.pid, st.starttime, s);
		kids.n = 0;
		if (procfs_children(f.pid, &kids.v, &kids.n, &kids.cap) == -1)
			continue;
		if (kids.n > 1)
			qsort(kids.v, kids.n, sizeof *kids.v, pid_cmp);
		for (i = kids.n; i > 0; i--) {
			if (n == cap)
				stack = xreallocarray(stack, cap *= 2,
				    sizeof *stack);
			stack[n].pid = kids.v[i - 1];
			stack[n++].depth = f.depth + 1;
		}
	}
	free(kids.v);
	free(stack);
}

struct collect {
	struct track		*t;
	struct track_list	*l;
	struct proctab		*seen;
	struct svc		*only;
};

/* Main processes tendd watches but did not start as its child. */
static bool
collect_watched(struct svc *s, void *arg)
{
	struct collect	*c = arg;

	if ((c->only == NULL || c->only == s) && s->pid > 0 &&
	    track_main_of(c->t, s->pid) == NULL)
		track_subtree(c->t, c->l, c->seen, s->pid, s, true,
		    s->adopted);
	return false;
}

/* Where pid is in v[0..n) (sorted), or n. */
static size_t
pid_find(const pid_t *v, size_t n, pid_t pid)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == pid ? lo : n;
}

/* A process of a leaf under its parent, for finding children. */
struct leaf_kid {
	pid_t	 ppid;
	pid_t	 pid;
};

static int
leaf_kid_cmp(const void *a, const void *b)
{
	const struct leaf_kid	*x = a, *y = b;

	if (x->ppid != y->ppid)
		return x->ppid < y->ppid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/*
 * The instance's leaf, as trees: its main process first. Lookups are
 * binary searches, by PID in v and by parent in kids, so that a leaf of
 * 10,000 processes costs a sort, not 10,000 scans of it.
 */
static void
track_collect_leaf(struct track *t, struct svc *s, struct track_list *l,
    struct proctab *seen)
{
	struct procfs_stat	*st;
	struct track_frame	*stack, f;
	char			 leaf[128];
	struct leaf_kid		*kids;
	pid_t			*v = NULL;
	size_t			 n = 0, nkids = 0, i, j, lo, hi, mid, sp = 0;
	bool			 in;

	track_leaf(s, leaf, sizeof leaf);
	if (cgroup_pids(t->cg, leaf, &v, &n) == -1 || n == 0) {
		free(v);
		return;
	}
	qsort(v, n, sizeof *v, pid_cmp);
	st = xcalloc(n, sizeof *st);
	kids = xcalloc(n, sizeof *kids);
	for (i = 0; i < n; i++) {
		if (procfs_read_stat(v[i], &st[i]) == -1) {
			st[i].pid = 0;
			continue;
		}
		kids[nkids].ppid = st[i].ppid;
		kids[nkids++].pid = st[i].pid;
	}
	qsort(kids, nkids, sizeof *kids, leaf_kid_cmp);
	/* Roots: the main process, then whoever's parent is not in the
	   leaf (orphans re-parented to tendd), in PID order. */
	stack = xcalloc(n + 1, sizeof *stack);
	/* Walk: push roots (main last so it pops first). */
	for (i = n; i > 0; i--) {
		if (st[i - 1].pid == 0 || st[i - 1].pid == s->pid)
			continue;
		j = pid_find(v, n, st[i - 1].ppid);
		in = j < n && st[j].pid != 0;
		if (!in && sp < n + 1) {
			stack[sp].pid = st[i - 1].pid;
			stack[sp++].depth = 0;
		}
	}
	if (s->pid > 0 && (i = pid_find(v, n, s->pid)) < n &&
	    st[i].pid != 0) {
		stack[sp].pid = s->pid;
		stack[sp++].depth = 0;
	}
	while (sp > 0) {
		f = stack[--sp];
		if ((i = pid_find(v, n, f.pid)) == n || st[i].pid == 0 ||
		    proctab_find(seen, f.pid) != NULL)
			continue;
		(void)proctab_add(seen, f.pid, t);
		/* A root that is not the main process is an orphan: tendd
		   took it over, as its subreaper or from a predecessor. */
		list_add(l, &st[i], s, f.depth, f.pid == s->pid,
		    f.depth == 0 && (f.pid == s->pid ? s->adopted : true));
		/* Its children: the run of kids with it as parent. */
		for (lo = 0, hi = nkids; lo < hi;) {
			mid = lo + (hi - lo) / 2;
			if (kids[mid].ppid < f.pid)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (hi = lo; hi < nkids && kids[hi].ppid == f.pid; hi++)
			;
		for (j = hi; j > lo && sp < n + 1; j--) {
			stack[sp].pid = kids[j - 1].pid;
			stack[sp++].depth = f.depth + 1;
		}
	}
	free(kids);
	free(stack);
	free(st);
	free(v);
}

static bool
collect_leaf(struct svc *s, void *arg)
{
	struct collect	*c = arg;

	if (c->only == NULL || c->only == s)
		track_collect_leaf(c->t, s, c->l, c->seen);
	return false;
}

/*
 * Every process of only (or of every instance), as trees in l: main
 * processes and adopted orphans at depth 0. With strays, also the
 * children of tendd's that belong to no instance, and their descendants.
 */
static void
track_collect(struct track *t, struct svc *only, bool strays,
    struct track_list *l)
{
	struct collect	 c = { t, l, NULL, only };
	struct pids	 kids = { NULL, 0, 0 };
	struct svc	*s;
	size_t		 i;

	c.seen = proctab_new();
	if (t->cg != NULL)
		(void)track_each(t, collect_leaf, &c);
	if (t->cg == NULL || strays) {
		if (procfs_children(t->self, &kids.v, &kids.n, &kids.cap) ==
		    -1)
			kids.n = 0;
		if (kids.n > 1)
			qsort(kids.v, kids.n, sizeof *kids.v, pid_cmp);
	}
	for (i = 0; i < kids.n; i++) {
		if (proctab_find(c.seen, kids.v[i]) != NULL)
			continue;
		if ((s = track_main_of(t, kids.v[i])) != NULL) {
			if (t->cg == NULL && (only == NULL || only == s))
				track_subtree(t, l, c.seen, kids.v[i], s, true,
				    false);
			continue;
		}
		s = track_attribute(t, kids.v[i]);
		if (s == NULL ? strays : (t->cg == NULL &&
		    (only == NULL || only == s)))
			track_subtree(t, l, c.seen, kids.v[i], s, false, true);
	}
	if (t->cg == NULL)
		(void)track_each(t, collect_watched, &c);
	free(kids.v);
	proctab_free(c.seen);
}

/* Queries */

/*
 * The leaf's processes, read through the cgroup.procs fd the instance
 * keeps open (a path lookup each time was half of a status of every
 * instance, and a fifth of a stop of 1000): their PIDs into *v, or with v
 * NULL the count of those other than except. No leaf yet: none. -1 with
 * errno.
 */
static int
track_procs(struct track *t, struct svc *s, pid_t except, pid_t **v,
    size_t *n)
{
	char	 leaf[128];
	int	 i, c;

	*n = 0;
	if (v != NULL)
		*v = NULL;
	track_leaf(s, leaf, sizeof leaf);
	for (i = 0; i < 2; i++) {
		if (s->cg_procs == -1 &&
		    (s->cg_procs = cgroup_procs_open(t->cg, leaf)) == -1)
			return errno == ENOENT ? 0 : -1;
		if (v != NULL && cgroup_procs_pids(s->cg_procs, v, n) == 0)
			return 0;
		if (v == NULL &&
		    (c = cgroup_procs_count(s->cg_procs, except)) != -1) {
			*n = (size_t)c;
			return 0;
		}
		/* Removed and made again since: reopen. */
		close(s->cg_procs);
		s->cg_procs = -1;
	}
	return -1;
}

static size_t
track_others(struct track *t, struct svc *s)
{
	struct track_list	 l = { NULL, 0, 0 };
	size_t			 i, others = 0;

	if (t->cg != NULL) {
		if (track_procs(t, s, s->pid, NULL, &others) == -1)
			return 0;
		return others;
	}
	track_collect(t, s, false, &l);
	for (i = 0; i < l.n; i++)
		others += !l.v[i].main && l.v[i].state != 'Z';
	free(l.v);
	return others;
}

struct svc_index {
	const struct svc	*svc;
	size_t			 i;
};

static int
svc_index_cmp(const void *a, const void *b)
{
	uintptr_t	 x = (uintptr_t)((const struct svc_index *)a)->svc;
	uintptr_t	 y = (uintptr_t)((const struct svc_index *)b)->svc;

	return x < y ? -1 : x > y;
}

void
track_counts(struct track *t, struct svc **v, size_t n, size_t *counts)
{
	struct track_list	 l = { NULL, 0, 0 };
	struct svc_index	*idx, key, *hit;
	size_t			 i;

	memset(counts, 0, n * sizeof *counts);
	if (t->cg != NULL) {
		for (i = 0; i < n; i++)
			counts[i] = track_others(t, v[i]);
		return;
	}
	if (n == 0)
		return;
	idx = xcalloc(n, sizeof *idx);
	for (i = 0; i < n; i++) {
		idx[i].svc = v[i];
		idx[i].i = i;
	}
	qsort(idx, n, sizeof *idx, svc_index_cmp);
	track_collect(t, NULL, false, &l);
	for (i = 0; i < l.n; i++) {
		if (l.v[i].main || l.v[i].state == 'Z' || l.v[i].svc == NULL)
			continue;
		key.svc = l.v[i].svc;
		if ((hit = bsearch(&key, idx, n, sizeof *idx,
		    svc_index_cmp)) != NULL)
			counts[hit->i]++;
	}
	free(l.v);
	free(idx);
}

bool
track_counts_each(const struct track *t)
{
	return t->cg != NULL;
}

bool
track_busy(struct track *t, struct svc *s)
{
	return track_others(t, s) > 0;
}

/* Cgroup mode: what cgroup_signal does, from the kept cgroup.procs. */
static int
track_signal_leaf(struct track *t, struct svc *s, int sig, bool *hit)
{
	char	 leaf[128];
	pid_t	*v;
	size_t	 n, i;
	int	 c = 0;

	if (track_procs(t, s, 0, &v, &n) == 0) {
		for (i = 0; i < n; i++)
			*hit = *hit || (s->pid > 0 && v[i] == s->pid);
		if (sig != SIGKILL) {
			/* One round, as cgroup_signal's for this signal. */
			for (i = 0; i < n; i++)
				c += kill(v[i], sig) == 0;
			free(v);
			return c;
		}
		free(v);
	}
	/* SIGKILL: cgroup.kill, which also catches what forks meanwhile. */
	track_leaf(s, leaf, sizeof leaf);
	if ((c = cgroup_signal(t->cg, leaf, sig)) == -1)
		log_warn("%s: signal cgroup %s", s->name, leaf);
	return c < 0 ? 0 : c;
}

int
track_signal(struct track *t, struct svc *s, int sig, bool *found_main)
{
	struct track_list	 l = { NULL, 0, 0 };
	size_t			 i;
	int			 n = 0;
	bool			 found = false;

	if (t->cg != NULL) {
		n = track_signal_leaf(t, s, sig, &found);
		if (found_main != NULL)
			*found_main = found;
		return n;
	}
	track_collect(t, s, false, &l);
	/* The main process's group at once (also catching what forks
	   meanwhile), then whoever left it, each once. */
	if (s->pid > 0 && kill(-s->pid, sig) == 0)
		n++;
	for (i = 0; i < l.n; i++) {
		found = found || l.v[i].main;
		if (s->pid > 0 && l.v[i].pgrp == s->pid)
			continue;
		if (l.v[i].state != 'Z' && kill(l.v[i].pid, sig) == 0)
			n++;
	}
	free(l.v);
	if (found_main != NULL)
		*found_main = found;
	return n;
}

int
track_orphans_of(struct track *t, struct svc *s, pid_t **out, size_t *nout)
{
	struct pids	 kids = { NULL, 0, 0 }, res = { NULL, 0, 0 };
	struct procfs_stat st;
	size_t		 i;

	if (procfs_children(t->self, &kids.v, &kids.n, &kids.cap) == -1)
		return -1;
	for (i = 0; i < kids.n; i++) {
		if (track_main_of(t, kids.v[i]) != NULL ||
		    track_attribute(t, kids.v[i]) != s)
			continue;
		if (procfs_read_stat(kids.v[i], &st) == 0 && st.state != 'Z')
			pids_add(&res, kids.v[i]);
	}
	free(kids.v);
	*out = res.v;
	*nout = res.n;
	return 0;
}

int
track_pids(struct track *t, struct svc *s, pid_t **out, size_t *nout)
{
	struct track_list	 l = { NULL, 0, 0 };
	struct pids		 res = { NULL, 0, 0 };
	size_t			 i;

	*out = NULL;
	*nout = 0;
	if (t->cg != NULL)
		return track_procs(t, s, 0, out, nout);
	track_collect(t, s, false, &l);
	for (i = 0; i < l.n; i++) {
		if (l.v[i].state != 'Z')
			pids_add(&res, l.v[i].pid);
	}
	free(l.v);
	*out = res.v;
	*nout = res.n;
	return 0;
}

int
track_kill_tree(struct track *t, pid_t root, uint64_t starttime)
{
	struct pids		 all = { NULL, 0, 0 };
	struct procfs_stat	 st;
	size_t			 i;
	int			 fd, n = 0;
	bool			 leader;

	/* Pinned: the PID cannot be another process while we look. */
	if ((fd = procfs_pidfd_open(root, starttime)) == -1)
		return 0;
	leader = procfs_read_stat(root, &st) == 0 && st.pgrp == root;
	pids_add(&all, root);
	for (i = 0; i < all.n; i++) {
		if (all.n > 100000)
			break;
		(void)procfs_children(all.v[i], &all.v, &all.n, &all.cap);
	}
	/* The group first (it also takes what forks meanwhile), then the
	   others, the root through its pidfd. */
	if (leader && kill(-root, SIGKILL) == 0)
		n++;
	if (procfs_pidfd_signal(fd, SIGKILL) == 0)
		n++;
	for (i = 1; i < all.n; i++)
		n += kill(all.v[i], SIGKILL) == 0;
	close(fd);
	free(all.v);
	return n;
}

bool
track_owns(struct track *t, struct svc *s, pid_t pid)
{
	struct track_list	 l = { NULL, 0, 0 };
	char			 leaf[128];
	size_t			 i;
	bool			 found = false;

	if (t->cg != NULL) {
		track_leaf(s, leaf, sizeof leaf);
		return cgroup_contains(t->cg, leaf, pid);
	}
	track_collect(t, s, false, &l);
	for (i = 0; i < l.n && !found; i++)
		found = l.v[i].pid == pid;
	free(l.v);
	return found;
}

bool
track_claim_orphan(struct track *t, struct svc *s, pid_t pid)
{
	struct procfs_stat	 st;
	struct svc		*owner;

	if (t->cg != NULL || procfs_read_stat(pid, &st) == -1 ||
	    st.state == 'Z' || st.ppid != t->self ||
	    track_main_of(t, pid) != NULL)
		return false;
	owner = track_attribute(t, pid);
	if (owner != NULL && owner != s)
		return false;
	known_set(t, pid, st.starttime, s);
	return true;
}

int
track_kill_strays(struct track *t)
{
	struct pids		 kids = { NULL, 0, 0 };
	struct procfs_stat	 st;
	size_t			 i;
	int			 n = 0;

	if (procfs_children(t->self, &kids.v, &kids.n, &kids.cap) == -1)
		return 0;
	/* Each with what it started: an orphan's children are no more
	   anyone's than it is. */
	for (i = 0; i < kids.n; i++) {
		if (track_main_of(t, kids.v[i]) == NULL &&
		    procfs_read_stat(kids.v[i], &st) == 0)
			n += track_kill_tree(t, kids.v[i], st.starttime);
	}
	free(kids.v);
	return n;
}

/* ps */

/* A process object; never NULL, whatever its command line holds. */
static json_t *
track_proc_json(struct track *t, const struct track_proc *p)
{
	const char	*role;
	char		*cmd;
	json_t		*o;

	/* Its stat only when it has no command line (a kernel thread, a
	   zombie): a read less a process. Gone since the walk: "?". */
	if ((cmd = procfs_cmdline(p->pid, NULL, TRACK_CMDLINE_MAX)) == NULL)
		cmd = xstrdup("?");
	o = json_pack("{s:i,s:i,s:o,s:o,s:o,s:s,s:o,s:b,s:b,s:i}",
	    WIRE_K_PID, (int)p->pid,
	    WIRE_K_PPID, (int)p->ppid,
	    WIRE_K_PROGRAM, p->svc != NULL ? json_string(p->svc->cp->name) :
		json_null(),
	    WIRE_K_INSTANCE, p->svc != NULL ? json_integer(p->svc->index) :
		json_null(),
	    WIRE_K_NAME, p->svc != NULL ? json_string(p->svc->name) :
		json_null(),
	    WIRE_K_STATE, procfs_state_name(p->state),
	    /* Any bytes: argv need not be UTF-8, and a cut may split a
	       character. */
	    WIRE_K_COMMAND, proto_text(cmd, strlen(cmd)),
	    WIRE_K_ADOPTED, p->adopted,
	    WIRE_K_MAIN, p->main,
	    WIRE_K_DEPTH, (int)p->depth);
	role = t->hooks.role != NULL ? t->hooks.role(p->pid, t->hooks.ctx) :
	    NULL;
	json_object_set_new(o, WIRE_K_ROLE, role != NULL ? json_string(role) :
	    json_null());
	free(cmd);
	return o;
}

/* A tree to list: its root's place in the list, and where it goes. */
struct ps_root {
	size_t	 rank;		/* the instance's place in the request */
	int	 pass;		/* main process first, then orphans */
	size_t	 i;		/* in the list */
};

static int
ps_root_cmp(const void *a, const void *b)
{
	const struct ps_root	*x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->pass != y->pass)
		return x->pass < y->pass ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

struct track_ps {
	struct track		*t;
	struct track_list	 l;
	struct ps_root		*roots;
	size_t			 nroots;
	size_t			 root;	/* the tree being listed */
	size_t			 i;	/* the next process of it */
};

struct track_ps *
track_ps_new(struct track *t, struct svc **v, size_t n, bool strays)
{
	struct track_ps		*ps = xcalloc(1, sizeof *ps);
	struct svc_index	*idx, key, *hit;
	struct ps_root		*r;
	size_t			 i;

	ps->t = t;
	track_collect(t, NULL, strays, &ps->l);
	/* Each tree goes under its instance's place in v: found by a
	   binary search, then sorted, not one pass over the list each. */
	idx = xcalloc(n + 1, sizeof *idx);
	for (i = 0; i < n; i++) {
		idx[i].svc = v[i];
		idx[i].i = i;
	}
	qsort(idx, n, sizeof *idx, svc_index_cmp);
	ps->roots = xcalloc(ps->l.n + 1, sizeof *ps->roots);
	for (i = 0; i < ps->l.n; i++) {
		if (ps->l.v[i].depth != 0)
			continue;
		r = &ps->roots[ps->nroots];
		if (ps->l.v[i].svc == NULL) {
			if (!strays)
				continue;
			r->rank = n;
		} else {
			key.svc = ps->l.v[i].svc;
			if ((hit = bsearch(&key, idx, n, sizeof *idx,
			    svc_index_cmp)) == NULL)
				continue;
			r->rank = hit->i;
		}
		r->pass = ps->l.v[i].main ? 0 : 1;
		r->i = i;
		ps->nroots++;
	}
	free(idx);
	qsort(ps->roots, ps->nroots, sizeof *ps->roots, ps_root_cmp);
	if (ps->nroots > 0)
		ps->i = ps->roots[0].i;
	return ps;
}

json_t *
track_ps_next(struct track_ps *ps)
{
	const struct track_proc	*p;

	if (ps->root == ps->nroots)
		return NULL;
	p = &ps->l.v[ps->i++];
	/* The tree ends at the next depth-0 entry. */
	if (ps->i == ps->l.n || ps->l.v[ps->i].depth == 0) {
		if (++ps->root < ps->nroots)
			ps->i = ps->roots[ps->root].i;
	}
	return track_proc_json(ps->t, p);
}

void
track_ps_free(struct track_ps *ps)
{
	if (ps == NULL)
		return;
	free(ps->l.v);
	free(ps->roots);
	free(ps);
}
