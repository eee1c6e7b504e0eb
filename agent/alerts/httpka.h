/* httpka.h - HTTP/1.1 POST on a kept-alive connection (netconn), for the
 * HTTP sink's default mode.
 *
 * libwebsockets' client (httpc.h, which the Kubernetes client keeps)
 * opens a connection per request in the way the sink drives it; a sink
 * thread that sends one request at a time needs no event loop, so this
 * is a plain blocking client: the connection is reused until the server
 * closes it or answers "Connection: close"; answers may be sized by
 * Content-Length, chunked, or end with the connection.  Redirects are
 * reported, never followed.
 */
#ifndef VIGIL_HTTPKA_H
#define VIGIL_HTTPKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netconn.h"

struct httpka {
	struct nc conn;
	char *head; /* "POST path HTTP/1.1\r\nHost..\r\n" without Content-Length */
	size_t headlen;
	char *req; /* head + Content-Length + body, reused */
	size_t reqcap;
	char buf[16384]; /* the answer being read */
	size_t blen, boff;
	uint64_t last_ns;  /* the last answer */
	uint64_t connects; /* connections opened (tests, bench) */
};

/* headers: "Name: value" strings. */
void httpka_init(struct httpka *k, const struct nc_opts *no, struct nc_tls *tls,
		 const atomic_bool *give_up, const char *path, const char *host_header,
		 const char *content_type, const char *const *hnames, const char *const *hvalues,
		 size_t nheaders);
void httpka_free(struct httpka *k);

/* POST body; 0 with *status set when an answer came (any status), -1
 * with *reason (VG_SINK_R_*) and err when none did.  location gets a 3xx
 * answer's Location header. */
int httpka_post(struct httpka *k, const char *body, size_t len, unsigned timeout_ms, int *status,
		char *location, size_t loclen, const char **reason, char *err, size_t errlen);

#endif
