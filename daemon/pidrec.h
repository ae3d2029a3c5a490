/*
 * pidrec.h: the spawn record, state_dir/pids: a file of fixed-size slots,
 * one per instance, into which every child tendd starts writes its own
 * PID, before it runs anything of the program (launch.h's
 * launch_record). state.json follows within a pass of the loop; until
 * then, this is what a tendd that died leaves of a process it had just
 * started, so the next one finds it instead of starting a second copy.
 *
 * A slot names its instance (program and index) and holds the last
 * process started for it: its PID, whether it was a forking program's
 * launcher, and two CLOCK_BOOTTIME readings (before the clone, and in the
 * child) between which the process's start time must fall: a PID used
 * again since never matches. The file is written in place, a slot at a
 * time, never rewritten whole, so a crash at any moment leaves every
 * record whole; what it records is only good for the boot it names.
 *
 * Ownership: the daemon's persist side owns the pidrec; slots are
 * claimed for instances and released when an instance is freed.
 */
#ifndef TEND_PIDREC_H
#define TEND_PIDREC_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct launch_record;
struct pidrec;

#define PIDREC_LAUNCHER	0x1	/* flags: the process is a launcher */

/* A predecessor's record of an instance. */
struct pidrec_entry {
	const char	*program;
	unsigned	 index;
	pid_t		 pid;		/* 0: none */
	uint32_t	 flags;
	uint64_t	 t0;		/* CLOCK_BOOTTIME ns before the clone */
	uint64_t	 t1;		/* in the child; 0 if unknown */
};

/*
 * Open (or create) dir/pids and read what a predecessor of this boot
 * recorded there (another boot's records are dropped). NULL with a
 * message when the file cannot be used.
 */
struct pidrec	*pidrec_open(const char *dir, char *err, size_t errlen);
/* Close the file. Records stay for a successor. NULL: no-op. */
void		 pidrec_free(struct pidrec *);

/* The predecessor's record of program:index with a PID, or NULL. Valid
   until pidrec_settle(). */
const struct pidrec_entry *pidrec_find(const struct pidrec *,
		    const char *program, unsigned index);
/*
 * Claim a slot for program:index: the predecessor's slot of that
 * instance when there is one (its record stays until the next start),
 * else a free one, growing the file. Nothing is written: the first
 * start writes the whole slot. Returns the slot, or -1 with errno.
 */
int		 pidrec_claim(struct pidrec *, const char *program,
		    unsigned index);
/* The instance is gone: its slot is free again (and zeroed). */
void		 pidrec_release(struct pidrec *, int slot);
/*
 * The predecessor's records nobody claimed (programs no longer
 * configured): fn is called for each that has a PID, then their slots
 * are freed, and the predecessor's records are forgotten.
 */
void		 pidrec_settle(struct pidrec *,
		    void (*fn)(const struct pidrec_entry *, void *), void *);
/* Where and what the child started for slot (program:index) writes:
   the whole slot, so that a claim writes nothing. */
void		 pidrec_target(const struct pidrec *, int slot,
		    const char *program, unsigned index, uint32_t flags,
		    uint64_t t0, struct launch_record *);

/*
 * Does the process pid, with start time starttime (clock ticks after
 * boot, /proc/PID/stat), match the record: the same PID, started
 * between t0 and t1 (t1 unknown: between t0 and now)?
 */
bool		 pidrec_matches(const struct pidrec_entry *, pid_t,
		    uint64_t starttime);

#endif
