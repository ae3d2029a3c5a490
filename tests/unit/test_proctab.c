/* test_proctab.c: the PID table under growth, collisions and deletion. */
#include "proctab.h"
#include "t.h"

T_CASE(add_find_remove)
{
	struct proctab	*t = proctab_new();
	int		 owner = 0;

	T_INTEQ(proctab_add(t, 42, &owner), 0);
	T_INTEQ(proctab_add(t, 42, &owner), -1);
	T_CHECK(proctab_find(t, 42) == &owner);
	T_CHECK(proctab_find(t, 43) == NULL);
	T_CHECK(proctab_remove(t, 42) == &owner);
	T_CHECK(proctab_remove(t, 42) == NULL);
	T_INTEQ(proctab_count(t), 0);
	proctab_free(t);
}

T_CASE(many_with_deletions)
{
	struct proctab	*t = proctab_new();
	static int	 owners[20000];
	pid_t		 pid;

	/* Multiples of a power of two stress the probe runs. */
	for (pid = 1; pid <= 20000; pid++)
		T_INTEQ(proctab_add(t, pid * 1024, &owners[pid - 1]), 0);
	T_INTEQ(proctab_count(t), 20000);
	for (pid = 1; pid <= 20000; pid += 2)
		T_CHECK(proctab_remove(t, pid * 1024) == &owners[pid - 1]);
	for (pid = 1; pid <= 20000; pid++) {
		if (pid % 2)
			T_CHECK(proctab_find(t, pid * 1024) == NULL);
		else
			T_CHECK(proctab_find(t, pid * 1024) ==
			    &owners[pid - 1]);
	}
	T_INTEQ(proctab_count(t), 10000);
	proctab_free(t);
}

T_MAIN(T_ENTRY(add_find_remove), T_ENTRY(many_with_deletions))
