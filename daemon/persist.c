/* persist.c: state_dir for the daemon; see persist.h. */
#include <sys/types.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "events.h"
#include "instance.h"
#include "launch.h"
#include "log.h"
#include "persist.h"
#include "pidrec.h"
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

/* How long to wait for the lock of a tendd that is gone: a child it had
   just cloned holds its descriptors until it execs. */
#define PERSIST_LOCK_WAIT	(2 * USEC_PER_SEC)

static bool
persist_pid_alive(pid_t pid)
{
	struct procfs_stat	 st;

	return procfs_read_stat(pid, &st) == 0 && st.state != 'Z' &&
	    st.state != 'X';
}

static void	persist_attach(struct daemon *);
static void	persist_save_cb(evutil_socket_t, short, void *);
static void	persist_retry_cb(evutil_socket_t, short, void *);

int
persist_lock(struct daemon *d, char *err, size_t errlen)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	uint64_t	 until = util_now_mono() + PERSIST_LOCK_WAIT;
	char		 msg[512];
	bool		 busy;
	pid_t		 other;

	if (d->run_mode)
		return 0;
	for (;;) {
		d->state_lock = state_lock(d->conf->state_dir, &busy, &other,
		    msg, sizeof msg);
		if (d->state_lock != NULL) {
			d->predecessor = other;
			persist_attach(d);
			return 0;
		}
		/* A holder that is gone lets go as soon as what shares its
		   descriptors does; one that lives is another tendd. */
		if (!busy || other <= 0 || persist_pid_alive(other) ||
		    util_now_mono() >= until)
			break;
		nanosleep(&ts, NULL);
	}
	if (busy) {
		snprintf(err, errlen, "%s", msg);
		return -1;
	}
	log_warnx("%s: running without state (operator decisions are "
	    "not kept and a restarted tendd cannot adopt running "
	    "programs)", msg);
	return 0;
}

/* Take over pid, a running process of s from a predecessor. */
static bool
persist_adopt(struct daemon *d, struct svc *s, pid_t pid, uint64_t starttime)
{
	return instance_adopt(s, pid, starttime, procfs_age(starttime)) == 0;
}

/* The process a record names, if it is that process still. */
static bool
persist_rec_alive(const struct pidrec_entry *k, struct procfs_stat *st)
{
	return procfs_read_stat(k->pid, st) == 0 && st->state != 'Z' &&
	    st->state != 'X' && pidrec_matches(k, k->pid, st->starttime);
}

/* Did pid start at or after the record's clone (the launcher's)? */
static bool
persist_started_after(const struct pidrec_entry *k, pid_t pid,
    struct procfs_stat *st)
{
	struct pidrec_entry	 after = *k;

	after.pid = pid;
	after.t1 = 0;
	return procfs_read_stat(pid, st) == 0 && st->state != 'Z' &&
	    pidrec_matches(&after, pid, st->starttime);
}

/*
 * A forking program's launcher ended while no tendd watched: its daemon
 * may run. Take it as the main process if it can be told (the pidfile
 * names a process started since the launcher; in a cgroup, the one
 * process left), as the start would have.
 */
static bool
persist_forking_main(struct daemon *d, struct svc *s,
    const struct pidrec_entry *k)
{
	struct procfs_stat	 st;
	char			*path, why[512];
	pid_t			 pid, *v = NULL;
	size_t			 n = 0;

	if (s->cp->pidfile != NULL) {
		path = util_subst(s->cp->pidfile, s->cp->name, s->index);
		pid = procfs_read_pidfile(path, why, sizeof why);
		free(path);
		if (pid > 0 && persist_started_after(k, pid, &st) &&
		    (strcmp(track_mode(d->track), "cgroup") != 0 ||
		    track_owns(d->track, s, pid)) &&
		    persist_adopt(d, s, pid, st.starttime)) {
			log_info("%s: adopted pid %d from its pidfile: the "
			    "launcher a previous tendd started has finished",
			    s->name, (int)pid);
			return true;
		}
		return false;
	}
	if (strcmp(track_mode(d->track), "cgroup") != 0 ||
	    track_pids(d->track, s, &v, &n) == -1)
		return false;
	pid = n == 1 ? v[0] : 0;
	free(v);
	if (pid > 0 && persist_started_after(k, pid, &st) &&
	    persist_adopt(d, s, pid, st.starttime)) {
		log_info("%s: adopted pid %d, the process the launcher a "
		    "previous tendd started left", s->name, (int)pid);
		return true;
	}
	return false;
}

/*
 * What a predecessor's spawn record says of an instance nobody adopted
 * from state.json: a process started just before that tendd ended (not
 * saved yet), adopted; a launcher still running, whose start was cut
 * short, killed with what it started (the start begins again); a
 * launcher that finished, whose daemon may run.
 */
static void
persist_take_over(struct daemon *d, struct svc *s,
    const struct pidrec_entry *k)
{
	struct procfs_stat	 st;
	char			*path, why[512];
	pid_t			 pid;
	int			 n;

	if (persist_rec_alive(k, &st)) {
		if (!(k->flags & PIDREC_LAUNCHER)) {
			if (persist_adopt(d, s, k->pid, st.starttime))
				log_info("%s: adopted pid %d, started by a "
				    "previous tendd just before it ended",
				    s->name, (int)k->pid);
			return;
		}
		n = track_kill_tree(d->track, k->pid, st.starttime);
		if (strcmp(track_mode(d->track), "cgroup") == 0)
			n += track_signal(d->track, s, SIGKILL, NULL);
		else if (s->cp->pidfile != NULL) {
			/* The daemon, if it left the launcher's tree. */
			path = util_subst(s->cp->pidfile, s->cp->name,
			    s->index);
			pid = procfs_read_pidfile(path, why, sizeof why);
			free(path);
			if (pid > 0 && persist_started_after(k, pid, &st))
				n += track_kill_tree(d->track, pid,
				    st.starttime);
		}
		log_info("%s: a previous tendd ended while the launcher (pid "
		    "%d) ran: killed %d process%s, to start again", s->name,
		    (int)k->pid, n, n == 1 ? "" : "es");
	} else if ((k->flags & PIDREC_LAUNCHER) &&
	    s->cp->type == CONF_TYPE_FORKING)
		(void)persist_forking_main(d, s, k);
	/* Not adopted: whatever the last run left in its cgroup is killed
	   before the first start (svc.c). By process tree, what it left
	   went to PID 1 and cannot be found. */
}

/* A spawn record of a program no longer configured. */
static void
persist_unconfigured(const struct pidrec_entry *k, void *arg)
{
	struct procfs_stat	 st;
	int			 fd;

	if (!persist_rec_alive(k, &st) ||
	    (fd = procfs_pidfd_open(k->pid, st.starttime)) == -1)
		return;
	log_info("%s:%u: pid %d from a previous tendd is no longer "
	    "configured: sending TERM", k->program, k->index, (int)k->pid);
	(void)procfs_pidfd_signal(fd, SIGTERM);
	close(fd);
}

static void
persist_reserve_cb(void *arg)
{
	persist_changed(arg);
}

void
persist_restore(struct daemon *d)
{
	struct state		 st;
	const struct state_instance *r;
	const struct pidrec_entry *k;
	struct program		*p;
	struct svc		*s;
	char			 boot[40], msg[512];
	bool			 same_boot;
	size_t			 i;
	unsigned		 j;

	if (d->state_lock == NULL)
		return;
	memset(&st, 0, sizeof st);
	if (state_load(d->conf->state_dir, &st, msg, sizeof msg) == -1)
		log_warnx("ignoring saved state: %s", msg);
	/* Before anything is published: numbers go on from the saved
	   reserve, and a save is asked for before it runs out. */
	events_resume(d->events, st.events_next);
	events_on_reserve(d->events, persist_reserve_cb, d);
	/* The reserve this tendd publishes under is on disk before the first
	   event (adoptions, below), with everything else as it was read: a
	   tendd killed before its first save never hands the same numbers
	   to the next one. */
	st.events_next = events_reserve(d->events);
	if (state_save(d->conf->state_dir, &st, true, msg, sizeof msg) == -1)
		log_warnx("event numbers not saved: %s", msg);
	if ((d->pidrec = pidrec_open(d->conf->state_dir, msg, sizeof msg)) !=
	    NULL)
		instance_env_set_pidrec(d->ienv, d->pidrec);
	else
		log_warnx("%s: programs started from now on are on record only "
		    "once saved in state.json", msg);
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
		if (!persist_adopt(d, s, r->pid, r->starttime)) {
			/* Gone, or the PID is another process now. */
			log_info("%s: pid %d from a previous tendd is gone",
			    s->name, (int)r->pid);
			continue;
		}
		log_info("%s: adopted pid %d, still running from a previous "
		    "tendd", s->name, (int)r->pid);
	}
	state_clear(&st);
	TAILQ_FOREACH(p, &d->programs, entry) {
		for (j = 0; j < p->nsvcs; j++) {
			s = p->svcs[j];
			if (s->pid == 0 && d->pidrec != NULL &&
			    (k = pidrec_find(d->pidrec, p->cp->name,
			    s->index)) != NULL)
				persist_take_over(d, s, k);
			/* Claimed now, so that settling below leaves the
			   records of configured instances alone. */
			instance_claim_record(s);
		}
	}
	if (d->pidrec != NULL)
		pidrec_settle(d->pidrec, persist_unconfigured, d);
	/* The file now says what this tendd has. */
	persist_changed(d);
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

/* While saving fails, how often to try again. */
#define PERSIST_RETRY	(5 * USEC_PER_SEC)

/*
 * The change stream: a new PID (a spawn, an adoption, a forking program's
 * main process found or changed) is saved at once, so a successor can
 * adopt it; any other change at most drops a PID, which can wait.
 */
static void
persist_event_cb(const struct events_msg *m, const struct events_rec *r,
    void *arg)
{
	struct daemon	*d = arg;

	switch (m->type) {
	case EVENTS_INSTANCE_SPAWNED:
	case EVENTS_INSTANCE_ADOPTED:
	case EVENTS_CONFIG_RELOADED:
		persist_changed(d);
		break;
	case EVENTS_TENDD_STOPPED:
		/* The last word, durably: what is left (after a failed
		   shutdown, processes that would not die) is adoptable. */
		(void)persist_save(d, true);
		break;
	case EVENTS_INSTANCE_RUNNING:
		if (m->svc->cp->type == CONF_TYPE_FORKING)
			persist_changed(d);
		else
			persist_changed_later(d);
		break;
	case EVENTS_INSTANCE_STATE:
		if (m->old == (int)m->svc->state)
			persist_changed(d);	/* another main process */
		else
			persist_changed_later(d);
		break;
	default:
		persist_changed_later(d);
		break;
	}
}

/* Saving from now on: the timers, and the stream's changes. */
static void
persist_attach(struct daemon *d)
{
	d->ev_state = event_new(d->base, -1, 0, persist_save_cb, d);
	d->ev_state_later = evtimer_new(d->base, persist_save_cb, d);
	d->ev_state_retry = evtimer_new(d->base, persist_retry_cb, d);
	events_subscribe(d->events, EVENTS_INSTANCE |
	    EVENTS_BIT(EVENTS_CONFIG_RELOADED) |
	    EVENTS_BIT(EVENTS_TENDD_STOPPED), persist_event_cb, d);
}

void
persist_close(struct daemon *d)
{
	if (d->ev_state == NULL)
		return;
	events_unsubscribe(d->events, persist_event_cb, d);
	event_free(d->ev_state);
	event_free(d->ev_state_later);
	event_free(d->ev_state_retry);
	d->ev_state = d->ev_state_later = d->ev_state_retry = NULL;
	free(d->state_errmsg);
	d->state_errmsg = NULL;
}

static void
persist_save_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)persist_save(arg, false);
}

static void
persist_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	(void)persist_save(arg, true);
}

int
persist_save(struct daemon *d, bool sync)
{
	struct state		 st;
	struct state_instance	*r;
	struct program		*p;
	struct svc		*s;
	char			 err[512];
	unsigned		 i;

	if (d->state_lock == NULL)
		return 0;
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
	st.events_next = events_reserve(d->events);
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
			    instance_starttime(s) != 0) {
				r->pid = s->pid;
				r->starttime = instance_starttime(s);
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
			log_warnx("cannot save state: %s (trying again every "
			    "%d s)", err, (int)(PERSIST_RETRY / USEC_PER_SEC));
		d->state_error = true;
		free(d->state_errmsg);
		d->state_errmsg = xstrdup(err);
		if (d->ev_state_retry != NULL) {
			struct timeval	 tv = { PERSIST_RETRY / USEC_PER_SEC,
					     0 };

			evtimer_add(d->ev_state_retry, &tv);
		}
		state_clear(&st);
		return -1;
	}
	/* Decisions left unsaved are on disk only once it is synced. */
	if (d->state_error && !sync) {
		state_clear(&st);
		return 0;
	}
	if (d->state_error) {
		log_info("state saved again");
		d->state_error = false;
		free(d->state_errmsg);
		d->state_errmsg = NULL;
		if (d->ev_state_retry != NULL)
			evtimer_del(d->ev_state_retry);
	}
	state_clear(&st);
	return 0;
}

const char *
persist_error(const struct daemon *d)
{
	return d->state_error ? d->state_errmsg : NULL;
}

bool
persist_unsaved(const struct svc *s)
{
	const struct daemon	*d = ((const struct program *)
				    instance_owner(s))->d;

	return d->state_error && persist_operator_set(s);
}

void
persist_operator(struct daemon *d, struct svc **v, size_t n, bool up)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		v[i]->op = up ? SVC_OP_UP : SVC_OP_DOWN;
		/* Hashed once per program: a stop of 1000 hashed every
		   instance's program before the first signal. */
		v[i]->op_hash = ((const struct program *)
		    instance_owner(v[i]))->hash;
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
