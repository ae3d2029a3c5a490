/* test_logfile.c: log file appends, through the page cache and around it
 * (O_DIRECT for floods): every byte lands in order whatever the lead,
 * length and buffer alignment. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "logfile.h"
#include "t.h"

/* The byte the file must hold at offset off. */
static unsigned char
pattern(uint64_t off)
{
	return (unsigned char)(off * 131 + off / 4093);
}

struct fixture {
	struct event_base	*base;
	struct logfiles		*set;
	struct logfile		*f;
	struct conf_program	 cp;
	char			 dir[64];
	char			 path[96];
};

static void
fixture_open(struct fixture *x)
{
	const char	*tmp = getenv("TMPDIR");

	memset(x, 0, sizeof *x);
	snprintf(x->dir, sizeof x->dir, "%s/tend-logfile-XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(x->dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(x->path, sizeof x->path, "%s/a.log", x->dir);
	x->cp.log_mode = 0640;
	x->base = event_base_new();
	x->set = logfiles_new(x->base);
	x->f = logfile_get(x->set, x->path, &x->cp);
}

static void
fixture_close(struct fixture *x)
{
	char	 p[128];

	logfile_put(x->f);
	logfiles_free(x->set);
	event_base_free(x->base);
	snprintf(p, sizeof p, "%s.1", x->path);
	unlink(p);
	unlink(x->path);
	rmdir(x->dir);
}

/* The file holds pattern(0..size-1) exactly. */
static void
check_file(const char *path, uint64_t size)
{
	unsigned char	 buf[65536];
	uint64_t	 off = 0, bad = UINT64_MAX;
	ssize_t		 n, i;
	int		 fd = open(path, O_RDONLY);

	T_CHECK(fd != -1);
	if (fd == -1)
		return;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (i = 0; i < n && bad == UINT64_MAX; i++) {
			if (buf[i] != pattern(off + (uint64_t)i))
				bad = off + (uint64_t)i;
		}
		off += (uint64_t)n;
	}
	close(fd);
	T_INTEQ(off, size);
	if (bad != UINT64_MAX)
		fprintf(stderr, "first wrong byte at %llu\n",
		    (unsigned long long)bad);
	T_CHECK(bad == UINT64_MAX);
}

/* Did the fs refuse O_DIRECT? Then the fallback was right. */
static bool
fs_refuses_direct(const char *path)
{
	int	 fd = open(path, O_WRONLY | O_DIRECT);

	if (fd == -1)
		return errno == EINVAL;
	close(fd);
	return false;
}

/*
 * Appends of every awkward size, each read to where logfile_direct_lead
 * says: first and last partial blocks through the page cache, the rest
 * direct.
 */
T_CASE(direct_appends_keep_every_byte)
{
	static const size_t	 lens[] = { 1, 100, 4095, 4096, 4097, 65535,
	    65536, 65537, 70001, 300000, 1 << 20, 77, (1 << 20) - 1, 131072,
	    5, 262144 + 4095 };
	struct fixture		 x;
	char			*buf;
	size_t			 i, j, w;
	uint64_t		 size = 0;
	int			 lead;

	fixture_open(&x);
	buf = aligned_alloc(LOGFILE_ALIGN, (1 << 20) + 2 * LOGFILE_ALIGN);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		lead = logfile_direct_lead(x.f, 0);
		if (lead == -1) {
			T_CHECK(fs_refuses_direct(x.path));
			lead = 0;
		} else
			T_INTEQ(lead, size % LOGFILE_ALIGN);
		for (j = 0; j < lens[i]; j++)
			buf[lead + j] = (char)pattern(size + j);
		w = logfile_append(x.f, buf + lead, lens[i]);
		T_INTEQ(w, lens[i]);
		size += lens[i];
		T_INTEQ(x.f->size, size);
	}
	T_CHECK(x.f->error == NULL);
	T_CHECK(x.f->dfd >= 0 || fs_refuses_direct(x.path));
	check_file(x.path, size);
	free(buf);
	fixture_close(&x);
}

/* A buffer that does not line up with the file goes through the page
   cache, and pending bytes move the lead. */
T_CASE(misaligned_buffer_and_pending_bytes)
{
	struct fixture	 x;
	char		*buf;
	size_t		 j, len = 200000;
	uint64_t	 size = 0;
	int		 lead;

	fixture_open(&x);
	buf = aligned_alloc(LOGFILE_ALIGN, 50 * LOGFILE_ALIGN);
	lead = logfile_direct_lead(x.f, 10);
	if (lead != -1)
		T_INTEQ(lead, 10);
	/* One byte off the place it should have been read to. */
	for (j = 0; j < len; j++)
		buf[11 + j] = (char)pattern(size + j);
	T_INTEQ(logfile_append(x.f, buf + 11, len), len);
	size += len;
	for (j = 0; j < 3; j++)
		buf[j] = (char)pattern(size + j);
	T_INTEQ(logfile_append(x.f, buf, 3), 3);
	size += 3;
	lead = logfile_direct_lead(x.f, 7);
	if (lead != -1)
		T_INTEQ(lead, (size + 7) % LOGFILE_ALIGN);
	check_file(x.path, size);
	free(buf);
	fixture_close(&x);
}

/* Rotation and reopening close the direct fd with the plain one; the
   next flood opens the new file's. */
T_CASE(rotation_closes_the_direct_fd)
{
	struct fixture	 x;
	struct stat	 st, dst;
	char		 p[128];

	fixture_open(&x);
	if (logfile_direct_lead(x.f, 0) == -1) {
		T_CHECK(fs_refuses_direct(x.path));
		fixture_close(&x);
		return;
	}
	T_CHECK(x.f->dfd >= 0);
	x.cp.log_keep = 1;
	logfile_settings(x.f, &x.cp);
	T_INTEQ(logfile_rotate(x.f), 0);
	T_INTEQ(x.f->dfd, -1);
	T_CHECK(logfile_direct_lead(x.f, 0) == 0);
	T_CHECK(x.f->dfd >= 0);
	T_CHECK(fstat(x.f->fd, &st) == 0 && fstat(x.f->dfd, &dst) == 0);
	T_CHECK(st.st_ino == dst.st_ino && st.st_dev == dst.st_dev);
	snprintf(p, sizeof p, "%s.1", x.path);
	T_CHECK(stat(p, &dst) == 0 && dst.st_ino != st.st_ino);
	T_INTEQ(logfiles_reopen(x.set), 1);
	T_INTEQ(x.f->dfd, -1);
	fixture_close(&x);
}

/* Where the line an offset is in starts: logs.c reads a span back from
   there when the ring has dropped the span's front. */
T_CASE(line_before_looks_back_for_the_line_start)
{
	struct fixture	 x;
	char		*big;
	uint64_t	 id;
	size_t		 len = 300000;

	fixture_open(&x);
	T_INTEQ(logfile_append(x.f, "ab\ncdef\n", 8), 8);
	id = x.f->id;
	T_INTEQ(logfile_line_before(x.f, id, 0, 100), 0);
	T_INTEQ(logfile_line_before(x.f, id, 2, 100), 2);	/* file start */
	T_INTEQ(logfile_line_before(x.f, id, 3, 100), 0);
	T_INTEQ(logfile_line_before(x.f, id, 6, 100), 3);
	T_INTEQ(logfile_line_before(x.f, id, 6, 4), 3);
	T_INTEQ(logfile_line_before(x.f, id, 6, 3), -1);	/* too far */
	T_INTEQ(logfile_line_before(x.f, id + 1, 6, 100), -1);
	/* A long line: found over several reads, not past the limit. */
	big = malloc(len);
	memset(big, 'x', len - 1);
	big[len - 1] = '\n';
	T_INTEQ(logfile_append(x.f, big, len), len);
	T_INTEQ(logfile_line_before(x.f, id, 8 + 250000, 1 << 20), 250000);
	T_INTEQ(logfile_line_before(x.f, id, 8 + 250000, 250001), 250000);
	T_INTEQ(logfile_line_before(x.f, id, 8 + 250000, 250000), -1);
	T_INTEQ(logfile_line_before(x.f, id, 8 + len, 1 << 20), 0);
	free(big);
	fixture_close(&x);
}

T_MAIN(T_ENTRY(direct_appends_keep_every_byte),
    T_ENTRY(misaligned_buffer_and_pending_bytes),
    T_ENTRY(rotation_closes_the_direct_fd),
    T_ENTRY(line_before_looks_back_for_the_line_start))
