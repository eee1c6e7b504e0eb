/* pfeval.h - the prefilter's table and its user-space evaluator.
 *
 * The engine computes a table from the rules (agent/engine/prefilter.c),
 * the capture pushes it into the kernel (vg_capture_set_prefilter), and the
 * tests run the very predicate the kernel runs (bpf/prefilter.h) on
 * records through vg_pf_rec_keep.
 */
#ifndef VIGIL_PFEVAL_H
#define VIGIL_PFEVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prefilter.h"
#include "vigil.h"

/* A namespace's predicate for one syscall: the cluster's rules and the
 * Rules of the namespaces of hash h (one, but for a collision).  The
 * kernel tests it instead of the whole one on the tasks of the cgroups the
 * agent found to be that namespace's pods. */
struct vg_pf_tpred {
	uint64_t h;  /* vg_pf_ns_hash of the namespace's name */
	uint32_t nr; /* the syscall */
	uint32_t pi; /* the predicate: struct vg_pf_table's tsc[pi] */
	char ns[64]; /* the namespace (the first of that hash), for descriptions */
};

struct vg_pf_table {
	uint8_t on[VG_NR_MAX]; /* 1: events of nr go through sc[nr]; 0: all are sent */
	struct vg_pf_sc sc[VG_NR_MAX];
	/* With on[nr], for the opens whose record carries the file's path
	 * (VG_SC_FDPATH): the predicate for any string that names a file,
	 * tested on the file's own path, which fd.name then is (a symlink, a
	 * relative path or one with "..": sc[nr]'s clauses that hold only on
	 * strings that are not simple, with their tests of fd.name).  The
	 * kernel's cache of verdicts per file (vg_sys_exit_cast) answers from
	 * it.  A syscall without one keeps every file (n 1, no test). */
	struct vg_pf_sc any[VG_NR_MAX];
	/* With on[nr]: the predicate of the rules that are not a namespaced
	 * Rule's (sc[nr] itself when sc[nr].nsplit is 0).  The kernel tests
	 * it instead of sc[nr] on the tasks of cgroups the agent found to be
	 * the host's or a pod's of a namespace with no Rule for nr. */
	struct vg_pf_sc narrow[VG_NR_MAX];
	/* With sc[nr].nsplit: each namespace with Rules for nr has its own
	 * predicate, tp[i].nr == nr (narrow[nr].tover when one did not fit);
	 * namespaces whose predicates are the same share one of tsc */
	uint32_t ntp, ntsc;
	struct vg_pf_tpred tp[VG_PF_TREFS];
	struct vg_pf_sc tsc[VG_PF_TPREDS];
};

/* A namespace name's hash (FNV-1a; 0 is never one: the kernel's list of
 * cgroups takes 0 for the host's).  A collision only takes a namespace's
 * Rules for another's too (their predicate is one, made of both). */
uint64_t vg_pf_ns_hash(const char *ns);
/* Namespace h's predicate for syscall nr in t; NULL: it has no Rules
 * for nr (narrow[nr] is its predicate, or sc[nr] with narrow[nr].tover). */
const struct vg_pf_sc *vg_pf_tpred_of(const struct vg_pf_table *t, uint64_t h, uint32_t nr);
/* Give namespace h (name ns) predicate f for syscall nr in t, shared with
 * any namespace's that is the same.  false: no room (the caller marks
 * narrow[nr].tover). */
bool vg_pf_tpred_add(struct vg_pf_table *t, uint64_t h, const char *ns, uint32_t nr,
		     const struct vg_pf_sc *f);

/* Every syscall sent (the prefilter off). */
void vg_pf_table_all(struct vg_pf_table *t);

/* Whether the kernel would send record r (a VG_K_SYSCALL record as the
 * capture delivers it; anything else is always sent).  The path is taken
 * from r's first path string, as the kernel read it. */
bool vg_pf_rec_keep(const struct vg_pf_table *t, const struct vg_rec *r);

/* Whether the kernel's cache per file would keep record r, a successful
 * open of the file whose own path is path (fd.name): t->any on it. */
bool vg_pf_rec_keep_any(const struct vg_pf_table *t, const struct vg_rec *r, const char *path);

/* The kernel's memory of the fds the state does not know (vg_pf_procs in
 * bpf/vigil.bpf.c), for runs of the predicate on recordings:
 * vg_pf_sim_keep() decides as the kernel does for every record, closes of
 * tracked fds included (fds below VG_PF_TFDS): a close it sends makes its
 * fd unknown, any record it sends that names an fd (a return of 0 or more,
 * the socket fd argument, a pipe's pair) makes that fd known again, and an
 * exec or exit forgets the process.  It takes the start-up scan for done
 * and no record for lost on the ring. */
struct vg_pf_sim {
	uint64_t *keys; /* pid << 32 | fd */
	size_t n, cap;
};
bool vg_pf_sim_keep(const struct vg_pf_table *t, struct vg_pf_sim *sim, const struct vg_rec *r);
void vg_pf_sim_free(struct vg_pf_sim *sim);

/* f's cmask from its clauses (and masked set): call after any change. */
void vg_pf_sc_masks(struct vg_pf_sc *f);

/* a := the smallest clause that holds wherever a or b does. */
void vg_pf_clause_join(struct vg_pf_clause *a, const struct vg_pf_clause *b);
/* Whether clause c holds only on paths that contain the slen bytes at sub
 * (its substring or its prefix holds them). */
bool vg_pf_clause_implies_sub(const struct vg_pf_clause *c, const char *sub, uint8_t slen);

/* t := a table that sends what a or t sends (the union, for a hot reload
 * that must drop nothing either rule set needs while they swap). */
void vg_pf_table_widen(struct vg_pf_table *t, const struct vg_pf_table *a);

/* f := a predicate that keeps every event (one clause, no test). */
void vg_pf_sc_keep_all(struct vg_pf_sc *f);

/* Counts for logs: syscalls filtered, and of them those dropped whole. */
void vg_pf_table_count(const struct vg_pf_table *t, int *filtered, int *dropped);

#endif
