/* snapshot.c - see snapshot.h.
 *
 * The reader's fast path is the acquire load of the generation: the mutex is
 * only taken when it changed, and only for as long as it takes to add a
 * reference to the published snapshot, so that the writer cannot drop that
 * snapshot's last reference between the reader loading the pointer and
 * counting itself in.
 */
#include "snapshot.h"

#include <stddef.h>

void vg_snap_init(struct vg_snap *s, void (*destroy)(struct vg_snap *s))
{
	atomic_init(&s->ref, 1);
	s->gen = 0;
	s->destroy = destroy;
}

void vg_snap_unref(struct vg_snap *s)
{
	if (!s || atomic_fetch_sub(&s->ref, 1) != 1)
		return;
	s->destroy(s);
}

void vg_snap_pub_init(struct vg_snap_pub *p)
{
	pthread_mutex_init(&p->mu, NULL);
	p->pub = NULL;
	atomic_init(&p->gen, 0);
	p->next_gen = 0;
}

void vg_snap_pub_destroy(struct vg_snap_pub *p)
{
	vg_snap_unref(p->pub);
	p->pub = NULL;
	pthread_mutex_destroy(&p->mu);
}

uint64_t vg_snap_publish(struct vg_snap_pub *p, struct vg_snap *s)
{
	uint64_t gen = ++p->next_gen;
	s->gen = gen;
	pthread_mutex_lock(&p->mu);
	struct vg_snap *old = p->pub;
	p->pub = s;
	atomic_store(&p->gen, gen);
	pthread_mutex_unlock(&p->mu);
	vg_snap_unref(old);
	return gen;
}

uint64_t vg_snap_generation(struct vg_snap_pub *p)
{
	return atomic_load(&p->gen);
}

bool vg_snap_reader_sync(struct vg_snap_reader *r, struct vg_snap_pub *p)
{
	if (atomic_load_explicit(&p->gen, memory_order_acquire) == r->gen)
		return false;
	pthread_mutex_lock(&p->mu);
	struct vg_snap *s = p->pub;
	if (s)
		atomic_fetch_add(&s->ref, 1);
	r->gen = s ? s->gen : 0;
	pthread_mutex_unlock(&p->mu);
	vg_snap_unref(r->cur);
	r->cur = s;
	return true;
}

void vg_snap_reader_drop(struct vg_snap_reader *r)
{
	vg_snap_unref(r->cur);
	r->cur = NULL;
	r->gen = 0;
}
