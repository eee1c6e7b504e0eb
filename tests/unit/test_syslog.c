/* Unit tests of the syslog sink (agent/alerts/sink_syslog.c): the RFC 5424
 * formatter (header fields, structured data escaping, priorities, UTF-8
 * safe truncation) and the framing on stream and datagram sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sink.h"
#include "utf8.h"
#include "util.h"

/* 2025-12-05T00:00:00.123456789Z */
#define TS (1764892800ull * 1000000000ull + 123456789ull)

static struct vg_alert *alert(const char *rule, int prio, const char *json, const char *text)
{
	struct vg_alert *a =
		vg_alert_new(rule, prio, TS, vg_xstrdup(json), text ? vg_xstrdup(text) : NULL);
	return a;
}

static struct vg_syslog_fmt fmt(void)
{
	return (struct vg_syslog_fmt){.facility = 16,
				      .hostname = "node-1",
				      .app_name = "vigil",
				      .msgid = "alert",
				      .sd_id = "vigil@32473",
				      .procid = 42};
}

static char *format(const struct vg_syslog_fmt *f, const struct vg_alert *a, size_t *len)
{
	char *out = NULL;
	size_t cap = 0;
	*len = vg_syslog_format(f, a, &out, &cap);
	assert_non_null(out);
	assert_int_equal(strlen(out), *len);
	return out;
}

static bool valid_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t l = vg_utf8_seq((const unsigned char *)s + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

static void test_whole_message(void **state)
{
	(void)state;
	struct vg_alert *a = alert("Shell in container", 4,
				   "{\"time\":\"x\",\"rule\":\"Shell in container\",\"priority\":"
				   "\"Warning\",\"source\":\"syscall\",\"output\":\"o\"}",
				   NULL);
	vg_alert_set_subject(a, "m", "team-a", "web-1", "uid");
	struct vg_syslog_fmt f = fmt();
	size_t len;
	char *out = format(&f, a, &len);
	assert_string_equal(out, "<132>1 2025-12-05T00:00:00.123456Z node-1 vigil 42 alert "
				 "[vigil@32473 rule=\"Shell in container\" priority=\"Warning\" "
				 "source=\"syscall\" namespace=\"team-a\" pod=\"web-1\"] "
				 "{\"time\":\"x\",\"rule\":\"Shell in container\",\"priority\":"
				 "\"Warning\",\"source\":\"syscall\",\"output\":\"o\"}");
	free(out);
	/* text form, a BOM, no pod (a host process): no namespace/pod params */
	vg_alert_unref(a);
	a = alert("r", 6, "{\"rule\":\"r\"}", "00:00:00: Informational text");
	f.text = true;
	f.bom = true;
	out = format(&f, a, &len);
	assert_non_null(strstr(out, " [vigil@32473 rule=\"r\" priority=\"Informational\"] "
				    "\xef\xbb\xbf"
				    "00:00:00: Informational text"));
	assert_null(strstr(out, "source="));
	free(out);
	vg_alert_unref(a);
}

/* '"', '\' and ']' in an SD-PARAM value are escaped with '\' (RFC 5424
 * 6.3.3); control characters become spaces, invalid UTF-8 U+FFFD. */
static void test_sd_escaping(void **state)
{
	(void)state;
	struct vg_alert *a =
		alert("a\"b\\c]d [e=f]\n\x01\xff\xc3\xa9", 2, "{\"source\":\"k8s_audit\"}", NULL);
	vg_alert_set_subject(a, NULL, "ns\"]", "p\\od", NULL);
	struct vg_syslog_fmt f = fmt();
	size_t len;
	char *out = format(&f, a, &len);
	assert_non_null(strstr(out, "[vigil@32473 rule=\"a\\\"b\\\\c\\]d [e=f\\]  \xef\xbf\xbd"
				    "\xc3\xa9\" priority=\"Critical\" source=\"k8s_audit\" "
				    "namespace=\"ns\\\"\\]\" pod=\"p\\\\od\"] {"));
	assert_true(valid_utf8(out, len));
	assert_null(strchr(out, '\n'));
	free(out);
	vg_alert_unref(a);
}

/* Header fields are PRINTUSASCII (33..126), within their RFC 5424 lengths,
 * "-" when empty: a strange host name cannot shift the fields. */
static void test_header_names(void **state)
{
	(void)state;
	struct vg_alert *a = alert("r", 5, "{}", NULL);
	struct vg_syslog_fmt f = fmt();
	f.hostname = "my host\xc3\xa9\t";
	char app[80];
	memset(app, 'a', sizeof(app) - 1);
	app[sizeof(app) - 1] = 0;
	f.app_name = app;
	size_t len;
	char *out = format(&f, a, &len);
	char want[200];
	snprintf(want, sizeof(want), " my_host___ %.48s 42 alert [", app);
	assert_non_null(strstr(out, want));
	free(out);
	f.hostname = "";
	f.app_name = NULL;
	out = format(&f, a, &len);
	assert_non_null(strstr(out, "Z - - 42 alert ["));
	free(out);
	vg_alert_unref(a);
}

/* PRI = facility * 8 + severity; Falco's priorities are syslog's
 * severities (Emergency 0 .. Debug 7); out of range clamps. */
static void test_priorities(void **state)
{
	(void)state;
	static const char *const names[] = {"Emergency", "Alert",  "Critical",	    "Error",
					    "Warning",	 "Notice", "Informational", "Debug"};
	struct vg_syslog_fmt f = fmt();
	for (int fac = 0; fac < 24; fac += 23)
		for (int p = -1; p <= 8; p++) {
			struct vg_alert *a = alert("r", p, "{}", NULL);
			f.facility = fac;
			size_t len;
			char *out = format(&f, a, &len);
			int sev = p < 0 ? 0 : p > 7 ? 7 : p;
			char want[64];
			snprintf(want, sizeof(want), "<%d>1 ", fac * 8 + sev);
			assert_memory_equal(out, want, strlen(want));
			snprintf(want, sizeof(want), " priority=\"%s\"]", names[sev]);
			assert_non_null(strstr(out, want));
			free(out);
			vg_alert_unref(a);
		}
	assert_int_equal(vg_syslog_facility("kern"), 0);
	assert_int_equal(vg_syslog_facility("local0"), 16);
	assert_int_equal(vg_syslog_facility("local7"), 23);
	assert_int_equal(vg_syslog_facility("local8"), -1);
}

/* max_bytes: the message is cut on a whole UTF-8 sequence, never inside. */
static void test_truncation(void **state)
{
	(void)state;
	char json[400];
	size_t n = (size_t)snprintf(json, sizeof(json), "{\"output\":\"");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "\xe2\x82\xac"); /* € */
	snprintf(json + n, sizeof(json) - n, "\"}");
	struct vg_alert *a = alert("r", 4, json, NULL);
	struct vg_syslog_fmt f = fmt();
	size_t full;
	char *out = format(&f, a, &full);
	free(out);
	size_t head = full - strlen(json);
	for (size_t max = head; max < full + 3; max++) {
		f.max_bytes = max;
		size_t len;
		out = format(&f, a, &len);
		assert_true(len <= max || max < head);
		assert_true(len + 3 > max || len == full); /* cut at most one sequence short */
		assert_true(valid_utf8(out, len));
		assert_memory_equal(out + head, json, len - head); /* a prefix of the message */
		free(out);
	}
	f.max_bytes = 10; /* shorter than the header: the header stays, no message */
	size_t len;
	out = format(&f, a, &len);
	assert_int_equal(len, head);
	free(out);
	vg_alert_unref(a);
}

static struct vg_sink *unix_sink(const char *path, bool stream)
{
	char err[256];
	struct vg_sink_syslog_opts o = {.transport = "unix",
					.address = path,
					.unix_stream = stream,
					.hostname = "h",
					.timeout_ms = 2000,
					.min_priority = 7};
	struct vg_sink *s = vg_sink_syslog_new(&o, err, sizeof(err));
	assert_non_null(s);
	return s;
}

/* On a stream socket each message is "LEN SP MSG" (octet counting, RFC
 * 6587 3.4.1 / RFC 5425 4.3), LEN its byte count; on a datagram socket one
 * datagram is one message, unframed. */
static void test_framing(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-syslog-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);

	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 4), 0);
	struct vg_sink *s = unix_sink(sa.sun_path, true);
	struct vg_alert *a1 = alert("r", 4, "{\"output\":\"caf\xc3\xa9\"}", NULL);
	struct vg_alert *a2 = alert("r2", 3, "{\"output\":\"x\"}", NULL);
	char err[256];
	assert_int_equal(s->ops->deliver(s, a1, err, sizeof(err)), 0);
	assert_int_equal(s->ops->deliver(s, a2, err, sizeof(err)), 0);
	int c = accept(l, NULL, NULL);
	assert_true(c >= 0);
	char buf[4096];
	size_t got = 0;
	s->ops->close(s); /* the peer sees the end of the stream */
	for (ssize_t r; (r = read(c, buf + got, sizeof(buf) - 1 - got)) > 0;)
		got += (size_t)r;
	buf[got] = 0;
	/* two frames, each LEN SP MSG with LEN the message's bytes */
	char *p = buf;
	for (int i = 0; i < 2; i++) {
		char *sp;
		unsigned long mlen = strtoul(p, &sp, 10);
		assert_int_equal(*sp, ' ');
		char *msg = sp + 1;
		assert_memory_equal(msg, i ? "<131>1 " : "<132>1 ", 7);
		char *end = msg + mlen;
		assert_true(end <= buf + got);
		assert_memory_equal(end - 3, i ? "x\"}" : "\xa9\"}", 3);
		p = end;
	}
	assert_ptr_equal(p, buf + got);
	close(c);
	close(l);
	unlink(sa.sun_path);

	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(bind(d, (struct sockaddr *)&sa, sizeof(sa)), 0);
	s = unix_sink(sa.sun_path, false);
	assert_int_equal(s->ops->deliver(s, a1, err, sizeof(err)), 0);
	ssize_t r = recv(d, buf, sizeof(buf) - 1, 0);
	assert_true(r > 0);
	buf[r] = 0;
	assert_memory_equal(buf, "<132>1 2025-12-05T00:00:00.123456Z h ", 37);
	const char *m = "{\"output\":\"caf\xc3\xa9\"}";
	assert_string_equal(buf + r - (ssize_t)strlen(m), m);
	s->ops->close(s);
	close(d);
	unlink(sa.sun_path);
	rmdir(dir);
	vg_alert_unref(a1);
	vg_alert_unref(a2);
}

/* Options the sink refuses, each naming the option and what it takes. */
static void test_bad_options(void **state)
{
	(void)state;
	static const struct {
		struct vg_sink_syslog_opts o;
		const char *want;
	} cases[] = {
		{{.transport = "sctp"}, "transport 'sctp': one of unix, udp, tcp, tls"},
		{{.transport = "tcp", .address = "host"}, "address 'host': expected HOST:PORT"},
		{{.transport = "udp", .address = "h:70000"}, "a port 1-65535"},
		{{.transport = "tcp", .address = "[::1]"}, "expected [ADDRESS]:PORT"},
		{{.transport = "tcp", .address = ":514"}, "expected HOST:PORT"},
		{{.facility = "local9"}, "facility 'local9': one of kern"},
		{{.app_name = "vi gil"}, "app_name 'vi gil'"},
		{{.sd_id = "a=b"}, "sd_id 'a=b'"},
		{{.sd_id = "a]"}, "sd_id 'a]'"},
		{{.sd_id = "123456789012345678901234567890123"}, "1-32 printable"},
		{{.transport = "tls", .address = "h:6514", .ca_file = "/nonexistent/ca.pem"},
		 "/nonexistent/ca.pem"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		struct vg_sink *s = vg_sink_syslog_new(&cases[i].o, err, sizeof(err));
		if (s || !strstr(err, cases[i].want))
			fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_message), cmocka_unit_test(test_sd_escaping),
		cmocka_unit_test(test_header_names),  cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_truncation),    cmocka_unit_test(test_framing),
		cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
