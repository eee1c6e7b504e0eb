/* util.h - small helpers every module may use. */
#ifndef VIGIL_UTIL_H
#define VIGIL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocation that aborts on out-of-memory: vigil cannot do anything useful
 * without memory, and checking every small allocation hides real errors. */
void *vg_xmalloc(size_t n);
void *vg_xcalloc(size_t n, size_t size);
void *vg_xrealloc(void *p, size_t n);
char *vg_xstrdup(const char *s);
char *vg_xstrndup(const char *s, size_t n);

/* Wall clock and monotonic clocks in ns. */
uint64_t vg_now_wall_ns(void);
uint64_t vg_now_mono_ns(void);

/* RFC 3339 UTC with nanoseconds: 2026-11-28T21:52:03.123456789Z (31 bytes). */
void vg_rfc3339(uint64_t wall_ns, char out[40]);

#endif
