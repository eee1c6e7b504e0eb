/* libFuzzer target: the rules-file loader and the engine on arbitrary
 * bytes.  The bytes are loaded as a rules file (after a small fixed file,
 * so that appends and overrides have something to change), an engine is
 * built and run on three real events, every rule's output is rendered on
 * each of them, and everything is freed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "rules.h"
/* recbuild.h embeds records with a flexible array member in a union */
#pragma clang diagnostic ignored "-Wgnu-variable-sized-type-not-at-end"
#include "../unit/scene.h"

static struct scene *S;
static struct vg_cond_scratch *SCR;

static const char BASE[] =
	"- list: shells\n  items: [bash, sh]\n"
	"- macro: spawned\n  condition: evt.type = execve\n"
	"- rule: Shell\n  desc: d\n  condition: spawned and proc.name in (shells)\n"
	"  output: shell %proc.name %proc.aname[2]\n  priority: Warning\n"
	"  tags: [t]\n"
	"  exceptions:\n  - name: e\n    fields: [proc.pname]\n    values: []\n";

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	char *s = vg_alert_json(r, ev, ctx);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!S) {
		S = calloc(1, sizeof(*S));
		if (scene_init(S))
			abort();
		SCR = vg_cond_scratch_new();
	}
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_diag d = {0};
	vg_ruleset_add_text(rs, "base", BASE, strlen(BASE), &d);
	/* an exact-size copy: reading past the input is an error ASan sees */
	char *text = malloc(size ? size : 1);
	memcpy(text, data, size);
	vg_ruleset_add_text(rs, "fuzz", text, size, &d);
	free(text);
	for (size_t i = 0; i < d.n; i++)
		if (!d.v[i].msg || !d.v[i].file)
			abort();
	struct vg_engine *e = vg_engine_build(rs, &d);
	static struct vg_alert_ctx ctx;
	ctx.hostname = "fuzz";
	const struct vg_event *evs[] = {&S->exec, &S->open, &S->conn};
	for (int i = 0; i < 3; i++) {
		vg_engine_match(e, evs[i], SCR, on_match, &ctx);
		/* every output on every event, matched or not */
		for (size_t k = 0; k < vg_engine_rule_count(e); k++) {
			char line[256];
			vg_alert_text(vg_engine_rule(e, k), evs[i], &ctx, line, sizeof(line));
			on_match(&ctx, vg_engine_rule(e, k), evs[i]);
		}
	}
	uint8_t want[VG_NR_MAX];
	vg_engine_interest(e, want);
	vg_engine_free(e);
	vg_ruleset_free(rs);
	vg_diag_free(&d);
	return 0;
}
