/* crset_spec.c - a rule object's spec: checked field by field (every
 * problem named by its path, e.g. "spec.podSelector.matchExpressions[0]"),
 * then written as Falco rule text with the table of which lines hold which
 * field (see crset.c).  Part of the rule-object set: see crset_int.h.
 */
#include "crset_int.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s_selector.h"

/* ---- spec checks ------------------------------------------------------------ */

void cr_bad(struct chk *c, const char *fmt, ...)
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
			cr_bad(c, "%s.%s: required", path, key);
		return NULL;
	}
	if (!cJSON_IsString(v)) {
		cr_bad(c, "%s.%s: must be a string", path, key);
		return NULL;
	}
	if (required && !*v->valuestring)
		cr_bad(c, "%s.%s: must not be empty", path, key);
	return v->valuestring;
}

static const cJSON *arr_member(struct chk *c, const cJSON *o, const char *key, const char *path)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (v && !cJSON_IsArray(v) && !cJSON_IsNull(v)) {
		cr_bad(c, "%s.%s: must be a list", path, key);
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
			cr_bad(c, "%s[%d]: must be a string", path, i);
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
			cr_bad(c, "%s: must be an object", p);
			return;
		}
		const char *name = str_member(c, e, "name", p, true);
		if (macros) {
			str_member(c, e, "condition", p, true);
		} else {
			const cJSON *items = cJSON_GetObjectItemCaseSensitive(e, "items");
			if (!cJSON_IsArray(items))
				cr_bad(c, "%s.items: required list", p);
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
				cr_bad(c, "%s.name: '%s' is defined twice", p, name);
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
		cr_bad(c, "%s: must be an object", path);
		return;
	}
	const cJSON *ml = cJSON_GetObjectItemCaseSensitive(o, "matchLabels");
	const cJSON *me = cJSON_GetObjectItemCaseSensitive(o, "matchExpressions");
	const cJSON *e;
	if (ml && !cJSON_IsObject(ml) && !cJSON_IsNull(ml))
		cr_bad(c, "%s.matchLabels: must be an object", path);
	else
		cJSON_ArrayForEach(e, ml)
		{
			if (!cJSON_IsString(e))
				cr_bad(c, "%s.matchLabels.%s: must be a string", path, e->string);
		}
	if (me && !cJSON_IsArray(me) && !cJSON_IsNull(me)) {
		cr_bad(c, "%s.matchExpressions: must be a list", path);
		return;
	}
	int i = 0;
	cJSON_ArrayForEach(e, me)
	{
		char p[160];
		snprintf(p, sizeof(p), "%s.matchExpressions[%d]", path, i++);
		if (!cJSON_IsObject(e)) {
			cr_bad(c, "%s: must be an object", p);
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
			cr_bad(c, "%s.operator: '%s' is not In, NotIn, Exists or DoesNotExist", p,
			       op);
			continue;
		}
		int nv = cJSON_GetArraySize(vals);
		if ((k <= 1) != (nv > 0)) {
			cr_bad(c, "%s.values: %s", p,
			       k <= 1 ? "In and NotIn need values"
				      : "Exists and DoesNotExist take no values");
			continue;
		}
		const cJSON *v;
		cJSON_ArrayForEach(v, vals)
		{
			if (!cJSON_IsString(v))
				cr_bad(c, "%s.values: must be strings", p);
		}
	}
	if (c->bad)
		return;
	char err[256];
	*out = k8s_selector_compile(o, err, sizeof(err));
	if (!*out)
		cr_bad(c, "%s.%s", path, err);
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
			cr_bad(c, "%s: must be an object", p);
			return;
		}
		str_member(c, e, "name", p, true);
		const cJSON *fields = arr_member(c, e, "fields", p);
		const cJSON *comps = arr_member(c, e, "comps", p);
		const cJSON *values = arr_member(c, e, "values", p);
		int nf = cJSON_GetArraySize(fields);
		if (!nf)
			cr_bad(c, "%s.fields: required, at least one field", p);
		char q[96];
		snprintf(q, sizeof(q), "%s.fields", p);
		check_strings(c, fields, q);
		snprintf(q, sizeof(q), "%s.comps", p);
		check_strings(c, comps, q);
		if (comps && cJSON_GetArraySize(comps) != nf)
			cr_bad(c, "%s.comps: one operator per field (%d)", p, nf);
		int k = 0;
		const cJSON *t;
		cJSON_ArrayForEach(t, values)
		{
			snprintf(q, sizeof(q), "%s.values[%d]", p, k++);
			if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) != nf)
				cr_bad(c, "%s: must be a list of %d values (one per field)", q, nf);
			else
				check_strings(c, t, q);
		}
		i++;
	}
}

/* ---- rule text ---------------------------------------------------------------- */

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
	const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(spec, "source"));
	if (src)
		g_str(g, "  source: ", src, "spec.source");
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

static void obj_gen(struct obj *o);

/* spec.source: syscall (the default) or k8s_audit.  Audit events are
 * about the cluster, not a pod of this node: a k8s_audit rule is a
 * ClusterRule without pod, namespace or host scope. */
static void check_source(struct chk *c, int kind, const cJSON *spec)
{
	const char *src = str_member(c, spec, "source", "spec", false);
	if (!src || !strcmp(src, "syscall"))
		return;
	if (strcmp(src, "k8s_audit")) {
		cr_bad(c, "spec.source: unknown source '%s' (syscall or k8s_audit)", src);
		return;
	}
	if (kind != VG_CR_CLUSTERRULE)
		cr_bad(c, "spec.source: k8s_audit rules are ClusterRules (audit events are about "
			  "the whole cluster)");
	const char *scoped[] = {"podSelector", "namespaceSelector", "hostProcesses"};
	for (int i = 0; i < 3; i++)
		if (cJSON_GetObjectItemCaseSensitive(spec, scoped[i]))
			cr_bad(c, "spec.%s: a k8s_audit rule has no pod or host scope", scoped[i]);
}

/* Check a version (json) of the object and make its rule text; false with
 * c->msg when the spec is not valid. */
bool cr_obj_version(struct obj *o, const cJSON *json, struct chk *c)
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
		cr_bad(c, "spec: required object");
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
			cr_bad(c,
			       "spec.priority: unknown priority '%s' (Emergency, Alert, Critical, "
			       "Error, Warning, Notice, Informational, Debug)",
			       prio);
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(spec, "enabled");
		if (en && !cJSON_IsBool(en) && !cJSON_IsNull(en))
			cr_bad(c, "spec.enabled: must be true or false");
		const cJSON *tags = arr_member(c, spec, "tags", "spec");
		check_strings(c, tags, "spec.tags");
		check_exceptions(c, arr_member(c, spec, "exceptions", "spec"));
		parse_selector(c, cJSON_GetObjectItemCaseSensitive(spec, "podSelector"),
			       "spec.podSelector", &o->scope.pods);
		check_source(c, kind, spec);
	}
	if (kind == VG_CR_CLUSTERRULE) {
		parse_selector(c, cJSON_GetObjectItemCaseSensitive(spec, "namespaceSelector"),
			       "spec.namespaceSelector", &o->scope.nss);
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(spec, "hostProcesses");
		if (h && !cJSON_IsBool(h) && !cJSON_IsNull(h))
			cr_bad(c, "spec.hostProcesses: must be true or false");
		o->scope.host = cJSON_IsTrue(h);
	} else if (kind == VG_CR_RULE) {
		const char *bad_keys[] = {"namespaceSelector", "hostProcesses"};
		for (int i = 0; i < 2; i++)
			if (cJSON_GetObjectItemCaseSensitive(spec, bad_keys[i]))
				cr_bad(c,
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
