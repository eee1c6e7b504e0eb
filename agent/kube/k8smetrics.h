/* k8smetrics.h - the Kubernetes client's metrics in vigil's registry.
 *
 *   vigil_k8s_requests_total{verb,resource,code}  the client's request hook
 *   vigil_k8s_watch_restarts_total{resource}      from the informers' stats
 *   vigil_k8s_cache_objects{resource}             from the informers' stats
 *
 * Give vg_k8smetrics_request_hook (ctx: the struct vg_k8smetrics) to
 * k8s_client_new(), and every informer to vg_k8smetrics_add_informer(); the
 * two informer families are filled by collect callbacks at render time.
 * Thread-safe.
 */
#ifndef VIGIL_K8SMETRICS_H
#define VIGIL_K8SMETRICS_H

#include "k8s_informer.h"
#include "metrics.h"

struct vg_k8smetrics;

/* vm: the registered vigil families (vg_metrics_register_vigil). */
struct vg_k8smetrics *vg_k8smetrics_new(struct vg_vigil_metrics *vm);
/* Remove the collect callbacks and free (after the informers are gone). */
void vg_k8smetrics_free(struct vg_k8smetrics *km);

/* A k8s_request_hook; ctx is the struct vg_k8smetrics. */
void vg_k8smetrics_request_hook(void *ctx, const char *verb, const char *resource, int code);

void vg_k8smetrics_add_informer(struct vg_k8smetrics *km, struct k8s_informer *inf);
void vg_k8smetrics_remove_informer(struct vg_k8smetrics *km, struct k8s_informer *inf);

#endif
