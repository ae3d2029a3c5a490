/*
 * events.h: the change stream. Every change in tendd (a state transition,
 * an exit and what follows it, an operator's command, a reload, dropped log
 * lines, tendd's own life cycle) is published here once, with a sequence
 * number. Modules that must react (waiters, persistence, notifications to
 * systemd, the exit policy, log followers, tendctl events) subscribe;
 * the place where a change happens never calls them by name.
 *
 * Publishing stores the event in a bounded ring (the last event_buffer
 * events, for replay) and then calls the subscribers of its type in the
 * order they subscribed, synchronously. An event published by a subscriber
 * gets the next sequence number and is stored at once, so the ring is
 * always in sequence order; its own subscribers may run before later
 * subscribers of the first one. Nothing here arms a timer or wakes the
 * loop: with nobody following, the bus costs the ring's copy.
 *
 * Sequence numbers increase strictly for the life of state_dir: tendd
 * saves events_reserve() in its state and starts again from the saved
 * value (events_resume), and asks for a save (the reserve hook) well
 * before the reserve is used up.
 */
#ifndef TEND_EVENTS_H
#define TEND_EVENTS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum events_type {
	EVENTS_INSTANCE_SPAWNED,	/* a process was started */
	EVENTS_INSTANCE_RUNNING,	/* it is up */
	EVENTS_INSTANCE_EXITED,		/* its main process ended */
	EVENTS_INSTANCE_RESTARTING,	/* backing off before a new try */
	EVENTS_INSTANCE_FAILED,		/* given up */
	EVENTS_INSTANCE_STOPPING,
	EVENTS_INSTANCE_STOPPED,
	EVENTS_INSTANCE_ADOPTED,	/* taken over from a crashed tendd */
	EVENTS_INSTANCE_REMOVED,	/* scaled down or its program removed:
					   gone for good (svc about to be
					   freed) */
	EVENTS_INSTANCE_STATE,		/* any other transition */
	EVENTS_OPERATOR_COMMAND,
	EVENTS_CONFIG_RELOADED,
	EVENTS_CONFIG_REFUSED,
	EVENTS_LOG_DROPPED,
	EVENTS_TENDD_STARTED,
	EVENTS_TENDD_READY,
	EVENTS_TENDD_RELOADING,
	EVENTS_TENDD_STOPPING,
	EVENTS_TENDD_STOPPED,		/* all is down: tendd leaves now */
	EVENTS_NTYPES
};
#define EVENTS_ALL	((1u << EVENTS_NTYPES) - 1)
#define EVENTS_BIT(t)	(1u << (t))
/* Every instance.* type. */
#define EVENTS_INSTANCE	(EVENTS_BIT(EVENTS_INSTANCE_STATE + 1) - 1)

/* What an exit leads to (instance.exited's "next"). */
enum events_next {
	EVENTS_NEXT_NONE,	/* not an exit */
	EVENTS_NEXT_RESTART,	/* started again at once */
	EVENTS_NEXT_BACKOFF,	/* started again after "delay" */
	EVENTS_NEXT_GIVE_UP,	/* failed: not started again */
	EVENTS_NEXT_EXITED,	/* done: the restart policy says so */
	EVENTS_NEXT_STOPPED,	/* it was being stopped */
	EVENTS_NEXT_WAIT,	/* a forking launcher: the main process is
				   looked for */
};

struct svc;

/*
 * One event as stored. Instance events name the instance (program,
 * index, name); "from"/"to" are svc states (0xff: none); an exit has
 * its wait status, how long the process ran and what comes next. Other
 * keys of rarer events are in data.
 */
struct events_rec {
	uint64_t	 seq;
	uint64_t	 wall;		/* usec since the epoch */
	uint64_t	 ran;		/* usec the process ran */
	uint64_t	 delay;		/* usec until the next try */
	char		*program;	/* NULL: not about a program */
	char		*name;
	json_t		*data;		/* more keys, or NULL */
	pid_t		 pid;		/* 0: none */
	int		 status;	/* wait status; -1: unknown */
	unsigned	 index;
	unsigned	 attempt;	/* failed starts in a row so far */
	uint8_t		 type;		/* enum events_type */
	uint8_t		 from;
	uint8_t		 to;
	uint8_t		 next;		/* enum events_next */
	/* program and name live here when short (most do): thousands of
	   events, no allocation each. */
	char		 inl[24];
};

/*
 * What a publisher fills in. svc and old are for in-process subscribers
 * (the instance, and the state it left); the rest is what is stored.
 */
struct events_msg {
	enum events_type	 type;
	struct svc		*svc;		/* NULL: not an instance's */
	int			 old;		/* enum svc_state, -1: none */
	const char		*program;	/* else from svc */
	pid_t			 pid;
	int			 status;
	uint64_t		 ran;
	uint64_t		 delay;
	enum events_next	 next;
	json_t			*data;		/* stolen; may be NULL */
};

typedef void events_fn(const struct events_msg *, const struct events_rec *,
		    void *);

struct events;

/* capacity: how many events the ring keeps (event_buffer), at least 1. */
struct events	*events_new(size_t capacity);
void		 events_free(struct events *);
/* Keep this many from now on (a reload): the oldest go first. */
void		 events_resize(struct events *, size_t capacity);

/* Call fn for every event of a type in mask. */
void		 events_subscribe(struct events *, unsigned mask, events_fn *,
		    void *arg);
void		 events_unsubscribe(struct events *, events_fn *, void *arg);

/* Store and deliver an event. Returns its sequence number. */
uint64_t	 events_publish(struct events *, struct events_msg *);

/* An event with no change of state: about s (or about tendd, s NULL),
   its keys in data (stolen, may be NULL). */
uint64_t	 events_note(struct events *, enum events_type, struct svc *,
		    json_t *data);
/* An instance's event: the common case. */
uint64_t	 events_instance(struct events *, enum events_type,
		    struct svc *, int old);

/* The first and last sequence numbers kept (first > last: none yet). */
uint64_t	 events_first(const struct events *);
uint64_t	 events_last(const struct events *);
/* The event with that number, if still kept. */
const struct events_rec *events_get(const struct events *, uint64_t seq);
/* The first kept event at or after wall (usec since the epoch); events_last
   + 1 when none is. */
uint64_t	 events_since_wall(const struct events *, uint64_t wall);

/* The event as its JSON object (docs/protocol.md, "Events"). */
json_t		*events_json(const struct events_rec *);
const char	*events_type_name(enum events_type);
/* -1 when name is no type. */
int		 events_type_parse(const char *);

/*
 * Sequence numbers across restarts: events_reserve() is what to save
 * (a number above any this tendd will publish before its next save);
 * events_resume() continues from a saved one. hook is called (once per
 * reserve) when half the reserve is used, to ask for a save.
 */
uint64_t	 events_reserve(struct events *);
void		 events_resume(struct events *, uint64_t next);
void		 events_on_reserve(struct events *, void (*)(void *), void *);

#endif
