/* k8s_client.h - asynchronous HTTP(S) requests to the Kubernetes API server.
 *
 * A client owns a libwebsockets context and one service thread.  Every
 * callback (response, streamed data, timers, posted work) runs on that
 * thread, one at a time, so the modules built on the client (informers,
 * events, leases) keep their state without locks and only hand results to
 * other threads.  k8s_client_request(), k8s_client_post() and
 * k8s_client_call() may be called from any thread.
 *
 * TLS is verified against the config's CA file only (the OS store is never
 * loaded) unless the config says insecure-skip-tls-verify.  Authentication:
 * the client certificate of the config, and/or its bearer token, fetched per
 * request (so a rotated token file is picked up); a 401 makes the config
 * re-read the token file at once.
 *
 * Every request is reported once to the request hook as (verb, resource,
 * code) so the agent can count vigil_k8s_requests_total: when it ends, or
 * for a stream (watch) when its response starts; code is the HTTP status,
 * 0 when no response arrived.
 */
#ifndef VIGIL_K8S_CLIENT_H
#define VIGIL_K8S_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "k8s_config.h"

#define K8S_CT_JSON "application/json"
#define K8S_CT_MERGE_PATCH "application/merge-patch+json"
#define K8S_CT_STRATEGIC_PATCH "application/strategic-merge-patch+json"
#define K8S_CT_APPLY_PATCH "application/apply-patch+yaml"
#define K8S_CT_JSON_PATCH "application/json-patch+json"

struct k8s_client;
struct k8s_call;

/* verb and resource as given in the request (e.g. "watch", "pods"). */
typedef void (*k8s_request_hook)(void *ctx, const char *verb, const char *resource, int code);

struct k8s_client_opts {
	const char *user_agent;	    /* NULL: "vigil" */
	unsigned timeout_s;	    /* whole request (not streams); 0 = 30 */
	unsigned connect_timeout_s; /* connect + TLS; 0 = 10 */
	k8s_request_hook hook;
	void *hook_ctx;
};

struct k8s_response {
	int status;	  /* HTTP status; 0 = no response (see message) */
	const char *body; /* the whole body, NUL-terminated (empty for streams) */
	size_t body_len;
	const cJSON *json; /* the body parsed when it is JSON, else NULL */
	/* From a Status body (or the transport error): reason is e.g.
	 * "Expired", "Forbidden", "" when none; message is readable text,
	 * never NULL. */
	const char *reason;
	const char *message;
	double retry_after_s; /* Retry-After, -1 when absent */
	bool complete;	      /* the whole response arrived (a stream ended cleanly) */
};

struct k8s_request {
	const char *method;	  /* "GET" (default), "POST", "PUT", "PATCH", "DELETE" */
	const char *path;	  /* absolute API path with an escaped query, e.g.
				   * "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1" */
	const char *accept;	  /* NULL: application/json */
	const char *content_type; /* for a body: K8S_CT_* */
	const char *body;
	size_t body_len;
	const char *verb;     /* hook label; NULL: from the method */
	const char *resource; /* hook label; NULL: "other" */
	/* Streaming (watch): when set, body bytes go here as they arrive
	 * (after a 2xx status; an error body is still collected and given
	 * to on_done).  A non-zero return closes the stream. */
	int (*on_data)(void *ctx, const char *data, size_t len);
	unsigned idle_timeout_s; /* streams: close after this long without data */
	/* Called once when the request ends (also after cancel is NOT called:
	 * a cancelled call never calls back). */
	void (*on_done)(void *ctx, const struct k8s_response *r);
	void *ctx;
};

/* Start a client (and its service thread) for cfg, which must outlive it.
 * NULL with err set when TLS cannot be set up (unreadable CA or key...). */
struct k8s_client *k8s_client_new(struct k8s_config *cfg, const struct k8s_client_opts *opts,
				  char *err, size_t errlen);
/* Stop the thread and close every connection; pending calls never call
 * back.  Free the modules using the client first. */
void k8s_client_free(struct k8s_client *c);

struct k8s_config *k8s_client_config(struct k8s_client *c);

/* Queue a request (any thread; everything is copied); it starts from the
 * service loop, so on_done never runs inside this call.  Returns a handle
 * usable with k8s_call_cancel() on the service thread until on_done runs
 * (forget it there), or NULL when the client is stopping. */
struct k8s_call *k8s_client_request(struct k8s_client *c, const struct k8s_request *r);
/* Service thread only: abort a call; its callbacks never run afterwards. */
void k8s_call_cancel(struct k8s_call *call);

/* Run fn(ctx) on the service thread soon (any thread). */
int k8s_client_post(struct k8s_client *c, void (*fn)(void *ctx), void *ctx);
/* Run fn(ctx) on the service thread and wait for it to return (directly
 * when called on the service thread). */
int k8s_client_call(struct k8s_client *c, void (*fn)(void *ctx), void *ctx);
bool k8s_client_on_thread(struct k8s_client *c);

/* One-shot timers on the service thread, embedded in their owner.
 * init once; arm/cancel on the service thread only. */
struct k8s_timer {
	void *priv[6]; /* libwebsockets' sorted list entry */
	void (*fn)(void *ctx);
	void *ctx;
	struct k8s_client *c;
};
void k8s_timer_init(struct k8s_timer *t, struct k8s_client *c, void (*fn)(void *ctx), void *ctx);
void k8s_timer_arm(struct k8s_timer *t, uint64_t delay_ns);
void k8s_timer_cancel(struct k8s_timer *t);

/* Blocking helper for tests and start-up code NOT on the service thread:
 * perform the request and wait.  Returns the status (0 = no response);
 * *json (optional) receives a copy of the parsed body to cJSON_Delete. */
int k8s_client_do(struct k8s_client *c, const struct k8s_request *r, cJSON **json, char *msg,
		  size_t msglen);

#endif
