/* state_sys.c - what each syscall record does to the state. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "state_int.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* syscalls                                                            */

static int64_t arg_fd(uint64_t a)
{
	return (int64_t)(int32_t)(uint32_t)a;
}

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
		return K_O_CREAT | K_O_WRONLY | K_O_TRUNC;
	}
	return 0;
}

static void do_open(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		    struct vg_event *ev)
{
	uint32_t flags = open_flags(r);
	uint8_t type = flags & K_O_DIRECTORY ? VG_FD_DIR : VG_FD_FILE;
	int64_t ret = r->h.ret;
	if (ret < 0) {
		/* Falco still describes the file a failed open names, as fd -1 */
		memset(&st->tmp_fd, 0, sizeof(st->tmp_fd));
		st->tmp_fd.fd = -1;
		vg_st_set_type(&st->tmp_fd, type);
		st->tmp_fd.flags = flags;
		st->tmp_fd.name = ev->path ? ev->path : "";
		ev->fd = -1;
		ev->fdi = &st->tmp_fd;
		return;
	}
	ev->fd = ret;
	struct vg_fd *f = vg_st_fd_new(st, e, ret);
	if (!f)
		return;
	vg_st_set_type(f, type);
	f->flags = flags;
	if (ev->path)
		vg_fdtab_set_name(f, vg_st_rs_str(ev->path));
	f->name_num = ev->num;
}

static void do_socket(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		      struct vg_event *ev)
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
	if (r->arg[1] & K_O_CLOEXEC)
		f->flags |= K_O_CLOEXEC;
	vg_st_sock_normalize(&f->sock);
	vg_st_set_type(f, vg_st_fdtype_of_family(f->sock.family));
	if ((r->h.flags & VG_F_SOCK) && r->sock.family == f->sock.family)
		vg_st_take_sock(f, r, ev);
}

static void do_pair(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
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

static void do_net(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		   struct vg_event *ev)
{
	int nr = r->h.nr;
	int64_t ret = r->h.ret;
	struct vg_fd *f;
	switch (nr) {
	case VG_NR_connect:
		ev->fd = arg_fd(r->arg[0]);
		f = vg_st_sock_fd(st, e, ev->fd, r, false);
		if (!f)
			return;
		f->is_server = false;
		vg_st_take_sock(f, r, ev);
		f->connected = ret == 0 || ret == -K_EINPROGRESS;
		break;
	case VG_NR_accept:
	case VG_NR_accept4:
		if (ret < 0) {
			ev->fd = arg_fd(r->arg[0]);
			return;
		}
		ev->fd = ret;
		f = vg_st_fd_new(st, e, ret);
		if (!f)
			return;
		f->is_server = true;
		f->connected = true;
		if (nr == VG_NR_accept4 && (r->arg[3] & K_O_CLOEXEC))
			f->flags |= K_O_CLOEXEC;
		vg_st_take_sock(f, r, ev);
		break;
	case VG_NR_bind:
	case VG_NR_listen:
		ev->fd = arg_fd(r->arg[0]);
		f = vg_st_sock_fd(st, e, ev->fd, r, true);
		if (!f || ret < 0)
			return;
		f->is_server = true;
		vg_st_take_sock(f, r, ev);
		break;
	default: /* sendto, recvfrom, sendmsg, recvmsg */
		ev->fd = arg_fd(r->arg[0]);
		f = vg_st_sock_fd(st, e, ev->fd, r, nr == VG_NR_recvfrom || nr == VG_NR_recvmsg);
		if (!f || ret < 0)
			return;
		if (!f->connected && f->name[0] == '\0')
			f->is_server = nr == VG_NR_recvfrom || nr == VG_NR_recvmsg;
		vg_st_take_sock(f, r, ev);
		break;
	}
}

static void set_cwd(struct proc_ent *e, const char *dir, char *scratch)
{
	if (!dir || !*dir)
		return;
	vg_st_path_normalize(scratch, VG_STR_MAX, e->p.cwd, dir);
	if (scratch[0] == '/')
		vg_st_set_rs(e, PS_CWD, vg_st_rs_str(scratch));
}

/* The two ids of set*uid/set*gid calls that change the effective id. */
static bool new_eid(const struct vg_rec *r, uint32_t *id)
{
	uint64_t v;
	switch (r->h.nr) {
	case VG_NR_setuid:
	case VG_NR_setgid:
		v = r->arg[0];
		break;
	case VG_NR_setreuid:
	case VG_NR_setregid:
	case VG_NR_setresuid:
	case VG_NR_setresgid:
		v = r->arg[1];
		break;
	default:
		return false;
	}
	if ((uint32_t)v == (uint32_t)-1)
		return false;
	*id = (uint32_t)v;
	return true;
}

void vg_st_apply_syscall(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
			 struct vg_event *ev)
{
	const struct vg_sc_desc *d = vg_syscall_desc(r->h.nr);
	int nr = r->h.nr;
	int64_t ret = r->h.ret;
	char scratch[VG_STR_MAX];

	if (d->p0 >= 0 && ev->str[VG_S_PATH0]) {
		if (d->flags & VG_SC_P0RAW) {
			ev->path = ev->str[VG_S_PATH0];
		} else {
			const char *base = ev->str[VG_S_BASE0] ? ev->str[VG_S_BASE0] : e->p.cwd;
			ev->path = vg_st_norm_path(ev->buf[0], base, ev->str[VG_S_PATH0]);
		}
	}
	if (d->p1 >= 0 && ev->str[VG_S_PATH1]) {
		if (d->flags & VG_SC_P1RAW) {
			ev->path2 = ev->str[VG_S_PATH1];
		} else {
			const char *base = ev->str[VG_S_BASE1] ? ev->str[VG_S_BASE1] : e->p.cwd;
			ev->path2 = vg_st_norm_path(ev->buf[1], base, ev->str[VG_S_PATH1]);
		}
	}

	struct vg_fd *f;
	uint32_t id;
	switch (nr) {
	case VG_NR_open:
	case VG_NR_openat:
	case VG_NR_openat2:
	case VG_NR_creat:
		do_open(st, e, r, ev);
		break;
	case VG_NR_close:
		ev->fd = arg_fd(r->arg[0]);
		if (ret == 0) {
			st->dead_fd = vg_fdtab_take(e->fds, ev->fd);
			ev->fdi = st->dead_fd;
		}
		break;
	case VG_NR_dup:
	case VG_NR_dup2:
	case VG_NR_dup3:
		ev->fd = arg_fd(r->arg[0]);
		if (ret >= 0) {
			int64_t nfd = nr == VG_NR_dup ? ret : arg_fd(r->arg[1]);
			f = vg_fdtab_dup(e->fds, ev->fd, nfd, st->max_fds, &st->stats.fd_evictions);
			if (f && nr == VG_NR_dup3 && (r->arg[2] & K_O_CLOEXEC))
				f->flags |= K_O_CLOEXEC;
		}
		break;
	case VG_NR_pipe:
	case VG_NR_pipe2:
		do_pair(st, e, r, ev, VG_FD_PIPE,
			nr == VG_NR_pipe2 ? (uint32_t)r->arg[1] & K_O_CLOEXEC : 0);
		break;
	case VG_NR_socketpair:
		do_pair(st, e, r, ev, VG_FD_UNIX, (uint32_t)r->arg[1] & K_O_CLOEXEC);
		break;
	case VG_NR_socket:
		do_socket(st, e, r, ev);
		break;
	case VG_NR_connect:
	case VG_NR_accept:
	case VG_NR_accept4:
	case VG_NR_bind:
	case VG_NR_listen:
	case VG_NR_sendto:
	case VG_NR_recvfrom:
	case VG_NR_sendmsg:
	case VG_NR_recvmsg:
		do_net(st, e, r, ev);
		break;
	case VG_NR_memfd_create:
		if (ret >= 0) {
			ev->fd = ret;
			f = vg_st_fd_new(st, e, ret);
			if (f) {
				vg_st_set_type(f, VG_FD_MEMFD);
				if (r->arg[1] & K_MFD_CLOEXEC)
					f->flags |= K_O_CLOEXEC;
				snprintf(scratch, sizeof(scratch), "memfd:%s",
					 ev->str[VG_S_XSTR] ? ev->str[VG_S_XSTR] : "");
				vg_fdtab_set_name(f, vg_st_rs_str(scratch));
				f->name_num = ev->num;
			}
		}
		break;
	case VG_NR_chdir:
		if (ret == 0)
			set_cwd(e, ev->str[VG_S_CWD] ? ev->str[VG_S_CWD] : ev->path, scratch);
		break;
	case VG_NR_fchdir:
		ev->fd = arg_fd(r->arg[0]);
		if (ret == 0) {
			const char *dir = ev->str[VG_S_CWD];
			if (!dir && (f = vg_fdtab_get(e->fds, ev->fd)) && f->type == VG_FD_DIR)
				dir = f->name;
			set_cwd(e, dir, scratch);
		}
		break;
	case VG_NR_fchmod:
	case VG_NR_finit_module:
	case VG_NR_setns:
		ev->fd = arg_fd(r->arg[0]);
		break;
	case VG_NR_setuid:
	case VG_NR_setreuid:
	case VG_NR_setresuid:
		if (ret == 0 && new_eid(r, &id))
			vg_st_set_uid(st, e, id);
		break;
	case VG_NR_setgid:
	case VG_NR_setregid:
	case VG_NR_setresgid:
		if (ret == 0 && new_eid(r, &id))
			vg_st_set_gid(st, e, id);
		break;
	case VG_NR_clone:
	case VG_NR_fork:
	case VG_NR_vfork:
		/* The fork record normally created the child already.  If it
		 * was lost, the return value names the child, but only in the
		 * caller's pid namespace: trust it on the host's only. */
		if (ret > 0 && !vg_st_lookup(st, (uint32_t)ret) && (e->p.known & VG_PK_VPID) &&
		    e->p.vpid == e->p.pid && !(nr == VG_NR_clone && (r->arg[0] & K_CLONE_THREAD))) {
			struct proc_ent *c = NULL;
			vg_st_fork_child(st, e, (uint32_t)ret, (uint32_t)ret, 0, &c);
		}
		break;
	default:
		break;
	}
	if (ev->fd >= 0 && !ev->fdi)
		ev->fdi = vg_fdtab_get(e->fds, ev->fd);
}
