/*
 * proto.h: the tend wire protocol, one definition for tendd and tendctl.
 *
 * Frames are compact JSON objects, one per line ('\n'-terminated), both
 * ways, at most PROTO_MAX_MSG bytes including the newline. docs/protocol.md
 * describes every message; this header is the code's view of it.
 *
 *   request:  {"v":1,"id":7,"cmd":"status","args":{...}}
 *   reply:    {"v":1,"id":7,"ok":true,"result":{...}}
 *             {"v":1,"id":7,"ok":false,"error":{"code":"...","message":"..."}}
 *   event:    {"v":1,"id":7,"event":{...}}   (streams tied to a request)
 */
#ifndef TEND_PROTO_H
#define TEND_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define PROTO_VERSION	1
#define PROTO_MAX_MSG	(1024 * 1024)

/* Stable error codes (the "code" of an error object). */
#define PROTO_E_BAD_REQUEST	"bad_request"	/* not JSON, missing fields */
#define PROTO_E_TOO_LARGE	"too_large"	/* frame over PROTO_MAX_MSG */
#define PROTO_E_VERSION		"version"	/* protocol version mismatch */
#define PROTO_E_UNKNOWN_COMMAND	"unknown_command"
#define PROTO_E_BAD_ARGS	"bad_args"	/* arguments of wrong shape */
#define PROTO_E_PERMISSION	"permission_denied"
#define PROTO_E_NO_SUCH_PROGRAM	"no_such_program"
#define PROTO_E_CONFIG		"config_invalid"
#define PROTO_E_CONFIG_EMPTY	"config_empty"	/* reload would remove all */
#define PROTO_E_FAILED		"failed"	/* the operation failed */
#define PROTO_E_TIMEOUT		"timeout"
#define PROTO_E_SHUTTING_DOWN	"shutting_down"
#define PROTO_E_BUSY		"busy"		/* too many clients, or tendd
						   short of descriptors */
#define PROTO_E_SLOW		"slow"		/* a request not whole in time */
#define PROTO_E_NOT_SAVED	"not_saved"	/* carried out, but the decision
						   is not on disk */

/* A request as decoded; pointers borrow from the message. */
struct proto_request {
	json_int_t	 id;
	const char	*cmd;
	json_t		*args;		/* object, never NULL after decode */
};

/* A reply or event as decoded; pointers borrow from the message. */
struct proto_reply {
	json_int_t	 id;
	bool		 is_event;
	bool		 ok;
	json_t		*result;	/* ok reply: result; event: event */
	const char	*code;		/* error reply */
	const char	*message;
	json_t		*error;		/* whole error object */
};

/* Builders. Each steals the reference to the json_t passed in. */
json_t	*proto_request_new(json_int_t, const char *, json_t *);
json_t	*proto_reply_ok(json_int_t, json_t *);
json_t	*proto_reply_error(json_int_t, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
json_t	*proto_event_new(json_int_t, json_t *);

/*
 * Encode a message as one frame (compact JSON + '\n'), reals as
 * proto_dump writes them. Returns a malloc'd buffer and its length, or
 * NULL if the frame would exceed PROTO_MAX_MSG.
 */
char	*proto_encode(const json_t *, size_t *);

/*
 * json_dump_callback, but with every real rounded to microseconds (what
 * the protocol's times and durations are): 73.746197, 1795402267.973452,
 * 3725.4, never jansson's 17 digits (73.746196999999995). No single
 * JSON_REAL_PRECISION does both: epoch seconds need 16 digits, which
 * show the noise of a small value one time in 13 (67513.92600000001).
 */
int	 proto_dump(const json_t *, size_t flags, json_dump_callback_t,
	    void *);

/*
 * Decode one frame (without its newline). On failure returns -1, sets *code
 * to a PROTO_E_* code and writes a message to err; *id is set whenever the
 * id could be read (else 0), so the error reply can carry it.
 */
int	 proto_decode_request(const char *, size_t, json_t **,
	    struct proto_request *, const char **code, char *err, size_t);
int	 proto_decode_reply(const char *, size_t, json_t **,
	    struct proto_reply *, char *err, size_t);

/*
 * A line splitter with a size limit for readers that are not libevent
 * (tendctl): push bytes in, take whole lines out.
 */
struct proto_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 off;		/* start of unread data */
};

void	 proto_buf_init(struct proto_buf *);
void	 proto_buf_free(struct proto_buf *);
void	 proto_buf_push(struct proto_buf *, const void *, size_t);
/*
 * Returns 1 and a line (without newline, NUL-terminated in place) valid
 * until the next call; 0 if no whole line yet; -1 if the pending line is
 * already longer than PROTO_MAX_MSG.
 */
int	 proto_buf_line(struct proto_buf *, char **, size_t *);

/* Bytes as a JSON string: valid UTF-8 passes (NUL included, as
   \u0000), any other byte becomes "\xNN" (log lines, command lines). */
json_t		*proto_text(const char *, size_t);

#endif
