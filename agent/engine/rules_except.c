/* rules_except.c - a rule's `exceptions`: read from YAML, kept per rule, and
 * rendered into the condition the engine compiles,
 * "(condition) and not (exc1 or exc2 ...)".  Part of the rules loader: see
 * rules.c and rules_int.h.
 */
#include "rules_int.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- exceptions into condition text ------------------------------------- */

static bool op_takes_list(const char *op)
{
	return !strcmp(op, "in") || !strcmp(op, "intersects") || !strcmp(op, "pmatch");
}

/* A value as the condition language reads it: bare when it is one word,
 * quoted otherwise.  A value written with its quotes ('"a b"') is kept as
 * written, as Falco does. */
static void put_value(struct tbuf *b, const char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		rl_tb_put(b, v, n);
		return;
	}
	bool plain = n > 0 && v[0] != '"' && v[0] != '\'';
	for (const char *c = v; *c && plain; c++)
		if (isspace((unsigned char)*c) || *c == ',' || *c == '(' || *c == ')')
			plain = false;
	if (plain) {
		rl_tb_put(b, v, n);
		return;
	}
	rl_tb_put(b, "\"", 1);
	for (const char *c = v; *c; c++) {
		if (*c == '"' || *c == '\\')
			rl_tb_put(b, "\\", 1);
		rl_tb_put(b, c, 1);
	}
	rl_tb_put(b, "\"", 1);
}

/* One exception as a term: one field "(f op (v1, v2))" (or "(f op v1 or f op
 * v2)" for an operator without a list); several "(t1) or (t2)". */
static void put_exception(struct tbuf *b, const struct exc *e)
{
	if (!e->single) {
		for (size_t i = 0; i < e->nterms; i++) {
			rl_tb_seg(b, e->pos, true);
			rl_tb_puts(b, i ? " or (" : "(");
			rl_tb_text(b, &e->terms[i]);
			rl_tb_seg(b, e->pos, true);
			rl_tb_puts(b, ")");
		}
		return;
	}
	const char *op = e->comps[0];
	rl_tb_seg(b, e->pos, true);
	rl_tb_puts(b, "(");
	if (op_takes_list(op)) {
		rl_tb_seg(b, e->fpos[0], true);
		rl_tb_puts(b, e->fields[0]);
		rl_tb_seg(b, e->cpos[0], true);
		rl_tb_puts(b, " ");
		rl_tb_puts(b, op);
		rl_tb_puts(b, " (");
		for (size_t i = 0; i < e->nterms; i++) {
			if (i) {
				rl_tb_seg(b, e->pos, true);
				rl_tb_puts(b, ", ");
			}
			rl_tb_text(b, &e->terms[i]);
		}
	} else {
		for (size_t i = 0; i < e->nterms; i++) {
			if (i) {
				rl_tb_seg(b, e->pos, true);
				rl_tb_puts(b, " or ");
			}
			rl_tb_seg(b, e->fpos[0], true);
			rl_tb_puts(b, e->fields[0]);
			rl_tb_seg(b, e->cpos[0], true);
			rl_tb_puts(b, " ");
			rl_tb_puts(b, op);
			rl_tb_puts(b, " ");
			rl_tb_text(b, &e->terms[i]);
		}
	}
	rl_tb_seg(b, e->pos, true);
	rl_tb_puts(b, op_takes_list(op) ? "))" : ")");
}

/* The public condition: "(base) and not (exc1 or exc2 ...)", or the base
 * alone when no exception has values. */
void rl_rule_rebuild(struct rule_slot *s)
{
	rl_text_free(&s->def.cond);
	size_t with_values = 0;
	for (size_t i = 0; i < s->nexc; i++)
		with_values += s->exc[i].nterms > 0;
	if (!with_values) {
		s->def.cond = rl_text_dup(&s->base);
		return;
	}
	struct tbuf b = {0};
	rl_tb_seg(&b, s->base.pos, true);
	rl_tb_puts(&b, "(");
	rl_tb_text(&b, &s->base);
	rl_tb_seg(&b, s->exc[0].pos, true);
	rl_tb_puts(&b, ") and not (");
	size_t k = 0;
	for (size_t i = 0; i < s->nexc; i++) {
		if (!s->exc[i].nterms)
			continue;
		if (k++) {
			rl_tb_seg(&b, s->exc[i].pos, true);
			rl_tb_puts(&b, " or ");
		}
		put_exception(&b, &s->exc[i]);
	}
	rl_tb_puts(&b, ")");
	s->def.cond = rl_tb_take(&b);
}

/* ---- exceptions ------------------------------------------------------------ */

static const char *const exc_ops[] = {"=",	   "==",	 "!=",	       "<",
				      "<=",	   ">",		 ">=",	       "contains",
				      "icontains", "bcontains",	 "startswith", "bstartswith",
				      "endswith",  "glob",	 "iglob",      "regex",
				      "in",	   "intersects", "pmatch",     NULL};

/* One value of an exception as a term (see struct exc). */
static int exc_term(struct loader *l, const char *item, const struct exc *e, yaml_node_t *v,
		    struct vg_text *out)
{
	struct tbuf b = {0};
	if (e->single) {
		if (v->type != YAML_SCALAR_NODE) {
			rl_lerr(l, v, item,
				"exception '%s' has one field: each value must be a string",
				e->name);
			return -1;
		}
		rl_tb_seg(&b, rl_node_pos(l, v), true);
		put_value(&b, rl_scalar(v));
		*out = rl_tb_take(&b);
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE || rl_seq_len(v) != e->nf) {
		rl_lerr(l, v, item,
			"exception '%s': each value must be a list of %zu items (one per field)",
			e->name, e->nf);
		return -1;
	}
	for (size_t f = 0; f < e->nf; f++) {
		yaml_node_t *x = rl_seq_at(l, v, f);
		bool list = x->type == YAML_SEQUENCE_NODE;
		const char *op = e->comps ? e->comps[f] : list ? "in" : "=";
		if (f) {
			rl_tb_seg(&b, e->pos, true);
			rl_tb_puts(&b, " and ");
		}
		rl_tb_seg(&b, e->fpos[f], true);
		rl_tb_puts(&b, e->fields[f]);
		rl_tb_seg(&b, e->comps ? e->cpos[f] : e->pos, true);
		rl_tb_puts(&b, " ");
		rl_tb_puts(&b, op);
		rl_tb_puts(&b, " ");
		if (x->type == YAML_SCALAR_NODE) {
			/* a list name after `in` expands inside parentheses */
			rl_tb_seg(&b, rl_node_pos(l, x), true);
			if (op_takes_list(op))
				rl_tb_puts(&b, "(");
			put_value(&b, rl_scalar(x));
			if (op_takes_list(op))
				rl_tb_puts(&b, ")");
			continue;
		}
		if (!list) {
			rl_lerr(l, x, item, "exception '%s': values must be strings or lists",
				e->name);
			goto bad;
		}
		if (!op_takes_list(op)) {
			rl_lerr(l, x, item,
				"exception '%s': a list of values needs in, intersects or pmatch, "
				"not "
				"'%s'",
				e->name, op);
			goto bad;
		}
		rl_tb_seg(&b, rl_node_pos(l, x), true);
		rl_tb_puts(&b, "(");
		for (size_t k = 0; k < rl_seq_len(x); k++) {
			yaml_node_t *y = rl_seq_at(l, x, k);
			if (y->type != YAML_SCALAR_NODE) {
				rl_lerr(l, y, item,
					"exception '%s': values must be strings or lists", e->name);
				goto bad;
			}
			if (k)
				rl_tb_puts(&b, ", ");
			rl_tb_seg(&b, rl_node_pos(l, y), true);
			put_value(&b, rl_scalar(y));
		}
		rl_tb_puts(&b, ")");
	}
	*out = rl_tb_take(&b);
	return 0;
bad:
	rl_tb_free(&b);
	return -1;
}

static int exc_terms(struct loader *l, const char *item, const struct exc *e, yaml_node_t *values,
		     struct vg_text **terms, size_t *nterms)
{
	if (values->type != YAML_SEQUENCE_NODE) {
		rl_lerr(l, values, item, "exception '%s': 'values' must be a list", e->name);
		return -1;
	}
	size_t n = rl_seq_len(values);
	*terms = vg_xrealloc(*terms, (*nterms + n + 1) * sizeof(**terms));
	for (size_t i = 0; i < n; i++) {
		if (exc_term(l, item, e, rl_seq_at(l, values, i), &(*terms)[*nterms]))
			return -1;
		(*nterms)++;
	}
	return 0;
}

/* The fields and comps of a new exception. */
static int exc_define(struct loader *l, const char *item, yaml_node_t *en, yaml_node_t *fields,
		      yaml_node_t *comps, struct exc *e)
{
	e->pos = rl_node_pos(l, en);
	if (fields->type == YAML_SCALAR_NODE) {
		e->single = true;
		e->nf = 1;
		e->fields = vg_xcalloc(1, sizeof(char *));
		e->fpos = vg_xcalloc(1, sizeof(struct vg_pos));
		e->fields[0] = vg_xstrdup(rl_scalar(fields));
		e->fpos[0] = rl_node_pos(l, fields);
		e->comps = vg_xcalloc(1, sizeof(char *));
		e->cpos = vg_xcalloc(1, sizeof(struct vg_pos));
		if (comps && comps->type != YAML_SCALAR_NODE) {
			rl_lerr(l, comps, item,
				"exception '%s': with one field, 'comps' must be one operator",
				e->name);
			return -1;
		}
		e->comps[0] = vg_xstrdup(comps ? rl_scalar(comps) : "in");
		e->cpos[0] = comps ? rl_node_pos(l, comps) : e->pos;
	} else if (fields->type == YAML_SEQUENCE_NODE && rl_seq_len(fields) > 0) {
		e->fields = rl_strings_of(l, fields, "fields", item, &e->nf);
		if (!e->fields)
			return -1;
		e->fpos = vg_xcalloc(e->nf, sizeof(struct vg_pos));
		for (size_t i = 0; i < e->nf; i++)
			e->fpos[i] = rl_node_pos(l, rl_seq_at(l, fields, i));
		if (comps) {
			size_t nc = 0;
			char **cv = rl_strings_of(l, comps, "comps", item, &nc);
			if (!cv)
				return -1;
			if (nc != e->nf) {
				rl_lerr(l, comps, item, "exception '%s': %zu comps for %zu fields",
					e->name, nc, e->nf);
				rl_free_strv(cv, nc);
				return -1;
			}
			e->comps = cv;
			e->cpos = vg_xcalloc(e->nf, sizeof(struct vg_pos));
			for (size_t i = 0; i < e->nf; i++)
				e->cpos[i] = rl_node_pos(l, rl_seq_at(l, comps, i));
		}
	} else {
		rl_lerr(l, fields, item,
			"exception '%s': 'fields' must be a field or a list of fields", e->name);
		return -1;
	}
	for (size_t i = 0; e->comps && i < e->nf; i++)
		if (!rl_in_strs(exc_ops, e->comps[i])) {
			struct vg_pos p = e->cpos[i];
			vg_diag_add(l->d, 1, p.file, p.line, p.col,
				    "exception '%s': unknown comparison '%s' (%s '%s')", e->name,
				    e->comps[i], l->kind, item);
			l->errors++;
			return -1;
		}
	return 0;
}

static void exc_ops_free(struct exc_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rl_exc_free(&ops[i].e);
	free(ops);
}

/* Parse `exceptions`; with `old`, entries naming one of its exceptions
 * append values to it (only values: its fields and comps stay). */
int rl_parse_exceptions(struct loader *l, const char *item, yaml_node_t *seq,
			const struct rule_slot *old, struct exc_op **out, size_t *nout)
{
	static const char *const keys[] = {"name", "fields", "comps", "values", NULL};
	*out = NULL;
	*nout = 0;
	if (seq->type != YAML_SEQUENCE_NODE) {
		rl_lerr(l, seq, item, "'exceptions' must be a list");
		return -1;
	}
	struct exc_op *ops = vg_xcalloc(rl_seq_len(seq) + 1, sizeof(*ops));
	size_t n = 0;
	for (size_t i = 0; i < rl_seq_len(seq); i++) {
		yaml_node_t *en = rl_seq_at(l, seq, i);
		if (en->type != YAML_MAPPING_NODE) {
			rl_lerr(l, en, item, "each exception must be a mapping");
			goto bad;
		}
		if (rl_check_keys(l, en, keys, "exception", item))
			goto bad;
		yaml_node_t *nm = rl_get(l, en, "name"), *fields = rl_get(l, en, "fields");
		yaml_node_t *comps = rl_get(l, en, "comps"), *values = rl_get(l, en, "values");
		const char *name = rl_scalar(nm);
		if (!name || !*name) {
			rl_lerr(l, nm ? nm : en, item, "exception has no 'name'");
			goto bad;
		}
		for (size_t k = 0; k < n; k++)
			if (!strcmp(ops[k].e.name, name)) {
				rl_lerr(l, nm, item, "exception '%s' appears twice", name);
				goto bad;
			}
		struct exc_op *op = &ops[n++];
		op->target = -1;
		op->e.name = vg_xstrdup(name);
		for (size_t k = 0; old && k < old->nexc; k++)
			if (!strcmp(old->exc[k].name, name))
				op->target = (long)k;
		if (op->target >= 0) {
			if (fields || comps) {
				rl_lerr(l, fields ? fields : comps, item,
					"exception '%s' exists: only its values can be appended",
					name);
				goto bad;
			}
			const struct exc *t = &old->exc[op->target];
			if (values && exc_terms(l, item, t, values, &op->e.terms, &op->e.nterms))
				goto bad;
			continue;
		}
		if (!fields) {
			rl_lerr(l, en, item, "exception '%s' has no 'fields'", name);
			goto bad;
		}
		if (exc_define(l, item, en, fields, comps, &op->e))
			goto bad;
		if (values && exc_terms(l, item, &op->e, values, &op->e.terms, &op->e.nterms))
			goto bad;
	}
	*out = ops;
	*nout = n;
	return 0;
bad:
	exc_ops_free(ops, n);
	return -1;
}

void rl_apply_exceptions(struct rule_slot *s, struct exc_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct exc *e = &ops[i].e;
		if (ops[i].target >= 0) {
			struct exc *t = &s->exc[ops[i].target];
			t->terms = vg_xrealloc(t->terms,
					       (t->nterms + e->nterms + 1) * sizeof(*t->terms));
			memcpy(t->terms + t->nterms, e->terms, e->nterms * sizeof(*e->terms));
			t->nterms += e->nterms;
			e->nterms = 0;
			rl_exc_free(e);
			continue;
		}
		s->exc = vg_xrealloc(s->exc, (s->nexc + 1) * sizeof(*s->exc));
		s->exc[s->nexc++] = *e;
	}
	free(ops);
}
