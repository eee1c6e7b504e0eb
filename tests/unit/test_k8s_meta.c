/* k8smeta pure parts: container ids from Pod status, image references
 * split into repository, tag and digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k8smeta.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_container_id(void **state)
{
	(void)state;
	char out[VG_CONTAINER_ID_LEN];
	assert_int_equal(vg_k8smeta_container_id("containerd://" HEX64, out), 0);
	assert_string_equal(out, "0123456789ab");
	assert_int_equal(vg_k8smeta_container_id("cri-o://" HEX64, out), 0);
	assert_string_equal(out, "0123456789ab");
	assert_int_equal(vg_k8smeta_container_id("docker://ABCDEF0123456789" HEX64, out), 0);
	assert_string_equal(out, "abcdef012345");
	assert_int_equal(vg_k8smeta_container_id(HEX64, out), 0);
	assert_string_equal(out, "0123456789ab");
	assert_int_equal(vg_k8smeta_container_id(NULL, out), -1);
	assert_int_equal(vg_k8smeta_container_id("", out), -1);
	assert_string_equal(out, "");
	assert_int_equal(vg_k8smeta_container_id("containerd://", out), -1);
	assert_int_equal(vg_k8smeta_container_id("containerd://0123456789a", out), -1);
	assert_int_equal(vg_k8smeta_container_id("containerd://0123456789xyz0123", out), -1);
}

struct img {
	const char *in, *repo, *tag, *digest;
};

static void test_image_split(void **state)
{
	(void)state;
	const struct img cases[] = {
		{"nginx", "nginx", "", ""},
		{"nginx:1.25", "nginx", "1.25", ""},
		{"docker.io/library/nginx:1.25", "docker.io/library/nginx", "1.25", ""},
		{"registry.local:5000/team/app", "registry.local:5000/team/app", "", ""},
		{"registry.local:5000/team/app:v2", "registry.local:5000/team/app", "v2", ""},
		{"localhost:5000/app:latest", "localhost:5000/app", "latest", ""},
		{"app@sha256:abcd", "app", "", "sha256:abcd"},
		{"reg:443/a/b:1.0@sha256:ef01", "reg:443/a/b", "1.0", "sha256:ef01"},
		{"[fd00::1]:5000/app:3", "[fd00::1]:5000/app", "3", ""},
		{"", "", "", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r, *t, *d;
		vg_k8smeta_image_split(cases[i].in, &r, &t, &d);
		if (strcmp(r, cases[i].repo) || strcmp(t, cases[i].tag) ||
		    strcmp(d, cases[i].digest))
			fail_msg("%s: got %s | %s | %s", cases[i].in, r, t, d);
		free(r);
		free(t);
		free(d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_id),
		cmocka_unit_test(test_image_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
