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
#include <stdint.h>

#include <event2/util.h>

struct daemon;
struct launch_record;
struct svc;

/*
 * Lock state_dir, before the control socket is bound (the lock, not an
 * answer on the socket, says whether another tendd runs; the last
 * holder's PID is kept in the daemon's predecessor, so its socket is
 * known to be stale). A lock still held by a tendd that is gone is waited
 * for briefly. Returns -1 with a message when another tendd uses
 * state_dir; when state_dir is unusable, logs it and tendd runs without
 * state.
 */
int	 persist_lock(struct daemon *, char *err, size_t errlen);
/*
 * Read what was saved in state_dir: operator decisions whose program is
 * unchanged apply again, and instances whose process still runs (same
 * PID and start time, same boot) are adopted, from state.json or, for a
 * process started just before the predecessor ended, from its spawn
 * record (pidrec.h). What cannot be adopted is killed before the
 * instance starts again. Problems are logged and tendd runs on.
 */
void	 persist_restore(struct daemon *);
/* Stop saving (tendd is leaving; the last save came with tendd.stopped,
   in the loop). */
void	 persist_close(struct daemon *);
/* Something to save changed: save once, after this pass of the loop. */
void	 persist_changed(struct daemon *);
/* Only a process ended (its PID left in the file is harmless: adoption
   checks the start time): save within PERSIST_LATER, once for however
   many end meanwhile. Any save first covers it. */
void	 persist_changed_later(struct daemon *);
/* Save now; with sync, durably (fsync). -1 when it failed (then tried
   again every few seconds until it works; persist_error says why). */
int	 persist_save(struct daemon *, bool sync);
/* Why the last save failed, or NULL when it worked. */
const char *persist_error(const struct daemon *);
/* Is the operator's decision for s (one that differs from autostart)
   not on disk, the last save having failed? */
bool	 persist_unsaved(const struct svc *);
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
