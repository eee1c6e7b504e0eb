/* pfnarrow.c - see pfnarrow.h. */
#include "pfnarrow.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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
 * addressing; when full, a cgroup without a slot is not listed. */
#define OWN_SLOTS 16384
struct owner {
	uint64_t cg;
	char cid[13]; /* VG_CONTAINER_ID_LEN */
	bool mixed;   /* named two containers: never listed */
};

struct vg_pfn {
	struct vg_capture *cap;
	pthread_mutex_t mu; /* tenants, and the kernel's list */
	uint64_t tenants[VG_PF_TENANTS];
	uint32_t ntenants;
	bool over;
	_Atomic uint64_t gen; /* clears of the kernel's list */
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
	pthread_mutex_init(&n->mu, NULL);
	n->done = vg_xcalloc(DONE_SLOTS, sizeof(*n->done));
	n->own = vg_xcalloc(OWN_SLOTS, sizeof(*n->own));
	return n;
}

void vg_pfn_free(struct vg_pfn *n)
{
	if (!n)
		return;
	pthread_mutex_destroy(&n->mu);
	free(n->done);
	free(n->own);
	free(n);
}

static bool has_tenant(const struct vg_pfn *n, uint64_t h)
{
	for (uint32_t i = 0; i < n->ntenants; i++)
		if (n->tenants[i] == h)
			return true;
	return false;
}

void vg_pfn_tenants(struct vg_pfn *n, const struct vg_pf_table *t)
{
	pthread_mutex_lock(&n->mu);
	bool grown = t->tenants_over && !n->over;
	for (uint32_t i = 0; i < t->ntenants && !grown; i++)
		grown = !has_tenant(n, t->tenants[i]) && !n->over;
	if (grown) {
		/* a namespace's Rules are about to run: none of its cgroups may
		 * stay on the list.  Every cgroup goes (a name is all the table
		 * has); the capture thread lists them again at their records */
		int rc = vg_capture_pf_narrow_clear(n->cap);
		if (rc)
			vg_log(VG_LOG_ERROR,
			       "capture.prefilter: clearing the cgroups without Rules: %s",
			       strerror(-rc));
		atomic_fetch_add(&n->gen, 1);
	}
	memcpy(n->tenants, t->tenants, sizeof(n->tenants));
	n->ntenants = t->ntenants < VG_PF_TENANTS ? t->ntenants : VG_PF_TENANTS;
	n->over = t->tenants_over;
	pthread_mutex_unlock(&n->mu);
}

static size_t slot_of(uint64_t cg)
{
	return (size_t)((cg * 0x9e3779b97f4a7c15ull) >> 50) & (DONE_SLOTS - 1);
}

bool vg_pfn_decided(struct vg_pfn *n, uint64_t cg, uint64_t ts)
{
	if (!cg)
		return true;
	uint64_t g = atomic_load(&n->gen);
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

/* cg's owner slot (capture thread), NULL when the table is full. */
static struct owner *owner_of(struct vg_pfn *n, uint64_t cg, bool add)
{
	for (size_t i = slot_of(cg) & (OWN_SLOTS - 1), k = 0; k < OWN_SLOTS;
	     i = (i + 1) & (OWN_SLOTS - 1), k++) {
		if (n->own[i].cg == cg)
			return &n->own[i];
		if (!n->own[i].cg) {
			if (!add || n->nown >= OWN_SLOTS / 2)
				return NULL;
			n->own[i].cg = cg;
			n->nown++;
			return &n->own[i];
		}
	}
	return NULL;
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
	pthread_mutex_lock(&n->mu);
	int rc = vg_capture_pf_narrow_del(n->cap, cg);
	pthread_mutex_unlock(&n->mu);
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
	pthread_mutex_lock(&n->mu);
	if (host || (!n->over && !has_tenant(n, vg_pf_ns_hash(ns))))
		(void)vg_capture_pf_narrow_add(n->cap, cg); /* full: the LRU makes room */
	uint64_t g = atomic_load(&n->gen);
	pthread_mutex_unlock(&n->mu);
	if (g != n->seen_gen)
		return; /* cleared since the last look: decided again */
	size_t i = slot_of(cg);
	while (n->done[i] && n->done[i] != cg)
		i = (i + 1) & (DONE_SLOTS - 1);
	if (!n->done[i]) {
		n->done[i] = cg;
		n->ndone++;
	}
}
