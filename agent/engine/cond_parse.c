/* cond_parse.c - Falco's condition language: the lexer and the parser
 * (see cond.h and, for the files of the module, cond_int.h).
 *
 * Parsing and compiling are one pass: each comparison is compiled as soon
 * as it is read, against the field's type, so the tree that comes out
 * holds typed constants, hashed sets, compiled regexes and bitmaps of
 * event types, and evaluating it reads field values and compares, nothing
 * else.  Macros are parsed from their own text (at their own position, so
 * errors point into the macro) and inlined where they are used.
 *
 * Evaluation is a flat jump program per condition; comparisons equal
 * across the conditions of one field set share one result per event, and
 * field values one extraction.  A group (the engine's rules of one event
 * type) also knows, per rule, the comparisons it needs: one made by any
 * rule rules out at once every rule that needs the other result.
 */
#include "cond_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const struct {
	const char *name;
	enum op op;
} op_names[] = {
	{"=", OP_EQ},
	{"==", OP_EQ},
	{"!=", OP_NE},
	{"<", OP_LT},
	{"<=", OP_LE},
	{">", OP_GT},
	{">=", OP_GE},
	{"contains", OP_CONTAINS},
	{"icontains", OP_ICONTAINS},
	{"bcontains", OP_BCONTAINS},
	{"startswith", OP_STARTSWITH},
	{"bstartswith", OP_BSTARTSWITH},
	{"endswith", OP_ENDSWITH},
	{"glob", OP_GLOB},
	{"iglob", OP_IGLOB},
	{"regex", OP_REGEX},
	{"in", OP_IN},
	{"intersects", OP_INTERSECTS},
	{"pmatch", OP_PMATCH},
	{"exists", OP_EXISTS},
};

static const char *const xform_names[] = {"tolower", "toupper", "b64", "basename", "len"};

/* ---- lexer and parser --------------------------------------------------- */

struct parser {
	const char *p;	   /* next character */
	struct vg_pos pos; /* of *p */
	const struct vg_cond_env *env;
	struct vg_cond_err *err;
	int failed;
	const char *stack[64]; /* macros being expanded, to catch loops */
	int depth;
	int nest;	       /* open parentheses, nots and transformers: bounds the recursion */
	struct budget *budget; /* shared with the parsers of the macros inside */
};

#define MAX_NEST 200

/* What one condition may grow to, macros and lists expanded (see cond.h):
 * spent as macros are inlined, comparisons made and list items added.
 * top is the macro the condition itself uses that is being expanded, so
 * that an error names it where the condition uses it. */
struct budget {
	size_t text, checks, items;
	const char *top;
	struct vg_pos top_at;
};

/* Enter one level of nesting; 0 (error set) when too deep. */
static int nest_in(struct parser *ps);

static void perr(struct parser *ps, enum vg_cond_errkind kind, const struct vg_pos *at,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void perr(struct parser *ps, enum vg_cond_errkind kind, const struct vg_pos *at,
		 const char *fmt, ...)
{
	if (ps->failed)
		return; /* keep the first, innermost error */
	ps->failed = 1;
	ps->err->kind = kind;
	ps->err->pos = *at;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
}

/* Spend n of *left; 0 (VG_CERR_LIMIT set at the macro the condition uses,
 * or at at) when that goes past the budget. */
static int spend(struct parser *ps, size_t *left, size_t n, const struct vg_pos *at,
		 const char *what, size_t max)
{
	if (n <= *left) {
		*left -= n;
		return 1;
	}
	*left = 0;
	if (ps->depth && ps->budget->top)
		perr(ps, VG_CERR_LIMIT, &ps->budget->top_at,
		     "condition too large: macro '%s' expands to more than %zu %s (the limit of "
		     "one condition)",
		     ps->budget->top, max, what);
	else
		perr(ps, VG_CERR_LIMIT, at,
		     "condition too large: more than %zu %s (the limit of one condition)", max,
		     what);
	return 0;
}

static void advance(struct parser *ps, size_t n)
{
	for (size_t i = 0; i < n && *ps->p; i++, ps->p++) {
		if (*ps->p == '\n') {
			ps->pos.line++;
			ps->pos.col = 1;
		} else {
			ps->pos.col++;
		}
	}
}

static void skip_ws(struct parser *ps)
{
	while (*ps->p && isspace((unsigned char)*ps->p))
		advance(ps, 1);
}

static int is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* A keyword or operator word at the cursor, not followed by an identifier char. */
static int at_word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);
	return !strncmp(ps->p, w, n) && !is_ident_char(ps->p[n]);
}

/* Read an identifier (field or macro name) with an optional [arg]. */
static char *read_ident(struct parser *ps, size_t *name_len)
{
	const char *start = ps->p;
	size_t n = 0;
	while (is_ident_char(ps->p[n]))
		n++;
	if (n == 0)
		return NULL;
	*name_len = n;
	if (ps->p[n] == '[') {
		int depth = 0;
		size_t i = n;
		for (; ps->p[i]; i++) {
			if (ps->p[i] == '[')
				depth++;
			else if (ps->p[i] == ']' && --depth == 0)
				break;
		}
		if (ps->p[i] != ']') {
			perr(ps, VG_CERR_SYNTAX, &ps->pos, "unbalanced '[' in '%.*s'", (int)n,
			     start);
			return NULL;
		}
		n = i + 1;
	}
	char *s = vg_xstrndup(start, n);
	advance(ps, n);
	return s;
}

/* A quoted string with escapes; the cursor is on the quote. */
static char *read_quoted(struct parser *ps, uint32_t *len)
{
	char q = *ps->p;
	struct vg_pos at = ps->pos;
	advance(ps, 1);
	size_t cap = 64, n = 0;
	char *out = vg_xmalloc(cap);
	while (*ps->p && *ps->p != q) {
		char c = *ps->p;
		if (c == '\\' && ps->p[1]) {
			advance(ps, 1);
			c = *ps->p;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			default:
				break; /* \\ \" \' and anything else: the char itself */
			}
		}
		if (n + 2 > cap)
			out = vg_xrealloc(out, cap *= 2);
		out[n++] = c;
		advance(ps, 1);
	}
	if (*ps->p != q) {
		perr(ps, VG_CERR_SYNTAX, &at, "unterminated string");
		free(out);
		return NULL;
	}
	advance(ps, 1);
	out[n] = 0;
	*len = (uint32_t)n;
	return out;
}

/* A value: quoted, or a bare word up to whitespace, ',', '(' or ')'. */
static char *read_value(struct parser *ps, uint32_t *len, int *quoted)
{
	skip_ws(ps);
	*quoted = 0;
	if (*ps->p == '"' || *ps->p == '\'') {
		*quoted = 1;
		return read_quoted(ps, len);
	}
	size_t n = 0;
	while (ps->p[n] && !isspace((unsigned char)ps->p[n]) && ps->p[n] != ',' &&
	       ps->p[n] != '(' && ps->p[n] != ')')
		n++;
	if (n == 0) {
		if (*ps->p)
			perr(ps, VG_CERR_SYNTAX, &ps->pos, "expected a value, found '%c'", *ps->p);
		else
			perr(ps, VG_CERR_SYNTAX, &ps->pos,
			     "expected a value, found the end of the condition");
		return NULL;
	}
	char *s = vg_xstrndup(ps->p, n);
	*len = (uint32_t)n;
	advance(ps, n);
	return s;
}

static const struct vg_field *resolve_field(struct parser *ps, const char *name, size_t len,
					    struct vg_farg *arg, size_t *keylen)
{
	if (ps->env->field)
		return ps->env->field(ps->env->ctx, name, len, arg, keylen);
	return vg_field_find(name, len, arg, keylen);
}

/* The id of evt.type name (at); an unknown name matches nothing, which
 * for a misspelling (evt.type = opennat) means a rule that never fires:
 * the caller is warned. */
static int evtype_id(struct parser *ps, const char *name, const struct vg_pos *at)
{
	int t = ps->env->evtype ? ps->env->evtype(ps->env->ctx, name) : vg_evtype_by_name(name);
	if (t < 0 && ps->env->warn) {
		char msg[300];
		snprintf(msg, sizeof(msg),
			 "unknown event type '%s' (misspelled, or a syscall vigil does not "
			 "capture): it matches nothing",
			 name);
		ps->env->warn(ps->env->ctx, at, msg);
	}
	return t;
}

/* Resolve "name" or "name[arg]" into a field reference; 0 if not a field. */
static int make_fref(struct parser *ps, const char *text, size_t name_len, struct fref *fr,
		     const struct vg_pos *at)
{
	memset(fr, 0, sizeof(*fr));
	size_t keylen = 0;
	struct vg_farg arg = {0};
	const struct vg_field *f = resolve_field(ps, text, name_len, &arg, &keylen);
	if (!f)
		return 0;
	fr->f = f;
	fr->type = f->type;
	if (arg.kind == 2 && arg.key) { /* dotted key: evt.arg.flags */
		fr->key = vg_xstrndup(arg.key, keylen);
		fr->arg.kind = 2;
		fr->arg.key = fr->key;
	}
	if (text[name_len] == '[') {
		size_t alen = strlen(text) - name_len - 2;
		const char *a = text + name_len + 1;
		if (!(f->flags & (VG_FF_ARG_INDEX | VG_FF_ARG_KEY))) {
			perr(ps, VG_CERR_FIELD_ARG, at, "field %s takes no argument", f->name);
			return -1;
		}
		char *end;
		long long idx = strtoll(a, &end, 10);
		if ((f->flags & VG_FF_ARG_INDEX) && alen && end == a + alen) {
			fr->arg.kind = 1;
			fr->arg.index = idx;
		} else if (f->flags & VG_FF_ARG_KEY) {
			free(fr->key);
			fr->key = vg_xstrndup(a, alen);
			fr->arg.kind = 2;
			fr->arg.key = fr->key;
		} else {
			perr(ps, VG_CERR_FIELD_ARG, at,
			     "field %s needs a numeric index, got '%.*s'", f->name, (int)alen, a);
			return -1;
		}
	} else if ((f->flags & VG_FF_ARG_REQ) && !fr->arg.kind) {
		perr(ps, VG_CERR_FIELD_ARG, at, "field %s needs an argument, e.g. %s[...]", f->name,
		     f->name);
		return -1;
	}
	return 1;
}

/* lhs: field, or transformer(lhs).  Returns 1 field, 0 not a field (text
 * is then the identifier read, for a macro), -1 error. */
static int parse_lhs(struct parser *ps, struct fref *fr, char **ident, struct vg_pos *at)
{
	skip_ws(ps);
	*at = ps->pos;
	for (int x = 0; x < (int)(sizeof(xform_names) / sizeof(xform_names[0])); x++) {
		size_t n = strlen(xform_names[x]);
		if (!strncmp(ps->p, xform_names[x], n) && ps->p[n] == '(') {
			if (!nest_in(ps))
				return -1;
			advance(ps, n + 1);
			char *dummy = NULL;
			struct vg_pos inner;
			int r = parse_lhs(ps, fr, &dummy, &inner);
			ps->nest--;
			if (r == 0) {
				perr(ps, VG_CERR_SYNTAX, &inner, "%s() needs a field, found '%s'",
				     xform_names[x], dummy);
				free(dummy);
				return -1;
			}
			free(dummy);
			if (r < 0)
				return -1;
			skip_ws(ps);
			if (*ps->p != ')') {
				perr(ps, VG_CERR_SYNTAX, &ps->pos,
				     "expected ')' after the field in %s()", xform_names[x]);
				cond_fref_free(fr);
				return -1;
			}
			advance(ps, 1);
			if (fr->nxf == MAX_XF) {
				perr(ps, VG_CERR_LIMIT, at, "too many nested transformers");
				cond_fref_free(fr);
				return -1;
			}
			/* len() too: it counts the bytes of a string value */
			if (fr->type != VG_FT_STR) {
				perr(ps, VG_CERR_TYPE, at,
				     "%s() applies to string fields, %s is %s", xform_names[x],
				     fr->f->name, vg_ftype_name(fr->type));
				cond_fref_free(fr);
				return -1;
			}
			if (x == X_LEN)
				fr->type = VG_FT_U64;
			fr->xf[fr->nxf++] = (uint8_t)x;
			return 1;
		}
	}
	size_t name_len = 0;
	char *text = read_ident(ps, &name_len);
	if (!text) {
		if (!ps->failed)
			perr(ps, VG_CERR_SYNTAX, at, "unexpected %s%.1s%s",
			     *ps->p ? "'" : "end of condition", ps->p, *ps->p ? "'" : "");
		return -1;
	}
	int r = make_fref(ps, text, name_len, fr, at);
	if (r <= 0)
		*ident = text;
	else
		free(text);
	return r;
}

static int read_op(struct parser *ps, enum op *op)
{
	skip_ws(ps);
	const char *p = ps->p;
	if (p[0] == '=' && p[1] == '=')
		return advance(ps, 2), *op = OP_EQ, 1;
	if (p[0] == '=')
		return advance(ps, 1), *op = OP_EQ, 1;
	if (p[0] == '!' && p[1] == '=')
		return advance(ps, 2), *op = OP_NE, 1;
	if (p[0] == '<' && p[1] == '=')
		return advance(ps, 2), *op = OP_LE, 1;
	if (p[0] == '<')
		return advance(ps, 1), *op = OP_LT, 1;
	if (p[0] == '>' && p[1] == '=')
		return advance(ps, 2), *op = OP_GE, 1;
	if (p[0] == '>')
		return advance(ps, 1), *op = OP_GT, 1;
	for (size_t i = 7; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (at_word(ps, op_names[i].name)) {
			advance(ps, strlen(op_names[i].name));
			*op = op_names[i].op;
			return 1;
		}
	return 0;
}

static const char *op_name(enum op op)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (op_names[i].op == op)
			return op_names[i].name;
	return "?";
}

/* The items of list `name` from the environment (-1: no such list), spent
 * from the budget; -2 (VG_CERR_LIMIT set at at) when too many. */
static int env_list(struct parser *ps, const char *name, const struct vg_pos *at,
		    const char *const **items)
{
	int n = ps->env->list ? ps->env->list(ps->env->ctx, name, items) : -1;
	if (n == -2)
		perr(ps, VG_CERR_LIMIT, at,
		     "list '%s' has more than %d items once its lists are expanded", name,
		     VG_COND_MAX_ITEMS);
	else if (n > 0 &&
		 !spend(ps, &ps->budget->items, (size_t)n, at, "list items", VG_COND_MAX_ITEMS))
		return -2;
	return n < -1 ? -2 : n;
}

/* Append the items of a parenthesised list (list names expanded). */
static int parse_list(struct parser *ps, struct fref *lhs, enum op op, struct kset *set)
{
	size_t cap = 8;
	set->k = vg_xcalloc(cap, sizeof(struct konst));
	skip_ws(ps);
	if (*ps->p != '(') {
		/* Falco also accepts a bare list name after in/intersects/pmatch */
		uint32_t len;
		int quoted;
		struct vg_pos at = ps->pos;
		char *w = read_value(ps, &len, &quoted);
		if (!w)
			return -1;
		const char *const *items;
		int n = quoted ? -1 : env_list(ps, w, &at, &items);
		if (n == -2) {
			free(w);
			return -1;
		}
		if (n < 0) {
			perr(ps, VG_CERR_SYNTAX, &at,
			     "'%s' needs a list in parentheses, found '%s'", op_name(op), w);
			free(w);
			return -1;
		}
		free(w);
		for (int i = 0; i < n; i++) {
			if (set->n == cap)
				set->k = vg_xrealloc(set->k, (cap *= 2) * sizeof(struct konst));
			char why[200];
			uint32_t slen;
			char *s = cond_list_item(items[i], &slen);
			if (cond_make_konst(s, slen, lhs->type, op, &set->k[set->n], why,
					    sizeof(why))) {
				perr(ps, VG_CERR_TYPE, &at, "%s: %s", lhs->f->name, why);
				free(s);
				return -1;
			}
			set->n++;
		}
		return 0;
	}
	advance(ps, 1);
	for (;;) {
		skip_ws(ps);
		if (*ps->p == ')') {
			advance(ps, 1);
			return 0;
		}
		struct vg_pos at = ps->pos;
		uint32_t len;
		int quoted;
		char *w = read_value(ps, &len, &quoted);
		if (!w)
			return -1;
		const char *const *items = NULL;
		int n = quoted ? -1 : env_list(ps, w, &at, &items);
		if (n == -2) {
			free(w);
			return -1;
		}
		if (n < 0 &&
		    !spend(ps, &ps->budget->items, 1, &at, "list items", VG_COND_MAX_ITEMS)) {
			free(w);
			return -1;
		}
		int count = n >= 0 ? n : 1;
		for (int i = 0; i < count; i++) {
			uint32_t slen = len;
			char *s = n >= 0 ? cond_list_item(items[i], &slen) : w;
			if (set->n == cap)
				set->k = vg_xrealloc(set->k, (cap *= 2) * sizeof(struct konst));
			char why[200];
			if (cond_make_konst(s, slen, lhs->type, op, &set->k[set->n], why,
					    sizeof(why))) {
				perr(ps, VG_CERR_TYPE, &at, "%s: %s", lhs->f->name, why);
				free(s);
				if (n >= 0)
					free(w);
				return -1;
			}
			set->n++;
		}
		if (n >= 0)
			free(w);
		skip_ws(ps);
		if (*ps->p == ',') {
			advance(ps, 1);
			continue;
		}
		if (*ps->p != ')') {
			perr(ps, VG_CERR_SYNTAX, &ps->pos,
			     "expected ',' or ')' in the list, found '%c'", *ps->p ? *ps->p : ' ');
			return -1;
		}
	}
}

static int is_evtype_field(const struct fref *fr)
{
	return fr->nxf == 0 && !strcmp(fr->f->name, "evt.type");
}

/* lhs op rhs, with lhs already read */
static struct node *parse_check(struct parser *ps, struct fref *lhs, const struct vg_pos *at)
{
	if (!spend(ps, &ps->budget->checks, 1, at, "comparisons", VG_COND_MAX_CHECKS)) {
		cond_fref_free(lhs);
		return NULL;
	}
	struct node *n = cond_new_node(N_CHECK);
	n->chk.lhs = *lhs;
	memset(lhs, 0, sizeof(*lhs));
	struct fref *L = &n->chk.lhs;
	L->slot = L->nxf == 0 && ps->env->fieldset ? cond_fs_slot(ps->env->fieldset, L) : -1;
	enum op op;
	if (!read_op(ps, &op)) {
		perr(ps, VG_CERR_SYNTAX, &ps->pos, "expected an operator after %s, found '%.10s'",
		     L->f->name, *ps->p ? ps->p : "end of condition");
		goto fail;
	}
	n->chk.op = op;
	if (op == OP_EXISTS)
		return n;
	skip_ws(ps);
	/* modifiers for list-valued fields */
	static const char *const quants[] = {NULL, "anyof", "allof", "oneof"};
	for (int q = 1; q <= 3; q++)
		if (at_word(ps, quants[q])) {
			n->chk.quant = (enum quant)q;
			advance(ps, strlen(quants[q]));
			skip_ws(ps);
		}
	/* the list fields of Falco's plugins (ka.*): `in` holds when every
	 * value is in the set (intersects: when one is) */
	if (op == OP_IN && n->chk.quant == Q_DEFAULT && (L->f->flags & VG_FF_SETCMP))
		n->chk.quant = Q_ALL;
	const struct vg_pos rat = ps->pos; /* the right-hand side */
	if (op == OP_IN || op == OP_INTERSECTS || op == OP_PMATCH) {
		if (op == OP_PMATCH && L->type != VG_FT_STR) {
			/* its constants would be strings, compared as such */
			perr(ps, VG_CERR_TYPE, at, "operator pmatch applies to strings, %s is %s",
			     L->f->name, vg_ftype_name(L->type));
			goto fail;
		}
		if (parse_list(ps, L, op, &n->chk.set))
			goto fail;
		if (L->type == VG_FT_STR)
			cond_kset_build(&n->chk.set, 0);
	} else if (!strncmp(ps->p, "val(", 4)) {
		struct vg_pos vat = ps->pos;
		advance(ps, 4);
		char *ident = NULL;
		struct vg_pos fat;
		int r = parse_lhs(ps, &n->chk.rhs, &ident, &fat);
		if (r == 0)
			perr(ps, VG_CERR_SYNTAX, &fat, "val() needs a field, found '%s'", ident);
		free(ident);
		if (r <= 0)
			goto fail;
		skip_ws(ps);
		if (*ps->p != ')') {
			perr(ps, VG_CERR_SYNTAX, &ps->pos, "expected ')' to close val(");
			goto fail;
		}
		advance(ps, 1);
		n->chk.rhs_field = 1;
		if (op == OP_REGEX) { /* compiled once, from a constant */
			perr(ps, VG_CERR_TYPE, &vat,
			     "operator regex needs a constant pattern, not val()");
			goto fail;
		}
		if (n->chk.rhs.type != L->type) {
			perr(ps, VG_CERR_TYPE, &vat, "cannot compare %s (%s) with %s (%s)",
			     L->f->name, vg_ftype_name(L->type), n->chk.rhs.f->name,
			     vg_ftype_name(n->chk.rhs.type));
			goto fail;
		}
	} else {
		struct vg_pos vat = ps->pos;
		uint32_t len;
		int quoted;
		char *v = read_value(ps, &len, &quoted);
		if (!v)
			goto fail;
		char why[200];
		if (cond_make_konst(v, len, L->type, op, &n->chk.k, why, sizeof(why))) {
			/* v is n->chk.k.s now: cond_node_free() releases it */
			perr(ps, VG_CERR_TYPE, &vat, "%s: %s", L->f->name, why);
			goto fail;
		}
		if (op == OP_REGEX) {
			char msg[256];
			n->chk.re = cond_re_compile(v, n->chk.k.len, msg, sizeof(msg));
			if (!n->chk.re) {
				perr(ps, VG_CERR_REGEX, &vat, "invalid regex '%s': %s", v, msg);
				goto fail;
			}
		}
		if (n->chk.k.type == VG_FT_STR && L->type != VG_FT_STR) {
			perr(ps, VG_CERR_TYPE, &vat, "operator %s applies to strings, %s is %s",
			     op_name(op), L->f->name, vg_ftype_name(L->type));
			goto fail;
		}
		if ((op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE) &&
		    (L->type == VG_FT_IP || L->type == VG_FT_NET || L->type == VG_FT_BOOL)) {
			perr(ps, VG_CERR_TYPE, &vat, "operator %s does not apply to %s (%s)",
			     op_name(op), L->f->name, vg_ftype_name(L->type));
			goto fail;
		}
	}
	/* evt.type: compare type ids through a bitmap */
	if (is_evtype_field(L) && !n->chk.rhs_field &&
	    (op == OP_EQ || op == OP_NE || op == OP_IN)) {
		n->chk.types = vg_xcalloc(VG_T_MAX, 1);
		if (op == OP_IN) {
			for (uint32_t i = 0; i < n->chk.set.n; i++) {
				int t = evtype_id(ps, n->chk.set.k[i].s, &rat);
				if (t >= 0 && t < VG_T_MAX)
					n->chk.types[t] = 1;
			}
		} else {
			int t = evtype_id(ps, n->chk.k.s, &rat);
			if (t >= 0 && t < VG_T_MAX)
				n->chk.types[t] = 1;
		}
	}
	return n;
fail:
	cond_node_free(n);
	return NULL;
}

static struct node *parse_or(struct parser *ps);

static struct node *expand_macro(struct parser *ps, const char *name, const struct vg_pos *at)
{
	struct vg_pos mpos = {0};
	const char *text = ps->env->macro ? ps->env->macro(ps->env->ctx, name, &mpos) : NULL;
	if (!text) {
		perr(ps, VG_CERR_UNKNOWN_MACRO, at, "undefined macro or unknown field '%s'", name);
		return NULL;
	}
	for (int i = 0; i < ps->depth; i++)
		if (!strcmp(ps->stack[i], name)) {
			perr(ps, VG_CERR_MACRO_LOOP, at, "macro '%s' refers to itself", name);
			return NULL;
		}
	if (ps->depth == (int)(sizeof(ps->stack) / sizeof(ps->stack[0]))) {
		perr(ps, VG_CERR_LIMIT, at, "macros nested too deep at '%s'", name);
		return NULL;
	}
	if (!ps->depth) {
		ps->budget->top = name;
		ps->budget->top_at = *at;
	}
	if (!spend(ps, &ps->budget->text, strlen(text) + 1, at, "bytes of text", VG_COND_MAX_TEXT))
		return NULL;
	struct parser sub = *ps;
	sub.p = text;
	sub.pos = mpos;
	if (!sub.pos.line)
		sub.pos.line = sub.pos.col = 1;
	sub.stack[sub.depth++] = name;
	struct node *n = parse_or(&sub);
	if (!ps->depth)
		ps->budget->top = NULL;
	if (n) {
		skip_ws(&sub);
		if (*sub.p) {
			perr(&sub, VG_CERR_SYNTAX, &sub.pos, "unexpected '%.10s' in macro '%s'",
			     sub.p, name);
			cond_node_free(n);
			n = NULL;
		}
	}
	ps->failed = sub.failed;
	return n;
}

static int nest_in(struct parser *ps)
{
	if (ps->nest >= MAX_NEST) {
		perr(ps, VG_CERR_LIMIT, &ps->pos, "condition nested too deep (more than %d levels)",
		     MAX_NEST);
		return 0;
	}
	ps->nest++;
	return 1;
}

static struct node *parse_unary_1(struct parser *ps);

static struct node *parse_unary(struct parser *ps)
{
	skip_ws(ps);
	if (!nest_in(ps))
		return NULL;
	struct node *n = parse_unary_1(ps);
	ps->nest--;
	return n;
}

static struct node *parse_unary_1(struct parser *ps)
{
	skip_ws(ps);
	if (ps->failed)
		return NULL;
	if (at_word(ps, "not")) {
		advance(ps, 3);
		struct node *kid = parse_unary(ps);
		if (!kid)
			return NULL;
		struct node *n = cond_new_node(N_NOT);
		n->kid = kid;
		return n;
	}
	if (*ps->p == '(') {
		struct vg_pos at = ps->pos;
		advance(ps, 1);
		struct node *n = parse_or(ps);
		if (!n)
			return NULL;
		skip_ws(ps);
		if (*ps->p != ')') {
			perr(ps, VG_CERR_SYNTAX, *ps->p ? &ps->pos : &at,
			     *ps->p ? "expected ')', found '%.10s'" : "unbalanced '(': no ')'%.0s",
			     ps->p);
			cond_node_free(n);
			return NULL;
		}
		advance(ps, 1);
		return n;
	}
	struct fref fr;
	char *ident = NULL;
	struct vg_pos at;
	int r = parse_lhs(ps, &fr, &ident, &at);
	if (r < 0) {
		free(ident);
		return NULL;
	}
	if (r == 0) {
		/* not a field: a macro, unless an operator follows (a typo in a field) */
		enum op op;
		const char *save = ps->p;
		struct vg_pos savepos = ps->pos;
		int has_op = read_op(ps, &op);
		ps->p = save;
		ps->pos = savepos;
		if (has_op || strchr(ident, '[')) {
			perr(ps, VG_CERR_UNKNOWN_FIELD, &at, "unknown field '%s'", ident);
			free(ident);
			return NULL;
		}
		struct node *n = expand_macro(ps, ident, &at);
		free(ident);
		return n;
	}
	return parse_check(ps, &fr, &at);
}

/* Room for more kids in list node n; the capacity doubles, so that a chain
 * of 100,000 terms does not copy its list at every term. */
static void list_reserve(struct node *n, int more)
{
	if (n->list.n + more <= n->list.cap)
		return;
	int cap = n->list.cap ? n->list.cap : 4;
	while (cap < n->list.n + more)
		cap *= 2;
	n->list.kids = vg_xrealloc(n->list.kids, sizeof(struct node *) * (size_t)cap);
	n->list.cap = cap;
}

static struct node *parse_chain(struct parser *ps, enum nkind kind)
{
	const char *word = kind == N_OR ? "or" : "and";
	struct node *first = kind == N_OR ? parse_chain(ps, N_AND) : parse_unary(ps);
	if (!first)
		return NULL;
	struct node *n = NULL;
	for (;;) {
		skip_ws(ps);
		if (!at_word(ps, word))
			break;
		advance(ps, strlen(word));
		struct node *next = kind == N_OR ? parse_chain(ps, N_AND) : parse_unary(ps);
		if (!next) {
			cond_node_free(n ? n : first);
			return NULL;
		}
		if (!n && first->kind == kind) {
			n = first; /* extend "(a and b)" rather than nest it */
		} else if (!n) {
			n = cond_new_node(kind);
			list_reserve(n, 1);
			n->list.kids[n->list.n++] = first;
		}
		if (next->kind == kind) { /* (a and b) and c: one flat list */
			list_reserve(n, next->list.n);
			memcpy(n->list.kids + n->list.n, next->list.kids,
			       sizeof(struct node *) * (size_t)next->list.n);
			n->list.n += next->list.n;
			free(next->list.kids);
			free(next);
		} else {
			list_reserve(n, 1);
			n->list.kids[n->list.n++] = next;
		}
	}
	return n ? n : first;
}

static struct node *parse_or(struct parser *ps)
{
	return parse_chain(ps, N_OR);
}

struct vg_cond *vg_cond_compile(const char *text, const struct vg_pos *where,
				const struct vg_cond_env *env, struct vg_cond_err *err)
{
	static const struct vg_cond_env none = {0};
	struct parser ps = {0};
	ps.p = text;
	ps.pos = where ? *where : (struct vg_pos){NULL, 1, 1};
	if (!ps.pos.line)
		ps.pos.line = ps.pos.col = 1;
	ps.env = env ? env : &none;
	ps.err = err;
	struct budget budget = {VG_COND_MAX_TEXT, VG_COND_MAX_CHECKS, VG_COND_MAX_ITEMS, NULL, {0}};
	ps.budget = &budget;
	err->msg[0] = 0;
	err->kind = VG_CERR_NONE;
	err->pos = ps.pos;
	skip_ws(&ps);
	if (!*ps.p) {
		perr(&ps, VG_CERR_SYNTAX, &ps.pos, "empty condition");
		return NULL;
	}
	if (!spend(&ps, &budget.text, strlen(text), &ps.pos, "bytes of text", VG_COND_MAX_TEXT))
		return NULL;
	struct node *root = parse_or(&ps);
	if (root) {
		skip_ws(&ps);
		if (*ps.p) {
			perr(&ps, VG_CERR_SYNTAX, &ps.pos,
			     *ps.p == ')' ? "unbalanced ')'%.0s" : "unexpected '%.10s'", ps.p);
			cond_node_free(root);
			root = NULL;
		}
	}
	if (!root)
		return NULL;
	return cond_program(root, ps.env->fieldset);
}
