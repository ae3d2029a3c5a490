/*
 * fuzz_state.c: state_dir/state.json as tendd reads it at start
 * (state_load): a file left by another version, a crash, or a person.
 *
 * Properties: a rejected file leaves the state empty and says why; an
 * accepted one holds only valid, distinct instances, and survives
 * state_to_json/state_from_json and state_save/state_load unchanged.
 */
#include <sys/stat.h>

#include "fuzz.h"
#include "state.h"
#include "util.h"

#define FUZZ_ERRLEN	256

static char	*fuzz_dir;	/* a private state_dir */
static char	*fuzz_file;	/* fuzz_dir/state.json */

static void
fuzz_cleanup(void)
{
	if (fuzz_dir == NULL)
		return;
	unlink(fuzz_file);
	rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_dir = fuzz_mkdtemp("state");
	xasprintf(&fuzz_file, "%s/state.json", fuzz_dir);
	atexit(fuzz_cleanup);
	return 0;
}

static void
fuzz_same(const struct state *a, const struct state *b)
{
	size_t	 i;

	FUZZ_CHECK(strcmp(a->boot_id, b->boot_id) == 0);
	FUZZ_CHECK(a->tendd_pid == b->tendd_pid);
	FUZZ_CHECK(a->n == b->n);
	for (i = 0; i < a->n; i++) {
		FUZZ_CHECK(strcmp(a->v[i].program, b->v[i].program) == 0);
		FUZZ_CHECK(a->v[i].index == b->v[i].index);
		FUZZ_CHECK(a->v[i].pid == b->v[i].pid);
		FUZZ_CHECK(a->v[i].starttime == b->v[i].starttime);
		FUZZ_CHECK(a->v[i].want == b->v[i].want);
		FUZZ_CHECK(a->v[i].conf_hash == b->v[i].conf_hash);
	}
}

static void
fuzz_check(const struct state *st, char *err)
{
	struct state	 again;
	size_t		 i, j;
	json_t		*root;

	FUZZ_CHECK(memchr(st->boot_id, '\0', sizeof st->boot_id) != NULL);
	FUZZ_CHECK(st->tendd_pid >= 0);
	for (i = 0; i < st->n; i++) {
		FUZZ_CHECK(util_valid_name(st->v[i].program));
		FUZZ_CHECK(st->v[i].pid >= 0);
		FUZZ_CHECK(st->v[i].want == STATE_WANT_NONE ||
		    st->v[i].want == STATE_WANT_UP ||
		    st->v[i].want == STATE_WANT_DOWN);
		FUZZ_CHECK(state_find(st, st->v[i].program, st->v[i].index) ==
		    &st->v[i]);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(st->v[i].index != st->v[j].index ||
			    strcmp(st->v[i].program, st->v[j].program) != 0);
	}

	/* The JSON form, in memory. */
	root = state_to_json(st);
	FUZZ_CHECK(root != NULL);
	FUZZ_CHECK(state_from_json(root, &again, err, FUZZ_ERRLEN) == 0);
	fuzz_same(st, &again);
	state_clear(&again);
	json_decref(root);

	/* And through the file, as tendd writes it. */
	FUZZ_CHECK(state_save(fuzz_dir, st, false, err, FUZZ_ERRLEN) == 0);
	FUZZ_CHECK(state_load(fuzz_dir, &again, err, FUZZ_ERRLEN) == 0);
	fuzz_same(st, &again);
	state_clear(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state	 st;
	char		*err;
	int		 rc;

	fuzz_write_file(fuzz_file, data, size);

	err = xmalloc(FUZZ_ERRLEN);
	rc = state_load(fuzz_dir, &st, err, FUZZ_ERRLEN);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_CHECK_MSG(err, FUZZ_ERRLEN);
		FUZZ_CHECK(st.n == 0 && st.v == NULL);
	} else
		fuzz_check(&st, err);
	state_clear(&st);
	free(err);
	FUZZ_CHECK(unlink(fuzz_file) == 0);
	/* Nothing else is left behind (state_save's temporary file). */
	FUZZ_CHECK(rmdir(fuzz_dir) == 0 && mkdir(fuzz_dir, 0700) == 0);
	return 0;
}
