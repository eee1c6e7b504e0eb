/* evtype.c - event type names and the syscall description table.
 *
 * Both tables are built at compile time from VG_SYSCALLS, indexed by
 * syscall number, so name and description look-ups on the event path are
 * one array access.
 */
#include <stdint.h>
#include <string.h>

#include "event.h"

#define VG_ROW_NAME(name, nr, cat, p0, d0, p1, d1, sfd, sa, sal, xs, fdp, fl) [nr] = #name,
static const char *const sc_names[VG_NR_MAX] = {VG_SYSCALLS(VG_ROW_NAME)};
#undef VG_ROW_NAME

#define VG_ROW_DESC(name, nr, cat, p0, d0, p1, d1, sfd, sa, sal, xs, fdp, fl)                      \
	[nr] = {(cat), (p0), (d0), (p1), (d1), (sfd), (sa), (sal), (xs), (fdp), (fl), 0},
static const struct vg_sc_desc sc_descs[VG_NR_MAX] = {VG_SYSCALLS(VG_ROW_DESC)};
#undef VG_ROW_DESC

/* Pseudo types: "procexit" is Falco's name; the others never reach
 * syscall rules in Falco, so their names only need to be distinct. */
static const char *const pseudo_names[VG_T_MAX - VG_NR_MAX] = {
	[VG_T_PROCEXIT - VG_NR_MAX] = "procexit",
	[VG_T_PROCFORK - VG_NR_MAX] = "procfork",
	[VG_T_PROCSNAP - VG_NR_MAX] = "procsnap",
	[VG_T_AUDIT - VG_NR_MAX] = "k8s_audit",
};

const char *vg_evtype_name(int type)
{
	if (type >= 0 && type < VG_NR_MAX)
		return sc_names[type];
	if (type >= VG_NR_MAX && type < VG_T_MAX)
		return pseudo_names[type - VG_NR_MAX];
	return NULL;
}

int vg_evtype_by_name(const char *name)
{
	if (!name)
		return -1;
	for (int t = 0; t < VG_T_MAX; t++) {
		const char *n = vg_evtype_name(t);
		if (n && strcmp(n, name) == 0)
			return t;
	}
	return -1;
}

const struct vg_sc_desc *vg_syscall_desc(int nr)
{
	if (nr < 0 || nr >= VG_NR_MAX || sc_descs[nr].cat == VG_CAT_NONE)
		return NULL;
	return &sc_descs[nr];
}

int vg_evtype_cat(int type)
{
	if (type >= VG_NR_MAX && type < VG_T_MAX)
		return VG_CAT_PROC;
	const struct vg_sc_desc *d = vg_syscall_desc(type);
	return d ? d->cat : VG_CAT_NONE;
}
