/* netconn.c - see netconn.h.
 *
 * Sockets are non-blocking and every wait is a poll() in steps of at most
 * 50 ms, so a give_up flag set by the dispatcher at its shutdown deadline
 * ends any wait promptly.  TLS is OpenSSL on the same non-blocking socket
 * (SSL_ERROR_WANT_READ/WRITE turn into polls). */
#include "netconn.h"
#include "sink.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct nc_tls {
	SSL_CTX *ctx;
};

static void ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "%s%s%s", what, *buf ? ": " : "", buf);
}

struct nc_tls *nc_tls_new(const struct nc_opts *o, char *err, size_t errlen)
{
	const char *files[] = {o->ca_file, o->client_cert, o->client_key};
	for (int i = 0; i < 3; i++)
		if (files[i] && access(files[i], R_OK)) {
			snprintf(err, errlen, "cannot read %s: %s", files[i], strerror(errno));
			return NULL;
		}
	if (!o->client_cert != !o->client_key) {
		snprintf(err, errlen, "a client certificate needs its key (and the reverse)");
		return NULL;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		ssl_err(err, errlen, "cannot create the TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	int ok = o->ca_file ? SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL)
			    : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		ssl_err(err, errlen, o->ca_file ? "cannot load the CA file" : "no system CAs");
		goto fail;
	}
	if (o->client_cert &&
	    (SSL_CTX_use_certificate_chain_file(ctx, o->client_cert) != 1 ||
	     SSL_CTX_use_PrivateKey_file(ctx, o->client_key, SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(ctx) != 1)) {
		ssl_err(err, errlen, "cannot load the client certificate and key");
		goto fail;
	}
	SSL_CTX_set_verify(ctx, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
	struct nc_tls *t = vg_xcalloc(1, sizeof(*t));
	t->ctx = ctx;
	return t;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

void nc_tls_free(struct nc_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

void nc_init(struct nc *c, const struct nc_opts *o, struct nc_tls *tls, const atomic_bool *give_up)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->o = o;
	c->tls = tls;
	c->give_up = give_up;
}

bool nc_is_open(const struct nc *c)
{
	return c->fd >= 0;
}

void nc_close(struct nc *c)
{
	if (c->ssl) {
		SSL_free(c->ssl); /* no close_notify: the socket goes anyway */
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void nc_finish(struct nc *c, int wait_ms)
{
	if (c->fd < 0 || c->o->kind == NC_UDP || c->o->kind == NC_UNIX_DGRAM) {
		nc_close(c);
		return;
	}
	uint64_t deadline = vg_now_mono_ns() + (uint64_t)wait_ms * 1000000ull;
	/* close_notify (the peer's is not awaited: 0 says ours is out); a
	 * full send buffer (a slow peer) makes it wait for room */
	for (int i = 0; c->ssl && i < 64; i++) {
		int r = SSL_shutdown(c->ssl);
		if (r >= 0 || SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_WRITE)
			break;
		uint64_t now = vg_now_mono_ns();
		struct pollfd p = {c->fd, POLLOUT, 0};
		if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000000ull) + 1) <= 0)
			break;
	}
	ERR_clear_error();
	shutdown(c->fd, SHUT_WR);
	char junk[4096];
	for (int i = 0; i < 256; i++) { /* bounded: the peer may keep talking */
		ssize_t r = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			break; /* the peer's end, or its reset */
		if (r > 0)
			continue;
		uint64_t now = vg_now_mono_ns();
		if (now >= deadline)
			break;
		struct pollfd p = {c->fd, POLLIN, 0};
		if (poll(&p, 1, (int)((deadline - now) / 1000000ull) + 1) == 0)
			break;
	}
	nc_close(c);
}

static bool giving_up(const struct nc *c)
{
	return c->give_up && atomic_load_explicit(c->give_up, memory_order_relaxed);
}

/* Wait for events on the socket until deadline: 1 ready, 0 timed out or
 * giving up (*reason says which). */
static int wait_fd(struct nc *c, short events, uint64_t deadline_ns, const char **reason)
{
	for (;;) {
		if (giving_up(c)) {
			*reason = VG_SINK_R_SHUTDOWN;
			return 0;
		}
		uint64_t now = vg_now_mono_ns();
		if (now >= deadline_ns) {
			*reason = VG_SINK_R_TIMEOUT;
			return 0;
		}
		uint64_t ms = (deadline_ns - now + 999999) / 1000000;
		struct pollfd p = {c->fd, events, 0};
		int r = poll(&p, 1, ms > 50 ? 50 : (int)ms);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR) {
			*reason = VG_SINK_R_CONNECT;
			return 0;
		}
	}
}

/* Once connected, a send or recv blocks for at most a step and then says
 * EAGAIN: one system call per write or read in the common case (a poll
 * before each would double them), and a deadline or give_up is still
 * checked every step. */
static int blocking_with_timeouts(int fd)
{
	struct timeval tv = {0, 50000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return 0;
}

static int sock_connect(struct nc *c, const struct sockaddr *sa, socklen_t sl, int family, int type,
			uint64_t deadline_ns, const char **reason, char *err, size_t errlen)
{
	int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*reason = VG_SINK_R_CONNECT;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	c->fd = fd;
	if (connect(fd, sa, sl) == 0)
		return blocking_with_timeouts(fd);
	if (errno != EINPROGRESS) {
		*reason = VG_SINK_R_CONNECT;
		snprintf(err, errlen, "connect: %s", strerror(errno));
		nc_close(c);
		return -1;
	}
	if (!wait_fd(c, POLLOUT, deadline_ns, reason)) {
		snprintf(err, errlen, "connect: %s",
			 vg_sink_is(*reason, VG_SINK_R_TIMEOUT) ? "timed out" : "shutting down");
		nc_close(c);
		return -1;
	}
	int e = 0;
	socklen_t el = sizeof(e);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
	if (e) {
		*reason = VG_SINK_R_CONNECT;
		snprintf(err, errlen, "connect: %s", strerror(e));
		nc_close(c);
		return -1;
	}
	return blocking_with_timeouts(fd);
}

static int tls_handshake(struct nc *c, uint64_t deadline_ns, const char **reason, char *err,
			 size_t errlen)
{
	SSL *ssl = SSL_new(c->tls->ctx);
	c->ssl = ssl;
	const char *name = c->o->server_name ? c->o->server_name : c->o->host;
	SSL_set_fd(ssl, c->fd);
	SSL_set_tlsext_host_name(ssl, name);
	if (!c->o->insecure) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		/* an address is checked against the IP SANs, a name against DNS */
		if (!X509_VERIFY_PARAM_set1_ip_asc(vp, name))
			X509_VERIFY_PARAM_set1_host(vp, name, 0);
	}
	for (;;) {
		ERR_clear_error();
		int r = SSL_connect(ssl);
		if (r == 1)
			return 0;
		int e = SSL_get_error(ssl, r);
		short ev = e == SSL_ERROR_WANT_READ    ? POLLIN
			   : e == SSL_ERROR_WANT_WRITE ? POLLOUT
						       : 0;
		if (!ev) {
			long v = SSL_get_verify_result(ssl);
			*reason = VG_SINK_R_TLS;
			if (v != X509_V_OK)
				snprintf(err, errlen, "TLS: the server's certificate: %s",
					 X509_verify_cert_error_string(v));
			else
				ssl_err(err, errlen, "TLS handshake failed");
			nc_close(c);
			return -1;
		}
		if (!wait_fd(c, ev, deadline_ns, reason)) {
			snprintf(err, errlen, "TLS handshake: %s",
				 vg_sink_is(*reason, VG_SINK_R_TIMEOUT) ? "timed out"
									: "shutting down");
			nc_close(c);
			return -1;
		}
	}
}

int nc_connect(struct nc *c, uint64_t deadline_ns, const char **reason, char *err, size_t errlen)
{
	nc_close(c);
	const struct nc_opts *o = c->o;
	if (o->kind == NC_UNIX_DGRAM || o->kind == NC_UNIX_STREAM) {
		struct sockaddr_un su = {.sun_family = AF_UNIX};
		if (strlen(o->host) >= sizeof(su.sun_path)) {
			*reason = VG_SINK_R_CONNECT;
			snprintf(err, errlen, "socket path too long");
			return -1;
		}
		strcpy(su.sun_path, o->host);
		return sock_connect(c, (struct sockaddr *)&su, sizeof(su), AF_UNIX,
				    o->kind == NC_UNIX_DGRAM ? SOCK_DGRAM : SOCK_STREAM,
				    deadline_ns, reason, err, errlen);
	}
	char port[16];
	snprintf(port, sizeof(port), "%d", o->port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = o->kind == NC_UDP ? SOCK_DGRAM : SOCK_STREAM};
	struct addrinfo *res = NULL;
	int g = getaddrinfo(o->host, port, &hints, &res);
	if (g) {
		*reason = VG_SINK_R_CONNECT;
		snprintf(err, errlen, "cannot resolve %s: %s", o->host, gai_strerror(g));
		return -1;
	}
	int rc = -1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		rc = sock_connect(c, ai->ai_addr, ai->ai_addrlen, ai->ai_family, ai->ai_socktype,
				  deadline_ns, reason, err, errlen);
		if (!rc || vg_sink_is(*reason, VG_SINK_R_SHUTDOWN))
			break;
	}
	freeaddrinfo(res);
	if (rc)
		return -1;
	if (o->kind == NC_TCP) {
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (o->tls)
			return tls_handshake(c, deadline_ns, reason, err, errlen);
	}
	return 0;
}

int nc_write(struct nc *c, const void *buf, size_t len, uint64_t deadline_ns, const char **reason,
	     char *err, size_t errlen)
{
	const char *p = buf;
	size_t off = 0;
	bool dgram = c->o->kind == NC_UDP || c->o->kind == NC_UNIX_DGRAM;
	while (off < len) {
		short ev = POLLOUT;
		if (c->ssl) {
			ERR_clear_error();
			int r = SSL_write(c->ssl, p + off, (int)(len - off));
			if (r > 0) {
				off += (size_t)r;
				continue;
			}
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_WANT_READ)
				ev = POLLIN;
			else if (e != SSL_ERROR_WANT_WRITE) {
				*reason = VG_SINK_R_CONNECT;
				ssl_err(err, errlen, "TLS write failed");
				nc_close(c);
				return -1;
			}
		} else {
			ssize_t r = send(c->fd, p + off, len - off, MSG_NOSIGNAL);
			if (r >= 0) {
				if (dgram && (size_t)r != len) {
					*reason = VG_SINK_R_WRITE;
					snprintf(err, errlen, "datagram cut short");
					return -1;
				}
				off += (size_t)r;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
				/* EMSGSIZE: a datagram larger than the socket takes */
				*reason = errno == EMSGSIZE ? VG_SINK_R_WRITE : VG_SINK_R_CONNECT;
				snprintf(err, errlen, "send: %s", strerror(errno));
				if (errno != EMSGSIZE)
					nc_close(c);
				return -1;
			}
		}
		if (!wait_fd(c, ev, deadline_ns, reason)) {
			snprintf(err, errlen, "write: %s",
				 vg_sink_is(*reason, VG_SINK_R_TIMEOUT) ? "timed out"
									: "shutting down");
			/* a stream cut mid-message cannot go on */
			if (off && !dgram)
				nc_close(c);
			return -1;
		}
	}
	return 0;
}

long nc_read(struct nc *c, void *buf, size_t len, uint64_t deadline_ns, const char **reason,
	     char *err, size_t errlen)
{
	for (;;) {
		short ev = POLLIN;
		if (c->ssl) {
			ERR_clear_error();
			int r = SSL_read(c->ssl, buf, (int)len);
			if (r > 0)
				return r;
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (e == SSL_ERROR_WANT_WRITE)
				ev = POLLOUT;
			else if (e != SSL_ERROR_WANT_READ) {
				if (e == SSL_ERROR_SYSCALL && !ERR_peek_error())
					return 0; /* closed without close_notify */
				*reason = VG_SINK_R_CONNECT;
				ssl_err(err, errlen, "TLS read failed");
				return -1;
			}
		} else {
			ssize_t r = recv(c->fd, buf, len, deadline_ns ? 0 : MSG_DONTWAIT);
			if (r >= 0)
				return r;
			if (errno == ECONNRESET)
				return 0;
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				*reason = VG_SINK_R_CONNECT;
				snprintf(err, errlen, "recv: %s", strerror(errno));
				return -1;
			}
		}
		if (!wait_fd(c, ev, deadline_ns, reason)) {
			snprintf(err, errlen, "waiting for the answer: %s",
				 vg_sink_is(*reason, VG_SINK_R_TIMEOUT) ? "timed out"
									: "shutting down");
			return -1;
		}
	}
}

bool nc_peer_closed(struct nc *c)
{
	if (c->fd < 0)
		return true;
	if (c->o->kind == NC_UDP || c->o->kind == NC_UNIX_DGRAM)
		return false;
	struct pollfd p = {c->fd, POLLIN | POLLRDHUP, 0};
	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
		return true;
	char junk[4096];
	for (int i = 0; i < 16; i++) { /* bounded: the peer may keep talking */
		const char *reason;
		char err[128];
		long r = nc_read(c, junk, sizeof(junk), 0, &reason, err, sizeof(err));
		if (r == 0)
			return true;
		if (r < 0)
			return !vg_sink_is(reason, VG_SINK_R_TIMEOUT);
	}
	return false;
}
