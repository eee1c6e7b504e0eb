/* rtspec.c - see rtspec.h.
 *
 * The files come from the host and a runtime we do not control, so every
 * member is checked for its type before use; a member of the wrong type is
 * unknown (never a guess), and only the first is reported.  cJSON refuses
 * nesting deeper than CJSON_NESTING_LIMIT, and the caller caps the size,
 * so a hostile file costs bounded time and memory.
 */
#include "rtspec.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void vg_rtinfo_free(struct vg_rtinfo *ri)
{
	if (!ri)
		return;
	free(ri->name);
	free(ri->image);
	free(ri->image_repo);
	free(ri->image_tag);
	free(ri->user);
	free(ri->pod_name);
	free(ri->pod_ns);
	free(ri->pod_uid);
	for (size_t i = 0; i < ri->nmounts; i++) {
		free((char *)ri->mounts[i].source);
		free((char *)ri->mounts[i].dest);
		free((char *)ri->mounts[i].mode);
		free((char *)ri->mounts[i].propagation);
	}
	free(ri->mounts);
	memset(ri, 0, sizeof(*ri));
	ri->privileged = -1;
}

static void warn(struct vg_rtinfo *ri, const char *fmt, ...)
{
	if (ri->warn[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ri->warn, sizeof(ri->warn), fmt, ap);
	va_end(ap);
}

/* "LINE:COL: why" for a parse error at byte offset off. */
static void syntax_error(const char *json, size_t len, const char *at, char *err, size_t errlen)
{
	size_t off = at && at >= json && at <= json + len ? (size_t)(at - json) : 0;
	unsigned line = 1, col = 1;
	for (size_t i = 0; i < off; i++) {
		if (json[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(err, errlen, "%u:%u: not valid JSON (or nested too deeply)", line, col);
}

static cJSON *parse_object(const char *json, size_t len, char *err, size_t errlen)
{
	if (memchr(json, '\0', len)) {
		const char *nul = memchr(json, '\0', len);
		syntax_error(json, len, nul, err, errlen);
		return NULL;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
	if (!root) {
		syntax_error(json, len, cJSON_GetErrorPtr(), err, errlen);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		snprintf(err, errlen, "1:1: expected a JSON object");
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* A string member: its value when it is a string of sane length; NULL when
 * absent; NULL and a warning when of the wrong type. */
static const char *str_of(struct vg_rtinfo *ri, const cJSON *obj, const char *key,
			  const char *where)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!v)
		return NULL;
	if (!cJSON_IsString(v) || !v->valuestring) {
		warn(ri, "%s%s: expected a string", where, key);
		return NULL;
	}
	if (strlen(v->valuestring) > VG_RTSPEC_STR_MAX) {
		warn(ri, "%s%s: longer than %d bytes", where, key, VG_RTSPEC_STR_MAX);
		return NULL;
	}
	return v->valuestring;
}

static void set_once(char **slot, const char *v)
{
	if (!*slot && v && *v)
		*slot = vg_xstrdup(v);
}

/* repo and tag of an image reference; a ':' after the last '/' starts the
 * tag, one before it is a registry port; "@digest" is left out of both. */
static void image_split(const char *image, char **repo, char **tag)
{
	const char *at = strchr(image, '@');
	size_t n = at ? (size_t)(at - image) : strlen(image);
	const char *slash = NULL, *colon = NULL;
	for (const char *p = image; p < image + n; p++)
		if (*p == '/')
			slash = p;
	for (const char *p = slash ? slash : image; p < image + n; p++)
		if (*p == ':')
			colon = p;
	*repo = vg_xstrndup(image, colon ? (size_t)(colon - image) : n);
	*tag = colon ? vg_xstrndup(colon + 1, n - (size_t)(colon - image) - 1) : vg_xstrdup("");
}

/* --- the pod and container names ------------------------------------------------ */

/* The kubelet's labels, either as plain annotations or inside CRI-O's
 * "io.kubernetes.cri-o.Labels" JSON string. */
static void kubelet_labels(struct vg_rtinfo *ri, const cJSON *obj, const char *where)
{
	set_once(&ri->pod_name, str_of(ri, obj, "io.kubernetes.pod.name", where));
	set_once(&ri->pod_ns, str_of(ri, obj, "io.kubernetes.pod.namespace", where));
	set_once(&ri->pod_uid, str_of(ri, obj, "io.kubernetes.pod.uid", where));
	if (!ri->sandbox)
		set_once(&ri->name, str_of(ri, obj, "io.kubernetes.container.name", where));
}

/* An annotation whose value is itself a JSON object. */
static cJSON *nested(struct vg_rtinfo *ri, const cJSON *ann, const char *key)
{
	const char *s = str_of(ri, ann, key, "annotations.");
	if (!s)
		return NULL;
	cJSON *o = cJSON_Parse(s);
	if (!cJSON_IsObject(o)) {
		warn(ri, "annotations.%s: expected a JSON object in the string", key);
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static void annotations(struct vg_rtinfo *ri, const cJSON *root)
{
	const cJSON *ann = cJSON_GetObjectItemCaseSensitive(root, "annotations");
	if (!ann)
		return;
	if (!cJSON_IsObject(ann)) {
		warn(ri, "annotations: expected an object");
		return;
	}
	const char *W = "annotations.";
	/* containerd's CRI plugin */
	const char *ctype = str_of(ri, ann, "io.kubernetes.cri.container-type", W);
	if (ctype)
		ri->type = "containerd";
	const char *otype = str_of(ri, ann, "io.kubernetes.cri-o.ContainerType", W);
	if (otype)
		ri->type = "cri-o";
	ri->sandbox = (ctype && !strcmp(ctype, "sandbox")) || (otype && !strcmp(otype, "sandbox"));
	set_once(&ri->pod_name, str_of(ri, ann, "io.kubernetes.cri.sandbox-name", W));
	set_once(&ri->pod_ns, str_of(ri, ann, "io.kubernetes.cri.sandbox-namespace", W));
	set_once(&ri->pod_uid, str_of(ri, ann, "io.kubernetes.cri.sandbox-uid", W));
	if (!ri->sandbox)
		set_once(&ri->name, str_of(ri, ann, "io.kubernetes.cri.container-name", W));
	set_once(&ri->image, str_of(ri, ann, "io.kubernetes.cri.image-name", W));
	/* the kubelet's labels as plain annotations (CRI-O copies them) */
	kubelet_labels(ri, ann, W);
	/* CRI-O */
	set_once(&ri->image, str_of(ri, ann, "io.kubernetes.cri-o.ImageName", W));
	set_once(&ri->image, str_of(ri, ann, "io.kubernetes.cri-o.Image", W));
	cJSON *labels = nested(ri, ann, "io.kubernetes.cri-o.Labels");
	if (labels) {
		kubelet_labels(ri, labels, "annotations.io.kubernetes.cri-o.Labels.");
		cJSON_Delete(labels);
	}
	if (ri->sandbox) {
		set_once(&ri->pod_name, str_of(ri, ann, "io.kubernetes.cri-o.KubeName", W));
		set_once(&ri->pod_ns, str_of(ri, ann, "io.kubernetes.cri-o.Namespace", W));
	} else {
		cJSON *md = nested(ri, ann, "io.kubernetes.cri-o.Metadata");
		if (md) {
			set_once(&ri->name, str_of(ri, md, "name",
						   "annotations.io.kubernetes.cri-o.Metadata."));
			cJSON_Delete(md);
		}
	}
	if (ri->image)
		image_split(ri->image, &ri->image_repo, &ri->image_tag);
}

/* --- mounts ------------------------------------------------------------------------ */

static bool has_option(const cJSON *opts, const char *o)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, opts)
	{
		if (cJSON_IsString(it) && it->valuestring && !strcmp(it->valuestring, o))
			return true;
	}
	return false;
}

static const char *propagation_of(const cJSON *opts)
{
	static const char *const p[] = {"rprivate", "private", "rshared",     "shared",
					"rslave",   "slave",   "runbindable", "unbindable"};
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (has_option(opts, p[i]))
			return p[i];
	return "";
}

/* Only bind mounts: those are the host paths a container sees (what Falco's
 * container.mounts lists); proc, tmpfs, sysfs... are the runtime's own. */
static void mounts(struct vg_rtinfo *ri, const cJSON *root)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "mounts");
	if (!arr) {
		ri->mounts_known = true; /* the spec has none */
		return;
	}
	if (!cJSON_IsArray(arr)) {
		warn(ri, "mounts: expected a list");
		return;
	}
	int n = cJSON_GetArraySize(arr);
	size_t cap = n > VG_RTSPEC_MAX_MOUNTS ? VG_RTSPEC_MAX_MOUNTS : (size_t)(n > 0 ? n : 1);
	ri->mounts = vg_xcalloc(cap, sizeof(*ri->mounts));
	int i = -1;
	const cJSON *m;
	cJSON_ArrayForEach(m, arr)
	{
		i++;
		char where[40];
		snprintf(where, sizeof(where), "mounts[%d].", i);
		if (!cJSON_IsObject(m)) {
			warn(ri, "mounts[%d]: expected an object", i);
			goto unknown;
		}
		const cJSON *opts = cJSON_GetObjectItemCaseSensitive(m, "options");
		if (opts && !cJSON_IsArray(opts)) {
			warn(ri, "%soptions: expected a list", where);
			goto unknown;
		}
		const char *type = str_of(ri, m, "type", where);
		bool bind = (type && !strcmp(type, "bind")) || has_option(opts, "bind") ||
			    has_option(opts, "rbind");
		if (!bind)
			continue;
		const char *src = str_of(ri, m, "source", where);
		const char *dst = str_of(ri, m, "destination", where);
		if (!src || !dst) {
			warn(ri, "%s: a bind mount without source or destination", where);
			goto unknown;
		}
		if (ri->nmounts == cap) {
			ri->nmounts_dropped++;
			continue;
		}
		bool ro = has_option(opts, "ro");
		struct vg_mount *mt = &ri->mounts[ri->nmounts++];
		mt->source = vg_xstrdup(src);
		mt->dest = vg_xstrdup(dst);
		mt->mode = vg_xstrdup(ro ? "ro" : "");
		mt->rw = !ro;
		mt->propagation = vg_xstrdup(propagation_of(opts));
	}
	ri->mounts_known = true;
	return;
unknown:
	/* one malformed entry: the list is not trustworthy as a whole (a
	 * missing mount would read as "not mounted") */
	ri->mounts_known = false;
}

/* --- privileged, user --------------------------------------------------------------------- */

static bool empty_or_absent_list(struct vg_rtinfo *ri, const cJSON *linux_, const char *key,
				 bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(linux_, key);
	if (!v)
		return true;
	if (!cJSON_IsArray(v)) {
		warn(ri, "linux.%s: expected a list", key);
		*bad = true;
		return false;
	}
	return cJSON_GetArraySize(v) == 0;
}

/* What a runtime makes of "privileged: true" (Kubernetes, docker, podman):
 * CAP_SYS_ADMIN in the bounding set and none of /proc, /sys masked or made
 * read-only.  A container that only adds CAP_SYS_ADMIN keeps its masked
 * paths and is not privileged in this sense. */
static void privileged(struct vg_rtinfo *ri, const cJSON *root)
{
	const cJSON *linux_ = cJSON_GetObjectItemCaseSensitive(root, "linux");
	if (!cJSON_IsObject(linux_))
		return; /* not a Linux spec: unknown */
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(root, "process");
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(proc, "capabilities");
	const cJSON *bounding = cJSON_GetObjectItemCaseSensitive(caps, "bounding");
	if ((proc && !cJSON_IsObject(proc)) || (caps && !cJSON_IsObject(caps)) ||
	    (bounding && !cJSON_IsArray(bounding))) {
		warn(ri, "process.capabilities.bounding: expected a list in an object");
		return;
	}
	bool bad = false;
	bool masked = !empty_or_absent_list(ri, linux_, "maskedPaths", &bad);
	bool ro = !empty_or_absent_list(ri, linux_, "readonlyPaths", &bad);
	if (bad)
		return;
	ri->privileged = has_option(bounding, "CAP_SYS_ADMIN") && !masked && !ro;
}

static void user(struct vg_rtinfo *ri, const cJSON *root)
{
	const cJSON *proc = cJSON_GetObjectItemCaseSensitive(root, "process");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(proc, "user");
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(u, "uid");
	if (!uid)
		return;
	if (!cJSON_IsNumber(uid) || uid->valuedouble < 0 || uid->valuedouble > 4294967295.0) {
		warn(ri, "process.user.uid: expected a uid");
		return;
	}
	char b[16];
	snprintf(b, sizeof(b), "%u", (unsigned)uid->valuedouble);
	ri->user = vg_xstrdup(b);
}

/* A container the kubelet made sits in a kubepods cgroup that names its
 * pod's uid: known even when no annotation says so (and then the API will
 * list it: worth waiting for). */
static void pod_uid_from_cgroup(struct vg_rtinfo *ri, const cJSON *root)
{
	const cJSON *linux_ = cJSON_GetObjectItemCaseSensitive(root, "linux");
	const char *cg =
		cJSON_IsObject(linux_) ? str_of(ri, linux_, "cgroupsPath", "linux.") : NULL;
	char uid[37];
	if (cg && !ri->pod_uid && vg_container_pod_uid(cg, uid) == 0)
		ri->pod_uid = vg_xstrdup(uid);
}

int vg_rtspec_parse_config(const char *json, size_t len, struct vg_rtinfo *ri, char *err,
			   size_t errlen)
{
	memset(ri, 0, sizeof(*ri));
	ri->privileged = -1;
	cJSON *root = parse_object(json, len, err, errlen);
	if (!root)
		return -1;
	ri->type = "runc";
	annotations(ri, root);
	pod_uid_from_cgroup(ri, root);
	mounts(ri, root);
	privileged(ri, root);
	user(ri, root);
	cJSON_Delete(root);
	return 0;
}

int vg_rtspec_parse_state(const char *json, size_t len, char **bundle, char **cgroup_path,
			  char *err, size_t errlen)
{
	*bundle = *cgroup_path = NULL;
	cJSON *root = parse_object(json, len, err, errlen);
	if (!root)
		return -1;
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cfg, "labels");
	const cJSON *it;
	if (!cJSON_IsArray(labels))
		labels = NULL;
	cJSON_ArrayForEach(it, labels)
	{
		if (cJSON_IsString(it) && it->valuestring &&
		    !strncmp(it->valuestring, "bundle=", 7) && it->valuestring[7] == '/' &&
		    strlen(it->valuestring) < VG_RTSPEC_STR_MAX) {
			*bundle = vg_xstrdup(it->valuestring + 7);
			break;
		}
	}
	const cJSON *cg = cJSON_GetObjectItemCaseSensitive(cfg, "cgroups");
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(cg, "path");
	if (cJSON_IsString(path) && path->valuestring &&
	    strlen(path->valuestring) < VG_RTSPEC_STR_MAX)
		*cgroup_path = vg_xstrdup(path->valuestring);
	cJSON_Delete(root);
	if (!*bundle) {
		snprintf(err, errlen, "1:1: config.labels has no \"bundle=/...\" entry");
		free(*cgroup_path);
		*cgroup_path = NULL;
		return -1;
	}
	return 0;
}
