/* bench/alerts.c - what delivering an alert costs, per sink.
 *
 * N alerts (default 100,000) of a realistic size go through the
 * dispatcher (queue + sink thread) to:
 *   file   the JSON file sink (buffered write(2) to a temporary file)
 *   http   the HTTP sink (libwebsockets client, one POST per alert) to a
 *          receiver thread in this process (plain sockets, answers 200)
 * Each is compared with a baseline measured in the same run on the same
 * bytes: one raw write(2) per alert line for the file, and a plain socket
 * client (connect, send the same request, read the answer) for HTTP.
 * Prints alerts/s, CPU time per alert (process user+sys, all threads) and
 * the ratios.  Machines here are shared: only the ratios mean something.
 *
 * usage: bench_alerts [N] [HTTP_N]
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alertq.h"
#include "dispatch.h"
#include "rules.h"
#include "sink.h"
#include "util.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static char *alert_json(size_t i)
{
	char *s = vg_xmalloc(1024);
	snprintf(s, 1024,
		 "{\"time\":\"2026-11-29T03:40:00.%09zuZ\",\"rule\":\"Terminal shell in "
		 "container\",\"priority\":\"Notice\",\"source\":\"syscall\",\"hostname\":"
		 "\"node-1\",\"output\":\"03:40:00.%09zu: Notice A shell was spawned in a "
		 "container with an attached terminal (evt_type=execve user=root user_uid=0 "
		 "process=sh proc_exepath=/bin/busybox parent=runc command=sh -i terminal=34816 "
		 "container_id=0123456789ab container_name=app)\",\"output_fields\":{\"evt.type\":"
		 "\"execve\",\"user.name\":\"root\",\"user.uid\":0,\"proc.name\":\"sh\","
		 "\"proc.pname\":\"runc\",\"proc.cmdline\":\"sh -i\",\"proc.tty\":34816,"
		 "\"container.id\":\"0123456789ab\"},\"tags\":[\"container\",\"shell\","
		 "\"mitre_execution\"],\"k8s\":{\"namespace\":\"default\",\"pod\":\"app-7d9\","
		 "\"uid\":\"6f1c2a7e-0000-4000-8000-000000000001\"}}",
		 i % 1000000000, i % 1000000000);
	return s;
}

struct result {
	double secs, cpu_secs;
};

/* N alerts through one sink via the dispatcher, until all are delivered. */
static struct result through_sink(struct vg_sink *s, size_t n)
{
	struct vg_dispatch_opts o = {.queue_len = n};
	struct vg_dispatch *d = vg_dispatch_new(&o);
	vg_dispatch_add(d, s);
	char err[256];
	if (vg_dispatch_start(d, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	double c0 = cpu(), t0 = now();
	for (size_t i = 0; i < n; i++)
		vg_dispatch_emit(d, vg_alert_new("Terminal shell in container", VG_PRIO_NOTICE, i,
						 alert_json(i), NULL));
	uint64_t lost = vg_dispatch_stop(d, vg_now_mono_ns() + 600ull * 1000000000ull);
	struct result r = {now() - t0, cpu() - c0};
	struct vg_dispatch_stats st;
	vg_dispatch_get_stats(d, 0, &st);
	if (lost || st.sent != n) {
		fprintf(stderr, "sink lost alerts: sent %llu of %zu\n", (unsigned long long)st.sent,
			n);
		exit(1);
	}
	vg_dispatch_free(d);
	return r;
}

/* ---- the receiver --------------------------------------------------------- */

struct receiver {
	int fd, port;
	pthread_t thread;
	atomic_bool stop;
	atomic_ulong requests, conns;
	atomic_bool keep; /* answer keep-alive (else Connection: close) */
};

/* Answers requests on connection c until the client closes it (keep-alive)
 * or after one (close). */
static void serve_conn(struct receiver *rv, int c, bool keep)
{
	static char buf[1 << 20]; /* one serving thread; a batch of 100 is ~72 KB */
	size_t len = 0;
	for (;;) {
		long want = -1;
		char *eoh = len ? strstr(buf, "\r\n\r\n") : NULL;
		if (eoh) {
			char *cl = strcasestr(buf, "content-length:");
			want = (long)(eoh + 4 - buf) + (cl ? atol(cl + 15) : 0);
		}
		while (want < 0 || (long)len < want) {
			ssize_t k = read(c, buf + len, sizeof(buf) - 1 - len);
			if (k <= 0)
				return;
			len += (size_t)k;
			buf[len] = 0;
			eoh = strstr(buf, "\r\n\r\n");
			if (eoh && want < 0) {
				char *cl = strcasestr(buf, "content-length:");
				want = (long)(eoh + 4 - buf) + (cl ? atol(cl + 15) : 0);
			}
			if (len == sizeof(buf) - 1)
				return;
		}
		static const char ok_keep[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
		static const char ok_close[] =
			"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		const char *ok = keep ? ok_keep : ok_close;
		if (write(c, ok, strlen(ok)) > 0)
			atomic_fetch_add(&rv->requests, 1);
		if (!keep)
			return;
		memmove(buf, buf + want, len - (size_t)want);
		len -= (size_t)want;
		buf[len] = 0;
	}
}

static void *serve(void *arg)
{
	struct receiver *rv = arg;
	while (!atomic_load(&rv->stop)) {
		int c = accept(rv->fd, NULL, NULL);
		if (c < 0)
			continue;
		atomic_fetch_add(&rv->conns, 1);
		serve_conn(rv, c, atomic_load(&rv->keep));
		close(c);
	}
	return NULL;
}

static void receiver_start(struct receiver *rv)
{
	rv->fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(rv->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	if (bind(rv->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(rv->fd, 512)) {
		perror("receiver");
		exit(1);
	}
	getsockname(rv->fd, (struct sockaddr *)&sa, &sl);
	rv->port = ntohs(sa.sin_port);
	struct timeval tv = {0, 100000};
	setsockopt(rv->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_create(&rv->thread, NULL, serve, rv);
}

/* The HTTP baseline: the same request on a plain socket, one connection each. */
static struct result raw_http(int port, size_t n)
{
	double c0 = cpu(), t0 = now();
	char req[4096], ans[512];
	for (size_t i = 0; i < n; i++) {
		char *body = alert_json(i);
		int len = snprintf(req, sizeof(req),
				   "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
				   "application/json\r\nContent-Length: %zu\r\n\r\n%s",
				   strlen(body), body);
		free(body);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    write(fd, req, (size_t)len) != len || read(fd, ans, sizeof(ans)) <= 0) {
			perror("raw http");
			exit(1);
		}
		close(fd);
	}
	return (struct result){now() - t0, cpu() - c0};
}

static void print(const char *what, struct result r, size_t n, const struct result *base)
{
	printf("  %-28s %9.0f alerts/s  %7.2f us CPU/alert", what, n / r.secs,
	       r.cpu_secs / n * 1e6);
	if (base)
		printf("  throughput %.2fx, CPU %.2fx of the baseline",
		       (n / r.secs) / (n / base->secs), (r.cpu_secs / n) / (base->cpu_secs / n));
	printf("\n");
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	size_t hn = argc > 2 ? strtoul(argv[2], NULL, 10) : n;
	char path[] = "/tmp/vigil-bench-alerts-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}

	/* file: raw write(2) per line, then the sink */
	double c0 = cpu(), t0 = now();
	for (size_t i = 0; i < n; i++) {
		char *j = alert_json(i);
		size_t l = strlen(j);
		j[l] = '\n';
		if (write(fd, j, l + 1) != (ssize_t)(l + 1)) {
			perror("write");
			return 1;
		}
		free(j);
	}
	struct result base = {now() - t0, cpu() - c0};
	close(fd);
	unlink(path);
	char err[256];
	struct vg_sink *fs = vg_sink_file_new(path, false, VG_PRIO_DEBUG, err, sizeof(err));
	if (!fs) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct result file = through_sink(fs, n);
	unlink(path);
	char *sample = alert_json(0);
	printf("file sink, %zu alerts of ~%zu bytes:\n", n, strlen(sample));
	free(sample);
	print("raw write(2) per line", base, n, NULL);
	print("JSON file sink", file, n, &base);

	/* http: raw socket client, then the sink */
	struct receiver rv = {0};
	receiver_start(&rv);
	struct result hbase = raw_http(rv.port, hn);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", rv.port);
	struct vg_sink_http_opts ho = {.url = url,
				       .timeout_ms = 5000,
				       .retries = 3,
				       .backoff_ms = 10,
				       .backoff_max_ms = 100,
				       .min_priority = VG_PRIO_DEBUG};
	struct vg_sink *hs = vg_sink_http_new(&ho, err, sizeof(err));
	if (!hs) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct result http = through_sink(hs, hn);

	/* keep-alive, one alert per request: the same receiver, now keeping
	 * connections open */
	atomic_store(&rv.keep, true);
	unsigned long c0k = atomic_load(&rv.conns);
	ho.keepalive = true;
	hs = vg_sink_http_new(&ho, err, sizeof(err));
	if (!hs) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct result ka = through_sink(hs, hn);
	unsigned long kconns = atomic_load(&rv.conns) - c0k;
	/* keep-alive with batches of up to 100 (NDJSON) */
	ho.batch = VG_HTTP_BATCH_NDJSON;
	ho.batch_max_alerts = 100;
	hs = vg_sink_http_new(&ho, err, sizeof(err));
	if (!hs) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct result batch = through_sink(hs, hn);
	atomic_store(&rv.stop, true);
	pthread_join(rv.thread, NULL);
	close(rv.fd);
	printf("http sink, %zu alerts to a local receiver (in this process: its CPU counts):\n",
	       hn);
	print("raw socket POST, conn each", hbase, hn, NULL);
	print("one connection each (lws)", http, hn, &hbase);
	print("keep-alive, one per request", ka, hn, &hbase);
	print("keep-alive, NDJSON batches", batch, hn, &hbase);
	printf("  keep-alive against one connection each: throughput %.2fx, CPU per alert "
	       "%.2fx (target >= 5x, <= 0.20x); %lu connection(s) opened\n",
	       http.secs / ka.secs, ka.cpu_secs / http.cpu_secs, kconns);
	printf("  batches against one connection each: throughput %.2fx, CPU per alert %.2fx\n",
	       http.secs / batch.secs, batch.cpu_secs / http.cpu_secs);
	return 0;
}
