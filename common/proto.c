/* proto.c: encode and decode tend wire frames (newline-delimited JSON). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "util.h"

static json_t *
proto_base(json_int_t id)
{
	return json_pack("{s:i,s:I}", "v", PROTO_VERSION, "id", id);
}

json_t *
proto_request_new(json_int_t id, const char *cmd, json_t *args)
{
	json_t	*m = proto_base(id);

	json_object_set_new(m, "cmd", json_string(cmd));
	json_object_set_new(m, "args", args != NULL ? args : json_object());
	return m;
}

json_t *
proto_reply_ok(json_int_t id, json_t *result)
{
	json_t	*m = proto_base(id);

	json_object_set_new(m, "ok", json_true());
	json_object_set_new(m, "result",
	    result != NULL ? result : json_object());
	return m;
}

json_t *
proto_reply_error(json_int_t id, const char *code, const char *fmt, ...)
{
	json_t	*m = proto_base(id);
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	json_object_set_new(m, "ok", json_false());
	json_object_set_new(m, "error",
	    json_pack("{s:s,s:s}", "code", code, "message", msg));
	free(msg);
	return m;
}

json_t *
proto_event_new(json_int_t id, json_t *event)
{
	json_t	*m = proto_base(id);

	json_object_set_new(m, "event", event);
	return m;
}

/* What proto_dump passes on, and whether it is inside a string. */
struct proto_dumper {
	json_dump_callback_t	 cb;
	void			*arg;
	bool			 in_string;
};

/* Write sec.usec, six decimals less their trailing zeros (one at
   least, so that it reads back as a real); the length or -1. */
static int
proto_real_print(bool neg, unsigned long long sec, unsigned long long usec,
    char *buf, size_t len)
{
	int	 w;

	for (w = 6; w > 1 && usec % 10 == 0; w--)
		usec /= 10;
	w = snprintf(buf, len, "%s%llu.%0*llu", neg && (sec != 0 ||
	    usec != 0) ? "-" : "", sec, w, usec);
	return w > 0 && (size_t)w < len ? w : -1;
}

/*
 * A number as jansson writes it ("%.17g"), rounded to microseconds in
 * buf if it is a real: "73.746196999999995" is "73.746197",
 * "3725.4000000000001" "3725.4", "5.0000000000000002e-05" "0.00005".
 * Returns the length, or -1 to leave it as it is: an integer, a real of
 * more than 12 digits before the point. Decimal text is rounded as text,
 * without strtod or printf of a double: a status of 1000 instances holds
 * 2000 reals; only a real under 1e-4, written with an exponent, is read.
 */
static int
proto_real_usec(const char *s, size_t n, char *buf, size_t len)
{
	const char	*p = s, *end = s + n;
	unsigned long long sec = 0, usec = 0;
	double		 v;
	bool		 neg = false;
	int		 i, digits = 0;

	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (++digits > 12)
			return -1;
		sec = sec * 10 + (unsigned)(*p - '0');
	}
	if (digits == 0 || p == end || (*p != '.' && *p != 'e'))
		return -1;
	if (*p == '.') {
		p++;
		for (i = 0; i < 6; i++) {
			usec *= 10;
			if (p < end && *p >= '0' && *p <= '9')
				usec += (unsigned)(*p++ - '0');
		}
		if (p < end && *p >= '5' && *p <= '9')
			usec++;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p != end) {
		/* An exponent: tiny, or too large to have decimals. */
		if (n >= len)
			return -1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		v = strtod(buf, NULL);
		if (!(v > -1.0 && v < 1.0))
			return -1;
		sec = 0;
		usec = (unsigned long long)((neg ? -v : v) * 1e6 + 0.5);
	}
	if (usec == 1000000) {
		sec++;
		usec = 0;
	}
	return proto_real_print(neg, sec, usec, buf, len);
}

/*
 * jansson hands the callback each token of the text on its own: a real
 * in one piece; a string as its opening quote, pieces of its text (where
 * a quote is always escaped) and its closing quote. So a piece outside a
 * string that starts as a number does is a number, a real if it has a
 * '.' or an 'e'. (tendctl's --json output, 8eb4c85, counts on the
 * pieces too.)
 */
static int
proto_dump_cb(const char *s, size_t n, void *arg)
{
	struct proto_dumper	*d = arg;
	char			 buf[64];
	int			 len;

	if (n == 1 && s[0] == '"')
		d->in_string = !d->in_string;
	else if (!d->in_string && n > 0 && (s[0] == '-' ||
	    (s[0] >= '0' && s[0] <= '9')) &&
	    (len = proto_real_usec(s, n, buf, sizeof buf)) != -1)
		return d->cb(buf, (size_t)len, d->arg);
	return d->cb(s, n, d->arg);
}

int
proto_dump(const json_t *j, size_t flags, json_dump_callback_t cb,
    void *arg)
{
	struct proto_dumper	 d = { cb, arg, false };

	return json_dump_callback(j, proto_dump_cb, &d, flags);
}

/* A frame being encoded; past PROTO_MAX_MSG the dump stops. */
struct proto_frame {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

static int
proto_frame_cb(const char *s, size_t n, void *arg)
{
	struct proto_frame	*f = arg;

	/* The frame is the text and a newline; the buffer adds a NUL. */
	if (f->len + n + 1 > PROTO_MAX_MSG)
		return -1;
	if (f->len + n + 2 > f->cap) {
		while (f->len + n + 2 > f->cap)
			f->cap = f->cap == 0 ? 1024 : f->cap * 2;
		f->data = xreallocarray(f->data, f->cap, 1);
	}
	memcpy(f->data + f->len, s, n);
	f->len += n;
	return 0;
}

char *
proto_encode(const json_t *m, size_t *lenp)
{
	struct proto_frame	 f = { NULL, 0, 0 };

	if (proto_dump(m, JSON_COMPACT | JSON_ENSURE_ASCII, proto_frame_cb,
	    &f) == -1) {
		free(f.data);
		return NULL;
	}
	if (f.data == NULL)
		return NULL;
	f.data[f.len] = '\n';
	f.data[f.len + 1] = '\0';
	*lenp = f.len + 1;
	return f.data;
}

static json_t *
proto_parse(const char *line, size_t len, int flags, char *err,
    size_t errlen)
{
	json_error_t	 jerr;
	json_t		*m;

	m = json_loadb(line, len, JSON_REJECT_DUPLICATES | flags, &jerr);
	if (m == NULL) {
		snprintf(err, errlen, "invalid JSON at column %d: %s",
		    jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(m)) {
		json_decref(m);
		snprintf(err, errlen, "message is not a JSON object");
		return NULL;
	}
	return m;
}

int
proto_decode_request(const char *line, size_t len, json_t **mp,
    struct proto_request *req, const char **code, char *err, size_t errlen)
{
	json_t	*m, *v, *id, *cmd, *args;

	memset(req, 0, sizeof *req);
	*mp = NULL;
	*code = PROTO_E_BAD_REQUEST;
	if (len >= PROTO_MAX_MSG) {
		*code = PROTO_E_TOO_LARGE;
		snprintf(err, errlen, "message longer than %d bytes",
		    PROTO_MAX_MSG);
		return -1;
	}
	if ((m = proto_parse(line, len, 0, err, errlen)) == NULL)
		return -1;
	*mp = m;
	id = json_object_get(m, "id");
	if (json_is_integer(id))
		req->id = json_integer_value(id);
	v = json_object_get(m, "v");
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "missing protocol version \"v\"");
		return -1;
	}
	if (json_integer_value(v) != PROTO_VERSION) {
		*code = PROTO_E_VERSION;
		snprintf(err, errlen, "protocol version %lld not supported "
		    "(this tendd speaks %d)", (long long)json_integer_value(v),
		    PROTO_VERSION);
		return -1;
	}
	if (!json_is_integer(id)) {
		snprintf(err, errlen, "missing integer request \"id\"");
		return -1;
	}
	cmd = json_object_get(m, "cmd");
	if (!json_is_string(cmd)) {
		snprintf(err, errlen, "missing string \"cmd\"");
		return -1;
	}
	args = json_object_get(m, "args");
	if (args == NULL) {
		args = json_object();
		json_object_set_new(m, "args", args);
	} else if (!json_is_object(args)) {
		snprintf(err, errlen, "\"args\" must be an object");
		return -1;
	}
	req->cmd = json_string_value(cmd);
	req->args = args;
	*code = NULL;
	return 0;
}

int
proto_decode_reply(const char *line, size_t len, json_t **mp,
    struct proto_reply *rep, char *err, size_t errlen)
{
	json_t	*m, *v, *id, *ok, *e, *code, *msg;

	memset(rep, 0, sizeof *rep);
	*mp = NULL;
	/* Log lines may hold NUL bytes (\u0000): keep them. */
	if ((m = proto_parse(line, len, JSON_ALLOW_NUL, err, errlen)) == NULL)
		return -1;
	*mp = m;
	v = json_object_get(m, "v");
	id = json_object_get(m, "id");
	if (!json_is_integer(v) || json_integer_value(v) != PROTO_VERSION) {
		snprintf(err, errlen, "reply has an unsupported protocol "
		    "version");
		return -1;
	}
	if (!json_is_integer(id)) {
		snprintf(err, errlen, "reply has no id");
		return -1;
	}
	rep->id = json_integer_value(id);
	if ((e = json_object_get(m, "event")) != NULL) {
		rep->is_event = true;
		rep->ok = true;
		rep->result = e;
		return 0;
	}
	ok = json_object_get(m, "ok");
	if (!json_is_boolean(ok)) {
		snprintf(err, errlen, "reply has no \"ok\"");
		return -1;
	}
	rep->ok = json_is_true(ok);
	if (rep->ok) {
		rep->result = json_object_get(m, "result");
		return 0;
	}
	e = json_object_get(m, "error");
	code = json_object_get(e, "code");
	msg = json_object_get(e, "message");
	if (!json_is_string(code) || !json_is_string(msg)) {
		snprintf(err, errlen, "error reply without code and message");
		return -1;
	}
	rep->error = e;
	rep->code = json_string_value(code);
	rep->message = json_string_value(msg);
	return 0;
}

void
proto_buf_init(struct proto_buf *b)
{
	memset(b, 0, sizeof *b);
}

void
proto_buf_free(struct proto_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

void
proto_buf_push(struct proto_buf *b, const void *data, size_t n)
{
	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n + 1 > b->cap) {
		if (b->off > 0) {
			memmove(b->data, b->data + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap == 0 ? 4096 : b->cap * 2;
		b->data = xreallocarray(b->data, b->cap, 1);
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
}

int
proto_buf_line(struct proto_buf *b, char **line, size_t *len)
{
	char	*start = b->data + b->off, *nl;
	size_t	 avail = b->len - b->off;

	if (avail == 0)
		return 0;
	nl = memchr(start, '\n', avail);
	if (nl == NULL)
		return avail >= PROTO_MAX_MSG ? -1 : 0;
	if ((size_t)(nl - start) + 1 > PROTO_MAX_MSG)
		return -1;
	*nl = '\0';
	*line = start;
	*len = (size_t)(nl - start);
	b->off += *len + 1;
	return 1;
}

/* JSON text: valid UTF-8 passes (NUL included: JSON carries it as
   \u0000); any other byte becomes "\xNN". */
json_t *
proto_text(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	size_t			 i = 0, k, n;
	json_t			*j;

	o = out = xmalloc(len * 4 + 1);
	while (i < len) {
		n = p[i] < 0x80 ? 1 : (p[i] & 0xe0) == 0xc0 ? 2 :
		    (p[i] & 0xf0) == 0xe0 ? 3 : (p[i] & 0xf8) == 0xf0 ? 4 : 0;
		if (n > 1 && (i + n > len || (n == 2 && p[i] < 0xc2) ||
		    (n == 3 && p[i] == 0xe0 && p[i + 1] < 0xa0) ||
		    (n == 3 && p[i] == 0xed && p[i + 1] > 0x9f) ||
		    (n == 4 && p[i] == 0xf0 && p[i + 1] < 0x90) ||
		    (n == 4 && p[i] > 0xf4) ||
		    (n == 4 && p[i] == 0xf4 && p[i + 1] > 0x8f)))
			n = 0;
		for (k = 1; n > 1 && k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				n = 0;
		}
		if (n == 0) {
			snprintf(o, 5, "\\x%02x", p[i]);
			o += 4;
			i++;
			continue;
		}
		memcpy(o, p + i, n);
		o += n;
		i += n;
	}
	j = json_stringn(out, (size_t)(o - out));
	free(out);
	return j;
}
