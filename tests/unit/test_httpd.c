/* The HTTP endpoint: a real server on loopback, a plain socket client. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <setjmp.h>
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

#include "httpd.h"
#include "metrics.h"

extern char **environ;

struct resp {
	int status;
	char head[2048]; /* status line and headers */
	char *body;
	size_t len;
};

static int connect_port(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_all(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(fd, s, n);
		assert_true(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

/* Reads one response (headers, then Content-Length bytes). */
static void read_resp(int fd, struct resp *r)
{
	memset(r, 0, sizeof(*r));
	size_t hl = 0;
	char *eoh = NULL;
	while (!eoh) {
		assert_true(hl < sizeof(r->head) - 1);
		ssize_t n = read(fd, r->head + hl, 1); /* byte by byte: no over-read */
		if (n <= 0)
			fail_msg("connection ended in the headers after %zu bytes: \"%s\"", hl,
				 r->head);
		hl++;
		r->head[hl] = '\0';
		eoh = strstr(r->head, "\r\n\r\n");
	}
	assert_int_equal(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1);
	const char *cl = strcasestr(r->head, "\r\ncontent-length: ");
	assert_non_null(cl);
	r->len = strtoul(cl + 18, NULL, 10);
	r->body = malloc(r->len + 1);
	size_t got = 0;
	while (got < r->len) {
		ssize_t n = read(fd, r->body + got, r->len - got);
		if (n <= 0)
			fail_msg("body ended at %zu of %zu bytes", got, r->len);
		got += (size_t)n;
	}
	r->body[r->len] = '\0';
}

static void request(int port, const char *req, struct resp *r)
{
	int fd = connect_port(port);
	assert_true(fd >= 0);
	send_all(fd, req);
	read_resp(fd, r);
	close(fd);
}

static void get(int port, const char *path, struct resp *r)
{
	char req[512];
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\nConnection: "
		 "close\r\n\r\n",
		 path);
	request(port, req, r);
}

static bool has_header(const struct resp *r, const char *line)
{
	char want[256];
	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return strcasestr(r->head, want) != NULL;
}

static struct vg_metrics *small_registry(void)
{
	struct vg_metrics *m = vg_metrics_new();
	struct vg_metric_desc d = {
		.name = "t_scrapes_total", .help = "h", .type = VG_METRIC_COUNTER, .labels = {"k"}};
	char err[256];
	struct vg_metric_family *f = vg_metrics_add(m, &d, err, sizeof(err));
	assert_non_null(f);
	vg_metric_add(vg_metric_labels(f, "a\"b"), 7);
	return m;
}

static struct vg_httpd *start(struct vg_metrics *m, unsigned required)
{
	char err[256] = "";
	struct vg_httpd_config cfg = {.listen = "127.0.0.1:0", .metrics = m, .required = required};
	struct vg_httpd *h = vg_httpd_start(&cfg, err, sizeof(err));
	if (!h)
		fail_msg("start: %s", err);
	assert_true(vg_httpd_port(h) > 0);
	return h;
}

static void test_endpoints(void **state)
{
	(void)state;
	struct vg_metrics *m = small_registry();
	struct vg_httpd *h = start(m, VG_READY_PROBES | VG_READY_RULES);
	int port = vg_httpd_port(h);
	struct resp r;

	get(port, "/metrics", &r);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "content-type: text/plain; version=0.0.4; charset=utf-8"));
	assert_string_equal(r.body, "# HELP t_scrapes_total h\n"
				    "# TYPE t_scrapes_total counter\n"
				    "t_scrapes_total{k=\"a\\\"b\"} 7\n");
	free(r.body);

	get(port, "/metrics?x=1", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "t_scrapes_total{"));
	free(r.body);

	get(port, "/healthz", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	free(r.body);

	get(port, "/readyz", &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "not ready: probes not attached, rules not loaded\n");
	free(r.body);

	vg_httpd_set_ready(h, VG_READY_PROBES, true);
	get(port, "/readyz", &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "not ready: rules not loaded\n");
	free(r.body);

	vg_httpd_set_ready(h, VG_READY_RULES, true);
	get(port, "/readyz", &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "ok\n");
	free(r.body);

	/* a condition that is not required does not matter; losing one does */
	vg_httpd_set_ready(h, VG_READY_INFORMERS, false);
	get(port, "/readyz", &r);
	assert_int_equal(r.status, 200);
	free(r.body);
	vg_httpd_set_ready(h, VG_READY_PROBES, false);
	get(port, "/readyz", &r);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "not ready: probes not attached\n");
	free(r.body);

	get(port, "/nope", &r);
	assert_int_equal(r.status, 404);
	free(r.body);
	get(port, "/metrics/x", &r);
	assert_int_equal(r.status, 404);
	free(r.body);

	request(port,
		"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
		"Content-Length: 5\r\nConnection: close\r\n\r\nhello",
		&r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "allow: GET"));
	free(r.body);
	request(port, "DELETE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
	assert_int_equal(r.status, 405);
	free(r.body);

	vg_httpd_stop(h);
	/* stopped means closed */
	assert_int_equal(connect_port(port), -1);
	vg_metrics_free(m);
}

static void test_keepalive(void **state)
{
	(void)state;
	struct vg_metrics *m = small_registry();
	struct vg_httpd *h = start(m, 0); /* nothing required: ready at once */
	int fd = connect_port(vg_httpd_port(h));
	assert_true(fd >= 0);
	struct resp r;
	/* a body-carrying 405 keeps the connection in step for the next request */
	send_all(fd, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
	read_resp(fd, &r);
	assert_int_equal(r.status, 405);
	free(r.body);
	const char *paths[] = {"/healthz", "/readyz", "/metrics", "/x", "/healthz"};
	const int want[] = {200, 200, 200, 404, 200};
	for (int i = 0; i < 5; i++) {
		char req[256];
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[i]);
		send_all(fd, req);
		read_resp(fd, &r);
		assert_int_equal(r.status, want[i]);
		free(r.body);
	}
	close(fd);
	/* stop with an idle keep-alive connection open */
	fd = connect_port(vg_httpd_port(h));
	send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	read_resp(fd, &r);
	free(r.body);
	vg_httpd_stop(h);
	close(fd);
	vg_metrics_free(m);
}

/* A body of megabytes to a client that does not read for a while: the
 * server must write it in pieces, stay responsive, and lose nothing. */
static void test_large_body_slow_client(void **state)
{
	(void)state;
	struct vg_metrics *m = vg_metrics_new();
	struct vg_metric_desc d = {.name = "t_big_total",
				   .help = "h",
				   .type = VG_METRIC_COUNTER,
				   .labels = {"k"},
				   .max_series = 20000};
	char err[256];
	struct vg_metric_family *f = vg_metrics_add(m, &d, err, sizeof(err));
	assert_non_null(f);
	char label[200];
	for (int i = 0; i < 20000; i++) {
		snprintf(label, sizeof(label), "series-%05d-%0120d", i, i);
		vg_metric_add(vg_metric_labels(f, label), (uint64_t)i);
	}
	size_t want_len;
	char *want = vg_metrics_render(m, &want_len);
	assert_true(want_len > 2 * 1024 * 1024);

	struct vg_httpd *h = start(m, 0);
	int port = vg_httpd_port(h);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct timeval tv = {.tv_sec = 10};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	send_all(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	usleep(300 * 1000);

	/* the stalled transfer does not block other clients */
	struct resp r;
	get(port, "/healthz", &r);
	assert_int_equal(r.status, 200);
	free(r.body);

	read_resp(fd, &r);
	close(fd);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, want_len);
	assert_memory_equal(r.body, want, want_len);
	free(r.body);
	free(want);
	vg_httpd_stop(h);
	vg_metrics_free(m);
}

static void test_listen_errors(void **state)
{
	(void)state;
	char err[256];
	struct vg_httpd *h = start(NULL, 0);
	char busy[64];
	snprintf(busy, sizeof(busy), "127.0.0.1:%d", vg_httpd_port(h));
	struct vg_httpd_config cfg = {.listen = busy};
	err[0] = '\0';
	assert_null(vg_httpd_start(&cfg, err, sizeof(err)));
	char want[128];
	snprintf(want, sizeof(want), "listen %s: Address already in use", busy);
	assert_string_equal(err, want);

	/* without a registry /metrics does not exist */
	struct resp r;
	get(vg_httpd_port(h), "/metrics", &r);
	assert_int_equal(r.status, 404);
	free(r.body);
	vg_httpd_stop(h);

	const struct {
		const char *listen, *msg;
	} bad[] = {
		{"8765", "listen \"8765\": expected host:port"},
		{"127.0.0.1:65536", "listen \"127.0.0.1:65536\": port must be 0..65535"},
		{"127.0.0.1:", "listen \"127.0.0.1:\": port must be 0..65535"},
		{"127.0.0.1:80x", "listen \"127.0.0.1:80x\": port must be 0..65535"},
		{"::1:8765", "listen \"::1:8765\": an IPv6 address needs brackets"},
		{"[::1:8765", "listen \"[::1:8765\": expected [address]:port"},
		{"[nope]:1", "listen \"[nope]:1\": not an IPv6 address"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.listen = bad[i].listen;
		err[0] = '\0';
		assert_null(vg_httpd_start(&cfg, err, sizeof(err)));
		assert_string_equal(err, bad[i].msg);
	}
	cfg.listen = "127.0.0.1:0";
	cfg.tls_cert = "/nonexistent/cert.pem";
	cfg.tls_key = "/nonexistent/key.pem";
	assert_null(vg_httpd_start(&cfg, err, sizeof(err)));
	assert_string_equal(err,
			    "tls certificate /nonexistent/cert.pem: No such file or directory");
	cfg.tls_key = NULL;
	assert_null(vg_httpd_start(&cfg, err, sizeof(err)));
	assert_string_equal(err, "tls: both a certificate and a key are needed");
}

/* A host name is resolved and its address bound (before, lws took it for
 * an interface name and listened nowhere); vg_httpd_address says where. */
static void test_listen_host_name(void **state)
{
	(void)state;
	char err[256] = "";
	struct vg_httpd_config cfg = {.listen = "localhost:0"};
	struct vg_httpd *h = vg_httpd_start(&cfg, err, sizeof(err));
	if (!h)
		fail_msg("%s", err);
	char want4[64], want6[64];
	snprintf(want4, sizeof(want4), "127.0.0.1:%d", vg_httpd_port(h));
	snprintf(want6, sizeof(want6), "[::1]:%d", vg_httpd_port(h));
	const char *at = vg_httpd_address(h);
	if (strcmp(at, want4) && strcmp(at, want6))
		fail_msg("listens on %s", at);
	int fd = -1;
	if (!strcmp(at, want4)) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET,
					  .sin_port = htons(vg_httpd_port(h))};
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	} else {
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
					    .sin6_port = htons(vg_httpd_port(h))};
		sin6.sin6_addr = in6addr_loopback;
		assert_int_equal(connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	}
	send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	struct resp r;
	read_resp(fd, &r);
	assert_int_equal(r.status, 200);
	free(r.body);
	close(fd);
	vg_httpd_stop(h);

	cfg.listen = "127.0.0.1:0";
	h = vg_httpd_start(&cfg, err, sizeof(err));
	assert_non_null(h);
	snprintf(want4, sizeof(want4), "127.0.0.1:%d", vg_httpd_port(h));
	assert_string_equal(vg_httpd_address(h), want4);
	vg_httpd_stop(h);

	const struct {
		const char *listen, *msg;
	} bad[] = {
		{"256.1.1.1:8765", "listen \"256.1.1.1:8765\": not an IPv4 address"},
		{"no-such-host.invalid:8765",
		 "listen \"no-such-host.invalid:8765\": cannot resolve 'no-such-host.invalid': "},
		/* an address of no interface here */
		{"192.0.2.1:0", "listen 192.0.2.1:0: Cannot assign requested address"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.listen = bad[i].listen;
		err[0] = '\0';
		h = vg_httpd_start(&cfg, err, sizeof(err));
		if (h)
			fail_msg("%s: listening on %s", bad[i].listen, vg_httpd_address(h));
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("%s: '%s'", bad[i].listen, err);
	}
}

/* IPv6 loopback and the dual-stack wildcard. */
static void test_ipv6(void **state)
{
	(void)state;
	char err[256] = "";
	struct vg_httpd_config cfg = {.listen = "[::1]:0"};
	struct vg_httpd *h = vg_httpd_start(&cfg, err, sizeof(err));
	if (!h) {
		/* a machine without IPv6 loopback: nothing to test */
		if (strstr(err, "Cannot assign requested address")) {
			skip();
			return;
		}
		fail_msg("%s", err);
	}
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(vg_httpd_port(h))};
	sin6.sin6_addr = in6addr_loopback;
	assert_int_equal(connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	struct resp r;
	read_resp(fd, &r);
	assert_int_equal(r.status, 200);
	free(r.body);
	close(fd);
	vg_httpd_stop(h);

	cfg.listen = ":0"; /* every address: IPv4 reaches it too */
	h = vg_httpd_start(&cfg, err, sizeof(err));
	if (!h)
		fail_msg("%s", err);
	get(vg_httpd_port(h), "/healthz", &r);
	assert_int_equal(r.status, 200);
	free(r.body);
	vg_httpd_stop(h);
}

/* A throwaway key and self-signed certificate for the TLS test. */
static void make_cert(const char *cert_path, const char *key_path)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	assert_non_null(pkey);
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pkey);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1,
				   -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	FILE *fp = fopen(cert_path, "w");
	assert_non_null(fp);
	PEM_write_X509(fp, x);
	fclose(fp);
	fp = fopen(key_path, "w");
	assert_non_null(fp);
	PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

static void test_tls(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-httpd-tls-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cert[64], key[64];
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	make_cert(cert, key);

	struct vg_metrics *m = small_registry();
	char err[256] = "";
	struct vg_httpd_config cfg = {
		.listen = "127.0.0.1:0", .metrics = m, .tls_cert = cert, .tls_key = key};
	struct vg_httpd *h = vg_httpd_start(&cfg, err, sizeof(err));
	if (!h)
		fail_msg("start: %s", err);

	SSL_CTX *sctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(sctx);
	assert_int_equal(SSL_CTX_load_verify_locations(sctx, cert, NULL), 1);
	SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER, NULL);
	int fd = connect_port(vg_httpd_port(h));
	assert_true(fd >= 0);
	SSL *ssl = SSL_new(sctx);
	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "localhost");
	if (SSL_connect(ssl) != 1)
		fail_msg("TLS handshake failed: %lu", ERR_get_error());
	const char *req = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	assert_int_equal(SSL_write(ssl, req, (int)strlen(req)), (int)strlen(req));
	char buf[8192];
	size_t got = 0;
	for (;;) {
		int n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 - got));
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "} 7\n"))
			break;
	}
	buf[got] = '\0';
	assert_true(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
	assert_non_null(strstr(buf, "\r\n\r\n# HELP t_scrapes_total h\n"));
	assert_non_null(strstr(buf, "t_scrapes_total{k=\"a\\\"b\"} 7\n"));
	SSL_free(ssl);
	SSL_CTX_free(sctx);
	close(fd);

	/* plain HTTP on the TLS port gets no HTTP answer */
	fd = connect_port(vg_httpd_port(h));
	send_all(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	ssize_t n = read(fd, buf, sizeof(buf));
	assert_true(n <= 0 || strncmp(buf, "HTTP/1.1 200", 12) != 0);
	close(fd);

	vg_httpd_stop(h);
	vg_metrics_free(m);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

/* HTTP/2 over TLS (ALPN) with a body of many frames, through curl when it
 * is installed with HTTP/2: the stream must end with the whole body. */
static void test_tls_h2_curl(void **state)
{
	(void)state;
	if (access("/usr/bin/curl", X_OK)) {
		skip();
		return;
	}
	char dir[] = "/tmp/vigil-httpd-h2-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cert[64], key[64], out[64];
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(out, sizeof(out), "%s/body", dir);
	make_cert(cert, key);

	struct vg_metrics *m = vg_metrics_new();
	struct vg_metric_desc d = {.name = "t_big_total",
				   .help = "h",
				   .type = VG_METRIC_COUNTER,
				   .labels = {"k"},
				   .max_series = 10000};
	char err[256];
	struct vg_metric_family *f = vg_metrics_add(m, &d, err, sizeof(err));
	assert_non_null(f);
	char label[128];
	for (int i = 0; i < 10000; i++) {
		snprintf(label, sizeof(label), "s%05d-%080d", i, i);
		vg_metric_inc(vg_metric_labels(f, label));
	}
	size_t want_len;
	char *want = vg_metrics_render(m, &want_len);
	struct vg_httpd_config cfg = {
		.listen = "127.0.0.1:0", .metrics = m, .tls_cert = cert, .tls_key = key};
	struct vg_httpd *h = vg_httpd_start(&cfg, err, sizeof(err));
	if (!h)
		fail_msg("start: %s", err);

	for (int round = 0; round < 3; round++) {
		char *argv[] = {"curl",
				"-sS",
				"--http2",
				"--cacert",
				cert,
				"--resolve",
				NULL,
				"-o",
				out,
				"-w",
				"%{http_version} %{http_code}",
				"--max-time",
				"10",
				NULL,
				NULL};
		char resolve[64], url_host[64];
		snprintf(resolve, sizeof(resolve), "localhost:%d:127.0.0.1", vg_httpd_port(h));
		snprintf(url_host, sizeof(url_host), "https://localhost:%d/metrics",
			 vg_httpd_port(h));
		argv[6] = resolve;
		argv[13] = url_host;
		char status_path[80];
		snprintf(status_path, sizeof(status_path), "%s/status", dir);
		int sfd = open(status_path, O_CREAT | O_TRUNC | O_RDWR, 0600);
		assert_true(sfd >= 0);
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, sfd, 1);
		pid_t pid;
		assert_int_equal(posix_spawn(&pid, "/usr/bin/curl", &fa, NULL, argv, environ), 0);
		posix_spawn_file_actions_destroy(&fa);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		char got_status[64] = "";
		lseek(sfd, 0, SEEK_SET);
		ssize_t n = read(sfd, got_status, sizeof(got_status) - 1);
		got_status[n > 0 ? n : 0] = '\0';
		close(sfd);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		if (!strcmp(got_status, "1.1 200")) { /* curl without HTTP/2 */
			skip();
			break;
		}
		assert_string_equal(got_status, "2 200");
		FILE *fp = fopen(out, "r");
		assert_non_null(fp);
		char *body = malloc(want_len + 1);
		size_t blen = fread(body, 1, want_len + 1, fp);
		fclose(fp);
		assert_int_equal(blen, want_len);
		assert_memory_equal(body, want, want_len);
		free(body);
		unlink(status_path);
	}
	vg_httpd_stop(h);
	free(want);
	vg_metrics_free(m);
	unlink(out);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_large_body_slow_client),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_listen_host_name),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_tls_h2_curl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
