/* netconn.h - one blocking client connection for the network sinks
 * (syslog, HTTP keep-alive): TCP, TCP with TLS (OpenSSL), UDP, or a Unix
 * socket (datagram or stream), with every wait bounded by a deadline and
 * cut short when the caller's give_up flag is set.
 *
 * A sink thread owns its connection; nothing here is shared or locked.
 * Errors come back as -1 with err set and *reason one of the sink's
 * VG_SINK_R_* words (connect, timeout, write_error, shutdown, tls).
 */
#ifndef VIGIL_NETCONN_H
#define VIGIL_NETCONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nc_kind { NC_TCP, NC_UDP, NC_UNIX_DGRAM, NC_UNIX_STREAM };

struct nc_opts {
	enum nc_kind kind;
	const char *host; /* TCP/UDP: name or address; Unix: the socket's path */
	int port;
	bool tls;			      /* TCP only */
	const char *ca_file;		      /* PEM to verify the server; NULL: the system's */
	const char *client_cert, *client_key; /* PEM, for mutual TLS */
	const char *server_name;	      /* checked against the certificate; NULL: host */
	bool insecure;			      /* do not verify the server (tests only) */
};

struct nc_tls; /* the OpenSSL context, made once per sink */

/* Load the TLS material (NULL with err naming the file when it cannot). */
struct nc_tls *nc_tls_new(const struct nc_opts *o, char *err, size_t errlen);
void nc_tls_free(struct nc_tls *t);

struct nc {
	int fd; /* -1 when closed */
	void *ssl;
	const struct nc_opts *o;
	struct nc_tls *tls;
	const atomic_bool *give_up; /* may be NULL */
};

void nc_init(struct nc *c, const struct nc_opts *o, struct nc_tls *tls, const atomic_bool *give_up);
bool nc_is_open(const struct nc *c);

/* Connect (and shake hands) before deadline_ns (monotonic). */
int nc_connect(struct nc *c, uint64_t deadline_ns, const char **reason, char *err, size_t errlen);

/* Write all of buf (a datagram socket: as one datagram). */
int nc_write(struct nc *c, const void *buf, size_t len, uint64_t deadline_ns, const char **reason,
	     char *err, size_t errlen);

/* Read what is there, waiting up to deadline_ns: > 0 bytes, 0 when the
 * peer closed, -1 on error or time-out. */
long nc_read(struct nc *c, void *buf, size_t len, uint64_t deadline_ns, const char **reason,
	     char *err, size_t errlen);

/* Without waiting: true when a stream peer has closed (or reset) its end,
 * so that the next write would go nowhere.  Unexpected bytes from the
 * peer are read and dropped (neither syslog nor an idle HTTP connection
 * has anything to say). */
bool nc_peer_closed(struct nc *c);

/* Closes at once (an error, a peer that left): no close_notify. */
void nc_close(struct nc *c);

/* The end of a healthy stream connection: a TLS close_notify after the
 * last message, the write side shut (FIN), then the peer's input read and
 * dropped until it closes too or wait_ms passed, and only then closed.  A
 * receiver reading strictly takes an end without close_notify for a
 * truncation (rsyslog's TLS input drops what it had not parsed yet), and a
 * close with unread input sends a reset. */
void nc_finish(struct nc *c, int wait_ms);

#endif
