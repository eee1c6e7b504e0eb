/* reload.h - hot reload of the rule set, off the capture path.
 *
 * A worker thread owns the compiling: informers hand it custom resources
 * (vg_reload_upsert / vg_reload_delete), SIGHUP asks it to read the rule
 * files again (vg_reload_request_files, async-signal-safe).  A change of
 * an object's metadata.generation (or uid) triggers a build; the same
 * generation again (status or label updates) does not.  Changes are
 * coalesced for debounce_ms, then a new set is built (crset.h).
 *
 * Handing the new set to the capture thread, without losing an event or
 * evaluating one twice:
 *  1. the worker WIDENS the kernel's interesting-syscall map to the union
 *     of the running set's syscalls and the new set's, then reads the
 *     event clock: armed_ts;
 *  2. the capture thread calls vg_reload_poll() before each event with
 *     the event's raw timestamp (CLOCK_BOOTTIME, stamped in the kernel
 *     after the map look-up).  The first event stamped at or after
 *     armed_ts swaps the set in: that event and every later one are
 *     evaluated by the new set, every earlier one by the old.  The kernel
 *     was already capturing what the new rules need when those events
 *     happened, so the new rules miss nothing (events still in the ring
 *     from before armed_ts were filtered for the old rules, and the old
 *     rules evaluate them);
 *  3. after the swap the worker NARROWS the map to the new set's syscalls
 *     and frees the old set (the capture thread no longer touches it).
 * When the ring is empty, call vg_reload_poll() with ts = UINT64_MAX, so
 * that a quiet node swaps too.  A set not yet taken when a newer one is
 * ready is taken back and freed: only the newest is ever swapped in.
 * (Events of two CPUs may reach the ring slightly out of timestamp order:
 * a few events stamped just before armed_ts may be evaluated by the new
 * set after the swap; each is still evaluated exactly once.)
 *
 * Typical run loop (the capture thread):
 *     struct vg_engine *eng = vg_reload_start(r, err, sizeof(err));
 *     for each event ev:  vg_reload_poll(r, raw->h.ts, &eng); match(eng, ev)
 *     when a poll returned no event: vg_reload_poll(r, UINT64_MAX, &eng)
 */
#ifndef VIGIL_RELOAD_H
#define VIGIL_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "crset.h"
#include "metrics.h"

struct vg_pf_table;

struct vg_reload_opts {
	const char *const *paths; /* rule files / directories (copied) */
	size_t npaths;
	void (*load_more)(void *ctx, struct vg_ruleset *rs, struct vg_diag *d);
	void *load_ctx;
	/* Write the kernel's map (vg_capture_set_interest); called on the
	 * worker thread and, in vg_reload_start, on the caller's.  NULL: no
	 * kernel (replay, tests). */
	int (*set_interest)(void *ctx, const uint8_t want[VG_NR_MAX], char *err, size_t errlen);
	void *interest_ctx;
	/* The kernel-side prefilter (vg_capture_set_prefilter; NULL t: send
	 * everything), called like set_interest and always after it: before
	 * a swap both are widened to what either rule set needs, after it
	 * narrowed to the set in force.  NULL: no prefilter. */
	int (*set_prefilter)(void *ctx, const struct vg_pf_table *t, char *err, size_t errlen);
	/* The clock raw events are stamped with; NULL: CLOCK_BOOTTIME. */
	uint64_t (*now)(void *ctx);
	void *now_ctx;
	/* After every build (the first included), on the worker thread:
	 * per-object results for the status writer and metrics, and the rule
	 * files' diagnostics.  cs stays valid during the call only. */
	void (*on_build)(void *ctx, const struct vg_crset *cs, const struct vg_diag *files_diag);
	void *build_ctx;
	unsigned debounce_ms; /* 0: 200 */
	/* crset.h's tenancy limits (0: none) */
	size_t max_rules_per_ns;
	uint64_t ns_budget_ns;
	/* Optional: polled while vg_reload_start waits for the first set;
	 * true makes it stop waiting (SIGTERM during a long compile). */
	bool (*should_stop)(void *ctx);
	void *stop_ctx;
	/* Optional: after every build, vigil_rules_loaded{kind,state} (kind
	 * RuleLibrary, ClusterRule, Rule, and "file" for the rules of rule
	 * files; state accepted | rejected), vigil_rules_last_reload_timestamp_
	 * seconds, and for each build after the first
	 * vigil_rules_reloads_total{result}: "success", "partial" when an
	 * object was rejected or a file rule did not compile (the rest runs),
	 * "failure" when the rule files got new errors and the set in force
	 * stays. */
	struct vg_vigil_metrics *metrics;
};

struct vg_reload_stats {
	uint64_t builds;     /* sets compiled (the first included) */
	uint64_t published;  /* sets handed to the capture thread (the first excluded) */
	uint64_t swaps;	     /* sets swapped in by vg_reload_poll */
	uint64_t discarded;  /* sets replaced by a newer one before the swap */
	uint64_t unchanged;  /* upserts ignored: same uid and generation */
	uint64_t map_writes; /* set_interest calls */
	uint64_t map_errors;
	uint64_t pf_writes; /* set_prefilter calls */
	uint64_t pf_errors;
	uint64_t rejected_files; /* rebuilds dropped: the rule files got new errors */
};

struct vg_reload;

struct vg_reload *vg_reload_new(const struct vg_reload_opts *o);
/* Starts the worker, which builds the first set from the files and the
 * objects given so far; writes the map.  Returns the engine to evaluate,
 * err "" or saying that the map could not be written; or NULL with err set
 * when the thread cannot start or should_stop said stop before the first
 * set was built (then the reload is quiesced: free it). */
struct vg_engine *vg_reload_start(struct vg_reload *r, char *err, size_t errlen);
/* No callback (on_build, set_interest, metrics) runs once this returns; a
 * build in progress is thrown away when it ends.  Call before what the
 * callbacks use goes away (the capture closes).  Any thread; idempotent. */
void vg_reload_quiesce(struct vg_reload *r);
/* Stops the worker and frees everything: call from the capture thread
 * once it no longer evaluates.  Waits at most VG_RELOAD_FREE_WAIT_MS for
 * a compile in progress: past that, the worker is left to free everything
 * when the compile ends (shutdown never waits for a big rule file). */
#define VG_RELOAD_FREE_WAIT_MS 100
void vg_reload_free(struct vg_reload *r);

/* From any thread (informers).  obj as the API returns it; copied.
 * Returns true when the change will cause a build. */
bool vg_reload_upsert(struct vg_reload *r, int kind, const cJSON *obj);
bool vg_reload_delete(struct vg_reload *r, int kind, const char *ns, const char *name);
/* Async-signal-safe: read the rule files again (SIGHUP). */
void vg_reload_request_files(struct vg_reload *r);

/* Capture thread, before each event (see above).  Returns true when a new
 * set was swapped in (*engine then points to it). */
bool vg_reload_poll(struct vg_reload *r, uint64_t ts, struct vg_engine **engine);
/* Errors in the rule files of the set in force (the first set's, after
 * vg_reload_start: the agent refuses to start on any). */
size_t vg_reload_file_errors(struct vg_reload *r);
/* True while a built set waits for its swap (tests, readiness). */
bool vg_reload_pending(struct vg_reload *r);

void vg_reload_get_stats(struct vg_reload *r, struct vg_reload_stats *out);

/* The cost of each Rule object in force (crset.h, vg_crset_cost), summed
 * over the sets it was in: the worker carries an object's counts into the
 * next set once the capture thread let the old one go, and refreshes this
 * table every VG_RELOAD_COST_MS and after each swap.  throttled_ms: the
 * CLOCK_MONOTONIC time (ms) the worker last saw its throttled count rise,
 * 0 never.  A copy (free with vg_reload_costs_free); an object that is no
 * longer in force is no longer listed. */
#define VG_RELOAD_COST_MS 1000
struct vg_reload_cost {
	char *ns, *name;
	struct vg_rule_cost c;
	uint64_t throttled_ms;
};
size_t vg_reload_costs(struct vg_reload *r, struct vg_reload_cost **out);
void vg_reload_costs_free(struct vg_reload_cost *c, size_t n);

#endif
