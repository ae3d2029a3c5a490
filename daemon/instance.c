/*
 * instance.c: the runtime of an instance: svc_ops carried out (spawn,
 * signals, the timer), its processes as owners on the reaper, the pidfd
 * watch, a forking program's pidfile wait, and its changes published.
 */
#include <sys/inotify.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "events.h"
#include "instance.h"
#include "log.h"
#include "logs.h"
#include "pidrec.h"
#include "procfs.h"
#include "reaper.h"
#include "rundir.h"
#include "svc.h"
#include "track.h"
#include "util.h"

/* While an instance waits for what outlived its main process to die,
   how often to look when no exit tells tendd (processes that are not its
   children, such as those of an adopted instance). */
#define REST_RECHECK		(100 * USEC_PER_MSEC)

struct instance {
	struct svc		 svc;		/* first: the state machine */
	struct svc		*s;		/* &svc */
	struct instance_env	*env;
	void			*owner;		/* the daemon's program */
	TAILQ_ENTRY(instance)	 entry;		/* env->all */

	struct proc_owner	 main;		/* its main process */
	struct proc_owner	 launcher;	/* a forking launcher */

	struct event		*timer;		/* svc's one timer */
	struct event		*watch;		/* pidfd (or a poll) for a
						   main process that is not
						   tendd's child */
	struct event		*probe;		/* forking: look again */
	int			 pidfd;		/* -1: none */
	int			 rec_slot;	/* in the spawn record, -1 */
	uint64_t		 starttime;	/* of the main process (procfs
						   ticks), 0: not known yet */
	bool			 pidfile_wait;	/* in env->waits */
};
TAILQ_HEAD(instance_list, instance);

struct instance_env {
	struct instance_env_params p;
	struct instance_sys	 sys;
	struct svc_ops		 ops;		/* instance_ops, sys's clock */
	struct pidrec		*pidrec;
	bool			 stopping;
	struct instance_list	 all;
	struct instance		**waits;	/* for their pidfile (few) */
	size_t			 nwaits;
	int			 inotify;	/* -1: none */
	struct event		*ev_inotify;
	struct event		*ev_rest;	/* recheck leftovers */
};

static pid_t	 instance_spawn(struct svc *, char *, size_t,
		    enum svc_spawn_fail *);
static int	 instance_kill_op(struct svc *, pid_t, int, bool);
static void	 instance_timer_set(struct svc *, uint64_t);
static void	 instance_timer_cancel(struct svc *);
static void	 instance_changed(struct svc *, enum svc_state,
		    const struct svc_change *);
static int	 instance_kill_rest(struct svc *);
static bool	 instance_busy(struct svc *);
static pid_t	 instance_find_main(struct svc *, char *, size_t);
static void	 instance_unwatch(struct instance *);
static bool	 instance_watched_alive(const struct svc *, pid_t);
static void	 instance_pidfile_done(struct instance *);
static void	 main_exited(struct proc_owner *, pid_t, int);
static void	 launcher_exited(struct proc_owner *, pid_t, int);
static void	 instance_describe(const struct proc_owner *, pid_t, char *,
		    size_t);

static const struct svc_ops instance_ops = {
	.spawn = instance_spawn,
	.kill = instance_kill_op,
	.timer_set = instance_timer_set,
	.timer_cancel = instance_timer_cancel,
	.now = util_now_mono,
	.changed = instance_changed,
	.kill_rest = instance_kill_rest,
	.busy = instance_busy,
	.find_main = instance_find_main,
};

static const struct proc_owner_ops main_ops = {
	.kind = "main",
	.exited = main_exited,
	.describe = instance_describe,
};

static const struct proc_owner_ops launcher_ops = {
	.kind = "launcher",
	.exited = launcher_exited,
	.describe = instance_describe,
};

static struct instance *
INST(const struct svc *s)
{
	return s->owner;
}

/* The environment */

static void	instance_rest_cb(evutil_socket_t, short, void *);

struct instance_env *
instance_env_new(const struct instance_env_params *p)
{
	struct instance_env	*env = xcalloc(1, sizeof *env);

	env->p = *p;
	env->sys.launch = launch_instance;
	env->sys.now = util_now_mono;
	if (p->sys != NULL)
		env->sys = *p->sys;
	env->ops = instance_ops;
	env->ops.now = env->sys.now;
	env->inotify = -1;
	TAILQ_INIT(&env->all);
	env->ev_rest = evtimer_new(p->base, instance_rest_cb, env);
	return env;
}

void
instance_env_free(struct instance_env *env)
{
	if (env == NULL)
		return;
	if (env->ev_inotify != NULL)
		event_free(env->ev_inotify);
	if (env->inotify != -1)
		close(env->inotify);
	event_free(env->ev_rest);
	free(env->waits);
	free(env);
}

void
instance_env_set_pidrec(struct instance_env *env, struct pidrec *pr)
{
	env->pidrec = pr;
}

void
instance_env_set_stopping(struct instance_env *env, bool stopping)
{
	env->stopping = stopping;
}

struct svc *
instance_each(struct instance_env *env, bool (*fn)(struct svc *, void *),
    void *arg)
{
	struct instance	*in, *next;

	for (in = TAILQ_FIRST(&env->all); in != NULL; in = next) {
		next = TAILQ_NEXT(in, entry);
		if (fn(in->s, arg))
			return in->s;
	}
	return NULL;
}

/* Instances and their owners */

struct svc *
instance_new(struct instance_env *env, const struct conf_program *cp,
    unsigned index, const char *name, void *owner)
{
	struct instance	*in = xcalloc(1, sizeof *in);

	in->env = env;
	in->owner = owner;
	in->pidfd = -1;
	in->rec_slot = -1;
	in->main.ops = &main_ops;
	in->launcher.ops = &launcher_ops;
	svc_init(&in->svc, &env->ops, cp, in, index, name);
	in->s = &in->svc;
	in->s->logio = logio_new(env->p.logs, in->s);
	TAILQ_INSERT_TAIL(&env->all, in, entry);
	return in->s;
}

void
instance_free(struct svc *s)
{
	struct instance	*in;

	if (s == NULL)
		return;
	in = INST(s);
	/* Whoever holds on to it lets go now (waiters). */
	events_instance(in->env->p.events, EVENTS_INSTANCE_REMOVED, s, -1);
	/* A process still registered (tendd leaving while it runs) must
	   not reach a freed owner. */
	if (s->pid > 0) {
		if (reaper_find(in->env->p.reaper, s->pid) == &in->main ||
		    reaper_find(in->env->p.reaper, s->pid) == &in->launcher)
			reaper_remove(in->env->p.reaper, s->pid);
	}
	if (in->timer != NULL)
		event_free(in->timer);
	if (in->probe != NULL)
		event_free(in->probe);
	instance_unwatch(in);
	instance_pidfile_done(in);
	track_forget(in->env->p.track, s);
	if (in->env->pidrec != NULL)
		pidrec_release(in->env->pidrec, in->rec_slot);
	logio_free(s->logio);
	TAILQ_REMOVE(&in->env->all, in, entry);
	svc_clear(s);
	free(in);
}

void
instance_claim_record(struct svc *s)
{
	struct instance	*in = INST(s);

	if (in->env->pidrec == NULL || in->rec_slot != -1)
		return;
	if ((in->rec_slot = pidrec_claim(in->env->pidrec, s->cp->name,
	    s->index)) == -1)
		log_warn("%s: no slot in the spawn record", s->name);
}

uint64_t
instance_starttime(struct svc *s)
{
	struct instance		*in = INST(s);
	struct procfs_stat	 st;

	/* Read once per process, when first asked. */
	if (in->starttime == 0 && s->pid > 0 &&
	    procfs_read_stat(s->pid, &st) == 0 && st.state != 'Z')
		in->starttime = st.starttime;
	return s->pid > 0 ? in->starttime : 0;
}

void *
instance_owner(const struct svc *s)
{
	return INST(s)->owner;
}

struct svc *
instance_of(const struct proc_owner *o)
{
	if (o == NULL || o->ops != &main_ops)
		return NULL;
	return ((const struct instance *)((const char *)o -
	    offsetof(struct instance, main)))->s;
}

bool
instance_watched(const struct svc *s)
{
	return INST(s)->watch != NULL;
}

static void
instance_describe(const struct proc_owner *o, pid_t pid, char *buf,
    size_t len)
{
	const struct instance	*in;

	in = o->ops == &main_ops ?
	    (const struct instance *)((const char *)o -
	    offsetof(struct instance, main)) :
	    (const struct instance *)((const char *)o -
	    offsetof(struct instance, launcher));
	snprintf(buf, len, "%s%s", in->s->name, o->ops == &launcher_ops ?
	    " (launcher)" : "");
}

static void
instance_log_exit(const struct svc *s, pid_t pid, int status)
{
	if (WIFEXITED(status))
		log_info("%s: pid %d exited with code %d", s->name, (int)pid,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_info("%s: pid %d killed by signal %s%s", s->name,
		    (int)pid, util_signal_name(WTERMSIG(status)),
		    WCOREDUMP(status) ? " (core dumped)" : "");
}

static bool	instance_follow_pidfile(struct instance *, pid_t);

static void
main_exited(struct proc_owner *o, pid_t pid, int status)
{
	struct instance	*in = (struct instance *)((char *)o -
			    offsetof(struct instance, main));
	struct svc	*s = in->s;

	/* What it wrote comes before the news of its exit. */
	logio_drain(s->logio);
	instance_log_exit(s, pid, status);
	if (!instance_follow_pidfile(in, pid))
		svc_event(s, SVC_EV_EXITED, status);
}

static void
launcher_exited(struct proc_owner *o, pid_t pid, int status)
{
	struct instance	*in = (struct instance *)((char *)o -
			    offsetof(struct instance, launcher));

	logio_drain(in->s->logio);
	instance_log_exit(in->s, pid, status);
	svc_event(in->s, SVC_EV_LAUNCHER_EXITED, status);
}

/* svc ops */

/* Is errno a shortage of tendd's (descriptors, memory, processes)? */
static bool
instance_shortage(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == EAGAIN ||
	    e == ENOSPC;
}

static pid_t
instance_spawn(struct svc *s, char *err, size_t errlen,
    enum svc_spawn_fail *fail)
{
	struct instance		*in = INST(s);
	struct instance_env	*env = in->env;
	struct launch_stdio	 io = *env->p.stdio;
	struct launch_record	 rec;
	pid_t			 pid;
	uint64_t		 t0, t1;
	int			 cgfd, e;
	bool			 permanent;

	if (env->stopping) {
		snprintf(err, errlen, "tendd is shutting down");
		*fail = SVC_SPAWN_PERMANENT;
		return -1;
	}
	if (s->cp->nruntime_dirs > 0 &&
	    rundir_create(s->cp, s->index, err, errlen) == -1) {
		e = errno;
		log_warnx("%s: %s", s->name, err);
		*fail = instance_shortage(e) ? SVC_SPAWN_RESOURCES :
		    SVC_SPAWN_RETRY;
		return -1;
	}
	/* tendd --run: the command gets tendd's own stdout and stderr, as
	   from a shell (a terminal stays a terminal); no logs are kept. */
	if (!env->p.run_mode &&
	    logio_stdio(s->logio, &io, err, errlen) == -1) {
		e = errno;
		log_warnx("%s: %s", s->name, err);
		*fail = instance_shortage(e) ? SVC_SPAWN_RESOURCES :
		    SVC_SPAWN_RETRY;
		return -1;
	}
	/* tendd --run on a terminal it owns: the command takes it (see
	   launch.h). tendd itself never reads it. */
	io.terminal = io.foreground && isatty(STDIN_FILENO) &&
	    tcgetpgrp(STDIN_FILENO) == getpgrp();
	cgfd = track_spawn_fd(env->p.track, s);
	if (cgfd == -1 && strcmp(track_mode(env->p.track), "cgroup") == 0) {
		/* Started outside its cgroup it could escape tracking. */
		e = errno;
		snprintf(err, errlen, "cannot create its cgroup: %s",
		    strerror(e));
		*fail = instance_shortage(e) ? SVC_SPAWN_RESOURCES :
		    SVC_SPAWN_RETRY;
		return -1;
	}
	t0 = procfs_boot_now();
	/* The spawn record (pidrec.h): the child writes its slot. */
	rec.fd = -1;
	instance_claim_record(s);
	if (env->pidrec != NULL && in->rec_slot != -1)
		pidrec_target(env->pidrec, in->rec_slot, s->cp->name, s->index,
		    s->cp->type == CONF_TYPE_FORKING ? PIDREC_LAUNCHER : 0, t0,
		    &rec);
	pid = env->sys.launch(s->cp, s->index, &io, cgfd, &rec, err, errlen,
	    &permanent);
	e = errno;
	t1 = procfs_boot_now();
	if (cgfd != -1)
		close(cgfd);
	if (pid == -1) {
		log_warnx("%s: %s", s->name, err);
		*fail = permanent ? SVC_SPAWN_PERMANENT :
		    instance_shortage(e) ? SVC_SPAWN_RESOURCES :
		    SVC_SPAWN_RETRY;
		return -1;
	}
	if (reaper_add(env->p.reaper, pid, s->cp->type == CONF_TYPE_FORKING ?
	    &in->launcher : &in->main) == -1)
		fatalx("%s: pid %d is already in the process table", s->name,
		    (int)pid);
	/* For the state file; 0: read from /proc when saved. */
	in->starttime = procfs_starttime_between(t0, t1);
	return pid;
}

/* Signal the main process alone: by pidfd when it is not tendd's child
   (its PID could be recycled unseen), else by PID (a child's PID is held
   until tendd reaps it). */
static int
instance_kill_main(struct svc *s, pid_t pid, int sig)
{
	struct instance	*in = INST(s);

	if (in->pidfd != -1 && pid == s->pid)
		return procfs_pidfd_signal(in->pidfd, sig);
	if (in->watch != NULL && pid == s->pid &&
	    !instance_watched_alive(s, pid)) {
		/* Watched without a pidfd: never a recycled PID. */
		errno = ESRCH;
		return -1;
	}
	return kill(pid, sig);
}

/* Signal pid, or every process of the instance with group: the number
   signalled, or -1 with errno. The one signal path: stop, restart,
   shutdown and tendctl signal. */
static int
instance_kill(struct svc *s, pid_t pid, int sig, bool group)
{
	struct track	*t = INST(s)->env->p.track;
	bool		 found;
	int		 n;

	if (pid <= 0)
		return 0;
	log_debug("%s: sending %s to %s %d", s->name, util_signal_name(sig),
	    group ? "every process of" : "pid", (int)pid);
	if (group) {
		n = track_signal(t, s, sig, &found);
		/* A main process from before cgroups were in use. Only asked
		   when the leaf did not list it: reading /proc/PID/cgroup per
		   instance was a fifth of a stop of 1000, with the dcache
		   work it left for the reaping. */
		if (strcmp(track_mode(t), "cgroup") == 0 &&
		    (!found || pid != s->pid) && !track_owns(t, s, pid) &&
		    instance_kill_main(s, pid, sig) == 0)
			n++;
		if (n == 0) {
			errno = ESRCH;
			return -1;
		}
		return n;
	}
	if (instance_kill_main(s, pid, sig) == -1) {
		if (errno != ESRCH)
			log_warn("%s: kill %d", s->name, (int)pid);
		return -1;
	}
	return 1;
}

static int
instance_kill_op(struct svc *s, pid_t pid, int sig, bool group)
{
	/* For a stop, nothing left of the group is no failure: the exit
	   is on its way. */
	if (instance_kill(s, pid, sig, group) == -1 && !group)
		return -1;
	return 0;
}

int
instance_signal(struct svc *s, int sig, bool group)
{
	if (s->pid <= 0) {
		/* A stop waiting for what outlived the main process. */
		if (group && s->state == SVC_STOPPING)
			return track_signal(INST(s)->env->p.track, s, sig,
			    NULL);
		errno = ESRCH;
		return -1;
	}
	return instance_kill(s, s->pid, sig, group);
}

static void
instance_rest_later(struct instance_env *env)
{
	struct timeval	 tv;

	if (!evtimer_pending(env->ev_rest, NULL)) {
		util_usec_tv(REST_RECHECK, &tv);
		evtimer_add(env->ev_rest, &tv);
	}
}

static int
instance_kill_rest(struct svc *s)
{
	struct instance_env	*env = INST(s)->env;
	int			 n;

	if ((n = track_signal(env->p.track, s, SIGKILL, NULL)) > 0) {
		log_info("%s: killed %d process%s left by its main process",
		    s->name, n, n == 1 ? "" : "es");
		instance_rest_later(env);
	}
	return n;
}

static bool
instance_busy(struct svc *s)
{
	struct track	*t = INST(s)->env->p.track;

	/* Never ran here: look only where something can be left. */
	if (s->sid == 0 && s->pid == 0 && !track_may_hold(t, s))
		return false;
	return track_busy(t, s);
}

/* Instances waiting for what outlived their main process: done yet? */
static void
instance_check_rest(struct instance_env *env)
{
	struct instance	*in, *next;
	struct svc	*s;
	bool		 waiting = false;

	for (in = TAILQ_FIRST(&env->all); in != NULL; in = next) {
		next = TAILQ_NEXT(in, entry);
		s = in->s;
		if (s->state != SVC_STOPPING || s->pid != 0)
			continue;
		if (track_busy(env->p.track, s))
			waiting = true;
		else
			svc_event(s, SVC_EV_EMPTY, 0);
	}
	if (waiting)
		instance_rest_later(env);
}

static void
instance_rest_cb(evutil_socket_t fd, short events, void *arg)
{
	instance_check_rest(arg);
}

void
instance_env_reaped(struct instance_env *env)
{
	/* Orphans just re-parented: whose are they, while it shows? */
	if (strcmp(track_mode(env->p.track), "process-tree") == 0)
		track_look(env->p.track);
	instance_check_rest(env);
}

/* A main process that is not tendd's child */

/* Its pidfd became readable: it ended. */
static void
instance_watch_cb(evutil_socket_t fd, short events, void *arg)
{
	struct instance	*in = arg;
	struct svc	*s = in->s;
	pid_t		 pid = s->pid;

	instance_unwatch(in);
	log_info("%s: pid %d ended (exit status unknown: not tendd's child)",
	    s->name, (int)pid);
	if (instance_follow_pidfile(in, pid))
		return;
	svc_event(s, SVC_EV_EXITED, SVC_STATUS_UNKNOWN);
}

/* Is the watched main process (pid, in->starttime) still there? */
static bool
instance_watched_alive(const struct svc *s, pid_t pid)
{
	struct procfs_stat	 st;

	return procfs_read_stat(pid, &st) == 0 && st.state != 'Z' &&
	    st.starttime == INST(s)->starttime;
}

static void
instance_watch_poll_cb(evutil_socket_t fd, short events, void *arg)
{
	struct instance	*in = arg;
	struct timeval	 tv = { 1, 0 };

	if (instance_watched_alive(in->s, in->s->pid)) {
		evtimer_add(in->watch, &tv);
		return;
	}
	instance_watch_cb(-1, 0, in);
}

/* Watch pid, the main process, by pidfd (or a poll without pidfds). */
static int
instance_watch(struct instance *in, pid_t pid, uint64_t starttime)
{
	struct svc	*s = in->s;
	struct timeval	 tv = { 1, 0 };
	int		 fd;

	if ((fd = procfs_pidfd_open(pid, starttime)) != -1) {
		in->pidfd = fd;
		in->starttime = starttime;
		in->watch = event_new(in->env->p.base, fd, EV_READ,
		    instance_watch_cb, in);
		event_add(in->watch, NULL);
		return 0;
	}
	if (errno == ESRCH)
		return -1;
	/*
	 * No pidfd here (a kernel before 5.3, a seccomp filter, valgrind).
	 * Starting a second copy would be worse than looking: the start
	 * time still tells the process apart, so check it once a second,
	 * and before every signal.
	 */
	in->starttime = starttime;
	if (!instance_watched_alive(s, pid)) {
		errno = ESRCH;
		return -1;
	}
	log_warn("%s: no pidfd for pid %d; checking on it every second",
	    s->name, (int)pid);
	in->watch = evtimer_new(in->env->p.base, instance_watch_poll_cb, in);
	evtimer_add(in->watch, &tv);
	return 0;
}

static void
instance_unwatch(struct instance *in)
{
	if (in->watch != NULL) {
		event_free(in->watch);
		in->watch = NULL;
	}
	if (in->pidfd != -1) {
		close(in->pidfd);
		in->pidfd = -1;
	}
}

int
instance_adopt(struct svc *s, pid_t pid, uint64_t starttime, uint64_t age)
{
	struct instance	*in = INST(s);

	if (instance_watch(in, pid, starttime) == -1)
		return -1;
	in->starttime = starttime;
	svc_adopt(s, pid, age);
	return 0;
}

/* Forking programs: pidfiles and the wait for them */

static void
instance_inotify_cb(evutil_socket_t fd, short events, void *arg)
{
	struct instance_env	*env = arg;
	struct instance		**v;
	char			 buf[4096];
	size_t			 i, n;

	/* Which file changed matters little: every waiter looks again (one
	   that finds its main process leaves the list: go by a copy). */
	while (read(fd, buf, sizeof buf) > 0)
		;
	if ((n = env->nwaits) == 0)
		return;
	v = xreallocarray(NULL, n, sizeof *v);
	memcpy(v, env->waits, n * sizeof *v);
	for (i = 0; i < n; i++)
		svc_event(v[i]->s, SVC_EV_LOOK, 0);
	free(v);
}

static void
instance_pidfile_wait(struct instance *in, const char *path)
{
	struct instance_env	*env = in->env;
	char			*dir, *slash;

	if (env->inotify == -1) {
		if ((env->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) ==
		    -1) {
			log_warn("inotify");
			return;
		}
		env->ev_inotify = event_new(env->p.base, env->inotify,
		    EV_READ | EV_PERSIST, instance_inotify_cb, env);
		event_add(env->ev_inotify, NULL);
	}
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (inotify_add_watch(env->inotify, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
	    IN_CREATE | IN_ATTRIB) == -1)
		log_warn("%s: watch %s", in->s->name, dir);
	free(dir);
	if (!in->pidfile_wait) {
		in->pidfile_wait = true;
		env->waits = xreallocarray(env->waits, env->nwaits + 1,
		    sizeof *env->waits);
		env->waits[env->nwaits++] = in;
	}
}

static void
instance_pidfile_done(struct instance *in)
{
	struct instance_env	*env = in->env;
	size_t			 i;

	if (!in->pidfile_wait)
		return;
	in->pidfile_wait = false;
	for (i = 0; i < env->nwaits; i++) {
		if (env->waits[i] == in) {
			env->waits[i] = env->waits[--env->nwaits];
			break;
		}
	}
	if (env->nwaits == 0 && env->inotify != -1) {
		/* Closing drops every watch. */
		event_free(env->ev_inotify);
		env->ev_inotify = NULL;
		close(env->inotify);
		env->inotify = -1;
	}
}

static void
instance_probe_cb(evutil_socket_t fd, short events, void *arg)
{
	struct instance	*in = arg;

	svc_event(in->s, SVC_EV_LOOK, 0);
}

/* The main process is pid: watch it as tendd's child or by pidfd. */
static int
instance_take_main(struct instance *in, pid_t pid)
{
	struct svc		*s = in->s;
	struct procfs_stat	 st;

	if (procfs_read_stat(pid, &st) == -1 || st.state == 'Z')
		return -1;
	if (st.ppid == getpid()) {
		if (reaper_add(in->env->p.reaper, pid, &in->main) == -1)
			return -1;
	} else if (instance_watch(in, pid, st.starttime) == -1)
		return -1;
	in->starttime = st.starttime;
	log_info("%s: main process is pid %d%s", s->name, (int)pid,
	    st.ppid == getpid() ? "" : " (not tendd's child: its exit "
	    "status will be unknown)");
	return 0;
}

static pid_t
instance_find_main(struct svc *s, char *err, size_t errlen)
{
	struct instance	*in = INST(s);
	struct track	*t = in->env->p.track;
	struct timeval	 tv;
	uint64_t	 elapsed = in->env->sys.now() - s->started;
	char		*path, why[512];
	pid_t		 pid, *v = NULL;
	size_t		 n = 0;

	if (s->cp->pidfile != NULL) {
		path = util_subst(s->cp->pidfile, s->cp->name, s->index);
		/* Watch before reading: a write between a read that finds
		   nothing and the watch would be missed, and the start would
		   hang until start_timeout. */
		instance_pidfile_wait(in, path);
		pid = procfs_read_pidfile(path, why, sizeof why);
		/* Process-tree mode cannot tell whose a daemon is once it
		   left the session and wiped its environment (nginx): one
		   re-parented to tendd that nobody else claims is the one
		   its pidfile names. */
		if (pid > 0 && !track_owns(t, s, pid) &&
		    !track_claim_orphan(t, s, pid))
			snprintf(why, sizeof why, "%s holds pid %d, which is "
			    "not a process of %s", path, (int)pid, s->name);
		else if (pid > 0 && instance_take_main(in, pid) == 0) {
			instance_pidfile_done(in);
			free(path);
			return pid;
		} else if (pid > 0)
			snprintf(why, sizeof why, "%s holds pid %d, which has "
			    "ended", path, (int)pid);
		/* Not yet: look again when the file changes. The reason
		   shows in status meanwhile. */
		log_debug("%s: %s", s->name, why);
		svc_note(s, why);
		free(path);
		return 0;
	}
	if (elapsed < s->cp->start_secs) {
		/* Let the launcher's children settle (a double fork). */
		if (in->probe == NULL)
			in->probe = evtimer_new(in->env->p.base,
			    instance_probe_cb, in);
		util_usec_tv(s->cp->start_secs - elapsed, &tv);
		evtimer_add(in->probe, &tv);
		return 0;
	}
	if (track_orphans_of(t, s, &v, &n) == -1)
		n = 0;
	pid = n == 1 ? v[0] : -1;
	free(v);
	if (n == 0)
		snprintf(err, errlen, "the launcher left no process running "
		    "(set pidfile if the main process is not an orphan)");
	else if (n > 1)
		snprintf(err, errlen, "the launcher left %zu processes: set "
		    "pidfile to name the main one", n);
	else if (instance_take_main(in, pid) == -1) {
		snprintf(err, errlen, "main process %d ended", (int)pid);
		pid = -1;
	}
	return pid;
}

/*
 * The main process of a running forking program ended: if its pidfile
 * now names another process of the instance (a daemon that re-executed
 * itself, or handed over to a new master), the state machine takes that
 * one as the main process (SVC_EV_MAIN).
 */
static bool
instance_follow_pidfile(struct instance *in, pid_t old)
{
	struct svc	*s = in->s;
	char		*path, why[512];
	pid_t		 pid;

	if (s->cp->type != CONF_TYPE_FORKING || s->cp->pidfile == NULL ||
	    s->state != SVC_RUNNING || s->pid != old)
		return false;
	path = util_subst(s->cp->pidfile, s->cp->name, s->index);
	pid = procfs_read_pidfile(path, why, sizeof why);
	free(path);
	if (pid <= 0 || pid == old || !track_owns(in->env->p.track, s, pid) ||
	    instance_take_main(in, pid) == -1)
		return false;
	svc_event(s, SVC_EV_MAIN, pid);
	return true;
}

/* The timer */

static void
instance_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct instance	*in = arg;

	svc_event(in->s, SVC_EV_TIMER, 0);
}

static void
instance_timer_set(struct svc *s, uint64_t usec)
{
	struct instance	*in = INST(s);
	struct timeval	 tv;

	if (in->timer == NULL)
		in->timer = evtimer_new(in->env->p.base, instance_timer_cb, in);
	util_usec_tv(usec, &tv);
	evtimer_add(in->timer, &tv);
}

static void
instance_timer_cancel(struct svc *s)
{
	struct instance	*in = INST(s);

	if (in->timer != NULL)
		evtimer_del(in->timer);
}

/* Changes */

static void
instance_log_change(const struct svc *s, enum svc_state old)
{
	/* Giving up is worth a warning: at --log-level warn it is what an
	   operator must not miss. */
	if (s->state == SVC_FAILED)
		log_warnx("%s: %s -> failed%s%s%s", s->name,
		    svc_state_name(old), s->error != NULL ? " (" : "",
		    s->error != NULL ? s->error : "",
		    s->error != NULL ? ")" : "");
	else if (s->error != NULL && s->state == SVC_BACKOFF)
		log_info("%s: %s -> %s (%s)", s->name, svc_state_name(old),
		    svc_state_name(s->state), s->error);
	else if (s->pid > 0 && (s->state == SVC_STARTING ||
	    (s->state == SVC_RUNNING && old != SVC_STARTING)))
		log_info("%s: %s -> %s (pid %d)", s->name, svc_state_name(old),
		    svc_state_name(s->state), (int)s->pid);
	else
		log_info("%s: %s -> %s", s->name, svc_state_name(old),
		    svc_state_name(s->state));
}

_Static_assert((int)EVENTS_NEXT_WAIT == (int)SVC_NEXT_WAIT &&
    (int)EVENTS_NEXT_GIVE_UP == (int)SVC_NEXT_GIVE_UP,
    "enum events_next follows enum svc_next");

/* Publish a change of the instance on the stream. */
static void
instance_publish(struct instance *in, enum svc_state old,
    const struct svc_change *ch)
{
	static const enum events_type by_state[SVC_NSTATES] = {
		[SVC_STOPPED] = EVENTS_INSTANCE_STOPPED,
		[SVC_STARTING] = EVENTS_INSTANCE_STATE,
		[SVC_RUNNING] = EVENTS_INSTANCE_RUNNING,
		[SVC_BACKOFF] = EVENTS_INSTANCE_RESTARTING,
		[SVC_STOPPING] = EVENTS_INSTANCE_STOPPING,
		[SVC_EXITED] = EVENTS_INSTANCE_STATE,
		[SVC_FAILED] = EVENTS_INSTANCE_FAILED,
	};
	struct svc		*s = in->s;
	struct events_msg	 m;

	memset(&m, 0, sizeof m);
	m.svc = s;
	m.old = old;
	m.pid = s->pid;
	m.status = -1;
	if (ch == NULL) {
		m.type = by_state[s->state];
		if (s->state == SVC_BACKOFF)
			m.delay = s->delay;
		if (s->error != NULL && (s->state == SVC_BACKOFF ||
		    s->state == SVC_FAILED))
			m.data = json_pack("{s:s}", "error", s->error);
		events_publish(in->env->p.events, &m);
		return;
	}
	m.old = -1;
	m.pid = ch->pid;
	m.status = ch->status;
	switch (ch->kind) {
	case SVC_CH_SPAWNED:
		/* Into starting: the change of state comes with it. */
		m.type = EVENTS_INSTANCE_SPAWNED;
		m.old = ch->from;
		m.status = -1;
		break;
	case SVC_CH_EXITED:
		m.type = EVENTS_INSTANCE_EXITED;
		m.ran = ch->ran;
		m.next = (enum events_next)ch->next;
		m.delay = ch->delay;
		break;
	case SVC_CH_ADOPTED:
		m.type = EVENTS_INSTANCE_ADOPTED;
		m.status = -1;
		break;
	case SVC_CH_MAIN:
		/* Running still, with another main process. */
		m.type = EVENTS_INSTANCE_STATE;
		m.old = s->state;
		m.status = -1;
		m.data = json_pack("{s:I}", "previous_pid",
		    (json_int_t)ch->status);
		break;
	}
	if (ch->launcher && m.data == NULL)
		m.data = json_pack("{s:b}", "launcher", 1);
	events_publish(in->env->p.events, &m);
}

/* Has no instance of its program a process, or one coming? */
static bool
instance_program_down(const struct instance *in)
{
	const struct instance	*o;

	TAILQ_FOREACH(o, &in->env->all, entry) {
		if (o->owner == in->owner &&
		    (!svc_is_down(o->s) || o->s->pid != 0))
			return false;
	}
	return true;
}

static void
instance_changed(struct svc *s, enum svc_state old,
    const struct svc_change *ch)
{
	struct instance	*in = INST(s);

	if (ch != NULL && ch->from >= 0)
		instance_log_change(s, (enum svc_state)ch->from);
	if (ch == NULL) {
		instance_log_change(s, old);
		/* What the new state does not use goes, in one place. */
		if (s->state != SVC_STARTING) {
			instance_pidfile_done(in);
			if (in->probe != NULL)
				evtimer_del(in->probe);
		}
		if (s->pid == 0 && in->watch != NULL)
			instance_unwatch(in);
		if (svc_is_down(s) && s->pid == 0 && s->cp->nruntime_dirs > 0)
			rundir_remove(s->cp, s->index, instance_program_down(in));
	}
	instance_publish(in, old, ch);
}
