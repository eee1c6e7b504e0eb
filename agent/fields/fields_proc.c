/* fields_proc.c - the proc.* fields: the process, its ancestors, its
 * session and process group leaders, its executable; see fields.h.
 */
#include "fields_int.h"

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

/* The parent when it is in the event's container (confined variants). */
static const struct vg_proc *parent_in(const struct vg_event *ev)
{
	const struct vg_proc *p = parent(ev);
	return vg_same_container(p, ev->proc) ? p : NULL;
}

#define PARENT_FIELD(name, member)                                                                 \
	FN(f_proc_##name)                                                                          \
	{                                                                                          \
		const struct vg_proc *p = parent(ev);                                              \
		if (p)                                                                             \
			put_str(out, p->member);                                                   \
	}                                                                                          \
	FN(c_proc_##name)                                                                          \
	{                                                                                          \
		const struct vg_proc *p = parent_in(ev);                                           \
		if (p)                                                                             \
			put_str(out, p->member);                                                   \
	}

PARENT_FIELD(pname, comm)
PARENT_FIELD(pexe, exe)
PARENT_FIELD(pexepath, exepath)
PARENT_FIELD(pcmdline, cmdline)

FN(c_proc_ppid)
{
	if (parent_in(ev))
		vg_fvals_s64(out, P->ppid);
}

/* Ancestor fields: [n] is the n-th ancestor (0 = the process itself); no
 * index means every ancestor from the parent up.  confined (a namespaced
 * Rule's variant): the walk stops at the first ancestor outside the
 * event's container, as if the chain ended there. */
static void ancestors(const struct vg_event *ev, const struct vg_farg *arg, struct vg_fvals *out,
		      void (*one)(const struct vg_proc *, struct vg_fvals *), bool confined)
{
	if (arg->kind == 1) {
		if (arg->index < 0)
			return;
		const struct vg_proc *a = ev->proc;
		if (arg->index > 0 && !confined)
			a = ev->st ? vg_state_ancestor(ev->st, ev->proc, (int)arg->index) : NULL;
		for (int64_t i = 0; confined && a && i < arg->index; i++) {
			a = ev->st && i < VG_FVALS_MAX ? vg_state_ancestor(ev->st, a, 1) : NULL;
			if (!vg_same_container(a, ev->proc))
				a = NULL;
		}
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
		if (confined && !vg_same_container(a, ev->proc))
			return;
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
	ancestors(ev, arg, out, one_name, false);
}

FN(c_proc_aname)
{
	ancestors(ev, arg, out, one_name, true);
}

FN(f_proc_apid)
{
	ancestors(ev, arg, out, one_pid, false);
}

FN(c_proc_apid)
{
	ancestors(ev, arg, out, one_pid, true);
}

FN(f_proc_aexe)
{
	ancestors(ev, arg, out, one_exe, false);
}

FN(c_proc_aexe)
{
	ancestors(ev, arg, out, one_exe, true);
}

FN(f_proc_aexepath)
{
	ancestors(ev, arg, out, one_exepath, false);
}

FN(c_proc_aexepath)
{
	ancestors(ev, arg, out, one_exepath, true);
}

FN(f_proc_acmdline)
{
	ancestors(ev, arg, out, one_cmdline, false);
}

FN(c_proc_acmdline)
{
	ancestors(ev, arg, out, one_cmdline, true);
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

/* The leader when it is the process or in its container. */
static const struct vg_proc *leader_in(const struct vg_event *ev, bool session)
{
	const struct vg_proc *l = leader(ev, session);
	return l == P || vg_same_container(l, P) ? l : NULL;
}

#define LEADER_FIELD(name, session, member)                                                        \
	FN(c_proc_##name)                                                                          \
	{                                                                                          \
		const struct vg_proc *l = leader_in(ev, session);                                  \
		if (l)                                                                             \
			put_str(out, l->member);                                                   \
	}

LEADER_FIELD(sname, true, comm)
LEADER_FIELD(sid_exe, true, exe)
LEADER_FIELD(sid_exepath, true, exepath)
LEADER_FIELD(vpgid_name, false, comm)
LEADER_FIELD(vpgid_exe, false, exe)
LEADER_FIELD(vpgid_exepath, false, exepath)

/* The host pids of a session or group leader outside the container are
 * the host's. */
FN(c_proc_sid)
{
	if (leader_in(ev, true))
		vg_fvals_s64(out, P->sid);
}

FN(c_proc_pgid)
{
	if (leader_in(ev, false))
		vg_fvals_s64(out, P->pgid);
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

FN(c_proc_ppid_duration)
{
	duration(ev, parent_in(ev), out);
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

const struct vg_field vg_fields_proc[] = {
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
};

const size_t vg_fields_proc_count = sizeof(vg_fields_proc) / sizeof(vg_fields_proc[0]);

/* What a namespaced Rule reads in place of the fields of the same name
 * (vg_field_confine): every field that reaches another process stops at
 * the event's container. */
const struct vg_field vg_fields_proc_confined[] = {
	{"proc.ppid", I, 0, c_proc_ppid, "(confined to the container)"},
	{"proc.sid", I, 0, c_proc_sid, "(confined to the container)"},
	{"proc.pgid", I, 0, c_proc_pgid, "(confined to the container)"},
	{"proc.pname", S, 0, c_proc_pname, "(confined to the container)"},
	{"proc.pexe", S, 0, c_proc_pexe, "(confined to the container)"},
	{"proc.pexepath", S, 0, c_proc_pexepath, "(confined to the container)"},
	{"proc.pcmdline", S, 0, c_proc_pcmdline, "(confined to the container)"},
	{"proc.aname", S, IDX | LIST, c_proc_aname, "(confined to the container)"},
	{"proc.apid", I, IDX | LIST, c_proc_apid, "(confined to the container)"},
	{"proc.aexe", S, IDX | LIST, c_proc_aexe, "(confined to the container)"},
	{"proc.aexepath", S, IDX | LIST, c_proc_aexepath, "(confined to the container)"},
	{"proc.acmdline", S, IDX | LIST, c_proc_acmdline, "(confined to the container)"},
	{"proc.sname", S, 0, c_proc_sname, "(confined to the container)"},
	{"proc.sid.exe", S, 0, c_proc_sid_exe, "(confined to the container)"},
	{"proc.sid.exepath", S, 0, c_proc_sid_exepath, "(confined to the container)"},
	{"proc.vpgid.name", S, 0, c_proc_vpgid_name, "(confined to the container)"},
	{"proc.vpgid.exe", S, 0, c_proc_vpgid_exe, "(confined to the container)"},
	{"proc.vpgid.exepath", S, 0, c_proc_vpgid_exepath, "(confined to the container)"},
	{"proc.ppid.duration", RT, 0, c_proc_ppid_duration, "(confined to the container)"},
};

const size_t vg_fields_proc_confined_count =
	sizeof(vg_fields_proc_confined) / sizeof(vg_fields_proc_confined[0]);
