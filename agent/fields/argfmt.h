/* argfmt.h - syscall parameters under Falco's names, rendered as Falco does.
 *
 * Every event type has an ordered list of named parameters (evt.arg[n],
 * evt.arg.NAME, evt.args).  A parameter renders to two texts: the raw
 * value ("3", "65", "-2", "/tmp/x") and, when there is one, its resolved
 * meaning ("<f>/etc/passwd", "O_WRONLY|O_CREAT", "ENOENT", a user name).
 * evt.arg.NAME reads the resolved text when not empty, else the raw one;
 * evt.args shows "name=raw(resolved)".
 *
 * confined: render for a rule of a namespaced Rule (fields.h,
 * vg_field_confine): a pid resolves to its process's name only when that
 * process is in the event's own container.
 */
#ifndef VIGIL_ARGFMT_H
#define VIGIL_ARGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Number of parameters of ev's type; their names. */
int vg_argfmt_count(const struct vg_event *ev);
const char *vg_argfmt_name(const struct vg_event *ev, int i);
/* Index of the parameter called name (len bytes), -1 when ev has none. */
int vg_argfmt_find(const struct vg_event *ev, const char *name, size_t len);

/* Render parameter i.  raw and res are NUL-terminated (res "" when the
 * value has no resolved form).  false when i is out of range or the value
 * is not in the record. */
bool vg_argfmt_render(const struct vg_event *ev, int i, bool confined, char *raw, size_t rawcap,
		      char *res, size_t rescap);

/* What evt.arg.NAME reads of parameter i: the resolved text when there is
 * one, else the raw one (one render, into out, when the kind always has a
 * resolved form).  false as vg_argfmt_render. */
bool vg_argfmt_value(const struct vg_event *ev, int i, bool confined, char *out, size_t cap);

/* evt.args: every parameter, "name=raw(res) name=raw ...". Returns length. */
size_t vg_argfmt_all(const struct vg_event *ev, bool confined, char *out, size_t cap);

/* "ENOENT" for 2; NULL when unknown (e is positive). */
const char *vg_errno_name(int e);
/* Capability names of the set bits, space-separated ("CAP_CHOWN CAP_KILL").
 * Returns the length written. */
size_t vg_caps_render(uint64_t caps, char *out, size_t cap);

#endif
