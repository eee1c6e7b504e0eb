/* k8s_config.h - where the Kubernetes API server is and how to authenticate.
 *
 * Two sources: in-cluster (the service host/port variables and the service
 * account's token, ca.crt and namespace files) and a kubeconfig file (its
 * current context, or a named one).  Certificates and keys given inline
 * ("-data" keys) are written to a private temporary directory that
 * k8s_config_free() removes: libwebsockets 4.1 loads only the first
 * certificate of an in-memory CA bundle, so the TLS layer always gets paths.
 *
 * TLS is always verified against the configured CA only; a config without a
 * CA is an error unless insecure-skip-tls-verify is set explicitly.
 *
 * The bearer token of a token file is re-read at most once a minute, and at
 * once after k8s_config_token_invalidate() (the client calls it on a 401),
 * so rotated service-account tokens are picked up.  Token functions are
 * thread-safe.
 */
#ifndef VIGIL_K8S_CONFIG_H
#define VIGIL_K8S_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define K8S_TOKEN_REREAD_NS (60ull * 1000000000ull)

struct k8s_token;

struct k8s_config {
	char *server;		/* "https://host:port[/prefix]" as configured */
	char *host;		/* host name or address (IPv6 without brackets) */
	int port;		/* 443 when the URL has none */
	char *path_prefix;	/* "" or "/prefix" (no trailing slash) */
	bool tls;		/* https (http only for tests and proxies) */
	bool insecure;		/* insecure-skip-tls-verify: no CA, no host check */
	char *ca_file;		/* PEM bundle; NULL only when insecure */
	char *client_cert_file; /* PEM; both or neither */
	char *client_key_file;
	char *namespace; /* context / service-account namespace, else "default" */
	char *source;	 /* "in-cluster" or "kubeconfig FILE (context NAME)" */
	char *tmpdir;	 /* private copies of inline data; removed on free */
	struct k8s_token *token;
};

/* In-cluster config.  sa_dir: the service-account directory (NULL =
 * K8S_SA_DIR; tests point it elsewhere).  Needs KUBERNETES_SERVICE_HOST and
 * KUBERNETES_SERVICE_PORT, SA_DIR/token and SA_DIR/ca.crt; SA_DIR/namespace
 * is optional.  Returns NULL with err set. */
struct k8s_config *k8s_config_in_cluster(const char *sa_dir, char *err, size_t errlen);

/* Kubeconfig file; context NULL = its current-context.  Relative paths in
 * it are relative to the file's directory.  Errors name the place:
 * "FILE:LINE:COL: users[0].user.token: must be a string". */
struct k8s_config *k8s_config_kubeconfig(const char *path, const char *context, char *err,
					 size_t errlen);

/* The same from a string (tests); name is used in messages, dir resolves
 * relative paths. */
struct k8s_config *k8s_config_kubeconfig_str(const char *text, size_t len, const char *name,
					     const char *dir, const char *context, char *err,
					     size_t errlen);

/* kubeconfig when path is non-NULL, else $KUBECONFIG (its first file) when
 * set, else in-cluster. */
struct k8s_config *k8s_config_auto(const char *path, char *err, size_t errlen);

void k8s_config_free(struct k8s_config *c);

/* Copy the bearer token to send into buf ("" when the config has none).
 * A token file is re-read when the copy is older than a minute or after
 * k8s_config_token_invalidate(); a read that fails keeps the last good
 * token (returned with err set and -1 only when there never was one). */
int k8s_config_token(struct k8s_config *c, char *buf, size_t len, char *err, size_t errlen);
void k8s_config_token_invalidate(struct k8s_config *c);
/* Replace the clock the re-read rule uses (monotonic ns; tests). */
void k8s_config_set_clock(struct k8s_config *c, uint64_t (*now_ns)(void));
/* How many times the token file has been read (tests). */
unsigned k8s_config_token_reads(struct k8s_config *c);

#endif
