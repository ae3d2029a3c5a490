/*
 * daemon.h: tendd's one context: the event loop, the configuration in
 * force, the programs and their instances, the process table and the
 * control socket. Only main.c creates it; every module reaches the daemon
 * through the pointer it is given.
 */
#ifndef TEND_DAEMON_H
#define TEND_DAEMON_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdbool.h>

#include <jansson.h>

#include "conf.h"
#include "launch.h"
#include "program.h"
#include "svc.h"

struct event_base;
struct event;
struct control;
struct events;
struct evstream;
struct logs;
struct notify;
struct instance_env;
struct pidrec;
struct policy;
struct reaper;
struct shutdown;
struct state_lock;
struct track;


struct daemon {
	struct event_base	*base;
	struct conf		*conf;
	char			*config_path;
	char			*socket_path;	/* the one in use */
	bool			 socket_override; /* -s given */
	struct program_list	 programs;
	struct reaper		*reaper;	/* children and their owners */
	struct instance_env	*ienv;		/* what instances share */
	struct shutdown		*shutdown;	/* the way down */
	struct control		*control;
	struct events		*events;	/* the change stream */
	struct evstream		*evstream;	/* tendctl events */
	struct logs		*logs;
	struct notify		*notify;	/* NULL without systemd */
	bool			 ready;		/* READY=1 was sent */
	struct svc		**boot;		/* autostart instances READY
						   waits for */
	size_t			 nboot;
	struct svc		**pending;	/* to start, a batch a pass */
	size_t			 npending;
	size_t			 ipending;	/* the next to start */
	struct event		*ev_start;
	struct launch_stdio	 stdio;
	struct track		*track;		/* descendants */
	struct state_lock	*state_lock;	/* NULL: no state kept */
	struct pidrec		*pidrec;	/* the spawn record, or NULL */
	pid_t			 predecessor;	/* the last tendd of state_dir */
	bool			 run_mode;	/* tendd --run */
	bool			 forward_group;	/* --run: signals to the
						   command's process group */
	bool			 state_dirty;
	bool			 state_error;	/* last save failed */
	char			*state_errmsg;	/* why, while it fails */
	struct event		*ev_log;	/* flush held log lines */
	struct sigs		*sigs;		/* every other signal */
	struct event		*ev_state;	/* save state_dir */
	struct event		*ev_state_later; /* save it soon */
	struct event		*ev_state_retry; /* after a failed save */
	struct policy		*policy;	/* when tendd ends */
	struct event		*ev_gc;		/* deferred cleanups */
	struct event		*ev_shutdown;	/* the shutdown's timer */
	int			 exit_code;
};

/* config_path NULL: tendd --run (no file to reload, no state kept). */
struct daemon	*daemon_new(struct event_base *, struct conf *,
		    const char *config_path, const char *socket_override,
		    bool exit_when_done);
/* Install signal handlers and start the autostart programs (and those
   the operator started before a restart; see persist.h). */
void		 daemon_run(struct daemon *);
void		 daemon_free(struct daemon *);

/* Reload the config file. On success *result is the change list; on an
   invalid config returns -1 with *errors an array of strings. A config
   with no programs while tendd has some is refused (-2, the reason in
   *errors) unless allow_empty. */
int		 daemon_reload(struct daemon *, bool allow_empty,
		    json_t **result, json_t **errors);
/* Stop everything and leave the loop when all is down. A second call
   kills what is left at once. */
void		 daemon_shutdown(struct daemon *);
bool		 daemon_shutting_down(const struct daemon *);
/* How many instances there are (retiring ones included). */
size_t		 daemon_ninstances(const struct daemon *);
/* svc_event(v[i], ev, 0) for each, as one batch (see daemon.c). */
void		 daemon_svc_events(struct daemon *, struct svc **, size_t,
		    enum svc_event);

/*
 * Select instances by patterns (see util_match). Fills a new array (caller
 * frees) of the instances, in config order, without duplicates. With
 * include_retiring, instances being removed are listed too. Returns 0, or
 * -1 with the patterns that matched nothing in *unmatched (a new array).
 */
int		 daemon_select(struct daemon *, json_t *patterns,
		    bool include_retiring, struct svc ***, size_t *,
		    json_t **unmatched);

#endif
