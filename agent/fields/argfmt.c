/* argfmt.c - syscall parameters under Falco's names; see argfmt.h.
 *
 * The parameter lists are the syscall registry's (event/sysreg.c), and so
 * are the open-flag/mode decoder and the O_* / S_I* names; this file
 * renders each parameter kind.  The other name tables (errnos, CLONE_*,
 * AT_*, PTRACE_*...) are in argfmt_names.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "argfmt.h"
#include "argfmt_int.h"
#include "state.h"
#include "sysreg.h"

/* The parameters of an event: its registry row's (event/sysreg.h). */
static const struct vg_sysreg *params_of(const struct vg_event *ev)
{
	return vg_sysreg_rec(ev->raw, ev->type);
}

int vg_argfmt_count(const struct vg_event *ev)
{
	const struct vg_sysreg *d = params_of(ev);
	return d ? d->nparams : 0;
}

const char *vg_argfmt_name(const struct vg_event *ev, int i)
{
	const struct vg_sysreg *d = params_of(ev);
	return d && i >= 0 && i < d->nparams ? d->params[i].name : NULL;
}

int vg_argfmt_find(const struct vg_event *ev, const char *name, size_t len)
{
	const struct vg_sysreg *d = params_of(ev);
	if (!d)
		return -1;
	for (int i = 0; i < d->nparams; i++)
		if (d->params[i].name[0] == name[0] && strncmp(d->params[i].name, name, len) == 0 &&
		    d->params[i].name[len] == '\0')
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* rendering                                                           */

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

bool vg_argfmt_render(const struct vg_event *ev, int i, bool confined, char *raw, size_t rawcap,
		      char *res, size_t rescap)
{
	const struct vg_sysreg *d = params_of(ev);
	if (!d || i < 0 || i >= d->nparams || rawcap == 0 || rescap == 0)
		return false;
	const struct vg_param *ps = &d->params[i];
	const struct vg_rec *r = ev->raw;
	const struct vg_proc *p = ev->proc;
	uint64_t a = ps->arg >= 0 && ps->arg < 6 ? r->arg[ps->arg] : 0;
	int64_t ret = r->h.ret;
	const char *s;
	raw[0] = res[0] = '\0';

	switch (ps->kind) {
	case VG_P_RES:
		fmt_s64(raw, rawcap, ret);
		if (ret < 0 && (s = vg_errno_name(ret > -4096 ? (int)-ret : 0)))
			cpy(res, rescap, s);
		break;
	case VG_P_RETINT:
		fmt_s64(raw, rawcap, ret);
		break;
	case VG_P_FDRET:
		fmt_s64(raw, rawcap, ret);
		if (ret < 0) {
			if ((s = vg_errno_name(ret > -4096 ? (int)-ret : 0)))
				cpy(res, rescap, s);
		} else {
			fd_render(ev, ret, res, rescap);
		}
		break;
	case VG_P_FD: {
		int64_t fd = (int32_t)(uint32_t)a;
		fmt_s64(raw, rawcap, fd);
		fd_render(ev, fd, res, rescap);
		break;
	}
	case VG_P_DIRFD: {
		int64_t fd = (int32_t)(uint32_t)a;
		fmt_s64(raw, rawcap, fd);
		if (fd == -100)
			cpy(res, rescap, "AT_FDCWD");
		else
			fd_render(ev, fd, res, rescap);
		break;
	}
	case VG_P_PATH0:
	case VG_P_PATH1: {
		int slot = ps->kind == VG_P_PATH0 ? VG_S_PATH0 : VG_S_PATH1;
		const char *abs = ps->kind == VG_P_PATH0 ? ev->path : ev->path2;
		if (r->h.kind == VG_K_SYSCALL && !ev->str[slot])
			return false;
		cpy(raw, rawcap, ev->str[slot] ? ev->str[slot] : "");
		if (abs && strcmp(abs, raw) != 0)
			cpy(res, rescap, abs);
		break;
	}
	case VG_P_XSTR:
		if (!ev->str[VG_S_XSTR])
			return false;
		cpy(raw, rawcap, ev->str[VG_S_XSTR]);
		break;
	case VG_P_OFLAGS: {
		uint32_t f = vg_open_flags(d, r);
		fmt_u64(raw, rawcap, f);
		vg_oflags_render(f, res, rescap);
		break;
	}
	case VG_P_FLAGS_O:
		fmt_u64(raw, rawcap, (uint32_t)a);
		vg_obits_render((uint32_t)a, res, rescap);
		break;
	case VG_P_OMODE:
	case VG_P_MODE: {
		uint32_t m = ps->kind == VG_P_OMODE ? vg_open_mode(d, r) : (uint32_t)a;
		fmt_oct(raw, rawcap, m);
		vg_mode_render(m, res, rescap);
		break;
	}
	case VG_P_INT:
		fmt_s64(raw, rawcap, (int32_t)(uint32_t)a);
		break;
	case VG_P_UINT:
		fmt_u64(raw, rawcap, a);
		break;
	case VG_P_HEX:
		fmt_hex(raw, rawcap, "0x", a);
		break;
	case VG_P_UID:
	case VG_P_GID:
		fmt_u64(raw, rawcap, (uint32_t)a);
		if (ev->st && (uint32_t)a != (uint32_t)-1)
			cpy(res, rescap,
			    ps->kind == VG_P_UID ? vg_state_user_name(ev->st, (uint32_t)a)
						 : vg_state_group_name(ev->st, (uint32_t)a));
		break;
	case VG_P_DOMAIN:
		fmt_u64(raw, rawcap, (uint32_t)a);
		vg_argfmt_enum_render(vg_argfmt_domains, (uint32_t)a, res, rescap);
		break;
	case VG_P_TUPLE:
	case VG_P_SOCKADDR:
	case VG_P_PEER:
		if (!(r->h.flags & VG_F_SOCK))
			return false;
		tuple_render(ev,
			     ps->kind == VG_P_TUPLE	 ? T_BOTH
			     : ps->kind == VG_P_SOCKADDR ? T_LOCAL
							 : T_REMOTE,
			     raw, rawcap);
		break;
	case VG_P_PTRACE:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_enum_render(vg_argfmt_ptrace_reqs, a, res, rescap);
		break;
	case VG_P_BPFCMD:
		fmt_u64(raw, rawcap, a);
		if (a < vg_argfmt_nbpf_cmds)
			cpy(res, rescap, vg_argfmt_bpf_cmds[a]);
		break;
	case VG_P_PID: {
		int32_t pid = (int32_t)(uint32_t)a;
		fmt_s64(raw, rawcap, pid);
		const struct vg_proc *t =
			pid > 0 && ev->st ? vg_state_proc(ev->st, (uint32_t)pid) : NULL;
		/* confined: another container's or the host's process keeps its
		 * name to itself */
		if (t && confined && !vg_same_container(t, p))
			t = NULL;
		if (t)
			cpy(res, rescap, t->comm);
		break;
	}
	case VG_P_SIG:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_enum_render(vg_argfmt_signames, a, res, rescap);
		break;
	case VG_P_NSFLAGS:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_flags_render(vg_argfmt_nsflags, a, res, rescap);
		break;
	case VG_P_ATFLAGS:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_flags_render(vg_argfmt_atflags, a, res, rescap);
		break;
	case VG_P_PRCTL:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_enum_render(vg_argfmt_prctl_opts, a, res, rescap);
		break;
	case VG_P_MFDFLAGS:
		fmt_u64(raw, rawcap, a);
		vg_argfmt_flags_render(vg_argfmt_mfdflags, a, res, rescap);
		break;
	case VG_P_FD1:
	case VG_P_FD2: {
		if (!(r->h.flags & VG_F_FDPAIR))
			return false;
		int64_t fd = r->aux[ps->kind == VG_P_FD1 ? 0 : 1];
		fmt_s64(raw, rawcap, fd);
		fd_render(ev, fd, res, rescap);
		break;
	}
	case VG_P_EXE:
		cpy(raw, rawcap, p->exe ? p->exe : "");
		break;
	case VG_P_ARGS:
		cpy(raw, rawcap, p->args ? p->args : "");
		break;
	case VG_P_TID:
		fmt_u64(raw, rawcap, r->h.tid);
		break;
	case VG_P_HPID:
		fmt_u64(raw, rawcap, p->pid);
		break;
	case VG_P_PTID:
		fmt_u64(raw, rawcap, p->ppid);
		break;
	case VG_P_CWD:
		cpy(raw, rawcap, p->cwd ? p->cwd : "");
		break;
	case VG_P_COMM:
		cpy(raw, rawcap, p->comm);
		break;
	case VG_P_ENV:
		env_render(p, raw, rawcap);
		break;
	case VG_P_TTY:
		fmt_u64(raw, rawcap, p->tty);
		break;
	case VG_P_PGID:
		fmt_u64(raw, rawcap, p->vpgid);
		break;
	case VG_P_LOGINUID:
		fmt_s64(raw, rawcap, (int32_t)p->loginuid);
		if (p->loginname && *p->loginname)
			cpy(res, rescap, p->loginname);
		break;
	case VG_P_EXEFLAGS:
		fmt_u64(raw, rawcap, p->exe_flags);
		vg_argfmt_flags_render(vg_argfmt_exeflags, p->exe_flags, res, rescap);
		break;
	case VG_P_CAPINH:
		caps_param(p->cap_inh, raw, rawcap, res, rescap);
		break;
	case VG_P_CAPPERM:
		caps_param(p->cap_perm, raw, rawcap, res, rescap);
		break;
	case VG_P_CAPEFF:
		caps_param(p->cap_eff, raw, rawcap, res, rescap);
		break;
	case VG_P_EXEINO:
		fmt_u64(raw, rawcap, p->exe_ino);
		break;
	case VG_P_EXECTIME:
		fmt_u64(raw, rawcap, p->exe_ctime_ns);
		break;
	case VG_P_EXEMTIME:
		fmt_u64(raw, rawcap, p->exe_mtime_ns);
		break;
	case VG_P_HUID:
		fmt_u64(raw, rawcap, p->uid);
		if (p->user && *p->user)
			cpy(res, rescap, p->user);
		break;
	case VG_P_HGID:
		fmt_u64(raw, rawcap, p->gid);
		if (p->group && *p->group)
			cpy(res, rescap, p->group);
		break;
	case VG_P_EXEPATH:
		cpy(raw, rawcap, p->exepath ? p->exepath : "");
		break;
	case VG_P_FILENAME:
		if (!ev->str[VG_X_FILENAME])
			return false;
		cpy(raw, rawcap, ev->str[VG_X_FILENAME]);
		break;
	default:
		return false;
	}
	return true;
}

bool vg_argfmt_value(const struct vg_event *ev, int i, bool confined, char *out, size_t cap)
{
	const struct vg_sysreg *d = params_of(ev);
	if (!d || i < 0 || i >= d->nparams || cap == 0)
		return false;
	if (d->params[i].kind == VG_P_OFLAGS) { /* never empty: O_RDONLY at least */
		vg_oflags_render(vg_open_flags(d, ev->raw), out, cap);
		return true;
	}
	char res[VG_STR_MAX];
	if (!vg_argfmt_render(ev, i, confined, out, cap, res, sizeof(res)))
		return false;
	if (res[0])
		cpy(out, cap, res);
	return true;
}

size_t vg_argfmt_all(const struct vg_event *ev, bool confined, char *out, size_t cap)
{
	char raw[VG_STR_MAX], res[VG_STR_MAX];
	size_t n = 0;
	if (cap == 0)
		return 0;
	out[0] = '\0';
	int cnt = vg_argfmt_count(ev);
	for (int i = 0; i < cnt; i++) {
		if (!vg_argfmt_render(ev, i, confined, raw, sizeof(raw), res, sizeof(res)))
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
