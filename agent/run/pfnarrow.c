/* pfnarrow.c - see pfnarrow.h. */
#include "pfnarrow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "log.h"
#include "pfeval.h"
#include "util.h"

/* The capture thread's memory of the cgroups it decided on: open
 * addressing, emptied when half full, when the kernel's list was cleared,
 * and every minute of records (the kernel's list is an LRU: a cgroup it
 * forgot is listed again at its next record after that). */
#define DONE_SLOTS 16384
#define DONE_NS (60ull * 1000000000ull)
/* Which container each cgroup's exec records named (vg_pfn_exec): open
 * addressing.  Half full, it keeps only the cgroups that named two, and
 * the kernel's list is cleared with the rest (a cgroup is only listed
 * with an owner, so none stays listed without one). */
#define OWN_SLOTS 16384
struct owner {
	uint64_t cg;
	char cid[13]; /* VG_CONTAINER_ID_LEN */
	bool mixed;   /* named two containers: never listed */
};

struct vg_pfn {
	struct vg_capture *cap;
	uint64_t gen; /* clears of the kernel's list */
	/* capture thread */
	uint64_t seen_gen, reset_ts;
	uint64_t *done;
	size_t ndone;
	struct owner *own;
	size_t nown;
};

struct vg_pfn *vg_pfn_new(struct vg_capture *cap)
{
	struct vg_pfn *n = vg_xcalloc(1, sizeof(*n));
	n->cap = cap;
	n->done = vg_xcalloc(DONE_SLOTS, sizeof(*n->done));
	n->own = vg_xcalloc(OWN_SLOTS, sizeof(*n->own));
	return n;
}

void vg_pfn_free(struct vg_pfn *n)
{
	if (!n)
		return;
	free(n->done);
	free(n->own);
	free(n);
}

/* Empties the kernel's list; the memory of decided cgroups goes at its
 * next look. */
static void clear_list(struct vg_pfn *n)
{
	int rc = vg_capture_pf_narrow_clear(n->cap);
	if (rc)
		vg_log(VG_LOG_ERROR, "capture.prefilter: clearing the placed cgroups: %s",
		       strerror(-rc));
	n->gen++;
}

static size_t slot_of(uint64_t cg)
{
	return (size_t)((cg * 0x9e3779b97f4a7c15ull) >> 50) & (DONE_SLOTS - 1);
}

bool vg_pfn_decided(struct vg_pfn *n, uint64_t cg, uint64_t ts)
{
	if (!cg)
		return true;
	uint64_t g = n->gen;
	if (g != n->seen_gen || ts >= n->reset_ts || n->ndone >= DONE_SLOTS / 2) {
		memset(n->done, 0, DONE_SLOTS * sizeof(*n->done));
		n->ndone = 0;
		n->seen_gen = g;
		n->reset_ts = ts + DONE_NS;
	}
	for (size_t i = slot_of(cg);; i = (i + 1) & (DONE_SLOTS - 1)) {
		if (n->done[i] == cg)
			return true;
		if (!n->done[i])
			return false;
	}
}

static struct owner *owner_slot(struct owner *own, uint64_t cg)
{
	size_t i = slot_of(cg) & (OWN_SLOTS - 1);
	while (own[i].cg && own[i].cg != cg)
		i = (i + 1) & (OWN_SLOTS - 1);
	return &own[i];
}

/* The owners of the cgroups seen in the longest time go: all but the
 * cgroups that named two containers (cgroup ids are not reused, so the
 * table would otherwise fill with the dead). */
static void owners_flush(struct vg_pfn *n)
{
	struct owner *keep = vg_xcalloc(OWN_SLOTS, sizeof(*keep));
	size_t k = 0;
	for (size_t i = 0; i < OWN_SLOTS && k < OWN_SLOTS / 4; i++)
		if (n->own[i].mixed) {
			*owner_slot(keep, n->own[i].cg) = n->own[i];
			k++;
		}
	free(n->own);
	n->own = keep;
	n->nown = k;
	clear_list(n);
}

/* cg's owner slot (capture thread); add: made if missing.  NULL: none. */
static struct owner *owner_of(struct vg_pfn *n, uint64_t cg, bool add)
{
	struct owner *o = owner_slot(n->own, cg);
	if (o->cg || !add)
		return o->cg ? o : NULL;
	if (n->nown >= OWN_SLOTS / 2) {
		owners_flush(n);
		o = owner_slot(n->own, cg);
	}
	o->cg = cg;
	n->nown++;
	return o;
}

void vg_pfn_exec(struct vg_pfn *n, uint64_t cg, const char *cid)
{
	struct owner *o = cg ? owner_of(n, cg, true) : NULL;
	if (!o || o->mixed)
		return;
	if (!o->cid[0]) {
		snprintf(o->cid, sizeof(o->cid), "%s", cid);
		return;
	}
	if (!strcmp(o->cid, cid))
		return;
	o->mixed = true;
	int rc = vg_capture_pf_narrow_del(n->cap, cg);
	if (rc && rc != -ENOENT)
		vg_log(VG_LOG_ERROR, "capture.prefilter: unlisting cgroup %llu: %s",
		       (unsigned long long)cg, strerror(-rc));
}

void vg_pfn_note(struct vg_pfn *n, uint64_t cg, bool host, const char *ns)
{
	if (!cg || (!host && !ns))
		return;
	const struct owner *o = owner_of(n, cg, false);
	if (!o || o->mixed)
		return; /* no exec seen in it, or one naming another container */
	/* a pod's namespace never changes: whether it has Rules is the
	 * kernel's predicates' to say, written with them (full: the LRU
	 * makes room) */
	(void)vg_capture_pf_narrow_add(n->cap, cg, host ? 0 : vg_pf_ns_hash(ns));
	size_t i = slot_of(cg);
	while (n->done[i] && n->done[i] != cg)
		i = (i + 1) & (DONE_SLOTS - 1);
	if (!n->done[i]) {
		n->done[i] = cg;
		n->ndone++;
	}
}
