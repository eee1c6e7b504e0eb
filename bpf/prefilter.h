/* prefilter.h - the kernel-side prefilter: which syscall events can matter.
 *
 * For each syscall the engine computes (agent/engine/prefilter.c) a
 * conservative predicate from the loaded rules: a disjunction of up to
 * VG_PF_CLAUSES clauses over what the kernel program has cheaply (the
 * return value's sign, the open flags, the first bytes of the path).  An
 * event no clause holds for can match no rule and the state does not need
 * it, so the kernel does not send it.
 *
 * The predicate is written once, here, as inline C that both the BPF
 * program (bpf/vigil.bpf.c) and user space (agent/event/pfeval.c, the
 * tests) compile: the user-space copy is what the tests check against the
 * engine.  It only uses the __u* types and loops with constant bounds that
 * the verifier walks, and reads the path through a mask.
 *
 * Paths: the kernel sees the path as the caller passed it, user space
 * normalises it (agent/state/state_path.c: "." and ".." resolved, "//"
 * collapsed, cwd or dirfd prepended).  A path is "simple" when it is
 * absolute, at most VG_PF_SCAN bytes and has no "//" and no component
 * starting with "." (so no "." or "..") and no ".." at all: then the
 * normalised path is the
 * raw path (less a trailing '/'), and "the normalised path starts with P"
 * implies "the raw path starts with P".  Prefix tests are made on simple
 * paths only; any other path keeps the event.
 */
#ifndef VIGIL_PREFILTER_H
#define VIGIL_PREFILTER_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VG_PF_CLAUSES 16
#define VG_PF_PREFIX 32 /* bytes of a clause's path prefix */
#define VG_PF_SCAN 128	/* path bytes inspected: a longer path is not simple */
#define VG_PF_BUF 256	/* the path buffer the predicate reads (power of two) */
#define VG_PF_TAILS 8	/* component hashes a clause's tail test holds for */

/* tail tests (clause.tkind): the FNV-1a hash of the path's last component
 * (fd.filename) or of the one before it (the last of fd.directory) must be
 * one of the clause's th[0..nt) */
#define VG_PF_TAIL_NONE 0
#define VG_PF_TAIL_BASE 1
#define VG_PF_TAIL_PARENT 2
#define VG_PF_FNV_OFF 2166136261u
#define VG_PF_FNV_PRIME 16777619u

/* return-value classes (clause.ret) */
#define VG_PF_RET_OK 1	 /* ret >= 0 */
#define VG_PF_RET_FAIL 2 /* ret < 0 */
#define VG_PF_RET_ANY 3

/* open access modes (clause.acc): bit (flags & O_ACCMODE) */
#define VG_PF_ACC_RDONLY 1
#define VG_PF_ACC_WRONLY 2
#define VG_PF_ACC_RDWR 4
#define VG_PF_ACC_BAD 8 /* O_ACCMODE == 3 */
#define VG_PF_ACC_ANY 15

/* where the open flags are (vg_pf_sc.fsrc) */
#define VG_PF_FL_NONE 0	 /* not an open-family call: flags 0, any access */
#define VG_PF_FL_ARG 1	 /* argument farg */
#define VG_PF_FL_HOW 2	 /* openat2's struct open_how (argument 2) */
#define VG_PF_FL_CREAT 3 /* creat: O_WRONLY|O_CREAT|O_TRUNC */

#define VG_PF_TRACK_OPEN 1
#define VG_PF_TRACK_CLOSE 2

/* The kernel's memory of dropped opens (vg_pf_procs): per process, a bit
 * per fd below VG_PF_TFDS whose open was dropped and that is still open.
 * An fd at or above it is not remembered (its close is sent). */
#define VG_PF_TFDS 1024
struct vg_pf_proc {
	__u64 bits[VG_PF_TFDS / 64];
};

/* One clause: every test must hold.  8-byte aligned, the prefix first:
 * it is compared a word at a time. */
struct vg_pf_clause {
	char prefix[VG_PF_PREFIX]; /* zero after plen */
	__u32 th[VG_PF_TAILS];
	__u32 flags_all; /* open flag bits that must all be set */
	__u8 ret;	 /* VG_PF_RET_* classes it holds for */
	__u8 acc;	 /* VG_PF_ACC_* access modes it holds for */
	__u8 plen;	 /* path prefix length; 0: any path */
	__u8 nonsimple;	 /* holds only for paths that are not simple */
	__u8 tkind;	 /* VG_PF_TAIL_*: a test of a component's hash */
	__u8 nt;
	__u8 tpad[6];
} __attribute__((aligned(8)));

/* One syscall's predicate: kept when one of the n clauses holds (n = 0:
 * never).  pathcheck: the clauses read the path (argument parg). */
struct vg_pf_sc {
	__u8 n;
	__u8 fsrc; /* VG_PF_FL_* */
	__s8 farg; /* VG_PF_FL_ARG: the flags argument */
	__s8 parg; /* the path argument, -1 none */
	__u8 pathcheck;
	/* VG_PF_TRACK_OPEN: an open this predicate drops is remembered
	 * (process image, fd); VG_PF_TRACK_CLOSE: a close the clauses do not
	 * keep is dropped when its fd is one of those */
	__u8 track;
	/* masked: cmask[(ret < 0) * 4 + (flags & O_ACCMODE)] has bit i set
	 * when clause i holds for that return class and access mode, so the
	 * others are not looked at, and a call with no candidate clause is
	 * decided before its path is read (vg_pf_sc_masks computes them) */
	__u8 masked;
	__u8 pad;
	__u16 cmask[8];
	struct vg_pf_clause c[VG_PF_CLAUSES];
};

/* The clauses that can hold for this return value and these flags
 * (constant indexes only: older verifiers lose the bounds of a computed
 * one). */
#define VG_PF_CANDS(k)                                                                             \
	(!have_flags ? f->cmask[k] | f->cmask[(k) + 1] | f->cmask[(k) + 2] | f->cmask[(k) + 3]     \
	 : (oflags & 3) == 0 ? f->cmask[k]                                                         \
	 : (oflags & 3) == 1 ? f->cmask[(k) + 1]                                                   \
	 : (oflags & 3) == 2 ? f->cmask[(k) + 2]                                                   \
			     : f->cmask[(k) + 3])
static __inline __u32 vg_pf_cands(const struct vg_pf_sc *f, __s64 ret, __u32 oflags, int have_flags)
{
	if (!f->masked)
		return 0xffff;
	if (ret < 0)
		return VG_PF_CANDS(4);
	return VG_PF_CANDS(0);
}
#undef VG_PF_CANDS

/* Whether p (VG_PF_BUF bytes, NUL-terminated within) is a simple path;
 * for one, the hashes of its last two components (tails[0]: the last,
 * tails[1]: the one before, the hash of "" when it has one component) and
 * tails[2] = 1 when they mean something (no trailing '/', not the root). */
static __inline int vg_pf_simple(const char *p, __u32 *tails)
{
	tails[2] = 0;
	if (p[0] != '/')
		return 0;
	char prev = '/';
	__u32 h = VG_PF_FNV_OFF, hp = VG_PF_FNV_OFF;
	for (int i = 1; i < VG_PF_SCAN; i++) {
		char c = p[i & (VG_PF_BUF - 1)];
		if (c == 0) {
			tails[0] = h;
			tails[1] = hp;
			tails[2] = prev != '/';
			return 1;
		}
		if ((prev == '/' && (c == '/' || c == '.')) || (prev == '.' && c == '.'))
			return 0;
		if (c == '/') {
			hp = h;
			h = VG_PF_FNV_OFF;
		} else {
			h = (h ^ (__u8)c) * VG_PF_FNV_PRIME;
		}
		prev = c;
	}
	return 0;
}

/* FNV-1a of n bytes (user space: the engine's side of the tail tests). */
static __inline __u32 vg_pf_hash(const char *s, __u32 n)
{
	__u32 h = VG_PF_FNV_OFF;
	for (__u32 i = 0; i < n; i++)
		h = (h ^ (__u8)s[i]) * VG_PF_FNV_PRIME;
	return h;
}

/* Whether simple path p starts with c's prefix: a word at a time (the
 * prefix is zero after plen, the path's bytes past it are masked off;
 * little-endian), unrolled so that no index is computed. */
#define VG_PF_WORD(w)                                                                              \
	if (pl > (w)*8) {                                                                          \
		__u64 m = pl >= (w)*8 + 8 ? ~0ull : (1ull << ((pl - (w)*8) * 8)) - 1;              \
		if ((pw[w] ^ cw[w]) & m)                                                           \
			return 0;                                                                  \
	}
static __inline int vg_pf_prefix_ok(const char *p, const struct vg_pf_clause *c)
{
	const __u64 *pw = (const __u64 *)p, *cw = (const __u64 *)c->prefix;
	__u32 pl = c->plen;
	VG_PF_WORD(0)
	VG_PF_WORD(1)
	VG_PF_WORD(2)
	VG_PF_WORD(3)
	return 1;
}
#undef VG_PF_WORD

/* The predicate.  ret: the return value; oflags/have_flags: the open
 * flags when they could be read (else every access mode and flag test
 * holds); p: the path (VG_PF_BUF bytes), have_path 0 when there is none or
 * it could not be read (then it is not simple). */
static __inline int vg_pf_keep(const struct vg_pf_sc *f, __s64 ret, __u32 oflags, int have_flags,
			       const char *p, int have_path)
{
	__u32 cand = vg_pf_cands(f, ret, oflags, have_flags);
	if (!cand)
		return 0;
	__u32 tails[3] = {0, 0, 0};
	int simple = have_path && f->pathcheck ? vg_pf_simple(p, tails) : 0;
	__u8 rc = ret < 0 ? VG_PF_RET_FAIL : VG_PF_RET_OK;
	__u8 acc = have_flags ? (__u8)(1u << (oflags & 3)) : VG_PF_ACC_ANY;
	__u32 n = f->n;
	for (__u32 i = 0; i < VG_PF_CLAUSES; i++) {
		if (i >= n)
			break;
		if (!(cand & (1u << i)))
			continue;
		const struct vg_pf_clause *c = &f->c[i & (VG_PF_CLAUSES - 1)];
		if (!(c->ret & rc) || !(c->acc & acc))
			continue;
		if (have_flags && (oflags & c->flags_all) != c->flags_all)
			continue;
		if (c->nonsimple && simple)
			continue;
		if (c->tkind && simple && tails[2]) {
			__u32 h = c->tkind == VG_PF_TAIL_BASE ? tails[0] : tails[1];
			int found = 0;
			for (int j = 0; j < VG_PF_TAILS; j++) {
				if (j >= c->nt)
					break;
				if (c->th[j] == h) {
					found = 1;
					break;
				}
			}
			if (!found)
				continue;
		}
		if (c->plen && simple && !vg_pf_prefix_ok(p, c))
			continue;
		return 1;
	}
	return 0;
}

#endif
