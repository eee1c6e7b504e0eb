/* crset.c - see crset.h.
 *
 * An object becomes Falco rule text that rules.c loads: every string of
 * the spec is written as a double-quoted YAML scalar on a line of its own,
 * followed by one comment line per extra line of the value, so that a
 * position the loader or the compiler reports in that text falls on the
 * lines of exactly one field.  A table of those lines turns positions back
 * into "spec.condition:LINE:COL".  The text is loaded under the name
 * "Kind ns/name", which is also the prefix of every message.
 */
#include "crset.h"
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

struct scope {
	const char *ns;			 /* Rule: its namespace */
	bool host;			 /* events outside pods */
	struct k8s_selector *pods, *nss; /* NULL: everything */
};

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

struct lmap;

struct obj {
	struct vg_crset_result res; /* about the object's own generation */
	char *ns, *name, *label;    /* label: "Kind ns/name" */
	char *msg;
	bool active;	       /* a version of it is loaded into the set */
	const cJSON *fallback; /* the last accepted version, if any */
	bool using_fallback;   /* ... and it is the version loaded */
	unsigned fails;	       /* failures so far (a change means: build again) */
	const cJSON *spec;     /* of the version loaded */
	char *yaml;
	struct lmap *map;
	size_t nmap;
	struct scope scope;
	struct vg_ruleset *rs; /* ClusterRule, Rule: its own rule set */
	struct vg_engine_src *src;
	size_t src_index;
};

struct vg_crset {
	struct vg_engine *engine;
	struct vg_ruleset *base;
	struct obj *objs;
	size_t nobjs;
	struct vg_crset_result *results;
	size_t file_compiled, file_failed;
};

/* ---- spec checks ------------------------------------------------------------ */

struct chk {
	char msg[512];
	bool bad;
};

static void bad(struct chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bad(struct chk *c, const char *fmt, ...)
{
	if (c->bad)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	c->bad = true;
}

static const char *str_member(struct chk *c, const cJSON *o, const char *key, const char *path,
			      bool required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v) {
		if (required)
			bad(c, "%s.%s: required", path, key);
		return NULL;
	}
	if (!cJSON_IsString(v)) {
		bad(c, "%s.%s: must be a string", path, key);
		return NULL;
	}
	if (required && !*v->valuestring)
		bad(c, "%s.%s: must not be empty", path, key);
	return v->valuestring;
}

static const cJSON *arr_member(struct chk *c, const cJSON *o, const char *key, const char *path)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (v && !cJSON_IsArray(v) && !cJSON_IsNull(v)) {
		bad(c, "%s.%s: must be a list", path, key);
		return NULL;
	}
	return cJSON_IsArray(v) ? v : NULL;
}

static void check_strings(struct chk *c, const cJSON *a, const char *path)
{
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		if (!cJSON_IsString(e))
			bad(c, "%s[%d]: must be a string", path, i);
		i++;
	}
}

/* macros/lists: names unique and non-empty, members of the right types */
static void check_named(struct chk *c, const cJSON *a, const char *path, bool macros)
{
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		char p[128];
		snprintf(p, sizeof(p), "%s[%d]", path, i);
		if (!cJSON_IsObject(e)) {
			bad(c, "%s: must be an object", p);
			return;
		}
		const char *name = str_member(c, e, "name", p, true);
		if (macros) {
			str_member(c, e, "condition", p, true);
		} else {
			const cJSON *items = cJSON_GetObjectItemCaseSensitive(e, "items");
			if (!cJSON_IsArray(items))
				bad(c, "%s.items: required list", p);
			else {
				char q[160];
				snprintf(q, sizeof(q), "%s.items", p);
				check_strings(c, items, q);
			}
		}
		int k = 0;
		const cJSON *f;
		cJSON_ArrayForEach(f, a)
		{
			if (k >= i)
				break;
			const cJSON *fn = cJSON_GetObjectItemCaseSensitive(f, "name");
			if (name && cJSON_IsString(fn) && !strcmp(fn->valuestring, name))
				bad(c, "%s.name: '%s' is defined twice", p, name);
			k++;
		}
		i++;
	}
}

/* Every problem of a LabelSelector is reported with its path here; the
 * selector that matches is k8s_selector's. */
static void parse_selector(struct chk *c, const cJSON *o, const char *path,
			   struct k8s_selector **out)
{
	if (!o || cJSON_IsNull(o))
		return;
	if (!cJSON_IsObject(o)) {
		bad(c, "%s: must be an object", path);
		return;
	}
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(o, "matchLabels");
	const cJSON *me = cJSON_GetObjectItemCaseSensitive(o, "matchExpressions");
	const cJSON *e;
	if (ml && !cJSON_IsObject(ml) && !cJSON_IsNull(ml))
		bad(c, "%s.matchLabels: must be an object", path);
	else
		cJSON_ArrayForEach(e, ml)
		{
			if (!cJSON_IsString(e))
				bad(c, "%s.matchLabels.%s: must be a string", path, e->string);
		}
	if (me && !cJSON_IsArray(me) && !cJSON_IsNull(me)) {
		bad(c, "%s.matchExpressions: must be a list", path);
		return;
	}
	int i = 0;
	cJSON_ArrayForEach(e, me)
	{
		char p[160];
		snprintf(p, sizeof(p), "%s.matchExpressions[%d]", path, i++);
		if (!cJSON_IsObject(e)) {
			bad(c, "%s: must be an object", p);
			continue;
		}
		const char *key = str_member(c, e, "key", p, true);
		const char *op = str_member(c, e, "operator", p, true);
		const cJSON *vals = arr_member(c, e, "values", p);
		if (!key || !op)
			continue;
		static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist"};
		int k = 0;
		while (k < 4 && strcmp(ops[k], op))
			k++;
		if (k == 4) {
			bad(c, "%s.operator: '%s' is not In, NotIn, Exists or DoesNotExist", p, op);
			continue;
		}
		int nv = cJSON_GetArraySize(vals);
		if ((k <= 1) != (nv > 0)) {
			bad(c, "%s.values: %s", p,
			    k <= 1 ? "In and NotIn need values"
				   : "Exists and DoesNotExist take no values");
			continue;
		}
		const cJSON *v;
		cJSON_ArrayForEach(v, vals)
		{
			if (!cJSON_IsString(v))
				bad(c, "%s.values: must be strings", p);
		}
	}
	if (c->bad)
		return;
	char err[256];
	*out = k8s_selector_compile(o, err, sizeof(err));
	if (!*out)
		bad(c, "%s.%s", path, err);
}

static void check_exceptions(struct chk *c, const cJSON *a)
{
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		char p[64];
		snprintf(p, sizeof(p), "spec.exceptions[%d]", i);
		if (!cJSON_IsObject(e)) {
			bad(c, "%s: must be an object", p);
			return;
		}
		str_member(c, e, "name", p, true);
		const cJSON *fields = arr_member(c, e, "fields", p);
		const cJSON *comps = arr_member(c, e, "comps", p);
		const cJSON *values = arr_member(c, e, "values", p);
		int nf = cJSON_GetArraySize(fields);
		if (!nf)
			bad(c, "%s.fields: required, at least one field", p);
		char q[96];
		snprintf(q, sizeof(q), "%s.fields", p);
		check_strings(c, fields, q);
		snprintf(q, sizeof(q), "%s.comps", p);
		check_strings(c, comps, q);
		if (comps && cJSON_GetArraySize(comps) != nf)
			bad(c, "%s.comps: one operator per field (%d)", p, nf);
		int k = 0;
		const cJSON *t;
		cJSON_ArrayForEach(t, values)
		{
			snprintf(q, sizeof(q), "%s.values[%d]", p, k++);
			if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) != nf)
				bad(c, "%s: must be a list of %d values (one per field)", q, nf);
			else
				check_strings(c, t, q);
		}
		i++;
	}
}

/* ---- rule text ---------------------------------------------------------------- */

/* Lines of the generated text: [line, line + nlines) hold `path`; a string
 * value's first character is at column col (0: not a string value). */
struct lmap {
	int line, nlines, col;
	char *path;
};

struct gen {
	char *s;
	size_t len, cap;
	int line; /* of the next line written */
	struct lmap *map;
	size_t nmap, capmap;
};

static void g_put(struct gen *g, const char *s, size_t n)
{
	if (g->len + n + 1 > g->cap)
		g->s = vg_xrealloc(g->s, g->cap = (g->len + n + 1) * 2 + 256);
	memcpy(g->s + g->len, s, n);
	g->len += n;
	g->s[g->len] = 0;
}

static void g_puts(struct gen *g, const char *s)
{
	g_put(g, s, strlen(s));
}

static void g_map(struct gen *g, int nlines, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void g_map(struct gen *g, int nlines, int col, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (g->nmap == g->capmap)
		g->map = vg_xrealloc(g->map, (g->capmap = g->capmap * 2 + 16) * sizeof(*g->map));
	g->map[g->nmap++] = (struct lmap){g->line, nlines, col, vg_xstrdup(path)};
}

/* `prefix"value"` and the padding lines; the map entry is the caller's. */
static int g_quoted(struct gen *g, const char *prefix, const char *v)
{
	g_puts(g, prefix);
	g_put(g, "\"", 1);
	int lines = 1;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\', esc[1] = (char)*p;
			g_put(g, esc, 2);
		} else if (*p == '\n') {
			g_put(g, "\\n", 2);
			lines++;
		} else if (*p == '\t') {
			g_put(g, "\\t", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			g_put(g, esc, 4);
		} else {
			g_put(g, (const char *)p, 1);
		}
	}
	g_puts(g, "\"\n");
	for (int i = 1; i < lines; i++)
		g_puts(g, "#\n");
	return lines;
}

/* One string value on its own line(s): `indent key: "value"`. */
static void g_str(struct gen *g, const char *prefix, const char *v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void g_str(struct gen *g, const char *prefix, const char *v, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	int lines = 1;
	for (const char *p = v; *p; p++)
		lines += *p == '\n';
	g_map(g, lines, (int)strlen(prefix) + 2, "%s", path);
	g_quoted(g, prefix, v);
	g->line += lines;
}

static void g_line(struct gen *g, const char *text, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void g_line(struct gen *g, const char *text, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	g_map(g, 1, 0, "%s", path);
	g_puts(g, text);
	g_puts(g, "\n");
	g->line++;
}

static void g_strlist(struct gen *g, const char *key, const char *indent, const cJSON *a,
		      const char *path)
{
	char pre[64];
	if (!cJSON_GetArraySize(a)) {
		snprintf(pre, sizeof(pre), "%s%s: []", indent, key);
		g_line(g, pre, "%s", path);
		return;
	}
	snprintf(pre, sizeof(pre), "%s%s:", indent, key);
	g_line(g, pre, "%s", path);
	snprintf(pre, sizeof(pre), "%s  - ", indent);
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, a)
	{
		g_str(g, pre, e->valuestring, "%s[%d]", path, i);
		i++;
	}
}

static void g_macros_lists(struct gen *g, const cJSON *spec)
{
	const cJSON *e;
	int i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(spec, "lists"))
	{
		g_str(g, "- list: ", cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring,
		      "spec.lists[%d].name", i);
		char path[64];
		snprintf(path, sizeof(path), "spec.lists[%d].items", i);
		g_strlist(g, "items", "  ", cJSON_GetObjectItemCaseSensitive(e, "items"), path);
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(spec, "macros"))
	{
		g_str(g, "- macro: ", cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring,
		      "spec.macros[%d].name", i);
		g_str(g, "  condition: ",
		      cJSON_GetObjectItemCaseSensitive(e, "condition")->valuestring,
		      "spec.macros[%d].condition", i);
		i++;
	}
}

static void g_rule(struct gen *g, const cJSON *spec, const char *rule_name, const char *name_path)
{
	g_str(g, "- rule: ", rule_name, "%s", name_path);
	const char *desc =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "description"));
	g_str(g, "  desc: ", desc ? desc : "", "spec.description");
	g_str(g, "  condition: ", cJSON_GetObjectItemCaseSensitive(spec, "condition")->valuestring,
	      "spec.condition");
	g_str(g, "  output: ", cJSON_GetObjectItemCaseSensitive(spec, "output")->valuestring,
	      "spec.output");
	g_str(g, "  priority: ", cJSON_GetObjectItemCaseSensitive(spec, "priority")->valuestring,
	      "spec.priority");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(spec, "enabled");
	g_line(g, cJSON_IsFalse(en) ? "  enabled: false" : "  enabled: true", "spec.enabled");
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(spec, "tags");
	if (tags)
		g_strlist(g, "tags", "  ", tags, "spec.tags");
	const cJSON *exc = cJSON_GetObjectItemCaseSensitive(spec, "exceptions");
	if (!cJSON_GetArraySize(exc))
		return;
	g_line(g, "  exceptions:", "spec.exceptions");
	int i = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, exc)
	{
		char path[96];
		g_str(g, "    - name: ", cJSON_GetObjectItemCaseSensitive(e, "name")->valuestring,
		      "spec.exceptions[%d].name", i);
		snprintf(path, sizeof(path), "spec.exceptions[%d].fields", i);
		g_strlist(g, "fields", "      ", cJSON_GetObjectItemCaseSensitive(e, "fields"),
			  path);
		const cJSON *comps = cJSON_GetObjectItemCaseSensitive(e, "comps");
		if (cJSON_GetArraySize(comps)) {
			snprintf(path, sizeof(path), "spec.exceptions[%d].comps", i);
			g_strlist(g, "comps", "      ", comps, path);
		}
		const cJSON *values = cJSON_GetObjectItemCaseSensitive(e, "values");
		if (cJSON_GetArraySize(values)) {
			g_line(g, "      values:", "spec.exceptions[%d].values", i);
			int k = 0;
			const cJSON *t;
			cJSON_ArrayForEach(t, values)
			{
				g_line(g, "        -", "spec.exceptions[%d].values[%d]", i, k);
				int f = 0;
				const cJSON *v;
				cJSON_ArrayForEach(v, t)
				{
					g_str(g, "          - ", v->valuestring,
					      "spec.exceptions[%d].values[%d][%d]", i, k, f);
					f++;
				}
				k++;
			}
		}
		i++;
	}
}

/* ---- messages --------------------------------------------------------------------- */

static bool obj_version(struct obj *o, const cJSON *json, struct chk *c);

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
	if (!obj_version(o, o->fallback, &c))
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

static void obj_gen(struct obj *o);

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
		bad(&c, "unknown kind");
	else if (!name || !*name)
		bad(&c, "metadata.name: required");
	else if (in->kind == VG_CR_RULE && (!ns || !*ns))
		bad(&c, "metadata.namespace: required");
	if (c.bad) {
		obj_fail(o, "InvalidSpec", "%s", c.msg);
		return;
	}
	o->fallback = in->fallback;
	o->active = true;
	if (!obj_version(o, in->obj, &c))
		obj_fail(o, "InvalidSpec", "%s", c.msg);
}

/* Check a version (json) of the object and make its rule text; false with
 * c->msg when the spec is not valid. */
static bool obj_version(struct obj *o, const cJSON *json, struct chk *c)
{
	free(o->yaml);
	o->yaml = NULL;
	for (size_t k = 0; k < o->nmap; k++)
		free(o->map[k].path);
	free(o->map);
	o->map = NULL;
	o->nmap = 0;
	k8s_selector_free(o->scope.pods);
	k8s_selector_free(o->scope.nss);
	memset(&o->scope, 0, sizeof(o->scope));
	o->spec = cJSON_GetObjectItemCaseSensitive(json, "spec");
	int kind = o->res.kind;
	if (!cJSON_IsObject(o->spec)) {
		bad(c, "spec: required object");
		return false;
	}
	const cJSON *spec = o->spec;
	check_named(c, arr_member(c, spec, "macros", "spec"), "spec.macros", true);
	check_named(c, arr_member(c, spec, "lists", "spec"), "spec.lists", false);
	if (kind != VG_CR_RULELIBRARY) {
		str_member(c, spec, "rule", "spec", false);
		str_member(c, spec, "description", "spec", false);
		str_member(c, spec, "condition", "spec", true);
		str_member(c, spec, "output", "spec", true);
		const char *prio = str_member(c, spec, "priority", "spec", true);
		if (prio && vg_priority_parse(prio) < 0)
			bad(c,
			    "spec.priority: unknown priority '%s' (Emergency, Alert, Critical, "
			    "Error, Warning, Notice, Informational, Debug)",
			    prio);
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(spec, "enabled");
		if (en && !cJSON_IsBool(en) && !cJSON_IsNull(en))
			bad(c, "spec.enabled: must be true or false");
		const cJSON *tags = arr_member(c, spec, "tags", "spec");
		check_strings(c, tags, "spec.tags");
		check_exceptions(c, arr_member(c, spec, "exceptions", "spec"));
		parse_selector(c, cJSON_GetObjectItemCaseSensitive(spec, "podSelector"),
			       "spec.podSelector", &o->scope.pods);
	}
	if (kind == VG_CR_CLUSTERRULE) {
		parse_selector(c, cJSON_GetObjectItemCaseSensitive(spec, "namespaceSelector"),
			       "spec.namespaceSelector", &o->scope.nss);
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(spec, "hostProcesses");
		if (h && !cJSON_IsBool(h) && !cJSON_IsNull(h))
			bad(c, "spec.hostProcesses: must be true or false");
		o->scope.host = cJSON_IsTrue(h);
	} else if (kind == VG_CR_RULE) {
		const char *bad_keys[] = {"namespaceSelector", "hostProcesses"};
		for (int i = 0; i < 2; i++)
			if (cJSON_GetObjectItemCaseSensitive(spec, bad_keys[i]))
				bad(c,
				    "spec.%s: only a ClusterRule has it (a Rule sees its own "
				    "namespace only)",
				    bad_keys[i]);
		o->scope.ns = o->ns;
	}
	if (c->bad)
		return false;
	obj_gen(o);
	return true;
}

static void obj_gen(struct obj *o)
{
	struct gen g = {.line = 1};
	g_macros_lists(&g, o->spec);
	if (o->res.kind != VG_CR_RULELIBRARY) {
		const char *rule =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o->spec, "rule"));
		g_rule(&g, o->spec, rule ? rule : o->name, rule ? "spec.rule" : "metadata.name");
	}
	if (!g.s)
		g_puts(&g, "[]\n");
	o->yaml = g.s;
	o->map = g.map;
	o->nmap = g.nmap;
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
