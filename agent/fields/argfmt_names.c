/* argfmt_names.c - the name tables of syscall parameters: errno names,
 * capabilities, and the flags and values of open, clone, ptrace, bpf,
 * prctl, signals...; see argfmt_int.h.  Flag names are the kernel's
 * (O_CREAT, S_ISUID, PTRACE_ATTACH...).
 */
#include <errno.h>
#include <sys/socket.h>

#include "argfmt_int.h"
#include "state.h"

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

const struct fname vg_argfmt_nsflags[] = {
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

const struct fname vg_argfmt_atflags[] = {
	{0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_REMOVEDIR"},   {0x400, "AT_SYMLINK_FOLLOW"},
	{0x800, "AT_NO_AUTOMOUNT"},	{0x1000, "AT_EMPTY_PATH"}, {0, NULL},
};

const struct fname vg_argfmt_mfdflags[] = {
	{1, "MFD_CLOEXEC"},	{2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"},
	{8, "MFD_NOEXEC_SEAL"}, {16, "MFD_EXEC"},	  {0, NULL},
};

const struct fname vg_argfmt_exeflags[] = {
	{VG_EXE_UPPER, "EXE_UPPER_LAYER"},
	{VG_EXE_MEMFD, "EXE_FROM_MEMFD"},
	{0, NULL},
};

const struct fname vg_argfmt_domains[] = {
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

const struct fname vg_argfmt_ptrace_reqs[] = {
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

const char *const vg_argfmt_bpf_cmds[] = {
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

const size_t vg_argfmt_nbpf_cmds = sizeof(vg_argfmt_bpf_cmds) / sizeof(vg_argfmt_bpf_cmds[0]);

const struct fname vg_argfmt_signames[] = {
	{1, "SIGHUP"},	   {2, "SIGINT"},   {3, "SIGQUIT"},   {4, "SIGILL"},   {5, "SIGTRAP"},
	{6, "SIGABRT"},	   {7, "SIGBUS"},   {8, "SIGFPE"},    {9, "SIGKILL"},  {10, "SIGUSR1"},
	{11, "SIGSEGV"},   {12, "SIGUSR2"}, {13, "SIGPIPE"},  {14, "SIGALRM"}, {15, "SIGTERM"},
	{16, "SIGSTKFLT"}, {17, "SIGCHLD"}, {18, "SIGCONT"},  {19, "SIGSTOP"}, {20, "SIGTSTP"},
	{21, "SIGTTIN"},   {22, "SIGTTOU"}, {23, "SIGURG"},   {24, "SIGXCPU"}, {25, "SIGXFSZ"},
	{26, "SIGVTALRM"}, {27, "SIGPROF"}, {28, "SIGWINCH"}, {29, "SIGIO"},   {30, "SIGPWR"},
	{31, "SIGSYS"},	   {0, NULL},
};

const struct fname vg_argfmt_prctl_opts[] = {
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

void vg_argfmt_flags_render(const struct fname *t, uint64_t v, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (; t->n; t++)
		if (t->v && (v & t->v) == t->v)
			put(out, cap, &n, "|", t->n);
}

void vg_argfmt_enum_render(const struct fname *t, uint64_t v, char *out, size_t cap)
{
	out[0] = '\0';
	for (; t->n; t++)
		if (t->v == v) {
			cpy(out, cap, t->n);
			return;
		}
}
