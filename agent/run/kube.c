/* kube.c - the Kubernetes side of `vigil run`: client, pod metadata, the
 * Events writer behind the Events sink (agent/alerts/sink_k8s_events.c)
 * and the k8s metrics.
 *
 * Threads: the k8s client runs its callbacks (informers, timers, Event
 * writes) on its own service thread; the capture thread only reads the
 * metadata snapshots (k8smeta.h); the Events sink runs on its dispatcher
 * thread and only queues (k8s_events_emit never blocks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "k8s_events.h"
#include "crset.h"
#include "k8s_informer.h"
#include "k8s_lease.h"
#include "httpd.h"
#include "k8smeta.h"
#include "kube.h"
#include "log.h"
#include "reload.h"
#include "rules.h"
#include "sink.h"
#include "util.h"

#define TICK_NS (1000ull * 1000000ull)
/* A Rule's cost in its status: rewritten at most once a minute per object
 * (a Throttled change at once), at most COST_WRITES_PER_TICK objects a
 * second in all; Throttled is True while the namespace was over its
 * budget within the last THROTTLED_RECENT_MS. */
#define COST_PERIOD_MS 60000ull
#define COST_WRITES_PER_TICK 5
#define THROTTLED_RECENT_MS 60000ull

struct vg_kube;
struct cr_informer_ctx {
	struct vg_kube *k;
	int kind;
};

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

	/* rule custom resources */
	struct vg_reload *reload;
	struct k8s_informer *rules_inf[VG_CR_NKINDS];
	struct cr_informer_ctx cr_ctx[VG_CR_NKINDS];
	struct k8s_lease *lease;
	char ns[254];		   /* the agent's namespace (the Lease) */
	struct cr_status *written; /* what this agent last wrote, per object */
	size_t nwritten;
	struct cr_result *last; /* results of the newest build */
	size_t nlast;
	bool leader;
	size_t cost_rr; /* where the next round of cost writes starts */

	/* the Node's uid for Events about the node (fetched once) */
	struct k8s_call *node_call;
	bool node_uid_known;
	uint64_t node_next_try; /* mono */

	/* metrics (NULL when the agent serves none) */
	const struct vg_vigil_metrics *m;
	struct vg_metric_series *ev_throttled;
	uint64_t ev_throttled_seen, ev_lost_seen;
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

static bool rules_listed(void *ctx);

static void node_done(void *ctx, const struct k8s_response *r)
{
	struct vg_kube *k = ctx;
	k->node_call = NULL;
	const cJSON *md = r->json ? cJSON_GetObjectItemCaseSensitive(r->json, "metadata") : NULL;
	const cJSON *uid = md ? cJSON_GetObjectItemCaseSensitive(md, "uid") : NULL;
	if (r->status == 200 && cJSON_IsString(uid)) {
		k8s_events_set_node_uid(k->events, uid->valuestring);
		k->node_uid_known = true;
		return;
	}
	/* not registered yet, or no `get nodes`: Events about the node go
	 * without its uid (kubectl describe node then does not list them) */
	vg_log(VG_LOG_WARNING, "kubernetes: node %s: HTTP %d %s (trying again in 60 s)", k->node,
	       r->status, r->message);
	k->node_next_try = vg_now_mono_ns() + 60ull * 1000000000ull;
}

/* Ask for the Node once (again a minute after a failure). */
static void node_fetch(struct vg_kube *k)
{
	if (!k->events || k->node_uid_known || k->node_call || vg_now_mono_ns() < k->node_next_try)
		return;
	/* a node's name is a DNS subdomain: nothing to escape in a valid one */
	if (strspn(k->node, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(k->node)) {
		k->node_uid_known = true; /* no such Node can exist */
		return;
	}
	char path[300];
	snprintf(path, sizeof(path), "/api/v1/nodes/%s", k->node);
	struct k8s_request r = {.path = path, .resource = "nodes", .on_done = node_done, .ctx = k};
	k->node_call = k8s_client_request(k->client, &r);
}

static void write_costs(struct vg_kube *k);

/* Once a second on the service thread: metrics, readiness, Rule costs. */
static void on_tick(void *ctx)
{
	struct vg_kube *k = ctx;
	informer_metrics(k, vg_k8smeta_pods(k->meta));
	informer_metrics(k, vg_k8smeta_namespaces(k->meta));
	for (int i = 0; i < VG_CR_NKINDS; i++)
		informer_metrics(k, k->rules_inf[i]);
	node_fetch(k);
	if (k->events) {
		struct k8s_events_stats es;
		k8s_events_stats(k->events, &es);
		/* the sink counts each lost alert by reason and namespace
		 * (vigil_alert_failures_total); here they are said, at most once
		 * a second */
		uint64_t lost = es.failed + es.dropped;
		if (lost != k->ev_lost_seen) {
			char why[512];
			k8s_events_last_error(k->events, why, sizeof(why));
			vg_log(VG_LOG_WARNING,
			       "kubernetes: %llu alerts could not be written as Events (%llu in "
			       "all: %llu dropped, %llu failed; "
			       "vigil_alert_failures_total{sink=\"k8s_events\"} says why and for "
			       "which namespace)%s%s",
			       (unsigned long long)(lost - k->ev_lost_seen),
			       (unsigned long long)lost, (unsigned long long)es.dropped,
			       (unsigned long long)es.failed, *why ? ": last error: " : "", why);
		}
		vg_metric_add(k->ev_throttled, es.throttled - k->ev_throttled_seen);
		k->ev_throttled_seen = es.throttled;
		k->ev_lost_seen = lost;
	}
	bool synced = vg_k8smeta_synced(k->meta) && rules_listed(k);
	vg_agent_set_ready(k->a, VG_READY_INFORMERS, synced);
	if (synced && !k->synced_logged) {
		k->synced_logged = true;
		vg_log(VG_LOG_INFO,
		       "kubernetes: pods of node %s and namespaces synced (%zu containers)",
		       k->node, vg_k8smeta_containers(k->meta));
	}
	write_costs(k);
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
	if (k->node_call)
		k8s_call_cancel(k->node_call);
	k->node_call = NULL;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---- rule custom resources -------------------------------------------------- */

static const char *const cr_resource[VG_CR_NKINDS] = {
	[VG_CR_RULELIBRARY] = "rulelibraries",
	[VG_CR_CLUSTERRULE] = "clusterrules",
	[VG_CR_RULE] = "rules",
};

#define CR_API "/apis/vigil.dev/v1alpha1"

/* One object's outcome, copied off the reload worker. */
struct cr_result {
	int kind;
	char *ns, *name, *reason, *message;
	int64_t generation;
	bool accepted;
};

/* What the status writer last wrote for an object. */
struct cr_status {
	int kind;
	char *ns, *name;
	int64_t generation;
	bool accepted;
	char *message;
	char accepted_ltt[40], throttled_ltt[40]; /* lastTransitionTime */
	/* a Rule's cost as last written; cost_ms: when (monotonic), 0 never */
	struct vg_rule_cost cost;
	uint64_t cost_ms;
	bool throttled;
};

static void cr_upsert(void *ctx, const cJSON *obj)
{
	struct cr_informer_ctx *c = ctx;
	vg_reload_upsert(c->k->reload, c->kind, obj);
}

static void cr_update(void *ctx, const cJSON *old, const cJSON *obj)
{
	(void)old;
	cr_upsert(ctx, obj);
}

static void cr_delete(void *ctx, const cJSON *obj)
{
	struct cr_informer_ctx *c = ctx;
	vg_reload_delete(c->k->reload, c->kind, k8s_meta_str(obj, "namespace"),
			 k8s_meta_str(obj, "name"));
}

static void cr_error(void *ctx, int code, const char *reason, const char *message)
{
	struct cr_informer_ctx *c = ctx;
	if (code == 404)
		vg_log(VG_LOG_WARNING,
		       "kubernetes: %s: the vigil.dev custom resource definitions are not "
		       "installed "
		       "(kubectl apply -f crds/); retrying",
		       cr_resource[c->kind]);
	else
		vg_log(VG_LOG_WARNING, "kubernetes: watching %s: %d %s: %s", cr_resource[c->kind],
		       code, reason ? reason : "", message ? message : "");
}

static bool rules_listed(void *ctx)
{
	struct vg_kube *k = ctx;
	for (int i = 0; i < VG_CR_NKINDS; i++)
		if (k->rules_inf[i] && !k8s_informer_synced(k->rules_inf[i]))
			return false;
	return true;
}

static void free_results(struct cr_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].ns);
		free(r[i].name);
		free(r[i].reason);
		free(r[i].message);
	}
	free(r);
}

static char *dup_or_null(const char *s)
{
	return s ? vg_xstrdup(s) : NULL;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static char *object_path(int kind, const char *ns, const char *name)
{
	char buf[700];
	if (kind == VG_CR_RULE)
		snprintf(buf, sizeof(buf), CR_API "/namespaces/%s/rules/%s", ns ? ns : "", name);
	else
		snprintf(buf, sizeof(buf), CR_API "/%s/%s", cr_resource[kind], name);
	return vg_xstrdup(buf);
}

/* Does the object in the cache already carry this outcome (another agent,
 * or this one before a restart, wrote it)? */
static bool status_current(struct vg_kube *k, const struct cr_result *r)
{
	cJSON *o = k8s_informer_get(k->rules_inf[r->kind], r->ns, r->name);
	if (!o)
		return false;
	bool same = false;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
	const cJSON *og = cJSON_GetObjectItemCaseSensitive(st, "observedGeneration");
	const cJSON *conds = cJSON_GetObjectItemCaseSensitive(st, "conditions");
	const cJSON *c;
	if (cJSON_IsNumber(og) && (int64_t)og->valuedouble == r->generation) {
		cJSON_ArrayForEach(c, conds)
		{
			const char *type = jstr(c, "type"), *status = jstr(c, "status");
			const char *msg = jstr(c, "message");
			if (type && !strcmp(type, "Accepted") && status &&
			    !strcmp(status, r->accepted ? "True" : "False") &&
			    same_str(msg ? msg : "", r->message ? r->message : ""))
				same = true;
		}
	}
	cJSON_Delete(o);
	return same;
}

static struct cr_status *written_of(struct vg_kube *k, const struct cr_result *r)
{
	for (size_t i = 0; i < k->nwritten; i++) {
		struct cr_status *w = &k->written[i];
		if (w->kind == r->kind && same_str(w->ns, r->ns) && !strcmp(w->name, r->name))
			return w;
	}
	k->written = vg_xrealloc(k->written, (k->nwritten + 1) * sizeof(*k->written));
	struct cr_status *w = &k->written[k->nwritten++];
	memset(w, 0, sizeof(*w));
	w->kind = r->kind;
	w->ns = dup_or_null(r->ns);
	w->name = vg_xstrdup(r->name);
	w->generation = -1;
	return w;
}

static void status_done(void *ctx, const struct k8s_response *resp)
{
	char *what = ctx;
	if (resp->status < 200 || resp->status >= 300)
		vg_log(VG_LOG_WARNING, "kubernetes: writing the status of %s: %d %s", what,
		       resp->status, resp->message);
	free(what);
}

static void wall_time(char out[40])
{
	char now[32];
	k8s_micro_time(vg_now_wall_ns(), now);
	now[19] = 0; /* metav1.Time: whole seconds */
	snprintf(out, 40, "%sZ", now);
}

static void add_condition(cJSON *conds, const char *type, bool status, const char *reason,
			  const char *message, int64_t generation, const char *ltt)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", type);
	cJSON_AddStringToObject(c, "status", status ? "True" : "False");
	cJSON_AddStringToObject(c, "reason", reason);
	cJSON_AddStringToObject(c, "message", message);
	cJSON_AddNumberToObject(c, "observedGeneration", (double)generation);
	cJSON_AddStringToObject(c, "lastTransitionTime", ltt);
	cJSON_AddItemToArray(conds, c);
}

/* The whole status (a merge patch replaces the conditions array): the
 * outcome, and for a Rule its cost on this node and Throttled. */
static void patch_status(struct vg_kube *k, const struct cr_result *r, struct cr_status *w)
{
	cJSON *st = cJSON_CreateObject();
	cJSON_AddNumberToObject(st, "observedGeneration", (double)r->generation);
	cJSON *conds = cJSON_AddArrayToObject(st, "conditions");
	add_condition(conds, "Accepted", r->accepted,
		      r->reason && *r->reason ? r->reason : "Compiled",
		      r->message ? r->message : "", r->generation, w->accepted_ltt);
	if (r->kind == VG_CR_RULE && w->cost_ms) {
		char msg[512];
		if (w->throttled)
			snprintf(msg, sizeof(msg),
				 "namespace %s spent its evaluation budget "
				 "(tenancy.namespace_cpu_ms_per_second) on node %s within the "
				 "last %llu s: %llu events of this Rule not evaluated in all",
				 r->ns ? r->ns : "", k->node, THROTTLED_RECENT_MS / 1000,
				 (unsigned long long)w->cost.throttled);
		else
			snprintf(msg, sizeof(msg), "within its namespace's budget on node %s",
				 k->node);
		add_condition(conds, "Throttled", w->throttled,
			      w->throttled ? "BudgetExceeded" : "WithinBudget", msg, r->generation,
			      w->throttled_ltt);
		cJSON *c = cJSON_AddObjectToObject(st, "cost");
		cJSON_AddStringToObject(c, "node", k->node);
		cJSON_AddNumberToObject(c, "eventsEvaluated", (double)w->cost.events);
		cJSON_AddNumberToObject(c, "cpuNanoseconds", (double)w->cost.ns);
		cJSON_AddNumberToObject(c, "eventsThrottled", (double)w->cost.throttled);
		char ut[40];
		wall_time(ut);
		cJSON_AddStringToObject(c, "updateTime", ut);
	}
	char *body = cJSON_PrintUnformatted(st);
	cJSON_Delete(st);
	char *path = object_path(r->kind, r->ns, r->name);
	char what[600];
	snprintf(what, sizeof(what), "%s %s%s%s", vg_crset_kind_name(r->kind), r->ns ? r->ns : "",
		 r->ns ? "/" : "", r->name);
	k8s_patch_status(k->client, path, cr_resource[r->kind], body, status_done,
			 vg_xstrdup(what));
	free(path);
	free(body);
}

/* Service thread, once a tick: the leader writes the cost of the Rules in
 * force into their status (this node's figures), bounded as above. */
static void write_costs(struct vg_kube *k)
{
	if (!k->leader || !k->nlast || !k->reload)
		return;
	struct vg_reload_cost *c;
	size_t nc = vg_reload_costs(k->reload, &c);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000ull;
	int writes = 0;
	for (size_t step = 0; step < k->nlast && writes < COST_WRITES_PER_TICK; step++) {
		size_t i = (k->cost_rr + step) % k->nlast;
		const struct cr_result *r = &k->last[i];
		if (r->kind != VG_CR_RULE || !r->accepted)
			continue;
		const struct vg_reload_cost *x = NULL;
		for (size_t j = 0; j < nc && !x; j++)
			if (!strcmp(c[j].ns, r->ns ? r->ns : "") && !strcmp(c[j].name, r->name))
				x = &c[j];
		if (!x)
			continue;
		struct cr_status *w = written_of(k, r);
		if (w->generation != r->generation)
			continue; /* its outcome is written first (write_statuses) */
		bool thr = x->throttled_ms && now - x->throttled_ms < THROTTLED_RECENT_MS;
		bool moved = memcmp(&w->cost, &x->c, sizeof(x->c)) != 0;
		if (w->cost_ms && thr == w->throttled &&
		    (!moved || now - w->cost_ms < COST_PERIOD_MS))
			continue;
		if (!w->cost_ms && !x->c.events && !x->c.throttled)
			continue; /* nothing to say yet: no write */
		if (!w->cost_ms || thr != w->throttled)
			wall_time(w->throttled_ltt);
		if (!*w->accepted_ltt)
			wall_time(w->accepted_ltt);
		w->throttled = thr;
		w->cost = x->c;
		w->cost_ms = now;
		patch_status(k, r, w);
		writes++;
		k->cost_rr = i + 1;
	}
	vg_reload_costs_free(c, nc);
}

/* Service thread: the leader writes each object's outcome once per
 * generation, and a Warning Event on an object it rejects. */
static void write_statuses(struct vg_kube *k)
{
	if (!k->leader)
		return;
	for (size_t i = 0; i < k->nlast; i++) {
		const struct cr_result *r = &k->last[i];
		struct cr_status *w = written_of(k, r);
		if (w->generation == r->generation && w->accepted == r->accepted &&
		    same_str(w->message, r->message))
			continue;
		w->generation = r->generation;
		w->accepted = r->accepted;
		free(w->message);
		w->message = dup_or_null(r->message);
		if (status_current(k, r))
			continue;
		wall_time(w->accepted_ltt);
		patch_status(k, r, w);
		if (!r->accepted && k->events) {
			struct k8s_event_in in = {
				.rule = "Rule rejected",
				.note = r->message ? r->message : "rejected",
				.kind = vg_crset_kind_name(r->kind),
				.api_version = "vigil.dev/v1alpha1",
				.namespace = r->ns,
				.name = r->name,
			};
			cJSON *o = k8s_informer_get(k->rules_inf[r->kind], r->ns, r->name);
			if (o)
				in.uid = k8s_meta_str(o, "uid");
			k8s_events_emit(k->events, &in);
			cJSON_Delete(o);
		}
	}
}

struct results_msg {
	struct vg_kube *k;
	struct cr_result *r;
	size_t n;
};

static void take_results(void *ctx)
{
	struct results_msg *m = ctx;
	free_results(m->k->last, m->k->nlast);
	m->k->last = m->r;
	m->k->nlast = m->n;
	write_statuses(m->k);
	free(m);
}

/* Reload worker: copy the outcomes and hand them to the service thread. */
static void on_build(void *ctx, const struct vg_crset *cs)
{
	struct vg_kube *k = ctx;
	const struct vg_crset_result *res;
	size_t n = vg_crset_results(cs, &res);
	struct results_msg *m = vg_xcalloc(1, sizeof(*m));
	m->k = k;
	m->n = n;
	m->r = vg_xcalloc(n + 1, sizeof(*m->r));
	for (size_t i = 0; i < n; i++) {
		m->r[i].kind = res[i].kind;
		m->r[i].ns = dup_or_null(res[i].ns);
		m->r[i].name = vg_xstrdup(res[i].name);
		m->r[i].reason = dup_or_null(res[i].reason);
		m->r[i].message = dup_or_null(res[i].message);
		m->r[i].generation = res[i].generation;
		m->r[i].accepted = res[i].accepted;
	}
	if (k8s_client_post(k->client, take_results, m)) {
		free_results(m->r, m->n);
		free(m);
	}
}

static void on_leader(void *ctx, bool leader)
{
	struct vg_kube *k = ctx;
	k->leader = leader;
	vg_log(VG_LOG_INFO, "kubernetes: %s the rule status writer", leader ? "now" : "no longer");
	if (leader) {
		/* what the previous leader wrote is checked against the cache */
		for (size_t i = 0; i < k->nwritten; i++)
			k->written[i].generation = -1;
		write_statuses(k);
	}
}

static void lease_error(void *ctx, int code, const char *message)
{
	(void)ctx;
	vg_log(VG_LOG_WARNING, "kubernetes: leader election: %d %s", code, message);
}

static int start_rules(struct vg_kube *k, char *err, size_t errlen)
{
	const struct vg_config *cfg = k->cfg;
	snprintf(k->ns, sizeof(k->ns), "%s",
		 *cfg->kubernetes.namespace ? cfg->kubernetes.namespace : k->kc->namespace);
	for (int i = 0; i < VG_CR_NKINDS; i++) {
		char path[128];
		snprintf(path, sizeof(path), CR_API "/%s", cr_resource[i]);
		k->cr_ctx[i] = (struct cr_informer_ctx){k, i};
		struct k8s_informer_opts io = {
			.resource = cr_resource[i],
			.path = path,
			.on_add = cr_upsert,
			.on_update = cr_update,
			.on_delete = cr_delete,
			.on_error = cr_error,
			.ctx = &k->cr_ctx[i],
		};
		k->rules_inf[i] = k8s_informer_new(k->client, &io, err, errlen);
		if (!k->rules_inf[i])
			return -1;
	}
	vg_agent_set_build_hook(k->a, on_build, k);
	vg_agent_set_rules_gate(k->a, rules_listed, k, 10000);
	if (cfg->kubernetes.leader_election) {
		struct k8s_lease_opts lo = {
			.namespace = k->ns,
			.name = "vigil-rule-status",
			.identity = k->node,
			.on_change = on_leader,
			.on_error = lease_error,
			.ctx = k,
		};
		k->lease = k8s_lease_new(k->client, &lo, err, errlen);
		if (!k->lease)
			return -1;
	} else {
		k->leader = true;
	}
	for (int i = 0; i < VG_CR_NKINDS; i++)
		k8s_informer_start(k->rules_inf[i]);
	if (k->lease)
		k8s_lease_start(k->lease);
	return 0;
}

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
		int prio = vg_priority_parse(cfg->kubernetes.events_min_priority);
		vg_agent_add_sink(a, vg_sink_k8s_events_new(
					     k->events, k->node, prio < 0 ? VG_PRIO_NOTICE : prio,
					     (unsigned)cfg->outputs.drain_timeout_ms));
		if (k->m) {
			const char *sink[] = {"k8s_events"};
			k->ev_throttled = vg_metric_series(k->m->alerts_throttled, sink);
		}
	}
	struct vg_agent_meta am = {
		.lookup = vg_k8smeta_lookup,
		.sync = meta_sync,
		.generation = meta_generation,
		.ctx = k->meta,
		.hold_ms = (unsigned)cfg->kubernetes.hold_ms,
		.lookup_pod = vg_k8smeta_lookup_pod,
		.pod_hold_ms = (unsigned)cfg->kubernetes.pod_hold_ms,
	};
	vg_agent_set_meta(a, &am);
	k->reload = vg_agent_reload(a);
	if (cfg->kubernetes.rules && k->reload && start_rules(k, why, sizeof(why))) {
		snprintf(err, errlen, "kubernetes rules: %s", why);
		goto fail;
	}
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
	k8s_lease_free(k->lease); /* releases the lease for a quick hand-over */
	k->lease = NULL;
	for (int i = 0; i < VG_CR_NKINDS; i++) {
		k8s_informer_free(k->rules_inf[i]);
		k->rules_inf[i] = NULL;
	}
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
	k8s_lease_free(k->lease);
	for (int i = 0; i < VG_CR_NKINDS; i++)
		k8s_informer_free(k->rules_inf[i]);
	k8s_client_free(k->client);
	free_results(k->last, k->nlast);
	for (size_t i = 0; i < k->nwritten; i++) {
		free(k->written[i].ns);
		free(k->written[i].name);
		free(k->written[i].message);
	}
	free(k->written);
	k8s_config_free(k->kc);
	free(k);
}
