/* state.c: state_dir: the lock file and state.json (read, validate,
 * replace atomically). */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "util.h"

#define STATE_FILE	"state.json"
#define STATE_LOCKFILE	"tendd.lock"
/* Far beyond any real state; a bigger file is not ours. */
#define STATE_MAX	(64 * 1024 * 1024)

struct state_lock {
	int	 fd;
	char	*path;
};

static const char *state_want_names[] = {
	[STATE_WANT_UP] = "up",
	[STATE_WANT_DOWN] = "down",
};

/* mkdir -p, creating missing components 0700. */
static int
state_mkdirs(const char *dir, char *err, size_t errlen)
{
	char	*copy, *p;
	int	 rc = 0;

	if (*dir == '\0') {
		snprintf(err, errlen, "state_dir is empty");
		errno = EINVAL;
		return -1;
	}
	copy = xstrdup(dir);
	for (p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (p[-1] != '/') {
			char	 c = *p;

			*p = '\0';
			if (mkdir(copy, 0700) == -1 && errno != EEXIST) {
				snprintf(err, errlen, "mkdir %s: %s", copy,
				    strerror(errno));
				rc = -1;
				break;
			}
			*p = c;
		}
		if (*p == '\0')
			break;
	}
	free(copy);
	return rc;
}

struct state_lock *
state_lock(const char *dir, bool *busy, pid_t *other, char *err,
    size_t errlen)
{
	struct state_lock	*l;
	char			*path, buf[32];
	ssize_t			 n;
	size_t			 len;
	long			 pid;
	int			 fd, saved;

	if (busy != NULL)
		*busy = false;
	if (other != NULL)
		*other = 0;
	if (state_mkdirs(dir, err, errlen) == -1)
		return NULL;
	xasprintf(&path, "%s/%s", dir, STATE_LOCKFILE);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0600)) == -1) {
		saved = errno;
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		free(path);
		errno = saved;
		return NULL;
	}
	/* The holder's pid, or the last holder's. */
	n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	pid = strtol(buf, NULL, 10);
	if (other != NULL && pid > 0 && pid <= INT32_MAX)
		*other = (pid_t)pid;
	/* Per open file description: a second open in this process conflicts
	   too. The lock goes with the fd, also when tendd dies. */
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		saved = errno;
		if (saved == EWOULDBLOCK) {
			if (busy != NULL)
				*busy = true;
			if (pid > 0)
				snprintf(err, errlen, "state_dir %s is in use "
				    "by another tendd (pid %ld)", dir, pid);
			else
				snprintf(err, errlen, "state_dir %s is in use "
				    "by another tendd", dir);
		} else
			snprintf(err, errlen, "flock %s: %s", path,
			    strerror(saved));
		close(fd);
		free(path);
		errno = saved;
		return NULL;
	}
	len = (size_t)snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	saved = 0;
	if (ftruncate(fd, 0) == -1)
		saved = errno;
	else if ((n = pwrite(fd, buf, len, 0)) == -1 || (size_t)n != len)
		saved = n == -1 ? errno : EIO;
	if (saved != 0) {
		snprintf(err, errlen, "write %s: %s", path, strerror(saved));
		close(fd);
		free(path);
		errno = saved;
		return NULL;
	}
	l = xcalloc(1, sizeof *l);
	l->fd = fd;
	l->path = path;
	return l;
}

void
state_unlock(struct state_lock *l)
{
	if (l == NULL)
		return;
	/* Closing drops the lock. The file stays: unlinking it would let a
	   new tendd lock a fresh file while another still holds the old. */
	if (l->fd != -1)
		close(l->fd);
	free(l->path);
	free(l);
}

struct state_instance *
state_add(struct state *st, const char *program, unsigned index)
{
	struct state_instance	*si;

	st->v = xreallocarray(st->v, st->n + 1, sizeof *st->v);
	si = &st->v[st->n++];
	memset(si, 0, sizeof *si);
	si->program = xstrdup(program);
	si->index = index;
	si->want = STATE_WANT_NONE;
	return si;
}

const struct state_instance *
state_find(const struct state *st, const char *program, unsigned index)
{
	size_t	 i;

	for (i = 0; i < st->n; i++) {
		if (st->v[i].index == index &&
		    strcmp(st->v[i].program, program) == 0)
			return &st->v[i];
	}
	return NULL;
}

void
state_clear(struct state *st)
{
	size_t	 i;

	for (i = 0; i < st->n; i++)
		free(st->v[i].program);
	free(st->v);
	memset(st, 0, sizeof *st);
}

json_t *
state_to_json(const struct state *st)
{
	const struct state_instance	*si;
	json_t				*root, *list, *o;
	char				 hash[17];
	size_t				 i;
	int				 bad = 0;

	root = json_object();
	list = json_array();
	if (root == NULL || list == NULL) {
		json_decref(root);
		json_decref(list);
		return NULL;
	}
	bad |= json_object_set_new(root, "version",
	    json_integer(STATE_VERSION));
	bad |= json_object_set_new(root, "boot_id", json_string(st->boot_id));
	bad |= json_object_set_new(root, "tendd_pid",
	    json_integer(st->tendd_pid));
	if (st->events_next != 0)
		bad |= json_object_set_new(root, "events_next",
		    json_integer((json_int_t)st->events_next));
	bad |= json_object_set_new(root, "instances", list);
	for (i = 0; i < st->n && !bad; i++) {
		si = &st->v[i];
		if ((o = json_object()) == NULL) {
			bad = -1;
			break;
		}
		snprintf(hash, sizeof hash, "%016" PRIx64, si->conf_hash);
		bad |= json_object_set_new(o, "program",
		    json_string(si->program));
		bad |= json_object_set_new(o, "index", json_integer(si->index));
		/* No process is null, never 0: a pid is always positive. */
		bad |= json_object_set_new(o, "pid", si->pid > 0 ?
		    json_integer(si->pid) : json_null());
		bad |= json_object_set_new(o, "starttime",
		    json_integer((json_int_t)si->starttime));
		bad |= json_object_set_new(o, "want",
		    si->want == STATE_WANT_UP || si->want == STATE_WANT_DOWN ?
		    json_string(state_want_names[si->want]) : json_null());
		bad |= json_object_set_new(o, "conf_hash", json_string(hash));
		bad |= json_array_append_new(list, o);
	}
	if (bad) {
		/* Only out of memory or a program name that is not UTF-8. */
		json_decref(root);
		errno = EINVAL;
		return NULL;
	}
	return root;
}

/* An integer member in [min, max]. */
static int
state_json_int(const json_t *o, const char *key, json_int_t min,
    json_int_t max, json_int_t *v, const char *where, char *err,
    size_t errlen)
{
	const json_t	*j = json_object_get(o, key);

	if (j == NULL) {
		snprintf(err, errlen, "%smissing \"%s\"", where, key);
		return -1;
	}
	if (!json_is_integer(j)) {
		snprintf(err, errlen, "%s\"%s\" is not an integer", where, key);
		return -1;
	}
	*v = json_integer_value(j);
	if (*v < min || *v > max) {
		snprintf(err, errlen, "%s\"%s\" is out of range (%lld)", where,
		    key, (long long)*v);
		return -1;
	}
	return 0;
}

static int
state_json_hash(const char *s, uint64_t *v)
{
	uint64_t	 x = 0;
	int		 i, d;

	for (i = 0; i < 16; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		x = (x << 4) | (uint64_t)d;
	}
	if (s[16] != '\0')
		return -1;
	*v = x;
	return 0;
}

static int
state_json_instance(const json_t *o, size_t idx, struct state *st,
    char *err, size_t errlen)
{
	struct state_instance	*si;
	const json_t		*j;
	const char		*program, *s;
	json_int_t		 v;
	char			 where[64];

	snprintf(where, sizeof where, "instances[%zu]: ", idx);
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%snot an object", where);
		return -1;
	}
	j = json_object_get(o, "program");
	if (!json_is_string(j) || !util_valid_name(json_string_value(j))) {
		snprintf(err, errlen, "%s\"program\" is %s", where, j == NULL ?
		    "missing" : "not a valid program name");
		return -1;
	}
	program = json_string_value(j);
	if (state_json_int(o, "index", 0, UINT_MAX, &v, where, err,
	    errlen) == -1)
		return -1;
	si = state_add(st, program, (unsigned)v);

	/* No process: null (what we write) or 0. */
	j = json_object_get(o, "pid");
	if (json_is_null(j))
		si->pid = 0;
	else if (state_json_int(o, "pid", 0, INT_MAX, &v, where, err,
	    errlen) == -1)
		return -1;
	else
		si->pid = (pid_t)v;

	if (state_json_int(o, "starttime", 0, LLONG_MAX, &v, where,
	    err, errlen) == -1)
		return -1;
	si->starttime = (uint64_t)v;

	j = json_object_get(o, "want");
	if (j == NULL) {
		snprintf(err, errlen, "%smissing \"want\"", where);
		return -1;
	}
	s = json_string_value(j);
	if (json_is_null(j))
		si->want = STATE_WANT_NONE;
	else if (s != NULL && strcmp(s, "up") == 0)
		si->want = STATE_WANT_UP;
	else if (s != NULL && strcmp(s, "down") == 0)
		si->want = STATE_WANT_DOWN;
	else {
		snprintf(err, errlen, "%s\"want\" is not \"up\", \"down\" or "
		    "null", where);
		return -1;
	}

	j = json_object_get(o, "conf_hash");
	if (!json_is_string(j) ||
	    state_json_hash(json_string_value(j), &si->conf_hash) == -1) {
		snprintf(err, errlen, "%s\"conf_hash\" is %s", where,
		    j == NULL ? "missing" : "not 16 hex digits");
		return -1;
	}
	return 0;
}

static int
state_cmp(const void *a, const void *b)
{
	const struct state_instance	*x, *y;
	int				 c;

	x = *(const struct state_instance *const *)a;
	y = *(const struct state_instance *const *)b;

	if ((c = strcmp(x->program, y->program)) != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Sort pointers, not the records: the file's order is kept. */
static int
state_check_unique(const struct state *st, char *err, size_t errlen)
{
	const struct state_instance	**p;
	size_t				  i;
	int				  rc = 0;

	if (st->n < 2)
		return 0;
	p = xreallocarray(NULL, st->n, sizeof *p);
	for (i = 0; i < st->n; i++)
		p[i] = &st->v[i];
	qsort(p, st->n, sizeof *p, state_cmp);
	for (i = 1; i < st->n; i++) {
		if (state_cmp(&p[i - 1], &p[i]) == 0) {
			snprintf(err, errlen, "instance %s:%u is listed twice",
			    p[i]->program, p[i]->index);
			rc = -1;
			break;
		}
	}
	free(p);
	return rc;
}

int
state_from_json(const json_t *root, struct state *st, char *err,
    size_t errlen)
{
	struct state	 tmp;
	const json_t	*j;
	json_int_t	 v;
	size_t		 i;

	memset(st, 0, sizeof *st);
	memset(&tmp, 0, sizeof tmp);
	if (!json_is_object(root)) {
		snprintf(err, errlen, "not a JSON object");
		goto fail;
	}
	j = json_object_get(root, "version");
	if (j == NULL) {
		snprintf(err, errlen, "missing \"version\"");
		goto fail;
	}
	if (!json_is_integer(j) || json_integer_value(j) != STATE_VERSION) {
		snprintf(err, errlen, "unsupported version (want %d)",
		    STATE_VERSION);
		goto fail;
	}

	j = json_object_get(root, "boot_id");
	if (!json_is_string(j) ||
	    json_string_length(j) >= sizeof tmp.boot_id ||
	    strlen(json_string_value(j)) != json_string_length(j)) {
		snprintf(err, errlen, "\"boot_id\" is %s", j == NULL ?
		    "missing" : "not a boot id string");
		goto fail;
	}
	memcpy(tmp.boot_id, json_string_value(j), json_string_length(j) + 1);

	if (state_json_int(root, "tendd_pid", 0, INT_MAX, &v, "", err,
	    errlen) == -1)
		goto fail;
	tmp.tendd_pid = (pid_t)v;
	/* Not in files from before the change stream. */
	if (json_object_get(root, "events_next") != NULL) {
		if (state_json_int(root, "events_next", 0, INT64_MAX, &v, "",
		    err, errlen) == -1)
			goto fail;
		tmp.events_next = (uint64_t)v;
	}

	j = json_object_get(root, "instances");
	if (!json_is_array(j)) {
		snprintf(err, errlen, "\"instances\" is %s", j == NULL ?
		    "missing" : "not an array");
		goto fail;
	}
	for (i = 0; i < json_array_size(j); i++) {
		if (state_json_instance(json_array_get(j, i), i, &tmp, err,
		    errlen) == -1)
			goto fail;
	}
	if (state_check_unique(&tmp, err, errlen) == -1)
		goto fail;
	*st = tmp;
	return 0;

fail:
	state_clear(&tmp);
	errno = EINVAL;
	return -1;
}

/* Read the whole file, at most STATE_MAX bytes. */
static char *
state_read(int fd, size_t *lenp)
{
	struct stat	 sb;
	char		*buf;
	size_t		 len = 0, size;
	ssize_t		 n;

	if (fstat(fd, &sb) == -1)
		return NULL;
	if (!S_ISREG(sb.st_mode)) {
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		return NULL;
	}
	if (sb.st_size > STATE_MAX) {
		errno = EFBIG;
		return NULL;
	}
	/* One more than the size seen, to notice growth. */
	size = (size_t)sb.st_size + 1;
	buf = xmalloc(size);
	for (;;) {
		if (len == size) {
			if (size > STATE_MAX) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			size = size > STATE_MAX / 2 ? STATE_MAX + 1 : size * 2;
			buf = xreallocarray(buf, size, 1);
		}
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > STATE_MAX) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	*lenp = len;
	return buf;
}

int
state_load(const char *dir, struct state *st, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*root;
	char		*path, *buf, msg[256];
	size_t		 len;
	int		 fd, saved, rc;

	memset(st, 0, sizeof *st);
	xasprintf(&path, "%s/%s", dir, STATE_FILE);
	/* O_NONBLOCK: a FIFO in its place must not hang us. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1) {
		saved = errno;
		rc = 0;
		if (saved != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(saved));
			rc = -1;
		}
		free(path);
		errno = saved;
		return rc;
	}
	buf = state_read(fd, &len);
	saved = errno;
	close(fd);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: %s", path, saved == EFBIG ?
		    "larger than 64 MiB" : strerror(saved));
		free(path);
		errno = saved;
		return -1;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (root == NULL) {
		snprintf(err, errlen, "%s: line %d: %s", path, jerr.line,
		    jerr.text);
		free(path);
		errno = EINVAL;
		return -1;
	}
	rc = state_from_json(root, st, msg, sizeof msg);
	json_decref(root);
	if (rc == -1) {
		snprintf(err, errlen, "%s: %s", path, msg);
		errno = EINVAL;
	}
	free(path);
	return rc;
}

static int
state_write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
state_save(const char *dir, const struct state *st, bool sync, char *err,
    size_t errlen)
{
	json_t	*root;
	char	*path = NULL, *tmp = NULL, *s, *text = NULL;
	int	 fd = -1, dfd, saved;

	if ((root = state_to_json(st)) == NULL) {
		snprintf(err, errlen, "%s/%s: cannot encode the state", dir,
		    STATE_FILE);
		errno = EINVAL;
		return -1;
	}
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (s == NULL) {
		snprintf(err, errlen, "%s/%s: cannot encode the state", dir,
		    STATE_FILE);
		errno = ENOMEM;
		return -1;
	}
	xasprintf(&text, "%s\n", s);
	free(s);

	xasprintf(&path, "%s/%s", dir, STATE_FILE);
	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
	    0600);
	if (fd == -1) {
		saved = errno;
		snprintf(err, errlen, "open %s: %s", tmp, strerror(saved));
		goto fail;
	}
	if (state_write_all(fd, text, strlen(text)) == -1) {
		saved = errno;
		snprintf(err, errlen, "write %s: %s", tmp, strerror(saved));
		goto fail;
	}
	if (sync && fsync(fd) == -1) {
		saved = errno;
		snprintf(err, errlen, "fsync %s: %s", tmp, strerror(saved));
		goto fail;
	}
	/* close can report a delayed write error (NFS). */
	if (close(fd) == -1) {
		fd = -1;
		saved = errno;
		snprintf(err, errlen, "close %s: %s", tmp, strerror(saved));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		saved = errno;
		snprintf(err, errlen, "rename %s to %s: %s", tmp, path,
		    strerror(saved));
		goto fail;
	}
	/* The rename is durable only once the directory is. The new file is
	   in place already, so a failure here leaves nothing to undo. */
	if (sync) {
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
		    -1 || fsync(dfd) == -1) {
			saved = errno;
			snprintf(err, errlen, "fsync %s: %s", dir,
			    strerror(saved));
			if (dfd != -1)
				close(dfd);
			free(text);
			free(tmp);
			free(path);
			errno = saved;
			return -1;
		}
		close(dfd);
	}
	free(text);
	free(tmp);
	free(path);
	return 0;

fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(text);
	free(tmp);
	free(path);
	errno = saved;
	return -1;
}
