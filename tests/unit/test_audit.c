/* The audit webhook receiver (audit_rx.c) on a loopback port: a CA, the
 * receiver's certificate, the API server's client certificate and an
 * intruder's from another CA are made here; an OpenSSL client posts to it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <dirent.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "audit.h"
#include "metrics.h"

#define TOKEN "t0ken-of-the-apiserver"

static char dir[] = "/tmp/vigil-audit-rx-XXXXXX";

static char *path(const char *name)
{
	static char buf[8][128];
	static int i;
	char *p = buf[i++ % 8];
	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- the PKI ----------------------------------------------------------------- */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

/* A certificate for cn signed by (ca, cakey), or self-signed when ca is
 * NULL; written to NAME.crt and NAME.key.  Returns the key (for signing
 * others) and *out the certificate. */
static EVP_PKEY *make_cert(const char *name, const char *cn, X509 *ca, EVP_PKEY *cakey,
			   const char *eku, X509 **out)
{
	static long serial = 1;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : X509_get_subject_name(x));
	if (!ca) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, ca, NID_ext_key_usage, eku);
		if (!strcmp(eku, "serverAuth"))
			add_ext(x, ca, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
	}
	assert_true(X509_sign(x, ca ? cakey : k, EVP_sha256()) > 0);
	char p[160];
	snprintf(p, sizeof(p), "%s.crt", path(name));
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(p, sizeof(p), "%s.key", path(name));
	f = fopen(p, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	if (out)
		*out = x;
	else
		X509_free(x);
	return k;
}

static int setup_pki(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(dir))
		return -1;
	X509 *ca, *other;
	EVP_PKEY *cak = make_cert("ca", "audit-ca", NULL, NULL, NULL, &ca);
	EVP_PKEY *otk = make_cert("other-ca", "other-ca", NULL, NULL, NULL, &other);
	EVP_PKEY_free(make_cert("server", "localhost", ca, cak, "serverAuth", NULL));
	EVP_PKEY_free(make_cert("apiserver", "kube-apiserver", ca, cak, "clientAuth", NULL));
	EVP_PKEY_free(make_cert("intruder", "kube-apiserver", other, otk, "clientAuth", NULL));
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(otk);
	FILE *f = fopen(path("token"), "w");
	fputs(TOKEN "\n", f);
	fclose(f);
	return 0;
}

static int teardown_pki(void **state)
{
	(void)state;
	const char *names[] = {"ca.crt",       "ca.key",       "other-ca.crt",	"other-ca.key",
			       "server.crt",   "server.key",   "apiserver.crt", "apiserver.key",
			       "intruder.crt", "intruder.key", "token"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlink(path(names[i]));
	rmdir(dir);
	return 0;
}

/* ---- the receiver ------------------------------------------------------------ */

struct rx {
	struct vg_metrics *reg;
	struct vg_audit *a;
	int port;
};

static struct vg_audit_opts base_opts(void)
{
	struct vg_audit_opts o = {
		.listen = "127.0.0.1:0",
		.path = "/k8s-audit",
		.tls_cert = path("server.crt"),
		.tls_key = path("server.key"),
		.client_ca = path("ca.crt"),
		.token_file = path("token"),
		.max_body_bytes = 65536,
		.max_events = 100,
		.queue_bytes = 1 << 20,
		.max_connections = 8,
		.timeout_ms = 2000,
	};
	return o;
}

static void rx_start(struct rx *r, const struct vg_audit_opts *o)
{
	char err[512] = "";
	r->reg = vg_metrics_new();
	r->a = vg_audit_new(o, r->reg, err, sizeof(err));
	if (!r->a)
		fail_msg("vg_audit_new: %s", err);
	if (vg_audit_start(r->a, err, sizeof(err)))
		fail_msg("vg_audit_start: %s", err);
	r->port = vg_audit_port(r->a);
	assert_true(r->port > 0);
}

static void rx_stop(struct rx *r)
{
	vg_audit_free(r->a);
	vg_metrics_free(r->reg);
}

/* the value of vigil_audit_{requests,events}_total{result="res"} */
static double metric(struct rx *r, const char *family, const char *res)
{
	size_t len;
	char *text = vg_metrics_render(r->reg, &len);
	char key[128];
	snprintf(key, sizeof(key), "\n%s{result=\"%s\"} ", family, res);
	char *p = strstr(text, key);
	double v = p ? strtod(p + strlen(key), NULL) : -1;
	free(text);
	return v;
}

static double requests(struct rx *r, const char *res)
{
	return metric(r, "vigil_audit_requests_total", res);
}

/* a counter reaches want within 3 s (the receiver counts after answering) */
static void wait_requests(struct rx *r, const char *res, double want)
{
	uint64_t until = now_ms() + 3000;
	while (requests(r, res) != want && now_ms() < until)
		sleep_ms(10);
	assert_true(requests(r, res) == want);
}

/* ---- a client ------------------------------------------------------------------ */

struct cl {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

static int tcp_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* A TLS connection presenting cert ("apiserver", "intruder" or NULL). */
static void cl_open(struct cl *c, int port, const char *cert)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(c->ctx);
	assert_int_equal(SSL_CTX_load_verify_locations(c->ctx, path("ca.crt"), NULL), 1);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (cert) {
		char p[160];
		snprintf(p, sizeof(p), "%s.crt", path(cert));
		assert_int_equal(SSL_CTX_use_certificate_file(c->ctx, p, SSL_FILETYPE_PEM), 1);
		snprintf(p, sizeof(p), "%s.key", path(cert));
		assert_int_equal(SSL_CTX_use_PrivateKey_file(c->ctx, p, SSL_FILETYPE_PEM), 1);
	}
	c->fd = tcp_connect(port);
	c->ssl = SSL_new(c->ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_tlsext_host_name(c->ssl, "localhost");
	if (SSL_connect(c->ssl) != 1)
		fail_msg("TLS handshake with the receiver failed: %lu", ERR_get_error());
}

static void cl_close(struct cl *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	close(c->fd);
}

static int cl_write(struct cl *c, const void *p, size_t n)
{
	while (n) {
		int w = SSL_write(c->ssl, p, n > 65536 ? 65536 : (int)n);
		if (w <= 0)
			return -1;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

/* The answer's status (after the whole answer arrived), -1 when the
 * connection ended without one. */
static int cl_status(struct cl *c)
{
	char buf[4096];
	size_t got = 0;
	for (;;) {
		int n = SSL_read(c->ssl, buf + got, (int)(sizeof(buf) - 1 - got));
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		char *cl = strstr(buf, "Content-Length: ");
		if (end && cl && strlen(end + 4) >= (size_t)atoi(cl + 16))
			break;
	}
	buf[got] = '\0';
	int status;
	if (sscanf(buf, "HTTP/1.1 %d ", &status) != 1)
		return -1;
	return status;
}

/* POST body with headers; the status. */
static int cl_post(struct cl *c, const char *auth, const char *body, size_t len)
{
	char h[512];
	int n = snprintf(h, sizeof(h),
			 "POST /k8s-audit HTTP/1.1\r\nHost: localhost\r\n%s%s%s"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			 auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "", len);
	if (cl_write(c, h, (size_t)n) || cl_write(c, body, len))
		return -1;
	return cl_status(c);
}

/* one request on a new connection */
static int post(int port, const char *cert, const char *auth, const char *body)
{
	struct cl c;
	cl_open(&c, port, cert);
	int s = cl_post(&c, auth, body, strlen(body));
	cl_close(&c);
	return s;
}

#define AUTH "Bearer " TOKEN

static char *event_list(int n, const char *tag)
{
	size_t cap = 256 + (size_t)n * 256;
	char *s = malloc(cap);
	size_t l = (size_t)snprintf(s, cap,
				    "{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\","
				    "\"items\":[");
	for (int i = 0; i < n; i++)
		l += (size_t)snprintf(s + l, cap - l,
				      "%s{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\","
				      "\"auditID\":\"%s-%d\",\"verb\":\"create\","
				      "\"stage\":\"ResponseComplete\"}",
				      i ? "," : "", tag, i);
	snprintf(s + l, cap - l, "]}");
	return s;
}

struct seen {
	char ids[64][32];
	size_t n;
};

static void on_event(void *ctx, const cJSON *ev)
{
	struct seen *s = ctx;
	const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "auditID"));
	if (s->n < 64)
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", id ? id : "?");
	s->n++;
}

/* ---- the tests ------------------------------------------------------------------ */

/* A valid EventList with the right certificate and token: 200, its events
 * queued in order; a single Event too; keep-alive serves several. */
static void test_accepts_eventlist(void **state)
{
	(void)state;
	struct vg_audit_opts o = base_opts();
	struct rx r;
	rx_start(&r, &o);
	char *body = event_list(3, "a");
	struct cl c;
	cl_open(&c, r.port, "apiserver");
	assert_int_equal(cl_post(&c, AUTH, body, strlen(body)), 200);
	const char *one = "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\","
			  "\"auditID\":\"single\"}";
	assert_int_equal(cl_post(&c, AUTH, one, strlen(one)), 200); /* same connection */
	cl_close(&c);
	struct seen s = {0};
	assert_int_equal(vg_audit_drain(r.a, on_event, &s, 100), 4);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.ids[0], "a-0");
	assert_string_equal(s.ids[1], "a-1");
	assert_string_equal(s.ids[2], "a-2");
	assert_string_equal(s.ids[3], "single");
	assert_true(requests(&r, "ok") == 2);
	assert_true(metric(&r, "vigil_audit_events_total", "queued") == 4);
	assert_int_equal(vg_audit_drain(r.a, on_event, &s, 100), 0);
	free(body);
	rx_stop(&r);
}

/* Wrong, missing certificate: 403; wrong or missing token: 401; all
 * counted, nothing queued, and the receiver keeps serving. */
static void test_refuses_unauthenticated(void **state)
{
	(void)state;
	struct vg_audit_opts o = base_opts();
	struct rx r;
	rx_start(&r, &o);
	char *body = event_list(1, "x");
	assert_int_equal(post(r.port, "intruder", AUTH, body), 403);
	assert_int_equal(post(r.port, NULL, AUTH, body), 403);
	assert_int_equal(post(r.port, "apiserver", "Bearer nope", body), 401);
	assert_int_equal(post(r.port, "apiserver", "Bearer " TOKEN "x", body), 401);
	assert_int_equal(post(r.port, "apiserver", NULL, body), 401);
	wait_requests(&r, "forbidden", 2);
	wait_requests(&r, "unauthorized", 3);
	struct seen s = {0};
	assert_int_equal(vg_audit_drain(r.a, on_event, &s, 100), 0);
	assert_int_equal(post(r.port, "apiserver", AUTH, body), 200);
	assert_int_equal(vg_audit_drain(r.a, on_event, &s, 100), 1);
	rx_stop(&r);

	/* token only: no certificate asked for; certificate only: no token */
	o = base_opts();
	o.client_ca = "";
	rx_start(&r, &o);
	assert_int_equal(post(r.port, NULL, AUTH, body), 200);
	assert_int_equal(post(r.port, NULL, "Bearer nope", body), 401);
	rx_stop(&r);
	o = base_opts();
	o.token_file = "";
	rx_start(&r, &o);
	assert_int_equal(post(r.port, "apiserver", NULL, body), 200);
	assert_int_equal(post(r.port, "intruder", NULL, body), 403);
	rx_stop(&r);
	free(body);
}

/* A Content-Length over the limit is answered 413 before any of the body
 * is sent, and the connection is closed long before a client that keeps
 * sending could push all of it. */
static void test_too_large(void **state)
{
	(void)state;
	struct vg_audit_opts o = base_opts();
	o.max_body_bytes = 4096;
	struct rx r;
	rx_start(&r, &o);
	struct cl c;
	cl_open(&c, r.port, "apiserver");
	const char *h = "POST /k8s-audit HTTP/1.1\r\nHost: localhost\r\nAuthorization: " AUTH
			"\r\nContent-Length: 1073741824\r\n\r\n";
	assert_int_equal(cl_write(&c, h, strlen(h)), 0);
	assert_int_equal(cl_status(&c), 413); /* not a byte of the body sent */
	wait_requests(&r, "too_large", 1);
	/* keep sending: the receiver stops reading and closes */
	static char chunk[65536];
	memset(chunk, ' ', sizeof(chunk));
	size_t sent = 0;
	uint64_t t0 = now_ms();
	while (sent < (64u << 20) && cl_write(&c, chunk, sizeof(chunk)) == 0)
		sent += sizeof(chunk);
	assert_true(sent < (64u << 20));
	assert_true(now_ms() - t0 < 5000);
	cl_close(&c);
	/* the same with the body sent in one go with the headers */
	char *small = event_list(1, "y");
	assert_int_equal(post(r.port, "apiserver", AUTH, small), 200);
	free(small);
	char *big = event_list(60, "big");
	assert_true(strlen(big) > 4096);
	assert_int_equal(post(r.port, "apiserver", AUTH, big), 413);
	wait_requests(&r, "too_large", 2);
	struct seen s = {0};
	assert_int_equal(vg_audit_drain(r.a, on_event, &s, 100), 1);
	free(big);
	rx_stop(&r);
}

/* Not JSON, not an EventList, an item not an object, too many events:
 * 400, counted, nothing queued. */
static void test_malformed(void **state)
{
	(void)state;
	struct vg_audit_opts o = base_opts();
	o.max_events = 5;
	struct rx r;
	rx_start(&r, &o);
	const char *bad[] = {
		"{\"kind\": \"EventList\",",
		"not json at all",
		"{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}",
		"{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1beta1\",\"items\":[]}",
		"{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":{}}",
		"{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[1]}",
		"[]",
	};
	size_t nbad = sizeof(bad) / sizeof(bad[0]);
	for (size_t i = 0; i < nbad; i++)
		if (post(r.port, "apiserver", AUTH, bad[i]) != 400)
			fail_msg("not refused with 400: %s", bad[i]);
	char *many = event_list(6, "m");
	assert_int_equal(post(r.port, "apiserver", AUTH, many), 400);
	free(many);
	wait_requests(&r, "malformed", (double)nbad + 1);
	assert_true(requests(&r, "ok") == 0);
	struct seen s = {0};
	assert_int_equal(vg_audit_drain(r.a, on_event, &s, 100), 0);
	rx_stop(&r);
}

/* A client trickling its headers a byte at a time, each within the read
 * timeout, is cut off within about twice timeout_ms; meanwhile other
 * clients are served at once.  A client that never finishes its handshake
 * is cut off too. */
static void test_slowloris(void **state)
{
	(void)state;
	struct vg_audit_opts o = base_opts();
	o.timeout_ms = 500;
	struct rx r;
	rx_start(&r, &o);
	int raw = tcp_connect(r.port); /* a TCP connection, no TLS */
	struct cl slow;
	cl_open(&slow, r.port, "apiserver");
	fcntl(slow.fd, F_SETFL, fcntl(slow.fd, F_GETFL) | O_NONBLOCK); /* see below */
	const char *h = "POST /k8s-audit HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	char *body = event_list(1, "fast");
	uint64_t t0 = now_ms(), cut = 0;
	bool served = false;
	for (size_t i = 0; i < strlen(h) && !cut; i++) {
		if (cl_write(&slow, h + i, 1)) {
			cut = now_ms();
			break;
		}
		if (i == 3) { /* another client meanwhile, on time */
			uint64_t s0 = now_ms();
			assert_int_equal(post(r.port, "apiserver", AUTH, body), 200);
			assert_true(now_ms() - s0 < 400);
			served = true;
		}
		/* did the receiver close it?  (a write into a closed socket may
		 * still succeed once) */
		struct pollfd p = {slow.fd, POLLIN, 0};
		if (poll(&p, 1, 100) > 0) { /* session tickets, or the end */
			char b[64];
			int n = SSL_read(slow.ssl, b, sizeof(b));
			if (n <= 0 && SSL_get_error(slow.ssl, n) != SSL_ERROR_WANT_READ)
				cut = now_ms();
		}
	}
	assert_true(served);
	if (!cut)
		fail_msg("a trickling client was served for %llu ms",
			 (unsigned long long)(now_ms() - t0));
	assert_true(cut - t0 < 2000);
	wait_requests(&r, "timeout", 2); /* the handshake that never came, the trickle */
	char b[8];
	assert_true(read(raw, b, sizeof(b)) <= 0); /* closed by the receiver */
	close(raw);
	cl_close(&slow);
	struct seen s = {0};
	assert_int_equal(vg_audit_drain(r.a, on_event, &s, 100), 1);
	free(body);
	rx_stop(&r);
}

/* A full queue: the batch is answered at once (the API server is never
 * held), dropped and counted; drained, the queue takes batches again. */
static void test_queue_full(void **state)
{
	(void)state;
	char *b1 = event_list(3, "q1"), *b2 = event_list(4, "q2"), *b3 = event_list(2, "q3");
	struct vg_audit_opts o = base_opts();
	o.queue_bytes = strlen(b1) + strlen(b2) - 1; /* room for one of them */
	struct rx r;
	rx_start(&r, &o);
	struct cl c;
	cl_open(&c, r.port, "apiserver");
	assert_int_equal(cl_post(&c, AUTH, b1, strlen(b1)), 200);
	uint64_t t0 = now_ms();
	assert_int_equal(cl_post(&c, AUTH, b2, strlen(b2)), 200);
	assert_true(now_ms() - t0 < 1000);
	assert_int_equal(vg_audit_take_drops(r.a), 4);
	assert_int_equal(vg_audit_take_drops(r.a), 0);
	assert_true(metric(&r, "vigil_audit_events_total", "dropped") == 4);
	assert_true(metric(&r, "vigil_audit_events_total", "queued") == 3);
	struct seen s = {0};
	assert_int_equal(vg_audit_drain(r.a, on_event, &s, 100), 3);
	assert_string_equal(s.ids[0], "q1-0");
	assert_int_equal(cl_post(&c, AUTH, b3, strlen(b3)), 200);
	assert_int_equal(vg_audit_drain(r.a, on_event, &s, 100), 2);
	assert_string_equal(s.ids[3], "q3-0");
	assert_int_equal(vg_audit_take_drops(r.a), 0);
	cl_close(&c);
	free(b1);
	free(b2);
	free(b3);
	rx_stop(&r);
}

/* In a process that does not ignore SIGPIPE (a library user, not vigil's
 * main), writes to a peer that left, and the close_notify after
 * vg_audit_free shut the sockets down, must not kill it.  In a child, as
 * the signal would end the test program. */
static void test_no_sigpipe(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		struct vg_audit_opts o = base_opts();
		char err[512];
		struct vg_audit *a = vg_audit_new(&o, NULL, err, sizeof(err));
		if (!a || vg_audit_start(a, err, sizeof(err)))
			_exit(3);
		int port = vg_audit_port(a);
		char *body = event_list(50, "p");
		for (int i = 0; i < 5; i++) { /* a request, then gone before the answer */
			struct cl c;
			cl_open(&c, port, "apiserver");
			char h[256];
			int n = snprintf(h, sizeof(h),
					 "POST /k8s-audit HTTP/1.1\r\nAuthorization: " AUTH
					 "\r\nContent-Length: %zu\r\n\r\n",
					 strlen(body));
			cl_write(&c, h, (size_t)n);
			cl_write(&c, body, strlen(body));
			struct linger l = {1, 0}; /* a reset, not a polite close */
			setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			cl_close(&c);
		}
		struct cl idle[3]; /* open while the receiver is freed */
		for (int i = 0; i < 3; i++) {
			cl_open(&idle[i], port, "apiserver");
			cl_write(&idle[i], "POST /k8s", 9);
		}
		sleep_ms(200);
		vg_audit_free(a);
		for (int i = 0; i < 3; i++)
			cl_close(&idle[i]);
		free(body);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the receiver's process died of signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The threads of this process that have not begun to exit.  A joined
 * thread may still be listed for a moment (the kernel wakes pthread_join
 * from inside the thread's exit, before it is gone from /proc), but with
 * PF_EXITING (0x4) in its flags, which the kernel sets before that wake. */
static int nthreads(void)
{
	DIR *d = opendir("/proc/self/task");
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		char p[300], line[512];
		snprintf(p, sizeof(p), "/proc/self/task/%s/stat", e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue; /* gone meanwhile */
		char *rp = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		fclose(f);
		unsigned long flags = 0;
		/* after the name: state ppid pgrp session tty_nr tpgid flags */
		if (rp && sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
		    !(flags & 0x4))
			n++;
	}
	closedir(d);
	return n;
}

/* vg_audit_free returns once every thread of the receiver has ended, the
 * connections' too: a thread still ending (in OpenSSL's thread-exit
 * handlers, which take its global locks) when the process forks leaves
 * those locks held in the child, whose first TLS call then hangs.  Here
 * the connections end just before the free, the worst case. */
static void test_free_joins_threads(void **state)
{
	(void)state;
	int before = nthreads();
	char *body = event_list(1, "j");
	for (int round = 0; round < 60; round++) {
		struct vg_audit_opts o = base_opts();
		struct rx r;
		rx_start(&r, &o);
		struct cl c[4];
		for (int i = 0; i < 4; i++) {
			cl_open(&c[i], r.port, "apiserver");
			assert_int_equal(cl_post(&c[i], AUTH, body, strlen(body)), 200);
		}
		for (int i = 0; i < 4; i++)
			cl_close(&c[i]);
		rx_stop(&r);
		assert_int_equal(nthreads(), before);
	}
	free(body);
}

/* Configuration errors name the key. */
static void test_config_errors(void **state)
{
	(void)state;
	char err[512] = "";
	struct vg_audit_opts o = base_opts();
	o.client_ca = "";
	o.token_file = "";
	assert_null(vg_audit_new(&o, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "client_ca and/or token_file"));
	o = base_opts();
	o.tls_key = path("apiserver.key");
	assert_null(vg_audit_new(&o, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "audit.tls_key"));
	o = base_opts();
	o.token_file = "/nonexistent/token";
	assert_null(vg_audit_new(&o, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "audit.token_file /nonexistent/token"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_eventlist),
		cmocka_unit_test(test_refuses_unauthenticated),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_slowloris),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_no_sigpipe),
		cmocka_unit_test(test_free_joins_threads),
		cmocka_unit_test(test_config_errors),
	};
	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
