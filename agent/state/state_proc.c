/* state_proc.c - the process table: entries, their LRU order, user and
 * group names, containers from cgroups, what headers, exec and /proc
 * records and forks set in an entry. */
#include <stdlib.h>
#include <string.h>

#include "state_int.h"
#include "util.h"

void vg_st_proc_free(struct vg_state *st, struct proc_ent *e)
{
	for (int i = 0; i < PS_N; i++)
		vg_st_intern_put(st, e->rs[i]);
	vg_fdtab_free(e->fds);
	free(e);
}

/* ------------------------------------------------------------------ */
/* process table                                                       */

static size_t pslot(const struct vg_state *st, uint32_t pid)
{
	return (uint32_t)(pid * 2654435761u) >> (32 - st->bbits);
}

struct proc_ent *vg_st_lookup(const struct vg_state *st, uint32_t pid)
{
	for (struct proc_ent *e = st->b[pslot(st, pid)]; e; e = e->hnext)
		if (e->p.pid == pid)
			return e;
	return NULL;
}

static void lru_unlink(struct vg_state *st, struct proc_ent *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		st->newest = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		st->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void lru_push(struct vg_state *st, struct proc_ent *e)
{
	e->older = st->newest;
	e->newer = NULL;
	if (st->newest)
		st->newest->newer = e;
	else
		st->oldest = e;
	st->newest = e;
}

void vg_st_touch(struct vg_state *st, struct proc_ent *e)
{
	if (st->newest != e) {
		lru_unlink(st, e);
		lru_push(st, e);
	}
}

/* Remove e from the hash and the LRU list (the caller frees it). */
void vg_st_detach(struct vg_state *st, struct proc_ent *e)
{
	struct proc_ent **pp = &st->b[pslot(st, e->p.pid)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	e->hnext = NULL;
	lru_unlink(st, e);
	st->nprocs--;
}

static void sync_strs(struct proc_ent *e)
{
	e->p.exe = vg_rstr_s(e->rs[PS_EXE]);
	e->p.exepath = vg_rstr_s(e->rs[PS_EXEPATH]);
	e->p.args = vg_rstr_s(e->rs[PS_ARGS]);
	e->p.argv = vg_rstr_s(e->rs[PS_ARGV]);
	e->p.argv_len = e->rs[PS_ARGV] ? e->rs[PS_ARGV]->len : 0;
	e->p.cmdline = vg_rstr_s(e->rs[PS_CMDLINE]);
	e->p.cwd = vg_rstr_s(e->rs[PS_CWD]);
	e->p.env = vg_rstr_s(e->rs[PS_ENV]);
	e->p.env_len = e->rs[PS_ENV] ? e->rs[PS_ENV]->len : 0;
	e->p.user = e->rs[PS_USER] ? e->rs[PS_USER]->s : "";
	e->p.group = e->rs[PS_GROUP] ? e->rs[PS_GROUP]->s : "";
	e->p.loginname = e->rs[PS_LOGIN] ? e->rs[PS_LOGIN]->s : "";
	e->p.cgroup = vg_rstr_s(e->rs[PS_CGROUP]);
}

void vg_st_set_rs(struct proc_ent *e, int which, struct vg_rstr *r)
{
	vg_rstr_set(&e->rs[which], r);
	sync_strs(e);
}

/* A new, empty entry for pid, evicting the least recently used entry when
 * the table is full.  NULL on ENOMEM. */
static struct proc_ent *proc_create(struct vg_state *st, uint32_t pid)
{
	struct proc_ent *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->fds = vg_fdtab_new();
	if (!e->fds) {
		free(e);
		return NULL;
	}
	while (st->nprocs >= st->max_procs && st->oldest) {
		struct proc_ent *old = st->oldest;
		vg_st_detach(st, old);
		vg_st_proc_free(st, old);
		st->stats.proc_evictions++;
	}
	e->p.pid = pid;
	e->p.loginuid = (uint32_t)-1;
	sync_strs(e);
	size_t s = pslot(st, pid);
	e->hnext = st->b[s];
	st->b[s] = e;
	lru_push(st, e);
	st->nprocs++;
	return e;
}

static void proc_drop(struct vg_state *st, struct proc_ent *e)
{
	vg_st_detach(st, e);
	vg_st_proc_free(st, e);
}

/* ------------------------------------------------------------------ */
/* names                                                               */

static struct vg_rstr *cached_name(struct name_slot *cache, uint32_t id, const char *name)
{
	struct name_slot *s = &cache[id % NAME_SLOTS];
	if (!s->r || s->id != id || strcmp(s->r->s, name) != 0) {
		struct vg_rstr *r = vg_rstr_new(name, strlen(name));
		if (!r)
			return NULL;
		vg_rstr_put(s->r);
		s->r = r;
		s->id = id;
	}
	return vg_rstr_ref(s->r);
}

const char *vg_state_user_name(struct vg_state *st, uint32_t uid)
{
	const char *n = st->users ? vg_users_user(st->users, uid) : NULL;
	return n ? n : "";
}

const char *vg_state_group_name(struct vg_state *st, uint32_t gid)
{
	const char *n = st->users ? vg_users_group(st->users, gid) : NULL;
	return n ? n : "";
}

const char *vg_state_user_home(struct vg_state *st, uint32_t uid)
{
	const char *n = st->users ? vg_users_home(st->users, uid) : NULL;
	return n ? n : "";
}

const char *vg_state_user_shell(struct vg_state *st, uint32_t uid)
{
	const char *n = st->users ? vg_users_shell(st->users, uid) : NULL;
	return n ? n : "";
}

const char *vg_state_hostname(const struct vg_state *st)
{
	return st->hostname;
}

void vg_st_set_uid(struct vg_state *st, struct proc_ent *e, uint32_t uid)
{
	if (e->p.uid == uid && e->rs[PS_USER])
		return;
	e->p.uid = uid;
	vg_st_set_rs(e, PS_USER, cached_name(st->ucache, uid, vg_state_user_name(st, uid)));
}

void vg_st_set_gid(struct vg_state *st, struct proc_ent *e, uint32_t gid)
{
	if (e->p.gid == gid && e->rs[PS_GROUP])
		return;
	e->p.gid = gid;
	vg_st_set_rs(e, PS_GROUP, cached_name(st->gcache, gid, vg_state_group_name(st, gid)));
}

static void set_loginuid(struct vg_state *st, struct proc_ent *e, uint32_t luid)
{
	if (e->p.loginuid == luid && e->rs[PS_LOGIN])
		return;
	e->p.loginuid = luid;
	const char *n = luid == (uint32_t)-1 ? "" : vg_state_user_name(st, luid);
	vg_st_set_rs(e, PS_LOGIN, cached_name(st->ucache, luid, n));
}

/* ------------------------------------------------------------------ */
/* containers                                                          */

struct cgid_slot *vg_st_cg_slot(struct vg_state *st, uint64_t cgid)
{
	return &st->cg[(cgid * 0x9E3779B97F4A7C15ull) >> 54 & (CGID_SLOTS - 1)];
}

static void set_cgroup(struct vg_state *st, struct proc_ent *e, uint64_t cgid, const char *path,
		       size_t len)
{
	vg_st_set_rs(e, PS_CGROUP, vg_rstr_new(path, len));
	char id[VG_CONTAINER_ID_LEN] = "";
	vg_container_id(path, id);
	memcpy(e->p.container_id, id, sizeof(id));
	e->cgroup_id = cgid;
	if (cgid && id[0]) {
		struct cgid_slot *s = vg_st_cg_slot(st, cgid);
		s->cgid = cgid;
		memcpy(s->id, id, sizeof(id));
	}
}

static void follow_cgroup(struct vg_state *st, struct proc_ent *e, uint64_t cgid)
{
	if (!cgid || cgid == e->cgroup_id)
		return;
	struct cgid_slot *s = vg_st_cg_slot(st, cgid);
	if (s->cgid == cgid)
		memcpy(e->p.container_id, s->id, sizeof(s->id));
	e->cgroup_id = cgid;
}

void vg_state_set_meta_lookup(struct vg_state *st, vg_meta_lookup_fn fn, void *ctx)
{
	st->meta_fn = fn;
	st->meta_ctx = ctx;
}

const struct vg_container_meta *vg_state_meta(struct vg_state *st, const struct vg_proc *p)
{
	if (!st->meta_fn || !p->container_id[0] || strcmp(p->container_id, "host") == 0)
		return NULL;
	return st->meta_fn(st->meta_ctx, p->container_id);
}

/* ------------------------------------------------------------------ */
/* header, exec info                                                   */

static void rebuild_cmdline(struct vg_state *st, struct proc_ent *e)
{
	const char *args = e->p.args;
	size_t cl = strlen(e->p.comm), al = args ? strlen(args) : 0;
	char *buf = malloc(cl + al + 2);
	if (!buf)
		return;
	memcpy(buf, e->p.comm, cl);
	size_t n = cl;
	if (al) {
		buf[n++] = ' ';
		memcpy(buf + n, args, al);
		n += al;
	}
	vg_st_set_rs(e, PS_CMDLINE, vg_st_intern(st, buf, n));
	free(buf);
}

/* comm is kept NUL-padded to its full size, so one memcmp tells a change */
static void norm_comm(char out[VG_COMM_LEN], const char *comm)
{
	size_t n = strnlen(comm, VG_COMM_LEN - 1);
	memcpy(out, comm, n);
	memset(out + n, 0, VG_COMM_LEN - n);
}

static void set_comm(struct vg_state *st, struct proc_ent *e, const char *comm)
{
	char c[VG_COMM_LEN];
	norm_comm(c, comm);
	if (memcmp(c, e->p.comm, VG_COMM_LEN) == 0 && e->rs[PS_CMDLINE])
		return;
	memcpy(e->p.comm, c, VG_COMM_LEN);
	if (e->rs[PS_ARGV] || e->rs[PS_CMDLINE])
		rebuild_cmdline(st, e);
}

void vg_st_from_header(struct vg_state *st, struct proc_ent *e, const struct vg_hdr *h)
{
	if (h->ppid && h->ppid != e->p.pid)
		e->p.ppid = h->ppid;
	vg_st_set_uid(st, e, h->uid);
	vg_st_set_gid(st, e, h->gid);
	set_loginuid(st, e, h->loginuid);
	set_comm(st, e, h->comm);
	follow_cgroup(st, e, h->cgroup_id);
}

/* Copy what a fork gives a child: everything but the identity. */
static void inherit(struct proc_ent *c, const struct proc_ent *par, bool all)
{
	if (all) {
		uint32_t pid = c->p.pid;
		c->p = par->p;
		c->p.pid = pid;
		c->p.seeded = false;
		for (int i = 0; i < PS_N; i++)
			vg_rstr_set(&c->rs[i], vg_rstr_ref(par->rs[i]));
	} else {
		vg_rstr_set(&c->rs[PS_CWD], vg_rstr_ref(par->rs[PS_CWD]));
		memcpy(c->p.container_id, par->p.container_id, VG_CONTAINER_ID_LEN);
		vg_rstr_set(&c->rs[PS_CGROUP], vg_rstr_ref(par->rs[PS_CGROUP]));
	}
	c->cgroup_id = par->cgroup_id;
	sync_strs(c);
}

/* The entry of the record's process, created when unknown (never NULL
 * unless out of memory). */
struct proc_ent *vg_st_proc_of(struct vg_state *st, const struct vg_hdr *h)
{
	struct proc_ent *e = vg_st_lookup(st, h->pid);
	if (e) {
		vg_st_touch(st, e);
		return e;
	}
	e = proc_create(st, h->pid);
	if (!e)
		return NULL;
	struct proc_ent *par = h->ppid ? vg_st_lookup(st, h->ppid) : NULL;
	if (par) {
		char c[VG_COMM_LEN];
		norm_comm(c, h->comm);
		bool same = memcmp(c, par->p.comm, VG_COMM_LEN) == 0;
		inherit(e, par, same);
		if (same) {
			/* known from the parent, but not measured for this one */
			e->p.known &= ~(uint32_t)(VG_PK_START | VG_PK_VPID);
			vg_fdtab_copy(e->fds, par->fds, st->max_fds, &st->stats.fd_evictions);
		}
	}
	return e;
}

static void set_argv(struct vg_state *st, struct proc_ent *e, const char *argv, size_t len)
{
	vg_st_set_rs(e, PS_ARGV, vg_st_intern(st, argv, len));
	size_t n0 = strnlen(argv, len);
	vg_st_set_rs(e, PS_EXE, vg_st_intern(st, argv, n0));
	if (n0 < len) {
		const char *a = argv + n0 + 1;
		size_t al = len - n0 - 1;
		char *buf = malloc(al + 1);
		if (buf) {
			for (size_t i = 0; i < al; i++)
				buf[i] = a[i] ? a[i] : ' ';
			vg_st_set_rs(e, PS_ARGS, vg_st_intern(st, buf, al));
			free(buf);
		} else {
			vg_st_set_rs(e, PS_ARGS, NULL);
		}
	} else {
		vg_st_set_rs(e, PS_ARGS, vg_st_intern(st, "", 0));
	}
	rebuild_cmdline(st, e);
}

/* Exec and /proc records: the whole process description is replaced. */
void vg_st_apply_exec(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		      const struct vg_event *ev, char *scratch)
{
	const struct vg_exec_info *x = &r->exec;
	struct vg_proc *p = &e->p;
	p->ruid = x->ruid;
	p->rgid = x->rgid;
	p->cap_eff = x->cap_eff;
	p->cap_perm = x->cap_perm;
	p->cap_inh = x->cap_inh;
	p->exe_ino = x->exe_ino;
	p->exe_ctime_ns = x->exe_ctime_ns;
	p->exe_mtime_ns = x->exe_mtime_ns;
	p->tty = x->tty;
	p->sid = x->sid;
	p->pgid = x->pgid;
	p->vpid = x->vpid;
	p->vpgid = x->vpgid;
	p->exe_flags = x->exe_flags;
	p->known |= VG_PK_EXEC | VG_PK_VPID;
	if (x->start_ns) {
		p->start_ns = vg_st_wall(st, x->start_ns);
		p->known |= VG_PK_START;
	}
	p->seeded = r->h.kind == VG_K_PROC;

	norm_comm(p->comm, r->h.comm);
	const char *fn = ev->str[VG_X_FILENAME];
	if (ev->str[VG_X_ARGS]) {
		set_argv(st, e, ev->str[VG_X_ARGS], ev->slen[VG_X_ARGS]);
	} else {
		const char *a0 = fn ? fn : p->comm;
		set_argv(st, e, a0, strlen(a0));
	}
	if (ev->str[VG_X_CWD]) {
		vg_st_path_normalize(scratch, VG_STR_MAX, NULL, ev->str[VG_X_CWD]);
		vg_st_set_rs(e, PS_CWD, vg_st_intern(st, scratch, strlen(scratch)));
	}
	if (ev->str[VG_X_EXEPATH]) {
		vg_st_set_rs(e, PS_EXEPATH,
			     vg_st_intern(st, ev->str[VG_X_EXEPATH], ev->slen[VG_X_EXEPATH]));
	} else if (fn) {
		vg_st_path_normalize(scratch, VG_STR_MAX, p->cwd, fn);
		vg_st_set_rs(e, PS_EXEPATH, vg_st_intern(st, scratch, strlen(scratch)));
	}
	if (ev->str[VG_X_ENV]) {
		size_t n = ev->slen[VG_X_ENV];
		if (n > st->max_env) {
			/* keep whole variables only */
			n = st->max_env;
			while (n > 0 && ev->str[VG_X_ENV][n] != '\0')
				n--;
		}
		vg_st_set_rs(e, PS_ENV, vg_st_intern(st, ev->str[VG_X_ENV], n));
	} else {
		vg_st_set_rs(e, PS_ENV, NULL);
	}
	if (ev->str[VG_X_CGROUP])
		set_cgroup(st, e, r->h.cgroup_id, ev->str[VG_X_CGROUP], ev->slen[VG_X_CGROUP]);
	vg_st_from_header(st, e, &r->h);
	vg_fdtab_cloexec(e->fds);
}

/* ------------------------------------------------------------------ */
/* fork / exit                                                         */

void vg_st_fork_child(struct vg_state *st, struct proc_ent *par, uint32_t cpid, uint32_t cvpid,
		      uint64_t start, struct proc_ent **out)
{
	struct proc_ent *c = vg_st_lookup(st, cpid);
	if (c) /* a stale entry: its exit was missed and the pid reused */
		proc_drop(st, c);
	c = proc_create(st, cpid);
	*out = c;
	if (!c)
		return;
	inherit(c, par, true);
	c->p.ppid = par->p.pid;
	c->p.known &= ~(uint32_t)(VG_PK_START | VG_PK_VPID);
	if (cvpid) {
		c->p.vpid = cvpid;
		c->p.known |= VG_PK_VPID;
	}
	c->p.start_ns = 0;
	if (start) {
		c->p.start_ns = vg_st_wall(st, start);
		c->p.known |= VG_PK_START;
	}
	vg_fdtab_copy(c->fds, par->fds, st->max_fds, &st->stats.fd_evictions);
}
