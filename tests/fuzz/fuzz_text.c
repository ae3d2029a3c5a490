/*
 * fuzz_text.c: proto_text, which turns the bytes programs write (log
 * lines, command lines) into the JSON strings tendd sends.
 *
 * Properties: the string exists whatever the bytes (json_stringn refuses
 * what is not UTF-8: a slip in proto_text's checks would be a NULL);
 * valid UTF-8 passes unchanged; every other byte is "\xNN", so that
 * undoing those gives the bytes back; the string survives a reply frame.
 */
#include "fuzz.h"
#include "proto.h"
#include "util.h"

static int
fuzz_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The bytes with every "\xNN" back as byte NN. */
static char *
fuzz_undo(const char *s, size_t len, size_t *outlen)
{
	char	*out, *o;
	size_t	 i;

	o = out = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' &&
		    fuzz_hex(s[i + 2]) != -1 && fuzz_hex(s[i + 3]) != -1) {
			*o++ = (char)(fuzz_hex(s[i + 2]) << 4 |
			    fuzz_hex(s[i + 3]));
			i += 3;
		} else
			*o++ = s[i];
	}
	*outlen = (size_t)(o - out);
	return out;
}

static void
fuzz_wire(const json_t *j)
{
	struct proto_reply	 rep;
	const json_t		*line;
	char			*frame, err[256];
	size_t			 len;
	json_t			*m, *m2;

	m = proto_reply_ok(1, json_pack("{s:O}", "line", j));
	FUZZ_CHECK(m != NULL);
	frame = proto_encode(m, &len);
	FUZZ_CHECK(frame != NULL);
	FUZZ_CHECK(memchr(frame, '\n', len - 1) == NULL);
	FUZZ_CHECK(proto_decode_reply(frame, len - 1, &m2, &rep, err,
	    sizeof err) == 0);
	line = json_object_get(rep.result, "line");
	FUZZ_CHECK(json_is_string(line));
	FUZZ_CHECK(json_string_length(line) == json_string_length(j));
	FUZZ_CHECK(memcmp(json_string_value(line), json_string_value(j),
	    json_string_length(j)) == 0);
	json_decref(m2);
	json_decref(m);
	free(frame);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data, *s;
	json_t		*j, *plain;
	char		*undone;
	size_t		 len, n;

	j = proto_text(in, size);
	FUZZ_CHECK(json_is_string(j));
	s = json_string_value(j);
	len = json_string_length(j);
	FUZZ_CHECK(len <= 4 * size);

	/* What jansson takes as it is, proto_text leaves as it is. */
	if ((plain = json_stringn(in, size)) != NULL) {
		FUZZ_CHECK(len == size && memcmp(s, in, size) == 0);
		json_decref(plain);
	}
	/* Without a backslash of its own, the text says which bytes were
	   escaped, and which they were. */
	if (memchr(in, '\\', size) == NULL) {
		undone = fuzz_undo(s, len, &n);
		FUZZ_CHECK(n == size && memcmp(undone, in, size) == 0);
		free(undone);
	}
	fuzz_wire(j);
	json_decref(j);
	return 0;
}
