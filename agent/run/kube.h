/* kube.h - vigil inside Kubernetes: the parts of `vigil run` that talk to
 * the API server.
 *
 *   - pod and namespace metadata (k8smeta.h) for the state, with the
 *     records of not-yet-known containers held briefly (agent.h);
 *   - alerts as events.k8s.io/v1 Events (k8s_events.h), a sink of the
 *     agent's pipeline named "k8s_events";
 *   - the k8s metrics (requests, watch restarts, cache sizes) and the
 *     informers-synced readiness bit.
 *
 * Whether it runs: kubernetes.enabled "true" (must work), "false", or
 * "auto" (the default: when kubernetes.kubeconfig, $KUBECONFIG or the
 * in-cluster service variables say where the API server is).
 */
#ifndef VIGIL_KUBE_H
#define VIGIL_KUBE_H

#include <stdbool.h>
#include <stddef.h>

#include "agent.h"
#include "config.h"

struct vg_kube;

/* Connect and start the informers; plug the metadata and the Events sink
 * into a (before vg_agent_run).  Returns NULL with err = "" when
 * Kubernetes is not configured ("auto" without a cluster, or "false"), NULL
 * with err set when it cannot start. */
struct vg_kube *vg_kube_start(struct vg_agent *a, const struct vg_config *cfg, char *err,
			      size_t errlen);

/* After vg_agent_run() returns, before vg_agent_free(): stop the timers
 * and informers that call into the agent.  NULL is fine. */
void vg_kube_stop(struct vg_kube *k);

/* After vg_agent_free() (which drains the sinks into the Events queue):
 * let queued Events go out for up to deadline_ms, then free.  NULL is
 * fine. */
void vg_kube_free(struct vg_kube *k, unsigned deadline_ms);

/* Is Kubernetes wanted by this configuration and environment? */
bool vg_kube_wanted(const struct vg_config *cfg);

#endif
