/* vg_kaudit_ref: the object an audit event's alerts regard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kaudit.h"

/* the ref of an event given as JSON; false when none */
static bool ref_of(const char *json, struct vg_kaudit_ref *r)
{
	cJSON *o = cJSON_Parse(json);
	assert_non_null(o);
	struct vg_kaudit_event ke;
	vg_kaudit_event_init(&ke, o, 1, 1);
	bool ok = vg_kaudit_ref(&ke, r);
	cJSON_Delete(o);
	return ok;
}

static void expect(const struct vg_kaudit_ref *r, const char *kind, const char *apiv,
		   const char *ns, const char *name, const char *uid)
{
	assert_string_equal(r->kind, kind);
	assert_string_equal(r->api_version, apiv);
	assert_string_equal(r->ns, ns);
	assert_string_equal(r->name, name);
	assert_string_equal(r->uid, uid);
}

/* kubectl exec: the Pod, not its exec subresource */
static void test_exec_regards_the_pod(void **state)
{
	(void)state;
	struct vg_kaudit_ref r;
	assert_true(ref_of("{\"verb\":\"create\",\"objectRef\":{\"resource\":\"pods\","
			   "\"namespace\":\"shop\",\"name\":\"priv\",\"subresource\":\"exec\","
			   "\"apiVersion\":\"v1\"},\"responseObject\":{\"kind\":\"Status\"}}",
			   &r));
	expect(&r, "Pod", "v1", "shop", "priv", "");
}

/* a create names its object in the response (objectRef has no name) */
static void test_create_named_by_response(void **state)
{
	(void)state;
	struct vg_kaudit_ref r;
	assert_true(ref_of("{\"verb\":\"create\",\"objectRef\":{\"resource\":"
			   "\"clusterrolebindings\",\"apiGroup\":\"rbac.authorization.k8s.io\","
			   "\"apiVersion\":\"v1\"},\"responseObject\":{\"kind\":"
			   "\"ClusterRoleBinding\",\"metadata\":{\"name\":\"mallory-admin\","
			   "\"uid\":\"6f1c\"}}}",
			   &r));
	expect(&r, "ClusterRoleBinding", "rbac.authorization.k8s.io/v1", "", "mallory-admin",
	       "6f1c");
	/* only the request body (Request level): named, no uid */
	assert_true(ref_of("{\"objectRef\":{\"resource\":\"configmaps\",\"namespace\":\"shop\","
			   "\"apiVersion\":\"v1\"},\"requestObject\":{\"kind\":\"ConfigMap\","
			   "\"metadata\":{\"name\":\"creds\"}}}",
			   &r));
	expect(&r, "ConfigMap", "v1", "shop", "creds", "");
	/* a kind not in the table, from the object */
	assert_true(
		ref_of("{\"objectRef\":{\"resource\":\"widgets\",\"namespace\":\"shop\","
		       "\"name\":\"w\",\"apiGroup\":\"acme.io\",\"apiVersion\":\"v2\"},"
		       "\"responseObject\":{\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"}}}",
		       &r));
	expect(&r, "Widget", "acme.io/v2", "shop", "w", "");
}

/* nothing names the object: its Namespace; nothing at all: none */
static void test_fallbacks(void **state)
{
	(void)state;
	struct vg_kaudit_ref r;
	assert_true(ref_of("{\"verb\":\"list\",\"objectRef\":{\"resource\":\"pods\","
			   "\"namespace\":\"shop\",\"apiVersion\":\"v1\"}}",
			   &r));
	expect(&r, "Namespace", "v1", "", "shop", "");
	/* an unknown resource without an object to read the kind from */
	assert_true(ref_of("{\"objectRef\":{\"resource\":\"widgets\",\"namespace\":\"shop\","
			   "\"name\":\"w\"}}",
			   &r));
	expect(&r, "Namespace", "v1", "", "shop", "");
	assert_false(ref_of("{\"verb\":\"get\",\"requestURI\":\"/version\"}", &r));
	assert_false(ref_of("{\"verb\":\"list\",\"objectRef\":{\"resource\":\"nodes\"}}", &r));
	/* a name too long for an object name is not cut into another's */
	char big[600];
	snprintf(big, sizeof(big),
		 "{\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"ns\",\"name\":\"%0300d\"}}",
		 0);
	assert_true(ref_of(big, &r));
	expect(&r, "Namespace", "v1", "", "ns", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_regards_the_pod),
		cmocka_unit_test(test_create_named_by_response),
		cmocka_unit_test(test_fallbacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
