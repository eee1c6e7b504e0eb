/* evt.hostname in `vigil run` is the node name the alerts carry
 * (node_name in vigil.yaml, NODE_NAME in the DaemonSet), not the kernel's
 * host name, which in a DaemonSet pod is the pod's name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.h"
#include "config.h"
#include "state.h"

static int on_event(void *ctx, struct vg_event *ev)
{
	(void)ctx;
	(void)ev;
	return 0;
}

static void test_evt_hostname_is_node_name(void **state)
{
	(void)state;
	struct vg_config cfg;
	vg_config_defaults(&cfg);
	char kernel[256] = "";
	gethostname(kernel, sizeof(kernel) - 1);
	const char *node = strcmp(kernel, "node-from-config") ? "node-from-config" : "other-node";
	free(cfg.node_name); /* the config owns its strings */
	cfg.node_name = strdup(node);
	uint8_t want[VG_NR_MAX] = {0};
	struct vg_agent_opts o = {.cfg = &cfg, .on_event = on_event, .want = want};
	char err[256];
	struct vg_agent *a = vg_agent_new(&o, err, sizeof(err));
	assert_non_null(a);
	char alert_host[256];
	vg_agent_hostname(&cfg, alert_host, sizeof(alert_host));
	assert_string_equal(alert_host, node);
	assert_string_equal(vg_state_hostname(vg_agent_state(a)), node);
	vg_agent_free(a);
	vg_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evt_hostname_is_node_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
