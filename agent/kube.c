/* kube.c - the Kubernetes side of `vigil run`: client, pod metadata, the
 * Events sink and the k8s metrics.
 *
 * Threads: the k8s client runs its callbacks (informers, timers, Event
 * writes) on its own service thread; the capture thread only reads the
 * metadata snapshots (k8smeta.h); the Events sink runs on its dispatcher
 * thread and only queues (k8s_events_emit never blocks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "k8s_events.h"
#include "k8s_informer.h"
#include "httpd.h"
#include "k8smeta.h"
#include "kube.h"
#include "log.h"
#include "rules.h"
#include "sink.h"
#include "util.h"

#define TICK_NS (1000ull * 1000000ull)

struct vg_kube {
	struct vg_agent *a;
	const struct vg_config *cfg;
	char node[256];
	struct k8s_config *kc;
	struct k8s_client *client;
	struct vg_k8smeta *meta;
	struct k8s_events *events;
	struct k8s_timer tick;
	bool ticking;
	bool synced_logged;

	/* metrics (NULL when the agent serves none) */
	const struct vg_vigil_metrics *m;
	struct vg_metric_series *ev_throttled, *ev_failed;
	uint64_t ev_throttled_seen, ev_failed_seen;
};

bool vg_kube_wanted(const struct vg_config *cfg)
{
	const char *e = cfg->kubernetes.enabled;
	if (!strcmp(e, "false"))
		return false;
	if (!strcmp(e, "true"))
		return true;
	const char *kcfg = getenv("KUBECONFIG");
	return *cfg->kubernetes.kubeconfig || (kcfg && *kcfg) || getenv("KUBERNETES_SERVICE_HOST");
}

/* ---- metrics -------------------------------------------------------------- */

static void on_request(void *ctx, const char *verb, const char *resource, int code)
{
	struct vg_kube *k = ctx;
	if (!k->m)
		return;
	char c[16];
	snprintf(c, sizeof(c), "%d", code);
	vg_metric_inc(vg_metric_series(k->m->k8s_requests, (const char *[]){verb, resource, c}));
}

static void informer_metrics(struct vg_kube *k, struct k8s_informer *inf)
{
	if (!inf || !k->m)
		return;
	struct k8s_informer_stats s;
	k8s_informer_stats(inf, &s);
	const char *res[] = {k8s_informer_resource(inf)};
	vg_metric_counter_set(vg_metric_series(k->m->k8s_watch_restarts, res), s.restarts);
	vg_metric_set(vg_metric_series(k->m->k8s_cache_objects, res), (double)s.objects);
}

/* Once a second on the service thread: metrics, readiness. */
static void on_tick(void *ctx)
{
	struct vg_kube *k = ctx;
	informer_metrics(k, vg_k8smeta_pods(k->meta));
	informer_metrics(k, vg_k8smeta_namespaces(k->meta));
	if (k->events && k->m) {
		struct k8s_events_stats es;
		k8s_events_stats(k->events, &es);
		vg_metric_add(k->ev_throttled, es.throttled - k->ev_throttled_seen);
		vg_metric_add(k->ev_failed, es.failed - k->ev_failed_seen);
		k->ev_throttled_seen = es.throttled;
		k->ev_failed_seen = es.failed;
	}
	bool synced = vg_k8smeta_synced(k->meta);
	vg_agent_set_ready(k->a, VG_READY_INFORMERS, synced);
	if (synced && !k->synced_logged) {
		k->synced_logged = true;
		vg_log(VG_LOG_INFO,
		       "kubernetes: pods of node %s and namespaces synced (%zu containers)",
		       k->node, vg_k8smeta_containers(k->meta));
	}
	k8s_timer_arm(&k->tick, TICK_NS);
}

static void start_tick(void *ctx)
{
	struct vg_kube *k = ctx;
	k8s_timer_arm(&k->tick, TICK_NS);
	k->ticking = true;
}

static void stop_tick(void *ctx)
{
	struct vg_kube *k = ctx;
	if (k->ticking)
		k8s_timer_cancel(&k->tick);
	k->ticking = false;
}

/* ---- the Events sink ------------------------------------------------------ */

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The JSON "output" is Falco's: "HH:MM:SS.nnnnnnnnn: Priority text".  An
 * Event has its own time and type, so its note is the text alone. */
static const char *strip_prefix(const char *out)
{
	static const char shape[] = "00:00:00.000000000: ";
	size_t n = sizeof(shape) - 1;
	for (size_t i = 0; i < n; i++) {
		bool digit = shape[i] == '0';
		if (!out[i] || (digit ? (out[i] < '0' || out[i] > '9') : out[i] != shape[i]))
			return out;
	}
	const char *sp = strchr(out + n, ' ');
	return sp ? sp + 1 : out;
}

static int events_deliver(struct vg_sink *s, const struct vg_alert *al, char *err, size_t errlen)
{
	struct vg_kube *k = s->impl;
	cJSON *j = cJSON_ParseWithLength(al->json, al->json_len);
	if (!j) {
		snprintf(err, errlen, "alert JSON does not parse");
		return -1;
	}
	const cJSON *k8s = cJSON_GetObjectItemCaseSensitive(j, "k8s");
	struct k8s_event_in in = {
		.rule = al->rule,
		.note = jstr(j, "output"),
		.time_ns = al->ts,
	};
	const char *pod = k8s ? jstr(k8s, "pod") : NULL;
	const char *ns = k8s ? jstr(k8s, "namespace") : NULL;
	if (pod && ns) {
		in.kind = "Pod";
		in.namespace = ns;
		in.name = pod;
		in.uid = jstr(k8s, "uid");
	} else {
		/* host processes, and containers no pod claims, are the node's */
		in.kind = "Node";
		in.name = k->node;
	}
	in.note = in.note ? strip_prefix(in.note) : al->rule;
	int rc = k8s_events_emit(k->events, &in);
	cJSON_Delete(j);
	if (rc) {
		snprintf(err, errlen, "the Kubernetes Events queue is full");
		return -1;
	}
	return 0;
}

static void events_close(struct vg_sink *s)
{
	free(s); /* the k8s_events queue belongs to the vg_kube */
}

static const struct vg_sink_ops events_ops = {
	.deliver = events_deliver,
	.close = events_close,
};

/* ---- start and stop ------------------------------------------------------- */

static void meta_sync(void *ctx)
{
	vg_k8smeta_reader_sync(ctx);
}

static uint64_t meta_generation(void *ctx)
{
	return vg_k8smeta_generation(ctx);
}

struct vg_kube *vg_kube_start(struct vg_agent *a, const struct vg_config *cfg, char *err,
			      size_t errlen)
{
	err[0] = 0;
	if (!vg_kube_wanted(cfg))
		return NULL;
	struct vg_kube *k = vg_xcalloc(1, sizeof(*k));
	k->a = a;
	k->cfg = cfg;
	k->m = vg_agent_metrics(a);
	vg_agent_hostname(cfg, k->node, sizeof(k->node));
	char why[512];
	const char *path = *cfg->kubernetes.kubeconfig ? cfg->kubernetes.kubeconfig : NULL;
	k->kc = k8s_config_auto(path, why, sizeof(why));
	if (!k->kc) {
		snprintf(err, errlen, "kubernetes: %s", why);
		goto fail;
	}
	struct k8s_client_opts co = {.user_agent = "vigil", .hook = on_request, .hook_ctx = k};
	k->client = k8s_client_new(k->kc, &co, why, sizeof(why));
	if (!k->client) {
		snprintf(err, errlen, "kubernetes: %s", why);
		goto fail;
	}
	struct vg_k8smeta_opts mo = {.node_name = k->node};
	k->meta = vg_k8smeta_new(k->client, &mo, why, sizeof(why));
	if (!k->meta) {
		snprintf(err, errlen, "kubernetes: %s", why);
		goto fail;
	}
	if (cfg->kubernetes.events_enabled) {
		struct k8s_events_opts eo = {
			.node_name = k->node,
			.queue_max = cfg->kubernetes.events_queue_length,
		};
		k->events = k8s_events_new(k->client, &eo, why, sizeof(why));
		if (!k->events) {
			snprintf(err, errlen, "kubernetes events: %s", why);
			goto fail;
		}
		struct vg_sink *s = vg_xcalloc(1, sizeof(*s));
		snprintf(s->name, sizeof(s->name), "k8s_events");
		s->min_priority = vg_priority_parse(cfg->kubernetes.events_min_priority);
		if (s->min_priority < 0)
			s->min_priority = VG_PRIO_NOTICE;
		s->ops = &events_ops;
		s->impl = k;
		vg_agent_add_sink(a, s);
		if (k->m) {
			const char *sink[] = {"k8s_events"};
			k->ev_throttled = vg_metric_series(k->m->alerts_throttled, sink);
			k->ev_failed = vg_metric_series(k->m->alerts_failed, sink);
		}
	}
	struct vg_agent_meta am = {
		.lookup = vg_k8smeta_lookup,
		.sync = meta_sync,
		.generation = meta_generation,
		.ctx = k->meta,
		.hold_ms = (unsigned)cfg->kubernetes.hold_ms,
	};
	vg_agent_set_meta(a, &am);
	vg_agent_set_ready(a, VG_READY_INFORMERS, false);
	vg_k8smeta_start(k->meta);
	k8s_timer_init(&k->tick, k->client, on_tick, k);
	k8s_client_call(k->client, start_tick, k);
	vg_log(VG_LOG_INFO, "kubernetes: API server %s (%s), node %s", k->kc->server, k->kc->source,
	       k->node);
	return k;
fail:
	vg_kube_stop(k);
	vg_kube_free(k, 0);
	return NULL;
}

void vg_kube_stop(struct vg_kube *k)
{
	if (!k || !k->client)
		return;
	k8s_client_call(k->client, stop_tick, k);
	vg_k8smeta_free(k->meta);
	k->meta = NULL;
}

void vg_kube_free(struct vg_kube *k, unsigned deadline_ms)
{
	if (!k)
		return;
	if (k->events) {
		struct timespec ts = {0, 50 * 1000000L};
		for (unsigned waited = 0; waited < deadline_ms; waited += 50) {
			struct k8s_events_stats es;
			k8s_events_stats(k->events, &es);
			if (!es.pending)
				break;
			nanosleep(&ts, NULL);
		}
		k8s_events_free(k->events);
	}
	vg_k8smeta_free(k->meta);
	k8s_client_free(k->client);
	k8s_config_free(k->kc);
	free(k);
}
