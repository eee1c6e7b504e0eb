/* /proc scan: a fake tree (tests/data/proc) checked field by field, and the
 * real /proc checked for this very process. */
#include <errno.h>
#include <limits.h>
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

#include "state.h"
#include "vigil.h"

#define ID "3f4e1c0b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
#define UIDU "8a1c2f3e_4b5d_4e6f_9a0b_1c2d3e4f5a6b"
#define KCG                                                                                        \
	"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU                   \
	".slice/cri-containerd-" ID ".scope"
#define FULLCAPS 0x1ffffffffffull

struct recs {
	struct vg_rec **r; /* grows: the host may run any number of processes */
	size_t n, cap;
	int stop_after; /* 0: never */
};

static int collect(void *ctx, const struct vg_rec *raw, size_t size)
{
	struct recs *rs = ctx;
	assert_int_equal(raw->h.size, size);
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? 2 * rs->cap : 256;
		rs->r = realloc(rs->r, rs->cap * sizeof(*rs->r));
		assert_non_null(rs->r);
	}
	rs->r[rs->n] = malloc(size);
	memcpy(rs->r[rs->n], raw, size);
	rs->n++;
	if (rs->stop_after && (int)rs->n >= rs->stop_after)
		return -EIO;
	return 0;
}

static void free_recs(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->r[i]);
	free(rs->r);
	free(rs);
}

/* string slot i of a record, NULL when absent; *len includes the NUL */
static const char *slot(const struct vg_rec *ev, int i, size_t *len)
{
	size_t off = 0;
	for (int k = 0; k < i; k++)
		off += ev->len[k];
	*len = ev->len[i];
	return ev->len[i] ? ev->data + off : NULL;
}

static void expect_slot(const struct vg_rec *ev, int i, const char *want, size_t want_len)
{
	size_t len;
	const char *s = slot(ev, i, &len);
	if (!want) {
		if (len != 0)
			fail_msg("pid %u slot %d: want absent, got %zu bytes", ev->h.pid, i, len);
		return;
	}
	if (len != want_len || memcmp(s, want, want_len) != 0)
		fail_msg("pid %u slot %d: got '%.*s' (%zu), want '%s' (%zu)", ev->h.pid, i,
			 (int)len, s ? s : "", len, want, want_len);
}

static void expect_str(const struct vg_rec *ev, int i, const char *want)
{
	expect_slot(ev, i, want, want ? strlen(want) + 1 : 0);
}

static const struct vg_rec *find(struct recs *rs, uint32_t pid)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i]->h.pid == pid)
			return rs->r[i];
	fail_msg("pid %u not emitted", pid);
	return NULL;
}

static uint64_t ticks_ns(uint64_t ticks)
{
	uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK);
	return ticks * 1000000000ull / hz;
}

static uint64_t dir_ino(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/* exe fields are whatever the link target is on this machine, or 0 */
static void expect_exe_stat(const struct vg_rec *ev, const char *target, uint32_t more_flags)
{
	struct stat st;
	uint64_t ino = 0, ct = 0, mt = 0;
	uint32_t flags = more_flags;
	if (stat(target, &st) == 0) {
		ino = st.st_ino;
		ct = (uint64_t)st.st_ctim.tv_sec * 1000000000ull + (uint64_t)st.st_ctim.tv_nsec;
		mt = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
		if (st.st_mode & S_ISUID)
			flags |= VG_EXE_SETUID;
	}
	assert_int_equal(ev->exec.exe_ino, ino);
	assert_int_equal(ev->exec.exe_ctime_ns, ct);
	assert_int_equal(ev->exec.exe_mtime_ns, mt);
	assert_int_equal(ev->exec.exe_flags, flags);
}

static struct recs *scan_fake(void)
{
	struct recs *rs = calloc(1, sizeof(*rs));
	int n = vg_procscan("tests/data/proc", collect, rs);
	assert_int_equal(n, 7);
	assert_int_equal(rs->n, 7);
	return rs;
}

static void test_order_and_skips(void **state)
{
	(void)state;
	struct recs *rs = scan_fake();
	/* by depth then pid: 50 comes after its parent 300; 600 (exited) and the
	 * non-pid entries are skipped; 700's parent is not in the tree */
	const uint32_t want[] = {1, 700, 300, 400, 50, 500, 800};
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(rs->r[i]->h.pid, want[i]);
		assert_int_equal(rs->r[i]->h.kind, VG_K_PROC);
		assert_int_equal(rs->r[i]->h.tid, want[i]);
		assert_int_equal(rs->r[i]->h.ret, 0);
		assert_true(rs->r[i]->h.ts > 0);
		size_t total = sizeof(struct vg_rec);
		for (int k = 0; k < VG_NSTR; k++)
			total += rs->r[i]->len[k];
		assert_int_equal(rs->r[i]->h.size, total);
	}
	free_recs(rs);
}

static void test_container_process(void **state)
{
	(void)state;
	struct recs *rs = scan_fake();
	const struct vg_rec *ev = find(rs, 50);
	assert_int_equal(ev->h.ppid, 300);
	assert_int_equal(ev->h.uid, 101);
	assert_int_equal(ev->h.gid, 102);
	assert_int_equal(ev->h.loginuid, UINT32_MAX);
	assert_int_equal(ev->h.flags, 0);
	assert_string_equal(ev->h.comm, "nginx");
	assert_int_equal(ev->h.cgroup_id, dir_ino("tests/data/sys/fs/cgroup" KCG));
	assert_int_equal(ev->exec.cap_inh, 0x400);
	assert_int_equal(ev->exec.cap_perm, 0x800);
	assert_int_equal(ev->exec.cap_eff, 0x20);
	assert_int_equal(ev->exec.ruid, 101);
	assert_int_equal(ev->exec.rgid, 102);
	assert_int_equal(ev->exec.vpid, 1);
	assert_int_equal(ev->exec.vpgid, 1);
	assert_int_equal(ev->exec.pgid, 50);
	assert_int_equal(ev->exec.sid, 50);
	assert_int_equal(ev->exec.tty, 0);
	assert_int_equal(ev->exec.pidns_ino, 4026532500u);
	assert_int_equal(ev->exec.start_ns, ticks_ns(5100));
	expect_str(ev, VG_X_ARGS, "nginx: master process nginx -g daemon off;");
	expect_slot(ev, VG_X_ENV, "PATH=/usr/local/sbin:/usr/bin\0NGINX_VERSION=1.25.3", 51);
	expect_str(ev, VG_X_EXEPATH, "/usr/sbin/nginx"); /* " (deleted)" dropped */
	expect_str(ev, VG_X_FILENAME, "/usr/sbin/nginx");
	expect_str(ev, VG_X_CWD, "/");
	expect_str(ev, VG_X_CGROUP, KCG);
	expect_exe_stat(ev, "/usr/sbin/nginx", 0);

	size_t len;
	char cid[VG_CONTAINER_ID_LEN];
	vg_container_id(slot(ev, VG_X_CGROUP, &len), cid);
	assert_string_equal(cid, "3f4e1c0b9a8d");

	const struct vg_rec *shim = find(rs, 300);
	expect_slot(shim, VG_X_ARGS,
		    "/usr/bin/containerd-shim-runc-v2\0-namespace\0k8s.io\0-id\0" ID,
		    sizeof("/usr/bin/containerd-shim-runc-v2\0-namespace\0k8s.io\0-id\0" ID));
	expect_str(shim, VG_X_CGROUP, "/system.slice/containerd.service");
	assert_int_equal(shim->h.cgroup_id, 0); /* no such dir in the fake cgroupfs */
	assert_int_equal(shim->exec.cap_eff, FULLCAPS);
	free_recs(rs);
}

static void test_host_shell(void **state)
{
	(void)state;
	struct recs *rs = scan_fake();
	const struct vg_rec *ev = find(rs, 400);
	assert_int_equal(ev->h.ppid, 1);
	assert_int_equal(ev->h.uid, 1000);
	assert_int_equal(ev->h.loginuid, 1000);
	assert_string_equal(ev->h.comm, "bash");
	assert_int_equal(ev->exec.tty, 34816); /* pts/0 */
	assert_int_equal(ev->exec.sid, 400);
	assert_int_equal(ev->exec.start_ns, ticks_ns(7000));
	assert_int_equal(ev->exec.cap_eff, 0);
	assert_int_equal(ev->exec.pidns_ino, 4026531836u);
	expect_slot(ev, VG_X_ARGS, "-bash", 6);
	/* cgroup v1: the cpu hierarchy wins over pids, memory, name= and 0:: */
	expect_str(ev, VG_X_CGROUP, "/user.slice/user-1000.slice/session-3.scope/cpu");
	assert_int_equal(ev->h.cgroup_id, 0); /* no unified hierarchy in the fake tree */
	expect_str(ev, VG_X_EXEPATH, "/usr/bin/bash");
	expect_str(ev, VG_X_CWD, "/home/alice");
	expect_exe_stat(ev, "/usr/bin/bash", 0);

	/* environment: 30 entries of 97 bytes, cut after the last whole one <= 2 KiB */
	size_t len;
	const char *env = slot(ev, VG_X_ENV, &len);
	assert_int_equal(len, 21 * 97);
	assert_int_equal(env[len - 1], '\0');
	assert_memory_equal(env + 20 * 97, "VAR20=xxx", 9);
	assert_true(ev->h.flags & VG_F_TRUNC);

	/* setuid exe, real uid differs from the effective one, no environ file */
	const struct vg_rec *su = find(rs, 800);
	assert_int_equal(su->h.ppid, 400);
	assert_int_equal(su->h.uid, 0);
	assert_int_equal(su->exec.ruid, 1000);
	expect_slot(su, VG_X_ARGS, "su\0-", 5);
	expect_str(su, VG_X_ENV, NULL);
	expect_exe_stat(su, "/usr/bin/su", 0);
	assert_int_equal(su->h.flags, 0);
	free_recs(rs);
}

static void test_memfd_and_odd_comm(void **state)
{
	(void)state;
	struct recs *rs = scan_fake();
	const struct vg_rec *ev = find(rs, 500);
	assert_string_equal(ev->h.comm, "x) y");
	assert_int_equal(ev->h.ppid, 400);
	assert_int_equal(ev->h.uid, 0);
	assert_int_equal(ev->exec.ruid, 1000);
	/* stat parsing survives ") " inside the comm */
	assert_int_equal(ev->exec.pgid, 400);
	assert_int_equal(ev->exec.tty, 34816);
	assert_int_equal(ev->exec.start_ns, ticks_ns(7500));
	/* no NSpgid line: the pgid stands in */
	assert_int_equal(ev->exec.vpgid, 400);
	assert_int_equal(ev->exec.vpid, 500);
	expect_str(ev, VG_X_EXEPATH, "/memfd:payload");
	expect_str(ev, VG_X_CWD, "/tmp");
	expect_str(ev, VG_X_ENV, NULL); /* empty environ */
	expect_slot(ev, VG_X_ARGS, "./payload\0--flag", 17);
	assert_int_equal(ev->exec.exe_flags, VG_EXE_MEMFD);
	assert_int_equal(ev->exec.exe_ino, 0);
	free_recs(rs);
}

static void test_kernel_thread_and_init(void **state)
{
	(void)state;
	struct recs *rs = scan_fake();
	const struct vg_rec *kt = find(rs, 700);
	assert_int_equal(kt->h.ppid, 2);
	assert_string_equal(kt->h.comm, "kworker/0:1-eve"); /* from stat, cut to 15 */
	expect_str(kt, VG_X_ARGS, NULL);
	expect_str(kt, VG_X_ENV, NULL);
	expect_str(kt, VG_X_EXEPATH, NULL);
	expect_str(kt, VG_X_FILENAME, NULL);
	expect_str(kt, VG_X_CWD, "/");
	expect_str(kt, VG_X_CGROUP, "/");
	assert_int_equal(kt->h.cgroup_id, dir_ino("tests/data/sys/fs/cgroup"));
	assert_int_equal(kt->exec.exe_ino, 0);
	assert_int_equal(kt->exec.exe_flags, 0);
	assert_int_equal(kt->h.size, sizeof(struct vg_rec) + 2 + 2);

	const struct vg_rec *init = find(rs, 1);
	assert_int_equal(init->h.ppid, 0);
	assert_string_equal(init->h.comm, "systemd");
	expect_slot(init, VG_X_ARGS, "/sbin/init\0splash", 18);
	expect_slot(init, VG_X_ENV, "HOME=/\0TERM=linux", 18);
	expect_str(init, VG_X_CGROUP, "/init.scope");
	assert_int_equal(init->exec.cap_eff, FULLCAPS);
	assert_int_equal(init->exec.start_ns, ticks_ns(2));
	expect_exe_stat(init, "/usr/lib/systemd/systemd", 0);
	free_recs(rs);
}

static void test_errors(void **state)
{
	(void)state;
	struct recs *rs = calloc(1, sizeof(*rs));
	assert_int_equal(vg_procscan("tests/data/no-such-proc", collect, rs), -ENOENT);
	assert_int_equal(rs->n, 0);
	rs->stop_after = 2;
	assert_int_equal(vg_procscan("tests/data/proc", collect, rs), -EIO);
	assert_int_equal(rs->n, 2);
	free_recs(rs);
}

static void test_real_proc(void **state)
{
	(void)state;
	struct recs *rs = calloc(1, sizeof(*rs));
	int n = vg_procscan("/proc", collect, rs);
	assert_true(n > 1);
	assert_int_equal((size_t)n, rs->n);

	const struct vg_rec *me = find(rs, (uint32_t)getpid());
	char exe[PATH_MAX], cwd[PATH_MAX], comm[32];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(el > 0);
	exe[el] = '\0';
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	FILE *f = fopen("/proc/self/comm", "r");
	assert_non_null(fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';

	expect_str(me, VG_X_EXEPATH, exe);
	expect_str(me, VG_X_CWD, cwd);
	assert_string_equal(me->h.comm, comm);
	assert_int_equal(me->h.ppid, (uint32_t)getppid());
	assert_int_equal(me->h.uid, geteuid());
	assert_int_equal(me->exec.ruid, getuid());
	struct stat st;
	assert_int_equal(stat("/proc/self/exe", &st), 0);
	assert_int_equal(me->exec.exe_ino, st.st_ino);
	assert_true(me->exec.start_ns > 0 && me->exec.start_ns <= me->h.ts);
	size_t len;
	const char *args = slot(me, VG_X_ARGS, &len);
	assert_non_null(args);
	assert_non_null(strstr(args, "test_procscan"));

	/* every parent present in the scan comes before its children */
	for (size_t i = 0; i < rs->n; i++)
		for (size_t j = i + 1; j < rs->n; j++)
			if (rs->r[j]->h.pid == rs->r[i]->h.ppid)
				fail_msg("parent %u after child %u", rs->r[j]->h.pid,
					 rs->r[i]->h.pid);
	free_recs(rs);
}

/* A container that mounts the host's /proc at /host/proc must give the BPF
 * side its host pid: the pid of "self" in that procfs, not getpid(). */
static void test_self(void **state)
{
	(void)state;
	assert_int_equal(vg_procscan_self("/proc"), (uint32_t)getpid());
	assert_int_equal(vg_procscan_self("tests/data/no-such-proc"), 0);
	char dir[] = "/tmp/vigil-procself-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char link[PATH_MAX];
	snprintf(link, sizeof(link), "%s/self", dir);
	assert_int_equal(symlink("4242", link), 0);
	assert_int_equal(vg_procscan_self(dir), 4242);
	unlink(link);
	assert_int_equal(symlink("notapid", link), 0);
	assert_int_equal(vg_procscan_self(dir), 0);
	unlink(link);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_skips),
		cmocka_unit_test(test_container_process),
		cmocka_unit_test(test_host_shell),
		cmocka_unit_test(test_memfd_and_odd_comm),
		cmocka_unit_test(test_kernel_thread_and_init),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_real_proc),
		cmocka_unit_test(test_self),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
