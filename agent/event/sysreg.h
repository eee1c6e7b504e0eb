/* sysreg.h - the syscall registry: what each event type means in user space.
 *
 * One row per event type, indexed by the syscall number (the ids of
 * bpf/syscalls.h's VG_SYSCALLS) or the pseudo type (event.h), plus one row
 * for the exec event.  A row says:
 *   - the parameters evt.arg[n], evt.arg.NAME and evt.args show, in order,
 *     each with its name, how it renders (enum vg_pkind) and which argument
 *     it reads;
 *   - where an open-family call keeps its flags and mode (enum vg_open_src);
 *   - the role of its paths for fs.path.* (enum vg_path_role);
 *   - whether the state needs the call captured whatever the rules say
 *     (VG_SR_STATE);
 *   - which state handler applies it (enum vg_sys_apply).
 *
 * Where it lives: the rows are data every stage above the kernel reads
 * (state applies records, fields renders parameters and open flags, the
 * engine asks which calls the state needs), so the table is in the lowest
 * of them, event/, next to the event types.  The handlers are code of the
 * state, which event/ cannot include: a row names its handler by family
 * (vg_sys_apply) and agent/state/state_sys.c holds one function per family
 * in an array indexed by it, so applying a record is two array indexes and
 * no search.  bpf/syscalls.h stays the kernel side's truth for what to
 * capture (the BPF program cannot read this table); test_sysreg checks that
 * the two agree row for row.  docs/adding-a-syscall.md walks through adding
 * a syscall to both.
 */
#ifndef VIGIL_SYSREG_H
#define VIGIL_SYSREG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* How a parameter renders (agent/fields/argfmt.c): a raw value and, for
 * some kinds, a resolved one. */
enum vg_pkind {
	VG_P_RES = 1,  /* return value as errno */
	VG_P_RETINT,   /* return value as a number */
	VG_P_FDRET,    /* return value as fd */
	VG_P_FD,       /* arg as fd */
	VG_P_DIRFD,    /* arg as dirfd (AT_FDCWD) */
	VG_P_PATH0,    /* first path (resolved) */
	VG_P_PATH1,    /* second path (resolved) */
	VG_P_XSTR,     /* extra string */
	VG_P_OFLAGS,   /* open flags of the open family (vg_open_flags) */
	VG_P_OMODE,    /* mode of the open family (vg_open_mode) */
	VG_P_FLAGS_O,  /* arg as O_* flags (pipe2, dup3, userfaultfd) */
	VG_P_MODE,     /* arg as file mode */
	VG_P_INT,      /* arg as int */
	VG_P_UINT,     /* arg as unsigned */
	VG_P_HEX,      /* arg as hexadecimal */
	VG_P_UID,      /* arg as uid */
	VG_P_GID,      /* arg as gid */
	VG_P_DOMAIN,   /* arg as address family */
	VG_P_TUPLE,    /* the record's socket tuple */
	VG_P_SOCKADDR, /* the record's local address (bind) */
	VG_P_PEER,     /* the record's remote address (connect) */
	VG_P_PTRACE,   /* ptrace request */
	VG_P_BPFCMD,   /* bpf command */
	VG_P_PID,      /* arg as pid */
	VG_P_SIG,      /* arg as signal */
	VG_P_NSFLAGS,  /* arg as CLONE_* flags */
	VG_P_ATFLAGS,  /* arg as AT_* flags */
	VG_P_PRCTL,    /* prctl option */
	VG_P_MFDFLAGS, /* memfd_create flags */
	VG_P_FD1,      /* first fd of a pair */
	VG_P_FD2,      /* second fd of a pair */
	/* from the process description (exec, fork) */
	VG_P_EXE,
	VG_P_ARGS,
	VG_P_TID,
	VG_P_HPID,
	VG_P_PTID,
	VG_P_CWD,
	VG_P_COMM,
	VG_P_ENV,
	VG_P_TTY,
	VG_P_PGID,
	VG_P_LOGINUID,
	VG_P_EXEFLAGS,
	VG_P_CAPINH,
	VG_P_CAPPERM,
	VG_P_CAPEFF,
	VG_P_EXEINO,
	VG_P_EXECTIME,
	VG_P_EXEMTIME,
	VG_P_HUID,
	VG_P_HGID,
	VG_P_EXEPATH,
	VG_P_FILENAME,
	VG_P_MAX,
};

struct vg_param {
	const char *name; /* evt.arg.NAME */
	uint8_t kind;	  /* enum vg_pkind */
	int8_t arg;	  /* the syscall argument it reads (kinds that read one) */
};

/* Where an open-family call passes its flags and mode. */
enum vg_open_src {
	VG_OPEN_NONE = 0, /* not an open-family call */
	VG_OPEN_ARGS,	  /* arguments flags_arg and mode_arg (open, openat) */
	VG_OPEN_HOW,	  /* struct open_how, copied to aux[0..1] under VG_F_OPENHOW (openat2) */
	VG_OPEN_CREAT,	  /* O_WRONLY|O_CREAT|O_TRUNC, mode in mode_arg (creat) */
};

/* What the paths of a call are to fs.path.* */
enum vg_path_role {
	VG_PATHS_NONE = 0, /* no fs.path.* (no path, exec, mount) */
	VG_PATHS_NAME,	   /* fs.path.name: the first path */
	VG_PATHS_MOVE,	   /* fs.path.source: the first path, target: the second (rename, link) */
	VG_PATHS_LINK,	   /* source: the link's target string, target: the first path (symlink) */
};

/* The state's handler families (agent/state/state_sys.c). */
enum vg_sys_apply {
	VG_SA_NONE = 0,	  /* paths only */
	VG_SA_OPEN,	  /* a new file fd (open family) */
	VG_SA_CLOSE,	  /* fd closed */
	VG_SA_DUP,	  /* fd copied (dup, dup2, dup3) */
	VG_SA_PIPE,	  /* two pipe fds */
	VG_SA_SOCKETPAIR, /* two unix socket fds */
	VG_SA_SOCKET,	  /* a new socket fd */
	VG_SA_CONNECT,	  /* client end of a socket */
	VG_SA_ACCEPT,	  /* a new server-side connection fd */
	VG_SA_BIND,	  /* server end of a socket (bind, listen) */
	VG_SA_SEND,	  /* data sent on a socket: its ends */
	VG_SA_RECV,	  /* data received on a socket: its ends (a server's when unconnected) */
	VG_SA_MEMFD,	  /* a new memfd */
	VG_SA_CHDIR,	  /* cwd from a path */
	VG_SA_FCHDIR,	  /* cwd from an fd */
	VG_SA_FDARG,	  /* the call is about the fd in argument 0 */
	VG_SA_SETUID,	  /* the effective uid may change */
	VG_SA_SETGID,	  /* the effective gid may change */
	VG_SA_CLONE,	  /* a child, when the fork record was lost */
	VG_SA_MAX,
};

/* row flags */
#define VG_SR_STATE 0x01 /* the state needs it captured whatever the rules say */

struct vg_sysreg {
	const struct vg_param *params; /* evt.arg[0..nparams-1] */
	uint8_t nparams;
	uint8_t flags;	    /* VG_SR_* */
	uint8_t apply;	    /* enum vg_sys_apply */
	uint8_t open;	    /* enum vg_open_src */
	int8_t flags_arg;   /* VG_OPEN_ARGS: the flags argument; else -1 */
	int8_t mode_arg;    /* VG_OPEN_ARGS, VG_OPEN_CREAT: the mode argument; else -1 */
	int8_t id_arg;	    /* VG_SA_SETUID/SETGID: the argument holding the new effective id */
	int8_t cloexec_arg; /* the argument whose O_CLOEXEC bit the new fd takes (pipe2, dup3,
			     * socketpair, accept4); -1 none */
	uint8_t paths;	    /* enum vg_path_role */
};

/* Index of the exec event's row: exec records (VG_K_EXEC) carry the type
 * of the call (execve, execveat) but the process description as
 * parameters. */
#define VG_SR_EXEC VG_T_MAX
#define VG_SR_ROWS (VG_T_MAX + 1)

/* The rows, indexed as above; read them through the functions below. */
extern const struct vg_sysreg vg_sysreg_rows[VG_SR_ROWS];

/* The row of an event type (a syscall of VG_SYSCALLS or a pseudo type),
 * NULL when vigil has none.  Inline: the state and the fields look it up
 * on every event. */
static inline const struct vg_sysreg *vg_sysreg(int type)
{
	if (type < 0 || type >= VG_T_MAX || !vg_sysreg_rows[type].params)
		return NULL;
	return &vg_sysreg_rows[type];
}
/* The row that describes record r decoded as event type `type`: exec and
 * /proc records take the exec row, forks and exits their pseudo types'. */
const struct vg_sysreg *vg_sysreg_rec(const struct vg_rec *r, int type);
/* Row by index (0 .. VG_SR_ROWS-1), NULL when empty; for tests and docs. */
const struct vg_sysreg *vg_sysreg_at(int i);

/* The one decoder of open-family flags and mode: what the call asked for,
 * from where the row says (0 when the row is no open-family call, or
 * openat2's open_how was not read). */
uint32_t vg_open_flags(const struct vg_sysreg *row, const struct vg_rec *r);
uint32_t vg_open_mode(const struct vg_sysreg *row, const struct vg_rec *r);

/* Names of flag bits.  vg_oflags_render() renders open-family flags as
 * Falco does: O_RDONLY when neither access bit is set, O_SYNC and
 * O_TMPFILE without the O_DSYNC and O_DIRECTORY bits they include.
 * vg_obits_render() names every O_* bit set, as for pipe2/dup3 flags;
 * vg_mode_render() the S_I* bits of a mode.  Each writes "" when nothing is
 * named, truncates at cap - 1 and returns the length. */
size_t vg_oflags_render(uint32_t flags, char *out, size_t cap);
size_t vg_obits_render(uint32_t flags, char *out, size_t cap);
size_t vg_mode_render(uint32_t mode, char *out, size_t cap);

/* Whether a socket call's negative return is one it can only give once it
 * has found that its fd is a socket (EINPROGRESS, ECONNREFUSED...): the
 * state learns a socket from such a call, never from one that may have
 * failed on another kind of fd (ENOTSOCK, EBADF, EFAULT...), and the
 * prefilter's analysis (agent/engine/prefilter.c) relies on the same. */
static inline bool vg_sock_errno(int64_t ret)
{
	switch (ret) {
	case -115: /* EINPROGRESS */
	case -114: /* EALREADY */
	case -111: /* ECONNREFUSED */
	case -110: /* ETIMEDOUT */
	case -113: /* EHOSTUNREACH */
	case -101: /* ENETUNREACH */
	case -106: /* EISCONN */
	case -107: /* ENOTCONN */
	case -104: /* ECONNRESET */
	case -103: /* ECONNABORTED */
	case -98:  /* EADDRINUSE */
	case -99:  /* EADDRNOTAVAIL */
		return true;
	}
	return false;
}

/* Open flag bits (the kernel's values, x86_64) the stages test. */
#define VG_O_ACCMODE 03
#define VG_O_WRONLY 01
#define VG_O_RDWR 02
#define VG_O_CREAT 0100
#define VG_O_TRUNC 01000
#define VG_O_DIRECTORY 0200000
#define VG_O_CLOEXEC 02000000

#endif
