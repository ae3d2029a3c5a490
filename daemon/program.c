/* program.c: a program and its instances: made, scaled, retired. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "log.h"
#include "program.h"
#include "svc.h"
#include "util.h"

static char *
program_instance_name(const struct conf_program *cp, unsigned i)
{
	char	*name;

	if (cp->instances == 1)
		return xstrdup(cp->name);
	xasprintf(&name, "%s:%u", cp->name, i);
	return name;
}

static struct svc *
program_new_svc(struct program *p, unsigned i)
{
	struct svc	*s;
	char		*name = program_instance_name(p->cp, i);

	s = instance_new(p->env, p->cp, i, name, p);
	free(name);
	return s;
}

static void
program_free_svc(struct svc *s)
{
	instance_free(s);
}

struct program *
program_new(struct daemon *d, struct instance_env *env, struct conf *conf,
    const struct conf_program *cp)
{
	struct program	*p = xcalloc(1, sizeof *p);
	unsigned	 i;

	p->d = d;
	p->env = env;
	p->conf = conf_ref(conf);
	p->cp = cp;
	p->hash = conf_program_hash(cp);
	p->nsvcs = cp->instances;
	p->svcs = xcalloc(p->nsvcs, sizeof *p->svcs);
	for (i = 0; i < p->nsvcs; i++)
		p->svcs[i] = program_new_svc(p, i);
	return p;
}

void
program_free(struct program *p)
{
	unsigned	 i;

	for (i = 0; i < p->nsvcs; i++)
		program_free_svc(p->svcs[i]);
	for (i = 0; i < p->nretiring; i++)
		program_free_svc(p->retiring[i]);
	free(p->svcs);
	free(p->retiring);
	conf_unref(p->conf);
	free(p);
}

/* Point a program and all its instances at a new conf entry. */
void
program_set_conf(struct program *p, struct conf *conf,
    const struct conf_program *cp)
{
	unsigned	 i;

	conf_ref(conf);
	conf_unref(p->conf);
	p->conf = conf;
	p->cp = cp;
	p->hash = conf_program_hash(cp);
	for (i = 0; i < p->nsvcs; i++)
		p->svcs[i]->cp = cp;
	for (i = 0; i < p->nretiring; i++)
		p->retiring[i]->cp = cp;
}

void
program_retire(struct program *p, struct svc *s)
{
	p->retiring = xreallocarray(p->retiring, p->nretiring + 1,
	    sizeof *p->retiring);
	p->retiring[p->nretiring++] = s;
	svc_event(s, SVC_EV_STOP, 0);
}

/* Change the number of instances to cp->instances (already set). */
void
program_scale(struct program *p, bool start_new)
{
	unsigned	 n = p->cp->instances, i, j, old = p->nsvcs;
	struct svc	*s;
	char		*name;

	for (i = n; i < old; i++)
		program_retire(p, p->svcs[i]);
	p->svcs = xreallocarray(p->svcs, n, sizeof *p->svcs);
	for (i = old; i < n; i++) {
		s = NULL;
		/* Bring back an instance of that index still stopping. */
		for (j = 0; j < p->nretiring; j++) {
			if (p->retiring[j]->index == i) {
				s = p->retiring[j];
				p->retiring[j] = p->retiring[--p->nretiring];
				break;
			}
		}
		p->svcs[i] = s != NULL ? s : program_new_svc(p, i);
	}
	p->nsvcs = n;
	/* Names depend on the count: "web" alone, "web:0" among several. */
	for (i = 0; i < n; i++) {
		name = program_instance_name(p->cp, i);
		if (strcmp(name, p->svcs[i]->name) != 0)
			svc_rename(p->svcs[i], name);
		free(name);
	}
	if (start_new) {
		for (i = old; i < n; i++)
			svc_event(p->svcs[i], SVC_EV_START, 0);
	}
}

/* Restart the active instances that are up or trying to be. */
void
program_restart_changed(struct program *p, unsigned upto)
{
	struct svc	*s;
	unsigned	 i;

	/* Starting covers a forking program between its launcher and its
	   main process, which has no PID meanwhile. */
	for (i = 0; i < upto && i < p->nsvcs; i++) {
		s = p->svcs[i];
		if (s->pid > 0 || s->state == SVC_BACKOFF ||
		    s->state == SVC_STARTING ||
		    (s->state == SVC_FAILED && s->want_up))
			svc_event(s, SVC_EV_RESTART, 0);
	}
}

bool
program_wanted_up(const struct program *p)
{
	unsigned	 i;

	for (i = 0; i < p->nsvcs; i++) {
		if (p->svcs[i]->want_up)
			return true;
	}
	return p->cp->autostart;
}

void
program_gc(struct program *p)
{
	unsigned	 i;

	for (i = 0; i < p->nretiring;) {
		if (svc_is_down(p->retiring[i]) && p->retiring[i]->pid == 0) {
			program_free_svc(p->retiring[i]);
			p->retiring[i] = p->retiring[--p->nretiring];
		} else
			i++;
	}
}

json_t *
program_change_json(const char *program, const char *action,
    const char **keys, size_t nkeys)
{
	json_t	*k = json_array();
	size_t	 i;

	for (i = 0; i < nkeys; i++)
		json_array_append_new(k, json_string(keys[i]));
	return json_pack("{s:s,s:s,s:o}", "program", program, "action",
	    action, "keys", k);
}

void
program_start(struct program *p)
{
	unsigned	 i;

	for (i = 0; i < p->nsvcs; i++)
		svc_event(p->svcs[i], SVC_EV_START, 0);
}

json_t *
program_reconfigure(struct program *p, struct conf *nc,
    const struct conf_program *cp)
{
	const char	*keys[64];
	size_t		 nkeys;
	unsigned	 j, oldn;
	json_t		*change;
	bool		*back;
	int		 mask;

	mask = conf_program_diff(p->cp, cp, keys, sizeof keys / sizeof keys[0],
	    &nkeys);
	oldn = p->nsvcs;
	program_set_conf(p, nc, cp);
	if (mask == 0)
		return NULL;
	/* A change to the program supersedes the operator: it goes back to
	   what its config says. An instance the operator stopped starts if
	   autostart (one the operator started runs on: it is up, and a
	   restart applies the change). */
	back = xcalloc(p->nsvcs + 1, sizeof *back);
	for (j = 0; j < p->nsvcs; j++) {
		back[j] = p->svcs[j]->op == SVC_OP_DOWN && cp->autostart;
		p->svcs[j]->op = SVC_OP_NONE;
	}
	if (mask & CONF_DIFF_INSTANCES)
		program_scale(p, program_wanted_up(p));
	if (mask & CONF_DIFF_RESTART) {
		program_restart_changed(p, oldn);
		change = program_change_json(cp->name, "restarted", keys, nkeys);
	} else if (mask & CONF_DIFF_INSTANCES)
		change = program_change_json(cp->name, "scaled", keys, nkeys);
	else
		change = program_change_json(cp->name, "updated", keys, nkeys);
	for (j = 0; j < p->nsvcs && j < oldn; j++) {
		if (back[j])
			svc_event(p->svcs[j], SVC_EV_START, 0);
	}
	free(back);
	log_info("%s: %s", cp->name, mask & CONF_DIFF_RESTART ? "restarted" :
	    mask & CONF_DIFF_INSTANCES ? "scaled" : "updated");
	return change;
}

json_t *
program_remove(struct program *p)
{
	unsigned	 j;

	p->removed = true;
	for (j = 0; j < p->nsvcs; j++)
		program_retire(p, p->svcs[j]);
	p->nsvcs = 0;
	log_info("%s: removing", p->cp->name);
	return program_change_json(p->cp->name, "removed", NULL, 0);
}

/* The registry's list */

struct program *
programs_find(struct program_list *l, const char *name)
{
	struct program	*p;

	TAILQ_FOREACH(p, l, entry) {
		if (!p->removed && strcmp(p->cp->name, name) == 0)
			return p;
	}
	return NULL;
}

size_t
programs_count(const struct program_list *l)
{
	const struct program	*p;
	size_t			 n = 0;

	TAILQ_FOREACH(p, l, entry)
		n += p->nsvcs + p->nretiring;
	return n;
}

int
programs_select(struct program_list *l, json_t *patterns,
    bool include_retiring, struct svc ***out, size_t *nout,
    json_t **unmatched)
{
	struct program	*p;
	struct svc	**v = NULL, *s;
	size_t		 n = 0, cap = 0, np, k;
	unsigned	 i;
	bool		*hit, any;
	json_t		*pat;

	*unmatched = NULL;
	np = json_array_size(patterns);
	hit = xcalloc(np + 1, sizeof *hit);
	TAILQ_FOREACH(p, l, entry) {
		for (i = 0; i < p->nsvcs + p->nretiring; i++) {
			if (i >= p->nsvcs && !include_retiring)
				break;
			s = i < p->nsvcs ? p->svcs[i] :
			    p->retiring[i - p->nsvcs];
			any = np == 0;
			json_array_foreach(patterns, k, pat) {
				if (util_match(json_string_value(pat),
				    p->cp->name, s->name)) {
					hit[k] = true;
					any = true;
				}
			}
			if (!any)
				continue;
			if (n == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				v = xreallocarray(v, cap, sizeof *v);
			}
			v[n++] = s;
		}
	}
	json_array_foreach(patterns, k, pat) {
		if (!hit[k]) {
			if (*unmatched == NULL)
				*unmatched = json_array();
			json_array_append(*unmatched, pat);
		}
	}
	free(hit);
	if (*unmatched != NULL) {
		free(v);
		return -1;
	}
	*out = v;
	*nout = n;
	return 0;
}

