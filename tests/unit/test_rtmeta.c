/* Finding a container's runtime files (containerd, CRI-O and runc layouts
 * built in a temporary directory from tests/data/runtime/), hostile files
 * (too large, a FIFO, a symlink), the worker's cache seen from the capture
 * thread (pending, found, absent, the cap), and the API/runtime merge. */
#include <errno.h>
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

#include "rtmeta.h"

#define CTRD_ID "c0ffee00c0ffee11c0ffee22c0ffee33c0ffee44c0ffee55c0ffee66c0ffee77"
#define CRIO_ID "feedface00feedface11feedface22feedface33feedface44feedface55feed"
#define RUNC_ID "0123456789ab0123456789ab0123456789ab0123456789ab0123456789abcdef"
#define NSRUNC_ID "abcdefabcdef0000111122223333444455556666777788889999aaaabbbbcccc"

static char dir[256];

static void mkdirs(const char *path)
{
	char b[512];
	snprintf(b, sizeof(b), "%s", path);
	for (char *p = b + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(b, 0755);
			*p = '/';
		}
	mkdir(b, 0755);
}

static void put(const char *path, const char *text, size_t len)
{
	char d[512];
	snprintf(d, sizeof(d), "%s", path);
	*strrchr(d, '/') = 0;
	mkdirs(d);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void copy(const char *fixture, const char *to)
{
	char src[256];
	snprintf(src, sizeof(src), "tests/data/runtime/%s", fixture);
	FILE *f = fopen(src, "rb");
	assert_non_null(f);
	char b[16384];
	size_t n = fread(b, 1, sizeof(b), f);
	fclose(f);
	put(to, b, n);
}

static char *P(const char *fmt, ...)
{
	static char bufs[8][512];
	static int k;
	char *b = bufs[k++ % 8];
	int n = snprintf(b, 512, "%s/", dir);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b + n, 512 - (size_t)n, fmt, ap);
	va_end(ap);
	return b;
}

static int setup(void **unused)
{
	(void)unused;
	snprintf(dir, sizeof(dir), "/tmp/vigil-rtmeta-XXXXXX");
	assert_non_null(mkdtemp(dir));
	copy("containerd_privileged.json", P("containerd/k8s.io/%s/config.json", CTRD_ID));
	mkdirs(P("containerd/moby"));
	copy("crio_plain.json", P("crio/%s/userdata/config.json", CRIO_ID));
	/* runc: named freely (found through the cgroup path in its state)
	 * and by id one namespace level down (containerd's runc root) */
	copy("runc_plain.json", P("bundle1/config.json"));
	char st[1024];
	int n = snprintf(st, sizeof(st),
			 "{\"id\":\"my-box\",\"config\":{\"labels\":[\"bundle=%s/bundle1\"],"
			 "\"cgroups\":{\"path\":\"/kubepods/besteffort/pod1/%s\"}}}",
			 dir, RUNC_ID);
	put(P("runc/my-box/state.json"), st, (size_t)n);
	copy("containerd_privileged.json", P("bundle2/config.json"));
	n = snprintf(st, sizeof(st), "{\"config\":{\"labels\":[\"bundle=%s/bundle2\"]}}", dir);
	put(P("runc2/k8s.io/%s/state.json", NSRUNC_ID), st, (size_t)n);
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char r_ctrd[300], r_crio[300], r_runc[300], r_runc2[300];
static const char *cd[1] = {r_ctrd}, *cr[1] = {r_crio}, *rc[2] = {r_runc, r_runc2};

static struct vg_rtmeta_opts opts(void)
{
	snprintf(r_ctrd, sizeof(r_ctrd), "%s/containerd", dir);
	snprintf(r_crio, sizeof(r_crio), "%s/crio", dir);
	snprintf(r_runc, sizeof(r_runc), "%s/runc", dir);
	snprintf(r_runc2, sizeof(r_runc2), "%s/runc2", dir);
	return (struct vg_rtmeta_opts){
		.containerd_roots = cd,
		.ncontainerd = 1,
		.crio_roots = cr,
		.ncrio = 1,
		.runc_roots = rc,
		.nrunc = 2,
		.max_file_bytes = 65536,
	};
}

static int resolve(const struct vg_rtmeta_opts *o, const char *id, struct vg_rtinfo *ri, char *err)
{
	char *full, *path;
	int r = vg_rtmeta_resolve(o, id, ri, &full, &path, err, 512);
	if (r == 1) {
		assert_non_null(full);
		assert_non_null(path);
	}
	free(full);
	free(path);
	return r;
}

static void test_layouts(void **unused)
{
	(void)unused;
	struct vg_rtmeta_opts o = opts();
	struct vg_rtinfo ri;
	char err[512];
	char *full, *path;
	assert_int_equal(vg_rtmeta_resolve(&o, "c0ffee00c0ff", &ri, &full, &path, err, 512), 1);
	assert_string_equal(full, CTRD_ID);
	assert_string_equal(path, P("containerd/k8s.io/%s/config.json", CTRD_ID));
	assert_string_equal(ri.type, "containerd");
	assert_string_equal(ri.pod_name, "debug-node-7x2kq");
	assert_int_equal(ri.privileged, 1);
	free(full);
	free(path);
	vg_rtinfo_free(&ri);

	assert_int_equal(resolve(&o, "feedface00fe", &ri, err), 1);
	assert_string_equal(ri.type, "cri-o");
	assert_string_equal(ri.pod_ns, "shop");
	vg_rtinfo_free(&ri);

	/* runc, by the cgroup path of a state.json named "my-box"; the full
	 * id is the cgroup's */
	assert_int_equal(vg_rtmeta_resolve(&o, "0123456789ab", &ri, &full, &path, err, 512), 1);
	assert_string_equal(full, RUNC_ID);
	assert_string_equal(path, P("bundle1/config.json"));
	free(full);
	free(path);
	assert_string_equal(ri.type, "runc");
	assert_int_equal(ri.privileged, 0);
	assert_null(ri.pod_name);
	vg_rtinfo_free(&ri);

	/* runc, <root>/<namespace>/<id>/state.json */
	assert_int_equal(resolve(&o, "abcdefabcdef", &ri, err), 1);
	assert_string_equal(ri.type, "runc");
	assert_string_equal(ri.pod_ns, "ops");
	vg_rtinfo_free(&ri);

	/* nothing for it, and not an id at all */
	assert_int_equal(resolve(&o, "999999999999", &ri, err), 0);
	assert_int_equal(resolve(&o, "host", &ri, err), 0);
	/* roots that do not exist are no error */
	struct vg_rtmeta_opts none = {.containerd_roots = (const char *[]){"/nonexistent/x"},
				      .ncontainerd = 1,
				      .max_file_bytes = 1000};
	assert_int_equal(resolve(&none, "c0ffee00c0ff", &ri, err), 0);
}

static void test_hostile_files(void **unused)
{
	(void)unused;
	struct vg_rtmeta_opts o = opts();
	struct vg_rtinfo ri;
	char err[512];
	/* larger than the cap: refused unread, named */
	o.max_file_bytes = 100;
	assert_int_equal(resolve(&o, "c0ffee00c0ff", &ri, err), -1);
	char want[512];
	snprintf(want, sizeof(want), "%s: larger than 100 bytes",
		 P("containerd/k8s.io/%s/config.json", CTRD_ID));
	assert_string_equal(err, want);
	o = opts();

	/* a FIFO as config.json: an error at once, no hang */
	const char *fid = "f1f0f1f0f1f0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	mkdirs(P("crio/%s/userdata", fid));
	assert_int_equal(mkfifo(P("crio/%s/userdata/config.json", fid), 0600), 0);
	assert_int_equal(resolve(&o, "f1f0f1f0f1f0", &ri, err), -1);
	assert_non_null(strstr(err, "Invalid argument"));

	/* a symlink as config.json (to a readable file): not followed */
	const char *sid = "5151515151510000000000000000000000000000000000000000000000000000";
	mkdirs(P("crio/%s/userdata", sid));
	assert_int_equal(symlink("/etc/hostname", P("crio/%s/userdata/config.json", sid)), 0);
	assert_int_equal(resolve(&o, "515151515151", &ri, err), -1);
	assert_non_null(strstr(err, "Too many levels of symbolic links"));

	/* not JSON: PATH:LINE:COL */
	const char *bid = "badbadbadbad0000000000000000000000000000000000000000000000000000";
	put(P("crio/%s/userdata/config.json", bid), "{\n  \"mounts\": [\n", 16);
	assert_int_equal(resolve(&o, "badbadbadbad", &ri, err), -1);
	snprintf(want, sizeof(want), "%s:2:14: not valid JSON (or nested too deeply)",
		 P("crio/%s/userdata/config.json", bid));
	assert_string_equal(err, want);

	/* a state.json naming a bundle that is not there */
	const char *nid = "0b0b0b0b0b0b0000000000000000000000000000000000000000000000000000";
	static const char nstate[] = "{\"config\":{\"labels\":[\"bundle=/nonexistent/b\"]}}";
	put(P("runc/%s/state.json", nid), nstate, sizeof(nstate) - 1);
	assert_int_equal(resolve(&o, "0b0b0b0b0b0b", &ri, err), -1);
	assert_string_equal(err, "/nonexistent/b/config.json: the bundle's config.json is not "
				 "readable here");
}

static void test_read_file(void **unused)
{
	(void)unused;
	char *b;
	size_t n;
	assert_int_equal(vg_rtmeta_read_file(P("bundle1/config.json"), 1 << 20, &b, &n), 0);
	assert_true(n > 100);
	assert_int_equal(b[n], 0);
	free(b);
	assert_int_equal(vg_rtmeta_read_file(P("bundle1/config.json"), 10, &b, &n), -E2BIG);
	assert_null(b);
	assert_int_equal(vg_rtmeta_read_file(P("nope"), 10, &b, &n), -ENOENT);
	assert_int_equal(vg_rtmeta_read_file(dir, 10, &b, &n), -EINVAL); /* a directory */
}

/* Sync until the answer for id is no longer pending (at most 5 s). */
static const struct vg_container_meta *wait_for(struct vg_rtmeta *m, const char *id,
						enum vg_rt_status *st)
{
	const struct vg_container_meta *cm = NULL;
	for (int i = 0; i < 500; i++) {
		vg_rtmeta_sync(m);
		cm = vg_rtmeta_lookup(m, id, st);
		if (*st != VG_RT_PENDING)
			return cm;
		struct timespec ts = {0, 10 * 1000000L};
		nanosleep(&ts, NULL);
	}
	return cm;
}

static void test_cache(void **unused)
{
	(void)unused;
	struct vg_rtmeta_opts o = opts();
	o.max_containers = 3;
	struct vg_rtmeta *m = vg_rtmeta_new(&o);
	assert_int_equal(vg_rtmeta_start(m), 0);
	enum vg_rt_status st;
	/* the first look-up only asks */
	vg_rtmeta_sync(m);
	assert_null(vg_rtmeta_lookup(m, "c0ffee00c0ff", &st));
	assert_int_equal(st, VG_RT_PENDING);
	const struct vg_container_meta *cm = wait_for(m, "c0ffee00c0ff", &st);
	assert_int_equal(st, VG_RT_FOUND);
	assert_non_null(cm);
	assert_string_equal(cm->pod_name, "debug-node-7x2kq");
	assert_string_equal(cm->ns_name, "ops");
	assert_string_equal(cm->full_id, CTRD_ID);
	assert_string_equal(cm->type, "containerd");
	assert_string_equal(cm->user, "0");
	assert_int_equal(cm->privileged, 1);
	assert_int_equal(cm->nmounts, 3);
	assert_non_null(cm->mounts);

	/* no bind mounts: a known, empty table (not NULL: that is unknown) */
	cm = wait_for(m, "0123456789ab", &st);
	assert_int_equal(st, VG_RT_FOUND);
	assert_non_null(cm->mounts);
	assert_int_equal(cm->nmounts, 0);

	/* not there: retried for ~2 s, then absent */
	uint64_t gen = vg_rtmeta_generation(m);
	cm = wait_for(m, "999999999999", &st);
	assert_int_equal(st, VG_RT_ABSENT);
	assert_null(cm);
	assert_true(vg_rtmeta_generation(m) > gen);

	/* the cap: a fourth container pushes the oldest out */
	cm = wait_for(m, "feedface00fe", &st);
	assert_int_equal(st, VG_RT_FOUND);
	struct vg_rtmeta_stats s;
	vg_rtmeta_get_stats(m, &s);
	assert_int_equal(s.containers, 3);
	assert_int_equal(s.evictions, 1);
	assert_int_equal(s.found, 3);
	assert_int_equal(s.absent, 1);
	assert_int_equal(s.errors, 0);
	vg_rtmeta_sync(m);
	vg_rtmeta_lookup(m, "c0ffee00c0ff", &st);
	assert_int_equal(st, VG_RT_PENDING); /* evicted: asked again */
	vg_rtmeta_free(m);
}

static void test_merge(void **unused)
{
	(void)unused;
	static const struct vg_label labels[] = {{"app", "debug"}};
	struct vg_container_meta api = {
		.name = "debug",
		.image = "busybox:1.36",
		.image_repo = "busybox",
		.image_tag = "1.36",
		.privileged = 0,
		.pod_name = "debug-node-7x2kq",
		.pod_uid = "3f9c1a52-0b7e-4d8e-9a51-2f6c7d8e9a10",
		.ns_name = "ops",
		.pod_labels = labels,
		.npod_labels = 1,
	};
	static const struct vg_mount mt[] = {{"/proc", "/host/proc", "ro", false, "rprivate"}};
	struct vg_container_meta rt = {
		.name = "debug",
		.image = "docker.io/library/busybox:1.36",
		.privileged = 1,
		.mounts = mt,
		.nmounts = 1,
		.pod_name = "debug-node-7x2kq",
		.pod_uid = "3f9c1a52-0b7e-4d8e-9a51-2f6c7d8e9a10",
		.ns_name = "ops",
		.full_id = CTRD_ID,
		.type = "containerd",
		.user = "0",
	};
	struct vg_container_meta out;
	/* the images agree once normalised; privileged does not */
	assert_int_equal(vg_rtmeta_merge(&api, &rt, &out), VG_RTMERGE_PRIVILEGED);
	assert_string_equal(out.image, "busybox:1.36"); /* the API's */
	assert_int_equal(out.privileged, 1);		/* the runtime's */
	assert_ptr_equal(out.mounts, mt);
	assert_ptr_equal(out.pod_labels, labels);
	assert_string_equal(out.full_id, CTRD_ID);
	assert_string_equal(out.user, "0");
	/* another pod, another name, another image */
	rt.pod_name = "other";
	rt.name = "x";
	rt.image = "quay.io/acme/x:1";
	rt.privileged = 0;
	assert_int_equal(vg_rtmeta_merge(&api, &rt, &out),
			 VG_RTMERGE_POD | VG_RTMERGE_NAME | VG_RTMERGE_IMAGE);
	assert_string_equal(out.pod_name, "debug-node-7x2kq"); /* the API wins */
	assert_string_equal(out.name, "debug");
	/* one side only */
	assert_int_equal(vg_rtmeta_merge(NULL, &rt, &out), 0);
	assert_string_equal(out.pod_name, "other");
	assert_string_equal(out.image, "quay.io/acme/x:1");
	api.privileged = -1;
	rt.privileged = -1;
	assert_int_equal(vg_rtmeta_merge(&api, NULL, &out), 0);
	assert_int_equal(out.privileged, -1);
	assert_null(out.mounts);
	assert_string_equal(vg_rtmerge_field_name(2), "privileged");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),	  cmocka_unit_test(test_hostile_files),
		cmocka_unit_test(test_read_file), cmocka_unit_test(test_cache),
		cmocka_unit_test(test_merge),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
