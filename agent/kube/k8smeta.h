/* k8smeta.h - container id -> pod/namespace metadata from Kubernetes.
 *
 * Two informers (k8s/): the Pods bound to this node
 * (fieldSelector=spec.nodeName=NODE) and every Namespace (metadata only).
 * Each container of a pod (status.containerStatuses, initContainerStatuses,
 * ephemeralContainerStatuses; containerID "containerd://", "cri-o://",
 * "docker://" + 64 hex) becomes one struct vg_container_meta keyed by the
 * first 12 hex digits, the id vigil's state derives from the cgroup path.
 *
 * Threads: the informers update a private table on the k8s client's
 * service thread and publish an immutable, reference-counted snapshot of
 * it (coalesced: at most every publish_ms).  The capture thread reads the
 * snapshot without any lock:
 *
 *   vg_k8smeta_reader_sync(m)   before each vg_state_apply() (or batch of
 *                               them): adopts the newest snapshot (one
 *                               atomic load when nothing changed)
 *   vg_k8smeta_lookup(m, id)    the vg_meta_lookup_fn for vg_state
 *
 * A pointer returned by vg_k8smeta_lookup() stays valid until the next
 * vg_k8smeta_reader_sync(), so until the next vg_state_apply().  One reader
 * thread only.
 */
#ifndef VIGIL_K8SMETA_H
#define VIGIL_K8SMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s_client.h"
#include "k8s_informer.h"
#include "state.h"

struct vg_k8smeta;

struct vg_k8smeta_opts {
	const char *node_name; /* required: only this node's pods */
	unsigned publish_ms;   /* coalescing of snapshot publication; 0 = 50 */
	/* informer tuning (tests); zeros = the informer defaults */
	unsigned watch_timeout_s;
	unsigned idle_timeout_s;
	/* Called on the service thread after a snapshot is published, e.g.
	 * to let the capture thread retry events held for a missing pod. */
	void (*on_publish)(void *ctx, uint64_t generation);
	void *ctx;
};

struct vg_k8smeta *vg_k8smeta_new(struct k8s_client *c, const struct vg_k8smeta_opts *o, char *err,
				  size_t errlen);
/* Start both informers (any thread). */
void vg_k8smeta_start(struct vg_k8smeta *m);
/* Both informers have listed once and that state is published. */
bool vg_k8smeta_synced(struct vg_k8smeta *m);
/* Stop the informers and free everything (not on the service thread). */
void vg_k8smeta_free(struct vg_k8smeta *m);

/* The informers, for metrics (vigil_k8s_cache_objects, restarts). */
struct k8s_informer *vg_k8smeta_pods(struct vg_k8smeta *m);
struct k8s_informer *vg_k8smeta_namespaces(struct vg_k8smeta *m);

/* Reader side (one capture thread). */
void vg_k8smeta_reader_sync(struct vg_k8smeta *m);
/* vg_meta_lookup_fn: ctx is the struct vg_k8smeta. NULL when unknown. */
const struct vg_container_meta *vg_k8smeta_lookup(void *ctx, const char *container_id);
/* A pod of this node by uid, without container members (a container its
 * status does not list yet, known by the pod uid in its cgroup path).
 * NULL when the pod is not (or no longer) in the cache.  Valid as
 * vg_k8smeta_lookup's answers; a linear scan (one node's pods). */
const struct vg_container_meta *vg_k8smeta_lookup_pod(void *ctx, const char *pod_uid);
/* Generation of the newest published snapshot (any thread). */
uint64_t vg_k8smeta_generation(struct vg_k8smeta *m);
/* Containers in the newest published snapshot (any thread). */
size_t vg_k8smeta_containers(struct vg_k8smeta *m);

/* --- pure helpers (tested on their own) --- */

/* "containerd://<64 hex>" (also cri-o://, docker://, or a bare id) -> the
 * first 12 hex digits, lower case.  Returns 0, or -1 when it is not one. */
int vg_k8smeta_container_id(const char *container_id, char out[VG_CONTAINER_ID_LEN]);

/* Split an image reference into repository, tag and digest (each a new
 * string, "" when absent): "reg:5000/a/b:1.2@sha256:.." -> "reg:5000/a/b",
 * "1.2", "sha256:..".  A ':' belongs to the tag only after the last '/'. */
void vg_k8smeta_image_split(const char *image, char **repo, char **tag, char **digest);

#endif
