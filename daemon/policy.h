/*
 * policy.h: when tendd itself ends, as the stream tells. An essential
 * program that ends for good stops everything with its exit status; with
 * exit_when_done, tendd ends once every non-daemon program has ended,
 * with the status of the first that ended badly (else 0).
 */
#ifndef TEND_POLICY_H
#define TEND_POLICY_H

#include <stdbool.h>

struct event_base;
struct events;
struct policy;

struct policy_hooks {
	/* Has every non-daemon instance ended (down, no process)? */
	bool	(*work_down)(void *);
	/* End tendd with this exit status. */
	void	(*shutdown)(int code, void *);
	void	*arg;
};

struct policy	*policy_new(struct event_base *, struct events *,
		    bool exit_when_done, const struct policy_hooks *);
void		 policy_free(struct policy *);
/* Look now (at start: nothing to run may mean done already). */
void		 policy_check(struct policy *);

#endif
