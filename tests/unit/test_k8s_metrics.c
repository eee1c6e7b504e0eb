/* k8smetrics: the request hook and the informer families render in vigil's
 * registry (the informer runs against a port where nothing listens). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "k8s_informer.h"
#include "k8smetrics.h"
#include "metrics.h"

static void test_metrics(void **state)
{
	(void)state;
	char err[256];
	struct vg_metrics *m = vg_metrics_new();
	struct vg_vigil_metrics vm;
	assert_int_equal(vg_metrics_register_vigil(m, &vm, err, sizeof(err)), 0);
	struct vg_k8smetrics *km = vg_k8smetrics_new(&vm);
	vg_k8smetrics_request_hook(km, "list", "pods", 200);
	vg_k8smetrics_request_hook(km, "list", "pods", 200);
	vg_k8smetrics_request_hook(km, "create", "events", 403);
	vg_k8smetrics_request_hook(km, "watch", "namespaces", 0);

	const char *kc = "current-context: x\n"
			 "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
			 "contexts: [{name: x, context: {cluster: c}}]\n";
	struct k8s_config *cfg =
		k8s_config_kubeconfig_str(kc, strlen(kc), "kc", "/", NULL, err, sizeof(err));
	assert_non_null(cfg);
	struct k8s_client_opts co = {.hook = vg_k8smetrics_request_hook, .hook_ctx = km};
	struct k8s_client *c = k8s_client_new(cfg, &co, err, sizeof(err));
	assert_non_null(c);
	struct k8s_informer_opts io = {.path = "/api/v1/pods"};
	struct k8s_informer *inf = k8s_informer_new(c, &io, err, sizeof(err));
	assert_non_null(inf);
	vg_k8smetrics_add_informer(km, inf);
	k8s_informer_start(inf);
	/* the first list fails (nothing listens): counted with code 0 */
	for (int i = 0; i < 200; i++) {
		struct k8s_informer_stats st;
		k8s_informer_stats(inf, &st);
		if (st.errors)
			break;
		usleep(10000);
	}
	size_t len;
	char *text = vg_metrics_render(m, &len);
	assert_non_null(strstr(text, "vigil_k8s_requests_total{verb=\"list\",resource=\"pods\","
				     "code=\"200\"} 2\n"));
	assert_non_null(strstr(text, "vigil_k8s_requests_total{verb=\"create\",resource=\"events\","
				     "code=\"403\"} 1\n"));
	assert_non_null(strstr(text, "vigil_k8s_requests_total{verb=\"list\",resource=\"pods\","
				     "code=\"0\"} 1\n"));
	assert_non_null(strstr(text, "vigil_k8s_watch_restarts_total{resource=\"pods\"} 0\n"));
	assert_non_null(strstr(text, "vigil_k8s_cache_objects{resource=\"pods\"} 0\n"));
	free(text);
	vg_k8smetrics_remove_informer(km, inf);
	k8s_informer_free(inf);
	k8s_client_free(c);
	k8s_config_free(cfg);
	vg_k8smetrics_free(km);
	vg_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
