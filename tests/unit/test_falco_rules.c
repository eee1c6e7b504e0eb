/* The three official Falco rules files, unmodified, load and compile: 93
 * rules, no error, no failed rule.  The files are read from
 * $VIGIL_FALCO_RULES (default $VIGIL_SRC/../shared/falco-rules); their
 * absence is a failure, not a skip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "falco_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "rules.h"

static const char *const FILES[] = {"falco_rules.yaml", "falco-incubating_rules.yaml",
				    "falco-sandbox_rules.yaml"};

static void test_official_rules(void **unused)
{
	(void)unused;
	char dir[4096];
	falco_rules_dir(dir, sizeof(dir));

	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_diag d = {0};
	for (size_t i = 0; i < sizeof(FILES) / sizeof(FILES[0]); i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", dir, FILES[i]);
		if (access(path, R_OK))
			fail_msg("missing %s (set VIGIL_FALCO_RULES to the directory of the "
				 "official Falco rules files)",
				 path);
		int errs = vg_ruleset_add_file(rs, path, &d);
		const struct vg_rule_def *const *defs;
		printf("loaded %s: %zu rules so far, %d errors\n", FILES[i],
		       vg_ruleset_rules(rs, &defs), errs);
	}
	struct vg_engine *e = vg_engine_build(rs, &d);
	struct vg_engine_stats st;
	vg_engine_get_stats(e, &st);
	printf("rules %zu: %zu enabled, %zu disabled, %zu failed, %zu skipped; "
	       "%zu macros, %zu lists; %zu errors, %zu warnings\n",
	       st.rules_total, st.rules_enabled, st.rules_disabled, st.rules_failed,
	       st.rules_skipped, st.macros, st.lists, d.errors, d.warnings);
	if (d.errors)
		vg_diag_print(&d, stdout);
	assert_int_equal(d.errors, 0);
	assert_int_equal(st.rules_total, 93);
	assert_int_equal(st.rules_failed, 0);
	assert_int_equal(st.rules_skipped, 0);
	assert_int_equal(st.rules_enabled + st.rules_disabled, 93);
	assert_int_equal(vg_engine_rule_count(e), 93);
	/* every compiled rule can fire on some event type */
	for (size_t i = 0; i < vg_engine_rule_count(e); i++) {
		const struct vg_rule *r = vg_engine_rule(e, i);
		int any = 0;
		for (int t = 0; t < VG_T_MAX && !any; t++)
			any = r->types[t];
		if (!any)
			fail_msg("rule '%s' matches no event type", r->name);
	}
	vg_engine_free(e);
	vg_ruleset_free(rs);
	vg_diag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_official_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
