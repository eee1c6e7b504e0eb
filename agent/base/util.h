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

/* A fast, non-cryptographic hash of n bytes, eight at a time (sets of paths
 * and command lines hash whole strings on the event path).  Whole words are
 * loaded as such; a tail shorter than a word comes from the word that ends
 * the string when there is one before it (no variable-length memcpy, which
 * is a libc call).  Little-endian: the value equals hashing the bytes packed
 * into zero-padded words, which vg_hash_mix/vg_hash_end let a caller do
 * itself (e.g. case-folded). */
static inline uint64_t vg_hash_mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0xff51afd7ed558ccdull;
	return h ^ h >> 29;
}

static inline uint32_t vg_hash_end(uint64_t h)
{
	h *= 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ h >> 32);
}

static inline uint64_t vg_hash_seed(size_t n)
{
	return 0x9e3779b97f4a7c15ull ^ n;
}

static inline uint32_t vg_hash_bytes(const void *data, size_t n)
{
	const char *p = data;
	uint64_t h = vg_hash_seed(n), w;
	if (n < 8) {
		w = 0;
		for (size_t i = 0; i < n; i++)
			w |= (uint64_t)(unsigned char)p[i] << (8 * i);
		return vg_hash_end(n ? vg_hash_mix(h, w) : h);
	}
	for (; n >= 8; p += 8, n -= 8) {
		__builtin_memcpy(&w, p, 8);
		h = vg_hash_mix(h, w);
	}
	if (n) {
		__builtin_memcpy(&w, p + n - 8, 8);
		h = vg_hash_mix(h, w >> (8 * (8 - n)));
	}
	return vg_hash_end(h);
}

#endif
