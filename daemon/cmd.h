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
struct svc;

struct cmd_entry {
	const char	*name;
	bool		 mutating;	/* needs a privileged peer */
	void		(*fn)(struct client *, json_int_t, json_t *);
};

const struct cmd_entry	*cmd_find(const char *);
/* Every command, n of them, read-only (the unit test compares tendctl's). */
const struct cmd_entry	*cmd_table(size_t *n);
/* The status field (enum wire_field) tendd makes for a key, or -1. */
int			 cmd_status_field(const char *);

struct daemon;
/* Waiters follow the change stream from attach to detach: a change of
   state completes the waits it satisfies; an instance removed is gone
   for its waits. */
void		 cmd_attach(struct daemon *);
void		 cmd_detach(struct daemon *);
/* A client is going away: drop its waiters without replying. */
void		 cmd_client_gone(struct client *);
/* A client's output queue emptied. */
void		 cmd_client_drained(struct client *);
/* Has the client a reply or events still to come (a wait, a follow)? */
bool		 cmd_client_busy(struct client *);

#endif
