/* rules_set.c - the rule set: its items, look-ups (falling back to a parent
 * set) and lists with their nested lists expanded.  Part of the rules
 * loader: see rules.c and rules_int.h.
 */
#include "rules_int.h"
#include "util.h"

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
	free(rs);
}

struct vg_rule_def *rl_find_rule(const struct vg_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->nrules; i++)
		if (!strcmp(rs->rules[i]->name, name))
			return rs->rules[i];
	return NULL;
}

struct vg_macro_def *rl_find_macro(const struct vg_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->nmacros; i++)
		if (!strcmp(rs->macros[i]->name, name))
			return rs->macros[i];
	return NULL;
}

struct list_slot *rl_find_list(const struct vg_ruleset *rs, const char *name)
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
