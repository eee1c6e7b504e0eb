/* agent_audit.c - the audit webhook's events through the rules; the audit-only run;
 * see agent.h and agent_int.h. */
#include "agent_int.h"
#include "audit.h"
#include "httpd.h"
#include "kaudit.h"
#include "log.h"

#include <cjson/cJSON.h>

/* ---- audit events ------------------------------------------------------------ */

static void on_audit(void *ctx, const cJSON *event)
{
	struct vg_agent *a = ctx;
	struct vg_kaudit_event ke;
	vg_kaudit_event_init(&ke, event, ++a->audit_num, vg_now_wall_ns());
	vg_engine_match(a->eng, &ke.ev, a->scratch, ag_on_match, a);
}

/* The queued audit events through the rules, a bounded number per step so
 * that the capture keeps its pace; drops said at most every 10 s. */
void ag_drain_audit(struct vg_agent *a)
{
	if (!a->audit || !a->eng)
		return;
	vg_audit_drain(a->audit, on_audit, a, 20000);
	a->audit_drops += vg_audit_take_drops(a->audit);
	uint64_t now = vg_now_mono_ns();
	if (a->audit_drops && now - a->audit_drops_said_ns >= VG_AGENT_DROP_INTERVAL_NS) {
		vg_log(VG_LOG_WARNING,
		       "%llu audit events dropped: the audit queue was full (raise "
		       "audit.queue_bytes; vigil_audit_events_total{result=\"dropped\"})",
		       (unsigned long long)a->audit_drops);
		a->audit_drops = 0;
		a->audit_drops_said_ns = now;
	}
}

int ag_setup_audit(struct vg_agent *a, char *err, size_t errlen)
{
	const struct vg_config *c = a->cfg;
	if (!c->audit.enabled)
		return 0;
	struct vg_audit_opts ao = {
		.listen = c->audit.listen,
		.path = c->audit.path,
		.tls_cert = c->audit.tls_cert,
		.tls_key = c->audit.tls_key,
		.client_ca = c->audit.client_ca,
		.token_file = c->audit.token_file,
		.max_body_bytes = c->audit.max_body_bytes,
		.max_events = c->audit.max_events,
		.queue_bytes = c->audit.queue_bytes,
		.max_connections = c->audit.max_connections,
		.timeout_ms = c->audit.timeout_ms,
	};
	a->audit = vg_audit_new(&ao, a->reg, err, errlen);
	if (!a->audit || vg_audit_start(a->audit, err, errlen))
		return -1;
	vg_agent_set_ready(a, VG_READY_AUDIT, true);
	return 0;
}

/* capture.enabled: false, the audit receiver alone (one per cluster): no
 * BPF, no root; the rules, their reloads and the audit events on this
 * thread, woken as soon as a batch is queued. */
int ag_run_audit_only(struct vg_agent *a)
{
	a->ran = true;
	if (a->reload) {
		int r = ag_start_rules(a);
		if (r)
			return r < 0 ? -1 : 0;
	}
	vg_log(VG_LOG_INFO, "audit only: no capture (capture.enabled: false)");
	uint64_t deadline =
		a->o.duration > 0 ? vg_now_mono_ns() + (uint64_t)(a->o.duration * 1e9) : 0;
	while (!a->stop && !(deadline && vg_now_mono_ns() >= deadline)) {
		vg_audit_wait(a->audit, 100);
		if (a->reload && vg_reload_poll(a->reload, UINT64_MAX, &a->eng))
			ag_on_swap(a);
		ag_periodic(a);
	}
	ag_periodic(a);
	ag_report_drops(a, true);
	return 0;
}
