/*
 * sigs.c: the signals tendd takes itself, read from a signalfd.
 *
 * A signalfd rather than libevent's evsignals, for two reasons. It tells
 * who sent a signal: tendd's own writes raise SIGPIPE (a closed pipe) and
 * SIGXFSZ (past RLIMIT_FSIZE), which are the write's error and must be
 * neither forwarded to a program nor logged (logging would write, and
 * raise another). And a blocked SIGTTOU counts as ignored for a terminal:
 * with --run, tendd writes its log to a terminal whose foreground is the
 * command's; with a handler instead, such a write with TOSTOP set would
 * raise SIGTTOU and be restarted after it, for ever.
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "sigs.h"
#include "util.h"

/* Read at most this many signals per callback: a flood of queued
   real-time signals takes turns with everything else. */
#define SIGS_BATCH	16

struct sigs {
	int		 fd;
	struct event	*ev;
	pid_t		 self;
	void		(*cb)(int, pid_t, void *);
	void		*arg;
};

/* Left alone in both modes. */
static bool
sigs_kept(int sig)
{
	switch (sig) {
	case SIGKILL:
	case SIGSTOP:
	case SIGSEGV:
	case SIGBUS:
	case SIGFPE:
	case SIGILL:
	case SIGABRT:
	case SIGCHLD:
		return true;
	}
	/* glibc's own (SIGCANCEL, SIGSETXID); it refuses to let them be
	   blocked or handled anyway. */
	return sig > SIGSYS && sig < SIGRTMIN;
}

bool
sigs_forwarded(int sig)
{
	return sig > 0 && sig < NSIG && !sigs_kept(sig);
}

/* Taken in config mode: those whose default ends or stops tendd. */
static bool
sigs_taken(int sig)
{
	if (!sigs_forwarded(sig))
		return false;
	switch (sig) {
	case SIGPIPE:	/* ignored (main.c) */
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
		return false;
	}
	return true;
}

static void
sigs_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct sigs		*s = arg;
	struct signalfd_siginfo	 si[SIGS_BATCH];
	ssize_t			 n;
	size_t			 i;

	if ((n = read(fd, si, sizeof si)) == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("signalfd");
		return;
	}
	for (i = 0; i < (size_t)n / sizeof *si; i++) {
		/* The kernel raises these in the writer with itself as the
		   sender; another process sending them has its own PID. */
		if ((si[i].ssi_signo == SIGPIPE ||
		    si[i].ssi_signo == SIGXFSZ) &&
		    si[i].ssi_code == SI_USER &&
		    (pid_t)si[i].ssi_pid == s->self)
			continue;
		s->cb((int)si[i].ssi_signo, (pid_t)si[i].ssi_pid, s->arg);
	}
}

struct sigs *
sigs_new(struct event_base *base, bool forward_all,
    void (*cb)(int, pid_t, void *), void *arg)
{
	struct sigs	*s = xcalloc(1, sizeof *s);
	sigset_t	 set;
	int		 sig;

	sigemptyset(&set);
	for (sig = 1; sig < NSIG; sig++) {
		if (forward_all ? sigs_forwarded(sig) : sigs_taken(sig))
			sigaddset(&set, sig);
	}
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
	if ((s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	s->self = getpid();
	s->cb = cb;
	s->arg = arg;
	s->ev = event_new(base, s->fd, EV_READ | EV_PERSIST, sigs_read_cb, s);
	event_add(s->ev, NULL);
	return s;
}

void
sigs_free(struct sigs *s)
{
	if (s == NULL)
		return;
	event_free(s->ev);
	close(s->fd);
	free(s);
}
