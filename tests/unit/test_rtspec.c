/* The runtime spec parser (agent/runtime/rtspec.c) on containerd-, CRI-O-
 * and runc-shaped config.json fixtures (tests/data/runtime/), runc's
 * state.json, and hostile input: wrong types, missing keys, truncated,
 * deeply nested, NUL bytes, too many mounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rtspec.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return b;
}

static int parse_file(const char *name, struct vg_rtinfo *ri, char *err, size_t errlen)
{
	char path[256];
	snprintf(path, sizeof(path), "tests/data/runtime/%s", name);
	size_t len;
	char *b = slurp(path, &len);
	int r = vg_rtspec_parse_config(b, len, ri, err, errlen);
	free(b);
	return r;
}

static void test_containerd_privileged(void **unused)
{
	(void)unused;
	struct vg_rtinfo ri;
	char err[200];
	assert_int_equal(parse_file("containerd_privileged.json", &ri, err, sizeof(err)), 0);
	assert_string_equal(ri.warn, "");
	assert_string_equal(ri.pod_name, "debug-node-7x2kq");
	assert_string_equal(ri.pod_ns, "ops");
	assert_string_equal(ri.pod_uid, "3f9c1a52-0b7e-4d8e-9a51-2f6c7d8e9a10");
	assert_string_equal(ri.name, "debug");
	assert_string_equal(ri.image, "docker.io/library/busybox:1.36");
	assert_string_equal(ri.image_repo, "docker.io/library/busybox");
	assert_string_equal(ri.image_tag, "1.36");
	assert_string_equal(ri.type, "containerd");
	assert_false(ri.sandbox);
	/* CAP_SYS_ADMIN, no masked or read-only paths */
	assert_int_equal(ri.privileged, 1);
	assert_string_equal(ri.user, "0");
	/* bind mounts only: proc and tmpfs are the runtime's own */
	assert_true(ri.mounts_known);
	assert_int_equal(ri.nmounts, 3);
	assert_string_equal(ri.mounts[0].source, "/proc");
	assert_string_equal(ri.mounts[0].dest, "/host/proc");
	assert_string_equal(ri.mounts[0].mode, "ro");
	assert_false(ri.mounts[0].rw);
	assert_string_equal(ri.mounts[0].propagation, "rprivate");
	assert_string_equal(ri.mounts[1].source, "/run/containerd/containerd.sock");
	assert_true(ri.mounts[1].rw);
	assert_string_equal(ri.mounts[1].mode, "");
	assert_string_equal(ri.mounts[2].propagation, "rshared");
	vg_rtinfo_free(&ri);
}

static void test_crio_plain(void **unused)
{
	(void)unused;
	struct vg_rtinfo ri;
	char err[200];
	assert_int_equal(parse_file("crio_plain.json", &ri, err, sizeof(err)), 0);
	assert_string_equal(ri.warn, "");
	assert_string_equal(ri.type, "cri-o");
	/* from the Labels JSON string; the ContainerName annotation is the
	 * runtime's k8s_... name, not the container's */
	assert_string_equal(ri.name, "web");
	assert_string_equal(ri.pod_name, "web-6c9f7-abcde");
	assert_string_equal(ri.pod_ns, "shop");
	assert_string_equal(ri.pod_uid, "7b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
	assert_string_equal(ri.image, "quay.io/acme/web:2.1");
	assert_string_equal(ri.image_repo, "quay.io/acme/web");
	assert_string_equal(ri.image_tag, "2.1");
	assert_int_equal(ri.privileged, 0);
	assert_string_equal(ri.user, "1000");
	assert_int_equal(ri.nmounts, 2);
	assert_string_equal(ri.mounts[1].dest, "/var/run/secrets/kubernetes.io/serviceaccount");
	assert_string_equal(ri.mounts[1].mode, "ro");
	assert_string_equal(ri.mounts[1].propagation, "rprivate");
	vg_rtinfo_free(&ri);
}

static void test_runc_plain(void **unused)
{
	(void)unused;
	struct vg_rtinfo ri;
	char err[200];
	assert_int_equal(parse_file("runc_plain.json", &ri, err, sizeof(err)), 0);
	assert_string_equal(ri.type, "runc");
	assert_null(ri.pod_name);
	assert_null(ri.name);
	assert_null(ri.image);
	assert_int_equal(ri.privileged, 0);
	/* no bind mount: known and empty (mount.dest[...] answers N/A) */
	assert_true(ri.mounts_known);
	assert_int_equal(ri.nmounts, 0);
	vg_rtinfo_free(&ri);
}

static void test_missing_keys(void **unused)
{
	(void)unused;
	struct vg_rtinfo ri;
	char err[200];
	/* {}: nothing known but the (absent, so empty) mount list; no
	 * "linux": privileged unknown */
	assert_int_equal(parse_file("empty_object.json", &ri, err, sizeof(err)), 0);
	assert_int_equal(ri.privileged, -1);
	assert_null(ri.user);
	assert_null(ri.pod_name);
	assert_true(ri.mounts_known);
	vg_rtinfo_free(&ri);
}

static void test_wrong_types(void **unused)
{
	(void)unused;
	struct vg_rtinfo ri;
	char err[200];
	assert_int_equal(parse_file("wrong_types.json", &ri, err, sizeof(err)), 0);
	/* every member of the wrong type is unknown, never a guess */
	assert_null(ri.pod_name);
	assert_string_equal(ri.pod_ns, "ns1"); /* its neighbour is fine */
	assert_null(ri.user);
	assert_int_equal(ri.privileged, -1);
	/* one bad mount makes the list unknown: a missing /etc mount must not
	 * read as "not mounted" */
	assert_false(ri.mounts_known);
	/* the first problem is named with its path */
	assert_string_equal(ri.warn,
			    "annotations.io.kubernetes.cri.sandbox-name: expected a string");
	vg_rtinfo_free(&ri);
}

static void test_not_json(void **unused)
{
	(void)unused;
	struct vg_rtinfo ri;
	char err[200];
	assert_int_equal(parse_file("truncated.json", &ri, err, sizeof(err)), -1);
	/* LINE:COL of where parsing stopped */
	assert_string_equal(err, "4:42: not valid JSON (or nested too deeply)");
	assert_int_equal(vg_rtspec_parse_config("[1,2]", 5, &ri, err, sizeof(err)), -1);
	assert_string_equal(err, "1:1: expected a JSON object");
	assert_int_equal(vg_rtspec_parse_config("{\"a\":1}\0{", 9, &ri, err, sizeof(err)), -1);
	assert_string_equal(err, "1:8: not valid JSON (or nested too deeply)");
	assert_int_equal(vg_rtspec_parse_config("", 0, &ri, err, sizeof(err)), -1);
	vg_rtinfo_free(&ri);
}

static void test_deeply_nested(void **unused)
{
	(void)unused;
	/* 100000 levels: refused at cJSON's nesting limit, not a stack
	 * overflow */
	size_t depth = 100000, len = 2 * depth + 16;
	char *b = malloc(len);
	size_t n = 0;
	n += (size_t)sprintf(b, "{\"mounts\":");
	for (size_t i = 0; i < depth; i++)
		b[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		b[n++] = ']';
	b[n++] = '}';
	struct vg_rtinfo ri;
	char err[200];
	assert_int_equal(vg_rtspec_parse_config(b, n, &ri, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nested too deeply"));
	free(b);
}

static void test_too_many_mounts(void **unused)
{
	(void)unused;
	size_t cap = 400 * 120 + 64, n = 0;
	char *b = malloc(cap);
	n += (size_t)sprintf(b, "{\"mounts\":[");
	for (int i = 0; i < 400; i++)
		n += (size_t)sprintf(
			b + n, "%s{\"destination\":\"/d%d\",\"source\":\"/s%d\",\"type\":\"bind\"}",
			i ? "," : "", i, i);
	n += (size_t)sprintf(b + n, "]}");
	struct vg_rtinfo ri;
	char err[200];
	assert_int_equal(vg_rtspec_parse_config(b, n, &ri, err, sizeof(err)), 0);
	assert_int_equal(ri.nmounts, VG_RTSPEC_MAX_MOUNTS);
	assert_int_equal(ri.nmounts_dropped, 400 - VG_RTSPEC_MAX_MOUNTS);
	assert_true(ri.mounts_known);
	vg_rtinfo_free(&ri);
	free(b);
}

static void test_sandbox(void **unused)
{
	(void)unused;
	static const char j[] =
		"{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
		"\"io.kubernetes.cri-o.KubeName\":\"web-1\","
		"\"io.kubernetes.cri-o.Namespace\":\"shop\","
		"\"io.kubernetes.container.name\":\"POD\"},\"linux\":{}}";
	struct vg_rtinfo ri;
	char err[200];
	assert_int_equal(vg_rtspec_parse_config(j, sizeof(j) - 1, &ri, err, sizeof(err)), 0);
	assert_true(ri.sandbox);
	assert_string_equal(ri.pod_name, "web-1");
	assert_string_equal(ri.pod_ns, "shop");
	assert_null(ri.name); /* "POD" is not a container of the pod */
	assert_int_equal(ri.privileged, 0);
	vg_rtinfo_free(&ri);
}

static void test_pod_uid_from_cgroup(void **unused)
{
	(void)unused;
	/* no annotation, but the kubelet's cgroup (systemd driver) */
	static const char j[] =
		"{\"linux\":{\"cgroupsPath\":\"kubepods-besteffort-pod7b1e2c3d_4e5f_4a6b_8c7d_"
		"9e0f1a2b3c4d.slice:cri-containerd:abc\"}}";
	struct vg_rtinfo ri;
	char err[200];
	assert_int_equal(vg_rtspec_parse_config(j, sizeof(j) - 1, &ri, err, sizeof(err)), 0);
	assert_string_equal(ri.pod_uid, "7b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
	assert_null(ri.pod_name);
	vg_rtinfo_free(&ri);
	/* outside kubepods: none */
	static const char k[] = "{\"linux\":{\"cgroupsPath\":\"/system.slice/x/abc\"}}";
	assert_int_equal(vg_rtspec_parse_config(k, sizeof(k) - 1, &ri, err, sizeof(err)), 0);
	assert_null(ri.pod_uid);
	vg_rtinfo_free(&ri);
}

static void test_state(void **unused)
{
	(void)unused;
	static const char ok[] =
		"{\"id\":\"x\",\"config\":{\"labels\":[\"io.kubernetes.cri.sandbox-name=x\","
		"\"bundle=/run/b/1\"],\"cgroups\":{\"path\":\"/kubepods/pod1/abc\"}}}";
	char *bundle, *cg, err[200];
	assert_int_equal(vg_rtspec_parse_state(ok, sizeof(ok) - 1, &bundle, &cg, err, sizeof(err)),
			 0);
	assert_string_equal(bundle, "/run/b/1");
	assert_string_equal(cg, "/kubepods/pod1/abc");
	free(bundle);
	free(cg);
	/* a relative bundle, wrong types, no labels: refused, named */
	static const char rel[] = "{\"config\":{\"labels\":[\"bundle=b/1\"],\"cgroups\":7}}";
	assert_int_equal(
		vg_rtspec_parse_state(rel, sizeof(rel) - 1, &bundle, &cg, err, sizeof(err)), -1);
	assert_null(bundle);
	assert_null(cg);
	assert_string_equal(err, "1:1: config.labels has no \"bundle=/...\" entry");
	static const char bad[] = "{\"config\":{\"labels\":{\"bundle\":\"/x\"}}}";
	assert_int_equal(
		vg_rtspec_parse_state(bad, sizeof(bad) - 1, &bundle, &cg, err, sizeof(err)), -1);
	assert_int_equal(vg_rtspec_parse_state("{", 1, &bundle, &cg, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containerd_privileged),
		cmocka_unit_test(test_crio_plain),
		cmocka_unit_test(test_runc_plain),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_deeply_nested),
		cmocka_unit_test(test_too_many_mounts),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_pod_uid_from_cgroup),
		cmocka_unit_test(test_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
