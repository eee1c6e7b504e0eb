/* k8s/ pure helpers: the watch line splitter across every chunking, the
 * backoff schedule and its jitter, Retry-After, query escaping, the list
 * and watch request paths, relist decisions on Status objects, the string
 * map. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httpc.h"
#include "k8s_informer.h"
#include "k8s_util.h"

struct lines {
	char got[16][128];
	int n;
};

static int collect(void *ctx, char *line, size_t len)
{
	struct lines *l = ctx;
	assert_int_equal(strlen(line), len);
	assert_true(l->n < 16);
	snprintf(l->got[l->n++], sizeof(l->got[0]), "%s", line);
	return 0;
}

static void test_linebuf_every_split(void **state)
{
	(void)state;
	const char *stream = "{\"type\":\"ADDED\",\"object\":{\"a\":1}}\n"
			     "{\"type\":\"MODIFIED\"}\r\n"
			     "\n"
			     "{\"type\":\"DELETED\",\"x\":\"\\u00e9\"}\n";
	const char *want[] = {"{\"type\":\"ADDED\",\"object\":{\"a\":1}}",
			      "{\"type\":\"MODIFIED\"}",
			      "{\"type\":\"DELETED\",\"x\":\"\\u00e9\"}"};
	size_t n = strlen(stream);
	/* every pair of cut points: three chunks of every size */
	for (size_t a = 0; a <= n; a++) {
		for (size_t b = a; b <= n; b++) {
			struct k8s_linebuf lb = {0};
			struct lines l = {0};
			assert_int_equal(k8s_linebuf_feed(&lb, stream, a, collect, &l), 0);
			assert_int_equal(k8s_linebuf_feed(&lb, stream + a, b - a, collect, &l), 0);
			assert_int_equal(k8s_linebuf_feed(&lb, stream + b, n - b, collect, &l), 0);
			assert_int_equal(l.n, 3);
			for (int i = 0; i < 3; i++)
				assert_string_equal(l.got[i], want[i]);
			assert_int_equal(k8s_linebuf_pending(&lb), 0);
			k8s_linebuf_free(&lb);
		}
	}
	/* byte by byte */
	struct k8s_linebuf lb = {0};
	struct lines l = {0};
	for (size_t i = 0; i < n; i++)
		assert_int_equal(k8s_linebuf_feed(&lb, stream + i, 1, collect, &l), 0);
	assert_int_equal(l.n, 3);
	k8s_linebuf_free(&lb);
}

static void test_linebuf_partial_and_limit(void **state)
{
	(void)state;
	struct k8s_linebuf lb = {.max = 10};
	struct lines l = {0};
	assert_int_equal(k8s_linebuf_feed(&lb, "abc", 3, collect, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(k8s_linebuf_pending(&lb), 3);
	assert_int_equal(k8s_linebuf_feed(&lb, "defghijk", 8, collect, &l), -E2BIG);
	k8s_linebuf_reset(&lb);
	assert_int_equal(k8s_linebuf_feed(&lb, "ok\n", 3, collect, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.got[0], "ok");
	k8s_linebuf_free(&lb);
}

static int stop_at_second(void *ctx, char *line, size_t len)
{
	(void)line;
	(void)len;
	int *n = ctx;
	return ++*n == 2 ? 7 : 0;
}

static void test_linebuf_stop(void **state)
{
	(void)state;
	struct k8s_linebuf lb = {0};
	int n = 0;
	assert_int_equal(k8s_linebuf_feed(&lb, "a\nb\nc\n", 6, stop_at_second, &n), 7);
	assert_int_equal(n, 2);
	k8s_linebuf_free(&lb);
}

#define S 1000000000ull

static void test_backoff(void **state)
{
	(void)state;
	struct k8s_backoff b = {0};
	uint64_t now = 1000 * S;
	/* rnd 0: the un-jittered schedule 0.8, 1.6, 3.2, ... capped at 30 s */
	uint64_t want[] = {800000000ull,   1600000000ull,  3200000000ull, 6400000000ull,
			   12800000000ull, 25600000000ull, 30 * S,	  30 * S};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(k8s_backoff_next(&b, now, 0.0), want[i]);
	/* healthy for less than 2 minutes: no reset */
	k8s_backoff_ok(&b, now);
	assert_int_equal(k8s_backoff_next(&b, now + 119 * S, 0.0), 30 * S);
	/* healthy for 2 minutes: back to 0.8 s */
	k8s_backoff_ok(&b, now + 200 * S);
	assert_int_equal(k8s_backoff_next(&b, now + 320 * S, 0.0), 800000000ull);
	/* jitter stays in [d, 2d) */
	struct k8s_backoff j = {0};
	uint64_t d = k8s_backoff_next(&j, now, 0.999);
	assert_true(d >= 800000000ull && d < 1600000000ull);
	d = k8s_backoff_next(&j, now, 0.5);
	assert_int_equal(d, 2400000000ull);
	for (int i = 0; i < 1000; i++) {
		struct k8s_backoff r = {0};
		double x = k8s_random01();
		assert_true(x >= 0 && x < 1);
		d = k8s_backoff_next(&r, now, x);
		assert_true(d >= 800000000ull && d < 1600000000ull);
	}
}

static void test_retry_after(void **state)
{
	(void)state;
	assert_true(k8s_parse_retry_after("5", 0) == 5.0);
	assert_true(k8s_parse_retry_after(" 12 ", 0) == 12.0);
	assert_true(k8s_parse_retry_after(NULL, 0) < 0);
	assert_true(k8s_parse_retry_after("", 0) < 0);
	assert_true(k8s_parse_retry_after("soon", 0) < 0);
	assert_true(k8s_parse_retry_after("5s", 0) < 0);
	/* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
	assert_true(k8s_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111770ull * S) ==
		    7.0);
	assert_true(k8s_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111790ull * S) ==
		    0.0);
}

static void test_query_escape(void **state)
{
	(void)state;
	struct k8s_buf b = {0};
	k8s_buf_add_query(&b, "spec.nodeName=node-1,app in (a b),x!=y~");
	assert_string_equal(b.p, "spec.nodeName%3Dnode-1%2Capp%20in%20%28a%20b%29%2Cx%21%3Dy~");
	k8s_buf_free(&b);
}

static void test_paths(void **state)
{
	(void)state;
	struct k8s_informer_opts o = {.path = "/api/v1/pods",
				      .field_selector = "spec.nodeName=n1",
				      .label_selector = "app=web"};
	char *p = k8s_informer_list_path(&o, NULL, NULL);
	assert_string_equal(
		p,
		"/api/v1/pods?limit=500&labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1");
	free(p);
	o.page_size = 2;
	o.label_selector = NULL;
	p = k8s_informer_list_path(&o, "123", NULL);
	assert_string_equal(p, "/api/v1/pods?limit=2&resourceVersion=123&resourceVersionMatch="
			       "NotOlderThan&fieldSelector=spec.nodeName%3Dn1");
	free(p);
	/* a continue token replaces the resourceVersion */
	p = k8s_informer_list_path(&o, "123", "eyJ2Ij0=");
	assert_string_equal(p, "/api/v1/pods?limit=2&continue=eyJ2Ij0%3D&fieldSelector=spec."
			       "nodeName%3Dn1");
	free(p);
	p = k8s_informer_watch_path(&o, "456", 321);
	assert_string_equal(p, "/api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=321&"
			       "resourceVersion=456&fieldSelector=spec.nodeName%3Dn1");
	free(p);
}

static void test_relist_decision(void **state)
{
	(void)state;
	const char *yes[] = {
		"{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\",\"message\":\"too old "
		"resource version: 1 (229)\"}",
		"{\"kind\":\"Status\",\"reason\":\"Gone\"}",
		"{\"kind\":\"Status\",\"code\":504,\"reason\":\"Timeout\",\"details\":{\"causes\":["
		"{"
		"\"reason\":\"ResourceVersionTooLarge\",\"message\":\"Too large resource "
		"version\"}]}}",
		"{\"code\":504,\"message\":\"Timeout: Too large resource version: 9, current: 3\"}",
	};
	const char *no[] = {
		"{\"kind\":\"Status\",\"code\":500,\"reason\":\"InternalError\"}",
		"{\"kind\":\"Status\",\"code\":504,\"reason\":\"Timeout\",\"message\":\"slow\"}",
		"{\"kind\":\"Status\",\"code\":403,\"reason\":\"Forbidden\"}",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		cJSON *j = cJSON_Parse(yes[i]);
		assert_true(k8s_status_needs_relist(j));
		cJSON_Delete(j);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		cJSON *j = cJSON_Parse(no[i]);
		assert_false(k8s_status_needs_relist(j));
		cJSON_Delete(j);
	}
}

static void test_object_key(void **state)
{
	(void)state;
	cJSON *a = cJSON_Parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns1\"}}");
	cJSON *b = cJSON_Parse("{\"metadata\":{\"name\":\"ns1\"}}");
	cJSON *c = cJSON_Parse("{\"metadata\":{}}");
	char *k = k8s_object_key(a);
	assert_string_equal(k, "ns1/web");
	free(k);
	k = k8s_object_key(b);
	assert_string_equal(k, "ns1");
	free(k);
	assert_null(k8s_object_key(c));
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
}

/* The string map (the informer cache, k8smeta's pods and namespaces):
 * replace, delete, growth past its first 64 buckets, and look-ups that
 * never allocate (readers share the cache under a lock the writer skips). */
static int freed;
static void count_free(void *v)
{
	(void)v;
	freed++;
}

static void test_map(void **state)
{
	(void)state;
	struct k8s_map m = {0};
	assert_null(k8s_map_get(&m, "a"));
	assert_null(k8s_map_del(&m, "a"));
	assert_null(m.b);
	assert_int_equal(m.nb, 0);
	static int vals[200];
	char key[16];
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "ns/pod-%d", i);
		assert_null(k8s_map_put(&m, key, &vals[i]));
	}
	assert_int_equal(m.n, 200);
	assert_true(m.nb >= 200);
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "ns/pod-%d", i);
		assert_ptr_equal(k8s_map_get(&m, key), &vals[i]);
	}
	int other = 0;
	assert_ptr_equal(k8s_map_put(&m, "ns/pod-7", &other), &vals[7]);
	assert_ptr_equal(k8s_map_get(&m, "ns/pod-7"), &other);
	assert_ptr_equal(k8s_map_del(&m, "ns/pod-8"), &vals[8]);
	assert_null(k8s_map_get(&m, "ns/pod-8"));
	assert_null(k8s_map_get(&m, "ns/pod-200"));
	assert_int_equal(m.n, 199);
	freed = 0;
	k8s_map_free(&m, count_free);
	assert_int_equal(freed, 199);
	assert_null(m.b);
}

static void test_httpc_url(void **state)
{
	(void)state;
	static const struct {
		const char *url, *host, *path;
		int port;
		bool tls;
	} ok[] = {
		{"http://falcosidekick:2801/", "falcosidekick", "/", 2801, false},
		{"http://falcosidekick:2801", "falcosidekick", "/", 2801, false},
		{"https://h", "h", "/", 443, true},
		{"http://h/a/b?x=1", "h", "/a/b?x=1", 80, false},
		{"https://[::1]:8443/p/", "::1", "/p/", 8443, true},
	};
	char why[256];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct httpc_url u;
		if (httpc_url_parse(ok[i].url, &u, why, sizeof(why)))
			fail_msg("%s: %s", ok[i].url, why);
		assert_string_equal(u.host, ok[i].host);
		assert_string_equal(u.path, ok[i].path);
		assert_int_equal(u.port, ok[i].port);
		assert_int_equal(u.tls, ok[i].tls);
		httpc_url_free(&u);
	}
	struct httpc_url u;
	assert_int_equal(httpc_url_parse("ftp://h/", &u, why, sizeof(why)), HTTPC_URL_SCHEME);
	assert_int_equal(httpc_url_parse("http://:80/", &u, why, sizeof(why)), HTTPC_URL_BAD);
	assert_string_equal(why, "\"http://:80/\" has no host");
	assert_int_equal(httpc_url_parse("http://h:0/", &u, why, sizeof(why)), HTTPC_URL_BAD);
	assert_int_equal(httpc_url_parse("http://[::1/", &u, why, sizeof(why)), HTTPC_URL_BAD);
	char *hh = httpc_host_header("::1");
	assert_string_equal(hh, "[::1]");
	free(hh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_httpc_url),
		cmocka_unit_test(test_linebuf_every_split),
		cmocka_unit_test(test_linebuf_partial_and_limit),
		cmocka_unit_test(test_linebuf_stop),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_query_escape),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_relist_decision),
		cmocka_unit_test(test_object_key),
		cmocka_unit_test(test_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
