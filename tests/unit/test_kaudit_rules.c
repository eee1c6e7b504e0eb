/* The k8s_audit source: the official k8s_audit_rules.yaml, unmodified,
 * loads and compiles (alone and after falco_rules.yaml); audit events
 * (tests/data/k8saudit) fire exactly the official rules they should; a
 * rule reads only the fields of its source; audit and syscall rules never
 * see each other's events.  The rules files are read from
 * $VIGIL_FALCO_RULES (default $VIGIL_SRC/../shared/falco-rules). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "kaudit.h"
#include "rules.h"

static void rules_path(char *out, size_t cap, const char *file)
{
	const char *env = getenv("VIGIL_FALCO_RULES");
	const char *src = getenv("VIGIL_SRC");
	if (env)
		snprintf(out, cap, "%s/%s", env, file);
	else
		snprintf(out, cap, "%s/../shared/falco-rules/%s", src ? src : ".", file);
	if (access(out, R_OK))
		fail_msg("missing %s (set VIGIL_FALCO_RULES)", out);
}

static struct vg_engine *official(bool with_syscall, struct vg_diag *d)
{
	char path[4200];
	struct vg_ruleset *rs = vg_ruleset_new();
	if (with_syscall) {
		rules_path(path, sizeof(path), "falco_rules.yaml");
		assert_int_equal(vg_ruleset_add_file(rs, path, d), 0);
	}
	rules_path(path, sizeof(path), "k8saudit/k8s_audit_rules.yaml");
	assert_int_equal(vg_ruleset_add_file(rs, path, d), 0);
	struct vg_engine *e = vg_engine_build(rs, d);
	vg_ruleset_free(rs);
	return e;
}

static void test_official_load(void **unused)
{
	(void)unused;
	for (int both = 0; both < 2; both++) {
		struct vg_diag d = {0};
		struct vg_engine *e = official(both, &d);
		struct vg_engine_stats st;
		vg_engine_get_stats(e, &st);
		if (d.errors)
			vg_diag_print(&d, stdout);
		assert_int_equal(d.errors, 0);
		assert_int_equal(d.warnings, 0);
		assert_int_equal(st.rules_failed, 0);
		assert_int_equal(st.rules_skipped, 0);
		size_t audit = 0;
		for (size_t i = 0; i < vg_engine_rule_count(e); i++)
			audit += !strcmp(vg_engine_rule(e, i)->source, "k8s_audit");
		assert_int_equal(audit, 48);
		assert_int_equal(st.rules_total, both ? 48 + 25 : 48);
		vg_engine_free(e);
		vg_diag_free(&d);
	}
}

struct hits {
	char names[4096];
	int n;
};

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	struct hits *h = ctx;
	assert_int_equal(ev->type, VG_T_AUDIT);
	assert_string_equal(r->source, "k8s_audit");
	size_t len = strlen(h->names);
	snprintf(h->names + len, sizeof(h->names) - len, "%s%s", h->n++ ? "|" : "", r->name);
}

static cJSON *load_json(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cJSON *o = cJSON_Parse(buf);
	assert_non_null(o);
	return o;
}

static const char *fire(struct vg_engine *e, cJSON *o)
{
	static struct hits h;
	memset(&h, 0, sizeof(h));
	struct vg_kaudit_event ke;
	vg_kaudit_event_init(&ke, o, 1, 1);
	struct vg_cond_scratch *s = vg_cond_scratch_new();
	int n = vg_engine_match(e, &ke.ev, s, on_match, &h);
	vg_cond_scratch_free(s);
	assert_int_equal(n, h.n);
	return h.names;
}

static void test_official_fire(void **unused)
{
	(void)unused;
	struct vg_diag d = {0};
	struct vg_engine *e = official(true, &d);
	cJSON *pod = load_json("tests/data/k8saudit/pod.json");
	printf("pod: %s\n", fire(e, pod));
	assert_string_equal(fire(e, pod), "Disallowed K8s User|Create Privileged Pod|"
					  "Create Sensitive Mount Pod|Create HostNetwork Pod");
	/* the same request made by a system user, with an allowed image: quiet */
	cJSON_ReplaceItemInObject(cJSON_GetObjectItem(pod, "user"), "username",
				  cJSON_CreateString("system:serviceaccount:kube-system:ds"));
	cJSON *spec = cJSON_GetObjectItem(cJSON_GetObjectItem(pod, "requestObject"), "spec");
	cJSON_DeleteItemFromObject(spec, "volumes");
	cJSON_DeleteItemFromObject(spec, "hostNetwork");
	cJSON_DeleteItemFromObject(spec, "initContainers");
	cJSON_DeleteItemFromObject(spec, "ephemeralContainers");
	cJSON_DeleteItemFromArray(cJSON_GetObjectItem(spec, "containers"), 0);
	assert_string_equal(fire(e, pod), "");
	/* ResponseStarted is not what the rules look at (but exec is) */
	cJSON_ReplaceItemInObject(pod, "stage", cJSON_CreateString("ResponseStarted"));
	assert_string_equal(fire(e, pod), "");
	cJSON_Delete(pod);

	cJSON *b = load_json("tests/data/k8saudit/objects.json");
	printf("binding: %s\n", fire(e, b));
	assert_string_equal(fire(e, b), "Disallowed K8s User|Attach to cluster-admin Role|"
					"K8s ClusterRoleBinding Created");
	vg_engine_free(e);
	vg_diag_free(&d);
	cJSON_Delete(b);
}

static const char *compile_one(const char *rule, struct vg_engine **out, struct vg_diag *d)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	vg_ruleset_add_text(rs, "t.yaml", rule, strlen(rule), d);
	*out = vg_engine_build(rs, d);
	vg_ruleset_free(rs);
	return d->n ? d->v[d->n - 1].msg : "";
}

/* a rule reads only its source's fields; sources do not see each other */
static void test_sources(void **unused)
{
	(void)unused;
	struct vg_engine *e;
	struct vg_diag d = {0};
	assert_non_null(strstr(compile_one("- rule: A\n  desc: d\n  condition: ka.verb = get\n"
					   "  output: o\n  priority: info\n",
					   &e, &d),
			       "ka.verb"));
	assert_int_equal(d.errors, 1);
	vg_engine_free(e);
	vg_diag_free(&d);
	memset(&d, 0, sizeof(d));
	assert_non_null(strstr(compile_one("- rule: A\n  desc: d\n  condition: proc.name = sh\n"
					   "  output: o\n  priority: info\n  source: k8s_audit\n",
					   &e, &d),
			       "proc.name"));
	assert_int_equal(d.errors, 1);
	vg_engine_free(e);
	vg_diag_free(&d);
	memset(&d, 0, sizeof(d));
	const char *m =
		compile_one("- rule: A\n  desc: d\n  condition: ka.verb = get\n"
			    "  output: o %proc.name\n  priority: info\n  source: k8s_audit\n",
			    &e, &d);
	assert_non_null(strstr(m, "output field '%proc.name' is not a field of source k8s_audit"));
	assert_int_equal(d.v[d.n - 1].line, 4);
	vg_engine_free(e);
	vg_diag_free(&d);

	/* an audit rule with no condition on the type, a syscall rule with
	 * none: each fires on its own events only */
	memset(&d, 0, sizeof(d));
	compile_one("- rule: Any audit\n  desc: d\n  condition: jevt.rawtime exists\n"
		    "  output: '%evt.time %ka.verb %evt.source'\n  priority: info\n"
		    "  source: k8s_audit\n"
		    "- rule: Any syscall\n  desc: d\n  condition: evt.num > 0\n"
		    "  output: o\n  priority: info\n  warn_evttypes: false\n",
		    &e, &d);
	assert_int_equal(d.errors, 0);
	assert_int_equal(vg_engine_rule_count(e), 2);
	assert_true(vg_engine_rule(e, 0)->types[VG_T_AUDIT]);
	for (int t = 0; t < VG_T_MAX; t++)
		if (t != VG_T_AUDIT)
			assert_false(vg_engine_rule(e, 0)->types[t]);
	assert_false(vg_engine_rule(e, 1)->types[VG_T_AUDIT]);
	assert_true(vg_engine_rule(e, 1)->types[VG_T_PROCEXIT]);
	cJSON *o = cJSON_Parse("{\"verb\":\"get\",\"stageTimestamp\":\"2024-01-01T00:00:00Z\"}");
	assert_string_equal(fire(e, o), "Any audit");
	/* its alert: Falco's JSON shape, source k8s_audit, no pod of a process */
	struct vg_kaudit_event ke;
	vg_kaudit_event_init(&ke, o, 1, 1);
	struct vg_alert_ctx *ctx = calloc(1, sizeof(*ctx));
	ctx->hostname = "node-a";
	char *json = vg_alert_json(vg_engine_rule(e, 0), &ke.ev, ctx);
	cJSON *j = cJSON_Parse(json);
	assert_string_equal(cJSON_GetObjectItem(j, "source")->valuestring, "k8s_audit");
	assert_string_equal(cJSON_GetObjectItem(j, "time")->valuestring,
			    "2024-01-01T00:00:00.000000000Z");
	assert_string_equal(cJSON_GetObjectItem(j, "output")->valuestring,
			    "00:00:00.000000000: Informational 00:00:00.000000000 get k8s_audit");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "output_fields"), "ka.verb")
				    ->valuestring,
			    "get");
	assert_null(cJSON_GetObjectItem(j, "k8s"));
	cJSON_Delete(j);
	free(json);
	free(ctx);
	cJSON_Delete(o);
	vg_engine_free(e);
	vg_diag_free(&d);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_official_load),
		cmocka_unit_test(test_official_fire),
		cmocka_unit_test(test_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
