/* fdtab.c - one process's fd table: chained hash by fd plus an age list. */
#include <errno.h>
#include <stdlib.h>

#include "fdtab.h"

#define FD_CLOEXEC_FLAG 02000000 /* O_CLOEXEC on Linux */
#define FDTAB_MIN_BUCKETS 16

struct fd_ent {
	struct vg_fd f; /* first: a struct vg_fd * is a struct fd_ent * */
	struct vg_rstr *name;
	struct fd_ent *hnext;
	struct fd_ent *older, *newer;
};

struct vg_fdtab {
	struct fd_ent **b;
	size_t nb; /* power of two */
	size_t n;
	struct fd_ent *oldest, *newest;
};

static struct vg_rstr empty_name = {.refs = 1u << 30, .len = 0};

static size_t slot(const struct vg_fdtab *t, int64_t fd)
{
	return (size_t)((uint64_t)fd * 0x9E3779B97F4A7C15ull >> 32) & (t->nb - 1);
}

struct vg_fdtab *vg_fdtab_new(void)
{
	struct vg_fdtab *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->b = calloc(FDTAB_MIN_BUCKETS, sizeof(*t->b));
	if (!t->b) {
		free(t);
		return NULL;
	}
	t->nb = FDTAB_MIN_BUCKETS;
	return t;
}

static void ent_free(struct fd_ent *e)
{
	if (e->name != &empty_name)
		vg_rstr_put(e->name);
	free(e);
}

void vg_fdtab_free(struct vg_fdtab *t)
{
	if (!t)
		return;
	for (struct fd_ent *e = t->oldest, *next; e; e = next) {
		next = e->newer;
		ent_free(e);
	}
	free(t->b);
	free(t);
}

size_t vg_fdtab_count(const struct vg_fdtab *t)
{
	return t->n;
}

static struct fd_ent *find(const struct vg_fdtab *t, int64_t fd, struct fd_ent ***pp)
{
	struct fd_ent **p = &t->b[slot(t, fd)];
	for (; *p; p = &(*p)->hnext)
		if ((*p)->f.fd == fd)
			break;
	if (pp)
		*pp = p;
	return *p;
}

struct vg_fd *vg_fdtab_get(struct vg_fdtab *t, int64_t fd)
{
	struct fd_ent *e = find(t, fd, NULL);
	return e ? &e->f : NULL;
}

static void unlink_ent(struct vg_fdtab *t, struct fd_ent *e)
{
	struct fd_ent **p;
	find(t, e->f.fd, &p);
	if (*p == e)
		*p = e->hnext;
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	e->hnext = e->older = e->newer = NULL;
	t->n--;
}

/* Double the buckets when the chains get long; a failed grow only costs
 * longer chains. */
static void maybe_grow(struct vg_fdtab *t)
{
	if (t->n < t->nb)
		return;
	size_t nb = t->nb * 2;
	struct fd_ent **b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	struct fd_ent **old = t->b;
	size_t onb = t->nb;
	t->b = b;
	t->nb = nb;
	for (size_t i = 0; i < onb; i++) {
		for (struct fd_ent *e = old[i], *next; e; e = next) {
			next = e->hnext;
			size_t s = slot(t, e->f.fd);
			e->hnext = b[s];
			b[s] = e;
		}
	}
	free(old);
}

static void insert(struct vg_fdtab *t, struct fd_ent *e)
{
	size_t s = slot(t, e->f.fd);
	e->hnext = t->b[s];
	t->b[s] = e;
	e->older = t->newest;
	e->newer = NULL;
	if (t->newest)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
	t->n++;
	maybe_grow(t);
}

void vg_fdtab_del(struct vg_fdtab *t, int64_t fd)
{
	struct fd_ent *e = find(t, fd, NULL);
	if (e) {
		unlink_ent(t, e);
		ent_free(e);
	}
}

static void make_room(struct vg_fdtab *t, size_t cap, uint64_t *evictions)
{
	while (t->n > 0 && t->n >= cap) {
		struct fd_ent *e = t->oldest;
		unlink_ent(t, e);
		ent_free(e);
		if (evictions)
			(*evictions)++;
	}
}

struct vg_fd *vg_fdtab_put(struct vg_fdtab *t, int64_t fd, size_t cap, uint64_t *evictions)
{
	vg_fdtab_del(t, fd);
	/* malloc, not calloc: glibc's calloc skips the per-thread cache, and
	 * an fd entry is made and freed on every open and close */
	struct fd_ent *e = malloc(sizeof(*e));
	if (!e)
		return NULL;
	*e = (struct fd_ent){0};
	make_room(t, cap, evictions);
	e->f.fd = fd;
	e->name = &empty_name;
	e->f.name = "";
	insert(t, e);
	return &e->f;
}

void vg_fdtab_set_name(struct vg_fd *f, struct vg_rstr *r)
{
	struct fd_ent *e = (struct fd_ent *)f;
	if (!r)
		return; /* ENOMEM: keep the old name */
	if (e->name != &empty_name)
		vg_rstr_put(e->name);
	e->name = r;
	f->name = r->s;
}

struct vg_rstr *vg_fdtab_name(const struct vg_fd *f)
{
	const struct fd_ent *e = (const struct fd_ent *)f;
	return e->name == &empty_name ? NULL : e->name;
}

struct vg_fd *vg_fdtab_take(struct vg_fdtab *t, int64_t fd)
{
	struct fd_ent *e = find(t, fd, NULL);
	if (!e)
		return NULL;
	unlink_ent(t, e);
	return &e->f;
}

void vg_fdtab_release(struct vg_fd *f)
{
	if (f)
		ent_free((struct fd_ent *)f);
}

static struct fd_ent *clone_ent(const struct fd_ent *src)
{
	struct fd_ent *e = malloc(sizeof(*e));
	if (!e)
		return NULL;
	*e = *src;
	e->hnext = e->older = e->newer = NULL;
	if (e->name != &empty_name)
		vg_rstr_ref(e->name);
	return e;
}

struct vg_fd *vg_fdtab_dup(struct vg_fdtab *t, int64_t oldfd, int64_t newfd, size_t cap,
			   uint64_t *evictions)
{
	if (oldfd == newfd)
		return vg_fdtab_get(t, oldfd);
	vg_fdtab_del(t, newfd);
	struct fd_ent *src = find(t, oldfd, NULL);
	if (!src)
		return NULL;
	struct fd_ent *e = clone_ent(src);
	if (!e)
		return NULL;
	e->f.fd = newfd;
	e->f.flags &= ~(uint32_t)FD_CLOEXEC_FLAG; /* dup never copies close-on-exec */
	/* the source must survive the eviction: it is what we just copied */
	if (t->n >= cap && t->oldest == src && t->n > 1) {
		unlink_ent(t, src);
		insert(t, src);
	}
	make_room(t, cap, evictions);
	insert(t, e);
	return &e->f;
}

int vg_fdtab_copy(struct vg_fdtab *dst, const struct vg_fdtab *src, size_t cap, uint64_t *evictions)
{
	for (const struct fd_ent *s = src->oldest; s; s = s->newer) {
		struct fd_ent *e = clone_ent(s);
		if (!e)
			return -ENOMEM;
		struct fd_ent *old = find(dst, e->f.fd, NULL);
		if (old) {
			unlink_ent(dst, old);
			ent_free(old);
		}
		make_room(dst, cap, evictions);
		insert(dst, e);
	}
	return 0;
}

void vg_fdtab_cloexec(struct vg_fdtab *t)
{
	for (struct fd_ent *e = t->oldest, *next; e; e = next) {
		next = e->newer;
		if (e->f.flags & FD_CLOEXEC_FLAG) {
			unlink_ent(t, e);
			ent_free(e);
		}
	}
}

void vg_fdtab_foreach(const struct vg_fdtab *t, int (*fn)(void *ctx, const struct vg_fd *f),
		      void *ctx)
{
	for (const struct fd_ent *e = t->oldest; e; e = e->newer)
		if (fn(ctx, &e->f))
			break;
}
