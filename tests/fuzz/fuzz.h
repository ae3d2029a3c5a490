/*
 * fuzz.h: what a fuzz target defines (libFuzzer's entry points) and the
 * checks the targets share. A target is built twice over: linked with
 * libFuzzer (-Dfuzz=true, tools/fuzz), and in every build with replay.c's
 * main, which runs it over its corpus under `meson test`.
 */
#ifndef TEND_FUZZ_H
#define TEND_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
