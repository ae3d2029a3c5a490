/* util.h: small pure helpers shared by tendd and tendctl. */
#ifndef TEND_UTIL_H
#define TEND_UTIL_H

#include <sys/time.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USEC_PER_SEC	1000000ULL
#define USEC_PER_MSEC	1000ULL

/* Allocation wrappers: abort with a message on out-of-memory. */
#define X_NONNULL	__attribute__((returns_nonnull))
void	*xmalloc(size_t) X_NONNULL;
void	*xcalloc(size_t, size_t) X_NONNULL;
void	*xreallocarray(void *, size_t, size_t) X_NONNULL;
char	*xstrdup(const char *) X_NONNULL;
char	*xstrndup(const char *, size_t) X_NONNULL;
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));

/*
 * Durations are kept in microseconds. A duration is a number of seconds
 * ("1.5") or a sequence of number+unit ("250ms", "10s", "1m30s"); units are
 * us, ms, s, m, h, d. Returns 0, or -1 for a malformed or overflowing value.
 */
int	 util_parse_duration(const char *, uint64_t *);
/* Seconds (a double from a config or JSON number) to usec; -1 if invalid. */
int	 util_seconds_to_usec(double, uint64_t *);
/* Human form: "250ms", "10s", "5m03s", "2h04m", "3d02h". */
void	 util_format_duration(uint64_t, char *, size_t);

/*
 * Sizes in bytes: a decimal number, alone or followed by K, M or G (powers
 * of 1024), also written KB or KiB, in any case: "512", "64K", "10MiB".
 * Returns 0, or -1 for a malformed or overflowing value.
 */
int	 util_parse_size(const char *, uint64_t *);

/*
 * Signals: "TERM", "SIGTERM", "term" or a number. Returns the signal number,
 * or -1 if unknown.
 */
int	 util_parse_signal(const char *);
/* "TERM" for SIGTERM, "RTMIN+3", or the number as text (static buffer). */
const char *util_signal_name(int);

/*
 * Does a user pattern (a shell glob) select an instance? It matches the
 * instance name ("web:2") or the program name ("web", meaning every
 * instance); "all" matches everything.
 */
bool	 util_match(const char *pattern, const char *program,
	    const char *instance);

/* A valid program name: 1-64 of [A-Za-z0-9_.-], not starting with . or -. */
bool	 util_valid_name(const char *);

/*
 * Replace "{name}" and "{instance}" in a template. Returns a new string.
 * Other braces are kept as they are.
 */
char	*util_subst(const char *, const char *name, unsigned instance);

/* Levenshtein distance, for "did you mean" hints (bounded inputs). */
unsigned util_edit_distance(const char *, const char *);

/* Monotonic and wall clocks in usec. */
uint64_t util_now_mono(void);
uint64_t util_now_wall(void);
/* usec as a timeval (libevent's timers). */
void	 util_usec_tv(uint64_t, struct timeval *);

#endif
