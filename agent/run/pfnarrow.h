/* pfnarrow.h - which cgroups the kernel may filter with predicates
 * without other namespaces' Rules (struct vg_pf_table's narrow and tp).
 *
 * A namespaced Rule only runs on events of pods of its namespace
 * (engine.h, tenancy), yet its clauses widen the kernel's whole predicate
 * for every task.  The kernel tests a narrower one on the tasks of the
 * cgroups placed here (bpf/vigil.bpf.c, vg_pf_ncg): the host's get the
 * cluster's rules' predicate, a pod's its namespace's (the cluster's rules
 * and its Rules; the cluster's where it has none).  A cgroup is placed only
 * once its records say which it is; a pod's whose metadata is not known
 * yet is not (it gets every rule's predicate).  What a namespace's Rules
 * are is the kernel's predicates' to say, written with them, so no Rule
 * set change touches the list.
 *
 * One thread, the capture thread's (vg_pfn_note, vg_pfn_exec). */
#ifndef VIGIL_PFNARROW_H
#define VIGIL_PFNARROW_H

#include <stdbool.h>
#include <stdint.h>

struct vg_capture;
struct vg_pfn;

struct vg_pfn *vg_pfn_new(struct vg_capture *cap);
void vg_pfn_free(struct vg_pfn *n);

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
