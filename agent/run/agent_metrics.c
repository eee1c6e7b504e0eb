/* agent_metrics.c - the agent's metric families and their collect callbacks;
 * see agent.h and agent_int.h. */
#include "agent_int.h"
#include "httpd.h"
#include "log.h"

#include <stdio.h>

/* ---- metrics -------------------------------------------------------------- */

static const char *type_label(int t)
{
	if (t == VG_NR_MAX + VG_TYPE_EXIT)
		return vg_evtype_name(VG_T_PROCEXIT);
	if (t == VG_NR_MAX + VG_TYPE_FORK)
		return vg_evtype_name(VG_T_PROCFORK);
	const char *n = t < VG_NR_MAX ? vg_evtype_name(t) : NULL;
	return n ? n : "unknown";
}

/* vigil_events_total and the kernel's drops, read from the per-CPU
 * counters at scrape time (the httpd thread; a map read is thread-safe). */
void ag_collect_events(struct vg_metric_family *f, void *arg)
{
	struct vg_agent *a = arg;
	struct vg_stats s;
	if (!a->cap || vg_capture_stats(a->cap, &s))
		return;
	for (int t = 0; t < VG_NR_MAX + 4; t++)
		if (s.by_type[t])
			vg_metric_counter_set(vg_metric_labels(f, type_label(t)), s.by_type[t]);
}

void ag_collect_filtered(struct vg_metric_family *f, void *arg)
{
	struct vg_agent *a = arg;
	struct vg_stats s;
	if (!a->cap || vg_capture_stats(a->cap, &s))
		return;
	for (int t = 0; t < VG_NR_MAX; t++)
		if (s.filtered[t])
			vg_metric_counter_set(vg_metric_labels(f, type_label(t)), s.filtered[t]);
}

void ag_collect_drops(struct vg_metric_family *f, void *arg)
{
	struct vg_agent *a = arg;
	struct vg_stats s;
	if (!a->cap || vg_capture_stats(a->cap, &s))
		return;
	uint64_t n = 0;
	for (int i = 0; i < VG_CAT_MAX; i++)
		n += s.dropped[i];
	vg_metric_counter_set(vg_metric_labels(f, "kernel_ringbuf"), n);
}

/* One series per Rule object in force (bounded by the family's
 * max_series); an object that went away leaves no series behind. */
static void collect_rule_cost(struct vg_metric_family *f, int which, struct vg_agent *a)
{
	vg_metric_family_clear(f);
	struct vg_reload_cost *c;
	size_t n = vg_reload_costs(a->reload, &c);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = which == 0 ? c[i].c.events : which == 1 ? c[i].c.ns : c[i].c.throttled;
		/* add, not set: objects past max_series share the overflow series */
		vg_metric_add(vg_metric_labels(f, "Rule", c[i].ns, c[i].name), v);
	}
	vg_reload_costs_free(c, n);
}

void ag_collect_rule_events(struct vg_metric_family *f, void *arg)
{
	collect_rule_cost(f, 0, arg);
}

void ag_collect_rule_cpu(struct vg_metric_family *f, void *arg)
{
	collect_rule_cost(f, 1, arg);
}

void ag_collect_rule_throttled(struct vg_metric_family *f, void *arg)
{
	collect_rule_cost(f, 2, arg);
}

int ag_setup_metrics(struct vg_agent *a, char *err, size_t errlen)
{
	const struct vg_config *cfg = a->cfg;
	a->reg = vg_metrics_new();
	if (vg_metrics_register_vigil(a->reg, &a->m, err, errlen))
		return -1;
	vg_metric_family_set_collect(a->m.events, ag_collect_events, a);
	vg_metric_family_set_collect(a->m.events_dropped, ag_collect_drops, a);
	a->m_procs = vg_metric_series(a->m.processes_tracked, NULL);
	a->m_evictions = vg_metric_series(a->m.process_evictions, NULL);
	a->m_malformed = vg_metric_labels(a->m.events_dropped, "malformed");
	a->m_regex_undecided = vg_metric_series(a->m.regex_undecided, NULL);
	a->m_log_dropped = vg_metric_series(a->m.log_dropped, NULL);
	if (!cfg->metrics.enabled)
		return 0;
	struct vg_httpd_config hc = {0};
	hc.listen = cfg->metrics.listen;
	hc.metrics = a->reg;
	/* informers: met until Kubernetes is started (kube.c clears it); no
	 * probes without the capture; the audit receiver when it is on */
	hc.required = (cfg->capture.enabled ? VG_READY_PROBES : 0) | VG_READY_RULES |
		      VG_READY_INFORMERS | (cfg->audit.enabled ? VG_READY_AUDIT : 0);
	hc.tls_cert = *cfg->metrics.tls_cert ? cfg->metrics.tls_cert : NULL;
	hc.tls_key = *cfg->metrics.tls_key ? cfg->metrics.tls_key : NULL;
	if (!hc.tls_cert != !hc.tls_key) {
		snprintf(err, errlen, "metrics.tls_cert and metrics.tls_key go together");
		return -1;
	}
	char why[512];
	a->httpd = vg_httpd_start(&hc, why, sizeof(why));
	if (!a->httpd) {
		snprintf(err, errlen, "metrics: %s", why);
		return -1;
	}
	vg_httpd_set_ready(a->httpd, VG_READY_INFORMERS, true);
	/* the address bound, which a host name in metrics.listen resolved to */
	vg_log(VG_LOG_INFO, "metrics on %s (port %d)%s (metrics.listen %s)",
	       vg_httpd_address(a->httpd), vg_httpd_port(a->httpd), hc.tls_cert ? " with TLS" : "",
	       cfg->metrics.listen);
	return 0;
}
