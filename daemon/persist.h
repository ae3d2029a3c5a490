/*
 * persist.h: the daemon's side of state_dir (state.h is the file): save
 * the instances' PIDs and the operator's decisions as they change, and on
 * start-up adopt what a crashed predecessor left running instead of
 * starting second copies.
 */
#ifndef TEND_PERSIST_H
#define TEND_PERSIST_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/util.h>

struct daemon;
struct svc;

/*
 * Lock state_dir and read what was saved there: operator decisions whose
 * program is unchanged apply again, and instances whose process still runs
 * (same PID and start time, same boot) are adopted. Returns -1 with a
 * message when another tendd uses state_dir; other problems are logged
 * and tendd runs on (without state when state_dir is unusable).
 */
int	 persist_restore(struct daemon *, char *err, size_t errlen);
/* Something to save changed: save once, after this pass of the loop. */
void	 persist_changed(struct daemon *);
/* Only a process ended (its PID left in the file is harmless: adoption
   checks the start time): save within PERSIST_LATER, once for however
   many end meanwhile. Any save first covers it. */
void	 persist_changed_later(struct daemon *);
void	 persist_save_cb(evutil_socket_t, short, void *);
/* Save now; with sync, durably (fsync). */
void	 persist_save(struct daemon *, bool sync);
/* The operator started (up) or stopped these instances. The caller
   carries it out, then saves durably (persist_save(d, true)) before the
   command is answered. */
void	 persist_operator(struct daemon *, struct svc **, size_t, bool up);
/* Should the instance start with tendd: the operator's decision, else
   the config's autostart. */
bool	 persist_wants_up(const struct svc *);
/* Does the operator's decision differ from autostart? */
bool	 persist_operator_set(const struct svc *);

#endif
