/* fields_user.c - the thread.*, user.* and group.* fields: the calling
 * thread, its capabilities, its user and group; see fields.h.
 */
#include "argfmt.h"
#include "fields_int.h"

FN(f_thread_tid)
{
	vg_fvals_s64(out, ev->raw->h.tid);
}

FN(f_thread_ismain)
{
	put_bool(out, ev->raw->h.tid == ev->raw->h.pid);
}

static void caps(const struct vg_event *ev, struct vg_fvals *out, uint64_t v)
{
	if (!exec_known(P))
		return;
	char b[1024];
	size_t n = vg_caps_render(v, b, sizeof(b));
	vg_fvals_strcpy(out, b, n);
}

FN(f_thread_cap_effective)
{
	caps(ev, out, P->cap_eff);
}

FN(f_thread_cap_permitted)
{
	caps(ev, out, P->cap_perm);
}

FN(f_thread_cap_inheritable)
{
	caps(ev, out, P->cap_inh);
}

FN(f_user_uid)
{
	vg_fvals_u64(out, P->uid);
}

FN(f_user_name)
{
	put_str(out, P->user);
}

FN(f_user_homedir)
{
	if (ev->st)
		put_copy(out, vg_state_user_home(ev->st, P->uid));
}

FN(f_user_shell)
{
	if (ev->st)
		put_copy(out, vg_state_user_shell(ev->st, P->uid));
}

FN(f_user_loginuid)
{
	vg_fvals_s64(out, (int32_t)P->loginuid);
}

FN(f_user_loginname)
{
	put_str(out, P->loginname);
}

FN(f_group_gid)
{
	vg_fvals_u64(out, P->gid);
}

FN(f_group_name)
{
	put_str(out, P->group);
}

const struct vg_field vg_fields_user[] = {
	{"thread.tid", I, 0, f_thread_tid, "id of the thread that made the call"},
	{"thread.ismain", B, 0, f_thread_ismain, "the thread is the main thread of its process"},
	{"thread.cap_effective", S, 0, f_thread_cap_effective,
	 "effective capabilities, names separated by spaces"},
	{"thread.cap_permitted", S, 0, f_thread_cap_permitted,
	 "permitted capabilities, names separated by spaces"},
	{"thread.cap_inheritable", S, 0, f_thread_cap_inheritable,
	 "inheritable capabilities, names separated by spaces"},
	{"user.uid", U, 0, f_user_uid, "effective user id"},
	{"user.name", S, 0, f_user_name, "effective user name (\"\" when unknown)"},
	{"user.homedir", S, 0, f_user_homedir, "home directory of the effective user"},
	{"user.shell", S, 0, f_user_shell, "login shell of the effective user"},
	{"user.loginuid", I, 0, f_user_loginuid, "audit login user id, -1 when not set"},
	{"user.loginname", S, 0, f_user_loginname, "name of the audit login user"},
	{"group.gid", U, 0, f_group_gid, "effective group id"},
	{"group.name", S, 0, f_group_name, "effective group name (\"\" when unknown)"},
};

const size_t vg_fields_user_count = sizeof(vg_fields_user) / sizeof(vg_fields_user[0]);
