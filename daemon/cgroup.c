/* cgroup.c: a cgroup v2 subtree under tendd's own cgroup, one leaf per
 * instance, to find and kill every process an instance started. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "util.h"

/* Without cgroup.kill (< 5.14), rounds of kill() before giving up on
   processes that keep forking. */
#define CGROUP_KILL_ROUNDS	100

/* Made and removed again to see that the subtree is usable. */
#define CGROUP_PROBE		".probe"

struct cgroup_root {
	char	*path;		/* "/tend-x", as in /proc/PID/cgroup */
	char	*dir;		/* in the filesystem */
	int	 fd;		/* dir, O_PATH|O_DIRECTORY */
};

/* A single path component the kernel will take as a cgroup name. */
static bool
cgroup_valid_name(const char *s)
{
	return *s != '\0' && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	    strpbrk(s, "/\n") == NULL;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void
cgroup_unescape(char *s)
{
	char	*d = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
			    (s[3] - '0'));
			s += 3;
		} else
			*d++ = *s;
	}
	*d = '\0';
}

/* The cgroup v2 path in a /proc/PID/cgroup file ("0::/a/b"), malloc'd;
   NULL with errno (ENODATA: no such line). */
static char *
cgroup_read_proc(const char *file)
{
	FILE	*f;
	char	*line = NULL, *path = NULL;
	size_t	 size = 0;
	ssize_t	 n;

	if ((f = fopen(file, "re")) == NULL)
		return NULL;
	while ((n = getline(&line, &size, f)) != -1) {
		if (strncmp(line, "0::", 3) != 0)
			continue;
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = '\0';
		path = xstrdup(line + 3);
		break;
	}
	free(line);
	fclose(f);
	if (path == NULL)
		errno = ENODATA;
	return path;
}

/* Where cgroup own is, relative to a mount of cgroup root (both as the
   kernel shows them): "" for root itself, NULL if outside it. */
static const char *
cgroup_under(const char *own, const char *root)
{
	size_t	 len = strlen(root);

	while (len > 0 && root[len - 1] == '/')
		len--;
	if (strncmp(own, root, len) != 0 ||
	    (own[len] != '/' && own[len] != '\0'))
		return NULL;
	own += len;
	return strcmp(own, "/") == 0 ? "" : own;
}

char *
cgroup_mountinfo_dir(char *line, const char *own, bool *seen)
{
	char		*dir = NULL, *s, *field[8];
	const char	*rel;
	size_t		 nf;

	/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...]
	   - FSTYPE SOURCE SUPEROPTIONS */
	nf = 0;
	s = line;
	while (nf < 5 && (field[nf] = strsep(&s, " \n")) != NULL)
		nf++;
	if (nf < 5)
		return NULL;
	while ((field[5] = strsep(&s, " \n")) != NULL &&
	    strcmp(field[5], "-") != 0)
		;
	if (field[5] == NULL || (field[6] = strsep(&s, " ")) == NULL ||
	    strcmp(field[6], "cgroup2") != 0)
		return NULL;
	*seen = true;
	cgroup_unescape(field[3]);
	cgroup_unescape(field[4]);
	if ((rel = cgroup_under(own, field[3])) != NULL)
		xasprintf(&dir, "%s%s", field[4], rel);
	return dir;
}

/*
 * Find own (a cgroup path) in the filesystem: the first cgroup2 mount
 * whose root holds it. The root is not "/" for a bind mount of a subtree,
 * or a mount made outside tendd's cgroup namespace ("/.." then: no use).
 */
static char *
cgroup_find_dir(const char *own, char *err, size_t errlen)
{
	FILE	*f;
	char	*line = NULL, *dir = NULL;
	size_t	 size = 0;
	bool	 seen = false;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL) {
		snprintf(err, errlen, "/proc/self/mountinfo: %s",
		    strerror(errno));
		return NULL;
	}
	while (dir == NULL && getline(&line, &size, f) != -1)
		dir = cgroup_mountinfo_dir(line, own, &seen);
	free(line);
	fclose(f);
	if (dir == NULL && !seen)
		snprintf(err, errlen, "no cgroup2 hierarchy mounted");
	else if (dir == NULL)
		snprintf(err, errlen, "own cgroup %s is under no cgroup2 mount "
		    "(mounted outside the cgroup namespace?)", own);
	return dir;
}

/* Can processes be put into leaves of r? Moving one needs write access to
   cgroup.procs of the common ancestor (tendd's cgroup, parent) and of the
   destination. */
static int
cgroup_probe(struct cgroup_root *r, const char *parent, char *err,
    size_t errlen)
{
	char	*procs;
	int	 fd, rc = 0;

	xasprintf(&procs, "%s/cgroup.procs", parent);
	if (faccessat(AT_FDCWD, procs, W_OK, AT_EACCESS) == -1) {
		snprintf(err, errlen, "cannot write %s: %s", procs,
		    strerror(errno));
		free(procs);
		return -1;
	}
	free(procs);

	if (mkdirat(r->fd, CGROUP_PROBE, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s/%s: %s", r->dir,
		    CGROUP_PROBE, strerror(errno));
		return -1;
	}
	fd = openat(r->fd, CGROUP_PROBE "/cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (fd == -1) {
		snprintf(err, errlen, "cannot open %s/%s/cgroup.procs: %s",
		    r->dir, CGROUP_PROBE, strerror(errno));
		rc = -1;
	} else
		close(fd);
	if (unlinkat(r->fd, CGROUP_PROBE, AT_REMOVEDIR) == -1 && rc == 0) {
		snprintf(err, errlen, "cannot remove %s/%s: %s", r->dir,
		    CGROUP_PROBE, strerror(errno));
		rc = -1;
	}
	return rc;
}

struct cgroup_root *
cgroup_root_open(const char *name, char *err, size_t errlen)
{
	struct cgroup_root	*r;
	struct statfs		 sf;
	char			*own, *parent;
	size_t			 len;

	if (!cgroup_valid_name(name)) {
		snprintf(err, errlen, "bad cgroup name \"%s\"", name);
		return NULL;
	}
	if ((own = cgroup_read_proc("/proc/self/cgroup")) == NULL) {
		if (errno == ENODATA)
			snprintf(err, errlen, "no cgroup2 hierarchy (no 0:: "
			    "line in /proc/self/cgroup)");
		else
			snprintf(err, errlen, "/proc/self/cgroup: %s",
			    strerror(errno));
		return NULL;
	}
	len = strlen(own);
	if (*own != '/' || (len > 10 && strcmp(own + len - 10,
	    " (deleted)") == 0)) {
		snprintf(err, errlen, "own cgroup %s is unusable", own);
		free(own);
		return NULL;
	}
	if ((parent = cgroup_find_dir(own, err, errlen)) == NULL) {
		free(own);
		return NULL;
	}

	r = xcalloc(1, sizeof *r);
	r->fd = -1;
	xasprintf(&r->path, "%s/%s", strcmp(own, "/") == 0 ? "" : own, name);
	xasprintf(&r->dir, "%s/%s", parent, name);
	free(own);
	if (mkdir(r->dir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", r->dir,
		    strerror(errno));
		goto fail;
	}
	if ((r->fd = open(r->dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", r->dir,
		    strerror(errno));
		goto fail;
	}
	/* Guard against a mountinfo misread leading somewhere else. */
	if (fstatfs(r->fd, &sf) == -1 || sf.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, errlen, "%s is not on cgroup2", r->dir);
		goto fail;
	}
	if (cgroup_probe(r, parent, err, errlen) == -1)
		goto fail;
	free(parent);
	return r;

fail:
	free(parent);
	cgroup_root_free(r);
	return NULL;
}

void
cgroup_root_free(struct cgroup_root *r)
{
	if (r == NULL)
		return;
	/* EBUSY or ENOTEMPTY: a leaf is left, with processes of ours, a
	   crashed predecessor's or another instance's. Keep it. */
	if (r->fd != -1) {
		(void)rmdir(r->dir);
		close(r->fd);
	}
	free(r->path);
	free(r->dir);
	free(r);
}

const char *
cgroup_root_path(const struct cgroup_root *r)
{
	return r->path;
}

/* Open file in leaf; -1 with errno (ENOENT: no such leaf or file). */
static int
cgroup_open_file(struct cgroup_root *r, const char *leaf, const char *file,
    int flags)
{
	char	 path[PATH_MAX];
	int	 n;

	if (!cgroup_valid_name(leaf)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(path, sizeof path, "%s/%s", leaf, file);
	if (n < 0 || (size_t)n >= sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return openat(r->fd, path, flags | O_CLOEXEC);
}

int
cgroup_open(struct cgroup_root *r, const char *leaf)
{
	if (!cgroup_valid_name(leaf)) {
		errno = EINVAL;
		return -1;
	}
	if (mkdirat(r->fd, leaf, 0755) == -1 && errno != EEXIST)
		return -1;
	return openat(r->fd, leaf, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static void
cgroup_push(pid_t **v, size_t *n, size_t *cap, pid_t pid)
{
	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*v = xreallocarray(*v, *cap, sizeof **v);
	}
	(*v)[(*n)++] = pid;
}

/* One PID read: kept (v) or counted (v NULL) unless 0 (a process outside
   tendd's PID namespace) or except. */
static void
cgroup_take(long pid, pid_t except, pid_t **v, size_t *n, size_t *cap)
{
	if (pid <= 0 || pid > INT_MAX || pid == except)
		return;
	if (v != NULL)
		cgroup_push(v, n, cap, (pid_t)pid);
	else
		(*n)++;
}

/*
 * Parse cgroup.procs (decimal PIDs, one a line) as it is read from the
 * start, so its size needs no bound: the PIDs other than except (0: none)
 * into *v, or with v NULL only their count into *n. pread from 0 lists
 * a seq file anew whatever was read before, one call instead of an lseek
 * and a read (a stop of 1000 reads 2000 of them).
 *
 * A seq file read stops short only at the end of the list or when the
 * kernel's buffer (a page at least) cannot take the next line, so a read
 * short by more than a line is the end: that saves the read returning 0,
 * which costs as much as the first (status counts every instance).
 */
#define CGROUP_PROCS_LINE	16	/* "4194304\n" and then some */

static int
cgroup_read_pids(int fd, pid_t except, pid_t **v, size_t *n)
{
	char	 buf[4096];
	ssize_t	 got, i;
	size_t	 cap = 0;
	off_t	 off = 0;
	long	 cur = 0;
	bool	 digits = false;

	for (;;) {
		if ((got = pread(fd, buf, sizeof buf, off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			break;
		for (i = 0; i < got; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				if (cur <= INT_MAX)
					cur = cur * 10 + (buf[i] - '0');
				digits = true;
				continue;
			}
			if (digits)
				cgroup_take(cur, except, v, n, &cap);
			cur = 0;
			digits = false;
		}
		off += got;
		if ((size_t)got < sizeof buf - CGROUP_PROCS_LINE)
			break;
	}
	if (digits)
		cgroup_take(cur, except, v, n, &cap);
	return 0;
}

int
cgroup_pids(struct cgroup_root *r, const char *leaf, pid_t **pidsp,
    size_t *np)
{
	int	 fd, rc, e;

	*pidsp = NULL;
	*np = 0;
	if ((fd = cgroup_open_file(r, leaf, "cgroup.procs", O_RDONLY)) == -1)
		return errno == ENOENT ? 0 : -1;
	rc = cgroup_read_pids(fd, 0, pidsp, np);
	e = errno;
	close(fd);
	if (rc == -1) {
		free(*pidsp);
		*pidsp = NULL;
		*np = 0;
		/* ENODEV: the leaf went away while being read. */
		if (e == ENODEV)
			return 0;
		errno = e;
	}
	return rc;
}

int
cgroup_procs_open(struct cgroup_root *r, const char *leaf)
{
	return cgroup_open_file(r, leaf, "cgroup.procs", O_RDONLY);
}

int
cgroup_procs_count(int fd, pid_t except)
{
	size_t	 n = 0;

	/* A seq file: reading from 0 again lists it anew. */
	if (cgroup_read_pids(fd, except, NULL, &n) == -1)
		return -1;
	return n > INT_MAX ? INT_MAX : (int)n;
}

int
cgroup_procs_pids(int fd, pid_t **pidsp, size_t *np)
{
	*pidsp = NULL;
	*np = 0;
	if (cgroup_read_pids(fd, 0, pidsp, np) == -1) {
		free(*pidsp);
		*pidsp = NULL;
		*np = 0;
		return -1;
	}
	return 0;
}

static int
cgroup_pid_cmp(const void *a, const void *b)
{
	pid_t	 x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * kill() what cgroup.procs lists, for other signals than SIGKILL and for
 * kernels without cgroup.kill. For SIGKILL again until the leaf is empty,
 * so children forked meanwhile are caught too (in a bounded number of
 * rounds). A PID could be reused between the read and the kill only if
 * the process exited and something else in the leaf reaped it.
 */
static int
cgroup_kill_loop(struct cgroup_root *r, const char *leaf, int sig)
{
	pid_t	*v, *done = NULL;
	size_t	 n, ndone = 0, cap = 0, i, before;
	int	 round, count = 0;

	for (round = 0; round < CGROUP_KILL_ROUNDS; round++) {
		if (cgroup_pids(r, leaf, &v, &n) == -1) {
			free(done);
			return -1;
		}
		if (n == 0)
			break;
		before = ndone;
		for (i = 0; i < n; i++) {
			if (kill(v[i], sig) == -1)
				continue;
			if (before > 0 && bsearch(&v[i], done, before,
			    sizeof *done, cgroup_pid_cmp) != NULL)
				continue;
			cgroup_push(&done, &ndone, &cap, v[i]);
			count++;
		}
		free(v);
		if (sig != SIGKILL)
			break;
		if (ndone > 0)
			qsort(done, ndone, sizeof *done, cgroup_pid_cmp);
		/* Let the dying run to their end. */
		sched_yield();
	}
	free(done);
	return count;
}

int
cgroup_signal(struct cgroup_root *r, const char *leaf, int sig)
{
	pid_t	*v;
	size_t	 n;
	ssize_t	 w;
	int	 fd, e;

	if (sig != SIGKILL)
		return cgroup_kill_loop(r, leaf, sig);
	if (cgroup_pids(r, leaf, &v, &n) == -1)
		return -1;
	free(v);
	if ((fd = cgroup_open_file(r, leaf, "cgroup.kill", O_WRONLY)) == -1) {
		/* No cgroup.kill (< 5.14), or no leaf: the loop says. */
		if (errno == ENOENT)
			return cgroup_kill_loop(r, leaf, sig);
		return -1;
	}
	w = write(fd, "1", 1);
	e = errno;
	close(fd);
	if (w == -1) {
		if (e == ENODEV)
			return 0;
		errno = e;
		return -1;
	}
	return (int)n;
}

int
cgroup_remove(struct cgroup_root *r, const char *leaf)
{
	if (!cgroup_valid_name(leaf)) {
		errno = EINVAL;
		return -1;
	}
	if (unlinkat(r->fd, leaf, AT_REMOVEDIR) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
cgroup_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* rmdir the empty subdirectories of the directory dfd (closed); the
   names of the others into *left (if not NULL). */
static int
cgroup_prune_dir(int dfd, char ***left, size_t *nleft)
{
	struct dirent	*de;
	DIR		*dir;
	size_t		 cap = 0;
	int		 n = 0;

	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(dir), de->d_name, AT_REMOVEDIR) == 0) {
			n++;
			continue;
		}
		if (left == NULL)
			continue;
		if (*nleft == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			*left = xreallocarray(*left, cap, sizeof **left);
		}
		(*left)[(*nleft)++] = xstrdup(de->d_name);
	}
	closedir(dir);
	if (left != NULL && *nleft > 1)
		qsort(*left, *nleft, sizeof **left, cgroup_strcmp);
	return n;
}

int
cgroup_prune(struct cgroup_root *r, char ***left, size_t *nleft)
{
	int	 fd;

	if (left != NULL) {
		*left = NULL;
		*nleft = 0;
	}
	if ((fd = openat(r->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return 0;
	return cgroup_prune_dir(fd, left, nleft);
}

int
cgroup_prune_siblings(struct cgroup_root *r, const char *prefix)
{
	struct dirent	*de;
	DIR		*dir;
	char		*parent, *slash, *end;
	size_t		 plen = strlen(prefix);
	long		 pid;
	int		 fd, n = 0;

	parent = xstrdup(r->dir);
	if ((slash = strrchr(parent, '/')) != NULL)
		*slash = '\0';
	dir = opendir(parent);
	free(parent);
	if (dir == NULL)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_type != DT_DIR ||
		    strncmp(de->d_name, prefix, plen) != 0)
			continue;
		errno = 0;
		pid = strtol(de->d_name + plen, &end, 10);
		if (errno != 0 || *end != '\0' || pid <= 0 ||
		    pid == (long)getpid() || pid > INT_MAX)
			continue;
		/* Its owner lives (or its PID is someone's again): keep. */
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		if ((fd = openat(dirfd(dir), de->d_name, O_RDONLY |
		    O_DIRECTORY | O_CLOEXEC)) == -1)
			continue;
		(void)cgroup_prune_dir(fd, NULL, NULL);
		if (unlinkat(dirfd(dir), de->d_name, AT_REMOVEDIR) == 0)
			n++;
	}
	closedir(dir);
	return n;
}

bool
cgroup_contains(struct cgroup_root *r, const char *leaf, pid_t pid)
{
	char	 file[64], *path;
	size_t	 len = strlen(r->path);
	bool	 in;

	snprintf(file, sizeof file, "/proc/%ld/cgroup", (long)pid);
	if ((path = cgroup_read_proc(file)) == NULL)
		return false;
	in = strncmp(path, r->path, len) == 0 && path[len] == '/' &&
	    strcmp(path + len + 1, leaf) == 0;
	free(path);
	return in;
}
