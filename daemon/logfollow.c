/*
 * logfollow.c: stream instances' new output lines, and their life-cycle
 * lines, to following clients.
 */
#include <sys/wait.h>

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "events.h"
#include "logfollow.h"
#include "ring.h"
#include "proto.h"
#include "svc.h"
#include "util.h"
#include "wire.h"

#define LOGS_FOLLOW_CAP		(1024 * 1024)	/* per follower queue */
/* What the event of a line adds to its object: {"v":1,"id":N,"event":}
   and "type":"line". */
#define LOGS_EVENT_EXTRA	64

/* The instance events that make a life-cycle line. */
#define LOGFOLLOW_EVENTS	(EVENTS_BIT(EVENTS_INSTANCE_SPAWNED) |	\
				 EVENTS_BIT(EVENTS_INSTANCE_EXITED) |	\
				 EVENTS_BIT(EVENTS_INSTANCE_RESTARTING) | \
				 EVENTS_BIT(EVENTS_INSTANCE_FAILED) |	\
				 EVENTS_BIT(EVENTS_INSTANCE_STOPPED))

struct follower;

/* One instance a follower follows: in that instance's list. */
struct logfollow_ref {
	struct follower		 *f;
	struct logfollow_list	 *list;		/* NULL: the instance went */
	struct logfollow_ref	 *next;
	struct logfollow_ref	**prevp;
	/* The last of LOGFOLLOW_EVENTS seen for it: an exit that said what
	   follows makes the event of that redundant. */
	uint8_t			  last_type;	/* EVENTS_NTYPES: none */
	uint8_t			  last_next;
};

struct follower {
	struct client		*cl;
	long long		 id;
	int			 streams;
	bool			 events;	/* life-cycle lines */
	size_t			 missed;
	bool			 full;		/* dropped lines since its queue
						   was last empty */
	struct logfollow_ref	*refs;
	size_t			 n;
	struct follower		*next;
};

struct logfollow {
	struct logfollow_list	*(*list_of)(const struct svc *);
	struct follower		*followers;
	struct events		*bus;		/* subscribed while nevents */
	unsigned		 nevents;	/* followers with events */
};

struct logfollow *
logfollow_new(struct logfollow_list *(*list_of)(const struct svc *))
{
	struct logfollow	*lf = xcalloc(1, sizeof *lf);

	lf->list_of = list_of;
	return lf;
}

void
logfollow_free(struct logfollow *lf)
{
	if (lf == NULL)
		return;
	/* Clients go first: the bus is not touched (it may be gone). */
	lf->nevents = 0;
	while (lf->followers != NULL) {
		lf->followers->events = false;
		logfollow_client_gone(lf, lf->followers->cl);
	}
	free(lf);
}

static void
ref_unlink(struct logfollow_ref *r)
{
	if (r->list == NULL)
		return;
	if (r->next != NULL)
		r->next->prevp = r->prevp;
	*r->prevp = r->next;
	r->list->n--;
	r->list = NULL;
}

void
logfollow_detach(struct logfollow_list *list)
{
	while (list->head != NULL)
		ref_unlink(list->head);
}

static void
follower_send(struct follower *f, json_t *ev)
{
	control_send(f->cl, proto_event_new(f->id, ev));
}

static void
follower_missed(struct follower *f)
{
	if (f->missed == 0)
		return;
	follower_send(f, json_pack("{s:s,s:I}", WIRE_K_TYPE, WIRE_EV_MISSED,
	    WIRE_K_COUNT,
	    (json_int_t)f->missed));
	f->missed = 0;
}

/* Is there room in f's queue? If not, one more is missed. */
static bool
follower_room(struct follower *f)
{
	if (control_pending(f->cl) > LOGS_FOLLOW_CAP) {
		f->missed++;
		f->full = true;
		return false;
	}
	follower_missed(f);
	return true;
}

void
logfollow_line(struct logfollow_list *list, const struct svc *s, int which,
    uint64_t wall, const char *text, size_t len, int flags)
{
	struct logfollow_ref	*r, *next;
	struct follower		*f;
	json_t			*o;

	for (r = list->head; r != NULL; r = next) {
		next = r->next;
		f = r->f;
		if (!(f->streams & (which == 0 ? LOGS_STDOUT : LOGS_STDERR)))
			continue;
		if (!follower_room(f))
			continue;
		o = logfollow_line_json(s, which, wall, text, len, flags);
		json_object_set_new(o, WIRE_K_TYPE, json_string(WIRE_EV_LINE));
		follower_send(f, o);
	}
}

/* The history is queued all at once: bounded as the queue is, to the
   newest lines that fit in it. */
static void
follower_history(struct follower *f, json_t *hist)
{
	json_t	*o;
	size_t	 i, from, used, room;

	room = control_pending(f->cl) < LOGS_FOLLOW_CAP ?
	    LOGS_FOLLOW_CAP - control_pending(f->cl) : 0;
	for (from = json_array_size(hist), used = 0; from > 0; from--) {
		used += json_dumpb(json_array_get(hist, from - 1), NULL, 0,
		    JSON_COMPACT | JSON_ENSURE_ASCII) + LOGS_EVENT_EXTRA;
		if (used > room)
			break;
	}
	json_array_foreach(hist, i, o) {
		if (i < from)
			continue;
		json_object_set_new(o, WIRE_K_TYPE, json_string(WIRE_EV_LINE));
		follower_send(f, json_incref(o));
	}
}

/* Append to the line being made in buf. */
static void __attribute__((format(printf, 3, 4)))
lc_add(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 used = strlen(buf);

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* "0.4s", "1.6s", "13s", "300s": what a reader takes in at a glance. */
static void
lc_delay(char *buf, size_t len, uint64_t usec)
{
	double	 d = (double)usec / USEC_PER_SEC;

	lc_add(buf, len, d < 100 ? "%.2gs" : "%.0fs", d);
}

/* "exited with code 3", "killed by signal KILL (core dumped)". */
static void
lc_status(char *buf, size_t len, int st)
{
	if (st == -1)
		lc_add(buf, len, "ended (exit status unknown)");
	else if (WIFSIGNALED(st))
		lc_add(buf, len, "killed by signal %s%s",
		    util_signal_name(WTERMSIG(st)),
		    WCOREDUMP(st) ? " (core dumped)" : "");
	else
		lc_add(buf, len, "exited with code %d", WEXITSTATUS(st));
}

/*
 * The life-cycle line of event e for a follower of r, without the "-- "
 * and " --" tendctl puts around it; false when there is none (an exit
 * already said it). "(attempt N)" is the try that comes next, shown from
 * the second in a row on.
 */
static bool
lc_text(const struct logfollow_ref *r, const struct svc *s,
    const struct events_rec *e, char *buf, size_t len)
{
	const char	*error = s->error;

	buf[0] = '\0';
	lc_add(buf, len, "%s ", e->name);
	switch (e->type) {
	case EVENTS_INSTANCE_SPAWNED:
		lc_add(buf, len, "started (pid %d)", (int)e->pid);
		return true;
	case EVENTS_INSTANCE_EXITED:
		lc_status(buf, len, e->status);
		switch (e->next) {
		case EVENTS_NEXT_RESTART:
			lc_add(buf, len, "; restarting");
			if (e->attempt > 1)
				lc_add(buf, len, " (attempt %u)", e->attempt);
			break;
		case EVENTS_NEXT_BACKOFF:
			lc_add(buf, len, "; restarting in ");
			lc_delay(buf, len, e->delay);
			if (e->attempt > 1)
				lc_add(buf, len, " (attempt %u)", e->attempt);
			break;
		case EVENTS_NEXT_GIVE_UP:
			lc_add(buf, len, "; gave up after %u failed start%s",
			    e->attempt, e->attempt == 1 ? "" : "s");
			break;
		case EVENTS_NEXT_STOPPED:
			lc_add(buf, len, "; stopped");
			break;
		case EVENTS_NEXT_WAIT:
			lc_add(buf, len, "; looking for its main process");
			break;
		}
		return true;
	case EVENTS_INSTANCE_RESTARTING:
		if (r->last_type == EVENTS_INSTANCE_EXITED &&
		    (r->last_next == EVENTS_NEXT_BACKOFF ||
		    r->last_next == EVENTS_NEXT_RESTART))
			return false;
		/* Not after an exit: a start that failed. */
		if (error != NULL)
			lc_add(buf, len, "could not start: %s; ", error);
		lc_add(buf, len, "restarting in ");
		lc_delay(buf, len, e->delay);
		if (e->attempt > 1)
			lc_add(buf, len, " (attempt %u)", e->attempt);
		return true;
	case EVENTS_INSTANCE_FAILED:
		if (r->last_type == EVENTS_INSTANCE_EXITED &&
		    r->last_next == EVENTS_NEXT_GIVE_UP)
			return false;
		if (e->attempt > 1)
			lc_add(buf, len, "gave up after %u failed starts",
			    e->attempt);
		else
			lc_add(buf, len, "failed");
		if (error != NULL)
			lc_add(buf, len, ": %s", error);
		return true;
	case EVENTS_INSTANCE_STOPPED:
		if (r->last_type == EVENTS_INSTANCE_EXITED &&
		    r->last_next == EVENTS_NEXT_STOPPED)
			return false;
		lc_add(buf, len, "stopped");
		return true;
	default:
		return false;
	}
}

/* An instance event on the bus: a line for each of its followers. */
static void
logfollow_event_cb(const struct events_msg *m, const struct events_rec *e,
    void *arg)
{
	struct logfollow	*lf = arg;
	struct logfollow_list	*list;
	struct logfollow_ref	*r, *next;
	struct follower		*f;
	char			 text[1024];
	bool			 show;

	if (m->svc == NULL || m->svc->logio == NULL || e->name == NULL ||
	    e->program == NULL)
		return;
	if ((list = lf->list_of(m->svc)) == NULL)
		return;
	for (r = list->head; r != NULL; r = next) {
		next = r->next;
		f = r->f;
		if (!f->events)
			continue;
		show = lc_text(r, m->svc, e, text, sizeof text);
		r->last_type = e->type;
		r->last_next = e->next;
		if (!show || !follower_room(f))
			continue;
		follower_send(f, json_pack("{s:s,s:f,s:s,s:s,s:o,s:o}",
		    WIRE_K_TYPE, WIRE_EV_EVENT,
		    WIRE_K_TIME, (double)e->wall / USEC_PER_SEC,
		    WIRE_K_INSTANCE, e->name,
		    WIRE_K_PROGRAM, e->program,
		    WIRE_K_TEXT, proto_text(text, strlen(text)),
		    WIRE_K_EVENT, events_json(e)));
	}
}

json_t *
logfollow_line_json(const struct svc *s, int which, uint64_t wall,
    const char *text, size_t len, int flags)
{
	json_t	*o;

	o = json_pack("{s:f,s:s,s:s,s:s,s:o}",
	    WIRE_K_TIME, (double)wall / USEC_PER_SEC,
	    WIRE_K_INSTANCE, s->name,
	    WIRE_K_PROGRAM, s->cp->name,
	    WIRE_K_STREAM, (which & 1) ? WIRE_STREAM_STDERR : WIRE_STREAM_STDOUT,
	    WIRE_K_TEXT, proto_text(text, len));
	if (flags & RING_PARTIAL)
		json_object_set_new(o, WIRE_K_PARTIAL, json_true());
	return o;
}

void
logfollow_start(struct logfollow *lf, struct events *e, struct client *cl,
    long long id, struct svc **v, size_t n, json_t *hist, int streams,
    bool events)
{
	struct follower		*f = xcalloc(1, sizeof *f);
	struct logfollow_ref	*r;
	struct logfollow_list	*list;
	size_t			 i;

	f->cl = cl;
	f->id = id;
	f->streams = streams;
	f->events = events && e != NULL;
	f->refs = xcalloc(n, sizeof *f->refs);
	f->n = n;
	f->next = lf->followers;
	lf->followers = f;
	follower_send(f, json_pack("{s:s,s:O}", WIRE_K_TYPE,
	    WIRE_EV_START, WIRE_K_INSTANCES, json_object_get(hist,
	    WIRE_K_INSTANCES)));
	follower_history(f, json_object_get(hist, WIRE_K_LINES));
	json_decref(hist);
	for (i = 0; i < n; i++) {
		if ((list = lf->list_of(v[i])) == NULL)
			continue;
		r = &f->refs[i];
		r->f = f;
		r->list = list;
		r->last_type = EVENTS_NTYPES;
		r->next = list->head;
		if (r->next != NULL)
			r->next->prevp = &r->next;
		r->prevp = &list->head;
		list->head = r;
		list->n++;
	}
	if (f->events && lf->nevents++ == 0) {
		lf->bus = e;
		events_subscribe(e, LOGFOLLOW_EVENTS, logfollow_event_cb, lf);
	}
}

void
logfollow_client_gone(struct logfollow *lf, struct client *cl)
{
	struct follower	**pp, *f;
	size_t		  i;

	for (pp = &lf->followers; (f = *pp) != NULL;) {
		if (f->cl != cl) {
			pp = &f->next;
			continue;
		}
		*pp = f->next;
		for (i = 0; i < f->n; i++)
			ref_unlink(&f->refs[i]);
		if (f->events && --lf->nevents == 0)
			events_unsubscribe(lf->bus, logfollow_event_cb, lf);
		free(f->refs);
		free(f);
	}
}

bool
logfollow_client_following(const struct logfollow *lf,
    const struct client *cl)
{
	const struct follower	*f;

	for (f = lf->followers; f != NULL; f = f->next) {
		if (f->cl == cl)
			return true;
	}
	return false;
}

void
logfollow_client_drained(struct logfollow *lf, struct client *cl)
{
	struct follower	*f;
	bool		 trim = false;

	for (f = lf->followers; f != NULL; f = f->next) {
		if (f->cl != cl)
			continue;
		if (f->missed > 0 && control_pending(cl) < LOGS_FOLLOW_CAP / 2)
			follower_missed(f);
		/* A follower that caught up after it filled its queue left
		   that much freed heap: give it back. */
		if (f->full && control_pending(cl) == 0) {
			f->full = false;
			trim = true;
		}
	}
	if (trim)
		malloc_trim(0);
}
