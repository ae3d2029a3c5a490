/* cmds.c: tendctl's command table, request builders and reply printers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ctl.h"
#include "util.h"
#include "wire.h"

static int	cmds_build_patterns(struct ctl_inv *, char *, size_t);
static int	cmds_build_status(struct ctl_inv *, char *, size_t);
static int	cmds_build_ps(struct ctl_inv *, char *, size_t);
static int	cmds_build_start(struct ctl_inv *, char *, size_t);
static int	cmds_build_signal(struct ctl_inv *, char *, size_t);
static int	cmds_build_targets(struct ctl_inv *, char *, size_t);
static int	cmds_build_wait(struct ctl_inv *, char *, size_t);
static int	cmds_build_logs(struct ctl_inv *, char *, size_t);
static int	cmds_build_reload(struct ctl_inv *, char *, size_t);
static int	cmds_build_help(struct ctl_inv *, char *, size_t);
static int	cmds_print_status(struct ctl_inv *, const json_t *);
static int	cmds_print_ps(struct ctl_inv *, const json_t *);
static int	cmds_print_results(struct ctl_inv *, const json_t *);
static int	cmds_print_wait(struct ctl_inv *, const json_t *);
static int	cmds_print_logs(struct ctl_inv *, const json_t *);
static int	cmds_print_logrotate(struct ctl_inv *, const json_t *);
static int	cmds_print_reload(struct ctl_inv *, const json_t *);
static int	cmds_print_shutdown(struct ctl_inv *, const json_t *);
static int	cmds_print_version(struct ctl_inv *, const json_t *);
static int	cmds_print_help(struct ctl_inv *, const json_t *);
static void	cmds_line_result(struct ctl_inv *, const json_t *);
static void	cmds_line_waited(struct ctl_inv *, const json_t *);
static int	cmds_event_logs(struct ctl_inv *, const json_t *);
static int	cmds_event_wait(struct ctl_inv *, const json_t *);
static int	cmds_event_status(struct ctl_inv *, const json_t *);
static int	cmds_event_ps(struct ctl_inv *, const json_t *);

#define CMDS_WAIT_OPTS	(CTL_OPT_NO_WAIT|CTL_OPT_TIMEOUT)

static const struct ctl_cmd cmds_table[] = {
	{ "status", "[PATTERN...]",
	  "show instances and their state (exit 3 unless all are running)",
	  0, -1, 0, WIRE_CMD_STATUS,
	  cmds_build_status, cmds_print_status, NULL, cmds_event_status },
	{ "ps", "[PATTERN...]",
	  "show every process of programs as a tree, with adopted orphans",
	  0, -1, 0, WIRE_CMD_PS,
	  cmds_build_ps, cmds_print_ps, NULL, cmds_event_ps },
	{ "start", "NAME...|all",
	  "start programs and wait until they run (or end)",
	  1, -1, CMDS_WAIT_OPTS, WIRE_CMD_START,
	  cmds_build_start, cmds_print_results, cmds_line_result, NULL },
	{ "stop", "NAME...|all",
	  "stop programs and wait until no process is left",
	  1, -1, CMDS_WAIT_OPTS, WIRE_CMD_STOP,
	  cmds_build_start, cmds_print_results, cmds_line_result, NULL },
	{ "restart", "NAME...|all",
	  "restart programs and wait until they run again (or end)",
	  1, -1, CMDS_WAIT_OPTS, WIRE_CMD_RESTART,
	  cmds_build_start, cmds_print_results, cmds_line_result, NULL },
	{ "signal", "SIG NAME...|all",
	  "send the signal SIG (HUP, SIGHUP or 1) to programs",
	  2, -1, 0, WIRE_CMD_SIGNAL,
	  cmds_build_signal, cmds_print_results, cmds_line_result, NULL },
	{ "reset", "NAME...|all",
	  "forget failures and backoff; start failed programs wanted up",
	  1, -1, 0, WIRE_CMD_RESET,
	  cmds_build_targets, cmds_print_results, cmds_line_result, NULL },
	{ "wait", "NAME...|all",
	  "wait until programs have ended for good, with a line as each ends; "
	  "exit 1 if one ended badly",
	  1, -1, CTL_OPT_TIMEOUT, WIRE_CMD_WAIT,
	  cmds_build_wait, cmds_print_wait, cmds_line_waited, cmds_event_wait },
	{ "logs", "NAME...|all",
	  "show the last lines programs wrote (default 50); -f follows, with "
	  "their starts and exits; -t shows when each was read",
	  1, -1, CTL_OPT_LINES|CTL_OPT_FOLLOW|CTL_OPT_STREAM|
	  CTL_OPT_TIMESTAMPS|CTL_OPT_NO_EVENTS, WIRE_CMD_LOGS,
	  cmds_build_logs, cmds_print_logs, NULL, cmds_event_logs },
	{ "events", "[PATTERN...]",
	  "show the change stream: exits, restarts, commands, reloads",
	  0, -1, CTL_OPT_FOLLOW|CTL_OPT_EVENTS, WIRE_CMD_EVENTS,
	  ctl_events_build, ctl_events_print, NULL, ctl_events_event,
	  ctl_events_details },
	{ "logrotate", "",
	  "close and reopen every log file (after they were renamed)",
	  0, 0, 0, WIRE_CMD_LOGROTATE,
	  NULL, cmds_print_logrotate, NULL, NULL },
	{ "reload", "",
	  "re-read the configuration and apply what changed",
	  0, 0, CTL_OPT_ALLOW_EMPTY, WIRE_CMD_RELOAD,
	  cmds_build_reload, cmds_print_reload, NULL, NULL },
	{ "shutdown", "",
	  "stop every program, then tendd",
	  0, 0, 0, WIRE_CMD_SHUTDOWN,
	  NULL, cmds_print_shutdown, NULL, NULL },
	{ "version", "",
	  "show the versions of tendctl and tendd",
	  0, 0, 0, WIRE_CMD_VERSION,
	  NULL, cmds_print_version, NULL, NULL },
	{ "help", "[COMMAND]",
	  "show help for every command, or for one",
	  0, 1, 0, NULL,
	  cmds_build_help, cmds_print_help, NULL, NULL },
};
#define CMDS_N	(sizeof cmds_table / sizeof cmds_table[0])

/* Error codes with their own exit code; every other one is FAILED. */
static const struct {
	const char	*code;
	int		 exit;
} cmds_exits[] = {
	{ PROTO_E_BAD_ARGS, CTL_EXIT_USAGE },
	{ PROTO_E_PERMISSION, CTL_EXIT_CONNECT },
	{ PROTO_E_BUSY, CTL_EXIT_CONNECT },
	{ PROTO_E_NO_SUCH_PROGRAM, CTL_EXIT_NO_PROGRAM },
};

/* Colours of the state names; the others are plain. */
static const enum output_colour cmds_colours[WIRE_S_N] = {
	[WIRE_S_RUNNING] = OUTPUT_GREEN,
	[WIRE_S_STARTING] = OUTPUT_YELLOW,
	[WIRE_S_BACKOFF] = OUTPUT_YELLOW,
	[WIRE_S_STOPPING] = OUTPUT_YELLOW,
	[WIRE_S_FAILED] = OUTPUT_RED,
};

/*
 * The instance keys the status table shows, asked for as "fields": the
 * reply then has a row (an array, in this order) per instance, much
 * cheaper to build, send and parse than objects with every key.
 */
enum status_field {
	SF_NAME,
	SF_STATE,
	SF_PID,
	SF_PPID,
	SF_DESCENDANTS,
	SF_UPTIME,
	SF_RESTARTS,
	SF_LAST_EXIT,
	SF_ERROR,
	SF_LOG_ERROR,
	SF_LOG_DROPPED,
	SF_ADOPTED,		/* the markers, after the state */
	SF_OPERATOR,
	SF_UNSAVED,
	SF_N
};
static const enum wire_field cmds_status_fields[SF_N] = {
	[SF_NAME] = WIRE_F_NAME,
	[SF_STATE] = WIRE_F_STATE,
	[SF_PID] = WIRE_F_PID,
	[SF_PPID] = WIRE_F_PPID,
	[SF_DESCENDANTS] = WIRE_F_DESCENDANTS,
	[SF_UPTIME] = WIRE_F_UPTIME,
	[SF_RESTARTS] = WIRE_F_RESTARTS,
	[SF_LAST_EXIT] = WIRE_F_LAST_EXIT,
	[SF_ERROR] = WIRE_F_ERROR,
	[SF_LOG_ERROR] = WIRE_F_LOG_ERROR,
	[SF_LOG_DROPPED] = WIRE_F_LOG_DROPPED,
	[SF_ADOPTED] = WIRE_F_ADOPTED,	/* taken over from a crashed tendd */
	[SF_OPERATOR] = WIRE_F_OPERATOR, /* started or stopped against
					    autostart */
	[SF_UNSAVED] = WIRE_F_UNSAVED,	/* that decision is not on disk */
};

/* ps: deeper processes are indented no further, to bound the cell. */
#define CMDS_PS_MAX_DEPTH	32

const struct ctl_cmd *
ctl_cmd_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < CMDS_N; i++) {
		if (strcmp(cmds_table[i].name, name) == 0)
			return &cmds_table[i];
	}
	return NULL;
}

const struct ctl_cmd *
ctl_cmd_at(size_t i)
{
	return i < CMDS_N ? &cmds_table[i] : NULL;
}

const char *
ctl_cmd_suggest(const char *name)
{
	const char	*best = NULL;
	unsigned	 d, bestd = 3;	/* at most two edits */
	size_t		 i;

	if (strlen(name) > 64)
		return NULL;
	for (i = 0; i < CMDS_N; i++) {
		d = util_edit_distance(name, cmds_table[i].name);
		if (d < bestd && d < strlen(name)) {
			best = cmds_table[i].name;
			bestd = d;
		}
	}
	return best;
}

int
ctl_exit_code(const char *code)
{
	size_t	 i;

	for (i = 0; code != NULL && i < sizeof cmds_exits /
	    sizeof cmds_exits[0]; i++) {
		if (strcmp(cmds_exits[i].code, code) == 0)
			return cmds_exits[i].exit;
	}
	return CTL_EXIT_FAILED;
}

/* An array of the arguments from first on, as JSON strings. */
static json_t *
cmds_strings(struct ctl_inv *inv, int first, char *err, size_t errlen)
{
	json_t	*a = json_array(), *s;
	int	 i;

	for (i = first; i < inv->argc; i++) {
		if ((s = json_string(inv->argv[i])) == NULL) {
			snprintf(err, errlen, "'%s' is not valid UTF-8",
			    inv->argv[i]);
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, s);
	}
	return a;
}

static int
cmds_build_targets(struct ctl_inv *inv, char *err, size_t errlen)
{
	json_t	*targets;

	if ((targets = cmds_strings(inv, 0, err, errlen)) == NULL)
		return -1;
	inv->args = json_pack("{s:o}", WIRE_K_TARGETS, targets);
	return 0;
}

/* status: patterns; for the table only the keys it shows, as rows. */
static int
cmds_build_status(struct ctl_inv *inv, char *err, size_t errlen)
{
	json_t	*fields;
	size_t	 i;

	if (cmds_build_patterns(inv, err, errlen) != 0)
		return -1;
	/* In parts: laid out here while tendd makes the next. */
	json_object_set_new(inv->args, WIRE_K_STREAM, json_true());
	if (inv->json)
		return 0;
	fields = json_array();
	for (i = 0; i < SF_N; i++)
		json_array_append_new(fields,
		    json_string(wire_field_key(cmds_status_fields[i])));
	json_object_set_new(inv->args, WIRE_K_FIELDS, fields);
	return 0;
}

/* ps: patterns; in parts, so that no process count is too many. */
static int
cmds_build_ps(struct ctl_inv *inv, char *err, size_t errlen)
{
	if (cmds_build_patterns(inv, err, errlen) != 0)
		return -1;
	json_object_set_new(inv->args, WIRE_K_STREAM, json_true());
	return 0;
}

/* status, ps: optional patterns. */
static int
cmds_build_patterns(struct ctl_inv *inv, char *err, size_t errlen)
{
	json_t	*patterns;

	/* No patterns means all: send no key rather than an empty list. */
	inv->args = json_object();
	if (inv->argc == 0)
		return 0;
	if ((patterns = cmds_strings(inv, 0, err, errlen)) == NULL)
		return -1;
	json_object_set_new(inv->args, WIRE_K_PATTERNS, patterns);
	return 0;
}

static int
cmds_build_start(struct ctl_inv *inv, char *err, size_t errlen)
{
	if (inv->has_timeout && inv->timeout == 0) {
		snprintf(err, errlen, "%s: --timeout must be more than 0",
		    inv->cmd->name);
		return -1;
	}
	if (cmds_build_targets(inv, err, errlen) != 0)
		return -1;
	json_object_set_new(inv->args, WIRE_K_WAIT, json_boolean(inv->wait));
	return 0;
}

static int
cmds_build_signal(struct ctl_inv *inv, char *err, size_t errlen)
{
	json_t	*targets;

	if (util_parse_signal(inv->argv[0]) == -1) {
		snprintf(err, errlen, "signal: unknown signal '%s'",
		    inv->argv[0]);
		return -1;
	}
	if ((targets = cmds_strings(inv, 1, err, errlen)) == NULL)
		return -1;
	/* As typed: tendd parses names and numbers the same way. */
	inv->args = json_pack("{s:s,s:o}", WIRE_K_SIGNAL, inv->argv[0],
	    WIRE_K_TARGETS, targets);
	return 0;
}

static int
cmds_build_wait(struct ctl_inv *inv, char *err, size_t errlen)
{
	json_t	*t;

	if (cmds_build_targets(inv, err, errlen) != 0)
		return -1;
	/* Each instance's line as it ends; --json prints the whole at the
	   end, so needs none. */
	if (!inv->json)
		json_object_set_new(inv->args, WIRE_K_STREAM, json_true());
	if (!inv->has_timeout)
		return 0;
	if (inv->timeout % USEC_PER_SEC == 0)
		t = json_integer((json_int_t)(inv->timeout / USEC_PER_SEC));
	else
		t = json_real((double)inv->timeout / (double)USEC_PER_SEC);
	json_object_set_new(inv->args, WIRE_K_TIMEOUT, t);
	/* tendd answers at the timeout; give it time to say so. */
	inv->deadline = inv->timeout + CTL_WAIT_SLACK;
	return 0;
}

static int
cmds_build_logs(struct ctl_inv *inv, char *err, size_t errlen)
{
	if (cmds_build_targets(inv, err, errlen) != 0)
		return -1;
	json_object_set_new(inv->args, WIRE_K_LINES, json_integer(inv->lines));
	json_object_set_new(inv->args, WIRE_K_FOLLOW,
	    json_boolean(inv->follow));
	if (inv->log_stream != NULL)
		json_object_set_new(inv->args, WIRE_K_STREAM,
		    json_string(inv->log_stream));
	/* Life-cycle lines come only with -f; ask only for their absence. */
	if (inv->follow && !inv->log_events)
		json_object_set_new(inv->args, WIRE_K_EVENTS, json_false());
	/* Following never ends by itself: no deadline, events until ^C. */
	inv->streaming = inv->follow;
	return 0;
}

static int
cmds_build_reload(struct ctl_inv *inv, char *err, size_t errlen)
{
	inv->args = json_object();
	if (inv->allow_empty)
		json_object_set_new(inv->args, WIRE_K_ALLOW_EMPTY, json_true());
	return 0;
}

static int
cmds_build_help(struct ctl_inv *inv, char *err, size_t errlen)
{
	if (inv->argc == 1 && ctl_cmd_find(inv->argv[0]) == NULL) {
		snprintf(err, errlen, "help: unknown command '%s'",
		    inv->argv[0]);
		return -1;
	}
	return 0;
}

/*
 * json_dumpf hands stdio every token on its own, a key, a colon, a run of
 * spaces: fwrite was over 40 % of tendctl's CPU in a --json status of
 * 1000. The tokens are gathered here and written a buffer at a time.
 */
struct cmds_dumpbuf {
	FILE	*f;
	size_t	 len;
	char	 buf[16384];
};

static int
cmds_dump_cb(const char *s, size_t n, void *arg)
{
	struct cmds_dumpbuf	*b = arg;

	if (b->len + n > sizeof b->buf) {
		if (fwrite(b->buf, 1, b->len, b->f) != b->len)
			return -1;
		b->len = 0;
		if (n > sizeof b->buf)
			return fwrite(s, 1, n, b->f) == n ? 0 : -1;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	return 0;
}

static void
cmds_dump(struct ctl_inv *inv, const json_t *j)
{
	struct cmds_dumpbuf	*b;

	if (j == NULL) {
		fputs("null\n", inv->out);
		return;
	}
	b = xmalloc(sizeof *b);
	b->f = inv->out;
	b->len = 0;
	/* Reals as tendd sent them, to the microsecond. */
	if (proto_dump(j, JSON_INDENT(2)|JSON_ENCODE_ANY, cmds_dump_cb, b) ==
	    0)
		fwrite(b->buf, 1, b->len, b->f);
	fputc('\n', inv->out);
	free(b);
}

int
ctl_write_cb(const char *s, size_t n, void *arg)
{
	return fwrite(s, 1, n, arg) == n ? 0 : -1;
}

/*
 * {"error": error} on inv->out: indented as other --json output, or on
 * one line for logs and events, whose --json output is a line a JSON
 * object.
 */
static void
cmds_json_error(struct ctl_inv *inv, const json_t *error)
{
	json_t	*o = json_pack("{s:O}", "error", error);

	if (inv->cmd != NULL && (inv->cmd->print == cmds_print_logs ||
	    inv->cmd->print == ctl_events_print)) {
		(void)proto_dump(o, JSON_COMPACT, ctl_write_cb, inv->out);
		fputc('\n', inv->out);
	} else
		cmds_dump(inv, o);
	json_decref(o);
}

void
ctl_error_json(struct ctl_inv *inv, const char *code, const char *msg)
{
	json_t	*e;
	char	*copy, *p;

	if (!inv->json)
		return;
	/* A path or an argument in the message need not be UTF-8. */
	if ((e = json_pack("{s:s,s:s}", "code", code, "message", msg)) ==
	    NULL) {
		copy = xstrdup(msg);
		for (p = copy; *p != '\0'; p++) {
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		}
		e = json_pack("{s:s,s:s}", "code", code, "message", copy);
		free(copy);
	}
	cmds_json_error(inv, e);
	json_decref(e);
}

int
ctl_error(struct ctl_inv *inv, int exit, const char *code, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	/* After what is already out, in order with it on a terminal. */
	fflush(inv->out);
	fprintf(inv->err, "tendctl: %s\n", msg);
	ctl_error_json(inv, code, msg);
	free(msg);
	return exit;
}

static int
cmds_malformed(struct ctl_inv *inv, const char *what)
{
	return ctl_error(inv, CTL_EXIT_FAILED, CTL_E_BAD_REPLY,
	    "malformed reply from tendd: %s", what);
}

/* A string member, or def when missing or not a string. */
static const char *
cmds_str(const json_t *o, const char *key, const char *def)
{
	const json_t	*v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : def;
}

enum output_colour
ctl_state_colour(const char *state)
{
	int	 s = wire_state_find(state);

	return s != -1 ? cmds_colours[s] : OUTPUT_PLAIN;
}

/* The signal of a last_exit object: "TERM". */
static const char *
cmds_signal(const json_t *last_exit)
{
	const json_t	*sig = json_object_get(last_exit, WIRE_K_SIGNAL);
	const char	*name = cmds_str(last_exit, WIRE_K_SIGNAL_NAME, NULL);

	if (name != NULL)
		return name;
	if (json_is_integer(sig))
		return util_signal_name((int)json_integer_value(sig));
	return "?";
}

/*
 * ERROR column: why the instance failed, else why its output is being
 * dropped: "log: /var/log/web.log: No space left on device (512 bytes
 * dropped)". Empty when all is well.
 */
static void
cmds_error_cell(struct output_table *t, const json_t *row)
{
	const json_t	*dropped = json_array_get(row, SF_LOG_DROPPED);
	const json_t	*error = json_array_get(row, SF_ERROR);
	const json_t	*log_error = json_array_get(row, SF_LOG_ERROR);

	if (json_is_string(error))
		output_table_cell(t, OUTPUT_RED, "%s",
		    json_string_value(error));
	else if (json_is_string(log_error))
		output_table_cell(t, OUTPUT_YELLOW, "log: %s (%lld bytes "
		    "dropped)", json_string_value(log_error),
		    json_is_integer(dropped) ?
		    (long long)json_integer_value(dropped) : 0);
	else
		output_table_cell(t, OUTPUT_PLAIN, "%s", "");
}

/*
 * LAST EXIT column: "-", "0", "SIGKILL", or "unknown" when an adopted
 * process ended: not tendd's child, so its status never reached tendd.
 */
static void
cmds_last_exit(const json_t *last_exit, char *buf, size_t len)
{
	const json_t	*code = json_object_get(last_exit, WIRE_K_CODE);

	if (json_is_integer(code))
		snprintf(buf, len, "%lld",
		    (long long)json_integer_value(code));
	else if (json_object_get(last_exit, WIRE_K_SIGNAL) != NULL)
		snprintf(buf, len, "SIG%s", cmds_signal(last_exit));
	else if (json_is_true(json_object_get(last_exit, WIRE_K_UNKNOWN)))
		snprintf(buf, len, "unknown");
	else
		snprintf(buf, len, "-");
}

/* An integer cell, "-" for null or missing. */
static void
cmds_int_cell(struct output_table *t, const json_t *v)
{
	if (json_is_integer(v))
		output_table_cell(t, OUTPUT_PLAIN, "%lld",
		    (long long)json_integer_value(v));
	else
		output_table_cell(t, OUTPUT_PLAIN, "-");
}

/* STATE column: the state in its colour, then " (adopted, operator)". */
static void
cmds_state_cell(struct output_table *t, const json_t *row)
{
	const json_t	*v = json_array_get(row, SF_STATE);
	const char	*state = json_is_string(v) ? json_string_value(v) : "?";
	char		 tail[64];	/* room for every marker */
	size_t		 i, len = 0;

	tail[0] = '\0';
	for (i = SF_ADOPTED; i <= SF_UNSAVED; i++) {
		if (!json_is_true(json_array_get(row, i)))
			continue;
		len += (size_t)snprintf(tail + len, sizeof tail - len, "%s%s",
		    len == 0 ? " (" : ", ",
		    wire_field_key(cmds_status_fields[i]));
	}
	if (len != 0)
		snprintf(tail + len, sizeof tail - len, ")");
	output_table_cell_tail(t, ctl_state_colour(state), state, tail);
}

/* Is every instance (objects or rows) running? */
static bool
cmds_all_running(const json_t *instances, bool rows)
{
	const json_t	*inst, *state;
	size_t		 i;

	json_array_foreach(instances, i, inst) {
		state = rows ? json_array_get(inst, SF_STATE) :
		    json_object_get(inst, WIRE_K_STATE);
		if (!json_is_string(state) ||
		    wire_state_find(json_string_value(state)) !=
		    WIRE_S_RUNNING)
			return false;
	}
	return true;
}

/* Lay out status rows, in the table made at the first; NULL, or what is
   wrong with them. */
static const char *
cmds_status_rows(struct ctl_inv *inv, const json_t *rows)
{
	struct output_table	*t;
	const json_t		*row, *pid, *v;
	char			 up[32], last[64];
	uint64_t		 usec;
	size_t			 i;

	if (!json_is_array(rows))
		return "no \"rows\" array";
	json_array_foreach(rows, i, row) {
		if (json_array_size(row) != SF_N)
			return "a row without every field";
	}
	if ((t = inv->table) == NULL) {
		t = inv->table = output_table_new();
		output_table_column(t, "NAME", 0);
		output_table_column(t, "STATE", 0);
		output_table_column(t, "PID", OUTPUT_RIGHT);
		output_table_column(t, "PPID", OUTPUT_RIGHT);
		output_table_column(t, "DESC", OUTPUT_RIGHT);
		output_table_column(t, "UPTIME", OUTPUT_RIGHT);
		output_table_column(t, "RESTARTS", OUTPUT_RIGHT);
		output_table_column(t, "LAST EXIT", 0);
		output_table_column(t, "ERROR", OUTPUT_OPTIONAL);
	}
	if (!cmds_all_running(rows, true))
		inv->not_running = true;
	json_array_foreach(rows, i, row) {
		output_table_row(t);
		v = json_array_get(row, SF_NAME);
		output_table_cell(t, OUTPUT_PLAIN, "%s", json_is_string(v) ?
		    json_string_value(v) : "?");
		cmds_state_cell(t, row);

		pid = json_array_get(row, SF_PID);
		cmds_int_cell(t, pid);
		cmds_int_cell(t, json_array_get(row, SF_PPID));
		cmds_int_cell(t, json_array_get(row, SF_DESCENDANTS));
		v = json_array_get(row, SF_UPTIME);
		if (json_is_integer(pid)) {
			if (!json_is_number(v) || util_seconds_to_usec(
			    json_number_value(v), &usec) != 0)
				usec = 0;
			util_format_duration(usec, up, sizeof up);
			output_table_cell(t, OUTPUT_PLAIN, "%s", up);
		} else
			output_table_cell(t, OUTPUT_PLAIN, "-");

		cmds_int_cell(t, json_array_get(row, SF_RESTARTS));
		cmds_last_exit(json_array_get(row, SF_LAST_EXIT), last,
		    sizeof last);
		output_table_cell(t, OUTPUT_PLAIN, "%s", last);
		cmds_error_cell(t, row);
	}
	return NULL;
}

/*
 * A part of the status before the reply ("stream"): rows laid out at
 * once, objects kept for the one array --json prints. Nothing is printed
 * until the reply, as the table's widths need every row.
 */
static int
cmds_event_status(struct ctl_inv *inv, const json_t *ev)
{
	const char	*type = cmds_str(ev, WIRE_K_TYPE, "");
	const json_t	*a;

	if (inv->malformed != NULL)
		return 0;
	if (inv->json && strcmp(type, WIRE_K_INSTANCES) == 0) {
		a = json_object_get(ev, WIRE_K_INSTANCES);
		if (!json_is_array(a)) {
			inv->malformed = "no \"instances\" array in a part";
			return 0;
		}
		if (inv->items == NULL)
			inv->items = json_array();
		json_array_extend(inv->items, (json_t *)a);
	} else if (!inv->json && strcmp(type, WIRE_K_ROWS) == 0)
		inv->malformed = cmds_status_rows(inv,
		    json_object_get(ev, WIRE_K_ROWS));
	return 0;
}

static int
cmds_print_status(struct ctl_inv *inv, const json_t *result)
{
	const json_t	*items;
	const char	*bad;

	if (inv->malformed != NULL)
		return cmds_malformed(inv, inv->malformed);
	if (inv->json) {
		items = json_object_get(result, WIRE_K_INSTANCES);
		if (!json_is_array(items))
			return cmds_malformed(inv, "no \"instances\" array");
		if (inv->items != NULL) {
			json_array_extend(inv->items, (json_t *)items);
			items = inv->items;
		}
		cmds_dump(inv, items);
		return cmds_all_running(items, false) ? CTL_EXIT_OK :
		    CTL_EXIT_NOT_RUNNING;
	}
	if ((bad = cmds_status_rows(inv, json_object_get(result,
	    WIRE_K_ROWS))) != NULL)
		return cmds_malformed(inv, bad);
	output_table_print(inv->table, inv->out, inv->style);
	return inv->not_running ? CTL_EXIT_NOT_RUNNING : CTL_EXIT_OK;
}

/*
 * Make s safe for a terminal, in place, as ps does: control characters
 * (C0, DEL, and C1 in UTF-8) become '?'. Any process picks its own argv,
 * so a command line could otherwise carry escape sequences.
 */
void
ctl_printable(char *s)
{
	unsigned char	*p = (unsigned char *)s, *q = p;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f) {
			*q++ = '?';
			p++;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			*q++ = '?';
			p += 2;
		} else
			*q++ = *p++;
	}
	*q = '\0';
}

/*
 * COMMAND column of ps: indented by depth in the tree, like ps f.
 *   sh -c ./serve
 *   \_ ./serve
 *     \_ worker
 */
static void
cmds_tree_cell(struct output_table *t, const json_t *proc)
{
	const json_t	*v = json_object_get(proc, WIRE_K_DEPTH);
	char		*command;
	json_int_t	 depth;

	command = xstrdup(cmds_str(proc, WIRE_K_COMMAND, ""));
	ctl_printable(command);
	depth = json_is_integer(v) ? json_integer_value(v) : 0;
	if (depth > CMDS_PS_MAX_DEPTH)
		depth = CMDS_PS_MAX_DEPTH;
	if (depth <= 0)
		output_table_cell(t, OUTPUT_PLAIN, "%s", command);
	else
		output_table_cell(t, OUTPUT_PLAIN, "%*s\\_ %s",
		    (int)(2 * (depth - 1)), "", command);
	free(command);
}

/* Lay out ps rows, in the table made at the first. */
static void
cmds_ps_rows(struct ctl_inv *inv, const json_t *processes)
{
	struct output_table	*t;
	const json_t		*proc;
	size_t			 i;

	if ((t = inv->table) == NULL) {
		t = inv->table = output_table_new();
		output_table_column(t, "PID", OUTPUT_RIGHT);
		output_table_column(t, "PPID", OUTPUT_RIGHT);
		output_table_column(t, "NAME", 0);
		output_table_column(t, "STATE", 0);
		output_table_column(t, "ADOPTED", 0);
		output_table_column(t, "COMMAND", 0);
	}
	json_array_foreach(processes, i, proc) {
		output_table_row(t);
		cmds_int_cell(t, json_object_get(proc, WIRE_K_PID));
		cmds_int_cell(t, json_object_get(proc, WIRE_K_PPID));
		/* null: an adopted orphan no program claims. */
		output_table_cell(t, OUTPUT_PLAIN, "%s",
		    cmds_str(proc, WIRE_K_NAME, "-"));
		output_table_cell(t, OUTPUT_PLAIN, "%s",
		    cmds_str(proc, WIRE_K_STATE, "?"));
		output_table_cell(t, OUTPUT_PLAIN, "%s",
		    json_is_true(json_object_get(proc, WIRE_K_ADOPTED)) ?
		    "yes" : "no");
		cmds_tree_cell(t, proc);
	}
}

/* A part of ps before the reply ("stream"), kept as status's are. */
static int
cmds_event_ps(struct ctl_inv *inv, const json_t *ev)
{
	const json_t	*a;

	if (inv->malformed != NULL ||
	    strcmp(cmds_str(ev, WIRE_K_TYPE, ""), WIRE_K_PROCESSES) != 0)
		return 0;
	a = json_object_get(ev, WIRE_K_PROCESSES);
	if (!json_is_array(a)) {
		inv->malformed = "no \"processes\" array in a part";
		return 0;
	}
	if (!inv->json)
		cmds_ps_rows(inv, a);
	else {
		if (inv->items == NULL)
			inv->items = json_array();
		json_array_extend(inv->items, (json_t *)a);
	}
	return 0;
}

static int
cmds_print_ps(struct ctl_inv *inv, const json_t *result)
{
	const json_t	*processes;

	if (inv->malformed != NULL)
		return cmds_malformed(inv, inv->malformed);
	processes = json_object_get(result, WIRE_K_PROCESSES);
	if (!json_is_array(processes))
		return cmds_malformed(inv, "no \"processes\" array");
	if (inv->json) {
		if (inv->items != NULL) {
			json_array_extend(inv->items, (json_t *)processes);
			processes = inv->items;
		}
		cmds_dump(inv, processes);
		return CTL_EXIT_OK;
	}
	cmds_ps_rows(inv, processes);
	output_table_print(inv->table, inv->out, inv->style);
	return CTL_EXIT_OK;
}

/* "web:0: running", "web:0: failed: exec /x: No such file or directory". */
static void
cmds_line_result(struct ctl_inv *inv, const json_t *r)
{
	const char	*state = cmds_str(r, WIRE_K_STATE, "?");
	const char	*error = cmds_str(r, WIRE_K_ERROR, NULL);

	fprintf(inv->out, "%s: ", cmds_str(r, WIRE_K_NAME, "?"));
	output_colour(inv->out, inv->style, ctl_state_colour(state), state);
	if (error != NULL)
		fprintf(inv->out, ": %s", error);
	else if (!json_is_true(json_object_get(r, WIRE_K_OK)) &&
	    wire_state_find(state) != WIRE_S_FAILED)
		fputs(" (not ok)", inv->out);
	fputc('\n', inv->out);
}

/* "web: exited (code 0)", "web: stopped (signal TERM)", "web: running". */
static void
cmds_line_wait(struct ctl_inv *inv, const json_t *r)
{
	const char	*state = cmds_str(r, WIRE_K_STATE, "?");
	const json_t	*last_exit = json_object_get(r, WIRE_K_LAST_EXIT);
	const json_t	*code = json_object_get(last_exit, WIRE_K_CODE);
	int		 st;

	fprintf(inv->out, "%s: ", cmds_str(r, WIRE_K_NAME, "?"));
	output_colour(inv->out, inv->style, ctl_state_colour(state), state);
	/* An exit only says something once no process is left. */
	st = wire_state_find(state);
	if (st == WIRE_S_STOPPED || st == WIRE_S_EXITED ||
	    st == WIRE_S_FAILED) {
		if (json_is_integer(code))
			fprintf(inv->out, " (code %lld)",
			    (long long)json_integer_value(code));
		else if (json_object_get(last_exit, WIRE_K_SIGNAL) != NULL)
			fprintf(inv->out, " (signal %s)",
			    cmds_signal(last_exit));
		else if (json_is_true(json_object_get(last_exit,
		    WIRE_K_UNKNOWN)))
			fputs(" (exit unknown)", inv->out);
	}
	fputc('\n', inv->out);
}

/* wait: a line as each instance ends ("ended" events, without --json). */
static int
cmds_event_wait(struct ctl_inv *inv, const json_t *event)
{
	const char	*name = cmds_str(event, WIRE_K_NAME, NULL);

	if (inv->json || name == NULL ||
	    strcmp(cmds_str(event, WIRE_K_TYPE, ""), WIRE_EV_ENDED) != 0)
		return 0;
	if (inv->shown == NULL)
		inv->shown = json_object();
	json_object_set_new(inv->shown, name, json_true());
	cmds_line_wait(inv, event);
	if (fflush(inv->out) == EOF || ferror(inv->out))
		return -1;
	return 0;
}

/* wait's results at the end: those not shown as they ended. */
static void
cmds_line_waited(struct ctl_inv *inv, const json_t *r)
{
	const char	*name = cmds_str(r, WIRE_K_NAME, NULL);

	if (name != NULL && json_object_get(inv->shown, name) != NULL)
		return;
	cmds_line_wait(inv, r);
}

static int
cmds_print_results(struct ctl_inv *inv, const json_t *result)
{
	const json_t	*results, *r;
	size_t		 i;
	int		 rc = CTL_EXIT_OK;

	results = json_object_get(result, WIRE_K_RESULTS);
	if (!json_is_array(results))
		return cmds_malformed(inv, "no \"results\" array");
	json_array_foreach(results, i, r) {
		if (!json_is_true(json_object_get(r, WIRE_K_OK)))
			rc = CTL_EXIT_FAILED;
	}
	if (inv->json) {
		cmds_dump(inv, result);
		return rc;
	}
	json_array_foreach(results, i, r)
		inv->cmd->line(inv, r);
	return rc;
}

/* How a last_exit object says it ended: "exited with code 3". */
static void
cmds_exit_text(const json_t *last_exit, char *buf, size_t len)
{
	const json_t	*code = json_object_get(last_exit, WIRE_K_CODE);

	if (json_is_integer(code))
		snprintf(buf, len, "exited with code %lld",
		    (long long)json_integer_value(code));
	else if (json_object_get(last_exit, WIRE_K_SIGNAL) != NULL)
		snprintf(buf, len, "killed by signal %s",
		    cmds_signal(last_exit));
	else if (json_is_true(json_object_get(last_exit, WIRE_K_UNKNOWN)))
		snprintf(buf, len, "exited, exit status unknown");
	else
		buf[0] = '\0';
}

/*
 * wait: the results as for start, then, on stderr, a line for each that
 * ended badly, and exit 1: "tendctl: worker: exited with code 3",
 * "tendctl: db: failed: exec /x: No such file or directory".
 */
static int
cmds_print_wait(struct ctl_inv *inv, const json_t *result)
{
	const json_t	*r;
	const char	*state, *error;
	char		 how[128];
	size_t		 i;
	int		 rc;

	if ((rc = cmds_print_results(inv, result)) != CTL_EXIT_FAILED)
		return rc;
	/* After the results, in order with them on a terminal. */
	fflush(inv->out);
	json_array_foreach(json_object_get(result, WIRE_K_RESULTS), i, r) {
		if (json_is_true(json_object_get(r, WIRE_K_OK)))
			continue;
		state = cmds_str(r, WIRE_K_STATE, "?");
		error = cmds_str(r, WIRE_K_ERROR, NULL);
		cmds_exit_text(json_object_get(r, WIRE_K_LAST_EXIT), how,
		    sizeof how);
		fprintf(inv->err, "tendctl: %s: ",
		    cmds_str(r, WIRE_K_NAME, "?"));
		if (wire_state_find(state) == WIRE_S_EXITED && how[0] != '\0')
			fprintf(inv->err, "%s\n", how);
		else if (error != NULL)
			fprintf(inv->err, "%s: %s\n", state, error);
		else if (how[0] != '\0')
			fprintf(inv->err, "%s (%s)\n", state, how);
		else
			fprintf(inv->err, "%s\n", state);
	}
	return rc;
}

/*
 * With -t, the local time of a line or event: "2026-12-08T01:02:03.456 "
 * (milliseconds, cut, not rounded: a line never shows a later second).
 */
static void
cmds_log_time(struct ctl_inv *inv, const json_t *line)
{
	const json_t	*t = json_object_get(line, WIRE_K_TIME);
	char		 buf[64];
	struct tm	 tm;
	time_t		 sec;
	double		 v;
	size_t		 n;
	long long	 usec;

	if (!inv->log_times || !json_is_number(t))
		return;
	v = json_number_value(t);
	if (v < 0 || v > 253402300799.0)	/* 9999-12-31 */
		return;
	/* To the nearest microsecond first: tendd sends six decimals. */
	usec = (long long)(v * 1e6 + 0.5);
	sec = (time_t)(usec / 1000000);
	if (localtime_r(&sec, &tm) == NULL)
		return;
	n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof buf - n, ".%03lld ", usec % 1000000 / 1000);
	output_colour(inv->out, inv->style, OUTPUT_DIM, buf);
}

/*
 * One log line: its text as sent, after "web:0 | " when the selection has
 * several instances (and its time with -t); with --json, the line object
 * on one line (an event minus its "type"). Lines without text are
 * skipped.
 */
static void
cmds_log_line(struct ctl_inv *inv, const json_t *line)
{
	const json_t	*text = json_object_get(line, WIRE_K_TEXT);
	json_t		*copy;
	char		*prefix;

	if (!json_is_string(text))
		return;
	if (inv->json) {
		copy = json_copy((json_t *)line);
		json_object_del(copy, WIRE_K_TYPE);
		(void)proto_dump(copy, JSON_COMPACT, ctl_write_cb, inv->out);
		fputc('\n', inv->out);
		json_decref(copy);
		return;
	}
	cmds_log_time(inv, line);
	if (inv->log_prefix) {
		xasprintf(&prefix, "%s | ",
		    cmds_str(line, WIRE_K_INSTANCE, "?"));
		output_colour(inv->out, inv->style, OUTPUT_DIM, prefix);
		free(prefix);
	}
	/* Bytes as they are; tendd already escaped what is not UTF-8. */
	fwrite(json_string_value(text), 1, json_string_length(text),
	    inv->out);
	fputc('\n', inv->out);
}

static int
cmds_print_logs(struct ctl_inv *inv, const json_t *result)
{
	const json_t	*instances, *lines, *line;
	size_t		 i;

	instances = json_object_get(result, WIRE_K_INSTANCES);
	lines = json_object_get(result, WIRE_K_LINES);
	if (!json_is_array(instances) || !json_is_array(lines))
		return cmds_malformed(inv, "no \"instances\" or \"lines\" "
		    "array");
	inv->log_prefix = json_array_size(instances) > 1;
	json_array_foreach(lines, i, line)
		cmds_log_line(inv, line);
	return CTL_EXIT_OK;
}

/*
 * A life-cycle line of logs -f: "-- web exited with code 3; restarting in
 * 0.4s (attempt 3) --", in bold on a terminal; with --json, the event
 * object on one line, "type":"event" and all, so that it cannot be taken
 * for a line of output.
 */
static void
cmds_log_event(struct ctl_inv *inv, const json_t *event)
{
	const json_t	*text = json_object_get(event, WIRE_K_TEXT);
	char		*line;

	if (!json_is_string(text))
		return;
	if (inv->json) {
		(void)proto_dump(event, JSON_COMPACT, ctl_write_cb, inv->out);
		fputc('\n', inv->out);
		return;
	}
	cmds_log_time(inv, event);
	xasprintf(&line, "-- %s --", json_string_value(text));
	output_colour(inv->out, inv->style, OUTPUT_BOLD, line);
	fputc('\n', inv->out);
	free(line);
}

/*
 * logs -f: "start" says how many instances, "line" is a line, "event" a
 * life-cycle line, "missed" counts lines tendd dropped because we read
 * too slowly. Each is flushed at once, so "logs -f | grep" shows lines as
 * they come.
 */
static int
cmds_event_logs(struct ctl_inv *inv, const json_t *event)
{
	const char	*type = cmds_str(event, WIRE_K_TYPE, "");
	const json_t	*count;

	if (strcmp(type, WIRE_EV_START) == 0)
		inv->log_prefix = json_array_size(json_object_get(event,
		    WIRE_K_INSTANCES)) > 1;
	else if (strcmp(type, WIRE_EV_LINE) == 0)
		cmds_log_line(inv, event);
	else if (strcmp(type, WIRE_EV_EVENT) == 0)
		cmds_log_event(inv, event);
	else if (strcmp(type, WIRE_EV_MISSED) == 0) {
		count = json_object_get(event, WIRE_K_COUNT);
		if (!json_is_integer(count))
			return 0;
		if (inv->json)
			fprintf(inv->out, "{\"missed\":%lld}\n",
			    (long long)json_integer_value(count));
		/* In order with the lines around it on a terminal. */
		if (fflush(inv->out) == EOF)
			return -1;
		fprintf(inv->err, "tendctl: %lld lines missed (not reading "
		    "fast enough)\n", (long long)json_integer_value(count));
	}
	if (fflush(inv->out) == EOF || ferror(inv->out))
		return -1;
	return 0;
}

static int
cmds_print_logrotate(struct ctl_inv *inv, const json_t *result)
{
	const json_t	*n = json_object_get(result, WIRE_K_REOPENED);

	if (!json_is_integer(n))
		return cmds_malformed(inv, "no \"reopened\" count");
	if (inv->json)
		cmds_dump(inv, result);
	else
		fprintf(inv->out, "reopened %lld log files\n",
		    (long long)json_integer_value(n));
	return CTL_EXIT_OK;
}

/* "web: restarted (command, environment)", "db: added", "no changes". */
static int
cmds_print_reload(struct ctl_inv *inv, const json_t *result)
{
	const json_t	*changes, *notes, *c, *keys, *k;
	size_t		 i, j;

	changes = json_object_get(result, WIRE_K_CHANGES);
	notes = json_object_get(result, WIRE_K_NOTES);
	if (!json_is_array(changes))
		return cmds_malformed(inv, "no \"changes\" array");
	if (inv->json) {
		cmds_dump(inv, result);
		return CTL_EXIT_OK;
	}
	if (json_array_size(changes) == 0)
		fprintf(inv->out, "no changes\n");
	json_array_foreach(changes, i, c) {
		fprintf(inv->out, "%s: %s", cmds_str(c, WIRE_K_PROGRAM, "?"),
		    cmds_str(c, WIRE_K_ACTION, "?"));
		keys = json_object_get(c, WIRE_K_KEYS);
		if (json_array_size(keys) != 0) {
			json_array_foreach(keys, j, k) {
				fprintf(inv->out, "%s%s", j == 0 ? " (" : ", ",
				    json_is_string(k) ?
				    json_string_value(k) : "?");
			}
			fputc(')', inv->out);
		}
		fputc('\n', inv->out);
	}
	json_array_foreach(notes, i, c) {
		if (json_is_string(c))
			fprintf(inv->out, "note: %s\n", json_string_value(c));
	}
	return CTL_EXIT_OK;
}

static int
cmds_print_shutdown(struct ctl_inv *inv, const json_t *result)
{
	if (inv->json)
		cmds_dump(inv, result);
	else
		fprintf(inv->out, "tendd is shutting down\n");
	return CTL_EXIT_OK;
}

/* "tendctl 0.1.0" and "tendd 0.1.0 (protocol 1, pid 1234)". */
static int
cmds_print_version(struct ctl_inv *inv, const json_t *result)
{
	const json_t	*proto = json_object_get(result, WIRE_K_PROTOCOL);
	const json_t	*pid = json_object_get(result, WIRE_K_PID);

	if (inv->json) {
		cmds_dump(inv, result);
		return CTL_EXIT_OK;
	}
	fprintf(inv->out, "tendctl %s\n", TEND_VERSION);
	fprintf(inv->out, "tendd %s (protocol %lld, pid %lld)\n",
	    cmds_str(result, WIRE_K_VERSION, "?"),
	    json_is_integer(proto) ? (long long)json_integer_value(proto) : 0,
	    json_is_integer(pid) ? (long long)json_integer_value(pid) : 0);
	return CTL_EXIT_OK;
}

static int
cmds_print_help(struct ctl_inv *inv, const json_t *result)
{
	if (inv->argc == 0) {
		ctl_usage(inv->out);
		return CTL_EXIT_OK;
	}
	ctl_cmd_help(inv->out, ctl_cmd_find(inv->argv[0]));
	return CTL_EXIT_OK;
}

/*
 * An error reply: its message (and config errors) on stderr, any
 * per-instance results it carries on stdout; with --json, instead of the
 * results, {"error": the whole error object}, as for tendctl's own.
 */
static int
cmds_error(struct ctl_inv *inv, const struct proto_reply *rep)
{
	const json_t	*results, *errors, *e;
	size_t		 i;

	results = json_object_get(rep->error, WIRE_K_RESULTS);
	if (inv->json)
		cmds_json_error(inv, rep->error);
	else if (json_is_array(results) && inv->cmd->line != NULL) {
		json_array_foreach(results, i, e)
			inv->cmd->line(inv, e);
	}
	fflush(inv->out);
	fprintf(inv->err, "tendctl: %s\n", rep->message);
	/* The status table asks for keys by name: a tendd from before one
	   was added refuses it. Say what to do. */
	if (inv->cmd->print == cmds_print_status && rep->code != NULL &&
	    strcmp(rep->code, PROTO_E_BAD_ARGS) == 0 &&
	    strstr(rep->message, "no instance key") != NULL)
		fprintf(inv->err, "tendctl: tendd is older than this tendctl: "
		    "restart tendd, or use the tendctl it came with (or "
		    "--json)\n");
	errors = json_object_get(rep->error, WIRE_K_ERRORS);
	json_array_foreach(errors, i, e) {
		if (json_is_string(e))
			fprintf(inv->err, "%s\n", json_string_value(e));
	}
	return ctl_exit_code(rep->code);
}

int
ctl_reply(struct ctl_inv *inv, const struct proto_reply *rep)
{
	if (!rep->ok)
		return cmds_error(inv, rep);
	return inv->cmd->print(inv, rep->result);
}

int
ctl_event(struct ctl_inv *inv, const struct proto_reply *rep)
{
	if (inv->cmd->event == NULL)
		return 0;
	return inv->cmd->event(inv, rep->result);
}
