/* sink_k8s_events.c - the Kubernetes Events sink: alerts handed to the
 * k8s_events writer (k8s/k8s_events.h), which merges repeats into series
 * and rate-limits the writes on its own thread.  The alert record carries
 * its message and pod, or the object an audit event acted upon, and the
 * rule object that raised it (alertq.h), so nothing is parsed here.  An
 * audit alert's Event regards the object acted upon and names its rule
 * object too; the share it counts against is its rule object's (a
 * ClusterRule's or a file's: the cluster share).
 *
 * An alert handed over is held (VG_SINK_HELD): the writer tells on its own
 * thread whether it became (part of) an Event or was lost and why, and
 * that is what the dispatcher counts, so vigil_alerts_sent_total{sink=
 * "k8s_events"} counts only alerts the API server took. */
#include "k8s_events.h"
#include "sink.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct events_sink {
	struct k8s_events *ev;
	struct vg_sink *s;
	unsigned drain_ms;
	char node[256];
};

static const char *reason_of(const char *r)
{
	/* the writer's words are the sink's (sink.h); map them to the
	 * constants so the dispatcher's per-reason cache compares pointers
	 * to a fixed set */
	if (!r || !strcmp(r, K8S_EVENTS_R_QUEUE))
		return VG_SINK_R_EVENTS_QUEUE;
	if (!strcmp(r, K8S_EVENTS_R_SERIES))
		return VG_SINK_R_EVENTS_SERIES;
	if (!strcmp(r, K8S_EVENTS_R_SHUTDOWN))
		return VG_SINK_R_SHUTDOWN;
	return VG_SINK_R_API;
}

/* The writer's thread. */
static void on_settle(void *ctx, const char *ns, uint64_t written, uint64_t lost,
		      const char *reason)
{
	struct events_sink *e = ctx;
	vg_sink_settle_ns(e->s, written, 0, NULL, ns);
	if (lost)
		vg_sink_settle_ns(e->s, 0, lost, reason_of(reason), ns);
}

static int events_deliver(struct vg_sink *s, const struct vg_alert *al, char *err, size_t errlen)
{
	struct events_sink *e = s->impl;
	struct k8s_event_in in = {
		.rule = al->rule,
		.note = al->message ? al->message : al->rule,
		.time_ns = al->ts,
		.origin_kind = al->rule_kind,
		.origin_ns = al->rule_ns,
		.origin_name = al->rule_name,
		.origin_gen = al->rule_gen,
		.track = true,
	};
	if (al->obj_kind && al->obj_name) { /* an audit event's object */
		in.kind = al->obj_kind;
		in.api_version = al->obj_api_version;
		in.namespace = al->obj_ns;
		in.name = al->obj_name;
		in.uid = al->obj_uid;
	} else if (al->k8s_pod && al->k8s_ns) {
		in.kind = "Pod";
		in.namespace = al->k8s_ns;
		in.name = al->k8s_pod;
		in.uid = al->k8s_uid;
	} else {
		/* host processes, and containers no pod claims, are the node's */
		in.kind = "Node";
		in.name = e->node;
	}
	if (k8s_events_emit(e->ev, &in)) {
		s->reason = VG_SINK_R_EVENTS_QUEUE;
		snprintf(err, errlen, "the Kubernetes Events queue is full");
		return -1;
	}
	return VG_SINK_HELD;
}

static void events_close(struct vg_sink *s)
{
	struct events_sink *e = s->impl;
	/* what the writer still holds: wait for it a while, then it counts
	 * as lost at shutdown (the writer may still write some of it while
	 * `vigil run` stops, but the dispatcher's books close here) */
	struct timespec ts = {0, 20 * 1000000L};
	for (unsigned waited = 0; waited < e->drain_ms && k8s_events_unsettled(e->ev); waited += 20)
		nanosleep(&ts, NULL);
	uint64_t left = k8s_events_detach(e->ev);
	vg_sink_settle(s, 0, left, VG_SINK_R_SHUTDOWN);
	free(e); /* the k8s_events writer belongs to the caller */
	free(s);
}

static const struct vg_sink_ops events_ops = {
	.deliver = events_deliver,
	.close = events_close,
};

struct vg_sink *vg_sink_k8s_events_new(struct k8s_events *ev, const char *node, int min_priority,
				       unsigned drain_ms)
{
	struct events_sink *e = vg_xcalloc(1, sizeof(*e));
	e->ev = ev;
	e->drain_ms = drain_ms;
	snprintf(e->node, sizeof(e->node), "%s", node);
	struct vg_sink *s = vg_xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "k8s_events");
	s->min_priority = min_priority;
	s->ops = &events_ops;
	s->impl = e;
	e->s = s;
	k8s_events_set_settle(ev, on_settle, e);
	return s;
}
