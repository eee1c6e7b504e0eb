/* rtspec.h - what a container runtime records about one container, parsed.
 *
 * The runtime writes, for each container, the OCI runtime spec of its
 * bundle (config.json) and, for runc, a state file naming the bundle:
 *
 *   containerd   <root>/<namespace>/<id>/config.json
 *                (root /run/containerd/io.containerd.runtime.v2.task)
 *   CRI-O        <root>/<id>/userdata/config.json
 *                (root /run/containers/storage/overlay-containers)
 *   runc         <root>/<id>/state.json, whose config.labels hold
 *                "bundle=<dir>" (root /run/runc; containerd's runc shim
 *                uses /run/containerd/runc/<namespace>/<id>/)
 *
 * From the spec: the bind mounts (source, destination, ro/rw,
 * propagation), whether it is privileged, the uid of its process, and the
 * CRI annotations that name the pod and the container (the pod's uid also
 * from a kubepods linux.cgroupsPath, as vg_container_pod_uid reads it):
 *   containerd  io.kubernetes.cri.{sandbox-name,sandbox-namespace,
 *               sandbox-uid,container-name,image-name,container-type}
 *   CRI-O       io.kubernetes.cri-o.{ImageName,Image,ContainerType,
 *               KubeName,Namespace} and the JSON strings
 *               io.kubernetes.cri-o.Labels / .Metadata, which carry
 *   kubelet     io.kubernetes.pod.{name,namespace,uid},
 *               io.kubernetes.container.name (also plain annotations).
 *
 * Pure functions over bytes already read (rtmeta.c reads the files, with
 * a size cap): no I/O here, so the hostile cases are unit-tested.
 */
#ifndef VIGIL_RTSPEC_H
#define VIGIL_RTSPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

/* At most this many bind mounts are kept per container (the rest are
 * counted in nmounts_dropped); strings longer than VG_RTSPEC_STR_MAX are
 * treated as absent. */
#define VG_RTSPEC_MAX_MOUNTS 256
#define VG_RTSPEC_STR_MAX 4096

struct vg_rtinfo {
	/* every string owned, NULL when the files do not say */
	char *name;  /* the container's name in its pod */
	char *image; /* image reference as the runtime pulled it */
	char *image_repo, *image_tag;
	int privileged; /* 1, 0, -1 unknown */
	struct vg_mount *mounts;
	size_t nmounts;
	bool mounts_known; /* the spec had a well-formed "mounts" list */
	size_t nmounts_dropped;
	char *user; /* uid of process.user, decimal */
	char *pod_name, *pod_ns, *pod_uid;
	bool sandbox;	  /* the pod's sandbox (pause) container */
	const char *type; /* "containerd", "cri-o", "runc" (static) */
	/* the first member of a wrong type, as "mounts[2].destination:
	 * expected a string" ("" when none); the member is left unknown */
	char warn[160];
};

void vg_rtinfo_free(struct vg_rtinfo *ri);

/* Parse a config.json of len bytes into *ri (zeroed first; privileged
 * -1).  Returns 0 (members of the wrong type are left unknown and the
 * first is named in ri->warn), or -1 when it is not a JSON object: err
 * gets "LINE:COL: why" (the caller prefixes the file name). */
int vg_rtspec_parse_config(const char *json, size_t len, struct vg_rtinfo *ri, char *err,
			   size_t errlen);

/* Parse runc's state.json: the bundle directory (config.labels
 * "bundle=...") and the cgroup path (config.cgroups.path), each a new
 * string or NULL.  Returns 0, or -1 with err as above (also when the
 * bundle is missing). */
int vg_rtspec_parse_state(const char *json, size_t len, char **bundle, char **cgroup_path,
			  char *err, size_t errlen);

#endif
