/* argfmt.c - syscall parameters under Falco's names; see argfmt.h.
 *
 * The parameter lists follow Falco's exit events (which, in current
 * Falco, carry the call's arguments too), limited to what a vigil record
 * holds.  Flag names are the kernel's (O_CREAT, S_ISUID, PTRACE_ATTACH...).
 *
 * This file holds the parameter lists and their rendering; the name
 * tables the rendering reads are in argfmt_names.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "argfmt.h"
#include "argfmt_int.h"
#include "state.h"

enum pkind {
	PK_RES = 1,  /* return value as errno */
	PK_RETINT,   /* return value as a number */
	PK_FDRET,    /* return value as fd */
	PK_FD,	     /* arg as fd */
	PK_DIRFD,    /* arg as dirfd (AT_FDCWD) */
	PK_PATH0,    /* first path (resolved) */
	PK_PATH1,    /* second path (resolved) */
	PK_XSTR,     /* extra string */
	PK_OFLAGS,   /* open flags of the open family */
	PK_OMODE,    /* mode of the open family */
	PK_FLAGS_O,  /* arg as O_* flags (pipe2, dup3, userfaultfd) */
	PK_MODE,     /* arg as file mode */
	PK_INT,	     /* arg as int */
	PK_UINT,     /* arg as unsigned */
	PK_HEX,	     /* arg as hexadecimal */
	PK_UID,	     /* arg as uid */
	PK_GID,	     /* arg as gid */
	PK_DOMAIN,   /* arg as address family */
	PK_TUPLE,    /* the record's socket tuple */
	PK_SOCKADDR, /* the record's local address (bind) */
	PK_PEER,     /* the record's remote address (connect) */
	PK_PTRACE,   /* ptrace request */
	PK_BPFCMD,   /* bpf command */
	PK_PID,	     /* arg as pid */
	PK_SIG,	     /* arg as signal */
	PK_NSFLAGS,  /* arg as CLONE_* flags */
	PK_ATFLAGS,  /* arg as AT_* flags */
	PK_PRCTL,    /* prctl option */
	PK_MFDFLAGS, /* memfd_create flags */
	PK_FD1,	     /* first fd of a pair */
	PK_FD2,	     /* second fd of a pair */
	/* from the process description (exec, fork) */
	PK_EXE,
	PK_ARGS,
	PK_TID,
	PK_HPID,
	PK_PTID,
	PK_CWD,
	PK_COMM,
	PK_ENV,
	PK_TTY,
	PK_PGID,
	PK_LOGINUID,
	PK_EXEFLAGS,
	PK_CAPINH,
	PK_CAPPERM,
	PK_CAPEFF,
	PK_EXEINO,
	PK_EXECTIME,
	PK_EXEMTIME,
	PK_HUID,
	PK_HGID,
	PK_EXEPATH,
	PK_FILENAME,
};

struct pspec {
	const char *name;
	uint8_t kind;
	int8_t arg;
};

struct pdesc {
	const struct pspec *p;
	uint8_t n;
};

#define PS(...)                                                                                    \
	{                                                                                          \
		(const struct pspec[]){__VA_ARGS__},                                               \
			sizeof((const struct pspec[]){__VA_ARGS__}) / sizeof(struct pspec)         \
	}

#define RES                                                                                        \
	{                                                                                          \
		"res", PK_RES, 0                                                                   \
	}
#define FD0                                                                                        \
	{                                                                                          \
		"fd", PK_FD, 0                                                                     \
	}

/* Parameters of a live exec and of the clone family (the child's view). */
#define EXEC_PARAMS                                                                                \
	RES, {"exe", PK_EXE, 0}, {"args", PK_ARGS, 0}, {"tid", PK_TID, 0}, {"pid", PK_HPID, 0},    \
		{"ptid", PK_PTID, 0}, {"cwd", PK_CWD, 0}, {"comm", PK_COMM, 0},                    \
		{"env", PK_ENV, 0}, {"tty", PK_TTY, 0}, {"pgid", PK_PGID, 0},                      \
		{"loginuid", PK_LOGINUID, 0}, {"flags", PK_EXEFLAGS, 0},                           \
		{"cap_inheritable", PK_CAPINH, 0}, {"cap_permitted", PK_CAPPERM, 0},               \
		{"cap_effective", PK_CAPEFF, 0}, {"exe_ino", PK_EXEINO, 0},                        \
		{"exe_ino_ctime", PK_EXECTIME, 0}, {"exe_ino_mtime", PK_EXEMTIME, 0},              \
		{"uid", PK_HUID, 0}, {"trusted_exepath", PK_EXEPATH, 0}, {"gid", PK_HGID, 0},      \
	{                                                                                          \
		"filename", PK_FILENAME, 0                                                         \
	}

#define CLONE_PARAMS                                                                               \
	{"res", PK_RETINT, 0}, {"exe", PK_EXE, 0}, {"args", PK_ARGS, 0}, {"tid", PK_TID, 0},       \
		{"pid", PK_HPID, 0}, {"ptid", PK_PTID, 0}, {"cwd", PK_CWD, 0},                     \
		{"uid", PK_HUID, 0},                                                               \
	{                                                                                          \
		"gid", PK_HGID, 0                                                                  \
	}

static const struct pdesc sys_params[VG_NR_MAX] = {
	[VG_NR_open] = PS({"fd", PK_FDRET, 0}, {"name", PK_PATH0, 0}, {"flags", PK_OFLAGS, 0},
			  {"mode", PK_OMODE, 0}),
	[VG_NR_openat] = PS({"fd", PK_FDRET, 0}, {"dirfd", PK_DIRFD, 0}, {"name", PK_PATH0, 0},
			    {"flags", PK_OFLAGS, 0}, {"mode", PK_OMODE, 0}),
	[VG_NR_openat2] = PS({"fd", PK_FDRET, 0}, {"dirfd", PK_DIRFD, 0}, {"name", PK_PATH0, 0},
			     {"flags", PK_OFLAGS, 0}, {"mode", PK_OMODE, 0}),
	[VG_NR_creat] = PS({"fd", PK_FDRET, 0}, {"name", PK_PATH0, 0}, {"mode", PK_MODE, 1}),
	[VG_NR_close] = PS(RES, FD0),
	[VG_NR_pipe] = PS(RES, {"fd1", PK_FD1, 0}, {"fd2", PK_FD2, 0}),
	[VG_NR_pipe2] = PS(RES, {"fd1", PK_FD1, 0}, {"fd2", PK_FD2, 0}, {"flags", PK_FLAGS_O, 1}),
	[VG_NR_dup] = PS({"res", PK_FDRET, 0}, {"oldfd", PK_FD, 0}),
	[VG_NR_dup2] = PS({"res", PK_FDRET, 0}, {"oldfd", PK_FD, 0}, {"newfd", PK_FD, 1}),
	[VG_NR_dup3] = PS({"res", PK_FDRET, 0}, {"oldfd", PK_FD, 0}, {"newfd", PK_FD, 1},
			  {"flags", PK_FLAGS_O, 2}),
	[VG_NR_socket] = PS({"fd", PK_FDRET, 0}, {"domain", PK_DOMAIN, 0}, {"type", PK_UINT, 1},
			    {"proto", PK_UINT, 2}),
	[VG_NR_connect] = PS(RES, {"tuple", PK_TUPLE, 0}, FD0, {"addr", PK_PEER, 0}),
	[VG_NR_accept] = PS({"fd", PK_FDRET, 0}, {"tuple", PK_TUPLE, 0}),
	[VG_NR_accept4] = PS({"fd", PK_FDRET, 0}, {"tuple", PK_TUPLE, 0}, {"flags", PK_INT, 3}),
	[VG_NR_sendto] = PS(RES, FD0, {"size", PK_UINT, 2}, {"tuple", PK_TUPLE, 0}),
	[VG_NR_recvfrom] = PS(RES, FD0, {"size", PK_UINT, 2}, {"tuple", PK_TUPLE, 0}),
	[VG_NR_sendmsg] = PS(RES, FD0, {"tuple", PK_TUPLE, 0}),
	[VG_NR_recvmsg] = PS(RES, FD0, {"tuple", PK_TUPLE, 0}),
	[VG_NR_bind] = PS(RES, {"addr", PK_SOCKADDR, 0}, FD0),
	[VG_NR_listen] = PS(RES, FD0, {"backlog", PK_INT, 1}),
	[VG_NR_socketpair] =
		PS(RES, {"fd1", PK_FD1, 0}, {"fd2", PK_FD2, 0}, {"domain", PK_DOMAIN, 0},
		   {"type", PK_UINT, 1}, {"proto", PK_UINT, 2}),
	[VG_NR_clone] = PS(CLONE_PARAMS, {"flags", PK_NSFLAGS, 0}),
	[VG_NR_fork] = PS(CLONE_PARAMS),
	[VG_NR_vfork] = PS(CLONE_PARAMS),
	[VG_NR_clone3] = PS(CLONE_PARAMS),
	[VG_NR_execve] = PS(RES, {"filename", PK_PATH0, 0}),
	[VG_NR_execveat] = PS(RES, {"dirfd", PK_DIRFD, 0}, {"pathname", PK_PATH0, 0},
			      {"flags", PK_ATFLAGS, 4}),
	[VG_NR_kill] = PS(RES, {"pid", PK_PID, 0}, {"sig", PK_SIG, 1}),
	[VG_NR_chdir] = PS(RES, {"path", PK_PATH0, 0}),
	[VG_NR_fchdir] = PS(RES, FD0),
	[VG_NR_rename] = PS(RES, {"oldpath", PK_PATH0, 0}, {"newpath", PK_PATH1, 0}),
	[VG_NR_renameat] = PS(RES, {"olddirfd", PK_DIRFD, 0}, {"oldpath", PK_PATH0, 0},
			      {"newdirfd", PK_DIRFD, 2}, {"newpath", PK_PATH1, 0}),
	[VG_NR_renameat2] =
		PS(RES, {"olddirfd", PK_DIRFD, 0}, {"oldpath", PK_PATH0, 0},
		   {"newdirfd", PK_DIRFD, 2}, {"newpath", PK_PATH1, 0}, {"flags", PK_UINT, 4}),
	[VG_NR_mkdir] = PS(RES, {"path", PK_PATH0, 0}, {"mode", PK_MODE, 1}),
	[VG_NR_mkdirat] =
		PS(RES, {"dirfd", PK_DIRFD, 0}, {"path", PK_PATH0, 0}, {"mode", PK_MODE, 2}),
	[VG_NR_rmdir] = PS(RES, {"path", PK_PATH0, 0}),
	[VG_NR_link] = PS(RES, {"oldpath", PK_PATH0, 0}, {"newpath", PK_PATH1, 0}),
	[VG_NR_linkat] =
		PS(RES, {"olddir", PK_DIRFD, 0}, {"oldpath", PK_PATH0, 0}, {"newdir", PK_DIRFD, 2},
		   {"newpath", PK_PATH1, 0}, {"flags", PK_ATFLAGS, 4}),
	[VG_NR_unlink] = PS(RES, {"path", PK_PATH0, 0}),
	[VG_NR_unlinkat] =
		PS(RES, {"dirfd", PK_DIRFD, 0}, {"name", PK_PATH0, 0}, {"flags", PK_ATFLAGS, 2}),
	[VG_NR_symlink] = PS(RES, {"target", PK_XSTR, 0}, {"linkpath", PK_PATH0, 0}),
	[VG_NR_symlinkat] = PS(RES, {"target", PK_XSTR, 0}, {"linkdirfd", PK_DIRFD, 1},
			       {"linkpath", PK_PATH0, 0}),
	[VG_NR_chmod] = PS(RES, {"filename", PK_PATH0, 0}, {"mode", PK_MODE, 1}),
	[VG_NR_fchmod] = PS(RES, FD0, {"mode", PK_MODE, 1}),
	[VG_NR_fchmodat] =
		PS(RES, {"dirfd", PK_DIRFD, 0}, {"filename", PK_PATH0, 0}, {"mode", PK_MODE, 2}),
	[VG_NR_ptrace] = PS(RES, {"request", PK_PTRACE, 0}, {"pid", PK_PID, 1}, {"addr", PK_HEX, 2},
			    {"data", PK_HEX, 3}),
	[VG_NR_setuid] = PS(RES, {"uid", PK_UID, 0}),
	[VG_NR_setgid] = PS(RES, {"gid", PK_GID, 0}),
	[VG_NR_setreuid] = PS(RES, {"ruid", PK_UID, 0}, {"euid", PK_UID, 1}),
	[VG_NR_setregid] = PS(RES, {"rgid", PK_GID, 0}, {"egid", PK_GID, 1}),
	[VG_NR_setresuid] = PS(RES, {"ruid", PK_UID, 0}, {"euid", PK_UID, 1}, {"suid", PK_UID, 2}),
	[VG_NR_setresgid] = PS(RES, {"rgid", PK_GID, 0}, {"egid", PK_GID, 1}, {"sgid", PK_GID, 2}),
	[VG_NR_capset] = PS(RES),
	[VG_NR_prctl] = PS(RES, {"option", PK_PRCTL, 0}, {"arg2_int", PK_INT, 1}),
	[VG_NR_chroot] = PS(RES, {"path", PK_PATH0, 0}),
	[VG_NR_mount] = PS(RES, {"dev", PK_PATH1, 0}, {"dir", PK_PATH0, 0}, {"type", PK_XSTR, 0},
			   {"flags", PK_HEX, 3}),
	[VG_NR_umount2] = PS(RES, {"name", PK_PATH0, 0}, {"flags", PK_INT, 1}),
	[VG_NR_init_module] = PS(RES, {"length", PK_UINT, 1}, {"uargs", PK_XSTR, 0}),
	[VG_NR_finit_module] = PS(RES, FD0, {"uargs", PK_XSTR, 0}, {"flags", PK_INT, 2}),
	[VG_NR_unshare] = PS(RES, {"flags", PK_NSFLAGS, 0}),
	[VG_NR_setns] = PS(RES, FD0, {"nstype", PK_NSFLAGS, 1}),
	[VG_NR_memfd_create] =
		PS({"fd", PK_FDRET, 0}, {"name", PK_XSTR, 0}, {"flags", PK_MFDFLAGS, 1}),
	[VG_NR_bpf] = PS({"res_or_fd", PK_RES, 0}, {"cmd", PK_BPFCMD, 0}),
	[VG_NR_userfaultfd] = PS(RES, {"flags", PK_FLAGS_O, 0}),
};

static const struct pdesc exec_params = PS(EXEC_PARAMS);
static const struct pdesc exit_params = PS({"status", PK_RETINT, 0}, {"ret", PK_RETINT, 0});
static const struct pdesc fork_params = PS(CLONE_PARAMS);

static const struct pdesc *params_of(const struct vg_event *ev)
{
	switch (ev->raw->h.kind) {
	case VG_K_SYSCALL:
		if (ev->type >= 0 && ev->type < VG_NR_MAX && sys_params[ev->type].p)
			return &sys_params[ev->type];
		return NULL;
	case VG_K_EXEC:
	case VG_K_PROC:
		return &exec_params;
	case VG_K_FORK:
		return &fork_params;
	case VG_K_EXIT:
		return &exit_params;
	}
	return NULL;
}

int vg_argfmt_count(const struct vg_event *ev)
{
	const struct pdesc *d = params_of(ev);
	return d ? d->n : 0;
}

const char *vg_argfmt_name(const struct vg_event *ev, int i)
{
	const struct pdesc *d = params_of(ev);
	return d && i >= 0 && i < d->n ? d->p[i].name : NULL;
}

int vg_argfmt_find(const struct vg_event *ev, const char *name, size_t len)
{
	const struct pdesc *d = params_of(ev);
	if (!d)
		return -1;
	for (int i = 0; i < d->n; i++)
		if (d->p[i].name[0] == name[0] && strncmp(d->p[i].name, name, len) == 0 &&
		    d->p[i].name[len] == '\0')
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* rendering                                                           */

static uint32_t open_flags(const struct vg_rec *r)
{
	switch (r->h.nr) {
	case VG_NR_open:
		return (uint32_t)r->arg[1];
	case VG_NR_openat:
		return (uint32_t)r->arg[2];
	case VG_NR_openat2:
		return r->h.flags & VG_F_OPENHOW ? (uint32_t)r->aux[0] : 0;
	case VG_NR_creat:
		return 01 | 0100 | 01000;
	}
	return 0;
}

static uint32_t open_mode(const struct vg_rec *r)
{
	switch (r->h.nr) {
	case VG_NR_open:
		return (uint32_t)r->arg[2];
	case VG_NR_openat:
		return (uint32_t)r->arg[3];
	case VG_NR_openat2:
		return r->h.flags & VG_F_OPENHOW ? (uint32_t)r->aux[1] : 0;
	case VG_NR_creat:
		return (uint32_t)r->arg[1];
	}
	return 0;
}

static void fd_render(const struct vg_event *ev, int64_t fd, char *res, size_t cap)
{
	const struct vg_fd *f = NULL;
	res[0] = '\0';
	if (fd < 0)
		return;
	if (ev->fdi && ev->fdi->fd == fd)
		f = ev->fdi;
	else if (ev->st && ev->proc)
		f = vg_state_fd(ev->st, ev->proc, fd);
	if (f && cap > 3) {
		res[0] = '<';
		res[1] = f->typechar ? f->typechar : 'o';
		res[2] = '>';
		cpy(res + 3, cap - 3, f->name ? f->name : "");
	}
}

enum tuple_part { T_BOTH, T_LOCAL, T_REMOTE };

static void tuple_render(const struct vg_event *ev, enum tuple_part part, char *out, size_t cap)
{
	const struct vg_rec *r = ev->raw;
	out[0] = '\0';
	if (!(r->h.flags & VG_F_SOCK))
		return;
	const struct vg_sock *s = &r->sock;
	if (s->family == AF_UNIX) {
		snprintf(out, cap, "%s", ev->str[VG_S_CWD] ? ev->str[VG_S_CWD] : "");
		return;
	}
	if (s->family != AF_INET && s->family != AF_INET6)
		return;
	char l[INET6_ADDRSTRLEN] = "", rr[INET6_ADDRSTRLEN] = "";
	inet_ntop(s->family, s->laddr, l, sizeof(l));
	inet_ntop(s->family, s->raddr, rr, sizeof(rr));
	int nr = r->h.nr;
	bool server = nr == VG_NR_accept || nr == VG_NR_accept4 ||
		      (ev->fdi && ev->fdi->is_server && nr != VG_NR_connect);
	if (part == T_LOCAL)
		snprintf(out, cap, "%s:%u", l, s->lport);
	else if (part == T_REMOTE)
		snprintf(out, cap, "%s:%u", rr, s->rport);
	else if (server)
		snprintf(out, cap, "%s:%u->%s:%u", rr, s->rport, l, s->lport);
	else
		snprintf(out, cap, "%s:%u->%s:%u", l, s->lport, rr, s->rport);
}

static void caps_param(uint64_t v, char *raw, size_t rawcap, char *res, size_t rescap)
{
	fmt_hex(raw, rawcap, "", v);
	vg_caps_render(v, res, rescap);
}

static void env_render(const struct vg_proc *p, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	if (!p->env)
		return;
	for (size_t i = 0; i < p->env_len; i += strlen(p->env + i) + 1)
		put(out, cap, &n, " ", p->env + i);
}

bool vg_argfmt_render(const struct vg_event *ev, int i, char *raw, size_t rawcap, char *res,
		      size_t rescap)
{
	const struct pdesc *d = params_of(ev);
	if (!d || i < 0 || i >= d->n || rawcap == 0 || rescap == 0)
		return false;
	const struct pspec *ps = &d->p[i];
	const struct vg_rec *r = ev->raw;
	const struct vg_proc *p = ev->proc;
	uint64_t a = ps->arg >= 0 && ps->arg < 6 ? r->arg[ps->arg] : 0;
	int64_t ret = r->h.ret;
	const char *s;
	raw[0] = res[0] = '\0';

	switch (ps->kind) {
	case PK_RES:
		fmt_s64(raw, rawcap, ret);
		if (ret < 0 && (s = vg_errno_name(ret > -4096 ? (int)-ret : 0)))
			cpy(res, rescap, s);
		break;
	case PK_RETINT:
		fmt_s64(raw, rawcap, ret);
		break;
	case PK_FDRET:
		fmt_s64(raw, rawcap, ret);
		if (ret < 0) {
			if ((s = vg_errno_name(ret > -4096 ? (int)-ret : 0)))
				cpy(res, rescap, s);
		} else {
			fd_render(ev, ret, res, rescap);
		}
		break;
	case PK_FD: {
		int64_t fd = (int32_t)(uint32_t)a;
		fmt_s64(raw, rawcap, fd);
		fd_render(ev, fd, res, rescap);
		break;
	}
	case PK_DIRFD: {
		int64_t fd = (int32_t)(uint32_t)a;
		fmt_s64(raw, rawcap, fd);
		if (fd == -100)
			cpy(res, rescap, "AT_FDCWD");
		else
			fd_render(ev, fd, res, rescap);
		break;
	}
	case PK_PATH0:
	case PK_PATH1: {
		int slot = ps->kind == PK_PATH0 ? VG_S_PATH0 : VG_S_PATH1;
		const char *abs = ps->kind == PK_PATH0 ? ev->path : ev->path2;
		if (r->h.kind == VG_K_SYSCALL && !ev->str[slot])
			return false;
		cpy(raw, rawcap, ev->str[slot] ? ev->str[slot] : "");
		if (abs && strcmp(abs, raw) != 0)
			cpy(res, rescap, abs);
		break;
	}
	case PK_XSTR:
		if (!ev->str[VG_S_XSTR])
			return false;
		cpy(raw, rawcap, ev->str[VG_S_XSTR]);
		break;
	case PK_OFLAGS: {
		uint32_t f = open_flags(r);
		fmt_u64(raw, rawcap, f);
		vg_argfmt_oflags_render(f, res, rescap);
		break;
	}
	case PK_FLAGS_O:
		fmt_u64(raw, rawcap, (uint32_t)a);
		vg_argfmt_flags_render(vg_argfmt_oflags, (uint32_t)a, res, rescap);
		break;
	case PK_OMODE:
	case PK_MODE: {
		uint32_t m = ps->kind == PK_OMODE ? open_mode(r) : (uint32_t)a;
		fmt_oct(raw, rawcap, m);
		vg_argfmt_flags_render(vg_argfmt_modebits, m, res, rescap);
		break;
	}
	case PK_INT:
		fmt_s64(raw, rawcap, (int32_t)(uint32_t)a);
		break;
	case PK_UINT:
		fmt_u64(raw, rawcap, a);
		break;
	case PK_HEX:
		fmt_hex(raw, rawcap, "0x", a);
		break;
	case PK_UID:
	case PK_GID:
		fmt_u64(raw, rawcap, (uint32_t)a);
		if (ev->st && (uint32_t)a != (uint32_t)-1)
			cpy(res, rescap,
			    ps->kind == PK_UID ? vg_state_user_name(ev->st, (uint32_t)a)
					       : vg_state_group_name(ev->st, (uint32_t)a));
		break;
	case PK_DOMAIN:
		fmt_u64(raw, rawcap, (uint32_t)a);
		vg_argfmt_enum_render(vg_argfmt_domains, (uint32_t)a, res, rescap);
		break;
	case PK_TUPLE:
	case PK_SOCKADDR:
	case PK_PEER:
		if (!(r->h.flags & VG_F_SOCK))
			return false;
		tuple_render(ev,
			     ps->kind == PK_TUPLE      ? T_BOTH
			     : ps->kind == PK_SOCKADDR ? T_LOCAL
						       : T_REMOTE,
			     raw, rawcap);
		break;
	case PK_PTRACE:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_enum_render(vg_argfmt_ptrace_reqs, a, res, rescap);
		break;
	case PK_BPFCMD:
		fmt_u64(raw, rawcap, a);
		if (a < vg_argfmt_nbpf_cmds)
			cpy(res, rescap, vg_argfmt_bpf_cmds[a]);
		break;
	case PK_PID: {
		int32_t pid = (int32_t)(uint32_t)a;
		fmt_s64(raw, rawcap, pid);
		const struct vg_proc *t =
			pid > 0 && ev->st ? vg_state_proc(ev->st, (uint32_t)pid) : NULL;
		if (t)
			cpy(res, rescap, t->comm);
		break;
	}
	case PK_SIG:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_enum_render(vg_argfmt_signames, a, res, rescap);
		break;
	case PK_NSFLAGS:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_flags_render(vg_argfmt_nsflags, a, res, rescap);
		break;
	case PK_ATFLAGS:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_flags_render(vg_argfmt_atflags, a, res, rescap);
		break;
	case PK_PRCTL:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_enum_render(vg_argfmt_prctl_opts, a, res, rescap);
		break;
	case PK_MFDFLAGS:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_flags_render(vg_argfmt_mfdflags, a, res, rescap);
		break;
	case PK_FD1:
	case PK_FD2: {
		if (!(r->h.flags & VG_F_FDPAIR))
			return false;
		int64_t fd = r->aux[ps->kind == PK_FD1 ? 0 : 1];
		fmt_s64(raw, rawcap, fd);
		fd_render(ev, fd, res, rescap);
		break;
	}
	case PK_EXE:
		cpy(raw, rawcap, p->exe ? p->exe : "");
		break;
	case PK_ARGS:
		cpy(raw, rawcap, p->args ? p->args : "");
		break;
	case PK_TID:
		fmt_u64(raw, rawcap, r->h.tid);
		break;
	case PK_HPID:
		fmt_u64(raw, rawcap, p->pid);
		break;
	case PK_PTID:
		fmt_u64(raw, rawcap, p->ppid);
		break;
	case PK_CWD:
		cpy(raw, rawcap, p->cwd ? p->cwd : "");
		break;
	case PK_COMM:
		cpy(raw, rawcap, p->comm);
		break;
	case PK_ENV:
		env_render(p, raw, rawcap);
		break;
	case PK_TTY:
		fmt_u64(raw, rawcap, p->tty);
		break;
	case PK_PGID:
		fmt_u64(raw, rawcap, p->vpgid);
		break;
	case PK_LOGINUID:
		fmt_s64(raw, rawcap, (int32_t)p->loginuid);
		if (p->loginname && *p->loginname)
			cpy(res, rescap, p->loginname);
		break;
	case PK_EXEFLAGS:
		fmt_u64(raw, rawcap, p->exe_flags);
		vg_argfmt_flags_render(vg_argfmt_exeflags, p->exe_flags, res, rescap);
		break;
	case PK_CAPINH:
		caps_param(p->cap_inh, raw, rawcap, res, rescap);
		break;
	case PK_CAPPERM:
		caps_param(p->cap_perm, raw, rawcap, res, rescap);
		break;
	case PK_CAPEFF:
		caps_param(p->cap_eff, raw, rawcap, res, rescap);
		break;
	case PK_EXEINO:
		fmt_u64(raw, rawcap, p->exe_ino);
		break;
	case PK_EXECTIME:
		fmt_u64(raw, rawcap, p->exe_ctime_ns);
		break;
	case PK_EXEMTIME:
		fmt_u64(raw, rawcap, p->exe_mtime_ns);
		break;
	case PK_HUID:
		fmt_u64(raw, rawcap, p->uid);
		if (p->user && *p->user)
			cpy(res, rescap, p->user);
		break;
	case PK_HGID:
		fmt_u64(raw, rawcap, p->gid);
		if (p->group && *p->group)
			cpy(res, rescap, p->group);
		break;
	case PK_EXEPATH:
		cpy(raw, rawcap, p->exepath ? p->exepath : "");
		break;
	case PK_FILENAME:
		if (!ev->str[VG_X_FILENAME])
			return false;
		cpy(raw, rawcap, ev->str[VG_X_FILENAME]);
		break;
	default:
		return false;
	}
	return true;
}

bool vg_argfmt_value(const struct vg_event *ev, int i, char *out, size_t cap)
{
	const struct pdesc *d = params_of(ev);
	if (!d || i < 0 || i >= d->n || cap == 0)
		return false;
	if (d->p[i].kind == PK_OFLAGS) { /* never empty: O_RDONLY at least */
		vg_argfmt_oflags_render(open_flags(ev->raw), out, cap);
		return true;
	}
	char res[VG_STR_MAX];
	if (!vg_argfmt_render(ev, i, out, cap, res, sizeof(res)))
		return false;
	if (res[0])
		cpy(out, cap, res);
	return true;
}

size_t vg_argfmt_all(const struct vg_event *ev, char *out, size_t cap)
{
	char raw[VG_STR_MAX], res[VG_STR_MAX];
	size_t n = 0;
	if (cap == 0)
		return 0;
	out[0] = '\0';
	int cnt = vg_argfmt_count(ev);
	for (int i = 0; i < cnt; i++) {
		if (!vg_argfmt_render(ev, i, raw, sizeof(raw), res, sizeof(res)))
			continue;
		int w = snprintf(out + n, cap - n, "%s%s=%s%s%s%s", n ? " " : "",
				 vg_argfmt_name(ev, i), raw, res[0] ? "(" : "", res,
				 res[0] ? ")" : "");
		if (w < 0)
			break;
		if (n + (size_t)w >= cap) {
			n = cap - 1;
			break;
		}
		n += (size_t)w;
	}
	return n;
}
