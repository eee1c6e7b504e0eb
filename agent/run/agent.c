/* agent.c - see agent.h. */
#include "agent.h"
#include "cmeta.h"
#include "crset.h"
#include "hold.h"
#include "reload.h"
#include "alertq.h"
#include "capture.h"
#include "dispatch.h"
#include "embedded.h"
#include "audit.h"
#include "httpd.h"
#include "kaudit.h"
#include "log.h"
#include "output.h"
#include "pfeval.h"
#include "state.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct vg_agent {
	struct vg_agent_opts o;
	const struct vg_config *cfg;
	char hostname[256];
	volatile sig_atomic_t stop, reopen;

	/* capture */
	struct vg_state *st;
	struct vg_capture *cap;
	struct vg_event *ev;
	uint8_t want[VG_NR_MAX];
	uint64_t count;

	/* rules: the engine of the set reload.h swapped in last */
	struct vg_reload *reload;
	struct vg_engine *eng;
	char **paths; /* the rule paths the reload reads */
	size_t npaths;
	const char *origin;
	struct vg_capture *map_cap; /* where set_interest writes, once open */
	_Atomic uint64_t builds;
	vg_agent_build_fn build_hook;
	void *build_ctx;
	bool (*rules_gate)(void *ctx);
	void *gate_ctx;
	unsigned gate_ms;
	struct vg_cond_scratch *scratch;
	struct vg_diag diag;
	uint64_t matches;

	/* alerts */
	struct vg_dispatch *disp;
	struct vg_alert_ctx *actx;
	int max_prio; /* least severe priority a sink takes; -1 none */
	bool text;

	/* metrics */
	struct vg_metrics *reg;
	struct vg_vigil_metrics m;
	struct vg_httpd *httpd;
	struct vg_metric_series **match_series; /* by rule index */
	struct vg_metric_series *m_procs, *m_evictions, *m_malformed;
	struct vg_metric_series *m_regex_undecided, *m_log_dropped;

	/* container metadata (the API's from kube.c, the runtime's files) and
	 * records held until it arrives */
	struct vg_agent_meta meta;
	struct vg_cmeta *cmeta;
	unsigned hold_ms, pod_hold_ms;
	struct vg_hold *hold;
	uint64_t held_rescan; /* a held record waits for its Pod's status: next scan */
	struct vg_metric_series *m_held[4]; /* metadata, timeout, overflow, pod_timeout */
	uint64_t held_gen;		    /* metadata generation of the last scan */

	/* drops */
	struct vg_ratelimit drop_rl;
	uint64_t kdrops_reported; /* kernel drops already reported */
	uint64_t qdrops_pending;  /* alert queue drops not yet reported */
	bool ran;		  /* vg_agent_run got as far as the capture */
	uint64_t drain_until;	  /* the final ring drain's deadline; 0 before it */

	/* the audit webhook receiver: its events are evaluated on this thread */
	struct vg_audit *audit;
	uint64_t audit_num;
	uint64_t audit_drops;	      /* not yet said */
	uint64_t audit_drops_said_ns; /* when last said */
};

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

/* ---- metrics -------------------------------------------------------------- */

static const char *type_label(int t)
{
	if (t == VG_NR_MAX + VG_TYPE_EXIT)
		return vg_evtype_name(VG_T_PROCEXIT);
	if (t == VG_NR_MAX + VG_TYPE_FORK)
		return vg_evtype_name(VG_T_PROCFORK);
	const char *n = t < VG_NR_MAX ? vg_evtype_name(t) : NULL;
	return n ? n : "unknown";
}

/* vigil_events_total and the kernel's drops, read from the per-CPU
 * counters at scrape time (the httpd thread; a map read is thread-safe). */
static void collect_events(struct vg_metric_family *f, void *arg)
{
	struct vg_agent *a = arg;
	struct vg_stats s;
	if (!a->cap || vg_capture_stats(a->cap, &s))
		return;
	for (int t = 0; t < VG_NR_MAX + 4; t++)
		if (s.by_type[t])
			vg_metric_counter_set(vg_metric_labels(f, type_label(t)), s.by_type[t]);
}

static void collect_filtered(struct vg_metric_family *f, void *arg)
{
	struct vg_agent *a = arg;
	struct vg_stats s;
	if (!a->cap || vg_capture_stats(a->cap, &s))
		return;
	for (int t = 0; t < VG_NR_MAX; t++)
		if (s.filtered[t])
			vg_metric_counter_set(vg_metric_labels(f, type_label(t)), s.filtered[t]);
}

static void collect_drops(struct vg_metric_family *f, void *arg)
{
	struct vg_agent *a = arg;
	struct vg_stats s;
	if (!a->cap || vg_capture_stats(a->cap, &s))
		return;
	uint64_t n = 0;
	for (int i = 0; i < VG_CAT_MAX; i++)
		n += s.dropped[i];
	vg_metric_counter_set(vg_metric_labels(f, "kernel_ringbuf"), n);
}

/* One series per Rule object in force (bounded by the family's
 * max_series); an object that went away leaves no series behind. */
static void collect_rule_cost(struct vg_metric_family *f, int which, struct vg_agent *a)
{
	vg_metric_family_clear(f);
	struct vg_reload_cost *c;
	size_t n = vg_reload_costs(a->reload, &c);
	for (size_t i = 0; i < n; i++) {
		uint64_t v = which == 0 ? c[i].c.events : which == 1 ? c[i].c.ns : c[i].c.throttled;
		/* add, not set: objects past max_series share the overflow series */
		vg_metric_add(vg_metric_labels(f, "Rule", c[i].ns, c[i].name), v);
	}
	vg_reload_costs_free(c, n);
}

static void collect_rule_events(struct vg_metric_family *f, void *arg)
{
	collect_rule_cost(f, 0, arg);
}

static void collect_rule_cpu(struct vg_metric_family *f, void *arg)
{
	collect_rule_cost(f, 1, arg);
}

static void collect_rule_throttled(struct vg_metric_family *f, void *arg)
{
	collect_rule_cost(f, 2, arg);
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
static void on_swap(struct vg_agent *a)
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

static void setup_reload(struct vg_agent *a)
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
		vg_metric_family_set_collect(a->m.rule_object_events, collect_rule_events, a);
		vg_metric_family_set_collect(a->m.rule_object_cpu, collect_rule_cpu, a);
		vg_metric_family_set_collect(a->m.rule_object_throttled, collect_rule_throttled, a);
	}
}

static int setup_metrics(struct vg_agent *a, char *err, size_t errlen)
{
	const struct vg_config *cfg = a->cfg;
	a->reg = vg_metrics_new();
	if (vg_metrics_register_vigil(a->reg, &a->m, err, errlen))
		return -1;
	vg_metric_family_set_collect(a->m.events, collect_events, a);
	vg_metric_family_set_collect(a->m.events_dropped, collect_drops, a);
	a->m_procs = vg_metric_series(a->m.processes_tracked, NULL);
	a->m_evictions = vg_metric_series(a->m.process_evictions, NULL);
	a->m_malformed = vg_metric_labels(a->m.events_dropped, "malformed");
	a->m_regex_undecided = vg_metric_series(a->m.regex_undecided, NULL);
	a->m_log_dropped = vg_metric_series(a->m.log_dropped, NULL);
	if (!cfg->metrics.enabled)
		return 0;
	struct vg_httpd_config hc = {0};
	hc.listen = cfg->metrics.listen;
	hc.metrics = a->reg;
	/* informers: met until Kubernetes is started (kube.c clears it); no
	 * probes without the capture; the audit receiver when it is on */
	hc.required = (cfg->capture.enabled ? VG_READY_PROBES : 0) | VG_READY_RULES |
		      VG_READY_INFORMERS | (cfg->audit.enabled ? VG_READY_AUDIT : 0);
	hc.tls_cert = *cfg->metrics.tls_cert ? cfg->metrics.tls_cert : NULL;
	hc.tls_key = *cfg->metrics.tls_key ? cfg->metrics.tls_key : NULL;
	if (!hc.tls_cert != !hc.tls_key) {
		snprintf(err, errlen, "metrics.tls_cert and metrics.tls_key go together");
		return -1;
	}
	char why[512];
	a->httpd = vg_httpd_start(&hc, why, sizeof(why));
	if (!a->httpd) {
		snprintf(err, errlen, "metrics: %s", why);
		return -1;
	}
	vg_httpd_set_ready(a->httpd, VG_READY_INFORMERS, true);
	/* the address bound, which a host name in metrics.listen resolved to */
	vg_log(VG_LOG_INFO, "metrics on %s (port %d)%s (metrics.listen %s)",
	       vg_httpd_address(a->httpd), vg_httpd_port(a->httpd), hc.tls_cert ? " with TLS" : "",
	       cfg->metrics.listen);
	return 0;
}

/* ---- sinks ---------------------------------------------------------------- */

/* The stricter (more severe) of the global and the sink's minimum. */
static int sink_prio(const struct vg_config *cfg, const char *own)
{
	int g = vg_priority_parse(cfg->outputs.min_priority);
	int s = vg_priority_parse(own);
	if (g < 0)
		g = VG_PRIO_DEBUG;
	if (s < 0)
		s = VG_PRIO_DEBUG;
	return g < s ? g : s;
}

static int setup_sinks(struct vg_agent *a, char *err, size_t errlen)
{
	const struct vg_config *cfg = a->cfg;
	struct vg_dispatch_opts dopt = {0};
	dopt.queue_len = cfg->outputs.queue_length;
	dopt.rule_rate = (double)cfg->outputs.rate_limit_per_rule;
	dopt.rule_burst = (double)cfg->outputs.rate_limit_burst;
	dopt.sent = a->m.alerts_sent;
	dopt.failed = a->m.alerts_failed;
	dopt.failures = a->m.alert_failures;
	dopt.throttled = a->m.alerts_throttled;
	dopt.events_dropped = a->m.events_dropped;
	a->disp = vg_dispatch_new(&dopt);
	char why[512];
	if (cfg->outputs.stdout_enabled)
		vg_dispatch_add(a->disp, vg_sink_stdout_new(
						 !strcasecmp(cfg->outputs.stdout_format, "text"),
						 sink_prio(cfg, cfg->outputs.stdout_min_priority)));
	if (cfg->outputs.file_enabled) {
		struct vg_sink *s = vg_sink_file_new(
			cfg->outputs.file_path, !strcasecmp(cfg->outputs.file_format, "text"),
			sink_prio(cfg, cfg->outputs.file_min_priority), why, sizeof(why));
		if (!s) {
			snprintf(err, errlen, "outputs.file: %s", why);
			return -1;
		}
		vg_dispatch_add(a->disp, s);
	}
	if (cfg->outputs.http_enabled) {
		struct vg_sink_http_opts ho = {0};
		ho.url = cfg->outputs.http_url;
		ho.ca_file = *cfg->outputs.http_ca_file ? cfg->outputs.http_ca_file : NULL;
		ho.client_cert =
			*cfg->outputs.http_client_cert ? cfg->outputs.http_client_cert : NULL;
		ho.client_key = *cfg->outputs.http_client_key ? cfg->outputs.http_client_key : NULL;
		ho.headers = (const char *const *)cfg->outputs.http_headers.v;
		ho.nheaders = cfg->outputs.http_headers.n;
		ho.timeout_ms = (unsigned)cfg->outputs.http_timeout_ms;
		ho.retries = (unsigned)cfg->outputs.http_retries;
		ho.backoff_ms = (unsigned)cfg->outputs.http_backoff_ms;
		ho.backoff_max_ms = (unsigned)cfg->outputs.http_backoff_max_ms;
		ho.min_priority = sink_prio(cfg, cfg->outputs.http_min_priority);
		ho.keepalive = cfg->outputs.http_keepalive;
		ho.batch = !strcasecmp(cfg->outputs.http_batch, "json_array") ? VG_HTTP_BATCH_ARRAY
			   : !strcasecmp(cfg->outputs.http_batch, "ndjson")   ? VG_HTTP_BATCH_NDJSON
									      : VG_HTTP_BATCH_NONE;
		ho.batch_max_alerts = (size_t)cfg->outputs.http_batch_max_alerts;
		ho.batch_max_bytes = (size_t)cfg->outputs.http_batch_max_bytes;
		ho.batch_max_age_ms = (unsigned)cfg->outputs.http_batch_max_age_ms;
		struct vg_sink *s = vg_sink_http_new(&ho, why, sizeof(why));
		if (!s) {
			snprintf(err, errlen, "outputs.http: %s", why);
			return -1;
		}
		vg_dispatch_add(a->disp, s);
	}
	if (cfg->outputs.syslog_enabled) {
		const char *o_ = NULL;
#define OPT(x) (*(x) ? (x) : o_)
		struct vg_sink_syslog_opts so = {0};
		so.transport = cfg->outputs.syslog_transport;
		so.address = cfg->outputs.syslog_address;
		so.ca_file = OPT(cfg->outputs.syslog_ca_file);
		so.client_cert = OPT(cfg->outputs.syslog_client_cert);
		so.client_key = OPT(cfg->outputs.syslog_client_key);
		so.server_name = OPT(cfg->outputs.syslog_server_name);
		so.facility = cfg->outputs.syslog_facility;
		so.app_name = cfg->outputs.syslog_app_name;
		so.sd_id = cfg->outputs.syslog_sd_id;
		so.hostname = a->hostname;
		so.text = !strcasecmp(cfg->outputs.syslog_format, "text");
		so.bom = cfg->outputs.syslog_bom;
		so.max_bytes = (size_t)cfg->outputs.syslog_max_bytes;
		so.timeout_ms = (unsigned)cfg->outputs.syslog_timeout_ms;
		so.retries = (unsigned)cfg->outputs.syslog_retries;
		so.backoff_ms = (unsigned)cfg->outputs.syslog_backoff_ms;
		so.backoff_max_ms = (unsigned)cfg->outputs.syslog_backoff_max_ms;
		so.min_priority = sink_prio(cfg, cfg->outputs.syslog_min_priority);
#undef OPT
		struct vg_sink *s = vg_sink_syslog_new(&so, why, sizeof(why));
		if (!s) {
			snprintf(err, errlen, "outputs.syslog: %s", why);
			return -1;
		}
		vg_dispatch_add(a->disp, s);
	}
	if (cfg->outputs.program_enabled) {
		struct vg_sink_program_opts po = {0};
		po.argv = (const char *const *)cfg->outputs.program_command;
		po.text = !strcasecmp(cfg->outputs.program_format, "text");
		po.timeout_ms = (unsigned)cfg->outputs.program_timeout_ms;
		po.retries = (unsigned)cfg->outputs.program_retries;
		po.backoff_ms = (unsigned)cfg->outputs.program_backoff_ms;
		po.backoff_max_ms = (unsigned)cfg->outputs.program_backoff_max_ms;
		po.min_priority = sink_prio(cfg, cfg->outputs.program_min_priority);
		struct vg_sink *s = vg_sink_program_new(&po, why, sizeof(why));
		if (!s) {
			snprintf(err, errlen, "outputs.program: %s (outputs.program.command)", why);
			return -1;
		}
		vg_dispatch_add(a->disp, s);
	}
	a->actx = vg_xcalloc(1, sizeof(*a->actx));
	a->actx->hostname = a->hostname;
	return 0;
}

void vg_agent_add_sink(struct vg_agent *a, struct vg_sink *s)
{
	if (a->disp)
		vg_dispatch_add(a->disp, s);
	else
		s->ops->close(s);
}

/* ---- alerts --------------------------------------------------------------- */

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	struct vg_agent *a = ctx;
	a->matches++;
	const struct vg_rule_origin *o = r->origin;
	if (a->match_series && !a->match_series[r->index])
		a->match_series[r->index] = vg_metric_labels(
			a->m.rule_matches, r->name, vg_priority_name(r->priority), o ? o->kind : "",
			o && o->ns ? o->ns : "", o ? o->name : "");
	vg_metric_inc(a->match_series ? a->match_series[r->index] : NULL);
	if (r->priority > a->max_prio)
		return;
	/* the rate limit is the object's: a Rule that takes a ClusterRule's
	 * rule name must not use up the ClusterRule's bucket */
	char key[1024];
	if (o)
		snprintf(key, sizeof(key), "%s/%s/%s\x1f%s", o->kind, o->ns ? o->ns : "", o->name,
			 r->name);
	if (vg_dispatch_throttled(a->disp, o ? key : r->name, r->priority, vg_now_mono_ns()))
		return;
	char *json = vg_alert_json(r, ev, a->actx);
	char *text = NULL;
	if (a->text) {
		vg_alert_text(r, ev, a->actx, a->actx->buf, sizeof(a->actx->buf));
		text = vg_xstrdup(a->actx->buf);
	}
	struct vg_alert *al = vg_alert_new(r->name, r->priority, ev->ts, json, text);
	const struct vg_alert_ctx *c = a->actx;
	vg_alert_set_subject(al, c->buf + c->msg_off, c->has_k8s ? c->ns : NULL,
			     c->has_k8s ? c->pod : NULL, c->has_k8s && c->uid[0] ? c->uid : NULL);
	if (o)
		vg_alert_set_origin(al, o->kind, o->ns, o->name, o->generation);
	const struct vg_kaudit_event *ke = vg_kaudit_of(ev);
	struct vg_kaudit_ref ref;
	if (ke && vg_kaudit_ref(ke, &ref)) /* its Events regard the object acted upon */
		vg_alert_set_object(al, ref.kind, ref.api_version, ref.ns, ref.name,
				    ref.uid[0] ? ref.uid : NULL);
	vg_dispatch_emit(a->disp, al);
}

/* The internal alert about lost events, in the same shape as a rule's. */
static void drop_alert(struct vg_agent *a, uint64_t kernel, uint64_t queue, uint64_t ktotal)
{
	uint64_t now = vg_now_wall_ns();
	char t[40], clock[40], msg[400], out[512];
	vg_rfc3339(now, t);
	memcpy(clock, t + 11, 18); /* HH:MM:SS.nnnnnnnnn */
	clock[18] = 0;
	snprintf(msg, sizeof(msg),
		 "%llu events dropped since the last report (kernel_ringbuf=%llu "
		 "alert_queue=%llu); %llu kernel drops in all; raise capture.ringbuf_bytes or "
		 "outputs.queue_length",
		 (unsigned long long)(kernel + queue), (unsigned long long)kernel,
		 (unsigned long long)queue, (unsigned long long)ktotal);
	snprintf(out, sizeof(out), "%s: Warning %s", clock, msg);
	cJSON *f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "vigil.drops", (double)(kernel + queue));
	cJSON_AddNumberToObject(f, "vigil.drops.kernel_ringbuf", (double)kernel);
	cJSON_AddNumberToObject(f, "vigil.drops.alert_queue", (double)queue);
	cJSON_AddNumberToObject(f, "vigil.drops.kernel_ringbuf_total", (double)ktotal);
	static const char *const tags[] = {"vigil", "internal"};
	struct vg_alert_head h = {
		.ts = now,
		.rule = VG_AGENT_DROP_RULE,
		.priority = VG_PRIO_WARNING,
		.source = "internal",
		.hostname = a->hostname,
		.output = out,
		.tags = tags,
		.ntags = 2,
	};
	char *json = vg_alert_envelope(&h, f);
	struct vg_alert *al = vg_alert_new(VG_AGENT_DROP_RULE, VG_PRIO_WARNING, now, json,
					   a->text ? vg_xstrdup(out) : NULL);
	vg_alert_set_subject(al, msg, NULL, NULL, NULL); /* the node's */
	vg_dispatch_emit(a->disp, al);
}

/* Say (log, internal alert) how many events and alerts were lost since the
 * last report, at most once per VG_AGENT_DROP_INTERVAL_NS unless forced. */
static void report_drops(struct vg_agent *a, bool force)
{
	struct vg_stats s;
	uint64_t ktotal = a->kdrops_reported;
	if (a->cap && !vg_capture_stats(a->cap, &s)) {
		ktotal = 0;
		for (int i = 0; i < VG_CAT_MAX; i++)
			ktotal += s.dropped[i];
	}
	if (a->disp)
		a->qdrops_pending += vg_dispatch_take_dropped(a->disp);
	uint64_t kernel = ktotal - a->kdrops_reported;
	if (!kernel && !a->qdrops_pending)
		return;
	if (!force && !vg_ratelimit_ok(&a->drop_rl, vg_now_mono_ns()))
		return;
	if (kernel)
		vg_log(VG_LOG_WARNING,
		       "kernel ring buffer full: %llu events dropped since the last report (%llu "
		       "in all); raise capture.ringbuf_bytes",
		       (unsigned long long)kernel, (unsigned long long)ktotal);
	if (a->qdrops_pending)
		vg_log(VG_LOG_WARNING,
		       "sink queues full: %llu alerts dropped since the last report; raise "
		       "outputs.queue_length or check the sinks",
		       (unsigned long long)a->qdrops_pending);
	if (a->disp)
		drop_alert(a, kernel, a->qdrops_pending, ktotal);
	a->kdrops_reported = ktotal;
	a->qdrops_pending = 0;
}

/* ---- the loop ------------------------------------------------------------- */

static int in_tree(struct vg_agent *a, const struct vg_event *ev)
{
	if (a->o.pid <= 0)
		return 1;
	const struct vg_proc *p = ev->proc;
	if (p->pid == (uint32_t)a->o.pid)
		return 1;
	for (int i = 1; i < 64; i++) {
		p = vg_state_ancestor(a->st, p, 1);
		if (!p)
			return 0;
		if (p->pid == (uint32_t)a->o.pid)
			return 1;
	}
	return 0;
}

/* The "on event" step: the engine, or the capture-only callback. */
static int on_event(struct vg_agent *a, struct vg_event *ev)
{
	if (a->o.on_event)
		return a->o.on_event(a->o.on_event_ctx, ev);
	vg_engine_match(a->eng, ev, a->scratch, on_match, a);
	return 0;
}

static int process_record(struct vg_agent *a, const struct vg_rec *raw, size_t size)
{
	if (a->reload && vg_reload_poll(a->reload, raw->h.ts, &a->eng))
		on_swap(a);
	if (vg_state_apply(a->st, raw, size, a->ev))
		return 0; /* counted by the state as a bad record */
	if (raw->h.kind == VG_K_PROC || !in_tree(a, a->ev))
		return 0;
	if (on_event(a, a->ev))
		return -1;
	if (a->o.limit && ++a->count >= a->o.limit)
		a->stop = 1;
	return 0;
}

enum { HELD_METADATA, HELD_TIMEOUT, HELD_OVERFLOW, HELD_POD_TIMEOUT, HELD_NWHY };

struct release_ctx {
	struct vg_agent *a;
	uint64_t now;
	bool all;
	int why;
	bool waiting; /* a record past hold_ms waits for its Pod's status */
};

static bool held_ready(void *ctx, const struct vg_held *h)
{
	struct release_ctx *rc = ctx;
	struct vg_agent *a = rc->a;
	if (vg_cmeta_ready(a->cmeta, h->container_id)) {
		rc->why = HELD_METADATA;
		return true;
	}
	if (rc->all) {
		rc->why = HELD_TIMEOUT;
		return true;
	}
	if (rc->now < h->deadline_ns)
		return false;
	/* a pod's container its Pod does not list yet: wait on for the status
	 * (or the Pod's deletion), up to pod_hold_ms from its first record */
	rc->why = HELD_TIMEOUT;
	if (a->pod_hold_ms > a->hold_ms &&
	    vg_cmeta_pod_state(a->cmeta, h->container_id) == VG_CMETA_POD_LISTED) {
		uint64_t end =
			h->deadline_ns + (uint64_t)(a->pod_hold_ms - a->hold_ms) * 1000000ull;
		if (rc->now < end) {
			rc->waiting = true;
			return false;
		}
		rc->why = HELD_POD_TIMEOUT;
	}
	return true;
}

static int held_process(void *ctx, const struct vg_held *h)
{
	struct release_ctx *rc = ctx;
	vg_metric_inc(rc->a->m_held[rc->why]);
	return process_record(rc->a, h->rec, h->size);
}

/* Release the held records whose metadata is now known or whose time is up
 * (all: at shutdown).  Scans only when the metadata changed or the oldest
 * record's time is up, so a held flood costs little per record. */
static int release_held(struct vg_agent *a, bool all)
{
	const struct vg_held *head = vg_hold_head(a->hold);
	if (!head)
		return 0;
	struct release_ctx rc = {a, vg_now_mono_ns(), all, 0, false};
	uint64_t gen = vg_cmeta_generation(a->cmeta);
	if (!all && gen == a->held_gen && (rc.now < head->deadline_ns || rc.now < a->held_rescan))
		return 0;
	a->held_gen = gen;
	int r = vg_hold_release(a->hold, held_ready, held_process, &rc);
	/* records waiting past their deadline: look again in 10 ms, not at
	 * every record */
	a->held_rescan = rc.waiting ? rc.now + 10000000ull : 0;
	return r;
}

/* Should this record wait for its container's metadata?  Yes when its
 * cgroup already has records waiting (order), or when it belongs to a
 * container the metadata is not ready for (cmeta.h). */
static bool must_hold(struct vg_agent *a, const struct vg_rec *raw, size_t size, char *cid)
{
	if (size < sizeof(struct vg_rec) || raw->h.kind == VG_K_PROC)
		return false;
	bool queued = vg_hold_has(a->hold, raw->h.cgroup_id);
	if (!vg_state_record_container(a->st, raw, size, cid))
		return queued;
	if (queued)
		return true;
	if (!cid[0] || !strcmp(cid, "host"))
		return false;
	if (vg_cmeta_ready(a->cmeta, cid))
		return false;
	char uid[37];
	if (!vg_state_record_pod_uid(raw, size, uid))
		vg_cmeta_note_pod(a->cmeta, cid, uid);
	return true;
}

static int on_record(void *ctx, const struct vg_rec *raw, size_t size)
{
	struct vg_agent *a = ctx;
	vg_cmeta_sync(a->cmeta);
	if (!a->hold)
		return process_record(a, raw, size);
	int r = release_held(a, false);
	if (r)
		return r;
	char cid[VG_CONTAINER_ID_LEN];
	if (!must_hold(a, raw, size, cid))
		return process_record(a, raw, size);
	uint64_t deadline = vg_now_mono_ns() + (uint64_t)a->hold_ms * 1000000ull;
	while (vg_hold_push(a->hold, raw, size, raw->h.cgroup_id, cid, deadline)) {
		/* full: the oldest goes through without waiting any longer */
		const struct vg_held *h = vg_hold_head(a->hold);
		vg_metric_inc(a->m_held[HELD_OVERFLOW]);
		r = process_record(a, h->rec, h->size);
		vg_hold_pop(a->hold);
		if (r)
			return r;
	}
	return 0;
}

/* The ring's callback.  A flood (events coming faster than they are
 * evaluated) must not keep the loop from seeing a stop: once asked to stop,
 * the batch ends after this record, and the final drain at its deadline. */
static int on_ring_record(void *ctx, const struct vg_rec *raw, size_t size)
{
	struct vg_agent *a = ctx;
	int r = on_record(a, raw, size);
	if (r)
		return r;
	if (a->stop && (!a->drain_until || vg_now_mono_ns() >= a->drain_until))
		return 1;
	return 0;
}

/* Hold the records of containers not known yet, up to hold_ms. */
static void enable_hold(struct vg_agent *a, unsigned hold_ms)
{
	a->hold_ms = hold_ms;
	if (hold_ms && !a->hold) {
		a->hold = vg_hold_new(VG_AGENT_HOLD_RECORDS, VG_AGENT_HOLD_BYTES);
		if (a->reg) {
			char err[256];
			struct vg_metric_desc d = {
				.name = "vigil_events_held_total",
				.help = "Events held back until their pod's metadata arrived, by "
					"how they were released (metadata, timeout, overflow, "
					"pod_timeout: the Pod listed past kubernetes.pod_hold_ms "
					"without the container's status).",
				.type = VG_METRIC_COUNTER,
				.labels = {"result", NULL},
			};
			struct vg_metric_family *f = vg_metrics_add(a->reg, &d, err, sizeof(err));
			static const char *const why[] = {"metadata", "timeout", "overflow",
							  "pod_timeout"};
			for (int i = 0; f && i < HELD_NWHY; i++)
				a->m_held[i] = vg_metric_series(f, (const char *[]){why[i]});
		}
	}
}

void vg_agent_set_meta(struct vg_agent *a, const struct vg_agent_meta *m)
{
	a->meta = *m;
	struct vg_cmeta_api api = {m->lookup, m->sync, m->generation, m->ctx, m->lookup_pod};
	a->pod_hold_ms = m->lookup_pod && m->pod_hold_ms > m->hold_ms ? m->pod_hold_ms : m->hold_ms;
	vg_cmeta_set_api(a->cmeta, &api);
	enable_hold(a, m->hold_ms); /* with the API, its hold_ms */
}

/* ---- audit events ------------------------------------------------------------ */

static void on_audit(void *ctx, const cJSON *event)
{
	struct vg_agent *a = ctx;
	struct vg_kaudit_event ke;
	vg_kaudit_event_init(&ke, event, ++a->audit_num, vg_now_wall_ns());
	vg_engine_match(a->eng, &ke.ev, a->scratch, on_match, a);
}

/* The queued audit events through the rules, a bounded number per step so
 * that the capture keeps its pace; drops said at most every 10 s. */
static void drain_audit(struct vg_agent *a)
{
	if (!a->audit || !a->eng)
		return;
	vg_audit_drain(a->audit, on_audit, a, 20000);
	a->audit_drops += vg_audit_take_drops(a->audit);
	uint64_t now = vg_now_mono_ns();
	if (a->audit_drops && now - a->audit_drops_said_ns >= VG_AGENT_DROP_INTERVAL_NS) {
		vg_log(VG_LOG_WARNING,
		       "%llu audit events dropped: the audit queue was full (raise "
		       "audit.queue_bytes; vigil_audit_events_total{result=\"dropped\"})",
		       (unsigned long long)a->audit_drops);
		a->audit_drops = 0;
		a->audit_drops_said_ns = now;
	}
}

static int setup_audit(struct vg_agent *a, char *err, size_t errlen)
{
	const struct vg_config *c = a->cfg;
	if (!c->audit.enabled)
		return 0;
	struct vg_audit_opts ao = {
		.listen = c->audit.listen,
		.path = c->audit.path,
		.tls_cert = c->audit.tls_cert,
		.tls_key = c->audit.tls_key,
		.client_ca = c->audit.client_ca,
		.token_file = c->audit.token_file,
		.max_body_bytes = c->audit.max_body_bytes,
		.max_events = c->audit.max_events,
		.queue_bytes = c->audit.queue_bytes,
		.max_connections = c->audit.max_connections,
		.timeout_ms = c->audit.timeout_ms,
	};
	a->audit = vg_audit_new(&ao, a->reg, err, errlen);
	if (!a->audit || vg_audit_start(a->audit, err, errlen))
		return -1;
	vg_agent_set_ready(a, VG_READY_AUDIT, true);
	return 0;
}

static void periodic(struct vg_agent *a)
{
	drain_audit(a);
	vg_cmeta_sync(a->cmeta);
	if (a->hold)
		release_held(a, false);
	vg_cmeta_periodic(a->cmeta);
	if (a->reopen) {
		a->reopen = 0;
		if (a->disp)
			vg_dispatch_reopen(a->disp);
	}
	if (a->reg) {
		struct vg_state_stats ss;
		vg_state_get_stats(a->st, &ss);
		vg_metric_set(a->m_procs, (double)ss.procs);
		vg_metric_counter_set(a->m_evictions, ss.proc_evictions);
		vg_metric_counter_set(a->m_malformed, ss.bad_records);
		/* the scratch is this thread's: read where it is written */
		vg_metric_counter_set(a->m_regex_undecided,
				      vg_cond_scratch_regex_undecided(a->scratch));
		vg_metric_counter_set(a->m_log_dropped, vg_log_dropped());
	}
	report_drops(a, false);
}

struct vg_agent *vg_agent_new(const struct vg_agent_opts *o, char *err, size_t errlen)
{
	struct vg_agent *a = vg_xcalloc(1, sizeof(*a));
	a->o = *o;
	a->cfg = o->cfg;
	vg_agent_hostname(a->cfg, a->hostname, sizeof(a->hostname));
	a->drop_rl.interval_ns = VG_AGENT_DROP_INTERVAL_NS;
	a->max_prio = -1;
	struct vg_state_opts so = {0};
	so.max_procs = a->cfg->state.max_procs;
	so.max_fds = a->cfg->state.max_fds;
	so.max_env = a->cfg->state.max_env_bytes;
	so.proc_root = a->cfg->proc_root;
	so.etc_root = "/etc";
	so.hostname = a->hostname; /* evt.hostname: the node's name, as the alert's hostname */
	a->st = vg_state_new(&so);
	a->ev = vg_xcalloc(1, sizeof(*a->ev));
	a->cmeta = vg_cmeta_new();
	vg_state_set_meta_lookup(a->st, vg_cmeta_lookup, a->cmeta);
	if (o->on_event) {
		memcpy(a->want, o->want, VG_NR_MAX);
		return a;
	}
	if (!a->cfg->capture.enabled && !a->cfg->audit.enabled) {
		snprintf(err, errlen,
			 "capture.enabled is false and audit.enabled is not: nothing to watch");
		vg_agent_free(a);
		return NULL;
	}
	if (setup_metrics(a, err, errlen) || setup_sinks(a, err, errlen) ||
	    setup_audit(a, err, errlen)) {
		vg_agent_free(a);
		return NULL;
	}
	a->scratch = vg_cond_scratch_new();
	setup_reload(a);
	if (vg_cmeta_start_runtime(a->cmeta, a->cfg, err, errlen)) {
		vg_agent_free(a);
		return NULL;
	}
	vg_cmeta_metrics(a->cmeta, a->reg);
	if (vg_cmeta_has_runtime(a->cmeta)) /* without the API: runtime.hold_ms */
		enable_hold(a, (unsigned)a->cfg->runtime.hold_ms);
	return a;
}

/* What the kernel allowed the capture, in the log, the metrics and
 * /readyz: a fallback changes cost or limits, never the events. */
static void report_features(struct vg_agent *a, struct vg_capture *cap)
{
	char desc[256];
	vg_capture_describe(cap, desc, sizeof(desc));
	vg_log(VG_LOG_INFO, "capture on kernel %s: %s", vg_capture_kernel(cap), desc);
	const struct vg_capture_feature *f;
	size_t n = vg_capture_features(cap, &f);
	for (size_t i = 0; i < n; i++) {
		if (!f[i].on)
			vg_log(VG_LOG_WARNING, "kernel %s lacks %s: %s", vg_capture_kernel(cap),
			       f[i].name, f[i].without);
		if (a->reg)
			vg_metric_set(vg_metric_labels(a->m.capture_features, f[i].name),
				      f[i].on ? 1 : 0);
	}
	char detail[320];
	snprintf(detail, sizeof(detail), "capture: kernel %s %s", vg_capture_kernel(cap), desc);
	vg_httpd_set_detail(a->httpd, detail);
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
static int start_rules(struct vg_agent *a)
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
	on_swap(a);
	return 0;
}

/* capture.enabled: false, the audit receiver alone (one per cluster): no
 * BPF, no root; the rules, their reloads and the audit events on this
 * thread, woken as soon as a batch is queued. */
static int run_audit_only(struct vg_agent *a)
{
	a->ran = true;
	if (a->reload) {
		int r = start_rules(a);
		if (r)
			return r < 0 ? -1 : 0;
	}
	vg_log(VG_LOG_INFO, "audit only: no capture (capture.enabled: false)");
	uint64_t deadline =
		a->o.duration > 0 ? vg_now_mono_ns() + (uint64_t)(a->o.duration * 1e9) : 0;
	while (!a->stop && !(deadline && vg_now_mono_ns() >= deadline)) {
		vg_audit_wait(a->audit, 100);
		if (a->reload && vg_reload_poll(a->reload, UINT64_MAX, &a->eng))
			on_swap(a);
		periodic(a);
	}
	periodic(a);
	report_drops(a, true);
	return 0;
}

int vg_agent_run(struct vg_agent *a)
{
	char err[512];
	if (a->disp) {
		a->max_prio = vg_dispatch_max_priority(a->disp);
		a->text = vg_dispatch_wants_text(a->disp);
		if (vg_dispatch_start(a->disp, err, sizeof(err))) {
			vg_log(VG_LOG_ERROR, "%s", err);
			return -1;
		}
	}
	if (!a->cfg->capture.enabled)
		return run_audit_only(a);
	struct vg_capture_opts co = {0};
	co.ringbuf_bytes = a->cfg->capture.ringbuf_bytes;
	co.ignore_self = a->cfg->capture.ignore_self;
	co.lsm = !strcmp(a->cfg->capture.lsm, "on")    ? VG_CAPTURE_LSM_ON
		 : !strcmp(a->cfg->capture.lsm, "off") ? VG_CAPTURE_LSM_OFF
						       : VG_CAPTURE_LSM_AUTO;
	co.self_tgid = vg_procscan_self(a->cfg->proc_root);
	a->ran = true;
	struct vg_capture *cap = vg_capture_open(&co, err, sizeof(err));
	if (!cap) {
		vg_log(VG_LOG_ERROR, "cannot start capture: %s", err);
		return -1;
	}
	report_features(a, cap);
	a->map_cap = cap;
	if (a->reload) {
		int r = start_rules(a);
		if (r) {
			vg_capture_close(cap);
			return r < 0 ? -1 : 0;
		}
	} else if (vg_capture_set_interest(cap, a->want, err, sizeof(err))) {
		vg_log(VG_LOG_ERROR, "%s", err);
		vg_capture_close(cap);
		return -1;
	}
	/* seed after the probes are attached so no process falls between */
	int n = vg_procscan(a->cfg->proc_root, on_record, a);
	if (n < 0) {
		vg_log(VG_LOG_ERROR, "scanning %s: %s", a->cfg->proc_root, strerror(-n));
		if (a->reload)
			vg_reload_quiesce(a->reload);
		vg_capture_close(cap);
		return -1;
	}
	vg_log(VG_LOG_DEBUG, "seeded %d processes from %s", n, a->cfg->proc_root);
	if (a->reg) { /* published for the collect callbacks from here on */
		vg_metric_family_set_collect(a->m.events, NULL, NULL);
		vg_metric_family_set_collect(a->m.events_dropped, NULL, NULL);
		vg_metric_family_set_collect(a->m.events_filtered, NULL, NULL);
	}
	a->cap = cap;
	if (a->reg) {
		vg_metric_family_set_collect(a->m.events, collect_events, a);
		vg_metric_family_set_collect(a->m.events_dropped, collect_drops, a);
		vg_metric_family_set_collect(a->m.events_filtered, collect_filtered, a);
	}
	vg_agent_set_ready(a, VG_READY_PROBES, true);
	vg_log(VG_LOG_INFO, "capture started");
	uint64_t deadline =
		a->o.duration > 0 ? vg_now_mono_ns() + (uint64_t)(a->o.duration * 1e9) : 0;
	int rc = 0;
	while (!a->stop) {
		int r = vg_capture_poll(cap, 100, on_ring_record, a);
		if (r == 0 && a->reload && vg_reload_poll(a->reload, UINT64_MAX, &a->eng))
			on_swap(a);
		if (r < 0 && r != -EINTR) {
			vg_log(VG_LOG_ERROR, "polling the ring buffer: %s", strerror(-r));
			rc = -1;
			break;
		}
		periodic(a);
		if (deadline && vg_now_mono_ns() >= deadline)
			break;
	}
	/* no rebuild reaches the map from now on, nor waits to be swapped */
	if (a->reload)
		vg_reload_quiesce(a->reload);
	/* drain what is already in the ring: nothing captured is lost on exit,
	 * unless it keeps filling for longer than VG_AGENT_RING_DRAIN_NS */
	a->stop = 1;
	a->drain_until = vg_now_mono_ns() + VG_AGENT_RING_DRAIN_NS;
	while (vg_capture_poll(cap, 0, on_ring_record, a) > 0 && vg_now_mono_ns() < a->drain_until)
		;
	if (vg_now_mono_ns() >= a->drain_until)
		vg_log(VG_LOG_WARNING,
		       "the ring buffer still filled after %llu ms of draining at the stop: the "
		       "events left in it are not evaluated",
		       (unsigned long long)(VG_AGENT_RING_DRAIN_NS / 1000000));
	if (a->hold)
		release_held(a, true);
	periodic(a);
	report_drops(a, true); /* the final count is always said */
	vg_agent_set_ready(a, VG_READY_PROBES, false);
	struct vg_stats s;
	if (!vg_capture_stats(cap, &s)) {
		uint64_t seen = 0, dropped = 0;
		for (int i = 0; i < VG_CAT_MAX; i++)
			seen += s.seen[i], dropped += s.dropped[i];
		struct vg_state_stats ss;
		vg_state_get_stats(a->st, &ss);
		vg_log(VG_LOG_INFO, "capture stopped: %llu events, %llu dropped, %llu malformed",
		       (unsigned long long)seen, (unsigned long long)dropped,
		       (unsigned long long)ss.bad_records);
	}
	if (a->reg) { /* no scrape may read the capture once it is closed */
		vg_metric_family_set_collect(a->m.events, NULL, NULL);
		vg_metric_family_set_collect(a->m.events_dropped, NULL, NULL);
		vg_metric_family_set_collect(a->m.events_filtered, NULL, NULL);
	}
	a->cap = NULL;
	vg_capture_close(cap);
	return rc;
}

void vg_agent_stop(struct vg_agent *a)
{
	a->stop = 1;
}

void vg_agent_reopen(struct vg_agent *a)
{
	a->reopen = 1;
}

void vg_agent_free(struct vg_agent *a)
{
	if (!a)
		return;
	vg_audit_free(a->audit); /* first: it feeds the rules and the sinks */
	if (a->disp) {
		uint64_t start = vg_now_mono_ns();
		uint64_t lost = vg_dispatch_stop(a->disp, start + a->cfg->outputs.drain_timeout_ms *
									  1000000ull);
		if (lost)
			vg_log(VG_LOG_WARNING, "%llu alerts not delivered at shutdown",
			       (unsigned long long)lost);
		uint64_t sent = 0, failed = 0;
		for (size_t i = 0; i < vg_dispatch_count(a->disp); i++) {
			struct vg_dispatch_stats ds;
			vg_dispatch_get_stats(a->disp, i, &ds);
			sent += ds.sent;
			failed += ds.failed;
		}
		if (a->ran)
			vg_log(VG_LOG_INFO,
			       "stopped after %llu alerts (%llu deliveries, %llu failed) in %.3f "
			       "s of draining",
			       (unsigned long long)a->matches, (unsigned long long)sent,
			       (unsigned long long)failed,
			       (double)(vg_now_mono_ns() - start) / 1e9);
	}
	/* said when stderr has room again; else only the metric had it */
	if (vg_log_dropped())
		vg_log(VG_LOG_WARNING, "%llu log lines not written: stderr was full",
		       (unsigned long long)vg_log_dropped());
	vg_httpd_stop(a->httpd);
	vg_dispatch_free(a->disp);
	vg_metrics_free(a->reg);
	free(a->match_series);
	free(a->actx);
	vg_cond_scratch_free(a->scratch);
	if (a->reload)
		vg_reload_free(a->reload); /* owns the engine */
	else
		vg_engine_free(a->eng);
	for (size_t i = 0; i < a->npaths; i++)
		free(a->paths[i]);
	free(a->paths);
	vg_diag_free(&a->diag);
	vg_hold_free(a->hold);
	vg_cmeta_free(a->cmeta);
	vg_state_free(a->st);
	free(a->ev);
	free(a);
}

const struct vg_state *vg_agent_state(const struct vg_agent *a)
{
	return a->st;
}

const struct vg_vigil_metrics *vg_agent_metrics(const struct vg_agent *a)
{
	return a->reg ? &a->m : NULL;
}

struct vg_metrics *vg_agent_registry(struct vg_agent *a)
{
	return a->reg;
}

void vg_agent_set_ready(struct vg_agent *a, unsigned bits, bool ok)
{
	if (a->httpd)
		vg_httpd_set_ready(a->httpd, bits, ok);
}

int vg_agent_metrics_port(const struct vg_agent *a)
{
	return a->httpd ? vg_httpd_port(a->httpd) : 0;
}

uint64_t vg_agent_matches(const struct vg_agent *a)
{
	return a->matches;
}

struct vg_reload *vg_agent_reload(struct vg_agent *a)
{
	return a->reload;
}

void vg_agent_set_build_hook(struct vg_agent *a, vg_agent_build_fn fn, void *ctx)
{
	a->build_hook = fn;
	a->build_ctx = ctx;
}

void vg_agent_set_rules_gate(struct vg_agent *a, bool (*gate)(void *ctx), void *ctx,
			     unsigned gate_ms)
{
	a->rules_gate = gate;
	a->gate_ctx = ctx;
	a->gate_ms = gate_ms;
}
