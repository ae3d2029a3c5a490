/* launch.c: build argv and environment, then posix_spawn, or vfork and
 * exec. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "launch.h"
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

void
launch_init(void)
{
	struct rlimit	 rl;

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

static pid_t
spawn_posix(const struct conf_program *cp, const char *path, char **argv,
    char **envp, const struct launch_stdio *io, int *errp)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 all, none;
	mode_t				 old = 0;
	pid_t				 pid;
	int				 rc;

	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, (io->foreground ?
	    POSIX_SPAWN_SETPGROUP : POSIX_SPAWN_SETSID) |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawn_file_actions_init(&fa);
	if (io->in != -1)
		posix_spawn_file_actions_adddup2(&fa, io->in, 0);
	if (io->out != -1)
		posix_spawn_file_actions_adddup2(&fa, io->out, 1);
	if (io->err != -1)
		posix_spawn_file_actions_adddup2(&fa, io->err, 2);
	if (cp->directory != NULL)
		posix_spawn_file_actions_addchdir_np(&fa, cp->directory);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);

	/* tendd is single-threaded: the child inherits this umask. */
	if (cp->has_umask)
		old = umask(cp->umask);
	rc = posix_spawn(&pid, path, &fa, &attr, argv, envp);
	if (cp->has_umask)
		umask(old);
	/* posix_spawn cannot set limits: give the child tendd's original
	   open-file limit back at once (programs that use select() need
	   the usual 1024). */
	if (rc == 0 && launch_nofile_raised)
		(void)prlimit(pid, RLIMIT_NOFILE, &launch_nofile, NULL);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		*errp = rc;
		return -1;
	}
	return pid;
}

/*
 * The child side of spawn_fork. It shares tendd's memory (vfork) until
 * exec: raw system calls only, nothing written but its own stack, no
 * glibc wrapper that keeps process-wide state (setuid and friends
 * broadcast to threads through shared memory; syscall() does not).
 */
static void __attribute__((noreturn))
spawn_child(const struct spawn_req *req, int procfd, int errfd)
{
	const struct conf_program	*cp = req->cp;
	const struct launch_stdio	*io = req->io;
	struct sigaction		 sa;
	sigset_t			 none;
	int				 sig, msg[2];

	/* Into the cgroup before anything of the program can run. */
	msg[0] = STAGE_CGROUP;
	if (procfd != -1 && write(procfd, "0", 1) != 1)
		goto fail;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	msg[0] = STAGE_SETSID;
	if ((io->foreground ? setpgid(0, 0) : setsid()) == -1)
		goto fail;
	msg[0] = STAGE_STDIO;
	if ((io->in != -1 && dup2(io->in, 0) == -1) ||
	    (io->out != -1 && dup2(io->out, 1) == -1) ||
	    (io->err != -1 && dup2(io->err, 2) == -1))
		goto fail;
	if (req->creds) {
		msg[0] = STAGE_GROUPS;
		if (cp->user != NULL && syscall(SYS_setgroups,
		    cp->ngroups, cp->groups) == -1)
			goto fail;
		if (cp->user == NULL &&
		    syscall(SYS_setgroups, 1, &cp->gid) == -1)
			goto fail;
		msg[0] = STAGE_GID;
		if (syscall(SYS_setresgid, cp->gid, cp->gid, cp->gid) == -1)
			goto fail;
		msg[0] = STAGE_UID;
		if (cp->user != NULL &&
		    syscall(SYS_setresuid, cp->uid, cp->uid, cp->uid) == -1)
			goto fail;
	}
	/* As the program's user, so permissions are checked as its. */
	msg[0] = STAGE_CHDIR;
	if (cp->directory != NULL && chdir(cp->directory) == -1)
		goto fail;
	if (cp->has_umask)
		umask(cp->umask);
	if (launch_nofile_raised)
		(void)setrlimit(RLIMIT_NOFILE, &launch_nofile);
	/* Everything but stdio and the error pipe is already CLOEXEC; make
	   sure of it for anything inherited without the flag. */
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	msg[0] = STAGE_EXEC;
	execve(req->path, req->argv, req->envp);
fail:
	msg[1] = errno;
	(void)!write(errfd, msg, sizeof msg);
	_exit(127);
}

/*
 * vfork, not clone3(CLONE_INTO_CGROUP): besides copying nothing, a child
 * that moves itself in escapes a kernel bug (seen on 6.18) where every
 * process cloned into a cgroup that once had cgroup.kill written is
 * killed at birth.
 */
static pid_t
spawn_fork(const struct spawn_req *req, int *errp, int *stagep)
{
	sigset_t	 all, old;
	int		 p[2], msg[2], procfd = -1;
	ssize_t		 n;
	pid_t		 pid;

	if (req->cgroup_fd != -1) {
		/* cgroup_fd is O_PATH: fine as a directory for openat. */
		procfd = openat(req->cgroup_fd, "cgroup.procs",
		    O_WRONLY | O_CLOEXEC);
		if (procfd == -1) {
			*errp = errno;
			*stagep = STAGE_CGROUP;
			return -1;
		}
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		*errp = errno;
		*stagep = -1;
		if (procfd != -1)
			close(procfd);
		return -1;
	}
	/* No handler of tendd's may run in the child before it resets
	   them. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = vfork();
	if (pid == 0)
		spawn_child(req, procfd, p[1]);
	*errp = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (procfd != -1)
		close(procfd);
	close(p[1]);
	if (pid == -1) {
		close(p[0]);
		*stagep = -1;
		return -1;
	}
	/* The child has exec'd (the pipe closed) or failed (its message
	   is there): vfork returned only then. */
	do {
		n = read(p[0], msg, sizeof msg);
	} while (n == -1 && errno == EINTR);
	close(p[0]);
	if (n == (ssize_t)sizeof msg) {
		/* The child wrote its last words and is _exit()ing: reap it
		   here, as posix_spawn does, so no one takes it for an
		   orphan. */
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		*stagep = msg[0];
		*errp = msg[1];
		return -1;
	}
	return pid;
}

pid_t
launch_instance(const struct conf_program *cp, unsigned index,
    const struct launch_stdio *io, int cgroup_fd, char *err, size_t errlen,
    bool *permanent)
{
	struct spawn_req	 req;
	struct env		 env;
	char			**argv, *path = NULL;
	size_t			 i;
	pid_t			 pid = -1;
	int			 e = 0, stage = STAGE_EXEC;

	*permanent = false;
	if (spawn_build_env(cp, index, &env, err, errlen) == -1) {
		*permanent = true;
		env_free(&env);
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
	/* posix_spawn cannot place the child in a cgroup before it runs
	   (not before glibc 2.39), and moving it in after exec would let
	   it fork outside first: a cgroup needs the vfork path too. */
	if (req.creds || cgroup_fd != -1)
		pid = spawn_fork(&req, &e, &stage);
	else
		pid = spawn_posix(cp, path, argv, env.v, io, &e);
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
	return pid;
}
