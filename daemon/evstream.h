/*
 * evstream.h: the "events" command (tendctl events): replay the change
 * stream's ring (events.h) from a point, and follow it live.
 *
 * A follower is a cursor into the ring, not a queue: events go to its
 * client only while less than a cap of output waits for it, and the rest
 * when it drains. A client that reads slowly or not at all falls behind
 * the ring and is told what it missed (a "gap" event) once it reads
 * again; tendd never holds more than the cap for it. Followers are woken
 * through one deferred event scheduled by a bus subscriber that exists
 * only while someone follows: with nobody following, nothing wakes.
 *
 * Ownership: the daemon owns struct evstream; followers belong to their
 * client and go with it.
 */
#ifndef TEND_EVSTREAM_H
#define TEND_EVSTREAM_H

#include <stdbool.h>

#include <jansson.h>

struct client;
struct daemon;

struct evstream;

/* instances: the instance objects of status for v (cmd.c's), for
   snapshots. */
struct evstream	*evstream_new(struct daemon *, json_t *(*instances)(
		    struct daemon *, struct svc **v, size_t n));
/* After every client is gone. */
void		 evstream_free(struct evstream *);

/* The "events" request (docs/protocol.md): reply or start following. */
void		 evstream_request(struct evstream *, struct client *,
		    json_int_t id, json_t *args);
void		 evstream_client_gone(struct evstream *, struct client *);
/* Has the client a replay or a follow under way? */
bool		 evstream_client_following(const struct evstream *,
		    const struct client *);
void		 evstream_client_drained(struct evstream *, struct client *);

#endif
