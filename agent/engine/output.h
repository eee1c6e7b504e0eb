/* output.h - rule outputs (%field formatting) and Falco-compatible JSON alerts.
 *
 * An output format is compiled once into literal pieces and field
 * references; rendering appends text and values, "<NA>" for a field with
 * no value (as Falco prints it), lists as "(a,b)".
 */
#ifndef VIGIL_OUTPUT_H
#define VIGIL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cond.h"
#include "fields.h"

struct vg_output;
struct vg_rule;
struct vg_rule_origin;

/* Compile fmt; an unknown field is an error (err filled, NULL returned). */
struct vg_output *vg_output_compile(const char *fmt, const struct vg_pos *where,
				    struct vg_cond_err *err);
/* The same; confined: with the fields a namespaced Rule reads
 * (vg_field_confine). */
struct vg_output *vg_output_compile_in(const char *fmt, const struct vg_pos *where, bool confined,
				       struct vg_cond_err *err);
void vg_output_free(struct vg_output *o);
/* The fields an output reads: fn per field (the prefilter's analysis). */
void vg_output_fields(const struct vg_output *o,
		      void (*fn)(void *ctx, const struct vg_field *f, const struct vg_farg *arg),
		      void *ctx);
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
	char raw[8192]; /* the rule's output before vg_alert_text escapes it */
	/* After vg_alert_json: buf holds the text form, whose rule output
	 * starts at buf + msg_off; has_k8s when the event's pod is known,
	 * with its namespace, name and uid ("" when unknown). */
	size_t msg_off;
	bool has_k8s;
	char ns[256], pod[256], uid[64];
};

/* What every alert line carries, a rule's and the agent's own. */
struct vg_alert_head {
	uint64_t ts; /* wall clock, ns: "time" */
	const char *rule;
	int priority;
	const char *source; /* "syscall", "internal" */
	const char *hostname;
	const char *output; /* the text form: "HH:MM:SS.nnnnnnnnn: Priority text" */
	const char *const *tags;
	size_t ntags;
	/* "k8s":{"namespace","pod"[,"uid"]} when ns and pod are set */
	const char *k8s_ns, *k8s_pod, *k8s_uid;
	/* "rule_object":{"kind","namespace"(Rule only),"name","generation"}: the
	 * object that raised it; NULL (absent) for rules from files and the
	 * agent's own alerts */
	const struct vg_rule_origin *origin;
};

/* The one builder of an alert's JSON line (no newline), malloc'd:
 * {"time","rule","priority","source","hostname","output","output_fields","tags"}
 * plus "k8s" when known and "rule_object" for a rule object's rule.  Takes
 * over fields (an object; NULL: empty). */
char *vg_alert_envelope(const struct vg_alert_head *h, cJSON *fields);

/* A rule's alert as one Falco-compatible JSON line through
 * vg_alert_envelope(); also leaves the text form and the pod in ctx. */
char *vg_alert_json(const struct vg_rule *r, const struct vg_event *ev, struct vg_alert_ctx *ctx);

/* The plain-text form: "TIME: Priority output", one line whatever the
 * values: control characters and invalid UTF-8 written \xNN (utf8.h). */
size_t vg_alert_text(const struct vg_rule *r, const struct vg_event *ev, struct vg_alert_ctx *ctx,
		     char *buf, size_t cap);

#endif
