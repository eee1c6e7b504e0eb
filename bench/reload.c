/* bench_reload - what a rule set of many namespaces' Rules costs a build
 * (a hot reload: the engine and the kernel's prefilter table), against the
 * same rules loaded as the cluster's, measured in the same run.
 *
 *   build/bench_reload [NAMESPACES [RULES_PER_NAMESPACE]]   (default 2000 2)
 *
 * Each namespace's Rules are opens of its own directory (distinct
 * predicates: the table's limit of VG_PF_TPREDS shows as overflowed
 * syscalls).  Prints the seconds of each and the ratio; a ratio that
 * grows with NAMESPACES is a build quadratic in them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "pfeval.h"
#include "rules.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Namespace i's Rules text (or, with cluster, the same rules named apart). */
static char *rules_of(int i, int per)
{
	size_t cap = (size_t)per * 256 + 1;
	char *text = malloc(cap);
	size_t n = 0;
	for (int r = 0; r < per; r++)
		n += (size_t)snprintf(
			text + n, cap - n,
			"- rule: ns%d-r%d\n  desc: d\n  condition: evt.type = openat and "
			"fd.name startswith /srv/ns%d/r%d/\n  output: o\n  priority: "
			"WARNING\n",
			i, r, i, r);
	return text;
}

/* Seconds to build the engine and its prefilter from src[0..n). */
static double build(struct vg_engine_src *src, size_t n, struct vg_pf_table *t, int *over)
{
	struct vg_diag d;
	memset(&d, 0, sizeof(d));
	double t0 = now();
	struct vg_engine *e = vg_engine_build_multi(src, n, NULL, &d);
	if (!e || d.errors) {
		fprintf(stderr, "bench_reload: the rules do not build\n");
		exit(1);
	}
	vg_engine_prefilter(e, t);
	double dt = now() - t0;
	*over = 0;
	for (int nr = 0; nr < VG_NR_MAX; nr++)
		*over += t->on[nr] && t->narrow[nr].tover;
	vg_engine_free(e);
	vg_diag_free(&d);
	return dt;
}

int main(int argc, char **argv)
{
	int ns = argc > 1 ? atoi(argv[1]) : 2000, per = argc > 2 ? atoi(argv[2]) : 2;
	if (ns < 1 || per < 1) {
		fprintf(stderr, "usage: bench_reload [NAMESPACES [RULES_PER_NAMESPACE]]\n");
		return 2;
	}
	struct vg_engine_src *src = calloc((size_t)ns, sizeof(*src));
	char(*names)[32] = calloc((size_t)ns, sizeof(*names));
	struct vg_diag d;
	memset(&d, 0, sizeof(d));
	for (int i = 0; i < ns; i++) {
		char *text = rules_of(i, per);
		snprintf(names[i], sizeof(names[i]), "ns-%d", i);
		src[i].rs = vg_ruleset_new();
		vg_ruleset_add_text(src[i].rs, names[i], text, strlen(text), &d);
		free(text);
	}
	struct vg_pf_table *t = malloc(sizeof(*t));
	int over_c, over_n;
	/* the baseline: every source the cluster's */
	double cluster = build(src, (size_t)ns, t, &over_c);
	for (int i = 0; i < ns; i++) {
		src[i].confined = true;
		src[i].tenant = names[i];
	}
	double tenants = build(src, (size_t)ns, t, &over_n);
	printf("bench_reload: %d namespaces x %d Rules: build %.3f s as namespaces' Rules, %.3f s "
	       "as the cluster's; ratio %.2f (%d syscalls past the kernel's namespace "
	       "predicates)\n",
	       ns, per, tenants, cluster, tenants / (cluster > 0 ? cluster : 1e-9), over_n);
	for (int i = 0; i < ns; i++)
		vg_ruleset_free(src[i].rs);
	free(src);
	free(names);
	free(t);
	vg_diag_free(&d);
	return 0;
}
