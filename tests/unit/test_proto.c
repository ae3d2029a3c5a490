/* test_proto.c: frames, request and reply decoding, the line splitter. */
#include "proto.h"
#include "t.h"
#include "util.h"

static int
decode_req(const char *s, struct proto_request *req, const char **code)
{
	char	 err[256];
	json_t	*m;
	int	 rc;

	rc = proto_decode_request(s, strlen(s), &m, req, code, err,
	    sizeof err);
	json_decref(m);
	return rc;
}

T_CASE(request_round_trip)
{
	struct proto_request	 req;
	json_t			*m, *d;
	const char		*code;
	char			*buf, err[256];
	size_t			 len;

	m = proto_request_new(42, "status",
	    json_pack("{s:[s]}", "patterns", "web*"));
	buf = proto_encode(m, &len);
	T_CHECK(buf != NULL);
	T_CHECK(len > 0 && buf[len - 1] == '\n');
	T_CHECK(memchr(buf, '\n', len - 1) == NULL);
	T_INTEQ(proto_decode_request(buf, len - 1, &d, &req, &code, err,
	    sizeof err), 0);
	T_INTEQ(req.id, 42);
	T_STREQ(req.cmd, "status");
	T_STREQ(json_string_value(json_array_get(json_object_get(req.args,
	    "patterns"), 0)), "web*");
	json_decref(d);
	json_decref(m);
	free(buf);
}

T_CASE(newlines_are_escaped)
{
	json_t	*m = proto_reply_ok(1, json_pack("{s:s}", "x", "a\nb\r\n"));
	char	*buf;
	size_t	 len;

	buf = proto_encode(m, &len);
	T_CHECK(memchr(buf, '\n', len - 1) == NULL);
	free(buf);
	json_decref(m);
}

T_CASE(request_rejects)
{
	struct proto_request	 req;
	const char		*code;

	T_INTEQ(decode_req("not json", &req, &code), -1);
	T_STREQ(code, PROTO_E_BAD_REQUEST);
	T_INTEQ(decode_req("[1,2]", &req, &code), -1);
	T_STREQ(code, PROTO_E_BAD_REQUEST);
	T_INTEQ(decode_req("{\"id\":3,\"cmd\":\"x\"}", &req, &code), -1);
	T_STREQ(code, PROTO_E_BAD_REQUEST);
	T_INTEQ(req.id, 3);
	T_INTEQ(decode_req("{\"v\":2,\"id\":4,\"cmd\":\"x\"}", &req, &code),
	    -1);
	T_STREQ(code, PROTO_E_VERSION);
	T_INTEQ(req.id, 4);
	T_INTEQ(decode_req("{\"v\":1,\"cmd\":\"x\"}", &req, &code), -1);
	T_INTEQ(decode_req("{\"v\":1,\"id\":1}", &req, &code), -1);
	T_INTEQ(decode_req("{\"v\":1,\"id\":1,\"cmd\":5}", &req, &code), -1);
	T_INTEQ(decode_req("{\"v\":1,\"id\":1,\"cmd\":\"x\",\"args\":[]}",
	    &req, &code), -1);
	T_INTEQ(decode_req("{\"v\":1,\"id\":1,\"id\":2,\"cmd\":\"x\"}", &req,
	    &code), -1);
	T_INTEQ(decode_req("{\"v\":1,\"id\":1,\"cmd\":\"x\"}", &req, &code),
	    0);
}

T_CASE(missing_args_become_empty_object)
{
	struct proto_request	 req;
	const char		*code, *s = "{\"v\":1,\"id\":1,\"cmd\":\"x\"}";
	char			 err[64];
	json_t			*m;

	T_INTEQ(proto_decode_request(s, strlen(s), &m, &req, &code, err,
	    sizeof err), 0);
	T_CHECK(json_is_object(req.args));
	T_INTEQ(json_object_size(req.args), 0);
	json_decref(m);
}

T_CASE(too_large)
{
	struct proto_request	 req;
	const char		*code;
	char			 err[128], *big, *buf;
	json_t			*m;
	size_t			 len;

	big = xmalloc(PROTO_MAX_MSG + 10);
	memset(big, 'a', PROTO_MAX_MSG + 9);
	big[PROTO_MAX_MSG + 9] = '\0';
	T_INTEQ(proto_decode_request(big, PROTO_MAX_MSG + 9, &m, &req, &code,
	    err, sizeof err), -1);
	T_STREQ(code, PROTO_E_TOO_LARGE);
	m = proto_reply_ok(1, json_pack("{s:s}", "x", big));
	buf = proto_encode(m, &len);
	T_CHECK(buf == NULL);
	json_decref(m);

	/* {"x":"aaa"} and a newline: at the limit exactly, and one past. */
	big[PROTO_MAX_MSG - 9] = '\0';
	m = json_pack("{s:s}", "x", big);
	buf = proto_encode(m, &len);
	T_CHECK(buf != NULL);
	T_INTEQ(len, PROTO_MAX_MSG);
	T_CHECK(buf != NULL && buf[len - 1] == '\n' && buf[len] == '\0');
	free(buf);
	json_decref(m);
	big[PROTO_MAX_MSG - 9] = 'a';
	big[PROTO_MAX_MSG - 8] = '\0';
	m = json_pack("{s:s}", "x", big);
	T_CHECK(proto_encode(m, &len) == NULL);
	json_decref(m);
	free(big);
}

/* The frame proto_encode makes of v, without its newline. */
static char *
encoded(json_t *v)
{
	char	*buf;
	size_t	 len;

	buf = proto_encode(v, &len);
	json_decref(v);
	if (buf != NULL)
		buf[len - 1] = '\0';
	return buf;
}

/*
 * Reals are written to the microsecond: as short as they read, epoch
 * seconds whole. Strings that look like reals, integers and reals too
 * large for decimals are left alone.
 */
T_CASE(reals_to_the_microsecond)
{
	char	*s;

	s = encoded(json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f}",
	    "uptime", 73.746197, "at", 1795402267.973452, "a", 3725.4,
	    "b", 0.1, "c", 67513.926, "d", 92262308.049507, "e", 5.0));
	T_STREQ(s, "{\"uptime\":73.746197,\"at\":1795402267.973452,"
	    "\"a\":3725.4,\"b\":0.1,\"c\":67513.926,"
	    "\"d\":92262308.049507,\"e\":5.0}");
	free(s);

	/* Rounded, not cut; signs; under 1e-4 (an exponent in %.17g). */
	s = encoded(json_pack("[f,f,f,f,f,f,f,f,f,f]", 2.0000004, 2.0000006,
	    0.9999996, -2.5, -0.0000001, 0.0, 1e-6, 5e-5, -5e-5, 1e-9));
	T_STREQ(s, "[2.0,2.000001,1.0,-2.5,0.0,0.0,0.000001,0.00005,"
	    "-0.00005,0.0]");
	free(s);

	/* Left alone. */
	s = encoded(json_pack("{s:f,s:s,s:i,s:I,s:f,s:f,s:[f,{s:f}]}",
	    "73.746196999999995", 1.5, "text", "73.746196999999995",
	    "n", 42, "big", (json_int_t)1234567890123456789LL,
	    "huge", 1e20, "large", 1234567890123.5, "deep", 1.25, "x",
	    -0.125));
	T_STREQ(s, "{\"73.746196999999995\":1.5,"
	    "\"text\":\"73.746196999999995\",\"n\":42,"
	    "\"big\":1234567890123456789,\"huge\":1e20,"
	    "\"large\":1234567890123.5,\"deep\":[1.25,{\"x\":-0.125}]}");
	free(s);

	/* Escaped quotes in strings do not end them. */
	s = encoded(json_pack("[s,f,s,f]", "\"1.0000000000000001", 0.3,
	    "\\\"", 0.7));
	T_STREQ(s, "[\"\\\"1.0000000000000001\",0.3,\"\\\\\\\"\",0.7]");
	free(s);
}

T_CASE(reply_decoding)
{
	struct proto_reply	 rep;
	char			 err[128];
	const char		*s;
	json_t			*m;

	s = "{\"v\":1,\"id\":9,\"ok\":true,\"result\":{\"a\":1}}";
	T_INTEQ(proto_decode_reply(s, strlen(s), &m, &rep, err, sizeof err),
	    0);
	T_CHECK(rep.ok);
	T_INTEQ(rep.id, 9);
	T_INTEQ(json_integer_value(json_object_get(rep.result, "a")), 1);
	json_decref(m);
	s = "{\"v\":1,\"id\":9,\"ok\":false,\"error\":{\"code\":\"failed\","
	    "\"message\":\"boom\"}}";
	T_INTEQ(proto_decode_reply(s, strlen(s), &m, &rep, err, sizeof err),
	    0);
	T_CHECK(!rep.ok);
	T_STREQ(rep.code, "failed");
	T_STREQ(rep.message, "boom");
	json_decref(m);
	s = "{\"v\":1,\"id\":9,\"ok\":false}";
	T_INTEQ(proto_decode_reply(s, strlen(s), &m, &rep, err, sizeof err),
	    -1);
	json_decref(m);
	s = "{\"v\":1,\"id\":9,\"event\":{\"line\":\"x\"}}";
	T_INTEQ(proto_decode_reply(s, strlen(s), &m, &rep, err, sizeof err),
	    0);
	T_CHECK(rep.is_event);
	json_decref(m);
}

T_CASE(error_reply_shape)
{
	json_t	*m = proto_reply_error(5, PROTO_E_NO_SUCH_PROGRAM, "no %s",
	    "web");
	json_t	*e = json_object_get(m, "error");

	T_CHECK(json_is_false(json_object_get(m, "ok")));
	T_INTEQ(json_integer_value(json_object_get(m, "id")), 5);
	T_STREQ(json_string_value(json_object_get(e, "code")),
	    "no_such_program");
	T_STREQ(json_string_value(json_object_get(e, "message")), "no web");
	json_decref(m);
}

T_CASE(line_splitter)
{
	struct proto_buf	 b;
	char			*line, *big;
	size_t			 len;

	proto_buf_init(&b);
	T_INTEQ(proto_buf_line(&b, &line, &len), 0);
	proto_buf_push(&b, "ab", 2);
	T_INTEQ(proto_buf_line(&b, &line, &len), 0);
	proto_buf_push(&b, "c\nde\nf", 6);
	T_INTEQ(proto_buf_line(&b, &line, &len), 1);
	T_STREQ(line, "abc");
	T_INTEQ(len, 3);
	T_INTEQ(proto_buf_line(&b, &line, &len), 1);
	T_STREQ(line, "de");
	T_INTEQ(proto_buf_line(&b, &line, &len), 0);
	proto_buf_push(&b, "\n", 1);
	T_INTEQ(proto_buf_line(&b, &line, &len), 1);
	T_STREQ(line, "f");
	proto_buf_free(&b);

	/* A line with no end past the limit is an error, not a buffer. */
	proto_buf_init(&b);
	big = xmalloc(PROTO_MAX_MSG);
	memset(big, 'x', PROTO_MAX_MSG);
	proto_buf_push(&b, big, PROTO_MAX_MSG);
	T_INTEQ(proto_buf_line(&b, &line, &len), -1);
	proto_buf_free(&b);
	free(big);
}

T_MAIN(T_ENTRY(request_round_trip), T_ENTRY(newlines_are_escaped),
    T_ENTRY(request_rejects),
    T_ENTRY(missing_args_become_empty_object), T_ENTRY(too_large),
    T_ENTRY(reals_to_the_microsecond), T_ENTRY(reply_decoding),
    T_ENTRY(error_reply_shape), T_ENTRY(line_splitter))
