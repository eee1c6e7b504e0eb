/* log.c - see log.h. */
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The one piece of process-wide state: the verbosity, set once at start. */
static enum vg_log_level log_level = VG_LOG_INFO;

static const char *const names[] = {"error", "warning", "info", "debug"};

void vg_log_set_level(enum vg_log_level lvl)
{
	log_level = lvl;
}

int vg_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!strcasecmp(s, names[i]))
			return i;
	return -1;
}

void vg_log(enum vg_log_level lvl, const char *fmt, ...)
{
	if (lvl > log_level)
		return;
	char t[40];
	vg_rfc3339(vg_now_wall_ns(), t);
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s vigil %s: %s\n", t, names[lvl], msg);
}

int vg_ratelimit_ok(struct vg_ratelimit *rl, uint64_t now_ns)
{
	if (rl->last_ns && now_ns - rl->last_ns < rl->interval_ns) {
		rl->suppressed++;
		return 0;
	}
	rl->last_ns = now_ns;
	return 1;
}

void vg_log_lws(int level, const char *line)
{
	(void)level;
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	vg_log(VG_LOG_DEBUG, "libwebsockets: %.*s", (int)n, line);
}
