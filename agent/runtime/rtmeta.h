/* rtmeta.h - container metadata from the container runtime's own files.
 *
 * When the capture thread first asks about a container id, a worker
 * thread finds the container's files under the configured roots
 * (rtspec.h lists the layouts), parses them and publishes the answer in
 * an immutable, reference-counted snapshot that the capture thread reads
 * without locks, like k8smeta.h:
 *
 *   vg_rtmeta_sync(m)             before each record (one atomic load when
 *                                 nothing changed)
 *   vg_rtmeta_lookup(m, id, &st)  the metadata, or NULL with st saying
 *                                 whether the answer is still pending (the
 *                                 first miss queues the request) or the
 *                                 runtime has no such container
 *
 * A pointer returned stays valid until the next vg_rtmeta_sync().  The
 * capture thread never touches the filesystem: the request is a bounded
 * queue push.  A container whose files are not there yet (runc writes
 * state.json after the container's first process started) is retried
 * at 5, 20, 100, 400 and 1500 ms before it is recorded as absent.
 *
 * Bounds: max_containers entries (the oldest goes first, counted), files
 * larger than max_file_bytes are refused unread, at most 256 bind mounts
 * per container, 512 state files examined per look-up.  Entries of
 * containers whose files are gone, and absent answers older than a minute,
 * are dropped by a sweep every 30 s.
 */
#ifndef VIGIL_RTMETA_H
#define VIGIL_RTMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtspec.h"
#include "state.h"

struct vg_rtmeta;

struct vg_rtmeta_opts {
	/* <root>/<namespace>/<id>/config.json */
	const char *const *containerd_roots;
	size_t ncontainerd;
	/* <root>/<id>/userdata/config.json */
	const char *const *crio_roots;
	size_t ncrio;
	/* <root>/<id>/state.json or <root>/<namespace>/<id>/state.json */
	const char *const *runc_roots;
	size_t nrunc;
	size_t max_containers; /* 0 = 4096 */
	size_t max_file_bytes; /* 0 = 512 KiB */
};

enum vg_rt_status {
	VG_RT_PENDING = 0, /* asked, no answer yet */
	VG_RT_FOUND,
	VG_RT_ABSENT, /* no files for it under the roots (or unreadable ones) */
};

struct vg_rtmeta_stats {
	uint64_t containers; /* entries now (found and absent) */
	uint64_t found, absent;
	uint64_t errors;	   /* files that exist but could not be used */
	uint64_t evictions;	   /* entries dropped for the cap */
	uint64_t requests_dropped; /* request queue full (asked again later) */
	uint64_t mounts_dropped;   /* bind mounts beyond the per-container cap */
};

struct vg_rtmeta *vg_rtmeta_new(const struct vg_rtmeta_opts *o);
/* Start the worker thread.  Returns 0 or -errno. */
int vg_rtmeta_start(struct vg_rtmeta *m);
/* Stop the worker (if started) and free everything. */
void vg_rtmeta_free(struct vg_rtmeta *m);

/* Capture thread. */
void vg_rtmeta_sync(struct vg_rtmeta *m);
const struct vg_container_meta *vg_rtmeta_lookup(struct vg_rtmeta *m, const char *container_id,
						 enum vg_rt_status *status);
/* Generation of the newest published snapshot (any thread). */
uint64_t vg_rtmeta_generation(struct vg_rtmeta *m);

/* Any thread. */
void vg_rtmeta_get_stats(struct vg_rtmeta *m, struct vg_rtmeta_stats *out);
/* The last file error, "PATH:LINE:COL: why" or "PATH: why" ("" none). */
void vg_rtmeta_last_error(struct vg_rtmeta *m, char *out, size_t cap);

/* --- the pieces, for tests ------------------------------------------------ */

/* Find and parse the files of container id (12 hex) under the roots of o,
 * synchronously.  Returns 1 found (*ri filled, *full_id and *path new
 * strings: the 64-hex id or the directory name, the config.json read), 0
 * when there is nothing for it, -1 when a file is there but cannot be used
 * (err: "PATH:LINE:COL: why" or "PATH: why"). */
int vg_rtmeta_resolve(const struct vg_rtmeta_opts *o, const char *container_id,
		      struct vg_rtinfo *ri, char **full_id, char **path, char *err, size_t errlen);

/* Read a regular file of at most max bytes (no FIFOs, no symlink as the
 * last component, never blocks on open).  Returns 0 with *buf (NUL-ended,
 * free it) and *len, or -errno: -E2BIG when larger than max. */
int vg_rtmeta_read_file(const char *path, size_t max, char **buf, size_t *len);

/* Combine the API's metadata and the runtime's into *out (pointers into
 * both; either may be NULL).  The API wins for the pod (name, namespace,
 * uid, labels), the container's name and image, and start time; the
 * runtime for privileged, the mounts, full id, type and user.  Returns
 * the VG_RTMERGE_* bits of the members both know and disagree on
 * (images compared after normalisation: "nginx" and
 * "docker.io/library/nginx:latest" agree). */
#define VG_RTMERGE_NAME 0x1
#define VG_RTMERGE_IMAGE 0x2
#define VG_RTMERGE_PRIVILEGED 0x4
#define VG_RTMERGE_POD 0x8
#define VG_RTMERGE_NFIELDS 4
unsigned vg_rtmeta_merge(const struct vg_container_meta *api, const struct vg_container_meta *rt,
			 struct vg_container_meta *out);
/* "name", "image", "privileged", "pod" for bit 1 << i. */
const char *vg_rtmerge_field_name(unsigned i);

#endif
