/*
 * logfile.h: a log file sink, shared by every stream that writes to the
 * same path. tendd is the only writer: it tracks the end offset itself
 * (pwrite, splice with an offset), rotates by size at line boundaries and
 * on a timer, reopens on request, and records failures without ever
 * blocking the program: a write that fails is counted as dropped and
 * retried with the next data.
 *
 * Ownership: struct logfiles owns the files; streams hold references
 * (logfile_get/logfile_put).
 */
#ifndef TEND_LOGFILE_H
#define TEND_LOGFILE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct event_base;

/* One per log file (per instance, with {instance}): 8-byte fields first,
   and the path in the same allocation. */
struct logfile {
	uint64_t	 id;		/* changes with every open */
	uint64_t	 size;		/* where the next byte goes */
	char		*error;		/* last failure, NULL when fine */
	uint64_t	 next_check;	/* mono usec: next try to open */
	struct event	*timer;		/* rotate_every */
	struct logfiles	*set;
	struct logfile	*next;
	int		 fd;		/* -1: not open (see error) */
	int		 dfd;		/* O_DIRECT, for floods: -1 not
					   open yet, -2 not possible */
	int		 refs;
	int		 writers;	/* streams writing here now */

	/* Settings, from the first program that opened the file. */
	unsigned	 keep;
	uint64_t	 max_size;
	uint64_t	 rotate_every;
	mode_t		 mode;
	uid_t		 uid;
	gid_t		 gid;
	bool		 chown;

	char		 path[];
};

struct logfiles;

struct logfiles	*logfiles_new(struct event_base *);
void		 logfiles_free(struct logfiles *);
/* Close and reopen every file; returns how many. */
int		 logfiles_reopen(struct logfiles *);

struct logfile	*logfile_get(struct logfiles *, const char *path,
		    const struct conf_program *);
void		 logfile_put(struct logfile *);
/* Take rotation settings and mode from a (reloaded) program. */
void		 logfile_settings(struct logfile *, const struct conf_program *);

/*
 * With pending bytes on their way, would len more pass max_size (and is
 * there anything to rotate)?
 */
bool		 logfile_full(const struct logfile *, size_t pending, size_t);
int		 logfile_rotate(struct logfile *);
/*
 * Append bytes at the end. Returns the number written; the rest is
 * dropped (the error is kept in f->error, cleared on the next success).
 */
size_t		 logfile_append(struct logfile *, const char *, size_t);
/*
 * Move up to max bytes from a pipe into the file without copying them
 * through tendd. Returns bytes moved (and where, for the ring), 0 when
 * the pipe is empty, -1 on a file error (f->error set; the data is still
 * in the pipe).
 */
ssize_t		 logfile_splice(struct logfile *, int, size_t,
		    uint64_t *offset);
/*
 * For a flood: open the file for direct I/O if it can take it, and tell
 * where in a LOGFILE_ALIGN-aligned buffer bytes that go after pending
 * more bytes should be placed so that logfile_append writes most of them
 * around the page cache; -1 when the file takes no direct I/O.
 */
#define LOGFILE_ALIGN		4096
#define LOGFILE_DIRECT_MIN	(64 * 1024)
int		 logfile_direct_lead(struct logfile *, size_t pending);
/* Read back len bytes at offset if file id is still the open one. */
ssize_t		 logfile_read(const struct logfile *, uint64_t id,
		    uint64_t offset, char *, size_t);
/*
 * How many bytes of the line that offset is in come before it (0 when a
 * line starts there): looks back at most limit bytes for a newline or
 * the start of the file; -1 if neither is there, or on error.
 */
ssize_t		 logfile_line_before(const struct logfile *, uint64_t id,
		    uint64_t offset, size_t limit);

#endif
