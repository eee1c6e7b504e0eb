/* rules.c - Falco rules files into a rule set (see rules.h). */
#include "rules.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* ---- the rule set ------------------------------------------------------- */

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
};

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

static void rule_free(struct vg_rule_def *r)
{
	free(r->name);
	free(r->cond.text);
	free(r->output.text);
	free(r->desc);
	free(r->source);
	free_strv(r->tags, r->ntags);
	free(r);
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
		free(rs->macros[i]->cond.text);
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
	for (size_t i = rs->nmacros; i-- > 0;)
		if (!strcmp(rs->macros[i]->name, name))
			return rs->macros[i];
	return NULL;
}

static struct list_slot *find_list(const struct vg_ruleset *rs, const char *name)
{
	for (size_t i = rs->nlists; i-- > 0;)
		if (!strcmp(rs->lists[i]->def.name, name))
			return rs->lists[i];
	return NULL;
}

size_t vg_ruleset_rules(const struct vg_ruleset *rs, const struct vg_rule_def *const **out)
{
	*out = (const struct vg_rule_def *const *)rs->rules;
	return rs->nrules;
}

const struct vg_macro_def *vg_ruleset_macro(const struct vg_ruleset *rs, const char *name)
{
	return find_macro(rs, name);
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
		if (*n == *cap)
			*out = vg_xrealloc(*out, (*cap = *cap ? *cap * 2 : 16) * sizeof(char *));
		(*out)[(*n)++] = l->def.items[i];
	}
	l->expanding = 0;
}

int vg_ruleset_list_items(struct vg_ruleset *rs, const char *name, const char *const **items)
{
	struct list_slot *l = find_list(rs, name);
	if (!l)
		return -1;
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

/* ---- YAML --------------------------------------------------------------- */

struct loader {
	struct vg_ruleset *rs;
	struct vg_diag *d;
	const char *file;
	const char *src; /* the whole text, for raw scalar slices */
	size_t srclen;
	yaml_document_t doc;
	int errors;
	const char *kind; /* "rule", "macro", "list": how messages name the item */
};

static struct vg_pos node_pos(const struct loader *l, const yaml_node_t *n)
{
	struct vg_pos p = {l->file, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
	return p;
}

static void lerr(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void lerr(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct vg_pos p = node_pos(l, n);
	if (item)
		vg_diag_add(l->d, 1, l->file, p.line, p.col, "%s (%s '%s')", msg, l->kind, item);
	else
		vg_diag_add(l->d, 1, l->file, p.line, p.col, "%s", msg);
	l->errors++;
}

static void lwarn(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void lwarn(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
{
	char msg[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	struct vg_pos p = node_pos(l, n);
	vg_diag_add(l->d, 0, l->file, p.line, p.col, "%s (%s '%s')", msg, l->kind,
		    item ? item : "");
}

static yaml_node_t *get(struct loader *l, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(&l->doc, p->value);
	}
	return NULL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
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

/* A condition or output text and where it starts.  For plain and block
 * scalars the raw source is used, so that positions inside multi-line
 * text are exact (folding only changes whitespace, which the condition
 * language ignores). */
static struct vg_text text_of(struct loader *l, yaml_node_t *n)
{
	struct vg_text t;
	t.pos = node_pos(l, n);
	yaml_scalar_style_t st = n->data.scalar.style;
	size_t a = n->start_mark.index, b = n->end_mark.index;
	if (b > l->srclen || a > b)
		st = YAML_ANY_SCALAR_STYLE;
	if (st == YAML_PLAIN_SCALAR_STYLE) {
		t.text = vg_xstrndup(l->src + a, b - a);
		return t;
	}
	if (st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE) {
		const char *nl = memchr(l->src + a, '\n', b - a);
		if (nl) {
			size_t off = (size_t)(nl + 1 - l->src);
			t.text = vg_xstrndup(l->src + off, b - off);
			t.pos.line++;
			t.pos.col = 1;
			return t;
		}
	}
	/* quoted: the value, positioned after the quote */
	t.text = vg_xstrdup((const char *)n->data.scalar.value);
	if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE || st == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		t.pos.col++;
	return t;
}

/* An output is text for people: YAML's value (folded lines joined, no
 * source indentation), trailing line breaks dropped.  Its position is
 * exact on its first line. */
static struct vg_text output_of(struct loader *l, yaml_node_t *n)
{
	struct vg_text raw = text_of(l, n);
	struct vg_text t = {vg_xstrdup((const char *)n->data.scalar.value), raw.pos};
	yaml_scalar_style_t st = n->data.scalar.style;
	if ((st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE) &&
	    raw.pos.line > (int)n->start_mark.line + 1)
		t.pos.col += (int)strspn(raw.text, " ");
	free(raw.text);
	size_t k = strlen(t.text);
	while (k && (t.text[k - 1] == '\n' || t.text[k - 1] == ' '))
		t.text[--k] = 0;
	return t;
}

static void text_append(struct vg_text *dst, const struct vg_text *add)
{
	size_t a = strlen(dst->text), b = strlen(add->text);
	dst->text = vg_xrealloc(dst->text, a + b + 2);
	dst->text[a] = ' ';
	memcpy(dst->text + a + 1, add->text, b + 1);
}

static char **strings_of(struct loader *l, yaml_node_t *n, const char *key, const char *item,
			 size_t *count)
{
	*count = 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		lerr(l, n, item, "'%s' must be a list", key);
		return NULL;
	}
	size_t cap = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	char **v = vg_xcalloc(cap + 1, sizeof(char *));
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(&l->doc, *it);
		if (e->type != YAML_SCALAR_NODE) {
			lerr(l, e, item, "items of '%s' must be strings", key);
			free_strv(v, *count);
			*count = 0;
			return NULL;
		}
		v[(*count)++] = vg_xstrdup((const char *)e->data.scalar.value);
	}
	return v;
}

/* Which keys an override may append to or replace. */
static const char *const override_append[] = {"condition",  "output", "desc", "tags",
					      "exceptions", "items",  NULL};
static const char *const override_replace[] = {"condition",
					       "output",
					       "desc",
					       "priority",
					       "tags",
					       "exceptions",
					       "enabled",
					       "items",
					       "source",
					       "warn_evttypes",
					       "skip-if-unknown-filter",
					       NULL};

static int in_strs(const char *const *v, const char *s)
{
	for (; *v; v++)
		if (!strcmp(*v, s))
			return 1;
	return 0;
}

/* override: {key: append|replace}.  Returns 0, fills modes (1 append, 2
 * replace) for the keys present in `allowed`. */
static int parse_override(struct loader *l, yaml_node_t *ov, const char *item,
			  const char *const *keys, int *modes)
{
	if (ov->type != YAML_MAPPING_NODE) {
		lerr(l, ov, item, "'override' must be a mapping of key: append|replace");
		return -1;
	}
	for (yaml_node_pair_t *p = ov->data.mapping.pairs.start; p < ov->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&l->doc, p->value);
		const char *ks = scalar(k), *vs = scalar(v);
		int idx = -1;
		for (int i = 0; ks && keys[i]; i++)
			if (!strcmp(keys[i], ks))
				idx = i;
		if (idx < 0) {
			lerr(l, k, item, "'override' of unknown key '%s'", ks ? ks : "?");
			return -1;
		}
		if (vs && !strcmp(vs, "append") && in_strs(override_append, ks))
			modes[idx] = 1;
		else if (vs && !strcmp(vs, "replace") && in_strs(override_replace, ks))
			modes[idx] = 2;
		else {
			lerr(l, v, item, "'override' of '%s' must be %s", ks,
			     in_strs(override_append, ks) ? "append or replace" : "replace");
			return -1;
		}
	}
	return 0;
}

static void load_list(struct loader *l, yaml_node_t *item, const char *name)
{
	static const char *const keys[] = {"list", "items", "append", "override", NULL};
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(&l->doc, p->key));
		if (!k || !in_strs(keys, k)) {
			lerr(l, yaml_document_get_node(&l->doc, p->key), name,
			     "unknown key '%s' in list", k ? k : "?");
			return;
		}
	}
	yaml_node_t *items = get(l, item, "items");
	if (!items) {
		lerr(l, item, name, "list has no 'items'");
		return;
	}
	size_t n;
	char **v = strings_of(l, items, "items", name, &n);
	if (!v)
		return;
	bool append = false;
	yaml_node_t *a = get(l, item, "append");
	if (a && get_bool(l, a, "append", name, &append))
		goto out;
	yaml_node_t *ov = get(l, item, "override");
	static const char *const okeys[] = {"items", NULL};
	int modes[1] = {0};
	if (ov && parse_override(l, ov, name, okeys, modes))
		goto out;
	struct list_slot *old = find_list(l->rs, name);
	list_uncache(l->rs);
	if (append || modes[0]) {
		if (!old) {
			lerr(l, item, name, "%s of list '%s', which is not defined",
			     append ? "append" : "override", name);
			goto out;
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
	if (old) { /* a redefinition replaces */
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
	if (l->rs->nlists == l->rs->caplists)
		l->rs->lists =
			vg_xrealloc(l->rs->lists, (l->rs->caplists = l->rs->caplists * 2 + 16) *
							  sizeof(*l->rs->lists));
	l->rs->lists[l->rs->nlists++] = s;
	return;
out:
	free_strv(v, n);
}

static void load_macro(struct loader *l, yaml_node_t *item, const char *name)
{
	static const char *const keys[] = {"macro", "condition", "append", "override", NULL};
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(&l->doc, p->key));
		if (!k || !in_strs(keys, k)) {
			lerr(l, yaml_document_get_node(&l->doc, p->key), name,
			     "unknown key '%s' in macro", k ? k : "?");
			return;
		}
	}
	yaml_node_t *c = get(l, item, "condition");
	if (!c) {
		lerr(l, item, name, "macro has no 'condition'");
		return;
	}
	if (want_scalar(l, c, "condition", name))
		return;
	bool append = false;
	yaml_node_t *a = get(l, item, "append");
	if (a && get_bool(l, a, "append", name, &append))
		return;
	static const char *const okeys[] = {"condition", NULL};
	int modes[1] = {0};
	yaml_node_t *ov = get(l, item, "override");
	if (ov && parse_override(l, ov, name, okeys, modes))
		return;
	struct vg_text t = text_of(l, c);
	struct vg_macro_def *old = find_macro(l->rs, name);
	if (append || modes[0]) {
		if (!old) {
			lerr(l, item, name, "%s of macro '%s', which is not defined",
			     append ? "append" : "override", name);
			free(t.text);
			return;
		}
		if (append || modes[0] == 1) {
			text_append(&old->cond, &t);
			free(t.text);
		} else {
			free(old->cond.text);
			old->cond = t;
		}
		return;
	}
	if (old) {
		free(old->cond.text);
		old->cond = t;
		return;
	}
	struct vg_macro_def *m = vg_xcalloc(1, sizeof(*m));
	m->name = vg_xstrdup(name);
	m->cond = t;
	if (l->rs->nmacros == l->rs->capmacros)
		l->rs->macros =
			vg_xrealloc(l->rs->macros, (l->rs->capmacros = l->rs->capmacros * 2 + 16) *
							   sizeof(*l->rs->macros));
	l->rs->macros[l->rs->nmacros++] = m;
}

/* Quote a value for a generated condition when it is not a plain word. */
static void put_value(char **buf, size_t *len, size_t *cap, const char *v)
{
	int plain = *v != 0;
	for (const char *c = v; *c; c++)
		if (*c == ' ' || *c == '\t' || *c == ',' || *c == '(' || *c == ')' || *c == '"' ||
		    *c == '\'' || *c == '\\')
			plain = 0;
	size_t need = strlen(v) * 2 + 4;
	if (*len + need >= *cap)
		*buf = vg_xrealloc(*buf, *cap = (*cap + need) * 2);
	if (plain) {
		*len += (size_t)sprintf(*buf + *len, "%s", v);
		return;
	}
	(*buf)[(*len)++] = '"';
	for (const char *c = v; *c; c++) {
		if (*c == '"' || *c == '\\')
			(*buf)[(*len)++] = '\\';
		(*buf)[(*len)++] = *c;
	}
	(*buf)[(*len)++] = '"';
	(*buf)[*len] = 0;
}

static void put_str(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 >= *cap)
		*buf = vg_xrealloc(*buf, *cap = (*cap + n + 1) * 2);
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

/* A value of an exception tuple: a scalar, or a list rendered "(a, b)". */
static int put_exc_value(struct loader *l, yaml_node_t *v, const char *item, char **buf,
			 size_t *len, size_t *cap)
{
	if (v->type == YAML_SCALAR_NODE) {
		const char *s = (const char *)v->data.scalar.value;
		/* a bare list name stays bare so that it expands */
		if (find_list(l->rs, s))
			put_str(buf, len, cap, s);
		else
			put_value(buf, len, cap, s);
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		lerr(l, v, item, "exception values must be strings or lists");
		return -1;
	}
	put_str(buf, len, cap, "(");
	int first = 1;
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(&l->doc, *it);
		if (e->type != YAML_SCALAR_NODE) {
			lerr(l, e, item, "exception values must be strings or lists");
			return -1;
		}
		if (!first)
			put_str(buf, len, cap, ", ");
		first = 0;
		const char *s = (const char *)e->data.scalar.value;
		if (find_list(l->rs, s))
			put_str(buf, len, cap, s);
		else
			put_value(buf, len, cap, s);
	}
	put_str(buf, len, cap, ")");
	return 0;
}

/* exceptions: turn each into "(... or ...)"; returns the term to append as
 * "and not (...)" (NULL when no exception has values), or sets *bad. */
static char *exceptions_term(struct loader *l, yaml_node_t *exc, const char *item, int *bad)
{
	*bad = 0;
	if (exc->type != YAML_SEQUENCE_NODE) {
		lerr(l, exc, item, "'exceptions' must be a list");
		*bad = 1;
		return NULL;
	}
	size_t cap = 256, len = 0;
	char *buf = vg_xmalloc(cap);
	buf[0] = 0;
	int nterms = 0;
	for (yaml_node_item_t *it = exc->data.sequence.items.start;
	     it < exc->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(&l->doc, *it);
		if (e->type != YAML_MAPPING_NODE) {
			lerr(l, e, item, "each exception must be a mapping");
			goto bad;
		}
		static const char *const keys[] = {"name", "fields", "comps", "values", NULL};
		for (yaml_node_pair_t *p = e->data.mapping.pairs.start;
		     p < e->data.mapping.pairs.top; p++) {
			const char *k = scalar(yaml_document_get_node(&l->doc, p->key));
			if (!k || !in_strs(keys, k)) {
				lerr(l, yaml_document_get_node(&l->doc, p->key), item,
				     "unknown key '%s' in exception", k ? k : "?");
				goto bad;
			}
		}
		yaml_node_t *name = get(l, e, "name"), *fields = get(l, e, "fields");
		yaml_node_t *comps = get(l, e, "comps"), *values = get(l, e, "values");
		if (!name || !scalar(name)) {
			lerr(l, e, item, "exception has no 'name'");
			goto bad;
		}
		if (!fields) {
			lerr(l, e, item, "exception '%s' has no 'fields'", scalar(name));
			goto bad;
		}
		if (!values)
			continue; /* a placeholder for later appends */
		if (values->type != YAML_SEQUENCE_NODE) {
			lerr(l, values, item, "exception '%s': 'values' must be a list",
			     scalar(name));
			goto bad;
		}
		if (values->data.sequence.items.top == values->data.sequence.items.start)
			continue;
		if (fields->type == YAML_SCALAR_NODE) {
			/* single field: field comp (v1, v2, ...) */
			const char *comp = comps ? scalar(comps) : "in";
			if (!comp) {
				lerr(l, comps, item,
				     "exception '%s': with one field, 'comps' must be one operator",
				     scalar(name));
				goto bad;
			}
			put_str(&buf, &len, &cap, nterms++ ? " or (" : "(");
			put_str(&buf, &len, &cap, scalar(fields));
			put_str(&buf, &len, &cap, " ");
			put_str(&buf, &len, &cap, comp);
			put_str(&buf, &len, &cap, " ");
			if (put_exc_value(l, values, item, &buf, &len, &cap))
				goto bad;
			put_str(&buf, &len, &cap, ")");
			continue;
		}
		size_t nf = 0, nc = 0;
		char **fv = strings_of(l, fields, "fields", item, &nf);
		if (!fv)
			goto bad;
		char **cv = NULL;
		if (comps) {
			cv = strings_of(l, comps, "comps", item, &nc);
			if (!cv || nc != nf) {
				if (cv)
					lerr(l, comps, item,
					     "exception '%s': %zu comps for %zu fields",
					     scalar(name), nc, nf);
				free_strv(fv, nf);
				free_strv(cv, nc);
				goto bad;
			}
		}
		for (yaml_node_item_t *vi = values->data.sequence.items.start;
		     vi < values->data.sequence.items.top; vi++) {
			yaml_node_t *tuple = yaml_document_get_node(&l->doc, *vi);
			size_t nt = tuple->type == YAML_SEQUENCE_NODE
					    ? (size_t)(tuple->data.sequence.items.top -
						       tuple->data.sequence.items.start)
					    : 0;
			if (nt != nf) {
				lerr(l, tuple, item,
				     "exception '%s': each value must be a list of %zu items (one "
				     "per field)",
				     scalar(name), nf);
				free_strv(fv, nf);
				free_strv(cv, nc);
				goto bad;
			}
			put_str(&buf, &len, &cap, nterms++ ? " or (" : "(");
			for (size_t f = 0; f < nf; f++) {
				yaml_node_t *v = yaml_document_get_node(
					&l->doc, tuple->data.sequence.items.start[f]);
				const char *comp =
					cv ? cv[f] : (v->type == YAML_SEQUENCE_NODE ? "in" : "=");
				if (f)
					put_str(&buf, &len, &cap, " and ");
				put_str(&buf, &len, &cap, fv[f]);
				put_str(&buf, &len, &cap, " ");
				put_str(&buf, &len, &cap, comp);
				put_str(&buf, &len, &cap, " ");
				if (put_exc_value(l, v, item, &buf, &len, &cap)) {
					free_strv(fv, nf);
					free_strv(cv, nc);
					goto bad;
				}
			}
			put_str(&buf, &len, &cap, ")");
		}
		free_strv(fv, nf);
		free_strv(cv, nc);
	}
	if (!nterms) {
		free(buf);
		return NULL;
	}
	return buf;
bad:
	free(buf);
	*bad = 1;
	return NULL;
}

static void add_exceptions(struct vg_rule_def *r, const char *term)
{
	size_t a = strlen(r->cond.text), b = strlen(term);
	r->cond.text = vg_xrealloc(r->cond.text, a + b + 16);
	sprintf(r->cond.text + a, " and not (%s)", term);
}

enum rkey {
	RK_CONDITION,
	RK_OUTPUT,
	RK_DESC,
	RK_PRIORITY,
	RK_TAGS,
	RK_EXCEPTIONS,
	RK_ENABLED,
	RK_SOURCE,
	RK_WARN,
	RK_SKIP,
	RK_N
};
static const char *const rule_keys[] = {
	"condition",  "output",	 "desc",   "priority",	    "tags",
	"exceptions", "enabled", "source", "warn_evttypes", "skip-if-unknown-filter",
	NULL};

static void load_rule(struct loader *l, yaml_node_t *item, const char *name)
{
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
	     p++) {
		const char *k = scalar(yaml_document_get_node(&l->doc, p->key));
		if (!k || (!in_strs(rule_keys, k) && strcmp(k, "rule") && strcmp(k, "append") &&
			   strcmp(k, "override") && strcmp(k, "capture") &&
			   strcmp(k, "capture_duration"))) {
			lerr(l, yaml_document_get_node(&l->doc, p->key), name,
			     "unknown key '%s' in rule", k ? k : "?");
			return;
		}
	}
	yaml_node_t *n[RK_N];
	for (int i = 0; i < RK_N; i++)
		n[i] = get(l, item, rule_keys[i]);
	bool append = false;
	yaml_node_t *a = get(l, item, "append");
	if (a && get_bool(l, a, "append", name, &append))
		return;
	int modes[RK_N] = {0};
	yaml_node_t *ov = get(l, item, "override");
	if (ov && parse_override(l, ov, name, rule_keys, modes))
		return;
	for (int i = 0; i < RK_N; i++)
		if (modes[i] && !n[i]) {
			lerr(l, ov, name, "'override' names '%s', which this item does not set",
			     rule_keys[i]);
			return;
		}
	static const int scalars[] = {RK_CONDITION, RK_OUTPUT, RK_DESC, RK_PRIORITY, RK_SOURCE};
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
		if (n[scalars[i]] && want_scalar(l, n[scalars[i]], rule_keys[scalars[i]], name))
			return;
	int prio = -1;
	if (n[RK_PRIORITY]) {
		prio = vg_priority_parse(scalar(n[RK_PRIORITY]));
		if (prio < 0) {
			lerr(l, n[RK_PRIORITY], name,
			     "unknown priority '%s' (Emergency, Alert, Critical, Error, Warning, "
			     "Notice, Informational, Debug)",
			     scalar(n[RK_PRIORITY]));
			return;
		}
	}
	bool enabled = true, warn = true, skip = false;
	if (n[RK_ENABLED] && get_bool(l, n[RK_ENABLED], "enabled", name, &enabled))
		return;
	if (n[RK_WARN] && get_bool(l, n[RK_WARN], "warn_evttypes", name, &warn))
		return;
	if (n[RK_SKIP] && get_bool(l, n[RK_SKIP], "skip-if-unknown-filter", name, &skip))
		return;
	size_t ntags = 0;
	char **tags = NULL;
	if (n[RK_TAGS]) {
		tags = strings_of(l, n[RK_TAGS], "tags", name, &ntags);
		if (!tags)
			return;
	}
	char *exc = NULL;
	if (n[RK_EXCEPTIONS]) {
		int bad;
		exc = exceptions_term(l, n[RK_EXCEPTIONS], name, &bad);
		if (bad) {
			free_strv(tags, ntags);
			return;
		}
	}

	struct vg_rule_def *old = find_rule(l->rs, name);
	int modifying = append || ov;
	/* an item with only `rule` and `enabled` toggles an existing rule */
	size_t nkeys = (size_t)(item->data.mapping.pairs.top - item->data.mapping.pairs.start);
	if (!modifying && old && n[RK_ENABLED] && nkeys == 2)
		modifying = 1, modes[RK_ENABLED] = 2;
	if (modifying) {
		if (!old) {
			lerr(l, item, name, "%s of rule '%s', which is not defined",
			     append ? "append" : "override", name);
			goto out;
		}
		if (append) { /* the deprecated form appends condition and exceptions */
			if (n[RK_CONDITION])
				modes[RK_CONDITION] = 1;
			if (n[RK_EXCEPTIONS])
				modes[RK_EXCEPTIONS] = 1;
			for (int i = 0; i < RK_N; i++)
				if (n[i] && !modes[i] && i != RK_CONDITION && i != RK_EXCEPTIONS) {
					lerr(l, n[i], name,
					     "'append: true' only appends condition and "
					     "exceptions, not '%s'",
					     rule_keys[i]);
					goto out;
				}
		}
		if (modes[RK_CONDITION]) {
			struct vg_text t = text_of(l, n[RK_CONDITION]);
			if (modes[RK_CONDITION] == 1) {
				text_append(&old->cond, &t);
				free(t.text);
			} else {
				free(old->cond.text);
				old->cond = t;
			}
		}
		if (modes[RK_OUTPUT]) {
			struct vg_text t = output_of(l, n[RK_OUTPUT]);
			if (modes[RK_OUTPUT] == 1) {
				text_append(&old->output, &t);
				free(t.text);
			} else {
				free(old->output.text);
				old->output = t;
			}
		}
		if (modes[RK_DESC]) {
			const char *s = scalar(n[RK_DESC]);
			if (modes[RK_DESC] == 1) {
				size_t a1 = strlen(old->desc), b1 = strlen(s);
				old->desc = vg_xrealloc(old->desc, a1 + b1 + 2);
				old->desc[a1] = ' ';
				memcpy(old->desc + a1 + 1, s, b1 + 1);
			} else {
				free(old->desc);
				old->desc = vg_xstrdup(s);
			}
		}
		if (modes[RK_PRIORITY])
			old->priority = prio;
		if (modes[RK_TAGS]) {
			if (modes[RK_TAGS] == 2) {
				free_strv(old->tags, old->ntags);
				old->tags = tags;
				old->ntags = ntags;
			} else {
				old->tags = vg_xrealloc(old->tags,
							(old->ntags + ntags + 1) * sizeof(char *));
				memcpy(old->tags + old->ntags, tags, ntags * sizeof(char *));
				old->ntags += ntags;
				free(tags);
			}
			tags = NULL;
			ntags = 0;
		}
		if (modes[RK_EXCEPTIONS] && exc)
			add_exceptions(old, exc);
		if (modes[RK_ENABLED])
			old->enabled = enabled;
		if (modes[RK_SOURCE]) {
			free(old->source);
			old->source = vg_xstrdup(scalar(n[RK_SOURCE]));
		}
		if (modes[RK_WARN])
			old->warn_evttypes = warn;
		if (modes[RK_SKIP])
			old->skip_if_unknown_filter = skip;
		goto out;
	}

	static const int required[] = {RK_CONDITION, RK_OUTPUT, RK_DESC, RK_PRIORITY};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!n[required[i]]) {
			lerr(l, item, name, "rule has no '%s'", rule_keys[required[i]]);
			goto out;
		}
	struct vg_rule_def *r = vg_xcalloc(1, sizeof(*r));
	r->name = vg_xstrdup(name);
	r->pos = node_pos(l, item);
	r->cond = text_of(l, n[RK_CONDITION]);
	r->output = output_of(l, n[RK_OUTPUT]);
	r->desc = vg_xstrdup(scalar(n[RK_DESC]));
	r->source = vg_xstrdup(n[RK_SOURCE] ? scalar(n[RK_SOURCE]) : "syscall");
	r->priority = prio;
	r->tags = tags ? tags : vg_xcalloc(1, sizeof(char *));
	r->ntags = ntags;
	tags = NULL;
	ntags = 0;
	r->enabled = enabled;
	r->warn_evttypes = warn;
	r->skip_if_unknown_filter = skip;
	if (exc)
		add_exceptions(r, exc);
	if (strcmp(r->source, "syscall"))
		lwarn(l, n[RK_SOURCE], name, "source '%s' is not evaluated by vigil (only syscall)",
		      r->source);
	if (old) { /* a later definition replaces the earlier, in its place */
		for (size_t i = 0; i < l->rs->nrules; i++)
			if (l->rs->rules[i] == old)
				l->rs->rules[i] = r;
		rule_free(old);
	} else {
		if (l->rs->nrules == l->rs->caprules)
			l->rs->rules = vg_xrealloc(l->rs->rules,
						   (l->rs->caprules = l->rs->caprules * 2 + 16) *
							   sizeof(*l->rs->rules));
		l->rs->rules[l->rs->nrules++] = r;
	}
out:
	free(exc);
	free_strv(tags, ntags);
}

static void load_item(struct loader *l, yaml_node_t *item)
{
	if (item->type != YAML_MAPPING_NODE) {
		lerr(l, item, NULL, "each item must be a mapping (rule, macro, list, ...)");
		return;
	}
	const char *kinds[] = {"rule", "macro", "list"};
	for (int k = 0; k < 3; k++) {
		yaml_node_t *nm = get(l, item, kinds[k]);
		if (!nm)
			continue;
		const char *name = scalar(nm);
		if (!name || !*name) {
			lerr(l, nm, NULL, "%s name must be a non-empty string", kinds[k]);
			return;
		}
		char *item_name = vg_xstrdup(name);
		l->kind = kinds[k];
		if (k == 0)
			load_rule(l, item, item_name);
		else if (k == 1)
			load_macro(l, item, item_name);
		else
			load_list(l, item, item_name);
		free(item_name);
		return;
	}
	if (get(l, item, "required_engine_version") || get(l, item, "required_plugin_versions"))
		return; /* accepted: vigil evaluates the syscall source only */
	yaml_node_pair_t *p = item->data.mapping.pairs.start;
	const char *k = p < item->data.mapping.pairs.top
				? scalar(yaml_document_get_node(&l->doc, p->key))
				: NULL;
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
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &l.doc)) {
		vg_diag_add(d, 1, l.file, (int)parser.problem_mark.line + 1,
			    (int)parser.problem_mark.column + 1, "invalid YAML: %s%s%s",
			    parser.problem ? parser.problem : "syntax error",
			    parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return 1;
	}
	yaml_node_t *root = yaml_document_get_root_node(&l.doc);
	if (root && root->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = root->data.sequence.items.start;
		     it < root->data.sequence.items.top; it++)
			load_item(&l, yaml_document_get_node(&l.doc, *it));
	} else if (root && !(root->type == YAML_SCALAR_NODE && !*root->data.scalar.value)) {
		lerr(&l, root, NULL, "a rules file must be a list of items");
	}
	yaml_document_delete(&l.doc);
	yaml_parser_delete(&parser);
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
