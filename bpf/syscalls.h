/* syscalls.h - the syscalls vigil knows, shared by bpf/ and agent/.
 *
 * One X-macro table describes, per syscall, where its interesting arguments
 * are.  User space copies each row it wants captured into the kernel's
 * interest map (struct vg_sc_desc); the BPF program is generic and reads the
 * row to know what to capture, so adding a syscall never touches BPF code.
 *
 * Columns: name, x86_64 number, category, then argument indexes (-1: none,
 * VG_A_RET: the return value):
 *   p0   first path (user string), made absolute against d0 / cwd
 *   d0   dirfd for p0 (-1: AT_FDCWD semantics)
 *   p1   second path
 *   d1   dirfd for p1
 *   sfd  socket fd whose kernel tuple is captured
 *   sa   user sockaddr pointer, sal its length (VG_SC_SALPTR: length pointer)
 *   xs   an extra user string (not a path) captured verbatim
 *   fdp  user int[2] written by the call (pipe, socketpair)
 *   fl   VG_SC_* flags
 * Numbers are x86_64 (the only architecture built for now).
 */
#ifndef VIGIL_SYSCALLS_H
#define VIGIL_SYSCALLS_H

#define VG_A_RET 6

/* row flags */
#define VG_SC_SALPTR 0x01  /* sal is a pointer to a socklen_t */
#define VG_SC_CWD 0x02	   /* after success, capture the new cwd in S_EXTRA2 */
#define VG_SC_P1RAW 0x04   /* p1 is not a path: do not resolve it */
#define VG_SC_OPENHOW 0x08 /* arg 2 points to struct open_how: flags/mode to aux */
#define VG_SC_EXEC 0x10	   /* execve family: success is reported by the exec event */
#define VG_SC_P0RAW 0x20   /* p0 is not a path: do not resolve it */
#define VG_SC_FDPATH 0x40  /* after success, the opened file's path (fd = ret) in VG_S_FILE */
/* open_by_handle_at: a successful call is reported as the openat an
 * ordinary process would have made (flags in arg 2), flagged VG_F_LSM,
 * with the opened file's path in VG_S_FILE (VG_SC_FDPATH); a failed one
 * not at all */
#define VG_SC_ASOPENAT 0x80
/* a call on the file at fd argument 0 (fchmod): that file's path in
 * VG_S_FILE, read from the kernel's fd table at the call, so that its
 * fs.path.name needs no fd table in user space (and the opens of such
 * files can stay in the kernel, see docs/prefilter.md) */
#define VG_SC_FDFILE 0x100
/* the return value is a process or thread id, never an fd (the clone
 * family): the prefilter's memory of fds does not take it for one (a
 * thread id below 1024, after the pid counter wraps or in a new pid
 * namespace, would make that fd's next close be sent for nothing) */
#define VG_SC_RETPID 0x200

/* categories (value 0 means "not interesting" in the interest map) */
enum vg_cat {
	VG_CAT_NONE = 0,
	VG_CAT_PROC = 1,
	VG_CAT_FILE = 2,
	VG_CAT_NET = 3,
	VG_CAT_OTHER = 4,
	VG_CAT_MAX = 5,
};

/* clang-format off */
#define VG_SYSCALLS(X) \
	/* name          nr   cat           p0  d0  p1  d1  sfd        sa  sal xs  fdp fl */ \
	X(open,           2,  VG_CAT_FILE,   0, -1, -1, -1, -1,        -1, -1, -1, -1, VG_SC_FDPATH) \
	X(close,          3,  VG_CAT_FILE,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(pipe,          22,  VG_CAT_FILE,  -1, -1, -1, -1, -1,        -1, -1, -1,  0, 0) \
	X(dup,           32,  VG_CAT_FILE,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(dup2,          33,  VG_CAT_FILE,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(socket,        41,  VG_CAT_NET,   -1, -1, -1, -1, VG_A_RET,  -1, -1, -1, -1, 0) \
	X(connect,       42,  VG_CAT_NET,   -1, -1, -1, -1,  0,         1,  2, -1, -1, 0) \
	X(accept,        43,  VG_CAT_NET,   -1, -1, -1, -1, VG_A_RET,  -1, -1, -1, -1, 0) \
	X(sendto,        44,  VG_CAT_NET,   -1, -1, -1, -1,  0,         4,  5, -1, -1, 0) \
	X(recvfrom,      45,  VG_CAT_NET,   -1, -1, -1, -1,  0,         4,  5, -1, -1, VG_SC_SALPTR) \
	X(sendmsg,       46,  VG_CAT_NET,   -1, -1, -1, -1,  0,        -1, -1, -1, -1, 0) \
	X(recvmsg,       47,  VG_CAT_NET,   -1, -1, -1, -1,  0,        -1, -1, -1, -1, 0) \
	X(bind,          49,  VG_CAT_NET,   -1, -1, -1, -1,  0,         1,  2, -1, -1, 0) \
	X(listen,        50,  VG_CAT_NET,   -1, -1, -1, -1,  0,        -1, -1, -1, -1, 0) \
	X(socketpair,    53,  VG_CAT_NET,   -1, -1, -1, -1, -1,        -1, -1, -1,  3, 0) \
	X(clone,         56,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, VG_SC_RETPID) \
	X(fork,          57,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, VG_SC_RETPID) \
	X(vfork,         58,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, VG_SC_RETPID) \
	X(execve,        59,  VG_CAT_PROC,   0, -1, -1, -1, -1,        -1, -1, -1, -1, VG_SC_EXEC) \
	X(kill,          62,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(chdir,         80,  VG_CAT_FILE,   0, -1, -1, -1, -1,        -1, -1, -1, -1, VG_SC_CWD) \
	X(fchdir,        81,  VG_CAT_FILE,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, VG_SC_CWD) \
	X(rename,        82,  VG_CAT_FILE,   0, -1,  1, -1, -1,        -1, -1, -1, -1, 0) \
	X(mkdir,         83,  VG_CAT_FILE,   0, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(rmdir,         84,  VG_CAT_FILE,   0, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(creat,         85,  VG_CAT_FILE,   0, -1, -1, -1, -1,        -1, -1, -1, -1, VG_SC_FDPATH) \
	X(link,          86,  VG_CAT_FILE,   0, -1,  1, -1, -1,        -1, -1, -1, -1, 0) \
	X(unlink,        87,  VG_CAT_FILE,   0, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(symlink,       88,  VG_CAT_FILE,   1, -1, -1, -1, -1,        -1, -1,  0, -1, 0) \
	X(chmod,         90,  VG_CAT_FILE,   0, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(fchmod,        91,  VG_CAT_FILE,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, VG_SC_FDFILE) \
	X(ptrace,       101,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(setuid,       105,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(setgid,       106,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(setreuid,     113,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(setregid,     114,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(setresuid,    117,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(setresgid,    119,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(capset,       126,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(prctl,        157,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(chroot,       161,  VG_CAT_FILE,   0, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(mount,        165,  VG_CAT_FILE,   1, -1,  0, -1, -1,        -1, -1,  2, -1, VG_SC_P1RAW) \
	X(umount2,      166,  VG_CAT_FILE,   0, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(init_module,  175,  VG_CAT_OTHER, -1, -1, -1, -1, -1,        -1, -1,  2, -1, 0) \
	X(mkdirat,      258,  VG_CAT_FILE,   1,  0, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(openat,       257,  VG_CAT_FILE,   1,  0, -1, -1, -1,        -1, -1, -1, -1, VG_SC_FDPATH) \
	X(unlinkat,     263,  VG_CAT_FILE,   1,  0, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(renameat,     264,  VG_CAT_FILE,   1,  0,  3,  2, -1,        -1, -1, -1, -1, 0) \
	X(linkat,       265,  VG_CAT_FILE,   1,  0,  3,  2, -1,        -1, -1, -1, -1, 0) \
	X(symlinkat,    266,  VG_CAT_FILE,   2,  1, -1, -1, -1,        -1, -1,  0, -1, 0) \
	X(fchmodat,     268,  VG_CAT_FILE,   1,  0, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(unshare,      272,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(accept4,      288,  VG_CAT_NET,   -1, -1, -1, -1, VG_A_RET,  -1, -1, -1, -1, 0) \
	X(dup3,         292,  VG_CAT_FILE,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(pipe2,        293,  VG_CAT_FILE,  -1, -1, -1, -1, -1,        -1, -1, -1,  0, 0) \
	X(setns,        308,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(open_by_handle_at, 304, VG_CAT_FILE, -1, -1, -1, -1, -1,     -1, -1, -1, -1, VG_SC_FDPATH | VG_SC_ASOPENAT) \
	X(finit_module, 313,  VG_CAT_OTHER, -1, -1, -1, -1, -1,        -1, -1,  1, -1, 0) \
	X(renameat2,    316,  VG_CAT_FILE,   1,  0,  3,  2, -1,        -1, -1, -1, -1, 0) \
	X(memfd_create, 319,  VG_CAT_FILE,  -1, -1, -1, -1, -1,        -1, -1,  0, -1, 0) \
	X(bpf,          321,  VG_CAT_OTHER, -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(execveat,     322,  VG_CAT_PROC,   1,  0, -1, -1, -1,        -1, -1, -1, -1, VG_SC_EXEC) \
	X(userfaultfd,  323,  VG_CAT_OTHER, -1, -1, -1, -1, -1,        -1, -1, -1, -1, 0) \
	X(io_uring_setup, 425, VG_CAT_OTHER, -1, -1, -1, -1, -1,       -1, -1, -1, -1, 0) \
	X(io_uring_register, 427, VG_CAT_OTHER, -1, -1, -1, -1, -1,    -1, -1, -1, -1, 0) \
	X(clone3,       435,  VG_CAT_PROC,  -1, -1, -1, -1, -1,        -1, -1, -1, -1, VG_SC_RETPID) \
	X(openat2,      437,  VG_CAT_FILE,   1,  0, -1, -1, -1,        -1, -1, -1, -1, VG_SC_OPENHOW | VG_SC_FDPATH)
/* clang-format on */

#define VG_NR_MAX 512 /* size of the interest map; every nr above is < this */

#endif
