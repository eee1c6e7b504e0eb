/* k8s_events.c - see k8s_events.h (the pure helpers are in k8s_event_fmt.c).
 *
 * Occurrences cross to the service thread through a mutex-guarded list; all
 * series state lives on the service thread.  A series is "dirty" while it
 * has occurrences the server has not seen (count > written); the flusher
 * writes dirty series as the buckets allow, one write in flight per series.
 */
#include "k8s_events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "k8s_util.h"
#include "tbucket.h"

#define NS_PER_S 1000000000ull

/* --- state --------------------------------------------------------------------- */

struct occ {
	struct k8s_event_in in; /* private copies */
	struct occ *next;
};

/* A share of the queue and of the write budget: a namespace, or the
 * cluster's (ns ""). */
struct share {
	char *ns;
	struct series *dirty; /* its dirty series */
	size_t ndirty;
	size_t nseries;		     /* live series (a share goes when none is left) */
	struct share *rprev, *rnext; /* namespaces: the round-robin ring */
};

struct series {
	char *key, *objkey, *originkey;
	struct k8s_event_in in; /* private copies (of the first occurrence) */
	struct share *sh;
	uint32_t tag; /* hash of key: part of the name */
	char name[256];
	char ns[256];
	uint64_t first_ns, last_ns; /* wall */
	uint64_t count, written, inflight_count;
	bool created, inflight, dirty, orphan;
	unsigned attempts;
	uint64_t not_before; /* mono */
	struct k8s_backoff bo;
	struct series *dprev, *dnext; /* its share's dirty list */
	struct series *aprev, *anext; /* every series, also orphans */
	struct k8s_call *call;	      /* the write in flight */
	void *wctx;
};

struct objbucket {
	struct vg_tbucket b;
	unsigned series; /* live series of this object */
};

struct k8s_events {
	struct k8s_client *c;
	struct k8s_events_opts o;
	char *node, *controller;

	pthread_mutex_t mu; /* incoming list, last error, node uid */
	struct occ *in_head, **in_tail;
	size_t in_n_ns, in_n_cluster; /* incoming, by share class */
	bool posted;
	char last_error[512];
	char node_uid[64];

	/* on_settle, and the tracked occurrences not settled yet */
	pthread_mutex_t cbmu;
	k8s_events_settle_fn on_settle;
	void *settle_ctx;
	bool detached;
	uint64_t tracked_open;

	/* service thread */
	struct k8s_map series;
	struct k8s_map objs;
	struct k8s_map shares;	  /* ns -> struct share */
	struct k8s_map origins;	  /* Rule object -> live series (uintptr_t) */
	struct share cluster;	  /* not in shares */
	struct share *ring;	  /* namespaces with dirty series, next to serve */
	size_t ndirty, ndirty_ns; /* all, in namespace shares */
	struct vg_tbucket node_bucket;
	struct series *all;
	struct k8s_timer timer;
	uint64_t timer_at; /* mono; 0 = not armed */
	uint64_t last_sweep;
	bool stopped;

	_Atomic uint64_t emitted, created, patched, throttled, dropped, failed, retries, pending;
};

static void in_free(struct k8s_event_in *in)
{
	free((char *)in->rule);
	free((char *)in->note);
	free((char *)in->kind);
	free((char *)in->api_version);
	free((char *)in->namespace);
	free((char *)in->name);
	free((char *)in->uid);
	free((char *)in->origin_kind);
	free((char *)in->origin_ns);
	free((char *)in->origin_name);
}

static char *dup0(const char *s)
{
	return k8s_xstrdup(s ? s : "");
}

static void in_copy(struct k8s_event_in *dst, const struct k8s_event_in *src)
{
	dst->rule = dup0(src->rule);
	const char *note = src->note ? src->note : "";
	dst->note = k8s_xstrndup(note, k8s_utf8_cut(note, K8S_EVENT_NOTE_MAX));
	dst->kind = dup0(src->kind ? src->kind : "Pod");
	dst->api_version = dup0(src->api_version ? src->api_version : "v1");
	dst->namespace = dup0(src->namespace);
	dst->name = dup0(src->name);
	dst->uid = dup0(src->uid);
	dst->time_ns = src->time_ns ? src->time_ns : k8s_now_wall_ns();
	dst->origin_kind = dup0(src->origin_kind);
	dst->origin_ns = dup0(src->origin_ns);
	dst->origin_name = dup0(src->origin_name);
	dst->origin_gen = src->origin_gen;
	dst->track = src->track;
}

/* The share an occurrence counts against: its Rule's namespace, else the
 * cluster's. */
static const char *share_ns(const struct k8s_event_in *in)
{
	if (in->origin_kind && !strcmp(in->origin_kind, "Rule") && in->origin_ns &&
	    in->origin_ns[0])
		return in->origin_ns;
	return "";
}

/* Report tracked occurrences (service thread; or any thread for the
 * incoming list's cut, under cbmu all the same). */
static void settle(struct k8s_events *e, const struct k8s_event_in *in, uint64_t written,
		   uint64_t lost, const char *reason)
{
	if (!in->track || !(written || lost))
		return;
	pthread_mutex_lock(&e->cbmu);
	e->tracked_open -= written + lost;
	if (!e->detached && e->on_settle)
		e->on_settle(e->settle_ctx, share_ns(in), written, lost, reason);
	pthread_mutex_unlock(&e->cbmu);
}

static void series_free(struct k8s_events *e, struct series *s)
{
	if (s->aprev)
		s->aprev->anext = s->anext;
	else if (e->all == s)
		e->all = s->anext;
	if (s->anext)
		s->anext->aprev = s->aprev;
	free(s->key);
	free(s->objkey);
	free(s->originkey);
	in_free(&s->in);
	free(s);
}

static void ring_add(struct k8s_events *e, struct share *sh)
{
	if (sh == &e->cluster || sh->rnext)
		return;
	if (!e->ring) {
		sh->rnext = sh->rprev = sh;
		e->ring = sh;
		return;
	}
	/* just before the next one to serve: served last in this round */
	sh->rnext = e->ring;
	sh->rprev = e->ring->rprev;
	sh->rprev->rnext = sh;
	e->ring->rprev = sh;
}

static void ring_del(struct k8s_events *e, struct share *sh)
{
	if (!sh->rnext)
		return;
	if (sh->rnext == sh) {
		e->ring = NULL;
	} else {
		sh->rprev->rnext = sh->rnext;
		sh->rnext->rprev = sh->rprev;
		if (e->ring == sh)
			e->ring = sh->rnext;
	}
	sh->rnext = sh->rprev = NULL;
}

static void set_dirty(struct k8s_events *e, struct series *s, bool on)
{
	if (s->dirty == on)
		return;
	struct share *sh = s->sh;
	s->dirty = on;
	if (on) {
		s->dnext = sh->dirty;
		s->dprev = NULL;
		if (sh->dirty)
			sh->dirty->dprev = s;
		sh->dirty = s;
		sh->ndirty++;
		e->ndirty++;
		if (sh != &e->cluster) {
			e->ndirty_ns++;
			ring_add(e, sh);
		}
	} else {
		if (s->dprev)
			s->dprev->dnext = s->dnext;
		else
			sh->dirty = s->dnext;
		if (s->dnext)
			s->dnext->dprev = s->dprev;
		s->dprev = s->dnext = NULL;
		sh->ndirty--;
		e->ndirty--;
		if (sh != &e->cluster) {
			e->ndirty_ns--;
			if (!sh->ndirty)
				ring_del(e, sh);
		}
	}
	atomic_store(&e->pending, e->ndirty);
}

static void set_error(struct k8s_events *e, const char *fmt, const char *a, int code,
		      const char *msg)
{
	pthread_mutex_lock(&e->mu);
	snprintf(e->last_error, sizeof(e->last_error), fmt, a, code, msg);
	pthread_mutex_unlock(&e->mu);
}

static struct share *share_get(struct k8s_events *e, const char *ns)
{
	if (!ns[0])
		return &e->cluster;
	struct share *sh = k8s_map_get(&e->shares, ns);
	if (!sh) {
		sh = k8s_xcalloc(1, sizeof(*sh));
		sh->ns = k8s_xstrdup(ns);
		k8s_map_put(&e->shares, ns, sh);
	}
	return sh;
}

static void share_put(struct k8s_events *e, struct share *sh)
{
	if (sh == &e->cluster || --sh->nseries)
		return;
	ring_del(e, sh);
	k8s_map_del(&e->shares, sh->ns);
	free(sh->ns);
	free(sh);
}

/* Forget a series (its object's bucket goes when no series uses it). */
static void series_drop(struct k8s_events *e, struct series *s)
{
	set_dirty(e, s, false);
	if (k8s_map_get(&e->series, s->key) == s)
		k8s_map_del(&e->series, s->key);
	struct objbucket *ob = k8s_map_get(&e->objs, s->objkey);
	if (ob && --ob->series == 0)
		free(k8s_map_del(&e->objs, s->objkey));
	if (s->originkey) {
		uintptr_t n = (uintptr_t)k8s_map_get(&e->origins, s->originkey);
		if (n <= 1)
			k8s_map_del(&e->origins, s->originkey);
		else
			k8s_map_put(&e->origins, s->originkey, (void *)(n - 1));
	}
	share_put(e, s->sh);
	s->sh = NULL;
	if (s->inflight)
		s->orphan = true; /* freed when its write completes */
	else
		series_free(e, s);
}

static void flush(struct k8s_events *e);

/* --- the flusher --------------------------------------------------------------- */

struct wctx {
	struct k8s_events *e;
	struct series *s;
};

static void on_write(void *arg, const struct k8s_response *r)
{
	struct wctx *w = arg;
	struct k8s_events *e = w->e;
	struct series *s = w->s;
	free(w);
	s->inflight = false;
	s->call = NULL;
	s->wctx = NULL;
	bool ok = r->status >= 200 && r->status < 300;
	if (s->orphan) {
		if (ok) {
			atomic_fetch_add(s->created ? &e->patched : &e->created, 1);
			settle(e, &s->in, s->inflight_count - s->written, 0, NULL);
		} else {
			atomic_fetch_add(&e->failed, s->inflight_count - s->written);
			settle(e, &s->in, 0, s->inflight_count - s->written, K8S_EVENTS_R_API);
		}
		/* what came after the write in flight was dropped with the series */
		atomic_fetch_add(&e->dropped, s->count - s->inflight_count);
		settle(e, &s->in, 0, s->count - s->inflight_count, K8S_EVENTS_R_QUEUE);
		series_free(e, s);
		return;
	}
	uint64_t now = k8s_now_mono_ns();
	if (ok) {
		atomic_fetch_add(s->created ? &e->patched : &e->created, 1);
		settle(e, &s->in, s->inflight_count - s->written, 0, NULL);
		s->created = true;
		s->written = s->inflight_count;
		s->attempts = 0;
		s->bo.cur_ns = 0;
	} else if (!s->created && r->status == 409) {
		/* the name is taken (same object, same ns): take the next one */
		s->first_ns++;
		k8s_event_name_tagged(s->in.name, s->first_ns, s->tag, s->name, sizeof(s->name));
	} else if (s->created && r->status == 404) {
		/* the Event expired or was deleted: start a new one */
		s->created = false;
		s->first_ns = k8s_now_wall_ns();
		k8s_event_name_tagged(s->in.name, s->first_ns, s->tag, s->name, sizeof(s->name));
	} else if (r->status == 0 || r->status == 429 || r->status >= 500) {
		set_error(e, "event %s: HTTP %d: %s", s->name, r->status, r->message);
		if (++s->attempts >= e->o.max_attempts) {
			atomic_fetch_add(&e->failed, s->count - s->written);
			settle(e, &s->in, 0, s->count - s->written, K8S_EVENTS_R_API);
			s->written = s->count;
			s->attempts = 0;
		} else {
			atomic_fetch_add(&e->retries, 1);
			uint64_t d = k8s_backoff_next(&s->bo, now, k8s_random01());
			if (r->status == 429 && r->retry_after_s >= 0)
				d = (uint64_t)((r->retry_after_s > 300 ? 300 : r->retry_after_s) *
					       1e9);
			s->not_before = now + d;
		}
	} else {
		/* 4xx: this write cannot succeed (RBAC, validation) */
		set_error(e, "event %s: HTTP %d: %s", s->name, r->status, r->message);
		atomic_fetch_add(&e->failed, s->count - s->written);
		settle(e, &s->in, 0, s->count - s->written, K8S_EVENTS_R_API);
		s->written = s->count;
	}
	set_dirty(e, s, s->count > s->written);
	flush(e);
}

static void start_write(struct k8s_events *e, struct series *s)
{
	char t[32];
	char *body;
	struct k8s_buf path = {0};
	struct k8s_request r = {.resource = "events", .content_type = K8S_CT_JSON};
	s->inflight_count = s->count;
	if (!s->created) {
		body = k8s_event_body(&s->in, e->controller, e->node, s->name, s->ns, s->first_ns,
				      s->count, s->last_ns);
		k8s_buf_printf(&path, "/apis/events.k8s.io/v1/namespaces/%s/events", s->ns);
		r.method = "POST";
	} else {
		cJSON *o = cJSON_CreateObject();
		cJSON *series = cJSON_AddObjectToObject(o, "series");
		cJSON_AddNumberToObject(series, "count", (double)s->count);
		k8s_micro_time(s->last_ns, t);
		cJSON_AddStringToObject(series, "lastObservedTime", t);
		body = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		k8s_buf_printf(&path, "/apis/events.k8s.io/v1/namespaces/%s/events/%s", s->ns,
			       s->name);
		r.method = "PATCH";
		r.content_type = K8S_CT_MERGE_PATCH;
	}
	r.path = path.p;
	r.body = body;
	r.body_len = strlen(body);
	struct wctx *w = k8s_xcalloc(1, sizeof(*w));
	w->e = e;
	w->s = s;
	r.on_done = on_write;
	r.ctx = w;
	s->inflight = true;
	s->wctx = w;
	s->call = k8s_client_request(e->c, &r);
	if (!s->call) {
		s->inflight = false;
		s->wctx = NULL;
		free(w);
	}
	free(body);
	k8s_buf_free(&path);
}

struct sweep {
	struct k8s_events *e;
	struct series **victims;
	size_t n, cap;
	uint64_t now_wall;
};

static void sweep_collect(void *ctx, const char *key, void *val)
{
	(void)key;
	struct sweep *sw = ctx;
	struct series *s = val;
	uint64_t window = (uint64_t)sw->e->o.series_window_s * NS_PER_S;
	if (s->dirty || s->inflight || sw->now_wall - s->last_ns <= window)
		return;
	if (sw->n == sw->cap) {
		sw->cap = sw->cap ? sw->cap * 2 : 16;
		sw->victims = k8s_xrealloc(sw->victims, sw->cap * sizeof(*sw->victims));
	}
	sw->victims[sw->n++] = s;
}

/* Forget series whose window has passed (nothing pending). */
static void sweep(struct k8s_events *e)
{
	struct sweep sw = {.e = e, .now_wall = k8s_now_wall_ns()};
	k8s_map_each(&e->series, sweep_collect, &sw);
	for (size_t i = 0; i < sw.n; i++)
		series_drop(e, sw.victims[i]);
	free(sw.victims);
}

static void timer_fire(void *arg)
{
	struct k8s_events *e = arg;
	e->timer_at = 0;
	flush(e);
}

static void wake_min(uint64_t *wake, uint64_t w)
{
	if (!*wake || w < *wake)
		*wake = w;
}

/* Start up to max writes of sh's dirty series the buckets allow; returns
 * how many started.  *node_empty when the node's bucket ran out. */
static size_t flush_share(struct k8s_events *e, struct share *sh, uint64_t now, size_t max,
			  uint64_t *wake, bool *node_empty)
{
	size_t started = 0;
	for (struct series *s = sh->dirty, *next; s && started < max; s = next) {
		next = s->dnext;
		if (s->inflight)
			continue;
		if (s->not_before > now) {
			wake_min(wake, s->not_before - now);
			continue;
		}
		uint64_t wn = vg_tbucket_wait(&e->node_bucket, now);
		if (wn) {
			wake_min(wake, wn);
			*node_empty = true;
			break;
		}
		struct objbucket *ob = k8s_map_get(&e->objs, s->objkey);
		uint64_t w = ob ? vg_tbucket_wait(&ob->b, now) : 0;
		if (w) {
			wake_min(wake, w);
			continue;
		}
		if (ob)
			vg_tbucket_take(&ob->b, now);
		vg_tbucket_take(&e->node_bucket, now);
		set_dirty(e, s, false);
		start_write(e, s);
		if (s->inflight) {
			started++;
			continue;
		}
		set_dirty(e, s, true); /* could not start: the client is stopping */
	}
	return started;
}

static void flush(struct k8s_events *e)
{
	if (e->stopped)
		return;
	uint64_t now = k8s_now_mono_ns();
	uint64_t wake = 0;
	bool node_empty = false;
	/* the cluster's share first: no namespace can hold its writes back */
	flush_share(e, &e->cluster, now, SIZE_MAX, &wake, &node_empty);
	/* then the namespaces in turn, one write each per round, so the node's
	 * budget is split evenly between those that have something to write;
	 * the round starts after the one served last time.  No share is freed
	 * during a flush (only series_drop frees, and the sweep runs after). */
	size_t nr = 0;
	struct share **rr = NULL;
	if (e->ring && !node_empty) {
		struct share *sh = e->ring;
		do
			nr++;
		while ((sh = sh->rnext) != e->ring);
		rr = k8s_xcalloc(nr, sizeof(*rr));
		sh = e->ring;
		for (size_t i = 0; i < nr; i++, sh = sh->rnext)
			rr[i] = sh;
	}
	struct share *last = NULL;
	for (bool any = nr > 0; any && !node_empty;) {
		any = false;
		for (size_t i = 0; i < nr && !node_empty; i++) {
			if (rr[i]->ndirty && flush_share(e, rr[i], now, 1, &wake, &node_empty)) {
				any = true;
				last = rr[i];
			}
		}
	}
	free(rr);
	if (last && last->rnext)
		e->ring = last->rnext;
	if (now - e->last_sweep > 30 * NS_PER_S) {
		e->last_sweep = now;
		sweep(e);
	}
	/* wake for the buckets, and every 30 s to sweep while series remain */
	if (!wake && e->series.n)
		wake = 30 * NS_PER_S;
	if (wake && (!e->timer_at || now + wake < e->timer_at)) {
		e->timer_at = now + wake;
		k8s_timer_arm(&e->timer, wake);
	}
}

struct biggest {
	struct share *sh;
};

static void find_biggest(void *ctx, const char *key, void *val)
{
	(void)key;
	struct biggest *b = ctx;
	struct share *sh = val;
	if (!b->sh || sh->ndirty > b->sh->ndirty)
		b->sh = sh;
}

/* Room in the namespaces' queue for a new series of sh: when full, a
 * namespace over its fair part gives up a series never written (max-min
 * fairness: the flood of one namespace cannot keep the others out). */
static bool ns_room(struct k8s_events *e, struct share *sh)
{
	if (e->ndirty_ns < e->o.queue_max)
		return true;
	struct biggest b = {0};
	k8s_map_each(&e->shares, find_biggest, &b);
	if (!b.sh || b.sh == sh || b.sh->ndirty <= sh->ndirty + 1)
		return false;
	for (struct series *s = b.sh->dirty; s; s = s->dnext) {
		if (s->created || s->inflight)
			continue;
		atomic_fetch_add(&e->dropped, s->count);
		settle(e, &s->in, 0, s->count, K8S_EVENTS_R_QUEUE);
		s->written = s->count;
		series_drop(e, s);
		return true;
	}
	return false;
}

/* One occurrence on the service thread. */
static void take(struct k8s_events *e, struct occ *oc)
{
	char reason[K8S_EVENT_FIELD_MAX + 1];
	k8s_event_reason(oc->in.rule, reason, sizeof(reason));
	if (!strcmp(oc->in.kind, "Node") && !oc->in.uid[0] && !strcmp(oc->in.name, e->node)) {
		pthread_mutex_lock(&e->mu);
		if (e->node_uid[0]) {
			free((char *)oc->in.uid);
			oc->in.uid = k8s_xstrdup(e->node_uid);
		}
		pthread_mutex_unlock(&e->mu);
	}
	struct k8s_buf key = {0};
	k8s_buf_printf(&key, "%s/%s/%s/%s", oc->in.kind, oc->in.namespace, oc->in.name, oc->in.uid);
	char *objkey = k8s_xstrdup(key.p);
	/* the object that raised it is part of the series: a Rule using a
	 * ClusterRule's rule name gets an Event of its own */
	k8s_buf_printf(&key, "|%s|%s/%s/%s", reason, oc->in.origin_kind, oc->in.origin_ns,
		       oc->in.origin_name);
	uint64_t window = (uint64_t)e->o.series_window_s * NS_PER_S;
	struct series *s = k8s_map_get(&e->series, key.p);
	if (s && oc->in.time_ns > s->last_ns + window) {
		if (!s->inflight && s->count > s->written) {
			/* never happens while writes go through: pending 10 min */
			atomic_fetch_add(&e->dropped, s->count - s->written);
			settle(e, &s->in, 0, s->count - s->written, K8S_EVENTS_R_QUEUE);
			s->written = s->count;
		}
		series_drop(e, s); /* too old: a new Event */
		s = NULL;
	}
	if (s) {
		if (s->count > s->written && !s->inflight && s->dirty)
			atomic_fetch_add(&e->throttled, 1); /* merged into the pending write */
		else if (s->inflight && s->count > s->inflight_count)
			atomic_fetch_add(&e->throttled, 1);
		s->count++;
		if (oc->in.time_ns > s->last_ns)
			s->last_ns = oc->in.time_ns;
		if (!s->inflight)
			set_dirty(e, s, true);
		free(objkey);
		k8s_buf_free(&key);
		return;
	}
	const char *sns = share_ns(&oc->in);
	struct share *sh = share_get(e, sns);
	sh->nseries++; /* held while deciding */
	const char *why = NULL;
	char *originkey = NULL;
	if (sh != &e->cluster) {
		struct k8s_buf ok = {0};
		k8s_buf_printf(&ok, "%s/%s", oc->in.origin_ns, oc->in.origin_name);
		originkey = k8s_xstrdup(ok.p);
		k8s_buf_free(&ok);
		if ((uintptr_t)k8s_map_get(&e->origins, originkey) >= e->o.series_max_per_rule)
			why = K8S_EVENTS_R_SERIES;
		else if (!ns_room(e, sh))
			why = K8S_EVENTS_R_QUEUE;
	} else if (sh->ndirty >= e->o.queue_max) {
		why = K8S_EVENTS_R_QUEUE;
	}
	if (why) {
		atomic_fetch_add(&e->dropped, 1);
		settle(e, &oc->in, 0, 1, why);
		share_put(e, sh);
		free(originkey);
		free(objkey);
		k8s_buf_free(&key);
		return;
	}
	s = k8s_xcalloc(1, sizeof(*s));
	s->anext = e->all;
	if (e->all)
		e->all->aprev = s;
	e->all = s;
	s->key = k8s_xstrdup(key.p);
	s->tag = (uint32_t)k8s_hash_str(s->key);
	s->objkey = objkey;
	s->sh = sh;
	if (originkey) {
		s->originkey = originkey;
		uintptr_t n = (uintptr_t)k8s_map_get(&e->origins, originkey);
		k8s_map_put(&e->origins, originkey, (void *)(n + 1));
	}
	s->in = oc->in;
	memset(&oc->in, 0, sizeof(oc->in));
	s->first_ns = s->last_ns = s->in.time_ns;
	s->count = 1;
	snprintf(s->ns, sizeof(s->ns), "%s", s->in.namespace[0] ? s->in.namespace : "default");
	k8s_event_name_tagged(s->in.name, s->first_ns, s->tag, s->name, sizeof(s->name));
	k8s_map_put(&e->series, s->key, s);
	struct objbucket *ob = k8s_map_get(&e->objs, objkey);
	if (!ob) {
		ob = k8s_xcalloc(1, sizeof(*ob));
		vg_tbucket_init(&ob->b, e->o.object_rate, e->o.object_burst, k8s_now_mono_ns());
		k8s_map_put(&e->objs, objkey, ob);
	}
	ob->series++;
	set_dirty(e, s, true);
	k8s_buf_free(&key);
}

static void drain(void *arg)
{
	struct k8s_events *e = arg;
	pthread_mutex_lock(&e->mu);
	struct occ *list = e->in_head;
	e->in_head = NULL;
	e->in_tail = &e->in_head;
	e->in_n_ns = e->in_n_cluster = 0;
	e->posted = false;
	pthread_mutex_unlock(&e->mu);
	while (list) {
		struct occ *next = list->next;
		if (!e->stopped) {
			take(e, list);
		} else {
			atomic_fetch_add(&e->dropped, 1);
			settle(e, &list->in, 0, 1, K8S_EVENTS_R_SHUTDOWN);
		}
		in_free(&list->in);
		free(list);
		list = next;
	}
	flush(e);
}

/* --- public ------------------------------------------------------------------- */

struct k8s_events *k8s_events_new(struct k8s_client *c, const struct k8s_events_opts *o, char *err,
				  size_t errlen)
{
	if (!o->node_name || !o->node_name[0]) {
		k8s_set_err(err, errlen, "events: the node name is not set");
		return NULL;
	}
	struct k8s_events *e = k8s_xcalloc(1, sizeof(*e));
	e->c = c;
	e->o = *o;
	e->node = k8s_xstrdup(o->node_name);
	e->controller = k8s_xstrdup(o->controller ? o->controller : "vigil.dev/agent");
	if (!e->o.queue_max)
		e->o.queue_max = 1000;
	if (e->o.object_rate <= 0)
		e->o.object_rate = 0.2;
	if (e->o.object_burst <= 0)
		e->o.object_burst = 5;
	if (e->o.node_rate <= 0)
		e->o.node_rate = 5;
	if (e->o.node_burst <= 0)
		e->o.node_burst = 25;
	if (!e->o.series_window_s)
		e->o.series_window_s = 600;
	if (!e->o.max_attempts)
		e->o.max_attempts = 8; /* about 80 s of backoff: outlives an API server restart */
	if (!e->o.series_max_per_rule)
		e->o.series_max_per_rule = 64;
	pthread_mutex_init(&e->mu, NULL);
	pthread_mutex_init(&e->cbmu, NULL);
	e->in_tail = &e->in_head;
	e->cluster.ns = "";
	vg_tbucket_init(&e->node_bucket, e->o.node_rate, e->o.node_burst, k8s_now_mono_ns());
	k8s_timer_init(&e->timer, c, timer_fire, e);
	e->last_sweep = k8s_now_mono_ns();
	return e;
}

int k8s_events_emit(struct k8s_events *e, const struct k8s_event_in *in)
{
	atomic_fetch_add(&e->emitted, 1);
	struct occ *oc = k8s_xcalloc(1, sizeof(*oc));
	in_copy(&oc->in, in);
	bool cluster = !share_ns(&oc->in)[0];
	pthread_mutex_lock(&e->mu);
	/* a flood faster than the service thread drains is cut here, for
	 * namespaces and the cluster's share apart */
	size_t *n = cluster ? &e->in_n_cluster : &e->in_n_ns;
	if (*n >= e->o.queue_max * 10) {
		pthread_mutex_unlock(&e->mu);
		in_free(&oc->in);
		free(oc);
		atomic_fetch_add(&e->dropped, 1);
		return -1;
	}
	if (oc->in.track) {
		pthread_mutex_lock(&e->cbmu);
		e->tracked_open++;
		pthread_mutex_unlock(&e->cbmu);
	}
	*e->in_tail = oc;
	e->in_tail = &oc->next;
	(*n)++;
	bool post = !e->posted;
	e->posted = true;
	pthread_mutex_unlock(&e->mu);
	/* when the post fails the client is stopping: k8s_events_free counts
	 * what is still listed as dropped */
	if (post)
		(void)k8s_client_post(e->c, drain, e);
	return 0;
}

void k8s_events_stats(struct k8s_events *e, struct k8s_events_stats *out)
{
	out->emitted = atomic_load(&e->emitted);
	out->created = atomic_load(&e->created);
	out->patched = atomic_load(&e->patched);
	out->throttled = atomic_load(&e->throttled);
	out->dropped = atomic_load(&e->dropped);
	out->failed = atomic_load(&e->failed);
	out->retries = atomic_load(&e->retries);
	out->pending = atomic_load(&e->pending);
}

void k8s_events_last_error(struct k8s_events *e, char *buf, size_t len)
{
	pthread_mutex_lock(&e->mu);
	snprintf(buf, len, "%s", e->last_error);
	pthread_mutex_unlock(&e->mu);
}

void k8s_events_set_node_uid(struct k8s_events *e, const char *uid)
{
	pthread_mutex_lock(&e->mu);
	snprintf(e->node_uid, sizeof(e->node_uid), "%s", uid ? uid : "");
	pthread_mutex_unlock(&e->mu);
}

void k8s_events_set_settle(struct k8s_events *e, k8s_events_settle_fn fn, void *ctx)
{
	pthread_mutex_lock(&e->cbmu);
	e->on_settle = fn;
	e->settle_ctx = ctx;
	pthread_mutex_unlock(&e->cbmu);
}

uint64_t k8s_events_unsettled(struct k8s_events *e)
{
	pthread_mutex_lock(&e->cbmu);
	uint64_t n = e->tracked_open;
	pthread_mutex_unlock(&e->cbmu);
	return n;
}

uint64_t k8s_events_detach(struct k8s_events *e)
{
	pthread_mutex_lock(&e->cbmu);
	e->detached = true;
	uint64_t n = e->tracked_open;
	pthread_mutex_unlock(&e->cbmu);
	return n;
}

static void stop_fn(void *arg)
{
	struct k8s_events *e = arg;
	e->stopped = true;
	k8s_timer_cancel(&e->timer);
	uint64_t lost = 0;
	while (e->all) {
		struct series *s = e->all;
		lost += s->count - s->written;
		settle(e, &s->in, 0, s->count - s->written, K8S_EVENTS_R_SHUTDOWN);
		if (s->inflight) {
			k8s_call_cancel(s->call);
			free(s->wctx);
		}
		series_free(e, s);
	}
	atomic_fetch_add(&e->dropped, lost);
}

static void share_free(void *p)
{
	struct share *sh = p;
	free(sh->ns);
	free(sh);
}

void k8s_events_free(struct k8s_events *e)
{
	if (!e)
		return;
	k8s_client_call(e->c, stop_fn, e);
	k8s_map_free(&e->series, NULL);
	k8s_map_free(&e->objs, free);
	k8s_map_free(&e->shares, share_free);
	k8s_map_free(&e->origins, NULL);
	while (e->in_head) {
		struct occ *n = e->in_head->next;
		atomic_fetch_add(&e->dropped, 1);
		in_free(&e->in_head->in);
		free(e->in_head);
		e->in_head = n;
	}
	pthread_mutex_destroy(&e->mu);
	pthread_mutex_destroy(&e->cbmu);
	free(e->node);
	free(e->controller);
	free(e);
}
