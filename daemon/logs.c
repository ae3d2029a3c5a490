/*
 * logs.c: read instances' output pipes, split lines, and hand each line to
 * its sink, the ring and followers.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <systemd/sd-journal.h>

#include "control.h"
#include "events.h"
#include "launch.h"
#include "log.h"
#include "logfile.h"
#include "logfollow.h"
#include "logs.h"
#include "proto.h"
#include "ring.h"
#include "svc.h"
#include "util.h"
#include "wire.h"

#define LOGS_READ_BUF		(1024 * 1024)	/* one, shared: a full pipe */
#define LOGS_PUMP_MAX		(4 * 1024 * 1024) /* per wakeup, for fairness */
/* At an exit: more than a full pipe, but bounded, since a child that
   outlived the program may still be writing. */
#define LOGS_DRAIN_MAX		(4 * 1024 * 1024)
#define LOGS_SPLICE_MAX		(1024 * 1024)
#define LOGS_FLUSH_DELAY	USEC_PER_SEC	/* partial line held */
/* How far back in a file tendd looks for where a line began, when the
   ring has kept only its end (or log_line_max, if that is more). */
#define LOGS_LOOKBACK		(1024 * 1024)
#define LOGS_OUT_CAP		(1024 * 1024)	/* "inherit" queue */
#define LOGS_TS_LEN		25	/* "2026-11-23T02:10:00.123Z " */
/*
 * A stream that wakes tendd again within LOGS_BATCH_GAP of the last time
 * is busy: tendd then reads it every LOGS_BATCH_DELAY instead of at every
 * write, from a pipe grown to LOGS_BATCH_PIPE, so a flood costs a few
 * large splices or reads instead of one wakeup per write (measured with
 * bench/log-throughput: shorter delays raise the rate and tendd's CPU,
 * longer ones lower both). A wakeup that finds LOGS_BATCH_MIN waiting
 * starts batching too; a read that finds little data ends it.
 */
#define LOGS_BATCH_GAP		200		/* usec */
#define LOGS_BATCH_DELAY	800		/* usec */
#define LOGS_BATCH_PIPE		(1024 * 1024)
#define LOGS_BATCH_MIN		(64 * 1024)
/*
 * A direct write (logfile.c) waits for the device, about 1 ms per MiB on
 * the benchmark VM, so a pump that writes direct stops after
 * LOGS_PUMP_DIRECT and the next is due at once: the loop answers the
 * rest in between. With 4 MiB pumps, `tendctl status` took a median
 * 12-13 ms during a flood, against 1.4 ms idle.
 */
#define LOGS_PUMP_DIRECT	(1024 * 1024)

/* tendd's own stdout or stderr, for the "inherit" sink: never blocks. */
struct outq {
	int		 fd;
	bool		 close;		/* fd is ours */
	bool		 sock;		/* send(MSG_DONTWAIT) */
	struct evbuffer	*buf;
	struct event	*ev;
	char		*error;
};

struct logs {
	struct event_base	*base;
	struct logfiles		*files;
	bool			 journald;
	bool			 journald_warned;
	struct outq		 out[2];
	char			*rbuf;
	struct logfollow	*follow;
	struct events		*bus;		/* log.dropped goes there */
	struct event		*ev_drops;	/* report drops, coalesced */
	struct logio		**drops;	/* with drops to report */
	size_t			 ndrops;
	time_t			 ts_sec;	/* timestamp cache */
	char			 ts[32];
};

/*
 * Two per instance, 1000s of instances: 8-byte fields first, then the
 * small ones. The read event is embedded (event_assign), one allocation
 * less per stream: struct event is part of libevent's ABI, which its
 * soname follows (tmux embeds it too).
 */
struct stream {
	struct event		 ev;		/* read; set up with rfd */
	struct event		*flush;
	struct event		*batch;		/* busy: read on a timer */
	uint64_t		 last_read;	/* mono usec */
	char			*pbuf;		/* a partial line */
	char			*obuf;		/* file output not yet written */
	size_t			 olen;
	size_t			 ocap;
	struct logfile		*file;
	uint64_t		 dropped;

	uint32_t		 plen;		/* at most log_line_max (16M) */
	uint32_t		 pcap;
	int			 which;		/* 0 stdout, 1 stderr: its
						   index in its logio */
	int			 rfd;
	int			 wfd;
	int			 mid[2];	/* splice staging pipe */
	enum conf_sink		 sink;		/* resolved: never STDOUT */
	bool			 batching;
	bool			 big_pipe;
	bool			 spliced;	/* its last record is a splice's
						   span: it may end in a line */
	bool			 merged;	/* stderr into stdout's sink */
	bool			 prefix;
	bool			 stamps;
};

/* The ring and streams are embedded: they live and die with it. */
struct logio {
	struct logs		*logs;
	struct svc		*svc;
	struct logfollow_list	 followers;
	struct stream		 st[2];
	struct ring		 ring;
	uint64_t		 reported;	/* dropped bytes told of */
	bool			 drop_pending;	/* in logs->drops */
};

/* A stream's logio, whose st[which] it is: no pointer back in 1000s of
   streams. */
static struct logio *
stream_io(const struct stream *st)
{
	return (struct logio *)((const char *)(st - st->which) -
	    offsetof(struct logio, st));
}

static struct logfollow_list *logs_list_of(const struct svc *);
static size_t	stream_pump(struct stream *, size_t, bool *);
static void	stream_flush(struct stream *);
static void	stream_batch_cb(evutil_socket_t, short, void *);

/* Output queues for "inherit" */

static void
outq_write(struct outq *q)
{
	struct iovec	 iov;
	size_t		 len;
	ssize_t		 n;

	while ((len = evbuffer_get_length(q->buf)) > 0) {
		iov.iov_base = evbuffer_pullup(q->buf, (ssize_t)(len > 65536 ?
		    65536 : len));
		iov.iov_len = len > 65536 ? 65536 : len;
		if (q->sock)
			n = send(q->fd, iov.iov_base, iov.iov_len,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			n = write(q->fd, iov.iov_base, iov.iov_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			event_add(q->ev, NULL);
			return;
		}
		if (n <= 0) {
			/* Output gone (closed pipe): drop what is queued. */
			if (q->error == NULL)
				xasprintf(&q->error, "output: %s",
				    strerror(n == 0 ? EIO : errno));
			evbuffer_drain(q->buf, len);
			return;
		}
		evbuffer_drain(q->buf, (size_t)n);
	}
}

static void
outq_cb(evutil_socket_t fd, short events, void *arg)
{
	outq_write(arg);
}

static void
outq_init(struct logs *l, struct outq *q, int fd)
{
	struct stat	 st;
	char		 path[64];
	int		 nfd;

	q->buf = evbuffer_new();
	q->fd = fd;
	if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
		q->sock = true;
	else if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A pipe or terminal: a description of our own, so it can be
		   non-blocking without touching the one we inherited. */
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (nfd != -1) {
			q->fd = nfd;
			q->close = true;
		}
	}
	q->ev = event_new(l->base, q->fd, EV_WRITE, outq_cb, q);
}

static void
outq_free(struct outq *q)
{
	if (q->buf != NULL)
		outq_write(q);
	if (q->ev != NULL)
		event_free(q->ev);
	if (q->buf != NULL)
		evbuffer_free(q->buf);
	if (q->close)
		close(q->fd);
	free(q->error);
}

/* The logs context */

struct logs *
logs_new(struct event_base *base)
{
	struct logs	*l = xcalloc(1, sizeof *l);
	int		 fd;

	l->base = base;
	l->files = logfiles_new(base);
	l->follow = logfollow_new(logs_list_of);
	/* Aligned, with room for a lead: see stream_pump. */
	l->rbuf = aligned_alloc(LOGFILE_ALIGN, LOGS_READ_BUF + LOGFILE_ALIGN);
	if (l->rbuf == NULL)
		fatal("aligned_alloc");
	/* sd_journal_send() drops messages silently without journald; the
	   stream call fails, so it tells whether journald is there. */
	if ((fd = sd_journal_stream_fd("tendd", LOG_INFO, 0)) >= 0) {
		l->journald = true;
		close(fd);
	}
	/* The inherit queues open fds 1 and 2 on first use: after
	   --daemonize has pointed them at /dev/null. */
	l->out[0].fd = l->out[1].fd = -1;
	return l;
}

void
logs_free(struct logs *l)
{
	if (l == NULL)
		return;
	logfollow_free(l->follow);
	if (l->ev_drops != NULL)
		event_free(l->ev_drops);
	free(l->drops);
	outq_free(&l->out[0]);
	outq_free(&l->out[1]);
	logfiles_free(l->files);
	free(l->rbuf);
	free(l);
}

int
logs_reopen(struct logs *l)
{
	int	 n = logfiles_reopen(l->files);

	log_info("reopened %d log file%s", n, n == 1 ? "" : "s");
	return n;
}

/* "2026-11-23T02:10:00.123Z " */
static const char *
logs_timestamp(struct logs *l, uint64_t wall)
{
	time_t		 sec = (time_t)(wall / USEC_PER_SEC);
	struct tm	 tm;

	if (sec != l->ts_sec) {
		gmtime_r(&sec, &tm);
		strftime(l->ts, sizeof l->ts, "%Y-%m-%dT%H:%M:%S", &tm);
		l->ts_sec = sec;
	}
	snprintf(l->ts + 19, sizeof l->ts - 19, ".%03uZ ",
	    (unsigned)(wall % USEC_PER_SEC / 1000));
	return l->ts;
}

/* Sinks */

static void
stream_obuf(struct stream *st, const void *p, size_t n)
{
	if (st->olen + n > st->ocap) {
		while (st->olen + n > st->ocap)
			st->ocap = st->ocap == 0 ? 4096 : st->ocap * 2;
		st->obuf = xreallocarray(st->obuf, st->ocap, 1);
	}
	memcpy(st->obuf + st->olen, p, n);
	st->olen += n;
}

static void
stream_flush(struct stream *st)
{
	size_t	 n;

	if (st->olen == 0)
		return;
	if (st->file != NULL) {
		n = logfile_append(st->file, st->obuf, st->olen);
		st->dropped += st->olen - n;
	}
	st->olen = 0;
	/* A burst can grow the buffer; do not keep it large. */
	if (st->ocap > 256 * 1024) {
		free(st->obuf);
		st->obuf = NULL;
		st->ocap = 0;
	}
}

static void
sink_journal(struct stream *st, const char *text, size_t len)
{
	struct svc	*s = stream_io(st)->svc;
	struct iovec	 iov[5];
	char		 pri[16], prog[96], tprog[96], inst[32], *msg;
	int		 p = st->which == 0 ? LOG_INFO : LOG_ERR;

	if (len >= 3 && text[0] == '<' && text[1] >= '0' && text[1] <= '7' &&
	    text[2] == '>') {
		p = text[1] - '0';
		text += 3;
		len -= 3;
	}
	msg = xmalloc(len + 8);
	memcpy(msg, "MESSAGE=", 8);
	memcpy(msg + 8, text, len);
	snprintf(pri, sizeof pri, "PRIORITY=%d", p);
	snprintf(prog, sizeof prog, "SYSLOG_IDENTIFIER=%s", s->cp->name);
	iov[0].iov_base = msg;
	iov[0].iov_len = len + 8;
	iov[1].iov_base = pri;
	iov[1].iov_len = strlen(pri);
	iov[2].iov_base = prog;
	iov[2].iov_len = strlen(prog);
	snprintf(inst, sizeof inst, "TEND_INSTANCE=%u", s->index);
	iov[3].iov_base = inst;
	iov[3].iov_len = strlen(inst);
	/* Program names are at most 64 bytes (util_valid_name). */
	snprintf(tprog, sizeof tprog, "TEND_PROGRAM=%s", s->cp->name);
	iov[4].iov_base = tprog;
	iov[4].iov_len = strlen(tprog);
	if (sd_journal_sendv(iov, 5) < 0)
		st->dropped += len;
	free(msg);
}

static void
sink_inherit(struct stream *st, uint64_t wall, const char *text, size_t len)
{
	struct logs	*l = stream_io(st)->logs;
	struct outq	*q = &l->out[st->which];
	struct svc	*s = stream_io(st)->svc;

	if (q->buf == NULL)
		outq_init(l, q, st->which + 1);
	if (evbuffer_get_length(q->buf) > LOGS_OUT_CAP) {
		st->dropped += len + 1;
		return;
	}
	if (st->stamps)
		evbuffer_add(q->buf, logs_timestamp(l, wall), LOGS_TS_LEN);
	if (st->prefix)
		evbuffer_add_printf(q->buf, "%s | ", s->name);
	evbuffer_add(q->buf, text, len);
	evbuffer_add(q->buf, "\n", 1);
	if (!event_pending(q->ev, EV_WRITE, NULL))
		outq_write(q);
}

/* One line (or piece) to the stream's sink. */
static void
stream_sink(struct stream *st, uint64_t wall, const char *text, size_t len,
    int flags)
{
	struct logio	*io = stream_io(st);
	struct logfile	*f = st->file;
	struct svc	*s = io->svc;
	size_t		 need;
	bool		 raw = !st->prefix && !st->stamps;

	if (st->merged) {
		/* stderr merged into stdout after a reload: stdout's sink. */
		stream_sink(&io->st[0], wall, text, len, flags);
		return;
	}
	switch (st->sink) {
	case CONF_SINK_FILE:
		if (f == NULL)
			return;
		need = len + 1 + (st->stamps ? LOGS_TS_LEN : 0) +
		    (st->prefix ? strlen(s->name) + 3 : 0);
		if (logfile_full(f, st->olen, need)) {
			stream_flush(st);
			logfile_rotate(f);
		}
		if (st->stamps)
			stream_obuf(st, logs_timestamp(io->logs, wall),
			    LOGS_TS_LEN);
		if (st->prefix) {
			stream_obuf(st, s->name, strlen(s->name));
			stream_obuf(st, " | ", 3);
		}
		stream_obuf(st, text, len);
		/* A raw file gets the program's bytes exactly: a cut piece
		   continues on the same line. */
		if (!raw || !(flags & RING_PARTIAL))
			stream_obuf(st, "\n", 1);
		break;
	case CONF_SINK_JOURNAL:
		sink_journal(st, text, len);
		break;
	case CONF_SINK_INHERIT:
		sink_inherit(st, wall, text, len);
		break;
	case CONF_SINK_NULL:
	case CONF_SINK_STDOUT:
		break;
	}
}

/* One line to the ring and followers. */
static void
stream_record(struct stream *st, uint64_t wall, const char *text, size_t len,
    int flags)
{
	struct logio	*io = stream_io(st);
	int		 which = st->merged ? 0 : st->which;

	st->spliced = false;
	ring_add(&io->ring, wall, which, flags, text, len);
	if (io->followers.n > 0)
		logfollow_line(&io->followers, io->svc, which, wall, text, len,
		    flags);
}

/* A complete line (or a partial one being flushed), cut to line_max. */
static void
stream_line(struct stream *st, uint64_t wall, const char *text, size_t len,
    bool partial)
{
	size_t	 max = stream_io(st)->svc->cp->log_line_max, n;
	int	 flags;

	do {
		n = len > max ? max : len;
		flags = n < len || partial ? RING_PARTIAL : 0;
		stream_record(st, wall, text, n, flags);
		stream_sink(st, wall, text, n, flags);
		text += n;
		len -= n;
	} while (len > 0);
}

static void
stream_pbuf_add(struct stream *st, const char *p, size_t n)
{
	if (st->plen + n > st->pcap) {
		while (st->plen + n > st->pcap)
			st->pcap = st->pcap == 0 ? 256 : st->pcap * 2;
		st->pbuf = xreallocarray(st->pbuf, st->pcap, 1);
	}
	memcpy(st->pbuf + st->plen, p, n);
	st->plen += n;
}

static void
stream_pbuf_clear(struct stream *st)
{
	st->plen = 0;
	if (st->pcap > 64 * 1024) {
		free(st->pbuf);
		st->pbuf = NULL;
		st->pcap = 0;
	}
}

/*
 * Bytes of a line whose newline has not come yet. A piece of line_max
 * goes out (partial) only once more of the line follows it: a line of
 * exactly line_max, whose newline comes with the next read, is one piece,
 * not a partial piece and an empty line.
 */
static void
stream_partial(struct stream *st, uint64_t wall, const char *p, size_t n)
{
	size_t	 max = stream_io(st)->svc->cp->log_line_max, w;

	while (n > 0) {
		/* (More than max after a reload made it smaller.) */
		if (st->plen >= max) {
			stream_line(st, wall, st->pbuf, st->plen, true);
			stream_pbuf_clear(st);
		}
		w = max - st->plen < n ? max - st->plen : n;
		stream_pbuf_add(st, p, w);
		p += w;
		n -= w;
	}
}

/* Does the file get the program's bytes exactly (no stamps, no prefix)? */
static bool
stream_raw(const struct stream *st)
{
	return st->sink == CONF_SINK_FILE && !st->merged && st->file != NULL &&
	    !st->prefix && !st->stamps;
}

/* Can bytes go to the file without tendd looking at them? */
static bool
stream_can_splice(const struct stream *st)
{
	const struct logfile	*f = st->file;

	return stream_raw(st) && f->fd != -1 && f->error == NULL &&
	    f->writers == 1 && stream_io(st)->followers.n == 0 &&
	    st->plen == 0 && st->olen == 0 &&
	    (f->max_size == 0 || f->size + LOGS_SPLICE_MAX <= f->max_size);
}

/*
 * Read after a splice: the rest of the line the splice began (tendd never
 * saw its start) goes the same way, into the file and into the ring as a
 * span that goes on from the splice's, so that the line is read back
 * whole and cut where it should be. Returns the bytes taken.
 */
static size_t
stream_feed_spliced(struct stream *st, uint64_t wall, const char *p,
    size_t n)
{
	struct logio	*io = stream_io(st);
	struct logfile	*f = st->file;
	const char	*nl = memchr(p, '\n', n);
	size_t		 len = nl != NULL ? (size_t)(nl + 1 - p) : n, w;

	st->spliced = false;
	if (!stream_raw(st) || io->followers.n > 0 || st->plen > 0 ||
	    (f->max_size != 0 && f->size + st->olen + len > f->max_size))
		return 0;
	stream_flush(st);
	w = logfile_append(f, p, len);
	st->dropped += len - w;
	if (w == len) {
		ring_add_span(&io->ring, wall, st->which, RING_CUT, f->id,
		    f->size - w, w);
		st->spliced = nl == NULL;
	}
	return len;
}

/* Lines a raw file gets in one write; ring and followers get lines. */
static void
stream_feed(struct stream *st, const char *data, size_t n)
{
	struct logio	*io = stream_io(st);
	struct logfile	*f = st->file;
	const char	*p = data, *end = data + n, *nl, *last, *q;
	uint64_t	 wall = util_now_wall(), id, off;
	size_t		 max = io->svc->cp->log_line_max, ringsz, w, len;
	bool		 raw;

	if (st->spliced && (p += stream_feed_spliced(st, wall, p, n)) == end)
		return;
	raw = stream_raw(st);
	/* Complete the pending partial line first. */
	if (st->plen > 0) {
		nl = memchr(p, '\n', (size_t)(end - p));
		stream_partial(st, wall, p, (size_t)((nl != NULL ? nl : end) -
		    p));
		if (nl == NULL)
			return;
		stream_line(st, wall, st->pbuf, st->plen, false);
		stream_pbuf_clear(st);
		p = nl + 1;
	}
	last = p < end ? memrchr(p, '\n', (size_t)(end - p)) : NULL;
	if (last != NULL) {
		if (raw && (f->max_size == 0 || f->size + st->olen +
		    (size_t)(last + 1 - p) <= f->max_size)) {
			/* One write for all the complete lines (after the
			   one completed from the partial above). */
			stream_flush(st);
			len = (size_t)(last + 1 - p);
			w = logfile_append(f, p, len);
			st->dropped += len - w;
			/* Written whole, they end where the file ends (a
			   file reopened on the way included). */
			id = f->id;
			off = f->size - w;
			/* The ring keeps only the end; skip what it would
			   drop at once unless someone follows. */
			ringsz = io->svc->cp->log_ring_size;
			q = p;
			if (io->followers.n == 0 &&
			    (size_t)(last - p) > ringsz) {
				q = last - ringsz;
				q = memchr(q, '\n', (size_t)(last - q));
				q = q != NULL ? q + 1 : p;
			}
			/* In a flood, what the file took whole is read back
			   from it, as after a splice: a record per line
			   cost a fifth of tendd's CPU. */
			if (st->batching && w == len && io->followers.n == 0 &&
			    q <= last) {
				ring_add_span(&io->ring, wall, st->which, 0,
				    id, off + (uint64_t)(q - p),
				    (size_t)(last + 1 - q));
				q = last + 1;
			}
			while (q <= last) {
				nl = memchr(q, '\n', (size_t)(last + 1 - q));
				w = (size_t)(nl - q);
				while (w > max) {
					stream_record(st, wall, q, max,
					    RING_PARTIAL);
					q += max;
					w -= max;
				}
				stream_record(st, wall, q, w, 0);
				q = nl + 1;
			}
		} else {
			while (p <= last) {
				nl = memchr(p, '\n', (size_t)(last + 1 - p));
				stream_line(st, wall, p, (size_t)(nl - p),
				    false);
				p = nl + 1;
			}
		}
		p = last + 1;
	}
	/* The rest is a partial line. */
	stream_partial(st, wall, p, (size_t)(end - p));
}

static void
stream_flush_partial(struct stream *st)
{
	if (st->plen == 0)
		return;
	stream_line(st, util_now_wall(), st->pbuf, st->plen, true);
	stream_pbuf_clear(st);
	stream_flush(st);
	if (st->merged)
		stream_flush(&stream_io(st)->st[0]);
}

static void	logio_note_drops(struct logio *);

static void
stream_flush_cb(evutil_socket_t fd, short events, void *arg)
{
	stream_flush_partial(arg);
	logio_note_drops(stream_io(arg));
}

static bool
stream_mid_open(struct stream *st)
{
	if (st->mid[0] != -1)
		return true;
	if (pipe2(st->mid, O_CLOEXEC | O_NONBLOCK) == -1) {
		st->mid[0] = st->mid[1] = -1;
		return false;
	}
	(void)fcntl(st->mid[0], F_SETPIPE_SZ, LOGS_SPLICE_MAX);
	return true;
}

/*
 * Move what the program's pipe holds to the file without copying it
 * through tendd. A splice into a file holds the source pipe's lock while
 * the kernel copies into the page cache, which would stall the writer:
 * so the pages first move (by reference, quickly) to a staging pipe of
 * tendd's, and go to the file from there while the program writes on.
 * Returns bytes moved, 0 when the pipe is empty, -1 on a file error (what
 * is staged is then read back and goes the slow way).
 */
static ssize_t
stream_splice(struct stream *st)
{
	struct logio	*io = stream_io(st);
	ssize_t		 n, m;
	size_t		 done = 0;
	uint64_t	 off;

	do {
		n = splice(st->rfd, NULL, st->mid[1], NULL, LOGS_SPLICE_MAX,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	} while (n == -1 && errno == EINTR);
	if (n <= 0)
		return 0;
	while (done < (size_t)n) {
		m = logfile_splice(st->file, st->mid[0], (size_t)n - done,
		    &off);
		if (m <= 0)
			break;
		/* tendd does not see the bytes: a span may go on with a
		   line the one before began. */
		ring_add_span(&io->ring, util_now_wall(), st->which,
		    st->spliced ? RING_CUT : 0, st->file->id, off, (size_t)m);
		st->spliced = true;
		done += (size_t)m;
	}
	if (done < (size_t)n) {
		/* The file failed: the staged bytes take the slow way. */
		while ((m = read(st->mid[0], io->logs->rbuf,
		    LOGS_READ_BUF)) > 0)
			stream_feed(st, io->logs->rbuf, (size_t)m);
		return -1;
	}
	return n;
}

/* Read about limit bytes at most (less if the pipe empties); returns how
   many. */
/* The flush and batch timers are made on first use: most instances
   never need them, and a thousand idle ones would carry 4000 events. */
static void
stream_timer(struct stream *st, struct event **evp,
    void (*cb)(evutil_socket_t, short, void *), const struct timeval *tv)
{
	if (*evp == NULL)
		*evp = evtimer_new(stream_io(st)->logs->base, cb, st);
	evtimer_add(*evp, tv);
}

static size_t
stream_pump(struct stream *st, size_t limit, bool *full)
{
	struct logio	*io = stream_io(st);
	struct timeval	 tv;
	size_t		 total = 0;
	ssize_t		 n;
	char		*buf;
	int		 lead = -1;
	bool		 more = false;

	/* A caller that can come back (full) is cut short after direct
	   writes; a drain is not. */
	while (!(more = total >= limit ||
	    (full != NULL && lead != -1 && total >= LOGS_PUMP_DIRECT))) {
		/* A flood to a raw file is read to where a direct write
		   takes it (logfile.c); otherwise the staging pipe is made
		   for output there is: the first read finds an empty pipe
		   (an exit's drain, most often) without making one. */
		lead = st->batching && stream_raw(st) ?
		    logfile_direct_lead(st->file, st->olen + st->plen) : -1;
		if (lead == -1 && stream_can_splice(st) &&
		    (total > 0 || st->mid[0] != -1) && stream_mid_open(st)) {
			n = stream_splice(st);
			if (n > 0) {
				total += (size_t)n;
				continue;
			}
			if (n == 0)
				break;
			/* The file failed: read and drop below. */
		}
		buf = io->logs->rbuf + (lead == -1 ? 0 : lead);
		n = read(st->rfd, buf, LOGS_READ_BUF);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		stream_feed(st, buf, (size_t)n);
		total += (size_t)n;
	}
	stream_flush(st);
	if (st->merged)
		stream_flush(&io->st[0]);	/* its lines went there */
	if (st->plen > 0 && (st->flush == NULL ||
	    !evtimer_pending(st->flush, NULL))) {
		tv.tv_sec = LOGS_FLUSH_DELAY / USEC_PER_SEC;
		tv.tv_usec = LOGS_FLUSH_DELAY % USEC_PER_SEC;
		stream_timer(st, &st->flush, stream_flush_cb, &tv);
	} else if (st->plen == 0 && st->flush != NULL)
		evtimer_del(st->flush);
	if (full != NULL)
		*full = more;
	return total;
}

/* Read again after LOGS_BATCH_DELAY, or at once if the pump was cut. */
static void
stream_batch_arm(struct stream *st, bool now)
{
	struct timeval	 tv = { 0, now ? 0 : LOGS_BATCH_DELAY };

	stream_timer(st, &st->batch, stream_batch_cb, &tv);
}

/*
 * Dropped output on the change stream (log.dropped): at most one event a
 * second per instance, with the bytes dropped since the last one. No
 * timer runs unless something was dropped.
 */
#define LOGS_DROPS_EVERY	USEC_PER_SEC

static void
logs_drops_cb(evutil_socket_t fd, short events, void *arg)
{
	struct logs		*l = arg;
	struct logio		*io;
	json_t			*data;
	uint64_t		 total;
	size_t			 i;

	for (i = 0; i < l->ndrops; i++) {
		io = l->drops[i];
		io->drop_pending = false;
		if ((total = logio_dropped(io)) <= io->reported)
			continue;
		data = json_pack("{s:I,s:I,s:o}", "bytes",
		    (json_int_t)(total - io->reported), "total",
		    (json_int_t)total, "error", logio_error(io) != NULL ?
		    json_string(logio_error(io)) : json_null());
		io->reported = total;
		events_note(l->bus, EVENTS_LOG_DROPPED, io->svc, data);
	}
	l->ndrops = 0;
}

static void
logio_note_drops(struct logio *io)
{
	struct logs	*l = io->logs;
	struct timeval	 tv = { LOGS_DROPS_EVERY / USEC_PER_SEC, 0 };

	if (l->bus == NULL || io->drop_pending ||
	    logio_dropped(io) <= io->reported)
		return;
	io->drop_pending = true;
	l->drops = xreallocarray(l->drops, l->ndrops + 1, sizeof *l->drops);
	l->drops[l->ndrops++] = io;
	if (!evtimer_pending(l->ev_drops, NULL))
		evtimer_add(l->ev_drops, &tv);
}

void
logs_set_events(struct logs *l, struct events *e)
{
	l->bus = e;
	if (l->ev_drops == NULL)
		l->ev_drops = evtimer_new(l->base, logs_drops_cb, l);
}

static void
stream_read_cb(evutil_socket_t fd, short events, void *arg)
{
	struct stream	*st = arg;
	uint64_t	 now = util_now_mono();
	bool		 busy = now - st->last_read < LOGS_BATCH_GAP, full;

	st->last_read = now;
	/* A pipe found full is a flood too, however late tendd came to it
	   (a loaded machine). */
	if (stream_pump(st, LOGS_PUMP_MAX, &full) >= LOGS_BATCH_MIN)
		busy = true;
	if (busy && st->rfd != -1) {
		if (!st->big_pipe) {
			(void)fcntl(st->rfd, F_SETPIPE_SZ, LOGS_BATCH_PIPE);
			st->big_pipe = true;
		}
		st->batching = true;
		event_del(&st->ev);
		stream_batch_arm(st, full);
	}
	logio_note_drops(stream_io(st));
}

static void
stream_batch_cb(evutil_socket_t fd, short events, void *arg)
{
	struct stream	*st = arg;
	size_t		 moved;
	bool		 full;

	moved = stream_pump(st, LOGS_PUMP_MAX, &full);
	st->last_read = util_now_mono();
	if (moved >= LOGS_BATCH_MIN)
		stream_batch_arm(st, full);
	else {
		/* Quiet again: back to waking on every write. */
		st->batching = false;
		event_add(&st->ev, NULL);
	}
	logio_note_drops(stream_io(st));
}

/* Per instance */

struct logio *
logio_new(struct logs *l, struct svc *s)
{
	struct logio	*io = xcalloc(1, sizeof *io);
	int		 i;

	io->logs = l;
	io->svc = s;
	ring_init(&io->ring, s->cp->log_ring_size);
	for (i = 0; i < 2; i++) {
		io->st[i].which = i;
		io->st[i].rfd = io->st[i].wfd = -1;
		io->st[i].mid[0] = io->st[i].mid[1] = -1;
	}
	logio_configure(io);
	return io;
}

static void
stream_detach(struct stream *st)
{
	if (st->file != NULL) {
		st->file->writers--;
		logfile_put(st->file);
		st->file = NULL;
	}
}

static void
stream_configure(struct stream *st)
{
	struct logio			*io = stream_io(st);
	struct logs			*l = io->logs;
	const struct conf_program	*cp = io->svc->cp;
	enum conf_sink			 sink;
	struct logfile			*f = NULL;
	char				*path;

	sink = st->which == 0 ? cp->stdout_sink : cp->stderr_sink;
	st->merged = st->which == 1 && sink == CONF_SINK_STDOUT;
	if (st->merged)
		sink = cp->stdout_sink;
	if (sink == CONF_SINK_JOURNAL && !l->journald) {
		if (!l->journald_warned)
			log_warnx("journald is not available: output meant "
			    "for the journal goes to log files");
		l->journald_warned = true;
		sink = CONF_SINK_FILE;
	}
	stream_flush(st);
	st->sink = sink;
	st->stamps = cp->log_timestamps;
	if (sink == CONF_SINK_FILE) {
		st->prefix = !cp->log_file_per_instance && cp->instances > 1;
		if (!st->merged) {
			path = util_subst(cp->log_file, cp->name,
			    io->svc->index);
			if (st->file != NULL &&
			    strcmp(st->file->path, path) == 0) {
				f = st->file;
				logfile_settings(f, cp);
			} else {
				f = logfile_get(l->files, path, cp);
				f->writers++;
			}
			free(path);
		}
	} else
		st->prefix = sink == CONF_SINK_INHERIT && cp->log_prefix;
	if (st->file != f)
		stream_detach(st);
	st->file = f;
}

void
logio_configure(struct logio *io)
{
	ring_resize(&io->ring, io->svc->cp->log_ring_size);
	stream_configure(&io->st[0]);
	stream_configure(&io->st[1]);
}

static int
stream_open(struct stream *st, char *err, size_t errlen)
{
	int	 p[2];

	if (st->rfd != -1)
		return 0;
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	st->rfd = p[0];
	st->wfd = p[1];
	event_assign(&st->ev, stream_io(st)->logs->base, st->rfd,
	    EV_READ | EV_PERSIST, stream_read_cb, st);
	event_add(&st->ev, NULL);
	return 0;
}

int
logio_stdio(struct logio *io, struct launch_stdio *stdio, char *err,
    size_t errlen)
{
	bool	 merge = io->svc->cp->stderr_sink == CONF_SINK_STDOUT;

	if (stream_open(&io->st[0], err, errlen) == -1)
		return -1;
	if (!merge && stream_open(&io->st[1], err, errlen) == -1)
		return -1;
	stdio->out = io->st[0].wfd;
	stdio->err = merge ? io->st[0].wfd : io->st[1].wfd;
	return 0;
}

void
logio_drain(struct logio *io)
{
	int	 i;

	for (i = 0; i < 2; i++) {
		if (io->st[i].rfd == -1)
			continue;
		stream_pump(&io->st[i], LOGS_DRAIN_MAX, NULL);
		stream_flush_partial(&io->st[i]);
	}
	logio_note_drops(io);
}

void
logio_free(struct logio *io)
{
	struct stream	*st;
	int		 i;

	if (io == NULL)
		return;
	logio_drain(io);
	if (io->drop_pending) {
		for (i = 0; i < (int)io->logs->ndrops; i++) {
			if (io->logs->drops[i] == io)
				io->logs->drops[i] =
				    io->logs->drops[--io->logs->ndrops];
		}
	}
	logfollow_detach(&io->followers);
	for (i = 0; i < 2; i++) {
		st = &io->st[i];
		stream_flush(st);
		stream_detach(st);
		if (st->rfd != -1)
			event_del(&st->ev);
		if (st->flush != NULL)
			event_free(st->flush);
		if (st->batch != NULL)
			event_free(st->batch);
		if (st->rfd != -1)
			close(st->rfd);
		if (st->wfd != -1)
			close(st->wfd);
		if (st->mid[0] != -1) {
			close(st->mid[0]);
			close(st->mid[1]);
		}
		free(st->pbuf);
		free(st->obuf);
	}
	ring_clear(&io->ring);
	free(io);
}

uint64_t
logio_dropped(const struct logio *io)
{
	return io->st[0].dropped + io->st[1].dropped;
}

const char *
logio_error(const struct logio *io)
{
	const struct stream	*st;
	int			 i;

	for (i = 0; i < 2; i++) {
		st = &io->st[i];
		if (st->file != NULL && st->file->error != NULL)
			return st->file->error;
		if (st->sink == CONF_SINK_INHERIT &&
		    io->logs->out[i].error != NULL)
			return io->logs->out[i].error;
	}
	return NULL;
}

/* History */

struct hline {
	uint64_t	 time;
	size_t		 seq;
	json_t		*obj;
};

struct hcollect {
	struct logio	*io;
	int		 streams;
	struct hline	*v;
	size_t		 n;
	size_t		 cap;
	size_t		 seq;
	/* The span read last: its stream, file and end, and the line it
	   left unfinished (carry), of which cbefore bytes were dropped. */
	bool		 cspan;
	int		 cstream;
	uint64_t	 cfile;
	uint64_t	 cend;
	char		*carry;
	size_t		 clen;
	size_t		 cbefore;
};

static void
hcollect_add(struct hcollect *h, int which, uint64_t time, const char *text,
    size_t len, int flags)
{
	if (!(h->streams & (which == 0 ? LOGS_STDOUT : LOGS_STDERR)))
		return;
	if (h->n == h->cap) {
		h->cap = h->cap == 0 ? 64 : h->cap * 2;
		h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
	}
	h->v[h->n].time = time;
	h->v[h->n].seq = h->seq++;
	h->v[h->n].obj = logfollow_line_json(h->io->svc, which, time, text, len,
	    flags);
	h->n++;
}

/*
 * A line read back from spans, cut to line_max where stream_feed cut it:
 * from the line's start, of which before bytes are no longer in the ring.
 * What is left of a line no longer than line_max is not shown: whole
 * records only, as for lines kept in memory. Of a longer one, the pieces
 * are, the first from where the ring starts.
 */
static void
hcollect_line(struct hcollect *h, int which, uint64_t time, const char *text,
    size_t len, size_t before, bool partial)
{
	size_t	 max = h->io->svc->cp->log_line_max, n;

	if (before > 0 && before + len <= max)
		return;
	if (len == 0 && (before > 0 || partial))
		return;
	n = max - before % max;
	do {
		if (n > len)
			n = len;
		hcollect_add(h, which, time, text, n,
		    n < len || partial ? RING_PARTIAL : 0);
		text += n;
		len -= n;
		n = max;
	} while (len > 0);
}

/* The unfinished line of the last span (still being written, or a record
   that is not a span comes next) goes out partial. */
static void
hcollect_carry_out(struct hcollect *h, uint64_t time)
{
	if (h->clen > 0)
		hcollect_line(h, h->cstream, time, h->carry, h->clen,
		    h->cbefore, true);
	h->clen = h->cbefore = 0;
	h->cspan = false;
}

static void
hcollect_carry(struct hcollect *h, const char *p, size_t len)
{
	h->carry = xreallocarray(h->carry, h->clen + len, 1);
	memcpy(h->carry + h->clen, p, len);
	h->clen += len;
}

static void
hcollect_cb(const struct ring_rec *rec, const char *text, void *arg)
{
	struct hcollect		*h = arg;
	struct stream		*st = &h->io->st[rec->stream & 1];
	size_t			 max = h->io->svc->cp->log_line_max;
	const char		*p, *end, *nl;
	char			*buf;
	ssize_t			 n, before;

	if (text != NULL) {
		hcollect_carry_out(h, rec->time);
		hcollect_add(h, rec->stream, rec->time, text, rec->len,
		    rec->flags);
		return;
	}
	/* A span: read it back from the file, if it is still there. */
	buf = xmalloc(rec->len);
	n = st->file == NULL ? -1 : logfile_read(st->file, rec->file_id,
	    rec->offset, buf, rec->len);
	if (n <= 0) {
		hcollect_carry_out(h, rec->time);
		free(buf);
		return;
	}
	/* A span that may start inside a line (ring.h) goes on with the
	   line of the one read before it if that ends where it starts;
	   otherwise the file says where its first line began. */
	if (!(rec->flags & RING_CUT) || !h->cspan ||
	    h->cstream != rec->stream || h->cfile != rec->file_id ||
	    h->cend != rec->offset) {
		hcollect_carry_out(h, rec->time);
		if (rec->flags & RING_CUT) {
			before = logfile_line_before(st->file, rec->file_id,
			    rec->offset, max > LOGS_LOOKBACK ? max :
			    LOGS_LOOKBACK);
			/* Too far back: a long line, cut from here. */
			h->cbefore = before == -1 ? max : (size_t)before;
		}
	}
	h->cspan = true;
	h->cstream = rec->stream;
	h->cfile = rec->file_id;
	h->cend = rec->offset + (uint64_t)n;
	end = buf + n;
	for (p = buf; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			hcollect_carry(h, p, (size_t)(end - p));
			break;
		}
		if (h->clen > 0) {
			hcollect_carry(h, p, (size_t)(nl - p));
			hcollect_line(h, rec->stream, rec->time, h->carry,
			    h->clen, h->cbefore, false);
			h->clen = 0;
		} else
			hcollect_line(h, rec->stream, rec->time, p,
			    (size_t)(nl - p), h->cbefore, false);
		h->cbefore = 0;
	}
	free(buf);
}

static int
hline_cmp(const void *a, const void *b)
{
	const struct hline	*x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The last `lines` lines of the instances, oldest first. */
static json_t *
logs_collect(struct svc **v, size_t n, size_t lines, int streams)
{
	struct hcollect	 h;
	json_t		*a = json_array();
	size_t		 i, from;

	memset(&h, 0, sizeof h);
	h.streams = streams;
	for (i = 0; i < n; i++) {
		if (v[i]->logio == NULL)
			continue;
		h.io = v[i]->logio;
		ring_foreach(&h.io->ring, hcollect_cb, &h);
		hcollect_carry_out(&h, h.n > 0 ? h.v[h.n - 1].time : 0);
	}
	if (h.n > 1)
		qsort(h.v, h.n, sizeof *h.v, hline_cmp);
	from = h.n > lines ? h.n - lines : 0;
	for (i = 0; i < h.n; i++) {
		if (i >= from)
			json_array_append_new(a, h.v[i].obj);
		else
			json_decref(h.v[i].obj);
	}
	free(h.v);
	free(h.carry);
	return a;
}

static json_t *
logs_names(struct svc **v, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]->name));
	return a;
}

json_t *
logs_history(struct svc **v, size_t n, size_t lines, int streams)
{
	return json_pack("{s:o,s:o}", WIRE_K_INSTANCES, logs_names(v, n),
	    WIRE_K_LINES, logs_collect(v, n, lines, streams));
}

/* Followers: logfollow.c */

static struct logfollow_list *
logs_list_of(const struct svc *s)
{
	return s->logio != NULL ? &s->logio->followers : NULL;
}

void
logs_follow(struct logs *l, struct events *e, struct client *cl, long long id,
    struct svc **v, size_t n, size_t lines, int streams, bool events)
{
	logfollow_start(l->follow, e, cl, id, v, n,
	    logs_history(v, n, lines, streams), streams, events);
}

void
logs_client_gone(struct logs *l, struct client *cl)
{
	logfollow_client_gone(l->follow, cl);
}

bool
logs_client_following(const struct logs *l, const struct client *cl)
{
	return logfollow_client_following(l->follow, cl);
}

void
logs_client_drained(struct logs *l, struct client *cl)
{
	logfollow_client_drained(l->follow, cl);
}
