/* state.h - process, fd and container state built from raw records.
 *
 * vg_state_apply() is the one entry point: it decodes a raw record
 * (bpf/vigil.h), updates the tables (process table seeded by VG_K_PROC
 * records, fork/exec/exit, fd table from open/close/dup/socket/...), makes
 * paths absolute, and fills the struct vg_evt the engine reads.
 *
 * Every table has a cap; when full the least recently used entry is evicted
 * and counted.  All strings a struct vg_proc points to are owned by the
 * table and stay valid until the next vg_state_apply() call.
 */
#ifndef VIGIL_STATE_H
#define VIGIL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define VG_CONTAINER_ID_LEN 13 /* 12 hex + NUL, or "host" */

enum vg_fdtype {
	VG_FD_UNKNOWN = 0,
	VG_FD_FILE,    /* 'f' */
	VG_FD_DIR,     /* 'd' */
	VG_FD_IPV4,    /* '4' */
	VG_FD_IPV6,    /* '6' */
	VG_FD_UNIX,    /* 'u' */
	VG_FD_PIPE,    /* 'p' */
	VG_FD_EVENT,   /* 'e' */
	VG_FD_SIGNAL,  /* 's' */
	VG_FD_NETLINK, /* 'n'? Falco: 'n' is netlink */
	VG_FD_MEMFD,   /* 'f' with memfd: name */
	VG_FD_OTHER,   /* 'o' */
};

struct vg_fd {
	int64_t fd;
	uint8_t type;      /* enum vg_fdtype */
	char typechar;     /* Falco's fd.typechar */
	uint32_t flags;    /* open flags */
	const char *name;  /* path, "memfd:x", or rendered tuple "1.2.3.4:5->6.7.8.9:10" */
	struct vg_sock sock; /* for sockets */
	bool connected;
};

struct vg_proc {
	uint32_t pid, ppid;       /* host pids (thread group ids) */
	uint32_t vpid, vpgid, sid, pgid;
	uint32_t uid, gid, ruid, rgid, loginuid;
	uint64_t cap_eff, cap_perm, cap_inh;
	uint64_t start_ns;        /* wall clock */
	uint64_t exe_ino, exe_ctime_ns, exe_mtime_ns;
	uint32_t tty;
	uint32_t exe_flags;       /* VG_EXE_* */
	char comm[VG_COMM_LEN];   /* proc.name */
	const char *exe;          /* argv[0] (proc.exe) */
	const char *exepath;      /* absolute executable path (proc.exepath) */
	const char *args;         /* argv[1..] joined by spaces (proc.args) */
	const char *argv;         /* argv NUL-separated, argv_len bytes */
	size_t argv_len;
	const char *cmdline;      /* "comm args" (proc.cmdline) */
	const char *cwd;          /* ends without '/', except "/" */
	const char *env;          /* NUL-separated, env_len bytes (bounded) */
	size_t env_len;
	const char *user;         /* user.name (uid resolved; "" when unknown) */
	const char *group;        /* group.name */
	const char *loginname;    /* user.loginname */
	const char *cgroup;       /* cgroup path as captured */
	char container_id[VG_CONTAINER_ID_LEN]; /* "host" or 12 hex */
	bool seeded;              /* came from /proc, not from a live exec */
};

struct vg_state_opts {
	size_t max_procs;  /* default 32768 */
	size_t max_fds;    /* per process, default 1024 */
	size_t max_env;    /* bytes of environment kept, default 4096 */
	const char *proc_root; /* "/proc" (tests point it elsewhere) */
	const char *etc_root;  /* "/etc" for passwd/group (tests point it elsewhere) */
};

struct vg_state_stats {
	uint64_t procs;            /* processes tracked now */
	uint64_t proc_evictions;
	uint64_t fd_evictions;
	uint64_t bad_records;      /* malformed records rejected */
};

struct vg_state;

struct vg_state *vg_state_new(const struct vg_state_opts *opts);
void vg_state_free(struct vg_state *st);

/* Apply one record (size bytes) and fill *ev.  Returns 0, or -EINVAL for a
 * malformed record (nothing changed).  ev stays valid until the next call. */
int vg_state_apply(struct vg_state *st, const struct vg_event *raw, size_t size,
		   struct vg_evt *ev);

/* Look up a process; NULL if not tracked. */
struct vg_proc *vg_state_proc(struct vg_state *st, uint32_t pid);
/* The n-th ancestor of p (1 = parent); NULL when the chain ends. */
struct vg_proc *vg_state_ancestor(struct vg_state *st, const struct vg_proc *p, int n);
/* fd table entry of p, NULL if unknown. */
const struct vg_fd *vg_state_fd(struct vg_state *st, const struct vg_proc *p, int64_t fd);

void vg_state_get_stats(const struct vg_state *st, struct vg_state_stats *out);

/* Container id from a cgroup path (docker, containerd cgroupfs and systemd,
 * CRI-O, podman, k3s).  Writes "host" when no runtime layout matches. */
void vg_container_id(const char *cgroup_path, char out[VG_CONTAINER_ID_LEN]);

/* Pod uid (36 chars, dashed) from a kubelet cgroup path: "pod<uid>" under
 * kubepods (cgroupfs) or "kubepods-<qos>-pod<uid_with_underscores>.slice"
 * (systemd).  Returns 0, or -ENOENT (out = "") outside kubepods. */
int vg_container_pod_uid(const char *cgroup_path, char out[37]);

/* Scan proc_root and call emit() with one VG_K_PROC record per process
 * (parents before children).  Returns the number of processes or -errno. */
/* (The record passed to emit() is valid only during the call; emit() returns
 * 0 to go on, or nonzero to stop the scan, which then returns that value if
 * negative, else -ECANCELED.) */
typedef int (*vg_record_cb)(void *ctx, const struct vg_event *raw, size_t size);
int vg_procscan(const char *proc_root, vg_record_cb emit, void *ctx);

#endif
