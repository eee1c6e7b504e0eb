/* k8s_config: kubeconfig parsing (contexts, inline data, relative paths,
 * insecure only when set), its errors with FILE:LINE:COL and field, the
 * in-cluster config, and the token re-read rule. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "k8s_config.h"

/* base64 of "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" */
#define PEM_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBQUEKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="

static char dir[256];

static void write_file(const char *name, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vigil-test-k8scfg-XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_file("ca.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	write_file("token", "tok-1\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static struct k8s_config *load(const char *text, const char *ctx, char *err)
{
	err[0] = '\0';
	return k8s_config_kubeconfig_str(text, strlen(text), "kc.yaml", dir, ctx, err, 512);
}

static const char *KC = "apiVersion: v1\n"
			"kind: Config\n"
			"current-context: b\n"
			"clusters:\n"
			"- name: c1\n"
			"  cluster:\n"
			"    server: https://10.0.0.1:6443/\n"
			"    certificate-authority: ca.crt\n"
			"- name: c2\n"
			"  cluster:\n"
			"    server: https://[fd00::1]\n"
			"    certificate-authority-data: " PEM_B64 "\n"
			"contexts:\n"
			"- name: a\n"
			"  context: {cluster: c1, user: u1}\n"
			"- name: b\n"
			"  context: {cluster: c2, user: u2, namespace: team}\n"
			"users:\n"
			"- name: u1\n"
			"  user:\n"
			"    token: static-token\n"
			"- name: u2\n"
			"  user:\n"
			"    tokenFile: token\n"
			"    client-certificate-data: " PEM_B64 "\n"
			"    client-key-data: " PEM_B64 "\n";

static void test_current_context(void **state)
{
	(void)state;
	char err[512];
	struct k8s_config *c = load(KC, NULL, err);
	assert_non_null(c);
	assert_string_equal(c->host, "fd00::1");
	assert_int_equal(c->port, 443);
	assert_true(c->tls);
	assert_false(c->insecure);
	assert_string_equal(c->namespace, "team");
	assert_string_equal(c->path_prefix, "");
	/* inline data stays in memory ... */
	assert_null(c->ca_file);
	assert_string_equal(c->ca_data,
			    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	assert_non_null(c->client_cert_data);
	assert_non_null(c->client_key_data);
	/* ... and becomes private files only while the TLS context loads */
	struct k8s_tls_files tf;
	assert_int_equal(k8s_config_tls_files(c, &tf, err, 512), 0);
	struct stat st;
	assert_int_equal(stat(tf.key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(tf.dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	FILE *f = fopen(tf.ca, "r");
	char buf[128] = {0};
	assert_true(fread(buf, 1, sizeof(buf) - 1, f) > 0);
	fclose(f);
	assert_string_equal(buf, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	char *keep = strdup(tf.key), *keepdir = strdup(tf.dir);
	k8s_config_tls_files_done(&tf);
	assert_int_equal(stat(keep, &st), -1);
	assert_int_equal(stat(keepdir, &st), -1);
	free(keep);
	free(keepdir);
	char tok[64];
	assert_int_equal(k8s_config_token(c, tok, sizeof(tok), err, 512), 0);
	assert_string_equal(tok, "tok-1");
	k8s_config_free(c);
}

static void test_named_context(void **state)
{
	(void)state;
	char err[512];
	struct k8s_config *c = load(KC, "a", err);
	assert_non_null(c);
	assert_string_equal(c->host, "10.0.0.1");
	assert_int_equal(c->port, 6443);
	assert_string_equal(c->namespace, "default");
	char want[512];
	snprintf(want, sizeof(want), "%s/ca.crt", dir); /* relative to the file */
	assert_string_equal(c->ca_file, want);
	assert_null(c->client_cert_file);
	/* files as configured: used in place */
	struct k8s_tls_files tf;
	assert_int_equal(k8s_config_tls_files(c, &tf, err, 512), 0);
	assert_string_equal(tf.ca, want);
	assert_null(tf.dir);
	k8s_config_tls_files_done(&tf);
	char tok[64];
	assert_int_equal(k8s_config_token(c, tok, sizeof(tok), err, 512), 0);
	assert_string_equal(tok, "static-token");
	k8s_config_free(c);
}

static void test_insecure(void **state)
{
	(void)state;
	char err[512];
	const char *t = "current-context: x\n"
			"clusters: [{name: c, cluster: {server: 'https://h:1', "
			"insecure-skip-tls-verify: true}}]\n"
			"contexts: [{name: x, context: {cluster: c}}]\n";
	struct k8s_config *c = load(t, NULL, err);
	assert_non_null(c);
	assert_true(c->insecure);
	assert_null(c->ca_file);
	k8s_config_free(c);
	/* without the flag and without a CA: refused */
	const char *t2 = "current-context: x\n"
			 "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
			 "contexts: [{name: x, context: {cluster: c}}]\n";
	assert_null(load(t2, NULL, err));
	assert_non_null(strstr(err, "kc.yaml:2:"));
	assert_non_null(strstr(err, "clusters[0].cluster"));
	assert_non_null(strstr(err, "insecure-skip-tls-verify"));
}

struct errcase {
	const char *text;
	const char *want; /* substring of the message */
};

static void test_errors(void **state)
{
	(void)state;
	const struct errcase cases[] = {
		{"current-context: nope\ncontexts: []\n",
		 "kc.yaml:1:18: current-context: no entry named \"nope\" in contexts"},
		{"clusters: []\n", "kc.yaml:1:1: current-context: not set"},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
		 "clusters:\n- name: c\n  cluster: {server: 'ftp://h'}\n",
		 "kc.yaml:7:21: clusters[0].cluster.server: \"ftp://h\" is not an http(s) URL"},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
		 "clusters:\n- name: c\n  cluster: {server: 'https://h:99999', "
		 "insecure-skip-tls-verify: "
		 "true}\n",
		 "kc.yaml:7:21: clusters[0].cluster.server: \"https://h:99999\": bad port"},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
		 "clusters:\n- name: c\n  cluster: {server: 'https://h', "
		 "certificate-authority-data: "
		 "'!!!'}\n",
		 "kc.yaml:7:62: clusters[0].cluster.certificate-authority-data: not valid base64"},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
		 "clusters:\n- name: c\n  cluster: {server: 'https://h', certificate-authority: "
		 "missing.crt}\n",
		 "kc.yaml:7:57: clusters[0].cluster.certificate-authority: "},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\n"
		 "clusters:\n- name: c\n  cluster: {server: 'https://h', insecure-skip-tls-verify: "
		 "yes-please}\n",
		 "kc.yaml:7:60: clusters[0].cluster.insecure-skip-tls-verify: must be true or "
		 "false"},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		 "clusters:\n- name: c\n  cluster: {server: 'https://h', insecure-skip-tls-verify: "
		 "true}\nusers:\n- name: u\n  user:\n    exec: {command: aws}\n",
		 "kc.yaml:11:11: users[0].user.exec: not supported"},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		 "clusters:\n- name: c\n  cluster: {server: 'https://h', insecure-skip-tls-verify: "
		 "true}\nusers:\n- name: u\n  user:\n    token: [a, b]\n",
		 "kc.yaml:11:12: users[0].user.token: must be a string"},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		 "clusters:\n- name: c\n  cluster: {server: 'https://h', insecure-skip-tls-verify: "
		 "true}\nusers:\n- name: u\n  user:\n    client-certificate-data: " PEM_B64 "\n",
		 "users[0].user.client-key: missing"},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		 "clusters:\n- name: c\n  cluster: {server: 'https://h', insecure-skip-tls-verify: "
		 "true}\nusers:\n- name: u\n  user:\n    tokenFile: no-such-token\n",
		 "kc.yaml:11:16: users[0].user.tokenFile: token file "},
		{"current-context: x\ncontexts:\n- name: x\n  context: {cluster: zz}\n",
		 "kc.yaml:4:22: contexts[0].context.cluster: no entry named \"zz\" in clusters"},
		{"a: [\n", "kc.yaml:2:1: "},
		{"- just\n- a list\n", "kc.yaml:1:1: (document): a kubeconfig must be a mapping"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512];
		struct k8s_config *c = load(cases[i].text, NULL, err);
		if (c || !strstr(err, cases[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, c ? "(loaded)" : err,
				 cases[i].want);
	}
}

static uint64_t fake_now;
static uint64_t fake_clock(void)
{
	return fake_now;
}

/* A kubeconfig nested 100,000 deep: refused with its position at once,
 * never a crash in the loader's recursion or a quadratic scan. */
static void test_too_deep(void **state)
{
	(void)state;
	size_t n = 100000;
	char *text = malloc(2 * n + 64);
	size_t len = (size_t)sprintf(text, "apiVersion: v1\nclusters: ");
	for (size_t i = 0; i < n; i++)
		text[len++] = '[';
	for (size_t i = 0; i < n; i++)
		text[len++] = ']';
	text[len++] = '\n';
	text[len] = 0;
	char err[512];
	struct k8s_config *c = load(text, NULL, err);
	assert_null(c);
	assert_non_null(strstr(err, "kc.yaml:2:"));
	assert_non_null(strstr(err, "nested deeper than 256 levels"));
	free(text);
}

static void test_token_reread(void **state)
{
	(void)state;
	char err[512], tok[64];
	const char *t = "current-context: x\n"
			"clusters: [{name: c, cluster: {server: 'https://h', "
			"insecure-skip-tls-verify: true}}]\n"
			"contexts: [{name: x, context: {cluster: c, user: u}}]\n"
			"users: [{name: u, user: {tokenFile: token}}]\n";
	write_file("token", "tok-1\n");
	struct k8s_config *c = load(t, NULL, err);
	assert_non_null(c);
	fake_now = 1000000000000ull;
	k8s_config_set_clock(c, fake_clock);
	k8s_config_token_invalidate(c);
	assert_int_equal(k8s_config_token(c, tok, sizeof(tok), err, 512), 0);
	assert_string_equal(tok, "tok-1");
	unsigned reads = k8s_config_token_reads(c);
	write_file("token", "tok-2\n");
	/* within a minute: the cached token, no read */
	fake_now += 59ull * 1000000000ull;
	for (int i = 0; i < 100; i++)
		k8s_config_token(c, tok, sizeof(tok), err, 512);
	assert_string_equal(tok, "tok-1");
	assert_int_equal(k8s_config_token_reads(c), reads);
	/* a minute later: re-read */
	fake_now += 1000000000ull;
	k8s_config_token(c, tok, sizeof(tok), err, 512);
	assert_string_equal(tok, "tok-2");
	assert_int_equal(k8s_config_token_reads(c), reads + 1);
	/* after a 401: at once */
	write_file("token", "tok-3\n");
	k8s_config_token_invalidate(c);
	k8s_config_token(c, tok, sizeof(tok), err, 512);
	assert_string_equal(tok, "tok-3");
	/* a vanished file keeps the last good token */
	char p[512];
	snprintf(p, sizeof(p), "%s/token", dir);
	unlink(p);
	k8s_config_token_invalidate(c);
	assert_int_equal(k8s_config_token(c, tok, sizeof(tok), err, 512), 0);
	assert_string_equal(tok, "tok-3");
	assert_non_null(strstr(err, "token file"));
	k8s_config_free(c);
	write_file("token", "tok-1\n");
}

static void test_in_cluster(void **state)
{
	(void)state;
	char err[512];
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_null(k8s_config_in_cluster(dir, err, sizeof(err)));
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	write_file("namespace", "vigil\n");
	struct k8s_config *c = k8s_config_in_cluster(dir, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(c->server, "https://10.96.0.1:443");
	assert_string_equal(c->namespace, "vigil");
	char want[512], tok[64];
	snprintf(want, sizeof(want), "%s/ca.crt", dir);
	assert_string_equal(c->ca_file, want);
	assert_int_equal(k8s_config_token(c, tok, sizeof(tok), err, sizeof(err)), 0);
	assert_string_equal(tok, "tok-1");
	k8s_config_free(c);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	c = k8s_config_in_cluster(dir, err, sizeof(err));
	assert_non_null(c);
	assert_string_equal(c->host, "fd00::1");
	assert_string_equal(c->server, "https://[fd00::1]:443");
	k8s_config_free(c);
	/* no CA file */
	assert_null(k8s_config_in_cluster("/nonexistent", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/ca.crt"));
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_context), cmocka_unit_test(test_named_context),
		cmocka_unit_test(test_insecure),	cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_deep),	cmocka_unit_test(test_token_reread),
		cmocka_unit_test(test_in_cluster),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
