/* agent_hold.c - records held until their container's metadata is known;
 * see agent.h and agent_int.h. */
#include "agent_int.h"
#include "log.h"

bool ag_held_ready(void *ctx, const struct vg_held *h)
{
	struct release_ctx *rc = ctx;
	struct vg_agent *a = rc->a;
	if (vg_cmeta_ready(a->cmeta, h->container_id)) {
		rc->why = HELD_METADATA;
		return true;
	}
	if (rc->all) {
		rc->why = HELD_TIMEOUT;
		return true;
	}
	if (rc->now < h->deadline_ns)
		return false;
	/* a pod's container its Pod does not list yet: wait on for the status
	 * (or the Pod's deletion), up to pod_hold_ms from its first record */
	rc->why = HELD_TIMEOUT;
	if (a->pod_hold_ms > a->hold_ms &&
	    vg_cmeta_pod_state(a->cmeta, h->container_id) == VG_CMETA_POD_LISTED) {
		uint64_t end =
			h->deadline_ns + (uint64_t)(a->pod_hold_ms - a->hold_ms) * 1000000ull;
		if (rc->now < end) {
			rc->waiting = true;
			return false;
		}
		rc->why = HELD_POD_TIMEOUT;
	}
	return true;
}

int ag_held_process(void *ctx, const struct vg_held *h)
{
	struct release_ctx *rc = ctx;
	vg_metric_inc(rc->a->m_held[rc->why]);
	return ag_process_record(rc->a, h->rec, h->size);
}

/* Hold the records of containers not known yet, up to hold_ms. */
void ag_enable_hold(struct vg_agent *a, unsigned hold_ms)
{
	a->hold_ms = hold_ms;
	if (hold_ms && !a->hold) {
		a->hold = vg_hold_new(VG_AGENT_HOLD_RECORDS, VG_AGENT_HOLD_BYTES);
		if (a->reg) {
			char err[256];
			struct vg_metric_desc d = {
				.name = "vigil_events_held_total",
				.help = "Events held back until their pod's metadata arrived, by "
					"how they were released (metadata, timeout, overflow, "
					"pod_timeout: the Pod listed past kubernetes.pod_hold_ms "
					"without the container's status).",
				.type = VG_METRIC_COUNTER,
				.labels = {"result", NULL},
			};
			struct vg_metric_family *f = vg_metrics_add(a->reg, &d, err, sizeof(err));
			static const char *const why[] = {"metadata", "timeout", "overflow",
							  "pod_timeout"};
			for (int i = 0; f && i < HELD_NWHY; i++)
				a->m_held[i] = vg_metric_series(f, (const char *[]){why[i]});
		}
	}
}

void vg_agent_set_meta(struct vg_agent *a, const struct vg_agent_meta *m)
{
	a->meta = *m;
	struct vg_cmeta_api api = {m->lookup, m->sync, m->generation, m->ctx, m->lookup_pod};
	a->pod_hold_ms = m->lookup_pod && m->pod_hold_ms > m->hold_ms ? m->pod_hold_ms : m->hold_ms;
	vg_cmeta_set_api(a->cmeta, &api);
	ag_enable_hold(a, m->hold_ms); /* with the API, its hold_ms */
}
