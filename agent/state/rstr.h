/* rstr.h - reference-counted immutable strings (internal to the state module).
 *
 * A fork copies every string of the parent and every fd name; sharing them
 * by reference keeps a fork O(fds) without copying text, and keeps the
 * memory of fork-heavy servers (workers that never exec) flat.
 */
#ifndef VIGIL_RSTR_H
#define VIGIL_RSTR_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct vg_rstr {
	uint32_t refs;
	uint32_t len; /* bytes of s, without the final NUL */
	char s[];
};

/* Copy len bytes of p (which may hold NULs) and add a NUL; NULL on ENOMEM. */
static inline struct vg_rstr *vg_rstr_new(const char *p, size_t len)
{
	struct vg_rstr *r = malloc(sizeof(*r) + len + 1);
	if (!r)
		return NULL;
	r->refs = 1;
	r->len = (uint32_t)len;
	if (len)
		memcpy(r->s, p, len);
	r->s[len] = '\0';
	return r;
}

static inline struct vg_rstr *vg_rstr_ref(struct vg_rstr *r)
{
	if (r)
		r->refs++;
	return r;
}

static inline void vg_rstr_put(struct vg_rstr *r)
{
	if (r && --r->refs == 0)
		free(r);
}

/* Replace *slot with r (a reference the caller gives away). */
static inline void vg_rstr_set(struct vg_rstr **slot, struct vg_rstr *r)
{
	vg_rstr_put(*slot);
	*slot = r;
}

static inline const char *vg_rstr_s(const struct vg_rstr *r)
{
	return r ? r->s : NULL;
}

#endif
