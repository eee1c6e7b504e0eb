/* dispatch.h - fan rendered alerts out to sinks, each on its own thread.
 *
 * The producer (the capture thread) calls vg_dispatch_emit(); for every
 * sink that accepts the alert's priority, the alert goes onto that sink's
 * bounded queue, or, when the queue is full, is dropped and counted: the
 * producer never waits for a sink.  Each sink has a thread that pops,
 * delivers, and flushes when its queue runs empty.
 *
 * A per-rule token bucket (rate alerts/s, burst) may hold back a noisy
 * rule before anything is rendered; held back alerts are counted as
 * throttled for every sink that would have taken them.
 *
 * Counting (also into the metric families given, any may be NULL):
 *   sent       delivered by the sink (a held alert when the sink settles it)
 *                                           vigil_alerts_sent_total{sink}
 *   failed     the sink gave up, or the queue was full
 *                                           vigil_alerts_failed_total{sink}
 *              and by reason (VG_SINK_R_*)  vigil_alert_failures_total{sink,reason}
 *   dropped    queue full (also in failed)  vigil_events_dropped_total{stage="alert_queue"}
 *   throttled  the rule's rate limit        vigil_alerts_throttled_total{sink}
 *
 * Producer calls (emit, throttled, take_dropped) come from one thread.
 */
#ifndef VIGIL_DISPATCH_H
#define VIGIL_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertq.h"
#include "metrics.h"
#include "sink.h"

struct vg_dispatch_opts {
	size_t queue_len;  /* per sink; 0 = 10000 */
	double rule_rate;  /* alerts per second per rule; <= 0: unlimited */
	double rule_burst; /* bucket size; < 1 = 1 */
	struct vg_metric_family *sent, *failed, *throttled; /* {sink} */
	struct vg_metric_family *failures;		    /* {sink,reason} */
	struct vg_metric_family *events_dropped;	    /* {stage} */
};

struct vg_dispatch_stats {
	uint64_t sent, failed, dropped, throttled;
};

struct vg_dispatch;

struct vg_dispatch *vg_dispatch_new(const struct vg_dispatch_opts *o);

/* Add a sink (before start); the dispatcher owns it from now on. */
void vg_dispatch_add(struct vg_dispatch *d, struct vg_sink *s);
size_t vg_dispatch_count(const struct vg_dispatch *d);
const char *vg_dispatch_name(const struct vg_dispatch *d, size_t i);

/* Start one thread per sink.  -1 with err set if a thread cannot start. */
int vg_dispatch_start(struct vg_dispatch *d, char *err, size_t errlen);

/* Whether any sink reads the text form / the least severe priority any
 * sink accepts (-1: no sink): lets the producer skip needless work. */
bool vg_dispatch_wants_text(const struct vg_dispatch *d);
int vg_dispatch_max_priority(const struct vg_dispatch *d);

/* True when the rule's rate limit holds this alert back (counted). */
bool vg_dispatch_throttled(struct vg_dispatch *d, const char *rule, int priority, uint64_t now_ns);

/* Queue a to every sink that takes its priority; takes over the caller's
 * reference. */
void vg_dispatch_emit(struct vg_dispatch *d, struct vg_alert *a);

/* Alerts dropped on full queues since the last call (all sinks). */
uint64_t vg_dispatch_take_dropped(struct vg_dispatch *d);

/* Ask every sink to reopen its files (any thread, async-signal-safe
 * callers should set a flag and call this from a normal thread). */
void vg_dispatch_reopen(struct vg_dispatch *d);

/* Stop accepting, let the sinks drain their queues and flush until
 * deadline_ns (monotonic); past it, what is left is counted as failed.
 * Joins the threads and closes the sinks.  Returns the number of alerts
 * not delivered during the drain. */
uint64_t vg_dispatch_stop(struct vg_dispatch *d, uint64_t deadline_ns);

void vg_dispatch_get_stats(struct vg_dispatch *d, size_t i, struct vg_dispatch_stats *out);

/* Stops (immediately) if still running, frees. */
void vg_dispatch_free(struct vg_dispatch *d);

#endif
