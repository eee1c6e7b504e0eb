/* k8s_events pure parts: reasons, note truncation on UTF-8 boundaries,
 * MicroTime, Event names and bodies (the token bucket
 * is tested in test_tbucket.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "k8s_events.h"
#include "k8s_util.h"

static void test_reason(void **state)
{
	(void)state;
	char r[K8S_EVENT_FIELD_MAX + 1];
	k8s_event_reason("Terminal shell in container", r, sizeof(r));
	assert_string_equal(r, "TerminalShellInContainer");
	k8s_event_reason("Read sensitive file untrusted", r, sizeof(r));
	assert_string_equal(r, "ReadSensitiveFileUntrusted");
	k8s_event_reason("k8s_api: contact (from pod)", r, sizeof(r));
	assert_string_equal(r, "K8sApiContactFromPod");
	k8s_event_reason("Netcat Remote Code Execution in Container", r, sizeof(r));
	assert_string_equal(r, "NetcatRemoteCodeExecutionInContainer");
	k8s_event_reason("  --  ", r, sizeof(r));
	assert_string_equal(r, "VigilAlert");
	k8s_event_reason("Über ünïcode rule", r, sizeof(r));
	assert_string_equal(r, "BerNCodeRule");
	char long_rule[400];
	memset(long_rule, 'a', sizeof(long_rule) - 1);
	long_rule[sizeof(long_rule) - 1] = '\0';
	k8s_event_reason(long_rule, r, sizeof(r));
	assert_int_equal(strlen(r), K8S_EVENT_FIELD_MAX);
	assert_int_equal(r[0], 'A');
}

static void test_utf8_cut(void **state)
{
	(void)state;
	assert_int_equal(k8s_utf8_cut("abc", 10), 3);
	assert_int_equal(k8s_utf8_cut("abcdef", 4), 4);
	/* "aé" = 61 C3 A9: a cut at 2 would split é */
	assert_int_equal(k8s_utf8_cut("a\xc3\xa9z", 2), 1);
	assert_int_equal(k8s_utf8_cut("a\xc3\xa9z", 3), 3);
	/* a 4-byte sequence (U+1F600) */
	const char *s = "ab\xf0\x9f\x98\x80";
	for (size_t m = 2; m < 6; m++)
		assert_int_equal(k8s_utf8_cut(s, m), 2);
	assert_int_equal(k8s_utf8_cut(s, 6), 6);
	/* every cut of a long mixed note is valid UTF-8 at the end */
	char note[2000];
	size_t n = 0;
	while (n + 3 < sizeof(note)) {
		memcpy(note + n, "\xe2\x82\xac", 3); /* € */
		n += 3;
	}
	note[n] = '\0';
	size_t c = k8s_utf8_cut(note, K8S_EVENT_NOTE_MAX);
	assert_true(c <= K8S_EVENT_NOTE_MAX && c % 3 == 0 && c >= K8S_EVENT_NOTE_MAX - 2);
}

static void test_micro_time_and_name(void **state)
{
	(void)state;
	char t[32];
	k8s_micro_time(1764386520123456789ull, t);
	assert_string_equal(t, "2025-11-29T03:22:00.123456Z");
	k8s_micro_time(1764386520000000000ull, t);
	assert_string_equal(t, "2025-11-29T03:22:00.000000Z");
	char name[300];
	k8s_event_name("web", 0x187c5b8a1e2f3d4ull, name, sizeof(name));
	assert_string_equal(name, "web.187c5b8a1e2f3d4");
	char big[300];
	memset(big, 'x', 260);
	big[260] = '\0';
	k8s_event_name(big, 0xffffffffffffffffull, name, sizeof(name));
	assert_int_equal(strlen(name), 253);
	assert_string_equal(name + 253 - 17, ".ffffffffffffffff");
	strcpy(big + 235, "-.-");
	k8s_event_name(big, 1, name, sizeof(name));
	assert_string_equal(name + strlen(name) - 3, "x.1");
	/* several rules on one syscall of one object: same time, other tags */
	char n1[300], n2[300];
	k8s_event_name_tagged("web", 0x187c5b8a1e2f3d4ull, 0xdeadbeef, n1, sizeof(n1));
	k8s_event_name_tagged("web", 0x187c5b8a1e2f3d4ull, 0x1, n2, sizeof(n2));
	assert_string_equal(n1, "web.187c5b8a1e2f3d4.deadbeef");
	assert_string_equal(n2, "web.187c5b8a1e2f3d4.00000001");
	memset(big, 'x', 260);
	big[260] = '\0';
	k8s_event_name_tagged(big, 0xffffffffffffffffull, 7, name, sizeof(name));
	assert_int_equal(strlen(name), 253);
	assert_string_equal(name + 253 - 26, ".ffffffffffffffff.00000007");
}

static void test_body(void **state)
{
	(void)state;
	char note[1500];
	memset(note, 'n', sizeof(note) - 1);
	note[sizeof(note) - 1] = '\0';
	struct k8s_event_in in = {.rule = "Terminal shell in container",
				  .note = note,
				  .kind = "Pod",
				  .namespace = "ns1",
				  .name = "web",
				  .uid = "u-1"};
	char *s = k8s_event_body(&in, "vigil.dev/agent", "node-1", "web.1", "ns1",
				 1764386520123456789ull, 1, 0);
	cJSON *j = cJSON_Parse(s);
	free(s);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "apiVersion")->valuestring, "events.k8s.io/v1");
	assert_string_equal(cJSON_GetObjectItem(j, "type")->valuestring, "Warning");
	assert_string_equal(cJSON_GetObjectItem(j, "reason")->valuestring,
			    "TerminalShellInContainer");
	assert_string_equal(cJSON_GetObjectItem(j, "action")->valuestring, "Detected");
	assert_string_equal(cJSON_GetObjectItem(j, "reportingController")->valuestring,
			    "vigil.dev/agent");
	assert_string_equal(cJSON_GetObjectItem(j, "reportingInstance")->valuestring, "node-1");
	assert_string_equal(cJSON_GetObjectItem(j, "eventTime")->valuestring,
			    "2025-11-29T03:22:00.123456Z");
	assert_int_equal(strlen(cJSON_GetObjectItem(j, "note")->valuestring), 1024);
	assert_null(cJSON_GetObjectItem(j, "series"));
	assert_null(cJSON_GetObjectItem(j, "deprecatedCount"));
	cJSON *reg = cJSON_GetObjectItem(j, "regarding");
	assert_string_equal(cJSON_GetObjectItem(reg, "kind")->valuestring, "Pod");
	assert_string_equal(cJSON_GetObjectItem(reg, "namespace")->valuestring, "ns1");
	assert_string_equal(cJSON_GetObjectItem(reg, "uid")->valuestring, "u-1");
	cJSON *md = cJSON_GetObjectItem(j, "metadata");
	assert_string_equal(cJSON_GetObjectItem(md, "name")->valuestring, "web.1");
	assert_null(cJSON_GetObjectItem(j, "related")); /* no rule object */
	assert_null(cJSON_GetObjectItem(md, "labels"));
	cJSON_Delete(j);
	/* raised by a team's Rule: related, labels and annotations say so */
	in.origin_kind = "Rule";
	in.origin_ns = "team-a";
	in.origin_name = "lookalike";
	in.origin_gen = 3;
	s = k8s_event_body(&in, "vigil.dev/agent", "node-1", "web.1", "ns1", 1, 1, 0);
	j = cJSON_Parse(s);
	free(s);
	cJSON *rel = cJSON_GetObjectItem(j, "related");
	assert_string_equal(cJSON_GetObjectItem(rel, "apiVersion")->valuestring,
			    "vigil.dev/v1alpha1");
	assert_string_equal(cJSON_GetObjectItem(rel, "kind")->valuestring, "Rule");
	assert_string_equal(cJSON_GetObjectItem(rel, "namespace")->valuestring, "team-a");
	assert_string_equal(cJSON_GetObjectItem(rel, "name")->valuestring, "lookalike");
	md = cJSON_GetObjectItem(j, "metadata");
	cJSON *lab = cJSON_GetObjectItem(md, "labels");
	assert_string_equal(cJSON_GetObjectItem(lab, "vigil.dev/rule-kind")->valuestring, "Rule");
	assert_string_equal(cJSON_GetObjectItem(lab, "vigil.dev/rule-namespace")->valuestring,
			    "team-a");
	cJSON *ann = cJSON_GetObjectItem(md, "annotations");
	assert_string_equal(cJSON_GetObjectItem(ann, "vigil.dev/rule-object")->valuestring,
			    "Rule/team-a/lookalike");
	assert_string_equal(cJSON_GetObjectItem(ann, "vigil.dev/rule-generation")->valuestring,
			    "3");
	cJSON_Delete(j);
	/* a ClusterRule: no namespace anywhere */
	in.origin_kind = "ClusterRule";
	in.origin_ns = NULL;
	in.origin_name = "shells";
	s = k8s_event_body(&in, "vigil.dev/agent", "node-1", "web.1", "ns1", 1, 1, 0);
	j = cJSON_Parse(s);
	free(s);
	rel = cJSON_GetObjectItem(j, "related");
	assert_null(cJSON_GetObjectItem(rel, "namespace"));
	md = cJSON_GetObjectItem(j, "metadata");
	assert_null(
		cJSON_GetObjectItem(cJSON_GetObjectItem(md, "labels"), "vigil.dev/rule-namespace"));
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(md, "annotations"), "vigil.dev/rule-object")
			->valuestring,
		"ClusterRule/shells");
	cJSON_Delete(j);
	in.origin_kind = NULL;
	in.origin_name = NULL;
	/* a Node (cluster scope): no namespace in regarding; a series */
	struct k8s_event_in node = {.rule = "x", .note = "n", .kind = "Node", .name = "node-1"};
	s = k8s_event_body(&node, "vigil.dev/agent", "node-1", "node-1.2", "default", 1000000000ull,
			   7, 2000000000ull);
	j = cJSON_Parse(s);
	free(s);
	reg = cJSON_GetObjectItem(j, "regarding");
	assert_null(cJSON_GetObjectItem(reg, "namespace"));
	cJSON *series = cJSON_GetObjectItem(j, "series");
	assert_int_equal(cJSON_GetObjectItem(series, "count")->valueint, 7);
	assert_string_equal(cJSON_GetObjectItem(series, "lastObservedTime")->valuestring,
			    "1970-01-01T00:00:02.000000Z");
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason),
		cmocka_unit_test(test_utf8_cut),
		cmocka_unit_test(test_micro_time_and_name),
		cmocka_unit_test(test_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
