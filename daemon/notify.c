/* notify.c: sd_notify to systemd, rate-limited status, watchdog. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"
#include "util.h"

#define NOTIFY_STATUS_GAP	(250 * USEC_PER_MSEC)	/* 4 a second */
#define NOTIFY_EXTEND_EVERY	(5 * USEC_PER_SEC)
#define NOTIFY_EXTEND_BY	(15 * USEC_PER_SEC)

struct notify {
	struct event	*watchdog;
	struct event	*status_timer;
	struct event	*extend;
	char		*status;	/* latest text */
	char		*sent;		/* last text sent */
	uint64_t	 sent_at;	/* mono usec */
	bool		 ready;		/* STATUS goes with READY first */
};

static void
tv_usec(struct timeval *tv, uint64_t usec)
{
	tv->tv_sec = (time_t)(usec / USEC_PER_SEC);
	tv->tv_usec = (suseconds_t)(usec % USEC_PER_SEC);
}

static void
notify_watchdog_cb(evutil_socket_t fd, short events, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

static void
notify_extend_cb(evutil_socket_t fd, short events, void *arg)
{
	sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu",
	    (unsigned long long)NOTIFY_EXTEND_BY);
}

static void
notify_flush_status(struct notify *n)
{
	if (n->status == NULL ||
	    (n->sent != NULL && strcmp(n->sent, n->status) == 0))
		return;
	sd_notifyf(0, "STATUS=%s", n->status);
	free(n->sent);
	n->sent = xstrdup(n->status);
	n->sent_at = util_now_mono();
}

static void
notify_status_cb(evutil_socket_t fd, short events, void *arg)
{
	notify_flush_status(arg);
}

struct notify *
notify_new(struct event_base *base)
{
	struct notify	*n;
	struct timeval	 tv;
	uint64_t	 usec;
	int		 r;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return NULL;
	n = xcalloc(1, sizeof *n);
	n->status_timer = evtimer_new(base, notify_status_cb, n);
	n->extend = event_new(base, -1, EV_PERSIST, notify_extend_cb, n);
	/* Only for us: 0 with another WATCHDOG_PID, < 0 if malformed. */
	r = sd_watchdog_enabled(0, &usec);
	if (r < 0)
		log_warnx("ignoring the watchdog settings: %s", strerror(-r));
	if (r > 0 && usec > 0) {
		n->watchdog = event_new(base, -1, EV_PERSIST,
		    notify_watchdog_cb, n);
		tv_usec(&tv, usec / 2);
		evtimer_add(n->watchdog, &tv);
		log_info("watchdog: pinging systemd every %llums",
		    (unsigned long long)(usec / 2 / USEC_PER_MSEC));
	}
	return n;
}

void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->watchdog != NULL)
		event_free(n->watchdog);
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
	if (sd_notify(0, msg) < 0)
		log_warnx("sd_notify failed: %s", msg);
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
	tv_usec(&tv, NOTIFY_STATUS_GAP - (now - n->sent_at));
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
	tv_usec(&tv, NOTIFY_EXTEND_EVERY);
	evtimer_add(n->extend, &tv);
}
