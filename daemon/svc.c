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

typedef void svc_action(struct svc *, int);

static const char *const svc_state_names[SVC_NSTATES] = {
	[SVC_STOPPED] = "stopped",
	[SVC_STARTING] = "starting",
	[SVC_RUNNING] = "running",
	[SVC_BACKOFF] = "backoff",
	[SVC_STOPPING] = "stopping",
	[SVC_EXITED] = "exited",
	[SVC_FAILED] = "failed",
};

const char *
svc_state_name(enum svc_state s)
{
	return s < SVC_NSTATES ? svc_state_names[s] : "unknown";
}

struct svc *
svc_new(const struct svc_ops *ops, const struct conf_program *cp, void *owner,
    unsigned index, const char *name)
{
	struct svc	*s = xcalloc(1, sizeof *s);

	s->ops = ops;
	s->cp = cp;
	s->owner = owner;
	s->index = index;
	s->name = xstrdup(name);
	s->state = SVC_STOPPED;
	s->since = ops->now();
	s->delay = cp->restart_delay;
	return s;
}

void
svc_free(struct svc *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->error);
	free(s);
}

void
svc_rename(struct svc *s, const char *name)
{
	free(s->name);
	s->name = xstrdup(name);
}

bool
svc_is_down(const struct svc *s)
{
	return s->state == SVC_STOPPED || s->state == SVC_EXITED ||
	    s->state == SVC_FAILED;
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

static void
svc_set_error(struct svc *s, const char *msg)
{
	free(s->error);
	s->error = msg != NULL ? xstrdup(msg) : NULL;
}

static void
svc_set_state(struct svc *s, enum svc_state state)
{
	enum svc_state	 old = s->state;

	s->ops->timer_cancel(s);
	s->state = state;
	s->since = s->ops->now();
	if (old != state)
		s->ops->changed(s, old);
}

static void
svc_enter_failed(struct svc *s)
{
	svc_set_state(s, SVC_FAILED);
	if (s->cp->failed_retry != 0 && s->want_up)
		s->ops->timer_set(s, s->cp->failed_retry);
}

/* A start failed: back off and try again, or give up past start_limit. */
static void
svc_enter_backoff(struct svc *s)
{
	uint64_t	 delay = s->delay;

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
	s->delay = delay * 2 > s->cp->restart_delay_max ?
	    s->cp->restart_delay_max : delay * 2;
	svc_set_state(s, SVC_BACKOFF);
	s->ops->timer_set(s, delay);
}

static void
svc_spawn(struct svc *s)
{
	char		 err[512];
	bool		 permanent = false;
	pid_t		 pid;

	s->spawns++;
	err[0] = '\0';
	pid = s->ops->spawn(s, err, sizeof err, &permanent);
	if (pid <= 0) {
		svc_set_error(s, err[0] != '\0' ? err : "spawn failed");
		s->fails++;
		if (permanent)
			svc_enter_failed(s);
		else
			svc_enter_backoff(s);
		return;
	}
	s->pid = pid;
	s->started = s->ops->now();
	svc_set_error(s, NULL);
	if (s->cp->start_secs == 0) {
		s->fails = 0;
		s->delay = s->cp->restart_delay;
		svc_set_state(s, SVC_RUNNING);
		return;
	}
	svc_set_state(s, SVC_STARTING);
	s->ops->timer_set(s, s->cp->start_secs);
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

static void
a_stop_process(struct svc *s, int arg)
{
	s->ops->kill(s, s->pid, s->cp->stop_signal, s->cp->kill_group);
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
	svc_set_state(s, SVC_STOPPED);
}

static void
a_started(struct svc *s, int arg)
{
	s->fails = 0;
	s->delay = s->cp->restart_delay;
	svc_set_state(s, SVC_RUNNING);
}

static void
a_exited_starting(struct svc *s, int status)
{
	svc_reaped(s, status);
	if (!svc_should_restart(s, status)) {
		svc_set_state(s, SVC_EXITED);
		return;
	}
	s->fails++;
	svc_enter_backoff(s);
}

static void
a_exited_running(struct svc *s, int status)
{
	svc_reaped(s, status);
	if (!svc_should_restart(s, status)) {
		svc_set_state(s, SVC_EXITED);
		return;
	}
	if (s->delay == 0) {
		s->restarts++;
		svc_spawn(s);
		return;
	}
	svc_enter_backoff(s);
}

static void
a_exited_stopping(struct svc *s, int status)
{
	pid_t	 pgid = s->pid;

	svc_reaped(s, status);
	/* The main process is gone; what is left of its group goes too. */
	if (s->cp->kill_group)
		s->ops->kill(s, pgid, SIGKILL, true);
	if (s->want_up) {
		s->fails = 0;
		s->delay = s->cp->restart_delay;
		svc_spawn(s);
		return;
	}
	svc_set_state(s, SVC_STOPPED);
}

static void
a_kill(struct svc *s, int arg)
{
	s->ops->kill(s, s->pid, SIGKILL, s->cp->kill_group);
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

static svc_action *const actions[SVC_NSTATES][SVC_NEVENTS] = {
	[SVC_STOPPED] = {
		[SVC_EV_START] = a_start,
		[SVC_EV_STOP] = a_want_down,
		[SVC_EV_RESTART] = a_start,
		[SVC_EV_EXITED] = a_stray_exit,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_TIMER] = a_ignore,
		[SVC_EV_RESET] = a_reset,
	},
	[SVC_STARTING] = {
		[SVC_EV_START] = a_want_up,
		[SVC_EV_STOP] = a_stop,
		[SVC_EV_RESTART] = a_restart,
		[SVC_EV_EXITED] = a_exited_starting,
		[SVC_EV_READY] = a_started,
		[SVC_EV_TIMER] = a_started,
		[SVC_EV_RESET] = a_reset,
	},
	[SVC_RUNNING] = {
		[SVC_EV_START] = a_want_up,
		[SVC_EV_STOP] = a_stop,
		[SVC_EV_RESTART] = a_restart,
		[SVC_EV_EXITED] = a_exited_running,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_TIMER] = a_ignore,
		[SVC_EV_RESET] = a_reset,
	},
	[SVC_BACKOFF] = {
		[SVC_EV_START] = a_want_up,
		[SVC_EV_STOP] = a_stop_resting,
		[SVC_EV_RESTART] = a_restart_now,
		[SVC_EV_EXITED] = a_stray_exit,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_TIMER] = a_retry,
		[SVC_EV_RESET] = a_reset,
	},
	[SVC_STOPPING] = {
		[SVC_EV_START] = a_want_up,
		[SVC_EV_STOP] = a_want_down,
		[SVC_EV_RESTART] = a_want_up,
		[SVC_EV_EXITED] = a_exited_stopping,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_TIMER] = a_kill,
		[SVC_EV_RESET] = a_reset,
	},
	[SVC_EXITED] = {
		[SVC_EV_START] = a_start,
		[SVC_EV_STOP] = a_stop_resting,
		[SVC_EV_RESTART] = a_start,
		[SVC_EV_EXITED] = a_stray_exit,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_TIMER] = a_ignore,
		[SVC_EV_RESET] = a_reset,
	},
	[SVC_FAILED] = {
		[SVC_EV_START] = a_start,
		[SVC_EV_STOP] = a_stop_resting,
		[SVC_EV_RESTART] = a_start,
		[SVC_EV_EXITED] = a_stray_exit,
		[SVC_EV_READY] = a_ignore,
		[SVC_EV_TIMER] = a_retry_failed,
		[SVC_EV_RESET] = a_reset_failed,
	},
};

void
svc_event(struct svc *s, enum svc_event ev, int arg)
{
	if (s->state >= SVC_NSTATES || ev >= SVC_NEVENTS)
		return;
	actions[s->state][ev](s, arg);
}
