/* events.c: the change stream: a bounded ring of events and subscribers. */
#include <sys/wait.h>

#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "svc.h"
#include "util.h"

/* How far ahead of the published numbers a saved reserve goes. */
#define EVENTS_RESERVE	65536

struct events_sub {
	events_fn	*fn;
	void		*arg;
	unsigned	 mask;
};

struct events {
	struct events_rec	*ring;		/* grown up to capacity */
	size_t			 alloc;
	size_t			 capacity;
	size_t			 count;		/* kept */
	size_t			 head;		/* index of the oldest */
	uint64_t		 next;		/* the next sequence number */

	struct events_sub	*subs;
	size_t			 nsubs;

	uint64_t		 ceiling;	/* reserve last handed out */
	bool			 asked;		/* hook called for it */
	void			(*hook)(void *);
	void			*hook_arg;
};

static const char *const events_names[EVENTS_NTYPES] = {
	[EVENTS_INSTANCE_SPAWNED] = "instance.spawned",
	[EVENTS_INSTANCE_RUNNING] = "instance.running",
	[EVENTS_INSTANCE_EXITED] = "instance.exited",
	[EVENTS_INSTANCE_RESTARTING] = "instance.restarting",
	[EVENTS_INSTANCE_FAILED] = "instance.failed",
	[EVENTS_INSTANCE_STOPPING] = "instance.stopping",
	[EVENTS_INSTANCE_STOPPED] = "instance.stopped",
	[EVENTS_INSTANCE_ADOPTED] = "instance.adopted",
	[EVENTS_INSTANCE_REMOVED] = "instance.removed",
	[EVENTS_INSTANCE_STATE] = "instance.state",
	[EVENTS_OPERATOR_COMMAND] = "operator.command",
	[EVENTS_CONFIG_RELOADED] = "config.reloaded",
	[EVENTS_CONFIG_REFUSED] = "config.refused",
	[EVENTS_LOG_DROPPED] = "log.dropped",
	[EVENTS_TENDD_STARTED] = "tendd.started",
	[EVENTS_TENDD_READY] = "tendd.ready",
	[EVENTS_TENDD_RELOADING] = "tendd.reloading",
	[EVENTS_TENDD_STOPPING] = "tendd.stopping",
	[EVENTS_TENDD_STOPPED] = "tendd.stopped",
};

static const char *const events_next_names[] = {
	[EVENTS_NEXT_NONE] = NULL,
	[EVENTS_NEXT_RESTART] = "restart",
	[EVENTS_NEXT_BACKOFF] = "backoff",
	[EVENTS_NEXT_GIVE_UP] = "give_up",
	[EVENTS_NEXT_EXITED] = "exited",
	[EVENTS_NEXT_STOPPED] = "stopped",
	[EVENTS_NEXT_WAIT] = "wait_main",
};

const char *
events_type_name(enum events_type t)
{
	return t < EVENTS_NTYPES ? events_names[t] : "unknown";
}

int
events_type_parse(const char *name)
{
	int	 i;

	for (i = 0; i < EVENTS_NTYPES; i++) {
		if (strcmp(events_names[i], name) == 0)
			return i;
	}
	return -1;
}

struct events *
events_new(size_t capacity)
{
	struct events	*e = xcalloc(1, sizeof *e);

	e->capacity = capacity > 0 ? capacity : 1;
	e->next = 1;
	/*
	 * All of it at once: past a few pages calloc maps it fresh, and a
	 * page costs memory only once an event is written to it. Growing
	 * by steps left the old arrays behind as holes in the heap (a fifth
	 * of tendd's memory after starting 1000 programs).
	 */
	e->ring = xcalloc(e->capacity, sizeof *e->ring);
	e->alloc = e->capacity;
	return e;
}

static void
events_rec_clear(struct events_rec *r)
{
	if (r->program != r->inl)
		free(r->program);
	json_decref(r->data);
	memset(r, 0, sizeof *r);
}

/* program, then name (or NULL) right after it, in one place. */
static void
events_rec_names(struct events_rec *r, const char *program,
    const char *name)
{
	size_t	 pl = strlen(program) + 1, nl = name != NULL ?
		    strlen(name) + 1 : 0;

	r->program = pl + nl <= sizeof r->inl ? r->inl : xmalloc(pl + nl);
	memcpy(r->program, program, pl);
	r->name = NULL;
	if (name != NULL) {
		r->name = r->program + pl;
		memcpy(r->name, name, nl);
	}
}

static struct events_rec *
events_at(const struct events *e, size_t i)
{
	return &e->ring[(e->head + i) % e->alloc];
}

void
events_free(struct events *e)
{
	size_t	 i;

	if (e == NULL)
		return;
	for (i = 0; i < e->count; i++)
		events_rec_clear(events_at(e, i));
	free(e->ring);
	free(e->subs);
	free(e);
}

/* Lay the kept events out from index 0 in a ring of n slots. */
static void
events_realloc(struct events *e, size_t n)
{
	struct events_rec	*v = xcalloc(n, sizeof *v), *o;
	size_t			 i;

	for (i = 0; i < e->count; i++) {
		o = events_at(e, i);
		v[i] = *o;
		/* Names kept inline move with their record. */
		if (o->program == o->inl) {
			v[i].program = v[i].inl;
			if (o->name != NULL)
				v[i].name = v[i].inl + (o->name - o->inl);
		}
	}
	free(e->ring);
	e->ring = v;
	e->alloc = n;
	e->head = 0;
}

void
events_resize(struct events *e, size_t capacity)
{
	if (capacity == 0)
		capacity = 1;
	while (e->count > capacity) {
		events_rec_clear(events_at(e, 0));
		e->head = (e->head + 1) % e->alloc;
		e->count--;
	}
	e->capacity = capacity;
	if (e->alloc != capacity)
		events_realloc(e, capacity);
}

void
events_subscribe(struct events *e, unsigned mask, events_fn *fn, void *arg)
{
	e->subs = xreallocarray(e->subs, e->nsubs + 1, sizeof *e->subs);
	e->subs[e->nsubs].fn = fn;
	e->subs[e->nsubs].arg = arg;
	e->subs[e->nsubs++].mask = mask;
}

void
events_unsubscribe(struct events *e, events_fn *fn, void *arg)
{
	size_t	 i;

	for (i = 0; i < e->nsubs; i++) {
		if (e->subs[i].fn == fn && e->subs[i].arg == arg) {
			memmove(&e->subs[i], &e->subs[i + 1],
			    (e->nsubs - i - 1) * sizeof *e->subs);
			e->nsubs--;
			return;
		}
	}
}

/* A slot for the next event: a free one, else the oldest's. */
static struct events_rec *
events_slot(struct events *e)
{
	struct events_rec	*r;

	if (e->count == e->capacity) {
		r = events_at(e, 0);
		events_rec_clear(r);
		e->head = (e->head + 1) % e->alloc;
		e->count--;
	}
	r = events_at(e, e->count);
	e->count++;
	return r;
}

uint64_t
events_publish(struct events *e, struct events_msg *m)
{
	struct events_rec	*r = events_slot(e);
	const struct svc	*s = m->svc;
	size_t			 i, n;

	r->seq = e->next++;
	r->wall = util_now_wall();
	r->type = m->type;
	r->pid = m->pid;
	r->status = m->status;
	r->ran = m->ran;
	r->delay = m->delay;
	r->next = m->next;
	r->from = r->to = 0xff;
	r->data = m->data;
	m->data = NULL;
	if (s != NULL) {
		events_rec_names(r, s->cp->name, s->name);
		r->index = s->index;
		/* The try that comes next, counting failed starts in a
		   row; for one given up, how many failed. */
		r->attempt = s->fails;
		if (m->next == EVENTS_NEXT_BACKOFF ||
		    m->next == EVENTS_NEXT_RESTART ||
		    m->type == EVENTS_INSTANCE_RESTARTING)
			r->attempt++;
		r->to = (uint8_t)s->state;
		if (m->old >= 0)
			r->from = (uint8_t)m->old;
		/* Told before the state it leads to (a spawn into
		   running): no state yet. */
		if (m->type == EVENTS_INSTANCE_SPAWNED && m->old < 0)
			r->to = 0xff;
	} else if (m->program != NULL)
		events_rec_names(r, m->program, NULL);

	if (e->hook != NULL && !e->asked && e->ceiling != 0 &&
	    e->next + EVENTS_RESERVE / 2 > e->ceiling) {
		e->asked = true;
		e->hook(e->hook_arg);
	}
	/* A subscriber may subscribe or unsubscribe: go by count, and look
	   the entry up each time. */
	n = e->nsubs;
	for (i = 0; i < n && i < e->nsubs; i++) {
		if (e->subs[i].mask & EVENTS_BIT(m->type))
			e->subs[i].fn(m, r, e->subs[i].arg);
	}
	return r->seq;
}

uint64_t
events_instance(struct events *e, enum events_type type, struct svc *s,
    int old)
{
	struct events_msg	 m;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.svc = s;
	m.old = old;
	m.pid = s->pid;
	m.status = -1;
	return events_publish(e, &m);
}

uint64_t
events_note(struct events *e, enum events_type type, struct svc *s,
    json_t *data)
{
	struct events_msg	 m;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.svc = s;
	m.old = -1;
	m.status = -1;
	m.data = data;
	return events_publish(e, &m);
}

uint64_t
events_first(const struct events *e)
{
	return e->next - e->count;
}

uint64_t
events_last(const struct events *e)
{
	return e->next - 1;
}

const struct events_rec *
events_get(const struct events *e, uint64_t seq)
{
	if (seq < events_first(e) || seq >= e->next)
		return NULL;
	return events_at(e, (size_t)(seq - events_first(e)));
}

uint64_t
events_since_wall(const struct events *e, uint64_t wall)
{
	size_t	 lo = 0, hi = e->count, mid;

	/* Wall time can step back (the clock set): the first at or after
	   it in ring order is still a fair answer. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (events_at(e, mid)->wall < wall)
			lo = mid + 1;
		else
			hi = mid;
	}
	return events_first(e) + lo;
}

static void
events_json_exit(json_t *o, const struct events_rec *r)
{
	int	 st = r->status;

	if (st == -1)
		json_object_set_new_nocheck(o, "unknown", json_true());
	else if (WIFSIGNALED(st)) {
		json_object_set_new_nocheck(o, "signal",
		    json_integer(WTERMSIG(st)));
		json_object_set_new_nocheck(o, "signal_name",
		    json_string(util_signal_name(WTERMSIG(st))));
		if (WCOREDUMP(st))
			json_object_set_new_nocheck(o, "core", json_true());
	} else
		json_object_set_new_nocheck(o, "code",
		    json_integer(WEXITSTATUS(st)));
	json_object_set_new_nocheck(o, "ran",
	    json_real((double)r->ran / USEC_PER_SEC));
	if (r->next < sizeof events_next_names / sizeof events_next_names[0] &&
	    events_next_names[r->next] != NULL)
		json_object_set_new_nocheck(o, "next",
		    json_string_nocheck(events_next_names[r->next]));
	if (r->next == EVENTS_NEXT_BACKOFF)
		json_object_set_new_nocheck(o, "delay",
		    json_real((double)r->delay / USEC_PER_SEC));
	if (r->next == EVENTS_NEXT_BACKOFF || r->next == EVENTS_NEXT_RESTART ||
	    r->next == EVENTS_NEXT_GIVE_UP)
		json_object_set_new_nocheck(o, "attempt",
		    json_integer(r->attempt));
}

json_t *
events_json(const struct events_rec *r)
{
	json_t		*o = json_object();
	const char	*k;
	json_t		*v;

	json_object_set_new_nocheck(o, "seq", json_integer((json_int_t)r->seq));
	json_object_set_new_nocheck(o, "time",
	    json_real((double)r->wall / USEC_PER_SEC));
	json_object_set_new_nocheck(o, "type",
	    json_string_nocheck(events_type_name(r->type)));
	if (r->program != NULL)
		json_object_set_new_nocheck(o, "program",
		    json_string(r->program));
	if (r->name != NULL) {
		json_object_set_new_nocheck(o, "instance",
		    json_integer(r->index));
		json_object_set_new_nocheck(o, "name", json_string(r->name));
	}
	if (r->pid > 0)
		json_object_set_new_nocheck(o, "pid", json_integer(r->pid));
	if (r->from != 0xff)
		json_object_set_new_nocheck(o, "from",
		    json_string_nocheck(svc_state_name(r->from)));
	if (r->to != 0xff)
		json_object_set_new_nocheck(o, "state",
		    json_string_nocheck(svc_state_name(r->to)));
	if (r->type == EVENTS_INSTANCE_EXITED)
		events_json_exit(o, r);
	else if (r->type == EVENTS_INSTANCE_RESTARTING) {
		json_object_set_new_nocheck(o, "delay",
		    json_real((double)r->delay / USEC_PER_SEC));
		json_object_set_new_nocheck(o, "attempt",
		    json_integer(r->attempt));
	}
	if (r->data != NULL) {
		json_object_foreach(r->data, k, v) {
			if (json_object_get(o, k) == NULL)
				json_object_set(o, k, v);
		}
	}
	return o;
}

uint64_t
events_reserve(struct events *e)
{
	e->ceiling = e->next + EVENTS_RESERVE;
	e->asked = false;
	return e->ceiling;
}

void
events_resume(struct events *e, uint64_t next)
{
	if (next > e->next && e->count == 0)
		e->next = next;
}

void
events_on_reserve(struct events *e, void (*fn)(void *), void *arg)
{
	e->hook = fn;
	e->hook_arg = arg;
}
