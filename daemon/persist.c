/* persist.c: state_dir for the daemon; see persist.h. */
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "log.h"
#include "persist.h"
#include "procfs.h"
#include "state.h"
#include "track.h"
#include "util.h"

static struct svc *
persist_find(struct daemon *d, const char *program, unsigned index)
{
	struct program	*p;

	TAILQ_FOREACH(p, &d->programs, entry) {
		if (!p->removed && strcmp(p->cp->name, program) == 0)
			return index < p->nsvcs ? p->svcs[index] : NULL;
	}
	return NULL;
}

/* A process a predecessor started that is no longer configured: it is
   stopped, as a reload would have stopped it. */
static void
persist_orphan(const struct state_instance *r)
{
	int	 fd;

	if ((fd = procfs_pidfd_open(r->pid, r->starttime)) == -1)
		return;
	log_info("%s:%u: pid %d from a previous tendd is no longer "
	    "configured: sending TERM", r->program, r->index, (int)r->pid);
	(void)procfs_pidfd_signal(fd, SIGTERM);
	close(fd);
}

/*
 * Same PID and start time is the same process; but is it this instance's
 * (a state file copied or edited by hand could name anything)? Its cgroup
 * says so, or the environment tendd started it with.
 */
static bool
persist_is_ours(struct daemon *d, struct svc *s, pid_t pid)
{
	char		*prog;
	unsigned	 idx;
	bool		 ours;

	if (strcmp(track_mode(d->track), "cgroup") == 0 &&
	    track_owns(d->track, s, pid))
		return true;
	if ((prog = track_env_instance(pid, &idx)) == NULL)
		return false;
	ours = strcmp(prog, s->cp->name) == 0 && idx == s->index;
	free(prog);
	return ours;
}

int
persist_restore(struct daemon *d, char *err, size_t errlen)
{
	struct state		 st;
	const struct state_instance *r;
	struct svc		*s;
	char			 boot[40], msg[512];
	bool			 busy = false, same_boot;
	size_t			 i;

	if (d->run_mode)
		return 0;
	d->state_lock = state_lock(d->conf->state_dir, &busy, msg,
	    sizeof msg);
	if (d->state_lock == NULL) {
		if (busy) {
			snprintf(err, errlen, "%s", msg);
			return -1;
		}
		log_warnx("%s: running without state (operator decisions are "
		    "not kept and a restarted tendd cannot adopt running "
		    "programs)", msg);
		return 0;
	}
	memset(&st, 0, sizeof st);
	if (state_load(d->conf->state_dir, &st, msg, sizeof msg) == -1) {
		log_warnx("ignoring saved state: %s", msg);
		return 0;
	}
	same_boot = procfs_boot_id(boot, sizeof boot) == 0 &&
	    strcmp(boot, st.boot_id) == 0;
	for (i = 0; i < st.n; i++) {
		r = &st.v[i];
		s = persist_find(d, r->program, r->index);
		if (s == NULL) {
			if (same_boot && r->pid > 0)
				persist_orphan(r);
			continue;
		}
		if (r->want != STATE_WANT_NONE &&
		    r->conf_hash == conf_program_hash(s->cp)) {
			s->op = r->want == STATE_WANT_UP ? SVC_OP_UP :
			    SVC_OP_DOWN;
			s->op_hash = r->conf_hash;
		}
		if (!same_boot || r->pid <= 0)
			continue;
		if (!persist_is_ours(d, s, r->pid)) {
			log_warnx("%s: pid %d from the state file is not a "
			    "process of %s: not adopted", s->name, (int)r->pid,
			    s->name);
			continue;
		}
		if (daemon_watch(d, s, r->pid, r->starttime) == -1) {
			/* Gone, or the PID is another process now. */
			log_info("%s: pid %d from a previous tendd is gone",
			    s->name, (int)r->pid);
			continue;
		}
		s->starttime = r->starttime;
		svc_adopt(s, r->pid);
		log_info("%s: adopted pid %d, still running from a previous "
		    "tendd", s->name, (int)r->pid);
	}
	state_clear(&st);
	/* The file now says what this tendd has. */
	persist_changed(d);
	return 0;
}

/*
 * How long a save for ended processes may wait. Saving is a JSON of
 * every instance (1000 in the benchmark): once per loop pass while 1000
 * stopped programs were reaped, it was a third of tendd's time in the
 * stop.
 */
#define PERSIST_LATER	(100 * USEC_PER_MSEC)

void
persist_changed(struct daemon *d)
{
	if (d->state_lock != NULL && d->ev_state != NULL)
		event_active(d->ev_state, 0, 0);
}

void
persist_changed_later(struct daemon *d)
{
	struct timeval	 tv = { 0, PERSIST_LATER };

	if (d->state_lock != NULL && d->ev_state_later != NULL &&
	    !evtimer_pending(d->ev_state_later, NULL))
		evtimer_add(d->ev_state_later, &tv);
}

void
persist_save_cb(evutil_socket_t fd, short events, void *arg)
{
	persist_save(arg, false);
}

/* The start time of the instance's process, read once per process. */
static uint64_t
persist_starttime(struct svc *s)
{
	struct procfs_stat	 st;

	if (s->starttime == 0 && procfs_read_stat(s->pid, &st) == 0 &&
	    st.state != 'Z')
		s->starttime = st.starttime;
	return s->starttime;
}

void
persist_save(struct daemon *d, bool sync)
{
	struct state		 st;
	struct state_instance	*r;
	struct program		*p;
	struct svc		*s;
	char			 err[512];
	unsigned		 i;

	if (d->state_lock == NULL)
		return;
	/* This save covers what was asked for this pass or left for
	   later. */
	if (d->ev_state != NULL)
		event_del(d->ev_state);
	if (d->ev_state_later != NULL)
		evtimer_del(d->ev_state_later);
	memset(&st, 0, sizeof st);
	if (procfs_boot_id(st.boot_id, sizeof st.boot_id) == -1)
		st.boot_id[0] = '\0';
	st.tendd_pid = getpid();
	TAILQ_FOREACH(p, &d->programs, entry) {
		if (p->removed)
			continue;
		for (i = 0; i < p->nsvcs; i++) {
			s = p->svcs[i];
			/* A launcher is not the program: after a crash
			   its start is over anyway. */
			if ((s->pid <= 0 || s->launcher) && s->op == SVC_OP_NONE)
				continue;
			r = state_add(&st, p->cp->name, s->index);
			if (s->pid > 0 && !s->launcher &&
			    persist_starttime(s) != 0) {
				r->pid = s->pid;
				r->starttime = s->starttime;
			}
			r->want = s->op == SVC_OP_UP ? STATE_WANT_UP :
			    s->op == SVC_OP_DOWN ? STATE_WANT_DOWN :
			    STATE_WANT_NONE;
			r->conf_hash = s->op_hash;
		}
	}
	if (state_save(d->conf->state_dir, &st, sync, err, sizeof err) ==
	    -1) {
		/* Once per run of failures, not at every change. */
		if (!d->state_error)
			log_warnx("cannot save state: %s", err);
		d->state_error = true;
	} else if (d->state_error) {
		log_info("state saved again");
		d->state_error = false;
	}
	state_clear(&st);
}

void
persist_operator(struct daemon *d, struct svc **v, size_t n, bool up)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		v[i]->op = up ? SVC_OP_UP : SVC_OP_DOWN;
		/* Hashed once per program: a stop of 1000 hashed every
		   instance's program before the first signal. */
		v[i]->op_hash = ((const struct program *)v[i]->owner)->hash;
	}
}

bool
persist_wants_up(const struct svc *s)
{
	if (s->op != SVC_OP_NONE)
		return s->op == SVC_OP_UP;
	return s->cp->autostart;
}

bool
persist_operator_set(const struct svc *s)
{
	return s->op != SVC_OP_NONE && (s->op == SVC_OP_UP) != s->cp->autostart;
}
