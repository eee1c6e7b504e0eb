/* state_strings.c - the intern table of the state's strings (see state.c's
 * header comment for why exec strings are interned). */
#include <stdlib.h>
#include <string.h>

#include "state_int.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* interned strings                                                    */

#define ITAB_MIN_SWEEP 64

static size_t itab_find(const struct itab *t, const char *p, size_t len)
{
	size_t m = t->cap - 1, i = (size_t)vg_hash_bytes(p, len) & m;
	for (; t->slot[i]; i = (i + 1) & m) {
		const struct vg_rstr *r = t->slot[i];
		if (r->len == len && memcmp(r->s, p, len) == 0)
			break;
	}
	return i;
}

/* Rebuild with cap slots, dropping the strings only the table holds. */
static int itab_rebuild(struct itab *t, size_t cap)
{
	struct vg_rstr **slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -1;
	struct itab nt = {.slot = slot, .cap = cap};
	for (size_t i = 0; i < t->cap; i++) {
		struct vg_rstr *r = t->slot[i];
		if (!r)
			continue;
		if (r->refs == 1) {
			vg_rstr_put(r);
			continue;
		}
		nt.slot[itab_find(&nt, r->s, r->len)] = r;
		nt.n++;
	}
	free(t->slot);
	nt.sweep_at = 2 * nt.n > ITAB_MIN_SWEEP ? 2 * nt.n : ITAB_MIN_SWEEP;
	*t = nt;
	return 0;
}

/* A reference to the interned copy of p (len bytes), made when new; NULL on
 * ENOMEM. */
struct vg_rstr *vg_st_intern(struct vg_state *st, const char *p, size_t len)
{
	struct itab *t = &st->itab;
	if (t->n + 1 >= t->sweep_at || t->cap == 0) {
		/* sweep, then keep the load at most 1/2 up to the next sweep */
		if (t->cap)
			itab_rebuild(t, t->cap);
		size_t cap = t->cap ? t->cap : 2 * ITAB_MIN_SWEEP;
		while (cap < 2 * t->sweep_at)
			cap *= 2;
		if (cap != t->cap && itab_rebuild(t, cap))
			return vg_rstr_new(p, len);
	}
	size_t i = itab_find(t, p, len);
	if (t->slot[i])
		return vg_rstr_ref(t->slot[i]);
	struct vg_rstr *r = vg_rstr_new(p, len);
	if (!r)
		return NULL;
	t->slot[i] = vg_rstr_ref(r);
	t->n++;
	return r;
}

/* Drop a reference to r; when the table then holds the last one, drop that
 * too (found by content, so r may also be a string never interned). */
void vg_st_intern_put(struct vg_state *st, struct vg_rstr *r)
{
	struct itab *t = &st->itab;
	if (r && r->refs == 2 && t->cap) {
		size_t m = t->cap - 1, i = itab_find(t, r->s, r->len);
		if (t->slot[i] == r) {
			/* backward-shift deletion keeps every probe chain whole */
			t->slot[i] = NULL;
			t->n--;
			vg_rstr_put(r);
			for (size_t j = (i + 1) & m; t->slot[j]; j = (j + 1) & m) {
				struct vg_rstr *x = t->slot[j];
				size_t home = (size_t)vg_hash_bytes(x->s, x->len) & m;
				/* x may move to the hole i unless its home lies in (i, j] */
				if (((j - home) & m) >= ((j - i) & m)) {
					t->slot[i] = x;
					t->slot[j] = NULL;
					i = j;
				}
			}
		}
	}
	vg_rstr_put(r);
}

void vg_st_itab_free(struct itab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		vg_rstr_put(t->slot[i]);
	free(t->slot);
}
