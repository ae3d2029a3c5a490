/* test_events.c: the change stream: sequence numbers, the ring's bounds,
 * replay and gaps, subscribers and their order, the saved reserve. */
#include <sys/wait.h>

#include <signal.h>

#include "events.h"
#include "svc.h"
#include "t.h"

static struct events_msg
msg(enum events_type type, const char *program)
{
	struct events_msg	 m;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.program = program;
	m.old = -1;
	m.status = -1;
	return m;
}

static uint64_t
pub(struct events *e, enum events_type type)
{
	struct events_msg	 m = msg(type, "p");

	return events_publish(e, &m);
}

T_CASE(sequence_numbers_increase)
{
	struct events	*e = events_new(10);
	uint64_t	 a, b, c;

	T_CHECK(events_first(e) > events_last(e));
	a = pub(e, EVENTS_TENDD_STARTED);
	b = pub(e, EVENTS_INSTANCE_SPAWNED);
	c = pub(e, EVENTS_TENDD_READY);
	T_INTEQ(a, 1);
	T_INTEQ(b, 2);
	T_INTEQ(c, 3);
	T_INTEQ(events_first(e), 1);
	T_INTEQ(events_last(e), 3);
	T_INTEQ(events_get(e, 2)->type, EVENTS_INSTANCE_SPAWNED);
	T_CHECK(events_get(e, 4) == NULL);
	T_CHECK(events_get(e, 0) == NULL);
	events_free(e);
}

T_CASE(ring_keeps_the_last_capacity)
{
	struct events	*e = events_new(100);
	uint64_t	 i;

	/* Past the growth steps (64, 100) and round the ring a few times. */
	for (i = 1; i <= 1000; i++)
		T_INTEQ(pub(e, EVENTS_LOG_DROPPED), i);
	T_INTEQ(events_first(e), 901);
	T_INTEQ(events_last(e), 1000);
	T_CHECK(events_get(e, 900) == NULL);
	for (i = 901; i <= 1000; i++) {
		const struct events_rec *r = events_get(e, i);

		T_CHECK(r != NULL && r->seq == i);
	}
	/* Smaller: the oldest go, the newest stay in order. */
	events_resize(e, 10);
	T_INTEQ(events_first(e), 991);
	T_INTEQ(events_get(e, 995)->seq, 995);
	T_INTEQ(pub(e, EVENTS_LOG_DROPPED), 1001);
	T_INTEQ(events_first(e), 992);
	/* Larger: grows again as events come. */
	events_resize(e, 50);
	for (i = 0; i < 60; i++)
		pub(e, EVENTS_LOG_DROPPED);
	T_INTEQ(events_last(e), 1061);
	T_INTEQ(events_first(e), 1012);
	T_INTEQ(events_get(e, 1012)->seq, 1012);
	events_free(e);
}

T_CASE(since_wall_finds_the_first_at_or_after)
{
	struct events	*e = events_new(16);
	uint64_t	 w;

	pub(e, EVENTS_TENDD_STARTED);
	pub(e, EVENTS_TENDD_READY);
	w = events_get(e, 2)->wall;
	T_CHECK(events_since_wall(e, 0) == 1);
	T_CHECK(events_since_wall(e, w) <= 2);
	T_INTEQ(events_since_wall(e, w + 3600ULL * 1000000), 3);
	events_free(e);
}

struct seen {
	uint64_t	 seqs[16];
	int		 types[16];
	size_t		 n;
	struct events	*e;
	bool		 nest;
};

static void
record(const struct events_msg *m, const struct events_rec *r, void *arg)
{
	struct seen	*s = arg;

	if (s->n < 16) {
		s->seqs[s->n] = r->seq;
		s->types[s->n++] = r->type;
	}
	/* A subscriber that publishes: stored at once, in order. */
	if (s->nest && m->type == EVENTS_TENDD_STOPPING) {
		s->nest = false;
		pub(s->e, EVENTS_INSTANCE_STOPPING);
	}
}

T_CASE(subscribers_get_their_types_in_order)
{
	struct events	*e = events_new(16);
	struct seen	 a, b;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a.e = b.e = e;
	a.nest = true;
	events_subscribe(e, EVENTS_ALL, record, &a);
	events_subscribe(e, EVENTS_INSTANCE, record, &b);
	pub(e, EVENTS_TENDD_STARTED);
	pub(e, EVENTS_INSTANCE_RUNNING);
	pub(e, EVENTS_TENDD_STOPPING);
	T_INTEQ(a.n, 4);
	T_INTEQ(a.seqs[0], 1);
	T_INTEQ(a.seqs[1], 2);
	T_INTEQ(a.seqs[2], 3);
	T_INTEQ(a.seqs[3], 4);
	T_INTEQ(a.types[3], EVENTS_INSTANCE_STOPPING);
	/* b: only instance events. */
	T_INTEQ(b.n, 2);
	T_INTEQ(b.seqs[0], 2);
	T_INTEQ(b.seqs[1], 4);
	T_INTEQ(events_get(e, 3)->type, EVENTS_TENDD_STOPPING);
	T_INTEQ(events_get(e, 4)->type, EVENTS_INSTANCE_STOPPING);
	events_unsubscribe(e, record, &a);
	pub(e, EVENTS_INSTANCE_RUNNING);
	T_INTEQ(a.n, 4);
	T_INTEQ(b.n, 3);
	events_free(e);
}

static uint64_t	 fake_now(void) { return 5000000; }

static const struct svc_ops ops = { .now = fake_now };

T_CASE(json_of_an_exit)
{
	struct events		*e = events_new(4);
	struct conf_program	 cp;
	struct svc		*s;
	struct events_msg	 m;
	json_t			*o;

	memset(&cp, 0, sizeof cp);
	cp.name = "flaky";
	cp.instances = 2;
	cp.restart_delay = 400000;
	s = svc_new(&ops, &cp, NULL, 1, "flaky:1");
	s->state = SVC_BACKOFF;
	s->fails = 3;
	memset(&m, 0, sizeof m);
	m.type = EVENTS_INSTANCE_EXITED;
	m.svc = s;
	m.old = SVC_RUNNING;
	m.pid = 4242;
	m.status = 3 << 8;
	m.ran = 1500000;
	m.delay = 400000;
	m.next = EVENTS_NEXT_BACKOFF;
	m.data = json_pack("{s:s}", "extra", "x");
	events_publish(e, &m);
	T_CHECK(m.data == NULL);
	o = events_json(events_get(e, 1));
	T_STREQ(json_string_value(json_object_get(o, "type")),
	    "instance.exited");
	T_STREQ(json_string_value(json_object_get(o, "program")), "flaky");
	T_STREQ(json_string_value(json_object_get(o, "name")), "flaky:1");
	T_INTEQ(json_integer_value(json_object_get(o, "instance")), 1);
	T_INTEQ(json_integer_value(json_object_get(o, "pid")), 4242);
	T_INTEQ(json_integer_value(json_object_get(o, "code")), 3);
	T_CHECK(json_object_get(o, "signal") == NULL);
	T_STREQ(json_string_value(json_object_get(o, "next")), "backoff");
	T_CHECK(json_real_value(json_object_get(o, "delay")) == 0.4);
	T_CHECK(json_real_value(json_object_get(o, "ran")) == 1.5);
	/* fails 3 so far: the next try is the fourth. */
	T_INTEQ(json_integer_value(json_object_get(o, "attempt")), 4);
	T_STREQ(json_string_value(json_object_get(o, "from")), "running");
	T_STREQ(json_string_value(json_object_get(o, "state")), "backoff");
	T_STREQ(json_string_value(json_object_get(o, "extra")), "x");
	T_INTEQ(json_integer_value(json_object_get(o, "seq")), 1);
	json_decref(o);

	/* Killed by a signal. */
	m.data = NULL;
	m.status = SIGKILL;
	m.next = EVENTS_NEXT_STOPPED;
	events_publish(e, &m);
	o = events_json(events_get(e, 2));
	T_INTEQ(json_integer_value(json_object_get(o, "signal")), SIGKILL);
	T_STREQ(json_string_value(json_object_get(o, "signal_name")), "KILL");
	T_STREQ(json_string_value(json_object_get(o, "next")), "stopped");
	T_CHECK(json_object_get(o, "attempt") == NULL);
	json_decref(o);
	svc_free(s);
	events_free(e);
}

/* Names short enough live in the record (and move with it as the ring
   grows); longer ones on the heap. */
T_CASE(names_inline_and_long)
{
	struct events		*e = events_new(500);
	struct events_msg	 m;
	char			 name[200];
	int			 i;

	memset(name, 'x', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	for (i = 0; i < 300; i++) {
		m = msg(EVENTS_CONFIG_RELOADED, i % 2 ? name : "web");
		events_publish(e, &m);
	}
	for (i = 0; i < 300; i++) {
		const struct events_rec *r = events_get(e, (uint64_t)i + 1);

		T_STREQ(r->program, i % 2 ? name : "web");
		T_CHECK(r->name == NULL);
	}
	events_resize(e, 10);
	T_STREQ(events_get(e, 300)->program, name);
	T_STREQ(events_get(e, 299)->program, "web");
	events_free(e);
}

T_CASE(type_names_round_trip)
{
	int	 t;

	for (t = 0; t < EVENTS_NTYPES; t++)
		T_INTEQ(events_type_parse(events_type_name(t)), t);
	T_INTEQ(events_type_parse("instance.nonsense"), -1);
}

static int	 asked;

static void
ask(void *arg)
{
	asked++;
}

T_CASE(reserve_survives_a_restart)
{
	struct events	*e = events_new(8), *e2;
	uint64_t	 saved, last, i;

	events_on_reserve(e, ask, NULL);
	saved = events_reserve(e);
	for (i = 0; i < 40000; i++)
		last = pub(e, EVENTS_LOG_DROPPED);
	/* Half the reserve used: asked to save, once. */
	T_INTEQ(asked, 1);
	T_CHECK(last < saved);
	events_free(e);
	/* A tendd killed before that save: the next starts above. */
	e2 = events_new(8);
	events_resume(e2, saved);
	T_CHECK(pub(e2, EVENTS_TENDD_STARTED) > last);
	events_free(e2);
}

T_MAIN(T_ENTRY(sequence_numbers_increase),
    T_ENTRY(ring_keeps_the_last_capacity),
    T_ENTRY(since_wall_finds_the_first_at_or_after),
    T_ENTRY(subscribers_get_their_types_in_order),
    T_ENTRY(json_of_an_exit),
    T_ENTRY(names_inline_and_long),
    T_ENTRY(type_names_round_trip),
    T_ENTRY(reserve_survives_a_restart))
