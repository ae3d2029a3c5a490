/* test_instance.c: the instance runtime with a fake clock and fake
 * spawns: processes registered as typed owners, exits dispatched to the
 * state machine, its timer, the change stream, a forking launcher, a
 * spawn short of resources, and the PID-reuse guard on an adopted
 * process. */
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <event2/event.h>

#include "events.h"
#include "instance.h"
#include "logs.h"
#include "procfs.h"
#include "reaper.h"
#include "svc.h"
#include "t.h"
#include "track.h"

static uint64_t	 fake_clock = 1000000;
static pid_t	 next_pid;
static int	 nlaunched;
static int	 launch_errno;	/* fail the next launch with it */

static uint64_t
fake_now(void)
{
	return fake_clock;
}

static pid_t
fake_launch(const struct conf_program *cp, unsigned index,
    const struct launch_stdio *io, int cgfd, struct launch_record *rec,
    char *err, size_t errlen, bool *permanent)
{
	*permanent = false;
	if (launch_errno != 0) {
		errno = launch_errno;
		launch_errno = 0;
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	nlaunched++;
	return next_pid++;
}

static const struct instance_sys fake_sys = { fake_launch, fake_now };

struct seen {
	int	 types[64];
	int	 next[64];
	int	 status[64];
	uint64_t ran[64];
	bool	 launcher[64];
	int	 to[64];
	int	 n;
};

static void
collect(const struct events_msg *m, const struct events_rec *r, void *arg)
{
	struct seen	*s = arg;

	if (s->n == 64)
		return;
	s->types[s->n] = r->type;
	s->to[s->n] = r->to;
	s->next[s->n] = r->next;
	s->status[s->n] = r->status;
	s->ran[s->n] = r->ran;
	s->launcher[s->n] = r->data != NULL &&
	    json_object_get(r->data, "launcher") != NULL;
	s->n++;
}

/* Which of the events seen so far has type t, from index from: -1. */
static int
find(const struct seen *s, int t, int from)
{
	int	 i;

	for (i = from; i < s->n; i++) {
		if (s->types[i] == t)
			return i;
	}
	return -1;
}

struct world {
	struct event_base	*base;
	struct events		*events;
	struct reaper		*reaper;
	struct track		*track;
	struct instance_env	*env;
	struct logs		*logs;
	struct launch_stdio	 io;
	struct seen		 seen;
};

static struct svc *
w_each(bool (*fn)(struct svc *, void *), void *arg, void *ctx)
{
	return instance_each(((struct world *)ctx)->env, fn, arg);
}

static struct svc *
w_main(pid_t pid, void *ctx)
{
	return instance_of(reaper_find(((struct world *)ctx)->reaper, pid));
}

static struct world *
world_new(void)
{
	struct world		*w = calloc(1, sizeof *w);
	struct reaper_hooks	 rh = { NULL, NULL, NULL, NULL };
	struct track_hooks	 th = { w_each, w_main, NULL, w };
	struct instance_env_params p;
	FILE			*f;
	long			 max = 4194304;

	/* PIDs above pid_max: no real process can ever be signalled. */
	if ((f = fopen("/proc/sys/kernel/pid_max", "r")) != NULL) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 4194304;
		fclose(f);
	}
	next_pid = (pid_t)max + 1000;
	nlaunched = 0;
	w->base = event_base_new();
	w->events = events_new(1000);
	events_subscribe(w->events, EVENTS_ALL, collect, &w->seen);
	w->reaper = reaper_new(w->base, &rh);
	w->track = track_new(&th, false, NULL);
	w->io.in = w->io.out = w->io.err = -1;
	w->logs = logs_new(w->base);
	memset(&p, 0, sizeof p);
	p.sys = &fake_sys;
	p.base = w->base;
	p.reaper = w->reaper;
	p.track = w->track;
	p.events = w->events;
	p.logs = w->logs;
	p.run_mode = true;		/* no pipes for fake processes */
	p.stdio = &w->io;
	w->env = instance_env_new(&p);
	return w;
}

static void
world_free(struct world *w)
{
	instance_env_free(w->env);
	logs_free(w->logs);
	track_free(w->track);
	reaper_free(w->reaper);
	events_free(w->events);
	event_base_free(w->base);
	free(w);
}

static int success_codes[] = { 0 };

static struct conf_program
base_cp(void)
{
	struct conf_program	 cp;

	memset(&cp, 0, sizeof cp);
	cp.name = "web";
	cp.instances = 1;
	cp.restart = CONF_RESTART_ON_FAILURE;
	cp.success_codes = success_codes;
	cp.nsuccess_codes = 1;
	cp.restart_delay = 1000;		/* 1 ms: a real timer */
	cp.restart_delay_max = 1000;
	cp.start_limit = 5;
	cp.start_timeout = 1000000;
	cp.stop_signal = SIGTERM;
	cp.stop_timeout = 1000;
	cp.kill_mode = CONF_KILL_GROUP;
	cp.stdout_sink = cp.stderr_sink = CONF_SINK_NULL;
	cp.log_ring_size = 4096;
	return cp;
}

/* The main process pid ends with status, as the reaper hands it over. */
static void
ends(struct world *w, pid_t pid, int status)
{
	struct proc_owner	*o = reaper_remove(w->reaper, pid);

	T_CHECK(o != NULL);
	if (o != NULL)
		o->ops->exited(o, pid, status);
}

/* Run the loop until the state is st (each pass runs what is due). */
static void
until_state(struct world *w, struct svc *s, enum svc_state st)
{
	int	 i;

	for (i = 0; i < 1000 && s->state != st; i++)
		event_base_loop(w->base, EVLOOP_ONCE);
	T_INTEQ(s->state, st);
}

T_CASE(spawn_exit_backoff_respawn)
{
	struct world		*w = world_new();
	struct conf_program	 cp = base_cp();
	struct svc		*s = instance_new(w->env, &cp, 0, "web", w);
	struct proc_owner	*o;
	pid_t			 pid;
	int			 i;
	char			 buf[64];

	T_CHECK(instance_owner(s) == w);
	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(s->state, SVC_RUNNING);
	T_INTEQ(nlaunched, 1);
	pid = s->pid;
	/* Registered as the instance's main process. */
	o = reaper_find(w->reaper, pid);
	T_CHECK(o != NULL && strcmp(o->ops->kind, "main") == 0);
	T_CHECK(instance_of(o) == s);
	o->ops->describe(o, pid, buf, sizeof buf);
	T_STREQ(buf, "web");
	/* start_secs 0: running at once, told with the spawn. */
	T_INTEQ(w->seen.n, 1);
	T_INTEQ(w->seen.types[0], EVENTS_INSTANCE_SPAWNED);
	T_INTEQ(w->seen.to[0], SVC_RUNNING);

	fake_clock += 2500000;
	ends(w, pid, 3 << 8);
	T_INTEQ(s->state, SVC_BACKOFF);
	i = find(&w->seen, EVENTS_INSTANCE_EXITED, 0);
	T_CHECK(i > 0);
	T_INTEQ(w->seen.next[i], EVENTS_NEXT_BACKOFF);
	T_INTEQ(w->seen.status[i], 3 << 8);
	T_INTEQ(w->seen.ran[i], 2500000);
	T_CHECK(find(&w->seen, EVENTS_INSTANCE_RESTARTING, i) > i);
	T_CHECK(reaper_find(w->reaper, pid) == NULL);
	/* The instance's timer (a real one) starts it again. */
	until_state(w, s, SVC_RUNNING);
	T_INTEQ(nlaunched, 2);
	T_CHECK(s->pid != pid);
	T_CHECK(instance_of(reaper_find(w->reaper, s->pid)) == s);
	T_INTEQ(s->restarts, 1);
	/* Freed while running: its PID no longer finds it. */
	pid = s->pid;
	instance_free(s);
	T_CHECK(reaper_find(w->reaper, pid) == NULL);
	T_INTEQ(w->seen.types[w->seen.n - 1], EVENTS_INSTANCE_REMOVED);
	world_free(w);
}

T_CASE(stop_escalates_on_the_timer)
{
	struct world		*w = world_new();
	struct conf_program	 cp = base_cp();
	struct svc		*s = instance_new(w->env, &cp, 0, "web", w);
	pid_t			 pid;
	int			 i;

	svc_event(s, SVC_EV_START, 0);
	pid = s->pid;
	svc_event(s, SVC_EV_STOP, 0);
	T_INTEQ(s->state, SVC_STOPPING);
	/* stop_timeout passes (SIGKILL goes out); the process ends. */
	event_base_loop(w->base, EVLOOP_ONCE);
	T_INTEQ(s->state, SVC_STOPPING);
	ends(w, pid, SIGKILL);
	T_INTEQ(s->state, SVC_STOPPED);
	i = find(&w->seen, EVENTS_INSTANCE_EXITED, 0);
	T_CHECK(i > 0 && w->seen.next[i] == EVENTS_NEXT_STOPPED);
	T_CHECK(find(&w->seen, EVENTS_INSTANCE_STOPPING, 0) < i);
	T_CHECK(find(&w->seen, EVENTS_INSTANCE_STOPPED, i) > i);
	T_INTEQ(nlaunched, 1);
	instance_free(s);
	world_free(w);
}

T_CASE(forking_launcher_is_its_own_owner)
{
	struct world		*w = world_new();
	struct conf_program	 cp = base_cp();
	struct svc		*s;
	struct proc_owner	*o;
	pid_t			 pid;
	int			 i;

	cp.type = CONF_TYPE_FORKING;
	s = instance_new(w->env, &cp, 0, "web", w);
	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(s->state, SVC_STARTING);
	pid = s->pid;
	o = reaper_find(w->reaper, pid);
	T_CHECK(o != NULL && strcmp(o->ops->kind, "launcher") == 0);
	/* A launcher is not a main process (the tracker asks). */
	T_CHECK(instance_of(o) == NULL);
	/* It exits 0 and leaves nothing: a failed start. */
	ends(w, pid, 0);
	T_INTEQ(s->state, SVC_BACKOFF);
	T_INTEQ(s->fails, 1);
	T_STREQ(s->error, "the launcher left no process running (set pidfile "
	    "if the main process is not an orphan)");
	i = find(&w->seen, EVENTS_INSTANCE_EXITED, 0);
	T_CHECK(i > 0 && w->seen.launcher[i]);
	T_INTEQ(w->seen.next[i], EVENTS_NEXT_WAIT);
	instance_free(s);
	world_free(w);
}

T_CASE(spawn_short_of_descriptors_is_no_failure)
{
	struct world		*w = world_new();
	struct conf_program	 cp = base_cp();
	struct svc		*s = instance_new(w->env, &cp, 0, "web", w);

	launch_errno = EMFILE;
	svc_event(s, SVC_EV_START, 0);
	T_INTEQ(s->state, SVC_BACKOFF);
	T_INTEQ(s->fails, 0);
	T_INTEQ(nlaunched, 0);
	until_state(w, s, SVC_RUNNING);
	T_INTEQ(nlaunched, 1);
	instance_free(s);
	world_free(w);
}

T_CASE(adopted_process_gone_is_never_signalled_by_pid)
{
	struct world		*w = world_new();
	struct conf_program	 cp = base_cp();
	struct svc		*s = instance_new(w->env, &cp, 0, "web", w);
	struct procfs_stat	 st;
	pid_t			 child;
	int			 status, i;

	if ((child = fork()) == 0) {
		pause();
		_exit(0);
	}
	T_INTEQ(procfs_read_stat(child, &st), 0);
	T_INTEQ(instance_adopt(s, child, st.starttime, 0), 0);
	T_INTEQ(s->state, SVC_RUNNING);
	T_CHECK(s->adopted);
	T_CHECK(instance_watched(s));
	T_INTEQ(instance_signal(s, 0, false), 1);
	/* It dies and is reaped behind tendd's back: its PID is free for
	   anyone. The pidfd (or the start time) says it is gone. */
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	errno = 0;
	T_INTEQ(instance_signal(s, SIGTERM, false), -1);
	T_INTEQ(errno, ESRCH);
	/* The watch sees the end: an exit of unknown status, restarted. */
	until_state(w, s, SVC_BACKOFF);
	i = find(&w->seen, EVENTS_INSTANCE_EXITED, 0);
	T_CHECK(i > 0 && w->seen.status[i] == -1);
	T_CHECK(find(&w->seen, EVENTS_INSTANCE_ADOPTED, 0) < i);
	until_state(w, s, SVC_RUNNING);
	T_CHECK(!s->adopted);
	T_CHECK(!instance_watched(s));
	instance_free(s);
	world_free(w);
}

T_MAIN(T_ENTRY(spawn_exit_backoff_respawn),
    T_ENTRY(stop_escalates_on_the_timer),
    T_ENTRY(forking_launcher_is_its_own_owner),
    T_ENTRY(spawn_short_of_descriptors_is_no_failure),
    T_ENTRY(adopted_process_gone_is_never_signalled_by_pid))
