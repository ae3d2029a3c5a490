/*
 * test_wire.c: tendd and tendctl agree on the wire (common/wire.h): every
 * tendctl row that sends a message names a command of tendd's, every
 * command of tendd's has a tendctl row, and every status key tendctl asks
 * for is one tendd makes.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "control.h"
#include "ctl.h"
#include "svc.h"
#include "wire.h"

#include "t.h"

/* tendctl's row that sends cmd, or NULL. */
static const struct ctl_cmd *
ctl_row_sending(const char *cmd)
{
	const struct ctl_cmd	*c;
	size_t			 i;

	for (i = 0; (c = ctl_cmd_at(i)) != NULL; i++) {
		if (c->proto_cmd != NULL && strcmp(c->proto_cmd, cmd) == 0)
			return c;
	}
	return NULL;
}

T_CASE(ctl_rows_name_tendd_commands)
{
	const struct ctl_cmd	*c;
	size_t			 i, sending = 0;

	for (i = 0; (c = ctl_cmd_at(i)) != NULL; i++) {
		/* help runs in tendctl alone. */
		if (c->proto_cmd == NULL)
			continue;
		sending++;
		if (cmd_find(c->proto_cmd) == NULL) {
			fprintf(stderr, "tendctl %s sends '%s': tendd has no "
			    "such command\n", c->name, c->proto_cmd);
			T_CHECK(cmd_find(c->proto_cmd) != NULL);
		}
	}
	T_CHECK(sending > 0);
}

T_CASE(tendd_commands_have_ctl_rows)
{
	const struct control_cmd	*tab;
	size_t			 i, n;

	tab = cmd_table(&n);
	T_CHECK(n > 0);
	for (i = 0; i < n; i++) {
		T_CHECK(cmd_find(tab[i].name) == &tab[i]);
		if (ctl_row_sending(tab[i].name) == NULL) {
			fprintf(stderr, "tendd's command '%s' has no tendctl "
			    "row\n", tab[i].name);
			T_CHECK(ctl_row_sending(tab[i].name) != NULL);
		}
	}
}

/* The keys tendctl's status table asks for, as it sends them. */
T_CASE(status_fields_asked_are_made)
{
	struct ctl_inv	 inv;
	json_t		*req, *fields, *f;
	char		 status[] = "status", *argv[] = { status, NULL };
	char		 err[256];
	const char	*key;
	size_t		 i;

	ctl_inv_init(&inv, stdout, stderr);
	T_INTEQ(ctl_parse(&inv, 1, argv, err, sizeof err), 0);
	req = ctl_request(&inv);
	T_CHECK(req != NULL);
	T_STREQ(json_string_value(json_object_get(req, "cmd")),
	    WIRE_CMD_STATUS);
	fields = json_object_get(json_object_get(req, "args"), WIRE_K_FIELDS);
	T_CHECK(json_array_size(fields) > 0);
	json_array_foreach(fields, i, f) {
		key = json_string_value(f);
		if (cmd_status_field(key) == -1) {
			fprintf(stderr, "tendctl's status asks for '%s': "
			    "tendd makes no such key\n", key);
			T_CHECK(cmd_status_field(key) != -1);
		}
	}
	json_decref(req);
	ctl_inv_clear(&inv);
}

/* tendd makes every key of the instance object, under its own name. */
T_CASE(status_fields_all_made)
{
	int	 f;

	for (f = 0; f < WIRE_F_N; f++) {
		T_CHECK(wire_field_key(f) != NULL);
		T_INTEQ(wire_field_find(wire_field_key(f)), f);
		T_INTEQ(cmd_status_field(wire_field_key(f)), f);
	}
	T_CHECK(wire_field_key(WIRE_F_N) == NULL);
	T_INTEQ(cmd_status_field("no_such_key"), -1);
	T_INTEQ(cmd_status_field(NULL), -1);
}

/* The names svc.c gives its states are the wire's, which tendctl reads. */
T_CASE(state_names)
{
	int	 s;

	T_INTEQ(SVC_NSTATES, WIRE_S_N);
	for (s = 0; s < SVC_NSTATES; s++) {
		T_STREQ(svc_state_name(s), wire_state_name(s));
		T_INTEQ(wire_state_find(svc_state_name(s)), s);
	}
	T_STREQ(svc_state_name(SVC_RUNNING), "running");
	T_STREQ(svc_state_name(SVC_FAILED), "failed");
	T_CHECK(wire_state_name(WIRE_S_N) == NULL);
	T_INTEQ(wire_state_find("no_such_state"), -1);
}

T_MAIN(
	T_ENTRY(ctl_rows_name_tendd_commands),
	T_ENTRY(tendd_commands_have_ctl_rows),
	T_ENTRY(status_fields_asked_are_made),
	T_ENTRY(status_fields_all_made),
	T_ENTRY(state_names),
)
