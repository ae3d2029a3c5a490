/* test_pidrec.c: the spawn record file (daemon/pidrec.c). */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"
#include "pidrec.h"
#include "procfs.h"
#include "t.h"

static char *
tmpdir(void)
{
	char	 tmpl[] = "/tmp/test_pidrec.XXXXXX";

	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	return strdup(tmpl);
}

static void
rm_dir(char *dir)
{
	char	 path[512];

	snprintf(path, sizeof path, "%s/pids", dir);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* What a child started for a slot does before exec (launch.c). */
static void
child_writes(struct launch_record *rec, pid_t pid, uint64_t t1)
{
	unsigned char	*img = (unsigned char *)rec->image;
	int32_t		 p = pid;

	memcpy(img + rec->pid_off, &p, sizeof p);
	memcpy(img + rec->t1_off, &t1, sizeof t1);
	T_INTEQ(pwrite(rec->fd, img, rec->len, rec->offset),
	    (long long)rec->len);
}

static struct pidrec *
open_ok(const char *dir)
{
	struct pidrec	*r;
	char		 err[256] = "";

	r = pidrec_open(dir, err, sizeof err);
	if (r == NULL)
		fprintf(stderr, "pidrec_open: %s\n", err);
	T_CHECK(r != NULL);
	return r;
}

T_CASE(record_survives_for_a_successor)
{
	char			*dir = tmpdir();
	struct pidrec		*r;
	struct launch_record	 rec;
	const struct pidrec_entry *e;
	int			 a, b;

	r = open_ok(dir);
	a = pidrec_claim(r, "web", 0);
	b = pidrec_claim(r, "web", 1);
	T_CHECK(a >= 0 && b >= 0 && a != b);
	pidrec_target(r, a, "web", 0, 0, 1000, &rec);
	child_writes(&rec, 4242, 2000);
	pidrec_target(r, b, "web", 1, PIDREC_LAUNCHER, 3000, &rec);
	child_writes(&rec, 4343, 4000);
	/* The tendd ends without a word: its records stay. */
	pidrec_free(r);

	r = open_ok(dir);
	e = pidrec_find(r, "web", 0);
	T_CHECK(e != NULL);
	if (e != NULL) {
		T_INTEQ(e->pid, 4242);
		T_INTEQ(e->flags, 0);
		T_INTEQ(e->t0, 1000);
		T_INTEQ(e->t1, 2000);
		T_STREQ(e->program, "web");
	}
	e = pidrec_find(r, "web", 1);
	T_CHECK(e != NULL && e->pid == 4343 &&
	    (e->flags & PIDREC_LAUNCHER));
	T_CHECK(pidrec_find(r, "web", 2) == NULL);
	T_CHECK(pidrec_find(r, "db", 0) == NULL);
	/* The same instance takes its old slot back, record and all. */
	T_INTEQ(pidrec_claim(r, "web", 1), b);
	pidrec_free(r);

	r = open_ok(dir);
	T_CHECK(pidrec_find(r, "web", 1) != NULL);
	pidrec_free(r);
	rm_dir(dir);
}

static int	 settled;
static pid_t	 settled_pid;

static void
settle_cb(const struct pidrec_entry *e, void *arg)
{
	settled++;
	settled_pid = e->pid;
	T_STREQ(e->program, "gone");
	T_STREQ(arg, "arg");
}

T_CASE(unclaimed_records_are_settled_and_freed)
{
	char			*dir = tmpdir();
	struct pidrec		*r;
	struct launch_record	 rec;
	int			 s, a, b;

	r = open_ok(dir);
	s = pidrec_claim(r, "gone", 3);
	pidrec_target(r, s, "gone", 3, 0, 10, &rec);
	child_writes(&rec, 777, 20);
	/* Claimed but never started: no PID, nothing to settle. */
	(void)pidrec_claim(r, "idle", 0);
	pidrec_free(r);

	r = open_ok(dir);
	T_INTEQ(pidrec_claim(r, "kept", 0) == s, 0);
	settled = 0;
	pidrec_settle(r, settle_cb, "arg");
	T_INTEQ(settled, 1);
	T_INTEQ(settled_pid, 777);
	/* Forgotten, and the slots are free for others. */
	T_CHECK(pidrec_find(r, "gone", 3) == NULL);
	a = pidrec_claim(r, "new", 0);
	b = pidrec_claim(r, "new", 1);
	T_CHECK(a == s || b == s);
	pidrec_free(r);

	r = open_ok(dir);
	T_CHECK(pidrec_find(r, "gone", 3) == NULL);
	pidrec_free(r);
	rm_dir(dir);
}

T_CASE(released_slot_is_zeroed_and_reused)
{
	char			*dir = tmpdir();
	struct pidrec		*r;
	struct launch_record	 rec;
	int			 s, i, slots[200];

	r = open_ok(dir);
	/* Past one growth of the file. */
	for (i = 0; i < 200; i++) {
		slots[i] = pidrec_claim(r, "many", (unsigned)i);
		T_CHECK(slots[i] >= 0);
	}
	for (i = 1; i < 200; i++)
		T_CHECK(slots[i] != slots[i - 1]);
	s = slots[7];
	pidrec_target(r, s, "many", 7, 0, 10, &rec);
	child_writes(&rec, 999, 20);
	pidrec_release(r, s);
	pidrec_release(NULL, s);
	pidrec_release(r, -1);
	T_INTEQ(pidrec_claim(r, "other", 0), s);
	pidrec_free(r);

	r = open_ok(dir);
	T_CHECK(pidrec_find(r, "many", 7) == NULL);
	T_CHECK(pidrec_find(r, "other", 0) == NULL);	/* no PID */
	pidrec_free(r);
	rm_dir(dir);
}

T_CASE(another_boot_or_garbage_is_dropped)
{
	char			*dir = tmpdir(), path[512];
	struct pidrec		*r;
	struct launch_record	 rec;
	char			 junk[300];
	int			 fd, s;

	r = open_ok(dir);
	s = pidrec_claim(r, "web", 0);
	pidrec_target(r, s, "web", 0, 0, 10, &rec);
	child_writes(&rec, 4242, 20);
	pidrec_free(r);

	/* Another boot: the header's boot id differs. */
	snprintf(path, sizeof path, "%s/pids", dir);
	fd = open(path, O_WRONLY);
	T_CHECK(fd != -1);
	T_INTEQ(pwrite(fd, "x", 1, 24), 1);
	close(fd);
	r = open_ok(dir);
	T_CHECK(pidrec_find(r, "web", 0) == NULL);
	pidrec_free(r);

	/* Not a record file at all. */
	memset(junk, 'j', sizeof junk);
	fd = open(path, O_WRONLY | O_TRUNC);
	T_INTEQ(write(fd, junk, sizeof junk), (long long)sizeof junk);
	close(fd);
	r = open_ok(dir);
	T_CHECK(pidrec_find(r, "web", 0) == NULL);
	T_CHECK(pidrec_claim(r, "web", 0) >= 0);
	pidrec_free(r);

	/* A directory in its place: an error, not a crash. */
	unlink(path);
	T_INTEQ(mkdir(path, 0700), 0);
	{
		char	 err[256] = "";

		T_CHECK(pidrec_open(dir, err, sizeof err) == NULL);
		T_CHECK(strstr(err, "pids") != NULL);
	}
	rmdir(path);
	rm_dir(dir);
}

T_CASE(matches_only_the_process_started_in_the_window)
{
	struct pidrec_entry	 e;
	long			 hz = sysconf(_SC_CLK_TCK);
	uint64_t		 per = 1000000000 / (uint64_t)hz;

	memset(&e, 0, sizeof e);
	e.pid = 100;
	e.t0 = 50 * per + 1;
	e.t1 = 52 * per + 3;
	T_CHECK(pidrec_matches(&e, 100, 50));
	T_CHECK(pidrec_matches(&e, 100, 52));
	T_CHECK(!pidrec_matches(&e, 100, 49));
	/* The PID used again later. */
	T_CHECK(!pidrec_matches(&e, 100, 53));
	T_CHECK(!pidrec_matches(&e, 101, 51));
	/* No child reading: up to now. */
	e.t1 = 0;
	T_CHECK(pidrec_matches(&e, 100, procfs_boot_now() / per));
	T_CHECK(!pidrec_matches(&e, 100, procfs_boot_now() / per + 100));
	e.t0 = 0;
	T_CHECK(!pidrec_matches(&e, 100, 50));
}

T_CASE(pidfile_first_line)
{
	char	 why[128];

	T_INTEQ(procfs_parse_pidfile("1234\n", 5, why, sizeof why), 1234);
	T_INTEQ(procfs_parse_pidfile("1234", 4, why, sizeof why), 1234);
	T_INTEQ(procfs_parse_pidfile(" 77 \r\n", 6, why, sizeof why), 77);
	/* PostgreSQL's postmaster.pid: the PID, then more lines. */
	T_INTEQ(procfs_parse_pidfile("4321\n/var/lib/pg\n1700000000\n5432\n",
	    32, why, sizeof why), 4321);
	why[0] = '\0';
	T_INTEQ(procfs_parse_pidfile("", 0, why, sizeof why), 0);
	T_STREQ(why, "is empty");
	T_INTEQ(procfs_parse_pidfile("\n42\n", 4, why, sizeof why), 0);
	T_STREQ(why, "has no PID on its first line");
	T_INTEQ(procfs_parse_pidfile("12ab\n", 5, why, sizeof why), 0);
	T_STREQ(why, "does not hold a PID on its first line");
	T_INTEQ(procfs_parse_pidfile("1\n", 2, why, sizeof why), 0);
	T_INTEQ(procfs_parse_pidfile("0\n", 2, why, sizeof why), 0);
	T_INTEQ(procfs_parse_pidfile("-5\n", 3, why, sizeof why), 0);
	T_INTEQ(procfs_parse_pidfile("99999999999999999999\n", 21, why,
	    sizeof why), 0);
	T_INTEQ(procfs_parse_pidfile("2147483647\n", 11, why, sizeof why),
	    2147483647);
	T_INTEQ(procfs_parse_pidfile("2147483648\n", 11, why, sizeof why), 0);
	/* A NUL is not a digit or a blank. */
	T_INTEQ(procfs_parse_pidfile("12\0003\n", 5, why, sizeof why), 0);
}

T_MAIN(T_ENTRY(record_survives_for_a_successor),
    T_ENTRY(unclaimed_records_are_settled_and_freed),
    T_ENTRY(released_slot_is_zeroed_and_reused),
    T_ENTRY(another_boot_or_garbage_is_dropped),
    T_ENTRY(matches_only_the_process_started_in_the_window),
    T_ENTRY(pidfile_first_line))
