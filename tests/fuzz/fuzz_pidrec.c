/*
 * fuzz_pidrec.c: state_dir/pids as tendd reads it at start
 * (pidrec_open): a file left by a tendd of this boot that died at any
 * moment, by another version, or by a person. The input is the file, its
 * boot id set to this boot's so that the slots are read, not dropped.
 *
 * Properties: every record found names a valid program and a PID; its
 * instance takes its slot back; new instances get other slots, each its
 * own; records nobody claims are handed over once and then gone; what
 * the file says after all that is read back the same by a successor.
 */
#include <sys/stat.h>

#include "fuzz.h"
#include "launch.h"
#include "pidrec.h"
#include "procfs.h"
#include "util.h"

#define FUZZ_ERRLEN	256
/* The header's boot id field (pidrec.c's layout). */
#define FUZZ_BOOT_OFF	24
#define FUZZ_BOOT_LEN	40
#define FUZZ_MAX_FOUND	64

static char	*fuzz_dir;	/* a private state_dir */
static char	*fuzz_file;	/* fuzz_dir/pids */
static char	 fuzz_boot[40];

static void
fuzz_cleanup(void)
{
	if (fuzz_dir == NULL)
		return;
	unlink(fuzz_file);
	rmdir(fuzz_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_dir = fuzz_mkdtemp("pidrec");
	xasprintf(&fuzz_file, "%s/pids", fuzz_dir);
	if (procfs_boot_id(fuzz_boot, sizeof fuzz_boot) == -1)
		fuzz_boot[0] = '\0';
	atexit(fuzz_cleanup);
	return 0;
}

struct fuzz_found {
	char		 program[72];
	unsigned	 index;
	pid_t		 pid;
	int		 slot;
};

static int	 fuzz_settled;

static void
fuzz_settle_cb(const struct pidrec_entry *e, void *arg)
{
	FUZZ_CHECK(util_valid_name(e->program));
	FUZZ_CHECK(e->pid > 0);
	fuzz_settled++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_found	 found[FUZZ_MAX_FOUND];
	const struct pidrec_entry *e;
	struct launch_record	 rec;
	struct pidrec		*r;
	uint8_t			*buf;
	char			 err[FUZZ_ERRLEN], name[32];
	size_t			 nfound = 0, i, j;
	int			 fresh[8];

	if (len > 1024 * 1024)
		return -1;
	buf = xmalloc(len + 1);
	memcpy(buf, data, len);
	if (len >= FUZZ_BOOT_OFF + FUZZ_BOOT_LEN) {
		memset(buf + FUZZ_BOOT_OFF, 0, FUZZ_BOOT_LEN);
		memcpy(buf + FUZZ_BOOT_OFF, fuzz_boot, strlen(fuzz_boot));
	}
	unlink(fuzz_file);
	fuzz_write_file(fuzz_file, buf, len);
	free(buf);

	err[0] = '\0';
	if ((r = pidrec_open(fuzz_dir, err, sizeof err)) == NULL) {
		FUZZ_CHECK_MSG(err, sizeof err);
		return 0;
	}
	/* What a successor can find: the instances program:0..7 of the
	   names the seeds and the fuzzer use most ("a".."c", "web"). */
	for (i = 0; i < 4 * 8 && nfound < FUZZ_MAX_FOUND; i++) {
		static const char *const names[] = { "a", "b", "c", "web" };

		e = pidrec_find(r, names[i / 8], (unsigned)(i % 8));
		if (e == NULL)
			continue;
		FUZZ_CHECK(strcmp(e->program, names[i / 8]) == 0);
		FUZZ_CHECK(e->index == i % 8);
		FUZZ_CHECK(e->pid > 0);
		snprintf(found[nfound].program, sizeof found[nfound].program,
		    "%s", e->program);
		found[nfound].index = e->index;
		found[nfound].pid = e->pid;
		found[nfound].slot = -1;
		nfound++;
	}
	/* Each takes a slot (its own), and new ones others. */
	for (i = 0; i < nfound; i++) {
		found[i].slot = pidrec_claim(r, found[i].program,
		    found[i].index);
		FUZZ_CHECK(found[i].slot >= 0);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(found[i].slot != found[j].slot);
	}
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof name, "new%zu", i);
		fresh[i] = pidrec_claim(r, name, 0);
		if (fresh[i] == -1)
			continue;	/* a full disk, here a fallocate */
		for (j = 0; j < nfound; j++)
			FUZZ_CHECK(fresh[i] != found[j].slot);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(fresh[j] == -1 || fresh[i] != fresh[j]);
	}
	fuzz_settled = 0;
	pidrec_settle(r, fuzz_settle_cb, NULL);
	/* Settled once: gone now. */
	for (i = 0; i < nfound; i++)
		FUZZ_CHECK(pidrec_find(r, found[i].program,
		    found[i].index) == NULL);
	/* A child of new0 records itself. */
	if (fresh[0] != -1) {
		unsigned char	*img = (unsigned char *)rec.image;
		int32_t		 pid = 4242;
		uint64_t	 t1 = 2;

		pidrec_target(r, fresh[0], "new0", 0, 0, 1, &rec);
		FUZZ_CHECK(rec.fd != -1);
		memcpy(img + rec.pid_off, &pid, sizeof pid);
		memcpy(img + rec.t1_off, &t1, sizeof t1);
		FUZZ_CHECK(pwrite(rec.fd, img, rec.len, rec.offset) ==
		    (ssize_t)rec.len);
	}
	pidrec_free(r);

	/* The successor reads back what the claimed ones held. */
	if ((r = pidrec_open(fuzz_dir, err, sizeof err)) == NULL)
		return 0;
	for (i = 0; i < nfound; i++) {
		e = pidrec_find(r, found[i].program, found[i].index);
		FUZZ_CHECK(e != NULL && e->pid == found[i].pid);
	}
	if (fresh[0] != -1) {
		e = pidrec_find(r, "new0", 0);
		FUZZ_CHECK(e != NULL && e->pid == 4242 && e->t0 == 1 &&
		    e->t1 == 2);
	}
	pidrec_free(r);
	return 0;
}
