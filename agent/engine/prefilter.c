/* prefilter.c - the kernel-side prefilter computed from the rules (see
 * engine.h and bpf/prefilter.h).
 *
 * For each syscall type t and each enabled rule that can match t, the
 * rule's condition is abstracted into a disjunction of clauses over what
 * the kernel sees cheaply (bpf/prefilter.h): the return value's sign, the
 * open access mode and flags, a prefix of the path.  A comparison the
 * abstraction knows maps to the clause it implies; any other comparison
 * maps to "anything" (TOP): the result over-approximates the events the
 * condition can be true on.  `and` meets clauses, `or` unites them, `not`
 * is pushed down to the comparisons (negated comparisons the abstraction
 * does not know are TOP as well).  Too many clauses are joined into fewer,
 * wider ones.  The union over the rules of t is t's predicate.
 *
 * What the state needs is sent whatever the rules say (the registry's
 * VG_SR_STATE rows), with one exception: the open family and close only
 * feed the fd table, and when no rule reads an fd table entry on a later
 * event (fd.* and parameters of a call that works on an fd it did not
 * create, in the condition or the output), their only readers are the
 * rules of those calls themselves.  fchdir falls back to the fd table only
 * when the kernel could not read the new cwd (it sends it with every
 * successful fchdir).
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "pfeval.h"
#include "sysreg.h"
#include "util.h"

/* An abstract value: top (anything), or the union of n clauses (none:
 * false). */
#define DNF_MAX 16
struct dnf {
	bool top;
	int n;
	struct vg_pf_clause c[DNF_MAX];
};

static const struct vg_pf_clause any_clause = {VG_PF_RET_ANY, VG_PF_ACC_ANY, 0, 0, 0, {0}};

static void set_top(struct dnf *d)
{
	d->top = true;
	d->n = 0;
}

static void set_false(struct dnf *d)
{
	d->top = false;
	d->n = 0;
}

static void set_one(struct dnf *d, const struct vg_pf_clause *c)
{
	d->top = false;
	d->n = 1;
	d->c[0] = *c;
}

/* a := the smallest clause holding wherever a or b holds */
static void join(struct vg_pf_clause *a, const struct vg_pf_clause *b)
{
	a->ret |= b->ret;
	a->acc |= b->acc;
	a->flags_all &= b->flags_all;
	a->nonsimple = a->nonsimple && b->nonsimple;
	uint8_t n = 0;
	while (n < a->plen && n < b->plen && a->prefix[n] == b->prefix[n])
		n++;
	a->plen = n;
	memset(a->prefix + n, 0, VG_PF_PREFIX - n);
}

/* a := a and b; false when no event can satisfy both */
static bool meet(struct vg_pf_clause *a, const struct vg_pf_clause *b)
{
	a->ret &= b->ret;
	a->acc &= b->acc;
	a->flags_all |= b->flags_all;
	a->nonsimple = a->nonsimple || b->nonsimple;
	if (b->plen) {
		uint8_t m = a->plen < b->plen ? a->plen : b->plen;
		if (memcmp(a->prefix, b->prefix, m))
			return false; /* fd.name cannot start with both */
		if (b->plen > a->plen) {
			memcpy(a->prefix, b->prefix, VG_PF_PREFIX);
			a->plen = b->plen;
		}
	}
	return a->ret && a->acc;
}

/* Length of the common prefix of two clauses' prefixes. */
static int common(const struct vg_pf_clause *a, const struct vg_pf_clause *b)
{
	int n = 0;
	while (n < a->plen && n < b->plen && a->prefix[n] == b->prefix[n])
		n++;
	return n;
}

/* Bring d down to at most max clauses, joining the pairs that lose least
 * (the longest common prefix). */
static void shrink(struct dnf *d, int max)
{
	while (d->n > max) {
		int bi = 0, bj = 1, best = -1;
		for (int i = 0; i < d->n; i++)
			for (int j = i + 1; j < d->n; j++) {
				int c = common(&d->c[i], &d->c[j]) * 4 +
					(d->c[i].ret == d->c[j].ret) + (d->c[i].acc == d->c[j].acc);
				if (c > best) {
					best = c;
					bi = i;
					bj = j;
				}
			}
		join(&d->c[bi], &d->c[bj]);
		d->c[bj] = d->c[--d->n];
	}
}

static void add(struct dnf *d, const struct vg_pf_clause *c)
{
	if (d->top)
		return;
	if (d->n == DNF_MAX)
		shrink(d, DNF_MAX - 1);
	d->c[d->n++] = *c;
}

static void dnf_or(struct dnf *a, const struct dnf *b)
{
	if (a->top)
		return;
	if (b->top) {
		set_top(a);
		return;
	}
	for (int i = 0; i < b->n; i++)
		add(a, &b->c[i]);
}

static void dnf_and(struct dnf *a, const struct dnf *b)
{
	if (b->top)
		return;
	if (a->top) {
		*a = *b;
		return;
	}
	struct dnf r = {false, 0, {{0}}};
	for (int i = 0; i < a->n; i++)
		for (int j = 0; j < b->n; j++) {
			struct vg_pf_clause c = a->c[i];
			if (meet(&c, &b->c[j]))
				add(&r, &c);
		}
	*a = r;
}

/* ---- comparisons -------------------------------------------------------- */

struct ctx {
	int type;	/* the event type analysed */
	bool open;	/* an open-family call: fd.* is the opened path */
	bool has_flags; /* its open flags are known to the kernel */
};

/* The return classes in which `ret op k` can hold. */
static uint8_t ret_classes(const char *op, int64_t k)
{
	if (!strcmp(op, "="))
		return k < 0 ? VG_PF_RET_FAIL : VG_PF_RET_OK;
	if (!strcmp(op, ">="))
		return VG_PF_RET_OK | (k <= -1 ? VG_PF_RET_FAIL : 0);
	if (!strcmp(op, ">"))
		return VG_PF_RET_OK | (k < -1 ? VG_PF_RET_FAIL : 0);
	if (!strcmp(op, "<"))
		return VG_PF_RET_FAIL | (k > 0 ? VG_PF_RET_OK : 0);
	if (!strcmp(op, "<="))
		return VG_PF_RET_FAIL | (k >= 0 ? VG_PF_RET_OK : 0);
	return VG_PF_RET_ANY;
}

/* The negation of a comparison operator on numbers (NULL: none). */
static const char *neg_op(const char *op)
{
	static const char *const pairs[][2] = {{"=", "!="}, {"!=", "="}, {"<", ">="},
					       {">=", "<"}, {">", "<="}, {"<=", ">"}};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (!strcmp(op, pairs[i][0]))
			return pairs[i][1];
	return NULL;
}

static void prefix_clause(struct vg_pf_clause *c, const char *s, uint32_t len)
{
	*c = any_clause;
	if (len > VG_PF_PREFIX)
		len = VG_PF_PREFIX;
	memcpy(c->prefix, s, len);
	c->plen = (uint8_t)len;
}

/* The literal head of a glob pattern (up to its first wildcard). */
static uint32_t glob_head(const char *s, uint32_t len)
{
	uint32_t n = 0;
	while (n < len && s[n] != '*' && s[n] != '?' && s[n] != '[' && s[n] != '\\')
		n++;
	return n;
}

static bool has_dot_or_slashes(const char *s, uint32_t len)
{
	for (uint32_t i = 0; i + 1 < len; i++)
		if (s[i] == '/' && (s[i + 1] == '/' || s[i + 1] == '.'))
			return true;
	return false;
}

/* A comparison (negated when neg) as an abstract value. */
static void check(const struct ctx *x, const struct vg_cond_node *n, bool neg, struct dnf *out)
{
	struct vg_cond_check k;
	vg_cond_node_check(n, &k);
	set_top(out);
	if (k.types) { /* evt.type = / != / in */
		bool in = k.types[x->type] != 0;
		if (!strcmp(k.op, "!="))
			in = !in;
		if (neg)
			in = !in;
		if (!in)
			set_false(out);
		return;
	}
	if (!k.field || !k.plain)
		return;
	const char *f = k.field->name;
	struct vg_pf_clause c = any_clause;

	if (!strcmp(f, "evt.rawres") && !strcmp(k.op, "in") && !neg) {
		c.ret = 0;
		for (uint32_t i = 0; i < k.nset; i++) {
			uint32_t len;
			int64_t v;
			vg_cond_check_item(n, i, &len, &v);
			c.ret |= ret_classes("=", v);
		}
		set_one(out, &c);
		return;
	}
	if (!strcmp(f, "evt.rawres") && k.ktype == VG_FT_S64) {
		const char *op = neg ? neg_op(k.op) : k.op;
		if (!op)
			return;
		c.ret = ret_classes(op, k.i);
		set_one(out, &c);
		return;
	}
	bool isbool = k.ktype == VG_FT_BOOL && (!strcmp(k.op, "=") || !strcmp(k.op, "!="));
	bool want = isbool && ((k.i != 0) != (!strcmp(k.op, "!=") != neg));
	if (isbool && !strcmp(f, "evt.failed")) {
		/* no value (a call without a result) makes `=` false and `!=` true */
		if (strcmp(k.op, "=") != 0 || neg)
			return;
		c.ret = want ? VG_PF_RET_FAIL : VG_PF_RET_OK;
		set_one(out, &c);
		return;
	}
	if (isbool && x->open && x->has_flags &&
	    (!strcmp(f, "evt.is_open_read") || !strcmp(f, "evt.is_open_write"))) {
		/* open-family calls always have the value */
		uint8_t rd = VG_PF_ACC_RDONLY | VG_PF_ACC_RDWR,
			wr = VG_PF_ACC_WRONLY | VG_PF_ACC_RDWR;
		uint8_t yes = f[12] == 'r' ? rd : wr;
		c.acc = want ? yes : (uint8_t)(VG_PF_ACC_ANY & ~yes);
		set_one(out, &c);
		return;
	}
	if (!strcmp(f, "evt.res") && k.ktype == VG_FT_STR && !neg && !strcmp(k.op, "=")) {
		c.ret = k.len == 7 && !memcmp(k.s, "SUCCESS", 7) ? VG_PF_RET_OK : VG_PF_RET_FAIL;
		set_one(out, &c);
		return;
	}
	/* paths: positive comparisons only (a negated one also holds on
	 * events without the field) */
	if (neg || !x->open)
		return;
	bool name = !strcmp(f, "fd.name"), dir = !strcmp(f, "fd.directory");
	if (name || dir) {
		if (!strcmp(k.op, "=") || !strcmp(k.op, "startswith")) {
			prefix_clause(&c, k.s, k.len);
		} else if (!strcmp(k.op, "glob") && name) {
			prefix_clause(&c, k.s, glob_head(k.s, k.len));
		} else if ((!strcmp(k.op, "in") || !strcmp(k.op, "pmatch")) && k.nset > 0) {
			uint32_t len;
			int64_t v;
			const char *s0 = vg_cond_check_item(n, 0, &len, &v);
			prefix_clause(&c, s0, len);
			for (uint32_t i = 1; i < k.nset; i++) {
				struct vg_pf_clause o;
				const char *s = vg_cond_check_item(n, i, &len, &v);
				prefix_clause(&o, s, len);
				join(&c, &o);
			}
		} else {
			return;
		}
		set_one(out, &c);
		return;
	}
	/* fd.nameraw: the path as passed; a simple path contains no "/." nor
	 * "//" and starts with '/', and neither does its normal form */
	if (!strcmp(f, "fd.nameraw") && k.ktype == VG_FT_STR) {
		if ((!strcmp(k.op, "contains") && has_dot_or_slashes(k.s, k.len)) ||
		    (!strcmp(k.op, "startswith") && k.len && k.s[0] != '/')) {
			c.nonsimple = 1;
			set_one(out, &c);
		}
		return;
	}
}

static void walk(const struct ctx *x, const struct vg_cond_node *n, bool neg, struct dnf *out)
{
	switch (vg_cond_node_kind(n)) {
	case VG_CN_TRUE:
	case VG_CN_FALSE:
		if ((vg_cond_node_kind(n) == VG_CN_TRUE) != neg)
			set_top(out);
		else
			set_false(out);
		return;
	case VG_CN_NOT:
		walk(x, vg_cond_node_kid(n, 0), !neg, out);
		return;
	case VG_CN_CHECK:
		check(x, n, neg, out);
		return;
	case VG_CN_AND:
	case VG_CN_OR: {
		/* not (a and b) = not a or not b */
		bool conj = (vg_cond_node_kind(n) == VG_CN_AND) != neg;
		struct dnf *kid = vg_xmalloc(sizeof(*kid));
		int nk = vg_cond_node_nkids(n);
		walk(x, vg_cond_node_kid(n, 0), neg, out);
		for (int i = 1; i < nk; i++) {
			if (conj && !out->top && out->n == 0)
				break; /* false already */
			if (!conj && out->top)
				break;
			walk(x, vg_cond_node_kid(n, i), neg, kid);
			if (conj)
				dnf_and(out, kid);
			else
				dnf_or(out, kid);
		}
		free(kid);
		return;
	}
	}
	set_top(out);
}

/* ---- which rules read fd table entries later ---------------------------- */

/* Whether field f, read on an event of type t, reads the fd table: fd.*
 * and the parameters (an fd parameter renders its table entry) of a call
 * that works on an fd it did not create, the parameters of an open-family
 * call (its dirfd), and the process's fd list on any event.  (fs.path.*
 * are the event's own paths.) */
struct reader {
	bool open; /* the event type is of the open family */
	bool reads;
};

static void note_field(void *ctx, const struct vg_field *f)
{
	struct reader *x = ctx;
	const char *n = f->name;
	bool params = !strncmp(n, "evt.arg", 7) || !strncmp(n, "evt.rawarg", 10);
	if (params || !strncmp(n, "proc.fd", 7) || (!x->open && !strncmp(n, "fd.", 3)))
		x->reads = true;
}

const struct vg_rule *vg_engine_fdtable_reader(const struct vg_engine *e)
{
	size_t n = vg_engine_rule_count(e);
	for (size_t i = 0; i < n; i++) {
		const struct vg_rule *r = vg_engine_rule(e, i);
		if (!r->enabled || r->types[VG_T_AUDIT])
			continue;
		bool open = false, other = false;
		for (int t = 0; t < VG_NR_MAX; t++) {
			if (!r->types[t])
				continue;
			const struct vg_sysreg *row = vg_sysreg(t);
			if (row && row->apply == VG_SA_OPEN)
				open = true;
			else
				other = true;
		}
		/* each kind of type the rule can match, with what it reads there */
		for (int k = 0; k < 2; k++) {
			if (!(k ? open : other))
				continue;
			struct reader x = {k == 1, false};
			vg_cond_fields(r->cond, note_field, &x);
			if (r->out)
				vg_output_fields(r->out, note_field, &x);
			if (x.reads)
				return r;
		}
	}
	return NULL;
}

bool vg_engine_needs_fdtable(const struct vg_engine *e)
{
	return vg_engine_fdtable_reader(e) != NULL;
}

/* ---- the table ------------------------------------------------------------ */

void vg_engine_prefilter(const struct vg_engine *e, struct vg_pf_table *t)
{
	vg_pf_table_all(t);
	uint8_t want[VG_NR_MAX];
	vg_engine_interest(e, want);
	bool fdtab = vg_engine_needs_fdtable(e);
	size_t nrules = vg_engine_rule_count(e);
	struct dnf *acc = vg_xmalloc(sizeof(*acc)), *one = vg_xmalloc(sizeof(*one));
	for (int nr = 0; nr < VG_NR_MAX; nr++) {
		const struct vg_sysreg *row = vg_sysreg(nr);
		if (!want[nr] || !row || !vg_syscall_desc(nr))
			continue;
		bool fdonly = row->apply == VG_SA_OPEN || row->apply == VG_SA_CLOSE;
		if ((row->flags & VG_SR_STATE) && (fdtab || !fdonly))
			continue; /* the state needs every one */
		struct ctx x = {nr, row->open != VG_OPEN_NONE,
				row->open == VG_OPEN_ARGS || row->open == VG_OPEN_HOW ||
					row->open == VG_OPEN_CREAT};
		set_false(acc);
		for (size_t i = 0; i < nrules && !acc->top; i++) {
			const struct vg_rule *r = vg_engine_rule(e, i);
			if (!r->enabled || !r->types[nr])
				continue;
			walk(&x, vg_cond_root(r->cond), false, one);
			dnf_or(acc, one);
		}
		if (acc->top)
			continue;
		shrink(acc, VG_PF_CLAUSES);
		struct vg_pf_sc *f = &t->sc[nr];
		memset(f, 0, sizeof(*f));
		f->n = (uint8_t)acc->n;
		memcpy(f->c, acc->c, (size_t)acc->n * sizeof(acc->c[0]));
		f->fsrc = row->open == VG_OPEN_ARGS    ? VG_PF_FL_ARG
			  : row->open == VG_OPEN_HOW   ? VG_PF_FL_HOW
			  : row->open == VG_OPEN_CREAT ? VG_PF_FL_CREAT
						       : VG_PF_FL_NONE;
		f->farg = row->flags_arg;
		f->parg = -1;
		const struct vg_sc_desc *d = vg_syscall_desc(nr);
		for (int i = 0; i < f->n; i++)
			if (f->c[i].plen || f->c[i].nonsimple)
				f->pathcheck = 1;
		if (f->pathcheck)
			f->parg = d->p0;
		if (f->pathcheck && f->parg < 0) {
			/* no path argument to look at: keep those clauses whole */
			for (int i = 0; i < f->n; i++)
				f->c[i].plen = f->c[i].nonsimple = 0;
			f->pathcheck = 0;
		}
		t->on[nr] = 1;
	}
	free(acc);
	free(one);
}
