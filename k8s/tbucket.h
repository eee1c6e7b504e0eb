/* tbucket.h - a token bucket: at most `rate` per second on average, bursts
 * of up to `burst`.  The one bucket of vigil: the alert dispatcher's
 * per-rule limits and the Kubernetes Events writer's per-object and
 * per-node limits.  It lives in k8s/, the bottom library, so both can use
 * it.  Not thread-safe: one owner. */
#ifndef VIGIL_TBUCKET_H
#define VIGIL_TBUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct vg_tbucket {
	double rate;	  /* tokens per second; <= 0: unlimited */
	double burst;	  /* capacity, >= 1 */
	double tokens;	  /* current fill */
	uint64_t last_ns; /* time of the last refill (monotonic) */
};

/* A full bucket. */
void vg_tbucket_init(struct vg_tbucket *b, double rate, double burst, uint64_t now_ns);

/* Take one token at now_ns: true when allowed. */
bool vg_tbucket_take(struct vg_tbucket *b, uint64_t now_ns);

/* ns until a token is available at now_ns (0 = now). */
uint64_t vg_tbucket_wait(struct vg_tbucket *b, uint64_t now_ns);

/* Is the bucket full at now_ns (nothing to remember about it)? */
bool vg_tbucket_full(struct vg_tbucket *b, uint64_t now_ns);

#endif
