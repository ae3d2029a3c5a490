/* logfollow.c: stream instances' new output lines to following clients. */
#include <malloc.h>
#include <stdlib.h>

#include "control.h"
#include "logfollow.h"
#include "logs.h"
#include "proto.h"
#include "svc.h"
#include "util.h"
#include "wire.h"

#define LOGS_FOLLOW_CAP		(1024 * 1024)	/* per follower queue */
/* What the event of a line adds to its object: {"v":1,"id":N,"event":}
   and "type":"line". */
#define LOGS_EVENT_EXTRA	64

struct follower;

/* One instance a follower follows: in that instance's list. */
struct logfollow_ref {
	struct follower		 *f;
	struct logfollow_list	 *list;		/* NULL: the instance went */
	struct logfollow_ref	 *next;
	struct logfollow_ref	**prevp;
};

struct follower {
	struct client		*cl;
	long long		 id;
	int			 streams;
	size_t			 missed;
	bool			 full;		/* dropped lines since its queue
						   was last empty */
	struct logfollow_ref	*refs;
	size_t			 n;
	struct follower		*next;
};

struct logfollow {
	struct follower		*followers;
};

struct logfollow *
logfollow_new(void)
{
	return xcalloc(1, sizeof(struct logfollow));
}

void
logfollow_free(struct logfollow *lf)
{
	if (lf == NULL)
		return;
	while (lf->followers != NULL)
		logfollow_client_gone(lf, lf->followers->cl);
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
		o = logs_line_json(s, which, wall, text, len, flags);
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

void
logfollow_start(struct logfollow *lf, struct events *e, struct client *cl,
    long long id, struct svc **v, size_t n, size_t lines, int streams,
    bool events)
{
	struct follower		*f = xcalloc(1, sizeof *f);
	struct logfollow_ref	*r;
	struct logfollow_list	*list;
	json_t			*hist;
	size_t			 i;

	f->cl = cl;
	f->id = id;
	f->streams = streams;
	f->refs = xcalloc(n, sizeof *f->refs);
	f->n = n;
	f->next = lf->followers;
	lf->followers = f;
	hist = logs_history(v, n, lines, streams);
	follower_send(f, json_pack("{s:s,s:O}", WIRE_K_TYPE,
	    WIRE_EV_START, WIRE_K_INSTANCES, json_object_get(hist,
	    WIRE_K_INSTANCES)));
	follower_history(f, json_object_get(hist, WIRE_K_LINES));
	json_decref(hist);
	for (i = 0; i < n; i++) {
		if (v[i]->logio == NULL)
			continue;
		list = logio_followers(v[i]->logio);
		r = &f->refs[i];
		r->f = f;
		r->list = list;
		r->next = list->head;
		if (r->next != NULL)
			r->next->prevp = &r->next;
		r->prevp = &list->head;
		list->head = r;
		list->n++;
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
