/* httpd.c - see httpd.h. */
#include "httpd.h"
#include "config.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

/* One write per writeable callback; 16 KiB is HTTP/2's default frame size. */
#define CHUNK 16384

#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_TEXT "text/plain; charset=utf-8"

struct vg_httpd {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	pthread_t thread;
	atomic_bool stopping;
	atomic_uint ready;
	unsigned required;
	pthread_mutex_t detail_mu;
	char detail[512]; /* vg_httpd_set_detail's text, under detail_mu */
	struct vg_metrics *metrics;
	int port;
	char address[280]; /* where it listens, with the port (struct addr's host and more) */
	unsigned char wbuf[LWS_PRE + CHUNK]; /* service thread only */
};

/* Per connection; lws zeroes it and frees it. */
struct pss {
	char *body;
	size_t len, off;
	bool pending_405; /* answer once the request body has been read */
	bool completing;  /* body written: complete on the next writeable */
};

static void pss_reset(struct pss *p)
{
	free(p->body);
	p->body = NULL;
	p->len = p->off = 0;
	p->pending_405 = false;
	p->completing = false;
}

/* Send the status line and headers now, the body from WRITEABLE.  The
 * body is taken over (malloc'd). */
static int respond(struct lws *wsi, struct pss *p, unsigned status, const char *ctype, char *body,
		   size_t len)
{
	unsigned char hdr[LWS_PRE + 512];
	unsigned char *start = hdr + LWS_PRE, *q = start, *end = hdr + sizeof(hdr) - 1;
	p->body = body;
	p->len = len;
	p->off = 0;
	if (lws_add_http_common_headers(wsi, status, ctype, len, &q, end))
		return -1;
	if (status == HTTP_STATUS_METHOD_NOT_ALLOWED &&
	    lws_add_http_header_by_name(
		    wsi, (const unsigned char *)"allow:", (const unsigned char *)"GET", 3, &q, end))
		return -1;
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &q, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &q, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int respond_text(struct lws *wsi, struct pss *p, unsigned status, const char *text)
{
	return respond(wsi, p, status, CT_TEXT, vg_xstrdup(text), strlen(text));
}

static int readyz(struct vg_httpd *h, struct lws *wsi, struct pss *p)
{
	unsigned missing = h->required & ~atomic_load(&h->ready);
	if (!missing) {
		char body[sizeof(h->detail) + 8];
		pthread_mutex_lock(&h->detail_mu);
		snprintf(body, sizeof(body), "ok\n%s%s", h->detail, *h->detail ? "\n" : "");
		pthread_mutex_unlock(&h->detail_mu);
		return respond_text(wsi, p, HTTP_STATUS_OK, body);
	}
	char msg[160] = "not ready:";
	static const struct {
		unsigned bit;
		const char *what;
	} conds[] = {
		{VG_READY_PROBES, "probes not attached"},
		{VG_READY_RULES, "rules not loaded"},
		{VG_READY_INFORMERS, "informers not synced"},
		{VG_READY_AUDIT, "audit receiver not listening"},
	};
	const char *sep = " ";
	for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++)
		if (missing & conds[i].bit) {
			strncat(msg, sep, sizeof(msg) - strlen(msg) - 1);
			strncat(msg, conds[i].what, sizeof(msg) - strlen(msg) - 1);
			sep = ", ";
		}
	strncat(msg, "\n", sizeof(msg) - strlen(msg) - 1);
	return respond_text(wsi, p, HTTP_STATUS_SERVICE_UNAVAILABLE, msg);
}

static int on_request(struct vg_httpd *h, struct lws *wsi, struct pss *p, const char *path)
{
	char *uri;
	int urilen;
	int method = lws_http_get_uri_and_method(wsi, &uri, &urilen);
	if (method != LWSHUMETH_GET) {
		/* A request with a body is answered after lws has read the
		 * body, so the connection stays in step for the next one. */
		if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0) {
			p->pending_405 = true;
			return 0;
		}
		return respond_text(wsi, p, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed\n");
	}
	if (!strcmp(path, "/metrics") && h->metrics) {
		size_t len;
		char *body = vg_metrics_render(h->metrics, &len);
		return respond(wsi, p, HTTP_STATUS_OK, CT_METRICS, body, len);
	}
	if (!strcmp(path, "/healthz"))
		return respond_text(wsi, p, HTTP_STATUS_OK, "ok\n");
	if (!strcmp(path, "/readyz"))
		return readyz(h, wsi, p);
	return respond_text(wsi, p, HTTP_STATUS_NOT_FOUND, "not found\n");
}

static int on_writeable(struct vg_httpd *h, struct lws *wsi, struct pss *p)
{
	if (p->completing) {
		pss_reset(p);
		/* keep-alive: wait for the next request, or close */
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	if (!p->body)
		return 0;
	size_t n = p->len - p->off;
	if (n > CHUNK)
		n = CHUNK;
	/* HTTP/2 flow control may allow less than a chunk (or nothing yet). */
	lws_fileofs_t allow = lws_get_peer_write_allowance(wsi);
	if (allow >= 0 && (size_t)allow < n)
		n = (size_t)allow;
	if (n == 0 && p->off < p->len) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	bool final = p->off + n == p->len;
	memcpy(h->wbuf + LWS_PRE, p->body + p->off, n);
	if (lws_write(wsi, h->wbuf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
	    (int)n)
		return -1;
	p->off += n;
	if (!final) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	/* Completing the transaction now would drop what lws still buffers
	 * of this write (HTTP/2 loses the stream's tail); the next writeable
	 * callback comes once it is flushed. */
	free(p->body);
	p->body = NULL;
	p->completing = true;
	lws_callback_on_writable(wsi);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct pss *p = user;
	struct vg_httpd *h = lws_context_user(lws_get_context(wsi));
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		pss_reset(p);
		return on_request(h, wsi, p, in ? (const char *)in : "/");
	case LWS_CALLBACK_HTTP_BODY:
		return 0; /* discarded: no handler takes a body */
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (p->pending_405) {
			p->pending_405 = false;
			return respond_text(wsi, p, HTTP_STATUS_METHOD_NOT_ALLOWED,
					    "method not allowed\n");
		}
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writeable(h, wsi, p);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (p)
			pss_reset(p);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{"http", callback, sizeof(struct pss), 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* --- listen address -------------------------------------------------------- */

struct addr {
	char host[256];
	int port;
	int family; /* AF_INET, AF_INET6, or AF_UNSPEC for "" (every address) */
};

/* host:port into an address to bind: a host name is resolved here (its
 * first address), so what is bound, and logged, is an address; lws would
 * take a name for an interface and, finding none, listen nowhere. */
static int parse_listen(const char *s, struct addr *a, char *err, size_t errlen)
{
	char why[128];
	memset(a, 0, sizeof(*a));
	if (vg_config_parse_hostport(s, a->host, sizeof(a->host), &a->port, &a->family, why,
				     sizeof(why))) {
		vg_set_err(err, errlen, "listen \"%s\": %s", s, why);
		return -1;
	}
	if (a->family != AF_UNSPEC || !a->host[0])
		return 0;
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(a->host, NULL, &hints, &res);
	if (rc || !res) {
		vg_set_err(err, errlen, "listen \"%s\": cannot resolve '%s': %s", s, a->host,
			   rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	a->family = res->ai_family;
	const void *ip = res->ai_family == AF_INET
				 ? (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr
				 : (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr;
	inet_ntop(res->ai_family, ip, a->host, sizeof(a->host));
	freeaddrinfo(res);
	return 0;
}

/* lws does not say why a listener failed; binding the same address once
 * ourselves recovers the errno for the message. */
static const char *bind_error(const struct addr *a)
{
	int fd = -1, rc = -1;
	if (a->family == AF_INET) {
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(a->port)};
		inet_pton(AF_INET, a->host, &sin.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			int one = 1;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			rc = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		}
	} else if (a->family == AF_INET6 || !a->host[0]) {
		struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(a->port)};
		if (a->host[0])
			inet_pton(AF_INET6, a->host, &sin6.sin6_addr);
		fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0) {
			int one = 1;
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			rc = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6));
		}
	} else {
		return "no such interface or address, or it cannot be bound";
	}
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (fd < 0 || rc < 0)
		return strerror(e);
	return "the listener could not be created";
}

static int check_readable(const char *what, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	vg_set_err(err, errlen, "tls %s %s: %s", what, path, strerror(errno));
	return -1;
}

/* --- lifecycle ------------------------------------------------------------- */

static void *service_main(void *arg)
{
	struct vg_httpd *h = arg;
	while (!atomic_load(&h->stopping))
		if (lws_service(h->ctx, 0) < 0)
			break;
	return NULL;
}

struct vg_httpd *vg_httpd_start(const struct vg_httpd_config *cfg, char *err, size_t errlen)
{
	const char *listen = cfg->listen ? cfg->listen : VG_HTTPD_DEFAULT_LISTEN;
	struct addr a;
	if (parse_listen(listen, &a, err, errlen))
		return NULL;
	bool tls = cfg->tls_cert || cfg->tls_key;
	if (tls) {
		if (!cfg->tls_cert || !cfg->tls_key) {
			vg_set_err(err, errlen, "tls: both a certificate and a key are needed");
			return NULL;
		}
		if (check_readable("certificate", cfg->tls_cert, err, errlen) ||
		    check_readable("key", cfg->tls_key, err, errlen))
			return NULL;
	}

	lws_set_log_level(LLL_ERR | LLL_WARN, vg_log_lws);

	struct vg_httpd *h = vg_xcalloc(1, sizeof(*h));
	atomic_init(&h->stopping, false);
	atomic_init(&h->ready, 0);
	pthread_mutex_init(&h->detail_mu, NULL);
	h->required = cfg->required;
	h->metrics = cfg->metrics;

	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (tls)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.user = h;
	info.port = CONTEXT_PORT_NO_LISTEN;
	h->ctx = lws_create_context(&info);
	if (!h->ctx) {
		vg_set_err(err, errlen, "listen %s: cannot create the libwebsockets context",
			   listen);
		free(h);
		return NULL;
	}

	memset(&info, 0, sizeof(info));
	info.vhost_name = "vigil";
	info.port = a.port;
	info.protocols = protocols;
	if (a.family == AF_INET) {
		/* "0.0.0.0" is every IPv4 address: no interface, no IPv6 */
		if (strcmp(a.host, "0.0.0.0"))
			info.iface = a.host;
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	} else if (a.family == AF_INET6) {
		if (strcmp(a.host, "::"))
			info.iface = a.host;
	}
	if (tls) {
		/* lws enables TLS on a vhost only with this option on it too */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
	}
	h->vh = lws_create_vhost(h->ctx, &info);
	if (!h->vh) {
		vg_set_err(err, errlen, "listen %s: %s", listen, bind_error(&a));
		lws_context_destroy(h->ctx);
		free(h);
		return NULL;
	}
	h->port = lws_get_vhost_listen_port(h->vh);
	if (h->port <= 0) {
		vg_set_err(err, errlen, "listen %s: %s", listen, bind_error(&a));
		lws_context_destroy(h->ctx);
		free(h);
		return NULL;
	}
	if (a.family == AF_INET6)
		snprintf(h->address, sizeof(h->address), "[%s]:%d",
			 a.host[0] ? a.host : "::", h->port);
	else if (a.family == AF_INET)
		snprintf(h->address, sizeof(h->address), "%s:%d", a.host, h->port);
	else
		snprintf(h->address, sizeof(h->address), "[::]:%d", h->port); /* and 0.0.0.0 */

	int rc = pthread_create(&h->thread, NULL, service_main, h);
	if (rc) {
		vg_set_err(err, errlen, "listen %s: thread: %s", listen, strerror(rc));
		lws_context_destroy(h->ctx);
		free(h);
		return NULL;
	}
	return h;
}

int vg_httpd_port(const struct vg_httpd *h)
{
	return h ? h->port : -1;
}

const char *vg_httpd_address(const struct vg_httpd *h)
{
	return h ? h->address : "";
}

void vg_httpd_set_detail(struct vg_httpd *h, const char *text)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->detail_mu);
	snprintf(h->detail, sizeof(h->detail), "%s", text ? text : "");
	pthread_mutex_unlock(&h->detail_mu);
}

void vg_httpd_set_ready(struct vg_httpd *h, unsigned bits, bool ok)
{
	if (!h)
		return;
	if (ok)
		atomic_fetch_or(&h->ready, bits);
	else
		atomic_fetch_and(&h->ready, ~bits);
}

void vg_httpd_stop(struct vg_httpd *h)
{
	if (!h)
		return;
	atomic_store(&h->stopping, true);
	lws_cancel_service(h->ctx);
	pthread_join(h->thread, NULL);
	lws_context_destroy(h->ctx);
	free(h);
}
