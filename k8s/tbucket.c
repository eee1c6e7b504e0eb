/* tbucket.c - see tbucket.h. */
#include "tbucket.h"

void vg_tbucket_init(struct vg_tbucket *b, double rate, double burst, uint64_t now_ns)
{
	b->rate = rate;
	b->burst = burst < 1 ? 1 : burst;
	b->tokens = b->burst;
	b->last_ns = now_ns;
}

bool vg_tbucket_take(struct vg_tbucket *b, uint64_t now_ns)
{
	if (b->rate <= 0)
		return true;
	if (now_ns > b->last_ns) {
		b->tokens += (double)(now_ns - b->last_ns) * 1e-9 * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last_ns = now_ns;
	}
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}
