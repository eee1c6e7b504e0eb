/* rtmerge.c - the API's and the runtime's metadata of one container, made
 * one (vg_rtmeta_merge; see rtmeta.h for which side wins and why).
 *
 * The API is the authority on what the cluster says (the pod a container
 * belongs to, its labels, the name and image the pod spec asked for); the
 * runtime's spec is the authority on what the kernel was told to run (its
 * capabilities and masked paths, its bind mounts), which the Pod object
 * does not carry.
 */
#include <stdio.h>
#include <string.h>

#include "rtmeta.h"

static bool set(const char *s)
{
	return s && *s;
}

static bool differ(const char *a, const char *b)
{
	return set(a) && set(b) && strcmp(a, b) != 0;
}

/* "nginx" -> "docker.io/library/nginx:latest"; a digest is dropped. */
static void normal_image(const char *in, char *out, size_t cap)
{
	char base[1024];
	snprintf(base, sizeof(base), "%s", in);
	char *at = strchr(base, '@');
	if (at)
		*at = '\0';
	const char *slash = strrchr(base, '/');
	bool tagged = strchr(slash ? slash : base, ':') != NULL;
	const char *first_end = strchr(base, '/');
	bool registry = false;
	if (first_end) {
		size_t n = (size_t)(first_end - base);
		registry = memchr(base, '.', n) || memchr(base, ':', n) ||
			   (n == 9 && !strncmp(base, "localhost", 9));
	}
	snprintf(out, cap, "%s%s%s%s", registry ? "" : "docker.io/",
		 !registry && !first_end ? "library/" : "", base, tagged ? "" : ":latest");
}

static bool images_differ(const char *a, const char *b)
{
	if (!set(a) || !set(b))
		return false;
	char na[1100], nb[1100];
	normal_image(a, na, sizeof(na));
	normal_image(b, nb, sizeof(nb));
	return strcmp(na, nb) != 0;
}

unsigned vg_rtmeta_merge(const struct vg_container_meta *api, const struct vg_container_meta *rt,
			 struct vg_container_meta *out)
{
	static const struct vg_container_meta none = {.privileged = -1};
	unsigned bad = 0;
	if (!api)
		api = &none;
	if (!rt)
		rt = &none;
	*out = *api;

	if (!set(api->name))
		out->name = rt->name;
	else if (differ(api->name, rt->name))
		bad |= VG_RTMERGE_NAME;

	if (!set(api->image)) {
		out->image = rt->image;
		out->image_repo = rt->image_repo;
		out->image_tag = rt->image_tag;
	} else if (images_differ(api->image, rt->image)) {
		bad |= VG_RTMERGE_IMAGE;
	}

	if (rt->privileged >= 0) {
		out->privileged = rt->privileged;
		if (api->privileged >= 0 && api->privileged != rt->privileged)
			bad |= VG_RTMERGE_PRIVILEGED;
	}

	if (rt->mounts) {
		out->mounts = rt->mounts;
		out->nmounts = rt->nmounts;
	}

	if (!set(api->pod_name)) {
		out->pod_name = rt->pod_name;
		out->pod_uid = rt->pod_uid;
		out->ns_name = rt->ns_name;
	} else if (differ(api->pod_name, rt->pod_name) || differ(api->ns_name, rt->ns_name) ||
		   differ(api->pod_uid, rt->pod_uid)) {
		bad |= VG_RTMERGE_POD;
	}

	out->full_id = set(rt->full_id) ? rt->full_id : api->full_id;
	out->type = set(rt->type) ? rt->type : api->type;
	out->user = set(rt->user) ? rt->user : api->user;
	return bad;
}

const char *vg_rtmerge_field_name(unsigned i)
{
	static const char *const n[VG_RTMERGE_NFIELDS] = {"name", "image", "privileged", "pod"};
	return i < VG_RTMERGE_NFIELDS ? n[i] : "?";
}
