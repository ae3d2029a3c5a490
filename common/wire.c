/* wire.c: the tables of wire.h: the instance keys and the state names. */
#include <stddef.h>
#include <string.h>

#include "wire.h"

static const char *const wire_field_keys[WIRE_F_N] = {
	[WIRE_F_NAME] = WIRE_K_NAME,
	[WIRE_F_PROGRAM] = WIRE_K_PROGRAM,
	[WIRE_F_INSTANCE] = WIRE_K_INSTANCE,
	[WIRE_F_STATE] = WIRE_K_STATE,
	[WIRE_F_WANT] = WIRE_K_WANT,
	[WIRE_F_PID] = WIRE_K_PID,
	[WIRE_F_PPID] = WIRE_K_PPID,
	[WIRE_F_UPTIME] = WIRE_K_UPTIME,
	[WIRE_F_RESTARTS] = WIRE_K_RESTARTS,
	[WIRE_F_LAST_EXIT] = WIRE_K_LAST_EXIT,
	[WIRE_F_DAEMON] = WIRE_K_DAEMON,
	[WIRE_F_ERROR] = WIRE_K_ERROR,
	[WIRE_F_LOG_DROPPED] = WIRE_K_LOG_DROPPED,
	[WIRE_F_LOG_ERROR] = WIRE_K_LOG_ERROR,
	[WIRE_F_DESCENDANTS] = WIRE_K_DESCENDANTS,
	[WIRE_F_ADOPTED] = WIRE_K_ADOPTED,
	[WIRE_F_OPERATOR] = WIRE_K_OPERATOR,
	[WIRE_F_UNSAVED] = WIRE_K_UNSAVED,
	[WIRE_F_ESSENTIAL] = WIRE_K_ESSENTIAL,
	[WIRE_F_TRACKING] = WIRE_K_TRACKING,
	[WIRE_F_CGROUP] = WIRE_K_CGROUP,
};

static const char *const wire_state_names[WIRE_S_N] = {
	[WIRE_S_STOPPED] = "stopped",
	[WIRE_S_STARTING] = "starting",
	[WIRE_S_RUNNING] = "running",
	[WIRE_S_BACKOFF] = "backoff",
	[WIRE_S_STOPPING] = "stopping",
	[WIRE_S_EXITED] = "exited",
	[WIRE_S_FAILED] = "failed",
};

const char *
wire_field_key(enum wire_field f)
{
	return (unsigned)f < WIRE_F_N ? wire_field_keys[f] : NULL;
}

int
wire_field_find(const char *key)
{
	int	 i;

	for (i = 0; key != NULL && i < WIRE_F_N; i++) {
		if (strcmp(wire_field_keys[i], key) == 0)
			return i;
	}
	return -1;
}

const char *
wire_state_name(enum wire_state s)
{
	return (unsigned)s < WIRE_S_N ? wire_state_names[s] : NULL;
}

int
wire_state_find(const char *name)
{
	int	 i;

	for (i = 0; name != NULL && i < WIRE_S_N; i++) {
		if (strcmp(wire_state_names[i], name) == 0)
			return i;
	}
	return -1;
}
