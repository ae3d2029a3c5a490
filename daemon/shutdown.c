/* shutdown.c: tendd's way down: the stages and the one function that
 * moves between them. */
#include <signal.h>
#include <stdlib.h>

#include "log.h"
#include "shutdown.h"
#include "util.h"

struct shutdown {
	const struct shutdown_ops	*ops;
	void				*arg;
	enum shutdown_stage		 stage;
	bool				 helpers;	/* told to stop */
	bool				 lingered;	/* gave up waiting */
};

static const char *const shutdown_names[] = {
	[SHUTDOWN_RUNNING] = "running",
	[SHUTDOWN_WORK] = "stopping programs",
	[SHUTDOWN_HELPERS] = "stopping daemon programs",
	[SHUTDOWN_KILLING] = "killing what is left",
	[SHUTDOWN_STRAYS] = "reaping the last processes",
	[SHUTDOWN_DONE] = "done",
};

const char *
shutdown_stage_name(enum shutdown_stage st)
{
	return st <= SHUTDOWN_DONE ? shutdown_names[st] : "unknown";
}

struct shutdown *
shutdown_new(const struct shutdown_ops *ops, void *arg)
{
	struct shutdown	*sd = xcalloc(1, sizeof *sd);

	sd->ops = ops;
	sd->arg = arg;
	return sd;
}

void
shutdown_free(struct shutdown *sd)
{
	free(sd);
}

enum shutdown_stage
shutdown_stage(const struct shutdown *sd)
{
	return sd->stage;
}

/* The only place the stage changes; what a stage does on entry. */
static void
shutdown_enter(struct shutdown *sd, enum shutdown_stage st)
{
	int	 n;

	log_debug("shutdown: %s -> %s", shutdown_stage_name(sd->stage),
	    shutdown_stage_name(st));
	sd->stage = st;
	switch (st) {
	case SHUTDOWN_RUNNING:
	case SHUTDOWN_WORK:
		break;
	case SHUTDOWN_HELPERS:
		sd->helpers = true;
		sd->ops->stop(true, sd->arg);
		break;
	case SHUTDOWN_KILLING:
		/* Stopped first, so that nothing killed is started again. */
		if (!sd->helpers) {
			sd->helpers = true;
			sd->ops->stop(true, sd->arg);
		}
		sd->ops->kill_all(SIGKILL, sd->arg);
		sd->ops->timer(SHUTDOWN_KILL_GRACE, sd->arg);
		break;
	case SHUTDOWN_STRAYS:
		/* Orphans no instance claims: tendd adopted them, so they
		   descend from its programs; they go too. */
		if ((n = sd->ops->kill_strays(sd->arg)) > 0)
			log_info("killed %d adopted process%s that belonged "
			    "to no program", n, n == 1 ? "" : "es");
		/* As their subreaper, see them reaped before leaving. */
		sd->ops->timer(SHUTDOWN_LINGER, sd->arg);
		break;
	case SHUTDOWN_DONE:
		sd->ops->timer(0, sd->arg);
		log_info("all programs stopped");
		sd->ops->done(false, sd->arg);
		return;
	}
	shutdown_check(sd);
}

void
shutdown_begin(struct shutdown *sd, uint64_t timeout)
{
	switch (sd->stage) {
	case SHUTDOWN_RUNNING:
		log_info("shutting down");
		sd->stage = SHUTDOWN_WORK;
		/* The work first; the daemon programs (helpers) once it is
		   down. */
		sd->ops->stop(false, sd->arg);
		if (timeout != 0)
			sd->ops->timer(timeout, sd->arg);
		shutdown_check(sd);
		break;
	case SHUTDOWN_WORK:
	case SHUTDOWN_HELPERS:
		/* Asked again (a second Ctrl-C): no more waiting. */
		log_warnx("shutdown requested again: killing all programs now");
		shutdown_enter(sd, SHUTDOWN_KILLING);
		break;
	default:
		break;
	}
}

void
shutdown_check(struct shutdown *sd)
{
	switch (sd->stage) {
	case SHUTDOWN_WORK:
		if (sd->ops->all_down(true, sd->arg))
			shutdown_enter(sd, SHUTDOWN_HELPERS);
		break;
	case SHUTDOWN_HELPERS:
	case SHUTDOWN_KILLING:
		if (sd->ops->all_down(false, sd->arg))
			shutdown_enter(sd, SHUTDOWN_STRAYS);
		break;
	case SHUTDOWN_STRAYS:
		if (!sd->ops->has_children(sd->arg) || sd->lingered)
			shutdown_enter(sd, SHUTDOWN_DONE);
		break;
	case SHUTDOWN_RUNNING:
	case SHUTDOWN_DONE:
		break;
	}
}

void
shutdown_timer(struct shutdown *sd)
{
	switch (sd->stage) {
	case SHUTDOWN_WORK:
	case SHUTDOWN_HELPERS:
		log_warnx("shutdown_timeout reached: killing what is left");
		shutdown_enter(sd, SHUTDOWN_KILLING);
		break;
	case SHUTDOWN_KILLING:
		log_warnx("some processes did not die after SIGKILL; exiting "
		    "anyway");
		sd->stage = SHUTDOWN_DONE;
		sd->ops->done(true, sd->arg);
		break;
	case SHUTDOWN_STRAYS:
		log_warnx("leaving: some children were not reaped within "
		    "%.0f s of SIGKILL", (double)SHUTDOWN_LINGER / 1000000);
		sd->lingered = true;
		shutdown_check(sd);
		break;
	case SHUTDOWN_RUNNING:
	case SHUTDOWN_DONE:
		break;
	}
}
