/*
 * control.h: the control socket. Accepts clients, checks their credentials,
 * splits their input into frames (bounded by PROTO_MAX_MSG), decodes
 * requests and dispatches them through the command table in cmd.c.
 *
 * Ownership: the control owns its clients; a client owns its waiters
 * (cmd.c) and cancels them when it goes away. A client is never freed
 * inside a command handler: handlers mark it and control frees it after
 * dispatch.
 */
#ifndef TEND_CONTROL_H
#define TEND_CONTROL_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdbool.h>

#include <jansson.h>

struct event_base;
struct waiter;
struct bufferevent;
struct client;

/* A command: a row of the table the layer above gives (cmd.c). */
struct control_cmd {
	const char	*name;
	bool		 mutating;	/* needs a privileged peer */
	void		(*fn)(struct client *, json_int_t, json_t *);
};

/*
 * What the transport asks of the commands above it. ctx is theirs
 * (control_ctx).
 */
struct control_hooks {
	const struct control_cmd *(*find)(const char *name);
	/* A client is going away: drop what it waits for, unanswered. */
	void		(*client_gone)(struct client *);
	/* A client's output queue emptied. */
	void		(*client_drained)(struct client *);
	/* Has the client a reply or events still to come? */
	bool		(*client_busy)(struct client *);
	/* Are mutating commands refused now (tendd shutting down)? */
	bool		(*stopping)(void *ctx);
	/* max_clients, and how many instances there are (the descriptors
	   kept for them). */
	unsigned	(*max_clients)(void *ctx);
	size_t		(*ninstances)(void *ctx);
	/* A mutating command from an allowed peer is about to run. */
	void		(*announce)(struct client *, const char *name,
			    json_t *args, void *ctx);
	void		*ctx;
};

struct control_params {
	struct event_base		*base;
	pid_t				 predecessor; /* last tendd, or 0 */
	struct control_hooks		 hooks;
};

struct client {
	TAILQ_ENTRY(client)	 entry;
	struct control		*control;
	struct bufferevent	*bev;
	struct event		*ev_partial;	/* a request half sent */
	pid_t			 pid;
	uid_t			 uid;
	gid_t			 gid;
	gid_t			*groups;	/* supplementary, at connect */
	int			 ngroups;
	bool			 privileged;	/* as counted in control */
	int			 flags;
#define CLIENT_CLOSING	0x1	/* close once the output is flushed */
#define CLIENT_DEAD	0x2	/* gone; freed from the loop */
#define CLIENT_EOF	0x4	/* sends no more: close once answered */
	TAILQ_HEAD(, waiter)	 waiters;
};

struct control	*control_new(const struct control_params *, const char *path,
		    mode_t, const char *group, gid_t, char *err, size_t errlen);
/*
 * Use a listening socket passed by systemd (socket activation). Its path,
 * mode and group are systemd's: tendd neither changes nor removes them.
 * Without a configured group, the socket file's group may control tendd.
 */
struct control	*control_adopt(const struct control_params *, int fd,
		    const char *group, gid_t, char *err, size_t errlen);
/* Close every client and the socket, and unlink it. */
void		 control_free(struct control *);
/* Apply a new mode and group to the socket file, and who is
   privileged to every client connected. */
void		 control_set_mode(struct control *, mode_t, const char *group,
		    gid_t);
/* A client's work (a wait, a follow) ended: one that sent EOF and has
   nothing more to receive is closed. */
void		 control_client_idle(struct client *);
/* The hooks' ctx. */
void		*control_ctx(const struct control *);

/* Bytes queued to a client and not yet sent. */
size_t		 control_pending(const struct client *);
/* Queue a message to a client (steals the reference). */
void		 control_send(struct client *, json_t *);
/* The same, written at once when nothing is queued before it. */
void		 control_send_now(struct client *, json_t *);
/* Send an error reply. */
/* args[key] as a boolean (def when absent): 0, or -1 after a bad_args
   error reply to the client. */
int		 control_arg_bool(struct client *, json_int_t id, json_t *args,
		    const char *key, bool def, bool *);
void		 control_error(struct client *, json_int_t id, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
