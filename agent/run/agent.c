/* agent.c - see agent.h; the agent's other parts are in agent_*.c, over
 * agent_int.h. */
#include "agent_int.h"
#include "dispatch.h"
#include "audit.h"
#include "httpd.h"
#include "log.h"
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the loop ------------------------------------------------------------- */

static int in_tree(struct vg_agent *a, const struct vg_event *ev)
{
	if (a->o.pid <= 0)
		return 1;
	const struct vg_proc *p = ev->proc;
	if (p->pid == (uint32_t)a->o.pid)
		return 1;
	for (int i = 1; i < 64; i++) {
		p = vg_state_ancestor(a->st, p, 1);
		if (!p)
			return 0;
		if (p->pid == (uint32_t)a->o.pid)
			return 1;
	}
	return 0;
}

/* The "on event" step: the engine, or the capture-only callback. */
static int on_event(struct vg_agent *a, struct vg_event *ev)
{
	if (a->o.on_event)
		return a->o.on_event(a->o.on_event_ctx, ev);
	vg_engine_match(a->eng, ev, a->scratch, ag_on_match, a);
	return 0;
}

/* The kernel's placement of cgroups by namespace (pfnarrow.h),
 * from an applied record: its cgroup's container is the one the cgroup
 * path of an exec in it names (not the process's, which one that joined
 * the cgroup without an exec, runc's init, still has from before). */
static void pfn_record(struct vg_agent *a, const struct vg_rec *raw, size_t size)
{
	bool exec = raw->h.kind == VG_K_EXEC || raw->h.kind == VG_K_PROC;
	bool decided = vg_pfn_decided(a->pfn, raw->h.cgroup_id, raw->h.ts);
	char cid[VG_CONTAINER_ID_LEN];
	if ((decided && !exec) || !vg_state_record_container(a->st, raw, size, cid))
		return;
	if (exec)
		vg_pfn_exec(a->pfn, raw->h.cgroup_id, cid);
	if (decided)
		return;
	/* the host's, or a pod's whose namespace is known */
	bool host = !strcmp(cid, "host");
	const struct vg_container_meta *m =
		host || !a->cmeta ? NULL : vg_cmeta_lookup(a->cmeta, cid);
	vg_pfn_note(a->pfn, raw->h.cgroup_id, host, m ? m->ns_name : NULL);
}

int ag_process_record(struct vg_agent *a, const struct vg_rec *raw, size_t size)
{
	if (a->reload && vg_reload_poll(a->reload, raw->h.ts, &a->eng))
		ag_on_swap(a);
	if (vg_state_apply(a->st, raw, size, a->ev))
		return 0; /* counted by the state as a bad record */
	if (a->pfn)
		pfn_record(a, raw, size);
	if (raw->h.kind == VG_K_PROC || !in_tree(a, a->ev))
		return 0;
	if (on_event(a, a->ev))
		return -1;
	if (a->o.limit && ++a->count >= a->o.limit)
		a->stop = 1;
	return 0;
}

/* Release the held records whose metadata is now known or whose time is up
 * (all: at shutdown).  Scans only when the metadata changed or the oldest
 * record's time is up, so a held flood costs little per record. */
static int release_held(struct vg_agent *a, bool all)
{
	const struct vg_held *head = vg_hold_head(a->hold);
	if (!head)
		return 0;
	struct release_ctx rc = {a, vg_now_mono_ns(), all, 0, false};
	uint64_t gen = vg_cmeta_generation(a->cmeta);
	if (!all && gen == a->held_gen && (rc.now < head->deadline_ns || rc.now < a->held_rescan))
		return 0;
	a->held_gen = gen;
	int r = vg_hold_release(a->hold, ag_held_ready, ag_held_process, &rc);
	/* records waiting past their deadline: look again in 10 ms, not at
	 * every record */
	a->held_rescan = rc.waiting ? rc.now + 10000000ull : 0;
	return r;
}

/* Should this record wait for its container's metadata?  Yes when its
 * cgroup already has records waiting (order), or when it belongs to a
 * container the metadata is not ready for (cmeta.h). */
static bool must_hold(struct vg_agent *a, const struct vg_rec *raw, size_t size, char *cid)
{
	if (size < sizeof(struct vg_rec) || raw->h.kind == VG_K_PROC)
		return false;
	bool queued = vg_hold_has(a->hold, raw->h.cgroup_id);
	if (!vg_state_record_container(a->st, raw, size, cid))
		return queued;
	if (queued)
		return true;
	if (!cid[0] || !strcmp(cid, "host"))
		return false;
	if (vg_cmeta_ready(a->cmeta, cid))
		return false;
	char uid[37];
	if (!vg_state_record_pod_uid(raw, size, uid))
		vg_cmeta_note_pod(a->cmeta, cid, uid);
	return true;
}

static int on_record(void *ctx, const struct vg_rec *raw, size_t size)
{
	struct vg_agent *a = ctx;
	vg_cmeta_sync(a->cmeta);
	if (!a->hold)
		return ag_process_record(a, raw, size);
	int r = release_held(a, false);
	if (r)
		return r;
	char cid[VG_CONTAINER_ID_LEN];
	if (!must_hold(a, raw, size, cid))
		return ag_process_record(a, raw, size);
	uint64_t deadline = vg_now_mono_ns() + (uint64_t)a->hold_ms * 1000000ull;
	while (vg_hold_push(a->hold, raw, size, raw->h.cgroup_id, cid, deadline)) {
		/* full: the oldest goes through without waiting any longer */
		const struct vg_held *h = vg_hold_head(a->hold);
		vg_metric_inc(a->m_held[HELD_OVERFLOW]);
		r = ag_process_record(a, h->rec, h->size);
		vg_hold_pop(a->hold);
		if (r)
			return r;
	}
	return 0;
}

/* The ring's callback.  A flood (events coming faster than they are
 * evaluated) must not keep the loop from seeing a stop: once asked to stop,
 * the batch ends after this record, and the final drain at its deadline. */
static int on_ring_record(void *ctx, const struct vg_rec *raw, size_t size)
{
	struct vg_agent *a = ctx;
	int r = on_record(a, raw, size);
	if (r)
		return r;
	if (a->stop && (!a->drain_until || vg_now_mono_ns() >= a->drain_until))
		return 1;
	/* A ring filled as fast as it is read never ends a batch: without a
	 * bound, a process looping on syscalls would hold off the periodic
	 * work (held alerts, container metadata, metrics) for as long as it
	 * likes. */
	if (!a->stop && (++a->batch_n & 255) == 0 && vg_now_mono_ns() >= a->batch_until)
		return 1;
	return 0;
}

void ag_periodic(struct vg_agent *a)
{
	ag_drain_audit(a);
	vg_cmeta_sync(a->cmeta);
	if (a->hold)
		release_held(a, false);
	vg_cmeta_periodic(a->cmeta);
	if (a->reopen) {
		a->reopen = 0;
		if (a->disp)
			vg_dispatch_reopen(a->disp);
	}
	if (a->reg) {
		struct vg_state_stats ss;
		vg_state_get_stats(a->st, &ss);
		vg_metric_set(a->m_procs, (double)ss.procs);
		vg_metric_counter_set(a->m_evictions, ss.proc_evictions);
		vg_metric_counter_set(a->m_malformed, ss.bad_records);
		/* the scratch is this thread's: read where it is written */
		vg_metric_counter_set(a->m_regex_undecided,
				      vg_cond_scratch_regex_undecided(a->scratch));
		vg_metric_counter_set(a->m_log_dropped, vg_log_dropped());
	}
	ag_report_drops(a, false);
}

struct vg_agent *vg_agent_new(const struct vg_agent_opts *o, char *err, size_t errlen)
{
	struct vg_agent *a = vg_xcalloc(1, sizeof(*a));
	a->o = *o;
	a->cfg = o->cfg;
	vg_agent_hostname(a->cfg, a->hostname, sizeof(a->hostname));
	a->drop_rl.interval_ns = VG_AGENT_DROP_INTERVAL_NS;
	a->max_prio = -1;
	struct vg_state_opts so = {0};
	so.max_procs = a->cfg->state.max_procs;
	so.max_fds = a->cfg->state.max_fds;
	so.max_env = a->cfg->state.max_env_bytes;
	so.proc_root = a->cfg->proc_root;
	so.etc_root = "/etc";
	so.hostname = a->hostname; /* evt.hostname: the node's name, as the alert's hostname */
	a->st = vg_state_new(&so);
	a->ev = vg_xcalloc(1, sizeof(*a->ev));
	a->cmeta = vg_cmeta_new();
	vg_state_set_meta_lookup(a->st, vg_cmeta_lookup, a->cmeta);
	if (o->on_event) {
		memcpy(a->want, o->want, VG_NR_MAX);
		return a;
	}
	if (!a->cfg->capture.enabled && !a->cfg->audit.enabled) {
		snprintf(err, errlen,
			 "capture.enabled is false and audit.enabled is not: nothing to watch");
		vg_agent_free(a);
		return NULL;
	}
	if (ag_setup_metrics(a, err, errlen) || ag_setup_sinks(a, err, errlen) ||
	    ag_setup_audit(a, err, errlen)) {
		vg_agent_free(a);
		return NULL;
	}
	a->scratch = vg_cond_scratch_new();
	ag_setup_reload(a);
	if (vg_cmeta_start_runtime(a->cmeta, a->cfg, err, errlen)) {
		vg_agent_free(a);
		return NULL;
	}
	vg_cmeta_metrics(a->cmeta, a->reg);
	if (vg_cmeta_has_runtime(a->cmeta)) /* without the API: runtime.hold_ms */
		ag_enable_hold(a, (unsigned)a->cfg->runtime.hold_ms);
	return a;
}

/* What the kernel allowed the capture, in the log, the metrics and
 * /readyz: a fallback changes cost or limits, never the events. */
static void report_features(struct vg_agent *a, struct vg_capture *cap)
{
	char desc[256];
	vg_capture_describe(cap, desc, sizeof(desc));
	vg_log(VG_LOG_INFO, "capture on kernel %s: %s", vg_capture_kernel(cap), desc);
	const struct vg_capture_feature *f;
	size_t n = vg_capture_features(cap, &f);
	for (size_t i = 0; i < n; i++) {
		if (!f[i].on)
			vg_log(VG_LOG_WARNING, "kernel %s lacks %s: %s", vg_capture_kernel(cap),
			       f[i].name, f[i].without);
		if (a->reg)
			vg_metric_set(vg_metric_labels(a->m.capture_features, f[i].name),
				      f[i].on ? 1 : 0);
	}
	char detail[320];
	snprintf(detail, sizeof(detail), "capture: kernel %s %s", vg_capture_kernel(cap), desc);
	vg_httpd_set_detail(a->httpd, detail);
}

int vg_agent_run(struct vg_agent *a)
{
	char err[512];
	if (a->disp) {
		a->max_prio = vg_dispatch_max_priority(a->disp);
		a->text = vg_dispatch_wants_text(a->disp);
		if (vg_dispatch_start(a->disp, err, sizeof(err))) {
			vg_log(VG_LOG_ERROR, "%s", err);
			return -1;
		}
	}
	if (!a->cfg->capture.enabled)
		return ag_run_audit_only(a);
	struct vg_capture_opts co = {0};
	co.ringbuf_bytes = a->cfg->capture.ringbuf_bytes;
	co.ignore_self = a->cfg->capture.ignore_self;
	co.lsm = !strcmp(a->cfg->capture.lsm, "on")    ? VG_CAPTURE_LSM_ON
		 : !strcmp(a->cfg->capture.lsm, "off") ? VG_CAPTURE_LSM_OFF
						       : VG_CAPTURE_LSM_AUTO;
	co.self_tgid = vg_procscan_self(a->cfg->proc_root);
	a->ran = true;
	struct vg_capture *cap = vg_capture_open(&co, err, sizeof(err));
	if (!cap) {
		vg_log(VG_LOG_ERROR, "cannot start capture: %s", err);
		return -1;
	}
	report_features(a, cap);
	a->map_cap = cap;
	if (a->cfg->capture.prefilter && !strcmp(a->cfg->capture.prefilter, "on")) {
		/* the records' cgroup id is the task's v2 cgroup's: without a v2
		 * hierarchy every task has the same, and no cgroup is filtered
		 * without namespaced Rules (with one beside v1's, vg_pfn_exec
		 * finds the ids a runtime left shared) */
		if (vg_procscan_has_cgroup2(a->cfg->proc_root))
			a->pfn = vg_pfn_new(cap);
		else
			vg_log(VG_LOG_INFO, "capture.prefilter: no cgroup v2 hierarchy: namespaced "
					    "Rules widen the kernel's filter for every task");
	}
	if (a->reload) {
		int r = ag_start_rules(a);
		if (r) {
			vg_capture_close(cap);
			return r < 0 ? -1 : 0;
		}
	} else if (vg_capture_set_interest(cap, a->want, err, sizeof(err))) {
		vg_log(VG_LOG_ERROR, "%s", err);
		vg_capture_close(cap);
		return -1;
	}
	/* seed after the probes are attached so no process falls between */
	int n = vg_procscan(a->cfg->proc_root, on_record, a);
	if (n < 0) {
		vg_log(VG_LOG_ERROR, "scanning %s: %s", a->cfg->proc_root, strerror(-n));
		if (a->reload)
			vg_reload_quiesce(a->reload);
		vg_capture_close(cap);
		return -1;
	}
	vg_log(VG_LOG_DEBUG, "seeded %d processes from %s", n, a->cfg->proc_root);
	vg_capture_pf_scanned(cap);
	if (a->reg) { /* published for the collect callbacks from here on */
		vg_metric_family_set_collect(a->m.events, NULL, NULL);
		vg_metric_family_set_collect(a->m.events_dropped, NULL, NULL);
		vg_metric_family_set_collect(a->m.events_filtered, NULL, NULL);
	}
	a->cap = cap;
	if (a->reg) {
		vg_metric_family_set_collect(a->m.events, ag_collect_events, a);
		vg_metric_family_set_collect(a->m.events_dropped, ag_collect_drops, a);
		vg_metric_family_set_collect(a->m.events_filtered, ag_collect_filtered, a);
	}
	vg_agent_set_ready(a, VG_READY_PROBES, true);
	vg_log(VG_LOG_INFO, "capture started");
	uint64_t deadline =
		a->o.duration > 0 ? vg_now_mono_ns() + (uint64_t)(a->o.duration * 1e9) : 0;
	int rc = 0;
	while (!a->stop) {
		a->batch_until = vg_now_mono_ns() + VG_AGENT_BATCH_NS;
		int r = vg_capture_poll(cap, 100, on_ring_record, a);
		if (r == 0 && a->reload && vg_reload_poll(a->reload, UINT64_MAX, &a->eng))
			ag_on_swap(a);
		if (r < 0 && r != -EINTR) {
			vg_log(VG_LOG_ERROR, "polling the ring buffer: %s", strerror(-r));
			rc = -1;
			break;
		}
		ag_periodic(a);
		if (deadline && vg_now_mono_ns() >= deadline)
			break;
	}
	/* no rebuild reaches the map from now on, nor waits to be swapped */
	if (a->reload)
		vg_reload_quiesce(a->reload);
	/* drain what is already in the ring: nothing captured is lost on exit,
	 * unless it keeps filling for longer than VG_AGENT_RING_DRAIN_NS */
	a->stop = 1;
	a->drain_until = vg_now_mono_ns() + VG_AGENT_RING_DRAIN_NS;
	while (vg_capture_poll(cap, 0, on_ring_record, a) > 0 && vg_now_mono_ns() < a->drain_until)
		;
	if (vg_now_mono_ns() >= a->drain_until)
		vg_log(VG_LOG_WARNING,
		       "the ring buffer still filled after %llu ms of draining at the stop: the "
		       "events left in it are not evaluated",
		       (unsigned long long)(VG_AGENT_RING_DRAIN_NS / 1000000));
	if (a->hold)
		release_held(a, true);
	ag_periodic(a);
	ag_report_drops(a, true); /* the final count is always said */
	vg_agent_set_ready(a, VG_READY_PROBES, false);
	struct vg_stats s;
	if (!vg_capture_stats(cap, &s)) {
		uint64_t seen = 0, dropped = 0;
		for (int i = 0; i < VG_CAT_MAX; i++)
			seen += s.seen[i], dropped += s.dropped[i];
		struct vg_state_stats ss;
		vg_state_get_stats(a->st, &ss);
		vg_log(VG_LOG_INFO, "capture stopped: %llu events, %llu dropped, %llu malformed",
		       (unsigned long long)seen, (unsigned long long)dropped,
		       (unsigned long long)ss.bad_records);
	}
	if (a->reg) { /* no scrape may read the capture once it is closed */
		vg_metric_family_set_collect(a->m.events, NULL, NULL);
		vg_metric_family_set_collect(a->m.events_dropped, NULL, NULL);
		vg_metric_family_set_collect(a->m.events_filtered, NULL, NULL);
	}
	a->cap = NULL;
	vg_capture_close(cap);
	return rc;
}

void vg_agent_stop(struct vg_agent *a)
{
	a->stop = 1;
}

void vg_agent_reopen(struct vg_agent *a)
{
	a->reopen = 1;
}

void vg_agent_free(struct vg_agent *a)
{
	if (!a)
		return;
	vg_audit_free(a->audit); /* first: it feeds the rules and the sinks */
	if (a->disp) {
		uint64_t start = vg_now_mono_ns();
		uint64_t lost = vg_dispatch_stop(a->disp, start + a->cfg->outputs.drain_timeout_ms *
									  1000000ull);
		if (lost)
			vg_log(VG_LOG_WARNING, "%llu alerts not delivered at shutdown",
			       (unsigned long long)lost);
		uint64_t sent = 0, failed = 0;
		for (size_t i = 0; i < vg_dispatch_count(a->disp); i++) {
			struct vg_dispatch_stats ds;
			vg_dispatch_get_stats(a->disp, i, &ds);
			sent += ds.sent;
			failed += ds.failed;
		}
		if (a->ran)
			vg_log(VG_LOG_INFO,
			       "stopped after %llu alerts (%llu deliveries, %llu failed) in %.3f "
			       "s of draining",
			       (unsigned long long)a->matches, (unsigned long long)sent,
			       (unsigned long long)failed,
			       (double)(vg_now_mono_ns() - start) / 1e9);
	}
	/* said when stderr has room again; else only the metric had it */
	if (vg_log_dropped())
		vg_log(VG_LOG_WARNING, "%llu log lines not written: stderr was full",
		       (unsigned long long)vg_log_dropped());
	vg_httpd_stop(a->httpd);
	vg_dispatch_free(a->disp);
	vg_metrics_free(a->reg);
	free(a->match_series);
	free(a->actx);
	vg_cond_scratch_free(a->scratch);
	if (a->reload)
		vg_reload_free(a->reload); /* owns the engine */
	else
		vg_engine_free(a->eng);
	for (size_t i = 0; i < a->npaths; i++)
		free(a->paths[i]);
	free(a->paths);
	vg_diag_free(&a->diag);
	vg_hold_free(a->hold);
	vg_cmeta_free(a->cmeta);
	vg_state_free(a->st);
	vg_pfn_free(a->pfn);
	free(a->ev);
	free(a);
}

const struct vg_state *vg_agent_state(const struct vg_agent *a)
{
	return a->st;
}

const struct vg_vigil_metrics *vg_agent_metrics(const struct vg_agent *a)
{
	return a->reg ? &a->m : NULL;
}

struct vg_metrics *vg_agent_registry(struct vg_agent *a)
{
	return a->reg;
}

void vg_agent_set_ready(struct vg_agent *a, unsigned bits, bool ok)
{
	if (a->httpd)
		vg_httpd_set_ready(a->httpd, bits, ok);
}

int vg_agent_metrics_port(const struct vg_agent *a)
{
	return a->httpd ? vg_httpd_port(a->httpd) : 0;
}

uint64_t vg_agent_matches(const struct vg_agent *a)
{
	return a->matches;
}

struct vg_reload *vg_agent_reload(struct vg_agent *a)
{
	return a->reload;
}

void vg_agent_set_build_hook(struct vg_agent *a, vg_agent_build_fn fn, void *ctx)
{
	a->build_hook = fn;
	a->build_ctx = ctx;
}

void vg_agent_set_rules_gate(struct vg_agent *a, bool (*gate)(void *ctx), void *ctx,
			     unsigned gate_ms)
{
	a->rules_gate = gate;
	a->gate_ctx = ctx;
	a->gate_ms = gate_ms;
}
