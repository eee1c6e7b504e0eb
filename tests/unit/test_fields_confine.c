/* Unit tests of the confined fields (fields.h, vg_field_confine): on a
 * process tree that crosses a container's boundary (tenant_scene.h),
 * every field `vigil fields` lists, with no argument and with [0]..[4],
 * read through vg_field_confine shows nothing of the host; the fields
 * that walk the tree do show the host without it (so that the scene
 * really crosses), and stop exactly at the boundary with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "tenant_scene.h"

static struct tscene S;

/* Every value of f on ev with arg, joined by ','; "" when unset. */
static const char *render(const struct vg_field *f, const struct vg_farg *arg)
{
	static struct vg_fvals v;
	static char out[VG_FVALS_BUF * 2];
	vg_field_extract(f, &S.kill, arg, &v);
	size_t n = 0;
	out[0] = '\0';
	for (uint32_t i = 0; i < v.n && n + 1 < sizeof(out); i++) {
		if (i)
			out[n++] = ',';
		n += vg_fval_format(&v, i, out + n, sizeof(out) - n);
	}
	return out;
}

/* The host's names and paths, or its pids (but the pid kill() was given
 * is the event's own argument: evt.arg[s] show that number, not its name). */
static bool shows_host(const struct vg_field *f, const char *s)
{
	if (strstr(s, "hostsecret"))
		return true;
	return strncmp(f->name, "evt.arg", 7) && (strstr(s, "4001") || strstr(s, "4002"));
}

/* The arguments a field is read with: none, [0]..[4], and for key fields
 * the event's parameter names and an environment variable. */
static size_t args_of(const struct vg_field *f, struct vg_farg *a)
{
	size_t n = 0;
	if (!(f->flags & VG_FF_ARG_REQ))
		a[n++] = (struct vg_farg){0};
	if (f->flags & VG_FF_ARG_INDEX)
		for (int i = 0; i <= 4; i++)
			a[n++] = (struct vg_farg){1, i, NULL};
	if (f->flags & VG_FF_ARG_KEY) {
		a[n++] = (struct vg_farg){2, 0, "pid"};
		a[n++] = (struct vg_farg){2, 0, "sig"};
		a[n++] = (struct vg_farg){2, 0, "HOME"};
	}
	return n;
}

static void test_no_field_shows_the_host(void **state)
{
	(void)state;
	size_t confined = 0, crossing = 0;
	for (size_t i = 0; i < vg_field_count(); i++) {
		const struct vg_field *f = vg_field_at(i);
		const struct vg_field *c = vg_field_confine(f);
		assert_non_null(c);
		assert_string_equal(c->name, f->name);
		assert_int_equal(c->type, f->type);
		assert_int_equal(c->flags, f->flags);
		confined += c != f;
		struct vg_farg a[16];
		assert_non_null(vg_state_proc(S.st, 4003));
		size_t na = args_of(f, a);
		bool host = false;
		/* as cat (deep in the container) and as cinit (its first process,
		 * whose parent is the host's) */
		static const uint32_t pids[] = {4005, 4003};
		struct vg_proc *own = S.kill.proc;
		for (size_t k = 0; k < na * 2; k++) {
			S.kill.proc = vg_state_proc(S.st, pids[k / na]);
			const struct vg_farg *ak = &a[k % na];
			const char *v = render(c, ak);
			if (shows_host(f, v))
				fail_msg("confined %s (pid %u, arg %d/%lld/%s) shows the host: %s",
					 f->name, pids[k / na], ak->kind, (long long)ak->index,
					 ak->key ? ak->key : "", v);
			host |= shows_host(f, render(f, ak));
		}
		S.kill.proc = own;
		/* every field that shows the host has a confined variant */
		if (host) {
			crossing++;
			if (c == f)
				fail_msg("%s shows the host and has no confined variant", f->name);
		}
	}
	/* proc.ppid pname pexe pexepath pcmdline aname apid aexe aexepath
	 * acmdline sid pgid sname sid.exe sid.exepath vpgid.name vpgid.exe
	 * vpgid.exepath ppid.duration, evt.args evt.arg */
	assert_int_equal(confined, 21);
	/* all of them but proc.ppid.duration (a number of ns) show it here */
	assert_int_equal(crossing, 20);
}

#define CHECK(f, argkind, idx, plain, conf)                                                        \
	do {                                                                                       \
		struct vg_farg a_ = {argkind, idx, NULL};                                          \
		const struct vg_field *f_ = vg_field_find(f, strlen(f), NULL, NULL);               \
		assert_non_null(f_);                                                               \
		assert_string_equal(render(f_, &a_), plain);                                       \
		assert_string_equal(render(vg_field_confine(f_), &a_), conf);                      \
	} while (0)

/* The walk stops at the boundary: what is inside stays. */
static void test_boundary(void **state)
{
	(void)state;
	CHECK("proc.aname", 0, 0, "csh,cinit,hostsecretshim,hostsecretinit", "csh,cinit");
	CHECK("proc.aname", 1, 0, "cat", "cat");
	CHECK("proc.aname", 1, 2, "cinit", "cinit");
	CHECK("proc.aname", 1, 3, "hostsecretshim", "");
	CHECK("proc.aname", 1, 4, "hostsecretinit", "");
	CHECK("proc.apid", 0, 0, "4004,4003,4002,4001", "4004,4003");
	CHECK("proc.acmdline", 1, 3, "hostsecretshim -id hostsecret-42", "");
	CHECK("proc.aexepath", 1, 4, "/sbin/hostsecret-init", "");
	CHECK("proc.pname", 0, 0, "csh", "csh");
	CHECK("proc.ppid", 0, 0, "4004", "4004");
	CHECK("proc.sname", 0, 0, "hostsecretshim", "");
	CHECK("proc.sid", 0, 0, "4002", "");
	CHECK("proc.vpgid.exepath", 0, 0, "/usr/bin/hostsecret-shim", "");
	CHECK("evt.args", 0, 0, "res=0 pid=4001(hostsecretinit) sig=9(SIGKILL)",
	      "res=0 pid=4001 sig=9(SIGKILL)");

	/* the container's first process: its parent is the host's */
	struct vg_event saved = S.kill;
	S.kill.proc = vg_state_proc(S.st, 4003);
	CHECK("proc.pname", 0, 0, "hostsecretshim", "");
	CHECK("proc.ppid", 0, 0, "4002", "");
	CHECK("proc.pcmdline", 0, 0, "hostsecretshim -id hostsecret-42", "");
	CHECK("proc.aname", 0, 0, "hostsecretshim,hostsecretinit", "");
	CHECK("proc.aname", 1, 0, "cinit", "cinit");
	/* a host process: nothing of its tree */
	S.kill.proc = vg_state_proc(S.st, 4002);
	CHECK("proc.aname", 0, 0, "hostsecretinit", "");
	CHECK("proc.aname", 1, 0, "hostsecretshim", "hostsecretshim");
	S.kill = saved;
}

static int setup(void **state)
{
	(void)state;
	return tscene_init(&S);
}

static int teardown(void **state)
{
	(void)state;
	tscene_free(&S);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_field_shows_the_host),
		cmocka_unit_test(test_boundary),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
