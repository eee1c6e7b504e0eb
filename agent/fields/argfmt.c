/* argfmt.c - syscall parameters under Falco's names; see argfmt.h.
 *
 * The parameter lists follow Falco's exit events (which, in current
 * Falco, carry the call's arguments too), limited to what a vigil record
 * holds.  Flag names are the kernel's (O_CREAT, S_ISUID, PTRACE_ATTACH...).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "argfmt.h"
#include "state.h"

enum pkind {
	PK_RES = 1,  /* return value as errno */
	PK_RETINT,   /* return value as a number */
	PK_FDRET,    /* return value as fd */
	PK_FD,	     /* arg as fd */
	PK_DIRFD,    /* arg as dirfd (AT_FDCWD) */
	PK_PATH0,    /* first path (resolved) */
	PK_PATH1,    /* second path (resolved) */
	PK_XSTR,     /* extra string */
	PK_OFLAGS,   /* open flags of the open family */
	PK_OMODE,    /* mode of the open family */
	PK_FLAGS_O,  /* arg as O_* flags (pipe2, dup3, userfaultfd) */
	PK_MODE,     /* arg as file mode */
	PK_INT,	     /* arg as int */
	PK_UINT,     /* arg as unsigned */
	PK_HEX,	     /* arg as hexadecimal */
	PK_UID,	     /* arg as uid */
	PK_GID,	     /* arg as gid */
	PK_DOMAIN,   /* arg as address family */
	PK_TUPLE,    /* the record's socket tuple */
	PK_SOCKADDR, /* the record's local address (bind) */
	PK_PEER,     /* the record's remote address (connect) */
	PK_PTRACE,   /* ptrace request */
	PK_BPFCMD,   /* bpf command */
	PK_PID,	     /* arg as pid */
	PK_SIG,	     /* arg as signal */
	PK_NSFLAGS,  /* arg as CLONE_* flags */
	PK_ATFLAGS,  /* arg as AT_* flags */
	PK_PRCTL,    /* prctl option */
	PK_MFDFLAGS, /* memfd_create flags */
	PK_FD1,	     /* first fd of a pair */
	PK_FD2,	     /* second fd of a pair */
	/* from the process description (exec, fork) */
	PK_EXE,
	PK_ARGS,
	PK_TID,
	PK_HPID,
	PK_PTID,
	PK_CWD,
	PK_COMM,
	PK_ENV,
	PK_TTY,
	PK_PGID,
	PK_LOGINUID,
	PK_EXEFLAGS,
	PK_CAPINH,
	PK_CAPPERM,
	PK_CAPEFF,
	PK_EXEINO,
	PK_EXECTIME,
	PK_EXEMTIME,
	PK_HUID,
	PK_HGID,
	PK_EXEPATH,
	PK_FILENAME,
};

struct pspec {
	const char *name;
	uint8_t kind;
	int8_t arg;
};

struct pdesc {
	const struct pspec *p;
	uint8_t n;
};

#define PS(...)                                                                                    \
	{                                                                                          \
		(const struct pspec[]){__VA_ARGS__},                                               \
			sizeof((const struct pspec[]){__VA_ARGS__}) / sizeof(struct pspec)         \
	}

#define RES                                                                                        \
	{                                                                                          \
		"res", PK_RES, 0                                                                   \
	}
#define FD0                                                                                        \
	{                                                                                          \
		"fd", PK_FD, 0                                                                     \
	}

/* Parameters of a live exec and of the clone family (the child's view). */
#define EXEC_PARAMS                                                                                \
	RES, {"exe", PK_EXE, 0}, {"args", PK_ARGS, 0}, {"tid", PK_TID, 0}, {"pid", PK_HPID, 0},    \
		{"ptid", PK_PTID, 0}, {"cwd", PK_CWD, 0}, {"comm", PK_COMM, 0},                    \
		{"env", PK_ENV, 0}, {"tty", PK_TTY, 0}, {"pgid", PK_PGID, 0},                      \
		{"loginuid", PK_LOGINUID, 0}, {"flags", PK_EXEFLAGS, 0},                           \
		{"cap_inheritable", PK_CAPINH, 0}, {"cap_permitted", PK_CAPPERM, 0},               \
		{"cap_effective", PK_CAPEFF, 0}, {"exe_ino", PK_EXEINO, 0},                        \
		{"exe_ino_ctime", PK_EXECTIME, 0}, {"exe_ino_mtime", PK_EXEMTIME, 0},              \
		{"uid", PK_HUID, 0}, {"trusted_exepath", PK_EXEPATH, 0}, {"gid", PK_HGID, 0},      \
	{                                                                                          \
		"filename", PK_FILENAME, 0                                                         \
	}

#define CLONE_PARAMS                                                                               \
	{"res", PK_RETINT, 0}, {"exe", PK_EXE, 0}, {"args", PK_ARGS, 0}, {"tid", PK_TID, 0},       \
		{"pid", PK_HPID, 0}, {"ptid", PK_PTID, 0}, {"cwd", PK_CWD, 0},                     \
		{"uid", PK_HUID, 0},                                                               \
	{                                                                                          \
		"gid", PK_HGID, 0                                                                  \
	}

static const struct pdesc sys_params[VG_NR_MAX] = {
	[VG_NR_open] = PS({"fd", PK_FDRET, 0}, {"name", PK_PATH0, 0}, {"flags", PK_OFLAGS, 0},
			  {"mode", PK_OMODE, 0}),
	[VG_NR_openat] = PS({"fd", PK_FDRET, 0}, {"dirfd", PK_DIRFD, 0}, {"name", PK_PATH0, 0},
			    {"flags", PK_OFLAGS, 0}, {"mode", PK_OMODE, 0}),
	[VG_NR_openat2] = PS({"fd", PK_FDRET, 0}, {"dirfd", PK_DIRFD, 0}, {"name", PK_PATH0, 0},
			     {"flags", PK_OFLAGS, 0}, {"mode", PK_OMODE, 0}),
	[VG_NR_creat] = PS({"fd", PK_FDRET, 0}, {"name", PK_PATH0, 0}, {"mode", PK_MODE, 1}),
	[VG_NR_close] = PS(RES, FD0),
	[VG_NR_pipe] = PS(RES, {"fd1", PK_FD1, 0}, {"fd2", PK_FD2, 0}),
	[VG_NR_pipe2] = PS(RES, {"fd1", PK_FD1, 0}, {"fd2", PK_FD2, 0}, {"flags", PK_FLAGS_O, 1}),
	[VG_NR_dup] = PS({"res", PK_FDRET, 0}, {"oldfd", PK_FD, 0}),
	[VG_NR_dup2] = PS({"res", PK_FDRET, 0}, {"oldfd", PK_FD, 0}, {"newfd", PK_FD, 1}),
	[VG_NR_dup3] = PS({"res", PK_FDRET, 0}, {"oldfd", PK_FD, 0}, {"newfd", PK_FD, 1},
			  {"flags", PK_FLAGS_O, 2}),
	[VG_NR_socket] = PS({"fd", PK_FDRET, 0}, {"domain", PK_DOMAIN, 0}, {"type", PK_UINT, 1},
			    {"proto", PK_UINT, 2}),
	[VG_NR_connect] = PS(RES, {"tuple", PK_TUPLE, 0}, FD0, {"addr", PK_PEER, 0}),
	[VG_NR_accept] = PS({"fd", PK_FDRET, 0}, {"tuple", PK_TUPLE, 0}),
	[VG_NR_accept4] = PS({"fd", PK_FDRET, 0}, {"tuple", PK_TUPLE, 0}, {"flags", PK_INT, 3}),
	[VG_NR_sendto] = PS(RES, FD0, {"size", PK_UINT, 2}, {"tuple", PK_TUPLE, 0}),
	[VG_NR_recvfrom] = PS(RES, FD0, {"size", PK_UINT, 2}, {"tuple", PK_TUPLE, 0}),
	[VG_NR_sendmsg] = PS(RES, FD0, {"tuple", PK_TUPLE, 0}),
	[VG_NR_recvmsg] = PS(RES, FD0, {"tuple", PK_TUPLE, 0}),
	[VG_NR_bind] = PS(RES, {"addr", PK_SOCKADDR, 0}, FD0),
	[VG_NR_listen] = PS(RES, FD0, {"backlog", PK_INT, 1}),
	[VG_NR_socketpair] =
		PS(RES, {"fd1", PK_FD1, 0}, {"fd2", PK_FD2, 0}, {"domain", PK_DOMAIN, 0},
		   {"type", PK_UINT, 1}, {"proto", PK_UINT, 2}),
	[VG_NR_clone] = PS(CLONE_PARAMS, {"flags", PK_NSFLAGS, 0}),
	[VG_NR_fork] = PS(CLONE_PARAMS),
	[VG_NR_vfork] = PS(CLONE_PARAMS),
	[VG_NR_clone3] = PS(CLONE_PARAMS),
	[VG_NR_execve] = PS(RES, {"filename", PK_PATH0, 0}),
	[VG_NR_execveat] = PS(RES, {"dirfd", PK_DIRFD, 0}, {"pathname", PK_PATH0, 0},
			      {"flags", PK_ATFLAGS, 4}),
	[VG_NR_kill] = PS(RES, {"pid", PK_PID, 0}, {"sig", PK_SIG, 1}),
	[VG_NR_chdir] = PS(RES, {"path", PK_PATH0, 0}),
	[VG_NR_fchdir] = PS(RES, FD0),
	[VG_NR_rename] = PS(RES, {"oldpath", PK_PATH0, 0}, {"newpath", PK_PATH1, 0}),
	[VG_NR_renameat] = PS(RES, {"olddirfd", PK_DIRFD, 0}, {"oldpath", PK_PATH0, 0},
			      {"newdirfd", PK_DIRFD, 2}, {"newpath", PK_PATH1, 0}),
	[VG_NR_renameat2] =
		PS(RES, {"olddirfd", PK_DIRFD, 0}, {"oldpath", PK_PATH0, 0},
		   {"newdirfd", PK_DIRFD, 2}, {"newpath", PK_PATH1, 0}, {"flags", PK_UINT, 4}),
	[VG_NR_mkdir] = PS(RES, {"path", PK_PATH0, 0}, {"mode", PK_MODE, 1}),
	[VG_NR_mkdirat] =
		PS(RES, {"dirfd", PK_DIRFD, 0}, {"path", PK_PATH0, 0}, {"mode", PK_MODE, 2}),
	[VG_NR_rmdir] = PS(RES, {"path", PK_PATH0, 0}),
	[VG_NR_link] = PS(RES, {"oldpath", PK_PATH0, 0}, {"newpath", PK_PATH1, 0}),
	[VG_NR_linkat] =
		PS(RES, {"olddir", PK_DIRFD, 0}, {"oldpath", PK_PATH0, 0}, {"newdir", PK_DIRFD, 2},
		   {"newpath", PK_PATH1, 0}, {"flags", PK_ATFLAGS, 4}),
	[VG_NR_unlink] = PS(RES, {"path", PK_PATH0, 0}),
	[VG_NR_unlinkat] =
		PS(RES, {"dirfd", PK_DIRFD, 0}, {"name", PK_PATH0, 0}, {"flags", PK_ATFLAGS, 2}),
	[VG_NR_symlink] = PS(RES, {"target", PK_XSTR, 0}, {"linkpath", PK_PATH0, 0}),
	[VG_NR_symlinkat] = PS(RES, {"target", PK_XSTR, 0}, {"linkdirfd", PK_DIRFD, 1},
			       {"linkpath", PK_PATH0, 0}),
	[VG_NR_chmod] = PS(RES, {"filename", PK_PATH0, 0}, {"mode", PK_MODE, 1}),
	[VG_NR_fchmod] = PS(RES, FD0, {"mode", PK_MODE, 1}),
	[VG_NR_fchmodat] =
		PS(RES, {"dirfd", PK_DIRFD, 0}, {"filename", PK_PATH0, 0}, {"mode", PK_MODE, 2}),
	[VG_NR_ptrace] = PS(RES, {"request", PK_PTRACE, 0}, {"pid", PK_PID, 1}, {"addr", PK_HEX, 2},
			    {"data", PK_HEX, 3}),
	[VG_NR_setuid] = PS(RES, {"uid", PK_UID, 0}),
	[VG_NR_setgid] = PS(RES, {"gid", PK_GID, 0}),
	[VG_NR_setreuid] = PS(RES, {"ruid", PK_UID, 0}, {"euid", PK_UID, 1}),
	[VG_NR_setregid] = PS(RES, {"rgid", PK_GID, 0}, {"egid", PK_GID, 1}),
	[VG_NR_setresuid] = PS(RES, {"ruid", PK_UID, 0}, {"euid", PK_UID, 1}, {"suid", PK_UID, 2}),
	[VG_NR_setresgid] = PS(RES, {"rgid", PK_GID, 0}, {"egid", PK_GID, 1}, {"sgid", PK_GID, 2}),
	[VG_NR_capset] = PS(RES),
	[VG_NR_prctl] = PS(RES, {"option", PK_PRCTL, 0}, {"arg2_int", PK_INT, 1}),
	[VG_NR_chroot] = PS(RES, {"path", PK_PATH0, 0}),
	[VG_NR_mount] = PS(RES, {"dev", PK_PATH1, 0}, {"dir", PK_PATH0, 0}, {"type", PK_XSTR, 0},
			   {"flags", PK_HEX, 3}),
	[VG_NR_umount2] = PS(RES, {"name", PK_PATH0, 0}, {"flags", PK_INT, 1}),
	[VG_NR_init_module] = PS(RES, {"length", PK_UINT, 1}, {"uargs", PK_XSTR, 0}),
	[VG_NR_finit_module] = PS(RES, FD0, {"uargs", PK_XSTR, 0}, {"flags", PK_INT, 2}),
	[VG_NR_unshare] = PS(RES, {"flags", PK_NSFLAGS, 0}),
	[VG_NR_setns] = PS(RES, FD0, {"nstype", PK_NSFLAGS, 1}),
	[VG_NR_memfd_create] =
		PS({"fd", PK_FDRET, 0}, {"name", PK_XSTR, 0}, {"flags", PK_MFDFLAGS, 1}),
	[VG_NR_bpf] = PS({"res_or_fd", PK_RES, 0}, {"cmd", PK_BPFCMD, 0}),
	[VG_NR_userfaultfd] = PS(RES, {"flags", PK_FLAGS_O, 0}),
};

static const struct pdesc exec_params = PS(EXEC_PARAMS);
static const struct pdesc exit_params = PS({"status", PK_RETINT, 0}, {"ret", PK_RETINT, 0});
static const struct pdesc fork_params = PS(CLONE_PARAMS);

static const struct pdesc *params_of(const struct vg_event *ev)
{
	switch (ev->raw->h.kind) {
	case VG_K_SYSCALL:
		if (ev->type >= 0 && ev->type < VG_NR_MAX && sys_params[ev->type].p)
			return &sys_params[ev->type];
		return NULL;
	case VG_K_EXEC:
	case VG_K_PROC:
		return &exec_params;
	case VG_K_FORK:
		return &fork_params;
	case VG_K_EXIT:
		return &exit_params;
	}
	return NULL;
}

int vg_argfmt_count(const struct vg_event *ev)
{
	const struct pdesc *d = params_of(ev);
	return d ? d->n : 0;
}

const char *vg_argfmt_name(const struct vg_event *ev, int i)
{
	const struct pdesc *d = params_of(ev);
	return d && i >= 0 && i < d->n ? d->p[i].name : NULL;
}

int vg_argfmt_find(const struct vg_event *ev, const char *name, size_t len)
{
	const struct pdesc *d = params_of(ev);
	if (!d)
		return -1;
	for (int i = 0; i < d->n; i++)
		if (d->p[i].name[0] == name[0] && strncmp(d->p[i].name, name, len) == 0 &&
		    d->p[i].name[len] == '\0')
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* name tables                                                         */

struct fname {
	uint64_t v;
	const char *n;
};

#define N(x)                                                                                       \
	{                                                                                          \
		x, #x                                                                              \
	}

static const char *const errnames[] = {
#define E(x) [x] = #x
	E(EPERM),	    E(ENOENT),	     E(ESRCH),
	E(EINTR),	    E(EIO),	     E(ENXIO),
	E(E2BIG),	    E(ENOEXEC),	     E(EBADF),
	E(ECHILD),	    E(EAGAIN),	     E(ENOMEM),
	E(EACCES),	    E(EFAULT),	     E(ENOTBLK),
	E(EBUSY),	    E(EEXIST),	     E(EXDEV),
	E(ENODEV),	    E(ENOTDIR),	     E(EISDIR),
	E(EINVAL),	    E(ENFILE),	     E(EMFILE),
	E(ENOTTY),	    E(ETXTBSY),	     E(EFBIG),
	E(ENOSPC),	    E(ESPIPE),	     E(EROFS),
	E(EMLINK),	    E(EPIPE),	     E(EDOM),
	E(ERANGE),	    E(EDEADLK),	     E(ENAMETOOLONG),
	E(ENOLCK),	    E(ENOSYS),	     E(ENOTEMPTY),
	E(ELOOP),	    E(ENOMSG),	     E(EIDRM),
	E(ENOSTR),	    E(ENODATA),	     E(ETIME),
	E(ENOSR),	    E(EREMOTE),	     E(ENOLINK),
	E(EPROTO),	    E(EMULTIHOP),    E(EBADMSG),
	E(EOVERFLOW),	    E(EILSEQ),	     E(EUSERS),
	E(ENOTSOCK),	    E(EDESTADDRREQ), E(EMSGSIZE),
	E(EPROTOTYPE),	    E(ENOPROTOOPT),  E(EPROTONOSUPPORT),
	E(ESOCKTNOSUPPORT), E(EOPNOTSUPP),   E(EPFNOSUPPORT),
	E(EAFNOSUPPORT),    E(EADDRINUSE),   E(EADDRNOTAVAIL),
	E(ENETDOWN),	    E(ENETUNREACH),  E(ENETRESET),
	E(ECONNABORTED),    E(ECONNRESET),   E(ENOBUFS),
	E(EISCONN),	    E(ENOTCONN),     E(ESHUTDOWN),
	E(ETOOMANYREFS),    E(ETIMEDOUT),    E(ECONNREFUSED),
	E(EHOSTDOWN),	    E(EHOSTUNREACH), E(EALREADY),
	E(EINPROGRESS),	    E(ESTALE),	     E(EDQUOT),
	E(ECANCELED),	    E(EOWNERDEAD),   E(ENOTRECOVERABLE),
	E(ERFKILL),	    E(EHWPOISON),    E(ENOKEY),
	E(EKEYEXPIRED),	    E(EKEYREVOKED),  E(EKEYREJECTED),
	E(ENOMEDIUM),	    E(EMEDIUMTYPE),
#undef E
};

const char *vg_errno_name(int e)
{
	if (e <= 0 || (size_t)e >= sizeof(errnames) / sizeof(errnames[0]))
		return NULL;
	return errnames[e];
}

static const char *const capnames[] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

/* Formatting without printf: evt.arg.NAME is rendered for every event a
 * rule reads it on (evt.arg.flags on every open), and vsnprintf's machinery
 * cost more than the rest of the condition.  Each truncates like snprintf. */
static size_t cpyn(char *out, size_t cap, const char *s, size_t n)
{
	if (cap == 0)
		return 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

static size_t cpy(char *out, size_t cap, const char *s)
{
	return cpyn(out, cap, s, strlen(s));
}

/* digits of v in base (8, 10 or 16, lower case) after prefix */
static void fmt_base(char *out, size_t cap, const char *prefix, bool neg, uint64_t v, unsigned base)
{
	char tmp[32];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[--i] = '-';
	size_t pl = strlen(prefix);
	memcpy(tmp + i - pl, prefix, pl);
	i -= pl;
	cpyn(out, cap, tmp + i, sizeof(tmp) - i);
}

static void fmt_u64(char *out, size_t cap, uint64_t v)
{
	fmt_base(out, cap, "", false, v, 10);
}

static void fmt_s64(char *out, size_t cap, int64_t v)
{
	fmt_base(out, cap, "", v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 10);
}

static void fmt_hex(char *out, size_t cap, const char *prefix, uint64_t v)
{
	fmt_base(out, cap, prefix, false, v, 16);
}

static void fmt_oct(char *out, size_t cap, uint32_t v)
{
	fmt_base(out, cap, "0", false, v, 8);
}

/* Append s to out (length *n), separated by sep when not first. */
static void put(char *out, size_t cap, size_t *n, const char *sep, const char *s)
{
	if (cap == 0 || *n + 1 >= cap)
		return;
	/* byte by byte: names are short, and strlen + memcpy calls for each
	 * flag cost more than the copy (flags are rendered on every open that
	 * a rule tests them on) */
	size_t i = *n;
	if (i)
		for (; *sep && i + 1 < cap; sep++)
			out[i++] = *sep;
	for (; *s && i + 1 < cap; s++)
		out[i++] = *s;
	out[i] = '\0';
	*n = i;
}

size_t vg_caps_render(uint64_t caps, char *out, size_t cap)
{
	size_t n = 0;
	if (cap)
		out[0] = '\0';
	for (size_t i = 0; i < sizeof(capnames) / sizeof(capnames[0]); i++)
		if (caps & (1ull << i))
			put(out, cap, &n, " ", capnames[i]);
	return n;
}

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

static const struct fname nsflags[] = {
	{0x100, "CLONE_VM"},
	{0x200, "CLONE_FS"},
	{0x400, "CLONE_FILES"},
	{0x800, "CLONE_SIGHAND"},
	{0x1000, "CLONE_PIDFD"},
	{0x2000, "CLONE_PTRACE"},
	{0x4000, "CLONE_VFORK"},
	{0x8000, "CLONE_PARENT"},
	{0x10000, "CLONE_THREAD"},
	{0x20000, "CLONE_NEWNS"},
	{0x40000, "CLONE_SYSVSEM"},
	{0x80000, "CLONE_SETTLS"},
	{0x100000, "CLONE_PARENT_SETTID"},
	{0x200000, "CLONE_CHILD_CLEARTID"},
	{0x400000, "CLONE_DETACHED"},
	{0x800000, "CLONE_UNTRACED"},
	{0x1000000, "CLONE_CHILD_SETTID"},
	{0x2000000, "CLONE_NEWCGROUP"},
	{0x4000000, "CLONE_NEWUTS"},
	{0x8000000, "CLONE_NEWIPC"},
	{0x10000000, "CLONE_NEWUSER"},
	{0x20000000, "CLONE_NEWPID"},
	{0x40000000, "CLONE_NEWNET"},
	{0x80000000, "CLONE_IO"},
	{0, NULL},
};

static const struct fname atflags[] = {
	{0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_REMOVEDIR"},   {0x400, "AT_SYMLINK_FOLLOW"},
	{0x800, "AT_NO_AUTOMOUNT"},	{0x1000, "AT_EMPTY_PATH"}, {0, NULL},
};

static const struct fname mfdflags[] = {
	{1, "MFD_CLOEXEC"},	{2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"},
	{8, "MFD_NOEXEC_SEAL"}, {16, "MFD_EXEC"},	  {0, NULL},
};

static const struct fname exeflags[] = {
	{VG_EXE_UPPER, "EXE_UPPER_LAYER"},
	{VG_EXE_MEMFD, "EXE_FROM_MEMFD"},
	{0, NULL},
};

static const struct fname domains[] = {
	{AF_UNIX, "AF_UNIX"},
	{AF_INET, "AF_INET"},
	{AF_AX25, "AF_AX25"},
	{AF_IPX, "AF_IPX"},
	{AF_APPLETALK, "AF_APPLETALK"},
	{AF_BRIDGE, "AF_BRIDGE"},
	{AF_INET6, "AF_INET6"},
	{AF_KEY, "AF_KEY"},
	{AF_NETLINK, "AF_NETLINK"},
	{AF_PACKET, "AF_PACKET"},
	{AF_RDS, "AF_RDS"},
	{AF_CAN, "AF_CAN"},
	{AF_TIPC, "AF_TIPC"},
	{AF_BLUETOOTH, "AF_BLUETOOTH"},
	{AF_ALG, "AF_ALG"},
	{AF_VSOCK, "AF_VSOCK"},
	{44, "AF_XDP"},
	{0, NULL},
};

static const struct fname ptrace_reqs[] = {
	{0, "PTRACE_TRACEME"},
	{1, "PTRACE_PEEKTEXT"},
	{2, "PTRACE_PEEKDATA"},
	{3, "PTRACE_PEEKUSR"},
	{4, "PTRACE_POKETEXT"},
	{5, "PTRACE_POKEDATA"},
	{6, "PTRACE_POKEUSR"},
	{7, "PTRACE_CONT"},
	{8, "PTRACE_KILL"},
	{9, "PTRACE_SINGLESTEP"},
	{12, "PTRACE_GETREGS"},
	{13, "PTRACE_SETREGS"},
	{14, "PTRACE_GETFPREGS"},
	{15, "PTRACE_SETFPREGS"},
	{16, "PTRACE_ATTACH"},
	{17, "PTRACE_DETACH"},
	{18, "PTRACE_GETFPXREGS"},
	{19, "PTRACE_SETFPXREGS"},
	{24, "PTRACE_SYSCALL"},
	{25, "PTRACE_GET_THREAD_AREA"},
	{26, "PTRACE_SET_THREAD_AREA"},
	{30, "PTRACE_ARCH_PRCTL"},
	{31, "PTRACE_SYSEMU"},
	{32, "PTRACE_SYSEMU_SINGLESTEP"},
	{0x4200, "PTRACE_SETOPTIONS"},
	{0x4201, "PTRACE_GETEVENTMSG"},
	{0x4202, "PTRACE_GETSIGINFO"},
	{0x4203, "PTRACE_SETSIGINFO"},
	{0x4204, "PTRACE_GETREGSET"},
	{0x4205, "PTRACE_SETREGSET"},
	{0x4206, "PTRACE_SEIZE"},
	{0x4207, "PTRACE_INTERRUPT"},
	{0x4208, "PTRACE_LISTEN"},
	{0x4209, "PTRACE_PEEKSIGINFO"},
	{0x420e, "PTRACE_GET_SYSCALL_INFO"},
	{0, NULL},
};

static const char *const bpf_cmds[] = {
	"BPF_MAP_CREATE",	 "BPF_MAP_LOOKUP_ELEM",
	"BPF_MAP_UPDATE_ELEM",	 "BPF_MAP_DELETE_ELEM",
	"BPF_MAP_GET_NEXT_KEY",	 "BPF_PROG_LOAD",
	"BPF_OBJ_PIN",		 "BPF_OBJ_GET",
	"BPF_PROG_ATTACH",	 "BPF_PROG_DETACH",
	"BPF_PROG_TEST_RUN",	 "BPF_PROG_GET_NEXT_ID",
	"BPF_MAP_GET_NEXT_ID",	 "BPF_PROG_GET_FD_BY_ID",
	"BPF_MAP_GET_FD_BY_ID",	 "BPF_OBJ_GET_INFO_BY_FD",
	"BPF_PROG_QUERY",	 "BPF_RAW_TRACEPOINT_OPEN",
	"BPF_BTF_LOAD",		 "BPF_BTF_GET_FD_BY_ID",
	"BPF_TASK_FD_QUERY",	 "BPF_MAP_LOOKUP_AND_DELETE_ELEM",
	"BPF_MAP_FREEZE",	 "BPF_BTF_GET_NEXT_ID",
	"BPF_MAP_LOOKUP_BATCH",	 "BPF_MAP_LOOKUP_AND_DELETE_BATCH",
	"BPF_MAP_UPDATE_BATCH",	 "BPF_MAP_DELETE_BATCH",
	"BPF_LINK_CREATE",	 "BPF_LINK_UPDATE",
	"BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID",
	"BPF_ENABLE_STATS",	 "BPF_ITER_CREATE",
	"BPF_LINK_DETACH",	 "BPF_PROG_BIND_MAP",
};

static const struct fname signames[] = {
	{1, "SIGHUP"},	   {2, "SIGINT"},   {3, "SIGQUIT"},   {4, "SIGILL"},   {5, "SIGTRAP"},
	{6, "SIGABRT"},	   {7, "SIGBUS"},   {8, "SIGFPE"},    {9, "SIGKILL"},  {10, "SIGUSR1"},
	{11, "SIGSEGV"},   {12, "SIGUSR2"}, {13, "SIGPIPE"},  {14, "SIGALRM"}, {15, "SIGTERM"},
	{16, "SIGSTKFLT"}, {17, "SIGCHLD"}, {18, "SIGCONT"},  {19, "SIGSTOP"}, {20, "SIGTSTP"},
	{21, "SIGTTIN"},   {22, "SIGTTOU"}, {23, "SIGURG"},   {24, "SIGXCPU"}, {25, "SIGXFSZ"},
	{26, "SIGVTALRM"}, {27, "SIGPROF"}, {28, "SIGWINCH"}, {29, "SIGIO"},   {30, "SIGPWR"},
	{31, "SIGSYS"},	   {0, NULL},
};

static const struct fname prctl_opts[] = {
	{1, "PR_SET_PDEATHSIG"},
	{2, "PR_GET_PDEATHSIG"},
	{3, "PR_GET_DUMPABLE"},
	{4, "PR_SET_DUMPABLE"},
	{7, "PR_GET_KEEPCAPS"},
	{8, "PR_SET_KEEPCAPS"},
	{15, "PR_SET_NAME"},
	{16, "PR_GET_NAME"},
	{21, "PR_GET_SECCOMP"},
	{22, "PR_SET_SECCOMP"},
	{23, "PR_CAPBSET_READ"},
	{24, "PR_CAPBSET_DROP"},
	{35, "PR_SET_MM"},
	{36, "PR_SET_CHILD_SUBREAPER"},
	{37, "PR_GET_CHILD_SUBREAPER"},
	{38, "PR_SET_NO_NEW_PRIVS"},
	{39, "PR_GET_NO_NEW_PRIVS"},
	{47, "PR_CAP_AMBIENT"},
	{0, NULL},
};

static void flags_render(const struct fname *t, uint64_t v, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (; t->n; t++)
		if (t->v && (v & t->v) == t->v)
			put(out, cap, &n, "|", t->n);
}

static void enum_render(const struct fname *t, uint64_t v, char *out, size_t cap)
{
	out[0] = '\0';
	for (; t->n; t++)
		if (t->v == v) {
			cpy(out, cap, t->n);
			return;
		}
}

static void oflags_render(uint32_t f, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	if ((f & 3) == 0)
		put(out, cap, &n, "|", "O_RDONLY");
	for (const struct fname *t = oflags; t->n; t++) {
		if ((f & t->v) != t->v)
			continue; /* most are clear: the cheap test first */
		if (t->v == 010000 && (f & 04010000) == 04010000)
			continue; /* shown as O_SYNC */
		if (t->v == 0200000 && (f & 020200000) == 020200000)
			continue; /* shown as O_TMPFILE */
		put(out, cap, &n, "|", t->n);
	}
}

/* ------------------------------------------------------------------ */
/* rendering                                                           */

static uint32_t open_flags(const struct vg_rec *r)
{
	switch (r->h.nr) {
	case VG_NR_open:
		return (uint32_t)r->arg[1];
	case VG_NR_openat:
		return (uint32_t)r->arg[2];
	case VG_NR_openat2:
		return r->h.flags & VG_F_OPENHOW ? (uint32_t)r->aux[0] : 0;
	case VG_NR_creat:
		return 01 | 0100 | 01000;
	}
	return 0;
}

static uint32_t open_mode(const struct vg_rec *r)
{
	switch (r->h.nr) {
	case VG_NR_open:
		return (uint32_t)r->arg[2];
	case VG_NR_openat:
		return (uint32_t)r->arg[3];
	case VG_NR_openat2:
		return r->h.flags & VG_F_OPENHOW ? (uint32_t)r->aux[1] : 0;
	case VG_NR_creat:
		return (uint32_t)r->arg[1];
	}
	return 0;
}

static void fd_render(const struct vg_event *ev, int64_t fd, char *res, size_t cap)
{
	const struct vg_fd *f = NULL;
	res[0] = '\0';
	if (fd < 0)
		return;
	if (ev->fdi && ev->fdi->fd == fd)
		f = ev->fdi;
	else if (ev->st && ev->proc)
		f = vg_state_fd(ev->st, ev->proc, fd);
	if (f && cap > 3) {
		res[0] = '<';
		res[1] = f->typechar ? f->typechar : 'o';
		res[2] = '>';
		cpy(res + 3, cap - 3, f->name ? f->name : "");
	}
}

enum tuple_part { T_BOTH, T_LOCAL, T_REMOTE };

static void tuple_render(const struct vg_event *ev, enum tuple_part part, char *out, size_t cap)
{
	const struct vg_rec *r = ev->raw;
	out[0] = '\0';
	if (!(r->h.flags & VG_F_SOCK))
		return;
	const struct vg_sock *s = &r->sock;
	if (s->family == AF_UNIX) {
		snprintf(out, cap, "%s", ev->str[VG_S_CWD] ? ev->str[VG_S_CWD] : "");
		return;
	}
	if (s->family != AF_INET && s->family != AF_INET6)
		return;
	char l[INET6_ADDRSTRLEN] = "", rr[INET6_ADDRSTRLEN] = "";
	inet_ntop(s->family, s->laddr, l, sizeof(l));
	inet_ntop(s->family, s->raddr, rr, sizeof(rr));
	int nr = r->h.nr;
	bool server = nr == VG_NR_accept || nr == VG_NR_accept4 ||
		      (ev->fdi && ev->fdi->is_server && nr != VG_NR_connect);
	if (part == T_LOCAL)
		snprintf(out, cap, "%s:%u", l, s->lport);
	else if (part == T_REMOTE)
		snprintf(out, cap, "%s:%u", rr, s->rport);
	else if (server)
		snprintf(out, cap, "%s:%u->%s:%u", rr, s->rport, l, s->lport);
	else
		snprintf(out, cap, "%s:%u->%s:%u", l, s->lport, rr, s->rport);
}

static void caps_param(uint64_t v, char *raw, size_t rawcap, char *res, size_t rescap)
{
	fmt_hex(raw, rawcap, "", v);
	vg_caps_render(v, res, rescap);
}

static void env_render(const struct vg_proc *p, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	if (!p->env)
		return;
	for (size_t i = 0; i < p->env_len; i += strlen(p->env + i) + 1)
		put(out, cap, &n, " ", p->env + i);
}

bool vg_argfmt_render(const struct vg_event *ev, int i, char *raw, size_t rawcap, char *res,
		      size_t rescap)
{
	const struct pdesc *d = params_of(ev);
	if (!d || i < 0 || i >= d->n || rawcap == 0 || rescap == 0)
		return false;
	const struct pspec *ps = &d->p[i];
	const struct vg_rec *r = ev->raw;
	const struct vg_proc *p = ev->proc;
	uint64_t a = ps->arg >= 0 && ps->arg < 6 ? r->arg[ps->arg] : 0;
	int64_t ret = r->h.ret;
	const char *s;
	raw[0] = res[0] = '\0';

	switch (ps->kind) {
	case PK_RES:
		fmt_s64(raw, rawcap, ret);
		if (ret < 0 && (s = vg_errno_name(ret > -4096 ? (int)-ret : 0)))
			cpy(res, rescap, s);
		break;
	case PK_RETINT:
		fmt_s64(raw, rawcap, ret);
		break;
	case PK_FDRET:
		fmt_s64(raw, rawcap, ret);
		if (ret < 0) {
			if ((s = vg_errno_name(ret > -4096 ? (int)-ret : 0)))
				cpy(res, rescap, s);
		} else {
			fd_render(ev, ret, res, rescap);
		}
		break;
	case PK_FD: {
		int64_t fd = (int32_t)(uint32_t)a;
		fmt_s64(raw, rawcap, fd);
		fd_render(ev, fd, res, rescap);
		break;
	}
	case PK_DIRFD: {
		int64_t fd = (int32_t)(uint32_t)a;
		fmt_s64(raw, rawcap, fd);
		if (fd == -100)
			cpy(res, rescap, "AT_FDCWD");
		else
			fd_render(ev, fd, res, rescap);
		break;
	}
	case PK_PATH0:
	case PK_PATH1: {
		int slot = ps->kind == PK_PATH0 ? VG_S_PATH0 : VG_S_PATH1;
		const char *abs = ps->kind == PK_PATH0 ? ev->path : ev->path2;
		if (r->h.kind == VG_K_SYSCALL && !ev->str[slot])
			return false;
		cpy(raw, rawcap, ev->str[slot] ? ev->str[slot] : "");
		if (abs && strcmp(abs, raw) != 0)
			cpy(res, rescap, abs);
		break;
	}
	case PK_XSTR:
		if (!ev->str[VG_S_XSTR])
			return false;
		cpy(raw, rawcap, ev->str[VG_S_XSTR]);
		break;
	case PK_OFLAGS: {
		uint32_t f = open_flags(r);
		fmt_u64(raw, rawcap, f);
		oflags_render(f, res, rescap);
		break;
	}
	case PK_FLAGS_O:
		fmt_u64(raw, rawcap, (uint32_t)a);
		flags_render(oflags, (uint32_t)a, res, rescap);
		break;
	case PK_OMODE:
	case PK_MODE: {
		uint32_t m = ps->kind == PK_OMODE ? open_mode(r) : (uint32_t)a;
		fmt_oct(raw, rawcap, m);
		flags_render(modebits, m, res, rescap);
		break;
	}
	case PK_INT:
		fmt_s64(raw, rawcap, (int32_t)(uint32_t)a);
		break;
	case PK_UINT:
		fmt_u64(raw, rawcap, a);
		break;
	case PK_HEX:
		fmt_hex(raw, rawcap, "0x", a);
		break;
	case PK_UID:
	case PK_GID:
		fmt_u64(raw, rawcap, (uint32_t)a);
		if (ev->st && (uint32_t)a != (uint32_t)-1)
			cpy(res, rescap,
			    ps->kind == PK_UID ? vg_state_user_name(ev->st, (uint32_t)a)
					       : vg_state_group_name(ev->st, (uint32_t)a));
		break;
	case PK_DOMAIN:
		fmt_u64(raw, rawcap, (uint32_t)a);
		enum_render(domains, (uint32_t)a, res, rescap);
		break;
	case PK_TUPLE:
	case PK_SOCKADDR:
	case PK_PEER:
		if (!(r->h.flags & VG_F_SOCK))
			return false;
		tuple_render(ev,
			     ps->kind == PK_TUPLE      ? T_BOTH
			     : ps->kind == PK_SOCKADDR ? T_LOCAL
						       : T_REMOTE,
			     raw, rawcap);
		break;
	case PK_PTRACE:
		fmt_u64(raw, rawcap, a);
		enum_render(ptrace_reqs, a, res, rescap);
		break;
	case PK_BPFCMD:
		fmt_u64(raw, rawcap, a);
		if (a < sizeof(bpf_cmds) / sizeof(bpf_cmds[0]))
			cpy(res, rescap, bpf_cmds[a]);
		break;
	case PK_PID: {
		int32_t pid = (int32_t)(uint32_t)a;
		fmt_s64(raw, rawcap, pid);
		const struct vg_proc *t =
			pid > 0 && ev->st ? vg_state_proc(ev->st, (uint32_t)pid) : NULL;
		if (t)
			cpy(res, rescap, t->comm);
		break;
	}
	case PK_SIG:
		fmt_u64(raw, rawcap, a);
		enum_render(signames, a, res, rescap);
		break;
	case PK_NSFLAGS:
		fmt_u64(raw, rawcap, a);
		flags_render(nsflags, a, res, rescap);
		break;
	case PK_ATFLAGS:
		fmt_u64(raw, rawcap, a);
		flags_render(atflags, a, res, rescap);
		break;
	case PK_PRCTL:
		fmt_u64(raw, rawcap, a);
		enum_render(prctl_opts, a, res, rescap);
		break;
	case PK_MFDFLAGS:
		fmt_u64(raw, rawcap, a);
		flags_render(mfdflags, a, res, rescap);
		break;
	case PK_FD1:
	case PK_FD2: {
		if (!(r->h.flags & VG_F_FDPAIR))
			return false;
		int64_t fd = r->aux[ps->kind == PK_FD1 ? 0 : 1];
		fmt_s64(raw, rawcap, fd);
		fd_render(ev, fd, res, rescap);
		break;
	}
	case PK_EXE:
		cpy(raw, rawcap, p->exe ? p->exe : "");
		break;
	case PK_ARGS:
		cpy(raw, rawcap, p->args ? p->args : "");
		break;
	case PK_TID:
		fmt_u64(raw, rawcap, r->h.tid);
		break;
	case PK_HPID:
		fmt_u64(raw, rawcap, p->pid);
		break;
	case PK_PTID:
		fmt_u64(raw, rawcap, p->ppid);
		break;
	case PK_CWD:
		cpy(raw, rawcap, p->cwd ? p->cwd : "");
		break;
	case PK_COMM:
		cpy(raw, rawcap, p->comm);
		break;
	case PK_ENV:
		env_render(p, raw, rawcap);
		break;
	case PK_TTY:
		fmt_u64(raw, rawcap, p->tty);
		break;
	case PK_PGID:
		fmt_u64(raw, rawcap, p->vpgid);
		break;
	case PK_LOGINUID:
		fmt_s64(raw, rawcap, (int32_t)p->loginuid);
		if (p->loginname && *p->loginname)
			cpy(res, rescap, p->loginname);
		break;
	case PK_EXEFLAGS:
		fmt_u64(raw, rawcap, p->exe_flags);
		flags_render(exeflags, p->exe_flags, res, rescap);
		break;
	case PK_CAPINH:
		caps_param(p->cap_inh, raw, rawcap, res, rescap);
		break;
	case PK_CAPPERM:
		caps_param(p->cap_perm, raw, rawcap, res, rescap);
		break;
	case PK_CAPEFF:
		caps_param(p->cap_eff, raw, rawcap, res, rescap);
		break;
	case PK_EXEINO:
		fmt_u64(raw, rawcap, p->exe_ino);
		break;
	case PK_EXECTIME:
		fmt_u64(raw, rawcap, p->exe_ctime_ns);
		break;
	case PK_EXEMTIME:
		fmt_u64(raw, rawcap, p->exe_mtime_ns);
		break;
	case PK_HUID:
		fmt_u64(raw, rawcap, p->uid);
		if (p->user && *p->user)
			cpy(res, rescap, p->user);
		break;
	case PK_HGID:
		fmt_u64(raw, rawcap, p->gid);
		if (p->group && *p->group)
			cpy(res, rescap, p->group);
		break;
	case PK_EXEPATH:
		cpy(raw, rawcap, p->exepath ? p->exepath : "");
		break;
	case PK_FILENAME:
		if (!ev->str[VG_X_FILENAME])
			return false;
		cpy(raw, rawcap, ev->str[VG_X_FILENAME]);
		break;
	default:
		return false;
	}
	return true;
}

bool vg_argfmt_value(const struct vg_event *ev, int i, char *out, size_t cap)
{
	const struct pdesc *d = params_of(ev);
	if (!d || i < 0 || i >= d->n || cap == 0)
		return false;
	if (d->p[i].kind == PK_OFLAGS) { /* never empty: O_RDONLY at least */
		oflags_render(open_flags(ev->raw), out, cap);
		return true;
	}
	char res[VG_STR_MAX];
	if (!vg_argfmt_render(ev, i, out, cap, res, sizeof(res)))
		return false;
	if (res[0])
		cpy(out, cap, res);
	return true;
}

size_t vg_argfmt_all(const struct vg_event *ev, char *out, size_t cap)
{
	char raw[VG_STR_MAX], res[VG_STR_MAX];
	size_t n = 0;
	if (cap == 0)
		return 0;
	out[0] = '\0';
	int cnt = vg_argfmt_count(ev);
	for (int i = 0; i < cnt; i++) {
		if (!vg_argfmt_render(ev, i, raw, sizeof(raw), res, sizeof(res)))
			continue;
		int w = snprintf(out + n, cap - n, "%s%s=%s%s%s%s", n ? " " : "",
				 vg_argfmt_name(ev, i), raw, res[0] ? "(" : "", res,
				 res[0] ? ")" : "");
		if (w < 0)
			break;
		if (n + (size_t)w >= cap) {
			n = cap - 1;
			break;
		}
		n += (size_t)w;
	}
	return n;
}
