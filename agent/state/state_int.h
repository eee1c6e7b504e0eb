/* state_int.h - what the files of the state module share; not an API.
 *
 * The state (state.h) is one module split over several files, each of one
 * part of the job: state.c (creation, validation, apply, queries),
 * state_strings.c (the intern table), state_proc.c (the process table,
 * names, containers, exec and fork), state_path.c (path normalisation),
 * state_fd.c (fd entries and sockets), state_sys.c (what each syscall
 * does).  Their shared functions carry the vg_st_ prefix; nothing outside
 * agent/state/ includes this header.
 */
#ifndef VIGIL_STATE_INT_H
#define VIGIL_STATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fdtab.h"
#include "rstr.h"
#include "state.h"
#include "users.h"

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

/* One-liners on every record's path, inline here since the split put
 * their callers in other files. */
static inline uint64_t vg_st_wall(const struct vg_state *st, uint64_t ts)
{
	if (st->ts_is_wall || ts == 0)
		return ts;
	return (uint64_t)((int64_t)ts + st->boot_off);
}

static inline char typechar_of(uint8_t t)
{
	static const char tc[] = {
		[VG_FD_UNKNOWN] = 'o', [VG_FD_FILE] = 'f',  [VG_FD_DIR] = 'd',
		[VG_FD_IPV4] = '4',    [VG_FD_IPV6] = '6',  [VG_FD_UNIX] = 'u',
		[VG_FD_PIPE] = 'p',    [VG_FD_EVENT] = 'e', [VG_FD_SIGNAL] = 's',
		[VG_FD_NETLINK] = 'n', [VG_FD_MEMFD] = 'm', [VG_FD_OTHER] = 'o',
	};
	return t < sizeof(tc) ? tc[t] : 'o';
}

static inline void vg_st_set_type(struct vg_fd *f, uint8_t t)
{
	f->type = t;
	f->typechar = typechar_of(t);
}

static inline struct vg_fd *vg_st_fd_new(struct vg_state *st, struct proc_ent *e, int64_t fd)
{
	return vg_fdtab_put(e->fds, fd, st->max_fds, &st->stats.fd_evictions);
}

/* state_strings.c: interned strings */
struct vg_rstr *vg_st_intern(struct vg_state *st, const char *p, size_t len);
void vg_st_intern_put(struct vg_state *st, struct vg_rstr *r);
void vg_st_itab_free(struct itab *t);

/* state_proc.c: process table, names, containers, exec info, fork */
void vg_st_proc_free(struct vg_state *st, struct proc_ent *e);
struct proc_ent *vg_st_lookup(const struct vg_state *st, uint32_t pid);
void vg_st_touch(struct vg_state *st, struct proc_ent *e);
void vg_st_detach(struct vg_state *st, struct proc_ent *e);
void vg_st_set_rs(struct proc_ent *e, int which, struct vg_rstr *r);
void vg_st_set_uid(struct vg_state *st, struct proc_ent *e, uint32_t uid);
void vg_st_set_gid(struct vg_state *st, struct proc_ent *e, uint32_t gid);
struct cgid_slot *vg_st_cg_slot(struct vg_state *st, uint64_t cgid);
void vg_st_from_header(struct vg_state *st, struct proc_ent *e, const struct vg_hdr *h);
struct proc_ent *vg_st_proc_of(struct vg_state *st, const struct vg_hdr *h);
void vg_st_apply_exec(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
		      const struct vg_event *ev, char *scratch);
void vg_st_fork_child(struct vg_state *st, struct proc_ent *par, uint32_t cpid, uint32_t cvpid,
		      uint64_t start, struct proc_ent **out);

/* state_path.c: paths.  vg_st_path_normalize writes dir + path made
 * absolute and normal into out; a result longer than cap - 1 keeps its
 * root side and ends with VG_PATH_CUT_MARK, and the call returns true. */
bool vg_st_path_normalize(char *out, size_t cap, const char *dir, const char *path);
const char *vg_st_norm_path(char *buf, const char *dir, const char *path, bool *cut);

/* state_fd.c: fds and sockets */
struct vg_rstr *vg_st_rs_str(const char *s);
uint8_t vg_st_fdtype_of_family(unsigned family);
void vg_st_sock_normalize(struct vg_sock *s);
void vg_st_take_sock(struct vg_fd *f, const struct vg_rec *r, const struct vg_event *ev);
void vg_st_tmp_sock(struct vg_state *st, const struct vg_rec *r, bool server, struct vg_event *ev);
struct vg_fd *vg_st_sock_fd(struct vg_state *st, struct proc_ent *e, int64_t fd,
			    const struct vg_rec *r, bool server);

/* state_sys.c: syscalls */
/* Whether family (enum vg_sys_apply) has its handler (for the tests). */
bool vg_st_has_handler(int family);
void vg_st_apply_syscall(struct vg_state *st, struct proc_ent *e, const struct vg_rec *r,
			 struct vg_event *ev);

#endif
