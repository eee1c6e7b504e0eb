/* bench_audit - Kubernetes audit events through the official k8s_audit
 * rules on one core, and the audit webhook receiver's request latency.
 *
 *   bench_audit [EVENTS [BATCHES]]       (defaults 200000, 300; "quick" = 20000, 40)
 *
 * A generated mix of audit events, shaped like a busy cluster's (mostly
 * controllers' and kubelets' reads and lease renewals at Metadata level,
 * some pod/configmap/binding creations with their request objects, exec,
 * anonymous probes), in EventLists of 400 (the API server's default
 * --audit-webhook-batch-max-size):
 *
 *  1. throughput on this thread's CPU time: decode only (the EventList
 *     parsed, each event walked: the floor), then decode + the 48 official
 *     rules ($VIGIL_FALCO_RULES/k8saudit/k8s_audit_rules.yaml) with every
 *     match rendered as its alert JSON, as the agent does; events/s and the
 *     ratio rules/decode, best of 3;
 *  2. the receiver on loopback (TLS, bearer token) with a thread draining
 *     into the rules as `vigil run` does: BATCHES requests back to back on
 *     one keep-alive connection, latency per request (write to answer)
 *     p50/p99/max against the decode time of one batch; then the same with
 *     the rules stalled (nothing drains, a queue of 8 batches): answers
 *     must not slow down, batches past the queue are dropped and counted.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "audit.h"
#include "engine.h"
#include "kaudit.h"
#include "output.h"
#include "rules.h"

#define BATCH 400
#define TOKEN "bench-token"

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* ---- the event mix ----------------------------------------------------------- */

static const char *const READERS[] = {
	"system:kube-controller-manager", "system:kube-scheduler", "system:node:node-7",
	"system:serviceaccount:kube-system:coredns", "system:serviceaccount:vigil:vigil"};
static const char *const RES[] = {"pods",      "configmaps", "services",
				  "endpoints", "nodes",	     "namespaces"};

/* one audit Event as JSON into b; returns its length */
static int gen_event(char *b, size_t cap, unsigned i)
{
	unsigned k = rnd(100);
	const char *head = "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\"";
	char ts[] = "\"requestReceivedTimestamp\":\"2026-12-01T10:00:00.000000Z\","
		    "\"stageTimestamp\":\"2026-12-01T10:00:00.002000Z\"";
	if (k < 70) { /* reads by controllers and kubelets, Metadata level */
		const char *res = RES[rnd(6)];
		const char *verb = (const char *[]){"get", "list", "watch"}[rnd(3)];
		return snprintf(
			b, cap,
			"%s,\"level\":\"Metadata\",\"auditID\":\"a-%u\",\"stage\":"
			"\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/ns%u/%s\","
			"\"verb\":\"%s\",\"user\":{\"username\":\"%s\",\"groups\":[\"system:"
			"authenticated\"]},\"sourceIPs\":[\"10.0.0.%u\"],\"userAgent\":\"kube-"
			"controller-manager/v1.34.4\",\"objectRef\":{\"resource\":\"%s\","
			"\"namespace\":\"ns%u\",\"apiVersion\":\"v1\"},\"responseStatus\":{"
			"\"metadata\":{},\"code\":200},%s}",
			head, i, i % 50, res, verb, READERS[rnd(5)], rnd(250), res, i % 50, ts);
	}
	if (k < 80) /* lease renewals */
		return snprintf(
			b, cap,
			"%s,\"level\":\"Metadata\",\"auditID\":\"a-%u\",\"stage\":"
			"\"ResponseComplete\",\"requestURI\":\"/apis/coordination.k8s.io/v1/"
			"namespaces/kube-node-lease/leases/node-%u\",\"verb\":\"update\",\"user\":"
			"{\"username\":\"system:node:node-%u\",\"groups\":[\"system:nodes\"]},"
			"\"sourceIPs\":[\"10.0.1.%u\"],\"userAgent\":\"kubelet/v1.34.4\","
			"\"objectRef\":{\"resource\":\"leases\",\"namespace\":\"kube-node-lease\","
			"\"name\":\"node-%u\",\"apiGroup\":\"coordination.k8s.io\",\"apiVersion\":"
			"\"v1\"},\"responseStatus\":{\"metadata\":{},\"code\":200},%s}",
			head, i, i % 100, i % 100, i % 100, i % 100, ts);
	if (k < 90) { /* pod creations, 1 in 10 privileged or with a host path */
		unsigned odd = rnd(10);
		return snprintf(
			b, cap,
			"%s,\"level\":\"RequestResponse\",\"auditID\":\"a-%u\",\"stage\":"
			"\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/shop/pods\","
			"\"verb\":\"create\",\"user\":{\"username\":\"system:serviceaccount:kube-"
			"system:replicaset-controller\",\"groups\":[\"system:serviceaccounts\"]},"
			"\"sourceIPs\":[\"10.0.0.2\"],\"userAgent\":\"kube-controller-manager\","
			"\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"shop\",\"name\":"
			"\"web-%u\",\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},"
			"\"code\":201},\"requestObject\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
			"\"metadata\":{\"name\":\"web-%u\",\"namespace\":\"shop\",\"labels\":{"
			"\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
			"\"docker.io/library/nginx:1.25\",\"ports\":[{\"containerPort\":80}],"
			"\"securityContext\":{\"privileged\":%s,\"runAsUser\":101}},{\"name\":"
			"\"log\",\"image\":\"fluent/fluent-bit:3\"}],\"volumes\":[{\"name\":\"v\","
			"%s}]}},\"responseObject\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\","
			"\"metadata\":{\"name\":\"web-%u\",\"namespace\":\"shop\"}},%s}",
			head, i, i, i, odd == 0 ? "true" : "false",
			odd == 1 ? "\"hostPath\":{\"path\":\"/etc\"}" : "\"emptyDir\":{}", i, ts);
	}
	if (k < 94) /* configmaps */
		return snprintf(
			b, cap,
			"%s,\"level\":\"RequestResponse\",\"auditID\":\"a-%u\",\"stage\":"
			"\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/shop/configmaps"
			"\",\"verb\":\"create\",\"user\":{\"username\":\"deployer\",\"groups\":["
			"\"ci\"]},\"sourceIPs\":[\"10.0.2.9\"],\"userAgent\":\"helm/3\","
			"\"objectRef\":{\"resource\":\"configmaps\",\"namespace\":\"shop\","
			"\"name\":\"cfg-%u\",\"apiVersion\":\"v1\"},\"responseStatus\":{"
			"\"metadata\":{},\"code\":201},\"requestObject\":{\"kind\":\"ConfigMap\","
			"\"data\":{\"app.conf\":\"listen 80\\nworkers 4\\n\",\"%s\":\"x\"}},%s}",
			head, i, i, rnd(20) ? "level" : "aws_access_key_id", ts);
	if (k < 97) /* bindings */
		return snprintf(
			b, cap,
			"%s,\"level\":\"RequestResponse\",\"auditID\":\"a-%u\",\"stage\":"
			"\"ResponseComplete\",\"requestURI\":\"/apis/rbac.authorization.k8s.io/v1/"
			"clusterrolebindings\",\"verb\":\"create\",\"user\":{\"username\":"
			"\"admin\","
			"\"groups\":[\"system:masters\"]},\"sourceIPs\":[\"10.0.2.1\"],"
			"\"userAgent\":\"kubectl/v1.34.4\",\"objectRef\":{\"resource\":"
			"\"clusterrolebindings\",\"name\":\"b-%u\",\"apiGroup\":"
			"\"rbac.authorization.k8s.io\",\"apiVersion\":\"v1\"},\"responseStatus\":{"
			"\"metadata\":{},\"code\":201},\"requestObject\":{\"kind\":"
			"\"ClusterRoleBinding\",\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":"
			"\"%s\"},\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"app\","
			"\"namespace\":\"shop\"}]},%s}",
			head, i, i, rnd(10) ? "view" : "cluster-admin", ts);
	if (k < 99) /* exec */
		return snprintf(
			b, cap,
			"%s,\"level\":\"Request\",\"auditID\":\"a-%u\",\"stage\":"
			"\"ResponseStarted\",\"requestURI\":\"/api/v1/namespaces/shop/pods/web-1/"
			"exec?command=sh&container=web&stdin=true&tty=true\",\"verb\":\"create\","
			"\"user\":{\"username\":\"dev\",\"groups\":[\"devs\"]},\"sourceIPs\":["
			"\"10.0.3.4\"],\"userAgent\":\"kubectl/v1.34.4\",\"objectRef\":{"
			"\"resource\":\"pods\",\"namespace\":\"shop\",\"name\":\"web-1\","
			"\"subresource\":\"exec\",\"apiVersion\":\"v1\"},\"responseStatus\":{"
			"\"metadata\":{},\"code\":101},%s}",
			head, i, ts);
	return snprintf(
		b, cap, /* anonymous */
		"%s,\"level\":\"Metadata\",\"auditID\":\"a-%u\",\"stage\":"
		"\"ResponseComplete\",\"requestURI\":\"/healthz\",\"verb\":\"get\","
		"\"user\":{\"username\":\"system:anonymous\",\"groups\":["
		"\"system:unauthenticated\"]},\"sourceIPs\":[\"192.0.2.7\"],"
		"\"userAgent\":\"curl/8\",\"responseStatus\":{\"metadata\":{},\"code\":200},"
		"\"annotations\":{\"authorization.k8s.io/decision\":\"allow\","
		"\"authorization.k8s.io/reason\":\"\"},%s}",
		head, i, ts);
}

struct body {
	char *s;
	size_t len;
};

/* nbatches EventLists of BATCH events */
static struct body *gen_bodies(size_t nbatches)
{
	struct body *b = calloc(nbatches, sizeof(*b));
	size_t cap = (size_t)BATCH * 4096;
	unsigned id = 0;
	for (size_t k = 0; k < nbatches; k++) {
		char *s = malloc(cap);
		size_t l = (size_t)snprintf(
			s, cap,
			"{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[");
		for (int i = 0; i < BATCH; i++) {
			if (i)
				s[l++] = ',';
			l += (size_t)gen_event(s + l, cap - l, id++);
		}
		l += (size_t)snprintf(s + l, cap - l, "]}");
		b[k].s = s;
		b[k].len = l;
	}
	return b;
}

/* ---- the rules ------------------------------------------------------------------ */

struct eval {
	struct vg_engine *eng;
	struct vg_cond_scratch *scr;
	struct vg_alert_ctx actx;
	uint64_t n, matches, bytes;
};

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	struct eval *e = ctx;
	char *j = vg_alert_json(r, ev, &e->actx);
	e->matches++;
	e->bytes += strlen(j);
	free(j);
}

static void on_event(void *ctx, const cJSON *obj)
{
	struct eval *e = ctx;
	struct vg_kaudit_event ke;
	vg_kaudit_event_init(&ke, obj, ++e->n, 0);
	vg_engine_match(e->eng, &ke.ev, e->scr, on_match, e);
}

static struct vg_engine *load_rules(void)
{
	const char *dir = getenv("VIGIL_FALCO_RULES");
	const char *cands[] = {dir, "../shared/falco-rules", "../../shared/falco-rules",
			       "/work/shared/falco-rules"};
	char path[4096];
	struct stat sb;
	for (size_t i = 0; i < 4; i++) {
		if (!cands[i] || !*cands[i])
			continue;
		snprintf(path, sizeof(path), "%s/k8saudit/k8s_audit_rules.yaml", cands[i]);
		if (!stat(path, &sb))
			break;
		path[0] = 0;
	}
	if (!path[0]) {
		fprintf(stderr, "bench_audit: k8s_audit_rules.yaml not found (set "
				"VIGIL_FALCO_RULES)\n");
		return NULL;
	}
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_diag d = {0};
	vg_ruleset_add_path(rs, path, &d);
	struct vg_engine *e = vg_engine_build(rs, &d);
	vg_ruleset_free(rs);
	if (d.errors) {
		fprintf(stderr, "bench_audit: %s does not load\n", path);
		return NULL;
	}
	vg_diag_free(&d);
	return e;
}

/* decode (and with e, evaluate) every body; thread CPU ns */
static uint64_t run(struct body *b, size_t nb, struct eval *e, uint64_t *nev)
{
	uint64_t t0 = now_ns(CLOCK_THREAD_CPUTIME_ID), n = 0;
	for (size_t k = 0; k < nb; k++) {
		const cJSON *items;
		size_t cnt;
		const char *why;
		cJSON *doc = vg_audit_decode(b[k].s, b[k].len, 100000, &items, &cnt, &why);
		if (!doc)
			abort();
		for (const cJSON *it = items->child; it; it = it->next) {
			if (e)
				on_event(e, it);
			else if (!cJSON_GetObjectItemCaseSensitive(it, "verb"))
				abort();
			n++;
		}
		cJSON_Delete(doc);
	}
	*nev = n;
	return now_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
}

/* ---- the receiver --------------------------------------------------------------- */

static void make_cert(const char *cert, const char *key)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_sign(x, k, EVP_sha256());
	FILE *f = fopen(cert, "w");
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(key, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
}

struct consumer {
	struct vg_audit *a;
	struct eval *e;
	_Atomic bool stop;
};

static void *consume(void *arg)
{
	struct consumer *c = arg;
	while (!atomic_load(&c->stop)) {
		vg_audit_wait(c->a, 50);
		vg_audit_drain(c->a, on_event, c->e, 20000);
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* nb requests back to back on one connection; latencies (ns) into lat */
static int post_all(int port, struct body *b, size_t nb, uint64_t *lat)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1; /* headers and body in two writes: no Nagle wait between */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		return -1;
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		return -1;
	for (size_t k = 0; k < nb; k++) {
		char h[256];
		int hl = snprintf(h, sizeof(h),
				  "POST /k8s-audit HTTP/1.1\r\nHost: localhost\r\nAuthorization: "
				  "Bearer " TOKEN "\r\nContent-Length: %zu\r\n\r\n",
				  b[k].len);
		uint64_t t0 = now_ns(CLOCK_MONOTONIC);
		if (SSL_write(ssl, h, hl) != hl)
			return -1;
		for (size_t off = 0; off < b[k].len;) {
			int w = SSL_write(ssl, b[k].s + off, (int)(b[k].len - off));
			if (w <= 0)
				return -1;
			off += (size_t)w;
		}
		char r[512] = "";
		size_t got = 0;
		while (!strstr(r, "\r\n\r\n{}")) { /* the 200's body */
			int n = SSL_read(ssl, r + got, (int)(sizeof(r) - 1 - got));
			if (n <= 0)
				return -1;
			got += (size_t)n;
			r[got] = 0;
		}
		if (strncmp(r, "HTTP/1.1 200", 12))
			return -1;
		lat[k] = now_ns(CLOCK_MONOTONIC) - t0;
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return 0;
}

static void print_lat(const char *what, uint64_t *lat, size_t n, double floor_ms)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	double p50 = lat[n / 2] / 1e6, p99 = lat[n * 99 / 100] / 1e6, mx = lat[n - 1] / 1e6;
	printf("  %-34s p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms  (p50 = %.2fx the decode of "
	       "one batch)\n",
	       what, p50, p99, mx, p50 / floor_ms);
}

static int bench_receiver(struct body *b, size_t nb, struct vg_engine *eng, double floor_ms)
{
	char dir[] = "/tmp/vigil-bench-audit-XXXXXX", cert[64], key[64], tok[64];
	if (!mkdtemp(dir))
		return -1;
	snprintf(cert, sizeof(cert), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	snprintf(tok, sizeof(tok), "%s/token", dir);
	make_cert(cert, key);
	FILE *f = fopen(tok, "w");
	fputs(TOKEN "\n", f);
	fclose(f);
	size_t qbytes = 64u << 20;
	struct vg_audit_opts o = {.listen = "127.0.0.1:0",
				  .tls_cert = cert,
				  .tls_key = key,
				  .token_file = tok,
				  .max_body_bytes = 12u << 20,
				  .max_events = 10000,
				  .queue_bytes = qbytes,
				  .max_connections = 4,
				  .timeout_ms = 30000};
	char err[512];
	uint64_t *lat = calloc(nb, sizeof(*lat));
	int rc = -1;
	for (int stalled = 0; stalled < 2; stalled++) {
		/* stalled: a queue of 8 batches, so that most are dropped */
		o.queue_bytes = stalled ? 8 * b[0].len : qbytes;
		struct vg_audit *a = vg_audit_new(&o, NULL, err, sizeof(err));
		if (!a || vg_audit_start(a, err, sizeof(err))) {
			fprintf(stderr, "bench_audit: %s\n", err);
			goto out;
		}
		struct eval e = {.eng = eng, .scr = vg_cond_scratch_new()};
		e.actx.hostname = "bench";
		struct consumer c = {.a = a, .e = &e};
		pthread_t t;
		if (!stalled)
			pthread_create(&t, NULL, consume, &c);
		uint64_t t0 = now_ns(CLOCK_MONOTONIC);
		if (post_all(vg_audit_port(a), b, nb, lat)) {
			fprintf(stderr, "bench_audit: a request failed (%s)\n",
				stalled ? "rules stalled" : "rules draining");
			goto out;
		}
		double secs = (now_ns(CLOCK_MONOTONIC) - t0) / 1e9;
		if (!stalled) { /* let it finish what is queued */
			while (vg_audit_wait(a, 0))
				usleep(1000);
			usleep(20000);
			atomic_store(&c.stop, true);
			pthread_join(t, NULL);
		}
		uint64_t drops = vg_audit_take_drops(a);
		if (!stalled) {
			printf("receiver, %zu requests of %d events back to back, rules "
			       "draining:\n",
			       nb, BATCH);
			print_lat("request latency", lat, nb, floor_ms);
			printf("  %.0f events/s accepted, %llu evaluated, %llu dropped, %llu "
			       "matches\n",
			       (double)nb * BATCH / secs, (unsigned long long)e.n,
			       (unsigned long long)drops, (unsigned long long)e.matches);
		} else {
			printf("receiver, the same with the rules stalled (a queue of 8 "
			       "batches):\n");
			print_lat("request latency", lat, nb, floor_ms);
			printf("  %llu events dropped and counted, none waited on\n",
			       (unsigned long long)drops);
		}
		vg_cond_scratch_free(e.scr);
		vg_audit_free(a);
	}
	rc = 0;
out:
	free(lat);
	unlink(cert);
	unlink(key);
	unlink(tok);
	rmdir(dir);
	return rc;
}

int main(int argc, char **argv)
{
	size_t nev = 200000, nreq = 300;
	if (argc > 1 && !strcmp(argv[1], "quick"))
		nev = 20000, nreq = 40;
	else if (argc > 1)
		nev = strtoull(argv[1], NULL, 10);
	if (argc > 2)
		nreq = strtoull(argv[2], NULL, 10);
	size_t nb = (nev + BATCH - 1) / BATCH;
	/* no signal(SIGPIPE): the receiver must not need it */
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct vg_engine *eng = load_rules();
	if (!eng)
		return 1;
	struct body *b = gen_bodies(nb > nreq ? nb : nreq);
	size_t bytes = 0;
	for (size_t k = 0; k < nb; k++)
		bytes += b[k].len;
	printf("bench_audit: %zu events in %zu EventLists of %d (%.0f bytes/event), %zu rules of "
	       "source k8s_audit\n",
	       nb * BATCH, nb, BATCH, (double)bytes / (double)(nb * BATCH),
	       vg_engine_rule_count(eng));
	uint64_t best_dec = UINT64_MAX, best_rules = UINT64_MAX, n = 0;
	struct eval e = {.eng = eng, .scr = vg_cond_scratch_new()};
	e.actx.hostname = "bench";
	for (int r = 0; r < 3; r++) {
		uint64_t t = run(b, nb, NULL, &n);
		best_dec = t < best_dec ? t : best_dec;
		e.n = e.matches = e.bytes = 0;
		t = run(b, nb, &e, &n);
		best_rules = t < best_rules ? t : best_rules;
	}
	double dec = (double)n / (best_dec / 1e9), rules = (double)n / (best_rules / 1e9);
	printf("one core (thread CPU time, best of 3):\n");
	printf("  decode only (floor)        %10.0f events/s  %6.2f us/event\n", dec,
	       best_dec / 1e3 / (double)n);
	printf("  decode + 48 official rules %10.0f events/s  %6.2f us/event  = %.2f of the "
	       "floor\n",
	       rules, best_rules / 1e3 / (double)n, rules / dec);
	printf("  %llu matches (%.1f%% of events), alerts rendered: %.0f bytes each\n",
	       (unsigned long long)e.matches, 100.0 * (double)e.matches / (double)n,
	       e.matches ? (double)e.bytes / (double)e.matches : 0.0);
	vg_cond_scratch_free(e.scr);
	double floor_ms = best_dec / 1e6 / (double)nb;
	int rc = bench_receiver(b, nreq, eng, floor_ms) ? 1 : 0;
	for (size_t k = 0; k < (nb > nreq ? nb : nreq); k++)
		free(b[k].s);
	free(b);
	vg_engine_free(eng);
	return rc;
}
