/* logfile.c: log files: open, append, splice, rotate, reopen. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "logfile.h"
#include "util.h"

/* After a failure to open, try again at most this often. */
#define LOGFILE_CHECK_EVERY	USEC_PER_SEC

struct logfiles {
	struct event_base	*base;
	struct logfile		*list;
	uint64_t		 next_id;
	struct event		*ev_open;	/* open the new files */
};

static int	logfile_open(struct logfile *);

/*
 * New files are opened (created, mostly) in the loop pass after they are
 * asked for, not at once: at start-up that is after every program has
 * been spawned, and creating 1000 files on ext4 takes 0.1 s that would
 * otherwise delay them all. Output written meanwhile waits in the pipe;
 * a write that comes first opens the file itself (logfile_ready).
 */
static void
logfiles_open_cb(evutil_socket_t fd, short events, void *arg)
{
	struct logfiles	*set = arg;
	struct logfile	*f;

	for (f = set->list; f != NULL; f = f->next) {
		if (f->fd == -1 && f->next_check == 0)
			(void)logfile_open(f);
	}
}

struct logfiles *
logfiles_new(struct event_base *base)
{
	struct logfiles	*set = xcalloc(1, sizeof *set);

	set->base = base;
	set->next_id = 1;
	set->ev_open = event_new(base, -1, 0, logfiles_open_cb, set);
	return set;
}

static void
logfile_set_error(struct logfile *f, const char *what, int e)
{
	char	*msg;

	xasprintf(&msg, "%s %s: %s", what, f->path, strerror(e));
	if (f->error == NULL || strcmp(f->error, msg) != 0)
		log_warnx("log file: %s", msg);
	free(f->error);
	f->error = msg;
}

static void
logfile_clear_error(struct logfile *f)
{
	if (f->error == NULL)
		return;
	log_info("log file %s: writing again", f->path);
	free(f->error);
	f->error = NULL;
}

/* mkdir -p of the file's directory. */
static void
logfile_mkdirs(const char *path)
{
	char	*dir = xstrdup(path), *p;

	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			break;
		*p = '/';
	}
	free(dir);
}

static int
logfile_open(struct logfile *f)
{
	struct stat	 st;
	int		 fd;

	f->next_check = util_now_mono() + LOGFILE_CHECK_EVERY;
	fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, f->mode);
	if (fd == -1 && errno == ENOENT) {
		logfile_mkdirs(f->path);
		fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY,
		    f->mode);
	}
	if (fd == -1) {
		logfile_set_error(f, "open", errno);
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		logfile_set_error(f, "fstat", errno);
		close(fd);
		return -1;
	}
	if (f->chown && (st.st_uid != f->uid || st.st_gid != f->gid) &&
	    fchown(fd, f->uid, f->gid) == -1)
		log_warn("log file %s: chown", f->path);
	f->fd = fd;
	f->size = (uint64_t)st.st_size;
	f->id = f->set->next_id++;
	return 0;
}

static void
logfile_close(struct logfile *f)
{
	if (f->fd != -1)
		close(f->fd);
	if (f->dfd >= 0)
		close(f->dfd);
	f->fd = f->dfd = -1;
}

/*
 * Before each write (tendd writes in batches, so this is cheap): open if
 * closed (at most once a second after a failure); notice a file removed
 * under us and open a new one; notice a file truncated under us
 * (logrotate's copytruncate) and continue at its new end, not leave a
 * hole.
 */
static bool
logfile_ready(struct logfile *f)
{
	struct stat	 st;

	if (f->fd == -1) {
		if (util_now_mono() < f->next_check)
			return false;
		return logfile_open(f) == 0;
	}
	if (fstat(f->fd, &st) == -1)
		return true;
	if (st.st_nlink == 0) {
		log_info("log file %s was removed: opening a new one",
		    f->path);
		logfile_close(f);
		return logfile_open(f) == 0;
	}
	if ((uint64_t)st.st_size < f->size) {
		log_info("log file %s was truncated", f->path);
		f->size = (uint64_t)st.st_size;
	}
	return true;
}

static void
logfile_rotate_cb(evutil_socket_t fd, short events, void *arg)
{
	struct logfile	*f = arg;

	if (f->size > 0)
		logfile_rotate(f);
}

void
logfile_settings(struct logfile *f, const struct conf_program *cp)
{
	struct timeval	 tv;

	f->max_size = cp->log_max_size;
	f->keep = cp->log_keep;
	f->mode = cp->log_mode;
	f->chown = geteuid() == 0 && cp->user != NULL;
	f->uid = cp->uid;
	f->gid = cp->gid;
	if (f->rotate_every == cp->log_rotate_every)
		return;
	f->rotate_every = cp->log_rotate_every;
	if (f->timer == NULL)
		f->timer = event_new(f->set->base, -1, EV_PERSIST,
		    logfile_rotate_cb, f);
	evtimer_del(f->timer);
	if (f->rotate_every != 0) {
		tv.tv_sec = (time_t)(f->rotate_every / USEC_PER_SEC);
		tv.tv_usec = (suseconds_t)(f->rotate_every % USEC_PER_SEC);
		evtimer_add(f->timer, &tv);
	}
}

struct logfile *
logfile_get(struct logfiles *set, const char *path,
    const struct conf_program *cp)
{
	struct logfile	*f;
	size_t		 len;

	for (f = set->list; f != NULL; f = f->next) {
		if (strcmp(f->path, path) == 0) {
			f->refs++;
			return f;
		}
	}
	len = strlen(path) + 1;
	f = xcalloc(1, sizeof *f + len);
	f->set = set;
	memcpy(f->path, path, len);
	f->fd = f->dfd = -1;
	f->refs = 1;
	f->next = set->list;
	set->list = f;
	logfile_settings(f, cp);
	/* next_check 0: never tried yet, see logfiles_open_cb. */
	event_active(set->ev_open, 0, 0);
	return f;
}

static void
logfile_destroy(struct logfile *f)
{
	logfile_close(f);
	if (f->timer != NULL)
		event_free(f->timer);
	free(f->error);
	free(f);
}

void
logfile_put(struct logfile *f)
{
	struct logfile	**pp;

	if (f == NULL || --f->refs > 0)
		return;
	for (pp = &f->set->list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	logfile_destroy(f);
}

void
logfiles_free(struct logfiles *set)
{
	struct logfile	*f;

	if (set == NULL)
		return;
	while ((f = set->list) != NULL) {
		set->list = f->next;
		logfile_destroy(f);
	}
	event_free(set->ev_open);
	free(set);
}

int
logfiles_reopen(struct logfiles *set)
{
	struct logfile	*f;
	int		 n = 0;

	for (f = set->list; f != NULL; f = f->next) {
		logfile_close(f);
		f->next_check = 0;
		if (logfile_open(f) == 0)
			logfile_clear_error(f);
		n++;
	}
	return n;
}

bool
logfile_full(const struct logfile *f, size_t pending, size_t len)
{
	return f->max_size != 0 && f->size + pending > 0 &&
	    f->size + pending + len > f->max_size;
}

int
logfile_rotate(struct logfile *f)
{
	char		*from, *to;
	unsigned	 i;

	if (f->keep == 0) {
		if (unlink(f->path) == -1 && errno != ENOENT)
			logfile_set_error(f, "unlink", errno);
	} else {
		for (i = f->keep; i > 1; i--) {
			xasprintf(&from, "%s.%u", f->path, i - 1);
			xasprintf(&to, "%s.%u", f->path, i);
			if (rename(from, to) == -1 && errno != ENOENT)
				logfile_set_error(f, "rename", errno);
			free(from);
			free(to);
		}
		xasprintf(&to, "%s.1", f->path);
		if (rename(f->path, to) == -1 && errno != ENOENT)
			logfile_set_error(f, "rename", errno);
		free(to);
	}
	logfile_close(f);
	f->next_check = 0;
	return logfile_open(f);
}

/*
 * A flood goes around the page cache. Most of the CPU of a buffered write
 * is the copy into newly allocated page-cache pages (74% memcpy in perf
 * on the benchmark VM, where memory the guest touches fresh is slow); an
 * O_DIRECT write hands the device tendd's buffer, which stays warm. It
 * also keeps one program's flood from pushing everything else out of the
 * page cache. The cost: a direct write waits for the device, which is
 * why only floods take it (streams that are batching, which read into
 * the place logfile_direct_lead gives), and only large writes. A flood
 * then goes at the device's pace (bench/log-throughput: 700-880 MiB/s
 * at 0.33-0.41 s of CPU per GiB, where the page cache took 610-1300
 * MiB/s at 0.5-1.5 s per GiB, as fast as the VM's memory was).
 *
 * Direct I/O needs the offset, length and memory aligned. A write whose
 * memory address and file offset agree modulo LOGFILE_ALIGN sends the
 * bytes up to the first aligned offset and after the last one through
 * the page cache and everything between direct: any length works, and
 * the file has no holes or padding. The second fd is opened with
 * O_DIRECT on first use and checked to be the same file; a filesystem
 * without direct I/O (or a write it refuses) falls back to the page cache
 * until the file is reopened.
 */
int
logfile_direct_lead(struct logfile *f, size_t pending)
{
	struct stat	 st, dst;
	int		 fd;

	if (!logfile_ready(f) || f->dfd == -2)
		return -1;
	if (f->dfd == -1) {
		/* A regular file only, and not blocking in open if the
		   path became a FIFO meanwhile. */
		fd = -1;
		if (fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode))
			fd = open(f->path, O_WRONLY | O_DIRECT | O_NONBLOCK |
			    O_CLOEXEC | O_NOCTTY);
		if (fd != -1 && (fstat(fd, &dst) == -1 ||
		    st.st_dev != dst.st_dev || st.st_ino != dst.st_ino ||
		    fcntl(fd, F_SETFL, O_DIRECT) == -1)) {
			close(fd);
			fd = -1;
		}
		if (fd == -1) {
			f->dfd = -2;
			return -1;
		}
		f->dfd = fd;
	}
	return (int)((f->size + pending) % LOGFILE_ALIGN);
}

/* Write at the end through fd (f->fd or f->dfd); errors are f->fd's. */
static size_t
logfile_write(struct logfile *f, int fd, const char *buf, size_t len)
{
	size_t	 done = 0;
	ssize_t	 n;

	while (done < len) {
		n = pwrite(fd, buf + done, len - done, (off_t)f->size);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (fd == f->fd)
				logfile_set_error(f, "write",
				    n == 0 ? EIO : errno);
			return done;
		}
		done += (size_t)n;
		f->size += (uint64_t)n;
	}
	return done;
}

size_t
logfile_append(struct logfile *f, const char *buf, size_t len)
{
	size_t	 head, body, done = 0, n;

	if (len == 0 || !logfile_ready(f))
		return 0;
	if (f->dfd >= 0 && len >= LOGFILE_DIRECT_MIN &&
	    ((uintptr_t)buf - f->size) % LOGFILE_ALIGN == 0) {
		head = (LOGFILE_ALIGN - f->size % LOGFILE_ALIGN) %
		    LOGFILE_ALIGN;
		done = logfile_write(f, f->fd, buf, head);
		if (done < head)
			return done;
		body = (len - head) & ~(size_t)(LOGFILE_ALIGN - 1);
		n = logfile_write(f, f->dfd, buf + done, body);
		done += n;
		if (n < body) {
			/* What it wrote counts; the rest takes the page
			   cache, which reports an error if there is one. */
			close(f->dfd);
			f->dfd = -2;
		}
	}
	done += logfile_write(f, f->fd, buf + done, len - done);
	if (done == len)
		logfile_clear_error(f);
	return done;
}

ssize_t
logfile_splice(struct logfile *f, int pipefd, size_t max, uint64_t *offset)
{
	loff_t	 off;
	ssize_t	 n;

	if (!logfile_ready(f))
		return -1;
	off = (loff_t)f->size;
	*offset = f->size;
	do {
		n = splice(pipefd, NULL, f->fd, &off, max,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN)
			return 0;
		logfile_set_error(f, "write", errno);
		return -1;
	}
	f->size = (uint64_t)off;
	if (n > 0)
		logfile_clear_error(f);
	return n;
}

ssize_t
logfile_read(const struct logfile *f, uint64_t id, uint64_t offset,
    char *buf, size_t len)
{
	if (f->fd == -1 || f->id != id)
		return -1;
	return pread(f->fd, buf, len, (off_t)offset);
}

ssize_t
logfile_line_before(const struct logfile *f, uint64_t id, uint64_t offset,
    size_t limit)
{
	char		*buf = NULL, *nl;
	size_t		 want = 4096, done = 0;
	ssize_t		 n, r = -1;

	/* Most lines are short: a small read first, larger ones after. */
	while (done < limit && done < offset) {
		if (want > limit - done)
			want = limit - done;
		if (want > offset - done)
			want = (size_t)(offset - done);
		buf = xreallocarray(buf, want, 1);
		n = logfile_read(f, id, offset - done - want, buf, want);
		if (n != (ssize_t)want)
			break;
		if ((nl = memrchr(buf, '\n', want)) != NULL) {
			r = (ssize_t)(done + want - (size_t)(nl + 1 - buf));
			break;
		}
		done += want;
		if (want < 64 * 1024)
			want *= 4;
	}
	if (r == -1 && done == offset && f->fd != -1 && f->id == id)
		r = (ssize_t)offset;	/* the file starts the line */
	free(buf);
	return r;
}
