/* libFuzzer target: the audit webhook's EventList decoder on arbitrary
 * bytes, and every decoded event through audit rules that read the ka.*
 * and jevt.* fields (lists, indexes, keys, JSON pointers), with each
 * matching rule's alert rendered, and the object its Events would regard. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "engine.h"
#include "kaudit.h"
#include "rules.h"

static struct vg_engine *E;
static struct vg_cond_scratch *SCR;
static struct vg_alert_ctx *ACTX;

static const char RULES[] =
	"- rule: Any\n  desc: d\n  condition: jevt.rawtime exists or ka.verb exists\n"
	"  output: '%ka.user.name %ka.user.groups %ka.uri.param[command] %jevt.value[/a/0/~1b]"
	" %ka.req.pod.containers.image[1] %ka.req.role.rules %jevt.obj %jevt.time'\n"
	"  priority: Notice\n  source: k8s_audit\n"
	"- rule: Lists\n  desc: d\n"
	"  condition: ka.req.pod.containers.privileged intersects (true) or"
	" ka.req.pod.containers.image.repository in (a, b) or ka.req.pod.volumes.hostpath"
	" pmatch (/etc) or ka.req.binding.subjects.serviceaccount_ns_names contains ':' or"
	" ka.req.pod.containers.eff_run_as_user[0] = 0 or ka.req.volume.hostpath[/e] = true\n"
	"  output: '%ka.req.binding.subjects %ka.req.pod.volumes.volume_type"
	" %ka.req.pod.initContainers.add_capabilities %ka.sourceips[0] %ka.resp.name'\n"
	"  priority: Warning\n  source: k8s_audit\n";

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	(void)ctx;
	free(vg_alert_json(r, ev, ACTX));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!E) {
		struct vg_ruleset *rs = vg_ruleset_new();
		struct vg_diag d = {0};
		vg_ruleset_add_text(rs, "fuzz.yaml", RULES, strlen(RULES), &d);
		E = vg_engine_build(rs, &d);
		if (d.errors)
			abort();
		vg_diag_free(&d);
		vg_ruleset_free(rs);
		SCR = vg_cond_scratch_new();
		ACTX = calloc(1, sizeof(*ACTX));
	}
	const cJSON *events;
	size_t n;
	const char *why;
	cJSON *doc = vg_audit_decode((const char *)data, size, 64, &events, &n, &why);
	if (!doc)
		return 0;
	const cJSON *e = events ? events->child : doc;
	for (size_t i = 0; i < n && e; i++, e = events ? e->next : NULL) {
		struct vg_kaudit_event ke;
		vg_kaudit_event_init(&ke, e, i, 1);
		vg_engine_match(E, &ke.ev, SCR, on_match, NULL);
		struct vg_kaudit_ref ref; /* the object its Kubernetes Events regard */
		if (vg_kaudit_ref(&ke, &ref) && (!ref.kind[0] || !ref.name[0]))
			abort();
	}
	cJSON_Delete(doc);
	return 0;
}
