/* state_sys.c - what each syscall record does to the state.
 *
 * The registry row of the call (event/sysreg.h) names its handler family;
 * handlers[] below holds one function per family, so a record is applied
 * through two array indexes.  A handler reads the call's particulars
 * (which argument holds the flags, the new id...) from the row.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "state_int.h"
#include "sysreg.h"
#include "util.h"

typedef void (*sys_fn)(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		       struct vg_event *ev, const struct vg_sysreg *row);

static int64_t arg_fd(uint64_t a)
{
	return (int64_t)(int32_t)(uint32_t)a;
}

/* O_CLOEXEC when the call asked for it in its flags argument */
static uint32_t cloexec_of(const struct vg_sysreg *row, const struct vg_rec *r)
{
	return row->cloexec_arg >= 0 ? (uint32_t)r->arg[row->cloexec_arg] & VG_O_CLOEXEC : 0;
}

static void sys_open(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		     struct vg_event *ev, const struct vg_sysreg *row)
{
	uint32_t flags = vg_open_flags(row, r);
	uint8_t type = flags & VG_O_DIRECTORY ? VG_FD_DIR : VG_FD_FILE;
	int64_t ret = r->h.ret;
	if (ret < 0) {
		/* Falco still describes the file a failed open names, as fd -1 */
		memset(&st->tmp_fd, 0, sizeof(st->tmp_fd));
		st->tmp_fd.fd = -1;
		vg_st_set_type(&st->tmp_fd, type);
		st->tmp_fd.flags = flags;
		st->tmp_fd.name = ev->path ? ev->path : "";
		st->tmp_fd.name_cut = ev->path_cut;
		ev->fd = -1;
		ev->fdi = &st->tmp_fd;
		return;
	}
	ev->fd = ret;
	if (r->h.flags & VG_F_NOFD) {
		/* an io_uring open into a fixed-file slot (or whose fd number
		 * the kernel side could not tell): the file, described but
		 * kept out of the fd table */
		memset(&st->tmp_fd, 0, sizeof(st->tmp_fd));
		st->tmp_fd.fd = ret;
		vg_st_set_type(&st->tmp_fd, type);
		st->tmp_fd.flags = flags;
		st->tmp_fd.name = ev->path ? ev->path : "";
		st->tmp_fd.name_cut = ev->path_cut;
		ev->fdi = &st->tmp_fd;
		return;
	}
	struct vg_fd *f = vg_st_fd_new(st, e, ret);
	if (!f)
		return;
	vg_st_set_type(f, type);
	f->flags = flags;
	if (ev->path)
		vg_fdtab_set_name(f, vg_st_rs_str(ev->path));
	f->name_num = ev->num;
	f->name_cut = ev->path_cut;
}

static void sys_close(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		      struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)row;
	ev->fd = arg_fd(r->arg[0]);
	if (r->h.ret == 0) {
		st->dead_fd = vg_fdtab_take(e->fds, ev->fd);
		ev->fdi = st->dead_fd;
	}
}

static void sys_dup(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		    struct vg_event *ev, const struct vg_sysreg *row)
{
	int64_t ret = r->h.ret;
	ev->fd = arg_fd(r->arg[0]);
	if (ret >= 0) {
		int64_t nfd = r->h.nr == VG_NR_dup ? ret : arg_fd(r->arg[1]);
		struct vg_fd *f =
			vg_fdtab_dup(e->fds, ev->fd, nfd, st->max_fds, &st->stats.fd_evictions);
		if (f)
			f->flags |= cloexec_of(row, r);
	}
}

static void fd_pair(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		    struct vg_event *ev, uint8_t type, uint32_t flags)
{
	if (r->h.ret != 0 || !(r->h.flags & VG_F_FDPAIR))
		return;
	ev->fd = r->aux[0];
	for (int i = 0; i < 2; i++) {
		struct vg_fd *f = vg_st_fd_new(st, e, r->aux[i]);
		if (!f)
			continue;
		vg_st_set_type(f, type);
		f->flags = flags;
		if (type == VG_FD_UNIX) {
			f->sock.family = AF_UNIX;
			f->sock.type = (uint16_t)(r->arg[1] & 0xf);
			f->connected = true;
		}
	}
}

static void sys_pipe(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		     struct vg_event *ev, const struct vg_sysreg *row)
{
	fd_pair(st, e, r, ev, VG_FD_PIPE, cloexec_of(row, r));
}

static void sys_socketpair(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
			   struct vg_event *ev, const struct vg_sysreg *row)
{
	fd_pair(st, e, r, ev, VG_FD_UNIX, cloexec_of(row, r));
}

static void sys_socket(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		       struct vg_event *ev, const struct vg_sysreg *row)
{
	if (r->h.ret < 0)
		return;
	ev->fd = r->h.ret;
	struct vg_fd *f = vg_st_fd_new(st, e, r->h.ret);
	if (!f)
		return;
	f->sock.family = (uint16_t)r->arg[0];
	f->sock.type = (uint16_t)(r->arg[1] & 0xf);
	f->sock.proto = (uint16_t)r->arg[2];
	f->flags |= cloexec_of(row, r);
	vg_st_sock_normalize(&f->sock);
	vg_st_set_type(f, vg_st_fdtype_of_family(f->sock.family));
	if ((r->h.flags & VG_F_SOCK) && r->sock.family == f->sock.family)
		vg_st_take_sock(f, r, ev);
}

static void sys_connect(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
			struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)row;
	ev->fd = arg_fd(r->arg[0]);
	if (r->h.flags & VG_F_NOFD) {
		vg_st_tmp_sock(st, r, false, ev);
		return;
	}
	struct vg_fd *f = vg_st_sock_fd(st, e, ev->fd, r, false);
	/* a connect that may have failed on another kind of fd (ENOTSOCK,
	 * EBADF, EFAULT...) says nothing of the fd: a file stays a file */
	if (!f || (r->h.ret < 0 && !vg_sock_errno(r->h.ret)))
		return;
	f->is_server = false;
	vg_st_take_sock(f, r, ev);
	f->connected = r->h.ret == 0 || r->h.ret == -K_EINPROGRESS;
}

static void sys_accept(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		       struct vg_event *ev, const struct vg_sysreg *row)
{
	int64_t ret = r->h.ret;
	if (ret < 0) {
		ev->fd = arg_fd(r->arg[0]);
		return;
	}
	ev->fd = ret;
	if (r->h.flags & VG_F_NOFD) {
		vg_st_tmp_sock(st, r, true, ev);
		return;
	}
	struct vg_fd *f = vg_st_fd_new(st, e, ret);
	if (!f)
		return;
	f->is_server = true;
	f->connected = true;
	f->flags |= cloexec_of(row, r);
	vg_st_take_sock(f, r, ev);
}

static void sys_bind(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		     struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)row;
	ev->fd = arg_fd(r->arg[0]);
	struct vg_fd *f = vg_st_sock_fd(st, e, ev->fd, r, true);
	if (!f || r->h.ret < 0)
		return;
	f->is_server = true;
	vg_st_take_sock(f, r, ev);
}

/* sendto, recvfrom, sendmsg, recvmsg: an unconnected, unnamed socket that
 * receives first is taken for the server end */
static void sendrecv(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		     struct vg_event *ev, bool recv)
{
	ev->fd = arg_fd(r->arg[0]);
	struct vg_fd *f = vg_st_sock_fd(st, e, ev->fd, r, recv);
	if (!f || r->h.ret < 0)
		return;
	if (!f->connected && f->name[0] == '\0')
		f->is_server = recv;
	vg_st_take_sock(f, r, ev);
}

static void sys_send(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		     struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)row;
	sendrecv(st, e, r, ev, false);
}

static void sys_recv(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		     struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)row;
	sendrecv(st, e, r, ev, true);
}

static void sys_memfd(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		      struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)row;
	int64_t ret = r->h.ret;
	if (ret < 0)
		return;
	ev->fd = ret;
	struct vg_fd *f = vg_st_fd_new(st, e, ret);
	if (!f)
		return;
	char scratch[VG_STR_MAX];
	vg_st_set_type(f, VG_FD_MEMFD);
	if (r->arg[1] & K_MFD_CLOEXEC)
		f->flags |= VG_O_CLOEXEC;
	snprintf(scratch, sizeof(scratch), "memfd:%s",
		 ev->str[VG_S_XSTR] ? ev->str[VG_S_XSTR] : "");
	vg_fdtab_set_name(f, vg_st_rs_str(scratch));
	f->name_num = ev->num;
}

static void set_cwd(struct proc_ent *e, const char *dir)
{
	char scratch[VG_STR_MAX];
	if (!dir || !*dir)
		return;
	vg_st_path_normalize(scratch, VG_STR_MAX, e->p.cwd, dir);
	if (scratch[0] == '/')
		vg_st_set_rs(e, PS_CWD, vg_st_rs_str(scratch));
}

static void sys_chdir(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		      struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)st;
	(void)row;
	if (r->h.ret == 0)
		set_cwd(e, ev->str[VG_S_CWD] ? ev->str[VG_S_CWD] : ev->path);
}

static void sys_fchdir(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		       struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)st;
	(void)row;
	ev->fd = arg_fd(r->arg[0]);
	if (r->h.ret == 0) {
		const char *dir = ev->str[VG_S_CWD];
		const struct vg_fd *f;
		if (!dir && (f = vg_fdtab_get(e->fds, ev->fd)) && f->type == VG_FD_DIR)
			dir = f->name;
		set_cwd(e, dir);
	}
}

static void sys_fdarg(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		      struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)st;
	(void)e;
	(void)row;
	ev->fd = arg_fd(r->arg[0]);
}

/* The id of a set*uid/set*gid call that changes the effective id; false
 * when it keeps it (-1). */
static bool new_eid(const struct vg_sysreg *row, const struct vg_rec *r, uint32_t *id)
{
	uint64_t v = r->arg[row->id_arg];
	if ((uint32_t)v == (uint32_t)-1)
		return false;
	*id = (uint32_t)v;
	return true;
}

static void sys_setuid(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		       struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)ev;
	uint32_t id;
	if (r->h.ret == 0 && new_eid(row, r, &id))
		vg_st_set_uid(st, e, id);
}

static void sys_setgid(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		       struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)ev;
	uint32_t id;
	if (r->h.ret == 0 && new_eid(row, r, &id))
		vg_st_set_gid(st, e, id);
}

static void sys_clone(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		      struct vg_event *ev, const struct vg_sysreg *row)
{
	(void)ev;
	(void)row;
	int64_t ret = r->h.ret;
	/* The fork record normally created the child already.  If it was
	 * lost, the return value names the child, but only in the caller's
	 * pid namespace: trust it on the host's only. */
	if (ret > 0 && !vg_st_lookup(st, (uint32_t)ret) && (e->p.known & VG_PK_VPID) &&
	    e->p.vpid == e->p.pid && !(r->h.nr == VG_NR_clone && (r->arg[0] & K_CLONE_THREAD))) {
		struct proc_ent *c = NULL;
		vg_st_fork_child(st, e, (uint32_t)ret, (uint32_t)ret, 0, &c);
	}
}

static const sys_fn handlers[VG_SA_MAX] = {
	[VG_SA_OPEN] = sys_open,
	[VG_SA_CLOSE] = sys_close,
	[VG_SA_DUP] = sys_dup,
	[VG_SA_PIPE] = sys_pipe,
	[VG_SA_SOCKETPAIR] = sys_socketpair,
	[VG_SA_SOCKET] = sys_socket,
	[VG_SA_CONNECT] = sys_connect,
	[VG_SA_ACCEPT] = sys_accept,
	[VG_SA_BIND] = sys_bind,
	[VG_SA_SEND] = sys_send,
	[VG_SA_RECV] = sys_recv,
	[VG_SA_MEMFD] = sys_memfd,
	[VG_SA_CHDIR] = sys_chdir,
	[VG_SA_FCHDIR] = sys_fchdir,
	[VG_SA_FDARG] = sys_fdarg,
	[VG_SA_SETUID] = sys_setuid,
	[VG_SA_SETGID] = sys_setgid,
	[VG_SA_CLONE] = sys_clone,
};

bool vg_st_has_handler(int family)
{
	return family == VG_SA_NONE ||
	       (family > VG_SA_NONE && family < VG_SA_MAX && handlers[family] != NULL);
}

void vg_st_apply_syscall(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
			 struct vg_event *ev)
{
	const struct vg_sc_desc *d = vg_syscall_desc(r->h.nr);

	if (d->p0 >= 0 && ev->str[VG_S_PATH0]) {
		if (d->flags & VG_SC_P0RAW) {
			ev->path = ev->str[VG_S_PATH0];
		} else {
			const char *base = ev->str[VG_S_BASE0] ? ev->str[VG_S_BASE0] : e->p.cwd;
			ev->path = vg_st_norm_path(ev->buf[0], base, ev->str[VG_S_PATH0],
						   &ev->path_cut);
		}
	}
	if (d->p1 >= 0 && ev->str[VG_S_PATH1]) {
		if (d->flags & VG_SC_P1RAW) {
			ev->path2 = ev->str[VG_S_PATH1];
		} else {
			const char *base = ev->str[VG_S_BASE1] ? ev->str[VG_S_BASE1] : e->p.cwd;
			ev->path2 = vg_st_norm_path(ev->buf[1], base, ev->str[VG_S_PATH1],
						    &ev->path_cut);
		}
	}
	/* a caller's string the kernel side cut (it fills the slot) */
	if ((r->h.flags & VG_F_TRUNC) &&
	    (ev->slen[VG_S_PATH0] == VG_STR_MAX - 1 || ev->slen[VG_S_PATH1] == VG_STR_MAX - 1))
		ev->path_cut = true;
	/* the file a successful open really opened, whatever aliases its
	 * string went through (/proc/self/root, /proc/self/fd/N, symlinks) */
	if ((d->flags & VG_SC_FDPATH) && r->h.ret >= 0 && ev->str[VG_S_FILE] &&
	    ev->str[VG_S_FILE][0] == '/')
		ev->path = ev->str[VG_S_FILE];
	/* the file an fd call worked on, as the kernel's fd table had it */
	if ((d->flags & VG_SC_FDFILE) && ev->str[VG_S_FILE] && ev->str[VG_S_FILE][0] == '/')
		ev->path = ev->str[VG_S_FILE];

	/* validate() accepted only syscalls of VG_SYSCALLS, which all have a
	 * row (test_sysreg): index the table without vg_sysreg()'s checks */
	const struct vg_sysreg *row = &vg_sysreg_rows[r->h.nr];
	sys_fn fn = handlers[row->apply];
	if (fn)
		fn(st, e, r, ev, row);
	if (ev->fd >= 0 && !ev->fdi)
		ev->fdi = vg_fdtab_get(e->fds, ev->fd);
}
