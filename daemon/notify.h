/*
 * notify.h: tell systemd (sd_notify) how tendd is doing: READY, STATUS,
 * RELOADING, STOPPING, EXTEND_TIMEOUT_USEC, and WATCHDOG pings from the
 * event loop itself, so a stuck loop is caught. Without NOTIFY_SOCKET
 * every call returns at once and no timer exists.
 */
#ifndef TEND_NOTIFY_H
#define TEND_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct events;
struct notify;

struct notify	*notify_new(struct event_base *);
void		 notify_free(struct notify *);
bool		 notify_active(const struct notify *);
/* Send now (several assignments separated by newlines). */
void		 notify_send(struct notify *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* STATUS=text, at most 4 times a second; the latest text wins. */
void		 notify_status(struct notify *, const char *);
/* READY=1 with STATUS=text. */
void		 notify_ready(struct notify *, const char *);
void		 notify_reloading(struct notify *);
/* STOPPING=1, then EXTEND_TIMEOUT_USEC pings until notify_free. */
void		 notify_stopping(struct notify *);
/* Tell systemd what the stream says: READY=1 with tendd.ready (and
   again after a reload), RELOADING=1, STOPPING=1, and STATUS= with the
   count of running, backing off and failed instances. */
void		 notify_attach(struct notify *, struct events *);

#endif
