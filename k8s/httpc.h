/* httpc.h - the HTTP/1.1 client core on libwebsockets that the Kubernetes
 * client (k8s_client.c) and the agent's HTTP sink (agent/alerts/sink_http.c)
 * share: URL parsing, the TLS context, starting a request (never following
 * a redirect), request headers and body, reading the answer.  Nothing here
 * is Kubernetes-specific; it lives in k8s/, the bottom library, because
 * both need it.  Each user keeps its own protocol callback and its own idea
 * of a request's life; these are the pieces that were written twice. */
#ifndef VIGIL_HTTPC_H
#define VIGIL_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

struct lws;
struct lws_context;
struct lws_vhost;
struct lws_protocols;

/* http[s]://host[:port][/path[?query]], host a name, an IPv4 address or a
 * bracketed IPv6 address. */
struct httpc_url {
	bool tls;
	char *host; /* without brackets */
	int port;   /* 443 / 80 when the URL has none */
	char *path; /* from the first '/' as written; "/" when the URL has none */
};

enum {
	HTTPC_URL_SCHEME = -2, /* not http:// or https:// */
	HTTPC_URL_BAD = -1,    /* anything else; why says what */
};

/* 0, or HTTPC_URL_* with why set ("\"URL\" ...": the URL quoted first). */
int httpc_url_parse(const char *url, struct httpc_url *u, char *why, size_t whylen);
void httpc_url_free(struct httpc_url *u);

/* The Host header's value for host: "[addr]" for an IPv6 address; malloc'd. */
char *httpc_host_header(const char *host);

/* A client context with one vhost that holds the TLS material. */
struct httpc_ctx_opts {
	const struct lws_protocols *protocols;
	void *user;	       /* lws_context_user() */
	const char *ca_file;   /* PEM; NULL: the OS store, unless no_os_ca */
	const char *cert_file; /* PEM client certificate, with key_file */
	const char *key_file;
	bool no_os_ca;		/* trust ca_file only */
	unsigned timeout_s;	/* lws's connect/TLS timeout; 0: lws's default */
	unsigned serv_buf_size; /* per-thread buffer (long headers); 0: default */
	unsigned fd_limit;	/* 0: lws's default */
};
enum {
	HTTPC_CTX_FILES = -3,	/* a named TLS file cannot be read (err says which) */
	HTTPC_CTX_CONTEXT = -2, /* lws_create_context failed */
	HTTPC_CTX_VHOST = -1,	/* the TLS material did not load */
};
/* 0 with *ctx and *vh set, or HTTPC_CTX_* with err set (and nothing to
 * free).  lws only logs an unreadable file and goes on without it, so the
 * files are checked first. */
int httpc_ctx_new(const struct httpc_ctx_opts *o, struct lws_context **ctx, struct lws_vhost **vh,
		  char *err, size_t errlen);

/* One request on a new connection. */
struct httpc_req {
	struct lws_context *ctx;
	struct lws_vhost *vh;
	const char *protocol; /* the local protocol's name (its callback) */
	const char *host;     /* to connect to */
	int port;
	const char *host_header; /* Host: (httpc_host_header) */
	const char *method;
	const char *path; /* with its query */
	bool tls;
	bool insecure;	   /* accept any server certificate */
	void *userdata;	   /* lws_wsi_user() in the callback */
	struct lws **pwsi; /* set as soon as the connection exists */
};
/* Start it; a 3xx answer is reported like any other status, never
 * followed.  NULL when it cannot even start. */
struct lws *httpc_connect(const struct httpc_req *r);

/* On LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: add "name:" value;
 * non-zero when out of room. */
int httpc_add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
		     unsigned char *end);
/* On LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER of a request with a body:
 * add Content-Type and Content-Length, and ask for the writeable callback
 * that sends it (httpc_write_body).  Non-zero when out of room. */
int httpc_add_body_headers(struct lws *wsi, const char *content_type, size_t len, unsigned char **p,
			   unsigned char *end);
/* On LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: write the next chunk of body from
 * *off, then ask for the next writeable or end the body.  -1 when the write
 * failed. */
int httpc_write_body(struct lws *wsi, const char *body, size_t len, size_t *off);
/* On LWS_CALLBACK_RECEIVE_CLIENT_HTTP: let lws read (and de-chunk) what
 * arrived; it comes back as LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ.  -1 on
 * error (return it to close). */
int httpc_read(struct lws *wsi);

#endif
