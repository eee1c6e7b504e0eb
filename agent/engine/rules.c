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
 *
 * The loader is split over rules_int.h (the rule set's and the loader's
 * structures): rules_text.c (diagnostics, positioned texts), rules_set.c
 * (the set and its look-ups), rules_yaml.c (reading YAML nodes),
 * rules_except.c (exceptions) and this file (priorities, lists, macros,
 * rules, and items, documents and files).
 */
#include "rules_int.h"
#include "util.h"
#include "k8s_yamldepth.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- lists and macros ---------------------------------------------------- */

/* What a list and a macro item have in common: the keys "<kind>", vkey
 * (required, a scalar if told), "append" and "override" (which may only
 * name vkey, in either mode).  Returns vkey's node, NULL after an error. */
static yaml_node_t *load_named(struct loader *l, yaml_node_t *item, const char *kind,
			       const char *name, const char *vkey, bool scalar, bool *append,
			       yaml_node_t **ov, int *mode)
{
	const char *const keys[] = {kind, vkey, "append", "override", NULL};
	const char *const okeys[] = {vkey, NULL};
	if (rl_check_keys(l, item, keys, kind, name))
		return NULL;
	yaml_node_t *v = rl_get(l, item, vkey);
	if (!v) {
		rl_lerr(l, item, name, "%s has no '%s'", kind, vkey);
		return NULL;
	}
	if (scalar && rl_want_scalar(l, v, vkey, name))
		return NULL;
	*mode = 0; /* the override mode of vkey, the one key okeys holds */
	if (rl_read_modifiers(l, item, name, okeys, okeys, mode, append, ov))
		return NULL;
	return v;
}

/* append or override of a list or macro that is not (yet) defined */
static void undefined_err(struct loader *l, yaml_node_t *item, const char *kind, const char *name,
			  bool append)
{
	rl_lerr(l, item, name, "%s of %s '%s', which is not defined",
		append ? "append" : "override", kind, name);
}

static void load_list(struct loader *l, yaml_node_t *item, const char *name)
{
	bool append;
	yaml_node_t *ov;
	int mode;
	yaml_node_t *items = load_named(l, item, "list", name, "items", false, &append, &ov, &mode);
	if (!items)
		return;
	size_t n;
	char **v = rl_strings_of(l, items, "items", name, &n);
	if (!v)
		return;
	struct list_slot *old = rl_find_list(l->rs, name);
	rl_list_uncache(l->rs);
	if (append || ov) {
		if (!old) {
			undefined_err(l, item, "list", name, append);
			rl_free_strv(v, n);
			return;
		}
		if (append || mode == 1) {
			old->def.items =
				vg_xrealloc(old->def.items, (old->def.n + n + 1) * sizeof(char *));
			memcpy(old->def.items + old->def.n, v, n * sizeof(char *));
			old->def.n += n;
			free(v);
		} else {
			rl_free_strv(old->def.items, old->def.n);
			old->def.items = v;
			old->def.n = n;
		}
		return;
	}
	if (old) { /* a redefinition replaces, in its place */
		rl_free_strv(old->def.items, old->def.n);
		old->def.items = v;
		old->def.n = n;
		old->def.pos = rl_node_pos(l, item);
		return;
	}
	struct list_slot *s = vg_xcalloc(1, sizeof(*s));
	s->def.name = vg_xstrdup(name);
	s->def.pos = rl_node_pos(l, item);
	s->def.items = v;
	s->def.n = n;
	rl_add_list(l->rs, s);
}

static void load_macro(struct loader *l, yaml_node_t *item, const char *name)
{
	bool append;
	yaml_node_t *ov;
	int mode;
	yaml_node_t *c = load_named(l, item, "macro", name, "condition", true, &append, &ov, &mode);
	if (!c)
		return;
	struct vg_text t = rl_cond_text(l, c);
	struct vg_macro_def *old = rl_find_macro(l->rs, name);
	if (append || ov) {
		if (!old) {
			undefined_err(l, item, "macro", name, append);
			rl_text_free(&t);
			return;
		}
		rl_text_modify(&old->cond, &t, append || mode == 1);
		return;
	}
	if (old) {
		rl_text_free(&old->cond);
		old->cond = t;
		return;
	}
	struct vg_macro_def *m = vg_xcalloc(1, sizeof(*m));
	m->name = vg_xstrdup(name);
	m->cond = t;
	rl_add_macro(l->rs, m);
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
#define RULE_KEYS_OVERRIDABLE                                                                      \
	"condition", "output", "desc", "priority", "tags", "exceptions", "enabled",                \
		"warn_evttypes", "skip-if-unknown-filter", "capture", "capture_duration"
static const char *const rule_keys[] = {RULE_KEYS_OVERRIDABLE, "source", NULL};
static const char *const override_keys[] = {RULE_KEYS_OVERRIDABLE, NULL};
#undef RULE_KEYS_OVERRIDABLE
_Static_assert(sizeof(rule_keys) / sizeof(rule_keys[0]) == RK_N + 1, "a key per enum rkey");
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
		ri->n[i] = rl_get(l, item, rule_keys[i]);
	static const int scalars[] = {RK_CONDITION, RK_OUTPUT, RK_DESC, RK_PRIORITY, RK_SOURCE};
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
		if (ri->n[scalars[i]] &&
		    rl_want_scalar(l, ri->n[scalars[i]], rule_keys[scalars[i]], name))
			return -1;
	if (ri->n[RK_PRIORITY]) {
		ri->prio = vg_priority_parse(rl_scalar(ri->n[RK_PRIORITY]));
		if (ri->prio < 0) {
			rl_lerr(l, ri->n[RK_PRIORITY], name,
				"unknown priority '%s' (Emergency, Alert, Critical, Error, "
				"Warning, "
				"Notice, Informational, Debug)",
				rl_scalar(ri->n[RK_PRIORITY]));
			return -1;
		}
	}
	bool capture;
	if ((ri->n[RK_ENABLED] &&
	     rl_get_bool(l, ri->n[RK_ENABLED], "enabled", name, &ri->enabled)) ||
	    (ri->n[RK_WARN] && rl_get_bool(l, ri->n[RK_WARN], "warn_evttypes", name, &ri->warn)) ||
	    (ri->n[RK_SKIP] &&
	     rl_get_bool(l, ri->n[RK_SKIP], "skip-if-unknown-filter", name, &ri->skip)) ||
	    (ri->n[RK_CAPTURE] && rl_get_bool(l, ri->n[RK_CAPTURE], "capture", name, &capture)))
		return -1;
	if (ri->n[RK_TAGS]) {
		ri->tags = rl_strings_of(l, ri->n[RK_TAGS], "tags", name, &ri->ntags);
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
				rl_lerr(l, n[i], name,
					"'append: true' only appends condition and exceptions, not "
					"'%s' "
					"(use 'override')",
					rule_keys[i]);
				return;
			}
		if (!n[RK_CONDITION] && !n[RK_EXCEPTIONS]) {
			rl_lerr(l, item, name, "'append: true' without condition or exceptions");
			return;
		}
		modes[RK_CONDITION] = n[RK_CONDITION] ? 1 : 0;
		modes[RK_EXCEPTIONS] = n[RK_EXCEPTIONS] ? 1 : 0;
	}
	struct exc_op *ops = NULL;
	size_t nops = 0;
	if (modes[RK_EXCEPTIONS] &&
	    rl_parse_exceptions(l, name, n[RK_EXCEPTIONS], modes[RK_EXCEPTIONS] == 1 ? old : NULL,
				&ops, &nops))
		return;
	struct vg_rule_def *r = &old->def;
	if (modes[RK_CONDITION]) {
		struct vg_text t = rl_cond_text(l, n[RK_CONDITION]);
		rl_text_modify(&old->base, &t, modes[RK_CONDITION] == 1);
	}
	if (modes[RK_OUTPUT]) {
		struct vg_text t = rl_output_text(l, n[RK_OUTPUT]);
		rl_text_modify(&r->output, &t, modes[RK_OUTPUT] == 1);
	}
	if (modes[RK_DESC]) {
		char *s = rl_trimmed_value(n[RK_DESC]);
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
			rl_free_strv(r->tags, r->ntags);
			r->tags = NULL;
			r->ntags = 0;
		}
		add_tags(r, ri->tags, ri->ntags);
		ri->tags = NULL;
		ri->ntags = 0;
	}
	if (modes[RK_EXCEPTIONS] == 2) {
		rl_exc_free_all(old->exc, old->nexc);
		old->exc = NULL;
		old->nexc = 0;
	}
	if (modes[RK_EXCEPTIONS])
		rl_apply_exceptions(old, ops, nops);
	if (modes[RK_ENABLED])
		r->enabled = ri->enabled;
	if (modes[RK_WARN])
		r->warn_evttypes = ri->warn;
	if (modes[RK_SKIP])
		r->skip_if_unknown_filter = ri->skip;
	rl_rule_rebuild(old);
}

static void load_rule(struct loader *l, yaml_node_t *item, const char *name)
{
	static const char *const keys[] = {
		"rule",	   "condition",	       "output",  "desc",	   "priority",
		"tags",	   "exceptions",       "enabled", "warn_evttypes", "skip-if-unknown-filter",
		"capture", "capture_duration", "source",  "append",	   "override",
		NULL};
	if (rl_check_keys(l, item, keys, "rule", name))
		return;
	bool append;
	yaml_node_t *ov;
	int modes[RK_N] = {0};
	if (rl_read_modifiers(l, item, name, override_keys, override_append, modes, &append, &ov))
		return;
	struct rule_item ri;
	if (read_rule_item(l, item, name, &ri))
		return;

	struct vg_rule_def *old = rl_find_rule(l->rs, name);
	size_t nkeys = (size_t)(item->data.mapping.pairs.top - item->data.mapping.pairs.start);
	bool modifying = append || ov;
	/* an item with only `rule` and `enabled` toggles an existing rule */
	if (!modifying && old && ri.n[RK_ENABLED] && nkeys == 2) {
		modifying = true;
		modes[RK_ENABLED] = 2;
	}
	if (modifying) {
		if (!old)
			rl_lerr(l, item, name, "%s of rule '%s', which is not defined",
				append ? "append" : "override", name);
		else
			modify_rule(l, item, name, &ri, modes, append, rl_slot_of(old));
		rl_free_strv(ri.tags, ri.ntags);
		return;
	}

	static const int required[] = {RK_CONDITION, RK_OUTPUT, RK_DESC, RK_PRIORITY};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!ri.n[required[i]]) {
			if (nkeys == 2 && ri.n[RK_ENABLED])
				rl_lerr(l, item, name,
					"'enabled' of rule '%s', which is not defined (a new rule "
					"needs condition, output, desc and priority)",
					name);
			else
				rl_lerr(l, item, name, "rule has no '%s'", rule_keys[required[i]]);
			rl_free_strv(ri.tags, ri.ntags);
			return;
		}
	struct exc_op *ops = NULL;
	size_t nops = 0;
	if (ri.n[RK_EXCEPTIONS] &&
	    rl_parse_exceptions(l, name, ri.n[RK_EXCEPTIONS], NULL, &ops, &nops)) {
		rl_free_strv(ri.tags, ri.ntags);
		return;
	}
	struct rule_slot *s = vg_xcalloc(1, sizeof(*s));
	struct vg_rule_def *r = &s->def;
	r->name = vg_xstrdup(name);
	r->pos = rl_node_pos(l, item);
	s->base = rl_cond_text(l, ri.n[RK_CONDITION]);
	r->output = rl_output_text(l, ri.n[RK_OUTPUT]);
	r->desc = rl_trimmed_value(ri.n[RK_DESC]);
	r->source = ri.n[RK_SOURCE] ? rl_trimmed_value(ri.n[RK_SOURCE]) : vg_xstrdup("syscall");
	r->priority = ri.prio;
	add_tags(r, ri.tags, ri.ntags);
	r->enabled = ri.enabled;
	r->warn_evttypes = ri.warn;
	r->skip_if_unknown_filter = ri.skip;
	rl_apply_exceptions(s, ops, nops);
	rl_rule_rebuild(s);
	if (!vg_fsrc_by_name(r->source))
		rl_lwarn(l, ri.n[RK_SOURCE], name,
			 "source '%s' is not evaluated by vigil (only syscall and k8s_audit): rule "
			 "skipped",
			 r->source);
	if (old) { /* a later definition replaces the earlier, in its place */
		l->rs->rules[rl_rule_index(l->rs, name)] = r;
		rl_rule_free(old);
		return;
	}
	rl_add_rule(l->rs, r);
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
	if (rl_check_keys(l, item, keys, "item", NULL))
		return;
	long long want = engine_version(rl_scalar(v));
	if (want < 0) {
		rl_lerr(l, v, NULL, "required_engine_version must be a version like %s",
			VG_RULES_ENGINE_VERSION);
		return;
	}
	if (want > engine_version(VG_RULES_ENGINE_VERSION)) {
		struct vg_pos p = rl_node_pos(l, v);
		vg_diag_add(l->d, 0, l->file, p.line, p.col,
			    "the rules require engine version %s; vigil implements %s: rules "
			    "that use newer features may fail to compile",
			    rl_scalar(v), VG_RULES_ENGINE_VERSION);
	}
}

static void load_item(struct loader *l, yaml_node_t *item)
{
	if (item->type != YAML_MAPPING_NODE) {
		rl_lerr(l, item, NULL, "each item must be a mapping (rule, macro, list, ...)");
		return;
	}
	static const char *const kinds[] = {"rule", "macro", "list"};
	for (int k = 0; k < 3; k++) {
		yaml_node_t *nm = rl_get(l, item, kinds[k]);
		if (!nm)
			continue;
		const char *name = rl_scalar(nm);
		l->kind = kinds[k];
		if (!name || !*name) {
			rl_lerr(l, nm, NULL, "%s name must be a non-empty string", kinds[k]);
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
	yaml_node_t *v = rl_get(l, item, "required_engine_version");
	if (v) {
		load_engine_version(l, item, v);
		return;
	}
	if (rl_get(l, item, "required_plugin_versions")) {
		/* accepted: vigil has the syscall and k8s_audit sources built in
		 * (the k8saudit plugin and its json companion's fields) */
		static const char *const keys[] = {"required_plugin_versions", NULL};
		rl_check_keys(l, item, keys, "item", NULL);
		return;
	}
	yaml_node_pair_t *p = item->data.mapping.pairs.start;
	const char *k = p < item->data.mapping.pairs.top ? rl_scalar(rl_node(l, p->key)) : NULL;
	rl_lerr(l, item, NULL,
		"unknown item '%s' (expected rule, macro, list, required_engine_version or "
		"required_plugin_versions)",
		k ? k : "?");
}

/* Where libyaml found a problem: a scanner, parser or composer error has a
 * mark (and the construct it was in, with its own mark); a reader error
 * (a byte that is not UTF-8, a control character such as NUL) has only a
 * byte offset into the input, and a mark of 0:0. */
static void yaml_error(struct loader *l, const yaml_parser_t *p)
{
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
	char ctx[160] = "";
	if (p->error == YAML_READER_ERROR) {
		line = col = 1;
		size_t end = p->problem_offset < l->srclen ? p->problem_offset : l->srclen;
		size_t k = l->srclen >= 3 && !memcmp(l->src, "\xEF\xBB\xBF", 3) ? 3 : 0;
		for (; k < end; k++) {
			unsigned char ch = (unsigned char)l->src[k];
			if (ch == '\n')
				line++, col = 1;
			else if ((ch & 0xC0) != 0x80)
				col++; /* columns count characters */
		}
		if (p->problem_value >= 0)
			snprintf(ctx, sizeof(ctx), " (byte 0x%02X)",
				 (unsigned)p->problem_value & 0xFF);
	} else if (p->context) {
		snprintf(ctx, sizeof(ctx), " %s (at %d:%d)", p->context,
			 (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	}
	vg_diag_add(l->d, 1, l->file, line, col, "invalid YAML: %s%s",
		    p->problem ? p->problem : "syntax error", ctx);
	l->errors++;
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
	rl_build_cmap(&l);
	yaml_parser_t parser;
	/* the depth first: the document API would take O(depth^2) to refuse */
	size_t dl, dc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int deep = k8s_yaml_too_deep(&parser, K8S_YAML_MAX_DEPTH, &dl, &dc);
	yaml_parser_delete(&parser);
	if (deep) {
		vg_diag_add(d, 1, l.file, (int)dl, (int)dc,
			    "invalid YAML: lists and mappings nested deeper than %d levels",
			    K8S_YAML_MAX_DEPTH);
		free(l.cmap);
		return 1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	/* a file may hold several YAML documents, each a list of items */
	for (;;) {
		if (!yaml_parser_load(&parser, &l.doc)) {
			yaml_error(&l, &parser);
			break;
		}
		yaml_node_t *root = yaml_document_get_root_node(&l.doc);
		if (!root) {
			yaml_document_delete(&l.doc);
			break;
		}
		if (root->type == YAML_SEQUENCE_NODE) {
			for (size_t i = 0; i < rl_seq_len(root); i++)
				load_item(&l, rl_seq_at(&l, root, i));
		} else if (!(root->type == YAML_SCALAR_NODE && !*root->data.scalar.value)) {
			rl_lerr(&l, root, NULL, "a rules file must be a list of items");
		}
		yaml_document_delete(&l.doc);
	}
	yaml_parser_delete(&parser);
	free(l.cmap);
	return l.errors;
}

int vg_ruleset_add_file(struct vg_ruleset *rs, const char *path, struct vg_diag *d)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then
	 * turns it (and devices such as /dev/zero) away before any read */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		vg_diag_add(d, 1, path, 0, 0, "cannot read: %s", strerror(errno));
		return 1;
	}
	struct stat st;
	if (fstat(fd, &st)) {
		vg_diag_add(d, 1, path, 0, 0, "cannot read: %s", strerror(errno));
		close(fd);
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		vg_diag_add(d, 1, path, 0, 0, "not a regular file");
		close(fd);
		return 1;
	}
	if (st.st_size > VG_RULES_MAX_FILE) {
		vg_diag_add(d, 1, path, 0, 0,
			    "file too large: %lld bytes (a rules file may have at most %d MiB)",
			    (long long)st.st_size, VG_RULES_MAX_FILE >> 20);
		close(fd);
		return 1;
	}
	/* one byte more than the limit: a file that grew past it is caught */
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *buf = vg_xmalloc(cap + 1);
	int err = 0;
	for (;;) {
		if (len == cap) {
			if (cap > VG_RULES_MAX_FILE)
				break;
			cap = cap * 2 < (size_t)VG_RULES_MAX_FILE + 1
				      ? cap * 2
				      : (size_t)VG_RULES_MAX_FILE + 1;
			buf = vg_xrealloc(buf, cap + 1);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	int rc = 1;
	if (err)
		vg_diag_add(d, 1, path, 0, 0, "read error: %s", strerror(err));
	else if (len > VG_RULES_MAX_FILE)
		vg_diag_add(d, 1, path, 0, 0,
			    "file too large (a rules file may have at most %d MiB)",
			    VG_RULES_MAX_FILE >> 20);
	else
		rc = vg_ruleset_add_text(rs, path, buf, len, d);
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
	if (stat(path, &st)) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0; /* nothing there; errno says which */
		/* something is there but cannot be reached: a symlink loop
		 * (ELOOP), no permission... */
		int e = errno;
		vg_diag_add(d, 1, path, 0, 0, "cannot read: %s", strerror(e));
		errno = e;
		return 1;
	}
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
