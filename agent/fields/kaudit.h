/* kaudit.h - a Kubernetes audit event as an event the engine evaluates.
 *
 * The API server's audit webhook posts audit.k8s.io/v1 Events (in an
 * EventList); each one becomes a struct vg_kaudit_event whose ev.type is
 * VG_T_AUDIT, and the ka.* and jevt.* fields (fields_audit.c) read the
 * decoded JSON object.  Only rules of source k8s_audit are indexed under
 * VG_T_AUDIT, and they may read only those fields and the time fields of
 * evt.* (vg_field_source), so no syscall field ever sees an audit event.
 *
 * The event borrows the object: it must outlive the evaluation and every
 * alert rendered from it.
 */
#ifndef VIGIL_KAUDIT_H
#define VIGIL_KAUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "event.h"

#define VG_KAUDIT_SOURCE "k8s_audit"

struct vg_kaudit_event {
	struct vg_event ev; /* first: fields get &ev and find the rest */
	const cJSON *obj;   /* the audit Event */
};

/* Fill ke for obj: ev.ts from the event's stageTimestamp (else its
 * requestReceivedTimestamp, else now_ns), ev.num = num. */
void vg_kaudit_event_init(struct vg_kaudit_event *ke, const cJSON *obj, uint64_t num,
			  uint64_t now_ns);

/* The audit event of ev, NULL when ev is not one. */
static inline const struct vg_kaudit_event *vg_kaudit_of(const struct vg_event *ev)
{
	return ev->type == VG_T_AUDIT ? (const struct vg_kaudit_event *)ev : NULL;
}

/* The object an audit event acted upon, for the Kubernetes Events of its
 * alerts: from objectRef (the Pod for a subresource such as pods/exec),
 * named by the response or request object for a create, its kind from the
 * resource or that object; else the Namespace of the request.  false for
 * a non-resource request or one naming nothing (those stay the node's). */
struct vg_kaudit_ref {
	char kind[64];
	char api_version[128]; /* "v1", "rbac.authorization.k8s.io/v1" */
	char ns[64];	       /* "" for cluster objects */
	char name[254];
	char uid[64]; /* "" when unknown */
};
bool vg_kaudit_ref(const struct vg_kaudit_event *ke, struct vg_kaudit_ref *out);

/* RFC 3339 time ("2024-01-02T03:04:05.123456Z", an offset or none of
 * the fraction) to ns since the epoch; 0 when s is not one. */
uint64_t vg_kaudit_parse_time(const char *s);

#endif
