/* k8s_informer.c - see k8s_informer.h.
 *
 * Everything but the public readers runs on the client's service thread:
 * the state machine (list pages -> watch -> re-watch / relist / backoff)
 * needs no lock; the cache is changed under inf->mu only so that other
 * threads may read it.
 */
#include "k8s_informer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_util.h"

#define NS_PER_S 1000000000ull

/* --- the cache: a k8s_map key -> cJSON object ------------------------------ */

static void obj_delete(void *obj)
{
	cJSON_Delete(obj);
}

static void cache_clear(struct k8s_map *m)
{
	k8s_map_free(m, obj_delete);
}

/* --- object helpers ------------------------------------------------------------ */

/* Reduce obj to what the informer itself needs (opts.cache_keys_only). */
static void keys_only(cJSON *obj)
{
	static const char *const keep[] = {"name", "namespace", "resourceVersion"};
	for (cJSON *it = obj ? obj->child : NULL, *next; it; it = next) {
		next = it->next;
		if (!it->string || strcmp(it->string, "metadata") != 0)
			cJSON_Delete(cJSON_DetachItemViaPointer(obj, it));
	}
	cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	for (cJSON *it = md ? md->child : NULL, *next; it; it = next) {
		next = it->next;
		size_t k = 0;
		while (k < 3 && (!it->string || strcmp(it->string, keep[k]) != 0))
			k++;
		if (k == 3)
			cJSON_Delete(cJSON_DetachItemViaPointer(md, it));
	}
}

const char *k8s_meta_str(const cJSON *obj, const char *field)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, field);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *k8s_object_key(const cJSON *obj)
{
	const char *name = k8s_meta_str(obj, "name");
	if (!name || !name[0])
		return NULL;
	const char *ns = k8s_meta_str(obj, "namespace");
	if (!ns || !ns[0])
		return k8s_xstrdup(name);
	size_t n = strlen(ns) + strlen(name) + 2;
	char *k = k8s_xmalloc(n);
	snprintf(k, n, "%s/%s", ns, name);
	return k;
}

bool k8s_status_needs_relist(const cJSON *st)
{
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(st, "code");
	const cJSON *reason = cJSON_GetObjectItemCaseSensitive(st, "reason");
	int c = cJSON_IsNumber(code) ? code->valueint : 0;
	if (c == 410)
		return true;
	if (cJSON_IsString(reason) &&
	    (!strcmp(reason->valuestring, "Expired") || !strcmp(reason->valuestring, "Gone")))
		return true;
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(st, "details");
	const cJSON *causes = cJSON_GetObjectItemCaseSensitive(details, "causes");
	const cJSON *cause;
	cJSON_ArrayForEach(cause, causes)
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(cause, "reason");
		if (cJSON_IsString(t) && !strcmp(t->valuestring, "ResourceVersionTooLarge"))
			return true;
	}
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(st, "message");
	if (c == 504 && cJSON_IsString(msg) &&
	    strstr(msg->valuestring, "Too large resource version"))
		return true;
	return false;
}

/* --- state --------------------------------------------------------------------- */

struct k8s_informer;
static void prune(struct k8s_informer *inf, cJSON *obj);

struct k8s_informer {
	struct k8s_client *c;
	struct k8s_informer_opts o; /* strings below are private copies */
	char *resource, *path, *lsel, *fsel, *initial_rv;

	pthread_mutex_t mu; /* the cache, for readers on other threads */
	struct k8s_map cache;

	/* service thread only */
	struct k8s_map pending; /* objects of the list in progress */
	struct k8s_call *call;
	struct k8s_timer retry;
	void (*retry_fn)(void *);
	struct k8s_backoff bo;
	struct k8s_linebuf lb;
	char *rv;	   /* last resourceVersion seen */
	char *cont;	   /* continue token of the list in progress */
	bool list_from_rv; /* the next list asks for rv (NotOlderThan) */
	bool stopped;
	bool want_relist;    /* set by an ERROR event of the current watch */
	bool stream_err;     /* a watch line could not be used */
	bool watch_got_data; /* the current watch delivered an event */
	uint64_t watch_start;
	int err_code;
	char err_reason[64];
	char err_msg[512];

	_Atomic bool synced;
	_Atomic size_t nobjects;
	_Atomic uint64_t lists, relists, watches, events, errors;
};

static void do_list(void *arg);
static void do_watch(void *arg);
static void do_probe(struct k8s_informer *inf);

static void add_selectors(struct k8s_buf *b, const struct k8s_informer_opts *o)
{
	if (o->label_selector && o->label_selector[0]) {
		k8s_buf_adds(b, "&labelSelector=");
		k8s_buf_add_query(b, o->label_selector);
	}
	if (o->field_selector && o->field_selector[0]) {
		k8s_buf_adds(b, "&fieldSelector=");
		k8s_buf_add_query(b, o->field_selector);
	}
}

char *k8s_informer_list_path(const struct k8s_informer_opts *o, const char *rv, const char *cont)
{
	struct k8s_buf b = {0};
	k8s_buf_printf(&b, "%s?limit=%u", o->path, o->page_size ? o->page_size : 500);
	if (cont && cont[0]) {
		k8s_buf_adds(&b, "&continue=");
		k8s_buf_add_query(&b, cont);
	} else if (rv && rv[0]) {
		k8s_buf_adds(&b, "&resourceVersion=");
		k8s_buf_add_query(&b, rv);
		k8s_buf_adds(&b, "&resourceVersionMatch=NotOlderThan");
	}
	add_selectors(&b, o);
	return b.p;
}

char *k8s_informer_watch_path(const struct k8s_informer_opts *o, const char *rv, unsigned timeout_s)
{
	struct k8s_buf b = {0};
	k8s_buf_printf(&b, "%s?watch=1&allowWatchBookmarks=true&timeoutSeconds=%u", o->path,
		       timeout_s);
	if (rv && rv[0]) {
		k8s_buf_adds(&b, "&resourceVersion=");
		k8s_buf_add_query(&b, rv);
	}
	add_selectors(&b, o);
	return b.p;
}

static void set_rv(struct k8s_informer *inf, const char *rv)
{
	if (!rv || !rv[0])
		return;
	if (inf->rv && !strcmp(inf->rv, rv))
		return;
	free(inf->rv);
	inf->rv = k8s_xstrdup(rv);
}

static void report_error(struct k8s_informer *inf, int code, const char *reason, const char *msg)
{
	atomic_fetch_add(&inf->errors, 1);
	if (inf->o.on_error)
		inf->o.on_error(inf->o.ctx, code, reason ? reason : "", msg ? msg : "");
}

/* Retry fn after the backoff (or Retry-After when the server gave one). */
static void schedule(struct k8s_informer *inf, void (*fn)(void *), double retry_after_s)
{
	uint64_t d = k8s_backoff_next(&inf->bo, k8s_now_mono_ns(), k8s_random01());
	if (retry_after_s >= 0) {
		/* honour the server, bounded so a bad header cannot park us */
		double ra = retry_after_s > 300 ? 300 : retry_after_s;
		d = (uint64_t)(ra * 1e9);
		if (d < 100000000ull)
			d = 100000000ull;
	}
	inf->retry_fn = fn;
	k8s_timer_arm(&inf->retry, d);
}

/* --- list -------------------------------------------------------------------------- */

/* The add or update callback of a listed object against the cache. */
static void list_callback(struct k8s_informer *inf, const char *key, const cJSON *obj)
{
	cJSON *o = k8s_map_get(&inf->cache, key);
	if (!o) {
		if (inf->o.on_add)
			inf->o.on_add(inf->o.ctx, obj);
		return;
	}
	const char *rv1 = k8s_meta_str(o, "resourceVersion");
	const char *rv2 = k8s_meta_str(obj, "resourceVersion");
	if ((!rv1 || !rv2 || strcmp(rv1, rv2)) && inf->o.on_update)
		inf->o.on_update(inf->o.ctx, o, obj);
}

/* Replace the cache with the complete list, calling back the difference. */
static void list_complete(struct k8s_informer *inf)
{
	struct k8s_map old = inf->cache;
	struct k8s_map *nw = &inf->pending;
	/* updates and adds, in the new list's order of buckets (cache_keys_only:
	 * done page by page already) */
	for (size_t i = 0; i < nw->nb && !inf->o.cache_keys_only; i++)
		for (struct k8s_map_ent *e = nw->b[i]; e; e = e->next)
			list_callback(inf, e->key, e->val);
	for (size_t i = 0; i < old.nb; i++)
		for (struct k8s_map_ent *e = old.b[i]; e; e = e->next)
			if (!k8s_map_get(nw, e->key) && inf->o.on_delete)
				inf->o.on_delete(inf->o.ctx, e->val);
	pthread_mutex_lock(&inf->mu);
	inf->cache = *nw;
	memset(nw, 0, sizeof(*nw));
	pthread_mutex_unlock(&inf->mu);
	cache_clear(&old);
	atomic_store(&inf->nobjects, inf->cache.n);
	if (atomic_fetch_add(&inf->lists, 1))
		atomic_fetch_add(&inf->relists, 1);
	atomic_store(&inf->synced, true);
	if (inf->o.on_synced)
		inf->o.on_synced(inf->o.ctx);
}

static void list_done(void *arg, const struct k8s_response *r)
{
	struct k8s_informer *inf = arg;
	inf->call = NULL;
	if (inf->stopped)
		return;
	if (r->status == 200 && r->complete && cJSON_IsObject(r->json)) {
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(r->json, "items");
		const cJSON *it;
		cJSON_ArrayForEach(it, items)
		{
			char *key = k8s_object_key(it);
			if (!key)
				continue;
			cJSON *copy = cJSON_Duplicate(it, 1);
			prune(inf, copy);
			if (inf->o.cache_keys_only) {
				/* call back now and keep the keys: the list's whole
				 * objects never pile up until its last page, and the
				 * records the callbacks build are not strewn among
				 * them (the heap would stay fragmented) */
				list_callback(inf, key, copy);
				keys_only(copy);
			}
			cJSON_Delete(k8s_map_put(&inf->pending, key, copy));
			free(key);
		}
		const cJSON *md = cJSON_GetObjectItemCaseSensitive(r->json, "metadata");
		const cJSON *cont = cJSON_GetObjectItemCaseSensitive(md, "continue");
		const cJSON *rv = cJSON_GetObjectItemCaseSensitive(md, "resourceVersion");
		free(inf->cont);
		inf->cont = NULL;
		if (cJSON_IsString(cont) && cont->valuestring[0]) {
			inf->cont = k8s_xstrdup(cont->valuestring);
			do_list(inf);
			return;
		}
		if (cJSON_IsString(rv))
			set_rv(inf, rv->valuestring);
		inf->list_from_rv = true;
		list_complete(inf);
		do_watch(inf);
		return;
	}
	/* the list failed: drop the partial one */
	cache_clear(&inf->pending);
	bool had_cont = inf->cont != NULL;
	free(inf->cont);
	inf->cont = NULL;
	if (r->status == 410 || (r->json && k8s_status_needs_relist(r->json))) {
		/* our resourceVersion (or the continue token) is too old, or
		 * newer than the server's (ResourceVersionTooLarge): list from
		 * scratch, at once */
		if (inf->list_from_rv || had_cont) {
			inf->list_from_rv = false;
			do_list(inf);
			return;
		}
	}
	report_error(inf, r->status, r->reason, r->message);
	schedule(inf, do_list, r->status == 429 ? r->retry_after_s : -1);
}

static void prune(struct k8s_informer *inf, cJSON *obj)
{
	cJSON *md = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	cJSON_DeleteItemFromObjectCaseSensitive(md, "managedFields");
	if (inf->o.transform)
		inf->o.transform(inf->o.ctx, obj);
}

/* A list request for path (freed); the metadata-only view lists partial
 * objects. */
static void start_list(struct k8s_informer *inf, char *path,
		       void (*on_done)(void *arg, const struct k8s_response *r))
{
	struct k8s_request r = {
		.path = path,
		.accept = inf->o.metadata_only
				  ? "application/"
				    "json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,"
				    "application/json"
				  : K8S_CT_JSON,
		.verb = "list",
		.resource = inf->resource,
		.on_done = on_done,
		.ctx = inf,
	};
	inf->call = k8s_client_request(inf->c, &r);
	free(path);
}

static void do_list(void *arg)
{
	struct k8s_informer *inf = arg;
	if (inf->stopped)
		return;
	char *path = k8s_informer_list_path(&inf->o, inf->list_from_rv ? inf->rv : NULL, inf->cont);
	start_list(inf, path, list_done);
}

/* --- watch ------------------------------------------------------------------------- */

static int watch_line(void *arg, char *line, size_t len)
{
	struct k8s_informer *inf = arg;
	cJSON *ev = cJSON_ParseWithLength(line, len);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
	if (!cJSON_IsString(type) || !cJSON_IsObject(obj)) {
		snprintf(inf->err_msg, sizeof(inf->err_msg), "watch %s: not a watch event: %.200s",
			 inf->resource, line);
		cJSON_Delete(ev);
		inf->stream_err = true;
		return 1;
	}
	const char *t = type->valuestring;
	if (inf->o.on_event)
		inf->o.on_event(inf->o.ctx, t, obj);
	inf->watch_got_data = true;
	if (!strcmp(t, "ERROR")) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");
		const cJSON *reason = cJSON_GetObjectItemCaseSensitive(obj, "reason");
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(obj, "message");
		inf->err_code = cJSON_IsNumber(code) ? code->valueint : 0;
		snprintf(inf->err_reason, sizeof(inf->err_reason), "%s",
			 cJSON_IsString(reason) ? reason->valuestring : "");
		snprintf(inf->err_msg, sizeof(inf->err_msg), "%s",
			 cJSON_IsString(msg) ? msg->valuestring : "watch ERROR event");
		if (k8s_status_needs_relist(obj))
			inf->want_relist = true;
		else
			inf->stream_err = true;
		cJSON_Delete(ev);
		return 1;
	}
	const char *rv = k8s_meta_str(obj, "resourceVersion");
	if (!strcmp(t, "BOOKMARK")) {
		set_rv(inf, rv);
		cJSON_Delete(ev);
		return 0;
	}
	char *key = k8s_object_key(obj);
	if (!key) {
		cJSON_Delete(ev);
		return 0;
	}
	atomic_fetch_add(&inf->events, 1);
	cJSON_DetachItemViaPointer(ev, obj);
	prune(inf, obj);
	set_rv(inf, rv);
	if (!strcmp(t, "ADDED") || !strcmp(t, "MODIFIED")) {
		pthread_mutex_lock(&inf->mu);
		cJSON *old = k8s_map_put(&inf->cache, key, obj);
		pthread_mutex_unlock(&inf->mu);
		free(key);
		atomic_store(&inf->nobjects, inf->cache.n);
		if (old) {
			if (inf->o.on_update)
				inf->o.on_update(inf->o.ctx, old, obj);
		} else if (inf->o.on_add) {
			inf->o.on_add(inf->o.ctx, obj);
		}
		cJSON_Delete(old);
		if (inf->o.cache_keys_only) {
			pthread_mutex_lock(&inf->mu);
			keys_only(obj);
			pthread_mutex_unlock(&inf->mu);
		}
	} else if (!strcmp(t, "DELETED")) {
		pthread_mutex_lock(&inf->mu);
		cJSON *old = k8s_map_del(&inf->cache, key);
		pthread_mutex_unlock(&inf->mu);
		atomic_store(&inf->nobjects, inf->cache.n);
		free(key);
		if (old && inf->o.on_delete)
			inf->o.on_delete(inf->o.ctx, obj);
		cJSON_Delete(old);
		cJSON_Delete(obj);
	} else {
		free(key);
		cJSON_Delete(obj);
	}
	cJSON_Delete(ev);
	return 0;
}

static int watch_data(void *arg, const char *data, size_t len)
{
	struct k8s_informer *inf = arg;
	k8s_backoff_ok(&inf->bo, k8s_now_mono_ns());
	int rc = k8s_linebuf_feed(&inf->lb, data, len, watch_line, inf);
	if (rc < 0) {
		snprintf(inf->err_msg, sizeof(inf->err_msg), "watch %s: event too large",
			 inf->resource);
		inf->stream_err = true;
	}
	return rc;
}

static void watch_done(void *arg, const struct k8s_response *r)
{
	struct k8s_informer *inf = arg;
	inf->call = NULL;
	if (inf->stopped)
		return;
	k8s_linebuf_reset(&inf->lb);
	if (inf->want_relist || r->status == 410 ||
	    (r->status != 200 && r->json && k8s_status_needs_relist(r->json))) {
		/* 410: list from our resourceVersion (NotOlderThan), falling
		 * back to a fresh list; too large: our version is bogus */
		bool too_large = inf->want_relist ? inf->err_code == 504 : r->status == 504;
		inf->list_from_rv = !too_large;
		if (too_large) {
			free(inf->rv);
			inf->rv = NULL;
		}
		inf->want_relist = false;
		do_list(inf);
		return;
	}
	if (inf->stream_err) {
		inf->stream_err = false;
		report_error(inf, inf->err_code, inf->err_reason, inf->err_msg);
		inf->err_code = 0;
		inf->err_reason[0] = '\0';
		schedule(inf, do_watch, -1);
		return;
	}
	if (r->status == 200 && r->complete) {
		/* a clean end (timeoutSeconds): re-watch at once, unless the
		 * server keeps ending watches immediately */
		uint64_t took = k8s_now_mono_ns() - inf->watch_start;
		if (took < NS_PER_S && !inf->watch_got_data) {
			schedule(inf, do_watch, -1);
			return;
		}
		if (!inf->watch_got_data && took >= 5 * NS_PER_S) {
			/* a watch from a resourceVersion the server has not
			 * reached yet (restored etcd...) stays silent: check
			 * the version with a one-item list before going on */
			do_probe(inf);
			return;
		}
		do_watch(inf);
		return;
	}
	/* a stream that broke off is a transport error, whatever its status */
	report_error(inf, r->status == 200 ? 0 : r->status, r->reason, r->message);
	schedule(inf, do_watch, r->status == 429 ? r->retry_after_s : -1);
}

static void probe_done(void *arg, const struct k8s_response *r)
{
	struct k8s_informer *inf = arg;
	inf->call = NULL;
	if (inf->stopped)
		return;
	if (r->status == 200) {
		do_watch(inf);
		return;
	}
	if (r->status == 410 || (r->json && k8s_status_needs_relist(r->json))) {
		bool too_large = r->status == 504;
		inf->list_from_rv = !too_large;
		if (too_large) {
			free(inf->rv);
			inf->rv = NULL;
		}
		do_list(inf);
		return;
	}
	report_error(inf, r->status, r->reason, r->message);
	schedule(inf, do_watch, r->status == 429 ? r->retry_after_s : -1);
}

static void do_probe(struct k8s_informer *inf)
{
	struct k8s_informer_opts o = inf->o;
	o.page_size = 1;
	char *path = k8s_informer_list_path(&o, inf->rv, NULL);
	start_list(inf, path, probe_done);
}

static void do_watch(void *arg)
{
	struct k8s_informer *inf = arg;
	if (inf->stopped)
		return;
	if (!inf->rv) {
		do_list(inf);
		return;
	}
	unsigned lo = inf->o.watch_timeout_min_s, hi = inf->o.watch_timeout_max_s;
	unsigned t = lo;
	if (hi > lo)
		t = lo + (unsigned)(k8s_random01() * (double)(hi - lo));
	char *path = k8s_informer_watch_path(&inf->o, inf->rv, t);
	struct k8s_request r = {
		.path = path,
		.accept = inf->o.metadata_only
				  ? "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,"
				    "application/json"
				  : K8S_CT_JSON,
		.verb = "watch",
		.resource = inf->resource,
		.on_data = watch_data,
		.idle_timeout_s = inf->o.idle_timeout_s,
		.on_done = watch_done,
		.ctx = inf,
	};
	inf->watch_got_data = false;
	inf->watch_start = k8s_now_mono_ns();
	atomic_fetch_add(&inf->watches, 1);
	inf->call = k8s_client_request(inf->c, &r);
	free(path);
}

/* --- lifecycle ---------------------------------------------------------------------- */

static void retry_fire(void *arg)
{
	struct k8s_informer *inf = arg;
	inf->retry_fn(inf);
}

static char *dup_or_null(const char *s)
{
	return s ? k8s_xstrdup(s) : NULL;
}

struct k8s_informer *k8s_informer_new(struct k8s_client *c, const struct k8s_informer_opts *o,
				      char *err, size_t errlen)
{
	if (!o->path || o->path[0] != '/') {
		k8s_set_err(err, errlen, "informer: path must be an absolute API path");
		return NULL;
	}
	if (strchr(o->path, '?')) {
		k8s_set_err(err, errlen, "informer %s: give selectors as options, not in the path",
			    o->path);
		return NULL;
	}
	struct k8s_informer *inf = k8s_xcalloc(1, sizeof(*inf));
	inf->c = c;
	inf->o = *o;
	/* default label: the collection's last path segment ("pods") */
	inf->resource = k8s_xstrdup(o->resource ? o->resource : strrchr(o->path, '/') + 1);
	inf->path = k8s_xstrdup(o->path);
	inf->lsel = dup_or_null(o->label_selector);
	inf->fsel = dup_or_null(o->field_selector);
	inf->initial_rv = dup_or_null(o->initial_resource_version);
	inf->o.resource = inf->resource;
	inf->o.path = inf->path;
	inf->o.label_selector = inf->lsel;
	inf->o.field_selector = inf->fsel;
	inf->o.initial_resource_version = inf->initial_rv;
	if (!inf->o.page_size)
		inf->o.page_size = 500;
	if (!inf->o.watch_timeout_min_s)
		inf->o.watch_timeout_min_s = 300;
	if (!inf->o.watch_timeout_max_s)
		inf->o.watch_timeout_max_s =
			inf->o.watch_timeout_min_s > 600 ? inf->o.watch_timeout_min_s : 600;
	if (inf->o.watch_timeout_max_s < inf->o.watch_timeout_min_s)
		inf->o.watch_timeout_max_s = inf->o.watch_timeout_min_s;
	if (!inf->o.idle_timeout_s)
		inf->o.idle_timeout_s = 150;
	pthread_mutex_init(&inf->mu, NULL);
	k8s_timer_init(&inf->retry, c, retry_fire, inf);
	inf->retry_fn = do_list;
	return inf;
}

static void start_fn(void *arg)
{
	struct k8s_informer *inf = arg;
	if (inf->initial_rv && inf->initial_rv[0]) {
		set_rv(inf, inf->initial_rv);
		do_watch(inf);
	} else {
		do_list(inf);
	}
}

void k8s_informer_start(struct k8s_informer *inf)
{
	k8s_client_post(inf->c, start_fn, inf);
}

static void stop_fn(void *arg)
{
	struct k8s_informer *inf = arg;
	inf->stopped = true;
	k8s_timer_cancel(&inf->retry);
	if (inf->call) {
		k8s_call_cancel(inf->call);
		inf->call = NULL;
	}
}

void k8s_informer_free(struct k8s_informer *inf)
{
	if (!inf)
		return;
	k8s_client_call(inf->c, stop_fn, inf);
	cache_clear(&inf->cache);
	cache_clear(&inf->pending);
	k8s_linebuf_free(&inf->lb);
	pthread_mutex_destroy(&inf->mu);
	free(inf->rv);
	free(inf->cont);
	free(inf->resource);
	free(inf->path);
	free(inf->lsel);
	free(inf->fsel);
	free(inf->initial_rv);
	free(inf);
}

bool k8s_informer_synced(struct k8s_informer *inf)
{
	return atomic_load(&inf->synced);
}

void k8s_informer_stats(struct k8s_informer *inf, struct k8s_informer_stats *out)
{
	out->objects = atomic_load(&inf->nobjects);
	out->lists = atomic_load(&inf->lists);
	out->relists = atomic_load(&inf->relists);
	out->watches = atomic_load(&inf->watches);
	out->restarts = out->watches ? out->watches - 1 : 0;
	out->events = atomic_load(&inf->events);
	out->errors = atomic_load(&inf->errors);
	out->synced = atomic_load(&inf->synced);
}

const char *k8s_informer_resource(const struct k8s_informer *inf)
{
	return inf->resource;
}

cJSON *k8s_informer_get(struct k8s_informer *inf, const char *ns, const char *name)
{
	size_t n = (ns ? strlen(ns) : 0) + strlen(name) + 2;
	char *key = k8s_xmalloc(n);
	if (ns && ns[0])
		snprintf(key, n, "%s/%s", ns, name);
	else
		snprintf(key, n, "%s", name);
	pthread_mutex_lock(&inf->mu);
	cJSON *o = k8s_map_get(&inf->cache, key);
	cJSON *r = o ? cJSON_Duplicate(o, 1) : NULL;
	pthread_mutex_unlock(&inf->mu);
	free(key);
	return r;
}

void k8s_informer_foreach(struct k8s_informer *inf, void (*fn)(void *ctx, const cJSON *obj),
			  void *ctx)
{
	pthread_mutex_lock(&inf->mu);
	for (size_t i = 0; i < inf->cache.nb; i++)
		for (struct k8s_map_ent *e = inf->cache.b[i]; e; e = e->next)
			fn(ctx, e->val);
	pthread_mutex_unlock(&inf->mu);
}
