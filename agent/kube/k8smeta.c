/* k8smeta.c - see k8smeta.h.
 *
 * Writer (k8s service thread): pod records and namespace records, each
 * immutable once built and reference-counted; a changed pod or namespace
 * gets a new record.  A snapshot is an open-addressing index container id
 * -> struct vg_container_meta whose strings point into the records it holds
 * references to, so publishing never copies strings and a snapshot stays
 * intact however long the reader keeps it.
 */
#include "k8smeta.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s_util.h"
#include "snapshot.h"
#include "util.h"

/* --- records --------------------------------------------------------------- */

struct nsrec {
	_Atomic long ref;
	char *name;
	struct vg_label *labels;
	size_t nlabels;
};

struct podctr {
	char cid[VG_CONTAINER_ID_LEN];
	char *name, *image, *repo, *tag;
	int privileged;
	uint64_t start_ts;
};

struct podrec {
	_Atomic long ref;
	char *name, *uid, *ns;
	struct vg_label *labels;
	size_t nlabels;
	struct podctr *ctrs;
	size_t nctrs;
};

static void labels_free(struct vg_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)l[i].key);
		free((char *)l[i].value);
	}
	free(l);
}

static void nsrec_unref(struct nsrec *r)
{
	if (!r || atomic_fetch_sub(&r->ref, 1) != 1)
		return;
	free(r->name);
	labels_free(r->labels, r->nlabels);
	free(r);
}

static void podrec_unref(struct podrec *r)
{
	if (!r || atomic_fetch_sub(&r->ref, 1) != 1)
		return;
	free(r->name);
	free(r->uid);
	free(r->ns);
	labels_free(r->labels, r->nlabels);
	for (size_t i = 0; i < r->nctrs; i++) {
		free(r->ctrs[i].name);
		free(r->ctrs[i].image);
		free(r->ctrs[i].repo);
		free(r->ctrs[i].tag);
	}
	free(r->ctrs);
	free(r);
}

/* --- snapshots ------------------------------------------------------------------- */

struct snap {
	struct vg_snap base; /* first: a struct vg_snap * is a struct snap * */
	struct vg_container_meta *metas;
	char (*ids)[VG_CONTAINER_ID_LEN];
	size_t n;
	uint32_t *idx; /* slot -> meta index + 1; 0 empty */
	size_t nidx;   /* power of two */
	struct podrec **pods;
	size_t npods;
	struct vg_container_meta *pmetas; /* per pod: its members, no container's */
	struct nsrec **nss;
	size_t nns;
};

static void snap_destroy(struct vg_snap *base)
{
	struct snap *s = (struct snap *)base;
	for (size_t i = 0; i < s->npods; i++)
		podrec_unref(s->pods[i]);
	for (size_t i = 0; i < s->nns; i++)
		nsrec_unref(s->nss[i]);
	free(s->pods);
	free(s->pmetas);
	free(s->nss);
	free(s->metas);
	free(s->ids);
	free(s->idx);
	free(s);
}

static const struct vg_container_meta *snap_find(const struct snap *s, const char *id)
{
	if (!s || !s->nidx)
		return NULL;
	size_t mask = s->nidx - 1;
	for (size_t i = k8s_hash_str(id) & mask;; i = (i + 1) & mask) {
		uint32_t v = s->idx[i];
		if (!v)
			return NULL;
		if (!strcmp(s->ids[v - 1], id))
			return &s->metas[v - 1];
	}
}

/* --- the module -------------------------------------------------------------------- */

struct vg_k8smeta {
	struct k8s_client *c;
	struct vg_k8smeta_opts o;
	char *node;
	cJSON *pod_shape, *ns_shape;
	struct k8s_informer *pods_inf, *ns_inf;

	/* writer (service thread) */
	struct k8s_map pods; /* "ns/name" -> podrec */
	struct k8s_map nss;  /* name -> nsrec */
	struct k8s_timer pub_timer;
	struct k8s_timer trim_timer;
	bool pub_armed, dirty;
	bool pods_synced, ns_synced;

	/* published */
	struct vg_snap_pub pub;
	_Atomic size_t pub_n;
	_Atomic bool synced;

	/* reader (capture thread) */
	struct vg_snap_reader rd;
};

static void publish(struct vg_k8smeta *m)
{
	size_t nctr = 0;
	for (size_t i = 0; i < m->pods.nb; i++)
		for (struct k8s_map_ent *e = m->pods.b[i]; e; e = e->next)
			nctr += ((struct podrec *)e->val)->nctrs;
	struct snap *s = vg_xcalloc(1, sizeof(*s));
	vg_snap_init(&s->base, snap_destroy);
	s->metas = vg_xcalloc(nctr ? nctr : 1, sizeof(*s->metas));
	s->ids = vg_xcalloc(nctr ? nctr : 1, sizeof(*s->ids));
	s->nidx = 16;
	while (s->nidx < nctr * 2)
		s->nidx *= 2;
	s->idx = vg_xcalloc(s->nidx, sizeof(*s->idx));
	s->pods = vg_xcalloc(m->pods.n ? m->pods.n : 1, sizeof(*s->pods));
	s->pmetas = vg_xcalloc(m->pods.n ? m->pods.n : 1, sizeof(*s->pmetas));
	s->nss = vg_xcalloc(m->nss.n ? m->nss.n : 1, sizeof(*s->nss));
	for (size_t i = 0; i < m->nss.nb; i++) {
		for (struct k8s_map_ent *e = m->nss.b[i]; e; e = e->next) {
			struct nsrec *r = e->val;
			atomic_fetch_add(&r->ref, 1);
			s->nss[s->nns++] = r;
		}
	}
	size_t mask = s->nidx - 1;
	for (size_t i = 0; i < m->pods.nb; i++) {
		for (struct k8s_map_ent *e = m->pods.b[i]; e; e = e->next) {
			struct podrec *p = e->val;
			atomic_fetch_add(&p->ref, 1);
			struct nsrec *ns = k8s_map_get(&m->nss, p->ns);
			struct vg_container_meta *pm = &s->pmetas[s->npods];
			pm->privileged = -1;
			pm->pod_name = p->name;
			pm->pod_uid = p->uid;
			pm->ns_name = p->ns;
			pm->pod_labels = p->labels;
			pm->npod_labels = p->nlabels;
			pm->ns_labels = ns ? ns->labels : NULL;
			pm->nns_labels = ns ? ns->nlabels : 0;
			s->pods[s->npods++] = p;
			for (size_t k = 0; k < p->nctrs; k++) {
				struct podctr *pc = &p->ctrs[k];
				if (snap_find(s, pc->cid))
					continue; /* the same id twice: keep the first */
				struct vg_container_meta *cm = &s->metas[s->n];
				cm->name = pc->name;
				cm->image = pc->image;
				cm->image_repo = pc->repo;
				cm->image_tag = pc->tag;
				cm->privileged = pc->privileged;
				cm->start_ts = pc->start_ts;
				cm->pod_name = p->name;
				cm->pod_uid = p->uid;
				cm->ns_name = p->ns;
				cm->pod_labels = p->labels;
				cm->npod_labels = p->nlabels;
				cm->ns_labels = ns ? ns->labels : NULL;
				cm->nns_labels = ns ? ns->nlabels : 0;
				memcpy(s->ids[s->n], pc->cid, VG_CONTAINER_ID_LEN);
				size_t j = k8s_hash_str(pc->cid) & mask;
				while (s->idx[j])
					j = (j + 1) & mask;
				s->idx[j] = (uint32_t)(++s->n);
			}
		}
	}
	atomic_store(&m->pub_n, s->n); /* before the generation says it is there */
	uint64_t gen = vg_snap_publish(&m->pub, &s->base);
	m->dirty = false;
	if (m->pods_synced && m->ns_synced)
		atomic_store(&m->synced, true);
	if (m->o.on_publish)
		m->o.on_publish(m->o.ctx, gen);
}

static void pub_fire(void *arg)
{
	struct vg_k8smeta *m = arg;
	m->pub_armed = false;
	if (m->dirty)
		publish(m);
}

static void mark_dirty(struct vg_k8smeta *m)
{
	m->dirty = true;
	/* before the first sync a snapshot would be incomplete anyway */
	if (!(m->pods_synced && m->ns_synced) || m->pub_armed)
		return;
	m->pub_armed = true;
	k8s_timer_arm(&m->pub_timer, (uint64_t)m->o.publish_ms * 1000000ull);
}

/* --- building records from objects ---------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static struct vg_label *labels_of(const cJSON *obj, size_t *n)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(md, "labels");
	*n = 0;
	int cnt = cJSON_IsObject(labels) ? cJSON_GetArraySize(labels) : 0;
	if (cnt <= 0)
		return NULL;
	struct vg_label *l = vg_xcalloc((size_t)cnt, sizeof(*l));
	const cJSON *it;
	cJSON_ArrayForEach(it, labels)
	{
		if (!cJSON_IsString(it) || !it->string)
			continue;
		l[*n].key = vg_xstrdup(it->string);
		l[*n].value = vg_xstrdup(it->valuestring);
		(*n)++;
	}
	return l;
}

static uint64_t parse_time(const char *s)
{
	if (!s)
		return 0;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!e)
		return 0;
	time_t t = timegm(&tm);
	return t > 0 ? (uint64_t)t * 1000000000ull : 0;
}

/* The spec entry of container name in spec.containers/initContainers/
 * ephemeralContainers. */
static const cJSON *spec_container(const cJSON *spec, const char *list, const char *name)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(spec, list);
	const cJSON *c;
	cJSON_ArrayForEach(c, arr)
	{
		const char *n = jstr(c, "name");
		if (n && !strcmp(n, name))
			return c;
	}
	return NULL;
}

static struct podrec *podrec_build(const cJSON *pod)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(pod, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(pod, "spec");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(pod, "status");
	const char *name = jstr(md, "name"), *ns = jstr(md, "namespace"), *uid = jstr(md, "uid");
	if (!name || !ns)
		return NULL;
	struct podrec *p = vg_xcalloc(1, sizeof(*p));
	atomic_init(&p->ref, 1);
	p->name = vg_xstrdup(name);
	p->ns = vg_xstrdup(ns);
	p->uid = vg_xstrdup(uid ? uid : "");
	p->labels = labels_of(pod, &p->nlabels);
	static const char *lists[][2] = {{"containerStatuses", "containers"},
					 {"initContainerStatuses", "initContainers"},
					 {"ephemeralContainerStatuses", "ephemeralContainers"}};
	size_t cap = 0;
	for (size_t l = 0; l < 3; l++) {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(status, lists[l][0]);
		cap += cJSON_IsArray(arr) ? (size_t)cJSON_GetArraySize(arr) : 0;
	}
	p->ctrs = vg_xcalloc(cap ? cap : 1, sizeof(*p->ctrs));
	for (size_t l = 0; l < 3; l++) {
		const cJSON *arr = cJSON_GetObjectItemCaseSensitive(status, lists[l][0]);
		const cJSON *cs;
		cJSON_ArrayForEach(cs, arr)
		{
			struct podctr *pc = &p->ctrs[p->nctrs];
			if (vg_k8smeta_container_id(jstr(cs, "containerID"), pc->cid))
				continue; /* not started yet */
			const char *cname = jstr(cs, "name");
			const cJSON *sc = cname ? spec_container(spec, lists[l][1], cname) : NULL;
			const char *image = jstr(sc, "image");
			if (!image)
				image = jstr(cs, "image");
			pc->name = vg_xstrdup(cname ? cname : "");
			pc->image = vg_xstrdup(image ? image : "");
			char *digest;
			vg_k8smeta_image_split(pc->image, &pc->repo, &pc->tag, &digest);
			free(digest);
			const cJSON *sec = cJSON_GetObjectItemCaseSensitive(sc, "securityContext");
			const cJSON *priv = cJSON_GetObjectItemCaseSensitive(sec, "privileged");
			pc->privileged = cJSON_IsBool(priv) ? cJSON_IsTrue(priv) : (sc ? 0 : -1);
			const cJSON *state = cJSON_GetObjectItemCaseSensitive(cs, "state");
			const cJSON *run = cJSON_GetObjectItemCaseSensitive(state, "running");
			pc->start_ts = parse_time(jstr(run, "startedAt"));
			p->nctrs++;
		}
	}
	return p;
}

static struct nsrec *nsrec_build(const cJSON *ns)
{
	const char *name = k8s_meta_str(ns, "name");
	if (!name)
		return NULL;
	struct nsrec *r = vg_xcalloc(1, sizeof(*r));
	atomic_init(&r->ref, 1);
	r->name = vg_xstrdup(name);
	r->labels = labels_of(ns, &r->nlabels);
	return r;
}

/* --- informer callbacks (service thread) ------------------------------------------------ */

/* Keep only the members listed (an object of the same shape: true = keep
 * the whole value, an object = recurse, for arrays into each element). */
static void keep_only(cJSON *obj, const cJSON *shape)
{
	if (!cJSON_IsObject(obj))
		return;
	cJSON *it = obj->child;
	while (it) {
		cJSON *next = it->next;
		const cJSON *sh =
			it->string ? cJSON_GetObjectItemCaseSensitive(shape, it->string) : NULL;
		if (!sh) {
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, it));
		} else if (cJSON_IsObject(sh)) {
			if (cJSON_IsArray(it)) {
				cJSON *el;
				cJSON_ArrayForEach(el, it) keep_only(el, sh);
			} else {
				keep_only(it, sh);
			}
		}
		it = next;
	}
}

/* What podrec_build reads, and resourceVersion (the informer compares it). */
static const char POD_SHAPE[] =
	"{\"metadata\":{\"name\":true,\"namespace\":true,\"uid\":true,\"labels\":true,"
	"\"resourceVersion\":true},"
	"\"spec\":{\"containers\":{\"name\":true,\"image\":true,\"securityContext\":{"
	"\"privileged\":true}},\"initContainers\":{\"name\":true,\"image\":true,"
	"\"securityContext\":{\"privileged\":true}},\"ephemeralContainers\":{\"name\":true,"
	"\"image\":true,\"securityContext\":{\"privileged\":true}}},"
	"\"status\":{\"containerStatuses\":{\"name\":true,\"image\":true,\"containerID\":true,"
	"\"state\":{\"running\":true}},\"initContainerStatuses\":{\"name\":true,\"image\":"
	"true,\"containerID\":true,\"state\":{\"running\":true}},"
	"\"ephemeralContainerStatuses\":{\"name\":true,\"image\":true,\"containerID\":true,"
	"\"state\":{\"running\":true}}}}";

static void pod_prune(void *ctx, cJSON *obj)
{
	struct vg_k8smeta *m = ctx;
	keep_only(obj, m->pod_shape);
}

static void ns_prune(void *ctx, cJSON *obj)
{
	struct vg_k8smeta *m = ctx;
	keep_only(obj, m->ns_shape);
}

static void pod_set(void *ctx, const cJSON *obj)
{
	struct vg_k8smeta *m = ctx;
	char *key = k8s_object_key(obj);
	struct podrec *p = podrec_build(obj);
	if (key && p)
		podrec_unref(k8s_map_put(&m->pods, key, p));
	else
		podrec_unref(p);
	free(key);
	mark_dirty(m);
}

static void pod_update(void *ctx, const cJSON *old, const cJSON *obj)
{
	(void)old;
	pod_set(ctx, obj);
}

static void pod_delete(void *ctx, const cJSON *obj)
{
	struct vg_k8smeta *m = ctx;
	char *key = k8s_object_key(obj);
	if (key)
		podrec_unref(k8s_map_del(&m->pods, key));
	free(key);
	mark_dirty(m);
}

static void ns_set(void *ctx, const cJSON *obj)
{
	struct vg_k8smeta *m = ctx;
	struct nsrec *r = nsrec_build(obj);
	if (r)
		nsrec_unref(k8s_map_put(&m->nss, r->name, r));
	mark_dirty(m);
}

static void ns_update(void *ctx, const cJSON *old, const cJSON *obj)
{
	(void)old;
	ns_set(ctx, obj);
}

static void ns_delete(void *ctx, const cJSON *obj)
{
	struct vg_k8smeta *m = ctx;
	const char *name = k8s_meta_str(obj, "name");
	if (name)
		nsrec_unref(k8s_map_del(&m->nss, name));
	mark_dirty(m);
}

/* A list (5K pods: tens of MB of JSON pages and their cJSON trees) leaves
 * the heap at its peak: the freed pages stay resident, interleaved with the
 * records built meanwhile.  Hand them back once the list's buffers are
 * gone (the client frees the last page after the callbacks). */
static void trim_fire(void *arg)
{
	(void)arg;
	malloc_trim(0);
}

static void pods_synced(void *ctx)
{
	struct vg_k8smeta *m = ctx;
	m->pods_synced = true;
	k8s_timer_arm(&m->trim_timer, 500000000ull);
	if (m->ns_synced)
		publish(m);
}

static void ns_synced(void *ctx)
{
	struct vg_k8smeta *m = ctx;
	m->ns_synced = true;
	if (m->pods_synced)
		publish(m);
}

/* --- lifecycle ------------------------------------------------------------------------------ */

struct vg_k8smeta *vg_k8smeta_new(struct k8s_client *c, const struct vg_k8smeta_opts *o, char *err,
				  size_t errlen)
{
	if (!o->node_name || !o->node_name[0]) {
		k8s_set_err(err, errlen, "k8s metadata: the node name is not set");
		return NULL;
	}
	struct vg_k8smeta *m = vg_xcalloc(1, sizeof(*m));
	m->c = c;
	m->o = *o;
	m->node = vg_xstrdup(o->node_name);
	m->o.node_name = m->node;
	if (!m->o.publish_ms)
		m->o.publish_ms = 50;
	vg_snap_pub_init(&m->pub);
	k8s_timer_init(&m->pub_timer, c, pub_fire, m);
	k8s_timer_init(&m->trim_timer, c, trim_fire, m);
	m->pod_shape = cJSON_Parse(POD_SHAPE);
	m->ns_shape = cJSON_Parse("{\"metadata\":{\"name\":true,\"labels\":true,"
				  "\"resourceVersion\":true}}");
	size_t fl = strlen(m->node) + 32;
	char *fsel = vg_xmalloc(fl);
	snprintf(fsel, fl, "spec.nodeName=%s", m->node);
	struct k8s_informer_opts po = {
		.resource = "pods",
		.path = "/api/v1/pods",
		.field_selector = fsel,
		.watch_timeout_min_s = o->watch_timeout_s,
		.watch_timeout_max_s = o->watch_timeout_s,
		.idle_timeout_s = o->idle_timeout_s,
		.transform = pod_prune,
		.cache_keys_only = true, /* podrec holds what we need */
		.on_add = pod_set,
		.on_update = pod_update,
		.on_delete = pod_delete,
		.on_synced = pods_synced,
		.ctx = m,
	};
	m->pods_inf = k8s_informer_new(c, &po, err, errlen);
	free(fsel);
	struct k8s_informer_opts no = {
		.resource = "namespaces",
		.path = "/api/v1/namespaces",
		.metadata_only = true,
		.watch_timeout_min_s = o->watch_timeout_s,
		.watch_timeout_max_s = o->watch_timeout_s,
		.idle_timeout_s = o->idle_timeout_s,
		.transform = ns_prune,
		.cache_keys_only = true, /* nsrec holds what we need */
		.on_add = ns_set,
		.on_update = ns_update,
		.on_delete = ns_delete,
		.on_synced = ns_synced,
		.ctx = m,
	};
	if (m->pods_inf)
		m->ns_inf = k8s_informer_new(c, &no, err, errlen);
	if (!m->pods_inf || !m->ns_inf) {
		vg_k8smeta_free(m);
		return NULL;
	}
	return m;
}

void vg_k8smeta_start(struct vg_k8smeta *m)
{
	k8s_informer_start(m->ns_inf);
	k8s_informer_start(m->pods_inf);
}

static void stop_timer(void *arg)
{
	struct vg_k8smeta *m = arg;
	k8s_timer_cancel(&m->pub_timer);
	k8s_timer_cancel(&m->trim_timer);
	m->pub_armed = false;
}

static void unref_pod(void *v)
{
	podrec_unref(v);
}

static void unref_ns(void *v)
{
	nsrec_unref(v);
}

void vg_k8smeta_free(struct vg_k8smeta *m)
{
	if (!m)
		return;
	k8s_informer_free(m->pods_inf);
	k8s_informer_free(m->ns_inf);
	k8s_client_call(m->c, stop_timer, m);
	k8s_map_free(&m->pods, unref_pod);
	k8s_map_free(&m->nss, unref_ns);
	vg_snap_reader_drop(&m->rd);
	vg_snap_pub_destroy(&m->pub);
	cJSON_Delete(m->pod_shape);
	cJSON_Delete(m->ns_shape);
	free(m->node);
	free(m);
}

bool vg_k8smeta_synced(struct vg_k8smeta *m)
{
	return atomic_load(&m->synced);
}

struct k8s_informer *vg_k8smeta_pods(struct vg_k8smeta *m)
{
	return m->pods_inf;
}

struct k8s_informer *vg_k8smeta_namespaces(struct vg_k8smeta *m)
{
	return m->ns_inf;
}

void vg_k8smeta_reader_sync(struct vg_k8smeta *m)
{
	vg_snap_reader_sync(&m->rd, &m->pub);
}

const struct vg_container_meta *vg_k8smeta_lookup(void *ctx, const char *container_id)
{
	struct vg_k8smeta *m = ctx;
	return snap_find((const struct snap *)m->rd.cur, container_id);
}

const struct vg_container_meta *vg_k8smeta_lookup_pod(void *ctx, const char *pod_uid)
{
	struct vg_k8smeta *m = ctx;
	const struct snap *s = (const struct snap *)m->rd.cur;
	for (size_t i = 0; s && pod_uid && i < s->npods; i++)
		if (s->pods[i]->uid && !strcmp(s->pods[i]->uid, pod_uid))
			return &s->pmetas[i];
	return NULL;
}

uint64_t vg_k8smeta_generation(struct vg_k8smeta *m)
{
	return vg_snap_generation(&m->pub);
}

size_t vg_k8smeta_containers(struct vg_k8smeta *m)
{
	return atomic_load(&m->pub_n);
}

/* --- pure helpers ------------------------------------------------------------------------------
 */

int vg_k8smeta_container_id(const char *id, char out[VG_CONTAINER_ID_LEN])
{
	out[0] = '\0';
	if (!id)
		return -1;
	const char *sep = strstr(id, "://");
	if (sep)
		id = sep + 3;
	size_t n = strlen(id);
	if (n < 12)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
		      (ch >= 'A' && ch <= 'F')))
			return -1;
	}
	for (size_t i = 0; i < 12; i++)
		out[i] = (char)(id[i] >= 'A' && id[i] <= 'F' ? id[i] - 'A' + 'a' : id[i]);
	out[12] = '\0';
	return 0;
}

void vg_k8smeta_image_split(const char *image, char **repo, char **tag, char **digest)
{
	if (!image)
		image = "";
	const char *at = strchr(image, '@');
	size_t base_len = at ? (size_t)(at - image) : strlen(image);
	*digest = vg_xstrdup(at ? at + 1 : "");
	/* a ':' after the last '/' starts the tag; one before it is a
	 * registry port ("reg:5000/app") */
	const char *slash = NULL;
	for (const char *p = image; p < image + base_len; p++)
		if (*p == '/')
			slash = p;
	const char *colon = NULL;
	for (const char *p = slash ? slash : image; p < image + base_len; p++)
		if (*p == ':')
			colon = p;
	if (colon) {
		*repo = vg_xstrndup(image, (size_t)(colon - image));
		*tag = vg_xstrndup(colon + 1, base_len - (size_t)(colon - image) - 1);
	} else {
		*repo = vg_xstrndup(image, base_len);
		*tag = vg_xstrdup("");
	}
}
