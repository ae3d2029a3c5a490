/* rundir.c: runtime_directory: make and remove; see rundir.h. */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "rundir.h"
#include "util.h"

/* Deeper than this, what a program left is not walked: left in place. */
#define RUNDIR_MAX_DEPTH	64

static bool
rundir_per_instance(const char *tmpl)
{
	return strstr(tmpl, "{instance}") != NULL;
}

bool
rundir_shared(const struct conf_program *cp)
{
	uint32_t	 i;

	for (i = 0; i < cp->nruntime_dirs; i++) {
		if (!rundir_per_instance(cp->runtime_dirs[i]))
			return true;
	}
	return false;
}

/*
 * Make path (absolute) and its missing parents; the parents 0755 and
 * tendd's, the last the program's, with mode. Each step is opened
 * relative to the one before.
 */
static int
rundir_make(const char *path, const struct conf_program *cp, char *err,
    size_t errlen)
{
	char	*copy, *p, *next;
	int	 dfd, fd, e;
	bool	 last;

	if ((dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "open /: %s", strerror(errno));
		return -1;
	}
	copy = xstrdup(path);
	for (p = copy + 1; *p != '\0'; p = next) {
		if ((next = strchr(p, '/')) != NULL)
			*next++ = '\0';
		else
			next = p + strlen(p);
		last = *next == '\0';
		if (*p == '\0')
			continue;
		if (mkdirat(dfd, p, last ? 0700 : 0755) == -1 &&
		    errno != EEXIST)
			goto fail;
		/* The base (/run, $XDG_RUNTIME_DIR) and the parents are
		   root's or tendd's and may be links (/var/run); the last,
		   which the program owns, is never followed. */
		fd = openat(dfd, p, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
		    (last ? O_NOFOLLOW : 0));
		if (fd == -1)
			goto fail;
		close(dfd);
		dfd = fd;
	}
	/* Whether new or left from before: the program's, as asked. */
	if (geteuid() == 0 && fchown(dfd, cp->uid, cp->gid) == -1)
		goto fail;
	if (fchmod(dfd, cp->runtime_mode) == -1)
		goto fail;
	close(dfd);
	free(copy);
	return 0;

fail:
	e = errno;
	snprintf(err, errlen, "runtime_directory %s: %s", path,
	    e == ENOTDIR || e == ELOOP ? "exists and is not a directory" :
	    strerror(e));
	close(dfd);
	free(copy);
	errno = e;
	return -1;
}

int
rundir_create(const struct conf_program *cp, unsigned index, char *err,
    size_t errlen)
{
	uint32_t	 i;
	char		*path;
	int		 rc = 0;

	for (i = 0; i < cp->nruntime_dirs && rc == 0; i++) {
		path = util_subst(cp->runtime_dirs[i], cp->name, index);
		rc = rundir_make(path, cp, err, errlen);
		free(path);
	}
	return rc;
}

/* Empty the directory dfd (closed here): what it holds is removed,
   symlinks as links. */
static int
rundir_empty(int dfd, int depth)
{
	struct dirent	*de;
	DIR		*dir;
	int		 fd, rc = 0;

	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(dir), de->d_name, 0) == 0)
			continue;
		if (errno != EISDIR && errno != EPERM) {
			rc = -1;
			continue;
		}
		/* A directory: its contents first. */
		fd = depth < RUNDIR_MAX_DEPTH ? openat(dirfd(dir), de->d_name,
		    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
		if (fd == -1 || rundir_empty(fd, depth + 1) == -1 ||
		    unlinkat(dirfd(dir), de->d_name, AT_REMOVEDIR) == -1)
			rc = -1;
	}
	closedir(dir);
	return rc;
}

static void
rundir_rm(const char *path)
{
	char	*parent, *slash;
	int	 pfd, fd;

	parent = xstrdup(path);
	slash = strrchr(parent, '/');
	*slash = '\0';
	pfd = open(*parent != '\0' ? parent : "/", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (pfd == -1) {
		if (errno != ENOENT)
			log_warn("runtime_directory %s", path);
		free(parent);
		return;
	}
	fd = openat(pfd, slash + 1, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno != ENOENT)
			log_warn("runtime_directory %s", path);
	} else if (rundir_empty(fd, 0) == -1 ||
	    unlinkat(pfd, slash + 1, AT_REMOVEDIR) == -1)
		log_warn("cannot remove runtime_directory %s", path);
	close(pfd);
	free(parent);
}

void
rundir_remove(const struct conf_program *cp, unsigned index, bool shared)
{
	uint32_t	 i;
	char		*path;

	/* In reverse: a directory named after another is inside it. */
	for (i = cp->nruntime_dirs; i > 0; i--) {
		if (!shared && !rundir_per_instance(cp->runtime_dirs[i - 1]))
			continue;
		path = util_subst(cp->runtime_dirs[i - 1], cp->name, index);
		rundir_rm(path);
		free(path);
	}
}
