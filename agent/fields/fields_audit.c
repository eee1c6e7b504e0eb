/* fields_audit.c - the ka.* and jevt.* fields: a Kubernetes audit event
 * (kaudit.h), with the names and meanings the Falco k8saudit and json
 * plugins document.
 *
 * Every ka.* value is text, as in the plugin: numbers and booleans of the
 * JSON are rendered ("200", "true"), objects and arrays as compact JSON.
 * A list field yields one value per item (container, volume, rule...);
 * with an index, only that item's.  A field whose JSON is absent is unset.
 * Strings point into the event's JSON; rendered values go to the scratch
 * buffer.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "fields_int.h"
#include "kaudit.h"

/* ------------------------------------------------------------------ */
/* the event                                                           */

/* days since 1970-01-01 of a proleptic Gregorian date */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

uint64_t vg_kaudit_parse_time(const char *s)
{
	int y, mo, d, h, mi, se;
	if (!s || strlen(s) < 19 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &se))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return 0;
	const char *p = s + 19;
	uint64_t frac = 0;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 9)
				frac = frac * 10 + (uint64_t)(*p - '0');
		for (; n < 9; n++)
			frac *= 10;
	}
	int64_t off = 0;
	if (*p == '+' || *p == '-') {
		int oh, om;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om))
			return 0;
		off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z' && *p != 'z') {
		return 0;
	}
	int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
		       se - off;
	if (secs < 0)
		return 0;
	return (uint64_t)secs * 1000000000ull + frac;
}

/* Audit events read no process: the fields that may be compiled for them
 * never look at one, but the event keeps the "never NULL" promise. */
static struct vg_proc no_proc;
static const struct vg_rec no_rec;

void vg_kaudit_event_init(struct vg_kaudit_event *ke, const cJSON *obj, uint64_t num,
			  uint64_t now_ns)
{
	memset(&ke->ev, 0, offsetof(struct vg_event, buf));
	ke->ev.raw = &no_rec;
	ke->ev.type = VG_T_AUDIT;
	ke->ev.name = vg_evtype_name(VG_T_AUDIT);
	ke->ev.fd = -1;
	ke->ev.proc = &no_proc;
	ke->ev.num = num;
	ke->obj = obj;
	const char *t =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "stageTimestamp"));
	uint64_t ts = vg_kaudit_parse_time(t);
	if (!ts)
		ts = vg_kaudit_parse_time(cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(obj, "requestReceivedTimestamp")));
	ke->ev.ts = ts ? ts : now_ns;
}

/* ------------------------------------------------------------------ */
/* JSON helpers                                                        */

static const cJSON *root(const struct vg_event *ev)
{
	const struct vg_kaudit_event *ke = vg_kaudit_of(ev);
	return ke ? ke->obj : NULL;
}

/* o's member at a path of '/'-separated names ("objectRef/name") */
static const cJSON *at(const cJSON *o, const char *path)
{
	char name[64];
	while (o && *path) {
		const char *e = strchr(path, '/');
		size_t n = e ? (size_t)(e - path) : strlen(path);
		if (n >= sizeof(name))
			return NULL;
		memcpy(name, path, n);
		name[n] = '\0';
		o = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
		path += n + (e != NULL);
	}
	return o;
}

/* The compact JSON of o into the scratch buffer (cut at its end). */
static void put_json(struct vg_fvals *out, const cJSON *o)
{
	if (out->used >= VG_FVALS_BUF - 1)
		return;
	char *d = out->buf + out->used;
	int room = (int)(VG_FVALS_BUF - out->used);
	if (cJSON_PrintPreallocated((cJSON *)o, d, room, 0)) {
		size_t n = strlen(d);
		out->used += n + 1;
		vg_fvals_str(out, d, n);
		return;
	}
	/* larger than what is left: cut (outputs only; conditions rarely
	 * compare whole objects) */
	char *s = cJSON_PrintUnformatted(o);
	if (s) {
		vg_fvals_strcpy(out, s, strlen(s));
		free(s);
	}
}

/* A JSON value as text: strings as they are, numbers in decimal, booleans
 * as true/false, objects and arrays as JSON; null and absent: nothing. */
static void put_val(struct vg_fvals *out, const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return;
	if (cJSON_IsString(v)) {
		put_str(out, v->valuestring);
	} else if (cJSON_IsBool(v)) {
		put_str(out, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		double x = v->valuedouble;
		if (x == floor(x) && fabs(x) < 9e15)
			put_fmt(out, "%" PRId64, (int64_t)x);
		else
			put_fmt(out, "%.17g", x);
	} else {
		put_json(out, v);
	}
}

/* put_val of a boolean member, "false" when absent (the plugin's default) */
static void put_flag(struct vg_fvals *out, const cJSON *o, const char *path)
{
	const cJSON *v = at(o, path);
	if (v && !cJSON_IsNull(v))
		put_val(out, v);
	else if (o)
		put_str(out, "false");
}

static const cJSON *req(const struct vg_event *ev)
{
	return at(root(ev), "requestObject");
}

#define PATHSTR(fname, path)                                                                       \
	FN(fname)                                                                                  \
	{                                                                                          \
		put_val(out, at(root(ev), path));                                                  \
	}

/* ------------------------------------------------------------------ */
/* the request                                                         */

PATHSTR(f_auditid, "auditID")
PATHSTR(f_stage, "stage")
PATHSTR(f_user_name, "user/username")
PATHSTR(f_impuser_name, "impersonatedUser/username")
PATHSTR(f_verb, "verb")
PATHSTR(f_uri, "requestURI")
PATHSTR(f_target_name, "objectRef/name")
PATHSTR(f_target_namespace, "objectRef/namespace")
PATHSTR(f_target_resource, "objectRef/resource")
PATHSTR(f_target_subresource, "objectRef/subresource")
PATHSTR(f_resp_name, "responseObject/metadata/name")
PATHSTR(f_response_code, "responseStatus/code")
PATHSTR(f_response_reason, "responseStatus/reason")
PATHSTR(f_useragent, "userAgent")

static void put_annotation(struct vg_fvals *out, const struct vg_event *ev, const char *key)
{
	const cJSON *a = at(root(ev), "annotations");
	put_val(out, cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(a, key) : NULL);
}

FN(f_auth_decision)
{
	put_annotation(out, ev, "authorization.k8s.io/decision");
}

FN(f_auth_reason)
{
	put_annotation(out, ev, "authorization.k8s.io/reason");
}

FN(f_vap_failure)
{
	put_annotation(out, ev, "validation.policy.admission.k8s.io/validation_failure");
}

FN(f_pod_violations)
{
	put_annotation(out, ev, "pod-security.kubernetes.io/audit-violations");
}

/* every item of an array (or the one of the index) through put_val */
static void put_items(struct vg_fvals *out, const cJSON *arr, const struct vg_farg *arg)
{
	if (!cJSON_IsArray(arr))
		return;
	int i = 0;
	for (const cJSON *it = arr->child; it; it = it->next, i++)
		if (arg->kind != 1 || arg->index == i)
			put_val(out, it);
}

FN(f_user_groups)
{
	put_items(out, at(root(ev), "user/groups"), arg);
}

FN(f_sourceips)
{
	put_items(out, at(root(ev), "sourceIPs"), arg);
}

/* The target pod: the object of a pods request. */
FN(f_target_pod_name)
{
	const cJSON *r = root(ev);
	const char *res = cJSON_GetStringValue(at(r, "objectRef/resource"));
	if (res && !strcmp(res, "pods"))
		put_val(out, at(r, "objectRef/name"));
}

/* ka.uri.param[key]: the first value of key in the URI's query, decoded. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

FN(f_uri_param)
{
	const char *uri = cJSON_GetStringValue(at(root(ev), "requestURI"));
	const char *q = uri ? strchr(uri, '?') : NULL;
	if (!q || !arg->key)
		return;
	size_t kl = strlen(arg->key);
	for (const char *p = q + 1; *p;) {
		const char *end = strchr(p, '&');
		if (!end)
			end = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *kend = eq ? eq : end;
		if ((size_t)(kend - p) == kl && !memcmp(p, arg->key, kl)) {
			char v[VG_STR_MAX];
			size_t n = 0;
			for (const char *s = eq ? eq + 1 : end; s < end && n < sizeof(v) - 1; s++) {
				int h1, h2;
				if (*s == '%' && end - s > 2 && (h1 = hexval(s[1])) >= 0 &&
				    (h2 = hexval(s[2])) >= 0) {
					v[n++] = (char)(h1 * 16 + h2);
					s += 2;
				} else {
					v[n++] = *s == '+' ? ' ' : *s;
				}
			}
			vg_fvals_strcpy(out, v, n);
			return;
		}
		p = *end ? end + 1 : end;
	}
}

FN(f_cluster_name)
{
	/* an API server does not say which cluster it serves: unset */
}

/* ------------------------------------------------------------------ */
/* the request object: pods                                            */

enum ckind { C_MAIN, C_INIT, C_EPHEMERAL };
static const char *const cpath[] = {"spec/containers", "spec/initContainers",
				    "spec/ephemeralContainers"};

typedef void (*cfn)(struct vg_fvals *out, const cJSON *pod, const cJSON *c);

/* fn on each container of a kind (or the one of the index) */
static void each_container(const struct vg_event *ev, const struct vg_farg *arg,
			   struct vg_fvals *out, enum ckind k, cfn fn)
{
	const cJSON *pod = req(ev);
	const cJSON *arr = at(pod, cpath[k]);
	if (!cJSON_IsArray(arr))
		return;
	int i = 0;
	for (const cJSON *c = arr->child; c; c = c->next, i++)
		if (arg->kind != 1 || arg->index == i)
			fn(out, pod, c);
}

/* "docker.io/falcosecurity/falco:0.1@sha256:..." -> its repository */
static void put_repo(struct vg_fvals *out, const char *img)
{
	if (!img)
		return;
	size_t n = strcspn(img, "@");
	/* a ':' after the last '/' starts the tag (one before is a port) */
	for (size_t i = n; i-- > 0 && img[i] != '/';)
		if (img[i] == ':') {
			n = i;
			break;
		}
	vg_fvals_str(out, img, n);
}

static void c_name(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	put_val(o, at(c, "name"));
}
static void c_image(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	put_val(o, at(c, "image"));
}
static void c_repo(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	put_repo(o, cJSON_GetStringValue(at(c, "image")));
}
static void c_command(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	put_val(o, at(c, "command"));
}
static void c_args(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	put_val(o, at(c, "args"));
}
static void c_priv(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	put_flag(o, c, "securityContext/privileged");
}
static void c_ape(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	/* Kubernetes allows escalation unless told not to */
	const cJSON *v = at(c, "securityContext/allowPrivilegeEscalation");
	put_str(o, cJSON_IsFalse(v) ? "false" : "true");
}
static void c_rofs(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	put_flag(o, c, "securityContext/readOnlyRootFilesystem");
}
static void c_uid(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	put_val(o, at(c, "securityContext/runAsUser"));
}
static void c_gid(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	put_val(o, at(c, "securityContext/runAsGroup"));
}
/* the container's, else the pod's, else 0 (root) */
static void c_eff(struct vg_fvals *o, const cJSON *p, const cJSON *c, const char *key)
{
	char path[64];
	snprintf(path, sizeof(path), "securityContext/%s", key);
	const cJSON *v = at(c, path);
	if (!v)
		v = at(at(p, "spec"), path);
	if (v)
		put_val(o, v);
	else
		put_str(o, "0");
}
static void c_euid(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	c_eff(o, p, c, "runAsUser");
}
static void c_egid(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	c_eff(o, p, c, "runAsGroup");
}
static void c_procmount(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	put_val(o, at(c, "securityContext/procMount"));
}
static void c_caps(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	static const struct vg_farg all = {0};
	put_items(o, at(c, "securityContext/capabilities/add"), &all);
}
static void c_hostport(struct vg_fvals *o, const cJSON *p, const cJSON *c)
{
	(void)p;
	const cJSON *ports = at(c, "ports");
	if (cJSON_IsArray(ports))
		for (const cJSON *pt = ports->child; pt; pt = pt->next)
			put_val(o, at(pt, "hostPort"));
}

#define CFIELD(fname, kind, fn)                                                                    \
	FN(fname)                                                                                  \
	{                                                                                          \
		each_container(ev, arg, out, kind, fn);                                            \
	}
#define CFIELDS(pre, kind)                                                                         \
	CFIELD(pre##_name, kind, c_name)                                                           \
	CFIELD(pre##_image, kind, c_image)                                                         \
	CFIELD(pre##_repo, kind, c_repo)                                                           \
	CFIELD(pre##_command, kind, c_command)                                                     \
	CFIELD(pre##_args, kind, c_args)                                                           \
	CFIELD(pre##_priv, kind, c_priv)                                                           \
	CFIELD(pre##_ape, kind, c_ape)                                                             \
	CFIELD(pre##_rofs, kind, c_rofs)                                                           \
	CFIELD(pre##_uid, kind, c_uid)                                                             \
	CFIELD(pre##_euid, kind, c_euid)                                                           \
	CFIELD(pre##_gid, kind, c_gid)                                                             \
	CFIELD(pre##_egid, kind, c_egid)                                                           \
	CFIELD(pre##_procmount, kind, c_procmount)                                                 \
	CFIELD(pre##_caps, kind, c_caps)                                                           \
	CFIELD(pre##_hostport, kind, c_hostport)

CFIELDS(f_c, C_MAIN)
CFIELDS(f_ic, C_INIT)
CFIELDS(f_ec, C_EPHEMERAL)

/* the deprecated single-valued forms: the first container */
FN(f_container_image)
{
	const cJSON *arr = at(req(ev), "spec/containers");
	if (cJSON_IsArray(arr) && arr->child)
		put_val(out, at(arr->child, "image"));
}

FN(f_container_repo)
{
	const cJSON *arr = at(req(ev), "spec/containers");
	if (cJSON_IsArray(arr) && arr->child)
		put_repo(out, cJSON_GetStringValue(at(arr->child, "image")));
}

/* true when any container is privileged */
FN(f_container_priv)
{
	const cJSON *arr = at(req(ev), "spec/containers");
	if (!cJSON_IsArray(arr))
		return;
	bool any = false;
	for (const cJSON *c = arr->child; c; c = c->next)
		any |= cJSON_IsTrue(at(c, "securityContext/privileged"));
	put_str(out, any ? "true" : "false");
}

#define PODFLAG(fname, path)                                                                       \
	FN(fname)                                                                                  \
	{                                                                                          \
		const cJSON *spec = at(req(ev), "spec");                                           \
		if (spec)                                                                          \
			put_flag(out, spec, path);                                                 \
	}
PODFLAG(f_pod_host_ipc, "hostIPC")
PODFLAG(f_pod_host_network, "hostNetwork")
PODFLAG(f_pod_host_pid, "hostPID")

#define PODVAL(fname, path)                                                                        \
	FN(fname)                                                                                  \
	{                                                                                          \
		put_val(out, at(req(ev), path));                                                   \
	}
PODVAL(f_pod_run_as_user, "spec/securityContext/runAsUser")
PODVAL(f_pod_run_as_group, "spec/securityContext/runAsGroup")
PODVAL(f_pod_fs_group, "spec/securityContext/fsGroup")

FN(f_pod_supplemental_groups)
{
	put_items(out, at(req(ev), "spec/securityContext/supplementalGroups"), arg);
}

/* fn on each volume (or the one of the index) */
static void each_volume(const struct vg_event *ev, const struct vg_farg *arg, struct vg_fvals *out,
			void (*fn)(struct vg_fvals *, const cJSON *))
{
	const cJSON *arr = at(req(ev), "spec/volumes");
	if (!cJSON_IsArray(arr))
		return;
	int i = 0;
	for (const cJSON *v = arr->child; v; v = v->next, i++)
		if (arg->kind != 1 || arg->index == i)
			fn(out, v);
}

static void v_hostpath(struct vg_fvals *o, const cJSON *v)
{
	put_val(o, at(v, "hostPath/path"));
}
static void v_flex(struct vg_fvals *o, const cJSON *v)
{
	put_val(o, at(v, "flexVolume/driver"));
}
/* the volume's source: its member other than name */
static void v_type(struct vg_fvals *o, const cJSON *v)
{
	for (const cJSON *m = cJSON_IsObject(v) ? v->child : NULL; m; m = m->next)
		if (m->string && strcmp(m->string, "name")) {
			put_str(o, m->string);
			return;
		}
}

FN(f_vol_hostpath)
{
	each_volume(ev, arg, out, v_hostpath);
}
FN(f_vol_flex)
{
	each_volume(ev, arg, out, v_flex);
}
FN(f_vol_type)
{
	each_volume(ev, arg, out, v_type);
}

/* ka.req.volume.hostpath[prefix]: "true" when a hostPath volume starts
 * with prefix (deprecated in the plugin, kept for old rules) */
FN(f_volume_hostpath)
{
	const cJSON *arr = at(req(ev), "spec/volumes");
	if (!cJSON_IsArray(arr) || !arg->key)
		return;
	size_t kl = strlen(arg->key);
	bool any = false;
	for (const cJSON *v = arr->child; v; v = v->next) {
		const char *p = cJSON_GetStringValue(at(v, "hostPath/path"));
		any |= p && !strncmp(p, arg->key, kl);
	}
	put_str(out, any ? "true" : "false");
}

/* ------------------------------------------------------------------ */
/* the request object: bindings, roles, configmaps, services           */

PATHSTR(f_binding_role, "requestObject/roleRef/name")
PATHSTR(f_configmap_name, "requestObject/metadata/name")
PATHSTR(f_configmap_obj, "requestObject/data")
PATHSTR(f_service_type, "requestObject/spec/type")

FN(f_binding_subjects)
{
	put_items(out, at(req(ev), "subjects"), arg);
}

static void subjects_of(const struct vg_event *ev, struct vg_fvals *out, const char *kind,
			bool with_ns)
{
	const cJSON *arr = at(req(ev), "subjects");
	if (!cJSON_IsArray(arr))
		return;
	for (const cJSON *s = arr->child; s; s = s->next) {
		const char *k = cJSON_GetStringValue(at(s, "kind"));
		const char *n = cJSON_GetStringValue(at(s, "name"));
		if (!k || !n || strcmp(k, kind))
			continue;
		if (with_ns) {
			const char *ns = cJSON_GetStringValue(at(s, "namespace"));
			put_fmt(out, "%s:%s", ns ? ns : "", n);
		} else {
			put_str(out, n);
		}
	}
}

FN(f_subjects_users)
{
	subjects_of(ev, out, "User", false);
}
FN(f_subjects_sa)
{
	subjects_of(ev, out, "ServiceAccount", false);
}
FN(f_subjects_sa_ns)
{
	subjects_of(ev, out, "ServiceAccount", true);
}
FN(f_subjects_groups)
{
	subjects_of(ev, out, "Group", false);
}

FN(f_subject_has_name)
{
	put_str(out, "N/A"); /* deprecated in the plugin: always N/A */
}

FN(f_role_rules)
{
	put_items(out, at(req(ev), "rules"), arg);
}

/* every member of each rule's array `key` (or of the rule of the index) */
static void rule_items(const struct vg_event *ev, const struct vg_farg *arg, struct vg_fvals *out,
		       const char *key)
{
	const cJSON *arr = at(req(ev), "rules");
	if (!cJSON_IsArray(arr))
		return;
	static const struct vg_farg all = {0};
	int i = 0;
	for (const cJSON *r = arr->child; r; r = r->next, i++)
		if (arg->kind != 1 || arg->index == i)
			put_items(out, at(r, key), &all);
}

FN(f_rules_apigroups)
{
	rule_items(ev, arg, out, "apiGroups");
}
FN(f_rules_nonresource)
{
	rule_items(ev, arg, out, "nonResourceURLs");
}
FN(f_rules_verbs)
{
	rule_items(ev, arg, out, "verbs");
}
FN(f_rules_resources)
{
	rule_items(ev, arg, out, "resources");
}

FN(f_service_ports)
{
	put_items(out, at(req(ev), "spec/ports"), arg);
}

/* ------------------------------------------------------------------ */
/* jevt.*: the event as JSON                                           */

/* RFC 6901: "/a/b~1c/0" ("~1" is '/', "~0" is '~'); "" is the whole. */
static const cJSON *pointer(const cJSON *o, const char *p)
{
	char tok[256];
	while (o && *p) {
		if (*p != '/')
			return NULL;
		p++;
		size_t n = 0;
		for (; *p && *p != '/'; p++) {
			char c = *p;
			if (c == '~' && (p[1] == '0' || p[1] == '1'))
				c = *++p == '0' ? '~' : '/';
			if (n >= sizeof(tok) - 1)
				return NULL;
			tok[n++] = c;
		}
		tok[n] = '\0';
		if (cJSON_IsArray(o)) {
			char *e;
			if (!n || (n > 1 && tok[0] == '0') || tok[0] < '0' || tok[0] > '9')
				return NULL;
			long i = strtol(tok, &e, 10);
			if (*e || i < 0 || i > 1000000)
				return NULL;
			o = cJSON_GetArrayItem(o, (int)i);
		} else if (cJSON_IsObject(o)) {
			o = cJSON_GetObjectItemCaseSensitive(o, tok);
		} else {
			return NULL;
		}
	}
	return o;
}

FN(f_jevt_value)
{
	const cJSON *r = root(ev);
	if (r && arg->key)
		put_val(out, pointer(r, arg->key));
}

FN(f_jevt_obj)
{
	const cJSON *r = root(ev);
	if (r)
		put_json(out, r);
}

FN(f_jevt_time)
{
	if (!root(ev))
		return;
	time_t s = (time_t)(ev->ts / 1000000000u);
	struct tm tm;
	if (!gmtime_r(&s, &tm))
		return;
	put_fmt(out, "%02d:%02d:%02d.%09u", tm.tm_hour, tm.tm_min, tm.tm_sec,
		(unsigned)(ev->ts % 1000000000u));
}

FN(f_jevt_time_iso8601)
{
	if (!root(ev))
		return;
	time_t s = (time_t)(ev->ts / 1000000000u);
	struct tm tm;
	if (!gmtime_r(&s, &tm))
		return;
	put_fmt(out, "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ev->ts % 1000000000u));
}

FN(f_jevt_rawtime)
{
	if (root(ev))
		vg_fvals_u64(out, ev->ts);
}

/* ------------------------------------------------------------------ */
/* the table                                                           */

/* A Falco list field: `in` holds when every value is in the set. */
#define SL (LIST | VG_FF_SETCMP)

#define CROWS(pre, fp, what)                                                                       \
	{"ka.req.pod." pre ".name", S, IDX | SL, fp##_name, "names of the " what},                 \
		{"ka.req.pod." pre ".image", S, IDX | SL, fp##_image, "images of the " what},      \
		{"ka.req.pod." pre ".image.repository", S, IDX | SL, fp##_repo,                    \
		 "image repositories (no tag, no digest) of the " what},                           \
		{"ka.req.pod." pre ".command", S, IDX | SL, fp##_command,                          \
		 "command of each of the " what ", as JSON"},                                      \
		{"ka.req.pod." pre ".args", S, IDX | SL, fp##_args,                                \
		 "args of each of the " what ", as JSON"},                                         \
		{"ka.req.pod." pre ".privileged", S, IDX | SL, fp##_priv,                          \
		 "privileged flag of each of the " what " (false when unset)"},                    \
		{"ka.req.pod." pre ".allow_privilege_escalation", S, IDX | SL, fp##_ape,           \
		 "allowPrivilegeEscalation of each of the " what " (true when unset)"},            \
		{"ka.req.pod." pre ".read_only_fs", S, IDX | SL, fp##_rofs,                        \
		 "readOnlyRootFilesystem of each of the " what " (false when unset)"},             \
		{"ka.req.pod." pre ".run_as_user", S, IDX | SL, fp##_uid,                          \
		 "runAsUser of the " what " that set one"},                                        \
		{"ka.req.pod." pre ".eff_run_as_user", S, IDX | SL, fp##_euid,                     \
		 "uid each of the " what " starts with: its runAsUser, the pod's, else 0"},        \
		{"ka.req.pod." pre ".run_as_group", S, IDX | SL, fp##_gid,                         \
		 "runAsGroup of the " what " that set one"},                                       \
		{"ka.req.pod." pre ".eff_run_as_group", S, IDX | SL, fp##_egid,                    \
		 "gid each of the " what " starts with: its runAsGroup, the pod's, else 0"},       \
		{"ka.req.pod." pre ".proc_mount", S, IDX | SL, fp##_procmount,                     \
		 "procMount of the " what " that set one"},                                        \
		{"ka.req.pod." pre ".add_capabilities", S, IDX | SL, fp##_caps,                    \
		 "capabilities added by the " what},                                               \
	{                                                                                          \
		"ka.req.pod." pre ".host_port", S, IDX | SL, fp##_hostport,                        \
			"hostPort values of the " what                                             \
	}

const struct vg_field vg_fields_audit[] = {
	{"ka.auditid", S, 0, f_auditid, "unique id of the audit event"},
	{"ka.stage", S, 0, f_stage, "stage of the request (ResponseComplete, ResponseStarted...)"},
	{"ka.auth.decision", S, 0, f_auth_decision, "authorization decision (allow, forbid)"},
	{"ka.auth.reason", S, 0, f_auth_reason, "why the request was authorized or not"},
	{"ka.validations.admission.policy.failure", S, 0, f_vap_failure,
	 "validation failure of a ValidatingAdmissionPolicy"},
	{"ka.security.pod.violations", S, 0, f_pod_violations,
	 "pod security standard violations of the request"},
	{"ka.user.name", S, 0, f_user_name, "user who made the request"},
	{"ka.user.groups", S, IDX | SL, f_user_groups, "groups of that user"},
	{"ka.impuser.name", S, 0, f_impuser_name, "user impersonated by the request"},
	{"ka.verb", S, 0, f_verb, "verb of the request (get, create, patch...)"},
	{"ka.uri", S, 0, f_uri, "request URI as the client sent it"},
	{"ka.uri.param", S, KEY | REQ, f_uri_param,
	 "first value of a query parameter of the URI (ka.uri.param[command])"},
	{"ka.target.name", S, 0, f_target_name, "name of the object of the request"},
	{"ka.target.namespace", S, 0, f_target_namespace, "namespace of that object"},
	{"ka.target.resource", S, 0, f_target_resource, "its resource (pods, configmaps...)"},
	{"ka.target.subresource", S, 0, f_target_subresource,
	 "subresource of the request (exec, attach, log...)"},
	{"ka.target.pod.name", S, 0, f_target_pod_name, "the target's name when it is a pod"},
	{"ka.req.binding.subjects", S, IDX | SL, f_binding_subjects,
	 "subjects of a (cluster) role binding, as JSON"},
	{"ka.req.binding.subjects.user_names", S, SL, f_subjects_users,
	 "user names among those subjects"},
	{"ka.req.binding.subjects.serviceaccount_names", S, SL, f_subjects_sa,
	 "service account names among those subjects"},
	{"ka.req.binding.subjects.serviceaccount_ns_names", S, SL, f_subjects_sa_ns,
	 "service accounts among those subjects as namespace:name"},
	{"ka.req.binding.subjects.group_names", S, SL, f_subjects_groups,
	 "group names among those subjects"},
	{"ka.req.binding.role", S, 0, f_binding_role, "role a (cluster) role binding grants"},
	{"ka.req.binding.subject.has_name", S, KEY | REQ, f_subject_has_name,
	 "deprecated: always N/A"},
	{"ka.req.configmap.name", S, 0, f_configmap_name, "name of a configmap in the request"},
	{"ka.req.configmap.obj", S, 0, f_configmap_obj, "data of that configmap, as JSON"},
	CROWS("containers", f_c, "pod's containers"),
	CROWS("initContainers", f_ic, "pod's init containers"),
	CROWS("ephemeralContainers", f_ec, "pod's ephemeral containers"),
	{"ka.req.container.image", S, 0, f_container_image,
	 "deprecated: image of the first container"},
	{"ka.req.container.image.repository", S, 0, f_container_repo,
	 "deprecated: image repository of the first container"},
	{"ka.req.container.privileged", S, 0, f_container_priv,
	 "deprecated: true when any container is privileged"},
	{"ka.req.container.host_network", S, 0, f_pod_host_network,
	 "deprecated: ka.req.pod.host_network"},
	{"ka.req.pod.host_ipc", S, 0, f_pod_host_ipc, "hostIPC of the pod (false when unset)"},
	{"ka.req.pod.host_network", S, 0, f_pod_host_network,
	 "hostNetwork of the pod (false when unset)"},
	{"ka.req.pod.host_pid", S, 0, f_pod_host_pid, "hostPID of the pod (false when unset)"},
	{"ka.req.pod.run_as_user", S, 0, f_pod_run_as_user, "runAsUser of the pod"},
	{"ka.req.pod.run_as_group", S, 0, f_pod_run_as_group, "runAsGroup of the pod"},
	{"ka.req.pod.fs_group", S, 0, f_pod_fs_group, "fsGroup of the pod"},
	{"ka.req.pod.supplemental_groups", S, IDX | SL, f_pod_supplemental_groups,
	 "supplementalGroups of the pod"},
	{"ka.req.pod.volumes.hostpath", S, IDX | SL, f_vol_hostpath,
	 "paths of the pod's hostPath volumes"},
	{"ka.req.volume.hostpath", S, KEY | REQ, f_volume_hostpath,
	 "deprecated: true when a hostPath volume starts with the key"},
	{"ka.req.pod.volumes.flexvolume_driver", S, IDX | SL, f_vol_flex,
	 "drivers of the pod's flexVolume volumes"},
	{"ka.req.pod.volumes.volume_type", S, IDX | SL, f_vol_type,
	 "source type of each volume of the pod (hostPath, configMap...)"},
	{"ka.req.role.rules", S, IDX | SL, f_role_rules, "rules of a (cluster) role, as JSON"},
	{"ka.req.role.rules.apiGroups", S, IDX | SL, f_rules_apigroups,
	 "API groups of those rules (of rule n with an index)"},
	{"ka.req.role.rules.nonResourceURLs", S, IDX | SL, f_rules_nonresource,
	 "non-resource URLs of those rules"},
	{"ka.req.role.rules.verbs", S, IDX | SL, f_rules_verbs, "verbs of those rules"},
	{"ka.req.role.rules.resources", S, IDX | SL, f_rules_resources, "resources of those rules"},
	{"ka.req.service.type", S, 0, f_service_type, "type of a service in the request"},
	{"ka.req.service.ports", S, IDX | SL, f_service_ports, "ports of that service, as JSON"},
	{"ka.resp.name", S, 0, f_resp_name, "name of the object in the response"},
	{"ka.response.code", S, 0, f_response_code, "HTTP status code of the response"},
	{"ka.response.reason", S, 0, f_response_reason, "reason of the response (failures)"},
	{"ka.useragent", S, 0, f_useragent, "user agent of the client"},
	{"ka.sourceips", S, IDX | SL, f_sourceips, "addresses the request came from"},
	{"ka.cluster.name", S, 0, f_cluster_name, "name of the cluster; unset (not in the event)"},
	{"jevt.value", S, KEY | REQ, f_jevt_value,
	 "value at a JSON pointer in the audit event (jevt.value[/objectRef/name])"},
	{"jevt.obj", S, 0, f_jevt_obj, "the whole audit event as JSON"},
	{"jevt.time", S, 0, f_jevt_time, "time of the audit event, with nanoseconds (UTC)"},
	{"jevt.time.iso8601", S, 0, f_jevt_time_iso8601, "time of the audit event, ISO 8601"},
	{"jevt.rawtime", U, 0, f_jevt_rawtime, "time of the audit event in ns since the epoch"},
};
const size_t vg_fields_audit_count = sizeof(vg_fields_audit) / sizeof(vg_fields_audit[0]);
