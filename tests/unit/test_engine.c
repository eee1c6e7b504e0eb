/* Unit tests of the engine (agent/engine/engine.c) and the outputs (agent/engine/output.c):
 * every matching rule reported, the index by event type, disabled / failed /
 * skipped rules, the syscalls of interest, %field rendering and the JSON
 * alert. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "output.h"
#include "utf8.h"
#include "rules.h"
#include "scene.h"

static struct scene S;
static struct vg_cond_scratch *SCR;

static const char RULES[] =
	"- list: readers\n"							 /* 1 */
	"  items: [cat, less]\n"						 /* 2 */
	"- macro: open_shadow\n"						 /* 3 */
	"  condition: evt.type = openat and fd.name = /etc/shadow\n"		 /* 4 */
	"- rule: Read shadow\n"							 /* 5 */
	"  desc: d\n"								 /* 6 */
	"  condition: open_shadow\n"						 /* 7 */
	"  output: read %fd.name by %proc.name (gp=%proc.aname[2] fd=%fd.num)\n" /* 8 */
	"  priority: Warning\n"							 /* 9 */
	"  tags: [filesystem, T1003]\n"						 /* 10 */
	"- rule: Reader opens\n"						 /* 11 */
	"  desc: d\n"								 /* 12 */
	"  condition: evt.type in (open, openat) and proc.name in (readers)\n"	 /* 13 */
	"  output: open by %proc.name\n"					 /* 14 */
	"  priority: Notice\n"							 /* 15 */
	"- rule: HTTPS out\n"							 /* 16 */
	"  desc: d\n"								 /* 17 */
	"  condition: evt.type = connect and fd.sport = 443\n"			 /* 18 */
	"  output: to %fd.sip\n"						 /* 19 */
	"  priority: Error\n"							 /* 20 */
	"- rule: Any curl\n"							 /* 21 */
	"  desc: d\n"								 /* 22 */
	"  condition: proc.name = curl\n"					 /* 23 */
	"  output: curl %evt.type\n"						 /* 24 */
	"  priority: Debug\n"							 /* 25 */
	"- rule: Disabled open\n"						 /* 26 */
	"  desc: d\n"								 /* 27 */
	"  condition: evt.type = openat\n"					 /* 28 */
	"  output: o\n"								 /* 29 */
	"  priority: Debug\n"							 /* 30 */
	"  enabled: false\n"							 /* 31 */
	"- rule: Bad field\n"							 /* 32 */
	"  desc: d\n"								 /* 33 */
	"  condition: evt.type = openat and proc.nme = x\n"			 /* 34 */
	"  output: o\n"								 /* 35 */
	"  priority: Debug\n"							 /* 36 */
	"- rule: Bad output\n"							 /* 37 */
	"  desc: d\n"								 /* 38 */
	"  condition: evt.type = openat\n"					 /* 39 */
	"  output: x %proc.nme y\n"						 /* 40 */
	"  priority: Debug\n"							 /* 41 */
	"- rule: Skipped\n"							 /* 42 */
	"  desc: d\n"								 /* 43 */
	"  condition: evt.type = openat and some.plugin.field = 1\n"		 /* 44 */
	"  output: o\n"								 /* 45 */
	"  priority: Debug\n"							 /* 46 */
	"  skip-if-unknown-filter: true\n"					 /* 47 */
	"- rule: Audit\n"							 /* 48 */
	"  desc: d\n"								 /* 49 */
	"  condition: ct.name = create\n"					 /* 50 */
	"  output: o\n"								 /* 51 */
	"  priority: Debug\n"							 /* 52 */
	"  source: aws_cloudtrail\n"						 /* 53 */
	"- rule: Ptrace\n"							 /* 54 */
	"  desc: d\n"								 /* 55 */
	"  condition: evt.type = ptrace\n"					 /* 56 */
	"  output: o\n"								 /* 57 */
	"  priority: Critical\n"						 /* 58 */
	"- rule: Later disabled\n"						 /* 59 */
	"  desc: d\n"								 /* 60 */
	"  condition: evt.type = connect\n"					 /* 61 */
	"  output: o\n"								 /* 62 */
	"  priority: Debug\n"							 /* 63 */
	"- rule: Later disabled\n"						 /* 64 */
	"  enabled: false\n";							 /* 65 */

static struct vg_ruleset *RS;
static struct vg_engine *E;
static struct vg_diag D;

static int setup(void **unused)
{
	(void)unused;
	assert_int_equal(scene_init(&S), 0);
	SCR = vg_cond_scratch_new();
	RS = vg_ruleset_new();
	assert_int_equal(vg_ruleset_add_text(RS, "e.yaml", RULES, strlen(RULES), &D), 0);
	E = vg_engine_build(RS, &D);
	return 0;
}

static int teardown(void **unused)
{
	(void)unused;
	vg_engine_free(E);
	vg_ruleset_free(RS);
	vg_diag_free(&D);
	vg_cond_scratch_free(SCR);
	scene_free(&S);
	return 0;
}

struct hits {
	char names[512];
	int n;
};

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	struct hits *h = ctx;
	(void)ev;
	size_t len = strlen(h->names);
	snprintf(h->names + len, sizeof(h->names) - len, "%s%s", h->n++ ? "|" : "", r->name);
}

static const char *fired(const struct vg_event *ev)
{
	static struct hits h;
	memset(&h, 0, sizeof(h));
	int n = vg_engine_match(E, ev, SCR, on_match, &h);
	assert_int_equal(n, h.n);
	return h.names;
}

static const struct vg_rule *find(const char *name)
{
	for (size_t i = 0; i < vg_engine_rule_count(E); i++)
		if (!strcmp(vg_engine_rule(E, i)->name, name))
			return vg_engine_rule(E, i);
	return NULL;
}

static void test_stats_and_diags(void **unused)
{
	(void)unused;
	struct vg_engine_stats st;
	vg_engine_get_stats(E, &st);
	assert_int_equal(st.rules_total, 11);
	assert_int_equal(st.rules_enabled, 5);
	assert_int_equal(st.rules_disabled, 2);
	assert_int_equal(st.rules_failed, 2);
	assert_int_equal(st.rules_skipped, 2);
	assert_int_equal(st.macros, 1);
	assert_int_equal(st.lists, 1);
	assert_int_equal(vg_engine_rule_count(E), 7);
	assert_null(find("Bad field"));
	assert_null(find("Bad output"));
	assert_null(find("Skipped"));
	assert_null(find("Audit"));
	assert_null(vg_engine_rule(E, 7));

	/* errors name the file, the exact position and the rule */
	assert_int_equal(D.errors, 2);
	int seen = 0;
	for (size_t i = 0; i < D.n; i++) {
		const struct vg_diag_entry *e = &D.v[i];
		if (!e->error)
			continue;
		assert_string_equal(e->file, "e.yaml");
		if (strstr(e->msg, "rule 'Bad field'")) {
			assert_non_null(strstr(e->msg, "unknown field 'proc.nme'"));
			assert_int_equal(e->line, 34);
			assert_int_equal(e->col, 36);
			seen |= 1;
		} else if (strstr(e->msg, "rule 'Bad output'")) {
			assert_non_null(strstr(e->msg, "%proc.nme"));
			assert_int_equal(e->line, 40);
			assert_int_equal(e->col, 13);
			seen |= 2;
		}
	}
	assert_int_equal(seen, 3);
	/* warnings: the aws_cloudtrail source, and "Any curl" runs on every event */
	int warned_curl = 0;
	for (size_t i = 0; i < D.n; i++)
		if (!D.v[i].error && strstr(D.v[i].msg, "'Any curl'")) {
			assert_int_equal(D.v[i].line, 21);
			warned_curl = 1;
		}
	assert_true(warned_curl);
}

static void test_match(void **unused)
{
	(void)unused;
	/* both rules on the openat of /etc/shadow by cat fire, in load order */
	assert_string_equal(fired(&S.open), "Read shadow|Reader opens");
	assert_string_equal(fired(&S.conn), "HTTPS out|Any curl");
	assert_string_equal(fired(&S.exec), "");
	assert_int_equal(vg_engine_match(E, &S.open, SCR, NULL, NULL), 2);
	/* an event type out of range meets no rule */
	struct vg_event odd = S.open;
	odd.type = VG_T_MAX;
	assert_int_equal(vg_engine_match(E, &odd, SCR, NULL, NULL), 0);
}

struct foreign {
	struct vg_cond *c;
	struct hits h;
};

/* A match callback that evaluates a condition of another field set with
 * the engine's scratch (as output or a hook may). */
static void on_match_foreign(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	struct foreign *f = ctx;
	on_match(&f->h, r, ev);
	assert_false(vg_cond_eval(f->c, ev, SCR));
}

static void test_match_callback_uses_scratch(void **unused)
{
	(void)unused;
	/* its field and shared-result slots overlap the engine's (fd.name,
	 * then a second field and a false comparison): the rules after the
	 * callback must not read them as their own */
	struct vg_cond_fieldset *fs = vg_cond_fieldset_new();
	struct vg_cond_env env = {0};
	env.fieldset = fs;
	struct vg_cond_err err;
	struct foreign f = {0};
	f.c = vg_cond_compile("fd.name = nope or fd.directory = /nope", NULL, &env, &err);
	assert_non_null(f.c);
	assert_int_equal(vg_engine_match(E, &S.open, SCR, on_match_foreign, &f), 2);
	assert_string_equal(f.h.names, "Read shadow|Reader opens");
	vg_cond_free(f.c);
	vg_cond_fieldset_free(fs);
}

static void test_index(void **unused)
{
	(void)unused;
	const struct vg_rule *r = find("Read shadow");
	assert_non_null(r);
	assert_true(r->types[VG_NR_openat]);
	assert_false(r->types[VG_NR_connect]);
	assert_false(r->types[VG_NR_open]);
	assert_false(r->types[VG_NR_execve]);
	r = find("Reader opens");
	assert_true(r->types[VG_NR_open] && r->types[VG_NR_openat]);
	assert_false(r->types[VG_NR_connect]);
	r = find("Any curl");
	assert_true(r->types[VG_NR_connect] && r->types[VG_NR_openat] && r->types[VG_NR_execve]);
	assert_false(r->types[VG_T_PROCSNAP]);

	/* the same openat record relabelled as a connect event does not meet
	 * the openat rules, only the rules indexed under connect */
	struct vg_event ev = S.open;
	ev.type = VG_NR_connect;
	assert_string_equal(fired(&ev), "");
	/* a /proc snapshot never fires a rule, even one on every type */
	ev = S.conn;
	ev.type = VG_T_PROCSNAP;
	assert_string_equal(fired(&ev), "");

	const struct vg_rule *p = find("Ptrace");
	assert_int_equal(p->priority, VG_PRIO_CRITICAL);
	assert_string_equal(p->source, "syscall");
	const struct vg_rule *rs = find("Read shadow");
	assert_int_equal(rs->ntags, 2);
	assert_string_equal(rs->tags[1], "T1003");
	assert_int_equal(rs->index, 0);
}

static void test_interest(void **unused)
{
	(void)unused;
	uint8_t want[VG_NR_MAX];
	/* "Any curl" makes every syscall interesting: check a narrow engine */
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_diag d = {0};
	static const char narrow[] = "- rule: P\n  desc: d\n  condition: evt.type = ptrace\n"
				     "  output: o\n  priority: Debug\n"
				     "- rule: M\n  desc: d\n  condition: evt.type in (mkdirat, "
				     "init_module)\n  output: o\n  priority: Debug\n"
				     "- rule: Off\n  desc: d\n  condition: evt.type = kill\n"
				     "  output: o\n  priority: Debug\n  enabled: false\n";
	assert_int_equal(vg_ruleset_add_text(rs, "n.yaml", narrow, strlen(narrow), &d), 0);
	struct vg_engine *e = vg_engine_build(rs, &d);
	assert_int_equal(d.errors, 0);
	vg_engine_interest(e, want);
	/* the rules' syscalls */
	assert_true(want[VG_NR_ptrace]);
	assert_true(want[VG_NR_mkdirat]);
	assert_true(want[VG_NR_init_module]);
	/* the state's */
	assert_true(want[VG_NR_execve] && want[VG_NR_clone] && want[VG_NR_openat]);
	assert_true(want[VG_NR_close] && want[VG_NR_connect] && want[VG_NR_setuid]);
	/* not unrelated ones, nor a disabled rule's */
	assert_false(want[VG_NR_kill]);
	assert_false(want[VG_NR_unlinkat]);
	assert_false(want[VG_NR_mount]);
	assert_false(want[VG_NR_mkdir]);
	vg_engine_free(e);
	vg_ruleset_free(rs);
	vg_diag_free(&d);

	/* the big engine: every known syscall */
	vg_engine_interest(E, want);
	assert_true(want[VG_NR_kill] && want[VG_NR_mount] && want[VG_NR_ptrace]);
}

static const char *render(const char *fmt, const struct vg_event *ev)
{
	static char buf[4096];
	static struct vg_fvals fv;
	struct vg_cond_err err;
	struct vg_output *o = vg_output_compile(fmt, NULL, &err);
	if (!o)
		fail_msg("output '%s' did not compile: %s", fmt, err.msg);
	size_t n = vg_output_render(o, ev, &fv, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	vg_output_free(o);
	return buf;
}

static void test_output(void **unused)
{
	(void)unused;
	assert_string_equal(render("%proc.name read %fd.name", &S.open), "cat read /etc/shadow");
	assert_string_equal(render("%proc.aname[1]/%proc.aname[2]/%proc.aname[3]", &S.open),
			    "bash/sshd/systemd");
	assert_string_equal(render("ancestors %proc.aname", &S.open),
			    "ancestors (bash,sshd,systemd)");
	assert_string_equal(render("buf=%evt.buffer sip=%fd.sip", &S.open), "buf=<NA> sip=<NA>");
	assert_string_equal(render("%fd.sip:%fd.sport (%fd.l4proto)", &S.conn),
			    "93.184.216.34:443 (tcp)");
	assert_string_equal(render("by %proc.name.", &S.exec), "by bash.");
	assert_string_equal(render("100% sure, %% %proc.pid", &S.exec), "100% sure, %% 60");
	assert_string_equal(render("term=%proc.env[TERM]", &S.exec), "term=xterm");
	assert_string_equal(render("flags=%evt.arg.flags", &S.open), "flags=O_RDONLY|O_CLOEXEC");
	assert_string_equal(render("%evt.arg[2]", &S.open), "/etc/shadow");
	assert_string_equal(render("", &S.open), "");
	assert_string_equal(render("no fields", &S.open), "no fields");

	/* truncation keeps the NUL */
	struct vg_cond_err err;
	struct vg_output *o = vg_output_compile("%proc.cmdline and more", NULL, &err);
	assert_non_null(o);
	static struct vg_fvals fv;
	char small[8];
	assert_int_equal(vg_output_render(o, &S.exec, &fv, small, sizeof(small)), 7);
	assert_string_equal(small, "bash -c");
	vg_output_free(o);

	/* an unknown field is an error at its position */
	struct vg_pos at = {"o.yaml", 5, 11};
	assert_null(vg_output_compile("read %fd.name by\n  %proc.nme", &at, &err));
	assert_non_null(strstr(err.msg, "unknown field '%proc.nme'"));
	assert_int_equal(err.pos.line, 6);
	assert_int_equal(err.pos.col, 3);
	assert_null(vg_output_compile("%fd.name %nope", &at, &err));
	assert_int_equal(err.pos.line, 5);
	assert_int_equal(err.pos.col, 11 + 9);
}

static void test_alert_json(void **unused)
{
	(void)unused;
	const struct vg_rule *r = find("Read shadow");
	struct vg_alert_ctx *ctx = calloc(1, sizeof(*ctx));
	ctx->hostname = "node-1";
	char *s = vg_alert_json(r, &S.open, ctx);
	assert_non_null(s);
	assert_null(strchr(s, '\n'));
	cJSON *j = cJSON_Parse(s);
	if (!j)
		fail_msg("invalid JSON: %s", s);
	static const char *const keys[] = {"time",     "rule",	 "priority",	  "source",
					   "hostname", "output", "output_fields", "tags"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!cJSON_HasObjectItem(j, keys[i]))
			fail_msg("no '%s' in %s", keys[i], s);
	assert_false(cJSON_HasObjectItem(j, "k8s"));	     /* not in a pod */
	assert_false(cJSON_HasObjectItem(j, "rule_object")); /* a rule file's */
	assert_false(ctx->has_k8s);
	/* the message the Events sink takes from the alert record */
	assert_string_equal(ctx->buf + ctx->msg_off, "read /etc/shadow by cat (gp=sshd fd=3)");
	assert_string_equal(cJSON_GetObjectItem(j, "time")->valuestring,
			    "2023-11-14T22:13:20.123456789Z");
	assert_string_equal(cJSON_GetObjectItem(j, "rule")->valuestring, "Read shadow");
	assert_string_equal(cJSON_GetObjectItem(j, "priority")->valuestring, "Warning");
	assert_string_equal(cJSON_GetObjectItem(j, "source")->valuestring, "syscall");
	assert_string_equal(cJSON_GetObjectItem(j, "hostname")->valuestring, "node-1");
	assert_string_equal(cJSON_GetObjectItem(j, "output")->valuestring,
			    "22:13:20.123456789: Warning read /etc/shadow by cat (gp=sshd fd=3)");
	cJSON *of = cJSON_GetObjectItem(j, "output_fields");
	assert_true(cJSON_IsObject(of));
	assert_int_equal(cJSON_GetArraySize(of), 4);
	assert_string_equal(cJSON_GetObjectItem(of, "fd.name")->valuestring, "/etc/shadow");
	assert_string_equal(cJSON_GetObjectItem(of, "proc.name")->valuestring, "cat");
	assert_string_equal(cJSON_GetObjectItem(of, "proc.aname[2]")->valuestring, "sshd");
	cJSON *fd = cJSON_GetObjectItem(of, "fd.num");
	assert_true(cJSON_IsNumber(fd));
	assert_int_equal(fd->valueint, 3);
	cJSON *tg = cJSON_GetObjectItem(j, "tags");
	assert_true(cJSON_IsArray(tg));
	assert_int_equal(cJSON_GetArraySize(tg), 2);
	assert_string_equal(cJSON_GetArrayItem(tg, 0)->valuestring, "filesystem");
	cJSON_Delete(j);
	free(s);

	/* a rule object's rule says which object raised it */
	struct vg_rule_origin team = {"Rule", "team-a", "no-shadow", 4};
	struct vg_rule owned = *r;
	owned.origin = &team;
	s = vg_alert_json(&owned, &S.open, ctx);
	j = cJSON_Parse(s);
	assert_non_null(j);
	cJSON *ro = cJSON_GetObjectItem(j, "rule_object");
	assert_string_equal(cJSON_GetObjectItem(ro, "kind")->valuestring, "Rule");
	assert_string_equal(cJSON_GetObjectItem(ro, "namespace")->valuestring, "team-a");
	assert_string_equal(cJSON_GetObjectItem(ro, "name")->valuestring, "no-shadow");
	assert_int_equal(cJSON_GetObjectItem(ro, "generation")->valueint, 4);
	cJSON_Delete(j);
	free(s);
	struct vg_rule_origin admin = {"ClusterRule", NULL, "no-shadow", 1};
	owned.origin = &admin;
	s = vg_alert_json(&owned, &S.open, ctx);
	j = cJSON_Parse(s);
	ro = cJSON_GetObjectItem(j, "rule_object");
	assert_string_equal(cJSON_GetObjectItem(ro, "kind")->valuestring, "ClusterRule");
	assert_false(cJSON_HasObjectItem(ro, "namespace"));
	cJSON_Delete(j);
	free(s);

	/* typed values: numbers, booleans, null for unset, lists as text */
	struct vg_cond_err err;
	struct vg_rule fake = *r;
	fake.out = vg_output_compile("%proc.pid %evt.is_open_read %evt.buffer %proc.aname "
				     "%fd.sip %proc.name %proc.pid",
				     NULL, &err);
	assert_non_null(fake.out);
	fake.ntags = 0;
	ctx->hostname = NULL;
	s = vg_alert_json(&fake, &S.open, ctx);
	j = cJSON_Parse(s);
	assert_non_null(j);
	of = cJSON_GetObjectItem(j, "output_fields");
	assert_int_equal(cJSON_GetArraySize(of), 6); /* proc.pid once */
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(of, "proc.pid")));
	assert_int_equal(cJSON_GetObjectItem(of, "proc.pid")->valueint, 70);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(of, "evt.is_open_read")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(of, "evt.buffer")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(of, "fd.sip")));
	assert_string_equal(cJSON_GetObjectItem(of, "proc.aname")->valuestring,
			    "(bash,sshd,systemd)");
	assert_string_equal(cJSON_GetObjectItem(j, "hostname")->valuestring, "");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "tags")), 0);
	cJSON_Delete(j);
	free(s);

	/* JSON escaping of odd characters in values */
	vg_output_free(fake.out);
	fake.out = vg_output_compile("%proc.cmdline", NULL, &err);
	struct rb *b = &S.scratch;
	static const char *const argv[] = {"sh", "-c", "echo \"hi\"\\\t\x01", NULL};
	sc_exec_rec(b, 95, 60, "sh", "/bin/sh", argv, NULL);
	struct vg_event ev;
	assert_int_equal(sc_apply(&S, b, &ev), 0);
	s = vg_alert_json(&fake, &ev, ctx);
	j = cJSON_Parse(s);
	assert_non_null(j);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "output_fields"), "proc.cmdline")
			->valuestring,
		"sh -c echo \"hi\"\\\t\x01");
	cJSON_Delete(j);
	free(s);
	vg_output_free(fake.out);

	/* the text form */
	char line[512];
	size_t n = vg_alert_text(r, &S.open, ctx, line, sizeof(line));
	assert_int_equal(n, strlen(line));
	assert_string_equal(line,
			    "22:13:20.123456789: Warning read /etc/shadow by cat (gp=sshd fd=3)");
	free(ctx);
}

/* An independent check: strict UTF-8 (shortest form, no surrogates, at
 * most U+10FFFF), as Python's json module and Go want it. */
static bool strict_utf8(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = p[i];
		size_t len = c < 0x80		  ? 1
			     : (c & 0xe0) == 0xc0 ? 2
			     : (c & 0xf0) == 0xe0 ? 3
			     : (c & 0xf8) == 0xf0 ? 4
						  : 0;
		if (!len || i + len > n)
			return false;
		uint32_t cp = len == 1 ? c : c & (0x7f >> len);
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* A file name holding every byte 0x01..0xff but '/': the JSON alert is
 * strict UTF-8 (each invalid byte one U+FFFD), the text form one line
 * with every control and invalid byte written \xNN. */
static void test_alert_odd_bytes(void **unused)
{
	(void)unused;
	char name[300] = "/tmp/x", want_json[1024] = "/tmp/x", want_text[1200] = "/tmp/x";
	size_t n = strlen(name), nj = n, nt = n;
	for (unsigned c = 1; c <= 0xff; c++) {
		if (c == '/')
			continue;
		name[n++] = (char)c;
		if (c < 0x80) {
			want_json[nj++] = (char)c;
		} else {
			memcpy(want_json + nj, "\xef\xbf\xbd", 3);
			nj += 3;
		}
		if (c < 0x20 || c >= 0x7f)
			nt += (size_t)sprintf(want_text + nt, "\\x%02x", c);
		else
			want_text[nt++] = (char)c;
	}
	name[n] = want_json[nj] = want_text[nt] = 0;

	struct rb *b = &S.scratch;
	sc_sys(b, VG_NR_openat, 70, 60, "cat", 4);
	b->r.arg[0] = SC_AT_FDCWD;
	rb_str(b, VG_S_PATH0, name);
	struct vg_event ev;
	assert_int_equal(sc_apply(&S, b, &ev), 0);
	struct vg_cond_err err;
	struct vg_rule fake = *find("Read shadow");
	fake.out = vg_output_compile("opened %fd.name", NULL, &err);
	assert_non_null(fake.out);
	struct vg_alert_ctx *ctx = calloc(1, sizeof(*ctx));
	char *s = vg_alert_json(&fake, &ev, ctx);
	if (!strict_utf8((const unsigned char *)s, strlen(s)))
		fail_msg("not UTF-8: %s", s);
	cJSON *j = cJSON_Parse(s);
	assert_non_null(j);
	const char *got = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "output_fields"), "fd.name")
				  ->valuestring;
	assert_string_equal(got, want_json);
	/* "output" is the text form */
	const char *out = cJSON_GetObjectItem(j, "output")->valuestring;
	assert_non_null(strstr(out, want_text));
	cJSON_Delete(j);
	free(s);

	char line[2048];
	size_t len = vg_alert_text(&fake, &ev, ctx, line, sizeof(line));
	assert_int_equal(len, strlen(line));
	assert_non_null(strstr(line, want_text));
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			fail_msg("control byte 0x%02x at %zu", (unsigned char)line[i], i);
	assert_true(strict_utf8((const unsigned char *)line, len));
	/* a valid multi-byte character is kept, a C1 control (U+009B, CSI) is not */
	assert_int_equal(vg_utf8_text_escape("\xc3\xa9\xc2\x9b", 4, line, sizeof(line)), 10);
	assert_string_equal(line, "\xc3\xa9\\xc2\\x9b");
	/* an escape is never cut */
	assert_int_equal(vg_utf8_text_escape("ab\n", 3, line, 5), 2);
	assert_string_equal(line, "ab");
	vg_output_free(fake.out);
	free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_and_diags),
		cmocka_unit_test(test_alert_odd_bytes),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_callback_uses_scratch),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_interest),
		cmocka_unit_test(test_output),
		cmocka_unit_test(test_alert_json),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
