/*
 * control.c: the control socket: bind (replacing a stale socket, refusing a
 * live one), accept with peer credentials, bounded framing, dispatch.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdint.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "control.h"
#include "log.h"
#include "procfs.h"
#include "proto.h"
#include "util.h"

/*
 * Messages up to this size are copied into the client's queue, which
 * packs them into chains of 8 KiB; larger ones go by reference. Each
 * reference takes a chain of its own, which libevent makes at least
 * 1 KiB: a follower's 1 MiB of queued 230-byte lines took 5.8 MiB.
 */
#define CONTROL_COPY_MAX	(16 * 1024)
/* After a reply this large has gone, the heap goes back to the system. */
#define CONTROL_TRIM_AFTER	(16 * 1024)
/* No new request of a client is read while this much of its output
   waits: a client that pipelines requests and reads no reply holds at
   most one reply. */
#define CONTROL_OUT_HIGH	(64 * 1024)
/* A client whose queued output passes this (one huge reply, or events
   it does not read) is dropped. */
#define CONTROL_MAX_OUTPUT	(16 * 1024 * 1024)
/* A request must be whole this long after its first byte. */
#define CONTROL_PARTIAL_TIMEOUT	10
/* Descriptors kept free of read-only clients: this many, plus
   CONTROL_FDS_PER_INSTANCE for each instance (its pipes, its cgroup, a
   pidfd, and what a start takes). */
#define CONTROL_FDS_BASE	32
#define CONTROL_FDS_PER_INSTANCE 4
#define CONTROL_BACKLOG		128

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS		59
#endif

TAILQ_HEAD(client_list, client);

struct control {
	struct event_base	*base;
	struct control_hooks	 hooks;
	pid_t			 predecessor;
	char			*path;
	struct evconnlistener	*listener;
	struct event		*ev_resume;	/* re-enable accept after EMFILE */
	struct event		*ev_dead;	/* free clients marked dead */
	struct client_list	 clients;
	unsigned		 nclients;
	unsigned		 nreadonly;	/* of them, not privileged */
	int			 spare;		/* /dev/null, given up to take
						   a client when tendd is out
						   of descriptors; -1 */
	bool			 trim;		/* a dead client held a lot */
	bool			 has_group;
	gid_t			 gid;
	bool			 adopted;	/* systemd's socket */
};

static void	control_client_free(struct client *);
static void	control_client_kill(struct client *);
static bool	control_peer_privileged(struct control *, uid_t, gid_t,
		    const gid_t *, int);
static void	control_read_cb(struct bufferevent *, void *);

void *
control_ctx(const struct control *c)
{
	return c->hooks.ctx;
}

static int	control_bind(const char *, mode_t, pid_t, char *, size_t)
		    __attribute__((nonnull(1, 4)));

/*
 * Who listens on the socket probe is connected to: is it a tendd that is
 * gone? A listening socket outlives its tendd while a child it was
 * starting still shares its descriptors (until that child execs), and it
 * still takes connections meanwhile. The peer is the process that
 * listened: gone, or the last tendd of our state_dir (whose lock we now
 * hold, so it is ending), means a stale socket.
 */
static bool
control_peer_gone(int probe, pid_t predecessor)
{
	struct procfs_stat	 st;
	struct ucred		 uc;
	socklen_t		 len = sizeof uc;

	if (getsockopt(probe, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    uc.pid <= 0)
		return false;
	if (predecessor > 0 && uc.pid == predecessor)
		return true;
	if (procfs_read_stat(uc.pid, &st) == -1)
		return errno == ENOENT || errno == ESRCH;
	return st.state == 'Z' || st.state == 'X';
}

static int
control_bind(const char *path, mode_t mode, pid_t predecessor, char *err,
    size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 oldmask;
	const char		*where;
	char			*dir, *slash, *tmp;
	int			 fd, probe;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);

	/*
	 * Create the parent directory if it is missing (one level): 0755 for
	 * root's /run/tend, 0700 for a user's. A directory someone else owns
	 * (say /tmp/tend-UID made by another user) is refused: its owner
	 * could swap the socket.
	 */
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, geteuid() == 0 ? 0755 : 0700) == -1 &&
		    errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir,
			    strerror(errno));
			free(dir);
			return -1;
		}
		if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
		    (st.st_uid != geteuid() && st.st_uid != 0)) {
			snprintf(err, errlen, "socket directory %s is not a "
			    "directory owned by uid %u or root", dir,
			    (unsigned)geteuid());
			free(dir);
			return -1;
		}
	}
	free(dir);

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket",
			    path);
			return -1;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe != -1 && connect(probe, (struct sockaddr *)&sun,
		    sizeof sun) == 0 && !control_peer_gone(probe,
		    predecessor)) {
			close(probe);
			snprintf(err, errlen, "another tendd is running on %s",
			    path);
			return -1;
		}
		if (probe != -1)
			close(probe);
		/* Nobody listens: a stale socket left by a dead tendd,
		   replaced below. */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * Bound and listening under a name of its own, then renamed into
	 * place: the path always leads to a socket that listens (the old
	 * one, then the new), so a client never meets one bound but not
	 * yet listening (ECONNREFUSED) or no socket at all (ENOENT). A path
	 * too long for the temporary name is replaced in place.
	 */
	tmp = NULL;
	if (strlen(path) + 16 < sizeof sun.sun_path) {
		xasprintf(&tmp, "%s.%d.new", path, (int)getpid());
		(void)unlink(tmp);
		memcpy(sun.sun_path, tmp, strlen(tmp) + 1);
	} else if (unlink(path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove stale socket %s: %s",
		    path, strerror(errno));
		close(fd);
		return -1;
	}
	where = tmp != NULL ? tmp : path;
	/* Never let the socket exist with a looser mode than asked. */
	oldmask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		umask(oldmask);
		snprintf(err, errlen, "bind %s: %s", where, strerror(errno));
		goto fail;
	}
	umask(oldmask);
	if (chmod(where, mode) == -1) {
		snprintf(err, errlen, "chmod %s: %s", where, strerror(errno));
		goto unlink;
	}
	if (listen(fd, CONTROL_BACKLOG) == -1) {
		snprintf(err, errlen, "listen %s: %s", where, strerror(errno));
		goto unlink;
	}
	if (tmp != NULL && rename(tmp, path) == -1) {
		snprintf(err, errlen, "rename %s to %s: %s", tmp, path,
		    strerror(errno));
		goto unlink;
	}
	free(tmp);
	return fd;

unlink:
	unlink(where);
fail:
	close(fd);
	free(tmp);
	return -1;
}

/* Who may change things is decided again for every client: a
   connection keeps no right the configuration no longer gives. */
static void
control_recheck(struct control *c)
{
	struct client	*cl;
	bool		 priv;

	TAILQ_FOREACH(cl, &c->clients, entry) {
		priv = control_peer_privileged(c, cl->uid, cl->gid,
		    cl->groups, cl->ngroups);
		if (priv == cl->privileged)
			continue;
		if (priv)
			c->nreadonly--;
		else
			c->nreadonly++;
		cl->privileged = priv;
	}
}

void
control_set_mode(struct control *c, mode_t mode, const char *group, gid_t gid)
{
	if (c->adopted) {
		/* systemd's SocketMode= and SocketGroup= rule the file. */
		if (group != NULL) {
			c->has_group = true;
			c->gid = gid;
		}
		control_recheck(c);
		return;
	}
	c->has_group = group != NULL;
	c->gid = gid;
	control_recheck(c);
	if (group != NULL && chown(c->path, (uid_t)-1, gid) == -1)
		log_warn("chown %s to group %s", c->path, group);
	if (chmod(c->path, mode) == -1)
		log_warn("chmod %s", c->path);
}

/* Is the peer root, our own user, or in the socket group? */
static bool
control_peer_privileged(struct control *c, uid_t uid, gid_t gid,
    const gid_t *groups, int ngroups)
{
	int	 i;

	if (uid == 0 || uid == geteuid())
		return true;
	if (!c->has_group)
		return false;
	if (gid == c->gid)
		return true;
	for (i = 0; i < ngroups; i++) {
		if (groups[i] == c->gid)
			return true;
	}
	return false;
}

/* The peer's supplementary groups at connect time (malloc'd). */
static int
control_peer_groups(int fd, gid_t **out)
{
	gid_t		 groups[256];
	socklen_t	 len = sizeof groups;
	int		 n;

	*out = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == -1)
		return 0;
	if ((n = (int)(len / sizeof groups[0])) > 0) {
		*out = xcalloc((size_t)n, sizeof groups[0]);
		memcpy(*out, groups, (size_t)n * sizeof groups[0]);
	}
	return n;
}

size_t
control_pending(const struct client *cl)
{
	return evbuffer_get_length(bufferevent_get_output(cl->bev));
}

/* A reply has gone out (or its client with it). After a large one, give
   the memory that built it back to the system: glibc keeps freed heap
   otherwise, and tendd's footprint would be its largest reply's. */
static void
control_sent_cb(const void *data, size_t datalen, void *arg)
{
	free((void *)(uintptr_t)data);
	if ((uintptr_t)arg >= CONTROL_TRIM_AFTER)
		malloc_trim(0);
}

void
control_send(struct client *cl, json_t *msg)
{
	struct evbuffer	*out;
	char		*buf;
	size_t		 len;
	json_t		*id;

	if (cl->flags & (CLIENT_CLOSING | CLIENT_DEAD)) {
		json_decref(msg);
		return;
	}
	if ((buf = proto_encode(msg, &len)) == NULL) {
		id = json_object_get(msg, "id");
		json_decref(msg);
		msg = proto_reply_error(json_integer_value(id),
		    PROTO_E_TOO_LARGE, "reply larger than %d bytes; ask for "
		    "fewer instances", PROTO_MAX_MSG);
		if ((buf = proto_encode(msg, &len)) == NULL)
			fatalx("cannot encode an error reply");
	}
	json_decref(msg);
	out = bufferevent_get_output(cl->bev);
	if (evbuffer_get_length(out) + len > CONTROL_MAX_OUTPUT) {
		log_warnx("client pid %d does not read what it is sent (%zu "
		    "bytes waiting); dropping it", (int)cl->pid,
		    evbuffer_get_length(out));
		control_client_kill(cl);
		free(buf);
		return;
	}
	if (len <= CONTROL_COPY_MAX) {
		if (evbuffer_add(out, buf, len) == -1)
			control_client_kill(cl);
		free(buf);
		return;
	}
	/* By reference: a status of thousands of instances is hundreds of
	   KiB, not worth a second copy. */
	if (evbuffer_add_reference(out, buf, len, control_sent_cb,
	    (void *)(uintptr_t)len) == -1) {
		free(buf);
		control_client_kill(cl);
	}
}

/*
 * control_send, but written to the socket at once when nothing is queued
 * before it (what the socket does not take is queued): for a reply that
 * goes out in parts while tendd works on the next (status with "stream"),
 * which bufferevent would otherwise send all together once tendd is back
 * in the loop.
 */
void
control_send_now(struct client *cl, json_t *msg)
{
	struct evbuffer	*out;
	char		*buf;
	size_t		 len;
	ssize_t		 w;

	out = bufferevent_get_output(cl->bev);
	if ((cl->flags & (CLIENT_CLOSING | CLIENT_DEAD)) ||
	    evbuffer_get_length(out) > 0 ||
	    (buf = proto_encode(msg, &len)) == NULL) {
		control_send(cl, msg);
		return;
	}
	json_decref(msg);
	do
		w = send(bufferevent_getfd(cl->bev), buf, len,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	while (w == -1 && errno == EINTR);
	/* A full socket, or an error bufferevent will meet and report. */
	if (w == -1)
		w = 0;
	if ((size_t)w < len && evbuffer_add(out, buf + w, len - (size_t)w) ==
	    -1)
		control_client_kill(cl);
	free(buf);
}

void
control_error(struct client *cl, json_int_t id, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	control_send(cl, proto_reply_error(id, code, "%s", msg));
	free(msg);
}

static void
control_dispatch(struct client *cl, const char *line, size_t len)
{
	const struct control_cmd *ce;
	struct proto_request	 req;
	struct control		*c = cl->control;
	const char		*code;
	char			 err[256];
	json_t			*m;

	if (proto_decode_request(line, len, &m, &req, &code, err,
	    sizeof err) == -1) {
		control_error(cl, req.id, code, "%s", err);
		json_decref(m);
		return;
	}
	if ((ce = c->hooks.find(req.cmd)) == NULL) {
		control_error(cl, req.id, PROTO_E_UNKNOWN_COMMAND,
		    "unknown command '%.64s'", req.cmd);
	} else if (ce->mutating && !control_peer_privileged(cl->control,
	    cl->uid, cl->gid, cl->groups, cl->ngroups)) {
		control_error(cl, req.id, PROTO_E_PERMISSION,
		    "permission denied: uid %u may only read status (%s needs "
		    "root, tendd's user or the socket group)",
		    (unsigned)cl->uid, ce->name);
	} else if (ce->mutating && c->hooks.stopping(c->hooks.ctx)) {
		control_error(cl, req.id, PROTO_E_SHUTTING_DOWN,
		    "tendd is shutting down");
	} else {
		if (ce->mutating)
			c->hooks.announce(cl, ce->name, req.args,
			    c->hooks.ctx);
		ce->fn(cl, req.id, req.args);
	}
	json_decref(m);
}

static void
control_partial_cb(evutil_socket_t fd, short events, void *arg)
{
	struct client	*cl = arg;

	if (cl->flags & (CLIENT_CLOSING | CLIENT_DEAD))
		return;
	log_warnx("client pid %d sent only part of a request in %d s; "
	    "closing", (int)cl->pid, CONTROL_PARTIAL_TIMEOUT);
	control_error(cl, 0, PROTO_E_SLOW, "request not complete within "
	    "%d s; closing the connection", CONTROL_PARTIAL_TIMEOUT);
	cl->flags |= CLIENT_CLOSING;
	control_read_cb(cl->bev, cl);
}

/* Is nothing more to go to the client (no reply held, no follow)? */
static bool
control_client_done(struct client *cl)
{
	return TAILQ_EMPTY(&cl->waiters) && !cl->control->hooks.client_busy(cl) &&
	    control_pending(cl) == 0;
}

void
control_client_idle(struct client *cl)
{
	if ((cl->flags & CLIENT_EOF) && !(cl->flags & CLIENT_DEAD) &&
	    control_client_done(cl))
		control_client_kill(cl);
}

/*
 * Dispatch the whole requests in the input, as long as the client reads
 * what it is sent: with more than CONTROL_OUT_HIGH of its output waiting,
 * the rest waits in its input (the socket's watermark stops reading at a
 * frame's worth), and is taken up again once the output drains.
 */
static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct client	*cl = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct evbuffer_ptr eol;
	struct timeval	 tv = { CONTROL_PARTIAL_TIMEOUT, 0 };
	char		*line;
	size_t		 len;

	while (!(cl->flags & (CLIENT_CLOSING | CLIENT_DEAD)) &&
	    control_pending(cl) < CONTROL_OUT_HIGH) {
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (line == NULL)
			break;
		/* A frame is at most PROTO_MAX_MSG bytes with its newline;
		   a longer one ends the connection, as a frame that never
		   ends does. */
		if (len >= PROTO_MAX_MSG) {
			free(line);
			control_error(cl, 0, PROTO_E_TOO_LARGE, "message "
			    "longer than %d bytes; closing the connection",
			    PROTO_MAX_MSG);
			cl->flags |= CLIENT_CLOSING;
			break;
		}
		control_dispatch(cl, line, len);
		free(line);
	}
	if (!(cl->flags & (CLIENT_CLOSING | CLIENT_DEAD)) &&
	    evbuffer_get_length(in) >= PROTO_MAX_MSG) {
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		/* No whole frame within the limit ahead (with its
		   newline, a frame may be PROTO_MAX_MSG bytes). */
		if (eol.pos == -1 || eol.pos >= PROTO_MAX_MSG) {
			control_error(cl, 0, PROTO_E_TOO_LARGE, "message "
			    "longer than %d bytes; closing the connection",
			    PROTO_MAX_MSG);
			cl->flags |= CLIENT_CLOSING;
		}
	}
	if (cl->flags & CLIENT_CLOSING) {
		bufferevent_disable(bev, EV_READ);
		evbuffer_drain(in, evbuffer_get_length(in));
		if (cl->ev_partial != NULL)
			evtimer_del(cl->ev_partial);
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			control_client_kill(cl);
		return;
	}
	if (cl->flags & CLIENT_DEAD)
		return;
	/* Part of a request, and no whole one behind the output: the rest
	   must come in time (a slow sender holds memory and a slot). */
	if (evbuffer_get_length(in) > 0 &&
	    evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF).pos == -1) {
		if (!evtimer_pending(cl->ev_partial, NULL))
			evtimer_add(cl->ev_partial, &tv);
	} else
		evtimer_del(cl->ev_partial);
	if (evbuffer_get_length(in) == 0)
		control_client_idle(cl);
}

static void
control_write_cb(struct bufferevent *bev, void *arg)
{
	struct client	*cl = arg;

	if (cl->flags & CLIENT_CLOSING)
		control_client_kill(cl);
	else if (!(cl->flags & CLIENT_DEAD)) {
		cl->control->hooks.client_drained(cl);
		/* Requests held back while the output waited. */
		if (!(cl->flags & CLIENT_DEAD) &&
		    evbuffer_get_length(bufferevent_get_input(bev)) > 0)
			control_read_cb(bev, cl);
		else
			control_client_idle(cl);
	}
}

static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client	*cl = arg;

	if (what & BEV_EVENT_ERROR) {
		control_client_kill(cl);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* It has said all it will (a shutdown of its writing side):
		   what it asked is still answered. */
		cl->flags |= CLIENT_EOF;
		bufferevent_disable(bev, EV_READ);
		if (cl->ev_partial != NULL)
			evtimer_del(cl->ev_partial);
		control_read_cb(bev, cl);
	}
}

/* Mark a client dead; it is freed from the loop, outside any callback of
   its own, and nothing is sent to it any more. */
static void
control_client_kill(struct client *cl)
{
	if (cl->flags & CLIENT_DEAD)
		return;
	cl->flags |= CLIENT_DEAD;
	bufferevent_disable(cl->bev, EV_READ | EV_WRITE);
	event_active(cl->control->ev_dead, 0, 0);
}

static void
control_dead_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*c = arg;
	struct client	*cl, *next;

	for (cl = TAILQ_FIRST(&c->clients); cl != NULL; cl = next) {
		next = TAILQ_NEXT(cl, entry);
		if (cl->flags & CLIENT_DEAD)
			control_client_free(cl);
	}
	/* Clients that left with much in their buffers: give the heap
	   back, or tendd keeps the size of the largest burst. */
	if (c->trim) {
		c->trim = false;
		malloc_trim(0);
	}
}

static void
control_client_free(struct client *cl)
{
	struct control	*c = cl->control;

	cl->control->hooks.client_gone(cl);
	TAILQ_REMOVE(&c->clients, cl, entry);
	c->nclients--;
	if (!cl->privileged)
		c->nreadonly--;
	if (evbuffer_get_length(bufferevent_get_input(cl->bev)) +
	    evbuffer_get_length(bufferevent_get_output(cl->bev)) >=
	    CONTROL_TRIM_AFTER)
		c->trim = true;
	if (cl->ev_partial != NULL)
		event_free(cl->ev_partial);
	bufferevent_free(cl->bev);
	free(cl->groups);
	free(cl);
}

/* Say why, and close: the client reads an error reply instead of
   waiting (a try at once; it is a few bytes on a new socket). */
static void	control_refuse(int, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
control_refuse(int fd, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*m;
	char	*msg, *buf, drain[4096];
	size_t	 len;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	m = proto_reply_error(0, PROTO_E_BUSY, "%s", msg);
	if ((buf = proto_encode(m, &len)) != NULL) {
		(void)!send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		free(buf);
	}
	json_decref(m);
	free(msg);
	/* Read what it sent already: a socket closed with unread data
	   resets the peer's, which may lose the reply. */
	while (recv(fd, drain, sizeof drain, MSG_DONTWAIT) > 0)
		;
	close(fd);
}

/* How many descriptors tendd may have open. */
static long
control_fd_limit(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return 1L << 20;
	return (long)rl.rlim_cur;
}

/*
 * Take a new connection. Read-only peers get at most three quarters of
 * max_clients, and none while fewer descriptors are free than tendd's
 * programs need to start; the rest is kept for root, tendd's user and
 * the socket group. starved: accept() had failed for want of
 * descriptors (the spare one was given up for this one).
 */
static void
control_take(struct control *c, int fd, bool starved)
{
	struct client	*cl;
	struct ucred	 uc;
	socklen_t	 len = sizeof uc;
	gid_t		*groups;
	unsigned	 max = c->hooks.max_clients(c->hooks.ctx);
	long		 keep;
	int		 ngroups;
	bool		 priv;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1) {
		log_warn("SO_PEERCRED");
		close(fd);
		return;
	}
	/* Root and tendd's user are privileged whatever their groups. */
	groups = NULL;
	ngroups = 0;
	if (uc.uid != 0 && uc.uid != geteuid())
		ngroups = control_peer_groups(fd, &groups);
	priv = control_peer_privileged(c, uc.uid, uc.gid, groups, ngroups);
	keep = priv ? 0 : CONTROL_FDS_BASE +
	    CONTROL_FDS_PER_INSTANCE *
	    (long)c->hooks.ninstances(c->hooks.ctx);
	if (!priv && (starved || fd >= control_fd_limit() - keep)) {
		log_warnx("client pid %d uid %u refused: tendd keeps its last "
		    "descriptors for its programs and privileged clients",
		    (int)uc.pid, (unsigned)uc.uid);
		control_refuse(fd, "tendd is short of file descriptors; try "
		    "again later");
		free(groups);
		return;
	}
	if (c->nclients >= max || (!priv && c->nreadonly >= max - max / 4)) {
		log_warnx("client pid %d uid %u refused: %u clients connected "
		    "(max_clients %u)", (int)uc.pid, (unsigned)uc.uid,
		    c->nclients, max);
		control_refuse(fd, "tendd has too many clients (%u, "
		    "max_clients %u); try again later", c->nclients, max);
		free(groups);
		return;
	}
	cl = xcalloc(1, sizeof *cl);
	cl->control = c;
	cl->pid = uc.pid;
	cl->uid = uc.uid;
	cl->gid = uc.gid;
	cl->groups = groups;
	cl->ngroups = ngroups;
	cl->privileged = priv;
	TAILQ_INIT(&cl->waiters);
	cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	cl->ev_partial = evtimer_new(c->base, control_partial_cb, cl);
	if (cl->bev == NULL || cl->ev_partial == NULL) {
		log_warnx("cannot set up client pid %d", (int)uc.pid);
		if (cl->bev != NULL)
			bufferevent_free(cl->bev);
		else
			close(fd);
		if (cl->ev_partial != NULL)
			event_free(cl->ev_partial);
		free(groups);
		free(cl);
		return;
	}
	/* Stop reading once a whole frame's worth is pending. */
	bufferevent_setwatermark(cl->bev, EV_READ, 0, PROTO_MAX_MSG + 1);
	bufferevent_setcb(cl->bev, control_read_cb, control_write_cb,
	    control_event_cb, cl);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&c->clients, cl, entry);
	c->nclients++;
	if (!priv)
		c->nreadonly++;
	log_debug("client pid %d uid %u connected%s", (int)uc.pid,
	    (unsigned)uc.uid, cl->privileged ? "" : " (read-only)");
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control	*c = arg;

	control_take(c, fd, false);
	/* Given up for a privileged client earlier: take it back. */
	if (c->spare == -1)
		c->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
control_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*c = arg;

	evconnlistener_enable(c->listener);
}

/*
 * Out of descriptors, accept fails and the connection would wait in the
 * backlog, the operator's too: the spare descriptor is given up to take
 * it, tell a read-only peer to come back later, and serve a privileged
 * one (its descriptor is then the spare's, until one is free again).
 */
static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct control	*c = arg;
	struct timeval	 tv = { 0, 250 * 1000 };
	int		 e = EVUTIL_SOCKET_ERROR(), fd;

	if ((e == EMFILE || e == ENFILE) && c->spare != -1) {
		close(c->spare);
		c->spare = -1;
		fd = accept4(evconnlistener_get_fd(l), NULL, NULL,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1)
			control_take(c, fd, true);
		c->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd != -1)
			return;
		e = errno;
	}
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		log_warnx("accept: %s: pausing the control socket for 0.25s",
		    strerror(e));
		evconnlistener_disable(c->listener);
		evtimer_add(c->ev_resume, &tv);
		return;
	}
	log_warnx("accept: %s", strerror(e));
}

/* Listen on fd (bound and listening already). */
static struct control *
control_start(const struct control_params *cp, int fd, const char *path,
    char *err, size_t errlen)
{
	struct control	*c;

	c = xcalloc(1, sizeof *c);
	c->base = cp->base;
	c->hooks = cp->hooks;
	c->predecessor = cp->predecessor;
	c->path = xstrdup(path);
	TAILQ_INIT(&c->clients);
	c->listener = evconnlistener_new(c->base, control_accept_cb, c,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (c->listener == NULL) {
		snprintf(err, errlen, "cannot listen on %s", path);
		free(c->path);
		free(c);
		return NULL;
	}
	evconnlistener_set_error_cb(c->listener, control_accept_error_cb);
	c->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	c->ev_resume = evtimer_new(c->base, control_resume_cb, c);
	c->ev_dead = event_new(c->base, -1, 0, control_dead_cb, c);
	return c;
}

struct control *
control_adopt(const struct control_params *cp, int fd, const char *group,
    gid_t gid, char *err, size_t errlen)
{
	struct control		*c;
	struct sockaddr_un	 sun;
	socklen_t		 len = sizeof sun;
	struct stat		 st;
	const char		*path = "(socket from systemd)";

	memset(&sun, 0, sizeof sun);
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == 0 &&
	    sun.sun_path[0] != '\0')
		path = sun.sun_path;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "socket activation: fd %d: %s", fd,
		    strerror(errno));
		return NULL;
	}
	if ((c = control_start(cp, fd, path, err, errlen)) == NULL)
		return NULL;
	c->adopted = true;
	if (group != NULL) {
		c->has_group = true;
		c->gid = gid;
	} else if (stat(path, &st) == 0 && st.st_gid != 0) {
		/* SocketGroup= in the socket unit. */
		c->has_group = true;
		c->gid = st.st_gid;
	}
	log_info("listening on %s (passed by systemd)", path);
	return c;
}

struct control *
control_new(const struct control_params *cp, const char *path, mode_t mode,
    const char *group, gid_t gid, char *err, size_t errlen)
{
	struct control	*c;
	int		 fd;

	if ((fd = control_bind(path, mode, cp->predecessor, err, errlen)) ==
	    -1)
		return NULL;
	if ((c = control_start(cp, fd, path, err, errlen)) == NULL) {
		unlink(path);
		close(fd);
		return NULL;
	}
	if (group != NULL)
		control_set_mode(c, mode, group, gid);
	log_info("listening on %s", path);
	return c;
}

void
control_free(struct control *c)
{
	struct client	*cl;
	struct evbuffer	*out;

	if (c == NULL)
		return;
	while ((cl = TAILQ_FIRST(&c->clients)) != NULL) {
		/* Last words (the reply to shutdown): one try, no waiting. */
		if (!(cl->flags & CLIENT_DEAD)) {
			/* bufferevent keeps the front frozen outside its
			   own write path; it is about to be freed. */
			out = bufferevent_get_output(cl->bev);
			evbuffer_unfreeze(out, 1);
			(void)evbuffer_write(out, bufferevent_getfd(cl->bev));
		}
		control_client_free(cl);
	}
	evconnlistener_free(c->listener);
	event_free(c->ev_resume);
	event_free(c->ev_dead);
	if (c->spare != -1)
		close(c->spare);
	if (!c->adopted && unlink(c->path) == -1 && errno != ENOENT)
		log_warn("unlink %s", c->path);
	free(c->path);
	free(c);
}

int
control_arg_bool(struct client *cl, json_int_t id, json_t *args,
    const char *key, bool def, bool *out)
{
	json_t	*v = json_object_get(args, key);

	if (v == NULL) {
		*out = def;
		return 0;
	}
	if (!json_is_boolean(v)) {
		control_error(cl, id, PROTO_E_BAD_ARGS, "\"%s\" must be a "
		    "boolean", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}
