/* tbucket.c - see tbucket.h. */
#include "tbucket.h"

void vg_tbucket_init(struct vg_tbucket *b, double rate, double burst, uint64_t now_ns)
{
	b->rate = rate;
	b->burst = burst < 1 ? 1 : burst;
	b->tokens = b->burst;
	b->last_ns = now_ns;
}

/* Time only moves forward: an earlier now_ns neither adds nor rewinds. */
static void refill(struct vg_tbucket *b, uint64_t now_ns)
{
	if (now_ns <= b->last_ns)
		return;
	b->tokens += (double)(now_ns - b->last_ns) / 1e9 * b->rate;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
	b->last_ns = now_ns;
}

bool vg_tbucket_take(struct vg_tbucket *b, uint64_t now_ns)
{
	if (b->rate <= 0)
		return true;
	refill(b, now_ns);
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

uint64_t vg_tbucket_wait(struct vg_tbucket *b, uint64_t now_ns)
{
	if (b->rate <= 0)
		return 0;
	refill(b, now_ns);
	if (b->tokens >= 1)
		return 0;
	return (uint64_t)((1 - b->tokens) / b->rate * 1e9) + 1;
}

bool vg_tbucket_full(struct vg_tbucket *b, uint64_t now_ns)
{
	if (b->rate <= 0)
		return true;
	refill(b, now_ns);
	return b->tokens >= b->burst;
}
