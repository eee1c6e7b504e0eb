/* httpc.c - see httpc.h. */
#include "httpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "k8s_util.h"

int httpc_url_parse(const char *url, struct httpc_url *u, char *why, size_t whylen)
{
	memset(u, 0, sizeof(*u));
	const char *p;
	if (!strncmp(url, "https://", 8)) {
		u->tls = true;
		p = url + 8;
	} else if (!strncmp(url, "http://", 7)) {
		p = url + 7;
	} else {
		snprintf(why, whylen, "\"%s\" is not an http(s) URL", url);
		return HTTPC_URL_SCHEME;
	}
	const char *hend;
	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend) {
			snprintf(why, whylen, "\"%s\": unterminated IPv6 address", url);
			return HTTPC_URL_BAD;
		}
		u->host = k8s_xstrndup(p + 1, (size_t)(hend - p - 1));
		hend++;
	} else {
		hend = p + strcspn(p, ":/?#");
		u->host = k8s_xstrndup(p, (size_t)(hend - p));
	}
	if (!u->host[0]) {
		snprintf(why, whylen, "\"%s\" has no host", url);
		goto bad;
	}
	u->port = u->tls ? 443 : 80;
	if (*hend == ':') {
		char *e;
		long port = strtol(hend + 1, &e, 10);
		if (e == hend + 1 || port <= 0 || port > 65535) {
			snprintf(why, whylen, "\"%s\": bad port", url);
			goto bad;
		}
		u->port = (int)port;
		hend = e;
	}
	if (*hend && *hend != '/') {
		snprintf(why, whylen, "\"%s\": unexpected \"%s\"", url, hend);
		goto bad;
	}
	/* the request line needs a path: the root when the URL names none */
	u->path = k8s_xstrdup(*hend ? hend : "/");
	return 0;
bad:
	httpc_url_free(u);
	return HTTPC_URL_BAD;
}

void httpc_url_free(struct httpc_url *u)
{
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

char *httpc_host_header(const char *host)
{
	size_t hl = strlen(host) + 3;
	char *h = k8s_xmalloc(hl);
	snprintf(h, hl, strchr(host, ':') ? "[%s]" : "%s", host);
	return h;
}

int httpc_ctx_new(const struct httpc_ctx_opts *o, struct lws_context **ctx, struct lws_vhost **vh,
		  char *err, size_t errlen)
{
	*ctx = NULL;
	*vh = NULL;
	const char *files[] = {o->ca_file, o->cert_file, o->key_file};
	for (int i = 0; i < 3; i++) {
		FILE *f = files[i] ? fopen(files[i], "r") : NULL;
		if (files[i] && !f) {
			k8s_set_err(err, errlen, "cannot read %s: %s", files[i], strerror(errno));
			return HTTPC_CTX_FILES;
		}
		if (f)
			fclose(f);
	}
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.user = o->user;
	info.gid = -1;
	info.uid = -1;
	info.pt_serv_buf_size = o->serv_buf_size;
	info.timeout_secs = o->timeout_s;
	info.fd_limit_per_thread = o->fd_limit;
	*ctx = lws_create_context(&info);
	if (!*ctx) {
		k8s_set_err(err, errlen, "cannot create the libwebsockets context");
		return HTTPC_CTX_CONTEXT;
	}
	memset(&info, 0, sizeof(info));
	info.vhost_name = "httpc";
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = o->protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (o->no_os_ca)
		info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
	info.client_ssl_ca_filepath = o->ca_file;
	info.client_ssl_cert_filepath = o->cert_file;
	info.client_ssl_private_key_filepath = o->key_file;
	info.timeout_secs = o->timeout_s;
	*vh = lws_create_vhost(*ctx, &info);
	if (!*vh) {
		lws_context_destroy(*ctx);
		*ctx = NULL;
		k8s_set_err(err, errlen, "cannot set up TLS (CA, client certificate or key)");
		return HTTPC_CTX_VHOST;
	}
	return 0;
}

struct lws *httpc_connect(const struct httpc_req *r)
{
	struct lws_client_connect_info i;
	memset(&i, 0, sizeof(i));
	i.context = r->ctx;
	i.vhost = r->vh;
	i.address = r->host;
	i.port = r->port;
	i.path = r->path;
	i.host = r->host_header;
	i.origin = r->host_header;
	i.method = r->method;
	i.alpn = "http/1.1";
	i.local_protocol_name = r->protocol;
	i.userdata = r->userdata;
	i.pwsi = r->pwsi;
	if (r->tls) {
		i.ssl_connection = LCCSCF_USE_SSL;
		if (r->insecure)
			i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
					    LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
					    LCCSCF_ALLOW_EXPIRED | LCCSCF_ALLOW_INSECURE;
	}
	i.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	return lws_client_connect_via_info(&i);
}

int httpc_add_header(struct lws *wsi, const char *name, const char *value, unsigned char **p,
		     unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
					   (const unsigned char *)value, (int)strlen(value), p,
					   end);
}

int httpc_add_body_headers(struct lws *wsi, const char *content_type, size_t len, unsigned char **p,
			   unsigned char *end)
{
	char cl[32];
	snprintf(cl, sizeof(cl), "%zu", len);
	if (httpc_add_header(wsi, "content-type:", content_type, p, end) ||
	    httpc_add_header(wsi, "content-length:", cl, p, end))
		return -1;
	lws_client_http_body_pending(wsi, 1);
	lws_callback_on_writable(wsi);
	return 0;
}

int httpc_write_body(struct lws *wsi, const char *body, size_t len, size_t *off)
{
	size_t chunk = len - *off;
	if (chunk > 4096)
		chunk = 4096;
	unsigned char buf[LWS_PRE + 4096];
	memcpy(buf + LWS_PRE, body + *off, chunk);
	bool last = *off + chunk >= len;
	if (lws_write(wsi, buf + LWS_PRE, chunk, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
	    (int)chunk)
		return -1;
	*off += chunk;
	if (last)
		lws_client_http_body_pending(wsi, 0);
	else
		lws_callback_on_writable(wsi);
	return 0;
}

int httpc_read(struct lws *wsi)
{
	char buffer[LWS_PRE + 16384];
	char *px = buffer + LWS_PRE;
	int lenx = sizeof(buffer) - LWS_PRE;
	return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
}
