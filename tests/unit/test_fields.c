/* Unit tests of the field registry (agent/fields/fields*.c, argfmt*.c): every field
 * is extracted on representative events and compared to its expected text,
 * unset cases included.  The last test fails if a registered field was not
 * checked by any test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "fields.h"
#include "kaudit.h"
#include "recbuild.h"
#include "state.h"

#define AT_FDCWD_U32 ((uint64_t)(uint32_t)-100)
#define TS0 1700000000123456789ull /* 2023-11-14 22:13:20.123456789 UTC */

static struct rb B;
static struct vg_event EV;
static struct vg_fvals V;
static struct vg_state *ST;
static bool covered[512];
static const struct vg_event *XEV; /* the event fv() reads when set (audit tests) */

static void must_apply(void)
{
	assert_int_equal(vg_state_apply(ST, &B.r, rb_size(&B), &EV), 0);
}

/* Value(s) of a field spec ("proc.aname[2]", "evt.arg.flags") as text,
 * several values joined by ',', "<unset>" when the field has none. */
static const char *fv(const char *spec)
{
	static char res[VG_FVALS_BUF];
	static char key[256];
	const char *br = strchr(spec, '[');
	size_t len = br ? (size_t)(br - spec) : strlen(spec);
	struct vg_farg arg;
	size_t keylen;
	const struct vg_field *f = vg_field_find(spec, len, &arg, &keylen);
	if (!f)
		fail_msg("unknown field %s", spec);
	/* the fields lie in one table per family: find f's index */
	for (size_t i = 0; i < vg_field_count(); i++)
		if (vg_field_at(i) == f)
			covered[i] = true;
	if (keylen) {
		memcpy(key, arg.key, keylen);
		key[keylen] = '\0';
		arg.key = key;
	}
	if (br) {
		const char *end = strchr(br, ']');
		assert_non_null(end);
		size_t kl = (size_t)(end - br - 1);
		memcpy(key, br + 1, kl);
		key[kl] = '\0';
		char *e;
		long long n = strtoll(key, &e, 10);
		if (kl && !*e) {
			arg.kind = 1;
			arg.index = n;
		} else {
			arg.kind = 2;
			arg.key = key;
		}
	}
	vg_field_extract(f, XEV ? XEV : &EV, &arg, &V);
	assert_int_equal(V.type, f->type);
	if (V.n == 0)
		return "<unset>";
	size_t n = 0;
	for (uint32_t i = 0; i < V.n; i++) {
		if (i)
			res[n++] = ',';
		n += vg_fval_format(&V, i, res + n, sizeof(res) - n);
	}
	res[n] = '\0';
	return res;
}

#define CHECK(spec, want) assert_string_equal(fv(spec), want)

/* ------------------------------------------------------------------ */
/* the scene: systemd(1) -> sshd(50) -> bash(60) -> cat(70)           */

static void exec_rec(uint32_t pid, uint32_t ppid, const char *comm, const char *exepath,
		     const char *const *argv, const char *cwd)
{
	rb_init(&B, VG_K_EXEC, VG_NR_execve, pid, ppid, comm);
	rb_str(&B, VG_X_FILENAME, exepath);
	rb_list(&B, VG_X_ARGS, argv);
	rb_str(&B, VG_X_EXEPATH, exepath);
	if (cwd)
		rb_str(&B, VG_X_CWD, cwd);
	B.r.exec.vpid = pid;
	B.r.exec.vpgid = pid;
	B.r.exec.sid = pid;
	B.r.exec.pgid = pid;
	B.r.h.ts = TS0 - 10000000000ull;
	B.r.exec.start_ns = TS0 - 10000000000ull;
}

static void fork_rec(uint32_t parent, uint32_t grandparent, const char *comm, uint32_t child)
{
	rb_init(&B, VG_K_FORK, VG_NR_clone, parent, grandparent, comm);
	B.r.fork.child_pid = child;
	B.r.fork.child_vpid = child;
	B.r.fork.start_ns = TS0 - 20000000000ull;
}

static void syscall_rec(int nr, uint32_t pid, int64_t ret)
{
	rb_sys(&B, nr, pid, ret);
	B.r.h.ts = TS0;
	B.r.h.ppid = pid == 70 ? 60 : 0;
	B.r.h.loginuid = 1000;
	strcpy(B.r.h.comm, pid == 70 ? "cat" : "test");
}

static int setup_scene(void **unused)
{
	(void)unused;
	struct vg_state_opts o = {
		.ts_is_wall = true, .hostname = "node-1", .etc_root = "tests/unit/etc"};
	ST = vg_state_new(&o);
	assert_non_null(ST);

	static const char *const a1[] = {"/sbin/init", NULL};
	exec_rec(1, 0, "systemd", "/usr/lib/systemd/systemd", a1, "/");
	B.r.h.kind = VG_K_PROC;
	must_apply();

	static const char *const a50[] = {"sshd", "-D", NULL};
	exec_rec(50, 1, "sshd", "/usr/sbin/sshd", a50, "/");
	must_apply();

	fork_rec(50, 1, "sshd", 60);
	must_apply();
	static const char *const a60[] = {"bash", "-i", NULL};
	exec_rec(60, 50, "bash", "/usr/bin/bash", a60, "/root");
	B.r.exec.tty = 34816;
	B.r.exec.start_ns = TS0 - 5000000000ull;
	must_apply();
	/* the terminal on 0, 1, 2 */
	syscall_rec(VG_NR_open, 60, 0);
	B.r.arg[1] = 2;
	rb_str(&B, VG_S_PATH0, "/dev/pts/0");
	must_apply();
	for (int fd = 1; fd <= 2; fd++) {
		syscall_rec(VG_NR_dup2, 60, fd);
		B.r.arg[0] = 0;
		B.r.arg[1] = (uint64_t)fd;
		must_apply();
	}

	fork_rec(60, 50, "bash", 70);
	must_apply();
	static const char *const a70[] = {"cat", "/etc/shadow", NULL};
	static const char *const env70[] = {"PATH=/bin", "LANG=C", NULL};
	exec_rec(70, 60, "cat", "/usr/bin/cat", a70, NULL);
	rb_list(&B, VG_X_ENV, env70);
	B.r.h.loginuid = 1000;
	B.r.exec.sid = 60;
	B.r.exec.tty = 34816;
	B.r.exec.cap_eff = (1ull << 21) | (1ull << 13);
	B.r.exec.cap_perm = (1ull << 21) | (1ull << 13) | (1ull << 19);
	B.r.exec.exe_ino = 1234;
	B.r.exec.exe_ctime_ns = TS0 - 3000000000ull;
	B.r.exec.exe_mtime_ns = TS0 - 4000000000ull;
	B.r.exec.exe_flags = VG_EXE_UPPER;
	B.r.exec.start_ns = TS0 - 2000000000ull;
	must_apply();
	return 0;
}

static int teardown_scene(void **unused)
{
	(void)unused;
	vg_state_free(ST);
	ST = NULL;
	return 0;
}

static void openat_shadow(void)
{
	syscall_rec(VG_NR_openat, 70, 3);
	B.r.arg[0] = AT_FDCWD_U32;
	B.r.arg[2] = 02000000; /* O_RDONLY|O_CLOEXEC */
	rb_str(&B, VG_S_PATH0, "../etc/shadow");
	must_apply();
}

/* ------------------------------------------------------------------ */

static void test_registry(void **unused)
{
	(void)unused;
	size_t n = vg_field_count();
	assert_true(n >= 90);
	for (size_t i = 0; i < n; i++) {
		const struct vg_field *f = vg_field_at(i);
		assert_non_null(f->name);
		assert_non_null(f->fn);
		assert_non_null(f->desc);
		assert_true(strlen(f->desc) > 10);
		assert_true(f->type >= VG_FT_STR && f->type <= VG_FT_RELTIME);
		assert_string_not_equal(vg_ftype_name(f->type), "unknown");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(vg_field_at(j)->name, f->name);
		struct vg_farg a;
		size_t kl;
		assert_ptr_equal(vg_field_find(f->name, strlen(f->name), &a, &kl), f);
		assert_int_equal(a.kind, 0);
		assert_int_equal(kl, 0);
	}
	assert_null(vg_field_at(n));

	struct vg_farg a;
	size_t kl;
	const char *s = "evt.arg.flags and more";
	const struct vg_field *f = vg_field_find(s, strlen("evt.arg.flags"), &a, &kl);
	assert_non_null(f);
	assert_string_equal(f->name, "evt.arg");
	assert_int_equal(a.kind, 2);
	assert_int_equal(kl, 5);
	assert_memory_equal(a.key, "flags", 5);
	f = vg_field_find("k8s.pod.label.app", 17, &a, &kl);
	assert_string_equal(f->name, "k8s.pod.label");
	assert_int_equal(kl, 3);
	assert_memory_equal(a.key, "app", 3);
	assert_non_null(vg_field_find("fd.cip.name", 11, &a, &kl));
	assert_int_equal(kl, 0);
	assert_null(vg_field_find("proc.nam", 8, &a, &kl));
	assert_null(vg_field_find("proc.name.x", 11, &a, &kl));
	assert_null(vg_field_find("evt.arg.", 8, &a, &kl));
	assert_null(vg_field_find("nope", 4, NULL, NULL));
	/* the prefix alone is not enough: the length bounds the name */
	assert_null(vg_field_find("proc.names", 10, &a, &kl));
	assert_non_null(vg_field_find("proc.names", 9, &a, &kl));

	/* the fields the official Falco rules use are all known */
	static const char *const used[] = {"container.id",
					   "container.image.repository",
					   "container.mount.dest",
					   "container.mounts",
					   "container.privileged",
					   "container.start_ts",
					   "evt.arg",
					   "evt.args",
					   "evt.buffer",
					   "evt.hostname",
					   "evt.is_open_exec",
					   "evt.is_open_read",
					   "evt.is_open_write",
					   "evt.num",
					   "evt.rawres",
					   "evt.res",
					   "evt.type",
					   "fd.cip",
					   "fd.cip.name",
					   "fd.cnet",
					   "fd.connected",
					   "fd.directory",
					   "fd.filename",
					   "fd.ip",
					   "fd.lip.name",
					   "fd.lport",
					   "fd.name",
					   "fd.name_changed",
					   "fd.nameraw",
					   "fd.net",
					   "fd.num",
					   "fd.port",
					   "fd.rip",
					   "fd.rip.name",
					   "fd.rnet",
					   "fd.rport",
					   "fd.sip",
					   "fd.sip.name",
					   "fd.snet",
					   "fd.sockfamily",
					   "fd.sport",
					   "fd.type",
					   "fd.typechar",
					   "fd.types",
					   "fd.l4proto",
					   "group.gid",
					   "group.name",
					   "k8s.ns.name",
					   "k8s.pod.name",
					   "proc.aexe",
					   "proc.aexepath",
					   "proc.aname",
					   "proc.args",
					   "proc.cmdline",
					   "proc.cwd",
					   "proc.duration",
					   "proc.env",
					   "proc.exe",
					   "proc.exe_ino.ctime",
					   "proc.exe_ino.ctime_duration_proc_start",
					   "proc.exe_ino.mtime",
					   "proc.exepath",
					   "proc.is_exe_from_memfd",
					   "proc.is_exe_upper_layer",
					   "proc.is_vpgid_leader",
					   "proc.name",
					   "proc.pcmdline",
					   "proc.pexe",
					   "proc.pexepath",
					   "proc.pname",
					   "proc.ppid.duration",
					   "proc.sname",
					   "proc.tty",
					   "proc.vpgid.exe",
					   "proc.vpgid.name",
					   "proc.vpid",
					   "thread.cap_effective",
					   "thread.cap_permitted",
					   "user.loginname",
					   "user.loginuid",
					   "user.name",
					   "user.uid",
					   "k8s.pod.uid",
					   "k8s.pod.labels",
					   "k8s.pod.label",
					   "k8s.ns.label",
					   "container.image.tag",
					   "container.name",
					   "proc.pid",
					   "proc.ppid",
					   "proc.sid",
					   "proc.vpgid",
					   "evt.dir",
					   "evt.time",
					   "evt.rawtime",
					   "thread.tid"};
	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++)
		if (!vg_field_find(used[i], strlen(used[i]), &a, &kl))
			fail_msg("field %s missing", used[i]);
}

static void test_values(void **unused)
{
	(void)unused;
	struct vg_fvals *v = &V;
	v->n = 0;
	v->used = 0;
	v->type = VG_FT_STR;
	char out[64];
	vg_fvals_strcpy(v, "hello", 5);
	vg_fvals_str(v, "world!", 5);
	assert_int_equal(v->n, 2);
	assert_int_equal(vg_fval_format(v, 0, out, sizeof(out)), 5);
	assert_string_equal(out, "hello");
	vg_fval_format(v, 1, out, sizeof(out));
	assert_string_equal(out, "world");
	assert_int_equal(vg_fval_format(v, 0, out, 3), 2); /* truncated, NUL-ended */
	assert_string_equal(out, "he");
	assert_int_equal(vg_fval_format(v, 2, out, sizeof(out)), 0); /* out of range */
	assert_string_equal(out, "");
	/* the scratch buffer never overflows */
	static char big[VG_FVALS_BUF * 2];
	memset(big, 'x', sizeof(big));
	vg_fvals_strcpy(v, big, sizeof(big));
	assert_int_equal(v->n, 3);
	assert_int_equal(v->used, VG_FVALS_BUF);
	assert_int_equal(v->v[2].s.len, VG_FVALS_BUF - 6 - 1);
	vg_fvals_strcpy(v, "y", 1); /* no room left: dropped */
	assert_int_equal(v->n, 3);
	/* at most VG_FVALS_MAX values */
	v->n = 0;
	v->type = VG_FT_U64;
	for (int i = 0; i < VG_FVALS_MAX + 5; i++)
		vg_fvals_u64(v, (uint64_t)i);
	assert_int_equal(v->n, VG_FVALS_MAX);
	vg_fval_format(v, 7, out, sizeof(out));
	assert_string_equal(out, "7");
	v->n = 0;
	v->type = VG_FT_S64;
	vg_fvals_s64(v, -42);
	vg_fval_format(v, 0, out, sizeof(out));
	assert_string_equal(out, "-42");
	v->type = VG_FT_BOOL;
	v->v[0].u = 1;
	vg_fval_format(v, 0, out, sizeof(out));
	assert_string_equal(out, "true");
	v->type = VG_FT_RELTIME;
	v->v[0].u = 5000000000ull;
	vg_fval_format(v, 0, out, sizeof(out));
	assert_string_equal(out, "5000000000");
	v->type = VG_FT_NET;
	v->v[0].ip.family = 4;
	v->v[0].ip.prefix = 8;
	memcpy(v->v[0].ip.b, (uint8_t[]){10, 0, 0, 0}, 4);
	vg_fval_format(v, 0, out, sizeof(out));
	assert_string_equal(out, "10.0.0.0/8");
	v->type = VG_FT_IP;
	v->v[0].ip.family = 6;
	memset(v->v[0].ip.b, 0, 16);
	v->v[0].ip.b[15] = 1;
	vg_fval_format(v, 0, out, sizeof(out));
	assert_string_equal(out, "::1");
	assert_string_equal(vg_ftype_name(VG_FT_NET), "ipnet");
	assert_string_equal(vg_ftype_name(99), "unknown");
}

static void test_open_event(void **unused)
{
	(void)unused;
	openat_shadow();
	char num[32];
	snprintf(num, sizeof(num), "%llu", (unsigned long long)EV.num);
	CHECK("evt.num", num);
	CHECK("evt.time", "22:13:20.123456789");
	CHECK("evt.time.s", "22:13:20");
	CHECK("evt.time.iso8601", "2023-11-14T22:13:20.123456789Z");
	CHECK("evt.datetime", "2023-11-14 22:13:20.123456789");
	CHECK("evt.datetime.s", "2023-11-14 22:13:20");
	CHECK("evt.rawtime", "1700000000123456789");
	CHECK("evt.rawtime.s", "1700000000");
	CHECK("evt.rawtime.ns", "123456789");
	CHECK("evt.type", "openat");
	CHECK("evt.dir", "<");
	CHECK("evt.category", "file");
	CHECK("evt.source", "syscall");
	CHECK("evt.hostname", "node-1");
	CHECK("evt.res", "SUCCESS");
	CHECK("evt.rawres", "3");
	CHECK("evt.failed", "false");
	CHECK("evt.args",
	      "fd=3(<f>/etc/shadow) dirfd=-100(AT_FDCWD) "
	      "name=../etc/shadow(/etc/shadow) flags=524288(O_RDONLY|O_CLOEXEC) mode=00");
	CHECK("evt.arg.name", "/etc/shadow");
	CHECK("evt.arg[0]", "<f>/etc/shadow");
	CHECK("evt.arg[2]", "/etc/shadow");
	CHECK("evt.arg[9]", "<unset>");
	CHECK("evt.arg.fd", "<f>/etc/shadow");
	CHECK("evt.arg.dirfd", "AT_FDCWD");
	CHECK("evt.arg.flags", "O_RDONLY|O_CLOEXEC");
	CHECK("evt.arg.mode", "00");
	CHECK("evt.arg.nope", "<unset>");
	CHECK("evt.is_open_read", "true");
	CHECK("evt.is_open_write", "false");
	CHECK("evt.is_open_exec", "false");
	CHECK("evt.buffer", "<unset>");

	CHECK("proc.pid", "70");
	CHECK("proc.ppid", "60");
	CHECK("proc.vpid", "70");
	CHECK("proc.sid", "60");
	CHECK("proc.pgid", "70");
	CHECK("proc.vpgid", "70");
	CHECK("proc.name", "cat");
	CHECK("proc.exe", "cat");
	CHECK("proc.exepath", "/usr/bin/cat");
	CHECK("proc.args", "/etc/shadow");
	CHECK("proc.cmdline", "cat /etc/shadow");
	CHECK("proc.exeline", "cat /etc/shadow");
	CHECK("proc.cmdnargs", "1");
	CHECK("proc.cmdlenargs", "11");
	CHECK("proc.cwd", "/root");
	CHECK("proc.env", "PATH=/bin LANG=C");
	CHECK("proc.env[LANG]", "C");
	CHECK("proc.env[LAN]", "<unset>");
	CHECK("proc.tty", "34816");
	CHECK("proc.pname", "bash");
	CHECK("proc.pexe", "bash");
	CHECK("proc.pexepath", "/usr/bin/bash");
	CHECK("proc.pcmdline", "bash -i");
	CHECK("proc.aname", "bash,sshd,systemd");
	CHECK("proc.aname[0]", "cat");
	CHECK("proc.aname[1]", "bash");
	CHECK("proc.aname[2]", "sshd");
	CHECK("proc.aname[3]", "systemd");
	CHECK("proc.aname[4]", "<unset>");
	CHECK("proc.apid", "60,50,1");
	CHECK("proc.apid[2]", "50");
	CHECK("proc.aexe[2]", "sshd");
	CHECK("proc.aexepath[2]", "/usr/sbin/sshd");
	CHECK("proc.aexepath", "/usr/bin/bash,/usr/sbin/sshd,/usr/lib/systemd/systemd");
	CHECK("proc.acmdline[1]", "bash -i");
	CHECK("proc.acmdline[3]", "systemd");
	CHECK("proc.sname", "bash");
	CHECK("proc.sid.exe", "bash");
	CHECK("proc.sid.exepath", "/usr/bin/bash");
	CHECK("proc.vpgid.name", "cat");
	CHECK("proc.vpgid.exe", "cat");
	CHECK("proc.vpgid.exepath", "/usr/bin/cat");
	CHECK("proc.is_sid_leader", "false");
	CHECK("proc.is_vpgid_leader", "true");
	CHECK("proc.duration", "2000000000");
	CHECK("proc.ppid.duration", "5000000000");
	CHECK("proc.exe_ino", "1234");
	CHECK("proc.exe_ino.ctime", "1699999997123456789");
	CHECK("proc.exe_ino.mtime", "1699999996123456789");
	CHECK("proc.exe_ino.ctime_duration_proc_start", "1000000000");
	CHECK("proc.is_exe_upper_layer", "true");
	CHECK("proc.is_exe_from_memfd", "false");
	CHECK("proc.is_container_healthcheck", "false");
	CHECK("proc.is_container_liveness_probe", "false");
	CHECK("proc.is_container_readiness_probe", "false");

	CHECK("thread.tid", "70");
	CHECK("thread.ismain", "true");
	CHECK("thread.cap_effective", "CAP_NET_RAW CAP_SYS_ADMIN");
	CHECK("thread.cap_permitted", "CAP_NET_RAW CAP_SYS_PTRACE CAP_SYS_ADMIN");
	CHECK("thread.cap_inheritable", "");
	CHECK("user.uid", "0");
	CHECK("user.loginuid", "1000");
	CHECK("group.gid", "0");

	CHECK("fd.num", "3");
	CHECK("fd.type", "file");
	CHECK("fd.typechar", "f");
	CHECK("fd.name", "/etc/shadow");
	CHECK("fd.nameraw", "../etc/shadow");
	CHECK("fd.directory", "/etc");
	CHECK("fd.filename", "shadow");
	CHECK("fd.types", "file");
	CHECK("fd.types[0]", "file");
	CHECK("fd.types[9]", "<unset>");
	CHECK("fd.name_changed", "true");
	CHECK("fd.l4proto", "<unset>");
	CHECK("fd.sockfamily", "<unset>");
	CHECK("fd.connected", "<unset>");
	CHECK("fd.is_server", "<unset>");
	CHECK("fd.ip", "<unset>");
	CHECK("fd.cip", "<unset>");
	CHECK("fd.port", "<unset>");
	CHECK("fd.net", "<unset>");
	CHECK("fd.rnet", "<unset>");

	CHECK("fs.path.name", "/etc/shadow");
	CHECK("fs.path.nameraw", "../etc/shadow");
	CHECK("fs.path.source", "<unset>");
	CHECK("fs.path.target", "<unset>");

	/* no cgroup was captured for cat: the container is unknown */
	CHECK("container.id", "<unset>");
	CHECK("container.name", "<unset>");
	CHECK("container.image", "<unset>");
	CHECK("container.image.repository", "<unset>");
	CHECK("container.image.tag", "<unset>");
	CHECK("container.privileged", "<unset>");
	CHECK("container.mounts", "<unset>");
	CHECK("container.mount.dest[/etc]", "<unset>");
	CHECK("container.mount.source[/etc]", "<unset>");
	CHECK("container.start_ts", "<unset>");
	CHECK("container.duration", "<unset>");
	CHECK("k8s.ns.name", "<unset>");
	CHECK("k8s.pod.name", "<unset>");
	CHECK("k8s.pod.uid", "<unset>");
	CHECK("k8s.pod.labels", "<unset>");
	CHECK("k8s.pod.label[app]", "<unset>");
	CHECK("k8s.pod.label.app", "<unset>");
	CHECK("k8s.ns.labels", "<unset>");
	CHECK("k8s.ns.label[team]", "<unset>");
}

static void test_failed_open(void **unused)
{
	(void)unused;
	syscall_rec(VG_NR_open, 70, -ENOENT);
	B.r.arg[1] = 01 | 0100; /* O_WRONLY|O_CREAT */
	B.r.arg[2] = 0755;
	rb_str(&B, VG_S_PATH0, "/usr/local/bin/x");
	must_apply();
	CHECK("fd.num", "-1");
	CHECK("fd.typechar", "f");
	CHECK("fd.name", "/usr/local/bin/x");
	CHECK("fd.name_changed", "false");
	CHECK("evt.res", "ENOENT");
	CHECK("evt.rawres", "-2");
	CHECK("evt.failed", "true");
	CHECK("evt.arg.fd", "ENOENT");
	CHECK("evt.arg.res", "<unset>");
	CHECK("evt.arg.flags", "O_WRONLY|O_CREAT");
	CHECK("evt.arg.mode", "S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH");
	CHECK("evt.is_open_read", "false");
	CHECK("evt.is_open_write", "true");
	CHECK("evt.is_open_exec", "true");
	CHECK("evt.args", "fd=-2(ENOENT) name=/usr/local/bin/x flags=65(O_WRONLY|O_CREAT) "
			  "mode=0755(S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH)");
	/* the failed open left no fd behind */
	CHECK("fd.types", "file");
}

/* numbers at their limits (rendered without printf) */
static void test_arg_numbers(void **unused)
{
	(void)unused;
	syscall_rec(VG_NR_listen, 70, INT64_MIN);
	B.r.arg[0] = 99;
	B.r.arg[1] = 0x80000000u;
	must_apply();
	CHECK("evt.args", "res=-9223372036854775808 fd=99 backlog=-2147483648");
	CHECK("evt.res", "-9223372036854775808");
	syscall_rec(VG_NR_socket, 70, -4095);
	B.r.arg[0] = 12345;
	B.r.arg[1] = UINT64_MAX;
	B.r.arg[2] = 0;
	must_apply();
	CHECK("evt.args", "fd=-4095 domain=12345 type=18446744073709551615 proto=0");
}

/* Opens, connects an io_uring performed (or open_by_handle_at): the
 * BPF-LSM records stand in for openat/connect, flagged by how they came. */
static void test_via_io_uring(void **unused)
{
	(void)unused;
	openat_shadow();
	CHECK("evt.via", "syscall");

	/* an IORING_OP_OPENAT: the kernel's path, the fd it reserved */
	syscall_rec(VG_NR_openat, 70, 7);
	B.r.h.flags = VG_F_URING;
	B.r.arg[0] = AT_FDCWD_U32;
	B.r.arg[2] = 0100000; /* O_RDONLY|O_LARGEFILE, as f_flags has it */
	rb_str(&B, VG_S_PATH0, "/etc/shadow");
	must_apply();
	CHECK("evt.type", "openat");
	CHECK("evt.via", "io_uring");
	CHECK("evt.is_open_read", "true");
	CHECK("fd.num", "7");
	CHECK("fd.name", "/etc/shadow");
	CHECK("fd.typechar", "f");
	syscall_rec(VG_NR_close, 70, 0);
	B.r.arg[0] = 7;
	must_apply();
	CHECK("fd.name", "/etc/shadow"); /* it went into the fd table */

	/* open_by_handle_at */
	syscall_rec(VG_NR_openat, 70, 8);
	B.r.h.flags = VG_F_LSM;
	B.r.arg[0] = AT_FDCWD_U32;
	rb_str(&B, VG_S_PATH0, "/etc/gshadow");
	must_apply();
	CHECK("evt.via", "lsm");
	CHECK("fd.name", "/etc/gshadow");

	/* into a fixed-file slot: described, but no fd table entry */
	syscall_rec(VG_NR_openat, 70, 0);
	B.r.h.flags = VG_F_URING | VG_F_NOFD;
	B.r.arg[0] = AT_FDCWD_U32;
	rb_str(&B, VG_S_PATH0, "/etc/sudoers");
	must_apply();
	CHECK("evt.via", "io_uring");
	CHECK("fd.name", "/etc/sudoers");
	CHECK("evt.is_open_read", "true");
	syscall_rec(VG_NR_close, 70, 0);
	B.r.arg[0] = 0;
	must_apply();
	assert_string_not_equal(fv("fd.name"), "/etc/sudoers");

	/* an IORING_OP_CONNECT on a fixed file: the tuple, no fd */
	syscall_rec(VG_NR_connect, 70, 0);
	B.r.h.flags = VG_F_URING | VG_F_NOFD;
	B.r.arg[0] = (uint64_t)-1;
	rb_sock4(&B, 1, 6, "0.0.0.0", 0, "93.184.216.34", 443);
	must_apply();
	CHECK("evt.via", "io_uring");
	CHECK("fd.typechar", "4");
	CHECK("fd.sip", "93.184.216.34");
	CHECK("fd.sport", "443");
}

static void test_network(void **unused)
{
	(void)unused;
	syscall_rec(VG_NR_socket, 70, 4);
	B.r.arg[0] = 2;
	B.r.arg[1] = 1;
	must_apply();
	CHECK("evt.arg.domain", "AF_INET");
	CHECK("evt.arg.type", "1");
	CHECK("fd.type", "ipv4");
	CHECK("fd.name", "");
	CHECK("fd.connected", "false");
	CHECK("evt.category", "net");

	syscall_rec(VG_NR_connect, 70, 0);
	B.r.arg[0] = 4;
	rb_sock4(&B, 1, 6, "10.0.0.1", 3456, "93.184.216.34", 443);
	must_apply();
	CHECK("fd.num", "4");
	CHECK("fd.type", "ipv4");
	CHECK("fd.typechar", "4");
	CHECK("fd.name", "10.0.0.1:3456->93.184.216.34:443");
	CHECK("fd.nameraw", "10.0.0.1:3456->93.184.216.34:443");
	CHECK("fd.directory", "<unset>");
	CHECK("fd.filename", "<unset>");
	CHECK("fd.l4proto", "tcp");
	CHECK("fd.sockfamily", "ip");
	CHECK("fd.connected", "true");
	CHECK("fd.name_changed", "true");
	CHECK("fd.is_server", "false");
	CHECK("fd.ip", "10.0.0.1,93.184.216.34");
	CHECK("fd.cip", "10.0.0.1");
	CHECK("fd.sip", "93.184.216.34");
	CHECK("fd.lip", "10.0.0.1");
	CHECK("fd.rip", "93.184.216.34");
	CHECK("fd.port", "3456,443");
	CHECK("fd.cport", "3456");
	CHECK("fd.sport", "443");
	CHECK("fd.lport", "3456");
	CHECK("fd.rport", "443");
	CHECK("fd.net", "10.0.0.1,93.184.216.34");
	CHECK("fd.cnet", "10.0.0.1");
	CHECK("fd.snet", "93.184.216.34");
	CHECK("fd.lnet", "10.0.0.1");
	CHECK("fd.rnet", "93.184.216.34");
	CHECK("fd.cip.name", "<unset>");
	CHECK("fd.sip.name", "<unset>");
	CHECK("fd.lip.name", "<unset>");
	CHECK("fd.rip.name", "<unset>");
	CHECK("fd.types", "file,ipv4");
	CHECK("fd.types[4]", "ipv4");
	CHECK("fd.types[2]", "file");
	CHECK("evt.args", "res=0 tuple=10.0.0.1:3456->93.184.216.34:443 "
			  "fd=4(<4>10.0.0.1:3456->93.184.216.34:443) addr=93.184.216.34:443");
	CHECK("evt.arg.addr", "93.184.216.34:443");
	CHECK("evt.arg.tuple", "10.0.0.1:3456->93.184.216.34:443");
	CHECK("evt.is_open_read", "<unset>");
	CHECK("fs.path.name", "<unset>");

	/* the server side of an accepted connection */
	syscall_rec(VG_NR_accept4, 70, 5);
	B.r.arg[0] = 4;
	rb_sock4(&B, 1, 6, "10.0.0.1", 8080, "192.168.0.7", 40000);
	must_apply();
	CHECK("fd.num", "5");
	CHECK("fd.name", "192.168.0.7:40000->10.0.0.1:8080");
	CHECK("fd.is_server", "true");
	CHECK("fd.cip", "192.168.0.7");
	CHECK("fd.sip", "10.0.0.1");
	CHECK("fd.lip", "10.0.0.1");
	CHECK("fd.rip", "192.168.0.7");
	CHECK("fd.cport", "40000");
	CHECK("fd.sport", "8080");
	CHECK("fd.lport", "8080");
	CHECK("fd.rport", "40000");
	CHECK("evt.arg.tuple", "192.168.0.7:40000->10.0.0.1:8080");

	/* UDP: a new peer renames the fd */
	syscall_rec(VG_NR_socket, 70, 6);
	B.r.arg[0] = 10;
	B.r.arg[1] = 2;
	must_apply();
	CHECK("fd.type", "ipv6");
	syscall_rec(VG_NR_sendto, 70, 12);
	B.r.arg[0] = 6;
	B.r.arg[2] = 12;
	rb_sock4(&B, 2, 17, "0.0.0.0", 0, "0.0.0.0", 0);
	B.r.sock.family = 10;
	B.r.sock.laddr[15] = 1;
	B.r.sock.raddr[0] = 0x20;
	B.r.sock.raddr[1] = 0x01;
	B.r.sock.raddr[15] = 9;
	B.r.sock.lport = 5353;
	B.r.sock.rport = 53;
	must_apply();
	CHECK("fd.l4proto", "udp");
	CHECK("fd.typechar", "6");
	CHECK("fd.name", "::1:5353->2001::9:53");
	CHECK("fd.name_changed", "true");
	CHECK("fd.connected", "false");
	CHECK("fd.sip", "2001::9");
	CHECK("evt.arg.size", "12");
	syscall_rec(VG_NR_sendto, 70, 12);
	B.r.arg[0] = 6;
	rb_sock4(&B, 2, 17, "0.0.0.0", 0, "0.0.0.0", 0);
	B.r.sock.family = 10;
	B.r.sock.laddr[15] = 1;
	B.r.sock.raddr[0] = 0x20;
	B.r.sock.raddr[1] = 0x01;
	B.r.sock.raddr[15] = 9;
	B.r.sock.lport = 5353;
	B.r.sock.rport = 53;
	must_apply();
	CHECK("fd.name_changed", "false");

	/* a packet socket */
	syscall_rec(VG_NR_socket, 70, 7);
	B.r.arg[0] = 17;
	B.r.arg[1] = 3;
	must_apply();
	CHECK("evt.arg.domain", "AF_PACKET");
	CHECK("fd.type", "unknown");
	CHECK("fd.typechar", "o");
	CHECK("fd.sockfamily", "<unset>");

	/* close: the event still describes the fd */
	syscall_rec(VG_NR_close, 70, 0);
	B.r.arg[0] = 4;
	must_apply();
	CHECK("fd.num", "4");
	CHECK("fd.name", "10.0.0.1:3456->93.184.216.34:443");
	CHECK("evt.args", "res=0 fd=4(<4>10.0.0.1:3456->93.184.216.34:443)");
	CHECK("fd.types[4]", "<unset>");
}

static void test_exec_event(void **unused)
{
	(void)unused;
	fork_rec(70, 60, "cat", 80);
	must_apply();
	CHECK("evt.type", "procfork");
	CHECK("proc.pid", "80");
	CHECK("proc.ppid", "70");
	CHECK("evt.res", "<unset>");
	CHECK("evt.args",
	      "res=0 exe=cat args=/etc/shadow tid=70 pid=80 ptid=70 cwd=/root uid=0(root) "
	      "gid=0(root)");

	static const char *const argv[] = {"x", "--run", NULL};
	exec_rec(80, 70, "x", "/memfd:x (deleted)", argv, "/tmp");
	B.r.exec.exe_flags = VG_EXE_MEMFD | VG_EXE_UPPER;
	B.r.h.ts = TS0;
	B.r.exec.start_ns = TS0;
	B.r.h.uid = 1000;
	B.r.exec.vpid = 1;
	B.r.exec.vpgid = 1;
	B.r.exec.sid = 80;
	must_apply();
	CHECK("evt.type", "execve");
	CHECK("evt.category", "process");
	CHECK("evt.res", "SUCCESS");
	CHECK("evt.rawres", "0");
	CHECK("evt.arg.flags", "EXE_UPPER_LAYER|EXE_FROM_MEMFD");
	CHECK("evt.arg.exe", "x");
	CHECK("evt.arg.args", "--run");
	CHECK("evt.arg.cwd", "/tmp");
	CHECK("evt.arg.filename", "/memfd:x (deleted)");
	CHECK("evt.arg.uid", "alice");
	CHECK("evt.arg.pid", "80");
	CHECK("evt.arg.ptid", "70");
	CHECK("proc.exepath", "/memfd:x (deleted)");
	CHECK("proc.is_exe_from_memfd", "true");
	CHECK("proc.vpid", "1");
	CHECK("proc.is_vpgid_leader", "true");
	CHECK("proc.is_sid_leader", "true");
	CHECK("proc.sname", "x");
	CHECK("proc.duration", "0");
	CHECK("proc.pname", "cat");
	CHECK("proc.env", "<unset>");
	CHECK("fs.path.name", "<unset>");
	/* the fds without O_CLOEXEC survive the exec */
	CHECK("fd.types", "file,ipv4,ipv6,unknown");

	rb_init(&B, VG_K_EXIT, 0, 80, 70, "x");
	B.r.h.ts = TS0;
	B.r.h.ret = 9;
	must_apply();
	CHECK("evt.type", "procexit");
	CHECK("evt.res", "<unset>");
	CHECK("evt.rawres", "<unset>");
	CHECK("evt.failed", "<unset>");
	CHECK("evt.args", "status=9 ret=9");
	CHECK("proc.name", "x");
	CHECK("fd.num", "<unset>");
	CHECK("evt.is_open_read", "<unset>");
}

static void test_unknown_process(void **unused)
{
	(void)unused;
	rb_sys(&B, VG_NR_kill, 900, 0);
	B.r.h.ts = TS0;
	B.r.h.tid = 901;
	B.r.arg[0] = 70;
	B.r.arg[1] = 9;
	strcpy(B.r.h.comm, "ghost");
	must_apply();
	CHECK("proc.name", "ghost");
	CHECK("proc.pid", "900");
	CHECK("proc.ppid", "<unset>");
	CHECK("proc.exe", "<unset>");
	CHECK("proc.exepath", "<unset>");
	CHECK("proc.args", "<unset>");
	CHECK("proc.cmdline", "<unset>");
	CHECK("proc.exeline", "<unset>");
	CHECK("proc.cmdnargs", "<unset>");
	CHECK("proc.cmdlenargs", "<unset>");
	CHECK("proc.cwd", "<unset>");
	CHECK("proc.env", "<unset>");
	CHECK("proc.tty", "<unset>");
	CHECK("proc.vpid", "<unset>");
	CHECK("proc.sid", "<unset>");
	CHECK("proc.sname", "<unset>");
	CHECK("proc.vpgid.name", "<unset>");
	CHECK("proc.is_vpgid_leader", "<unset>");
	CHECK("proc.duration", "<unset>");
	CHECK("proc.exe_ino", "<unset>");
	CHECK("proc.exe_ino.ctime", "<unset>");
	CHECK("proc.exe_ino.ctime_duration_proc_start", "<unset>");
	CHECK("proc.is_exe_upper_layer", "<unset>");
	CHECK("proc.pname", "<unset>");
	CHECK("proc.aname", "<unset>");
	CHECK("thread.cap_effective", "<unset>");
	CHECK("thread.tid", "901");
	CHECK("thread.ismain", "false");
	CHECK("user.loginuid", "-1");
	CHECK("fd.types", "<unset>");
	CHECK("evt.args", "res=0 pid=70(cat) sig=9(SIGKILL)");
	CHECK("evt.arg.pid", "cat");
	CHECK("evt.arg.sig", "SIGKILL");

	/* stale pids pointing at each other: the ancestor list stops */
	rb_sys(&B, VG_NR_kill, 911, 0);
	B.r.h.ppid = 910;
	strcpy(B.r.h.comm, "b");
	must_apply();
	rb_sys(&B, VG_NR_kill, 910, 0);
	B.r.h.ppid = 911;
	strcpy(B.r.h.comm, "a");
	must_apply();
	CHECK("proc.aname", "b");
	CHECK("proc.apid", "911");
}

static void test_syscall_args(void **unused)
{
	(void)unused;
	/* chmod setting the setuid bit, relative path */
	syscall_rec(VG_NR_chmod, 70, 0);
	B.r.arg[1] = 04755;
	rb_str(&B, VG_S_PATH0, "bin/tool");
	must_apply();
	CHECK("evt.arg.filename", "/root/bin/tool");
	CHECK("evt.arg.mode", "S_ISUID|S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH");
	CHECK("fs.path.name", "/root/bin/tool");
	CHECK("fs.path.nameraw", "bin/tool");
	CHECK("fd.num", "<unset>");

	/* fchmod names the fd */
	syscall_rec(VG_NR_fchmod, 70, 0);
	B.r.arg[0] = 3;
	B.r.arg[1] = 02000;
	must_apply();
	CHECK("evt.arg.fd", "<f>/etc/shadow");
	CHECK("evt.arg.mode", "S_ISGID");
	CHECK("fd.name", "/etc/shadow");

	/* creat: mode in arg 1, flags implied */
	syscall_rec(VG_NR_creat, 70, 8);
	B.r.arg[1] = 0700;
	rb_str(&B, VG_S_PATH0, "/tmp/run.sh");
	must_apply();
	CHECK("evt.is_open_exec", "true");
	CHECK("evt.is_open_write", "true");
	CHECK("evt.is_open_read", "false");
	CHECK("evt.arg.mode", "S_IRUSR|S_IWUSR|S_IXUSR");

	/* openat2: flags and mode from open_how */
	syscall_rec(VG_NR_openat2, 70, 9);
	B.r.arg[0] = AT_FDCWD_U32;
	B.r.h.flags = VG_F_OPENHOW;
	B.r.aux[0] = 02 | 01000 | 0100000; /* O_RDWR|O_TRUNC|O_LARGEFILE */
	B.r.aux[1] = 0644;
	rb_str(&B, VG_S_PATH0, "/etc/passwd");
	must_apply();
	CHECK("evt.arg.flags", "O_RDWR|O_TRUNC|O_LARGEFILE");
	CHECK("evt.is_open_read", "true");
	CHECK("evt.is_open_write", "true");
	CHECK("evt.is_open_exec", "false");

	/* rename: source and target */
	syscall_rec(VG_NR_renameat, 70, 0);
	B.r.arg[0] = 3;
	B.r.arg[2] = AT_FDCWD_U32;
	rb_str(&B, VG_S_PATH0, ".bash_history");
	rb_str(&B, VG_S_BASE0, "/root");
	rb_str(&B, VG_S_PATH1, "/tmp/h");
	must_apply();
	CHECK("evt.arg.oldpath", "/root/.bash_history");
	CHECK("evt.arg.newpath", "/tmp/h");
	CHECK("evt.arg.olddirfd", "<f>/etc/shadow");
	CHECK("evt.arg.newdirfd", "AT_FDCWD");
	CHECK("fs.path.name", "<unset>");
	CHECK("fs.path.source", "/root/.bash_history");
	CHECK("fs.path.sourceraw", ".bash_history");
	CHECK("fs.path.target", "/tmp/h");
	CHECK("fs.path.targetraw", "/tmp/h");

	/* symlinkat: the target string is not a path of this call */
	syscall_rec(VG_NR_symlinkat, 70, 0);
	B.r.arg[1] = AT_FDCWD_U32;
	rb_str(&B, VG_S_XSTR, "/etc/shadow");
	rb_str(&B, VG_S_PATH0, "s");
	must_apply();
	CHECK("evt.arg.target", "/etc/shadow");
	CHECK("evt.arg.linkpath", "/root/s");
	CHECK("fs.path.source", "/etc/shadow");
	CHECK("fs.path.target", "/root/s");
	CHECK("fs.path.targetraw", "s");

	/* unlinkat flags */
	syscall_rec(VG_NR_unlinkat, 70, -EISDIR);
	B.r.arg[0] = AT_FDCWD_U32;
	B.r.arg[2] = 0x200;
	rb_str(&B, VG_S_PATH0, "/var/log/auth.log");
	must_apply();
	CHECK("evt.arg.flags", "AT_REMOVEDIR");
	CHECK("evt.arg.res", "EISDIR");
	CHECK("evt.res", "EISDIR");
	CHECK("evt.arg.name", "/var/log/auth.log");

	/* ptrace */
	syscall_rec(VG_NR_ptrace, 70, 0);
	B.r.arg[0] = 16;
	B.r.arg[1] = 60;
	must_apply();
	CHECK("evt.arg.request", "PTRACE_ATTACH");
	CHECK("evt.arg.pid", "bash");
	CHECK("evt.arg.addr", "0x0");

	/* bpf */
	syscall_rec(VG_NR_bpf, 70, 10);
	B.r.arg[0] = 5;
	must_apply();
	CHECK("evt.arg.cmd", "BPF_PROG_LOAD");
	CHECK("evt.arg.res_or_fd", "10");
	CHECK("evt.category", "other");

	/* setuid: numbers stay numbers when no user name is known */
	syscall_rec(VG_NR_setuid, 70, 0);
	B.r.arg[0] = 4242;
	must_apply();
	CHECK("evt.arg.uid", "4242");
	CHECK("user.uid", "4242");

	/* unshare / setns flags */
	syscall_rec(VG_NR_unshare, 70, 0);
	B.r.arg[0] = 0x20000 | 0x10000000;
	must_apply();
	CHECK("evt.arg.flags", "CLONE_NEWNS|CLONE_NEWUSER");

	/* pipe pair */
	syscall_rec(VG_NR_pipe2, 70, 0);
	B.r.h.flags = VG_F_FDPAIR;
	B.r.aux[0] = 20;
	B.r.aux[1] = 21;
	B.r.arg[1] = 02000000;
	must_apply();
	CHECK("evt.args", "res=0 fd1=20(<p>) fd2=21(<p>) flags=524288(O_CLOEXEC)");
	CHECK("fd.type", "pipe");
	CHECK("fd.num", "20");

	/* memfd */
	syscall_rec(VG_NR_memfd_create, 70, 22);
	B.r.arg[1] = 1;
	rb_str(&B, VG_S_XSTR, "x");
	must_apply();
	CHECK("fd.name", "memfd:x");
	CHECK("fd.type", "memfd");
	CHECK("fd.typechar", "m");
	CHECK("evt.arg.flags", "MFD_CLOEXEC");
	CHECK("evt.arg.name", "x");

	/* mount: source raw, target resolved */
	syscall_rec(VG_NR_mount, 70, 0);
	rb_str(&B, VG_S_PATH0, "/mnt/host");
	rb_str(&B, VG_S_PATH1, "/dev/sda1");
	rb_str(&B, VG_S_XSTR, "ext4");
	must_apply();
	CHECK("evt.arg.dev", "/dev/sda1");
	CHECK("evt.arg.dir", "/mnt/host");
	CHECK("evt.arg.type", "ext4");
	CHECK("fs.path.name", "<unset>");

	/* a call vigil does not describe parameters of beyond its result */
	syscall_rec(VG_NR_capset, 70, -EPERM);
	must_apply();
	CHECK("evt.args", "res=-1(EPERM)");
	CHECK("evt.arg[1]", "<unset>");
}

/* Container and pod metadata through the look-up hook. */
static const struct vg_mount mounts[] = {
	{"/var/run/docker.sock", "/var/run/docker.sock", "", true, "rprivate"},
	{"/proc", "/host/proc", "ro", false, "rprivate"},
};
static const struct vg_label pod_labels[] = {{"app", "web"}, {"tier", "front"}};
static const struct vg_label ns_labels[] = {{"team", "blue"}};
static const struct vg_container_meta meta = {
	.name = "web-1",
	.image = "nginx:1.25",
	.image_repo = "nginx",
	.image_tag = "1.25",
	.privileged = 1,
	.start_ts = TS0 - 60000000000ull,
	.mounts = mounts,
	.nmounts = 2,
	.pod_name = "web-7d4b9",
	.pod_uid = "0d2f5b8e-7f5a-4c1e-9d1b-3c2a1f0e9b8a",
	.ns_name = "shop",
	.pod_labels = pod_labels,
	.npod_labels = 2,
	.ns_labels = ns_labels,
	.nns_labels = 1,
	.full_id = "4b9a3d9c1f0e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8",
	.type = "containerd",
	.user = "1000",
};
static const char *asked;

static const struct vg_container_meta *lookup_meta(void *ctx, const char *id)
{
	(void)ctx;
	asked = id;
	return strcmp(id, "4b9a3d9c1f0e") == 0 ? &meta : NULL;
}

#define POD_UID "0d2f5b8e-7f5a-4c1e-9d1b-3c2a1f0e9b8a"
#define CID "4b9a3d9c1f0e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8"

/* pid runs sh in the cgroup given */
static void exec_in(uint32_t pid, const char *cgroup)
{
	static const char *const argv[] = {"sh", NULL};
	exec_rec(pid, 1, "sh", "/bin/sh", argv, "/");
	rb_str(&B, VG_X_CGROUP, cgroup);
	B.r.h.ts = TS0;
	must_apply();
}

static void test_container_meta(void **unused)
{
	(void)unused;
	vg_state_set_meta_lookup(ST, lookup_meta, NULL);
	exec_in(95, "/kubepods/besteffort/pod" POD_UID "/" CID);
	CHECK("container.id", "4b9a3d9c1f0e");
	CHECK("container.name", "web-1");
	assert_string_equal(asked, "4b9a3d9c1f0e");
	CHECK("container.image", "nginx:1.25");
	CHECK("container.image.repository", "nginx");
	CHECK("container.image.tag", "1.25");
	CHECK("container.privileged", "true");
	CHECK("container.start_ts", "1699999940123456789");
	CHECK("container.duration", "60000000000");
	CHECK("container.mounts", "/var/run/docker.sock:/var/run/docker.sock::true:rprivate,"
				  "/proc:/host/proc:ro:false:rprivate");
	CHECK("container.mount.dest[/var/run/docker.sock]", "/var/run/docker.sock");
	CHECK("container.mount.dest[/proc*]", "/host/proc");
	CHECK("container.mount.dest[/etc]", "N/A");
	CHECK("container.mount.dest[1]", "/host/proc");
	CHECK("container.mount.dest[5]", "N/A");
	CHECK("container.mount.source[/host/*]", "/proc");
	CHECK("container.mount[/host/proc]", "/proc:/host/proc:ro:false:rprivate");
	CHECK("container.mount[0]", "/var/run/docker.sock:/var/run/docker.sock::true:rprivate");
	CHECK("container.mount[/etc]", "N/A");
	CHECK("container.mount.mode[/host/proc]", "ro");
	CHECK("container.mount.mode[0]", "");
	CHECK("container.mount.rdwr[/host/proc]", "false");
	CHECK("container.mount.rdwr[/var/run/*]", "true");
	CHECK("container.mount.propagation[1]", "rprivate");
	CHECK("container.mount.propagation[/etc]", "N/A");
	CHECK("container.full_id",
	      "4b9a3d9c1f0e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8");
	CHECK("container.type", "containerd");
	CHECK("container.user", "1000");
	CHECK("k8s.ns.name", "shop");
	CHECK("k8s.pod.name", "web-7d4b9");
	CHECK("k8s.pod.uid", POD_UID);
	CHECK("k8s.pod.labels", "app:web, tier:front");
	CHECK("k8s.pod.label[tier]", "front");
	CHECK("k8s.pod.label.app", "web");
	CHECK("k8s.pod.label[nope]", "<unset>");
	CHECK("k8s.ns.labels", "team:blue");
	CHECK("k8s.ns.label[team]", "blue");
	CHECK("k8s.ns.label.team", "blue");

	/* host processes never ask */
	asked = NULL;
	exec_in(96, "/system.slice/ssh.service");
	CHECK("container.id", "host");
	CHECK("container.name", "<unset>");
	CHECK("k8s.pod.uid", "<unset>");
	assert_null(asked);

	CHECK("container.mount.dest[/proc*]", "<unset>"); /* not in a container */

	/* a container the look-up does not know: the pod uid still comes
	 * from the cgroup path */
	exec_in(97, "/kubepods/burstable/pod11111111-2222-3333-4444-555555555555/"
		    "aaaaaaaaaaaa8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8");
	CHECK("container.id", "aaaaaaaaaaaa");
	CHECK("container.image", "<unset>");
	CHECK("container.full_id", "<unset>");
	CHECK("container.privileged", "<unset>");
	/* its mount table is unknown: <NA>, not N/A (no such mount) and not
	 * unset (which `not ... in ("<NA>","N/A")` would take for a mount) */
	CHECK("container.mount.dest[/proc*]", "<NA>");
	CHECK("container.mount.source[/etc]", "<NA>");
	CHECK("container.mount[0]", "<NA>");
	CHECK("container.mounts", "<unset>");
	assert_string_equal(asked, "aaaaaaaaaaaa");
	CHECK("k8s.pod.uid", "11111111-2222-3333-4444-555555555555");
	CHECK("k8s.pod.name", "<unset>");

	/* no look-up installed: nothing but the id and the pod uid */
	vg_state_set_meta_lookup(ST, NULL, NULL);
	exec_in(95, "/kubepods/besteffort/pod" POD_UID "/" CID);
	CHECK("container.id", "4b9a3d9c1f0e");
	CHECK("k8s.pod.name", "<unset>");
	CHECK("k8s.pod.uid", POD_UID);
	CHECK("container.mount.dest[/proc*]", "<NA>");
}

static void test_names(void **unused)
{
	(void)unused;
	/* names from the passwd and group files of etc_root */
	syscall_rec(VG_NR_kill, 70, 0);
	B.r.h.uid = 1000;
	B.r.h.gid = 33;
	B.r.h.loginuid = 1000;
	must_apply();
	CHECK("user.uid", "1000");
	CHECK("user.name", "alice");
	CHECK("user.homedir", "/home/alice");
	CHECK("user.shell", "/bin/bash");
	CHECK("group.gid", "33");
	CHECK("group.name", "www-data");
	CHECK("user.loginuid", "1000");
	CHECK("user.loginname", "alice");

	/* setuid renders its argument as a user name (evt.arg.uid=nobody) */
	syscall_rec(VG_NR_setuid, 70, 0);
	B.r.h.uid = 1000;
	B.r.arg[0] = 65534;
	must_apply();
	CHECK("evt.arg.uid", "nobody");
	CHECK("user.name", "nobody"); /* the call succeeded: the process is nobody now */
	CHECK("evt.args", "res=0 uid=65534(nobody)");
	syscall_rec(VG_NR_setresgid, 70, 0);
	B.r.h.uid = 65534;
	B.r.arg[0] = (uint32_t)-1;
	B.r.arg[1] = 1000;
	B.r.arg[2] = (uint32_t)-1;
	must_apply();
	CHECK("evt.arg.egid", "alice");
	CHECK("evt.arg.rgid", "4294967295");
	CHECK("group.name", "alice");

	/* with no entry the names are "" (never unset), the login name too */
	syscall_rec(VG_NR_kill, 70, 0);
	B.r.h.uid = 4243;
	B.r.h.gid = 4243;
	B.r.h.loginuid = (uint32_t)-1;
	must_apply();
	CHECK("user.name", "");
	CHECK("user.homedir", "");
	CHECK("user.shell", "");
	CHECK("group.name", "");
	CHECK("user.loginname", "");
	CHECK("user.loginuid", "-1");
}

/* ------------------------------------------------------------------ */
/* ka.* and jevt.*: audit events (tests/data/k8saudit)                 */

static cJSON *load_json(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	cJSON *o = cJSON_Parse(buf);
	assert_non_null(o);
	return o;
}

static void test_audit_pod(void **unused)
{
	(void)unused;
	cJSON *o = load_json("tests/data/k8saudit/pod.json");
	struct vg_kaudit_event ke;
	vg_kaudit_event_init(&ke, o, 7, 42);
	XEV = &ke.ev;
	CHECK("ka.auditid", "6a1e5b0c-0d6f-4b7e-9a51-3f2b7c1d9e01");
	CHECK("ka.stage", "ResponseComplete");
	CHECK("ka.auth.decision", "allow");
	CHECK("ka.auth.reason", "RBAC: allowed by ClusterRoleBinding \"devs\"");
	CHECK("ka.validations.admission.policy.failure", "<unset>");
	CHECK("ka.security.pod.violations",
	      "privileged (container \"web\" must not set securityContext.privileged=true)");
	CHECK("ka.user.name", "mallory");
	CHECK("ka.user.groups", "devs,system:authenticated");
	CHECK("ka.user.groups[1]", "system:authenticated");
	CHECK("ka.impuser.name", "bob");
	CHECK("ka.verb", "create");
	CHECK("ka.uri",
	      "/api/v1/namespaces/shop/pods?fieldManager=kubectl-client-side-apply&dryRun=");
	CHECK("ka.uri.param[fieldManager]", "kubectl-client-side-apply");
	CHECK("ka.uri.param[dryRun]", "");
	CHECK("ka.uri.param[field]", "<unset>");
	CHECK("ka.target.name", "web-1");
	CHECK("ka.target.namespace", "shop");
	CHECK("ka.target.resource", "pods");
	CHECK("ka.target.subresource", "<unset>");
	CHECK("ka.target.pod.name", "web-1");
	CHECK("ka.req.pod.containers.name", "web,side");
	CHECK("ka.req.pod.containers.image", "docker.io/library/nginx:1.25,falcosecurity/falco");
	CHECK("ka.req.pod.containers.image[1]", "falcosecurity/falco");
	CHECK("ka.req.pod.containers.image.repository",
	      "docker.io/library/nginx,falcosecurity/falco");
	CHECK("ka.req.pod.containers.command", "<unset>");
	CHECK("ka.req.pod.containers.args", "[\"-g\",\"daemon off;\"]");
	CHECK("ka.req.pod.containers.privileged", "true,false");
	CHECK("ka.req.pod.containers.privileged[1]", "false");
	CHECK("ka.req.pod.containers.allow_privilege_escalation", "false,true");
	CHECK("ka.req.pod.containers.read_only_fs", "true,false");
	CHECK("ka.req.pod.containers.run_as_user", "0");
	CHECK("ka.req.pod.containers.eff_run_as_user", "0,1000");
	CHECK("ka.req.pod.containers.run_as_group", "<unset>");
	CHECK("ka.req.pod.containers.eff_run_as_group", "3000,3000");
	CHECK("ka.req.pod.containers.proc_mount", "Unmasked");
	CHECK("ka.req.pod.containers.add_capabilities", "NET_ADMIN,SYS_TIME");
	CHECK("ka.req.pod.containers.host_port", "8080");
	CHECK("ka.req.pod.initContainers.name", "init");
	CHECK("ka.req.pod.initContainers.image", "registry.local:5000/tools/init:1.2");
	CHECK("ka.req.pod.initContainers.image.repository", "registry.local:5000/tools/init");
	CHECK("ka.req.pod.initContainers.command", "[\"sh\",\"-c\",\"true\"]");
	CHECK("ka.req.pod.initContainers.args", "<unset>");
	CHECK("ka.req.pod.initContainers.privileged", "true");
	CHECK("ka.req.pod.initContainers.allow_privilege_escalation", "true");
	CHECK("ka.req.pod.initContainers.read_only_fs", "false");
	CHECK("ka.req.pod.initContainers.run_as_user", "<unset>");
	CHECK("ka.req.pod.initContainers.eff_run_as_user", "1000");
	CHECK("ka.req.pod.initContainers.run_as_group", "<unset>");
	CHECK("ka.req.pod.initContainers.eff_run_as_group", "3000");
	CHECK("ka.req.pod.initContainers.proc_mount", "<unset>");
	CHECK("ka.req.pod.initContainers.add_capabilities", "<unset>");
	CHECK("ka.req.pod.initContainers.host_port", "<unset>");
	CHECK("ka.req.pod.ephemeralContainers.name", "debugger");
	CHECK("ka.req.pod.ephemeralContainers.image", "busybox@sha256:0123");
	CHECK("ka.req.pod.ephemeralContainers.image.repository", "busybox");
	CHECK("ka.req.pod.ephemeralContainers.command", "<unset>");
	CHECK("ka.req.pod.ephemeralContainers.args", "<unset>");
	CHECK("ka.req.pod.ephemeralContainers.privileged", "false");
	CHECK("ka.req.pod.ephemeralContainers.allow_privilege_escalation", "true");
	CHECK("ka.req.pod.ephemeralContainers.read_only_fs", "false");
	CHECK("ka.req.pod.ephemeralContainers.run_as_user", "0");
	CHECK("ka.req.pod.ephemeralContainers.eff_run_as_user", "0");
	CHECK("ka.req.pod.ephemeralContainers.run_as_group", "<unset>");
	CHECK("ka.req.pod.ephemeralContainers.eff_run_as_group", "3000");
	CHECK("ka.req.pod.ephemeralContainers.proc_mount", "<unset>");
	CHECK("ka.req.pod.ephemeralContainers.add_capabilities", "<unset>");
	CHECK("ka.req.pod.ephemeralContainers.host_port", "<unset>");
	CHECK("ka.req.container.image", "docker.io/library/nginx:1.25");
	CHECK("ka.req.container.image.repository", "docker.io/library/nginx");
	CHECK("ka.req.container.privileged", "true");
	CHECK("ka.req.container.host_network", "true");
	CHECK("ka.req.pod.host_ipc", "false");
	CHECK("ka.req.pod.host_network", "true");
	CHECK("ka.req.pod.host_pid", "false");
	CHECK("ka.req.pod.run_as_user", "1000");
	CHECK("ka.req.pod.run_as_group", "3000");
	CHECK("ka.req.pod.fs_group", "2000");
	CHECK("ka.req.pod.supplemental_groups", "4000,4001");
	CHECK("ka.req.pod.volumes.hostpath", "/etc");
	CHECK("ka.req.volume.hostpath[/et]", "true");
	CHECK("ka.req.volume.hostpath[/var]", "false");
	CHECK("ka.req.pod.volumes.flexvolume_driver", "acme/nfs");
	CHECK("ka.req.pod.volumes.volume_type", "hostPath,configMap,flexVolume");
	CHECK("ka.req.pod.volumes.volume_type[2]", "flexVolume");
	CHECK("ka.resp.name", "web-1");
	CHECK("ka.response.code", "201");
	CHECK("ka.response.reason", "<unset>");
	CHECK("ka.useragent", "kubectl/v1.30.0 (linux/amd64) kubernetes/abcdef0");
	CHECK("ka.sourceips", "10.0.0.7,fd00::7");
	CHECK("ka.sourceips[1]", "fd00::7");
	CHECK("ka.cluster.name", "<unset>");
	CHECK("jevt.value[/objectRef/name]", "web-1");
	CHECK("jevt.value[/sourceIPs/1]", "fd00::7");
	CHECK("jevt.value[/responseStatus/code]", "201");
	CHECK("jevt.value[/requestObject/spec/volumes/0/hostPath]",
	      "{\"path\":\"/etc\",\"type\":\"Directory\"}");
	CHECK("jevt.value[/annotations/authorization.k8s.io~1decision]", "allow");
	CHECK("jevt.value[/nope]", "<unset>");
	CHECK("jevt.value[/sourceIPs/01]", "<unset>");
	CHECK("jevt.rawtime", "1714979289123456000");
	CHECK("jevt.time", "07:08:09.123456000");
	CHECK("jevt.time.iso8601", "2024-05-06T07:08:09.123456000Z");
	CHECK("evt.rawtime", "1714979289123456000");
	CHECK("evt.num", "7");
	CHECK("evt.source", "k8s_audit");
	char *whole = cJSON_PrintUnformatted(o);
	assert_string_equal(fv("jevt.obj"), whole);
	free(whole);
	assert_int_equal(strncmp(fv("jevt.obj"), "{\"kind\":\"Event\",", 16), 0);
	/* not an audit event: every audit field is unset */
	XEV = NULL;
	CHECK("ka.verb", "<unset>");
	CHECK("jevt.value[/verb]", "<unset>");
	CHECK("jevt.rawtime", "<unset>");
	CHECK("evt.source", "syscall");
	cJSON_Delete(o);
}

static void test_audit_objects(void **unused)
{
	(void)unused;
	cJSON *o = load_json("tests/data/k8saudit/objects.json");
	struct vg_kaudit_event ke;
	vg_kaudit_event_init(&ke, o, 8, 42);
	XEV = &ke.ev;
	CHECK("ka.validations.admission.policy.failure", "[{\"message\":\"no\"}]");
	CHECK("ka.target.pod.name", "<unset>");
	CHECK("ka.target.namespace", "<unset>");
	CHECK("ka.req.binding.subjects",
	      "{\"kind\":\"User\",\"name\":\"mallory\"},{\"kind\":\"ServiceAccount\",\"name\":"
	      "\"builder\",\"namespace\":\"ci\"},{\"kind\":\"Group\",\"name\":\"ops\"}");
	CHECK("ka.req.binding.subjects.user_names", "mallory");
	CHECK("ka.req.binding.subjects.serviceaccount_names", "builder");
	CHECK("ka.req.binding.subjects.serviceaccount_ns_names", "ci:builder");
	CHECK("ka.req.binding.subjects.group_names", "ops");
	CHECK("ka.req.binding.role", "cluster-admin");
	CHECK("ka.req.binding.subject.has_name[mallory]", "N/A");
	CHECK("ka.req.configmap.name", "own");
	CHECK("ka.req.configmap.obj", "{\"aws_access_key_id\":\"AKIAEXAMPLE\"}");
	CHECK("ka.req.role.rules",
	      "{\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"pods/exec\"],\"verbs\":[\"get\","
	      "\"create\"]},{\"nonResourceURLs\":[\"/metrics\"],\"verbs\":[\"*\"]}");
	CHECK("ka.req.role.rules.apiGroups", "");
	CHECK("ka.req.role.rules.nonResourceURLs", "/metrics");
	CHECK("ka.req.role.rules.verbs", "get,create,*");
	CHECK("ka.req.role.rules.verbs[1]", "*");
	CHECK("ka.req.role.rules.resources", "pods,pods/exec");
	CHECK("ka.req.service.type", "NodePort");
	CHECK("ka.req.service.ports", "{\"port\":80,\"nodePort\":30080}");
	/* a +02:00 offset; no fraction */
	CHECK("jevt.time", "07:08:09.000000000");
	XEV = NULL;
	cJSON_Delete(o);
	/* times the API server writes, and what is not one */
	assert_int_equal(vg_kaudit_parse_time("1970-01-01T00:00:01Z"), 1000000000ull);
	assert_int_equal(vg_kaudit_parse_time("1970-01-01T00:00:01.5Z"), 1500000000ull);
	assert_int_equal(vg_kaudit_parse_time("1970-01-01T01:00:01+01:00"), 1000000000ull);
	assert_int_equal(vg_kaudit_parse_time("1970-01-01T00:00:01"), 0);
	assert_int_equal(vg_kaudit_parse_time("yesterday"), 0);
	assert_int_equal(vg_kaudit_parse_time(NULL), 0);
	/* no timestamp: the time it was received */
	cJSON *bare = cJSON_Parse("{\"verb\":\"get\"}");
	vg_kaudit_event_init(&ke, bare, 9, 42);
	assert_int_equal(ke.ev.ts, 42);
	cJSON_Delete(bare);
}

static void test_all_fields_covered(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < vg_field_count(); i++)
		if (!covered[i])
			fail_msg("field %s is not checked by any test", vg_field_at(i)->name);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),	cmocka_unit_test(test_values),
		cmocka_unit_test(test_open_event),	cmocka_unit_test(test_via_io_uring),
		cmocka_unit_test(test_failed_open),	cmocka_unit_test(test_network),
		cmocka_unit_test(test_arg_numbers),	cmocka_unit_test(test_exec_event),
		cmocka_unit_test(test_unknown_process), cmocka_unit_test(test_syscall_args),
		cmocka_unit_test(test_container_meta),	cmocka_unit_test(test_names),
		cmocka_unit_test(test_arg_numbers),	cmocka_unit_test(test_audit_pod),
		cmocka_unit_test(test_audit_objects),	cmocka_unit_test(test_all_fields_covered),
	};
	return cmocka_run_group_tests(tests, setup_scene, teardown_scene);
}
