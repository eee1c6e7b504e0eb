/* k8s_util.c - see k8s_util.h. */
#include "k8s_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
	fputs("vigil: out of memory\n", stderr);
	abort();
}

void *k8s_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *k8s_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *k8s_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *k8s_xstrdup(const char *s)
{
	return k8s_xstrndup(s, strlen(s));
}

char *k8s_xstrndup(const char *s, size_t n)
{
	char *p = k8s_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t k8s_now_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t k8s_now_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

void k8s_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* --- buffers -------------------------------------------------------------------- */

static void buf_reserve(struct k8s_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->p = k8s_xrealloc(b->p, cap);
	b->cap = cap;
}

void k8s_buf_add(struct k8s_buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void k8s_buf_adds(struct k8s_buf *b, const char *s)
{
	k8s_buf_add(b, s, strlen(s));
}

void k8s_buf_printf(struct k8s_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void k8s_buf_add_query(struct k8s_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			k8s_buf_add(b, s, 1);
		} else {
			char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
			k8s_buf_add(b, e, 3);
		}
	}
}

void k8s_buf_free(struct k8s_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* --- line splitter ---------------------------------------------------------------- */

/* Append n bytes, keeping room for the NUL the line gets. */
static void linebuf_append(struct k8s_linebuf *lb, const char *s, size_t n)
{
	if (lb->len + n + 1 > lb->cap) {
		size_t cap = lb->cap ? lb->cap : 4096;
		while (cap < lb->len + n + 1)
			cap *= 2;
		lb->p = k8s_xrealloc(lb->p, cap);
		lb->cap = cap;
	}
	memcpy(lb->p + lb->len, s, n);
	lb->len += n;
}

int k8s_linebuf_feed(struct k8s_linebuf *lb, const char *data, size_t len,
		     int (*line)(void *ctx, char *line, size_t len), void *ctx)
{
	size_t max = lb->max ? lb->max : (64u << 20);
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;
		if (lb->len + take > max) {
			lb->len = 0;
			return -E2BIG;
		}
		if (!nl) {
			/* keep the partial line for the next chunk */
			linebuf_append(lb, data, take);
			return 0;
		}
		char *l;
		size_t ll;
		char *tmp = NULL;
		if (lb->len) {
			linebuf_append(lb, data, take);
			l = lb->p;
			ll = lb->len;
			lb->len = 0;
		} else {
			/* the whole line is in this chunk: a private NUL-terminated copy */
			tmp = k8s_xstrndup(data, take);
			l = tmp;
			ll = take;
		}
		l[ll] = '\0';
		if (ll && l[ll - 1] == '\r')
			l[--ll] = '\0';
		int rc = 0;
		if (ll)
			rc = line(ctx, l, ll);
		free(tmp);
		if (rc)
			return rc;
		data = nl + 1;
		len -= take + 1;
	}
	return 0;
}

size_t k8s_linebuf_pending(const struct k8s_linebuf *lb)
{
	return lb->len;
}

void k8s_linebuf_reset(struct k8s_linebuf *lb)
{
	lb->len = 0;
}

void k8s_linebuf_free(struct k8s_linebuf *lb)
{
	free(lb->p);
	lb->p = NULL;
	lb->len = lb->cap = 0;
}

/* --- backoff ----------------------------------------------------------------------- */

uint64_t k8s_backoff_next(struct k8s_backoff *b, uint64_t now_ns, double rnd)
{
	uint64_t base = b->base_ns ? b->base_ns : 800000000ull;
	uint64_t cap = b->cap_ns ? b->cap_ns : 30000000000ull;
	uint64_t reset = b->reset_ns ? b->reset_ns : 120000000000ull;
	if (b->healthy_since && now_ns - b->healthy_since >= reset)
		b->cur_ns = 0;
	b->healthy_since = 0;
	uint64_t d = b->cur_ns ? b->cur_ns : base;
	if (d > cap)
		d = cap;
	b->cur_ns = d * 2 > cap ? cap : d * 2;
	if (rnd < 0)
		rnd = 0;
	if (rnd >= 1)
		rnd = 0.999999;
	return d + (uint64_t)((double)d * rnd);
}

void k8s_backoff_ok(struct k8s_backoff *b, uint64_t now_ns)
{
	if (!b->healthy_since)
		b->healthy_since = now_ns ? now_ns : 1;
}

double k8s_random01(void)
{
	static _Thread_local unsigned short seed[3];
	static _Thread_local int seeded;
	if (!seeded) {
		uint64_t t =
			k8s_now_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(size_t)&seeded;
		seed[0] = (unsigned short)t;
		seed[1] = (unsigned short)(t >> 16);
		seed[2] = (unsigned short)(t >> 32);
		seeded = 1;
	}
	return erand48(seed);
}

double k8s_parse_retry_after(const char *v, uint64_t now_wall_ns)
{
	if (!v)
		return -1;
	while (*v == ' ')
		v++;
	if (!*v)
		return -1;
	if (*v >= '0' && *v <= '9') {
		char *e;
		errno = 0;
		unsigned long s = strtoul(v, &e, 10);
		while (*e == ' ')
			e++;
		if (*e || errno)
			return -1;
		return (double)s;
	}
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *e = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!e || *e)
		return -1;
	time_t t = timegm(&tm);
	double d = (double)t - (double)(now_wall_ns / 1000000000ull);
	return d < 0 ? 0 : d;
}

/* --- map ---------------------------------------------------------------------------- */

uint64_t k8s_hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* NULL on an empty map unless create: a look-up never writes, so readers
 * may share a map under a lock the only writer skips when reading. */
static struct k8s_map_ent **map_slot(struct k8s_map *m, const char *key, bool create)
{
	if (!m->nb) {
		if (!create)
			return NULL;
		m->nb = 64;
		m->b = k8s_xcalloc(m->nb, sizeof(*m->b));
	}
	struct k8s_map_ent **pp = &m->b[k8s_hash_str(key) & (m->nb - 1)];
	while (*pp && strcmp((*pp)->key, key))
		pp = &(*pp)->next;
	return pp;
}

void *k8s_map_get(struct k8s_map *m, const char *key)
{
	struct k8s_map_ent **pp = map_slot(m, key, false);
	return pp && *pp ? (*pp)->val : NULL;
}

void *k8s_map_put(struct k8s_map *m, const char *key, void *val)
{
	struct k8s_map_ent **pp = map_slot(m, key, true);
	if (*pp) {
		void *old = (*pp)->val;
		(*pp)->val = val;
		return old;
	}
	struct k8s_map_ent *e = k8s_xcalloc(1, sizeof(*e));
	e->key = k8s_xstrdup(key);
	e->val = val;
	*pp = e;
	if (++m->n > m->nb) {
		size_t nb = m->nb * 2;
		struct k8s_map_ent **b = k8s_xcalloc(nb, sizeof(*b));
		for (size_t i = 0; i < m->nb; i++) {
			for (struct k8s_map_ent *x = m->b[i], *next; x; x = next) {
				next = x->next;
				size_t h = k8s_hash_str(x->key) & (nb - 1);
				x->next = b[h];
				b[h] = x;
			}
		}
		free(m->b);
		m->b = b;
		m->nb = nb;
	}
	return NULL;
}

void *k8s_map_del(struct k8s_map *m, const char *key)
{
	struct k8s_map_ent **pp = map_slot(m, key, false);
	if (!pp || !*pp)
		return NULL;
	struct k8s_map_ent *e = *pp;
	*pp = e->next;
	void *v = e->val;
	free(e->key);
	free(e);
	m->n--;
	return v;
}

void k8s_map_each(struct k8s_map *m, void (*fn)(void *ctx, const char *key, void *val), void *ctx)
{
	for (size_t i = 0; i < m->nb; i++)
		for (struct k8s_map_ent *e = m->b[i]; e; e = e->next)
			fn(ctx, e->key, e->val);
}

void k8s_map_free(struct k8s_map *m, void (*fn)(void *val))
{
	for (size_t i = 0; i < m->nb; i++) {
		for (struct k8s_map_ent *e = m->b[i], *next; e; e = next) {
			next = e->next;
			if (fn)
				fn(e->val);
			free(e->key);
			free(e);
		}
	}
	free(m->b);
	memset(m, 0, sizeof(*m));
}
