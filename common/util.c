/* util.c: allocation wrappers, durations, sizes, signal names, pattern
 * matching. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util.h"

static void __attribute__((noreturn))
oom(void)
{
	static const char msg[] = "out of memory\n";

	(void)!write(2, msg, sizeof msg - 1);
	abort();
}

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t n)
{
	void	*p;

	if ((p = calloc(nmemb == 0 ? 1 : nmemb, n == 0 ? 1 : n)) == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *old, size_t nmemb, size_t n)
{
	void	*p;

	if ((p = reallocarray(old, nmemb == 0 ? 1 : nmemb, n == 0 ? 1 : n)) ==
	    NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		oom();
	return p;
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int	 n;

	if ((n = vasprintf(ret, fmt, ap)) < 0)
		oom();
	return n;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return n;
}

static const struct {
	const char	*name;
	uint64_t	 usec;
} duration_units[] = {
	{ "us", 1 },
	{ "ms", USEC_PER_MSEC },
	{ "s", USEC_PER_SEC },
	{ "m", 60 * USEC_PER_SEC },
	{ "h", 3600 * USEC_PER_SEC },
	{ "d", 86400 * USEC_PER_SEC },
};

int
util_seconds_to_usec(double secs, uint64_t *usec)
{
	if (!isfinite(secs) || secs < 0 || secs > 1e12)
		return -1;
	*usec = (uint64_t)llround(secs * (double)USEC_PER_SEC);
	return 0;
}

int
util_parse_duration(const char *s, uint64_t *usec)
{
	const char	*p = s;
	uint64_t	 total = 0, part;
	double		 v;
	char		*end;
	size_t		 i, ulen;
	int		 any = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		errno = 0;
		v = strtod(p, &end);
		if (end == p || errno != 0)
			return -1;
		p = end;
		ulen = 0;
		while (isalpha((unsigned char)p[ulen]))
			ulen++;
		if (ulen == 0) {
			/* A bare number is seconds, and only alone. */
			if (any || *p != '\0')
				return -1;
			return util_seconds_to_usec(v, usec);
		}
		for (i = 0; i < sizeof duration_units / sizeof *duration_units;
		    i++) {
			if (strlen(duration_units[i].name) == ulen &&
			    strncmp(p, duration_units[i].name, ulen) == 0)
				break;
		}
		if (i == sizeof duration_units / sizeof *duration_units)
			return -1;
		if (!isfinite(v) || v < 0 ||
		    v * (double)duration_units[i].usec > 1e18)
			return -1;
		part = (uint64_t)llround(v * (double)duration_units[i].usec);
		if (total > UINT64_MAX / 2 - part)
			return -1;
		total += part;
		p += ulen;
		any = 1;
	}
	*usec = total;
	return 0;
}

int
util_parse_size(const char *s, uint64_t *bytes)
{
	static const char	 units[] = "kmg";
	const char		*p, *u;
	uint64_t		 v = 0, mult = 1;
	unsigned		 d;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (p = s; isdigit((unsigned char)*p); p++) {
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*p != '\0') {
		if ((u = strchr(units, tolower((unsigned char)*p))) == NULL)
			return -1;
		mult = 1ULL << (10 * (u - units + 1));
		p++;
		if (strcasecmp(p, "") != 0 && strcasecmp(p, "b") != 0 &&
		    strcasecmp(p, "ib") != 0)
			return -1;
		if (v > UINT64_MAX / mult)
			return -1;
	}
	*bytes = v * mult;
	return 0;
}

void
util_format_duration(uint64_t usec, char *buf, size_t len)
{
	uint64_t	 s = usec / USEC_PER_SEC;

	if (usec < USEC_PER_SEC && usec % USEC_PER_MSEC == 0 && usec != 0)
		snprintf(buf, len, "%llums",
		    (unsigned long long)(usec / USEC_PER_MSEC));
	else if (usec < USEC_PER_SEC && usec != 0)
		snprintf(buf, len, "%.3gms", (double)usec / USEC_PER_MSEC);
	else if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
		    (unsigned long long)(s % 60));
	else if (s < 86400)
		snprintf(buf, len, "%lluh%02llum",
		    (unsigned long long)(s / 3600),
		    (unsigned long long)(s % 3600 / 60));
	else
		snprintf(buf, len, "%llud%02lluh",
		    (unsigned long long)(s / 86400),
		    (unsigned long long)(s % 86400 / 3600));
}

int
util_parse_signal(const char *s)
{
	const char	*name = s, *abbrev;
	char		*end;
	long		 n;
	int		 sig;

	if (s == NULL || *s == '\0')
		return -1;
	if (isdigit((unsigned char)*s)) {
		errno = 0;
		n = strtol(s, &end, 10);
		if (errno != 0 || *end != '\0' || n <= 0 || n >= NSIG)
			return -1;
		return (int)n;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	if (strncasecmp(name, "RTMIN+", 6) == 0 ||
	    strncasecmp(name, "RTMAX-", 6) == 0) {
		errno = 0;
		n = strtol(name + 6, &end, 10);
		if (errno != 0 || *end != '\0' || n < 0 ||
		    n > SIGRTMAX - SIGRTMIN)
			return -1;
		return name[5] == '+' ? SIGRTMIN + (int)n : SIGRTMAX - (int)n;
	}
	for (sig = 1; sig < SIGRTMIN; sig++) {
		if ((abbrev = sigabbrev_np(sig)) != NULL &&
		    strcasecmp(abbrev, name) == 0)
			return sig;
	}
	if (strcasecmp(name, "RTMIN") == 0)
		return SIGRTMIN;
	if (strcasecmp(name, "RTMAX") == 0)
		return SIGRTMAX;
	return -1;
}

const char *
util_signal_name(int sig)
{
	static char	 buf[32];
	const char	*abbrev;

	if (sig > 0 && sig < SIGRTMIN && (abbrev = sigabbrev_np(sig)) != NULL)
		return abbrev;
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, sizeof buf, "RTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, sizeof buf, "%d", sig);
	return buf;
}

bool
util_match(const char *pattern, const char *program, const char *instance)
{
	if (strcmp(pattern, "all") == 0)
		return true;
	if (fnmatch(pattern, instance, 0) == 0)
		return true;
	return fnmatch(pattern, program, 0) == 0;
}

bool
util_valid_name(const char *s)
{
	size_t	 n;

	if (*s == '\0' || *s == '.' || *s == '-')
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= 64)
			return false;
		if (!isalnum((unsigned char)s[n]) && s[n] != '_' &&
		    s[n] != '.' && s[n] != '-')
			return false;
	}
	return strcmp(s, "all") != 0;
}

char *
util_subst(const char *tmpl, const char *name, unsigned instance)
{
	char		 num[16];
	const char	*p, *rep;
	char		*out, *o;
	size_t		 len = 0, nlen = strlen(name), ilen, rlen, klen;

	ilen = (size_t)snprintf(num, sizeof num, "%u", instance);
	for (p = tmpl; *p != '\0'; p++) {
		if (strncmp(p, "{name}", 6) == 0) {
			len += nlen;
			p += 5;
		} else if (strncmp(p, "{instance}", 10) == 0) {
			len += ilen;
			p += 9;
		} else
			len++;
	}
	o = out = xmalloc(len + 1);
	for (p = tmpl; *p != '\0';) {
		rep = NULL;
		if (strncmp(p, "{name}", 6) == 0) {
			rep = name;
			rlen = nlen;
			klen = 6;
		} else if (strncmp(p, "{instance}", 10) == 0) {
			rep = num;
			rlen = ilen;
			klen = 10;
		}
		if (rep != NULL) {
			memcpy(o, rep, rlen);
			o += rlen;
			p += klen;
		} else
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

unsigned
util_edit_distance(const char *a, const char *b)
{
	unsigned	 row[65], prev, tmp, i, j, la, lb;

	la = (unsigned)strlen(a);
	lb = (unsigned)strlen(b);
	if (la > 64 || lb > 64)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			row[j] = prev + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			if (tmp + 1 < row[j])
				row[j] = tmp + 1;
			prev = tmp;
		}
	}
	return row[lb];
}

uint64_t
util_now_mono(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC +
	    (uint64_t)ts.tv_nsec / 1000;
}

uint64_t
util_now_wall(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC +
	    (uint64_t)ts.tv_nsec / 1000;
}

void
util_usec_tv(uint64_t usec, struct timeval *tv)
{
	tv->tv_sec = (time_t)(usec / USEC_PER_SEC);
	tv->tv_usec = (suseconds_t)(usec % USEC_PER_SEC);
}
