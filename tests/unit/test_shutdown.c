/* test_shutdown.c: tendd's way down, stage by stage, with fake instances,
 * children and timer. */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "shutdown.h"
#include "t.h"

struct fake {
	bool		 work_down;	/* the non-daemon programs */
	bool		 helpers_down;
	bool		 children;
	int		 stops[2];	/* [helpers] */
	int		 kills;
	int		 last_sig;
	int		 strays;
	uint64_t	 timer;		/* armed, 0: none */
	int		 done;
	bool		 failed;
};

static bool
f_all_down(bool work_only, void *arg)
{
	struct fake	*f = arg;

	return f->work_down && (work_only || f->helpers_down);
}

static void
f_stop(bool helpers, void *arg)
{
	((struct fake *)arg)->stops[helpers]++;
}

static void
f_kill_all(int sig, void *arg)
{
	struct fake	*f = arg;

	f->kills++;
	f->last_sig = sig;
}

static int
f_kill_strays(void *arg)
{
	((struct fake *)arg)->strays++;
	return 0;
}

static bool
f_has_children(void *arg)
{
	return ((struct fake *)arg)->children;
}

static void
f_timer(uint64_t usec, void *arg)
{
	((struct fake *)arg)->timer = usec;
}

static void
f_done(bool failed, void *arg)
{
	struct fake	*f = arg;

	f->done++;
	f->failed = failed;
}

static const struct shutdown_ops ops = {
	f_all_down, f_stop, f_kill_all, f_kill_strays, f_has_children,
	f_timer, f_done,
};

T_CASE(work_then_helpers_then_done)
{
	struct fake	 f = { 0 };
	struct shutdown	*sd = shutdown_new(&ops, &f);

	T_INTEQ(shutdown_stage(sd), SHUTDOWN_RUNNING);
	shutdown_check(sd);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_RUNNING);
	shutdown_begin(sd, 10000000);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_WORK);
	T_INTEQ(f.stops[0], 1);
	T_INTEQ(f.stops[1], 0);
	T_INTEQ(f.timer, 10000000);
	/* Nothing changed: still waiting. */
	shutdown_check(sd);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_WORK);
	/* The work is down: the helpers are stopped. */
	f.work_down = true;
	shutdown_check(sd);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_HELPERS);
	T_INTEQ(f.stops[1], 1);
	/* All down, a child still to reap: strays killed, linger. */
	f.helpers_down = true;
	f.children = true;
	shutdown_check(sd);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_STRAYS);
	T_INTEQ(f.strays, 1);
	T_INTEQ(f.timer, SHUTDOWN_LINGER);
	T_INTEQ(f.done, 0);
	f.children = false;
	shutdown_check(sd);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_DONE);
	T_INTEQ(f.done, 1);
	T_CHECK(!f.failed);
	T_INTEQ(f.timer, 0);
	T_INTEQ(f.kills, 0);
	/* Nothing more happens. */
	shutdown_check(sd);
	shutdown_timer(sd);
	shutdown_begin(sd, 0);
	T_INTEQ(f.done, 1);
	shutdown_free(sd);
}

T_CASE(everything_down_already_ends_at_once)
{
	struct fake	 f = { .work_down = true, .helpers_down = true };
	struct shutdown	*sd = shutdown_new(&ops, &f);

	shutdown_begin(sd, 0);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_DONE);
	T_INTEQ(f.stops[0], 1);
	T_INTEQ(f.stops[1], 1);
	T_INTEQ(f.done, 1);
	shutdown_free(sd);
}

T_CASE(timeout_kills_then_gives_up)
{
	struct fake	 f = { 0 };
	struct shutdown	*sd = shutdown_new(&ops, &f);

	shutdown_begin(sd, 3000000);
	shutdown_timer(sd);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_KILLING);
	T_INTEQ(f.kills, 1);
	T_INTEQ(f.last_sig, SIGKILL);
	/* The helpers are stopped too, so nothing killed starts again. */
	T_INTEQ(f.stops[1], 1);
	T_INTEQ(f.timer, SHUTDOWN_KILL_GRACE);
	/* Some would not die. */
	shutdown_timer(sd);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_DONE);
	T_INTEQ(f.done, 1);
	T_CHECK(f.failed);
	shutdown_free(sd);
}

T_CASE(killed_and_down_ends_well)
{
	struct fake	 f = { 0 };
	struct shutdown	*sd = shutdown_new(&ops, &f);

	shutdown_begin(sd, 0);
	T_INTEQ(f.timer, 0);		/* no shutdown_timeout */
	/* Asked again: kill now. */
	shutdown_begin(sd, 0);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_KILLING);
	T_INTEQ(f.kills, 1);
	/* A third time changes nothing. */
	shutdown_begin(sd, 0);
	T_INTEQ(f.kills, 1);
	f.work_down = f.helpers_down = true;
	shutdown_check(sd);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_DONE);
	T_CHECK(!f.failed);
	shutdown_free(sd);
}

T_CASE(children_never_reaped_leave_after_linger)
{
	struct fake	 f = { .work_down = true, .helpers_down = true,
			    .children = true };
	struct shutdown	*sd = shutdown_new(&ops, &f);

	shutdown_begin(sd, 0);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_STRAYS);
	shutdown_timer(sd);
	T_INTEQ(shutdown_stage(sd), SHUTDOWN_DONE);
	T_INTEQ(f.done, 1);
	T_CHECK(!f.failed);
	shutdown_free(sd);
}

T_CASE(stage_names)
{
	T_STREQ(shutdown_stage_name(SHUTDOWN_WORK), "stopping programs");
	T_STREQ(shutdown_stage_name(SHUTDOWN_DONE), "done");
}

T_MAIN(T_ENTRY(work_then_helpers_then_done),
    T_ENTRY(everything_down_already_ends_at_once),
    T_ENTRY(timeout_kills_then_gives_up),
    T_ENTRY(killed_and_down_ends_well),
    T_ENTRY(children_never_reaped_leave_after_linger),
    T_ENTRY(stage_names))
