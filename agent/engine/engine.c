/* engine.c - see engine.h. */
#include "engine.h"
#include "sysreg.h"
#include "util.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A namespace's tenant rules: its own index by event type, evaluated one
 * rule at a time so that each rule's time is its own. */
struct tier {
	char *ns;
	uint32_t start[VG_T_MAX + 1]; /* offsets into idx */
	const struct vg_rule **idx;
	/* the current second: its start and what the tier spent in it */
	_Atomic uint64_t win_start, win_ns;
};

/* live: written by the evaluating thread alone (a load and a store, no
 * locked add); base: what earlier engines counted for the same object,
 * added by another thread (vg_engine_rule_cost_add) while this engine
 * runs, so kept apart from the live counts. */
struct cost {
	_Atomic uint64_t events, ns, throttled;
	_Atomic uint64_t base_events, base_ns, base_throttled;
};

struct vg_engine {
	struct vg_cond_fieldset *fields; /* shared by every rule's condition */
	struct vg_rule *rules;		 /* compiled rules, enabled or not */
	size_t nrules;
	/* per event type, the enabled rules that can match it (load order) */
	uint32_t *idx_start; /* VG_T_MAX + 1 offsets into idx */
	const struct vg_rule **idx;
	const struct vg_cond **idx_cond; /* idx[i]->cond, without touching the rule */
	/* per event type, its rules by 64 (idx_start[t] + 64 j ...): the
	 * rules an event can still match, from comparisons they share */
	struct vg_cond_group **groups; /* ngroups_before[t] + j */
	uint32_t *group_start;	       /* VG_T_MAX + 1 offsets into groups */
	struct vg_engine_stats stats;
	vg_scope_fn scope_fn;
	struct tier *tiers; /* by namespace, sorted */
	size_t ntiers;
	struct cost *cost; /* per rule */
	vg_tenant_fn ns_fn;
	uint64_t budget_ns;
};

/* Conditions and outputs are compiled from {text, 1, 1}, with the text's own
 * address as the "file": an error position whose file is a text we handed
 * out is mapped back through that text's segments to where it was written
 * (appended conditions, exception terms and macros may come from several
 * places and files). */
struct env_warn {
	struct vg_pos pos;
	char *msg;
};

struct env_ctx {
	struct vg_ruleset *rs;
	unsigned src;		     /* VG_FSRC_* of the rule being compiled */
	bool confined;		     /* a namespaced Rule's: vg_field_confine */
	const struct vg_text **seen; /* macros handed to the compiler */
	size_t nseen, capseen;
	struct env_warn *warns; /* the compiler's warnings on the current rule */
	size_t nwarn, capwarn;
};

static void env_warn(void *ctx, const struct vg_pos *pos, const char *msg)
{
	struct env_ctx *e = ctx;
	if (e->nwarn == e->capwarn)
		e->warns = vg_xrealloc(e->warns,
				       (e->capwarn = e->capwarn * 2 + 4) * sizeof(*e->warns));
	e->warns[e->nwarn++] = (struct env_warn){*pos, vg_xstrdup(msg)};
}

static const char *env_macro(void *ctx, const char *name, struct vg_pos *pos)
{
	struct env_ctx *e = ctx;
	const struct vg_macro_def *m = vg_ruleset_macro(e->rs, name);
	if (!m)
		return NULL;
	if (e->nseen == e->capseen)
		e->seen =
			vg_xrealloc(e->seen, (e->capseen = e->capseen * 2 + 16) * sizeof(*e->seen));
	e->seen[e->nseen++] = &m->cond;
	*pos = (struct vg_pos){m->cond.text, 1, 1};
	return m->cond.text;
}

/* A rule reads only the fields of its source: another source's field is
 * unknown to it (and skip-if-unknown-filter applies), as in Falco. */
static const struct vg_field *env_field(void *ctx, const char *name, size_t len,
					struct vg_farg *arg, size_t *keylen)
{
	struct env_ctx *e = ctx;
	const struct vg_field *f = vg_field_find(name, len, arg, keylen);
	if (!f || !(vg_field_sources(f) & e->src))
		return NULL;
	return e->confined ? vg_field_confine(f) : f;
}

static int env_list(void *ctx, const char *name, const char *const **items)
{
	struct env_ctx *e = ctx;
	return vg_ruleset_list_items(e->rs, name, items);
}

static struct vg_pos where_in(const struct vg_text *t)
{
	return (struct vg_pos){t->text, 1, 1};
}

static struct vg_pos locate(const struct env_ctx *e, const struct vg_text *own,
			    const struct vg_pos *p, const struct vg_rule_def *def)
{
	if (p->file == own->text)
		return vg_text_locate(own, p->line, p->col);
	for (size_t i = 0; i < e->nseen; i++)
		if (p->file == e->seen[i]->text)
			return vg_text_locate(e->seen[i], p->line, p->col);
	return p->file ? *p : def->pos;
}

/* The compiler's warnings on def, as diagnostics where they were written
 * when the condition compiled (an error says enough otherwise). */
static void flush_warnings(struct env_ctx *e, const struct vg_rule_def *def, bool compiled,
			   struct vg_diag *d)
{
	for (size_t i = 0; i < e->nwarn; i++) {
		if (compiled) {
			struct vg_pos p = locate(e, &def->cond, &e->warns[i].pos, def);
			vg_diag_add(d, 0, p.file, p.line, p.col, "%s (rule '%s')", e->warns[i].msg,
				    def->name);
		}
		free(e->warns[i].msg);
	}
	e->nwarn = 0;
}

/* What skip-if-unknown-filter skips: a name that is no field (and, when
 * nothing follows it, no macro either). */
static int is_unknown_filter(const struct vg_cond_err *err)
{
	return err->kind == VG_CERR_UNKNOWN_FIELD || err->kind == VG_CERR_UNKNOWN_MACRO;
}

struct vg_engine *vg_engine_build(struct vg_ruleset *rs, struct vg_diag *d)
{
	struct vg_engine_src src = {.rs = rs};
	return vg_engine_build_multi(&src, 1, NULL, d);
}

/* Compile the rules of one source into e->rules (active[] set per rule). */
static void build_src(struct vg_engine *e, struct vg_engine_src *src, uint8_t *active,
		      struct vg_diag *d)
{
	struct vg_ruleset *rs = src->rs;
	const struct vg_rule_def *const *defs;
	size_t n = vg_ruleset_rules(rs, &defs);
	e->stats.rules_total += n;
	e->stats.macros += vg_ruleset_count_macros(rs);
	e->stats.lists += vg_ruleset_count_lists(rs);
	struct env_ctx ctx = {rs, 0, src->confined, NULL, 0, 0, NULL, 0, 0};
	struct vg_cond_env env = {&ctx, env_macro, env_list, env_field, NULL, e->fields, env_warn};
	src->diag_begin = d->n;
	size_t failed0 = e->stats.rules_failed, skipped0 = e->stats.rules_skipped;
	size_t nrules0 = e->nrules;
	for (size_t i = 0; i < n; i++) {
		const struct vg_rule_def *def = defs[i];
		ctx.src = vg_fsrc_by_name(def->source);
		if (!ctx.src) { /* a source vigil has no events of */
			e->stats.rules_skipped++;
			continue;
		}
		/* audit events have no namespace of a tenant's own: they are
		 * the k8s_audit rule set's, never a namespaced Rule's */
		if (src->tenant && ctx.src != VG_FSRC_SYSCALL) {
			vg_diag_add(d, 1, def->pos.file, def->pos.line, def->pos.col,
				    "source %s is not allowed in a namespaced Rule (only syscall) "
				    "(rule '%s')",
				    def->source, def->name);
			e->stats.rules_failed++;
			continue;
		}
		struct vg_cond_err err;
		struct vg_pos at = where_in(&def->cond);
		ctx.nseen = 0;
		struct vg_cond *c = vg_cond_compile(def->cond.text, &at, &env, &err);
		flush_warnings(&ctx, def, c != NULL, d);
		if (!c) {
			struct vg_pos p = locate(&ctx, &def->cond, &err.pos, def);
			if (def->skip_if_unknown_filter && is_unknown_filter(&err)) {
				vg_diag_add(d, 0, p.file, p.line, p.col,
					    "%s: rule skipped (skip-if-unknown-filter) (rule '%s')",
					    err.msg, def->name);
				e->stats.rules_skipped++;
				continue;
			}
			vg_diag_add(d, 1, p.file, p.line, p.col, "%s (rule '%s')", err.msg,
				    def->name);
			e->stats.rules_failed++;
			continue;
		}
		at = where_in(&def->output);
		struct vg_output *out =
			vg_output_compile_in(def->output.text, &at, src->confined, &err);
		const char *foreign = out ? vg_output_foreign(out, ctx.src) : NULL;
		if (foreign) {
			err.pos = def->output.pos;
			snprintf(err.msg, sizeof(err.msg),
				 "output field '%%%s' is not a field of source %s", foreign,
				 def->source);
			vg_output_free(out);
			out = NULL;
		}
		if (!out) {
			struct vg_pos p = locate(&ctx, &def->output, &err.pos, def);
			vg_diag_add(d, 1, p.file, p.line, p.col, "%s (rule '%s')", err.msg,
				    def->name);
			vg_cond_free(c);
			e->stats.rules_failed++;
			continue;
		}
		struct vg_rule *r = &e->rules[e->nrules];
		r->name = vg_xstrdup(def->name);
		r->desc = vg_xstrdup(def->desc);
		r->source = vg_xstrdup(def->source);
		r->priority = def->priority;
		char **tags = vg_xcalloc(def->ntags + 1, sizeof(char *));
		for (size_t t = 0; t < def->ntags; t++)
			tags[t] = vg_xstrdup(def->tags[t]);
		r->tags = (const char *const *)tags;
		r->ntags = def->ntags;
		r->cond = c;
		r->out = out;
		r->index = e->nrules;
		r->scope = src->scope;
		r->tenant = src->tenant ? vg_xstrdup(src->tenant) : NULL;
		r->origin = src->origin;
		vg_cond_evttypes(c, r->types);
		r->types[VG_T_PROCSNAP] = 0; /* /proc snapshots only seed the state */
		/* the rule sets per source: an audit rule is indexed under the
		 * audit event type alone, a syscall rule never under it */
		if (ctx.src == VG_FSRC_K8S_AUDIT) {
			memset(r->types, 0, sizeof(r->types));
			r->types[VG_T_AUDIT] = 1;
		}
		r->types[VG_T_AUDIT] = ctx.src == VG_FSRC_K8S_AUDIT;
		int all = ctx.src == VG_FSRC_SYSCALL;
		for (int t = 0; t < VG_NR_MAX && all; t++)
			if (vg_syscall_desc(t) && !r->types[t])
				all = 0;
		if (all && def->warn_evttypes)
			vg_diag_add(d, 0, def->pos.file, def->pos.line, def->pos.col,
				    "rule '%s' does not restrict evt.type: it is evaluated on "
				    "every event",
				    def->name);
		active[e->nrules] = def->enabled;
		r->enabled = def->enabled;
		if (def->enabled)
			e->stats.rules_enabled++;
		else
			e->stats.rules_disabled++;
		e->nrules++;
	}

	free(ctx.seen);
	free(ctx.warns);
	src->compiled = e->nrules - nrules0;
	src->failed = e->stats.rules_failed - failed0;
	src->skipped = e->stats.rules_skipped - skipped0;
	src->diag_end = d->n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const struct tier *find_tier(const struct vg_engine *e, const char *ns);

/* One tier per namespace of the enabled tenant rules.  Each rule's tier is
 * looked up once: thousands of namespaces' Rules must not make a build
 * (a reload) take namespaces x rules x event types string compares. */
static void build_tiers(struct vg_engine *e, const uint8_t *active)
{
	size_t n = e->nrules;
	e->cost = vg_xcalloc(n ? n : 1, sizeof(*e->cost));
	const char **names = vg_xcalloc(n ? n : 1, sizeof(*names));
	size_t nn = 0;
	for (size_t i = 0; i < n; i++)
		if (active[i] && e->rules[i].tenant)
			names[nn++] = e->rules[i].tenant;
	qsort(names, nn, sizeof(*names), cmp_str);
	for (size_t j = 0; j < nn; j++) {
		if (j && !strcmp(names[j], names[j - 1]))
			continue;
		e->tiers = vg_xrealloc(e->tiers, (e->ntiers + 1) * sizeof(*e->tiers));
		memset(&e->tiers[e->ntiers], 0, sizeof(*e->tiers));
		e->tiers[e->ntiers++].ns = vg_xstrdup(names[j]);
	}
	free(names);
	/* each tier's rules in load order: order[first[k] .. first[k + 1]) */
	size_t *tier_of = vg_xcalloc(n ? n : 1, sizeof(*tier_of));
	size_t *first = vg_xcalloc(e->ntiers + 1, sizeof(*first));
	size_t *order = vg_xcalloc(nn ? nn : 1, sizeof(*order));
	for (size_t i = 0; i < n; i++) {
		tier_of[i] = SIZE_MAX;
		if (active[i] && e->rules[i].tenant) {
			tier_of[i] = (size_t)(find_tier(e, e->rules[i].tenant) - e->tiers);
			first[tier_of[i] + 1]++;
		}
	}
	for (size_t k = 0; k < e->ntiers; k++)
		first[k + 1] += first[k];
	size_t *fill = vg_xcalloc(e->ntiers + 1, sizeof(*fill));
	memcpy(fill, first, e->ntiers * sizeof(*fill));
	for (size_t i = 0; i < n; i++)
		if (tier_of[i] != SIZE_MAX)
			order[fill[tier_of[i]]++] = i;
	for (size_t k = 0; k < e->ntiers; k++) {
		struct tier *tr = &e->tiers[k];
		size_t total = 0;
		for (int t = 0; t < VG_T_MAX; t++) {
			tr->start[t] = (uint32_t)total;
			for (size_t j = first[k]; j < first[k + 1]; j++)
				total += e->rules[order[j]].types[t] != 0;
		}
		tr->start[VG_T_MAX] = (uint32_t)total;
		tr->idx = vg_xcalloc(total ? total : 1, sizeof(*tr->idx));
		size_t m = 0;
		for (int t = 0; t < VG_T_MAX; t++)
			for (size_t j = first[k]; j < first[k + 1]; j++)
				if (e->rules[order[j]].types[t])
					tr->idx[m++] = &e->rules[order[j]];
	}
	free(tier_of);
	free(first);
	free(order);
	free(fill);
}

struct vg_engine *vg_engine_build_multi(struct vg_engine_src *src, size_t nsrc,
					vg_scope_fn scope_fn, struct vg_diag *d)
{
	struct vg_engine *e = vg_xcalloc(1, sizeof(*e));
	size_t n = 0;
	for (size_t i = 0; i < nsrc; i++) {
		const struct vg_rule_def *const *defs;
		n += vg_ruleset_rules(src[i].rs, &defs);
	}
	e->rules = vg_xcalloc(n ? n : 1, sizeof(struct vg_rule));
	e->fields = vg_cond_fieldset_new();
	e->scope_fn = scope_fn;
	uint8_t *active = vg_xcalloc(n ? n : 1, 1);
	for (size_t i = 0; i < nsrc; i++)
		build_src(e, &src[i], active, d);

	/* the index, as offsets: idx[idx_start[t] .. idx_start[t+1]) */
	e->idx_start = vg_xcalloc(VG_T_MAX + 1, sizeof(uint32_t));
	size_t total = 0;
	for (int t = 0; t < VG_T_MAX; t++) {
		e->idx_start[t] = (uint32_t)total;
		for (size_t i = 0; i < e->nrules; i++)
			total += active[i] && !e->rules[i].tenant && e->rules[i].types[t];
	}
	e->idx_start[VG_T_MAX] = (uint32_t)total;
	e->idx = vg_xcalloc(total ? total : 1, sizeof(*e->idx));
	e->idx_cond = vg_xcalloc(total ? total : 1, sizeof(*e->idx_cond));
	size_t k = 0;
	for (int t = 0; t < VG_T_MAX; t++)
		for (size_t i = 0; i < e->nrules; i++)
			if (active[i] && !e->rules[i].tenant && e->rules[i].types[t]) {
				e->idx_cond[k] = e->rules[i].cond;
				e->idx[k++] = &e->rules[i];
			}
	build_tiers(e, active);
	free(active);

	e->group_start = vg_xcalloc(VG_T_MAX + 1, sizeof(uint32_t));
	size_t ng = 0;
	for (int t = 0; t < VG_T_MAX; t++) {
		e->group_start[t] = (uint32_t)ng;
		ng += (e->idx_start[t + 1] - e->idx_start[t] + 63) / 64;
	}
	e->group_start[VG_T_MAX] = (uint32_t)ng;
	e->groups = vg_xcalloc(ng ? ng : 1, sizeof(*e->groups));
	for (int t = 0; t < VG_T_MAX; t++)
		for (uint32_t g = e->group_start[t]; g < e->group_start[t + 1]; g++) {
			uint32_t first = e->idx_start[t] + 64 * (g - e->group_start[t]);
			uint32_t n = e->idx_start[t + 1] - first;
			e->groups[g] = vg_cond_group_new(e->idx_cond + first, n < 64 ? n : 64, t);
		}
	return e;
}

void vg_engine_free(struct vg_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nrules; i++) {
		struct vg_rule *r = &e->rules[i];
		free((char *)r->name);
		free((char *)r->desc);
		free((char *)r->source);
		free((char *)r->tenant);
		for (size_t t = 0; t < r->ntags; t++)
			free((char *)r->tags[t]);
		free((char **)r->tags);
		vg_cond_free(r->cond);
		vg_output_free(r->out);
	}
	free(e->rules);
	vg_cond_fieldset_free(e->fields);
	free(e->idx_start);
	free(e->idx);
	free(e->idx_cond);
	if (e->groups)
		for (uint32_t g = 0; g < e->group_start[VG_T_MAX]; g++)
			vg_cond_group_free(e->groups[g]);
	free(e->groups);
	free(e->group_start);
	for (size_t k = 0; k < e->ntiers; k++) {
		free(e->tiers[k].ns);
		free(e->tiers[k].idx);
	}
	free(e->tiers);
	free(e->cost);
	free(e);
}

void vg_engine_get_stats(const struct vg_engine *e, struct vg_engine_stats *out)
{
	*out = e->stats;
}

size_t vg_engine_rule_count(const struct vg_engine *e)
{
	return e->nrules;
}

const struct vg_rule *vg_engine_rule(const struct vg_engine *e, size_t i)
{
	return i < e->nrules ? &e->rules[i] : NULL;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One writer (the evaluating thread), readers anywhere: plain loads and
 * stores, no locked add. */
static inline void bump(_Atomic uint64_t *x, uint64_t d)
{
	atomic_store_explicit(x, atomic_load_explicit(x, memory_order_relaxed) + d,
			      memory_order_relaxed);
}

static const struct tier *find_tier(const struct vg_engine *e, const char *ns)
{
	size_t lo = 0, hi = e->ntiers;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(e->tiers[mid].ns, ns);
		if (!c)
			return &e->tiers[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The tenant rules of ev's namespace, each timed. */
static int match_tier(const struct vg_engine *e, const struct vg_event *ev,
		      struct vg_cond_scratch *s, vg_match_fn fn, void *ctx)
{
	const char *ns = e->ns_fn(ev);
	const struct tier *ctr = ns ? find_tier(e, ns) : NULL;
	if (!ctr)
		return 0;
	struct tier *tr = (struct tier *)ctr; /* its window and the costs are mutable */
	int t = ev->type;
	uint32_t a = tr->start[t], b = tr->start[t + 1];
	if (a == b)
		return 0;
	uint64_t now = mono_ns();
	if (e->budget_ns) {
		if (now - atomic_load_explicit(&tr->win_start, memory_order_relaxed) >=
		    1000000000ull) {
			atomic_store_explicit(&tr->win_start, now, memory_order_relaxed);
			atomic_store_explicit(&tr->win_ns, 0, memory_order_relaxed);
		} else if (atomic_load_explicit(&tr->win_ns, memory_order_relaxed) > e->budget_ns) {
			for (uint32_t i = a; i < b; i++)
				bump(&e->cost[tr->idx[i]->index].throttled, 1);
			return 0;
		}
	}
	int hits = 0;
	vg_cond_begin(tr->idx[a]->cond, ev, s);
	for (uint32_t i = a; i < b; i++) {
		const struct vg_rule *r = tr->idx[i];
		bool ok = vg_cond_eval_begun(r->cond, ev, s) &&
			  (!r->scope || !e->scope_fn || e->scope_fn(r->scope, ev));
		uint64_t t1 = mono_ns();
		struct cost *c = &e->cost[r->index];
		bump(&c->events, 1);
		bump(&c->ns, t1 - now);
		bump(&tr->win_ns, t1 - now);
		now = t1;
		if (!ok)
			continue;
		hits++;
		if (fn) {
			fn(ctx, r, ev);
			vg_cond_begin(r->cond, ev, s);
			now = mono_ns();
		}
	}
	return hits;
}

int vg_engine_match(const struct vg_engine *e, const struct vg_event *ev, struct vg_cond_scratch *s,
		    vg_match_fn fn, void *ctx)
{
	int t = ev->type;
	if (t < 0 || t >= VG_T_MAX)
		return 0;
	int hits = 0;
	uint32_t start = e->idx_start[t], end = e->idx_start[t + 1];
	if (start < end) {
		/* every condition shares the engine's field set: the event's
		 * cache generation is settled once, not once per rule */
		vg_cond_begin(e->idx_cond[start], ev, s);
		for (uint32_t g = e->group_start[t]; g < e->group_start[t + 1]; g++, start += 64) {
			/* the rules of these 64 that can still match, in load order */
			const struct vg_cond_group *grp = e->groups[g];
			struct vg_cond_group_it it;
			vg_cond_group_start(grp, &it);
			int k;
			while ((k = vg_cond_group_next(grp, ev, s, &it)) >= 0) {
				const struct vg_rule *r = e->idx[start + (uint32_t)k];
				if (r->scope && e->scope_fn && !e->scope_fn(r->scope, ev))
					continue;
				hits++;
				if (fn) {
					fn(ctx, r, ev);
					/* it may have evaluated other conditions with s */
					vg_cond_begin(r->cond, ev, s);
				}
			}
		}
	}
	if (e->ntiers && e->ns_fn && t != VG_T_AUDIT)
		hits += match_tier(e, ev, s, fn, ctx);
	return hits;
}

void vg_engine_set_tenancy(struct vg_engine *e, vg_tenant_fn ns_fn, uint64_t budget_ns)
{
	e->ns_fn = ns_fn;
	e->budget_ns = budget_ns;
}

void vg_engine_rule_cost(const struct vg_engine *e, size_t i, struct vg_rule_cost *out)
{
	*out = (struct vg_rule_cost){0};
	if (i >= e->nrules)
		return;
	const struct cost *c = &e->cost[i];
	out->events = atomic_load_explicit(&c->events, memory_order_relaxed) +
		      atomic_load_explicit(&c->base_events, memory_order_relaxed);
	out->ns = atomic_load_explicit(&c->ns, memory_order_relaxed) +
		  atomic_load_explicit(&c->base_ns, memory_order_relaxed);
	out->throttled = atomic_load_explicit(&c->throttled, memory_order_relaxed) +
			 atomic_load_explicit(&c->base_throttled, memory_order_relaxed);
}

void vg_engine_rule_cost_add(struct vg_engine *e, size_t i, const struct vg_rule_cost *c)
{
	if (i >= e->nrules)
		return;
	struct cost *k = &e->cost[i];
	atomic_fetch_add_explicit(&k->base_events, c->events, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->base_ns, c->ns, memory_order_relaxed);
	atomic_fetch_add_explicit(&k->base_throttled, c->throttled, memory_order_relaxed);
}

void vg_engine_interest(const struct vg_engine *e, uint8_t want[VG_NR_MAX])
{
	memset(want, 0, VG_NR_MAX);
	for (int t = 0; t < VG_NR_MAX; t++)
		if (vg_syscall_desc(t) && e->idx_start[t + 1] > e->idx_start[t])
			want[t] = 1;
	for (size_t k = 0; k < e->ntiers; k++)
		for (int t = 0; t < VG_NR_MAX; t++)
			if (vg_syscall_desc(t) && e->tiers[k].start[t + 1] > e->tiers[k].start[t])
				want[t] = 1;
	/* and what the state needs whatever the rules say */
	for (int t = 0; t < VG_NR_MAX; t++) {
		const struct vg_sysreg *row = vg_sysreg(t);
		if (row && (row->flags & VG_SR_STATE) && vg_syscall_desc(t))
			want[t] = 1;
	}
}
