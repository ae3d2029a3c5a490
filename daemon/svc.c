/*
 * svc.c: the instance state machine. One grid, actions[state][event], says
 * what every event does in every state; svc_set_state() is the only place
 * the state changes, and it drops the timer the old state armed.
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svc.h"
#include "util.h"
#include "wire.h"

typedef void svc_action(struct svc *, int);

/* The names users see are the wire's (common/wire.h), in this order. */
_Static_assert(SVC_NSTATES == (int)WIRE_S_N &&
    SVC_STOPPED == (int)WIRE_S_STOPPED &&
    SVC_STARTING == (int)WIRE_S_STARTING &&
    SVC_RUNNING == (int)WIRE_S_RUNNING &&
    SVC_BACKOFF == (int)WIRE_S_BACKOFF &&
    SVC_STOPPING == (int)WIRE_S_STOPPING &&
    SVC_EXITED == (int)WIRE_S_EXITED &&
    SVC_FAILED == (int)WIRE_S_FAILED,
    "enum svc_state and enum wire_state differ");

const char *
svc_state_name(enum svc_state s)
{
	return s < SVC_NSTATES ? wire_state_name((enum wire_state)s) :
	    "unknown";
}

struct svc *
svc_new(const struct svc_ops *ops, const struct conf_program *cp, void *owner,
    unsigned index, const char *name)
{
	struct svc	*s = xmalloc(sizeof *s);

	svc_init(s, ops, cp, owner, index, name);
	return s;
}

void
svc_init(struct svc *s, const struct svc_ops *ops,
    const struct conf_program *cp, void *owner, unsigned index,
    const char *name)
{
	memset(s, 0, sizeof *s);
	s->ops = ops;
	s->cp = cp;
	s->owner = owner;
	s->index = index;
	s->name = xstrdup(name);
	s->state = SVC_STOPPED;
	s->since = ops->now();
	s->delay = cp->restart_delay;
	s->cg_procs = -1;
}

void
svc_free(struct svc *s)
{
	if (s == NULL)
		return;
	svc_clear(s);
	free(s);
}

void
svc_clear(struct svc *s)
{
	free(s->name);
	free(s->error);
	s->name = s->error = NULL;
}

void
svc_rename(struct svc *s, const char *name)
{
	free(s->name);
	s->name = xstrdup(name);
}

bool
svc_is_down_state(enum svc_state st)
{
	return st == SVC_STOPPED || st == SVC_EXITED || st == SVC_FAILED;
}

bool
svc_is_down(const struct svc *s)
{
	return svc_is_down_state(s->state);
}

bool
svc_exit_success(const struct conf_program *cp, int status)
{
	size_t	 i;

	if (!WIFEXITED(status))
		return false;
	for (i = 0; i < cp->nsuccess_codes; i++) {
		if (cp->success_codes[i] == WEXITSTATUS(status))
			return true;
	}
	return false;
}

int
svc_exit_code(const struct svc *s)
{
	int	 st = s->last_exit.status;

	if (!s->last_exit.valid)
		return 127;		/* it could not be started */
	if (st == SVC_STATUS_UNKNOWN)
		return 1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

bool
svc_ended_well(const struct svc *s)
{
	if (s->state == SVC_STOPPED)
		return true;
	return s->state == SVC_EXITED && s->last_exit.valid &&
	    svc_exit_success(s->cp, s->last_exit.status);
}

/* kill_mode = "process": what the main process leaves is the program's
   business (sshd's sessions): never killed, never a second generation. */
static bool
svc_keeps_rest(const struct svc *s)
{
	return s->cp->kill_mode == CONF_KILL_PROCESS;
}

static void
svc_set_error(struct svc *s, const char *msg)
{
	free(s->error);
	s->error = msg != NULL ? xstrdup(msg) : NULL;
}

void
svc_note(struct svc *s, const char *msg)
{
	svc_set_error(s, msg);
}

static void
svc_set_state(struct svc *s, enum svc_state state)
{
	enum svc_state	 old = s->state;

	s->ops->timer_cancel(s);
	s->state = state;
	s->since = s->ops->now();
	if (old != state)
		s->ops->changed(s, old, NULL);
}

/* Tell of a process that started, ended or was taken over. */
static void
svc_announce(struct svc *s, int kind, pid_t pid, int status, enum svc_next next)
{
	struct svc_change	 ch;
	uint64_t		 now = s->ops->now();

	memset(&ch, 0, sizeof ch);
	ch.kind = kind;
	ch.pid = pid;
	ch.status = status;
	ch.ran = kind == SVC_CH_EXITED && now > s->started ?
	    now - s->started : 0;
	ch.next = next;
	ch.delay = next == SVC_NEXT_BACKOFF ? s->delay : 0;
	ch.from = -1;
	ch.launcher = s->launcher;
	s->ops->changed(s, s->state, &ch);
}

/* A process started, and the instance is starting (or running, with
   start_secs 0): one change, told with the spawn (the change of state is
   no event of its own). */
static void
svc_spawned_into(struct svc *s, pid_t pid, enum svc_state state)
{
	struct svc_change	 ch;
	enum svc_state		 old = s->state;

	s->ops->timer_cancel(s);
	s->state = state;
	s->since = s->ops->now();
	memset(&ch, 0, sizeof ch);
	ch.kind = SVC_CH_SPAWNED;
	ch.pid = pid;
	ch.from = old != state ? (int)old : -1;
	ch.launcher = s->launcher;
	s->ops->changed(s, s->state, &ch);
}

/* What a failed start about to be counted leads to (svc_start_failed). */
static enum svc_next
svc_fail_next(const struct svc *s)
{
	if (s->cp->restart == CONF_RESTART_NEVER ||
	    s->fails + 1 > s->cp->start_limit)
		return SVC_NEXT_GIVE_UP;
	return SVC_NEXT_BACKOFF;
}

static void
svc_enter_failed(struct svc *s)
{
	svc_set_state(s, SVC_FAILED);
	if (s->cp->failed_retry != 0 && s->want_up)
		s->ops->timer_set(s, s->cp->failed_retry);
}

/* Wait the delay before the next try, doubling it up to its cap. */
static void
svc_backoff(struct svc *s)
{
	uint64_t	 delay = s->delay;

	/* s->delay is the wait while the change is told (changed). */
	svc_set_state(s, SVC_BACKOFF);
	s->delay = delay * 2 > s->cp->restart_delay_max ?
	    s->cp->restart_delay_max : delay * 2;
	s->ops->timer_set(s, delay);
}

/* A start failed: back off and try again, or give up past start_limit. */
static void
svc_enter_backoff(struct svc *s)
{
	if (s->fails > s->cp->start_limit) {
		if (s->error == NULL) {
			char	 buf[128];

			snprintf(buf, sizeof buf, "%u failed starts in a row",
			    s->fails);
			svc_set_error(s, buf);
		}
		svc_enter_failed(s);
		return;
	}
	svc_backoff(s);
}

/* Count a failed start: back off, or fail at once when never to restart. */
static void
svc_start_failed(struct svc *s, const char *msg)
{
	/* Whatever the failed attempt left goes now, not at the next. */
	if (!svc_keeps_rest(s))
		s->ops->kill_rest(s);
	if (msg != NULL)
		svc_set_error(s, msg);
	s->fails++;
	if (s->cp->restart == CONF_RESTART_NEVER)
		svc_enter_failed(s);
	else
		svc_enter_backoff(s);
}

static void
svc_spawn(struct svc *s)
{
	char		 err[512];
	enum svc_spawn_fail fail = SVC_SPAWN_RETRY;
	pid_t		 pid;

	/* What outlived the last run goes first: never two generations.
	   Before the first start too: a predecessor's last run may have
	   left something (ops->busy knows where it can be found). */
	if ((s->sid != 0 || s->spawns == 0) && !svc_keeps_rest(s) &&
	    s->ops->busy(s))
		s->ops->kill_rest(s);
	s->spawns++;
	s->adopted = false;
	s->timed_out = false;
	s->rest_kills = 0;
	err[0] = '\0';
	pid = s->ops->spawn(s, err, sizeof err, &fail);
	if (pid <= 0) {
		svc_set_error(s, err[0] != '\0' ? err : "spawn failed");
		if (fail == SVC_SPAWN_RESOURCES) {
			/* Not the program's doing: tried again and again,
			   never failed for it. */
			svc_backoff(s);
			return;
		}
		s->fails++;
		if (fail == SVC_SPAWN_PERMANENT)
			svc_enter_failed(s);
		else
			svc_enter_backoff(s);
		return;
	}
	s->pid = pid;
	s->sid = pid;
	s->started = s->ops->now();
	svc_set_error(s, NULL);
	s->launcher = s->cp->type == CONF_TYPE_FORKING;
	if (s->cp->type != CONF_TYPE_FORKING && s->cp->start_secs == 0) {
		/* Up at once: running, told with the spawn. */
		s->fails = 0;
		s->delay = s->cp->restart_delay;
		svc_spawned_into(s, pid, SVC_RUNNING);
		return;
	}
	/* Starting: running after start_secs, or (forking) once the
	   launcher is gone and the main process is known, within
	   start_timeout. */
	svc_spawned_into(s, pid, SVC_STARTING);
	s->ops->timer_set(s, s->cp->type == CONF_TYPE_FORKING ?
	    s->cp->start_timeout : s->cp->start_secs);
}

/* Record a reaped main process. */
static void
svc_reaped(struct svc *s, int status)
{
	s->pid = 0;
	s->last_exit.valid = true;
	s->last_exit.status = status;
	s->last_exit.wall = util_now_wall();
}

static bool
svc_should_restart(const struct svc *s, int status)
{
	/* An unseen exit (adopted process) counts as a failure. */
	switch (s->cp->restart) {
	case CONF_RESTART_ALWAYS:
		return true;
	case CONF_RESTART_NEVER:
		return false;
	case CONF_RESTART_ON_FAILURE:
		break;
	}
	return !svc_exit_success(s->cp, status);
}

/* Actions. Each is named for what it does; the grid says when. */

static void
a_ignore(struct svc *s, int arg)
{
}

static void
a_want_up(struct svc *s, int arg)
{
	s->want_up = true;
}

static void
a_want_down(struct svc *s, int arg)
{
	s->want_up = false;
}

/* Operator start from a resting state: a fresh series of attempts. */
static void
a_start(struct svc *s, int arg)
{
	s->want_up = true;
	s->fails = 0;
	s->delay = s->cp->restart_delay;
	svc_spawn(s);
}

/* The stop is complete: rest, or start again if wanted up. */
static void
svc_stopped(struct svc *s)
{
	if (s->want_up) {
		s->fails = 0;
		s->delay = s->cp->restart_delay;
		svc_spawn(s);
		return;
	}
	svc_set_state(s, SVC_STOPPED);
}

/* No main process: what is left of the instance gets SIGKILL, and the
   stop ends when nothing is left (SVC_EV_EMPTY). */
static void
svc_stop_rest(struct svc *s)
{
	if (svc_keeps_rest(s) || !s->ops->busy(s)) {
		svc_stopped(s);
		return;
	}
	s->rest_kills = 1;
	s->ops->kill_rest(s);
	svc_set_state(s, SVC_STOPPING);
	s->ops->timer_set(s, s->cp->stop_timeout);
}

static void
a_stop_process(struct svc *s, int arg)
{
	if (s->pid == 0) {
		/* A forking program between launcher and main process. */
		s->launcher = false;
		svc_stop_rest(s);
		return;
	}
	s->ops->kill(s, s->pid, s->cp->stop_signal,
	    s->cp->kill_mode == CONF_KILL_GROUP);
	svc_set_state(s, SVC_STOPPING);
	s->ops->timer_set(s, s->cp->stop_timeout);
}

static void
a_stop(struct svc *s, int arg)
{
	s->want_up = false;
	a_stop_process(s, arg);
}

static void
a_restart(struct svc *s, int arg)
{
	s->want_up = true;
	a_stop_process(s, arg);
}

static void
a_stop_resting(struct svc *s, int arg)
{
	s->want_up = false;
	if (s->sid != 0) {
		svc_stop_rest(s);
		return;
	}
	svc_set_state(s, SVC_STOPPED);
}

/* A forking program's launcher is gone: take the main process. */
static void
svc_find_main(struct svc *s)
{
	char	 err[512];
	pid_t	 pid;

	err[0] = '\0';
	pid = s->ops->find_main(s, err, sizeof err);
	if (pid == 0)
		return;
	if (pid < 0) {
		svc_start_failed(s, err[0] != '\0' ? err :
		    "no main process found");
		return;
	}
	s->pid = pid;
	s->fails = 0;
	s->delay = s->cp->restart_delay;
	svc_set_error(s, NULL);
	svc_set_state(s, SVC_RUNNING);
}

static void
a_started(struct svc *s, int arg)
{
	s->fails = 0;
	s->delay = s->cp->restart_delay;
	svc_set_state(s, SVC_RUNNING);
}

/* STARTING + READY: the program says it is ready. A forking program is
   ready once its main process is known (a_look). */
static void
a_ready(struct svc *s, int arg)
{
	if (s->cp->type != CONF_TYPE_FORKING)
		a_started(s, arg);
}

/* STARTING + LOOK: a forking program may have written its pidfile. */
static void
a_look(struct svc *s, int arg)
{
	if (s->cp->type == CONF_TYPE_FORKING && !s->launcher && s->pid == 0 &&
	    !s->timed_out)
		svc_find_main(s);
}

/* RUNNING + MAIN: the main process ended and its pidfile names another
   process of the instance (a daemon that re-executed itself): that one
   is the main process now, as systemd does with PIDFile=. */
static void
a_new_main(struct svc *s, int pid)
{
	pid_t	 old = s->pid;

	if (pid <= 0 || pid == old)
		return;
	s->pid = pid;
	svc_announce(s, SVC_CH_MAIN, pid, old, SVC_NEXT_NONE);
}

/* STARTING + TIMER: start_secs passed, or a forking program's
   start_timeout. */
static void
a_starting_timer(struct svc *s, int arg)
{
	char	 buf[640];

	if (s->cp->type != CONF_TYPE_FORKING) {
		a_started(s, arg);
		return;
	}
	/* With the last reason the pidfile was refused (svc_note). */
	snprintf(buf, sizeof buf, "%s within start_timeout%s%s",
	    s->launcher ? "the launcher did not exit" :
	    s->cp->pidfile != NULL ? "no valid pidfile" :
	    "no main process", !s->launcher && s->error != NULL ? ": " : "",
	    !s->launcher && s->error != NULL ? s->error : "");
	svc_set_error(s, buf);
	s->timed_out = true;
	if (s->launcher) {
		/* Its exit, after this, counts the failed start. */
		s->ops->kill(s, s->pid, SIGKILL, true);
		return;
	}
	svc_start_failed(s, NULL);
}

/* The launcher of a forking program exited. */
static void
a_launcher_exited(struct svc *s, int status)
{
	char	 buf[128];
	pid_t	 pid = s->pid;
	bool	 ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	svc_announce(s, SVC_CH_EXITED, pid, status, ok && !s->timed_out ?
	    SVC_NEXT_WAIT : svc_fail_next(s));
	s->launcher = false;
	s->pid = 0;
	if (s->timed_out) {
		svc_start_failed(s, NULL);
		return;
	}
	if (ok) {
		svc_find_main(s);
		return;
	}
	svc_reaped(s, status);
	if (WIFEXITED(status))
		snprintf(buf, sizeof buf, "the launcher exited with code %d",
		    WEXITSTATUS(status));
	else
		snprintf(buf, sizeof buf, "the launcher was killed by "
		    "signal %s", util_signal_name(WTERMSIG(status)));
	svc_start_failed(s, buf);
}

static void
a_exited_starting(struct svc *s, int status)
{
	pid_t	 pid = s->pid;

	svc_reaped(s, status);
	if (!svc_should_restart(s, status)) {
		svc_announce(s, SVC_CH_EXITED, pid, status, SVC_NEXT_EXITED);
		svc_set_state(s, SVC_EXITED);
		return;
	}
	s->fails++;
	svc_announce(s, SVC_CH_EXITED, pid, status,
	    s->fails > s->cp->start_limit ? SVC_NEXT_GIVE_UP :
	    SVC_NEXT_BACKOFF);
	svc_enter_backoff(s);
}

static void
a_exited_running(struct svc *s, int status)
{
	pid_t	 pid = s->pid;

	svc_reaped(s, status);
	if (!svc_should_restart(s, status)) {
		svc_announce(s, SVC_CH_EXITED, pid, status, SVC_NEXT_EXITED);
		svc_set_state(s, SVC_EXITED);
		return;
	}
	if (s->delay == 0) {
		svc_announce(s, SVC_CH_EXITED, pid, status, SVC_NEXT_RESTART);
		s->restarts++;
		svc_spawn(s);
		return;
	}
	svc_announce(s, SVC_CH_EXITED, pid, status,
	    s->fails > s->cp->start_limit ? SVC_NEXT_GIVE_UP :
	    SVC_NEXT_BACKOFF);
	svc_enter_backoff(s);
}

static void
a_exited_stopping(struct svc *s, int status)
{
	svc_announce(s, SVC_CH_EXITED, s->pid, status, s->want_up ?
	    SVC_NEXT_RESTART : SVC_NEXT_STOPPED);
	if (s->launcher)
		s->launcher = false;
	svc_reaped(s, status);
	/* The main process is gone; nothing of the instance outlives it
	   (but with kill_mode "process"). */
	svc_stop_rest(s);
}

static void
a_kill(struct svc *s, int arg)
{
	/* To whom stop_signal went (a launcher: all it started). */
	if (s->pid > 0) {
		s->ops->kill(s, s->pid, SIGKILL, s->launcher ||
		    s->cp->kill_mode == CONF_KILL_GROUP);
		return;
	}
	/* Only what outlived the main process: once more, then give up
	   (a process in uninterruptible sleep can outlast any SIGKILL). */
	if (s->rest_kills++ < 3 && s->ops->kill_rest(s) > 0) {
		s->ops->timer_set(s, s->cp->stop_timeout);
		return;
	}
	svc_stopped(s);
}

/* Nothing of the instance is left. */
static void
a_empty(struct svc *s, int arg)
{
	if (s->pid == 0)
		svc_stopped(s);
}

static void
a_retry(struct svc *s, int arg)
{
	s->restarts++;
	svc_spawn(s);
}

static void
a_retry_failed(struct svc *s, int arg)
{
	s->fails = 0;
	s->delay = s->cp->restart_delay;
	s->restarts++;
	svc_spawn(s);
}

static void
a_restart_now(struct svc *s, int arg)
{
	s->want_up = true;
	s->fails = 0;
	s->delay = s->cp->restart_delay;
	svc_spawn(s);
}

static void
a_reset(struct svc *s, int arg)
{
	s->fails = 0;
	s->delay = s->cp->restart_delay;
	svc_set_error(s, NULL);
}

static void
a_reset_failed(struct svc *s, int arg)
{
	a_reset(s, arg);
	if (s->want_up)
		svc_spawn(s);
	else
		svc_set_state(s, SVC_STOPPED);
}

/* Unexpected: an exit without a process; keep the record, change nothing. */
static void
a_stray_exit(struct svc *s, int status)
{
}

/* STOPPED + ADOPT: a process a crashed tendd left running is this
   instance's main process (arg), started adopt_age usec ago. */
static void
a_adopt(struct svc *s, int pid)
{
	uint64_t	 now = s->ops->now();

	s->pid = pid;
	s->sid = pid;
	s->adopted = true;
	s->want_up = true;
	/* Its uptime is the process's, not the adoption's. */
	s->started = now > s->adopt_age ? now - s->adopt_age : 0;
	svc_announce(s, SVC_CH_ADOPTED, pid, 0, SVC_NEXT_NONE);
	svc_set_state(s, SVC_RUNNING);
}

static svc_action *const actions[SVC_NSTATES][SVC_NEVENTS] = {
	[SVC_STOPPED] = {
		[SVC_EV_START] = a_start,
		[SVC_EV_STOP] = a_want_down,
		[SVC_EV_RESTART] = a_start,
		[SVC_EV_EXITED] = a_stray_exit,
		[SVC_EV_LAUNCHER_EXITED] = a_stray_exit,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_LOOK] = a_ignore,
		[SVC_EV_MAIN] = a_ignore,
		[SVC_EV_TIMER] = a_ignore,
		[SVC_EV_RESET] = a_reset,
		[SVC_EV_EMPTY] = a_ignore,
		[SVC_EV_ADOPT] = a_adopt,
	},
	[SVC_STARTING] = {
		[SVC_EV_START] = a_want_up,
		[SVC_EV_STOP] = a_stop,
		[SVC_EV_RESTART] = a_restart,
		[SVC_EV_EXITED] = a_exited_starting,
		[SVC_EV_LAUNCHER_EXITED] = a_launcher_exited,
		[SVC_EV_READY] = a_ready,
		[SVC_EV_LOOK] = a_look,
		[SVC_EV_MAIN] = a_ignore,
		[SVC_EV_TIMER] = a_starting_timer,
		[SVC_EV_RESET] = a_reset,
		[SVC_EV_EMPTY] = a_ignore,
		[SVC_EV_ADOPT] = a_ignore,
	},
	[SVC_RUNNING] = {
		[SVC_EV_START] = a_want_up,
		[SVC_EV_STOP] = a_stop,
		[SVC_EV_RESTART] = a_restart,
		[SVC_EV_EXITED] = a_exited_running,
		[SVC_EV_LAUNCHER_EXITED] = a_stray_exit,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_LOOK] = a_ignore,
		[SVC_EV_MAIN] = a_new_main,
		[SVC_EV_TIMER] = a_ignore,
		[SVC_EV_RESET] = a_reset,
		[SVC_EV_EMPTY] = a_ignore,
		[SVC_EV_ADOPT] = a_ignore,
	},
	[SVC_BACKOFF] = {
		[SVC_EV_START] = a_want_up,
		[SVC_EV_STOP] = a_stop_resting,
		[SVC_EV_RESTART] = a_restart_now,
		[SVC_EV_EXITED] = a_stray_exit,
		[SVC_EV_LAUNCHER_EXITED] = a_stray_exit,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_LOOK] = a_ignore,
		[SVC_EV_MAIN] = a_ignore,
		[SVC_EV_TIMER] = a_retry,
		[SVC_EV_RESET] = a_reset,
		[SVC_EV_EMPTY] = a_ignore,
		[SVC_EV_ADOPT] = a_ignore,
	},
	[SVC_STOPPING] = {
		[SVC_EV_START] = a_want_up,
		[SVC_EV_STOP] = a_want_down,
		[SVC_EV_RESTART] = a_want_up,
		[SVC_EV_EXITED] = a_exited_stopping,
		[SVC_EV_LAUNCHER_EXITED] = a_exited_stopping,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_LOOK] = a_ignore,
		[SVC_EV_MAIN] = a_ignore,
		[SVC_EV_TIMER] = a_kill,
		[SVC_EV_RESET] = a_reset,
		[SVC_EV_EMPTY] = a_empty,
		[SVC_EV_ADOPT] = a_ignore,
	},
	[SVC_EXITED] = {
		[SVC_EV_START] = a_start,
		[SVC_EV_STOP] = a_stop_resting,
		[SVC_EV_RESTART] = a_start,
		[SVC_EV_EXITED] = a_stray_exit,
		[SVC_EV_LAUNCHER_EXITED] = a_stray_exit,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_LOOK] = a_ignore,
		[SVC_EV_MAIN] = a_ignore,
		[SVC_EV_TIMER] = a_ignore,
		[SVC_EV_RESET] = a_reset,
		[SVC_EV_EMPTY] = a_ignore,
		[SVC_EV_ADOPT] = a_ignore,
	},
	[SVC_FAILED] = {
		[SVC_EV_START] = a_start,
		[SVC_EV_STOP] = a_stop_resting,
		[SVC_EV_RESTART] = a_start,
		[SVC_EV_EXITED] = a_stray_exit,
		[SVC_EV_LAUNCHER_EXITED] = a_stray_exit,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_LOOK] = a_ignore,
		[SVC_EV_MAIN] = a_ignore,
		[SVC_EV_TIMER] = a_retry_failed,
		[SVC_EV_RESET] = a_reset_failed,
		[SVC_EV_EMPTY] = a_ignore,
		[SVC_EV_ADOPT] = a_ignore,
	},
};

void
svc_adopt(struct svc *s, pid_t pid, uint64_t age)
{
	s->adopt_age = age;
	svc_event(s, SVC_EV_ADOPT, pid);
}

void
svc_event(struct svc *s, enum svc_event ev, int arg)
{
	if (s->state >= SVC_NSTATES || ev >= SVC_NEVENTS)
		return;
	actions[s->state][ev](s, arg);
}
