/* audit.h - the Kubernetes audit webhook receiver: the API server posts
 * audit.k8s.io/v1 EventLists, vigil evaluates each Event with the rules of
 * source k8s_audit.
 *
 * The receiver has its own HTTPS listener (audit.* in vigil.yaml, off by
 * default).  The API server is authenticated by a client certificate
 * signed by audit.client_ca and/or a bearer token (audit.token_file); a
 * receiver with neither does not start.  A request is answered once its
 * body is decoded: the events go to a bounded queue, and whoever runs the
 * engine takes them with vg_audit_drain().  A full queue drops the batch
 * (counted, never waited on), so a slow or stopped engine never holds the
 * API server.  Every refused request is answered with a 4xx and counted
 * by reason (vigil_audit_requests_total{result}).
 */
#ifndef VIGIL_AUDIT_H
#define VIGIL_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "metrics.h"

/* --- the EventList decoder (also for vigil replay and the fuzzer) -------- */

/* Decode a webhook body: an audit.k8s.io/v1 EventList (or one Event).
 * Returns the parsed document and sets *events to its array of Events
 * (NULL for a single Event: then the document is the Event) and *n to
 * their number; NULL with *why (a static text) when the body is not JSON,
 * not an EventList of this API version, an item is not an object, or it
 * holds more than max_events. */
cJSON *vg_audit_decode(const char *body, size_t len, size_t max_events, const cJSON **events,
		       size_t *n, const char **why);

/* --- the receiver -------------------------------------------------------- */

struct vg_audit_opts {
	const char *listen;	/* host:port; port 0 picks one (tests) */
	const char *path;	/* the URL path the webhook posts to */
	const char *tls_cert;	/* PEM server certificate (required) */
	const char *tls_key;	/* its key */
	const char *client_ca;	/* PEM CA bundle: client certificates required */
	const char *token_file; /* bearer token required ("" = none) */
	uint64_t max_body_bytes;
	uint64_t max_events;  /* per request */
	uint64_t queue_bytes; /* bodies waiting for the engine */
	uint64_t max_connections;
	uint64_t timeout_ms; /* a request must arrive within this */
};

struct vg_audit;

/* Bind and load everything; NULL with err when the listener cannot start
 * (bad certificate, no authentication configured, port taken...).  reg may
 * be NULL (no metrics). */
struct vg_audit *vg_audit_new(const struct vg_audit_opts *o, struct vg_metrics *reg, char *err,
			      size_t errlen);
int vg_audit_start(struct vg_audit *a, char *err, size_t errlen);
int vg_audit_port(const struct vg_audit *a);
/* Stop accepting, close the connections, drop what is queued, free. */
void vg_audit_free(struct vg_audit *a);

/* Hand up to max queued events to fn, in order (the caller's thread).
 * Returns how many. */
typedef void (*vg_audit_fn)(void *ctx, const cJSON *event);
size_t vg_audit_drain(struct vg_audit *a, vg_audit_fn fn, void *ctx, size_t max);

/* Wait up to ms for queued events; true when there are some. */
bool vg_audit_wait(struct vg_audit *a, unsigned ms);

/* Events dropped because the queue was full, since the last call. */
uint64_t vg_audit_take_drops(struct vg_audit *a);

#endif
