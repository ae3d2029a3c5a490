/*
 * wire.h: the names in the control protocol's payloads (docs/protocol.md),
 * one definition for tendd and tendctl: the commands, their argument and
 * result keys, the instance object's keys and the instance state names.
 * proto.h has the framing and the error codes.
 *
 * A new command is a WIRE_CMD_* name and its keys here, then a row in
 * tendd's table (daemon/cmd.c) and one in tendctl's (ctl/cmds.c);
 * tests/unit/test_wire.c checks that the two tables agree.
 */
#ifndef TEND_WIRE_H
#define TEND_WIRE_H

/* Commands: the "cmd" of a request. */
#define WIRE_CMD_VERSION	"version"
#define WIRE_CMD_STATUS		"status"
#define WIRE_CMD_PS		"ps"
#define WIRE_CMD_WAIT		"wait"
#define WIRE_CMD_LOGS		"logs"
#define WIRE_CMD_EVENTS		"events"
#define WIRE_CMD_START		"start"
#define WIRE_CMD_STOP		"stop"
#define WIRE_CMD_RESTART	"restart"
#define WIRE_CMD_SIGNAL		"signal"
#define WIRE_CMD_RESET		"reset"
#define WIRE_CMD_RELOAD		"reload"
#define WIRE_CMD_LOGROTATE	"logrotate"
#define WIRE_CMD_SHUTDOWN	"shutdown"

/*
 * Keys, one name for each string whatever objects it appears in; where
 * it appears is said once, at its first use below.
 */
/* Arguments */
#define WIRE_K_TARGETS		"targets"	/* start, stop, restart,
						   signal, reset, wait, logs */
#define WIRE_K_PATTERNS		"patterns"	/* status, ps; and the
						   no_such_program error */
#define WIRE_K_FIELDS		"fields"	/* status: also in its result */
#define WIRE_K_STREAM		"stream"	/* status, ps, wait: a boolean;
						   logs: WIRE_STREAM_*; and a
						   log line's */
#define WIRE_K_WAIT		"wait"		/* start, stop, restart */
#define WIRE_K_TIMEOUT		"timeout"	/* start, stop, restart, wait */
#define WIRE_K_LINES		"lines"		/* logs: a count; and its
						   result's line objects */
#define WIRE_K_FOLLOW		"follow"	/* logs */
#define WIRE_K_EVENTS		"events"	/* logs with follow: a
						   boolean */
#define WIRE_K_SIGNAL		"signal"	/* signal; and last_exit's */
#define WIRE_K_ALLOW_EMPTY	"allow_empty"	/* reload */

/* Results and events */
#define WIRE_K_RESULTS		"results"	/* per-instance results: start,
						   stop, restart, signal,
						   reset, wait; and the errors
						   timeout, not_saved */
#define WIRE_K_INSTANCES	"instances"	/* status's objects; logs:
						   the names */
#define WIRE_K_ROWS		"rows"		/* status with fields */
#define WIRE_K_PROCESSES	"processes"	/* ps */
#define WIRE_K_TYPE		"type"		/* every event */
#define WIRE_K_VERSION		"version"	/* version */
#define WIRE_K_PROTOCOL		"protocol"
#define WIRE_K_REOPENED		"reopened"	/* logrotate */
#define WIRE_K_CHANGES		"changes"	/* reload */
#define WIRE_K_NOTES		"notes"
#define WIRE_K_ACTION		"action"	/* a change's */
#define WIRE_K_KEYS		"keys"
#define WIRE_K_ERRORS		"errors"	/* the config_invalid error */
#define WIRE_K_COUNT		"count"		/* logs' missed event */
#define WIRE_K_TEXT		"text"		/* a log line's */
#define WIRE_K_TIME		"time"
#define WIRE_K_PARTIAL		"partial"

/* A per-instance result: name, ok, state, error, and for wait last_exit. */
#define WIRE_K_NAME		"name"		/* also an instance's and a
						   process's */
#define WIRE_K_OK		"ok"
#define WIRE_K_STATE		"state"
#define WIRE_K_ERROR		"error"

/* The other keys of the instance object (WIRE_F_* below). */
#define WIRE_K_PROGRAM		"program"	/* also a process's, a log
						   line's and a change's */
#define WIRE_K_INSTANCE		"instance"	/* also a process's, a log
						   line's */
#define WIRE_K_WANT		"want"
#define WIRE_K_PID		"pid"		/* also a process's and
						   version's */
#define WIRE_K_PPID		"ppid"		/* also a process's */
#define WIRE_K_UPTIME		"uptime"
#define WIRE_K_RESTARTS		"restarts"
#define WIRE_K_LAST_EXIT	"last_exit"
#define WIRE_K_DAEMON		"daemon"
#define WIRE_K_LOG_DROPPED	"log_dropped"
#define WIRE_K_LOG_ERROR	"log_error"
#define WIRE_K_DESCENDANTS	"descendants"
#define WIRE_K_ADOPTED		"adopted"	/* also a process's */
#define WIRE_K_OPERATOR		"operator"
#define WIRE_K_UNSAVED		"unsaved"
#define WIRE_K_ESSENTIAL	"essential"
#define WIRE_K_TRACKING		"tracking"
#define WIRE_K_CGROUP		"cgroup"

/* last_exit: code, or signal and signal_name, or unknown; and at. */
#define WIRE_K_CODE		"code"
#define WIRE_K_SIGNAL_NAME	"signal_name"
#define WIRE_K_UNKNOWN		"unknown"
#define WIRE_K_AT		"at"

/* The other keys of a process object (ps). */
#define WIRE_K_COMMAND		"command"
#define WIRE_K_MAIN		"main"
#define WIRE_K_DEPTH		"depth"
#define WIRE_K_ROLE		"role"

/* Event types: parts of status (WIRE_K_INSTANCES, WIRE_K_ROWS) and ps
   (WIRE_K_PROCESSES), and these of logs with follow. */
#define WIRE_EV_START		"start"
#define WIRE_EV_LINE		"line"
#define WIRE_EV_MISSED		"missed"
#define WIRE_EV_EVENT		"event"		/* a life-cycle line: with
						   WIRE_K_EVENT, the event
						   object */
#define WIRE_K_EVENT		"event"
/* wait with stream: a target's result as it ends. */
#define WIRE_EV_ENDED		"ended"

/*
 * events: its arguments, its reply and its own events; the change
 * stream's event objects are made by daemon/events.c (docs/protocol.md,
 * "Events").
 */
#define WIRE_K_SINCE		"since"		/* a sequence number */
#define WIRE_K_SINCE_TIME	"since_time"
#define WIRE_K_SINCE_NOW	"since_now"
#define WIRE_K_SNAPSHOT		"snapshot"
#define WIRE_K_TYPES		"types"
#define WIRE_K_LAST		"last"		/* the reply's */
#define WIRE_K_SEQ		"seq"		/* every change's; a
						   snapshot's */
#define WIRE_K_FROM		"from"		/* a gap's; a change's */
#define WIRE_K_TO		"to"		/* a gap's */
#define WIRE_K_MORE		"more"		/* a snapshot's */
#define WIRE_K_TRUNCATED	"truncated"	/* a change's */
#define WIRE_EV_GAP		"gap"
#define WIRE_EV_SNAPSHOT	"snapshot"

/* Values */
#define WIRE_WANT_UP		"up"
#define WIRE_WANT_DOWN		"down"
#define WIRE_STREAM_STDOUT	"stdout"
#define WIRE_STREAM_STDERR	"stderr"

/*
 * The keys of the instance object, in the order tendd writes them: status
 * sends them all, or the ones named in "fields", as a row in that order.
 */
enum wire_field {
	WIRE_F_NAME,
	WIRE_F_PROGRAM,
	WIRE_F_INSTANCE,
	WIRE_F_STATE,
	WIRE_F_WANT,
	WIRE_F_PID,
	WIRE_F_PPID,
	WIRE_F_UPTIME,
	WIRE_F_RESTARTS,
	WIRE_F_LAST_EXIT,
	WIRE_F_DAEMON,
	WIRE_F_ERROR,
	WIRE_F_LOG_DROPPED,
	WIRE_F_LOG_ERROR,
	WIRE_F_DESCENDANTS,
	WIRE_F_ADOPTED,
	WIRE_F_OPERATOR,
	WIRE_F_UNSAVED,
	WIRE_F_ESSENTIAL,
	WIRE_F_TRACKING,
	WIRE_F_CGROUP,
	WIRE_F_N
};

/*
 * The states of an instance, in the order of daemon/svc.h's enum
 * svc_state (svc.c checks it when it compiles).
 */
enum wire_state {
	WIRE_S_STOPPED,
	WIRE_S_STARTING,
	WIRE_S_RUNNING,
	WIRE_S_BACKOFF,
	WIRE_S_STOPPING,
	WIRE_S_EXITED,
	WIRE_S_FAILED,
	WIRE_S_N
};

/* The key of a field, or NULL past the end. */
const char	*wire_field_key(enum wire_field);
/* The field of a key, or -1 when it is none. */
int		 wire_field_find(const char *);
/* The name of a state, or NULL past the end. */
const char	*wire_state_name(enum wire_state);
/* The state of a name, or -1 when it is none. */
int		 wire_state_find(const char *);

#endif
