/*
 * replay.c: main() for a fuzz target built without libFuzzer. Runs the
 * target once on every file named and every file in a directory named (in
 * name order), so `meson test` replays tests/fuzz/corpus/ in each build and
 * any build reproduces a crasher: build-asan/tests/fuzz/fuzz_conf FILE.
 * Arguments starting with '-' (libFuzzer's options) are ignored. An input
 * the target refuses (returns -1: it could not test it) fails the replay:
 * the corpus should not hold one.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static size_t	replay_refused;

static void
replay_fail(const char *what, const char *path)
{
	fprintf(stderr, "replay: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

/* Run the target on one file; the name goes out first, so a crash
   names its input. */
static void
replay_file(const char *path)
{
	struct stat	 st;
	uint8_t		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		replay_fail("open", path);
	if (fstat(fd, &st) == -1)
		replay_fail("stat", path);
	/* One byte more, so an empty file still gets a buffer. */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		replay_fail("malloc for", path);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			replay_fail("read", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	printf("%s (%zu bytes)\n", path, len);
	fflush(stdout);
	if (LLVMFuzzerTestOneInput(buf, len) != 0) {
		printf("%s: refused by the target\n", path);
		replay_refused++;
	}
	free(buf);
}

static int
replay_filter(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Every regular file in dir; returns how many. */
static size_t
replay_dir(const char *dir)
{
	struct dirent	**ents;
	struct stat	 st;
	char		*path;
	size_t		 count = 0;
	int		 i, n;

	if ((n = scandir(dir, &ents, replay_filter, alphasort)) == -1)
		replay_fail("scandir", dir);
	for (i = 0; i < n; i++) {
		if (asprintf(&path, "%s/%s", dir, ents[i]->d_name) == -1)
			replay_fail("asprintf for", dir);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			replay_file(path);
			count++;
		}
		free(path);
		free(ents[i]);
	}
	free(ents);
	return count;
}

int
main(int argc, char **argv)
{
	struct stat	 st;
	size_t		 count = 0;
	int		 i;

	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		if (stat(argv[i], &st) == -1)
			replay_fail("stat", argv[i]);
		if (S_ISDIR(st.st_mode))
			count += replay_dir(argv[i]);
		else {
			replay_file(argv[i]);
			count++;
		}
	}
	/* No input at all is a mistake (a missing corpus), not a pass. */
	if (count == 0) {
		fprintf(stderr, "usage: %s FILE|DIR ...: no input\n", argv[0]);
		return 1;
	}
	printf("%zu inputs, no crash, %zu refused\n", count, replay_refused);
	return replay_refused == 0 ? 0 : 1;
}
