/* test_ctl.c: tendctl without a socket: argv to request, replies to text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "proto.h"
#include "util.h"

#include "t.h"

/* A command line split on spaces, parsed, with captured output. */
struct run {
	struct ctl_inv	 inv;
	char		*copy;
	char		*argv[32];
	int		 argc;
	char		 msg[512];
	int		 rc;
	FILE		*out;
	FILE		*err;
	char		*outbuf;
	char		*errbuf;
	size_t		 outlen;
	size_t		 errlen;
};

static void
run_split(struct run *r, const char *line)
{
	char	*p, *tok;

	r->copy = xstrdup(line);
	r->argc = 0;
	for (p = r->copy; (tok = strsep(&p, " ")) != NULL;) {
		if (*tok != '\0' && r->argc < 31)
			r->argv[r->argc++] = tok;
	}
	r->argv[r->argc] = NULL;
}

static void
run_parse(struct run *r, const char *line)
{
	memset(r, 0, sizeof *r);
	run_split(r, line);
	r->out = open_memstream(&r->outbuf, &r->outlen);
	r->err = open_memstream(&r->errbuf, &r->errlen);
	ctl_inv_init(&r->inv, r->out, r->err);
	r->rc = ctl_parse(&r->inv, r->argc, r->argv, r->msg, sizeof r->msg);
}

static void
run_done(struct run *r)
{
	if (r->out != NULL)
		fclose(r->out);
	if (r->err != NULL)
		fclose(r->err);
	free(r->outbuf);
	free(r->errbuf);
	ctl_inv_clear(&r->inv);
	free(r->copy);
	memset(r, 0, sizeof *r);
}

/* Feed a reply frame to the parsed command; output lands in the bufs. */
static int
run_reply(struct run *r, const char *frame)
{
	struct proto_reply	 rep;
	json_t			*m;
	char			 err[256];
	int			 rc;

	if (proto_decode_reply(frame, strlen(frame), &m, &rep, err,
	    sizeof err) != 0) {
		fprintf(stderr, "bad test frame: %s\n", err);
		json_decref(m);
		return -1;
	}
	rc = ctl_reply(&r->inv, &rep);
	json_decref(m);
	fflush(r->out);
	fflush(r->err);
	return rc;
}

/*
 * The instance objects as the request asked for them: as they are without
 * "fields", else a row of those keys each (docs/protocol.md, "fields"),
 * as tendd would send them: a key an object lacks becomes null.
 */
static json_t *
status_as_asked(const json_t *fields, const json_t *insts)
{
	json_t	*rows = json_array(), *row, *o, *f;
	size_t	 i, j;

	json_array_foreach(insts, i, o) {
		if (fields == NULL) {
			json_array_append(rows, o);
			continue;
		}
		row = json_array();
		json_array_foreach(fields, j, f) {
			json_t	*v = json_object_get(o, json_string_value(f));

			json_array_append_new(row, v != NULL ? json_incref(v) :
			    json_null());
		}
		json_array_append_new(rows, row);
	}
	return rows;
}

/* Feed a status reply written with instance objects, turned into what
   the request asked for. */
static int
run_status_reply(struct run *r, const char *frame)
{
	json_t	*m, *fields, *insts, *rows;
	char	*text;
	int	 rc;

	fields = json_object_get(r->inv.args, "fields");
	m = json_loads(frame, 0, NULL);
	insts = json_object_get(json_object_get(m, "result"), "instances");
	if (fields == NULL || insts == NULL) {
		json_decref(m);
		return run_reply(r, frame);
	}
	rows = status_as_asked(fields, insts);
	json_object_set_new(m, "result", json_pack("{s:O,s:o}", "fields",
	    fields, "rows", rows));
	text = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	rc = run_reply(r, text);
	free(text);
	return rc;
}

/*
 * Feed a status reply as run_status_reply does, but in parts as tendd
 * sends it with "stream": events of up to `part` rows (or objects, for
 * --json), then the reply with the rest. Returns the reply's exit code,
 * or -2 when an event's was not 0.
 */
static int run_event(struct run *, const char *);

static int
run_status_parts(struct run *r, const char *frame, size_t part)
{
	json_t		*m, *fields, *insts, *rows, *ev, *chunk;
	const char	*key;
	char		*text;
	size_t		 i, j, n;
	int		 rc;

	fields = json_object_get(r->inv.args, "fields");
	m = json_loads(frame, 0, NULL);
	insts = json_object_get(json_object_get(m, "result"), "instances");
	rows = status_as_asked(fields, insts);
	key = fields == NULL ? "instances" : "rows";
	n = json_array_size(rows);
	for (i = 0; i + part < n; i += part) {
		chunk = json_array();
		for (j = i; j < i + part; j++)
			json_array_append(chunk, json_array_get(rows, j));
		ev = json_pack("{s:i,s:i,s:{s:s,s:o}}", "v", 1, "id", 1,
		    "event", "type", key, key, chunk);
		text = json_dumps(ev, JSON_COMPACT);
		json_decref(ev);
		rc = run_event(r, text);
		free(text);
		if (rc != 0) {
			json_decref(rows);
			json_decref(m);
			return -2;
		}
	}
	chunk = json_array();
	for (j = i; j < n; j++)
		json_array_append(chunk, json_array_get(rows, j));
	json_decref(rows);
	if (fields != NULL)
		json_object_set_new(m, "result", json_pack("{s:O,s:o}",
		    "fields", fields, "rows", chunk));
	else
		json_object_set_new(m, "result", json_pack("{s:o}",
		    "instances", chunk));
	text = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	rc = run_reply(r, text);
	free(text);
	return rc;
}

/*
 * Feed a ps reply frame in parts, as tendd sends it with "stream": events
 * of up to `part` processes, then the reply with the rest. Returns the
 * reply's exit code, or -2 when an event's was not 0.
 */
static int
run_ps_parts(struct run *r, const char *frame, size_t part)
{
	json_t		*m, *procs, *ev, *chunk;
	char		*text;
	size_t		 i, j, n;
	int		 rc;

	m = json_loads(frame, 0, NULL);
	procs = json_incref(json_object_get(json_object_get(m, "result"),
	    "processes"));
	n = json_array_size(procs);
	for (i = 0; i + part < n; i += part) {
		chunk = json_array();
		for (j = i; j < i + part; j++)
			json_array_append(chunk, json_array_get(procs, j));
		ev = json_pack("{s:i,s:i,s:{s:s,s:o}}", "v", 1, "id", 1,
		    "event", "type", "processes", "processes", chunk);
		text = json_dumps(ev, JSON_COMPACT);
		json_decref(ev);
		rc = run_event(r, text);
		free(text);
		if (rc != 0) {
			json_decref(procs);
			json_decref(m);
			return -2;
		}
	}
	chunk = json_array();
	for (j = i; j < n; j++)
		json_array_append(chunk, json_array_get(procs, j));
	json_decref(procs);
	json_object_set_new(m, "result", json_pack("{s:o}", "processes",
	    chunk));
	text = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	rc = run_reply(r, text);
	free(text);
	return rc;
}

/* Feed an event frame to the parsed command; ctl_event's result. */
static int
run_event(struct run *r, const char *frame)
{
	struct proto_reply	 rep;
	json_t			*m;
	char			 err[256];
	int			 rc;

	if (proto_decode_reply(frame, strlen(frame), &m, &rep, err,
	    sizeof err) != 0 || !rep.is_event) {
		fprintf(stderr, "bad test event: %s\n", err);
		json_decref(m);
		return -2;
	}
	rc = ctl_event(&r->inv, &rep);
	json_decref(m);
	fflush(r->err);
	return rc;
}

/* Does line parse into a request equal to the JSON text want? */
static int
request_is(const char *line, const char *want)
{
	struct run	 r;
	json_t		*req, *exp;
	char		*got;
	int		 same;

	run_parse(&r, line);
	if (r.rc != 0) {
		fprintf(stderr, "'%s': %s\n", line, r.msg);
		run_done(&r);
		return 0;
	}
	req = ctl_request(&r.inv);
	exp = json_loads(want, 0, NULL);
	same = exp != NULL && req != NULL && json_equal(req, exp);
	if (!same) {
		got = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
		fprintf(stderr, "'%s': got %s, want %s\n", line,
		    got != NULL ? got : "NULL", want);
		free(got);
	}
	json_decref(req);
	json_decref(exp);
	run_done(&r);
	return same;
}

/* Does line fail to parse, with msg among the words? */
static int
usage_error(const char *line, const char *msg)
{
	struct run	 r;
	int		 ok;

	run_parse(&r, line);
	ok = r.rc == CTL_EXIT_USAGE && r.inv.args == NULL &&
	    strstr(r.msg, msg) != NULL;
	if (!ok)
		fprintf(stderr, "'%s': rc %d, message '%s', want '%s'\n",
		    line, r.rc, r.msg, msg);
	run_done(&r);
	return ok;
}

#define REQ(cmd, args)	"{\"v\":1,\"id\":1,\"cmd\":\"" cmd "\",\"args\":" \
			args "}"

T_CASE(test_table)
{
	const struct ctl_cmd	*c;
	size_t			 i;

	for (i = 0; (c = ctl_cmd_at(i)) != NULL; i++) {
		T_CHECK(ctl_cmd_find(c->name) == c);
		T_CHECK(c->print != NULL);
		T_CHECK(c->help != NULL && c->args != NULL);
		T_CHECK(c->max_args < 0 || c->max_args >= c->min_args);
		/* Details are lines of at most 80 columns. */
		if (c->details != NULL) {
			const char	*p, *nl;

			for (p = c->details; *p != '\0'; p = nl + 1) {
				nl = strchr(p, '\n');
				T_CHECK(nl != NULL && nl - p <= 80);
				if (nl == NULL)
					break;
			}
		}
	}
	T_INTEQ(i, 15);
	T_CHECK(ctl_cmd_find("nope") == NULL);
	T_CHECK(ctl_cmd_find("") == NULL);
	T_STREQ(ctl_cmd_suggest("stats"), "status");
	T_STREQ(ctl_cmd_suggest("strat"), "start");
	T_STREQ(ctl_cmd_suggest("relaod"), "reload");
	T_STREQ(ctl_cmd_suggest("log"), "logs");
	T_STREQ(ctl_cmd_suggest("event"), "events");
	T_STREQ(ctl_cmd_suggest("pss"), "ps");
	T_CHECK(ctl_cmd_suggest("xyzzy") == NULL);
	T_CHECK(ctl_cmd_suggest("x") == NULL);
}

T_CASE(test_requests)
{
	/* The table asks for the keys it shows, as rows; --json for all. */
#define STATUS_FIELDS "\"fields\":[\"name\",\"state\",\"pid\",\"ppid\",\"descendants\",\"uptime\",\"restarts\",\"last_exit\",\"error\",\"log_error\",\"log_dropped\",\"adopted\",\"operator\",\"unsaved\"]"
	T_CHECK(request_is("status", REQ("status", "{\"stream\":true,"
	    STATUS_FIELDS "}")));
	T_CHECK(request_is("status web db*",
	    REQ("status", "{\"patterns\":[\"web\",\"db*\"],"
	    "\"stream\":true," STATUS_FIELDS "}")));
	T_CHECK(request_is("status --json", REQ("status",
	    "{\"stream\":true}")));
	T_CHECK(request_is("status --json web",
	    REQ("status", "{\"patterns\":[\"web\"],\"stream\":true}")));
	/* ps asks for parts, table or --json. */
	T_CHECK(request_is("ps", REQ("ps", "{\"stream\":true}")));
	T_CHECK(request_is("ps web db*",
	    REQ("ps", "{\"patterns\":[\"web\",\"db*\"],\"stream\":true}")));
	T_CHECK(request_is("ps --json web:1",
	    REQ("ps", "{\"patterns\":[\"web:1\"],\"stream\":true}")));
	T_CHECK(request_is("ps -- all",
	    REQ("ps", "{\"patterns\":[\"all\"],\"stream\":true}")));
	T_CHECK(request_is("start web",
	    REQ("start", "{\"targets\":[\"web\"],\"wait\":true}")));
	T_CHECK(request_is("start --no-wait web db",
	    REQ("start", "{\"targets\":[\"web\",\"db\"],\"wait\":false}")));
	T_CHECK(request_is("start web --no-wait",
	    REQ("start", "{\"targets\":[\"web\"],\"wait\":false}")));
	T_CHECK(request_is("stop all",
	    REQ("stop", "{\"targets\":[\"all\"],\"wait\":true}")));
	T_CHECK(request_is("restart --timeout 5 web:1",
	    REQ("restart", "{\"targets\":[\"web:1\"],\"wait\":true}")));
	T_CHECK(request_is("signal HUP web",
	    REQ("signal", "{\"signal\":\"HUP\",\"targets\":[\"web\"]}")));
	T_CHECK(request_is("signal SIGUSR1 a b",
	    REQ("signal", "{\"signal\":\"SIGUSR1\",\"targets\":[\"a\","
	    "\"b\"]}")));
	T_CHECK(request_is("signal 9 all",
	    REQ("signal", "{\"signal\":\"9\",\"targets\":[\"all\"]}")));
	T_CHECK(request_is("reset web",
	    REQ("reset", "{\"targets\":[\"web\"]}")));
	T_CHECK(request_is("wait web",
	    REQ("wait", "{\"targets\":[\"web\"],\"stream\":true}")));
	T_CHECK(request_is("wait --timeout 5 web db",
	    REQ("wait", "{\"targets\":[\"web\",\"db\"],\"timeout\":5,"
	    "\"stream\":true}")));
	T_CHECK(request_is("wait --timeout 1.5 web",
	    REQ("wait", "{\"targets\":[\"web\"],\"timeout\":1.5,"
	    "\"stream\":true}")));
	T_CHECK(request_is("wait --timeout=1m web",
	    REQ("wait", "{\"targets\":[\"web\"],\"timeout\":60,"
	    "\"stream\":true}")));
	T_CHECK(request_is("wait --timeout 0 web",
	    REQ("wait", "{\"targets\":[\"web\"],\"timeout\":0,"
	    "\"stream\":true}")));
	T_CHECK(request_is("reload", REQ("reload", "{}")));
	T_CHECK(request_is("reload --allow-empty",
	    REQ("reload", "{\"allow_empty\":true}")));
	T_CHECK(request_is("shutdown", REQ("shutdown", "{}")));
	T_CHECK(request_is("version", REQ("version", "{}")));
	T_CHECK(request_is("version --json", REQ("version", "{}")));
	T_CHECK(request_is("logrotate", REQ("logrotate", "{}")));
}

T_CASE(test_logs_requests)
{
	struct run	 r;

	T_CHECK(request_is("logs web",
	    REQ("logs", "{\"targets\":[\"web\"],\"lines\":50,"
	    "\"follow\":false}")));
	T_CHECK(request_is("logs -n 5 web db*",
	    REQ("logs", "{\"targets\":[\"web\",\"db*\"],\"lines\":5,"
	    "\"follow\":false}")));
	T_CHECK(request_is("logs -n0 all",
	    REQ("logs", "{\"targets\":[\"all\"],\"lines\":0,"
	    "\"follow\":false}")));
	T_CHECK(request_is("logs --lines=100000 web",
	    REQ("logs", "{\"targets\":[\"web\"],\"lines\":100000,"
	    "\"follow\":false}")));
	T_CHECK(request_is("logs -f web",
	    REQ("logs", "{\"targets\":[\"web\"],\"lines\":50,"
	    "\"follow\":true}")));
	T_CHECK(request_is("logs web --follow --stderr",
	    REQ("logs", "{\"targets\":[\"web\"],\"lines\":50,"
	    "\"follow\":true,\"stream\":\"stderr\"}")));
	T_CHECK(request_is("logs --stdout -fn 3 web:1",
	    REQ("logs", "{\"targets\":[\"web:1\"],\"lines\":3,"
	    "\"follow\":true,\"stream\":\"stdout\"}")));
	T_CHECK(request_is("logs --stdout --stdout web",
	    REQ("logs", "{\"targets\":[\"web\"],\"lines\":50,"
	    "\"follow\":false,\"stream\":\"stdout\"}")));
	T_CHECK(request_is("logs --json -n 1 web",
	    REQ("logs", "{\"targets\":[\"web\"],\"lines\":1,"
	    "\"follow\":false}")));
	/* Life-cycle lines: only a follow has them, so only it says no. */
	T_CHECK(request_is("logs -f --no-events web",
	    REQ("logs", "{\"targets\":[\"web\"],\"lines\":50,"
	    "\"follow\":true,\"events\":false}")));
	T_CHECK(request_is("logs --no-events web",
	    REQ("logs", "{\"targets\":[\"web\"],\"lines\":50,"
	    "\"follow\":false}")));
	/* Times are tendctl's to print: the request is the same. */
	T_CHECK(request_is("logs -tf web",
	    REQ("logs", "{\"targets\":[\"web\"],\"lines\":50,"
	    "\"follow\":true}")));
	T_CHECK(request_is("logs --timestamps web",
	    REQ("logs", "{\"targets\":[\"web\"],\"lines\":50,"
	    "\"follow\":false}")));
	/* wait asks for each end as it comes, except for --json. */
	T_CHECK(request_is("wait --json web",
	    REQ("wait", "{\"targets\":[\"web\"]}")));

	/* Only a follow streams, and nothing has a client-side deadline. */
	run_parse(&r, "logs -f web");
	T_INTEQ(r.rc, 0);
	T_CHECK(r.inv.streaming && r.inv.follow && !r.inv.has_deadline);
	T_CHECK(r.inv.cmd->event != NULL);
	run_done(&r);
	run_parse(&r, "logs web");
	T_INTEQ(r.rc, 0);
	T_CHECK(!r.inv.streaming && !r.inv.has_deadline);
	run_done(&r);
	/* status comes in parts, but ends with its reply. */
	run_parse(&r, "status");
	T_CHECK(!r.inv.streaming && r.inv.cmd->event != NULL);
	run_done(&r);

	T_CHECK(usage_error("logs", "logs: missing NAME...|all"));
	T_CHECK(usage_error("logs -f", "missing"));
	T_CHECK(usage_error("logs -n 100001 web", "bad line count '100001' "
	    "(use 0 to 100000)"));
	T_CHECK(usage_error("logs -n -1 web", "bad line count '-1'"));
	T_CHECK(usage_error("logs -n x web", "bad line count 'x'"));
	T_CHECK(usage_error("logs -n 5x web", "bad line count"));
	T_CHECK(usage_error("logs -n +5 web", "bad line count"));
	T_CHECK(usage_error("logs -n 99999999999999999999 web",
	    "bad line count"));
	T_CHECK(usage_error("logs -n", "option '-n' needs an argument"));
	T_CHECK(usage_error("logs --stdout --stderr web", "logs: --stdout "
	    "and --stderr cannot be used together"));
	T_CHECK(usage_error("logs web --stderr --stdout", "cannot be used "
	    "together"));
	T_CHECK(usage_error("logs --timeout 3 web", "unknown option "
	    "'--timeout'"));
	T_CHECK(usage_error("logs -x web", "unknown option '-x'"));
	T_CHECK(usage_error("status -n 5", "unknown option '-n'"));
	T_CHECK(usage_error("start -f web", "unknown option '-f'"));
	T_CHECK(usage_error("wait --stdout web", "unknown option "
	    "'--stdout'"));
	T_CHECK(usage_error("wait -t web", "unknown option '-t'"));
	T_CHECK(usage_error("status --no-events", "unknown option "
	    "'--no-events'"));
	T_CHECK(usage_error("logrotate now", "too many arguments"));
}

T_CASE(test_options)
{
	struct run	 r;

	run_parse(&r, "status --json");
	T_INTEQ(r.rc, 0);
	T_CHECK(r.inv.json);
	T_CHECK(!r.inv.has_deadline);
	run_done(&r);

	run_parse(&r, "ps --json");
	T_INTEQ(r.rc, 0);
	T_CHECK(r.inv.json && !r.inv.has_deadline && !r.inv.streaming);
	T_INTEQ(r.inv.argc, 0);
	run_done(&r);

	run_parse(&r, "start --timeout 5 web");
	T_INTEQ(r.rc, 0);
	T_CHECK(r.inv.wait && r.inv.has_deadline);
	T_INTEQ(r.inv.deadline, 5 * USEC_PER_SEC);
	T_INTEQ(r.inv.argc, 1);
	T_STREQ(r.inv.argv[0], "web");
	run_done(&r);

	run_parse(&r, "wait web --timeout 2");
	T_INTEQ(r.rc, 0);
	T_CHECK(r.inv.has_deadline);
	T_INTEQ(r.inv.deadline, 2 * USEC_PER_SEC + CTL_WAIT_SLACK);
	run_done(&r);

	run_parse(&r, "wait web");
	T_INTEQ(r.rc, 0);
	T_CHECK(!r.inv.has_deadline);
	run_done(&r);

	/* -- ends the options. */
	run_parse(&r, "stop -- web");
	T_INTEQ(r.rc, 0);
	T_INTEQ(r.inv.argc, 1);
	run_done(&r);

	run_parse(&r, "start --help");
	T_INTEQ(r.rc, 0);
	T_CHECK(r.inv.help && r.inv.args == NULL);
	run_done(&r);

	/* help runs locally: no request. */
	run_parse(&r, "help status");
	T_INTEQ(r.rc, 0);
	T_CHECK(r.inv.cmd->proto_cmd == NULL);
	T_CHECK(ctl_request(&r.inv) == NULL);
	T_INTEQ(r.inv.cmd->print(&r.inv, NULL), 0);
	fflush(r.out);
	T_CHECK(strncmp(r.outbuf, "usage: tendctl status [PATTERN...]\n",
	    35) == 0);
	run_done(&r);

	run_parse(&r, "help");
	T_INTEQ(r.inv.cmd->print(&r.inv, NULL), 0);
	fflush(r.out);
	T_CHECK(strstr(r.outbuf, "  start [--no-wait] [--timeout S] "
	    "NAME...|all\n") != NULL);
	T_CHECK(strstr(r.outbuf, "  wait [--timeout S] NAME...|all\n") !=
	    NULL);
	T_CHECK(strstr(r.outbuf, "  logs [-n N] [-f|--follow] "
	    "[--stdout|--stderr] [-t|--timestamps] [--no-events] "
	    "NAME...|all\n      show the last lines") != NULL);
	T_CHECK(strstr(r.outbuf, "  logrotate\n      close and reopen") !=
	    NULL);
	T_CHECK(strstr(r.outbuf, "  ps [PATTERN...]\n      show every "
	    "process of programs as a tree, with adopted orphans\n") != NULL);
	T_CHECK(strstr(r.outbuf, "  5  cannot connect") != NULL);
	run_done(&r);
}

T_CASE(test_usage_errors)
{
	T_CHECK(usage_error("", "no command"));
	T_CHECK(usage_error("bogus", "unknown command 'bogus'"));
	T_CHECK(usage_error("stauts", "did you mean 'status'?"));
	T_CHECK(usage_error("start", "start: missing NAME...|all"));
	T_CHECK(usage_error("stop --no-wait", "missing"));
	T_CHECK(usage_error("restart", "missing"));
	T_CHECK(usage_error("reset", "missing"));
	T_CHECK(usage_error("wait", "missing"));
	T_CHECK(usage_error("signal", "missing SIG"));
	T_CHECK(usage_error("signal HUP", "missing"));
	T_CHECK(usage_error("signal BOGUS web", "unknown signal 'BOGUS'"));
	T_CHECK(usage_error("signal 0 web", "unknown signal"));
	T_CHECK(usage_error("signal -9 web", "unknown option '-9'"));
	T_CHECK(usage_error("reload now", "too many arguments"));
	T_CHECK(usage_error("start --allow-empty web", "unknown option "
	    "'--allow-empty'"));
	T_CHECK(usage_error("shutdown x", "too many"));
	T_CHECK(usage_error("version x", "too many"));
	T_CHECK(usage_error("help a b", "too many"));
	T_CHECK(usage_error("help bogus", "unknown command 'bogus'"));
	T_CHECK(usage_error("status --no-wait", "unknown option "
	    "'--no-wait'"));
	T_CHECK(usage_error("ps --timeout 1", "unknown option '--timeout'"));
	T_CHECK(usage_error("ps -f", "unknown option '-f'"));
	T_CHECK(usage_error("ps -s /x", "(global options go before "
	    "COMMAND)"));
	T_CHECK(usage_error("ps \xff", "not valid UTF-8"));
	T_CHECK(usage_error("signal --timeout 3 HUP web", "unknown option"));
	T_CHECK(usage_error("start --bogus web", "unknown option '--bogus'"));
	T_CHECK(usage_error("start -x web", "unknown option '-x'"));
	T_CHECK(usage_error("status -s /x", "unknown option '-s' (global "
	    "options go before COMMAND)"));
	T_CHECK(usage_error("status --config=x", "'--config' (global"));
	T_CHECK(usage_error("start --timeout", "'--timeout' needs an "
	    "argument"));
	T_CHECK(usage_error("start --timeout web", "bad timeout 'web'"));
	T_CHECK(usage_error("wait --timeout -1 web", "bad timeout"));
	T_CHECK(usage_error("wait --timeout 5x web", "bad timeout"));
	T_CHECK(usage_error("start --timeout 0 web", "more than 0"));
	T_CHECK(usage_error("status --json=yes", "unknown option '--json'"));
	T_CHECK(usage_error("start \xff", "not valid UTF-8"));
}

T_CASE(test_global)
{
	struct ctl_global	 g;
	struct run		 r;
	char			 err[256];
	int			 ind;

	memset(&r, 0, sizeof r);
	run_split(&r, "tendctl -s /tmp/x.sock --json status -s y");
	T_INTEQ(ctl_parse_global(r.argc, r.argv, &g, &ind, err, sizeof err),
	    0);
	T_STREQ(g.socket, "/tmp/x.sock");
	T_CHECK(g.json && g.config == NULL && !g.help && !g.version);
	T_INTEQ(ind, 4);
	T_STREQ(r.argv[ind], "status");
	free(r.copy);

	run_split(&r, "tendctl --config=/etc/t.conf --socket /s reload");
	T_INTEQ(ctl_parse_global(r.argc, r.argv, &g, &ind, err, sizeof err),
	    0);
	T_STREQ(g.config, "/etc/t.conf");
	T_STREQ(g.socket, "/s");
	T_STREQ(r.argv[ind], "reload");
	free(r.copy);

	run_split(&r, "tendctl --version");
	T_INTEQ(ctl_parse_global(r.argc, r.argv, &g, &ind, err, sizeof err),
	    0);
	T_CHECK(g.version);
	T_INTEQ(ind, 2);
	free(r.copy);

	run_split(&r, "tendctl -h");
	T_INTEQ(ctl_parse_global(r.argc, r.argv, &g, &ind, err, sizeof err),
	    0);
	T_CHECK(g.help);
	free(r.copy);

	run_split(&r, "tendctl -q status");
	T_INTEQ(ctl_parse_global(r.argc, r.argv, &g, &ind, err, sizeof err),
	    CTL_EXIT_USAGE);
	T_STREQ(err, "unknown option '-q'");
	free(r.copy);

	run_split(&r, "tendctl -s");
	T_INTEQ(ctl_parse_global(r.argc, r.argv, &g, &ind, err, sizeof err),
	    CTL_EXIT_USAGE);
	T_STREQ(err, "option '-s' needs an argument");
	free(r.copy);

	run_split(&r, "tendctl --no-wait start web");
	T_INTEQ(ctl_parse_global(r.argc, r.argv, &g, &ind, err, sizeof err),
	    CTL_EXIT_USAGE);
	T_STREQ(err, "unknown option '--no-wait'");
	free(r.copy);
}

T_CASE(test_exit_codes)
{
	T_INTEQ(CTL_EXIT_OK, 0);
	T_INTEQ(CTL_EXIT_FAILED, 1);
	T_INTEQ(CTL_EXIT_USAGE, 2);
	T_INTEQ(CTL_EXIT_NOT_RUNNING, 3);
	T_INTEQ(CTL_EXIT_NO_PROGRAM, 4);
	T_INTEQ(CTL_EXIT_CONNECT, 5);
	T_INTEQ(ctl_exit_code(PROTO_E_BAD_REQUEST), 1);
	T_INTEQ(ctl_exit_code(PROTO_E_TOO_LARGE), 1);
	T_INTEQ(ctl_exit_code(PROTO_E_VERSION), 1);
	T_INTEQ(ctl_exit_code(PROTO_E_UNKNOWN_COMMAND), 1);
	T_INTEQ(ctl_exit_code(PROTO_E_BAD_ARGS), 2);
	T_INTEQ(ctl_exit_code(PROTO_E_PERMISSION), 5);
	T_INTEQ(ctl_exit_code(PROTO_E_NO_SUCH_PROGRAM), 4);
	T_INTEQ(ctl_exit_code(PROTO_E_CONFIG), 1);
	T_INTEQ(ctl_exit_code(PROTO_E_FAILED), 1);
	T_INTEQ(ctl_exit_code(PROTO_E_TIMEOUT), 1);
	T_INTEQ(ctl_exit_code(PROTO_E_SHUTTING_DOWN), 1);
	T_INTEQ(ctl_exit_code("something_new"), 1);
	T_INTEQ(ctl_exit_code(NULL), 1);
}

#define INST_WEB "{\"name\":\"web:0\",\"program\":\"web\",\"instance\":0," \
	"\"state\":\"running\",\"want\":\"up\",\"pid\":1234,\"ppid\":1," \
	"\"descendants\":2,\"adopted\":false,\"operator\":false," \
	"\"tracking\":\"cgroup\",\"cgroup\":\"/tend-1a2b/web@0\"," \
	"\"uptime\":303.2,\"restarts\":0,\"last_exit\":null," \
	"\"daemon\":false,\"error\":null}"
#define INST_WEB1 "{\"name\":\"web:1\",\"program\":\"web\",\"instance\":1," \
	"\"state\":\"backoff\",\"want\":\"up\",\"pid\":null,\"ppid\":null," \
	"\"descendants\":0,\"adopted\":false,\"operator\":false," \
	"\"uptime\":0,\"restarts\":12,\"last_exit\":{\"signal\":9," \
	"\"signal_name\":\"KILL\",\"at\":1700000000}," \
	"\"daemon\":false,\"error\":null}"
#define INST_DB "{\"name\":\"db\",\"program\":\"db\",\"instance\":0," \
	"\"state\":\"failed\",\"want\":\"up\",\"pid\":null,\"ppid\":null," \
	"\"uptime\":0,\"restarts\":5,\"last_exit\":{\"code\":127," \
	"\"at\":1700000000},\"daemon\":false," \
	"\"error\":\"exec /x: No such file or directory\"}"
#define OK(result)	"{\"v\":1,\"id\":1,\"ok\":true,\"result\":" result "}"
#define ERR(e)		"{\"v\":1,\"id\":1,\"ok\":false,\"error\":" e "}"

T_CASE(test_status)
{
	struct run	 r;

	run_parse(&r, "status");
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":[" INST_WEB "," INST_WEB1
	    "," INST_DB "]}")), CTL_EXIT_NOT_RUNNING);
	T_STREQ(r.outbuf,
	    "NAME   STATE     PID  PPID  DESC  UPTIME  RESTARTS  LAST EXIT  "
	    "ERROR\n"
	    "web:0  running  1234     1     2   5m03s         0  -\n"
	    "web:1  backoff     -     -     0       -        12  SIGKILL\n"
	    "db     failed      -     -     -       -         5  127        "
	    "exec /x: No such file or directory\n");
	T_STREQ(r.errbuf, "");
	run_done(&r);

	/* No error anywhere: no ERROR column. */
	run_parse(&r, "status web");
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":[" INST_WEB "]}")),
	    CTL_EXIT_OK);
	T_STREQ(r.outbuf,
	    "NAME   STATE     PID  PPID  DESC  UPTIME  RESTARTS  LAST EXIT\n"
	    "web:0  running  1234     1     2   5m03s         0  -\n");
	run_done(&r);

	/* A terminal: bold header, coloured states, same alignment. */
	run_parse(&r, "status");
	r.inv.style = true;
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":[" INST_WEB "]}")), 0);
	T_CHECK(strstr(r.outbuf, "\033[1mNAME\033[0m") != NULL);
	T_CHECK(strstr(r.outbuf, "\033[32mrunning\033[0m  1234     1") !=
	    NULL);
	run_done(&r);

	run_parse(&r, "status");
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":[]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "NAME  STATE  PID  PPID  DESC  UPTIME  RESTARTS  "
	    "LAST EXIT\n");
	run_done(&r);

	/* --json: the instances array, as received. */
	run_parse(&r, "status --json");
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":[" INST_WEB1 "]}")),
	    CTL_EXIT_NOT_RUNNING);
	{
		json_t	*got = json_loads(r.outbuf, 0, NULL);
		json_t	*want = json_loads("[" INST_WEB1 "]", 0, NULL);

		T_CHECK(got != NULL && json_equal(got, want));
		json_decref(got);
		json_decref(want);
	}
	T_CHECK(strncmp(r.outbuf, "[\n  {\n    \"name\": \"web:1\"", 25) == 0);
	run_done(&r);

	run_parse(&r, "status x");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"no_such_program\",\"message\":"
	    "\"no program or instance matches 'x'\",\"patterns\":[\"x\"]}")),
	    CTL_EXIT_NO_PROGRAM);
	T_STREQ(r.outbuf, "");
	T_STREQ(r.errbuf, "tendctl: no program or instance matches 'x'\n");
	run_done(&r);

	/* --json: {"error": the error object}; the message on stderr. */
	run_parse(&r, "status --json x");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"no_such_program\",\"message\":"
	    "\"m\",\"patterns\":[\"x\"]}")), CTL_EXIT_NO_PROGRAM);
	T_STREQ(r.outbuf, "{\n  \"error\": {\n    \"code\": \"no_such_program\","
	    "\n    \"message\": \"m\",\n    \"patterns\": [\n      \"x\"\n"
	    "    ]\n  }\n}\n");
	T_STREQ(r.errbuf, "tendctl: m\n");
	run_done(&r);

	run_parse(&r, "status");
	T_INTEQ(run_reply(&r, OK("{}")), CTL_EXIT_FAILED);
	T_CHECK(strstr(r.errbuf, "malformed reply") != NULL);
	run_done(&r);

	/* A tendd older than the table's keys: say what to do. */
	run_parse(&r, "status");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"bad_args\",\"message\":"
	    "\"\\\"fields\\\": no instance key 'unsaved'\"}")),
	    CTL_EXIT_USAGE);
	T_CHECK(strstr(r.errbuf, "tendd is older than this tendctl: restart "
	    "tendd") != NULL);
	run_done(&r);
}

T_CASE(test_status_log_error)
{
	struct run	 r;

	/* A sink error shows when there is no other error; error wins. */
	run_parse(&r, "status");
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":["
	    "{\"name\":\"web\",\"state\":\"running\",\"pid\":7,"
	    "\"uptime\":303.2,\"restarts\":0,\"last_exit\":null,"
	    "\"error\":null,\"log_dropped\":4096,"
	    "\"log_error\":\"/var/log/web.log: No space left on device\"},"
	    "{\"name\":\"db\",\"state\":\"failed\",\"pid\":null,"
	    "\"uptime\":0,\"restarts\":5,\"last_exit\":null,"
	    "\"error\":\"exec /x: No such file or directory\","
	    "\"log_dropped\":1,\"log_error\":\"/d.log: EIO\"},"
	    "{\"name\":\"ok\",\"state\":\"running\",\"pid\":8,"
	    "\"uptime\":303.2,\"restarts\":0,\"last_exit\":null,"
	    "\"error\":null,\"log_dropped\":100,\"log_error\":null}]}")),
	    CTL_EXIT_NOT_RUNNING);
	T_STREQ(r.outbuf,
	    "NAME  STATE    PID  PPID  DESC  UPTIME  RESTARTS  LAST EXIT  "
	    "ERROR\n"
	    "web   running    7     -     -   5m03s         0  -          "
	    "log: /var/log/web.log: No space left on device (4096 bytes "
	    "dropped)\n"
	    "db    failed     -     -     -       -         5  -          "
	    "exec /x: No such file or directory\n"
	    "ok    running    8     -     -   5m03s         0  -\n");
	run_done(&r);

	/* Dropped bytes alone (the sink works again): no column. */
	run_parse(&r, "status");
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":[{\"name\":\"ok\","
	    "\"state\":\"running\",\"pid\":8,\"uptime\":1,"
	    "\"restarts\":0,\"last_exit\":null,\"error\":null,"
	    "\"log_dropped\":100,\"log_error\":null}]}")), CTL_EXIT_OK);
	T_CHECK(strstr(r.outbuf, "ERROR") == NULL);
	run_done(&r);

	/* On a terminal the log error is yellow, not red. */
	run_parse(&r, "status");
	r.inv.style = true;
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":[{\"name\":\"w\","
	    "\"state\":\"running\",\"pid\":8,\"uptime\":1,"
	    "\"restarts\":0,\"last_exit\":null,\"error\":null,"
	    "\"log_error\":\"e\"}]}")), CTL_EXIT_OK);
	T_CHECK(strstr(r.outbuf, "\033[33mlog: e (0 bytes dropped)\033[0m")
	    != NULL);
	run_done(&r);

	/* --json passes the keys through. */
	run_parse(&r, "status --json");
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":[{\"name\":\"w\","
	    "\"state\":\"running\",\"log_dropped\":3,"
	    "\"log_error\":\"e\"}]}")), CTL_EXIT_OK);
	T_CHECK(strstr(r.outbuf, "\"log_dropped\": 3") != NULL);
	T_CHECK(strstr(r.outbuf, "\"log_error\": \"e\"") != NULL);
	run_done(&r);
}

T_CASE(test_status_markers)
{
	struct run	 r;

	/* Markers after the state; an adopted process's exit is unknown. */
	run_parse(&r, "status");
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":["
	    "{\"name\":\"a\",\"state\":\"running\",\"pid\":70,"
	    "\"ppid\":1,\"descendants\":0,\"uptime\":61,\"restarts\":0,"
	    "\"last_exit\":null,\"adopted\":true,\"operator\":false},"
	    "{\"name\":\"b\",\"state\":\"stopped\",\"pid\":null,"
	    "\"ppid\":null,\"descendants\":0,\"uptime\":0,\"restarts\":1,"
	    "\"last_exit\":{\"unknown\":true,\"at\":1700000000},"
	    "\"adopted\":false,\"operator\":true,\"unsaved\":true},"
	    "{\"name\":\"c\",\"state\":\"running\",\"pid\":71,"
	    "\"ppid\":70,\"descendants\":12,\"uptime\":1,\"restarts\":0,"
	    "\"last_exit\":{\"unknown\":true},"
	    "\"adopted\":true,\"operator\":true},"
	    "{\"name\":\"d\",\"state\":\"running\",\"pid\":72,"
	    "\"ppid\":1,\"descendants\":0,\"uptime\":1,\"restarts\":0,"
	    "\"last_exit\":null,\"adopted\":false,\"operator\":false}"
	    "]}")), CTL_EXIT_NOT_RUNNING);
	T_STREQ(r.outbuf,
	    "NAME  STATE                        PID  PPID  DESC  UPTIME  "
	    "RESTARTS  LAST EXIT\n"
	    "a     running (adopted)             70     1     0   1m01s  "
	    "       0  -\n"
	    "b     stopped (operator, unsaved)    -     -     0       -  "
	    "       1  unknown\n"
	    "c     running (adopted, operator)   71    70    12      1s  "
	    "       0  unknown\n"
	    "d     running                       72     1     0      1s  "
	    "       0  -\n");
	run_done(&r);

	/* On a terminal only the state word is coloured. */
	run_parse(&r, "status");
	r.inv.style = true;
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":[{\"name\":\"a\","
	    "\"state\":\"running\",\"pid\":70,\"adopted\":true,"
	    "\"operator\":true}]}")), CTL_EXIT_OK);
	T_CHECK(strstr(r.outbuf, "\033[32mrunning\033[0m (adopted, "
	    "operator)   70") != NULL);
	run_done(&r);

	/* wait says so too. */
	run_parse(&r, "wait a");
	T_INTEQ(run_reply(&r, OK("{\"results\":[{\"name\":\"a\","
	    "\"ok\":true,\"state\":\"exited\","
	    "\"last_exit\":{\"unknown\":true,\"at\":1}}]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "a: exited (exit unknown)\n");
	run_done(&r);
}

#define PROC(pid, ppid, prog, inst, state, cmd, adopted, main, depth) \
	"{\"pid\":" #pid ",\"ppid\":" #ppid ",\"program\":" prog "," \
	"\"instance\":" inst ",\"name\":" prog "," \
	"\"state\":\"" state "\",\"command\":\"" cmd "\"," \
	"\"adopted\":" #adopted ",\"main\":" #main ",\"depth\":" #depth "}"
#define PROCS_WEB \
	PROC(100, 90, "\"web\"", "0", "sleeping", "sh -c ./serve", false, \
	    true, 0) "," \
	PROC(101, 100, "\"web\"", "0", "sleeping", "./serve", false, false, \
	    1) "," \
	PROC(102, 101, "\"web\"", "0", "running", "worker 1", false, false, \
	    2) "," \
	PROC(103, 102, "\"web\"", "0", "disk-sleep", "cat", false, false, \
	    3) "," \
	PROC(104, 101, "\"web\"", "0", "zombie", "", false, false, 2) "," \
	PROC(4000, 90, "\"web\"", "0", "sleeping", "orphan --daemon", true, \
	    false, 0) "," \
	PROC(5000, 90, "null", "null", "stopped", "lost child", true, false, \
	    0)

T_CASE(test_ps)
{
	struct run	 r;

	/* The tree: "\_ " under the parent, two more spaces a level. */
	run_parse(&r, "ps");
	T_INTEQ(run_reply(&r, OK("{\"processes\":[" PROCS_WEB "]}")),
	    CTL_EXIT_OK);
	T_STREQ(r.outbuf,
	    " PID  PPID  NAME  STATE       ADOPTED  COMMAND\n"
	    " 100    90  web   sleeping    no       sh -c ./serve\n"
	    " 101   100  web   sleeping    no       \\_ ./serve\n"
	    " 102   101  web   running     no         \\_ worker 1\n"
	    " 103   102  web   disk-sleep  no           \\_ cat\n"
	    " 104   101  web   zombie      no         \\_ \n"
	    "4000    90  web   sleeping    yes      orphan --daemon\n"
	    "5000    90  -     stopped     yes      lost child\n");
	T_STREQ(r.errbuf, "");
	run_done(&r);

	/* Depth is bounded; nonsense depth and missing keys do not crash. */
	run_parse(&r, "ps");
	T_INTEQ(run_reply(&r, OK("{\"processes\":["
	    "{\"pid\":1,\"name\":\"a\",\"command\":\"deep\","
	    "\"depth\":1000000000000},"
	    "{\"pid\":2,\"name\":\"a\",\"command\":\"neg\",\"depth\":-5},"
	    "{}]}")), CTL_EXIT_OK);
	{
		char	 want[256];

		snprintf(want, sizeof want, "  1     -  a     ?      no"
		    "       %*s\\_ deep\n", 2 * (32 - 1), "");
		T_CHECK(strstr(r.outbuf, want) != NULL);
	}
	T_CHECK(strstr(r.outbuf, "  2     -  a     ?      no       neg\n")
	    != NULL);
	T_CHECK(strstr(r.outbuf, "\n  -     -  -     ?      no\n") != NULL);
	run_done(&r);

	/* Control characters in a command line do not reach the terminal. */
	run_parse(&r, "ps");
	T_INTEQ(run_reply(&r, OK("{\"processes\":[{\"pid\":1,"
	    "\"command\":\"a\\u001b[2Jb\\nc\\u007fd\\u009be\\u00e9f\","
	    "\"depth\":1}]}")), CTL_EXIT_OK);
	T_CHECK(strstr(r.outbuf, "\\_ a?[2Jb?c?d?e\xc3\xa9" "f\n") != NULL);
	run_done(&r);

	/* Nothing listed is still a success. */
	run_parse(&r, "ps web");
	T_INTEQ(run_reply(&r, OK("{\"processes\":[]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "PID  PPID  NAME  STATE  ADOPTED  COMMAND\n");
	run_done(&r);

	/* A terminal: a bold header, the cells as they are. */
	run_parse(&r, "ps");
	r.inv.style = true;
	T_INTEQ(run_reply(&r, OK("{\"processes\":[" PROCS_WEB "]}")), 0);
	T_CHECK(strstr(r.outbuf, "\033[1mCOMMAND\033[0m\n") != NULL);
	T_CHECK(strstr(r.outbuf, "no         \\_ worker 1\n") != NULL);
	run_done(&r);

	/* --json: the processes array, as received. */
	run_parse(&r, "ps --json");
	T_INTEQ(run_reply(&r, OK("{\"processes\":[" PROCS_WEB "]}")),
	    CTL_EXIT_OK);
	{
		json_t	*got = json_loads(r.outbuf, 0, NULL);
		json_t	*want = json_loads("[" PROCS_WEB "]", 0, NULL);

		T_CHECK(got != NULL && want != NULL && json_equal(got, want));
		json_decref(got);
		json_decref(want);
	}
	run_done(&r);

	run_parse(&r, "ps x");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"no_such_program\",\"message\":"
	    "\"no program or instance matches 'x'\",\"patterns\":[\"x\"]}")),
	    CTL_EXIT_NO_PROGRAM);
	T_STREQ(r.outbuf, "");
	T_STREQ(r.errbuf, "tendctl: no program or instance matches 'x'\n");
	run_done(&r);

	run_parse(&r, "ps");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[]}")), CTL_EXIT_FAILED);
	T_CHECK(strstr(r.errbuf, "malformed reply") != NULL);
	run_done(&r);
}

#define LINE(inst, stream, text)	"{\"time\":1795400494.25," \
	"\"instance\":\"" inst "\",\"program\":\"web\"," \
	"\"stream\":\"" stream "\",\"text\":\"" text "\"}"
#define EVENT(e)	"{\"v\":1,\"id\":1,\"event\":" e "}"
#define LINE_EV(inst, text)	EVENT("{\"type\":\"line\"," \
	"\"time\":2.5,\"instance\":\"" inst "\",\"program\":\"web\"," \
	"\"stream\":\"stdout\",\"text\":\"" text "\"}")
#define LC_EV	EVENT("{\"type\":\"event\",\"time\":2.5," \
	"\"instance\":\"web:1\",\"program\":\"web\",\"text\":\"web:1 " \
	"exited with code 3; restarting in 0.4s (attempt 3)\"," \
	"\"event\":{\"type\":\"instance.exited\",\"code\":3}}")

T_CASE(test_logs)
{
	struct run	 r;

	/* One instance: the text alone, as sent. */
	run_parse(&r, "logs web");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[\"web\"],\"lines\":["
	    LINE("web", "stdout", "GET / 200") ","
	    LINE("web", "stderr", "  warn: \\\\xff \\t|") ","
	    LINE("web", "stdout", "") "]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "GET / 200\n  warn: \\xff \t|\n\n");
	T_STREQ(r.errbuf, "");
	run_done(&r);

	/* Several: "NAME | " first, even for lines of only one of them. */
	run_parse(&r, "logs web");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[\"web:0\",\"web:1\"],"
	    "\"lines\":[" LINE("web:1", "stdout", "b") ","
	    LINE("web:0", "stderr", "a") "]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "web:1 | b\nweb:0 | a\n");
	run_done(&r);

	run_parse(&r, "logs all");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[\"a\",\"b\"],"
	    "\"lines\":[]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "");
	run_done(&r);

	/* A terminal dims the prefix; the text stays as it is. */
	run_parse(&r, "logs web");
	r.inv.style = true;
	T_INTEQ(run_reply(&r, OK("{\"instances\":[\"web:0\",\"web:1\"],"
	    "\"lines\":[" LINE("web:0", "stdout", "x") "]}")), 0);
	T_STREQ(r.outbuf, "\033[2mweb:0 | \033[0mx\n");
	run_done(&r);

	/* --json: JSON Lines, each line object as received. */
	run_parse(&r, "logs --json web");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[\"web:0\",\"web:1\"],"
	    "\"lines\":[" LINE("web:0", "stdout", "a \\\"q\\\"") ","
	    "{\"time\":3,\"instance\":\"web:1\",\"program\":\"web\","
	    "\"stream\":\"stderr\",\"text\":\"long\",\"partial\":true}"
	    "]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf,
	    "{\"time\":1795400494.25,\"instance\":\"web:0\","
	    "\"program\":\"web\",\"stream\":\"stdout\","
	    "\"text\":\"a \\\"q\\\"\"}\n"
	    "{\"time\":3,\"instance\":\"web:1\",\"program\":\"web\","
	    "\"stream\":\"stderr\",\"text\":\"long\",\"partial\":true}\n");
	run_done(&r);

	/* -t: each line after its local time, to the millisecond. */
	setenv("TZ", "UTC", 1);
	tzset();
	run_parse(&r, "logs -t web");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[\"web:0\",\"web:1\"],"
	    "\"lines\":[" LINE("web:0", "stdout", "x") ","
	    "{\"time\":1795400494.999999,\"instance\":\"web:1\","
	    "\"text\":\"y\"},{\"instance\":\"web:1\",\"text\":\"z\"}"
	    "]}")), 0);
	T_STREQ(r.outbuf, "2026-11-23T02:21:34.250 web:0 | x\n"
	    "2026-11-23T02:21:34.999 web:1 | y\nweb:1 | z\n");
	run_done(&r);
	setenv("TZ", "Asia/Kolkata", 1);	/* +05:30, no DST */
	tzset();
	run_parse(&r, "logs --timestamps web");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[\"web\"],"
	    "\"lines\":[" LINE("web", "stdout", "x") "]}")), 0);
	/* Without zoneinfo, glibc takes the name for UTC. */
	T_CHECK(strcmp(r.outbuf, "2026-11-23T07:51:34.250 x\n") == 0 ||
	    strcmp(r.outbuf, "2026-11-23T02:21:34.250 x\n") == 0);
	run_done(&r);
	/* --json has "time" already. */
	run_parse(&r, "logs -t --json web");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[\"web\"],"
	    "\"lines\":[" LINE("web", "stdout", "x") "]}")), 0);
	T_STREQ(r.outbuf, "{\"time\":1795400494.25,\"instance\":\"web\","
	    "\"program\":\"web\",\"stream\":\"stdout\",\"text\":\"x\"}\n");
	run_done(&r);
	setenv("TZ", "UTC", 1);
	tzset();

	/* Errors as for other commands. */
	run_parse(&r, "logs x");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"no_such_program\","
	    "\"message\":\"no program or instance matches 'x'\","
	    "\"patterns\":[\"x\"]}")), CTL_EXIT_NO_PROGRAM);
	T_STREQ(r.outbuf, "");
	T_STREQ(r.errbuf, "tendctl: no program or instance matches 'x'\n");
	run_done(&r);

	run_parse(&r, "logs -f x");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"bad_args\","
	    "\"message\":\"lines: out of range\"}")), CTL_EXIT_USAGE);
	T_STREQ(r.errbuf, "tendctl: lines: out of range\n");
	run_done(&r);

	run_parse(&r, "logs web");
	T_INTEQ(run_reply(&r, OK("{\"lines\":[]}")), CTL_EXIT_FAILED);
	T_CHECK(strstr(r.errbuf, "malformed reply") != NULL);
	run_done(&r);
}

T_CASE(test_logs_follow)
{
	struct run	 r;

	/* One instance: no prefix; each line is flushed as it comes. */
	run_parse(&r, "logs -f web");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"start\","
	    "\"instances\":[\"web\"]}")), 0);
	T_INTEQ(r.outlen, 0);
	T_INTEQ(run_event(&r, LINE_EV("web", "one")), 0);
	T_STREQ(r.outbuf, "one\n");	/* no fflush by the test */
	T_INTEQ(run_event(&r, LINE_EV("web", "two")), 0);
	T_STREQ(r.outbuf, "one\ntwo\n");
	/* Unknown types are ignored. */
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"restarted\","
	    "\"instance\":\"web\",\"text\":\"no\"}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"text\":\"no\"}")), 0);
	T_STREQ(r.outbuf, "one\ntwo\n");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"missed\",\"count\":17}")),
	    0);
	T_STREQ(r.outbuf, "one\ntwo\n");
	T_STREQ(r.errbuf, "tendctl: 17 lines missed (not reading fast "
	    "enough)\n");
	T_INTEQ(run_event(&r, LINE_EV("web", "three")), 0);
	T_STREQ(r.outbuf, "one\ntwo\nthree\n");
	run_done(&r);

	/* Several instances: "NAME | " on every line. */
	run_parse(&r, "logs -f web");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"start\","
	    "\"instances\":[\"web:0\",\"web:1\"]}")), 0);
	T_INTEQ(run_event(&r, LINE_EV("web:1", "b")), 0);
	T_INTEQ(run_event(&r, LINE_EV("web:0", "a")), 0);
	T_STREQ(r.outbuf, "web:1 | b\nweb:0 | a\n");
	run_done(&r);

	/* --json: the line minus "type", and "missed" on stdout too. */
	run_parse(&r, "logs -f --json web");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"start\","
	    "\"instances\":[\"web:0\",\"web:1\"]}")), 0);
	T_INTEQ(run_event(&r, LINE_EV("web:0", "a")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"line\",\"time\":4,"
	    "\"instance\":\"web:1\",\"program\":\"web\","
	    "\"stream\":\"stderr\",\"text\":\"cut\",\"partial\":true}")),
	    0);
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"missed\",\"count\":3}")),
	    0);
	T_STREQ(r.outbuf,
	    "{\"time\":2.5,\"instance\":\"web:0\",\"program\":\"web\","
	    "\"stream\":\"stdout\",\"text\":\"a\"}\n"
	    "{\"time\":4,\"instance\":\"web:1\",\"program\":\"web\","
	    "\"stream\":\"stderr\",\"text\":\"cut\",\"partial\":true}\n"
	    "{\"missed\":3}\n");
	T_STREQ(r.errbuf, "tendctl: 3 lines missed (not reading fast "
	    "enough)\n");
	run_done(&r);

	/* Life-cycle lines: set apart, with their time under -t; in --json
	   the object as it came, "type":"event" and all. */
	run_parse(&r, "logs -f web");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"start\","
	    "\"instances\":[\"web:0\",\"web:1\"]}")), 0);
	T_INTEQ(run_event(&r, LINE_EV("web:1", "bye")), 0);
	T_INTEQ(run_event(&r, LC_EV), 0);
	T_STREQ(r.outbuf, "web:1 | bye\n-- web:1 exited with code 3; "
	    "restarting in 0.4s (attempt 3) --\n");
	run_done(&r);
	setenv("TZ", "UTC", 1);
	tzset();
	run_parse(&r, "logs -t -f web");
	r.inv.style = true;
	T_INTEQ(run_event(&r, LC_EV), 0);
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"event\"}")), 0);
	T_STREQ(r.outbuf, "\033[2m1970-01-01T00:00:02.500 \033[0m"
	    "\033[1m-- web:1 exited with code 3; restarting in 0.4s "
	    "(attempt 3) --\033[0m\n");
	run_done(&r);
	run_parse(&r, "logs -f --json web");
	T_INTEQ(run_event(&r, LC_EV), 0);
	T_STREQ(r.outbuf, "{\"type\":\"event\",\"time\":2.5,"
	    "\"instance\":\"web:1\",\"program\":\"web\",\"text\":\"web:1 "
	    "exited with code 3; restarting in 0.4s (attempt 3)\","
	    "\"event\":{\"type\":\"instance.exited\",\"code\":3}}\n");
	run_done(&r);

	/* Commands without an event printer skip events. */
	run_parse(&r, "status");
	T_INTEQ(run_event(&r, LINE_EV("web", "x")), 0);
	fflush(r.out);
	T_STREQ(r.outbuf, "");
	run_done(&r);
}

T_CASE(test_logs_follow_closed)
{
	struct run	 r;
	FILE		*f;

	/* A write that fails is reported, so main can stop. */
	run_parse(&r, "logs -f web");
	T_CHECK((f = fopen("/dev/full", "w")) != NULL);
	if (f == NULL) {
		run_done(&r);
		return;
	}
	r.inv.out = f;
	T_INTEQ(run_event(&r, LINE_EV("web", "x")), -1);
	fclose(f);
	r.inv.out = r.out;
	run_done(&r);
}

T_CASE(test_logrotate)
{
	struct run	 r;

	run_parse(&r, "logrotate");
	T_INTEQ(run_reply(&r, OK("{\"reopened\":3}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "reopened 3 log files\n");
	run_done(&r);

	run_parse(&r, "logrotate --json");
	T_INTEQ(run_reply(&r, OK("{\"reopened\":0}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "{\n  \"reopened\": 0\n}\n");
	run_done(&r);

	run_parse(&r, "logrotate");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"permission_denied\","
	    "\"message\":\"permission denied\"}")), CTL_EXIT_CONNECT);
	T_STREQ(r.errbuf, "tendctl: permission denied\n");
	run_done(&r);

	run_parse(&r, "logrotate");
	T_INTEQ(run_reply(&r, OK("{}")), CTL_EXIT_FAILED);
	T_CHECK(strstr(r.errbuf, "malformed reply") != NULL);
	run_done(&r);
}

T_CASE(test_results)
{
	struct run	 r;

	run_parse(&r, "start web db");
	T_INTEQ(run_reply(&r, OK("{\"results\":["
	    "{\"name\":\"web:0\",\"ok\":true,\"state\":\"running\","
	    "\"error\":null},"
	    "{\"name\":\"db\",\"ok\":false,\"state\":\"failed\","
	    "\"error\":\"exec /x: No such file or directory\"},"
	    "{\"name\":\"job\",\"ok\":false,\"state\":\"exited\","
	    "\"error\":null}]}")), CTL_EXIT_FAILED);
	T_STREQ(r.outbuf, "web:0: running\n"
	    "db: failed: exec /x: No such file or directory\n"
	    "job: exited (not ok)\n");
	run_done(&r);

	run_parse(&r, "stop web");
	T_INTEQ(run_reply(&r, OK("{\"results\":[{\"name\":\"web\",\"ok\":true,"
	    "\"state\":\"stopped\",\"error\":null}]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "web: stopped\n");
	run_done(&r);

	run_parse(&r, "stop --json web");
	T_INTEQ(run_reply(&r, OK("{\"results\":[]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "{\n  \"results\": []\n}\n");
	run_done(&r);

	run_parse(&r, "restart web");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"permission_denied\","
	    "\"message\":\"permission denied\"}")), CTL_EXIT_CONNECT);
	T_STREQ(r.errbuf, "tendctl: permission denied\n");
	run_done(&r);

	run_parse(&r, "signal HUP web");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"bad_args\","
	    "\"message\":\"bad signal\"}")), CTL_EXIT_USAGE);
	run_done(&r);

	run_parse(&r, "wait web db job");
	T_INTEQ(run_reply(&r, OK("{\"results\":["
	    "{\"name\":\"web\",\"ok\":true,\"state\":\"exited\","
	    "\"last_exit\":{\"code\":0,\"at\":1}},"
	    "{\"name\":\"db\",\"ok\":true,\"state\":\"stopped\","
	    "\"last_exit\":{\"signal\":15,\"at\":1}},"
	    "{\"name\":\"job\",\"ok\":true,\"state\":\"stopped\","
	    "\"last_exit\":null}]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "web: exited (code 0)\ndb: stopped (signal TERM)\n"
	    "job: stopped\n");
	run_done(&r);

	/* Any that ended badly: exit 1, and stderr says which and how. */
	run_parse(&r, "wait all");
	T_INTEQ(run_reply(&r, OK("{\"results\":["
	    "{\"name\":\"web\",\"ok\":true,\"state\":\"exited\","
	    "\"last_exit\":{\"code\":0,\"at\":1}},"
	    "{\"name\":\"worker\",\"ok\":false,\"state\":\"exited\","
	    "\"error\":null,\"last_exit\":{\"code\":3,\"at\":1}},"
	    "{\"name\":\"crash\",\"ok\":false,\"state\":\"exited\","
	    "\"last_exit\":{\"signal\":11,\"signal_name\":\"SEGV\"}},"
	    "{\"name\":\"lost\",\"ok\":false,\"state\":\"exited\","
	    "\"last_exit\":{\"unknown\":true}},"
	    "{\"name\":\"db\",\"ok\":false,\"state\":\"failed\","
	    "\"error\":\"exec /x: No such file or directory\","
	    "\"last_exit\":null},"
	    "{\"name\":\"flaky\",\"ok\":false,\"state\":\"failed\","
	    "\"error\":null,\"last_exit\":{\"code\":1}},"
	    "{\"name\":\"odd\",\"ok\":false,\"state\":\"stopped\"}]}")),
	    CTL_EXIT_FAILED);
	T_STREQ(r.outbuf, "web: exited (code 0)\nworker: exited (code 3)\n"
	    "crash: exited (signal SEGV)\nlost: exited (exit unknown)\n"
	    "db: failed\nflaky: failed (code 1)\nodd: stopped\n");
	T_STREQ(r.errbuf, "tendctl: worker: exited with code 3\n"
	    "tendctl: crash: killed by signal SEGV\n"
	    "tendctl: lost: exited, exit status unknown\n"
	    "tendctl: db: failed: exec /x: No such file or directory\n"
	    "tendctl: flaky: failed (exited with code 1)\n"
	    "tendctl: odd: stopped\n");
	run_done(&r);
	run_parse(&r, "wait --json worker");
	T_INTEQ(run_reply(&r, OK("{\"results\":[{\"name\":\"worker\","
	    "\"ok\":false,\"state\":\"exited\",\"last_exit\":{\"code\":3}}]}")),
	    CTL_EXIT_FAILED);
	T_CHECK(strstr(r.outbuf, "\"ok\": false") != NULL);
	T_STREQ(r.errbuf, "tendctl: worker: exited with code 3\n");
	run_done(&r);

	/* Each end as it comes, flushed, and not again in the reply. */
	run_parse(&r, "wait web db");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"ended\",\"name\":\"web\","
	    "\"ok\":false,\"state\":\"exited\","
	    "\"last_exit\":{\"code\":3,\"at\":1}}")), 0);
	T_STREQ(r.outbuf, "web: exited (code 3)\n");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"other\",\"name\":\"db\"}")),
	    0);
	T_INTEQ(run_reply(&r, OK("{\"results\":["
	    "{\"name\":\"web\",\"ok\":false,\"state\":\"exited\","
	    "\"last_exit\":{\"code\":3,\"at\":1}},"
	    "{\"name\":\"db\",\"ok\":true,\"state\":\"stopped\","
	    "\"last_exit\":null}]}")), CTL_EXIT_FAILED);
	T_STREQ(r.outbuf, "web: exited (code 3)\ndb: stopped\n");
	T_STREQ(r.errbuf, "tendctl: web: exited with code 3\n");
	run_done(&r);
	/* And not again in a timeout's results. */
	run_parse(&r, "wait --timeout 1 web db");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"ended\",\"name\":\"db\","
	    "\"ok\":true,\"state\":\"stopped\",\"last_exit\":null}")), 0);
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"timeout\",\"message\":"
	    "\"timed out after 1s\",\"results\":[{\"name\":\"web\","
	    "\"ok\":false,\"state\":\"running\",\"last_exit\":null},"
	    "{\"name\":\"db\",\"ok\":true,\"state\":\"stopped\","
	    "\"last_exit\":null}]}")), CTL_EXIT_FAILED);
	T_STREQ(r.outbuf, "db: stopped\nweb: running\n");
	run_done(&r);
	/* --json: the reply alone, as ever. */
	run_parse(&r, "wait --json web");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"ended\",\"name\":\"web\","
	    "\"ok\":true,\"state\":\"stopped\",\"last_exit\":null}")), 0);
	fflush(r.out);
	T_STREQ(r.outbuf, "");
	run_done(&r);

	/* A timeout carries the current state. */
	run_parse(&r, "wait --timeout 1 web");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"timeout\",\"message\":"
	    "\"timed out after 1s\",\"results\":[{\"name\":\"web\","
	    "\"ok\":false,\"state\":\"running\","
	    "\"last_exit\":{\"code\":1}}]}")),
	    CTL_EXIT_FAILED);
	T_STREQ(r.outbuf, "web: running\n");
	T_STREQ(r.errbuf, "tendctl: timed out after 1s\n");
	run_done(&r);
}

T_CASE(test_reload)
{
	struct run	 r;

	run_parse(&r, "reload");
	T_INTEQ(run_reply(&r, OK("{\"changes\":["
	    "{\"program\":\"web\",\"action\":\"restarted\","
	    "\"keys\":[\"command\",\"environment\"]},"
	    "{\"program\":\"db\",\"action\":\"added\",\"keys\":[]},"
	    "{\"program\":\"old\",\"action\":\"removed\",\"keys\":[]},"
	    "{\"program\":\"api\",\"action\":\"updated\","
	    "\"keys\":[\"stop_timeout\"]},"
	    "{\"program\":\"x\",\"action\":\"scaled\","
	    "\"keys\":[\"instances\"]}],"
	    "\"notes\":[\"socket: takes effect at the next start\"]}")),
	    CTL_EXIT_OK);
	T_STREQ(r.outbuf, "web: restarted (command, environment)\n"
	    "db: added\nold: removed\napi: updated (stop_timeout)\n"
	    "x: scaled (instances)\n"
	    "note: socket: takes effect at the next start\n");
	run_done(&r);

	run_parse(&r, "reload");
	T_INTEQ(run_reply(&r, OK("{\"changes\":[],\"notes\":[]}")), 0);
	T_STREQ(r.outbuf, "no changes\n");
	run_done(&r);

	run_parse(&r, "reload");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"config_invalid\",\"message\":"
	    "\"configuration invalid, nothing changed\",\"errors\":["
	    "\"/etc/tend.conf:3: unknown key 'comand'\","
	    "\"/etc/tend.conf:9: bad duration\"]}")), CTL_EXIT_FAILED);
	T_STREQ(r.outbuf, "");
	T_STREQ(r.errbuf, "tendctl: configuration invalid, nothing changed\n"
	    "/etc/tend.conf:3: unknown key 'comand'\n"
	    "/etc/tend.conf:9: bad duration\n");
	run_done(&r);
}

T_CASE(test_misc)
{
	struct run	 r;

	run_parse(&r, "version");
	T_INTEQ(run_reply(&r, OK("{\"version\":\"0.1.0\",\"protocol\":1,"
	    "\"pid\":42}")), 0);
	T_CHECK(strncmp(r.outbuf, "tendctl ", 8) == 0);
	T_CHECK(strstr(r.outbuf, "\ntendd 0.1.0 (protocol 1, pid 42)\n") !=
	    NULL);
	run_done(&r);

	run_parse(&r, "shutdown");
	T_INTEQ(run_reply(&r, OK("{}")), 0);
	T_STREQ(r.outbuf, "tendd is shutting down\n");
	run_done(&r);

	run_parse(&r, "shutdown --json");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"shutting_down\","
	    "\"message\":\"tendd is shutting down\"}")), 1);
	T_STREQ(r.outbuf, "{\n  \"error\": {\n    \"code\": \"shutting_down\","
	    "\n    \"message\": \"tendd is shutting down\"\n  }\n}\n");
	T_STREQ(r.errbuf, "tendctl: tendd is shutting down\n");
	run_done(&r);
}

T_CASE(test_table_render)
{
	struct output_table	*t;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*f;

	f = open_memstream(&buf, &len);
	t = output_table_new();
	output_table_column(t, "A", 0);
	output_table_column(t, "NUM", OUTPUT_RIGHT);
	output_table_column(t, "OPT", OUTPUT_OPTIONAL);
	output_table_column(t, "LAST", 0);
	output_table_row(t);
	output_table_cell(t, OUTPUT_RED, "long-name");
	output_table_cell(t, OUTPUT_PLAIN, "%d", 7);
	output_table_cell(t, OUTPUT_PLAIN, "%s", "");
	output_table_cell(t, OUTPUT_PLAIN, "x");
	output_table_row(t);	/* cells left out are empty */
	output_table_cell(t, OUTPUT_PLAIN, "b");
	output_table_print(t, f, false);
	output_table_free(t);
	output_table_free(NULL);
	fclose(f);
	T_STREQ(buf, "A          NUM  LAST\nlong-name    7  x\nb\n");
	free(buf);
}

/* A status in parts prints what the same status in one reply does. */
T_CASE(test_status_parts)
{
	const char	*frame = OK("{\"instances\":[" INST_WEB "," INST_WEB1
	    "," INST_DB "," INST_WEB "]}");
	const char	*lines[] = { "status", "status --json" };
	struct run	 whole, parts;
	size_t		 i, part;
	int		 rc;

	for (i = 0; i < 2; i++) {
		run_parse(&whole, lines[i]);
		rc = run_status_reply(&whole, frame);
		T_INTEQ(rc, CTL_EXIT_NOT_RUNNING);
		for (part = 1; part <= 4; part++) {
			run_parse(&parts, lines[i]);
			T_INTEQ(run_status_parts(&parts, frame, part), rc);
			T_STREQ(parts.outbuf, whole.outbuf);
			T_STREQ(parts.errbuf, "");
			run_done(&parts);
		}
		run_done(&whole);
	}

	/* Not running only in the first part: still exit 3. */
	run_parse(&parts, "status");
	T_INTEQ(run_status_parts(&parts, OK("{\"instances\":[" INST_WEB1
	    "," INST_WEB "]}"), 1), CTL_EXIT_NOT_RUNNING);
	run_done(&parts);
	run_parse(&parts, "status");
	T_INTEQ(run_status_parts(&parts, OK("{\"instances\":[" INST_WEB
	    "," INST_WEB "]}"), 1), CTL_EXIT_OK);
	run_done(&parts);

	/* A malformed part: nothing printed, the reply says so. */
	run_parse(&parts, "status");
	T_INTEQ(run_event(&parts, "{\"v\":1,\"id\":1,\"event\":{\"type\":"
	    "\"rows\",\"rows\":[[1,2]]}}"), 0);
	T_INTEQ(run_status_reply(&parts, OK("{\"instances\":[" INST_WEB
	    "]}")), CTL_EXIT_FAILED);
	T_STREQ(parts.outbuf, "");
	T_STREQ(parts.errbuf, "tendctl: malformed reply from tendd: a row "
	    "without every field\n");
	run_done(&parts);
	run_parse(&parts, "status --json");
	T_INTEQ(run_event(&parts, "{\"v\":1,\"id\":1,\"event\":{\"type\":"
	    "\"instances\",\"instances\":{}}}"), 0);
	T_INTEQ(run_status_reply(&parts, OK("{\"instances\":[]}")),
	    CTL_EXIT_FAILED);
	T_STREQ(parts.outbuf, "{\n  \"error\": {\n    \"code\": \"bad_reply\","
	    "\n    \"message\": \"malformed reply from tendd: no "
	    "\\\"instances\\\" array in a part\"\n  }\n}\n");
	run_done(&parts);
}

/* A ps in parts prints what the same ps in one reply does. */
T_CASE(test_ps_parts)
{
	const char	*frame = OK("{\"processes\":[" PROCS_WEB "]}");
	const char	*lines[] = { "ps", "ps --json" };
	struct run	 whole, parts;
	size_t		 i, part;

	for (i = 0; i < 2; i++) {
		run_parse(&whole, lines[i]);
		T_INTEQ(run_reply(&whole, frame), CTL_EXIT_OK);
		for (part = 1; part <= 8; part++) {
			run_parse(&parts, lines[i]);
			T_INTEQ(run_ps_parts(&parts, frame, part), CTL_EXIT_OK);
			T_STREQ(parts.outbuf, whole.outbuf);
			T_STREQ(parts.errbuf, "");
			run_done(&parts);
		}
		run_done(&whole);
	}

	/* Other events are no part; a malformed part: nothing printed. */
	run_parse(&parts, "ps");
	T_INTEQ(run_event(&parts, EVENT("{\"type\":\"other\"}")), 0);
	T_INTEQ(run_event(&parts, EVENT("{\"type\":\"processes\","
	    "\"processes\":{}}")), 0);
	T_INTEQ(run_reply(&parts, frame), CTL_EXIT_FAILED);
	T_STREQ(parts.outbuf, "");
	T_STREQ(parts.errbuf, "tendctl: malformed reply from tendd: no "
	    "\"processes\" array in a part\n");
	run_done(&parts);
	run_parse(&parts, "ps --json");
	T_INTEQ(run_event(&parts, EVENT("{\"type\":\"processes\"}")), 0);
	T_INTEQ(run_reply(&parts, frame), CTL_EXIT_FAILED);
	T_CHECK(strstr(parts.outbuf, "\"code\": \"bad_reply\"") != NULL);
	T_CHECK(strstr(parts.outbuf, "\"processes\": [") == NULL);
	run_done(&parts);
}

static int
write_cb(const char *s, size_t n, void *arg)
{
	return fwrite(s, 1, n, arg) == n ? 0 : -1;
}

/* j as --json prints it, written straight to a string. */
static char *
dumped(const json_t *j)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0;

	f = open_memstream(&buf, &len);
	(void)proto_dump(j, JSON_INDENT(2), write_cb, f);
	fclose(f);
	return buf;
}

/*
 * --json output is gathered into a buffer before it goes to stdio: the
 * same text as a dump straight to stdio, across many flushes of that
 * buffer and with one value longer than the buffer.
 */
T_CASE(test_json_output)
{
	struct run	 r;
	json_t		*insts = json_array(), *o, *want;
	char		*big, *frame, *text;
	size_t		 i;

	big = xmalloc(40001);
	memset(big, 'x', 40000);
	big[40000] = '\0';
	for (i = 0; i < 400; i++) {
		o = json_loads(INST_WEB, 0, NULL);
		if (i == 200)
			json_object_set_new(o, "error", json_string(big));
		json_array_append_new(insts, o);
	}
	want = json_pack("{s:O}", "instances", insts);
	text = json_dumps(want, JSON_COMPACT);
	xasprintf(&frame, "{\"v\":1,\"id\":1,\"ok\":true,\"result\":%s}",
	    text);
	free(text);
	run_parse(&r, "status --json");
	T_INTEQ(run_status_reply(&r, frame), CTL_EXIT_OK);
	text = dumped(insts);
	T_CHECK(r.outlen > 3 * 16384);
	T_CHECK(r.outlen == strlen(text) + 1);
	T_CHECK(strncmp(r.outbuf, text, strlen(text)) == 0);
	T_CHECK(r.outbuf[r.outlen - 1] == '\n');
	T_STREQ(r.errbuf, "");
	run_done(&r);
	free(text);
	free(frame);
	free(big);
	json_decref(want);
	json_decref(insts);
}

/* --json prints times and durations to the microsecond, not 17 digits. */
T_CASE(test_json_reals)
{
	struct run	 r;

	run_parse(&r, "status --json");
	T_INTEQ(run_status_reply(&r, OK("{\"instances\":[{\"name\":\"a\","
	    "\"state\":\"running\",\"uptime\":73.746197,\"last_exit\":"
	    "{\"code\":0,\"at\":1795402267.973452}}]}")), CTL_EXIT_OK);
	T_CHECK(strstr(r.outbuf, "\"uptime\": 73.746197,\n") != NULL);
	T_CHECK(strstr(r.outbuf, "\"at\": 1795402267.973452\n") != NULL);
	run_done(&r);

	run_parse(&r, "logs --json -n 1 a");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[\"a\"],\"lines\":["
	    "{\"time\":1795400494.297742,\"instance\":\"a\","
	    "\"text\":\"x\"}]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "{\"time\":1795400494.297742,\"instance\":\"a\","
	    "\"text\":\"x\"}\n");
	run_done(&r);

	run_parse(&r, "wait --json a");
	T_INTEQ(run_reply(&r, OK("{\"results\":[{\"name\":\"a\","
	    "\"ok\":true,\"state\":\"exited\",\"last_exit\":{\"code\":0,"
	    "\"at\":1795402267.1}}]}")), CTL_EXIT_OK);
	T_CHECK(strstr(r.outbuf, "\"at\": 1795402267.1\n") != NULL);
	run_done(&r);
}

/*
 * Errors tendctl finds itself: text on stderr always; with --json also
 * {"error":{"code","message"}} on stdout, the shape of tendd's errors.
 */
T_CASE(test_json_errors)
{
	struct run	 r;
	char		*argv[8];

	run_parse(&r, "status");
	T_INTEQ(ctl_error(&r.inv, CTL_EXIT_CONNECT, CTL_E_CONNECT, "cannot "
	    "connect to tendd at %s: %s", "/x", "No such file or directory"),
	    CTL_EXIT_CONNECT);
	fflush(r.out);
	fflush(r.err);
	T_STREQ(r.outbuf, "");
	T_STREQ(r.errbuf, "tendctl: cannot connect to tendd at /x: No such "
	    "file or directory\n");
	run_done(&r);

	run_parse(&r, "status --json");
	T_INTEQ(ctl_error(&r.inv, CTL_EXIT_FAILED, CTL_E_TIMEOUT, "timed out "
	    "after %gs waiting for tendd", 1.5), CTL_EXIT_FAILED);
	fflush(r.out);
	fflush(r.err);
	T_STREQ(r.outbuf, "{\n  \"error\": {\n    \"code\": \"timeout\",\n"
	    "    \"message\": \"timed out after 1.5s waiting for tendd\"\n"
	    "  }\n}\n");
	T_STREQ(r.errbuf, "tendctl: timed out after 1.5s waiting for tendd\n");
	run_done(&r);

	/* logs --json prints a line an object: the error is one line. */
	run_parse(&r, "logs --json -f web");
	ctl_error(&r.inv, CTL_EXIT_FAILED, CTL_E_CLOSED,
	    "tendd closed the connection");
	fflush(r.out);
	T_STREQ(r.outbuf, "{\"error\":{\"code\":\"closed\",\"message\":"
	    "\"tendd closed the connection\"}}\n");
	run_done(&r);

	/* A message that is not UTF-8 (a path) still makes JSON. */
	run_parse(&r, "status --json");
	ctl_error(&r.inv, CTL_EXIT_CONNECT, CTL_E_CONNECT, "at /tmp/\xff");
	fflush(r.out);
	fflush(r.err);
	T_CHECK(strstr(r.outbuf, "\"message\": \"at /tmp/?\"") != NULL);
	T_STREQ(r.errbuf, "tendctl: at /tmp/\xff\n");
	run_done(&r);

	/* A malformed reply of tendd's. */
	run_parse(&r, "logrotate --json");
	T_INTEQ(run_reply(&r, OK("{}")), CTL_EXIT_FAILED);
	T_STREQ(r.outbuf, "{\n  \"error\": {\n    \"code\": \"bad_reply\",\n"
	    "    \"message\": \"malformed reply from tendd: no \\\"reopened\\\" "
	    "count\"\n  }\n}\n");
	run_done(&r);

	/* An error reply with results: in the object, not as lines. */
	run_parse(&r, "wait --json --timeout 1 web");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"timeout\",\"message\":"
	    "\"timed out\",\"results\":[{\"name\":\"web\",\"ok\":false,"
	    "\"state\":\"running\",\"last_exit\":null}]}")), CTL_EXIT_FAILED);
	T_CHECK(strncmp(r.outbuf, "{\n  \"error\": {\n    \"code\": "
	    "\"timeout\",", 34) == 0);
	T_CHECK(strstr(r.outbuf, "\"results\": [") != NULL);
	T_CHECK(strstr(r.outbuf, "web: running") == NULL);
	T_STREQ(r.errbuf, "tendctl: timed out\n");
	run_done(&r);

	/* --json counts anywhere before "--", as an option or not. */
	argv[0] = "tendctl";
	argv[1] = "-s";
	argv[2] = "/x";
	argv[3] = "status";
	argv[4] = "--json";
	argv[5] = NULL;
	T_CHECK(ctl_wants_json(5, argv));
	T_CHECK(!ctl_wants_json(4, argv));
	argv[4] = "--";
	argv[5] = "--json";
	argv[6] = NULL;
	T_CHECK(!ctl_wants_json(6, argv));
	argv[1] = "--json";
	T_CHECK(ctl_wants_json(6, argv));
	T_CHECK(!ctl_wants_json(1, argv));
}

T_CASE(test_events)
{
	struct run	 r;
	json_t		*t;

	T_CHECK(request_is("events", REQ("events", "{}")));
	T_CHECK(request_is("events -f web db*",
	    REQ("events", "{\"patterns\":[\"web\",\"db*\"],\"follow\":true}")));
	T_CHECK(request_is("events --since 42 --type instance.exited "
	    "--type operator", REQ("events", "{\"types\":[\"instance.exited\","
	    "\"operator\"],\"since\":42}")));
	T_CHECK(request_is("events --since 0", REQ("events", "{\"since\":0}")));
	T_CHECK(request_is("events --since now --follow",
	    REQ("events", "{\"since_now\":true,\"follow\":true}")));
	T_CHECK(request_is("events --snapshot -f",
	    REQ("events", "{\"snapshot\":true,\"follow\":true}")));
	/* A duration is a time that long ago. */
	run_parse(&r, "events --since 5m");
	T_INTEQ(r.rc, 0);
	t = json_object_get(r.inv.args, "since_time");
	T_CHECK(json_is_real(t) && fabs(json_real_value(t) -
	    ((double)util_now_wall() / 1e6 - 300)) < 10);
	T_CHECK(!r.inv.streaming);
	run_done(&r);
	run_parse(&r, "events -f");
	T_CHECK(r.inv.streaming && !r.inv.has_deadline);
	run_done(&r);

	T_CHECK(usage_error("events --since x", "events: bad --since 'x'"));
	T_CHECK(usage_error("events --since 1.5", "bad --since '1.5'"));
	T_CHECK(usage_error("events --since -1", "bad --since '-1'"));
	T_CHECK(usage_error("events --since 99999999999999999999",
	    "bad --since"));
	T_CHECK(usage_error("events --since 5 --snapshot", "cannot be used "
	    "together"));
	T_CHECK(usage_error("events --since", "needs an argument"));
	T_CHECK(usage_error("events --type", "needs an argument"));
	T_CHECK(usage_error("events --type= web", "bad --type ''"));
	T_CHECK(usage_error("status --since 5", "unknown option '--since'"));

	/* Lines, in local time (UTC here). */
	setenv("TZ", "UTC", 1);
	tzset();
	run_parse(&r, "events");
	T_INTEQ(run_event(&r, EVENT("{\"seq\":7,\"time\":1796694368.4567,"
	    "\"type\":\"instance.exited\",\"program\":\"flaky\",\"instance\":0,"
	    "\"name\":\"flaky\",\"pid\":42,\"state\":\"running\",\"code\":3,"
	    "\"ran\":0.5,\"next\":\"backoff\",\"delay\":0.4,\"attempt\":3}")),
	    0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":8,\"time\":1796694368,"
	    "\"type\":\"instance.exited\",\"program\":\"w\",\"instance\":1,"
	    "\"name\":\"w:1\",\"pid\":43,\"signal\":9,\"signal_name\":\"KILL\","
	    "\"core\":true,\"ran\":2,\"next\":\"stopped\"}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":9,\"time\":1796694368,"
	    "\"type\":\"instance.restarting\",\"program\":\"flaky\","
	    "\"instance\":0,\"name\":\"flaky\",\"state\":\"backoff\","
	    "\"from\":\"starting\",\"delay\":2.5,\"attempt\":3}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":10,\"time\":1796694368,"
	    "\"type\":\"instance.state\",\"program\":\"a\",\"instance\":0,"
	    "\"name\":\"a\",\"from\":\"exited\",\"state\":\"stopped\"}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":11,\"time\":1796694368,"
	    "\"type\":\"operator.command\",\"command\":\"stop\",\"uid\":0,"
	    "\"client_pid\":77,\"args\":{\"targets\":[\"web\",\"db\"],"
	    "\"wait\":false},\"x\":{\"a\":1},\"bad\":\"a\\u001bb\"}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":12,\"time\":1796694368,"
	    "\"type\":\"operator.command\",\"command\":\"signal\",\"uid\":5,"
	    "\"client_pid\":8,\"args\":{\"signal\":\"HUP\",\"targets\":"
	    "[\"web\"]}}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":13,\"time\":1796694368,"
	    "\"type\":\"config.reloaded\",\"changes\":[{\"program\":\"web\","
	    "\"action\":\"restarted\",\"keys\":[\"command\",\"user\"]},"
	    "{\"program\":\"db\",\"action\":\"added\",\"keys\":[]}],"
	    "\"notes\":[]}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":14,\"time\":1796694368,"
	    "\"type\":\"config.reloaded\",\"changes\":[],\"notes\":[]}")),
	    0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":15,\"time\":1796694368,"
	    "\"type\":\"config.refused\",\"errors\":[\"tend.conf:3: bad\","
	    "\"tend.conf:4: worse\"]}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":16,\"time\":1796694368,"
	    "\"type\":\"instance.failed\",\"program\":\"x\",\"instance\":0,"
	    "\"name\":\"x\",\"state\":\"failed\",\"from\":\"backoff\","
	    "\"error\":\"exec /x: No such file or directory\"}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":17,\"time\":1796694368,"
	    "\"type\":\"instance.spawned\",\"program\":\"f\",\"instance\":0,"
	    "\"name\":\"f\",\"pid\":9,\"launcher\":true}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":18,\"time\":1796694368,"
	    "\"type\":\"tendd.started\",\"pid\":3,\"version\":\"0.1.0\"}")),
	    0);
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"gap\",\"from\":12,"
	    "\"to\":20}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"gap\",\"from\":21,"
	    "\"to\":21}")), 0);
	/* Not an event: skipped. */
	T_INTEQ(run_event(&r, EVENT("{\"seq\":22}")), 0);
	T_STREQ(r.outbuf,
	    "2026-12-08 01:46:08.456 #7 instance.exited flaky pid 42 code 3, "
	    "restarting in 400ms (attempt 3)\n"
	    "2026-12-08 01:46:08.000 #8 instance.exited w:1 pid 43 signal KILL "
	    "(core dumped), stopped\n"
	    "2026-12-08 01:46:08.000 #9 instance.restarting flaky in 2.5s "
	    "(attempt 3)\n"
	    "2026-12-08 01:46:08.000 #10 instance.state a exited -> stopped\n"
	    "2026-12-08 01:46:08.000 #11 operator.command stop web db "
	    "wait=false (uid 0, pid 77) x={\"a\":1} bad=a?b\n"
	    "2026-12-08 01:46:08.000 #12 operator.command signal HUP web "
	    "(uid 5, pid 8)\n"
	    "2026-12-08 01:46:08.000 #13 config.reloaded web restarted "
	    "(command, user), db added\n"
	    "2026-12-08 01:46:08.000 #14 config.reloaded no changes\n"
	    "2026-12-08 01:46:08.000 #15 config.refused: tend.conf:3: bad "
	    "(and 1 more)\n"
	    "2026-12-08 01:46:08.000 #16 instance.failed x: exec /x: No such "
	    "file or directory\n"
	    "2026-12-08 01:46:08.000 #17 instance.spawned f pid 9 (launcher)\n"
	    "2026-12-08 01:46:08.000 #18 tendd.started pid 3 version=0.1.0\n"
	    "#12-#20 gap: 9 events missed (not kept, or not read in time)\n"
	    "#21-#21 gap: 1 event missed (not kept, or not read in time)\n");
	T_INTEQ(run_reply(&r, "{\"v\":1,\"id\":1,\"ok\":true,\"result\":"
	    "{\"last\":22}}"), CTL_EXIT_OK);
	run_done(&r);

	/* A snapshot: a heading, an instance a line; in parts, one heading. */
	run_parse(&r, "events --snapshot");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"snapshot\",\"seq\":5,"
	    "\"instances\":[{\"name\":\"web\",\"state\":\"running\",\"pid\":7,"
	    "\"uptime\":62.5,\"restarts\":2,\"last_exit\":{\"code\":1,"
	    "\"at\":5}},{\"name\":\"db\",\"state\":\"stopped\",\"pid\":null,"
	    "\"restarts\":0,\"last_exit\":null}],\"more\":true}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"snapshot\",\"seq\":5,"
	    "\"instances\":[{\"name\":\"x\",\"state\":\"failed\","
	    "\"last_exit\":{\"signal\":6,\"signal_name\":\"ABRT\"}}]}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"snapshot\",\"seq\":9,"
	    "\"instances\":[]}")), 0);
	T_STREQ(r.outbuf, "#5 snapshot\n"
	    "  web running pid 7 up 1m02s restarts 2 last exit code 1\n"
	    "  db stopped\n"
	    "  x failed last exit signal ABRT\n"
	    "#9 snapshot of 0 instances\n");
	run_done(&r);

	/* --json: the objects as they come, one a line; errors too. */
	run_parse(&r, "events --json");
	T_INTEQ(run_event(&r, EVENT("{\"type\":\"gap\",\"from\":1,"
	    "\"to\":2}")), 0);
	T_INTEQ(run_event(&r, EVENT("{\"seq\":3,\"time\":1.5,"
	    "\"type\":\"tendd.ready\"}")), 0);
	T_INTEQ(run_reply(&r, "{\"v\":1,\"id\":1,\"ok\":false,\"error\":"
	    "{\"code\":\"bad_args\",\"message\":\"no\"}}"), CTL_EXIT_USAGE);
	T_STREQ(r.outbuf, "{\"type\":\"gap\",\"from\":1,\"to\":2}\n"
	    "{\"seq\":3,\"time\":1.5,\"type\":\"tendd.ready\"}\n"
	    "{\"error\":{\"code\":\"bad_args\",\"message\":\"no\"}}\n");
	run_done(&r);
	unsetenv("TZ");
	tzset();
}

T_MAIN(T_ENTRY(test_table), T_ENTRY(test_requests), T_ENTRY(test_options),
    T_ENTRY(test_usage_errors), T_ENTRY(test_global),
    T_ENTRY(test_exit_codes), T_ENTRY(test_status), T_ENTRY(test_status_parts),
    T_ENTRY(test_status_log_error), T_ENTRY(test_status_markers),
    T_ENTRY(test_ps), T_ENTRY(test_ps_parts), T_ENTRY(test_logs_requests),
    T_ENTRY(test_logs), T_ENTRY(test_logs_follow),
    T_ENTRY(test_logs_follow_closed), T_ENTRY(test_logrotate),
    T_ENTRY(test_events),
    T_ENTRY(test_results), T_ENTRY(test_reload), T_ENTRY(test_misc),
    T_ENTRY(test_table_render), T_ENTRY(test_json_output),
    T_ENTRY(test_json_reals), T_ENTRY(test_json_errors))
