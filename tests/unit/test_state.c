/* test_state.c: state.json round trips and rejects, atomic save, lock. */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include "state.h"
#include "t.h"

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rm_rf(const char *dir)
{
	T_INTEQ(nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static char *
tmpdir(void)
{
	char	 tmpl[] = "/tmp/test_state.XXXXXX", *d;

	d = mkdtemp(tmpl);
	T_CHECK(d != NULL);
	return strdup(d != NULL ? d : "/nonexistent");
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	T_CHECK((f = fopen(path, "w")) != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* The names in dir, sorted and joined by spaces. */
static char *
list_dir(const char *dir)
{
	struct dirent	**names;
	char		 *s;
	size_t		  len = 1;
	int		  n, i;

	if ((n = scandir(dir, &names, NULL, alphasort)) == -1)
		return strdup("(error)");
	for (i = 0; i < n; i++)
		len += strlen(names[i]->d_name) + 1;
	s = calloc(1, len);
	for (i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 &&
		    strcmp(names[i]->d_name, "..") != 0) {
			if (*s != '\0')
				strcat(s, " ");
			strcat(s, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return s;
}

static void
fill(struct state *st)
{
	struct state_instance	*si;

	memset(st, 0, sizeof *st);
	strcpy(st->boot_id, "22b168a0-961b-41b4-9b68-63c7da301a2c");
	st->tendd_pid = 4242;
	st->events_next = 1234567;
	si = state_add(st, "web", 0);
	si->pid = 123;
	si->starttime = 806392;
	si->want = STATE_WANT_UP;
	si->conf_hash = 0xfedcba9876543210ULL;
	si = state_add(st, "web", 1);
	si->want = STATE_WANT_DOWN;
	si->conf_hash = 0x0123456789abcdefULL;
	si = state_add(st, "db", 0);
	si->pid = 2147483647;
	si->starttime = 1ULL << 62;
}

static int
same(const struct state *a, const struct state *b)
{
	size_t	 i;

	if (strcmp(a->boot_id, b->boot_id) != 0 ||
	    a->tendd_pid != b->tendd_pid || a->n != b->n ||
	    a->events_next != b->events_next)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (strcmp(a->v[i].program, b->v[i].program) != 0 ||
		    a->v[i].index != b->v[i].index ||
		    a->v[i].pid != b->v[i].pid ||
		    a->v[i].starttime != b->v[i].starttime ||
		    a->v[i].want != b->v[i].want ||
		    a->v[i].conf_hash != b->v[i].conf_hash)
			return 0;
	}
	return 1;
}

static int
is_empty(const struct state *st)
{
	return st->n == 0 && st->v == NULL && st->boot_id[0] == '\0' &&
	    st->tendd_pid == 0;
}

T_CASE(add_find_clear)
{
	struct state			 st;
	const struct state_instance	*si;

	memset(&st, 0, sizeof st);
	T_CHECK(state_find(&st, "web", 0) == NULL);
	fill(&st);
	T_INTEQ(st.n, 3);
	si = state_find(&st, "web", 1);
	T_CHECK(si == &st.v[1]);
	T_INTEQ(si->pid, 0);
	T_INTEQ(si->want, STATE_WANT_DOWN);
	T_CHECK(state_find(&st, "web", 2) == NULL);
	T_CHECK(state_find(&st, "we", 0) == NULL);
	si = state_add(&st, "new", 7);
	T_INTEQ(si->pid, 0);
	T_INTEQ(si->want, STATE_WANT_NONE);
	T_INTEQ(si->conf_hash, 0);
	T_CHECK(state_find(&st, "new", 7) == si);
	state_clear(&st);
	T_CHECK(is_empty(&st));
	state_clear(&st);
	T_CHECK(is_empty(&st));
}

T_CASE(json_round_trip)
{
	struct state	 a, b;
	json_t		*j, *i0, *i1;
	char		*s, err[256];

	fill(&a);
	j = state_to_json(&a);
	T_CHECK(j != NULL);
	T_INTEQ(json_integer_value(json_object_get(j, "version")), 1);
	T_INTEQ(json_integer_value(json_object_get(j, "tendd_pid")), 4242);
	i0 = json_array_get(json_object_get(j, "instances"), 0);
	i1 = json_array_get(json_object_get(j, "instances"), 1);
	T_STREQ(json_string_value(json_object_get(i0, "conf_hash")),
	    "fedcba9876543210");
	T_STREQ(json_string_value(json_object_get(i0, "want")), "up");
	T_STREQ(json_string_value(json_object_get(i1, "conf_hash")),
	    "0123456789abcdef");
	T_STREQ(json_string_value(json_object_get(i1, "want")), "down");
	/* No process is written as null. */
	T_CHECK(json_is_null(json_object_get(i1, "pid")));

	T_INTEQ(state_from_json(j, &b, err, sizeof err), 0);
	T_CHECK(same(&a, &b));
	state_clear(&b);

	/* And through text. */
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	j = json_loads(s, 0, NULL);
	T_INTEQ(state_from_json(j, &b, err, sizeof err), 0);
	T_CHECK(same(&a, &b));
	json_decref(j);
	free(s);
	state_clear(&b);
	state_clear(&a);

	/* Empty. */
	memset(&a, 0, sizeof a);
	j = state_to_json(&a);
	T_INTEQ(state_from_json(j, &b, err, sizeof err), 0);
	T_CHECK(is_empty(&b));
	json_decref(j);
}

T_CASE(json_accepts)
{
	struct state	 st;
	json_t		*j;
	char		 err[256] = "";

	/* pid 0 is no process, as null is; unknown keys are ignored;
	   upper-case hex is hex. */
	j = json_loads("{\"version\":1,\"boot_id\":\"\",\"tendd_pid\":0,"
	    "\"future\":[1,2],\"instances\":[{\"program\":\"a\",\"index\":0,"
	    "\"pid\":0,\"starttime\":0,\"want\":null,\"conf_hash\":"
	    "\"ABCDEF0123456789\",\"extra\":{}}]}", 0, NULL);
	T_CHECK(j != NULL);
	T_INTEQ(state_from_json(j, &st, err, sizeof err), 0);
	T_STREQ(err, "");
	/* A file from before the change stream: numbers start afresh. */
	T_INTEQ(st.events_next, 0);
	T_INTEQ(st.n, 1);
	T_INTEQ(st.v[0].pid, 0);
	T_INTEQ(st.v[0].want, STATE_WANT_NONE);
	T_CHECK(st.v[0].conf_hash == 0xabcdef0123456789ULL);
	json_decref(j);
	state_clear(&st);
}

T_CASE(json_rejects)
{
	static const struct {
		const char	*json;
		const char	*msg;
	} bad[] = {
#define HEAD	"\"version\":1,\"boot_id\":\"b\",\"tendd_pid\":1"
#define INST(x)	"{" HEAD ",\"instances\":[" x "]}"
#define OK	"\"program\":\"web\",\"index\":0,\"pid\":5,\"starttime\":9," \
		"\"want\":\"up\",\"conf_hash\":\"0123456789abcdef\""
		{ "[]", "not a JSON object" },
		{ "{\"boot_id\":\"b\",\"tendd_pid\":1,\"instances\":[]}",
		    "missing \"version\"" },
		{ "{\"version\":2,\"boot_id\":\"b\",\"tendd_pid\":1,"
		    "\"instances\":[]}", "unsupported version" },
		{ "{\"version\":\"1\",\"boot_id\":\"b\",\"tendd_pid\":1,"
		    "\"instances\":[]}", "unsupported version" },
		{ "{\"version\":1.0,\"boot_id\":\"b\",\"tendd_pid\":1,"
		    "\"instances\":[]}", "unsupported version" },
		{ "{\"version\":1,\"tendd_pid\":1,\"instances\":[]}",
		    "\"boot_id\" is missing" },
		{ "{\"version\":1,\"boot_id\":5,\"tendd_pid\":1,"
		    "\"instances\":[]}", "\"boot_id\" is not" },
		{ "{\"version\":1,\"boot_id\":\"0123456789012345678901234567"
		    "890123456789\",\"tendd_pid\":1,\"instances\":[]}",
		    "\"boot_id\" is not" },
		{ "{\"version\":1,\"boot_id\":\"a\\u0000b\",\"tendd_pid\":1,"
		    "\"instances\":[]}", "\"boot_id\" is not" },
		{ "{\"version\":1,\"boot_id\":\"b\",\"instances\":[]}",
		    "missing \"tendd_pid\"" },
		{ "{\"version\":1,\"boot_id\":\"b\",\"tendd_pid\":-1,"
		    "\"instances\":[]}", "\"tendd_pid\" is out of range" },
		{ "{\"version\":1,\"boot_id\":\"b\",\"tendd_pid\":\"1\","
		    "\"instances\":[]}", "\"tendd_pid\" is not an integer" },
		{ "{" HEAD ",\"events_next\":-1,\"instances\":[]}",
		    "\"events_next\" is out of range" },
		{ "{" HEAD ",\"events_next\":\"9\",\"instances\":[]}",
		    "\"events_next\" is not an integer" },
		{ "{" HEAD "}", "\"instances\" is missing" },
		{ "{" HEAD ",\"instances\":{}}",
		    "\"instances\" is not an array" },
		{ INST("5"), "instances[0]: not an object" },
		{ INST("{" OK "},7"), "instances[1]: not an object" },
		{ INST("{\"index\":0,\"pid\":5,\"starttime\":9,\"want\":\"up\","
		    "\"conf_hash\":\"0123456789abcdef\"}"),
		    "\"program\" is missing" },
		{ INST("{\"program\":5,\"index\":0,\"pid\":5,\"starttime\":9,"
		    "\"want\":\"up\",\"conf_hash\":\"0123456789abcdef\"}"),
		    "\"program\" is not a valid program name" },
		{ INST("{\"program\":\"a b\",\"index\":0,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdef\"}"),
		    "\"program\" is not a valid program name" },
		{ INST("{\"program\":\"\",\"index\":0,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdef\"}"),
		    "\"program\" is not a valid program name" },
		{ INST("{\"program\":\"web\",\"pid\":5,\"starttime\":9,"
		    "\"want\":\"up\",\"conf_hash\":\"0123456789abcdef\"}"),
		    "instances[0]: missing \"index\"" },
		{ INST("{\"program\":\"web\",\"index\":-1,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdef\"}"), "\"index\" is out of range" },
		{ INST("{\"program\":\"web\",\"index\":4294967296,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdef\"}"), "\"index\" is out of range" },
		{ INST("{\"program\":\"web\",\"index\":0.5,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdef\"}"), "\"index\" is not an integer" },
		{ INST("{\"program\":\"web\",\"index\":0,\"starttime\":9,"
		    "\"want\":\"up\",\"conf_hash\":\"0123456789abcdef\"}"),
		    "missing \"pid\"" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":-5,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdef\"}"), "\"pid\" is out of range (-5)" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":2147483648,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdef\"}"), "\"pid\" is out of range" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":\"5\","
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdef\"}"), "\"pid\" is not an integer" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":5,"
		    "\"starttime\":-9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdef\"}"), "\"starttime\" is out of range" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":5,"
		    "\"want\":\"up\",\"conf_hash\":\"0123456789abcdef\"}"),
		    "missing \"starttime\"" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":5,"
		    "\"starttime\":9,\"conf_hash\":\"0123456789abcdef\"}"),
		    "missing \"want\"" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"sideways\",\"conf_hash\":"
		    "\"0123456789abcdef\"}"), "\"want\" is not" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":5,"
		    "\"starttime\":9,\"want\":1,\"conf_hash\":"
		    "\"0123456789abcdef\"}"), "\"want\" is not" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"up\"}"),
		    "\"conf_hash\" is missing" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcde\"}"), "\"conf_hash\" is not 16 hex" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdef0\"}"), "\"conf_hash\" is not 16 hex" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "\"0123456789abcdeg\"}"), "\"conf_hash\" is not 16 hex" },
		{ INST("{\"program\":\"web\",\"index\":0,\"pid\":5,"
		    "\"starttime\":9,\"want\":\"up\",\"conf_hash\":"
		    "81985529216486895}"), "\"conf_hash\" is not 16 hex" },
		{ INST("{" OK "},{" OK "}"),
		    "instance web:0 is listed twice" },
		{ INST("{" OK "},{\"program\":\"db\",\"index\":0,\"pid\":null,"
		    "\"starttime\":0,\"want\":null,\"conf_hash\":"
		    "\"0000000000000000\"},{" OK ",\"index\":1},{" OK "}"),
		    "instance web:0 is listed twice" },
#undef HEAD
#undef INST
#undef OK
	};
	struct state	 st;
	json_t		*j;
	json_error_t	 jerr;
	char		 err[256];
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* Duplicate keys are allowed here: the loader rejects those,
		   this checks what state_from_json makes of the last one. */
		j = json_loads(bad[i].json, JSON_ALLOW_NUL, &jerr);
		if (j == NULL) {
			fprintf(stderr, "case %zu: bad test JSON: %s\n", i,
			    jerr.text);
			T_CHECK(0);
			continue;
		}
		memset(&st, 0xa5, sizeof st);
		err[0] = '\0';
		errno = 0;
		if (state_from_json(j, &st, err, sizeof err) != -1 ||
		    strstr(err, bad[i].msg) == NULL) {
			fprintf(stderr, "case %zu: %s: got \"%s\", "
			    "want \"%s\"\n", i, bad[i].json, err, bad[i].msg);
			T_CHECK(0);
		} else {
			T_INTEQ(errno, EINVAL);
			T_CHECK(is_empty(&st));
		}
		json_decref(j);
	}
}

T_CASE(save_load)
{
	struct state	 a, b;
	struct stat	 sb;
	char		*dir = tmpdir(), *names, path[512], err[256];
	char		 buf[4096];
	FILE		*f;
	size_t		 len;

	fill(&a);
	T_INTEQ(state_save(dir, &a, false, err, sizeof err), 0);
	T_INTEQ(state_load(dir, &b, err, sizeof err), 0);
	T_CHECK(same(&a, &b));
	state_clear(&b);

	/* Over the old one, with fsync. */
	a.v[0].want = STATE_WANT_DOWN;
	a.tendd_pid = 99;
	T_INTEQ(state_save(dir, &a, true, err, sizeof err), 0);
	T_INTEQ(state_load(dir, &b, err, sizeof err), 0);
	T_CHECK(same(&a, &b));
	state_clear(&b);

	snprintf(path, sizeof path, "%s/state.json", dir);
	T_INTEQ(stat(path, &sb), 0);
	T_INTEQ(sb.st_mode & 07777, 0600);
	T_CHECK((f = fopen(path, "r")) != NULL);
	len = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f != NULL)
		fclose(f);
	buf[len] = '\0';
	/* One compact line. */
	T_CHECK(len > 0 && buf[len - 1] == '\n');
	T_CHECK(strchr(buf, '\n') == buf + len - 1);
	T_CHECK(strncmp(buf, "{\"version\":1,", 13) == 0);

	names = list_dir(dir);
	T_STREQ(names, "state.json");
	free(names);

	state_clear(&a);
	rm_rf(dir);
	free(dir);
}

T_CASE(load_missing)
{
	struct state	 st;
	char		*dir = tmpdir(), sub[512], err[256] = "";

	memset(&st, 0xa5, sizeof st);
	T_INTEQ(state_load(dir, &st, err, sizeof err), 0);
	T_CHECK(is_empty(&st));
	T_STREQ(err, "");
	snprintf(sub, sizeof sub, "%s/nope", dir);
	memset(&st, 0xa5, sizeof st);
	T_INTEQ(state_load(sub, &st, err, sizeof err), 0);
	T_CHECK(is_empty(&st));
	rm_rf(dir);
	free(dir);
}

T_CASE(load_malformed)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} bad[] = {
		{ "", "line" },
		{ "{", "line 1" },
		{ "{\"version\":1}\n{}", "line 2" },
		{ "{\"version\":1,\"version\":1,\"boot_id\":\"\","
		    "\"tendd_pid\":1,\"instances\":[]}", "duplicate" },
		{ "{\"version\":2,\"boot_id\":\"\",\"tendd_pid\":1,"
		    "\"instances\":[]}", "unsupported version" },
		{ "{\"version\":1,\"boot_id\":\"\",\"tendd_pid\":1,"
		    "\"instances\":[{\"program\":\"x\"}]}",
		    "instances[0]: missing \"index\"" },
	};
	struct state	 st;
	char		*dir = tmpdir(), path[512], want[600], err[256];
	size_t		 i;

	snprintf(path, sizeof path, "%s/state.json", dir);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(dir, "state.json", bad[i].text);
		memset(&st, 0xa5, sizeof st);
		err[0] = '\0';
		T_INTEQ(state_load(dir, &st, err, sizeof err), -1);
		T_CHECK(is_empty(&st));
		snprintf(want, sizeof want, "%s: ", path);
		if (strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, bad[i].msg) == NULL) {
			fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n",
			    i, err, bad[i].msg);
			T_CHECK(0);
		}
	}

	/* Not a file: a FIFO must not hang the load. */
	T_INTEQ(unlink(path), 0);
	T_INTEQ(mkfifo(path, 0600), 0);
	T_INTEQ(state_load(dir, &st, err, sizeof err), -1);
	T_CHECK(is_empty(&st));
	snprintf(want, sizeof want, "%s: ", path);
	T_CHECK(strncmp(err, want, strlen(want)) == 0);
	T_INTEQ(unlink(path), 0);
	T_INTEQ(mkdir(path, 0700), 0);
	T_INTEQ(state_load(dir, &st, err, sizeof err), -1);
	T_CHECK(is_empty(&st));
	snprintf(want, sizeof want, "%s: Is a directory", path);
	T_STREQ(err, want);

	rm_rf(dir);
	free(dir);
}

T_CASE(lock)
{
	struct state_lock	*l1, *l2;
	struct stat		 sb;
	char			*dir = tmpdir(), sub[512], path[600];
	char			 want[800];
	char			 err[700] = "", buf[32] = "";
	bool			 busy = true;
	pid_t			 other;
	FILE			*f;

	/* Missing parents are made, 0700. */
	snprintf(sub, sizeof sub, "%s/a//b/", dir);
	l1 = state_lock(sub, &busy, NULL, err, sizeof err);
	T_CHECK(l1 != NULL);
	T_CHECK(!busy);
	snprintf(path, sizeof path, "%s/a", dir);
	T_INTEQ(stat(path, &sb), 0);
	T_CHECK(S_ISDIR(sb.st_mode) && (sb.st_mode & 07777) == 0700);
	snprintf(path, sizeof path, "%s/a/b", dir);
	T_INTEQ(stat(path, &sb), 0);
	T_CHECK(S_ISDIR(sb.st_mode) && (sb.st_mode & 07777) == 0700);

	snprintf(path, sizeof path, "%s/a/b/tendd.lock", dir);
	T_CHECK((f = fopen(path, "r")) != NULL);
	if (f != NULL) {
		T_CHECK(fgets(buf, sizeof buf, f) != NULL);
		fclose(f);
	}
	T_INTEQ(strtol(buf, NULL, 10), getpid());

	/* flock locks belong to the open file description: a second open
	   in the same process conflicts like another process would. */
	other = 0;
	l2 = state_lock(sub, &busy, &other, err, sizeof err);
	T_CHECK(l2 == NULL);
	T_CHECK(busy);
	/* The holder, named by the file. */
	T_INTEQ(other, getpid());
	snprintf(want, sizeof want, "state_dir %s is in use by another tendd "
	    "(pid %d)", sub, (int)getpid());
	T_STREQ(err, want);
	state_unlock(l2);

	state_unlock(l1);
	/* The file stays behind. */
	T_INTEQ(access(path, F_OK), 0);
	busy = true;
	other = 0;
	l2 = state_lock(sub, &busy, &other, err, sizeof err);
	T_CHECK(l2 != NULL);
	T_CHECK(!busy);
	/* The last holder, for the control socket's staleness check. */
	T_INTEQ(other, getpid());
	state_unlock(l2);
	state_unlock(NULL);

	/* Not a directory: an error, not busy. */
	snprintf(sub, sizeof sub, "%s/a/b/tendd.lock", dir);
	busy = true;
	err[0] = '\0';
	T_CHECK(state_lock(sub, &busy, NULL, err, sizeof err) == NULL);
	T_CHECK(!busy);
	T_CHECK(strstr(err, sub) != NULL);

	rm_rf(dir);
	free(dir);
}

T_CASE(save_fails)
{
	struct state	 st;
	char		*dir = tmpdir(), sub[512], err[700], *names;

	fill(&st);

	/* No such directory. */
	snprintf(sub, sizeof sub, "%s/nope", dir);
	err[0] = '\0';
	errno = 0;
	T_INTEQ(state_save(sub, &st, true, err, sizeof err), -1);
	T_INTEQ(errno, ENOENT);
	T_CHECK(strstr(err, sub) != NULL);

	/* Not a directory. */
	write_file(dir, "file", "x");
	snprintf(sub, sizeof sub, "%s/file", dir);
	errno = 0;
	T_INTEQ(state_save(sub, &st, false, err, sizeof err), -1);
	T_INTEQ(errno, ENOTDIR);

	/* Fails after the temporary file is written: it goes again. */
	snprintf(sub, sizeof sub, "%s/state.json", dir);
	T_INTEQ(mkdir(sub, 0700), 0);
	write_file(sub, "x", "x");
	err[0] = '\0';
	T_INTEQ(state_save(dir, &st, true, err, sizeof err), -1);
	T_CHECK(strstr(err, "rename") != NULL && strstr(err, sub) != NULL);
	names = list_dir(dir);
	T_STREQ(names, "file state.json");
	free(names);

	/* Root writes anywhere; only others see the mode bits. */
	if (geteuid() != 0) {
		snprintf(sub, sizeof sub, "%s/ro", dir);
		T_INTEQ(mkdir(sub, 0500), 0);
		errno = 0;
		T_INTEQ(state_save(sub, &st, false, err, sizeof err), -1);
		T_INTEQ(errno, EACCES);
		names = list_dir(sub);
		T_STREQ(names, "");
		free(names);
		T_INTEQ(rmdir(sub), 0);
	}

	/* A program name that is not UTF-8 cannot be written. */
	state_add(&st, "\xff", 0);
	T_INTEQ(state_save(dir, &st, false, err, sizeof err), -1);
	names = list_dir(dir);
	T_STREQ(names, "file state.json");
	free(names);

	state_clear(&st);
	rm_rf(dir);
	free(dir);
}

T_MAIN(T_ENTRY(add_find_clear), T_ENTRY(json_round_trip),
    T_ENTRY(json_accepts), T_ENTRY(json_rejects), T_ENTRY(save_load),
    T_ENTRY(load_missing), T_ENTRY(load_malformed), T_ENTRY(lock),
    T_ENTRY(save_fails))
