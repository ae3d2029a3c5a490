/*
 * cmd.c: the control commands (docs/protocol.md), one table row each, and
 * waiters: a reply held until every target instance reaches its goal.
 */
#include <sys/wait.h>

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "cmd.h"
#include "control.h"
#include "daemon.h"
#include "events.h"
#include "evstream.h"
#include "instance.h"
#include "log.h"
#include "logs.h"
#include "persist.h"
#include "procfs.h"
#include "proto.h"
#include "track.h"
#include "util.h"
#include "wire.h"

enum wait_goal {
	GOAL_START,
	GOAL_RESTART,
	GOAL_STOP,
	GOAL_EXIT,
};

struct waiter;

/* One target of a waiter, linked into its instance's list until done. */
struct waitref {
	struct waiter	 *w;
	struct svc	 *svc;		/* NULL once done */
	struct waitref	 *next;		/* in the instance's list */
	struct waitref	**prevp;
	unsigned	  spawns0;	/* spawn count when asked */
	json_t		 *result;	/* snapshot once done */
};

struct waiter {
	TAILQ_ENTRY(waiter)	 entry;	/* in the client's list */
	struct client		*cl;
	json_int_t		 id;
	enum wait_goal		 goal;
	struct waitref		*refs;
	size_t			 n;
	size_t			 remaining;
	struct event		*timeout;
	char			*unsaved;	/* the decision is not on disk:
						   why (the reply says so) */
	bool			 stream;	/* an event as each is done */
};

static struct daemon *
client_daemon(struct client *cl)
{
	return control_ctx(cl->control);
}

/* {"code":N} or {"signal":N,"signal_name":..}, with "at"; or null. */
static json_t *
cmd_exit_json(const struct svc *s)
{
	int	 st = s->last_exit.status;

	if (!s->last_exit.valid)
		return json_null();
	if (st == SVC_STATUS_UNKNOWN)
		return json_pack("{s:b,s:f}", WIRE_K_UNKNOWN, 1,
		    WIRE_K_AT, (double)s->last_exit.wall / USEC_PER_SEC);
	if (WIFSIGNALED(st))
		return json_pack("{s:i,s:s,s:f}", WIRE_K_SIGNAL, WTERMSIG(st),
		    WIRE_K_SIGNAL_NAME, util_signal_name(WTERMSIG(st)),
		    WIRE_K_AT, (double)s->last_exit.wall / USEC_PER_SEC);
	return json_pack("{s:i,s:f}", WIRE_K_CODE, WEXITSTATUS(st),
	    WIRE_K_AT, (double)s->last_exit.wall / USEC_PER_SEC);
}

/*
 * The keys of the instance object (common/wire.h's enum wire_field, in
 * its order), each with the function that makes its value. status
 * builds objects from all of them, or rows from the ones a client names
 * in "fields": tendctl's
 * table asks for a dozen, as arrays, which jansson builds, encodes and
 * parses several times faster than objects (status of 1000 instances).
 */
struct status_ctx {
	const struct daemon	*d;
	pid_t			 self;		/* tendd's PID, asked once */
	uint64_t		 now;		/* mono usec */
	size_t			 descendants;
};

typedef json_t *status_field_fn(const struct svc *,
		    const struct status_ctx *);

static json_t *
sf_name(const struct svc *s, const struct status_ctx *c)
{
	return json_string(s->name);
}

static json_t *
sf_program(const struct svc *s, const struct status_ctx *c)
{
	return json_string(s->cp->name);
}

static json_t *
sf_instance(const struct svc *s, const struct status_ctx *c)
{
	return json_integer(s->index);
}

static json_t *
sf_state(const struct svc *s, const struct status_ctx *c)
{
	return json_string_nocheck(svc_state_name(s->state));
}

static json_t *
sf_want(const struct svc *s, const struct status_ctx *c)
{
	return json_string_nocheck(s->want_up ? WIRE_WANT_UP : WIRE_WANT_DOWN);
}

static json_t *
sf_pid(const struct svc *s, const struct status_ctx *c)
{
	return s->pid > 0 ? json_integer(s->pid) : json_null();
}

static json_t *
sf_ppid(const struct svc *s, const struct status_ctx *c)
{
	struct procfs_stat	 st;

	/* A main process tendd reaps is its child; only the others (taken
	   over after a crash, or a forking daemon's) need /proc. */
	if (s->pid > 0 && !instance_watched(s))
		return json_integer(c->self);
	if (s->pid > 0 && procfs_read_stat(s->pid, &st) == 0)
		return json_integer(st.ppid);
	return json_null();
}

static json_t *
sf_uptime(const struct svc *s, const struct status_ctx *c)
{
	return json_real(s->pid > 0 ?
	    (double)(c->now - s->started) / USEC_PER_SEC : 0.0);
}

static json_t *
sf_restarts(const struct svc *s, const struct status_ctx *c)
{
	return json_integer(s->restarts);
}

static json_t *
sf_last_exit(const struct svc *s, const struct status_ctx *c)
{
	return cmd_exit_json(s);
}

static json_t *
sf_daemon(const struct svc *s, const struct status_ctx *c)
{
	return json_boolean(s->cp->daemon);
}

static json_t *
sf_error(const struct svc *s, const struct status_ctx *c)
{
	return s->error != NULL ? json_string(s->error) : json_null();
}

static json_t *
sf_log_dropped(const struct svc *s, const struct status_ctx *c)
{
	return json_integer(s->logio != NULL ?
	    (json_int_t)logio_dropped(s->logio) : 0);
}

static json_t *
sf_log_error(const struct svc *s, const struct status_ctx *c)
{
	const char	*e = s->logio != NULL ? logio_error(s->logio) : NULL;

	return e != NULL ? json_string(e) : json_null();
}

static json_t *
sf_descendants(const struct svc *s, const struct status_ctx *c)
{
	return json_integer((json_int_t)c->descendants);
}

static json_t *
sf_adopted(const struct svc *s, const struct status_ctx *c)
{
	return json_boolean(s->adopted);
}

static json_t *
sf_operator(const struct svc *s, const struct status_ctx *c)
{
	return json_boolean(persist_operator_set(s));
}

static json_t *
sf_unsaved(const struct svc *s, const struct status_ctx *c)
{
	return json_boolean(persist_unsaved(s));
}

static json_t *
sf_essential(const struct svc *s, const struct status_ctx *c)
{
	return json_boolean(s->cp->essential);
}

static json_t *
sf_tracking(const struct svc *s, const struct status_ctx *c)
{
	return json_string_nocheck(track_mode(c->d->track));
}

static json_t *
sf_cgroup(const struct svc *s, const struct status_ctx *c)
{
	char	*cg = track_cgroup_path(c->d->track, s);
	json_t	*v = cg != NULL ? json_string(cg) : json_null();

	free(cg);
	return v;
}

static status_field_fn *const status_fields[WIRE_F_N] = {
	[WIRE_F_NAME] = sf_name,
	[WIRE_F_PROGRAM] = sf_program,
	[WIRE_F_INSTANCE] = sf_instance,
	[WIRE_F_STATE] = sf_state,
	[WIRE_F_WANT] = sf_want,
	[WIRE_F_PID] = sf_pid,
	[WIRE_F_PPID] = sf_ppid,
	[WIRE_F_UPTIME] = sf_uptime,
	[WIRE_F_RESTARTS] = sf_restarts,
	[WIRE_F_LAST_EXIT] = sf_last_exit,
	[WIRE_F_DAEMON] = sf_daemon,
	[WIRE_F_ERROR] = sf_error,
	[WIRE_F_LOG_DROPPED] = sf_log_dropped,
	[WIRE_F_LOG_ERROR] = sf_log_error,
	[WIRE_F_DESCENDANTS] = sf_descendants,
	[WIRE_F_ADOPTED] = sf_adopted,
	[WIRE_F_OPERATOR] = sf_operator,
	[WIRE_F_UNSAVED] = sf_unsaved,
	[WIRE_F_ESSENTIAL] = sf_essential,
	[WIRE_F_TRACKING] = sf_tracking,
	[WIRE_F_CGROUP] = sf_cgroup,
};
#define STATUS_NFIELDS	((size_t)WIRE_F_N)

int
cmd_status_field(const char *key)
{
	int	 f = wire_field_find(key);

	return f != -1 && status_fields[f] != NULL ? f : -1;
}

/* The instance object: every key. */
static json_t *
cmd_instance_json(const struct svc *s, const struct status_ctx *c)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < STATUS_NFIELDS; i++)
		json_object_set_new_nocheck(o, wire_field_key(i),
		    status_fields[i](s, c));
	return o;
}

static json_t *
cmd_result_json(const struct svc *s, bool ok, bool with_exit)
{
	json_t	*o;

	o = json_pack("{s:s,s:b,s:s,s:o}", WIRE_K_NAME, s->name, WIRE_K_OK,
	    ok, WIRE_K_STATE, svc_state_name(s->state), WIRE_K_ERROR,
	    s->error != NULL ? json_string(s->error) : json_null());
	if (with_exit)
		json_object_set_new(o, WIRE_K_LAST_EXIT, cmd_exit_json(s));
	return o;
}

/* Waiters */

static void
waitref_unlink(struct waitref *r)
{
	if (r->svc == NULL)
		return;
	if (r->next != NULL)
		r->next->prevp = r->prevp;
	*r->prevp = r->next;
	r->svc = NULL;
}

static void
waiter_free(struct waiter *w)
{
	size_t	 i;

	for (i = 0; i < w->n; i++) {
		waitref_unlink(&w->refs[i]);
		json_decref(w->refs[i].result);
	}
	if (w->timeout != NULL)
		event_free(w->timeout);
	TAILQ_REMOVE(&w->cl->waiters, w, entry);
	free(w->refs);
	free(w->unsaved);
	free(w);
}

/* Is the goal reached for this target? *ok says if it was met well. */
static bool
waiter_check(const struct waiter *w, const struct waitref *r, bool *ok)
{
	const struct svc	*s = r->svc;

	*ok = false;
	switch (w->goal) {
	case GOAL_RESTART:
		if (s->spawns == r->spawns0)
			return s->state == SVC_STOPPED && !s->want_up;
		__attribute__((fallthrough));
	case GOAL_START:
		switch (s->state) {
		case SVC_RUNNING:
			*ok = true;
			return true;
		case SVC_EXITED:
			*ok = s->last_exit.valid &&
			    svc_exit_success(s->cp, s->last_exit.status);
			return true;
		case SVC_FAILED:
		case SVC_STOPPED:
			return true;
		default:
			return false;
		}
	case GOAL_STOP:
		*ok = svc_is_down(s);
		return *ok;
	case GOAL_EXIT:
		/* Down for good; ok when it ended well, as for
		   exit_when_done: a wait is a join. */
		if (!svc_is_down(s))
			return false;
		*ok = svc_ended_well(s);
		return true;
	}
	return false;
}

static json_t *
waiter_results(struct waiter *w)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < w->n; i++) {
		if (w->refs[i].result != NULL)
			json_array_append(a, w->refs[i].result);
		else
			json_array_append_new(a, cmd_result_json(w->refs[i].svc,
			    false, w->goal == GOAL_EXIT));
	}
	return a;
}

/*
 * The operator's decision was carried out, but could not be saved: it
 * is lost if tendd restarts before a later save works. An error, with
 * the results (stolen) and the reason.
 */
static void
cmd_unsaved(struct client *cl, json_int_t id, json_t *results,
    const char *why)
{
	json_t	*m;

	m = proto_reply_error(id, PROTO_E_NOT_SAVED, "carried out, but not "
	    "saved: %s; a restarted tendd would not know of it (tendd tries "
	    "again every few seconds: see status)", why);
	json_object_set_new(json_object_get(m, "error"), WIRE_K_RESULTS,
	    results);
	control_send(cl, m);
}

static void
waiter_finish(struct waiter *w)
{
	if (w->unsaved != NULL)
		cmd_unsaved(w->cl, w->id, waiter_results(w), w->unsaved);
	else
		control_send(w->cl, proto_reply_ok(w->id,
		    json_pack("{s:o}", WIRE_K_RESULTS, waiter_results(w))));
	waiter_free(w);
}

/* Mark target r done. Returns true if that completed (and freed) w. */
static bool
waitref_done(struct waitref *r, bool ok)
{
	struct waiter	*w = r->w;
	json_t		*ev;

	r->result = cmd_result_json(r->svc, ok, w->goal == GOAL_EXIT);
	/* Each as it comes: {"type":"ended", the result's keys}. */
	if (w->stream) {
		ev = json_copy(r->result);
		json_object_set_new(ev, WIRE_K_TYPE,
		    json_string(WIRE_EV_ENDED));
		control_send(w->cl, proto_event_new(w->id, ev));
	}
	waitref_unlink(r);
	if (--w->remaining == 0) {
		waiter_finish(w);
		return true;
	}
	return false;
}

static void
waiter_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct waiter	*w = arg;
	json_t		*m;

	m = proto_reply_error(w->id, PROTO_E_TIMEOUT, "timed out waiting for "
	    "%zu of %zu instances", w->remaining, w->n);
	json_object_set_new(json_object_get(m, "error"), WIRE_K_RESULTS,
	    waiter_results(w));
	control_send(w->cl, m);
	waiter_free(w);
}

/*
 * Hold the reply to request id until every target reaches the goal; with
 * stream, send each target's result in an event as soon as it does.
 */
static void
waiter_start(struct client *cl, json_int_t id, enum wait_goal goal,
    struct svc **v, size_t n, const unsigned *spawns0, uint64_t timeout,
    const char *unsaved, bool stream)
{
	struct waiter	*w = xcalloc(1, sizeof *w);
	struct waitref	*r, **head;
	struct timeval	 tv;
	size_t		 i;
	bool		 ok;

	w->cl = cl;
	w->unsaved = unsaved != NULL ? xstrdup(unsaved) : NULL;
	w->id = id;
	w->goal = goal;
	w->stream = stream;
	w->n = w->remaining = n;
	w->refs = xcalloc(n, sizeof *w->refs);
	TAILQ_INSERT_TAIL(&cl->waiters, w, entry);
	for (i = 0; i < n; i++) {
		r = &w->refs[i];
		r->w = w;
		r->svc = v[i];
		r->spawns0 = spawns0 != NULL ? spawns0[i] : v[i]->spawns;
		head = (struct waitref **)&v[i]->waits;
		r->next = *head;
		if (r->next != NULL)
			r->next->prevp = &r->next;
		r->prevp = head;
		*head = r;
	}
	for (i = 0; i < n; i++) {
		r = &w->refs[i];
		if (waiter_check(w, r, &ok) && waitref_done(r, ok))
			return;
	}
	if (n == 0) {
		waiter_finish(w);
		return;
	}
	if (timeout != 0) {
		w->timeout = evtimer_new(client_daemon(cl)->base,
		    waiter_timeout_cb, w);
		tv.tv_sec = (time_t)(timeout / USEC_PER_SEC);
		tv.tv_usec = (suseconds_t)(timeout % USEC_PER_SEC);
		evtimer_add(w->timeout, &tv);
	}
}

static void
cmd_svc_changed(struct svc *s)
{
	struct waitref	*r, *next;
	bool		 ok;

	for (r = s->waits; r != NULL; r = next) {
		next = r->next;
		if (waiter_check(r->w, r, &ok))
			waitref_done(r, ok);
	}
}

static void
cmd_svc_gone(struct svc *s)
{
	struct waitref	*r;

	while ((r = s->waits) != NULL) {
		waitref_done(r, r->w->goal == GOAL_STOP ||
		    r->w->goal == GOAL_EXIT);
	}
}

/* Waiters follow their instances on the stream. */
static void
cmd_event_cb(const struct events_msg *m, const struct events_rec *rec,
    void *arg)
{
	if (m->type == EVENTS_INSTANCE_REMOVED)
		cmd_svc_gone(m->svc);
	else if (m->old >= 0 && m->old != (int)m->svc->state)
		cmd_svc_changed(m->svc);
}

void
cmd_attach(struct daemon *d)
{
	d->evstream = evstream_new(d, cmd_instances_json);
	events_subscribe(d->events, EVENTS_INSTANCE, cmd_event_cb, d);
}

void
cmd_detach(struct daemon *d)
{
	events_unsubscribe(d->events, cmd_event_cb, d);
	/* After control_free: every client, so every follower, is gone. */
	evstream_free(d->evstream);
	d->evstream = NULL;
}

static void
cmd_client_gone(struct client *cl)
{
	struct waiter	*w;

	while ((w = TAILQ_FIRST(&cl->waiters)) != NULL)
		waiter_free(w);
	logs_client_gone(client_daemon(cl)->logs, cl);
	evstream_client_gone(client_daemon(cl)->evstream, cl);
}

static void
cmd_client_drained(struct client *cl)
{
	logs_client_drained(client_daemon(cl)->logs, cl);
	evstream_client_drained(client_daemon(cl)->evstream, cl);
}

static bool
cmd_client_busy(struct client *cl)
{
	return !TAILQ_EMPTY(&cl->waiters) ||
	    logs_client_following(client_daemon(cl)->logs, cl) ||
	    evstream_client_following(client_daemon(cl)->evstream, cl);
}

/* Argument helpers */

/* Read a non-empty array of strings; reply bad_args and return NULL if not. */
static json_t *
cmd_targets(struct client *cl, json_int_t id, json_t *args, const char *key,
    bool required)
{
	json_t	*a = json_object_get(args, key), *e;
	size_t	 i;

	if (a == NULL && !required)
		return json_array();
	if (!json_is_array(a) || (required && json_array_size(a) == 0)) {
		control_error(cl, id, PROTO_E_BAD_ARGS, "\"%s\" must be a "
		    "non-empty array of names or patterns", key);
		return NULL;
	}
	json_array_foreach(a, i, e) {
		if (!json_is_string(e) || json_string_length(e) == 0) {
			control_error(cl, id, PROTO_E_BAD_ARGS, "\"%s\" must "
			    "hold non-empty strings", key);
			return NULL;
		}
	}
	return json_incref(a);
}

/* Resolve patterns to instances or reply no_such_program. */
static int
cmd_select(struct client *cl, json_int_t id, json_t *patterns,
    bool include_retiring, struct svc ***v, size_t *n)
{
	json_t	*unmatched, *m, *e;
	char	*list = NULL, *tmp;
	size_t	 i;

	if (daemon_select(client_daemon(cl), patterns, include_retiring, v, n,
	    &unmatched) == 0)
		return 0;
	json_array_foreach(unmatched, i, e) {
		xasprintf(&tmp, "%s%s'%s'", list != NULL ? list : "",
		    list != NULL ? ", " : "", json_string_value(e));
		free(list);
		list = tmp;
	}
	m = proto_reply_error(id, PROTO_E_NO_SUCH_PROGRAM, "no program or "
	    "instance matches %s", list);
	json_object_set_new(json_object_get(m, "error"), WIRE_K_PATTERNS,
	    unmatched);
	control_send(cl, m);
	free(list);
	return -1;
}


static int
cmd_timeout(struct client *cl, json_int_t id, json_t *args, uint64_t *usec)
{
	json_t	*v = json_object_get(args, WIRE_K_TIMEOUT);

	*usec = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_number(v) ||
	    util_seconds_to_usec(json_number_value(v), usec) == -1 ||
	    *usec == 0) {
		control_error(cl, id, PROTO_E_BAD_ARGS, "\"timeout\" must be "
		    "a positive number of seconds");
		return -1;
	}
	return 0;
}

/* Commands */

static void
cmd_version(struct client *cl, json_int_t id, json_t *args)
{
	control_send(cl, proto_reply_ok(id, json_pack("{s:s,s:i,s:i}",
	    WIRE_K_VERSION, TEND_VERSION, WIRE_K_PROTOCOL, PROTO_VERSION,
	    WIRE_K_PID, (int)getpid())));
}

/*
 * Read "fields" into indexes of status_fields; reply bad_args and return
 * -1 if it is not a non-empty array of known keys.
 */
static int
cmd_status_fields(struct client *cl, json_int_t id, const json_t *a,
    size_t **fieldsp, size_t *np)
{
	const json_t	*e;
	const char	*key;
	size_t		 i, *f;
	int		 j;

	/* Bounded: each field is a value in every row of the reply. */
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > STATUS_NFIELDS) {
		control_error(cl, id, PROTO_E_BAD_ARGS, "\"fields\" must be a "
		    "non-empty array of at most %zu instance keys",
		    STATUS_NFIELDS);
		return -1;
	}
	f = xcalloc(json_array_size(a), sizeof *f);
	json_array_foreach(a, i, e) {
		key = json_string_value(e);
		if ((j = cmd_status_field(key)) == -1) {
			control_error(cl, id, PROTO_E_BAD_ARGS, "\"fields\": "
			    "no instance key '%s'", key != NULL ? key :
			    "(not a string)");
			free(f);
			return -1;
		}
		f[i] = (size_t)j;
	}
	*fieldsp = f;
	*np = json_array_size(a);
	return 0;
}

/*
 * With "stream", instances go out STATUS_CHUNK at a time in events, each
 * written to the socket as soon as it is made, and the reply carries the
 * last ones: the client parses and lays out one part while tendd counts
 * and builds the next, on the other core (tendctl's table of 1000
 * instances: the two used to take turns), and no message comes near the
 * 1 MiB limit however many instances there are.
 */
#define STATUS_CHUNK	128

/* Objects (f NULL) or rows of the nf fields in f, for n instances. */
static json_t *
cmd_status_part(struct svc **v, size_t n, const size_t *counts,
    const size_t *f, size_t nf, struct status_ctx *c)
{
	json_t	*a = json_array(), *row;
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		c->descendants = counts[i];
		if (f == NULL) {
			json_array_append_new(a, cmd_instance_json(v[i], c));
			continue;
		}
		row = json_array();
		for (j = 0; j < nf; j++)
			json_array_append_new(row, status_fields[f[j]](v[i],
			    c));
		json_array_append_new(a, row);
	}
	return a;
}

json_t *
cmd_instances_json(struct daemon *d, struct svc **v, size_t n)
{
	struct status_ctx	 c;
	size_t			*counts;
	json_t			*a;

	c.d = d;
	c.self = getpid();
	c.now = util_now_mono();
	counts = xcalloc(n + 1, sizeof *counts);
	track_counts(d->track, v, n, counts);
	a = cmd_status_part(v, n, counts, NULL, 0, &c);
	free(counts);
	return a;
}

static void
cmd_status(struct client *cl, json_int_t id, json_t *args)
{
	struct status_ctx	 c;
	struct svc		**v;
	json_t			*pats, *fa, *a;
	const char		*key;
	size_t			 n, i, m, part, *counts, *f = NULL, nf = 0;
	bool			 desc = true, stream, each;

	if ((pats = cmd_targets(cl, id, args, WIRE_K_PATTERNS, false)) == NULL)
		return;
	if (control_arg_bool(cl, id, args, WIRE_K_STREAM, false, &stream) == -1) {
		json_decref(pats);
		return;
	}
	if ((fa = json_object_get(args, WIRE_K_FIELDS)) != NULL) {
		if (cmd_status_fields(cl, id, fa, &f, &nf) == -1) {
			json_decref(pats);
			return;
		}
		/* Counting costs a read of every instance's processes. */
		for (desc = false, i = 0; i < nf; i++)
			desc = desc || status_fields[f[i]] == sf_descendants;
	}
	key = f == NULL ? WIRE_K_INSTANCES : WIRE_K_ROWS;
	if (cmd_select(cl, id, pats, true, &v, &n) == 0) {
		c.d = client_daemon(cl);
		c.self = getpid();
		c.now = util_now_mono();
		counts = xcalloc(n + 1, sizeof *counts);
		part = stream ? STATUS_CHUNK : n;
		/* Counted part by part where that costs nothing more, so
		   the first part goes out sooner; else all at once. */
		each = track_counts_each(c.d->track);
		if (desc && !each)
			track_counts(c.d->track, v, n, counts);
		for (i = 0;; i += m) {
			m = n - i < part ? n - i : part;
			if (desc && each)
				track_counts(c.d->track, v + i, m, counts + i);
			a = cmd_status_part(v + i, m, counts + i, f, nf, &c);
			if (i + m == n)
				break;
			control_send_now(cl, proto_event_new(id, json_pack(
			    "{s:s,s:o}", WIRE_K_TYPE, key, key, a)));
		}
		if (f == NULL)
			control_send(cl, proto_reply_ok(id,
			    json_pack("{s:o}", key, a)));
		else
			control_send(cl, proto_reply_ok(id,
			    json_pack("{s:O,s:o}", WIRE_K_FIELDS, fa, key, a)));
		free(counts);
		free(v);
		/* The parts went out one by one, each too small for the
		   trim after a large reply (control.c): the heap they used
		   goes back now, or tendd keeps its largest status. */
		if (n > part)
			malloc_trim(0);
	}
	free(f);
	json_decref(pats);
}

/*
 * ps with "stream": processes go out in parts, as status's instances do
 * (each written as soon as it is made, the reply with the last), of at
 * most PS_CHUNK processes and of text that cannot come near the 1 MiB
 * limit: PS_CHUNK_TEXT bytes of strings, each byte at worst six in JSON
 * ("\u0001"). Without it, one reply, too large past a few thousand.
 */
#define PS_CHUNK	256
#define PS_CHUNK_TEXT	(128 * 1024)

/* The bytes of the strings of a process object (its command, mostly). */
static size_t
cmd_ps_text(json_t *o)
{
	const char	*key;
	json_t		*v;
	size_t		 n = 0;

	json_object_foreach(o, key, v) {
		if (json_is_string(v))
			n += json_string_length(v);
	}
	return n;
}

static void
cmd_ps(struct client *cl, json_int_t id, json_t *args)
{
	struct track_ps	*ps;
	struct svc	**v;
	json_t		*pats, *a, *o;
	size_t		 n, len, text = 0, parts = 0;
	bool		 stream;

	if ((pats = cmd_targets(cl, id, args, WIRE_K_PATTERNS, false)) == NULL)
		return;
	if (control_arg_bool(cl, id, args, WIRE_K_STREAM, false, &stream) == -1) {
		json_decref(pats);
		return;
	}
	if (cmd_select(cl, id, pats, true, &v, &n) == 0) {
		ps = track_ps_new(client_daemon(cl)->track, v, n,
		    json_array_size(pats) == 0);
		a = json_array();
		while ((o = track_ps_next(ps)) != NULL) {
			len = cmd_ps_text(o);
			if (stream && json_array_size(a) > 0 &&
			    (json_array_size(a) == PS_CHUNK ||
			    text + len > PS_CHUNK_TEXT)) {
				control_send_now(cl, proto_event_new(id,
				    json_pack("{s:s,s:o}", WIRE_K_TYPE,
				    WIRE_K_PROCESSES, WIRE_K_PROCESSES, a)));
				a = json_array();
				text = 0;
				parts++;
			}
			text += len;
			json_array_append_new(a, o);
		}
		control_send(cl, proto_reply_ok(id,
		    json_pack("{s:o}", WIRE_K_PROCESSES, a)));
		track_ps_free(ps);
		free(v);
		/* As after a status in parts. */
		if (parts > 0)
			malloc_trim(0);
	}
	json_decref(pats);
}

static void
cmd_goal(struct client *cl, json_int_t id, json_t *args, enum svc_event ev,
    enum wait_goal goal)
{
	struct svc	**v;
	unsigned	*spawns0;
	json_t		*targets;
	uint64_t	 timeout;
	size_t		 n, i;
	const char	*unsaved = NULL;
	bool		 wait;

	if ((targets = cmd_targets(cl, id, args, WIRE_K_TARGETS, true)) == NULL)
		return;
	if (control_arg_bool(cl, id, args, WIRE_K_WAIT, true, &wait) == -1 ||
	    cmd_timeout(cl, id, args, &timeout) == -1 ||
	    cmd_select(cl, id, targets, false, &v, &n) == -1) {
		json_decref(targets);
		return;
	}
	json_decref(targets);
	spawns0 = xcalloc(n, sizeof *spawns0);
	for (i = 0; i < n; i++)
		spawns0[i] = v[i]->spawns;
	/*
	 * The decision outlives tendd: on disk before it is answered. It is
	 * carried out first, so that the save (a JSON of every instance and
	 * two fsyncs, about 4 ms for 1000) runs while the signalled
	 * programs exit instead of before. A tendd that dies in between
	 * never answered, and the next one goes by the decision before, as
	 * for a command never sent.
	 */
	persist_operator(client_daemon(cl), v, n, ev != SVC_EV_STOP);
	daemon_svc_events(client_daemon(cl), v, n, ev);
	if (persist_save(client_daemon(cl), true) == -1)
		unsaved = persist_error(client_daemon(cl));
	if (wait)
		waiter_start(cl, id, goal, v, n, spawns0, timeout, unsaved,
		    false);
	else {
		json_t	*a = json_array();

		for (i = 0; i < n; i++)
			json_array_append_new(a,
			    cmd_result_json(v[i], true, false));
		if (unsaved != NULL)
			cmd_unsaved(cl, id, a, unsaved);
		else
			control_send(cl, proto_reply_ok(id,
			    json_pack("{s:o}", WIRE_K_RESULTS, a)));
	}
	free(spawns0);
	free(v);
}

static void
cmd_start(struct client *cl, json_int_t id, json_t *args)
{
	cmd_goal(cl, id, args, SVC_EV_START, GOAL_START);
}

static void
cmd_stop(struct client *cl, json_int_t id, json_t *args)
{
	cmd_goal(cl, id, args, SVC_EV_STOP, GOAL_STOP);
}

static void
cmd_restart(struct client *cl, json_int_t id, json_t *args)
{
	cmd_goal(cl, id, args, SVC_EV_RESTART, GOAL_RESTART);
}

static void
cmd_reset(struct client *cl, json_int_t id, json_t *args)
{
	struct svc	**v;
	json_t		*targets, *a;
	size_t		 n, i;

	if ((targets = cmd_targets(cl, id, args, WIRE_K_TARGETS, true)) == NULL)
		return;
	if (cmd_select(cl, id, targets, false, &v, &n) == 0) {
		a = json_array();
		for (i = 0; i < n; i++) {
			svc_event(v[i], SVC_EV_RESET, 0);
			json_array_append_new(a,
			    cmd_result_json(v[i], true, false));
		}
		control_send(cl, proto_reply_ok(id,
		    json_pack("{s:o}", WIRE_K_RESULTS, a)));
		free(v);
	}
	json_decref(targets);
}

static void
cmd_signal(struct client *cl, json_int_t id, json_t *args)
{
	struct svc	**v;
	json_t		*targets, *sv, *a, *r;
	size_t		 n, i;
	char		 num[32], *msg;
	int		 sig;
	pid_t		 pid;

	sv = json_object_get(args, WIRE_K_SIGNAL);
	if (json_is_integer(sv)) {
		snprintf(num, sizeof num, "%lld",
		    (long long)json_integer_value(sv));
		sig = util_parse_signal(num);
	} else
		sig = json_is_string(sv) ?
		    util_parse_signal(json_string_value(sv)) : -1;
	if (sig == -1) {
		control_error(cl, id, PROTO_E_BAD_ARGS, "\"signal\" must be a "
		    "signal name (TERM, SIGTERM) or number");
		return;
	}
	if ((targets = cmd_targets(cl, id, args, WIRE_K_TARGETS, true)) == NULL)
		return;
	if (cmd_select(cl, id, targets, false, &v, &n) == 0) {
		a = json_array();
		for (i = 0; i < n; i++) {
			pid = v[i]->pid;
			if (pid <= 0) {
				r = cmd_result_json(v[i], false, false);
				json_object_set_new(r, WIRE_K_ERROR,
				    json_string("no process to signal"));
			} else if (instance_signal(v[i], sig,
			    v[i]->cp->kill_mode == CONF_KILL_GROUP) == -1) {
				r = cmd_result_json(v[i], false, false);
				xasprintf(&msg, "kill: %s", strerror(errno));
				json_object_set_new(r, WIRE_K_ERROR,
				    json_string(msg));
				free(msg);
			} else {
				log_info("%s: sent SIG%s", v[i]->name,
				    util_signal_name(sig));
				r = cmd_result_json(v[i], true, false);
			}
			json_array_append_new(a, r);
		}
		control_send(cl, proto_reply_ok(id,
		    json_pack("{s:o}", WIRE_K_RESULTS, a)));
		free(v);
	}
	json_decref(targets);
}

static void
cmd_wait(struct client *cl, json_int_t id, json_t *args)
{
	struct svc	**v;
	json_t		*targets;
	uint64_t	 timeout;
	size_t		 n;
	bool		 stream;

	if (control_arg_bool(cl, id, args, WIRE_K_STREAM, false, &stream) == -1)
		return;
	if ((targets = cmd_targets(cl, id, args, WIRE_K_TARGETS, true)) == NULL)
		return;
	if (cmd_timeout(cl, id, args, &timeout) == 0 &&
	    cmd_select(cl, id, targets, true, &v, &n) == 0) {
		waiter_start(cl, id, GOAL_EXIT, v, n, NULL, timeout, NULL,
		    stream);
		free(v);
	}
	json_decref(targets);
}

static void
cmd_reload(struct client *cl, json_int_t id, json_t *args)
{
	json_t		*result, *errors, *m;
	const char	*why;
	bool		 allow_empty;
	int		 rc;

	if (control_arg_bool(cl, id, args, WIRE_K_ALLOW_EMPTY, false,
	    &allow_empty) == -1)
		return;
	rc = daemon_reload(client_daemon(cl), allow_empty, &result, &errors);
	if (rc == -2) {
		/* NULL if the path was not UTF-8. */
		why = json_string_value(json_array_get(errors, 0));
		control_error(cl, id, PROTO_E_CONFIG_EMPTY, "%s", why != NULL ?
		    why : "the configuration has no programs; use tendctl "
		    "reload --allow-empty to remove them all");
		json_decref(errors);
		return;
	}
	if (rc == -1) {
		m = proto_reply_error(id, PROTO_E_CONFIG, "configuration "
		    "invalid (%zu error%s); nothing changed",
		    json_array_size(errors),
		    json_array_size(errors) == 1 ? "" : "s");
		json_object_set_new(json_object_get(m, "error"), WIRE_K_ERRORS,
		    errors);
		control_send(cl, m);
		return;
	}
	control_send(cl, proto_reply_ok(id, result));
}

static void
cmd_logs(struct client *cl, json_int_t id, json_t *args)
{
	struct svc	**v;
	json_t		*targets, *jl, *js;
	json_int_t	 lines = 50;
	size_t		 n;
	bool		 follow, events;
	int		 streams = LOGS_STDOUT | LOGS_STDERR;

	jl = json_object_get(args, WIRE_K_LINES);
	if (jl != NULL) {
		if (!json_is_integer(jl) || json_integer_value(jl) < 0 ||
		    json_integer_value(jl) > 100000) {
			control_error(cl, id, PROTO_E_BAD_ARGS, "\"lines\" must "
			    "be an integer from 0 to 100000");
			return;
		}
		lines = json_integer_value(jl);
	}
	js = json_object_get(args, WIRE_K_STREAM);
	if (js != NULL && !json_is_null(js)) {
		if (json_is_string(js) &&
		    strcmp(json_string_value(js), WIRE_STREAM_STDOUT) == 0)
			streams = LOGS_STDOUT;
		else if (json_is_string(js) &&
		    strcmp(json_string_value(js), WIRE_STREAM_STDERR) == 0)
			streams = LOGS_STDERR;
		else {
			control_error(cl, id, PROTO_E_BAD_ARGS, "\"stream\" "
			    "must be \"stdout\" or \"stderr\"");
			return;
		}
	}
	if (control_arg_bool(cl, id, args, WIRE_K_FOLLOW, false, &follow) == -1 ||
	    control_arg_bool(cl, id, args, WIRE_K_EVENTS, true, &events) == -1)
		return;
	if ((targets = cmd_targets(cl, id, args, WIRE_K_TARGETS, true)) == NULL)
		return;
	if (cmd_select(cl, id, targets, true, &v, &n) == 0) {
		if (follow)
			logs_follow(client_daemon(cl)->logs,
			    client_daemon(cl)->events, cl, id, v, n,
			    (size_t)lines, streams, events);
		else
			control_send(cl, proto_reply_ok(id, logs_history(v, n,
			    (size_t)lines, streams)));
		free(v);
	}
	json_decref(targets);
}

static void
cmd_events(struct client *cl, json_int_t id, json_t *args)
{
	evstream_request(client_daemon(cl)->evstream, cl, id, args);
}

static void
cmd_logrotate(struct client *cl, json_int_t id, json_t *args)
{
	int	 n = logs_reopen(client_daemon(cl)->logs);

	control_send(cl, proto_reply_ok(id, json_pack("{s:i}", WIRE_K_REOPENED,
	    n)));
}

static void
cmd_shutdown(struct client *cl, json_int_t id, json_t *args)
{
	log_info("shutdown requested by pid %d uid %u", (int)cl->pid,
	    (unsigned)cl->uid);
	control_send(cl, proto_reply_ok(id, NULL));
	daemon_shutdown(client_daemon(cl));
}

static const struct control_cmd cmd_entries[] = {
	{ WIRE_CMD_VERSION,	false,	cmd_version },
	{ WIRE_CMD_STATUS,	false,	cmd_status },
	{ WIRE_CMD_PS,		false,	cmd_ps },
	{ WIRE_CMD_WAIT,	false,	cmd_wait },
	{ WIRE_CMD_LOGS,	false,	cmd_logs },
	{ WIRE_CMD_EVENTS,	false,	cmd_events },
	{ WIRE_CMD_START,	true,	cmd_start },
	{ WIRE_CMD_STOP,	true,	cmd_stop },
	{ WIRE_CMD_RESTART,	true,	cmd_restart },
	{ WIRE_CMD_SIGNAL,	true,	cmd_signal },
	{ WIRE_CMD_RESET,	true,	cmd_reset },
	{ WIRE_CMD_RELOAD,	true,	cmd_reload },
	{ WIRE_CMD_LOGROTATE,	true,	cmd_logrotate },
	{ WIRE_CMD_SHUTDOWN,	true,	cmd_shutdown },
};

#define CMD_N	(sizeof cmd_entries / sizeof cmd_entries[0])

const struct control_cmd *
cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < CMD_N; i++) {
		if (strcmp(cmd_entries[i].name, name) == 0)
			return &cmd_entries[i];
	}
	return NULL;
}

const struct control_cmd *
cmd_table(size_t *n)
{
	*n = CMD_N;
	return cmd_entries;
}

/* The control socket's hooks */

static bool
cmd_stopping(void *ctx)
{
	return daemon_shutting_down(ctx);
}

static unsigned
cmd_max_clients(void *ctx)
{
	const struct daemon	*d = ctx;

	return d->conf->max_clients;
}

static size_t
cmd_ninstances(void *ctx)
{
	return daemon_ninstances(ctx);
}

/* An operator's command on the change stream: who asked what. Arguments
   go along only while small (the ring keeps thousands of events). */
static void
cmd_announce(struct client *cl, const char *name, json_t *args, void *ctx)
{
	struct daemon		*d = ctx;
	json_t			*data;
	size_t			 len;
	char			*enc;

	data = json_pack("{s:s,s:I,s:I}", "command", name, "uid",
	    (json_int_t)cl->uid, "client_pid", (json_int_t)cl->pid);
	if ((enc = proto_encode(args, &len)) != NULL && len <= 1024)
		json_object_set(data, "args", args);
	free(enc);
	events_note(d->events, EVENTS_OPERATOR_COMMAND, NULL, data);
}

void
cmd_control_hooks(struct daemon *d, struct control_hooks *h)
{
	memset(h, 0, sizeof *h);
	h->find = cmd_find;
	h->client_gone = cmd_client_gone;
	h->client_drained = cmd_client_drained;
	h->client_busy = cmd_client_busy;
	h->stopping = cmd_stopping;
	h->max_clients = cmd_max_clients;
	h->ninstances = cmd_ninstances;
	h->announce = cmd_announce;
	h->ctx = d;
}
