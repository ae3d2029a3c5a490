/*
 * procfs.h: what tendd reads from /proc about processes, and pidfds.
 *
 * Nothing here keeps state; every call reads the kernel's view of now. A
 * process that is gone gives -1 with errno ENOENT or ESRCH.
 */
#ifndef TEND_PROCFS_H
#define TEND_PROCFS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct procfs_stat {
	pid_t		 pid;
	pid_t		 ppid;
	pid_t		 pgrp;
	pid_t		 session;
	char		 state;		/* 'R', 'S', 'D', 'Z', 'T', ... */
	uint64_t	 starttime;	/* clock ticks after boot (field 22) */
	char		 comm[64];
};

/* Parse the text of /proc/PID/stat (comm may hold spaces and ')').
   Returns 0, or -1 if malformed. */
int		 procfs_parse_stat(const char *buf, size_t len,
		    struct procfs_stat *);
int		 procfs_read_stat(pid_t, struct procfs_stat *);

/*
 * Append the children of pid (from /proc/PID/task/ * /children, every
 * thread's) to *v, growing it (*cap its allocated size). Returns 0, or -1
 * if pid is gone.
 */
int		 procfs_children(pid_t, pid_t **v, size_t *n, size_t *cap);

/* The command line, arguments joined by spaces, cut at max bytes; an
   empty one (zombie, kernel thread) gives "[comm]". Caller frees. */
char		*procfs_cmdline(pid_t, const char *comm, size_t max);

/* The value of key in /proc/PID/environ, or NULL. Caller frees. */
char		*procfs_environ_get(pid_t, const char *key);

/*
 * The parsing of those two, apart from the reading (tests/fuzz):
 * procfs_cmdline_text turns len bytes of a cmdline file (buf has room for
 * one more) into the text in place, cut at max, and returns its length;
 * procfs_environ_find is procfs_environ_get on len bytes of an environ
 * file (full: it was cut at the size limit), errno ENOENT if key is not
 * there.
 */
size_t		 procfs_cmdline_text(char *buf, size_t len, size_t max);
char		*procfs_environ_find(const char *buf, size_t len, bool full,
		    const char *key);

/* CLOCK_BOOTTIME in ns (0 if unreadable), for procfs_starttime_between. */
uint64_t	 procfs_boot_now(void);
/* The starttime /proc/PID/stat shows for a process created between two
   procfs_boot_now() readings: known when both fall in one clock tick,
   else 0 (then read it). */
uint64_t	 procfs_starttime_between(uint64_t before, uint64_t after);

/* How long ago (usec) a process with this start time (clock ticks after
   boot, as in /proc/PID/stat) started; 0 if in the future or unknown. */
uint64_t	 procfs_age(uint64_t starttime);

/*
 * A pidfile's PID: the first line holds it, as a decimal number with
 * optional blanks around; what follows the first line is ignored (a
 * PostgreSQL postmaster.pid has more lines). Returns the PID, or 0 with
 * the reason in why ("is empty", "does not hold a PID").
 */
pid_t		 procfs_parse_pidfile(const char *buf, size_t len, char *why,
		    size_t whylen);
/* Read and parse the pidfile at path (non-blocking, at most 4 KiB): the
   PID, or 0 with the reason, path first, in why. */
pid_t		 procfs_read_pidfile(const char *path, char *why,
		    size_t whylen);

/* /proc/sys/kernel/random/boot_id into buf (at least 37 bytes). */
int		 procfs_boot_id(char *buf, size_t len);

/* "running", "sleeping", "disk-sleep", "zombie", "stopped", ... */
const char	*procfs_state_name(char);

/*
 * A pidfd for pid, CLOEXEC, checked after opening to still have the given
 * starttime (so a recycled PID is never taken for the old process).
 * Returns the fd, or -1 with errno ESRCH when pid is gone or is another
 * process now.
 */
int		 procfs_pidfd_open(pid_t, uint64_t starttime);
/* pidfd_send_signal(2). */
int		 procfs_pidfd_signal(int pidfd, int sig);

#endif
