/* agent_sinks.c - the agent's sinks and alerts: a match, the dropped-events alert;
 * see agent.h and agent_int.h. */
#include "agent_int.h"
#include "dispatch.h"
#include "kaudit.h"
#include "log.h"
#include "output.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

int ag_setup_sinks(struct vg_agent *a, char *err, size_t errlen)
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

void ag_on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
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
void ag_report_drops(struct vg_agent *a, bool force)
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
