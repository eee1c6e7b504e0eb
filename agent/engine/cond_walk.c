/* cond_walk.c - walking a compiled condition from outside the compiler
 * (cond.h's vg_cond_node_*: the prefilter's analysis, agent/engine/prefilter.c). */
#include "cond_int.h"

#define NODE(n) ((const struct node *)(n))

static const char *op_text(enum op op)
{
	static const char *const names[] = {
		[OP_EQ] = "=",
		[OP_NE] = "!=",
		[OP_LT] = "<",
		[OP_LE] = "<=",
		[OP_GT] = ">",
		[OP_GE] = ">=",
		[OP_CONTAINS] = "contains",
		[OP_ICONTAINS] = "icontains",
		[OP_BCONTAINS] = "bcontains",
		[OP_STARTSWITH] = "startswith",
		[OP_BSTARTSWITH] = "bstartswith",
		[OP_ENDSWITH] = "endswith",
		[OP_GLOB] = "glob",
		[OP_IGLOB] = "iglob",
		[OP_REGEX] = "regex",
		[OP_IN] = "in",
		[OP_INTERSECTS] = "intersects",
		[OP_PMATCH] = "pmatch",
		[OP_EXISTS] = "exists",
	};
	return (unsigned)op < sizeof(names) / sizeof(names[0]) && names[op] ? names[op] : "?";
}

const struct vg_cond_node *vg_cond_root(const struct vg_cond *c)
{
	return (const struct vg_cond_node *)c->root;
}

enum vg_cnode vg_cond_node_kind(const struct vg_cond_node *cn)
{
	const struct node *n = NODE(cn);
	switch (n->kind) {
	case N_AND:
		return VG_CN_AND;
	case N_OR:
		return VG_CN_OR;
	case N_NOT:
		return VG_CN_NOT;
	case N_CHECK:
		return VG_CN_CHECK;
	case N_CONST:
		break;
	}
	return n->value ? VG_CN_TRUE : VG_CN_FALSE;
}

int vg_cond_node_nkids(const struct vg_cond_node *cn)
{
	const struct node *n = NODE(cn);
	return n->kind == N_AND || n->kind == N_OR ? n->list.n : n->kind == N_NOT ? 1 : 0;
}

const struct vg_cond_node *vg_cond_node_kid(const struct vg_cond_node *cn, int i)
{
	const struct node *n = NODE(cn);
	if (n->kind == N_NOT)
		return (const struct vg_cond_node *)n->kid;
	return (const struct vg_cond_node *)n->list.kids[i];
}

void vg_cond_node_check(const struct vg_cond_node *cn, struct vg_cond_check *out)
{
	const struct node *n = NODE(cn);
	memset(out, 0, sizeof(*out));
	if (n->kind != N_CHECK)
		return;
	out->field = n->chk.lhs.f;
	out->plain = n->chk.lhs.nxf == 0 && n->chk.lhs.arg.kind == 0 && n->chk.quant == Q_DEFAULT &&
		     !n->chk.rhs_field;
	out->arg = n->chk.lhs.arg.kind != 0;
	out->xform = n->chk.lhs.nxf != 0;
	out->quant = n->chk.quant != Q_DEFAULT;
	out->rhs_field = n->chk.rhs_field != 0;
	out->farg = n->chk.lhs.arg;
	if (out->rhs_field) {
		out->rhs = n->chk.rhs.f;
		out->rhs_arg = n->chk.rhs.arg;
	}
	out->op = op_text(n->chk.op);
	out->types = n->chk.types;
	out->ktype = n->chk.k.type;
	out->s = n->chk.k.s;
	out->len = n->chk.k.len;
	out->i = n->chk.k.type == VG_FT_U64 || n->chk.k.type == VG_FT_BOOL ? (int64_t)n->chk.k.u
									   : n->chk.k.i;
	out->nset = n->chk.set.n;
}

const char *vg_cond_check_item(const struct vg_cond_node *cn, uint32_t i, uint32_t *len,
			       int64_t *num)
{
	const struct node *n = NODE(cn);
	const struct konst *k = &n->chk.set.k[i];
	*len = k->len;
	*num = k->type == VG_FT_U64 ? (int64_t)k->u : k->i;
	return k->s;
}
