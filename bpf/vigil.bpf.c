// SPDX-License-Identifier: GPL-2.0
/* vigil.bpf.c - the kernel side of vigil's capture.
 *
 * One tp_btf/sys_exit program sees every syscall exit.  Its first act is a
 * lookup in the interest map (one array element, written by user space);
 * a syscall nobody asked for returns there.  For the others, the row of
 * bpf/syscalls.h tells where the paths, sockets and strings are, so this
 * program is generic: adding a syscall is a table row, not code.
 *
 * The sched_process_{exec,fork,exit} tracepoints keep user space's process
 * tree right; they are always on.
 *
 * Records are built in a per-CPU scratch buffer and copied to the one ring
 * buffer with their real size (syscall records in their compact wire form);
 * a full ring is counted, per category.
 *
 * Kernels from 5.8 on: the programs that need newer helpers come in
 * variants compiled from the same bodies, of which user space loads one
 * (agent/capture/capture.c probes the running kernel):
 *   vg_sys_exit_cast                vg_sys_exit with the bpf_rdonly_cast
 *                                   kfunc (6.2): the prefilter's alias check
 *                                   reads the opened file with plain loads
 *   vg_sys_exit, vg_exec            bpf_loop (5.17), bpf_get_current_task_btf
 *                                   (5.11), bpf_task_pt_regs (5.15)
 *   vg_sys_exit_compat, vg_exec_compat
 *                                   bounded loops the verifier walks, the
 *                                   current task through bpf_get_current_task
 *                                   and CO-RE reads, pt_regs from the stack
 *   vg_exit                         sched_process_exit passes group_dead
 *   vg_exit_live                    older tracepoint: the group's last
 *                                   thread is the one that took signal->live
 *                                   to 0 (do_exit decrements it before the
 *                                   tracepoint)
 * Each variant emits the same records with the same fields.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "prefilter.h"
#include "vigil.h"

char LICENSE[] SEC("license") = "GPL";

#define AT_FDCWD -100
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define S_ISUID 0004000
#define NR_OPENAT_SC 257

#define PATH_STEPS 40 /* steps of one compat walk call (components, mount crossings) */
#define PATH_ROUNDS 4 /* a walk takes at most PATH_STEPS * PATH_ROUNDS steps */
/* A path too long for one string slot keeps its first HEAD_MAX bytes (the
 * root side rules test with startswith) and its last bytes from TAIL_FROM
 * on in the leaf-side buffer, cut at component boundaries, with
 * VG_PATH_CUT_MARK between them (bpf/vigil.h). */
#define HEAD_MAX 3000
#define TAIL_FROM (VG_STR_MAX - 1 - 1000)
#define CGROUP_DEPTH 8 /* cgroup path components kept */
#define ENV_MAX 2048   /* bytes of environment per exec */
#define HALF (VG_STR_MAX - 1)
#define VG_PF_NR_CLOSE 3
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

/* 6.2: a scalar as a read-only BTF pointer of a kernel type, so that what
 * it points to is read with plain loads.  Weak: only vg_sys_exit_cast
 * calls it, and the capture loads that program only on kernels that have
 * it. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/* Set by user space before load. */
const volatile __u32 vg_self_tgid = 0;
/* Wake the consumer once a CPU has written this much since its last
 * wake-up: a wake-up per record costs more than the record (the consumer
 * also polls on a timer).  Counted per CPU, because asking the ring how
 * much is waiting (bpf_ringbuf_query) reads the consumer's position, a
 * cache line the consumer on another CPU keeps writing: that miss cost
 * ~40 ns per record. */
const volatile __u64 vg_wakeup_bytes = 128 * 1024;
/* Set by user space once its start-up scan of /proc is done (before it,
 * a sent close leaves its fd's bit clear: see vg_pf_procs). */
__u32 vg_pf_scanned = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_NR_MAX);
	__type(key, __u32);
	__type(value, struct vg_sc_desc);
} vg_interest SEC(".maps");

/* The prefilter's predicates (bpf/prefilter.h), two slots per syscall:
 * key slot * VG_NR_MAX + nr; vg_interest's pf says which slot is live.
 * 2 * VG_NR_MAX + key: that slot's predicate for any string naming a file
 * (struct vg_pf_table's any), the per-file cache's (pf_dc).
 * 4 * VG_NR_MAX + key: its predicate without namespaced Rules (narrow),
 * for the tasks of the host's cgroups in vg_pf_ncg and of the pods' of
 * namespaces without Rules for the syscall.
 * 6 * VG_NR_MAX + i: the namespaces' own (VG_PF_TPREDS, vg_pf_tix). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 6 * VG_NR_MAX + 2 * VG_PF_TPREDS);
	__type(key, __u32);
	__type(value, struct vg_pf_sc);
} vg_pf SEC(".maps");

/* Where each namespace's predicate for a slot's write is (VG_PF_TREFS). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * VG_PF_TREFS);
	__type(key, struct vg_pf_tk);
	__type(value, struct vg_pf_tv);
} vg_pf_tix SEC(".maps");

/* The cgroups (ids) user space placed: 0 for the host's, else the
 * namespace (vg_pf_ns_hash) of the pod whose cgroup it is.  Their tasks'
 * events go through the predicates without other namespaces' Rules.  An
 * LRU: one forgotten gets every rule's. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} vg_pf_ncg SEC(".maps");

/* The fds the state does not know, so that their closes need not be sent
 * (bpf/prefilter.h): per process (tgid), a bit per fd below VG_PF_TFDS,
 * set once a close of the fd was sent (the state dropped it then), cleared
 * when a sent record names the fd again (an open, a socket, a dup, a
 * pipe...: the state may know it from then on).  A dropped open writes
 * nothing, and neither does the close of its fd, whose bit is still set
 * from the last close of that number: the open+close loop of a file no
 * rule names costs a look-up and a bit test per close, no write.  A row
 * starts with no bit set (every fd may be known: the start-up scan, a
 * fork's copy of the parent's table), and goes at the process's exec (the
 * state keeps what survives it) and at its exit; nothing else removes a
 * row that a thread of the process could still hold, so a preallocated
 * row is never reused under it.  A process that finds the map full is not
 * tracked: its closes are all sent. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct vg_pf_proc);
} vg_pf_procs SEC(".maps");

/* The same memory for the modern program, cheaper to reach: rows of an
 * array, a process's found by its tgid's hash within VG_PF_PROBES slots
 * and claimed by compare-and-swap (5.12), where a hash map look-up (jhash,
 * a bucket walk, a key compare) cost an open and a close ~10 ns each on
 * the open+close loop.  A row's owner is cleared at the process's exec and
 * exit, after its bits.  A process that finds its slots taken is not
 * tracked (its closes are sent), as with a full hash map. */
#define VG_PF_ROWS 8192
#define VG_PF_PROBES 4
struct vg_pf_row {
	__u64 tgid; /* the owner, 0: free (64 bits: the compare-and-swap of
		     * 32 bits needs a newer BPF instruction set) */
	struct vg_pf_proc p;
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VG_PF_ROWS);
	__type(key, __u32);
	__type(value, struct vg_pf_row);
} vg_pf_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024); /* user space resizes before load */
} vg_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vg_stats);
} vg_stats_map SEC(".maps");

/* The state of a path walk (put_path) and of a cgroup walk (put_cgroup).
 * s is only for bpf_loop's callbacks, which get one context pointer.
 * A path walk goes from the leaf up.  Its first pass assembles the path
 * backwards from the end of s->path (pos: its first byte) and, once that
 * is full, goes on counting the bytes (total) up to the root (done).  Only
 * for a path that did not fit (cut) a second pass (head) walks again and
 * writes the components that lie within HEAD_MAX bytes of the root at
 * their offsets in the head area. */
struct walk {
	struct scratch *s;
	struct dentry *d, *root_d, *leaf_d;
	struct vfsmount *vm, *root_m, *leaf_vm;
	struct mount *m;
	__u32 pos;
	__u32 tail;  /* first pass: a component boundary at or after TAIL_FROM */
	__u32 total; /* first pass: bytes of the whole path (at most 64 KiB) */
	__u32 head;  /* second pass: offset in the path of the end of d's name */
	__u32 hlen;  /* second pass: bytes written in the head area */
	__u8 cut, done, pass2, pad;
};
struct cgwalk {
	struct scratch *s;
	struct kernfs_node *kn;
	__u32 pos;
};

/* The prefilter's cache of verdicts per file (vg_sys_exit_cast): an open
 * whose file (dentry, mount), task root, return class and flags are an
 * entry's, and whose file's path is still the entry's, gets the entry's
 * verdict for any string naming the file without its string being read
 * or tested.  Filled from an open whose simple string was found to be the
 * file's exact path, with the verdict of the predicate for any string
 * (the slot's vg_pf entry + 2 * VG_NR_MAX) on it.
 *
 * "Still the entry's path" is checked on the steps of the walk from the
 * file up to the task's root (pf_chain_same), not on the names' bytes:
 * each step's dentry, mount and d_seq, which the kernel bumps whenever it
 * moves or renames the dentry (d_move, d_exchange), and the file's own
 * name's hash and length.  A rename of the file or of a directory above
 * it bumps that dentry's d_seq; a mount moved shows as another mountpoint
 * or parent mount.  The directories' names need no compare: a dentry
 * holds a reference on its parent, so while the file's dentry is the one
 * recorded, every directory above it is the recorded one too, whose name
 * only a rename (its d_seq) changes.  A file's dentry freed and reused at
 * the same address (and then possibly its directories too) would need its
 * new name to have the old one's length and 32-bit hash, which the kernel
 * salts with the parent's address, and the old d_seq.  Two loads a
 * directory, three for the file, instead of the names' words (each load
 * through a bpf_rdonly_cast pointer carries the JIT's range check). */
#define NAME_DEPTH 12 /* steps compared; a deeper path is not taken for its string */
#define PF_DC 16
struct pf_step {
	__u64 d, vm; /* the dentry and its mount */
	__u32 seq;   /* d_seq */
	__u32 pad;
};
struct pf_dc {
	__u64 de, mnt, rd, rm; /* the file's dentry and mount, the task's root */
	__u64 hl;	       /* the file's d_name.hash_len */
	__u32 gen;	       /* vg_pf_sc.gen of the predicate; 0: empty */
	__u32 oflags;
	__u8 ctx, verdict;
	__u8 nstep; /* steps from the file to the root */
	__u8 pad[5];
	struct pf_step st[NAME_DEPTH];
};

/* The record under construction, with slack after it so that a string
 * write at any masked offset stays inside the buffer (the verifier must
 * see every access bounded). */
#define DATA_MASK 0x7fff
struct scratch {
	char rec[sizeof(struct vg_rec) + DATA_MASK + 1 + VG_STR_MAX];
	/* [0, VG_STR_MAX): a path assembled backwards; [VG_STR_MAX, ...):
	 * the head of a cut path (see struct walk), with slack */
	char path[3 * VG_STR_MAX] __attribute__((aligned(8)));
	struct walk cw;		      /* the compat walk's state (vg_walk_path) */
	__u32 pf_n;		      /* the prefilter's path in path[]: its length with the NUL */
	__u32 pf_key;		      /* the predicate vg_pf_decide is testing (vg_pf's key) */
	__u32 pf_close;		      /* the record being built is a close to put: its fd + 1 */
	struct vg_pf_vc vc[VG_PF_VC]; /* the prefilter's verdict cache */
	struct pf_dc dc[PF_DC];	      /* its cache per file (pf_dc_get) */
};
#define E(s) ((struct vg_rec *)(s)->rec)

/* One scratch per CPU, indexed by CPU number: a per-CPU array cannot hold
 * values this large.  User space sets max_entries to the number of CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} vg_scratch SEC(".maps");

/* kernels before 6.15 call kernfs_node's parent "parent" */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

/* The current task's bpf_get_current_pid_tgid() into *pt; whether the
 * task is the agent's own, whose events are not captured. */
static __always_inline bool pt_self(__u64 *pt)
{
	*pt = bpf_get_current_pid_tgid();
	return (__u32)(*pt >> 32) == vg_self_tgid;
}

static __always_inline struct scratch *scratch_get(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&vg_scratch, &cpu);
}

static __always_inline void count(struct vg_stats *s, int cat, int dropped, __u32 type)
{
	cat &= 7;
	if (cat >= VG_CAT_MAX)
		return;
	if (dropped) {
		s->dropped[cat]++;
		return;
	}
	s->seen[cat]++;
	if (type < VG_NR_MAX + 4)
		s->by_type[type]++;
}

/* t is the current task and pt its bpf_get_current_pid_tgid().  btf: t is
 * a trusted BTF pointer (a tp_btf argument, bpf_get_current_task_btf), a
 * constant at every call site; else it came from bpf_get_current_task()
 * (kernels before 5.11) and is read with CO-RE probe reads. */
static __always_inline void fill_hdr(struct scratch *s, struct task_struct *t, __u64 pt, __u16 kind,
				     __u16 nr, __s64 ret, const bool btf)
{
	struct vg_hdr *h = &E(s)->h;
	h->ts = bpf_ktime_get_boot_ns();
	h->tid = (__u32)pt;
	h->pid = pt >> 32;
	h->loginuid = (__u32)-1;
	if (btf) {
		/* direct loads, no helper calls (the cgroup id and comm
		 * helpers cost a call, and the first an RCU read section
		 * the program already runs in) */
		h->cgroup_id = t->cgroups->dfl_cgrp->kn->id;
		h->ppid = t->real_parent->tgid;
		const struct cred *cr = t->cred;
		h->uid = cr->euid.val;
		h->gid = cr->egid.val;
		if (bpf_core_field_exists(t->loginuid))
			h->loginuid = t->loginuid.val;
		/* comm is NUL-terminated within its 16 bytes at all times
		 * (the kernel pads it on every change); two loads instead
		 * of a strscpy */
		const __u64 *c = (const __u64 *)t->comm;
		__u64 *hc = (__u64 *)h->comm;
		hc[0] = c[0];
		hc[1] = c[1];
	} else {
		h->cgroup_id = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
		h->ppid = BPF_CORE_READ(t, real_parent, tgid);
		const struct cred *cr = BPF_CORE_READ(t, cred);
		h->uid = BPF_CORE_READ(cr, euid.val);
		h->gid = BPF_CORE_READ(cr, egid.val);
		if (bpf_core_field_exists(t->loginuid))
			h->loginuid = BPF_CORE_READ(t, loginuid.val);
		bpf_core_read(h->comm, sizeof(h->comm), &t->comm);
	}
	h->ret = ret;
	h->kind = kind;
	h->nr = nr;
	h->flags = 0;
	for (int i = 0; i < VG_NSTR; i++)
		E(s)->len[i] = 0;
}

/* Copy size bytes at rec to the ring, counting them (type: the label of
 * vigil_events_total, exec and syscalls by number).  0: it is in the ring. */
static __always_inline int ring_out(void *rec, __u32 size, int cat, __u32 type)
{
	__u32 zero = 0;
	struct vg_stats *st = bpf_map_lookup_elem(&vg_stats_map, &zero);
	if (!st)
		return 1;
	__u64 flags = BPF_RB_NO_WAKEUP;
	st->unwoken += size;
	if (st->unwoken >= vg_wakeup_bytes) {
		st->unwoken = 0;
		flags = BPF_RB_FORCE_WAKEUP;
	}
	int lost = bpf_ringbuf_output(&vg_ring, rec, size, flags) != 0;
	count(st, cat, lost, type);
	return lost;
}

/* Copy the record (header + used bytes of data) to the ring. */
static __always_inline void submit(struct scratch *s, __u32 used, int cat)
{
	__u32 size = sizeof(struct vg_rec) + (used & DATA_MASK);
	E(s)->h.size = size;
	if (size > VG_REC_MAX)
		return;
	__u16 kind = E(s)->h.kind;
	__u32 type = kind == VG_K_FORK	 ? VG_NR_MAX + VG_TYPE_FORK
		     : kind == VG_K_EXIT ? VG_NR_MAX + VG_TYPE_EXIT
					 : E(s)->h.nr;
	/* the record and its data are contiguous in the scratch buffer */
	ring_out(E(s), size, cat, type);
}

static __always_inline __u32 put_user_str(struct scratch *s, __u32 off, int slot, const void *uptr)
{
	if (!uptr)
		return off;
	long n = bpf_probe_read_user_str(&E(s)->data[off & DATA_MASK], VG_STR_MAX, uptr);
	if (n <= 0)
		return off;
	if (n == VG_STR_MAX)
		E(s)->h.flags |= VG_F_TRUNC;
	E(s)->len[slot & 7] = n;
	return off + n;
}

static __always_inline __u32 put_kernel_str(struct scratch *s, __u32 off, int slot,
					    const void *kptr)
{
	if (!kptr)
		return off;
	long n = bpf_probe_read_kernel_str(&E(s)->data[off & DATA_MASK], VG_STR_MAX, kptr);
	if (n <= 0)
		return off;
	E(s)->len[slot & 7] = n;
	return off + n;
}

/* Send a syscall record in its wire form (struct vg_sc_wire), rewritten in
 * place: the wire header is laid out so that its aux, len and data fall on
 * the struct vg_rec's, at WIRE_AT bytes into the record, so only the
 * header, the arguments and the socket tuple move. */
#define WIRE_AT                                                                                    \
	(__builtin_offsetof(struct vg_rec, data) - __builtin_offsetof(struct vg_sc_wire, data))
_Static_assert(__builtin_offsetof(struct vg_rec, aux) ==
			       WIRE_AT + __builtin_offsetof(struct vg_sc_wire, aux) &&
		       __builtin_offsetof(struct vg_rec, len) ==
			       WIRE_AT + __builtin_offsetof(struct vg_sc_wire, len) &&
		       WIRE_AT % 8 == 0 && WIRE_AT >= sizeof(struct vg_hdr),
	       "struct vg_sc_wire must overlay struct vg_rec's tail");

/* A record lost (too long, or the ring full) is no close to put
 * (s->pf_close): its fd's entry stays in the state.  Said through s, not
 * returned: a value out of here costs 5.10's verifier the bounds of the
 * next record's building. */
static __always_inline void submit_sc(struct scratch *s, __u32 used, int cat)
{
	struct vg_rec *e = E(s);
	struct vg_sc_wire *w = (struct vg_sc_wire *)(s->rec + WIRE_AT);
	used &= DATA_MASK;
	if (e->h.flags & VG_F_SOCK) {
		/* before the arguments move over it */
		used = (used + VG_SC_WIRE_SOCK_ALIGN - 1) & ~(VG_SC_WIRE_SOCK_ALIGN - 1);
		/* by 4-byte words: both ends are 8-aligned, but struct vg_sock
		 * is only 2-aligned, so a memcpy would go byte by byte */
		_Static_assert(sizeof(e->sock) % 4 == 0 &&
				       __builtin_offsetof(struct vg_rec, sock) % 8 == 0 &&
				       __builtin_offsetof(struct vg_rec, data) % 8 == 0,
			       "socket tuple copy by words");
		const __u32 *from = (const __u32 *)&e->sock;
		__u32 *to = (__u32 *)&e->data[used & DATA_MASK];
		for (int i = 0; i < (int)(sizeof(e->sock) / 4); i++)
			to[i] = from[i];
		used += sizeof(e->sock);
	}
	/* w->arg lies on e's sock, w->h on e's args: arguments first */
	for (int i = 0; i < 6; i++)
		w->arg[i] = e->arg[i];
	__builtin_memcpy(&w->h, &e->h, sizeof(e->h));
	__u32 size = sizeof(struct vg_sc_wire) + (used & DATA_MASK);
	w->h.size = size;
	if (size > VG_REC_MAX || ring_out(w, size, cat, w->h.nr))
		s->pf_close = 0;
}

/* Copy a user memory block that is a NUL-separated list (argv, env). */
static __always_inline __u32 put_user_block(struct scratch *s, __u32 off, int slot,
					    unsigned long start, unsigned long end, __u32 max)
{
	if (!start || end <= start)
		return off;
	__u64 n = end - start;
	if (n > max) {
		n = max;
		E(s)->h.flags |= VG_F_TRUNC;
	}
	if (n == 0 || n > HALF)
		n = HALF;
	/* the mask is repeated in the call: the verifier must see the size
	 * bounded in the very register passed */
	if (bpf_probe_read_user(&E(s)->data[off & DATA_MASK], n & HALF, (void *)start))
		return off;
	/* make sure it ends with a NUL even when truncated */
	E(s)->data[(off + n - 1) & DATA_MASK] = 0;
	E(s)->len[slot & 7] = n;
	return off + n;
}

/* The walk reached the root: over, unless the first pass found the path
 * too long, in which case the second pass starts again from the leaf. */
static __always_inline long walk_root(struct walk *w)
{
	if (w->pass2 || !w->cut) {
		w->done = 1;
		return 1;
	}
	w->pass2 = 1;
	w->head = w->total;
	w->d = w->leaf_d;
	w->vm = w->leaf_vm;
	w->m = container_of(w->leaf_vm, struct mount, mnt);
	return 0;
}

/* One step of the path walk: prepend d's name, or cross to the parent
 * mount at a mount's root.  Returns 1 when the walk is over.  Through
 * bpf_loop() (walk_step) the verifier checks it once instead of once per
 * iteration and per path; kernels without bpf_loop walk it in a bounded
 * loop. */
static __always_inline long walk_body(struct scratch *s, struct walk *w)
{
	/* locals: CO-RE relocations apply to kernel types, not to struct walk */
	struct dentry *d = w->d;
	struct vfsmount *vm = w->vm;
	struct mount *m = w->m;
	if (d == w->root_d && vm == w->root_m)
		return walk_root(w);
	struct dentry *mnt_root = BPF_CORE_READ(vm, mnt_root);
	struct dentry *parent = BPF_CORE_READ(d, d_parent);
	if (d == mnt_root || d == parent) {
		struct mount *mp = BPF_CORE_READ(m, mnt_parent);
		if (d != mnt_root || m == mp)
			return walk_root(w); /* the global root, or a detached tree */
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->m = mp;
		w->vm = &mp->mnt;
		return 0;
	}
	struct qstr q = BPF_CORE_READ(d, d_name);
	__u32 len = q.len & HALF;
	w->d = parent;
	if (w->pass2) {
		__u32 end = w->head;
		if (len + 1 > end) {
			w->done = 1; /* renamed since the first pass */
			return 1;
		}
		__u32 start = end - len - 1;
		/* masks on every value kept across steps, as for pos below */
		w->head = start & 0xffff;
		if (end <= HEAD_MAX) {
			if (!w->hlen)
				w->hlen = end & HALF;
			s->path[VG_STR_MAX + (start & HALF)] = '/';
			bpf_probe_read_kernel(&s->path[VG_STR_MAX + ((start + 1) & HALF)], len,
					      q.name);
		}
		return 0;
	}
	w->total = (w->total + len + 1) & 0xffff;
	__u32 pos = w->pos;
	if (w->cut || len + 1 > pos || pos > HALF) {
		w->cut = 1; /* go on to the root, counting */
		return 0;
	}
	pos -= len;
	bpf_probe_read_kernel(&s->path[pos & HALF], len, q.name);
	pos -= 1;
	s->path[pos & HALF] = '/';
	/* pos stays within [0, HALF] (checked above); the mask says so to
	 * the verifier, whose range would otherwise widen every step and
	 * keep the states of a bounded loop from pruning */
	w->pos = pos & HALF;
	if (w->pos >= TAIL_FROM)
		w->tail = w->pos;
	return 0;
}

/* The walk for kernels without bpf_loop, as a bounded loop in a global
 * function: the verifier checks a global function once, on its own, with
 * unknown arguments, where an inlined loop would be walked again for every
 * state the calling program reaches it in (well past the verifier's
 * limit).  Walks PATH_STEPS steps of this CPU's scratch's walk (s->cw, set
 * up by the caller); returns 1 when the walk is over. */
__noinline int vg_walk_path(__u32 steps)
{
	struct scratch *s = scratch_get();
	if (!s)
		return 1;
	for (int i = 0; i < PATH_STEPS && i < steps; i++)
		if (walk_body(s, &s->cw))
			return 1;
	return 0;
}

/* Copy the path assembled in s->path[pos..] (NUL at VG_STR_MAX-1) into a
 * string slot; "/" when nothing was assembled. */
static __always_inline __u32 put_assembled(struct scratch *s, __u32 off, int slot, __u32 pos)
{
	if (pos >= VG_STR_MAX - 1) {
		pos = VG_STR_MAX - 2;
		s->path[pos & HALF] = '/';
	}
	__u32 n = (VG_STR_MAX - pos) & HALF;
	if (n == 0)
		return off;
	bpf_probe_read_kernel(&E(s)->data[off & DATA_MASK], n, &s->path[pos & HALF]);
	E(s)->len[slot & 7] = n;
	return off + n;
}

/* A walked path into a string slot: whole when it fit, else its head (when
 * the walk reached the root), the mark, and its tail; VG_F_PATHCUT says
 * that a path of the record carries the mark.  Straight-line code (the
 * verifier walks it at every call site): the three parts, each maybe
 * empty. */
static __always_inline __u32 put_walked(struct scratch *s, __u32 off, int slot, struct walk *w)
{
	bool whole = w->done && !w->cut;
	__u32 hl = w->done && w->cut ? w->hlen : 0;
	__u32 ml = whole ? 0 : 12;
	__u32 t = whole ? w->pos : w->tail;
	if (whole && t >= VG_STR_MAX - 1) { /* nothing assembled: "/" */
		t = VG_STR_MAX - 2;
		s->path[t & HALF] = '/';
	}
	if (!whole)
		E(s)->h.flags |= VG_F_PATHCUT;
	if (hl > HEAD_MAX)
		hl = 0;
	if (t > VG_STR_MAX - 1)
		t = VG_STR_MAX - 1;
	__u32 n = VG_STR_MAX - t; /* the tail with its NUL */
	/* keep the compiler from dropping masks it can prove useless: the
	 * verifier loses those bounds on register copies */
	asm volatile("" : "+r"(hl));
	asm volatile("" : "+r"(n));
	hl &= HALF;
	n &= HALF;
	__u32 at = off;
	if (hl)
		bpf_probe_read_kernel(&E(s)->data[at & DATA_MASK], hl, &s->path[VG_STR_MAX]);
	at += hl;
	_Static_assert(sizeof(VG_PATH_CUT_MARK) - 1 == 12, "the mark is 12 bytes");
	__builtin_memcpy(&E(s)->data[at & DATA_MASK], VG_PATH_CUT_MARK, 12);
	at += ml;
	bpf_probe_read_kernel(&E(s)->data[at & DATA_MASK], n, &s->path[(VG_STR_MAX - n) & HALF]);
	at += n;
	E(s)->len[slot & 7] = (at - off) & HALF;
	return at;
}

/* Absolute path of p, stopping at the task's root (so a container's
 * process sees container paths), written into a string slot.  It follows
 * dentry parents to the mount's root, then continues from the mountpoint
 * in the parent mount, as d_path() does, for at most PATH_STEPS *
 * PATH_ROUNDS steps; a path longer than a slot keeps its root side (see
 * put_walked).  loop: through bpf_loop (a constant at every call site). */
static __always_inline __u32 put_path(struct scratch *s, __u32 off, int slot, struct path *p,
				      struct path *root, const bool loop)
{
	struct walk w = {};
	w.d = w.leaf_d = BPF_CORE_READ(p, dentry);
	w.vm = w.leaf_vm = BPF_CORE_READ(p, mnt);
	w.m = container_of(w.vm, struct mount, mnt);
	w.root_d = BPF_CORE_READ(root, dentry);
	w.root_m = BPF_CORE_READ(root, mnt);
	w.pos = w.tail = VG_STR_MAX - 1;
	if (!w.d)
		return off;
	s->path[VG_STR_MAX - 1] = 0;
	s->cw = w;
	for (int r = 0; r < 2 * PATH_ROUNDS; r++)
		if (vg_walk_path(PATH_STEPS))
			break;
	return put_walked(s, off, slot, &s->cw);
}

static __always_inline struct file *fd_file(struct task_struct *t, long fd)
{
	if (fd < 0)
		return NULL;
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned long)fd >= max)
		return NULL;
	struct file **arr = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return f;
}

static __always_inline void reg_args(struct pt_regs *regs, __u64 *a)
{
	a[0] = regs->di;
	a[1] = regs->si;
	a[2] = regs->dx;
	a[3] = regs->r10;
	a[4] = regs->r8;
	a[5] = regs->r9;
}

/* A raw argument by a run-time index: a switch, because the verifier does
 * not accept a variable offset into the record. */
static __always_inline __u64 argi(struct scratch *s, int i)
{
	struct vg_rec *e = E(s);
	switch (i) {
	case 0:
		return e->arg[0];
	case 1:
		return e->arg[1];
	case 2:
		return e->arg[2];
	case 3:
		return e->arg[3];
	case 4:
		return e->arg[4];
	case 5:
		return e->arg[5];
	}
	return 0;
}

/* The directory a relative path is relative to: dirfd's file, or cwd. */
static __always_inline __u32 put_base(struct scratch *s, __u32 off, int slot, struct task_struct *t,
				      int dirfd_arg, const bool loop)
{
	struct path root = BPF_CORE_READ(t, fs, root);
	long dirfd = AT_FDCWD;
	if (dirfd_arg >= 0 && dirfd_arg < 6)
		dirfd = (int)argi(s, dirfd_arg);
	if (dirfd == AT_FDCWD) {
		struct path pwd = BPF_CORE_READ(t, fs, pwd);
		return put_path(s, off, slot, &pwd, &root, loop);
	}
	struct file *f = fd_file(t, dirfd);
	if (!f)
		return off;
	struct path fp = BPF_CORE_READ(f, f_path);
	return put_path(s, off, slot, &fp, &root, loop);
}

/* The first n (<= 8) bytes at p as a number, the rest zero. */
int vg_str_is_path(long fd);
int vg_str_is_path_btf(long fd);
int vg_str_is_path_cast(long fd);

/* Whether the record must carry the path of the file at fd (VG_S_FILE):
 * unless the caller's string (VG_S_PATH0, absolute, at most VG_PF_SCAN
 * bytes) is exactly that path (str_is_path), fd.name is not the string.
 * The string goes into s->path, where str_is_path compares it. */
static __always_inline bool fd_path_needed(struct scratch *s, long fd, const bool modern,
					   const bool cast)
{
	__u32 n = E(s)->len[VG_S_PATH0];
	if (n < 2 || n > VG_PF_SCAN || E(s)->data[0] != '/')
		return true;
	if (bpf_probe_read_kernel(s->path, n & (2 * VG_PF_SCAN - 1), E(s)->data))
		return true;
	s->pf_n = n;
	return !(cast	  ? vg_str_is_path_cast(fd)
		 : modern ? vg_str_is_path_btf(fd)
			  : vg_str_is_path(fd));
}

/* The path of the file at fd in t's table: what an open really opened,
 * whatever aliases the caller's string went through; nothing when the
 * caller's string cannot be an alias (fd_path_needed). */
static __always_inline __u32 put_fd_path(struct scratch *s, __u32 off, int slot,
					 struct task_struct *t, long fd, const bool loop,
					 const bool cast)
{
	struct file *f = fd_file(t, fd);
	if (!f || !fd_path_needed(s, fd, loop, cast))
		return off;
	struct path root = BPF_CORE_READ(t, fs, root);
	struct path fp = BPF_CORE_READ(f, f_path);
	return put_path(s, off, slot, &fp, &root, loop);
}

static __always_inline void sock_from_sk(struct scratch *s, struct sock *sk);

static __always_inline void sock_from_fd(struct scratch *s, struct task_struct *t, long fd)
{
	struct file *f = fd_file(t, fd);
	if (!f)
		return;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return;
	struct socket *so = BPF_CORE_READ(f, private_data);
	sock_from_sk(s, BPF_CORE_READ(so, sk));
}

/* The socket tuple of a kernel socket (addresses as far as it has them). */
static __always_inline void sock_from_sk(struct scratch *s, struct sock *sk)
{
	if (!sk)
		return;
	struct vg_sock *v = &E(s)->sock;
	__builtin_memset(v, 0, sizeof(*v));
	v->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	v->type = BPF_CORE_READ(sk, sk_type);
	v->proto = BPF_CORE_READ(sk, sk_protocol);
	if (v->family == AF_INET) {
		__u32 la = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 ra = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(v->laddr, &la, 4);
		__builtin_memcpy(v->raddr, &ra, 4);
	} else if (v->family == AF_INET6) {
		BPF_CORE_READ_INTO(&v->laddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(&v->raddr, sk, __sk_common.skc_v6_daddr);
	}
	v->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	v->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	E(s)->h.flags |= VG_F_SOCK;
}

struct sa_in {
	__u16 family;
	__u16 port;
	__u32 addr;
};

struct sa_in6 {
	__u16 family;
	__u16 port;
	__u32 flowinfo;
	__u8 addr[16];
};

/* Fill the peer from a user sockaddr when the kernel socket has none
 * (unconnected UDP), and the unix path into VG_S_CWD. */
static __always_inline __u32 sock_from_user(struct scratch *s, __u32 off, const void *ua,
					    __u32 ualen)
{
	if (!ua || ualen < 2)
		return off;
	__u16 fam = 0;
	bpf_probe_read_user(&fam, sizeof(fam), ua);
	struct vg_sock *v = &E(s)->sock;
	if (!(E(s)->h.flags & VG_F_SOCK)) {
		__builtin_memset(v, 0, sizeof(*v));
		v->family = fam;
		E(s)->h.flags |= VG_F_SOCK;
	}
	if (fam == AF_INET && ualen >= sizeof(struct sa_in) && !v->rport) {
		struct sa_in a = {};
		bpf_probe_read_user(&a, sizeof(a), ua);
		__builtin_memcpy(v->raddr, &a.addr, 4);
		v->rport = bpf_ntohs(a.port);
	} else if (fam == AF_INET6 && ualen >= sizeof(struct sa_in6) && !v->rport) {
		struct sa_in6 a = {};
		bpf_probe_read_user(&a, sizeof(a), ua);
		__builtin_memcpy(v->raddr, a.addr, 16);
		v->rport = bpf_ntohs(a.port);
	} else if (fam == AF_UNIX && ualen > 2) {
		off = put_user_str(s, off, VG_S_CWD, (const char *)ua + 2);
	}
	return off;
}

/* A clause's substring test (bpf/prefilter.h, VG_PF_SUB_OK) on the path
 * the predicate reads, the scratch's path buffer: a global function, so
 * that the verifier checks its loops once. */
__noinline int vg_pf_sub(__u64 w0, __u64 w1, __u32 slen, __u32 n)
{
	struct scratch *s = scratch_get();
	return s ? vg_pf_sub_in(s->path, n, w0, w1, slen) : 1;
}

/* vg_pf_subfail (VG_PF_SUBFAIL) for the predicate vg_pf_decide is testing
 * (s->pf_key) on its path: none fails when it cannot be found. */
__noinline __u32 vg_pf_subfail_g(__u32 sm, __u32 n)
{
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	__u32 key = s->pf_key;
	struct vg_pf_sc *f = bpf_map_lookup_elem(&vg_pf, &key);
	return f ? vg_pf_subfail(f, sm, s->path, n) : 0;
}

/* The prefilter's decision for one event (1: send it), in a global
 * function: the verifier checks its loops once, on their own, for both
 * program variants.  fl: the open flags, bit 32 set when they were read;
 * path: the user pointer of the path argument (0: none).  The path is read
 * into the scratch's path buffer, which the record's walks only use
 * later. */
#define PF_PATH_HELD 1 /* vg_pf_decide's path: the one s->path holds */
__noinline int vg_pf_decide(__u32 key, __s64 ret, __u64 fl, __u64 path)
{
	struct vg_pf_sc *f = bpf_map_lookup_elem(&vg_pf, &key);
	if (!f)
		return VG_PF_KEEP;
	struct scratch *s = scratch_get();
	if (!s)
		return VG_PF_KEEP;
	s->pf_key = key;
	__u32 pn = 0;
	if (path == PF_PATH_HELD) {
		pn = s->pf_n;
		/* bounded as a read's length is: older verifiers take no other */
		if (pn > VG_PF_BUF)
			pn = 0;
		path = 0;
	} else {
		s->pf_n = 0;
	}
	__u32 cand = vg_pf_cands(f, ret, (__u32)fl, (int)(fl >> 32));
	if (!cand)
		return VG_PF_DROP; /* no clause for this result and access mode */
	/* the path only when a candidate clause tests it */
	if (f->pathcheck && path && (cand & f->pmask)) {
		long n = bpf_probe_read_user_str(s->path, VG_PF_BUF, (const void *)path);
		pn = n > 0 ? n : 0;
		s->pf_n = pn;
	}
	return vg_pf_keep_cached(s->vc, f, ret, (__u32)fl, (int)(fl >> 32), s->path, pn);
}

/* ---- is the caller's string the file's path? ----------------------------- */

/* Whether the name copied into s->path[VG_STR_MAX...] (k bytes) is the
 * string's bytes [start, start + k) in s->path.  A global function: the
 * verifier checks its loop once, not at every step of the walks that call
 * it. */
static __always_inline int name_words_eq(const char *buf, const char *str, __u32 start, __u32 k)
{
	for (__u32 j = 0; j < VG_PF_SCAN / 8; j++) {
		if (j * 8 >= k)
			break;
		__u64 a, b;
		VG_PF_LOAD64(a, &buf[(j * 8) & VG_PF_IMASK]);
		VG_PF_LOAD64(b, &str[(start + j * 8) & VG_PF_IMASK]);
		__u32 rem = k - j * 8;
		__u64 m = rem >= 8 ? ~0ull : (1ull << (rem * 8)) - 1;
		if ((a ^ b) & m)
			return 0;
	}
	return 1;
}

__noinline int vg_name_eq(__u32 start, __u32 k)
{
	struct scratch *s = scratch_get();
	return s ? name_words_eq(&s->path[VG_STR_MAX], s->path, start, k) : 0;
}

/* A component's name against the string str's bytes [start, start + k):
 * a short name stored in the dentry (inl, cast programs) word by word with
 * plain loads; any other copied into s->path[VG_STR_MAX...] (the walk's
 * head area, unused until a walk) and compared by vg_name_eq. */
static __always_inline int name_eq(struct scratch *s, const char *str, __u32 start, __u32 k,
				   const char *name, const __u64 *inl)
{
	if (inl) { /* constant offsets: the verifier takes no other in a dentry */
		if (k > 40)
			return 0;
#pragma unroll
		for (int j = 0; j < 5; j++) {
			if (j * 8 >= k)
				break;
			__u64 b;
			VG_PF_LOAD64(b, &str[(start + j * 8) & VG_PF_IMASK]);
			__u32 rem = k - j * 8;
			__u64 m = rem >= 8 ? ~0ull : (1ull << (rem * 8)) - 1;
			if ((inl[j] ^ b) & m)
				return 0;
		}
		return 1;
	}
	if (bpf_probe_read_kernel(&s->path[VG_STR_MAX], k & VG_PF_IMASK, name))
		return 0;
	return vg_name_eq(start, k);
}

/* The walk's step from a mount's root to its mountpoint in the parent
 * mount, as put_path takes it: *d (the root of mount *vm, whose root is
 * *mnt_root) becomes the mountpoint, *vm the parent mount.  0 at the
 * global root or in a detached tree.  cast: the new dentry and mount as
 * bpf_rdonly_cast pointers, for plain loads. */
static __always_inline int mount_up(struct dentry **d, struct vfsmount **vm,
				    struct dentry **mnt_root, const bool cast)
{
	struct mount *m = container_of(*vm, struct mount, mnt);
	struct mount *mp = BPF_CORE_READ(m, mnt_parent);
	if (*d != *mnt_root || m == mp)
		return 0;
	struct dentry *md = BPF_CORE_READ(m, mnt_mountpoint);
	if (cast) {
		*d = bpf_rdonly_cast(md, bpf_core_type_id_kernel(struct dentry));
		*vm = bpf_rdonly_cast(&mp->mnt, bpf_core_type_id_kernel(struct vfsmount));
		*mnt_root = (*vm)->mnt_root;
	} else {
		*d = md;
		*vm = &mp->mnt;
		*mnt_root = BPF_CORE_READ(&mp->mnt, mnt_root);
	}
	return 1;
}

/* Whether the path of the file (dentry d in mount vm), as the capture
 * walks it from the task's root (put_path), is exactly the string in
 * s->path (s->pf_n bytes with its NUL).  Compared a component at a time
 * from the leaf up, crossing mounts as the walk does; 0 on any doubt (too
 * deep, a detached tree, a string of another shape).  A string that passes
 * this is what fd.name would be; one that does not may be an alias: a
 * symlink anywhere on the way (/tmp/shadow -> /etc/shadow has the file's
 * own last component), /proc/self/root, a bind of a directory.  cast: the
 * dentries and mounts are read with plain loads (bpf_rdonly_cast
 * pointers), else with probe reads. */
static __always_inline int str_is_path(struct scratch *s, struct dentry *d, struct vfsmount *vm,
				       struct dentry *root_d, struct vfsmount *root_m,
				       const bool cast)
{
	const char *str = s->path;
	__u32 n = s->pf_n;
	if (n < 2 || n > VG_PF_SCAN || str[0] != '/' || !d || !vm)
		return 0;
	__u32 pos = n - 1; /* the string's bytes before pos are left to match */
	__u32 ioff = bpf_core_field_offset(struct dentry, d_inode) + sizeof(void *);
	/* the mount's root: read again only where the walk crosses a mount */
	struct dentry *mnt_root = cast ? vm->mnt_root : BPF_CORE_READ(vm, mnt_root);
	for (int i = 0; i < NAME_DEPTH; i++) {
		if (d == root_d && vm == root_m)
			return pos == 0 || n == 2; /* all of it, or "/" itself */
		struct dentry *parent = cast ? d->d_parent : BPF_CORE_READ(d, d_parent);
		if (d == mnt_root || d == parent) {
			if (!mount_up(&d, &vm, &mnt_root, cast))
				return 0;
			continue;
		}
		__u32 k;
		const char *name;
		if (cast) {
			k = d->d_name.len;
			name = (const char *)d->d_name.name;
		} else {
			struct qstr q = BPF_CORE_READ(d, d_name);
			k = q.len;
			name = (const char *)q.name;
		}
		if (k == 0 || k + 1 > pos)
			return 0;
		__u32 start = pos - k;
		if (str[(start - 1) & VG_PF_IMASK] != '/')
			return 0;
		const __u64 *inl = NULL;
		if (cast && (unsigned long)name == (unsigned long)d + ioff)
			inl = (const __u64 *)((char *)d + ioff);
		if (!name_eq(s, str, start, k, name, inl))
			return 0;
		pos = start - 1;
		d = parent;
	}
	return 0;
}

/* str_is_path for the file at fd of the current task, in a global
 * function per variant: the verifier checks each once. */
__noinline int vg_str_is_path(long fd)
{
	struct scratch *s = scratch_get();
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct file *f = fd_file(t, fd);
	if (!s || !f)
		return 0;
	return str_is_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt),
			   BPF_CORE_READ(t, fs, root.dentry), BPF_CORE_READ(t, fs, root.mnt),
			   false);
}

/* The address of fd's slot in the current task's fd table (the modern
 * programs: BTF loads), NULL past the table's end. */
static __always_inline struct file **pf_fd_slot_of(struct task_struct *t, long fd)
{
	struct files_struct *fs = t->files;
	struct fdtable *fdt = fs->fdt;
	/* a process's first fds are in its files_struct's own table (fdtab,
	 * whose fd is fs->fd_array) until the table grows: then the slot's
	 * address is loaded beside the table's pointer, not after it (a
	 * dependent load fewer on every open of the prefilter's cache) */
	if (fd >= 0 && fd < bpf_core_field_size(fs->fd_array) / sizeof(void *) && fdt == &fs->fdtab)
		return &fs->fdtab.fd[fd];
	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	return &fdt->fd[fd];
}

static __always_inline struct file **pf_fd_slot(long fd)
{
	return pf_fd_slot_of(bpf_get_current_task_btf(), fd);
}

/* str_is_path for the modern programs: the fd's slot through BTF loads,
 * the rest with probe reads. */
__noinline int vg_str_is_path_btf(long fd)
{
	struct scratch *s = scratch_get();
	struct file **slot = pf_fd_slot(fd);
	struct file *f = NULL;
	if (!s || !slot || bpf_probe_read_kernel(&f, sizeof(f), slot) || !f)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	return str_is_path(s, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt),
			   t->fs->root.dentry, t->fs->root.mnt, false);
}

/* The file at fd in the current task's table as a bpf_rdonly_cast
 * pointer (vg_sys_exit_cast), NULL when none: the slot is read as a kiocb,
 * whose first member is the file pointer. */
static __always_inline struct file *fd_file_cast_of(struct task_struct *t, long fd)
{
	struct file **slot = pf_fd_slot_of(t, fd);
	if (!slot || bpf_core_field_offset(struct kiocb, ki_filp) != 0)
		return NULL;
	struct kiocb *kio = bpf_rdonly_cast((void *)slot, bpf_core_type_id_kernel(struct kiocb));
	return kio->ki_filp;
}

static __always_inline struct file *fd_file_cast(long fd)
{
	return fd_file_cast_of(bpf_get_current_task_btf(), fd);
}

/* str_is_path with plain loads (bpf_rdonly_cast): the slot is read as a
 * kiocb, whose first member is the file pointer. */
__noinline int vg_str_is_path_cast(long fd)
{
	struct scratch *s = scratch_get();
	struct file *f = fd_file_cast(fd);
	if (!s || !f)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	return str_is_path(s, f->f_path.dentry, f->f_path.mnt, t->fs->root.dentry, t->fs->root.mnt,
			   true);
}

/* The per-file cache (struct pf_dc), vg_sys_exit_cast only.  The entry
 * of scratch s a lookup or a fill for fd's file goes to (its slot: the
 * dentry's name hash, which the kernel salts with the parent), with that
 * file's dentry and mount, the task's root and the dentry's
 * d_name.hash_len in k (NULL: none). */
static __always_inline struct pf_dc *pf_dc_at(struct scratch *s, long fd, __u64 k[5])
{
	struct task_struct *t = bpf_get_current_task_btf(); /* once: a helper call */
	struct file *f = fd_file_cast_of(t, fd);
	if (!f || t->tgid == vg_self_tgid) /* the agent's own: see sys_exit_body */
		return NULL;
	struct dentry *de = f->f_path.dentry;
	k[0] = (__u64)de;
	k[1] = (__u64)f->f_path.mnt;
	k[2] = (__u64)t->fs->root.dentry;
	k[3] = (__u64)t->fs->root.mnt;
	k[4] = de->d_name.hash_len; /* the hash in its low 32 bits */
	return &s->dc[k[4] & (PF_DC - 1)];
}

/* mount_up for the per-file cache's compare: the same step with plain
 * loads only (bpf_rdonly_cast), so that the compare's loop makes no call
 * and keeps its values in registers. */
static __always_inline int mount_up_ld(struct dentry **d, struct vfsmount **vm,
				       struct dentry **mnt_root)
{
	struct mount *m = bpf_rdonly_cast(container_of(*vm, struct mount, mnt),
					  bpf_core_type_id_kernel(struct mount));
	struct mount *mp = m->mnt_parent;
	if (*d != *mnt_root || m == mp)
		return 0;
	*d = bpf_rdonly_cast(m->mnt_mountpoint, bpf_core_type_id_kernel(struct dentry));
	*vm = bpf_rdonly_cast(&mp->mnt, bpf_core_type_id_kernel(struct vfsmount));
	*mnt_root = (*vm)->mnt_root;
	return 1;
}

/* The steps of the walk from dentry d in mount vm up to the task's root
 * (rd, rm), as str_is_path and put_path take them, recorded into e (struct
 * pf_dc says what a step holds).  0: too deep or detached. */
static __always_inline int pf_chain_put(struct pf_dc *e, struct dentry *d, struct vfsmount *vm,
					struct dentry *rd, struct vfsmount *rm)
{
	struct dentry *mnt_root = vm->mnt_root;
	for (int i = 0; i < NAME_DEPTH; i++) {
		if (d == rd && vm == rm) {
			e->nstep = (__u8)i;
			return 1;
		}
		struct pf_step *st = &e->st[i];
		st->d = (__u64)d;
		st->vm = (__u64)vm;
		st->seq = d->d_seq.seqcount.sequence;
		struct dentry *parent = d->d_parent;
		if (d == mnt_root || d == parent) {
			if (!mount_up(&d, &vm, &mnt_root, true))
				return 0;
			continue;
		}
		d = parent;
	}
	return 0;
}

/* Whether the walk from d in vm is still the one recorded in e by
 * pf_chain_put for the same root (e->rd, e->rm): the same dentries, mounts
 * and d_seq at each of its e->nstep steps (the file's name is its
 * caller's compare; struct pf_dc says why the directories' names need
 * none), then the root.  The root test is made at the recorded depth
 * only: a recorded step is never the root (the put stops there), so a
 * walk that matches the steps cannot meet the root before. */
static __always_inline int pf_chain_same(const struct pf_dc *e, struct dentry *d,
					 struct vfsmount *vm)
{
	__u32 n = e->nstep;
	struct dentry *mnt_root = vm->mnt_root;
	for (__u32 i = 0; i < NAME_DEPTH; i++) {
		if (i == n)
			return (__u64)d == e->rd && (__u64)vm == e->rm;
		const struct pf_step *st = &e->st[i];
		if (st->d != (__u64)d || st->vm != (__u64)vm ||
		    st->seq != d->d_seq.seqcount.sequence)
			return 0;
		struct dentry *parent = d->d_parent;
		if (d == mnt_root || d == parent) {
			if (!mount_up_ld(&d, &vm, &mnt_root))
				return 0;
			continue;
		}
		d = parent;
	}
	return 0;
}

/* The cached verdict for the file the open of the predicate of generation
 * gen (vg_pf_sc.gen) returned as fd (VG_PF_DROP or VG_PF_DROP_PATH), or -1: the string is then read
 * and tested.  A hit needs the same predicate, file, root, return class and flags, and the file's
 * path still the entry's (pf_chain_same): so fd.name is the path the verdict was made for.
 * Inlined into the program: as a global function, its call and frame cost the open+close loop of
 * bench/prefilter.py about a point of overhead, for 17K more instructions to verify. */
static __always_inline int pf_dc_get(__u32 gen, __s64 ret, __u64 fl, long fd)
{
	struct scratch *s = scratch_get();
	if (!s || !gen)
		return -1;
	__u64 k[5];
	struct pf_dc *e = pf_dc_at(s, fd, k);
	int have = (int)(fl >> 32);
	if (!e || e->gen != gen || e->de != k[0] || e->mnt != k[1] || e->rd != k[2] ||
	    e->rm != k[3] || e->hl != k[4] || e->ctx != vg_pf_vc_ctx(ret, have) ||
	    e->oflags != (have ? (__u32)fl : 0))
		return -1;
	if (!pf_chain_same(e, bpf_rdonly_cast((void *)k[0], bpf_core_type_id_kernel(struct dentry)),
			   bpf_rdonly_cast((void *)k[1], bpf_core_type_id_kernel(struct vfsmount))))
		return -1;
	return e->verdict;
}

/* After an open of predicate key (generation gen) whose string (s->path)
 * the predicate dropped: the verdict of the predicate for any string
 * naming a file (vg_pf's key + 2 * VG_NR_MAX) on that string, which
 * vg_pf_dc_put caches for the file; VG_PF_KEEP: nothing to cache.  Not
 * called from vg_pf_dc_put: the chain program -> vg_pf_dc_put ->
 * vg_pf_decide -> ... was at the verifier's limit of 512 bytes of stack. */
__noinline int vg_pf_dc_verdict(__u32 key, __u32 gen, __s64 ret, __u64 fl)
{
	struct scratch *s = scratch_get();
	__u32 akey = 2 * VG_NR_MAX + key;
	struct vg_pf_sc *a = bpf_map_lookup_elem(&vg_pf, &akey);
	if (!s || !a || !gen || a->gen != (gen ^ VG_PF_GEN_ANY))
		return VG_PF_KEEP;
	__u32 n = s->pf_n;
	if (n < 2 || n > VG_PF_SCAN)
		return VG_PF_KEEP;
	int v = vg_pf_decide(akey, ret, fl, PF_PATH_HELD);
	return s->pf_n == n ? v : VG_PF_KEEP;
}

/* Verdict v (vg_pf_dc_verdict's) of the predicate of generation gen,
 * cached for the file the open returned as fd if its string (s->path) is
 * the exact path of that file, for the next opens of the file.  The steps
 * are recorded first, then the string is compared with the path again: a
 * rename between the two shows in the compare (names read after it) or in
 * a later lookup (the d_seq recorded before it), never as a path recorded
 * for another string. */
__noinline int vg_pf_dc_put(__u32 gen, __s64 ret, __u64 fl, long fd, int v)
{
	struct scratch *s = scratch_get();
	if (!s || !gen || v == VG_PF_KEEP)
		return 0;
	__u64 k[5];
	struct pf_dc *e = pf_dc_at(s, fd, k);
	if (!e)
		return 0;
	e->gen = 0;
	if (!pf_chain_put(e, bpf_rdonly_cast((void *)k[0], bpf_core_type_id_kernel(struct dentry)),
			  bpf_rdonly_cast((void *)k[1], bpf_core_type_id_kernel(struct vfsmount)),
			  (struct dentry *)k[2], (struct vfsmount *)k[3]) ||
	    !vg_str_is_path_cast(fd))
		return 0;
	int have = (int)(fl >> 32);
	e->de = k[0];
	e->mnt = k[1];
	e->rd = k[2];
	e->rm = k[3];
	e->hl = k[4];
	e->ctx = vg_pf_vc_ctx(ret, have);
	e->oflags = have ? (__u32)fl : 0;
	e->verdict = (__u8)v;
	e->gen = gen;
	return 0;
}

/* Whether the file a successful open returned as fd may have a name other
 * than the caller's string: then fd.name is the kernel's path of the file
 * (put_fd_path), and the predicate, which tested the string, cannot drop
 * the open (a symlink /tmp/shadow -> /etc/shadow, /proc/self/root/etc/shadow).
 * The string is the one the prefilter read (s->path); the check is the
 * capture's own (str_is_path), so that a string the prefilter trusts is
 * the one the record would carry as fd.name. */
#define PF_ALIAS(fd)                                                                               \
	(cast ? !vg_str_is_path_cast(fd) : modern ? !vg_str_is_path_btf(fd) : !vg_str_is_path(fd))

/* The process's row of vg_pf_procs; with create, made if missing. */
static __always_inline struct vg_pf_proc *pf_proc(__u32 tgid, int create)
{
	struct vg_pf_proc *p = bpf_map_lookup_elem(&vg_pf_procs, &tgid);
	if (p || !create)
		return p;
	static const struct vg_pf_proc empty;
	bpf_map_update_elem(&vg_pf_procs, &tgid, &empty, BPF_NOEXIST);
	return bpf_map_lookup_elem(&vg_pf_procs, &tgid);
}

static __always_inline __u32 pf_slot(__u32 tgid, int k)
{
	return ((tgid * 2654435761u) + (__u32)k) & (VG_PF_ROWS - 1);
}

/* The process's row in vg_pf_rows: the first of its slots it owns. */
static __always_inline struct vg_pf_proc *pf_row(__u32 tgid)
{
	for (int k = 0; k < VG_PF_PROBES; k++) {
		__u32 i = pf_slot(tgid, k);
		struct vg_pf_row *r = bpf_map_lookup_elem(&vg_pf_rows, &i);
		if (r && READ_ONCE(r->tgid) == tgid)
			return &r->p;
	}
	return NULL;
}

/* pf_row, or a free slot claimed for it (NULL: none free).  Two threads
 * of the process claiming at once may make it two rows: then the first is
 * the one found, the other's bits only keep closes that are sent anyway,
 * and both go at the exit. */
static __always_inline struct vg_pf_proc *pf_row_claim(__u32 tgid)
{
	struct vg_pf_proc *p = pf_row(tgid);
	if (p || !tgid)
		return p;
	for (int k = 0; k < VG_PF_PROBES; k++) {
		__u32 i = pf_slot(tgid, k);
		struct vg_pf_row *r = bpf_map_lookup_elem(&vg_pf_rows, &i);
		if (!r)
			return NULL;
		__u64 was = __sync_val_compare_and_swap(&r->tgid, 0, (__u64)tgid);
		if (was == 0 || was == tgid)
			return &r->p;
	}
	return NULL;
}

/* At the process's exec and exit (its last thread, or the one thread
 * left): every row it owns, cleared, then freed.  Plain stores: no other
 * thread of it runs, and a claim only takes a row whose owner is 0. */
static __always_inline void pf_rows_free(__u32 tgid)
{
	for (int k = 0; k < VG_PF_PROBES; k++) {
		__u32 i = pf_slot(tgid, k);
		struct vg_pf_row *r = bpf_map_lookup_elem(&vg_pf_rows, &i);
		if (!r || READ_ONCE(r->tgid) != tgid)
			continue;
		for (int j = 0; j < VG_PF_TFDS / 64; j++)
			r->p.bits[j] = 0;
		asm volatile("" ::: "memory"); /* the bits before the owner */
		WRITE_ONCE(r->tgid, 0ull);
	}
}

/* Whether fd's bit is set in row p (the state does not know the fd). */
static __always_inline int pf_bit_has(struct vg_pf_proc *p, long fd)
{
	return p && (p->bits[(fd >> 6) & (VG_PF_TFDS / 64 - 1)] & (1ull << (fd & 63)));
}

/* fd's bit in row p cleared (take) or set (put); take says whether it was
 * set.  Atomic: the threads of a process share its row.  With rows (the
 * modern program), atomic and/or; 5.10 has only atomic adds, which two
 * threads putting the same bit at once (two closes of one number, the
 * second after a reuse, both seeing it clear) would carry into the next
 * fd's: there that can only make a close the state needs look like one it
 * does not, for that process, until the next record naming that fd. */
static __always_inline int pf_bit_take(struct vg_pf_proc *p, long fd, const bool rows)
{
	if (!pf_bit_has(p, fd))
		return 0;
	__u64 *w = &p->bits[(fd >> 6) & (VG_PF_TFDS / 64 - 1)];
	__u64 m = 1ull << (fd & 63);
	if (rows)
		__sync_fetch_and_and(w, ~m);
	else
		__sync_fetch_and_add(w, -m);
	return 1;
}

static __always_inline void pf_bit_put(struct vg_pf_proc *p, long fd, const bool rows)
{
	if (!p || pf_bit_has(p, fd))
		return;
	__u64 *w = &p->bits[(fd >> 6) & (VG_PF_TFDS / 64 - 1)];
	__u64 m = 1ull << (fd & 63);
	if (rows)
		__sync_fetch_and_or(w, m);
	else
		__sync_fetch_and_add(w, m);
}

/* Whether the state does not know fd of process tgid (its close may be
 * dropped); the state may know it (take: a sent record names it); it does
 * not (put: its close was sent).  Global functions: the verifier checks
 * each once, not at every call; one set per program variant (the modern
 * one's atomics are not for 5.10's). */
__noinline int pf_fd_has(__u32 tgid, long fd)
{
	if (fd < 0 || fd >= VG_PF_TFDS)
		return 0; /* not tracked: its close is sent */
	return pf_bit_has(pf_proc(tgid, 0), fd);
}

__noinline int pf_fd_take(__u32 tgid, long fd)
{
	if (fd < 0 || fd >= VG_PF_TFDS)
		return 0;
	return pf_bit_take(pf_proc(tgid, 0), fd, false);
}

__noinline int pf_fd_put(__u32 tgid, long fd)
{
	if (fd < 0 || fd >= VG_PF_TFDS)
		return 0;
	pf_bit_put(pf_proc(tgid, 1), fd, false);
	return 0;
}

static __always_inline int pf_fd_has_row(__u32 tgid, long fd)
{
	return fd >= 0 && fd < VG_PF_TFDS && pf_bit_has(pf_row(tgid), fd);
}

__noinline int pf_fd_has_rows(__u32 tgid, long fd)
{
	return pf_fd_has_row(tgid, fd);
}

__noinline int pf_fd_take_rows(__u32 tgid, long fd)
{
	if (fd < 0 || fd >= VG_PF_TFDS)
		return 0;
	return pf_bit_take(pf_row(tgid), fd, true);
}

__noinline int pf_fd_put_rows(__u32 tgid, long fd)
{
	if (fd < 0 || fd >= VG_PF_TFDS)
		return 0;
	pf_bit_put(pf_row_claim(tgid), fd, true);
	return 0;
}

/* An fd the state learns from an io_uring record (the BPF-LSM programs):
 * every bit of the process cleared, in both variants' memories (those
 * programs run beside either), with plain stores (5.10 has no atomic
 * that clears one bit safely beside another thread's).  Rare; a store
 * that loses a concurrent put only makes a close be sent. */
static __always_inline void pf_forget_all(__u32 tgid)
{
	struct vg_pf_proc *p = pf_row(tgid);
	struct vg_pf_proc *q = pf_proc(tgid, 0);
	for (int i = 0; i < VG_PF_TFDS / 64; i++) {
		if (p)
			p->bits[i] = 0;
		if (q)
			q->bits[i] = 0;
	}
}

/* A new process (at its fork) or a new image (at its exec): its row, made
 * if missing, says that every fd not open in its table fdt is one the
 * state does not know.  The state's table of a new process is a copy of
 * its parent's; after an exec it loses what the exec closed: so what it
 * holds is the fds open in the kernel's table, and entries of fds closed
 * where vigil does not look (close_range, io_uring), whose reuse by a
 * dropped open the state would not see anyway.  The fork's child has not
 * run yet, and an exec'ing task is its process's only thread: no other
 * thread writes the row meanwhile.  A word that cannot be read counts as
 * all open.  Nothing before the start-up scan is done (it may read an fd
 * opened after this): then the row goes, and every fd may be known. */
static __always_inline void pf_row_init(struct vg_pf_proc *p, __u64 fdt)
{
	if (!p)
		return;
	struct fdtable *t = (struct fdtable *)fdt;
	unsigned long *open = BPF_CORE_READ(t, open_fds);
	unsigned int max = BPF_CORE_READ(t, max_fds);
	for (int i = 0; i < VG_PF_TFDS / 64; i++) {
		__u64 w = 0;
		if ((unsigned int)i * 64 < max && bpf_probe_read_kernel(&w, sizeof(w), open + i))
			w = ~0ull;
		p->bits[i] = ~w;
	}
}

__noinline int pf_fds_init(__u32 tgid, __u64 fdt)
{
	bpf_map_delete_elem(&vg_pf_procs, &tgid);
	if (vg_pf_scanned && fdt)
		pf_row_init(pf_proc(tgid, 1), fdt);
	return 0;
}

__noinline int pf_fds_init_rows(__u32 tgid, __u64 fdt)
{
	if (!vg_pf_scanned || !fdt) {
		pf_rows_free(tgid);
		return 0;
	}
	pf_row_init(pf_row_claim(tgid), fdt);
	return 0;
}

/* PF_HAS inline in vg_sys_exit_cast, whose verifier takes it (a call cost
 * each dropped close ~2 ns) */
#define PF_HAS(tgid, fd)                                                                           \
	(cast ? pf_fd_has_row(tgid, fd) : modern ? pf_fd_has_rows(tgid, fd) : pf_fd_has(tgid, fd))
#define PF_TAKE(tgid, fd) (modern ? pf_fd_take_rows(tgid, fd) : pf_fd_take(tgid, fd))
#define PF_PUT(tgid, fd) (modern ? pf_fd_put_rows(tgid, fd) : pf_fd_put(tgid, fd))

/* Argument i of the call, from the tracepoint's registers: the prefilter
 * decides before anything is copied into the record. */
static __always_inline __u64 regs_arg(struct pt_regs *regs, int i)
{
	switch (i) {
	case 0:
		return regs->di;
	case 1:
		return regs->si;
	case 2:
		return regs->dx;
	case 3:
		return regs->r10;
	case 4:
		return regs->r8;
	case 5:
		return regs->r9;
	}
	return 0;
}

/* The open flags of the event for predicate f (VG_PF_FL_*), bit 32 set
 * when they were read. */
static __always_inline __u64 pf_flags(struct pt_regs *regs, const struct vg_pf_sc *f)
{
	__u64 fl = 0;
	if (f->fsrc == VG_PF_FL_ARG && f->farg >= 0 && f->farg < 6) {
		fl = (__u32)regs_arg(regs, f->farg) | (1ull << 32);
	} else if (f->fsrc == VG_PF_FL_HOW) {
		__u64 how = 0;
		if (!bpf_probe_read_user(&how, sizeof(how), (void *)regs->dx))
			fl = (__u32)how | (1ull << 32);
	} else if (f->fsrc == VG_PF_FL_CREAT) {
		fl = 01 | 0100 | 01000 | (1ull << 32);
	}
	return fl;
}

/* The prefilter's verdict on predicate f (key) for this event. */
static __always_inline int pf_keep(struct pt_regs *regs, const struct vg_pf_sc *f, __u32 key,
				   long ret, __u64 fl)
{
	if (f->n == 0)
		return VG_PF_DROP; /* no clause: nothing of this syscall can matter */
	__u64 path = f->parg >= 0 && f->parg < 6 ? regs_arg(regs, f->parg) : 0;
	return vg_pf_decide(key, ret, fl, path);
}

/* A dropped event, counted.  0, always. */
static __always_inline int pf_counted(__u32 nr)
{
	__u32 zero = 0;
	struct vg_stats *st = bpf_map_lookup_elem(&vg_stats_map, &zero);
	if (st && nr < VG_NR_MAX)
		st->filtered[nr]++;
	return 0;
}

/* The verdict of the predicate without other namespaces' Rules of slot
 * key's (f->nsplit; gen: f's) for a task of a cgroup user space placed
 * (vg_pf_ncg): its namespace's own predicate if it has Rules for the
 * syscall (vg_pf_tix), else the cluster's rules' (narrow); VG_PF_KEEP for
 * any other task.  Only asked about what f keeps: the look-ups cost
 * nothing on the events f drops.  A global function: 5.10's verifier loses
 * a bound when the second predicate's code is inlined next to the
 * first's. */
__noinline int vg_pf_narrow(__u32 key, __s64 ret, __u64 fl, __u64 path, __u32 gen)
{
	__u64 cg = bpf_get_current_cgroup_id();
	__u64 *ns = bpf_map_lookup_elem(&vg_pf_ncg, &cg);
	if (!ns)
		return VG_PF_KEEP;
	__u64 h = *ns;
	if (h) {
		struct vg_pf_tk tk = {.h = h, .key = key, .gen = gen};
		struct vg_pf_tv *tv = bpf_map_lookup_elem(&vg_pf_tix, &tk);
		if (tv) {
			__u32 idx = tv->idx, tgen = tv->gen;
			if (idx >= 2 * VG_PF_TPREDS)
				return VG_PF_KEEP;
			__u32 tkey = 6 * VG_NR_MAX + idx;
			struct vg_pf_sc *tf = bpf_map_lookup_elem(&vg_pf, &tkey);
			if (!tf || tf->gen != tgen)
				return VG_PF_KEEP; /* not the same write's */
			return vg_pf_decide(tkey, ret, fl, path);
		}
	}
	__u32 nkey = 4 * VG_NR_MAX + key;
	struct vg_pf_sc *nf = bpf_map_lookup_elem(&vg_pf, &nkey);
	if (!nf || nf->gen != (gen ^ VG_PF_GEN_NARROW))
		return VG_PF_KEEP; /* not the same write's */
	if (h && nf->tover)
		return VG_PF_KEEP; /* a namespace's predicate did not fit */
	return vg_pf_decide(nkey, ret, fl, path);
}

/* Whether the prefilter lets this syscall event through (d->pf != 0):
 * 0 no, 1 yes, 2 yes, a close whose fd the state will no longer know once
 * the record is out (the caller puts its bit then). */
static __always_inline int pf_pass(struct pt_regs *regs, const struct vg_sc_desc *d, __u32 nr,
				   long ret, __u64 *pt, const bool modern, const bool cast)
{
	__u32 key = (d->pf == 2 ? VG_NR_MAX : 0) + nr;
	struct vg_pf_sc *f = bpf_map_lookup_elem(&vg_pf, &key);
	if (!f)
		return 1;
	__u8 track = f->track;
	long fd0 = (int)regs->di;
	__u64 fl = 0;
	int k;
	if (cast) {
		/* an open that returned a file: the per-file cache first, where
		 * the kernel reads the file's dentries with plain loads; a hit
		 * drops */
		fl = f->n ? pf_flags(regs, f) : 0;
		if ((d->flags & VG_SC_FDPATH) && ret >= 0 && f->dcache &&
		    pf_dc_get(f->gen, ret, fl, ret) >= 0)
			return pf_counted(nr);
		/* past the cache, the caller's pid and tgid (see sys_exit_body) */
		if (pt_self(pt))
			return 0;
		k = pf_keep(regs, f, key, ret, fl);
	} else {
		/* the flags read after the clause count, as 5.10's verifier
		 * takes it (read before, it loses a bound further on) */
		k = f->n ? pf_keep(regs, f, key, ret, pf_flags(regs, f)) : VG_PF_DROP;
	}
	__u32 tgid = *pt >> 32;
	if (k == VG_PF_KEEP && f->nsplit)
		k = vg_pf_narrow(key, ret, cast ? fl : pf_flags(regs, f),
				 f->parg >= 0 && f->parg < 6 ? regs_arg(regs, f->parg) : 0, f->gen);
	if (k == VG_PF_KEEP)
		return track & VG_PF_TRACK_CLOSE ? 2 : 1;
	if ((track & VG_PF_TRACK_CLOSE) && !PF_HAS(tgid, fd0))
		return 2; /* the state may know the fd: it needs the close */
	if (k == VG_PF_DROP_PATH && (d->flags & VG_SC_FDPATH) && ret >= 0 && PF_ALIAS(ret))
		return 1; /* fd.name is not the string the predicate tested */
	if (cast && k == VG_PF_DROP_PATH && (d->flags & VG_SC_FDPATH) && ret >= 0 && f->dcache) {
		/* the string is the file's path */
		__u32 gen = f->gen;
		int v = vg_pf_dc_verdict(key, gen, ret, fl);
		if (v != VG_PF_KEEP)
			vg_pf_dc_put(gen, ret, fl, ret, v);
	}
	return pf_counted(nr);
}

/* modern: the helpers of 5.17 (see the top of the file); a constant. */
static __always_inline int sys_exit_body(struct pt_regs *regs, long ret, const bool modern,
					 const bool cast)
{
	__u32 nr = regs->orig_ax;
	if (nr >= VG_NR_MAX)
		return 0;
	struct vg_sc_desc *d = bpf_map_lookup_elem(&vg_interest, &nr);
	if (!d || !d->cat)
		return 0;
	/* a successful execve is reported by sched_process_exec */
	if ((d->flags & VG_SC_EXEC) && ret == 0)
		return 0;
	/* the agent's own events are not captured.  vg_sys_exit_cast asks
	 * for the pid and tgid only past the prefilter's per-file cache
	 * (pf_pass): a hit needs neither, and the cache leaves out the
	 * agent's tasks itself */
	__u64 pt = 0;
	if (!cast && pt_self(&pt))
		return 0;

	/* the prefilter first: a dropped event costs no copy */
	int pass = 1;
	if (d->pf) {
		pass = pf_pass(regs, d, nr, ret, &pt, modern, cast);
		if (!pass)
			return 0;
	}
	if (!pt && pt_self(&pt)) /* vg_sys_exit_cast, no predicate on the way */
		return 0;
	/* sent: the fds it names are ones the state may know from now on.
	 * Any return of 0 or more is taken for an fd (a byte count taken
	 * for one only costs that fd's next close a record), but a process
	 * id (VG_SC_RETPID); and the socket
	 * fd argument, which the state may add to its table (connect on an
	 * fd it did not know).  Before the record: the nearer the open,
	 * the smaller the window in which another thread's close of the fd
	 * finds its bit still set (see docs/prefilter.md); and calls in the
	 * middle of the record's building cost older verifiers its bounds */
	if (ret >= 0 && nr != VG_PF_NR_CLOSE && !(d->flags & VG_SC_RETPID))
		PF_TAKE(pt >> 32, ret);
	if (d->sfd >= 0 && d->sfd < 6)
		PF_TAKE(pt >> 32, (int)regs_arg(regs, d->sfd));
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	/* there, not on the stack: the calls' stacks add up */
	s->pf_close = pass == 2 && ret == 0 ? (__u32)(int)regs->di + 1 : 0;
	reg_args(regs, E(s)->arg);
	struct task_struct *t = modern ? (struct task_struct *)bpf_get_current_task_btf()
				       : (struct task_struct *)bpf_get_current_task();
	fill_hdr(s, t, pt, VG_K_SYSCALL, nr, ret, modern);
	E(s)->aux[0] = E(s)->aux[1] = 0;
	__u32 off = 0;

	/* strings go in slot order: user space reads them packed that way */
	if (d->flags & VG_SC_ASOPENAT) {
		if (ret < 0)
			return 0;
		E(s)->h.nr = NR_OPENAT_SC;
		E(s)->h.flags |= VG_F_LSM;
		E(s)->arg[0] = (__u64)(long)AT_FDCWD;
		E(s)->arg[3] = 0;
	}
	char first0 = 0, first1 = 0;
	if (d->p0 >= 0 && d->p0 < 6) {
		__u32 at = off;
		off = put_user_str(s, off, VG_S_PATH0, (const char *)argi(s, d->p0));
		first0 = E(s)->data[at & DATA_MASK];
	}
	if (d->p1 >= 0 && d->p1 < 6) {
		__u32 at = off;
		off = put_user_str(s, off, VG_S_PATH1, (const char *)argi(s, d->p1));
		first1 = E(s)->data[at & DATA_MASK];
	}
	if (E(s)->len[VG_S_PATH0] && first0 != '/' && !(d->flags & VG_SC_P0RAW))
		off = put_base(s, off, VG_S_BASE0, t, d->d0, modern);
	if (E(s)->len[VG_S_PATH1] && first1 != '/' && !(d->flags & VG_SC_P1RAW))
		off = put_base(s, off, VG_S_BASE1, t, d->d1, modern);
	if (d->xs >= 0 && d->xs < 6)
		off = put_user_str(s, off, VG_S_XSTR, (const char *)argi(s, d->xs));
	/* one call site: each inlined path walk costs the verifier dearly */
	long ffd = (d->flags & VG_SC_FDPATH) && ret >= 0 ? ret
		   : (d->flags & VG_SC_FDFILE)		 ? (int)E(s)->arg[0]
							 : -1;
	if (ffd >= 0)
		off = put_fd_path(s, off, VG_S_FILE, t, ffd, modern, cast);
	if ((d->flags & VG_SC_CWD) && ret == 0) {
		struct path root = BPF_CORE_READ(t, fs, root);
		struct path pwd = BPF_CORE_READ(t, fs, pwd);
		off = put_path(s, off, VG_S_CWD, &pwd, &root, modern);
	}
	if (d->sfd >= 0 && d->sfd <= VG_A_RET) {
		long fd = d->sfd == VG_A_RET ? ret : (int)argi(s, d->sfd);
		sock_from_fd(s, t, fd);
	}
	if (d->sa >= 0 && d->sa < 6 && d->sal >= 0 && d->sal < 6) {
		__u32 alen = (__u32)argi(s, d->sal);
		if (d->flags & VG_SC_SALPTR) {
			alen = 0;
			bpf_probe_read_user(&alen, sizeof(alen), (void *)argi(s, d->sal));
		}
		off = sock_from_user(s, off, (const void *)argi(s, d->sa), alen);
	}
	if (d->fdp >= 0 && d->fdp < 6 && ret == 0) {
		int fds[2] = {-1, -1};
		if (!bpf_probe_read_user(fds, sizeof(fds), (void *)argi(s, d->fdp))) {
			E(s)->aux[0] = fds[0];
			E(s)->aux[1] = fds[1];
			E(s)->h.flags |= VG_F_FDPAIR;
		}
	}
	if (d->flags & VG_SC_OPENHOW) {
		__u64 how[2] = {};
		if (!bpf_probe_read_user(how, sizeof(how), (void *)E(s)->arg[2])) {
			E(s)->aux[0] = how[0];
			E(s)->aux[1] = how[1];
			E(s)->h.flags |= VG_F_OPENHOW;
		}
	}
	submit_sc(s, off, d->cat);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	/* a close the state gets: it no longer knows the fd.  Not for a
	 * record lost on a full ring (the state still has the entry, whose
	 * next close must go), nor before the start-up scan is done (it may
	 * read the fd's next file from /proc after this close) */
	if (s->pf_close && vg_pf_scanned)
		PF_PUT(tgid, (long)s->pf_close - 1);
	/* a pipe's or socketpair's fds are the state's now; done here, once
	 * the record is out: calls in the middle of the record's building
	 * cost older verifiers its length's bounds (a spilled u32) */
	if (E(s)->h.flags & VG_F_FDPAIR) {
		PF_TAKE(tgid, (int)E(s)->aux[0]);
		PF_TAKE(tgid, (int)E(s)->aux[1]);
	}
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vg_sys_exit, struct pt_regs *regs, long ret)
{
	return sys_exit_body(regs, ret, true, false);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vg_sys_exit_cast, struct pt_regs *regs, long ret)
{
	return sys_exit_body(regs, ret, true, true);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(vg_sys_exit_compat, struct pt_regs *regs, long ret)
{
	return sys_exit_body(regs, ret, false, false);
}

static __always_inline __u32 tty_dev(struct task_struct *t)
{
	struct tty_struct *tty = BPF_CORE_READ(t, signal, tty);
	if (!tty)
		return 0;
	int major = BPF_CORE_READ(tty, driver, major);
	int minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	/* the kernel's new_encode_dev(), as /proc/PID/stat's tty_nr */
	return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
}

static __always_inline __u32 exe_flags(struct file *exe, struct inode *ino)
{
	__u32 fl = 0;
	char name[6] = {};
	const unsigned char *n = BPF_CORE_READ(exe, f_path.dentry, d_name.name);
	bpf_probe_read_kernel(name, sizeof(name), n);
	if (name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' &&
	    name[4] == 'd' && name[5] == ':')
		fl |= VG_EXE_MEMFD;
	if (BPF_CORE_READ(ino, i_mode) & S_ISUID)
		fl |= VG_EXE_SETUID;
	unsigned long magic = BPF_CORE_READ(ino, i_sb, s_magic);
	if (magic == OVERLAYFS_SUPER_MAGIC && bpf_core_type_exists(struct ovl_inode)) {
		struct ovl_inode *oi = container_of(ino, struct ovl_inode, vfs_inode);
		if (BPF_CORE_READ(oi, __upperdentry))
			fl |= VG_EXE_UPPER;
	}
	return fl;
}

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

static __always_inline long cg_body(struct scratch *s, struct cgwalk *w)
{
	struct kernfs_node *kn = w->kn;
	if (!kn)
		return 1;
	struct kernfs_node *parent = kn_parent(kn);
	if (!parent)
		return 1; /* the hierarchy's root has no name of its own */
	const char *name = BPF_CORE_READ(kn, name);
	char buf[128];
	long n = bpf_probe_read_kernel_str(buf, sizeof(buf), name);
	if (n <= 1)
		return 1;
	__u32 len = (n - 1) & 127;
	__u32 pos = w->pos;
	if (len + 1 > pos || pos > HALF)
		return 1;
	pos -= len;
	bpf_probe_read_kernel(&s->path[pos & HALF], len, buf);
	pos -= 1;
	s->path[pos & HALF] = '/';
	w->pos = pos & HALF; /* see walk_body */
	w->kn = parent;
	return 0;
}

static long cg_step(__u64 i, void *ctx)
{
	struct cgwalk *w = ctx;
	return cg_body(w->s, w);
}

/* The cgroup walk for kernels without bpf_loop: see vg_walk_path. */
__noinline int vg_walk_cgroup(__u64 kn)
{
	struct scratch *s = scratch_get();
	if (!s)
		return VG_STR_MAX - 1;
	struct cgwalk w = {};
	w.kn = (struct kernfs_node *)kn;
	w.pos = VG_STR_MAX - 1;
	for (int i = 0; i < CGROUP_DEPTH; i++)
		if (cg_body(s, &w))
			break;
	return w.pos;
}

/* The task's cgroup path, from the v1 cpu hierarchy when the task is
 * placed in one, else from the default (v2) hierarchy. */
static __always_inline __u32 put_cgroup(struct scratch *s, __u32 off, struct task_struct *t,
					const bool loop)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
	struct kernfs_node *kn = BPF_CORE_READ(t, cgroups, subsys[id & 15], cgroup, kn);
	if (!kn || !kn_parent(kn))
		kn = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);
	struct cgwalk w = {.s = s, .kn = kn, .pos = VG_STR_MAX - 1};
	s->path[VG_STR_MAX - 1] = 0;
	if (loop) {
		bpf_loop(CGROUP_DEPTH, cg_step, &w, 0);
		return put_assembled(s, off, VG_X_CGROUP, w.pos);
	}
	int pos = vg_walk_cgroup((__u64)kn);
	return put_assembled(s, off, VG_X_CGROUP, (__u32)pos);
}

/* x86-64's task_pt_regs() for kernels without bpf_task_pt_regs (5.15):
 * the user registers sit at the top of the task's kernel stack, which is
 * THREAD_SIZE (16 KiB; Debian's kernels have no KASAN, which doubles it)
 * with no padding on x86-64. */
#define VG_THREAD_SIZE (4096 << 2)

static __always_inline int exec_body(struct task_struct *t, struct linux_binprm *bprm,
				     const bool modern)
{
	__u64 pt;
	if (pt_self(&pt))
		return 0;
	/* a new image, alone in its process: the fds it did not keep are
	 * ones the state does not know */
	__u32 tgid = pt >> 32;
	__u64 fdt = (__u64)BPF_CORE_READ(t, files, fdt);
	modern ? pf_fds_init_rows(tgid, fdt) : pf_fds_init(tgid, fdt);
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	struct pt_regs *regs;
	if (modern)
		regs = (struct pt_regs *)bpf_task_pt_regs(t);
	else
		regs = (struct pt_regs *)((char *)BPF_CORE_READ(t, stack) + VG_THREAD_SIZE) - 1;
	__u16 nr = BPF_CORE_READ(regs, orig_ax);
	fill_hdr(s, t, pt, VG_K_EXEC, nr, 0, true);
	struct vg_exec_info *x = &E(s)->exec;
	const struct cred *cr = BPF_CORE_READ(t, cred);
	/* kernel_cap_t is a u64 from 6.3 and two u32 before: the same 8
	 * bytes either way, so read the field whole instead of through a
	 * member only one layout has */
	_Static_assert(sizeof(x->cap_eff) == 8, "capability sets are 64-bit");
	bpf_core_read(&x->cap_eff, sizeof(x->cap_eff), &cr->cap_effective);
	bpf_core_read(&x->cap_perm, sizeof(x->cap_perm), &cr->cap_permitted);
	bpf_core_read(&x->cap_inh, sizeof(x->cap_inh), &cr->cap_inheritable);
	x->ruid = BPF_CORE_READ(cr, uid.val);
	x->rgid = BPF_CORE_READ(cr, gid.val);
	x->start_ns = BPF_CORE_READ(t, start_boottime);
	x->tty = tty_dev(t);

	struct pid *sidp = BPF_CORE_READ(t, signal, pids[PIDTYPE_SID]);
	struct pid *pgp = BPF_CORE_READ(t, signal, pids[PIDTYPE_PGID]);
	x->sid = BPF_CORE_READ(sidp, numbers[0].nr);
	x->pgid = BPF_CORE_READ(pgp, numbers[0].nr);
	struct pid *tp = BPF_CORE_READ(t, thread_pid);
	unsigned int level = BPF_CORE_READ(tp, level);
	x->vpid = BPF_CORE_READ(tp, numbers[level & 31].nr);
	x->vpgid = BPF_CORE_READ(pgp, numbers[level & 31].nr);
	x->pidns_ino = BPF_CORE_READ(tp, numbers[level & 31].ns, ns.inum);

	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	struct file *exe = BPF_CORE_READ(mm, exe_file);
	struct inode *ino = BPF_CORE_READ(exe, f_inode);
	x->exe_ino = BPF_CORE_READ(ino, i_ino);
	if (bpf_core_field_exists(ino->i_ctime_sec)) {
		x->exe_ctime_ns = (__u64)BPF_CORE_READ(ino, i_ctime_sec) * 1000000000ull +
				  BPF_CORE_READ(ino, i_ctime_nsec);
		x->exe_mtime_ns = (__u64)BPF_CORE_READ(ino, i_mtime_sec) * 1000000000ull +
				  BPF_CORE_READ(ino, i_mtime_nsec);
	}
	x->exe_flags = exe_flags(exe, ino);

	__u32 off = 0;
	off = put_kernel_str(s, off, VG_X_FILENAME, BPF_CORE_READ(bprm, filename));
	off = put_user_block(s, off, VG_X_ARGS, BPF_CORE_READ(mm, arg_start),
			     BPF_CORE_READ(mm, arg_end), VG_STR_MAX);
	off = put_user_block(s, off, VG_X_ENV, BPF_CORE_READ(mm, env_start),
			     BPF_CORE_READ(mm, env_end), ENV_MAX);
	struct path root = BPF_CORE_READ(t, fs, root);
	struct path ep = BPF_CORE_READ(exe, f_path);
	off = put_path(s, off, VG_X_EXEPATH, &ep, &root, modern);
	struct path pwd = BPF_CORE_READ(t, fs, pwd);
	off = put_path(s, off, VG_X_CWD, &pwd, &root, modern);
	off = put_cgroup(s, off, t, modern);
	submit(s, off, VG_CAT_NONE);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_exec, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_body(t, bprm, true);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vg_exec_compat, struct task_struct *t, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_body(t, bprm, false);
}

static __always_inline int fork_body(struct task_struct *parent, struct task_struct *child,
				     const bool modern)
{
	__u32 cpid = BPF_CORE_READ(child, pid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	if (cpid != ctgid)
		return 0; /* a thread: the process tree does not change */
	if (BPF_CORE_READ(parent, tgid) == vg_self_tgid)
		return 0;
	/* its fds that are not open: ones the state does not know */
	__u64 fdt = (__u64)BPF_CORE_READ(child, files, fdt);
	modern ? pf_fds_init_rows(ctgid, fdt) : pf_fds_init(ctgid, fdt);
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	/* the parent is the current task */
	fill_hdr(s, parent, bpf_get_current_pid_tgid(), VG_K_FORK, 0, 0, true);
	E(s)->fork.child_pid = ctgid;
	E(s)->fork.child_tid = cpid;
	struct pid *tp = BPF_CORE_READ(child, thread_pid);
	unsigned int level = BPF_CORE_READ(tp, level);
	E(s)->fork.child_vpid = BPF_CORE_READ(tp, numbers[level & 31].nr);
	E(s)->fork.start_ns = BPF_CORE_READ(child, start_boottime);
	submit(s, 0, VG_CAT_NONE);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vg_fork, struct task_struct *parent, struct task_struct *child)
{
	return fork_body(parent, child, true);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(vg_fork_compat, struct task_struct *parent, struct task_struct *child)
{
	return fork_body(parent, child, false);
}

static __always_inline int exit_body(struct task_struct *t)
{
	__u64 pt;
	if (pt_self(&pt))
		return 0;
	__u32 tgid = pt >> 32; /* the last thread: no one holds the row */
	bpf_map_delete_elem(&vg_pf_procs, &tgid);
	pf_rows_free(tgid);
	struct scratch *s = scratch_get();
	if (!s)
		return 0;
	fill_hdr(s, t, pt, VG_K_EXIT, 0, BPF_CORE_READ(t, exit_code), true);
	submit(s, 0, VG_CAT_NONE);
	return 0;
}

/* The tracepoint says whether this is the group's last thread. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_exit, struct task_struct *t, bool group_dead)
{
	if (!group_dead)
		return 0;
	return exit_body(t);
}

/* Kernels whose tracepoint has no group_dead: do_exit() decrements
 * signal->live before it, and the thread that took it to 0 is the last. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(vg_exit_live, struct task_struct *t)
{
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	return exit_body(t);
}

/* the BPF-LSM programs share this object's maps and record builders */
#include "lsm.bpf.h"
