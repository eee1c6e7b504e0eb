/* bench/k8s.c - the Kubernetes metadata cache against a real API server.
 *
 *   bench_k8s KUBECONFIG NODE [AGENTS] [STEADY_S] [LEASE_NS]
 *
 * Starts AGENTS metadata caches (vg_k8smeta: Pods of their node, Namespaces)
 * in one process, the first for NODE, the others for NODE-1, NODE-2...
 * (nodes without pods), on one client each, and prints one JSON line:
 * time until every cache has synced, the resident memory they added, the
 * containers indexed by the first, and the API requests made (list/watch
 * per resource) during the sync and during STEADY_S seconds afterwards.
 * With LEASE_NS, every agent also stands for leader election on the Lease
 * vigil-rule-status in that namespace (as `vigil run` does with
 * kubernetes.leader_election), from after the sync; after 40 s for the
 * election to settle, the Lease requests of STEADY_S seconds are counted
 * apart (lease_requests_per_s_per_agent_steady; PERFORMANCE.md's budget is
 * 0.1 requests/s per agent in all).
 * tests/k8s/bench.sh creates the pods and runs it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "k8s_client.h"
#include "k8s_config.h"
#include "k8s_lease.h"
#include "k8smeta.h"

static _Atomic unsigned long n_req, n_list, n_watch, n_lease;
static _Atomic int n_leaders;

static void hook(void *ctx, const char *verb, const char *resource, int code)
{
	(void)ctx;
	(void)code;
	atomic_fetch_add(&n_req, 1);
	if (!strcmp(resource, "leases"))
		atomic_fetch_add(&n_lease, 1);
	if (!strcmp(verb, "list"))
		atomic_fetch_add(&n_list, 1);
	else if (!strcmp(verb, "watch"))
		atomic_fetch_add(&n_watch, 1);
}

static void on_leader(void *ctx, bool leader)
{
	(void)ctx;
	atomic_fetch_add(&n_leaders, leader ? 1 : -1);
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr,
			"usage: bench_k8s KUBECONFIG NODE [AGENTS] [STEADY_S] [LEASE_NS]\n");
		return 2;
	}
	int agents = argc > 3 ? atoi(argv[3]) : 1;
	int steady = argc > 4 ? atoi(argv[4]) : 0;
	const char *lease_ns = argc > 5 && argv[5][0] ? argv[5] : NULL;
	if (agents < 1)
		agents = 1;
	char err[512];
	struct k8s_config **cfg = calloc((size_t)agents, sizeof(*cfg));
	struct k8s_client **cli = calloc((size_t)agents, sizeof(*cli));
	struct vg_k8smeta **m = calloc((size_t)agents, sizeof(*m));
	struct k8s_lease **lease = calloc((size_t)agents, sizeof(*lease));
	struct k8s_client_opts co = {.hook = hook};
	for (int i = 0; i < agents; i++) {
		cfg[i] = k8s_config_kubeconfig(argv[1], NULL, err, sizeof(err));
		if (!cfg[i] || !(cli[i] = k8s_client_new(cfg[i], &co, err, sizeof(err)))) {
			fprintf(stderr, "bench_k8s: %s\n", err);
			return 1;
		}
	}
	long rss0 = rss_kb();
	double t0 = now_s();
	for (int i = 0; i < agents; i++) {
		char node[256];
		if (i == 0)
			snprintf(node, sizeof(node), "%s", argv[2]);
		else
			snprintf(node, sizeof(node), "%s-%d", argv[2], i);
		struct vg_k8smeta_opts o = {.node_name = node};
		m[i] = vg_k8smeta_new(cli[i], &o, err, sizeof(err));
		if (!m[i]) {
			fprintf(stderr, "bench_k8s: %s\n", err);
			return 1;
		}
		vg_k8smeta_start(m[i]);
	}
	for (;;) {
		int done = 0;
		for (int i = 0; i < agents; i++)
			done += vg_k8smeta_synced(m[i]);
		if (done == agents)
			break;
		if (now_s() - t0 > 600) {
			fprintf(stderr, "bench_k8s: not synced after 600 s\n");
			return 1;
		}
		usleep(5000);
	}
	double sync_s = now_s() - t0;
	long rss1 = rss_kb();
	unsigned long req_sync = atomic_load(&n_req), lists = atomic_load(&n_list),
		      watches = atomic_load(&n_watch);
	struct k8s_informer_stats ps;
	k8s_informer_stats(vg_k8smeta_pods(m[0]), &ps);
	unsigned long lease0 = 0;
	if (lease_ns) {
		for (int i = 0; i < agents; i++) {
			char id[64];
			snprintf(id, sizeof(id), "agent-%d", i);
			struct k8s_lease_opts lo = {.namespace = lease_ns,
						    .name = "vigil-rule-status",
						    .identity = id,
						    .on_change = on_leader};
			lease[i] = k8s_lease_new(cli[i], &lo, err, sizeof(err));
			if (!lease[i]) {
				fprintf(stderr, "bench_k8s: %s\n", err);
				return 1;
			}
			k8s_lease_start(lease[i]);
		}
		sleep(40);
		req_sync = atomic_load(&n_req);
		lease0 = atomic_load(&n_lease);
	}
	if (steady > 0)
		sleep((unsigned)steady);
	unsigned long req_steady = atomic_load(&n_req) - req_sync;
	unsigned long lease_steady = atomic_load(&n_lease) - lease0;
	if (lease_ns)
		printf("{\"agents\":%d,\"leaders\":%d,\"steady_s\":%d,\"lease_requests_steady\":%"
		       "lu,"
		       "\"lease_requests_per_s_per_agent_steady\":%.4f}\n",
		       agents, atomic_load(&n_leaders), steady, lease_steady,
		       steady > 0 ? (double)lease_steady / steady / agents : 0.0);
	printf("{\"agents\":%d,\"pods_cached\":%zu,\"containers\":%zu,\"sync_s\":%.3f,"
	       "\"rss_added_kib\":%ld,\"rss_per_agent_kib\":%ld,\"requests_sync\":%lu,"
	       "\"lists\":%lu,\"watches\":%lu,\"steady_s\":%d,\"requests_steady\":%lu,"
	       "\"requests_per_s_per_agent_steady\":%.4f}\n",
	       agents, ps.objects, vg_k8smeta_containers(m[0]), sync_s, rss1 - rss0,
	       (rss1 - rss0) / agents, req_sync, lists, watches, steady, req_steady,
	       steady > 0 ? (double)req_steady / steady / agents : 0.0);
	for (int i = 0; i < agents; i++) {
		k8s_lease_free(lease[i]);
		vg_k8smeta_free(m[i]);
		k8s_client_free(cli[i]);
		k8s_config_free(cfg[i]);
	}
	free(m);
	free(lease);
	free(cli);
	free(cfg);
	return 0;
}
