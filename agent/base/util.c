/* util.c - see util.h. */
#include "util.h"

#include <stdio.h>
#include <time.h>

void vg_rfc3339(uint64_t wall_ns, char out[40])
{
	time_t sec = (time_t)(wall_ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%09luZ", (unsigned long)(wall_ns % 1000000000ull));
}
