/* cmeta.c - see cmeta.h.
 *
 * A container only one source knows gets that source's struct as is.  A
 * container both know gets a merged struct from a small cache (id ->
 * merged, with the two sources' generations it was built from), so the
 * merge runs once per container and change, not once per field read.  The
 * merged structs point into both sources' snapshots, which stay valid
 * until the next sync; the cache is emptied only at a sync, when it has
 * grown past its cap, so a pointer handed out for one record is never
 * reused under it.
 */
#include "cmeta.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "util.h"

#define CACHE_CAP 4096		    /* containers merged between two clears */
#define CACHE_SLOTS (CACHE_CAP * 2) /* power of two */

struct slot {
	char id[VG_CONTAINER_ID_LEN]; /* "" empty */
	uint64_t api_gen, rt_gen;
	const struct vg_container_meta *api, *rt; /* what it was built from */
	unsigned counted;			  /* disagreements already counted */
	struct vg_container_meta merged;
};

struct vg_cmeta {
	struct vg_cmeta_api api;
	bool has_api;
	struct vg_rtmeta *rt;
	bool own_rt;
	struct slot *cache;
	size_t used;
	struct vg_container_meta spare;
	_Atomic uint64_t disagree[VG_RTMERGE_NFIELDS];

	/* metrics and the error log */
	struct vg_metric_series *m_disagree[VG_RTMERGE_NFIELDS];
	struct vg_metric_series *m_ents, *m_found, *m_absent, *m_errors, *m_evict;
	uint64_t errors_logged, last_log_ns;
};

struct vg_cmeta *vg_cmeta_new(void)
{
	struct vg_cmeta *c = vg_xcalloc(1, sizeof(*c));
	c->cache = vg_xcalloc(CACHE_SLOTS, sizeof(*c->cache));
	return c;
}

void vg_cmeta_free(struct vg_cmeta *c)
{
	if (!c)
		return;
	if (c->own_rt)
		vg_rtmeta_free(c->rt);
	free(c->cache);
	free(c);
}

void vg_cmeta_set_api(struct vg_cmeta *c, const struct vg_cmeta_api *api)
{
	c->api = *api;
	c->has_api = api->lookup != NULL;
}

void vg_cmeta_set_runtime(struct vg_cmeta *c, struct vg_rtmeta *rt)
{
	c->rt = rt;
}

bool vg_cmeta_has_api(const struct vg_cmeta *c)
{
	return c->has_api;
}

bool vg_cmeta_has_runtime(const struct vg_cmeta *c)
{
	return c->rt != NULL;
}

void vg_cmeta_sync(struct vg_cmeta *c)
{
	if (c->has_api && c->api.sync)
		c->api.sync(c->api.ctx);
	if (c->rt)
		vg_rtmeta_sync(c->rt);
	if (c->used > CACHE_CAP) {
		memset(c->cache, 0, CACHE_SLOTS * sizeof(*c->cache));
		c->used = 0;
	}
}

static uint64_t api_gen(struct vg_cmeta *c)
{
	return c->has_api && c->api.generation ? c->api.generation(c->api.ctx) : 0;
}

uint64_t vg_cmeta_generation(struct vg_cmeta *c)
{
	return api_gen(c) + (c->rt ? vg_rtmeta_generation(c->rt) : 0);
}

static const struct vg_container_meta *merged(struct vg_cmeta *c, const char *id,
					      const struct vg_container_meta *api,
					      const struct vg_container_meta *rt)
{
	uint64_t ag = api_gen(c), rg = vg_rtmeta_generation(c->rt);
	size_t mask = CACHE_SLOTS - 1, i = vg_hash_bytes(id, strlen(id)) & mask;
	struct slot *s;
	for (;; i = (i + 1) & mask) {
		s = &c->cache[i];
		if (!s->id[0] || !strcmp(s->id, id))
			break;
	}
	if (s->id[0] && s->api_gen == ag && s->rt_gen == rg && s->api == api && s->rt == rt)
		return &s->merged;
	if (!s->id[0]) {
		if (c->used >= CACHE_SLOTS - 1) {
			/* cannot happen between two syncs (one record reads a
			 * few containers); stay correct anyway */
			vg_rtmeta_merge(api, rt, &c->spare);
			return &c->spare;
		}
		memcpy(s->id, id, VG_CONTAINER_ID_LEN);
		c->used++;
	}
	s->api_gen = ag;
	s->rt_gen = rg;
	s->api = api;
	s->rt = rt;
	unsigned bad = vg_rtmeta_merge(api, rt, &s->merged);
	unsigned fresh = bad & ~s->counted;
	s->counted |= bad;
	for (unsigned b = 0; b < VG_RTMERGE_NFIELDS; b++)
		if (fresh & (1u << b))
			atomic_fetch_add(&c->disagree[b], 1);
	return &s->merged;
}

const struct vg_container_meta *vg_cmeta_lookup(void *ctx, const char *id)
{
	struct vg_cmeta *c = ctx;
	const struct vg_container_meta *api = c->has_api ? c->api.lookup(c->api.ctx, id) : NULL;
	const struct vg_container_meta *rt = c->rt ? vg_rtmeta_lookup(c->rt, id, NULL) : NULL;
	if (!api || !rt)
		return api ? api : rt;
	return merged(c, id, api, rt);
}

bool vg_cmeta_ready(struct vg_cmeta *c, const char *id)
{
	if (c->has_api && c->api.lookup(c->api.ctx, id))
		return true;
	if (!c->rt)
		return !c->has_api;
	enum vg_rt_status st;
	const struct vg_container_meta *rt = vg_rtmeta_lookup(c->rt, id, &st);
	if (!c->has_api)
		return st != VG_RT_PENDING;
	/* no pod (no annotation, no kubepods cgroup): no Pod will list it */
	return rt && !rt->pod_name && !rt->pod_uid;
}

void vg_cmeta_disagreements(struct vg_cmeta *c, uint64_t out[VG_RTMERGE_NFIELDS])
{
	for (unsigned b = 0; b < VG_RTMERGE_NFIELDS; b++)
		out[b] = atomic_load(&c->disagree[b]);
}

int vg_cmeta_start_runtime(struct vg_cmeta *c, const struct vg_config *cfg, char *err,
			   size_t errlen)
{
	if (!cfg->runtime.enabled)
		return 0;
	const struct vg_rtmeta_opts o = {
		.containerd_roots = (const char *const *)cfg->runtime.containerd_roots,
		.ncontainerd = cfg->runtime.n_containerd_roots,
		.crio_roots = (const char *const *)cfg->runtime.crio_roots,
		.ncrio = cfg->runtime.n_crio_roots,
		.runc_roots = (const char *const *)cfg->runtime.runc_roots,
		.nrunc = cfg->runtime.n_runc_roots,
		.max_containers = cfg->runtime.max_containers,
		.max_file_bytes = cfg->runtime.max_file_bytes,
	};
	struct vg_rtmeta *rt = vg_rtmeta_new(&o);
	int r = vg_rtmeta_start(rt);
	if (r) {
		snprintf(err, errlen, "container runtime metadata: cannot start its thread: %s",
			 strerror(-r));
		vg_rtmeta_free(rt);
		return -1;
	}
	c->rt = rt;
	c->own_rt = true;
	return 0;
}

static struct vg_metric_family *family(struct vg_metrics *reg, const char *name, const char *help,
				       enum vg_metric_type type, const char *label)
{
	char err[256];
	struct vg_metric_desc d = {.name = name, .help = help, .type = type};
	d.labels[0] = label;
	return vg_metrics_add(reg, &d, err, sizeof(err));
}

void vg_cmeta_metrics(struct vg_cmeta *c, struct vg_metrics *reg)
{
	if (!reg)
		return;
	struct vg_metric_family *f = family(
		reg, "vigil_container_meta_disagreements_total",
		"Containers whose Kubernetes API and container runtime metadata disagree, by field "
		"(name, image, privileged, pod).",
		VG_METRIC_COUNTER, "field");
	for (unsigned b = 0; f && b < VG_RTMERGE_NFIELDS; b++)
		c->m_disagree[b] = vg_metric_series(f, (const char *[]){vg_rtmerge_field_name(b)});
	if (!c->rt)
		return;
	f = family(reg, "vigil_runtime_containers",
		   "Containers in the runtime metadata cache (found and absent).", VG_METRIC_GAUGE,
		   NULL);
	c->m_ents = f ? vg_metric_series(f, NULL) : NULL;
	f = family(reg, "vigil_runtime_lookups_total",
		   "Containers looked up in the runtime's files, by result (found, absent).",
		   VG_METRIC_COUNTER, "result");
	c->m_found = f ? vg_metric_series(f, (const char *[]){"found"}) : NULL;
	c->m_absent = f ? vg_metric_series(f, (const char *[]){"absent"}) : NULL;
	f = family(reg, "vigil_runtime_errors_total",
		   "Runtime files that could not be used, wholly (too large, not JSON, "
		   "unreadable) or in part (a member of the wrong type).",
		   VG_METRIC_COUNTER, NULL);
	c->m_errors = f ? vg_metric_series(f, NULL) : NULL;
	f = family(reg, "vigil_runtime_evictions_total",
		   "Runtime metadata entries dropped to stay within runtime.max_containers.",
		   VG_METRIC_COUNTER, NULL);
	c->m_evict = f ? vg_metric_series(f, NULL) : NULL;
}

void vg_cmeta_periodic(struct vg_cmeta *c)
{
	uint64_t d[VG_RTMERGE_NFIELDS];
	vg_cmeta_disagreements(c, d);
	for (unsigned b = 0; b < VG_RTMERGE_NFIELDS; b++)
		if (c->m_disagree[b])
			vg_metric_counter_set(c->m_disagree[b], d[b]);
	if (!c->rt)
		return;
	struct vg_rtmeta_stats st;
	vg_rtmeta_get_stats(c->rt, &st);
	if (c->m_ents)
		vg_metric_set(c->m_ents, (double)st.containers);
	if (c->m_found)
		vg_metric_counter_set(c->m_found, st.found);
	if (c->m_absent)
		vg_metric_counter_set(c->m_absent, st.absent);
	if (c->m_errors)
		vg_metric_counter_set(c->m_errors, st.errors);
	if (c->m_evict)
		vg_metric_counter_set(c->m_evict, st.evictions);
	uint64_t now = vg_now_mono_ns();
	if (st.errors != c->errors_logged && now - c->last_log_ns >= 60000000000ull) {
		char why[512];
		vg_rtmeta_last_error(c->rt, why, sizeof(why));
		vg_log(VG_LOG_WARNING,
		       "container runtime metadata: %llu files could not be used (%llu in all), "
		       "last: %s",
		       (unsigned long long)(st.errors - c->errors_logged),
		       (unsigned long long)st.errors, why);
		c->errors_logged = st.errors;
		c->last_log_ns = now;
	}
}
