/*
 * notify.c: messages to systemd, rate-limited status, watchdog.
 *
 * libsystemd's sd_notify() writes on a blocking socket: when systemd does
 * not read its notification socket (busy, hung, or its queue full), it
 * would stop tendd's whole event loop. So tendd sends the datagrams
 * itself on a non-blocking socket, to the address NOTIFY_SOCKET names,
 * and what cannot be sent now is sent again shortly (the latest state
 * wins; nothing piles up). sd_watchdog_enabled() still parses the
 * watchdog settings.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "events.h"
#include "log.h"
#include "notify.h"
#include "svc.h"
#include "util.h"

#define NOTIFY_STATUS_GAP	(250 * USEC_PER_MSEC)	/* 4 a second */
#define NOTIFY_EXTEND_EVERY	(5 * USEC_PER_SEC)
#define NOTIFY_EXTEND_BY	(15 * USEC_PER_SEC)
#define NOTIFY_RETRY		(100 * USEC_PER_MSEC)

struct notify {
	struct event_base *base;
	int		 fd;
	struct sockaddr_un sun;
	socklen_t	 sunlen;
	char		*retry;		/* not sent yet: systemd was busy */
	struct event	*retry_timer;
	bool		 warned;
	struct event	*watchdog;
	struct event	*status_timer;
	struct event	*extend;
	char		*status;	/* latest text */
	char		*sent;		/* last text sent */
	uint64_t	 sent_at;	/* mono usec */
	bool		 ready;		/* STATUS goes with READY first */

	struct events	*events;	/* subscribed to, or NULL */
	struct event	*ev_count;	/* STATUS= once per loop pass */
	unsigned	 count[SVC_NSTATES]; /* instances in each state */
};

/* One datagram, never blocking. Returns 0, or -1 if it must wait. */
static int
notify_write(struct notify *n, const char *msg)
{
	ssize_t	 r;

	do {
		r = sendto(n->fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL,
		    (struct sockaddr *)&n->sun, n->sunlen);
	} while (r == -1 && errno == EINTR);
	if (r >= 0)
		return 0;
	if (!n->warned) {
		log_warn("cannot notify systemd (will retry)");
		n->warned = true;
	}
	return -1;
}

static void
notify_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	struct notify	*n = arg;
	struct timeval	 tv;

	if (n->retry == NULL || notify_write(n, n->retry) == 0) {
		free(n->retry);
		n->retry = NULL;
		return;
	}
	util_usec_tv(NOTIFY_RETRY, &tv);
	evtimer_add(n->retry_timer, &tv);
}

/* Send now, or keep it (after what is already waiting) for a retry. */
static void
notify_raw(struct notify *n, const char *msg)
{
	struct timeval	 tv;
	char		*joined;

	if (n->retry == NULL && notify_write(n, msg) == 0)
		return;
	if (n->retry == NULL)
		n->retry = xstrdup(msg);
	else if (strlen(n->retry) < 4096) {
		/* Later assignments override earlier ones for systemd. */
		xasprintf(&joined, "%s\n%s", n->retry, msg);
		free(n->retry);
		n->retry = joined;
	}
	if (!evtimer_pending(n->retry_timer, NULL)) {
		util_usec_tv(NOTIFY_RETRY, &tv);
		evtimer_add(n->retry_timer, &tv);
	}
}

static void
notify_watchdog_cb(evutil_socket_t fd, short events, void *arg)
{
	notify_raw(arg, "WATCHDOG=1");
}

static void
notify_extend_cb(evutil_socket_t fd, short events, void *arg)
{
	char	 msg[64];

	snprintf(msg, sizeof msg, "EXTEND_TIMEOUT_USEC=%llu",
	    (unsigned long long)NOTIFY_EXTEND_BY);
	notify_raw(arg, msg);
}

static void
notify_flush_status(struct notify *n)
{
	if (n->status == NULL ||
	    (n->sent != NULL && strcmp(n->sent, n->status) == 0))
		return;
	notify_send(n, "STATUS=%s", n->status);
	free(n->sent);
	n->sent = xstrdup(n->status);
	n->sent_at = util_now_mono();
}

static void
notify_status_cb(evutil_socket_t fd, short events, void *arg)
{
	notify_flush_status(arg);
}

static void	notify_event_cb(const struct events_msg *,
		    const struct events_rec *, void *);

struct notify *
notify_new(struct event_base *base)
{
	struct notify	*n;
	struct timeval	 tv;
	const char	*path = getenv("NOTIFY_SOCKET");
	uint64_t	 usec;
	size_t		 len;
	int		 r;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof n->sun.sun_path) {
		if (path != NULL)
			log_warnx("ignoring NOTIFY_SOCKET=%s", path);
		return NULL;
	}
	n = xcalloc(1, sizeof *n);
	n->base = base;
	n->sun.sun_family = AF_UNIX;
	memcpy(n->sun.sun_path, path, len);
	if (path[0] == '@')
		n->sun.sun_path[0] = '\0';	/* abstract namespace */
	n->sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '@' ? 0 : 1));
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd == -1) {
		log_warn("notify socket");
		free(n);
		return NULL;
	}
	n->retry_timer = evtimer_new(base, notify_retry_cb, n);
	n->status_timer = evtimer_new(base, notify_status_cb, n);
	n->extend = event_new(base, -1, EV_PERSIST, notify_extend_cb, n);
	/* Only for us: 0 with another WATCHDOG_PID, < 0 if malformed. */
	r = sd_watchdog_enabled(0, &usec);
	if (r < 0)
		log_warnx("ignoring the watchdog settings: %s", strerror(-r));
	if (r > 0 && usec > 0) {
		n->watchdog = event_new(base, -1, EV_PERSIST,
		    notify_watchdog_cb, n);
		util_usec_tv(usec / 2, &tv);
		evtimer_add(n->watchdog, &tv);
		log_info("watchdog: pinging systemd every %llums",
		    (unsigned long long)(usec / 2 / USEC_PER_MSEC));
	}
	return n;
}

void
notify_free(struct notify *n)
{
	if (n != NULL && n->events != NULL)
		events_unsubscribe(n->events, notify_event_cb, n);
	if (n != NULL && n->ev_count != NULL)
		event_free(n->ev_count);
	if (n == NULL)
		return;
	if (n->retry != NULL)
		(void)notify_write(n, n->retry);	/* last try */
	if (n->watchdog != NULL)
		event_free(n->watchdog);
	event_free(n->retry_timer);
	close(n->fd);
	free(n->retry);
	event_free(n->status_timer);
	event_free(n->extend);
	free(n->status);
	free(n->sent);
	free(n);
}

bool
notify_active(const struct notify *n)
{
	return n != NULL;
}

void
notify_send(struct notify *n, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (n == NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	notify_raw(n, msg);
	free(msg);
}

void
notify_status(struct notify *n, const char *text)
{
	struct timeval	 tv;
	uint64_t	 now;

	if (n == NULL)
		return;
	free(n->status);
	n->status = xstrdup(text);
	if (!n->ready || evtimer_pending(n->status_timer, NULL))
		return;
	now = util_now_mono();
	if (now - n->sent_at >= NOTIFY_STATUS_GAP) {
		notify_flush_status(n);
		return;
	}
	util_usec_tv(NOTIFY_STATUS_GAP - (now - n->sent_at), &tv);
	/* libevent measures from the time it cached when this pass of the
	   loop began, which can be well before now. */
	event_base_update_cache_time(n->base);
	evtimer_add(n->status_timer, &tv);
}

void
notify_ready(struct notify *n, const char *text)
{
	if (n == NULL)
		return;
	evtimer_del(n->status_timer);
	n->ready = true;
	notify_send(n, "READY=1\nSTATUS=%s", text);
	free(n->status);
	n->status = xstrdup(text);
	free(n->sent);
	n->sent = xstrdup(text);
	n->sent_at = util_now_mono();
}

void
notify_reloading(struct notify *n)
{
	struct timespec	 ts;

	if (n == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send(n, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * USEC_PER_SEC +
	    (unsigned long long)ts.tv_nsec / 1000);
}

void
notify_stopping(struct notify *n)
{
	struct timeval	 tv;

	if (n == NULL)
		return;
	notify_send(n, "STOPPING=1");
	util_usec_tv(NOTIFY_EXTEND_EVERY, &tv);
	evtimer_add(n->extend, &tv);
}

/* The change stream: what systemd is told */

/* "12 running, 1 backoff, 0 failed" for STATUS. */
static void
notify_counts(const struct notify *n, char *buf, size_t len)
{
	snprintf(buf, len, "%u running, %u backoff, %u failed",
	    n->count[SVC_RUNNING], n->count[SVC_BACKOFF],
	    n->count[SVC_FAILED]);
}

/* Counts changed: one STATUS after this pass of the loop (a thousand
   instances starting together are one count, not a thousand). */
static void
notify_count_cb(evutil_socket_t fd, short events, void *arg)
{
	struct notify	*n = arg;
	char		 buf[128];

	notify_counts(n, buf, sizeof buf);
	notify_status(n, buf);
}

static void
notify_move(struct notify *n, int from, int to)
{
	if (from >= 0 && from < SVC_NSTATES && n->count[from] > 0)
		n->count[from]--;
	if (to >= 0 && to < SVC_NSTATES)
		n->count[to]++;
	event_active(n->ev_count, 0, 0);
}

static void
notify_event_cb(const struct events_msg *m, const struct events_rec *r,
    void *arg)
{
	struct notify	*n = arg;
	char		 buf[128];

	switch (m->type) {
	case EVENTS_TENDD_READY:
	case EVENTS_CONFIG_RELOADED:
	case EVENTS_CONFIG_REFUSED:
		/* Ready, or ready again after a reload (if it was). */
		if (m->type != EVENTS_TENDD_READY && !n->ready)
			break;
		notify_counts(n, buf, sizeof buf);
		notify_ready(n, buf);
		break;
	case EVENTS_TENDD_RELOADING:
		notify_reloading(n);
		break;
	case EVENTS_TENDD_STOPPING:
		notify_stopping(n);
		break;
	case EVENTS_INSTANCE_REMOVED:
		notify_move(n, (int)m->svc->state, -1);
		break;
	default:
		if (m->svc != NULL && m->old >= 0 &&
		    m->old != (int)m->svc->state)
			notify_move(n, m->old, (int)m->svc->state);
		break;
	}
}

void
notify_attach(struct notify *n, struct events *e)
{
	if (n == NULL)
		return;
	n->events = e;
	n->ev_count = event_new(n->base, -1, 0, notify_count_cb, n);
	events_subscribe(e, EVENTS_INSTANCE | EVENTS_BIT(EVENTS_TENDD_READY) |
	    EVENTS_BIT(EVENTS_TENDD_RELOADING) |
	    EVENTS_BIT(EVENTS_TENDD_STOPPING) |
	    EVENTS_BIT(EVENTS_CONFIG_RELOADED) |
	    EVENTS_BIT(EVENTS_CONFIG_REFUSED), notify_event_cb, n);
}
