/* k8s_selector: matchLabels and matchExpressions, validation messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "k8s_selector.h"

static bool match(const char *sel, const char *labels)
{
	cJSON *s = sel ? cJSON_Parse(sel) : NULL;
	cJSON *l = labels ? cJSON_Parse(labels) : NULL;
	char err[256];
	struct k8s_selector *c = k8s_selector_compile(s, err, sizeof(err));
	if (!c)
		fail_msg("%s: %s", sel ? sel : "(null)", err); /* %s with NULL is undefined */
	bool r = k8s_selector_match_json(c, l);
	k8s_selector_free(c);
	cJSON_Delete(s);
	cJSON_Delete(l);
	return r;
}

static void test_match(void **state)
{
	(void)state;
	const char *web = "{\"app\":\"web\",\"tier\":\"front\"}";
	assert_true(match(NULL, web));
	assert_true(match("{}", NULL));
	assert_true(match("{\"matchLabels\":{\"app\":\"web\"}}", web));
	assert_false(match("{\"matchLabels\":{\"app\":\"db\"}}", web));
	assert_false(match("{\"matchLabels\":{\"app\":\"web\",\"x\":\"y\"}}", web));
	assert_false(match("{\"matchLabels\":{\"app\":\"web\"}}", NULL));
	const char *in = "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"In\","
			 "\"values\":[\"front\",\"back\"]}]}";
	assert_true(match(in, web));
	assert_false(match(in, "{\"tier\":\"mid\"}"));
	assert_false(match(in, "{}"));
	const char *notin = "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"NotIn\","
			    "\"values\":[\"front\"]}]}";
	assert_false(match(notin, web));
	assert_true(match(notin, "{\"tier\":\"back\"}"));
	assert_true(match(notin, "{}")); /* a missing label is not in the set */
	const char *ex = "{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Exists\"}]}";
	assert_true(match(ex, web));
	assert_false(match(ex, "{\"x\":\"y\"}"));
	const char *dne =
		"{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"DoesNotExist\"}]}";
	assert_false(match(dne, web));
	assert_true(match(dne, "{}"));
	/* everything ANDed */
	const char *both = "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":"
			   "\"tier\",\"operator\":\"NotIn\",\"values\":[\"front\"]}]}";
	assert_false(match(both, web));
	assert_true(match(both, "{\"app\":\"web\",\"tier\":\"back\"}"));
}

static void test_errors(void **state)
{
	(void)state;
	struct {
		const char *sel, *want;
	} cases[] = {
		{"[]", "selector: must be an object"},
		{"{\"matchLabels\":{\"a\":1}}", "matchLabels.a: must be a string"},
		{"{\"matchExpressions\":{}}", "matchExpressions: must be a list"},
		{"{\"matchExpressions\":[{\"operator\":\"In\",\"values\":[\"a\"]}]}",
		 "matchExpressions[0].key: missing"},
		{"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\"},{\"key\":\"b\","
		 "\"operator\":\"Like\"}]}",
		 "matchExpressions[1].operator: unknown operator \"Like\""},
		{"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
		 "matchExpressions[0].values: must be non-empty for In"},
		{"{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}"
		 "]}",
		 "matchExpressions[0].values: must be empty for Exists"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cJSON *s = cJSON_Parse(cases[i].sel);
		char err[256] = "";
		struct k8s_selector *c = k8s_selector_compile(s, err, sizeof(err));
		cJSON_Delete(s);
		if (c || !strstr(err, cases[i].want))
			fail_msg("%s: got \"%s\"", cases[i].sel, c ? "(compiled)" : err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
