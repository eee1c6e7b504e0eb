/* cond_group.c - building a group: the comparisons each member needs, and
 * the ones its program makes first (see cond.h; walking the members on an
 * event is in cond_eval.c, next to the program it runs). */
#include "cond_int.h"

#include <stdlib.h>

/* ---- groups: the conditions an event can still satisfy ------------------- */

/* Most rules of an event type begin with the same few comparisons (their
 * macros: open_write, open_read, spawned_process, container...), and most
 * events fail them: evaluating each rule only to fail on a shared result
 * costs a program start per rule.  A group finds, at build time, the
 * comparisons each member needs to have a given result to be true
 * ("literals"), and at run time makes each such comparison once, dropping
 * every member it rules out.  A literal is only ever a necessary
 * condition, so the members left are a superset of those that match. */

#define LITS_MAX 32

struct lits { /* code: memo id << 1 | the result the condition needs */
	int n;
	int never; /* the node cannot take the value at all on this type */
	int v[LITS_MAX];
};

static int lits_has(const struct lits *a, int code)
{
	for (int i = 0; i < a->n; i++)
		if (a->v[i] == code)
			return 1;
	return 0;
}

/* a subset of necessary literals is still necessary: dropping past the cap is safe */
static void lits_add(struct lits *a, int code)
{
	if (a->n < LITS_MAX && !lits_has(a, code))
		a->v[a->n++] = code;
}

/* Into out, literals that hold whenever n evaluates to val on an event of
 * type t (evt.type checks are known there: constants). */
static void necessary(const struct vg_cond *c, const struct node *n, int val, int t,
		      struct lits *out)
{
	out->n = 0;
	out->never = 0;
	switch (n->kind) {
	case N_CONST:
		out->never = n->value != val;
		return;
	case N_NOT:
		necessary(c, n->kid, !val, t, out);
		return;
	case N_CHECK: {
		if (n->chk.types) {
			int in = (n->chk.types[t] != 0) ^ (n->chk.op == OP_NE);
			out->never = in != val;
			return;
		}
		/* every comparison that is not on evt.type has its instruction */
		if (n->chk.memo >= 0)
			out->v[out->n++] = n->chk.memo << 1 | val;
		return;
	}
	case N_AND:
	case N_OR: {
		struct lits k;
		/* and = true, or = false: every kid takes the value, each one's
		 * literals hold; otherwise only those common to the kids that
		 * can take it */
		if ((n->kind == N_AND) == (val != 0)) {
			for (int i = 0; i < n->list.n; i++) {
				necessary(c, n->list.kids[i], val, t, &k);
				if (k.never) {
					out->n = 0;
					out->never = 1;
					return;
				}
				for (int j = 0; j < k.n; j++)
					lits_add(out, k.v[j]);
			}
			return;
		}
		int some = 0;
		for (int i = 0; i < n->list.n; i++) {
			necessary(c, n->list.kids[i], val, t, &k);
			if (k.never)
				continue;
			if (!some) {
				*out = k;
				some = 1;
				continue;
			}
			int m = 0;
			for (int j = 0; j < out->n; j++)
				if (lits_has(&k, out->v[j]))
					out->v[m++] = out->v[j];
			out->n = m;
		}
		out->never = !some;
		return;
	}
	}
}

static int key_of(struct gkey **k, int *nk, int *capk, const struct ins *in)
{
	for (int x = 0; x < *nk; x++)
		if ((*k)[x].in->memo == in->memo)
			return x;
	if (*nk == *capk)
		*k = vg_xrealloc(*k, (size_t)(*capk = *capk * 2 + 16) * sizeof(**k));
	(*k)[*nk] = (struct gkey){in, {0, 0}};
	return (*nk)++;
}

struct vg_cond_group *vg_cond_group_new(const struct vg_cond *const *c, size_t n, int type)
{
	if (n > 64 || type < 0 || type >= VG_T_MAX)
		return NULL;
	struct vg_cond_group *g = vg_xcalloc(1, sizeof(*g));
	struct lits *L = vg_xcalloc(n ? n : 1, sizeof(*L));
	int nk = 0, capk = 0, nchain = 0;
	for (size_t i = 0; i < n; i++) {
		g->c[i] = c[i];
		necessary(c[i], c[i]->root, 1, type, &L[i]);
		for (int j = 0; j < L[i].n && !L[i].never; j++)
			if (lits_has(&L[i], L[i].v[j] ^ 1))
				L[i].never = 1; /* needs one comparison both true and false */
		g->chain_start[i] = (uint16_t)nchain;
		g->end_pc[i] = PC_FALSE;
		if (L[i].never)
			continue;
		g->init |= 1ull << i;
		int pc = c[i]->entry, len = 0;
		while (pc >= 0 && len < CHAIN_MAX) {
			const struct ins *in = &c[i]->prog[pc];
			if (in->types) { /* known for this type */
				pc = ((in->types[type] != 0) ^ in->neg) ? in->t : in->f;
				continue;
			}
			int need;
			if (in->memo >= 0 && lits_has(&L[i], in->memo << 1 | 1))
				need = 1;
			else if (in->memo >= 0 && lits_has(&L[i], in->memo << 1))
				need = 0;
			else
				break;
			g->chain[nchain++] =
				(uint16_t)(key_of(&g->keys, &nk, &capk, in) << 1 | need);
			len++;
			pc = need ? in->t : in->f;
		}
		g->end_pc[i] = pc;
	}
	for (size_t i = n; i < 64; i++)
		g->chain_start[i + 1] = (uint16_t)nchain;
	g->chain_start[n] = (uint16_t)nchain;
	/* a chained comparison rules out every member that needs it, chained
	 * or not */
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < L[i].n && !L[i].never; j++)
			for (int x = 0; x < nk; x++)
				if (g->keys[x].in->memo == L[i].v[j] >> 1)
					g->keys[x].kill[!(L[i].v[j] & 1)] |= 1ull << i;
	g->nkeys = nk;
	free(L);
	return g;
}

void vg_cond_group_free(struct vg_cond_group *g)
{
	if (g)
		free(g->keys);
	free(g);
}

uint64_t vg_cond_group_members(const struct vg_cond_group *g)
{
	return g->init;
}

int vg_cond_group_keys(const struct vg_cond_group *g)
{
	return g->nkeys;
}
