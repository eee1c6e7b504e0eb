/* Unit tests of the configuration loader (agent/base/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

static char path[64];

static const char *write_tmp(const char *text)
{
	strcpy(path, "/tmp/vigil-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static int load(struct vg_config *cfg, const char *text, char *err, size_t len)
{
	vg_config_defaults(cfg);
	int rc = vg_config_load(cfg, write_tmp(text), false, err, len);
	unlink(path);
	return rc;
}

static void test_defaults(void **state)
{
	(void)state;
	struct vg_config cfg;
	vg_config_defaults(&cfg);
	assert_int_equal(cfg.n_rules_dirs, 1);
	assert_string_equal(cfg.rules_dirs[0], "/etc/vigil/rules");
	assert_string_equal(cfg.log_level, "info");
	assert_int_equal(cfg.capture.ringbuf_bytes, 8388608);
	assert_true(cfg.capture.ignore_self);
	assert_string_equal(cfg.capture.lsm, "auto");
	assert_string_equal(cfg.capture.prefilter, "on");
	assert_int_equal(cfg.state.max_procs, 32768);
	assert_true(cfg.outputs.stdout_enabled);
	assert_string_equal(cfg.outputs.stdout_format, "json");
	assert_string_equal(cfg.metrics.listen, "0.0.0.0:8765");
	assert_string_equal(cfg.proc_root, "/proc");
	vg_config_free(&cfg);
}

static void test_empty_and_missing(void **state)
{
	(void)state;
	struct vg_config cfg;
	char err[256];
	assert_int_equal(load(&cfg, "", err, sizeof(err)), 0);
	assert_int_equal(cfg.capture.ringbuf_bytes, 8388608);
	vg_config_free(&cfg);
	vg_config_defaults(&cfg);
	assert_int_equal(vg_config_load(&cfg, "/nonexistent/vigil.yaml", true, err, sizeof(err)),
			 0);
	assert_int_equal(vg_config_load(&cfg, "/nonexistent/vigil.yaml", false, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "/nonexistent/vigil.yaml"));
	vg_config_free(&cfg);
}

static void test_values(void **state)
{
	(void)state;
	struct vg_config cfg;
	char err[256] = "";
	int rc = load(&cfg,
		      "rules_dirs: [/a, /b]\n"
		      "log_level: debug\n"
		      "proc_root: /host/proc\n"
		      "capture:\n"
		      "  ringbuf_bytes: 65536\n"
		      "  ignore_self: false\n"
		      "  lsm: off\n"
		      "outputs:\n"
		      "  stdout:\n"
		      "    format: text\n"
		      "  min_priority: Notice\n",
		      err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(cfg.n_rules_dirs, 2);
	assert_string_equal(cfg.rules_dirs[1], "/b");
	assert_string_equal(cfg.log_level, "debug");
	assert_string_equal(cfg.proc_root, "/host/proc");
	assert_int_equal(cfg.capture.ringbuf_bytes, 65536);
	assert_false(cfg.capture.ignore_self);
	assert_string_equal(cfg.capture.lsm, "off");
	assert_string_equal(cfg.outputs.stdout_format, "text");
	assert_string_equal(cfg.outputs.min_priority, "Notice");
	vg_config_free(&cfg);
}

static void expect_error(const char *text, const char *want)
{
	struct vg_config cfg;
	char err[256] = "";
	assert_int_equal(load(&cfg, text, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("error '%s' does not contain '%s'", err, want);
	vg_config_free(&cfg);
}

static void test_errors(void **state)
{
	(void)state;
	/* unknown key: its line and column, and its dotted path */
	expect_error("log_level: info\ncapture:\n  ringbuff_bytes: 4096\n",
		     ":3:3: unknown key 'capture.ringbuff_bytes'");
	expect_error("nope: 1\n", ":1:1: unknown key 'nope'");
	/* wrong types */
	expect_error("capture:\n  ringbuf_bytes: lots\n",
		     ":2:18: key 'capture.ringbuf_bytes': expected an unsigned integer");
	expect_error("capture:\n  ringbuf_bytes: 5000\n", "must be a power of two");
	expect_error("capture:\n  ignore_self: maybe\n", "expected true or false");
	expect_error("capture:\n  lsm: yes\n", ":2:8: key 'capture.lsm': invalid value 'yes'");
	expect_error("capture:\n  prefilter: maybe\n",
		     ":2:14: key 'capture.prefilter': invalid value 'maybe'");
	expect_error("capture: 3\n", ":1:10: key 'capture': expected a mapping");
	expect_error("log_level: loud\n", "invalid value 'loud'");
	expect_error("rules_dirs: {a: b}\n", "expected a list of paths");
	expect_error("- a\n- b\n", "must be a mapping");
	/* YAML syntax error with its position */
	expect_error("capture:\n  ringbuf_bytes: [1\n", ":");
}

static void test_runtime_keys(void **state)
{
	(void)state;
	struct vg_config cfg;
	char err[256];
	vg_config_defaults(&cfg);
	assert_true(cfg.runtime.enabled);
	assert_int_equal(cfg.runtime.n_containerd_roots, 1);
	assert_string_equal(cfg.runtime.containerd_roots[0],
			    "/run/containerd/io.containerd.runtime.v2.task");
	assert_int_equal(cfg.runtime.n_crio_roots, 1);
	assert_string_equal(cfg.runtime.crio_roots[0],
			    "/run/containers/storage/overlay-containers");
	assert_int_equal(cfg.runtime.n_runc_roots, 2);
	assert_string_equal(cfg.runtime.runc_roots[0], "/run/runc");
	assert_string_equal(cfg.runtime.runc_roots[1], "/run/containerd/runc");
	assert_int_equal(cfg.runtime.max_containers, 4096);
	assert_int_equal(cfg.runtime.max_file_bytes, 524288);
	assert_int_equal(cfg.runtime.hold_ms, 500);
	vg_config_free(&cfg);
	/* a list, an empty list, a scalar; rules_dirs untouched */
	assert_int_equal(load(&cfg,
			      "runtime:\n  runc_roots: [/a, /b, /c]\n  crio_roots: []\n"
			      "  containerd_roots: /x\n  max_file_bytes: 1024\n",
			      err, sizeof(err)),
			 0);
	assert_int_equal(cfg.runtime.n_runc_roots, 3);
	assert_string_equal(cfg.runtime.runc_roots[2], "/c");
	assert_int_equal(cfg.runtime.n_crio_roots, 0);
	assert_int_equal(cfg.runtime.n_containerd_roots, 1);
	assert_string_equal(cfg.runtime.containerd_roots[0], "/x");
	assert_int_equal(cfg.runtime.max_file_bytes, 1024);
	assert_int_equal(cfg.n_rules_dirs, 1);
	vg_config_free(&cfg);
	expect_error("runtime:\n  runc_roots: {a: 1}\n",
		     ":2:15: key 'runtime.runc_roots': expected a list of paths, got a mapping");
	expect_error("runtime:\n  max_file_bytes: 0\n",
		     ":2:19: key 'runtime.max_file_bytes': must be greater than 0");
}

static void test_env(void **state)
{
	(void)state;
	struct vg_config cfg;
	vg_config_defaults(&cfg);
	setenv("NODE_NAME", "node-7", 1);
	setenv("VIGIL_LOG_LEVEL", "warning", 1);
	vg_config_env(&cfg);
	assert_string_equal(cfg.node_name, "node-7");
	assert_string_equal(cfg.log_level, "warning");
	setenv("VIGIL_NODE_NAME", "node-8", 1);
	vg_config_env(&cfg);
	assert_string_equal(cfg.node_name, "node-8");
	unsetenv("NODE_NAME");
	unsetenv("VIGIL_NODE_NAME");
	unsetenv("VIGIL_LOG_LEVEL");
	vg_config_free(&cfg);
}

static void test_outputs_keys(void **state)
{
	(void)state;
	struct vg_config cfg;
	char err[256];
	assert_int_equal(load(&cfg,
			      "outputs:\n"
			      "  queue_length: 50\n"
			      "  drain_timeout_ms: 3000\n"
			      "  rate_limit: {per_rule: 5, burst: 7}\n"
			      "  http:\n"
			      "    enabled: true\n"
			      "    url: https://sidekick:2801/\n"
			      "    ca_file: /etc/ca.pem\n"
			      "    headers:\n"
			      "      Authorization: Bearer abc\n"
			      "      X-Cluster: prod\n"
			      "    retries: 3\n"
			      "    min_priority: warning\n"
			      "metrics:\n"
			      "  tls_cert: /c.pem\n"
			      "  tls_key: /k.pem\n",
			      err, sizeof(err)),
			 0);
	assert_int_equal(cfg.outputs.queue_length, 50);
	assert_int_equal(cfg.outputs.drain_timeout_ms, 3000);
	assert_int_equal(cfg.outputs.rate_limit_per_rule, 5);
	assert_int_equal(cfg.outputs.rate_limit_burst, 7);
	assert_true(cfg.outputs.http_enabled);
	assert_string_equal(cfg.outputs.http_url, "https://sidekick:2801/");
	assert_string_equal(cfg.outputs.http_ca_file, "/etc/ca.pem");
	assert_int_equal(cfg.outputs.http_headers.n, 2);
	assert_string_equal(cfg.outputs.http_headers.v[0], "Authorization: Bearer abc");
	assert_string_equal(cfg.outputs.http_headers.v[1], "X-Cluster: prod");
	assert_int_equal(cfg.outputs.http_retries, 3);
	assert_int_equal(cfg.outputs.http_timeout_ms, 5000);
	assert_string_equal(cfg.outputs.http_min_priority, "warning");
	assert_string_equal(cfg.metrics.tls_cert, "/c.pem");
	vg_config_free(&cfg);

	assert_int_equal(load(&cfg, "outputs:\n  http:\n    headers: [a, b]\n", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, ":3:14: key 'outputs.http.headers': expected a mapping"));
	vg_config_free(&cfg);
	assert_int_equal(
		load(&cfg, "outputs:\n  http:\n    headers:\n      X: [1]\n", err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, ":4:10: key 'outputs.http.headers.X': expected a scalar"));
	vg_config_free(&cfg);
	/* header injection: a CR or LF in a value (or name) would start a new
	 * header line of the request */
	static const char *const inject[][2] = {
		{"outputs:\n  http:\n    headers:\n      X-A: \"a\\r\\nX-Evil: 1\"\n",
		 ":4:12: key 'outputs.http.headers.X-A': the value contains a CR (0x0d)"},
		{"outputs:\n  http:\n    headers:\n      X-A: |\n        a\n        X-Evil: 1\n",
		 ":4:12: key 'outputs.http.headers.X-A': the value contains a LF (0x0a)"},
		{"outputs:\n  http:\n    headers:\n      \"X\\nY\": v\n",
		 ":4:7: key 'outputs.http.headers': the name contains a LF (0x0a)"},
	};
	for (size_t i = 0; i < sizeof(inject) / sizeof(inject[0]); i++) {
		assert_int_equal(load(&cfg, inject[i][0], err, sizeof(err)), -1);
		if (!strstr(err, inject[i][1]))
			fail_msg("got '%s', want '%s'", err, inject[i][1]);
		vg_config_free(&cfg);
	}
	/* a tab is fine in a value */
	assert_int_equal(load(&cfg, "outputs:\n  http:\n    headers:\n      X-A: \"a\\tb\"\n", err,
			      sizeof(err)),
			 0);
	assert_string_equal(cfg.outputs.http_headers.v[0], "X-A: a\tb");
	vg_config_free(&cfg);
	assert_int_equal(load(&cfg, "outputs:\n  queue_length: 0\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:17: key 'outputs.queue_length': must be greater than 0"));
	vg_config_free(&cfg);
	assert_int_equal(
		load(&cfg, "outputs:\n  file:\n    min_priority: loud\n", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "key 'outputs.file.min_priority': invalid value 'loud'"));
	vg_config_free(&cfg);
}

/* Every number has a range: no abort, no wrapped narrower type, no
 * library's raw error, but the key's place and its bounds. */
static void test_ranges(void **state)
{
	(void)state;
	expect_error("outputs:\n  queue_length: 4000000000\n",
		     ":2:17: key 'outputs.queue_length': must be at most 1000000, got 4000000000");
	expect_error("capture:\n  ringbuf_bytes: 68719476736\n",
		     ":2:18: key 'capture.ringbuf_bytes': must be a power of two from 4096 to "
		     "1073741824");
	expect_error("capture:\n  ringbuf_bytes: 2048\n", "must be a power of two from 4096");
	expect_error("capture:\n  ringbuf_bytes: 99999999999999999999\n",
		     "expected an unsigned integer");
	expect_error("state:\n  max_procs: 8\n", "key 'state.max_procs': must be at least 16");
	expect_error("state:\n  max_procs: 5000000\n", "must be at most 4194304");
	expect_error("state:\n  max_fds: 2\n", "key 'state.max_fds': must be at least 4");
	expect_error("state:\n  max_fds: 2000000\n", "must be at most 1048576");
	expect_error("state:\n  max_env_bytes: 0\n", "key 'state.max_env_bytes': must be greater");
	expect_error("state:\n  max_env_bytes: 2000000\n", "must be at most 1048576");
	expect_error("outputs:\n  http:\n    timeout_ms: 0\n", "must be greater than 0");
	expect_error("outputs:\n  http:\n    timeout_ms: 4294967296\n",
		     "key 'outputs.http.timeout_ms': must be at most 600000");
	expect_error("outputs:\n  http:\n    retries: 4294967297\n",
		     "key 'outputs.http.retries': must be at most 1000");
	expect_error("outputs:\n  http:\n    backoff_ms: 99999999999\n", "must be at most 3600000");
	expect_error("outputs:\n  http:\n    backoff_max_ms: 0\n", "must be greater than 0");
	expect_error("outputs:\n  drain_timeout_ms: 18446744073709551615\n",
		     "key 'outputs.drain_timeout_ms': must be at most 3600000");
	expect_error("outputs:\n  rate_limit:\n    per_rule: 2000000\n", "must be at most 1000000");
	expect_error("outputs:\n  rate_limit:\n    burst: 0\n", "must be greater than 0");
	expect_error("kubernetes:\n  hold_ms: 4294967296\n",
		     "key 'kubernetes.hold_ms': must be at most 600000");
	expect_error("kubernetes:\n  events:\n    queue_length: 2000000\n",
		     "must be at most 1000000");
	expect_error("audit:\n  max_body_bytes: 99999999999\n",
		     "key 'audit.max_body_bytes': must be at most 268435456");
	expect_error("audit:\n  max_events: 0\n", "must be greater than 0");
	expect_error("audit:\n  queue_bytes: 4294967296\n", "must be at most 1073741824");
	expect_error("audit:\n  max_connections: 100000\n", "must be at most 1024");
	expect_error("audit:\n  timeout_ms: 4294967296\n", "must be at most 600000");
	expect_error("runtime:\n  max_containers: 0\n", "must be greater than 0");
	expect_error("runtime:\n  max_file_bytes: 1099511627776\n",
		     "key 'runtime.max_file_bytes': must be at most 67108864");
	expect_error("runtime:\n  hold_ms: 4294967296\n",
		     "key 'runtime.hold_ms': must be at most 600000");
	expect_error("tenancy:\n  max_rules_per_namespace: 4294967296\n",
		     "key 'tenancy.max_rules_per_namespace': must be at most 100000");
	expect_error("tenancy:\n  namespace_cpu_ms_per_second: 1001\n",
		     "key 'tenancy.namespace_cpu_ms_per_second': must be at most 1000");
	expect_error("audit:\n  listen: \"256.0.0.1:9765\"\n",
		     "key 'audit.listen': '256.0.0.1:9765': not an IPv4 address");
	/* the bounds themselves are fine */
	struct vg_config cfg;
	char err[256] = "";
	assert_int_equal(load(&cfg,
			      "capture: {ringbuf_bytes: 1073741824}\n"
			      "state: {max_procs: 4194304, max_fds: 4, max_env_bytes: 1048576}\n"
			      "outputs: {queue_length: 1000000, drain_timeout_ms: 0,\n"
			      "  rate_limit: {per_rule: 0, burst: 1},\n"
			      "  http: {timeout_ms: 600000, retries: 0, backoff_max_ms: 3600000}}\n"
			      "kubernetes: {hold_ms: 0, events: {queue_length: 1}}\n"
			      "tenancy: {max_rules_per_namespace: 100000,\n"
			      "  namespace_cpu_ms_per_second: 1000}\n",
			      err, sizeof(err)),
			 0);
	assert_int_equal(cfg.capture.ringbuf_bytes, 1ull << 30);
	assert_int_equal(cfg.outputs.queue_length, 1000000);
	vg_config_free(&cfg);
}

/* The syslog, program and HTTP keep-alive/batch keys: defaults, values,
 * enums, ranges, and a command that must be a list (never a shell line). */
static void test_sink_keys(void **state)
{
	(void)state;
	struct vg_config cfg;
	char err[256] = "";
	vg_config_defaults(&cfg);
	assert_false(cfg.outputs.syslog_enabled);
	assert_string_equal(cfg.outputs.syslog_transport, "unix");
	assert_string_equal(cfg.outputs.syslog_address, "/dev/log");
	assert_string_equal(cfg.outputs.syslog_facility, "local0");
	assert_string_equal(cfg.outputs.syslog_app_name, "vigil");
	assert_string_equal(cfg.outputs.syslog_sd_id, "vigil@32473");
	assert_string_equal(cfg.outputs.syslog_format, "json");
	assert_false(cfg.outputs.syslog_bom);
	assert_int_equal(cfg.outputs.syslog_max_bytes, 65536);
	assert_int_equal(cfg.outputs.syslog_retries, 8);
	assert_false(cfg.outputs.program_enabled);
	assert_int_equal(cfg.outputs.program_ncommand, 0);
	assert_true(cfg.outputs.http_keepalive);
	assert_string_equal(cfg.outputs.http_batch, "none");
	assert_int_equal(cfg.outputs.http_batch_max_alerts, 100);
	assert_int_equal(cfg.outputs.http_batch_max_bytes, 1048576);
	assert_int_equal(cfg.outputs.http_batch_max_age_ms, 1000);
	vg_config_free(&cfg);

	assert_int_equal(
		load(&cfg,
		     "outputs:\n"
		     "  syslog:\n"
		     "    enabled: true\n"
		     "    transport: tls\n"
		     "    address: siem.example:6514\n"
		     "    facility: local3\n"
		     "    app_name: vigil-node\n"
		     "    format: text\n"
		     "    bom: true\n"
		     "    max_bytes: 2048\n"
		     "    ca_file: /etc/ca.pem\n"
		     "    server_name: siem\n"
		     "    min_priority: warning\n"
		     "  program:\n"
		     "    enabled: true\n"
		     "    command: [/usr/bin/logger, -t, \"a b; $(id)\"]\n"
		     "    retries: 0\n"
		     "  http:\n"
		     "    keepalive: false\n"
		     "    batch: {mode: ndjson, max_alerts: 1000000, max_bytes: 268435456,\n"
		     "            max_age_ms: 1}\n",
		     err, sizeof(err)),
		0);
	assert_true(cfg.outputs.syslog_enabled);
	assert_string_equal(cfg.outputs.syslog_transport, "tls");
	assert_string_equal(cfg.outputs.syslog_address, "siem.example:6514");
	assert_string_equal(cfg.outputs.syslog_facility, "local3");
	assert_string_equal(cfg.outputs.syslog_format, "text");
	assert_true(cfg.outputs.syslog_bom);
	assert_int_equal(cfg.outputs.syslog_max_bytes, 2048);
	assert_string_equal(cfg.outputs.syslog_server_name, "siem");
	assert_string_equal(cfg.outputs.syslog_min_priority, "warning");
	assert_int_equal(cfg.outputs.program_ncommand, 3);
	assert_string_equal(cfg.outputs.program_command[0], "/usr/bin/logger");
	assert_string_equal(cfg.outputs.program_command[2], "a b; $(id)"); /* one argument */
	assert_null(cfg.outputs.program_command[3]);
	assert_int_equal(cfg.outputs.program_retries, 0);
	assert_false(cfg.outputs.http_keepalive);
	assert_string_equal(cfg.outputs.http_batch, "ndjson");
	assert_int_equal(cfg.outputs.http_batch_max_alerts, 1000000);
	assert_int_equal(cfg.outputs.http_batch_max_bytes, 268435456);
	assert_int_equal(cfg.outputs.http_batch_max_age_ms, 1);
	vg_config_free(&cfg);

	/* the command is a list: a scalar (a shell line) is refused where it is */
	expect_error("outputs:\n  program:\n    command: logger -t vigil\n",
		     ":3:14: key 'outputs.program.command': expected a list (the program, then its "
		     "arguments), got a scalar");
	expect_error("outputs:\n  program:\n    command: {a: b}\n",
		     ":3:14: key 'outputs.program.command': expected a list");
	expect_error("outputs:\n  program:\n    command: []\n",
		     ":3:14: key 'outputs.program.command': the list is empty");
	expect_error("outputs:\n  program:\n    command: [\"\", x]\n",
		     ":3:14: key 'outputs.program.command': the program's name is empty");
	expect_error("outputs:\n  program:\n    command: [a, [b]]\n",
		     ":3:18: key 'outputs.program.command': expected a string");
	/* enums */
	expect_error("outputs:\n  syslog:\n    transport: sctp\n",
		     ":3:16: key 'outputs.syslog.transport': invalid value 'sctp'");
	expect_error("outputs:\n  syslog:\n    facility: local8\n",
		     ":3:15: key 'outputs.syslog.facility': invalid value 'local8'");
	expect_error("outputs:\n  syslog:\n    format: xml\n",
		     "key 'outputs.syslog.format': invalid value 'xml'");
	expect_error("outputs:\n  program:\n    format: csv\n",
		     "key 'outputs.program.format': invalid value 'csv'");
	expect_error("outputs:\n  http:\n    batch:\n      mode: array\n",
		     ":4:13: key 'outputs.http.batch.mode': invalid value 'array'");
	expect_error("outputs:\n  syslog:\n    min_priority: loud\n",
		     "key 'outputs.syslog.min_priority': invalid value 'loud'");
	expect_error("outputs:\n  http:\n    keepalive: maybe\n", "key 'outputs.http.keepalive'");
	/* ranges */
	expect_error("outputs:\n  syslog:\n    max_bytes: 0\n",
		     "key 'outputs.syslog.max_bytes': must be greater than 0");
	expect_error("outputs:\n  syslog:\n    max_bytes: 268435457\n",
		     "key 'outputs.syslog.max_bytes': must be at most 268435456");
	expect_error("outputs:\n  syslog:\n    timeout_ms: 600001\n",
		     "key 'outputs.syslog.timeout_ms': must be at most 600000");
	expect_error("outputs:\n  syslog:\n    retries: 1001\n",
		     "key 'outputs.syslog.retries': must be at most 1000");
	expect_error("outputs:\n  syslog:\n    backoff_ms: 0\n",
		     "key 'outputs.syslog.backoff_ms': must be greater than 0");
	expect_error("outputs:\n  syslog:\n    backoff_max_ms: 3600001\n",
		     "key 'outputs.syslog.backoff_max_ms': must be at most 3600000");
	expect_error("outputs:\n  program:\n    timeout_ms: 0\n",
		     "key 'outputs.program.timeout_ms': must be greater than 0");
	expect_error("outputs:\n  program:\n    retries: 4294967296\n",
		     "key 'outputs.program.retries': must be at most 1000");
	expect_error("outputs:\n  program:\n    backoff_ms: 3600001\n",
		     "key 'outputs.program.backoff_ms': must be at most 3600000");
	expect_error("outputs:\n  program:\n    backoff_max_ms: 0\n",
		     "key 'outputs.program.backoff_max_ms': must be greater than 0");
	expect_error("outputs:\n  http:\n    batch:\n      max_alerts: 0\n",
		     ":4:19: key 'outputs.http.batch.max_alerts': must be greater than 0");
	expect_error("outputs:\n  http:\n    batch:\n      max_alerts: 1000001\n",
		     "key 'outputs.http.batch.max_alerts': must be at most 1000000");
	expect_error("outputs:\n  http:\n    batch:\n      max_bytes: 268435457\n",
		     "key 'outputs.http.batch.max_bytes': must be at most 268435456");
	expect_error("outputs:\n  http:\n    batch:\n      max_age_ms: 0\n",
		     "key 'outputs.http.batch.max_age_ms': must be greater than 0");
	expect_error("outputs:\n  http:\n    batch:\n      max_age_ms: 3600001\n",
		     "key 'outputs.http.batch.max_age_ms': must be at most 3600000");
}

/* A key twice in one mapping: an error at the second, naming the first. */
static void test_duplicates(void **state)
{
	(void)state;
	expect_error("log_level: info\nlog_level: debug\n",
		     ":2:1: duplicate key 'log_level' (first at 1:1)");
	expect_error("outputs:\n  queue_length: 5\n  stdout:\n    enabled: true\n"
		     "  queue_length: 6\n",
		     ":5:3: duplicate key 'queue_length' (first at 2:3)");
	expect_error("outputs: {http: {headers: {X-A: 1, X-A: 2}}}\n",
		     ":1:36: duplicate key 'X-A' (first at 1:28)");
	/* the same name in two mappings is no duplicate */
	struct vg_config cfg;
	char err[256] = "";
	assert_int_equal(load(&cfg,
			      "outputs:\n  stdout: {enabled: true}\n  file: {enabled: false}\n",
			      err, sizeof(err)),
			 0);
	vg_config_free(&cfg);
}

/* metrics.listen: host:port, checked when the file is read. */
/* A configuration nested 100,000 deep is refused at the first collection
 * past the limit, in well under 2 s of CPU (libyaml alone takes ~20 s). */
static void test_deep_nesting(void **state)
{
	(void)state;
	enum { DEEP = 100000 };
	const char *head = "rules_dirs: ";
	size_t hl = strlen(head);
	char *y = malloc(hl + DEEP + 2);
	memcpy(y, head, hl);
	memset(y + hl, '[', DEEP);
	strcpy(y + hl + DEEP, "\n");
	struct vg_config cfg;
	char err[256] = "";
	clock_t t0 = clock();
	assert_int_equal(load(&cfg, y, err, sizeof(err)), -1);
	double cpu = (double)(clock() - t0) / CLOCKS_PER_SEC;
	if (cpu > 2.0)
		fail_msg("rejecting 100000 nested lists took %.2f s of CPU", cpu);
	/* the top mapping is depth 1: the 256th '[' is the 257th collection */
	if (!strstr(err, ":1:268: ") || !strstr(err, "nested deeper than 256"))
		fail_msg("error '%s'", err);
	vg_config_free(&cfg);
	free(y);
}

/* A sink or listener switched on without what it cannot run without is a
 * load error at the 'enabled' key (or the section), not a refusal at start
 * without a position. */
static void test_enabled_needs(void **state)
{
	(void)state;
	expect_error("outputs:\n  program:\n    enabled: true\n    retries: 1\n",
		     ":3:14: outputs.program.enabled is true but outputs.program.command is not "
		     "set");
	expect_error("outputs:\n  program: {enabled: true}\n",
		     ":2:22: outputs.program.enabled is true but outputs.program.command");
	expect_error("outputs:\n  http:\n    enabled: true\n",
		     ":3:14: outputs.http.enabled is true but outputs.http.url is not set");
	expect_error("outputs:\n  http:\n    enabled: true\n    url: https://x/\n"
		     "    client_cert: /c.pem\n",
		     ":5:18: outputs.http.client_cert is set but outputs.http.client_key is not");
	expect_error("outputs:\n  http:\n    enabled: true\n    url: https://x/\n"
		     "    client_key: /k.pem\n",
		     ":5:17: outputs.http.client_key is set but outputs.http.client_cert is not");
	expect_error("outputs:\n  syslog:\n    enabled: true\n    transport: tls\n"
		     "    address: s:6514\n    client_cert: /c.pem\n",
		     ":6:18: outputs.syslog.client_cert is set but outputs.syslog.client_key");
	expect_error("outputs:\n  file:\n    enabled: true\n    path: \"\"\n",
		     ":3:14: outputs.file.enabled is true but outputs.file.path is not set");
	expect_error("audit:\n  enabled: true\n  token_file: /t\n",
		     ":2:12: audit.enabled is true but audit.tls_cert is not set");
	expect_error("audit:\n  enabled: true\n  tls_cert: /c.pem\n  token_file: /t\n",
		     ":2:12: audit.enabled is true but audit.tls_key is not set");
	expect_error("audit:\n  enabled: true\n  tls_cert: /c.pem\n  tls_key: /k.pem\n",
		     ":2:12: audit.enabled is true but neither audit.client_ca nor "
		     "audit.token_file is set");
	expect_error("metrics:\n  tls_key: /k.pem\n",
		     ":2:12: metrics.tls_key is set but metrics.tls_cert is not");

	/* complete, or switched off: loads */
	struct vg_config cfg;
	char err[256] = "";
	assert_int_equal(load(&cfg,
			      "outputs:\n  program: {enabled: false}\n  http: {enabled: false}\n"
			      "  file: {path: \"\"}\n"
			      "audit:\n  enabled: true\n  tls_cert: /c.pem\n  tls_key: /k.pem\n"
			      "  client_ca: /ca.pem\n"
			      "metrics: {enabled: false, tls_key: /k.pem}\n",
			      err, sizeof(err)),
			 0);
	vg_config_free(&cfg);
}

static void test_listen(void **state)
{
	(void)state;
	const char *good[] = {"0.0.0.0:8765", "127.0.0.1:0",	 "[::1]:8765",
			      ":8765",	      "localhost:18004", "node-1.example.com:9000"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct vg_config cfg;
		char text[128], err[256] = "";
		snprintf(text, sizeof(text), "metrics:\n  listen: \"%s\"\n", good[i]);
		if (load(&cfg, text, err, sizeof(err)))
			fail_msg("%s: %s", good[i], err);
		assert_string_equal(cfg.metrics.listen, good[i]);
		vg_config_free(&cfg);
	}
	expect_error("metrics:\n  listen: \"256.1.1.1:8765\"\n",
		     ":2:11: key 'metrics.listen': '256.1.1.1:8765': not an IPv4 address");
	expect_error("metrics:\n  listen: 127.0.0.1:70000\n", "port must be 0..65535");
	expect_error("metrics:\n  listen: 127.0.0.1:-1\n", "port must be 0..65535");
	expect_error("metrics:\n  listen: 8765\n", "'8765': expected host:port");
	expect_error("metrics:\n  listen: \"::1:8765\"\n", "an IPv6 address needs brackets");
	expect_error("metrics:\n  listen: \"[::g]:1\"\n", "not an IPv6 address");
	expect_error("metrics:\n  listen: \"a b:1\"\n", "not an address or a host name");

	char host[64], why[128];
	int port, family;
	assert_int_equal(vg_config_parse_hostport("[::1]:80", host, sizeof(host), &port, &family,
						  why, sizeof(why)),
			 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_int_equal(family, AF_INET6);
	assert_int_equal(vg_config_parse_hostport("localhost:1", host, sizeof(host), &port, &family,
						  why, sizeof(why)),
			 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(family, AF_UNSPEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),      cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_values),	      cmocka_unit_test(test_errors),
		cmocka_unit_test(test_runtime_keys),  cmocka_unit_test(test_env),
		cmocka_unit_test(test_outputs_keys),  cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_duplicates),    cmocka_unit_test(test_sink_keys),
		cmocka_unit_test(test_listen),	      cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_enabled_needs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
