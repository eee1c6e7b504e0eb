/* config.c - see config.h.
 *
 * The keys are a table (dotted path, type, offset): parsing, defaults and
 * error messages all come from it, so adding a key is one line. */
#include "config.h"
#include "util.h"
#include "k8s_yamldepth.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

enum ktype { K_STR, K_STRLIST, K_U64, K_BOOL, K_MAP, K_ARGV };

struct key {
	const char *path;
	enum ktype type;
	size_t off;
	const char *def;				 /* default, as YAML text would give it */
	const char *const *enums;			 /* allowed values of a K_STR, NULL-ended */
	int (*check)(uint64_t v, char *why, size_t len); /* a K_U64's range */
};

static const char *const log_levels[] = {"error", "warning", "info", "debug", NULL};
static const char *const tristate[] = {"auto", "true", "false", NULL};
static const char *const lsm_modes[] = {"auto", "on", "off", NULL};
static const char *const onoff[] = {"on", "off", NULL};
static const char *const formats[] = {"json", "text", NULL};
static const char *const batches[] = {"none", "json_array", "ndjson", NULL};
static const char *const transports[] = {"unix", "udp", "tcp", "tls", NULL};
static const char *const facilities[] = {
	"kern",	  "user",     "mail",	"daemon", "auth",   "syslog", "lpr",   "news",	 "uucp",
	"cron",	  "authpriv", "ftp",	"ntp",	  "audit",  "alert",  "clock", "local0", "local1",
	"local2", "local3",   "local4", "local5", "local6", "local7", NULL};
static const char *const priorities[] = {"emergency", "alert",	"critical",	 "error",
					 "warning",   "notice", "informational", "info",
					 "debug",     NULL};

/* ---- value checks ----------------------------------------------------------
 *
 * Every number has a range: what the code can honour without wrapping a
 * narrower type, allocating without bound or waiting forever.  The ranges
 * are documented in docs/configuration.md. */

static int check_range(uint64_t v, uint64_t lo, uint64_t hi, char *why, size_t len)
{
	if (v < lo && lo == 1)
		snprintf(why, len, "must be greater than 0");
	else if (v < lo)
		snprintf(why, len, "must be at least %llu, got %llu", (unsigned long long)lo,
			 (unsigned long long)v);
	else if (v > hi)
		snprintf(why, len, "must be at most %llu, got %llu", (unsigned long long)hi,
			 (unsigned long long)v);
	else
		return 0;
	return -1;
}

#define RANGE(name, lo, hi)                                                                        \
	static int name(uint64_t v, char *why, size_t len)                                         \
	{                                                                                          \
		return check_range(v, (lo), (hi), why, len);                                       \
	}

#define MS_HOUR 3600000ull
RANGE(check_procs, 16, 4194304)	       /* the kernel's pid_max limit */
RANGE(check_fds, 4, 1048576)	       /* the kernel's nr_open limit */
RANGE(check_env, 1, 1048576)	       /* bytes per process */
RANGE(check_timeout, 1, 600000)	       /* one HTTP attempt: up to 10 minutes */
RANGE(check_retries, 0, 1000)	       /* HTTP retries */
RANGE(check_backoff, 1, MS_HOUR)       /* a wait between retries */
RANGE(check_queue, 1, 1000000)	       /* alerts or Event series queued */
RANGE(check_drain, 0, MS_HOUR)	       /* the shutdown's drain */
RANGE(check_rate, 0, 1000000)	       /* alerts per second per rule, 0 = unlimited */
RANGE(check_burst, 1, 1000000)	       /* the rate limit's bucket */
RANGE(check_hold, 0, 600000)	       /* holding a new container's events */
RANGE(check_body, 1, 268435456)	       /* one audit request's body: 256 MiB */
RANGE(check_events, 1, 1000000)	       /* audit events in one request */
RANGE(check_qbytes, 1, 1ull << 30)     /* audit events waiting: 1 GiB */
RANGE(check_conns, 1, 1024)	       /* audit connections at once */
RANGE(check_containers, 1, 1000000)    /* containers the runtime cache keeps */
RANGE(check_filebytes, 1, 64ull << 20) /* one runtime file read: 64 MiB */
RANGE(check_nsrules, 0, 100000)	       /* Rules per namespace, 0 = unbounded */
RANGE(check_nscpu, 0, 1000)	       /* ms per second on one thread, 0 = unbounded */

static int check_ring(uint64_t v, char *why, size_t len)
{
	/* the kernel takes up to 2 GiB; libbpf reads the size as 32 bits */
	if (v < 4096 || v > (1ull << 30) || (v & (v - 1)) != 0) {
		snprintf(why, len,
			 "must be a power of two from 4096 to 1073741824 (1 GiB), got %llu",
			 (unsigned long long)v);
		return -1;
	}
	return 0;
}

/* host:port, [IPv6]:port or :port, with port 0..65535 (the name itself is
 * resolved when the listener starts). */
static int check_listen(const char *v, char *why, size_t len)
{
	char host[256], what[128];
	int port, family;
	if (!vg_config_parse_hostport(v, host, sizeof(host), &port, &family, what, sizeof(what)))
		return 0;
	snprintf(why, len, "'%s': %s", v, what);
	return -1;
}

#define OFF(f) offsetof(struct vg_config, f)
static const struct key keys[] = {
	{"rules_dirs", K_STRLIST, OFF(rules_dirs), "/etc/vigil/rules", NULL, NULL},
	{"log_level", K_STR, OFF(log_level), "info", log_levels, NULL},
	{"node_name", K_STR, OFF(node_name), "", NULL, NULL},
	{"proc_root", K_STR, OFF(proc_root), "/proc", NULL, NULL},
	{"capture.enabled", K_BOOL, OFF(capture.enabled), "true", NULL, NULL},
	{"capture.ringbuf_bytes", K_U64, OFF(capture.ringbuf_bytes), "8388608", NULL, check_ring},
	{"capture.ignore_self", K_BOOL, OFF(capture.ignore_self), "true", NULL, NULL},
	{"capture.lsm", K_STR, OFF(capture.lsm), "auto", lsm_modes, NULL},
	{"capture.prefilter", K_STR, OFF(capture.prefilter), "on", onoff, NULL},
	{"state.max_procs", K_U64, OFF(state.max_procs), "32768", NULL, check_procs},
	{"state.max_fds", K_U64, OFF(state.max_fds), "1024", NULL, check_fds},
	{"state.max_env_bytes", K_U64, OFF(state.max_env_bytes), "4096", NULL, check_env},
	{"outputs.stdout.enabled", K_BOOL, OFF(outputs.stdout_enabled), "true", NULL, NULL},
	{"outputs.stdout.format", K_STR, OFF(outputs.stdout_format), "json", formats, NULL},
	{"outputs.min_priority", K_STR, OFF(outputs.min_priority), "debug", priorities, NULL},
	{"outputs.file.enabled", K_BOOL, OFF(outputs.file_enabled), "false", NULL, NULL},
	{"outputs.file.path", K_STR, OFF(outputs.file_path), "/var/log/vigil/alerts.json", NULL,
	 NULL},
	{"outputs.file.format", K_STR, OFF(outputs.file_format), "json", formats, NULL},
	{"outputs.stdout.min_priority", K_STR, OFF(outputs.stdout_min_priority), "debug",
	 priorities, NULL},
	{"outputs.file.min_priority", K_STR, OFF(outputs.file_min_priority), "debug", priorities,
	 NULL},
	{"outputs.http.enabled", K_BOOL, OFF(outputs.http_enabled), "false", NULL, NULL},
	{"outputs.http.url", K_STR, OFF(outputs.http_url), "", NULL, NULL},
	{"outputs.http.ca_file", K_STR, OFF(outputs.http_ca_file), "", NULL, NULL},
	{"outputs.http.client_cert", K_STR, OFF(outputs.http_client_cert), "", NULL, NULL},
	{"outputs.http.client_key", K_STR, OFF(outputs.http_client_key), "", NULL, NULL},
	{"outputs.http.headers", K_MAP, OFF(outputs.http_headers), "", NULL, NULL},
	{"outputs.http.timeout_ms", K_U64, OFF(outputs.http_timeout_ms), "5000", NULL,
	 check_timeout},
	{"outputs.http.retries", K_U64, OFF(outputs.http_retries), "8", NULL, check_retries},
	{"outputs.http.backoff_ms", K_U64, OFF(outputs.http_backoff_ms), "200", NULL,
	 check_backoff},
	{"outputs.http.backoff_max_ms", K_U64, OFF(outputs.http_backoff_max_ms), "5000", NULL,
	 check_backoff},
	{"outputs.http.min_priority", K_STR, OFF(outputs.http_min_priority), "debug", priorities,
	 NULL},
	{"outputs.http.keepalive", K_BOOL, OFF(outputs.http_keepalive), "true", NULL, NULL},
	{"outputs.http.batch.mode", K_STR, OFF(outputs.http_batch), "none", batches, NULL},
	{"outputs.http.batch.max_alerts", K_U64, OFF(outputs.http_batch_max_alerts), "100", NULL,
	 check_events},
	{"outputs.http.batch.max_bytes", K_U64, OFF(outputs.http_batch_max_bytes), "1048576", NULL,
	 check_body},
	{"outputs.http.batch.max_age_ms", K_U64, OFF(outputs.http_batch_max_age_ms), "1000", NULL,
	 check_backoff},
	{"outputs.syslog.enabled", K_BOOL, OFF(outputs.syslog_enabled), "false", NULL, NULL},
	{"outputs.syslog.transport", K_STR, OFF(outputs.syslog_transport), "unix", transports,
	 NULL},
	{"outputs.syslog.address", K_STR, OFF(outputs.syslog_address), "/dev/log", NULL, NULL},
	{"outputs.syslog.facility", K_STR, OFF(outputs.syslog_facility), "local0", facilities,
	 NULL},
	{"outputs.syslog.app_name", K_STR, OFF(outputs.syslog_app_name), "vigil", NULL, NULL},
	{"outputs.syslog.sd_id", K_STR, OFF(outputs.syslog_sd_id), "vigil@32473", NULL, NULL},
	{"outputs.syslog.format", K_STR, OFF(outputs.syslog_format), "json", formats, NULL},
	{"outputs.syslog.bom", K_BOOL, OFF(outputs.syslog_bom), "false", NULL, NULL},
	{"outputs.syslog.max_bytes", K_U64, OFF(outputs.syslog_max_bytes), "65536", NULL,
	 check_body},
	{"outputs.syslog.ca_file", K_STR, OFF(outputs.syslog_ca_file), "", NULL, NULL},
	{"outputs.syslog.client_cert", K_STR, OFF(outputs.syslog_client_cert), "", NULL, NULL},
	{"outputs.syslog.client_key", K_STR, OFF(outputs.syslog_client_key), "", NULL, NULL},
	{"outputs.syslog.server_name", K_STR, OFF(outputs.syslog_server_name), "", NULL, NULL},
	{"outputs.syslog.timeout_ms", K_U64, OFF(outputs.syslog_timeout_ms), "5000", NULL,
	 check_timeout},
	{"outputs.syslog.retries", K_U64, OFF(outputs.syslog_retries), "8", NULL, check_retries},
	{"outputs.syslog.backoff_ms", K_U64, OFF(outputs.syslog_backoff_ms), "200", NULL,
	 check_backoff},
	{"outputs.syslog.backoff_max_ms", K_U64, OFF(outputs.syslog_backoff_max_ms), "5000", NULL,
	 check_backoff},
	{"outputs.syslog.min_priority", K_STR, OFF(outputs.syslog_min_priority), "debug",
	 priorities, NULL},
	{"outputs.program.enabled", K_BOOL, OFF(outputs.program_enabled), "false", NULL, NULL},
	{"outputs.program.command", K_ARGV, OFF(outputs.program_command), "", NULL, NULL},
	{"outputs.program.format", K_STR, OFF(outputs.program_format), "json", formats, NULL},
	{"outputs.program.timeout_ms", K_U64, OFF(outputs.program_timeout_ms), "5000", NULL,
	 check_timeout},
	{"outputs.program.retries", K_U64, OFF(outputs.program_retries), "8", NULL, check_retries},
	{"outputs.program.backoff_ms", K_U64, OFF(outputs.program_backoff_ms), "200", NULL,
	 check_backoff},
	{"outputs.program.backoff_max_ms", K_U64, OFF(outputs.program_backoff_max_ms), "5000", NULL,
	 check_backoff},
	{"outputs.program.min_priority", K_STR, OFF(outputs.program_min_priority), "debug",
	 priorities, NULL},
	{"outputs.queue_length", K_U64, OFF(outputs.queue_length), "10000", NULL, check_queue},
	{"outputs.drain_timeout_ms", K_U64, OFF(outputs.drain_timeout_ms), "10000", NULL,
	 check_drain},
	{"outputs.rate_limit.per_rule", K_U64, OFF(outputs.rate_limit_per_rule), "0", NULL,
	 check_rate},
	{"outputs.rate_limit.burst", K_U64, OFF(outputs.rate_limit_burst), "20", NULL, check_burst},
	{"kubernetes.enabled", K_STR, OFF(kubernetes.enabled), "auto", tristate, NULL},
	{"kubernetes.kubeconfig", K_STR, OFF(kubernetes.kubeconfig), "", NULL, NULL},
	{"kubernetes.namespace", K_STR, OFF(kubernetes.namespace), "", NULL, NULL},
	{"kubernetes.hold_ms", K_U64, OFF(kubernetes.hold_ms), "2000", NULL, check_hold},
	{"kubernetes.pod_hold_ms", K_U64, OFF(kubernetes.pod_hold_ms), "30000", NULL, check_hold},
	{"kubernetes.rules", K_BOOL, OFF(kubernetes.rules), "true", NULL, NULL},
	{"tenancy.max_rules_per_namespace", K_U64, OFF(tenancy.max_rules_per_namespace), "50", NULL,
	 check_nsrules},
	{"tenancy.namespace_cpu_ms_per_second", K_U64, OFF(tenancy.namespace_cpu_ms_per_second),
	 "50", NULL, check_nscpu},
	{"kubernetes.leader_election", K_BOOL, OFF(kubernetes.leader_election), "true", NULL, NULL},
	{"kubernetes.events.enabled", K_BOOL, OFF(kubernetes.events_enabled), "true", NULL, NULL},
	{"kubernetes.events.min_priority", K_STR, OFF(kubernetes.events_min_priority), "notice",
	 priorities, NULL},
	{"kubernetes.events.queue_length", K_U64, OFF(kubernetes.events_queue_length), "1000", NULL,
	 check_queue},
	{"runtime.enabled", K_BOOL, OFF(runtime.enabled), "true", NULL, NULL},
	/* K_STRLIST defaults: entries separated by ',' */
	{"runtime.containerd_roots", K_STRLIST, OFF(runtime.containerd_roots),
	 "/run/containerd/io.containerd.runtime.v2.task", NULL, NULL},
	{"runtime.crio_roots", K_STRLIST, OFF(runtime.crio_roots),
	 "/run/containers/storage/overlay-containers", NULL, NULL},
	{"runtime.runc_roots", K_STRLIST, OFF(runtime.runc_roots), "/run/runc,/run/containerd/runc",
	 NULL, NULL},
	{"runtime.max_containers", K_U64, OFF(runtime.max_containers), "4096", NULL,
	 check_containers},
	{"runtime.max_file_bytes", K_U64, OFF(runtime.max_file_bytes), "524288", NULL,
	 check_filebytes},
	{"runtime.hold_ms", K_U64, OFF(runtime.hold_ms), "500", NULL, check_hold},
	{"metrics.enabled", K_BOOL, OFF(metrics.enabled), "true", NULL, NULL},
	{"metrics.listen", K_STR, OFF(metrics.listen), "0.0.0.0:8765", NULL, NULL},
	{"metrics.tls_cert", K_STR, OFF(metrics.tls_cert), "", NULL, NULL},
	{"metrics.tls_key", K_STR, OFF(metrics.tls_key), "", NULL, NULL},
	{"audit.enabled", K_BOOL, OFF(audit.enabled), "false", NULL, NULL},
	{"audit.listen", K_STR, OFF(audit.listen), "0.0.0.0:9765", NULL, NULL},
	{"audit.path", K_STR, OFF(audit.path), "/k8s-audit", NULL, NULL},
	{"audit.tls_cert", K_STR, OFF(audit.tls_cert), "", NULL, NULL},
	{"audit.tls_key", K_STR, OFF(audit.tls_key), "", NULL, NULL},
	{"audit.client_ca", K_STR, OFF(audit.client_ca), "", NULL, NULL},
	{"audit.token_file", K_STR, OFF(audit.token_file), "", NULL, NULL},
	{"audit.max_body_bytes", K_U64, OFF(audit.max_body_bytes), "12582912", NULL, check_body},
	{"audit.max_events", K_U64, OFF(audit.max_events), "10000", NULL, check_events},
	{"audit.queue_bytes", K_U64, OFF(audit.queue_bytes), "67108864", NULL, check_qbytes},
	{"audit.max_connections", K_U64, OFF(audit.max_connections), "16", NULL, check_conns},
	{"audit.timeout_ms", K_U64, OFF(audit.timeout_ms), "30000", NULL, check_timeout},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The form of a few strings, checked when set. */
static const struct {
	const char *path;
	int (*check)(const char *v, char *why, size_t len);
} str_checks[] = {
	{"metrics.listen", check_listen},
	{"audit.listen", check_listen},
};

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = vg_xstrdup(v);
}

/* Each K_STRLIST's entry count, by the list's offset. */
static const struct {
	size_t off, noff;
} list_counts[] = {
	{OFF(rules_dirs), OFF(n_rules_dirs)},
	{OFF(runtime.containerd_roots), OFF(runtime.n_containerd_roots)},
	{OFF(runtime.crio_roots), OFF(runtime.n_crio_roots)},
	{OFF(runtime.runc_roots), OFF(runtime.n_runc_roots)},
};

static char **list_of(struct vg_config *cfg, const struct key *k, size_t **n)
{
	*n = NULL;
	for (size_t i = 0; i < sizeof(list_counts) / sizeof(list_counts[0]); i++)
		if (list_counts[i].off == k->off)
			*n = (size_t *)((char *)cfg + list_counts[i].noff);
	return (char **)((char *)cfg + k->off);
}

static void clear_list(struct vg_config *cfg, const struct key *k)
{
	size_t *n;
	char **v = list_of(cfg, k, &n);
	for (size_t i = 0; i < *n; i++) {
		free(v[i]);
		v[i] = NULL;
	}
	*n = 0;
}

static void clear_map(struct vg_config_headers *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->v[i]);
	h->n = 0;
}

static void clear_argv(struct vg_config *cfg)
{
	for (size_t i = 0; i < cfg->outputs.program_ncommand; i++) {
		free(cfg->outputs.program_command[i]);
		cfg->outputs.program_command[i] = NULL;
	}
	cfg->outputs.program_ncommand = 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const t[] = {"true", "yes", "on", "True", "TRUE", NULL};
	static const char *const f[] = {"false", "no", "off", "False", "FALSE", NULL};
	for (int i = 0; t[i]; i++)
		if (!strcmp(s, t[i]))
			return *out = true, 0;
	for (int i = 0; f[i]; i++)
		if (!strcmp(s, f[i]))
			return *out = false, 0;
	return -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* Set a scalar key from text; why gets the reason on failure. */
static int set_scalar(struct vg_config *cfg, const struct key *k, const char *v, char *why,
		      size_t len)
{
	char *base = (char *)cfg + k->off;
	switch (k->type) {
	case K_STR:
		if (k->enums) {
			int ok = 0;
			for (int i = 0; k->enums[i]; i++)
				ok |= !strcasecmp(v, k->enums[i]);
			if (!ok) {
				size_t n = snprintf(why, len, "invalid value '%s' (one of:", v);
				for (int i = 0; k->enums[i] && n < len; i++)
					n += snprintf(why + n, len - n, " %s", k->enums[i]);
				if (n < len)
					snprintf(why + n, len - n, ")");
				return -1;
			}
		}
		for (size_t i = 0; i < sizeof(str_checks) / sizeof(str_checks[0]); i++)
			if (!strcmp(str_checks[i].path, k->path) &&
			    str_checks[i].check(v, why, len))
				return -1;
		set_str((char **)base, v);
		return 0;
	case K_U64: {
		uint64_t u;
		if (parse_u64(v, &u)) {
			snprintf(why, len, "expected an unsigned integer, got '%s'", v);
			return -1;
		}
		if (k->check && k->check(u, why, len))
			return -1;
		*(uint64_t *)base = u;
		return 0;
	}
	case K_BOOL:
		if (parse_bool(v, (bool *)base)) {
			snprintf(why, len, "expected true or false, got '%s'", v);
			return -1;
		}
		return 0;
	case K_STRLIST: {
		size_t *n;
		char **list = list_of(cfg, k, &n);
		clear_list(cfg, k);
		if (*v) /* "key:" with nothing: an empty list */
			list[(*n)++] = vg_xstrdup(v);
		return 0;
	}
	case K_ARGV:
		clear_argv(cfg);
		if (*v) {
			snprintf(why, len, "expected a list: the program, then its arguments");
			return -1;
		}
		return 0;
	case K_MAP:
		clear_map((struct vg_config_headers *)base);
		if (*v) {
			snprintf(why, len, "expected a mapping of names to values");
			return -1;
		}
		return 0;
	}
	return -1;
}

void vg_config_defaults(struct vg_config *cfg)
{
	char why[128];
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].type != K_STRLIST) {
			set_scalar(cfg, &keys[i], keys[i].def, why, sizeof(why));
			continue;
		}
		size_t *n;
		char **list = list_of(cfg, &keys[i], &n);
		for (const char *p = keys[i].def; *p && *n < VG_CONFIG_MAX_RULES_DIRS;) {
			size_t len = strcspn(p, ",");
			list[(*n)++] = vg_xstrndup(p, len);
			p += len + (p[len] == ',');
		}
	}
}

void vg_config_free(struct vg_config *cfg)
{
	clear_argv(cfg);
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type == K_STRLIST) {
			clear_list(cfg, &keys[i]);
		} else if (keys[i].type == K_STR) {
			char **slot = (char **)((char *)cfg + keys[i].off);
			free(*slot);
			*slot = NULL;
		} else if (keys[i].type == K_MAP) {
			clear_map((struct vg_config_headers *)((char *)cfg + keys[i].off));
		}
}

struct loader {
	struct vg_config *cfg;
	yaml_document_t *doc;
	const char *path;
	char *err;
	size_t errlen;
};

static int fail(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	int off = snprintf(l->err, l->errlen, "%s:%zu:%zu: ", l->path, n->start_mark.line + 1,
			   n->start_mark.column + 1);
	if (off < 0 || (size_t)off >= l->errlen)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->err + off, l->errlen - off, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* The first byte of s that may not stand in an HTTP header (a control
 * character other than a tab: a CR or LF would end the header line and
 * start another, header injection), or NULL. */
static const char *header_ctl(const char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return s;
	return NULL;
}

static const char *ctl_name(char c)
{
	return c == '\r' ? "a CR" : c == '\n' ? "a LF" : "a control character";
}

static int load_value(struct loader *l, const struct key *k, const char *path, yaml_node_t *v)
{
	char why[256];
	if (k->type == K_STRLIST) {
		if (v->type == YAML_SCALAR_NODE)
			return set_scalar(l->cfg, k, (char *)v->data.scalar.value, why,
					  sizeof(why));
		if (v->type != YAML_SEQUENCE_NODE)
			return fail(l, v, "key '%s': expected a list of paths, got %s", path,
				    node_kind(v));
		size_t *n;
		char **list = list_of(l->cfg, k, &n);
		clear_list(l->cfg, k);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *e = yaml_document_get_node(l->doc, *it);
			if (e->type != YAML_SCALAR_NODE)
				return fail(l, e, "key '%s': expected a path, got %s", path,
					    node_kind(e));
			if (*n == VG_CONFIG_MAX_RULES_DIRS)
				return fail(l, e, "key '%s': at most %d entries", path,
					    VG_CONFIG_MAX_RULES_DIRS);
			list[(*n)++] = vg_xstrdup((char *)e->data.scalar.value);
		}
		return 0;
	}
	if (k->type == K_ARGV) {
		/* a list, never a command line: no shell splits or expands it */
		if (v->type != YAML_SEQUENCE_NODE)
			return fail(l, v,
				    "key '%s': expected a list (the program, then its arguments), "
				    "got %s",
				    path, node_kind(v));
		clear_argv(l->cfg);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *e = yaml_document_get_node(l->doc, *it);
			if (e->type != YAML_SCALAR_NODE)
				return fail(l, e, "key '%s': expected a string, got %s", path,
					    node_kind(e));
			if (l->cfg->outputs.program_ncommand == VG_CONFIG_MAX_ARGS)
				return fail(l, e, "key '%s': at most %d entries", path,
					    VG_CONFIG_MAX_ARGS);
			l->cfg->outputs.program_command[l->cfg->outputs.program_ncommand++] =
				vg_xstrdup((char *)e->data.scalar.value);
		}
		if (!l->cfg->outputs.program_ncommand)
			return fail(l, v, "key '%s': the list is empty", path);
		if (!*l->cfg->outputs.program_command[0])
			return fail(l, v, "key '%s': the program's name is empty", path);
		return 0;
	}
	if (k->type == K_MAP && v->type == YAML_MAPPING_NODE) {
		struct vg_config_headers *h = (struct vg_config_headers *)((char *)l->cfg + k->off);
		clear_map(h);
		for (yaml_node_pair_t *p = v->data.mapping.pairs.start;
		     p < v->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = yaml_document_get_node(l->doc, p->key);
			yaml_node_t *vn = yaml_document_get_node(l->doc, p->value);
			if (kn->type != YAML_SCALAR_NODE || !*kn->data.scalar.value)
				return fail(l, kn, "key '%s': expected a name, got %s", path,
					    node_kind(kn));
			if (vn->type != YAML_SCALAR_NODE)
				return fail(l, vn, "key '%s.%s': expected a scalar, got %s", path,
					    (char *)kn->data.scalar.value, node_kind(vn));
			if (h->n == VG_CONFIG_MAX_HEADERS)
				return fail(l, kn, "key '%s': at most %d entries", path,
					    VG_CONFIG_MAX_HEADERS);
			const char *bad = header_ctl((char *)kn->data.scalar.value);
			if (bad)
				return fail(l, kn, "key '%s': the name contains %s (0x%02x)", path,
					    ctl_name(*bad), (unsigned char)*bad);
			bad = header_ctl((char *)vn->data.scalar.value);
			if (bad)
				return fail(l, vn, "key '%s.%s': the value contains %s (0x%02x)",
					    path, (char *)kn->data.scalar.value, ctl_name(*bad),
					    (unsigned char)*bad);
			size_t n = strlen((char *)kn->data.scalar.value) +
				   strlen((char *)vn->data.scalar.value) + 3;
			h->v[h->n] = vg_xmalloc(n);
			snprintf(h->v[h->n++], n, "%s: %s", (char *)kn->data.scalar.value,
				 (char *)vn->data.scalar.value);
		}
		return 0;
	}
	if (k->type == K_MAP && v->type == YAML_SCALAR_NODE && !*v->data.scalar.value)
		return 0; /* "headers:" with nothing below */
	if (k->type == K_MAP)
		return fail(l, v, "key '%s': expected a mapping of names to values, got %s", path,
			    node_kind(v));
	if (v->type != YAML_SCALAR_NODE)
		return fail(l, v, "key '%s': expected a scalar, got %s", path, node_kind(v));
	if (set_scalar(l->cfg, k, (char *)v->data.scalar.value, why, sizeof(why)))
		return fail(l, v, "key '%s': %s", path, why);
	return 0;
}

static int load_mapping(struct loader *l, yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(l->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(l->doc, p->value);
		if (kn->type != YAML_SCALAR_NODE)
			return fail(l, kn, "keys must be scalars");
		char path[256];
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
			 (char *)kn->data.scalar.value);
		const struct key *k = NULL;
		int is_section = 0;
		size_t plen = strlen(path);
		for (size_t i = 0; i < NKEYS; i++) {
			if (!strcmp(keys[i].path, path))
				k = &keys[i];
			else if (!strncmp(keys[i].path, path, plen) && keys[i].path[plen] == '.')
				is_section = 1;
		}
		if (k) {
			if (load_value(l, k, path, vn))
				return -1;
		} else if (is_section) {
			if (vn->type == YAML_SCALAR_NODE && !*vn->data.scalar.value)
				continue; /* "section:" with nothing below */
			if (vn->type != YAML_MAPPING_NODE)
				return fail(l, vn, "key '%s': expected a mapping, got %s", path,
					    node_kind(vn));
			if (load_mapping(l, vn, path))
				return -1;
		} else {
			return fail(l, kn, "unknown key '%s'", path);
		}
	}
	return 0;
}

/* A key given twice in one mapping is an error at the second (YAML says
 * keys are unique; libyaml keeps both, and the later would silently win). */
static int check_duplicates(struct loader *l)
{
	for (yaml_node_t *n = l->doc->nodes.start; n < l->doc->nodes.top; n++) {
		if (n->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
			if (k->type != YAML_SCALAR_NODE)
				continue;
			for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
				yaml_node_t *e = yaml_document_get_node(l->doc, q->key);
				if (e->type == YAML_SCALAR_NODE &&
				    !strcmp((char *)e->data.scalar.value,
					    (char *)k->data.scalar.value))
					return fail(l, k, "duplicate key '%s' (first at %zu:%zu)",
						    (char *)k->data.scalar.value,
						    e->start_mark.line + 1,
						    e->start_mark.column + 1);
			}
		}
	}
	return 0;
}

/* The node a dotted path names in the file, or NULL. */
static yaml_node_t *node_at(struct loader *l, yaml_node_t *map, const char *path)
{
	while (map && map->type == YAML_MAPPING_NODE) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		yaml_node_t *next = NULL;
		for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
		     p < map->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
			if (k->type == YAML_SCALAR_NODE &&
			    strlen((char *)k->data.scalar.value) == n &&
			    !memcmp(k->data.scalar.value, path, n))
				next = yaml_document_get_node(l->doc, p->value);
		}
		if (!dot || !next)
			return next;
		map = next;
		path = dot + 1;
	}
	return NULL;
}

/* An error at the first of the paths the file has (the key that switched a
 * sink on, else its section, else the top). */
static int fail_at(struct loader *l, yaml_node_t *root, const char *const *paths, const char *fmt,
		   ...)
{
	yaml_node_t *n = NULL;
	for (; *paths && !n; paths++)
		n = node_at(l, root, *paths);
	if (!n)
		n = root;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fail(l, n, "%s", msg);
}

/* A key one cannot run without when the thing is on: an error at load
 * rather than a refusal when the agent starts, which has no position. */
static int need(struct loader *l, yaml_node_t *root, bool on, const char *onkey, const char *have,
		const char *key)
{
	if (!on || *have)
		return 0;
	char sect[128];
	snprintf(sect, sizeof(sect), "%.*s", (int)(strrchr(onkey, '.') - onkey), onkey);
	const char *const at[] = {onkey, sect, NULL};
	return fail_at(l, root, at, "%s is true but %s is not set", onkey, key);
}

/* A certificate and its key go together. */
static int pair(struct loader *l, yaml_node_t *root, bool on, const char *ck, const char *cv,
		const char *kk, const char *kv)
{
	if (!on || !*cv == !*kv)
		return 0;
	const char *set = *cv ? ck : kk, *unset = *cv ? kk : ck;
	const char *const at[] = {set, NULL};
	return fail_at(l, root, at, "%s is set but %s is not (a certificate needs its key)", set,
		       unset);
}

static int check_needs(struct loader *l, yaml_node_t *root)
{
	const struct vg_config *c = l->cfg;
	if (need(l, root, c->outputs.program_enabled, "outputs.program.enabled",
		 c->outputs.program_ncommand ? "x" : "", "outputs.program.command") ||
	    need(l, root, c->outputs.http_enabled, "outputs.http.enabled", c->outputs.http_url,
		 "outputs.http.url") ||
	    pair(l, root, c->outputs.http_enabled, "outputs.http.client_cert",
		 c->outputs.http_client_cert, "outputs.http.client_key",
		 c->outputs.http_client_key) ||
	    pair(l, root, c->outputs.syslog_enabled, "outputs.syslog.client_cert",
		 c->outputs.syslog_client_cert, "outputs.syslog.client_key",
		 c->outputs.syslog_client_key) ||
	    need(l, root, c->outputs.file_enabled, "outputs.file.enabled", c->outputs.file_path,
		 "outputs.file.path") ||
	    need(l, root, c->audit.enabled, "audit.enabled", c->audit.tls_cert, "audit.tls_cert") ||
	    need(l, root, c->audit.enabled, "audit.enabled", c->audit.tls_key, "audit.tls_key") ||
	    pair(l, root, c->metrics.enabled, "metrics.tls_cert", c->metrics.tls_cert,
		 "metrics.tls_key", c->metrics.tls_key))
		return -1;
	if (c->audit.enabled && !*c->audit.client_ca && !*c->audit.token_file) {
		const char *const at[] = {"audit.enabled", "audit", NULL};
		return fail_at(l, root, at,
			       "audit.enabled is true but neither audit.client_ca nor "
			       "audit.token_file is set (the API server must be authenticated)");
	}
	return 0;
}

int vg_config_parse_hostport(const char *s, char *host, size_t hostcap, int *port, int *family,
			     char *why, size_t len)
{
	const char *colon, *hs, *he;
	if (s[0] == '[') {
		he = strchr(s, ']');
		if (!he || he[1] != ':') {
			snprintf(why, len, "expected [address]:port");
			return -1;
		}
		hs = s + 1;
		colon = he + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			snprintf(why, len, "expected host:port");
			return -1;
		}
		hs = s;
		he = colon;
		if (memchr(hs, ':', (size_t)(he - hs))) {
			snprintf(why, len, "an IPv6 address needs brackets");
			return -1;
		}
	}
	size_t hl = (size_t)(he - hs);
	if (hl >= hostcap) {
		snprintf(why, len, "host too long");
		return -1;
	}
	memcpy(host, hs, hl);
	host[hl] = 0;
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || p < 0 || p > 65535 || colon[1] == '-' ||
	    colon[1] == '+' || colon[1] == ' ') {
		snprintf(why, len, "port must be 0..65535");
		return -1;
	}
	*port = (int)p;
	unsigned char tmp[sizeof(struct in6_addr)];
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, host, tmp) != 1) {
			snprintf(why, len, "not an IPv6 address");
			return -1;
		}
		*family = AF_INET6;
		return 0;
	}
	if (inet_pton(AF_INET, host, tmp) == 1) {
		*family = AF_INET;
		return 0;
	}
	/* digits and dots only: meant as an IPv4 address (a host name's last
	 * label is never all digits), so 256.1.1.1 is refused here */
	if (hl && strspn(host, "0123456789.") == hl) {
		snprintf(why, len, "not an IPv4 address");
		return -1;
	}
	for (size_t i = 0; i < hl; i++) {
		char c = host[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_')) {
			snprintf(why, len, "not an address or a host name");
			return -1;
		}
	}
	*family = AF_UNSPEC; /* a host name, or "" for every address */
	return 0;
}

int vg_config_load(struct vg_config *cfg, const char *path, bool missing_ok, char *err,
		   size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	/* the depth first: the document API would take O(depth^2) to refuse */
	size_t dl, dc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	int deep = k8s_yaml_too_deep(&parser, K8S_YAML_MAX_DEPTH, &dl, &dc);
	yaml_parser_delete(&parser);
	if (deep || fseek(f, 0, SEEK_SET)) {
		if (deep)
			snprintf(err, errlen,
				 "%s:%zu:%zu: lists and mappings nested deeper than %d levels",
				 path, dl, dc, K8S_YAML_MAX_DEPTH);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	int rc = 0;
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
			 parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	struct loader l = {cfg, &doc, path, err, errlen};
	if (!root) {
		rc = 0; /* empty file: all defaults */
	} else if (root->type == YAML_SCALAR_NODE && !*root->data.scalar.value) {
		rc = 0;
	} else if (root->type != YAML_MAPPING_NODE) {
		rc = fail(&l, root, "the configuration must be a mapping, got %s", node_kind(root));
	} else {
		rc = check_duplicates(&l) || load_mapping(&l, root, "") || check_needs(&l, root)
			     ? -1
			     : 0;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

void vg_config_env(struct vg_config *cfg)
{
	const char *v = getenv("VIGIL_NODE_NAME");
	if (!v || !*v)
		v = getenv("NODE_NAME");
	if (v && *v)
		set_str(&cfg->node_name, v);
	v = getenv("POD_NAMESPACE");
	if (v && *v && !*cfg->kubernetes.namespace)
		set_str(&cfg->kubernetes.namespace, v);
	v = getenv("VIGIL_LOG_LEVEL");
	if (v && *v) {
		char why[128];
		for (size_t i = 0; i < NKEYS; i++)
			if (!strcmp(keys[i].path, "log_level"))
				set_scalar(cfg, &keys[i], v, why, sizeof(why));
	}
}
