/*
 * compare.c: the C side of bench/compare, compiled by it at run time
 * (cc -O2) into its temporary directory. Three programs from one file:
 *
 *   -DSTAMP_PROG -DSTAMP_EXIT=0 -DSTAMP_FILE='"PATH"'   "up": append a
 *       stamp (see below) to PATH, then sleep until killed. The
 *       long-running program of every workload, for every system.
 *   -DSTAMP_PROG -DSTAMP_EXIT=1 -DSTAMP_FILE='"PATH"'   "once": append a
 *       stamp, then exit 0. The program that restarts at once.
 *   (no define)                                         "ref": the
 *       reference loops, one mode per run:
 *
 *   ref start N PROG STAMPFILE HOLD_MS  posix_spawn N copies of PROG (an
 *       "up"), wait until all N stamped, let them run HOLD_MS more, then
 *       SIGTERM and reap them one by one. Prints "START_NS STOP_NS": from
 *       before the first posix_spawn to the last stamp, and from before
 *       the first kill to the last reap. HOLD_MS is as long as the
 *       supervisor's programs ran before their stop: on some machines a
 *       reap costs more the longer the process lived (see bench/README.md,
 *       "The stop reference").
 *   ref roundtrip N PROG        fork, exec PROG (a "once"), waitpid; N
 *       times. The gaps between its stamps are the reference restart gap.
 *       Prints the mean round trip in ns.
 *   ref spawnrate N PROG        posix_spawn PROG (/bin/true) N times,
 *       reaping as they end. Prints the total ns.
 *
 * A stamp is one 32-byte line, "%10d %20llu\n": the pid and
 * CLOCK_MONOTONIC in ns (the clock of Python's time.monotonic), written
 * with one write(2) to an O_APPEND file, so lines never interleave and
 * the count of programs that have started is the file size / 32.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STAMP_LEN 32

static unsigned long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#ifdef STAMP_PROG

int
main(void)
{
	char line[STAMP_LEN + 1];
	int fd;

	snprintf(line, sizeof(line), "%10d %20llu\n", (int)getpid(),
	    now_ns());
	fd = open(STAMP_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644);
	if (fd >= 0) {
		if (write(fd, line, STAMP_LEN) != STAMP_LEN)
			_exit(111);
		close(fd);
	}
	if (STAMP_EXIT)
		return 0;
	for (;;)
		pause();
}

#else

extern char **environ;

static void
die(const char *what)
{
	fprintf(stderr, "ref: %s: %s\n", what, strerror(errno));
	exit(111);
}

static pid_t
spawn(const char *prog)
{
	char *argv[2] = { (char *)prog, NULL };
	pid_t pid;
	int e;

	e = posix_spawn(&pid, prog, NULL, NULL, argv, environ);
	if (e != 0) {
		errno = e;
		die("posix_spawn");
	}
	return pid;
}

/* Wait until PATH holds n stamps; return the latest stamp's time. */
static unsigned long long
wait_stamps(const char *path, int n)
{
	unsigned long long deadline = now_ns() + 60000000000ULL, t, last = 0;
	struct timespec ms = { 0, 1000000 };
	struct stat st;
	char line[STAMP_LEN + 1];
	FILE *f;
	int pid;

	for (;;) {
		if (stat(path, &st) == 0 && st.st_size >= (off_t)n * STAMP_LEN)
			break;
		if (now_ns() > deadline) {
			errno = ETIMEDOUT;
			die(path);
		}
		nanosleep(&ms, NULL);
	}
	if ((f = fopen(path, "r")) == NULL)
		die(path);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%d %llu", &pid, &t) == 2 && t > last)
			last = t;
	fclose(f);
	return last;
}

static int
mode_start(int n, const char *prog, const char *stamps, int hold_ms)
{
	unsigned long long t0, up, t1, t2;
	pid_t *pids;
	int i;

	if ((pids = calloc(n, sizeof(*pids))) == NULL)
		die("calloc");
	t0 = now_ns();
	for (i = 0; i < n; i++)
		pids[i] = spawn(prog);
	up = wait_stamps(stamps, n);
	if (hold_ms > 0)
		usleep((useconds_t)hold_ms * 1000);
	t1 = now_ns();
	for (i = 0; i < n; i++)
		if (kill(pids[i], SIGTERM) != 0)
			die("kill");
	for (i = 0; i < n; i++)
		if (waitpid(pids[i], NULL, 0) < 0)
			die("waitpid");
	t2 = now_ns();
	printf("%llu %llu\n", up - t0, t2 - t1);
	free(pids);
	return 0;
}

static int
mode_roundtrip(int n, const char *prog)
{
	unsigned long long t0;
	char *argv[2] = { (char *)prog, NULL };
	pid_t pid;
	int i, st;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		if ((pid = fork()) < 0)
			die("fork");
		if (pid == 0) {
			execv(prog, argv);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "ref: %s failed\n", prog);
			return 1;
		}
	}
	printf("%llu\n", (now_ns() - t0) / n);
	return 0;
}

static int
mode_spawnrate(int n, const char *prog)
{
	unsigned long long t0;
	int i, live = 0;

	t0 = now_ns();
	for (i = 0; i < n; i++) {
		spawn(prog);
		live++;
		while (live > 0 && waitpid(-1, NULL, WNOHANG) > 0)
			live--;
	}
	while (live > 0 && waitpid(-1, NULL, 0) > 0)
		live--;
	printf("%llu\n", now_ns() - t0);
	return 0;
}

int
main(int argc, char **argv)
{
	int n;

	if (argc < 4 || (n = atoi(argv[2])) <= 0)
		goto usage;
	if (strcmp(argv[1], "start") == 0 && argc == 6)
		return mode_start(n, argv[3], argv[4], atoi(argv[5]));
	if (strcmp(argv[1], "roundtrip") == 0 && argc == 4)
		return mode_roundtrip(n, argv[3]);
	if (strcmp(argv[1], "spawnrate") == 0 && argc == 4)
		return mode_spawnrate(n, argv[3]);
usage:
	fprintf(stderr, "usage: ref start N PROG STAMPFILE HOLD_MS | "
	    "ref roundtrip N PROG | ref spawnrate N PROG\n");
	return 100;
}

#endif
