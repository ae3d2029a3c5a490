/*
 * ring.h: a bounded in-memory history of an instance's output lines.
 *
 * Records are appended at the tail and the oldest are evicted once the
 * text they hold passes the ring's size. A record is either the bytes of
 * a line, or a span of a log file that tendd wrote without reading it
 * (splice, or a flood's batched write): the span is read back from the
 * file only when someone asks. The oldest span gives up only its front
 * to make room, so one large span does not take the whole history with
 * it.
 * Storage grows on demand up to about twice the size, so a quiet
 * instance costs little.
 */
#ifndef TEND_RING_H
#define TEND_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_PARTIAL	0x1	/* line cut (no newline, or too long) */
#define RING_SPAN	0x2	/* a file span, not bytes */
#define RING_CUT	0x4	/* a span that may start inside a line: its
				   front was dropped, or it goes on from
				   the span before it (splice) */

struct ring_rec {
	uint64_t	 time;		/* usec since the epoch */
	uint8_t		 stream;	/* 0 stdout, 1 stderr */
	uint8_t		 flags;
	uint32_t	 len;		/* text length (or span length) */
	/* For spans: which file (an id that changes on rotation), where. */
	uint64_t	 file_id;
	uint64_t	 offset;
};

/* The text a ring may hold: more than log_ring_size's limit. */
#define RING_MAX_SIZE	(256 * 1024 * 1024)

/*
 * Defined here so that its owner can embed it (every instance has one):
 * use the functions, not the fields. 32-bit sizes, since storage stays
 * below twice RING_MAX_SIZE.
 */
struct ring {
	char		*buf;
	uint32_t	 cap;		/* storage, grows up to max_cap */
	uint32_t	 max_cap;
	uint32_t	 head;		/* offset of the oldest record */
	uint32_t	 used;		/* bytes of storage in use */
	uint32_t	 text;		/* text bytes held (spans count) */
	uint32_t	 size;		/* the limit on text */
	uint32_t	 count;
};

/* An empty ring of size (at most RING_MAX_SIZE) in r. */
void		 ring_init(struct ring *r, size_t size);
/* Free the storage: r is empty and may be used again. */
void		 ring_clear(struct ring *);
void		 ring_resize(struct ring *, size_t);
/* Append a line (text without its newline). */
void		 ring_add(struct ring *, uint64_t time, int stream, int flags,
		    const char *, size_t);
/*
 * Append a span of len bytes at offset of file file_id; flags RING_CUT
 * if it may start inside a line. A span longer than the ring keeps its
 * end, and RING_CUT.
 */
void		 ring_add_span(struct ring *, uint64_t time, int stream,
		    int flags, uint64_t file_id, uint64_t offset, size_t len);
/*
 * Visit records oldest first. For a span, text is NULL. Returns the
 * number visited.
 */
size_t		 ring_foreach(const struct ring *,
		    void (*)(const struct ring_rec *, const char *, void *),
		    void *);
size_t		 ring_count(const struct ring *);

#endif
