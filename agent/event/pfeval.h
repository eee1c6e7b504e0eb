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
#include <stdint.h>

#include "prefilter.h"
#include "vigil.h"

struct vg_pf_table {
	uint8_t on[VG_NR_MAX]; /* 1: events of nr go through sc[nr]; 0: all are sent */
	struct vg_pf_sc sc[VG_NR_MAX];
};

/* Every syscall sent (the prefilter off). */
void vg_pf_table_all(struct vg_pf_table *t);

/* Whether the kernel would send record r (a VG_K_SYSCALL record as the
 * capture delivers it; anything else is always sent).  The path is taken
 * from r's first path string, as the kernel read it. */
bool vg_pf_rec_keep(const struct vg_pf_table *t, const struct vg_rec *r);

/* t := a table that sends what a or t sends (the union, for a hot reload
 * that must drop nothing either rule set needs while they swap). */
void vg_pf_table_widen(struct vg_pf_table *t, const struct vg_pf_table *a);

/* Counts for logs: syscalls filtered, and of them those dropped whole. */
void vg_pf_table_count(const struct vg_pf_table *t, int *filtered, int *dropped);

#endif
