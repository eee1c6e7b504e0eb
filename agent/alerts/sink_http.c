/* sink_http.c - the HTTP(S) POST sink.
 *
 * Two ways to send, one sink:
 *   keep-alive (the default)  a blocking HTTP/1.1 client (httpka.c) on one
 *        connection reused from request to request;
 *   one connection per alert  the libwebsockets client (httpc.h): the sink
 *        owns one lws context, used only by its dispatcher thread; each
 *        request is serviced until the answer completes, fails or times out.
 * Each request carries one alert (the body Falcosidekick takes) or, when
 * batching, a JSON array or newline-delimited JSON of several; a batch is
 * sent when it is full (alerts or bytes) or when its oldest alert reaches
 * batch.max_age_ms (checked on each alert and each flush, which the
 * dispatcher repeats while the batch waits), and at shutdown.  A batch does
 * not leave merely because the queue ran empty: at a low alert rate that
 * would send one alert per request.  Batched alerts are held
 * (VG_SINK_HELD) and settled all at once with the request's outcome.
 * Failures are retried with exponential backoff; every wait checks give_up
 * so shutdown is never held hostage by a dead receiver. */
#include "httpc.h"
#include "httpka.h"
#include "log.h"
#include "held.h"
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
	const char *ctype;

	/* keep-alive mode */
	bool ka;
	struct nc_opts no;
	struct nc_tls *tls;
	struct httpka k;
	bool k_init;

	/* batching */
	int batch; /* VG_HTTP_BATCH_* */
	size_t batch_max, batch_max_bytes;
	unsigned batch_age_ms;
	char *bbuf;
	size_t blen, bcap, bn;
	struct vg_held held; /* the batch's alerts, by namespace */
	uint64_t bt0;

	/* the request in flight */
	struct lws *wsi;
	const char *body;
	size_t body_len;
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
		return httpc_add_body_headers(wsi, h->ctype, h->body_len, p, end);
	}
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
		if (httpc_write_body(wsi, h->body, h->body_len, &h->sent)) {
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

/* The status's outcome, as the lws callback judges it. */
static void judge(struct http *h)
{
	if (h->status >= 200 && h->status < 300)
		finish(h, 1, NULL, "ok");
	else if (h->status >= 300 && h->status < 400)
		finish(h, 0, VG_SINK_R_HTTP_REDIRECT,
		       "HTTP status %d, redirect to '%s' not followed: fix the URL", h->status,
		       h->location);
	else
		finish(h, 0, VG_SINK_R_HTTP_STATUS, "HTTP status %d", h->status);
}

/* One attempt; 0 on a 2xx answer. */
static int attempt(struct vg_sink *s, struct http *h)
{
	if (vg_sink_giving_up(s)) {
		snprintf(h->why, sizeof(h->why), "shutting down");
		h->reason = VG_SINK_R_SHUTDOWN;
		return -1;
	}
	if (h->ka) {
		h->done = 0;
		h->status = 0;
		const char *reason = NULL;
		if (httpka_post(&h->k, h->body, h->body_len, h->timeout_ms, &h->status, h->location,
				sizeof(h->location), &reason, h->why, sizeof(h->why))) {
			h->done = -1;
			h->reason = reason ? reason : VG_SINK_R_CONNECT;
			return -1;
		}
		judge(h);
		return h->done == 1 ? 0 : -1;
	}
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
	return h->done == 1 ? 0 : -1;
}

/* POST body with retries: 0, or -1 with s->reason and err. */
static int post(struct vg_sink *s, struct http *h, const char *body, size_t len, char *err,
		size_t errlen)
{
	h->body = body;
	h->body_len = len;
	unsigned wait = h->backoff_ms, i;
	for (i = 0;; i++) {
		if (!attempt(s, h))
			return 0;
		/* a redirect answers the same every time: no retry */
		if (i < h->retries && h->status / 100 != 3 && vg_sink_giving_up(s)) {
			h->reason = VG_SINK_R_SHUTDOWN; /* it would have been retried */
			break;
		}
		if (i >= h->retries || h->status / 100 == 3)
			break;
		vg_log(VG_LOG_DEBUG, "sink %s: %s; retry %u in %u ms", s->name, h->why, i + 1,
		       wait);
		vg_sink_sleep_until(s, vg_now_mono_ns() + (uint64_t)wait * 1000000ull);
		wait = wait * 2 > h->backoff_max_ms ? h->backoff_max_ms : wait * 2;
	}
	s->reason = h->reason;
	snprintf(err, errlen, "POST %s:%d%s: %s (after %u retries)", h->u.host, h->u.port,
		 h->u.path, h->why, i);
	return -1;
}

/* Send the batch and settle its alerts with the outcome. */
static int send_batch(struct vg_sink *s, struct http *h, char *err, size_t errlen)
{
	if (!h->bn)
		return 0;
	if (h->batch == VG_HTTP_BATCH_ARRAY)
		h->bbuf[h->blen++] = ']';
	size_t n = h->bn;
	int rc = post(s, h, h->bbuf, h->blen, err, errlen);
	h->bn = h->blen = 0;
	if (rc)
		vg_held_failed(s, &h->held, n, s->reason ? s->reason : VG_SINK_R_ERROR);
	else
		vg_held_sent(s, &h->held, n);
	return rc;
}

static int http_deliver(struct vg_sink *s, const struct vg_alert *a, char *err, size_t errlen)
{
	struct http *h = s->impl;
	if (!h->batch)
		return post(s, h, a->json, a->json_len, err, errlen);
	/* would this alert overflow the batch? send what is there first */
	if (h->bn && h->blen + a->json_len + 2 > h->batch_max_bytes &&
	    send_batch(s, h, err, errlen))
		vg_log(VG_LOG_WARNING, "sink %s: %s", s->name, err);
	if (h->bcap < h->blen + a->json_len + 3) {
		h->bcap = (h->blen + a->json_len + 3) * 2;
		h->bbuf = vg_xrealloc(h->bbuf, h->bcap);
	}
	if (!h->bn)
		h->bt0 = vg_now_mono_ns();
	if (h->batch == VG_HTTP_BATCH_ARRAY)
		h->bbuf[h->blen++] = h->bn ? ',' : '[';
	memcpy(h->bbuf + h->blen, a->json, a->json_len);
	h->blen += a->json_len;
	if (h->batch == VG_HTTP_BATCH_NDJSON)
		h->bbuf[h->blen++] = '\n';
	h->bn++;
	vg_held_push(&h->held, a);
	if ((h->bn >= h->batch_max || h->blen >= h->batch_max_bytes ||
	     vg_now_mono_ns() - h->bt0 >= (uint64_t)h->batch_age_ms * 1000000ull) &&
	    send_batch(s, h, err, errlen))
		vg_log(VG_LOG_WARNING, "sink %s: %s", s->name, err);
	return VG_SINK_HELD;
}

static int http_flush(struct vg_sink *s, char *err, size_t errlen)
{
	struct http *h = s->impl;
	if (h->bn && !s->flush_all &&
	    vg_now_mono_ns() - h->bt0 < (uint64_t)h->batch_age_ms * 1000000ull)
		return 1; /* younger than its age limit: it may still fill */
	return send_batch(s, h, err, errlen);
}

static void http_free(struct http *h)
{
	if (h->ctx)
		lws_context_destroy(h->ctx);
	if (h->k_init)
		httpka_free(&h->k);
	nc_tls_free(h->tls);
	free(h->bbuf);
	vg_held_free(&h->held);
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
	struct http *h = s->impl;
	char err[512];
	if (h->bn && send_batch(s, h, err, sizeof(err)))
		vg_log(VG_LOG_WARNING, "sink %s: %s", s->name, err);
	http_free(s->impl);
	free(s);
}

static const struct vg_sink_ops http_ops = {
	.deliver = http_deliver,
	.flush = http_flush,
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

	h->batch = o->batch;
	h->batch_max = o->batch_max_alerts ? o->batch_max_alerts : 100;
	h->batch_max_bytes = o->batch_max_bytes ? o->batch_max_bytes : 1 << 20;
	h->batch_age_ms = o->batch_max_age_ms ? o->batch_max_age_ms : 1000;
	h->ctype = h->batch == VG_HTTP_BATCH_NDJSON ? "application/x-ndjson" : "application/json";
	if (o->keepalive) {
		h->ka = true;
		h->no.kind = NC_TCP;
		h->no.host = h->u.host;
		h->no.port = h->u.port;
		h->no.tls = h->u.tls;
		h->no.ca_file = o->ca_file;
		h->no.client_cert = o->client_cert;
		h->no.client_key = o->client_key;
		if (h->u.tls && !(h->tls = nc_tls_new(&h->no, err, errlen)))
			goto fail;
		struct vg_sink *s = vg_xcalloc(1, sizeof(*s));
		httpka_init(&h->k, &h->no, h->tls, &s->give_up, h->u.path, h->hosthdr, h->ctype,
			    (const char *const *)h->hname, (const char *const *)h->hvalue,
			    h->nheaders);
		h->k_init = true;
		snprintf(s->name, sizeof(s->name), "http");
		s->min_priority = o->min_priority;
		s->ops = &http_ops;
		s->impl = h;
		return s;
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

uint64_t vg_sink_http_connects(const struct vg_sink *s)
{
	const struct http *h = s->impl;
	return h->ka ? h->k.connects : 0;
}
