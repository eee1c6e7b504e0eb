/* Unit tests of the rules-file loader (agent/engine/rules.c): definitions and
 * redefinitions, nested lists, append and override per key, enabled
 * toggles, exceptions (generated condition text, and their effect through
 * the engine), and diagnostics with FILE:LINE:COL and the item. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* A file of hundreds of thousands of items loads in linear time: each
 * item looked its name up by a search through the items before it, and
 * each list emptied every list's cache (200000 lists: minutes). */
static void test_many_items(void **unused)
{
	(void)unused;
	alarm(60);
	enum { NLISTS = 200000, NRULES = 20000 };
	size_t cap = (size_t)NLISTS * 40 + (size_t)NRULES * 120, len = 0;
	char *y = malloc(cap);
	for (int i = 0; i < NLISTS; i++)
		len += (size_t)snprintf(y + len, cap - len, "- list: l%d\n  items: [x%d]\n", i, i);
	for (int i = 0; i < NRULES; i++)
		len += (size_t)snprintf(y + len, cap - len,
					"- rule: r%d\n  desc: d\n  condition: evt.type = openat\n"
					"  output: o\n  priority: Error\n",
					i);
	/* a redefinition keeps its place, an append finds its list */
	len += (size_t)snprintf(y + len, cap - len,
				"- rule: r7\n  desc: again\n  condition: evt.type = openat\n"
				"  output: o\n  priority: Error\n"
				"- list: l123456\n  items: [more]\n  append: true\n");
	load_ok(y);
	free(y);
	const struct vg_rule_def *const *defs;
	assert_int_equal(vg_ruleset_rules(RS, &defs), NRULES);
	assert_string_equal(defs[7]->desc, "again");
	assert_string_equal(rule("r19999")->name, "r19999");
	assert_int_equal(vg_ruleset_count_lists(RS), NLISTS);
	assert_string_equal(items("l123456"), "x123456,more");
	assert_string_equal(items("l0"), "x0");
	assert_null(vg_ruleset_list(RS, "l200000"));
	alarm(0);
}

/* 100,000 nested flow sequences: libyaml's scanner is quadratic in the
 * depth (about 20 s), so the loader refuses the first collection past
 * K8S_YAML_MAX_DEPTH before loading, at its position, in well under 2 s of
 * CPU; block nesting is bounded the same way. */
static void test_deep_nesting(void **unused)
{
	(void)unused;
	enum { DEEP = 100000 };
	const char *head = "- list: deep\n  items: ";
	size_t hl = strlen(head);
	char *y = malloc(hl + 2 * DEEP + 2);
	memcpy(y, head, hl);
	memset(y + hl, '[', DEEP);
	memset(y + hl + DEEP, ']', DEEP);
	strcpy(y + hl + 2 * DEEP, "\n");
	clock_t t0 = clock();
	size_t before = D.n;
	assert_int_not_equal(load("deep.yaml", y), 0);
	double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	if (cpu > 2.0)
		fail_msg("rejecting 100000 nested lists took %.2f s of CPU", cpu);
	/* the list item is depth 1, its mapping 2: the 255th '[' is the 257th */
	expect_diag(before, "deep.yaml", 2, 10 + 254, "nested deeper than 256", NULL);
	free(y);

	/* block sequences nested in each other, one per line */
	enum { BDEEP = 300 };
	size_t cap = (size_t)BDEEP * (BDEEP + 4) + 64, len = 0;
	y = malloc(cap);
	for (int i = 0; i < BDEEP; i++)
		len += (size_t)snprintf(y + len, cap - len, "%*s-\n", i, "");
	before = D.n;
	assert_int_not_equal(load("block.yaml", y), 0);
	expect_diag(before, "block.yaml", 257, 257, "nested deeper than 256", NULL);
	free(y);

	/* 256 deep is allowed (and is not a list of strings) */
	y = malloc(hl + 2 * 254 + 2);
	memcpy(y, head, hl);
	memset(y + hl, '[', 254);
	memset(y + hl + 254, ']', 254);
	strcpy(y + hl + 2 * 254, "\n");
	before = D.n;
	load("ok.yaml", y);
	for (size_t i = before; i < D.n; i++)
		assert_null(strstr(D.v[i].msg, "nested deeper"));
	free(y);
}

/* ---- inputs that are not plain rules files ------------------------------ */

/* Exactly one new error about the whole of path, containing want. */
static void expect_file_diag(size_t before, const char *path, const char *want)
{
	if (D.n != before + 1) {
		vg_diag_print(&D, stderr);
		fail_msg("expected one new diagnostic, got %zu", D.n - before);
	}
	assert_int_equal(D.v[before].error, 1);
	assert_string_equal(D.v[before].file, path);
	assert_int_equal(D.v[before].line, 0);
	if (!strstr(D.v[before].msg, want))
		fail_msg("'%s' lacks '%s'", D.v[before].msg, want);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* /dev/zero grew without end, a FIFO blocked for ever, a symlink loop was
 * "no such file": each is now an error naming the file. */
static void test_odd_files(void **unused)
{
	(void)unused;
	alarm(20); /* a FIFO that blocks fails the test rather than hang it */
	char dir[] = "/tmp/vigil-test-rules-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[256], q[256];

	size_t before = D.n;
	assert_int_equal(vg_ruleset_add_file(RS, "/dev/zero", &D), 1);
	expect_file_diag(before, "/dev/zero", "not a regular file");

	snprintf(p, sizeof(p), "%s/fifo.yaml", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	before = D.n;
	assert_int_equal(vg_ruleset_add_file(RS, p, &D), 1);
	expect_file_diag(before, p, "not a regular file");

	/* a file over the limit is not read (sparse: no disk used) */
	snprintf(q, sizeof(q), "%s/big.yaml", dir);
	int fd = open(q, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, VG_RULES_MAX_FILE + 1), 0);
	close(fd);
	before = D.n;
	assert_int_equal(vg_ruleset_add_file(RS, q, &D), 1);
	expect_file_diag(before, q,
			 "file too large: 16777217 bytes (a rules file may have at "
			 "most 16 MiB)");
	unlink(q);

	/* a directory: its regular *.yaml load, a FIFO among them is an error */
	snprintf(q, sizeof(q), "%s/good.yaml", dir);
	write_file(q, "- list: from_dir\n  items: [x]\n");
	before = D.n;
	assert_int_equal(vg_ruleset_add_path(RS, dir, &D), 1);
	expect_file_diag(before, p, "not a regular file");
	assert_string_equal(items("from_dir"), "x");
	unlink(p);
	unlink(q);

	/* a symlink loop, as a file and as a path */
	snprintf(p, sizeof(p), "%s/a.yaml", dir);
	snprintf(q, sizeof(q), "%s/b.yaml", dir);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(symlink(p, q), 0);
	before = D.n;
	assert_int_equal(vg_ruleset_add_file(RS, p, &D), 1);
	expect_file_diag(before, p, "cannot read: Too many levels of symbolic links");
	before = D.n;
	assert_int_equal(vg_ruleset_add_path(RS, p, &D), 1);
	expect_file_diag(before, p, "cannot read: Too many levels of symbolic links");
	unlink(p);
	unlink(q);
	/* nothing there: 0, errno says so, and no diagnostic */
	before = D.n;
	errno = 0;
	assert_int_equal(vg_ruleset_add_path(RS, p, &D), 0);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(D.n, before);
	assert_int_equal(rmdir(dir), 0);

	/* printed without a position */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	vg_diag_print(&(struct vg_diag){D.v + D.n - 2, 1, 1, 1, 0}, f);
	fclose(f);
	char want[300];
	snprintf(want, sizeof(want),
		 "%s/a.yaml: error: cannot read: Too many levels of symbolic "
		 "links\n",
		 dir);
	assert_string_equal(buf, want);
	free(buf);
	alarm(0);
}

/* libyaml's reader errors (a byte that is not UTF-8, a control character)
 * were all reported at 1:1: they are where the byte is, in characters. */
static void test_yaml_errors_where(void **unused)
{
	(void)unused;
	static const char nul[] = "- list: a\n  items: [x]\n- rule: r\n  desc: ab\0c\n";
	size_t before = D.n;
	assert_int_equal(vg_ruleset_add_text(RS, "nul.yaml", nul, sizeof(nul) - 1, &D), 1);
	expect_diag(before, "nul.yaml", 4, 11, "invalid YAML: control characters are not allowed",
		    "(byte 0x00)", NULL);
	before = D.n;
	assert_int_equal(
		load("utf.yaml", "- list: a\n  items: [x]\n- rule: r\n  desc: \xc3\xa9\xff\n"), 1);
	expect_diag(before, "utf.yaml", 4, 10, "invalid YAML: invalid leading UTF-8 octet",
		    "(byte 0xFF)", NULL);
	before = D.n;
	assert_int_equal(load("cont.yaml", "- list: a\n  items: [\xe2\x82x]\n"), 1);
	/* at the byte that breaks the character */
	expect_diag(before, "cont.yaml", 2, 12, "invalid YAML: invalid trailing UTF-8 octet", NULL);
	/* a BOM is not a character */
	before = D.n;
	assert_int_equal(load("bom.yaml", "\xef\xbb\xbf- list: a\n  items: [\x01]\n"), 1);
	expect_diag(before, "bom.yaml", 2, 11, "control characters are not allowed", NULL);
	/* scanner errors had their place; now with the construct's */
	before = D.n;
	assert_int_equal(load("tab.yaml", "- rule: x\n\tdesc: y\n"), 1);
	expect_diag(before, "tab.yaml", 2, 1, "invalid YAML: found a tab character", "(at 1:9)",
		    NULL);
	before = D.n;
	assert_int_equal(load("map.yaml", "- rule: x\n  desc: y\n bad: z\n"), 1);
	expect_diag(before, "map.yaml", 3, 2, "invalid YAML: did not find expected",
		    "while parsing a block", NULL);
}

/* ---- expansion bombs ---------------------------------------------------- */

/* Macros b1..bN, each using the one before twice (2^N comparisons inlined),
 * a rule using bN, and a rule "Fine" that must still load and fire. */
static char *macro_bomb(int levels)
{
	size_t cap = 4096 + (size_t)levels * 64, len = 0;
	char *y = malloc(cap);
	len += (size_t)snprintf(y + len, cap - len, "- macro: b0\n  condition: proc.name = x\n");
	for (int i = 1; i <= levels; i++)
		len += (size_t)snprintf(y + len, cap - len,
					"- macro: b%d\n  condition: (b%d or b%d)\n", i, i - 1,
					i - 1);
	snprintf(y + len, cap - len,
		 "- rule: Bomb\n  desc: d\n  condition: evt.type = openat and b%d\n"
		 "  output: o\n  priority: Error\n"
		 "- rule: Fine\n  desc: d\n  condition: evt.type = openat\n"
		 "  output: o\n  priority: Error\n",
		 levels);
	return y;
}

/* Lists l1..lN, each naming the one before twice, leaf items l0. */
static char *list_bomb(int levels, const char *leaf, const char *use)
{
	size_t cap = 4096 + (size_t)levels * 64, len = 0;
	char *y = malloc(cap);
	len += (size_t)snprintf(y + len, cap - len, "- list: l0\n  items: %s\n", leaf);
	for (int i = 1; i <= levels; i++)
		len += (size_t)snprintf(y + len, cap - len, "- list: l%d\n  items: [l%d, l%d]\n", i,
					i - 1, i - 1);
	snprintf(y + len, cap - len,
		 "- rule: Bomb\n  desc: d\n  condition: evt.type = openat and proc.name in %s\n"
		 "  output: o\n  priority: Error\n"
		 "- rule: Fine\n  desc: d\n  condition: evt.type = openat\n"
		 "  output: o\n  priority: Error\n",
		 use);
	return y;
}

/* Load yaml, build the engine: "Bomb" fails with one error at line:col
 * containing want; "Fine" compiles and fires. */
static void expect_bomb(const char *yaml, int line, int col, const char *want, const char *want2)
{
	load_ok(yaml);
	size_t before = D.n;
	struct vg_engine *e = vg_engine_build(RS, &D);
	expect_diag(before, "r.yaml", line, col, want, want2, "(rule 'Bomb')", NULL);
	struct vg_engine_stats st;
	vg_engine_get_stats(e, &st);
	assert_int_equal(st.rules_failed, 1);
	assert_int_equal(st.rules_enabled, 1);
	assert_string_equal(vg_engine_rule(e, 0)->name, "Fine");
	struct scene *s = malloc(sizeof(*s));
	assert_int_equal(scene_init(s), 0);
	struct vg_cond_scratch *scr = vg_cond_scratch_new();
	assert_int_equal(vg_engine_match(e, &s->open, scr, NULL, NULL), 1);
	vg_cond_scratch_free(scr);
	vg_engine_free(e);
	scene_free(s);
	free(s);
}

/* Before the budget, 20 levels did not compile in 60 s (460 MB) and 39
 * levels reached 5.5 GB: the alarm fails the test instead of a hang. */
static void test_macro_bomb(void **unused)
{
	(void)unused;
	alarm(60);
	char *y = macro_bomb(20);
	/* 45:36: where Bomb's condition uses b20 */
	expect_bomb(y, 45, 36, "condition too large: macro 'b20' expands to more than 20000",
		    "comparisons");
	free(y);
	alarm(0);
}

static void test_macro_bomb_39(void **unused)
{
	(void)unused;
	alarm(60);
	char *y = macro_bomb(39);
	expect_bomb(y, 83, 36, "condition too large: macro 'b39' expands to more than 20000",
		    "comparisons");
	free(y);
	alarm(0);
}

/* Just within the limits, a condition compiles in time linear in its size
 * for every event type: 16384 comparisons on every type (the engine's
 * groups looked each comparison up in a linear search: 9 s for 8192), and
 * 262144 list items that are two values (inserting runs of equal keys in
 * the set's hash was quadratic: 5.7 s for 131072). */
static void test_large_within_limits(void **unused)
{
	(void)unused;
	alarm(20);
	char *y = macro_bomb(14);
	char *at = strstr(y, "evt.type = openat and b14");
	memcpy(at, "                      b14", strlen("evt.type = openat and b14"));
	load_ok(y);
	free(y);
	y = list_bomb(17, "[a, b]", "(l17)");
	char *r = strstr(y, "- rule: Bomb");
	memcpy(r, "- rule: List", 12);
	load_ok(y);
	free(y);
	struct vg_engine *e = vg_engine_build(RS, &D);
	assert_int_equal(D.errors, 0);
	struct vg_engine_stats st;
	vg_engine_get_stats(e, &st);
	assert_int_equal(st.rules_enabled, 3);
	vg_engine_free(e);
	alarm(0);
}

/* Nested lists: 40 levels (2^41 items), the same with empty leaves (2^40
 * visits, no item), and lists each within the limit used together past
 * it in one condition. */
static void test_list_bomb(void **unused)
{
	(void)unused;
	alarm(60);
	char *y = list_bomb(40, "[a, b]", "(l40)");
	expect_bomb(y, 85, 50, "list 'l40' has more than 262144 items", "expanded");
	assert_int_equal(vg_ruleset_list_items(RS, "l40", &(const char *const *){NULL}), -2);
	free(y);
	teardown(NULL);
	setup(NULL);
	y = list_bomb(40, "[]", "(l40)");
	expect_bomb(y, 85, 50, "list 'l40' has more than 262144 items", "expanded");
	free(y);
	teardown(NULL);
	setup(NULL);
	/* l17: 2^18 = 262144 items, the most a list may have */
	y = list_bomb(17, "[a, b]", "(l17, l17)");
	expect_bomb(y, 39, 55, "condition too large: more than 262144 list items", NULL);
	const char *const *v;
	assert_int_equal(vg_ruleset_list_items(RS, "l17", &v), 262144);
	free(y);
	alarm(0);
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
		cmocka_unit_test_setup_teardown(test_macro_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_macro_bomb_39, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_within_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_yaml_errors_where, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_items, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
