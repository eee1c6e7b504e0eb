/* metrics.h - a Prometheus metrics registry (text exposition format 0.0.4).
 *
 * A registry holds families (counters and gauges), each with a fixed list
 * of label NAMES given at registration.  A series is one set of label
 * VALUES of a family.  Looking a series up (vg_metric_series) takes a lock
 * and may allocate; callers on a hot path look it up once and keep the
 * handle, whose updates are single relaxed atomic operations, safe while
 * another thread renders.  Handles live as long as the registry: series are
 * never removed.  Every update function accepts a NULL handle (a no-op), so
 * modules can run without a registry (tests).
 *
 * Cardinality is bounded: a family holds at most max_series series.  A new
 * label set beyond that goes to the family's single overflow series, whose
 * every label value is VG_METRIC_OVERFLOW ("__overflow__"); the overflow
 * series therefore still counts every event, only the breakdown is lost.
 * vg_metric_family_overflows() says how many lookups were redirected.
 *
 * Values: a counter is an unsigned 64-bit integer; a gauge is a double.
 *
 * Collect callbacks: a family may have a function the renderer calls just
 * before rendering that family (without any registry lock held), which
 * sets the current values from elsewhere, e.g. kernel per-CPU counters
 * summed by the caller (vg_metric_counter_set for counters).  Renders are
 * serialized, so collect callbacks never run concurrently with each other.
 *
 * Rendering: "# HELP" and "# TYPE" for every family (also one without
 * series yet), families in registration order, series sorted by their
 * label values (byte order, label by label; the overflow series last),
 * label values escaped (\\ \" \n), HELP escaped (\\ \n).
 */
#ifndef VIGIL_METRICS_H
#define VIGIL_METRICS_H

#include <assert.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VG_METRIC_MAX_LABELS 5
#define VG_METRIC_DEFAULT_MAX_SERIES 64
#define VG_METRIC_OVERFLOW "__overflow__"

enum vg_metric_type { VG_METRIC_COUNTER, VG_METRIC_GAUGE };

struct vg_metrics;
struct vg_metric_family;

/* The public part of a series: what the inline updaters touch.  The
 * registry allocates a larger private object that begins with this. */
struct vg_metric_series {
	_Atomic uint64_t value; /* counter: the count; gauge: a double's bits */
	uint8_t type;		/* enum vg_metric_type, for assertions */
};

typedef void (*vg_metric_collect_fn)(struct vg_metric_family *f, void *arg);

struct vg_metric_desc {
	const char *name; /* [a-zA-Z_:][a-zA-Z0-9_:]* ; counters end in _total */
	const char *help;
	enum vg_metric_type type;
	/* label names, NULL-terminated, at most VG_METRIC_MAX_LABELS,
	 * [a-zA-Z_][a-zA-Z0-9_]*, not "__"-prefixed, no duplicates */
	const char *labels[VG_METRIC_MAX_LABELS + 1];
	size_t max_series; /* 0 = VG_METRIC_DEFAULT_MAX_SERIES */
	/* Series whose label number capped_label is capped_value (NULL:
	 * none) take at most capped_max of max_series; the others of them
	 * are counted in the overflow series.  So that one party's labels
	 * (a team's Rule objects) cannot crowd out everyone else's series. */
	size_t capped_label;
	const char *capped_value;
	size_t capped_max;
	vg_metric_collect_fn collect; /* optional */
	void *collect_arg;
};

struct vg_metrics *vg_metrics_new(void);
void vg_metrics_free(struct vg_metrics *m);

/* Register a family.  A family without labels gets its one series at once
 * (so it renders as 0 before the first update).  Returns NULL with err set
 * on an invalid name, label or a duplicate name. */
struct vg_metric_family *vg_metrics_add(struct vg_metrics *m, const struct vg_metric_desc *d,
					char *err, size_t errlen);

/* Add the standard process families: process_resident_memory_bytes,
 * process_cpu_seconds_total, process_start_time_seconds, read from
 * /proc/self/{stat,statm} and /proc/stat at render time.  Returns 0, or -1
 * with err set (already registered). */
int vg_metrics_add_process(struct vg_metrics *m, char *err, size_t errlen);

/* Set (or replace) a family's collect callback; fn NULL removes it.  Waits
 * for a render in progress, so after it returns the old callback will not
 * be called again. */
void vg_metric_family_set_collect(struct vg_metric_family *f, vg_metric_collect_fn fn, void *arg);

/* The series for the given label values (one per label name of the
 * family, in order; NULL for a family without labels).  A NULL value is
 * taken as "".  Returns the overflow series when the family is full; NULL
 * only when f is NULL. */
struct vg_metric_series *vg_metric_series(struct vg_metric_family *f, const char *const *values);
/* The same with a count: NULL (and an assertion in debug builds) when n is
 * not the family's number of labels. */
struct vg_metric_series *vg_metric_series_n(struct vg_metric_family *f, const char *const *values,
					    size_t n);
/* vg_metric_labels(f, "a", "b"): the values inline, their count checked. */
#define vg_metric_labels(f, ...)                                                                   \
	vg_metric_series_n((f), (const char *const[]){__VA_ARGS__},                                \
			   sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* Drop every series of f (handles to them dangle): for a family whose
 * only writer is its collect callback, which clears it and adds the series
 * that still exist (objects that went away leave no series behind). */
void vg_metric_family_clear(struct vg_metric_family *f);
uint64_t vg_metric_family_overflows(const struct vg_metric_family *f);
size_t vg_metric_family_size(const struct vg_metric_family *f); /* series, overflow too */

/* Render the whole registry.  Returns a malloc'd NUL-terminated buffer
 * (*len its length without the NUL); the caller frees it. */
char *vg_metrics_render(struct vg_metrics *m, size_t *len);

/* --- updates (hot path) --------------------------------------------------- */

static inline void vg_metric_add(struct vg_metric_series *s, uint64_t n)
{
	if (!s)
		return;
	assert(s->type == VG_METRIC_COUNTER);
	atomic_fetch_add_explicit(&s->value, n, memory_order_relaxed);
}

static inline void vg_metric_inc(struct vg_metric_series *s)
{
	vg_metric_add(s, 1);
}

/* For collect callbacks mirroring a counter kept elsewhere. */
static inline void vg_metric_counter_set(struct vg_metric_series *s, uint64_t v)
{
	if (!s)
		return;
	assert(s->type == VG_METRIC_COUNTER);
	atomic_store_explicit(&s->value, v, memory_order_relaxed);
}

static inline uint64_t vg_metric_counter_get(const struct vg_metric_series *s)
{
	return s ? atomic_load_explicit(&((struct vg_metric_series *)s)->value,
					memory_order_relaxed)
		 : 0;
}

static inline void vg_metric_set(struct vg_metric_series *s, double v)
{
	if (!s)
		return;
	assert(s->type == VG_METRIC_GAUGE);
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	atomic_store_explicit(&s->value, bits, memory_order_relaxed);
}

static inline double vg_metric_gauge_get(const struct vg_metric_series *s)
{
	if (!s)
		return 0;
	uint64_t bits =
		atomic_load_explicit(&((struct vg_metric_series *)s)->value, memory_order_relaxed);
	double v;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

static inline void vg_metric_gauge_add(struct vg_metric_series *s, double d)
{
	if (!s)
		return;
	assert(s->type == VG_METRIC_GAUGE);
	uint64_t old = atomic_load_explicit(&s->value, memory_order_relaxed), new;
	do {
		double v;
		memcpy(&v, &old, sizeof(v));
		v += d;
		memcpy(&new, &v, sizeof(new));
	} while (!atomic_compare_exchange_weak_explicit(&s->value, &old, new, memory_order_relaxed,
							memory_order_relaxed));
}

/* --- vigil's families (DESIGN.md, Metrics) -------------------------------- */

struct vg_vigil_metrics {
	struct vg_metric_family *build_info;		/* {version,commit} = 1 */
	struct vg_metric_family *events;		/* counter {syscall} */
	struct vg_metric_family *events_dropped;	/* counter {stage} */
	struct vg_metric_family *events_filtered;	/* counter {syscall} */
	struct vg_metric_family *rule_matches;		/* counter {rule,priority} */
	struct vg_metric_family *rule_object_events;	/* counter {kind,namespace,name} */
	struct vg_metric_family *rule_object_cpu;	/* counter, ns {kind,namespace,name} */
	struct vg_metric_family *rule_object_throttled; /* counter {kind,namespace,name} */
	struct vg_metric_family *alerts_sent;		/* counter {sink} */
	struct vg_metric_family *alerts_failed;		/* counter {sink} */
	struct vg_metric_family *alert_failures;	/* counter {sink,reason} */
	struct vg_metric_family *alerts_throttled;	/* counter {sink} */
	struct vg_metric_family *rules_loaded;		/* gauge {kind,state} */
	struct vg_metric_family *rules_reloads;		/* counter {result} */
	struct vg_metric_family *rules_last_reload;	/* gauge, unix seconds */
	struct vg_metric_family *k8s_watch_restarts;	/* counter {resource} */
	struct vg_metric_family *k8s_requests;		/* counter {verb,resource,code} */
	struct vg_metric_family *k8s_cache_objects;	/* gauge {resource} */
	struct vg_metric_family *processes_tracked;	/* gauge */
	struct vg_metric_family *process_evictions;	/* counter */
	struct vg_metric_family *capture_features;	/* gauge {feature}, 1 used / 0 fallback */
	struct vg_metric_family *regex_undecided;	/* counter */
	struct vg_metric_family *log_dropped;		/* counter */
};

/* Register every family DESIGN.md lists (vigil_build_info set to 1 for
 * VIGIL_VERSION/VIGIL_COMMIT), then the process families.  Fills *out.
 * Returns 0, or -1 with err set (e.g. registered twice). */
int vg_metrics_register_vigil(struct vg_metrics *m, struct vg_vigil_metrics *out, char *err,
			      size_t errlen);

#endif
