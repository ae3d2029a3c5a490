/* test_svc.c: every state/event pair of the instance state machine, the
 * backoff sequence and start_limit, driven through fake ops. */
#include <sys/wait.h>

#include <signal.h>

#include "svc.h"
#include "t.h"

static uint64_t	 fake_clock;
static pid_t	 next_pid = 100;
static int	 spawn_fail;	/* 0 ok, 1 transient, 2 permanent,
				   3 tendd's shortage */
static int	 last_sig, nkills;
static bool	 last_group;
static pid_t	 last_kill_pid;
static bool	 timer_armed;
static uint64_t	 timer_usec;
static int	 nchanges;

static pid_t
fake_spawn(struct svc *s, char *err, size_t len, enum svc_spawn_fail *fail)
{
	if (spawn_fail) {
		snprintf(err, len, "exec /nope: No such file or directory");
		*fail = spawn_fail == 2 ? SVC_SPAWN_PERMANENT :
		    spawn_fail == 3 ? SVC_SPAWN_RESOURCES : SVC_SPAWN_RETRY;
		return -1;
	}
	return next_pid++;
}

static int
fake_kill(struct svc *s, pid_t pid, int sig, bool group)
{
	last_kill_pid = pid;
	last_sig = sig;
	last_group = group;
	nkills++;
	return 0;
}

static void
fake_timer_set(struct svc *s, uint64_t usec)
{
	timer_armed = true;
	timer_usec = usec;
}

static void
fake_timer_cancel(struct svc *s)
{
	timer_armed = false;
}

static uint64_t
fake_now(void)
{
	return fake_clock;
}

static struct svc_change last_ch, last_exit;
static int	 nannounced[4];

static void
fake_changed(struct svc *s, enum svc_state old, const struct svc_change *ch)
{
	if (ch == NULL) {
		nchanges++;
		return;
	}
	/* Announced before the change that follows, in the state it left. */
	T_INTEQ(old, s->state);
	last_ch = *ch;
	if (ch->kind == SVC_CH_EXITED)
		last_exit = *ch;
	nannounced[ch->kind]++;
}

static int	 nrest_kills;
static bool	 busy;		/* processes left besides the main one */
static pid_t	 found_main;	/* find_main's answer */

static int
fake_kill_rest(struct svc *s)
{
	nrest_kills++;
	return busy ? 1 : 0;
}

static bool
fake_busy(struct svc *s)
{
	return busy;
}

static pid_t
fake_find_main(struct svc *s, char *err, size_t len)
{
	if (found_main < 0)
		snprintf(err, len, "the launcher left no process running");
	return found_main;
}

static const struct svc_ops fake_ops = {
	fake_spawn, fake_kill, fake_timer_set, fake_timer_cancel, fake_now,
	fake_changed, fake_kill_rest, fake_busy, fake_find_main,
};

static int success_codes[] = { 0 };

static struct conf_program
base_cp(void)
{
	struct conf_program	 cp;

	memset(&cp, 0, sizeof cp);
	cp.name = "web";
	cp.instances = 1;
	cp.autostart = true;
	cp.restart = CONF_RESTART_ON_FAILURE;
	cp.success_codes = success_codes;
	cp.nsuccess_codes = 1;
	cp.start_secs = 1000000;
	cp.restart_delay = 100000;
	cp.restart_delay_max = 30000000;
	cp.start_limit = 5;
	cp.stop_signal = SIGTERM;
	cp.stop_timeout = 10000000;
	cp.kill_mode = CONF_KILL_GROUP;
	return cp;
}

static void
reset_fakes(void)
{
	fake_clock = 1000;
	next_pid = 100;
	spawn_fail = 0;
	nkills = 0;
	last_sig = 0;
	timer_armed = false;
	nchanges = 0;
	memset(&last_ch, 0, sizeof last_ch);
	memset(&last_exit, 0, sizeof last_exit);
	memset(nannounced, 0, sizeof nannounced);
	nrest_kills = 0;
	busy = false;
	found_main = 0;
}

#define EXIT_CODE(n)	((n) << 8)
#define EXIT_SIG(n)	(n)

static struct svc *
new_svc(const struct conf_program *cp)
{
	reset_fakes();
	return svc_new(&fake_ops, cp, NULL, 0, "web");
}

/* Bring an instance to the given state by real transitions. */
static struct svc *
svc_in(const struct conf_program *cp, enum svc_state st)
{
	struct svc	*s = new_svc(cp);

	switch (st) {
	case SVC_STOPPED:
		break;
	case SVC_STARTING:
		svc_event(s, SVC_EV_START, 0);
		break;
	case SVC_RUNNING:
		svc_event(s, SVC_EV_START, 0);
		svc_event(s, SVC_EV_TIMER, 0);
		break;
	case SVC_BACKOFF:
		svc_event(s, SVC_EV_START, 0);
		svc_event(s, SVC_EV_EXITED, EXIT_CODE(1));
		break;
	case SVC_STOPPING:
		svc_event(s, SVC_EV_START, 0);
		svc_event(s, SVC_EV_TIMER, 0);
		svc_event(s, SVC_EV_STOP, 0);
		break;
	case SVC_EXITED:
		svc_event(s, SVC_EV_START, 0);
		svc_event(s, SVC_EV_TIMER, 0);
		svc_event(s, SVC_EV_EXITED, EXIT_CODE(0));
		break;
	case SVC_FAILED:
		spawn_fail = 2;
		svc_event(s, SVC_EV_START, 0);
		spawn_fail = 0;
		break;
	default:
		break;
	}
	T_INTEQ(s->state, st);
	return s;
}

T_CASE(start_reaches_running_after_start_secs)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = new_svc(&cp);

	T_INTEQ(s->state, SVC_STOPPED);
	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(s->state, SVC_STARTING);
	T_INTEQ(s->pid, 100);
	T_CHECK(timer_armed);
	T_INTEQ(timer_usec, cp.start_secs);
	T_CHECK(s->want_up);
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(s->state, SVC_RUNNING);
	T_CHECK(!timer_armed);
	svc_free(s);
}

T_CASE(start_secs_zero_is_running_at_once)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;

	cp.start_secs = 0;
	s = new_svc(&cp);
	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(s->state, SVC_RUNNING);
	T_CHECK(!timer_armed);
	svc_free(s);
}

T_CASE(ready_event_ends_starting)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_STARTING);

	svc_event(s, SVC_EV_READY, 0);
	T_INTEQ(s->state, SVC_RUNNING);
	svc_free(s);
}

T_CASE(backoff_doubles_to_cap_then_fails)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;
	uint64_t		 expect[] = { 100000, 200000, 400000, 800000,
				    1000000 };
	unsigned		 i;

	cp.restart_delay_max = 1000000;
	cp.start_limit = 5;
	s = new_svc(&cp);
	svc_event(s, SVC_EV_START, 0);
	for (i = 0; i < 5; i++) {
		svc_event(s, SVC_EV_EXITED, EXIT_CODE(1));
		T_INTEQ(s->state, SVC_BACKOFF);
		T_INTEQ(timer_usec, expect[i]);
		T_INTEQ(s->fails, i + 1);
		svc_event(s, SVC_EV_TIMER, 0);
		T_INTEQ(s->state, SVC_STARTING);
	}
	/* The sixth failed start in a row is more than start_limit. */
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(1));
	T_INTEQ(s->state, SVC_FAILED);
	T_CHECK(!timer_armed);
	T_CHECK(s->error != NULL);
	T_INTEQ(s->restarts, 5);
	T_INTEQ(s->spawns, 6);
	svc_free(s);
}

T_CASE(backoff_resets_after_successful_start)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = new_svc(&cp);

	svc_event(s, SVC_EV_START, 0);
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(1));
	svc_event(s, SVC_EV_TIMER, 0);
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(1));
	T_INTEQ(timer_usec, 200000);
	svc_event(s, SVC_EV_TIMER, 0);
	svc_event(s, SVC_EV_TIMER, 0);		/* start_secs elapsed */
	T_INTEQ(s->state, SVC_RUNNING);
	T_INTEQ(s->fails, 0);
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(1));
	T_INTEQ(s->state, SVC_BACKOFF);
	T_INTEQ(timer_usec, 100000);
	svc_free(s);
}

/* Every exit is announced once, before what follows it, with what that
   is: the event stream's instance.exited. */
T_CASE(exits_are_announced_with_what_follows)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;
	unsigned		 i;

	cp.start_limit = 2;
	s = new_svc(&cp);
	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(nannounced[SVC_CH_SPAWNED], 1);
	T_INTEQ(last_ch.pid, 100);
	for (i = 0; i < 2; i++) {
		svc_event(s, SVC_EV_EXITED, EXIT_CODE(3));
		T_INTEQ(last_exit.status, EXIT_CODE(3));
		T_INTEQ(last_exit.next, SVC_NEXT_BACKOFF);
		T_INTEQ(last_exit.delay, 100000u << i);
		svc_event(s, SVC_EV_TIMER, 0);
	}
	/* The third failed start in a row is past start_limit 2. */
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(3));
	T_INTEQ(last_exit.next, SVC_NEXT_GIVE_UP);
	T_INTEQ(s->state, SVC_FAILED);
	T_INTEQ(nannounced[SVC_CH_EXITED], 3);
	T_INTEQ(nannounced[SVC_CH_SPAWNED], 3);
	svc_free(s);

	/* Running, delay 0: restarted at once. */
	cp.restart_delay = 0;
	s = svc_in(&cp, SVC_RUNNING);
	fake_clock += 2500000;
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGSEGV));
	T_INTEQ(last_exit.next, SVC_NEXT_RESTART);
	T_INTEQ(last_exit.ran, 2500000);
	T_INTEQ(last_exit.pid, 100);
	T_INTEQ(last_ch.kind, SVC_CH_SPAWNED);
	T_INTEQ(s->pid, 101);
	svc_free(s);

	/* A success with on-failure: exited, no restart. */
	s = svc_in(&cp, SVC_RUNNING);
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(0));
	T_INTEQ(last_exit.next, SVC_NEXT_EXITED);
	svc_free(s);

	/* Stopped: the exit ends the stop; a restart starts it again. */
	s = svc_in(&cp, SVC_RUNNING);
	svc_event(s, SVC_EV_STOP, 0);
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGTERM));
	T_INTEQ(last_exit.next, SVC_NEXT_STOPPED);
	T_INTEQ(s->state, SVC_STOPPED);
	svc_event(s, SVC_EV_RESTART, 0);
	svc_event(s, SVC_EV_RESTART, 0);
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGTERM));
	T_INTEQ(last_exit.next, SVC_NEXT_RESTART);
	svc_free(s);

	/* Taken over after a crash. */
	s = new_svc(&cp);
	svc_adopt(s, 777, 1000);
	T_INTEQ(last_ch.kind, SVC_CH_ADOPTED);
	T_INTEQ(last_ch.pid, 777);
	T_INTEQ(s->state, SVC_RUNNING);
	svc_free(s);
}

/* Adoption goes through the grid: only a stopped instance takes a
   predecessor's process over; one that runs keeps its own. */
T_CASE(adopt_only_from_stopped)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_RUNNING);
	pid_t			 pid = s->pid;

	svc_adopt(s, 4242, 1000);
	T_INTEQ(s->pid, pid);
	T_CHECK(!s->adopted);
	T_INTEQ(nannounced[SVC_CH_ADOPTED], 0);
	svc_free(s);
}

T_CASE(restart_delay_zero_respawns_at_once)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;

	cp.restart_delay = 0;
	s = svc_in(&cp, SVC_RUNNING);
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(1));
	T_INTEQ(s->state, SVC_STARTING);
	T_INTEQ(s->restarts, 1);
	T_INTEQ(s->pid, 101);
	svc_free(s);
}

T_CASE(policy_on_failure)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_RUNNING);

	svc_event(s, SVC_EV_EXITED, EXIT_CODE(0));
	T_INTEQ(s->state, SVC_EXITED);
	T_CHECK(s->last_exit.valid);
	svc_free(s);
	s = svc_in(&cp, SVC_RUNNING);
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGSEGV));
	T_INTEQ(s->state, SVC_BACKOFF);
	svc_free(s);
}

T_CASE(policy_success_exit_codes)
{
	struct conf_program	 cp = base_cp();
	int			 codes[] = { 0, 3 };
	struct svc		*s;

	cp.success_codes = codes;
	cp.nsuccess_codes = 2;
	s = svc_in(&cp, SVC_RUNNING);
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(3));
	T_INTEQ(s->state, SVC_EXITED);
	svc_free(s);
}

T_CASE(policy_always_and_never)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;

	cp.restart = CONF_RESTART_ALWAYS;
	s = svc_in(&cp, SVC_RUNNING);
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(0));
	T_INTEQ(s->state, SVC_BACKOFF);
	svc_free(s);
	cp.restart = CONF_RESTART_NEVER;
	s = svc_in(&cp, SVC_RUNNING);
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(1));
	T_INTEQ(s->state, SVC_EXITED);
	svc_free(s);
	/* A quick clean exit with restart=never is exited, not a failure. */
	s = svc_in(&cp, SVC_STARTING);
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(0));
	T_INTEQ(s->state, SVC_EXITED);
	T_INTEQ(s->fails, 0);
	svc_free(s);
}

T_CASE(stop_escalates_to_kill)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_RUNNING);
	pid_t			 pid = s->pid;

	cp.stop_signal = SIGINT;
	svc_event(s, SVC_EV_STOP, 0);
	T_INTEQ(s->state, SVC_STOPPING);
	T_INTEQ(last_sig, SIGINT);
	T_INTEQ(last_kill_pid, pid);
	T_CHECK(last_group);
	T_INTEQ(timer_usec, cp.stop_timeout);
	T_CHECK(!s->want_up);
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(s->state, SVC_STOPPING);
	T_INTEQ(last_sig, SIGKILL);
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGKILL));
	T_INTEQ(s->state, SVC_STOPPED);
	T_INTEQ(s->pid, 0);
	svc_free(s);
}

T_CASE(stop_without_group)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;

	cp.kill_mode = CONF_KILL_MAIN;
	s = svc_in(&cp, SVC_STARTING);
	nkills = 0;
	svc_event(s, SVC_EV_STOP, 0);
	T_INTEQ(s->state, SVC_STOPPING);
	T_CHECK(!last_group);
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGTERM));
	T_INTEQ(s->state, SVC_STOPPED);
	T_INTEQ(nkills, 1);	/* no group sweep without kill_group */
	svc_free(s);
}

T_CASE(exit_while_stopping_sweeps_group)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_STOPPING);

	/* Nothing left: stopped at once. */
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGTERM));
	T_INTEQ(s->state, SVC_STOPPED);
	T_INTEQ(nrest_kills, 0);
	svc_free(s);

	/* Something outlived the main process: killed, and the stop ends
	   only when nothing is left. */
	s = svc_in(&cp, SVC_STOPPING);
	busy = true;
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGTERM));
	T_INTEQ(s->state, SVC_STOPPING);
	T_INTEQ(s->pid, 0);
	T_INTEQ(nrest_kills, 1);
	T_CHECK(timer_armed);
	svc_event(s, SVC_EV_EMPTY, 0);
	T_INTEQ(s->state, SVC_STOPPED);
	svc_free(s);
}

T_CASE(rest_that_will_not_die_is_given_up)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_STOPPING);

	busy = true;
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGTERM));
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(s->state, SVC_STOPPING);
	T_INTEQ(nrest_kills, 2);
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(nrest_kills, 3);
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(s->state, SVC_STOPPED);
	svc_free(s);
}

T_CASE(stop_of_exited_kills_leftovers)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_EXITED);

	busy = true;
	svc_event(s, SVC_EV_STOP, 0);
	T_INTEQ(s->state, SVC_STOPPING);
	T_INTEQ(nrest_kills, 1);
	T_CHECK(!s->want_up);
	busy = false;
	svc_event(s, SVC_EV_EMPTY, 0);
	T_INTEQ(s->state, SVC_STOPPED);
	svc_free(s);

	/* Nothing left: straight to stopped. */
	s = svc_in(&cp, SVC_EXITED);
	svc_event(s, SVC_EV_STOP, 0);
	T_INTEQ(s->state, SVC_STOPPED);
	T_INTEQ(nrest_kills, 0);
	svc_free(s);
}

T_CASE(respawn_kills_what_the_last_run_left)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;

	cp.restart = CONF_RESTART_ALWAYS;
	cp.restart_delay = 0;
	s = svc_in(&cp, SVC_RUNNING);
	busy = true;
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(0));
	T_INTEQ(nrest_kills, 1);
	T_INTEQ(s->state, SVC_STARTING);
	T_INTEQ(s->pid, 101);
	svc_free(s);
}

T_CASE(first_start_kills_what_a_predecessor_left)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = new_svc(&cp);

	/* Never started by this tendd, but its cgroup is not empty. */
	busy = true;
	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(nrest_kills, 1);
	T_INTEQ(s->state, SVC_STARTING);
	svc_free(s);

	/* Nothing there: nothing killed. */
	reset_fakes();
	s = new_svc(&cp);
	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(nrest_kills, 0);
	T_INTEQ(s->state, SVC_STARTING);
	svc_free(s);
}

T_CASE(adopt_very_old_process)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = new_svc(&cp);

	/* Older than the monotonic clock (it ran through a suspend). */
	fake_clock = 1000;
	svc_adopt(s, 4242, 5000000);
	T_INTEQ(s->started, 0);
	svc_free(s);
}

T_CASE(forking_main_found_after_launcher)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;

	cp.type = CONF_TYPE_FORKING;
	cp.start_timeout = 30000000;
	s = svc_in(&cp, SVC_STARTING);
	T_CHECK(s->launcher);
	T_INTEQ(timer_usec, 30000000);
	/* start_secs passing means nothing to a forking program. */
	found_main = 555;
	svc_event(s, SVC_EV_LAUNCHER_EXITED, EXIT_CODE(0));
	T_INTEQ(s->state, SVC_RUNNING);
	T_INTEQ(s->pid, 555);
	T_CHECK(!s->launcher);
	T_INTEQ(s->fails, 0);
	/* The main process's exit drives the policy. */
	svc_event(s, SVC_EV_EXITED, EXIT_CODE(1));
	T_INTEQ(s->state, SVC_BACKOFF);
	svc_free(s);
}

T_CASE(forking_waits_for_pidfile)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;

	cp.type = CONF_TYPE_FORKING;
	cp.start_timeout = 30000000;
	s = svc_in(&cp, SVC_STARTING);
	found_main = 0;
	svc_event(s, SVC_EV_LAUNCHER_EXITED, EXIT_CODE(0));
	T_INTEQ(s->state, SVC_STARTING);
	T_INTEQ(s->pid, 0);
	T_CHECK(timer_armed);
	/* READY is the program's word, not a reason to look. */
	found_main = 777;
	svc_event(s, SVC_EV_READY, 0);
	T_INTEQ(s->state, SVC_STARTING);
	svc_event(s, SVC_EV_LOOK, 0);
	T_INTEQ(s->state, SVC_RUNNING);
	T_INTEQ(s->pid, 777);
	/* Its pidfile names another process of it after it ended: that is
	   the main process, through the grid, announced. */
	nchanges = 0;
	svc_event(s, SVC_EV_MAIN, 778);
	T_INTEQ(s->state, SVC_RUNNING);
	T_INTEQ(s->pid, 778);
	T_INTEQ(last_ch.kind, SVC_CH_MAIN);
	T_INTEQ(last_ch.status, 777);
	T_INTEQ(nchanges, 0);
	svc_free(s);

	/* Never there: the timeout is a failed start. */
	s = svc_in(&cp, SVC_STARTING);
	svc_event(s, SVC_EV_LAUNCHER_EXITED, EXIT_CODE(0));
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(s->state, SVC_BACKOFF);
	T_INTEQ(s->fails, 1);
	T_STREQ(s->error, "no main process within start_timeout");
	svc_free(s);
}

T_CASE(forking_launcher_failures)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;

	cp.type = CONF_TYPE_FORKING;
	cp.start_timeout = 30000000;
	s = svc_in(&cp, SVC_STARTING);
	svc_event(s, SVC_EV_LAUNCHER_EXITED, EXIT_CODE(3));
	T_INTEQ(s->state, SVC_BACKOFF);
	T_STREQ(s->error, "the launcher exited with code 3");
	svc_free(s);

	/* No main process found. */
	s = svc_in(&cp, SVC_STARTING);
	found_main = -1;
	svc_event(s, SVC_EV_LAUNCHER_EXITED, EXIT_CODE(0));
	T_INTEQ(s->state, SVC_BACKOFF);
	T_STREQ(s->error, "the launcher left no process running");
	svc_free(s);

	/* A launcher that never exits: killed, then a failed start. */
	s = svc_in(&cp, SVC_STARTING);
	nkills = 0;
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(nkills, 1);
	T_INTEQ(last_sig, SIGKILL);
	T_INTEQ(s->state, SVC_STARTING);
	svc_event(s, SVC_EV_LAUNCHER_EXITED, EXIT_SIG(SIGKILL));
	T_INTEQ(s->state, SVC_BACKOFF);
	T_STREQ(s->error, "the launcher did not exit within start_timeout");
	svc_free(s);

	/* restart = "never": a failed start is final. */
	cp.restart = CONF_RESTART_NEVER;
	s = svc_in(&cp, SVC_STARTING);
	svc_event(s, SVC_EV_LAUNCHER_EXITED, EXIT_CODE(3));
	T_INTEQ(s->state, SVC_FAILED);
	svc_free(s);
}

T_CASE(adopted_exit_is_unknown_and_restarts)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = new_svc(&cp);

	fake_clock = 100000000;
	svc_adopt(s, 4242, 30000000);
	T_INTEQ(s->state, SVC_RUNNING);
	/* Up since the process started, not since the adoption. */
	T_INTEQ(s->started, 70000000);
	T_CHECK(s->adopted);
	T_CHECK(s->want_up);
	svc_event(s, SVC_EV_EXITED, SVC_STATUS_UNKNOWN);
	T_INTEQ(s->state, SVC_BACKOFF);
	T_CHECK(!svc_exit_success(&cp, SVC_STATUS_UNKNOWN));
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(s->state, SVC_STARTING);
	T_CHECK(!s->adopted);
	svc_free(s);
}

T_CASE(restart_running_stops_then_spawns)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_RUNNING);
	pid_t			 pid = s->pid;

	svc_event(s, SVC_EV_RESTART, 0);
	T_INTEQ(s->state, SVC_STOPPING);
	T_CHECK(s->want_up);
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGTERM));
	T_INTEQ(s->state, SVC_STARTING);
	T_CHECK(s->pid != pid);
	T_INTEQ(s->restarts, 0);	/* operator restarts are not counted */
	svc_free(s);
}

T_CASE(start_while_stopping_restarts_after_exit)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_STOPPING);

	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(s->state, SVC_STOPPING);
	svc_event(s, SVC_EV_EXITED, EXIT_SIG(SIGTERM));
	T_INTEQ(s->state, SVC_STARTING);
	svc_free(s);
}

T_CASE(stop_in_backoff_exited_failed)
{
	struct conf_program	 cp = base_cp();
	enum svc_state		 from[] = { SVC_BACKOFF, SVC_EXITED,
				    SVC_FAILED, SVC_STOPPED };
	struct svc		*s;
	size_t			 i;

	for (i = 0; i < sizeof from / sizeof from[0]; i++) {
		s = svc_in(&cp, from[i]);
		nkills = 0;
		svc_event(s, SVC_EV_STOP, 0);
		T_INTEQ(s->state, SVC_STOPPED);
		T_CHECK(!timer_armed);
		T_INTEQ(nkills, 0);
		T_CHECK(!s->want_up);
		svc_free(s);
	}
}

T_CASE(permanent_spawn_failure_fails_at_once)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = new_svc(&cp);

	spawn_fail = 2;
	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(s->state, SVC_FAILED);
	T_STREQ(s->error, "exec /nope: No such file or directory");
	T_INTEQ(s->pid, 0);
	svc_free(s);
}

T_CASE(transient_spawn_failure_backs_off)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = new_svc(&cp);

	spawn_fail = 1;
	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(s->state, SVC_BACKOFF);
	T_CHECK(s->error != NULL);
	spawn_fail = 0;
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(s->state, SVC_STARTING);
	T_CHECK(s->error == NULL);
	svc_free(s);
}

T_CASE(shortage_backs_off_and_never_fails)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = new_svc(&cp);
	int			 i;

	/* Out of descriptors far longer than start_limit: backoff, the
	   delay doubling to its cap, never failed. */
	spawn_fail = 3;
	svc_event(s, SVC_EV_START, 0);
	for (i = 0; i < 40; i++) {
		T_INTEQ(s->state, SVC_BACKOFF);
		T_INTEQ(s->fails, 0);
		svc_event(s, SVC_EV_TIMER, 0);
	}
	T_INTEQ(s->state, SVC_BACKOFF);
	T_INTEQ(timer_usec, cp.restart_delay_max);
	T_CHECK(s->error != NULL);
	spawn_fail = 0;
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(s->state, SVC_STARTING);
	svc_free(s);
}

T_CASE(reset_failed_restarts_when_wanted)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_FAILED);

	svc_event(s, SVC_EV_RESET, 0);
	T_INTEQ(s->state, SVC_STARTING);
	T_INTEQ(s->fails, 0);
	T_CHECK(s->error == NULL);
	svc_free(s);

	s = svc_in(&cp, SVC_FAILED);
	svc_event(s, SVC_EV_STOP, 0);
	svc_event(s, SVC_EV_RESET, 0);
	T_INTEQ(s->state, SVC_STOPPED);
	svc_free(s);
}

T_CASE(start_from_failed_clears_failures)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s = svc_in(&cp, SVC_FAILED);

	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(s->state, SVC_STARTING);
	T_INTEQ(s->fails, 0);
	svc_free(s);
}

T_CASE(failed_retry_timer)
{
	struct conf_program	 cp = base_cp();
	struct svc		*s;

	cp.failed_retry = 60000000;
	s = svc_in(&cp, SVC_FAILED);
	T_CHECK(timer_armed);
	T_INTEQ(timer_usec, cp.failed_retry);
	svc_event(s, SVC_EV_TIMER, 0);
	T_INTEQ(s->state, SVC_STARTING);
	svc_free(s);

	cp.failed_retry = 0;
	s = svc_in(&cp, SVC_FAILED);
	T_CHECK(!timer_armed);
	svc_free(s);
}

T_CASE(ignored_events_change_nothing)
{
	struct conf_program	 cp = base_cp();
	struct {
		enum svc_state	 st;
		enum svc_event	 ev;
	} cases[] = {
		{ SVC_STOPPED, SVC_EV_READY }, { SVC_STOPPED, SVC_EV_TIMER },
		{ SVC_STOPPED, SVC_EV_EXITED }, { SVC_STOPPED, SVC_EV_STOP },
		{ SVC_STARTING, SVC_EV_START },
		{ SVC_RUNNING, SVC_EV_START }, { SVC_RUNNING, SVC_EV_READY },
		{ SVC_RUNNING, SVC_EV_TIMER }, { SVC_RUNNING, SVC_EV_RESET },
		{ SVC_BACKOFF, SVC_EV_START }, { SVC_BACKOFF, SVC_EV_READY },
		{ SVC_BACKOFF, SVC_EV_EXITED },
		{ SVC_STOPPING, SVC_EV_STOP }, { SVC_STOPPING, SVC_EV_READY },
		{ SVC_EXITED, SVC_EV_READY }, { SVC_EXITED, SVC_EV_TIMER },
		{ SVC_EXITED, SVC_EV_EXITED }, { SVC_EXITED, SVC_EV_RESET },
		{ SVC_FAILED, SVC_EV_READY }, { SVC_FAILED, SVC_EV_EXITED },
	};
	struct svc	*s;
	size_t		 i;
	pid_t		 pid;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		s = svc_in(&cp, cases[i].st);
		pid = s->pid;
		nchanges = 0;
		svc_event(s, cases[i].ev, 0);
		T_INTEQ(s->state, cases[i].st);
		T_INTEQ(s->pid, pid);
		T_INTEQ(nchanges, 0);
		svc_free(s);
	}
}

T_CASE(restart_from_rest_and_backoff)
{
	struct conf_program	 cp = base_cp();
	enum svc_state		 from[] = { SVC_STOPPED, SVC_EXITED,
				    SVC_FAILED, SVC_BACKOFF };
	struct svc		*s;
	size_t			 i;

	for (i = 0; i < sizeof from / sizeof from[0]; i++) {
		s = svc_in(&cp, from[i]);
		svc_event(s, SVC_EV_RESTART, 0);
		T_INTEQ(s->state, SVC_STARTING);
		T_CHECK(s->want_up);
		svc_free(s);
	}
}

T_CASE(state_names)
{
	T_STREQ(svc_state_name(SVC_STOPPED), "stopped");
	T_STREQ(svc_state_name(SVC_STARTING), "starting");
	T_STREQ(svc_state_name(SVC_RUNNING), "running");
	T_STREQ(svc_state_name(SVC_BACKOFF), "backoff");
	T_STREQ(svc_state_name(SVC_STOPPING), "stopping");
	T_STREQ(svc_state_name(SVC_EXITED), "exited");
	T_STREQ(svc_state_name(SVC_FAILED), "failed");
}

T_MAIN(T_ENTRY(start_reaches_running_after_start_secs),
    T_ENTRY(exits_are_announced_with_what_follows),
    T_ENTRY(adopt_only_from_stopped),
    T_ENTRY(rest_that_will_not_die_is_given_up),
    T_ENTRY(stop_of_exited_kills_leftovers),
    T_ENTRY(respawn_kills_what_the_last_run_left),
    T_ENTRY(first_start_kills_what_a_predecessor_left),
    T_ENTRY(adopt_very_old_process),
    T_ENTRY(forking_main_found_after_launcher),
    T_ENTRY(forking_waits_for_pidfile),
    T_ENTRY(forking_launcher_failures),
    T_ENTRY(adopted_exit_is_unknown_and_restarts),
    T_ENTRY(start_secs_zero_is_running_at_once),
    T_ENTRY(ready_event_ends_starting),
    T_ENTRY(backoff_doubles_to_cap_then_fails),
    T_ENTRY(backoff_resets_after_successful_start),
    T_ENTRY(restart_delay_zero_respawns_at_once),
    T_ENTRY(policy_on_failure),
    T_ENTRY(policy_success_exit_codes),
    T_ENTRY(policy_always_and_never),
    T_ENTRY(stop_escalates_to_kill),
    T_ENTRY(stop_without_group),
    T_ENTRY(exit_while_stopping_sweeps_group),
    T_ENTRY(restart_running_stops_then_spawns),
    T_ENTRY(start_while_stopping_restarts_after_exit),
    T_ENTRY(stop_in_backoff_exited_failed),
    T_ENTRY(permanent_spawn_failure_fails_at_once),
    T_ENTRY(transient_spawn_failure_backs_off),
    T_ENTRY(shortage_backs_off_and_never_fails),
    T_ENTRY(reset_failed_restarts_when_wanted),
    T_ENTRY(start_from_failed_clears_failures),
    T_ENTRY(failed_retry_timer),
    T_ENTRY(ignored_events_change_nothing),
    T_ENTRY(restart_from_rest_and_backoff),
    T_ENTRY(state_names))
