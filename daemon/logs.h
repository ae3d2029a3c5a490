/*
 * logs.h: capture every instance's stdout and stderr.
 *
 * Each instance has one pipe per stream for its whole life (tendd keeps
 * the write ends, so nothing written by a dying program or a lingering
 * child is lost across restarts). tendd reads them in its loop and sends
 * each line to the stream's sink (file, journal, tendd's own stdio, or
 * nowhere), to the instance's ring and to followers. A file that needs no
 * per-line work gets the bytes by splice, without a copy through tendd.
 *
 * Ownership: the daemon owns struct logs; each svc owns its logio
 * (logio_new/logio_free). Followers (logfollow.c) belong to their client
 * and go with it.
 */
#ifndef TEND_LOGS_H
#define TEND_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "logfollow.h"

struct event_base;
struct client;
struct events;
struct logfollow_list;
struct launch_stdio;
struct svc;


struct logs;
struct logio;

struct logs	*logs_new(struct event_base *);
void		 logs_free(struct logs *);
/* Close and reopen every log file (SIGUSR1, tendctl logrotate). */
int		 logs_reopen(struct logs *);
/* Publish log.dropped on e from now on (coalesced, once a second at most
   per instance, only while output is dropped). */
void		 logs_set_events(struct logs *, struct events *);

struct logio	*logio_new(struct logs *, struct svc *);
/* Read what is left, flush, close the pipes. */
void		 logio_free(struct logio *);
/* Before a spawn: the child's stdout and stderr. */
int		 logio_stdio(struct logio *, struct launch_stdio *, char *,
		    size_t);
/* The main process was reaped: take everything it wrote. */
void		 logio_drain(struct logio *);
/* The instance's configuration (or name) changed. */
void		 logio_configure(struct logio *);
uint64_t	 logio_dropped(const struct logio *);
const char	*logio_error(const struct logio *);

/* The last lines of the instances, merged by time (protocol "lines"). */
json_t		*logs_history(struct svc **, size_t, size_t lines, int streams);

/*
 * Stream new lines of the instances to a client as events (logfollow.h);
 * with events, their life-cycle lines from the bus too.
 */
void		 logs_follow(struct logs *, struct events *, struct client *,
		    long long id, struct svc **, size_t, size_t lines,
		    int streams, bool events);
void		 logs_client_gone(struct logs *, struct client *);
/* Does the client follow anything? */
bool		 logs_client_following(const struct logs *,
		    const struct client *);
void		 logs_client_drained(struct logs *, struct client *);

#endif
