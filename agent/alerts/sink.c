/* sink.c - the helpers sink.h declares for every sink. */
#include "sink.h"
#include "util.h"

#include <time.h>

#define STEP_NS 20000000ull /* how often a sleeping sink looks at give_up */

void vg_sink_sleep_until(const struct vg_sink *s, uint64_t until_ns)
{
	while (!vg_sink_giving_up(s)) {
		uint64_t now = vg_now_mono_ns();
		if (now >= until_ns)
			return;
		uint64_t left = until_ns - now > STEP_NS ? STEP_NS : until_ns - now;
		struct timespec ts = {0, (long)left};
		nanosleep(&ts, NULL);
	}
}
