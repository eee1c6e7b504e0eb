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

/* RFC 3339 time ("2024-01-02T03:04:05.123456Z", an offset or none of
 * the fraction) to ns since the epoch; 0 when s is not one. */
uint64_t vg_kaudit_parse_time(const char *s);

#endif
