/* vigil.h - records and maps shared by the BPF programs and user space.
 *
 * A record is a struct vg_rec followed by up to VG_NSTR strings packed
 * back to back (each NUL-terminated; len[i] counts the NUL, 0 means
 * absent).  Records have variable size (h.size bytes in all); user space
 * must never read past h.size.  In the ring buffer, syscall records travel
 * in a shorter form (struct vg_sc_wire below) that vg_capture_expand()
 * turns back into a struct vg_rec.
 *
 * This header is included by BPF C (after vmlinux.h) and by normal C (after
 * <stdint.h>), so it only uses the __u* types both sides have.
 */
#ifndef VIGIL_VIGIL_H
#define VIGIL_VIGIL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "syscalls.h"

#define VG_COMM_LEN 16
#define VG_STR_MAX 4096 /* one string slot, NUL included (PATH_MAX) */
#define VG_NSTR 6
#define VG_REC_MAX (32 * 1024) /* upper bound of one record */

/* record kinds */
enum vg_kind {
	VG_K_SYSCALL = 1, /* sys_exit of an interesting syscall */
	VG_K_EXEC = 2,	  /* sched_process_exec: a successful execve/execveat */
	VG_K_FORK = 3,	  /* sched_process_fork of a new process (not a thread) */
	VG_K_EXIT = 4,	  /* sched_process_exit of a whole thread group */
	VG_K_PROC = 5,	  /* user space only: a process found in /proc (EXEC layout) */
};

/* string slots of a VG_K_SYSCALL record */
enum vg_sslot {
	VG_S_PATH0 = 0, /* first path as the caller passed it */
	VG_S_PATH1 = 1, /* second path (rename/link newpath, mount source) */
	VG_S_BASE0 =
		2, /* absolute dir PATH0 is relative to (dirfd or cwd), only if PATH0 is relative */
	VG_S_BASE1 = 3, /* same for PATH1 */
	VG_S_XSTR = 4,	/* extra string (symlink target, memfd name, fstype, module params) */
	VG_S_CWD = 5,	/* cwd after chdir/fchdir (VG_SC_CWD), or unix socket path */
};
/* After a successful open-family call (VG_SC_FDPATH), the path of the file
 * actually opened, walked from the new fd's struct file: what /proc/self/
 * root/..., /proc/self/fd/N, symlinks and ".." in the caller's string
 * resolve to. */
#define VG_S_FILE VG_S_CWD

/* What a walked path too long for a string slot carries where it was cut:
 * "/etc/a/b" VG_PATH_CUT_MARK "/y/z" (the head when the walk reached the
 * root, the mark, the tail); the record's VG_F_PATHCUT says that the mark
 * is a cut and not a directory of that name. */
#define VG_PATH_CUT_MARK "/[truncated]"

/* string slots of a VG_K_EXEC record */
enum vg_xslot {
	VG_X_FILENAME = 0, /* bprm->filename, as passed to execve */
	VG_X_ARGS = 1,	   /* argv, NUL-separated (mm arg area, truncated) */
	VG_X_ENV = 2,	   /* environment, NUL-separated (bounded) */
	VG_X_EXEPATH = 3,  /* absolute path of the executable file (dentry walk) */
	VG_X_CWD = 4,	   /* absolute cwd */
	VG_X_CGROUP = 5,   /* cgroup path of the task (last components, '/'-joined) */
};

/* exec flags */
#define VG_EXE_UPPER 0x1  /* exe lies on an overlayfs upper layer */
#define VG_EXE_MEMFD 0x2  /* exe is a memfd (fileless) */
#define VG_EXE_SETUID 0x4 /* exe file has the setuid bit */

/* header flags */
#define VG_F_SOCK 0x1	 /* sock is valid */
#define VG_F_TRUNC 0x2	 /* a string was truncated */
#define VG_F_FDPAIR 0x4	 /* aux[0], aux[1] hold the two fds (pipe, socketpair) */
#define VG_F_OPENHOW 0x8 /* aux[0] = open_how.flags, aux[1] = open_how.mode */
/* How the operation was requested, for records of the BPF-LSM programs
 * (bpf/lsm.bpf.h), which stand in for the syscall an ordinary process
 * would have made (nr: openat, connect, accept4); none: a syscall. */
#define VG_F_URING 0x10 /* by io_uring: a ring's worker thread or io_uring_enter */
#define VG_F_LSM 0x20	/* by another side door the LSM hook saw (open_by_handle_at) */
/* The fd is not known (an io_uring fixed-file slot, or another thread
 * raced for the fd number): ret / the fd argument are not an fd, and the
 * fd table must not be touched.  Only with VG_F_URING or VG_F_LSM. */
#define VG_F_NOFD 0x40
/* A path the kernel walked (a base directory, a cwd, an opened file's
 * path, an executable's) was longer than a string slot: it keeps its root
 * side and VG_PATH_CUT_MARK stands where it was cut. */
#define VG_F_PATHCUT 0x80

struct vg_hdr {
	__u64 ts;	 /* CLOCK_BOOTTIME ns */
	__u64 cgroup_id; /* cgroup v2 id of the task */
	__u32 tid, pid, ppid;
	__u32 uid, gid; /* effective */
	__u32 loginuid; /* (u32)-1 when unset */
	__s64 ret;	/* syscall return value (0 for EXEC/FORK, exit code for EXIT) */
	__u16 kind;	/* enum vg_kind */
	__u16 nr;	/* syscall number (EXEC: execve or execveat) */
	__u16 size;	/* whole record, strings included */
	__u16 flags;	/* VG_F_* */
	char comm[VG_COMM_LEN];
};

/* socket tuple read from the kernel socket (plus the user sockaddr when the
 * kernel does not know the peer, e.g. unconnected UDP sendto) */
struct vg_sock {
	__u16 family; /* AF_INET, AF_INET6, AF_UNIX, ... */
	__u16 type;   /* SOCK_STREAM, SOCK_DGRAM, ... */
	__u16 proto;  /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u16 lport;  /* host byte order */
	__u16 rport;
	__u16 pad;
	__u8 laddr[16]; /* IPv4 in the first 4 bytes, network order */
	__u8 raddr[16];
};

struct vg_exec_info {
	__u64 cap_eff, cap_perm, cap_inh;
	__u64 start_ns; /* task start, CLOCK_BOOTTIME */
	__u64 exe_ino;
	__u64 exe_ctime_ns, exe_mtime_ns;
	__u32 ruid, rgid;
	__u32 tty;	   /* dev_t of the controlling tty, 0 if none */
	__u32 sid, pgid;   /* host pids */
	__u32 vpid, vpgid; /* pid and pgid in the task's pid namespace */
	__u32 exe_flags;   /* VG_EXE_* */
	__u32 pidns_ino;
	__u32 pad;
};

struct vg_fork_info {
	__u32 child_pid, child_tid;
	__u32 child_vpid;
	__u32 clone_flags_pad;
	__u64 start_ns;
};

struct vg_rec {
	struct vg_hdr h;
	union {
		__u64 arg[6]; /* VG_K_SYSCALL: raw syscall arguments */
		struct vg_exec_info exec;
		struct vg_fork_info fork;
	};
	struct vg_sock sock;
	__s64 aux[2];
	__u16 len[VG_NSTR];
	__u32 pad;
	char data[]; /* strings */
};

/* The ring's form of a VG_K_SYSCALL record: struct vg_rec without the
 * exec/fork part of its union, and with the socket tuple only when
 * VG_F_SOCK is set, after the strings at the next 8-byte boundary.  A
 * syscall record is then ~150 bytes instead of ~250: writing the ring
 * (and the consumer reading it) is what a record costs most.  User space
 * (agent/capture/capture.c) expands it back into a struct vg_rec before anything
 * else sees it; h.size is the wire size. */
struct vg_sc_wire {
	struct vg_hdr h;
	__u64 arg[6];
	__s64 aux[2];
	__u16 len[VG_NSTR];
	__u32 pad;
	char data[];
};
#define VG_SC_WIRE_SOCK_ALIGN 8

/* one row of the interest map, indexed by syscall number; cat == 0 means the
 * syscall is not captured.  Built by user space from VG_SYSCALLS. */
struct vg_sc_desc {
	__u8 cat;
	__s8 p0, d0, p1, d1, sfd, sa, sal, xs, fdp;
	__u16 flags; /* VG_SC_* (bpf/syscalls.h) */
	/* the prefilter (bpf/prefilter.h): 0 sends every event; 1 or 2
	 * filters it through slot pf - 1 of vg_pf (user space writes the
	 * other slot, then flips this byte: a reader never sees a half-written
	 * predicate) */
	__u8 pf;
};

/* per-CPU counters (one array entry) */
struct vg_stats {
	__u64 seen[VG_CAT_MAX];	   /* events emitted, by category (0: exec/fork/exit) */
	__u64 dropped[VG_CAT_MAX]; /* events lost because the ring was full */
	__u64 unwoken;		   /* bytes written since this CPU last woke the consumer */
	/* events emitted by type: the syscall number (exec: execve/execveat),
	 * VG_NR_MAX + VG_TYPE_EXIT / VG_TYPE_FORK for process exits and forks */
	__u64 by_type[VG_NR_MAX + 4];
	/* syscall events the prefilter did not send, by syscall number */
	__u64 filtered[VG_NR_MAX];
};
#define VG_TYPE_EXIT 0
#define VG_TYPE_FORK 1

#endif
