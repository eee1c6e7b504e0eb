/* SPDX-License-Identifier: GPL-2.0 */
/* lsm.bpf.h - BPF-LSM programs: operations that no syscall reported.
 *
 * Included at the end of vigil.bpf.c: one object, so these programs write
 * the same ring with the same record builders and read the same interest
 * map.
 *
 * io_uring performs opens, connects and accepts with no open/connect/
 * accept syscall at all: inside io_uring_enter, or in one of the ring's
 * own threads (io-wq workers, the SQPOLL thread), so the sys_exit program
 * never sees them.  The LSM hooks below run inside the operation itself, whichever
 * way it was requested, on the kernel's own objects: the path is the file
 * actually opened (struct file), the address the one the kernel copied.
 *
 * Each program emits the record of the syscall an ordinary process would
 * have made (openat, connect, accept4), flagged VG_F_URING,
 * and only when no syscall reported it: when the current task is an
 * io_uring thread (PF_IO_WORKER), or inside io_uring_enter (the syscall
 * number in its user registers; inline submissions and the task work run
 * while waiting for completions).  open_by_handle_at, which opens a file
 * from a handle with no path, is reported by the sys_exit program
 * (VG_SC_ASOPENAT in bpf/syscalls.h), on every kernel.
 * Inside open/openat/connect/... the hook stays silent: sys_exit reports
 * that call, so an ordinary syscall still gives exactly one event.
 *
 * These programs read the current task with CO-RE probe reads and walk
 * paths in the global function (no bpf_loop), so the same code loads from
 * 5.8; user space loads them only where the bpf LSM is active
 * (agent/capture/capture.c: capture.lsm).  On 5.10, io-wq workers are
 * kernel threads of their own: their records carry the worker's pid.
 */
#ifndef VIGIL_LSM_BPF_H
#define VIGIL_LSM_BPF_H

#define PF_IO_WORKER 0x00000010
#define PF_KTHREAD 0x00200000
#define FMODE_EXEC 0x20
#define NR_IO_URING_ENTER 426
#define SOCK_STREAM 1
#define TCP_CLOSE 7
#define MNT_NS_INTERNAL (-22L) /* ERR_PTR(-EINVAL): a private or kernel mount */
#define FD_SCAN 128	       /* fds searched for a socket's number */
#define NR_CONNECT 42
#define NR_OPENAT 257
#define NR_ACCEPT4 288

/* The start-up probe (capture.c): user space sets vg_lsm_probe_tgid to
 * its own process, opens a file, and sees the hook ran when the count
 * moves: the one sure test that the bpf LSM is active (where it is not,
 * the programs load and attach but never run). */
__u32 vg_lsm_probe_tgid = 0;
__u64 vg_lsm_probe_hits = 0;

/* The syscall the task is in, from its user registers (see exec_body). */
static __always_inline long cur_syscall(struct task_struct *t)
{
	struct pt_regs *regs =
		(struct pt_regs *)((char *)BPF_CORE_READ(t, stack) + VG_THREAD_SIZE) - 1;
	return BPF_CORE_READ(regs, orig_ax);
}

/* VG_F_URING when the operation in progress came from io_uring, else 0.
 * *nr: the syscall the task is in (-1 for an io_uring thread). */
static __always_inline __u16 via_uring(struct task_struct *t, unsigned int fl, long *nr)
{
	*nr = -1;
	if (fl & PF_IO_WORKER)
		return VG_F_URING;
	if (fl & PF_KTHREAD)
		return 0;
	*nr = cur_syscall(t);
	return *nr == NR_IO_URING_ENTER ? VG_F_URING : 0;
}

static __always_inline bool wanted(__u32 nr)
{
	struct vg_sc_desc *d = bpf_map_lookup_elem(&vg_interest, &nr);
	return d && d->cat;
}

/* The header of an LSM record; an io_uring thread's records carry its
 * process's name, as the process's own syscalls would ("iou-wrk-123" is
 * the thread's). */
static __always_inline void lsm_hdr(struct scratch *s, struct task_struct *t, unsigned int fl,
				    __u16 nr, long ret, __u16 flags)
{
	fill_hdr(s, t, bpf_get_current_pid_tgid(), VG_K_SYSCALL, nr, ret, false);
	E(s)->h.flags = flags;
	if (fl & PF_IO_WORKER) {
		struct task_struct *leader = BPF_CORE_READ(t, group_leader);
		bpf_core_read(E(s)->h.comm, sizeof(E(s)->h.comm), &leader->comm);
	}
	for (int i = 0; i < 6; i++)
		E(s)->arg[i] = 0;
	E(s)->aux[0] = E(s)->aux[1] = 0;
}

/* The fd number being given to the file an open or accept is making.
 * Both paths take an unused fd before they open or accept, and alloc_fd()
 * leaves files->next_fd just past it: it is ours when that slot is
 * reserved in open_fds and still empty.  -1 when not: a fixed-file slot
 * takes no fd, and another thread may have taken a later number since. */
static __always_inline long reserved_fd(struct task_struct *t)
{
	struct files_struct *files = BPF_CORE_READ(t, files);
	unsigned int next = BPF_CORE_READ(files, next_fd);
	struct fdtable *fdt = BPF_CORE_READ(files, fdt);
	if (next == 0 || next > BPF_CORE_READ(fdt, max_fds))
		return -1;
	long fd = next - 1;
	struct file **arr = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	if (f)
		return -1;
	unsigned long *bits = BPF_CORE_READ(fdt, open_fds);
	unsigned long w = 0;
	bpf_probe_read_kernel(&w, sizeof(w), &bits[fd / 64]);
	return w & (1UL << (fd % 64)) ? fd : -1;
}

/* The fd number of an open file in the task's table (the first FD_SCAN),
 * -1 when not there (a fixed file of the ring). */
static __always_inline long fd_of(struct task_struct *t, struct file *want)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	struct file **arr = BPF_CORE_READ(fdt, fd);
	for (int i = 0; i < FD_SCAN; i++) {
		if (i >= max || !want)
			break;
		struct file *f = NULL;
		bpf_probe_read_kernel(&f, sizeof(f), &arr[i]);
		if (f == want)
			return i;
	}
	return -1;
}

/* overlayfs (and FUSE passthrough) open the real file behind the one the
 * caller opened, through the same hook, inside the caller's open: that
 * inner open is not the caller's.  Its path lies on the layer's private
 * mount (6.8 on), or (before) its inode is the real one under the
 * overlay's dentry. */
static __always_inline bool inner_open(struct file *f)
{
	struct vfsmount *vm = BPF_CORE_READ(f, f_path.mnt);
	struct mount *m = container_of(vm, struct mount, mnt);
	if ((long)BPF_CORE_READ(m, mnt_ns) == MNT_NS_INTERNAL)
		return true;
	return BPF_CORE_READ(f, f_inode, i_sb) != BPF_CORE_READ(f, f_path.dentry, d_sb);
}

SEC("lsm/file_open")
int BPF_PROG(vg_lsm_file_open, struct file *f)
{
	__u64 pt = bpf_get_current_pid_tgid();
	if ((__u32)(pt >> 32) == vg_lsm_probe_tgid) {
		__sync_fetch_and_add(&vg_lsm_probe_hits, 1);
		return 0;
	}
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	unsigned int fl = BPF_CORE_READ(t, flags);
	long nr;
	__u16 via = via_uring(t, fl, &nr);
	/* open_by_handle_at is the sys_exit program's (VG_SC_ASOPENAT),
	 * which runs with or without the bpf LSM: one report per open */
	if (!via)
		return 0;
	if ((__u32)(pt >> 32) == vg_self_tgid || !wanted(NR_OPENAT))
		return 0;
	/* exec opens its binary and interpreter through this hook: the exec
	 * event reports those */
	if (BPF_CORE_READ(f, f_mode) & FMODE_EXEC)
		return 0;
	if (inner_open(f))
		return 0;
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	long fd = reserved_fd(t);
	lsm_hdr(s, t, fl, NR_OPENAT, fd >= 0 ? fd : 0, via | (fd < 0 ? VG_F_NOFD : 0));
	E(s)->arg[0] = (__u64)(long)AT_FDCWD;
	E(s)->arg[2] = BPF_CORE_READ(f, f_flags);
	E(s)->arg[3] = BPF_CORE_READ(f, f_inode, i_mode) & 07777;
	struct path root = BPF_CORE_READ(t, fs, root);
	struct path fp = BPF_CORE_READ(f, f_path);
	__u32 off = put_path(s, 0, VG_S_PATH0, &fp, &root, false);
	submit_sc(s, off, VG_CAT_FILE);
	if (fd >= 0) /* the state's now */
		pf_forget_all(pt >> 32);
	return 0;
}

/* The peer a connect names, from the kernel's copy of the sockaddr. */
static __always_inline __u32 sock_from_kaddr(struct scratch *s, __u32 off, struct sockaddr *ka,
					     int alen)
{
	__u16 fam = 0;
	if (alen < 2 || bpf_probe_read_kernel(&fam, sizeof(fam), ka))
		return off;
	struct vg_sock *v = &E(s)->sock;
	if (!(E(s)->h.flags & VG_F_SOCK)) {
		__builtin_memset(v, 0, sizeof(*v));
		v->family = fam;
		E(s)->h.flags |= VG_F_SOCK;
	}
	if (fam == AF_INET && alen >= (int)sizeof(struct sa_in)) {
		struct sa_in a = {};
		bpf_probe_read_kernel(&a, sizeof(a), ka);
		__builtin_memcpy(v->raddr, &a.addr, 4);
		v->rport = bpf_ntohs(a.port);
	} else if (fam == AF_INET6 && alen >= (int)sizeof(struct sa_in6)) {
		struct sa_in6 a = {};
		bpf_probe_read_kernel(&a, sizeof(a), ka);
		__builtin_memcpy(v->raddr, a.addr, 16);
		v->rport = bpf_ntohs(a.port);
	} else if (fam == AF_UNIX && alen > 2) {
		off = put_kernel_str(s, off, VG_S_CWD, (const char *)ka + 2);
	}
	return off;
}

SEC("lsm/socket_connect")
int BPF_PROG(vg_lsm_connect, struct socket *sock, struct sockaddr *address, int addrlen)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	unsigned int fl = BPF_CORE_READ(t, flags);
	long nr;
	__u16 via = via_uring(t, fl, &nr);
	if (!via || (__u32)(bpf_get_current_pid_tgid() >> 32) == vg_self_tgid ||
	    !wanted(NR_CONNECT))
		return 0;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	/* io_uring retries an in-progress connect (poll, then connect
	 * again): only the first attempt, on a socket still closed, is the
	 * caller's connect */
	if (BPF_CORE_READ(sock, type) == SOCK_STREAM &&
	    BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_CLOSE)
		return 0;
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	long fd = fd_of(t, BPF_CORE_READ(sock, file));
	lsm_hdr(s, t, fl, NR_CONNECT, 0, via | (fd < 0 ? VG_F_NOFD : 0));
	E(s)->arg[0] = (__u64)fd;
	E(s)->arg[2] = addrlen;
	sock_from_sk(s, sk);
	__u32 off = sock_from_kaddr(s, 0, address, addrlen);
	submit_sc(s, off, VG_CAT_NET);
	if (fd >= 0) /* the state may add it to its table */
		pf_forget_all(bpf_get_current_pid_tgid() >> 32);
	return 0;
}

/* An accepted connection's socket is grafted onto its new struct socket
 * inside accept, in the accepting task, once established: the tuple is
 * whole here, and the fd reserved (see reserved_fd). */
SEC("lsm/sock_graft")
int BPF_PROG(vg_lsm_accept, struct sock *sk, struct socket *parent)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	unsigned int fl = BPF_CORE_READ(t, flags);
	long nr;
	__u16 via = via_uring(t, fl, &nr);
	if (!via || (__u32)(bpf_get_current_pid_tgid() >> 32) == vg_self_tgid ||
	    !wanted(NR_ACCEPT4))
		return 0;
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	long fd = reserved_fd(t);
	lsm_hdr(s, t, fl, NR_ACCEPT4, fd >= 0 ? fd : 0, via | (fd < 0 ? VG_F_NOFD : 0));
	E(s)->arg[0] = (__u64)-1L; /* the listening socket's fd is not at hand */
	sock_from_sk(s, sk);
	submit_sc(s, 0, VG_CAT_NET);
	if (fd >= 0) /* the state's now */
		pf_forget_all(bpf_get_current_pid_tgid() >> 32);
	return 0;
}

#endif
