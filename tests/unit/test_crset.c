/* Unit tests of agent/engine/crset.c: rule files + RuleLibrary + ClusterRule + Rule
 * merged in order, local macros visible to their rule only, a rejected
 * object isolated with its position, namespace / selector / host scoping
 * (every selector operator, labels changed live), per-kind counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crset.h"
#include "engine.h"
#include "scene.h"

static struct scene S;
static struct vg_cond_scratch *SCR;

/* the metadata the fake look-up returns for container "c0ffee000001" */
static struct vg_label POD_LABELS[4];
static struct vg_label NS_LABELS[4];
static struct vg_container_meta META;
static bool IN_POD;

static const struct vg_container_meta *lookup(void *ctx, const char *id)
{
	(void)ctx;
	return IN_POD && !strcmp(id, "c0ffee000001") ? &META : NULL;
}

static void set_pod(const char *ns, const char *app, const char *tier, const char *ns_env)
{
	IN_POD = ns != NULL;
	memset(&META, 0, sizeof(META));
	META.ns_name = ns;
	META.pod_name = "p";
	size_t n = 0;
	if (app)
		POD_LABELS[n++] = (struct vg_label){"app", app};
	if (tier)
		POD_LABELS[n++] = (struct vg_label){"tier", tier};
	META.pod_labels = POD_LABELS;
	META.npod_labels = n;
	n = 0;
	if (ns_env)
		NS_LABELS[n++] = (struct vg_label){"env", ns_env};
	META.ns_labels = NS_LABELS;
	META.nns_labels = n;
}

static const char FILES[] = "- macro: reader\n"
			    "  condition: proc.name = nobody\n"
			    "- list: shells\n"
			    "  items: [zsh]\n"
			    "- rule: File rule\n"
			    "  desc: d\n"
			    "  condition: evt.type = openat and reader\n"
			    "  output: o\n"
			    "  priority: Notice\n";

static void load_files(void *ctx, struct vg_ruleset *rs, struct vg_diag *d)
{
	(void)ctx;
	vg_ruleset_add_text(rs, "files.yaml", FILES, strlen(FILES), d);
}

struct objs {
	cJSON *json[16];
	struct vg_crset_obj o[16];
	size_t n;
};

static void add_obj(struct objs *v, int kind, const char *json)
{
	cJSON *j = cJSON_Parse(json);
	assert_non_null(j);
	v->json[v->n] = j;
	v->o[v->n] = (struct vg_crset_obj){kind, j, NULL};
	v->n++;
}

static void free_objs(struct objs *v)
{
	for (size_t i = 0; i < v->n; i++)
		cJSON_Delete(v->json[i]);
	v->n = 0;
}

static struct vg_crset *build(struct objs *v, struct vg_diag *d)
{
	struct vg_crset_input in = {.load_more = load_files, .objs = v->o, .nobjs = v->n};
	return vg_crset_build(&in, d);
}

struct hits {
	char names[1024];
};

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	(void)ev;
	struct hits *h = ctx;
	strcat(h->names, r->name);
	strcat(h->names, ";");
}

/* The rules that match ev, "a;b;" in load order. */
static const char *match(struct vg_crset *cs, struct vg_event *ev)
{
	static struct hits h;
	h.names[0] = 0;
	vg_engine_match(vg_crset_engine(cs), ev, SCR, on_match, &h);
	return h.names;
}

static const struct vg_crset_result *result(struct vg_crset *cs, const char *name)
{
	const struct vg_crset_result *r;
	size_t n = vg_crset_results(cs, &r);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(r[i].name, name))
			return &r[i];
	fail_msg("no result for %s", name);
	return NULL;
}

#define CR(name, spec) "{\"metadata\":{\"name\":\"" name "\",\"generation\":3},\"spec\":" spec "}"
#define NSR(ns, name, spec)                                                                        \
	"{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns                                 \
	"\",\"generation\":1},\"spec\":" spec "}"

/* Files first, then libraries by name (a library's macro replaces the
 * file's, for file rules too), then rules; local macros shadow. */
static void test_merge_order(void **state)
{
	(void)state;
	struct objs v = {0};
	add_obj(&v, VG_CR_RULELIBRARY,
		CR("lib-b", "{\"macros\":[{\"name\":\"reader\",\"condition\":\"proc.name = cat\"}],"
			    "\"lists\":[{\"name\":\"shells\",\"items\":[\"bash\", \"sh\"]}]}"));
	add_obj(&v, VG_CR_RULELIBRARY,
		CR("lib-a",
		   "{\"macros\":[{\"name\":\"reader\",\"condition\":\"proc.name = less\"}]}"));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("uses-lib",
		   "{\"condition\":\"evt.type = execve and proc.name in (shells)\","
		   "\"output\":\"o\",\"priority\":\"warning\",\"hostProcesses\":true}"));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("shadows",
		   "{\"rule\":\"Shadowing rule\",\"condition\":\"evt.type = openat and "
		   "reader\",\"output\":\"o\",\"priority\":\"DEBUG\","
		   "\"hostProcesses\":true,"
		   "\"macros\":[{\"name\":\"reader\",\"condition\":\"proc.name = x\"}]}"));
	struct vg_diag d = {0};
	struct vg_crset *cs = build(&v, &d);
	assert_int_equal(d.errors, 0);
	const struct vg_crset_result *r;
	assert_int_equal(vg_crset_results(cs, &r), 4);
	for (size_t i = 0; i < 4; i++)
		assert_true(r[i].accepted);
	assert_string_equal(r[0].name, "lib-b");
	assert_int_equal(r[0].generation, 3);
	assert_string_equal(r[0].reason, "Compiled");
	set_pod(NULL, NULL, NULL, NULL);
	/* lib-b (after lib-a) gives reader = cat: the file rule fires on cat */
	assert_string_equal(match(cs, &S.open), "File rule;");
	/* the library's list replaced the file's */
	assert_string_equal(match(cs, &S.exec), "uses-lib;");
	size_t acc, rej;
	vg_crset_count(cs, VG_CR_RULELIBRARY, &acc, &rej);
	assert_int_equal(acc, 2);
	assert_int_equal(rej, 0);
	vg_crset_count(cs, VG_CR_CLUSTERRULE, &acc, &rej);
	assert_int_equal(acc, 2);
	size_t fc, ff;
	vg_crset_file_rules(cs, &fc, &ff);
	assert_int_equal(fc, 1);
	assert_int_equal(ff, 0);
	/* the rule name is spec.rule, else metadata.name */
	struct vg_engine *e = vg_crset_engine(cs);
	assert_int_equal(vg_engine_rule_count(e), 3);
	assert_string_equal(vg_engine_rule(e, 1)->name, "Shadowing rule");
	assert_int_equal(vg_engine_rule(e, 1)->priority, VG_PRIO_DEBUG);
	vg_crset_free(cs);
	vg_diag_free(&d);
	free_objs(&v);
}

/* A rule's own macros and lists are invisible to other rules; a rule
 * named like a file rule does not replace it. */
static void test_local_macros(void **state)
{
	(void)state;
	struct objs v = {0};
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("a", "{\"rule\":\"File rule\",\"condition\":\"evt.type = openat and mine and "
			"proc.name in (mylist)\",\"output\":\"o\",\"priority\":\"Error\","
			"\"hostProcesses\":true,"
			"\"macros\":[{\"name\":\"mine\",\"condition\":\"fd.name = /etc/shadow\"}],"
			"\"lists\":[{\"name\":\"mylist\",\"items\":[\"cat\", \"shells\"]}]}"));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("b", "{\"condition\":\"evt.type = openat and mine\",\"output\":\"o\","
			"\"priority\":\"Error\",\"hostProcesses\":true}"));
	struct vg_diag d = {0};
	struct vg_crset *cs = build(&v, &d);
	assert_true(result(cs, "a")->accepted);
	const struct vg_crset_result *b = result(cs, "b");
	assert_false(b->accepted);
	assert_string_equal(b->reason, "CompileError");
	assert_string_equal(b->message, "ClusterRule b: spec.condition:1:23: undefined macro or "
					"unknown field 'mine'");
	set_pod(NULL, NULL, NULL, NULL);
	/* the file rule still runs (reader = nobody: no match) next to the
	 * object's rule of the same name */
	assert_string_equal(match(cs, &S.open), "File rule;");
	assert_int_equal(vg_engine_rule_count(vg_crset_engine(cs)), 2);
	vg_crset_free(cs);
	vg_diag_free(&d);
	free_objs(&v);
}

/* A rejected object never takes the others down; its message names the
 * field and the line:column inside it. */
static void test_rejected_isolated(void **state)
{
	(void)state;
	struct objs v = {0};
	add_obj(&v, VG_CR_RULE,
		NSR("team-a", "no-curl",
		    "{\"condition\":\"evt.type = connect and\\n  x.y = 1\",\"output\":\"o\","
		    "\"priority\":\"Warning\"}"));
	add_obj(&v, VG_CR_RULE,
		NSR("team-a", "bad-output",
		    "{\"condition\":\"evt.type = connect\",\"output\":\"to %fd.nme\","
		    "\"priority\":\"Warning\"}"));
	add_obj(&v, VG_CR_RULE,
		NSR("team-a", "no-output",
		    "{\"condition\":\"evt.type = connect\","
		    "\"priority\":\"Warning\"}"));
	add_obj(&v, VG_CR_RULE,
		NSR("team-a", "bad-prio",
		    "{\"condition\":\"evt.type = connect\","
		    "\"output\":\"o\",\"priority\":\"Loud\"}"));
	add_obj(&v, VG_CR_RULELIBRARY,
		CR("bad-lib", "{\"macros\":[{\"name\":\"m1\",\"condition\":\"proc.name = a\"},"
			      "{\"name\":\"m2\",\"condition\":\"proc.name = (\"}]}"));
	add_obj(&v, VG_CR_RULE,
		NSR("team-a", "uses-bad-lib",
		    "{\"condition\":\"evt.type = connect and m1\","
		    "\"output\":\"o\",\"priority\":\"Warning\"}"));
	add_obj(&v, VG_CR_RULE,
		NSR("team-a", "good",
		    "{\"condition\":\"evt.type = connect and proc.name = "
		    "curl\",\"output\":\"o\",\"priority\":\"Warning\"}"));
	add_obj(&v, VG_CR_RULE,
		NSR("team-a", "bad-exc",
		    "{\"condition\":\"evt.type = connect\",\"output\":\"o\",\"priority\":\"Info\","
		    "\"exceptions\":[{\"name\":\"e\",\"fields\":[\"proc.name\",\"fd.nope\"],"
		    "\"values\":[[\"a\",\"b\"]]}]}"));
	struct vg_diag d = {0};
	struct vg_crset *cs = build(&v, &d);
	assert_int_equal(d.errors, 0); /* files are fine */
	assert_string_equal(result(cs, "no-curl")->message,
			    "Rule team-a/no-curl: spec.condition:2:3: unknown field 'x.y'");
	assert_string_equal(
		result(cs, "bad-output")->message,
		"Rule team-a/bad-output: spec.output:1:4: unknown field '%fd.nme' in output");
	assert_string_equal(result(cs, "no-output")->reason, "InvalidSpec");
	assert_string_equal(result(cs, "no-output")->message,
			    "Rule team-a/no-output: spec.output: required");
	assert_string_equal(result(cs, "bad-prio")->reason, "InvalidSpec");
	assert_non_null(strstr(result(cs, "bad-prio")->message,
			       "Rule team-a/bad-prio: spec.priority: unknown priority 'Loud'"));
	const struct vg_crset_result *lib = result(cs, "bad-lib");
	assert_false(lib->accepted);
	assert_string_equal(
		lib->message,
		"RuleLibrary bad-lib: spec.macros[1].condition:1:13: expected a value, found '('");
	/* the library is left out as a whole: m1 is unknown */
	assert_false(result(cs, "uses-bad-lib")->accepted);
	assert_non_null(strstr(result(cs, "uses-bad-lib")->message, "'m1'"));
	const struct vg_crset_result *be = result(cs, "bad-exc");
	assert_false(be->accepted);
	assert_non_null(strstr(be->message, "Rule team-a/bad-exc: spec.exceptions[0]"));
	assert_non_null(strstr(be->message, "fd.nope"));
	assert_true(result(cs, "good")->accepted);
	assert_string_equal(result(cs, "good")->message, "");
	size_t acc, rej;
	vg_crset_count(cs, VG_CR_RULE, &acc, &rej);
	assert_int_equal(acc, 1);
	assert_int_equal(rej, 6);
	set_pod("team-a", NULL, NULL, NULL);
	char saved[VG_CONTAINER_ID_LEN];
	memcpy(saved, S.conn.proc->container_id, sizeof(saved));
	strcpy(S.conn.proc->container_id, "c0ffee000001");
	assert_string_equal(match(cs, &S.conn), "good;");
	memcpy(S.conn.proc->container_id, saved, sizeof(saved));
	vg_crset_free(cs);
	vg_diag_free(&d);
	free_objs(&v);
}

/* A Rule whose local macros double at each level (2^20 comparisons once
 * inlined) is rejected with the macro and where it is; the other objects
 * load and match. */
static void test_macro_bomb(void **state)
{
	(void)state;
	alarm(60);
	char spec[4096];
	size_t len =
		(size_t)snprintf(spec, sizeof(spec),
				 "{\"condition\":\"evt.type = connect and b20\",\"output\":\"o\","
				 "\"priority\":\"Warning\",\"macros\":[{\"name\":\"b0\","
				 "\"condition\":\"proc.name = x\"}");
	for (int i = 1; i <= 20; i++)
		len += (size_t)snprintf(spec + len, sizeof(spec) - len,
					",{\"name\":\"b%d\",\"condition\":\"(b%d or b%d)\"}", i,
					i - 1, i - 1);
	snprintf(spec + len, sizeof(spec) - len, "]}");
	char obj[4400];
	snprintf(obj, sizeof(obj), NSR("team-a", "bomb", "%s"), spec);
	struct objs v = {0};
	add_obj(&v, VG_CR_RULE, obj);
	add_obj(&v, VG_CR_RULE,
		NSR("team-a", "good",
		    "{\"condition\":\"evt.type = connect and proc.name = "
		    "curl\",\"output\":\"o\",\"priority\":\"Warning\"}"));
	struct vg_diag d = {0};
	struct vg_crset *cs = build(&v, &d);
	assert_int_equal(d.errors, 0); /* files are fine */
	const struct vg_crset_result *b = result(cs, "bomb");
	assert_false(b->accepted);
	assert_string_equal(b->reason, "CompileError");
	assert_string_equal(b->message,
			    "Rule team-a/bomb: spec.macros[15].condition:1:9: condition too large: "
			    "macro 'b14' expands to more than 20000 comparisons (the limit of one "
			    "condition)");
	assert_true(result(cs, "good")->accepted);
	set_pod("team-a", NULL, NULL, NULL);
	char saved[VG_CONTAINER_ID_LEN];
	memcpy(saved, S.conn.proc->container_id, sizeof(saved));
	strcpy(S.conn.proc->container_id, "c0ffee000001");
	assert_string_equal(match(cs, &S.conn), "good;");
	memcpy(S.conn.proc->container_id, saved, sizeof(saved));
	vg_crset_free(cs);
	vg_diag_free(&d);
	free_objs(&v);
	alarm(0);
}

/* Exceptions in Falco's shape remove matching events. */
static void test_exceptions(void **state)
{
	(void)state;
	struct objs v = {0};
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("conn",
		   "{\"condition\":\"evt.type = connect\",\"output\":\"o\","
		   "\"priority\":\"Info\",\"hostProcesses\":true,"
		   "\"lists\":[{\"name\":\"ok_procs\",\"items\":[\"wget\",\"curl\"]}],"
		   "\"exceptions\":[{\"name\":\"e\",\"fields\":[\"proc.name\",\"fd.sport\"],"
		   "\"comps\":[\"in\",\"=\"],\"values\":[[\"ok_procs\",\"443\"]]}]}"));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("conn2", "{\"condition\":\"evt.type = connect\",\"output\":\"o\","
			    "\"priority\":\"Info\",\"hostProcesses\":true,"
			    "\"exceptions\":[{\"name\":\"e\",\"fields\":[\"proc.name\"],"
			    "\"values\":[[\"wget\"]]}]}"));
	struct vg_diag d = {0};
	struct vg_crset *cs = build(&v, &d);
	assert_true(result(cs, "conn")->accepted);
	set_pod(NULL, NULL, NULL, NULL);
	assert_string_equal(match(cs, &S.conn), "conn2;");
	vg_crset_free(cs);
	vg_diag_free(&d);
	free_objs(&v);
}

#define CONN_RULE(extra)                                                                           \
	"{\"condition\":\"evt.type = connect\",\"output\":\"o\",\"priority\":\"Info\"" extra "}"

/* Namespaces, selectors (every operator), host processes, live labels. */
static void test_scoping(void **state)
{
	(void)state;
	struct objs v = {0};
	add_obj(&v, VG_CR_RULE, NSR("team-a", "r-a", CONN_RULE("")));
	add_obj(&v, VG_CR_RULE,
		NSR("team-a", "r-web",
		    CONN_RULE(",\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}")));
	add_obj(&v, VG_CR_CLUSTERRULE, CR("c-all", CONN_RULE("")));
	add_obj(&v, VG_CR_CLUSTERRULE, CR("c-host", CONN_RULE(",\"hostProcesses\":true")));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("c-in", CONN_RULE(",\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\","
				     "\"operator\":\"In\",\"values\":[\"web\",\"api\"]}]}")));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("c-notin", CONN_RULE(",\"podSelector\":{\"matchExpressions\":[{\"key\":\"app\","
					"\"operator\":\"NotIn\",\"values\":[\"web\"]}]}")));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("c-exists", CONN_RULE(",\"podSelector\":{\"matchExpressions\":[{\"key\":"
					 "\"tier\",\"operator\":\"Exists\"}]}")));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("c-dne", CONN_RULE(",\"podSelector\":{\"matchExpressions\":[{\"key\":"
				      "\"tier\",\"operator\":\"DoesNotExist\"}]}")));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("c-ns", CONN_RULE(",\"namespaceSelector\":{\"matchLabels\":{\"env\":\"prod\"}},"
				     "\"hostProcesses\":true")));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("c-both", CONN_RULE(",\"namespaceSelector\":{\"matchLabels\":{\"env\":"
				       "\"prod\"}},\"podSelector\":{\"matchLabels\":{\"app\":"
				       "\"web\"},\"matchExpressions\":[{\"key\":\"tier\","
				       "\"operator\":\"In\",\"values\":[\"fe\"]}]}")));
	add_obj(&v, VG_CR_RULE, NSR("team-a", "r-hostkey", CONN_RULE(",\"hostProcesses\":true")));
	struct vg_diag d = {0};
	struct vg_crset *cs = build(&v, &d);
	const struct vg_crset_result *r;
	size_t n = vg_crset_results(cs, &r);
	for (size_t i = 0; i + 1 < n; i++)
		assert_true(r[i].accepted);
	/* a Rule cannot ask for host processes */
	assert_string_equal(result(cs, "r-hostkey")->reason, "InvalidSpec");

	/* host: only hostProcesses (c-ns has it: selectors do not apply) */
	set_pod(NULL, NULL, NULL, NULL);
	assert_string_equal(match(cs, &S.conn), "c-host;c-ns;");
	/* same container id, still no pod metadata */
	char saved[VG_CONTAINER_ID_LEN];
	memcpy(saved, S.conn.proc->container_id, sizeof(saved));
	strcpy(S.conn.proc->container_id, "c0ffee000001");
	assert_string_equal(match(cs, &S.conn), "c-host;c-ns;");

	/* team-a, no labels */
	set_pod("team-a", NULL, NULL, NULL);
	assert_string_equal(match(cs, &S.conn), "c-all;c-dne;c-host;c-notin;r-a;");
	/* labels change live: same engine */
	set_pod("team-a", "web", NULL, NULL);
	assert_string_equal(match(cs, &S.conn), "c-all;c-dne;c-host;c-in;r-a;r-web;");
	set_pod("team-a", "api", "be", NULL);
	assert_string_equal(match(cs, &S.conn), "c-all;c-exists;c-host;c-in;c-notin;r-a;");
	/* another namespace: no Rule of team-a */
	set_pod("team-b", "web", "fe", "prod");
	assert_string_equal(match(cs, &S.conn), "c-all;c-both;c-exists;c-host;c-in;c-ns;");
	set_pod("team-b", "web", "fe", "dev");
	assert_string_equal(match(cs, &S.conn), "c-all;c-exists;c-host;c-in;");
	memcpy(S.conn.proc->container_id, saved, sizeof(saved));
	vg_crset_free(cs);
	vg_diag_free(&d);
	free_objs(&v);
}

/* A rejected generation falls back to the last accepted one (a spec
 * error, a compile error, a library), and says so. */
static void test_fallback(void **state)
{
	(void)state;
	struct objs v = {0}, old = {0};
	add_obj(&v, VG_CR_CLUSTERRULE, CR("spec-err", "{\"condition\":\"evt.type = connect\"}"));
	add_obj(&old, VG_CR_CLUSTERRULE,
		CR("spec-err", "{\"condition\":\"evt.type = connect\",\"output\":\"o\","
			       "\"priority\":\"Info\",\"hostProcesses\":true}"));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("compile-err",
		   "{\"condition\":\"evt.type = connect and libm and nope.x = 1\","
		   "\"output\":\"o\",\"priority\":\"Info\",\"hostProcesses\":true}"));
	add_obj(&old, VG_CR_CLUSTERRULE,
		CR("compile-err", "{\"condition\":\"evt.type = connect and libm\",\"output\":\"o\","
				  "\"priority\":\"Info\",\"hostProcesses\":true}"));
	add_obj(&v, VG_CR_RULELIBRARY,
		CR("lib", "{\"macros\":[{\"name\":\"libm\",\"condition\":\"proc.name =\"}]}"));
	add_obj(&old, VG_CR_RULELIBRARY,
		CR("lib", "{\"macros\":[{\"name\":\"libm\",\"condition\":\"proc.name = curl\"}]}"));
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("no-fallback", "{\"condition\":\"evt.type = connect and x.y = 1\","
				  "\"output\":\"o\",\"priority\":\"Info\"}"));
	for (size_t i = 0; i < 3; i++) {
		/* the old versions are generation 2 */
		cJSON *g = cJSON_GetObjectItem(cJSON_GetObjectItem(old.json[i], "metadata"),
					       "generation");
		cJSON_SetNumberValue(g, 2);
		v.o[i].fallback = old.json[i];
	}
	struct vg_diag d = {0};
	struct vg_crset *cs = build(&v, &d);
	const struct vg_crset_result *r = result(cs, "spec-err");
	assert_false(r->accepted);
	assert_true(r->in_force);
	assert_string_equal(r->reason, "InvalidSpec");
	assert_string_equal(r->message, "ClusterRule spec-err: spec.output: required "
					"(generation 2 stays in force)");
	r = result(cs, "compile-err");
	assert_false(r->accepted);
	assert_true(r->in_force);
	assert_string_equal(r->message, "ClusterRule compile-err: spec.condition:1:33: unknown "
					"field 'nope.x' (generation 2 stays in force)");
	r = result(cs, "lib");
	assert_false(r->accepted);
	assert_true(r->in_force);
	assert_non_null(strstr(r->message, "(generation 2 stays in force)"));
	r = result(cs, "no-fallback");
	assert_false(r->accepted);
	assert_false(r->in_force);
	set_pod(NULL, NULL, NULL, NULL);
	/* the old versions run: curl connects (libm = proc.name = curl) */
	assert_string_equal(match(cs, &S.conn), "compile-err;spec-err;");
	vg_crset_free(cs);
	vg_diag_free(&d);
	free_objs(&v);
	free_objs(&old);
}

/* Accepted with a warning: the message says so, about the object. */
static void test_warning(void **state)
{
	(void)state;
	struct objs v = {0};
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("everywhere", "{\"condition\":\"proc.name = x\",\"output\":\"o\","
				 "\"priority\":\"Info\"}"));
	struct vg_diag d = {0};
	struct vg_crset *cs = build(&v, &d);
	const struct vg_crset_result *r = result(cs, "everywhere");
	assert_true(r->accepted);
	assert_string_equal(r->message,
			    "ClusterRule everywhere: warning: spec: rule 'everywhere' "
			    "does not restrict evt.type: it is evaluated on every event");
	vg_crset_free(cs);
	vg_diag_free(&d);
	free_objs(&v);
}

/* Rule files from paths; a missing path is an error of the files; the
 * interest set includes what the objects' rules need. */
static void test_paths_interest(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-crset-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(FILES, f);
	fclose(f);
	char missing[300];
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	const char *paths[] = {dir, missing};
	struct objs v = {0};
	add_obj(&v, VG_CR_CLUSTERRULE,
		CR("ptrace", "{\"condition\":\"evt.type = ptrace\",\"output\":\"o\","
			     "\"priority\":\"Info\"}"));
	struct vg_crset_input in = {.paths = paths, .npaths = 2, .objs = v.o, .nobjs = v.n};
	struct vg_diag d = {0};
	struct vg_crset *cs = vg_crset_build(&in, &d);
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.v[0].file, missing);
	size_t fc, ff;
	vg_crset_file_rules(cs, &fc, &ff);
	assert_int_equal(fc, 1);
	uint8_t want[VG_NR_MAX];
	vg_crset_interest(cs, want);
	assert_true(want[VG_NR_ptrace]);
	assert_true(want[VG_NR_openat]);
	vg_crset_free(cs);
	vg_diag_free(&d);
	free_objs(&v);
	unlink(path);
	rmdir(dir);
}

static int setup(void **state)
{
	(void)state;
	if (scene_init(&S))
		return -1;
	vg_state_set_meta_lookup(S.st, lookup, NULL);
	SCR = vg_cond_scratch_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vg_cond_scratch_free(SCR);
	scene_free(&S);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_order),	  cmocka_unit_test(test_local_macros),
		cmocka_unit_test(test_rejected_isolated), cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_scoping),		  cmocka_unit_test(test_paths_interest),
		cmocka_unit_test(test_fallback),	  cmocka_unit_test(test_warning),
		cmocka_unit_test(test_macro_bomb),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
