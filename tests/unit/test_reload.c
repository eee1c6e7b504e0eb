/* Unit tests of agent/run/reload.c with a fake capture (the kernel map is an
 * array, the event clock a variable): same generation = no build, the swap
 * at the first event stamped after the widened map (every event evaluated
 * once, by the old set before and the new set after), widen before and
 * narrow after the swap, a stale set replaced by a newer one, SIGHUP
 * re-reading the files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pfeval.h"
#include "reload.h"
#include "scene.h"
#include "tenant_scene.h"
#include "util.h"

static struct scene S;
static struct vg_cond_scratch *SCR;

/* the fake kernel map and clock */
static pthread_mutex_t MU = PTHREAD_MUTEX_INITIALIZER;
static uint8_t MAP[VG_NR_MAX];
static int MAP_WRITES;
static _Atomic uint64_t NOW;
static char FILE_TEXT[2048];

static int fake_interest(void *ctx, const uint8_t want[VG_NR_MAX], char *err, size_t errlen)
{
	(void)ctx, (void)err, (void)errlen;
	pthread_mutex_lock(&MU);
	memcpy(MAP, want, VG_NR_MAX);
	MAP_WRITES++;
	pthread_mutex_unlock(&MU);
	return 0;
}

static bool map_has(int nr)
{
	pthread_mutex_lock(&MU);
	bool v = MAP[nr] != 0;
	pthread_mutex_unlock(&MU);
	return v;
}

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return atomic_load(&NOW);
}

static void load_files(void *ctx, struct vg_ruleset *rs, struct vg_diag *d)
{
	(void)ctx;
	pthread_mutex_lock(&MU);
	vg_ruleset_add_text(rs, "files.yaml", FILE_TEXT, strlen(FILE_TEXT), d);
	pthread_mutex_unlock(&MU);
}

static void set_files(const char *text)
{
	pthread_mutex_lock(&MU);
	snprintf(FILE_TEXT, sizeof(FILE_TEXT), "%s", text);
	pthread_mutex_unlock(&MU);
}

static struct vg_reload *new_reload(void)
{
	memset(MAP, 0, sizeof(MAP));
	MAP_WRITES = 0;
	atomic_store(&NOW, 1000);
	struct vg_reload_opts o = {.load_more = load_files,
				   .set_interest = fake_interest,
				   .now = fake_now,
				   .debounce_ms = 1};
	return vg_reload_new(&o);
}

/* Wait up to 5 s for fn() to be true. */
static bool wait_for(bool (*fn)(struct vg_reload *), struct vg_reload *r)
{
	for (int i = 0; i < 5000; i++) {
		if (fn(r))
			return true;
		usleep(1000);
	}
	return false;
}

static uint64_t WANT_BUILDS, WANT_PUBLISHED;
static bool builds_reached(struct vg_reload *r)
{
	struct vg_reload_stats s;
	vg_reload_get_stats(r, &s);
	return s.builds >= WANT_BUILDS;
}

/* the n-th set since start is waiting for its swap */
static bool published(struct vg_reload *r)
{
	struct vg_reload_stats s;
	vg_reload_get_stats(r, &s);
	return s.published >= WANT_PUBLISHED && vg_reload_pending(r);
}

static bool discarded(struct vg_reload *r)
{
	struct vg_reload_stats s;
	vg_reload_get_stats(r, &s);
	return s.discarded >= 1;
}

static bool narrowed(struct vg_reload *r)
{
	(void)r;
	return !map_has(VG_NR_ptrace);
}

static cJSON *obj(const char *name, const char *uid, int gen, const char *cond)
{
	char buf[1024];
	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"%s\",\"uid\":\"%s\",\"generation\":%d},"
		 "\"spec\":{\"condition\":\"%s\",\"output\":\"o\",\"priority\":\"Info\","
		 "\"hostProcesses\":true}}",
		 name, uid, gen, cond);
	cJSON *j = cJSON_Parse(buf);
	assert_non_null(j);
	return j;
}

static void upsert(struct vg_reload *r, const char *name, const char *uid, int gen,
		   const char *cond, bool want)
{
	cJSON *j = obj(name, uid, gen, cond);
	assert_int_equal(vg_reload_upsert(r, VG_CR_CLUSTERRULE, j), want);
	cJSON_Delete(j);
}

struct hits {
	char names[256];
};

static void on_match(void *ctx, const struct vg_rule *rule, const struct vg_event *ev)
{
	(void)ev;
	strcat(((struct hits *)ctx)->names, rule->name);
	strcat(((struct hits *)ctx)->names, ";");
}

static const char RULES[] = "- rule: file-rule\n"
			    "  desc: d\n"
			    "  condition: evt.type = connect\n"
			    "  output: o\n"
			    "  priority: Notice\n";

static void test_generation_skip(void **state)
{
	(void)state;
	set_files(RULES);
	struct vg_reload *r = new_reload();
	char err[128];
	struct vg_engine *eng = vg_reload_start(r, err, sizeof(err));
	assert_string_equal(err, "");
	assert_int_equal(vg_engine_rule_count(eng), 1);
	assert_true(map_has(VG_NR_connect));

	upsert(r, "a", "u1", 1, "evt.type = openat", true);
	WANT_BUILDS = 2;
	assert_true(wait_for(builds_reached, r));
	assert_true(wait_for(vg_reload_pending, r));
	assert_true(vg_reload_poll(r, UINT64_MAX, &eng));
	assert_int_equal(vg_engine_rule_count(eng), 2);

	/* same uid and generation (a status or label update): nothing */
	upsert(r, "a", "u1", 1, "evt.type = openat", false);
	usleep(50000);
	struct vg_reload_stats s;
	vg_reload_get_stats(r, &s);
	assert_int_equal(s.builds, 2);
	assert_int_equal(s.unchanged, 1);
	assert_false(vg_reload_pending(r));
	assert_false(vg_reload_poll(r, UINT64_MAX, &eng));

	/* a new generation, or the same generation of a new object */
	upsert(r, "a", "u1", 2, "evt.type = openat", true);
	WANT_BUILDS = 3;
	assert_true(wait_for(builds_reached, r));
	upsert(r, "a", "u2", 2, "evt.type = openat", true);
	WANT_PUBLISHED = 3;
	assert_true(wait_for(published, r));
	assert_true(vg_reload_poll(r, UINT64_MAX, &eng));
	/* deleting rebuilds without it */
	assert_true(vg_reload_delete(r, VG_CR_CLUSTERRULE, NULL, "a"));
	assert_false(vg_reload_delete(r, VG_CR_CLUSTERRULE, NULL, "a"));
	WANT_PUBLISHED = 4;
	assert_true(wait_for(published, r));
	assert_true(vg_reload_poll(r, UINT64_MAX, &eng));
	assert_int_equal(vg_engine_rule_count(eng), 1);
	vg_reload_free(r);
}

/* Events are evaluated by the old set until the first one stamped at or
 * after the moment the widened map was written, then by the new set. */
static void test_swap(void **state)
{
	(void)state;
	set_files("");
	struct vg_reload *r = new_reload();
	upsert(r, "old-r", "u1", 1, "evt.type = ptrace or (evt.type = openat and proc.name = cat)",
	       true);
	char err[128];
	struct vg_engine *eng = vg_reload_start(r, err, sizeof(err));
	assert_true(map_has(VG_NR_ptrace));
	assert_false(map_has(VG_NR_unlinkat));

	atomic_store(&NOW, 2000); /* the clock when the new set is armed */
	assert_true(vg_reload_delete(r, VG_CR_CLUSTERRULE, NULL, "old-r"));
	upsert(r, "new-r", "u2", 1,
	       "evt.type = unlinkat or (evt.type = openat and proc.name = cat)", true);
	assert_true(wait_for(vg_reload_pending, r));
	/* widened before the swap: both sets' syscalls */
	assert_true(map_has(VG_NR_ptrace));
	assert_true(map_has(VG_NR_unlinkat));

	struct hits h = {""};
	const uint64_t ts[] = {1998, 1999, 2000, 2001, 2002};
	int swaps = 0;
	for (size_t i = 0; i < 5; i++) {
		swaps += vg_reload_poll(r, ts[i], &eng);
		vg_engine_match(eng, &S.open, SCR, on_match, &h);
	}
	assert_int_equal(swaps, 1);
	assert_string_equal(h.names, "old-r;old-r;new-r;new-r;new-r;");
	/* narrowed after the swap, old set freed by the worker */
	assert_true(wait_for(narrowed, r));
	assert_true(map_has(VG_NR_unlinkat));
	struct vg_reload_stats s;
	vg_reload_get_stats(r, &s);
	assert_int_equal(s.swaps, 1);
	vg_reload_free(r);
}

/* The prefilter follows the swap: widened to both sets' before it (an open
 * either set's rule can match is sent), narrowed to the new set's after. */
static struct vg_pf_table PF;
static int PF_WRITES;

static int fake_prefilter(void *ctx, const struct vg_pf_table *t, char *err, size_t errlen)
{
	(void)ctx, (void)err, (void)errlen;
	pthread_mutex_lock(&MU);
	PF = *t;
	PF_WRITES++;
	pthread_mutex_unlock(&MU);
	return 0;
}

/* Would the kernel send an openat of path? */
static bool sends_open(const char *path)
{
	static struct rb b;
	rb_sys(&b, VG_NR_openat, 100, 3);
	b.r.arg[0] = (uint64_t)(uint32_t)-100;
	rb_str(&b, VG_S_PATH0, path);
	rb_size(&b);
	pthread_mutex_lock(&MU);
	bool keep = vg_pf_rec_keep(&PF, &b.r);
	pthread_mutex_unlock(&MU);
	return keep;
}

static bool pf_narrowed(struct vg_reload *r)
{
	(void)r;
	return !sends_open("/etc/passwd");
}

/* The worker counts a write after the callback returned: the test sees
 * the narrowed table before the count. */
static bool pf_writes_3(struct vg_reload *r)
{
	struct vg_reload_stats s;
	vg_reload_get_stats(r, &s);
	return s.pf_writes >= 3;
}

static void test_prefilter_swap(void **state)
{
	(void)state;
	set_files("");
	memset(MAP, 0, sizeof(MAP));
	memset(&PF, 0, sizeof(PF));
	PF_WRITES = 0;
	atomic_store(&NOW, 1000);
	struct vg_reload_opts o = {.load_more = load_files,
				   .set_interest = fake_interest,
				   .set_prefilter = fake_prefilter,
				   .now = fake_now,
				   .debounce_ms = 1};
	struct vg_reload *r = vg_reload_new(&o);
	upsert(r, "etc", "u1", 1, "evt.type = openat and fd.name startswith /etc/", true);
	char err[128];
	struct vg_engine *eng = vg_reload_start(r, err, sizeof(err));
	assert_non_null(eng);
	assert_int_equal(PF_WRITES, 1);
	assert_true(PF.on[VG_NR_openat]);
	assert_true(sends_open("/etc/passwd"));
	assert_false(sends_open("/srv/data"));

	atomic_store(&NOW, 2000);
	assert_true(vg_reload_delete(r, VG_CR_CLUSTERRULE, NULL, "etc"));
	upsert(r, "srv", "u2", 1, "evt.type = openat and fd.name startswith /srv/", true);
	assert_true(wait_for(vg_reload_pending, r));
	/* widened: what either set can match */
	assert_true(sends_open("/etc/passwd"));
	assert_true(sends_open("/srv/data"));
	assert_false(sends_open("/tmp/x"));

	assert_true(vg_reload_poll(r, 2001, &eng));
	/* narrowed to the new set once the worker reaped the old one */
	assert_true(wait_for(pf_narrowed, r));
	assert_true(sends_open("/srv/data"));
	assert_false(sends_open("/tmp/x"));
	wait_for(pf_writes_3, r);
	struct vg_reload_stats s;
	vg_reload_get_stats(r, &s);
	assert_int_equal(s.pf_errors, 0);
	assert_true(s.pf_writes >= 3);
	vg_reload_free(r);
}

/* A set not taken yet is replaced by a newer one (never both swapped). */
static void test_stale_replaced(void **state)
{
	(void)state;
	set_files("");
	struct vg_reload *r = new_reload();
	char err[128];
	struct vg_engine *eng = vg_reload_start(r, err, sizeof(err));
	upsert(r, "one", "u1", 1, "evt.type = openat", true);
	WANT_BUILDS = 2;
	assert_true(wait_for(builds_reached, r));
	assert_true(wait_for(vg_reload_pending, r));
	upsert(r, "two", "u2", 1, "evt.type = connect", true);
	assert_true(wait_for(discarded, r));
	assert_true(wait_for(vg_reload_pending, r));
	assert_true(vg_reload_poll(r, UINT64_MAX, &eng));
	assert_false(vg_reload_poll(r, UINT64_MAX, &eng));
	assert_int_equal(vg_engine_rule_count(eng), 2);
	struct vg_reload_stats s;
	vg_reload_get_stats(r, &s);
	assert_int_equal(s.discarded, 1);
	assert_int_equal(s.swaps, 1);
	vg_reload_free(r);
}

/* SIGHUP: the files are read again. */
static void test_request_files(void **state)
{
	(void)state;
	set_files(RULES);
	struct vg_reload *r = new_reload();
	char err[128];
	struct vg_engine *eng = vg_reload_start(r, err, sizeof(err));
	assert_string_equal(vg_engine_rule(eng, 0)->name, "file-rule");
	set_files("- rule: edited\n"
		  "  desc: d\n"
		  "  condition: evt.type = ptrace\n"
		  "  output: o\n"
		  "  priority: Notice\n");
	vg_reload_request_files(r);
	assert_true(wait_for(vg_reload_pending, r));
	assert_true(map_has(VG_NR_ptrace));
	assert_true(vg_reload_poll(r, UINT64_MAX, &eng));
	assert_int_equal(vg_engine_rule_count(eng), 1);
	assert_string_equal(vg_engine_rule(eng, 0)->name, "edited");
	vg_reload_free(r);
}

/* A later generation that does not compile leaves the accepted one
 * running; a fixed generation replaces it. */
static struct vg_crset_result LAST;
static char LAST_MSG[512];
static void on_build(void *ctx, const struct vg_crset *cs, const struct vg_diag *d)
{
	(void)ctx, (void)d;
	const struct vg_crset_result *r;
	if (vg_crset_results(cs, &r) == 1) {
		LAST = r[0];
		snprintf(LAST_MSG, sizeof(LAST_MSG), "%s", r[0].message);
	}
}

static void test_keeps_last_good(void **state)
{
	(void)state;
	set_files("");
	memset(MAP, 0, sizeof(MAP));
	atomic_store(&NOW, 1000);
	struct vg_metrics *reg = vg_metrics_new();
	struct vg_vigil_metrics vm;
	char merr[128];
	assert_int_equal(vg_metrics_register_vigil(reg, &vm, merr, sizeof(merr)), 0);
	struct vg_reload_opts o = {.load_more = load_files,
				   .set_interest = fake_interest,
				   .now = fake_now,
				   .on_build = on_build,
				   .debounce_ms = 1,
				   .metrics = &vm};
	struct vg_reload *r = vg_reload_new(&o);
	upsert(r, "r", "u1", 1, "evt.type = openat and proc.name = cat", true);
	char err[128];
	struct vg_engine *eng = vg_reload_start(r, err, sizeof(err));
	assert_true(LAST.accepted);
	upsert(r, "r", "u1", 2, "evt.type = openat and proc.nme = cat", true);
	WANT_PUBLISHED = 1;
	assert_true(wait_for(published, r));
	assert_true(vg_reload_poll(r, UINT64_MAX, &eng));
	assert_false(LAST.accepted);
	assert_true(LAST.in_force);
	assert_string_equal(LAST_MSG, "ClusterRule r: spec.condition:1:23: unknown field "
				      "'proc.nme' (generation 1 stays in force)");
	assert_int_equal(vg_engine_match(eng, &S.open, SCR, NULL, NULL), 1);
	upsert(r, "r", "u1", 3, "evt.type = openat and proc.name = nobody", true);
	WANT_PUBLISHED = 2;
	assert_true(wait_for(published, r));
	assert_true(vg_reload_poll(r, UINT64_MAX, &eng));
	assert_true(LAST.accepted);
	assert_int_equal(vg_engine_match(eng, &S.open, SCR, NULL, NULL), 0);
	/* gen 4 broken again: gen 3 (the last accepted) stays */
	upsert(r, "r", "u1", 4, "evt.type = openat and (", true);
	WANT_PUBLISHED = 3;
	assert_true(wait_for(published, r));
	assert_true(vg_reload_poll(r, UINT64_MAX, &eng));
	assert_non_null(strstr(LAST_MSG, "(generation 3 stays in force)"));
	assert_int_equal(vg_engine_rule_count(eng), 1);
	size_t len;
	char *text = vg_metrics_render(reg, &len);
	assert_non_null(
		strstr(text, "vigil_rules_loaded{kind=\"ClusterRule\",state=\"rejected\"} 1\n"));
	assert_non_null(
		strstr(text, "vigil_rules_loaded{kind=\"ClusterRule\",state=\"accepted\"} 0\n"));
	assert_non_null(strstr(text, "vigil_rules_loaded{kind=\"file\",state=\"accepted\"} 0\n"));
	assert_non_null(strstr(text, "vigil_rules_reloads_total{result=\"partial\"} 2\n"));
	assert_non_null(strstr(text, "vigil_rules_reloads_total{result=\"success\"} 1\n"));
	assert_null(strstr(text, "vigil_rules_last_reload_timestamp_seconds 0\n"));
	free(text);
	vg_reload_free(r);
	vg_metrics_free(reg);
}

/* A SIGHUP with broken rule files keeps the set in force and is counted
 * as a failed reload. */
static void test_failed_reload_counted(void **state)
{
	(void)state;
	set_files(RULES);
	memset(MAP, 0, sizeof(MAP));
	atomic_store(&NOW, 1000);
	struct vg_metrics *reg = vg_metrics_new();
	struct vg_vigil_metrics vm;
	char merr[128];
	assert_int_equal(vg_metrics_register_vigil(reg, &vm, merr, sizeof(merr)), 0);
	struct vg_reload_opts o = {.load_more = load_files,
				   .set_interest = fake_interest,
				   .now = fake_now,
				   .debounce_ms = 1,
				   .metrics = &vm};
	struct vg_reload *r = vg_reload_new(&o);
	char err[128];
	struct vg_engine *eng = vg_reload_start(r, err, sizeof(err));
	assert_int_equal(vg_reload_file_errors(r), 0);
	set_files("- rule: broken\n  condition: fd.nmae = x\n");
	vg_reload_request_files(r);
	WANT_BUILDS = 2;
	assert_true(wait_for(builds_reached, r));
	for (int i = 0; i < 5000; i++) {
		struct vg_reload_stats s;
		vg_reload_get_stats(r, &s);
		if (s.rejected_files)
			break;
		usleep(1000);
	}
	assert_false(vg_reload_pending(r));
	assert_false(vg_reload_poll(r, UINT64_MAX, &eng));
	assert_string_equal(vg_engine_rule(eng, 0)->name, "file-rule");
	assert_int_equal(vg_metric_counter_get(vg_metric_labels(vm.rules_reloads, "failure")), 1);
	assert_int_equal(vg_metric_counter_get(vg_metric_labels(vm.rules_reloads, "success")), 0);
	vg_reload_free(r);
	vg_metrics_free(reg);
}

/* A compile that takes long: vg_reload_free does not wait for it, and
 * nothing of it reaches the callbacks afterwards. */
static atomic_bool SLOW_IN, SLOW_GO, SLOW_OUT;
static atomic_int BUILDS_SEEN;
static void load_slow(void *ctx, struct vg_ruleset *rs, struct vg_diag *d)
{
	load_files(ctx, rs, d);
	if (!atomic_load(&SLOW_IN) && atomic_load(&BUILDS_SEEN) > 0) {
		atomic_store(&SLOW_IN, true);
		for (int i = 0; i < 10000 && !atomic_load(&SLOW_GO); i++)
			usleep(1000);
		atomic_store(&SLOW_OUT, true);
	}
}

static void count_build(void *ctx, const struct vg_crset *cs, const struct vg_diag *d)
{
	(void)ctx, (void)cs, (void)d;
	atomic_fetch_add(&BUILDS_SEEN, 1);
}

static void test_free_during_compile(void **state)
{
	(void)state;
	set_files(RULES);
	memset(MAP, 0, sizeof(MAP));
	MAP_WRITES = 0;
	atomic_store(&BUILDS_SEEN, 0);
	struct vg_reload_opts o = {.load_more = load_slow,
				   .set_interest = fake_interest,
				   .on_build = count_build,
				   .now = fake_now,
				   .debounce_ms = 1};
	struct vg_reload *r = vg_reload_new(&o);
	char err[128];
	vg_reload_start(r, err, sizeof(err));
	assert_int_equal(atomic_load(&BUILDS_SEEN), 1);
	set_files("- rule: edited\n  desc: d\n  condition: evt.type = ptrace\n  output: o\n"
		  "  priority: Notice\n");
	vg_reload_request_files(r);
	for (int i = 0; i < 5000 && !atomic_load(&SLOW_IN); i++)
		usleep(1000);
	assert_true(atomic_load(&SLOW_IN)); /* the worker is compiling */
	pthread_mutex_lock(&MU);
	int writes = MAP_WRITES;
	pthread_mutex_unlock(&MU);
	uint64_t t0 = vg_now_mono_ns();
	vg_reload_free(r);
	uint64_t took = vg_now_mono_ns() - t0;
	assert_true(took < (VG_RELOAD_FREE_WAIT_MS + 400) * 1000000ull);
	atomic_store(&SLOW_GO, true); /* the compile ends now, after the free */
	for (int i = 0; i < 5000 && !atomic_load(&SLOW_OUT); i++)
		usleep(1000);
	usleep(100000); /* the worker builds, throws it away, frees, ends */
	assert_int_equal(atomic_load(&BUILDS_SEEN), 1);
	pthread_mutex_lock(&MU);
	assert_int_equal(MAP_WRITES, writes);
	pthread_mutex_unlock(&MU);
	assert_false(map_has(VG_NR_ptrace));
}

/* SIGTERM during the first compile: vg_reload_start stops waiting for it
 * (before, the start compiled on the caller's thread to the end). */
static atomic_bool FIRST_IN, FIRST_GO, FIRST_OUT;
static void load_slow_first(void *ctx, struct vg_ruleset *rs, struct vg_diag *d)
{
	load_files(ctx, rs, d);
	atomic_store(&FIRST_IN, true);
	for (int i = 0; i < 10000 && !atomic_load(&FIRST_GO); i++)
		usleep(1000);
	atomic_store(&FIRST_OUT, true);
}

static bool stop_once_compiling(void *ctx)
{
	(void)ctx;
	return atomic_load(&FIRST_IN);
}

static void test_stop_during_first_compile(void **state)
{
	(void)state;
	set_files(RULES);
	memset(MAP, 0, sizeof(MAP));
	MAP_WRITES = 0;
	atomic_store(&BUILDS_SEEN, 0);
	struct vg_reload_opts o = {.load_more = load_slow_first,
				   .set_interest = fake_interest,
				   .on_build = count_build,
				   .now = fake_now,
				   .should_stop = stop_once_compiling};
	struct vg_reload *r = vg_reload_new(&o);
	char err[128];
	uint64_t t0 = vg_now_mono_ns();
	assert_null(vg_reload_start(r, err, sizeof(err)));
	vg_reload_free(r);
	uint64_t took = vg_now_mono_ns() - t0;
	assert_true(took < (VG_RELOAD_FREE_WAIT_MS + 1000) * 1000000ull);
	assert_non_null(strstr(err, "stopped while compiling"));
	atomic_store(&FIRST_GO, true);
	for (int i = 0; i < 5000 && !atomic_load(&FIRST_OUT); i++)
		usleep(1000);
	usleep(100000); /* the worker ends the build, throws it away, frees */
	assert_int_equal(atomic_load(&BUILDS_SEEN), 0);
	pthread_mutex_lock(&MU);
	assert_int_equal(MAP_WRITES, 0);
	pthread_mutex_unlock(&MU);
}

static const struct vg_container_meta TMETA = {.ns_name = "team-a", .pod_name = "p"};
static const struct vg_container_meta *tlookup(void *ctx, const char *id)
{
	(void)ctx;
	return !strcmp(id, TS_CID) ? &TMETA : NULL;
}

static void upsert_rule(struct vg_reload *r, const char *name, int gen, const char *cond)
{
	char buf[512];
	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"namespace\":\"team-a\",\"name\":\"%s\",\"uid\":\"u-%s\","
		 "\"generation\":%d},\"spec\":{\"condition\":\"%s\",\"output\":\"o\","
		 "\"priority\":\"Info\"}}",
		 name, name, gen, cond);
	cJSON *j = cJSON_Parse(buf);
	assert_non_null(j);
	assert_true(vg_reload_upsert(r, VG_CR_RULE, j));
	cJSON_Delete(j);
}

static const struct vg_reload_cost *cost_of(const struct vg_reload_cost *c, size_t n,
					    const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].ns, "team-a") && !strcmp(c[i].name, name))
			return &c[i];
	return NULL;
}

static uint64_t WANT_EVENTS;
static bool costs_reached(struct vg_reload *r)
{
	struct vg_reload_cost *c;
	size_t n = vg_reload_costs(r, &c);
	const struct vg_reload_cost *x = cost_of(c, n, "a1");
	bool ok = x && x->c.events >= WANT_EVENTS;
	vg_reload_costs_free(c, n);
	return ok;
}

/* A Rule object's cost is the object's: counted by the capture thread
 * into the set in force, carried into the next set after the swap (not
 * before: what the old set counts until the swap is kept), listed while
 * the object is in force and no longer once it is deleted. */
static void test_costs_carried(void **state)
{
	(void)state;
	struct tscene ts;
	assert_int_equal(tscene_init(&ts), 0);
	vg_state_set_meta_lookup(ts.st, tlookup, NULL);
	set_files("");
	struct vg_reload *r = new_reload();
	upsert_rule(r, "a1", 1, "evt.type = kill");
	upsert_rule(r, "a2", 1, "evt.type = kill");
	char err[128];
	struct vg_engine *eng = vg_reload_start(r, err, sizeof(err));
	assert_non_null(eng);
	for (int i = 0; i < 3; i++)
		vg_engine_match(eng, &ts.kill, SCR, NULL, NULL);
	WANT_EVENTS = 3;
	assert_true(wait_for(costs_reached, r));

	/* a new generation of a2 and a new Rule: a rebuild */
	atomic_store(&NOW, 2000);
	upsert_rule(r, "a2", 2, "evt.type = kill and proc.name != x");
	upsert_rule(r, "a3", 1, "evt.type = kill");
	assert_true(wait_for(vg_reload_pending, r));
	/* the old set still runs and counts until the swap */
	vg_engine_match(eng, &ts.kill, SCR, NULL, NULL);
	assert_true(vg_reload_poll(r, 2001, &eng));
	for (int i = 0; i < 2; i++)
		vg_engine_match(eng, &ts.kill, SCR, NULL, NULL);
	WANT_EVENTS = 6;
	assert_true(wait_for(costs_reached, r));
	struct vg_reload_cost *c;
	size_t n = vg_reload_costs(r, &c);
	assert_int_equal(n, 3);
	assert_int_equal(cost_of(c, n, "a1")->c.events, 6);
	assert_int_equal(cost_of(c, n, "a2")->c.events, 6);
	assert_int_equal(cost_of(c, n, "a3")->c.events, 2);
	assert_true(cost_of(c, n, "a1")->c.ns > 0);
	assert_int_equal(cost_of(c, n, "a1")->throttled_ms, 0);
	vg_reload_costs_free(c, n);

	/* deleted: no longer listed */
	atomic_store(&NOW, 3000);
	assert_true(vg_reload_delete(r, VG_CR_RULE, "team-a", "a3"));
	assert_true(wait_for(vg_reload_pending, r));
	assert_true(vg_reload_poll(r, 3001, &eng));
	vg_engine_match(eng, &ts.kill, SCR, NULL, NULL);
	WANT_EVENTS = 7;
	assert_true(wait_for(costs_reached, r));
	n = vg_reload_costs(r, &c);
	assert_int_equal(n, 2);
	assert_null(cost_of(c, n, "a3"));
	assert_int_equal(cost_of(c, n, "a2")->c.events, 7);
	vg_reload_costs_free(c, n);
	vg_reload_free(r);
	tscene_free(&ts);
}

static int setup(void **state)
{
	(void)state;
	if (scene_init(&S))
		return -1;
	SCR = vg_cond_scratch_new();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vg_cond_scratch_free(SCR);
	scene_free(&S);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generation_skip),
		cmocka_unit_test(test_swap),
		cmocka_unit_test(test_prefilter_swap),
		cmocka_unit_test(test_stale_replaced),
		cmocka_unit_test(test_request_files),
		cmocka_unit_test(test_keeps_last_good),
		cmocka_unit_test(test_failed_reload_counted),
		cmocka_unit_test(test_free_during_compile),
		cmocka_unit_test(test_stop_during_first_compile),
		cmocka_unit_test(test_costs_carried),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
