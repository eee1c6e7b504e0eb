/* scene.h - a small process tree and three real events for the rule engine tests.
 *
 *   systemd(1) -> sshd(50) -> bash(60) -> cat(70)   openat /etc/shadow
 *                                      -> curl(80)  connect 10.0.0.1:3456->93.184.216.34:443
 *
 * SC_EXEC is the exec of /bin/bash by pid 60 (argv "bash -c 'ls -la'"),
 * SC_OPEN the openat of /etc/shadow by cat, SC_CONN the connect by curl.
 * Each event keeps its own record buffer so that all three stay valid
 * together (the state's process and fd entries are allocated one by one).
 */
#ifndef VIGIL_TEST_SCENE_H
#define VIGIL_TEST_SCENE_H

#include "recbuild.h"
#include "state.h"

#define SC_TS0 1700000000123456789ull /* 2023-11-14 22:13:20.123456789 UTC */
#define SC_AT_FDCWD ((uint64_t)(uint32_t)-100)

struct scene {
	struct vg_state *st;
	struct rb scratch;
	struct rb rexec, ropen, rconn;
	struct vg_event exec, open, conn, tmp;
};

static inline int sc_apply(struct scene *s, struct rb *b, struct vg_event *ev)
{
	return vg_state_apply(s->st, &b->r, rb_size(b), ev);
}

static inline void sc_exec_rec(struct rb *b, uint32_t pid, uint32_t ppid, const char *comm,
			       const char *exepath, const char *const *argv, const char *const *env)
{
	rb_init(b, VG_K_EXEC, VG_NR_execve, pid, ppid, comm);
	rb_str(b, VG_X_FILENAME, exepath);
	rb_list(b, VG_X_ARGS, argv);
	if (env)
		rb_list(b, VG_X_ENV, env);
	rb_str(b, VG_X_EXEPATH, exepath);
	rb_str(b, VG_X_CWD, "/root");
	b->r.exec.vpid = pid;
	b->r.exec.vpgid = pid;
	b->r.exec.sid = pid;
	b->r.exec.pgid = pid;
	b->r.h.ts = SC_TS0 - 1000000000ull;
	b->r.exec.start_ns = SC_TS0 - 1000000000ull;
}

static inline int sc_fork(struct scene *s, uint32_t parent, uint32_t grandparent, const char *comm,
			  uint32_t child)
{
	struct rb *b = &s->scratch;
	rb_init(b, VG_K_FORK, VG_NR_clone, parent, grandparent, comm);
	b->r.fork.child_pid = child;
	b->r.fork.child_vpid = child;
	b->r.fork.start_ns = SC_TS0 - 2000000000ull;
	return sc_apply(s, b, &s->tmp);
}

static inline void sc_sys(struct rb *b, int nr, uint32_t pid, uint32_t ppid, const char *comm,
			  int64_t ret)
{
	rb_init(b, VG_K_SYSCALL, nr, pid, ppid, comm);
	b->r.h.ret = ret;
	b->r.h.ts = SC_TS0;
}

/* Returns 0 when every record applied. */
static inline int scene_init(struct scene *s)
{
	memset(s, 0, sizeof(*s));
	struct vg_state_opts o = {
		.ts_is_wall = true, .hostname = "node-1", .etc_root = "tests/unit/etc"};
	s->st = vg_state_new(&o);
	if (!s->st)
		return -1;
	int rc = 0;
	static const char *const a1[] = {"/sbin/init", NULL};
	sc_exec_rec(&s->scratch, 1, 0, "systemd", "/usr/lib/systemd/systemd", a1, NULL);
	s->scratch.r.h.kind = VG_K_PROC;
	rc |= sc_apply(s, &s->scratch, &s->tmp);
	static const char *const a50[] = {"sshd", "-D", NULL};
	sc_exec_rec(&s->scratch, 50, 1, "sshd", "/usr/sbin/sshd", a50, NULL);
	rc |= sc_apply(s, &s->scratch, &s->tmp);

	rc |= sc_fork(s, 50, 1, "sshd", 60);
	static const char *const a60[] = {"bash", "-c", "ls -la", NULL};
	static const char *const e60[] = {"TERM=xterm", "B64=aGVsbG8=", "HOME=/root", NULL};
	sc_exec_rec(&s->rexec, 60, 50, "bash", "/bin/bash", a60, e60);
	rc |= sc_apply(s, &s->rexec, &s->exec);

	rc |= sc_fork(s, 60, 50, "bash", 70);
	static const char *const a70[] = {"cat", "/etc/shadow", NULL};
	sc_exec_rec(&s->scratch, 70, 60, "cat", "/usr/bin/cat", a70, NULL);
	rc |= sc_apply(s, &s->scratch, &s->tmp);
	sc_sys(&s->ropen, VG_NR_openat, 70, 60, "cat", 3);
	s->ropen.r.arg[0] = SC_AT_FDCWD;
	s->ropen.r.arg[2] = 02000000; /* O_RDONLY|O_CLOEXEC */
	rb_str(&s->ropen, VG_S_PATH0, "/etc/shadow");
	rc |= sc_apply(s, &s->ropen, &s->open);

	rc |= sc_fork(s, 60, 50, "bash", 80);
	static const char *const a80[] = {"curl", "https://example.com", NULL};
	sc_exec_rec(&s->scratch, 80, 60, "curl", "/usr/bin/curl", a80, NULL);
	rc |= sc_apply(s, &s->scratch, &s->tmp);
	sc_sys(&s->scratch, VG_NR_socket, 80, 60, "curl", 4);
	s->scratch.r.arg[0] = 2;
	s->scratch.r.arg[1] = 1;
	rc |= sc_apply(s, &s->scratch, &s->tmp);
	sc_sys(&s->rconn, VG_NR_connect, 80, 60, "curl", 0);
	s->rconn.r.arg[0] = 4;
	rb_sock4(&s->rconn, 1, 6, "10.0.0.1", 3456, "93.184.216.34", 443);
	rc |= sc_apply(s, &s->rconn, &s->conn);
	return rc;
}

static inline void scene_free(struct scene *s)
{
	vg_state_free(s->st);
	s->st = NULL;
}

#endif
