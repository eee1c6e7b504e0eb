/* audit_rx.c - the audit webhook's HTTPS listener and its queue; see audit.h.
 *
 * OpenSSL on a thread per connection, at most max_connections of them (one
 * more is accepted and closed at once, counted): the API server keeps one
 * or a few connections open and posts batches on them.  The sockets are
 * non-blocking and every wait is a poll() against a deadline, so that a
 * peer trickling its handshake or headers a byte at a time (slowloris)
 * holds its thread for a bounded time, not for as long as it keeps a byte
 * coming within each read timeout: a connection waits timeout_ms for the
 * first byte of a request (or the end of the handshake), then the whole
 * request must arrive within timeout_ms of that byte.  The body is read
 * only after the headers pass: a Content-Length over max_body_bytes is
 * refused before a byte of it is read.
 *
 * A client certificate is checked after the handshake, not during it, so
 * that a missing or untrusted one gets an HTTP 403 the API server logs
 * (counted as "forbidden") instead of a bare TLS alert.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define HDR_MAX 16384

/* why a request was answered as it was: vigil_audit_requests_total{result} */
enum result {
	RES_OK,
	RES_TLS,	  /* handshake failed: not TLS, no common protocol... */
	RES_FORBIDDEN,	  /* no client certificate, or one audit.client_ca did not sign */
	RES_UNAUTHORIZED, /* missing or wrong bearer token */
	RES_TOO_LARGE,	  /* body over max_body_bytes */
	RES_MALFORMED,	  /* not an audit.k8s.io/v1 EventList */
	RES_BAD_REQUEST,  /* not HTTP we take: headers, length, chunked... */
	RES_NOT_FOUND,	  /* another path */
	RES_METHOD,	  /* not POST */
	RES_BUSY,	  /* over max_connections */
	RES_TIMEOUT,	  /* a handshake or request not complete within timeout_ms */
	RES_NRESULTS,
};
static const char *const result_names[RES_NRESULTS] = {
	"ok",	       "tls",	    "forbidden", "unauthorized", "too_large", "malformed",
	"bad_request", "not_found", "method",	 "busy",	 "timeout"};

struct batch {
	struct batch *next;
	cJSON *doc;
	const cJSON *next_ev; /* the next event to hand out */
	size_t bytes;
};

struct vg_audit {
	struct vg_audit_opts o;
	char *path, *token;
	SSL_CTX *ctx;
	int lfd, port;
	int stop_pipe[2];
	pthread_t acceptor;
	bool started;
	_Atomic bool stopping;

	pthread_mutex_t mu; /* the queue and the connection list */
	pthread_cond_t idle;
	pthread_cond_t queued; /* a batch was queued (vg_audit_wait) */
	struct batch *head, *tail;
	size_t qbytes;
	uint64_t drops_pending;
	int *conns; /* fds of the open connections */
	size_t nconns;
	/* connections whose thread has ended or is ending: joined (by the
	 * acceptor, or by vg_audit_free) before they are freed, so that no
	 * thread of ours runs after vg_audit_free returned, not even in
	 * OpenSSL's thread-exit handlers (a fork meanwhile would copy their
	 * locks held into the child) */
	struct conn *done;

	struct vg_metric_series *m_req[RES_NRESULTS];
	struct vg_metric_series *m_ev_queued, *m_ev_dropped, *m_ev_done;
	struct vg_metric_series *m_qbytes;
};

static void count(struct vg_audit *a, enum result r)
{
	vg_metric_inc(a->m_req[r]);
}

/* ---- setup ---------------------------------------------------------------- */

static char *read_token(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "audit.token_file %s: %s", path, strerror(errno));
		return NULL;
	}
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (!n) {
		snprintf(err, errlen, "audit.token_file %s is empty", path);
		return NULL;
	}
	return vg_xstrdup(buf);
}

static int tls_error(char *err, size_t errlen, const char *what, const char *path)
{
	char e[256];
	ERR_error_string_n(ERR_get_error(), e, sizeof(e));
	snprintf(err, errlen, "%s %s: %s", what, path, e);
	return -1;
}

/* The verification's verdict on the client's chain, noted on the
 * connection instead of failing the handshake: any error marks it bad. */
static int note_verify(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	bool *bad = ssl ? SSL_get_app_data(ssl) : NULL;
	if (!ok && bad)
		*bad = true;
	return 1;
}

static int setup_tls(struct vg_audit *a, char *err, size_t errlen)
{
	a->ctx = SSL_CTX_new(TLS_server_method());
	if (!a->ctx)
		return tls_error(err, errlen, "TLS", "context");
	SSL_CTX_set_min_proto_version(a->ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(a->ctx, a->o.tls_cert) != 1)
		return tls_error(err, errlen, "audit.tls_cert", a->o.tls_cert);
	if (SSL_CTX_use_PrivateKey_file(a->ctx, a->o.tls_key, SSL_FILETYPE_PEM) != 1)
		return tls_error(err, errlen, "audit.tls_key", a->o.tls_key);
	if (SSL_CTX_check_private_key(a->ctx) != 1)
		return tls_error(err, errlen, "audit.tls_key", "does not match audit.tls_cert");
	if (a->o.client_ca && *a->o.client_ca) {
		if (SSL_CTX_load_verify_locations(a->ctx, a->o.client_ca, NULL) != 1)
			return tls_error(err, errlen, "audit.client_ca", a->o.client_ca);
		/* ask for a certificate, judge it in the request (see the top) */
		SSL_CTX_set_verify(a->ctx, SSL_VERIFY_PEER, note_verify);
	}
	return 0;
}

static int setup_listen(struct vg_audit *a, char *err, size_t errlen)
{
	/* the one host:port parser: what the configuration accepts, [v6]:port too */
	char host[256], why[128], port[8];
	int p, family;
	if (vg_config_parse_hostport(a->o.listen, host, sizeof(host), &p, &family, why,
				     sizeof(why))) {
		snprintf(err, errlen, "audit.listen '%s': %s", a->o.listen, why);
		return -1;
	}
	snprintf(port, sizeof(port), "%d", p);
	const char *h = host;
	struct addrinfo hints = {0}, *res;
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int rc = getaddrinfo(*h ? h : NULL, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "audit.listen '%s': %s", a->o.listen, gai_strerror(rc));
		return -1;
	}
	a->lfd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (a->lfd >= 0)
		setsockopt(a->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->lfd < 0 || bind(a->lfd, res->ai_addr, res->ai_addrlen) || listen(a->lfd, 64)) {
		snprintf(err, errlen, "audit.listen '%s': %s", a->o.listen, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(a->lfd, (struct sockaddr *)&ss, &sl);
	a->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static void setup_metrics(struct vg_audit *a, struct vg_metrics *reg)
{
	if (!reg)
		return;
	char err[256];
	struct vg_metric_desc req = {
		.name = "vigil_audit_requests_total",
		.help = "Audit webhook requests by result: ok, or why they were refused (tls, "
			"forbidden, unauthorized, too_large, malformed, bad_request, not_found, "
			"method, busy, timeout).",
		.type = VG_METRIC_COUNTER,
		.labels = {"result", NULL},
	};
	struct vg_metric_family *f = vg_metrics_add(reg, &req, err, sizeof(err));
	for (int r = 0; f && r < RES_NRESULTS; r++)
		a->m_req[r] = vg_metric_labels(f, result_names[r]);
	struct vg_metric_desc ev = {
		.name = "vigil_audit_events_total",
		.help = "Audit events received: queued for the rules, dropped (the queue was "
			"full), "
			"evaluated.",
		.type = VG_METRIC_COUNTER,
		.labels = {"result", NULL},
	};
	f = vg_metrics_add(reg, &ev, err, sizeof(err));
	if (f) {
		a->m_ev_queued = vg_metric_labels(f, "queued");
		a->m_ev_dropped = vg_metric_labels(f, "dropped");
		a->m_ev_done = vg_metric_labels(f, "evaluated");
	}
	struct vg_metric_desc q = {
		.name = "vigil_audit_queue_bytes",
		.help = "Bytes of audit request bodies waiting for the rules.",
		.type = VG_METRIC_GAUGE,
	};
	f = vg_metrics_add(reg, &q, err, sizeof(err));
	if (f)
		a->m_qbytes = vg_metric_series(f, NULL);
}

struct vg_audit *vg_audit_new(const struct vg_audit_opts *o, struct vg_metrics *reg, char *err,
			      size_t errlen)
{
	if (!o->tls_cert || !*o->tls_cert || !o->tls_key || !*o->tls_key) {
		snprintf(err, errlen, "audit: tls_cert and tls_key are required (HTTPS only)");
		return NULL;
	}
	bool ca = o->client_ca && *o->client_ca, tok = o->token_file && *o->token_file;
	if (!ca && !tok) {
		snprintf(err, errlen,
			 "audit: set client_ca and/or token_file: the API server must be "
			 "authenticated");
		return NULL;
	}
	struct vg_audit *a = vg_xcalloc(1, sizeof(*a));
	a->o = *o;
	a->lfd = -1;
	a->stop_pipe[0] = a->stop_pipe[1] = -1;
	a->path = vg_xstrdup(o->path && *o->path ? o->path : "/k8s-audit");
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->idle, NULL);
	pthread_condattr_t cattr;
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&a->queued, &cattr);
	pthread_condattr_destroy(&cattr);
	a->conns = vg_xcalloc(o->max_connections + 1, sizeof(int));
	if ((tok && !(a->token = read_token(o->token_file, err, errlen))) ||
	    setup_tls(a, err, errlen) || setup_listen(a, err, errlen) ||
	    pipe2(a->stop_pipe, O_CLOEXEC)) {
		if (!*err)
			snprintf(err, errlen, "audit: %s", strerror(errno));
		vg_audit_free(a);
		return NULL;
	}
	setup_metrics(a, reg);
	return a;
}

int vg_audit_port(const struct vg_audit *a)
{
	return a->port;
}

/* ---- the queue -------------------------------------------------------------- */

static void queue_push(struct vg_audit *a, cJSON *doc, const cJSON *events, size_t n, size_t bytes)
{
	pthread_mutex_lock(&a->mu);
	if (a->qbytes + bytes > a->o.queue_bytes) {
		a->drops_pending += n;
		pthread_mutex_unlock(&a->mu);
		vg_metric_add(a->m_ev_dropped, n);
		cJSON_Delete(doc);
		return;
	}
	struct batch *b = vg_xcalloc(1, sizeof(*b));
	b->doc = doc;
	b->next_ev = events ? events->child : doc;
	b->bytes = bytes;
	if (a->tail)
		a->tail->next = b;
	else
		a->head = b;
	a->tail = b;
	a->qbytes += bytes;
	vg_metric_set(a->m_qbytes, (double)a->qbytes);
	pthread_cond_signal(&a->queued);
	pthread_mutex_unlock(&a->mu);
	vg_metric_add(a->m_ev_queued, n);
}

size_t vg_audit_drain(struct vg_audit *a, vg_audit_fn fn, void *ctx, size_t max)
{
	size_t done = 0;
	while (done < max) {
		pthread_mutex_lock(&a->mu);
		struct batch *b = a->head;
		if (b) { /* take the whole batch: the rules run without the lock */
			a->head = b->next;
			if (!a->head)
				a->tail = NULL;
			a->qbytes -= b->bytes;
			vg_metric_set(a->m_qbytes, (double)a->qbytes);
		}
		pthread_mutex_unlock(&a->mu);
		if (!b)
			break;
		bool single = b->next_ev == b->doc;
		for (const cJSON *e = b->next_ev; e; e = single ? NULL : e->next) {
			fn(ctx, e);
			done++;
		}
		cJSON_Delete(b->doc);
		free(b);
	}
	vg_metric_add(a->m_ev_done, done);
	return done;
}

bool vg_audit_wait(struct vg_audit *a, unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&a->mu);
	while (!a->head && !atomic_load(&a->stopping))
		if (pthread_cond_timedwait(&a->queued, &a->mu, &ts))
			break;
	bool have = a->head != NULL;
	pthread_mutex_unlock(&a->mu);
	return have;
}

uint64_t vg_audit_take_drops(struct vg_audit *a)
{
	pthread_mutex_lock(&a->mu);
	uint64_t n = a->drops_pending;
	a->drops_pending = 0;
	pthread_mutex_unlock(&a->mu);
	return n;
}

/* ---- one connection ----------------------------------------------------------- */

struct conn {
	struct vg_audit *a;
	int fd;
	pthread_t thread;
	struct conn *done_next;
	SSL *ssl;
	bool cert_bad;	   /* the client's chain failed verification (note_verify) */
	uint64_t deadline; /* monotonic ns: the current handshake or request */
	char hdr[HDR_MAX + 1];
	size_t hlen; /* bytes in hdr (may run past the headers into the body) */
	/* a refused request's declared body length (0: not known): read away
	 * after the answer (bounded, see refuse()), so that a client still
	 * sending sees the 4xx instead of a connection reset */
	uint64_t drain;
};

#define REFUSE_DRAIN_MAX (64ull << 20)

enum io { IO_OK, IO_CLOSED, IO_TIMEOUT };

/* After an SSL call returned ret <= 0: wait for the socket until the
 * deadline when OpenSSL wants to read or write more.  IO_OK: try again. */
static enum io io_wait(struct conn *c, int ret)
{
	int e = SSL_get_error(c->ssl, ret);
	short want = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
	if (!want)
		return IO_CLOSED;
	uint64_t now = vg_now_mono_ns();
	if (now >= c->deadline)
		return IO_TIMEOUT;
	uint64_t ms = (c->deadline - now + 999999) / 1000000;
	struct pollfd p = {c->fd, want, 0};
	int r = poll(&p, 1, ms > 60000 ? 60000 : (int)ms);
	if (r < 0 && errno != EINTR)
		return IO_CLOSED;
	return IO_OK; /* ready, hung up (the call then says so) or the deadline */
}

static enum io tls_accept(struct conn *c)
{
	for (;;) {
		int r = SSL_accept(c->ssl);
		if (r == 1)
			return IO_OK;
		enum io w = io_wait(c, r);
		if (w != IO_OK)
			return w;
	}
}

/* Read some bytes; *got > 0 on IO_OK. */
static enum io tls_read(struct conn *c, void *buf, size_t cap, size_t *got)
{
	for (;;) {
		int r = SSL_read(c->ssl, buf, cap > (1u << 30) ? (1 << 30) : (int)cap);
		if (r > 0) {
			*got = (size_t)r;
			return IO_OK;
		}
		enum io w = io_wait(c, r);
		if (w != IO_OK)
			return w;
	}
}

static int send_all(struct conn *c, const char *p, size_t n)
{
	while (n) {
		int w = SSL_write(c->ssl, p, n > 65536 ? 65536 : (int)n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (io_wait(c, w) != IO_OK) {
			return -1;
		}
	}
	return 0;
}

static void respond(struct conn *c, int code, const char *reason, const char *body, bool close)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\n%s\r\n%s",
			 code, reason, strlen(body), close ? "Connection: close\r\n" : "", body);
	/* an answer gets its own time: the request's may be spent */
	c->deadline = vg_now_mono_ns() + c->a->o.timeout_ms * 1000000ull;
	send_all(c, buf, (size_t)n);
}

/* Refuse and close.  The client may still be sending its body: read and
 * drop what comes for a moment (at most max_body_bytes, one second in
 * all), so that it sees the answer, not a reset. */
static void refuse(struct conn *c, enum result r, int code, const char *reason, const char *msg)
{
	char body[256];
	snprintf(body, sizeof(body), "{\"error\":\"%s\"}", msg);
	count(c->a, r); /* before the answer: whoever saw it sees the count */
	respond(c, code, reason, body, true);
	c->deadline = vg_now_mono_ns() + 1000000000ull;
	char sink[16384];
	uint64_t left = c->a->o.max_body_bytes + HDR_MAX;
	if (c->drain > c->a->o.max_body_bytes) {
		/* up to 4 times the limit (and REFUSE_DRAIN_MAX): a body somewhat
		 * over the limit is read away; a flood is cut off */
		uint64_t cap = 4 * c->a->o.max_body_bytes;
		if (cap > REFUSE_DRAIN_MAX)
			cap = REFUSE_DRAIN_MAX;
		left = (c->drain < cap ? c->drain : cap) + HDR_MAX;
	}
	size_t n;
	while (left && !atomic_load(&c->a->stopping) &&
	       tls_read(c, sink, sizeof(sink), &n) == IO_OK)
		left = (uint64_t)n < left ? left - (uint64_t)n : 0;
}

/* a header's value (case-insensitive name) within hdr[0..end), NUL-ended
 * in out; NULL when absent */
static const char *header(const char *hdr, const char *end, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(hdr, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
		const char *l = p + 2;
		if (l + nl < end && !strncasecmp(l, name, nl) && l[nl] == ':') {
			const char *v = l + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			const char *e = strstr(v, "\r\n");
			size_t n = e ? (size_t)(e - v) : strlen(v);
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return out;
		}
	}
	return NULL;
}

static bool token_ok(const struct vg_audit *a, const char *auth)
{
	if (!a->token)
		return true;
	if (!auth || strncasecmp(auth, "Bearer ", 7))
		return false;
	const char *t = auth + 7;
	size_t n = strlen(t), m = strlen(a->token);
	return n == m && CRYPTO_memcmp(t, a->token, n) == 0;
}

static bool cert_ok(const struct conn *c)
{
	if (!c->a->o.client_ca || !*c->a->o.client_ca)
		return true;
	if (c->cert_bad || SSL_get_verify_result(c->ssl) != X509_V_OK)
		return false;
	X509 *x = SSL_get1_peer_certificate(c->ssl);
	X509_free(x);
	return x != NULL;
}

/* The headers into c->hdr; NULL when the connection must close (counted
 * when it was not a plain close or an idle timeout). */
static char *read_headers(struct conn *c)
{
	uint64_t ns = c->a->o.timeout_ms * 1000000ull;
	c->deadline = vg_now_mono_ns() + ns; /* for its first byte */
	bool started = c->hlen > 0;	     /* a pipelined request */
	for (;;) {
		c->hdr[c->hlen] = '\0';
		char *end = strstr(c->hdr, "\r\n\r\n");
		if (end)
			return end;
		if (c->hlen >= HDR_MAX) {
			refuse(c, RES_BAD_REQUEST, 431, "Request Header Fields Too Large",
			       "headers too large");
			return NULL;
		}
		size_t n;
		enum io r = tls_read(c, c->hdr + c->hlen, HDR_MAX - c->hlen, &n);
		if (r == IO_TIMEOUT && started)
			count(c->a, RES_TIMEOUT); /* not an idle connection: a stall */
		if (r != IO_OK)
			return NULL;
		if (!started) { /* the whole request within timeout_ms from here */
			started = true;
			c->deadline = vg_now_mono_ns() + ns;
		}
		c->hlen += n;
	}
}

/* One request; false when the connection must close. */
static bool one_request(struct conn *c)
{
	struct vg_audit *a = c->a;
	char *end = read_headers(c);
	if (!end)
		return false;
	end += 2; /* keep the last header's \r\n */
	char method[16], target[1024];
	if (sscanf(c->hdr, "%15s %1023s HTTP/1.", method, target) != 2) {
		refuse(c, RES_BAD_REQUEST, 400, "Bad Request", "bad request line");
		return false;
	}
	if (!cert_ok(c)) {
		refuse(c, RES_FORBIDDEN, 403, "Forbidden",
		       "a client certificate signed by audit.client_ca is required");
		return false;
	}
	char v[256];
	if (!token_ok(a, header(c->hdr, end, "Authorization", v, sizeof(v)))) {
		refuse(c, RES_UNAUTHORIZED, 401, "Unauthorized", "unauthorized");
		return false;
	}
	char *q = strchr(target, '?');
	if (q)
		*q = '\0';
	if (strcmp(target, a->path)) {
		refuse(c, RES_NOT_FOUND, 404, "Not Found", "not found");
		return false;
	}
	if (strcmp(method, "POST")) {
		refuse(c, RES_METHOD, 405, "Method Not Allowed", "POST only");
		return false;
	}
	if (header(c->hdr, end, "Transfer-Encoding", v, sizeof(v)) ||
	    !header(c->hdr, end, "Content-Length", v, sizeof(v))) {
		refuse(c, RES_BAD_REQUEST, 411, "Length Required", "Content-Length required");
		return false;
	}
	char *e;
	errno = 0;
	unsigned long long clen = strtoull(v, &e, 10);
	if (e == v || *e || errno || v[0] == '-') {
		refuse(c, RES_BAD_REQUEST, 400, "Bad Request", "bad Content-Length");
		return false;
	}
	if (clen > a->o.max_body_bytes) {
		c->drain = clen;
		refuse(c, RES_TOO_LARGE, 413, "Payload Too Large",
		       "body over audit.max_body_bytes");
		return false;
	}
	bool close = header(c->hdr, end, "Connection", v, sizeof(v)) && !strcasecmp(v, "close");
	/* the body: what came with the headers, then the rest */
	size_t hdr_end = (size_t)(end + 2 - c->hdr);
	char *body = malloc(clen + 1);
	if (!body) {
		refuse(c, RES_TOO_LARGE, 413, "Payload Too Large", "no memory for the body");
		return false;
	}
	size_t have = c->hlen - hdr_end < clen ? c->hlen - hdr_end : (size_t)clen;
	memcpy(body, c->hdr + hdr_end, have);
	size_t extra = c->hlen - hdr_end - have; /* a pipelined next request */
	memmove(c->hdr, c->hdr + hdr_end + have, extra);
	c->hlen = extra;
	while (have < clen) {
		size_t n;
		enum io r = tls_read(c, body + have, (size_t)clen - have, &n);
		if (r != IO_OK) {
			free(body);
			count(a, r == IO_TIMEOUT ? RES_TIMEOUT : RES_BAD_REQUEST);
			return false;
		}
		have += n;
	}
	const cJSON *events;
	size_t n;
	const char *why;
	cJSON *doc = vg_audit_decode(body, (size_t)clen, a->o.max_events, &events, &n, &why);
	free(body);
	if (!doc) {
		refuse(c, RES_MALFORMED, 400, "Bad Request", why);
		return false;
	}
	queue_push(a, doc, events, n, (size_t)clen);
	count(a, RES_OK);
	respond(c, 200, "OK", "{}", close);
	return !close;
}

/* Off the list of open connections (vg_audit_free no longer shuts its fd
 * down: the fd is closed after this), and onto the list to join when c
 * is given. */
static void conn_forget(struct vg_audit *a, int fd, struct conn *c)
{
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < a->nconns; i++)
		if (a->conns[i] == fd) {
			a->conns[i] = a->conns[--a->nconns];
			break;
		}
	if (c) {
		c->done_next = a->done;
		a->done = c;
	}
	if (!a->nconns)
		pthread_cond_broadcast(&a->idle);
	pthread_mutex_unlock(&a->mu);
}

/* Joins the threads of the connections that ended and frees them.  Called
 * by the acceptor, which set each c->thread, or once the acceptor is gone. */
static void conn_reap(struct vg_audit *a)
{
	pthread_mutex_lock(&a->mu);
	struct conn *c = a->done;
	a->done = NULL;
	pthread_mutex_unlock(&a->mu);
	while (c) {
		struct conn *next = c->done_next;
		pthread_join(c->thread, NULL);
		free(c);
		c = next;
	}
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct vg_audit *a = c->a;
	/* a write to a peer that left (or to the socket vg_audit_free shut
	 * down) must fail with EPIPE, not kill a process that did not ignore
	 * SIGPIPE: blocked here, it stays pending on this thread and goes
	 * with it */
	sigset_t pipe;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	c->ssl = SSL_new(a->ctx);
	c->deadline = vg_now_mono_ns() + a->o.timeout_ms * 1000000ull;
	enum io r = IO_CLOSED;
	if (c->ssl && SSL_set_fd(c->ssl, c->fd) == 1) {
		SSL_set_app_data(c->ssl, &c->cert_bad);
		r = tls_accept(c);
	}
	if (r == IO_OK) {
		while (!atomic_load(&a->stopping) && one_request(c))
			;
		c->deadline = vg_now_mono_ns() + 1000000000ull;
		SSL_shutdown(c->ssl);
	} else {
		count(a, r == IO_TIMEOUT ? RES_TIMEOUT : RES_TLS);
		ERR_clear_error();
	}
	SSL_free(c->ssl);
	int fd = c->fd;
	conn_forget(a, fd, c); /* c is the reaper's from here */
	close(fd);
	return NULL;
}

static void *acceptor_main(void *arg)
{
	struct vg_audit *a = arg;
	struct pollfd p[2] = {{a->lfd, POLLIN, 0}, {a->stop_pipe[0], POLLIN, 0}};
	while (!atomic_load(&a->stopping)) {
		conn_reap(a);
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&a->mu);
		bool room = a->nconns < a->o.max_connections;
		if (room)
			a->conns[a->nconns++] = fd;
		pthread_mutex_unlock(&a->mu);
		if (!room) {
			count(a, RES_BUSY);
			close(fd);
			continue;
		}
		struct conn *c = vg_xcalloc(1, sizeof(*c));
		c->a = a;
		c->fd = fd;
		/* joinable: conn_reap joins it, here or in vg_audit_free, both
		 * after this store (the thread may be on the done list before
		 * pthread_create returns) */
		pthread_t t;
		if (pthread_create(&t, NULL, conn_main, c)) {
			conn_forget(a, fd, NULL);
			close(fd);
			free(c);
			continue;
		}
		c->thread = t;
	}
	return NULL;
}

int vg_audit_start(struct vg_audit *a, char *err, size_t errlen)
{
	int rc = pthread_create(&a->acceptor, NULL, acceptor_main, a);
	if (rc) {
		snprintf(err, errlen, "audit: cannot start the listener: %s", strerror(rc));
		return -1;
	}
	a->started = true;
	vg_log(VG_LOG_INFO, "audit webhook receiver on port %d, path %s", a->port, a->path);
	return 0;
}

void vg_audit_free(struct vg_audit *a)
{
	if (!a)
		return;
	atomic_store(&a->stopping, true);
	if (a->started) {
		ssize_t w = write(a->stop_pipe[1], "x", 1);
		(void)w;
		pthread_join(a->acceptor, NULL);
	}
	/* wake the connection threads out of their reads, wait for them */
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < a->nconns; i++)
		shutdown(a->conns[i], SHUT_RDWR);
	while (a->nconns)
		pthread_cond_wait(&a->idle, &a->mu);
	pthread_mutex_unlock(&a->mu);
	conn_reap(a);
	while (a->head) {
		struct batch *b = a->head;
		a->head = b->next;
		cJSON_Delete(b->doc);
		free(b);
	}
	if (a->lfd >= 0)
		close(a->lfd);
	if (a->stop_pipe[0] >= 0) {
		close(a->stop_pipe[0]);
		close(a->stop_pipe[1]);
	}
	SSL_CTX_free(a->ctx);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->idle);
	pthread_cond_destroy(&a->queued);
	free(a->conns);
	free(a->path);
	free(a->token);
	free(a);
}
