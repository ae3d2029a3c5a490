/* parse.c: tendctl's command line: global options, commands, usage. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "util.h"
#include "wire.h"

/* Global options, before COMMAND. */
static const struct ctl_gopt {
	struct option	 lo;
	int		 has_short;	/* lo.val is also a short option */
	const char	*arg;		/* its argument in the help */
	const char	*help;
} ctl_gopts[] = {
	{ { "socket", required_argument, NULL, 's' }, 1, "SOCKET",
	  "connect to tendd at SOCKET" },
	{ { "config", required_argument, NULL, 'c' }, 1, "CONFIG",
	  "take the socket path from tendd's configuration CONFIG" },
	{ { "json", no_argument, NULL, 'j' }, 0, NULL,
	  "print replies and errors as JSON (also after COMMAND)" },
	{ { "help", no_argument, NULL, 'h' }, 1, NULL,
	  "show this help" },
	{ { "version", no_argument, NULL, 'V' }, 0, NULL,
	  "show tendctl's version" },
};
#define CTL_NGOPTS	(sizeof ctl_gopts / sizeof ctl_gopts[0])

/* Per-command options; flag 0 means every command accepts it. */
static const struct ctl_copt {
	struct option	 lo;
	int		 has_short;	/* lo.val is also a short option */
	int		 flag;		/* CTL_OPT_* */
	const char	*usage;		/* NULL: not shown per command */
} ctl_copts[] = {
	{ { "no-wait", no_argument, NULL, 'W' }, 0, CTL_OPT_NO_WAIT,
	  "[--no-wait]" },
	{ { "timeout", required_argument, NULL, 'D' }, 0, CTL_OPT_TIMEOUT,
	  "[--timeout S]" },
	{ { "lines", required_argument, NULL, 'n' }, 1, CTL_OPT_LINES,
	  "[-n N]" },
	{ { "follow", no_argument, NULL, 'f' }, 1, CTL_OPT_FOLLOW,
	  "[-f|--follow]" },
	{ { "stdout", no_argument, NULL, 'O' }, 0, CTL_OPT_STREAM,
	  "[--stdout|--stderr]" },
	{ { "stderr", no_argument, NULL, 'E' }, 0, CTL_OPT_STREAM, NULL },
	{ { "timestamps", no_argument, NULL, 't' }, 1, CTL_OPT_TIMESTAMPS,
	  "[-t|--timestamps]" },
	{ { "no-events", no_argument, NULL, 'e' }, 0, CTL_OPT_NO_EVENTS,
	  "[--no-events]" },
	{ { "allow-empty", no_argument, NULL, 'A' }, 0, CTL_OPT_ALLOW_EMPTY,
	  "[--allow-empty]" },
	{ { "since", required_argument, NULL, 'S' }, 0, CTL_OPT_EVENTS,
	  "[--since SEQ|DURATION|now]" },
	{ { "snapshot", no_argument, NULL, 'P' }, 0, CTL_OPT_EVENTS,
	  "[--snapshot]" },
	{ { "type", required_argument, NULL, 'T' }, 0, CTL_OPT_EVENTS,
	  "[--type TYPE]..." },
	{ { "json", no_argument, NULL, 'j' }, 0, 0, NULL },
	{ { "help", no_argument, NULL, 'h' }, 1, 0, NULL },
};
#define CTL_NCOPTS	(sizeof ctl_copts / sizeof ctl_copts[0])

/* Exit codes as documented; the values are defined once, in ctl.h. */
static const struct {
	int		 code;
	const char	*text;
} ctl_exits[] = {
	{ CTL_EXIT_OK, "success" },
	{ CTL_EXIT_FAILED, "the operation failed" },
	{ CTL_EXIT_USAGE, "usage error (bad command, option or argument)" },
	{ CTL_EXIT_NOT_RUNNING, "status: an instance listed is not running" },
	{ CTL_EXIT_NO_PROGRAM, "no program or instance matches a name" },
	{ CTL_EXIT_CONNECT, "cannot connect to tendd, or permission denied" },
};

/*
 * After COMMAND, a global option is a mistake worth explaining. name is a
 * long option of len bytes, or NULL and len a short option.
 */
static const char *
ctl_global_hint(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; i < CTL_NGOPTS; i++) {
		if (name == NULL ? ctl_gopts[i].has_short &&
		    (size_t)ctl_gopts[i].lo.val == len :
		    strlen(ctl_gopts[i].lo.name) == len &&
		    strncmp(ctl_gopts[i].lo.name, name, len) == 0)
			return " (global options go before COMMAND)";
	}
	return "";
}

/* The text of a bad option for messages: "--name" or "-x". */
static void
ctl_bad_option(int argc, char **argv, int c, char *err, size_t errlen)
{
	const char	*arg = NULL;
	size_t		 len;

	if (optind > 0 && optind - 1 < argc)
		arg = argv[optind - 1];
	if (arg != NULL && strncmp(arg, "--", 2) == 0) {
		len = strcspn(arg, "=");
		if (c == ':')
			snprintf(err, errlen, "option '%.*s' needs an argument",
			    (int)len, arg);
		else
			snprintf(err, errlen, "unknown option '%.*s'%s",
			    (int)len, arg, ctl_global_hint(arg + 2, len - 2));
	} else if (c == ':')
		snprintf(err, errlen, "option '-%c' needs an argument", optopt);
	else if (optopt > ' ' && optopt < 127)
		snprintf(err, errlen, "unknown option '-%c'%s", optopt,
		    ctl_global_hint(NULL, (size_t)optopt));
	else
		snprintf(err, errlen, "unknown option '%s'",
		    arg != NULL ? arg : "?");
}

int
ctl_parse_global(int argc, char **argv, struct ctl_global *g, int *cmdind,
    char *err, size_t errlen)
{
	struct option	 lo[CTL_NGOPTS + 1];
	char		 optstring[3 + 2 * CTL_NGOPTS + 1], *p;
	size_t		 i;
	int		 c;

	memset(g, 0, sizeof *g);
	memset(lo, 0, sizeof lo);
	p = optstring;
	*p++ = '+';	/* global options end at COMMAND */
	*p++ = ':';
	for (i = 0; i < CTL_NGOPTS; i++) {
		lo[i] = ctl_gopts[i].lo;
		if (!ctl_gopts[i].has_short)
			continue;
		*p++ = (char)lo[i].val;
		if (lo[i].has_arg == required_argument)
			*p++ = ':';
	}
	*p = '\0';

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstring, lo, NULL)) != -1) {
		switch (c) {
		case 's':
			g->socket = optarg;
			break;
		case 'c':
			g->config = optarg;
			break;
		case 'j':
			g->json = true;
			break;
		case 'h':
			g->help = true;
			break;
		case 'V':
			g->version = true;
			break;
		default:
			ctl_bad_option(argc, argv, c, err, errlen);
			return CTL_EXIT_USAGE;
		}
	}
	*cmdind = optind;
	return 0;
}

bool
ctl_wants_json(int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0)
			return true;
	}
	return false;
}

/* -n: a plain decimal from 0 to CTL_LOGS_MAX_LINES. */
static int
ctl_parse_lines(const char *s, int *lines)
{
	unsigned long	 n;
	char		*end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > CTL_LOGS_MAX_LINES)
		return -1;
	*lines = (int)n;
	return 0;
}

/* --stdout or --stderr; asking for both is a mistake, not "both". */
static int
ctl_parse_stream(struct ctl_inv *inv, const char *stream, char *err,
    size_t errlen)
{
	if (inv->log_stream != NULL && strcmp(inv->log_stream, stream) != 0) {
		snprintf(err, errlen, "%s: --stdout and --stderr cannot be "
		    "used together", inv->cmd->name);
		return CTL_EXIT_USAGE;
	}
	inv->log_stream = stream;
	return 0;
}

void
ctl_inv_init(struct ctl_inv *inv, FILE *out, FILE *err)
{
	memset(inv, 0, sizeof *inv);
	inv->wait = true;
	inv->log_events = true;
	inv->lines = CTL_LOGS_LINES;
	inv->out = out;
	inv->err = err;
}

void
ctl_inv_clear(struct ctl_inv *inv)
{
	json_decref(inv->args);
	inv->args = NULL;
	output_table_free(inv->table);
	inv->table = NULL;
	json_decref(inv->items);
	inv->items = NULL;
	json_decref(inv->shown);
	inv->shown = NULL;
	free(inv->types);
	inv->types = NULL;
	inv->ntypes = 0;
}

int
ctl_parse(struct ctl_inv *inv, int argc, char **argv, char *err,
    size_t errlen)
{
	const struct ctl_cmd	*cmd;
	struct option		 lo[CTL_NCOPTS + 1];
	char			 optstring[1 + 2 * CTL_NCOPTS + 1], *p;
	const char		*hint;
	size_t			 i, n = 0;
	int			 c;

	if (argc < 1 || argv[0] == NULL) {
		snprintf(err, errlen, "no command given");
		return CTL_EXIT_USAGE;
	}
	if ((cmd = ctl_cmd_find(argv[0])) == NULL) {
		if ((hint = ctl_cmd_suggest(argv[0])) != NULL)
			snprintf(err, errlen, "unknown command '%s' (did you "
			    "mean '%s'?)", argv[0], hint);
		else
			snprintf(err, errlen, "unknown command '%s'", argv[0]);
		return CTL_EXIT_USAGE;
	}
	inv->cmd = cmd;

	memset(lo, 0, sizeof lo);
	p = optstring;
	*p++ = ':';
	for (i = 0; i < CTL_NCOPTS; i++) {
		if (ctl_copts[i].flag != 0 &&
		    (cmd->opts & ctl_copts[i].flag) == 0)
			continue;
		lo[n++] = ctl_copts[i].lo;
		if (!ctl_copts[i].has_short)
			continue;
		*p++ = (char)ctl_copts[i].lo.val;
		if (ctl_copts[i].lo.has_arg == required_argument)
			*p++ = ':';
	}
	*p = '\0';
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstring, lo, NULL)) != -1) {
		switch (c) {
		case 'W':
			inv->wait = false;
			break;
		case 'n':
			if (ctl_parse_lines(optarg, &inv->lines) != 0) {
				snprintf(err, errlen, "bad line count '%s' (use "
				    "0 to %d)", optarg, CTL_LOGS_MAX_LINES);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'f':
			inv->follow = true;
			break;
		case 'O':
		case 'E':
			if (ctl_parse_stream(inv, c == 'O' ?
			    WIRE_STREAM_STDOUT : WIRE_STREAM_STDERR, err,
			    errlen) != 0)
				return CTL_EXIT_USAGE;
			break;
		case 'A':
			inv->allow_empty = true;
			break;
		case 'S':
			inv->since = optarg;
			break;
		case 'P':
			inv->snapshot = true;
			break;
		case 'T':
			inv->types = xreallocarray(inv->types, inv->ntypes + 1,
			    sizeof *inv->types);
			inv->types[inv->ntypes++] = optarg;
			break;
		case 't':
			inv->log_times = true;
			break;
		case 'e':
			inv->log_events = false;
			break;
		case 'D':
			if (util_parse_duration(optarg, &inv->timeout) != 0) {
				snprintf(err, errlen, "bad timeout '%s' (use "
				    "seconds or a duration like 1m30s)",
				    optarg);
				return CTL_EXIT_USAGE;
			}
			inv->has_timeout = true;
			break;
		case 'j':
			inv->json = true;
			break;
		case 'h':
			inv->help = true;
			break;
		default:
			ctl_bad_option(argc, argv, c, err, errlen);
			return CTL_EXIT_USAGE;
		}
	}
	inv->argc = argc - optind;
	inv->argv = argv + optind;
	if (inv->help)
		return 0;

	if (inv->argc < cmd->min_args) {
		snprintf(err, errlen, "%s: missing %s", cmd->name, cmd->args);
		return CTL_EXIT_USAGE;
	}
	if (cmd->max_args >= 0 && inv->argc > cmd->max_args) {
		snprintf(err, errlen, "%s: too many arguments", cmd->name);
		return CTL_EXIT_USAGE;
	}
	if (inv->has_timeout) {
		inv->has_deadline = true;
		inv->deadline = inv->timeout;
	}
	json_decref(inv->args);
	inv->args = NULL;
	if (cmd->build != NULL && cmd->build(inv, err, errlen) != 0) {
		json_decref(inv->args);
		inv->args = NULL;
		return CTL_EXIT_USAGE;
	}
	return 0;
}

json_t *
ctl_request(const struct ctl_inv *inv)
{
	if (inv->cmd == NULL || inv->cmd->proto_cmd == NULL)
		return NULL;
	return proto_request_new(CTL_REQUEST_ID, inv->cmd->proto_cmd,
	    inv->args != NULL ? json_incref(inv->args) : NULL);
}

void
ctl_cmd_usage(FILE *f, const struct ctl_cmd *cmd, const char *prefix)
{
	size_t	 i;

	fprintf(f, "%s%s", prefix, cmd->name);
	for (i = 0; i < CTL_NCOPTS; i++) {
		if (ctl_copts[i].usage != NULL &&
		    (cmd->opts & ctl_copts[i].flag))
			fprintf(f, " %s", ctl_copts[i].usage);
	}
	if (*cmd->args != '\0')
		fprintf(f, " %s", cmd->args);
	fputc('\n', f);
}

void
ctl_cmd_help(FILE *f, const struct ctl_cmd *cmd)
{
	ctl_cmd_usage(f, cmd, "usage: tendctl ");
	fprintf(f, "%s\n", cmd->help);
	if (cmd->details != NULL)
		fprintf(f, "\n%s", cmd->details);
}

void
ctl_usage(FILE *f)
{
	const struct ctl_cmd	*cmd;
	const struct option	*lo;
	char			 left[64];
	size_t			 i;

	fprintf(f, "usage: tendctl [-s SOCKET | -c CONFIG] [--json] "
	    "COMMAND [ARGS]\n");
	fprintf(f, "       tendctl help [COMMAND] | --help | --version\n");
	fprintf(f, "\ncommands:\n");
	for (i = 0; (cmd = ctl_cmd_at(i)) != NULL; i++) {
		ctl_cmd_usage(f, cmd, "  ");
		fprintf(f, "      %s\n", cmd->help);
	}
	fprintf(f, "\noptions:\n");
	for (i = 0; i < CTL_NGOPTS; i++) {
		lo = &ctl_gopts[i].lo;
		snprintf(left, sizeof left, "%c%c%c --%s%s%s",
		    ctl_gopts[i].has_short ? '-' : ' ',
		    ctl_gopts[i].has_short ? lo->val : ' ',
		    ctl_gopts[i].has_short ? ',' : ' ', lo->name,
		    ctl_gopts[i].arg != NULL ? " " : "",
		    ctl_gopts[i].arg != NULL ? ctl_gopts[i].arg : "");
		fprintf(f, "  %-22s %s\n", left, ctl_gopts[i].help);
	}
	fprintf(f, "\nThe socket is SOCKET, else the one CONFIG names, else "
	    "$TEND_SOCKET, else\ntendd's default: /run/tend/tend.sock for "
	    "root, else\n$XDG_RUNTIME_DIR/tend/tend.sock (or, when that does "
	    "not exist,\n/run/tend/tend.sock). S is in seconds or a duration "
	    "like 1m30s.\n");
	fprintf(f, "\nexit status:\n");
	for (i = 0; i < sizeof ctl_exits / sizeof ctl_exits[0]; i++)
		fprintf(f, "  %d  %s\n", ctl_exits[i].code, ctl_exits[i].text);
}
