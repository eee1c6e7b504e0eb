/* k8s_util.h - small pure helpers shared by the k8s/ modules (and tested on
 * their own): allocation, clocks, query escaping, the watch line splitter
 * and the retry backoff. */
#ifndef VIGIL_K8S_UTIL_H
#define VIGIL_K8S_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation that aborts on out-of-memory (as vigil's own). */
void *k8s_xmalloc(size_t n);
void *k8s_xcalloc(size_t n, size_t size);
void *k8s_xrealloc(void *p, size_t n);
char *k8s_xstrdup(const char *s);
char *k8s_xstrndup(const char *s, size_t n);

uint64_t k8s_now_mono_ns(void);
uint64_t k8s_now_wall_ns(void);

void k8s_set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A growable string. */
struct k8s_buf {
	char *p;
	size_t len, cap;
};
void k8s_buf_add(struct k8s_buf *b, const char *s, size_t n);
void k8s_buf_adds(struct k8s_buf *b, const char *s);
void k8s_buf_printf(struct k8s_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s percent-encoded for a URL query value (RFC 3986 unreserved kept). */
void k8s_buf_add_query(struct k8s_buf *b, const char *s);
void k8s_buf_free(struct k8s_buf *b);

/* Splits a byte stream into '\n'-terminated lines whatever the chunking.
 * A line longer than max is an error (the stream must be dropped). */
struct k8s_linebuf {
	char *p;
	size_t len, cap, max;
};
/* Feed a chunk; line() gets each complete line without its '\n' (and
 * without a trailing '\r'), NUL-terminated; empty lines are skipped.  A
 * non-zero return from line() stops and is returned.  Returns -E2BIG when a
 * line exceeds max (0 = 64 MiB). */
int k8s_linebuf_feed(struct k8s_linebuf *lb, const char *data, size_t len,
		     int (*line)(void *ctx, char *line, size_t len), void *ctx);
/* Bytes held of an unfinished line. */
size_t k8s_linebuf_pending(const struct k8s_linebuf *lb);
void k8s_linebuf_reset(struct k8s_linebuf *lb);
void k8s_linebuf_free(struct k8s_linebuf *lb);

/* Exponential backoff: base doubling to cap, each delay jittered to
 * [d, 2d) (capped at 2*cap), and reset to base once the caller has been
 * healthy for reset_after.  Defaults (zeros): 0.8 s, 30 s, 2 min. */
struct k8s_backoff {
	uint64_t base_ns, cap_ns, reset_ns;
	uint64_t cur_ns;	/* the next un-jittered delay; 0 = base */
	uint64_t healthy_since; /* 0 = not healthy */
};
/* The delay before the next attempt after a failure at now; rnd in [0,1)
 * (the caller's random source, fixed in tests). */
uint64_t k8s_backoff_next(struct k8s_backoff *b, uint64_t now_ns, double rnd);
/* Note a success at now (e.g. a watch that started streaming): after
 * reset_after of health the next failure starts from base again. */
void k8s_backoff_ok(struct k8s_backoff *b, uint64_t now_ns);
/* A random double in [0,1) from a thread-local generator seeded once. */
double k8s_random01(void);

/* Retry-After header value in seconds: delta-seconds or an HTTP-date;
 * -1 when absent or invalid. */
double k8s_parse_retry_after(const char *v, uint64_t now_wall_ns);

/* FNV-1a of a NUL-terminated string (the map's hash; fine for any table). */
uint64_t k8s_hash_str(const char *s);

/* A string-keyed hash map of pointers (single writer; look-ups never
 * change the map, so readers may share it under the writer's lock). */
struct k8s_map_ent {
	char *key;
	void *val;
	struct k8s_map_ent *next;
};
struct k8s_map {
	struct k8s_map_ent **b;
	size_t nb, n;
};
void *k8s_map_get(struct k8s_map *m, const char *key);
/* Set; returns the previous value (NULL when new). */
void *k8s_map_put(struct k8s_map *m, const char *key, void *val);
/* Remove; returns the value (NULL when absent). */
void *k8s_map_del(struct k8s_map *m, const char *key);
/* Call fn for every entry; fn may not change the map. */
void k8s_map_each(struct k8s_map *m, void (*fn)(void *ctx, const char *key, void *val), void *ctx);
/* Free the map (values through fn when given). */
void k8s_map_free(struct k8s_map *m, void (*fn)(void *val));

#endif
