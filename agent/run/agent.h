/* agent.h - the running agent: every part of `vigil run` and their lifetime.
 *
 * One struct vg_agent holds the parts: the process state, the eBPF
 * capture, the rule engine, the alert dispatcher with its sinks, the
 * metrics registry and the HTTP endpoint.  vg_agent_new() builds them in
 * order (an error names what failed), vg_agent_run() runs the capture loop
 * on the calling thread until a stop, vg_agent_free() drains the alert
 * queues within outputs.drain_timeout_ms and tears everything down.
 *
 * The loop: each kernel record is applied to the state, then handed to the
 * "on event" step, which runs the engine (or, for capture and record, the
 * caller's function).  A match renders the alert once and queues it for
 * the sinks, whose threads deliver it.  Between ring polls (at least every
 * 100 ms) the periodic step updates gauges and reports drops.
 *
 * Other modules plug in through vg_agent_add_sink() (before run), the
 * metric families of vg_agent_metrics(), and vg_agent_set_ready().
 */
#ifndef VIGIL_AGENT_H
#define VIGIL_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "engine.h"
#include "event.h"
#include "metrics.h"
#include "rules.h"
#include "sink.h"
#include "state.h"

/* The internal alert raised when events or alerts are lost. */
#define VG_AGENT_DROP_RULE "vigil internal: events dropped"
#define VG_AGENT_DROP_INTERVAL_NS (10ull * 1000000000ull)
/* At a stop, what the ring still holds is evaluated for at most this long
 * (a ring filled faster than it is read would never be empty). */
#define VG_AGENT_RING_DRAIN_NS (1000ull * 1000000ull)
/* the longest one ring batch runs before the periodic work gets a turn */
#define VG_AGENT_BATCH_NS (100ull * 1000000ull)

struct vg_agent;

/* The capture-only step (capture, record): non-zero stops the loop. */
typedef int (*vg_agent_event_fn)(void *ctx, struct vg_event *ev);

struct vg_agent_opts {
	const struct vg_config *cfg; /* must outlive the agent */
	/* rules files or directories (-r); NULL/0: cfg->rules_dirs, else the
	 * embedded defaults */
	const char *const *rules;
	size_t nrules;
	/* capture-only mode when set: no engine, sinks or metrics; the
	 * syscalls of want are captured and every event goes to on_event */
	vg_agent_event_fn on_event;
	void *on_event_ctx;
	const uint8_t *want; /* [VG_NR_MAX], capture-only mode */
	long pid;	     /* only this pid and its descendants; <= 0: all */
	uint64_t limit;	     /* stop after this many events; 0: none */
	double duration;     /* stop after this many seconds; 0: none */
};

/* Build every part.  NULL with err set when one cannot start (a bad URL,
 * the metrics port taken...); rule errors are printed (FILE:LINE:COL) and
 * the rules that compiled run. */
struct vg_agent *vg_agent_new(const struct vg_agent_opts *o, char *err, size_t errlen);

/* Open the capture and loop until vg_agent_stop(), the duration or the
 * limit.  0, or -1 after logging why the capture failed. */
int vg_agent_run(struct vg_agent *a);

/* Async-signal-safe: ask the loop to stop / the sinks to reopen files. */
void vg_agent_stop(struct vg_agent *a);
void vg_agent_reopen(struct vg_agent *a);

/* Drain the sinks (up to outputs.drain_timeout_ms), stop every part, free. */
void vg_agent_free(struct vg_agent *a);

/* Add a sink before vg_agent_run(); the agent owns it. */
void vg_agent_add_sink(struct vg_agent *a, struct vg_sink *s);

/* The metric families (DESIGN.md) for other modules to feed, and the
 * registry itself; NULL in capture-only mode. */
const struct vg_vigil_metrics *vg_agent_metrics(const struct vg_agent *a);
struct vg_metrics *vg_agent_registry(struct vg_agent *a);

/* Set a VG_READY_* condition of /readyz (any thread). */
void vg_agent_set_ready(struct vg_agent *a, unsigned bits, bool ok);

/* Port the metrics endpoint listens on (0 when not serving). */
int vg_agent_metrics_port(const struct vg_agent *a);

/* Alerts matched so far (every match, before priority filters). */
uint64_t vg_agent_matches(const struct vg_agent *a);

/* Pod metadata for the state (kube.c).  lookup is the state's metadata
 * look-up; sync (optional) runs on the capture thread before each record so
 * the look-up sees the newest snapshot.  With hold_ms > 0 the records of a
 * container whose metadata is not known yet wait up to hold_ms for it
 * (hold.h), in order; vigil_events_held_total{result} counts them.  Call
 * before vg_agent_run(). */
#define VG_AGENT_HOLD_RECORDS 8192
#define VG_AGENT_HOLD_BYTES (16u << 20)
struct vg_agent_meta {
	vg_meta_lookup_fn lookup;
	void (*sync)(void *ctx);
	uint64_t (*generation)(void *ctx); /* changes when the metadata does */
	void *ctx;
	unsigned hold_ms;
	/* optional (cmeta.h): a pod by uid; then a new container's records
	 * whose Pod is listed wait up to pod_hold_ms for its status */
	const struct vg_container_meta *(*lookup_pod)(void *ctx, const char *pod_uid);
	unsigned pod_hold_ms;
};
void vg_agent_set_meta(struct vg_agent *a, const struct vg_agent_meta *m);

/* Rule custom resources (kube.c).  vg_agent_reload() is the reloader the
 * informers feed (NULL in capture-only mode).  The build hook runs after
 * every build on the reload worker, with the per-object results (status
 * writer).  The gate makes vg_agent_run() wait up to gate_ms, before the
 * first build, until gate() is true (the informers listed once). */
struct vg_crset;
struct vg_reload *vg_agent_reload(struct vg_agent *a);
typedef void (*vg_agent_build_fn)(void *ctx, const struct vg_crset *cs);
void vg_agent_set_build_hook(struct vg_agent *a, vg_agent_build_fn fn, void *ctx);
void vg_agent_set_rules_gate(struct vg_agent *a, bool (*gate)(void *ctx), void *ctx,
			     unsigned gate_ms);

/* --- rules, shared with validate and replay ------------------------------ */

/* The rules of paths (when n > 0), else of cfg->rules_dirs, else the
 * embedded defaults; *origin says which.  Never NULL. */
struct vg_engine *vg_agent_load_rules(const char *const *paths, size_t n,
				      const struct vg_config *cfg, struct vg_diag *d,
				      const char **origin);

/* The host name alerts carry: cfg->node_name, else gethostname(). */
void vg_agent_hostname(const struct vg_config *cfg, char *out, size_t cap);

/* The process state the agent keeps (its evt.hostname is the agent's node
 * name, as the alerts' "hostname"). */
struct vg_state;
const struct vg_state *vg_agent_state(const struct vg_agent *a);

#endif
