/* util.h - small helpers every module may use.
 *
 * The allocation, clock and error helpers are the k8s/ library's (agent/ may
 * use k8s/, never the reverse): one implementation, vg_ names for agent code. */
#ifndef VIGIL_UTIL_H
#define VIGIL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "k8s_util.h"

/* Allocation that aborts on out-of-memory: vigil cannot do anything useful
 * without memory, and checking every small allocation hides real errors. */
static inline void *vg_xmalloc(size_t n)
{
	return k8s_xmalloc(n);
}
static inline void *vg_xcalloc(size_t n, size_t size)
{
	return k8s_xcalloc(n, size);
}
static inline void *vg_xrealloc(void *p, size_t n)
{
	return k8s_xrealloc(p, n);
}
static inline char *vg_xstrdup(const char *s)
{
	return k8s_xstrdup(s);
}
static inline char *vg_xstrndup(const char *s, size_t n)
{
	return k8s_xstrndup(s, n);
}

/* Wall clock and monotonic clocks in ns. */
static inline uint64_t vg_now_wall_ns(void)
{
	return k8s_now_wall_ns();
}
static inline uint64_t vg_now_mono_ns(void)
{
	return k8s_now_mono_ns();
}

/* Format a message into err (nothing when err is NULL or errlen 0). */
#define vg_set_err k8s_set_err

/* RFC 3339 UTC with nanoseconds: 2026-11-28T21:52:03.123456789Z (31 bytes). */
void vg_rfc3339(uint64_t wall_ns, char out[40]);

#endif
