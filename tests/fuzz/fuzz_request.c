/*
 * fuzz_request.c: what a client sends tendd. tendd cuts its input into
 * lines at '\n' (evbuffer_readln) and decodes each with
 * proto_decode_request; so does this, line by line.
 *
 * Properties: a rejected line gets a known error code and a message; an
 * accepted one has a command and an args object, and encoding the decoded
 * request again and decoding that gives the same request (its reals to
 * the microsecond, as proto_encode writes them).
 */
#include "fuzz.h"
#include "fuzz_json.h"
#include "proto.h"

static const char *const fuzz_codes[] = {
	PROTO_E_BAD_REQUEST, PROTO_E_TOO_LARGE, PROTO_E_VERSION,
};

static void
fuzz_round_trip(const struct proto_request *req)
{
	struct proto_request	 again;
	const char		*code;
	char			*frame, err[256];
	size_t			 len;
	json_t			*m, *m2;

	m = proto_request_new(req->id, req->cmd, json_deep_copy(req->args));
	FUZZ_CHECK(m != NULL);
	frame = proto_encode(m, &len);
	FUZZ_CHECK(frame != NULL);
	FUZZ_CHECK(len > 0 && frame[len - 1] == '\n');
	FUZZ_CHECK(memchr(frame, '\n', len - 1) == NULL);
	FUZZ_CHECK(proto_decode_request(frame, len - 1, &m2, &again, &code,
	    err, sizeof err) == 0);
	FUZZ_CHECK(again.id == req->id);
	FUZZ_CHECK(strcmp(again.cmd, req->cmd) == 0);
	FUZZ_CHECK(fuzz_json_close(req->args, again.args));
	json_decref(m2);
	json_decref(m);
	free(frame);
}

static void
fuzz_line(const char *line, size_t len)
{
	struct proto_request	 req;
	const char		*code;
	json_t			*m;
	char			*err;
	size_t			 errlen = 256, i;
	int			 rc, known = 0;

	/* Exactly as long as said, so ASan sees a write past it. */
	err = malloc(errlen);
	FUZZ_CHECK(err != NULL);
	rc = proto_decode_request(line, len, &m, &req, &code, err, errlen);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == -1) {
		for (i = 0; i < sizeof fuzz_codes / sizeof fuzz_codes[0]; i++)
			known |= code != NULL && strcmp(code, fuzz_codes[i]) == 0;
		FUZZ_CHECK(known);
		FUZZ_CHECK_MSG(err, errlen);
		FUZZ_CHECK(m == NULL || json_is_object(m));
	} else {
		FUZZ_CHECK(code == NULL);
		FUZZ_CHECK(json_is_object(m));
		FUZZ_CHECK(req.cmd != NULL);
		FUZZ_CHECK(json_is_object(req.args));
		FUZZ_CHECK(json_object_get(m, "args") == req.args);
		fuzz_round_trip(&req);
	}
	json_decref(m);
	free(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *nl;

	/* Each whole line, and what follows the last newline as if the
	   client had sent one more. */
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		fuzz_line(p, (size_t)(nl - p));
		p = nl + 1;
	}
	return 0;
}
