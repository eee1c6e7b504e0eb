/* test_hold.c - the FIFO of records held for pod metadata. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hold.h"

static void test_fifo_and_cgroups(void **state)
{
	(void)state;
	struct vg_hold *h = vg_hold_new(4, 1 << 20);
	assert_null(vg_hold_head(h));
	assert_false(vg_hold_has(h, 7));
	assert_int_equal(vg_hold_push(h, "a", 2, 7, "aaaaaaaaaaaa", 100), 0);
	assert_int_equal(vg_hold_push(h, "b", 2, 9, "bbbbbbbbbbbb", 200), 0);
	assert_int_equal(vg_hold_push(h, "c", 2, 7, "aaaaaaaaaaaa", 300), 0);
	assert_true(vg_hold_has(h, 7));
	assert_true(vg_hold_has(h, 9));
	assert_false(vg_hold_has(h, 8));
	assert_false(vg_hold_has(h, 0));
	const struct vg_held *e = vg_hold_head(h);
	assert_string_equal(e->rec, "a");
	assert_string_equal(e->container_id, "aaaaaaaaaaaa");
	assert_int_equal(e->deadline_ns, 100);
	vg_hold_pop(h);
	assert_true(vg_hold_has(h, 7)); /* "c" still waits */
	vg_hold_pop(h);
	assert_false(vg_hold_has(h, 9));
	e = vg_hold_head(h);
	assert_string_equal(e->rec, "c");
	vg_hold_pop(h);
	assert_false(vg_hold_has(h, 7));
	assert_int_equal(vg_hold_count(h), 0);
	vg_hold_free(h);
}

static void test_bounds(void **state)
{
	(void)state;
	struct vg_hold *h = vg_hold_new(2, 10);
	assert_int_equal(vg_hold_push(h, "12345678", 8, 1, "x", 0), 0);
	assert_int_equal(vg_hold_push(h, "1234", 4, 2, "y", 0), -1); /* bytes */
	assert_int_equal(vg_hold_push(h, "1", 2, 2, "y", 0), 0);
	assert_int_equal(vg_hold_push(h, "1", 2, 3, "z", 0), -1); /* records */
	vg_hold_pop(h);
	assert_int_equal(vg_hold_push(h, "1", 2, 3, "z", 0), 0);
	assert_int_equal(vg_hold_count(h), 2);
	vg_hold_free(h); /* frees what is left */
}

/* Many cgroups colliding in the table: counts stay exact through
 * backward-shift deletions. */
static void test_many_cgroups(void **state)
{
	(void)state;
	enum { N = 500 };
	struct vg_hold *h = vg_hold_new(N, 1 << 20);
	for (uint64_t i = 0; i < N; i++)
		assert_int_equal(vg_hold_push(h, "r", 2, 1 + (i % 97) * 1024, "c", i), 0);
	for (uint64_t i = 0; i < N; i++) {
		uint64_t cg = 1 + (i % 97) * 1024;
		assert_true(vg_hold_has(h, cg));
		vg_hold_pop(h);
		/* the cgroup is still held exactly when a later record has it */
		bool later = false;
		for (uint64_t j = i + 1; j < N && !later; j++)
			later = (1 + (j % 97) * 1024) == cg;
		assert_int_equal(vg_hold_has(h, cg), later);
	}
	vg_hold_free(h);
}

struct scan {
	uint64_t ready_cg; /* records of this cgroup are ready */
	char seen[16];
	size_t n;
};

static bool ready_cg(void *ctx, const struct vg_held *r)
{
	return r->cgroup_id == ((struct scan *)ctx)->ready_cg;
}

static int note(void *ctx, const struct vg_held *r)
{
	struct scan *s = ctx;
	s->seen[s->n++] = *(const char *)r->rec;
	return 0;
}

/* A release scan goes past a cgroup that stays held, keeps the order within
 * each cgroup, and the head then skips the holes. */
static void test_release_past_held(void **state)
{
	(void)state;
	struct vg_hold *h = vg_hold_new(8, 1 << 20);
	const char *recs = "abcde";
	uint64_t cgs[] = {1, 2, 1, 2, 3};
	for (int i = 0; i < 5; i++)
		assert_int_equal(vg_hold_push(h, recs + i, 1, cgs[i], "c", 0), 0);
	struct scan s = {.ready_cg = 2};
	assert_int_equal(vg_hold_release(h, ready_cg, note, &s), 0);
	assert_int_equal(s.n, 2);
	assert_memory_equal(s.seen, "bd", 2);
	assert_int_equal(vg_hold_count(h), 3);
	assert_false(vg_hold_has(h, 2));
	assert_int_equal(*(const char *)vg_hold_head(h)->rec, 'a');
	vg_hold_pop(h);						    /* a */
	assert_int_equal(*(const char *)vg_hold_head(h)->rec, 'c'); /* b was a hole */
	vg_hold_pop(h);
	assert_int_equal(*(const char *)vg_hold_head(h)->rec, 'e'); /* d was a hole */
	vg_hold_pop(h);
	assert_null(vg_hold_head(h));
	assert_int_equal(vg_hold_count(h), 0);
	/* the ring is reusable after holes wrapped around */
	for (int i = 0; i < 8; i++)
		assert_int_equal(vg_hold_push(h, "z", 1, 5, "c", 0), 0);
	assert_int_equal(vg_hold_push(h, "z", 1, 5, "c", 0), -1);
	vg_hold_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_cgroups),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_many_cgroups),
		cmocka_unit_test(test_release_past_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
