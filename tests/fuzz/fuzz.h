/*
 * fuzz.h: what a fuzz target defines (libFuzzer's entry points) and the
 * checks the targets share. A target is built twice over: linked with
 * libFuzzer (-Dfuzz=true, tools/fuzz), and in every build with replay.c's
 * main, which runs it over its corpus under `meson test`.
 */
#ifndef TEND_FUZZ_H
#define TEND_FUZZ_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One input. Returns 0, or -1 for an input the target refuses (libFuzzer
   keeps it out of the corpus). */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
/* Optional: once, before the first input. */
int	LLVMFuzzerInitialize(int *, char ***);

/* A property that does not hold is a crash, as a sanitizer report is. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* An error message is NUL-terminated inside its buffer and not empty. */
#define FUZZ_CHECK_MSG(buf, len) do {					\
	FUZZ_CHECK(memchr((buf), '\0', (len)) != NULL);			\
	FUZZ_CHECK((buf)[0] != '\0');					\
} while (0)

/* A private directory for a target's files, made once (in
   LLVMFuzzerInitialize): $TMPDIR/tend-fuzz-NAME.XXXXXX. */
static inline char *
fuzz_mkdtemp(const char *name)
{
	const char	*tmp = getenv("TMPDIR");
	char		*dir;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	if (asprintf(&dir, "%s/tend-fuzz-%s.XXXXXX", tmp, name) == -1 ||
	    mkdtemp(dir) == NULL) {
		fprintf(stderr, "fuzz_%s: no directory in %s: %s\n", name, tmp,
		    strerror(errno));
		exit(1);
	}
	return dir;
}

/* A new regular file (never through a link, never over one). */
static inline void
fuzz_write_file(const char *path, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	FUZZ_CHECK(fd != -1);
	while (len > 0) {
		n = write(fd, p, len);
		FUZZ_CHECK(n > 0);
		p += n;
		len -= (size_t)n;
	}
	FUZZ_CHECK(close(fd) == 0);
}

#endif
