/* hold.c - a ring of copied records plus a count of held records per
 * cgroup id (open addressing; a cgroup leaves the table when its count
 * drops to zero).  A record released from the middle of the ring leaves a
 * hole (rec == NULL) that the head skips later. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hold.h"
#include "util.h"

struct cg_count {
	uint64_t cgid; /* 0 = empty slot */
	size_t n;
};

struct vg_hold {
	struct vg_held *ring;
	size_t cap, head, len; /* len counts holes between head and tail */
	size_t live;	       /* records held */
	size_t bytes, max_bytes;
	struct cg_count *tab;
	size_t tabcap; /* power of two, >= 2 * cap */
};

struct vg_hold *vg_hold_new(size_t max_records, size_t max_bytes)
{
	struct vg_hold *h = vg_xcalloc(1, sizeof(*h));
	h->cap = max_records ? max_records : 1;
	h->max_bytes = max_bytes;
	h->ring = vg_xcalloc(h->cap, sizeof(*h->ring));
	h->tabcap = 16;
	while (h->tabcap < 2 * h->cap)
		h->tabcap <<= 1;
	h->tab = vg_xcalloc(h->tabcap, sizeof(*h->tab));
	return h;
}

void vg_hold_free(struct vg_hold *h)
{
	if (!h)
		return;
	while (h->live)
		vg_hold_pop(h);
	free(h->ring);
	free(h->tab);
	free(h);
}

static size_t slot_of(const struct vg_hold *h, uint64_t cgid)
{
	uint64_t x = cgid * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(x >> 32) & (h->tabcap - 1);
	while (h->tab[i].cgid && h->tab[i].cgid != cgid)
		i = (i + 1) & (h->tabcap - 1);
	return i;
}

static void count_add(struct vg_hold *h, uint64_t cgid)
{
	size_t i = slot_of(h, cgid);
	h->tab[i].cgid = cgid;
	h->tab[i].n++;
}

/* Remove with backward-shift deletion, so lookups never need tombstones. */
static void count_del(struct vg_hold *h, uint64_t cgid)
{
	size_t i = slot_of(h, cgid);
	if (!h->tab[i].cgid || --h->tab[i].n)
		return;
	size_t mask = h->tabcap - 1, j = i;
	for (;;) {
		h->tab[i].cgid = 0;
		h->tab[i].n = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (!h->tab[j].cgid)
				return;
			uint64_t x = h->tab[j].cgid * 0x9e3779b97f4a7c15ull;
			size_t home = (size_t)(x >> 32) & mask;
			/* j's entry may move to i when home is not in (i, j] */
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		h->tab[i] = h->tab[j];
		i = j;
	}
}

int vg_hold_push(struct vg_hold *h, const void *rec, size_t size, uint64_t cgroup_id,
		 const char *container_id, uint64_t deadline_ns)
{
	if (h->len == h->cap || (h->live && h->bytes + size > h->max_bytes))
		return -1;
	struct vg_held *e = &h->ring[(h->head + h->len) % h->cap];
	void *copy = vg_xmalloc(size ? size : 1);
	memcpy(copy, rec, size);
	e->rec = copy;
	e->size = size;
	e->cgroup_id = cgroup_id;
	snprintf(e->container_id, sizeof(e->container_id), "%s", container_id ? container_id : "");
	e->deadline_ns = deadline_ns;
	h->len++;
	h->live++;
	h->bytes += size;
	if (cgroup_id)
		count_add(h, cgroup_id);
	return 0;
}

bool vg_hold_has(const struct vg_hold *h, uint64_t cgroup_id)
{
	if (!cgroup_id || !h->live)
		return false;
	return h->tab[slot_of(h, cgroup_id)].cgid == cgroup_id;
}

const struct vg_held *vg_hold_head(const struct vg_hold *h)
{
	return h->len ? &h->ring[h->head] : NULL;
}

static void drop_entry(struct vg_hold *h, struct vg_held *e)
{
	if (e->cgroup_id)
		count_del(h, e->cgroup_id);
	h->bytes -= e->size;
	h->live--;
	free((void *)e->rec);
	memset(e, 0, sizeof(*e));
}

/* Advance the head over holes. */
static void skip_holes(struct vg_hold *h)
{
	while (h->len && !h->ring[h->head].rec) {
		h->head = (h->head + 1) % h->cap;
		h->len--;
	}
}

void vg_hold_pop(struct vg_hold *h)
{
	if (!h->len)
		return;
	drop_entry(h, &h->ring[h->head]);
	skip_holes(h);
}

size_t vg_hold_count(const struct vg_hold *h)
{
	return h->live;
}

static bool in_list(const uint64_t *v, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

int vg_hold_release(struct vg_hold *h, vg_hold_ready_fn ready, vg_hold_process_fn process,
		    void *ctx)
{
	/* cgroups with a record that stays: their later records must wait */
	uint64_t stay[64];
	size_t nstay = 0;
	int rc = 0;
	for (size_t i = 0; i < h->len; i++) {
		struct vg_held *e = &h->ring[(h->head + i) % h->cap];
		if (!e->rec)
			continue;
		if (in_list(stay, nstay, e->cgroup_id))
			continue;
		if (!ready(ctx, e)) {
			if (nstay == sizeof(stay) / sizeof(stay[0]))
				break; /* enough for one scan; the rest waits its turn */
			stay[nstay++] = e->cgroup_id;
			continue;
		}
		rc = process(ctx, e);
		drop_entry(h, e);
		if (rc)
			break;
	}
	skip_holes(h);
	return rc;
}
