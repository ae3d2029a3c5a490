/* evstream.c: tendctl events: replay and follow the change stream. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "control.h"
#include "daemon.h"
#include "events.h"
#include "evstream.h"
#include "proto.h"
#include "util.h"
#include "wire.h"

/*
 * Output a follower may have waiting before it is sent no more until it
 * drains: what a stopped client costs tendd (besides its socket's own
 * buffer), and some hundreds of events in flight for one that reads.
 */
#define EVSTREAM_CAP		(128 * 1024)
/* An event's object past this is sent without its extra keys. */
#define EVSTREAM_MAX_EVENT	(PROTO_MAX_MSG - 4096)
/* Instances per snapshot event: status's parts, far below PROTO_MAX_MSG. */
#define EVSTREAM_SNAP_CHUNK	128

struct follower {
	struct evstream		*es;
	struct client		*cl;
	json_int_t		 id;
	uint64_t		 cursor;	/* the next number to send */
	uint64_t		 until;		/* a replay's last */
	unsigned		 types;		/* EVENTS_BIT()s */
	json_t			*patterns;	/* NULL: every event */
	bool			 follow;
	struct follower		*next;
};

struct evstream {
	json_t			*(*instances)(struct daemon *, struct svc **,
				    size_t);	/* status's objects */
	struct daemon		*d;
	struct event		*ev_wake;	/* deferred: new events */
	struct follower		*followers;
	unsigned		 nfollow;	/* with follow: the bus is
						   subscribed to while > 0 */
};

static void
evstream_wake_cb(evutil_socket_t, short, void *);

struct evstream *
evstream_new(struct daemon *d, json_t *(*instances)(struct daemon *,
    struct svc **, size_t))
{
	struct evstream	*es = xcalloc(1, sizeof *es);

	es->d = d;
	es->instances = instances;
	es->ev_wake = event_new(d->base, -1, 0, evstream_wake_cb, es);
	return es;
}

void
evstream_free(struct evstream *es)
{
	if (es == NULL)
		return;
	/* Every client, so every follower, is gone. */
	event_free(es->ev_wake);
	free(es);
}

/* Something was published: wake the followers once this pass is over. */
static void
evstream_published(const struct events_msg *m, const struct events_rec *r,
    void *arg)
{
	struct evstream	*es = arg;

	event_active(es->ev_wake, 0, 0);
}

static void
follower_free(struct follower *f)
{
	struct evstream	 *es = f->es;
	struct follower	**pp;

	for (pp = &es->followers; *pp != f; pp = &(*pp)->next)
		;
	*pp = f->next;
	if (f->follow && --es->nfollow == 0) {
		events_unsubscribe(es->d->events, evstream_published, es);
		event_del(es->ev_wake);
	}
	json_decref(f->patterns);
	free(f);
}

static void
follower_send(struct follower *f, json_t *ev)
{
	control_send(f->cl, proto_event_new(f->id, ev));
}

/*
 * The event's object. One whose extra keys (a reload's changes) would make
 * too large a message goes without them, marked "truncated": the stream
 * goes on.
 */
static json_t *
evstream_event_json(const struct events_rec *r)
{
	struct events_rec	 bare;
	json_t			*o = events_json(r);

	if (r->data == NULL ||
	    json_dumpb(o, NULL, 0, JSON_COMPACT) <= EVSTREAM_MAX_EVENT)
		return o;
	json_decref(o);
	bare = *r;
	bare.data = NULL;
	o = events_json(&bare);
	json_object_set_new(o, WIRE_K_TRUNCATED, json_true());
	return o;
}

/*
 * Is the event for the follower? Its type must be asked for; with
 * patterns, it must be about a program or instance one of them names
 * ("all" names everything, events not about a program too).
 */
static bool
follower_match(const struct follower *f, const struct events_rec *r)
{
	const char	*pat;
	json_t		*p;
	size_t		 i;

	if (!(f->types & EVENTS_BIT(r->type)))
		return false;
	if (f->patterns == NULL)
		return true;
	json_array_foreach(f->patterns, i, p) {
		pat = json_string_value(p);
		if (r->program == NULL ? strcmp(pat, "all") == 0 :
		    util_match(pat, r->program,
		    r->name != NULL ? r->name : r->program))
			return true;
	}
	return false;
}

/*
 * Send the follower what it may have now: events from its cursor while
 * less than EVSTREAM_CAP waits for its client, and first a gap for the
 * numbers the ring no longer keeps. A replay that reached its last is
 * answered and freed (true).
 */
static bool
follower_pump(struct follower *f)
{
	struct events		*e = f->es->d->events;
	const struct events_rec	*r;
	uint64_t		 first, last, to;

	if (f->cl->flags & (CLIENT_CLOSING | CLIENT_DEAD))
		return false;
	last = f->follow ? events_last(e) : f->until;
	while (f->cursor <= last) {
		if (control_pending(f->cl) >= EVSTREAM_CAP)
			return false;
		first = events_first(e);
		if (f->cursor < first) {
			to = first - 1 < last ? first - 1 : last;
			follower_send(f, json_pack("{s:s,s:I,s:I}", WIRE_K_TYPE,
			    WIRE_EV_GAP, WIRE_K_FROM, (json_int_t)f->cursor,
			    WIRE_K_TO, (json_int_t)to));
			f->cursor = to + 1;
			continue;
		}
		r = events_get(e, f->cursor++);
		if (follower_match(f, r))
			follower_send(f, evstream_event_json(r));
	}
	if (f->follow)
		return false;
	control_send(f->cl, proto_reply_ok(f->id, json_pack("{s:I}", WIRE_K_LAST,
	    (json_int_t)f->until)));
	follower_free(f);
	return true;
}

static void
evstream_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct evstream	*es = arg;
	struct follower	*f;

	/* Only followers: a replay goes on as its client drains. */
	for (f = es->followers; f != NULL; f = f->next) {
		if (f->follow)
			(void)follower_pump(f);
	}
}

/* The instances a snapshot shows: those the patterns select. */
static void
evstream_snapshot(struct follower *f, uint64_t seq)
{
	struct daemon	*d = f->es->d;
	struct svc	**v, **sel;
	json_t		*all, *unmatched, *p, *a, *o;
	size_t		 n, m = 0, i, k, part;
	bool		 any;

	all = json_array();
	if (daemon_select(d, all, true, &v, &n, &unmatched) == -1)
		n = 0;	/* cannot be: no pattern to miss */
	json_decref(all);
	json_decref(unmatched);
	sel = xcalloc(n + 1, sizeof *sel);
	for (i = 0; i < n; i++) {
		any = f->patterns == NULL;
		json_array_foreach(f->patterns, k, p) {
			if (util_match(json_string_value(p), v[i]->cp->name,
			    v[i]->name))
				any = true;
		}
		if (any)
			sel[m++] = v[i];
	}
	free(v);
	i = 0;
	do {
		part = m - i < EVSTREAM_SNAP_CHUNK ? m - i :
		    EVSTREAM_SNAP_CHUNK;
		a = f->es->instances(d, sel + i, part);
		o = json_pack("{s:s,s:I,s:o}", WIRE_K_TYPE,
		    WIRE_EV_SNAPSHOT, WIRE_K_SEQ, (json_int_t)seq,
		    WIRE_K_INSTANCES, a);
		i += part;
		if (i < m)
			json_object_set_new(o, WIRE_K_MORE, json_true());
		follower_send(f, o);
	} while (i < m);
	free(sel);
	if (m > EVSTREAM_SNAP_CHUNK)
		malloc_trim(0);
}

static void
evstream_bad_type(struct client *cl, json_int_t id, const char *name)
{
	char	*list = NULL, *tmp;
	int	 t;

	for (t = 0; t < EVENTS_NTYPES; t++) {
		xasprintf(&tmp, "%s%s%s", list != NULL ? list : "",
		    list != NULL ? ", " : "", events_type_name(t));
		free(list);
		list = tmp;
	}
	control_error(cl, id, PROTO_E_BAD_ARGS, "no event type '%.64s' (the "
	    "types: %s; or a kind: instance, ...)", name, list);
	free(list);
}

/* "types": names ("instance.exited") or kinds ("instance", "instance.*"). */
static int
evstream_types(struct client *cl, json_int_t id, const json_t *a,
    unsigned *mask)
{
	const json_t	*e;
	const char	*name;
	size_t		 i, len;
	unsigned	 m;
	int		 t;

	if (a == NULL) {
		*mask = EVENTS_ALL;
		return 0;
	}
	if (!json_is_array(a) || json_array_size(a) == 0)
		goto bad;
	*mask = 0;
	json_array_foreach(a, i, e) {
		if ((name = json_string_value(e)) == NULL || *name == '\0')
			goto bad;
		if ((t = events_type_parse(name)) != -1) {
			*mask |= EVENTS_BIT(t);
			continue;
		}
		len = strlen(name);
		if (len > 2 && strcmp(name + len - 2, ".*") == 0)
			len -= 2;
		for (m = 0, t = 0; t < EVENTS_NTYPES; t++) {
			if (strncmp(events_type_name(t), name, len) == 0 &&
			    events_type_name(t)[len] == '.')
				m |= EVENTS_BIT(t);
		}
		if (m == 0) {
			evstream_bad_type(cl, id, name);
			return -1;
		}
		*mask |= m;
	}
	return 0;
bad:
	control_error(cl, id, PROTO_E_BAD_ARGS, "\"types\" must be a non-empty "
	    "array of event type names");
	return -1;
}

static int
evstream_patterns(struct client *cl, json_int_t id, json_t *a, json_t **out)
{
	json_t	*e;
	size_t	 i;

	*out = NULL;
	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		goto bad;
	json_array_foreach(a, i, e) {
		if (!json_is_string(e) || json_string_length(e) == 0)
			goto bad;
	}
	if (json_array_size(a) > 0)
		*out = json_incref(a);
	return 0;
bad:
	control_error(cl, id, PROTO_E_BAD_ARGS, "\"patterns\" must be an "
	    "array of names or patterns");
	return -1;
}


/*
 * Where the follower starts: after "since" (a sequence number), at
 * "since_time" (seconds since the epoch), after the last ("since_now"
 * or "snapshot"), or at the oldest kept.
 */
static int
evstream_start(struct events *e, struct client *cl, json_int_t id,
    json_t *args, bool now, bool snapshot, uint64_t *cursor)
{
	json_t		*seq = json_object_get(args, WIRE_K_SINCE);
	json_t		*t = json_object_get(args, WIRE_K_SINCE_TIME);
	uint64_t	 usec;

	if ((seq != NULL) + (t != NULL) + now + snapshot > 1) {
		control_error(cl, id, PROTO_E_BAD_ARGS, "give at most one of "
		    "\"since\", \"since_time\", \"since_now\" and "
		    "\"snapshot\"");
		return -1;
	}
	if (seq != NULL) {
		if (!json_is_integer(seq) || json_integer_value(seq) < 0) {
			control_error(cl, id, PROTO_E_BAD_ARGS, "\"since\" "
			    "must be a sequence number (an integer, 0 or "
			    "more)");
			return -1;
		}
		if ((uint64_t)json_integer_value(seq) > events_last(e)) {
			control_error(cl, id, PROTO_E_BAD_ARGS, "no event %lld "
			    "yet (the last is %llu)",
			    (long long)json_integer_value(seq),
			    (unsigned long long)events_last(e));
			return -1;
		}
		*cursor = (uint64_t)json_integer_value(seq) + 1;
	} else if (t != NULL) {
		if (!json_is_number(t) ||
		    util_seconds_to_usec(json_number_value(t), &usec) == -1) {
			control_error(cl, id, PROTO_E_BAD_ARGS, "\"since_time\" "
			    "must be a time in seconds since the epoch");
			return -1;
		}
		*cursor = events_since_wall(e, usec);
	} else if (now || snapshot)
		*cursor = events_last(e) + 1;
	else
		*cursor = events_first(e);
	return 0;
}

void
evstream_request(struct evstream *es, struct client *cl, json_int_t id,
    json_t *args)
{
	struct follower	 tmp, *f;
	bool		 now, snapshot;

	memset(&tmp, 0, sizeof tmp);
	if (control_arg_bool(cl, id, args, WIRE_K_FOLLOW, false,
	    &tmp.follow) == -1 ||
	    control_arg_bool(cl, id, args, WIRE_K_SNAPSHOT, false,
	    &snapshot) == -1 ||
	    control_arg_bool(cl, id, args, WIRE_K_SINCE_NOW, false,
	    &now) == -1 ||
	    evstream_types(cl, id, json_object_get(args, WIRE_K_TYPES),
	    &tmp.types) == -1 ||
	    evstream_start(es->d->events, cl, id, args, now, snapshot,
	    &tmp.cursor) == -1 ||
	    evstream_patterns(cl, id, json_object_get(args, WIRE_K_PATTERNS),
	    &tmp.patterns) == -1)
		return;

	f = xmalloc(sizeof *f);
	*f = tmp;
	f->es = es;
	f->cl = cl;
	f->id = id;
	f->until = events_last(es->d->events);
	f->next = es->followers;
	es->followers = f;
	if (f->follow && es->nfollow++ == 0)
		events_subscribe(es->d->events, EVENTS_ALL, evstream_published,
		    es);
	if (snapshot)
		evstream_snapshot(f, f->until);
	(void)follower_pump(f);
}

void
evstream_client_gone(struct evstream *es, struct client *cl)
{
	struct follower	*f, *next;

	for (f = es->followers; f != NULL; f = next) {
		next = f->next;
		if (f->cl == cl)
			follower_free(f);
	}
}

bool
evstream_client_following(const struct evstream *es, const struct client *cl)
{
	const struct follower	*f;

	for (f = es->followers; f != NULL; f = f->next) {
		if (f->cl == cl)
			return true;
	}
	return false;
}

void
evstream_client_drained(struct evstream *es, struct client *cl)
{
	struct follower	*f, *next;

	for (f = es->followers; f != NULL; f = next) {
		next = f->next;
		if (f->cl == cl)
			(void)follower_pump(f);
	}
}
