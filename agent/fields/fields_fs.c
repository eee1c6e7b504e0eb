/* fields_fs.c - the fs.path.* fields: the paths a file call works on;
 * see fields.h.
 */
#include "fields_int.h"

/* The role of the event's paths (the registry row's): calls with a
 * source and a target (rename, link, symlink) fill fs.path.source/target,
 * the other path calls fs.path.name; exec and mount none. */
static int path_role(const struct vg_event *ev)
{
	if (ev->raw->h.kind != VG_K_SYSCALL)
		return VG_PATHS_NONE;
	const struct vg_sysreg *row = vg_sysreg(ev->type);
	return row ? row->paths : VG_PATHS_NONE;
}

FN(f_fs_path_name)
{
	if (path_role(ev) == VG_PATHS_NAME)
		put_str(out, ev->path);
}

FN(f_fs_path_nameraw)
{
	if (path_role(ev) == VG_PATHS_NAME)
		put_str(out, ev->str[VG_S_PATH0]);
}

FN(f_fs_path_source)
{
	int role = path_role(ev);
	if (role != VG_PATHS_MOVE && role != VG_PATHS_LINK)
		return;
	put_str(out, role == VG_PATHS_LINK ? ev->str[VG_S_XSTR] : ev->path);
}

FN(f_fs_path_sourceraw)
{
	int role = path_role(ev);
	if (role != VG_PATHS_MOVE && role != VG_PATHS_LINK)
		return;
	put_str(out, role == VG_PATHS_LINK ? ev->str[VG_S_XSTR] : ev->str[VG_S_PATH0]);
}

FN(f_fs_path_target)
{
	int role = path_role(ev);
	if (role != VG_PATHS_MOVE && role != VG_PATHS_LINK)
		return;
	put_str(out, role == VG_PATHS_LINK ? ev->path : ev->path2);
}

FN(f_fs_path_targetraw)
{
	int role = path_role(ev);
	if (role != VG_PATHS_MOVE && role != VG_PATHS_LINK)
		return;
	put_str(out, role == VG_PATHS_LINK ? ev->str[VG_S_PATH0] : ev->str[VG_S_PATH1]);
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
