/* event.h - a decoded event, as the engine and the outputs see it.
 *
 * Raw records (struct vg_rec, bpf/vigil.h) come from the kernel ring, from
 * a replayed capture file, or from the /proc snapshot.  The state module
 * (state.h) applies each record to the process and fd tables and fills a
 * struct vg_event; the engine reads fields from it (fields.h).
 *
 * Event types: a syscall's type is its number; the pseudo types below follow
 * the syscall numbers.  evt.type names are Falco's (the syscall name, and
 * "procexit" for a process exit).
 */
#ifndef VIGIL_EVENT_H
#define VIGIL_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "vigil.h"

enum vg_pseudo_type {
	VG_T_PROCEXIT = VG_NR_MAX, /* VG_K_EXIT */
	VG_T_PROCFORK,		   /* VG_K_FORK: a new process */
	VG_T_PROCSNAP,		   /* VG_K_PROC: a process seeded from /proc */
	VG_T_AUDIT,		   /* a Kubernetes audit event (source k8s_audit, kaudit.h) */
	VG_T_MAX,
};

/* Syscall numbers by name: VG_NR_openat, VG_NR_execve, ... */
#define VG_NR_ROW(name, nr, ...) VG_NR_##name = (nr),
enum vg_nr { VG_SYSCALLS(VG_NR_ROW) };
#undef VG_NR_ROW

struct vg_proc;	 /* state.h */
struct vg_fd;	 /* state.h */
struct vg_state; /* state.h */

struct vg_event {
	const struct vg_rec *raw; /* the record; valid while the event is */
	const char *str[VG_NSTR]; /* raw string slots, NULL when absent */
	uint32_t slen[VG_NSTR];	  /* their lengths without the NUL */

	uint64_t ts;	  /* wall clock, ns since the epoch */
	uint64_t num;	  /* sequence number (evt.num) */
	int type;	  /* syscall number or enum vg_pseudo_type */
	const char *name; /* evt.type */

	/* Absolute, normalised paths ("/a/./b/../c" -> "/a/c"); NULL if none */
	const char *path;  /* from VG_S_PATH0 (+ VG_S_BASE0 or cwd) */
	const char *path2; /* from VG_S_PATH1 */

	int64_t fd;		 /* the fd the event is about, -1 when none */
	struct vg_proc *proc;	 /* the process, state after the event; never NULL */
	struct vg_state *st;	 /* the state the event was decoded by (ancestors, fds) */
	const struct vg_fd *fdi; /* fd-table entry for fd, NULL when unknown */

	char buf[2][VG_STR_MAX]; /* storage for path and path2 */
};

/* Event type names: syscall names from VG_SYSCALLS and the pseudo types.
 * vg_evtype_by_name() returns -1 for an unknown name. */
const char *vg_evtype_name(int type);
int vg_evtype_by_name(const char *name);
/* The row of VG_SYSCALLS for nr, NULL when vigil does not know nr. */
const struct vg_sc_desc *vg_syscall_desc(int nr);
/* Category of an event type (enum vg_cat). */
int vg_evtype_cat(int type);

#endif
