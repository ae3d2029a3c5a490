/*
 * fuzz_reply.c: what tendctl reads from tendd. It pushes what each read
 * returns into a proto_buf, takes whole lines out, and decodes each with
 * proto_decode_reply; so does this, with reads of the sizes the first
 * byte of the input picks.
 *
 * Properties: the lines taken out are the input up to its last newline,
 * in order and whole, however it was cut into reads; a rejected line gets
 * a message; an accepted one says what it is (event, ok with its result,
 * or an error with code and message), and encoding it again and decoding
 * that gives the same (reals to the microsecond).
 */
#include "fuzz.h"
#include "fuzz_json.h"
#include "proto.h"

static json_t *
fuzz_reencode(const struct proto_reply *rep)
{
	if (rep->is_event)
		return proto_event_new(rep->id, json_deep_copy(rep->result));
	if (rep->ok)
		return proto_reply_ok(rep->id, json_deep_copy(rep->result));
	return proto_reply_error(rep->id, rep->code, "%s", rep->message);
}

static void
fuzz_round_trip(const struct proto_reply *rep)
{
	struct proto_reply	 again;
	char			*frame, err[256];
	size_t			 len;
	json_t			*m, *m2;

	/* The builders take C strings: an error with a NUL in its code or
	   message does not survive them; an ok reply without a result
	   gets an empty one. */
	if (!rep->is_event && !rep->ok && (strlen(rep->code) !=
	    json_string_length(json_object_get(rep->error, "code")) ||
	    strlen(rep->message) !=
	    json_string_length(json_object_get(rep->error, "message"))))
		return;
	if (!rep->is_event && rep->ok && rep->result == NULL)
		return;
	m = fuzz_reencode(rep);
	FUZZ_CHECK(m != NULL);
	frame = proto_encode(m, &len);
	FUZZ_CHECK(frame != NULL);
	FUZZ_CHECK(len > 0 && frame[len - 1] == '\n');
	FUZZ_CHECK(memchr(frame, '\n', len - 1) == NULL);
	FUZZ_CHECK(proto_decode_reply(frame, len - 1, &m2, &again, err,
	    sizeof err) == 0);
	FUZZ_CHECK(again.id == rep->id);
	FUZZ_CHECK(again.is_event == rep->is_event);
	FUZZ_CHECK(again.ok == rep->ok);
	if (rep->is_event || rep->ok)
		FUZZ_CHECK(fuzz_json_close(rep->result, again.result));
	else {
		FUZZ_CHECK(strcmp(again.code, rep->code) == 0);
		FUZZ_CHECK(strcmp(again.message, rep->message) == 0);
	}
	json_decref(m2);
	json_decref(m);
	free(frame);
}

static void
fuzz_line(const char *line, size_t len)
{
	struct proto_reply	 rep;
	json_t			*m;
	char			*err;
	size_t			 errlen = 256;
	int			 rc;

	err = malloc(errlen);
	FUZZ_CHECK(err != NULL);
	rc = proto_decode_reply(line, len, &m, &rep, err, errlen);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1) {
		FUZZ_CHECK_MSG(err, errlen);
		FUZZ_CHECK(m == NULL || json_is_object(m));
	} else {
		FUZZ_CHECK(json_is_object(m));
		FUZZ_CHECK(json_integer_value(json_object_get(m, "id")) ==
		    rep.id);
		if (rep.is_event) {
			FUZZ_CHECK(rep.ok);
			FUZZ_CHECK(rep.result == json_object_get(m, "event"));
		} else if (rep.ok)
			FUZZ_CHECK(rep.result == json_object_get(m, "result"));
		else {
			FUZZ_CHECK(json_is_object(rep.error));
			FUZZ_CHECK(rep.code != NULL && rep.message != NULL);
		}
		fuzz_round_trip(&rep);
	}
	json_decref(m);
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_buf	 buf;
	const char		*in, *end, *want;
	char			*line;
	size_t			 len, chunk, step;
	int			 r;

	if (size == 0)
		return 0;
	/* Reads of 1 to 256 bytes, a different size each time. */
	step = (size_t)data[0] + 1;
	in = want = (const char *)data + 1;
	end = (const char *)data + size;
	proto_buf_init(&buf);
	while (in < end) {
		chunk = step < (size_t)(end - in) ? step : (size_t)(end - in);
		proto_buf_push(&buf, in, chunk);
		in += chunk;
		step = step % 251 + 7;
		while ((r = proto_buf_line(&buf, &line, &len)) == 1) {
			/* The next line of the input, and no more. */
			FUZZ_CHECK(len < (size_t)(end - want));
			FUZZ_CHECK(memcmp(line, want, len) == 0);
			FUZZ_CHECK(want[len] == '\n');
			FUZZ_CHECK(memchr(line, '\n', len) == NULL);
			FUZZ_CHECK(line[len] == '\0');
			want += len + 1;
			fuzz_line(line, len);
		}
		/* Inputs are far below PROTO_MAX_MSG. */
		FUZZ_CHECK(r == 0);
	}
	/* Only what follows the last newline is left. */
	FUZZ_CHECK(memchr(want, '\n', (size_t)(end - want)) == NULL);
	proto_buf_free(&buf);
	return 0;
}
