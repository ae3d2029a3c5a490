/* ring.c: a byte ring of (header, text) records with eviction by size. */
#include <stdlib.h>
#include <string.h>

#include "ring.h"
#include "util.h"

#define RING_MIN_CAP	1024

void
ring_init(struct ring *r, size_t size)
{
	memset(r, 0, sizeof *r);
	ring_resize(r, size);
}

void
ring_clear(struct ring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->cap = r->head = r->used = r->text = r->count = 0;
}

static void
ring_copy_out(const struct ring *r, size_t off, void *dst, size_t n)
{
	size_t	 first;

	off %= r->cap;
	first = r->cap - off < n ? r->cap - off : n;
	memcpy(dst, r->buf + off, first);
	memcpy((char *)dst + first, r->buf, n - first);
}

static void
ring_copy_in(struct ring *r, size_t off, const void *src, size_t n)
{
	size_t	 first;

	off %= r->cap;
	first = r->cap - off < n ? r->cap - off : n;
	memcpy(r->buf + off, src, first);
	memcpy(r->buf, (const char *)src + first, n - first);
}

static size_t
ring_rec_storage(const struct ring_rec *h)
{
	return sizeof *h + ((h->flags & RING_SPAN) ? 0 : h->len);
}

static void
ring_evict(struct ring *r)
{
	struct ring_rec	 h;

	ring_copy_out(r, r->head, &h, sizeof h);
	r->head = (r->head + ring_rec_storage(&h)) % r->cap;
	r->used -= ring_rec_storage(&h);
	r->text -= h.len;
	r->count--;
}

/* Move the records into a new buffer of cap bytes (they must fit). */
static void
ring_realloc(struct ring *r, size_t cap)
{
	char	*nb = xmalloc(cap);

	if (r->used > 0)
		ring_copy_out(r, r->head, nb, r->used);
	free(r->buf);
	r->buf = nb;
	r->cap = cap;
	r->head = 0;
}

void
ring_resize(struct ring *r, size_t size)
{
	if (size > RING_MAX_SIZE)
		size = RING_MAX_SIZE;
	r->size = (uint32_t)size;
	/* Headers need room too: allow twice the text in storage. */
	r->max_cap = r->size * 2 + 4 * sizeof(struct ring_rec);
	while (r->count > 0 && (r->text > r->size || r->used > r->max_cap))
		ring_evict(r);
	if (r->cap > r->max_cap)
		ring_realloc(r, r->max_cap > r->used ? r->max_cap : r->used);
}

/*
 * Drop excess bytes of text, oldest first: whole lines, but only the
 * front of a span (it costs no storage, and may hold many lines).
 */
static void
ring_trim(struct ring *r, size_t excess)
{
	struct ring_rec	 h;

	while (r->count > 0 && excess > 0) {
		ring_copy_out(r, r->head, &h, sizeof h);
		if ((h.flags & RING_SPAN) && h.len > excess) {
			h.offset += excess;
			h.len -= (uint32_t)excess;
			h.flags |= RING_CUT;
			ring_copy_in(r, r->head, &h, sizeof h);
			r->text -= (uint32_t)excess;
			return;
		}
		excess = h.len >= excess ? 0 : excess - h.len;
		ring_evict(r);
	}
}

/* Make room for a record of storage need and text len; false if none. */
static bool
ring_reserve(struct ring *r, size_t need, size_t len)
{
	size_t	 cap;

	if (need > r->max_cap || len > r->size)
		return false;
	if (r->text + len > r->size)
		ring_trim(r, r->text + len - r->size);
	if (r->used + need > r->cap && r->cap < r->max_cap) {
		cap = r->cap < RING_MIN_CAP ? RING_MIN_CAP : r->cap;
		while (cap < r->used + need && cap < r->max_cap)
			cap *= 2;
		if (cap > r->max_cap)
			cap = r->max_cap;
		ring_realloc(r, cap);
	}
	while (r->count > 0 && r->used + need > r->cap)
		ring_evict(r);
	return r->used + need <= r->cap;
}

static void
ring_append(struct ring *r, const struct ring_rec *h, const char *text)
{
	size_t	 tail;

	tail = (r->head + r->used) % r->cap;
	ring_copy_in(r, tail, h, sizeof *h);
	if (text != NULL)
		ring_copy_in(r, tail + sizeof *h, text, h->len);
	r->used += ring_rec_storage(h);
	r->text += h->len;
	r->count++;
}

void
ring_add(struct ring *r, uint64_t time, int stream, int flags,
    const char *text, size_t len)
{
	struct ring_rec	 h;

	if (len > r->size) {
		/* Only the end of an over-long line can be kept. */
		text += len - r->size;
		len = r->size;
		flags |= RING_PARTIAL;
	}
	memset(&h, 0, sizeof h);
	h.time = time;
	h.stream = (uint8_t)stream;
	h.flags = (uint8_t)(flags & ~RING_SPAN);
	h.len = (uint32_t)len;
	if (r->size == 0 || !ring_reserve(r, sizeof h + len, len))
		return;
	ring_append(r, &h, text);
}

void
ring_add_span(struct ring *r, uint64_t time, int stream, int flags,
    uint64_t file_id, uint64_t offset, size_t len)
{
	struct ring_rec	 h;

	flags &= RING_CUT;
	if (len > r->size) {
		offset += len - r->size;
		len = r->size;
		flags |= RING_CUT;
	}
	memset(&h, 0, sizeof h);
	h.time = time;
	h.stream = (uint8_t)stream;
	h.flags = (uint8_t)(RING_SPAN | flags);
	h.len = (uint32_t)len;
	h.file_id = file_id;
	h.offset = offset;
	if (r->size == 0 || !ring_reserve(r, sizeof h, len))
		return;
	ring_append(r, &h, NULL);
}

size_t
ring_foreach(const struct ring *r,
    void (*fn)(const struct ring_rec *, const char *, void *), void *arg)
{
	struct ring_rec	 h;
	size_t		 off = r->head, i;
	char		*text = NULL;

	for (i = 0; i < r->count; i++) {
		ring_copy_out(r, off, &h, sizeof h);
		if (!(h.flags & RING_SPAN)) {
			text = xreallocarray(text, h.len + 1, 1);
			ring_copy_out(r, off + sizeof h, text, h.len);
			text[h.len] = '\0';
			fn(&h, text, arg);
		} else
			fn(&h, NULL, arg);
		off = (off + ring_rec_storage(&h)) % r->cap;
	}
	free(text);
	return r->count;
}

size_t
ring_count(const struct ring *r)
{
	return r->count;
}
