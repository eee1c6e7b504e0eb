/* held.h - the namespaces of the alerts a sink holds (VG_SINK_HELD).
 *
 * A buffering sink (stdout and file lines, an HTTP batch, lines a program
 * has not read yet) counts its alerts only once their fate is known, often
 * many at a time.  Its losses are counted by namespace (the namespace of
 * the Rule object that raised each alert, vigil_alert_failures_total), so
 * it keeps, in the order it holds them, whose alerts they are: a FIFO of
 * namespaces, NULL for the cluster's rules, the files' and the agent's own
 * (the common case: nothing allocated).  One thread: the sink's own. */
#ifndef VIGIL_HELD_H
#define VIGIL_HELD_H

#include <stddef.h>

#include "alertq.h"

struct vg_sink;

struct vg_held {
	char **ns; /* a ring: cap slots from head, n used */
	size_t head, n, cap;
};

/* Hold one more alert (a's namespace is copied when it has one). */
void vg_held_push(struct vg_held *h, const struct vg_alert *a);
/* The oldest k held alerts were written: counted as sent, forgotten. */
void vg_held_sent(struct vg_sink *s, struct vg_held *h, size_t k);
/* The oldest k held alerts are lost for reason: counted as failed, each
 * under its namespace, and forgotten. */
void vg_held_failed(struct vg_sink *s, struct vg_held *h, size_t k, const char *reason);
/* The oldest held alert, taken out: its namespace (the caller frees it;
 * NULL for none). */
char *vg_held_take(struct vg_held *h);
size_t vg_held_count(const struct vg_held *h);
void vg_held_free(struct vg_held *h);

#endif
