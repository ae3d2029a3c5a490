/* test_cgroup.c: cgroup leaves and launching into them (root and a
 * writable cgroup2 needed, else skipped), and literal argv. */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "conf.h"
#include "launch.h"
#include "util.h"

#include "t.h"

#define DEADLINE	(10 * USEC_PER_SEC)

static struct conf_errors errs;

static struct conf *
load(const char *text)
{
	struct conf	*conf;
	size_t		 i;

	conf = conf_read_string(text, "tend.conf", "/tmp", &errs);
	for (i = 0; i < errs.n; i++) {
		char	*s = conf_error_format(&errs.v[i]);

		fprintf(stderr, "  %s\n", s);
		free(s);
	}
	return conf;
}

/* A root of our own for one case; skips the program without root or a
   usable cgroup2. */
static struct cgroup_root *
open_root(const char *tag, char *name, size_t len)
{
	struct cgroup_root	*r;
	char			 err[512];

	if (geteuid() != 0)
		T_SKIP("not root");
	snprintf(name, len, "tend-test-%ld-%s", (long)getpid(), tag);
	if ((r = cgroup_root_open(name, err, sizeof err)) == NULL)
		T_SKIP(err);
	return r;
}

/* Is path there under the directory fd? A removed cgroup's files go. */
static bool
fd_exists(int fd, const char *path)
{
	struct stat	 st;

	return fstatat(fd, path, &st, 0) == 0;
}

static size_t
npids(struct cgroup_root *r, const char *leaf)
{
	pid_t	*v;
	size_t	 n;

	if (cgroup_pids(r, leaf, &v, &n) == -1)
		return (size_t)-1;
	free(v);
	return n;
}

static void
nap(void)
{
	struct timespec	 ts = { 0, 5 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/* Poll until the leaf holds n processes (or until the deadline). */
static bool
wait_npids(struct cgroup_root *r, const char *leaf, size_t n)
{
	uint64_t	 end = util_now_mono() + DEADLINE;

	while (npids(r, leaf) != n) {
		if (util_now_mono() > end)
			return false;
		nap();
	}
	return true;
}

/* Reap every child (and orphan, as a subreaper) until none is left. */
static void
reap_all(void)
{
	uint64_t	 end = util_now_mono() + DEADLINE;
	pid_t		 pid;

	for (;;) {
		pid = waitpid(-1, NULL, WNOHANG);
		if (pid == -1 && errno == ECHILD)
			return;
		if (pid > 0)
			continue;
		if (util_now_mono() > end) {
			fprintf(stderr, "children left after the deadline\n");
			t_failed_checks++;
			return;
		}
		nap();
	}
}

/* A cgroup no process can join ("domain invalid": a domain child of a
   threaded one), to make placement fail. Returns its O_PATH fd. */
static int
open_invalid(struct cgroup_root *r, const char *leaf)
{
	int	 fd, tfd, xfd = -1;

	if ((fd = cgroup_open(r, leaf)) == -1)
		return -1;
	tfd = openat(fd, "cgroup.type", O_WRONLY | O_CLOEXEC);
	if (tfd != -1 && write(tfd, "threaded", 8) == 8 &&
	    (mkdirat(fd, "x", 0755) == 0 || errno == EEXIST))
		xfd = openat(fd, "x", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (tfd != -1)
		close(tfd);
	close(fd);
	return xfd;
}

static void
remove_invalid(struct cgroup_root *r, const char *leaf)
{
	int	 fd;

	if ((fd = cgroup_open(r, leaf)) == -1)
		return;
	T_CHECK(unlinkat(fd, "x", AT_REMOVEDIR) == 0);
	close(fd);
	T_INTEQ(cgroup_remove(r, leaf), 0);
}

static pid_t
launch(const struct conf_program *cp, int cgfd, char *err, size_t errlen,
    bool *permanent)
{
	struct launch_stdio	 io = { -1, -1, -1 };
	pid_t			 pid;

	io.in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid = launch_instance(cp, 0, &io, cgfd, NULL, err, errlen, permanent);
	if (io.in != -1)
		close(io.in);
	return pid;
}

/* What {name} became in the child: the file sh wrote. */
static char *
run_echo(const struct conf_program *cp, const char *out)
{
	char	 err[256], buf[64];
	bool	 permanent;
	pid_t	 pid;
	int	 st, fd;
	ssize_t	 n;

	unlink(out);
	if ((pid = launch(cp, -1, err, sizeof err, &permanent)) == -1) {
		fprintf(stderr, "launch: %s\n", err);
		return NULL;
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return NULL;
	if ((fd = open(out, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	unlink(out);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

T_CASE(literal_argv)
{
	struct conf	*conf;
	char		*text, out[64], *got;
	char		*argv[] = { "sh", "-c", "printf %s \"$0\" > \"$1\"",
			    "{name}", out, NULL };

	snprintf(out, sizeof out, "/tmp/tend-test-%ld.out", (long)getpid());

	/* Substituted in a loaded program... */
	xasprintf(&text, "programs = ( { name = \"t\"; command = [\"sh\", "
	    "\"-c\", \"printf %%s \\\"$0\\\" > \\\"$1\\\"\", \"{name}\", "
	    "\"%s\"]; } );", out);
	conf = load(text);
	free(text);
	T_CHECK(conf != NULL);
	if (conf != NULL) {
		T_CHECK(!conf->programs[0]->literal);
		got = run_echo(conf->programs[0], out);
		T_STREQ(got, "t");
		free(got);
	}
	conf_unref(conf);

	/* ...but taken as is with literal (tendd --run). */
	conf = conf_run(argv, 5, "t", &errs);
	T_CHECK(conf != NULL);
	if (conf != NULL) {
		T_CHECK(conf->programs[0]->literal);
		got = run_echo(conf->programs[0], out);
		T_STREQ(got, "{name}");
		free(got);
	}
	conf_unref(conf);
	conf_errors_clear(&errs);
}

T_CASE(names)
{
	struct cgroup_root	*r;
	char			 name[64], err[256];
	char			*p;
	pid_t			 dummy, *v = &dummy;
	size_t			 n = 1;
	int			 fd, subtree;

	r = open_root("names", name, sizeof name);
	p = xstrdup(cgroup_root_path(r));
	T_CHECK(p[0] == '/');
	T_CHECK(strlen(p) > strlen(name) &&
	    strcmp(p + strlen(p) - strlen(name), name) == 0 &&
	    p[strlen(p) - strlen(name) - 1] == '/');

	/* Nothing escapes the subtree. */
	errno = 0;
	T_CHECK(cgroup_open(r, "../x") == -1 && errno == EINVAL);
	T_CHECK(cgroup_open(r, "..") == -1 && errno == EINVAL);
	T_CHECK(cgroup_open(r, "") == -1 && errno == EINVAL);
	T_CHECK(cgroup_remove(r, "a/b") == -1 && errno == EINVAL);
	T_CHECK(cgroup_root_open("a/b", err, sizeof err) == NULL);

	/* A missing leaf: no processes, nothing to signal or remove. */
	T_INTEQ(cgroup_pids(r, "none@0", &v, &n), 0);
	T_CHECK(v == NULL && n == 0);
	T_INTEQ(cgroup_signal(r, "none@0", SIGKILL), 0);
	T_INTEQ(cgroup_signal(r, "none@0", SIGTERM), 0);
	T_INTEQ(cgroup_remove(r, "none@0"), 0);
	T_CHECK(!cgroup_contains(r, "none@0", getpid()));

	/* A leaf left (processes of a running instance) keeps the
	   subtree; the last one gone, it goes too. */
	fd = cgroup_open(r, "left@0");
	T_CHECK(fd != -1);
	subtree = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	T_CHECK(subtree != -1);
	cgroup_root_free(r);
	T_CHECK(fd_exists(subtree, "left@0/cgroup.procs"));

	/* Opened again (a restarted tendd), with the leaf still there. */
	r = cgroup_root_open(name, err, sizeof err);
	T_CHECK(r != NULL);
	if (r != NULL) {
		T_STREQ(cgroup_root_path(r), p);
		T_INTEQ(cgroup_remove(r, "left@0"), 0);
		cgroup_root_free(r);
	}
	T_CHECK(!fd_exists(subtree, "cgroup.procs"));
	close(subtree);
	close(fd);
	free(p);
}

T_CASE(launch_and_kill)
{
	struct cgroup_root	*r;
	struct conf		*conf;
	const struct conf_program *cp;
	char			 name[64], err[256];
	pid_t			*v, pid, sh;
	size_t			 n, i;
	uint64_t		 end;
	bool			 permanent, found;
	int			 fd, subtree, st;

	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	r = open_root("launch", name, sizeof name);
	conf = load("programs = ( { name = \"t\"; command = [\"sleep\", "
	    "\"60\"]; }, { name = \"g\"; command = \"setsid sleep 60 & "
	    "sleep 60; exit 0\"; } );");
	T_CHECK(conf != NULL);
	if (conf == NULL) {
		cgroup_root_free(r);
		return;
	}

	/* A plain child, in the leaf from its first instruction. */
	fd = cgroup_open(r, "t@0");
	T_CHECK(fd != -1);
	cp = conf_find(conf, "t");
	pid = launch(cp, fd, err, sizeof err, &permanent);
	T_CHECK(pid > 0);
	if (pid == -1)
		fprintf(stderr, "launch: %s\n", err);
	T_CHECK(cgroup_contains(r, "t@0", pid));
	T_CHECK(!cgroup_contains(r, "t@0", getpid()));
	T_CHECK(!cgroup_contains(r, "g@0", pid));
	T_INTEQ(cgroup_pids(r, "t@0", &v, &n), 0);
	T_INTEQ(n, 1);
	T_CHECK(n == 1 && v[0] == pid);
	free(v);

	/* Busy: cannot be removed. */
	errno = 0;
	T_CHECK(cgroup_remove(r, "t@0") == -1 && errno == EBUSY);

	/* A signal other than SIGKILL goes through kill(). */
	T_INTEQ(cgroup_signal(r, "t@0", SIGTERM), 1);
	T_CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGTERM);
	T_CHECK(wait_npids(r, "t@0", 0));
	T_INTEQ(cgroup_remove(r, "t@0"), 0);
	T_CHECK(!fd_exists(fd, "cgroup.procs"));
	close(fd);

	/* A grandchild that leaves the session is still in the leaf (sh,
	   and two sleeps: the exit keeps sh from exec'ing the last). */
	fd = cgroup_open(r, "g@0");
	T_CHECK(fd != -1);
	cp = conf_find(conf, "g");
	sh = launch(cp, fd, err, sizeof err, &permanent);
	T_CHECK(sh > 0);
	end = util_now_mono() + DEADLINE;
	do {
		/* Until setsid(1) has called setsid(). */
		nap();
		T_INTEQ(cgroup_pids(r, "g@0", &v, &n), 0);
		found = false;
		for (i = 0; i < n; i++) {
			if (v[i] != sh && getsid(v[i]) == v[i])
				found = true;
		}
		free(v);
	} while ((!found || n != 3) && util_now_mono() < end);
	T_CHECK(found);
	T_INTEQ(n, 3);
	T_INTEQ(cgroup_pids(r, "g@0", &v, &n), 0);
	for (i = 0; i < n; i++)
		T_CHECK(cgroup_contains(r, "g@0", v[i]));
	free(v);

	T_INTEQ(cgroup_signal(r, "g@0", SIGKILL), 3);
	T_CHECK(wait_npids(r, "g@0", 0));
	T_CHECK(waitpid(sh, &st, 0) == sh && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGKILL);
	reap_all();
	T_INTEQ(cgroup_remove(r, "g@0"), 0);
	T_INTEQ(cgroup_remove(r, "g@0"), 0);
	subtree = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	T_CHECK(subtree != -1);
	close(fd);

	/* A leaf removed under an open fd: a spawn failure, not a
	   permanent one. */
	fd = cgroup_open(r, "gone@0");
	T_CHECK(fd != -1);
	T_INTEQ(cgroup_remove(r, "gone@0"), 0);
	pid = launch(conf_find(conf, "t"), fd, err, sizeof err, &permanent);
	T_CHECK(pid == -1);
	T_CHECK(strncmp(err, "cgroup: ", 8) == 0);
	T_CHECK(!permanent);
	if (pid != -1 || strncmp(err, "cgroup: ", 8) != 0)
		fprintf(stderr, "  got pid %ld, \"%s\"\n", (long)pid, err);
	close(fd);

	/* Or one that refuses processes. */
	fd = open_invalid(r, "bad@0");
	T_CHECK(fd != -1);
	pid = launch(conf_find(conf, "t"), fd, err, sizeof err, &permanent);
	T_CHECK(pid == -1 && !permanent);
	T_STREQ(err, "cgroup: Operation not supported");
	close(fd);
	remove_invalid(r, "bad@0");
	reap_all();

	/* No leaf left: the subtree goes. */
	T_CHECK(fd_exists(subtree, "cgroup.procs"));
	cgroup_root_free(r);
	T_CHECK(!fd_exists(subtree, "cgroup.procs"));
	close(subtree);
	conf_unref(conf);
	(void)prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

/* A child that waits for a signal, moved into the leaf whose
   cgroup.procs is open as procs; its PID, or -1. */
static pid_t
pauser_into(int procs)
{
	pid_t	 pid;

	if ((pid = fork()) == 0) {
		pause();
		_exit(0);
	}
	if (pid > 0)
		T_CHECK(dprintf(procs, "%ld\n", (long)pid) > 0);
	return pid;
}

/* Kill the n children in leaf (with cgroup.kill), reap them, remove the
   leaf. */
static void
kill_leaf(struct cgroup_root *r, const char *leaf, const pid_t *kids,
    size_t n)
{
	size_t	 i;

	T_INTEQ(cgroup_signal(r, leaf, SIGKILL), (int)n);
	for (i = 0; i < n; i++)
		(void)waitpid(kids[i], NULL, 0);
	T_CHECK(wait_npids(r, leaf, 0));
	T_INTEQ(cgroup_remove(r, leaf), 0);
}

/* Counts of 1 to 24 processes, across the first read's 64 bytes (PIDs
   of 4 to 7 digits: 8 to 16 fit in it), each counted again from the
   same kept fd. */
T_CASE(counts_around_first_read)
{
	struct cgroup_root	*r;
	char			 name[64];
	pid_t			 kids[24];
	size_t			 nk;
	int			 fd, procs, pfd;

	r = open_root("few", name, sizeof name);
	fd = cgroup_open(r, "f@0");
	T_CHECK(fd != -1);
	pfd = cgroup_procs_open(r, "f@0");
	T_CHECK(pfd != -1);
	procs = openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	T_CHECK(procs != -1);
	for (nk = 0; nk < sizeof kids / sizeof kids[0]; nk++) {
		if ((kids[nk] = pauser_into(procs)) == -1)
			break;
		T_INTEQ(cgroup_procs_count(pfd, 0), (int)nk + 1);
		T_INTEQ(cgroup_procs_count(pfd, kids[0]), (int)nk);
	}
	close(procs);
	close(pfd);
	kill_leaf(r, "f@0", kids, nk);
	close(fd);
	cgroup_root_free(r);
}

/* A cgroup.procs longer than one read (a page): every PID is listed and
   counted, not only the first page's. */
T_CASE(many_pids)
{
	struct cgroup_root	*r;
	char			 name[64];
	pid_t			 kids[1500], *v;
	size_t			 n, i, nk = 0, found = 0;
	int			 fd, procs, pfd;

	r = open_root("many", name, sizeof name);
	fd = cgroup_open(r, "m@0");
	T_CHECK(fd != -1);
	procs = openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	T_CHECK(procs != -1);
	for (i = 0; i < sizeof kids / sizeof kids[0]; i++) {
		if ((kids[nk] = pauser_into(procs)) == -1)
			break;
		nk++;
	}
	close(procs);
	T_INTEQ(nk, sizeof kids / sizeof kids[0]);
	/* At least 4 digits each, a newline: more than a page. */
	T_INTEQ(cgroup_pids(r, "m@0", &v, &n), 0);
	T_INTEQ(n, nk);
	for (i = 0; i < n; i++) {
		if (v[i] == kids[0] || v[i] == kids[nk - 1])
			found++;
	}
	T_INTEQ(found, 2);
	free(v);
	pfd = cgroup_procs_open(r, "m@0");
	T_CHECK(pfd != -1);
	T_INTEQ(cgroup_procs_count(pfd, kids[0]), (int)nk - 1);
	/* Read again from the start: the same count, not what is left. */
	T_INTEQ(cgroup_procs_count(pfd, 0), (int)nk);
	close(pfd);

	kill_leaf(r, "m@0", kids, nk);
	close(fd);
	cgroup_root_free(r);
}

/* The user switch still happens on the clone3 path. */
T_CASE(launch_as_user)
{
	struct cgroup_root	*r;
	struct conf		*conf;
	struct passwd		*pw;
	struct stat		 st;
	char			 name[64], err[256], proc[64];
	bool			 permanent;
	pid_t			 pid;
	int			 fd, status;

	r = open_root("user", name, sizeof name);
	if ((pw = getpwnam("nobody")) == NULL) {
		printf("# skipped: no user nobody\n");
		cgroup_root_free(r);
		return;
	}
	conf = load("programs = ( { name = \"t\"; user = \"nobody\"; "
	    "command = [\"sleep\", \"60\"]; } );");
	T_CHECK(conf != NULL);
	if (conf == NULL) {
		cgroup_root_free(r);
		return;
	}
	fd = cgroup_open(r, "t@0");
	T_CHECK(fd != -1);
	pid = launch(conf->programs[0], fd, err, sizeof err, &permanent);
	T_CHECK(pid > 0);
	if (pid == -1) {
		fprintf(stderr, "launch: %s\n", err);
		goto out;
	}
	T_CHECK(cgroup_contains(r, "t@0", pid));
	/* launch_instance returns after the exec. */
	snprintf(proc, sizeof proc, "/proc/%ld", (long)pid);
	T_CHECK(stat(proc, &st) == 0 && st.st_uid == pw->pw_uid);
	T_INTEQ(cgroup_signal(r, "t@0", SIGKILL), 1);
	T_CHECK(waitpid(pid, &status, 0) == pid);
	T_CHECK(wait_npids(r, "t@0", 0));
out:
	T_INTEQ(cgroup_remove(r, "t@0"), 0);
	close(fd);
	conf_unref(conf);
	cgroup_root_free(r);
}

/* Hide clone3 the way container runtimes do (ENOSYS from seccomp). */
static int
hide_clone3(void)
{
	struct sock_filter	 f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog	 prog = { sizeof f / sizeof f[0], f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* Without clone3 the child writes itself into cgroup.procs first. */
T_CASE(launch_without_clone3)
{
	struct cgroup_root	*r;
	struct conf		*conf;
	char			 name[64], err[256];
	bool			 permanent;
	pid_t			 tester, pid;
	int			 fd, bad, st, before = t_failed_checks;

	r = open_root("noclone3", name, sizeof name);
	conf = load("programs = ( { name = \"t\"; command = [\"sleep\", "
	    "\"60\"]; } );");
	T_CHECK(conf != NULL);
	if (conf == NULL) {
		cgroup_root_free(r);
		return;
	}
	fd = cgroup_open(r, "t@0");
	T_CHECK(fd != -1);

	/* The filter stays with the process: do it in a child. */
	if ((tester = fork()) == 0) {
		if (hide_clone3() == -1) {
			perror("seccomp");
			_exit(2);
		}
		errno = 0;
		T_CHECK(syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);
		pid = launch(conf_find(conf, "t"), fd, err, sizeof err,
		    &permanent);
		T_CHECK(pid > 0);
		if (pid == -1)
			fprintf(stderr, "launch: %s\n", err);
		T_CHECK(cgroup_contains(r, "t@0", pid));
		T_INTEQ(cgroup_signal(r, "t@0", SIGKILL), 1);
		T_CHECK(waitpid(pid, &st, 0) == pid && WIFSIGNALED(st));

		/* A removed leaf fails in the parent, before the fork. */
		T_CHECK(wait_npids(r, "t@0", 0));
		T_INTEQ(cgroup_remove(r, "t@0"), 0);
		pid = launch(conf_find(conf, "t"), fd, err, sizeof err,
		    &permanent);
		T_CHECK(pid == -1 && !permanent);
		T_CHECK(strncmp(err, "cgroup: ", 8) == 0);

		/* The child's own write fails: told through the pipe. */
		bad = open_invalid(r, "bad@0");
		T_CHECK(bad != -1);
		pid = launch(conf_find(conf, "t"), bad, err, sizeof err,
		    &permanent);
		T_CHECK(pid == -1 && !permanent);
		T_STREQ(err, "cgroup: Operation not supported");
		close(bad);
		remove_invalid(r, "bad@0");
		/* That child exited 127 and launch reaped it: no one may
		   take it for an orphan. */
		errno = 0;
		T_CHECK(wait(&st) == -1 && errno == ECHILD);
		_exit(t_failed_checks != before);
	}
	T_CHECK(tester > 0);
	T_CHECK(waitpid(tester, &st, 0) == tester && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0);
	close(fd);
	(void)cgroup_remove(r, "t@0");
	conf_unref(conf);
	cgroup_root_free(r);
}

T_MAIN(
	T_ENTRY(literal_argv),
	T_ENTRY(names),
	T_ENTRY(launch_and_kill),
	T_ENTRY(counts_around_first_read),
	T_ENTRY(many_pids),
	T_ENTRY(launch_as_user),
	T_ENTRY(launch_without_clone3),
)
