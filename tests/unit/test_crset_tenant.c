/* Unit tests of agent/engine/crset.c as a security boundary (DESIGN.md
 * "Tenancy"): a namespaced Rule's fields stop at the container boundary in
 * its conditions and outputs where a ClusterRule's see the host
 * (tenant_scene.h); a Rule's compile errors quote only its own text; a
 * namespace's Rules are bounded in number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crset.h"
#include "engine.h"
#include "tenant_scene.h"

static struct tscene S;
static struct vg_cond_scratch *SCR;
static struct vg_container_meta META = {.ns_name = "team-a", .pod_name = "p"};

static const struct vg_container_meta *lookup(void *ctx, const char *id)
{
	(void)ctx;
	return !strcmp(id, TS_CID) ? &META : NULL;
}

struct objs {
	cJSON *json[16];
	struct vg_crset_obj o[16];
	size_t n;
};

static void add_obj(struct objs *v, int kind, cJSON *j)
{
	assert_non_null(j);
	v->json[v->n] = j;
	v->o[v->n] = (struct vg_crset_obj){kind, j, NULL};
	v->n++;
}

/* {"metadata":{name,namespace?},"spec":{condition,output,priority}} */
static cJSON *rule_obj(const char *ns, const char *name, const char *cond, const char *output)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *md = cJSON_AddObjectToObject(o, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	if (ns)
		cJSON_AddStringToObject(md, "namespace", ns);
	cJSON_AddNumberToObject(md, "generation", 1);
	cJSON *spec = cJSON_AddObjectToObject(o, "spec");
	cJSON_AddStringToObject(spec, "condition", cond);
	cJSON_AddStringToObject(spec, "output", output);
	cJSON_AddStringToObject(spec, "priority", "Warning");
	return o;
}

static void free_objs(struct objs *v)
{
	for (size_t i = 0; i < v->n; i++)
		cJSON_Delete(v->json[i]);
	v->n = 0;
}

static struct vg_crset *build(struct objs *v)
{
	struct vg_crset_input in = {.objs = v->o, .nobjs = v->n};
	struct vg_diag d = {0};
	struct vg_crset *cs = vg_crset_build(&in, &d);
	vg_diag_free(&d);
	return cs;
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

struct hits {
	char names[256];
	char out[2][8192]; /* the rendered outputs of the first two matches */
	int n;
};

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	struct hits *h = ctx;
	static struct vg_fvals scratch;
	strcat(h->names, r->name);
	strcat(h->names, ";");
	if (h->n < 2)
		vg_output_render(r->out, ev, &scratch, h->out[h->n], sizeof(h->out[0]));
	h->n++;
}

/* The output with every field that has a confined variant, read without
 * argument, and with [3] (the host's shim seen from cat) where it takes
 * an index. */
static void all_crossing_fields(char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < vg_field_count(); i++) {
		const struct vg_field *f = vg_field_at(i);
		if (vg_field_confine(f) == f)
			continue;
		int w;
		if (f->flags & VG_FF_ARG_REQ)
			w = snprintf(out + n, cap - n, "%s=%%%s.pid ", f->name, f->name);
		else if (f->flags & VG_FF_ARG_INDEX)
			w = snprintf(out + n, cap - n, "%s=%%%s %s3=%%%s[3] ", f->name, f->name,
				     f->name, f->name);
		else
			w = snprintf(out + n, cap - n, "%s=%%%s ", f->name, f->name);
		assert_true(w > 0 && (size_t)w < cap - n);
		n += (size_t)w;
	}
}

/* Every field that walks the tree, in the condition and in the output:
 * the ClusterRule sees the host's ancestors, the Rule does not (absent in
 * conditions, <NA> in outputs). */
static void test_fields_stop_at_container(void **state)
{
	(void)state;
	static char output[8192];
	all_crossing_fields(output, sizeof(output));
	struct objs v = {0};
	/* host ancestors in the condition: only the ClusterRule can match */
	add_obj(&v, VG_CR_CLUSTERRULE,
		rule_obj(NULL, "c-host-anc", "evt.type = kill and proc.aname = hostsecretshim",
			 output));
	add_obj(&v, VG_CR_RULE,
		rule_obj("team-a", "r-host-anc", "evt.type = kill and proc.aname = hostsecretshim",
			 output));
	/* absent: the Rule's [3] does not exist; the ClusterRule's does */
	add_obj(&v, VG_CR_CLUSTERRULE,
		rule_obj(NULL, "c-absent", "evt.type = kill and not proc.aname[3] exists", "x"));
	add_obj(&v, VG_CR_RULE,
		rule_obj("team-a", "r-absent", "evt.type = kill and not proc.aname[3] exists",
			 "x"));
	add_obj(&v, VG_CR_RULE,
		rule_obj("team-a", "r-sid",
			 "evt.type = kill and (proc.sname exists or proc.sid exists or "
			 "proc.apid intersects (4001, 4002) or evt.arg.pid contains host)",
			 "x"));
	/* inside the container everything stays */
	add_obj(&v, VG_CR_RULE,
		rule_obj("team-a", "r-inside",
			 "evt.type = kill and proc.aname[2] = cinit and proc.pname = csh and "
			 "proc.apid = 4003",
			 "x"));
	struct vg_crset *cs = build(&v);
	for (size_t i = 0; i < v.n; i++)
		assert_true(result(cs, cJSON_GetObjectItem(
					       cJSON_GetObjectItem(v.json[i], "metadata"), "name")
					       ->valuestring)
				    ->accepted);
	struct hits h = {0};
	vg_engine_match(vg_crset_engine(cs), &S.kill, SCR, on_match, &h);
	assert_string_equal(h.names, "c-host-anc;r-absent;r-inside;");
	assert_non_null(strstr(h.out[0], "proc.aname3=hostsecretshim"));
	assert_non_null(strstr(h.out[0], "proc.sname=hostsecretshim"));
	assert_non_null(strstr(h.out[0], "evt.args=res=0 pid=4001(hostsecretinit)"));

	/* the same output as the Rule renders it */
	const struct vg_engine *e = vg_crset_engine(cs);
	const struct vg_rule *r = NULL;
	for (size_t i = 0; i < vg_engine_rule_count(e); i++)
		if (!strcmp(vg_engine_rule(e, i)->name, "r-host-anc"))
			r = vg_engine_rule(e, i);
	assert_non_null(r);
	static struct vg_fvals scratch;
	static char text[8192];
	static const uint32_t pids[] = {4005, 4003};
	for (int k = 0; k < 2; k++) {
		struct vg_event ev = S.kill;
		ev.proc = vg_state_proc(S.st, pids[k]);
		vg_output_render(r->out, &ev, &scratch, text, sizeof(text));
		if (strstr(text, "hostsecret") || strstr(text, "=4002") || strstr(text, ",4002"))
			fail_msg("the Rule's output shows the host: %s", text);
		assert_non_null(strstr(text, "proc.aname3=<NA>"));
	}
	/* cinit: its parent is the host's */
	assert_non_null(strstr(text, "proc.pname=<NA>"));
	assert_non_null(strstr(text, "proc.ppid=<NA>"));
	vg_crset_free(cs);
	free_objs(&v);
}

/* A Rule's compile error never quotes a cluster library's text. */
static void test_errors_quote_own_text(void **state)
{
	(void)state;
	struct objs v = {0};
	cJSON *lib = cJSON_Parse(
		"{\"metadata\":{\"name\":\"lib\",\"generation\":1},\"spec\":{"
		"\"lists\":[{\"name\":\"secret_ports\",\"items\":[\"22\",\"topsecret_item\"]},"
		"{\"name\":\"port_list\",\"items\":[\"22\",\"443\"]}],"
		"\"macros\":[{\"name\":\"lib_m\",\"condition\":\"proc.name in (secret_ports) and "
		"inner_m\"},{\"name\":\"inner_m\",\"condition\":\"fd.num >= 0\"},"
		"{\"name\":\"lib_port\",\"condition\":\"fd.sport in (port_list) and proc.name = "
		"topsecret_name\"}]}}");
	add_obj(&v, VG_CR_RULELIBRARY, lib);
	add_obj(&v, VG_CR_RULE,
		rule_obj("team-a", "list-item", "evt.type = connect and fd.sport in (secret_ports)",
			 "o"));
	add_obj(&v, VG_CR_CLUSTERRULE,
		rule_obj(NULL, "c-list-item", "evt.type = connect and fd.sport in (secret_ports)",
			 "o"));
	add_obj(&v, VG_CR_RULE,
		rule_obj("team-a", "own-token", "evt.type = connect and fd.sport = zzz_own", "o"));
	/* a local list that breaks the library's macro that uses it: the
	 * error lies in the library's text */
	cJSON *shadow = rule_obj("team-a", "shadow", "evt.type = connect and lib_port", "o");
	cJSON *ls = cJSON_AddArrayToObject(cJSON_GetObjectItem(shadow, "spec"), "lists");
	cJSON_AddItemToArray(ls, cJSON_Parse("{\"name\":\"port_list\",\"items\":[\"abc\"]}"));
	add_obj(&v, VG_CR_RULE, shadow);
	cJSON *shadow2 = rule_obj("team-a", "shadow2", "evt.type = connect and lib_port", "o");
	add_obj(&v, VG_CR_CLUSTERRULE, shadow2);
	cJSON *audit = rule_obj("team-a", "audit", "ka.verb = create", "o");
	cJSON_AddStringToObject(cJSON_GetObjectItem(audit, "spec"), "source", "k8s_audit");
	add_obj(&v, VG_CR_RULE, audit);
	struct vg_crset *cs = build(&v);
	assert_true(result(cs, "lib")->accepted);
	/* the cluster-scoped twin says it all (only admins read it) */
	assert_non_null(strstr(result(cs, "c-list-item")->message, "topsecret_item"));
	const struct vg_crset_result *li = result(cs, "list-item");
	assert_false(li->accepted);
	assert_null(strstr(li->message, "topsecret"));
	assert_string_equal(li->message, "Rule team-a/list-item: spec.condition:1:37: fd.sport: "
					 "expected a number, got '<hidden>'");
	/* its own text is quoted */
	assert_string_equal(result(cs, "own-token")->message,
			    "Rule team-a/own-token: spec.condition:1:35: fd.sport: expected a "
			    "number, got 'zzz_own'");
	assert_true(result(cs, "shadow2")->accepted);
	/* audit events are the cluster's: never a namespaced Rule's */
	assert_false(result(cs, "audit")->accepted);
	assert_non_null(strstr(result(cs, "audit")->message, "k8s_audit rules are ClusterRules"));
	assert_false(result(cs, "shadow")->accepted);
	assert_string_equal(
		result(cs, "shadow")->message,
		"Rule team-a/shadow: spec: a macro or list defined outside this Rule "
		"does not compile with it (its text is not shown to namespaced objects)");
	vg_crset_free(cs);
	free_objs(&v);
}

/* A Rule runs only on its namespace's events (indexed apart: a host event
 * or another namespace's never evaluates it), its cost is its own, its
 * namespace's budget stops it, and a namespace's Rules are bounded. */
static void test_cost_and_limits(void **state)
{
	(void)state;
	struct objs v = {0};
	add_obj(&v, VG_CR_RULE,
		rule_obj("team-a", "a1", "evt.type = kill and proc.name = cat", "x"));
	add_obj(&v, VG_CR_RULE, rule_obj("team-a", "a2", "evt.type = kill", "x"));
	add_obj(&v, VG_CR_RULE, rule_obj("team-a", "a3", "evt.type = kill", "x"));
	add_obj(&v, VG_CR_RULE, rule_obj("team-b", "b1", "evt.type = kill", "x"));
	add_obj(&v, VG_CR_CLUSTERRULE, rule_obj(NULL, "c1", "evt.type = kill", "x"));
	struct vg_crset_input in = {
		.objs = v.o, .nobjs = v.n, .max_rules_per_ns = 2, .ns_budget_ns = 0};
	struct vg_diag d = {0};
	struct vg_crset *cs = vg_crset_build(&in, &d);
	vg_diag_free(&d);
	assert_true(result(cs, "a1")->accepted);
	assert_true(result(cs, "a2")->accepted);
	assert_false(result(cs, "a3")->accepted);
	assert_false(result(cs, "a3")->in_force);
	assert_string_equal(result(cs, "a3")->reason, "LimitExceeded");
	assert_string_equal(result(cs, "a3")->message,
			    "Rule team-a/a3: namespace team-a has more than 2 Rules "
			    "(tenancy.max_rules_per_namespace)");
	assert_true(result(cs, "b1")->accepted);

	struct hits h = {0};
	/* team-a's event: a1, a2 evaluated once each */
	vg_engine_match(vg_crset_engine(cs), &S.kill, SCR, on_match, &h);
	assert_string_equal(h.names, "c1;a1;a2;");
	/* a host event: no Rule is evaluated at all */
	struct vg_event host = S.kill;
	host.proc = vg_state_proc(S.st, 4002);
	memset(&h, 0, sizeof(h));
	vg_engine_match(vg_crset_engine(cs), &host, SCR, on_match, &h);
	assert_string_equal(h.names, ""); /* (c1 has no hostProcesses) */
	/* team-b's event */
	META.ns_name = "team-b";
	memset(&h, 0, sizeof(h));
	vg_engine_match(vg_crset_engine(cs), &S.kill, SCR, on_match, &h);
	assert_string_equal(h.names, "c1;b1;");
	META.ns_name = "team-a";
	struct vg_rule_cost c;
	for (size_t i = 0; i < v.n; i++) {
		vg_crset_cost(cs, i, &c);
		const char *name =
			cJSON_GetObjectItem(cJSON_GetObjectItem(v.json[i], "metadata"), "name")
				->valuestring;
		uint64_t want = !strcmp(name, "a1") || !strcmp(name, "a2") || !strcmp(name, "b1");
		if (c.events != want)
			fail_msg("%s: %llu events evaluated, want %llu", name,
				 (unsigned long long)c.events, (unsigned long long)want);
		assert_int_equal(c.throttled, 0);
		assert_true(want ? c.ns > 0 : c.ns == 0);
	}
	/* the costs follow the object into the next build */
	struct vg_crset *cs2 = vg_crset_build(&in, &d);
	vg_diag_free(&d);
	vg_crset_inherit_costs(cs2, cs);
	vg_crset_cost(cs2, 0, &c);
	assert_int_equal(c.events, 1);
	vg_crset_free(cs2);
	vg_crset_free(cs);

	/* a budget of 1 ns per second: the first event spends it, the next
	 * ones within the second are not evaluated, and counted */
	in.ns_budget_ns = 1;
	cs = vg_crset_build(&in, &d);
	vg_diag_free(&d);
	for (int i = 0; i < 5; i++) {
		memset(&h, 0, sizeof(h));
		vg_engine_match(vg_crset_engine(cs), &S.kill, SCR, on_match, &h);
		assert_string_equal(h.names, i ? "c1;" : "c1;a1;a2;");
	}
	vg_crset_cost(cs, 0, &c);
	assert_int_equal(c.events, 1);
	assert_int_equal(c.throttled, 4);
	vg_crset_free(cs);
	free_objs(&v);
}

/* A new exec in cgroup cg, then a kill from it; which rules fire. */
static void kill_from(struct vg_crset *cs, uint32_t pid, const char *cg, struct hits *h)
{
	static struct rb b, k;
	memset(&b, 0, sizeof(b));
	memset(&k, 0, sizeof(k));
	rb_init(&b, VG_K_EXEC, VG_NR_execve, pid, 1, "podproc");
	rb_str(&b, VG_X_FILENAME, "/bin/podproc");
	rb_list(&b, VG_X_ARGS, (const char *const[]){"podproc", NULL});
	rb_str(&b, VG_X_EXEPATH, "/bin/podproc");
	rb_str(&b, VG_X_CWD, "/");
	rb_str(&b, VG_X_CGROUP, cg);
	b.r.h.ts = TS_T0;
	b.r.exec.vpid = pid;
	b.r.exec.sid = pid;
	b.r.exec.start_ns = TS_T0;
	struct vg_event ev;
	assert_int_equal(vg_state_apply(S.st, &b.r, rb_size(&b), &ev), 0);
	rb_init(&k, VG_K_SYSCALL, VG_NR_kill, pid, 1, "podproc");
	k.r.h.ts = TS_T0 + 1;
	k.r.arg[0] = 1;
	k.r.arg[1] = 9;
	assert_int_equal(vg_state_apply(S.st, &k.r, rb_size(&k), &ev), 0);
	memset(h, 0, sizeof(*h));
	vg_engine_match(vg_crset_engine(cs), &ev, SCR, on_match, h);
}

/* A pod's process whose metadata is unknown (its status not in yet) is no
 * host process: the ClusterRule for every pod fires, one for host
 * processes too (it covers pods), no namespaced Rule (namespace unknown);
 * a container of no pod keeps host semantics. */
static void test_pod_without_metadata(void **state)
{
	(void)state;
	struct objs v = {0};
	add_obj(&v, VG_CR_CLUSTERRULE, rule_obj(NULL, "pods", "evt.type = kill", "x"));
	cJSON *h = rule_obj(NULL, "host", "evt.type = kill", "x");
	cJSON_AddTrueToObject(cJSON_GetObjectItem(h, "spec"), "hostProcesses");
	add_obj(&v, VG_CR_CLUSTERRULE, h);
	cJSON *sel = rule_obj(NULL, "labelled", "evt.type = kill", "x");
	cJSON_AddItemToObject(cJSON_GetObjectItem(sel, "spec"), "podSelector",
			      cJSON_Parse("{\"matchLabels\":{\"app\":\"web\"}}"));
	add_obj(&v, VG_CR_CLUSTERRULE, sel);
	add_obj(&v, VG_CR_RULE, rule_obj("team-a", "a1", "evt.type = kill", "x"));
	struct vg_crset *cs = build(&v);
	assert_true(result(cs, "labelled")->accepted);
	assert_true(result(cs, "a1")->accepted);
	struct hits hh;
	kill_from(cs, 4100,
		  "/kubepods/besteffort/pod0a1b2c3d-0000-4000-8000-00000000beef/"
		  "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12",
		  &hh);
	assert_string_equal(hh.names, "host;pods;");
	kill_from(cs, 4101,
		  "/docker/cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34cd34", &hh);
	assert_string_equal(hh.names, "host;");
	vg_crset_free(cs);
	free_objs(&v);
}

static int setup(void **state)
{
	(void)state;
	if (tscene_init(&S))
		return -1;
	vg_state_set_meta_lookup(S.st, lookup, NULL);
	SCR = vg_cond_scratch_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vg_cond_scratch_free(SCR);
	tscene_free(&S);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields_stop_at_container),
		cmocka_unit_test(test_errors_quote_own_text),
		cmocka_unit_test(test_cost_and_limits),
		cmocka_unit_test(test_pod_without_metadata),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
