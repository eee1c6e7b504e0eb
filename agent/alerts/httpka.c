/* httpka.c - see httpka.h. */
#include "httpka.h"
#include "sink.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void httpka_init(struct httpka *k, const struct nc_opts *no, struct nc_tls *tls,
		 const atomic_bool *give_up, const char *path, const char *host_header,
		 const char *content_type, const char *const *hnames, const char *const *hvalues,
		 size_t nheaders)
{
	memset(k, 0, sizeof(*k));
	nc_init(&k->conn, no, tls, give_up);
	size_t n = strlen(path) + strlen(host_header) + strlen(content_type) + 128;
	for (size_t i = 0; i < nheaders; i++)
		n += strlen(hnames[i]) + strlen(hvalues[i]) + 4;
	k->head = vg_xmalloc(n);
	size_t off = (size_t)snprintf(k->head, n,
				      "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: vigil\r\n"
				      "Content-Type: %s\r\n",
				      path, host_header, content_type);
	for (size_t i = 0; i < nheaders; i++) /* names are "name:" */
		off += (size_t)snprintf(k->head + off, n - off, "%s %s\r\n", hnames[i], hvalues[i]);
	k->headlen = off;
}

void httpka_free(struct httpka *k)
{
	nc_close(&k->conn);
	free(k->head);
	free(k->req);
}

/* The next byte of the answer, refilling the buffer: -1 on error (reason
 * set), -2 when the peer closed. */
static int getbyte(struct httpka *k, uint64_t deadline, const char **reason, char *err,
		   size_t errlen)
{
	if (k->boff == k->blen) {
		long r = nc_read(&k->conn, k->buf, sizeof(k->buf), deadline, reason, err, errlen);
		if (r < 0)
			return -1;
		if (r == 0)
			return -2;
		k->blen = (size_t)r;
		k->boff = 0;
	}
	return (unsigned char)k->buf[k->boff++];
}

/* One line (CRLF or LF ended, without it) into line; -1/-2 as getbyte,
 * -3 when longer than cap. */
static int getline_(struct httpka *k, char *line, size_t cap, uint64_t deadline,
		    const char **reason, char *err, size_t errlen)
{
	size_t n = 0;
	for (;;) {
		int c = getbyte(k, deadline, reason, err, errlen);
		if (c < 0)
			return c;
		if (c == '\n')
			break;
		if (n + 1 >= cap)
			return -3;
		line[n++] = (char)c;
	}
	if (n && line[n - 1] == '\r')
		n--;
	line[n] = 0;
	return 0;
}

/* Skip n body bytes. */
static int skip(struct httpka *k, uint64_t n, uint64_t deadline, const char **reason, char *err,
		size_t errlen)
{
	while (n) {
		if (k->boff == k->blen && getbyte(k, deadline, reason, err, errlen) >= 0)
			k->boff--; /* refilled: give the byte back */
		else if (k->boff == k->blen)
			return -1;
		size_t have = k->blen - k->boff;
		size_t take = have < n ? have : (size_t)n;
		k->boff += take;
		n -= take;
	}
	return 0;
}

/* Read one answer; 0 with *status, -1 on failure, -2 when the connection
 * closed before any byte of it (a kept-alive connection the server had
 * closed: the request may be sent again). */
static int read_answer(struct httpka *k, uint64_t deadline, int *status, bool *keep, char *location,
		       size_t loclen, const char **reason, char *err, size_t errlen)
{
	char line[8192];
	for (;;) { /* 1xx answers come before the real one */
		int r = getline_(k, line, sizeof(line), deadline, reason, err, errlen);
		if (r == -2) {
			*reason = VG_SINK_R_CONNECT;
			snprintf(err, errlen, "connection closed before the answer");
			return -2;
		}
		if (r)
			goto bad;
		int minor = 0;
		if (sscanf(line, "HTTP/1.%d %d", &minor, status) != 2 || *status < 100 ||
		    *status > 999) {
			*reason = VG_SINK_R_CONNECT;
			snprintf(err, errlen, "not an HTTP/1.x answer: '%.80s'", line);
			return -1;
		}
		*keep = minor >= 1;
		int64_t clen = -1;
		bool chunked = false;
		if (location && loclen)
			location[0] = 0;
		size_t hbytes = 0;
		for (;;) {
			r = getline_(k, line, sizeof(line), deadline, reason, err, errlen);
			if (r)
				goto bad;
			if (!line[0])
				break;
			hbytes += strlen(line);
			if (hbytes > 65536) {
				*reason = VG_SINK_R_CONNECT;
				snprintf(err, errlen, "the answer's headers exceed 64 KiB");
				return -1;
			}
			char *colon = strchr(line, ':');
			if (!colon)
				continue;
			*colon = 0;
			char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			if (!strcasecmp(line, "content-length"))
				clen = strtoll(v, NULL, 10);
			else if (!strcasecmp(line, "transfer-encoding"))
				chunked = strcasestr(v, "chunked") != NULL;
			else if (!strcasecmp(line, "connection"))
				*keep = strcasestr(v, "close")	      ? false
					: strcasestr(v, "keep-alive") ? true
								      : *keep;
			else if (!strcasecmp(line, "location") && location)
				snprintf(location, loclen, "%s", v);
		}
		if (*status < 200)
			continue;
		if (*status == 204 || *status == 304) {
			return 0;
		} else if (chunked) {
			for (;;) {
				r = getline_(k, line, sizeof(line), deadline, reason, err, errlen);
				if (r)
					goto bad;
				char *e;
				unsigned long long sz = strtoull(line, &e, 16);
				if (e == line) {
					*reason = VG_SINK_R_CONNECT;
					snprintf(err, errlen, "bad chunk size '%.40s'", line);
					return -1;
				}
				if (!sz)
					break;
				if (skip(k, sz, deadline, reason, err, errlen))
					goto bad;
				r = getline_(k, line, sizeof(line), deadline, reason, err, errlen);
				if (r)
					goto bad;
			}
			do { /* trailers, up to the empty line */
				r = getline_(k, line, sizeof(line), deadline, reason, err, errlen);
				if (r)
					goto bad;
			} while (line[0]);
		} else if (clen >= 0) {
			if (skip(k, (uint64_t)clen, deadline, reason, err, errlen))
				goto bad;
		} else {
			/* the body ends with the connection */
			*keep = false;
			while ((r = getbyte(k, deadline, reason, err, errlen)) >= 0)
				k->boff = k->blen;
			if (r == -1)
				return -1;
		}
		return 0;
	}
bad:
	if (*reason == NULL || !*err) {
		*reason = VG_SINK_R_CONNECT;
		snprintf(err, errlen, "the answer is cut short or malformed");
	}
	return -1;
}

int httpka_post(struct httpka *k, const char *body, size_t len, unsigned timeout_ms, int *status,
		char *location, size_t loclen, const char **reason, char *err, size_t errlen)
{
	size_t need = k->headlen + 48 + len;
	if (k->reqcap < need) {
		k->reqcap = need;
		k->req = vg_xrealloc(k->req, need);
	}
	memcpy(k->req, k->head, k->headlen);
	size_t n = k->headlen +
		   (size_t)snprintf(k->req + k->headlen, 48, "Content-Length: %zu\r\n\r\n", len);
	memcpy(k->req + n, body, len);
	n += len;
	uint64_t deadline = vg_now_mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (int attempt = 0;; attempt++) {
		bool reused = nc_is_open(&k->conn);
		/* a connection idle for a while may have been closed by the
		 * server: look before writing (a busy one is not, and the retry
		 * below covers the race) */
		if (reused && vg_now_mono_ns() - k->last_ns > 20000000ull &&
		    nc_peer_closed(&k->conn)) {
			nc_close(&k->conn);
			reused = false;
		}
		*reason = NULL;
		err[0] = 0;
		if (!reused) {
			k->blen = k->boff = 0;
			if (nc_connect(&k->conn, deadline, reason, err, errlen))
				return -1;
			k->connects++;
		}
		bool keep = false;
		int r = nc_write(&k->conn, k->req, n, deadline, reason, err, errlen);
		if (!r)
			r = read_answer(k, deadline, status, &keep, location, loclen, reason, err,
					errlen);
		if (!r) {
			k->last_ns = vg_now_mono_ns();
			if (!keep)
				nc_close(&k->conn);
			return 0;
		}
		nc_close(&k->conn);
		/* a kept-alive connection the server closed while we wrote:
		 * it saw nothing of this request, send it once more */
		if (!(reused && attempt == 0 &&
		      (r == -2 || vg_sink_is(*reason, VG_SINK_R_CONNECT))))
			return -1;
	}
}
