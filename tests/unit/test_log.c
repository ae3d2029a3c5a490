/* test_log.c: deferred log lines (log_defer): held until flushed, in
 * order, with warnings going out at once after what is held. */
#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "t.h"

static int	 kicks;

static void
kick(void *arg)
{
	kicks++;
}

/* What stderr (a temporary file) holds now: the text after each
   "tendd LEVEL: ", one message a line, joined with '|'. */
static void
written(int fd, char *out, size_t len)
{
	char	 buf[8192], *p, *e;
	ssize_t	 n;
	size_t	 o = 0;

	n = pread(fd, buf, sizeof buf - 1, 0);
	buf[n < 0 ? 0 : n] = '\0';
	out[0] = '\0';
	for (p = buf; (e = strchr(p, '\n')) != NULL; p = e + 1) {
		*e = '\0';
		if ((p = strstr(p, "tendd ")) == NULL ||
		    (p = strchr(p, ':')) == NULL)
			break;
		o += (size_t)snprintf(out + o, len - o, "%s%s",
		    o == 0 ? "" : "|", p + 2);
	}
}

/* stderr into a new temporary file, at level info: the file, or -1;
   *saved is the old stderr, for stderr_back. */
static int
stderr_to_temp(int *saved)
{
	char	 path[] = "/tmp/tend-test-log-XXXXXX";
	int	 fd;

	if ((fd = mkstemp(path)) == -1) {
		T_CHECK(!"mkstemp");
		return -1;
	}
	unlink(path);
	*saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	log_init(1, LOG_LEVEL_INFO);
	return fd;
}

static void
stderr_back(int fd, int saved)
{
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
}

T_CASE(deferred)
{
	char	 got[1024];
	int	 fd, saved;

	if ((fd = stderr_to_temp(&saved)) == -1)
		return;

	log_info("before");
	written(fd, got, sizeof got);
	T_STREQ(got, "before");

	log_defer(kick, NULL);
	log_info("one");
	log_debug("not logged");
	log_info("two");
	written(fd, got, sizeof got);
	T_STREQ(got, "before");
	T_INTEQ(kicks, 2);
	log_warnx("three");
	written(fd, got, sizeof got);
	T_STREQ(got, "before|one|two|three");
	log_info("four");
	log_flush();
	written(fd, got, sizeof got);
	T_STREQ(got, "before|one|two|three|four");
	log_info("five");
	log_defer(NULL, NULL);
	written(fd, got, sizeof got);
	T_STREQ(got, "before|one|two|three|four|five");
	log_info("six");
	written(fd, got, sizeof got);
	T_STREQ(got, "before|one|two|three|four|five|six");

	stderr_back(fd, saved);
}

T_CASE(many)
{
	char	 want[32], *buf, *p;
	int	 fd, saved, i;
	off_t	 size;

	if ((fd = stderr_to_temp(&saved)) == -1)
		return;
	/* More than the buffer holds: nothing lost, in order, whole. */
	log_defer(kick, NULL);
	for (i = 0; i < 2000; i++)
		log_info("line %04d", i);
	log_defer(NULL, NULL);
	size = lseek(fd, 0, SEEK_END);
	buf = calloc(1, (size_t)size + 1);
	T_INTEQ(pread(fd, buf, (size_t)size, 0), size);
	for (i = 0, p = buf; i < 2000 && p != NULL; i++) {
		snprintf(want, sizeof want, "tendd info: line %04d\n", i);
		if ((p = strstr(p, want)) != NULL)
			p += strlen(want);
	}
	T_CHECK(p != NULL && *p == '\0');
	free(buf);

	stderr_back(fd, saved);
}

T_MAIN(T_ENTRY(deferred), T_ENTRY(many))
