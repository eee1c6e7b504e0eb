/* state.h - process, fd and container state built from raw records.
 *
 * vg_state_apply() is the one entry point: it decodes a raw record
 * (bpf/vigil.h), updates the tables (process table seeded by VG_K_PROC
 * records, fork/exec/exit, fd table from open/close/dup/socket/...), makes
 * paths absolute, and fills the struct vg_event the engine reads.
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
	uint8_t type;	     /* enum vg_fdtype */
	char typechar;	     /* Falco's fd.typechar */
	uint32_t flags;	     /* open flags */
	const char *name;    /* path, "memfd:x", or rendered tuple "1.2.3.4:5->6.7.8.9:10" */
	struct vg_sock sock; /* for sockets */
	bool connected;
	bool is_server;	   /* accepted, bound or listening: local end is the server */
	uint64_t name_num; /* evt.num of the event that last changed name (fd.name_changed) */
	bool name_cut;	   /* name is a cut path (VG_PATH_CUT_MARK; fd.name_truncated) */
};

struct vg_proc {
	uint32_t pid, ppid; /* host pids (thread group ids) */
	uint32_t vpid, vpgid, sid, pgid;
	uint32_t uid, gid, ruid, rgid, loginuid;
	uint64_t cap_eff, cap_perm, cap_inh;
	uint64_t start_ns; /* wall clock */
	uint64_t exe_ino, exe_ctime_ns, exe_mtime_ns;
	uint32_t tty;
	uint32_t exe_flags;	/* VG_EXE_* */
	char comm[VG_COMM_LEN]; /* proc.name */
	const char *exe;	/* argv[0] (proc.exe) */
	const char *exepath;	/* absolute executable path (proc.exepath) */
	const char *args;	/* argv[1..] joined by spaces (proc.args) */
	const char *argv;	/* argv NUL-separated, argv_len bytes */
	size_t argv_len;
	const char *cmdline; /* "comm args" (proc.cmdline) */
	const char *cwd;     /* ends without '/', except "/" */
	const char *env;     /* NUL-separated, env_len bytes (bounded) */
	size_t env_len;
	const char *user;			/* user.name (uid resolved; "" when unknown) */
	const char *group;			/* group.name */
	const char *loginname;			/* user.loginname */
	const char *cgroup;			/* cgroup path as captured */
	char container_id[VG_CONTAINER_ID_LEN]; /* "host" or 12 hex */
	bool seeded;				/* came from /proc, not from a live exec */
	uint32_t known;				/* VG_PK_* bits: which members hold real data */
};

/* vg_proc.known: a process first seen through an unrelated event has only
 * what its header carries (pid, ppid, comm, uids); the rest is unknown and
 * its fields read as unset. */
#define VG_PK_EXEC 0x1	/* exec/proc record seen: caps, ids, tty, exe inode, env */
#define VG_PK_START 0x2 /* start_ns is known */
#define VG_PK_VPID 0x4	/* vpid is known */

struct vg_state_opts {
	size_t max_procs;      /* default 32768 */
	size_t max_fds;	       /* per process, default 1024 */
	size_t max_env;	       /* bytes of environment kept, default 4096 */
	const char *proc_root; /* "/proc" (tests point it elsewhere) */
	const char *etc_root;  /* "/etc" for passwd/group (tests point it elsewhere) */
	/* Replays: record timestamps (h.ts, start_ns) already hold wall-clock
	 * ns and are used as is; live records carry CLOCK_BOOTTIME, converted
	 * with the offset measured once in vg_state_new(). */
	bool ts_is_wall;
	const char *hostname; /* evt.hostname; NULL: uname() nodename */
};

struct vg_state_stats {
	uint64_t procs; /* processes tracked now */
	uint64_t proc_evictions;
	uint64_t fd_evictions;
	uint64_t bad_records; /* malformed records rejected */
};

struct vg_state;

struct vg_state *vg_state_new(const struct vg_state_opts *opts);
void vg_state_free(struct vg_state *st);

/* Apply one record (size bytes) and fill *ev.  Returns 0, or -EINVAL for a
 * malformed record (nothing changed).  ev stays valid until the next call.
 * (-ENOMEM when a new table entry cannot be allocated: the record is lost.)
 * Validation: h.size within size and VG_REC_MAX, a known kind, pid and tid
 * non-zero, string slots packed in slot order, each NUL-terminated, without
 * inner NUL except argv/env, followed by at most 7 bytes of padding; a
 * syscall number vigil knows (execve/execveat for VG_K_EXEC). */
int vg_state_apply(struct vg_state *st, const struct vg_rec *raw, size_t size, struct vg_event *ev);

/* Look up a process; NULL if not tracked. */
struct vg_proc *vg_state_proc(struct vg_state *st, uint32_t pid);
/* The n-th ancestor of p (1 = parent); NULL when the chain ends. */
struct vg_proc *vg_state_ancestor(struct vg_state *st, const struct vg_proc *p, int n);
/* a and b are in one container (never true on the host): the boundary the
 * fields of a namespaced Rule stop at (fields.h, vg_field_confine). */
static inline bool vg_same_container(const struct vg_proc *a, const struct vg_proc *b)
{
	return a && b && b->container_id[0] && __builtin_strcmp(b->container_id, "host") != 0 &&
	       __builtin_strcmp(a->container_id, b->container_id) == 0;
}
/* fd table entry of p, NULL if unknown. */
const struct vg_fd *vg_state_fd(struct vg_state *st, const struct vg_proc *p, int64_t fd);

void vg_state_get_stats(const struct vg_state *st, struct vg_state_stats *out);

/* Call fn for every fd of p (oldest first) until it returns non-zero. */
void vg_state_fds(struct vg_state *st, const struct vg_proc *p,
		  int (*fn)(void *ctx, const struct vg_fd *fd), void *ctx);

/* uid/gid to name, home and shell through the etc_root files; "" when
 * unknown.  The string is valid until the next look-up: copy it. */
const char *vg_state_user_name(struct vg_state *st, uint32_t uid);
const char *vg_state_group_name(struct vg_state *st, uint32_t gid);
const char *vg_state_user_home(struct vg_state *st, uint32_t uid);
const char *vg_state_user_shell(struct vg_state *st, uint32_t uid);
const char *vg_state_hostname(const struct vg_state *st);

/* Container and pod metadata, filled by whoever knows it (the Kubernetes
 * module, the container runtime's files).  vigil's state only knows the container id; everything
 * here is optional: NULL strings, privileged < 0 and start_ts == 0 mean unknown and the matching
 * fields read as unset. */
struct vg_label {
	const char *key, *value;
};

struct vg_mount {
	const char *source, *dest;
	const char *mode; /* e.g. "ro" / "" */
	bool rw;
	const char *propagation; /* e.g. "rprivate" */
};

struct vg_container_meta {
	const char *name;	/* container.name */
	const char *image;	/* container.image ("repo:tag") */
	const char *image_repo; /* container.image.repository */
	const char *image_tag;	/* container.image.tag */
	int privileged;		/* container.privileged: 1, 0, or -1 unknown */
	uint64_t start_ts;	/* container.start_ts, wall ns; 0 unknown */
	const struct vg_mount *mounts;
	size_t nmounts; /* mounts known only when mounts != NULL */
	const char *pod_name, *pod_uid, *ns_name;
	const struct vg_label *pod_labels;
	size_t npod_labels;
	const struct vg_label *ns_labels;
	size_t nns_labels;
	/* from the container runtime's own files (agent/runtime/) */
	const char *full_id; /* container.full_id (64 hex) */
	const char *type;    /* container.type: containerd, cri-o, runc */
	const char *user;    /* container.user: uid the spec starts the process as */
};

/* The look-up returns the metadata of a container id, or NULL.  What it
 * returns must stay valid until the next vg_state_apply() (the engine reads
 * it while evaluating the event). */
typedef const struct vg_container_meta *(*vg_meta_lookup_fn)(void *ctx, const char *container_id);
void vg_state_set_meta_lookup(struct vg_state *st, vg_meta_lookup_fn fn, void *ctx);
/* Metadata of p's container; NULL when unknown or on the host. */
const struct vg_container_meta *vg_state_meta(struct vg_state *st, const struct vg_proc *p);

/* The container a raw record will be attributed to, before it is applied:
 * from the cgroup path an exec record carries, else from the cgroup ids
 * already seen.  Returns 1 with out set ("host" or 12 hex), 0 when not
 * known yet (out = ""). */
int vg_state_record_container(const struct vg_state *st, const struct vg_rec *raw, size_t size,
			      char out[VG_CONTAINER_ID_LEN]);

/* The pod uid the cgroup path of an exec record names (kubepods), before
 * it is applied: 0 with out set, else -ENOENT (out = ""). */
int vg_state_record_pod_uid(const struct vg_rec *raw, size_t size, char out[37]);

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
typedef int (*vg_record_cb)(void *ctx, const struct vg_rec *raw, size_t size);
int vg_procscan(const char *proc_root, vg_record_cb emit, void *ctx);

/* This process's pid as proc_root's pid namespace numbers it (the host's,
 * when a container mounts the host's /proc there: getpid() would give the
 * container's).  Returns it, or 0 if proc_root/self cannot be read. */
uint32_t vg_procscan_self(const char *proc_root);

/* Whether the host of proc_root has a cgroup v2 hierarchy, alone or beside
 * v1's (unified): without one every task has the same v2 cgroup id, the
 * one records carry. */
bool vg_procscan_has_cgroup2(const char *proc_root);

#endif
