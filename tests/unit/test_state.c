/* Unit tests of the state module (agent/state/state.c, fdtab.c, agent/event/evtype.c):
 * hand-built raw records in, tables and decoded events checked. */
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
#include "recbuild.h"
#include "state.h"

#define AT_FDCWD_U32 ((uint64_t)(uint32_t)-100)

static struct rb B;
static struct vg_event EV;

static struct vg_state *new_state(size_t max_procs, size_t max_fds)
{
	struct vg_state_opts o = {
		.max_procs = max_procs,
		.max_fds = max_fds,
		.ts_is_wall = true,
		.hostname = "node-1",
		.etc_root = "tests/unit/etc",
	};
	struct vg_state *st = vg_state_new(&o);
	assert_non_null(st);
	return st;
}

static int apply(struct vg_state *st)
{
	return vg_state_apply(st, &B.r, rb_size(&B), &EV);
}

static void must_apply(struct vg_state *st)
{
	assert_int_equal(apply(st), 0);
}

/* An exec record: pid runs exepath with argv in cwd. */
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
	B.r.exec.start_ns = B.ts * 1000;
}

static void fork_rec(uint32_t parent, uint32_t grandparent, const char *comm, uint32_t child)
{
	rb_init(&B, VG_K_FORK, VG_NR_clone, parent, grandparent, comm);
	B.r.fork.child_pid = child;
	B.r.fork.child_tid = child;
	B.r.fork.child_vpid = child;
	B.r.fork.start_ns = B.ts * 1000;
}

static void seed_init(struct vg_state *st)
{
	static const char *const argv[] = {"/sbin/init", "splash", NULL};
	exec_rec(1, 0, "systemd", "/usr/lib/systemd/systemd", argv, "/");
	B.r.h.kind = VG_K_PROC;
	must_apply(st);
	assert_int_equal(EV.type, VG_T_PROCSNAP);
	assert_true(EV.proc->seeded);
}

/* open(path) by pid with ret; flags in arg 1 */
static void open_rec(uint32_t pid, const char *path, uint64_t flags, int64_t ret)
{
	rb_sys(&B, VG_NR_open, pid, ret);
	B.r.arg[1] = flags;
	rb_str(&B, VG_S_PATH0, path);
}

/* ------------------------------------------------------------------ */

static void test_evtypes(void **unused)
{
	(void)unused;
	assert_string_equal(vg_evtype_name(VG_NR_openat), "openat");
	assert_string_equal(vg_evtype_name(VG_NR_execve), "execve");
	assert_string_equal(vg_evtype_name(VG_T_PROCEXIT), "procexit");
	assert_string_equal(vg_evtype_name(VG_T_PROCFORK), "procfork");
	assert_string_equal(vg_evtype_name(VG_T_PROCSNAP), "procsnap");
	assert_null(vg_evtype_name(1)); /* write: not a vigil syscall */
	assert_null(vg_evtype_name(-1));
	assert_null(vg_evtype_name(VG_T_MAX));
	assert_int_equal(vg_evtype_by_name("connect"), 42);
	assert_int_equal(vg_evtype_by_name("procexit"), VG_T_PROCEXIT);
	assert_int_equal(vg_evtype_by_name("read"), -1);
	assert_int_equal(vg_evtype_by_name(NULL), -1);
	const struct vg_sc_desc *d = vg_syscall_desc(VG_NR_renameat2);
	assert_non_null(d);
	assert_int_equal(d->cat, VG_CAT_FILE);
	assert_int_equal(d->p0, 1);
	assert_int_equal(d->d0, 0);
	assert_int_equal(d->p1, 3);
	assert_int_equal(d->d1, 2);
	assert_null(vg_syscall_desc(0)); /* read */
	assert_null(vg_syscall_desc(VG_NR_MAX));
	assert_int_equal(vg_evtype_cat(VG_NR_connect), VG_CAT_NET);
	assert_int_equal(vg_evtype_cat(VG_T_PROCEXIT), VG_CAT_PROC);
	assert_int_equal(vg_evtype_cat(0), VG_CAT_NONE);
	/* all 41 syscalls of the Falco rules and the state ones are known */
	static const char *const names[] = {
		"accept",    "accept4",	     "bpf",	    "chmod",	"connect",    "creat",
		"dup",	     "dup2",	     "dup3",	    "execve",	"execveat",   "fchmod",
		"fchmodat",  "finit_module", "init_module", "link",	"linkat",     "listen",
		"mkdir",     "mkdirat",	     "open",	    "openat",	"openat2",    "ptrace",
		"recvfrom",  "recvmsg",	     "rename",	    "renameat", "renameat2",  "rmdir",
		"sendmsg",   "sendto",	     "setns",	    "setuid",	"socket",     "symlink",
		"symlinkat", "unlink",	     "unlinkat",    "unshare",	"userfaultfd"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int t = vg_evtype_by_name(names[i]);
		assert_true(t >= 0 && t < VG_NR_MAX);
		assert_string_equal(vg_evtype_name(t), names[i]);
	}
}

static void test_exec_chain(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	seed_init(st);
	/* nine nested shells: 100 (sh1) .. 108 (sh9) */
	uint32_t parent = 1, grandparent = 0;
	const char *pcomm = "systemd";
	char comm[16];
	for (int i = 0; i < 9; i++) {
		uint32_t pid = 100 + (uint32_t)i;
		fork_rec(parent, grandparent, pcomm, pid);
		must_apply(st);
		assert_int_equal(EV.type, VG_T_PROCFORK);
		assert_int_equal(EV.proc->pid, pid);
		assert_int_equal(EV.proc->ppid, parent);
		snprintf(comm, sizeof(comm), "sh%d", i + 1);
		static const char *const argv[] = {"sh", "-i", NULL};
		exec_rec(pid, parent, comm, "/bin/sh", argv, NULL);
		must_apply(st);
		assert_int_equal(EV.type, VG_NR_execve);
		assert_string_equal(EV.name, "execve");
		grandparent = parent;
		parent = pid;
		pcomm = EV.proc->comm;
	}
	struct vg_proc *p = vg_state_proc(st, 108);
	assert_non_null(p);
	assert_string_equal(p->comm, "sh9");
	for (int n = 1; n <= 8; n++) {
		struct vg_proc *a = vg_state_ancestor(st, p, n);
		assert_non_null(a);
		snprintf(comm, sizeof(comm), "sh%d", 9 - n);
		assert_string_equal(a->comm, comm);
		assert_int_equal(a->pid, 108 - n);
	}
	struct vg_proc *top = vg_state_ancestor(st, p, 9);
	assert_non_null(top);
	assert_string_equal(top->comm, "systemd");
	assert_int_equal(top->pid, 1);
	assert_null(vg_state_ancestor(st, p, 10));
	assert_null(vg_state_ancestor(st, p, 0));
	/* cwd inherited through the forks from init */
	assert_string_equal(p->cwd, "/");
	struct vg_state_stats s;
	vg_state_get_stats(st, &s);
	assert_int_equal(s.procs, 10);
	vg_state_free(st);
}

static void test_ancestor_loop(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	/* 200's parent is 201 and 201's parent is 200 (stale pids) */
	rb_sys(&B, VG_NR_kill, 200, 0);
	B.r.h.ppid = 201;
	must_apply(st);
	rb_sys(&B, VG_NR_kill, 201, 0);
	B.r.h.ppid = 200;
	must_apply(st);
	struct vg_proc *p = vg_state_proc(st, 200);
	assert_non_null(vg_state_ancestor(st, p, 1));
	assert_null(vg_state_ancestor(st, p, 2));
	assert_null(vg_state_ancestor(st, p, 40));
	vg_state_free(st);
}

static void test_exec_description(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	seed_init(st);
	static const char *const argv[] = {"bash", "-c", "ls -l /", NULL};
	static const char *const env[] = {"HOME=/root", "PATH=/bin:/usr/bin", NULL};
	exec_rec(300, 1, "bash", "/usr/bin/bash", argv, "/home/u/");
	rb_list(&B, VG_X_ENV, env);
	rb_str(&B, VG_X_CGROUP, "/system.slice/ssh.service");
	B.r.h.uid = 1000;
	B.r.h.gid = 1000;
	B.r.h.loginuid = 1000;
	B.r.exec.cap_eff = 1ull << 21;
	B.r.exec.tty = 34816;
	B.r.exec.exe_flags = VG_EXE_UPPER;
	B.r.exec.vpid = 7;
	must_apply(st);
	const struct vg_proc *p = EV.proc;
	assert_string_equal(p->exe, "bash");
	assert_string_equal(p->exepath, "/usr/bin/bash");
	assert_string_equal(p->args, "-c ls -l /");
	assert_string_equal(p->cmdline, "bash -c ls -l /");
	assert_string_equal(p->cwd, "/home/u");
	assert_int_equal(p->argv_len, strlen("bash") + strlen("-c") + strlen("ls -l /") + 2);
	assert_int_equal(p->env_len, strlen("HOME=/root") + 1 + strlen("PATH=/bin:/usr/bin"));
	assert_memory_equal(p->env, "HOME=/root\0PATH=/bin:/usr/bin", p->env_len);
	assert_string_equal(p->cgroup, "/system.slice/ssh.service");
	assert_int_equal(p->uid, 1000);
	assert_int_equal(p->loginuid, 1000);
	assert_int_equal(p->cap_eff, 1ull << 21);
	assert_int_equal(p->tty, 34816);
	assert_int_equal(p->vpid, 7);
	assert_int_equal(p->exe_flags, VG_EXE_UPPER);
	assert_true(p->known & VG_PK_EXEC);
	assert_false(p->seeded);
	assert_string_equal(EV.path, "/usr/bin/bash");
	assert_int_equal(EV.ts, B.r.h.ts); /* ts_is_wall */

	/* comm changes (prctl PR_SET_NAME) rebuild the command line */
	rb_sys(&B, VG_NR_prctl, 300, 0);
	strcpy(B.r.h.comm, "worker");
	B.r.h.uid = 1000;
	B.r.h.gid = 1000;
	B.r.h.loginuid = 1000;
	must_apply(st);
	assert_string_equal(EV.proc->cmdline, "worker -c ls -l /");

	/* environment is bounded, whole variables only */
	struct vg_state_opts o = {.max_env = 12, .ts_is_wall = true};
	struct vg_state *st2 = vg_state_new(&o);
	exec_rec(300, 1, "bash", "/usr/bin/bash", argv, "/");
	rb_list(&B, VG_X_ENV, env);
	assert_int_equal(vg_state_apply(st2, &B.r, rb_size(&B), &EV), 0);
	assert_int_equal(EV.proc->env_len, strlen("HOME=/root"));
	vg_state_free(st2);
	vg_state_free(st);
}

static void test_paths(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	static const char *const argv[] = {"app", NULL};
	exec_rec(400, 1, "app", "/app/bin", argv, "/srv/www");
	must_apply(st);

	/* openat relative to a dirfd: BASE0 holds the dirfd's path */
	rb_sys(&B, VG_NR_openat, 400, 3);
	B.r.arg[0] = 7;
	rb_str(&B, VG_S_PATH0, "conf/../secret/./key");
	rb_str(&B, VG_S_BASE0, "/etc/app/");
	must_apply(st);
	assert_string_equal(EV.path, "/etc/app/secret/key");
	assert_int_equal(EV.fd, 3);
	assert_non_null(EV.fdi);
	assert_string_equal(EV.fdi->name, "/etc/app/secret/key");

	/* relative open without a base: against the process cwd */
	open_rec(400, "../../etc//shadow", 0, 4);
	must_apply(st);
	assert_string_equal(EV.path, "/etc/shadow");

	/* ".." never climbs above / */
	open_rec(400, "/../../a/b/../../../c/.", 0, -ENOENT);
	must_apply(st);
	assert_string_equal(EV.path, "/c");

	/* chdir with the new cwd captured, then a relative path */
	rb_sys(&B, VG_NR_chdir, 400, 0);
	rb_str(&B, VG_S_PATH0, "tmp");
	rb_str(&B, VG_S_CWD, "/var/tmp");
	must_apply(st);
	assert_string_equal(EV.path, "/srv/www/tmp");
	assert_string_equal(EV.proc->cwd, "/var/tmp");
	open_rec(400, "x", 0, 5);
	must_apply(st);
	assert_string_equal(EV.path, "/var/tmp/x");

	/* chdir without a captured cwd: the resolved path */
	rb_sys(&B, VG_NR_chdir, 400, 0);
	rb_str(&B, VG_S_PATH0, "../log/");
	must_apply(st);
	assert_string_equal(EV.proc->cwd, "/var/log");

	/* a failed chdir changes nothing */
	rb_sys(&B, VG_NR_chdir, 400, -ENOENT);
	rb_str(&B, VG_S_PATH0, "/nowhere");
	must_apply(st);
	assert_string_equal(EV.proc->cwd, "/var/log");

	/* fchdir to an O_DIRECTORY fd */
	open_rec(400, "/opt/data", 0200000, 9);
	must_apply(st);
	assert_int_equal(EV.fdi->type, VG_FD_DIR);
	assert_int_equal(EV.fdi->typechar, 'd');
	rb_sys(&B, VG_NR_fchdir, 400, 0);
	B.r.arg[0] = 9;
	must_apply(st);
	assert_string_equal(EV.proc->cwd, "/opt/data");

	/* rename with both paths resolved, mount source kept raw */
	rb_sys(&B, VG_NR_renameat2, 400, 0);
	rb_str(&B, VG_S_PATH0, "a");
	rb_str(&B, VG_S_BASE0, "/x");
	rb_str(&B, VG_S_PATH1, "../b");
	must_apply(st);
	assert_string_equal(EV.path, "/x/a");
	assert_string_equal(EV.path2, "/opt/b");
	rb_sys(&B, VG_NR_mount, 400, 0);
	rb_str(&B, VG_S_PATH0, "mnt");
	rb_str(&B, VG_S_PATH1, "overlay");
	must_apply(st);
	assert_string_equal(EV.path, "/opt/data/mnt");
	assert_string_equal(EV.path2, "overlay");
	vg_state_free(st);
}

static void test_relative_without_cwd(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	/* nothing is known about pid 500: the path stays relative */
	open_rec(500, "./a/../b", 0, 3);
	must_apply(st);
	assert_string_equal(EV.path, "b");
	open_rec(500, "../../b", 0, 3);
	must_apply(st);
	assert_string_equal(EV.path, "../../b");
	open_rec(500, ".", 0, 3);
	must_apply(st);
	assert_string_equal(EV.path, ".");
	vg_state_free(st);
}

static void test_fd_table(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	static const char *const argv[] = {"nc", NULL};
	exec_rec(600, 1, "nc", "/bin/nc", argv, "/");
	must_apply(st);
	const struct vg_proc *p = EV.proc;

	open_rec(600, "/etc/hosts", 02 | 02000000 /* O_RDWR|O_CLOEXEC */, 3);
	must_apply(st);
	const struct vg_fd *f = vg_state_fd(st, p, 3);
	assert_non_null(f);
	assert_int_equal(f->type, VG_FD_FILE);
	assert_int_equal(f->typechar, 'f');
	assert_string_equal(f->name, "/etc/hosts");

	/* failed open: fd -1 describing the file */
	open_rec(600, "/etc/shadow", 0, -EACCES);
	must_apply(st);
	assert_int_equal(EV.fd, -1);
	assert_non_null(EV.fdi);
	assert_int_equal(EV.fdi->fd, -1);
	assert_int_equal(EV.fdi->typechar, 'f');
	assert_string_equal(EV.fdi->name, "/etc/shadow");
	assert_null(vg_state_fd(st, p, -1));

	/* dup2 copies (without O_CLOEXEC) */
	rb_sys(&B, VG_NR_dup2, 600, 10);
	B.r.arg[0] = 3;
	B.r.arg[1] = 10;
	must_apply(st);
	assert_int_equal(EV.fd, 3);
	f = vg_state_fd(st, p, 10);
	assert_non_null(f);
	assert_string_equal(f->name, "/etc/hosts");
	assert_int_equal(f->flags & 02000000, 0);

	/* dup: the new fd is the return value */
	rb_sys(&B, VG_NR_dup, 600, 11);
	B.r.arg[0] = 10;
	must_apply(st);
	assert_non_null(vg_state_fd(st, p, 11));

	/* close removes, but the close event still describes the fd */
	rb_sys(&B, VG_NR_close, 600, 0);
	B.r.arg[0] = 10;
	must_apply(st);
	assert_int_equal(EV.fd, 10);
	assert_non_null(EV.fdi);
	assert_string_equal(EV.fdi->name, "/etc/hosts");
	assert_null(vg_state_fd(st, p, 10));
	/* a failed close keeps it */
	rb_sys(&B, VG_NR_close, 600, -EBADF);
	B.r.arg[0] = 11;
	must_apply(st);
	assert_non_null(vg_state_fd(st, p, 11));

	/* pipe2: two 'p' */
	rb_sys(&B, VG_NR_pipe2, 600, 0);
	B.r.h.flags = VG_F_FDPAIR;
	B.r.aux[0] = 4;
	B.r.aux[1] = 5;
	must_apply(st);
	assert_int_equal(vg_state_fd(st, p, 4)->typechar, 'p');
	assert_int_equal(vg_state_fd(st, p, 5)->type, VG_FD_PIPE);

	/* socketpair: two 'u' */
	rb_sys(&B, VG_NR_socketpair, 600, 0);
	B.r.arg[0] = 1;
	B.r.arg[1] = 1;
	B.r.h.flags = VG_F_FDPAIR;
	B.r.aux[0] = 6;
	B.r.aux[1] = 7;
	must_apply(st);
	assert_int_equal(vg_state_fd(st, p, 6)->typechar, 'u');
	assert_int_equal(vg_state_fd(st, p, 7)->typechar, 'u');

	/* memfd_create */
	rb_sys(&B, VG_NR_memfd_create, 600, 8);
	rb_str(&B, VG_S_XSTR, "payload");
	must_apply(st);
	f = vg_state_fd(st, p, 8);
	assert_string_equal(f->name, "memfd:payload");
	assert_int_equal(f->type, VG_FD_MEMFD);

	/* socket + connect: Falco's tuple rendering, client first */
	rb_sys(&B, VG_NR_socket, 600, 12);
	B.r.arg[0] = 2; /* AF_INET */
	B.r.arg[1] = 1; /* SOCK_STREAM */
	must_apply(st);
	f = vg_state_fd(st, p, 12);
	assert_int_equal(f->typechar, '4');
	assert_int_equal(f->sock.proto, 6);
	assert_string_equal(f->name, "");
	rb_sys(&B, VG_NR_connect, 600, -115 /* EINPROGRESS */);
	B.r.arg[0] = 12;
	rb_sock4(&B, 1, 6, "10.0.0.1", 3456, "10.0.0.2", 80);
	must_apply(st);
	assert_ptr_equal(EV.fdi, vg_state_fd(st, p, 12));
	assert_string_equal(EV.fdi->name, "10.0.0.1:3456->10.0.0.2:80");
	assert_true(EV.fdi->connected);
	assert_false(EV.fdi->is_server);
	assert_int_equal(EV.fdi->name_num, EV.num);

	/* accept: the new fd, server side; the client comes first */
	rb_sys(&B, VG_NR_accept4, 600, 13);
	B.r.arg[0] = 12;
	rb_sock4(&B, 1, 6, "10.0.0.5", 8080, "192.168.1.9", 51000);
	must_apply(st);
	assert_int_equal(EV.fd, 13);
	assert_string_equal(EV.fdi->name, "192.168.1.9:51000->10.0.0.5:8080");
	assert_true(EV.fdi->is_server);

	/* IPv4-mapped IPv6 peers are IPv4 */
	rb_sys(&B, VG_NR_connect, 600, 0);
	B.r.arg[0] = 14;
	rb_sock4(&B, 1, 6, "0.0.0.0", 0, "0.0.0.0", 0);
	B.r.sock.family = 10;
	uint8_t m1[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	uint8_t m2[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
	memcpy(B.r.sock.laddr, m1, 16);
	memcpy(B.r.sock.raddr, m2, 16);
	B.r.sock.lport = 40000;
	B.r.sock.rport = 443;
	must_apply(st);
	assert_int_equal(EV.fdi->typechar, '4');
	assert_string_equal(EV.fdi->name, "127.0.0.1:40000->1.2.3.4:443");

	/* IPv6 */
	rb_sys(&B, VG_NR_connect, 600, 0);
	B.r.arg[0] = 15;
	rb_sock4(&B, 1, 6, "0.0.0.0", 0, "0.0.0.0", 0);
	B.r.sock.family = 10;
	uint8_t l6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	uint8_t r6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
	memcpy(B.r.sock.laddr, l6, 16);
	memcpy(B.r.sock.raddr, r6, 16);
	B.r.sock.lport = 5000;
	B.r.sock.rport = 80;
	must_apply(st);
	assert_int_equal(EV.fdi->typechar, '6');
	assert_string_equal(EV.fdi->name, "2001:db8::1:5000->2001:db8::2:80");

	/* unix connect names the fd by its path */
	rb_sys(&B, VG_NR_connect, 600, 0);
	B.r.arg[0] = 16;
	B.r.h.flags = VG_F_SOCK;
	B.r.sock.family = 1;
	rb_str(&B, VG_S_CWD, "/run/docker.sock");
	must_apply(st);
	assert_int_equal(EV.fdi->typechar, 'u');
	assert_string_equal(EV.fdi->name, "/run/docker.sock");

	/* fork copies the table; exec drops O_CLOEXEC fds */
	fork_rec(600, 1, "nc", 601);
	must_apply(st);
	const struct vg_proc *c = EV.proc;
	assert_string_equal(vg_state_fd(st, c, 3)->name, "/etc/hosts");
	assert_string_equal(vg_state_fd(st, c, 12)->name, "10.0.0.1:3456->10.0.0.2:80");
	exec_rec(601, 600, "cat", "/bin/cat", argv, NULL);
	must_apply(st);
	assert_null(vg_state_fd(st, c, 3));
	assert_non_null(vg_state_fd(st, c, 11));
	/* the parent's table is untouched */
	assert_non_null(vg_state_fd(st, p, 3));
	vg_state_free(st);
}

static void test_udp_name_changed(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	rb_sys(&B, VG_NR_socket, 700, 3);
	B.r.arg[0] = 2;
	B.r.arg[1] = 2; /* SOCK_DGRAM */
	must_apply(st);
	assert_int_equal(EV.fdi->sock.proto, 17);
	rb_sys(&B, VG_NR_sendto, 700, 10);
	B.r.arg[0] = 3;
	rb_sock4(&B, 2, 17, "10.0.0.1", 5353, "8.8.8.8", 53);
	must_apply(st);
	assert_int_equal(EV.fdi->name_num, EV.num); /* new peer */
	assert_string_equal(EV.fdi->name, "10.0.0.1:5353->8.8.8.8:53");
	assert_false(EV.fdi->connected);
	rb_sys(&B, VG_NR_sendto, 700, 10);
	B.r.arg[0] = 3;
	rb_sock4(&B, 2, 17, "10.0.0.1", 5353, "8.8.8.8", 53);
	must_apply(st);
	assert_true(EV.fdi->name_num < EV.num); /* same peer */
	rb_sys(&B, VG_NR_sendto, 700, 10);
	B.r.arg[0] = 3;
	rb_sock4(&B, 2, 17, "10.0.0.1", 5353, "1.1.1.1", 53);
	must_apply(st);
	assert_int_equal(EV.fdi->name_num, EV.num);
	vg_state_free(st);
}

static void test_fd_eviction(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 4);
	for (int fd = 3; fd < 9; fd++) {
		char path[32];
		snprintf(path, sizeof(path), "/tmp/f%d", fd);
		open_rec(800, path, 0, fd);
		must_apply(st);
	}
	struct vg_state_stats s;
	vg_state_get_stats(st, &s);
	assert_int_equal(s.fd_evictions, 2);
	const struct vg_proc *p = vg_state_proc(st, 800);
	assert_null(vg_state_fd(st, p, 3)); /* the oldest went first */
	assert_null(vg_state_fd(st, p, 4));
	for (int fd = 5; fd < 9; fd++)
		assert_non_null(vg_state_fd(st, p, fd));
	vg_state_free(st);
}

static void test_proc_eviction(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(16, 0);
	for (uint32_t pid = 1000; pid < 1020; pid++) {
		rb_sys(&B, VG_NR_kill, pid, 0);
		must_apply(st);
	}
	struct vg_state_stats s;
	vg_state_get_stats(st, &s);
	assert_int_equal(s.procs, 16);
	assert_int_equal(s.proc_evictions, 4);
	for (uint32_t pid = 1000; pid < 1004; pid++)
		assert_null(vg_state_proc(st, pid));
	/* a used entry becomes the most recent: 1004 survives the next one */
	rb_sys(&B, VG_NR_kill, 1004, 0);
	must_apply(st);
	rb_sys(&B, VG_NR_kill, 1100, 0);
	must_apply(st);
	assert_non_null(vg_state_proc(st, 1004));
	assert_null(vg_state_proc(st, 1005));
	vg_state_get_stats(st, &s);
	assert_int_equal(s.proc_evictions, 5);
	vg_state_free(st);
}

static void test_exit(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	seed_init(st);
	fork_rec(1, 0, "systemd", 900);
	must_apply(st);
	fork_rec(900, 1, "systemd", 901);
	must_apply(st);
	rb_init(&B, VG_K_EXIT, 0, 900, 1, "systemd");
	B.r.h.ret = 3;
	must_apply(st);
	assert_int_equal(EV.type, VG_T_PROCEXIT);
	assert_string_equal(EV.name, "procexit");
	assert_int_equal(EV.proc->pid, 900); /* readable for this event */
	assert_null(vg_state_proc(st, 900)); /* but no longer tracked */
	struct vg_state_stats s;
	vg_state_get_stats(st, &s);
	assert_int_equal(s.procs, 2);
	struct vg_proc *c = vg_state_proc(st, 901);
	assert_int_equal(c->ppid, 900);		  /* children keep their ppid */
	assert_null(vg_state_ancestor(st, c, 1)); /* and the chain ends */
	/* the kernel reparents the orphan: its next event says so */
	rb_sys(&B, VG_NR_kill, 901, 0);
	B.r.h.ppid = 1;
	must_apply(st);
	assert_int_equal(EV.proc->ppid, 1);
	assert_string_equal(vg_state_ancestor(st, EV.proc, 1)->comm, "systemd");
	vg_state_free(st);
}

static void test_missed_fork(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	static const char *const argv[] = {"nginx", "-g", "daemon off;", NULL};
	exec_rec(1200, 1, "nginx", "/usr/sbin/nginx", argv, "/srv");
	must_apply(st);
	rb_sys(&B, VG_NR_socket, 1200, 6);
	B.r.arg[0] = 2;
	B.r.arg[1] = 1;
	strcpy(B.r.h.comm, "nginx");
	must_apply(st);
	/* a worker seen without its fork: same comm, so the same program */
	rb_sys(&B, VG_NR_kill, 1201, 0);
	B.r.h.ppid = 1200;
	strcpy(B.r.h.comm, "nginx");
	must_apply(st);
	assert_string_equal(EV.proc->exepath, "/usr/sbin/nginx");
	assert_string_equal(EV.proc->cmdline, "nginx -g daemon off;");
	assert_string_equal(EV.proc->cwd, "/srv");
	assert_false(EV.proc->known & VG_PK_START);
	/* and its fds, as a fork would */
	assert_non_null(vg_state_fd(st, EV.proc, 6));
	/* another comm: it exec'd something we did not see; only cwd */
	rb_sys(&B, VG_NR_kill, 1202, 0);
	B.r.h.ppid = 1200;
	strcpy(B.r.h.comm, "curl");
	must_apply(st);
	assert_null(EV.proc->exepath);
	assert_null(EV.proc->cmdline);
	assert_null(vg_state_fd(st, EV.proc, 6));
	assert_string_equal(EV.proc->cwd, "/srv");
	assert_false(EV.proc->known & VG_PK_EXEC);
	vg_state_free(st);
}

static void test_clone_fallback(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	static const char *const argv[] = {"bash", NULL};
	exec_rec(1300, 1, "bash", "/bin/bash", argv, "/root");
	must_apply(st);
	/* the fork record was lost; the parent's clone names the child */
	rb_sys(&B, VG_NR_clone, 1300, 1301);
	strcpy(B.r.h.comm, "bash");
	must_apply(st);
	struct vg_proc *c = vg_state_proc(st, 1301);
	assert_non_null(c);
	assert_int_equal(c->ppid, 1300);
	assert_string_equal(c->exepath, "/bin/bash");
	/* a thread is not a process */
	rb_sys(&B, VG_NR_clone, 1300, 1302);
	B.r.arg[0] = 0x10000; /* CLONE_THREAD */
	strcpy(B.r.h.comm, "bash");
	must_apply(st);
	assert_null(vg_state_proc(st, 1302));
	vg_state_free(st);
}

static void test_setuid(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	rb_sys(&B, VG_NR_setresuid, 1400, 0);
	B.r.h.uid = 0;
	B.r.arg[0] = (uint32_t)-1;
	B.r.arg[1] = 33;
	B.r.arg[2] = (uint32_t)-1;
	must_apply(st);
	assert_int_equal(EV.proc->uid, 33);
	rb_sys(&B, VG_NR_setgid, 1400, -EPERM);
	B.r.h.uid = 33;
	B.r.arg[0] = 0;
	must_apply(st);
	assert_int_equal(EV.proc->gid, 0); /* from the header; the failed call changes nothing */
	rb_sys(&B, VG_NR_setgid, 1400, 0);
	B.r.h.uid = 33;
	B.r.arg[0] = 44;
	must_apply(st);
	assert_int_equal(EV.proc->gid, 44);
	vg_state_free(st);
}

static void test_timestamps(void **unused)
{
	(void)unused;
	struct vg_state_opts o = {0};
	struct vg_state *st = vg_state_new(&o);
	struct timespec bt, rt;
	clock_gettime(CLOCK_BOOTTIME, &bt);
	clock_gettime(CLOCK_REALTIME, &rt);
	rb_sys(&B, VG_NR_kill, 1500, 0);
	B.r.h.ts = (uint64_t)bt.tv_sec * 1000000000u + (uint64_t)bt.tv_nsec;
	assert_int_equal(vg_state_apply(st, &B.r, rb_size(&B), &EV), 0);
	uint64_t now = (uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec;
	uint64_t diff = EV.ts > now ? EV.ts - now : now - EV.ts;
	assert_true(diff < 1000000000u); /* boottime converted to wall clock */
	uint64_t n1 = EV.num;
	rb_sys(&B, VG_NR_kill, 1500, 0);
	assert_int_equal(vg_state_apply(st, &B.r, rb_size(&B), &EV), 0);
	assert_int_equal(EV.num, n1 + 1);
	vg_state_free(st);
}

static void test_malformed(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	static const char *const argv[] = {"sh", NULL};
	exec_rec(1600, 1, "sh", "/bin/sh", argv, "/home");
	must_apply(st);
	uint64_t num = EV.num;
	struct vg_state_stats s0, s1;
	vg_state_get_stats(st, &s0);
	size_t n;
	int bad = 0;

#define EXPECT_BAD(size_expr)                                                                      \
	do {                                                                                       \
		size_t sz_ = (size_expr);                                                          \
		assert_int_equal(vg_state_apply(st, &B.r, sz_, &EV), -EINVAL);                     \
		bad++;                                                                             \
	} while (0)

	/* shorter than the fixed part */
	rb_sys(&B, VG_NR_chdir, 1600, 0);
	rb_str(&B, VG_S_CWD, "/tmp");
	n = rb_size(&B);
	EXPECT_BAD(sizeof(struct vg_hdr));
	assert_int_equal(vg_state_apply(st, NULL, n, &EV), -EINVAL);
	bad++;
	/* h.size beyond the bytes given */
	EXPECT_BAD(n - 1);
	/* h.size below the fixed part */
	n = rb_size(&B);
	B.r.h.size = 8;
	EXPECT_BAD(n);
	/* unknown kind */
	n = rb_size(&B);
	B.r.h.kind = 9;
	EXPECT_BAD(n);
	/* unknown syscall */
	rb_sys(&B, 0 /* read */, 1600, 0);
	EXPECT_BAD(rb_size(&B));
	/* pid 0 */
	rb_sys(&B, VG_NR_chdir, 0, 0);
	EXPECT_BAD(rb_size(&B));
	/* string without its NUL */
	rb_sys(&B, VG_NR_chdir, 1600, 0);
	rb_str(&B, VG_S_CWD, "/tmp");
	n = rb_size(&B);
	B.r.data[4] = 'x';
	EXPECT_BAD(n);
	/* string lengths past the record */
	rb_sys(&B, VG_NR_chdir, 1600, 0);
	rb_str(&B, VG_S_CWD, "/tmp");
	n = rb_size(&B);
	B.r.len[VG_S_CWD] = 200;
	EXPECT_BAD(n);
	/* a string longer than a slot */
	rb_sys(&B, VG_NR_chdir, 1600, 0);
	n = rb_size(&B);
	B.r.len[0] = VG_STR_MAX + 1;
	EXPECT_BAD(n);
	/* an embedded NUL in a one-string slot */
	rb_sys(&B, VG_NR_chdir, 1600, 0);
	rb_str(&B, VG_S_CWD, "/tmp/abc");
	n = rb_size(&B);
	B.r.data[4] = '\0';
	EXPECT_BAD(n);
	/* bytes after the strings that are not padding */
	rb_sys(&B, VG_NR_chdir, 1600, 0);
	rb_str(&B, VG_S_CWD, "/tmp");
	n = rb_size(&B);
	B.r.h.size += 16;
	EXPECT_BAD(n + 16);
	/* exec record with a syscall number that is not an exec */
	exec_rec(1600, 1, "sh", "/bin/sh", argv, "/tmp");
	B.r.h.nr = VG_NR_open;
	EXPECT_BAD(rb_size(&B));
	/* fork of itself */
	fork_rec(1600, 1, "sh", 1600);
	EXPECT_BAD(rb_size(&B));

	vg_state_get_stats(st, &s1);
	assert_int_equal(s1.bad_records, s0.bad_records + (uint64_t)bad);
	assert_int_equal(s1.procs, s0.procs);
	const struct vg_proc *p = vg_state_proc(st, 1600);
	assert_string_equal(p->cwd, "/home"); /* none of the chdirs applied */
	assert_string_equal(p->exepath, "/bin/sh");

	/* up to 7 bytes of padding are fine, and the sequence went on */
	rb_sys(&B, VG_NR_chdir, 1600, 0);
	rb_str(&B, VG_S_CWD, "/tmp");
	n = rb_size(&B);
	B.r.h.size += 4;
	assert_int_equal(vg_state_apply(st, &B.r, n + 4, &EV), 0);
	assert_int_equal(EV.num, num + 1);
	assert_string_equal(EV.proc->cwd, "/tmp");
	vg_state_free(st);
}

#define CID "4b9a3d9c1f0e8d7c6b5a49382716a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8"

static void test_containers(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	static const char *const argv[] = {"sh", NULL};

	/* the exec record's cgroup path names the container */
	exec_rec(1700, 1, "sh", "/bin/sh", argv, "/");
	rb_str(&B, VG_X_CGROUP,
	       "/kubepods/besteffort/pod0d2f5b8e-7f5a-4c1e-9d1b-3c2a1f0e9b8a/" CID);
	B.r.h.cgroup_id = 777;
	must_apply(st);
	assert_string_equal(EV.proc->container_id, "4b9a3d9c1f0e");
	exec_rec(1800, 1, "sshd", "/usr/sbin/sshd", argv, "/");
	rb_str(&B, VG_X_CGROUP, "/system.slice/ssh.service");
	B.r.h.cgroup_id = 5;
	must_apply(st);
	assert_string_equal(EV.proc->container_id, "host");

	/* children inherit it */
	fork_rec(1700, 1, "sh", 1701);
	B.r.h.cgroup_id = 777;
	must_apply(st);
	assert_string_equal(EV.proc->container_id, "4b9a3d9c1f0e");

	/* a process never seen before, in a cgroup seen before */
	rb_sys(&B, VG_NR_kill, 1900, 0);
	B.r.h.cgroup_id = 777;
	must_apply(st);
	assert_string_equal(EV.proc->container_id, "4b9a3d9c1f0e");
	/* in an unknown cgroup, with no parent known: unknown */
	rb_sys(&B, VG_NR_kill, 1901, 0);
	B.r.h.cgroup_id = 778;
	must_apply(st);
	assert_string_equal(EV.proc->container_id, "");

	/* a host process moved into the container's cgroup (runc exec) */
	rb_sys(&B, VG_NR_kill, 1800, 0);
	B.r.h.cgroup_id = 777;
	strcpy(B.r.h.comm, "sshd");
	must_apply(st);
	assert_string_equal(EV.proc->container_id, "4b9a3d9c1f0e");
	/* and back */
	rb_sys(&B, VG_NR_kill, 1800, 0);
	B.r.h.cgroup_id = 5;
	strcpy(B.r.h.comm, "sshd");
	must_apply(st);
	assert_string_equal(EV.proc->container_id, "host");
	vg_state_free(st);
}

static void test_user_names(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	rb_sys(&B, VG_NR_kill, 2000, 0);
	B.r.h.uid = 1000;
	B.r.h.gid = 33;
	B.r.h.loginuid = 0;
	must_apply(st);
	assert_string_equal(EV.proc->user, "alice");
	assert_string_equal(EV.proc->group, "www-data");
	assert_string_equal(EV.proc->loginname, "root");
	assert_string_equal(vg_state_user_home(st, 1000), "/home/alice");
	assert_string_equal(vg_state_user_shell(st, 0), "/bin/bash");
	assert_string_equal(vg_state_group_name(st, 65534), "nogroup");
	/* setuid: the name follows the id */
	rb_sys(&B, VG_NR_setuid, 2000, 0);
	B.r.h.uid = 1000;
	B.r.arg[0] = 33;
	must_apply(st);
	assert_string_equal(EV.proc->user, "www-data");
	rb_sys(&B, VG_NR_kill, 2000, 0);
	B.r.h.uid = 4242;
	B.r.h.loginuid = (uint32_t)-1;
	must_apply(st);
	assert_string_equal(EV.proc->user, "");
	assert_string_equal(EV.proc->loginname, "");
	vg_state_free(st);
}

/* Exec strings are interned: processes with the same argv, env, cwd share
 * one copy; exits and re-execs keep every other process's strings intact. */
static void test_shared_strings(void **unused)
{
	(void)unused;
	struct vg_state *st = new_state(0, 0);
	seed_init(st);
	static const char *const argv[] = {"sleep", "100000", NULL};
	static const char *const env[] = {"HOME=/root", "PATH=/bin:/usr/bin", NULL};
	const struct vg_proc *first = NULL;
	for (uint32_t pid = 2000; pid < 2300; pid++) {
		exec_rec(pid, 1, "sleep", "/usr/bin/sleep", argv, "/tmp");
		rb_list(&B, VG_X_ENV, env);
		must_apply(st);
		if (!first)
			first = EV.proc;
		assert_ptr_equal(EV.proc->env, first->env);
		assert_ptr_equal(EV.proc->argv, first->argv);
		assert_ptr_equal(EV.proc->args, first->args);
		assert_ptr_equal(EV.proc->cmdline, first->cmdline);
		assert_ptr_equal(EV.proc->exepath, first->exepath);
		assert_ptr_equal(EV.proc->cwd, first->cwd);
		assert_string_equal(EV.proc->cmdline, "sleep 100000");
	}
	/* many distinct argument strings: sweeps, growth, deletions on exit */
	char arg[32], want[64];
	for (uint32_t pid = 3000; pid < 4000; pid++) {
		snprintf(arg, sizeof(arg), "%u", pid * 7);
		const char *const av[] = {"worker", arg, NULL};
		exec_rec(pid, 1, "worker", "/usr/bin/worker", av, "/srv");
		rb_list(&B, VG_X_ENV, env);
		must_apply(st);
		assert_ptr_equal(EV.proc->env, first->env);
	}
	for (uint32_t pid = 3000; pid < 4000; pid += 3) {
		rb_init(&B, VG_K_EXIT, 0, pid, 1, "worker");
		must_apply(st);
	}
	for (uint32_t pid = 3001; pid < 4000; pid += 3) {
		/* a re-exec drops the old strings of this process */
		snprintf(arg, sizeof(arg), "again-%u", pid);
		const char *const av[] = {"worker", arg, NULL};
		exec_rec(pid, 1, "worker", "/usr/bin/worker", av, "/srv");
		must_apply(st);
	}
	for (uint32_t pid = 3000; pid < 4000; pid++) {
		const struct vg_proc *p = vg_state_proc(st, pid);
		if (pid % 3 == 0) {
			assert_null(p);
			continue;
		}
		assert_non_null(p);
		if (pid % 3 == 1)
			snprintf(want, sizeof(want), "worker again-%u", pid);
		else
			snprintf(want, sizeof(want), "worker %u", pid * 7);
		assert_string_equal(p->cmdline, want);
		assert_string_equal(p->exepath, "/usr/bin/worker");
		assert_string_equal(p->cwd, "/srv");
	}
	/* an exited process's string comes back as a fresh copy */
	snprintf(arg, sizeof(arg), "%u", 3000 * 7);
	const char *const av[] = {"worker", arg, NULL};
	exec_rec(5000, 1, "worker", "/usr/bin/worker", av, "/srv");
	must_apply(st);
	snprintf(want, sizeof(want), "worker %u", 3000 * 7);
	assert_string_equal(EV.proc->cmdline, want);
	vg_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evtypes),	       cmocka_unit_test(test_exec_chain),
		cmocka_unit_test(test_ancestor_loop),  cmocka_unit_test(test_exec_description),
		cmocka_unit_test(test_paths),	       cmocka_unit_test(test_relative_without_cwd),
		cmocka_unit_test(test_fd_table),       cmocka_unit_test(test_udp_name_changed),
		cmocka_unit_test(test_fd_eviction),    cmocka_unit_test(test_proc_eviction),
		cmocka_unit_test(test_exit),	       cmocka_unit_test(test_missed_fork),
		cmocka_unit_test(test_clone_fallback), cmocka_unit_test(test_setuid),
		cmocka_unit_test(test_timestamps),     cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_containers),     cmocka_unit_test(test_user_names),
		cmocka_unit_test(test_shared_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
