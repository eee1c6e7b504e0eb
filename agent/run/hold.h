/* hold.h - records held back until their container's pod metadata arrives.
 *
 * A new container usually starts running before the Pod informer has seen
 * its containerID, so the first events of a container (often the very exec
 * a rule looks for) would be evaluated without k8s.* fields and without
 * namespace scoping.  The agent holds such records, in arrival order, until
 * the metadata is known or a deadline passes, then applies them as if they
 * had just arrived.
 *
 * Records are keyed by the cgroup id of their header: once one record of a
 * cgroup is held, every later record of that cgroup is held behind it, so a
 * container's records are never reordered among themselves.  Across
 * cgroups a release scan may go past records that stay held, so a container
 * no pod will ever claim does not delay the others.  The store is bounded by
 * a record count and a byte budget; the caller releases the oldest record
 * when a push does not fit.
 *
 * Single-threaded (the capture thread).
 */
#ifndef VIGIL_HOLD_H
#define VIGIL_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

struct vg_hold;

struct vg_held {
	const void *rec; /* a copy of the record, valid until vg_hold_pop() */
	size_t size;
	uint64_t cgroup_id;
	char container_id[VG_CONTAINER_ID_LEN];
	uint64_t deadline_ns; /* monotonic */
};

struct vg_hold *vg_hold_new(size_t max_records, size_t max_bytes);
void vg_hold_free(struct vg_hold *h);

/* Copy a record to the tail.  Returns 0, or -1 when it does not fit (pop
 * the head first, then push again). */
int vg_hold_push(struct vg_hold *h, const void *rec, size_t size, uint64_t cgroup_id,
		 const char *container_id, uint64_t deadline_ns);

/* Is a record of this cgroup held now? */
bool vg_hold_has(const struct vg_hold *h, uint64_t cgroup_id);

/* The oldest record, or NULL when empty. */
const struct vg_held *vg_hold_head(const struct vg_hold *h);
void vg_hold_pop(struct vg_hold *h);

/* Scan from the oldest record: a record whose cgroup has no older record
 * still held is given to ready(); when it says yes (non-zero) it goes to
 * process() and leaves the store.  A non-zero process() result stops the
 * scan and is returned; else 0. */
typedef bool (*vg_hold_ready_fn)(void *ctx, const struct vg_held *r);
typedef int (*vg_hold_process_fn)(void *ctx, const struct vg_held *r);
int vg_hold_release(struct vg_hold *h, vg_hold_ready_fn ready, vg_hold_process_fn process,
		    void *ctx);

size_t vg_hold_count(const struct vg_hold *h);

#endif
