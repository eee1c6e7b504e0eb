/* container.c - container id and pod uid from a cgroup path.
 *
 * Runtimes name the cgroup of a container after its 64-hex id, in one of
 * three shapes per path component:
 *   <64hex>                        docker/containerd/k3s with the cgroupfs driver
 *   <runtime>-<64hex>[.scope]      systemd driver (docker-, cri-containerd-,
 *                                  crio-, libpod-)
 *   <slice>:<runtime>:<64hex>      systemd-style cgroupsPath applied without
 *                                  systemd (containerd.service/...:cri-containerd:<id>)
 * The innermost (last) matching component wins, so a container nested in
 * another (kind, k3d, docker-in-docker) reports its own id and a sub-cgroup
 * a container creates under its own (init.scope, ...) does not hide it.
 * Monitor scopes (crio-conmon-, libpod-conmon-) never match because what
 * follows their runtime prefix is not hex.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "state.h"

#define ID_HEX 64
#define UID_LEN 36

static bool is_lowhex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static bool ends_with(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);
	return n >= m && memcmp(s + n - m, suf, m) == 0;
}

/* If component [s, s+n) names a container, return a pointer to its 64-hex id. */
static const char *component_id(const char *s, size_t n)
{
	static const char *const prefixes[] = {"docker-", "cri-containerd-", "crio-", "libpod-"};

	if (n == ID_HEX && is_lowhex(s, n))
		return s;

	const char *colon = memrchr(s, ':', n);
	if (colon) {
		size_t rest = n - (size_t)(colon + 1 - s);
		if (rest == ID_HEX && is_lowhex(colon + 1, rest))
			return colon + 1;
		return NULL;
	}

	if (ends_with(s, n, ".scope"))
		n -= strlen(".scope");
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i]);
		if (n == pl + ID_HEX && memcmp(s, prefixes[i], pl) == 0 &&
		    is_lowhex(s + pl, ID_HEX))
			return s + pl;
	}
	return NULL;
}

void vg_container_id(const char *cgroup_path, char out[VG_CONTAINER_ID_LEN])
{
	const char *found = NULL;
	const char *p = cgroup_path ? cgroup_path : "";

	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		if (end > p) {
			const char *id = component_id(p, (size_t)(end - p));
			if (id)
				found = id;
		}
		p = end;
	}
	if (!found) {
		strcpy(out, "host");
		return;
	}
	memcpy(out, found, VG_CONTAINER_ID_LEN - 1);
	out[VG_CONTAINER_ID_LEN - 1] = '\0';
}

/* Copy a 36-char pod uid at s into out, turning systemd's '_' back into '-',
 * if it has the 8-4-4-4-12 shape. */
static bool take_uid(const char *s, size_t avail, char out[UID_LEN + 1])
{
	if (avail < UID_LEN)
		return false;
	for (size_t i = 0; i < UID_LEN; i++) {
		char c = s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash) {
			if (c != '-' && c != '_')
				return false;
			c = '-';
		} else if (!is_lowhex(&c, 1)) {
			return false;
		}
		out[i] = c;
	}
	out[UID_LEN] = '\0';
	/* the uid must end the component or its slice name (".slice", ":...") */
	if (avail == UID_LEN)
		return true;
	return s[UID_LEN] == '.' || s[UID_LEN] == ':';
}

/* "pod<uid>" (cgroupfs) or "kubepods[-qos]-pod<uid>.slice" (systemd) */
static bool component_pod(const char *s, size_t n, char out[UID_LEN + 1])
{
	if (n > 3 && memcmp(s, "pod", 3) == 0)
		return take_uid(s + 3, n - 3, out);
	if (n > 8 && memcmp(s, "kubepods", 8) == 0) {
		const char *q = s;
		while ((q = memmem(q, n - (size_t)(q - s), "-pod", 4)) != NULL) {
			q += 4;
			if (take_uid(q, n - (size_t)(q - s), out))
				return true;
		}
	}
	return false;
}

int vg_container_pod_uid(const char *cgroup_path, char out[37])
{
	const char *p = cgroup_path ? cgroup_path : "";
	bool kube = false, found = false;
	char uid[UID_LEN + 1];

	out[0] = '\0';
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchrnul(p, '/');
		size_t n = (size_t)(end - p);
		if (n >= 8 && memcmp(p, "kubepods", 8) == 0)
			kube = true;
		/* innermost pod wins, like the container id; only under kubepods */
		if (kube && n && component_pod(p, n, uid)) {
			memcpy(out, uid, sizeof(uid));
			found = true;
		}
		p = end;
	}
	if (!found)
		return -ENOENT;
	return 0;
}
