/* dispatch.c - see dispatch.h. */
#include "dispatch.h"
#include "log.h"
#include "tbucket.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SINKS 16
#define POP_WAIT_MS 200
/* rules with their own bucket; beyond, rules share the last slot's */
#define MAX_BUCKETS 4096
/* (reason, namespace) series of a sink: the VG_SINK_R_* words (sink.h) by
 * the namespaces of the Rule objects whose alerts failed; past this many,
 * a failure's namespace is counted as "_other" (cardinality stays bounded
 * whatever the number of namespaces) */
#define MAX_REASONS 256
#define OTHER_NS "_other"
/* Alerts of namespaced Rule objects may fill at most half of a sink's
 * queue, and one namespace at most an eighth of that half (or its fair
 * part, when more than eight namespaces have alerts queued): a team
 * flooding its own Rules can neither take the queue from the cluster's
 * rules nor from the other teams (what it has queued is never taken back,
 * hence the fixed part).  Namespaces past TENANT_NS share one entry. */
#define TENANT_NS 64
#define TENANT_PARTS 8

struct slot {
	struct vg_dispatch *d;
	struct vg_sink *sink;
	struct vg_alertq *q;
	pthread_t thread;
	bool started, joined;
	atomic_bool reopen;
	_Atomic uint64_t sent, failed, dropped, throttled;
	struct vg_metric_series *m_sent, *m_failed, *m_throttled;
	/* vigil_alert_failures_total{sink,reason}, looked up once per reason */
	pthread_mutex_t rmu;
	struct {
		const char *reason;
		char *ns;
		struct vg_metric_series *m;
	} reasons[MAX_REASONS];
	size_t nreasons;
	struct vg_ratelimit log_rl; /* sink thread only */
	/* tenant alerts queued, in all and by namespace (the producer adds,
	 * the sink thread takes away, under tmu) */
	pthread_mutex_t tmu;
	size_t tenant_inq;
	struct {
		char *ns; /* NULL: free */
		size_t n;
	} tns[TENANT_NS];
};

struct bucket {
	char *rule; /* NULL: free */
	struct vg_tbucket tb;
};

struct vg_dispatch {
	struct vg_dispatch_opts o;
	struct slot s[MAX_SINKS];
	size_t n;
	bool stopped;
	struct vg_metric_series *m_qdrop;
	uint64_t dropped_untaken; /* producer only */
	struct bucket *buckets;	  /* open addressing, MAX_BUCKETS */
	size_t nbuckets;
};

struct vg_dispatch *vg_dispatch_new(const struct vg_dispatch_opts *o)
{
	struct vg_dispatch *d = vg_xcalloc(1, sizeof(*d));
	d->o = *o;
	if (!d->o.queue_len)
		d->o.queue_len = 10000;
	if (d->o.rule_burst < 1)
		d->o.rule_burst = 1;
	d->m_qdrop =
		d->o.events_dropped ? vg_metric_labels(d->o.events_dropped, "alert_queue") : NULL;
	return d;
}

static void settle(void *ctx, uint64_t sent, uint64_t failed, const char *reason, const char *ns);

void vg_dispatch_add(struct vg_dispatch *d, struct vg_sink *s)
{
	if (d->n == MAX_SINKS) { /* the configuration cannot name this many */
		s->ops->close(s);
		return;
	}
	struct slot *sl = &d->s[d->n++];
	sl->d = d;
	sl->sink = s;
	sl->q = vg_alertq_new(d->o.queue_len);
	sl->log_rl.interval_ns = 10ull * 1000000000ull;
	pthread_mutex_init(&sl->rmu, NULL);
	pthread_mutex_init(&sl->tmu, NULL);
	s->settle = settle;
	s->settle_ctx = sl;
	if (d->o.sent)
		sl->m_sent = vg_metric_labels(d->o.sent, s->name);
	if (d->o.failed)
		sl->m_failed = vg_metric_labels(d->o.failed, s->name);
	if (d->o.throttled)
		sl->m_throttled = vg_metric_labels(d->o.throttled, s->name);
}

size_t vg_dispatch_count(const struct vg_dispatch *d)
{
	return d->n;
}

const char *vg_dispatch_name(const struct vg_dispatch *d, size_t i)
{
	return i < d->n ? d->s[i].sink->name : NULL;
}

static void count(_Atomic uint64_t *c, struct vg_metric_series *m, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
	vg_metric_add(m, n);
}

/* n alerts of this sink lost for reason, raised by Rule objects of
 * namespace ns ("" or NULL: the others): failed, and failures{reason,
 * namespace}.  The producer (queue full), the sink thread and a buffering
 * sink's own thread all count. */
static void count_failed(struct slot *sl, uint64_t n, const char *reason, const char *ns)
{
	count(&sl->failed, sl->m_failed, n);
	if (!sl->d->o.failures)
		return;
	if (!reason)
		reason = VG_SINK_R_ERROR;
	if (!ns)
		ns = "";
	struct vg_metric_series *m = NULL;
	pthread_mutex_lock(&sl->rmu);
	for (size_t i = 0; i < sl->nreasons && !m; i++)
		if (!strcmp(sl->reasons[i].reason, reason) && !strcmp(sl->reasons[i].ns, ns))
			m = sl->reasons[i].m;
	if (!m && sl->nreasons < MAX_REASONS) {
		m = vg_metric_labels(sl->d->o.failures, sl->sink->name, reason, ns);
		sl->reasons[sl->nreasons].reason = reason;
		sl->reasons[sl->nreasons].ns = vg_xstrdup(ns);
		sl->reasons[sl->nreasons++].m = m;
	} else if (!m) {
		m = vg_metric_labels(sl->d->o.failures, sl->sink->name, reason, OTHER_NS);
	}
	pthread_mutex_unlock(&sl->rmu);
	vg_metric_add(m, n);
}

/* A buffering sink's report on alerts it held (any thread). */
static void settle(void *ctx, uint64_t sent, uint64_t failed, const char *reason, const char *ns)
{
	struct slot *sl = ctx;
	if (sent)
		count(&sl->sent, sl->m_sent, sent);
	if (failed)
		count_failed(sl, failed, reason, ns);
}

static void say_failure(struct slot *sl, const char *err)
{
	if (vg_ratelimit_ok(&sl->log_rl, vg_now_mono_ns()))
		vg_log(VG_LOG_WARNING, "sink %s: %s", sl->sink->name, err);
}

/* The entry of namespace ns in sl->tns (made when missing; the last one
 * stands for the namespaces the table has no room for).  Under tmu. */
static size_t tenant_slot(struct slot *sl, const char *ns)
{
	size_t free_i = TENANT_NS - 1;
	bool have_free = false;
	for (size_t i = 0; i < TENANT_NS - 1; i++) {
		if (sl->tns[i].ns && !strcmp(sl->tns[i].ns, ns))
			return i;
		if (!have_free && (!sl->tns[i].ns || !sl->tns[i].n)) {
			free_i = i;
			have_free = true;
		}
	}
	if (have_free) {
		free(sl->tns[free_i].ns);
		sl->tns[free_i].ns = vg_xstrdup(ns);
		sl->tns[free_i].n = 0;
	}
	return free_i;
}

/* Whether a tenant alert of namespace ns may take a place in the queue
 * (and count it when so).  The producer only. */
static bool tenant_admit(struct slot *sl, const char *ns, size_t queue_len)
{
	size_t half = queue_len / 2 ? queue_len / 2 : 1;
	pthread_mutex_lock(&sl->tmu);
	size_t i = tenant_slot(sl, ns);
	size_t active = sl->tns[i].n ? 0 : 1;
	for (size_t k = 0; k < TENANT_NS; k++)
		active += sl->tns[k].n > 0;
	if (active < TENANT_PARTS)
		active = TENANT_PARTS;
	size_t share = half / active ? half / active : 1;
	bool ok = sl->tenant_inq < half && sl->tns[i].n < share;
	if (ok) {
		sl->tenant_inq++;
		sl->tns[i].n++;
	}
	pthread_mutex_unlock(&sl->tmu);
	return ok;
}

/* A tenant alert left the queue (popped, or its push failed). */
static void tenant_leave(struct slot *sl, const char *ns)
{
	pthread_mutex_lock(&sl->tmu);
	size_t i = TENANT_NS - 1; /* not in the table: it was counted there */
	for (size_t k = 0; k < TENANT_NS - 1; k++)
		if (sl->tns[k].ns && sl->tns[k].n && !strcmp(sl->tns[k].ns, ns)) {
			i = k;
			break;
		}
	if (sl->tns[i].n)
		sl->tns[i].n--;
	if (sl->tenant_inq)
		sl->tenant_inq--;
	pthread_mutex_unlock(&sl->tmu);
}

static void *sink_thread(void *arg)
{
	struct slot *sl = arg;
	struct vg_sink *s = sl->sink;
	char err[512];
	bool dirty = false;
	for (;;) {
		if (atomic_exchange(&sl->reopen, false) && s->ops->reopen &&
		    s->ops->reopen(s, err, sizeof(err)))
			say_failure(sl, err);
		struct vg_alert *a = NULL;
		int rc = vg_alertq_pop(sl->q, &a, POP_WAIT_MS);
		if (rc == VG_ALERTQ_CLOSED)
			break;
		if (rc == VG_ALERTQ_OK) {
			if (*vg_alert_tenant(a))
				tenant_leave(sl, vg_alert_tenant(a));
			int drc = 0;
			if (vg_sink_giving_up(s)) {
				count_failed(sl, 1, VG_SINK_R_SHUTDOWN, vg_alert_tenant(a));
			} else if ((drc = s->ops->deliver(s, a, err, sizeof(err))) < 0) {
				count_failed(sl, 1, s->reason, vg_alert_tenant(a));
				say_failure(sl, err);
			} else {
				if (drc != VG_SINK_HELD)
					count(&sl->sent, sl->m_sent, 1);
				dirty = true;
			}
			vg_alert_unref(a);
		}
		if (dirty && vg_alertq_len(sl->q) == 0) {
			dirty = false;
			int fr = s->ops->flush ? s->ops->flush(s, err, sizeof(err)) : 0;
			if (fr < 0)
				say_failure(sl, err);
			else if (fr > 0) /* held back for its age limit: ask again */
				dirty = true;
		}
	}
	s->flush_all = true;
	if (s->ops->flush && s->ops->flush(s, err, sizeof(err)) < 0)
		say_failure(sl, err);
	return NULL;
}

int vg_dispatch_start(struct vg_dispatch *d, char *err, size_t errlen)
{
	/* signals belong to the main thread, whose loop polls their flags */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = 0;
	for (size_t i = 0; i < d->n; i++) {
		int e = pthread_create(&d->s[i].thread, NULL, sink_thread, &d->s[i]);
		if (e) {
			snprintf(err, errlen, "cannot start the %s sink's thread: %s",
				 d->s[i].sink->name, strerror(e));
			rc = -1;
			break;
		}
		d->s[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

bool vg_dispatch_wants_text(const struct vg_dispatch *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->s[i].sink->wants_text)
			return true;
	return false;
}

int vg_dispatch_max_priority(const struct vg_dispatch *d)
{
	int m = -1;
	for (size_t i = 0; i < d->n; i++)
		if (d->s[i].sink->min_priority > m)
			m = d->s[i].sink->min_priority;
	return m;
}

static struct vg_tbucket *bucket_for(struct vg_dispatch *d, const char *rule, uint64_t now)
{
	if (!d->buckets)
		d->buckets = vg_xcalloc(MAX_BUCKETS, sizeof(*d->buckets));
	size_t i = k8s_hash_str(rule) & (MAX_BUCKETS - 1);
	for (size_t probe = 0; probe < MAX_BUCKETS; probe++, i = (i + 1) & (MAX_BUCKETS - 1)) {
		struct bucket *b = &d->buckets[i];
		if (b->rule && !strcmp(b->rule, rule))
			return &b->tb;
		if (!b->rule) {
			if (d->nbuckets == MAX_BUCKETS - 1)
				break; /* keep one free slot so probes end */
			b->rule = vg_xstrdup(rule);
			d->nbuckets++;
			vg_tbucket_init(&b->tb, d->o.rule_rate, d->o.rule_burst, now);
			return &b->tb;
		}
	}
	return &d->buckets[k8s_hash_str(rule) & (MAX_BUCKETS - 1)].tb;
}

bool vg_dispatch_throttled(struct vg_dispatch *d, const char *rule, int priority, uint64_t now_ns)
{
	if (d->o.rule_rate <= 0 || vg_tbucket_take(bucket_for(d, rule, now_ns), now_ns))
		return false;
	for (size_t i = 0; i < d->n; i++)
		if (priority <= d->s[i].sink->min_priority)
			count(&d->s[i].throttled, d->s[i].m_throttled, 1);
	return true;
}

void vg_dispatch_emit(struct vg_dispatch *d, struct vg_alert *a)
{
	for (size_t i = 0; i < d->n && !d->stopped; i++) {
		struct slot *sl = &d->s[i];
		if (a->priority > sl->sink->min_priority)
			continue;
		const char *ns = vg_alert_tenant(a);
		if (*ns && !tenant_admit(sl, ns, d->o.queue_len)) {
			count(&sl->dropped, NULL, 1);
			count_failed(sl, 1, VG_SINK_R_TENANT_SHARE, ns);
			vg_metric_inc(d->m_qdrop);
			d->dropped_untaken++;
			continue;
		}
		if (vg_alertq_push(sl->q, a) != VG_ALERTQ_OK) {
			if (*ns)
				tenant_leave(sl, ns);
			count(&sl->dropped, NULL, 1);
			count_failed(sl, 1, VG_SINK_R_QUEUE_FULL, vg_alert_tenant(a));
			vg_metric_inc(d->m_qdrop);
			d->dropped_untaken++;
		}
	}
	vg_alert_unref(a);
}

uint64_t vg_dispatch_take_dropped(struct vg_dispatch *d)
{
	uint64_t n = d->dropped_untaken;
	d->dropped_untaken = 0;
	return n;
}

void vg_dispatch_reopen(struct vg_dispatch *d)
{
	for (size_t i = 0; i < d->n; i++) {
		atomic_store(&d->s[i].reopen, true);
		vg_alertq_kick(d->s[i].q);
	}
}

static void join_until(struct slot *sl, uint64_t deadline_ns)
{
	if (!sl->started || sl->joined)
		return;
	uint64_t now_mono = vg_now_mono_ns();
	if (deadline_ns > now_mono) {
		/* pthread_timedjoin_np takes CLOCK_REALTIME */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
			     (deadline_ns - now_mono);
		ts.tv_sec = (time_t)(t / 1000000000ull);
		ts.tv_nsec = (long)(t % 1000000000ull);
		if (pthread_timedjoin_np(sl->thread, NULL, &ts) == 0)
			sl->joined = true;
	}
}

uint64_t vg_dispatch_stop(struct vg_dispatch *d, uint64_t deadline_ns)
{
	if (d->stopped)
		return 0;
	d->stopped = true;
	uint64_t before = 0, after = 0;
	for (size_t i = 0; i < d->n; i++) {
		before += atomic_load(&d->s[i].failed);
		vg_alertq_close(d->s[i].q);
	}
	for (size_t i = 0; i < d->n; i++)
		join_until(&d->s[i], deadline_ns);
	for (size_t i = 0; i < d->n; i++) {
		struct slot *sl = &d->s[i];
		atomic_store(&sl->sink->give_up, true);
		if (sl->started && !sl->joined) {
			pthread_join(sl->thread, NULL);
			sl->joined = true;
		}
		/* a sink whose thread never ran: what is queued is lost */
		struct vg_alert *a;
		while (vg_alertq_pop(sl->q, &a, 0) == VG_ALERTQ_OK) {
			count_failed(sl, 1, VG_SINK_R_SHUTDOWN, vg_alert_tenant(a));
			vg_alert_unref(a);
		}
		after += atomic_load(&sl->failed);
	}
	for (size_t i = 0; i < d->n; i++) {
		struct slot *sl = &d->s[i];
		uint64_t f = atomic_load(&sl->failed);
		sl->sink->ops->close(sl->sink); /* settles what it still held */
		after += atomic_load(&sl->failed) - f;
		sl->sink = NULL;
	}
	return after - before;
}

void vg_dispatch_get_stats(struct vg_dispatch *d, size_t i, struct vg_dispatch_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (i >= d->n)
		return;
	out->sent = atomic_load(&d->s[i].sent);
	out->failed = atomic_load(&d->s[i].failed);
	out->dropped = atomic_load(&d->s[i].dropped);
	out->throttled = atomic_load(&d->s[i].throttled);
}

void vg_dispatch_free(struct vg_dispatch *d)
{
	if (!d)
		return;
	vg_dispatch_stop(d, 0);
	for (size_t i = 0; i < d->n; i++) {
		vg_alertq_free(d->s[i].q);
		pthread_mutex_destroy(&d->s[i].rmu);
		pthread_mutex_destroy(&d->s[i].tmu);
		for (size_t j = 0; j < d->s[i].nreasons; j++)
			free(d->s[i].reasons[j].ns);
		for (size_t j = 0; j < TENANT_NS; j++)
			free(d->s[i].tns[j].ns);
	}
	if (d->buckets)
		for (size_t i = 0; i < MAX_BUCKETS; i++)
			free(d->buckets[i].rule);
	free(d->buckets);
	free(d);
}
