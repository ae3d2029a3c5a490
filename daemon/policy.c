/* policy.c: essential programs and exit_when_done, from the stream. */
#include <stdlib.h>

#include <event2/event.h>

#include "events.h"
#include "log.h"
#include "policy.h"
#include "svc.h"
#include "util.h"

struct policy {
	struct events		*events;
	struct policy_hooks	 hooks;
	struct event		*ev_done;	/* look, after this pass */
	bool			 exit_when_done;
	bool			 stopping;	/* tendd is shutting down */
	int			 first_failure;	/* -1: none yet */
	int			 essential_code; /* -1: none ended */
};

/* An instance came to rest: essential programs and exit_when_done. */
static void
policy_ended(struct policy *pol, const struct svc *s)
{
	int	 code;

	/* From any state: a start that failed at once goes from stopped
	   to failed. Each status is taken once (first failure, first
	   essential end), so resting again later changes nothing. */
	if (s->pid != 0)
		return;
	if (s->cp->essential && s->state != SVC_STOPPED &&
	    pol->essential_code < 0) {
		code = svc_exit_code(s);
		if (s->state == SVC_FAILED && code == 0)
			code = 1;
		pol->essential_code = code;
		log_info("%s: essential program ended (exit status %d): "
		    "stopping everything", s->name, code);
		event_active(pol->ev_done, 0, 0);
		return;
	}
	if (!pol->exit_when_done || s->cp->daemon)
		return;
	if (!svc_ended_well(s) && pol->first_failure < 0) {
		code = svc_exit_code(s);
		pol->first_failure = code == 0 ? 1 : code;
	}
	event_active(pol->ev_done, 0, 0);
}

static void
policy_event_cb(const struct events_msg *m, const struct events_rec *r,
    void *arg)
{
	struct policy	*pol = arg;

	if (m->type == EVENTS_TENDD_STOPPING) {
		pol->stopping = true;
		return;
	}
	if (pol->stopping || m->svc == NULL || m->old < 0 ||
	    m->old == (int)m->svc->state || !svc_is_down(m->svc))
		return;
	policy_ended(pol, m->svc);
}

static void
policy_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct policy	*pol = arg;
	int		 code;

	if (pol->stopping)
		return;
	if (pol->essential_code >= 0) {
		pol->hooks.shutdown(pol->essential_code, pol->hooks.arg);
		return;
	}
	if (!pol->exit_when_done || !pol->hooks.work_down(pol->hooks.arg))
		return;
	code = pol->first_failure >= 0 ? pol->first_failure : 0;
	log_info("every non-daemon program has ended: exiting with status %d",
	    code);
	pol->hooks.shutdown(code, pol->hooks.arg);
}

struct policy *
policy_new(struct event_base *base, struct events *events,
    bool exit_when_done, const struct policy_hooks *hooks)
{
	struct policy	*pol = xcalloc(1, sizeof *pol);

	pol->events = events;
	pol->hooks = *hooks;
	pol->exit_when_done = exit_when_done;
	pol->first_failure = -1;
	pol->essential_code = -1;
	pol->ev_done = event_new(base, -1, 0, policy_done_cb, pol);
	events_subscribe(events, EVENTS_INSTANCE |
	    EVENTS_BIT(EVENTS_TENDD_STOPPING), policy_event_cb, pol);
	return pol;
}

void
policy_free(struct policy *pol)
{
	if (pol == NULL)
		return;
	events_unsubscribe(pol->events, policy_event_cb, pol);
	event_free(pol->ev_done);
	free(pol);
}

void
policy_check(struct policy *pol)
{
	if (pol->exit_when_done)
		event_active(pol->ev_done, 0, 0);
}
