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

/* Inlined in the BPF program: an outlined helper costs a call, and a
 * function of more than five arguments cannot be one there. */
#ifdef __bpf__
#define VG_PF_FN static inline __attribute__((always_inline))
#else
#define VG_PF_FN static inline
#endif

/* 8 bytes at p as one load.  In BPF a memcpy of unknown alignment becomes
 * eight byte loads and shifts; x86 and the verifier (without
 * BPF_F_STRICT_ALIGNMENT) take an unaligned load.  User space keeps to
 * memcpy, which compiles to one load there too. */
#ifdef __bpf__
#define VG_PF_LOAD64(v, p) ((v) = *(const __u64 *)(const void *)(p))
#define VG_PF_STORE64(p, v) (*(__u64 *)(void *)(p) = (v))
#else
#define VG_PF_LOAD64(v, p) __builtin_memcpy(&(v), (p), 8)
#define VG_PF_STORE64(p, v)                                                                        \
	do {                                                                                       \
		__u64 v_ = (v);                                                                    \
		__builtin_memcpy((p), &v_, 8);                                                     \
	} while (0)
#endif

#define VG_PF_CLAUSES 16
#define VG_PF_GEN_ANY 0x80000000u    /* see vg_pf_sc.gen */
#define VG_PF_GEN_NARROW 0x40000000u /* see vg_pf_sc.gen */
#define VG_PF_PREFIX 32		     /* bytes of a clause's path prefix */
#define VG_PF_SCAN 128		     /* path bytes inspected: a longer path is not simple */
/* the path buffer the predicate reads: the scanned bytes, a NUL and slack
 * for a word load */
#define VG_PF_BUF (VG_PF_SCAN + 8)
#define VG_PF_IMASK (VG_PF_SCAN - 1) /* a byte index within the scanned path */
#define VG_PF_TAILS 8		     /* component hashes a clause's tail test holds for */
#define VG_PF_SUBMAX 16		     /* bytes of a clause's substring test */

/* tail tests (clause.tkind): the hash (vg_pf_hash) of the path's last
 * component (fd.filename) or of the one before it (the last of
 * fd.directory) must be one of the clause's th[0..nt) */
#define VG_PF_TAIL_NONE 0
#define VG_PF_TAIL_BASE 1
#define VG_PF_TAIL_PARENT 2

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

#define VG_PF_TRACK_CLOSE 2

/* The kernel's memory of the fds the state does not know (vg_pf_procs,
 * vg_pf_rows; docs/prefilter.md, "Closes"): per process, a bit per fd
 * below VG_PF_TFDS.  An fd at or above it is not tracked (its close is
 * sent). */
#define VG_PF_TFDS 1024
struct vg_pf_proc {
	__u64 bits[VG_PF_TFDS / 64];
};

/* One clause: every test must hold.  8-byte aligned, the prefix first:
 * it is compared a word at a time. */
struct vg_pf_clause {
	char prefix[VG_PF_PREFIX]; /* zero after plen */
	char sub[VG_PF_SUBMAX];	   /* the path contains these slen bytes; zero after */
	__u32 th[VG_PF_TAILS];
	__u32 flags_all; /* open flag bits that must all be set */
	__u8 ret;	 /* VG_PF_RET_* classes it holds for */
	__u8 acc;	 /* VG_PF_ACC_* access modes it holds for */
	__u8 plen;	 /* path prefix length; 0: any path */
	__u8 nonsimple;	 /* holds only for paths that are not simple */
	__u8 tkind;	 /* VG_PF_TAIL_*: a test of a component's hash */
	__u8 nt;
	__u8 slen; /* substring test's length; 0: none */
	__u8 tpad[5];
} __attribute__((aligned(8)));

/* One syscall's predicate: kept when one of the n clauses holds (n = 0:
 * never).  pathcheck: the clauses read the path (argument parg). */
struct vg_pf_sc {
	__u8 n;
	__u8 fsrc; /* VG_PF_FL_* */
	__s8 farg; /* VG_PF_FL_ARG: the flags argument */
	__s8 parg; /* the path argument, -1 none */
	__u8 pathcheck;
	/* VG_PF_TRACK_CLOSE: a close the clauses do not keep is dropped when
	 * the state does not know its fd */
	__u8 track;
	/* masked: cmask[(ret < 0) * 4 + (flags & O_ACCMODE)] has bit i set
	 * when clause i holds for that return class and access mode, so the
	 * others are not looked at, and a call with no candidate clause is
	 * decided before its path is read (vg_pf_sc_masks computes them) */
	__u8 masked;
	/* an open-family predicate whose predicate for any string naming a
	 * file (struct vg_pf_table's any) drops some successful opens: the
	 * kernel's cache per file is worth filling */
	__u8 dcache;
	__u16 cmask[8];
	/* (vg_pf_sc_masks, with masked) the clauses that test the path
	 * (a prefix, a substring, a tail or not simple), the ones that hold
	 * only for paths that are not simple, the ones that test the last
	 * component's hash and the one before's */
	__u16 pmask, nsmask, tbase, tparent;
	/* set by the capture at each write of a predicate, never 0: the
	 * kernel's verdict cache (struct vg_pf_vc) holds a verdict only for
	 * the predicate that gave it.  A slot's predicate for any string
	 * naming a file has its string predicate's gen ^ VG_PF_GEN_ANY, its
	 * predicate without namespaced Rules gen ^ VG_PF_GEN_NARROW */
	__u32 gen;
	__u16 smask; /* (vg_pf_sc_masks) the clauses with a substring test */
	/* namespaced Rules add clauses to this predicate: for the tasks of
	 * the cgroups user space placed (vg_pf_ncg), a predicate without the
	 * clauses of other namespaces' Rules decides (vg_pf_narrow): the
	 * host's and those of a namespace without Rules for this syscall get
	 * the same slot's predicate of the cluster's rules (struct
	 * vg_pf_table's narrow, at 4 * VG_NR_MAX + key, gen ^
	 * VG_PF_GEN_NARROW), a pod's of a namespace with such Rules its
	 * namespace's (struct vg_pf_tpred, found through vg_pf_tix) */
	__u8 nsplit;
	/* (in a narrow predicate) some namespace's Rules for this syscall
	 * have no predicate of their own (past VG_PF_TPREDS or VG_PF_TREFS): a pod's
	 * task of a namespace without one gets the whole predicate */
	__u8 tover;
	/* for a simple path p: the clauses whose prefix test p[1] passes
	 * (all but the ones with a prefix of 2 bytes or more and another
	 * second byte), so that most fail without being looked at */
	__u16 second[256];
	/* bit (h & 255) set for each hash h a tail test of the kind holds
	 * for ([0]: the last component, [1]: the one before): a path whose
	 * component's bit is clear fails every such test at once */
	__u64 bloom[2][4];
	struct vg_pf_clause c[VG_PF_CLAUSES];
};

/* The predicates of the namespaces with Rules (struct vg_pf_table's
 * tsc): per write of the table at most VG_PF_TPREDS distinct ones (the
 * namespaces whose Rules give the same predicate share it), in one of two
 * pools of vg_pf (6 * VG_NR_MAX + pool * VG_PF_TPREDS + i: the writes
 * alternate, so the one the live slots name is never overwritten).
 * vg_pf_tix finds one from the namespace (vg_pf_ns_hash of its name), the
 * whole predicate's key and gen (a write's entries are found only with
 * its predicates): at most VG_PF_TREFS (namespace, syscall) per write. */
#define VG_PF_TPREDS 256
#define VG_PF_TREFS 4096
struct vg_pf_tk {
	__u64 h;
	__u32 key;
	__u32 gen;
};
struct vg_pf_tv {
	__u32 idx; /* in the pools: [0, 2 * VG_PF_TPREDS) */
	__u32 gen; /* the predicate's own */
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
VG_PF_FN __u32 vg_pf_cands(const struct vg_pf_sc *f, __s64 ret, __u32 oflags, int have_flags)
{
	if (!f->masked)
		return 0xffff;
	if (ret < 0)
		return VG_PF_CANDS(4);
	return VG_PF_CANDS(0);
}
#undef VG_PF_CANDS

/* The path is inspected a word (8 bytes, little-endian) at a time: a
 * byte loop cost the kernel more than the rest of the decision together
 * (about 3 ns a byte on the open+close loop). */
#define VG_PF_ONES 0x0101010101010101ull
#define VG_PF_LOW7 0x7f7f7f7f7f7f7f7full

/* 0x80 in each byte of w that is the byte of c8 (c * VG_PF_ONES): exact,
 * no borrow from one byte into the next. */
VG_PF_FN __u64 vg_pf_eqb(__u64 w, __u64 c8)
{
	__u64 x = w ^ c8;
	return ~(((x & VG_PF_LOW7) + VG_PF_LOW7) | x | VG_PF_LOW7);
}

/* Word w of path p. */
VG_PF_FN __u64 vg_pf_word(const char *p, __u32 w)
{
	__u64 v;
	VG_PF_LOAD64(v, &p[(w * 8) & (VG_PF_SCAN - 8)]);
	return v;
}

/* v with its bytes from its first NUL on cleared (the buffer holds what
 * earlier paths left after a path's NUL): below the lowest zero byte's
 * bit, found as the lowest 0x80 of its mask. */
VG_PF_FN __u64 vg_pf_to_nul(__u64 v)
{
	__u64 z = vg_pf_eqb(v, 0);
	return v & (((z & -z) >> 7) - 1);
}

/* The index of the highest byte marked 0x80 in m (m != 0), without a
 * loop or branch: the lowest marked byte of the byte-reversed m, found by
 * a multiplication that moves its index into the top byte. */
VG_PF_FN __u32 vg_pf_hibyte(__u64 m)
{
	__u64 r = __builtin_bswap64(m);
	__u64 lo = (r & -r) >> 7;
	return 7 - (__u32)((lo * 0x0001020304050607ull) >> 56);
}

/* Whether p (its length with the NUL: n, 0 for none) is a simple path:
 * absolute, shorter than VG_PF_SCAN, no "//", no component starting with
 * '.' and no "..".
 * For the verifier, the loops here compare counters derived from the
 * length, never the length itself: a comparison narrows the register it
 * tests, and a length narrowed differently at each exit of a loop would
 * have what follows walked once per exit. */
VG_PF_FN int vg_pf_simple(const char *p, __u32 n)
{
	if (n < 2 || n > VG_PF_SCAN || p[0] != '/')
		return 0;
	__u32 l = n - 1, nw = (l + 7) >> 3;
	__u64 sp = 0, dp = 0, bad = 0;
	for (__u32 w = 0; w < VG_PF_SCAN / 8; w++) {
		if (w >= nw)
			break;
		__u64 v = vg_pf_to_nul(vg_pf_word(p, w));
		__u64 s = vg_pf_eqb(v, '/' * VG_PF_ONES), d = vg_pf_eqb(v, '.' * VG_PF_ONES);
		/* s1, d1: the byte before each byte is a '/', a '.' */
		__u64 s1 = s << 8 | sp, d1 = d << 8 | dp;
		bad |= (s1 & (s | d)) | (d1 & d);
		sp = s >> 56;
		dp = d >> 56;
	}
	return !bad;
}

/* The position of the last '/' before position e (0 < e < VG_PF_SCAN)
 * in simple path p; p[0] is one.  The word that holds e first, without
 * its bytes from e on, then the words before it. */
VG_PF_FN __u32 vg_pf_slash_before(const char *p, __u32 e)
{
	__u32 we = (e >> 3) & (VG_PF_SCAN / 8 - 1);
	__u64 s = vg_pf_eqb(vg_pf_word(p, we), '/' * VG_PF_ONES) & ((1ull << ((e & 7) * 8)) - 1);
	/* masked: one range for every exit, so that the verifier walks
	 * what follows once */
	if (s)
		return (we * 8 + vg_pf_hibyte(s)) & (VG_PF_SCAN - 1);
	for (__u32 i = 1; i < VG_PF_SCAN / 8; i++) {
		if (i > we)
			break;
		__u32 w = we - i;
		s = vg_pf_eqb(vg_pf_word(p, w), '/' * VG_PF_ONES);
		if (s)
			return (w * 8 + vg_pf_hibyte(s)) & (VG_PF_SCAN - 1);
	}
	return 0;
}

/* A component's hash for the tail tests, a word at a time: the engine
 * hashes the names of the rules with vg_pf_hash, the kernel the path's
 * components with vg_pf_chash; the same value for the same bytes.  A
 * component longer than VG_PF_CMAX has none (its tail tests hold). */
#define VG_PF_CMAX 64
#define VG_PF_HMUL 0x9e3779b97f4a7c15ull
VG_PF_FN __u64 vg_pf_hstep(__u64 h, __u64 w)
{
	h = (h ^ w) * VG_PF_HMUL;
	return h ^ (h >> 32);
}

VG_PF_FN __u32 vg_pf_hend(__u64 h)
{
	return (__u32)(h ^ (h >> 29));
}

/* The hash of the len (<= VG_PF_CMAX) bytes of p from a (a <= VG_PF_SCAN). */
VG_PF_FN __u32 vg_pf_chash(const char *p, __u32 a, __u32 len)
{
	__u64 h = (__u64)len * VG_PF_HMUL;
	for (__u32 k = 0; k < VG_PF_CMAX / 8; k++) {
		if (k * 8 >= len)
			break;
		/* a component ends before VG_PF_SCAN, so this reads inside
		 * VG_PF_BUF; the mask only bounds it for the verifier (the
		 * kernel's buffer has room for it) */
		__u64 w;
		VG_PF_LOAD64(w, &p[(a + k * 8) & (2 * VG_PF_SCAN - 1)]);
		__u32 r = len - k * 8;
		if (r < 8)
			w &= (1ull << (r * 8)) - 1;
		h = vg_pf_hstep(h, w);
	}
	return vg_pf_hend(h);
}

/* vg_pf_chash of the n bytes at s (user space: the engine's side). */
VG_PF_FN __u32 vg_pf_hash(const char *s, __u32 n)
{
	__u64 h = (__u64)n * VG_PF_HMUL;
	for (__u32 k = 0; k * 8 < n; k++) {
		__u64 w = 0;
		__u32 r = n - k * 8;
		__builtin_memcpy(&w, s + k * 8, r < 8 ? r : 8);
		h = vg_pf_hstep(h, w);
	}
	return vg_pf_hend(h);
}

/* For simple path p of length l: the hashes of its last component
 * (tails[0]) and of the one before (tails[1], the hash of "" when it has
 * one component); 0 when they mean nothing (a trailing '/', the root, a
 * component longer than VG_PF_CMAX). */
VG_PF_FN int vg_pf_tails(const char *p, __u32 l, __u32 *tails)
{
	if (l < 2 || l > VG_PF_SCAN || p[(l - 1) & VG_PF_IMASK] == '/')
		return 0;
	__u32 last = vg_pf_slash_before(p, l);
	__u32 prev = last ? vg_pf_slash_before(p, last) : 0;
	__u32 bl = l - last - 1, pl = last ? last - prev - 1 : 0;
	if (bl > VG_PF_CMAX || pl > VG_PF_CMAX)
		return 0;
	tails[0] = vg_pf_chash(p, last + 1, bl);
	tails[1] = vg_pf_chash(p, prev + 1, pl);
	return 1;
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
VG_PF_FN int vg_pf_prefix_ok(const char *p, const struct vg_pf_clause *c)
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

/* Whether simple path p (n bytes with its NUL) contains the slen bytes
 * (1 to VG_PF_SUBMAX, none of them NUL) of the words w0, w1 (little-endian,
 * zero past slen): fd.name is p less a trailing '/', so a substring of it
 * is one of p.  One position at a time, two unaligned words compared under
 * the masks of the string's bytes (its non-zero ones): no branch but the
 * loop's and the match's, which keeps the verifier's walk of the loop to
 * one path (a word-wise scan for the first byte with a loop over its hits
 * cost it 55K instructions more, and this test only runs on the clauses
 * the predicate's masks leave). */
VG_PF_FN int vg_pf_sub_in(const char *p, __u32 n, __u64 w0, __u64 w1, __u32 slen)
{
	if (slen == 0)
		return 1;
	if (slen > VG_PF_SUBMAX || n < 2 || n > VG_PF_SCAN || slen > n - 1)
		return 0;
	__u32 last = n - 1 - slen; /* the last start a match can have */
	__u64 m0 = ~((vg_pf_eqb(w0, 0) >> 7) * 0xff), m1 = ~((vg_pf_eqb(w1, 0) >> 7) * 0xff);
	for (__u32 i = 0; i < VG_PF_SCAN; i++) {
		if (i > last)
			break;
		/* a string of more than 8 bytes starts before VG_PF_SCAN - 9,
		 * so its second word is inside the buffer; for a shorter one
		 * it wraps round (m1 is 0) */
		__u64 a, b;
		VG_PF_LOAD64(a, &p[i & VG_PF_IMASK]);
		VG_PF_LOAD64(b, &p[(i + 8) & VG_PF_IMASK]);
		if (!(((a ^ w0) & m0) | ((b ^ w1) & m1)))
			return 1;
	}
	return 0;
}

/* Clause c's substring test on path p (n bytes with its NUL).  In the BPF
 * program p is always the scratch's path buffer, and the test is the
 * global function vg_pf_sub (bpf/vigil.bpf.c), which the verifier checks
 * once on its own rather than in every clause of the predicate's loop. */
VG_PF_FN __u64 vg_pf_subw(const struct vg_pf_clause *c, __u32 k)
{
	__u64 v;
	VG_PF_LOAD64(v, &c->sub[k * 8]);
	return v;
}
#ifdef __bpf__
int vg_pf_sub(__u64 w0, __u64 w1, __u32 slen, __u32 n);
#define VG_PF_SUB_OK(c, p, n) vg_pf_sub(vg_pf_subw(c, 0), vg_pf_subw(c, 1), (c)->slen, (n))
#else
#define VG_PF_SUB_OK(c, p, n) vg_pf_sub_in((p), (n), vg_pf_subw(c, 0), vg_pf_subw(c, 1), (c)->slen)
#endif

/* Of the clauses in sm, the ones whose substring test fails on simple path
 * p.  Before the predicate's loop, not in it, and in the BPF program in a
 * global function (VG_PF_SUBFAIL): a mask built up bit by bit in the
 * predicate's own code is a constant the verifier would follow in each of
 * its values. */
#define VG_PF_SUBTESTS 4 /* substring tests made per event at most */
VG_PF_FN __u32 vg_pf_subfail(const struct vg_pf_sc *f, __u32 sm, const char *p, __u32 n)
{
	/* a rule set of many substrings (a hostile Rule) costs each event
	 * at most VG_PF_SUBTESTS scans of the path: the clauses of sm after
	 * its first VG_PF_SUBTESTS are taken to hold.  Counted on the mask,
	 * not in the loop: a count there is a constant the verifier would
	 * follow in each of its values. */
	__u32 left = sm, lim = 0;
	for (int k = 0; k < VG_PF_SUBTESTS; k++) {
		lim |= left & -left;
		left &= left - 1;
	}
	__u32 fail = 0, nc = f->n;
	for (__u32 i = 0; i < VG_PF_CLAUSES; i++) {
		if (i >= nc)
			break;
		if (!(lim & (1u << i)))
			continue;
		const struct vg_pf_clause *c = &f->c[i & (VG_PF_CLAUSES - 1)];
		if (!c->slen)
			continue;
		/* arithmetic, not a branch: a mask built from constants would be
		 * followed by older verifiers in each of its values */
		fail |= (1u - ((__u32)VG_PF_SUB_OK(c, p, n) & 1)) << i;
	}
	return fail;
}
#ifdef __bpf__
__u32 vg_pf_subfail_g(__u32 sm, __u32 n);
#define VG_PF_SUBFAIL(f, sm, p, n) vg_pf_subfail_g((sm), (n))
#else
#define VG_PF_SUBFAIL(f, sm, p, n) vg_pf_subfail((f), (sm), (p), (n))
#endif

/* The predicate: 0 drop, 1 keep (VG_PF_DROP_PATH: dropped after a
 * clause that tests the path failed on it, so the path's aliases matter).
 * ret: the return value; oflags/have_flags: the open flags when they could
 * be read (else every access mode and flag test holds); p: the path
 * (VG_PF_BUF bytes), n its length with the NUL, 0 when there is none or it
 * could not be read (then it is not simple). */
#define VG_PF_DROP 0
#define VG_PF_KEEP 1
#define VG_PF_DROP_PATH 2
VG_PF_FN int vg_pf_bloom(const __u64 *b, __u32 h)
{
	return (int)((b[(h >> 6) & 3] >> (h & 63)) & 1);
}

VG_PF_FN int vg_pf_keep(const struct vg_pf_sc *f, __s64 ret, __u32 oflags, int have_flags,
			const char *p, __u32 n)
{
	__u32 cand = vg_pf_cands(f, ret, oflags, have_flags);
	if (!cand)
		return VG_PF_DROP;
	__u32 tails[2] = {0, 0};
	int simple = f->pathcheck && (!f->masked || (cand & f->pmask)) ? vg_pf_simple(p, n) : 0;
	int tails_ok = 0, by_path = 0;
	if (simple && f->masked) {
		/* the path's tests, as masks first: what is left is looked at
		 * one clause at a time */
		__u32 was = cand;
		cand &= ~(__u32)f->nsmask;
		cand &= f->second[(__u8)p[1]];
		if (cand & (f->tbase | f->tparent)) {
			/* before the loop, not in it: the verifier walks it once */
			tails_ok = vg_pf_tails(p, n - 1, tails);
			if (tails_ok && !vg_pf_bloom(f->bloom[0], tails[0]))
				cand &= ~(__u32)f->tbase;
			if (tails_ok && !vg_pf_bloom(f->bloom[1], tails[1]))
				cand &= ~(__u32)f->tparent;
		}
		/* the substring tests of the clauses left, at once */
		if (cand & f->smask)
			cand &= ~VG_PF_SUBFAIL(f, cand & f->smask, p, n);
		by_path = cand != was;
		if (!cand)
			return by_path ? VG_PF_DROP_PATH : VG_PF_DROP;
	} else if (simple) {
		tails_ok = vg_pf_tails(p, n - 1, tails);
		cand &= ~VG_PF_SUBFAIL(f, 0xffff, p, n);
		/* a drop is then said to be by the path whatever failed
		 * (the alias check follows it): a by_path that depends on
		 * the call would have the verifier walk the loop below once
		 * more */
		by_path = 1;
	}
	__u8 rc = ret < 0 ? VG_PF_RET_FAIL : VG_PF_RET_OK;
	__u8 acc = have_flags ? (__u8)(1u << (oflags & 3)) : VG_PF_ACC_ANY;
	__u32 nc = f->n;
	for (__u32 i = 0; i < VG_PF_CLAUSES; i++) {
		if (i >= nc)
			break;
		if (!(cand & (1u << i)))
			continue;
		const struct vg_pf_clause *c = &f->c[i & (VG_PF_CLAUSES - 1)];
		if (!(c->ret & rc) || !(c->acc & acc))
			continue;
		if (have_flags && (oflags & c->flags_all) != c->flags_all)
			continue;
		if (c->nonsimple && simple) {
			by_path = 1;
			continue;
		}
		if (c->tkind && tails_ok) {
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
			if (!found) {
				by_path = 1;
				continue;
			}
		}
		if (c->plen && simple && !vg_pf_prefix_ok(p, c)) {
			by_path = 1;
			continue;
		}
		return VG_PF_KEEP;
	}
	return by_path ? VG_PF_DROP_PATH : VG_PF_DROP;
}

/* A verdict cache (per CPU in the kernel): opens repeat their paths (a
 * program reading its configuration, a loop over the same file), and a
 * repeated (predicate, return class, flags, path) gets the verdict it got
 * last time from one hash and a compare of the path's words instead of
 * the clauses.  Exact: an entry holds the whole path (paths of at most
 * VG_PF_SCAN bytes only), so a collision of the hash only misses. */
#define VG_PF_VC 16
struct vg_pf_vc {
	__u32 gen; /* vg_pf_sc.gen of the predicate; 0: empty */
	__u32 oflags;
	__u16 n;      /* the path's length with its NUL */
	__u8 ctx;     /* the return class | have_flags << 4 */
	__u8 verdict; /* VG_PF_DROP, VG_PF_KEEP, VG_PF_DROP_PATH */
	__u32 pad;
	char path[VG_PF_SCAN] __attribute__((aligned(8))); /* words, zero after the NUL */
};

VG_PF_FN __u8 vg_pf_vc_ctx(__s64 ret, int have_flags)
{
	return (__u8)((ret < 0 ? VG_PF_RET_FAIL : VG_PF_RET_OK) | (have_flags ? 0x10 : 0));
}

/* Which entry of a cache of VG_PF_VC holds path p (n bytes with the NUL,
 * 2 <= n <= VG_PF_SCAN) for this context and flags. */
VG_PF_FN __u32 vg_pf_vc_slot(const char *p, __u32 n, __u8 ctx, __u32 oflags)
{
	__u64 h = ((__u64)oflags << 8 | ctx) * VG_PF_HMUL;
	__u32 nw = (n + 7) >> 3;
	for (__u32 w = 0; w < VG_PF_SCAN / 8; w++) {
		if (w >= nw)
			break;
		h = vg_pf_hstep(h, vg_pf_to_nul(vg_pf_word(p, w)));
	}
	return vg_pf_hend(h) & (VG_PF_VC - 1);
}

/* e's verdict for this predicate, context, flags and path; -1: none. */
VG_PF_FN int vg_pf_vc_get(const struct vg_pf_vc *e, __u32 gen, __u8 ctx, __u32 oflags,
			  const char *p, __u32 n)
{
	if (!gen || e->gen != gen || e->n != n || e->ctx != ctx || e->oflags != oflags)
		return -1;
	__u32 nw = (n + 7) >> 3;
	for (__u32 w = 0; w < VG_PF_SCAN / 8; w++) {
		if (w >= nw)
			break;
		if (vg_pf_word(e->path, w) != vg_pf_to_nul(vg_pf_word(p, w)))
			return -1;
	}
	return e->verdict;
}

VG_PF_FN void vg_pf_vc_put(struct vg_pf_vc *e, __u32 gen, __u8 ctx, __u32 oflags, const char *p,
			   __u32 n, int verdict)
{
	__u32 nw = (n + 7) >> 3;
	for (__u32 w = 0; w < VG_PF_SCAN / 8; w++) {
		if (w >= nw)
			break;
		__u64 v = vg_pf_to_nul(vg_pf_word(p, w));
		VG_PF_STORE64(&e->path[(w * 8) & (VG_PF_SCAN - 8)], v);
	}
	e->oflags = oflags;
	e->n = (__u16)n;
	e->ctx = ctx;
	e->verdict = (__u8)verdict;
	e->gen = gen;
}

/* vg_pf_keep through cache c (VG_PF_VC entries): the same answer. */
VG_PF_FN int vg_pf_keep_cached(struct vg_pf_vc *c, const struct vg_pf_sc *f, __s64 ret,
			       __u32 oflags, int have_flags, const char *p, __u32 n)
{
	if (n < 2 || n > VG_PF_SCAN || !f->gen)
		return vg_pf_keep(f, ret, oflags, have_flags, p, n);
	__u8 ctx = vg_pf_vc_ctx(ret, have_flags);
	if (!have_flags)
		oflags = 0;
	struct vg_pf_vc *e = &c[vg_pf_vc_slot(p, n, ctx, oflags) & (VG_PF_VC - 1)];
	int v = vg_pf_vc_get(e, f->gen, ctx, oflags, p, n);
	if (v >= 0)
		return v;
	v = vg_pf_keep(f, ret, oflags, have_flags, p, n);
	vg_pf_vc_put(e, f->gen, ctx, oflags, p, n, v);
	return v;
}

#endif
