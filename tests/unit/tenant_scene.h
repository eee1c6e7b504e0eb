/* tenant_scene.h - a process tree that crosses a container's boundary, for
 * the tests of confined fields (test_fields_confine.c, test_crset_tenant.c).
 *
 *   host:      hostinit(4001) -> hostshim(4002)            session/group leader 4002
 *   container: cinit(4003) -> csh(4004) -> cat(4005)       container c0ffee000001
 *
 * TS_KILL is kill(4001, 9) by cat: a pid argument naming a host process.
 * Every host value carries "hostsecret" (names, paths, arguments), and the
 * host pids are 4001 and 4002, so that a test can look for them in any
 * rendered text.
 */
#ifndef VIGIL_TEST_TENANT_SCENE_H
#define VIGIL_TEST_TENANT_SCENE_H

#include <string.h>

#include "recbuild.h"
#include "state.h"

#define TS_CID "c0ffee000001"
#define TS_T0 1700000000000000000ull

struct tscene {
	struct vg_state *st;
	struct rb b, rkill;
	struct vg_event tmp, kill;
};

static inline int ts_exec(struct tscene *s, uint32_t pid, uint32_t ppid, const char *comm,
			  const char *exepath, const char *const *argv, uint32_t sid, int kind)
{
	struct rb *b = &s->b;
	rb_init(b, kind, VG_NR_execve, pid, ppid, comm);
	rb_str(b, VG_X_FILENAME, exepath);
	rb_list(b, VG_X_ARGS, argv);
	rb_str(b, VG_X_EXEPATH, exepath);
	rb_str(b, VG_X_CWD, "/");
	b->r.exec.vpid = pid;
	b->r.exec.vpgid = pid;
	b->r.exec.sid = sid;
	b->r.exec.pgid = sid;
	b->r.h.ts = TS_T0 - 1000000000ull;
	b->r.exec.start_ns = TS_T0 - 1000000000ull;
	return vg_state_apply(s->st, &b->r, rb_size(b), &s->tmp);
}

static inline void ts_in_container(struct tscene *s, uint32_t pid)
{
	struct vg_proc *p = vg_state_proc(s->st, pid);
	if (p)
		strcpy(p->container_id, TS_CID);
}

/* Returns 0 when every record applied. */
static inline int tscene_init(struct tscene *s)
{
	memset(s, 0, sizeof(*s));
	struct vg_state_opts o = {.ts_is_wall = true,
				  .hostname = "node-1",
				  .etc_root = "tests/unit/etc",
				  .proc_root = "/nonexistent"};
	s->st = vg_state_new(&o);
	if (!s->st)
		return -1;
	int rc = 0;
	static const char *const a1[] = {"/sbin/hostsecret-init", "--hostsecret", NULL};
	rc |= ts_exec(s, 4001, 0, "hostsecretinit", "/sbin/hostsecret-init", a1, 4001, VG_K_PROC);
	static const char *const a2[] = {"hostsecret-shim", "-id", "hostsecret-42", NULL};
	rc |= ts_exec(s, 4002, 4001, "hostsecretshim", "/usr/bin/hostsecret-shim", a2, 4002,
		      VG_K_PROC);
	static const char *const a3[] = {"cinit", NULL};
	rc |= ts_exec(s, 4003, 4002, "cinit", "/cinit", a3, 4002, VG_K_PROC);
	static const char *const a4[] = {"csh", "-c", "cat", NULL};
	rc |= ts_exec(s, 4004, 4003, "csh", "/bin/csh", a4, 4002, VG_K_PROC);
	static const char *const a5[] = {"cat", "/etc/hosts", NULL};
	rc |= ts_exec(s, 4005, 4004, "cat", "/bin/cat", a5, 4002, VG_K_PROC);
	ts_in_container(s, 4003);
	ts_in_container(s, 4004);
	ts_in_container(s, 4005);
	rb_init(&s->rkill, VG_K_SYSCALL, VG_NR_kill, 4005, 4004, "cat");
	s->rkill.r.h.ts = TS_T0;
	s->rkill.r.h.ret = 0;
	s->rkill.r.arg[0] = 4001;
	s->rkill.r.arg[1] = 9;
	rc |= vg_state_apply(s->st, &s->rkill.r, rb_size(&s->rkill), &s->kill);
	/* (again: applying a record may attribute its process afresh) */
	ts_in_container(s, 4003);
	ts_in_container(s, 4004);
	ts_in_container(s, 4005);
	return rc;
}

static inline void tscene_free(struct tscene *s)
{
	vg_state_free(s->st);
	s->st = NULL;
}

#endif
