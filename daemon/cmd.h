/*
 * cmd.h: the command table of the control protocol (docs/protocol.md) and
 * the waiters that hold a reply until instances reach a goal.
 */
#ifndef TEND_CMD_H
#define TEND_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct client;
struct control_cmd;
struct control_hooks;
struct daemon;
struct svc;

const struct control_cmd *cmd_find(const char *);
/* Every command, n of them, read-only (the unit test compares tendctl's). */
const struct control_cmd *cmd_table(size_t *n);
/* What the control socket needs from the commands of d (control.h). */
void		 cmd_control_hooks(struct daemon *, struct control_hooks *);
/* The status field (enum wire_field) tendd makes for a key, or -1. */
int			 cmd_status_field(const char *);

/* Waiters follow the change stream from attach to detach: a change of
   state completes the waits it satisfies; an instance removed is gone
   for its waits. attach also makes tendctl events' followers
   (evstream.h); detach, after the control socket is closed, frees
   them. */
void		 cmd_attach(struct daemon *);
void		 cmd_detach(struct daemon *);

/* The instance objects status gives (docs/protocol.md), in a new array. */
json_t		*cmd_instances_json(struct daemon *, struct svc **, size_t);

#endif
