/* Unit tests of event JSON (agent/capfile/evjson.c) and capture files (agent/capfile/capfile.c):
 * every record kind survives render -> parse unchanged, hand-written
 * fixtures parse with defaults, and bad input is refused with the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capfile.h"
#include "evjson.h"
#include "recbuild.h"
#include "state.h"

static struct vg_state *new_state(void)
{
	struct vg_state_opts o = {0};
	o.ts_is_wall = true;
	o.hostname = "test-host";
	return vg_state_new(&o);
}

/* apply b, render, parse back, and compare the records byte for byte */
static void roundtrip(struct rb *b)
{
	struct vg_state *st = new_state();
	static struct vg_event ev;
	size_t size = rb_size(b);
	assert_int_equal(vg_state_apply(st, &b->r, size, &ev), 0);
	char *js = vg_evjson_render(&ev, 1);
	static char back[VG_REC_MAX];
	char err[256] = "";
	int n = vg_evjson_parse(js, back, sizeof(back), err, sizeof(err));
	if (n < 0)
		fail_msg("parse failed: %s\n%s", err, js);
	assert_int_equal(n, (int)size);
	if (memcmp(back, &b->r, size) != 0) {
		struct vg_rec *r = (struct vg_rec *)back;
		fail_msg("record changed in the round trip: %s (kind %d nr %d flags %x/%x)", js,
			 r->h.kind, r->h.nr, r->h.flags, b->r.h.flags);
	}
	free(js);
	vg_state_free(st);
}

static void test_roundtrip_syscall(void **state)
{
	(void)state;
	static struct rb b;
	rb_sys(&b, VG_NR_openat, 100, 3);
	b.r.h.uid = 1000;
	b.r.h.gid = 1000;
	b.r.h.loginuid = 1000;
	b.r.h.cgroup_id = 77;
	b.r.arg[0] = (uint64_t)-100;
	b.r.arg[2] = 0101; /* O_CREAT|O_WRONLY */
	b.r.arg[3] = 0644;
	rb_str(&b, VG_S_PATH0, "x/../y.txt");
	rb_str(&b, VG_S_BASE0, "/home/u");
	roundtrip(&b);

	rb_sys(&b, VG_NR_connect, 100, -115);
	b.r.arg[0] = 4;
	rb_sock4(&b, 1, 6, "10.0.0.1", 40000, "10.0.0.2", 443);
	roundtrip(&b);

	rb_sys(&b, VG_NR_pipe2, 100, 0);
	b.r.h.flags |= VG_F_FDPAIR;
	b.r.aux[0] = 5;
	b.r.aux[1] = 6;
	roundtrip(&b);
}

static void test_roundtrip_exec_fork_exit(void **state)
{
	(void)state;
	static struct rb b;
	rb_init(&b, VG_K_EXEC, VG_NR_execve, 200, 1, "bash");
	static const char *const argv[] = {"bash", "-c", "echo hi", NULL};
	static const char *const env[] = {"PATH=/bin", "HOME=/root", NULL};
	rb_list(&b, VG_X_ARGS, argv);
	rb_list(&b, VG_X_ENV, env);
	rb_str(&b, VG_X_FILENAME, "/bin/bash");
	rb_str(&b, VG_X_EXEPATH, "/usr/bin/bash");
	rb_str(&b, VG_X_CWD, "/root");
	rb_str(&b, VG_X_CGROUP, "/kubepods/besteffort/podx/abc");
	b.r.exec.cap_eff = 0x1ffffffffffull;
	b.r.exec.tty = 34816;
	b.r.exec.exe_flags = VG_EXE_UPPER;
	b.r.exec.start_ns = 123456789;
	roundtrip(&b);

	rb_init(&b, VG_K_FORK, VG_NR_clone, 200, 1, "bash");
	b.r.fork.child_pid = 201;
	b.r.fork.child_tid = 201;
	b.r.fork.start_ns = 5;
	roundtrip(&b);

	rb_init(&b, VG_K_EXIT, 0, 201, 200, "bash");
	b.r.h.ret = 3;
	roundtrip(&b);
}

static void test_handwritten(void **state)
{
	(void)state;
	static char buf[VG_REC_MAX];
	char err[256];
	int n = vg_evjson_parse(
		"{\"type\":\"openat\",\"pid\":7,\"ret\":3,\"path\":\"/etc/shadow\"}", buf,
		sizeof(buf), err, sizeof(err));
	assert_true(n > 0);
	struct vg_rec *r = (struct vg_rec *)buf;
	assert_int_equal(r->h.kind, VG_K_SYSCALL);
	assert_int_equal(r->h.nr, VG_NR_openat);
	assert_int_equal(r->h.tid, 7);
	assert_int_equal(r->h.loginuid, (uint32_t)-1);
	assert_int_equal(r->len[VG_S_PATH0], strlen("/etc/shadow") + 1);
	assert_string_equal(r->data, "/etc/shadow");

	n = vg_evjson_parse("{\"kind\":\"exec\",\"pid\":8,\"argv\":\"sh -c id\",\"tty\":34816,"
			    "\"exe_upper\":true}",
			    buf, sizeof(buf), err, sizeof(err));
	assert_true(n > 0);
	assert_int_equal(r->h.nr, VG_NR_execve);
	assert_int_equal(r->exec.tty, 34816);
	assert_int_equal(r->exec.exe_flags, VG_EXE_UPPER);
	assert_int_equal(r->len[VG_X_ARGS], sizeof("sh\0-c\0id"));

	n = vg_evjson_parse("{\"type\":\"connect\",\"pid\":9,\"sock\":{\"family\":\"inet\","
			    "\"raddr\":\"1.2.3.4\",\"rport\":3333}}",
			    buf, sizeof(buf), err, sizeof(err));
	assert_true(n > 0);
	assert_true(r->h.flags & VG_F_SOCK);
	assert_int_equal(r->sock.family, 2);
	assert_int_equal(r->sock.proto, 6);
	assert_int_equal(r->sock.rport, 3333);
	assert_int_equal(r->sock.raddr[0], 1);
}

static void expect_err(const char *js, const char *want)
{
	static char buf[VG_REC_MAX];
	char err[256] = "";
	assert_int_equal(vg_evjson_parse(js, buf, sizeof(buf), err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("error '%s' lacks '%s'", err, want);
}

static void test_errors(void **state)
{
	(void)state;
	expect_err("{\"type\":\"openat\"}", "key 'pid': required");
	expect_err("{\"type\":\"nosuchcall\",\"pid\":1}", "key 'type': unknown syscall");
	expect_err("{\"pid\":\"x\",\"type\":\"open\"}", "key 'pid': expected a number");
	expect_err("{\"kind\":\"party\",\"pid\":1}", "key 'kind'");
	expect_err("{\"type\":\"open\",\"pid\":1,\"args\":[1,2,3,4,5,6,7]}", "key 'args'");
	expect_err("{\"type\":\"open\",\"pid\":1,\"sock\":{\"raddr\":\"1.2.3\"}}", "key 'raddr'");
	expect_err("{\"kind\":\"fork\",\"pid\":1}", "key 'fork'");
	expect_err("[1,2]", "expected a JSON object");
	expect_err("{\"type\":", "invalid JSON");
}

static void test_capfile(void **state)
{
	(void)state;
	char path[] = "/tmp/vigil-cap-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char err[512];

	/* written by record, read back */
	struct vg_capfile *w = vg_capfile_create(path, "host-a", err, sizeof(err));
	assert_non_null(w);
	struct vg_state *st = new_state();
	static struct rb b;
	static struct vg_event ev;
	rb_sys(&b, VG_NR_unlinkat, 300, 0);
	rb_str(&b, VG_S_PATH0, "/tmp/x");
	size_t size = rb_size(&b);
	assert_int_equal(vg_state_apply(st, &b.r, size, &ev), 0);
	assert_int_equal(vg_capfile_write(w, &ev), 0);
	assert_int_equal(vg_capfile_write(w, &ev), 0);
	assert_int_equal(vg_capfile_close(w), 0);
	struct vg_capfile *r = vg_capfile_open(path, err, sizeof(err));
	assert_non_null(r);
	static char buf[VG_REC_MAX];
	size_t got;
	assert_int_equal(vg_capfile_next(r, buf, sizeof(buf), &got, err, sizeof(err)), 1);
	assert_int_equal(got, size);
	assert_memory_equal(buf, &b.r, size);
	assert_int_equal(vg_capfile_next(r, buf, sizeof(buf), &got, err, sizeof(err)), 1);
	assert_int_equal(vg_capfile_next(r, buf, sizeof(buf), &got, err, sizeof(err)), 0);
	vg_capfile_close(r);

	/* a newer format is refused; comments and blank lines are skipped;
	 * errors name the line */
	FILE *f = fopen(path, "w");
	fputs("{\"vigil_capture\": 99}\n", f);
	fclose(f);
	r = vg_capfile_open(path, err, sizeof(err));
	assert_int_equal(vg_capfile_next(r, buf, sizeof(buf), &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: capture format version"));
	vg_capfile_close(r);
	f = fopen(path, "w");
	fputs("# a fixture\n\n{\"type\":\"open\",\"pid\":1,\"path\":\"/a\"}\n{\"type\":\"open\"}\n",
	      f);
	fclose(f);
	r = vg_capfile_open(path, err, sizeof(err));
	assert_int_equal(vg_capfile_next(r, buf, sizeof(buf), &got, err, sizeof(err)), 1);
	assert_int_equal(vg_capfile_next(r, buf, sizeof(buf), &got, err, sizeof(err)),
			 VG_CAPFILE_BAD);
	assert_non_null(strstr(err, ":4: key 'pid': required"));
	vg_capfile_close(r);
	/* a bad line in the middle: skipped, the reading goes on after it */
	f = fopen(path, "w");
	fputs("{\"type\":\"open\",\"pid\":1,\"path\":\"/a\"}\n"
	      "\x01garbage{{\n"
	      "{\"type\":\"open\",\"pid\":1,\"path\":\"/b\"}\n",
	      f);
	fclose(f);
	r = vg_capfile_open(path, err, sizeof(err));
	assert_int_equal(vg_capfile_next(r, buf, sizeof(buf), &got, err, sizeof(err)), 1);
	assert_int_equal(vg_capfile_next(r, buf, sizeof(buf), &got, err, sizeof(err)),
			 VG_CAPFILE_BAD);
	assert_non_null(strstr(err, ":2: "));
	assert_int_equal(vg_capfile_line(r), 2);
	assert_int_equal(vg_capfile_next(r, buf, sizeof(buf), &got, err, sizeof(err)), 1);
	assert_int_equal(vg_capfile_line(r), 3);
	assert_int_equal(vg_capfile_next(r, buf, sizeof(buf), &got, err, sizeof(err)), 0);
	vg_capfile_close(r);
	vg_state_free(st);
	unlink(path);
}

/* vigil record's file: 0600, always a new inode, never through a link. */
static void test_capfile_private(void **state)
{
	(void)state;
	char dir[] = "/tmp/vigil-capdir-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], target[128], err[512];
	snprintf(path, sizeof(path), "%s/rec.jsonl", dir);
	snprintf(target, sizeof(target), "%s/target", dir);
	mode_t old = umask(0);
	struct vg_capfile *w = vg_capfile_create(path, "h", err, sizeof(err));
	umask(old);
	assert_non_null(w);
	assert_int_equal(vg_capfile_close(w), 0);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);

	/* a file planted at the path, world-readable and held open by its
	 * planter: replaced by a new one the planter's descriptor does not see */
	unlink(path);
	int planted = open(path, O_RDWR | O_CREAT, 0666);
	assert_true(planted >= 0);
	assert_int_equal(fchmod(planted, 0666), 0);
	w = vg_capfile_create(path, "secret-host", err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(vg_capfile_close(w), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	char got[64];
	assert_int_equal(pread(planted, got, sizeof(got), 0), 0); /* nothing reached it */
	close(planted);

	/* a symbolic link at the path: refused, its target untouched */
	unlink(path);
	int t = open(target, O_WRONLY | O_CREAT, 0644);
	assert_true(t >= 0);
	assert_int_equal(write(t, "keep\n", 5), 5);
	close(t);
	assert_int_equal(symlink(target, path), 0);
	assert_null(vg_capfile_create(path, "h", err, sizeof(err)));
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(stat(target, &sb), 0);
	assert_int_equal(sb.st_size, 5);
	unlink(path);
	unlink(target);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_syscall),
		cmocka_unit_test(test_roundtrip_exec_fork_exit),
		cmocka_unit_test(test_handwritten),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_capfile),
		cmocka_unit_test(test_capfile_private),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
