/* test_ctl.c: tendctl without a socket: argv to request, replies to text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	}
	T_INTEQ(i, 11);
	T_CHECK(ctl_cmd_find("nope") == NULL);
	T_CHECK(ctl_cmd_find("") == NULL);
	T_STREQ(ctl_cmd_suggest("stats"), "status");
	T_STREQ(ctl_cmd_suggest("strat"), "start");
	T_STREQ(ctl_cmd_suggest("relaod"), "reload");
	T_CHECK(ctl_cmd_suggest("xyzzy") == NULL);
	T_CHECK(ctl_cmd_suggest("x") == NULL);
}

T_CASE(test_requests)
{
	T_CHECK(request_is("status", REQ("status", "{}")));
	T_CHECK(request_is("status web db*",
	    REQ("status", "{\"patterns\":[\"web\",\"db*\"]}")));
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
	    REQ("wait", "{\"targets\":[\"web\"]}")));
	T_CHECK(request_is("wait --timeout 5 web db",
	    REQ("wait", "{\"targets\":[\"web\",\"db\"],\"timeout\":5}")));
	T_CHECK(request_is("wait --timeout 1.5 web",
	    REQ("wait", "{\"targets\":[\"web\"],\"timeout\":1.5}")));
	T_CHECK(request_is("wait --timeout=1m web",
	    REQ("wait", "{\"targets\":[\"web\"],\"timeout\":60}")));
	T_CHECK(request_is("wait --timeout 0 web",
	    REQ("wait", "{\"targets\":[\"web\"],\"timeout\":0}")));
	T_CHECK(request_is("reload", REQ("reload", "{}")));
	T_CHECK(request_is("shutdown", REQ("shutdown", "{}")));
	T_CHECK(request_is("version", REQ("version", "{}")));
	T_CHECK(request_is("version --json", REQ("version", "{}")));
}

T_CASE(test_options)
{
	struct run	 r;

	run_parse(&r, "status --json");
	T_INTEQ(r.rc, 0);
	T_CHECK(r.inv.json);
	T_CHECK(!r.inv.has_deadline);
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
	T_CHECK(usage_error("shutdown x", "too many"));
	T_CHECK(usage_error("version x", "too many"));
	T_CHECK(usage_error("help a b", "too many"));
	T_CHECK(usage_error("help bogus", "unknown command 'bogus'"));
	T_CHECK(usage_error("status --no-wait", "unknown option "
	    "'--no-wait'"));
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
	"\"uptime\":303.2,\"restarts\":0,\"last_exit\":null," \
	"\"daemon\":false,\"error\":null}"
#define INST_WEB1 "{\"name\":\"web:1\",\"program\":\"web\",\"instance\":1," \
	"\"state\":\"backoff\",\"want\":\"up\",\"pid\":null,\"ppid\":null," \
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
	T_INTEQ(run_reply(&r, OK("{\"instances\":[" INST_WEB "," INST_WEB1
	    "," INST_DB "]}")), CTL_EXIT_NOT_RUNNING);
	T_STREQ(r.outbuf,
	    "NAME   STATE     PID  UPTIME  RESTARTS  LAST EXIT  ERROR\n"
	    "web:0  running  1234   5m03s         0  -\n"
	    "web:1  backoff     -       -        12  SIGKILL\n"
	    "db     failed      -       -         5  127        "
	    "exec /x: No such file or directory\n");
	T_STREQ(r.errbuf, "");
	run_done(&r);

	/* No error anywhere: no ERROR column. */
	run_parse(&r, "status web");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[" INST_WEB "]}")),
	    CTL_EXIT_OK);
	T_STREQ(r.outbuf,
	    "NAME   STATE     PID  UPTIME  RESTARTS  LAST EXIT\n"
	    "web:0  running  1234   5m03s         0  -\n");
	run_done(&r);

	/* A terminal: bold header, coloured states, same alignment. */
	run_parse(&r, "status");
	r.inv.style = true;
	T_INTEQ(run_reply(&r, OK("{\"instances\":[" INST_WEB "]}")), 0);
	T_CHECK(strstr(r.outbuf, "\033[1mNAME\033[0m") != NULL);
	T_CHECK(strstr(r.outbuf, "\033[32mrunning\033[0m  1234") != NULL);
	run_done(&r);

	run_parse(&r, "status");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[]}")), CTL_EXIT_OK);
	T_STREQ(r.outbuf, "NAME  STATE  PID  UPTIME  RESTARTS  LAST EXIT\n");
	run_done(&r);

	/* --json: the instances array, as received. */
	run_parse(&r, "status --json");
	T_INTEQ(run_reply(&r, OK("{\"instances\":[" INST_WEB1 "]}")),
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

	run_parse(&r, "status --json x");
	T_INTEQ(run_reply(&r, ERR("{\"code\":\"no_such_program\",\"message\":"
	    "\"m\",\"patterns\":[\"x\"]}")), CTL_EXIT_NO_PROGRAM);
	T_STREQ(r.outbuf, "{\n  \"code\": \"no_such_program\",\n  \"message\": "
	    "\"m\",\n  \"patterns\": [\n    \"x\"\n  ]\n}\n");
	run_done(&r);

	run_parse(&r, "status");
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
	T_STREQ(r.outbuf, "{\n  \"code\": \"shutting_down\",\n  \"message\": "
	    "\"tendd is shutting down\"\n}\n");
	T_STREQ(r.errbuf, "");
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

T_MAIN(T_ENTRY(test_table), T_ENTRY(test_requests), T_ENTRY(test_options),
    T_ENTRY(test_usage_errors), T_ENTRY(test_global),
    T_ENTRY(test_exit_codes), T_ENTRY(test_status), T_ENTRY(test_results),
    T_ENTRY(test_reload), T_ENTRY(test_misc), T_ENTRY(test_table_render))
