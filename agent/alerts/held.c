/* held.c - see held.h. */
#include "held.h"
#include "sink.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void vg_held_push(struct vg_held *h, const struct vg_alert *a)
{
	if (h->n == h->cap) {
		size_t ncap = h->cap ? h->cap * 2 : 64;
		char **ns = vg_xcalloc(ncap, sizeof(*ns));
		for (size_t i = 0; i < h->n; i++)
			ns[i] = h->ns[(h->head + i) % h->cap];
		free(h->ns);
		h->ns = ns;
		h->head = 0;
		h->cap = ncap;
	}
	const char *t = vg_alert_tenant(a);
	h->ns[(h->head + h->n++) % h->cap] = *t ? vg_xstrdup(t) : NULL;
}

char *vg_held_take(struct vg_held *h)
{
	if (!h->n)
		return NULL;
	char *ns = h->ns[h->head];
	h->ns[h->head] = NULL;
	h->head = (h->head + 1) % h->cap;
	h->n--;
	return ns;
}

void vg_held_sent(struct vg_sink *s, struct vg_held *h, size_t k)
{
	if (k > h->n)
		k = h->n;
	for (size_t i = 0; i < k; i++)
		free(vg_held_take(h));
	vg_sink_settle(s, k, 0, NULL);
}

void vg_held_failed(struct vg_sink *s, struct vg_held *h, size_t k, const char *reason)
{
	if (k > h->n)
		k = h->n;
	/* runs of one namespace in one count: a failure costs a look-up */
	while (k) {
		char *ns = vg_held_take(h);
		size_t run = 1;
		while (run < k && h->n) {
			const char *next = h->ns[h->head];
			if ((ns == NULL) != (next == NULL) || (ns && strcmp(ns, next)))
				break;
			free(vg_held_take(h));
			run++;
		}
		vg_sink_settle_ns(s, 0, run, reason, ns);
		free(ns);
		k -= run;
	}
}

size_t vg_held_count(const struct vg_held *h)
{
	return h->n;
}

void vg_held_free(struct vg_held *h)
{
	while (h->n)
		free(vg_held_take(h));
	free(h->ns);
	memset(h, 0, sizeof(*h));
}
