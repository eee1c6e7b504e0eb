/* The agent's combined container metadata (agent/run/cmeta.c): readiness
 * for held records with and without the API, the merge of both sources,
 * and disagreements counted once per container and member.  The runtime
 * side is the real worker over a containerd tree (a pod container) and a
 * runc tree (a container of no pod) built from tests/data/runtime/. */
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

#include "cmeta.h"

#define POD_ID "c0ffee00c0ffee11c0ffee22c0ffee33c0ffee44c0ffee55c0ffee66c0ffee77"
#define LONE_ID "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef"

static char dir[64], croot[128], rroot[128];

static void copy(const char *fixture, const char *to_dir)
{
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp tests/data/runtime/%s '%s/config.json'",
		 to_dir, fixture, to_dir);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **unused)
{
	(void)unused;
	snprintf(dir, sizeof(dir), "/tmp/vigil-cmeta-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(croot, sizeof(croot), "%s/containerd", dir);
	snprintf(rroot, sizeof(rroot), "%s/runc", dir);
	char d[256];
	snprintf(d, sizeof(d), "%s/k8s.io/%s", croot, POD_ID);
	copy("containerd_privileged.json", d);
	snprintf(d, sizeof(d), "%s/bundle", dir);
	copy("runc_plain.json", d);
	snprintf(d, sizeof(d), "%s/%s", rroot, LONE_ID);
	assert_int_equal(mkdir(rroot, 0755), 0);
	assert_int_equal(mkdir(d, 0755), 0);
	char path[300];
	snprintf(path, sizeof(path), "%s/state.json", d);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"config\":{\"labels\":[\"bundle=%s/bundle\"]}}", dir);
	fclose(f);
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct vg_rtmeta *runtime(void)
{
	static const char *cd[1], *rc[1];
	cd[0] = croot;
	rc[0] = rroot;
	struct vg_rtmeta_opts o = {
		.containerd_roots = cd, .ncontainerd = 1, .runc_roots = rc, .nrunc = 1};
	struct vg_rtmeta *m = vg_rtmeta_new(&o);
	assert_int_equal(vg_rtmeta_start(m), 0);
	return m;
}

/* the API's side: knows the pod container once `api_knows`, says it is not
 * privileged and names another image; its generation is api_gen */
static bool api_knows;
static uint64_t api_gen = 1;
static const struct vg_container_meta api_meta = {
	.name = "debug",
	.image = "busybox:1.36",
	.privileged = 0,
	.pod_name = "debug-node-7x2kq",
	.ns_name = "ops",
	.pod_uid = "3f9c1a52-0b7e-4d8e-9a51-2f6c7d8e9a10",
};

static const struct vg_container_meta *api_lookup(void *ctx, const char *id)
{
	(void)ctx;
	return api_knows && !strcmp(id, "c0ffee00c0ff") ? &api_meta : NULL;
}

static uint64_t api_generation(void *ctx)
{
	(void)ctx;
	return api_gen;
}

static void settle(struct vg_cmeta *c, const char *id)
{
	for (int i = 0; i < 300; i++) {
		vg_cmeta_sync(c);
		vg_cmeta_lookup(c, id);
		if (vg_cmeta_ready(c, id) || i == 299)
			return;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
}

static void test_without_api(void **unused)
{
	(void)unused;
	struct vg_cmeta *c = vg_cmeta_new();
	struct vg_rtmeta *rt = runtime();
	vg_cmeta_set_runtime(c, rt);
	vg_cmeta_sync(c);
	/* not asked yet: pending, not ready */
	assert_false(vg_cmeta_ready(c, "c0ffee00c0ff"));
	uint64_t g = vg_cmeta_generation(c);
	settle(c, "c0ffee00c0ff");
	assert_true(vg_cmeta_ready(c, "c0ffee00c0ff"));
	assert_true(vg_cmeta_generation(c) > g);
	const struct vg_container_meta *m = vg_cmeta_lookup(c, "c0ffee00c0ff");
	assert_non_null(m);
	assert_string_equal(m->pod_name, "debug-node-7x2kq");
	assert_int_equal(m->privileged, 1);
	vg_cmeta_free(c); /* the runtime it was given is the caller's */
	vg_rtmeta_free(rt);
}

static void test_with_api(void **unused)
{
	(void)unused;
	struct vg_cmeta *c = vg_cmeta_new();
	struct vg_rtmeta *rt = runtime();
	vg_cmeta_set_runtime(c, rt);
	struct vg_cmeta_api api = {.lookup = api_lookup, .generation = api_generation};
	vg_cmeta_set_api(c, &api);
	api_knows = false;
	/* a pod's container the API does not list yet: the runtime's answer
	 * does not release it (the scopes need the API's labels) */
	settle(c, "c0ffee00c0ff");
	vg_cmeta_sync(c);
	assert_non_null(vg_cmeta_lookup(c, "c0ffee00c0ff"));
	assert_false(vg_cmeta_ready(c, "c0ffee00c0ff"));
	/* a container of no pod: ready as soon as the runtime found it */
	settle(c, "0123456789ab");
	assert_true(vg_cmeta_ready(c, "0123456789ab"));
	assert_null(vg_cmeta_lookup(c, "0123456789ab")->pod_name);

	/* the API lists it: merged, the disagreement counted once */
	api_knows = true;
	assert_true(vg_cmeta_ready(c, "c0ffee00c0ff"));
	const struct vg_container_meta *m = vg_cmeta_lookup(c, "c0ffee00c0ff");
	assert_int_equal(m->privileged, 1);	       /* the runtime's */
	assert_string_equal(m->image, "busybox:1.36"); /* the API's */
	assert_non_null(m->mounts);
	for (int i = 0; i < 3; i++) {
		api_gen++; /* a new API snapshot: merged again, not recounted */
		vg_cmeta_sync(c);
		assert_ptr_equal(vg_cmeta_lookup(c, "c0ffee00c0ff")->mounts, m->mounts);
	}
	uint64_t d[VG_RTMERGE_NFIELDS];
	vg_cmeta_disagreements(c, d);
	assert_int_equal(d[2], 1); /* privileged */
	assert_int_equal(d[0] + d[1] + d[3], 0);
	vg_cmeta_free(c);
	vg_rtmeta_free(rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_without_api),
		cmocka_unit_test(test_with_api),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
