/* Unit tests of the syscall registry (agent/event/sysreg.c) and of the one
 * open-flag/mode decoder every stage reads through it.
 *
 * test_open_decoding pins what an open-family record means to each stage
 * that decodes its flags and mode: the state (fd type and fd flags, also of
 * a failed open), evt.args / evt.arg.flags / evt.arg.mode (argfmt) and
 * evt.is_open_read/write/exec (fields), for every flag combination they
 * distinguish, on every call that carries flags (open, openat, openat2 with
 * and without its struct open_how, creat) and the calls whose flags are
 * O_* bits rendered without the open-family rules (pipe2, dup3,
 * userfaultfd).  It was written against the three separate decoders vigil
 * had before the registry, and passed there unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "argfmt.h"
#include "event.h"
#include "fields.h"
#include "recbuild.h"
#include "state.h"
#include "state_int.h" /* vg_st_has_handler */
#include "sysreg.h"

#define AT_FDCWD_U32 ((uint64_t)(uint32_t)-100)

static struct rb B;
static struct vg_event EV;
static struct vg_state *ST;

static const char *fv(const char *name)
{
	static char out[VG_FVALS_BUF];
	static struct vg_fvals v;
	struct vg_farg arg;
	size_t keylen;
	const struct vg_field *f = vg_field_find(name, strlen(name), &arg, &keylen);
	if (!f)
		fail_msg("unknown field %s", name);
	vg_field_extract(f, &EV, &arg, &v);
	if (v.n == 0)
		return "<unset>";
	vg_fval_format(&v, 0, out, sizeof(out));
	return out;
}

static const char *args(void)
{
	static char out[4096];
	vg_argfmt_all(&EV, false, out, sizeof(out));
	return out;
}

static int setup(void **unused)
{
	(void)unused;
	struct vg_state_opts o = {.proc_root = "/nonexistent",
				  .etc_root = "/nonexistent",
				  .hostname = "node-1",
				  .ts_is_wall = true};
	ST = vg_state_new(&o);
	return ST ? 0 : -1;
}

static int teardown(void **unused)
{
	(void)unused;
	vg_state_free(ST);
	return 0;
}

/* ------------------------------------------------------------------ */
/* the open family                                                     */

struct ocase {
	int nr;
	bool openhow; /* openat2: the record carries struct open_how */
	int64_t ret;
	uint32_t flags, mode;	  /* what the call was given */
	const char *flagstr;	  /* evt.arg.flags */
	const char *modestr;	  /* evt.arg.mode */
	const char *rd, *wr, *ex; /* evt.is_open_read/write/exec */
	char typechar;		  /* of the fd the open made */
	uint32_t fdflags;	  /* flags the state keeps on it */
	const char *evargs;	  /* evt.args */
};

/* bits */
#define WR 01
#define RW 02
#define CR 0100
#define EX 0200
#define TR 01000
#define AP 02000
#define NB 04000
#define DS 010000
#define DIR 0200000
#define CLX 02000000
#define SYNC 04010000
#define PATH 010000000
#define TMPF 020200000

static const struct ocase ocases[] = {
	{VG_NR_open, false, 5, 0, 0, "O_RDONLY", "00", "true", "false", "false", 'f', 0,
	 "fd=5(<f>/tmp/f) name=/tmp/f flags=0(O_RDONLY) mode=00"},
	{VG_NR_open, false, 5, WR | CR | TR, 0644, "O_WRONLY|O_CREAT|O_TRUNC",
	 "S_IRUSR|S_IWUSR|S_IRGRP|S_IROTH", "false", "true", "false", 'f', WR | CR | TR,
	 "fd=5(<f>/tmp/f) name=/tmp/f flags=577(O_WRONLY|O_CREAT|O_TRUNC) "
	 "mode=0644(S_IRUSR|S_IWUSR|S_IRGRP|S_IROTH)"},
	{VG_NR_open, false, 5, RW | CR | EX, 0755, "O_RDWR|O_CREAT|O_EXCL",
	 "S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH", "true", "true", "true", 'f',
	 RW | CR | EX,
	 "fd=5(<f>/tmp/f) name=/tmp/f flags=194(O_RDWR|O_CREAT|O_EXCL) "
	 "mode=0755(S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH)"},
	/* an execute bit without O_CREAT is not an exec-open */
	{VG_NR_open, false, 5, WR, 0755, "O_WRONLY",
	 "S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH", "false", "true", "false", 'f',
	 WR,
	 "fd=5(<f>/tmp/f) name=/tmp/f flags=1(O_WRONLY) "
	 "mode=0755(S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH)"},
	/* both access bits: the kernel reads it as O_RDWR|O_WRONLY, is_open_* as neither read nor
	 * write-only */
	{VG_NR_open, false, 5, 3, 0, "O_WRONLY|O_RDWR", "00", "false", "false", "false", 'f', 3,
	 "fd=5(<f>/tmp/f) name=/tmp/f flags=3(O_WRONLY|O_RDWR) mode=00"},
	{VG_NR_openat, false, 7, DIR | CLX | NB, 0, "O_RDONLY|O_NONBLOCK|O_DIRECTORY|O_CLOEXEC",
	 "00", "true", "false", "false", 'd', DIR | CLX | NB,
	 "fd=7(<d>/tmp/f) dirfd=-100(AT_FDCWD) name=/tmp/f "
	 "flags=591872(O_RDONLY|O_NONBLOCK|O_DIRECTORY|O_CLOEXEC) mode=00"},
	/* O_SYNC includes O_DSYNC's bit and shows alone; O_TMPFILE includes O_DIRECTORY's */
	{VG_NR_openat, false, 7, WR | SYNC | AP, 0600, "O_WRONLY|O_APPEND|O_SYNC",
	 "S_IRUSR|S_IWUSR", "false", "true", "false", 'f', WR | SYNC | AP,
	 "fd=7(<f>/tmp/f) dirfd=-100(AT_FDCWD) name=/tmp/f "
	 "flags=1053697(O_WRONLY|O_APPEND|O_SYNC) mode=0600(S_IRUSR|S_IWUSR)"},
	{VG_NR_openat, false, 7, WR | DS, 0, "O_WRONLY|O_DSYNC", "00", "false", "true", "false",
	 'f', WR | DS,
	 "fd=7(<f>/tmp/f) dirfd=-100(AT_FDCWD) name=/tmp/f flags=4097(O_WRONLY|O_DSYNC) "
	 "mode=00"},
	{VG_NR_openat, false, 7, RW | TMPF, 0700, "O_RDWR|O_TMPFILE", "S_IRUSR|S_IWUSR|S_IXUSR",
	 "true", "true", "false", 'd', RW | TMPF,
	 "fd=7(<d>/tmp/f) dirfd=-100(AT_FDCWD) name=/tmp/f flags=4259842(O_RDWR|O_TMPFILE) "
	 "mode=0700(S_IRUSR|S_IWUSR|S_IXUSR)"},
	{VG_NR_openat, false, 7, PATH | 0400000 | 01000000 | 0100000 | 040000 | 020000 | 0400, 0,
	 "O_RDONLY|O_NOCTTY|FASYNC|O_DIRECT|O_LARGEFILE|O_NOFOLLOW|O_NOATIME|O_PATH", "00", "true",
	 "false", "false", 'f', PATH | 0400000 | 01000000 | 0100000 | 040000 | 020000 | 0400,
	 "fd=7(<f>/tmp/f) dirfd=-100(AT_FDCWD) name=/tmp/f "
	 "flags=2547968(O_RDONLY|O_NOCTTY|FASYNC|O_DIRECT|O_LARGEFILE|O_NOFOLLOW|O_NOATIME|O_PATH) "
	 "mode=00"},
	{VG_NR_openat, false, 7, WR | CR, 07777, "O_WRONLY|O_CREAT",
	 "S_ISUID|S_ISGID|S_ISVTX|S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IWGRP|S_IXGRP|S_IROTH|S_IWOTH|"
	 "S_IXOTH",
	 "false", "true", "true", 'f', WR | CR,
	 "fd=7(<f>/tmp/f) dirfd=-100(AT_FDCWD) name=/tmp/f flags=65(O_WRONLY|O_CREAT) "
	 "mode=07777(S_ISUID|S_ISGID|S_ISVTX|S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IWGRP|S_IXGRP|"
	 "S_IROTH|S_IWOTH|S_IXOTH)"},
	/* openat2 reads flags and mode from struct open_how (aux), not the arguments */
	{VG_NR_openat2, true, 8, WR | CR | CLX, 0711, "O_WRONLY|O_CREAT|O_CLOEXEC",
	 "S_IRUSR|S_IWUSR|S_IXUSR|S_IXGRP|S_IXOTH", "false", "true", "true", 'f', WR | CR | CLX,
	 "fd=8(<f>/tmp/f) dirfd=-100(AT_FDCWD) name=/tmp/f "
	 "flags=524353(O_WRONLY|O_CREAT|O_CLOEXEC) "
	 "mode=0711(S_IRUSR|S_IWUSR|S_IXUSR|S_IXGRP|S_IXOTH)"},
	{VG_NR_openat2, false, 8, WR | CR | CLX, 0711, "O_RDONLY", "00", "true", "false", "false",
	 'f', 0, "fd=8(<f>/tmp/f) dirfd=-100(AT_FDCWD) name=/tmp/f flags=0(O_RDONLY) mode=00"},
	/* creat: O_WRONLY|O_CREAT|O_TRUNC whatever it is given; its mode is a plain mode */
	{VG_NR_creat, false, 9, 0, 0755, "O_WRONLY|O_CREAT|O_TRUNC",
	 "S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH", "false", "true", "true", 'f',
	 WR | CR | TR,
	 "fd=9(<f>/tmp/f) name=/tmp/f mode=0755(S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|S_IROTH|"
	 "S_IXOTH)"},
	{VG_NR_creat, false, 9, 0, 0, "O_WRONLY|O_CREAT|O_TRUNC", "00", "false", "true", "false",
	 'f', WR | CR | TR, "fd=9(<f>/tmp/f) name=/tmp/f mode=00"},
	/* a failed open still describes the file it names, as fd -1 */
	{VG_NR_openat, false, -2, DIR, 0, "O_RDONLY|O_DIRECTORY", "00", "true", "false", "false",
	 'd', DIR,
	 "fd=-2(ENOENT) dirfd=-100(AT_FDCWD) name=/tmp/f flags=65536(O_RDONLY|O_DIRECTORY) "
	 "mode=00"},
	{VG_NR_open, false, -13, WR | CR, 0644, "O_WRONLY|O_CREAT",
	 "S_IRUSR|S_IWUSR|S_IRGRP|S_IROTH", "false", "true", "false", 'f', WR | CR,
	 "fd=-13(EACCES) name=/tmp/f flags=65(O_WRONLY|O_CREAT) "
	 "mode=0644(S_IRUSR|S_IWUSR|S_IRGRP|S_IROTH)"},
};

static void open_rec(const struct ocase *c)
{
	rb_sys(&B, c->nr, 100, c->ret);
	rb_str(&B, VG_S_PATH0, "/tmp/f");
	switch (c->nr) {
	case VG_NR_open:
		B.r.arg[1] = c->flags;
		B.r.arg[2] = c->mode;
		break;
	case VG_NR_openat:
		B.r.arg[0] = AT_FDCWD_U32;
		B.r.arg[2] = c->flags;
		B.r.arg[3] = c->mode;
		break;
	case VG_NR_openat2:
		B.r.arg[0] = AT_FDCWD_U32;
		/* arg 2 is the user pointer to struct open_how: never decoded */
		B.r.arg[2] = 0x7ffd0000u;
		B.r.arg[3] = 24;
		if (c->openhow) {
			B.r.h.flags |= VG_F_OPENHOW;
			B.r.aux[0] = c->flags;
			B.r.aux[1] = c->mode;
		}
		break;
	case VG_NR_creat:
		B.r.arg[1] = c->mode;
		break;
	}
}

static void test_open_decoding(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof(ocases) / sizeof(ocases[0]); i++) {
		const struct ocase *c = &ocases[i];
		print_message("case %zu: %s flags %#o mode %#o\n", i, vg_evtype_name(c->nr),
			      c->flags, c->mode);
		open_rec(c);
		assert_int_equal(vg_state_apply(ST, &B.r, rb_size(&B), &EV), 0);
		assert_string_equal(args(), c->evargs);
		assert_string_equal(fv("evt.arg.flags"),
				    c->nr == VG_NR_creat ? "<unset>" : c->flagstr);
		assert_string_equal(fv("evt.arg.mode"), c->modestr);
		assert_string_equal(fv("evt.is_open_read"), c->rd);
		assert_string_equal(fv("evt.is_open_write"), c->wr);
		assert_string_equal(fv("evt.is_open_exec"), c->ex);
		assert_non_null(EV.fdi);
		assert_int_equal(EV.fdi->fd, c->ret < 0 ? -1 : c->ret);
		assert_int_equal(EV.fdi->typechar, c->typechar);
		assert_int_equal(EV.fdi->flags, c->fdflags);
		assert_string_equal(EV.fdi->name, "/tmp/f");
	}
}

/* Calls whose flags argument holds O_* bits (pipe2, dup3, userfaultfd):
 * the names of the bits set, without the open family's O_RDONLY and without
 * folding O_DSYNC into O_SYNC. */
struct fcase {
	int nr;
	uint32_t flags;
	const char *flagstr; /* evt.arg.flags */
	const char *evargs;
};

static const struct fcase fcases[] = {
	{VG_NR_pipe2, 0, "0", "res=0 fd1=3(<p>) fd2=4(<p>) flags=0"},
	{VG_NR_pipe2, CLX | NB, "O_NONBLOCK|O_CLOEXEC",
	 "res=0 fd1=3(<p>) fd2=4(<p>) flags=526336(O_NONBLOCK|O_CLOEXEC)"},
	{VG_NR_pipe2, SYNC, "O_DSYNC|O_SYNC",
	 "res=0 fd1=3(<p>) fd2=4(<p>) flags=1052672(O_DSYNC|O_SYNC)"},
	{VG_NR_pipe2, 040000, "O_DIRECT", "res=0 fd1=3(<p>) fd2=4(<p>) flags=16384(O_DIRECT)"},
	{VG_NR_dup3, CLX, "O_CLOEXEC",
	 "res=6(<p>) oldfd=3(<p>) newfd=6(<p>) flags=524288(O_CLOEXEC)"},
	{VG_NR_dup3, 0, "0", "res=6(<p>) oldfd=3(<p>) newfd=6(<p>) flags=0"},
	{VG_NR_userfaultfd, CLX | NB, "O_NONBLOCK|O_CLOEXEC",
	 "res=10 flags=526336(O_NONBLOCK|O_CLOEXEC)"},
	{VG_NR_userfaultfd, TMPF, "O_DIRECTORY|O_TMPFILE",
	 "res=10 flags=4259840(O_DIRECTORY|O_TMPFILE)"},
};

static void test_oflag_args(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		const struct fcase *c = &fcases[i];
		print_message("case %zu: %s flags %#o\n", i, vg_evtype_name(c->nr), c->flags);
		switch (c->nr) {
		case VG_NR_pipe2:
			rb_sys(&B, VG_NR_pipe2, 100, 0);
			B.r.h.flags |= VG_F_FDPAIR;
			B.r.aux[0] = 3;
			B.r.aux[1] = 4;
			B.r.arg[1] = c->flags;
			break;
		case VG_NR_dup3:
			rb_sys(&B, VG_NR_dup3, 100, 6);
			B.r.arg[0] = 3;
			B.r.arg[1] = 6;
			B.r.arg[2] = c->flags;
			break;
		default:
			rb_sys(&B, c->nr, 100, 10);
			B.r.arg[0] = c->flags;
			break;
		}
		assert_int_equal(vg_state_apply(ST, &B.r, rb_size(&B), &EV), 0);
		assert_string_equal(args(), c->evargs);
		assert_string_equal(fv("evt.arg.flags"), c->flagstr);
		assert_string_equal(fv("evt.is_open_read"), "<unset>");
	}
}

/* ------------------------------------------------------------------ */
/* the registry against bpf/syscalls.h                                 */

#define BPF_ROW(name, nr, ...) {#name, nr},
static const struct {
	const char *name;
	int nr;
} bpf_rows[] = {VG_SYSCALLS(BPF_ROW)};
#undef BPF_ROW

static void check_params(const struct vg_sysreg *row, const char *what)
{
	if (!row)
		fail_msg("%s: no registry row", what);
	if (!row->params || row->nparams == 0)
		fail_msg("%s: no parameter spec", what);
	for (int i = 0; i < row->nparams; i++) {
		const struct vg_param *p = &row->params[i];
		if (!p->name || !p->name[0] || p->kind == 0 || p->kind >= VG_P_MAX)
			fail_msg("%s: parameter %d is malformed", what, i);
		if (p->arg < 0 || p->arg > 5)
			fail_msg("%s: parameter %s reads argument %d", what, p->name, p->arg);
		for (int j = 0; j < i; j++)
			if (strcmp(row->params[j].name, p->name) == 0)
				fail_msg("%s: parameter %s twice", what, p->name);
	}
	if (!vg_st_has_handler(row->apply))
		fail_msg("%s: state handler family %d has no handler", what, row->apply);
}

static bool has_kind(const struct vg_sysreg *row, int kind)
{
	for (int i = 0; i < row->nparams; i++)
		if (row->params[i].kind == kind)
			return true;
	return false;
}

/* Every syscall the BPF side can emit has a row with a parameter spec and
 * a handler; every event that is not a syscall too (exec, fork, exit, the
 * /proc snapshot); the registry has no syscall the BPF side does not know;
 * and what a row says of arguments and paths fits the BPF row. */
static void test_rows_cover_bpf(void **unused)
{
	(void)unused;
	size_t n = sizeof(bpf_rows) / sizeof(bpf_rows[0]);
	assert_true(n >= 60);
	for (size_t i = 0; i < n; i++) {
		int nr = bpf_rows[i].nr;
		const struct vg_sysreg *row = vg_sysreg(nr);
		check_params(row, bpf_rows[i].name);
		const struct vg_sc_desc *d = vg_syscall_desc(nr);
		assert_non_null(d);
		if (has_kind(row, VG_P_PATH0) && d->p0 < 0)
			fail_msg("%s: shows a path the BPF row does not capture", bpf_rows[i].name);
		if (has_kind(row, VG_P_PATH1) && d->p1 < 0)
			fail_msg("%s: shows a second path the BPF row does not capture",
				 bpf_rows[i].name);
		if (has_kind(row, VG_P_XSTR) && d->xs < 0)
			fail_msg("%s: shows a string the BPF row does not capture",
				 bpf_rows[i].name);
		/* every captured path has a role for fs.path.*, but exec's (the
		 * exec event's business) and mount's (a mount point, not a file) */
		if (d->p0 >= 0 && !(d->flags & VG_SC_EXEC) && nr != VG_NR_mount)
			assert_int_not_equal(row->paths, VG_PATHS_NONE);
		switch (row->paths) {
		case VG_PATHS_LINK:
			assert_true(d->xs >= 0);
			/* fall through */
		case VG_PATHS_NAME:
			/* a path argument, or the file of fd argument 0 */
			assert_true(d->p0 >= 0 || (d->flags & VG_SC_FDFILE));
			assert_false(d->flags & (VG_SC_EXEC | VG_SC_P0RAW));
			break;
		case VG_PATHS_MOVE:
			assert_true(d->p0 >= 0 && d->p1 >= 0);
			break;
		}
		switch (row->open) {
		case VG_OPEN_ARGS:
			assert_true(row->flags_arg >= 0 && row->flags_arg < 6);
			/* a call without a mode (open_by_handle_at) says -1 */
			assert_true(row->mode_arg >= -1 && row->mode_arg < 6);
			break;
		case VG_OPEN_CREAT:
			assert_true(row->mode_arg >= 0 && row->mode_arg < 6);
			break;
		case VG_OPEN_HOW:
			assert_true(d->flags & VG_SC_OPENHOW);
			break;
		}
		if (row->apply == VG_SA_SETUID || row->apply == VG_SA_SETGID)
			assert_true(row->id_arg >= 0 && row->id_arg < 6);
		assert_true(row->cloexec_arg >= -1 && row->cloexec_arg < 6);
		/* a row's type is the call of the same name */
		assert_string_equal(vg_evtype_name(nr), bpf_rows[i].name);
	}
	for (int t = 0; t < VG_NR_MAX; t++)
		if (vg_sysreg(t) && !vg_syscall_desc(t))
			fail_msg("registry row %d has no VG_SYSCALLS row", t);

	static const struct {
		int kind, type;
		const char *name;
	} others[] = {
		{VG_K_EXEC, VG_NR_execve, "exec"},	{VG_K_EXEC, VG_NR_execveat, "exec"},
		{VG_K_PROC, VG_T_PROCSNAP, "procsnap"}, {VG_K_FORK, VG_T_PROCFORK, "procfork"},
		{VG_K_EXIT, VG_T_PROCEXIT, "procexit"},
	};
	struct vg_rec r;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.h.kind = (uint16_t)others[i].kind;
		const struct vg_sysreg *row = vg_sysreg_rec(&r, others[i].type);
		check_params(row, others[i].name);
		assert_int_equal(row->apply, VG_SA_NONE);
	}
	/* a failed execve is a syscall: its own row, not the exec event's */
	memset(&r, 0, sizeof(r));
	r.h.kind = VG_K_SYSCALL;
	assert_ptr_equal(vg_sysreg_rec(&r, VG_NR_execve), vg_sysreg(VG_NR_execve));
	assert_ptr_not_equal(vg_sysreg(VG_NR_execve), vg_sysreg_at(VG_SR_EXEC));
	assert_null(vg_sysreg(0)); /* read: not a vigil syscall */
	assert_null(vg_sysreg(-1));
	assert_null(vg_sysreg(VG_T_MAX));
	assert_null(vg_sysreg_rec(&r, 0));
}

/* The single decoder gives, on its own, what test_open_decoding saw every
 * stage make of the same records. */
static void test_decoder(void **unused)
{
	(void)unused;
	char out[512];
	for (size_t i = 0; i < sizeof(ocases) / sizeof(ocases[0]); i++) {
		const struct ocase *c = &ocases[i];
		print_message("case %zu: %s flags %#o mode %#o\n", i, vg_evtype_name(c->nr),
			      c->flags, c->mode);
		open_rec(c);
		const struct vg_sysreg *row = vg_sysreg(c->nr);
		assert_non_null(row);
		assert_int_not_equal(row->open, VG_OPEN_NONE);
		uint32_t f = vg_open_flags(row, &B.r);
		assert_int_equal(f, c->fdflags);
		assert_int_equal(vg_oflags_render(f, out, sizeof(out)), strlen(c->flagstr));
		assert_string_equal(out, c->flagstr);
		uint32_t m = vg_open_mode(row, &B.r);
		assert_int_equal(m, c->nr == VG_NR_openat2 && !c->openhow ? 0 : c->mode);
		vg_mode_render(m, out, sizeof(out));
		assert_string_equal(out, strcmp(c->modestr, "00") == 0 ? "" : c->modestr);
	}
	for (size_t i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		vg_obits_render(fcases[i].flags, out, sizeof(out));
		assert_string_equal(out,
				    strcmp(fcases[i].flagstr, "0") == 0 ? "" : fcases[i].flagstr);
	}
	/* not an open-family call: nothing decoded */
	rb_sys(&B, VG_NR_pipe2, 100, 0);
	B.r.arg[1] = VG_O_CLOEXEC;
	assert_int_equal(vg_open_flags(vg_sysreg(VG_NR_pipe2), &B.r), 0);
	assert_int_equal(vg_open_mode(vg_sysreg(VG_NR_pipe2), &B.r), 0);
	/* truncation: at cap - 1, never past */
	memset(out, 'x', sizeof(out));
	assert_int_equal(vg_oflags_render(VG_O_WRONLY | VG_O_CREAT, out, 10), 9);
	assert_string_equal(out, "O_WRONLY|");
	assert_int_equal(vg_oflags_render(VG_O_WRONLY, out, 0), 0);
	assert_int_equal(out[0], 'O');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_decoding),
		cmocka_unit_test(test_oflag_args),
		cmocka_unit_test(test_rows_cover_bpf),
		cmocka_unit_test(test_decoder),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
