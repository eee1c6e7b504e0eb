/* config.h - the agent's YAML configuration (default /etc/vigil/vigil.yaml).
 *
 * Every key has a default, so an empty file (or none) is a valid
 * configuration.  An unknown key, a key given twice, a value of the wrong
 * type or out of its range (docs/configuration.md) is an error naming
 * file:line:col and the key's dotted path.  A few keys can be set
 * from the environment, which wins over the file (a DaemonSet sets them):
 * VIGIL_NODE_NAME or NODE_NAME, VIGIL_LOG_LEVEL.
 */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG_CONFIG_DEFAULT_PATH "/etc/vigil/vigil.yaml"
#define VG_CONFIG_MAX_RULES_DIRS 16
#define VG_CONFIG_MAX_HEADERS 16
#define VG_CONFIG_MAX_ARGS 64

/* A YAML mapping of strings, kept as "Name: value" lines (HTTP headers). */
struct vg_config_headers {
	char *v[VG_CONFIG_MAX_HEADERS];
	size_t n;
};

struct vg_config {
	char *rules_dirs[VG_CONFIG_MAX_RULES_DIRS]; /* files or directories */
	size_t n_rules_dirs;
	char *log_level; /* error | warning | info | debug */
	char *node_name; /* "" = the host name */
	/* The host's procfs: "/proc", or where a container mounts the host's
	 * (its cgroup2 mount is expected at <parent>/sys/fs/cgroup). */
	char *proc_root;

	struct {
		bool enabled;		/* false: no eBPF (audit receiver alone) */
		uint64_t ringbuf_bytes; /* power of two, >= 4096 */
		bool ignore_self;	/* do not capture vigil's own syscalls */
		/* BPF-LSM programs (io_uring, open_by_handle_at): auto | on | off */
		char *lsm;
		/* the kernel-side prefilter compiled from the rules: on | off */
		char *prefilter;
	} capture;

	struct {
		uint64_t max_procs;
		uint64_t max_fds;
		uint64_t max_env_bytes;
	} state;

	struct {
		bool stdout_enabled;
		char *stdout_format; /* json | text */
		char *min_priority;  /* Emergency..Debug */
		char *stdout_min_priority;
		bool file_enabled;
		char *file_path;
		char *file_format;
		char *file_min_priority;
		bool http_enabled;
		char *http_url;
		char *http_ca_file; /* "" = the system's CAs */
		char *http_client_cert;
		char *http_client_key;
		struct vg_config_headers http_headers;
		uint64_t http_timeout_ms;
		uint64_t http_retries;
		uint64_t http_backoff_ms;
		uint64_t http_backoff_max_ms;
		char *http_min_priority;
		bool http_keepalive;
		char *http_batch; /* none | json_array | ndjson */
		uint64_t http_batch_max_alerts, http_batch_max_bytes, http_batch_max_age_ms;
		bool syslog_enabled;
		char *syslog_transport; /* unix | udp | tcp | tls */
		char *syslog_address;	/* socket path, or HOST:PORT */
		char *syslog_facility, *syslog_app_name, *syslog_sd_id, *syslog_format;
		bool syslog_bom;
		uint64_t syslog_max_bytes;
		char *syslog_ca_file, *syslog_client_cert, *syslog_client_key, *syslog_server_name;
		uint64_t syslog_timeout_ms, syslog_retries, syslog_backoff_ms,
			syslog_backoff_max_ms;
		char *syslog_min_priority;
		bool program_enabled;
		char *program_command[VG_CONFIG_MAX_ARGS + 1]; /* argv, NULL-ended */
		size_t program_ncommand;
		char *program_format;
		uint64_t program_timeout_ms, program_retries, program_backoff_ms,
			program_backoff_max_ms;
		char *program_min_priority;
		uint64_t queue_length;	      /* per sink */
		uint64_t drain_timeout_ms;    /* at shutdown */
		uint64_t rate_limit_per_rule; /* alerts/s per rule, 0 = unlimited */
		uint64_t rate_limit_burst;
	} outputs;

	struct {
		char *enabled;	      /* auto | true | false */
		char *kubeconfig;     /* "" = $KUBECONFIG, else in-cluster */
		char *namespace;      /* the agent's own (leases); "" = the config's */
		uint64_t hold_ms;     /* wait for a new container's pod */
		uint64_t pod_hold_ms; /* ... when its Pod is listed without it */
		bool rules;	      /* watch ClusterRule, Rule, RuleLibrary */
		bool leader_election; /* write rule status from one elected agent */
		bool events_enabled;  /* alerts as Kubernetes Events */
		char *events_min_priority;
		uint64_t events_queue_length; /* series waiting to be written */
	} kubernetes;

	/* Bounds on namespaced Rules (DESIGN.md "Tenancy"); 0: none. */
	struct {
		uint64_t max_rules_per_namespace;     /* past it: Accepted=False */
		uint64_t namespace_cpu_ms_per_second; /* evaluation budget */
	} tenancy;

	/* Container metadata from the runtime's own files (agent/runtime/):
	 * the roots of each layout, read-only. */
	struct {
		bool enabled;
		char *containerd_roots[VG_CONFIG_MAX_RULES_DIRS]; /* <root>/<ns>/<id>/config.json */
		size_t n_containerd_roots;
		char *crio_roots[VG_CONFIG_MAX_RULES_DIRS]; /* <root>/<id>/userdata/config.json */
		size_t n_crio_roots;
		char *runc_roots[VG_CONFIG_MAX_RULES_DIRS]; /* <root>/[<ns>/]<id>/state.json */
		size_t n_runc_roots;
		uint64_t max_containers;
		uint64_t max_file_bytes;
		uint64_t hold_ms; /* without Kubernetes: wait for the runtime's answer */
	} runtime;

	struct {
		bool enabled;
		char *listen;	/* host:port */
		char *tls_cert; /* PEM; "" = plain HTTP */
		char *tls_key;
	} metrics;

	/* the Kubernetes audit webhook receiver (audit.h) */
	struct {
		bool enabled;
		char *listen;	/* host:port */
		char *path;	/* URL path the API server posts to */
		char *tls_cert; /* PEM; required: HTTPS only */
		char *tls_key;
		char *client_ca;  /* client certificates signed by it required */
		char *token_file; /* bearer token required */
		uint64_t max_body_bytes;
		uint64_t max_events; /* per request */
		uint64_t queue_bytes;
		uint64_t max_connections;
		uint64_t timeout_ms;
	} audit;
};

/* Fill *cfg with every default.  Always succeeds (strings are static until
 * a file sets them; vg_config_free handles both). */
void vg_config_defaults(struct vg_config *cfg);

/* Load path over the defaults.  missing_ok: a missing file keeps the
 * defaults.  Returns 0, or -1 with err = "FILE:LINE:COL: message". */
int vg_config_load(struct vg_config *cfg, const char *path, bool missing_ok, char *err,
		   size_t errlen);

/* Split a listen address: "host:port" (an IPv4 address, a host name, or
 * "" for every address), "[IPv6]:port".  host gets the address or name
 * without brackets, family AF_INET, AF_INET6 or AF_UNSPEC (a name, "").
 * Returns 0, or -1 with why = what is wrong ("port must be 0..65535";
 * 256.1.1.1 is "not an IPv4 address", never taken for a name). */
int vg_config_parse_hostport(const char *s, char *host, size_t hostcap, int *port, int *family,
			     char *why, size_t len);

/* Apply the environment overrides. */
void vg_config_env(struct vg_config *cfg);

void vg_config_free(struct vg_config *cfg);

#endif
