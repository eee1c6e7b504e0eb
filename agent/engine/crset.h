/* crset.h - a compiled rule set from rule files and vigil custom resources.
 *
 * vg_crset_build() merges, in DESIGN.md order: the rule files, then the
 * RuleLibrary objects (by name: a later definition of a macro or list
 * replaces an earlier one, as between files), then the ClusterRule and
 * Rule objects (by namespace/name).  Each ClusterRule and Rule is a rule
 * set of its own whose parent holds the shared macros and lists, so its
 * local `macros`/`lists` are visible to it alone, and its rule never
 * replaces or toggles a file rule or another object's rule of the same
 * name.
 *
 * Every object gets a result: accepted, or rejected with a message that
 * names the object, the field and the line:column inside that field, e.g.
 *   Rule team-a/no-curl: spec.condition:1:17: unknown field 'x'
 * A rejected object is left out; it never takes the other objects down.
 * (A RuleLibrary whose macro does not compile is left out as a whole, and
 * the rules that use its names are then rejected in turn.)
 *
 * Scoping, checked after a rule's condition matched: a Rule matches only
 * events of pods in its own namespace whose labels its podSelector
 * selects; a ClusterRule matches events of pods its namespaceSelector and
 * podSelector select, and events outside pods (the host, containers
 * without pod metadata) only with hostProcesses: true.  Labels are read
 * from the event's vg_container_meta, so selectors follow label changes.
 *
 * A built set is immutable and owns its engine: it can be handed to the
 * capture thread as is (reload.h) and freed once nothing evaluates it.
 */
#ifndef VIGIL_CRSET_H
#define VIGIL_CRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "engine.h"
#include "rules.h"

enum vg_crset_kind {
	VG_CR_RULELIBRARY = 0,
	VG_CR_CLUSTERRULE,
	VG_CR_RULE,
	VG_CR_NKINDS,
};

/* "RuleLibrary", "ClusterRule", "Rule"; vg_crset_kind_parse returns -1
 * for another name. */
const char *vg_crset_kind_name(int kind);
int vg_crset_kind_parse(const char *name);

/* One object as the API returns it: metadata.{name,namespace,generation}
 * and spec (other members are ignored). */
struct vg_crset_obj {
	int kind; /* enum vg_crset_kind */
	const cJSON *obj;
	/* Optional: the object's last accepted version.  When obj is
	 * rejected, this version runs in its place (the result still reports
	 * obj's rejection, and says which generation stays in force). */
	const cJSON *fallback;
};

struct vg_crset_input {
	/* Rule files, or directories whose *.yaml / *.yml files load in name
	 * order.  A path that does not exist is an error. */
	const char *const *paths;
	size_t npaths;
	/* Optional, called after paths: adds more rule texts (the agent's
	 * embedded defaults, tests). */
	void (*load_more)(void *ctx, struct vg_ruleset *rs, struct vg_diag *d);
	void *load_ctx;
	const struct vg_crset_obj *objs;
	size_t nobjs;
	/* Tenancy limits (0: none): the Rules one namespace may have (those
	 * past it, in name order, are rejected: LimitExceeded), and the CPU
	 * time per second its Rules may spend (engine.h, vg_engine_set_tenancy). */
	size_t max_rules_per_ns;
	uint64_t ns_budget_ns;
};

struct vg_crset_result {
	int kind;
	const char *ns; /* NULL for cluster-scoped objects */
	const char *name;
	int64_t generation;
	bool accepted;	     /* this generation compiled and runs */
	bool in_force;	     /* this generation, or the fallback, runs */
	const char *reason;  /* Compiled, InvalidSpec, CompileError */
	const char *message; /* "" when accepted without remark */
};

struct vg_crset;

/* Never NULL.  Diagnostics of the rule files go to files_diag (errors in
 * files never reject objects, but an object using a macro that does not
 * compile is rejected). */
struct vg_crset *vg_crset_build(const struct vg_crset_input *in, struct vg_diag *files_diag);
void vg_crset_free(struct vg_crset *cs);

/* The engine (owned by the set) and the syscalls it needs. */
struct vg_engine *vg_crset_engine(const struct vg_crset *cs);
void vg_crset_interest(const struct vg_crset *cs, uint8_t want[VG_NR_MAX]);

/* Results in input order (one per object of the input). */
size_t vg_crset_results(const struct vg_crset *cs, const struct vg_crset_result **out);

/* What Rule object i (input order) cost: the sum over its rules
 * (vg_engine_rule_cost); zero for other kinds. */
void vg_crset_cost(const struct vg_crset *cs, size_t i, struct vg_rule_cost *out);
/* Carry the costs of old's objects over to the same objects of cs (a
 * reload: the counters are the object's, not the build's).  Call it once
 * old is no longer evaluated (after the swap), else what old counts
 * afterwards is lost; cs may be running meanwhile. */
void vg_crset_inherit_costs(struct vg_crset *cs, const struct vg_crset *old);

/* Objects of a kind accepted and rejected (vigil_rules_loaded{kind,state}). */
void vg_crset_count(const struct vg_crset *cs, int kind, size_t *accepted, size_t *rejected);

/* Rules that came from the rule files: compiled / failed to compile. */
void vg_crset_file_rules(const struct vg_crset *cs, size_t *compiled, size_t *failed);

#endif
