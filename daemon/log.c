/* log.c: leveled logging to stderr (with a timestamp) or syslog. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_stderr = 1;
static int		 log_journal;	/* stderr is a journal stream */
static enum log_level	 log_max = LOG_LEVEL_INFO;
static int		 log_fatal_fd = -1;

/* Info and debug lines held for log_flush (see log_defer). */
static char		 log_buf[16384];
static size_t		 log_len;
static void		(*log_kick)(void *);
static void		*log_kick_arg;

static const char *const log_names[] = { "error", "warn", "info", "debug" };
static const int log_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

/* Is stderr the journal stream systemd set up (JOURNAL_STREAM=dev:ino)? */
static int
log_stderr_is_journal(void)
{
	const char		*v = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;

	if (v == NULL || sscanf(v, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(2, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(int to_stderr, enum log_level level)
{
	log_stderr = to_stderr;
	log_max = level;
	log_journal = to_stderr && log_stderr_is_journal();
}

/* Write what is held to stderr; a failed write drops it, as an
   unbuffered stderr would have. */
void
log_flush(void)
{
	size_t	 off = 0;
	ssize_t	 n;

	while (off < log_len) {
		if ((n = write(STDERR_FILENO, log_buf + off, log_len - off)) ==
		    -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)n;
	}
	log_len = 0;
}

void
log_defer(void (*kick)(void *), void *arg)
{
	if (kick == NULL)
		log_flush();
	log_kick = kick;
	log_kick_arg = arg;
}

/* One whole line to stderr: held when deferred (info and debug), else
   written at once, after what is held. */
static void
log_out(enum log_level level, const char *line, size_t len)
{
	if (log_kick != NULL && level >= LOG_LEVEL_INFO &&
	    len <= sizeof log_buf) {
		if (log_len + len > sizeof log_buf)
			log_flush();
		memcpy(log_buf + log_len, line, len);
		log_len += len;
		log_kick(log_kick_arg);
		return;
	}
	log_flush();
	(void)!write(STDERR_FILENO, line, len);
}

void
log_set_syslog(void)
{
	log_flush();
	log_stderr = 0;
	log_journal = 0;
	openlog("tendd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_parse_level(const char *s, enum log_level *level)
{
	size_t	 i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

int
log_enabled(enum log_level level)
{
	return level <= log_max;
}

static void	log_vwrite(enum log_level, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

static void
log_vwrite(enum log_level level, const char *errstr, const char *fmt,
    va_list ap)
{
	/* The date part changes once a second: formatted then, not for
	   each of the 3000 lines of a stop of 1000. */
	static char	 when[32];
	static time_t	 when_sec = -1;
	char		 msg[2048], line[2400];
	struct timespec	 ts;
	struct tm	 tm;
	int		 n;

	if (level > log_max)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (log_journal) {
		/* journald reads the priority; it adds the time itself. */
		if (errstr != NULL)
			n = snprintf(line, sizeof line, "<%d>%s: %s\n",
			    log_prio[level], msg, errstr);
		else
			n = snprintf(line, sizeof line, "<%d>%s\n",
			    log_prio[level], msg);
		goto out;
	}
	if (!log_stderr) {
		if (errstr != NULL)
			syslog(log_prio[level], "%s: %s", msg, errstr);
		else
			syslog(log_prio[level], "%s", msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != when_sec) {
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		when_sec = ts.tv_sec;
	}
	if (errstr != NULL)
		n = snprintf(line, sizeof line, "%s.%03ld tendd %s: %s: %s\n",
		    when, ts.tv_nsec / 1000000, log_names[level], msg, errstr);
	else
		n = snprintf(line, sizeof line, "%s.%03ld tendd %s: %s\n",
		    when, ts.tv_nsec / 1000000, log_names[level], msg);
out:
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line) {
		/* Cut, but still a line. */
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	log_out(level, line, (size_t)n);
}

#define LOG_FN(fn, level, witherr)					\
void									\
fn(const char *fmt, ...)						\
{									\
	va_list	 ap;							\
	int	 saved = errno;						\
									\
	va_start(ap, fmt);						\
	log_vwrite(level, witherr ? strerror(saved) : NULL, fmt, ap);	\
	va_end(ap);							\
	errno = saved;							\
}

LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)

void
log_fatal_to(int fd)
{
	log_fatal_fd = fd;
}

static void	log_fatal_report(const char *, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

/* The message alone, as the daemonizing parent prints it. */
static void
log_fatal_report(const char *errstr, const char *fmt, va_list ap)
{
	char	 msg[1024];
	size_t	 len;

	if (log_fatal_fd == -1)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	len = strlen(msg);
	if (errstr != NULL)
		snprintf(msg + len, sizeof msg - len, ": %s", errstr);
	(void)!write(log_fatal_fd, msg, strlen(msg));
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	log_fatal_report(strerror(saved), fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_fatal_report(NULL, fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
