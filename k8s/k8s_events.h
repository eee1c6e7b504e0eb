/* k8s_events.h - alerts as events.k8s.io/v1 Events.
 *
 * One Event per (rule, object): type Warning, reason = the rule name in
 * CamelCase, note = the rendered output (at most 1024 bytes, cut on a UTF-8
 * boundary), reportingController vigil.dev/agent, reportingInstance = the
 * node, action Detected, eventTime with six fractional digits, name
 * "<object>.<hex unix ns>", in the object's namespace ("default" for a Node).
 * A repeat of the same rule on the same object within 10 minutes of the
 * previous one is a merge PATCH of the Event's series (count,
 * lastObservedTime) instead of a new Event.
 *
 * Identity: an occurrence names the rule object that raised it (origin:
 * ClusterRule or Rule, namespace, name, generation).  The series key holds
 * it, so a Rule that takes a ClusterRule's rule name never merges into (or
 * takes over) the ClusterRule's Event; the Event carries it as `related`,
 * labels vigil.dev/rule-kind and vigil.dev/rule-namespace and annotations
 * vigil.dev/rule-object ("Kind[/ns]/name") and vigil.dev/rule-generation.
 * Event names get a hash of the series key, so several rules firing on the
 * same syscall of the same object never share a name.
 *
 * Tenancy: every occurrence belongs to a share: its Rule's namespace, or the
 * cluster share (ClusterRules, rule files, the agent's own, no origin).  The
 * cluster share has a queue of its own (queue_max series) and its dirty
 * series are written first; the namespaces share another queue_max series,
 * max-min fair (a namespace under its fair part takes a never-written
 * series from the largest one), and are written round-robin, one write per
 * namespace in turn.  A Rule object holds at most series_max_per_rule live
 * series.  The incoming list is bounded per share class too.
 *
 * Rate: a token bucket per object and one for the node bound the writes.
 * Occurrences held back are merged into the pending write of their series
 * (so series.count still counts them) and counted as throttled; a new series
 * that finds the bounded queue full is dropped and counted.  Failed writes
 * (transport, 5xx, 429 with Retry-After) are retried with backoff; a write
 * that fails for good (4xx, retries exhausted) counts its occurrences as
 * failed.  Nothing is lost silently: emitted = written (created + in
 * series) + throttled-then-written + dropped + failed + pending.
 *
 * k8s_events_emit() may be called from any thread; it never blocks on the
 * network.
 */
#ifndef VIGIL_K8S_EVENTS_H
#define VIGIL_K8S_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s_client.h"

#define K8S_EVENT_NOTE_MAX 1024
#define K8S_EVENT_FIELD_MAX 128

struct k8s_events;

struct k8s_events_opts {
	const char *node_name;	    /* reportingInstance (required) */
	const char *controller;	    /* NULL: "vigil.dev/agent" */
	size_t queue_max;	    /* series waiting for a write; 0 = 1000 */
	double object_rate;	    /* writes/s per object; 0 = 0.2 */
	double object_burst;	    /* 0 = 5 */
	double node_rate;	    /* writes/s for the node; 0 = 5 */
	double node_burst;	    /* 0 = 25 */
	unsigned series_window_s;   /* 0 = 600 */
	unsigned max_attempts;	    /* per write; 0 = 8 */
	size_t series_max_per_rule; /* live series of one Rule object; 0 = 64 */
};

/* How tracked occurrences ended (mostly on the client's service thread,
 * never concurrently): written to the API server, or lost for reason
 * (K8S_EVENTS_R_*); ns: the share's namespace ("" = the cluster's). */
typedef void (*k8s_events_settle_fn)(void *ctx, const char *ns, uint64_t written, uint64_t lost,
				     const char *reason);

#define K8S_EVENTS_R_QUEUE "events_queue_full"	  /* the share's queue was full */
#define K8S_EVENTS_R_SERIES "events_series_limit" /* the Rule holds too many series */
#define K8S_EVENTS_R_API "api_error"		  /* the write failed for good */
#define K8S_EVENTS_R_SHUTDOWN "shutdown"	  /* pending when the writer stopped */

struct k8s_event_in {
	const char *rule; /* the rule's name (reason is derived from it) */
	const char *note; /* the rendered output */
	/* the object: kind "Pod" (namespace, name, uid) or "Node" (name) */
	const char *kind;
	const char *api_version; /* NULL: "v1" */
	const char *namespace;	 /* NULL/"" for cluster objects */
	const char *name;
	const char *uid;  /* optional; for the node itself, see k8s_events_set_node_uid */
	uint64_t time_ns; /* wall clock of the detection; 0 = now */
	/* the rule object that raised it: kind "ClusterRule" or "Rule" (NULL:
	 * rule files, the agent's own), its namespace (Rule), name, generation */
	const char *origin_kind, *origin_ns, *origin_name;
	int64_t origin_gen;
	bool track; /* report its outcome to on_settle */
};

struct k8s_events_stats {
	uint64_t emitted;   /* occurrences given to k8s_events_emit */
	uint64_t created;   /* Events created */
	uint64_t patched;   /* series PATCHes written */
	uint64_t throttled; /* occurrences merged into a later write by the buckets */
	uint64_t dropped;   /* occurrences dropped: queue full, series limit, stop */
	uint64_t failed;    /* occurrences whose write failed for good */
	uint64_t retries;   /* write attempts retried */
	uint64_t pending;   /* series waiting for a write now */
};

struct k8s_events *k8s_events_new(struct k8s_client *c, const struct k8s_events_opts *o, char *err,
				  size_t errlen);
/* Queue one occurrence (any thread).  Returns 0, or -1 when dropped. */
int k8s_events_emit(struct k8s_events *e, const struct k8s_event_in *in);
void k8s_events_stats(struct k8s_events *e, struct k8s_events_stats *out);
/* The Node's uid for Events about the node itself (any thread; the
 * kubelet's Events carry it, and `kubectl describe node` lists only those). */
void k8s_events_set_node_uid(struct k8s_events *e, const char *uid);
/* Report tracked occurrences to fn (any thread, before the first emit). */
void k8s_events_set_settle(struct k8s_events *e, k8s_events_settle_fn fn, void *ctx);
/* Tracked occurrences not settled yet. */
uint64_t k8s_events_unsettled(struct k8s_events *e);
/* Stop reporting (any thread; when it returns no call is running or will
 * start).  Returns the tracked occurrences not settled yet. */
uint64_t k8s_events_detach(struct k8s_events *e);
/* Stop and free; pending writes are abandoned (counted as dropped). */
void k8s_events_free(struct k8s_events *e);

/* --- pure helpers (tested on their own) --- */

/* CamelCase reason from a rule name ("Terminal shell in container" ->
 * "TerminalShellInContainer"), at most K8S_EVENT_FIELD_MAX chars;
 * "VigilAlert" when nothing is left. */
void k8s_event_reason(const char *rule, char *out, size_t outlen);
/* Length of s cut to at most max bytes without splitting a UTF-8 sequence. */
size_t k8s_utf8_cut(const char *s, size_t max);
/* MicroTime: "2026-11-29T03:22:00.123456Z". */
void k8s_micro_time(uint64_t wall_ns, char out[32]);
/* Event name "<object>.<hex ns>", the object part shortened so that the
 * whole stays a valid name (<= 253 chars). */
void k8s_event_name(const char *object, uint64_t wall_ns, char *out, size_t outlen);
/* The same with ".<8 hex tag>" after it (tag: a hash of the series). */
void k8s_event_name_tagged(const char *object, uint64_t wall_ns, uint32_t tag, char *out,
			   size_t outlen);
/* The Event body as JSON text (caller frees); a series when count >= 2. */
char *k8s_event_body(const struct k8s_event_in *in, const char *controller, const char *node,
		     const char *name, const char *ns, uint64_t first_ns, uint64_t count,
		     uint64_t last_ns);
/* The last write error, "" when none (any thread). */
void k8s_events_last_error(struct k8s_events *e, char *buf, size_t len);

#endif
