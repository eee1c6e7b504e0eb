/* Unit tests of the rules-file loader (agent/engine/rules.c): definitions and
 * redefinitions, nested lists, append and override per key, enabled
 * toggles, exceptions (generated condition text, and their effect through
 * the engine), and diagnostics with FILE:LINE:COL and the item. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "rules.h"
#include "scene.h"

static struct vg_ruleset *RS;
static struct vg_diag D;

static int setup(void **unused)
{
	(void)unused;
	RS = vg_ruleset_new();
	memset(&D, 0, sizeof(D));
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	vg_ruleset_free(RS);
	vg_diag_free(&D);
	return 0;
}

static int load(const char *name, const char *yaml)
{
	return vg_ruleset_add_text(RS, name, yaml, strlen(yaml), &D);
}

static void load_ok(const char *yaml)
{
	size_t before = D.n;
	if (load("r.yaml", yaml) != 0 || D.errors) {
		vg_diag_print(&D, stderr);
		fail_msg("rules did not load");
	}
	if (D.n != before) {
		vg_diag_print(&D, stderr);
		fail_msg("unexpected diagnostics");
	}
}

static const struct vg_rule_def *rule(const char *name)
{
	const struct vg_rule_def *const *defs;
	size_t n = vg_ruleset_rules(RS, &defs);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(defs[i]->name, name))
			return defs[i];
	fail_msg("no rule '%s'", name);
	return NULL;
}

/* the items of a list (nested lists expanded) joined by ',' */
static const char *items(const char *list)
{
	static char buf[1024];
	const char *const *v;
	int n = vg_ruleset_list_items(RS, list, &v);
	if (n < 0)
		return "<none>";
	size_t len = 0;
	buf[0] = 0;
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "", v[i]);
	return buf;
}

static const char *tags(const struct vg_rule_def *r)
{
	static char buf[512];
	size_t len = 0;
	buf[0] = 0;
	for (size_t i = 0; i < r->ntags; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? "," : "",
					r->tags[i]);
	return buf;
}

/* Exactly one new error, at file:line:col, whose message contains each of
 * the NULL-terminated strings. */
static void expect_diag(size_t before, const char *file, int line, int col, ...)
{
	if (D.n != before + 1) {
		vg_diag_print(&D, stderr);
		fail_msg("expected one new diagnostic, got %zu", D.n - before);
	}
	const struct vg_diag_entry *e = &D.v[before];
	assert_int_equal(e->error, 1);
	assert_string_equal(e->file, file);
	if (e->line != line || e->col != col)
		fail_msg("'%s' at %d:%d, expected %d:%d", e->msg, e->line, e->col, line, col);
	va_list ap;
	va_start(ap, col);
	for (const char *want; (want = va_arg(ap, const char *));)
		if (!strstr(e->msg, want))
			fail_msg("'%s' lacks '%s'", e->msg, want);
	va_end(ap);
}

/* ---- definitions -------------------------------------------------------- */

static void test_basic(void **unused)
{
	(void)unused;
	load_ok("- required_engine_version: 0.31.0\n"
		"- required_plugin_versions:\n"
		"  - name: k8saudit\n"
		"    version: 0.7.0\n"
		"- list: shells\n"
		"  items: [bash, sh]\n"
		"- macro: spawned\n"
		"  condition: evt.type = execve\n"
		"- rule: Shell\n"
		"  desc: a shell started\n"
		"  condition: spawned and proc.name in (shells)\n"
		"  output: shell %proc.name\n"
		"  priority: warning\n"
		"  tags: [host, T1059]\n"
		"- rule: Block\n"
		"  desc: >\n"
		"    folded description\n"
		"  condition: >\n"
		"    evt.type = openat and\n"
		"      fd.name = /etc/shadow\n"
		"  output: \"read %fd.name\"\n"
		"  priority: INFO\n"
		"  enabled: false\n"
		"  source: syscall\n");
	const struct vg_rule_def *const *defs;
	assert_int_equal(vg_ruleset_rules(RS, &defs), 2);
	assert_string_equal(defs[0]->name, "Shell");
	assert_string_equal(defs[1]->name, "Block");
	assert_int_equal(vg_ruleset_count_macros(RS), 1);
	assert_int_equal(vg_ruleset_count_lists(RS), 1);

	const struct vg_rule_def *r = rule("Shell");
	assert_string_equal(r->cond.text, "spawned and proc.name in (shells)");
	assert_string_equal(r->cond.pos.file, "r.yaml");
	assert_int_equal(r->cond.pos.line, 11);
	assert_int_equal(r->cond.pos.col, 14);
	assert_int_equal(r->pos.line, 9);
	assert_int_equal(r->pos.col, 3);
	assert_string_equal(r->output.text, "shell %proc.name");
	assert_string_equal(r->desc, "a shell started");
	assert_string_equal(r->source, "syscall");
	assert_int_equal(r->priority, VG_PRIO_WARNING);
	assert_string_equal(tags(r), "host,T1059");
	assert_true(r->enabled);

	r = rule("Block");
	/* block scalars keep their source lines so positions stay exact */
	assert_non_null(strstr(r->cond.text, "evt.type = openat and"));
	assert_non_null(strstr(r->cond.text, "fd.name = /etc/shadow"));
	assert_int_equal(r->cond.pos.line, 19);
	assert_int_equal(r->cond.pos.col, 1);
	/* a quoted output starts after its quote */
	assert_string_equal(r->output.text, "read %fd.name");
	assert_int_equal(r->output.pos.line, 21);
	assert_int_equal(r->output.pos.col, 12);
	assert_int_equal(r->priority, VG_PRIO_INFORMATIONAL);
	assert_false(r->enabled);
	assert_int_equal(r->ntags, 0);

	const struct vg_macro_def *m = vg_ruleset_macro(RS, "spawned");
	assert_non_null(m);
	assert_string_equal(m->cond.text, "evt.type = execve");
	assert_int_equal(m->cond.pos.line, 8);
	assert_null(vg_ruleset_macro(RS, "nope"));
	const struct vg_list_def *l = vg_ruleset_list(RS, "shells");
	assert_non_null(l);
	assert_int_equal(l->n, 2);
	assert_int_equal(l->pos.line, 5);
	assert_null(vg_ruleset_list(RS, "nope"));
	assert_int_equal(D.n, 0);
}

/* Outputs are YAML values: folded and multi-line texts are joined, not
 * kept with their source line breaks and indentation. */
static void test_output_text(void **unused)
{
	(void)unused;
	load_ok("- rule: Folded\n  desc: d\n  condition: proc.pid = 1\n"
		"  output: >\n    file opened\n    by %proc.name (%fd.name)\n"
		"  priority: Debug\n"
		"- rule: Plain\n  desc: d\n  condition: proc.pid = 1\n"
		"  output: file opened\n    by %proc.name\n"
		"  priority: Debug\n"
		"- rule: Quoted\n  desc: d\n  condition: proc.pid = 1\n"
		"  output: 'it''s %proc.name'\n"
		"  priority: Debug\n");
	const struct vg_rule_def *r = rule("Folded");
	assert_string_equal(r->output.text, "file opened by %proc.name (%fd.name)");
	assert_int_equal(r->output.pos.line, 5);
	assert_int_equal(r->output.pos.col, 5);
	r = rule("Plain");
	assert_string_equal(r->output.text, "file opened by %proc.name");
	assert_int_equal(r->output.pos.line, 11);
	assert_int_equal(r->output.pos.col, 11);
	r = rule("Quoted");
	assert_string_equal(r->output.text, "it's %proc.name");
	load_ok("- rule: Plain\n  output: >\n    and more\n  override:\n    output: append\n");
	assert_string_equal(rule("Plain")->output.text, "file opened by %proc.name and more");
	/* an unknown field in the first line of a folded output is exact */
	struct vg_diag d = {0};
	size_t before = D.n;
	load_ok("- rule: BadOut\n  desc: d\n  condition: proc.pid = 1\n"
		"  output: >\n      x %proc.nme\n  priority: Debug\n");
	assert_int_equal(D.n, before);
	struct vg_engine *e = vg_engine_build(RS, &d);
	assert_int_equal(d.errors, 1);
	size_t i = 0;
	while (!d.v[i].error)
		i++;
	assert_non_null(strstr(d.v[i].msg, "%proc.nme"));
	assert_non_null(strstr(d.v[i].msg, "rule 'BadOut'"));
	assert_int_equal(d.v[i].line, 5);
	assert_int_equal(d.v[i].col, 9);
	vg_engine_free(e);
	vg_diag_free(&d);
}

static void test_priorities(void **unused)
{
	(void)unused;
	static const char *const names[] = {"Emergency", "Alert",  "Critical",	    "Error",
					    "Warning",	 "Notice", "Informational", "Debug"};
	for (int i = 0; i < 8; i++) {
		assert_string_equal(vg_priority_name(i), names[i]);
		assert_int_equal(vg_priority_parse(names[i]), i);
	}
	assert_int_equal(vg_priority_parse("emergency"), VG_PRIO_EMERGENCY);
	assert_int_equal(vg_priority_parse("CRITICAL"), VG_PRIO_CRITICAL);
	assert_int_equal(vg_priority_parse("info"), VG_PRIO_INFORMATIONAL);
	assert_int_equal(vg_priority_parse("loud"), -1);
	assert_int_equal(vg_priority_parse(""), -1);
}

static void test_redefine(void **unused)
{
	(void)unused;
	load_ok("- list: l\n  items: [a, b]\n"
		"- macro: m\n  condition: proc.name = a\n"
		"- rule: R1\n  desc: one\n  condition: m\n  output: o1\n  priority: Error\n"
		"- rule: R2\n  desc: two\n  condition: m\n  output: o2\n  priority: Error\n");
	load_ok("- list: l\n  items: [c]\n"
		"- macro: m\n  condition: proc.name = b\n"
		"- rule: R1\n  desc: one again\n  condition: proc.pid = 1\n  output: o1b\n"
		"  priority: Debug\n  tags: [x]\n");
	const struct vg_rule_def *const *defs;
	assert_int_equal(vg_ruleset_rules(RS, &defs), 2);
	/* the redefinition keeps its first place */
	assert_string_equal(defs[0]->name, "R1");
	assert_string_equal(defs[1]->name, "R2");
	assert_string_equal(defs[0]->cond.text, "proc.pid = 1");
	assert_string_equal(defs[0]->output.text, "o1b");
	assert_string_equal(defs[0]->desc, "one again");
	assert_int_equal(defs[0]->priority, VG_PRIO_DEBUG);
	assert_string_equal(tags(defs[0]), "x");
	assert_string_equal(vg_ruleset_macro(RS, "m")->cond.text, "proc.name = b");
	assert_string_equal(items("l"), "c");
	assert_int_equal(vg_ruleset_count_macros(RS), 1);
	assert_int_equal(vg_ruleset_count_lists(RS), 1);
}

static void test_nested_lists(void **unused)
{
	(void)unused;
	load_ok("- list: a\n  items: [x, y]\n"
		"- list: b\n  items: [a, z]\n"
		"- list: c\n  items: [b, '\"quoted\"', a]\n"
		"- list: empty\n  items: []\n"
		"- list: loop1\n  items: [loop2, p]\n"
		"- list: loop2\n  items: [loop1, q]\n");
	assert_string_equal(items("a"), "x,y");
	assert_string_equal(items("b"), "x,y,z");
	assert_string_equal(items("c"), "x,y,z,\"quoted\",x,y");
	assert_string_equal(items("empty"), "");
	assert_string_equal(items("nope"), "<none>");
	/* a cycle ends (the name stays as an item) instead of looping */
	const char *const *v;
	assert_true(vg_ruleset_list_items(RS, "loop1", &v) >= 2);
	/* the items as written are kept */
	const struct vg_list_def *l = vg_ruleset_list(RS, "c");
	assert_int_equal(l->n, 3);
	assert_string_equal(l->items[0], "b");
	/* changing an inner list changes the outer expansion (no stale cache) */
	load_ok("- list: a\n  items: [w]\n");
	assert_string_equal(items("c"), "w,z,\"quoted\",w");
	load_ok("- list: a\n  items: [v]\n  append: true\n");
	assert_string_equal(items("b"), "w,v,z");
}

static void test_append(void **unused)
{
	(void)unused;
	load_ok("- list: l\n  items: [a]\n"
		"- macro: m\n  condition: proc.name = a\n"
		"- rule: R\n  desc: d\n  condition: evt.type = openat\n  output: o\n"
		"  priority: Error\n  tags: [t1]\n");
	load_ok("- list: l\n  items: [b, c]\n  append: true\n"
		"- macro: m\n  condition: or proc.name = b\n  append: true\n"
		"- rule: R\n  condition: and proc.name = cat\n  append: true\n");
	assert_string_equal(items("l"), "a,b,c");
	assert_string_equal(vg_ruleset_macro(RS, "m")->cond.text, "proc.name = a or proc.name = b");
	const struct vg_rule_def *r = rule("R");
	assert_string_equal(r->cond.text, "evt.type = openat and proc.name = cat");
	assert_string_equal(r->output.text, "o");
	assert_string_equal(tags(r), "t1");

	/* the deprecated append only appends condition and exceptions */
	size_t before = D.n;
	assert_int_equal(load("a.yaml", "- rule: R\n  append: true\n  output: other\n"), 1);
	expect_diag(before, "a.yaml", 3, 11, "only appends condition", "rule 'R'", NULL);
	assert_string_equal(rule("R")->output.text, "o");

	/* append to what is not defined */
	before = D.n;
	assert_int_equal(load("u.yaml",
			      "- rule: ok\n  desc: d\n  condition: proc.pid = 1\n  output: o\n"
			      "  priority: Debug\n"
			      "- rule: Ghost\n  condition: and x\n  append: true\n"),
			 1);
	expect_diag(before, "u.yaml", 6, 3, "append of rule 'Ghost'", "not defined", NULL);
	before = D.n;
	assert_int_equal(load("u.yaml", "- macro: ghost\n  condition: x\n  append: true\n"), 1);
	expect_diag(before, "u.yaml", 1, 3, "append of macro 'ghost'", "not defined", NULL);
	before = D.n;
	assert_int_equal(load("u.yaml", "- list: ghost\n  items: [x]\n  append: true\n"), 1);
	expect_diag(before, "u.yaml", 1, 3, "append of list 'ghost'", "not defined", NULL);
	/* the valid rule of the failing file still loaded */
	assert_string_equal(rule("ok")->cond.text, "proc.pid = 1");
}

static void test_override(void **unused)
{
	(void)unused;
	load_ok("- list: l\n  items: [a, b]\n"
		"- list: l2\n  items: [a, b]\n"
		"- macro: m\n  condition: proc.name = a\n"
		"- rule: R\n  desc: d\n  condition: evt.type = openat\n  output: out1\n"
		"  priority: Error\n  tags: [t1]\n"
		"  exceptions:\n  - name: e1\n    fields: proc.name\n    values: [cat]\n");
	load_ok("- list: l\n  items: [c]\n  override:\n    items: append\n"
		"- list: l2\n  items: [c]\n  override:\n    items: replace\n"
		"- macro: m\n  condition: proc.name = z\n  override:\n    condition: replace\n"
		"- rule: R\n"
		"  condition: and fd.name = /etc/shadow\n"
		"  output: out2\n"
		"  desc: d2\n"
		"  priority: critical\n"
		"  tags: [t2, t3]\n"
		"  enabled: false\n"
		"  exceptions:\n  - name: e2\n    fields: proc.pname\n    values: [bash]\n"
		"  override:\n"
		"    condition: append\n"
		"    output: replace\n"
		"    desc: replace\n"
		"    priority: replace\n"
		"    tags: append\n"
		"    enabled: replace\n"
		"    exceptions: append\n");
	assert_string_equal(items("l"), "a,b,c");
	assert_string_equal(items("l2"), "c");
	assert_string_equal(vg_ruleset_macro(RS, "m")->cond.text, "proc.name = z");
	const struct vg_rule_def *r = rule("R");
	/* exceptions apply to the whole condition, appended text included */
	assert_string_equal(r->cond.text, "(evt.type = openat and fd.name = /etc/shadow) and not "
					  "((proc.name in (cat)) or (proc.pname in (bash)))");
	assert_string_equal(r->output.text, "out2");
	assert_string_equal(r->desc, "d2");
	assert_int_equal(r->priority, VG_PRIO_CRITICAL);
	assert_string_equal(tags(r), "t1,t2,t3");
	assert_false(r->enabled);

	/* replace of tags and condition, append of output */
	load_ok("- rule: R\n  tags: [only]\n  condition: proc.pid = 2\n  output: more\n"
		"  enabled: true\n"
		"  override:\n    tags: replace\n    condition: replace\n    output: append\n"
		"    enabled: replace\n");
	r = rule("R");
	assert_string_equal(tags(r), "only");
	/* replacing the condition keeps the exceptions (a key of their own) */
	assert_string_equal(r->cond.text, "(proc.pid = 2) and not ((proc.name in (cat)) or "
					  "(proc.pname in (bash)))");
	assert_string_equal(r->output.text, "out2 more");
	assert_true(r->enabled);
	/* replacing the exceptions drops the old ones */
	load_ok("- rule: R\n  exceptions:\n  - name: e3\n    fields: proc.name\n    values: [vi]\n"
		"  override:\n    exceptions: replace\n");
	assert_string_equal(rule("R")->cond.text, "(proc.pid = 2) and not ((proc.name in (vi)))");
	load_ok("- rule: R\n  exceptions: []\n  override:\n    exceptions: replace\n");
	assert_string_equal(rule("R")->cond.text, "proc.pid = 2");

	/* override names a key the item does not set */
	size_t before = D.n;
	assert_int_equal(load("o.yaml", "- rule: R\n  condition: and x\n  override:\n"
					"    condition: append\n    output: replace\n"),
			 1);
	expect_diag(before, "o.yaml", 4, 5, "'output'", "does not set", "rule 'R'", NULL);
	assert_string_equal(rule("R")->cond.text, "proc.pid = 2");
	/* a key that cannot be appended to */
	before = D.n;
	assert_int_equal(load("o.yaml", "- rule: R\n  priority: Debug\n  override:\n"
					"    priority: append\n"),
			 1);
	expect_diag(before, "o.yaml", 4, 15, "'priority' must be replace", NULL);
	/* an unknown key in override */
	before = D.n;
	assert_int_equal(load("o.yaml", "- rule: R\n  priority: Debug\n  override:\n"
					"    prio: replace\n"),
			 1);
	expect_diag(before, "o.yaml", 4, 5, "unknown key 'prio'", NULL);
	/* override of an undefined rule */
	before = D.n;
	assert_int_equal(load("o.yaml", "- rule: Nope\n  priority: Debug\n  override:\n"
					"    priority: replace\n"),
			 1);
	expect_diag(before, "o.yaml", 1, 3, "override of rule 'Nope'", "not defined", NULL);
	assert_int_equal(rule("R")->priority, VG_PRIO_CRITICAL);
}

static void test_enabled_toggle(void **unused)
{
	(void)unused;
	load_ok("- rule: X\n  desc: d\n  condition: proc.pid = 1\n  output: o\n"
		"  priority: Notice\n");
	assert_true(rule("X")->enabled);
	load_ok("- rule: X\n  enabled: false\n");
	const struct vg_rule_def *r = rule("X");
	assert_false(r->enabled);
	assert_string_equal(r->cond.text, "proc.pid = 1");
	assert_string_equal(r->output.text, "o");
	assert_int_equal(r->priority, VG_PRIO_NOTICE);
	load_ok("- rule: X\n  enabled: true\n");
	assert_true(rule("X")->enabled);
	/* a toggle of an unknown rule is an error (the item is incomplete) */
	size_t before = D.n;
	assert_int_equal(load("t.yaml", "- rule: Y\n  enabled: false\n"), 1);
	expect_diag(before, "t.yaml", 1, 3, "rule 'Y'", NULL);
	/* enabled must be a boolean */
	before = D.n;
	assert_int_equal(load("t.yaml", "- rule: X\n  enabled: maybe\n"), 1);
	expect_diag(before, "t.yaml", 2, 12, "'enabled' must be true or false", NULL);
}

static void test_exceptions_text(void **unused)
{
	(void)unused;
	load_ok("- list: trusted\n  items: [cat, less]\n"
		"- rule: One\n  desc: d\n  condition: evt.type = openat\n  output: o\n"
		"  priority: Error\n"
		"  exceptions:\n"
		"  - name: by_name\n"
		"    fields: proc.name\n"
		"    comps: in\n"
		"    values: [cat, \"my app\"]\n"
		"  - name: by_prefix\n"
		"    fields: fd.name\n"
		"    comps: pmatch\n"
		"    values: [/tmp, /var/tmp]\n"
		"  - name: placeholder\n"
		"    fields: proc.name\n"
		"- rule: Multi\n  desc: d\n  condition: evt.type = openat\n  output: o\n"
		"  priority: Error\n"
		"  exceptions:\n"
		"  - name: proc_file\n"
		"    fields: [proc.name, fd.name]\n"
		"    comps: [=, startswith]\n"
		"    values:\n"
		"    - [cat, /etc/]\n"
		"    - [vi, \"/tmp/a b\"]\n"
		"  - name: default_comps\n"
		"    fields: [proc.name, fd.directory]\n"
		"    values:\n"
		"    - [less, [/etc, /var]]\n"
		"    - [trusted, /usr]\n"
		"- rule: None\n  desc: d\n  condition: evt.type = openat\n  output: o\n"
		"  priority: Error\n"
		"  exceptions:\n"
		"  - name: empty\n"
		"    fields: [proc.name]\n"
		"    values: []\n");
	assert_string_equal(rule("One")->cond.text,
			    "(evt.type = openat) and not ((proc.name in (cat, \"my app\")) or "
			    "(fd.name pmatch (/tmp, /var/tmp)))");
	assert_string_equal(rule("Multi")->cond.text,
			    "(evt.type = openat) and not ((proc.name = cat and fd.name startswith "
			    "/etc/) or (proc.name = vi and fd.name startswith \"/tmp/a b\") or "
			    "(proc.name = less and fd.directory in (/etc, /var)) or (proc.name = "
			    "trusted and fd.directory = /usr))");
	assert_string_equal(rule("None")->cond.text, "evt.type = openat");

	/* appended exceptions add a term */
	load_ok("- rule: None\n  exceptions:\n  - name: later\n    fields: [proc.name]\n"
		"    values: [[vi]]\n  append: true\n");
	assert_string_equal(rule("None")->cond.text,
			    "(evt.type = openat) and not ((proc.name = vi))");

	/* malformed exceptions */
	size_t before = D.n;
	assert_int_equal(load("e.yaml", "- rule: Bad\n  desc: d\n  condition: proc.pid = 1\n"
					"  output: o\n  priority: Error\n  exceptions:\n"
					"  - name: two\n    fields: [proc.name, fd.name]\n"
					"    values:\n    - [cat]\n"),
			 1);
	expect_diag(before, "e.yaml", 10, 7, "exception 'two'", "list of 2 items", "rule 'Bad'",
		    NULL);
	before = D.n;
	assert_int_equal(load("e.yaml", "- rule: Bad\n  desc: d\n  condition: proc.pid = 1\n"
					"  output: o\n  priority: Error\n  exceptions:\n"
					"  - name: nofields\n    values: [[cat]]\n"),
			 1);
	expect_diag(before, "e.yaml", 7, 5, "exception 'nofields' has no 'fields'", NULL);
	before = D.n;
	assert_int_equal(load("e.yaml", "- rule: Bad\n  desc: d\n  condition: proc.pid = 1\n"
					"  output: o\n  priority: Error\n  exceptions:\n"
					"  - name: x\n    fields: [proc.name]\n    comps: [=, =]\n"
					"    values: [[cat]]\n"),
			 1);
	expect_diag(before, "e.yaml", 9, 12, "2 comps for 1 fields", NULL);
}

/* Exceptions really exclude events once compiled. */
static void test_exceptions_engine(void **unused)
{
	(void)unused;
	struct scene *s = malloc(sizeof(*s));
	assert_int_equal(scene_init(s), 0);
	load_ok("- list: readers\n  items: [less, cat]\n"
		"- rule: Plain\n  desc: d\n  condition: evt.type = openat and fd.name = "
		"/etc/shadow\n"
		"  output: o\n  priority: Error\n"
		"- rule: Excepted\n  desc: d\n"
		"  condition: evt.type = openat and fd.name = /etc/shadow\n"
		"  output: o\n  priority: Error\n"
		"  exceptions:\n  - name: readers\n    fields: proc.name\n    values: [readers]\n"
		"- rule: Tuple\n  desc: d\n  condition: evt.type in (openat, connect)\n"
		"  output: o\n  priority: Error\n"
		"  exceptions:\n  - name: pf\n    fields: [proc.name, fd.name]\n"
		"    comps: [=, pmatch]\n"
		"    values:\n    - [cat, [/etc]]\n    - [curl, [/nonexistent]]\n");
	assert_string_equal(rule("Excepted")->cond.text,
			    "(evt.type = openat and fd.name = /etc/shadow) and not ((proc.name in "
			    "(readers)))");
	struct vg_engine *e = vg_engine_build(RS, &D);
	assert_int_equal(D.errors, 0);
	struct vg_cond_scratch *scr = vg_cond_scratch_new();
	assert_int_equal(vg_engine_match(e, &s->open, scr, NULL, NULL), 1); /* only Plain */
	assert_int_equal(vg_engine_match(e, &s->conn, scr, NULL, NULL), 1); /* Tuple: curl */
	vg_cond_scratch_free(scr);
	vg_engine_free(e);
	scene_free(s);
	free(s);
}

static void test_errors(void **unused)
{
	(void)unused;
	size_t before = D.n;
	/* invalid YAML: where the parser found the problem */
	assert_int_equal(load("bad.yaml", "- rule: x\n  desc: [unclosed\n- rule: y\n"), 1);
	assert_int_equal(D.n, before + 1);
	assert_string_equal(D.v[before].file, "bad.yaml");
	assert_non_null(strstr(D.v[before].msg, "invalid YAML"));
	assert_int_equal(D.v[before].line, 3);
	assert_int_equal(D.v[before].col, 7);
	before = D.n;
	assert_int_equal(load("tab.yaml", "- rule: x\n\tdesc: y\n"), 1);
	assert_non_null(strstr(D.v[before].msg, "invalid YAML"));
	assert_int_equal(D.v[before].line, 2);

	before = D.n;
	assert_int_equal(load("t.yaml", "- list: a\n  items: [x]\n- foo: bar\n"), 1);
	expect_diag(before, "t.yaml", 3, 3, "unknown item 'foo'", NULL);
	before = D.n;
	assert_int_equal(load("t.yaml", "rule: x\n"), 1);
	expect_diag(before, "t.yaml", 1, 1, "must be a list of items", NULL);
	before = D.n;
	assert_int_equal(load("t.yaml", "- just a string\n"), 1);
	expect_diag(before, "t.yaml", 1, 3, "must be a mapping", NULL);

	before = D.n;
	assert_int_equal(load("k.yaml", "- rule: r\n  desc: d\n  conditon: proc.pid = 1\n"
					"  output: o\n  priority: Error\n"),
			 1);
	expect_diag(before, "k.yaml", 3, 3, "unknown key 'conditon' in rule", "rule 'r'", NULL);
	before = D.n;
	assert_int_equal(load("k.yaml", "- macro: m\n  condtion: x\n"), 1);
	expect_diag(before, "k.yaml", 2, 3, "unknown key 'condtion' in macro", "macro 'm'", NULL);
	before = D.n;
	assert_int_equal(load("k.yaml", "- list: l\n  item: [x]\n"), 1);
	expect_diag(before, "k.yaml", 2, 3, "unknown key 'item' in list", "list 'l'", NULL);

	before = D.n;
	assert_int_equal(load("p.yaml", "- rule: r\n  desc: d\n  condition: proc.pid = 1\n"
					"  output: o\n  priority: LOUD\n"),
			 1);
	expect_diag(before, "p.yaml", 5, 13, "unknown priority 'LOUD'", "rule 'r'", NULL);

	before = D.n;
	assert_int_equal(load("m.yaml", "- rule: r\n  desc: d\n  output: o\n  priority: Error\n"),
			 1);
	expect_diag(before, "m.yaml", 1, 3, "rule has no 'condition'", "rule 'r'", NULL);
	before = D.n;
	assert_int_equal(
		load("m.yaml", "- rule: r2\n  desc: d\n  condition: x\n  priority: Error\n"), 1);
	expect_diag(before, "m.yaml", 1, 3, "rule has no 'output'", NULL);
	before = D.n;
	assert_int_equal(load("m.yaml", "- macro: m\n"), 1);
	expect_diag(before, "m.yaml", 1, 3, "macro has no 'condition'", NULL);
	before = D.n;
	assert_int_equal(load("m.yaml", "- list: l\n  items: x\n"), 1);
	expect_diag(before, "m.yaml", 2, 10, "'items' must be a list", NULL);
	before = D.n;
	assert_int_equal(load("m.yaml", "- rule: \"\"\n"), 1);
	expect_diag(before, "m.yaml", 1, 9, "non-empty", NULL);
	before = D.n;
	assert_int_equal(load("m.yaml", "- rule: r\n  desc: d\n  condition: [a]\n  output: o\n"
					"  priority: Error\n"),
			 1);
	expect_diag(before, "m.yaml", 3, 14, "'condition' must be a string", NULL);

	/* several errors in one file are all reported; good items still load */
	before = D.n;
	assert_int_equal(load("all.yaml", "- rule: a\n  desc: d\n  condition: x\n  output: o\n"
					  "  priority: nope\n"
					  "- list: fine\n  items: [1]\n"
					  "- macro: m2\n  bogus: 1\n"),
			 2);
	assert_int_equal(D.n, before + 2);
	assert_int_equal(D.v[before].line, 5);
	assert_int_equal(D.v[before + 1].line, 9);
	assert_string_equal(items("fine"), "1");

	/* the printed form: FILE:LINE:COL: error: message */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct vg_diag one = {0};
	vg_diag_add(&one, 1, "x.yaml", 3, 7, "boom %d", 42);
	vg_diag_add(&one, 0, NULL, 1, 2, "careful");
	vg_diag_print(&one, f);
	fclose(f);
	assert_string_equal(buf, "x.yaml:3:7: error: boom 42\n<input>:1:2: warning: careful\n");
	assert_int_equal(one.errors, 1);
	assert_int_equal(one.warnings, 1);
	free(buf);
	vg_diag_free(&one);

	/* a file that cannot be read */
	before = D.n;
	assert_int_equal(vg_ruleset_add_file(RS, "/nonexistent/rules.yaml", &D), 1);
	assert_non_null(strstr(D.v[before].msg, "cannot read"));
	assert_string_equal(D.v[before].file, "/nonexistent/rules.yaml");

	/* an empty file is an empty rule set */
	before = D.n;
	assert_int_equal(load("empty.yaml", ""), 0);
	assert_int_equal(load("empty.yaml", "# just a comment\n"), 0);
	assert_int_equal(D.n, before);
}

static void test_other_keys(void **unused)
{
	(void)unused;
	load_ok("- rule: K\n  desc: d\n  condition: proc.pid = 1\n  output: o\n"
		"  priority: Alert\n  warn_evttypes: false\n  skip-if-unknown-filter: true\n");
	const struct vg_rule_def *r = rule("K");
	assert_false(r->warn_evttypes);
	assert_true(r->skip_if_unknown_filter);
	/* another source is kept with a warning */
	size_t before = D.n;
	assert_int_equal(load("s.yaml",
			      "- rule: A\n  desc: d\n  condition: ct.name = get\n"
			      "  output: o\n  priority: Alert\n  source: aws_cloudtrail\n"),
			 0);
	assert_int_equal(D.n, before + 1);
	assert_int_equal(D.v[before].error, 0);
	assert_int_equal(D.v[before].line, 6);
	assert_string_equal(rule("A")->source, "aws_cloudtrail");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_priorities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redefine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enabled_toggle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exceptions_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exceptions_engine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_keys, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
