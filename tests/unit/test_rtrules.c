/* The official Falco rules over runtime metadata: a container's first
 * process (proc.vpid=1) in three states of knowledge:
 *   - metadata unknown: neither "Launch Sensitive Mount Container"
 *     (sandbox, `not container.mount.dest[...] in ("<NA>","N/A")`) nor
 *     "Launch Privileged Container" (incubating, container.privileged=true)
 *     fires: unknown stays unknown;
 *   - the containerd fixture (privileged, /proc bind-mounted): both fire;
 *   - the CRI-O fixture (plain, only a service account mount): neither.
 * The metadata comes from tests/data/runtime/ through the runtime parser.
 * Rules files from $VIGIL_FALCO_RULES (default $VIGIL_SRC/../shared/falco-rules). */
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
#include "rtspec.h"
#include "rules.h"
#include "scene.h"

#define SENSITIVE "Launch Sensitive Mount Container"
#define PRIVILEGED "Launch Privileged Container"
#define CID "c0ffee00c0ffee11c0ffee22c0ffee33c0ffee44c0ffee55c0ffee66c0ffee77"

static struct vg_engine *E;
static struct vg_state *ST;
static uint32_t next_pid = 4242;
static struct vg_cond_scratch *SCR;
static struct vg_container_meta META;
static bool have_meta;

static const struct vg_container_meta *lookup(void *ctx, const char *id)
{
	(void)ctx;
	return have_meta && !strcmp(id, "c0ffee00c0ff") ? &META : NULL;
}

static int setup(void **unused)
{
	(void)unused;
	char dir[4096];
	falco_rules_dir(dir, sizeof(dir));
	static const char *const files[] = {"falco_rules.yaml", "falco-incubating_rules.yaml",
					    "falco-sandbox_rules.yaml"};
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_diag d = {0};
	for (size_t i = 0; i < 3; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (access(path, R_OK))
			fail_msg("missing %s (set VIGIL_FALCO_RULES)", path);
		vg_ruleset_add_file(rs, path, &d);
	}
	E = vg_engine_build(rs, &d);
	vg_ruleset_free(rs);
	if (d.errors)
		vg_diag_print(&d, stdout);
	vg_diag_free(&d);
	SCR = vg_cond_scratch_new();
	/* one state for every test: the scratch caches field values per
	 * event number, which a fresh state would start again */
	struct vg_state_opts o = {
		.ts_is_wall = true, .hostname = "node-1", .etc_root = "tests/unit/etc"};
	ST = vg_state_new(&o);
	vg_state_set_meta_lookup(ST, lookup, NULL);
	return E ? 0 : -1;
}

static int teardown(void **unused)
{
	(void)unused;
	vg_engine_free(E);
	vg_cond_scratch_free(SCR);
	vg_state_free(ST);
	return 0;
}

struct hits {
	bool sensitive, privileged;
};

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	(void)ev;
	struct hits *h = ctx;
	if (!strcmp(r->name, SENSITIVE))
		h->sensitive = true;
	if (!strcmp(r->name, PRIVILEGED))
		h->privileged = true;
}

/* The container's first process: sh as pid 1 of its namespace. */
static struct hits container_start(void)
{
	static struct rb b;
	static const char *const argv[] = {"sh", NULL};
	uint32_t pid = next_pid++;
	sc_exec_rec(&b, pid, 4200, "sh", "/bin/sh", argv, NULL);
	b.r.exec.vpid = 1;
	rb_str(&b, VG_X_CGROUP,
	       "/kubepods/besteffort/pod3f9c1a52-0b7e-4d8e-9a51-2f6c7d8e9a10/" CID);
	struct vg_event ev;
	assert_int_equal(vg_state_apply(ST, &b.r, rb_size(&b), &ev), 0);
	struct hits h = {0};
	vg_engine_match(E, &ev, SCR, on_match, &h);
	return h;
}

static struct vg_rtinfo RI;

static void use_fixture(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "tests/data/runtime/%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	char err[200];
	vg_rtinfo_free(&RI);
	assert_int_equal(vg_rtspec_parse_config(buf, n, &RI, err, sizeof(err)), 0);
	static const struct vg_mount none[1];
	META = (struct vg_container_meta){
		.name = RI.name,
		.image = RI.image,
		.image_repo = RI.image_repo,
		.image_tag = RI.image_tag,
		.privileged = RI.privileged,
		.mounts = RI.mounts_known ? (RI.mounts ? RI.mounts : none) : NULL,
		.nmounts = RI.nmounts,
		.pod_name = RI.pod_name,
		.ns_name = RI.pod_ns,
		.pod_uid = RI.pod_uid,
	};
	have_meta = true;
}

static void test_unknown(void **unused)
{
	(void)unused;
	have_meta = false;
	struct hits h = container_start();
	assert_false(h.sensitive);
	assert_false(h.privileged);
}

static void test_privileged_with_host_mounts(void **unused)
{
	(void)unused;
	use_fixture("containerd_privileged.json");
	struct hits h = container_start();
	assert_true(h.sensitive);
	assert_true(h.privileged);
}

static void test_plain(void **unused)
{
	(void)unused;
	use_fixture("crio_plain.json");
	struct hits h = container_start();
	assert_false(h.sensitive);
	assert_false(h.privileged);
	/* known mounts, some of them sensitive, not privileged */
	use_fixture("containerd_privileged.json");
	META.privileged = 0;
	h = container_start();
	assert_true(h.sensitive);
	assert_false(h.privileged);
	vg_rtinfo_free(&RI);
	have_meta = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_privileged_with_host_mounts),
		cmocka_unit_test(test_plain),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
