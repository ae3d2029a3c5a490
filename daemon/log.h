/* log.h: tendd's own log: stderr in the foreground, syslog when daemonized.
 * log_warn appends the errno text; log_warnx does not. fatal exits. */
#ifndef TEND_LOG_H
#define TEND_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void	log_init(int to_stderr, enum log_level);
void	log_set_syslog(void);		/* after daemonizing */
/* fatal and fatalx also write their message to fd (-1: none): the pipe
   a daemonizing parent waits on, until the daemon is ready. */
void	log_fatal_to(int fd);
/*
 * Hold info and debug lines for stderr until log_flush, and call kick
 * (arg) after each: the daemon flushes once per pass of its loop, one
 * write for what a pass logged (a stop of 1000 logged 3000 lines, one
 * write each). Warnings and errors go out at once, after what is held.
 * kick NULL: flush, and write each line at once again.
 */
void	log_defer(void (*kick)(void *), void *arg);
void	log_flush(void);
int	log_parse_level(const char *, enum log_level *);
int	log_enabled(enum log_level);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
