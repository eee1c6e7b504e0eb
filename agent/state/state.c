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
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>

#include "fdtab.h"
#include "rstr.h"
#include "state.h"
#include "users.h"
#include "util.h"

#define K_O_WRONLY 01
#define K_O_RDWR 02
#define K_O_CREAT 0100
#define K_O_TRUNC 01000
#define K_O_DIRECTORY 0200000
#define K_O_CLOEXEC 02000000
#define K_CLONE_THREAD 0x10000
#define K_MFD_CLOEXEC 1
#define K_EINPROGRESS 115

#define MIN_PROCS 16
#define MIN_FDS 4
#define CGID_SLOTS 1024
#define NAME_SLOTS 64
#define ANCESTOR_MAX 64

/* owned strings of a process */
enum {
	PS_EXE,
	PS_EXEPATH,
	PS_ARGS,
	PS_ARGV,
	PS_CMDLINE,
	PS_CWD,
	PS_ENV,
	PS_USER,
	PS_GROUP,
	PS_LOGIN,
	PS_CGROUP,
	PS_N,
};

struct proc_ent {
	struct vg_proc p; /* first: a struct vg_proc * is a struct proc_ent * */
	struct proc_ent *hnext;
	struct proc_ent *newer, *older; /* LRU list */
	struct vg_rstr *rs[PS_N];
	struct vg_fdtab *fds;
	uint64_t cgroup_id;
};

struct cgid_slot {
	uint64_t cgid;
	char id[VG_CONTAINER_ID_LEN];
};

struct name_slot {
	uint32_t id;
	struct vg_rstr *r;
};

/* Open addressing (linear probing) set of the interned strings. */
struct itab {
	struct vg_rstr **slot;
	size_t cap; /* power of two, 0 before the first string */
	size_t n;
	size_t sweep_at; /* n at which an insert first drops the unused ones */
};

struct vg_state {
	size_t max_procs, max_fds, max_env;
	bool ts_is_wall;
	char hostname[256];
	int64_t boot_off; /* wall clock minus CLOCK_BOOTTIME, ns */

	struct proc_ent **b;
	unsigned bbits;
	size_t nprocs;
	struct proc_ent *newest, *oldest;

	struct proc_ent *zombie; /* exited at the last record */
	struct vg_fd *dead_fd;	 /* closed at the last record */
	struct vg_fd tmp_fd;	 /* the file a failed open names */

	uint64_t num;
	struct vg_state_stats stats;

	struct vg_users *users;
	struct itab itab;
	struct name_slot ucache[NAME_SLOTS], gcache[NAME_SLOTS];
	struct cgid_slot cg[CGID_SLOTS];

	vg_meta_lookup_fn meta_fn;
	void *meta_ctx;
};

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

/* ------------------------------------------------------------------ */
/* interned strings                                                    */

#define ITAB_MIN_SWEEP 64

static size_t itab_find(const struct itab *t, const char *p, size_t len)
{
	size_t m = t->cap - 1, i = (size_t)vg_hash_bytes(p, len) & m;
	for (; t->slot[i]; i = (i + 1) & m) {
		const struct vg_rstr *r = t->slot[i];
		if (r->len == len && memcmp(r->s, p, len) == 0)
			break;
	}
	return i;
}

/* Rebuild with cap slots, dropping the strings only the table holds. */
static int itab_rebuild(struct itab *t, size_t cap)
{
	struct vg_rstr **slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return -1;
	struct itab nt = {.slot = slot, .cap = cap};
	for (size_t i = 0; i < t->cap; i++) {
		struct vg_rstr *r = t->slot[i];
		if (!r)
			continue;
		if (r->refs == 1) {
			vg_rstr_put(r);
			continue;
		}
		nt.slot[itab_find(&nt, r->s, r->len)] = r;
		nt.n++;
	}
	free(t->slot);
	nt.sweep_at = 2 * nt.n > ITAB_MIN_SWEEP ? 2 * nt.n : ITAB_MIN_SWEEP;
	*t = nt;
	return 0;
}

/* A reference to the interned copy of p (len bytes), made when new; NULL on
 * ENOMEM. */
static struct vg_rstr *intern(struct vg_state *st, const char *p, size_t len)
{
	struct itab *t = &st->itab;
	if (t->n + 1 >= t->sweep_at || t->cap == 0) {
		/* sweep, then keep the load at most 1/2 up to the next sweep */
		if (t->cap)
			itab_rebuild(t, t->cap);
		size_t cap = t->cap ? t->cap : 2 * ITAB_MIN_SWEEP;
		while (cap < 2 * t->sweep_at)
			cap *= 2;
		if (cap != t->cap && itab_rebuild(t, cap))
			return vg_rstr_new(p, len);
	}
	size_t i = itab_find(t, p, len);
	if (t->slot[i])
		return vg_rstr_ref(t->slot[i]);
	struct vg_rstr *r = vg_rstr_new(p, len);
	if (!r)
		return NULL;
	t->slot[i] = vg_rstr_ref(r);
	t->n++;
	return r;
}

/* Drop a reference to r; when the table then holds the last one, drop that
 * too (found by content, so r may also be a string never interned). */
static void intern_put(struct vg_state *st, struct vg_rstr *r)
{
	struct itab *t = &st->itab;
	if (r && r->refs == 2 && t->cap) {
		size_t m = t->cap - 1, i = itab_find(t, r->s, r->len);
		if (t->slot[i] == r) {
			/* backward-shift deletion keeps every probe chain whole */
			t->slot[i] = NULL;
			t->n--;
			vg_rstr_put(r);
			for (size_t j = (i + 1) & m; t->slot[j]; j = (j + 1) & m) {
				struct vg_rstr *x = t->slot[j];
				size_t home = (size_t)vg_hash_bytes(x->s, x->len) & m;
				/* x may move to the hole i unless its home lies in (i, j] */
				if (((j - home) & m) >= ((j - i) & m)) {
					t->slot[i] = x;
					t->slot[j] = NULL;
					i = j;
				}
			}
		}
	}
	vg_rstr_put(r);
}

static void itab_free(struct itab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		vg_rstr_put(t->slot[i]);
	free(t->slot);
}

static void proc_free(struct vg_state *st, struct proc_ent *e)
{
	for (int i = 0; i < PS_N; i++)
		intern_put(st, e->rs[i]);
	vg_fdtab_free(e->fds);
	free(e);
}

static void reap(struct vg_state *st)
{
	if (st->zombie) {
		proc_free(st, st->zombie);
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
		proc_free(st, e);
	}
	for (int i = 0; i < NAME_SLOTS; i++) {
		vg_rstr_put(st->ucache[i].r);
		vg_rstr_put(st->gcache[i].r);
	}
	vg_users_free(st->users);
	itab_free(&st->itab);
	free(st->b);
	free(st);
}

/* ------------------------------------------------------------------ */
/* process table                                                       */

static size_t pslot(const struct vg_state *st, uint32_t pid)
{
	return (uint32_t)(pid * 2654435761u) >> (32 - st->bbits);
}

static struct proc_ent *lookup(const struct vg_state *st, uint32_t pid)
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

static void touch(struct vg_state *st, struct proc_ent *e)
{
	if (st->newest != e) {
		lru_unlink(st, e);
		lru_push(st, e);
	}
}

/* Remove e from the hash and the LRU list (the caller frees it). */
static void detach(struct vg_state *st, struct proc_ent *e)
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

static void set_rs(struct proc_ent *e, int which, struct vg_rstr *r)
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
		detach(st, old);
		proc_free(st, old);
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
	detach(st, e);
	proc_free(st, e);
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

static void set_uid(struct vg_state *st, struct proc_ent *e, uint32_t uid)
{
	if (e->p.uid == uid && e->rs[PS_USER])
		return;
	e->p.uid = uid;
	set_rs(e, PS_USER, cached_name(st->ucache, uid, vg_state_user_name(st, uid)));
}

static void set_gid(struct vg_state *st, struct proc_ent *e, uint32_t gid)
{
	if (e->p.gid == gid && e->rs[PS_GROUP])
		return;
	e->p.gid = gid;
	set_rs(e, PS_GROUP, cached_name(st->gcache, gid, vg_state_group_name(st, gid)));
}

static void set_loginuid(struct vg_state *st, struct proc_ent *e, uint32_t luid)
{
	if (e->p.loginuid == luid && e->rs[PS_LOGIN])
		return;
	e->p.loginuid = luid;
	const char *n = luid == (uint32_t)-1 ? "" : vg_state_user_name(st, luid);
	set_rs(e, PS_LOGIN, cached_name(st->ucache, luid, n));
}

/* ------------------------------------------------------------------ */
/* containers                                                          */

static struct cgid_slot *cg_slot(struct vg_state *st, uint64_t cgid)
{
	return &st->cg[(cgid * 0x9E3779B97F4A7C15ull) >> 54 & (CGID_SLOTS - 1)];
}

static void set_cgroup(struct vg_state *st, struct proc_ent *e, uint64_t cgid, const char *path,
		       size_t len)
{
	set_rs(e, PS_CGROUP, vg_rstr_new(path, len));
	char id[VG_CONTAINER_ID_LEN] = "";
	vg_container_id(path, id);
	memcpy(e->p.container_id, id, sizeof(id));
	e->cgroup_id = cgid;
	if (cgid && id[0]) {
		struct cgid_slot *s = cg_slot(st, cgid);
		s->cgid = cgid;
		memcpy(s->id, id, sizeof(id));
	}
}

static void follow_cgroup(struct vg_state *st, struct proc_ent *e, uint64_t cgid)
{
	if (!cgid || cgid == e->cgroup_id)
		return;
	struct cgid_slot *s = cg_slot(st, cgid);
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
	set_rs(e, PS_CMDLINE, intern(st, buf, n));
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

static void from_header(struct vg_state *st, struct proc_ent *e, const struct vg_hdr *h)
{
	if (h->ppid && h->ppid != e->p.pid)
		e->p.ppid = h->ppid;
	set_uid(st, e, h->uid);
	set_gid(st, e, h->gid);
	set_loginuid(st, e, h->loginuid);
	set_comm(st, e, h->comm);
	follow_cgroup(st, e, h->cgroup_id);
}

static uint64_t wall(const struct vg_state *st, uint64_t ts)
{
	if (st->ts_is_wall || ts == 0)
		return ts;
	return (uint64_t)((int64_t)ts + st->boot_off);
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
static struct proc_ent *proc_of(struct vg_state *st, const struct vg_hdr *h)
{
	struct proc_ent *e = lookup(st, h->pid);
	if (e) {
		touch(st, e);
		return e;
	}
	e = proc_create(st, h->pid);
	if (!e)
		return NULL;
	struct proc_ent *par = h->ppid ? lookup(st, h->ppid) : NULL;
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

static void path_normalize(char *out, size_t cap, const char *dir, const char *path);

static void set_argv(struct vg_state *st, struct proc_ent *e, const char *argv, size_t len)
{
	set_rs(e, PS_ARGV, intern(st, argv, len));
	size_t n0 = strnlen(argv, len);
	set_rs(e, PS_EXE, intern(st, argv, n0));
	if (n0 < len) {
		const char *a = argv + n0 + 1;
		size_t al = len - n0 - 1;
		char *buf = malloc(al + 1);
		if (buf) {
			for (size_t i = 0; i < al; i++)
				buf[i] = a[i] ? a[i] : ' ';
			set_rs(e, PS_ARGS, intern(st, buf, al));
			free(buf);
		} else {
			set_rs(e, PS_ARGS, NULL);
		}
	} else {
		set_rs(e, PS_ARGS, intern(st, "", 0));
	}
	rebuild_cmdline(st, e);
}

/* Exec and /proc records: the whole process description is replaced. */
static void apply_exec(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
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
		p->start_ns = wall(st, x->start_ns);
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
		path_normalize(scratch, VG_STR_MAX, NULL, ev->str[VG_X_CWD]);
		set_rs(e, PS_CWD, intern(st, scratch, strlen(scratch)));
	}
	if (ev->str[VG_X_EXEPATH]) {
		set_rs(e, PS_EXEPATH, intern(st, ev->str[VG_X_EXEPATH], ev->slen[VG_X_EXEPATH]));
	} else if (fn) {
		path_normalize(scratch, VG_STR_MAX, p->cwd, fn);
		set_rs(e, PS_EXEPATH, intern(st, scratch, strlen(scratch)));
	}
	if (ev->str[VG_X_ENV]) {
		size_t n = ev->slen[VG_X_ENV];
		if (n > st->max_env) {
			/* keep whole variables only */
			n = st->max_env;
			while (n > 0 && ev->str[VG_X_ENV][n] != '\0')
				n--;
		}
		set_rs(e, PS_ENV, intern(st, ev->str[VG_X_ENV], n));
	} else {
		set_rs(e, PS_ENV, NULL);
	}
	if (ev->str[VG_X_CGROUP])
		set_cgroup(st, e, r->h.cgroup_id, ev->str[VG_X_CGROUP], ev->slen[VG_X_CGROUP]);
	from_header(st, e, &r->h);
	vg_fdtab_cloexec(e->fds);
}

/* ------------------------------------------------------------------ */
/* paths                                                               */

/* Append the components of s to out (length *n), resolving "." and "..".
 * An absolute result never climbs above "/"; a relative one keeps its
 * leading "..". Truncates at cap - 1. */
static void path_push(char *out, size_t cap, size_t *n, const char *s)
{
	bool abs = out[0] == '/';
	while (*s) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		const char *c = s;
		while (*s && *s != '/')
			s++;
		size_t cl = (size_t)(s - c);
		if (cl == 1 && c[0] == '.')
			continue;
		if (cl == 2 && c[0] == '.' && c[1] == '.') {
			size_t root = abs ? 1 : 0;
			if (*n > root) {
				size_t start = *n;
				while (start > root && out[start - 1] != '/')
					start--;
				bool dotdot = *n - start == 2 && out[start] == '.' &&
					      out[start + 1] == '.';
				if (!dotdot) {
					*n = start > root ? start - 1 : start;
					out[*n] = '\0';
					continue;
				}
			} else if (abs) {
				continue; /* "/.." is "/" */
			}
			/* relative and nothing to climb: keep the ".." */
		}
		bool need_sep = *n > 0 && out[*n - 1] != '/';
		if (*n + (need_sep ? 1 : 0) + cl >= cap)
			return;
		if (need_sep)
			out[(*n)++] = '/';
		memcpy(out + *n, c, cl);
		*n += cl;
		out[*n] = '\0';
	}
}

/* out = normalised dir + "/" + path (path alone when absolute or dir is
 * NULL). A relative path with no dir stays relative ("." when empty). */
/* An absolute path with no "//", no "." or ".." component and no trailing
 * '/' is already normal: the common case, copied as is. */
static bool path_is_normal(const char *p, size_t *len)
{
	const char *c = p;
	if (*c != '/')
		return false;
	for (;;) { /* c is at a '/': look at what follows, then jump to the next */
		if (c[1] == '/' || c[1] == '.' || (c[1] == '\0' && c != p))
			return false;
		const char *next = strchr(c + 1, '/');
		if (!next) {
			*len = (size_t)(c - p) + 1 + strlen(c + 1);
			return true;
		}
		c = next;
	}
}

static void path_normalize(char *out, size_t cap, const char *dir, const char *path)
{
	size_t n = 0;
	if (path_is_normal(path, &n) && n < cap) {
		memcpy(out, path, n + 1);
		return;
	}
	n = 0;
	out[0] = '\0';
	const char *first = path[0] == '/' || !dir ? path : dir;
	if (first[0] == '/') {
		out[0] = '/';
		out[1] = '\0';
		n = 1;
	}
	if (first != path)
		path_push(out, cap, &n, dir);
	path_push(out, cap, &n, path);
	if (n == 0) {
		out[0] = '.';
		out[1] = '\0';
	}
}

/* A path already normal is the record's own string (valid as long as the
 * event); the others are normalized into buf (VG_STR_MAX bytes). */
static const char *norm_path(char *buf, const char *dir, const char *path)
{
	size_t n;
	if (path_is_normal(path, &n) && n < VG_STR_MAX)
		return path;
	path_normalize(buf, VG_STR_MAX, dir, path);
	return buf;
}

/* ------------------------------------------------------------------ */
/* fds                                                                 */

static struct vg_rstr *rs_str(const char *s)
{
	return vg_rstr_new(s, strlen(s));
}

static uint8_t fdtype_of_family(unsigned family)
{
	switch (family) {
	case AF_INET:
		return VG_FD_IPV4;
	case AF_INET6:
		return VG_FD_IPV6;
	case AF_UNIX:
		return VG_FD_UNIX;
	case AF_NETLINK:
		return VG_FD_NETLINK;
	default:
		return VG_FD_OTHER;
	}
}

static char typechar_of(uint8_t t)
{
	static const char tc[] = {
		[VG_FD_UNKNOWN] = 'o', [VG_FD_FILE] = 'f',  [VG_FD_DIR] = 'd',
		[VG_FD_IPV4] = '4',    [VG_FD_IPV6] = '6',  [VG_FD_UNIX] = 'u',
		[VG_FD_PIPE] = 'p',    [VG_FD_EVENT] = 'e', [VG_FD_SIGNAL] = 's',
		[VG_FD_NETLINK] = 'n', [VG_FD_MEMFD] = 'm', [VG_FD_OTHER] = 'o',
	};
	return t < sizeof(tc) ? tc[t] : 'o';
}

static void set_type(struct vg_fd *f, uint8_t t)
{
	f->type = t;
	f->typechar = typechar_of(t);
}

static bool v4mapped_or_zero(const uint8_t *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero[16];
	return memcmp(a, pfx, 12) == 0 || memcmp(a, zero, 16) == 0;
}

/* IPv4 peers of an IPv6 socket are IPv4 connections. */
static void sock_normalize(struct vg_sock *s)
{
	if (s->family == AF_INET6 && v4mapped_or_zero(s->laddr) && v4mapped_or_zero(s->raddr) &&
	    (s->laddr[10] == 0xff || s->raddr[10] == 0xff)) {
		s->family = AF_INET;
		memmove(s->laddr, s->laddr + 12, 4);
		memset(s->laddr + 4, 0, 12);
		memmove(s->raddr, s->raddr + 12, 4);
		memset(s->raddr + 4, 0, 12);
	}
	if ((s->family == AF_INET || s->family == AF_INET6) && s->proto == 0) {
		if (s->type == SOCK_STREAM)
			s->proto = IPPROTO_TCP;
		else if (s->type == SOCK_DGRAM)
			s->proto = IPPROTO_UDP;
	}
}

static bool ip_zero(const uint8_t *a, unsigned family)
{
	static const uint8_t zero[16];
	return memcmp(a, zero, family == AF_INET ? 4 : 16) == 0;
}

/* Falco's rendering: client end first, "->" between the two ends; only
 * the local end while there is no peer. */
/* "a.b.c.d:port" without printf: sockets are renamed on every connect and
 * accept, and snprintf+inet_ntop cost several thousand instructions. */
static size_t put_endpoint(char *out, int family, const uint8_t *a, unsigned port)
{
	size_t n = 0;
	if (family == AF_INET) {
		for (int i = 0; i < 4; i++) {
			unsigned v = a[i];
			if (v >= 100)
				out[n++] = (char)('0' + v / 100);
			if (v >= 10)
				out[n++] = (char)('0' + v / 10 % 10);
			out[n++] = (char)('0' + v % 10);
			out[n++] = i < 3 ? '.' : ':';
		}
	} else {
		if (!inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN))
			out[0] = '\0';
		n = strlen(out);
		out[n++] = ':';
	}
	char digits[6];
	int d = 0;
	do
		digits[d++] = (char)('0' + port % 10);
	while ((port /= 10) && d < 5);
	while (d)
		out[n++] = digits[--d];
	out[n] = '\0';
	return n;
}

/* Falco's rendering: client end first, "->" between the two ends; only
 * the local end while there is no peer. */
static void render_tuple(const struct vg_sock *s, bool server, char *out, size_t cap)
{
	char buf[2 * (INET6_ADDRSTRLEN + 8) + 4];
	int af = s->family == AF_INET ? AF_INET : AF_INET6;
	size_t n;
	if (s->rport == 0 && ip_zero(s->raddr, s->family)) {
		n = put_endpoint(buf, af, s->laddr, s->lport);
	} else {
		const uint8_t *a1 = server ? s->raddr : s->laddr,
			      *a2 = server ? s->laddr : s->raddr;
		unsigned p1 = server ? s->rport : s->lport, p2 = server ? s->lport : s->rport;
		n = put_endpoint(buf, af, a1, p1);
		buf[n++] = '-';
		buf[n++] = '>';
		n += put_endpoint(buf + n, af, a2, p2);
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(out, buf, n);
	out[n] = '\0';
}

static bool same_ends(const struct vg_sock *a, const struct vg_sock *b)
{
	return a->family == b->family && a->lport == b->lport && a->rport == b->rport &&
	       memcmp(a->laddr, b->laddr, 16) == 0 && memcmp(a->raddr, b->raddr, 16) == 0;
}

/* Take the record's socket tuple into f; rename f when its ends changed. */
static void take_sock(struct vg_fd *f, const struct vg_rec *r, const struct vg_event *ev)
{
	if (!(r->h.flags & VG_F_SOCK))
		return;
	struct vg_sock s = r->sock;
	sock_normalize(&s);
	if (s.family == AF_INET || s.family == AF_INET6) {
		set_type(f, fdtype_of_family(s.family));
		bool changed = !same_ends(&f->sock, &s) || f->name[0] == '\0';
		f->sock = s;
		if (changed) {
			char name[2 * INET6_ADDRSTRLEN + 16];
			render_tuple(&s, f->is_server, name, sizeof(name));
			if (strcmp(name, f->name) != 0) {
				vg_fdtab_set_name(f, rs_str(name));
				f->name_num = ev->num;
			}
		}
	} else if (s.family == AF_UNIX) {
		set_type(f, VG_FD_UNIX);
		f->sock.family = s.family;
		f->sock.type = s.type;
		const char *path = ev->str[VG_S_CWD];
		if (path && strcmp(path, f->name) != 0) {
			vg_fdtab_set_name(f, rs_str(path));
			f->name_num = ev->num;
		}
	} else if (s.family) {
		set_type(f, fdtype_of_family(s.family));
		f->sock = s;
	}
}

static struct vg_fd *fd_new(struct vg_state *st, struct proc_ent *e, int64_t fd)
{
	return vg_fdtab_put(e->fds, fd, st->max_fds, &st->stats.fd_evictions);
}

/* The socket fd of a network call, created from the record's tuple when we
 * never saw it opened. */
static struct vg_fd *sock_fd(struct vg_state *st, struct proc_ent *e, int64_t fd,
			     const struct vg_rec *r, bool server)
{
	struct vg_fd *f = vg_fdtab_get(e->fds, fd);
	if (!f && (r->h.flags & VG_F_SOCK) && fd >= 0) {
		f = fd_new(st, e, fd);
		if (f)
			f->is_server = server;
	}
	return f;
}

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
		set_type(&st->tmp_fd, type);
		st->tmp_fd.flags = flags;
		st->tmp_fd.name = ev->path ? ev->path : "";
		ev->fd = -1;
		ev->fdi = &st->tmp_fd;
		return;
	}
	ev->fd = ret;
	struct vg_fd *f = fd_new(st, e, ret);
	if (!f)
		return;
	set_type(f, type);
	f->flags = flags;
	if (ev->path)
		vg_fdtab_set_name(f, rs_str(ev->path));
	f->name_num = ev->num;
}

static void do_socket(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		      struct vg_event *ev)
{
	if (r->h.ret < 0)
		return;
	ev->fd = r->h.ret;
	struct vg_fd *f = fd_new(st, e, r->h.ret);
	if (!f)
		return;
	f->sock.family = (uint16_t)r->arg[0];
	f->sock.type = (uint16_t)(r->arg[1] & 0xf);
	f->sock.proto = (uint16_t)r->arg[2];
	if (r->arg[1] & K_O_CLOEXEC)
		f->flags |= K_O_CLOEXEC;
	sock_normalize(&f->sock);
	set_type(f, fdtype_of_family(f->sock.family));
	if ((r->h.flags & VG_F_SOCK) && r->sock.family == f->sock.family)
		take_sock(f, r, ev);
}

static void do_pair(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		    struct vg_event *ev, uint8_t type, uint32_t flags)
{
	if (r->h.ret != 0 || !(r->h.flags & VG_F_FDPAIR))
		return;
	ev->fd = r->aux[0];
	for (int i = 0; i < 2; i++) {
		struct vg_fd *f = fd_new(st, e, r->aux[i]);
		if (!f)
			continue;
		set_type(f, type);
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
		f = sock_fd(st, e, ev->fd, r, false);
		if (!f)
			return;
		f->is_server = false;
		take_sock(f, r, ev);
		f->connected = ret == 0 || ret == -K_EINPROGRESS;
		break;
	case VG_NR_accept:
	case VG_NR_accept4:
		if (ret < 0) {
			ev->fd = arg_fd(r->arg[0]);
			return;
		}
		ev->fd = ret;
		f = fd_new(st, e, ret);
		if (!f)
			return;
		f->is_server = true;
		f->connected = true;
		if (nr == VG_NR_accept4 && (r->arg[3] & K_O_CLOEXEC))
			f->flags |= K_O_CLOEXEC;
		take_sock(f, r, ev);
		break;
	case VG_NR_bind:
	case VG_NR_listen:
		ev->fd = arg_fd(r->arg[0]);
		f = sock_fd(st, e, ev->fd, r, true);
		if (!f || ret < 0)
			return;
		f->is_server = true;
		take_sock(f, r, ev);
		break;
	default: /* sendto, recvfrom, sendmsg, recvmsg */
		ev->fd = arg_fd(r->arg[0]);
		f = sock_fd(st, e, ev->fd, r, nr == VG_NR_recvfrom || nr == VG_NR_recvmsg);
		if (!f || ret < 0)
			return;
		if (!f->connected && f->name[0] == '\0')
			f->is_server = nr == VG_NR_recvfrom || nr == VG_NR_recvmsg;
		take_sock(f, r, ev);
		break;
	}
}

static void set_cwd(struct proc_ent *e, const char *dir, char *scratch)
{
	if (!dir || !*dir)
		return;
	path_normalize(scratch, VG_STR_MAX, e->p.cwd, dir);
	if (scratch[0] == '/')
		set_rs(e, PS_CWD, rs_str(scratch));
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

static void fork_child(struct vg_state *st, struct proc_ent *par, uint32_t cpid, uint32_t cvpid,
		       uint64_t start, struct proc_ent **out);

static void apply_syscall(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
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
			ev->path = norm_path(ev->buf[0], base, ev->str[VG_S_PATH0]);
		}
	}
	if (d->p1 >= 0 && ev->str[VG_S_PATH1]) {
		if (d->flags & VG_SC_P1RAW) {
			ev->path2 = ev->str[VG_S_PATH1];
		} else {
			const char *base = ev->str[VG_S_BASE1] ? ev->str[VG_S_BASE1] : e->p.cwd;
			ev->path2 = norm_path(ev->buf[1], base, ev->str[VG_S_PATH1]);
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
			f = fd_new(st, e, ret);
			if (f) {
				set_type(f, VG_FD_MEMFD);
				if (r->arg[1] & K_MFD_CLOEXEC)
					f->flags |= K_O_CLOEXEC;
				snprintf(scratch, sizeof(scratch), "memfd:%s",
					 ev->str[VG_S_XSTR] ? ev->str[VG_S_XSTR] : "");
				vg_fdtab_set_name(f, rs_str(scratch));
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
			set_uid(st, e, id);
		break;
	case VG_NR_setgid:
	case VG_NR_setregid:
	case VG_NR_setresgid:
		if (ret == 0 && new_eid(r, &id))
			set_gid(st, e, id);
		break;
	case VG_NR_clone:
	case VG_NR_fork:
	case VG_NR_vfork:
		/* The fork record normally created the child already.  If it
		 * was lost, the return value names the child, but only in the
		 * caller's pid namespace: trust it on the host's only. */
		if (ret > 0 && !lookup(st, (uint32_t)ret) && (e->p.known & VG_PK_VPID) &&
		    e->p.vpid == e->p.pid && !(nr == VG_NR_clone && (r->arg[0] & K_CLONE_THREAD))) {
			struct proc_ent *c = NULL;
			fork_child(st, e, (uint32_t)ret, (uint32_t)ret, 0, &c);
		}
		break;
	default:
		break;
	}
	if (ev->fd >= 0 && !ev->fdi)
		ev->fdi = vg_fdtab_get(e->fds, ev->fd);
}

/* ------------------------------------------------------------------ */
/* fork / exit                                                         */

static void fork_child(struct vg_state *st, struct proc_ent *par, uint32_t cpid, uint32_t cvpid,
		       uint64_t start, struct proc_ent **out)
{
	struct proc_ent *c = lookup(st, cpid);
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
		c->p.start_ns = wall(st, start);
		c->p.known |= VG_PK_START;
	}
	vg_fdtab_copy(c->fds, par->fds, st->max_fds, &st->stats.fd_evictions);
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
	ev->ts = wall(st, h->ts);
	ev->num = ++st->num;
	ev->path = ev->path2 = NULL;
	ev->fd = -1;
	ev->fdi = NULL;
	ev->st = st;
	ev->proc = NULL;

	struct proc_ent *e;
	char scratch[VG_STR_MAX];
	switch (h->kind) {
	case VG_K_SYSCALL:
		ev->type = h->nr;
		e = proc_of(st, h);
		if (!e)
			return -ENOMEM;
		from_header(st, e, h);
		apply_syscall(st, e, raw, ev);
		break;
	case VG_K_EXEC:
	case VG_K_PROC:
		ev->type = h->kind == VG_K_EXEC ? h->nr : VG_T_PROCSNAP;
		e = proc_of(st, h);
		if (!e)
			return -ENOMEM;
		apply_exec(st, e, raw, ev, scratch);
		ev->path = e->p.exepath;
		{
			/* keep the parent chain warm: it is what rules read next */
			struct proc_ent *par = e->p.ppid ? lookup(st, e->p.ppid) : NULL;
			if (par) {
				touch(st, par);
				touch(st, e);
			}
		}
		break;
	case VG_K_FORK:
		ev->type = VG_T_PROCFORK;
		e = proc_of(st, h);
		if (!e)
			return -ENOMEM;
		from_header(st, e, h);
		{
			struct proc_ent *c = NULL;
			fork_child(st, e, raw->fork.child_pid, raw->fork.child_vpid,
				   raw->fork.start_ns, &c);
			if (c)
				e = c;
		}
		break;
	case VG_K_EXIT:
	default:
		ev->type = VG_T_PROCEXIT;
		e = proc_of(st, h);
		if (!e)
			return -ENOMEM;
		from_header(st, e, h);
		detach(st, e);
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
	struct proc_ent *e = lookup(st, pid);
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
		struct proc_ent *a = lookup(st, cur->ppid);
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
	const struct cgid_slot *s = cg_slot((struct vg_state *)st, h->cgroup_id);
	if (s->cgid != h->cgroup_id)
		return 0;
	memcpy(out, s->id, VG_CONTAINER_ID_LEN);
	return 1;
}
