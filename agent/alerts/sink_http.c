/* sink_http.c - the HTTP(S) POST sink on the libwebsockets client.
 *
 * The sink owns one lws context, used only by its dispatcher thread: each
 * alert is one request on a fresh connection, serviced until the answer
 * completes, fails or times out.  Failures are retried with exponential
 * backoff; every wait checks give_up so shutdown is never held hostage
 * by a dead receiver. */
#include "httpc.h"
#include "log.h"
#include "sink.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

struct http {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct httpc_url u; /* host, port, path ("/" when the URL has none), tls */
	char *hosthdr;
	char **hname, **hvalue; /* custom headers, names lower case with ':' */
	size_t nheaders;
	unsigned timeout_ms, retries, backoff_ms, backoff_max_ms;

	/* the request in flight */
	struct lws *wsi;
	const struct vg_alert *cur;
	size_t sent;
	int done; /* 0 running, 1 success, -1 failure */
	int status;
	char location[256]; /* of a 3xx answer */
	const char *reason; /* VG_SINK_R_* of a failure */
	char why[400];
};

/* The attempt's outcome, once: ok, or a failure for reason (VG_SINK_R_*). */
static void finish(struct http *h, int ok, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void finish(struct http *h, int ok, const char *reason, const char *fmt, ...)
{
	if (h->done)
		return;
	h->done = ok ? 1 : -1;
	h->reason = ok ? NULL : reason;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->why, sizeof(h->why), fmt, ap);
	va_end(ap);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	(void)user;
	struct http *h = lws_context_user(lws_get_context(wsi));
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = (unsigned char **)in, *end = (*p) + len;
		for (size_t i = 0; i < h->nheaders; i++)
			if (httpc_add_header(wsi, h->hname[i], h->hvalue[i], p, end))
				return -1;
		return httpc_add_body_headers(wsi, "application/json", h->cur->json_len, p, end);
	}
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
		if (httpc_write_body(wsi, h->cur->json, h->cur->json_len, &h->sent)) {
			finish(h, 0, VG_SINK_R_CONNECT, "writing the request body failed");
			return -1;
		}
		return 0;
	}
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		h->status = (int)lws_http_client_http_response(wsi);
		if (lws_hdr_copy(wsi, h->location, sizeof(h->location), WSI_TOKEN_HTTP_LOCATION) <
		    0)
			h->location[0] = 0;
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		return httpc_read(wsi);
	}
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		return 0; /* the answer's body does not matter */
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (h->status >= 200 && h->status < 300)
			finish(h, 1, NULL, "ok");
		else if (h->status >= 300 && h->status < 400)
			/* the URL is wrong (e.g. a path the receiver's router
			 * rewrites): following it would hide that and, for a
			 * 301/302, turn the POST into a GET */
			finish(h, 0, VG_SINK_R_HTTP_REDIRECT,
			       "HTTP status %d, redirect to '%s' not followed: fix the URL",
			       h->status, h->location);
		else
			finish(h, 0, VG_SINK_R_HTTP_STATUS, "HTTP status %d", h->status);
		return -1; /* one request per connection */
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		finish(h, 0, VG_SINK_R_CONNECT, "%s", in ? (const char *)in : "connection failed");
		h->wsi = NULL;
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		finish(h, 0, VG_SINK_R_CONNECT, "connection closed before the answer");
		h->wsi = NULL;
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{"vigil-http-sink", callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* One attempt; 0 on a 2xx answer. */
static int attempt(struct vg_sink *s, struct http *h, const struct vg_alert *a)
{
	if (vg_sink_giving_up(s)) {
		snprintf(h->why, sizeof(h->why), "shutting down");
		h->reason = VG_SINK_R_SHUTDOWN;
		return -1;
	}
	h->cur = a;
	h->sent = 0;
	h->done = 0;
	h->status = 0;
	h->location[0] = 0;
	h->reason = NULL;
	h->why[0] = 0;
	struct httpc_req req = {
		.ctx = h->ctx,
		.vh = h->vh,
		.protocol = protocols[0].name,
		.host = h->u.host,
		.port = h->u.port,
		.host_header = h->hosthdr,
		.method = "POST",
		.path = h->u.path,
		.tls = h->u.tls,
		.pwsi = &h->wsi,
	};
	if (!httpc_connect(&req)) {
		h->wsi = NULL;
		finish(h, 0, VG_SINK_R_CONNECT, "cannot start the connection");
	}
	uint64_t deadline = vg_now_mono_ns() + (uint64_t)h->timeout_ms * 1000000ull;
	while (!h->done) {
		if (vg_now_mono_ns() >= deadline || vg_sink_giving_up(s)) {
			finish(h, 0, vg_sink_giving_up(s) ? VG_SINK_R_SHUTDOWN : VG_SINK_R_TIMEOUT,
			       "timed out after %u ms", h->timeout_ms);
			break;
		}
		lws_service(h->ctx, 0);
	}
	if (h->wsi) { /* still open after a timeout: close it now */
		lws_set_timeout(h->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
		h->wsi = NULL;
	}
	h->cur = NULL;
	return h->done == 1 ? 0 : -1;
}

/* Sleep ms in short steps, returning early when the sink gives up. */
static void backoff_sleep(struct vg_sink *s, unsigned ms)
{
	uint64_t until = vg_now_mono_ns() + (uint64_t)ms * 1000000ull;
	while (!vg_sink_giving_up(s)) {
		uint64_t now = vg_now_mono_ns();
		if (now >= until)
			return;
		uint64_t left = until - now;
		if (left > 20000000ull)
			left = 20000000ull;
		struct timespec ts = {0, (long)left};
		nanosleep(&ts, NULL);
	}
}

static int http_deliver(struct vg_sink *s, const struct vg_alert *a, char *err, size_t errlen)
{
	struct http *h = s->impl;
	unsigned wait = h->backoff_ms, i;
	for (i = 0;; i++) {
		if (!attempt(s, h, a))
			return 0;
		/* a redirect answers the same every time: no retry */
		if (i >= h->retries || vg_sink_giving_up(s) || h->status / 100 == 3)
			break;
		vg_log(VG_LOG_DEBUG, "sink %s: %s; retry %u in %u ms", s->name, h->why, i + 1,
		       wait);
		backoff_sleep(s, wait);
		wait = wait * 2 > h->backoff_max_ms ? h->backoff_max_ms : wait * 2;
	}
	s->reason = h->reason;
	snprintf(err, errlen, "POST %s:%d%s: %s (after %u retries)", h->u.host, h->u.port,
		 h->u.path, h->why, i);
	return -1;
}

static void http_free(struct http *h)
{
	if (h->ctx)
		lws_context_destroy(h->ctx);
	for (size_t i = 0; i < h->nheaders; i++) {
		free(h->hname[i]);
		free(h->hvalue[i]);
	}
	free(h->hname);
	free(h->hvalue);
	httpc_url_free(&h->u);
	free(h->hosthdr);
	free(h);
}

static void http_close(struct vg_sink *s)
{
	http_free(s->impl);
	free(s);
}

static const struct vg_sink_ops http_ops = {
	.deliver = http_deliver,
	.close = http_close,
};

static int parse_header(struct http *h, const char *hdr, char *err, size_t errlen)
{
	const char *colon = strchr(hdr, ':');
	if (!colon || colon == hdr) {
		snprintf(err, errlen, "header '%s': expected 'Name: value'", hdr);
		return -1;
	}
	size_t n = (size_t)(colon - hdr);
	char *name = vg_xmalloc(n + 2);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)hdr[i];
		if (!isalnum(c) && c != '-' && c != '_') {
			free(name);
			snprintf(err, errlen, "header '%s': invalid name", hdr);
			return -1;
		}
		name[i] = (char)tolower(c);
	}
	name[n] = ':';
	name[n + 1] = 0;
	const char *v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	for (const char *c = v; *c; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f) {
			/* a CR or LF would start another header line (the
			 * configuration refuses it already; this is the sink's
			 * own guard) */
			free(name);
			snprintf(err, errlen,
				 "header '%.*s': control character 0x%02x in the value", (int)n,
				 hdr, (unsigned char)*c);
			return -1;
		}
	h->hname[h->nheaders] = name;
	h->hvalue[h->nheaders++] = vg_xstrdup(v);
	return 0;
}

struct vg_sink *vg_sink_http_new(const struct vg_sink_http_opts *o, char *err, size_t errlen)
{
	struct http *h = vg_xcalloc(1, sizeof(*h));
	h->timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
	h->retries = o->retries;
	h->backoff_ms = o->backoff_ms ? o->backoff_ms : 1;
	h->backoff_max_ms = o->backoff_max_ms < h->backoff_ms ? h->backoff_ms : o->backoff_max_ms;
	if (!o->url || !*o->url) {
		snprintf(err, errlen, "no URL");
		goto fail;
	}
	char why[256];
	int urc = httpc_url_parse(o->url, &h->u, why, sizeof(why));
	if (urc == HTTPC_URL_SCHEME) {
		snprintf(err, errlen, "URL '%s': the scheme must be http or https", o->url);
		goto fail;
	}
	if (urc) {
		snprintf(err, errlen, "invalid URL %s", why);
		goto fail;
	}
	h->hosthdr = httpc_host_header(h->u.host);
	h->hname = vg_xcalloc(o->nheaders + 1, sizeof(char *));
	h->hvalue = vg_xcalloc(o->nheaders + 1, sizeof(char *));
	for (size_t i = 0; i < o->nheaders; i++)
		if (parse_header(h, o->headers[i], err, errlen))
			goto fail;
	if (!o->client_cert != !o->client_key) {
		snprintf(err, errlen, "a client certificate needs its key (and the reverse)");
		goto fail;
	}

	lws_set_log_level(LLL_ERR | LLL_WARN, vg_log_lws);
	struct httpc_ctx_opts co = {
		.protocols = protocols,
		.user = h,
		.ca_file = o->ca_file,
		.cert_file = o->client_cert,
		.key_file = o->client_key,
		.fd_limit = 16,
	};
	int crc = httpc_ctx_new(&co, &h->ctx, &h->vh, why, sizeof(why));
	if (crc == HTTPC_CTX_FILES) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	if (crc) {
		snprintf(err, errlen,
			 "cannot create the HTTP client (unreadable CA file or client "
			 "certificate/key?)");
		goto fail;
	}
	struct vg_sink *s = vg_xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "http");
	s->min_priority = o->min_priority;
	s->ops = &http_ops;
	s->impl = h;
	return s;
fail:
	http_free(h);
	return NULL;
}
