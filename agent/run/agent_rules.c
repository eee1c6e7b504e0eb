/* agent_rules.c - the rule set of the agent: loading, hot reload, the first set;
 * see agent.h and agent_int.h. */
#include "agent_int.h"
#include "crset.h"
#include "embedded.h"
#include "httpd.h"
#include "log.h"
#include "pfeval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- rules ---------------------------------------------------------------- */

struct vg_engine *vg_agent_load_rules(const char *const *paths, size_t n,
				      const struct vg_config *cfg, struct vg_diag *d,
				      const char **origin)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	int found = 0;
	if (n) {
		for (size_t i = 0; i < n; i++)
			if (!vg_ruleset_add_path(rs, paths[i], d))
				vg_diag_add(d, 1, paths[i], 0, 0, "%s", strerror(errno));
		found = 1;
		*origin = "the command line";
	} else {
		for (size_t i = 0; i < cfg->n_rules_dirs; i++)
			found |= vg_ruleset_add_path(rs, cfg->rules_dirs[i], d);
		*origin = "rules_dirs";
	}
	if (!found) {
		for (const struct vg_embedded *e = vg_embedded_rules; e->name; e++)
			vg_ruleset_add_text(rs, e->name, e->text, strlen(e->text), d);
		*origin = "the embedded default rules";
	}
	struct vg_engine *eng = vg_engine_build(rs, d);
	vg_ruleset_free(rs);
	return eng;
}

void vg_agent_hostname(const struct vg_config *cfg, char *out, size_t cap)
{
	if (cfg && cfg->node_name && *cfg->node_name) {
		snprintf(out, cap, "%s", cfg->node_name);
		return;
	}
	if (gethostname(out, cap - 1))
		snprintf(out, cap, "unknown");
	out[cap - 1] = 0;
}

static size_t enabled_rules(const struct vg_engine *e)
{
	struct vg_engine_stats es;
	vg_engine_get_stats(e, &es);
	return es.rules_enabled;
}

/* On the capture thread after a swap: the per-rule match counters follow
 * the new engine's rule indexes; /readyz is ready only while some rule
 * runs (a set of custom resources may become empty). */
void ag_on_swap(struct vg_agent *a)
{
	free(a->match_series);
	a->match_series = vg_xcalloc(vg_engine_rule_count(a->eng) + 1, sizeof(*a->match_series));
	if (a->reg)
		vg_metric_set(vg_metric_series(a->m.rules_last_reload, NULL),
			      (double)vg_now_wall_ns() / 1e9);
	vg_agent_set_ready(a, VG_READY_RULES, enabled_rules(a->eng) > 0);
}

static void load_embedded(void *ctx, struct vg_ruleset *rs, struct vg_diag *d)
{
	(void)ctx;
	for (const struct vg_embedded *e = vg_embedded_rules; e->name; e++)
		vg_ruleset_add_text(rs, e->name, e->text, strlen(e->text), d);
}

static bool stopping(void *ctx)
{
	return ((struct vg_agent *)ctx)->stop != 0;
}

static int set_interest(void *ctx, const uint8_t want[VG_NR_MAX], char *err, size_t errlen)
{
	struct vg_agent *a = ctx;
	if (!a->map_cap)
		return 0;
	return vg_capture_set_interest(a->map_cap, want, err, errlen);
}

static int set_prefilter(void *ctx, const struct vg_pf_table *t, char *err, size_t errlen)
{
	struct vg_agent *a = ctx;
	if (!a->map_cap)
		return 0;
	int rc = vg_capture_set_prefilter(a->map_cap, t, err, errlen);
	if (rc) {
		vg_log(VG_LOG_ERROR, "capture.prefilter: %s", err);
		return rc;
	}
	/* namespaces' Rules past what the kernel holds widen the capture for
	 * their pods (and those of namespaces without Rules): said once per
	 * change (set_prefilter is called on the reload worker only) */
	int tover = 0;
	for (int nr = 0; nr < VG_NR_MAX; nr++)
		tover += t->on[nr] && t->narrow[nr].tover;
	if (tover != a->pf_tover)
		vg_log(tover ? VG_LOG_WARNING : VG_LOG_INFO,
		       "capture.prefilter: %d syscalls have namespaces' Rules past the kernel's %d "
		       "predicates (%d namespace-syscall pairs): pods without a predicate of their "
		       "own are filtered with every rule's for those",
		       tover, VG_PF_TPREDS, VG_PF_TREFS);
	a->pf_tover = tover;
	int filtered, dropped;
	vg_pf_table_count(t, &filtered, &dropped);
	vg_log(VG_LOG_DEBUG,
	       "capture.prefilter: %d syscalls filtered in the kernel, %d of them whole", filtered,
	       dropped);
	return 0;
}

/* After every build, on the reload worker (the first on the caller's).
 * The metrics (vigil_rules_loaded, vigil_rules_reloads_total) are
 * reload.c's, through its opts.metrics. */
static void on_build(void *ctx, const struct vg_crset *cs, const struct vg_diag *files_diag)
{
	struct vg_agent *a = ctx;
	uint64_t n = atomic_fetch_add(&a->builds, 1);
	size_t compiled, failed;
	vg_crset_file_rules(cs, &compiled, &failed);
	vg_diag_print(files_diag, stderr);
	size_t rejected = failed;
	for (int k = 0; k < VG_CR_NKINDS; k++) {
		size_t acc, rej;
		vg_crset_count(cs, k, &acc, &rej);
		rejected += rej;
	}
	const struct vg_crset_result *res;
	size_t nres = vg_crset_results(cs, &res);
	for (size_t i = 0; i < nres; i++)
		if (!res[i].accepted)
			vg_log(VG_LOG_WARNING, "%s", res[i].message);
	struct vg_engine_stats es;
	vg_engine_get_stats(vg_crset_engine(cs), &es);
	if (!n) {
		/* errors in the files stop the start (vg_agent_run says so) */
		if (!files_diag->errors)
			vg_log(VG_LOG_INFO,
			       "loaded %zu enabled rules from %s (%zu custom resources)",
			       es.rules_enabled, a->origin, nres);
	} else {
		vg_log(VG_LOG_INFO,
		       "rules rebuilt: %zu enabled rules, %zu custom resources (%zu rejected)",
		       es.rules_enabled, nres, rejected);
	}
	if (a->build_hook)
		a->build_hook(a->build_ctx, cs);
}

void ag_setup_reload(struct vg_agent *a)
{
	const struct vg_agent_opts *o = &a->o;
	struct vg_reload_opts ro = {0};
	if (o->nrules) {
		ro.paths = o->rules;
		ro.npaths = o->nrules;
		a->origin = "the command line";
	} else {
		/* When no entry of rules_dirs exists (vigil outside its image),
		 * the embedded rules run.  When some exist, every one must: a
		 * missing one is an error of the rule files like any other. */
		bool any = false;
		for (size_t i = 0; i < a->cfg->n_rules_dirs; i++) {
			struct stat st;
			any |= stat(a->cfg->rules_dirs[i], &st) == 0;
		}
		for (size_t i = 0; any && i < a->cfg->n_rules_dirs; i++) {
			a->paths = vg_xrealloc(a->paths, (a->npaths + 1) * sizeof(char *));
			a->paths[a->npaths++] = vg_xstrdup(a->cfg->rules_dirs[i]);
		}
		ro.paths = (const char *const *)a->paths;
		ro.npaths = a->npaths;
		a->origin = "rules_dirs";
		if (!a->npaths) {
			ro.load_more = load_embedded;
			a->origin = "the embedded default rules";
			if (a->cfg->n_rules_dirs)
				vg_log(VG_LOG_WARNING,
				       "no entry of rules_dirs exists (the first: %s): running the "
				       "embedded default rules",
				       a->cfg->rules_dirs[0]);
		}
	}
	ro.set_interest = set_interest;
	ro.interest_ctx = a;
	if (a->cfg->capture.prefilter && !strcmp(a->cfg->capture.prefilter, "on"))
		ro.set_prefilter = set_prefilter;
	ro.on_build = on_build;
	ro.build_ctx = a;
	ro.max_rules_per_ns = (size_t)a->cfg->tenancy.max_rules_per_namespace;
	ro.ns_budget_ns = a->cfg->tenancy.namespace_cpu_ms_per_second * 1000000ull;
	ro.metrics = a->reg ? &a->m : NULL;
	ro.should_stop = stopping;
	ro.stop_ctx = a;
	a->reload = vg_reload_new(&ro);
	if (a->reg) {
		vg_metric_family_set_collect(a->m.rule_object_events, ag_collect_rule_events, a);
		vg_metric_family_set_collect(a->m.rule_object_cpu, ag_collect_rule_cpu, a);
		vg_metric_family_set_collect(a->m.rule_object_throttled, ag_collect_rule_throttled,
					     a);
	}
}

/* The start fails closed: an error in a configured rule file, or no rule
 * to run, stops it; only where rule custom resources are watched may the
 * agent start with none (then /readyz waits for one). */
static int check_first_set(struct vg_agent *a, char *err, size_t errlen)
{
	size_t ferr = vg_reload_file_errors(a->reload);
	if (ferr) {
		snprintf(err, errlen,
			 "the rules of %s have %zu error%s (above): not starting; `vigil validate` "
			 "checks them",
			 a->origin, ferr, ferr == 1 ? "" : "s");
		return -1;
	}
	if (enabled_rules(a->eng))
		return 0;
	if (a->rules_gate) {
		vg_log(VG_LOG_WARNING,
		       "no enabled rule in %s nor in the rule custom resources listed so far: not "
		       "ready until a ClusterRule or Rule brings one",
		       a->origin);
		return 0;
	}
	snprintf(err, errlen,
		 "no enabled rule in %s: nothing to detect, not starting (add rules, or run "
		 "in a cluster with kubernetes.rules to take them from ClusterRule and Rule "
		 "objects)",
		 a->origin);
	return -1;
}

/* The first rule set: custom resources first, so that it already has
 * them.  0 when it runs, 1 when SIGTERM came during the first compile, -1
 * (logged) when the start must fail closed (check_first_set). */
int ag_start_rules(struct vg_agent *a)
{
	char err[512];
	uint64_t until = vg_now_mono_ns() + (uint64_t)a->gate_ms * 1000000ull;
	while (a->rules_gate && !a->rules_gate(a->gate_ctx) && vg_now_mono_ns() < until &&
	       !a->stop) {
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (a->rules_gate && !a->rules_gate(a->gate_ctx))
		vg_log(VG_LOG_WARNING, "starting before the rule custom resources are listed; "
				       "they join with the first reload");
	err[0] = 0;
	a->eng = vg_reload_start(a->reload, err, sizeof(err));
	if (!a->eng && a->stop) { /* SIGTERM during the first compile */
		vg_log(VG_LOG_INFO, "stopped before the rules were loaded");
		return 1;
	}
	if (*err || check_first_set(a, err, sizeof(err))) {
		vg_log(VG_LOG_ERROR, "%s", err);
		vg_reload_quiesce(a->reload); /* before the map it writes goes */
		return -1;
	}
	ag_on_swap(a);
	return 0;
}
