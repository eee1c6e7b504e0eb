/* state.c - process and fd tables built from raw records; see state.h.
 *
 * Decisions worth knowing:
 *  - A record is validated completely before anything changes, so a bad
 *    record (-EINVAL) leaves the tables as they were.
 *  - The header is authoritative for what it carries: every record
 *    refreshes the process's ppid, uids, comm and cgroup.  So a process
 *    reparented by the kernel (its parent exited) shows its new parent
 *    from its next event on.
 *  - An exiting process stays readable for the procexit event itself and
 *    is freed at the next vg_state_apply().  Its children keep their ppid;
 *    ancestor walks simply end where the table has no entry.
 *  - A process first seen through some unrelated event (its fork was
 *    missed) gets a minimal entry from the header.  When its parent is
 *    known it inherits the parent's cwd and container, and, when the comm
 *    is the parent's (no exec happened in between), the parent's exe,
 *    args and environment too, as a fork would have given it.
 *  - The container id of a process follows its cgroup: exec records carry
 *    the cgroup path, every header the cgroup id, and a small cache maps
 *    ids already seen to container ids.
 *  - The strings of an exec (argv, env, cwd, exe path...) are interned:
 *    the processes of one workload mostly share them byte for byte, and the
 *    environment alone is often most of an entry's memory.  The intern
 *    table holds a reference to each string; a string only it still holds
 *    is dropped when its last process is freed, or by the next sweep.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "state_int.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* creation                                                            */

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	if (clock_gettime(c, &ts))
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct vg_state *vg_state_new(const struct vg_state_opts *opts)
{
	struct vg_state_opts o = {0};
	if (opts)
		o = *opts;
	struct vg_state *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->max_procs = o.max_procs ? o.max_procs : 32768;
	if (st->max_procs < MIN_PROCS)
		st->max_procs = MIN_PROCS;
	st->max_fds = o.max_fds ? o.max_fds : 1024;
	if (st->max_fds < MIN_FDS)
		st->max_fds = MIN_FDS;
	st->max_env = o.max_env ? o.max_env : 4096;
	st->ts_is_wall = o.ts_is_wall;
	st->bbits = 4;
	while (((size_t)1 << st->bbits) < st->max_procs && st->bbits < 24)
		st->bbits++;
	st->b = calloc((size_t)1 << st->bbits, sizeof(*st->b));
	if (!st->b) {
		free(st);
		return NULL;
	}
	st->boot_off = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	if (o.hostname) {
		snprintf(st->hostname, sizeof(st->hostname), "%s", o.hostname);
	} else {
		struct utsname u;
		if (uname(&u) == 0)
			snprintf(st->hostname, sizeof(st->hostname), "%s", u.nodename);
	}
	st->users = vg_users_new(o.etc_root ? o.etc_root : "/etc");
	return st;
}

static void reap(struct vg_state *st)
{
	if (st->zombie) {
		vg_st_proc_free(st, st->zombie);
		st->zombie = NULL;
	}
	if (st->dead_fd) {
		vg_fdtab_release(st->dead_fd);
		st->dead_fd = NULL;
	}
}

void vg_state_free(struct vg_state *st)
{
	if (!st)
		return;
	reap(st);
	for (struct proc_ent *e = st->newest, *next; e; e = next) {
		next = e->older;
		vg_st_proc_free(st, e);
	}
	for (int i = 0; i < NAME_SLOTS; i++) {
		vg_rstr_put(st->ucache[i].r);
		vg_rstr_put(st->gcache[i].r);
	}
	vg_users_free(st->users);
	vg_st_itab_free(&st->itab);
	free(st->b);
	free(st);
}

/* ------------------------------------------------------------------ */
/* validation                                                          */

static bool multi_slot(int kind, int slot)
{
	return (kind == VG_K_EXEC || kind == VG_K_PROC) && (slot == VG_X_ARGS || slot == VG_X_ENV);
}

static int validate(const struct vg_rec *r, size_t size)
{
	if (!r || size < sizeof(struct vg_rec))
		return -EINVAL;
	const struct vg_hdr *h = &r->h;
	if (h->size < sizeof(struct vg_rec) || h->size > size || h->size > VG_REC_MAX)
		return -EINVAL;
	if (h->kind < VG_K_SYSCALL || h->kind > VG_K_PROC || h->pid == 0 || h->tid == 0)
		return -EINVAL;
	size_t room = h->size - sizeof(struct vg_rec), off = 0;
	for (int i = 0; i < VG_NSTR; i++) {
		size_t l = r->len[i];
		if (!l)
			continue;
		if (l > VG_STR_MAX || off + l > room)
			return -EINVAL;
		const char *s = r->data + off;
		if (s[l - 1] != '\0')
			return -EINVAL;
		if (!multi_slot(h->kind, i) && memchr(s, '\0', l - 1))
			return -EINVAL;
		off += l;
	}
	if (room - off >= 8) /* only alignment padding may follow the strings */
		return -EINVAL;
	switch (h->kind) {
	case VG_K_SYSCALL:
		if (!vg_syscall_desc(h->nr))
			return -EINVAL;
		break;
	case VG_K_EXEC:
		if (h->nr != VG_NR_execve && h->nr != VG_NR_execveat)
			return -EINVAL;
		break;
	case VG_K_FORK:
		if (r->fork.child_pid == 0 || r->fork.child_pid == h->pid)
			return -EINVAL;
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* apply                                                               */

int vg_state_apply(struct vg_state *st, const struct vg_rec *raw, size_t size, struct vg_event *ev)
{
	if (validate(raw, size)) {
		st->stats.bad_records++;
		return -EINVAL;
	}
	reap(st);

	const struct vg_hdr *h = &raw->h;
	ev->raw = raw;
	size_t off = 0;
	for (int i = 0; i < VG_NSTR; i++) {
		if (raw->len[i]) {
			ev->str[i] = raw->data + off;
			ev->slen[i] = raw->len[i] - 1u;
			off += raw->len[i];
		} else {
			ev->str[i] = NULL;
			ev->slen[i] = 0;
		}
	}
	ev->ts = vg_st_wall(st, h->ts);
	ev->num = ++st->num;
	ev->path = ev->path2 = NULL;
	ev->path_cut = (h->flags & VG_F_PATHCUT) != 0;
	ev->fd = -1;
	ev->fdi = NULL;
	ev->st = st;
	ev->proc = NULL;

	struct proc_ent *e;
	char scratch[VG_STR_MAX];
	switch (h->kind) {
	case VG_K_SYSCALL:
		ev->type = h->nr;
		e = vg_st_proc_of(st, h);
		if (!e)
			return -ENOMEM;
		vg_st_from_header(st, e, h);
		vg_st_apply_syscall(st, e, raw, ev);
		break;
	case VG_K_EXEC:
	case VG_K_PROC:
		ev->type = h->kind == VG_K_EXEC ? h->nr : VG_T_PROCSNAP;
		e = vg_st_proc_of(st, h);
		if (!e)
			return -ENOMEM;
		vg_st_apply_exec(st, e, raw, ev, scratch);
		ev->path = e->p.exepath;
		{
			/* keep the parent chain warm: it is what rules read next */
			struct proc_ent *par = e->p.ppid ? vg_st_lookup(st, e->p.ppid) : NULL;
			if (par) {
				vg_st_touch(st, par);
				vg_st_touch(st, e);
			}
		}
		break;
	case VG_K_FORK:
		ev->type = VG_T_PROCFORK;
		e = vg_st_proc_of(st, h);
		if (!e)
			return -ENOMEM;
		vg_st_from_header(st, e, h);
		{
			struct proc_ent *c = NULL;
			vg_st_fork_child(st, e, raw->fork.child_pid, raw->fork.child_vpid,
					 raw->fork.start_ns, &c);
			if (c)
				e = c;
		}
		break;
	case VG_K_EXIT:
	default:
		ev->type = VG_T_PROCEXIT;
		e = vg_st_proc_of(st, h);
		if (!e)
			return -ENOMEM;
		vg_st_from_header(st, e, h);
		vg_st_detach(st, e);
		st->zombie = e;
		break;
	}
	ev->name = vg_evtype_name(ev->type);
	ev->proc = &e->p;
	return 0;
}

/* ------------------------------------------------------------------ */
/* queries                                                             */

struct vg_proc *vg_state_proc(struct vg_state *st, uint32_t pid)
{
	struct proc_ent *e = vg_st_lookup(st, pid);
	return e ? &e->p : NULL;
}

struct vg_proc *vg_state_ancestor(struct vg_state *st, const struct vg_proc *p, int n)
{
	uint32_t seen[ANCESTOR_MAX + 1];
	if (!p || n < 1 || n > ANCESTOR_MAX)
		return NULL;
	seen[0] = p->pid;
	const struct vg_proc *cur = p;
	for (int i = 1; i <= n; i++) {
		if (!cur->ppid || cur->ppid == cur->pid)
			return NULL;
		for (int j = 0; j < i; j++)
			if (seen[j] == cur->ppid)
				return NULL; /* a loop from stale entries */
		struct proc_ent *a = vg_st_lookup(st, cur->ppid);
		if (!a)
			return NULL;
		cur = &a->p;
		seen[i] = cur->pid;
	}
	return (struct vg_proc *)cur;
}

const struct vg_fd *vg_state_fd(struct vg_state *st, const struct vg_proc *p, int64_t fd)
{
	(void)st;
	if (!p)
		return NULL;
	const struct proc_ent *e = (const struct proc_ent *)p;
	return vg_fdtab_get(e->fds, fd);
}

void vg_state_fds(struct vg_state *st, const struct vg_proc *p,
		  int (*fn)(void *ctx, const struct vg_fd *fd), void *ctx)
{
	(void)st;
	if (!p)
		return;
	const struct proc_ent *e = (const struct proc_ent *)p;
	vg_fdtab_foreach(e->fds, fn, ctx);
}

void vg_state_get_stats(const struct vg_state *st, struct vg_state_stats *out)
{
	*out = st->stats;
	out->procs = st->nprocs;
}

int vg_state_record_pod_uid(const struct vg_rec *raw, size_t size, char out[37])
{
	out[0] = 0;
	if (validate(raw, size) || (raw->h.kind != VG_K_EXEC && raw->h.kind != VG_K_PROC) ||
	    !raw->len[VG_X_CGROUP])
		return -ENOENT;
	size_t off = 0;
	for (int i = 0; i < VG_X_CGROUP; i++)
		off += raw->len[i];
	return vg_container_pod_uid(raw->data + off, out);
}

int vg_state_record_container(const struct vg_state *st, const struct vg_rec *raw, size_t size,
			      char out[VG_CONTAINER_ID_LEN])
{
	out[0] = 0;
	if (validate(raw, size))
		return 0;
	const struct vg_hdr *h = &raw->h;
	if ((h->kind == VG_K_EXEC || h->kind == VG_K_PROC) && raw->len[VG_X_CGROUP]) {
		size_t off = 0;
		for (int i = 0; i < VG_X_CGROUP; i++)
			off += raw->len[i];
		vg_container_id(raw->data + off, out);
		return 1;
	}
	if (!h->cgroup_id)
		return 0;
	const struct cgid_slot *s = vg_st_cg_slot((struct vg_state *)st, h->cgroup_id);
	if (s->cgid != h->cgroup_id)
		return 0;
	memcpy(out, s->id, VG_CONTAINER_ID_LEN);
	return 1;
}
