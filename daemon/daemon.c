/*
 * daemon.c: programs and instances, the svc side effects (spawn, kill,
 * timers), the reaper, reload and shutdown.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
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
#include "log.h"
#include "logs.h"
#include "notify.h"
#include "proctab.h"
#include "util.h"

#define SHUTDOWN_KILL_GRACE	(5 * USEC_PER_SEC)
/* At exit, how long to wait for children that were killed with what was
   left of their process group to be reaped. */
#define SHUTDOWN_LINGER		USEC_PER_SEC

static pid_t	 daemon_svc_spawn(struct svc *, char *, size_t, bool *);
static int	 daemon_svc_kill(struct svc *, pid_t, int, bool);
static void	 daemon_svc_timer_set(struct svc *, uint64_t);
static void	 daemon_svc_timer_cancel(struct svc *);
static void	 daemon_svc_changed(struct svc *, enum svc_state);

static const struct svc_ops daemon_svc_ops = {
	.spawn = daemon_svc_spawn,
	.kill = daemon_svc_kill,
	.timer_set = daemon_svc_timer_set,
	.timer_cancel = daemon_svc_timer_cancel,
	.now = util_now_mono,
	.changed = daemon_svc_changed,
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

static pid_t
daemon_svc_spawn(struct svc *s, char *err, size_t errlen, bool *permanent)
{
	struct program		*p = svc_program(s);
	struct daemon		*d = p->d;
	struct launch_stdio	 io = d->stdio;
	pid_t			 pid;

	if (d->shutting_down) {
		snprintf(err, errlen, "tendd is shutting down");
		*permanent = true;
		return -1;
	}
	if (logio_stdio(s->logio, &io, err, errlen) == -1) {
		log_warnx("%s: %s", s->name, err);
		return -1;
	}
	pid = launch_instance(s->cp, s->index, &io, err, errlen, permanent);
	if (pid == -1) {
		log_warnx("%s: %s", s->name, err);
		return -1;
	}
	if (proctab_add(d->procs, pid, PROCTAB_INSTANCE, s) == -1)
		fatalx("%s: pid %d is already in the process table", s->name,
		    (int)pid);
	return pid;
}

static int
daemon_svc_kill(struct svc *s, pid_t pid, int sig, bool group)
{
	if (pid <= 0)
		return 0;
	if (group && sig == SIGKILL && s->pid == 0) {
		/* Clearing what is left of a stopped instance's group. */
		if (kill(-pid, sig) == 0)
			log_info("%s: killed the rest of process group %d",
			    s->name, (int)pid);
		return 0;
	}
	log_debug("%s: sending %s to %s %d", s->name, util_signal_name(sig),
	    group ? "group" : "pid", (int)pid);
	if (kill(group ? -pid : pid, sig) == -1) {
		if (errno != ESRCH)
			log_warn("%s: kill %d", s->name, (int)pid);
		return -1;
	}
	return 0;
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
	d->ready = true;
	daemon_notify_ready(d);
	log_info("ready");
}

static void
daemon_svc_changed(struct svc *s, enum svc_state old)
{
	struct program	*p = svc_program(s);

	if (s->error != NULL &&
	    (s->state == SVC_FAILED || s->state == SVC_BACKOFF))
		log_info("%s: %s -> %s (%s)", s->name, svc_state_name(old),
		    svc_state_name(s->state), s->error);
	else if (s->pid > 0 && (s->state == SVC_STARTING ||
	    (s->state == SVC_RUNNING && old != SVC_STARTING)))
		log_info("%s: %s -> %s (pid %d)", s->name, svc_state_name(old),
		    svc_state_name(s->state), (int)s->pid);
	else
		log_info("%s: %s -> %s", s->name, svc_state_name(old),
		    svc_state_name(s->state));
	cmd_svc_changed(s);
	if (svc_is_down(s) && (p->nretiring > 0 || p->d->shutting_down))
		daemon_schedule_gc(p->d);
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

static void
daemon_reap(struct daemon *d)
{
	enum proctab_kind	 kind;
	struct svc		*s;
	pid_t			 pid;
	int			 status;

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
		if ((s = proctab_find(d->procs, pid, &kind)) == NULL) {
			log_debug("reaped pid %d (not a program's main "
			    "process)", (int)pid);
			if (d->shutting_down)
				daemon_schedule_gc(d);
			continue;
		}
		proctab_remove(d->procs, pid);
		/* What it wrote comes before the news of its exit. */
		logio_drain(s->logio);
		daemon_describe_exit(s, pid, status);
		svc_event(s, SVC_EV_EXITED, status);
	}
}

static void
daemon_sigchld_cb(evutil_socket_t sig, short events, void *arg)
{
	daemon_reap(arg);
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
	if (d->shutting_down && proctab_count(d->procs) == 0) {
		/* What was left of the programs' groups got SIGKILL; as
		   their subreaper, see them reaped before leaving. */
		if (daemon_has_children() && !d->lingered) {
			if (!evtimer_pending(d->ev_linger, NULL)) {
				usec_to_tv(SHUTDOWN_LINGER, &tv);
				evtimer_add(d->ev_linger, &tv);
			}
			return;
		}
		log_info("all programs stopped");
		event_base_loopexit(d->base, NULL);
	}
}

static void
daemon_linger_cb(evutil_socket_t fd, short events, void *arg)
{
	struct daemon	*d = arg;

	log_warnx("leaving processes that are not part of any program "
	    "(they left their program's process group)");
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
				daemon_svc_kill(s, s->pid, sig,
				    s->cp->kill_group);
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
	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs; i++)
			svc_event(p->svcs[i], SVC_EV_STOP, 0);
		for (i = 0; i < p->nretiring; i++)
			svc_event(p->retiring[i], SVC_EV_STOP, 0);
	}
	if (d->conf->shutdown_timeout != 0) {
		usec_to_tv(d->conf->shutdown_timeout, &tv);
		evtimer_add(d->ev_shutdown, &tv);
	}
	daemon_schedule_gc(d);
}

static void
daemon_term_cb(evutil_socket_t sig, short events, void *arg)
{
	log_info("received SIG%s", util_signal_name((int)sig));
	daemon_shutdown(arg);
}

static void
daemon_usr1_cb(evutil_socket_t sig, short events, void *arg)
{
	struct daemon	*d = arg;

	log_info("received SIGUSR1: reopening log files");
	logs_reopen(d->logs);
}

static void
daemon_hup_cb(evutil_socket_t sig, short events, void *arg)
{
	struct daemon	*d = arg;
	json_t		*result = NULL, *errors = NULL, *e;
	size_t		 i;

	log_info("received SIGHUP: reloading %s", d->config_path);
	if (daemon_reload(d, &result, &errors) == -1) {
		json_array_foreach(errors, i, e)
			log_warnx("reload refused: %s", json_string_value(e));
		json_decref(errors);
		return;
	}
	json_decref(result);
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

	for (i = 0; i < upto && i < p->nsvcs; i++) {
		s = p->svcs[i];
		if (s->pid > 0 || s->state == SVC_BACKOFF ||
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
daemon_reload(struct daemon *d, json_t **resultp, json_t **errorsp)
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
	int			 mask;

	*resultp = *errorsp = NULL;
	notify_reloading(d->notify);
	if ((nc = conf_load(d->config_path, &errs)) == NULL) {
		*errorsp = json_array();
		for (i = 0; i < errs.n; i++) {
			msg = conf_error_format(&errs.v[i]);
			json_array_append_new(*errorsp, json_string(msg));
			free(msg);
		}
		conf_errors_clear(&errs);
		/* Still running as before: ready again (if it was). */
		if (d->ready)
			daemon_notify_ready(d);
		return -1;
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

struct daemon *
daemon_new(struct event_base *base, struct conf *conf,
    const char *config_path, const char *socket_override)
{
	struct daemon	*d = xcalloc(1, sizeof *d);
	struct program	*p;
	size_t		 i;
	int		 devnull;

	d->base = base;
	d->conf = conf;
	d->config_path = xstrdup(config_path);
	d->socket_override = socket_override != NULL;
	d->socket_path = xstrdup(socket_override != NULL ? socket_override :
	    conf->socket);
	TAILQ_INIT(&d->programs);
	d->procs = proctab_new();
	d->logs = logs_new(base);
	d->notify = notify_new(base);
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		fatal("open /dev/null");
	d->stdio.in = devnull;
	d->stdio.out = -1;
	d->stdio.err = -1;
	for (i = 0; i < conf->nprograms; i++) {
		p = program_new(d, conf, conf->programs[i]);
		TAILQ_INSERT_TAIL(&d->programs, p, entry);
	}
	d->ev_gc = event_new(base, -1, 0, daemon_gc_cb, d);
	d->ev_shutdown = evtimer_new(base, daemon_shutdown_timer_cb, d);
	d->ev_linger = evtimer_new(base, daemon_linger_cb, d);
	d->ev_status = event_new(base, -1, 0, daemon_status_cb, d);
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
	d->ev_term = evsignal_new(d->base, SIGTERM, daemon_term_cb, d);
	d->ev_int = evsignal_new(d->base, SIGINT, daemon_term_cb, d);
	d->ev_hup = evsignal_new(d->base, SIGHUP, daemon_hup_cb, d);
	d->ev_usr1 = evsignal_new(d->base, SIGUSR1, daemon_usr1_cb, d);
	evsignal_add(d->ev_usr1, NULL);
	evsignal_add(d->ev_chld, NULL);
	evsignal_add(d->ev_term, NULL);
	evsignal_add(d->ev_int, NULL);
	evsignal_add(d->ev_hup, NULL);
	/* Children that ended before the handler existed. */
	daemon_reap(d);

	TAILQ_FOREACH(p, &d->programs, entry) {
		if (!p->cp->autostart)
			continue;
		for (i = 0; i < p->nsvcs; i++)
			svc_event(p->svcs[i], SVC_EV_START, 0);
	}
	/* READY waits until every autostart instance is up or gave up. */
	TAILQ_FOREACH(p, &d->programs, entry) {
		for (i = 0; i < p->nsvcs; i++) {
			if (p->cp->autostart && !svc_settled(p->svcs[i])) {
				p->svcs[i]->boot_wait = true;
				d->boot_pending++;
			}
		}
	}
	if (d->boot_pending == 0)
		daemon_ready(d);
}

void
daemon_free(struct daemon *d)
{
	struct program	*p;

	if (d == NULL)
		return;
	control_free(d->control);
	while ((p = TAILQ_FIRST(&d->programs)) != NULL) {
		TAILQ_REMOVE(&d->programs, p, entry);
		program_free(p);
	}
	if (d->ev_chld != NULL) {
		event_free(d->ev_chld);
		event_free(d->ev_term);
		event_free(d->ev_int);
		event_free(d->ev_hup);
		event_free(d->ev_usr1);
	}
	event_free(d->ev_gc);
	event_free(d->ev_shutdown);
	event_free(d->ev_linger);
	event_free(d->ev_status);
	proctab_free(d->procs);
	logs_free(d->logs);
	notify_free(d->notify);
	close(d->stdio.in);
	conf_unref(d->conf);
	free(d->config_path);
	free(d->socket_path);
	free(d);
}
