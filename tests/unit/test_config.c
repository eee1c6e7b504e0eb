/* Unit tests of the configuration loader (agent/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	expect_error("capture: 3\n", ":1:10: key 'capture': expected a mapping");
	expect_error("log_level: loud\n", "invalid value 'loud'");
	expect_error("rules_dirs: {a: b}\n", "expected a list of paths");
	expect_error("- a\n- b\n", "must be a mapping");
	/* YAML syntax error with its position */
	expect_error("capture:\n  ringbuf_bytes: [1\n", ":");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_empty_and_missing),
		cmocka_unit_test(test_values),	 cmocka_unit_test(test_errors),
		cmocka_unit_test(test_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
