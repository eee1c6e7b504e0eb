/* log.h - the agent's diagnostics on stderr.
 *
 * Only the top of the program logs (main loop, CLI); modules return errors.
 * vg_log_ratelimit() lets a caller say a repeated condition (drops) at most
 * once per interval while still counting every occurrence. */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stdint.h>

enum vg_log_level { VG_LOG_ERROR = 0, VG_LOG_WARNING, VG_LOG_INFO, VG_LOG_DEBUG };

void vg_log_set_level(enum vg_log_level lvl);
/* "error" | "warning" | "info" | "debug"; returns -1 when unknown */
int vg_log_parse_level(const char *s);
/* One line on stderr, written whole, never waiting more than ~100 ms for
 * room (stderr may be a pipe nobody reads): a line that finds none is
 * dropped and counted, and while stderr stays full the next lines are
 * dropped without waiting. */
void vg_log(enum vg_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Lines vg_log could not write, since the start. */
uint64_t vg_log_dropped(void);

/* The emitter for lws_set_log_level() (httpd, HTTP sink): libwebsockets'
 * lines as debug messages, without their line end. */
void vg_log_lws(int level, const char *line);

/* A rate limiter: allows one message per interval_ns; *suppressed counts
 * the calls it refused since the last allowed one. */
struct vg_ratelimit {
	uint64_t interval_ns;
	uint64_t last_ns;
	uint64_t suppressed;
};
/* Returns 1 when the caller may log now (and resets suppressed after the
 * caller has read it), 0 otherwise. */
int vg_ratelimit_ok(struct vg_ratelimit *rl, uint64_t now_ns);

#endif
