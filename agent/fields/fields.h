/* fields.h - the filter fields rules and outputs can read (proc.name, fd.name, ...).
 *
 * A field is looked up once, when a condition or an output is compiled, and
 * extracted per event through its function pointer.  Extraction never
 * allocates: values point into the event, the process table, or the scratch
 * buffer of the struct vg_fvals the caller provides.
 *
 * A field with no value for an event (n == 0) is "unset": every comparison
 * on it is false, as in Falco.  A field may return several values (proc.aname
 * without an index, fd.types, evt.args lists); operators apply to any of them.
 */
#ifndef VIGIL_FIELDS_H
#define VIGIL_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum vg_ftype {
	VG_FT_STR = 1, /* charbuf / fsapth */
	VG_FT_U64,     /* uint, port, mode, flags as numbers */
	VG_FT_S64,     /* int, errno, fd */
	VG_FT_BOOL,
	VG_FT_IP,      /* ipaddr */
	VG_FT_NET,     /* ipnet */
	VG_FT_ABSTIME, /* ns since the epoch */
	VG_FT_RELTIME, /* ns */
};

/* field flags */
#define VG_FF_ARG_INDEX 0x01 /* accepts [n] */
#define VG_FF_ARG_KEY 0x02   /* accepts [key] (or .key for evt.arg.*, k8s.*.label.*) */
#define VG_FF_ARG_REQ 0x04   /* the argument is mandatory */
#define VG_FF_LIST 0x08	     /* may yield several values */
#define VG_FF_SETCMP                                                                               \
	0x20 /* a list as Falco's plugins have them: `in` holds when every value is in the set,    \
	      * `intersects` when one is */
#define VG_FF_FLAGS                                                                                \
	0x10 /* a flags word whose names also compare as strings (evt.arg.flags contains O_CREAT)  \
	      */

struct vg_fval {
	union {
		struct {
			const char *p;
			uint32_t len;
		} s;
		uint64_t u;
		int64_t i;
		struct {
			uint8_t family; /* 4 or 6 */
			uint8_t prefix; /* VG_FT_NET: prefix length */
			uint8_t b[16];
		} ip;
	};
};

#define VG_FVALS_MAX 32
#define VG_FVALS_BUF 8192

/* What an extraction writes first shares a cache line with v[0]: a
 * condition's field cache holds one of these per field. */
struct vg_fvals {
	uint32_t n;   /* number of values; 0 = unset */
	uint8_t type; /* enum vg_ftype of v[] */
	size_t used;  /* bytes of buf in use */
	struct vg_fval v[VG_FVALS_MAX];
	char buf[VG_FVALS_BUF];
};

struct vg_farg {
	int kind; /* 0 none, 1 index, 2 key */
	int64_t index;
	const char *key; /* NUL-terminated; owned by whoever compiled the field */
};

typedef void (*vg_field_fn)(const struct vg_event *ev, const struct vg_farg *arg,
			    struct vg_fvals *out);

struct vg_field {
	const char *name;
	uint8_t type; /* enum vg_ftype */
	uint16_t flags;
	vg_field_fn fn;
	const char *desc;
};

/* Look up a field by name (len bytes, no "[arg]").  Dotted keys are split:
 * "evt.arg.flags" returns evt.arg with arg->kind = 2 and arg->key pointing
 * into name (not NUL-terminated: keylen bytes).  NULL when unknown. */
const struct vg_field *vg_field_find(const char *name, size_t len, struct vg_farg *arg,
				     size_t *keylen);

/* The event sources a field reads (a mask): syscall fields read the
 * process and the syscall, k8s_audit fields (ka.*, jevt.*) the audit event
 * (kaudit.h); the time and host fields of evt.* read either.  A rule may
 * use only the fields of its source. */
#define VG_FSRC_SYSCALL 0x1u
#define VG_FSRC_K8S_AUDIT 0x2u
unsigned vg_field_sources(const struct vg_field *f);
/* The source named (syscall, k8s_audit); 0 for any other name. */
unsigned vg_fsrc_by_name(const char *source);

/* Every field, for `vigil fields`. */
size_t vg_field_count(void);
const struct vg_field *vg_field_at(size_t i);

/* Extract: out->n = 0 first, then the field's function. */
static inline void vg_field_extract(const struct vg_field *f, const struct vg_event *ev,
				    const struct vg_farg *arg, struct vg_fvals *out)
{
	out->n = 0;
	out->used = 0;
	out->type = f->type;
	f->fn(ev, arg, out);
}

/* Render value i of vals as text (ports and numbers in decimal, IPs dotted
 * or RFC 5952).  Returns the length written (truncated to cap-1, NUL ended). */
size_t vg_fval_format(const struct vg_fvals *vals, uint32_t i, char *out, size_t cap);

/* Helpers for extractors: append a value.  A string is copied into the
 * scratch buffer only with vg_fvals_strcpy; vg_fvals_str references p. */
void vg_fvals_str(struct vg_fvals *out, const char *p, size_t len);
void vg_fvals_strcpy(struct vg_fvals *out, const char *p, size_t len);
void vg_fvals_u64(struct vg_fvals *out, uint64_t u);
void vg_fvals_s64(struct vg_fvals *out, int64_t i);

const char *vg_ftype_name(int type);

#endif
