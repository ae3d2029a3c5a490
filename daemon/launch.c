/* launch.c: build argv and environment, then clone and exec. */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#if HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include "env.h"
#include "launch.h"
#include "log.h"
#include "util.h"

#define SPAWN_DEFAULT_PATH \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SPAWN_ENVFILE_MAX (1024 * 1024)

extern char **environ;

static const char *const launch_private[] = {
	"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
	"LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM",
};

/* The open-file limit tendd was started with, for its children. */
static struct rlimit	 launch_nofile;
static bool		 launch_nofile_raised;

static int	 launch_reserve(void);

void
launch_init(void)
{
	struct rlimit	 rl;

	/* Now, while tendd's lowest descriptors are free: the fewer below
	   the reserved ones, the less each child copies. */
	(void)launch_reserve();

	if (getrlimit(RLIMIT_NOFILE, &launch_nofile) == -1)
		return;
	rl = launch_nofile;
	if (rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		launch_nofile_raised = true;
}

/* Where a forked child failed, reported back with the errno. */
enum spawn_stage {
	STAGE_EXEC,
	STAGE_SETSID,
	STAGE_CHDIR,
	STAGE_GROUPS,
	STAGE_GID,
	STAGE_UID,
	STAGE_STDIO,
	STAGE_CGROUP,
};

static const char *const spawn_stage_names[] = {
	[STAGE_EXEC] = "exec",
	[STAGE_SETSID] = "setsid",
	[STAGE_CHDIR] = "chdir",
	[STAGE_GROUPS] = "setgroups",
	[STAGE_GID] = "setgid",
	[STAGE_UID] = "setuid",
	[STAGE_STDIO] = "stdio",
	[STAGE_CGROUP] = "cgroup",
};

/* What the forked child needs; built before the fork, only read after. */
struct spawn_req {
	const struct conf_program	*cp;
	const char			*path;
	char				**argv;
	char				**envp;
	const struct launch_stdio	*io;
	bool				 creds;	/* switch user and groups */
	int				 cgroup_fd; /* -1: stay in tendd's */
	struct launch_record		*rec;	/* the child fills it in */
};

char *
launch_find_path(const char *cmd, const char *path)
{
	const char	*p, *colon;
	char		*full;
	size_t		 dlen;
	int		 saw_eacces = 0;

	if (strchr(cmd, '/') != NULL)
		return xstrdup(cmd);
	if (path == NULL)
		path = SPAWN_DEFAULT_PATH;
	for (p = path;; p = colon + 1) {
		colon = strchr(p, ':');
		dlen = colon != NULL ? (size_t)(colon - p) : strlen(p);
		if (dlen == 0)
			xasprintf(&full, "%s", cmd);
		else
			xasprintf(&full, "%.*s/%s", (int)dlen, p, cmd);
		if (access(full, X_OK) == 0)
			return full;
		if (errno == EACCES)
			saw_eacces = 1;
		free(full);
		if (colon == NULL)
			break;
	}
	errno = saw_eacces ? EACCES : ENOENT;
	return NULL;
}

static int
spawn_read_envfile(struct env *env, const char *spec, char *err,
    size_t errlen)
{
	const char	*path = spec;
	char		*buf;
	ssize_t		 n;
	size_t		 len = 0;
	unsigned	 badline;
	int		 fd, optional = 0, rc;

	if (*path == '-') {
		optional = 1;
		path++;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (optional && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "environment_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	buf = xmalloc(SPAWN_ENVFILE_MAX);
	while (len < SPAWN_ENVFILE_MAX) {
		n = read(fd, buf + len, SPAWN_ENVFILE_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	rc = n == -1 ? -1 : 0;
	if (rc == -1)
		snprintf(err, errlen, "environment_file %s: %s", path,
		    strerror(errno));
	else if (len == SPAWN_ENVFILE_MAX) {
		snprintf(err, errlen, "environment_file %s: larger than %d "
		    "bytes", path, SPAWN_ENVFILE_MAX);
		rc = -1;
	} else if (env_parse_file(env, buf, len, &badline) == -1) {
		snprintf(err, errlen, "environment_file %s:%u: not KEY=value",
		    path, badline);
		rc = -1;
	}
	free(buf);
	close(fd);
	return rc;
}

static int
spawn_build_env(const struct conf_program *cp, unsigned index,
    struct env *env, char *err, size_t errlen)
{
	char	 num[16], *v;
	size_t	 i;

	env_init(env);
	if (!cp->clear_environment) {
		env_import(env, environ);
		/* systemd's words to tendd, not to its programs (whose
		   stdout is a pipe, not the journal). */
		for (i = 0; i < sizeof launch_private / sizeof *launch_private;
		    i++)
			env_unset(env, launch_private[i]);
	}
	if (cp->user != NULL) {
		env_set(env, "USER", cp->user);
		env_set(env, "LOGNAME", cp->user);
		if (cp->home != NULL)
			env_set(env, "HOME", cp->home);
		if (cp->login_shell != NULL)
			env_set(env, "SHELL", cp->login_shell);
	}
	for (i = 0; i < cp->nenv_files; i++) {
		if (spawn_read_envfile(env, cp->env_files[i], err, errlen) ==
		    -1)
			return -1;
	}
	for (i = 0; i < cp->nenv; i++) {
		v = util_subst(cp->env[i].value, cp->name, index);
		env_set(env, cp->env[i].key, v);
		free(v);
	}
	/* As systemd's: the directories, ':' between them. */
	if (cp->nruntime_dirs > 0) {
		char	*all = NULL, *tmp, *dir;

		for (i = 0; i < cp->nruntime_dirs; i++) {
			dir = util_subst(cp->runtime_dirs[i], cp->name, index);
			xasprintf(&tmp, "%s%s%s", all != NULL ? all : "",
			    all != NULL ? ":" : "", dir);
			free(dir);
			free(all);
			all = tmp;
		}
		env_set(env, "RUNTIME_DIRECTORY", all);
		free(all);
	}
	snprintf(num, sizeof num, "%u", index);
	env_set(env, "TEND_PROGRAM", cp->name);
	env_set(env, "TEND_INSTANCE", num);
	return 0;
}

static bool
spawn_errno_permanent(int e)
{
	switch (e) {
	case ENOENT:
	case EACCES:
	case ENOEXEC:
	case ENOTDIR:
	case ELOOP:
	case ENAMETOOLONG:
	case EPERM:
	case EISDIR:
	case EINVAL:
	case E2BIG:
		return true;
	default:
		return false;
	}
}

/*
 * The child gets tendd's fd table shared (CLONE_FILES), not copied: with
 * 1000 instances tendd holds 4000 pipe ends, and copying them into every
 * child, then closing them at exec, made each start cost O(instances).
 * Everything the child needs is first dup'ed by the parent into a few
 * descriptors reserved at start-up, the lowest tendd has; the child's
 * first act is close_range(top + 1, ~0, CLOSE_RANGE_UNSHARE), which gives
 * it a private table holding only fds 0..top.
 */
enum {
	RSV_IN,
	RSV_OUT,
	RSV_ERR,
	RSV_CGROUP,
	RSV_N
};
static int	 launch_rsv[RSV_N] = { -1, -1, -1, -1 };
static int	 launch_rsv_top = -1;

/* The child's stack: it shares tendd's memory (CLONE_VM) until exec. */
#define SPAWN_STACK	(256 * 1024)
static void	*launch_stack;

/*
 * The signals whose disposition is not the default, which the child
 * resets before it unblocks signals (a handler of tendd's run in the child
 * would act on tendd's memory; SIG_IGN would last past exec). Taken at the
 * first spawn, after tendd set up its own (daemon_run) and before it
 * changes any again: 64 sigaction calls in every child were 17 usec of
 * each start, with tendd waiting (measured on the benchmark machine).
 */
static sigset_t	 launch_sigs;
static bool	 launch_sigs_known;

static void
launch_sigs_take(void)
{
	struct sigaction	 sa;
	int			 sig;

	if (launch_sigs_known)
		return;
	sigemptyset(&launch_sigs);
	for (sig = 1; sig < NSIG; sig++) {
		if (sigaction(sig, NULL, &sa) == 0 &&
		    ((sa.sa_flags & SA_SIGINFO) || sa.sa_handler != SIG_DFL))
			sigaddset(&launch_sigs, sig);
	}
	launch_sigs_known = true;
}

/* Written by the child before it _exit()s, read by tendd after clone
   returns (CLONE_VFORK: tendd waits for the exec or the exit). */
struct spawn_result {
	int	 stage;
	int	 err;
	int	 tty_err;	/* the terminal could not be taken */
};

struct spawn_child_arg {
	const struct spawn_req		*req;
	volatile struct spawn_result	*res;
};

/* Returns 0, or -1 with errno. */
static int
launch_reserve(void)
{
	void	*stack;
	int	 i, fd;

	if (launch_stack != NULL)
		return 0;
	stack = mmap(NULL, SPAWN_STACK, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	for (i = 0; i < RSV_N; i++) {
		if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
			while (i-- > 0)
				close(launch_rsv[i]);
			munmap(stack, SPAWN_STACK);
			errno = EMFILE;
			return -1;
		}
		launch_rsv[i] = fd;
		if (fd > launch_rsv_top)
			launch_rsv_top = fd;
	}
	launch_stack = stack;
	return 0;
}

/*
 * The child. It shares tendd's memory until exec: raw system calls only,
 * nothing written but its own stack and res, no glibc wrapper that keeps
 * process-wide state (setuid and friends broadcast to threads through
 * shared memory; syscall() does not).
 */
/* Not instrumented: it runs on a stack ASan does not know, until exec. */
static int __attribute__((no_sanitize_address))
spawn_child(void *arg)
{
	const struct spawn_child_arg	*a = arg;
	const struct spawn_req		*req = a->req;
	const struct conf_program	*cp = req->cp;
	const struct launch_stdio	*io = req->io;
	struct launch_record		*rec = req->rec;
	unsigned char			*img;
	uint64_t			 t1;
	struct timespec			 ts;
	struct sigaction		 sa;
	sigset_t			 none;
	pid_t				 pgrp;
	int				 sig, stage;

	/* On record before anything else: from here on the process may
	   outlive tendd and become the program. While the fd table is still
	   tendd's, so the record's fd is there. A failed write is left to
	   the next start: a program is not kept down for it. */
	if (rec != NULL && rec->fd != -1) {
		img = (unsigned char *)rec->image;
		*(int32_t *)(void *)(img + rec->pid_off) =
		    (int32_t)syscall(SYS_getpid);
		t1 = 0;
		if (syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &ts) == 0)
			t1 = (uint64_t)ts.tv_sec * 1000000000 +
			    (uint64_t)ts.tv_nsec;
		*(uint64_t *)(void *)(img + rec->t1_off) = t1;
		(void)syscall(SYS_pwrite64, rec->fd, img, rec->len,
		    rec->offset);
	}

	/* A table of its own with fds 0..top only (see above); before
	   5.9, a copy of all of tendd's, closed at exec. */
	stage = STAGE_STDIO;
	if (syscall(SYS_close_range, (unsigned)launch_rsv_top + 1, ~0U,
	    CLOSE_RANGE_UNSHARE) == -1 && syscall(SYS_unshare, CLONE_FILES) ==
	    -1)
		goto fail;

	/* Into the cgroup before anything of the program can run. */
	stage = STAGE_CGROUP;
	if (req->cgroup_fd != -1 &&
	    write(launch_rsv[RSV_CGROUP], "0", 1) != 1)
		goto fail;

	stage = STAGE_SETSID;
	if ((io->foreground ? setpgid(0, 0) : setsid()) == -1)
		goto fail;
	/* Before the program can touch the terminal: were tendd to hand it
	   over after the spawn, a program reading it first would be stopped
	   by SIGTTIN, with nothing to resume it. Every signal is still
	   blocked, SIGTTOU too, which lets a background group do this. Not
	   a reason to fail: the program runs on, in the background. */
	if (io->terminal) {
		pgrp = (pid_t)syscall(SYS_getpid);
		if (ioctl(STDIN_FILENO, TIOCSPGRP, &pgrp) == -1)
			a->res->tty_err = errno;
	}

	/* No handler of tendd's may run here once signals are unblocked,
	   and what tendd ignores the program must not. Blocked ones
	   (sigs.c) are unblocked. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++) {
		if (sigismember(&launch_sigs, sig) == 1)
			(void)sigaction(sig, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	stage = STAGE_STDIO;
	if ((io->in != -1 && dup2(launch_rsv[RSV_IN], 0) == -1) ||
	    (io->out != -1 && dup2(launch_rsv[RSV_OUT], 1) == -1) ||
	    (io->err != -1 && dup2(launch_rsv[RSV_ERR], 2) == -1))
		goto fail;
	if (req->creds) {
		stage = STAGE_GROUPS;
		if (cp->user != NULL && syscall(SYS_setgroups,
		    cp->ngroups, cp->groups) == -1)
			goto fail;
		if (cp->user == NULL &&
		    syscall(SYS_setgroups, 1, &cp->gid) == -1)
			goto fail;
		stage = STAGE_GID;
		if (syscall(SYS_setresgid, cp->gid, cp->gid, cp->gid) == -1)
			goto fail;
		stage = STAGE_UID;
		if (cp->user != NULL &&
		    syscall(SYS_setresuid, cp->uid, cp->uid, cp->uid) == -1)
			goto fail;
	}
	/* As the program's user, so permissions are checked as its. */
	stage = STAGE_CHDIR;
	if (cp->directory != NULL && chdir(cp->directory) == -1)
		goto fail;
	if (cp->has_umask)
		umask(cp->umask);
	if (launch_nofile_raised)
		(void)setrlimit(RLIMIT_NOFILE, &launch_nofile);
	/* What is left above 2 is tendd's and CLOEXEC; make sure of it for
	   anything inherited without the flag. */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	stage = STAGE_EXEC;
	execve(req->path, req->argv, req->envp);
fail:
	a->res->err = errno;
	a->res->stage = stage;
	_exit(127);
}

/*
 * Not clone3(CLONE_INTO_CGROUP): besides copying tendd's memory, it hits
 * a kernel bug (seen on 6.18) where every process cloned into a cgroup
 * that once had cgroup.kill written is killed at birth; a child that
 * writes itself into cgroup.procs escapes it.
 */
static int
spawn_flags(void)
{
	int	 flags = CLONE_VM | CLONE_VFORK | SIGCHLD;

	/* Sharing the fd table saves the child a copy of it (the child
	   unshares its own small one). valgrind refuses CLONE_FILES and
	   emulates CLONE_VM | CLONE_VFORK with a fork, so under it the
	   child copies the table, and a failed exec shows as an exit 127
	   rather than as a spawn error (res below is the child's copy). */
#if HAVE_VALGRIND_H
	if (RUNNING_ON_VALGRIND)
		return flags;
#endif
	return flags | CLONE_FILES;
}

static pid_t
spawn_clone(const struct spawn_req *req, int *errp, int *stagep)
{
	volatile struct spawn_result	 res = { -1, 0, 0 };
	struct spawn_child_arg		 arg = { req, &res };
	const struct launch_stdio	*io = req->io;
	sigset_t			 all, old;
	pid_t				 pid;
	int				 fd;

	if (launch_reserve() == -1) {
		*errp = errno;
		*stagep = -1;
		return -1;
	}
	launch_sigs_take();
	/* The descriptors the child keeps, into the reserved slots. */
	if ((io->in != -1 && dup3(io->in, launch_rsv[RSV_IN], O_CLOEXEC) ==
	    -1) || (io->out != -1 && dup3(io->out, launch_rsv[RSV_OUT],
	    O_CLOEXEC) == -1) || (io->err != -1 && dup3(io->err,
	    launch_rsv[RSV_ERR], O_CLOEXEC) == -1)) {
		*errp = errno;
		*stagep = STAGE_STDIO;
		return -1;
	}
	if (req->cgroup_fd != -1) {
		/* cgroup_fd is O_PATH: fine as a directory for openat. */
		fd = openat(req->cgroup_fd, "cgroup.procs",
		    O_WRONLY | O_CLOEXEC);
		if (fd == -1 || dup3(fd, launch_rsv[RSV_CGROUP], O_CLOEXEC) ==
		    -1) {
			*errp = errno;
			*stagep = STAGE_CGROUP;
			if (fd != -1)
				close(fd);
			return -1;
		}
		close(fd);
	}
	/* No handler of tendd's may run in the child before it resets
	   them. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = clone(spawn_child, (char *)launch_stack + SPAWN_STACK,
	    spawn_flags(), &arg);
	*errp = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		*stagep = -1;
		return -1;
	}
	if (res.stage != -1) {
		/* It _exit()ed: reap it here, as posix_spawn does, so no
		   one takes it for an orphan. */
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		*stagep = res.stage;
		*errp = res.err;
		return -1;
	}
	if (res.tty_err != 0)
		log_warnx("pid %d could not take the terminal: %s", (int)pid,
		    strerror(res.tty_err));
	return pid;
}

pid_t
launch_instance(const struct conf_program *cp, unsigned index,
    const struct launch_stdio *io, int cgroup_fd,
    struct launch_record *rec, char *err, size_t errlen, bool *permanent)
{
	struct spawn_req	 req;
	struct env		 env;
	char			**argv, *path = NULL;
	size_t			 i;
	pid_t			 pid = -1;
	int			 e = 0, stage = STAGE_EXEC;

	*permanent = false;
	if (spawn_build_env(cp, index, &env, err, errlen) == -1) {
		e = errno;
		*permanent = true;
		env_free(&env);
		errno = e;
		return -1;
	}
	argv = xcalloc(cp->argc + 1, sizeof *argv);
	for (i = 0; i < cp->argc; i++) {
		if (cp->literal)
			argv[i] = xstrdup(cp->argv[i]);
		else
			argv[i] = util_subst(cp->argv[i], cp->name, index);
	}

	if ((path = launch_find_path(argv[0], env_get(&env, "PATH"))) == NULL) {
		e = errno;
		snprintf(err, errlen, "exec %s: %s", argv[0],
		    e == ENOENT ? "command not found" : strerror(e));
		*permanent = true;
		goto out;
	}
	memset(&req, 0, sizeof req);
	req.cp = cp;
	req.path = path;
	req.argv = argv;
	req.envp = env.v;
	req.io = io;
	req.creds = (cp->user != NULL || cp->group != NULL) && geteuid() == 0;
	req.cgroup_fd = cgroup_fd;
	req.rec = rec;
	pid = spawn_clone(&req, &e, &stage);
	if (pid == -1) {
		if (stage == -1)
			snprintf(err, errlen, "fork: %s", strerror(e));
		else if (stage == STAGE_EXEC)
			snprintf(err, errlen, "exec %s: %s", path,
			    strerror(e));
		else
			snprintf(err, errlen, "%s: %s",
			    spawn_stage_names[stage], strerror(e));
		/* A cgroup problem is tendd's, not the program's. */
		*permanent = stage != -1 && stage != STAGE_CGROUP &&
		    spawn_errno_permanent(e);
	}
out:
	for (i = 0; i < cp->argc; i++)
		free(argv[i]);
	free(argv);
	free(path);
	env_free(&env);
	if (pid == -1)
		errno = e;
	return pid;
}
