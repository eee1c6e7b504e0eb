/* rules_set.c - the rule set: its items, look-ups (falling back to a parent
 * set) and lists with their nested lists expanded.  Part of the rules
 * loader: see rules.c and rules_int.h.
 */
#include "rules_int.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the rule set ------------------------------------------------------- */

struct rule_slot *rl_slot_of(struct vg_rule_def *r)
{
	return (struct rule_slot *)r;
}

struct vg_ruleset *vg_ruleset_new(void)
{
	return vg_xcalloc(1, sizeof(struct vg_ruleset));
}

void rl_free_strv(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void rl_exc_free(struct exc *e)
{
	free(e->name);
	rl_free_strv(e->fields, e->nf);
	free(e->fpos);
	rl_free_strv(e->comps, e->comps ? e->nf : 0);
	free(e->cpos);
	for (size_t i = 0; i < e->nterms; i++)
		rl_text_free(&e->terms[i]);
	free(e->terms);
	memset(e, 0, sizeof(*e));
}

void rl_exc_free_all(struct exc *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rl_exc_free(&v[i]);
	free(v);
}

void rl_rule_free(struct vg_rule_def *r)
{
	struct rule_slot *s = rl_slot_of(r);
	free(r->name);
	rl_text_free(&r->cond);
	rl_text_free(&r->output);
	free(r->desc);
	free(r->source);
	rl_free_strv(r->tags, r->ntags);
	rl_text_free(&s->base);
	rl_exc_free_all(s->exc, s->nexc);
	free(s);
}

void rl_list_uncache(struct vg_ruleset *rs)
{
	if (!rs->cached)
		return; /* (loading each list calls this: keep it O(1) then) */
	rs->cached = false;
	for (size_t i = 0; i < rs->nlists; i++) {
		free(rs->lists[i]->expanded);
		rs->lists[i]->expanded = NULL;
		rs->lists[i]->too_large = false;
	}
}

void vg_ruleset_free(struct vg_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nrules; i++)
		rl_rule_free(rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; i < rs->nmacros; i++) {
		free(rs->macros[i]->name);
		rl_text_free(&rs->macros[i]->cond);
		free(rs->macros[i]);
	}
	free(rs->macros);
	rl_list_uncache(rs);
	for (size_t i = 0; i < rs->nlists; i++) {
		free(rs->lists[i]->def.name);
		rl_free_strv(rs->lists[i]->def.items, rs->lists[i]->def.n);
		free(rs->lists[i]);
	}
	free(rs->lists);
	rl_free_strv(rs->files, rs->nfiles);
	free(rs->rule_ix.slots);
	free(rs->macro_ix.slots);
	free(rs->list_ix.slots);
	free(rs);
}

/* ---- names: each kind of item hashed by name (a file may define hundreds
 * of thousands: a search through them per item made loading quadratic) */

typedef const char *(*name_of_fn)(const struct vg_ruleset *rs, size_t i);

static const char *rule_name(const struct vg_ruleset *rs, size_t i)
{
	return rs->rules[i]->name;
}

static const char *macro_name(const struct vg_ruleset *rs, size_t i)
{
	return rs->macros[i]->name;
}

static const char *list_name(const struct vg_ruleset *rs, size_t i)
{
	return rs->lists[i]->def.name;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static long ix_find(const struct vg_ruleset *rs, const struct name_ix *ix, name_of_fn name_of,
		    const char *name)
{
	if (!ix->slots)
		return -1;
	for (uint32_t h = name_hash(name) & ix->mask; ix->slots[h]; h = (h + 1) & ix->mask)
		if (!strcmp(name_of(rs, ix->slots[h] - 1), name))
			return (long)ix->slots[h] - 1;
	return -1;
}

static void ix_put(const struct vg_ruleset *rs, struct name_ix *ix, name_of_fn name_of, size_t i)
{
	uint32_t h = name_hash(name_of(rs, i)) & ix->mask;
	while (ix->slots[h])
		h = (h + 1) & ix->mask;
	ix->slots[h] = (uint32_t)i + 1;
}

/* Item n - 1 (a new name) was appended: index it, growing at half full. */
static void ix_add(const struct vg_ruleset *rs, struct name_ix *ix, name_of_fn name_of, size_t n)
{
	if (n * 2 <= ix->mask) {
		ix_put(rs, ix, name_of, n - 1);
		return;
	}
	uint32_t cap = ix->mask ? (ix->mask + 1) * 2 : 64;
	free(ix->slots);
	ix->slots = vg_xcalloc(cap, sizeof(uint32_t));
	ix->mask = cap - 1;
	for (size_t i = 0; i < n; i++)
		ix_put(rs, ix, name_of, i);
}

long rl_rule_index(const struct vg_ruleset *rs, const char *name)
{
	return ix_find(rs, &rs->rule_ix, rule_name, name);
}

struct vg_rule_def *rl_find_rule(const struct vg_ruleset *rs, const char *name)
{
	long i = rl_rule_index(rs, name);
	return i < 0 ? NULL : rs->rules[i];
}

struct vg_macro_def *rl_find_macro(const struct vg_ruleset *rs, const char *name)
{
	long i = ix_find(rs, &rs->macro_ix, macro_name, name);
	return i < 0 ? NULL : rs->macros[i];
}

struct list_slot *rl_find_list(const struct vg_ruleset *rs, const char *name)
{
	long i = ix_find(rs, &rs->list_ix, list_name, name);
	return i < 0 ? NULL : rs->lists[i];
}

void rl_add_rule(struct vg_ruleset *rs, struct vg_rule_def *r)
{
	if (rs->nrules == rs->caprules)
		rs->rules = vg_xrealloc(rs->rules, (rs->caprules = rs->caprules * 2 + 16) *
							   sizeof(*rs->rules));
	rs->rules[rs->nrules++] = r;
	ix_add(rs, &rs->rule_ix, rule_name, rs->nrules);
}

void rl_add_macro(struct vg_ruleset *rs, struct vg_macro_def *m)
{
	if (rs->nmacros == rs->capmacros)
		rs->macros = vg_xrealloc(rs->macros, (rs->capmacros = rs->capmacros * 2 + 16) *
							     sizeof(*rs->macros));
	rs->macros[rs->nmacros++] = m;
	ix_add(rs, &rs->macro_ix, macro_name, rs->nmacros);
}

void rl_add_list(struct vg_ruleset *rs, struct list_slot *l)
{
	if (rs->nlists == rs->caplists)
		rs->lists = vg_xrealloc(rs->lists, (rs->caplists = rs->caplists * 2 + 16) *
							   sizeof(*rs->lists));
	rs->lists[rs->nlists++] = l;
	ix_add(rs, &rs->list_ix, list_name, rs->nlists);
}

size_t vg_ruleset_rules(const struct vg_ruleset *rs, const struct vg_rule_def *const **out)
{
	*out = (const struct vg_rule_def *const *)rs->rules;
	return rs->nrules;
}

void vg_ruleset_set_parent(struct vg_ruleset *rs, struct vg_ruleset *parent)
{
	rs->parent = parent;
	rl_list_uncache(rs);
}

const struct vg_macro_def *vg_ruleset_macro(const struct vg_ruleset *rs, const char *name)
{
	for (; rs; rs = rs->parent) {
		const struct vg_macro_def *m = rl_find_macro(rs, name);
		if (m)
			return m;
	}
	return NULL;
}

const struct vg_list_def *vg_ruleset_list(const struct vg_ruleset *rs, const char *name)
{
	struct list_slot *l = rl_find_list(rs, name);
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

/* A list's items with its nested lists expanded, within a budget: items
 * put out, and items visited (nested empty lists expand to nothing but
 * still cost their visit). */
struct expansion {
	const char **out;
	size_t n, cap;
	size_t visits;
	bool over;
};

static void expand_into(struct vg_ruleset *rs, struct list_slot *l, struct expansion *x)
{
	l->expanding = 1;
	for (size_t i = 0; i < l->def.n && !x->over; i++) {
		if (++x->visits > VG_RULES_MAX_LIST_VISITS) {
			x->over = true;
			break;
		}
		struct list_slot *sub = rl_find_list(rs, l->def.items[i]);
		if (sub && !sub->expanding) {
			expand_into(rs, sub, x);
			continue;
		}
		const char *const *pitems = NULL;
		int np = sub || !rs->parent
				 ? -1
				 : vg_ruleset_list_items(rs->parent, l->def.items[i], &pitems);
		if (np < -1 || x->n + (size_t)(np < 0 ? 1 : np) > VG_COND_MAX_ITEMS) {
			x->over = true;
			break;
		}
		for (int k = 0; k < (np < 0 ? 1 : np); k++) {
			if (x->n == x->cap)
				x->out = vg_xrealloc(x->out, (x->cap = x->cap ? x->cap * 2 : 16) *
								     sizeof(char *));
			x->out[x->n++] = np < 0 ? l->def.items[i] : pitems[k];
		}
	}
	l->expanding = 0;
}

int vg_ruleset_list_items(struct vg_ruleset *rs, const char *name, const char *const **items)
{
	struct list_slot *l = rl_find_list(rs, name);
	if (!l)
		return rs->parent ? vg_ruleset_list_items(rs->parent, name, items) : -1;
	if (!l->expanded && !l->too_large) {
		rs->cached = true;
		struct expansion x = {0};
		expand_into(rs, l, &x);
		if (x.over) {
			free(x.out);
			l->too_large = true;
		} else {
			l->expanded = x.out ? x.out : vg_xcalloc(1, sizeof(char *));
			l->nexp = x.n;
		}
	}
	if (l->too_large)
		return -2;
	*items = l->expanded;
	return (int)l->nexp;
}
