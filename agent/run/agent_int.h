/* agent_int.h - private to agent/run/agent*.c: struct vg_agent and the
 * functions its files share (prefix ag_).
 *
 * The agent is split by concern over these files:
 *   agent.c          creation, the capture loop and its per-record path
 *                    (kept in one file so that the hot helpers stay static
 *                    and inlined), the periodic step, stop/free, accessors
 *   agent_rules.c    the rule set: loading, hot reload wiring, the first set
 *   agent_metrics.c  the metric families and their collect callbacks
 *   agent_sinks.c    the sinks, the alert of a match, the dropped-events alert
 *   agent_hold.c     records held until their container's metadata is known
 *   agent_audit.c    the audit webhook's events, and the audit-only run
 */
#ifndef VIGIL_AGENT_INT_H
#define VIGIL_AGENT_INT_H

#include "agent.h"
#include "alertq.h"
#include "capture.h"
#include "cmeta.h"
#include "hold.h"
#include "log.h"
#include "pfnarrow.h"
#include "reload.h"
#include "util.h"

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vg_agent {
	struct vg_agent_opts o;
	const struct vg_config *cfg;
	char hostname[256];
	volatile sig_atomic_t stop, reopen;

	/* capture */
	struct vg_state *st;
	struct vg_capture *cap;
	struct vg_event *ev;
	uint8_t want[VG_NR_MAX];
	uint64_t count;

	/* rules: the engine of the set reload.h swapped in last */
	struct vg_reload *reload;
	struct vg_engine *eng;
	char **paths; /* the rule paths the reload reads */
	size_t npaths;
	const char *origin;
	struct vg_capture *map_cap; /* where set_interest writes, once open */
	struct vg_pfn *pfn;	    /* cgroups placed by namespace (prefilter on) */
	int pf_tover;		    /* syscalls whose namespaces' predicates did not all fit */
	_Atomic uint64_t builds;
	vg_agent_build_fn build_hook;
	void *build_ctx;
	bool (*rules_gate)(void *ctx);
	void *gate_ctx;
	unsigned gate_ms;
	struct vg_cond_scratch *scratch;
	struct vg_diag diag;
	uint64_t matches;

	/* alerts */
	struct vg_dispatch *disp;
	struct vg_alert_ctx *actx;
	int max_prio; /* least severe priority a sink takes; -1 none */
	bool text;

	/* metrics */
	struct vg_metrics *reg;
	struct vg_vigil_metrics m;
	struct vg_httpd *httpd;
	struct vg_metric_series **match_series; /* by rule index */
	struct vg_metric_series *m_procs, *m_evictions, *m_malformed;
	struct vg_metric_series *m_regex_undecided, *m_log_dropped;

	/* container metadata (the API's from kube.c, the runtime's files) and
	 * records held until it arrives */
	struct vg_agent_meta meta;
	struct vg_cmeta *cmeta;
	unsigned hold_ms, pod_hold_ms;
	struct vg_hold *hold;
	uint64_t held_rescan; /* a held record waits for its Pod's status: next scan */
	struct vg_metric_series *m_held[4]; /* metadata, timeout, overflow, pod_timeout */
	uint64_t held_gen;		    /* metadata generation of the last scan */

	/* drops */
	struct vg_ratelimit drop_rl;
	uint64_t kdrops_reported; /* kernel drops already reported */
	uint64_t qdrops_pending;  /* alert queue drops not yet reported */
	bool ran;		  /* vg_agent_run got as far as the capture */
	uint64_t drain_until;	  /* the final ring drain's deadline; 0 before it */
	uint64_t batch_until;	  /* this ring batch yields to the periodic work then */
	unsigned batch_n;	  /* records in this batch (the clock read every 256) */

	/* the audit webhook receiver: its events are evaluated on this thread */
	struct vg_audit *audit;
	uint64_t audit_num;
	uint64_t audit_drops;	      /* not yet said */
	uint64_t audit_drops_said_ns; /* when last said */
};

enum { HELD_METADATA, HELD_TIMEOUT, HELD_OVERFLOW, HELD_POD_TIMEOUT, HELD_NWHY };

struct release_ctx {
	struct vg_agent *a;
	uint64_t now;
	bool all;
	int why;
	bool waiting; /* a record past hold_ms waits for its Pod's status */
};

/* agent.c */
int ag_process_record(struct vg_agent *a, const struct vg_rec *raw, size_t size);
void ag_periodic(struct vg_agent *a);

/* agent_rules.c */
void ag_on_swap(struct vg_agent *a);
void ag_setup_reload(struct vg_agent *a);
int ag_start_rules(struct vg_agent *a);

/* agent_metrics.c */
int ag_setup_metrics(struct vg_agent *a, char *err, size_t errlen);
void ag_collect_events(struct vg_metric_family *f, void *arg);
void ag_collect_filtered(struct vg_metric_family *f, void *arg);
void ag_collect_drops(struct vg_metric_family *f, void *arg);
void ag_collect_rule_events(struct vg_metric_family *f, void *arg);
void ag_collect_rule_cpu(struct vg_metric_family *f, void *arg);
void ag_collect_rule_throttled(struct vg_metric_family *f, void *arg);

/* agent_sinks.c */
int ag_setup_sinks(struct vg_agent *a, char *err, size_t errlen);
void ag_on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev);
void ag_report_drops(struct vg_agent *a, bool force);

/* agent_hold.c */
bool ag_held_ready(void *ctx, const struct vg_held *h);
int ag_held_process(void *ctx, const struct vg_held *h);
void ag_enable_hold(struct vg_agent *a, unsigned hold_ms);

/* agent_audit.c */
int ag_setup_audit(struct vg_agent *a, char *err, size_t errlen);
void ag_drain_audit(struct vg_agent *a);
int ag_run_audit_only(struct vg_agent *a);

#endif
