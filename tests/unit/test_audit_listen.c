/* audit.listen as the audit receiver (audit_rx.c) reads it: the same
 * host:port parser as metrics.listen and the configuration check
 * (vg_config_parse_hostport), so "[::1]:PORT" binds the IPv6 loopback and
 * what the configuration refuses, the receiver refuses with the same words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit.h"

static char dir[] = "/tmp/vigil-audit-listen-XXXXXX";
static char cert[128], key[128], token[128];

/* a self-signed certificate and a token file: what the receiver needs to start */
static int setup(void **unused)
{
	(void)unused;
	assert_non_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/c.pem", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	snprintf(token, sizeof(token), "%s/token", dir);
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	FILE *f = fopen(cert, "w");
	PEM_write_X509(f, x);
	fclose(f);
	f = fopen(key, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	f = fopen(token, "w");
	fputs("tok\n", f);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	unlink(cert);
	unlink(key);
	unlink(token);
	rmdir(dir);
	return 0;
}

static struct vg_audit *open_rx(const char *listen, char *err, size_t errlen)
{
	struct vg_audit_opts o = {
		.listen = listen,
		.path = "/k8s-audit",
		.tls_cert = cert,
		.tls_key = key,
		.client_ca = "",
		.token_file = token,
		.max_body_bytes = 1 << 20,
		.max_events = 100,
		.queue_bytes = 1 << 20,
		.max_connections = 2,
		.timeout_ms = 1000,
	};
	err[0] = 0;
	return vg_audit_new(&o, NULL, err, errlen);
}

static void expect_ok(const char *listen)
{
	char err[512];
	struct vg_audit *a = open_rx(listen, err, sizeof(err));
	if (!a)
		fail_msg("audit.listen '%s': %s", listen, err);
	assert_true(vg_audit_port(a) > 0);
	vg_audit_free(a);
}

static void expect_refused(const char *listen, const char *want)
{
	char err[512];
	struct vg_audit *a = open_rx(listen, err, sizeof(err));
	if (a) {
		vg_audit_free(a);
		fail_msg("audit.listen '%s' was accepted", listen);
	}
	if (!strstr(err, want) || !strstr(err, "audit.listen"))
		fail_msg("audit.listen '%s': '%s' lacks '%s'", listen, err, want);
}

static void test_listen_forms(void **unused)
{
	(void)unused;
	expect_ok("[::1]:0");
	expect_ok("127.0.0.1:0");
	expect_ok(":0");
	expect_ok("localhost:0");
	expect_refused("[::1]", "expected [address]:port");
	expect_refused("[::1]:", "port must be 0..65535");
	expect_refused("::1:0", "an IPv6 address needs brackets");
	expect_refused("[127.0.0.1]:0", "not an IPv6 address");
	expect_refused("127.0.0.1:99999", "port must be 0..65535");
	expect_refused("nohost", "expected host:port");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_forms),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
