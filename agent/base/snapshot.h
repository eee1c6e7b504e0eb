/* snapshot.h - an immutable value one thread publishes and another reads.
 *
 * The writer builds a snapshot (a struct whose FIRST member is a struct
 * vg_snap), then hands it to vg_snap_publish(), which numbers it with the
 * next generation and puts it in place of the one before.  The reader calls
 * vg_snap_reader_sync() at a point of its choosing (e.g. once per batch of
 * events): while nothing new was published that is one atomic load; else it
 * takes a reference to the newest snapshot and drops the one it held.
 * Between two syncs the reader's snapshot does not change, whatever the
 * writer does, and it stays valid however long the reader keeps it.
 *
 * A snapshot is freed by its destroy callback when its last reference goes:
 * the publisher's when a newer one replaces it, the reader's when it moves
 * on, in whichever thread comes last.
 *
 * One writer thread and one reader thread per struct vg_snap_pub; the
 * reader's state (struct vg_snap_reader) belongs to the reader thread.
 */
#ifndef VIGIL_SNAPSHOT_H
#define VIGIL_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vg_snap {
	_Atomic long ref;
	uint64_t gen; /* set by vg_snap_publish */
	void (*destroy)(struct vg_snap *s);
};

/* Starts a snapshot with one reference (the one vg_snap_publish takes
 * over).  destroy frees the whole snapshot, s being its first member. */
void vg_snap_init(struct vg_snap *s, void (*destroy)(struct vg_snap *s));

/* Drops a reference; the last one calls destroy.  NULL is fine. */
void vg_snap_unref(struct vg_snap *s);

/* The place a writer publishes to. */
struct vg_snap_pub {
	pthread_mutex_t mu; /* guards pub against the reader's ref taking */
	struct vg_snap *pub;
	_Atomic uint64_t gen; /* pub's generation, 0 before the first */
	uint64_t next_gen;    /* writer only */
};

void vg_snap_pub_init(struct vg_snap_pub *p);
/* Drops the published snapshot; no thread may use p after. */
void vg_snap_pub_destroy(struct vg_snap_pub *p);

/* Writer: publishes s (taking over the reference vg_snap_init gave) and
 * drops the one it replaces.  Returns s's generation: 1, 2, ... */
uint64_t vg_snap_publish(struct vg_snap_pub *p, struct vg_snap *s);

/* The generation of the newest snapshot published; any thread. */
uint64_t vg_snap_generation(struct vg_snap_pub *p);

/* The reader's side: the snapshot it holds, NULL before it first synced
 * after a publish. */
struct vg_snap_reader {
	struct vg_snap *cur;
	uint64_t gen;
};

/* Reader: adopts the newest published snapshot if it is not the one held.
 * Returns true when the held snapshot changed. */
bool vg_snap_reader_sync(struct vg_snap_reader *r, struct vg_snap_pub *p);

/* Drops the reader's snapshot (at the end; the reader may sync again). */
void vg_snap_reader_drop(struct vg_snap_reader *r);

#endif
