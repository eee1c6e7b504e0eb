/* Unit tests of the condition compiler (agent/engine/cond_*.c) on real events built
 * from raw records: grammar and precedence, every operator, modifiers,
 * transformers, val(), field arguments, lists and macros, IP networks,
 * unset fields, event-type sets, and error messages with their positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <regex.h>
#include <time.h>

#include "cond.h"
#include "cond_regex.h"
#include "event.h"
#include "scene.h"

static struct scene S;
static struct vg_cond_scratch *SCR;
static struct vg_cond_fieldset *FS;

/* ---- the test environment: macros and lists from small tables ---------- */

static const struct {
	const char *name, *text;
	int line, col;
} macros[] = {
	{"is_shell", "proc.name in (shell_binaries)", 0, 0},
	{"open_read", "evt.type in (open, openat) and evt.is_open_read=true", 0, 0},
	{"shell_open_read", "open_read and is_shell", 0, 0},
	{"cat_reads", "open_read and proc.name = cat", 0, 0},
	{"never_true", "proc.name = nobody-at-all", 0, 0},
	/* errors inside a macro are reported at the macro's own position */
	{"bad_macro", "proc.name = x and\n  proc.nme = y", 7, 14},
	{"loop_a", "proc.name = x or loop_b", 0, 0},
	{"loop_b", "(loop_a)", 0, 0},
	{"self_loop", "not self_loop", 0, 0},
};

static const char *const l_shells[] = {"bash", "sh", "zsh"};
static const char *const l_editors[] = {"vi", "nano"};
static const char *const l_sensitive[] = {"\"/etc/shadow\"", "/etc/passwd", "'/etc/sudoers'"};
static const char *const l_nets[] = {"\"10.0.0.0/8\"", "\"93.184.0.0/16\""};
static const char *const l_ports[] = {"80", "443", "8080"};
static const char *const l_dirs[] = {"/etc", "/usr/bin"};

static const struct {
	const char *name;
	const char *const *items;
	int n;
} lists[] = {
	{"shell_binaries", l_shells, 3}, {"editors", l_editors, 2}, {"sensitive", l_sensitive, 3},
	{"private_nets", l_nets, 2},	 {"web_ports", l_ports, 3}, {"sys_dirs", l_dirs, 2},
};

static const char *env_macro(void *ctx, const char *name, struct vg_pos *pos)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (!strcmp(macros[i].name, name)) {
			pos->file = "macros.yaml";
			pos->line = macros[i].line;
			pos->col = macros[i].col;
			return macros[i].text;
		}
	return NULL;
}

static int env_list(void *ctx, const char *name, const char *const **items)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (!strcmp(lists[i].name, name)) {
			*items = lists[i].items;
			return lists[i].n;
		}
	return -1;
}

static const struct vg_cond_env ENV = {NULL, env_macro, env_list, NULL, NULL, NULL, NULL};

/* ---- helpers ------------------------------------------------------------ */

static struct vg_cond *compile_ok(const char *text)
{
	struct vg_cond_err err;
	struct vg_pos at = {"t.yaml", 1, 1};
	struct vg_cond *c = vg_cond_compile(text, &at, &ENV, &err);
	if (!c)
		fail_msg("'%s' did not compile: %d:%d: %s", text, err.pos.line, err.pos.col,
			 err.msg);
	return c;
}

static bool ev_on(const char *text, const struct vg_event *ev)
{
	struct vg_cond *c = compile_ok(text);
	bool r = vg_cond_eval(c, ev, SCR);
	/* the compiled program must agree with the tree it came from */
	if (vg_cond_eval_tree(c, ev, SCR) != r)
		fail_msg("'%s' on %s: program says %d, tree says %d", text, ev->name, r, !r);
	/* and so must the program compiled with the field set every test shares
	 * (values cached across conditions on one event, shared results, the
	 * comparisons copied into the program) */
	struct vg_cond_env env = ENV;
	env.fieldset = FS;
	struct vg_cond_err err;
	struct vg_pos at = {"t.yaml", 1, 1};
	struct vg_cond *cf = vg_cond_compile(text, &at, &env, &err);
	assert_non_null(cf);
	for (int i = 0; i < 2; i++)
		if (vg_cond_eval(cf, ev, SCR) != r)
			fail_msg("'%s' on %s: with a field set %d, without %d", text, ev->name, !r,
				 r);
	vg_cond_free(cf);
	/* the event-type set must never exclude a type the condition matched */
	uint8_t types[VG_T_MAX];
	vg_cond_evttypes(c, types);
	if (r && !types[ev->type])
		fail_msg("'%s' matched %s but its event types exclude it", text, ev->name);
	vg_cond_free(c);
	return r;
}

#define T_EXEC(text) assert_true(ev_on(text, &S.exec))
#define F_EXEC(text) assert_false(ev_on(text, &S.exec))
#define T_OPEN(text) assert_true(ev_on(text, &S.open))
#define F_OPEN(text) assert_false(ev_on(text, &S.open))
#define T_CONN(text) assert_true(ev_on(text, &S.conn))
#define F_CONN(text) assert_false(ev_on(text, &S.conn))

/* Compile must fail at line:col of file with a message containing want. */
static void expect_err(const char *text, const char *file, int line, int col, const char *want)
{
	struct vg_cond_err err;
	struct vg_pos at = {"t.yaml", 1, 1};
	struct vg_cond *c = vg_cond_compile(text, &at, &ENV, &err);
	if (c) {
		vg_cond_free(c);
		fail_msg("'%s' compiled, expected error '%s'", text, want);
	}
	if (!strstr(err.msg, want))
		fail_msg("'%s': message '%s' lacks '%s'", text, err.msg, want);
	if (err.pos.line != line || err.pos.col != col)
		fail_msg("'%s': error '%s' at %d:%d, expected %d:%d", text, err.msg, err.pos.line,
			 err.pos.col, line, col);
	assert_non_null(err.pos.file);
	assert_string_equal(err.pos.file, file);
}

/* column (1-based) of the first occurrence of what in text */
/* CPU time: the timing assertions must not fail because the machine is
 * busy with something else */
static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int col_of(const char *text, const char *what)
{
	const char *p = strstr(text, what);
	assert_non_null(p);
	return (int)(p - text) + 1;
}

static int setup(void **unused)
{
	(void)unused;
	assert_int_equal(scene_init(&S), 0);
	SCR = vg_cond_scratch_new();
	FS = vg_cond_fieldset_new();
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	vg_cond_scratch_free(SCR);
	vg_cond_fieldset_free(FS);
	scene_free(&S);
	return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_scene(void **unused)
{
	(void)unused;
	assert_string_equal(S.exec.name, "execve");
	assert_string_equal(S.open.name, "openat");
	assert_string_equal(S.conn.name, "connect");
	assert_string_equal(S.open.path, "/etc/shadow");
}

static void test_precedence(void **unused)
{
	(void)unused;
	/* T = proc.name = bash, F = proc.name = zsh on the exec event */
	T_EXEC("proc.name = bash");
	F_EXEC("proc.name = zsh");
	/* and binds tighter than or */
	T_EXEC("proc.name = bash or proc.name = zsh and proc.name = zsh");
	T_EXEC("proc.name = zsh and proc.name = zsh or proc.name = bash");
	/* not binds tighter than and / or */
	F_EXEC("not proc.name = bash and proc.name = zsh");
	T_EXEC("not proc.name = zsh or proc.name = bash");
	F_EXEC("not proc.name = zsh and not proc.name = bash");
	T_EXEC("not not proc.name = bash");
	/* parentheses override */
	F_EXEC("(proc.name = bash or proc.name = zsh) and proc.name = zsh");
	T_EXEC("not (proc.name = bash and proc.name = zsh)");
	F_EXEC("not (proc.name = zsh or proc.name = bash)");
	T_EXEC("((proc.name = bash))");
	/* keywords need word boundaries: a field called "order" is not "or" */
	T_EXEC("proc.name=bash and(proc.pid=60)");
	T_EXEC("proc.name = bash\n\tand\n proc.pid = 60");
}

static void test_compare_ops(void **unused)
{
	(void)unused;
	T_EXEC("proc.name = bash");
	T_EXEC("proc.name == bash");
	T_EXEC("proc.name = \"bash\"");
	T_EXEC("proc.name = 'bash'");
	F_EXEC("proc.name = bas");
	T_EXEC("proc.name != zsh");
	F_EXEC("proc.name != bash");
	T_EXEC("proc.pid = 60");
	T_EXEC("proc.pid < 61");
	F_EXEC("proc.pid < 60");
	T_EXEC("proc.pid <= 60");
	F_EXEC("proc.pid <= 59");
	T_EXEC("proc.pid > 59");
	F_EXEC("proc.pid > 60");
	T_EXEC("proc.pid >= 60");
	F_EXEC("proc.pid >= 61");
	T_EXEC("proc.pid != 61");
	T_EXEC("proc.pid = 0x3c");
	T_EXEC("proc.cmdnargs = 2");
	T_EXEC("user.loginuid = -1");
	T_EXEC("user.loginuid < 0");
	T_OPEN("fd.num = 3");
	T_OPEN("evt.is_open_read = true");
	F_OPEN("evt.is_open_read = false");
	T_OPEN("evt.is_open_write = FALSE");
}

static void test_string_ops(void **unused)
{
	(void)unused;
	T_EXEC("proc.cmdline contains \"ls -la\"");
	F_EXEC("proc.cmdline contains \"LS -LA\"");
	T_EXEC("proc.cmdline icontains \"LS -LA\"");
	F_EXEC("proc.cmdline icontains \"ls -lb\"");
	/* the substring search past false starts of the first byte, at the
	 * very end, over the whole value and one byte beyond it */
	T_EXEC("proc.cmdline contains \"-la\"");
	T_EXEC("proc.cmdline contains \"s -l\"");
	T_EXEC("proc.cmdline contains a");
	F_EXEC("proc.cmdline contains \"-lx\"");
	T_EXEC("proc.cmdline contains \"bash -c ls -la\"");
	F_EXEC("proc.cmdline contains \"bash -c ls -la \"");
	F_EXEC("proc.cmdline contains \"a$\"");
	T_EXEC("proc.cmdline icontains \"S -L\"");
	T_EXEC("proc.cmdline in (\"bash -c ls -la\") or proc.cmdline contains oneof -la");
	/* bcontains / bstartswith take hex bytes */
	T_EXEC("proc.name bcontains 617368"); /* "ash" */
	T_EXEC("proc.name bcontains 617368");
	T_EXEC("proc.name bcontains 6173");
	F_EXEC("proc.name bcontains 7a7368"); /* "zsh" */
	T_EXEC("proc.name bstartswith 6261"); /* "ba" */
	F_EXEC("proc.name bstartswith 6173");
	T_EXEC("proc.exepath startswith /bin/");
	F_EXEC("proc.exepath startswith /usr/");
	T_EXEC("proc.exepath endswith /bash");
	F_EXEC("proc.exepath endswith /bas");
	T_EXEC("proc.exepath glob \"/bin/*\"");
	T_EXEC("proc.exepath glob \"/b?n/ba[rs]h\"");
	F_EXEC("proc.exepath glob \"/BIN/*\"");
	T_EXEC("proc.exepath iglob \"/BIN/BA*\"");
	F_EXEC("proc.exepath iglob \"/sbin/*\"");
	T_EXEC("proc.cmdline regex \"^bash -c .*la$\"");
	T_EXEC("proc.cmdline regex \"l[st] -la\"");
	F_EXEC("proc.cmdline regex \"^ls\"");
	T_EXEC("proc.name in (zsh, bash)");
	F_EXEC("proc.name in (zsh, sh)");
	T_EXEC("proc.name in (\"bash\")");
	T_EXEC("proc.pid in (1, 60, 70)");
	F_EXEC("proc.pid in (1, 70)");
	/* intersects: any value of a multi-valued field in the set */
	T_EXEC("proc.aname intersects (sshd, nginx)");
	F_EXEC("proc.aname intersects (nginx, apache2)");
	/* pmatch: the path or one of its parent directories is listed */
	T_OPEN("fd.name pmatch (/etc)");
	T_OPEN("fd.name pmatch (/usr, /etc/)");
	T_OPEN("fd.name pmatch (/etc/shadow)");
	F_OPEN("fd.name pmatch (/et)");
	F_OPEN("fd.name pmatch (/etc/shadow/x, /var)");
	T_OPEN("fd.name pmatch (sys_dirs)");
	T_OPEN("fd.name pmatch (/)");
	/* exists */
	T_EXEC("proc.name exists");
	F_EXEC("evt.buffer exists");
	T_EXEC("proc.env[TERM] exists");
	F_EXEC("proc.env[NOPE] exists");
	T_OPEN("fd.name exists and proc.name = cat");
}

static void test_modifiers(void **unused)
{
	(void)unused;
	/* proc.aname without an index: the ancestors of bash, sshd and systemd */
	T_EXEC("proc.aname = sshd");
	F_EXEC("proc.aname = bash");
	T_EXEC("proc.aname = anyof sshd");
	F_EXEC("proc.aname = allof sshd");
	T_EXEC("proc.aname = oneof sshd");
	T_EXEC("proc.aname startswith anyof s");
	T_EXEC("proc.aname startswith allof s");
	F_EXEC("proc.aname startswith oneof s"); /* both do */
	T_EXEC("proc.aname endswith allof d");
	T_EXEC("proc.aname contains oneof h");
	F_EXEC("proc.aname contains allof h");
	T_EXEC("proc.aname in allof (bash, sshd, systemd)");
	F_EXEC("proc.aname in allof (bash, sshd)");
	T_EXEC("proc.aname in oneof (bash, sshd)");
	F_EXEC("proc.aname in oneof (sshd, systemd)");
	/* != on several values: none may be equal */
	F_EXEC("proc.aname != sshd");
	T_EXEC("proc.aname != nginx");
}

static void test_transformers(void **unused)
{
	(void)unused;
	T_EXEC("toupper(proc.name) = BASH");
	F_EXEC("toupper(proc.name) = bash");
	T_EXEC("tolower(toupper(proc.name)) = bash");
	T_EXEC("tolower(proc.cmdline) contains \"ls -la\"");
	T_EXEC("basename(proc.exepath) = bash");
	T_OPEN("basename(fd.name) = shadow");
	T_EXEC("len(proc.name) = 4");
	T_EXEC("len(proc.exepath) > 8");
	F_EXEC("len(proc.exepath) > 9");
	T_EXEC("len(basename(proc.exepath)) = 4");
	T_EXEC("toupper(basename(proc.exepath)) in (BASH, ZSH)");
	T_EXEC("b64(proc.env[B64]) = hello");
	T_EXEC("toupper(b64(proc.env[B64])) = HELLO");
	T_EXEC("len(b64(proc.env[B64])) = 5");
	/* a transformer of an unset field stays unset */
	F_EXEC("len(evt.buffer) = 0");
	F_EXEC("toupper(evt.buffer) != X");
}

static void test_val(void **unused)
{
	(void)unused;
	T_EXEC("proc.name = val(proc.exe)");
	F_EXEC("proc.name = val(proc.pname)");
	T_EXEC("proc.name != val(proc.pname)");
	T_EXEC("proc.pid > val(proc.ppid)");
	F_EXEC("proc.pid < val(proc.ppid)");
	T_EXEC("proc.name = val(basename(proc.exepath))");
	T_EXEC("toupper(proc.name) = val(toupper(proc.exe))");
	T_OPEN("fd.name = val(evt.arg.name)");
	T_CONN("fd.sip = val(fd.rip)");
	F_CONN("fd.sip = val(fd.lip)");
	/* val() of an unset field: false */
	F_EXEC("proc.name = val(evt.buffer)");
	F_EXEC("proc.name != val(evt.buffer)");
}

static void test_field_args(void **unused)
{
	(void)unused;
	T_EXEC("proc.aname[0] = bash");
	T_EXEC("proc.aname[1] = sshd");
	T_EXEC("proc.aname[2] = systemd");
	F_EXEC("proc.aname[2] = sshd");
	F_EXEC("proc.aname[9] exists");
	T_OPEN("proc.aname[1] = bash and proc.aname[3] = systemd");
	T_OPEN("evt.arg.flags contains O_CLOEXEC");
	F_OPEN("evt.arg.flags contains O_CREAT");
	T_OPEN("evt.arg[2] = /etc/shadow");
	T_OPEN("evt.arg.name = /etc/shadow");
	T_EXEC("proc.env[TERM] = xterm");
	F_EXEC("proc.env[TERM] = vt100");
	T_EXEC("proc.env contains TERM=xterm");
}

static void test_lists(void **unused)
{
	(void)unused;
	T_EXEC("proc.name in (shell_binaries)");
	T_EXEC("proc.name in shell_binaries");
	T_EXEC("proc.name in (editors, shell_binaries)");
	T_EXEC("proc.name in (python, shell_binaries, perl)");
	F_EXEC("proc.name in (editors)");
	/* a quoted name is a string, not the list */
	F_EXEC("proc.name in (\"shell_binaries\")");
	T_EXEC("proc.name = shell_binaries or proc.name = bash");
	/* quoted list items stand for the string inside the quotes */
	T_OPEN("fd.name in (sensitive)");
	F_OPEN("fd.name in (editors, \"/etc/passwd\")");
	T_CONN("fd.sport in (web_ports)");
	T_CONN("fd.snet in (private_nets)");
	T_CONN("fd.cnet in (private_nets)");
	/* macros inlined, macros using macros */
	T_EXEC("is_shell");
	F_EXEC("not is_shell");
	T_OPEN("open_read");
	F_EXEC("open_read");
	F_OPEN("shell_open_read");
	T_OPEN("cat_reads and not never_true");
	T_OPEN("(cat_reads)");
}

static void test_ip(void **unused)
{
	(void)unused;
	T_CONN("fd.sip = 93.184.216.34");
	F_CONN("fd.sip = 93.184.216.35");
	T_CONN("fd.sip != 93.184.216.35");
	F_CONN("fd.sip != 93.184.216.34");
	T_CONN("fd.sip in (1.1.1.1, 93.184.216.34)");
	T_CONN("fd.cip = 10.0.0.1");
	T_CONN("fd.snet = \"93.184.216.0/24\"");
	T_CONN("fd.snet = 93.184.0.0/16");
	F_CONN("fd.snet = 93.185.0.0/16");
	T_CONN("fd.snet in (\"192.168.0.0/16\", \"93.184.216.32/28\")");
	F_CONN("fd.snet in (\"192.168.0.0/16\", \"93.184.216.0/27\")");
	T_CONN("fd.snet != \"10.0.0.0/8\"");
	T_CONN("fd.cnet = 10.0.0.0/8");
	T_CONN("fd.net = 10.0.0.0/8 and fd.net = 93.184.216.34/32");
	T_CONN("fd.sport = 443 and fd.cport = 3456");
	T_CONN("fd.sport in (80, 443)");
	F_CONN("fd.sport > 1024");
	T_CONN("fd.name = 10.0.0.1:3456->93.184.216.34:443");
	T_CONN("fd.l4proto = tcp and fd.type = ipv4");
	/* an IP field on an event without a socket is unset */
	F_EXEC("fd.sip = 93.184.216.34");
	F_EXEC("fd.sip != 93.184.216.34");
	T_EXEC("not fd.sip = 93.184.216.34");
}

static void test_unset(void **unused)
{
	(void)unused;
	/* evt.buffer never has a value */
	static const char *const ops[] = {
		"evt.buffer = x",
		"evt.buffer == x",
		"evt.buffer != x",
		"evt.buffer < x",
		"evt.buffer > x",
		"evt.buffer contains x",
		"evt.buffer icontains x",
		"evt.buffer bcontains 78",
		"evt.buffer startswith x",
		"evt.buffer bstartswith 78",
		"evt.buffer endswith x",
		"evt.buffer glob \"*\"",
		"evt.buffer iglob \"*\"",
		"evt.buffer regex \".*\"",
		"evt.buffer in (x, y)",
		"evt.buffer intersects (x)",
		"evt.buffer pmatch (/)",
		"evt.buffer exists",
		"evt.buffer = val(proc.name)",
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (ev_on(ops[i], &S.exec))
			fail_msg("'%s' is true on an unset field", ops[i]);
		char neg[128];
		snprintf(neg, sizeof(neg), "not %s", ops[i]);
		if (!ev_on(neg, &S.exec))
			fail_msg("'%s' is false on an unset field", neg);
	}
	/* numeric fields unset too: fd.num on an exec */
	F_EXEC("fd.num = 3");
	F_EXEC("fd.num != 3");
	F_EXEC("fd.num >= 0");
	T_EXEC("not fd.num < 0");
}

static int count_types(const uint8_t *t)
{
	int n = 0;
	for (int i = 0; i < VG_T_MAX; i++)
		n += t[i] != 0;
	return n;
}

static void types_of(const char *text, uint8_t *types)
{
	struct vg_cond *c = compile_ok(text);
	vg_cond_evttypes(c, types);
	vg_cond_free(c);
}

static void test_evttypes(void **unused)
{
	(void)unused;
	uint8_t t[VG_T_MAX];
	const int all = VG_T_MAX;

	types_of("evt.type in (open, openat)", t);
	assert_int_equal(count_types(t), 2);
	assert_true(t[VG_NR_open] && t[VG_NR_openat]);

	types_of("evt.type = openat", t);
	assert_int_equal(count_types(t), 1);
	assert_true(t[VG_NR_openat]);

	types_of("not evt.type = execve", t);
	assert_int_equal(count_types(t), all - 1);
	assert_false(t[VG_NR_execve]);

	types_of("evt.type != execve", t);
	assert_int_equal(count_types(t), all - 1);
	assert_false(t[VG_NR_execve]);

	types_of("evt.type=open or proc.name=x", t);
	assert_int_equal(count_types(t), all);

	types_of("proc.name = bash", t);
	assert_int_equal(count_types(t), all);

	types_of("evt.type=open and proc.name=x", t);
	assert_int_equal(count_types(t), 1);
	assert_true(t[VG_NR_open]);

	types_of("(evt.type = open or evt.type = connect) and not proc.name = x", t);
	assert_int_equal(count_types(t), 2);
	assert_true(t[VG_NR_open] && t[VG_NR_connect]);

	types_of("evt.type in (open, openat) and (evt.type = openat or evt.type = execve)", t);
	assert_int_equal(count_types(t), 1);
	assert_true(t[VG_NR_openat]);

	types_of("evt.type = open or evt.type = execve and proc.name = bash", t);
	assert_int_equal(count_types(t), 2);

	/* an inexact operand makes a negation cover everything */
	types_of("not (evt.type = open and proc.name = x)", t);
	assert_int_equal(count_types(t), all);
	types_of("not (evt.type = open or proc.name = x)", t);
	assert_true(t[VG_NR_execve] && t[VG_NR_connect]);

	types_of("evt.type != open and evt.type != openat", t);
	assert_int_equal(count_types(t), all - 2);
	assert_false(t[VG_NR_open] || t[VG_NR_openat]);

	types_of("not evt.type in (open, openat) and proc.name = cat", t);
	assert_false(t[VG_NR_open] || t[VG_NR_openat]);
	assert_true(t[VG_NR_execve]);

	/* through macros */
	types_of("open_read and proc.name = cat", t);
	assert_int_equal(count_types(t), 2);
	types_of("shell_open_read or is_shell", t);
	assert_int_equal(count_types(t), all);

	/* names vigil does not know match nothing, but do not widen */
	types_of("evt.type in (openat, no_such_syscall)", t);
	assert_int_equal(count_types(t), 1);

	/* an evt.type check that is not a plain = / != / in: any type */
	types_of("evt.type startswith open", t);
	assert_int_equal(count_types(t), all);

	/* soundness: on every event, a true condition keeps its type */
	static const char *const conds[] = {
		"evt.type = openat and fd.name = /etc/shadow",
		"not evt.type = execve and proc.name = cat",
		"not (evt.type = open) or proc.name = bash",
		"evt.type startswith exec",
		"evt.type in (execve, connect) and not proc.name = x",
		"not (not evt.type = connect)",
		"not (evt.type != connect and evt.type != execve)",
		"evt.type = val(evt.type)",
	};
	const struct vg_event *evs[] = {&S.exec, &S.open, &S.conn};
	int matched = 0;
	for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++)
		for (size_t j = 0; j < 3; j++)
			matched += ev_on(conds[i], evs[j]);
	assert_int_equal(matched, 14);
}

static void test_errors(void **unused)
{
	(void)unused;
	expect_err("proc.nme = bash", "t.yaml", 1, 1, "unknown field 'proc.nme'");
	const char *t = "proc.name = bash and proc.nope[1] = x";
	expect_err(t, "t.yaml", 1, col_of(t, "proc.nope"), "unknown field 'proc.nope[1]'");
	t = "proc.name = bash and no_such_macro";
	expect_err(t, "t.yaml", 1, col_of(t, "no_such_macro"), "no_such_macro");
	expect_err("(proc.name = bash", "t.yaml", 1, 1, "unbalanced '('");
	t = "proc.name = bash)";
	expect_err(t, "t.yaml", 1, col_of(t, ")"), "unbalanced ')'");
	t = "((proc.name = bash) or (proc.pid = 1)";
	expect_err(t, "t.yaml", 1, 1, "unbalanced '('");
	t = "proc.name = ";
	expect_err(t, "t.yaml", 1, 13, "expected a value");
	t = "proc.name = )";
	expect_err(t, "t.yaml", 1, 13, "expected a value");
	t = "proc.name in (bash, ";
	expect_err(t, "t.yaml", 1, 21, "expected a value");
	t = "proc.name bash";
	expect_err(t, "t.yaml", 1, col_of(t, "bash"), "expected an operator");
	t = "proc.pid = abc";
	expect_err(t, "t.yaml", 1, col_of(t, "abc"), "expected a number, got 'abc'");
	t = "proc.pid in (1, 2x, 3)";
	expect_err(t, "t.yaml", 1, col_of(t, "2x"), "expected a number, got '2x'");
	t = "fd.sport > http";
	expect_err(t, "t.yaml", 1, col_of(t, "http"), "expected a number");
	t = "proc.cmdline regex \"a(b\"";
	expect_err(t, "t.yaml", 1, col_of(t, "\"a("), "invalid regex");
	t = "fd.sip = 300.1.1.1";
	expect_err(t, "t.yaml", 1, col_of(t, "300"), "not an IP address");
	t = "fd.sip = \"10.0.0.0/8\"";
	expect_err(t, "t.yaml", 1, col_of(t, "\"10"), "not an IP address");
	t = "proc.name bcontains 6g";
	expect_err(t, "t.yaml", 1, col_of(t, "6g"), "hex");
	t = "proc.name bcontains 616";
	expect_err(t, "t.yaml", 1, col_of(t, "616"), "hex");
	t = "evt.is_open_read = maybe";
	expect_err(t, "t.yaml", 1, col_of(t, "maybe"), "true or false");
	t = "proc.name = bash and";
	expect_err(t, "t.yaml", 1, 21, "end of condition");
	expect_err("", "t.yaml", 1, 1, "empty condition");
	t = "proc.name = \"bash";
	expect_err(t, "t.yaml", 1, col_of(t, "\""), "unterminated string");
	t = "tolower(proc.pid) = 1";
	expect_err(t, "t.yaml", 1, 1, "string");
	t = "len(proc.pid) = 1";
	expect_err(t, "t.yaml", 1, 1, "len() applies to string fields");
	t = "len(len(proc.name)) = 1";
	expect_err(t, "t.yaml", 1, 1, "len() applies to string fields");
	t = "proc.name = val(nosuch)";
	expect_err(t, "t.yaml", 1, col_of(t, "nosuch"), "val() needs a field");
	t = "proc.name = val(proc.pid)";
	expect_err(t, "t.yaml", 1, col_of(t, "val("), "cannot compare");
	t = "proc.name = val(toupper(proc.env[TERM] > 0";
	expect_err(t, "t.yaml", 1, col_of(t, " > 0") + 1, "expected ')'");
	t = "proc.name = val(len(proc.env[TERM]))";
	expect_err(t, "t.yaml", 1, col_of(t, "val("), "cannot compare");
	t = "proc.name = val(tolower(proc.pid))";
	expect_err(t, "t.yaml", 1, col_of(t, "tolower"), "applies to string fields");
	expect_err("fd.rport pmatch (/etc)", "t.yaml", 1, 1, "pmatch applies to strings");
	expect_err("len(fd.name) pmatch (/etc)", "t.yaml", 1, 1, "pmatch applies to strings");
	t = "fd.sport contains 4";
	expect_err(t, "t.yaml", 1, col_of(t, "4"), "applies to strings");
	t = "proc.name[1] = x";
	expect_err(t, "t.yaml", 1, 1, "takes no argument");
	t = "proc.aname[x] = bash";
	expect_err(t, "t.yaml", 1, 1, "numeric index");
	t = "evt.arg = x";
	expect_err(t, "t.yaml", 1, 1, "needs an argument");

	/* multi-line: the error on line 3 */
	t = "proc.name = bash and\n"
	    "  (proc.pid > 1 or\n"
	    "   proc.nme = x)";
	expect_err(t, "t.yaml", 3, 4, "unknown field 'proc.nme'");
	t = "proc.name = bash and\n"
	    "  (proc.pid > 1 or\n"
	    "   proc.pid = 1x)";
	expect_err(t, "t.yaml", 3, 15, "expected a number");
	t = "proc.name = bash and\n"
	    "  (proc.pid > 1 or\n"
	    "   proc.pid = 1";
	expect_err(t, "t.yaml", 2, 3, "unbalanced '('");

	/* the starting position is honoured */
	struct vg_cond_err err;
	struct vg_pos at = {"r.yaml", 40, 16};
	assert_null(vg_cond_compile("proc.name = x or proc.nme = y", &at, &ENV, &err));
	assert_string_equal(err.pos.file, "r.yaml");
	assert_int_equal(err.pos.line, 40);
	assert_int_equal(err.pos.col, 16 + 17);
	assert_null(vg_cond_compile("proc.name = x or\n  proc.nme = y", &at, &ENV, &err));
	assert_int_equal(err.pos.line, 41);
	assert_int_equal(err.pos.col, 3);

	/* errors inside macros point into the macro */
	expect_err("proc.name = bash and bad_macro", "macros.yaml", 8, 3,
		   "unknown field 'proc.nme'");
	expect_err("loop_a", "macros.yaml", 1, col_of("(loop_a)", "loop_a"), "loop_a");
	expect_err("proc.pid = 1 or self_loop", "macros.yaml", 1, 5, "refers to itself");
}

/* Transformers on both sides of val() over long, many-valued fields: each
 * side needs its own room in the scratch. */
static void test_long_values(void **unused)
{
	(void)unused;
	static char big[3000];
	memset(big, 'a', sizeof(big) - 1);
	const char *argv[] = {"bash", "-c", big, NULL};
	struct rb *b = &S.scratch;
	struct vg_event ev;
	/* 90 -> 91 -> 92, children of bash(60), each with a 3000-byte argument */
	for (uint32_t pid = 90; pid <= 92; pid++) {
		assert_int_equal(sc_fork(&S, pid == 90 ? 60 : pid - 1, pid == 90 ? 50 : pid - 2,
					 "bash", pid),
				 0);
		sc_exec_rec(b, pid, pid == 90 ? 60 : pid - 1, "bash", "/bin/bash", argv, NULL);
		assert_int_equal(sc_apply(&S, b, &ev), 0);
	}
	assert_true(ev_on("len(proc.cmdline) > 3000", &ev));
	assert_true(ev_on("toupper(proc.cmdline) = val(toupper(proc.cmdline))", &ev));
	assert_true(ev_on("proc.acmdline contains \"-c aaaa\"", &ev));
	assert_true(ev_on("toupper(proc.acmdline) = val(toupper(proc.acmdline[1]))", &ev));
	assert_true(ev_on("tolower(proc.acmdline[2]) = val(tolower(proc.acmdline))", &ev));
	/* 97 -> 96 -> 95 -> 94 -> 93 (c97..c93) -> 92 (bash): set lookups on
	 * cached values past the hashes the cache keeps (bash is the fifth) */
	for (uint32_t pid = 93; pid <= 97; pid++) {
		char comm[16];
		snprintf(comm, sizeof(comm), "c%u", pid);
		const char *av[] = {comm, NULL};
		char pcomm[16]; /* the fork record's comm is the parent's */
		if (pid == 93)
			strcpy(pcomm, "bash");
		else
			snprintf(pcomm, sizeof(pcomm), "c%u", pid - 1);
		assert_int_equal(sc_fork(&S, pid - 1, pid - 2, pcomm, pid), 0);
		sc_exec_rec(b, pid, pid - 1, comm, "/bin/c", av, NULL);
		assert_int_equal(sc_apply(&S, b, &ev), 0);
	}
	struct vg_cond_env env = ENV;
	env.fieldset = vg_cond_fieldset_new();
	struct vg_cond_err err;
	struct vg_pos at = {"t.yaml", 1, 1};
	struct vg_cond *c = vg_cond_compile("proc.aname in (nope, bash)", &at, &env, &err);
	struct vg_cond *d = vg_cond_compile("proc.aname in (c94, nope)", &at, &env, &err);
	struct vg_cond *x = vg_cond_compile("proc.aname in (nope, c97)", &at, &env, &err);
	assert_non_null(c);
	assert_non_null(d);
	assert_non_null(x);
	assert_true(ev_on("proc.aname[5] = bash and not proc.aname[4] = bash", &ev));
	for (int i = 0; i < 2; i++) {
		assert_true(vg_cond_eval(c, &ev, SCR));
		assert_true(vg_cond_eval(d, &ev, SCR));
		assert_false(vg_cond_eval(x, &ev, SCR));
	}
	vg_cond_free(c);
	vg_cond_free(d);
	vg_cond_free(x);
	vg_cond_fieldset_free(env.fieldset);
}

/* Deep nesting is an error, not a stack overflow. */
static void test_nesting(void **unused)
{
	(void)unused;
	static char t[8192];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		t[n++] = '(';
	n += (size_t)sprintf(t + n, "proc.name = bash");
	for (int i = 0; i < 100; i++)
		t[n++] = ')';
	t[n] = 0;
	T_EXEC(t);
	for (n = 0; n < 3000; n++)
		t[n] = '(';
	strcpy(t + n, "proc.name = bash");
	expect_err(t, "t.yaml", 1, 201, "nested too deep");
	for (n = 0; n < 1000; n++)
		memcpy(t + 4 * n, "not ", 4);
	strcpy(t + 4 * n, "proc.name = bash");
	expect_err(t, "t.yaml", 1, 801, "nested too deep");
	T_EXEC("not not not not proc.name = bash");
	for (n = 0; n < 1000; n++)
		memcpy(t + 8 * n, "tolower(", 8);
	strcpy(t + 8 * n, "proc.name) = bash");
	expect_err(t, "t.yaml", 1, 8 * 199 + 1, "nested too deep");
}

/* regex has RE2's semantics: RE2 syntax works, what RE2 rejects
 * (backreferences, lookaround, ...) is a compile error at the pattern. */
static void test_regex_re2(void **unused)
{
	(void)unused;
	/* S.exec: bash -c "ls -la" */
	T_EXEC("proc.cmdline regex \"^bash -c .*la$\"");
	T_EXEC("proc.name regex \"^[[:alpha:]]+$\"");
	T_EXEC("proc.cmdline regex \"\\\\bls\\\\b\"");
	F_EXEC("proc.cmdline regex \"\\\\bl\\\\b\"");
	T_EXEC("proc.cmdline regex \"(?i)^BASH\"");
	F_EXEC("proc.cmdline regex \"^BASH\"");
	T_EXEC("proc.cmdline regex \"\\\\s-\\\\w{2}$\"");
	T_EXEC("proc.cmdline regex \"^\\\\S+\\\\s+-c\"");
	T_EXEC("proc.cmdline regex \"(?:ls|dir) -l.?a\"");
	T_EXEC("proc.cmdline regex \"(?P<cmd>ls) -la\"");
	T_EXEC("proc.cmdline regex \"b.*?h\"");
	T_EXEC("proc.cmdline regex \"\\\\Q-la\\\\E$\"");
	F_EXEC("proc.cmdline regex \"\\\\Q.*\\\\E\"");
	F_EXEC("proc.name regex \"\\\\d\"");
	T_EXEC("proc.pid exists and not proc.name regex \"\\\\d\"");
	const struct {
		const char *pat, *why;
	} bad[] = {
		{"(.*)\\\\1", "invalid escape sequence: \\1 (RE2 syntax"},
		{"(.*)(.*)\\\\2\\\\1b", "invalid escape sequence: \\2 (RE2 syntax"},
		{"(?P<x>a)(?P=x)", "RE2 syntax"},
		{"(?P<x>a)\\\\k<x>", "RE2 syntax"},
		{"a(?=b)", "(?= (RE2 syntax"},
		{"a(?!b)", "(?! (RE2 syntax"},
		{"(?<=a)b", "(?< (RE2 syntax"},
		{"(?<!a)b", "(?< (RE2 syntax"},
		{"(?>a+)b", "(?> (RE2 syntax"},
		{"a++b", "bad repetition operator: ++ (RE2 syntax"},
		{"a{2}+b", "RE2 syntax"},
		{"(a)?(?(1)b|c)", "(?( (RE2 syntax"},
		{"(a|(?R))", "(?R (RE2 syntax"},
		{"(a)(?1)", "(?1 (RE2 syntax"},
		{"a\\\\Kb", "RE2 syntax"},
		{"(?x) a", "RE2 syntax"},
		{"a{1001}", "invalid repetition size"},
		{"a(b", "missing )"},
		{"(*LIMIT_MATCH=1)a", "repetition"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char t[200];
		snprintf(t, sizeof(t), "proc.name = bash and proc.cmdline regex \"%s\"",
			 bad[i].pat);
		expect_err(t, "t.yaml", 1, col_of(t, "\""), "invalid regex");
		expect_err(t, "t.yaml", 1, col_of(t, "\""), bad[i].why);
	}
	expect_err("proc.cmdline regex val(proc.name)", "t.yaml", 1, 20, "constant pattern");
}

/* Patterns in the common subset of POSIX EREs (what regex took before)
 * and RE2 decide the same on the same values: rules written for the old
 * matcher keep their meaning.  glibc's regexec is the oracle. */
static void test_regex_posix_subset(void **unused)
{
	(void)unused;
	static const char *const pats[] = {
		"^/etc/(shadow|sudoers|pam\\.d/.*)$",
		"^/usr/(s?bin|lib(64)?)/[a-z0-9_-]+$",
		"(nc|ncat|netcat) .*-e",
		"^[a-z]+$",
		"[[:digit:]]{3,}",
		"[[:space:]]-c[[:space:]]",
		"\\.(sh|py|pl)$",
		"^(bash|sh|zsh|dash)$",
		"a.c",
		"x?y+z*",
		"^$",
		"(ab|cd){2}",
		"[^/]+\\.so(\\.[0-9]+)*$",
		"^/proc/[0-9]+/(environ|mem|maps)$",
		"[A-Za-z0-9+/]{20,}={0,2}",
	};
	static const char *const subjects[] = {
		"/etc/shadow",
		"/etc/pam.d/sshd",
		"/etc/passwd",
		"/usr/bin/python3",
		"/usr/lib64/x",
		"/usr/sbin/nginx-debug",
		"ncat 10.0.0.1 4444 -e /bin/sh",
		"bash",
		"zsh -c ls",
		"sh",
		"",
		"abc",
		"a-c",
		"yz",
		"xxx",
		"abab",
		"abcd",
		"cdcdab",
		"/lib/libc.so.6",
		"libssl.so",
		"/proc/123/environ",
		"/proc/self/maps",
		"echo aGVsbG8gd29ybGQgaGVsbG8gd29y==",
		"1234",
		"12",
		"run.sh",
		"script.py.bak",
	};
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		regex_t posix;
		assert_int_equal(regcomp(&posix, pats[i], REG_EXTENDED | REG_NOSUB), 0);
		char why[200];
		struct cond_re *re = cond_re_compile(pats[i], strlen(pats[i]), why, sizeof(why));
		if (!re)
			fail_msg("'%s': %s", pats[i], why);
		for (size_t j = 0; j < sizeof(subjects) / sizeof(subjects[0]); j++) {
			int want = !regexec(&posix, subjects[j], 0, NULL, 0);
			int got = cond_re_match(re, subjects[j], strlen(subjects[j]));
			if (got != want)
				fail_msg("'%s' on '%s': %d, POSIX %d", pats[i], subjects[j], got,
					 want);
		}
		cond_re_free(re);
		regfree(&posix);
	}
}

/* A pattern that backtracks exponentially, and the ones the rules
 * allow, cost time linear in an 800-byte subject (POSIX regexec took 15 s
 * for (.*)(.*)\2\1b on 200 bytes; backreferences no longer compile). */
static void test_regex_bounded(void **unused)
{
	(void)unused;
	static char big[801];
	memset(big, 'a', sizeof(big) - 1);
	const char *argv[] = {"x", big, NULL};
	struct rb *b = &S.scratch;
	struct vg_event ev;
	assert_int_equal(sc_fork(&S, 60, 50, "bash", 98), 0);
	sc_exec_rec(b, 98, 60, "bash", "/bin/bash", argv, NULL);
	assert_int_equal(sc_apply(&S, b, &ev), 0);
	static const char *const slow[] = {
		"proc.args regex \"(a*)*b\"",
		"proc.args regex \"(a|aa)*c\"",
		"proc.args regex \"(a|a?)+b\"",
		"proc.args regex \"^(a+)+$\"", /* true */
		"proc.args regex \"(.*a){20}x\"",
		"proc.args regex \"(?:a|b)*a(?:a|b){20}c\"",
		"proc.args regex \"(?:a?){100}a{100}b\"",
		"proc.args regex \"^(a+)+b$\"",
	};
	double t0 = now_s();
	for (int rep = 0; rep < 20; rep++)
		for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++)
			if (ev_on(slow[i], &ev) != (i == 3))
				fail_msg("'%s' is %s", slow[i], i == 3 ? "false" : "true");
	double dt = now_s() - t0;
	if (dt > 2.0)
		fail_msg("160 regex matches on 800 bytes took %.2f s", dt);
	/* what no longer compiles: the backreferences that cost seconds */
	expect_err("proc.args regex \"(.*)\\\\1\"", "t.yaml", 1, 17, "invalid regex");
	expect_err("proc.args regex \"(.*)(.*)\\\\2\\\\1b\"", "t.yaml", 1, 17, "invalid regex");
	/* past the subject cap a match is not decided: the matcher says so
	 * (evaluation then counts it and takes it as a match) */
	char why[200];
	struct cond_re *re = cond_re_compile("b", 1, why, sizeof(why));
	assert_non_null(re);
	static char huge[COND_RE_SUBJECT_MAX + 2];
	memset(huge, 'a', sizeof(huge) - 1);
	assert_int_equal(cond_re_match(re, huge, COND_RE_SUBJECT_MAX), 0);
	assert_int_equal(cond_re_match(re, huge, COND_RE_SUBJECT_MAX + 1), -1);
	huge[COND_RE_SUBJECT_MAX - 1] = 'b';
	assert_int_equal(cond_re_match(re, huge, COND_RE_SUBJECT_MAX), 1);
	cond_re_free(re);
	assert_int_equal(vg_cond_scratch_regex_undecided(SCR), 0);
}

/* Callers decide on an error's kind (skip-if-unknown-filter skips only
 * unknown names), never on its message. */
static void test_error_kinds(void **unused)
{
	(void)unused;
	char deep[400];
	memset(deep, '(', 300);
	strcpy(deep + 300, "proc.name = bash");
	const struct {
		const char *text;
		enum vg_cond_errkind kind;
	} cases[] = {
		{"proc.nme = bash", VG_CERR_UNKNOWN_FIELD},
		{"proc.name = bash and proc.nope[1] = x", VG_CERR_UNKNOWN_FIELD},
		{"proc.name = bash and no_such_macro", VG_CERR_UNKNOWN_MACRO},
		{"bad_macro", VG_CERR_UNKNOWN_FIELD}, /* inside the macro */
		{"self_loop", VG_CERR_MACRO_LOOP},
		{"loop_a", VG_CERR_MACRO_LOOP},
		{"(proc.name = bash", VG_CERR_SYNTAX},
		{"proc.name = bash)", VG_CERR_SYNTAX},
		{"proc.name bash", VG_CERR_SYNTAX},
		{"proc.name = \"bash", VG_CERR_SYNTAX},
		{"", VG_CERR_SYNTAX},
		{"tolower(nosuch) = x", VG_CERR_SYNTAX},
		{"proc.pid = abc", VG_CERR_TYPE},
		{"proc.name = val(proc.pid)", VG_CERR_TYPE},
		{"fd.rport pmatch (/etc)", VG_CERR_TYPE},
		{"proc.name[1] = x", VG_CERR_FIELD_ARG},
		{"proc.aname[x] = x", VG_CERR_FIELD_ARG},
		{"proc.cmdline regex \"a(b\"", VG_CERR_REGEX},
		{deep, VG_CERR_LIMIT},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vg_cond_err err;
		struct vg_pos at = {"t.yaml", 1, 1};
		struct vg_cond *c = vg_cond_compile(cases[i].text, &at, &ENV, &err);
		if (c) {
			vg_cond_free(c);
			fail_msg("'%s' compiled", cases[i].text);
		}
		if (err.kind != cases[i].kind)
			fail_msg("'%.40s': kind %d, expected %d (%s)", cases[i].text, (int)err.kind,
				 (int)cases[i].kind, err.msg);
	}
	struct vg_cond_err err;
	struct vg_cond *c = vg_cond_compile("proc.name = bash", NULL, &ENV, &err);
	assert_non_null(c);
	assert_int_equal(err.kind, VG_CERR_NONE);
	vg_cond_free(c);
}

/* Conditions sharing a field set share a per-event value cache.  Values
 * rendered into the cache (evt.arg) must survive the cache growing when a
 * later condition reads many more fields of the same event. */
static void test_field_cache(void **unused)
{
	(void)unused;
	struct vg_cond_env env = ENV;
	env.fieldset = vg_cond_fieldset_new();
	struct vg_cond_scratch *scr = vg_cond_scratch_new();
	struct vg_cond_err err;
	struct vg_pos at = {"t.yaml", 1, 1};
	struct vg_cond *a = vg_cond_compile("evt.arg.name = /etc/shadow", &at, &env, &err);
	assert_non_null(a);
	static char many[8192];
	size_t n = 0;
	for (int i = 1; i <= 80; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "%sproc.aname[%d] = nope%d",
				      i > 1 ? " or " : "", i, i);
	struct vg_cond *b = vg_cond_compile(many, &at, &env, &err);
	assert_non_null(b);
	for (int round = 0; round < 3; round++) {
		assert_true(vg_cond_eval(a, &S.open, scr));
		assert_false(vg_cond_eval(b, &S.open, scr));
		assert_true(vg_cond_eval(a, &S.open, scr));
		/* another event in between: the cache must not answer for it */
		assert_false(vg_cond_eval(a, &S.exec, scr));
	}
	vg_cond_free(a);
	vg_cond_free(b);
	vg_cond_scratch_free(scr);
	vg_cond_fieldset_free(env.fieldset);
}

/* Random and/or/not trees over comparisons of known truth: the compiled
 * program (jumps) must agree with the tree and with the expected value. */
static uint64_t rng = 0x243f6a8885a308d3ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 20) % n;
}

static bool gen_expr(char *out, size_t cap, size_t *n, int depth)
{
	static const struct {
		const char *text;
		bool val; /* on the exec event */
	} atoms[] = {
		{"proc.name = bash", true},
		{"proc.name = zsh", false},
		{"evt.type = execve", true},
		{"evt.type in (open, openat)", false},
		{"evt.type != execve", false},
		{"evt.type != connect", true},
		{"proc.name in (shell_binaries)", true},
		{"fd.name = /etc/shadow", false}, /* unset on exec: false */
		{"not fd.name exists", true},
		{"proc.pname = sshd", true},
		{"proc.aname[2] = systemd", true},
		{"proc.cmdline contains nope", false},
		{"never_true", false},
		{"evt.type in ()", false},
	};
	size_t na = sizeof(atoms) / sizeof(atoms[0]);
	uint32_t pick = depth > 3 ? 0 : rnd(5);
	if (pick == 0) {
		uint32_t a = rnd((uint32_t)na);
		*n += (size_t)snprintf(out + *n, cap - *n, "%s", atoms[a].text);
		return atoms[a].val;
	}
	if (pick == 1) {
		*n += (size_t)snprintf(out + *n, cap - *n, "not (");
		bool v = gen_expr(out, cap, n, depth + 1);
		*n += (size_t)snprintf(out + *n, cap - *n, ")");
		return !v;
	}
	bool is_and = pick <= 3;
	int kids = 2 + (int)rnd(3);
	bool v = is_and;
	*n += (size_t)snprintf(out + *n, cap - *n, "(");
	for (int i = 0; i < kids; i++) {
		if (i)
			*n += (size_t)snprintf(out + *n, cap - *n, is_and ? " and " : " or ");
		bool k = gen_expr(out, cap, n, depth + 1);
		v = is_and ? v && k : v || k;
	}
	*n += (size_t)snprintf(out + *n, cap - *n, ")");
	return v;
}

static void test_program_vs_tree(void **unused)
{
	(void)unused;
	static char text[65536];
	int trues = 0;
	for (int i = 0; i < 3000; i++) {
		size_t n = 0;
		bool want = gen_expr(text, sizeof(text), &n, 0);
		struct vg_cond *c = compile_ok(text);
		bool got = vg_cond_eval(c, &S.exec, SCR);
		bool tree = vg_cond_eval_tree(c, &S.exec, SCR);
		if (got != want || tree != want)
			fail_msg("'%s': program %d, tree %d, expected %d", text, got, tree, want);
		/* on other events the two must agree too */
		assert_int_equal(vg_cond_eval(c, &S.open, SCR), vg_cond_eval_tree(c, &S.open, SCR));
		assert_int_equal(vg_cond_eval(c, &S.conn, SCR), vg_cond_eval_tree(c, &S.conn, SCR));
		trues += want;
		vg_cond_free(c);
	}
	/* the generator must produce both outcomes */
	assert_true(trues > 300 && trues < 2700);
}

/* Equal comparisons in conditions of one field set are computed once per
 * event and shared; conditions of another field set (another engine) on
 * the same scratch and event must not see those results. */
static void test_memo(void **unused)
{
	(void)unused;
	struct vg_cond_env e1 = ENV, e2 = ENV;
	e1.fieldset = vg_cond_fieldset_new();
	e2.fieldset = vg_cond_fieldset_new();
	struct vg_cond_scratch *scr = vg_cond_scratch_new();
	struct vg_cond_err err;
	struct vg_pos at = {"t.yaml", 1, 1};
	struct vg_cond *a =
		vg_cond_compile("proc.name = bash and proc.pname = sshd", &at, &e1, &err);
	struct vg_cond *b = vg_cond_compile("not proc.name = bash", &at, &e1, &err);
	struct vg_cond *c =
		vg_cond_compile("proc.name in (bash, zsh) and proc.name != bash", &at, &e1, &err);
	/* memo id 0 and field slot 0 in the other set are proc.name = zsh */
	struct vg_cond *x = vg_cond_compile("proc.name = zsh", &at, &e2, &err);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_non_null(x);
	for (int round = 0; round < 2; round++) {
		const struct vg_event *evs[] = {&S.exec, &S.open, &S.conn};
		for (int i = 0; i < 3; i++) {
			const struct vg_event *ev = evs[i];
			bool bash = i == 0; /* exec is bash's, open is cat's, conn curl's */
			assert_int_equal(vg_cond_eval(a, ev, scr), bash);
			assert_int_equal(vg_cond_eval(x, ev, scr), false);
			assert_int_equal(vg_cond_eval(b, ev, scr), !bash);
			assert_int_equal(vg_cond_eval(c, ev, scr), false);
			assert_int_equal(vg_cond_eval(a, ev, scr), bash);
		}
	}
	/* a set freed and a new one (maybe at the same address): same scratch,
	 * same event, memo id 0 now proc.name = bash */
	assert_false(vg_cond_eval(x, &S.exec, scr));
	vg_cond_free(x);
	vg_cond_fieldset_free(e2.fieldset);
	e2.fieldset = vg_cond_fieldset_new();
	x = vg_cond_compile("proc.name = bash", &at, &e2, &err);
	assert_non_null(x);
	assert_true(vg_cond_eval(x, &S.exec, scr));
	vg_cond_free(a);
	vg_cond_free(b);
	vg_cond_free(c);
	vg_cond_free(x);
	vg_cond_scratch_free(scr);
	vg_cond_fieldset_free(e1.fieldset);
	vg_cond_fieldset_free(e2.fieldset);
}

/* Comparisons made from the program's copy once the field's value is
 * cached for the event (fd.name and fd.num read first by another
 * condition): each operator both ways. */
static void test_fast_compare(void **unused)
{
	(void)unused;
	static const struct {
		const char *text;
		bool want; /* on the open of /etc/shadow, fd 3 */
	} cases[] = {
		{"fd.name startswith /etc", true},
		{"fd.name startswith /usr", false},
		{"fd.name endswith shadow", true},
		{"fd.name endswith passwd", false},
		{"fd.name contains /sh", true},
		{"fd.name contains xyz", false},
		{"fd.name = /etc/shadow", true},
		{"fd.name = /etc/shado", false},
		{"fd.name != /etc/passwd", true},
		{"fd.name != /etc/shadow", false},
		{"fd.num = 3", true},
		{"fd.num = 4", false},
		{"fd.num != 4", true},
		{"fd.num != 3", false},
		{"fd.num < 4", true},
		{"fd.num < 3", false},
		{"fd.num <= 3", true},
		{"fd.num <= 2", false},
		{"fd.num > 2", true},
		{"fd.num > 3", false},
		{"fd.num >= 3", true},
		{"fd.num >= 4", false},
		{"evt.is_open_read = true", true},
		{"evt.is_open_read = false", false},
		{"proc.pid = 70", true},
		{"proc.pid = 71", false},
	};
	struct vg_cond_env env = ENV;
	env.fieldset = vg_cond_fieldset_new();
	struct vg_cond_err err;
	struct vg_pos at = {"t.yaml", 1, 1};
	struct vg_cond *warm = vg_cond_compile(
		"fd.name exists and fd.num exists and evt.is_open_read exists and proc.pid exists",
		&at, &env, &err);
	assert_non_null(warm);
	size_t n = sizeof(cases) / sizeof(cases[0]);
	struct vg_cond *c[sizeof(cases) / sizeof(cases[0])];
	for (size_t i = 0; i < n; i++) {
		c[i] = vg_cond_compile(cases[i].text, &at, &env, &err);
		assert_non_null(c[i]);
	}
	struct vg_cond_scratch *scr = vg_cond_scratch_new();
	for (int round = 0; round < 2; round++) {
		assert_true(vg_cond_eval(warm, &S.open, scr));
		for (size_t i = 0; i < n; i++) {
			if (vg_cond_eval(c[i], &S.open, scr) != cases[i].want)
				fail_msg("'%s' is not %d", cases[i].text, cases[i].want);
			assert_int_equal(vg_cond_eval_tree(c[i], &S.open, scr), cases[i].want);
		}
		assert_false(vg_cond_eval(c[0], &S.exec, scr)); /* another event */
	}
	/* each the first to read its field (a fresh scratch): the field is
	 * read for the copy; on the exec, fd.* are unset and every comparison,
	 * != too, is false */
	for (size_t i = 0; i < n; i++) {
		struct vg_cond_scratch *cold = vg_cond_scratch_new();
		if (vg_cond_eval(c[i], &S.open, cold) != cases[i].want)
			fail_msg("'%s' read first is not %d", cases[i].text, cases[i].want);
		vg_cond_scratch_free(cold);
		cold = vg_cond_scratch_new();
		if (!strncmp(cases[i].text, "fd.", 3) && vg_cond_eval(c[i], &S.exec, cold))
			fail_msg("'%s' is true on an event without an fd", cases[i].text);
		vg_cond_scratch_free(cold);
	}
	for (size_t i = 0; i < n; i++)
		vg_cond_free(c[i]);
	vg_cond_free(warm);
	vg_cond_scratch_free(scr);
	vg_cond_fieldset_free(env.fieldset);
}

/* Fields whose text is copied into the extraction buffer: the field cache
 * must keep each field's text while other fields are read after it, for
 * single and several values, and past any one arena chunk (test.text[i] is
 * 7000 + 100 * i bytes of 'a' + i, each index its own cache slot). */
static void f_multi(const struct vg_event *ev, const struct vg_farg *arg, struct vg_fvals *out)
{
	(void)ev;
	(void)arg;
	vg_fvals_strcpy(out, "alpha", 5);
	vg_fvals_strcpy(out, "beta", 4);
	vg_fvals_strcpy(out, "gamma", 5);
}

static void f_text(const struct vg_event *ev, const struct vg_farg *arg, struct vg_fvals *out)
{
	(void)ev;
	static char t[8192];
	size_t n = 7000 + (size_t)arg->index * 100;
	memset(t, 'a' + (int)arg->index, n);
	vg_fvals_strcpy(out, t, n);
}

static const struct vg_field multi_field = {"test.multi", VG_FT_STR, VG_FF_LIST, f_multi, "3"};
static const struct vg_field text_field = {"test.text", VG_FT_STR, VG_FF_ARG_INDEX, f_text, "t"};

static const struct vg_field *copy_resolver(void *ctx, const char *name, size_t len,
					    struct vg_farg *arg, size_t *keylen)
{
	(void)ctx;
	if (len == 10 && !strncmp(name, "test.multi", 10))
		return &multi_field;
	if (len == 9 && !strncmp(name, "test.text", 9))
		return &text_field;
	return vg_field_find(name, len, arg, keylen);
}

static void test_cache_copied_text(void **unused)
{
	(void)unused;
	struct vg_cond_env env = ENV;
	env.field = copy_resolver;
	env.fieldset = vg_cond_fieldset_new();
	struct vg_cond_err err;
	struct vg_pos at = {"t.yaml", 1, 1};
	/* c[i] reads test.text[i] first, c[14 + i] again after all the others */
	struct vg_cond *c[28];
	char text[96];
	for (int i = 0; i < 12; i++) {
		snprintf(text, sizeof(text), "test.text[%d] startswith %c%c", i, 'a' + i, 'a' + i);
		c[i] = vg_cond_compile(text, &at, &env, &err);
		snprintf(text, sizeof(text), "test.text[%d] endswith %c", i, 'a' + i);
		c[14 + i] = vg_cond_compile(text, &at, &env, &err);
	}
	c[12] = vg_cond_compile("test.multi in (beta)", &at, &env, &err);
	c[13] = vg_cond_compile("test.multi = gamma", &at, &env, &err);
	c[26] = vg_cond_compile("test.multi endswith mma", &at, &env, &err);
	c[27] = vg_cond_compile("test.multi = alpha and not test.multi contains x", &at, &env,
				&err);
	for (int i = 0; i < 28; i++)
		assert_non_null(c[i]);
	struct vg_event ev = {0};
	for (int round = 0; round < 3; round++) {
		ev.num = (uint64_t)round + 1;
		for (int i = 0; i < 28; i++)
			if (!vg_cond_eval_typed(c[i], &ev, SCR))
				fail_msg("round %d: condition %d false", round, i);
	}
	for (int i = 0; i < 28; i++)
		vg_cond_free(c[i]);
	vg_cond_fieldset_free(env.fieldset);
}

/* ---- groups ------------------------------------------------------------- */

/* A field that counts its extractions: whether a member's comparison was
 * made at all. */
static int count_calls;

static void f_count(const struct vg_event *ev, const struct vg_farg *arg, struct vg_fvals *out)
{
	(void)ev;
	(void)arg;
	count_calls++;
	vg_fvals_str(out, "x", 1);
}

static const struct vg_field count_field = {"test.count", VG_FT_STR, VG_FF_ARG_INDEX, f_count,
					    "counts"};

static const struct vg_field *count_resolver(void *ctx, const char *name, size_t len,
					     struct vg_farg *arg, size_t *keylen)
{
	(void)ctx;
	if (len == 10 && !strncmp(name, "test.count", 10))
		return &count_field;
	return vg_field_find(name, len, arg, keylen);
}

/* The members the group returns on ev, as bits, checking each against
 * vg_cond_eval and the tree. */
static uint64_t group_run(struct vg_cond *const *c, size_t n, const struct vg_event *ev,
			  struct vg_cond_scratch *scr)
{
	struct vg_cond_group *g = vg_cond_group_new((const struct vg_cond *const *)c, n, ev->type);
	assert_non_null(g);
	struct vg_cond_group_it it;
	vg_cond_group_start(g, &it);
	vg_cond_begin(c[0], ev, scr);
	uint64_t got = 0;
	int i, last = -1;
	while ((i = vg_cond_group_next(g, ev, scr, &it)) >= 0) {
		assert_true(i > last); /* in order, once each */
		last = i;
		got |= 1ull << i;
	}
	vg_cond_group_free(g);
	for (size_t k = 0; k < n; k++) {
		bool want = vg_cond_eval_tree(c[k], ev, scr);
		if (want != ((got >> k & 1) != 0))
			fail_msg("member %zu on %s: group says %d, tree %d", k, ev->name,
				 (int)(got >> k & 1), want);
		assert_int_equal(vg_cond_eval(c[k], ev, scr), want);
	}
	return got;
}

static struct vg_cond *compile_fs(const char *text, struct vg_cond_env *env)
{
	struct vg_cond_err err;
	struct vg_pos at = {"t.yaml", 1, 1};
	struct vg_cond *c = vg_cond_compile(text, &at, env, &err);
	if (!c)
		fail_msg("'%s' did not compile: %s", text, err.msg);
	return c;
}

/* Members whose conditions do not each need a shared comparison must be
 * evaluated themselves: an or with the comparison in one branch only, a
 * not over an and, a comparison needed false. */
static void test_group_exact(void **unused)
{
	(void)unused;
	static const struct {
		const char *text;
		bool exec, open; /* bash's exec, cat's open of /etc/shadow */
	} cases[] = {
		{"proc.name = zsh and proc.pname = sshd", false, false},
		{"proc.name = zsh or proc.name = bash", true, false},
		{"not (proc.name = zsh and proc.pname = sshd)", true, true},
		{"not proc.name = zsh", true, true},
		{"proc.name = cat and fd.name = /etc/shadow", false, true},
		{"(proc.name = cat and fd.num = 3) or (proc.name = cat and fd.num = 4)", false,
		 true},
		{"(proc.name = cat and fd.num = 3) or (proc.name = bash and fd.num = 4)", false,
		 true},
		/* the evt.type branch that cannot be true on the type drops out */
		{"(evt.type = execve and proc.name = bash) or (evt.type = openat and proc.name = "
		 "zsh)",
		 true, false},
		{"(evt.type = execve and proc.name = cat) or (evt.type = openat and proc.name = "
		 "cat)",
		 false, true},
		{"proc.name = zsh and not proc.name = zsh", false, false},
		{"proc.name = cat and not proc.name = zsh", false, true},
		{"not (proc.name != cat or proc.pname != bash)", false, true},
		{"proc.name in (bash, cat) and not proc.name in (zsh)", true, true},
		{"proc.name = zsh or not proc.name = zsh", true, true},
		{"never_true or proc.name = bash", true, false},
	};
	struct vg_cond_env env = ENV;
	env.fieldset = vg_cond_fieldset_new();
	size_t n = sizeof(cases) / sizeof(cases[0]);
	struct vg_cond *c[sizeof(cases) / sizeof(cases[0])];
	for (size_t i = 0; i < n; i++)
		c[i] = compile_fs(cases[i].text, &env);
	struct vg_cond_scratch *scr = vg_cond_scratch_new();
	uint64_t want_exec = 0, want_open = 0;
	for (size_t i = 0; i < n; i++) {
		want_exec |= (uint64_t)cases[i].exec << i;
		want_open |= (uint64_t)cases[i].open << i;
	}
	for (int round = 0; round < 2; round++) {
		assert_true(group_run(c, n, &S.exec, scr) == want_exec);
		assert_true(group_run(c, n, &S.open, scr) == want_open);
	}
	/* a member that needs one comparison both ways is never possible */
	struct vg_cond_group *g =
		vg_cond_group_new((const struct vg_cond *const *)c, n, S.exec.type);
	assert_false(vg_cond_group_members(g) >> 9 & 1);
	assert_true(vg_cond_group_members(g) >> 10 & 1);
	vg_cond_group_free(g);
	/* more than 64 members: no group */
	struct vg_cond *many[65];
	for (int i = 0; i < 65; i++)
		many[i] = c[0];
	assert_null(vg_cond_group_new((const struct vg_cond *const *)many, 65, S.exec.type));
	for (size_t i = 0; i < n; i++)
		vg_cond_free(c[i]);
	vg_cond_scratch_free(scr);
	vg_cond_fieldset_free(env.fieldset);
}

/* Compile time stays linear in the condition's length: 100,000 nested '('
 * or '[' fail at once at the nesting limit (with its position); chains of
 * 100,000 comparisons compile and build their group (which searched the
 * program for each comparison: 6 s for the and chain), and 50,000 distinct
 * field arguments get their cache slots (a linear search each: 17 s),
 * each well under 2 s, sanitizers included. */
static void phase_done(const char *what, double *t0)
{
	double dt = now_s() - *t0;
	if (dt > 2.0)
		fail_msg("%s took %.2f s", what, dt);
	*t0 = now_s();
}

static void long_chain(const char *fmt, const char *op, int n, const char *what, double *t0)
{
	char *t = malloc((size_t)n * 64 + 64);
	assert_non_null(t);
	size_t k = 0;
	for (int i = 0; i < n; i++) {
		if (i)
			k += (size_t)sprintf(t + k, " %s ", op);
		k += (size_t)sprintf(t + k, fmt, i);
	}
	struct vg_cond_env env = ENV;
	env.fieldset = vg_cond_fieldset_new();
	struct vg_cond *c = compile_fs(t, &env);
	struct vg_cond_scratch *scr = vg_cond_scratch_new();
	group_run(&c, 1, &S.exec, scr);
	group_run(&c, 1, &S.open, scr);
	vg_cond_scratch_free(scr);
	vg_cond_free(c);
	vg_cond_fieldset_free(env.fieldset);
	free(t);
	phase_done(what, t0);
}

/* A chain of n terms that must fail with VG_CERR_LIMIT and want, at its
 * first character (at_start) or at its last term. */
static void long_chain_refused(const char *fmt, const char *op, int n, const char *want,
			       int at_start, double *t0)
{
	char *t = malloc((size_t)n * 64 + 64);
	assert_non_null(t);
	size_t k = 0, last = 0;
	for (int i = 0; i < n; i++) {
		if (i)
			k += (size_t)sprintf(t + k, " %s ", op);
		last = k;
		k += (size_t)sprintf(t + k, fmt, i);
	}
	struct vg_cond_err err;
	struct vg_pos at = {"t.yaml", 1, 1};
	struct vg_cond *c = vg_cond_compile(t, &at, &ENV, &err);
	if (c)
		fail_msg("a chain of %d terms compiled, expected '%s'", n, want);
	if (!strstr(err.msg, want))
		fail_msg("a chain of %d terms: message '%s' lacks '%s'", n, err.msg, want);
	assert_int_equal(err.kind, VG_CERR_LIMIT);
	assert_int_equal(err.pos.line, 1);
	assert_int_equal(err.pos.col, at_start ? 1 : (int)last + 1);
	free(t);
	phase_done(want, t0);
}

static void test_long_conditions(void **unused)
{
	(void)unused;
	enum { N = 100000 };
	char *t = malloc(N + 64);
	assert_non_null(t);
	double t0 = now_s();
	memset(t, '(', N);
	strcpy(t + N, "proc.name = bash");
	expect_err(t, "t.yaml", 1, 201, "nested too deep");
	memset(t, '(', N / 2);
	memset(t + N / 2, '[', N / 2);
	strcpy(t + N, "x");
	expect_err(t, "t.yaml", 1, 201, "nested too deep");
	strcpy(t, "proc.name");
	memset(t + 9, '[', N);
	strcpy(t + 9 + N, " = x");
	expect_err(t, "t.yaml", 1, 1, "unbalanced '['");
	strcpy(t, "proc.name = x and ");
	memset(t + 18, '[', N);
	t[18 + N] = 0;
	expect_err(t, "t.yaml", 1, 19, "unexpected '['");
	free(t);
	phase_done("100,000 nested ( or [", &t0);
	/* chains as long as one condition may be (VG_COND_MAX_CHECKS
	 * comparisons), compiled and grouped in linear time */
	enum { M = VG_COND_MAX_CHECKS };
	long_chain("proc.pid = %d", "and", M, "a 20,000-term and", &t0);
	long_chain("proc.pid = %d", "or", M, "a 20,000-term or", &t0);
	long_chain("(proc.name = n%d or proc.pid = 1)", "and", M / 2, "an and of 10,000 ors", &t0);
	long_chain("evt.arg[k%d] = x", "or", M, "20,000 distinct field arguments", &t0);
	/* one comparison more, or more text than VG_COND_MAX_TEXT: refused,
	 * where the limit is passed, with the kind callers test */
	long_chain_refused("proc.pid = %d", "and", M + 1, "more than 20000 comparisons", 0, &t0);
	long_chain_refused("proc.pid = %d", "or", N, "more than 1048576 bytes of text", 1, &t0);
}

/* A comparison a member's program makes first rules out, without their
 * being evaluated, the other members that need the other result. */
static void test_group_rules_out(void **unused)
{
	(void)unused;
	struct vg_cond_env env = ENV;
	env.fieldset = vg_cond_fieldset_new();
	env.field = count_resolver;
	struct vg_cond *c[3];
	c[0] = compile_fs("proc.name = zsh and proc.pname = sshd", &env);
	/* its program reads test.count first: ruled out by proc.name = zsh */
	c[1] = compile_fs("(test.count[1] = x or proc.pname = nope) and proc.name = zsh", &env);
	c[2] = compile_fs("(test.count[2] = x or proc.pname = nope) and proc.name = bash", &env);
	struct vg_cond_scratch *scr = vg_cond_scratch_new();
	count_calls = 0;
	assert_true(group_run(c, 3, &S.exec, scr) == 1u << 2);
	/* on the exec (bash), with nothing cached: read once, by member 2's
	 * program; member 1, ruled out, never reads it */
	vg_cond_scratch_free(scr);
	scr = vg_cond_scratch_new();
	count_calls = 0;
	struct vg_cond_group *g =
		vg_cond_group_new((const struct vg_cond *const *)c, 3, S.exec.type);
	/* member 0 makes proc.name = zsh, then proc.pname = sshd */
	assert_int_equal(vg_cond_group_keys(g), 2);
	struct vg_cond_group_it it;
	vg_cond_group_start(g, &it);
	vg_cond_begin(c[0], &S.exec, scr);
	assert_int_equal(vg_cond_group_next(g, &S.exec, scr, &it), 2);
	assert_int_equal(count_calls, 1);
	assert_int_equal(vg_cond_group_next(g, &S.exec, scr, &it), -1);
	/* on the open (cat): members 0 and 1 ruled out, 2 false */
	count_calls = 0;
	vg_cond_group_start(g, &it);
	vg_cond_begin(c[0], &S.open, scr);
	assert_int_equal(vg_cond_group_next(g, &S.open, scr, &it), -1);
	assert_int_equal(count_calls, 1); /* member 2's own program */
	vg_cond_group_free(g);
	for (int i = 0; i < 3; i++)
		vg_cond_free(c[i]);
	vg_cond_scratch_free(scr);
	vg_cond_fieldset_free(env.fieldset);
}

/* Random conditions in groups: the members returned are exactly the true
 * ones, on each event. */
static void test_group_random(void **unused)
{
	(void)unused;
	static char text[65536];
	struct vg_cond_env env = ENV;
	env.fieldset = vg_cond_fieldset_new();
	struct vg_cond_scratch *scr = vg_cond_scratch_new();
	size_t seen = 0;
	for (int round = 0; round < 60; round++) {
		struct vg_cond *c[64];
		size_t n = 1 + rnd(64);
		for (size_t i = 0; i < n; i++) {
			size_t len = 0;
			gen_expr(text, sizeof(text), &len, 0);
			c[i] = compile_fs(text, &env);
		}
		seen += (size_t)__builtin_popcountll(group_run(c, n, &S.exec, scr));
		group_run(c, n, &S.open, scr);
		group_run(c, n, &S.conn, scr);
		for (size_t i = 0; i < n; i++)
			vg_cond_free(c[i]);
	}
	assert_true(seen > 100);
	vg_cond_scratch_free(scr);
	vg_cond_fieldset_free(env.fieldset);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scene),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_compare_ops),
		cmocka_unit_test(test_string_ops),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_transformers),
		cmocka_unit_test(test_val),
		cmocka_unit_test(test_field_args),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_ip),
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_evttypes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_kinds),
		cmocka_unit_test(test_regex_re2),
		cmocka_unit_test(test_regex_posix_subset),
		cmocka_unit_test(test_regex_bounded),
		cmocka_unit_test(test_long_values),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_field_cache),
		cmocka_unit_test(test_program_vs_tree),
		cmocka_unit_test(test_memo),
		cmocka_unit_test(test_fast_compare),
		cmocka_unit_test(test_cache_copied_text),
		cmocka_unit_test(test_group_exact),
		cmocka_unit_test(test_long_conditions),
		cmocka_unit_test(test_group_rules_out),
		cmocka_unit_test(test_group_random),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
