/* The metrics registry: exact rendering, escaping, the cardinality bound,
 * concurrent updates, collect callbacks, vigil's families and promtool. */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "version.h"

extern char **environ;

static struct vg_metric_family *add(struct vg_metrics *m, struct vg_metric_desc d)
{
	char err[256] = "";
	struct vg_metric_family *f = vg_metrics_add(m, &d, err, sizeof(err));
	if (!f)
		fail_msg("vg_metrics_add(%s): %s", d.name, err);
	return f;
}

static void test_golden(void **state)
{
	(void)state;
	struct vg_metrics *m = vg_metrics_new();
	struct vg_metric_family *req = add(m, (struct vg_metric_desc){
						      .name = "t_requests_total",
						      .help = "Requests \\ by method\nand code.",
						      .type = VG_METRIC_COUNTER,
						      .labels = {"method", "code"},
					      });
	struct vg_metric_family *temp = add(m, (struct vg_metric_desc){
						       .name = "t_temperature_celsius",
						       .help = "A \"gauge\".",
						       .type = VG_METRIC_GAUGE,
					       });
	add(m, (struct vg_metric_desc){
		       .name = "t_empty_total",
		       .help = "No series yet.",
		       .type = VG_METRIC_COUNTER,
		       .labels = {"x"},
	       });
	struct vg_metric_family *ratio = add(m, (struct vg_metric_desc){
							.name = "t_ratio",
							.help = "",
							.type = VG_METRIC_GAUGE,
							.labels = {"k"},
						});

	/* created out of order: rendering sorts label by label */
	vg_metric_add(vg_metric_labels(req, "POST", "500"), 3);
	vg_metric_inc(vg_metric_labels(req, "GET", "200"));
	vg_metric_add(vg_metric_labels(req, "GET", "200"), 41);
	vg_metric_inc(vg_metric_labels(req, "GET", "1000"));
	vg_metric_set(vg_metric_series(temp, NULL), -3.5);
	vg_metric_set(vg_metric_labels(ratio, "b"), 0.1);
	vg_metric_set(vg_metric_labels(ratio, "a"), 1e20);
	vg_metric_set(vg_metric_labels(ratio, "c"), 1700000000);
	vg_metric_set(vg_metric_labels(ratio, "d"), INFINITY);
	vg_metric_set(vg_metric_labels(ratio, "e"), -INFINITY);
	vg_metric_set(vg_metric_labels(ratio, "f"), NAN);
	vg_metric_set(vg_metric_labels(ratio, "g"), 2.5);
	vg_metric_gauge_add(vg_metric_labels(ratio, "g"), 0.25);

	size_t len = 0;
	char *out = vg_metrics_render(m, &len);
	const char *want = "# HELP t_requests_total Requests \\\\ by method\\nand code.\n"
			   "# TYPE t_requests_total counter\n"
			   "t_requests_total{method=\"GET\",code=\"1000\"} 1\n"
			   "t_requests_total{method=\"GET\",code=\"200\"} 42\n"
			   "t_requests_total{method=\"POST\",code=\"500\"} 3\n"
			   "# HELP t_temperature_celsius A \"gauge\".\n"
			   "# TYPE t_temperature_celsius gauge\n"
			   "t_temperature_celsius -3.5\n"
			   "# HELP t_empty_total No series yet.\n"
			   "# TYPE t_empty_total counter\n"
			   "# HELP t_ratio \n"
			   "# TYPE t_ratio gauge\n"
			   "t_ratio{k=\"a\"} 1e+20\n"
			   "t_ratio{k=\"b\"} 0.1\n"
			   "t_ratio{k=\"c\"} 1700000000\n"
			   "t_ratio{k=\"d\"} +Inf\n"
			   "t_ratio{k=\"e\"} -Inf\n"
			   "t_ratio{k=\"f\"} NaN\n"
			   "t_ratio{k=\"g\"} 2.75\n";
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	vg_metrics_free(m);
}

static void test_escaping(void **state)
{
	(void)state;
	struct vg_metrics *m = vg_metrics_new();
	struct vg_metric_family *f = add(m, (struct vg_metric_desc){
						    .name = "t_rule_total",
						    .help = "h",
						    .type = VG_METRIC_COUNTER,
						    .labels = {"rule", "other"},
					    });
	vg_metric_inc(vg_metric_labels(f, "Read \"secret\" C:\\x\nnext", NULL));
	/* ("ab","") and ("a","b") are different series */
	vg_metric_inc(vg_metric_labels(f, "ab", ""));
	vg_metric_add(vg_metric_labels(f, "a", "b"), 2);
	char *out = vg_metrics_render(m, NULL);
	assert_string_equal(
		out, "# HELP t_rule_total h\n"
		     "# TYPE t_rule_total counter\n"
		     "t_rule_total{rule=\"Read \\\"secret\\\" C:\\\\x\\nnext\",other=\"\"} 1\n"
		     "t_rule_total{rule=\"a\",other=\"b\"} 2\n"
		     "t_rule_total{rule=\"ab\",other=\"\"} 1\n");
	free(out);
	vg_metrics_free(m);
}

static void test_cardinality_bound(void **state)
{
	(void)state;
	struct vg_metrics *m = vg_metrics_new();
	struct vg_metric_family *f = add(m, (struct vg_metric_desc){
						    .name = "t_by_pod_total",
						    .help = "h",
						    .type = VG_METRIC_COUNTER,
						    .labels = {"pod", "ns"},
						    .max_series = 3,
					    });
	struct vg_metric_series *a = vg_metric_labels(f, "a", "x");
	assert_ptr_equal(a, vg_metric_labels(f, "a", "x")); /* a handle is stable */
	vg_metric_inc(a);
	vg_metric_inc(vg_metric_labels(f, "b", "x"));
	vg_metric_inc(vg_metric_labels(f, "c", "x"));
	assert_int_equal(vg_metric_family_size(f), 3);
	assert_int_equal(vg_metric_family_overflows(f), 0);
	struct vg_metric_series *d = vg_metric_labels(f, "d", "x");
	struct vg_metric_series *e = vg_metric_labels(f, "e", "x");
	assert_ptr_equal(d, e); /* both in the one overflow series */
	assert_ptr_not_equal(d, a);
	vg_metric_add(d, 5);
	vg_metric_add(e, 2);
	vg_metric_inc(vg_metric_labels(f, "a", "x")); /* existing series still found */
	assert_int_equal(vg_metric_family_overflows(f), 2);
	assert_int_equal(vg_metric_family_size(f), 4);
	char *out = vg_metrics_render(m, NULL);
	assert_string_equal(out, "# HELP t_by_pod_total h\n"
				 "# TYPE t_by_pod_total counter\n"
				 "t_by_pod_total{pod=\"a\",ns=\"x\"} 2\n"
				 "t_by_pod_total{pod=\"b\",ns=\"x\"} 1\n"
				 "t_by_pod_total{pod=\"c\",ns=\"x\"} 1\n"
				 "t_by_pod_total{pod=\"__overflow__\",ns=\"__overflow__\"} 7\n");
	free(out);
	vg_metrics_free(m);
}

/* A team's Rules name as many rules as they like: their series take at
 * most capped_max, the cluster's still get theirs. */
static void test_capped_labels(void **state)
{
	(void)state;
	struct vg_metrics *m = vg_metrics_new();
	struct vg_metric_family *f = add(m, (struct vg_metric_desc){
						    .name = "t_matches_total",
						    .help = "h",
						    .type = VG_METRIC_COUNTER,
						    .labels = {"rule", "kind"},
						    .max_series = 8,
						    .capped_label = 1,
						    .capped_value = "Rule",
						    .capped_max = 4,
					    });
	struct vg_metric_series *team[10];
	for (int i = 0; i < 10; i++) {
		char r[16];
		snprintf(r, sizeof(r), "t%d", i);
		team[i] = vg_metric_labels(f, r, "Rule");
	}
	for (int i = 0; i < 4; i++)
		for (int j = i + 1; j < 10; j++)
			assert_ptr_not_equal(team[i], team[j]);
	for (int i = 5; i < 10; i++)
		assert_ptr_equal(team[4], team[i]); /* the overflow series */
	for (int i = 0; i < 4; i++) {
		char r[16];
		snprintf(r, sizeof(r), "c%d", i);
		struct vg_metric_series *c = vg_metric_labels(f, r, "ClusterRule");
		assert_ptr_not_equal(c, team[4]);
		assert_ptr_equal(c, vg_metric_labels(f, r, "ClusterRule"));
	}
	assert_int_equal(vg_metric_family_overflows(f), 6);
	vg_metric_family_clear(f); /* the cap counts again from 0 */
	assert_ptr_not_equal(vg_metric_labels(f, "t8", "Rule"), vg_metric_labels(f, "t9", "Rule"));
	vg_metrics_free(m);
}

static void test_invalid(void **state)
{
	(void)state;
	struct vg_metrics *m = vg_metrics_new();
	char err[256];
	const struct {
		struct vg_metric_desc d;
		const char *msg;
	} bad[] = {
		{{.name = "1abc_total", .type = VG_METRIC_COUNTER}, "metric name \"1abc_total\""},
		{{.name = "a-b", .type = VG_METRIC_GAUGE}, "metric name \"a-b\""},
		{{.name = "", .type = VG_METRIC_GAUGE}, "metric name \"\""},
		{{.name = "t_count", .type = VG_METRIC_COUNTER}, "must end in _total"},
		{{.name = "t_g", .type = VG_METRIC_GAUGE, .labels = {"__name"}},
		 "label name \"__name\""},
		{{.name = "t_g", .type = VG_METRIC_GAUGE, .labels = {"a:b"}}, "label name \"a:b\""},
		{{.name = "t_g", .type = VG_METRIC_GAUGE, .labels = {"a", "b", "a"}},
		 "label \"a\" listed twice"},
		{{.name = "t_g", .type = VG_METRIC_GAUGE, .max_series = 1000000}, "max_series"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(vg_metrics_add(m, &bad[i].d, err, sizeof(err)));
		if (!strstr(err, bad[i].msg))
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err, bad[i].msg);
	}
	struct vg_metric_desc ok = {.name = "t_ok", .help = "h", .type = VG_METRIC_GAUGE};
	assert_non_null(vg_metrics_add(m, &ok, err, sizeof(err)));
	assert_null(vg_metrics_add(m, &ok, err, sizeof(err)));
	assert_non_null(strstr(err, "t_ok: registered twice"));
	/* nothing invalid was registered */
	char *out = vg_metrics_render(m, NULL);
	assert_string_equal(out, "# HELP t_ok h\n# TYPE t_ok gauge\nt_ok 0\n");
	free(out);
	/* NULL handles and families are no-ops */
	vg_metric_inc(NULL);
	vg_metric_set(NULL, 1);
	assert_null(vg_metric_labels(NULL, "x"));
	vg_metrics_free(m);
}

struct hammer {
	struct vg_metric_series *c, *g;
	struct vg_metric_family *f;
	int id;
};

#define ITERS 1000000

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	char name[32];
	for (int i = 0; i < ITERS; i++) {
		vg_metric_inc(h->c);
		if (i % 10 == 0)
			vg_metric_gauge_add(h->g, 1.0);
		if (i % 10000 == 0) { /* new series appear while the other increments */
			snprintf(name, sizeof(name), "t%d-%d", h->id, i);
			vg_metric_inc(vg_metric_labels(h->f, name));
		}
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	(void)state;
	struct vg_metrics *m = vg_metrics_new();
	struct vg_metric_family *f = add(m, (struct vg_metric_desc){
						    .name = "t_hits_total",
						    .help = "h",
						    .type = VG_METRIC_COUNTER,
						    .labels = {"k"},
						    .max_series = 1000,
					    });
	struct vg_metric_family *g = add(m, (struct vg_metric_desc){
						    .name = "t_level",
						    .help = "h",
						    .type = VG_METRIC_GAUGE,
					    });
	struct vg_metric_series *c = vg_metric_labels(f, "shared");
	struct vg_metric_series *gs = vg_metric_series(g, NULL);
	struct hammer h[2] = {{c, gs, f, 0}, {c, gs, f, 1}};
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
	/* renders run while the threads update */
	for (int i = 0; i < 20; i++) {
		char *out = vg_metrics_render(m, NULL);
		assert_non_null(strstr(out, "# TYPE t_hits_total counter\n"));
		free(out);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(vg_metric_counter_get(c), 2 * ITERS);
	assert_true(vg_metric_gauge_get(gs) == 2.0 * ITERS / 10);
	assert_int_equal(vg_metric_family_size(f), 1 + 2 * ITERS / 10000);
	char *out = vg_metrics_render(m, NULL);
	assert_non_null(strstr(out, "t_hits_total{k=\"shared\"} 2000000\n"));
	assert_non_null(strstr(out, "t_level 200000\n"));
	free(out);
	vg_metrics_free(m);
}

struct kernel_counts {
	uint64_t percpu[4][2]; /* [cpu][syscall] */
	int calls;
};

static void collect_events(struct vg_metric_family *f, void *arg)
{
	struct kernel_counts *k = arg;
	static const char *const names[2] = {"openat", "execve"};
	k->calls++;
	for (int s = 0; s < 2; s++) {
		uint64_t sum = 0;
		for (int cpu = 0; cpu < 4; cpu++)
			sum += k->percpu[cpu][s];
		vg_metric_counter_set(vg_metric_labels(f, names[s]), sum);
	}
}

static void test_collect(void **state)
{
	(void)state;
	struct kernel_counts k = {.percpu = {{1, 10}, {2, 20}, {3, 30}, {4, 40}}};
	struct vg_metrics *m = vg_metrics_new();
	struct vg_metric_family *f = add(m, (struct vg_metric_desc){
						    .name = "t_events_total",
						    .help = "h",
						    .type = VG_METRIC_COUNTER,
						    .labels = {"syscall"},
						    .collect = collect_events,
						    .collect_arg = &k,
					    });
	char *out = vg_metrics_render(m, NULL);
	assert_int_equal(k.calls, 1);
	assert_string_equal(out, "# HELP t_events_total h\n"
				 "# TYPE t_events_total counter\n"
				 "t_events_total{syscall=\"execve\"} 100\n"
				 "t_events_total{syscall=\"openat\"} 10\n");
	free(out);
	k.percpu[2][0] += 5;
	out = vg_metrics_render(m, NULL);
	assert_int_equal(k.calls, 2);
	assert_non_null(strstr(out, "t_events_total{syscall=\"openat\"} 15\n"));
	free(out);
	/* without the callback the last values stay */
	vg_metric_family_set_collect(f, NULL, NULL);
	k.percpu[0][0] += 100;
	out = vg_metrics_render(m, NULL);
	assert_int_equal(k.calls, 2);
	assert_non_null(strstr(out, "t_events_total{syscall=\"openat\"} 15\n"));
	free(out);
	vg_metrics_free(m);
}

/* A family fed only by its collect callback follows a set that shrinks:
 * cleared, an object gone leaves no series; past max_series the rest add
 * up in the overflow series. */
static const char *OBJS[4];
static void collect_objects(struct vg_metric_family *f, void *arg)
{
	(void)arg;
	vg_metric_family_clear(f);
	for (int i = 0; i < 4 && OBJS[i]; i++)
		vg_metric_add(vg_metric_labels(f, OBJS[i]), 10);
}

static void test_clear(void **state)
{
	(void)state;
	struct vg_metrics *m = vg_metrics_new();
	add(m, (struct vg_metric_desc){.name = "t_obj_total",
				       .help = "h",
				       .type = VG_METRIC_COUNTER,
				       .labels = {"name"},
				       .max_series = 2,
				       .collect = collect_objects});
	OBJS[0] = "a", OBJS[1] = "b", OBJS[2] = "c", OBJS[3] = NULL;
	char *out = vg_metrics_render(m, NULL);
	assert_string_equal(out, "# HELP t_obj_total h\n"
				 "# TYPE t_obj_total counter\n"
				 "t_obj_total{name=\"a\"} 10\n"
				 "t_obj_total{name=\"b\"} 10\n"
				 "t_obj_total{name=\"__overflow__\"} 10\n");
	free(out);
	OBJS[0] = "c", OBJS[1] = NULL;
	out = vg_metrics_render(m, NULL);
	assert_string_equal(out, "# HELP t_obj_total h\n"
				 "# TYPE t_obj_total counter\n"
				 "t_obj_total{name=\"c\"} 10\n");
	free(out);
	vg_metrics_free(m);
}

/* Value of the sample line "name value\n" in out, or -1. */
static double sample(const char *out, const char *name)
{
	char key[128];
	snprintf(key, sizeof(key), "\n%s ", name);
	const char *p = strstr(out, key);
	return p ? strtod(p + strlen(key), NULL) : -1;
}

static void test_vigil_families(void **state)
{
	(void)state;
	struct vg_metrics *m = vg_metrics_new();
	struct vg_vigil_metrics vm;
	char err[256] = "";
	if (vg_metrics_register_vigil(m, &vm, err, sizeof(err)))
		fail_msg("register: %s", err);
	char *out = vg_metrics_render(m, NULL);
	/* every family of DESIGN.md, in this order, with these types */
	static const char *const types[][2] = {
		{"vigil_build_info", "gauge"},
		{"vigil_events_total", "counter"},
		{"vigil_events_dropped_total", "counter"},
		{"vigil_rule_matches_total", "counter"},
		{"vigil_rule_object_events_total", "counter"},
		{"vigil_rule_object_cpu_nanoseconds_total", "counter"},
		{"vigil_rule_object_throttled_total", "counter"},
		{"vigil_alerts_sent_total", "counter"},
		{"vigil_alerts_failed_total", "counter"},
		{"vigil_alert_failures_total", "counter"},
		{"vigil_alerts_throttled_total", "counter"},
		{"vigil_rules_loaded", "gauge"},
		{"vigil_rules_reloads_total", "counter"},
		{"vigil_rules_last_reload_timestamp_seconds", "gauge"},
		{"vigil_k8s_watch_restarts_total", "counter"},
		{"vigil_k8s_requests_total", "counter"},
		{"vigil_k8s_cache_objects", "gauge"},
		{"vigil_processes_tracked", "gauge"},
		{"vigil_process_evictions_total", "counter"},
		{"vigil_capture_features", "gauge"},
		{"vigil_regex_undecided_total", "counter"},
		{"vigil_log_lines_dropped_total", "counter"},
		{"process_resident_memory_bytes", "gauge"},
		{"process_cpu_seconds_total", "counter"},
		{"process_start_time_seconds", "gauge"},
	};
	const char *prev = out;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		char line[160];
		snprintf(line, sizeof(line), "# HELP %s ", types[i][0]);
		const char *p = strstr(out, line);
		if (!p || p < prev)
			fail_msg("%s missing or out of order", types[i][0]);
		snprintf(line, sizeof(line), "# TYPE %s %s\n", types[i][0], types[i][1]);
		if (!strstr(p, line))
			fail_msg("no \"%s\"", line);
		prev = p;
	}
	char build[256];
	snprintf(build, sizeof(build), "vigil_build_info{version=\"%s\",commit=\"%s\"} 1\n",
		 VIGIL_VERSION, VIGIL_COMMIT);
	assert_non_null(strstr(out, build));
	assert_non_null(strstr(out, "\nvigil_processes_tracked 0\n"));
	assert_non_null(strstr(out, "\nvigil_process_evictions_total 0\n"));
	assert_non_null(strstr(out, "\nvigil_regex_undecided_total 0\n"));
	assert_non_null(strstr(out, "\nvigil_log_lines_dropped_total 0\n"));

	/* process metrics are this process's */
	assert_true(sample(out, "process_resident_memory_bytes") > 1024 * 1024);
	assert_true(sample(out, "process_cpu_seconds_total") >= 0);
	double start = sample(out, "process_start_time_seconds");
	double now = (double)time(NULL);
	assert_true(start > now - 3600 && start <= now + 1);
	free(out);

	/* the families are usable through the struct */
	vg_metric_add(vg_metric_labels(vm.k8s_requests, "list", "pods", "200"), 3);
	vg_metric_set(vg_metric_series(vm.processes_tracked, NULL), 1234);
	out = vg_metrics_render(m, NULL);
	assert_non_null(strstr(
		out,
		"\nvigil_k8s_requests_total{verb=\"list\",resource=\"pods\",code=\"200\"} 3\n"));
	assert_non_null(strstr(out, "\nvigil_processes_tracked 1234\n"));
	free(out);

	/* twice is an error, not a second set */
	struct vg_vigil_metrics again;
	assert_int_equal(vg_metrics_register_vigil(m, &again, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "vigil_build_info: registered twice"));
	vg_metrics_free(m);
}

/* Runs promtool (when installed) on a fully populated vigil registry. */
static void test_promtool(void **state)
{
	(void)state;
	const char *promtool = NULL;
	static const char *const paths[] = {"/usr/bin/promtool", "/usr/local/bin/promtool"};
	for (size_t i = 0; i < 2; i++)
		if (access(paths[i], X_OK) == 0)
			promtool = paths[i];
	if (!promtool) {
		skip();
		return;
	}
	struct vg_metrics *m = vg_metrics_new();
	struct vg_vigil_metrics vm;
	char err[256];
	assert_int_equal(vg_metrics_register_vigil(m, &vm, err, sizeof(err)), 0);
	vg_metric_add(vg_metric_labels(vm.events, "openat"), 10);
	vg_metric_add(vg_metric_labels(vm.events, "execve"), 2);
	vg_metric_add(vg_metric_labels(vm.events_dropped, "kernel_ringbuf"), 7);
	vg_metric_inc(vg_metric_labels(vm.rule_matches, "Read \"sensitive\" file\\x\nuntrusted",
				       "Warning", "Rule", "team-a", "no-curl"));
	vg_metric_inc(vg_metric_labels(vm.alerts_sent, "stdout"));
	vg_metric_inc(vg_metric_labels(vm.alerts_failed, "http"));
	vg_metric_inc(vg_metric_labels(vm.alerts_throttled, "k8s_events"));
	vg_metric_set(vg_metric_labels(vm.rules_loaded, "rule", "accepted"), 80);
	vg_metric_set(vg_metric_labels(vm.rules_loaded, "rule", "rejected"), 1);
	vg_metric_inc(vg_metric_labels(vm.rules_reloads, "success"));
	vg_metric_set(vg_metric_series(vm.rules_last_reload, NULL), 1700000000.25);
	vg_metric_inc(vg_metric_labels(vm.k8s_watch_restarts, "pods"));
	vg_metric_inc(vg_metric_labels(vm.k8s_requests, "watch", "pods", "200"));
	vg_metric_set(vg_metric_labels(vm.k8s_cache_objects, "pods"), 12);
	vg_metric_set(vg_metric_series(vm.processes_tracked, NULL), 321);
	vg_metric_inc(vg_metric_series(vm.process_evictions, NULL));
	size_t len;
	char *out = vg_metrics_render(m, &len);

	char in_path[] = "/tmp/vigil-promtool-in-XXXXXX";
	char out_path[] = "/tmp/vigil-promtool-out-XXXXXX";
	int in_fd = mkstemp(in_path), out_fd = mkstemp(out_path);
	assert_true(in_fd >= 0 && out_fd >= 0);
	assert_int_equal(write(in_fd, out, len), (ssize_t)len);
	lseek(in_fd, 0, SEEK_SET);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
	char *argv[] = {(char *)promtool, "check", "metrics", NULL};
	pid_t pid;
	assert_int_equal(posix_spawn(&pid, promtool, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	char report[4096] = "";
	lseek(out_fd, 0, SEEK_SET);
	ssize_t n = read(out_fd, report, sizeof(report) - 1);
	report[n > 0 ? n : 0] = '\0';
	close(in_fd);
	close(out_fd);
	unlink(in_path);
	unlink(out_path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || report[0])
		fail_msg("promtool check metrics: status %d, output:\n%s\ninput:\n%s", status,
			 report, out);
	free(out);
	vg_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_cardinality_bound),
		cmocka_unit_test(test_capped_labels),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_vigil_families),
		cmocka_unit_test(test_promtool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
