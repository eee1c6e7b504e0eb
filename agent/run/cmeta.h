/* cmeta.h - the container metadata the agent's state reads: the
 * Kubernetes API's (kube.c over k8smeta.h) and the container runtime's
 * (rtmeta.h), combined.
 *
 * Either source may be missing.  When both know a container, the two are
 * merged (vg_rtmeta_merge says which wins for what) and the members they
 * disagree on are counted once per container and member
 * (vigil_container_meta_disagreements_total{field}).
 *
 * Readiness, for records held until their container is known (hold.h):
 *   with the API: the API knows the container, or the runtime found it
 *     and it has no pod (neither a CRI annotation nor a kubepods cgroup
 *     names one: a container no Pod will ever list, e.g. one started by
 *     hand on a node);
 *   without it: the runtime has answered (found or absent).
 *
 * Capture thread only, except vg_cmeta_disagreements().
 */
#ifndef VIGIL_CMETA_H
#define VIGIL_CMETA_H

#include <stdbool.h>
#include <stdint.h>

#include "rtmeta.h"
#include "state.h"

struct vg_cmeta;

/* The API's side: lookup is a vg_meta_lookup_fn; sync and generation are
 * optional. */
struct vg_cmeta_api {
	vg_meta_lookup_fn lookup;
	void (*sync)(void *ctx);
	uint64_t (*generation)(void *ctx);
	void *ctx;
};

struct vg_cmeta *vg_cmeta_new(void);
/* Stops and frees the runtime side it started too. */
void vg_cmeta_free(struct vg_cmeta *c);
void vg_cmeta_set_api(struct vg_cmeta *c, const struct vg_cmeta_api *api);
void vg_cmeta_set_runtime(struct vg_cmeta *c, struct vg_rtmeta *rt);
bool vg_cmeta_has_api(const struct vg_cmeta *c);
bool vg_cmeta_has_runtime(const struct vg_cmeta *c);

/* Before each record: adopt both sources' newest snapshots. */
void vg_cmeta_sync(struct vg_cmeta *c);
/* vg_meta_lookup_fn (ctx: the struct vg_cmeta). */
const struct vg_container_meta *vg_cmeta_lookup(void *ctx, const char *container_id);
bool vg_cmeta_ready(struct vg_cmeta *c, const char *container_id);
/* Changes whenever either source's does. */
uint64_t vg_cmeta_generation(struct vg_cmeta *c);

/* Make and start the runtime side from cfg->runtime (nothing when
 * disabled).  0, or -1 with err set. */
struct vg_config;
int vg_cmeta_start_runtime(struct vg_cmeta *c, const struct vg_config *cfg, char *err,
			   size_t errlen);
/* Register the metric families (vigil_runtime_*,
 * vigil_container_meta_disagreements_total) in reg; then
 * vg_cmeta_periodic() updates them (capture thread, between polls) and
 * logs new runtime file errors, at most once a minute. */
struct vg_metrics;
void vg_cmeta_metrics(struct vg_cmeta *c, struct vg_metrics *reg);
void vg_cmeta_periodic(struct vg_cmeta *c);

/* Containers whose API and runtime answers disagreed, by member (the
 * VG_RTMERGE_* bits, in bit order). */
void vg_cmeta_disagreements(struct vg_cmeta *c, uint64_t out[VG_RTMERGE_NFIELDS]);

#endif
