/* alertq.h - rendered alerts and the bounded queue that carries them to a sink.
 *
 * An alert is rendered once (JSON, and text when a sink wants it) by the
 * thread that matched it, then shared by reference: every sink queue that
 * takes it holds one reference, the last unref frees it.  An alert is
 * immutable once created, so sinks read it without locks.
 *
 * A queue is bounded: a push onto a full queue fails at once (the capture
 * thread never waits for a sink); the caller counts the loss.  Pops wait
 * with a timeout so a sink thread can also do periodic work (reopen,
 * flush).  After vg_alertq_close() pushes fail and pops return what is
 * left, then VG_ALERTQ_CLOSED.
 */
#ifndef VIGIL_ALERTQ_H
#define VIGIL_ALERTQ_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct vg_alert {
	_Atomic unsigned refs;
	int priority;	 /* enum vg_priority */
	uint64_t ts;	 /* the event's wall clock, ns */
	char *rule;	 /* the rule's name */
	char *json;	 /* one JSON object, no newline */
	size_t json_len; /* strlen(json) */
	char *text;	 /* the text form, NULL when no sink wants it */
	size_t text_len;
	/* What it is about, for sinks that address an object (Kubernetes
	 * Events) so they need not parse json: the message without the time
	 * and priority of the text form, and the pod (NULL: the node's). */
	char *message;
	char *k8s_ns, *k8s_pod, *k8s_uid;
	/* Or another object (an audit event's: the ClusterRoleBinding
	 * created...): its kind (NULL: none), apiVersion, namespace ("" for
	 * cluster objects), name and uid (NULL: unknown). */
	char *obj_kind, *obj_api_version, *obj_ns, *obj_name, *obj_uid;
};

/* A new alert with one reference; takes over json and text (malloc'd,
 * text may be NULL). */
struct vg_alert *vg_alert_new(const char *rule, int priority, uint64_t ts, char *json, char *text);
/* Set message and pod (copied; each may be NULL) before the alert is shared. */
void vg_alert_set_subject(struct vg_alert *a, const char *message, const char *k8s_ns,
			  const char *k8s_pod, const char *k8s_uid);
/* Set the object it regards when not a pod (copied; uid may be NULL). */
void vg_alert_set_object(struct vg_alert *a, const char *kind, const char *api_version,
			 const char *ns, const char *name, const char *uid);
void vg_alert_ref(struct vg_alert *a);
void vg_alert_unref(struct vg_alert *a); /* NULL is fine */

enum { VG_ALERTQ_OK = 0, VG_ALERTQ_FULL = -1, VG_ALERTQ_CLOSED = -2, VG_ALERTQ_TIMEOUT = -3 };

struct vg_alertq;

struct vg_alertq *vg_alertq_new(size_t capacity); /* capacity >= 1 */
void vg_alertq_free(struct vg_alertq *q);	  /* unrefs what is left */

/* Queue a; on success the queue holds a new reference.  Never blocks.
 * VG_ALERTQ_FULL or VG_ALERTQ_CLOSED otherwise (a is untouched). */
int vg_alertq_push(struct vg_alertq *q, struct vg_alert *a);

/* Take the oldest alert (the caller owns its reference), waiting up to
 * timeout_ms (-1: forever).  VG_ALERTQ_TIMEOUT, or VG_ALERTQ_CLOSED once
 * closed and empty. */
int vg_alertq_pop(struct vg_alertq *q, struct vg_alert **out, int timeout_ms);

/* No more pushes; wakes every waiting pop. */
void vg_alertq_close(struct vg_alertq *q);

/* Wake a waiting pop without an alert (it returns VG_ALERTQ_TIMEOUT). */
void vg_alertq_kick(struct vg_alertq *q);

size_t vg_alertq_len(struct vg_alertq *q);
size_t vg_alertq_capacity(const struct vg_alertq *q);

#endif
