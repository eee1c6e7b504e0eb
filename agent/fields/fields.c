/* fields.c - the filter fields rules and outputs read; see fields.h.
 *
 * Semantics follow Falco's fields of the same name.  Where vigil does not
 * know a value (no DNS names, container metadata before the Kubernetes
 * module fills it, a process seen without its exec) the field is unset
 * and every comparison on it is false.
 *
 * fd.ip, fd.port and fd.net yield two values (client, server): `=` on them
 * matches either end and `!=` neither, as in Falco.  The ipnet fields
 * (fd.net, fd.cnet...) yield addresses typed VG_FT_NET: the operators
 * read the operand as a network and test membership.
 */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include "argfmt.h"
#include "fields.h"
#include "state.h"

#define FN(name)                                                                                   \
	static void name(const struct vg_event *ev __attribute__((unused)),                        \
			 const struct vg_farg *arg __attribute__((unused)),                        \
			 struct vg_fvals *out __attribute__((unused)))

/* ------------------------------------------------------------------ */
/* value helpers                                                       */

void vg_fvals_str(struct vg_fvals *out, const char *p, size_t len)
{
	if (out->n >= VG_FVALS_MAX)
		return;
	struct vg_fval *v = &out->v[out->n++];
	v->s.p = p;
	v->s.len = (uint32_t)len;
}

void vg_fvals_strcpy(struct vg_fvals *out, const char *p, size_t len)
{
	if (out->n >= VG_FVALS_MAX || out->used >= VG_FVALS_BUF)
		return;
	size_t room = VG_FVALS_BUF - out->used;
	if (len >= room)
		len = room - 1;
	char *d = out->buf + out->used;
	memcpy(d, p, len);
	d[len] = '\0';
	out->used += len + 1;
	vg_fvals_str(out, d, len);
}

void vg_fvals_u64(struct vg_fvals *out, uint64_t u)
{
	if (out->n < VG_FVALS_MAX)
		out->v[out->n++].u = u;
}

void vg_fvals_s64(struct vg_fvals *out, int64_t i)
{
	if (out->n < VG_FVALS_MAX)
		out->v[out->n++].i = i;
}

static void put_str(struct vg_fvals *out, const char *s)
{
	if (s)
		vg_fvals_str(out, s, strlen(s));
}

/* A string that may not outlive the call: copied into the scratch buffer. */
static void put_copy(struct vg_fvals *out, const char *s)
{
	if (s)
		vg_fvals_strcpy(out, s, strlen(s));
}

static void put_bool(struct vg_fvals *out, bool b)
{
	vg_fvals_u64(out, b ? 1 : 0);
}

/* An address; for VG_FT_NET fields the full-length prefix. */
static void put_ip(struct vg_fvals *out, unsigned family, const uint8_t *a)
{
	if (out->n >= VG_FVALS_MAX)
		return;
	struct vg_fval *v = &out->v[out->n++];
	memset(&v->ip, 0, sizeof(v->ip));
	if (family == AF_INET) {
		v->ip.family = 4;
		v->ip.prefix = 32;
		memcpy(v->ip.b, a, 4);
	} else {
		v->ip.family = 6;
		v->ip.prefix = 128;
		memcpy(v->ip.b, a, 16);
	}
}

/* A string built with snprintf into the scratch buffer. */
__attribute__((format(printf, 2, 3))) static void put_fmt(struct vg_fvals *out, const char *fmt,
							  ...)
{
	char tmp[VG_STR_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	vg_fvals_strcpy(out, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

const char *vg_ftype_name(int type)
{
	switch (type) {
	case VG_FT_STR:
		return "string";
	case VG_FT_U64:
		return "uint64";
	case VG_FT_S64:
		return "int64";
	case VG_FT_BOOL:
		return "bool";
	case VG_FT_IP:
		return "ipaddr";
	case VG_FT_NET:
		return "ipnet";
	case VG_FT_ABSTIME:
		return "abstime";
	case VG_FT_RELTIME:
		return "reltime";
	}
	return "unknown";
}

size_t vg_fval_format(const struct vg_fvals *vals, uint32_t i, char *out, size_t cap)
{
	if (cap == 0)
		return 0;
	out[0] = '\0';
	if (i >= vals->n)
		return 0;
	const struct vg_fval *v = &vals->v[i];
	int n = 0;
	switch (vals->type) {
	case VG_FT_STR: {
		size_t l = v->s.len < cap - 1 ? v->s.len : cap - 1;
		memcpy(out, v->s.p, l);
		out[l] = '\0';
		return l;
	}
	case VG_FT_U64:
	case VG_FT_ABSTIME:
	case VG_FT_RELTIME:
		n = snprintf(out, cap, "%" PRIu64, v->u);
		break;
	case VG_FT_S64:
		n = snprintf(out, cap, "%" PRId64, v->i);
		break;
	case VG_FT_BOOL:
		n = snprintf(out, cap, "%s", v->u ? "true" : "false");
		break;
	case VG_FT_IP:
	case VG_FT_NET: {
		char ip[INET6_ADDRSTRLEN];
		int af = v->ip.family == 4 ? AF_INET : AF_INET6;
		if (!inet_ntop(af, v->ip.b, ip, sizeof(ip)))
			ip[0] = '\0';
		unsigned full = v->ip.family == 4 ? 32 : 128;
		if (vals->type == VG_FT_NET && v->ip.prefix < full)
			n = snprintf(out, cap, "%s/%u", ip, v->ip.prefix);
		else
			n = snprintf(out, cap, "%s", ip);
		break;
	}
	default:
		return 0;
	}
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ------------------------------------------------------------------ */
/* evt.*                                                               */

FN(f_evt_num)
{
	vg_fvals_u64(out, ev->num);
}

static void put_time(struct vg_fvals *out, uint64_t ts, const char *fmt, bool utc, bool ns,
		     const char *suffix)
{
	time_t s = (time_t)(ts / 1000000000u);
	struct tm tm;
	if (!(utc ? gmtime_r(&s, &tm) : localtime_r(&s, &tm)))
		return;
	char b[64];
	size_t n = strftime(b, sizeof(b), fmt, &tm);
	if (ns)
		n += (size_t)snprintf(b + n, sizeof(b) - n, ".%09u", (unsigned)(ts % 1000000000u));
	if (suffix)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "%s", suffix);
	vg_fvals_strcpy(out, b, n < sizeof(b) ? n : sizeof(b) - 1);
}

FN(f_evt_time)
{
	put_time(out, ev->ts, "%H:%M:%S", false, true, NULL);
}

FN(f_evt_time_s)
{
	put_time(out, ev->ts, "%H:%M:%S", false, false, NULL);
}

FN(f_evt_time_iso8601)
{
	put_time(out, ev->ts, "%Y-%m-%dT%H:%M:%S", true, true, "Z");
}

FN(f_evt_datetime)
{
	put_time(out, ev->ts, "%Y-%m-%d %H:%M:%S", false, true, NULL);
}

FN(f_evt_datetime_s)
{
	put_time(out, ev->ts, "%Y-%m-%d %H:%M:%S", false, false, NULL);
}

FN(f_evt_rawtime)
{
	vg_fvals_u64(out, ev->ts);
}

FN(f_evt_rawtime_s)
{
	vg_fvals_u64(out, ev->ts / 1000000000u);
}

FN(f_evt_rawtime_ns)
{
	vg_fvals_u64(out, ev->ts % 1000000000u);
}

FN(f_evt_type)
{
	put_str(out, ev->name);
}

FN(f_evt_dir)
{
	put_str(out, "<"); /* vigil sees syscall exits only */
}

FN(f_evt_category)
{
	switch (vg_evtype_cat(ev->type)) {
	case VG_CAT_FILE:
		put_str(out, "file");
		break;
	case VG_CAT_NET:
		put_str(out, "net");
		break;
	case VG_CAT_PROC:
		put_str(out, "process");
		break;
	case VG_CAT_OTHER:
		put_str(out, "other");
		break;
	}
}

FN(f_evt_source)
{
	put_str(out, "syscall");
}

FN(f_evt_hostname)
{
	if (ev->st)
		put_str(out, vg_state_hostname(ev->st));
}

/* Only syscall and exec events have a return value. */
static bool has_res(const struct vg_event *ev)
{
	return ev->raw->h.kind == VG_K_SYSCALL || ev->raw->h.kind == VG_K_EXEC;
}

FN(f_evt_res)
{
	if (!has_res(ev))
		return;
	int64_t r = ev->raw->h.ret;
	if (r >= 0) {
		put_str(out, "SUCCESS");
		return;
	}
	const char *n = vg_errno_name(r > -4096 ? (int)-r : 0);
	if (n)
		put_str(out, n);
	else
		put_fmt(out, "%" PRId64, r);
}

FN(f_evt_rawres)
{
	if (has_res(ev))
		vg_fvals_s64(out, ev->raw->h.ret);
}

FN(f_evt_failed)
{
	if (has_res(ev))
		put_bool(out, ev->raw->h.ret < 0);
}

FN(f_evt_args)
{
	char b[VG_STR_MAX];
	size_t n = vg_argfmt_all(ev, b, sizeof(b));
	vg_fvals_strcpy(out, b, n);
}

FN(f_evt_arg)
{
	int i = -1;
	if (arg->kind == 1)
		i = arg->index >= 0 && arg->index < 64 ? (int)arg->index : -1;
	else if (arg->kind == 2 && arg->key)
		i = vg_argfmt_find(ev, arg->key, strlen(arg->key));
	if (i < 0)
		return;
	char v[VG_STR_MAX];
	if (vg_argfmt_value(ev, i, v, sizeof(v)))
		vg_fvals_strcpy(out, v, strlen(v));
}

static bool is_open(int type)
{
	return type == VG_NR_open || type == VG_NR_openat || type == VG_NR_openat2 ||
	       type == VG_NR_creat;
}

static uint32_t ev_open_flags(const struct vg_event *ev)
{
	const struct vg_rec *r = ev->raw;
	switch (ev->type) {
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

static uint32_t ev_open_mode(const struct vg_event *ev)
{
	const struct vg_rec *r = ev->raw;
	switch (ev->type) {
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

FN(f_evt_is_open_read)
{
	if (ev->raw->h.kind == VG_K_SYSCALL && is_open(ev->type)) {
		uint32_t acc = ev_open_flags(ev) & 3;
		put_bool(out, acc == 0 || acc == 2);
	}
}

FN(f_evt_is_open_write)
{
	if (ev->raw->h.kind == VG_K_SYSCALL && is_open(ev->type)) {
		uint32_t acc = ev_open_flags(ev) & 3;
		put_bool(out, acc == 1 || acc == 2);
	}
}

FN(f_evt_is_open_exec)
{
	if (ev->raw->h.kind == VG_K_SYSCALL && is_open(ev->type))
		put_bool(out, (ev_open_flags(ev) & 0100) && (ev_open_mode(ev) & 0111));
}

FN(f_unset)
{
	/* never has a value (evt.buffer: vigil does not capture I/O data;
	 * fd.*.name: no DNS resolution) */
}

/* ------------------------------------------------------------------ */
/* proc.*                                                              */

#define P (ev->proc)

static bool exec_known(const struct vg_proc *p)
{
	return p && (p->known & VG_PK_EXEC);
}

FN(f_proc_pid)
{
	vg_fvals_s64(out, P->pid);
}

FN(f_proc_ppid)
{
	if (P->ppid)
		vg_fvals_s64(out, P->ppid);
}

FN(f_proc_vpid)
{
	if (P->known & VG_PK_VPID)
		vg_fvals_s64(out, P->vpid);
}

FN(f_proc_sid)
{
	if (exec_known(P))
		vg_fvals_s64(out, P->sid);
}

FN(f_proc_pgid)
{
	if (exec_known(P))
		vg_fvals_s64(out, P->pgid);
}

FN(f_proc_vpgid)
{
	if (exec_known(P))
		vg_fvals_s64(out, P->vpgid);
}

FN(f_proc_name)
{
	put_str(out, P->comm);
}

FN(f_proc_exe)
{
	put_str(out, P->exe);
}

FN(f_proc_exepath)
{
	put_str(out, P->exepath);
}

FN(f_proc_args)
{
	put_str(out, P->args);
}

FN(f_proc_cmdline)
{
	put_str(out, P->cmdline);
}

FN(f_proc_exeline)
{
	if (!P->exe)
		return;
	if (P->args && *P->args)
		put_fmt(out, "%s %s", P->exe, P->args);
	else
		put_str(out, P->exe);
}

FN(f_proc_cmdnargs)
{
	if (!P->argv)
		return;
	uint64_t n = 0;
	for (size_t i = 0; i < P->argv_len; i += strlen(P->argv + i) + 1)
		n++;
	vg_fvals_u64(out, n ? n - 1 : 0);
}

FN(f_proc_cmdlenargs)
{
	if (!P->args)
		return;
	uint64_t n = 0;
	for (const char *c = P->args; *c; c++)
		if (*c != ' ')
			n++;
	vg_fvals_u64(out, n);
}

FN(f_proc_cwd)
{
	put_str(out, P->cwd);
}

FN(f_proc_env)
{
	if (!P->env)
		return;
	const char *e = P->env;
	size_t len = P->env_len;
	if (arg->kind == 2 && arg->key) {
		size_t kl = strlen(arg->key);
		for (size_t i = 0; i < len; i += strlen(e + i) + 1)
			if (strncmp(e + i, arg->key, kl) == 0 && e[i + kl] == '=') {
				put_str(out, e + i + kl + 1);
				return;
			}
		return;
	}
	/* the whole environment, variables separated by spaces */
	if (out->used >= VG_FVALS_BUF)
		return;
	if (out->used + len + 1 > VG_FVALS_BUF)
		len = VG_FVALS_BUF - out->used - 1;
	char *d = out->buf + out->used;
	for (size_t i = 0; i < len; i++)
		d[i] = e[i] ? e[i] : ' ';
	d[len] = '\0';
	out->used += len + 1;
	vg_fvals_str(out, d, len);
}

FN(f_proc_tty)
{
	if (exec_known(P))
		vg_fvals_u64(out, P->tty);
}

static const struct vg_proc *parent(const struct vg_event *ev)
{
	return ev->st ? vg_state_ancestor(ev->st, ev->proc, 1) : NULL;
}

FN(f_proc_pname)
{
	const struct vg_proc *p = parent(ev);
	if (p)
		put_str(out, p->comm);
}

FN(f_proc_pexe)
{
	const struct vg_proc *p = parent(ev);
	if (p)
		put_str(out, p->exe);
}

FN(f_proc_pexepath)
{
	const struct vg_proc *p = parent(ev);
	if (p)
		put_str(out, p->exepath);
}

FN(f_proc_pcmdline)
{
	const struct vg_proc *p = parent(ev);
	if (p)
		put_str(out, p->cmdline);
}

/* Ancestor fields: [n] is the n-th ancestor (0 = the process itself); no
 * index means every ancestor from the parent up. */
static void ancestors(const struct vg_event *ev, const struct vg_farg *arg, struct vg_fvals *out,
		      void (*one)(const struct vg_proc *, struct vg_fvals *))
{
	if (arg->kind == 1) {
		if (arg->index < 0)
			return;
		const struct vg_proc *a =
			arg->index == 0 ? ev->proc
			: ev->st	? vg_state_ancestor(ev->st, ev->proc, (int)arg->index)
					: NULL;
		if (a)
			one(a, out);
		return;
	}
	if (!ev->st)
		return;
	/* one step at a time, stopping at a pid seen before (stale loops) */
	uint32_t seen[VG_FVALS_MAX + 1];
	int n = 0;
	seen[n++] = ev->proc->pid;
	const struct vg_proc *a = ev->proc;
	while (n <= VG_FVALS_MAX && (a = vg_state_ancestor(ev->st, a, 1))) {
		for (int i = 0; i < n; i++)
			if (seen[i] == a->pid)
				return;
		seen[n++] = a->pid;
		one(a, out);
	}
}

static void one_name(const struct vg_proc *p, struct vg_fvals *out)
{
	put_str(out, p->comm);
}

static void one_pid(const struct vg_proc *p, struct vg_fvals *out)
{
	vg_fvals_s64(out, p->pid);
}

static void one_exe(const struct vg_proc *p, struct vg_fvals *out)
{
	put_str(out, p->exe);
}

static void one_exepath(const struct vg_proc *p, struct vg_fvals *out)
{
	put_str(out, p->exepath);
}

static void one_cmdline(const struct vg_proc *p, struct vg_fvals *out)
{
	put_str(out, p->cmdline);
}

FN(f_proc_aname)
{
	ancestors(ev, arg, out, one_name);
}

FN(f_proc_apid)
{
	ancestors(ev, arg, out, one_pid);
}

FN(f_proc_aexe)
{
	ancestors(ev, arg, out, one_exe);
}

FN(f_proc_aexepath)
{
	ancestors(ev, arg, out, one_exepath);
}

FN(f_proc_acmdline)
{
	ancestors(ev, arg, out, one_cmdline);
}

/* The session leader and the process-group leader are looked up by their
 * host pids. */
static const struct vg_proc *leader(const struct vg_event *ev, bool session)
{
	if (!exec_known(P) || !ev->st)
		return NULL;
	uint32_t id = session ? P->sid : P->pgid;
	if (!id)
		return NULL;
	if (id == P->pid)
		return P;
	return vg_state_proc(ev->st, id);
}

FN(f_proc_sname)
{
	const struct vg_proc *l = leader(ev, true);
	if (l)
		put_str(out, l->comm);
}

FN(f_proc_sid_exe)
{
	const struct vg_proc *l = leader(ev, true);
	if (l)
		put_str(out, l->exe);
}

FN(f_proc_sid_exepath)
{
	const struct vg_proc *l = leader(ev, true);
	if (l)
		put_str(out, l->exepath);
}

FN(f_proc_vpgid_name)
{
	const struct vg_proc *l = leader(ev, false);
	if (l)
		put_str(out, l->comm);
}

FN(f_proc_vpgid_exe)
{
	const struct vg_proc *l = leader(ev, false);
	if (l)
		put_str(out, l->exe);
}

FN(f_proc_vpgid_exepath)
{
	const struct vg_proc *l = leader(ev, false);
	if (l)
		put_str(out, l->exepath);
}

FN(f_proc_is_sid_leader)
{
	if (exec_known(P))
		put_bool(out, P->sid == P->pid);
}

FN(f_proc_is_vpgid_leader)
{
	if (exec_known(P))
		put_bool(out, P->vpgid == P->vpid);
}

static void duration(const struct vg_event *ev, const struct vg_proc *p, struct vg_fvals *out)
{
	if (!p || !(p->known & VG_PK_START))
		return;
	vg_fvals_u64(out, ev->ts > p->start_ns ? ev->ts - p->start_ns : 0);
}

FN(f_proc_duration)
{
	duration(ev, P, out);
}

FN(f_proc_ppid_duration)
{
	duration(ev, parent(ev), out);
}

FN(f_proc_exe_ino)
{
	if (exec_known(P) && P->exe_ino)
		vg_fvals_u64(out, P->exe_ino);
}

FN(f_proc_exe_ino_ctime)
{
	if (exec_known(P) && P->exe_ctime_ns)
		vg_fvals_u64(out, P->exe_ctime_ns);
}

FN(f_proc_exe_ino_mtime)
{
	if (exec_known(P) && P->exe_mtime_ns)
		vg_fvals_u64(out, P->exe_mtime_ns);
}

FN(f_proc_exe_ino_ctime_dur)
{
	if (!exec_known(P) || !P->exe_ctime_ns || !(P->known & VG_PK_START))
		return;
	uint64_t s = P->start_ns, c = P->exe_ctime_ns;
	vg_fvals_u64(out, s > c ? s - c : 0);
}

FN(f_proc_is_exe_upper_layer)
{
	if (exec_known(P))
		put_bool(out, P->exe_flags & VG_EXE_UPPER);
}

FN(f_proc_is_exe_from_memfd)
{
	if (exec_known(P))
		put_bool(out, P->exe_flags & VG_EXE_MEMFD);
}

FN(f_false)
{
	put_bool(out, false); /* container probes: vigil has no runtime metadata for them */
}

/* ------------------------------------------------------------------ */
/* thread.*, user.*, group.*                                           */

FN(f_thread_tid)
{
	vg_fvals_s64(out, ev->raw->h.tid);
}

FN(f_thread_ismain)
{
	put_bool(out, ev->raw->h.tid == ev->raw->h.pid);
}

static void caps(const struct vg_event *ev, struct vg_fvals *out, uint64_t v)
{
	if (!exec_known(P))
		return;
	char b[1024];
	size_t n = vg_caps_render(v, b, sizeof(b));
	vg_fvals_strcpy(out, b, n);
}

FN(f_thread_cap_effective)
{
	caps(ev, out, P->cap_eff);
}

FN(f_thread_cap_permitted)
{
	caps(ev, out, P->cap_perm);
}

FN(f_thread_cap_inheritable)
{
	caps(ev, out, P->cap_inh);
}

FN(f_user_uid)
{
	vg_fvals_u64(out, P->uid);
}

FN(f_user_name)
{
	put_str(out, P->user);
}

FN(f_user_homedir)
{
	if (ev->st)
		put_copy(out, vg_state_user_home(ev->st, P->uid));
}

FN(f_user_shell)
{
	if (ev->st)
		put_copy(out, vg_state_user_shell(ev->st, P->uid));
}

FN(f_user_loginuid)
{
	vg_fvals_s64(out, (int32_t)P->loginuid);
}

FN(f_user_loginname)
{
	put_str(out, P->loginname);
}

FN(f_group_gid)
{
	vg_fvals_u64(out, P->gid);
}

FN(f_group_name)
{
	put_str(out, P->group);
}

/* ------------------------------------------------------------------ */
/* fd.*                                                                */

#define F (ev->fdi)

static const char *fdtype_name(uint8_t t)
{
	switch (t) {
	case VG_FD_FILE:
		return "file";
	case VG_FD_DIR:
		return "directory";
	case VG_FD_IPV4:
		return "ipv4";
	case VG_FD_IPV6:
		return "ipv6";
	case VG_FD_UNIX:
		return "unix";
	case VG_FD_PIPE:
		return "pipe";
	case VG_FD_EVENT:
		return "event";
	case VG_FD_SIGNAL:
		return "signalfd";
	case VG_FD_NETLINK:
		return "netlink";
	case VG_FD_MEMFD:
		return "memfd";
	default:
		return "unknown";
	}
}

static bool is_ip(const struct vg_fd *f)
{
	return f && (f->type == VG_FD_IPV4 || f->type == VG_FD_IPV6);
}

static bool is_sock(const struct vg_fd *f)
{
	return is_ip(f) || (f && f->type == VG_FD_UNIX);
}

static bool is_path(const struct vg_fd *f)
{
	return f && (f->type == VG_FD_FILE || f->type == VG_FD_DIR || f->type == VG_FD_MEMFD);
}

FN(f_fd_num)
{
	if (F)
		vg_fvals_s64(out, F->fd);
	else if (ev->fd >= 0)
		vg_fvals_s64(out, ev->fd);
}

FN(f_fd_type)
{
	if (F)
		put_str(out, fdtype_name(F->type));
}

FN(f_fd_typechar)
{
	if (F)
		vg_fvals_str(out, &F->typechar, 1);
}

FN(f_fd_name)
{
	if (F)
		put_str(out, F->name);
}

FN(f_fd_nameraw)
{
	if (!F)
		return;
	/* the path as the open call passed it; other fds have no raw form */
	if (is_open(ev->type) && ev->raw->h.kind == VG_K_SYSCALL && ev->str[VG_S_PATH0] &&
	    F->fd == ev->fd)
		put_str(out, ev->str[VG_S_PATH0]);
	else
		put_str(out, F->name);
}

FN(f_fd_directory)
{
	if (!is_path(F) || !F->name)
		return;
	if (F->type == VG_FD_DIR) {
		put_str(out, F->name);
		return;
	}
	const char *slash = strrchr(F->name, '/');
	if (!slash)
		return;
	vg_fvals_str(out, F->name, slash == F->name ? 1 : (size_t)(slash - F->name));
}

FN(f_fd_filename)
{
	if (!is_path(F) || F->type == VG_FD_DIR || !F->name)
		return;
	const char *slash = strrchr(F->name, '/');
	put_str(out, slash ? slash + 1 : F->name);
}

struct types_ctx {
	struct vg_fvals *out;
	uint32_t seen; /* bit per fd type already listed */
};

static int types_one(void *ctx, const struct vg_fd *f)
{
	struct types_ctx *c = ctx;
	if (f->type < 32 && !(c->seen & (1u << f->type))) {
		c->seen |= 1u << f->type;
		put_str(c->out, fdtype_name(f->type));
	}
	return 0;
}

FN(f_fd_types)
{
	if (!ev->st)
		return;
	if (arg->kind == 1) {
		const struct vg_fd *f = vg_state_fd(ev->st, ev->proc, arg->index);
		if (f)
			put_str(out, fdtype_name(f->type));
		return;
	}
	struct types_ctx c = {out, 0};
	vg_state_fds(ev->st, ev->proc, types_one, &c);
}

FN(f_fd_l4proto)
{
	if (!is_ip(F))
		return;
	switch (F->sock.proto) {
	case IPPROTO_TCP:
		put_str(out, "tcp");
		break;
	case IPPROTO_UDP:
		put_str(out, "udp");
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		put_str(out, "icmp");
		break;
	default:
		put_str(out, "raw");
		break;
	}
}

FN(f_fd_sockfamily)
{
	if (is_ip(F))
		put_str(out, "ip");
	else if (F && F->type == VG_FD_UNIX)
		put_str(out, "unix");
}

FN(f_fd_connected)
{
	if (is_sock(F))
		put_bool(out, F->connected);
}

FN(f_fd_name_changed)
{
	if (F)
		put_bool(out, F->name_num == ev->num);
}

FN(f_fd_is_server)
{
	if (is_sock(F))
		put_bool(out, F->is_server);
}

/* Ends of an IP socket: local/remote as captured, client/server by role. */
enum end { END_L, END_R, END_C, END_S };

static bool end_is_local(const struct vg_fd *f, enum end e)
{
	switch (e) {
	case END_L:
		return true;
	case END_R:
		return false;
	case END_C:
		return !f->is_server;
	default:
		return f->is_server;
	}
}

static void put_end_ip(const struct vg_fd *f, enum end e, struct vg_fvals *out)
{
	put_ip(out, f->sock.family, end_is_local(f, e) ? f->sock.laddr : f->sock.raddr);
}

static void put_end_port(const struct vg_fd *f, enum end e, struct vg_fvals *out)
{
	vg_fvals_u64(out, end_is_local(f, e) ? f->sock.lport : f->sock.rport);
}

#define IPFN(fname, end)                                                                           \
	FN(fname)                                                                                  \
	{                                                                                          \
		if (is_ip(F))                                                                      \
			put_end_ip(F, end, out);                                                   \
	}
#define PORTFN(fname, end)                                                                         \
	FN(fname)                                                                                  \
	{                                                                                          \
		if (is_ip(F))                                                                      \
			put_end_port(F, end, out);                                                 \
	}

IPFN(f_fd_cip, END_C)
IPFN(f_fd_sip, END_S)
IPFN(f_fd_lip, END_L)
IPFN(f_fd_rip, END_R)
PORTFN(f_fd_cport, END_C)
PORTFN(f_fd_sport, END_S)
PORTFN(f_fd_lport, END_L)
PORTFN(f_fd_rport, END_R)

FN(f_fd_ip)
{
	if (!is_ip(F))
		return;
	put_end_ip(F, END_C, out);
	put_end_ip(F, END_S, out);
}

FN(f_fd_port)
{
	if (!is_ip(F))
		return;
	put_end_port(F, END_C, out);
	put_end_port(F, END_S, out);
}

/* ------------------------------------------------------------------ */
/* container.*, k8s.*                                                  */

static const struct vg_container_meta *meta(const struct vg_event *ev)
{
	return ev->st ? vg_state_meta(ev->st, ev->proc) : NULL;
}

FN(f_container_id)
{
	if (P->container_id[0])
		put_str(out, P->container_id);
}

#define METASTR(fname, member)                                                                     \
	FN(fname)                                                                                  \
	{                                                                                          \
		const struct vg_container_meta *m = meta(ev);                                      \
		if (m)                                                                             \
			put_str(out, m->member);                                                   \
	}

METASTR(f_container_name, name)
METASTR(f_container_image, image)
METASTR(f_container_image_repo, image_repo)
METASTR(f_container_image_tag, image_tag)
METASTR(f_k8s_ns_name, ns_name)
METASTR(f_k8s_pod_name, pod_name)

/* The pod uid is known from the cgroup path before the Kubernetes module
 * knows the pod. */
FN(f_k8s_pod_uid)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->pod_uid) {
		put_str(out, m->pod_uid);
		return;
	}
	char uid[37];
	if (P->cgroup && vg_container_pod_uid(P->cgroup, uid) == 0)
		vg_fvals_strcpy(out, uid, strlen(uid));
}

FN(f_container_privileged)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->privileged >= 0)
		put_bool(out, m->privileged > 0);
}

FN(f_container_start_ts)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->start_ts)
		vg_fvals_u64(out, m->start_ts);
}

FN(f_container_duration)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->start_ts)
		vg_fvals_u64(out, ev->ts > m->start_ts ? ev->ts - m->start_ts : 0);
}

FN(f_container_mounts)
{
	const struct vg_container_meta *m = meta(ev);
	if (!m || !m->mounts)
		return;
	char b[VG_STR_MAX];
	size_t n = 0;
	b[0] = '\0';
	for (size_t i = 0; i < m->nmounts && n < sizeof(b); i++) {
		const struct vg_mount *mt = &m->mounts[i];
		int w = snprintf(b + n, sizeof(b) - n, "%s%s:%s:%s:%s:%s", i ? "," : "",
				 mt->source ? mt->source : "", mt->dest ? mt->dest : "",
				 mt->mode ? mt->mode : "", mt->rw ? "true" : "false",
				 mt->propagation ? mt->propagation : "");
		if (w < 0)
			break;
		n += (size_t)w;
	}
	vg_fvals_strcpy(out, b, n < sizeof(b) ? n : sizeof(b) - 1);
}

/* container.mount.dest[SRC] / container.mount.source[DEST]: the other end
 * of the first mount whose end matches the glob, or of mount number n.
 * Falco answers "N/A" when no mount matches, and rules test for it. */
static void mount_end(const struct vg_event *ev, const struct vg_farg *arg, struct vg_fvals *out,
		      bool want_dest)
{
	const struct vg_container_meta *m = meta(ev);
	if (!m || !m->mounts)
		return;
	if (arg->kind == 1) {
		if (arg->index >= 0 && (size_t)arg->index < m->nmounts) {
			const struct vg_mount *mt = &m->mounts[arg->index];
			put_str(out, want_dest ? mt->dest : mt->source);
		} else {
			put_str(out, "N/A");
		}
		return;
	}
	if (arg->kind != 2 || !arg->key)
		return;
	for (size_t i = 0; i < m->nmounts; i++) {
		const struct vg_mount *mt = &m->mounts[i];
		const char *key = want_dest ? mt->source : mt->dest;
		if (key && fnmatch(arg->key, key, 0) == 0) {
			put_str(out, want_dest ? mt->dest : mt->source);
			return;
		}
	}
	put_str(out, "N/A");
}

FN(f_container_mount_dest)
{
	mount_end(ev, arg, out, true);
}

FN(f_container_mount_source)
{
	mount_end(ev, arg, out, false);
}

static void labels_all(const struct vg_label *l, size_t n, struct vg_fvals *out)
{
	char b[VG_STR_MAX];
	size_t len = 0;
	b[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(b); i++) {
		int w = snprintf(b + len, sizeof(b) - len, "%s%s:%s", i ? ", " : "",
				 l[i].key ? l[i].key : "", l[i].value ? l[i].value : "");
		if (w < 0)
			break;
		len += (size_t)w;
	}
	vg_fvals_strcpy(out, b, len < sizeof(b) ? len : sizeof(b) - 1);
}

static void label_one(const struct vg_label *l, size_t n, const struct vg_farg *arg,
		      struct vg_fvals *out)
{
	if (arg->kind != 2 || !arg->key)
		return;
	for (size_t i = 0; i < n; i++)
		if (l[i].key && strcmp(l[i].key, arg->key) == 0) {
			put_str(out, l[i].value ? l[i].value : "");
			return;
		}
}

FN(f_k8s_pod_labels)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->pod_name)
		labels_all(m->pod_labels, m->npod_labels, out);
}

FN(f_k8s_pod_label)
{
	const struct vg_container_meta *m = meta(ev);
	if (m)
		label_one(m->pod_labels, m->npod_labels, arg, out);
}

FN(f_k8s_ns_labels)
{
	const struct vg_container_meta *m = meta(ev);
	if (m && m->ns_name)
		labels_all(m->ns_labels, m->nns_labels, out);
}

FN(f_k8s_ns_label)
{
	const struct vg_container_meta *m = meta(ev);
	if (m)
		label_one(m->ns_labels, m->nns_labels, arg, out);
}

/* ------------------------------------------------------------------ */
/* fs.path.*                                                           */

/* Calls with a source and a target (rename, link, symlink) fill
 * fs.path.source/target; the other path calls fill fs.path.name. */
static bool two_paths(int type)
{
	switch (type) {
	case VG_NR_rename:
	case VG_NR_renameat:
	case VG_NR_renameat2:
	case VG_NR_link:
	case VG_NR_linkat:
	case VG_NR_symlink:
	case VG_NR_symlinkat:
		return true;
	}
	return false;
}

static bool is_symlink(int type)
{
	return type == VG_NR_symlink || type == VG_NR_symlinkat;
}

static bool path_call(const struct vg_event *ev)
{
	if (ev->raw->h.kind != VG_K_SYSCALL)
		return false;
	const struct vg_sc_desc *d = vg_syscall_desc(ev->type);
	return d && d->p0 >= 0 && !(d->flags & (VG_SC_EXEC | VG_SC_P0RAW)) &&
	       ev->type != VG_NR_mount;
}

FN(f_fs_path_name)
{
	if (path_call(ev) && !two_paths(ev->type))
		put_str(out, ev->path);
}

FN(f_fs_path_nameraw)
{
	if (path_call(ev) && !two_paths(ev->type))
		put_str(out, ev->str[VG_S_PATH0]);
}

FN(f_fs_path_source)
{
	if (!path_call(ev) || !two_paths(ev->type))
		return;
	put_str(out, is_symlink(ev->type) ? ev->str[VG_S_XSTR] : ev->path);
}

FN(f_fs_path_sourceraw)
{
	if (!path_call(ev) || !two_paths(ev->type))
		return;
	put_str(out, is_symlink(ev->type) ? ev->str[VG_S_XSTR] : ev->str[VG_S_PATH0]);
}

FN(f_fs_path_target)
{
	if (!path_call(ev) || !two_paths(ev->type))
		return;
	put_str(out, is_symlink(ev->type) ? ev->path : ev->path2);
}

FN(f_fs_path_targetraw)
{
	if (!path_call(ev) || !two_paths(ev->type))
		return;
	put_str(out, is_symlink(ev->type) ? ev->str[VG_S_PATH0] : ev->str[VG_S_PATH1]);
}

/* ------------------------------------------------------------------ */
/* the registry                                                        */

#define S VG_FT_STR
#define U VG_FT_U64
#define I VG_FT_S64
#define B VG_FT_BOOL
#define IP VG_FT_IP
#define NET VG_FT_NET
#define AT VG_FT_ABSTIME
#define RT VG_FT_RELTIME
#define IDX VG_FF_ARG_INDEX
#define KEY VG_FF_ARG_KEY
#define REQ VG_FF_ARG_REQ
#define LIST VG_FF_LIST

static const struct vg_field fields[] = {
	/* evt */
	{"evt.num", U, 0, f_evt_num, "sequence number of the event"},
	{"evt.time", S, 0, f_evt_time, "local time of day of the event, with nanoseconds"},
	{"evt.time.s", S, 0, f_evt_time_s, "local time of day of the event, whole seconds"},
	{"evt.time.iso8601", S, 0, f_evt_time_iso8601, "UTC date and time of the event, ISO 8601"},
	{"evt.datetime", S, 0, f_evt_datetime,
	 "local date and time of the event, with nanoseconds"},
	{"evt.datetime.s", S, 0, f_evt_datetime_s,
	 "local date and time of the event, whole seconds"},
	{"evt.rawtime", AT, 0, f_evt_rawtime, "event time in nanoseconds since the epoch"},
	{"evt.rawtime.s", AT, 0, f_evt_rawtime_s, "event time in whole seconds since the epoch"},
	{"evt.rawtime.ns", AT, 0, f_evt_rawtime_ns, "nanosecond part of the event time"},
	{"evt.type", S, 0, f_evt_type, "event type: the syscall name, or procexit"},
	{"evt.dir", S, 0, f_evt_dir, "direction; always < since vigil reports syscall exits"},
	{"evt.category", S, 0, f_evt_category,
	 "broad class of the event: file, net, process, other"},
	{"evt.source", S, 0, f_evt_source, "event source; always syscall"},
	{"evt.hostname", S, 0, f_evt_hostname, "name of the node the agent runs on"},
	{"evt.res", S, 0, f_evt_res, "outcome: SUCCESS, or the errno name such as ENOENT"},
	{"evt.rawres", I, 0, f_evt_rawres, "return value of the call as a number"},
	{"evt.failed", B, 0, f_evt_failed, "true when the call returned an error"},
	{"evt.args", S, 0, f_evt_args, "every parameter of the event as name=value text"},
	{"evt.arg", S, IDX | KEY | REQ, f_evt_arg,
	 "one parameter by name (evt.arg.flags) or position (evt.arg[0]), as text"},
	{"evt.is_open_read", B, 0, f_evt_is_open_read, "open-family call asking for read access"},
	{"evt.is_open_write", B, 0, f_evt_is_open_write,
	 "open-family call asking for write access"},
	{"evt.is_open_exec", B, 0, f_evt_is_open_exec,
	 "open-family call creating a file with an execute bit in its mode"},
	{"evt.buffer", S, 0, f_unset, "I/O data of the call; never captured by vigil (unset)"},

	/* proc */
	{"proc.pid", I, 0, f_proc_pid, "process id (host pid namespace)"},
	{"proc.ppid", I, 0, f_proc_ppid, "parent process id"},
	{"proc.vpid", I, 0, f_proc_vpid, "process id inside its own pid namespace"},
	{"proc.sid", I, 0, f_proc_sid, "session id (host pid of the session leader)"},
	{"proc.pgid", I, 0, f_proc_pgid, "process group id (host)"},
	{"proc.vpgid", I, 0, f_proc_vpgid, "process group id inside the pid namespace"},
	{"proc.name", S, 0, f_proc_name, "command name (comm) of the thread"},
	{"proc.exe", S, 0, f_proc_exe, "first command-line argument (argv[0])"},
	{"proc.exepath", S, 0, f_proc_exepath, "absolute path of the executable file"},
	{"proc.args", S, 0, f_proc_args, "arguments after argv[0], joined by spaces"},
	{"proc.cmdline", S, 0, f_proc_cmdline, "command name followed by the arguments"},
	{"proc.exeline", S, 0, f_proc_exeline, "argv[0] followed by the arguments"},
	{"proc.cmdnargs", U, 0, f_proc_cmdnargs, "number of arguments after argv[0]"},
	{"proc.cmdlenargs", U, 0, f_proc_cmdlenargs,
	 "characters in the arguments, spaces excluded"},
	{"proc.cwd", S, 0, f_proc_cwd, "current working directory"},
	{"proc.env", S, KEY, f_proc_env,
	 "environment at exec (bounded), or one variable's value with [NAME]"},
	{"proc.tty", U, 0, f_proc_tty, "controlling terminal device number, 0 when none"},
	{"proc.pname", S, 0, f_proc_pname, "command name of the parent"},
	{"proc.pexe", S, 0, f_proc_pexe, "argv[0] of the parent"},
	{"proc.pexepath", S, 0, f_proc_pexepath, "executable path of the parent"},
	{"proc.pcmdline", S, 0, f_proc_pcmdline, "command line of the parent"},
	{"proc.aname", S, IDX | LIST, f_proc_aname,
	 "command name of the n-th ancestor ([0] is the process); all ancestors without [n]"},
	{"proc.apid", I, IDX | LIST, f_proc_apid, "pid of the n-th ancestor, or of all ancestors"},
	{"proc.aexe", S, IDX | LIST, f_proc_aexe,
	 "argv[0] of the n-th ancestor, or of all ancestors"},
	{"proc.aexepath", S, IDX | LIST, f_proc_aexepath,
	 "executable path of the n-th ancestor, or of all ancestors"},
	{"proc.acmdline", S, IDX | LIST, f_proc_acmdline,
	 "command line of the n-th ancestor, or of all ancestors"},
	{"proc.sname", S, 0, f_proc_sname, "command name of the session leader"},
	{"proc.sid.exe", S, 0, f_proc_sid_exe, "argv[0] of the session leader"},
	{"proc.sid.exepath", S, 0, f_proc_sid_exepath, "executable path of the session leader"},
	{"proc.vpgid.name", S, 0, f_proc_vpgid_name, "command name of the process group leader"},
	{"proc.vpgid.exe", S, 0, f_proc_vpgid_exe, "argv[0] of the process group leader"},
	{"proc.vpgid.exepath", S, 0, f_proc_vpgid_exepath,
	 "executable path of the process group leader"},
	{"proc.is_sid_leader", B, 0, f_proc_is_sid_leader, "the process leads its session"},
	{"proc.is_vpgid_leader", B, 0, f_proc_is_vpgid_leader,
	 "the process leads its process group"},
	{"proc.duration", RT, 0, f_proc_duration, "nanoseconds since the process started"},
	{"proc.ppid.duration", RT, 0, f_proc_ppid_duration, "nanoseconds since the parent started"},
	{"proc.exe_ino", U, 0, f_proc_exe_ino, "inode number of the executable file"},
	{"proc.exe_ino.ctime", AT, 0, f_proc_exe_ino_ctime,
	 "last status change of the executable's inode (ns since the epoch)"},
	{"proc.exe_ino.mtime", AT, 0, f_proc_exe_ino_mtime,
	 "last modification of the executable's inode (ns since the epoch)"},
	{"proc.exe_ino.ctime_duration_proc_start", RT, 0, f_proc_exe_ino_ctime_dur,
	 "nanoseconds between the executable's last status change and the process start"},
	{"proc.is_exe_upper_layer", B, 0, f_proc_is_exe_upper_layer,
	 "the executable lies on the writable upper layer of an overlay filesystem"},
	{"proc.is_exe_from_memfd", B, 0, f_proc_is_exe_from_memfd,
	 "the executable is a memfd (fileless execution)"},
	{"proc.is_container_healthcheck", B, 0, f_false,
	 "the process is a container health check (always false: not known to vigil)"},
	{"proc.is_container_liveness_probe", B, 0, f_false,
	 "the process is a liveness probe (always false: not known to vigil)"},
	{"proc.is_container_readiness_probe", B, 0, f_false,
	 "the process is a readiness probe (always false: not known to vigil)"},

	/* thread, user, group */
	{"thread.tid", I, 0, f_thread_tid, "id of the thread that made the call"},
	{"thread.ismain", B, 0, f_thread_ismain, "the thread is the main thread of its process"},
	{"thread.cap_effective", S, 0, f_thread_cap_effective,
	 "effective capabilities, names separated by spaces"},
	{"thread.cap_permitted", S, 0, f_thread_cap_permitted,
	 "permitted capabilities, names separated by spaces"},
	{"thread.cap_inheritable", S, 0, f_thread_cap_inheritable,
	 "inheritable capabilities, names separated by spaces"},
	{"user.uid", U, 0, f_user_uid, "effective user id"},
	{"user.name", S, 0, f_user_name, "effective user name (\"\" when unknown)"},
	{"user.homedir", S, 0, f_user_homedir, "home directory of the effective user"},
	{"user.shell", S, 0, f_user_shell, "login shell of the effective user"},
	{"user.loginuid", I, 0, f_user_loginuid, "audit login user id, -1 when not set"},
	{"user.loginname", S, 0, f_user_loginname, "name of the audit login user"},
	{"group.gid", U, 0, f_group_gid, "effective group id"},
	{"group.name", S, 0, f_group_name, "effective group name (\"\" when unknown)"},

	/* fd */
	{"fd.num", I, 0, f_fd_num, "file descriptor number (-1 for a failed open)"},
	{"fd.type", S, 0, f_fd_type,
	 "kind of fd: file, directory, ipv4, ipv6, unix, pipe, netlink, memfd, unknown"},
	{"fd.typechar", S, 0, f_fd_typechar, "kind of fd as one character (f d 4 6 u p n m o)"},
	{"fd.name", S, 0, f_fd_name, "absolute path of a file, or the connection of a socket"},
	{"fd.nameraw", S, 0, f_fd_nameraw, "the path exactly as the open call passed it"},
	{"fd.directory", S, 0, f_fd_directory, "directory holding the file"},
	{"fd.filename", S, 0, f_fd_filename, "file name without its directory"},
	{"fd.types", S, IDX | LIST, f_fd_types,
	 "kinds of all fds the process holds, or of fd n with [n]"},
	{"fd.l4proto", S, 0, f_fd_l4proto,
	 "transport protocol of an IP socket: tcp, udp, icmp, raw"},
	{"fd.sockfamily", S, 0, f_fd_sockfamily, "socket family: ip or unix"},
	{"fd.connected", B, 0, f_fd_connected, "the socket is connected"},
	{"fd.name_changed", B, 0, f_fd_name_changed,
	 "this event changed the fd's name (e.g. a new peer on a UDP socket)"},
	{"fd.is_server", B, 0, f_fd_is_server, "the local end of the socket is the server"},
	{"fd.ip", IP, LIST, f_fd_ip, "either address of the connection (client or server)"},
	{"fd.cip", IP, 0, f_fd_cip, "address of the client end"},
	{"fd.sip", IP, 0, f_fd_sip, "address of the server end"},
	{"fd.lip", IP, 0, f_fd_lip, "address of the local end"},
	{"fd.rip", IP, 0, f_fd_rip, "address of the remote end"},
	{"fd.port", U, LIST, f_fd_port, "either port of the connection (client or server)"},
	{"fd.cport", U, 0, f_fd_cport, "port of the client end"},
	{"fd.sport", U, 0, f_fd_sport, "port of the server end"},
	{"fd.lport", U, 0, f_fd_lport, "port of the local end"},
	{"fd.rport", U, 0, f_fd_rport, "port of the remote end"},
	{"fd.net", NET, LIST, f_fd_ip,
	 "either address of the connection, matched against networks"},
	{"fd.cnet", NET, 0, f_fd_cip, "client address, matched against networks"},
	{"fd.snet", NET, 0, f_fd_sip, "server address, matched against networks"},
	{"fd.lnet", NET, 0, f_fd_lip, "local address, matched against networks"},
	{"fd.rnet", NET, 0, f_fd_rip, "remote address, matched against networks"},
	{"fd.cip.name", S, 0, f_unset, "DNS name of the client address (unset: no DNS in vigil)"},
	{"fd.sip.name", S, 0, f_unset, "DNS name of the server address (unset: no DNS in vigil)"},
	{"fd.lip.name", S, 0, f_unset, "DNS name of the local address (unset: no DNS in vigil)"},
	{"fd.rip.name", S, 0, f_unset, "DNS name of the remote address (unset: no DNS in vigil)"},

	/* container, k8s */
	{"container.id", S, 0, f_container_id, "container id (12 hex digits), or host"},
	{"container.name", S, 0, f_container_name, "container name"},
	{"container.image", S, 0, f_container_image, "container image reference"},
	{"container.image.repository", S, 0, f_container_image_repo,
	 "repository of the container image"},
	{"container.image.tag", S, 0, f_container_image_tag, "tag of the container image"},
	{"container.privileged", B, 0, f_container_privileged, "the container runs privileged"},
	{"container.mounts", S, 0, f_container_mounts,
	 "mounts of the container as source:dest:mode:rw:propagation, comma-separated"},
	{"container.mount.dest", S, IDX | KEY | REQ, f_container_mount_dest,
	 "destination of the mount whose source matches the glob [SRC] (or mount [n]); N/A if "
	 "none"},
	{"container.mount.source", S, IDX | KEY | REQ, f_container_mount_source,
	 "source of the mount whose destination matches the glob [DEST] (or mount [n]); N/A if "
	 "none"},
	{"container.start_ts", AT, 0, f_container_start_ts, "container start time"},
	{"container.duration", RT, 0, f_container_duration,
	 "nanoseconds since the container started"},
	{"k8s.ns.name", S, 0, f_k8s_ns_name, "Kubernetes namespace of the pod"},
	{"k8s.pod.name", S, 0, f_k8s_pod_name, "Kubernetes pod name"},
	{"k8s.pod.uid", S, 0, f_k8s_pod_uid,
	 "Kubernetes pod uid (from the cgroup path until the pod is known)"},
	{"k8s.pod.labels", S, 0, f_k8s_pod_labels, "pod labels as key:value, comma-separated"},
	{"k8s.pod.label", S, KEY | REQ, f_k8s_pod_label, "value of one pod label, [KEY]"},
	{"k8s.ns.labels", S, 0, f_k8s_ns_labels, "namespace labels as key:value, comma-separated"},
	{"k8s.ns.label", S, KEY | REQ, f_k8s_ns_label, "value of one namespace label, [KEY]"},

	/* fs.path */
	{"fs.path.name", S, 0, f_fs_path_name, "absolute path a single-path file call works on"},
	{"fs.path.nameraw", S, 0, f_fs_path_nameraw, "that path as the call passed it"},
	{"fs.path.source", S, 0, f_fs_path_source,
	 "source of a rename, link or symlink (absolute except a symlink target)"},
	{"fs.path.sourceraw", S, 0, f_fs_path_sourceraw, "that source as the call passed it"},
	{"fs.path.target", S, 0, f_fs_path_target,
	 "absolute target path of a rename, link or symlink"},
	{"fs.path.targetraw", S, 0, f_fs_path_targetraw, "that target as the call passed it"},
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

size_t vg_field_count(void)
{
	return NFIELDS;
}

const struct vg_field *vg_field_at(size_t i)
{
	return i < NFIELDS ? &fields[i] : NULL;
}

static const struct vg_field *exact(const char *name, size_t len)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strncmp(fields[i].name, name, len) == 0 && fields[i].name[len] == '\0')
			return &fields[i];
	return NULL;
}

/* Fields whose key may also follow a dot: evt.arg.flags, k8s.pod.label.app. */
static const char *const dotted[] = {"evt.arg", "k8s.pod.label", "k8s.ns.label"};

const struct vg_field *vg_field_find(const char *name, size_t len, struct vg_farg *arg,
				     size_t *keylen)
{
	if (arg) {
		arg->kind = 0;
		arg->index = 0;
		arg->key = NULL;
	}
	if (keylen)
		*keylen = 0;
	const struct vg_field *f = exact(name, len);
	if (f)
		return f;
	for (size_t i = 0; i < sizeof(dotted) / sizeof(dotted[0]); i++) {
		size_t pl = strlen(dotted[i]);
		if (len > pl + 1 && strncmp(name, dotted[i], pl) == 0 && name[pl] == '.') {
			if (arg) {
				arg->kind = 2;
				arg->key = name + pl + 1;
			}
			if (keylen)
				*keylen = len - pl - 1;
			return exact(dotted[i], pl);
		}
	}
	return NULL;
}
