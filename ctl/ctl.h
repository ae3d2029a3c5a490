/*
 * ctl.h: tendctl's pieces that need no socket: the command table, command
 * line parsing into a request, reply printing, and the table renderer.
 * main.c adds the socket; everything here is unit-tested.
 */
#ifndef TEND_CTL_H
#define TEND_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "proto.h"
#include "util.h"

/* Exit codes: a public interface, documented by ctl_usage(). */
#define CTL_EXIT_OK		0	/* success */
#define CTL_EXIT_FAILED		1	/* the operation failed */
#define CTL_EXIT_USAGE		2	/* bad command line or arguments */
#define CTL_EXIT_NOT_RUNNING	3	/* status: not every one is running */
#define CTL_EXIT_NO_PROGRAM	4	/* a name or pattern matched nothing */
#define CTL_EXIT_CONNECT	5	/* cannot connect, permission denied */

/*
 * Codes of the errors tendctl finds itself, in the "code" scheme of
 * tendd's (proto.h), so that a script reads both alike under --json.
 * Stable: docs/protocol.md lists them.
 */
#define CTL_E_USAGE	"usage"		/* bad command line (exit 2) */
#define CTL_E_CONNECT	"connect"	/* cannot connect to tendd (5) */
#define CTL_E_TIMEOUT	PROTO_E_TIMEOUT	/* --timeout passed first (1) */
#define CTL_E_CLOSED	"closed"	/* tendd closed the connection */
#define CTL_E_BAD_REPLY	"bad_reply"	/* not a reply tendctl can read */
#define CTL_E_IO	"io"		/* reading or writing the socket */

/* The one request id tendctl uses: one request per connection. */
#define CTL_REQUEST_ID		1

/* Per-command options a table row allows (ctl_cmd.opts). */
#define CTL_OPT_NO_WAIT		0x1	/* --no-wait */
#define CTL_OPT_TIMEOUT		0x2	/* --timeout S */
#define CTL_OPT_LINES		0x4	/* -n N */
#define CTL_OPT_FOLLOW		0x8	/* -f, --follow */
#define CTL_OPT_STREAM		0x10	/* --stdout, --stderr */
#define CTL_OPT_ALLOW_EMPTY	0x20	/* --allow-empty */
#define CTL_OPT_TIMESTAMPS	0x40	/* -t, --timestamps */
#define CTL_OPT_NO_EVENTS	0x80	/* --no-events */
#define CTL_OPT_EVENTS		0x100	/* --since, --snapshot, --type */

/* logs: lines asked for unless -n says otherwise, and the most allowed. */
#define CTL_LOGS_LINES		50
#define CTL_LOGS_MAX_LINES	100000

/* Client-side slack over the timeout sent with wait. */
#define CTL_WAIT_SLACK		(5 * USEC_PER_SEC)

struct ctl_inv;

/* One row per command; usage, checks and dispatch all come from it. */
struct ctl_cmd {
	const char	*name;
	const char	*args;		/* positional part of the usage */
	const char	*help;		/* one line */
	int		 min_args;
	int		 max_args;	/* -1: no limit */
	int		 opts;		/* CTL_OPT_* */
	const char	*proto_cmd;	/* NULL: runs locally, no tendd */
	/* Fill inv->args; 0, or -1 with a message in err. */
	int		(*build)(struct ctl_inv *, char *, size_t);
	/* Print an ok result (NULL for local commands); the exit code. */
	int		(*print)(struct ctl_inv *, const json_t *);
	/* Print one per-instance result; also used for error "results". */
	void		(*line)(struct ctl_inv *, const json_t *);
	/*
	 * Print one event tied to the request (NULL: events are skipped);
	 * 0, or -1 with errno set when writing to inv->out failed.
	 */
	int		(*event)(struct ctl_inv *, const json_t *);
	/* More help for "help COMMAND", lines of at most 80; or NULL. */
	const char	*details;
};

/* The options before COMMAND. Strings borrow from argv. */
struct ctl_global {
	const char	*socket;	/* -s */
	const char	*config;	/* -c */
	bool		 json;
	bool		 help;
	bool		 version;
};

/* One parsed command: what to send and how to print the answer. */
struct ctl_inv {
	const struct ctl_cmd *cmd;
	int		 argc;		/* positional arguments, borrowed */
	char		**argv;
	bool		 json;		/* --json */
	bool		 help;		/* COMMAND --help */
	bool		 wait;		/* false with --no-wait */
	bool		 has_timeout;
	uint64_t	 timeout;	/* --timeout, usec */
	bool		 has_deadline;
	uint64_t	 deadline;	/* client-side wait for a reply, usec */
	int		 lines;		/* -n */
	bool		 follow;	/* -f */
	const char	*log_stream;	/* --stdout, --stderr; NULL: both */
	bool		 log_times;	/* -t: each line after its time */
	bool		 log_events;	/* logs -f: life-cycle lines (not
					   with --no-events) */
	bool		 allow_empty;	/* reload --allow-empty */
	const char	*since;		/* events --since */
	bool		 snapshot;	/* events --snapshot */
	const char	**types;	/* events --type, each (array owned) */
	size_t		 ntypes;
	bool		 snap_more;	/* events: a snapshot's parts go on */
	/*
	 * Set by build: the answer is events until tendd closes the
	 * connection (maybe never a reply), and SIGINT, SIGTERM or a closed
	 * stdout end tendctl quietly.
	 */
	bool		 streaming;
	bool		 log_prefix;	/* logs: several instances, name lines */
	json_t		*args;		/* request args, owned */
	/* status, ps: what events brought before the reply (owned) */
	struct output_table *table;	/* rows laid out */
	json_t		*items;		/* --json: the instance objects */
	bool		 not_running;	/* one was not running */
	const char	*malformed;	/* what was wrong with an event */
	json_t		*shown;		/* wait: names printed as they
					   ended (owned) */

	FILE		*out;		/* where results and errors go */
	FILE		*err;
	bool		 style;		/* colours and bold: a terminal */
};

/* parse.c */
/*
 * Parse the options before COMMAND. Returns 0 and the index of COMMAND in
 * *cmdind (== argc when there is none), or CTL_EXIT_USAGE with a message.
 */
int		 ctl_parse_global(int, char **, struct ctl_global *, int *,
		    char *, size_t);
/* Is --json anywhere before "--"? (Errors of parsing then are JSON too.) */
bool		 ctl_wants_json(int, char **);
void		 ctl_inv_init(struct ctl_inv *, FILE *out, FILE *err);
void		 ctl_inv_clear(struct ctl_inv *);
/*
 * Parse "COMMAND [OPTIONS] [ARGS]" (argv[0] is COMMAND; argv is permuted
 * by getopt). Returns 0, or CTL_EXIT_USAGE with a message in err; on
 * success inv->cmd is set, and inv->args too unless inv->help.
 */
int		 ctl_parse(struct ctl_inv *, int, char **, char *, size_t);
/* The request to send for a parsed command; the caller frees it. */
json_t		*ctl_request(const struct ctl_inv *);
/* The whole help; one command's usage line, after prefix. */
void		 ctl_usage(FILE *);
void		 ctl_cmd_usage(FILE *, const struct ctl_cmd *, const char *);
/* One command's usage, help line and details. */
void		 ctl_cmd_help(FILE *, const struct ctl_cmd *);

/* cmds.c */
const struct ctl_cmd *ctl_cmd_find(const char *);
/* The closest command name to a typo, or NULL. */
const char	*ctl_cmd_suggest(const char *);
/* Rows in table order; NULL past the end. */
const struct ctl_cmd *ctl_cmd_at(size_t);
/* Exit code for an error reply code (NULL: a client-side failure). */
int		 ctl_exit_code(const char *);
/*
 * An error tendctl found itself: "tendctl: MESSAGE" on inv->err and,
 * with --json, {"error":{"code":CODE,"message":MESSAGE}} on inv->out, as
 * for an error reply of tendd's. Returns exit.
 */
int		 ctl_error(struct ctl_inv *, int exit, const char *code,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
/* Only the JSON of ctl_error (with --json), when the text is out. */
void		 ctl_error_json(struct ctl_inv *, const char *code,
		    const char *);
/* Make text safe for a terminal, in place: control characters become '?'. */
void		 ctl_printable(char *);
/* A proto_dump callback writing to a FILE. */
int		 ctl_write_cb(const char *, size_t, void *);
/* Print a reply to a request from inv; returns the exit code. */
int		 ctl_reply(struct ctl_inv *, const struct proto_reply *);
/*
 * Print an event tied to the request from inv, flushing inv->out; 0, or
 * -1 with errno set when the output failed.
 */
int		 ctl_event(struct ctl_inv *, const struct proto_reply *);

/* output.c: aligned tables and colours. */
enum output_colour {
	OUTPUT_PLAIN,
	OUTPUT_BOLD,
	OUTPUT_GREEN,
	OUTPUT_YELLOW,
	OUTPUT_RED,
	OUTPUT_DIM,
};

#define OUTPUT_RIGHT	0x1	/* right-align the column */
#define OUTPUT_OPTIONAL	0x2	/* omit the column when all cells are empty */

struct output_table;

struct output_table *output_table_new(void);
void		 output_table_free(struct output_table *);	/* NULL ok */
/* Columns first, then rows; a row is filled cell by cell, left to right. */
void		 output_table_column(struct output_table *, const char *,
		    int);
void		 output_table_row(struct output_table *);
void		 output_table_cell(struct output_table *, enum output_colour,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
/* A cell of text in colour, then tail plain: "running (adopted)". */
void		 output_table_cell_tail(struct output_table *,
		    enum output_colour, const char *, const char *);
/* With style, a bold header and coloured cells; else plain text. */
void		 output_table_print(const struct output_table *, FILE *,
		    bool style);
/* Write text, wrapped in the colour's escapes when style is set. */
void		 output_colour(FILE *, bool style, enum output_colour,
		    const char *);

/* cmds.c: the colour of a state name. */
enum output_colour ctl_state_colour(const char *);

/* events.c: the events command's row. */
int		 ctl_events_build(struct ctl_inv *, char *, size_t);
int		 ctl_events_print(struct ctl_inv *, const json_t *);
int		 ctl_events_event(struct ctl_inv *, const json_t *);
extern const char ctl_events_details[];

#endif
