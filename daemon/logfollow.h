/*
 * logfollow.h: clients that follow instances' output (tendctl logs -f).
 *
 * A follower gets a "start" event, the recent lines (logs_history), then
 * every new line of the instances it follows as logs.c reads it, and,
 * unless it asked not to, a life-cycle line ("-- web exited with code 3;
 * restarting in 0.4s (attempt 3) --") for each of their instance events
 * on the bus (events.h). tendd drains an instance's pipes before it
 * publishes its exit, so a program's last lines come before its exit.
 * Each follower's queue is capped: what does not fit is counted, then
 * reported as "missed" once it catches up.
 *
 * Ownership: logs.c owns struct logfollow and embeds a logfollow_list in
 * each logio; followers belong to their client and go with it.
 */
#ifndef TEND_LOGFOLLOW_H
#define TEND_LOGFOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct client;
struct events;
struct svc;

struct logfollow;
struct logfollow_ref;

/* Which output streams (logs.h, logfollow_start). */
#define LOGS_STDOUT	0x1
#define LOGS_STDERR	0x2

/* The followers of one instance; embedded in its logio, zeroed. */
struct logfollow_list {
	struct logfollow_ref	*head;
	unsigned		 n;
};

/* list_of: the followers of an instance (NULL: none can be). */
struct logfollow *logfollow_new(struct logfollow_list *(*list_of)(
		    const struct svc *));
/*
 * Call once no client is left (the bus, which may already be gone, is
 * not touched).
 */
void		 logfollow_free(struct logfollow *);

/*
 * Follow instances v[0..n) for client cl, request id: the start event,
 * the lines of hist (logs_history's, stolen), then new ones; with
 * events, life-cycle lines from the bus e. streams:
 * LOGS_STDOUT|LOGS_STDERR.
 */
void		 logfollow_start(struct logfollow *, struct events *e,
		    struct client *cl, long long id, struct svc **v, size_t n,
		    json_t *hist, int streams, bool events);
/* A line as the protocol has it (docs/protocol.md, logs). */
json_t		*logfollow_line_json(const struct svc *, int stream,
		    uint64_t wall, const char *, size_t, int flags);
/* A line of an instance, as logs.c records it (ring.h's flags). */
void		 logfollow_line(struct logfollow_list *, const struct svc *,
		    int stream, uint64_t wall, const char *, size_t, int flags);
/* The instance's output capture goes: nobody follows it any more. */
void		 logfollow_detach(struct logfollow_list *);

void		 logfollow_client_gone(struct logfollow *, struct client *);
bool		 logfollow_client_following(const struct logfollow *,
		    const struct client *);
/* The client's queue emptied: report what it missed, give memory back. */
void		 logfollow_client_drained(struct logfollow *, struct client *);

#endif
