/* k8s_lease.c - see k8s_lease.h. */
#include "k8s_lease.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "k8s_events.h" /* k8s_micro_time */
#include "k8s_util.h"

#define NS_PER_S 1000000000ull

struct k8s_lease {
	struct k8s_client *c;
	struct k8s_lease_opts o;
	char *ns, *name, *id, *path, *coll;

	/* service thread */
	struct k8s_timer timer;
	struct k8s_call *call;
	bool stopped;
	char *seen_record;   /* holder + renewTime last observed */
	uint64_t seen_at;    /* mono, when seen_record last changed */
	uint64_t last_renew; /* mono, our last successful renew */
	bool leader_st;
	cJSON *held; /* the Lease as our last write left it (leader: renew from it) */

	_Atomic bool leader;
};

static void tick(void *arg);

static void set_leader(struct k8s_lease *l, bool on)
{
	if (l->leader_st == on)
		return;
	l->leader_st = on;
	atomic_store(&l->leader, on);
	if (l->o.on_change)
		l->o.on_change(l->o.ctx, on);
}

static void again(struct k8s_lease *l, uint64_t delay_ns)
{
	if (!l->stopped)
		k8s_timer_arm(&l->timer, delay_ns);
}

/* The leader renews every lease_duration/3 (two chances before its renew
 * deadline), with one request: an update from the object its last write
 * returned.  A candidate reads every lease_duration/2 to lease_duration,
 * jittered so that N agents do not read together: about 0.09 requests/s
 * per agent for the default 15 s.  A record it saw unchanged on a later
 * read is read again just when it expires, so a dead leader is replaced
 * within two lease durations. */
static uint64_t renew_period(const struct k8s_lease *l)
{
	uint64_t p = (uint64_t)l->o.lease_duration_s * NS_PER_S / 3;
	uint64_t r = (uint64_t)l->o.retry_period_s * NS_PER_S;
	return p > r ? p : r;
}

static uint64_t candidate_period(const struct k8s_lease *l)
{
	double d = (double)l->o.lease_duration_s * 1e9;
	uint64_t p = (uint64_t)(d * (0.5 + 0.5 * k8s_random01()));
	uint64_t r = (uint64_t)l->o.retry_period_s * NS_PER_S;
	return p > r ? p : r;
}

static void forget_held(struct k8s_lease *l)
{
	cJSON_Delete(l->held);
	l->held = NULL;
}

static void failed(struct k8s_lease *l, const struct k8s_response *r)
{
	if (l->o.on_error)
		l->o.on_error(l->o.ctx, r->status, r->message);
	/* step down before anyone else may take over */
	if (l->leader_st &&
	    k8s_now_mono_ns() - l->last_renew >= (uint64_t)l->o.renew_deadline_s * NS_PER_S)
		set_leader(l, false);
	forget_held(l); /* read before writing again */
	again(l, (uint64_t)l->o.retry_period_s * NS_PER_S);
}

static void write_done(void *arg, const struct k8s_response *r)
{
	struct k8s_lease *l = arg;
	l->call = NULL;
	if (l->stopped)
		return;
	if (r->status == 200 || r->status == 201) {
		l->last_renew = k8s_now_mono_ns();
		forget_held(l);
		if (cJSON_IsObject(r->json))
			l->held = cJSON_Duplicate(r->json, 1);
		set_leader(l, true);
		again(l, renew_period(l));
		return;
	}
	if (r->status == 409) {
		/* someone else wrote in between: read again now */
		forget_held(l);
		if (l->leader_st)
			set_leader(l, false);
		again(l, 0);
		return;
	}
	failed(l, r);
}

static char *lease_body(struct k8s_lease *l, const cJSON *old, bool take)
{
	char now[32];
	k8s_micro_time(k8s_now_wall_ns(), now);
	cJSON *o = old ? cJSON_Duplicate(old, 1) : cJSON_CreateObject();
	cJSON_DeleteItemFromObject(o, "status");
	if (!old) {
		cJSON_AddStringToObject(o, "apiVersion", "coordination.k8s.io/v1");
		cJSON_AddStringToObject(o, "kind", "Lease");
		cJSON *md = cJSON_AddObjectToObject(o, "metadata");
		cJSON_AddStringToObject(md, "name", l->name);
		cJSON_AddStringToObject(md, "namespace", l->ns);
	}
	cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
	if (!spec)
		spec = cJSON_AddObjectToObject(o, "spec");
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(spec, "leaseTransitions");
	int transitions = cJSON_IsNumber(tr) ? tr->valueint : 0;
	cJSON_DeleteItemFromObject(spec, "holderIdentity");
	cJSON_DeleteItemFromObject(spec, "leaseDurationSeconds");
	cJSON_DeleteItemFromObject(spec, "renewTime");
	cJSON_AddStringToObject(spec, "holderIdentity", l->id);
	cJSON_AddNumberToObject(spec, "leaseDurationSeconds", l->o.lease_duration_s);
	cJSON_AddStringToObject(spec, "renewTime", now);
	if (take || !old) {
		cJSON_DeleteItemFromObject(spec, "acquireTime");
		cJSON_DeleteItemFromObject(spec, "leaseTransitions");
		cJSON_AddStringToObject(spec, "acquireTime", now);
		cJSON_AddNumberToObject(spec, "leaseTransitions", old ? transitions + 1 : 0);
	}
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void write_lease(struct k8s_lease *l, const cJSON *old, bool take)
{
	char *body = lease_body(l, old, take);
	struct k8s_request r = {
		.method = old ? "PUT" : "POST",
		.path = old ? l->path : l->coll,
		.content_type = K8S_CT_JSON,
		.body = body,
		.body_len = strlen(body),
		.resource = "leases",
		.on_done = write_done,
		.ctx = l,
	};
	l->call = k8s_client_request(l->c, &r);
	free(body);
}

static void read_done(void *arg, const struct k8s_response *r)
{
	struct k8s_lease *l = arg;
	l->call = NULL;
	if (l->stopped)
		return;
	if (r->status == 404) {
		write_lease(l, NULL, true);
		return;
	}
	if (r->status != 200 || !cJSON_IsObject(r->json)) {
		failed(l, r);
		return;
	}
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(r->json, "spec");
	const char *holder =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity"));
	const char *renew =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "renewTime"));
	const cJSON *dur = cJSON_GetObjectItemCaseSensitive(spec, "leaseDurationSeconds");
	uint64_t duration =
		(uint64_t)(cJSON_IsNumber(dur) && dur->valueint > 0 ? dur->valueint
								    : (int)l->o.lease_duration_s) *
		NS_PER_S;
	uint64_t now = k8s_now_mono_ns();
	char rec[512];
	snprintf(rec, sizeof(rec), "%s|%s", holder ? holder : "", renew ? renew : "");
	if (!l->seen_record || strcmp(l->seen_record, rec)) {
		free(l->seen_record);
		l->seen_record = k8s_xstrdup(rec);
		l->seen_at = now;
	}
	if (holder && !strcmp(holder, l->id)) {
		write_lease(l, r->json, false);
		return;
	}
	if (l->leader_st)
		set_leader(l, false);
	forget_held(l);
	if (!holder || !holder[0] || now - l->seen_at >= duration) {
		write_lease(l, r->json, true);
		return;
	}
	/* a record seen before has not been renewed for a while: read again
	 * just when it would expire rather than a whole period later */
	uint64_t next = candidate_period(l);
	if (l->seen_at < now && l->seen_at + duration - now < next)
		next = l->seen_at + duration - now + NS_PER_S / 100;
	again(l, next);
}

static void tick(void *arg)
{
	struct k8s_lease *l = arg;
	if (l->stopped || l->call)
		return;
	if (l->leader_st && l->held) {
		/* renew from our own last write: a 409 says someone else wrote */
		cJSON *held = l->held;
		l->held = NULL;
		write_lease(l, held, false);
		cJSON_Delete(held);
		return;
	}
	struct k8s_request r = {
		.path = l->path, .resource = "leases", .on_done = read_done, .ctx = l};
	l->call = k8s_client_request(l->c, &r);
}

struct k8s_lease *k8s_lease_new(struct k8s_client *c, const struct k8s_lease_opts *o, char *err,
				size_t errlen)
{
	if (!o->namespace || !o->namespace[0] || !o->name || !o->name[0] || !o->identity ||
	    !o->identity[0]) {
		k8s_set_err(err, errlen, "lease: namespace, name and identity are required");
		return NULL;
	}
	struct k8s_lease *l = k8s_xcalloc(1, sizeof(*l));
	l->c = c;
	l->o = *o;
	l->ns = k8s_xstrdup(o->namespace);
	l->name = k8s_xstrdup(o->name);
	l->id = k8s_xstrdup(o->identity);
	if (!l->o.lease_duration_s)
		l->o.lease_duration_s = 15;
	if (!l->o.renew_deadline_s)
		l->o.renew_deadline_s = 10;
	if (!l->o.retry_period_s)
		l->o.retry_period_s = 2;
	struct k8s_buf b = {0};
	k8s_buf_printf(&b, "/apis/coordination.k8s.io/v1/namespaces/%s/leases", l->ns);
	l->coll = k8s_xstrdup(b.p);
	k8s_buf_printf(&b, "/%s", l->name);
	l->path = b.p;
	k8s_timer_init(&l->timer, c, tick, l);
	return l;
}

void k8s_lease_start(struct k8s_lease *l)
{
	k8s_client_post(l->c, tick, l);
}

bool k8s_lease_is_leader(struct k8s_lease *l)
{
	return atomic_load(&l->leader);
}

static void stop_fn(void *arg)
{
	struct k8s_lease *l = arg;
	l->stopped = true;
	k8s_timer_cancel(&l->timer);
	if (l->call) {
		k8s_call_cancel(l->call);
		l->call = NULL;
	}
}

void k8s_lease_free(struct k8s_lease *l)
{
	if (!l)
		return;
	k8s_client_call(l->c, stop_fn, l);
	if (atomic_load(&l->leader)) {
		/* hand over at once: an empty holder lets the next candidate
		 * take the lease without waiting for it to expire.  An update
		 * (read, then write with its resourceVersion) rather than a
		 * patch: the agent's Role grants get, create and update only. */
		struct k8s_request g = {.path = l->path, .verb = "get", .resource = "leases"};
		cJSON *obj = NULL;
		char msg[256];
		int code = k8s_client_do(l->c, &g, &obj, msg, sizeof(msg));
		cJSON *spec = obj ? cJSON_GetObjectItemCaseSensitive(obj, "spec") : NULL;
		const cJSON *holder = cJSON_GetObjectItemCaseSensitive(spec, "holderIdentity");
		if (code == 200 && cJSON_IsString(holder) && !strcmp(holder->valuestring, l->id)) {
			cJSON_DeleteItemFromObjectCaseSensitive(spec, "holderIdentity");
			char *body = cJSON_PrintUnformatted(obj);
			struct k8s_request r = {.method = "PUT",
						.path = l->path,
						.content_type = K8S_CT_JSON,
						.body = body,
						.body_len = strlen(body),
						.verb = "update",
						.resource = "leases"};
			k8s_client_do(l->c, &r, NULL, msg, sizeof(msg));
			free(body);
		}
		cJSON_Delete(obj);
	}
	forget_held(l);
	free(l->seen_record);
	free(l->ns);
	free(l->name);
	free(l->id);
	free(l->path);
	free(l->coll);
	free(l);
}

struct k8s_call *k8s_patch_status(struct k8s_client *c, const char *object_path,
				  const char *resource, const char *status_json,
				  void (*on_done)(void *ctx, const struct k8s_response *r),
				  void *ctx)
{
	struct k8s_buf path = {0}, body = {0};
	k8s_buf_printf(&path, "%s/status", object_path);
	k8s_buf_printf(&body, "{\"status\":%s}", status_json);
	struct k8s_request r = {
		.method = "PATCH",
		.path = path.p,
		.content_type = K8S_CT_MERGE_PATCH,
		.body = body.p,
		.body_len = body.len,
		.verb = "patch",
		.resource = resource,
		.on_done = on_done,
		.ctx = ctx,
	};
	struct k8s_call *call = k8s_client_request(c, &r);
	k8s_buf_free(&path);
	k8s_buf_free(&body);
	return call;
}
