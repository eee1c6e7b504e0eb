/* k8s_lease.h - leader election on a coordination.k8s.io/v1 Lease, and the
 * status-subresource patch the leader writes with.
 *
 * The holder renews it every lease_duration/3 with one update (carrying the
 * resourceVersion its last write returned, so two writers never both win;
 * a 409 makes it read again).  Every other candidate reads the Lease every
 * lease_duration/2 to lease_duration (jittered), and takes it over only
 * when the holder's record has not changed for leaseDurationSeconds as
 * measured on the candidate's own clock (no trust in other nodes' clocks):
 * a dead holder is replaced within two lease durations, and N agents
 * make about (N-1)/11.25 + 1/5 requests/s for the default 15 s.  Errors
 * are retried every retry period.  A leader that cannot renew for
 * renew_deadline steps down before its lease can expire elsewhere.
 * on_change runs on the client's service thread.
 */
#ifndef VIGIL_K8S_LEASE_H
#define VIGIL_K8S_LEASE_H

#include <stdbool.h>
#include <stddef.h>

#include "k8s_client.h"

struct k8s_lease;

struct k8s_lease_opts {
	const char *namespace;	   /* the agent's namespace */
	const char *name;	   /* e.g. "vigil-status-writer" */
	const char *identity;	   /* unique per candidate, e.g. the node name */
	unsigned lease_duration_s; /* 0 = 15 */
	unsigned renew_deadline_s; /* 0 = 10 */
	unsigned retry_period_s;   /* after an error, and the shortest period; 0 = 2 */
	void (*on_change)(void *ctx, bool leader);
	/* every failed read or write (e.g. 403 naming the missing verb) */
	void (*on_error)(void *ctx, int code, const char *message);
	void *ctx;
};

struct k8s_lease *k8s_lease_new(struct k8s_client *c, const struct k8s_lease_opts *o, char *err,
				size_t errlen);
void k8s_lease_start(struct k8s_lease *l);
/* Any thread. */
bool k8s_lease_is_leader(struct k8s_lease *l);
/* Stop (releasing the lease when held, best effort within 2 s) and free;
 * not on the service thread. */
void k8s_lease_free(struct k8s_lease *l);

/* Merge-patch the status subresource of the object at object_path
 * ("/apis/vigil.dev/v1alpha1/clusterrules/NAME") with status_json (the
 * value of "status").  resource is the metrics label.  Any thread; on_done
 * as for k8s_client_request (may be NULL). */
struct k8s_call *k8s_patch_status(struct k8s_client *c, const char *object_path,
				  const char *resource, const char *status_json,
				  void (*on_done)(void *ctx, const struct k8s_response *r),
				  void *ctx);

#endif
