/* test_ring.c: the line history ring: order, eviction by size, spans,
 * growth, resizing. */
#include "ring.h"
#include "t.h"

struct seen {
	char	 text[64][128];
	int	 flags[64];
	size_t	 n;
	size_t	 spans;
	uint64_t span_off[64];
	uint32_t span_len[64];
	int	 span_flags[64];
};

/* A ring on the heap, as the daemon's are (ASan sees overruns). */
static struct ring *
new_ring(size_t size)
{
	struct ring	*r = calloc(1, sizeof *r);

	ring_init(r, size);
	return r;
}

static void
free_ring(struct ring *r)
{
	ring_clear(r);
	free(r);
}

static void
collect(const struct ring_rec *h, const char *text, void *arg)
{
	struct seen	*s = arg;

	if (text == NULL) {
		s->span_off[s->spans] = h->offset;
		s->span_len[s->spans] = h->len;
		s->span_flags[s->spans++] = h->flags;
		return;
	}
	if (s->n < 64) {
		snprintf(s->text[s->n], sizeof s->text[0], "%s", text);
		s->flags[s->n] = h->flags;
		s->n++;
	}
}

/* What the ring holds now, oldest first, into a cleared s. */
static void
look(struct ring *r, struct seen *s)
{
	memset(s, 0, sizeof *s);
	ring_foreach(r, collect, s);
}

T_CASE(order_and_eviction)
{
	struct ring	*r = new_ring(20);
	struct seen	 s;

	memset(&s, 0, sizeof s);
	ring_add(r, 1, 0, 0, "aaaa", 4);
	ring_add(r, 2, 0, 0, "bbbb", 4);
	ring_add(r, 3, 1, 0, "cccccccc", 8);
	T_INTEQ(ring_count(r), 3);
	ring_add(r, 4, 0, 0, "dddddd", 6);	/* 22 > 20: "aaaa" goes */
	ring_foreach(r, collect, &s);
	T_INTEQ(s.n, 3);
	T_STREQ(s.text[0], "bbbb");
	T_STREQ(s.text[2], "dddddd");
	free_ring(r);
}

T_CASE(wraps_many_times)
{
	struct ring	*r = new_ring(100);
	struct seen	 s;
	char		 line[32];
	int		 i;

	for (i = 0; i < 10000; i++) {
		snprintf(line, sizeof line, "line %d", i);
		ring_add(r, (uint64_t)i, i % 2, 0, line, strlen(line));
	}
	look(r, &s);
	T_CHECK(s.n > 5);
	T_STREQ(s.text[s.n - 1], "line 9999");
	/* Consecutive: nothing lost in the middle of what is kept. */
	for (i = 1; i < (int)s.n; i++) {
		int a = atoi(s.text[i - 1] + 5), b = atoi(s.text[i] + 5);

		T_INTEQ(b, a + 1);
	}
	free_ring(r);
}

T_CASE(long_line_keeps_its_end)
{
	struct ring	*r = new_ring(8);
	struct seen	 s;

	ring_add(r, 1, 0, 0, "0123456789abcdef", 16);
	look(r, &s);
	T_INTEQ(s.n, 1);
	T_STREQ(s.text[0], "89abcdef");
	T_CHECK(s.flags[0] & RING_PARTIAL);
	free_ring(r);
}

T_CASE(spans_count_by_length)
{
	struct ring	*r = new_ring(1000);
	struct seen	 s;

	ring_add_span(r, 1, 0, 0, 7, 0, 600);
	ring_add_span(r, 2, 0, 0, 7, 600, 300);
	ring_add(r, 3, 0, 0, "x", 1);
	/* 1101 bytes: the first span gives up its first 101. */
	ring_add_span(r, 4, 0, 0, 7, 900, 200);
	look(r, &s);
	T_INTEQ(s.spans, 3);
	T_INTEQ(s.span_off[0], 101);
	T_INTEQ(s.span_len[0], 499);
	T_INTEQ(s.span_flags[0], RING_SPAN | RING_CUT);
	T_INTEQ(s.span_off[1], 600);
	T_INTEQ(s.span_flags[1], RING_SPAN);
	T_INTEQ(s.span_off[2], 900);
	T_INTEQ(s.n, 1);
	/* A line that needs more than the first span holds takes it whole
	   and the front of the next. */
	ring_add(r, 5, 0, 0, "0123456789", 10);
	ring_add_span(r, 6, 0, 0, 7, 1100, 495);
	look(r, &s);
	T_INTEQ(s.spans, 3);
	T_INTEQ(s.span_off[0], 606);
	T_INTEQ(s.span_len[0], 294);
	T_INTEQ(s.span_flags[0], RING_SPAN | RING_CUT);
	T_INTEQ(s.n, 2);
	T_INTEQ(ring_count(r), 5);
	free_ring(r);
}

T_CASE(span_longer_than_the_ring_keeps_its_end_cut)
{
	struct ring	*r = new_ring(1000);
	struct seen	 s;

	/* Its end, flagged: it may start inside a line (logs.c reads it
	   back knowing that). */
	ring_add_span(r, 1, 0, 0, 7, 5000, 1500);
	look(r, &s);
	T_INTEQ(s.spans, 1);
	T_INTEQ(s.span_off[0], 5500);
	T_INTEQ(s.span_len[0], 1000);
	T_INTEQ(s.span_flags[0], RING_SPAN | RING_CUT);
	/* A span its writer says may go on from the one before keeps the
	   flag; flags a span cannot have are ignored. */
	ring_add_span(r, 2, 0, RING_CUT, 7, 6500, 10);
	ring_add_span(r, 3, 0, RING_PARTIAL, 7, 6510, 10);
	look(r, &s);
	T_INTEQ(s.spans, 3);
	T_INTEQ(s.span_flags[1], RING_SPAN | RING_CUT);
	T_INTEQ(s.span_flags[2], RING_SPAN);
	free_ring(r);
}

T_CASE(lines_are_evicted_whole)
{
	struct ring	*r = new_ring(25);
	struct seen	 s;

	ring_add(r, 1, 0, 0, "0123456789", 10);
	ring_add(r, 2, 0, 0, "abcdefghij", 10);
	ring_add(r, 3, 0, 0, "xyz", 3);
	ring_add(r, 4, 0, 0, "0123", 4);	/* 27: the first line goes */
	look(r, &s);
	T_INTEQ(s.n, 3);
	T_STREQ(s.text[0], "abcdefghij");
	T_INTEQ(s.flags[0], 0);
	free_ring(r);
}

T_CASE(zero_size_keeps_nothing_and_resize)
{
	struct ring	*r = new_ring(0);
	struct seen	 s;
	int		 i;

	ring_add(r, 1, 0, 0, "x", 1);
	T_INTEQ(ring_count(r), 0);
	ring_resize(r, 64);
	for (i = 0; i < 100; i++)
		ring_add(r, 1, 0, 0, "0123456789", 10);
	T_CHECK(ring_count(r) <= 6);
	ring_resize(r, 20);
	T_CHECK(ring_count(r) <= 2);
	look(r, &s);
	T_STREQ(s.text[s.n - 1], "0123456789");
	free_ring(r);
}

T_MAIN(T_ENTRY(order_and_eviction), T_ENTRY(wraps_many_times),
    T_ENTRY(long_line_keeps_its_end), T_ENTRY(spans_count_by_length),
    T_ENTRY(span_longer_than_the_ring_keeps_its_end_cut),
    T_ENTRY(lines_are_evicted_whole),
    T_ENTRY(zero_size_keeps_nothing_and_resize))
