/* The token bucket (k8s/tbucket.c) as both its users drive it: the alert
 * dispatcher's per-rule limits (take, rate 0 = unlimited) and the
 * Kubernetes Events writer's limits (take, wait, full). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tbucket.h"

static void test_take_burst_and_rate(void **state)
{
	(void)state;
	struct vg_tbucket b;
	uint64_t t = 1000000000ull;
	vg_tbucket_init(&b, 10, 3, t);
	assert_true(vg_tbucket_take(&b, t));
	assert_true(vg_tbucket_take(&b, t));
	assert_true(vg_tbucket_take(&b, t));
	assert_false(vg_tbucket_take(&b, t)); /* burst spent */
	assert_false(vg_tbucket_take(&b, t + 50000000ull));
	assert_true(vg_tbucket_take(&b, t + 100000000ull)); /* 10/s: one per 100 ms */
	assert_false(vg_tbucket_take(&b, t + 100000000ull));
	/* a long pause refills up to the burst, not more */
	int n = 0;
	while (vg_tbucket_take(&b, t + 60000000000ull))
		n++;
	assert_int_equal(n, 3);
	vg_tbucket_init(&b, 0, 1, t); /* rate 0: unlimited */
	for (int i = 0; i < 1000; i++)
		assert_true(vg_tbucket_take(&b, t));
	assert_int_equal(vg_tbucket_wait(&b, t), 0);
	assert_true(vg_tbucket_full(&b, t));
}

static void test_wait_and_full(void **state)
{
	(void)state;
	struct vg_tbucket b;
	uint64_t t = 1000000000000ull;
	vg_tbucket_init(&b, 0.5, 3, t);
	assert_true(vg_tbucket_full(&b, t));
	for (int i = 0; i < 3; i++)
		assert_true(vg_tbucket_take(&b, t));
	assert_false(vg_tbucket_take(&b, t));
	/* 0.5/s: the next token in 2 s */
	uint64_t w = vg_tbucket_wait(&b, t);
	assert_true(w >= 1999999999ull && w <= 2000000001ull);
	assert_false(vg_tbucket_take(&b, t + 1900000000ull));
	assert_true(vg_tbucket_take(&b, t + 2000000001ull));
	/* refills to the burst, not beyond */
	assert_true(vg_tbucket_full(&b, t + 100000000000ull));
	int n = 0;
	while (vg_tbucket_take(&b, t + 100000000000ull))
		n++;
	assert_int_equal(n, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_burst_and_rate),
		cmocka_unit_test(test_wait_and_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
