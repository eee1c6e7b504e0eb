/* The logger (agent/base/log.c) when stderr is a pipe nobody reads: a line
 * waits at most ~100 ms for room, is dropped and counted, and the next
 * ones are dropped at once until a line gets through again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static void test_full_pipe(void **unused)
{
	(void)unused;
	int p[2];
	assert_int_equal(pipe(p), 0);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	int saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
	close(p[1]);

	vg_log(VG_LOG_ERROR, "first");
	char buf[8192];
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = 0;
	assert_non_null(strstr(buf, " vigil error: first\n"));
	assert_int_equal(vg_log_dropped(), 0);

	/* fill the pipe, then log with nobody reading */
	int fl = fcntl(STDERR_FILENO, F_GETFL);
	fcntl(STDERR_FILENO, F_SETFL, fl | O_NONBLOCK);
	while (write(STDERR_FILENO, "x", 1) == 1)
		;
	assert_int_equal(errno, EAGAIN);
	fcntl(STDERR_FILENO, F_SETFL, fl);
	uint64_t t0 = vg_now_mono_ns();
	vg_log(VG_LOG_ERROR, "lost one");
	uint64_t waited = vg_now_mono_ns() - t0;
	if (waited < 50000000ull || waited > 1000000000ull)
		fail_msg("the first line on a full pipe waited %llu ms",
			 (unsigned long long)(waited / 1000000));
	assert_int_equal(vg_log_dropped(), 1);
	/* stalled: the next lines do not wait */
	t0 = vg_now_mono_ns();
	for (int i = 0; i < 100; i++)
		vg_log(VG_LOG_ERROR, "lost more %d", i);
	waited = vg_now_mono_ns() - t0;
	if (waited > 50000000ull)
		fail_msg("100 lines on a stalled pipe took %llu ms",
			 (unsigned long long)(waited / 1000000));
	assert_int_equal(vg_log_dropped(), 101);

	/* room again: lines get through, whole */
	while (read(p[0], buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		;
	vg_log(VG_LOG_ERROR, "back");
	n = read(p[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = 0;
	assert_non_null(strstr(buf, " vigil error: back\n"));
	assert_int_equal(vg_log_dropped(), 101);

	dup2(saved, STDERR_FILENO);
	close(saved);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_pipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
