/* httpd.h - the agent's HTTP endpoint (libwebsockets): metrics and probes.
 *
 *   GET /metrics  the registry in Prometheus text format 0.0.4
 *   GET /healthz  200 "ok\n" while the process (and this server) runs
 *   GET /readyz   200 "ok\n" once every required readiness condition holds
 *                 (then the vg_httpd_set_detail line, when one is set),
 *                 else 503 "not ready: <what is missing>\n"
 *   other paths   404;  other methods on any path: 405 with Allow: GET
 *
 * The server runs its own service thread; handlers only read the registry
 * and the readiness bits, so the rest of the agent never waits for it.
 * Bodies are written one chunk per writeable callback, so a slow scraper
 * never blocks the thread or truncates the body.
 *
 * TLS: with tls_cert and tls_key (PEM files) the listener serves HTTPS
 * only; ALPN may pick HTTP/2, which the handlers support.
 *
 * libwebsockets' own diagnostics are global to the process; starting the
 * server routes its errors and warnings to vg_log at debug level (what
 * matters is returned in err).
 */
#ifndef VIGIL_HTTPD_H
#define VIGIL_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"

#define VG_HTTPD_DEFAULT_LISTEN "0.0.0.0:8765"

/* Readiness conditions (bits). */
#define VG_READY_PROBES (1u << 0)    /* BPF programs attached */
#define VG_READY_RULES (1u << 1)     /* a rule set is loaded */
#define VG_READY_INFORMERS (1u << 2) /* Kubernetes informers synced */
#define VG_READY_AUDIT (1u << 3)     /* the audit webhook receiver listens */

struct vg_httpd_config {
	/* "host:port": host an IPv4 or IPv6 address ("[::1]:8765"), a host
	 * name (resolved at start; its first address is bound), or empty for
	 * every address (IPv4 and IPv6); "0.0.0.0" is every IPv4 address.
	 * Port 0 picks a free port (vg_httpd_port says which).  NULL =
	 * VG_HTTPD_DEFAULT_LISTEN. */
	const char *listen;
	struct vg_metrics *metrics; /* NULL: /metrics is 404 */
	/* VG_READY_* bits /readyz waits for, e.g. PROBES|RULES, plus
	 * INFORMERS in a cluster; 0 = ready at once. */
	unsigned required;
	const char *tls_cert; /* PEM paths, both or neither */
	const char *tls_key;
};

struct vg_httpd;

/* Bind and start serving.  Returns NULL with err set ("listen
 * 0.0.0.0:8765: Address already in use", a bad address, an unreadable
 * certificate...); never exits. */
struct vg_httpd *vg_httpd_start(const struct vg_httpd_config *cfg, char *err, size_t errlen);

/* The port actually bound. */
int vg_httpd_port(const struct vg_httpd *h);
/* Where it listens, as an address: "127.0.0.1:8765", "[::1]:8765",
 * "[::]:8765" for every address. */
const char *vg_httpd_address(const struct vg_httpd *h);

/* A line /readyz adds after its status (e.g. the capture's kernel
 * features); copied.  Call before the condition it describes is set. */
void vg_httpd_set_detail(struct vg_httpd *h, const char *text);

/* Set or clear readiness conditions (any thread). */
void vg_httpd_set_ready(struct vg_httpd *h, unsigned bits, bool ok);

/* Stop the service thread, close every connection, free.  NULL is fine. */
void vg_httpd_stop(struct vg_httpd *h);

#endif
