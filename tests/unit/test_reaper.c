/* test_reaper.c: exits handed to the owner their PID is registered to;
 * unknown PIDs to the orphan hook; every child reaped before any exit is
 * handled; a PID registered again belongs to its new owner. */
#include <sys/wait.h>

#include <signal.h>
#include <unistd.h>

#include <event2/event.h>

#include "reaper.h"
#include "t.h"

struct owner {
	struct proc_owner	 o;
	pid_t			 pid;
	int			 status;
	int			 calls;
	struct reaper		*r;
	pid_t			 other;		/* registered elsewhere */
	bool			 other_gone;	/* already out of the table */
};

static void
owner_exited(struct proc_owner *o, pid_t pid, int status)
{
	struct owner	*w = (struct owner *)o;

	w->pid = pid;
	w->status = status;
	w->calls++;
	if (w->other > 0)
		w->other_gone = reaper_find(w->r, w->other) == NULL;
}

static void
owner_describe(const struct proc_owner *o, pid_t pid, char *buf, size_t len)
{
	snprintf(buf, len, "test %d", (int)pid);
}

static const struct proc_owner_ops owner_ops = {
	"test", owner_exited, owner_describe,
};

struct hooks_seen {
	pid_t	 reaped[8];
	int	 nreaped;
	pid_t	 orphan;
	int	 orphan_status;
	int	 passes;
};

static void
h_reaped(pid_t pid, void *arg)
{
	struct hooks_seen	*h = arg;

	if (h->nreaped < 8)
		h->reaped[h->nreaped++] = pid;
}

static void
h_orphan(pid_t pid, int status, void *arg)
{
	struct hooks_seen	*h = arg;

	h->orphan = pid;
	h->orphan_status = status;
}

static void
h_pass(void *arg)
{
	((struct hooks_seen *)arg)->passes++;
}

/* A child that exits with code, left a zombie until reaped. */
static pid_t
child(int code)
{
	siginfo_t	 si;
	pid_t		 pid = fork();

	if (pid == 0)
		_exit(code);
	memset(&si, 0, sizeof si);
	waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	return pid;
}

T_CASE(dispatch_to_owners_and_orphans)
{
	struct event_base	*base = event_base_new();
	struct hooks_seen	 h = { 0 };
	struct reaper_hooks	 hooks = { h_reaped, h_orphan, h_pass, &h };
	struct reaper		*r = reaper_new(base, &hooks);
	struct owner		 a = { { &owner_ops } }, b = { { &owner_ops } };
	pid_t			 pa, pb, po;

	a.r = b.r = r;
	pa = child(3);
	pb = child(0);
	po = child(7);
	T_INTEQ(reaper_add(r, pa, &a.o), 0);
	T_INTEQ(reaper_add(r, pa, &b.o), -1);	/* registered already */
	T_INTEQ(reaper_add(r, pb, &b.o), 0);
	T_CHECK(reaper_find(r, pa) == &a.o);
	T_INTEQ(reaper_count(r), 2);
	/* Both ended before the reap: each handler finds the other's PID
	   already out of the table. */
	a.other = pb;
	b.other = pa;
	reaper_reap(r);
	T_INTEQ(a.calls, 1);
	T_INTEQ(a.pid, pa);
	T_CHECK(WIFEXITED(a.status) && WEXITSTATUS(a.status) == 3);
	T_INTEQ(b.calls, 1);
	T_CHECK(WIFEXITED(b.status) && WEXITSTATUS(b.status) == 0);
	T_CHECK(a.other_gone && b.other_gone);
	/* Nobody's: the orphan hook, with its status. */
	T_INTEQ(h.orphan, po);
	T_CHECK(WIFEXITED(h.orphan_status) &&
	    WEXITSTATUS(h.orphan_status) == 7);
	T_INTEQ(h.nreaped, 3);
	T_INTEQ(h.passes, 1);
	T_INTEQ(reaper_count(r), 0);
	T_CHECK(!reaper_has_children());
	reaper_free(r);
	event_base_free(base);
}

T_CASE(pid_registered_again_belongs_to_its_new_owner)
{
	struct event_base	*base = event_base_new();
	struct hooks_seen	 h = { 0 };
	struct reaper_hooks	 hooks = { h_reaped, h_orphan, h_pass, &h };
	struct reaper		*r = reaper_new(base, &hooks);
	struct owner		 a = { { &owner_ops } }, b = { { &owner_ops } };
	pid_t			 pid;
	char			 buf[32];

	a.r = b.r = r;
	pid = child(1);
	/* The first owner went away (an instance freed) and the PID came
	   back for another: the exit is the new owner's alone. */
	T_INTEQ(reaper_add(r, pid, &a.o), 0);
	T_CHECK(reaper_remove(r, pid) == &a.o);
	T_CHECK(reaper_remove(r, pid) == NULL);
	T_INTEQ(reaper_add(r, pid, &b.o), 0);
	reaper_reap(r);
	T_INTEQ(a.calls, 0);
	T_INTEQ(b.calls, 1);
	T_INTEQ(h.orphan, 0);
	b.o.ops->describe(&b.o, pid, buf, sizeof buf);
	T_CHECK(strncmp(buf, "test ", 5) == 0);
	/* Nothing left: a reap finds nothing, and says so to no one. */
	reaper_reap(r);
	T_INTEQ(b.calls, 1);
	T_INTEQ(h.passes, 2);
	reaper_free(r);
	event_base_free(base);
}

T_CASE(hold_defers_sigchld)
{
	sigset_t	 old, now;

	reaper_hold(&old);
	sigprocmask(SIG_SETMASK, NULL, &now);
	T_CHECK(sigismember(&now, SIGCHLD));
	reaper_release(&old);
	sigprocmask(SIG_SETMASK, NULL, &now);
	T_CHECK(sigismember(&now, SIGCHLD) == sigismember(&old, SIGCHLD));
}

T_MAIN(T_ENTRY(dispatch_to_owners_and_orphans),
    T_ENTRY(pid_registered_again_belongs_to_its_new_owner),
    T_ENTRY(hold_defers_sigchld))
