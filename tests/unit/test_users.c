/* uid/gid resolution against a fake etc tree (tests/data/etc) and reloads. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "users.h"

static void test_lookups(void **state)
{
	(void)state;
	struct vg_users *u = vg_users_new("tests/data/etc");
	assert_non_null(u);
	assert_string_equal(vg_users_user(u, 0), "root");
	assert_string_equal(vg_users_home(u, 0), "/root");
	assert_string_equal(vg_users_shell(u, 0), "/bin/bash");
	assert_string_equal(vg_users_user(u, 1), "daemon");
	assert_string_equal(vg_users_shell(u, 1), "/usr/sbin/nologin");
	assert_string_equal(vg_users_user(u, 1000), "alice");
	assert_string_equal(vg_users_home(u, 1000), "/home/alice");
	assert_string_equal(vg_users_shell(u, 1000), "/bin/zsh");
	assert_string_equal(vg_users_user(u, 65534), "nobody");
	assert_string_equal(vg_users_user(u, 4294967294u), "big");
	assert_string_equal(vg_users_shell(u, 4294967294u), "");
	assert_string_equal(vg_users_user(u, 2000), "nohome");
	assert_string_equal(vg_users_home(u, 2000), "");

	assert_string_equal(vg_users_group(u, 0), "root");
	assert_string_equal(vg_users_group(u, 999), "docker");
	assert_string_equal(vg_users_group(u, 1000), "alice"); /* first line wins */
	assert_string_equal(vg_users_group(u, 65534), "nogroup");
	vg_users_free(u);
}

static void test_unknown_and_malformed(void **state)
{
	(void)state;
	struct vg_users *u = vg_users_new("tests/data/etc");
	assert_non_null(u);
	/* unknown ids give "" (never NULL) */
	assert_string_equal(vg_users_user(u, 4242), "");
	assert_string_equal(vg_users_home(u, 4242), "");
	assert_string_equal(vg_users_shell(u, 4242), "");
	assert_string_equal(vg_users_group(u, 4242), "");
	/* malformed lines are skipped: short line (uid 5), non-numeric uid,
	 * uid beyond 32 bits must not wrap to 0 */
	assert_string_equal(vg_users_user(u, 5), "");
	assert_string_equal(vg_users_user(u, 7000), ""); /* 4294974296 must not wrap */
	assert_string_equal(vg_users_user(u, 12), "");	 /* "12abc" */
	/* a NIS marker line is not a user with uid 0 or empty name */
	assert_string_equal(vg_users_group(u, 4294967295u), "");
	vg_users_free(u);
}

static void test_missing_files(void **state)
{
	(void)state;
	struct vg_users *u = vg_users_new("tests/data/does-not-exist");
	assert_non_null(u);
	assert_string_equal(vg_users_user(u, 0), "");
	assert_string_equal(vg_users_group(u, 0), "");
	vg_users_free(u);
	vg_users_free(NULL);
}

static void write_file(const char *dir, const char *name, const char *text, time_t mtime)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

struct tmp {
	char dir[64];
};

static void rm_tmp(struct tmp *t)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/passwd", t->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/group", t->dir);
	unlink(path);
	rmdir(t->dir);
}

static void test_refresh(void **state)
{
	(void)state;
	struct tmp t;
	strcpy(t.dir, "/tmp/vigil-users-XXXXXX");
	assert_non_null(mkdtemp(t.dir));
	write_file(t.dir, "passwd", "bob:x:1001:1001::/home/bob:/bin/sh\n", 1000000);
	write_file(t.dir, "group", "bob:x:1001:\n", 1000000);

	struct vg_users *u = vg_users_new(t.dir);
	assert_string_equal(vg_users_user(u, 1001), "bob");
	assert_int_equal(vg_users_refresh(u), 0); /* nothing changed */

	/* same size, only mtime differs: still noticed */
	write_file(t.dir, "passwd", "rob:x:1001:1001::/home/rob:/bin/sh\n", 1000001);
	assert_int_equal(vg_users_refresh(u), 1);
	assert_string_equal(vg_users_user(u, 1001), "rob");
	assert_string_equal(vg_users_home(u, 1001), "/home/rob");
	assert_string_equal(vg_users_group(u, 1001), "bob");

	write_file(t.dir, "group", "bobs:x:1001:\nnew:x:1002:\n", 1000002);
	assert_int_equal(vg_users_refresh(u), 1);
	assert_string_equal(vg_users_group(u, 1002), "new");

	/* a removed file resolves nothing */
	char path[128];
	snprintf(path, sizeof(path), "%s/group", t.dir);
	unlink(path);
	assert_int_equal(vg_users_refresh(u), 1);
	assert_string_equal(vg_users_group(u, 1001), "");
	assert_string_equal(vg_users_user(u, 1001), "rob");

	vg_users_free(u);
	rm_tmp(&t);
}

/* Without an explicit refresh, a change is seen within about a second, and
 * not before (lookups stay cheap). */
static void test_auto_reload(void **state)
{
	(void)state;
	struct tmp t;
	strcpy(t.dir, "/tmp/vigil-users-XXXXXX");
	assert_non_null(mkdtemp(t.dir));
	write_file(t.dir, "passwd", "carol:x:3000:3000::/home/carol:/bin/sh\n", 2000000);
	write_file(t.dir, "group", "", 2000000);

	struct vg_users *u = vg_users_new(t.dir);
	assert_string_equal(vg_users_user(u, 3000), "carol");
	write_file(t.dir, "passwd", "dave:x:3000:3000::/home/dave:/bin/sh\n", 2000001);
	assert_string_equal(vg_users_user(u, 3000), "carol"); /* within the interval */
	struct timespec ts = {1, 200000000};
	nanosleep(&ts, NULL);
	assert_string_equal(vg_users_user(u, 3000), "dave");

	vg_users_free(u);
	rm_tmp(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),	      cmocka_unit_test(test_unknown_and_malformed),
		cmocka_unit_test(test_missing_files), cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_auto_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
