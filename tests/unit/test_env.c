/* test_env.c: environment vectors and environment files. */
#include "env.h"
#include "t.h"

T_CASE(set_replaces)
{
	struct env	 e;
	char		*vec[] = { "A=1", "B=2", "BAD", NULL };

	env_init(&e);
	env_import(&e, vec);
	T_INTEQ(e.n, 2);
	env_set(&e, "A", "3");
	env_set(&e, "C", "x=y");
	T_INTEQ(e.n, 3);
	T_STREQ(env_get(&e, "A"), "3");
	T_STREQ(env_get(&e, "C"), "x=y");
	T_CHECK(env_get(&e, "AB") == NULL);
	T_CHECK(e.v[e.n] == NULL);
	T_INTEQ(env_put(&e, "=x"), -1);
	env_free(&e);
}

T_CASE(unset)
{
	struct env	 e;
	char		*vec[] = { "A=1", "B=2", "C=3", NULL };

	env_init(&e);
	env_import(&e, vec);
	env_unset(&e, "B");
	env_unset(&e, "NOPE");
	T_INTEQ(e.n, 2);
	T_CHECK(env_get(&e, "B") == NULL);
	T_STREQ(env_get(&e, "C"), "3");
	T_CHECK(e.v[2] == NULL);
	env_unset(&e, "C");
	env_unset(&e, "A");
	T_INTEQ(e.n, 0);
	T_CHECK(e.v[0] == NULL);
	env_free(&e);
}

T_CASE(grows)
{
	struct env	 e;
	char		 k[16];
	int		 i;

	env_init(&e);
	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof k, "K%d", i);
		env_set(&e, k, "v");
	}
	T_INTEQ(e.n, 100);
	T_CHECK(e.v[100] == NULL);
	env_free(&e);
}

T_CASE(file_syntax)
{
	struct env	 e;
	unsigned	 bad = 0;
	const char	*text =
	    "# comment\n"
	    "; also a comment\n"
	    "\n"
	    "A=1\n"
	    "  B = two words  \n"
	    "export C=3\n"
	    "D=\"quoted \\\"x\\\" \\n end\"\n"
	    "E='single $x'\n"
	    "F=\n"
	    "A=override";

	env_init(&e);
	T_INTEQ(env_parse_file(&e, text, strlen(text), &bad), 0);
	T_STREQ(env_get(&e, "A"), "override");
	T_STREQ(env_get(&e, "B"), "two words");
	T_STREQ(env_get(&e, "C"), "3");
	T_STREQ(env_get(&e, "D"), "quoted \"x\" \n end");
	T_STREQ(env_get(&e, "E"), "single $x");
	T_STREQ(env_get(&e, "F"), "");
	env_free(&e);
}

T_CASE(file_errors)
{
	struct env	 e;
	unsigned	 bad = 0;

	env_init(&e);
	T_INTEQ(env_parse_file(&e, "A=1\nnot a line\n", 15, &bad), -1);
	T_INTEQ(bad, 2);
	T_INTEQ(env_parse_file(&e, "1X=2\n", 5, &bad), -1);
	T_INTEQ(bad, 1);
	T_INTEQ(env_parse_file(&e, "A-B=2\n", 6, &bad), -1);
	env_free(&e);
}

T_MAIN(T_ENTRY(set_replaces), T_ENTRY(unset), T_ENTRY(grows), T_ENTRY(file_syntax),
    T_ENTRY(file_errors))
