/* sinkdrv.c - drives one network or program sink with generated alerts for
 * tests/sinks/test_sinks.py: N alerts through the real dispatcher (queue,
 * sink thread, counters), then a stop with a deadline; prints the
 * dispatcher's counts and the failures by reason as one JSON line.
 *
 * usage: sinkdrv syslog|program|http N [key=value...] [-- argv...]
 *   keys: transport address ca cert key server_name url batch (array|ndjson)
 *         keepalive (0|1) queue retries backoff timeout pace_ms format
 *         gate (a file: the first alert waits until it exists; the rest
 *         follow)  stop_ms (the drain deadline)
 * Alert i's JSON is {"seq":i,"source":"syscall","rule":...}; its rule name
 * holds the characters RFC 5424 escapes ('"', '\', ']'). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "metrics.h"
#include "sink.h"
#include "util.h"

static const char *opt(int argc, char **argv, const char *key, const char *def)
{
	size_t n = strlen(key);
	for (int i = 3; i < argc && strcmp(argv[i], "--"); i++)
		if (!strncmp(argv[i], key, n) && argv[i][n] == '=')
			return argv[i] + n + 1;
	return def;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: sinkdrv syslog|program|http N [key=value...] [-- argv]\n");
		return 2;
	}
	const char *kind = argv[1];
	size_t n = strtoul(argv[2], NULL, 10);
	char err[512];
	unsigned retries = (unsigned)atoi(opt(argc, argv, "retries", "8"));
	unsigned backoff = (unsigned)atoi(opt(argc, argv, "backoff", "50"));
	unsigned timeout = (unsigned)atoi(opt(argc, argv, "timeout", "2000"));
	bool text = !strcmp(opt(argc, argv, "format", "json"), "text");
	const char *empty = "";
#define NUL(x) (*(x) ? (x) : NULL)
	struct vg_sink *s = NULL;
	if (!strcmp(kind, "syslog")) {
		struct vg_sink_syslog_opts o = {.transport = opt(argc, argv, "transport", "udp"),
						.address = opt(argc, argv, "address", ""),
						.ca_file = NUL(opt(argc, argv, "ca", empty)),
						.client_cert = NUL(opt(argc, argv, "cert", empty)),
						.client_key = NUL(opt(argc, argv, "key", empty)),
						.server_name =
							NUL(opt(argc, argv, "server_name", empty)),
						.facility = opt(argc, argv, "facility", "local3"),
						.app_name = "vigil-test",
						.hostname = "node-1",
						.text = text,
						.max_bytes = 65536,
						.timeout_ms = timeout,
						.retries = retries,
						.backoff_ms = backoff,
						.backoff_max_ms = backoff * 8,
						.min_priority = 7};
		s = vg_sink_syslog_new(&o, err, sizeof(err));
	} else if (!strcmp(kind, "program")) {
		int i = 3;
		while (i < argc && strcmp(argv[i], "--"))
			i++;
		struct vg_sink_program_opts o = {.argv = (const char *const *)argv + i + 1,
						 .text = text,
						 .timeout_ms = timeout,
						 .retries = retries,
						 .backoff_ms = backoff,
						 .backoff_max_ms = backoff * 8,
						 .min_priority = 7};
		s = vg_sink_program_new(&o, err, sizeof(err));
	} else if (!strcmp(kind, "http")) {
		const char *b = opt(argc, argv, "batch", "none");
		struct vg_sink_http_opts o = {
			.url = opt(argc, argv, "url", ""),
			.timeout_ms = timeout,
			.retries = retries,
			.backoff_ms = backoff,
			.backoff_max_ms = backoff * 8,
			.min_priority = 7,
			.keepalive = atoi(opt(argc, argv, "keepalive", "1")) != 0,
			.batch = !strcmp(b, "array")	? VG_HTTP_BATCH_ARRAY
				 : !strcmp(b, "ndjson") ? VG_HTTP_BATCH_NDJSON
							: VG_HTTP_BATCH_NONE,
			.batch_max_alerts = (size_t)atoi(opt(argc, argv, "batch_max", "10")),
			.batch_max_age_ms = 200};
		s = vg_sink_http_new(&o, err, sizeof(err));
	}
	if (!s) {
		fprintf(stderr, "sinkdrv: %s\n", s ? "" : err);
		return 1;
	}
	struct vg_metrics *m = vg_metrics_new();
	struct vg_metric_desc fd = {.name = "vigil_alert_failures_total",
				    .help = "failures",
				    .type = VG_METRIC_COUNTER,
				    .labels = {"sink", "reason", NULL}};
	struct vg_dispatch_opts dopt = {.queue_len =
						(size_t)atoi(opt(argc, argv, "queue", "10000"))};
	dopt.failures = vg_metrics_add(m, &fd, err, sizeof(err));
	struct vg_dispatch *d = vg_dispatch_new(&dopt);
	bool http = !strcmp(kind, "http");
	vg_dispatch_add(d, s);
	if (vg_dispatch_start(d, err, sizeof(err))) {
		fprintf(stderr, "sinkdrv: %s\n", err);
		return 1;
	}
	unsigned pace = (unsigned)atoi(opt(argc, argv, "pace_ms", "0"));
	const char *gate = opt(argc, argv, "gate", "");
	for (size_t i = 0; i < n; i++) {
		char *j = vg_xmalloc(256);
		snprintf(j, 256,
			 "{\"time\":\"2026-12-05T00:00:00Z\",\"rule\":\"Odd \\\"rule\\\" ]\\\\\","
			 "\"priority\":\"Warning\",\"source\":\"syscall\",\"seq\":%zu,"
			 "\"output\":\"caf\\u00e9 %zu\"}",
			 i, i);
		char *t = vg_xmalloc(64);
		snprintf(t, 64, "Warning text alert %zu", i);
		struct vg_alert *a =
			vg_alert_new("Odd \"rule\" ]\\", 4,
				     1764892800ull * 1000000000ull + i * 1000, j, text ? t : NULL);
		if (!text)
			free(t);
		vg_alert_set_subject(a, "msg", "team-a", "web-1", "uid-1");
		vg_dispatch_emit(d, a);
		if (i == 0 && *gate) /* the rest queue up behind the first */
			while (access(gate, F_OK)) {
				struct timespec ts = {0, 10000000};
				nanosleep(&ts, NULL);
			}
		if (pace) {
			struct timespec ts = {pace / 1000, (long)(pace % 1000) * 1000000};
			nanosleep(&ts, NULL);
		}
	}
	unsigned stop_ms = (unsigned)atoi(opt(argc, argv, "stop_ms", "20000"));
	(void)http;
	uint64_t lost = vg_dispatch_stop(d, vg_now_mono_ns() + (uint64_t)stop_ms * 1000000ull);
	struct vg_dispatch_stats st;
	vg_dispatch_get_stats(d, 0, &st);
	size_t ml;
	char *txt = vg_metrics_render(m, &ml);
	printf("{\"sent\":%llu,\"failed\":%llu,\"dropped\":%llu,\"lost_at_stop\":%llu,"
	       "\"reasons\":{",
	       (unsigned long long)st.sent, (unsigned long long)st.failed,
	       (unsigned long long)st.dropped, (unsigned long long)lost);
	const char *p = txt;
	int first = 1;
	while ((p = strstr(p, "reason=\""))) {
		p += 8;
		const char *e = strchr(p, '"');
		const char *v = strstr(e, "} ");
		printf("%s\"%.*s\":%llu", first ? "" : ",", (int)(e - p), p,
		       strtoull(v + 2, NULL, 10));
		first = 0;
	}
	printf("}}\n");
	free(txt);
	vg_dispatch_free(d);
	vg_metrics_free(m);
	return 0;
}
