/* test_procfs.c: /proc parsing on fixed lines, then on real children. */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "procfs.h"
#include "t.h"

/* Fields 4 to 24 of a real stat line; starttime (22) is 806392. */
#define TAIL	"R 8544 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 1 " \
		"0 806392 3133440 388\n"

/*
 * Fork and exec; return once exec has happened (a CLOEXEC pipe reaches
 * EOF), so /proc shows the new program, not a copy of this one.
 */
static pid_t
spawn(char *const argv[], char *const envp[], int in)
{
	int	 p[2], e = 0;
	ssize_t	 n;
	pid_t	 pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		if (in != -1 && dup2(in, 0) == -1)
			_exit(127);
		if (envp != NULL)
			execvpe(argv[0], argv, envp);
		else
			execvp(argv[0], argv);
		e = errno;
		(void)!write(p[1], &e, sizeof e);
		_exit(127);
	}
	close(p[1]);
	do
		n = read(p[0], &e, sizeof e);
	while (n == -1 && errno == EINTR);
	close(p[0]);
	if (n != 0) {
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

static int
reap(pid_t pid)
{
	int	 status;

	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

/* Block until pid has exited, but leave it a zombie. */
static void
wait_zombie(pid_t pid)
{
	siginfo_t	 si;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1 &&
	    errno == EINTR)
		;
}

/* A PID that no process has (just reaped; reuse this soon is unlikely). */
static pid_t
dead_pid(void)
{
	pid_t	 pid;

	if ((pid = fork()) == 0)
		_exit(0);
	reap(pid);
	return pid;
}

static int
has_pid(const pid_t *v, size_t n, pid_t pid)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (v[i] == pid)
			return 1;
	}
	return 0;
}

static int
parse(const char *s, struct procfs_stat *st)
{
	return procfs_parse_stat(s, strlen(s), st);
}

T_CASE(parse_real)
{
	struct procfs_stat	 st;
	const char		*cat = "8547 (cat) R 8544 8544 5846 0 -1 "
	    "4194304 100 0 1 0 0 0 0 0 20 0 1 0 806392 3133440 388 "
	    "18446744073709551615 94876743655424 94876743675305 "
	    "140723183276544 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94876743691312 "
	    "94876743692928 94877533741056 140723183282818 140723183282838 "
	    "140723183282838 140723183284203 0\n";
	const char		*kthreadd = "2 (kthreadd) S 0 0 0 0 -1 "
	    "2129984 0 0 0 0 0 0 0 0 20 0 1 0 25 0 0 18446744073709551615 "
	    "0 0 0 0 0 0 "
	    "0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

	T_INTEQ(parse(cat, &st), 0);
	T_INTEQ(st.pid, 8547);
	T_STREQ(st.comm, "cat");
	T_INTEQ(st.state, 'R');
	T_INTEQ(st.ppid, 8544);
	T_INTEQ(st.pgrp, 8544);
	T_INTEQ(st.session, 5846);
	T_INTEQ(st.starttime, 806392);

	T_INTEQ(parse(kthreadd, &st), 0);
	T_INTEQ(st.pid, 2);
	T_STREQ(st.comm, "kthreadd");
	T_INTEQ(st.state, 'S');
	T_INTEQ(st.ppid, 0);
	T_INTEQ(st.pgrp, 0);
	T_INTEQ(st.session, 0);
	T_INTEQ(st.starttime, 25);

	/* Nothing after starttime, no newline. */
	T_INTEQ(parse("7 (x) Z 1 2 3 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
	    "18446744073709551615", &st), 0);
	T_INTEQ(st.state, 'Z');
	T_CHECK(st.starttime == UINT64_MAX);
}

T_CASE(parse_comm)
{
	struct procfs_stat	 st;
	char			 buf[512], big[200];

	T_INTEQ(parse("42 (a b) c) " TAIL, &st), 0);
	T_STREQ(st.comm, "a b) c");
	T_INTEQ(st.ppid, 8544);
	T_INTEQ(st.starttime, 806392);

	T_INTEQ(parse("43 ((x)) " TAIL, &st), 0);
	T_STREQ(st.comm, "(x)");
	T_INTEQ(st.starttime, 806392);

	/* A comm that looks like the fields that follow it. */
	T_INTEQ(parse("44 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 "
	    "19 20) " TAIL, &st), 0);
	T_STREQ(st.comm, "x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 "
	    "19 20");
	T_INTEQ(st.state, 'R');
	T_INTEQ(st.starttime, 806392);

	T_INTEQ(parse("45 () " TAIL, &st), 0);
	T_STREQ(st.comm, "");

	/* Too long for comm[]: cut, not rejected. */
	memset(big, 'c', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(buf, sizeof buf, "46 (%s) " TAIL, big);
	T_INTEQ(parse(buf, &st), 0);
	T_INTEQ(strlen(st.comm), sizeof st.comm - 1);
	T_INTEQ(st.starttime, 806392);

	/* Only len bytes count: what follows is not part of the line. */
	snprintf(buf, sizeof buf, "47 (y) " TAIL);
	T_INTEQ(procfs_parse_stat(buf, strlen(buf) - strlen(" 3133440 388\n"),
	    &st), 0);
	T_INTEQ(st.starttime, 806392);
	T_INTEQ(procfs_parse_stat(buf, strlen(buf) - strlen(
	    "806392 3133440 388\n"), &st), -1);
}

T_CASE(parse_malformed)
{
	struct procfs_stat	 st;
	const char		*bad[] = {
		"",
		"42",
		"42 ",
		"42 (x",
		"42 (x)",
		"42 (x) ",
		"42 (x) S",
		"42 (x) S ",
		"(x) " TAIL,
		"x (y) " TAIL,
		"0 (y) " TAIL,
		"-1 (y) " TAIL,
		"42x (y) " TAIL,
		"42 y) " TAIL,
		"42 (y)R 8544 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0 806392\n",
		"42 (y)  8544 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0 806392\n",
		"42 (y) RR 8544 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0 806392\n",
		/* Cut before starttime. */
		"42 (y) R 8544 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0",
		"42 (y) R 8544 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0 ",
		/* Not numbers. */
		"42 (y) R abc 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0 806392\n",
		"42 (y) R 8544 8544 5846 0 -1 4194304 100 0 1 0 0 x 0 0 20 0 "
		    "1 0 806392\n",
		"42 (y) R 8544 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0 8063x2\n",
		"42 (y) R 8544 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0 -806392\n",
		"42 (y) R 8544 8544 5846 0 - 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0 806392\n",
		"42 (y) R 8544  8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0 806392\n",
		/* Out of range. */
		"42 (y) R 2147483648 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 "
		    "20 0 1 0 806392\n",
		"42 (y) R -5 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 "
		    "20 0 1 0 806392\n",
		"42 (y) R 1 8544 5846 0 -1 4194304 100 0 1 0 0 0 0 0 20 0 "
		    "1 0 18446744073709551616\n",
		"99999999999 (y) " TAIL,
	};
	size_t			 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i], &st) != -1) {
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
			T_CHECK(0);
		}
	}
}

T_CASE(read_stat_self)
{
	struct procfs_stat	 st;

	T_INTEQ(procfs_read_stat(getpid(), &st), 0);
	T_INTEQ(st.pid, getpid());
	T_INTEQ(st.ppid, getppid());
	T_INTEQ(st.pgrp, getpgrp());
	T_INTEQ(st.session, getsid(0));
	T_INTEQ(st.state, 'R');
	T_STREQ(st.comm, "test_procfs");
	T_CHECK(st.starttime > 0);

	errno = 0;
	T_INTEQ(procfs_read_stat(dead_pid(), &st), -1);
	T_CHECK(errno == ENOENT || errno == ESRCH);
}

/* The child forks a grandchild, which waits for the release pipe. */
T_CASE(children)
{
	pid_t	*v = NULL, a, b = 0;
	size_t	 n = 0, cap = 0;
	int	 release[2], report[2], status;

	T_INTEQ(pipe(release), 0);
	T_INTEQ(pipe(report), 0);
	if ((a = fork()) == 0) {
		char	 c;

		close(release[1]);
		close(report[0]);
		if ((b = fork()) == 0) {
			close(report[1]);
			while (read(release[0], &c, 1) == -1 && errno == EINTR)
				;
			_exit(0);
		}
		if (b == -1 || write(report[1], &b, sizeof b) != sizeof b)
			_exit(1);
		close(report[1]);
		while (waitpid(b, &status, 0) == -1)
			if (errno != EINTR)
				_exit(1);
		_exit(WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1);
	}
	T_CHECK(a > 0);
	close(release[0]);
	close(report[1]);
	T_INTEQ(read(report[0], &b, sizeof b), sizeof b);
	close(report[0]);
	T_CHECK(b > 0);

	T_INTEQ(procfs_children(getpid(), &v, &n, &cap), 0);
	T_INTEQ(n, 1);
	T_CHECK(has_pid(v, n, a));
	T_CHECK(cap >= n);
	/* Appends to what is there. */
	T_INTEQ(procfs_children(a, &v, &n, &cap), 0);
	T_INTEQ(n, 2);
	T_CHECK(has_pid(v, n, b));
	n = 0;
	T_INTEQ(procfs_children(b, &v, &n, &cap), 0);
	T_INTEQ(n, 0);

	close(release[1]);
	status = reap(a);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	errno = 0;
	T_INTEQ(procfs_children(a, &v, &n, &cap), -1);
	T_CHECK(errno == ENOENT || errno == ESRCH);
	T_INTEQ(procfs_children(b, &v, &n, &cap), -1);
	free(v);
}

struct thread_arg {
	int	 release;	/* read end: EOF lets everyone go */
	int	 release_w;
	int	 report;	/* write end: the child's pid */
};

static void *
thread_fork(void *p)
{
	struct thread_arg	*ta = p;
	pid_t			 pid;
	char			 c;

	if ((pid = fork()) == 0) {
		close(ta->release_w);
		close(ta->report);
		while (read(ta->release, &c, 1) == -1 && errno == EINTR)
			;
		_exit(0);
	}
	(void)!write(ta->report, &pid, sizeof pid);
	if (pid > 0) {
		while (read(ta->release, &c, 1) == -1 && errno == EINTR)
			;
	}
	return NULL;
}

/* A child forked by a thread is in that thread's children file only. */
T_CASE(children_of_thread)
{
	struct thread_arg	 ta;
	pthread_t		 t;
	pid_t			*v = NULL, pid = 0;
	size_t			 n = 0, cap = 0;
	int			 release[2], report[2], status;

	T_INTEQ(pipe(release), 0);
	T_INTEQ(pipe(report), 0);
	ta.release = release[0];
	ta.release_w = release[1];
	ta.report = report[1];
	T_INTEQ(pthread_create(&t, NULL, thread_fork, &ta), 0);
	T_INTEQ(read(report[0], &pid, sizeof pid), sizeof pid);
	T_CHECK(pid > 0);

	T_INTEQ(procfs_children(getpid(), &v, &n, &cap), 0);
	T_INTEQ(n, 1);
	T_CHECK(has_pid(v, n, pid));

	close(release[1]);
	T_INTEQ(pthread_join(t, NULL), 0);
	status = reap(pid);
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(release[0]);
	close(report[0]);
	close(report[1]);
	free(v);
}

T_CASE(cmdline)
{
	char	*argv[] = { "sleep", "5", NULL }, *s;
	pid_t	 pid;

	T_CHECK((pid = spawn(argv, NULL, -1)) > 0);
	s = procfs_cmdline(pid, "sleep", 256);
	T_STREQ(s, "sleep 5");
	free(s);
	s = procfs_cmdline(pid, "sleep", 7);
	T_STREQ(s, "sleep 5");
	free(s);
	s = procfs_cmdline(pid, "sleep", 6);
	T_STREQ(s, "sleep ");
	free(s);
	s = procfs_cmdline(pid, "sleep", 3);
	T_STREQ(s, "sle");
	free(s);
	s = procfs_cmdline(pid, "sleep", 0);
	T_STREQ(s, "");
	free(s);

	/* A zombie has no command line left. */
	T_INTEQ(kill(pid, SIGKILL), 0);
	wait_zombie(pid);
	s = procfs_cmdline(pid, "sleep", 256);
	T_STREQ(s, "[sleep]");
	free(s);
	s = procfs_cmdline(pid, NULL, 256);
	T_STREQ(s, "[sleep]");
	free(s);
	s = procfs_cmdline(pid, "sleep", 3);
	T_STREQ(s, "[sl");
	free(s);

	reap(pid);
	errno = 0;
	T_CHECK(procfs_cmdline(pid, "sleep", 256) == NULL);
	T_CHECK(errno == ENOENT || errno == ESRCH);
}

T_CASE(cmdline_args)
{
	char	*argv[] = { "sh", "-c", "read x", "a b", NULL }, *s;
	pid_t	 pid;
	int	 p[2];

	/* sh reads from a pipe we hold until we close it. */
	T_INTEQ(pipe2(p, O_CLOEXEC), 0);
	T_CHECK((pid = spawn(argv, NULL, p[0])) > 0);
	close(p[0]);
	s = procfs_cmdline(pid, "sh", 256);
	T_STREQ(s, "sh -c read x a b");
	free(s);
	close(p[1]);
	reap(pid);
}

T_CASE(environ_get)
{
	char	*argv[] = { "sleep", "5", NULL }, *envp[6], *big, *s;
	pid_t	 pid;
	size_t	 biglen = 100000;

	big = malloc(biglen + 5);
	memcpy(big, "BIG=", 4);
	memset(big + 4, 'b', biglen);
	big[4 + biglen] = '\0';
	envp[0] = "FOO=bar baz";
	envp[1] = "EMPTY=";
	envp[2] = "X=1=2";
	envp[3] = big;
	envp[4] = "PATH=/usr/local/bin:/usr/bin:/bin";
	envp[5] = NULL;

	T_CHECK((pid = spawn(argv, envp, -1)) > 0);
	s = procfs_environ_get(pid, "FOO");
	T_STREQ(s, "bar baz");
	free(s);
	s = procfs_environ_get(pid, "EMPTY");
	T_STREQ(s, "");
	free(s);
	s = procfs_environ_get(pid, "X");
	T_STREQ(s, "1=2");
	free(s);
	s = procfs_environ_get(pid, "BIG");
	T_CHECK(s != NULL && strlen(s) == biglen);
	free(s);
	s = procfs_environ_get(pid, "PATH");
	T_STREQ(s, "/usr/local/bin:/usr/bin:/bin");
	free(s);
	T_CHECK(procfs_environ_get(pid, "FO") == NULL);
	T_CHECK(procfs_environ_get(pid, "FOO=bar") == NULL);
	T_CHECK(procfs_environ_get(pid, "NOPE") == NULL);
	T_CHECK(procfs_environ_get(pid, "") == NULL);

	T_INTEQ(kill(pid, SIGKILL), 0);
	reap(pid);
	T_CHECK(procfs_environ_get(pid, "FOO") == NULL);
	free(big);
}

T_CASE(pidfd)
{
	struct procfs_stat	 st;
	char			*argv[] = { "sleep", "5", NULL };
	pid_t			 pid;
	int			 fd, status;

	T_CHECK((pid = spawn(argv, NULL, -1)) > 0);
	T_INTEQ(procfs_read_stat(pid, &st), 0);

	errno = 0;
	T_INTEQ(procfs_pidfd_open(pid, st.starttime + 1), -1);
	T_INTEQ(errno, ESRCH);
	errno = 0;
	T_INTEQ(procfs_pidfd_open(pid, 0), -1);
	T_INTEQ(errno, ESRCH);

	fd = procfs_pidfd_open(pid, st.starttime);
	T_CHECK(fd >= 0);
	T_CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	T_INTEQ(procfs_pidfd_signal(fd, 0), 0);
	T_INTEQ(procfs_pidfd_signal(fd, SIGKILL), 0);
	status = reap(pid);
	T_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The fd outlives the process; signals to it fail, not misfire. */
	errno = 0;
	T_INTEQ(procfs_pidfd_signal(fd, SIGKILL), -1);
	T_INTEQ(errno, ESRCH);
	close(fd);

	errno = 0;
	T_INTEQ(procfs_pidfd_open(pid, st.starttime), -1);
	T_INTEQ(errno, ESRCH);
	errno = 0;
	T_INTEQ(procfs_pidfd_open(0, 0), -1);
	T_INTEQ(errno, ESRCH);
}

T_CASE(boot_id)
{
	char	 id[40], small[20];
	FILE	*f;
	char	 want[64] = "";

	T_INTEQ(procfs_boot_id(id, sizeof id), 0);
	T_INTEQ(strlen(id), 36);
	T_CHECK(strchr(id, '\n') == NULL);
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "r")) != NULL) {
		T_CHECK(fgets(want, sizeof want, f) != NULL);
		fclose(f);
	}
	T_CHECK(strncmp(want, id, 36) == 0 && want[36] == '\n');
	errno = 0;
	T_INTEQ(procfs_boot_id(small, sizeof small), -1);
	T_INTEQ(errno, ERANGE);
}

T_CASE(state_name)
{
	T_STREQ(procfs_state_name('R'), "running");
	T_STREQ(procfs_state_name('S'), "sleeping");
	T_STREQ(procfs_state_name('D'), "disk-sleep");
	T_STREQ(procfs_state_name('Z'), "zombie");
	T_STREQ(procfs_state_name('T'), "stopped");
	T_STREQ(procfs_state_name('t'), "tracing-stop");
	T_STREQ(procfs_state_name('X'), "dead");
	T_STREQ(procfs_state_name('I'), "idle");
	T_STREQ(procfs_state_name('P'), "parked");
	T_STREQ(procfs_state_name('W'), "paging/waking");
	T_STREQ(procfs_state_name('?'), "unknown");
	T_STREQ(procfs_state_name('\0'), "unknown");
}

/* The start time told by the clock is the one /proc shows. */
T_CASE(starttime_between)
{
	struct procfs_stat	 st;
	uint64_t		 t0, t1, v;
	pid_t			 pid;
	int			 i, known = 0;

	T_INTEQ(procfs_starttime_between(0, 5), 0);
	T_INTEQ(procfs_starttime_between(200000000, 100000000), 0);
	for (i = 0; i < 50; i++) {
		t0 = procfs_boot_now();
		if ((pid = fork()) == 0) {
			pause();
			_exit(0);
		}
		t1 = procfs_boot_now();
		T_CHECK(pid > 0);
		if (pid <= 0)
			return;
		v = procfs_starttime_between(t0, t1);
		T_INTEQ(procfs_read_stat(pid, &st), 0);
		if (v != 0) {
			T_INTEQ(v, st.starttime);
			known++;
		}
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	/* A fork takes far less than a tick (10 ms at 100 Hz). */
	T_CHECK(known > 25);
}

T_MAIN(T_ENTRY(starttime_between), T_ENTRY(parse_real), T_ENTRY(parse_comm), T_ENTRY(parse_malformed),
    T_ENTRY(read_stat_self), T_ENTRY(children), T_ENTRY(children_of_thread),
    T_ENTRY(cmdline), T_ENTRY(cmdline_args), T_ENTRY(environ_get),
    T_ENTRY(pidfd), T_ENTRY(boot_id), T_ENTRY(state_name))
