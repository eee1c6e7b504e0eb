/* rules.c - Falco rules files into a rule set (see rules.h).
 *
 * Items are read with libyaml's document API.  Conditions keep the raw
 * source of plain and block scalars (folding only changes whitespace, which
 * the condition language ignores) so that positions inside multi-line
 * conditions stay exact; outputs and descriptions use the YAML value.
 *
 * A rule keeps its condition without exceptions (`base`) and each exception
 * as rendered terms; the public condition is rebuilt from both after every
 * change, so that exceptions apply to the whole condition whatever is
 * appended to it later, and appended exception values join the exception
 * they name.  Every piece of a condition remembers where it came from
 * (struct vg_text_seg), so a compile error in text appended from another
 * file, or in a generated exception term, is reported where it was written.
 */
#include "rules.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

/* ---- diagnostics -------------------------------------------------------- */

void vg_diag_add(struct vg_diag *d, int error, const char *file, int line, int col, const char *fmt,
		 ...)
{
	if (d->n == d->cap)
		d->v = vg_xrealloc(d->v, (d->cap = d->cap ? d->cap * 2 : 16) * sizeof(*d->v));
	struct vg_diag_entry *e = &d->v[d->n++];
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->error = error;
	e->file = vg_xstrdup(file ? file : "<input>");
	e->line = line;
	e->col = col;
	e->msg = vg_xstrdup(msg);
	if (error)
		d->errors++;
	else
		d->warnings++;
}

void vg_diag_print(const struct vg_diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s:%d:%d: %s: %s\n", d->v[i].file, d->v[i].line, d->v[i].col,
			d->v[i].error ? "error" : "warning", d->v[i].msg);
}

void vg_diag_free(struct vg_diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* ---- priorities --------------------------------------------------------- */

static const char *const prio_names[] = {"Emergency", "Alert",	"Critical",	 "Error",
					 "Warning",   "Notice", "Informational", "Debug"};

const char *vg_priority_name(int prio)
{
	return prio >= 0 && prio <= VG_PRIO_DEBUG ? prio_names[prio] : "Unknown";
}

int vg_priority_parse(const char *s)
{
	for (int i = 0; i <= VG_PRIO_DEBUG; i++)
		if (!strcasecmp(s, prio_names[i]))
			return i;
	if (!strcasecmp(s, "info"))
		return VG_PRIO_INFORMATIONAL;
	return -1;
}

/* ---- texts that remember where their pieces come from -------------------- */

struct tbuf {
	char *s;
	size_t len, cap;
	struct vg_text_seg *segs;
	size_t nsegs, capsegs;
};

/* The text put next comes from pos. */
static void tb_seg(struct tbuf *b, struct vg_pos pos, bool fixed)
{
	if (b->nsegs && b->segs[b->nsegs - 1].off == b->len) {
		b->segs[b->nsegs - 1].pos = pos;
		b->segs[b->nsegs - 1].fixed = fixed;
		return;
	}
	if (b->nsegs == b->capsegs)
		b->segs =
			vg_xrealloc(b->segs, (b->capsegs = b->capsegs * 2 + 4) * sizeof(*b->segs));
	b->segs[b->nsegs++] = (struct vg_text_seg){b->len, pos, fixed};
}

static void tb_put(struct tbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
		b->s = vg_xrealloc(b->s, b->cap = (b->len + n + 1) * 2);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static void tb_puts(struct tbuf *b, const char *s)
{
	tb_put(b, s, strlen(s));
}

static void tb_text(struct tbuf *b, const struct vg_text *t)
{
	size_t len = strlen(t->text);
	for (size_t i = 0; i < t->nsegs; i++) {
		size_t end = i + 1 < t->nsegs ? t->segs[i + 1].off : len;
		tb_seg(b, t->segs[i].pos, t->segs[i].fixed);
		tb_put(b, t->text + t->segs[i].off, end - t->segs[i].off);
	}
}

static struct vg_text tb_take(struct tbuf *b)
{
	if (!b->s)
		tb_put(b, "", 0);
	if (!b->nsegs || b->segs[0].off)
		abort(); /* every text starts with its origin */
	struct vg_text t = {b->s, b->segs[0].pos, b->segs, b->nsegs};
	memset(b, 0, sizeof(*b));
	return t;
}

static void tb_free(struct tbuf *b)
{
	free(b->s);
	free(b->segs);
	memset(b, 0, sizeof(*b));
}

static struct vg_text text_make(const char *s, size_t n, struct vg_pos pos)
{
	struct tbuf b = {0};
	tb_seg(&b, pos, false);
	tb_put(&b, s, n);
	return tb_take(&b);
}

static struct vg_text text_dup(const struct vg_text *t)
{
	struct tbuf b = {0};
	tb_text(&b, t);
	return tb_take(&b);
}

static void text_free(struct vg_text *t)
{
	free(t->text);
	free(t->segs);
	memset(t, 0, sizeof(*t));
}

/* dst = dst + " " + add (Falco joins appended conditions and outputs with a space) */
static void text_append(struct vg_text *dst, const struct vg_text *add)
{
	struct tbuf b = {0};
	tb_text(&b, dst);
	tb_put(&b, " ", 1);
	tb_text(&b, add);
	text_free(dst);
	*dst = tb_take(&b);
}

/* An override of a text: append t to dst, or replace dst with it.  Takes t. */
static void text_modify(struct vg_text *dst, struct vg_text *t, bool append)
{
	if (append) {
		text_append(dst, t);
		text_free(t);
	} else {
		text_free(dst);
		*dst = *t;
	}
}

struct vg_pos vg_text_locate(const struct vg_text *t, int line, int col)
{
	/* the offset the compiler meant: it counts lines, and bytes within a
	 * line, from {1, 1} */
	size_t off = 0;
	int l = 1, c = 1;
	while (t->text[off] && (l < line || (l == line && c < col))) {
		if (t->text[off] == '\n')
			l++, c = 1;
		else
			c++;
		off++;
	}
	if (!t->nsegs)
		return t->pos;
	size_t i = t->nsegs - 1;
	while (i > 0 && t->segs[i].off > off)
		i--;
	struct vg_pos p = t->segs[i].pos;
	if (t->segs[i].fixed)
		return p;
	/* YAML columns count characters, not bytes */
	for (size_t k = t->segs[i].off; k < off; k++) {
		unsigned char ch = (unsigned char)t->text[k];
		if (ch == '\n')
			p.line++, p.col = 1;
		else if ((ch & 0xC0) != 0x80)
			p.col++;
	}
	return p;
}

/* ---- the rule set ------------------------------------------------------- */

/* An exception: its fields and comparisons, and one rendered term per value
 * (one field: the value; several: "f1 c1 v1 and f2 c2 v2"). */
struct exc {
	char *name;
	struct vg_pos pos;
	bool single; /* `fields` was one string */
	size_t nf;
	char **fields;
	struct vg_pos *fpos;
	char **comps; /* nf operators, or NULL: "=" per field ("in" for a list value) */
	struct vg_pos *cpos;
	struct vg_text *terms;
	size_t nterms;
};

struct rule_slot {
	struct vg_rule_def def; /* first member: rules[] point at it */
	struct vg_text base;	/* the condition without its exceptions */
	struct exc *exc;
	size_t nexc;
};

struct list_slot {
	struct vg_list_def def;
	const char **expanded; /* cache of vg_ruleset_list_items */
	size_t nexp;
	int expanding;
};

struct vg_ruleset {
	struct vg_rule_def **rules;
	size_t nrules, caprules;
	struct vg_macro_def **macros;
	size_t nmacros, capmacros;
	struct list_slot **lists;
	size_t nlists, caplists;
	char **files; /* names kept alive for positions */
	size_t nfiles;
	struct vg_ruleset *parent; /* look-ups fall back to it */
};

static struct rule_slot *slot_of(struct vg_rule_def *r)
{
	return (struct rule_slot *)r;
}

struct vg_ruleset *vg_ruleset_new(void)
{
	return vg_xcalloc(1, sizeof(struct vg_ruleset));
}

static void free_strv(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void exc_free(struct exc *e)
{
	free(e->name);
	free_strv(e->fields, e->nf);
	free(e->fpos);
	free_strv(e->comps, e->comps ? e->nf : 0);
	free(e->cpos);
	for (size_t i = 0; i < e->nterms; i++)
		text_free(&e->terms[i]);
	free(e->terms);
	memset(e, 0, sizeof(*e));
}

static void exc_free_all(struct exc *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		exc_free(&v[i]);
	free(v);
}

static void rule_free(struct vg_rule_def *r)
{
	struct rule_slot *s = slot_of(r);
	free(r->name);
	text_free(&r->cond);
	text_free(&r->output);
	free(r->desc);
	free(r->source);
	free_strv(r->tags, r->ntags);
	text_free(&s->base);
	exc_free_all(s->exc, s->nexc);
	free(s);
}

static void list_uncache(struct vg_ruleset *rs)
{
	for (size_t i = 0; i < rs->nlists; i++) {
		free(rs->lists[i]->expanded);
		rs->lists[i]->expanded = NULL;
	}
}

void vg_ruleset_free(struct vg_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nrules; i++)
		rule_free(rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->nmacros; i++) {
		free(rs->macros[i]->name);
		text_free(&rs->macros[i]->cond);
		free(rs->macros[i]);
	}
	free(rs->macros);
	list_uncache(rs);
	for (size_t i = 0; i < rs->nlists; i++) {
		free(rs->lists[i]->def.name);
		free_strv(rs->lists[i]->def.items, rs->lists[i]->def.n);
		free(rs->lists[i]);
	}
	free(rs->lists);
	free_strv(rs->files, rs->nfiles);
	free(rs);
}

static struct vg_rule_def *find_rule(const struct vg_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->nrules; i++)
		if (!strcmp(rs->rules[i]->name, name))
			return rs->rules[i];
	return NULL;
}

static struct vg_macro_def *find_macro(const struct vg_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->nmacros; i++)
		if (!strcmp(rs->macros[i]->name, name))
			return rs->macros[i];
	return NULL;
}

static struct list_slot *find_list(const struct vg_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->nlists; i++)
		if (!strcmp(rs->lists[i]->def.name, name))
			return rs->lists[i];
	return NULL;
}

size_t vg_ruleset_rules(const struct vg_ruleset *rs, const struct vg_rule_def *const **out)
{
	*out = (const struct vg_rule_def *const *)rs->rules;
	return rs->nrules;
}

void vg_ruleset_set_parent(struct vg_ruleset *rs, struct vg_ruleset *parent)
{
	rs->parent = parent;
	list_uncache(rs);
}

const struct vg_macro_def *vg_ruleset_macro(const struct vg_ruleset *rs, const char *name)
{
	for (; rs; rs = rs->parent) {
		const struct vg_macro_def *m = find_macro(rs, name);
		if (m)
			return m;
	}
	return NULL;
}

const struct vg_list_def *vg_ruleset_list(const struct vg_ruleset *rs, const char *name)
{
	struct list_slot *l = find_list(rs, name);
	return l ? &l->def : NULL;
}

size_t vg_ruleset_count_macros(const struct vg_ruleset *rs)
{
	return rs->nmacros;
}

size_t vg_ruleset_count_lists(const struct vg_ruleset *rs)
{
	return rs->nlists;
}

const struct vg_macro_def *vg_ruleset_macro_at(const struct vg_ruleset *rs, size_t i)
{
	return i < rs->nmacros ? rs->macros[i] : NULL;
}

const struct vg_list_def *vg_ruleset_list_at(const struct vg_ruleset *rs, size_t i)
{
	return i < rs->nlists ? &rs->lists[i]->def : NULL;
}

static void expand_into(struct vg_ruleset *rs, struct list_slot *l, const char ***out, size_t *n,
			size_t *cap)
{
	l->expanding = 1;
	for (size_t i = 0; i < l->def.n; i++) {
		struct list_slot *sub = find_list(rs, l->def.items[i]);
		if (sub && !sub->expanding) {
			expand_into(rs, sub, out, n, cap);
			continue;
		}
		const char *const *pitems = NULL;
		int np = sub || !rs->parent
				 ? -1
				 : vg_ruleset_list_items(rs->parent, l->def.items[i], &pitems);
		for (int k = 0; k < (np < 0 ? 1 : np); k++) {
			if (*n == *cap)
				*out = vg_xrealloc(*out,
						   (*cap = *cap ? *cap * 2 : 16) * sizeof(char *));
			(*out)[(*n)++] = np < 0 ? l->def.items[i] : pitems[k];
		}
	}
	l->expanding = 0;
}

int vg_ruleset_list_items(struct vg_ruleset *rs, const char *name, const char *const **items)
{
	struct list_slot *l = find_list(rs, name);
	if (!l)
		return rs->parent ? vg_ruleset_list_items(rs->parent, name, items) : -1;
	if (!l->expanded) {
		size_t cap = 0;
		l->nexp = 0;
		expand_into(rs, l, &l->expanded, &l->nexp, &cap);
		if (!l->expanded)
			l->expanded = vg_xcalloc(1, sizeof(char *));
	}
	*items = l->expanded;
	return (int)l->nexp;
}

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
		tb_put(b, v, n);
		return;
	}
	bool plain = n > 0 && v[0] != '"' && v[0] != '\'';
	for (const char *c = v; *c && plain; c++)
		if (isspace((unsigned char)*c) || *c == ',' || *c == '(' || *c == ')')
			plain = false;
	if (plain) {
		tb_put(b, v, n);
		return;
	}
	tb_put(b, "\"", 1);
	for (const char *c = v; *c; c++) {
		if (*c == '"' || *c == '\\')
			tb_put(b, "\\", 1);
		tb_put(b, c, 1);
	}
	tb_put(b, "\"", 1);
}

/* One exception as a term: one field "(f op (v1, v2))" (or "(f op v1 or f op
 * v2)" for an operator without a list); several "(t1) or (t2)". */
static void put_exception(struct tbuf *b, const struct exc *e)
{
	if (!e->single) {
		for (size_t i = 0; i < e->nterms; i++) {
			tb_seg(b, e->pos, true);
			tb_puts(b, i ? " or (" : "(");
			tb_text(b, &e->terms[i]);
			tb_seg(b, e->pos, true);
			tb_puts(b, ")");
		}
		return;
	}
	const char *op = e->comps[0];
	tb_seg(b, e->pos, true);
	tb_puts(b, "(");
	if (op_takes_list(op)) {
		tb_seg(b, e->fpos[0], true);
		tb_puts(b, e->fields[0]);
		tb_seg(b, e->cpos[0], true);
		tb_puts(b, " ");
		tb_puts(b, op);
		tb_puts(b, " (");
		for (size_t i = 0; i < e->nterms; i++) {
			if (i) {
				tb_seg(b, e->pos, true);
				tb_puts(b, ", ");
			}
			tb_text(b, &e->terms[i]);
		}
	} else {
		for (size_t i = 0; i < e->nterms; i++) {
			if (i) {
				tb_seg(b, e->pos, true);
				tb_puts(b, " or ");
			}
			tb_seg(b, e->fpos[0], true);
			tb_puts(b, e->fields[0]);
			tb_seg(b, e->cpos[0], true);
			tb_puts(b, " ");
			tb_puts(b, op);
			tb_puts(b, " ");
			tb_text(b, &e->terms[i]);
		}
	}
	tb_seg(b, e->pos, true);
	tb_puts(b, op_takes_list(op) ? "))" : ")");
}

/* The public condition: "(base) and not (exc1 or exc2 ...)", or the base
 * alone when no exception has values. */
static void rule_rebuild(struct rule_slot *s)
{
	text_free(&s->def.cond);
	size_t with_values = 0;
	for (size_t i = 0; i < s->nexc; i++)
		with_values += s->exc[i].nterms > 0;
	if (!with_values) {
		s->def.cond = text_dup(&s->base);
		return;
	}
	struct tbuf b = {0};
	tb_seg(&b, s->base.pos, true);
	tb_puts(&b, "(");
	tb_text(&b, &s->base);
	tb_seg(&b, s->exc[0].pos, true);
	tb_puts(&b, ") and not (");
	size_t k = 0;
	for (size_t i = 0; i < s->nexc; i++) {
		if (!s->exc[i].nterms)
			continue;
		if (k++) {
			tb_seg(&b, s->exc[i].pos, true);
			tb_puts(&b, " or ");
		}
		put_exception(&b, &s->exc[i]);
	}
	tb_puts(&b, ")");
	s->def.cond = tb_take(&b);
}

/* ---- YAML --------------------------------------------------------------- */

struct loader {
	struct vg_ruleset *rs;
	struct vg_diag *d;
	const char *file;
	const char *src; /* the whole text, for raw scalar slices */
	size_t srclen;
	size_t *cmap; /* character index -> byte offset (libyaml marks count
		       * characters); NULL when they are the same */
	size_t nchars;
	yaml_document_t doc;
	int errors;
	const char *kind; /* "rule", "macro", "list": how messages name the item */
};

static size_t byte_at(const struct loader *l, size_t index)
{
	if (!l->cmap)
		return index < l->srclen ? index : l->srclen;
	return index < l->nchars ? l->cmap[index] : l->srclen;
}

static void build_cmap(struct loader *l)
{
	const unsigned char *s = (const unsigned char *)l->src;
	size_t start = 0;
	if (l->srclen >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
		start = 3; /* libyaml skips a BOM without counting it */
	int ascii = !start;
	for (size_t i = 0; i < l->srclen && ascii; i++)
		ascii = s[i] < 0x80;
	if (ascii)
		return;
	l->cmap = vg_xmalloc((l->srclen + 1) * sizeof(size_t));
	size_t n = 0;
	for (size_t i = start; i < l->srclen; i++)
		if ((s[i] & 0xC0) != 0x80)
			l->cmap[n++] = i;
	l->nchars = n;
	l->cmap[n] = l->srclen;
}

static struct vg_pos node_pos(const struct loader *l, const yaml_node_t *n)
{
	struct vg_pos p = {l->file, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
	return p;
}

static void ldiag(struct loader *l, int error, const yaml_node_t *n, const char *item,
		  const char *fmt, va_list ap)
{
	char msg[900];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	struct vg_pos p = node_pos(l, n);
	if (item)
		vg_diag_add(l->d, error, l->file, p.line, p.col, "%s (%s '%s')", msg, l->kind,
			    item);
	else
		vg_diag_add(l->d, error, l->file, p.line, p.col, "%s", msg);
	l->errors += error;
}

static void lerr(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void lerr(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ldiag(l, 1, n, item, fmt, ap);
	va_end(ap);
}

static void lwarn(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void lwarn(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ldiag(l, 0, n, item, fmt, ap);
	va_end(ap);
}

static yaml_node_t *node(struct loader *l, int id)
{
	return yaml_document_get_node(&l->doc, id);
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *get(struct loader *l, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(node(l, p->key));
		if (k && !strcmp(k, key))
			return node(l, p->value);
	}
	return NULL;
}

static size_t seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *seq_at(struct loader *l, yaml_node_t *n, size_t i)
{
	return node(l, n->data.sequence.items.start[i]);
}

static int in_strs(const char *const *v, const char *s)
{
	for (; *v; v++)
		if (!strcmp(*v, s))
			return 1;
	return 0;
}

/* The keys of a mapping are known ones, each once. */
static int check_keys(struct loader *l, yaml_node_t *map, const char *const *known,
		      const char *what, const char *item)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(l, p->key);
		const char *k = scalar(kn);
		if (!k || !in_strs(known, k)) {
			lerr(l, kn, item, "unknown key '%s' in %s", k ? k : "?", what);
			return -1;
		}
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(k, scalar(node(l, q->key)))) {
				lerr(l, kn, item, "duplicate key '%s' in %s", k, what);
				return -1;
			}
	}
	return 0;
}

static int want_scalar(struct loader *l, yaml_node_t *n, const char *key, const char *item)
{
	if (n->type == YAML_SCALAR_NODE)
		return 0;
	lerr(l, n, item, "'%s' must be a string", key);
	return -1;
}

static int get_bool(struct loader *l, yaml_node_t *n, const char *key, const char *item, bool *out)
{
	const char *s = scalar(n);
	if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")))
		return *out = true, 0;
	if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")))
		return *out = false, 0;
	lerr(l, n, item, "'%s' must be true or false", key);
	return -1;
}

static bool is_quoted(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

static bool is_block(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
	       n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
}

/* Advance p over src[a..b) as YAML columns count (characters). */
static void advance_pos(struct vg_pos *p, const char *src, size_t a, size_t b)
{
	for (size_t k = a; k < b; k++) {
		unsigned char ch = (unsigned char)src[k];
		if (ch == '\n')
			p->line++, p->col = 1;
		else if ((ch & 0xC0) != 0x80)
			p->col++;
	}
}

/* A condition and where it starts: the raw source of plain and block
 * scalars (exact positions on every line), the value of quoted ones. */
static struct vg_text cond_text(struct loader *l, yaml_node_t *n)
{
	struct vg_pos pos = node_pos(l, n);
	size_t a = byte_at(l, n->start_mark.index), b = byte_at(l, n->end_mark.index);
	const char *v = (const char *)n->data.scalar.value;
	if (a <= b && b <= l->srclen) {
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return text_make(l->src + a, b - a, pos);
		if (is_block(n)) {
			const char *nl = memchr(l->src + a, '\n', b - a);
			if (nl) {
				size_t off = (size_t)(nl + 1 - l->src);
				pos.line++;
				pos.col = 1;
				return text_make(l->src + off, b - off, pos);
			}
		}
	}
	if (is_quoted(n))
		pos.col++;
	return text_make(v, strlen(v), pos);
}

static bool is_field_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* An output: the YAML value without surrounding whitespace (folding joins
 * its lines with spaces).  Each %field in it is tied to where it is written,
 * found by counting '%' in the raw source, which folding does not change. */
static struct vg_text output_text(struct loader *l, yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;
	size_t vlen = strlen(v), lead = 0;
	while (lead < vlen && isspace((unsigned char)v[lead]))
		lead++;
	while (vlen > lead && isspace((unsigned char)v[vlen - 1]))
		vlen--;

	struct vg_pos start = node_pos(l, n);
	size_t a = byte_at(l, n->start_mark.index), b = byte_at(l, n->end_mark.index);
	bool raw_ok = a <= b && b <= l->srclen;
	struct vg_pos *marks = NULL;
	size_t nmarks = 0, want = 0;
	for (size_t i = lead; i < vlen; i++)
		want += v[i] == '%' && is_field_char(v[i + 1]);
	if (raw_ok && (n->data.scalar.style != YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
		       !memchr(l->src + a, '\\', b - a))) {
		marks = vg_xcalloc(want + 1, sizeof(*marks));
		struct vg_pos p = start;
		size_t from = a;
		for (size_t k = a; k < b && nmarks <= want; k++) {
			if (l->src[k] != '%' || k + 1 >= b || !is_field_char(l->src[k + 1]))
				continue;
			advance_pos(&p, l->src, from, k);
			from = k;
			if (nmarks < want)
				marks[nmarks] = p;
			nmarks++;
		}
	}
	/* where the value's first character is */
	if (raw_ok && is_block(n)) {
		const char *nl = memchr(l->src + a, '\n', b - a);
		size_t k = nl ? (size_t)(nl + 1 - l->src) : a;
		start.line += nl != NULL;
		start.col = nl ? 1 : start.col;
		size_t from = k;
		while (k < b && isspace((unsigned char)l->src[k]))
			k++;
		advance_pos(&start, l->src, from, k);
	} else if (is_quoted(n)) {
		start.col += 1 + (int)lead;
	}

	struct tbuf t = {0};
	tb_seg(&t, start, false);
	size_t m = 0, from = lead;
	for (size_t i = lead; i < vlen; i++) {
		if (v[i] != '%' || !is_field_char(v[i + 1]))
			continue;
		if (nmarks == want && m < nmarks) {
			tb_put(&t, v + from, i - from);
			from = i;
			tb_seg(&t, marks[m], false);
		}
		m++;
	}
	tb_put(&t, v + from, vlen - from);
	free(marks);
	return tb_take(&t);
}

static char *trimmed_value(yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;
	size_t len = strlen(v);
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	while (len && isspace((unsigned char)*v))
		v++, len--;
	return vg_xstrndup(v, len);
}

static char **strings_of(struct loader *l, yaml_node_t *n, const char *key, const char *item,
			 size_t *count)
{
	*count = 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		lerr(l, n, item, "'%s' must be a list", key);
		return NULL;
	}
	char **v = vg_xcalloc(seq_len(n) + 1, sizeof(char *));
	for (size_t i = 0; i < seq_len(n); i++) {
		yaml_node_t *e = seq_at(l, n, i);
		if (e->type != YAML_SCALAR_NODE) {
			lerr(l, e, item, "items of '%s' must be strings", key);
			free_strv(v, *count);
			*count = 0;
			return NULL;
		}
		v[(*count)++] = vg_xstrdup(scalar(e));
	}
	return v;
}

/* override: {key: append|replace}.  Fills modes (1 append, 2 replace) for
 * the keys of `keys`; `appendable` are those that may be appended to. */
static int parse_override(struct loader *l, yaml_node_t *ov, const char *item,
			  const char *const *keys, const char *const *appendable, int *modes)
{
	if (ov->type != YAML_MAPPING_NODE) {
		lerr(l, ov, item, "'override' must be a mapping of key: append|replace");
		return -1;
	}
	if (check_keys(l, ov, keys, "override", item))
		return -1;
	for (yaml_node_pair_t *p = ov->data.mapping.pairs.start; p < ov->data.mapping.pairs.top;
	     p++) {
		const char *ks = scalar(node(l, p->key));
		yaml_node_t *v = node(l, p->value);
		const char *vs = scalar(v);
		int idx = 0;
		while (strcmp(keys[idx], ks))
			idx++;
		if (vs && !strcmp(vs, "append") && in_strs(appendable, ks))
			modes[idx] = 1;
		else if (vs && !strcmp(vs, "replace"))
			modes[idx] = 2;
		else {
			lerr(l, v, item, "'override' of '%s' must be %s", ks,
			     in_strs(appendable, ks) ? "append or replace" : "replace");
			return -1;
		}
	}
	return 0;
}

/* With `override`, every key the item sets must be overridden, and every
 * overridden key set (so that nothing is silently ignored). */
static int check_override_keys(struct loader *l, yaml_node_t *item, yaml_node_t *ov,
			       const char *const *keys, const int *modes, const char *name)
{
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(l, p->key);
		const char *k = scalar(kn);
		if (!strcmp(k, l->kind) || !strcmp(k, "override") || !strcmp(k, "append"))
			continue; /* `append: true` with override was refused before */
		int idx = -1;
		for (int i = 0; keys[i]; i++)
			if (!strcmp(keys[i], k))
				idx = i;
		if (idx < 0 || !modes[idx]) {
			lerr(l, kn, name,
			     "'%s' is not under 'override' (add '%s: append' or '%s: replace')", k,
			     k, k);
			return -1;
		}
	}
	for (int i = 0; keys[i]; i++)
		if (modes[i] && !get(l, item, keys[i])) {
			lerr(l, ov, name, "'override' names '%s', which this item does not set",
			     keys[i]);
			return -1;
		}
	return 0;
}

/* The item's `append` and `override`, which exclude each other: *append,
 * *ov (NULL when absent) and modes (see parse_override).  -1 (reported) when
 * invalid. */
static int read_modifiers(struct loader *l, yaml_node_t *item, const char *name,
			  const char *const *keys, const char *const *appendable, int *modes,
			  bool *append, yaml_node_t **ov)
{
	*append = false;
	yaml_node_t *a = get(l, item, "append");
	if (a && get_bool(l, a, "append", name, append))
		return -1;
	*ov = get(l, item, "override");
	if (*ov && *append) {
		lerr(l, *ov, name, "'override' and 'append: true' cannot be used together");
		return -1;
	}
	if (*ov && (parse_override(l, *ov, name, keys, appendable, modes) ||
		    check_override_keys(l, item, *ov, keys, modes, name)))
		return -1;
	return 0;
}

/* ---- lists and macros ---------------------------------------------------- */

static void load_list(struct loader *l, yaml_node_t *item, const char *name)
{
	static const char *const keys[] = {"list", "items", "append", "override", NULL};
	static const char *const okeys[] = {"items", NULL};
	if (check_keys(l, item, keys, "list", name))
		return;
	yaml_node_t *items = get(l, item, "items");
	if (!items) {
		lerr(l, item, name, "list has no 'items'");
		return;
	}
	bool append;
	yaml_node_t *ov;
	int modes[1] = {0};
	if (read_modifiers(l, item, name, okeys, okeys, modes, &append, &ov))
		return;
	size_t n;
	char **v = strings_of(l, items, "items", name, &n);
	if (!v)
		return;
	struct list_slot *old = find_list(l->rs, name);
	list_uncache(l->rs);
	if (append || ov) {
		if (!old) {
			lerr(l, item, name, "%s of list '%s', which is not defined",
			     append ? "append" : "override", name);
			free_strv(v, n);
			return;
		}
		if (append || modes[0] == 1) {
			old->def.items =
				vg_xrealloc(old->def.items, (old->def.n + n + 1) * sizeof(char *));
			memcpy(old->def.items + old->def.n, v, n * sizeof(char *));
			old->def.n += n;
			free(v);
		} else {
			free_strv(old->def.items, old->def.n);
			old->def.items = v;
			old->def.n = n;
		}
		return;
	}
	if (old) { /* a redefinition replaces, in its place */
		free_strv(old->def.items, old->def.n);
		old->def.items = v;
		old->def.n = n;
		old->def.pos = node_pos(l, item);
		return;
	}
	struct list_slot *s = vg_xcalloc(1, sizeof(*s));
	s->def.name = vg_xstrdup(name);
	s->def.pos = node_pos(l, item);
	s->def.items = v;
	s->def.n = n;
	struct vg_ruleset *rs = l->rs;
	if (rs->nlists == rs->caplists)
		rs->lists = vg_xrealloc(rs->lists, (rs->caplists = rs->caplists * 2 + 16) *
							   sizeof(*rs->lists));
	rs->lists[rs->nlists++] = s;
}

static void load_macro(struct loader *l, yaml_node_t *item, const char *name)
{
	static const char *const keys[] = {"macro", "condition", "append", "override", NULL};
	static const char *const okeys[] = {"condition", NULL};
	if (check_keys(l, item, keys, "macro", name))
		return;
	yaml_node_t *c = get(l, item, "condition");
	if (!c) {
		lerr(l, item, name, "macro has no 'condition'");
		return;
	}
	if (want_scalar(l, c, "condition", name))
		return;
	bool append;
	yaml_node_t *ov;
	int modes[1] = {0};
	if (read_modifiers(l, item, name, okeys, okeys, modes, &append, &ov))
		return;
	struct vg_text t = cond_text(l, c);
	struct vg_macro_def *old = find_macro(l->rs, name);
	if (append || ov) {
		if (!old) {
			lerr(l, item, name, "%s of macro '%s', which is not defined",
			     append ? "append" : "override", name);
			text_free(&t);
			return;
		}
		text_modify(&old->cond, &t, append || modes[0] == 1);
		return;
	}
	if (old) {
		text_free(&old->cond);
		old->cond = t;
		return;
	}
	struct vg_macro_def *m = vg_xcalloc(1, sizeof(*m));
	m->name = vg_xstrdup(name);
	m->cond = t;
	struct vg_ruleset *rs = l->rs;
	if (rs->nmacros == rs->capmacros)
		rs->macros = vg_xrealloc(rs->macros, (rs->capmacros = rs->capmacros * 2 + 16) *
							     sizeof(*rs->macros));
	rs->macros[rs->nmacros++] = m;
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
			lerr(l, v, item,
			     "exception '%s' has one field: each value must be a string", e->name);
			return -1;
		}
		tb_seg(&b, node_pos(l, v), true);
		put_value(&b, scalar(v));
		*out = tb_take(&b);
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE || seq_len(v) != e->nf) {
		lerr(l, v, item,
		     "exception '%s': each value must be a list of %zu items (one per field)",
		     e->name, e->nf);
		return -1;
	}
	for (size_t f = 0; f < e->nf; f++) {
		yaml_node_t *x = seq_at(l, v, f);
		bool list = x->type == YAML_SEQUENCE_NODE;
		const char *op = e->comps ? e->comps[f] : list ? "in" : "=";
		if (f) {
			tb_seg(&b, e->pos, true);
			tb_puts(&b, " and ");
		}
		tb_seg(&b, e->fpos[f], true);
		tb_puts(&b, e->fields[f]);
		tb_seg(&b, e->comps ? e->cpos[f] : e->pos, true);
		tb_puts(&b, " ");
		tb_puts(&b, op);
		tb_puts(&b, " ");
		if (x->type == YAML_SCALAR_NODE) {
			/* a list name after `in` expands inside parentheses */
			tb_seg(&b, node_pos(l, x), true);
			if (op_takes_list(op))
				tb_puts(&b, "(");
			put_value(&b, scalar(x));
			if (op_takes_list(op))
				tb_puts(&b, ")");
			continue;
		}
		if (!list) {
			lerr(l, x, item, "exception '%s': values must be strings or lists",
			     e->name);
			goto bad;
		}
		if (!op_takes_list(op)) {
			lerr(l, x, item,
			     "exception '%s': a list of values needs in, intersects or pmatch, not "
			     "'%s'",
			     e->name, op);
			goto bad;
		}
		tb_seg(&b, node_pos(l, x), true);
		tb_puts(&b, "(");
		for (size_t k = 0; k < seq_len(x); k++) {
			yaml_node_t *y = seq_at(l, x, k);
			if (y->type != YAML_SCALAR_NODE) {
				lerr(l, y, item, "exception '%s': values must be strings or lists",
				     e->name);
				goto bad;
			}
			if (k)
				tb_puts(&b, ", ");
			tb_seg(&b, node_pos(l, y), true);
			put_value(&b, scalar(y));
		}
		tb_puts(&b, ")");
	}
	*out = tb_take(&b);
	return 0;
bad:
	tb_free(&b);
	return -1;
}

static int exc_terms(struct loader *l, const char *item, const struct exc *e, yaml_node_t *values,
		     struct vg_text **terms, size_t *nterms)
{
	if (values->type != YAML_SEQUENCE_NODE) {
		lerr(l, values, item, "exception '%s': 'values' must be a list", e->name);
		return -1;
	}
	size_t n = seq_len(values);
	*terms = vg_xrealloc(*terms, (*nterms + n + 1) * sizeof(**terms));
	for (size_t i = 0; i < n; i++) {
		if (exc_term(l, item, e, seq_at(l, values, i), &(*terms)[*nterms]))
			return -1;
		(*nterms)++;
	}
	return 0;
}

/* The fields and comps of a new exception. */
static int exc_define(struct loader *l, const char *item, yaml_node_t *en, yaml_node_t *fields,
		      yaml_node_t *comps, struct exc *e)
{
	e->pos = node_pos(l, en);
	if (fields->type == YAML_SCALAR_NODE) {
		e->single = true;
		e->nf = 1;
		e->fields = vg_xcalloc(1, sizeof(char *));
		e->fpos = vg_xcalloc(1, sizeof(struct vg_pos));
		e->fields[0] = vg_xstrdup(scalar(fields));
		e->fpos[0] = node_pos(l, fields);
		e->comps = vg_xcalloc(1, sizeof(char *));
		e->cpos = vg_xcalloc(1, sizeof(struct vg_pos));
		if (comps && comps->type != YAML_SCALAR_NODE) {
			lerr(l, comps, item,
			     "exception '%s': with one field, 'comps' must be one operator",
			     e->name);
			return -1;
		}
		e->comps[0] = vg_xstrdup(comps ? scalar(comps) : "in");
		e->cpos[0] = comps ? node_pos(l, comps) : e->pos;
	} else if (fields->type == YAML_SEQUENCE_NODE && seq_len(fields) > 0) {
		e->fields = strings_of(l, fields, "fields", item, &e->nf);
		if (!e->fields)
			return -1;
		e->fpos = vg_xcalloc(e->nf, sizeof(struct vg_pos));
		for (size_t i = 0; i < e->nf; i++)
			e->fpos[i] = node_pos(l, seq_at(l, fields, i));
		if (comps) {
			size_t nc = 0;
			char **cv = strings_of(l, comps, "comps", item, &nc);
			if (!cv)
				return -1;
			if (nc != e->nf) {
				lerr(l, comps, item, "exception '%s': %zu comps for %zu fields",
				     e->name, nc, e->nf);
				free_strv(cv, nc);
				return -1;
			}
			e->comps = cv;
			e->cpos = vg_xcalloc(e->nf, sizeof(struct vg_pos));
			for (size_t i = 0; i < e->nf; i++)
				e->cpos[i] = node_pos(l, seq_at(l, comps, i));
		}
	} else {
		lerr(l, fields, item,
		     "exception '%s': 'fields' must be a field or a list of fields", e->name);
		return -1;
	}
	for (size_t i = 0; e->comps && i < e->nf; i++)
		if (!in_strs(exc_ops, e->comps[i])) {
			struct vg_pos p = e->cpos[i];
			vg_diag_add(l->d, 1, p.file, p.line, p.col,
				    "exception '%s': unknown comparison '%s' (%s '%s')", e->name,
				    e->comps[i], l->kind, item);
			l->errors++;
			return -1;
		}
	return 0;
}

/* What an item's `exceptions` does to a rule: new exceptions, or values
 * appended to an existing one (target >= 0). */
struct exc_op {
	struct exc e;
	long target;
};

static void exc_ops_free(struct exc_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		exc_free(&ops[i].e);
	free(ops);
}

/* Parse `exceptions`; with `old`, entries naming one of its exceptions
 * append values to it (only values: its fields and comps stay). */
static int parse_exceptions(struct loader *l, const char *item, yaml_node_t *seq,
			    const struct rule_slot *old, struct exc_op **out, size_t *nout)
{
	static const char *const keys[] = {"name", "fields", "comps", "values", NULL};
	*out = NULL;
	*nout = 0;
	if (seq->type != YAML_SEQUENCE_NODE) {
		lerr(l, seq, item, "'exceptions' must be a list");
		return -1;
	}
	struct exc_op *ops = vg_xcalloc(seq_len(seq) + 1, sizeof(*ops));
	size_t n = 0;
	for (size_t i = 0; i < seq_len(seq); i++) {
		yaml_node_t *en = seq_at(l, seq, i);
		if (en->type != YAML_MAPPING_NODE) {
			lerr(l, en, item, "each exception must be a mapping");
			goto bad;
		}
		if (check_keys(l, en, keys, "exception", item))
			goto bad;
		yaml_node_t *nm = get(l, en, "name"), *fields = get(l, en, "fields");
		yaml_node_t *comps = get(l, en, "comps"), *values = get(l, en, "values");
		const char *name = scalar(nm);
		if (!name || !*name) {
			lerr(l, nm ? nm : en, item, "exception has no 'name'");
			goto bad;
		}
		for (size_t k = 0; k < n; k++)
			if (!strcmp(ops[k].e.name, name)) {
				lerr(l, nm, item, "exception '%s' appears twice", name);
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
				lerr(l, fields ? fields : comps, item,
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
			lerr(l, en, item, "exception '%s' has no 'fields'", name);
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

static void apply_exceptions(struct rule_slot *s, struct exc_op *ops, size_t n)
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
			exc_free(e);
			continue;
		}
		s->exc = vg_xrealloc(s->exc, (s->nexc + 1) * sizeof(*s->exc));
		s->exc[s->nexc++] = *e;
	}
	free(ops);
}

/* ---- rules --------------------------------------------------------------- */

enum rkey {
	RK_CONDITION,
	RK_OUTPUT,
	RK_DESC,
	RK_PRIORITY,
	RK_TAGS,
	RK_EXCEPTIONS,
	RK_ENABLED,
	RK_WARN,
	RK_SKIP,
	RK_CAPTURE,
	RK_CAPTURE_DURATION,
	RK_SOURCE,
	RK_N
};
/* in enum rkey order; override may name the keys before "source" */
static const char *const rule_keys[] = {"condition",
					"output",
					"desc",
					"priority",
					"tags",
					"exceptions",
					"enabled",
					"warn_evttypes",
					"skip-if-unknown-filter",
					"capture",
					"capture_duration",
					"source",
					NULL};
static const char *const override_keys[] = {"condition",
					    "output",
					    "desc",
					    "priority",
					    "tags",
					    "exceptions",
					    "enabled",
					    "warn_evttypes",
					    "skip-if-unknown-filter",
					    "capture",
					    "capture_duration",
					    NULL};
static const char *const override_append[] = {"condition", "output",	 "desc",
					      "tags",	   "exceptions", NULL};

static void add_tags(struct vg_rule_def *r, char **tags, size_t n)
{
	r->tags = vg_xrealloc(r->tags, (r->ntags + n + 1) * sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t k = 0; k < r->ntags && !dup; k++)
			dup = !strcmp(r->tags[k], tags[i]);
		if (dup)
			free(tags[i]);
		else
			r->tags[r->ntags++] = tags[i];
	}
	r->tags[r->ntags] = NULL;
	free(tags);
}

/* The values an item sets, checked before anything changes. */
struct rule_item {
	yaml_node_t *n[RK_N];
	int prio;
	bool enabled, warn, skip;
	char **tags;
	size_t ntags;
};

static int read_rule_item(struct loader *l, yaml_node_t *item, const char *name,
			  struct rule_item *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->prio = -1;
	ri->enabled = ri->warn = true;
	for (int i = 0; i < RK_N; i++)
		ri->n[i] = get(l, item, rule_keys[i]);
	static const int scalars[] = {RK_CONDITION, RK_OUTPUT, RK_DESC, RK_PRIORITY, RK_SOURCE};
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
		if (ri->n[scalars[i]] &&
		    want_scalar(l, ri->n[scalars[i]], rule_keys[scalars[i]], name))
			return -1;
	if (ri->n[RK_PRIORITY]) {
		ri->prio = vg_priority_parse(scalar(ri->n[RK_PRIORITY]));
		if (ri->prio < 0) {
			lerr(l, ri->n[RK_PRIORITY], name,
			     "unknown priority '%s' (Emergency, Alert, Critical, Error, Warning, "
			     "Notice, Informational, Debug)",
			     scalar(ri->n[RK_PRIORITY]));
			return -1;
		}
	}
	bool capture;
	if ((ri->n[RK_ENABLED] && get_bool(l, ri->n[RK_ENABLED], "enabled", name, &ri->enabled)) ||
	    (ri->n[RK_WARN] && get_bool(l, ri->n[RK_WARN], "warn_evttypes", name, &ri->warn)) ||
	    (ri->n[RK_SKIP] &&
	     get_bool(l, ri->n[RK_SKIP], "skip-if-unknown-filter", name, &ri->skip)) ||
	    (ri->n[RK_CAPTURE] && get_bool(l, ri->n[RK_CAPTURE], "capture", name, &capture)))
		return -1;
	if (ri->n[RK_TAGS]) {
		ri->tags = strings_of(l, ri->n[RK_TAGS], "tags", name, &ri->ntags);
		if (!ri->tags)
			return -1;
	}
	return 0;
}

/* append: true, override:, or an item with only `enabled`: change `old`. */
static void modify_rule(struct loader *l, yaml_node_t *item, const char *name, struct rule_item *ri,
			int *modes, bool append, struct rule_slot *old)
{
	yaml_node_t **n = ri->n;
	if (append) { /* the deprecated form appends to condition and exceptions */
		for (int i = 0; i < RK_N; i++)
			if (n[i] && i != RK_CONDITION && i != RK_EXCEPTIONS) {
				lerr(l, n[i], name,
				     "'append: true' only appends condition and exceptions, not "
				     "'%s' "
				     "(use 'override')",
				     rule_keys[i]);
				return;
			}
		if (!n[RK_CONDITION] && !n[RK_EXCEPTIONS]) {
			lerr(l, item, name, "'append: true' without condition or exceptions");
			return;
		}
		modes[RK_CONDITION] = n[RK_CONDITION] ? 1 : 0;
		modes[RK_EXCEPTIONS] = n[RK_EXCEPTIONS] ? 1 : 0;
	}
	struct exc_op *ops = NULL;
	size_t nops = 0;
	if (modes[RK_EXCEPTIONS] &&
	    parse_exceptions(l, name, n[RK_EXCEPTIONS], modes[RK_EXCEPTIONS] == 1 ? old : NULL,
			     &ops, &nops))
		return;
	struct vg_rule_def *r = &old->def;
	if (modes[RK_CONDITION]) {
		struct vg_text t = cond_text(l, n[RK_CONDITION]);
		text_modify(&old->base, &t, modes[RK_CONDITION] == 1);
	}
	if (modes[RK_OUTPUT]) {
		struct vg_text t = output_text(l, n[RK_OUTPUT]);
		text_modify(&r->output, &t, modes[RK_OUTPUT] == 1);
	}
	if (modes[RK_DESC]) {
		char *s = trimmed_value(n[RK_DESC]);
		if (modes[RK_DESC] == 1) {
			size_t a = strlen(r->desc), b = strlen(s);
			r->desc = vg_xrealloc(r->desc, a + b + 2);
			r->desc[a] = ' ';
			memcpy(r->desc + a + 1, s, b + 1);
			free(s);
		} else {
			free(r->desc);
			r->desc = s;
		}
	}
	if (modes[RK_PRIORITY])
		r->priority = ri->prio;
	if (modes[RK_TAGS]) {
		if (modes[RK_TAGS] == 2) {
			free_strv(r->tags, r->ntags);
			r->tags = NULL;
			r->ntags = 0;
		}
		add_tags(r, ri->tags, ri->ntags);
		ri->tags = NULL;
		ri->ntags = 0;
	}
	if (modes[RK_EXCEPTIONS] == 2) {
		exc_free_all(old->exc, old->nexc);
		old->exc = NULL;
		old->nexc = 0;
	}
	if (modes[RK_EXCEPTIONS])
		apply_exceptions(old, ops, nops);
	if (modes[RK_ENABLED])
		r->enabled = ri->enabled;
	if (modes[RK_WARN])
		r->warn_evttypes = ri->warn;
	if (modes[RK_SKIP])
		r->skip_if_unknown_filter = ri->skip;
	rule_rebuild(old);
}

static void load_rule(struct loader *l, yaml_node_t *item, const char *name)
{
	static const char *const keys[] = {
		"rule",	   "condition",	       "output",  "desc",	   "priority",
		"tags",	   "exceptions",       "enabled", "warn_evttypes", "skip-if-unknown-filter",
		"capture", "capture_duration", "source",  "append",	   "override",
		NULL};
	if (check_keys(l, item, keys, "rule", name))
		return;
	bool append;
	yaml_node_t *ov;
	int modes[RK_N] = {0};
	if (read_modifiers(l, item, name, override_keys, override_append, modes, &append, &ov))
		return;
	struct rule_item ri;
	if (read_rule_item(l, item, name, &ri))
		return;

	struct vg_rule_def *old = find_rule(l->rs, name);
	size_t nkeys = (size_t)(item->data.mapping.pairs.top - item->data.mapping.pairs.start);
	bool modifying = append || ov;
	/* an item with only `rule` and `enabled` toggles an existing rule */
	if (!modifying && old && ri.n[RK_ENABLED] && nkeys == 2) {
		modifying = true;
		modes[RK_ENABLED] = 2;
	}
	if (modifying) {
		if (!old)
			lerr(l, item, name, "%s of rule '%s', which is not defined",
			     append ? "append" : "override", name);
		else
			modify_rule(l, item, name, &ri, modes, append, slot_of(old));
		free_strv(ri.tags, ri.ntags);
		return;
	}

	static const int required[] = {RK_CONDITION, RK_OUTPUT, RK_DESC, RK_PRIORITY};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!ri.n[required[i]]) {
			if (nkeys == 2 && ri.n[RK_ENABLED])
				lerr(l, item, name,
				     "'enabled' of rule '%s', which is not defined (a new rule "
				     "needs condition, output, desc and priority)",
				     name);
			else
				lerr(l, item, name, "rule has no '%s'", rule_keys[required[i]]);
			free_strv(ri.tags, ri.ntags);
			return;
		}
	struct exc_op *ops = NULL;
	size_t nops = 0;
	if (ri.n[RK_EXCEPTIONS] &&
	    parse_exceptions(l, name, ri.n[RK_EXCEPTIONS], NULL, &ops, &nops)) {
		free_strv(ri.tags, ri.ntags);
		return;
	}
	struct rule_slot *s = vg_xcalloc(1, sizeof(*s));
	struct vg_rule_def *r = &s->def;
	r->name = vg_xstrdup(name);
	r->pos = node_pos(l, item);
	s->base = cond_text(l, ri.n[RK_CONDITION]);
	r->output = output_text(l, ri.n[RK_OUTPUT]);
	r->desc = trimmed_value(ri.n[RK_DESC]);
	r->source = ri.n[RK_SOURCE] ? trimmed_value(ri.n[RK_SOURCE]) : vg_xstrdup("syscall");
	r->priority = ri.prio;
	add_tags(r, ri.tags, ri.ntags);
	r->enabled = ri.enabled;
	r->warn_evttypes = ri.warn;
	r->skip_if_unknown_filter = ri.skip;
	apply_exceptions(s, ops, nops);
	rule_rebuild(s);
	if (!vg_fsrc_by_name(r->source))
		lwarn(l, ri.n[RK_SOURCE], name,
		      "source '%s' is not evaluated by vigil (only syscall and k8s_audit): rule "
		      "skipped",
		      r->source);
	struct vg_ruleset *rs = l->rs;
	if (old) { /* a later definition replaces the earlier, in its place */
		for (size_t i = 0; i < rs->nrules; i++)
			if (rs->rules[i] == old)
				rs->rules[i] = r;
		rule_free(old);
		return;
	}
	if (rs->nrules == rs->caprules)
		rs->rules = vg_xrealloc(rs->rules, (rs->caprules = rs->caprules * 2 + 16) *
							   sizeof(*rs->rules));
	rs->rules[rs->nrules++] = r;
}

/* ---- items, documents, files ------------------------------------------------ */

/* "0.57.0" or a legacy integer N ("0.N.0"); -1 when neither. */
static long long engine_version(const char *s)
{
	unsigned long long v[3] = {0, 0, 0};
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	v[0] = strtoull(s, &end, 10);
	if (!*end)
		return (long long)(v[0] * 1000000ull); /* legacy: minor version alone */
	for (int i = 1; i < 3; i++) {
		if (*end != '.' || !isdigit((unsigned char)end[1]))
			return -1;
		v[i] = strtoull(end + 1, &end, 10);
	}
	if (*end || v[0] > 999 || v[1] > 999 || v[2] > 999)
		return -1;
	return (long long)(v[0] * 1000000000000ull + v[1] * 1000000ull + v[2]);
}

static void load_engine_version(struct loader *l, yaml_node_t *item, yaml_node_t *v)
{
	static const char *const keys[] = {"required_engine_version", NULL};
	if (check_keys(l, item, keys, "item", NULL))
		return;
	long long want = engine_version(scalar(v));
	if (want < 0) {
		lerr(l, v, NULL, "required_engine_version must be a version like %s",
		     VG_RULES_ENGINE_VERSION);
		return;
	}
	if (want > engine_version(VG_RULES_ENGINE_VERSION)) {
		struct vg_pos p = node_pos(l, v);
		vg_diag_add(l->d, 0, l->file, p.line, p.col,
			    "the rules require engine version %s; vigil implements %s: rules "
			    "that use newer features may fail to compile",
			    scalar(v), VG_RULES_ENGINE_VERSION);
	}
}

static void load_item(struct loader *l, yaml_node_t *item)
{
	if (item->type != YAML_MAPPING_NODE) {
		lerr(l, item, NULL, "each item must be a mapping (rule, macro, list, ...)");
		return;
	}
	static const char *const kinds[] = {"rule", "macro", "list"};
	for (int k = 0; k < 3; k++) {
		yaml_node_t *nm = get(l, item, kinds[k]);
		if (!nm)
			continue;
		const char *name = scalar(nm);
		l->kind = kinds[k];
		if (!name || !*name) {
			lerr(l, nm, NULL, "%s name must be a non-empty string", kinds[k]);
			return;
		}
		char *item_name = vg_xstrdup(name);
		if (k == 0)
			load_rule(l, item, item_name);
		else if (k == 1)
			load_macro(l, item, item_name);
		else
			load_list(l, item, item_name);
		free(item_name);
		return;
	}
	l->kind = "item";
	yaml_node_t *v = get(l, item, "required_engine_version");
	if (v) {
		load_engine_version(l, item, v);
		return;
	}
	if (get(l, item, "required_plugin_versions")) {
		/* accepted: vigil has the syscall and k8s_audit sources built in
		 * (the k8saudit plugin and its json companion's fields) */
		static const char *const keys[] = {"required_plugin_versions", NULL};
		check_keys(l, item, keys, "item", NULL);
		return;
	}
	yaml_node_pair_t *p = item->data.mapping.pairs.start;
	const char *k = p < item->data.mapping.pairs.top ? scalar(node(l, p->key)) : NULL;
	lerr(l, item, NULL,
	     "unknown item '%s' (expected rule, macro, list, required_engine_version or "
	     "required_plugin_versions)",
	     k ? k : "?");
}

int vg_ruleset_add_text(struct vg_ruleset *rs, const char *name, const char *text, size_t len,
			struct vg_diag *d)
{
	struct loader l = {0};
	l.rs = rs;
	l.d = d;
	rs->files = vg_xrealloc(rs->files, (rs->nfiles + 1) * sizeof(char *));
	rs->files[rs->nfiles++] = vg_xstrdup(name);
	l.file = rs->files[rs->nfiles - 1];
	l.src = text;
	l.srclen = len;
	l.kind = "item";
	build_cmap(&l);
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	/* a file may hold several YAML documents, each a list of items */
	for (;;) {
		if (!yaml_parser_load(&parser, &l.doc)) {
			vg_diag_add(d, 1, l.file, (int)parser.problem_mark.line + 1,
				    (int)parser.problem_mark.column + 1, "invalid YAML: %s%s%s",
				    parser.problem ? parser.problem : "syntax error",
				    parser.context ? " " : "",
				    parser.context ? parser.context : "");
			l.errors++;
			break;
		}
		yaml_node_t *root = yaml_document_get_root_node(&l.doc);
		if (!root) {
			yaml_document_delete(&l.doc);
			break;
		}
		if (root->type == YAML_SEQUENCE_NODE) {
			for (size_t i = 0; i < seq_len(root); i++)
				load_item(&l, seq_at(&l, root, i));
		} else if (!(root->type == YAML_SCALAR_NODE && !*root->data.scalar.value)) {
			lerr(&l, root, NULL, "a rules file must be a list of items");
		}
		yaml_document_delete(&l.doc);
	}
	yaml_parser_delete(&parser);
	free(l.cmap);
	return l.errors;
}

int vg_ruleset_add_file(struct vg_ruleset *rs, const char *path, struct vg_diag *d)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		vg_diag_add(d, 1, path, 0, 0, "cannot read: %s", strerror(errno));
		return 1;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = vg_xmalloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap)
			buf = vg_xrealloc(buf, cap *= 2);
	}
	int rd_err = ferror(f);
	fclose(f);
	buf[len] = 0;
	int rc;
	if (rd_err) {
		vg_diag_add(d, 1, path, 0, 0, "read error");
		rc = 1;
	} else {
		rc = vg_ruleset_add_text(rs, path, buf, len, d);
	}
	free(buf);
	return rc;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vg_ruleset_add_path(struct vg_ruleset *rs, const char *path, struct vg_diag *d)
{
	struct stat st;
	if (stat(path, &st))
		return 0; /* errno says why */
	if (!S_ISDIR(st.st_mode)) {
		vg_ruleset_add_file(rs, path, d);
		return 1;
	}
	DIR *dir = opendir(path);
	if (!dir) {
		vg_diag_add(d, 1, path, 0, 0, "cannot read directory: %s", strerror(errno));
		return 1;
	}
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' ||
		    !(has_suffix(de->d_name, ".yaml") || has_suffix(de->d_name, ".yml")))
			continue;
		names = vg_xrealloc(names, (n + 1) * sizeof(char *));
		size_t len = strlen(path) + strlen(de->d_name) + 2;
		names[n] = vg_xmalloc(len);
		snprintf(names[n++], len, "%s/%s", path, de->d_name);
	}
	closedir(dir);
	if (n)
		qsort(names, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++) {
		vg_ruleset_add_file(rs, names[i], d);
		free(names[i]);
	}
	free(names);
	return 1;
}
