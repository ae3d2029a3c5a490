/*
 * fuzz_procfs.c: the /proc text tendd parses. A program controls much of
 * it: its comm (in stat, with any bytes, spaces and ')' included), its
 * command line and its environment; mount points appear in mountinfo.
 * The first byte picks the parser, the rest is the file's text:
 *
 *   0  /proc/PID/stat            procfs_parse_stat
 *   1  /proc/PID/cmdline         procfs_cmdline_text
 *   2  /proc/PID/environ         procfs_environ_find (TEND_PROGRAM)
 *   3  /proc/self/mountinfo      cgroup_mountinfo_dir, line by line; the
 *                                first line is tendd's own cgroup (as
 *                                /proc/self/cgroup has it after "0::")
 *   4  a forking program's pidfile  procfs_parse_pidfile
 *
 * Properties: a parsed stat line has a PID and a bounded comm, and the
 * same fields written out again parse to the same; a command line has no
 * NUL inside and stays within its limit; an environment value is a whole
 * entry's; a mountinfo match is a cgroup2 mount's; a pidfile's PID is
 * above 1 and what its first line says, or there is a reason.
 */
#include <inttypes.h>

#include "cgroup.h"
#include "fuzz.h"
#include "procfs.h"
#include "util.h"

static void
fuzz_stat(const char *text, size_t len)
{
	struct procfs_stat	 st, again;
	char			*line;
	int			 n;

	if (procfs_parse_stat(text, len, &st) == -1)
		return;
	FUZZ_CHECK(st.pid > 0 && st.ppid >= 0 && st.pgrp >= 0 &&
	    st.session >= 0);
	FUZZ_CHECK(memchr(st.comm, '\0', sizeof st.comm) != NULL);
	FUZZ_CHECK(procfs_state_name(st.state) != NULL);

	/* comm up to its first NUL: the rest does not survive a string. */
	n = asprintf(&line, "%d (%s) %c %d %d %d 0 -1 4194560 97 0 0 0 0 0 "
	    "0 0 20 0 1 0 %" PRIu64 " 5754880 256\n", (int)st.pid, st.comm,
	    st.state, (int)st.ppid, (int)st.pgrp, (int)st.session,
	    st.starttime);
	FUZZ_CHECK(n > 0);
	FUZZ_CHECK(procfs_parse_stat(line, (size_t)n, &again) == 0);
	FUZZ_CHECK(again.pid == st.pid && again.ppid == st.ppid &&
	    again.pgrp == st.pgrp && again.session == st.session &&
	    again.state == st.state && again.starttime == st.starttime);
	FUZZ_CHECK(strcmp(again.comm, st.comm) == 0);
	free(line);
}

static void
fuzz_cmdline(const char *text, size_t len)
{
	char	*buf;
	size_t	 max, n;

	/* Limits about the input's size: cut or not. */
	for (max = len > 2 ? len - 2 : 0; max <= len + 1; max++) {
		buf = xmalloc(len + 1);
		memcpy(buf, text, len);
		n = procfs_cmdline_text(buf, len, max);
		FUZZ_CHECK(n <= max && n <= len);
		FUZZ_CHECK(buf[n] == '\0' && strlen(buf) == n);
		free(buf);
	}
}

static void
fuzz_environ(const char *text, size_t len)
{
	const char	*key = "TEND_PROGRAM", *p;
	char		*v, *kv;
	size_t		 n;
	int		 full;

	for (full = 0; full <= 1; full++) {
		if ((v = procfs_environ_find(text, len, full, key)) == NULL)
			continue;
		/* An entry of the text, whole: NUL-ended, or at the end of
		   a file read to its end. */
		xasprintf(&kv, "%s=%s", key, v);
		n = strlen(kv);
		for (p = text; (p = memmem(p, (size_t)(text + len - p), kv,
		    n)) != NULL; p++) {
			if ((p == text || p[-1] == '\0') && (p + n < text +
			    len ? p[n] == '\0' : !full))
				break;
		}
		FUZZ_CHECK(p != NULL);
		free(kv);
		free(v);
	}
}

static void
fuzz_mountinfo(const char *text, size_t len)
{
	const char	*p = text, *end = text + len, *nl;
	char		*own, *line, *dir;
	bool		 seen;

	if ((nl = memchr(p, '\n', len)) == NULL)
		nl = end;
	own = xstrndup(p, (size_t)(nl - p));
	p = nl + 1;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		/* getline's line: the newline kept, NUL-terminated. */
		line = xstrndup(p, (size_t)(nl - p) + (nl < end));
		seen = false;
		dir = cgroup_mountinfo_dir(line, own, &seen);
		FUZZ_CHECK(dir == NULL || seen);
		free(dir);
		free(line);
		p = nl + 1;
	}
	free(own);
}

static void
fuzz_pidfile(const char *text, size_t len)
{
	char		*why, line[32];
	const char	*eol;
	size_t		 whylen = 128, n;
	pid_t		 pid;

	why = xmalloc(whylen);
	pid = procfs_parse_pidfile(text, len, why, whylen);
	if (pid == 0) {
		FUZZ_CHECK_MSG(why, whylen);
		free(why);
		return;
	}
	free(why);
	FUZZ_CHECK(pid > 1);
	/* The first line holds that number, give or take blanks and
	   leading zeros. */
	n = (size_t)snprintf(line, sizeof line, "%d", (int)pid);
	eol = memchr(text, '\n', len);
	FUZZ_CHECK(memmem(text, eol != NULL ? (size_t)(eol - text) : len,
	    line, n) != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*text = (const char *)data + 1;

	if (size == 0)
		return -1;
	switch (data[0]) {
	case 0:
		fuzz_stat(text, size - 1);
		break;
	case 1:
		fuzz_cmdline(text, size - 1);
		break;
	case 2:
		fuzz_environ(text, size - 1);
		break;
	case 3:
		fuzz_mountinfo(text, size - 1);
		break;
	case 4:
		fuzz_pidfile(text, size - 1);
		break;
	default:
		return -1;
	}
	return 0;
}
