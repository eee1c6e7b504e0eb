/* k8s_informer.h - list + watch one collection into a local cache.
 *
 * The informer lists the collection (paged: limit/continue), then watches
 * it from the list's resourceVersion (allowWatchBookmarks=true, a random
 * timeoutSeconds in [min, max)), keeping a cache keyed by "namespace/name"
 * (or "name" for cluster objects).  It recovers by itself:
 *   - a watch that ends cleanly: re-watch from the last resourceVersion;
 *   - 410 Expired (status or ERROR event), ResourceVersionTooLarge: relist
 *     (from the last resourceVersion, then from scratch if that is expired
 *     too), turning the difference into add/update/delete callbacks;
 *   - errors (transport, 401, 403, 5xx...): retry after an exponential
 *     backoff (0.8 s doubling to 30 s, jittered to [d, 2d), reset after 2
 *     minutes of health); 429 honours Retry-After;
 *   - a dead connection: the idle timeout closes a watch without data.
 *
 * Callbacks run on the client's service thread, one at a time; objects
 * passed to them are valid only during the call.  on_error reports every
 * failed list/watch (e.g. a 403 naming the missing permission) before the
 * retry; the informer never gives up.
 */
#ifndef VIGIL_K8S_INFORMER_H
#define VIGIL_K8S_INFORMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "k8s_client.h"

struct k8s_informer;

struct k8s_informer_opts {
	const char *resource;	    /* metrics label, messages: "pods" */
	const char *path;	    /* collection: "/api/v1/pods", "/apis/g/v/namespaces/ns/x" */
	const char *label_selector; /* raw selector text (escaped here), NULL = all */
	const char *field_selector; /* e.g. "spec.nodeName=node-1" */
	/* Namespaces etc.: ask for PartialObjectMetadata(List) only. */
	bool metadata_only;
	unsigned page_size;	      /* list limit; 0 = 500 */
	unsigned watch_timeout_min_s; /* 0 = 300 */
	unsigned watch_timeout_max_s; /* 0 = 600 (exclusive; == min: fixed) */
	unsigned idle_timeout_s;      /* watch without any data; 0 = 150 */
	/* Tests: skip the first list and watch from this resourceVersion (an
	 * expired or future one provokes 410 / ResourceVersionTooLarge). */
	const char *initial_resource_version;

	/* Prune an object before it is cached (memory: keep only what the
	 * callbacks need).  metadata.managedFields is always dropped. */
	void (*transform)(void *ctx, cJSON *obj);
	/* Cache only metadata.name, namespace and resourceVersion of each
	 * object once the callbacks have seen it whole (memory, when the
	 * callbacks keep their own form): on_update's old, a relist's
	 * on_delete and k8s_informer_get/foreach then see only those.  The
	 * add/update callbacks of a list then run page by page, as each page
	 * arrives (a list that fails midway may call some of them again). */
	bool cache_keys_only;
	void (*on_add)(void *ctx, const cJSON *obj);
	void (*on_update)(void *ctx, const cJSON *old, const cJSON *obj);
	void (*on_delete)(void *ctx, const cJSON *obj);
	void (*on_synced)(void *ctx); /* after every complete list */
	/* code: HTTP status or Status.code, 0 = transport; message readable */
	void (*on_error)(void *ctx, int code, const char *reason, const char *message);
	/* every event of a watch, also BOOKMARK and ERROR (tests, debugging) */
	void (*on_event)(void *ctx, const char *type, const cJSON *obj);
	void *ctx;
};

struct k8s_informer_stats {
	size_t objects;	   /* in the cache now */
	uint64_t lists;	   /* complete lists */
	uint64_t relists;  /* lists after the first */
	uint64_t watches;  /* watch requests started */
	uint64_t restarts; /* watches started after the first one */
	uint64_t events;   /* watch events applied */
	uint64_t errors;   /* failed lists/watches */
	bool synced;	   /* a list has completed */
};

/* Create (not started).  NULL with err on bad options. */
struct k8s_informer *k8s_informer_new(struct k8s_client *c, const struct k8s_informer_opts *o,
				      char *err, size_t errlen);
/* Begin listing (any thread). */
void k8s_informer_start(struct k8s_informer *inf);
/* Stop and free (any thread but the service thread's callbacks of this
 * informer).  No callback runs after it returns. */
void k8s_informer_free(struct k8s_informer *inf);

/* Any thread. */
bool k8s_informer_synced(struct k8s_informer *inf);
void k8s_informer_stats(struct k8s_informer *inf, struct k8s_informer_stats *out);
const char *k8s_informer_resource(const struct k8s_informer *inf);
/* A copy of a cached object (cJSON_Delete it), NULL when absent.  ns NULL
 * or "" for cluster objects.  Any thread. */
cJSON *k8s_informer_get(struct k8s_informer *inf, const char *ns, const char *name);
/* Call fn for every cached object, under the cache lock (do not call other
 * informer functions from fn).  Any thread. */
void k8s_informer_foreach(struct k8s_informer *inf, void (*fn)(void *ctx, const cJSON *obj),
			  void *ctx);

/* Cache key of an object: "ns/name" or "name"; NULL without a name. */
char *k8s_object_key(const cJSON *obj);
/* metadata.<field> string of an object, NULL when absent. */
const char *k8s_meta_str(const cJSON *obj, const char *field);

/* Is this ERROR-event / response Status one that needs a relist (410
 * Expired/Gone, or 504 with cause ResourceVersionTooLarge)? */
bool k8s_status_needs_relist(const cJSON *status);

/* The path of a list or watch request (tests): collection path plus the
 * query for these options; rv/cont may be NULL. */
char *k8s_informer_list_path(const struct k8s_informer_opts *o, const char *rv, const char *cont);
char *k8s_informer_watch_path(const struct k8s_informer_opts *o, const char *rv,
			      unsigned timeout_s);

#endif
