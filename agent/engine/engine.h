/* engine.h - a compiled rule set: rules indexed by event type, matched per event.
 *
 * vg_engine_build() compiles every enabled rule of a rule set (rules.h)
 * with the condition compiler; a rule that does not compile is reported
 * with its position and left out, the rest still run.  Each rule is
 * indexed under the event types its condition can match, so an event only
 * meets the rules that can fire on it, and those of a type are matched as
 * groups of 64 (vg_cond_group): a comparison one rule makes rules out the
 * others that need the other result before their conditions start.  An engine is immutable once
 * built: hot reload builds a new one and swaps the pointer.
 */
#ifndef VIGIL_ENGINE_H
#define VIGIL_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cond.h"
#include "output.h"
#include "rules.h"

/* The rule object a rule came from (ClusterRule, Rule), owned by its rule
 * set's builder (crset.h); NULL for rules from files. */
struct vg_rule_origin {
	const char *kind; /* "ClusterRule", "Rule" */
	const char *ns;	  /* NULL for cluster-scoped objects */
	const char *name;
	int64_t generation; /* of the version in force */
};

struct vg_rule {
	const char *name;
	const char *desc;
	const char *source;
	int priority;
	const char *const *tags;
	size_t ntags;
	struct vg_cond *cond;
	struct vg_output *out;
	uint8_t types[VG_T_MAX]; /* event types the condition can match */
	size_t index;		 /* position in the engine (load order) */
	const void *scope;	 /* NULL, or the scope of its source (see vg_engine_src) */
	const char *tenant;	 /* a namespaced Rule's namespace (vg_engine_src), else NULL */
	const struct vg_rule_origin *origin; /* NULL, or its source's */
	bool enabled; /* false: compiled but never matched (enabled: false) */
};

struct vg_engine_stats {
	size_t rules_total;    /* rules in the rule set */
	size_t rules_enabled;  /* compiled and active */
	size_t rules_disabled; /* enabled: false */
	size_t rules_failed;   /* did not compile */
	size_t rules_skipped;  /* other sources, or skip-if-unknown-filter */
	size_t macros, lists;
};

struct vg_engine;

/* Never NULL: an engine with the rules that compiled.  Errors and warnings
 * go to d. */
struct vg_engine *vg_engine_build(struct vg_ruleset *rs, struct vg_diag *d);
void vg_engine_free(struct vg_engine *e);

/* Several rule sets in one engine (custom resources: one rule set per
 * object, its parent holding the shared macros and lists).  A rule of a
 * source with a scope matches an event only when scope_fn(scope, ev) also
 * says so (checked after the condition: conditions rarely match).  The
 * build reports per source what it did; diagnostics go to d in source
 * order, those of source i at d->v[diag_begin .. diag_end). */
typedef int (*vg_scope_fn)(const void *scope, const struct vg_event *ev);

struct vg_engine_src {
	struct vg_ruleset *rs;
	const void *scope; /* NULL: every event */
	/* A namespaced Rule's: its conditions and outputs read the confined
	 * fields (fields.h, vg_field_confine). */
	bool confined;
	/* A namespaced Rule's namespace: its rules are indexed apart, per
	 * namespace, and evaluated only on events whose namespace
	 * (vg_engine_set_tenancy's ns_fn) is this one, never on the host's
	 * nor another namespace's events.  Their cost is accounted per rule
	 * and bounded per namespace.  NULL: indexed for every event. */
	const char *tenant;
	const struct vg_rule_origin *origin; /* NULL: rule files */
	/* filled by the build */
	size_t compiled, failed, skipped;
	size_t diag_begin, diag_end;
};

struct vg_engine *vg_engine_build_multi(struct vg_engine_src *src, size_t n, vg_scope_fn scope_fn,
					struct vg_diag *d);
void vg_engine_get_stats(const struct vg_engine *e, struct vg_engine_stats *out);

size_t vg_engine_rule_count(const struct vg_engine *e);
const struct vg_rule *vg_engine_rule(const struct vg_engine *e, size_t i);

typedef void (*vg_match_fn)(void *ctx, const struct vg_rule *r, const struct vg_event *ev);

/* Evaluate the rules indexed under ev's type, in load order; call fn for
 * every rule that matches.  Returns the number of matches. */
int vg_engine_match(const struct vg_engine *e, const struct vg_event *ev, struct vg_cond_scratch *s,
		    vg_match_fn fn, void *ctx);

/* Tenancy (set once, before the engine is handed out): ns_fn gives an
 * event's namespace (NULL: the host, a container without pod); without
 * it tenant rules never run.  budget_ns: CPU time the rules of one
 * namespace may spend per second of evaluation (0: no bound); past it they
 * are not evaluated for the rest of that second, and every event they miss
 * is counted (throttled). */
typedef const char *(*vg_tenant_fn)(const struct vg_event *ev);
void vg_engine_set_tenancy(struct vg_engine *e, vg_tenant_fn ns_fn, uint64_t budget_ns);

/* What a tenant rule cost so far (0 for other rules): events it was
 * evaluated on, ns spent evaluating it, events missed while its namespace
 * was over budget.  Read from any thread (relaxed). */
struct vg_rule_cost {
	uint64_t events, ns, throttled;
};
void vg_engine_rule_cost(const struct vg_engine *e, size_t i, struct vg_rule_cost *out);
/* Add c to rule i's figures (a new engine taking over an old one's):
 * into a base count of its own, so any thread may call it while another
 * evaluates with e. */
void vg_engine_rule_cost_add(struct vg_engine *e, size_t i, const struct vg_rule_cost *c);

/* The syscalls the kernel must capture: those the enabled rules can match,
 * plus the ones the state needs (fds, cwd, credentials). */
void vg_engine_interest(const struct vg_engine *e, uint8_t want[VG_NR_MAX]);

/* The kernel-side prefilter for this rule set (prefilter.c, bpf/prefilter.h):
 * per captured syscall, a predicate every event some enabled rule can match
 * or the state needs satisfies.  Where namespaced Rules add to it, the
 * table also holds the predicate without them (struct vg_pf_table's
 * narrow) and their namespaces, for the tasks of the host and of the
 * other namespaces' pods. */
struct vg_pf_table;
void vg_engine_prefilter(const struct vg_engine *e, struct vg_pf_table *t);
/* That predicate in words, to out (prefilter_desc.c; `vigil validate
 * --prefilter`): per filtered syscall its clauses, one a line, then the
 * syscalls dropped whole, whether opens and closes are filtered or
 * tracked, and the rules that make the state keep every open. */
void vg_engine_prefilter_print(const struct vg_engine *e, FILE *out);
/* Whether an enabled rule reads fd table entries on events that did not
 * create them (then every open and close is sent). */
bool vg_engine_needs_fdtable(const struct vg_engine *e);
/* The first such rule (NULL: none), for logs. */
const struct vg_rule *vg_engine_fdtable_reader(const struct vg_engine *e);
/* Every such rule: fn for each, returns how many. */
size_t vg_engine_fdtable_readers(const struct vg_engine *e,
				 void (*fn)(void *ctx, const struct vg_rule *r), void *ctx);

#endif
