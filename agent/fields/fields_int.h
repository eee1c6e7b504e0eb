/* fields_int.h - private to agent/fields/: what the field family files
 * (fields_evt.c, fields_proc.c, fields_user.c, fields_fd.c,
 * fields_container.c, fields_fs.c, fields_audit.c) share, and the tables they give the
 * registry in fields.c.
 *
 * The value helpers are static inline: every extraction goes through
 * them, and they were inlined when all fields lived in one file.
 */
#ifndef VIGIL_FIELDS_INT_H
#define VIGIL_FIELDS_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "fields.h"
#include "state.h"
#include "sysreg.h"

/* An extractor: ev, arg and out as vg_field_fn has them. */
#define FN(name)                                                                                   \
	static void name(const struct vg_event *ev __attribute__((unused)),                        \
			 const struct vg_farg *arg __attribute__((unused)),                        \
			 struct vg_fvals *out __attribute__((unused)))

/* ------------------------------------------------------------------ */
/* value helpers                                                       */

static inline void put_str(struct vg_fvals *out, const char *s)
{
	if (s)
		vg_fvals_str(out, s, strlen(s));
}

/* A string that may not outlive the call: copied into the scratch buffer. */
static inline void put_copy(struct vg_fvals *out, const char *s)
{
	if (s)
		vg_fvals_strcpy(out, s, strlen(s));
}

static inline void put_bool(struct vg_fvals *out, bool b)
{
	vg_fvals_u64(out, b ? 1 : 0);
}

/* An address; for VG_FT_NET fields the full-length prefix. */
static inline void put_ip(struct vg_fvals *out, unsigned family, const uint8_t *a)
{
	if (out->n >= VG_FVALS_MAX)
		return;
	struct vg_fval *v = &out->v[out->n++];
	memset(&v->ip, 0, sizeof(v->ip));
	if (family == AF_INET) {
		v->ip.family = 4;
		v->ip.prefix = 32;
		memcpy(v->ip.b, a, 4);
	} else {
		v->ip.family = 6;
		v->ip.prefix = 128;
		memcpy(v->ip.b, a, 16);
	}
}

/* A string built with snprintf into the scratch buffer. */
__attribute__((format(printf, 2, 3))) static inline void put_fmt(struct vg_fvals *out,
								 const char *fmt, ...)
{
	char tmp[VG_STR_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	vg_fvals_strcpy(out, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* ------------------------------------------------------------------ */
/* what several families read                                          */

/* the process of the event (proc.*, thread.*, user.*, container.id) */
#define P (ev->proc)

static inline bool exec_known(const struct vg_proc *p)
{
	return p && (p->known & VG_PK_EXEC);
}

/* The registry row of an open-family syscall event (evt.is_open_*,
 * fd.nameraw), NULL for any other event. */
static inline const struct vg_sysreg *open_row(const struct vg_event *ev)
{
	if (ev->raw->h.kind != VG_K_SYSCALL)
		return NULL;
	const struct vg_sysreg *row = vg_sysreg(ev->type);
	return row && row->open != VG_OPEN_NONE ? row : NULL;
}

/* never has a value (evt.buffer: vigil does not capture I/O data;
 * fd.*.name: no DNS resolution) */
static inline void f_unset(const struct vg_event *ev __attribute__((unused)),
			   const struct vg_farg *arg __attribute__((unused)),
			   struct vg_fvals *out __attribute__((unused)))
{
}

/* ------------------------------------------------------------------ */
/* the family tables, in the order `vigil fields` lists them           */

/* shorthands for the tables */
#define S VG_FT_STR
#define U VG_FT_U64
#define I VG_FT_S64
#define B VG_FT_BOOL
#define IP VG_FT_IP
#define NET VG_FT_NET
#define AT VG_FT_ABSTIME
#define RT VG_FT_RELTIME
#define IDX VG_FF_ARG_INDEX
#define KEY VG_FF_ARG_KEY
#define REQ VG_FF_ARG_REQ
#define LIST VG_FF_LIST

extern const struct vg_field vg_fields_evt[]; /* evt.* (fields_evt.c) */
extern const size_t vg_fields_evt_count;
extern const struct vg_field vg_fields_proc[]; /* proc.* (fields_proc.c) */
extern const size_t vg_fields_proc_count;
extern const struct vg_field vg_fields_user[]; /* thread.*, user.*, group.* (fields_user.c) */
extern const size_t vg_fields_user_count;
extern const struct vg_field vg_fields_fd[]; /* fd.* (fields_fd.c) */
extern const size_t vg_fields_fd_count;
extern const struct vg_field vg_fields_container[]; /* container.*, k8s.* (fields_container.c) */
extern const size_t vg_fields_container_count;
extern const struct vg_field vg_fields_fs[]; /* fs.path.* (fields_fs.c) */
extern const size_t vg_fields_fs_count;
extern const struct vg_field vg_fields_audit[]; /* ka.*, jevt.* (fields_audit.c) */
extern const size_t vg_fields_audit_count;

#endif
