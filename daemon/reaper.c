/* reaper.c: SIGCHLD, the waitpid loop, and the exits handed to owners. */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "proctab.h"
#include "reaper.h"
#include "util.h"

struct reaper {
	struct event_base	*base;
	struct proctab		*table;
	struct reaper_hooks	 hooks;
	struct event		*ev_chld;
	struct event		*ev_reap;	/* once per loop pass */
};

struct reaped {
	struct proc_owner	*owner;
	pid_t			 pid;
	int			 status;
};

/*
 * libevent runs a signal's callback once per delivery it counted: 1000
 * children killed together made about 900 calls, each a waitpid loop.
 * One reap per loop pass sees them all.
 */
static void
reaper_sigchld_cb(evutil_socket_t sig, short events, void *arg)
{
	struct reaper	*r = arg;

	event_active(r->ev_reap, 0, 0);
}

static void
reaper_reap_cb(evutil_socket_t fd, short events, void *arg)
{
	reaper_reap(arg);
}

struct reaper *
reaper_new(struct event_base *base, const struct reaper_hooks *hooks)
{
	struct reaper	*r = xcalloc(1, sizeof *r);

	r->base = base;
	r->table = proctab_new();
	r->hooks = *hooks;
	r->ev_reap = event_new(base, -1, 0, reaper_reap_cb, r);
	return r;
}

void
reaper_free(struct reaper *r)
{
	if (r == NULL)
		return;
	if (r->ev_chld != NULL)
		event_free(r->ev_chld);
	event_free(r->ev_reap);
	proctab_free(r->table);
	free(r);
}

void
reaper_start(struct reaper *r)
{
	r->ev_chld = evsignal_new(r->base, SIGCHLD, reaper_sigchld_cb, r);
	evsignal_add(r->ev_chld, NULL);
	reaper_reap(r);
}

int
reaper_add(struct reaper *r, pid_t pid, struct proc_owner *o)
{
	return proctab_add(r->table, pid, o);
}

struct proc_owner *
reaper_find(const struct reaper *r, pid_t pid)
{
	return proctab_find(r->table, pid);
}

struct proc_owner *
reaper_remove(struct reaper *r, pid_t pid)
{
	return proctab_remove(r->table, pid);
}

size_t
reaper_count(const struct reaper *r)
{
	return proctab_count(r->table);
}

/*
 * Every waiting child is reaped first and its exit handled after: the
 * handling (the program's last output, log lines, what it left behind,
 * the state machine) takes about 25 usec an instance, and a thousand
 * zombies stopped together kept their PIDs until the last was handled
 * (bench/compare's stop of 1000: the last reap went from 28 ms after
 * the last signal to about 5).
 */
void
reaper_reap(struct reaper *r)
{
	struct reaped		*v = NULL;
	struct proc_owner	*o;
	size_t			 n = 0, cap = 0, i;
	pid_t			 pid;
	int			 status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0)
			break;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("waitpid");
			break;
		}
		if (r->hooks.reaped != NULL)
			r->hooks.reaped(pid, r->hooks.arg);
		/* Out of the table now, not when handled: a PID the kernel
		   hands out again must not find this owner. */
		o = proctab_remove(r->table, pid);
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[n].owner = o;
		v[n].pid = pid;
		v[n++].status = status;
	}
	for (i = 0; i < n; i++) {
		if (v[i].owner != NULL)
			v[i].owner->ops->exited(v[i].owner, v[i].pid,
			    v[i].status);
		else if (r->hooks.orphan != NULL)
			r->hooks.orphan(v[i].pid, v[i].status, r->hooks.arg);
	}
	free(v);
	if (r->hooks.pass != NULL)
		r->hooks.pass(r->hooks.arg);
}

void
reaper_hold(sigset_t *old)
{
	sigset_t	 chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, old);
}

void
reaper_release(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

bool
reaper_has_children(void)
{
	siginfo_t	 si;

	memset(&si, 0, sizeof si);
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}
