/* rules_yaml.c - reading items from libyaml's document: nodes, keys,
 * booleans, string lists, `append`/`override`, diagnostics at a node, and
 * conditions and outputs as texts that keep their exact positions.  Part of
 * the rules loader: see rules.c and rules_int.h.
 */
#include "rules_int.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- YAML --------------------------------------------------------------- */

static size_t byte_at(const struct loader *l, size_t index)
{
	if (!l->cmap)
		return index < l->srclen ? index : l->srclen;
	return index < l->nchars ? l->cmap[index] : l->srclen;
}

void rl_build_cmap(struct loader *l)
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

struct vg_pos rl_node_pos(const struct loader *l, const yaml_node_t *n)
{
	struct vg_pos p = {l->file, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
	return p;
}

static void ldiag(struct loader *l, int error, const yaml_node_t *n, const char *item,
		  const char *fmt, va_list ap)
{
	char msg[900];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	struct vg_pos p = rl_node_pos(l, n);
	if (item)
		vg_diag_add(l->d, error, l->file, p.line, p.col, "%s (%s '%s')", msg, l->kind,
			    item);
	else
		vg_diag_add(l->d, error, l->file, p.line, p.col, "%s", msg);
	l->errors += error;
}

void rl_lerr(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ldiag(l, 1, n, item, fmt, ap);
	va_end(ap);
}

void rl_lwarn(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ldiag(l, 0, n, item, fmt, ap);
	va_end(ap);
}

yaml_node_t *rl_node(struct loader *l, int id)
{
	return yaml_document_get_node(&l->doc, id);
}

const char *rl_scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

yaml_node_t *rl_get(struct loader *l, yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const char *k = rl_scalar(rl_node(l, p->key));
		if (k && !strcmp(k, key))
			return rl_node(l, p->value);
	}
	return NULL;
}

size_t rl_seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *rl_seq_at(struct loader *l, yaml_node_t *n, size_t i)
{
	return rl_node(l, n->data.sequence.items.start[i]);
}

int rl_in_strs(const char *const *v, const char *s)
{
	for (; *v; v++)
		if (!strcmp(*v, s))
			return 1;
	return 0;
}

/* The keys of a mapping are known ones, each once. */
int rl_check_keys(struct loader *l, yaml_node_t *map, const char *const *known, const char *what,
		  const char *item)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = rl_node(l, p->key);
		const char *k = rl_scalar(kn);
		if (!k || !rl_in_strs(known, k)) {
			rl_lerr(l, kn, item, "unknown key '%s' in %s", k ? k : "?", what);
			return -1;
		}
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++)
			if (!strcmp(k, rl_scalar(rl_node(l, q->key)))) {
				rl_lerr(l, kn, item, "duplicate key '%s' in %s", k, what);
				return -1;
			}
	}
	return 0;
}

int rl_want_scalar(struct loader *l, yaml_node_t *n, const char *key, const char *item)
{
	if (n->type == YAML_SCALAR_NODE)
		return 0;
	rl_lerr(l, n, item, "'%s' must be a string", key);
	return -1;
}

int rl_get_bool(struct loader *l, yaml_node_t *n, const char *key, const char *item, bool *out)
{
	const char *s = rl_scalar(n);
	if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on")))
		return *out = true, 0;
	if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off")))
		return *out = false, 0;
	rl_lerr(l, n, item, "'%s' must be true or false", key);
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
struct vg_text rl_cond_text(struct loader *l, yaml_node_t *n)
{
	struct vg_pos pos = rl_node_pos(l, n);
	size_t a = byte_at(l, n->start_mark.index), b = byte_at(l, n->end_mark.index);
	const char *v = (const char *)n->data.scalar.value;
	if (a <= b && b <= l->srclen) {
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return rl_text_make(l->src + a, b - a, pos);
		if (is_block(n)) {
			const char *nl = memchr(l->src + a, '\n', b - a);
			if (nl) {
				size_t off = (size_t)(nl + 1 - l->src);
				pos.line++;
				pos.col = 1;
				return rl_text_make(l->src + off, b - off, pos);
			}
		}
	}
	if (is_quoted(n))
		pos.col++;
	return rl_text_make(v, strlen(v), pos);
}

static bool is_field_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

/* An output: the YAML value without surrounding whitespace (folding joins
 * its lines with spaces).  Each %field in it is tied to where it is written,
 * found by counting '%' in the raw source, which folding does not change. */
struct vg_text rl_output_text(struct loader *l, yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;
	size_t vlen = strlen(v), lead = 0;
	while (lead < vlen && isspace((unsigned char)v[lead]))
		lead++;
	while (vlen > lead && isspace((unsigned char)v[vlen - 1]))
		vlen--;

	struct vg_pos start = rl_node_pos(l, n);
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
	rl_tb_seg(&t, start, false);
	size_t m = 0, from = lead;
	for (size_t i = lead; i < vlen; i++) {
		if (v[i] != '%' || !is_field_char(v[i + 1]))
			continue;
		if (nmarks == want && m < nmarks) {
			rl_tb_put(&t, v + from, i - from);
			from = i;
			rl_tb_seg(&t, marks[m], false);
		}
		m++;
	}
	rl_tb_put(&t, v + from, vlen - from);
	free(marks);
	return rl_tb_take(&t);
}

char *rl_trimmed_value(yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;
	size_t len = strlen(v);
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	while (len && isspace((unsigned char)*v))
		v++, len--;
	return vg_xstrndup(v, len);
}

char **rl_strings_of(struct loader *l, yaml_node_t *n, const char *key, const char *item,
		     size_t *count)
{
	*count = 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		rl_lerr(l, n, item, "'%s' must be a list", key);
		return NULL;
	}
	char **v = vg_xcalloc(rl_seq_len(n) + 1, sizeof(char *));
	for (size_t i = 0; i < rl_seq_len(n); i++) {
		yaml_node_t *e = rl_seq_at(l, n, i);
		if (e->type != YAML_SCALAR_NODE) {
			rl_lerr(l, e, item, "items of '%s' must be strings", key);
			rl_free_strv(v, *count);
			*count = 0;
			return NULL;
		}
		v[(*count)++] = vg_xstrdup(rl_scalar(e));
	}
	return v;
}

/* override: {key: append|replace}.  Fills modes (1 append, 2 replace) for
 * the keys of `keys`; `appendable` are those that may be appended to. */
static int parse_override(struct loader *l, yaml_node_t *ov, const char *item,
			  const char *const *keys, const char *const *appendable, int *modes)
{
	if (ov->type != YAML_MAPPING_NODE) {
		rl_lerr(l, ov, item, "'override' must be a mapping of key: append|replace");
		return -1;
	}
	if (rl_check_keys(l, ov, keys, "override", item))
		return -1;
	for (yaml_node_pair_t *p = ov->data.mapping.pairs.start; p < ov->data.mapping.pairs.top;
	     p++) {
		const char *ks = rl_scalar(rl_node(l, p->key));
		yaml_node_t *v = rl_node(l, p->value);
		const char *vs = rl_scalar(v);
		int idx = 0;
		while (strcmp(keys[idx], ks))
			idx++;
		if (vs && !strcmp(vs, "append") && rl_in_strs(appendable, ks))
			modes[idx] = 1;
		else if (vs && !strcmp(vs, "replace"))
			modes[idx] = 2;
		else {
			rl_lerr(l, v, item, "'override' of '%s' must be %s", ks,
				rl_in_strs(appendable, ks) ? "append or replace" : "replace");
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
		yaml_node_t *kn = rl_node(l, p->key);
		const char *k = rl_scalar(kn);
		if (!strcmp(k, l->kind) || !strcmp(k, "override") || !strcmp(k, "append"))
			continue; /* `append: true` with override was refused before */
		int idx = -1;
		for (int i = 0; keys[i]; i++)
			if (!strcmp(keys[i], k))
				idx = i;
		if (idx < 0 || !modes[idx]) {
			rl_lerr(l, kn, name,
				"'%s' is not under 'override' (add '%s: append' or '%s: replace')",
				k, k, k);
			return -1;
		}
	}
	for (int i = 0; keys[i]; i++)
		if (modes[i] && !rl_get(l, item, keys[i])) {
			rl_lerr(l, ov, name, "'override' names '%s', which this item does not set",
				keys[i]);
			return -1;
		}
	return 0;
}

/* The item's `append` and `override`, which exclude each other: *append,
 * *ov (NULL when absent) and modes (see parse_override).  -1 (reported) when
 * invalid. */
int rl_read_modifiers(struct loader *l, yaml_node_t *item, const char *name,
		      const char *const *keys, const char *const *appendable, int *modes,
		      bool *append, yaml_node_t **ov)
{
	*append = false;
	yaml_node_t *a = rl_get(l, item, "append");
	if (a && rl_get_bool(l, a, "append", name, append))
		return -1;
	*ov = rl_get(l, item, "override");
	if (*ov && *append) {
		rl_lerr(l, *ov, name, "'override' and 'append: true' cannot be used together");
		return -1;
	}
	if (*ov && (parse_override(l, *ov, name, keys, appendable, modes) ||
		    check_override_keys(l, item, *ov, keys, modes, name)))
		return -1;
	return 0;
}
