/* pfnarrow.h - which cgroups the kernel may filter with the prefilter's
 * predicates without namespaced Rules (struct vg_pf_table's narrow).
 *
 * A namespaced Rule only runs on events of pods of its namespace
 * (engine.h, tenancy), yet its clauses widen the kernel's predicate for
 * every task.  The kernel tests the predicate without them on the tasks of
 * the cgroups listed here (bpf/vigil.bpf.c, vg_pf_ncg): the host's, and
 * the pods' of namespaces that have no Rule.  A cgroup is listed only once
 * its records say which it is; a pod's whose metadata is not known yet is
 * not (it gets every rule's predicate).
 *
 * Two threads: the reload worker hands over the namespaces with Rules of
 * each table it writes (vg_pfn_tenants; widened before a swap, so a new
 * namespace is in it before its Rules are armed: the kernel's list is
 * cleared then), the capture thread notes each record's cgroup
 * (vg_pfn_note).  One lock orders a note's check and write against a
 * clear. */
#ifndef VIGIL_PFNARROW_H
#define VIGIL_PFNARROW_H

#include <stdbool.h>
#include <stdint.h>

struct vg_capture;
struct vg_pf_table;
struct vg_pfn;

struct vg_pfn *vg_pfn_new(struct vg_capture *cap);
void vg_pfn_free(struct vg_pfn *n);

/* The namespaces with Rules are now t's (reload worker, or the caller
 * before the worker starts). */
void vg_pfn_tenants(struct vg_pfn *n, const struct vg_pf_table *t);

/* Capture thread.  Whether cgroup cg needs no note (decided since the
 * kernel's list was last cleared); ts: the record's time (boot ns). */
bool vg_pfn_decided(struct vg_pfn *n, uint64_t cg, uint64_t ts);
/* Note cgroup cg: a host process's (host), or a pod's of namespace ns
 * (NULL: not known yet, asked again at its next record). */
void vg_pfn_note(struct vg_pfn *n, uint64_t cg, bool host, const char *ns);

/* Every exec record (and every process the start-up scan found): cgroup cg's tasks are container
 * cid's ("host" or 12 hex, from the record's cgroup path).  A record's cgroup id is the task's v2
 * cgroup's and its path the v1 cpu hierarchy's where the host has one; where a runtime leaves a
 * container's tasks in a v2 cgroup the host shares, one id names two containers: such a cgroup
 * leaves the kernel's list and is never listed again. */
void vg_pfn_exec(struct vg_pfn *n, uint64_t cg, const char *cid);

#endif
