/* events.c: tendctl events: its request, and the change stream printed. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "util.h"
#include "wire.h"

/* Keys every event line shows in its own way, not as KEY=VALUE. */
static const char *const events_shown[] = {
	"seq", "time", "type", "program", "instance", "name", "pid", "from",
	"state", "code", "signal", "signal_name", "core", "unknown", "ran",
	"next", "delay", "attempt", "error", "launcher", "previous_pid",
};
/* Those of the types shown in their own way. */
static const char *const events_shown_command[] = {
	"command", "args", "uid", "client_pid",
};
static const char *const events_shown_reload[] = {
	"changes", "notes", "errors",
};

/*
 * --since: "now", a sequence number (digits only), or a duration with a
 * unit ("30s", "5m", "1h30m": events from that long ago).
 */
static int
events_since(struct ctl_inv *inv, char *err, size_t errlen)
{
	const char	*s = inv->since;
	unsigned long long n;
	uint64_t	 usec, now;
	char		*end;

	if (strcmp(s, "now") == 0) {
		json_object_set_new(inv->args, WIRE_K_SINCE_NOW,
		    json_true());
		return 0;
	}
	if (*s >= '0' && *s <= '9' && s[strspn(s, "0123456789")] == '\0') {
		errno = 0;
		n = strtoull(s, &end, 10);
		if (errno != 0 || n > INT64_MAX)
			goto bad;
		json_object_set_new(inv->args, WIRE_K_SINCE,
		    json_integer((json_int_t)n));
		return 0;
	}
	/* A plain "1.5" is no sequence number: a duration needs a unit. */
	if (strpbrk(s, "abcdefghijklmnopqrstuvwxyz") == NULL ||
	    util_parse_duration(s, &usec) != 0)
		goto bad;
	now = util_now_wall();
	usec = usec < now ? now - usec : 0;
	json_object_set_new(inv->args, WIRE_K_SINCE_TIME,
	    json_real((double)usec / USEC_PER_SEC));
	return 0;
bad:
	snprintf(err, errlen, "events: bad --since '%s' (use a sequence "
	    "number, a duration like 5m or 1h30m, or now)", s);
	return -1;
}

int
ctl_events_build(struct ctl_inv *inv, char *err, size_t errlen)
{
	json_t	*patterns, *types, *t;
	size_t	 i;

	inv->args = json_object();
	if (inv->argc > 0) {
		patterns = json_array();
		for (i = 0; i < (size_t)inv->argc; i++) {
			if ((t = json_string(inv->argv[i])) == NULL) {
				snprintf(err, errlen, "'%s' is not valid UTF-8",
				    inv->argv[i]);
				json_decref(patterns);
				return -1;
			}
			json_array_append_new(patterns, t);
		}
		json_object_set_new(inv->args, WIRE_K_PATTERNS, patterns);
	}
	if (inv->ntypes > 0) {
		types = json_array();
		for (i = 0; i < inv->ntypes; i++) {
			if ((t = json_string(inv->types[i])) == NULL ||
			    *inv->types[i] == '\0') {
				snprintf(err, errlen, "events: bad --type '%s'",
				    inv->types[i]);
				json_decref(t);
				json_decref(types);
				return -1;
			}
			json_array_append_new(types, t);
		}
		json_object_set_new(inv->args, WIRE_K_TYPES, types);
	}
	if (inv->since != NULL && inv->snapshot) {
		snprintf(err, errlen, "events: --since and --snapshot cannot be "
		    "used together (a snapshot is the state now)");
		return -1;
	}
	if (inv->since != NULL && events_since(inv, err, errlen) != 0)
		return -1;
	if (inv->snapshot)
		json_object_set_new(inv->args, WIRE_K_SNAPSHOT,
		    json_true());
	if (inv->follow)
		json_object_set_new(inv->args, WIRE_K_FOLLOW,
		    json_true());
	/* Following never ends by itself: no deadline, events until ^C. */
	inv->streaming = inv->follow;
	return 0;
}

/* A string member, or def when missing or not a string. */
static const char *
events_str(const json_t *o, const char *key, const char *def)
{
	const json_t	*v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : def;
}

/* Seconds as "400ms", "2.5s", "1m30s". */
static void
events_secs(const json_t *v, char *buf, size_t len)
{
	uint64_t	 usec;

	if (!json_is_number(v) ||
	    util_seconds_to_usec(json_number_value(v), &usec) != 0)
		usec = 0;
	if (usec >= USEC_PER_SEC && usec < 10 * USEC_PER_SEC &&
	    usec % USEC_PER_SEC != 0)
		snprintf(buf, len, "%.1fs", (double)usec / USEC_PER_SEC);
	else
		util_format_duration(usec / USEC_PER_MSEC * USEC_PER_MSEC,
		    buf, len);
}

/* "2026-12-08 01:02:03.456", local time. */
static void
events_time(const json_t *v, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t;
	double		 d = json_is_number(v) ? json_number_value(v) : 0;
	long		 ms;

	if (d < 0 || d > 1e12)
		d = 0;
	t = (time_t)d;
	ms = (long)((d - (double)t) * 1000);
	if (ms > 999)
		ms = 999;
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03ld", ms);
}

/* Write text made safe for a terminal. */
static void
events_puts(struct ctl_inv *inv, const char *s)
{
	char	*copy = xstrdup(s);

	ctl_printable(copy);
	fputs(copy, inv->out);
	free(copy);
}

/* " code 3", " signal KILL (core dumped)", " exit unknown". */
static void
events_exit(struct ctl_inv *inv, const json_t *ev)
{
	const json_t	*code = json_object_get(ev, "code");
	const json_t	*sig = json_object_get(ev, "signal");

	if (json_is_integer(code))
		fprintf(inv->out, " code %lld",
		    (long long)json_integer_value(code));
	else if (json_is_integer(sig)) {
		fputs(" signal ", inv->out);
		events_puts(inv, events_str(ev, "signal_name", util_signal_name(
		    (int)json_integer_value(sig))));
		if (json_is_true(json_object_get(ev, "core")))
			fputs(" (core dumped)", inv->out);
	} else if (json_is_true(json_object_get(ev, "unknown")))
		fputs(" exit unknown", inv->out);
}

/* ", restarting in 0.4s (attempt 3)": what an exit leads to. */
static void
events_next(struct ctl_inv *inv, const json_t *ev)
{
	const char	*next = events_str(ev, "next", NULL);
	const json_t	*attempt = json_object_get(ev, "attempt");
	char		 d[32];

	if (next == NULL)
		return;
	if (strcmp(next, "restart") == 0)
		fputs(", restarting", inv->out);
	else if (strcmp(next, "backoff") == 0) {
		events_secs(json_object_get(ev, "delay"), d, sizeof d);
		fprintf(inv->out, ", restarting in %s", d);
	} else if (strcmp(next, "give_up") == 0)
		fputs(", giving up", inv->out);
	else if (strcmp(next, "exited") == 0)
		fputs(", done", inv->out);
	else if (strcmp(next, "stopped") == 0)
		fputs(", stopped", inv->out);
	else if (strcmp(next, "wait_main") == 0)
		fputs(", waiting for its main process", inv->out);
	else {
		fputs(", ", inv->out);
		events_puts(inv, next);
	}
	if (json_is_integer(attempt))
		fprintf(inv->out, " (attempt %lld)",
		    (long long)json_integer_value(attempt));
}

/* A value as KEY=VALUE shows it: strings as they are, the rest JSON. */
static void
events_value(struct ctl_inv *inv, const json_t *v)
{
	const json_t	*e;
	char		*s;
	size_t		 i;

	if (json_is_string(v)) {
		events_puts(inv, json_string_value(v));
		return;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (i > 0)
				fputc(',', inv->out);
			events_value(inv, e);
		}
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	events_puts(inv, s != NULL ? s : "?");
	free(s);
}

static bool
events_in(const char *key, const char *const *v, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], key) == 0)
			return true;
	}
	return false;
}

/* The keys of an event not shown otherwise, as " key=value". */
static void
events_rest(struct ctl_inv *inv, const json_t *ev, const char *type)
{
	const char	*key;
	json_t		*v;

	json_object_foreach((json_t *)ev, key, v) {
		if (events_in(key, events_shown, sizeof events_shown /
		    sizeof events_shown[0]))
			continue;
		if (strcmp(type, "operator.command") == 0 && events_in(key,
		    events_shown_command, sizeof events_shown_command /
		    sizeof events_shown_command[0]))
			continue;
		if (strncmp(type, "config.", 7) == 0 && events_in(key,
		    events_shown_reload, sizeof events_shown_reload /
		    sizeof events_shown_reload[0]))
			continue;
		fputc(' ', inv->out);
		events_puts(inv, key);
		fputc('=', inv->out);
		events_value(inv, v);
	}
}

/*
 * operator.command: "stop web db:1 (uid 1000, pid 4242)", other
 * arguments as " key=value".
 */
static void
events_command(struct ctl_inv *inv, const json_t *ev)
{
	const json_t	*args = json_object_get(ev, "args");
	const json_t	*uid = json_object_get(ev, "uid");
	const json_t	*pid = json_object_get(ev, "client_pid");
	const json_t	*v, *e;
	const char	*key;
	size_t		 i;

	fputc(' ', inv->out);
	events_puts(inv, events_str(ev, "command", "?"));
	if ((v = json_object_get(args, "signal")) != NULL) {
		fputc(' ', inv->out);
		events_value(inv, v);
	}
	json_array_foreach(json_object_get(args, "targets"), i, e) {
		fputc(' ', inv->out);
		events_value(inv, e);
	}
	json_object_foreach((json_t *)args, key, v) {
		if (strcmp(key, "targets") == 0 || strcmp(key, "signal") == 0)
			continue;
		fputc(' ', inv->out);
		events_puts(inv, key);
		fputc('=', inv->out);
		events_value(inv, v);
	}
	if (json_is_integer(uid) && json_is_integer(pid))
		fprintf(inv->out, " (uid %lld, pid %lld)",
		    (long long)json_integer_value(uid),
		    (long long)json_integer_value(pid));
}

/*
 * config.reloaded: "web restarted (command), db added" or "no changes";
 * config.refused: its first error, and how many there are.
 */
static void
events_reload(struct ctl_inv *inv, const json_t *ev)
{
	const json_t	*changes = json_object_get(ev, "changes");
	const json_t	*errors = json_object_get(ev, "errors");
	const json_t	*c, *k;
	size_t		 i, j;

	if (json_is_array(errors) && json_array_size(errors) > 0) {
		fputs(": ", inv->out);
		events_value(inv, json_array_get(errors, 0));
		if (json_array_size(errors) > 1)
			fprintf(inv->out, " (and %zu more)",
			    json_array_size(errors) - 1);
		return;
	}
	if (!json_is_array(changes))
		return;
	if (json_array_size(changes) == 0)
		fputs(" no changes", inv->out);
	json_array_foreach(changes, i, c) {
		fputs(i == 0 ? " " : ", ", inv->out);
		events_puts(inv, events_str(c, "program", "?"));
		fputc(' ', inv->out);
		events_puts(inv, events_str(c, "action", "?"));
		json_array_foreach(json_object_get(c, "keys"), j, k) {
			fputs(j == 0 ? " (" : ", ", inv->out);
			events_value(inv, k);
		}
		if (json_array_size(json_object_get(c, "keys")) > 0)
			fputc(')', inv->out);
	}
}

/*
 * One event: "2026-12-08 01:02:03.456 #123 instance.exited flaky pid 42
 * code 3, restarting in 0.4s (attempt 3)".
 */
static void
events_line(struct ctl_inv *inv, const json_t *ev, const char *type)
{
	const json_t	*seq = json_object_get(ev, WIRE_K_SEQ);
	const json_t	*pid = json_object_get(ev, "pid");
	const char	*who, *from, *state, *error;
	char		 t[64], d[32];

	events_time(json_object_get(ev, "time"), t, sizeof t);
	output_colour(inv->out, inv->style, OUTPUT_DIM, t);
	fprintf(inv->out, " #%lld ", json_is_integer(seq) ?
	    (long long)json_integer_value(seq) : 0);
	output_colour(inv->out, inv->style, OUTPUT_BOLD, type);
	if ((who = events_str(ev, "name", events_str(ev, "program", NULL))) !=
	    NULL) {
		fputc(' ', inv->out);
		events_puts(inv, who);
	}
	if (json_is_integer(pid))
		fprintf(inv->out, " pid %lld",
		    (long long)json_integer_value(pid));
	if (json_is_true(json_object_get(ev, "launcher")))
		fputs(" (launcher)", inv->out);
	if (json_is_integer(json_object_get(ev, "previous_pid")))
		fprintf(inv->out, " (was pid %lld)", (long long)
		    json_integer_value(json_object_get(ev, "previous_pid")));
	if (strcmp(type, "operator.command") == 0)
		events_command(inv, ev);
	else if (strncmp(type, "config.", 7) == 0)
		events_reload(inv, ev);
	else if (strcmp(type, "instance.exited") == 0) {
		events_exit(inv, ev);
		events_next(inv, ev);
	} else if (strcmp(type, "instance.restarting") == 0) {
		events_secs(json_object_get(ev, "delay"), d, sizeof d);
		fprintf(inv->out, " in %s", d);
		if (json_is_integer(json_object_get(ev, "attempt")))
			fprintf(inv->out, " (attempt %lld)", (long long)
			    json_integer_value(json_object_get(ev, "attempt")));
	} else if (strcmp(type, "instance.state") == 0 &&
	    (state = events_str(ev, "state", NULL)) != NULL) {
		from = events_str(ev, "from", "?");
		fputc(' ', inv->out);
		events_puts(inv, from);
		fputs(" -> ", inv->out);
		events_puts(inv, state);
	}
	events_rest(inv, ev, type);
	if ((error = events_str(ev, "error", NULL)) != NULL) {
		fputs(": ", inv->out);
		events_puts(inv, error);
	}
	fputc('\n', inv->out);
}

/* "#5-#100 gap: 96 events missed (not kept, or not read in time)". */
static void
events_gap(struct ctl_inv *inv, const json_t *ev)
{
	const json_t	*from = json_object_get(ev, WIRE_K_FROM);
	const json_t	*to = json_object_get(ev, WIRE_K_TO);
	long long	 a, b;
	char		*s;

	if (!json_is_integer(from) || !json_is_integer(to))
		return;
	a = json_integer_value(from);
	b = json_integer_value(to);
	xasprintf(&s, "#%lld-#%lld gap: %lld event%s missed (not kept, or not "
	    "read in time)", a, b, b - a + 1, b == a ? "" : "s");
	output_colour(inv->out, inv->style, OUTPUT_YELLOW, s);
	fputc('\n', inv->out);
	free(s);
}

/*
 * "#42 snapshot: 2 instances", then one line each: "  web:0 running pid
 * 7 up 1m02s restarts 3 last exit code 1". A large one comes in parts
 * (all but the last with "more"): one heading.
 */
static void
events_snapshot(struct ctl_inv *inv, const json_t *ev)
{
	const json_t	*a = json_object_get(ev, WIRE_K_INSTANCES);
	const json_t	*seq = json_object_get(ev, WIRE_K_SEQ);
	const json_t	*o, *v, *le;
	const char	*state;
	char		 d[32];
	size_t		 i;

	if (!inv->snap_more && json_is_true(json_object_get(ev, WIRE_K_MORE)))
		fprintf(inv->out, "#%lld snapshot\n", json_is_integer(seq) ?
		    (long long)json_integer_value(seq) : 0);
	else if (!inv->snap_more)
		fprintf(inv->out, "#%lld snapshot of %zu instance%s\n",
		    json_is_integer(seq) ? (long long)json_integer_value(seq) :
		    0, json_array_size(a), json_array_size(a) == 1 ? "" : "s");
	inv->snap_more = json_is_true(json_object_get(ev, WIRE_K_MORE));
	json_array_foreach(a, i, o) {
		fputs("  ", inv->out);
		events_puts(inv, events_str(o, "name", "?"));
		fputc(' ', inv->out);
		state = events_str(o, "state", "?");
		output_colour(inv->out, inv->style, ctl_state_colour(state),
		    state);
		if (json_is_integer(v = json_object_get(o, "pid"))) {
			events_secs(json_object_get(o, "uptime"), d, sizeof d);
			fprintf(inv->out, " pid %lld up %s",
			    (long long)json_integer_value(v), d);
		}
		if (json_is_integer(v = json_object_get(o, "restarts")) &&
		    json_integer_value(v) > 0)
			fprintf(inv->out, " restarts %lld",
			    (long long)json_integer_value(v));
		le = json_object_get(o, "last_exit");
		if (json_is_object(le)) {
			fputs(" last exit", inv->out);
			events_exit(inv, le);
		}
		fputc('\n', inv->out);
	}
}

int
ctl_events_event(struct ctl_inv *inv, const json_t *ev)
{
	const char	*type = events_str(ev, WIRE_K_TYPE, NULL);

	if (type == NULL)
		return 0;
	if (inv->json) {
		(void)proto_dump(ev, JSON_COMPACT, ctl_write_cb, inv->out);
		fputc('\n', inv->out);
	} else if (strcmp(type, WIRE_EV_GAP) == 0)
		events_gap(inv, ev);
	else if (strcmp(type, WIRE_EV_SNAPSHOT) == 0)
		events_snapshot(inv, ev);
	else
		events_line(inv, ev, type);
	/* At once, so that "events -f | grep" shows events as they come. */
	if (fflush(inv->out) == EOF || ferror(inv->out))
		return -1;
	return 0;
}

/* A replay ends with {"last": N}: every event up to N was sent. */
int
ctl_events_print(struct ctl_inv *inv, const json_t *result)
{
	if (!json_is_integer(json_object_get(result, WIRE_K_LAST)))
		return ctl_error(inv, CTL_EXIT_FAILED, CTL_E_BAD_REPLY,
		    "malformed reply from tendd: no \"last\"");
	return CTL_EXIT_OK;
}

const char ctl_events_details[] =
"Every change in tendd is an event with a sequence number that only grows\n"
"(across tendd restarts too): instance.spawned, instance.exited (with how\n"
"it ended and what comes next), instance.restarting, operator.command,\n"
"config.reloaded, ... (the list and their keys: docs/protocol.md, Events).\n"
"tendd keeps the last event_buffer of them (default 10000). Without\n"
"--follow, tendctl prints those asked for and ends; with it, it goes on\n"
"with new ones until interrupted.\n"
"\n"
"  -f, --follow       go on with new events as they happen\n"
"  --since SEQ        only the events after number SEQ (SEQ itself not)\n"
"  --since DURATION   the events from that long ago on (30s, 5m, 1h30m)\n"
"  --since now        only events from now on (with --follow)\n"
"  --snapshot         first every instance as it is (as status shows it)\n"
"                     as of the last event S, then the events after S:\n"
"                     none lost, none twice\n"
"  --type TYPE        only events of TYPE (instance.exited), or of a kind\n"
"                     (instance, or instance.*); may be given again\n"
"  PATTERN            only events about the programs or instances matched\n"
"                     (as for status); events about none are then left\n"
"                     out, unless a PATTERN is all\n"
"  --json             each event as one JSON object a line\n"
"\n"
"A line says \"gap\" for numbers not shown because tendd no longer kept\n"
"them: asked for too far back, or not read in time (a stopped tendctl).\n"
"Without --since, every event kept is shown, then new ones.\n";
