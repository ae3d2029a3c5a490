/* procfs.c: process facts from /proc (stat, children, cmdline, environ,
 * boot id) and pidfds checked against a start time. */
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

/* /proc/PID/stat is well under this up to field 22 (comm is at most 64). */
#define PROCFS_STAT_MAX		2048
/* A process's environment may be large; we only look for one variable. */
#define PROCFS_ENVIRON_MAX	(1024 * 1024)

/*
 * Read up to max bytes of a file into a new buffer (NUL-terminated past
 * the data). *full is set when max bytes were read: there may be more.
 */
static char *
procfs_read_file(const char *path, size_t max, size_t *lenp, int *full)
{
	char	*buf;
	size_t	 len = 0, size;
	ssize_t	 n;
	int	 fd, saved;

	if (max == SIZE_MAX)
		max--;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	size = max < 4096 ? max : 4096;
	buf = xmalloc(size + 1);
	for (;;) {
		if (len == size) {
			if (size == max)
				break;
			size = max - size < size ? max : size * 2;
			buf = xreallocarray(buf, size + 1, 1);
		}
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	*full = len == max;
	return buf;
}

/* One decimal field, optionally negative, then a space or the end. */
static int
procfs_field(const char **pp, const char *end, int *neg, uint64_t *v)
{
	const char	*p = *pp;
	uint64_t	 x = 0;

	*neg = 0;
	if (p < end && *p == '-') {
		*neg = 1;
		p++;
	}
	if (p == end || !isdigit((unsigned char)*p))
		return -1;
	for (; p < end && isdigit((unsigned char)*p); p++) {
		if (x > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	if (p < end && *p != ' ' && *p != '\n')
		return -1;
	if (p < end)
		p++;
	*pp = p;
	*v = x;
	return 0;
}

/* A field that must be a PID or 0 (pgrp and session are 0 for kthreads). */
static int
procfs_field_pid(const char **pp, const char *end, pid_t *pid)
{
	uint64_t	 v;
	int		 neg;

	if (procfs_field(pp, end, &neg, &v) == -1 || neg || v > INT_MAX)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

int
procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *st)
{
	const char	*p, *end = buf + len, *lp, *rp;
	uint64_t	 v;
	size_t		 n;
	int		 neg, i;

	memset(st, 0, sizeof *st);
	p = buf;
	if (procfs_field_pid(&p, end, &st->pid) == -1 || st->pid == 0)
		return -1;
	if (p == end || *p != '(')
		return -1;
	lp = p + 1;
	/* comm is free text: it ends at the last ')'. */
	for (rp = NULL, p = end; p > lp; p--) {
		if (p[-1] == ')') {
			rp = p - 1;
			break;
		}
	}
	if (rp == NULL)
		return -1;
	n = (size_t)(rp - lp);
	if (n >= sizeof st->comm)
		n = sizeof st->comm - 1;
	memcpy(st->comm, lp, n);
	st->comm[n] = '\0';

	p = rp + 1;
	if (end - p < 3 || p[0] != ' ' || p[1] == ' ' || p[2] != ' ')
		return -1;
	st->state = p[1];
	p += 3;
	if (procfs_field_pid(&p, end, &st->ppid) == -1 ||
	    procfs_field_pid(&p, end, &st->pgrp) == -1 ||
	    procfs_field_pid(&p, end, &st->session) == -1)
		return -1;
	/* tty_nr (7) to itrealvalue (21): checked, not kept. */
	for (i = 7; i <= 21; i++) {
		if (procfs_field(&p, end, &neg, &v) == -1)
			return -1;
	}
	if (procfs_field(&p, end, &neg, &v) == -1 || neg)
		return -1;
	st->starttime = v;
	return 0;
}

int
procfs_read_stat(pid_t pid, struct procfs_stat *st)
{
	char	 path[64], buf[PROCFS_STAT_MAX];
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, saved;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < sizeof buf) {
		n = read(fd, buf + len, sizeof buf - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (procfs_parse_stat(buf, len, st) == -1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static void
procfs_push(pid_t **v, size_t *n, size_t *cap, pid_t pid)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*v = xreallocarray(*v, *cap, sizeof **v);
	}
	(*v)[(*n)++] = pid;
}

/* Parse one children file as it streams in (it may be long). */
static void
procfs_task_children(int dfd, const char *tid, pid_t **v, size_t *n,
    size_t *cap)
{
	char		 path[64], buf[4096];
	uint64_t	 cur = 0;
	ssize_t		 got, i;
	int		 fd, in = 0, bad = 0;

	snprintf(path, sizeof path, "%s/children", tid);
	/* A thread that has just exited has no file: skip it. */
	if ((fd = openat(dfd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	for (;;) {
		got = read(fd, buf, sizeof buf);
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (i = 0; i < got; i++) {
			if (isdigit((unsigned char)buf[i])) {
				if (cur > INT_MAX / 10)
					bad = 1;
				else
					cur = cur * 10 +
					    (uint64_t)(buf[i] - '0');
				in = 1;
				continue;
			}
			if (in && !bad && cur > 0 && cur <= INT_MAX)
				procfs_push(v, n, cap, (pid_t)cur);
			cur = 0;
			in = bad = 0;
		}
	}
	if (in && !bad && cur > 0 && cur <= INT_MAX)
		procfs_push(v, n, cap, (pid_t)cur);
	close(fd);
}

int
procfs_children(pid_t pid, pid_t **v, size_t *n, size_t *cap)
{
	struct dirent	*de;
	DIR		*d;
	char		 path[64];
	int		 dfd;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	if ((dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		procfs_task_children(dfd, de->d_name, v, n, cap);
	}
	closedir(d);
	return 0;
}

size_t
procfs_cmdline_text(char *buf, size_t len, size_t max)
{
	size_t	 i;

	if (len > max)
		len = max;
	else {
		/* The final NUL ends the last argument; the others
		   separate. */
		while (len > 0 && buf[len - 1] == '\0')
			len--;
	}
	buf[len] = '\0';
	for (i = 0; i < len; i++) {
		if (buf[i] == '\0')
			buf[i] = ' ';
	}
	return len;
}

char *
procfs_cmdline(pid_t pid, const char *comm, size_t max)
{
	struct procfs_stat	 st;
	char			 path[64], *buf, *s;
	size_t			 len;
	int			 full;

	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	/* One byte more tells a cut line from one exactly max long. */
	if ((buf = procfs_read_file(path, max < SIZE_MAX - 1 ? max + 1 : max,
	    &len, &full)) == NULL)
		return NULL;
	if (procfs_cmdline_text(buf, len, max) > 0)
		return buf;
	free(buf);

	if (comm == NULL) {
		comm = "?";
		if (procfs_read_stat(pid, &st) == 0)
			comm = st.comm;
	}
	xasprintf(&s, "[%s]", comm);
	if (strlen(s) > max)
		s[max] = '\0';
	return s;
}

char *
procfs_environ_find(const char *buf, size_t len, bool full, const char *key)
{
	const char	*p, *end = buf + len, *e;
	size_t		 klen = strlen(key);

	for (p = buf; p < end; p = e + 1) {
		if ((e = memchr(p, '\0', (size_t)(end - p))) == NULL) {
			/* Cut off at the size limit: not a whole entry. */
			if (full)
				break;
			e = end;
		}
		if ((size_t)(e - p) > klen && memcmp(p, key, klen) == 0 &&
		    p[klen] == '=')
			return xstrndup(p + klen + 1,
			    (size_t)(e - p) - klen - 1);
	}
	errno = ENOENT;
	return NULL;
}

char *
procfs_environ_get(pid_t pid, const char *key)
{
	char	 path[64], *buf, *v;
	size_t	 len, klen = strlen(key);
	int	 full, saved;

	if (klen == 0 || strchr(key, '=') != NULL) {
		errno = EINVAL;
		return NULL;
	}
	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	if ((buf = procfs_read_file(path, PROCFS_ENVIRON_MAX, &len,
	    &full)) == NULL)
		return NULL;
	v = procfs_environ_find(buf, len, full, key);
	saved = errno;
	free(buf);
	errno = saved;
	return v;
}

uint64_t
procfs_boot_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/*
 * The kernel stamps a new process with CLOCK_BOOTTIME (start_boottime,
 * in the reader's time namespace as clock_gettime is) and shows it in
 * /proc/PID/stat in clock ticks, rounded down. Reading the file instead
 * is an open, a read and a close per program started, and leaves /proc
 * dentries that every reap then has to invalidate (a tenth of a stop of
 * 1000).
 */
uint64_t
procfs_starttime_between(uint64_t before, uint64_t after)
{
	static long	 hz;
	uint64_t	 per;

	if (hz == 0)
		hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0 || 1000000000 % hz != 0 || before == 0 ||
	    after < before)
		return 0;
	per = 1000000000 / (uint64_t)hz;
	if (before / per != after / per)
		return 0;
	return before / per;
}

uint64_t
procfs_age(uint64_t starttime)
{
	long		 hz = sysconf(_SC_CLK_TCK);
	uint64_t	 now = procfs_boot_now(), start;

	if (hz <= 0 || now == 0)
		return 0;
	start = starttime * (1000000000 / (uint64_t)hz);
	return now > start ? (now - start) / 1000 : 0;
}

pid_t
procfs_parse_pidfile(const char *buf, size_t len, char *why, size_t whylen)
{
	const char	*p = buf, *end = buf + len, *eol;
	long		 v = 0;

	if ((eol = memchr(buf, '\n', len)) != NULL)
		end = eol;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end) {
		snprintf(why, whylen, eol == NULL && len == 0 ? "is empty" :
		    "has no PID on its first line");
		return 0;
	}
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > INT32_MAX)
			break;
	}
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	if (p != end || v <= 1 || v > INT32_MAX) {
		snprintf(why, whylen, "does not hold a PID on its first line");
		return 0;
	}
	return (pid_t)v;
}

pid_t
procfs_read_pidfile(const char *path, char *why, size_t whylen)
{
	struct stat	 sb;
	char		 buf[4096], reason[128];
	ssize_t		 n;
	pid_t		 pid;
	int		 fd;

	/* Non-blocking, and only a regular file: a FIFO put there must not
	   hold tendd up. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) ==
	    -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		snprintf(why, whylen, "%s is not a regular file", path);
		return 0;
	}
	do
		n = read(fd, buf, sizeof buf);
	while (n == -1 && errno == EINTR);
	close(fd);
	if (n == -1) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return 0;
	}
	if ((pid = procfs_parse_pidfile(buf, (size_t)n, reason,
	    sizeof reason)) == 0)
		snprintf(why, whylen, "%s %s", path, reason);
	return pid;
}

int
procfs_boot_id(char *buf, size_t len)
{
	char	 tmp[64];
	ssize_t	 n;
	size_t	 l;
	int	 fd, saved;

	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	do
		n = read(fd, tmp, sizeof tmp - 1);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n == -1) {
		errno = saved;
		return -1;
	}
	l = (size_t)n;
	while (l > 0 && (tmp[l - 1] == '\n' || tmp[l - 1] == ' '))
		l--;
	if (l == 0) {
		errno = EINVAL;
		return -1;
	}
	if (l >= len) {
		errno = ERANGE;
		return -1;
	}
	memcpy(buf, tmp, l);
	buf[l] = '\0';
	return 0;
}

const char *
procfs_state_name(char state)
{
	switch (state) {
	case 'R':
		return "running";
	case 'S':
		return "sleeping";
	case 'D':
		return "disk-sleep";
	case 'Z':
		return "zombie";
	case 'T':
		return "stopped";
	case 't':
		return "tracing-stop";
	case 'X':
	case 'x':
		return "dead";
	case 'I':
		return "idle";
	case 'P':
		return "parked";
	case 'W':
		/* Paging before 2.6.0, waking in 2.6.33 to 3.13. */
		return "paging/waking";
	case 'K':
		return "wakekill";
	default:
		return "unknown";
	}
}

int
procfs_pidfd_open(pid_t pid, uint64_t starttime)
{
	struct procfs_stat	 st;
	int			 fd;

	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	/* pidfd_open(2) always sets close-on-exec; no flag to ask for. */
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return -1;
	/*
	 * The fd now pins one process. If /proc/PID still shows its start
	 * time, it is the one we knew; if the PID was reused before the
	 * open, the start time differs; if after, the old one is gone.
	 */
	if (procfs_read_stat(pid, &st) == -1 || st.starttime != starttime) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

int
procfs_pidfd_signal(int pidfd, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}
