/* fields_fs.c - the fs.path.* fields: the paths a file call works on;
 * see fields.h.
 */
#include "fields_int.h"

/* Calls with a source and a target (rename, link, symlink) fill
 * fs.path.source/target; the other path calls fill fs.path.name. */
static bool two_paths(int type)
{
	switch (type) {
	case VG_NR_rename:
	case VG_NR_renameat:
	case VG_NR_renameat2:
	case VG_NR_link:
	case VG_NR_linkat:
	case VG_NR_symlink:
	case VG_NR_symlinkat:
		return true;
	}
	return false;
}

static bool is_symlink(int type)
{
	return type == VG_NR_symlink || type == VG_NR_symlinkat;
}

static bool path_call(const struct vg_event *ev)
{
	if (ev->raw->h.kind != VG_K_SYSCALL)
		return false;
	const struct vg_sc_desc *d = vg_syscall_desc(ev->type);
	return d && d->p0 >= 0 && !(d->flags & (VG_SC_EXEC | VG_SC_P0RAW)) &&
	       ev->type != VG_NR_mount;
}

FN(f_fs_path_name)
{
	if (path_call(ev) && !two_paths(ev->type))
		put_str(out, ev->path);
}

FN(f_fs_path_nameraw)
{
	if (path_call(ev) && !two_paths(ev->type))
		put_str(out, ev->str[VG_S_PATH0]);
}

FN(f_fs_path_source)
{
	if (!path_call(ev) || !two_paths(ev->type))
		return;
	put_str(out, is_symlink(ev->type) ? ev->str[VG_S_XSTR] : ev->path);
}

FN(f_fs_path_sourceraw)
{
	if (!path_call(ev) || !two_paths(ev->type))
		return;
	put_str(out, is_symlink(ev->type) ? ev->str[VG_S_XSTR] : ev->str[VG_S_PATH0]);
}

FN(f_fs_path_target)
{
	if (!path_call(ev) || !two_paths(ev->type))
		return;
	put_str(out, is_symlink(ev->type) ? ev->path : ev->path2);
}

FN(f_fs_path_targetraw)
{
	if (!path_call(ev) || !two_paths(ev->type))
		return;
	put_str(out, is_symlink(ev->type) ? ev->str[VG_S_PATH0] : ev->str[VG_S_PATH1]);
}

const struct vg_field vg_fields_fs[] = {
	{"fs.path.name", S, 0, f_fs_path_name, "absolute path a single-path file call works on"},
	{"fs.path.nameraw", S, 0, f_fs_path_nameraw, "that path as the call passed it"},
	{"fs.path.source", S, 0, f_fs_path_source,
	 "source of a rename, link or symlink (absolute except a symlink target)"},
	{"fs.path.sourceraw", S, 0, f_fs_path_sourceraw, "that source as the call passed it"},
	{"fs.path.target", S, 0, f_fs_path_target,
	 "absolute target path of a rename, link or symlink"},
	{"fs.path.targetraw", S, 0, f_fs_path_targetraw, "that target as the call passed it"},
};

const size_t vg_fields_fs_count = sizeof(vg_fields_fs) / sizeof(vg_fields_fs[0]);
