/* output.h - rule outputs (%field formatting) and Falco-compatible JSON alerts.
 *
 * An output format is compiled once into literal pieces and field
 * references; rendering appends text and values, "<NA>" for a field with
 * no value (as Falco prints it), lists as "(a,b)".
 */
#ifndef VIGIL_OUTPUT_H
#define VIGIL_OUTPUT_H

#include <stddef.h>

#include "cond.h"
#include "fields.h"

struct vg_output;
struct vg_rule;

/* Compile fmt; an unknown field is an error (err filled, NULL returned). */
struct vg_output *vg_output_compile(const char *fmt, const struct vg_pos *where,
				    struct vg_cond_err *err);
void vg_output_free(struct vg_output *o);
/* The first field of o (as written) that events of the sources in mask
 * (VG_FSRC_*) do not have; NULL when every field reads them. */
const char *vg_output_foreign(const struct vg_output *o, unsigned mask);

/* Render into buf (always NUL-terminated); returns the length. */
size_t vg_output_render(const struct vg_output *o, const struct vg_event *ev,
			struct vg_fvals *scratch, char *buf, size_t cap);

struct vg_alert_ctx {
	const char *hostname;
	struct vg_fvals scratch;
	char buf[8192];
};

/* One Falco-compatible JSON alert line (no newline), malloc'd:
 * {"time","rule","priority","source","hostname","output","output_fields","tags"}
 * plus "k8s":{"namespace","pod","uid"} when known. */
char *vg_alert_json(const struct vg_rule *r, const struct vg_event *ev, struct vg_alert_ctx *ctx);

/* The plain-text form: "TIME: Priority output". */
size_t vg_alert_text(const struct vg_rule *r, const struct vg_event *ev, struct vg_alert_ctx *ctx,
		     char *buf, size_t cap);

#endif
