/* The refcounted snapshot publication (agent/base/snapshot.h): generations,
 * the reader keeping its snapshot until it syncs, each snapshot destroyed
 * exactly once and never while held, and a writer thread publishing while
 * a reader syncs and reads (run under ASan too: a snapshot freed while held
 * is a use after free there, and a poisoned value here). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "snapshot.h"

#define NVAL 64

struct tsnap {
	struct vg_snap base;
	uint64_t val[NVAL]; /* every value is the snapshot's number */
};

static _Atomic long made, destroyed;

static void tsnap_destroy(struct vg_snap *b)
{
	struct tsnap *s = (struct tsnap *)b;
	for (size_t i = 0; i < NVAL; i++)
		s->val[i] = UINT64_MAX; /* poison: a reader still using it sees this */
	atomic_fetch_add(&destroyed, 1);
	free(s);
}

static struct tsnap *tsnap_new(uint64_t v)
{
	struct tsnap *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	vg_snap_init(&s->base, tsnap_destroy);
	for (size_t i = 0; i < NVAL; i++)
		s->val[i] = v;
	atomic_fetch_add(&made, 1);
	return s;
}

static int reset(void **state)
{
	(void)state;
	atomic_store(&made, 0);
	atomic_store(&destroyed, 0);
	return 0;
}

static void t_publish_and_sync(void **state)
{
	(void)state;
	struct vg_snap_pub p;
	struct vg_snap_reader r = {0};
	vg_snap_pub_init(&p);

	/* nothing published: nothing to adopt */
	assert_int_equal(vg_snap_generation(&p), 0);
	assert_false(vg_snap_reader_sync(&r, &p));
	assert_null(r.cur);

	struct tsnap *a = tsnap_new(1);
	assert_int_equal(vg_snap_publish(&p, &a->base), 1);
	assert_int_equal(vg_snap_generation(&p), 1);
	assert_int_equal(a->base.gen, 1);
	assert_true(vg_snap_reader_sync(&r, &p));
	assert_ptr_equal(r.cur, &a->base);
	assert_false(vg_snap_reader_sync(&r, &p)); /* the same generation */

	/* a newer one: the reader keeps the old one until it syncs */
	struct tsnap *b = tsnap_new(2);
	assert_int_equal(vg_snap_publish(&p, &b->base), 2);
	assert_int_equal(atomic_load(&destroyed), 0);
	assert_ptr_equal(r.cur, &a->base);
	assert_int_equal(a->val[0], 1);
	assert_true(vg_snap_reader_sync(&r, &p));
	assert_ptr_equal(r.cur, &b->base);
	assert_int_equal(atomic_load(&destroyed), 1); /* a: its last reference went */

	/* two publishes between syncs: the one skipped is freed by the writer */
	struct tsnap *c = tsnap_new(3);
	struct tsnap *d = tsnap_new(4);
	vg_snap_publish(&p, &c->base);
	assert_int_equal(atomic_load(&destroyed), 1); /* b is still held */
	vg_snap_publish(&p, &d->base);
	assert_int_equal(atomic_load(&destroyed), 2); /* c: nobody held it */
	assert_true(vg_snap_reader_sync(&r, &p));
	assert_int_equal(r.gen, 4);
	assert_int_equal(((struct tsnap *)r.cur)->val[NVAL - 1], 4);
	assert_int_equal(atomic_load(&destroyed), 3); /* b */

	/* the end: the publisher's and the reader's reference on d */
	vg_snap_pub_destroy(&p);
	assert_int_equal(atomic_load(&destroyed), 3);
	vg_snap_reader_drop(&r);
	assert_null(r.cur);
	assert_int_equal(atomic_load(&destroyed), 4);
	assert_int_equal(atomic_load(&made), 4);
	vg_snap_unref(NULL); /* fine */
}

#define NPUB 20000

struct race {
	struct vg_snap_pub p;
	_Atomic bool done;
};

static void *writer(void *arg)
{
	struct race *x = arg;
	for (uint64_t i = 1; i <= NPUB; i++)
		vg_snap_publish(&x->p, &tsnap_new(i)->base);
	atomic_store(&x->done, true);
	return NULL;
}

static void t_writer_and_reader(void **state)
{
	(void)state;
	struct race x;
	vg_snap_pub_init(&x.p);
	atomic_init(&x.done, false);
	struct vg_snap_reader r = {0};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, writer, &x), 0);
	uint64_t last = 0, adopted = 0;
	for (;;) {
		bool done = atomic_load(&x.done);
		if (vg_snap_reader_sync(&r, &x.p))
			adopted++;
		if (r.cur) {
			const struct tsnap *s = (const struct tsnap *)r.cur;
			/* generations only go up, and the snapshot is whole and alive */
			assert_true(r.gen >= last);
			assert_int_equal(s->base.gen, r.gen);
			for (size_t i = 0; i < NVAL; i++)
				assert_int_equal(s->val[i], r.gen);
			last = r.gen;
		}
		if (done && r.gen == NPUB)
			break;
	}
	pthread_join(t, NULL);
	assert_true(adopted >= 1);
	assert_int_equal(atomic_load(&made), NPUB);
	/* all but the last one are gone: nothing leaked, nothing freed twice */
	assert_int_equal(atomic_load(&destroyed), NPUB - 1);
	vg_snap_reader_drop(&r);
	assert_int_equal(atomic_load(&destroyed), NPUB - 1);
	vg_snap_pub_destroy(&x.p);
	assert_int_equal(atomic_load(&destroyed), NPUB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_publish_and_sync, reset),
		cmocka_unit_test_setup(t_writer_and_reader, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
