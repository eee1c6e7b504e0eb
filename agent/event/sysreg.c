/* sysreg.c - the syscall registry; see sysreg.h.
 *
 * Parameter lists follow Falco's exit events (which, in current Falco,
 * carry the call's arguments too), limited to what a vigil record holds.
 * Flag names are the kernel's (O_CREAT, S_ISUID...).
 */
#include <stdbool.h>
#include <string.h>

#include "sysreg.h"

#define PS(...)                                                                                    \
	(const struct vg_param[]){__VA_ARGS__},                                                    \
		sizeof((const struct vg_param[]){__VA_ARGS__}) / sizeof(struct vg_param)

/* One row: PS(parameters...), VG_SR_* flags, state handler family, path
 * role, open source, then the argument indexes (-1: none) of the open
 * flags, the mode, the new effective id and the O_CLOEXEC flags. */
#define ROW(ps, flags, apply, paths, open, flags_arg, mode_arg, id_arg, cloexec_arg)               \
	{                                                                                          \
		ps, flags, apply, open, flags_arg, mode_arg, id_arg, cloexec_arg, paths            \
	}

#define RES                                                                                        \
	{                                                                                          \
		"res", VG_P_RES, 0                                                                 \
	}
#define FD0                                                                                        \
	{                                                                                          \
		"fd", VG_P_FD, 0                                                                   \
	}

/* Parameters of a live exec and of the clone family (the child's view). */
#define EXEC_PARAMS                                                                                \
	RES, {"exe", VG_P_EXE, 0}, {"args", VG_P_ARGS, 0}, {"tid", VG_P_TID, 0},                   \
		{"pid", VG_P_HPID, 0}, {"ptid", VG_P_PTID, 0}, {"cwd", VG_P_CWD, 0},               \
		{"comm", VG_P_COMM, 0}, {"env", VG_P_ENV, 0}, {"tty", VG_P_TTY, 0},                \
		{"pgid", VG_P_PGID, 0}, {"loginuid", VG_P_LOGINUID, 0},                            \
		{"flags", VG_P_EXEFLAGS, 0}, {"cap_inheritable", VG_P_CAPINH, 0},                  \
		{"cap_permitted", VG_P_CAPPERM, 0}, {"cap_effective", VG_P_CAPEFF, 0},             \
		{"exe_ino", VG_P_EXEINO, 0}, {"exe_ino_ctime", VG_P_EXECTIME, 0},                  \
		{"exe_ino_mtime", VG_P_EXEMTIME, 0}, {"uid", VG_P_HUID, 0},                        \
		{"trusted_exepath", VG_P_EXEPATH, 0}, {"gid", VG_P_HGID, 0},                       \
	{                                                                                          \
		"filename", VG_P_FILENAME, 0                                                       \
	}

#define CLONE_PARAMS                                                                               \
	{"res", VG_P_RETINT, 0}, {"exe", VG_P_EXE, 0}, {"args", VG_P_ARGS, 0},                     \
		{"tid", VG_P_TID, 0}, {"pid", VG_P_HPID, 0}, {"ptid", VG_P_PTID, 0},               \
		{"cwd", VG_P_CWD, 0}, {"uid", VG_P_HUID, 0},                                       \
	{                                                                                          \
		"gid", VG_P_HGID, 0                                                                \
	}

/* A pseudo event: parameters only. */
#define PSEUDO(...) ROW(PS(__VA_ARGS__), 0, VG_SA_NONE, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1)

const struct vg_sysreg vg_sysreg_rows[VG_SR_ROWS] = {
	[VG_NR_open] = ROW(PS({"fd", VG_P_FDRET, 0}, {"name", VG_P_PATH0, 0},
			      {"flags", VG_P_OFLAGS, 0}, {"mode", VG_P_OMODE, 0}),
			   VG_SR_STATE, VG_SA_OPEN, VG_PATHS_NAME, VG_OPEN_ARGS, 1, 2, -1, -1),
	[VG_NR_openat] =
		ROW(PS({"fd", VG_P_FDRET, 0}, {"dirfd", VG_P_DIRFD, 0}, {"name", VG_P_PATH0, 0},
		       {"flags", VG_P_OFLAGS, 0}, {"mode", VG_P_OMODE, 0}),
		    VG_SR_STATE, VG_SA_OPEN, VG_PATHS_NAME, VG_OPEN_ARGS, 2, 3, -1, -1),
	/* the kernel reports a successful call as openat (VG_SC_ASOPENAT):
	 * this row is what a record of the call itself would mean */
	[VG_NR_open_by_handle_at] =
		ROW(PS({"fd", VG_P_FDRET, 0}, {"mountfd", VG_P_FD, 0}, {"flags", VG_P_OFLAGS, 0}),
		    VG_SR_STATE, VG_SA_OPEN, VG_PATHS_NONE, VG_OPEN_ARGS, 2, -1, -1, -1),
	[VG_NR_openat2] =
		ROW(PS({"fd", VG_P_FDRET, 0}, {"dirfd", VG_P_DIRFD, 0}, {"name", VG_P_PATH0, 0},
		       {"flags", VG_P_OFLAGS, 0}, {"mode", VG_P_OMODE, 0}),
		    VG_SR_STATE, VG_SA_OPEN, VG_PATHS_NAME, VG_OPEN_HOW, -1, -1, -1, -1),
	[VG_NR_creat] =
		ROW(PS({"fd", VG_P_FDRET, 0}, {"name", VG_P_PATH0, 0}, {"mode", VG_P_MODE, 1}),
		    VG_SR_STATE, VG_SA_OPEN, VG_PATHS_NAME, VG_OPEN_CREAT, -1, 1, -1, -1),
	[VG_NR_close] = ROW(PS(RES, FD0), VG_SR_STATE, VG_SA_CLOSE, VG_PATHS_NONE, VG_OPEN_NONE, -1,
			    -1, -1, -1),
	[VG_NR_pipe] = ROW(PS(RES, {"fd1", VG_P_FD1, 0}, {"fd2", VG_P_FD2, 0}), VG_SR_STATE,
			   VG_SA_PIPE, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_pipe2] =
		ROW(PS(RES, {"fd1", VG_P_FD1, 0}, {"fd2", VG_P_FD2, 0}, {"flags", VG_P_FLAGS_O, 1}),
		    VG_SR_STATE, VG_SA_PIPE, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, 1),
	[VG_NR_dup] = ROW(PS({"res", VG_P_FDRET, 0}, {"oldfd", VG_P_FD, 0}), VG_SR_STATE, VG_SA_DUP,
			  VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_dup2] = ROW(PS({"res", VG_P_FDRET, 0}, {"oldfd", VG_P_FD, 0}, {"newfd", VG_P_FD, 1}),
			   VG_SR_STATE, VG_SA_DUP, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_dup3] = ROW(PS({"res", VG_P_FDRET, 0}, {"oldfd", VG_P_FD, 0}, {"newfd", VG_P_FD, 1},
			      {"flags", VG_P_FLAGS_O, 2}),
			   VG_SR_STATE, VG_SA_DUP, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, 2),
	[VG_NR_socket] = ROW(PS({"fd", VG_P_FDRET, 0}, {"domain", VG_P_DOMAIN, 0},
				{"type", VG_P_UINT, 1}, {"proto", VG_P_UINT, 2}),
			     VG_SR_STATE, VG_SA_SOCKET, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, 1),
	[VG_NR_connect] =
		ROW(PS(RES, {"tuple", VG_P_TUPLE, 0}, FD0, {"addr", VG_P_PEER, 0}), VG_SR_STATE,
		    VG_SA_CONNECT, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_accept] = ROW(PS({"fd", VG_P_FDRET, 0}, {"tuple", VG_P_TUPLE, 0}), VG_SR_STATE,
			     VG_SA_ACCEPT, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_accept4] =
		ROW(PS({"fd", VG_P_FDRET, 0}, {"tuple", VG_P_TUPLE, 0}, {"flags", VG_P_INT, 3}),
		    VG_SR_STATE, VG_SA_ACCEPT, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, 3),
	[VG_NR_sendto] = ROW(PS(RES, FD0, {"size", VG_P_UINT, 2}, {"tuple", VG_P_TUPLE, 0}), 0,
			     VG_SA_SEND, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_recvfrom] = ROW(PS(RES, FD0, {"size", VG_P_UINT, 2}, {"tuple", VG_P_TUPLE, 0}), 0,
			       VG_SA_RECV, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_sendmsg] = ROW(PS(RES, FD0, {"tuple", VG_P_TUPLE, 0}), 0, VG_SA_SEND, VG_PATHS_NONE,
			      VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_recvmsg] = ROW(PS(RES, FD0, {"tuple", VG_P_TUPLE, 0}), 0, VG_SA_RECV, VG_PATHS_NONE,
			      VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_bind] = ROW(PS(RES, {"addr", VG_P_SOCKADDR, 0}, FD0), VG_SR_STATE, VG_SA_BIND,
			   VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_listen] = ROW(PS(RES, FD0, {"backlog", VG_P_INT, 1}), 0, VG_SA_BIND, VG_PATHS_NONE,
			     VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_socketpair] =
		ROW(PS(RES, {"fd1", VG_P_FD1, 0}, {"fd2", VG_P_FD2, 0}, {"domain", VG_P_DOMAIN, 0},
		       {"type", VG_P_UINT, 1}, {"proto", VG_P_UINT, 2}),
		    VG_SR_STATE, VG_SA_SOCKETPAIR, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, 1),
	[VG_NR_clone] = ROW(PS(CLONE_PARAMS, {"flags", VG_P_NSFLAGS, 0}), VG_SR_STATE, VG_SA_CLONE,
			    VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_fork] = ROW(PS(CLONE_PARAMS), VG_SR_STATE, VG_SA_CLONE, VG_PATHS_NONE, VG_OPEN_NONE,
			   -1, -1, -1, -1),
	[VG_NR_vfork] = ROW(PS(CLONE_PARAMS), VG_SR_STATE, VG_SA_CLONE, VG_PATHS_NONE, VG_OPEN_NONE,
			    -1, -1, -1, -1),
	[VG_NR_clone3] = ROW(PS(CLONE_PARAMS), VG_SR_STATE, VG_SA_NONE, VG_PATHS_NONE, VG_OPEN_NONE,
			     -1, -1, -1, -1),
	[VG_NR_execve] = ROW(PS(RES, {"filename", VG_P_PATH0, 0}), VG_SR_STATE, VG_SA_NONE,
			     VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_execveat] =
		ROW(PS(RES, {"dirfd", VG_P_DIRFD, 0}, {"pathname", VG_P_PATH0, 0},
		       {"flags", VG_P_ATFLAGS, 4}),
		    VG_SR_STATE, VG_SA_NONE, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_kill] = ROW(PS(RES, {"pid", VG_P_PID, 0}, {"sig", VG_P_SIG, 1}), 0, VG_SA_NONE,
			   VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_chdir] = ROW(PS(RES, {"path", VG_P_PATH0, 0}), VG_SR_STATE, VG_SA_CHDIR,
			    VG_PATHS_NAME, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_fchdir] = ROW(PS(RES, FD0), VG_SR_STATE, VG_SA_FCHDIR, VG_PATHS_NONE, VG_OPEN_NONE,
			     -1, -1, -1, -1),
	[VG_NR_rename] = ROW(PS(RES, {"oldpath", VG_P_PATH0, 0}, {"newpath", VG_P_PATH1, 0}), 0,
			     VG_SA_NONE, VG_PATHS_MOVE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_renameat] = ROW(PS(RES, {"olddirfd", VG_P_DIRFD, 0}, {"oldpath", VG_P_PATH0, 0},
				  {"newdirfd", VG_P_DIRFD, 2}, {"newpath", VG_P_PATH1, 0}),
			       0, VG_SA_NONE, VG_PATHS_MOVE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_renameat2] = ROW(PS(RES, {"olddirfd", VG_P_DIRFD, 0}, {"oldpath", VG_P_PATH0, 0},
				   {"newdirfd", VG_P_DIRFD, 2}, {"newpath", VG_P_PATH1, 0},
				   {"flags", VG_P_UINT, 4}),
				0, VG_SA_NONE, VG_PATHS_MOVE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_mkdir] = ROW(PS(RES, {"path", VG_P_PATH0, 0}, {"mode", VG_P_MODE, 1}), 0, VG_SA_NONE,
			    VG_PATHS_NAME, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_mkdirat] = ROW(
		PS(RES, {"dirfd", VG_P_DIRFD, 0}, {"path", VG_P_PATH0, 0}, {"mode", VG_P_MODE, 2}),
		0, VG_SA_NONE, VG_PATHS_NAME, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_rmdir] = ROW(PS(RES, {"path", VG_P_PATH0, 0}), 0, VG_SA_NONE, VG_PATHS_NAME,
			    VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_link] = ROW(PS(RES, {"oldpath", VG_P_PATH0, 0}, {"newpath", VG_P_PATH1, 0}), 0,
			   VG_SA_NONE, VG_PATHS_MOVE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_linkat] = ROW(PS(RES, {"olddir", VG_P_DIRFD, 0}, {"oldpath", VG_P_PATH0, 0},
				{"newdir", VG_P_DIRFD, 2}, {"newpath", VG_P_PATH1, 0},
				{"flags", VG_P_ATFLAGS, 4}),
			     0, VG_SA_NONE, VG_PATHS_MOVE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_unlink] = ROW(PS(RES, {"path", VG_P_PATH0, 0}), 0, VG_SA_NONE, VG_PATHS_NAME,
			     VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_unlinkat] = ROW(PS(RES, {"dirfd", VG_P_DIRFD, 0}, {"name", VG_P_PATH0, 0},
				  {"flags", VG_P_ATFLAGS, 2}),
			       0, VG_SA_NONE, VG_PATHS_NAME, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_symlink] = ROW(PS(RES, {"target", VG_P_XSTR, 0}, {"linkpath", VG_P_PATH0, 0}), 0,
			      VG_SA_NONE, VG_PATHS_LINK, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_symlinkat] = ROW(PS(RES, {"target", VG_P_XSTR, 0}, {"linkdirfd", VG_P_DIRFD, 1},
				   {"linkpath", VG_P_PATH0, 0}),
				0, VG_SA_NONE, VG_PATHS_LINK, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_chmod] = ROW(PS(RES, {"filename", VG_P_PATH0, 0}, {"mode", VG_P_MODE, 1}), 0,
			    VG_SA_NONE, VG_PATHS_NAME, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_fchmod] = ROW(PS(RES, FD0, {"mode", VG_P_MODE, 1}), 0, VG_SA_FDARG, VG_PATHS_NAME,
			     VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_fchmodat] = ROW(PS(RES, {"dirfd", VG_P_DIRFD, 0}, {"filename", VG_P_PATH0, 0},
				  {"mode", VG_P_MODE, 2}),
			       0, VG_SA_NONE, VG_PATHS_NAME, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_ptrace] = ROW(PS(RES, {"request", VG_P_PTRACE, 0}, {"pid", VG_P_PID, 1},
				{"addr", VG_P_HEX, 2}, {"data", VG_P_HEX, 3}),
			     0, VG_SA_NONE, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_setuid] = ROW(PS(RES, {"uid", VG_P_UID, 0}), VG_SR_STATE, VG_SA_SETUID,
			     VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, 0, -1),
	[VG_NR_setgid] = ROW(PS(RES, {"gid", VG_P_GID, 0}), VG_SR_STATE, VG_SA_SETGID,
			     VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, 0, -1),
	[VG_NR_setreuid] = ROW(PS(RES, {"ruid", VG_P_UID, 0}, {"euid", VG_P_UID, 1}), VG_SR_STATE,
			       VG_SA_SETUID, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, 1, -1),
	[VG_NR_setregid] = ROW(PS(RES, {"rgid", VG_P_GID, 0}, {"egid", VG_P_GID, 1}), VG_SR_STATE,
			       VG_SA_SETGID, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, 1, -1),
	[VG_NR_setresuid] =
		ROW(PS(RES, {"ruid", VG_P_UID, 0}, {"euid", VG_P_UID, 1}, {"suid", VG_P_UID, 2}),
		    VG_SR_STATE, VG_SA_SETUID, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, 1, -1),
	[VG_NR_setresgid] =
		ROW(PS(RES, {"rgid", VG_P_GID, 0}, {"egid", VG_P_GID, 1}, {"sgid", VG_P_GID, 2}),
		    VG_SR_STATE, VG_SA_SETGID, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, 1, -1),
	[VG_NR_capset] =
		ROW(PS(RES), VG_SR_STATE, VG_SA_NONE, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_prctl] = ROW(PS(RES, {"option", VG_P_PRCTL, 0}, {"arg2_int", VG_P_INT, 1}), 0,
			    VG_SA_NONE, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_chroot] = ROW(PS(RES, {"path", VG_P_PATH0, 0}), VG_SR_STATE, VG_SA_NONE,
			     VG_PATHS_NAME, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_mount] = ROW(PS(RES, {"dev", VG_P_PATH1, 0}, {"dir", VG_P_PATH0, 0},
			       {"type", VG_P_XSTR, 0}, {"flags", VG_P_HEX, 3}),
			    0, VG_SA_NONE, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_umount2] = ROW(PS(RES, {"name", VG_P_PATH0, 0}, {"flags", VG_P_INT, 1}), 0,
			      VG_SA_NONE, VG_PATHS_NAME, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_init_module] = ROW(PS(RES, {"length", VG_P_UINT, 1}, {"uargs", VG_P_XSTR, 0}), 0,
				  VG_SA_NONE, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_finit_module] = ROW(PS(RES, FD0, {"uargs", VG_P_XSTR, 0}, {"flags", VG_P_INT, 2}), 0,
				   VG_SA_FDARG, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_unshare] = ROW(PS(RES, {"flags", VG_P_NSFLAGS, 0}), 0, VG_SA_NONE, VG_PATHS_NONE,
			      VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_setns] = ROW(PS(RES, FD0, {"nstype", VG_P_NSFLAGS, 1}), 0, VG_SA_FDARG,
			    VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_memfd_create] =
		ROW(PS({"fd", VG_P_FDRET, 0}, {"name", VG_P_XSTR, 0}, {"flags", VG_P_MFDFLAGS, 1}),
		    VG_SR_STATE, VG_SA_MEMFD, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_bpf] = ROW(PS({"res_or_fd", VG_P_RES, 0}, {"cmd", VG_P_BPFCMD, 0}), 0, VG_SA_NONE,
			  VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	/* io_uring: the ring itself; the operations it then performs reach
	 * the rules as openat/connect/accept4 with evt.via = io_uring */
	[VG_NR_io_uring_setup] = ROW(PS(RES, {"entries", VG_P_UINT, 0}), 0, VG_SA_NONE,
				     VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_io_uring_register] =
		ROW(PS(RES, FD0, {"opcode", VG_P_UINT, 1}, {"nr_args", VG_P_UINT, 3}), 0,
		    VG_SA_NONE, VG_PATHS_NONE, VG_OPEN_NONE, -1, -1, -1, -1),
	[VG_NR_userfaultfd] = ROW(PS(RES, {"flags", VG_P_FLAGS_O, 0}), 0, VG_SA_NONE, VG_PATHS_NONE,
				  VG_OPEN_NONE, -1, -1, -1, -1),

	[VG_T_PROCEXIT] = PSEUDO({"status", VG_P_RETINT, 0}, {"ret", VG_P_RETINT, 0}),
	[VG_T_PROCFORK] = PSEUDO(CLONE_PARAMS),
	[VG_T_PROCSNAP] = PSEUDO(EXEC_PARAMS),
	[VG_SR_EXEC] = PSEUDO(EXEC_PARAMS),
};

const struct vg_sysreg *vg_sysreg_rec(const struct vg_rec *r, int type)
{
	switch (r->h.kind) {
	case VG_K_SYSCALL:
		return type >= 0 && type < VG_NR_MAX && vg_sysreg_rows[type].params
			       ? &vg_sysreg_rows[type]
			       : NULL;
	case VG_K_EXEC:
		return &vg_sysreg_rows[VG_SR_EXEC];
	case VG_K_PROC:
		return &vg_sysreg_rows[VG_T_PROCSNAP];
	case VG_K_FORK:
		return &vg_sysreg_rows[VG_T_PROCFORK];
	case VG_K_EXIT:
		return &vg_sysreg_rows[VG_T_PROCEXIT];
	}
	return NULL;
}

const struct vg_sysreg *vg_sysreg_at(int i)
{
	return i >= 0 && i < VG_SR_ROWS && vg_sysreg_rows[i].params ? &vg_sysreg_rows[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* open flags and mode                                                 */

uint32_t vg_open_flags(const struct vg_sysreg *row, const struct vg_rec *r)
{
	switch (row->open) {
	case VG_OPEN_ARGS:
		return (uint32_t)r->arg[row->flags_arg];
	case VG_OPEN_HOW:
		return r->h.flags & VG_F_OPENHOW ? (uint32_t)r->aux[0] : 0;
	case VG_OPEN_CREAT:
		return VG_O_WRONLY | VG_O_CREAT | VG_O_TRUNC;
	}
	return 0;
}

uint32_t vg_open_mode(const struct vg_sysreg *row, const struct vg_rec *r)
{
	switch (row->open) {
	case VG_OPEN_ARGS:
	case VG_OPEN_CREAT:
		return row->mode_arg >= 0 ? (uint32_t)r->arg[row->mode_arg] : 0;
	case VG_OPEN_HOW:
		return r->h.flags & VG_F_OPENHOW ? (uint32_t)r->aux[1] : 0;
	}
	return 0;
}

struct fname {
	uint32_t v;
	const char *n;
};

static const struct fname oflags[] = {
	{01, "O_WRONLY"},	  {02, "O_RDWR"},
	{0100, "O_CREAT"},	  {0200, "O_EXCL"},
	{0400, "O_NOCTTY"},	  {01000, "O_TRUNC"},
	{02000, "O_APPEND"},	  {04000, "O_NONBLOCK"},
	{010000, "O_DSYNC"},	  {020000, "FASYNC"},
	{040000, "O_DIRECT"},	  {0100000, "O_LARGEFILE"},
	{0200000, "O_DIRECTORY"}, {0400000, "O_NOFOLLOW"},
	{01000000, "O_NOATIME"},  {02000000, "O_CLOEXEC"},
	{04010000, "O_SYNC"},	  {010000000, "O_PATH"},
	{020200000, "O_TMPFILE"}, {0, NULL},
};

static const struct fname modebits[] = {
	{04000, "S_ISUID"}, {02000, "S_ISGID"}, {01000, "S_ISVTX"}, {0400, "S_IRUSR"},
	{0200, "S_IWUSR"},  {0100, "S_IXUSR"},	{040, "S_IRGRP"},   {020, "S_IWGRP"},
	{010, "S_IXGRP"},   {04, "S_IROTH"},	{02, "S_IWOTH"},    {01, "S_IXOTH"},
	{0, NULL},
};

/* Append s to out (length *n), after '|' when not first.  Byte by byte:
 * names are short, and strlen + memcpy calls for each flag cost more than
 * the copy (flags are rendered on every open a rule tests them on). */
static void put(char *out, size_t cap, size_t *n, const char *s)
{
	if (cap == 0 || *n + 1 >= cap)
		return;
	size_t i = *n;
	if (i && i + 1 < cap)
		out[i++] = '|';
	for (; *s && i + 1 < cap; s++)
		out[i++] = *s;
	out[i] = '\0';
	*n = i;
}

static size_t bits_render(const struct fname *t, uint32_t v, char *out, size_t cap)
{
	size_t n = 0;
	if (cap)
		out[0] = '\0';
	for (; t->n; t++)
		if ((v & t->v) == t->v)
			put(out, cap, &n, t->n);
	return n;
}

size_t vg_oflags_render(uint32_t f, char *out, size_t cap)
{
	size_t n = 0;
	if (cap)
		out[0] = '\0';
	if ((f & VG_O_ACCMODE) == 0)
		put(out, cap, &n, "O_RDONLY");
	for (const struct fname *t = oflags; t->n; t++) {
		if ((f & t->v) != t->v)
			continue; /* most are clear: the cheap test first */
		if (t->v == 010000 && (f & 04010000) == 04010000)
			continue; /* shown as O_SYNC */
		if (t->v == 0200000 && (f & 020200000) == 020200000)
			continue; /* shown as O_TMPFILE */
		put(out, cap, &n, t->n);
	}
	return n;
}

size_t vg_obits_render(uint32_t f, char *out, size_t cap)
{
	return bits_render(oflags, f, out, cap);
}

size_t vg_mode_render(uint32_t m, char *out, size_t cap)
{
	return bits_render(modebits, m, out, cap);
}
