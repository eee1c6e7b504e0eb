/* sink_k8s_events.c - the Kubernetes Events sink: alerts handed to the
 * k8s_events writer (k8s/k8s_events.h), which merges repeats into series
 * and rate-limits the writes on its own thread.  The alert record carries
 * its message and pod, or the object an audit event acted upon (alertq.h),
 * so nothing is parsed here. */
#include "k8s_events.h"
#include "sink.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

struct events_sink {
	struct k8s_events *ev;
	char node[256];
};

static int events_deliver(struct vg_sink *s, const struct vg_alert *al, char *err, size_t errlen)
{
	struct events_sink *e = s->impl;
	struct k8s_event_in in = {
		.rule = al->rule,
		.note = al->message ? al->message : al->rule,
		.time_ns = al->ts,
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
	return 0;
}

static void events_close(struct vg_sink *s)
{
	free(s->impl); /* the k8s_events writer belongs to the caller */
	free(s);
}

static const struct vg_sink_ops events_ops = {
	.deliver = events_deliver,
	.close = events_close,
};

struct vg_sink *vg_sink_k8s_events_new(struct k8s_events *ev, const char *node, int min_priority)
{
	struct events_sink *e = vg_xcalloc(1, sizeof(*e));
	e->ev = ev;
	snprintf(e->node, sizeof(e->node), "%s", node);
	struct vg_sink *s = vg_xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "k8s_events");
	s->min_priority = min_priority;
	s->ops = &events_ops;
	s->impl = e;
	return s;
}
