/*
 * main.c: tendctl: parse the command line, send one request, print the
 * reply, or the events of a streaming request until it ends.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "conf.h"
#include "ctl.h"
#include "proto.h"
#include "util.h"

/* One connection to tendd, for one request. */
struct main_conn {
	struct ctl_inv		*inv;		/* errors go through it */
	const char		*path;
	int			 fd;
	struct proto_buf	 buf;
	bool			 has_deadline;
	uint64_t		 deadline;	/* monotonic, usec */
	uint64_t		 timeout;	/* for the message */
	int			 out_fd;	/* streaming: stdout, to notice
						   its reader leave; else -1 */
};

/* main_send(): the connection was closed; what tendd sent may wait. */
#define MAIN_SEND_CLOSED	(-2)

/* main_poll() results besides 1 (ready), 0 (deadline) and -1 (error). */
#define MAIN_POLL_STOP		2	/* streaming only: a stop signal, or
					   stdout's reader went away */

/* Set by SIGINT or SIGTERM once a streaming request is under way. */
static volatile sig_atomic_t main_stopping;

#define MAIN_SYSTEM_SOCKET	"/run/tend/tend.sock"

/* The socket path: -s, else -c CONFIG, else $TEND_SOCKET, else default. */
static int
main_socket(const struct ctl_global *g, char **path)
{
	const char	*env;
	char		*err;

	*path = NULL;
	if (g->socket != NULL) {
		*path = xstrdup(g->socket);
		return 0;
	}
	/* Only the socket: a mistake elsewhere in the file is tendd's to
	   report (on reload), and must not stop status or stop. */
	if (g->config != NULL) {
		if (conf_socket(g->config, path, &err) == -1) {
			fprintf(stderr, "tendctl: %s\n", err);
			free(err);
			return CTL_EXIT_USAGE;
		}
		return 0;
	}
	if ((env = getenv("TEND_SOCKET")) != NULL && *env != '\0') {
		*path = xstrdup(env);
		return 0;
	}
	*path = conf_default_socket();
	/* A user without a tendd of their own most likely means the
	   system's (as a member of its socket group). */
	if (geteuid() != 0 && access(*path, F_OK) == -1 &&
	    access(MAIN_SYSTEM_SOCKET, F_OK) == 0) {
		free(*path);
		*path = xstrdup(MAIN_SYSTEM_SOCKET);
	}
	return 0;
}

/* Milliseconds left for poll(), -1 without a deadline, 0 when past. */
static int
main_remaining(const struct main_conn *c)
{
	uint64_t	 now, ms;

	if (!c->has_deadline)
		return -1;
	if ((now = util_now_mono()) >= c->deadline)
		return 0;
	ms = (c->deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
	return ms > 86400000 ? 86400000 : (int)ms;
}

static void
main_stop_cb(int sig)
{
	(void)sig;
	main_stopping = 1;
}

/*
 * While streaming, SIGINT and SIGTERM end tendctl quietly (exit 0), not
 * kill it. No SA_RESTART, so a write blocked on a full stdout returns;
 * one-shot, so a second signal kills in any case.
 */
static void
main_catch_stop(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = main_stop_cb;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * Wait for events on the socket; 1 ready, 0 deadline passed, -1 error,
 * MAIN_POLL_STOP. The stop signals stay blocked from the check of
 * main_stopping until ppoll() waits, so none slips in between.
 */
static int
main_poll(struct main_conn *c, short events)
{
	struct pollfd	 pfd[2];
	struct timespec	 ts;
	sigset_t	 stop, old;
	nfds_t		 nfds;
	int		 ms, n, error;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	for (;;) {
		pfd[0].fd = c->fd;
		pfd[0].events = events;
		pfd[0].revents = 0;
		/* Only POLLERR/POLLHUP: stdout's reader left (| head). */
		pfd[1].fd = c->out_fd;
		pfd[1].events = 0;
		pfd[1].revents = 0;
		nfds = c->out_fd != -1 ? 2 : 1;
		ms = main_remaining(c);
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;

		sigprocmask(SIG_BLOCK, &stop, &old);
		if (main_stopping) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			return MAIN_POLL_STOP;
		}
		n = ppoll(pfd, nfds, ms < 0 ? NULL : &ts, &old);
		error = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);

		if (n == -1 && error == EINTR)
			continue;
		if (n == -1) {
			ctl_error(c->inv, CTL_EXIT_FAILED, CTL_E_IO,
			    "poll: %s", strerror(error));
			return -1;
		}
		if (nfds == 2 && (pfd[1].revents & (POLLERR|POLLHUP)))
			return MAIN_POLL_STOP;
		if (nfds == 2 && (pfd[1].revents & POLLNVAL))
			c->out_fd = -1;	/* closed: writing will say so */
		if (pfd[0].revents == 0) {
			if (n == 0 && main_remaining(c) == 0)
				return 0;
			continue;
		}
		return 1;
	}
}

static int
main_timed_out(const struct main_conn *c)
{
	return ctl_error(c->inv, CTL_EXIT_FAILED, CTL_E_TIMEOUT,
	    "timed out after %gs waiting for tendd",
	    (double)c->timeout / (double)USEC_PER_SEC);
}

static int
main_connect_failed(const struct main_conn *c, int error)
{
	const char	*hint = "";

	if (error == ENOENT || error == ECONNREFUSED)
		hint = " (is tendd running?)";
	else if (error == EACCES || error == EPERM)
		hint = " (check the socket's permissions and socket_group)";
	return ctl_error(c->inv, CTL_EXIT_CONNECT, CTL_E_CONNECT,
	    "cannot connect to tendd at %s: %s%s", c->path, strerror(error),
	    hint);
}

/* A blocking connect, then non-blocking I/O bounded by the deadline. */
static int
main_connect(struct main_conn *c)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	int			 error, flags;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(c->path) >= sizeof sun.sun_path)
		return main_connect_failed(c, ENAMETOOLONG);
	memcpy(sun.sun_path, c->path, strlen(c->path));

	if ((c->fd = socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0)) == -1)
		return main_connect_failed(c, errno);
	if (connect(c->fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (errno != EINTR)
			return main_connect_failed(c, errno);
		/* Interrupted: the connect goes on; wait for its result. */
		switch (main_poll(c, POLLOUT)) {
		case 0:
			return main_timed_out(c);
		case -1:
			return CTL_EXIT_CONNECT;
		}
		len = sizeof error;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) ==
		    -1)
			error = errno;
		if (error != 0)
			return main_connect_failed(c, error);
	}
	if ((flags = fcntl(c->fd, F_GETFL)) == -1 ||
	    fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) == -1)
		return ctl_error(c->inv, CTL_EXIT_FAILED, CTL_E_IO,
		    "fcntl: %s", strerror(errno));
	return 0;
}

static int
main_closed(struct main_conn *c)
{
	return ctl_error(c->inv, CTL_EXIT_FAILED, CTL_E_CLOSED,
	    "tendd closed the connection");
}

static int
main_send(struct main_conn *c, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			switch (main_poll(c, POLLOUT)) {
			case 0:
				return main_timed_out(c);
			case -1:
				return CTL_EXIT_FAILED;
			}
			continue;
		}
		/* Closed before it read the request: tendd may have said
		   why first (too many clients). */
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET))
			return MAIN_SEND_CLOSED;
		if (n == -1)
			return ctl_error(c->inv, CTL_EXIT_FAILED, CTL_E_IO,
			    "write to tendd: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writing an event to stdout failed. The reader leaving (| head) or a stop
 * signal interrupting the write is how streaming ends: quietly. The error
 * is reported here, once, so main()'s final check must not see it again.
 */
static int
main_output_failed(struct ctl_inv *inv)
{
	int	 error = errno;

	clearerr(inv->out);
	if (error == EPIPE || main_stopping)
		return CTL_EXIT_OK;
	/* Text only: JSON would go where writing just failed. */
	fprintf(inv->err, "tendctl: stdout: %s\n", strerror(error));
	return CTL_EXIT_FAILED;
}

/*
 * Read until the reply to our request, passing events tied to it to the
 * command; other events and ids are skipped. An error reply with id 0 is
 * ours too: tendd could not read our id. Returns 0 with the reply in
 * *msg and *rep, or an exit code; a stream stopped by a signal or by
 * stdout closing returns 0 without a reply (*msg NULL).
 */
static int
main_recv(struct main_conn *c, struct ctl_inv *inv, json_t **msg,
    struct proto_reply *rep)
{
	char		 data[65536], err[256], *line;
	size_t		 len;
	ssize_t		 n;
	int		 r, rc;

	for (;;) {
		while ((r = proto_buf_line(&c->buf, &line, &len)) == 1) {
			if (proto_decode_reply(line, len, msg, rep, err,
			    sizeof err) != 0) {
				json_decref(*msg);
				*msg = NULL;
				return ctl_error(inv, CTL_EXIT_FAILED,
				    CTL_E_BAD_REPLY, "bad reply from tendd: %s",
				    err);
			}
			if (!rep->is_event && (rep->id == CTL_REQUEST_ID ||
			    (rep->id == 0 && !rep->ok)))
				return 0;
			rc = 0;
			if (rep->is_event && rep->id == CTL_REQUEST_ID &&
			    ctl_event(inv, rep) != 0)
				rc = main_output_failed(inv);
			json_decref(*msg);
			*msg = NULL;
			if (rc != 0 || main_stopping)
				return rc;
		}
		if (r == -1)
			return ctl_error(inv, CTL_EXIT_FAILED, CTL_E_BAD_REPLY,
			    "reply from tendd longer than %d bytes",
			    PROTO_MAX_MSG);

		n = read(c->fd, data, sizeof data);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			switch (main_poll(c, POLLIN)) {
			case 0:
				return main_timed_out(c);
			case -1:
				return CTL_EXIT_FAILED;
			case MAIN_POLL_STOP:
				return 0;
			}
			continue;
		}
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			return main_closed(c);
		if (n == -1)
			return ctl_error(inv, CTL_EXIT_FAILED, CTL_E_IO,
			    "read from tendd: %s", strerror(errno));
		proto_buf_push(&c->buf, data, (size_t)n);
	}
}

static int
main_transact(struct ctl_inv *inv, const char *path)
{
	struct main_conn	 c;
	struct proto_reply	 rep;
	json_t			*req, *msg = NULL;
	char			*frame;
	size_t			 len;
	int			 rc;

	memset(&c, 0, sizeof c);
	c.inv = inv;
	c.path = path;
	c.fd = -1;
	c.out_fd = -1;
	proto_buf_init(&c.buf);
	if (inv->has_deadline) {
		c.has_deadline = true;
		c.timeout = inv->deadline;
		c.deadline = util_now_mono() + inv->deadline;
	}

	req = ctl_request(inv);
	frame = proto_encode(req, &len);
	json_decref(req);
	if (frame == NULL)
		return ctl_error(inv, CTL_EXIT_USAGE, CTL_E_USAGE,
		    "request longer than %d bytes", PROTO_MAX_MSG);
	if ((rc = main_connect(&c)) == 0 &&
	    ((rc = main_send(&c, frame, len)) == 0 || rc == MAIN_SEND_CLOSED)) {
		if (inv->streaming) {
			main_catch_stop();
			c.out_fd = fileno(inv->out);
		}
		rc = main_recv(&c, inv, &msg, &rep);
		if (rc == 0 && msg != NULL)
			rc = ctl_reply(inv, &rep);
	}

	json_decref(msg);
	free(frame);
	proto_buf_free(&c.buf);
	if (c.fd != -1)
		close(c.fd);
	return rc;
}

/* Colours and bold only for a terminal that wants them. */
static bool
main_style(void)
{
	const char	*s;

	if (!isatty(STDOUT_FILENO))
		return false;
	if ((s = getenv("NO_COLOR")) != NULL && *s != '\0')
		return false;
	if ((s = getenv("TERM")) != NULL && strcmp(s, "dumb") == 0)
		return false;
	return true;
}

/* A bad command line: the message, then the usage it missed. */
static int
main_usage_error(struct ctl_inv *inv, const char *msg)
{
	ctl_error(inv, CTL_EXIT_USAGE, CTL_E_USAGE, "%s", msg);
	if (inv->cmd != NULL) {
		ctl_cmd_usage(inv->err, inv->cmd, "usage: tendctl ");
		return CTL_EXIT_USAGE;
	}
	fprintf(inv->err, "usage: tendctl [-s SOCKET | -c CONFIG] [--json] "
	    "COMMAND [ARGS]\nrun 'tendctl help' for the commands\n");
	return CTL_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	struct ctl_global	 g;
	struct ctl_inv		 inv;
	char			 err[512], *path = NULL;
	int			 ind, rc;

	signal(SIGPIPE, SIG_IGN);

	/* --json anywhere: an error in the command line is JSON too, even
	   one getopt meets before --json. */
	ctl_inv_init(&inv, stdout, stderr);
	inv.json = ctl_wants_json(argc, argv);
	if (ctl_parse_global(argc, argv, &g, &ind, err, sizeof err) != 0) {
		rc = main_usage_error(&inv, err);
		goto out;
	}
	inv.json = g.json;
	if (g.help) {
		ctl_usage(stdout);
		rc = CTL_EXIT_OK;
		goto out;
	}
	if (g.version) {
		printf("tendctl %s\n", TEND_VERSION);
		rc = CTL_EXIT_OK;
		goto out;
	}
	if (ind >= argc) {
		rc = ctl_error(&inv, CTL_EXIT_USAGE, CTL_E_USAGE,
		    "no command given");
		ctl_usage(stderr);
		goto out;
	}

	inv.style = main_style();
	if (ctl_parse(&inv, argc - ind, argv + ind, err, sizeof err) != 0) {
		inv.json = inv.json || ctl_wants_json(argc - ind, argv + ind);
		rc = main_usage_error(&inv, err);
		goto out;
	}
	if (inv.help) {
		ctl_cmd_help(stdout, inv.cmd);
		rc = CTL_EXIT_OK;
	} else if (inv.cmd->proto_cmd == NULL)
		rc = inv.cmd->print(&inv, NULL);
	else if ((rc = main_socket(&g, &path)) == 0)
		rc = main_transact(&inv, path);
	else
		/* main_socket said why on stderr. */
		ctl_error_json(&inv, rc == CTL_EXIT_USAGE ? CTL_E_USAGE :
		    CTL_E_CONNECT, g.config != NULL ? "cannot load the "
		    "configuration given with -c" : "cannot find tendd's socket");

out:
	/* stdout itself failed: text only. */
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "tendctl: stdout: %s\n",
			    strerror(errno));
		if (rc == CTL_EXIT_OK)
			rc = CTL_EXIT_FAILED;
	}
	free(path);
	ctl_inv_clear(&inv);
	return rc;
}
