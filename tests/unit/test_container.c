/* Container id and pod uid from cgroup paths of every supported layout. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "state.h"

#define ID "3f4e1c0b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHORT "3f4e1c0b9a8d"
#define SHORT2 "0123456789ab"
#define UID "8a1c2f3e-4b5d-4e6f-9a0b-1c2d3e4f5a6b"
#define UIDU "8a1c2f3e_4b5d_4e6f_9a0b_1c2d3e4f5a6b"

static void expect_id(const char *path, const char *want)
{
	char out[VG_CONTAINER_ID_LEN];
	memset(out, 'X', sizeof(out));
	vg_container_id(path, out);
	/* printf's %s with NULL is undefined (and an error to gcc -O3) */
	if (strcmp(out, want) != 0)
		fail_msg("%s: got %s, want %s", path ? path : "(null)", out, want);
}

static void test_docker(void **state)
{
	(void)state;
	expect_id("/docker/" ID, SHORT);
	expect_id("/system.slice/docker-" ID ".scope", SHORT);
	/* a systemd container creates its own sub-cgroups */
	expect_id("/system.slice/docker-" ID ".scope/init.scope", SHORT);
	expect_id("/docker/" ID "/system.slice/cron.service", SHORT);
}

static void test_containerd_cgroupfs(void **state)
{
	(void)state;
	expect_id("/kubepods/besteffort/pod" UID "/" ID, SHORT);
	expect_id("/kubepods/burstable/pod" UID "/" ID, SHORT);
	expect_id("/kubepods/pod" UID "/" ID, SHORT); /* guaranteed QoS */
	/* the BPF side sends only the last components */
	expect_id("pod" UID "/" ID, SHORT);
}

static void test_containerd_systemd(void **state)
{
	(void)state;
	expect_id("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
		  ".slice/cri-containerd-" ID ".scope",
		  SHORT);
	expect_id("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
		  ".slice/cri-containerd-" ID ".scope",
		  SHORT);
	expect_id("/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-" ID ".scope", SHORT);
	/* systemd-style cgroupsPath applied by runc without systemd (kind, nested) */
	expect_id("/system.slice/containerd.service/kubepods-burstable-pod" UIDU
		  ".slice:cri-containerd:" ID,
		  SHORT);
}

static void test_crio(void **state)
{
	(void)state;
	expect_id("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
		  ".slice/crio-" ID ".scope",
		  SHORT);
	expect_id("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
		  ".slice/crio-conmon-" ID ".scope",
		  "host");
	expect_id("/kubepods/burstable/pod" UID "/crio-" ID, SHORT);
	expect_id("/kubepods/burstable/pod" UID "/crio-conmon-" ID, "host");
}

static void test_podman(void **state)
{
	(void)state;
	expect_id("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope",
		  SHORT);
	expect_id("/machine.slice/libpod-" ID ".scope", SHORT);
	expect_id("/machine.slice/libpod-" ID ".scope/container", SHORT);
	expect_id("/machine.slice/libpod-conmon-" ID ".scope", "host");
	expect_id("/libpod_parent/libpod-" ID, SHORT); /* cgroupfs manager */
}

static void test_k3s(void **state)
{
	(void)state;
	expect_id("/kubepods/besteffort/pod" UID "/" ID, SHORT);
	expect_id("/k3s/kubepods/besteffort/pod" UID "/" ID, SHORT);
	/* k3d: k3s inside a docker container, the pod's container is innermost */
	expect_id("/docker/" ID2 "/kubepods/besteffort/pod" UID "/" ID, SHORT);
	expect_id("/docker/" ID "/docker/" ID2, SHORT2);
	/* the k3s node container itself */
	expect_id("/docker/" ID2 "/k3s", SHORT2);
}

static void test_host(void **state)
{
	(void)state;
	expect_id("/", "host");
	expect_id("", "host");
	expect_id(NULL, "host");
	expect_id("/init.scope", "host");
	expect_id("/user.slice/user-1000.slice/session-3.scope", "host");
	expect_id("/system.slice/docker.service", "host");
	expect_id("/system.slice/containerd.service", "host");
	expect_id("/kubepods/besteffort/pod" UID, "host"); /* pod sandbox parent, no container */
	expect_id("/kubepods.slice/kubepods-besteffort.slice", "host");
}

static void test_wrong_ids(void **state)
{
	(void)state;
	/* 63 and 65 hex digits */
	expect_id("/docker/"
		  "3f4e1c0b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2",
		  "host");
	expect_id("/docker/" ID "0", "host");
	expect_id("/system.slice/docker-" ID "0.scope", "host");
	expect_id("/system.slice/docker-" ID ".scopeX", "host");
	/* upper case or non-hex */
	expect_id("/docker/3F4E1C0B9A8D7E6F5A4B3C2D1E0F9A8B7C6D5E4F3A2B1C0D9E8F7A6B5C4D3E2F",
		  "host");
	expect_id("/docker/3f4e1c0b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2g",
		  "host");
	/* an unknown runtime prefix or a 12-hex short id alone */
	expect_id("/system.slice/foo-" ID ".scope", "host");
	expect_id("/docker/" SHORT, "host");
	expect_id("/x.slice:cri-containerd:" ID "0", "host");
}

static void test_output_bounded(void **state)
{
	(void)state;
	char buf[VG_CONTAINER_ID_LEN + 4];
	memset(buf, 'Z', sizeof(buf));
	vg_container_id("/docker/" ID, buf);
	assert_string_equal(buf, SHORT);
	assert_int_equal(buf[VG_CONTAINER_ID_LEN], 'Z');
}

static void expect_pod(const char *path, const char *want)
{
	char out[37];
	memset(out, 'X', sizeof(out));
	int rc = vg_container_pod_uid(path, out);
	path = path ? path : "(null)"; /* for the messages: %s with NULL is undefined */
	if (want) {
		if (rc != 0 || strcmp(out, want) != 0)
			fail_msg("%s: rc %d got '%s', want %s", path, rc, out, want);
	} else if (rc != -ENOENT || out[0] != '\0') {
		fail_msg("%s: rc %d got '%s', want none", path, rc, out);
	}
}

static void test_pod_uid(void **state)
{
	(void)state;
	expect_pod("/kubepods/besteffort/pod" UID "/" ID, UID);
	expect_pod("/kubepods/burstable/pod" UID "/" ID, UID);
	expect_pod("/kubepods/pod" UID "/" ID, UID);
	expect_pod("/kubepods/besteffort/pod" UID, UID);
	expect_pod("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
		   ".slice/cri-containerd-" ID ".scope",
		   UID);
	expect_pod("/kubepods.slice/kubepods-pod" UIDU ".slice/crio-" ID ".scope", UID);
	expect_pod("/system.slice/containerd.service/kubepods-burstable-pod" UIDU
		   ".slice:cri-containerd:" ID,
		   UID);
	expect_pod("/docker/" ID2 "/kubepods/besteffort/pod" UID "/" ID, UID);
}

static void test_pod_uid_none(void **state)
{
	(void)state;
	expect_pod("/", NULL);
	expect_pod(NULL, NULL);
	expect_pod("/docker/" ID, NULL);
	expect_pod("/system.slice/docker-" ID ".scope", NULL);
	/* pod<uid> outside kubepods is not a pod */
	expect_pod("/pods/pod" UID "/" ID, NULL);
	/* malformed uids: short, misplaced dash, trailing garbage */
	expect_pod("/kubepods/besteffort/pod8a1c2f3e-4b5d-4e6f-9a0b-1c2d3e4f5a6/" ID, NULL);
	expect_pod("/kubepods/besteffort/pod8a1c2f3e4-b5d-4e6f-9a0b-1c2d3e4f5a6b/" ID, NULL);
	expect_pod("/kubepods/besteffort/pod" UID "x/" ID, NULL);
	expect_pod("/kubepods.slice/kubepods-besteffort.slice", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_containerd_cgroupfs),
		cmocka_unit_test(test_containerd_systemd),
		cmocka_unit_test(test_crio),
		cmocka_unit_test(test_podman),
		cmocka_unit_test(test_k3s),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_wrong_ids),
		cmocka_unit_test(test_output_bounded),
		cmocka_unit_test(test_pod_uid),
		cmocka_unit_test(test_pod_uid_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
