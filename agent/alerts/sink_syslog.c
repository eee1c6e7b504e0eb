/* sink_syslog.c - alerts as RFC 5424 syslog messages over a Unix socket
 * (/dev/log or another path), UDP (RFC 5426), TCP with octet-counted
 * framing (RFC 6587) and TCP with TLS (RFC 5425).
 *
 * One message per alert:
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID rule=".."
 *        priority=".." source=".." namespace=".." pod=".."] MSG
 *
 * PRI is facility * 8 + severity, the alert's priority mapped one to one
 * (Falco's priorities are syslog's severities: Emergency 0 .. Debug 7).
 * MSG is the alert's JSON line or its text form, UTF-8 without a BOM
 * unless the configuration asks for one: receivers that store or parse
 * the message (a SIEM decoding JSON) take a leading BOM as part of it.
 *
 * Stream transports reconnect on failure with exponential backoff; an
 * alert is retried until the retries run out or the dispatcher gives up,
 * and then it is counted as failed with the reason of the last attempt.
 */
#include "netconn.h"
#include "sink.h"
#include "utf8.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const prio_names[] = {"Emergency", "Alert",	"Critical",	 "Error",
					 "Warning",   "Notice", "Informational", "Debug"};

static const char *const facilities[] = {
	"kern",	  "user",   "mail",	"daemon", "auth",   "syslog", "lpr",	"news",
	"uucp",	  "cron",   "authpriv", "ftp",	  "ntp",    "audit",  "alert",	"clock",
	"local0", "local1", "local2",	"local3", "local4", "local5", "local6", "local7"};

int vg_syslog_facility(const char *name)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (!strcmp(name, facilities[i]))
			return (int)i;
	return -1;
}

/* A growing output buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = vg_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A header field: PRINTUSASCII (33..126) only, at most max bytes, "-" when
 * empty; anything else becomes '_' so that a strange host name cannot
 * shift the fields. */
static void put_name(struct buf *b, const char *s, size_t max)
{
	size_t n = 0;
	for (; s && s[n] && n < max; n++) {
		char c = (unsigned char)s[n] >= 33 && (unsigned char)s[n] <= 126 ? s[n] : '_';
		put(b, &c, 1);
	}
	if (!n)
		put(b, "-", 1);
}

/* An SD-PARAM value: '"', '\' and ']' escaped with '\' (RFC 5424 6.3.3),
 * control characters as spaces (a receiver writing lines must not be
 * split), bytes that are not valid UTF-8 as U+FFFD. */
static void put_param(struct buf *b, const char *name, const char *v)
{
	if (!v)
		return;
	put(b, " ", 1);
	puts_(b, name);
	put(b, "=\"", 2);
	const unsigned char *p = (const unsigned char *)v;
	size_t n = strlen(v);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\' || c == ']') {
			char e[2] = {'\\', (char)c};
			put(b, e, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			put(b, " ", 1);
			i++;
		} else if (c < 0x80) {
			put(b, (const char *)p + i, 1);
			i++;
		} else {
			size_t l = vg_utf8_seq(p + i, n - i);
			if (l)
				put(b, (const char *)p + i, l);
			else
				put(b, "\xef\xbf\xbd", 3);
			i += l ? l : 1;
		}
	}
	put(b, "\"", 1);
}

/* The alert's "source" without parsing the JSON: the envelope writes
 * "time", "rule", "priority" and then "source", whose values are escaped
 * strings, so the first "source":" is the top-level key. */
static void source_of(const struct vg_alert *a, char *out, size_t cap)
{
	const char *k = a->json ? strstr(a->json, "\"source\":\"") : NULL;
	out[0] = 0;
	if (!k)
		return;
	k += 10;
	size_t n = 0;
	while (k[n] && k[n] != '"' && k[n] != '\\' && n + 1 < cap)
		n++;
	memcpy(out, k, n);
	out[n] = 0;
}

size_t vg_syslog_format(const struct vg_syslog_fmt *f, const struct vg_alert *a, char **out,
			size_t *cap)
{
	struct buf b = {*out, 0, *cap};
	int sev = a->priority < 0 ? 0 : a->priority > 7 ? 7 : a->priority;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "<%d>1 ", f->facility * 8 + sev);
	puts_(&b, tmp);
	time_t secs = (time_t)(a->ts / 1000000000ull);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	puts_(&b, tmp);
	snprintf(tmp, sizeof(tmp), ".%06uZ ", (unsigned)(a->ts % 1000000000ull / 1000));
	puts_(&b, tmp);
	put_name(&b, f->hostname, 255);
	put(&b, " ", 1);
	put_name(&b, f->app_name, 48);
	snprintf(tmp, sizeof(tmp), " %d ", f->procid);
	puts_(&b, tmp);
	put_name(&b, f->msgid, 32);
	put(&b, " [", 2);
	puts_(&b, f->sd_id);
	put_param(&b, "rule", a->rule);
	put_param(&b, "priority", prio_names[sev]);
	char src[32];
	source_of(a, src, sizeof(src));
	put_param(&b, "source", *src ? src : NULL);
	put_param(&b, "namespace", a->k8s_ns);
	put_param(&b, "pod", a->k8s_pod);
	put(&b, "] ", 2);
	if (f->bom)
		put(&b, "\xef\xbb\xbf", 3);
	const char *msg = f->text && a->text ? a->text : a->json;
	size_t mlen = f->text && a->text ? a->text_len : a->json_len;
	/* a message cut to the limit ends on a whole UTF-8 sequence */
	if (f->max_bytes && b.len + mlen > f->max_bytes) {
		size_t room = f->max_bytes > b.len ? f->max_bytes - b.len : 0, n = 0;
		while (n < room) {
			size_t l = vg_utf8_seq((const unsigned char *)msg + n, mlen - n);
			if (!l || n + l > room)
				break;
			n += l;
		}
		mlen = n;
	}
	put(&b, msg, mlen);
	*out = b.p;
	*cap = b.cap;
	return b.len;
}

/* An SD-ID or other name given in the configuration: PRINTUSASCII without
 * '=', ' ', ']' and '"' (RFC 5424 SD-NAME), 1..max bytes. */
static bool valid_name(const char *s, size_t max, bool sd)
{
	size_t n = strlen(s);
	if (!n || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 33 || c > 126 || (sd && (c == '=' || c == ']' || c == '"')))
			return false;
	}
	return true;
}

/* --- the sink ------------------------------------------------------------- */

struct syslog {
	struct vg_syslog_fmt fmt;
	char *hostname, *app_name, *sd_id;
	struct nc_opts no;
	char *host, *addr;
	struct nc_tls *tls;
	struct nc conn;
	bool stream;
	unsigned timeout_ms, retries, backoff_ms, backoff_max_ms;
	char *msg; /* the formatted message, reused */
	size_t msgcap;
	char *frame;
	size_t framecap;
};

static int syslog_deliver(struct vg_sink *s, const struct vg_alert *a, char *err, size_t errlen)
{
	struct syslog *g = s->impl;
	size_t len = vg_syslog_format(&g->fmt, a, &g->msg, &g->msgcap);
	const char *out = g->msg;
	size_t outlen = len;
	if (g->stream) { /* octet counting: "LEN SP MSG" (RFC 6587 3.4.1, RFC 5425 4.3) */
		char pre[24];
		int pl = snprintf(pre, sizeof(pre), "%zu ", len);
		if (g->framecap < len + (size_t)pl + 1) {
			g->framecap = (len + (size_t)pl + 1) * 2;
			g->frame = vg_xrealloc(g->frame, g->framecap);
		}
		memcpy(g->frame, pre, (size_t)pl);
		memcpy(g->frame + pl, g->msg, len);
		out = g->frame;
		outlen = len + (size_t)pl;
	}
	unsigned wait = g->backoff_ms, i;
	const char *reason = VG_SINK_R_ERROR;
	char why[300] = "";
	for (i = 0;; i++) {
		if (vg_sink_giving_up(s)) {
			reason = VG_SINK_R_SHUTDOWN;
			snprintf(why, sizeof(why), "shutting down");
			break;
		}
		uint64_t deadline = vg_now_mono_ns() + (uint64_t)g->timeout_ms * 1000000ull;
		/* a peer that closed (a restarted rsyslog) would swallow the
		 * next write: see it first and reconnect */
		if (nc_is_open(&g->conn) && nc_peer_closed(&g->conn))
			nc_close(&g->conn);
		int rc = 0;
		if (!nc_is_open(&g->conn))
			rc = nc_connect(&g->conn, deadline, &reason, why, sizeof(why));
		if (!rc)
			rc = nc_write(&g->conn, out, outlen, deadline, &reason, why, sizeof(why));
		if (!rc)
			return 0;
		if (vg_sink_is(reason, VG_SINK_R_WRITE) && !g->stream)
			break; /* a datagram too large: the same every time */
		if (!g->stream)
			nc_close(&g->conn); /* a datagram socket: connect anew (the receiver
					       restarted) */
		if (i < g->retries && vg_sink_giving_up(s)) {
			reason = VG_SINK_R_SHUTDOWN; /* it would have been retried */
			break;
		}
		if (i >= g->retries)
			break;
		vg_sink_sleep_until(s, vg_now_mono_ns() + (uint64_t)wait * 1000000ull);
		wait = wait * 2 > g->backoff_max_ms ? g->backoff_max_ms : wait * 2;
	}
	s->reason = reason;
	snprintf(err, errlen, "syslog to %s: %s (after %u retries)", g->addr, why, i);
	return -1;
}

static void syslog_free(struct syslog *g)
{
	nc_finish(&g->conn, 1000);
	nc_tls_free(g->tls);
	free(g->hostname);
	free(g->app_name);
	free(g->sd_id);
	free(g->host);
	free(g->addr);
	free(g->msg);
	free(g->frame);
	free(g);
}

static void syslog_close(struct vg_sink *s)
{
	syslog_free(s->impl);
	free(s);
}

static const struct vg_sink_ops syslog_ops = {
	.deliver = syslog_deliver,
	.close = syslog_close,
};

/* "host:port", "[v6]:port" */
static int split_address(const char *addr, char **host, int *port, char *err, size_t errlen)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr, *he = colon;
	if (*addr == '[') {
		const char *rb = strchr(addr, ']');
		if (!rb || rb[1] != ':') {
			snprintf(err, errlen, "address '%s': expected [ADDRESS]:PORT", addr);
			return -1;
		}
		h = addr + 1;
		he = rb;
		colon = rb + 1;
	}
	char *end;
	long p = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!colon || he == h || colon[1] == 0 || *end || p <= 0 || p > 65535) {
		snprintf(err, errlen, "address '%s': expected HOST:PORT with a port 1-65535", addr);
		return -1;
	}
	*host = vg_xstrndup(h, (size_t)(he - h));
	*port = (int)p;
	return 0;
}

struct vg_sink *vg_sink_syslog_new(const struct vg_sink_syslog_opts *o, char *err, size_t errlen)
{
	struct syslog *g = vg_xcalloc(1, sizeof(*g));
	nc_init(&g->conn, &g->no, NULL, NULL);
	g->timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
	g->retries = o->retries;
	g->backoff_ms = o->backoff_ms ? o->backoff_ms : 1;
	g->backoff_max_ms = o->backoff_max_ms < g->backoff_ms ? g->backoff_ms : o->backoff_max_ms;
	const char *t = o->transport ? o->transport : "unix";
	if (!strcmp(t, "unix")) {
		g->no.kind = o->unix_stream ? NC_UNIX_STREAM : NC_UNIX_DGRAM;
		g->host = vg_xstrdup(o->address && *o->address ? o->address : "/dev/log");
	} else if (!strcmp(t, "udp") || !strcmp(t, "tcp") || !strcmp(t, "tls")) {
		g->no.kind = !strcmp(t, "udp") ? NC_UDP : NC_TCP;
		g->no.tls = !strcmp(t, "tls");
		if (split_address(o->address ? o->address : "", &g->host, &g->no.port, err, errlen))
			goto fail;
	} else {
		snprintf(err, errlen, "transport '%s': one of unix, udp, tcp, tls", t);
		goto fail;
	}
	g->no.host = g->host;
	g->addr = vg_xstrdup(
		g->no.kind == NC_UNIX_DGRAM || g->no.kind == NC_UNIX_STREAM ? g->host : o->address);
	g->stream = g->no.kind == NC_TCP || g->no.kind == NC_UNIX_STREAM;
	if (g->no.tls) {
		g->no.ca_file = o->ca_file;
		g->no.client_cert = o->client_cert;
		g->no.client_key = o->client_key;
		g->no.server_name = o->server_name;
		g->tls = nc_tls_new(&g->no, err, errlen);
		if (!g->tls)
			goto fail;
	}
	int fac = vg_syslog_facility(o->facility ? o->facility : "local0");
	if (fac < 0) {
		snprintf(err, errlen,
			 "facility '%s': one of kern, user, mail, daemon, auth, syslog, "
			 "lpr, news, uucp, cron, authpriv, ftp, ntp, audit, alert, clock, "
			 "local0..local7",
			 o->facility);
		goto fail;
	}
	const char *app = o->app_name ? o->app_name : "vigil";
	if (!valid_name(app, 48, false)) {
		snprintf(err, errlen, "app_name '%s': 1-48 printable ASCII characters, no spaces",
			 app);
		goto fail;
	}
	const char *sd = o->sd_id ? o->sd_id : "vigil@32473";
	if (!valid_name(sd, 32, true)) {
		snprintf(err, errlen,
			 "sd_id '%s': 1-32 printable ASCII characters without spaces, '=', ']' "
			 "or '\"'",
			 sd);
		goto fail;
	}
	char hn[256] = "";
	if (o->hostname && *o->hostname)
		snprintf(hn, sizeof(hn), "%s", o->hostname);
	else
		gethostname(hn, sizeof(hn) - 1);
	g->hostname = vg_xstrdup(hn);
	g->app_name = vg_xstrdup(app);
	g->sd_id = vg_xstrdup(sd);
	g->fmt = (struct vg_syslog_fmt){.facility = fac,
					.hostname = g->hostname,
					.app_name = g->app_name,
					.procid = (int)getpid(),
					.msgid = "alert",
					.sd_id = g->sd_id,
					.text = o->text,
					.bom = o->bom,
					.max_bytes = o->max_bytes};
	struct vg_sink *s = vg_xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "syslog");
	s->min_priority = o->min_priority;
	s->wants_text = o->text;
	s->ops = &syslog_ops;
	s->impl = g;
	g->conn.tls = g->tls;
	g->conn.give_up = &s->give_up;
	return s;
fail:
	syslog_free(g);
	return NULL;
}
