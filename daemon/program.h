/*
 * program.h: a configured program and its instances (instance.h): made
 * from its conf entry, pointed at a new one on reload, scaled, and its
 * instances retired (stopped, then freed once down).
 *
 * Ownership: the daemon's registry owns programs; a program owns its
 * instances and a reference on the conf its entry belongs to.
 */
#ifndef TEND_PROGRAM_H
#define TEND_PROGRAM_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "conf.h"

struct daemon;
struct instance_env;
struct svc;

struct program {
	TAILQ_ENTRY(program)		 entry;
	struct daemon			*d;	/* the registry's */
	struct instance_env		*env;
	struct conf			*conf;	/* reference held for cp */
	const struct conf_program	*cp;
	uint64_t			 hash;	/* conf_program_hash(cp) */
	struct svc			**svcs;	/* by instance index */
	unsigned			 nsvcs;
	struct svc			**retiring; /* scaled down/removed,
						       stopping, then freed */
	unsigned			 nretiring;
	bool				 removed;
	bool				 seen;	/* reload bookkeeping */
};
TAILQ_HEAD(program_list, program);

struct program	*program_new(struct daemon *, struct instance_env *,
		    struct conf *, const struct conf_program *);
void		 program_free(struct program *);
/* Point the program and all its instances at a new conf entry. */
void		 program_set_conf(struct program *, struct conf *,
		    const struct conf_program *);
/* Stop an instance and keep it aside until it is down. */
void		 program_retire(struct program *, struct svc *);
/* Change the number of instances to cp->instances (already set); with
   start_new, the new ones start. */
void		 program_scale(struct program *, bool start_new);
/* Restart the active instances (of the first upto) that are up or
   trying to be. */
void		 program_restart_changed(struct program *, unsigned upto);
/* Is an instance wanted up (or the program autostart)? */
bool		 program_wanted_up(const struct program *);
/* Free the retired instances that are down. */
void		 program_gc(struct program *);
/* Start every instance. */
void		 program_start(struct program *);
/*
 * Reload: point the program at its new entry cp of nc and apply what
 * changed (scale, restart, the operator's decisions dropped). Returns
 * the change ({"program","action","keys"}: restarted, scaled or
 * updated), or NULL if nothing did.
 */
json_t		*program_reconfigure(struct program *, struct conf *,
		    const struct conf_program *);
/* Reload: no longer configured: stop its instances (the registry frees
   it once they are down). Returns the change (removed). */
json_t		*program_remove(struct program *);
/* The registry's list: a program by name (not one being removed); how
   many instances (retiring ones too); daemon_select (daemon.h). */
struct program	*programs_find(struct program_list *, const char *);
size_t		 programs_count(const struct program_list *);
int		 programs_select(struct program_list *, json_t *patterns,
		    bool include_retiring, struct svc ***, size_t *,
		    json_t **unmatched);
json_t		*program_change_json(const char *program, const char *action,
		    const char **keys, size_t nkeys);

#endif
