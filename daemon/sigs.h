/*
 * sigs.h: the signals tendd takes itself, read from a signalfd.
 *
 * Every signal whose default action would end or stop tendd is taken,
 * except SIGKILL and SIGSTOP (which cannot be) and the faults SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL and SIGABRT (a bug in tendd: they keep their
 * default, so it dumps core). SIGPIPE stays ignored in config mode.
 * With forward_all (tendd --run) SIGPIPE, SIGCONT, SIGURG and SIGWINCH
 * are taken too, to be passed on. SIGCHLD is the reaper's (an evsignal),
 * and glibc's two internal signals below SIGRTMIN are left to glibc.
 *
 * The signals are blocked from sigs_new on and never unblocked; children
 * start with an empty mask (launch.c). A signal that tendd raised itself
 * (SIGPIPE, SIGXFSZ from a write of its own: the write's error says it
 * already) never reaches the callback.
 */
#ifndef TEND_SIGS_H
#define TEND_SIGS_H

#include <sys/types.h>

#include <stdbool.h>

struct event_base;
struct sigs;

/*
 * Block the signals and watch them in base: cb(sig, from, arg) runs in
 * the loop for each one, from the sender's PID or 0 when the kernel (a
 * terminal, a limit) or a process outside tendd's PID namespace sent it.
 * Exits if it cannot.
 */
struct sigs	*sigs_new(struct event_base *, bool forward_all,
		    void (*cb)(int sig, pid_t from, void *arg), void *arg);
/* Stop watching; the signals stay blocked (one pending at exit must not
   take its default action then). NULL is a no-op. */
void		 sigs_free(struct sigs *);
/* Is sig taken with forward_all (tendd --run forwards exactly these)? */
bool		 sigs_forwarded(int sig);

#endif
