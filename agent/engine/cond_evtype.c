/* cond_evtype.c - what a compiled condition can match (its event types)
 * and what it reads (its fields); see cond.h. */
#include "cond_int.h"

/* ---- event types -------------------------------------------------------- */

/* Fill types with what n can match; returns 1 when the set is exact (n is
 * true for exactly those types), 0 when it is an over-approximation. */
int cond_evttypes(const struct node *n, uint8_t *types)
{
	switch (n->kind) {
	case N_CHECK:
		if (n->chk.types) {
			for (int t = 0; t < VG_T_MAX; t++)
				types[t] = n->chk.op == OP_NE ? !n->chk.types[t] : n->chk.types[t];
			return 1;
		}
		memset(types, 1, VG_T_MAX);
		return 0;
	case N_CONST:
		memset(types, n->value, VG_T_MAX);
		return 1;
	case N_NOT: {
		int exact = cond_evttypes(n->kid, types);
		if (!exact) {
			memset(types, 1, VG_T_MAX);
			return 0;
		}
		for (int t = 0; t < VG_T_MAX; t++)
			types[t] = !types[t];
		return 1;
	}
	case N_AND:
	case N_OR: {
		uint8_t tmp[VG_T_MAX];
		int exact = cond_evttypes(n->list.kids[0], types);
		for (int i = 1; i < n->list.n; i++) {
			exact &= cond_evttypes(n->list.kids[i], tmp);
			for (int t = 0; t < VG_T_MAX; t++)
				types[t] = n->kind == N_AND ? (types[t] && tmp[t])
							    : (types[t] || tmp[t]);
		}
		return exact;
	}
	}
	memset(types, 1, VG_T_MAX);
	return 0;
}

void vg_cond_evttypes(const struct vg_cond *c, uint8_t types[VG_T_MAX])
{
	cond_evttypes(c->root, types);
}

static void fields_of(const struct node *n, void (*fn)(void *, const struct vg_field *), void *ctx)
{
	switch (n->kind) {
	case N_AND:
	case N_OR:
		for (int i = 0; i < n->list.n; i++)
			fields_of(n->list.kids[i], fn, ctx);
		break;
	case N_NOT:
		fields_of(n->kid, fn, ctx);
		break;
	case N_CHECK:
		fn(ctx, n->chk.lhs.f);
		if (n->chk.rhs_field)
			fn(ctx, n->chk.rhs.f);
		break;
	case N_CONST:
		break;
	}
}

void vg_cond_fields(const struct vg_cond *c, void (*fn)(void *ctx, const struct vg_field *f),
		    void *ctx)
{
	fields_of(c->root, fn, ctx);
}
