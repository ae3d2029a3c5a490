/* test_util.c: durations, sizes, signal names, patterns, names,
 * substitution. */
#include <signal.h>

#include "t.h"
#include "util.h"

T_CASE(durations)
{
	struct {
		const char	*in;
		uint64_t	 usec;
	} ok[] = {
		{ "0", 0 }, { "1", 1000000 }, { "1.5", 1500000 },
		{ "0.1", 100000 }, { "250ms", 250000 }, { "10s", 10000000 },
		{ "5m", 300000000 }, { "1h", 3600000000ULL },
		{ "1d", 86400000000ULL }, { "1m30s", 90000000 },
		{ "1.5s", 1500000 }, { "20us", 20 }, { " 2s", 2000000 },
	};
	const char	*bad[] = { "", "s", "10x", "-1", "1s5", "abc", "1 s",
	    "10ss", "1e999", "5m-3s", "." };
	uint64_t	 v;
	size_t		 i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		v = 12345;
		T_INTEQ(util_parse_duration(ok[i].in, &v), 0);
		T_INTEQ(v, ok[i].usec);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (util_parse_duration(bad[i], &v) != -1) {
			fprintf(stderr, "accepted bad duration '%s'\n", bad[i]);
			t_failed_checks++;
		}
	}
}

T_CASE(seconds_to_usec)
{
	uint64_t	 v;

	T_INTEQ(util_seconds_to_usec(0.25, &v), 0);
	T_INTEQ(v, 250000);
	T_INTEQ(util_seconds_to_usec(-1, &v), -1);
	T_INTEQ(util_seconds_to_usec(1.0 / 0.0, &v), -1);
}

T_CASE(sizes)
{
	struct {
		const char	*in;
		uint64_t	 bytes;
	} ok[] = {
		{ "0", 0 }, { "512", 512 }, { "64K", 65536 },
		{ "64k", 65536 }, { "64KB", 65536 }, { "64kib", 65536 },
		{ "64KiB", 65536 }, { "10M", 10485760 }, { "10mb", 10485760 },
		{ "10MiB", 10485760 }, { "1G", 1073741824 },
		{ "1gb", 1073741824 }, { "1GiB", 1073741824 },
		{ "1024G", 1099511627776ULL }, { "007", 7 },
		{ "18446744073709551615", UINT64_MAX },
		{ "17179869183G", 17179869183ULL << 30 },
	};
	const char	*bad[] = { "", "K", "-1", "+1", " 1", "1 ", "1 K",
	    "1.5M", "1T", "1B", "1KBB", "1Ki", "1KiBs", "0x10", "1e3",
	    "18446744073709551616", "17179869184G", "99999999999999999999K" };
	uint64_t	 v;
	size_t		 i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		v = 12345;
		T_INTEQ(util_parse_size(ok[i].in, &v), 0);
		if (v != ok[i].bytes) {
			fprintf(stderr, "size '%s': %llu\n", ok[i].in,
			    (unsigned long long)v);
			t_failed_checks++;
		}
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 12345;
		if (util_parse_size(bad[i], &v) != -1 || v != 12345) {
			fprintf(stderr, "accepted bad size '%s'\n", bad[i]);
			t_failed_checks++;
		}
	}
}

T_CASE(format_duration)
{
	char	 buf[32];

	util_format_duration(0, buf, sizeof buf);
	T_STREQ(buf, "0s");
	util_format_duration(250000, buf, sizeof buf);
	T_STREQ(buf, "250ms");
	util_format_duration(59 * 1000000ULL, buf, sizeof buf);
	T_STREQ(buf, "59s");
	util_format_duration(303 * 1000000ULL, buf, sizeof buf);
	T_STREQ(buf, "5m03s");
	util_format_duration(7440 * 1000000ULL, buf, sizeof buf);
	T_STREQ(buf, "2h04m");
	util_format_duration(266400 * 1000000ULL, buf, sizeof buf);
	T_STREQ(buf, "3d02h");
}

T_CASE(signals)
{
	T_INTEQ(util_parse_signal("TERM"), SIGTERM);
	T_INTEQ(util_parse_signal("SIGTERM"), SIGTERM);
	T_INTEQ(util_parse_signal("term"), SIGTERM);
	T_INTEQ(util_parse_signal("sigkill"), SIGKILL);
	T_INTEQ(util_parse_signal("15"), 15);
	T_INTEQ(util_parse_signal("HUP"), SIGHUP);
	T_INTEQ(util_parse_signal("USR1"), SIGUSR1);
	T_INTEQ(util_parse_signal("RTMIN+2"), SIGRTMIN + 2);
	T_INTEQ(util_parse_signal("SIGRTMAX-1"), SIGRTMAX - 1);
	T_INTEQ(util_parse_signal("NOPE"), -1);
	T_INTEQ(util_parse_signal("0"), -1);
	T_INTEQ(util_parse_signal("65"), -1);
	T_INTEQ(util_parse_signal("15x"), -1);
	T_INTEQ(util_parse_signal(""), -1);
	T_STREQ(util_signal_name(SIGTERM), "TERM");
	T_STREQ(util_signal_name(SIGKILL), "KILL");
	T_STREQ(util_signal_name(SIGRTMIN + 3), "RTMIN+3");
}

T_CASE(patterns)
{
	T_CHECK(util_match("web", "web", "web:0"));
	T_CHECK(util_match("web", "web", "web"));
	T_CHECK(util_match("web:1", "web", "web:1"));
	T_CHECK(!util_match("web:1", "web", "web:2"));
	T_CHECK(util_match("web:*", "web", "web:2"));
	T_CHECK(util_match("w*", "web", "web:2"));
	T_CHECK(!util_match("web", "webapp", "webapp"));
	T_CHECK(util_match("all", "x", "x:3"));
	T_CHECK(util_match("*", "x", "x:3"));
	T_CHECK(util_match("we[ab]", "web", "web"));
	T_CHECK(!util_match("db*", "web", "web:0"));
}

T_CASE(names)
{
	T_CHECK(util_valid_name("web"));
	T_CHECK(util_valid_name("web-2.api_x"));
	T_CHECK(!util_valid_name(""));
	T_CHECK(!util_valid_name("web:1"));
	T_CHECK(!util_valid_name("a b"));
	T_CHECK(!util_valid_name("-x"));
	T_CHECK(!util_valid_name(".x"));
	T_CHECK(!util_valid_name("w*"));
	T_CHECK(!util_valid_name("all"));
	/* 64 characters is the longest name. */
	T_CHECK(util_valid_name(
	    "123456789012345678901234567890123456789012345678901234567890123"
	    "4"));
	T_CHECK(!util_valid_name(
	    "a1234567890123456789012345678901234567890123456789012345678901234"
	    ));
}

T_CASE(subst)
{
	char	*s;

	s = util_subst("port 80{instance} for {name}", "web", 3);
	T_STREQ(s, "port 803 for web");
	free(s);
	s = util_subst("{instance}{instance}", "x", 12);
	T_STREQ(s, "1212");
	free(s);
	s = util_subst("{other} {name", "x", 1);
	T_STREQ(s, "{other} {name");
	free(s);
	s = util_subst("", "x", 1);
	T_STREQ(s, "");
	free(s);
}

T_CASE(edit_distance)
{
	T_INTEQ(util_edit_distance("restart", "restat"), 1);
	T_INTEQ(util_edit_distance("command", "comand"), 1);
	T_INTEQ(util_edit_distance("abc", "abc"), 0);
	T_INTEQ(util_edit_distance("", "abc"), 3);
	T_INTEQ(util_edit_distance("kitten", "sitting"), 3);
}

T_MAIN(T_ENTRY(durations), T_ENTRY(seconds_to_usec), T_ENTRY(sizes),
    T_ENTRY(format_duration), T_ENTRY(signals), T_ENTRY(patterns),
    T_ENTRY(names), T_ENTRY(subst), T_ENTRY(edit_distance))
