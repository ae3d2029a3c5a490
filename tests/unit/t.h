/* t.h: a minimal unit test harness. Each test file defines its cases with
 * T_CASE and lists them in T_MAIN; a failed check prints file:line and the
 * case fails, the others still run. Exit status is 0 only if all passed. */
#ifndef TEND_T_H
#define TEND_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failed_checks;

#define T_CASE(n)	static void n(void)
#define T_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
		t_failed_checks++;					\
	}								\
} while (0)
#define T_STREQ(a, b) do {						\
	const char *t_a_ = (a), *t_b_ = (b);				\
	if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_) != 0) {	\
		fprintf(stderr, "%s:%d: \"%s\" != \"%s\" (%s vs %s)\n",	\
		    __FILE__, __LINE__, t_a_ ? t_a_ : "(null)",		\
		    t_b_ ? t_b_ : "(null)", #a, #b);			\
		t_failed_checks++;					\
	}								\
} while (0)
#define T_INTEQ(a, b) do {						\
	long long t_a_ = (long long)(a), t_b_ = (long long)(b);		\
	if (t_a_ != t_b_) {						\
		fprintf(stderr, "%s:%d: %lld != %lld (%s vs %s)\n",	\
		    __FILE__, __LINE__, t_a_, t_b_, #a, #b);		\
		t_failed_checks++;					\
	}								\
} while (0)

/* Skip the whole program when what it needs is missing (not root, no
   cgroup2): 77 is meson's skip code. Failures so far still fail it. */
#define T_SKIP(reason) do {						\
	printf("skip: %s\n", (reason));					\
	exit(t_failed_checks != 0 ? 1 : 77);				\
} while (0)

struct t_entry {
	const char	*name;
	void		(*fn)(void);
};

static inline int
t_run(const struct t_entry *cases, size_t n, int argc, char **argv)
{
	size_t	 i;
	int	 failed = 0, before;

	for (i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		before = t_failed_checks;
		cases[i].fn();
		if (t_failed_checks != before) {
			printf("not ok - %s\n", cases[i].name);
			failed++;
		} else
			printf("ok - %s\n", cases[i].name);
	}
	printf("%zu cases, %d failed\n", n, failed);
	return failed == 0 ? 0 : 1;
}

#define T_ENTRY(n)	{ #n, n }
#define T_MAIN(...)							\
int									\
main(int argc, char **argv)						\
{									\
	static const struct t_entry t_cases[] = { __VA_ARGS__ };	\
	return t_run(t_cases, sizeof t_cases / sizeof t_cases[0],	\
	    argc, argv);						\
}

#endif
