/* crset.c - see crset.h.
 *
 * An object becomes Falco rule text that rules.c loads: every string of
 * the spec is written as a double-quoted YAML scalar on a line of its own,
 * followed by one comment line per extra line of the value, so that a
 * position the loader or the compiler reports in that text falls on the
 * lines of exactly one field.  A table of those lines turns positions back
 * into "spec.condition:LINE:COL".  The text is loaded under the name
 * "Kind ns/name", which is also the prefix of every message.
 * crset_spec.c checks a spec and writes that text (crset_int.h).
 */
#include "crset_int.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_selector.h"
#include "state.h"

static const char *const kind_names[VG_CR_NKINDS] = {"RuleLibrary", "ClusterRule", "Rule"};

const char *vg_crset_kind_name(int kind)
{
	return kind >= 0 && kind < VG_CR_NKINDS ? kind_names[kind] : "?";
}

int vg_crset_kind_parse(const char *name)
{
	for (int k = 0; name && k < VG_CR_NKINDS; k++)
		if (!strcmp(kind_names[k], name))
			return k;
	return -1;
}

/* ---- scopes ---------------------------------------------------------------- */

struct labels {
	const struct vg_label *l;
	size_t n;
};

static const char *label_get(void *ctx, const char *key)
{
	const struct labels *ls = ctx;
	for (size_t i = 0; i < ls->n; i++)
		if (ls->l[i].key && !strcmp(ls->l[i].key, key))
			return ls->l[i].value ? ls->l[i].value : "";
	return NULL;
}

static bool sel_match(const struct k8s_selector *s, const struct vg_label *l, size_t n)
{
	struct labels ls = {l, n};
	return k8s_selector_match(s, label_get, &ls);
}

static int scope_match(const void *p, const struct vg_event *ev)
{
	const struct scope *s = p;
	if (ev->type == VG_T_AUDIT) /* only unscoped ClusterRules have k8s_audit */
		return 1;
	const struct vg_container_meta *m =
		ev->st && ev->proc ? vg_state_meta(ev->st, ev->proc) : NULL;
	if (!m || !m->ns_name)
		return s->host;
	if (s->ns && strcmp(s->ns, m->ns_name))
		return 0;
	return sel_match(s->pods, m->pod_labels, m->npod_labels) &&
	       sel_match(s->nss, m->ns_labels, m->nns_labels);
}

/* ---- the set --------------------------------------------------------------- */

struct vg_crset {
	struct vg_engine *engine;
	struct vg_ruleset *base;
	struct obj *objs;
	size_t nobjs;
	struct vg_crset_result *results;
	size_t file_compiled, file_failed;
};

/* ---- messages --------------------------------------------------------------------- */

/* The version of o loaded failed (reason, message).  The result reports
 * the object's own generation: the first failure is its.  Then the last
 * accepted version, if any, is loaded in its place ("never lose what was
 * running"), and o stays active with it. */
static void obj_fail(struct obj *o, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void obj_fail(struct obj *o, const char *reason, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->fails++;
	o->active = false;
	if (o->using_fallback)
		return; /* the old version no longer compiles either */
	o->res.accepted = false;
	o->res.reason = reason;
	free(o->msg);
	size_t n = strlen(o->label) + strlen(msg) + 64;
	o->msg = vg_xmalloc(n);
	snprintf(o->msg, n, "%s: %s", o->label, msg);
	if (!o->fallback)
		return;
	o->using_fallback = true;
	struct chk c = {0};
	if (!cr_obj_version(o, o->fallback, &c))
		return;
	o->active = true;
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(o->fallback, "metadata"), "generation");
	size_t len = strlen(o->msg);
	snprintf(o->msg + len, n - len, " (generation %lld stays in force)",
		 cJSON_IsNumber(g) ? (long long)g->valuedouble : 0LL);
}

/* A position in the object's text as "path:LINE:COL", or the file's. */
static void where(const struct obj *o, const char *file, int line, int col, char *out, size_t cap)
{
	if (!file || strcmp(file, o->label)) {
		snprintf(out, cap, "%s:%d:%d", file ? file : "?", line, col);
		return;
	}
	for (size_t i = 0; i < o->nmap; i++) {
		const struct lmap *m = &o->map[i];
		if (line < m->line || line >= m->line + m->nlines)
			continue;
		if (!m->col) {
			snprintf(out, cap, "%s", m->path);
			return;
		}
		int rl = line - m->line + 1;
		if (rl == 1 && col < m->col - 1) { /* (m->col - 1: the opening quote) */
			/* the item itself (e.g. "- rule:"), not its value */
			snprintf(out, cap, "spec");
			return;
		}
		int rc = rl == 1 ? col - m->col + 1 : col;
		snprintf(out, cap, "%s:%d:%d", m->path, rl, rc < 1 ? 1 : rc);
		return;
	}
	snprintf(out, cap, "spec");
}

/* The diagnostics of [from, to) as the object's message ("" if none). */
static void diag_to_msg(struct obj *o, const struct vg_diag *d, size_t from, size_t to, bool errors,
			const char *reason)
{
	char buf[1024] = "";
	size_t len = 0, shown = 0;
	for (size_t i = from; i < to && shown < 3; i++) {
		const struct vg_diag_entry *e = &d->v[i];
		if (e->error != errors)
			continue;
		char at[300];
		where(o, e->file, e->line, e->col, at, sizeof(at));
		/* the loader's and engine's "(rule 'x')" suffix names what the
		 * label already names */
		const char *msg = e->msg;
		size_t ml = strlen(msg);
		const char *sfx = strstr(msg, " (rule '");
		if (!sfx)
			sfx = strstr(msg, " (macro '");
		if (!sfx)
			sfx = strstr(msg, " (list '");
		if (sfx && msg[ml - 1] == ')')
			ml = (size_t)(sfx - msg);
		int w = snprintf(buf + len, sizeof(buf) - len, "%s%s: %.*s", shown ? "; " : "", at,
				 (int)ml, msg);
		if (w > 0)
			len += (size_t)w < sizeof(buf) - len ? (size_t)w : sizeof(buf) - len - 1;
		shown++;
	}
	if (!shown)
		return;
	if (errors) {
		obj_fail(o, reason, "%s", buf);
	} else {
		free(o->msg);
		size_t n = strlen(o->label) + len + 16;
		o->msg = vg_xmalloc(n);
		snprintf(o->msg, n, "%s: warning: %s", o->label, buf);
	}
}

/* Drop the diagnostics after the first n. */
static void diag_truncate(struct vg_diag *d, size_t n)
{
	while (d->n > n) {
		struct vg_diag_entry *e = &d->v[--d->n];
		if (e->error)
			d->errors--;
		else
			d->warnings--;
		free(e->file);
		free(e->msg);
	}
}

/* ---- loading ----------------------------------------------------------------------- */

static void obj_init(struct obj *o, const struct vg_crset_obj *in)
{
	o->res.kind = in->kind;
	o->res.accepted = true;
	o->res.reason = "Compiled";
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(in->obj, "metadata");
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "name"));
	const char *ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(md, "namespace"));
	const cJSON *gen = cJSON_GetObjectItemCaseSensitive(md, "generation");
	o->name = vg_xstrdup(name ? name : "?");
	o->ns = in->kind == VG_CR_RULE && ns ? vg_xstrdup(ns) : NULL;
	o->res.generation = cJSON_IsNumber(gen) ? (int64_t)gen->valuedouble : 0;
	size_t n = strlen(o->name) + (o->ns ? strlen(o->ns) : 0) + 32;
	o->label = vg_xmalloc(n);
	if (o->ns)
		snprintf(o->label, n, "%s %s/%s", vg_crset_kind_name(in->kind), o->ns, o->name);
	else
		snprintf(o->label, n, "%s %s", vg_crset_kind_name(in->kind), o->name);
	o->res.name = o->name;
	o->res.ns = o->ns;

	struct chk c = {0};
	if (in->kind < 0 || in->kind >= VG_CR_NKINDS)
		cr_bad(&c, "unknown kind");
	else if (!name || !*name)
		cr_bad(&c, "metadata.name: required");
	else if (in->kind == VG_CR_RULE && (!ns || !*ns))
		cr_bad(&c, "metadata.namespace: required");
	if (c.bad) {
		obj_fail(o, "InvalidSpec", "%s", c.msg);
		return;
	}
	o->fallback = in->fallback;
	o->active = true;
	if (!cr_obj_version(o, in->obj, &c))
		obj_fail(o, "InvalidSpec", "%s", c.msg);
}

/* Compile each macro an object defines on its own (a macro is a whole
 * condition), against rs, so that a broken macro is reported even when no
 * rule uses it yet.  Only the macros whose definition in force is the
 * object's are checked. */
struct chk_env {
	struct vg_ruleset *rs;
};

static const char *chk_macro(void *ctx, const char *name, struct vg_pos *pos)
{
	const struct vg_macro_def *m = vg_ruleset_macro(((struct chk_env *)ctx)->rs, name);
	if (!m)
		return NULL;
	*pos = m->cond.pos;
	return m->cond.text;
}

static int chk_list(void *ctx, const char *name, const char *const **items)
{
	return vg_ruleset_list_items(((struct chk_env *)ctx)->rs, name, items);
}

static bool check_macros(struct obj *o, struct vg_ruleset *rs)
{
	struct chk_env ce = {rs};
	struct vg_cond_env env = {&ce, chk_macro, chk_list, NULL, NULL, NULL, NULL};
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o->spec, "macros"))
	{
		const char *name = cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring;
		const struct vg_macro_def *m = vg_ruleset_macro(rs, name);
		if (!m || !m->cond.pos.file || strcmp(m->cond.pos.file, o->label))
			continue; /* replaced by a later library */
		struct vg_cond_err err;
		struct vg_cond *c = vg_cond_compile(m->cond.text, &m->cond.pos, &env, &err);
		if (c) {
			vg_cond_free(c);
			continue;
		}
		char at[300];
		where(o, err.pos.file, err.pos.line, err.pos.col, at, sizeof(at));
		obj_fail(o, "CompileError", "%s: %s", at, err.msg);
		return false;
	}
	return true;
}

/* Objects in merge order: libraries by name, then ClusterRules, then Rules
 * by namespace/name. */
static int cmp_obj(const void *a, const void *b)
{
	const struct obj *x = *(struct obj *const *)a, *y = *(struct obj *const *)b;
	if (x->res.kind != y->res.kind)
		return x->res.kind - y->res.kind;
	int c = strcmp(x->ns ? x->ns : "", y->ns ? y->ns : "");
	return c ? c : strcmp(x->name, y->name);
}

static struct vg_ruleset *load_base(const struct vg_crset_input *in, struct obj **libs,
				    size_t nlibs, struct vg_diag *d)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	for (size_t i = 0; i < in->npaths; i++)
		if (!vg_ruleset_add_path(rs, in->paths[i], d))
			vg_diag_add(d, 1, in->paths[i], 0, 0, "%s", strerror(errno));
	if (in->load_more)
		in->load_more(in->load_ctx, rs, d);
	for (size_t i = 0; i < nlibs; i++) {
		if (!libs[i]->active)
			continue;
		struct vg_diag ld = {0};
		vg_ruleset_add_text(rs, libs[i]->label, libs[i]->yaml, strlen(libs[i]->yaml), &ld);
		diag_to_msg(libs[i], &ld, 0, ld.n, true, "CompileError");
		vg_diag_free(&ld);
	}
	return rs;
}

struct vg_crset *vg_crset_build(const struct vg_crset_input *in, struct vg_diag *files_diag)
{
	struct vg_crset *cs = vg_xcalloc(1, sizeof(*cs));
	cs->nobjs = in->nobjs;
	cs->objs = vg_xcalloc(in->nobjs + 1, sizeof(*cs->objs));
	struct obj **order = vg_xcalloc(in->nobjs + 1, sizeof(*order));
	for (size_t i = 0; i < in->nobjs; i++) {
		obj_init(&cs->objs[i], &in->objs[i]);
		order[i] = &cs->objs[i];
	}
	if (in->nobjs)
		qsort(order, in->nobjs, sizeof(*order), cmp_obj);
	size_t nlibs = 0;
	while (nlibs < in->nobjs && order[nlibs]->res.kind == VG_CR_RULELIBRARY)
		nlibs++;

	/* A library that does not load, or whose macros do not compile, is
	 * left out, and the files and the other libraries loaded again
	 * without it (rare: the API server has checked the shapes). */
	struct vg_diag d = {0};
	struct vg_ruleset *base = NULL;
	for (;;) {
		size_t fails = 0, now = 0;
		for (size_t i = 0; i < nlibs; i++)
			fails += order[i]->fails;
		vg_diag_free(&d);
		vg_ruleset_free(base);
		base = load_base(in, order, nlibs, &d);
		for (size_t i = 0; i < nlibs; i++)
			if (order[i]->active)
				check_macros(order[i], base);
		for (size_t i = 0; i < nlibs; i++)
			now += order[i]->fails;
		if (now == fails)
			break;
	}
	cs->base = base;

	/* One source per rule object, after the files (source 0).  An object
	 * that fails falls back to its last accepted version, if any: then
	 * the engine is built once more. */
	struct vg_engine_src *src = vg_xcalloc(in->nobjs + 1, sizeof(*src));
	size_t file_diags = d.n;
	for (int round = 0; round < 2; round++) {
		size_t nsrc = 0;
		memset(src, 0, (in->nobjs + 1) * sizeof(*src));
		src[nsrc++].rs = base;
		for (size_t i = nlibs; i < in->nobjs; i++) {
			struct obj *o = order[i];
			o->src_index = 0;
			while (o->active) {
				unsigned fails = o->fails;
				vg_ruleset_free(o->rs);
				o->rs = vg_ruleset_new();
				vg_ruleset_set_parent(o->rs, base);
				struct vg_diag ld = {0};
				vg_ruleset_add_text(o->rs, o->label, o->yaml, strlen(o->yaml), &ld);
				diag_to_msg(o, &ld, 0, ld.n, true, "CompileError");
				vg_diag_free(&ld);
				if (fails == o->fails)
					check_macros(o, o->rs);
				if (fails == o->fails)
					break;
			}
			if (!o->active)
				continue;
			o->src_index = nsrc;
			src[nsrc].rs = o->rs;
			src[nsrc].scope = &o->scope;
			nsrc++;
		}
		diag_truncate(&d, file_diags);
		vg_engine_free(cs->engine);
		cs->engine = vg_engine_build_multi(src, nsrc, scope_match, &d);
		bool again = false;
		for (size_t i = nlibs; i < in->nobjs; i++) {
			struct obj *o = order[i];
			if (!o->active || !o->src_index)
				continue;
			struct vg_engine_src *s = &src[o->src_index];
			if (s->failed || s->compiled != 1) {
				unsigned fails = o->fails;
				diag_to_msg(o, &d, s->diag_begin, s->diag_end, true,
					    "CompileError");
				if (fails == o->fails)
					obj_fail(o, "CompileError", "the rule did not compile");
				again |= o->active;
			} else if (!o->using_fallback) {
				diag_to_msg(o, &d, s->diag_begin, s->diag_end, false, "Compiled");
			}
		}
		if (!again)
			break;
	}
	cs->file_compiled = src[0].compiled;
	cs->file_failed = src[0].failed;
	/* the files' diagnostics are the caller's */
	for (size_t i = 0; i < d.n; i++)
		if (i < file_diags || (i >= src[0].diag_begin && i < src[0].diag_end))
			vg_diag_add(files_diag, d.v[i].error, d.v[i].file, d.v[i].line, d.v[i].col,
				    "%s", d.v[i].msg);
	vg_diag_free(&d);
	free(src);
	free(order);

	cs->results = vg_xcalloc(in->nobjs + 1, sizeof(*cs->results));
	for (size_t i = 0; i < in->nobjs; i++) {
		struct obj *o = &cs->objs[i];
		o->res.message = o->msg ? o->msg : "";
		o->res.in_force = o->active;
		cs->results[i] = o->res;
	}
	return cs;
}

void vg_crset_free(struct vg_crset *cs)
{
	if (!cs)
		return;
	vg_engine_free(cs->engine);
	for (size_t i = 0; i < cs->nobjs; i++) {
		struct obj *o = &cs->objs[i];
		vg_ruleset_free(o->rs);
		free(o->ns);
		free(o->name);
		free(o->label);
		free(o->msg);
		free(o->yaml);
		for (size_t k = 0; k < o->nmap; k++)
			free(o->map[k].path);
		free(o->map);
		k8s_selector_free(o->scope.pods);
		k8s_selector_free(o->scope.nss);
	}
	vg_ruleset_free(cs->base);
	free(cs->objs);
	free(cs->results);
	free(cs);
}

struct vg_engine *vg_crset_engine(const struct vg_crset *cs)
{
	return cs->engine;
}

void vg_crset_interest(const struct vg_crset *cs, uint8_t want[VG_NR_MAX])
{
	vg_engine_interest(cs->engine, want);
}

size_t vg_crset_results(const struct vg_crset *cs, const struct vg_crset_result **out)
{
	*out = cs->results;
	return cs->nobjs;
}

void vg_crset_count(const struct vg_crset *cs, int kind, size_t *accepted, size_t *rejected)
{
	*accepted = *rejected = 0;
	for (size_t i = 0; i < cs->nobjs; i++)
		if (cs->results[i].kind == kind)
			(*(cs->results[i].accepted ? accepted : rejected))++;
}

void vg_crset_file_rules(const struct vg_crset *cs, size_t *compiled, size_t *failed)
{
	*compiled = cs->file_compiled;
	*failed = cs->file_failed;
}
