/* k8s_config.c - see k8s_config.h. */
#include "k8s_config.h"
#include "k8s_yamldepth.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <yaml.h>

#include "httpc.h"
#include "k8s_util.h"

struct k8s_token {
	pthread_mutex_t mu;
	char *fixed; /* a token given inline */
	char *file;  /* a token file, re-read */
	char *cur;   /* the last good token read from file */
	uint64_t read_at;
	bool stale;
	unsigned reads;
	uint64_t (*now)(void);
};

/* --- small file helpers ---------------------------------------------------- */

/* Whole file into a NUL-terminated buffer; NULL with errno set. */
static char *read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = k8s_xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = k8s_xrealloc(buf, cap *= 2);
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
		if (len > (64u << 20)) { /* no kubeconfig or token is this big */
			fclose(f);
			free(buf);
			errno = EFBIG;
			return NULL;
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	return buf;
}

static char *trim_dup(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return k8s_xstrndup(s, n);
}

static char *join_path(const char *dir, const char *p)
{
	if (p[0] == '/' || !dir || !dir[0])
		return k8s_xstrdup(p);
	size_t n = strlen(dir) + strlen(p) + 2;
	char *r = k8s_xmalloc(n);
	snprintf(r, n, "%s/%s", dir, p);
	return r;
}

/* Write data to dir/name (0600) and return the path. */
static char *write_private(const char *dir, const char *name, const char *data, char *err,
			   size_t errlen)
{
	char *path = join_path(dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		k8s_set_err(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return NULL;
	}
	size_t len = strlen(data), off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			k8s_set_err(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			unlink(path);
			free(path);
			return NULL;
		}
		off += (size_t)w;
	}
	close(fd);
	return path;
}

void k8s_config_tls_files_done(struct k8s_tls_files *f)
{
	for (int i = 0; i < 3; i++) {
		if (f->owned[i])
			unlink(f->owned[i]);
		free(f->owned[i]);
		f->owned[i] = NULL;
	}
	if (f->dir)
		rmdir(f->dir);
	free(f->dir);
	memset(f, 0, sizeof(*f));
}

int k8s_config_tls_files(const struct k8s_config *c, struct k8s_tls_files *f, char *err,
			 size_t errlen)
{
	memset(f, 0, sizeof(*f));
	f->ca = c->ca_file;
	f->cert = c->client_cert_file;
	f->key = c->client_key_file;
	const char *data[3] = {c->ca_data, c->client_cert_data, c->client_key_data};
	static const char *names[3] = {"ca.crt", "client.crt", "client.key"};
	const char **slot[3] = {&f->ca, &f->cert, &f->key};
	for (int i = 0; i < 3; i++) {
		if (!data[i])
			continue;
		if (!f->dir) {
			const char *base = getenv("TMPDIR");
			if (!base || !base[0])
				base = "/tmp";
			size_t n = strlen(base) + 32;
			f->dir = k8s_xmalloc(n);
			snprintf(f->dir, n, "%s/vigil-k8s-XXXXXX", base);
			if (!mkdtemp(f->dir)) {
				k8s_set_err(err, errlen,
					    "cannot create a private directory under %s: %s", base,
					    strerror(errno));
				free(f->dir);
				f->dir = NULL;
				k8s_config_tls_files_done(f);
				return -1;
			}
		}
		f->owned[i] = write_private(f->dir, names[i], data[i], err, errlen);
		if (!f->owned[i]) {
			k8s_config_tls_files_done(f);
			return -1;
		}
		*slot[i] = f->owned[i];
	}
	return 0;
}

/* Standard base64 (whitespace ignored) into a new buffer; NULL if invalid. */
static unsigned char *b64_decode(const char *s, size_t *outlen)
{
	size_t n = strlen(s);
	char *clean = k8s_xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
			clean[k++] = s[i];
	clean[k] = '\0';
	if (k == 0 || k % 4) {
		free(clean);
		return NULL;
	}
	unsigned char *out = k8s_xmalloc(k / 4 * 3 + 1);
	int r = EVP_DecodeBlock(out, (const unsigned char *)clean, (int)k);
	if (r < 0) {
		free(clean);
		free(out);
		return NULL;
	}
	size_t len = (size_t)r;
	if (clean[k - 1] == '=')
		len--;
	if (clean[k - 2] == '=')
		len--;
	free(clean);
	out[len] = '\0';
	*outlen = len;
	return out;
}

/* --- server URL -------------------------------------------------------------- */

static int parse_server(struct k8s_config *c, const char *url, char *why, size_t whylen)
{
	struct httpc_url u;
	if (httpc_url_parse(url, &u, why, whylen))
		return -1;
	c->tls = u.tls;
	c->host = u.host; /* taken over */
	c->port = u.port;
	size_t pl = strlen(u.path);
	while (pl && u.path[pl - 1] == '/')
		pl--;
	c->path_prefix = k8s_xstrndup(u.path, pl);
	free(u.path);
	c->server = k8s_xstrdup(url);
	return 0;
}

/* --- tokens ------------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
	return k8s_now_mono_ns();
}

static struct k8s_token *token_new(void)
{
	struct k8s_token *t = k8s_xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	t->now = mono_ns;
	t->stale = true;
	return t;
}

static void token_free(struct k8s_token *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t->fixed);
	free(t->file);
	free(t->cur);
	free(t);
}

int k8s_config_token(struct k8s_config *c, char *buf, size_t len, char *err, size_t errlen)
{
	struct k8s_token *t = c->token;
	if (len)
		buf[0] = '\0';
	if (!t)
		return 0;
	int rc = 0;
	pthread_mutex_lock(&t->mu);
	if (t->fixed) {
		snprintf(buf, len, "%s", t->fixed);
	} else if (t->file) {
		uint64_t now = t->now();
		if (t->stale || !t->cur || now - t->read_at >= K8S_TOKEN_REREAD_NS) {
			t->reads++;
			char *raw = read_file(t->file, NULL);
			if (raw) {
				free(t->cur);
				t->cur = trim_dup(raw);
				free(raw);
				t->read_at = now;
				t->stale = false;
			} else {
				k8s_set_err(err, errlen, "token file %s: %s", t->file,
					    strerror(errno));
				/* try again at the next request, not a minute later */
				t->stale = true;
				if (!t->cur)
					rc = -1;
			}
		}
		if (t->cur)
			snprintf(buf, len, "%s", t->cur);
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void k8s_config_token_invalidate(struct k8s_config *c)
{
	if (!c->token)
		return;
	pthread_mutex_lock(&c->token->mu);
	c->token->stale = true;
	pthread_mutex_unlock(&c->token->mu);
}

void k8s_config_set_clock(struct k8s_config *c, uint64_t (*now_ns)(void))
{
	if (!c->token)
		c->token = token_new();
	c->token->now = now_ns ? now_ns : mono_ns;
}

unsigned k8s_config_token_reads(struct k8s_config *c)
{
	if (!c->token)
		return 0;
	pthread_mutex_lock(&c->token->mu);
	unsigned n = c->token->reads;
	pthread_mutex_unlock(&c->token->mu);
	return n;
}

/* --- lifecycle ---------------------------------------------------------------- */

void k8s_config_free(struct k8s_config *c)
{
	if (!c)
		return;
	free(c->ca_data);
	free(c->client_cert_data);
	if (c->client_key_data) {
		/* do not leave the key in freed memory */
		memset(c->client_key_data, 0, strlen(c->client_key_data));
		free(c->client_key_data);
	}
	free(c->server);
	free(c->host);
	free(c->path_prefix);
	free(c->ca_file);
	free(c->client_cert_file);
	free(c->client_key_file);
	free(c->namespace);
	free(c->source);
	token_free(c->token);
	free(c);
}

/* --- in-cluster --------------------------------------------------------------- */

struct k8s_config *k8s_config_in_cluster(const char *sa_dir, char *err, size_t errlen)
{
	if (!sa_dir)
		sa_dir = K8S_SA_DIR;
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !host[0] || !port || !port[0]) {
		k8s_set_err(
			err, errlen,
			"in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
			"must be set (not running in a pod? give a kubeconfig)");
		return NULL;
	}
	struct k8s_config *c = k8s_xcalloc(1, sizeof(*c));
	char url[512], why[256];
	if (strchr(host, ':'))
		snprintf(url, sizeof(url), "https://[%s]:%s", host, port);
	else
		snprintf(url, sizeof(url), "https://%s:%s", host, port);
	if (parse_server(c, url, why, sizeof(why))) {
		k8s_set_err(err, errlen, "in-cluster config: KUBERNETES_SERVICE_HOST/PORT: %s",
			    why);
		goto fail;
	}
	c->ca_file = join_path(sa_dir, "ca.crt");
	if (access(c->ca_file, R_OK)) {
		k8s_set_err(err, errlen, "in-cluster config: %s: %s", c->ca_file, strerror(errno));
		goto fail;
	}
	c->token = token_new();
	c->token->file = join_path(sa_dir, "token");
	char tmp[8];
	if (k8s_config_token(c, tmp, sizeof(tmp), err, errlen))
		goto fail;
	char *nsf = join_path(sa_dir, "namespace");
	char *ns = read_file(nsf, NULL);
	free(nsf);
	if (ns) {
		c->namespace = trim_dup(ns);
		free(ns);
	}
	if (!c->namespace || !c->namespace[0]) {
		free(c->namespace);
		c->namespace = k8s_xstrdup("default");
	}
	c->source = k8s_xstrdup("in-cluster");
	return c;
fail:
	k8s_config_free(c);
	return NULL;
}

/* --- kubeconfig ----------------------------------------------------------------- */

struct kc {
	yaml_document_t doc;
	const char *name; /* file name for messages */
	const char *dir;
	char *err;
	size_t errlen;
};

static void kc_err(struct kc *k, const yaml_node_t *n, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void kc_err(struct kc *k, const yaml_node_t *n, const char *field, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n)
		k8s_set_err(k->err, k->errlen, "%s:%zu:%zu: %s: %s", k->name,
			    n->start_mark.line + 1, n->start_mark.column + 1, field, msg);
	else
		k8s_set_err(k->err, k->errlen, "%s: %s: %s", k->name, field, msg);
}

static yaml_node_t *node(struct kc *k, int idx)
{
	return yaml_document_get_node(&k->doc, idx);
}

static bool is_null(const yaml_node_t *n)
{
	if (!n)
		return true;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)n->data.scalar.value;
	return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

/* The value of key in a mapping (NULL when absent). */
static yaml_node_t *map_get(struct kc *k, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(k, p->key);
		if (kn && kn->type == YAML_SCALAR_NODE &&
		    !strcmp((char *)kn->data.scalar.value, key))
			return node(k, p->value);
	}
	return NULL;
}

/* A string field: 0 and *out (NULL when absent or null), -1 on a wrong type. */
static int get_str(struct kc *k, yaml_node_t *map, const char *key, const char *field,
		   const char **out)
{
	*out = NULL;
	yaml_node_t *v = map_get(k, map, key);
	if (!v || is_null(v))
		return 0;
	if (v->type != YAML_SCALAR_NODE) {
		kc_err(k, v, field, "must be a string");
		return -1;
	}
	*out = (const char *)v->data.scalar.value;
	return 0;
}

static int get_bool(struct kc *k, yaml_node_t *map, const char *key, const char *field, bool *out)
{
	*out = false;
	yaml_node_t *v = map_get(k, map, key);
	if (!v || is_null(v))
		return 0;
	const char *s = v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : "";
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
		*out = true;
		return 0;
	}
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return 0;
	kc_err(k, v, field, "must be true or false");
	return -1;
}

/* Find the entry named name in the list under key ("clusters") and return
 * its inner mapping (entry[inner]); *idx is its index for messages. */
static int find_named(struct kc *k, yaml_node_t *root, const char *key, const char *inner,
		      const char *name, yaml_node_t *ref, const char *reffield, yaml_node_t **out,
		      int *idx)
{
	*out = NULL;
	yaml_node_t *seq = map_get(k, root, key);
	if (seq && !is_null(seq) && seq->type != YAML_SEQUENCE_NODE) {
		kc_err(k, seq, key, "must be a list");
		return -1;
	}
	int i = 0;
	if (seq && seq->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = seq->data.sequence.items.start;
		     it < seq->data.sequence.items.top; it++, i++) {
			yaml_node_t *e = node(k, *it);
			char field[64];
			snprintf(field, sizeof(field), "%s[%d]", key, i);
			if (!e || e->type != YAML_MAPPING_NODE) {
				kc_err(k, e, field, "must be a mapping");
				return -1;
			}
			const char *n;
			snprintf(field, sizeof(field), "%s[%d].name", key, i);
			if (get_str(k, e, "name", field, &n))
				return -1;
			if (!n || strcmp(n, name))
				continue;
			yaml_node_t *in = map_get(k, e, inner);
			snprintf(field, sizeof(field), "%s[%d].%s", key, i, inner);
			if (!in || is_null(in)) {
				kc_err(k, e, field, "missing");
				return -1;
			}
			if (in->type != YAML_MAPPING_NODE) {
				kc_err(k, in, field, "must be a mapping");
				return -1;
			}
			*out = in;
			*idx = i;
			return 0;
		}
	}
	kc_err(k, ref, reffield, "no entry named \"%s\" in %s", name, key);
	return -1;
}

/* A file-or-data pair (certificate-authority / certificate-authority-data):
 * the path to use, a private copy for data. */
static int file_or_data(struct kc *k, yaml_node_t *map, const char *prefix, const char *fkey,
			const char *dkey, char **file_out, char **data_out)
{
	char ff[128], fd[128];
	snprintf(ff, sizeof(ff), "%s.%s", prefix, fkey);
	snprintf(fd, sizeof(fd), "%s.%s", prefix, dkey);
	const char *file, *data;
	if (get_str(k, map, fkey, ff, &file) || get_str(k, map, dkey, fd, &data))
		return -1;
	if (data && data[0]) {
		size_t len;
		unsigned char *raw = b64_decode(data, &len);
		if (!raw || strlen((char *)raw) != len) {
			free(raw);
			kc_err(k, map_get(k, map, dkey), fd, "not valid base64");
			return -1;
		}
		if (!strstr((char *)raw, "-----BEGIN ")) {
			free(raw);
			kc_err(k, map_get(k, map, dkey), fd, "does not hold PEM data");
			return -1;
		}
		*data_out = (char *)raw;
		return 0;
	}
	if (file && file[0]) {
		char *p = join_path(k->dir, file);
		if (access(p, R_OK)) {
			kc_err(k, map_get(k, map, fkey), ff, "%s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*file_out = p;
	}
	return 0;
}

static struct k8s_config *kc_build(struct kc *k, const char *context)
{
	yaml_node_t *root = yaml_document_get_root_node(&k->doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		kc_err(k, root, "(document)", "a kubeconfig must be a mapping");
		return NULL;
	}
	struct k8s_config *c = k8s_xcalloc(1, sizeof(*c));
	yaml_node_t *ctxref = NULL;
	const char *ctxfield = "current-context";
	if (!context) {
		if (get_str(k, root, "current-context", "current-context", &context))
			goto fail;
		ctxref = map_get(k, root, "current-context");
		if (!ctxref)
			ctxref = root;
		if (!context || !context[0]) {
			kc_err(k, ctxref, "current-context", "not set (and no context was named)");
			goto fail;
		}
	} else {
		ctxref = NULL;
		ctxfield = "context";
	}
	yaml_node_t *ctx, *cl, *us = NULL;
	int ci, cli, ui = 0;
	if (find_named(k, root, "contexts", "context", context, ctxref, ctxfield, &ctx, &ci))
		goto fail;
	char f[128];
	const char *clname, *uname, *ns;
	snprintf(f, sizeof(f), "contexts[%d].context.cluster", ci);
	if (get_str(k, ctx, "cluster", f, &clname))
		goto fail;
	if (!clname || !clname[0]) {
		kc_err(k, ctx, f, "missing");
		goto fail;
	}
	if (find_named(k, root, "clusters", "cluster", clname, map_get(k, ctx, "cluster"), f, &cl,
		       &cli))
		goto fail;
	snprintf(f, sizeof(f), "contexts[%d].context.user", ci);
	if (get_str(k, ctx, "user", f, &uname))
		goto fail;
	if (uname && uname[0] &&
	    find_named(k, root, "users", "user", uname, map_get(k, ctx, "user"), f, &us, &ui))
		goto fail;
	snprintf(f, sizeof(f), "contexts[%d].context.namespace", ci);
	if (get_str(k, ctx, "namespace", f, &ns))
		goto fail;
	c->namespace = k8s_xstrdup(ns && ns[0] ? ns : "default");

	/* cluster */
	char pre[64];
	snprintf(pre, sizeof(pre), "clusters[%d].cluster", cli);
	const char *server;
	snprintf(f, sizeof(f), "%s.server", pre);
	if (get_str(k, cl, "server", f, &server))
		goto fail;
	if (!server || !server[0]) {
		kc_err(k, cl, f, "missing");
		goto fail;
	}
	char why[300];
	if (parse_server(c, server, why, sizeof(why))) {
		kc_err(k, map_get(k, cl, "server"), f, "%s", why);
		goto fail;
	}
	snprintf(f, sizeof(f), "%s.insecure-skip-tls-verify", pre);
	if (get_bool(k, cl, "insecure-skip-tls-verify", f, &c->insecure))
		goto fail;
	if (file_or_data(k, cl, pre, "certificate-authority", "certificate-authority-data",
			 &c->ca_file, &c->ca_data))
		goto fail;
	if (c->tls && !c->ca_file && !c->ca_data && !c->insecure) {
		kc_err(k, cl, pre,
		       "no certificate-authority or certificate-authority-data (TLS is verified "
		       "against the configured CA only; set insecure-skip-tls-verify: true to "
		       "skip verification)");
		goto fail;
	}
	if (c->insecure) {
		/* a CA given together with insecure is not used */
		free(c->ca_file);
		free(c->ca_data);
		c->ca_file = c->ca_data = NULL;
	}

	/* user */
	c->token = token_new();
	if (us) {
		snprintf(pre, sizeof(pre), "users[%d].user", ui);
		static const char *unsupported[] = {"exec", "auth-provider", "username",
						    "password"};
		for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
			yaml_node_t *v = map_get(k, us, unsupported[i]);
			if (v && !is_null(v)) {
				snprintf(f, sizeof(f), "%s.%s", pre, unsupported[i]);
				kc_err(k, v, f,
				       "not supported (use a token, tokenFile or a client "
				       "certificate)");
				goto fail;
			}
		}
		if (file_or_data(k, us, pre, "client-certificate", "client-certificate-data",
				 &c->client_cert_file, &c->client_cert_data) ||
		    file_or_data(k, us, pre, "client-key", "client-key-data", &c->client_key_file,
				 &c->client_key_data))
			goto fail;
		bool has_cert = c->client_cert_file || c->client_cert_data;
		bool has_key = c->client_key_file || c->client_key_data;
		if (has_cert != has_key) {
			snprintf(f, sizeof(f), "%s.%s", pre,
				 has_cert ? "client-key" : "client-certificate");
			kc_err(k, us, f, "missing (a client certificate needs its key)");
			goto fail;
		}
		const char *tok, *tokfile;
		snprintf(f, sizeof(f), "%s.token", pre);
		if (get_str(k, us, "token", f, &tok))
			goto fail;
		snprintf(f, sizeof(f), "%s.tokenFile", pre);
		if (get_str(k, us, "tokenFile", f, &tokfile))
			goto fail;
		if (tok && tok[0]) {
			c->token->fixed = k8s_xstrdup(tok);
		} else if (tokfile && tokfile[0]) {
			c->token->file = join_path(k->dir, tokfile);
			char tmp[8], e2[300];
			if (k8s_config_token(c, tmp, sizeof(tmp), e2, sizeof(e2))) {
				kc_err(k, map_get(k, us, "tokenFile"), f, "%s", e2);
				goto fail;
			}
		}
	}
	size_t sl = strlen(k->name) + strlen(context) + 32;
	c->source = k8s_xmalloc(sl);
	snprintf(c->source, sl, "kubeconfig %s (context %s)", k->name, context);
	return c;
fail:
	k8s_config_free(c);
	return NULL;
}

struct k8s_config *k8s_config_kubeconfig_str(const char *text, size_t len, const char *name,
					     const char *dir, const char *context, char *err,
					     size_t errlen)
{
	struct kc k = {.name = name, .dir = dir, .err = err, .errlen = errlen};
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		k8s_set_err(err, errlen, "%s: cannot initialize the YAML parser", name);
		return NULL;
	}
	/* the nesting first: libyaml's loader builds every level (and its
	 * scanner is quadratic in the depth) */
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	size_t dl, dc;
	if (k8s_yaml_too_deep(&parser, K8S_YAML_MAX_DEPTH, &dl, &dc)) {
		k8s_set_err(err, errlen, "%s:%zu:%zu: nested deeper than %d levels", name, dl, dc,
			    K8S_YAML_MAX_DEPTH);
		yaml_parser_delete(&parser);
		return NULL;
	}
	yaml_parser_delete(&parser);
	if (!yaml_parser_initialize(&parser)) {
		k8s_set_err(err, errlen, "%s: cannot initialize the YAML parser", name);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &k.doc)) {
		k8s_set_err(err, errlen, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
			    parser.problem_mark.column + 1,
			    parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		return NULL;
	}
	yaml_parser_delete(&parser);
	struct k8s_config *c = kc_build(&k, context);
	yaml_document_delete(&k.doc);
	return c;
}

struct k8s_config *k8s_config_kubeconfig(const char *path, const char *context, char *err,
					 size_t errlen)
{
	size_t len;
	char *text = read_file(path, &len);
	if (!text) {
		k8s_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *dir = k8s_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	struct k8s_config *c =
		k8s_config_kubeconfig_str(text, len, path, dir, context, err, errlen);
	free(dir);
	free(text);
	return c;
}

struct k8s_config *k8s_config_auto(const char *path, char *err, size_t errlen)
{
	if (path && path[0])
		return k8s_config_kubeconfig(path, NULL, err, errlen);
	const char *env = getenv("KUBECONFIG");
	if (env && env[0]) {
		char *first = k8s_xstrndup(env, strcspn(env, ":"));
		struct k8s_config *c = k8s_config_kubeconfig(first, NULL, err, errlen);
		free(first);
		return c;
	}
	return k8s_config_in_cluster(NULL, err, errlen);
}
