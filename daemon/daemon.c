/*
 * daemon.c: programs and instances, the svc side effects (spawn, kill,
 * timers), the reaper, reload and shutdown.
 */
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "cmd.h"
#include "control.h"
#include "daemon.h"
#include "events.h"
#include "log.h"
#include "logs.h"
#include "notify.h"
#include "persist.h"
#include "pidrec.h"
#include "procfs.h"
#include "proctab.h"
#include "rundir.h"
#include "sigs.h"
#include "state.h"
#include "track.h"
#include "util.h"

/* Events kept for tendctl events --since (event_buffer). */
#define DAEMON_EVENT_BUFFER	10000
#define SHUTDOWN_KILL_GRACE	(5 * USEC_PER_SEC)
/* At exit, how long to wait for children that were killed with what was
   left of their process group to be reaped. */
#define SHUTDOWN_LINGER		USEC_PER_SEC
/* While an instance waits for what outlived its main process to die,
   how often to look when no exit tells tendd (processes that are not its
   children, such as those of an adopted instance). */
#define REST_RECHECK		(100 * USEC_PER_MSEC)

static pid_t	 daemon_svc_spawn(struct svc *, char *, size_t,
		    enum svc_spawn_fail *);
static int	 daemon_svc_kill(struct svc *, pid_t, int, bool);
static void	 daemon_svc_timer_set(struct svc *, uint64_t);
static void	 daemon_svc_timer_cancel(struct svc *);
static void	 daemon_svc_changed(struct svc *, enum svc_state);
static int	 daemon_svc_kill_rest(struct svc *);
static bool	 daemon_svc_busy(struct svc *);
static pid_t	 daemon_svc_find_main(struct svc *, char *, size_t);
static void	 daemon_unwatch(struct svc *);
static bool	 program_all_down(const struct program *);
static bool	 daemon_watched_alive(const struct svc *, pid_t);
static bool	 daemon_follow_pidfile(struct daemon *, struct svc *, pid_t);

static const struct svc_ops daemon_svc_ops = {
	.spawn = daemon_svc_spawn,
	.kill = daemon_svc_kill,
	.timer_set = daemon_svc_timer_set,
	.timer_cancel = daemon_svc_timer_cancel,
	.now = util_now_mono,
	.changed = daemon_svc_changed,
	.kill_rest = daemon_svc_kill_rest,
	.busy = daemon_svc_busy,
	.find_main = daemon_svc_find_main,
};

static struct program *
svc_program(const struct svc *s)
{
	return s->owner;
}

static void
usec_to_tv(uint64_t usec, struct timeval *tv)
{
	tv->tv_sec = (time_t)(usec / USEC_PER_SEC);
	tv->tv_usec = (suseconds_t)(usec % USEC_PER_SEC);
}

static void
daemon_schedule_gc(struct daemon *d)
{
	event_active(d->ev_gc, 0, 0);
}

/* svc ops */

/* Is errno a shortage of tendd's (descriptors, memory, processes)? */
static bool
daemon_shortage(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == EAGAIN ||
	    e == ENOSPC;
}

static pid_t
daemon_svc_spawn(struct svc *s, char *err, size_t errlen,
    enum svc_spawn_fail *fail)
{
	struct program		*p = svc_program(s);
	struct daemon		*d = p->d;
	struct launch_stdio	 io = d->stdio;
	struct launch_record	 rec;
	pid_t			 pid;
	uint64_t		 t0, t1;
	int			 cgfd, e;
	bool			 permanent;

	if (d->shutting_down) {
		snprintf(err, errlen, "tendd is shutting down");
		*fail = SVC_SPAWN_PERMANENT;
		return -1;
	}
	if (s->cp->nruntime_dirs > 0 &&
	    rundir_create(s->cp, s->index, err, errlen) == -1) {
		e = errno;
		log_warnx("%s: %s", s->name, err);
		*fail = daemon_shortage(e) ? SVC_SPAWN_RESOURCES :
		    SVC_SPAWN_RETRY;
		return -1;
	}
	/* tendd --run: the command gets tendd's own stdout and stderr, as
	   from a shell (a terminal stays a terminal); no logs are kept. */
	if (!d->run_mode && logio_stdio(s->logio, &io, err, errlen) == -1) {
		e = errno;
		log_warnx("%s: %s", s->name, err);
		*fail = daemon_shortage(e) ? SVC_SPAWN_RESOURCES :
		    SVC_SPAWN_RETRY;
		return -1;
	}
	/* tendd --run on a terminal it owns: the command takes it (see
	   launch.h). tendd itself never reads it. */
	io.terminal = io.foreground && isatty(STDIN_FILENO) &&
	    tcgetpgrp(STDIN_FILENO) == getpgrp();
	cgfd = track_spawn_fd(d->track, s);
	if (cgfd == -1 && strcmp(track_mode(d->track), "cgroup") == 0) {
		/* Started outside its cgroup it could escape tracking. */
		e = errno;
		snprintf(err, errlen, "cannot create its cgroup: %s",
		    strerror(e));
		*fail = daemon_shortage(e) ? SVC_SPAWN_RESOURCES :
		    SVC_SPAWN_RETRY;
		return -1;
	}
	t0 = procfs_boot_now();
	persist_launch_record(d, s, t0, &rec);
	pid = launch_instance(s->cp, s->index, &io, cgfd, &rec, err, errlen,
	    &permanent);
	e = errno;
	t1 = procfs_boot_now();
	if (cgfd != -1)
		close(cgfd);
	if (pid == -1) {
		log_warnx("%s: %s", s->name, err);
		*fail = permanent ? SVC_SPAWN_PERMANENT :
		    daemon_shortage(e) ? SVC_SPAWN_RESOURCES : SVC_SPAWN_RETRY;
		return -1;
	}
	if (proctab_add(d->procs, pid, PROCTAB_INSTANCE, s) == -1)
		fatalx("%s: pid %d is already in the process table", s->name,
		    (int)pid);
	/* For the state file; 0: read from /proc when saved. */
	s->starttime = procfs_starttime_between(t0, t1);
	persist_changed(d);
	return pid;
}

/* Signal the main process alone: by pidfd when it is not tendd's child
   (its PID could be recycled unseen), else by PID (a child's PID is held
   until tendd reaps it). */
static int
daemon_kill_main(struct svc *s, pid_t pid, int sig)
{
	if (s->pidfd != -1 && pid == s->pid)
		return procfs_pidfd_signal(s->pidfd, sig);
	if (s->watch != NULL && pid == s->pid &&
	    !daemon_watched_alive(s, pid)) {
		/* Watched without a pidfd: never a recycled PID. */
		errno = ESRCH;
		return -1;
	}
	return kill(pid, sig);
}

/* Signal pid, or every process of the instance with group: the number
   signalled, or -1 with errno. */
static int
daemon_kill(struct svc *s, pid_t pid, int sig, bool group)
{
	struct daemon	*d = svc_program(s)->d;
	bool		 found;
	int		 n;

	if (pid <= 0)
		return 0;
	log_debug("%s: sending %s to %s %d", s->name, util_signal_name(sig),
	    group ? "every process of" : "pid", (int)pid);
	if (group) {
		n = track_signal(d->track, s, sig, &found);
		/* A main process from before cgroups were in use. Only asked
		   when the leaf did not list it: reading /proc/PID/cgroup per
		   instance was a fifth of a stop of 1000, with the dcache
		   work it left for the reaping. */
		if (strcmp(track_mode(d->track), "cgroup") == 0 &&
		    (!found || pid != s->pid) && !track_owns(d->track, s, pid) &&
		    daemon_kill_main(s, pid, sig) == 0)
			n++;
		if (n == 0) {
			errno = ESRCH;
			return -1;
		}
		return n;
	}
	if (daemon_kill_main(s, pid, sig) == -1) {
		if (errno != ESRCH)
			log_warn("%s: kill %d", s->name, (int)pid);
		return -1;
	}
	return 1;
}

static int
daemon_svc_kill(struct svc *s, pid_t pid, int sig, bool group)
{
	/* For a stop, nothing left of the group is no failure: the exit
	   is on its way. */
	if (daemon_kill(s, pid, sig, group) == -1 && !group)
		return -1;
	return 0;
}

int
daemon_signal(struct svc *s, int sig)
{
	if (s->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return daemon_kill(s, s->pid, sig,
	    s->cp->kill_mode == CONF_KILL_GROUP) == -1 ? -1 : 0;
}

static void
daemon_rest_later(struct daemon *d)
{
	struct timeval	 tv;

	if (!evtimer_pending(d->ev_rest, NULL)) {
		usec_to_tv(REST_RECHECK, &tv);
		evtimer_add(d->ev_rest, &tv);
	}
}

static int
daemon_svc_kill_rest(struct svc *s)
{
	struct daemon	*d = svc_program(s)->d;
	int		 n;

	if ((n = track_signal(d->track, s, SIGKILL, NULL)) > 0) {
		log_info("%s: killed %d process%s left by its main process",
		    s->name, n, n == 1 ? "" : "es");
		daemon_rest_later(d);
	}
	return n;
}

static bool
daemon_svc_busy(struct svc *s)
{
	struct daemon	*d = svc_program(s)->d;

	/* Never ran here: look only where something can be left. */
	if (s->sid == 0 && s->pid == 0 && !track_may_hold(d->track, s))
		return false;
	return track_busy(d->track, s);
}

/* Watch a main process that is not tendd's child: its pidfd becomes
   readable when it ends. */
static void
daemon_watch_cb(evutil_socket_t fd, short events, void *arg)
{
	struct svc	*s = arg;
	pid_t		 pid = s->pid;

	daemon_unwatch(s);
	log_info("%s: pid %d ended (exit status unknown: not tendd's child)",
	    s->name, (int)pid);
	if (daemon_follow_pidfile(svc_program(s)->d, s, pid))
		return;
	svc_event(s, SVC_EV_EXITED, SVC_STATUS_UNKNOWN);
}

/* Is the watched main process (pid, s->starttime) still there? */
static bool
daemon_watched_alive(const struct svc *s, pid_t pid)
{
	struct procfs_stat	 st;

	return procfs_read_stat(pid, &st) == 0 && st.state != 'Z' &&
	    st.starttime == s->starttime;
}

static void
daemon_watch_poll_cb(evutil_socket_t fd, short events, void *arg)
{
	struct svc	*s = arg;
	struct timeval	 tv = { 1, 0 };

	if (daemon_watched_alive(s, s->pid)) {
		evtimer_add(s->watch, &tv);
		return;
	}
	daemon_watch_cb(-1, 0, s);
}

int
daemon_watch(struct daemon *d, struct svc *s, pid_t pid, uint64_t starttime)
{
	struct timeval	 tv = { 1, 0 };
	int		 fd;

	if ((fd = procfs_pidfd_open(pid, starttime)) != -1) {
		s->pidfd = fd;
		s->starttime = starttime;
		s->watch = event_new(d->base, fd, EV_READ, daemon_watch_cb, s);
		event_add(s->watch, NULL);
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
	s->starttime = starttime;
	if (!daemon_watched_alive(s, pid)) {
		errno = ESRCH;
		return -1;
	}
	log_warn("%s: no pidfd for pid %d; checking on it every second",
	    s->name, (int)pid);
	s->watch = evtimer_new(d->base, daemon_watch_poll_cb, s);
	evtimer_add(s->watch, &tv);
	return 0;
}

static void
daemon_unwatch(struct svc *s)
{
	if (s->watch != NULL) {
		event_free(s->watch);
		s->watch = NULL;
	}
	if (s->pidfd != -1) {
		close(s->pidfd);
		s->pidfd = -1;
	}
}

/* Forking programs: pidfiles and the wait for them */

static void
daemon_inotify_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon	*d = arg;
	char		 buf[4096];
	ssize_t		 n;
	struct program	*p;
	unsigned	 i;

	/* Which file changed matters little: every waiter looks again. */
	while ((n = read(fd, buf, sizeof buf)) > 0)
		;
	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs; i++) {
			if (p->svcs[i]->pidfile_wait)
				svc_event(p->svcs[i], SVC_EV_READY, 0);
		}
	}
}

static void
daemon_pidfile_wait(struct daemon *d, struct svc *s, const char *path)
{
	char	*dir, *slash;

	if (d->inotify == -1) {
		if ((d->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) ==
		    -1) {
			log_warn("inotify");
			return;
		}
		d->ev_inotify = event_new(d->base, d->inotify,
		    EV_READ | EV_PERSIST, daemon_inotify_cb, d);
		event_add(d->ev_inotify, NULL);
	}
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (inotify_add_watch(d->inotify, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
	    IN_CREATE | IN_ATTRIB) == -1)
		log_warn("%s: watch %s", s->name, dir);
	free(dir);
	if (!s->pidfile_wait) {
		s->pidfile_wait = true;
		d->pidfile_waits++;
	}
}

static void
daemon_pidfile_done(struct daemon *d, struct svc *s)
{
	if (!s->pidfile_wait)
		return;
	s->pidfile_wait = false;
	if (--d->pidfile_waits == 0 && d->inotify != -1) {
		/* Closing drops every watch. */
		event_free(d->ev_inotify);
		d->ev_inotify = NULL;
		close(d->inotify);
		d->inotify = -1;
	}
}

static void
daemon_probe_cb(evutil_socket_t fd, short events, void *arg)
{
	svc_event(arg, SVC_EV_READY, 0);
}

/* The main process is pid: watch it as tendd's child or by pidfd. */
static int
daemon_take_main(struct daemon *d, struct svc *s, pid_t pid)
{
	struct procfs_stat	 st;

	if (procfs_read_stat(pid, &st) == -1 || st.state == 'Z')
		return -1;
	if (st.ppid == getpid()) {
		if (proctab_add(d->procs, pid, PROCTAB_INSTANCE, s) == -1)
			return -1;
	} else if (daemon_watch(d, s, pid, st.starttime) == -1)
		return -1;
	s->starttime = st.starttime;
	log_info("%s: main process is pid %d%s", s->name, (int)pid,
	    st.ppid == getpid() ? "" : " (not tendd's child: its exit "
	    "status will be unknown)");
	persist_changed(d);
	return 0;
}

static pid_t
daemon_svc_find_main(struct svc *s, char *err, size_t errlen)
{
	struct daemon	*d = svc_program(s)->d;
	struct timeval	 tv;
	uint64_t	 elapsed = util_now_mono() - s->started;
	char		*path, why[512];
	pid_t		 pid, *v = NULL;
	size_t		 n = 0;

	if (s->cp->pidfile != NULL) {
		path = util_subst(s->cp->pidfile, s->cp->name, s->index);
		/* Watch before reading: a write between a read that finds
		   nothing and the watch would be missed, and the start would
		   hang until start_timeout. */
		daemon_pidfile_wait(d, s, path);
		pid = procfs_read_pidfile(path, why, sizeof why);
		/* Process-tree mode cannot tell whose a daemon is once it
		   left the session and wiped its environment (nginx): one
		   re-parented to tendd that nobody else claims is the one
		   its pidfile names. */
		if (pid > 0 && !track_owns(d->track, s, pid) &&
		    !track_claim_orphan(d->track, s, pid))
			snprintf(why, sizeof why, "%s holds pid %d, which is "
			    "not a process of %s", path, (int)pid, s->name);
		else if (pid > 0 && daemon_take_main(d, s, pid) == 0) {
			daemon_pidfile_done(d, s);
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
		if (s->probe == NULL)
			s->probe = evtimer_new(d->base, daemon_probe_cb, s);
		usec_to_tv(s->cp->start_secs - elapsed, &tv);
		evtimer_add(s->probe, &tv);
		return 0;
	}
	if (track_orphans_of(d->track, s, &v, &n) == -1)
		n = 0;
	pid = n == 1 ? v[0] : -1;
	free(v);
	if (n == 0)
		snprintf(err, errlen, "the launcher left no process running "
		    "(set pidfile if the main process is not an orphan)");
	else if (n > 1)
		snprintf(err, errlen, "the launcher left %zu processes: set "
		    "pidfile to name the main one", n);
	else if (daemon_take_main(d, s, pid) == -1) {
		snprintf(err, errlen, "main process %d ended", (int)pid);
		pid = -1;
	}
	return pid;
}

static void
daemon_svc_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	svc_event(arg, SVC_EV_TIMER, 0);
}

static void
daemon_svc_timer_set(struct svc *s, uint64_t usec)
{
	struct program	*p = svc_program(s);
	struct timeval	 tv;

	if (s->timer == NULL)
		s->timer = evtimer_new(p->d->base, daemon_svc_timer_cb, s);
	usec_to_tv(usec, &tv);
	evtimer_add(s->timer, &tv);
}

static void
daemon_svc_timer_cancel(struct svc *s)
{
	if (s->timer != NULL)
		evtimer_del(s->timer);
}

/* Has the instance got where READY waits for: up, or given up? */
static bool
svc_settled(const struct svc *s)
{
	return s->state == SVC_RUNNING || svc_is_down(s);
}

/* "12 running, 1 backoff, 0 failed" for systemd's STATUS. */
static void
daemon_status_text(struct daemon *d, char *buf, size_t len)
{
	struct program	*p;
	unsigned	 i, n[SVC_NSTATES] = { 0 };

	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs; i++)
			n[p->svcs[i]->state]++;
	}
	snprintf(buf, len, "%u running, %u backoff, %u failed",
	    n[SVC_RUNNING], n[SVC_BACKOFF], n[SVC_FAILED]);
}

static void
daemon_status_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon	*d = arg;
	char		 buf[128];

	daemon_status_text(d, buf, sizeof buf);
	notify_status(d->notify, buf);
}

/* Counts changed: recount once, after this pass of the loop (a thousand
   instances starting together are one count, not a thousand). */
static void
daemon_status(struct daemon *d)
{
	if (notify_active(d->notify))
		event_active(d->ev_status, 0, 0);
}

/* READY=1 with the status of now. */
static void
daemon_notify_ready(struct daemon *d)
{
	char	 buf[128];

	if (!notify_active(d->notify))
		return;
	daemon_status_text(d, buf, sizeof buf);
	notify_ready(d->notify, buf);
}

static void
daemon_ready(struct daemon *d)
{
	/* Starting everything left freed heap behind: return it. */
	malloc_trim(0);
	d->ready = true;
	daemon_notify_ready(d);
	log_info("ready");
}

/* The exit status tendd gives for an instance that ended for good. */
static int
daemon_exit_code(const struct svc *s)
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

/* Did it end well: exited with a success code, or stopped on purpose? */
bool
daemon_ended_well(const struct svc *s)
{
	if (s->state == SVC_STOPPED)
		return true;
	return s->state == SVC_EXITED && s->last_exit.valid &&
	    svc_exit_success(s->cp, s->last_exit.status);
}

/* An instance came to rest: essential programs and exit_when_done. */
static void
daemon_ended(struct daemon *d, struct svc *s)
{
	int	 code;

	/* From any state: a start that failed at once goes from stopped
	   to failed. Each status is taken once (first failure, first
	   essential end), so resting again later changes nothing. */
	if (s->pid != 0)
		return;
	if (s->cp->essential && s->state != SVC_STOPPED &&
	    d->essential_code < 0) {
		code = daemon_exit_code(s);
		if (s->state == SVC_FAILED && code == 0)
			code = 1;
		d->essential_code = code;
		log_info("%s: essential program ended (exit status %d): "
		    "stopping everything", s->name, code);
		event_active(d->ev_done, 0, 0);
		return;
	}
	if (!d->exit_when_done || s->cp->daemon)
		return;
	if (!daemon_ended_well(s) && d->first_failure < 0) {
		code = daemon_exit_code(s);
		d->first_failure = code == 0 ? 1 : code;
	}
	event_active(d->ev_done, 0, 0);
}

static void
daemon_svc_changed(struct svc *s, enum svc_state old)
{
	struct program	*p = svc_program(s);

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
	if (s->state != SVC_STARTING) {
		daemon_pidfile_done(p->d, s);
		if (s->probe != NULL)
			evtimer_del(s->probe);
	}
	if (s->pid == 0 && s->watch != NULL)
		daemon_unwatch(s);
	/* Whoever sets a new PID saves it at once (spawn, main process
	   found, adoption, the operator's decisions too): a change of state
	   alone at most drops a PID, which can wait. */
	persist_changed_later(p->d);
	cmd_svc_changed(s);
	if (svc_is_down(s) && s->pid == 0 && s->cp->nruntime_dirs > 0)
		rundir_remove(s->cp, s->index, program_all_down(p));
	if (svc_is_down(s) && (p->nretiring > 0 || p->d->shutting_down))
		daemon_schedule_gc(p->d);
	if (svc_is_down(s) && !p->d->shutting_down)
		daemon_ended(p->d, s);
	if (s->boot_wait && svc_settled(s)) {
		s->boot_wait = false;
		if (--p->d->boot_pending == 0 && !p->d->shutting_down) {
			daemon_ready(p->d);
			return;
		}
	}
	daemon_status(p->d);
}

/* Programs and instances */

/* Has no instance of the program a process, or one coming? */
static bool
program_all_down(const struct program *p)
{
	const struct svc	*s;
	unsigned		 i;

	for (i = 0; i < p->nsvcs + p->nretiring; i++) {
		s = i < p->nsvcs ? p->svcs[i] : p->retiring[i - p->nsvcs];
		if (!svc_is_down(s) || s->pid != 0)
			return false;
	}
	return true;
}

static char *
program_instance_name(const struct conf_program *cp, unsigned i)
{
	char	*name;

	if (cp->instances == 1)
		return xstrdup(cp->name);
	xasprintf(&name, "%s:%u", cp->name, i);
	return name;
}

static struct svc *
program_new_svc(struct program *p, unsigned i)
{
	struct svc	*s;
	char		*name = program_instance_name(p->cp, i);

	s = svc_new(&daemon_svc_ops, p->cp, p, i, name);
	s->logio = logio_new(p->d->logs, s);
	persist_svc_new(p->d, s);
	free(name);
	return s;
}

static void
program_free_svc(struct svc *s)
{
	struct program	*p = svc_program(s);

	if (s->boot_wait) {
		s->boot_wait = false;
		if (--p->d->boot_pending == 0 && !p->d->ready &&
		    !p->d->shutting_down)
			daemon_ready(p->d);
	}
	cmd_svc_gone(s);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->probe != NULL)
		event_free(s->probe);
	daemon_unwatch(s);
	daemon_pidfile_done(p->d, s);
	track_forget(p->d->track, s);
	persist_svc_free(p->d, s);
	logio_free(s->logio);
	svc_free(s);
}

static struct program *
program_new(struct daemon *d, struct conf *conf,
    const struct conf_program *cp)
{
	struct program	*p = xcalloc(1, sizeof *p);
	unsigned	 i;

	p->d = d;
	p->conf = conf_ref(conf);
	p->cp = cp;
	p->hash = conf_program_hash(cp);
	p->nsvcs = cp->instances;
	p->svcs = xcalloc(p->nsvcs, sizeof *p->svcs);
	for (i = 0; i < p->nsvcs; i++)
		p->svcs[i] = program_new_svc(p, i);
	return p;
}

static void
program_free(struct program *p)
{
	unsigned	 i;

	for (i = 0; i < p->nsvcs; i++)
		program_free_svc(p->svcs[i]);
	for (i = 0; i < p->nretiring; i++)
		program_free_svc(p->retiring[i]);
	free(p->svcs);
	free(p->retiring);
	conf_unref(p->conf);
	free(p);
}

static struct program *
daemon_find_program(struct daemon *d, const char *name)
{
	struct program	*p;

	TAILQ_FOREACH(p, &d->programs, entry) {
		if (!p->removed && strcmp(p->cp->name, name) == 0)
			return p;
	}
	return NULL;
}

/* Point a program and all its instances at a new conf entry. */
static void
program_set_conf(struct program *p, struct conf *conf,
    const struct conf_program *cp)
{
	unsigned	 i;

	conf_ref(conf);
	conf_unref(p->conf);
	p->conf = conf;
	p->cp = cp;
	p->hash = conf_program_hash(cp);
	for (i = 0; i < p->nsvcs; i++)
		p->svcs[i]->cp = cp;
	for (i = 0; i < p->nretiring; i++)
		p->retiring[i]->cp = cp;
}

static void
program_retire(struct program *p, struct svc *s)
{
	p->retiring = xreallocarray(p->retiring, p->nretiring + 1,
	    sizeof *p->retiring);
	p->retiring[p->nretiring++] = s;
	svc_event(s, SVC_EV_STOP, 0);
}

/* Change the number of instances to cp->instances (already set). */
static void
program_scale(struct program *p, bool start_new)
{
	unsigned	 n = p->cp->instances, i, j, old = p->nsvcs;
	struct svc	*s;
	char		*name;

	for (i = n; i < old; i++)
		program_retire(p, p->svcs[i]);
	p->svcs = xreallocarray(p->svcs, n, sizeof *p->svcs);
	for (i = old; i < n; i++) {
		s = NULL;
		/* Bring back an instance of that index still stopping. */
		for (j = 0; j < p->nretiring; j++) {
			if (p->retiring[j]->index == i) {
				s = p->retiring[j];
				p->retiring[j] = p->retiring[--p->nretiring];
				break;
			}
		}
		p->svcs[i] = s != NULL ? s : program_new_svc(p, i);
	}
	p->nsvcs = n;
	/* Names depend on the count: "web" alone, "web:0" among several. */
	for (i = 0; i < n; i++) {
		name = program_instance_name(p->cp, i);
		if (strcmp(name, p->svcs[i]->name) != 0)
			svc_rename(p->svcs[i], name);
		free(name);
	}
	if (start_new) {
		for (i = old; i < n; i++)
			svc_event(p->svcs[i], SVC_EV_START, 0);
	}
}

size_t
daemon_ninstances(const struct daemon *d)
{
	const struct program	*p;
	size_t			 n = 0;

	TAILQ_FOREACH(p, &d->programs, entry)
		n += p->nsvcs + p->nretiring;
	return n;
}

int
daemon_select(struct daemon *d, json_t *patterns, bool include_retiring,
    struct svc ***out, size_t *nout, json_t **unmatched)
{
	struct program	*p;
	struct svc	**v = NULL, *s;
	size_t		 n = 0, cap = 0, np, k;
	unsigned	 i;
	bool		*hit, any;
	json_t		*pat;

	*unmatched = NULL;
	np = json_array_size(patterns);
	hit = xcalloc(np + 1, sizeof *hit);
	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs + p->nretiring; i++) {
			if (i >= p->nsvcs && !include_retiring)
				break;
			s = i < p->nsvcs ? p->svcs[i] :
			    p->retiring[i - p->nsvcs];
			any = np == 0;
			json_array_foreach(patterns, k, pat) {
				if (util_match(json_string_value(pat),
				    p->cp->name, s->name)) {
					hit[k] = true;
					any = true;
				}
			}
			if (!any)
				continue;
			if (n == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				v = xreallocarray(v, cap, sizeof *v);
			}
			v[n++] = s;
		}
	}
	json_array_foreach(patterns, k, pat) {
		if (!hit[k]) {
			if (*unmatched == NULL)
				*unmatched = json_array();
			json_array_append(*unmatched, pat);
		}
	}
	free(hit);
	if (*unmatched != NULL) {
		free(v);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

/* Reaper */

static void
daemon_describe_exit(const struct svc *s, pid_t pid, int status)
{
	if (WIFEXITED(status))
		log_info("%s: pid %d exited with code %d", s->name, (int)pid,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_info("%s: pid %d killed by signal %s%s", s->name,
		    (int)pid, util_signal_name(WTERMSIG(status)),
		    WCOREDUMP(status) ? " (core dumped)" : "");
}

/*
 * The main process of a running forking program ended: if its pidfile
 * now names another process of the instance (a daemon that re-executed
 * itself, or handed over to a new master), that is the main process, as
 * systemd does with PIDFile=.
 */
static bool
daemon_follow_pidfile(struct daemon *d, struct svc *s, pid_t old)
{
	char	*path, why[512];
	pid_t	 pid;

	if (s->cp->type != CONF_TYPE_FORKING || s->cp->pidfile == NULL ||
	    s->state != SVC_RUNNING || s->pid != old)
		return false;
	path = util_subst(s->cp->pidfile, s->cp->name, s->index);
	pid = procfs_read_pidfile(path, why, sizeof why);
	free(path);
	if (pid <= 0 || pid == old || !track_owns(d->track, s, pid))
		return false;
	s->pid = pid;
	if (daemon_take_main(d, s, pid) == -1) {
		s->pid = old;
		return false;
	}
	return true;
}

/*
 * Every waiting child is reaped first and its exit handled after: the
 * handling (the program's last output, log lines, what it left behind,
 * the state machine) takes about 25 usec an instance, and a thousand
 * zombies stopped together kept their PIDs until the last was handled
 * (bench/compare's stop of 1000: the last reap went from 28 ms after
 * the last signal to about 5).
 */
struct reaped {
	struct svc	*s;
	pid_t		 pid;
	int		 status;
};

static void
daemon_reap(struct daemon *d)
{
	struct reaped	*v = NULL;
	struct svc	*s;
	size_t		 n = 0, cap = 0, i;
	pid_t		 pid;
	int		 status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0)
			break;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("waitpid");
			break;
		}
		track_reaped(d->track, pid);
		if ((s = proctab_find(d->procs, pid, NULL)) == NULL) {
			log_debug("reaped pid %d (not a program's main "
			    "process)", (int)pid);
			if (d->shutting_down)
				daemon_schedule_gc(d);
			continue;
		}
		/* Now, not when handled: a PID the kernel hands out again
		   must not find this instance. */
		proctab_remove(d->procs, pid);
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[n].s = s;
		v[n].pid = pid;
		v[n++].status = status;
	}
	for (i = 0; i < n; i++) {
		s = v[i].s;
		/* What it wrote comes before the news of its exit. */
		logio_drain(s->logio);
		daemon_describe_exit(s, v[i].pid, v[i].status);
		if (!daemon_follow_pidfile(d, s, v[i].pid))
			svc_event(s, SVC_EV_EXITED, v[i].status);
	}
	free(v);
}

/* Instances waiting for what outlived their main process: done yet? */
static void
daemon_check_rest(struct daemon *d)
{
	struct program	*p;
	struct svc	*s;
	unsigned	 i;
	bool		 waiting = false;

	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs + p->nretiring; i++) {
			s = i < p->nsvcs ? p->svcs[i] :
			    p->retiring[i - p->nsvcs];
			if (s->state != SVC_STOPPING || s->pid != 0)
				continue;
			if (track_busy(d->track, s))
				waiting = true;
			else
				svc_event(s, SVC_EV_EMPTY, 0);
		}
	}
	if (waiting)
		daemon_rest_later(d);
}

static void
daemon_rest_cb(evutil_socket_t fd, short events, void *arg)
{
	daemon_check_rest(arg);
}

/*
 * libevent runs a signal's callback once per delivery it counted: 1000
 * children killed together made about 900 calls, each a waitpid loop
 * and a look at every instance. One reap per loop pass sees them all.
 */
static void
daemon_sigchld_cb(evutil_socket_t sig, short events, void *arg)
{
	struct daemon	*d = arg;

	event_active(d->ev_reap, 0, 0);
}

static void
daemon_reap_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon	*d = arg;

	daemon_reap(d);
	/* Orphans just re-parented: whose are they, while it shows? */
	if (strcmp(track_mode(d->track), "process-tree") == 0)
		track_look(d->track);
	daemon_check_rest(d);
}

/*
 * Hold SIGCHLD back while signalling many instances: each child that
 * died meanwhile interrupted tendd with a delivery of its own (a stop of
 * 1000 took about 1000, each a write to libevent's signal pipe). Held,
 * they are one pending signal, delivered at release.
 */
static void
daemon_chld_hold(sigset_t *old)
{
	sigset_t	 chld;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, old);
}

static void
daemon_chld_release(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

void
daemon_svc_events(struct daemon *d, struct svc **v, size_t n,
    enum svc_event ev)
{
	sigset_t	 old;
	size_t		 i;

	daemon_chld_hold(&old);
	for (i = 0; i < n; i++)
		svc_event(v[i], ev, 0);
	daemon_chld_release(&old);
}

/* Has every non-daemon instance (or every instance) come to rest? */
static bool
daemon_all_down(struct daemon *d, bool work_only)
{
	struct program	*p;
	struct svc	*s;
	unsigned	 i;

	TAILQ_FOREACH(p, &d->programs, entry) {
		if (work_only && p->cp->daemon)
			continue;
		for (i = 0; i < p->nsvcs + p->nretiring; i++) {
			s = i < p->nsvcs ? p->svcs[i] :
			    p->retiring[i - p->nsvcs];
			if (!svc_is_down(s) || s->pid != 0)
				return false;
		}
	}
	return true;
}

static void
daemon_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon	*d = arg;

	if (d->shutting_down)
		return;
	if (d->essential_code >= 0) {
		d->exit_code = d->essential_code;
		daemon_shutdown(d);
		return;
	}
	if (!d->exit_when_done || !daemon_all_down(d, true))
		return;
	d->exit_code = d->first_failure >= 0 ? d->first_failure : 0;
	log_info("every non-daemon program has ended: exiting with status %d",
	    d->exit_code);
	daemon_shutdown(d);
}

/* Stop the daemon programs (helpers) once the work is down. */
static void
daemon_stop_helpers(struct daemon *d)
{
	struct program	*p;
	unsigned	 i;

	d->helpers_stopping = true;
	TAILQ_FOREACH(p, &d->programs, entry) {
		if (!p->cp->daemon)
			continue;
		for (i = 0; i < p->nsvcs; i++)
			svc_event(p->svcs[i], SVC_EV_STOP, 0);
		for (i = 0; i < p->nretiring; i++)
			svc_event(p->retiring[i], SVC_EV_STOP, 0);
	}
}

/* Deferred work: free retired instances and removed programs; finish a
   shutdown once nothing runs. Runs from the loop, never inside svc_event. */
/* Has tendd a child left (running, or a zombie not yet reaped)? */
static bool
daemon_has_children(void)
{
	siginfo_t	 si;

	memset(&si, 0, sizeof si);
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0;
}

static void	daemon_linger_cb(evutil_socket_t, short, void *);

static void
daemon_gc_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon	*d = arg;
	struct program	*p, *next;
	struct timeval	 tv;
	unsigned	 i;

	for (p = TAILQ_FIRST(&d->programs); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		for (i = 0; i < p->nretiring;) {
			if (svc_is_down(p->retiring[i]) &&
			    p->retiring[i]->pid == 0) {
				program_free_svc(p->retiring[i]);
				p->retiring[i] = p->retiring[--p->nretiring];
			} else
				i++;
		}
		if (p->removed && p->nretiring == 0) {
			TAILQ_REMOVE(&d->programs, p, entry);
			log_info("%s: removed", p->cp->name);
			program_free(p);
		}
	}
	if (d->shutting_down && !d->helpers_stopping &&
	    daemon_all_down(d, true))
		daemon_stop_helpers(d);
	if (d->shutting_down && d->helpers_stopping &&
	    daemon_all_down(d, false)) {
		/* Orphans no instance claims: tendd adopted them, so they
		   descend from its programs; they go too. */
		if (!d->strays_killed) {
			int	 n;

			d->strays_killed = true;
			if ((n = track_kill_strays(d->track)) > 0)
				log_info("killed %d adopted process%s that "
				    "belonged to no program", n,
				    n == 1 ? "" : "es");
		}
		/* As their subreaper, see them reaped before leaving. */
		if (daemon_has_children() && !d->lingered) {
			if (!evtimer_pending(d->ev_linger, NULL)) {
				usec_to_tv(SHUTDOWN_LINGER, &tv);
				evtimer_add(d->ev_linger, &tv);
			}
			return;
		}
		log_info("all programs stopped");
		persist_save(d, true);
		event_base_loopexit(d->base, NULL);
	}
}

static void
daemon_linger_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon	*d = arg;

	log_warnx("leaving: some children were not reaped within %.0f s "
	    "of SIGKILL", (double)SHUTDOWN_LINGER / USEC_PER_SEC);
	d->lingered = true;
	daemon_schedule_gc(d);
}

static void
daemon_kill_all(struct daemon *d, int sig)
{
	struct program	*p;
	unsigned	 i;
	struct svc	*s;

	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs + p->nretiring; i++) {
			s = i < p->nsvcs ? p->svcs[i] :
			    p->retiring[i - p->nsvcs];
			if (s->pid > 0)
				daemon_svc_kill(s, s->pid, sig, true);
			else if (s->state == SVC_STOPPING)
				track_signal(d->track, s, sig, NULL);
		}
	}
}

static void
daemon_shutdown_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv;

	if (d->shutdown_stage == 1) {
		log_warnx("shutdown_timeout reached: killing what is left");
		daemon_kill_all(d, SIGKILL);
		d->shutdown_stage = 2;
		usec_to_tv(SHUTDOWN_KILL_GRACE, &tv);
		evtimer_add(d->ev_shutdown, &tv);
		return;
	}
	log_warnx("%zu processes did not die after SIGKILL; exiting anyway",
	    proctab_count(d->procs));
	d->exit_code = 1;
	event_base_loopexit(d->base, NULL);
}

void
daemon_shutdown(struct daemon *d)
{
	struct program	*p;
	struct timeval	 tv;
	sigset_t	 old;
	unsigned	 i;

	if (d->shutting_down) {
		/* Asked again (a second Ctrl-C): no more waiting. */
		if (d->shutdown_stage == 1) {
			log_warnx("shutdown requested again: killing all "
			    "programs now");
			daemon_kill_all(d, SIGKILL);
			d->shutdown_stage = 2;
			evtimer_del(d->ev_shutdown);
			usec_to_tv(SHUTDOWN_KILL_GRACE, &tv);
			evtimer_add(d->ev_shutdown, &tv);
		}
		return;
	}
	log_info("shutting down");
	notify_stopping(d->notify);
	d->shutting_down = true;
	d->shutdown_stage = 1;
	/* The work first; the daemon programs (helpers) once it is down
	   (daemon_gc_cb). */
	daemon_chld_hold(&old);
	TAILQ_FOREACH(p, &d->programs, entry) {
		if (p->cp->daemon)
			continue;
		for (i = 0; i < p->nsvcs; i++)
			svc_event(p->svcs[i], SVC_EV_STOP, 0);
		for (i = 0; i < p->nretiring; i++)
			svc_event(p->retiring[i], SVC_EV_STOP, 0);
	}
	daemon_chld_release(&old);
	if (d->conf->shutdown_timeout != 0) {
		usec_to_tv(d->conf->shutdown_timeout, &tv);
		evtimer_add(d->ev_shutdown, &tv);
	}
	daemon_schedule_gc(d);
}

/*
 * Pass a signal on: in config mode (SIGUSR2) to the main process of every
 * instance that has one; with --run to the command, or to its process
 * group with --kill-mode group. Returns how many took it.
 */
static unsigned
daemon_forward(struct daemon *d, int sig)
{
	struct program	*p;
	struct svc	*s;
	unsigned	 i, n = 0;

	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs; i++) {
			s = p->svcs[i];
			if (s->pid <= 0 || s->launcher)
				continue;
			/* The command leads its group (launch.c), unless it
			   left it: then it alone. */
			if (d->forward_group && (kill(-s->pid, sig) == 0 ||
			    (errno == ESRCH && kill(s->pid, sig) == 0)))
				n++;
			else if (!d->forward_group &&
			    daemon_svc_kill(s, s->pid, sig, false) == 0)
				n++;
		}
	}
	return n;
}

/* Every signal tendd takes (sigs.h), in its loop. */
static void
daemon_signal_cb(int sig, pid_t from, void *arg)
{
	struct daemon	*d = arg;
	json_t		*result = NULL, *errors = NULL;
	char		 who[32] = "";
	unsigned	 n;

	if (from > 0)
		snprintf(who, sizeof who, " from pid %d", (int)from);
	if (d->run_mode) {
		/* Like tini: the command gets them all, and tendd ends
		   when it does. */
		n = daemon_forward(d, sig);
		log_info("received SIG%s%s: passed to %u process%s%s",
		    util_signal_name(sig), who, n, n == 1 ? "" : "es",
		    d->forward_group ? " group" : "");
		return;
	}
	switch (sig) {
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		log_info("received SIG%s%s", util_signal_name(sig), who);
		daemon_shutdown(d);
		break;
	case SIGHUP:
		log_info("received SIGHUP%s: reloading %s", who,
		    d->config_path);
		/* No way to say --allow-empty with a signal. */
		if (daemon_reload(d, false, &result, &errors) < 0) {
			json_decref(errors);
			break;
		}
		json_decref(result);
		break;
	case SIGUSR1:
		log_info("received SIGUSR1%s: reopening log files", who);
		logs_reopen(d->logs);
		break;
	case SIGUSR2:
		n = daemon_forward(d, sig);
		log_info("received SIGUSR2%s: passed to %u process%s", who,
		    n, n == 1 ? "" : "es");
		break;
	default:
		/* Whatever its default would do (end or stop tendd and
		   orphan every program), nothing is better. */
		log_info("received SIG%s%s: ignored", util_signal_name(sig),
		    who);
		break;
	}
}

/* Reload */

static json_t *
daemon_change(const char *program, const char *action, const char **keys,
    size_t nkeys)
{
	json_t	*k = json_array();
	size_t	 i;

	for (i = 0; i < nkeys; i++)
		json_array_append_new(k, json_string(keys[i]));
	return json_pack("{s:s,s:s,s:o}", "program", program, "action",
	    action, "keys", k);
}

/* Restart the active instances that are up or trying to be. */
static void
program_restart_changed(struct program *p, unsigned upto)
{
	struct svc	*s;
	unsigned	 i;

	/* Starting covers a forking program between its launcher and its
	   main process, which has no PID meanwhile. */
	for (i = 0; i < upto && i < p->nsvcs; i++) {
		s = p->svcs[i];
		if (s->pid > 0 || s->state == SVC_BACKOFF ||
		    s->state == SVC_STARTING ||
		    (s->state == SVC_FAILED && s->want_up))
			svc_event(s, SVC_EV_RESTART, 0);
	}
}

static bool
program_wanted_up(const struct program *p)
{
	unsigned	 i;

	for (i = 0; i < p->nsvcs; i++) {
		if (p->svcs[i]->want_up)
			return true;
	}
	return p->cp->autostart;
}

int
daemon_reload(struct daemon *d, bool allow_empty, json_t **resultp,
    json_t **errorsp)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*nc, *old = d->conf;
	struct program		*p, *next;
	struct program_list	 order;
	const struct conf_program *cp;
	const char		*keys[64];
	size_t			 i, nkeys;
	unsigned		 j, oldn;
	json_t			*changes, *notes;
	char			*msg;
	bool			*back;
	int			 mask;

	*resultp = *errorsp = NULL;
	if (d->run_mode) {
		*errorsp = json_array();
		json_array_append_new(*errorsp, json_string("tendd --run has "
		    "no configuration file to reload"));
		return -1;
	}
	notify_reloading(d->notify);
	if ((nc = conf_load(d->config_path, &errs)) == NULL) {
		/* Logged whoever asked (SIGHUP or tendctl reload). */
		*errorsp = json_array();
		for (i = 0; i < errs.n; i++) {
			msg = conf_error_format(&errs.v[i]);
			log_warnx("reload refused: %s", msg);
			json_array_append_new(*errorsp, json_string(msg));
			free(msg);
		}
		conf_errors_clear(&errs);
		/* Still running as before: ready again (if it was). */
		if (d->ready)
			daemon_notify_ready(d);
		return -1;
	}
	/* Most likely a mistake: stopping everything takes asking so. */
	if (nc->nprograms == 0 && old->nprograms > 0 && !allow_empty) {
		xasprintf(&msg, "%s has no programs: the reload would stop "
		    "and remove all %zu; use tendctl reload --allow-empty to "
		    "do that", d->config_path, old->nprograms);
		log_warnx("reload refused: %s", msg);
		*errorsp = json_array();
		json_array_append_new(*errorsp, json_string(msg));
		free(msg);
		conf_unref(nc);
		if (d->ready)
			daemon_notify_ready(d);
		return -2;
	}
	changes = json_array();
	notes = json_array();
	TAILQ_FOREACH(p, &d->programs, entry)
		p->seen = false;

	for (i = 0; i < nc->nprograms; i++) {
		cp = nc->programs[i];
		if ((p = daemon_find_program(d, cp->name)) == NULL) {
			p = program_new(d, nc, cp);
			p->seen = true;
			TAILQ_INSERT_TAIL(&d->programs, p, entry);
			json_array_append_new(changes,
			    daemon_change(cp->name, "added", NULL, 0));
			log_info("%s: added", cp->name);
			if (cp->autostart) {
				for (j = 0; j < p->nsvcs; j++)
					svc_event(p->svcs[j], SVC_EV_START, 0);
			}
			continue;
		}
		p->seen = true;
		mask = conf_program_diff(p->cp, cp, keys,
		    sizeof keys / sizeof keys[0], &nkeys);
		oldn = p->nsvcs;
		program_set_conf(p, nc, cp);
		if (mask == 0)
			continue;
		/* A change to the program supersedes the operator: it goes
		   back to what its config says. An instance the operator
		   stopped starts if autostart (one the operator started
		   runs on: it is up, and a restart applies the change). */
		back = xcalloc(p->nsvcs + 1, sizeof *back);
		for (j = 0; j < p->nsvcs; j++) {
			back[j] = p->svcs[j]->op == SVC_OP_DOWN &&
			    cp->autostart;
			p->svcs[j]->op = SVC_OP_NONE;
		}
		persist_changed(d);
		if (mask & CONF_DIFF_INSTANCES)
			program_scale(p, program_wanted_up(p));
		if (mask & CONF_DIFF_RESTART) {
			program_restart_changed(p, oldn);
			json_array_append_new(changes,
			    daemon_change(cp->name, "restarted", keys, nkeys));
		} else if (mask & CONF_DIFF_INSTANCES)
			json_array_append_new(changes,
			    daemon_change(cp->name, "scaled", keys, nkeys));
		else
			json_array_append_new(changes,
			    daemon_change(cp->name, "updated", keys, nkeys));
		for (j = 0; j < p->nsvcs && j < oldn; j++) {
			if (back[j])
				svc_event(p->svcs[j], SVC_EV_START, 0);
		}
		free(back);
		log_info("%s: %s", cp->name, mask & CONF_DIFF_RESTART ?
		    "restarted" : mask & CONF_DIFF_INSTANCES ? "scaled" :
		    "updated");
	}

	/* Programs no longer configured: stop them; gc frees them. */
	TAILQ_FOREACH(p, &d->programs, entry) {
		if (p->seen || p->removed)
			continue;
		p->removed = true;
		for (j = 0; j < p->nsvcs; j++)
			program_retire(p, p->svcs[j]);
		p->nsvcs = 0;
		json_array_append_new(changes,
		    daemon_change(p->cp->name, "removed", NULL, 0));
		log_info("%s: removing", p->cp->name);
	}

	/* Keep the programs in the order of the new file. */
	TAILQ_INIT(&order);
	for (i = 0; i < nc->nprograms; i++) {
		p = daemon_find_program(d, nc->programs[i]->name);
		TAILQ_REMOVE(&d->programs, p, entry);
		TAILQ_INSERT_TAIL(&order, p, entry);
	}
	for (p = TAILQ_FIRST(&d->programs); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		TAILQ_REMOVE(&d->programs, p, entry);
		TAILQ_INSERT_TAIL(&order, p, entry);
	}
	TAILQ_CONCAT(&d->programs, &order, entry);

	/* Supervisor settings. */
	if (!d->socket_override && strcmp(old->socket, nc->socket) != 0)
		json_array_append_new(notes, json_string("socket: the new "
		    "path takes effect when tendd next starts"));
	if (old->socket_mode != nc->socket_mode ||
	    old->socket_gid != nc->socket_gid ||
	    (old->socket_group == NULL) != (nc->socket_group == NULL))
		control_set_mode(d->control, nc->socket_mode,
		    nc->socket_group, nc->socket_gid);
	if (old->subreaper != nc->subreaper &&
	    prctl(PR_SET_CHILD_SUBREAPER, nc->subreaper ? 1 : 0) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
	/* Sinks, files, ring sizes and names may have changed. */
	TAILQ_FOREACH(p, &d->programs, entry) {
		for (j = 0; j < p->nsvcs; j++)
			logio_configure(p->svcs[j]->logio);
	}
	d->conf = nc;
	conf_unref(old);
	daemon_schedule_gc(d);
	log_info("reloaded %s: %zu programs changed", d->config_path,
	    json_array_size(changes));
	if (d->ready)
		daemon_notify_ready(d);
	*resultp = json_pack("{s:o,s:o}", "changes", changes, "notes", notes);
	return 0;
}

/* Life cycle */

/* Log lines of a pass go out together, at its end (see log_defer). */
static void
daemon_log_cb(evutil_socket_t fd, short events, void *arg)
{
	log_flush();
}

static void
daemon_log_kick(void *arg)
{
	struct daemon	*d = arg;

	event_active(d->ev_log, 0, 0);
}

struct daemon *
daemon_new(struct event_base *base, struct conf *conf,
    const char *config_path, const char *socket_override,
    bool exit_when_done)
{
	struct daemon	*d = xcalloc(1, sizeof *d);
	struct program	*p;
	size_t		 i;
	int		 devnull;

	d->base = base;
	d->conf = conf;
	d->run_mode = config_path == NULL;
	d->config_path = xstrdup(config_path != NULL ? config_path :
	    conf->file);
	d->exit_when_done = exit_when_done || conf->exit_when_done;
	d->first_failure = -1;
	d->essential_code = -1;
	d->inotify = -1;
	d->socket_override = socket_override != NULL;
	d->socket_path = xstrdup(socket_override != NULL ? socket_override :
	    conf->socket);
	TAILQ_INIT(&d->programs);
	d->procs = proctab_new();
	d->events = events_new(DAEMON_EVENT_BUFFER);
	d->logs = logs_new(base);
	d->notify = notify_new(base);
	/* tendd --run hands its stdin over, like any container init. */
	devnull = -1;
	if (!d->run_mode &&
	    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("open /dev/null");
	d->stdio.in = devnull;
	d->stdio.out = -1;
	d->stdio.err = -1;
	d->stdio.foreground = d->run_mode;
	for (i = 0; i < conf->nprograms; i++) {
		p = program_new(d, conf, conf->programs[i]);
		TAILQ_INSERT_TAIL(&d->programs, p, entry);
	}
	d->ev_gc = event_new(base, -1, 0, daemon_gc_cb, d);
	d->ev_shutdown = evtimer_new(base, daemon_shutdown_timer_cb, d);
	d->ev_linger = evtimer_new(base, daemon_linger_cb, d);
	d->ev_status = event_new(base, -1, 0, daemon_status_cb, d);
	d->ev_state = event_new(base, -1, 0, persist_save_cb, d);
	d->ev_state_later = evtimer_new(base, persist_save_cb, d);
	d->ev_state_retry = evtimer_new(base, persist_retry_cb, d);
	d->ev_rest = evtimer_new(base, daemon_rest_cb, d);
	d->ev_reap = event_new(base, -1, 0, daemon_reap_cb, d);
	d->ev_log = event_new(base, -1, 0, daemon_log_cb, d);
	log_defer(daemon_log_kick, d);
	/* Taken from now on: one that comes before the loop runs waits for
	   it, instead of ending tendd half started. */
	d->sigs = sigs_new(base, d->run_mode, daemon_signal_cb, d);
	d->ev_done = event_new(base, -1, 0, daemon_done_cb, d);
	d->track = track_new(d, conf->cgroups == CONF_CGROUPS_AUTO,
	    d->run_mode ? NULL : conf->state_dir);
	return d;
}

int
daemon_listen(struct daemon *d, char *err, size_t errlen)
{
	int	 n, fd = SD_LISTEN_FDS_START;

	/* Socket activation: systemd passes the control socket as fd 3. */
	if ((n = sd_listen_fds(1)) < 0) {
		snprintf(err, errlen, "socket activation: %s", strerror(-n));
		return -1;
	}
	if (n > 1) {
		snprintf(err, errlen, "socket activation: %d sockets passed, "
		    "tendd takes one (its control socket)", n);
		return -1;
	}
	if (n == 1) {
		if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
			snprintf(err, errlen, "socket activation: fd %d is not "
			    "a listening Unix stream socket", fd);
			return -1;
		}
		d->control = control_adopt(d, fd, d->conf->socket_group,
		    d->conf->socket_gid, err, errlen);
	} else
		d->control = control_new(d, d->socket_path,
		    d->conf->socket_mode, d->conf->socket_group,
		    d->conf->socket_gid, err, errlen);
	return d->control == NULL ? -1 : 0;
}

void
daemon_run(struct daemon *d)
{
	struct program	*p;
	unsigned	 i;

	if (d->conf->subreaper &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
	d->ev_chld = evsignal_new(d->base, SIGCHLD, daemon_sigchld_cb, d);
	evsignal_add(d->ev_chld, NULL);
	/* Children that ended before the handler existed. */
	daemon_reap(d);
	track_prune(d->track);

	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs; i++) {
			if (persist_wants_up(p->svcs[i]))
				svc_event(p->svcs[i], SVC_EV_START, 0);
			/* Adopted from a tendd that ended while carrying out
			   a stop the operator asked for. */
			else if (p->svcs[i]->op == SVC_OP_DOWN &&
			    p->svcs[i]->pid > 0)
				svc_event(p->svcs[i], SVC_EV_STOP, 0);
		}
	}
	track_started(d->track);
	/* READY waits until every autostart instance is up or gave up. */
	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs; i++) {
			if (persist_wants_up(p->svcs[i]) &&
			    !svc_settled(p->svcs[i])) {
				p->svcs[i]->boot_wait = true;
				d->boot_pending++;
			}
		}
	}
	if (d->boot_pending == 0)
		daemon_ready(d);
	if (d->exit_when_done)
		event_active(d->ev_done, 0, 0);
}

void
daemon_free(struct daemon *d)
{
	struct program	*p;

	if (d == NULL)
		return;
	control_free(d->control);
	/* The records stay for a successor: the processes may outlive
	   tendd (shutdown_timeout). */
	pidrec_free(d->pidrec);
	d->pidrec = NULL;
	while ((p = TAILQ_FIRST(&d->programs)) != NULL) {
		TAILQ_REMOVE(&d->programs, p, entry);
		program_free(p);
	}
	if (d->ev_chld != NULL)
		event_free(d->ev_chld);
	sigs_free(d->sigs);
	if (d->ev_inotify != NULL)
		event_free(d->ev_inotify);
	if (d->inotify != -1)
		close(d->inotify);
	event_free(d->ev_state);
	event_free(d->ev_state_later);
	event_free(d->ev_state_retry);
	free(d->state_errmsg);
	event_free(d->ev_rest);
	event_free(d->ev_reap);
	log_defer(NULL, NULL);
	event_free(d->ev_log);
	event_free(d->ev_done);
	track_free(d->track);
	state_unlock(d->state_lock);
	event_free(d->ev_gc);
	event_free(d->ev_shutdown);
	event_free(d->ev_linger);
	event_free(d->ev_status);
	proctab_free(d->procs);
	events_free(d->events);
	logs_free(d->logs);
	notify_free(d->notify);
	if (d->stdio.in != -1)
		close(d->stdio.in);
	conf_unref(d->conf);
	free(d->config_path);
	free(d->socket_path);
	free(d);
}
