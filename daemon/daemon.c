/*
 * daemon.c: tendd's context: the loop's parts wired together, signals,
 * the program registry, reload, start-up and the way down (shutdown.h's
 * side effects). What happens to instances is instance.c's and svc.c's;
 * what follows from it, the subscribers' of the change stream.
 */
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

#include "config.h"
#include "control.h"
#include "daemon.h"
#include "events.h"
#include "log.h"
#include "logs.h"
#include "notify.h"
#include "instance.h"
#include "pidrec.h"
#include "policy.h"
#include "program.h"
#include "procfs.h"
#include "reaper.h"
#include "shutdown.h"
#include "sigs.h"
#include "state.h"
#include "track.h"
#include "util.h"

/* Instances started per loop pass at start-up. */
#define DAEMON_START_BATCH	64
static void	 daemon_announce(struct daemon *, enum events_type, json_t *);
static void	 daemon_start_cb(evutil_socket_t, short, void *);

static struct program *
svc_program(const struct svc *s)
{
	return instance_owner(s);
}

static void
daemon_schedule_gc(struct daemon *d)
{
	event_active(d->ev_gc, 0, 0);
}

/* Has the instance got where READY waits for: up, or given up? */
static bool
svc_settled(const struct svc *s)
{
	return s->state == SVC_RUNNING || svc_is_down(s);
}

static void
daemon_ready(struct daemon *d)
{
	/* Starting everything left freed heap behind: return it. */
	malloc_trim(0);
	d->ready = true;
	log_info("ready");
	daemon_announce(d, EVENTS_TENDD_READY, NULL);
}

/* Publish an event of tendd's own (data stolen, may be NULL). */
static void
daemon_announce(struct daemon *d, enum events_type type, json_t *data)
{
	events_note(d->events, type, NULL, data);
}

/* s is up, gave up or is gone: is that the last READY waited for? */
static void
daemon_boot_done(struct daemon *d, const struct svc *s)
{
	size_t	 i;

	for (i = 0; i < d->nboot; i++) {
		if (d->boot[i] == s)
			break;
	}
	if (i == d->nboot)
		return;
	d->boot[i] = d->boot[--d->nboot];
	if (d->nboot == 0) {
		free(d->boot);
		d->boot = NULL;
		if (!d->ready && !daemon_shutting_down(d))
			daemon_ready(d);
	}
}

/* s is gone: not to be started by daemon_start_some. */
static void
daemon_start_forget(struct daemon *d, const struct svc *s)
{
	size_t	 i;

	for (i = d->ipending; i < d->npending; i++) {
		if (d->pending[i] == s)
			d->pending[i] = NULL;
	}
}

/*
 * An instance changed state (the stream): garbage to collect, and the
 * wait for the autostart programs before tendd is ready.
 */
static void
daemon_instance_cb(const struct events_msg *m, const struct events_rec *r,
    void *arg)
{
	struct daemon	*d = arg;
	struct svc	*s = m->svc;
	struct program	*p = svc_program(s);
	bool		 removed = m->type == EVENTS_INSTANCE_REMOVED;

	if (!removed && (m->old < 0 || m->old == (int)s->state))
		return;
	if (!removed && svc_is_down(s) &&
	    (p->nretiring > 0 || daemon_shutting_down(d)))
		daemon_schedule_gc(d);
	/* Up or given up, or removed before it settled: READY waits for it
	   no more. Only while starting: a short list, looked through. */
	if (d->nboot > 0 && (removed || svc_settled(s)))
		daemon_boot_done(d, s);
	if (removed)
		daemon_start_forget(d, s);
}

/* Programs and instances */

size_t
daemon_ninstances(const struct daemon *d)
{
	return programs_count(&d->programs);
}

int
daemon_select(struct daemon *d, json_t *patterns, bool include_retiring,
    struct svc ***out, size_t *nout, json_t **unmatched)
{
	return programs_select(&d->programs, patterns, include_retiring, out,
	    nout, unmatched);
}

void
daemon_svc_events(struct daemon *d, struct svc **v, size_t n,
    enum svc_event ev)
{
	sigset_t	 old;
	size_t		 i;

	reaper_hold(&old);
	for (i = 0; i < n; i++)
		svc_event(v[i], ev, 0);
	reaper_release(&old);
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

static bool
daemon_work_down(void *arg)
{
	return daemon_all_down(arg, true);
}

static void
daemon_policy_shutdown(int code, void *arg)
{
	struct daemon	*d = arg;

	d->exit_code = code;
	daemon_shutdown(d);
}

/* Deferred work: free retired instances and removed programs, and move
   a shutdown on. Runs from the loop, never inside svc_event. */
static void
daemon_gc_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon	*d = arg;
	struct program	*p, *next;

	for (p = TAILQ_FIRST(&d->programs); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		program_gc(p);
		if (p->removed && p->nretiring == 0) {
			TAILQ_REMOVE(&d->programs, p, entry);
			log_info("%s: removed", p->cp->name);
			program_free(p);
		}
	}
	shutdown_check(d->shutdown);
}

/* The shutdown's side effects (shutdown.h). */

static bool
daemon_sd_all_down(bool work_only, void *arg)
{
	return daemon_all_down(arg, work_only);
}

static void
daemon_sd_stop(bool helpers, void *arg)
{
	struct daemon	*d = arg;
	struct program	*p;
	sigset_t	 old;
	unsigned	 i;

	reaper_hold(&old);
	TAILQ_FOREACH(p, &d->programs, entry) {
		if (p->cp->daemon != helpers)
			continue;
		for (i = 0; i < p->nsvcs; i++)
			svc_event(p->svcs[i], SVC_EV_STOP, 0);
		for (i = 0; i < p->nretiring; i++)
			svc_event(p->retiring[i], SVC_EV_STOP, 0);
	}
	reaper_release(&old);
}

static bool
daemon_kill_one(struct svc *s, void *arg)
{
	struct daemon	*d = svc_program(s)->d;
	int		 sig = *(int *)arg;

	if (s->pid > 0)
		(void)instance_signal(s, sig, true);
	else if (s->state == SVC_STOPPING)
		track_signal(d->track, s, sig, NULL);
	return false;
}

static void
daemon_sd_kill_all(int sig, void *arg)
{
	struct daemon	*d = arg;

	instance_each(d->ienv, daemon_kill_one, &sig);
}

static int
daemon_sd_kill_strays(void *arg)
{
	struct daemon	*d = arg;

	return track_kill_strays(d->track);
}

static bool
daemon_sd_has_children(void *arg)
{
	return reaper_has_children();
}

static void
daemon_sd_timer(uint64_t usec, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv;

	evtimer_del(d->ev_shutdown);
	if (usec != 0) {
		util_usec_tv(usec, &tv);
		evtimer_add(d->ev_shutdown, &tv);
	}
}

static void
daemon_sd_done(bool failed, void *arg)
{
	struct daemon	*d = arg;

	if (failed)
		d->exit_code = 1;
	/* Told while still in the loop: the last save happens here, where
	   a signal it causes (SIGXFSZ) is taken like any other. */
	daemon_announce(d, EVENTS_TENDD_STOPPED, json_pack("{s:b}", "failed",
	    failed));
	event_base_loopexit(d->base, NULL);
}

static const struct shutdown_ops daemon_sd_ops = {
	.all_down = daemon_sd_all_down,
	.stop = daemon_sd_stop,
	.kill_all = daemon_sd_kill_all,
	.kill_strays = daemon_sd_kill_strays,
	.has_children = daemon_sd_has_children,
	.timer = daemon_sd_timer,
	.done = daemon_sd_done,
};

static void
daemon_shutdown_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon	*d = arg;

	shutdown_timer(d->shutdown);
}

void
daemon_shutdown(struct daemon *d)
{
	if (!daemon_shutting_down(d)) {
		daemon_announce(d, EVENTS_TENDD_STOPPING, NULL);
		instance_env_set_stopping(d->ienv, true);
	}
	shutdown_begin(d->shutdown, d->conf->shutdown_timeout);
	daemon_schedule_gc(d);
}

bool
daemon_shutting_down(const struct daemon *d)
{
	return shutdown_stage(d->shutdown) != SHUTDOWN_RUNNING;
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
			    instance_signal(s, sig, false) > 0)
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


int
daemon_reload(struct daemon *d, bool allow_empty, json_t **resultp,
    json_t **errorsp)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*nc, *old = d->conf;
	struct program		*p, *next;
	struct program_list	 order;
	const struct conf_program *cp;
	size_t			 i;
	unsigned		 j;
	json_t			*changes, *notes, *o;
	char			*msg;

	*resultp = *errorsp = NULL;
	if (d->run_mode) {
		*errorsp = json_array();
		json_array_append_new(*errorsp, json_string("tendd --run has "
		    "no configuration file to reload"));
		return -1;
	}
	daemon_announce(d, EVENTS_TENDD_RELOADING, json_pack("{s:s}", "config",
	    d->config_path));
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
		daemon_announce(d, EVENTS_CONFIG_REFUSED,
		    json_pack("{s:O}", "errors", *errorsp));
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
		daemon_announce(d, EVENTS_CONFIG_REFUSED,
		    json_pack("{s:O}", "errors", *errorsp));
		return -2;
	}
	changes = json_array();
	notes = json_array();
	TAILQ_FOREACH(p, &d->programs, entry)
		p->seen = false;

	for (i = 0; i < nc->nprograms; i++) {
		cp = nc->programs[i];
		if ((p = programs_find(&d->programs, cp->name)) == NULL) {
			p = program_new(d, d->ienv, nc, cp);
			p->seen = true;
			TAILQ_INSERT_TAIL(&d->programs, p, entry);
			json_array_append_new(changes,
			    program_change_json(cp->name, "added", NULL, 0));
			log_info("%s: added", cp->name);
			if (cp->autostart)
				program_start(p);
			continue;
		}
		p->seen = true;
		if ((o = program_reconfigure(p, nc, cp)) != NULL)
			json_array_append_new(changes, o);
	}

	/* Programs no longer configured: stop them; gc frees them. */
	TAILQ_FOREACH(p, &d->programs, entry) {
		if (p->seen || p->removed)
			continue;
		json_array_append_new(changes, program_remove(p));
	}

	/* Keep the programs in the order of the new file. */
	TAILQ_INIT(&order);
	for (i = 0; i < nc->nprograms; i++) {
		p = programs_find(&d->programs, nc->programs[i]->name);
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
	/* Not from a subscriber of config.reloaded: the ring must not move
	   while an event of it is being delivered. */
	events_resize(d->events, nc->event_buffer);
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
	*resultp = json_pack("{s:o,s:o}", "changes", changes, "notes", notes);
	daemon_announce(d, EVENTS_CONFIG_RELOADED, json_pack("{s:O,s:O}",
	    "changes", changes, "notes", notes));
	return 0;
}

/* Life cycle */

/* Should the instance run at start: the operator's last word (kept in
   state_dir), else the config's autostart. */
static bool
daemon_wants_up(const struct svc *s)
{
	if (s->op != SVC_OP_NONE)
		return s->op == SVC_OP_UP;
	return s->cp->autostart;
}

static void
daemon_reaped_cb(pid_t pid, void *arg)
{
	struct daemon	*d = arg;

	track_reaped(d->track, pid);
}

static void
daemon_orphan_cb(pid_t pid, int status, void *arg)
{
	struct daemon	*d = arg;

	log_debug("reaped pid %d (not a program's main process)", (int)pid);
	if (daemon_shutting_down(d))
		daemon_schedule_gc(d);
}

static void
daemon_reap_pass_cb(void *arg)
{
	struct daemon	*d = arg;

	instance_env_reaped(d->ienv);
}

static const struct reaper_hooks daemon_reaper_hooks_init = {
	.reaped = daemon_reaped_cb,
	.orphan = daemon_orphan_cb,
	.pass = daemon_reap_pass_cb,
};

static struct svc *
daemon_track_each(bool (*fn)(struct svc *, void *), void *arg, void *ctx)
{
	struct daemon	*d = ctx;

	return instance_each(d->ienv, fn, arg);
}

static const char *
daemon_track_role(pid_t pid, void *ctx)
{
	struct daemon		*d = ctx;
	struct proc_owner	*o = reaper_find(d->reaper, pid);

	return o != NULL ? o->ops->kind : NULL;
}

static struct svc *
daemon_track_main(pid_t pid, void *ctx)
{
	struct daemon	*d = ctx;

	return instance_of(reaper_find(d->reaper, pid));
}

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
	struct instance_env_params ip;
	struct reaper_hooks rh;
	struct policy_hooks ph;
	struct track_hooks th;
	struct program	*p;
	size_t		 i;
	int		 devnull;

	d->base = base;
	d->conf = conf;
	d->run_mode = config_path == NULL;
	d->config_path = xstrdup(config_path != NULL ? config_path :
	    conf->file);
	d->socket_override = socket_override != NULL;
	d->socket_path = xstrdup(socket_override != NULL ? socket_override :
	    conf->socket);
	TAILQ_INIT(&d->programs);
	/* Taken from now on, before the first log line (a write past
	   RLIMIT_FSIZE raises SIGXFSZ): one that comes before the loop runs
	   waits for it, instead of ending tendd half started. */
	d->sigs = sigs_new(base, d->run_mode, daemon_signal_cb, d);
	d->events = events_new(conf->event_buffer);
	rh = daemon_reaper_hooks_init;
	rh.arg = d;
	d->reaper = reaper_new(base, &rh);
	d->logs = logs_new(base);
	logs_set_events(d->logs, d->events);
	d->notify = notify_new(base);
	notify_attach(d->notify, d->events);
	d->shutdown = shutdown_new(&daemon_sd_ops, d);
	th.each = daemon_track_each;
	th.main_of = daemon_track_main;
	th.role = daemon_track_role;
	th.ctx = d;
	d->track = track_new(&th, conf->cgroups ==
	    CONF_CGROUPS_AUTO, d->run_mode ? NULL : conf->state_dir);
	/* tendd --run hands its stdin over, like any container init. */
	devnull = -1;
	if (!d->run_mode &&
	    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("open /dev/null");
	d->stdio.in = devnull;
	d->stdio.out = -1;
	d->stdio.err = -1;
	d->stdio.foreground = d->run_mode;
	memset(&ip, 0, sizeof ip);
	ip.base = base;
	ip.reaper = d->reaper;
	ip.track = d->track;
	ip.logs = d->logs;
	ip.run_mode = d->run_mode;
	ip.events = d->events;
	ip.stdio = &d->stdio;
	d->ienv = instance_env_new(&ip);
	events_subscribe(d->events, EVENTS_INSTANCE, daemon_instance_cb, d);
	for (i = 0; i < conf->nprograms; i++) {
		p = program_new(d, d->ienv, conf, conf->programs[i]);
		TAILQ_INSERT_TAIL(&d->programs, p, entry);
	}
	d->ev_gc = event_new(base, -1, 0, daemon_gc_cb, d);
	d->ev_start = evtimer_new(base, daemon_start_cb, d);
	d->ev_shutdown = evtimer_new(base, daemon_shutdown_timer_cb, d);
	d->ev_log = event_new(base, -1, 0, daemon_log_cb, d);
	log_defer(daemon_log_kick, d);
	ph.work_down = daemon_work_down;
	ph.shutdown = daemon_policy_shutdown;
	ph.arg = d;
	d->policy = policy_new(base, d->events, exit_when_done ||
	    conf->exit_when_done, &ph);
	return d;
}

/*
 * Start what must run, a batch per loop pass: 2000 instances took 15 s
 * to start (forks, cgroups), and tendd answered nobody meanwhile. The
 * first batch starts before the loop runs, so a small config is all
 * started when the first client is answered.
 */
static void
daemon_start_some(struct daemon *d)
{
	struct timeval	 zero = { 0, 0 };
	struct svc	*s;
	sigset_t	 old;
	size_t		 n = 0;

	reaper_hold(&old);
	while (d->ipending < d->npending && n < DAEMON_START_BATCH &&
	    !daemon_shutting_down(d)) {
		if ((s = d->pending[d->ipending++]) == NULL)
			continue;	/* removed meanwhile */
		/* Stopped by the operator meanwhile: READY waits not. */
		if (!daemon_wants_up(s) || s->state != SVC_STOPPED) {
			daemon_boot_done(d, s);
			continue;
		}
		svc_event(s, SVC_EV_START, 0);
		n++;
	}
	reaper_release(&old);
	if (d->ipending < d->npending && !daemon_shutting_down(d)) {
		/* A timer, not event_active: one made active from its own
		   callback runs again in the same pass, before any client
		   is read. */
		evtimer_add(d->ev_start, &zero);
		return;
	}
	free(d->pending);
	d->pending = NULL;
	d->npending = d->ipending = 0;
	track_started(d->track);
	/* Only now: an instance not started yet is no ended one. */
	policy_check(d->policy);
}

static void
daemon_start_cb(evutil_socket_t fd, short events, void *arg)
{
	daemon_start_some(arg);
}

void
daemon_run(struct daemon *d)
{
	struct program	*p;
	struct svc	*s;
	unsigned	 i;

	if (d->conf->subreaper &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
	daemon_announce(d, EVENTS_TENDD_STARTED, json_pack("{s:I,s:s}",
	    "pid", (json_int_t)getpid(), "version", TEND_VERSION));
	/* From now on, and the children that ended before. */
	reaper_start(d->reaper);
	track_prune(d->track);

	/* READY waits until every autostart instance is up or gave up. */
	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs; i++) {
			s = p->svcs[i];
			if (daemon_wants_up(s)) {
				d->pending = xreallocarray(d->pending,
				    d->npending + 1, sizeof *d->pending);
				d->pending[d->npending++] = s;
				if (s->state == SVC_RUNNING)
					continue;	/* adopted */
				d->boot = xreallocarray(d->boot, d->nboot + 1,
				    sizeof *d->boot);
				d->boot[d->nboot++] = s;
			/* Adopted from a tendd that ended while carrying out
			   a stop the operator asked for. */
			} else if (s->op == SVC_OP_DOWN && s->pid > 0)
				svc_event(s, SVC_EV_STOP, 0);
		}
	}
	if (d->nboot == 0)
		daemon_ready(d);
	daemon_start_some(d);
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
	instance_env_set_pidrec(d->ienv, NULL);
	pidrec_free(d->pidrec);
	d->pidrec = NULL;
	while ((p = TAILQ_FIRST(&d->programs)) != NULL) {
		TAILQ_REMOVE(&d->programs, p, entry);
		program_free(p);
	}
	instance_env_free(d->ienv);
	reaper_free(d->reaper);
	sigs_free(d->sigs);
	log_defer(NULL, NULL);
	event_free(d->ev_log);
	policy_free(d->policy);
	free(d->boot);
	free(d->pending);
	event_free(d->ev_start);
	track_free(d->track);
	state_unlock(d->state_lock);
	event_free(d->ev_gc);
	event_free(d->ev_shutdown);
	shutdown_free(d->shutdown);
	logs_free(d->logs);
	notify_free(d->notify);
	if (d->stdio.in != -1)
		close(d->stdio.in);
	conf_unref(d->conf);
	/* Last: the others unsubscribe as they go. */
	events_free(d->events);
	free(d->config_path);
	free(d->socket_path);
	free(d);
}
