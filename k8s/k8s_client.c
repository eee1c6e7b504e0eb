/* k8s_client.c - see k8s_client.h.
 *
 * Each request is one HTTP/1.1 connection (watches are long-lived streams;
 * other requests are rare enough that connection reuse does not matter).
 * A call's life: queued (any thread) -> started on the service thread
 * (lws_client_connect_via_info) -> response -> finish(): on_done runs once,
 * the call is detached from its wsi (lws_set_wsi_user NULL, so late
 * callbacks of that connection find nothing) and freed.
 */
#include "k8s_client.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "httpc.h"
#include "k8s_util.h"

static_assert(sizeof(((struct k8s_timer *)0)->priv) >= sizeof(lws_sorted_usec_list_t),
	      "k8s_timer.priv must hold an lws_sorted_usec_list_t");

struct post {
	void (*fn)(void *ctx);
	void *ctx;
	struct post *next;
};

struct k8s_call {
	struct k8s_client *c;
	struct lws *wsi;
	char *method, *path, *accept, *ctype, *verb, *resource;
	char *body;
	size_t body_len, body_off;
	int (*on_data)(void *ctx, const char *data, size_t len);
	void (*on_done)(void *ctx, const struct k8s_response *r);
	void *ctx;
	unsigned idle_timeout_s;
	int status;
	bool started, established, complete, finished, stream_error, hooked;
	struct k8s_buf resp;
	char retry_after[64];
	char errmsg[256];
	struct k8s_timer timer; /* connect/total deadline, then the idle timeout */
	uint64_t last_rx;
	struct k8s_call *next, *prev; /* live list */
	struct k8s_call *qnext;	      /* start queue */
};

struct k8s_client {
	struct k8s_config *cfg;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	pthread_t thread;
	pthread_t thread_id; /* valid once started */
	_Atomic bool stopping;
	_Atomic bool running;
	char *user_agent;
	char *hosthdr;
	unsigned timeout_s, connect_timeout_s;
	k8s_request_hook hook;
	void *hook_ctx;

	pthread_mutex_t mu; /* guards the queues below */
	struct post *posts, **posts_tail;
	struct k8s_call *queue, **queue_tail;

	struct k8s_call *live; /* started calls (service thread) */
	struct k8s_call *connecting;
	bool connect_failed;
};

static void lws_log_sink(int level, const char *line)
{
	(void)level;
	(void)line; /* errors reach the caller through responses */
}

/* --- timers ---------------------------------------------------------------- */

static void timer_cb(lws_sorted_usec_list_t *sul)
{
	struct k8s_timer *t = (struct k8s_timer *)(void *)sul;
	t->fn(t->ctx);
}

void k8s_timer_init(struct k8s_timer *t, struct k8s_client *c, void (*fn)(void *ctx), void *ctx)
{
	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->ctx = ctx;
	t->c = c;
}

void k8s_timer_arm(struct k8s_timer *t, uint64_t delay_ns)
{
	lws_sul_schedule(t->c->ctx, 0, (lws_sorted_usec_list_t *)(void *)t->priv, timer_cb,
			 (lws_usec_t)(delay_ns / 1000));
}

void k8s_timer_cancel(struct k8s_timer *t)
{
	if (t->c)
		lws_sul_schedule(t->c->ctx, 0, (lws_sorted_usec_list_t *)(void *)t->priv, timer_cb,
				 LWS_SET_TIMER_USEC_CANCEL);
}

/* --- calls ------------------------------------------------------------------ */

static void call_free(struct k8s_call *call)
{
	free(call->method);
	free(call->path);
	free(call->accept);
	free(call->ctype);
	free(call->verb);
	free(call->resource);
	free(call->body);
	k8s_buf_free(&call->resp);
	free(call);
}

static void live_unlink(struct k8s_call *call)
{
	struct k8s_client *c = call->c;
	if (call->prev)
		call->prev->next = call->next;
	else if (c->live == call)
		c->live = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->next = call->prev = NULL;
}

/* Detach from the connection (closing it when still open) and free. */
static void call_release(struct k8s_call *call)
{
	k8s_timer_cancel(&call->timer);
	if (call->wsi) {
		lws_set_wsi_user(call->wsi, NULL);
		lws_set_timeout(call->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		call->wsi = NULL;
	}
	live_unlink(call);
	call_free(call);
}

static const char *default_verb(const char *method)
{
	if (!strcmp(method, "GET"))
		return "get";
	if (!strcmp(method, "POST"))
		return "create";
	if (!strcmp(method, "PUT"))
		return "update";
	if (!strcmp(method, "PATCH"))
		return "patch";
	if (!strcmp(method, "DELETE"))
		return "delete";
	return "other";
}

/* Deliver the outcome once, then release the call. */
static void finish(struct k8s_call *call, const char *transport_err)
{
	if (call->finished)
		return;
	call->finished = true;
	struct k8s_client *c = call->c;
	struct k8s_response r = {.status = call->status, .retry_after_s = -1};
	if (transport_err && !call->established)
		r.status = 0;
	if (call->resp.p) {
		r.body = call->resp.p;
		r.body_len = call->resp.len;
	} else {
		r.body = "";
	}
	cJSON *json = NULL;
	if (r.body_len)
		json = cJSON_ParseWithLength(r.body, r.body_len);
	r.json = json;
	r.reason = "";
	r.message = "";
	char msg[512];
	msg[0] = '\0';
	if (json && cJSON_IsObject(json)) {
		const cJSON *kind = cJSON_GetObjectItemCaseSensitive(json, "kind");
		if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "Status")) {
			const cJSON *reason = cJSON_GetObjectItemCaseSensitive(json, "reason");
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(json, "message");
			if (cJSON_IsString(reason))
				r.reason = reason->valuestring;
			if (cJSON_IsString(m))
				r.message = m->valuestring;
		}
	}
	if (transport_err) {
		snprintf(msg, sizeof(msg), "%s", transport_err);
		r.message = msg;
	} else if (!r.message[0] && (r.status < 200 || r.status > 299)) {
		snprintf(msg, sizeof(msg), "HTTP %d", r.status);
		r.message = msg;
	}
	r.complete = call->complete && !transport_err;
	r.retry_after_s = k8s_parse_retry_after(call->retry_after[0] ? call->retry_after : NULL,
						k8s_now_wall_ns());
	if (r.status == 401)
		k8s_config_token_invalidate(c->cfg);
	if (c->hook && !call->hooked)
		c->hook(c->hook_ctx, call->verb, call->resource, r.status);
	if (call->on_done && !atomic_load(&c->stopping))
		call->on_done(call->ctx, &r);
	cJSON_Delete(json);
	call_release(call);
}

static void call_timer(void *arg)
{
	struct k8s_call *call = arg;
	char m[128];
	if (call->established && call->on_data)
		snprintf(m, sizeof(m), "no data from the API server for %u s",
			 call->idle_timeout_s);
	else if (call->established)
		snprintf(m, sizeof(m), "the API server did not answer within %u s",
			 call->c->timeout_s);
	else
		snprintf(m, sizeof(m), "cannot connect to the API server within %u s",
			 call->c->connect_timeout_s);
	finish(call, m);
}

static void start_call(struct k8s_client *c, struct k8s_call *call)
{
	struct k8s_config *cfg = c->cfg;
	call->next = c->live;
	if (c->live)
		c->live->prev = call;
	c->live = call;
	k8s_timer_init(&call->timer, c, call_timer, call);
	k8s_timer_arm(&call->timer,
		      (uint64_t)(c->connect_timeout_s + (call->on_data ? 0 : c->timeout_s)) *
			      1000000000ull);

	size_t plen = strlen(cfg->path_prefix) + strlen(call->path) + 1;
	char *full = k8s_xmalloc(plen);
	snprintf(full, plen, "%s%s", cfg->path_prefix, call->path);

	struct httpc_req req = {
		.ctx = c->ctx,
		.vh = c->vh,
		.protocol = "k8s",
		.host = cfg->host,
		.port = cfg->port,
		.host_header = c->hosthdr,
		.method = call->method,
		.path = full,
		.tls = cfg->tls,
		.insecure = cfg->insecure,
		.userdata = call,
		.pwsi = &call->wsi,
	};

	c->connecting = call;
	c->connect_failed = false;
	struct lws *w = httpc_connect(&req);
	c->connecting = NULL;
	free(full);
	if (!w || c->connect_failed) {
		call->wsi = w;
		finish(call, call->errmsg[0] ? call->errmsg : "cannot start the connection");
	}
}

/* --- the protocol callback ----------------------------------------------------- */

/* lws reports a failed verification as a bare OpenSSL error: say what it
 * most likely means. */
static void tls_hint(struct k8s_client *c, char *msg, size_t len)
{
	if (!strstr(msg, "SSL") || !c->cfg->tls)
		return;
	struct k8s_buf b = {0};
	k8s_buf_printf(&b,
		       "TLS handshake with %s:%d failed (is the server certificate signed by %s "
		       "and valid for %s?): %s",
		       c->cfg->host, c->cfg->port,
		       c->cfg->ca_file ? c->cfg->ca_file : "the configured CA data", c->cfg->host,
		       msg);
	size_t n = b.len < len ? b.len : len - 1;
	memcpy(msg, b.p, n);
	msg[n] = '\0';
	k8s_buf_free(&b);
}

static void drain(struct k8s_client *c)
{
	for (;;) {
		pthread_mutex_lock(&c->mu);
		struct post *p = c->posts;
		if (p) {
			c->posts = p->next;
			if (!c->posts)
				c->posts_tail = &c->posts;
		}
		struct k8s_call *call = p ? NULL : c->queue;
		if (call) {
			c->queue = call->qnext;
			if (!c->queue)
				c->queue_tail = &c->queue;
		}
		pthread_mutex_unlock(&c->mu);
		if (p) {
			p->fn(p->ctx);
			free(p);
		} else if (call) {
			if (call->finished) {
				call_free(call); /* cancelled while queued */
				continue;
			}
			call->started = true;
			start_call(c, call);
		} else {
			break;
		}
	}
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct k8s_call *call = user;
	struct lws_context *lctx = lws_get_context(wsi);
	struct k8s_client *c = lctx ? lws_context_user(lctx) : NULL;

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (c && !atomic_load(&c->stopping))
			drain(c);
		return 0;

	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (!call)
			return 0;
		snprintf(call->errmsg, sizeof(call->errmsg), "%s",
			 in && len ? (const char *)in : "connection failed");
		if (in && !len)
			snprintf(call->errmsg, sizeof(call->errmsg), "%s", (const char *)in);
		tls_hint(c, call->errmsg, sizeof(call->errmsg));
		/* no later callback of this connection may find the call */
		lws_set_wsi_user(wsi, NULL);
		call->wsi = NULL;
		if (c && c->connecting == call) {
			c->connect_failed = true;
			return 0;
		}
		finish(call, call->errmsg);
		return 0;

	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		if (!call)
			return 0;
		unsigned char **p = (unsigned char **)in, *end = (*p) + len;
		char tok[8192], terr[256];
		terr[0] = '\0';
		k8s_config_token(c->cfg, tok, sizeof(tok), terr, sizeof(terr));
		if (tok[0]) {
			char *auth = k8s_xmalloc(strlen(tok) + 8);
			sprintf(auth, "Bearer %s", tok);
			int bad = httpc_add_header(wsi, "authorization:", auth, p, end);
			free(auth);
			if (bad)
				return -1;
		}
		if (httpc_add_header(wsi, "accept:", call->accept ? call->accept : K8S_CT_JSON, p,
				     end) ||
		    httpc_add_header(wsi, "user-agent:", c->user_agent, p, end))
			return -1;
		if (call->body &&
		    httpc_add_body_headers(wsi, call->ctype ? call->ctype : K8S_CT_JSON,
					   call->body_len, p, end))
			return -1;
		return 0;
	}

	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
		if (!call || !call->body)
			return 0;
		return httpc_write_body(wsi, call->body, call->body_len, &call->body_off);
	}

	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		if (!call)
			return 0;
		call->established = true;
		call->status = (int)lws_http_client_http_response(wsi);
		if (lws_hdr_copy(wsi, call->retry_after, sizeof(call->retry_after),
				 WSI_TOKEN_HTTP_RETRY_AFTER) < 0)
			call->retry_after[0] = '\0';
		call->last_rx = k8s_now_mono_ns();
		/* a stream is counted when it starts, not minutes later */
		if (call->on_data && c->hook) {
			call->hooked = true;
			c->hook(c->hook_ctx, call->verb, call->resource, call->status);
		}
		if (call->on_data && call->idle_timeout_s)
			k8s_timer_arm(&call->timer, (uint64_t)call->idle_timeout_s * 1000000000ull);
		else if (call->on_data)
			k8s_timer_cancel(&call->timer);
		return 0;

	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		if (!call)
			return -1;
		return httpc_read(wsi);
	}

	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (!call)
			return -1;
		if (call->on_data && call->status >= 200 && call->status <= 299) {
			if (call->idle_timeout_s)
				k8s_timer_arm(&call->timer,
					      (uint64_t)call->idle_timeout_s * 1000000000ull);
			if (call->on_data(call->ctx, in, len)) {
				call->stream_error = true;
				finish(call, "stream closed by the client");
				return -1;
			}
			return 0;
		}
		if (call->resp.len + len > (256u << 20)) {
			finish(call, "response too large");
			return -1;
		}
		k8s_buf_add(&call->resp, in, len);
		return 0;

	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (!call)
			return -1;
		call->complete = true;
		call->wsi = NULL; /* returning -1 closes it */
		lws_set_wsi_user(wsi, NULL);
		finish(call, NULL);
		return -1;

	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (!call)
			return 0;
		lws_set_wsi_user(wsi, NULL);
		call->wsi = NULL;
		finish(call, call->established ? "the API server closed the connection"
					       : "connection closed before a response");
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{"k8s", callback, 0, 0, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* --- lifecycle ----------------------------------------------------------------- */

static void *service_main(void *arg)
{
	struct k8s_client *c = arg;
	c->thread_id = pthread_self();
	atomic_store(&c->running, true);
	while (!atomic_load(&c->stopping))
		if (lws_service(c->ctx, 0) < 0)
			break;
	return NULL;
}

struct k8s_client *k8s_client_new(struct k8s_config *cfg, const struct k8s_client_opts *opts,
				  char *err, size_t errlen)
{
	struct k8s_client_opts o = {0};
	if (opts)
		o = *opts;
	if (cfg->tls && !cfg->insecure && !cfg->ca_file && !cfg->ca_data) {
		k8s_set_err(err, errlen, "%s: no CA to verify the API server with", cfg->source);
		return NULL;
	}
	lws_set_log_level(LLL_ERR, lws_log_sink);

	struct k8s_client *c = k8s_xcalloc(1, sizeof(*c));
	c->cfg = cfg;
	c->user_agent = k8s_xstrdup(o.user_agent ? o.user_agent : "vigil");
	c->timeout_s = o.timeout_s ? o.timeout_s : 30;
	c->connect_timeout_s = o.connect_timeout_s ? o.connect_timeout_s : 10;
	c->hook = o.hook;
	c->hook_ctx = o.hook_ctx;
	pthread_mutex_init(&c->mu, NULL);
	c->posts_tail = &c->posts;
	c->queue_tail = &c->queue;
	c->hosthdr = httpc_host_header(cfg->host);

	/* inline material exists as files only while lws loads it */
	struct k8s_tls_files tf;
	if (k8s_config_tls_files(cfg, &tf, err, errlen))
		goto fail;
	struct httpc_ctx_opts co = {
		.protocols = protocols,
		.user = c,
		.ca_file = tf.ca,
		.cert_file = tf.cert,
		.key_file = tf.key,
		.no_os_ca = true, /* trust the configured CA only, never the OS store */
		.timeout_s = c->connect_timeout_s,
		.serv_buf_size = 32 * 1024, /* service-account tokens make long headers */
	};
	char why[256];
	int hrc = httpc_ctx_new(&co, &c->ctx, &c->vh, why, sizeof(why));
	k8s_config_tls_files_done(&tf);
	if (hrc == HTTPC_CTX_VHOST) {
		k8s_set_err(err, errlen,
			    "%s: cannot set up TLS (CA %s, client certificate %s, key %s)",
			    cfg->source,
			    cfg->ca_file   ? cfg->ca_file
			    : cfg->ca_data ? "data"
					   : "none",
			    cfg->client_cert_file ? cfg->client_cert_file : "data or none",
			    cfg->client_key_file ? cfg->client_key_file : "data or none");
		goto fail;
	}
	if (hrc) {
		k8s_set_err(err, errlen, "%s: %s", cfg->source, why);
		goto fail;
	}
	int rc = pthread_create(&c->thread, NULL, service_main, c);
	if (rc) {
		k8s_set_err(err, errlen, "thread: %s", strerror(rc));
		goto fail;
	}
	return c;
fail:
	if (c->ctx)
		lws_context_destroy(c->ctx);
	pthread_mutex_destroy(&c->mu);
	free(c->user_agent);
	free(c->hosthdr);
	free(c);
	return NULL;
}

void k8s_client_free(struct k8s_client *c)
{
	if (!c)
		return;
	atomic_store(&c->stopping, true);
	lws_cancel_service(c->ctx);
	pthread_join(c->thread, NULL);
	/* release every call before the context closes their connections */
	while (c->live) {
		struct k8s_call *call = c->live;
		call->finished = true;
		call_release(call);
	}
	lws_context_destroy(c->ctx);
	while (c->queue) {
		struct k8s_call *call = c->queue;
		c->queue = call->qnext;
		call_free(call);
	}
	while (c->posts) {
		struct post *p = c->posts;
		c->posts = p->next;
		free(p);
	}
	pthread_mutex_destroy(&c->mu);
	free(c->user_agent);
	free(c->hosthdr);
	free(c);
}

struct k8s_config *k8s_client_config(struct k8s_client *c)
{
	return c->cfg;
}

bool k8s_client_on_thread(struct k8s_client *c)
{
	return atomic_load(&c->running) && pthread_equal(pthread_self(), c->thread_id);
}

static char *dup_or_null(const char *s)
{
	return s ? k8s_xstrdup(s) : NULL;
}

struct k8s_call *k8s_client_request(struct k8s_client *c, const struct k8s_request *r)
{
	if (atomic_load(&c->stopping))
		return NULL;
	struct k8s_call *call = k8s_xcalloc(1, sizeof(*call));
	call->c = c;
	call->method = k8s_xstrdup(r->method ? r->method : "GET");
	call->path = k8s_xstrdup(r->path);
	call->accept = dup_or_null(r->accept);
	call->ctype = dup_or_null(r->content_type);
	call->verb = k8s_xstrdup(r->verb ? r->verb : default_verb(call->method));
	call->resource = k8s_xstrdup(r->resource ? r->resource : "other");
	if (r->body) {
		call->body = k8s_xstrndup(r->body, r->body_len);
		call->body_len = r->body_len;
	}
	call->on_data = r->on_data;
	call->on_done = r->on_done;
	call->ctx = r->ctx;
	call->idle_timeout_s = r->idle_timeout_s;
	pthread_mutex_lock(&c->mu);
	*c->queue_tail = call;
	c->queue_tail = &call->qnext;
	pthread_mutex_unlock(&c->mu);
	lws_cancel_service(c->ctx);
	return call;
}

void k8s_call_cancel(struct k8s_call *call)
{
	if (!call || call->finished)
		return;
	call->finished = true;
	if (!call->started)
		return; /* still queued: drain() frees it */
	call_release(call);
}

int k8s_client_post(struct k8s_client *c, void (*fn)(void *ctx), void *ctx)
{
	if (atomic_load(&c->stopping))
		return -1;
	struct post *p = k8s_xcalloc(1, sizeof(*p));
	p->fn = fn;
	p->ctx = ctx;
	pthread_mutex_lock(&c->mu);
	*c->posts_tail = p;
	c->posts_tail = &p->next;
	pthread_mutex_unlock(&c->mu);
	lws_cancel_service(c->ctx);
	return 0;
}

struct sync_call {
	void (*fn)(void *ctx);
	void *ctx;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static void sync_run(void *arg)
{
	struct sync_call *s = arg;
	s->fn(s->ctx);
	pthread_mutex_lock(&s->mu);
	s->done = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

int k8s_client_call(struct k8s_client *c, void (*fn)(void *ctx), void *ctx)
{
	if (k8s_client_on_thread(c)) {
		fn(ctx);
		return 0;
	}
	struct sync_call s = {.fn = fn, .ctx = ctx};
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	int rc = k8s_client_post(c, sync_run, &s);
	if (!rc) {
		pthread_mutex_lock(&s.mu);
		while (!s.done)
			pthread_cond_wait(&s.cv, &s.mu);
		pthread_mutex_unlock(&s.mu);
	}
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
	return rc;
}

/* --- blocking helper --------------------------------------------------------------- */

struct do_state {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int status;
	cJSON *json;
	char *msg;
	size_t msglen;
};

static void do_done(void *arg, const struct k8s_response *r)
{
	struct do_state *d = arg;
	pthread_mutex_lock(&d->mu);
	d->status = r->status;
	d->json = r->json ? cJSON_Duplicate(r->json, 1) : NULL;
	if (d->msg && d->msglen)
		snprintf(d->msg, d->msglen, "%s", r->message);
	d->done = true;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

int k8s_client_do(struct k8s_client *c, const struct k8s_request *r, cJSON **json, char *msg,
		  size_t msglen)
{
	struct do_state d = {.msg = msg, .msglen = msglen};
	pthread_mutex_init(&d.mu, NULL);
	pthread_cond_init(&d.cv, NULL);
	struct k8s_request rr = *r;
	rr.on_done = do_done;
	rr.ctx = &d;
	rr.on_data = NULL;
	if (!k8s_client_request(c, &rr)) {
		k8s_set_err(msg, msglen, "client stopping");
		d.done = true;
	}
	pthread_mutex_lock(&d.mu);
	while (!d.done)
		pthread_cond_wait(&d.cv, &d.mu);
	pthread_mutex_unlock(&d.mu);
	pthread_cond_destroy(&d.cv);
	pthread_mutex_destroy(&d.mu);
	if (json)
		*json = d.json;
	else
		cJSON_Delete(d.json);
	return d.status;
}
