/* Falco semantics of the rules loader that are easy to get subtly wrong:
 * exceptions apply to the whole condition (whatever is appended later),
 * appended exception values join the exception they name, override must
 * list every key it sets, several YAML documents per file, duplicate keys,
 * required_engine_version, and errors found at compile time reported where
 * the text was written: appended from another file, generated from an
 * exception, in a macro appended elsewhere, in a folded multi-line output,
 * after non-ASCII text. */
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
static struct scene *S;
static struct vg_cond_scratch *SCR;

static int setup(void **unused)
{
	(void)unused;
	RS = vg_ruleset_new();
	memset(&D, 0, sizeof(D));
	S = malloc(sizeof(*S));
	SCR = vg_cond_scratch_new();
	return scene_init(S);
}

static int teardown(void **unused)
{
	(void)unused;
	vg_ruleset_free(RS);
	vg_diag_free(&D);
	scene_free(S);
	free(S);
	vg_cond_scratch_free(SCR);
	return 0;
}

static int load(const char *name, const char *yaml)
{
	return vg_ruleset_add_text(RS, name, yaml, strlen(yaml), &D);
}

static void load_ok(const char *name, const char *yaml)
{
	size_t before = D.n;
	if (load(name, yaml) != 0 || D.n != before) {
		vg_diag_print(&D, stderr);
		fail_msg("%s did not load cleanly", name);
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

/* Exactly one new diagnostic of that severity at file:line:col whose
 * message contains each of the NULL-terminated strings. */
static void expect(size_t before, int error, const char *file, int line, int col, ...)
{
	if (D.n != before + 1) {
		vg_diag_print(&D, stderr);
		fail_msg("expected one new diagnostic, got %zu", D.n - before);
	}
	const struct vg_diag_entry *e = &D.v[before];
	if (e->error != error || strcmp(e->file, file) || e->line != line || e->col != col)
		fail_msg("got %s:%d:%d %s '%s', expected %s:%d:%d %s", e->file, e->line, e->col,
			 e->error ? "error" : "warning", e->msg, file, line, col,
			 error ? "error" : "warning");
	va_list ap;
	va_start(ap, col);
	for (const char *want; (want = va_arg(ap, const char *));)
		if (!strstr(e->msg, want))
			fail_msg("'%s' lacks '%s'", e->msg, want);
	va_end(ap);
}

/* Some diagnostic since `from` is an error at file:line:col with both strings. */
static bool has_error(size_t from, const char *file, int line, int col, const char *s1,
		      const char *s2)
{
	for (size_t i = from; i < D.n; i++) {
		const struct vg_diag_entry *e = &D.v[i];
		if (e->error && !strcmp(e->file, file) && e->line == line && e->col == col &&
		    strstr(e->msg, s1) && strstr(e->msg, s2))
			return true;
	}
	vg_diag_print(&D, stderr);
	return false;
}

/* The rules of a freshly built engine that fire on ev, joined by |. */
static const char *fired(const struct vg_event *ev)
{
	static char names[512];
	struct vg_engine *e = vg_engine_build(RS, &D);
	names[0] = 0;
	for (size_t i = 0; i < vg_engine_rule_count(e); i++) {
		const struct vg_rule *r = vg_engine_rule(e, i);
		if (vg_cond_eval(r->cond, ev, SCR)) {
			size_t len = strlen(names);
			snprintf(names + len, sizeof(names) - len, "%s%s", len ? "|" : "", r->name);
		}
	}
	vg_engine_free(e);
	return names;
}

static void test_exceptions_cover_appended_condition(void **unused)
{
	(void)unused;
	load_ok("a.yaml", "- rule: R\n  desc: d\n  condition: proc.name = cat\n  output: o\n"
			  "  priority: Error\n"
			  "  exceptions:\n  - name: not_curl\n    fields: proc.name\n"
			  "    values: [curl]\n");
	load_ok("b.yaml", "- rule: R\n  condition: or proc.name = curl\n  append: true\n");
	assert_string_equal(
		rule("R")->cond.text,
		"(proc.name = cat or proc.name = curl) and not ((proc.name in (curl)))");
	/* Falco: (cat or curl) and not curl.  Appending after the exception
	 * term ("cat and not (curl) or curl") would fire on curl. */
	assert_string_equal(fired(&S->open), "R");
	assert_string_equal(fired(&S->conn), "");
	assert_int_equal(D.errors, 0);
}

static void test_exception_values_append_by_name(void **unused)
{
	(void)unused;
	load_ok("a.yaml", "- rule: R\n  desc: d\n  condition: evt.type in (openat, connect)\n"
			  "  output: o\n  priority: Error\n"
			  "  exceptions:\n"
			  "  - name: proc_file\n"
			  "    fields: [proc.name, fd.name]\n"
			  "    comps: [=, startswith]\n"
			  "    values:\n    - [vi, /tmp/]\n"
			  "  - name: later\n"
			  "    fields: [proc.name]\n");
	assert_string_equal(rule("R")->cond.text,
			    "(evt.type in (openat, connect)) and not ((proc.name = vi and fd.name "
			    "startswith /tmp/))");
	assert_string_equal(fired(&S->open), "R");
	/* only values: the fields and comps of the named exception apply */
	load_ok("b.yaml", "- rule: R\n  exceptions:\n  - name: proc_file\n"
			  "    values:\n    - [cat, /etc/]\n  append: true\n");
	assert_string_equal(rule("R")->cond.text,
			    "(evt.type in (openat, connect)) and not ((proc.name = vi and fd.name "
			    "startswith /tmp/) or (proc.name = cat and fd.name startswith /etc/))");
	assert_string_equal(fired(&S->open), "");
	assert_string_equal(fired(&S->conn), "R");
	/* override append does the same, and may add an exception */
	load_ok("c.yaml", "- rule: R\n  exceptions:\n  - name: later\n    values: [[curl]]\n"
			  "  - name: by_port\n    fields: fd.sport\n    values: [8443]\n"
			  "  override:\n    exceptions: append\n");
	assert_string_equal(
		rule("R")->cond.text,
		"(evt.type in (openat, connect)) and not ((proc.name = vi and fd.name "
		"startswith /tmp/) or (proc.name = cat and fd.name startswith /etc/) or "
		"(proc.name = curl) or (fd.sport in (8443)))");
	assert_string_equal(fired(&S->conn), "");

	/* fields of an existing exception cannot change */
	size_t before = D.n;
	assert_int_equal(load("d.yaml", "- rule: R\n  exceptions:\n  - name: later\n"
					"    fields: [proc.pname]\n    values: [[bash]]\n"
					"  append: true\n"),
			 1);
	expect(before, 1, "d.yaml", 4, 13, "exception 'later' exists", "only its values", NULL);
	/* a new exception needs fields */
	before = D.n;
	assert_int_equal(load("d.yaml", "- rule: R\n  exceptions:\n  - name: fresh\n"
					"    values: [[bash]]\n  append: true\n"),
			 1);
	expect(before, 1, "d.yaml", 3, 5, "exception 'fresh' has no 'fields'", NULL);
	/* the same name twice in one item */
	before = D.n;
	assert_int_equal(load("d.yaml", "- rule: R2\n  desc: d\n  condition: proc.pid = 1\n"
					"  output: o\n  priority: Error\n  exceptions:\n"
					"  - name: x\n    fields: proc.name\n"
					"  - name: x\n    fields: proc.pname\n"),
			 1);
	expect(before, 1, "d.yaml", 9, 11, "exception 'x' appears twice", NULL);
	/* nothing half-applied by the failed items */
	assert_non_null(strstr(rule("R")->cond.text, "(proc.name = curl)"));
	assert_null(strstr(rule("R")->cond.text, "bash"));
}

static void test_exception_value_forms(void **unused)
{
	(void)unused;
	load_ok("a.yaml", "- list: readers\n  items: [cat, less]\n"
			  "- rule: R\n  desc: d\n  condition: evt.type = openat\n  output: o\n"
			  "  priority: Error\n"
			  "  exceptions:\n"
			  "  - name: eq\n    fields: proc.name\n    comps: '='\n"
			  "    values: [vi, 'my app']\n"
			  "  - name: written_quoted\n    fields: proc.cmdline\n"
			  "    values: ['\"cat /etc/shadow\"', 'a,b', 'x\"y']\n"
			  "  - name: list_name\n    fields: [proc.name, fd.directory]\n"
			  "    comps: [in, =]\n    values:\n    - [readers, /etc]\n");
	/* one field with '=': one comparison per value; a value written with
	 * its quotes stays as written; other odd values are quoted; a list
	 * name after `in` sits in parentheses so that it expands */
	assert_string_equal(rule("R")->cond.text,
			    "(evt.type = openat) and not ((proc.name = vi or proc.name = \"my "
			    "app\") or (proc.cmdline in (\"cat /etc/shadow\", \"a,b\", x\"y)) or "
			    "(proc.name in (readers) and fd.directory = /etc))");
	assert_string_equal(fired(&S->open), "");
	assert_int_equal(D.errors, 0);

	size_t before = D.n;
	assert_int_equal(load("b.yaml",
			      "- rule: B\n  desc: d\n  condition: proc.pid = 1\n"
			      "  output: o\n  priority: Error\n  exceptions:\n"
			      "  - name: e\n    fields: [proc.name]\n    comps: [equals]\n"
			      "    values: [[a]]\n"),
			 1);
	expect(before, 1, "b.yaml", 9, 13, "unknown comparison 'equals'", "rule 'B'", NULL);
	before = D.n;
	assert_int_equal(load("b.yaml",
			      "- rule: B\n  desc: d\n  condition: proc.pid = 1\n"
			      "  output: o\n  priority: Error\n  exceptions:\n"
			      "  - name: e\n    fields: [proc.name]\n    comps: [startswith]\n"
			      "    values: [[[a, b]]]\n"),
			 1);
	expect(before, 1, "b.yaml", 10, 15, "needs in, intersects or pmatch", NULL);
	before = D.n;
	assert_int_equal(load("b.yaml", "- rule: B\n  desc: d\n  condition: proc.pid = 1\n"
					"  output: o\n  priority: Error\n  exceptions:\n"
					"  - name: e\n    fields: proc.name\n    values: [[a]]\n"),
			 1);
	expect(before, 1, "b.yaml", 9, 14, "has one field", NULL);
}

static void test_override_must_list_keys(void **unused)
{
	(void)unused;
	load_ok("a.yaml", "- rule: R\n  desc: d\n  condition: proc.pid = 1\n  output: o\n"
			  "  priority: Error\n  tags: [a]\n");
	size_t before = D.n;
	/* priority would otherwise be silently ignored */
	assert_int_equal(load("b.yaml", "- rule: R\n  condition: and proc.name = x\n"
					"  priority: Debug\n  override:\n    condition: append\n"),
			 1);
	expect(before, 1, "b.yaml", 3, 3, "'priority' is not under 'override'", "rule 'R'", NULL);
	assert_string_equal(rule("R")->cond.text, "proc.pid = 1");
	assert_int_equal(rule("R")->priority, VG_PRIO_ERROR);
	before = D.n;
	assert_int_equal(load("b.yaml", "- rule: R\n  condition: and proc.name = x\n"
					"  append: true\n  override:\n    condition: append\n"),
			 1);
	expect(before, 1, "b.yaml", 5, 5, "cannot be used together", NULL);
	/* source is not overridable */
	before = D.n;
	assert_int_equal(load("b.yaml", "- rule: R\n  source: k8s_audit\n  override:\n"
					"    source: replace\n"),
			 1);
	expect(before, 1, "b.yaml", 4, 5, "unknown key 'source' in override", NULL);
	/* lists and macros too */
	load_ok("a.yaml", "- list: l\n  items: [a]\n- macro: m\n  condition: proc.pid = 1\n");
	before = D.n;
	assert_int_equal(
		load("b.yaml", "- list: l\n  items: [b]\n  override:\n    items: prepend\n"), 1);
	expect(before, 1, "b.yaml", 4, 12, "'override' of 'items' must be append or replace", NULL);
	/* the deprecated append needs something to append */
	before = D.n;
	assert_int_equal(load("b.yaml", "- rule: R\n  append: true\n"), 1);
	expect(before, 1, "b.yaml", 1, 3, "without condition or exceptions", NULL);
	/* appended tags are a set */
	load_ok("c.yaml", "- rule: R\n  tags: [b, a]\n  override:\n    tags: append\n");
	const struct vg_rule_def *r = rule("R");
	assert_int_equal(r->ntags, 2);
	assert_string_equal(r->tags[0], "a");
	assert_string_equal(r->tags[1], "b");
}

static void test_documents_and_keys(void **unused)
{
	(void)unused;
	load_ok("a.yaml", "- list: l1\n  items: [a]\n---\n- list: l2\n  items: [b]\n---\n"
			  "# only a comment\n");
	assert_non_null(vg_ruleset_list(RS, "l1"));
	assert_non_null(vg_ruleset_list(RS, "l2"));
	size_t before = D.n;
	assert_int_equal(load("b.yaml", "- rule: R\n  desc: d\n  condition: proc.pid = 1\n"
					"  output: o\n  priority: Error\n  desc: again\n"),
			 1);
	expect(before, 1, "b.yaml", 6, 3, "duplicate key 'desc' in rule", "rule 'R'", NULL);
	/* an error in a later document is still found, the earlier one loads */
	before = D.n;
	assert_int_equal(
		load("c.yaml", "- list: l3\n  items: [c]\n---\n- list: l4\n  itemz: [d]\n"), 1);
	expect(before, 1, "c.yaml", 5, 3, "unknown key 'itemz' in list", NULL);
	assert_non_null(vg_ruleset_list(RS, "l3"));
}

static void test_engine_version(void **unused)
{
	(void)unused;
	load_ok("a.yaml", "- required_engine_version: 0.57.0\n- required_engine_version: 26\n"
			  "- required_engine_version: 0.10.3\n");
	size_t before = D.n;
	assert_int_equal(load("b.yaml", "- required_engine_version: 0.99.1\n"), 0);
	expect(before, 0, "b.yaml", 1, 28, "0.99.1", VG_RULES_ENGINE_VERSION, NULL);
	before = D.n;
	assert_int_equal(load("b.yaml", "- required_engine_version: latest\n"), 1);
	expect(before, 1, "b.yaml", 1, 28, "required_engine_version must be a version", NULL);
	before = D.n;
	assert_int_equal(load("b.yaml", "- required_engine_version: 0.1.0\n  extra: 1\n"), 1);
	expect(before, 1, "b.yaml", 2, 3, "unknown key 'extra'", NULL);
}

/* Compile errors are reported where the text was written. */
static void test_compile_error_positions(void **unused)
{
	(void)unused;
	load_ok("base.yaml", "- macro: m\n  condition: proc.name = cat\n"
			     "- rule: R\n  desc: d\n  condition: >\n    evt.type = openat and\n"
			     "    m\n  output: o\n  priority: Error\n");
	/* a condition appended from another file */
	load_ok("app.yaml", "# comment\n- rule: R\n  condition: >\n    and\n"
			    "      proc.nme = x\n  append: true\n");
	size_t before = D.n;
	struct vg_engine *e = vg_engine_build(RS, &D);
	expect(before, 1, "app.yaml", 5, 7, "unknown field 'proc.nme'", "rule 'R'", NULL);
	vg_engine_free(e);

	/* a macro condition appended in a third file */
	vg_ruleset_free(RS);
	RS = vg_ruleset_new();
	load_ok("base.yaml", "- macro: m\n  condition: proc.name = cat\n"
			     "- rule: R\n  desc: d\n  condition: evt.type = openat and m\n"
			     "  output: o\n  priority: Error\n");
	load_ok("m.yaml", "- macro: m\n  condition: or proc.pid = abc\n  override:\n"
			  "    condition: append\n");
	before = D.n;
	e = vg_engine_build(RS, &D);
	expect(before, 1, "m.yaml", 2, 28, "abc", "rule 'R'", NULL);
	vg_engine_free(e);

	/* an exception's field and value */
	vg_ruleset_free(RS);
	RS = vg_ruleset_new();
	load_ok("x.yaml", "- rule: F\n  desc: d\n  condition: evt.type = openat\n  output: o\n"
			  "  priority: Error\n  exceptions:\n  - name: e\n"
			  "    fields: [proc.name, proc.nmae]\n    values: [[a, b]]\n"
			  "- rule: V\n  desc: d\n  condition: evt.type = openat\n  output: o\n"
			  "  priority: Error\n  exceptions:\n  - name: e\n"
			  "    fields: [proc.name, proc.pid]\n    values:\n    - [a, 1]\n"
			  "    - [b, twelve]\n");
	before = D.n;
	e = vg_engine_build(RS, &D);
	assert_int_equal(D.n, before + 2);
	assert_true(has_error(before, "x.yaml", 8, 25, "unknown field 'proc.nmae'", "rule 'F'"));
	assert_true(has_error(before, "x.yaml", 20, 11, "'twelve'", "rule 'V'"));
	vg_engine_free(e);
}

static void test_outputs(void **unused)
{
	(void)unused;
	load_ok("o.yaml", "- rule: Folded\n  desc: >\n    a description\n    on two lines\n"
			  "  condition: evt.type = openat\n"
			  "  output: >\n    Read of %fd.name\n    by %proc.name (%proc.aname[2])\n"
			  "  priority: Error\n"
			  "- rule: Plain\n  desc: d\n  condition: evt.type = openat\n"
			  "  output: one %proc.name\n    two %fd.name\n  priority: Error\n");
	assert_string_equal(rule("Folded")->output.text,
			    "Read of %fd.name by %proc.name (%proc.aname[2])");
	assert_string_equal(rule("Folded")->desc, "a description on two lines");
	assert_string_equal(rule("Plain")->output.text, "one %proc.name two %fd.name");
	load_ok("p.yaml", "- rule: Plain\n  output: and %proc.pid\n  override:\n"
			  "    output: append\n");
	assert_string_equal(rule("Plain")->output.text,
			    "one %proc.name two %fd.name and %proc.pid");

	/* an unknown field on the second line of a folded output, and in an
	 * appended output */
	vg_ruleset_free(RS);
	RS = vg_ruleset_new();
	load_ok("o.yaml", "- rule: Folded\n  desc: d\n  condition: evt.type = openat\n"
			  "  output: >\n    Read of %fd.name\n      by %proc.nam now\n"
			  "  priority: Error\n"
			  "- rule: Other\n  desc: d\n  condition: evt.type = openat\n"
			  "  output: fine %proc.name\n  priority: Error\n");
	load_ok("p.yaml", "- rule: Other\n  output: \"and %fd.nam\"\n  override:\n"
			  "    output: append\n");
	size_t before = D.n;
	struct vg_engine *e = vg_engine_build(RS, &D);
	assert_int_equal(D.n, before + 2);
	assert_true(has_error(before, "o.yaml", 6, 10, "%proc.nam'", "rule 'Folded'"));
	assert_true(has_error(before, "p.yaml", 2, 16, "%fd.nam'", "rule 'Other'"));
	vg_engine_free(e);
}

/* libyaml marks count characters: positions after non-ASCII text. */
static void test_utf8_source(void **unused)
{
	(void)unused;
	load_ok("u.yaml", "- rule: Ünïcödé ✓\n  desc: lecture d'un fichier sensible — «shadow»\n"
			  "  condition: evt.type = openat and\n    fd.name = /etc/shadow\n"
			  "  output: lu par %proc.name ✓\n  priority: Error\n"
			  "- rule: Bad\n  desc: é\n  condition: \"evt.type = openat\"\n"
			  "  output: x\n  priority: Error\n"
			  "- rule: Worse\n  desc: ✓✓✓\n"
			  "  condition: evt.type = openat and proc.name != é and proc.nme = ✓\n"
			  "  output: x\n  priority: Error\n");
	const struct vg_rule_def *r = rule("Ünïcödé ✓");
	assert_string_equal(r->cond.text, "evt.type = openat and\n    fd.name = /etc/shadow");
	assert_string_equal(r->output.text, "lu par %proc.name ✓");
	assert_string_equal(rule("Bad")->cond.text, "evt.type = openat");
	size_t before = D.n;
	struct vg_engine *e = vg_engine_build(RS, &D);
	expect(before, 1, "u.yaml", 14, 55, "proc.nme", "rule 'Worse'", NULL);
	vg_engine_free(e);
	assert_string_equal(fired(&S->open), "Ünïcödé ✓|Bad");
}

static void test_skip_if_unknown_filter(void **unused)
{
	(void)unused;
	load_ok("s.yaml", "- rule: Plugin\n  desc: d\n  condition: evt.type = openat and\n"
			  "    k8smeta.pod.name = x\n  output: o\n  priority: Error\n"
			  "  skip-if-unknown-filter: true\n");
	size_t before = D.n;
	struct vg_engine *e = vg_engine_build(RS, &D);
	expect(before, 0, "s.yaml", 4, 5, "k8smeta.pod.name", "skip-if-unknown-filter", NULL);
	struct vg_engine_stats st;
	vg_engine_get_stats(e, &st);
	assert_int_equal(st.rules_skipped, 1);
	assert_int_equal(st.rules_failed, 0);
	assert_int_equal(vg_engine_rule_count(e), 0);
	vg_engine_free(e);
}

/* An evt.type name no event has (a misspelling) makes a comparison that
 * never matches: a warning where the name is, the rule still loads. */
static void test_unknown_evttype_warns(void **unused)
{
	(void)unused;
	load_ok("t.yaml", "- rule: Typo\n  desc: d\n  condition: evt.type=opennat and proc.name=x\n"
			  "  output: o\n  priority: Error\n");
	size_t before = D.n;
	struct vg_engine *e = vg_engine_build(RS, &D);
	expect(before, 0, "t.yaml", 3, 23, "unknown event type 'opennat'", "matches nothing",
	       "rule 'Typo'", NULL);
	assert_int_equal(vg_engine_rule_count(e), 1);
	vg_engine_free(e);
}

static void test_unknown_evttype_in_macro(void **unused)
{
	(void)unused;
	load_ok("m.yaml",
		"- macro: my_open\n  condition: evt.type in (open, opennat)\n"
		"- rule: Via macro\n  desc: d\n  condition: my_open and proc.name=x\n"
		"  output: o\n  priority: Error\n"
		"- rule: Fine\n  desc: d\n  condition: evt.type in (open, openat)\n"
		"  output: o\n  priority: Error\n"
		"- rule: Broken\n  desc: d\n  condition: evt.type = opennat and proc.nme = x\n"
		"  output: o\n  priority: Error\n");
	size_t before = D.n;
	struct vg_engine *e = vg_engine_build(RS, &D);
	/* the macro's warning, at its list; the broken rule's error only */
	assert_int_equal(D.n, before + 2);
	const struct vg_diag_entry *w = &D.v[before], *x = &D.v[before + 1];
	assert_false(w->error);
	assert_string_equal(w->file, "m.yaml");
	assert_int_equal(w->line, 2);
	assert_int_equal(w->col, 26);
	assert_non_null(strstr(w->msg, "'opennat'"));
	assert_non_null(strstr(w->msg, "rule 'Via macro'"));
	assert_true(x->error);
	assert_non_null(strstr(x->msg, "proc.nme"));
	vg_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_exceptions_cover_appended_condition, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exception_values_append_by_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exception_value_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_override_must_list_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_documents_and_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_engine_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compile_error_positions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utf8_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_if_unknown_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_evttype_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_evttype_in_macro, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
