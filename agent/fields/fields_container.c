/* fields_container.c - the container.* and k8s.* fields: the container
 * and the pod of the process; see fields.h.
 */
#include <fnmatch.h>

#include "fields_int.h"

static const struct vg_container_meta *meta(const struct vg_event *ev)
{
	return ev->st ? vg_state_meta(ev->st, ev->proc) : NULL;
}

FN(f_container_id)
{
	if (P->container_id[0])
		put_str(out, P->container_id);
}

#define METASTR(fname, member)                                                                     \
	FN(fname)                                                                                  \
	{                                                                                          \
		const struct vg_container_meta *m = meta(ev);                                      \
		if (m)                                                                             \
			put_str(out, m->member);                                                   \
	}

METASTR(f_container_name, name)
METASTR(f_container_image, image)
METASTR(f_container_image_repo, image_repo)
METASTR(f_container_image_tag, image_tag)
METASTR(f_k8s_ns_name, ns_name)
METASTR(f_k8s_pod_name, pod_name)
METASTR(f_container_full_id, full_id)
METASTR(f_container_type, type)
METASTR(f_container_user, user)

/* The pod uid is known from the cgroup path before the Kubernetes module
 * knows the pod. */
FN(f_k8s_pod_uid)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->pod_uid) {
		put_str(out, m->pod_uid);
		return;
	}
	char uid[37];
	if (P->cgroup && vg_container_pod_uid(P->cgroup, uid) == 0)
		vg_fvals_strcpy(out, uid, strlen(uid));
}

FN(f_container_privileged)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->privileged >= 0)
		put_bool(out, m->privileged > 0);
}

FN(f_container_start_ts)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->start_ts)
		vg_fvals_u64(out, m->start_ts);
}

FN(f_container_duration)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->start_ts)
		vg_fvals_u64(out, ev->ts > m->start_ts ? ev->ts - m->start_ts : 0);
}

FN(f_container_mounts)
{
	const struct vg_container_meta *m = meta(ev);
	if (!m || !m->mounts)
		return;
	char b[VG_STR_MAX];
	size_t n = 0;
	b[0] = '\0';
	for (size_t i = 0; i < m->nmounts && n < sizeof(b); i++) {
		const struct vg_mount *mt = &m->mounts[i];
		int w = snprintf(b + n, sizeof(b) - n, "%s%s:%s:%s:%s:%s", i ? "," : "",
				 mt->source ? mt->source : "", mt->dest ? mt->dest : "",
				 mt->mode ? mt->mode : "", mt->rw ? "true" : "false",
				 mt->propagation ? mt->propagation : "");
		if (w < 0)
			break;
		n += (size_t)w;
	}
	vg_fvals_strcpy(out, b, n < sizeof(b) ? n : sizeof(b) - 1);
}

/* The mount fields with an argument: [n] is mount number n, [GLOB] the
 * first mount whose source (for .dest) or destination (for the others)
 * matches the glob; the answer is one member of that mount.
 *
 * Falco answers "N/A" when no mount matches, and rules test for it
 * (`not container.mount.dest[/proc*] in ("<NA>","N/A")`).  When the mount
 * table itself is unknown (neither the runtime's files nor anything else
 * told vigil), the answer is "<NA>", Falco's text for a field without a
 * value: it is neither a mount (a guess that fires the sensitive-mount
 * rule on every container whose metadata is late) nor "N/A" (which would
 * claim there is no such mount).  Outside a container the fields are
 * unset. */
enum mount_part { M_ALL, M_SOURCE, M_DEST, M_MODE, M_RDWR, M_PROPAGATION };

static void put_mount(const struct vg_mount *mt, enum mount_part part, struct vg_fvals *out)
{
	char b[VG_STR_MAX];
	switch (part) {
	case M_ALL: {
		int n = snprintf(b, sizeof(b), "%s:%s:%s:%s:%s", mt->source ? mt->source : "",
				 mt->dest ? mt->dest : "", mt->mode ? mt->mode : "",
				 mt->rw ? "true" : "false", mt->propagation ? mt->propagation : "");
		if (n >= 0)
			vg_fvals_strcpy(out, b, (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
		return;
	}
	case M_SOURCE:
		put_str(out, mt->source);
		return;
	case M_DEST:
		put_str(out, mt->dest);
		return;
	case M_MODE:
		put_str(out, mt->mode);
		return;
	case M_RDWR:
		put_str(out, mt->rw ? "true" : "false");
		return;
	case M_PROPAGATION:
		put_str(out, mt->propagation);
		return;
	}
}

static void mount_field(const struct vg_event *ev, const struct vg_farg *arg, struct vg_fvals *out,
			enum mount_part part)
{
	if (!P->container_id[0] || !strcmp(P->container_id, "host"))
		return;
	const struct vg_container_meta *m = meta(ev);
	if (!m || !m->mounts) {
		put_str(out, "<NA>");
		return;
	}
	if (arg->kind == 1) {
		if (arg->index >= 0 && (size_t)arg->index < m->nmounts)
			put_mount(&m->mounts[arg->index], part, out);
		else
			put_str(out, "N/A");
		return;
	}
	if (arg->kind != 2 || !arg->key)
		return;
	for (size_t i = 0; i < m->nmounts; i++) {
		const struct vg_mount *mt = &m->mounts[i];
		const char *key = part == M_DEST ? mt->source : mt->dest;
		if (key && fnmatch(arg->key, key, 0) == 0) {
			put_mount(mt, part, out);
			return;
		}
	}
	put_str(out, "N/A");
}

FN(f_container_mount)
{
	mount_field(ev, arg, out, M_ALL);
}

FN(f_container_mount_dest)
{
	mount_field(ev, arg, out, M_DEST);
}

FN(f_container_mount_source)
{
	mount_field(ev, arg, out, M_SOURCE);
}

FN(f_container_mount_mode)
{
	mount_field(ev, arg, out, M_MODE);
}

FN(f_container_mount_rdwr)
{
	mount_field(ev, arg, out, M_RDWR);
}

FN(f_container_mount_propagation)
{
	mount_field(ev, arg, out, M_PROPAGATION);
}

static void labels_all(const struct vg_label *l, size_t n, struct vg_fvals *out)
{
	char b[VG_STR_MAX];
	size_t len = 0;
	b[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(b); i++) {
		int w = snprintf(b + len, sizeof(b) - len, "%s%s:%s", i ? ", " : "",
				 l[i].key ? l[i].key : "", l[i].value ? l[i].value : "");
		if (w < 0)
			break;
		len += (size_t)w;
	}
	vg_fvals_strcpy(out, b, len < sizeof(b) ? len : sizeof(b) - 1);
}

static void label_one(const struct vg_label *l, size_t n, const struct vg_farg *arg,
		      struct vg_fvals *out)
{
	if (arg->kind != 2 || !arg->key)
		return;
	for (size_t i = 0; i < n; i++)
		if (l[i].key && strcmp(l[i].key, arg->key) == 0) {
			put_str(out, l[i].value ? l[i].value : "");
			return;
		}
}

FN(f_k8s_pod_labels)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->pod_name)
		labels_all(m->pod_labels, m->npod_labels, out);
}

FN(f_k8s_pod_label)
{
	const struct vg_container_meta *m = meta(ev);
	if (m)
		label_one(m->pod_labels, m->npod_labels, arg, out);
}

FN(f_k8s_ns_labels)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->ns_name)
		labels_all(m->ns_labels, m->nns_labels, out);
}

FN(f_k8s_ns_label)
{
	const struct vg_container_meta *m = meta(ev);
	if (m)
		label_one(m->ns_labels, m->nns_labels, arg, out);
}

const struct vg_field vg_fields_container[] = {
	{"container.id", S, 0, f_container_id, "container id (12 hex digits), or host"},
	{"container.name", S, 0, f_container_name, "container name"},
	{"container.image", S, 0, f_container_image, "container image reference"},
	{"container.image.repository", S, 0, f_container_image_repo,
	 "repository of the container image"},
	{"container.image.tag", S, 0, f_container_image_tag, "tag of the container image"},
	{"container.privileged", B, 0, f_container_privileged, "the container runs privileged"},
	{"container.mounts", S, 0, f_container_mounts,
	 "mounts of the container as source:dest:mode:rw:propagation, comma-separated"},
	{"container.mount", S, IDX | KEY | REQ, f_container_mount,
	 "the mount whose destination matches the glob [DEST] (or mount [n]) as "
	 "source:dest:mode:rw:propagation; N/A if none, <NA> if the mounts are unknown"},
	{"container.mount.dest", S, IDX | KEY | REQ, f_container_mount_dest,
	 "destination of the mount whose source matches the glob [SRC] (or mount [n]); N/A if "
	 "none, <NA> if the mounts are unknown"},
	{"container.mount.source", S, IDX | KEY | REQ, f_container_mount_source,
	 "source of the mount whose destination matches the glob [DEST] (or mount [n]); N/A if "
	 "none, <NA> if the mounts are unknown"},
	{"container.mount.mode", S, IDX | KEY | REQ, f_container_mount_mode,
	 "mode (ro, or empty) of the mount whose destination matches [DEST] (or mount [n])"},
	{"container.mount.rdwr", S, IDX | KEY | REQ, f_container_mount_rdwr,
	 "true when the mount whose destination matches [DEST] (or mount [n]) is writable"},
	{"container.mount.propagation", S, IDX | KEY | REQ, f_container_mount_propagation,
	 "propagation (rprivate, rshared...) of the mount whose destination matches [DEST] (or "
	 "mount [n])"},
	{"container.full_id", S, 0, f_container_full_id,
	 "the container's full id, from the container runtime's files"},
	{"container.type", S, 0, f_container_type,
	 "the container runtime whose files describe it: containerd, cri-o, runc"},
	{"container.user", S, 0, f_container_user,
	 "uid the container's process starts as, from its runtime spec"},
	{"container.start_ts", AT, 0, f_container_start_ts, "container start time"},
	{"container.duration", RT, 0, f_container_duration,
	 "nanoseconds since the container started"},
	{"k8s.ns.name", S, 0, f_k8s_ns_name, "Kubernetes namespace of the pod"},
	{"k8s.pod.name", S, 0, f_k8s_pod_name, "Kubernetes pod name"},
	{"k8s.pod.uid", S, 0, f_k8s_pod_uid,
	 "Kubernetes pod uid (from the cgroup path until the pod is known)"},
	{"k8s.pod.labels", S, 0, f_k8s_pod_labels, "pod labels as key:value, comma-separated"},
	{"k8s.pod.label", S, KEY | REQ, f_k8s_pod_label, "value of one pod label, [KEY]"},
	{"k8s.ns.labels", S, 0, f_k8s_ns_labels, "namespace labels as key:value, comma-separated"},
	{"k8s.ns.label", S, KEY | REQ, f_k8s_ns_label, "value of one namespace label, [KEY]"},
};

const size_t vg_fields_container_count =
	sizeof(vg_fields_container) / sizeof(vg_fields_container[0]);
