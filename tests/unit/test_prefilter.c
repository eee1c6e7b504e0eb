/* The kernel-side prefilter against the engine.
 *
 * For a rule set (the default rules, the official Falco rules, fixed rule
 * sets aimed at each kind of clause, and generated ones), the table the
 * engine computes is run, through the very predicate the BPF program runs
 * (bpf/prefilter.h via vg_pf_rec_keep), on a long generated stream of
 * records: processes of many names on the host and in containers opening,
 * closing, duplicating, connecting... with paths that rules name and paths
 * they do not, simple and not.  Two states follow the stream: one sees
 * every record (the prefilter off), the other only the records the
 * predicate keeps (on).  Every record dropped must match no rule in the
 * first; every record kept must match the same rules in both, with the
 * same rendered outputs.  A second test checks the predicate's parts
 * (clauses, paths that are not simple) on hand-made tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "falco_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "embedded.h"
#include "engine.h"
#include "output.h"
#include "pfeval.h"
#include "recbuild.h"
#include "rules.h"
#include "sysreg.h"

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *const PATHS[] = {
	"/etc/shadow",
	"/etc/sudoers",
	"/etc/sudoers.d/x",
	"/etc/pam.d/sshd",
	"/etc/pam.conf",
	"/etc/passwd",
	"/etc/group",
	"/etc/crontab",
	"/etc/cron.d/job",
	"/etc/systemd/system/x.service",
	"/etc/ld.so.preload",
	"/etc/hosts",
	"/etc/",
	"/etc",
	"/root/.ssh/id_rsa",
	"/root/.ssh/authorized_keys",
	"/home/u/.bashrc",
	"/home/u/.bash_history",
	"/root/.aws/credentials",
	"/root/.kube/config",
	"/proc/123/environ",
	"/proc/self/environ",
	"/proc/1/root",
	"/var/lib/kubelet/pods/abc/volumes/kubernetes.io~projected/t/token",
	"/var/lib/kubelet/pki/kubelet.key",
	"/var/run/secrets/kubernetes.io/serviceaccount/token",
	"/run/secrets/kubernetes.io/serviceaccount/token",
	"/dev/shm/x",
	"/dev/null",
	"/dev/mem",
	"/dev/sda",
	"/tmp/x",
	"/tmp/bench.dat",
	"/usr/bin/ls",
	"/usr/bin/newbin",
	"/bin/sh",
	"/sbin/x",
	"/usr/local/bin/x",
	"/sys/fs/cgroup/release_agent",
	"/sys/kernel/debug/x",
	"/var/log/syslog",
	"/var/log/auth.log",
	"/boot/vmlinuz",
	"/lib/modules/x.ko",
	"/var/lib/dpkg/status",
	"/opt/app/config",
	"/",
	"/tmp/../etc/shadow",
	"//etc/shadow",
	"/etc/./shadow",
	"/usr/../etc/pam.d/sshd",
	"/tmp/.hidden",
	"/root/.ssh/../.ssh/id_rsa",
	"/etc/x..y",
	"/tmp/id_rsa.bak",
	"/home/u/.ssh/id_rsa",
	"/etc/security/pwquality.conf",
	"/etc/security/pwquality.conf.d/x",
	"/etc/security/pw",
	"/var/log/x.log",
	"/root/.kube/x.log",
	"/etc/sudoers.d/sudo_x",
	"/home/u..v/id_rsa",
	"etc/shadow",
	"./x",
	"../../etc/passwd",
	"shadow",
	"id_rsa",
	".bash_history",
	"",
};
#define NPATHS (sizeof(PATHS) / sizeof(PATHS[0]))

static const char *const COMPS[] = {"etc",   "shadow", "tmp", "x",     ".ssh", "id_rsa", "proc",
				    "..",    ".",      "usr", "bin",   "var",  "lib",	 "kubelet",
				    "token", "dev",    "log", "pam.d", "root", "home"};

static void random_path(char *out, size_t cap)
{
	if (rnd(3)) {
		snprintf(out, cap, "%s", PATHS[rnd(NPATHS)]);
		return;
	}
	size_t n = 0;
	int k = 1 + (int)rnd(6);
	bool abs = rnd(4) != 0;
	out[0] = 0;
	for (int i = 0; i < k; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", (i || abs) ? "/" : "",
				      COMPS[rnd(sizeof(COMPS) / sizeof(COMPS[0]))]);
}

/* The processes the stream's events come from. */
static const char *const EXES[] = {
	"/bin/bash",	   "/usr/bin/cat",     "/usr/sbin/sshd",    "/usr/bin/python3",
	"/usr/sbin/nginx", "/usr/bin/curl",    "/usr/bin/nc",	    "/usr/bin/find",
	"/usr/bin/grep",   "/usr/bin/vi",      "/usr/bin/passwd",   "/usr/bin/kubelet",
	"/usr/bin/runc",   "/usr/bin/apt-get", "/tmp/evil",	    "/usr/bin/sudo",
	"/usr/bin/cp",	   "/usr/bin/rm",      "/usr/sbin/useradd", "/usr/bin/crontab",
};
#define NPROCS 24

/* Which fds each process has open (fd < NFD), so that the stream is one a
 * kernel could produce: a new fd is the lowest free one, close and the
 * calls on an fd name one that is open (else they fail with EBADF). */
#define NFD 16
struct world {
	bool used[NPROCS][NFD];
	bool sock[NPROCS][NFD];	     /* the fd is a socket */
	struct vg_state *all, *kept; /* the prefilter off, on */
	struct rb b;
	struct vg_event ev;
	struct vg_fvals *fv;
};

static void both(struct world *w)
{
	rb_size(&w->b);
	struct vg_event ev;
	assert_int_equal(vg_state_apply(w->all, &w->b.r, w->b.r.h.size, &ev), 0);
	assert_int_equal(vg_state_apply(w->kept, &w->b.r, w->b.r.h.size, &ev), 0);
}

static int lowest_free(struct world *w, int p)
{
	for (int fd = 0; fd < NFD; fd++)
		if (!w->used[p][fd])
			return fd;
	return -1;
}

static int some_used(struct world *w, int p)
{
	int n = 0, pick = -1;
	for (int fd = 0; fd < NFD; fd++)
		if (w->used[p][fd] && rnd((uint32_t)++n) == 0)
			pick = fd;
	return pick;
}

/* Make the record's fds those a kernel would give (process slot p). */
static void realistic_fds(struct world *w, int p, const struct vg_sysreg *row)
{
	struct vg_rec *r = &w->b.r;
	bool ok = r->h.ret >= 0;
	switch (row->apply) {
	case VG_SA_OPEN:
	case VG_SA_SOCKET:
	case VG_SA_MEMFD:
	case VG_SA_ACCEPT:
		if (row->apply == VG_SA_ACCEPT) {
			int l = some_used(w, p);
			r->arg[0] = (uint64_t)(l < 0 ? 99 : l);
		}
		if (row->apply == VG_SA_ACCEPT && !w->sock[p][r->arg[0] % NFD]) {
			r->h.ret = -88; /* ENOTSOCK: a call on sockets only */
			return;
		}
		if (ok) {
			int fd = lowest_free(w, p);
			if (fd < 0) {
				r->h.ret = -24; /* EMFILE */
				return;
			}
			r->h.ret = fd;
			w->used[p][fd] = true;
			w->sock[p][fd] = row->apply == VG_SA_SOCKET || row->apply == VG_SA_ACCEPT;
		}
		return;
	case VG_SA_PIPE:
	case VG_SA_SOCKETPAIR:
		if (ok) {
			int a = lowest_free(w, p);
			if (a >= 0)
				w->used[p][a] = true;
			int b = lowest_free(w, p);
			if (a < 0 || b < 0) {
				if (a >= 0)
					w->used[p][a] = false;
				r->h.ret = -24;
				r->h.flags &= (uint16_t)~VG_F_FDPAIR;
				return;
			}
			w->used[p][b] = true;
			w->sock[p][a] = w->sock[p][b] = row->apply == VG_SA_SOCKETPAIR;
			r->h.ret = 0;
			r->aux[0] = a;
			r->aux[1] = b;
			r->h.flags |= VG_F_FDPAIR;
		}
		return;
	case VG_SA_CLOSE: {
		int fd = some_used(w, p);
		if (ok && fd >= 0) {
			r->arg[0] = (uint64_t)fd;
			r->h.ret = 0;
			w->used[p][fd] = false;
			w->sock[p][fd] = false;
		} else {
			r->arg[0] = (uint64_t)(lowest_free(w, p) < 0 ? 99 : lowest_free(w, p));
			r->h.ret = -9;
		}
		return;
	}
	case VG_SA_DUP: {
		int old = some_used(w, p);
		if (old < 0 || !ok) {
			r->arg[0] = 99;
			r->h.ret = -9;
			return;
		}
		r->arg[0] = (uint64_t)old;
		int nfd = r->h.nr == VG_NR_dup ? lowest_free(w, p) : (int)rnd(NFD);
		if (nfd < 0) {
			r->h.ret = -24;
			return;
		}
		r->arg[1] = (uint64_t)nfd;
		r->h.ret = nfd;
		w->used[p][nfd] = true;
		w->sock[p][nfd] = w->sock[p][old];
		return;
	}
	default:
		break;
	}
	/* calls on an fd (arg 0): an open one, or EBADF */
	if (row->nparams)
		for (int i = 0; i < row->nparams; i++)
			if (row->params[i].kind == VG_P_FD && row->params[i].arg == 0) {
				int fd = some_used(w, p);
				if (fd < 0 || !rnd(8)) {
					r->arg[0] = 99;
					r->h.ret = -9;
				} else {
					r->arg[0] = (uint64_t)fd;
					bool sockcall = row->apply == VG_SA_CONNECT ||
							row->apply == VG_SA_BIND ||
							row->apply == VG_SA_SEND ||
							row->apply == VG_SA_RECV;
					if (sockcall && !w->sock[p][fd])
						r->h.ret = -88; /* ENOTSOCK */
				}
				break;
			}
}

static void spawn(struct world *w, uint32_t pid, const char *exe, bool container)
{
	rb_init(&w->b, VG_K_FORK, VG_NR_clone, 1, 0, "init");
	w->b.r.fork.child_pid = pid;
	w->b.r.fork.child_tid = pid;
	w->b.r.fork.child_vpid = pid;
	both(w);
	const char *base = strrchr(exe, '/') + 1;
	rb_init(&w->b, VG_K_EXEC, VG_NR_execve, pid, 1, base);
	rb_str(&w->b, VG_X_FILENAME, exe);
	const char *argv[] = {base, rnd(2) ? "/etc/shadow" : "-c", NULL};
	rb_list(&w->b, VG_X_ARGS, argv);
	rb_str(&w->b, VG_X_EXEPATH, exe);
	rb_str(&w->b, VG_X_CWD, rnd(2) ? "/root" : "/etc");
	if (container)
		rb_str(&w->b, VG_X_CGROUP,
		       "/kubepods/besteffort/pod0d5b7a3e-1111-2222-3333-444455556666/"
		       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	w->b.r.exec.vpid = pid;
	w->b.r.exec.tty = rnd(2) ? 34816 : 0;
	w->b.r.h.uid = rnd(2) ? 0 : 1000;
	both(w);
}

/* A random syscall record of a captured syscall. */
static int random_event(struct world *w, const uint8_t *want, uint32_t pid)
{
	int nr;
	do
		nr = (int)rnd(VG_NR_MAX);
	while (!want[nr] || !vg_sysreg(nr) || !vg_syscall_desc(nr));
	/* half the events are of the open family and close: the prefilter's
	 * business */
	static const int hot[] = {VG_NR_openat, VG_NR_open,  VG_NR_openat2,
				  VG_NR_creat,	VG_NR_close, VG_NR_openat};
	if (rnd(2)) {
		nr = hot[rnd(sizeof(hot) / sizeof(hot[0]))];
		if (!want[nr])
			return -1;
	}
	const char *comm = "x";
	rb_init(&w->b, VG_K_SYSCALL, nr, pid, 1, comm);
	static const int64_t rets[] = {3, 4, 5, 6, 0, 0, -2, -13, -1, 7};
	w->b.r.h.ret = rets[rnd(sizeof(rets) / sizeof(rets[0]))];
	for (int i = 0; i < 6; i++)
		w->b.r.arg[i] = 3 + rnd(5);
	const struct vg_sysreg *row = vg_sysreg(nr);
	static const uint32_t extra[] = {0,    VG_O_CREAT, VG_O_TRUNC, VG_O_CLOEXEC, VG_O_DIRECTORY,
					 02000 /* O_APPEND */};
	uint32_t fl = rnd(4) | extra[rnd(6)] | extra[rnd(6)];
	uint32_t mode = rnd(2) ? 0644 : rnd(2) ? 0755 : 04755;
	if (row->open == VG_OPEN_ARGS) {
		w->b.r.arg[row->flags_arg] = fl;
		if (row->mode_arg >= 0) /* open_by_handle_at has flags and no mode */
			w->b.r.arg[row->mode_arg] = mode;
	} else if (row->open == VG_OPEN_HOW && rnd(8)) {
		w->b.r.aux[0] = fl;
		w->b.r.aux[1] = mode;
		w->b.r.h.flags |= VG_F_OPENHOW;
	} else if (row->open == VG_OPEN_CREAT) {
		w->b.r.arg[1] = mode;
	}
	if (nr == VG_NR_openat || nr == VG_NR_openat2)
		w->b.r.arg[0] = (uint64_t)(uint32_t)-100;
	const struct vg_sc_desc *d = vg_syscall_desc(nr);
	char p[512];
	if (d->p0 >= 0) {
		random_path(p, sizeof(p));
		rb_str(&w->b, VG_S_PATH0, p);
		if (p[0] && p[0] != '/')
			rb_str(&w->b, VG_S_BASE0, rnd(2) ? "/root" : "/etc");
	}
	if (d->p1 >= 0) {
		random_path(p, sizeof(p));
		rb_str(&w->b, VG_S_PATH1, p);
		if (p[0] && p[0] != '/')
			rb_str(&w->b, VG_S_BASE1, "/tmp");
	}
	if (d->xs >= 0)
		rb_str(&w->b, VG_S_XSTR, rnd(2) ? "/etc/shadow" : "x");
	if ((d->flags & VG_SC_CWD) && w->b.r.h.ret == 0 && rnd(4))
		rb_str(&w->b, VG_S_CWD, rnd(2) ? "/etc" : "/tmp");
	if (d->sfd >= 0 || d->sa >= 0)
		rb_sock4(&w->b, 1 + rnd(2), rnd(2) ? 6 : 17, "10.0.0.1", 40000,
			 rnd(2) ? "93.184.216.34" : "127.0.0.1", rnd(2) ? 443 : 4444);
	if (nr == VG_NR_openat || nr == VG_NR_openat2) { /* dirfd: AT_FDCWD or an open fd */
		int fd = some_used(w, (int)(pid - 1000));
		if (fd >= 0 && rnd(3) == 0)
			w->b.r.arg[0] = (uint64_t)fd;
	}
	realistic_fds(w, (int)(pid - 1000), row);
	return nr;
}

struct hits {
	uint64_t rules[4]; /* by engine index (< 256) */
	char out[4][1024];
	int n;
};

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	struct hits *h = ctx;
	if (r->index < 256)
		h->rules[r->index / 64] |= 1ull << (r->index % 64);
	if (h->n < 4) {
		static struct vg_fvals fv;
		vg_output_render(r->out, ev, &fv, h->out[h->n], sizeof(h->out[0]));
	}
	h->n++;
}

static void print_reader(void *ctx, const struct vg_rule *r)
{
	(void)ctx;
	printf("    reads file entries: %s\n", r->name);
}

struct tally {
	uint64_t events, dropped, matched, any_checked;
};

/* The processes of a stream (NPROCS, every third in a container), with
 * fds 0-2, in two states: the prefilter off and on. */
static struct world *world_new(void)
{
	struct vg_state_opts o = {
		.ts_is_wall = true, .hostname = "node-1", .etc_root = "tests/unit/etc"};
	struct world *w = calloc(1, sizeof(*w));
	w->all = vg_state_new(&o);
	w->kept = vg_state_new(&o);
	for (uint32_t p = 0; p < NPROCS; p++) {
		spawn(w, 1000 + p, EXES[p % (sizeof(EXES) / sizeof(EXES[0]))], p % 3 == 0);
		w->used[p][0] = w->used[p][1] = w->used[p][2] = true;
	}
	return w;
}

static void world_free(struct world *w)
{
	vg_state_free(w->all);
	vg_state_free(w->kept);
	free(w);
}

/* The stream through one engine: returns the counts. */
static struct tally run_stream(struct vg_engine *e, const char *name, int nevents)
{
	struct vg_pf_table *t = malloc(sizeof(*t));
	vg_engine_prefilter(e, t);
	uint8_t want[VG_NR_MAX];
	vg_engine_interest(e, want);
	struct world *w = world_new();
	struct vg_cond_scratch *s = vg_cond_scratch_new();
	struct tally ty = {0};
	struct vg_pf_sim sim = {0};
	struct logent {
		int nr;
		uint32_t pid;
		int64_t a0, a1, ret;
		int keep;
	};
	static struct logent lg[100000];
	int nlog = 0;
	uint64_t by_nr_drop[VG_NR_MAX] = {0};
	for (int i = 0; i < nevents; i++) {
		uint32_t pid = 1000 + rnd(NPROCS);
		int nr = random_event(w, want, pid);
		if (nr < 0)
			continue;
		rb_size(&w->b);
		bool keep = vg_pf_sim_keep(t, &sim, &w->b.r);
		if (nlog < 100000)
			lg[nlog++] = (struct logent){nr,
						     w->b.r.h.pid,
						     (int64_t)w->b.r.arg[0],
						     (int64_t)w->b.r.arg[1],
						     w->b.r.h.ret,
						     keep};
		struct vg_event ev;
		struct hits ha = {0}, hk = {0};
		assert_int_equal(vg_state_apply(w->all, &w->b.r, w->b.r.h.size, &ev), 0);
		vg_engine_match(e, &ev, s, on_match, &ha);
		ty.events++;
		ty.matched += ha.n > 0;
		/* the kernel's cache per file answers for any string naming a
		 * file from the predicate for any string on the file's path
		 * (fd.name): it must keep every open a rule matches, whatever
		 * string it came through ("..", relative, symlinks) */
		const struct vg_sc_desc *sd = vg_syscall_desc(nr);
		if (sd && (sd->flags & VG_SC_FDPATH) && w->b.r.h.ret >= 0 && ha.n &&
		    !vg_pf_rec_keep_any(t, &w->b.r, ev.path))
			fail_msg("%s: event %d (%s ret %lld path '%s' file '%s' flags 0x%llx) "
				 "dropped by the predicate for any string matches %d rules: %s",
				 name, i, vg_evtype_name(nr), (long long)w->b.r.h.ret,
				 w->b.r.len[VG_S_PATH0] ? w->b.r.data : "", ev.path ? ev.path : "",
				 (unsigned long long)w->b.r.arg[2], ha.n, ha.out[0]);
		ty.any_checked += sd && (sd->flags & VG_SC_FDPATH) && w->b.r.h.ret >= 0 && ha.n;
		if (!keep) {
			ty.dropped++;
			by_nr_drop[nr]++;
			if (ha.n)
				fail_msg("%s: event %d (%s ret %lld path '%s' flags 0x%llx) "
					 "dropped by "
					 "the prefilter matches %d rules: %s",
					 name, i, vg_evtype_name(nr), (long long)w->b.r.h.ret,
					 w->b.r.len[VG_S_PATH0] ? w->b.r.data : "",
					 (unsigned long long)w->b.r.arg[2], ha.n, ha.out[0]);
			continue;
		}
		assert_int_equal(vg_state_apply(w->kept, &w->b.r, w->b.r.h.size, &ev), 0);
		vg_engine_match(e, &ev, s, on_match, &hk);
		if ((ha.n != hk.n || memcmp(ha.rules, hk.rules, sizeof(ha.rules))) &&
		    getenv("PF_TRACE"))
			for (int j = 0; j < nlog; j++)
				if (lg[j].pid == w->b.r.h.pid)
					printf("TRACE %s a0=%lld a1=%lld ret=%lld keep=%d\n",
					       vg_evtype_name(lg[j].nr), (long long)lg[j].a0,
					       (long long)lg[j].a1, (long long)lg[j].ret,
					       lg[j].keep);
		if (ha.n != hk.n || memcmp(ha.rules, hk.rules, sizeof(ha.rules)))
			fail_msg(
				"%s: event %d (%s pid %u args %llu %llu ret %lld) matches %d rules "
				"with every event, %d with the prefilter: %s / %s",
				name, i, vg_evtype_name(nr), w->b.r.h.pid,
				(unsigned long long)w->b.r.arg[0],
				(unsigned long long)w->b.r.arg[1], (long long)w->b.r.h.ret, ha.n,
				hk.n, ha.out[0], hk.out[0]);
		for (int k = 0; k < ha.n && k < 4; k++)
			if (strcmp(ha.out[k], hk.out[k]))
				fail_msg("%s: event %d (%s): output '%s' with every event, '%s' "
					 "with the prefilter",
					 name, i, vg_evtype_name(nr), ha.out[k], hk.out[k]);
	}
	int filtered, whole;
	vg_pf_table_count(t, &filtered, &whole);
	const struct vg_rule *reader = vg_engine_fdtable_reader(e);
	printf("%s: fd table needed: %s; %d syscalls filtered (%d whole); %llu events, %llu "
	       "dropped, %llu matched\n",
	       name, reader ? reader->name : "no", filtered, whole, (unsigned long long)ty.events,
	       (unsigned long long)ty.dropped, (unsigned long long)ty.matched);
	vg_engine_fdtable_readers(e, print_reader, NULL);
	for (int nr = 0; nr < VG_NR_MAX; nr++)
		if (t->on[nr] && (nr == VG_NR_openat || nr == VG_NR_close || nr == VG_NR_open))
			printf("  %s: %d clauses, %llu dropped\n", vg_evtype_name(nr), t->sc[nr].n,
			       (unsigned long long)by_nr_drop[nr]);
	vg_pf_sim_free(&sim);
	vg_cond_scratch_free(s);
	world_free(w);
	free(t);
	return ty;
}

static struct vg_engine *engine_of(const char *text, struct vg_ruleset **rs, struct vg_diag *d)
{
	*rs = vg_ruleset_new();
	memset(d, 0, sizeof(*d));
	vg_ruleset_add_text(*rs, "test.yaml", text, strlen(text), d);
	struct vg_engine *e = vg_engine_build(*rs, d);
	if (d->errors)
		vg_diag_print(d, stdout);
	assert_int_equal(d->errors, 0);
	return e;
}

/* A rules text's engine and the kernel's table computed from it. */
struct pfset {
	struct vg_ruleset *rs;
	struct vg_diag d;
	struct vg_engine *e;
	struct vg_pf_table *t;
};

static void pfset_of(struct pfset *p, const char *text)
{
	p->e = engine_of(text, &p->rs, &p->d);
	assert_non_null(p->e);
	p->t = calloc(1, sizeof(*p->t));
	vg_engine_prefilter(p->e, p->t);
}

static void pfset_free(struct pfset *p)
{
	free(p->t);
	vg_engine_free(p->e);
	vg_ruleset_free(p->rs);
	vg_diag_free(&p->d);
}

static void test_default_rules(void **unused)
{
	(void)unused;
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_diag d = {0};
	for (const struct vg_embedded *x = vg_embedded_rules; x->name; x++)
		vg_ruleset_add_text(rs, x->name, x->text, strlen(x->text), &d);
	struct vg_engine *e = vg_engine_build(rs, &d);
	assert_int_equal(d.errors, 0);
	struct tally ty = run_stream(e, "default rules", 200000);
	assert_true(ty.matched > 100);	   /* the stream reaches the rules */
	assert_true(ty.any_checked > 100); /* and opens a rule matches */
	vg_engine_free(e);
	vg_ruleset_free(rs);
	vg_diag_free(&d);
}

static void test_falco_rules(void **unused)
{
	(void)unused;
	char dir[4096];
	falco_rules_dir(dir, sizeof(dir));
	static const char *const files[] = {"falco_rules.yaml", "falco-incubating_rules.yaml",
					    "falco-sandbox_rules.yaml"};
	for (int with = 1; with <= 3; with += 2) {
		struct vg_ruleset *rs = vg_ruleset_new();
		struct vg_diag d = {0};
		for (int i = 0; i < with; i++) {
			char path[4200];
			snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
			if (access(path, R_OK))
				fail_msg("missing %s (set VIGIL_FALCO_RULES)", path);
			vg_ruleset_add_file(rs, path, &d);
		}
		struct vg_engine *e = vg_engine_build(rs, &d);
		assert_int_equal(d.errors, 0);
		struct tally ty = run_stream(
			e, with == 1 ? "falco_rules.yaml" : "all three Falco files", 200000);
		assert_true(ty.any_checked > 100);
		vg_engine_free(e);
		vg_ruleset_free(rs);
		vg_diag_free(&d);
	}
}

/* Rule sets aimed at each kind of clause, without fd readers (so opens and
 * closes are filtered) and with one. */
static const char *const FIXED[] = {
	"- rule: a\n  desc: d\n  condition: evt.type = openat and fd.name startswith /etc and "
	"evt.rawres >= 0\n  output: o %fd.name\n  priority: WARNING\n"
	"- rule: b\n  desc: d\n  condition: >-\n    evt.type in (open, openat, openat2, creat) and "
	"(evt.failed = true or fd.directory in (/usr/bin, /usr/sbin))\n  output: o %fd.name\n"
	"  priority: WARNING\n"
	"- rule: c\n  desc: d\n  condition: >-\n    evt.type in (open, openat) and fd.nameraw "
	"contains \"/../\" and fd.name endswith shadow\n  output: o %fd.nameraw\n  priority: "
	"WARNING\n"
	"- rule: d\n  desc: d\n  condition: >-\n    evt.type = openat and evt.is_open_write = "
	"false "
	"and fd.name pmatch (/var/lib, /srv, /root/.ssh)\n  output: o %fd.name %proc.name\n"
	"  priority: WARNING\n"
	"- rule: e\n  desc: d\n  condition: >-\n    evt.type in (openat, creat, openat2) and not "
	"(evt.rawres < 0 or evt.is_open_read = true) and fd.name glob \"/dev/sh*\"\n"
	"  output: o %fd.name\n  priority: WARNING\n",
	"- rule: a\n  desc: d\n  condition: evt.type = openat and fd.name startswith /etc/pam.d\n"
	"  output: o %fd.name\n  priority: WARNING\n"
	"- rule: b\n  desc: d\n  condition: evt.type = close and fd.name startswith /etc\n"
	"  output: o %fd.name\n  priority: WARNING\n",
	"- rule: a\n  desc: d\n  condition: >-\n    evt.type = openat and not fd.name startswith "
	"/tmp "
	"and (proc.name = cat or evt.res = ENOENT)\n  output: o %fd.name\n  priority: WARNING\n"
	"- rule: b\n  desc: d\n  condition: evt.type = connect and evt.rawres = 0\n"
	"  output: o %proc.name\n  priority: WARNING\n",
	"- rule: a\n  desc: d\n  condition: evt.type = openat and fd.name startswith /root\n"
	"  output: o %fd.name %evt.args\n  priority: WARNING\n",
	"- rule: a\n  desc: d\n  condition: evt.type = unlinkat and evt.rawres = 0\n"
	"  output: o %fs.path.name\n  priority: WARNING\n"
	"- rule: b\n  desc: d\n  condition: evt.type = openat and evt.rawres < -5 and "
	"fd.name = /etc/shadow\n  output: o %fd.name %evt.res\n  priority: WARNING\n",
};

/* What single comparisons become in the kernel's table. */
static void test_abstractions(void **unused)
{
	(void)unused;
	static const struct {
		const char *cond;
		uint32_t flags_all;
		uint8_t tkind;
		const char *tail;
		const char *sub; /* a substring test: its bytes (the literal's head) */
	} cases[] = {
		{"evt.arg.flags contains O_CREAT", 0100, 0, NULL, NULL},
		{"evt.arg.flags contains O_TRUNC", 01000, 0, NULL, NULL},
		{"fd.name endswith /.aws/credentials", 0, VG_PF_TAIL_BASE, "credentials", NULL},
		{"fd.filename = token", 0, VG_PF_TAIL_BASE, "token", NULL},
		{"fd.directory endswith /.ssh", 0, VG_PF_TAIL_PARENT, ".ssh", NULL},
		{"fd.name contains id_rsa", 0, 0, NULL, "id_rsa"},
		{"fd.name endswith .pem", 0, 0, NULL, ".pem"},
		{"fd.filename startswith .bash", 0, 0, NULL, ".bash"},
		{"fd.filename contains sudo", 0, 0, NULL, "sudo"},
		{"fd.directory contains kube", 0, 0, NULL, "kube"},
		{"fd.name contains /etc/security/pwquality", 0, 0, NULL, "/etc/security/pw"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		snprintf(text, sizeof(text),
			 "- rule: r\n  desc: d\n  condition: evt.type = openat and %s\n"
			 "  output: o\n  priority: WARNING\n",
			 cases[i].cond);
		struct pfset ps;
		pfset_of(&ps, text);
		struct vg_pf_table *t = ps.t;
		const struct vg_pf_sc *f = &t->sc[VG_NR_openat];
		if (!t->on[VG_NR_openat] || f->n != 1)
			fail_msg("%s: %d clauses", cases[i].cond, t->on[VG_NR_openat] ? f->n : -1);
		assert_int_equal(f->c[0].flags_all, cases[i].flags_all);
		assert_int_equal(f->c[0].tkind, cases[i].tkind);
		if (cases[i].tail) {
			assert_int_equal(f->c[0].nt, 1);
			assert_int_equal(
				f->c[0].th[0],
				vg_pf_hash(cases[i].tail, (uint32_t)strlen(cases[i].tail)));
		}
		const char *sub = cases[i].sub ? cases[i].sub : "";
		assert_int_equal(f->c[0].slen, strlen(sub));
		assert_memory_equal(f->c[0].sub, sub, strlen(sub));
		pfset_free(&ps);
	}
}

static void test_fixed_rule_sets(void **unused)
{
	(void)unused;
	for (size_t i = 0; i < sizeof(FIXED) / sizeof(FIXED[0]); i++) {
		struct vg_ruleset *rs;
		struct vg_diag d;
		struct vg_engine *e = engine_of(FIXED[i], &rs, &d);
		char name[32];
		snprintf(name, sizeof(name), "fixed set %zu", i);
		struct tally ty = run_stream(e, name, 100000);
		if (i != 1 && i != 3) /* sets 0, 2, 4 read no fd table entry: opens are filtered */
			assert_true(ty.dropped > ty.events / 10);
		vg_engine_free(e);
		vg_ruleset_free(rs);
		vg_diag_free(&d);
	}
}

/* Generated rule sets: conditions over the atoms the analysis knows and
 * some it does not, under and/or/not. */
static const char *const ATOMS[] = {
	"fd.name startswith /etc",
	"fd.name startswith /etc/pam.d/",
	"fd.name = /etc/shadow",
	"fd.name in (/etc/shadow, /etc/sudoers, /root/.ssh/id_rsa)",
	"fd.name pmatch (/proc, /dev)",
	"fd.directory = /etc",
	"fd.directory in (/usr/bin, /tmp)",
	"fd.name glob \"/var/lib/*/token\"",
	"fd.nameraw contains \"/../\"",
	"fd.nameraw startswith \"../\"",
	"fd.nameraw contains //",
	"fd.nameraw contains ../",
	"fd.nameraw contains \"..\"",
	"fd.filename = shadow",
	"fd.filename in (passwd, shadow, token, config)",
	"fd.name endswith /.ssh/id_rsa",
	"fd.name endswith /passwd",
	"fd.directory endswith /bin",
	"fd.directory endswith /etc",
	"fd.name contains id_rsa",
	"fd.name contains /.ssh/",
	"fd.name contains \"/etc/security/pwquality\"",
	"fd.filename contains sudo",
	"fd.filename startswith .bash",
	"fd.name endswith .log",
	"fd.directory contains kube",
	"evt.rawres >= 0",
	"evt.rawres < 0",
	"evt.rawres = 0",
	"evt.rawres > 3",
	"evt.rawres <= -2",
	"evt.rawres in (-2, -13)",
	"evt.failed = true",
	"evt.failed = false",
	"evt.res = SUCCESS",
	"evt.res = ENOENT",
	"evt.res != SUCCESS",
	"evt.is_open_read = true",
	"evt.is_open_write = true",
	"evt.is_open_write = false",
	"evt.is_open_read != true",
	"evt.arg.flags contains O_CREAT",
	"evt.arg.flags contains O_TRUNC",
	"evt.arg.flags contains O_DIRECT",
	"proc.name = cat",
	"proc.name in (bash, vi)",
	"container.id != host",
	"fd.num >= 0",
	"fd.typechar = f",
	"evt.type = openat",
	"evt.type in (open, creat)",
	"evt.type != openat2",
};

static void gen_cond(char *out, size_t cap, int depth)
{
	int k = (int)rnd(depth > 0 ? 5 : 1);
	if (k == 0) {
		snprintf(out, cap, "%s%s", rnd(4) ? "" : "not ",
			 ATOMS[rnd(sizeof(ATOMS) / sizeof(ATOMS[0]))]);
		return;
	}
	char a[1024], b[1024];
	gen_cond(a, sizeof(a), depth - 1);
	gen_cond(b, sizeof(b), depth - 1);
	int n = snprintf(out, cap, "%s(%s %s %s)", rnd(5) ? "" : "not ", a, k % 2 ? "and" : "or",
			 b);
	if (n < 0 || (size_t)n >= cap) /* too deep for the buffer: one atom instead */
		snprintf(out, cap, "%s", ATOMS[0]);
}

/* A rules text of nrules generated rules (names rK-I), each of one of
 * the ntypes event type lists and a condition of that depth. */
static char *gen_rules(int k, int nrules, const char *const *types, size_t ntypes, int depth)
{
	char *text = calloc(1, 65536);
	size_t n = 0;
	for (int r = 0; r < nrules; r++) {
		char c[4096];
		gen_cond(c, sizeof(c), depth);
		n += (size_t)snprintf(text + n, 65536 - n,
				      "- rule: r%d-%d\n  desc: d\n  condition: >-\n    evt.type in "
				      "%s and %s\n  output: o %%fd.name %%evt.res\n  priority: "
				      "WARNING\n",
				      k, r, types[rnd(ntypes)], c);
	}
	return text;
}

static void test_generated_rule_sets(void **unused)
{
	(void)unused;
	static const char *const TYPES[] = {"(open, openat, openat2, creat)", "(openat)", "(close)",
					    "(openat, close)", "(creat, openat2)"};
	uint64_t dropped = 0;
	for (int set = 0; set < 60; set++) {
		char *text =
			gen_rules(0, 1 + (int)rnd(5), TYPES, sizeof(TYPES) / sizeof(TYPES[0]), 3);
		struct vg_ruleset *rs;
		struct vg_diag d;
		struct vg_engine *e = engine_of(text, &rs, &d);
		char name[32];
		snprintf(name, sizeof(name), "generated set %d", set);
		struct tally ty = run_stream(e, name, 20000);
		dropped += ty.dropped;
		if (ty.matched == 0 && ty.dropped == 0)
			printf("  (set %d reached nothing)\n", set);
		vg_engine_free(e);
		vg_ruleset_free(rs);
		vg_diag_free(&d);
		free(text);
	}
	assert_true(dropped > 0);
}

/* The namespace of a generated event's process (tenancy): pid % 3. */
static const char *gen_ns(const struct vg_event *ev)
{
	static const char *const NS[] = {NULL, "team-a", "team-b"};
	return NS[ev->proc->pid % 3];
}

/* t seen by the tasks of namespace ns (NULL: the host): for each split
 * syscall the predicate the kernel asks after the whole one (vg_pf_narrow:
 * the namespace's own, else narrow, else with tover the whole one). */
static void ns_view(const struct vg_pf_table *t, const char *ns, struct vg_pf_table *v)
{
	memcpy(v, t, sizeof(*v));
	for (int nr = 0; nr < VG_NR_MAX; nr++) {
		if (!t->on[nr] || !t->sc[nr].nsplit)
			continue;
		const struct vg_pf_sc *f =
			ns ? vg_pf_tpred_of(t, vg_pf_ns_hash(ns), (uint32_t)nr) : NULL;
		v->sc[nr] = f ? *f : ns && t->narrow[nr].tover ? t->sc[nr] : t->narrow[nr];
	}
}

/* Generated rule sets of the cluster and of two namespaces: every event a
 * rule matches, under tenancy (a namespace's Rules only on its pods'
 * events), is kept by the whole predicate and by the one the kernel asks
 * for its process's namespace, and each namespace's predicate drops some
 * event another namespace's Rules keep. */
static void test_generated_tenant_rule_sets(void **unused)
{
	(void)unused;
	static const char *const TYPES[] = {"(open, openat, openat2, creat)", "(openat)",
					    "(openat, close)", "(creat, openat2)"};
	static const char *const NS[] = {NULL, "team-a", "team-b"};
	struct vg_pf_table *view[3];
	for (int k = 0; k < 3; k++)
		view[k] = malloc(sizeof(*view[k]));
	uint64_t checked = 0, narrowed = 0;
	int sets = 0;
	for (int set = 0; set < 40; set++) {
		struct vg_ruleset *rs[3];
		struct vg_diag d;
		memset(&d, 0, sizeof(d));
		for (int k = 0; k < 3; k++) {
			char *text = gen_rules(k, 1 + (int)rnd(3), TYPES,
					       sizeof(TYPES) / sizeof(TYPES[0]), 2);
			rs[k] = vg_ruleset_new();
			vg_ruleset_add_text(rs[k], "gen.yaml", text, strlen(text), &d);
			free(text);
		}
		struct vg_engine_src src[3] = {{.rs = rs[0]},
					       {.rs = rs[1], .confined = true, .tenant = NS[1]},
					       {.rs = rs[2], .confined = true, .tenant = NS[2]}};
		struct vg_engine *e = d.errors ? NULL : vg_engine_build_multi(src, 3, NULL, &d);
		if (!e || d.errors) { /* a generated condition a Rule may not read */
			vg_engine_free(e);
			for (int k = 0; k < 3; k++)
				vg_ruleset_free(rs[k]);
			vg_diag_free(&d);
			continue;
		}
		sets++;
		vg_engine_set_tenancy(e, gen_ns, 0);
		struct vg_pf_table *t = malloc(sizeof(*t));
		vg_engine_prefilter(e, t);
		for (int k = 0; k < 3; k++)
			ns_view(t, NS[k], view[k]);
		uint8_t want[VG_NR_MAX];
		vg_engine_interest(e, want);
		struct world *w = world_new();
		struct vg_cond_scratch *s = vg_cond_scratch_new();
		for (int i = 0; i < 10000; i++) {
			uint32_t pid = 1000 + rnd(NPROCS);
			int nr = random_event(w, want, pid);
			if (nr < 0)
				continue;
			rb_size(&w->b);
			struct vg_event ev;
			struct hits ha = {0};
			assert_int_equal(vg_state_apply(w->all, &w->b.r, w->b.r.h.size, &ev), 0);
			vg_engine_match(e, &ev, s, on_match, &ha);
			int k = (int)(pid % 3);
			bool whole = vg_pf_rec_keep(t, &w->b.r),
			     mine = vg_pf_rec_keep(view[k], &w->b.r);
			if (ha.n) {
				checked++;
				if (!whole || !mine)
					fail_msg("set %d: event %d (%s ret %lld path '%s', "
						 "namespace %s) "
						 "matches %s but the %s predicate drops it",
						 set, i, vg_evtype_name(nr),
						 (long long)w->b.r.h.ret,
						 w->b.r.len[VG_S_PATH0] ? w->b.r.data : "",
						 NS[k] ? NS[k] : "host", ha.out[0],
						 whole ? "namespace's" : "whole");
			} else if (whole && !mine) {
				narrowed++;
			}
		}
		vg_cond_scratch_free(s);
		world_free(w);
		free(t);
		vg_engine_free(e);
		for (int k = 0; k < 3; k++)
			vg_ruleset_free(rs[k]);
		vg_diag_free(&d);
	}
	for (int k = 0; k < 3; k++)
		free(view[k]);
	printf("tenant rule sets: %d built, %llu matching events checked, %llu kept by the whole "
	       "predicate and dropped by the namespace's\n",
	       sets, (unsigned long long)checked, (unsigned long long)narrowed);
	assert_true(sets >= 10);
	assert_true(checked > 0);
	assert_true(narrowed > 0);
}

/* The predicate itself on hand-made tables. */
static void test_predicate(void **unused)
{
	(void)unused;
	struct vg_pf_sc f = {0};
	f.n = 1;
	f.pathcheck = 1;
	f.c[0] = (struct vg_pf_clause){.ret = VG_PF_RET_OK,
				       .acc = VG_PF_ACC_WRONLY | VG_PF_ACC_RDWR,
				       .plen = 5,
				       .prefix = "/etc/"};
	char p[VG_PF_BUF] __attribute__((aligned(8)));
	struct {
		const char *path;
		long ret;
		unsigned flags;
		int keep;
	} cases[] = {
		{"/etc/passwd", 3, 1, 1},
		{"/etc/passwd", 3, 0, 0},
		{"/etc/passwd", -2, 1, 0},
		{"/tmp/x", 3, 1, 0},
		{"/tmp/../etc/passwd", 3, 1, 1},
		{"//etc/passwd", 3, 1, 1},
		{"etc/passwd", 3, 1, 1},
		{"/etc", 3, 1, 0},
		{"/etc/", 3, 2, 1},
		{"/tmp/.x", 3, 2, 1},
	};
	/* unmasked, then with the candidate masks: the same answers */
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			vg_pf_sc_masks(&f);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			memset(p, 0, sizeof(p));
			strcpy(p, cases[i].path);
			if ((vg_pf_keep(&f, cases[i].ret, cases[i].flags, 1, p,
					(uint32_t)strlen(p) + 1) == VG_PF_KEEP) != cases[i].keep)
				fail_msg("case %zu (%s, pass %d): expected %d", i, cases[i].path,
					 pass, cases[i].keep);
		}
	}
	/* a path longer than the scan is not simple: kept */
	memset(p, 0, sizeof(p));
	p[0] = '/';
	memset(p + 1, 'a', VG_PF_BUF - 2); /* as the kernel reads one: cut, with its NUL */
	assert_int_equal(vg_pf_keep(&f, 3, 1, 1, p, (uint32_t)strlen(p) + 1), 1);
	/* no path, no flags: kept */
	assert_int_equal(vg_pf_keep(&f, 3, 0, 0, p, 0), 1);
	/* no clause: dropped */
	f.n = 0;
	f.masked = 0;
	assert_int_equal(vg_pf_keep(&f, 3, 1, 1, p, (uint32_t)strlen(p) + 1), VG_PF_DROP);

	/* tail tests: the last component (fd.filename) is "credentials" or
	 * "config"; the one before (fd.directory's last) is "kube" */
	f.n = 2;
	f.c[0] = (struct vg_pf_clause){
		.ret = VG_PF_RET_ANY, .acc = VG_PF_ACC_ANY, .tkind = VG_PF_TAIL_BASE, .nt = 2};
	f.c[0].th[0] = vg_pf_hash("credentials", 11);
	f.c[0].th[1] = vg_pf_hash("config", 6);
	f.c[1] = (struct vg_pf_clause){
		.ret = VG_PF_RET_ANY, .acc = VG_PF_ACC_ANY, .tkind = VG_PF_TAIL_PARENT, .nt = 1};
	f.c[1].th[0] = vg_pf_hash("kube", 4);
	struct {
		const char *path;
		int keep;
	} tails[] = {
		{"/home/u/aws/credentials", 1},
		{"/home/u/aws/credential", 0},
		{"/config", 1},
		{"/etc/config/x", 0},
		{"/a/kube/x", 1},
		{"/kube", 0},
		{"/a/kubex/y", 0},
		{"/a/credentials/", 1}, /* trailing '/': kept */
		{"/", 1},
		{"/tmp/f", 0},
		{"/tmp/.kube/config", 1}, /* not simple */
	};
	f.masked = 0;
	for (int pass = 0; pass < 2; pass++) {
		if (pass)
			vg_pf_sc_masks(&f);
		for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			memset(p, 0, sizeof(p));
			strcpy(p, tails[i].path);
			if ((vg_pf_keep(&f, 3, 0, 1, p, (uint32_t)strlen(p) + 1) == VG_PF_KEEP) !=
			    tails[i].keep)
				fail_msg("tail case %zu (%s, pass %d): expected %d", i,
					 tails[i].path, pass, tails[i].keep);
		}
	}
}

/* The substring test (vg_pf_sub_in) against memmem on random paths over a
 * small alphabet, so that matches are frequent and fall at every offset
 * and across words; the bytes after a path's NUL hold the needle, which
 * must not count. */
static void test_substring(void **unused)
{
	(void)unused;
	static const char alpha[] = "/aid_";
	char p[VG_PF_BUF] __attribute__((aligned(8)));
	long found = 0, tried = 0;
	for (int it = 0; it < 200000; it++) {
		uint32_t l = 1 + rnd(VG_PF_SCAN - 1), slen = 1 + rnd(VG_PF_SUBMAX);
		char needle[VG_PF_SUBMAX] = {0};
		for (uint32_t i = 0; i < slen; i++)
			needle[i] = alpha[rnd(sizeof(alpha) - 1)];
		for (uint32_t i = 0; i < sizeof(p); i++) /* what earlier paths left */
			p[i] = needle[i % slen];
		p[0] = '/';
		for (uint32_t i = 1; i < l; i++)
			p[i] = alpha[rnd(sizeof(alpha) - 1)];
		p[l] = 0;
		uint64_t w[2];
		memcpy(w, needle, sizeof(w));
		int want = memmem(p, l, needle, slen) != NULL;
		int got = vg_pf_sub_in(p, l + 1, w[0], w[1], slen);
		if (got != want)
			fail_msg("'%s' contains '%.*s': %d, expected %d", p, (int)slen, needle, got,
				 want);
		found += want;
		tried++;
	}
	assert_true(found > tried / 10 && found < tried * 9 / 10);
	/* a clause with a substring test: only simple paths are tested */
	struct vg_pf_sc f;
	memset(&f, 0, sizeof(f));
	f.n = 1;
	f.pathcheck = 1;
	f.c[0] = (struct vg_pf_clause){.ret = VG_PF_RET_ANY, .acc = VG_PF_ACC_ANY, .slen = 6};
	memcpy(f.c[0].sub, "id_rsa", 6);
	vg_pf_sc_masks(&f);
	static const struct {
		const char *path;
		int keep;
	} cases[] = {
		{"/home/u/.ssh/id_rsa", 1},
		{"/tmp/id_rsa.pub", 1},
		{"/id_rsa", 1},
		{"/tmp/id_rs", 0},
		{"/tmp/x", 0},
		{"/tmp/../id_rsa", 1},
		{"tmp/x", 1}, /* relative: not simple */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(p, 0, sizeof(p));
		strcpy(p, cases[i].path);
		int k = vg_pf_keep(&f, 3, 0, 1, p, (uint32_t)strlen(p) + 1);
		if ((k == VG_PF_KEEP) != cases[i].keep)
			fail_msg("%s: %d, expected %d", cases[i].path, k, cases[i].keep);
		if (!cases[i].keep)
			assert_int_equal(k, VG_PF_DROP_PATH); /* its aliases matter */
	}
	/* an event pays for VG_PF_SUBTESTS scans at most: with one clause
	 * more than that, none containing its string, the last is taken to
	 * hold and the path is kept */
	static const char *const subs[] = {"aaa", "bbb", "ccc", "ddd", "eee"};
	for (int nsub = VG_PF_SUBTESTS; nsub <= VG_PF_SUBTESTS + 1; nsub++) {
		memset(&f, 0, sizeof(f));
		f.n = (uint8_t)nsub;
		f.pathcheck = 1;
		for (int i = 0; i < nsub; i++) {
			f.c[i] = (struct vg_pf_clause){
				.ret = VG_PF_RET_ANY, .acc = VG_PF_ACC_ANY, .slen = 3};
			memcpy(f.c[i].sub, subs[i], 3);
		}
		vg_pf_sc_masks(&f);
		memset(p, 0, sizeof(p));
		strcpy(p, "/tmp/x");
		assert_int_equal(vg_pf_keep(&f, 3, 0, 1, p, 7),
				 nsub > VG_PF_SUBTESTS ? VG_PF_KEEP : VG_PF_DROP_PATH);
		strcpy(p, "/tmp/eee");
		assert_int_equal(vg_pf_keep(&f, 3, 0, 1, p, 9),
				 nsub > VG_PF_SUBTESTS ? VG_PF_KEEP : VG_PF_DROP_PATH);
	}
}

/* Whether kernel clause b holds wherever a does (bpf/prefilter.h's
 * vg_pf_keep): the test's own reading of the table, for the checks that no
 * clause is redundant. */
static bool pf_covers(const struct vg_pf_clause *b, const struct vg_pf_clause *a)
{
	if ((a->ret & ~b->ret) || (a->acc & ~b->acc) || (b->flags_all & ~a->flags_all))
		return false;
	if (a->nonsimple)
		return true; /* no path test on a path that is not simple */
	if (b->nonsimple)
		return false;
	if (b->tkind) {
		if (a->tkind != b->tkind)
			return false;
		for (int i = 0; i < a->nt; i++) {
			bool in = false;
			for (int j = 0; j < b->nt; j++)
				in |= a->th[i] == b->th[j];
			if (!in)
				return false;
		}
	}
	/* b's substring is in every path a's substring or prefix holds for */
	if (b->slen && !(a->slen && memmem(a->sub, a->slen, b->sub, b->slen)) &&
	    !(a->plen && memmem(a->prefix, a->plen, b->sub, b->slen)))
		return false;
	int bl = b->plen == 1 && b->prefix[0] == '/' ? 0 : b->plen; /* simple paths start so */
	return !bl || (a->plen >= bl && !memcmp(a->prefix, b->prefix, (size_t)bl));
}

/* No clause of any filtered syscall is another's copy or narrower. */
static void assert_no_redundant(const struct vg_pf_table *t, const char *name)
{
	for (int nr = 0; nr < VG_NR_MAX; nr++) {
		const struct vg_pf_sc *f = &t->sc[nr];
		for (int i = 0; t->on[nr] && i < f->n; i++)
			for (int j = 0; j < f->n; j++)
				if (i != j && pf_covers(&f->c[j], &f->c[i]))
					fail_msg("%s: %s: clause %d ('%.*s' ret %d acc %d) holds "
						 "only "
						 "where clause %d ('%.*s' ret %d acc %d) does",
						 name, vg_evtype_name(nr), i, f->c[i].plen,
						 f->c[i].prefix, f->c[i].ret, f->c[i].acc, j,
						 f->c[j].plen, f->c[j].prefix, f->c[j].ret,
						 f->c[j].acc);
	}
}

static bool pf_keeps(const struct vg_pf_sc *f, const char *path, long ret, unsigned flags)
{
	char p[VG_PF_BUF] __attribute__((aligned(8))) = {0};
	snprintf(p, sizeof(p), "%s", path);
	return vg_pf_keep(f, ret, flags, 1, p, (uint32_t)strlen(p) + 1) == VG_PF_KEEP;
}

/* A namespaced Rule's clauses are in the predicate for every task, not in
 * the one for the host and the pods of other namespaces (narrow), and in
 * its own namespace's predicate, not in another's; a widening keeps each
 * namespace's and the narrow one's. */
static void test_namespaced_rules_narrow(void **unused)
{
	(void)unused;
	static const char cluster[] =
		"- rule: c\n  desc: d\n  condition: evt.type = openat and fd.name startswith "
		"/etc/shadow\n  output: o\n  priority: WARNING\n";
	static const char team[] =
		"- rule: t\n  desc: d\n  condition: evt.type = openat and fd.name startswith "
		"/tmp/team\n  output: o\n  priority: WARNING\n";
	static const char other[] =
		"- rule: o\n  desc: d\n  condition: evt.type = openat and fd.name startswith "
		"/srv/other\n  output: o\n  priority: WARNING\n"
		"- rule: any\n  desc: d\n  condition: evt.type = unlinkat\n  output: o\n"
		"  priority: WARNING\n";
	struct vg_diag d;
	memset(&d, 0, sizeof(d));
	struct vg_ruleset *rc = vg_ruleset_new(), *rt = vg_ruleset_new(), *ro = vg_ruleset_new();
	vg_ruleset_add_text(rc, "c.yaml", cluster, strlen(cluster), &d);
	vg_ruleset_add_text(rt, "t.yaml", team, strlen(team), &d);
	vg_ruleset_add_text(ro, "o.yaml", other, strlen(other), &d);
	struct vg_engine_src src[3] = {{.rs = rc},
				       {.rs = rt, .confined = true, .tenant = "team-a"},
				       {.rs = ro, .confined = true, .tenant = "team-b"}};
	struct vg_engine *e = vg_engine_build_multi(src, 2, NULL, &d);
	struct vg_engine *e2 = vg_engine_build_multi(src, 3, NULL, &d);
	assert_non_null(e);
	assert_non_null(e2);
	assert_int_equal(d.errors, 0);
	struct vg_pf_table *t = calloc(1, sizeof(*t)), *c = calloc(1, sizeof(*t));
	struct vg_pf_table *t2 = calloc(1, sizeof(*t));
	vg_engine_prefilter(e, t);
	int nr = VG_NR_openat;
	uint64_t ha = vg_pf_ns_hash("team-a"), hb = vg_pf_ns_hash("team-b");
	assert_true(t->on[nr] && t->sc[nr].nsplit);
	assert_true(pf_keeps(&t->sc[nr], "/tmp/team/x", 3, 0));
	assert_false(pf_keeps(&t->narrow[nr], "/tmp/team/x", 3, 0));
	assert_true(pf_keeps(&t->narrow[nr], "/etc/shadow", 3, 0));
	assert_true(pf_keeps(&t->sc[nr], "/etc/shadow", 3, 0));
	assert_false(pf_keeps(&t->narrow[nr], "/tmp/x", 3, 0));
	const struct vg_pf_sc *fa = vg_pf_tpred_of(t, ha, (uint32_t)nr);
	assert_non_null(fa);
	assert_true(pf_keeps(fa, "/tmp/team/x", 3, 0));
	assert_true(pf_keeps(fa, "/etc/shadow", 3, 0));
	assert_false(pf_keeps(fa, "/tmp/x", 3, 0));
	assert_null(vg_pf_tpred_of(t, hb, (uint32_t)nr));
	for (uint32_t i = 0; i < t->ntp; i++) /* openat, and what is reported as openat */
		assert_string_equal(t->tp[i].ns, "team-a");
	assert_false(t->narrow[nr].tover);
	/* two namespaces with Rules: each predicate has its own namespace's
	 * clauses and the cluster's, not the other's.  team-b's rule that may
	 * match any unlinkat keeps every one of its pods only */
	vg_engine_prefilter(e2, t2);
	fa = vg_pf_tpred_of(t2, ha, (uint32_t)nr);
	const struct vg_pf_sc *fb = vg_pf_tpred_of(t2, hb, (uint32_t)nr);
	assert_non_null(fa);
	assert_non_null(fb);
	assert_true(pf_keeps(&t2->sc[nr], "/srv/other/y", 3, 0));
	assert_true(pf_keeps(&t2->sc[nr], "/tmp/team/x", 3, 0));
	assert_false(pf_keeps(fa, "/srv/other/y", 3, 0));
	assert_true(pf_keeps(fa, "/tmp/team/x", 3, 0));
	assert_false(pf_keeps(fb, "/tmp/team/x", 3, 0));
	assert_true(pf_keeps(fb, "/srv/other/y", 3, 0));
	assert_true(pf_keeps(fb, "/etc/shadow", 3, 0));
	assert_false(pf_keeps(&t2->narrow[nr], "/srv/other/y", 3, 0));
	int cn = VG_NR_unlinkat;
	assert_true(t2->on[cn] && t2->sc[cn].nsplit);
	assert_true(pf_keeps(&t2->sc[cn], "/x", 0, 0));
	assert_false(pf_keeps(&t2->narrow[cn], "/x", 0, 0));
	assert_false(pf_keeps(&t2->narrow[cn], "/x", -2, 0));
	assert_non_null(vg_pf_tpred_of(t2, hb, (uint32_t)cn));
	assert_true(pf_keeps(vg_pf_tpred_of(t2, hb, (uint32_t)cn), "/x", -2, 0));
	assert_null(vg_pf_tpred_of(t2, ha, (uint32_t)cn));
	/* the cluster's rules alone: no narrow predicate of its own, no
	 * namespace's */
	struct vg_engine *ec = vg_engine_build(rc, &d);
	vg_engine_prefilter(ec, c);
	assert_false(c->sc[nr].nsplit);
	assert_memory_equal(&c->narrow[nr], &c->sc[nr], sizeof(c->sc[nr]));
	assert_int_equal(c->ntp, 0);
	/* a reload from the cluster's rules to team-a's too: the widened
	 * table has team-a's predicate and a narrow one without its clauses */
	vg_pf_table_widen(c, t);
	assert_true(c->sc[nr].nsplit);
	assert_non_null(vg_pf_tpred_of(c, ha, (uint32_t)nr));
	assert_true(pf_keeps(vg_pf_tpred_of(c, ha, (uint32_t)nr), "/tmp/team/x", 3, 0));
	assert_true(pf_keeps(&c->sc[nr], "/tmp/team/x", 3, 0));
	assert_false(pf_keeps(&c->narrow[nr], "/tmp/team/x", 3, 0));
	/* then to team-b's too: team-a's keeps its own (from both tables),
	 * team-b's the cluster's and its own, not team-a's (it has none in
	 * either); the narrow one neither */
	vg_pf_table_widen(c, t2);
	fa = vg_pf_tpred_of(c, ha, (uint32_t)nr);
	fb = vg_pf_tpred_of(c, hb, (uint32_t)nr);
	assert_non_null(fa);
	assert_non_null(fb);
	assert_true(pf_keeps(fa, "/tmp/team/x", 3, 0));
	assert_false(pf_keeps(fa, "/srv/other/y", 3, 0));
	assert_true(pf_keeps(fb, "/srv/other/y", 3, 0));
	assert_false(pf_keeps(fb, "/tmp/team/x", 3, 0));
	assert_true(pf_keeps(fb, "/etc/shadow", 3, 0));
	assert_false(pf_keeps(&c->narrow[nr], "/srv/other/y", 3, 0));
	assert_false(pf_keeps(&c->narrow[nr], "/tmp/team/x", 3, 0));
	assert_false(c->narrow[nr].tover);
	free(t);
	free(t2);
	free(c);
	vg_engine_free(e);
	vg_engine_free(e2);
	vg_engine_free(ec);
	vg_ruleset_free(rc);
	vg_ruleset_free(rt);
	vg_ruleset_free(ro);
	vg_diag_free(&d);
}

/* An engine of a cluster rule (opens of /etc/shadow) and n namespaces'
 * Rules ("ns-I"): opens of /tmp/tI/ when distinct, else all of /srv/app/. */
struct nsset {
	struct vg_engine_src *src;
	char (*names)[32];
	int n;
	struct vg_diag d;
	struct vg_engine *e;
};

static void nsset_build(struct nsset *s, int n, bool distinct)
{
	static const char cluster[] =
		"- rule: c\n  desc: d\n  condition: evt.type = openat and fd.name startswith "
		"/etc/shadow\n  output: o\n  priority: WARNING\n";
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->src = calloc((size_t)n + 1, sizeof(*s->src));
	s->names = calloc((size_t)n, sizeof(*s->names));
	s->src[0].rs = vg_ruleset_new();
	vg_ruleset_add_text(s->src[0].rs, "c.yaml", cluster, strlen(cluster), &s->d);
	for (int i = 0; i < n; i++) {
		char text[256], path[32];
		snprintf(s->names[i], sizeof(s->names[i]), "ns-%d", i);
		if (distinct)
			snprintf(path, sizeof(path), "/tmp/t%d/", i);
		else
			snprintf(path, sizeof(path), "/srv/app/");
		snprintf(text, sizeof(text),
			 "- rule: t\n  desc: d\n  condition: evt.type = openat and fd.name "
			 "startswith %s\n  output: o\n  priority: WARNING\n",
			 path);
		s->src[i + 1].rs = vg_ruleset_new();
		s->src[i + 1].confined = true;
		s->src[i + 1].tenant = s->names[i];
		vg_ruleset_add_text(s->src[i + 1].rs, "t.yaml", text, strlen(text), &s->d);
	}
	s->e = vg_engine_build_multi(s->src, (size_t)n + 1, NULL, &s->d);
	assert_non_null(s->e);
	assert_int_equal(s->d.errors, 0);
}

static void nsset_free(struct nsset *s)
{
	vg_engine_free(s->e);
	for (int i = 0; i <= s->n; i++)
		vg_ruleset_free(s->src[i].rs);
	free(s->src);
	free(s->names);
	vg_diag_free(&s->d);
}

/* More namespaces with Rules than a table has predicates for: the ones
 * left out are marked (narrow's tover), so that their pods get the whole
 * predicate, and the host keeps the narrow one. */
static void test_namespaced_rules_overflow(void **unused)
{
	(void)unused;
	struct nsset ns;
	nsset_build(&ns, VG_PF_TPREDS + 2, true);
	struct vg_pf_table *t = calloc(1, sizeof(*t));
	vg_engine_prefilter(ns.e, t);
	int nr = VG_NR_openat;
	assert_int_equal(t->ntp, VG_PF_TPREDS);
	assert_true(t->narrow[nr].tover || t->narrow[VG_NR_open_by_handle_at].tover);
	assert_false(pf_keeps(&t->narrow[nr], "/tmp/t0/x", 3, 0));
	assert_true(pf_keeps(&t->sc[nr], "/tmp/t0/x", 3, 0));
	free(t);
	nsset_free(&ns);
}

/* Namespaces whose Rules are the same (a platform team's Rule applied in
 * each) share one predicate per syscall: more of them than the table has
 * predicates for all get their own, none is left to the whole one. */
static void test_namespaced_rules_shared(void **unused)
{
	(void)unused;
	struct nsset ns;
	nsset_build(&ns, 2 * VG_PF_TPREDS, false);
	struct vg_pf_table *t = calloc(1, sizeof(*t)), *w = calloc(1, sizeof(*w));
	vg_engine_prefilter(ns.e, t);
	int nr = VG_NR_openat;
	assert_false(t->narrow[nr].tover);
	assert_true(t->ntsc <= 4);
	const struct vg_pf_sc *f0 = vg_pf_tpred_of(t, vg_pf_ns_hash("ns-0"), (uint32_t)nr);
	const struct vg_pf_sc *fl =
		vg_pf_tpred_of(t, vg_pf_ns_hash(ns.names[ns.n - 1]), (uint32_t)nr);
	assert_non_null(f0);
	assert_ptr_equal(f0, fl);
	assert_true(pf_keeps(fl, "/srv/app/x", 3, 0));
	assert_false(pf_keeps(&t->narrow[nr], "/srv/app/x", 3, 0));
	/* and widened with itself, the same */
	memcpy(w, t, sizeof(*w));
	vg_pf_table_widen(w, t);
	assert_false(w->narrow[nr].tover);
	assert_int_equal(w->ntp, t->ntp);
	assert_true(pf_keeps(vg_pf_tpred_of(w, vg_pf_ns_hash(ns.names[ns.n - 1]), (uint32_t)nr),
			     "/srv/app/x", 3, 0));
	free(t);
	free(w);
	nsset_free(&ns);
}

/* Rules with the same condition, or one narrower than another's, give the
 * kernel one clause, not one each; a clause only paths that are not simple
 * reach goes into one that holds for them anyway. */
static void test_redundant_clauses(void **unused)
{
	(void)unused;
	static const char text[] =
		"- rule: a\n  desc: d\n  condition: >-\n    evt.type = openat and fd.name "
		"startswith /etc/ and evt.is_open_read = true\n  output: o\n  priority: WARNING\n"
		"- rule: b\n  desc: d\n  condition: >-\n    evt.type = openat and fd.name "
		"startswith /etc/ and evt.is_open_read = true\n  output: o\n  priority: WARNING\n"
		"- rule: c\n  desc: d\n  condition: >-\n    evt.type = openat and fd.name = "
		"/etc/shadow and evt.is_open_read = true and evt.rawres >= 0\n  output: o\n"
		"  priority: WARNING\n"
		"- rule: d\n  desc: d\n  condition: >-\n    evt.type = openat and fd.nameraw "
		"contains \"/../\" and evt.is_open_read = true\n  output: o\n  priority: WARNING\n"
		"- rule: e\n  desc: d\n  condition: >-\n    evt.type = openat and fd.name "
		"startswith /tmp and evt.is_open_write = true\n  output: o\n  priority: WARNING\n"
		"- rule: f\n  desc: d\n  condition: >-\n    evt.type = openat and fd.name "
		"startswith /etc/ and evt.arg.flags contains O_CREAT\n  output: o\n"
		"  priority: WARNING\n";
	struct pfset ps;
	pfset_of(&ps, text);
	struct vg_pf_table *t = ps.t;
	const struct vg_pf_sc *f = &t->sc[VG_NR_openat];
	assert_true(t->on[VG_NR_openat]);
	/* a (b and c the same or narrower, d only on paths that are not
	 * simple, which a keeps), e, f (any access mode: not a's) */
	assert_int_equal(f->n, 3);
	assert_no_redundant(t, "redundant rules");
	/* what each rule wants is still kept, and nothing else */
	assert_true(pf_keeps(f, "/etc/shadow", 3, 0));
	assert_true(pf_keeps(f, "/etc/hosts", -2, 0));
	assert_true(pf_keeps(f, "/tmp/../etc/x", -2, 0));
	assert_true(pf_keeps(f, "/tmp/x", 3, 1));
	assert_true(pf_keeps(f, "/etc/x", 3, 0101));
	assert_false(pf_keeps(f, "/etc/x", 3, 1));
	assert_false(pf_keeps(f, "/tmp/x", 3, 0));
	assert_false(pf_keeps(f, "/usr/x", 3, 0));
	pfset_free(&ps);
}

/* While a condition is analysed, a clause's prefix says what fd.name
 * starts with even on a path that is not simple: the clause (not simple,
 * fd.name starts with /etc/passwd) is not covered by (fd.name starts with
 * /tmp/a100) there, though the kernel's table would hold both on such
 * paths.  80 items overflow the analysis' clauses while that clause is
 * among them, so that it drops what it can. */
static void test_redundant_analysis(void **unused)
{
	(void)unused;
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof(text),
				    "- rule: a\n  desc: d\n  condition: >-\n    evt.type = openat "
				    "and ((fd.nameraw contains \"/../\" and fd.name startswith "
				    "/etc/passwd)");
	for (int i = 0; i < 80; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s/tmp/%c%d",
				      i % 40 == 0 ? (i ? ") or fd.name in (" : " or fd.name in (")
						  : ", ",
				      i < 40 ? 'a' : 'b', 100 + i % 40);
	snprintf(text + n, sizeof(text) - n,
		 ")) and fd.name startswith /etc\n  output: o %%fd.name\n  priority: WARNING\n");
	struct pfset ps;
	pfset_of(&ps, text);
	struct vg_pf_table *t = ps.t;
	assert_true(t->on[VG_NR_openat]);
	const struct vg_pf_sc *f = &t->sc[VG_NR_openat];
	assert_true(pf_keeps(f, "/tmp/../etc/passwd", 3, 0));
	assert_false(pf_keeps(f, "/etc/passwd", 3, 0));
	pfset_free(&ps);
}

/* Under the default rules and the official falco_rules.yaml (two rules
 * with the same condition there: the same clauses twice), no clause of
 * the kernel's table holds only where another does. */
static void test_no_redundant_clauses(void **unused)
{
	(void)unused;
	char dir[4096], path[4200];
	falco_rules_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/falco_rules.yaml", dir);
	if (access(path, R_OK))
		fail_msg("missing %s (set VIGIL_FALCO_RULES)", path);
	for (int set = 0; set < 2; set++) {
		struct vg_ruleset *rs = vg_ruleset_new();
		struct vg_diag d = {0};
		if (set == 0)
			for (const struct vg_embedded *x = vg_embedded_rules; x->name; x++)
				vg_ruleset_add_text(rs, x->name, x->text, strlen(x->text), &d);
		else
			vg_ruleset_add_file(rs, path, &d);
		struct vg_engine *e = vg_engine_build(rs, &d);
		assert_int_equal(d.errors, 0);
		struct vg_pf_table *t = malloc(sizeof(*t));
		vg_engine_prefilter(e, t);
		assert_true(t->on[VG_NR_openat] && t->sc[VG_NR_openat].n > 0);
		assert_no_redundant(t, set ? "falco_rules.yaml" : "default rules");
		free(t);
		vg_engine_free(e);
		vg_ruleset_free(rs);
		vg_diag_free(&d);
	}
}

/* The predicate in words (vigil validate --prefilter), exactly. */
static void test_prefilter_print(void **unused)
{
	(void)unused;
	static const char rules[] =
		"- rule: a\n  desc: d\n  condition: >-\n    evt.type = openat and fd.name "
		"startswith "
		"/etc/ and evt.is_open_write = true and evt.rawres >= 0\n  output: o\n"
		"  priority: WARNING\n"
		"- rule: b\n  desc: d\n  condition: >-\n    evt.type = openat and fd.filename in "
		"(id_rsa, shadow) and evt.arg.flags contains O_CREAT\n  output: o\n"
		"  priority: WARNING\n"
		"- rule: c\n  desc: d\n  condition: evt.type = openat and fd.nameraw contains "
		"\"/../\"\n  output: o\n  priority: WARNING\n"
		"- rule: d\n  desc: d\n  condition: evt.type = mkdirat and evt.rawres < 0\n"
		"  output: o\n  priority: WARNING\n";
	static const char want[] =
		"prefilter (capture.prefilter: on): prefix and name tests are made on simple paths "
		"only\n"
		"openat: kept when one of 3 clauses holds\n"
		"  ret>=0, access write|read-write, path starts with \"/etc/\"\n"
		"  flags O_CREAT, last component one of 2 names: \"id_rsa\", \"shadow\"\n"
		"  path not simple\n"
		"  on the file's own path, for any string naming it (the kernel's cache per file): "
		"kept when one of 1 clause holds\n"
		"    any event\n"
		"mkdirat: kept when one of 1 clause holds\n"
		"  ret<0\n"
		/* reported as openat, with no path to test: openat's clauses
		 * without their path tests hold for every one */
		"open_by_handle_at: kept when one of 1 clause holds\n"
		"  any event\n"
		"dropped whole: open close creat openat2\n"
		"opens: filtered (no rule reads a file's fd table entry)\n"
		"closes: filtered (no rule reads the fd table)\n";
	/* a rule that reads a file's fd table entry: every open and close sent */
	static const char reader[] =
		"- rule: r\n  desc: d\n  condition: evt.type = fchmod and evt.rawres >= 0\n"
		"  output: o %fd.name\n  priority: WARNING\n";
	static const char want_reader[] =
		"prefilter (capture.prefilter: on): prefix and name tests are made on simple paths "
		"only\n"
		"fchmod: kept when one of 1 clause holds\n"
		"  ret>=0\n"
		"dropped whole: none\n"
		"opens: all sent: the fd table keeps every open for these rules:\n"
		"  r\n"
		"closes: all sent\n";
	const char *sets[][2] = {{rules, want}, {reader, want_reader}};
	for (int i = 0; i < 2; i++) {
		struct vg_ruleset *rs;
		struct vg_diag d;
		struct vg_engine *e = engine_of(sets[i][0], &rs, &d);
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		assert_non_null(f);
		vg_engine_prefilter_print(e, f);
		fclose(f);
		assert_string_equal(buf, sets[i][1]);
		free(buf);
		vg_engine_free(e);
		vg_ruleset_free(rs);
		vg_diag_free(&d);
	}
}

/* The word-at-a-time path tests against byte-by-byte references, on
 * random paths over an alphabet of '/', '.', letters and high bytes, with
 * random bytes left after the NUL (the kernel's buffer holds what earlier
 * paths left there). */
static int ref_simple(const char *p)
{
	if (p[0] != '/')
		return 0;
	size_t l = strlen(p);
	if (l >= VG_PF_SCAN)
		return 0;
	for (size_t i = 1; i < l; i++) {
		char prev = p[i - 1], c = p[i];
		if ((prev == '/' && (c == '/' || c == '.')) || (prev == '.' && c == '.'))
			return 0;
	}
	return 1;
}

static int ref_tails(const char *p, uint32_t *t)
{
	size_t l = strlen(p);
	if (l < 2 || p[l - 1] == '/')
		return 0;
	const char *last = strrchr(p, '/');
	const char *prev = last;
	while (prev > p && prev[-1] != '/')
		prev--;
	prev = prev > p ? prev - 1 : p; /* the '/' before the parent */
	size_t bl = l - (size_t)(last - p) - 1, pl = last > p ? (size_t)(last - prev) - 1 : 0;
	if (bl > VG_PF_CMAX || pl > VG_PF_CMAX)
		return 0;
	t[0] = vg_pf_hash(last + 1, (uint32_t)bl);
	t[1] = vg_pf_hash(last > p ? prev + 1 : "", (uint32_t)pl);
	return 1;
}

static void test_words(void **unused)
{
	(void)unused;
	static const char alpha[] = "//..abcz\x80\xff";
	unsigned seed = 12345;
	char p[VG_PF_BUF] __attribute__((aligned(8)));
	int simple = 0, tailed = 0;
	for (int k = 0; k < 200000; k++) {
		for (size_t i = 0; i < sizeof(p); i++)
			p[i] = (char)(rand_r(&seed) & 0xff); /* left over */
		size_t l = 1 + (size_t)rand_r(&seed) % (k % 7 ? 40 : VG_PF_SCAN + 4);
		p[0] = k % 50 ? '/' : 'a';
		for (size_t i = 1; i < l; i++)
			p[i] = alpha[rand_r(&seed) % (sizeof(alpha) - 1)];
		p[l] = 0;
		uint32_t n = (uint32_t)l + 1;
		int s1 = vg_pf_simple(p, n), s0 = ref_simple(p);
		if (s1 != s0)
			fail_msg("simple(\"%s\") = %d, byte by byte %d", p, s1, s0);
		if (!s1)
			continue;
		simple++;
		uint32_t t1[2] = {0, 0}, t0[2] = {0, 0};
		int r1 = vg_pf_tails(p, n - 1, t1), r0 = ref_tails(p, t0);
		if (r1 != r0 || (r1 && (t1[0] != t0[0] || t1[1] != t0[1])))
			fail_msg("tails(\"%s\") = %d %08x %08x, byte by byte %d %08x %08x", p, r1,
				 t1[0], t1[1], r0, t0[0], t0[1]);
		tailed += r1;
	}
	/* the generator reaches both answers */
	assert_true(simple > 1000);
	assert_true(tailed > 1000);
	/* the kernel's hash of a component in place is the engine's of the
	 * name, at every offset and length a component of a simple path has */
	for (uint32_t a = 0; a < VG_PF_SCAN; a += 3)
		for (uint32_t len = 0; len <= VG_PF_CMAX && a + len < VG_PF_SCAN; len++) {
			for (size_t i = 0; i < sizeof(p); i++)
				p[i] = (char)(rand_r(&seed) & 0xff);
			assert_int_equal(vg_pf_chash(p, a, len), vg_pf_hash(p + a, len));
		}
}

/* The verdict cache gives what the predicate gives: paths from a small
 * pool (so that they repeat) with garbage after the NUL, random results
 * and flags, two predicates taking turns under their own generations.
 * A predicate written again under a new generation is not answered from
 * what the old one cached. */
static void test_verdict_cache(void **unused)
{
	(void)unused;
	struct vg_pf_sc f[2];
	memset(f, 0, sizeof(f));
	f[0].n = 2;
	f[0].pathcheck = 1;
	f[0].c[0] = (struct vg_pf_clause){
		.ret = VG_PF_RET_OK, .acc = VG_PF_ACC_ANY, .plen = 5, .prefix = "/etc/"};
	f[0].c[1] = (struct vg_pf_clause){.ret = VG_PF_RET_ANY,
					  .acc = VG_PF_ACC_WRONLY | VG_PF_ACC_RDWR,
					  .tkind = VG_PF_TAIL_BASE,
					  .nt = 1};
	f[0].c[1].th[0] = vg_pf_hash("x", 1);
	f[1] = f[0];
	f[1].c[0].plen = 5;
	memcpy(f[1].c[0].prefix, "/tmp/", 5);
	vg_pf_sc_masks(&f[0]);
	vg_pf_sc_masks(&f[1]);
	f[0].gen = 7;
	f[1].gen = 8;
	static const char *const pool[] = {"/etc/passwd", "/tmp/x",    "/tmp/y",     "/etc/x",
					   "/var/x",	  "/etc/../x", "/tmp/a/b/x", "relative/x",
					   "/",		  "/etc/",     "/tmp/.x",    "/tmp//x"};
	struct vg_pf_vc cache[VG_PF_VC];
	memset(cache, 0, sizeof(cache));
	char p[VG_PF_BUF] __attribute__((aligned(8)));
	unsigned seed = 99;
	int hits = 0;
	for (int k = 0; k < 100000; k++) {
		const struct vg_pf_sc *sc = &f[(k / 64) & 1];
		for (size_t i = 0; i < sizeof(p); i++)
			p[i] = (char)(rand_r(&seed) & 0xff);
		const char *path = pool[rand_r(&seed) % (sizeof(pool) / sizeof(pool[0]))];
		strcpy(p, path);
		uint32_t n = (uint32_t)strlen(path) + 1;
		long ret = rand_r(&seed) % 3 ? 3 : -2;
		uint32_t fl = (uint32_t)rand_r(&seed) % 3 | (rand_r(&seed) % 2 ? 0100 : 0);
		int hf = rand_r(&seed) % 8 != 0;
		uint8_t ctx = vg_pf_vc_ctx(ret, hf);
		const struct vg_pf_vc *e = &cache[vg_pf_vc_slot(p, n, ctx, hf ? fl : 0)];
		hits += vg_pf_vc_get(e, sc->gen, ctx, hf ? fl : 0, p, n) >= 0;
		int want = vg_pf_keep(sc, ret, fl, hf, p, n);
		int got = vg_pf_keep_cached(cache, sc, ret, fl, hf, p, n);
		if (got != want)
			fail_msg("%s ret %ld flags %o/%d gen %u: cached %d, predicate %d", path,
				 ret, fl, hf, sc->gen, got, want);
	}
	printf("verdict cache: %d hits of 100000\n", hits);
	assert_true(hits > 5000); /* the cache answers enough of them to matter */
	/* the first predicate written again as the second, under its own
	 * generation: no answer of the first's is reused */
	strcpy(p, "/etc/passwd");
	assert_int_equal(vg_pf_keep_cached(cache, &f[0], 3, 0, 1, p, 12), VG_PF_KEEP);
	struct vg_pf_sc g = f[1];
	g.gen = 9;
	assert_int_equal(vg_pf_keep_cached(cache, &g, 3, 0, 1, p, 12), VG_PF_DROP_PATH);
	/* what the generation prevents: under the old one, the old answer */
	strcpy(p, "/etc/passwd");
	assert_int_equal(vg_pf_keep_cached(cache, &f[0], 3, 0, 1, p, 12), VG_PF_KEEP);
	g.gen = 7;
	assert_int_equal(vg_pf_keep_cached(cache, &g, 3, 0, 1, p, 12), VG_PF_KEEP);
}

/* open_by_handle_at is reported as openat (VG_SC_ASOPENAT): the kernel
 * filters it with openat's rules, its path tests held (it has no path
 * string).  Before, no rule named the call itself, and the kernel dropped
 * every one (tests/live/test_paths.py's open_by_handle_at of /etc/shadow
 * went unseen with the prefilter on). */
static void test_as_openat(void **unused)
{
	(void)unused;
	static const char text[] =
		"- rule: shadow\n  desc: d\n  condition: evt.type = openat and fd.name = "
		"/etc/shadow and evt.is_open_read = true\n  output: o\n  priority: WARNING\n";
	struct pfset ps;
	pfset_of(&ps, text);
	struct vg_pf_table *t = ps.t;
	int nr = VG_NR_open_by_handle_at;
	char p[VG_PF_BUF] __attribute__((aligned(8))) = {0};
	if (t->on[nr]) {
		assert_true(t->sc[nr].n > 0);
		assert_int_equal(vg_pf_keep(&t->sc[nr], 3, 0 /* O_RDONLY */, 1, p, 0), VG_PF_KEEP);
	}
	/* and the writes openat's rules do not want are still dropped */
	if (t->on[nr])
		assert_int_not_equal(vg_pf_keep(&t->sc[nr], 3, 1 /* O_WRONLY */, 1, p, 0),
				     VG_PF_KEEP);
	pfset_free(&ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_predicate),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_substring),
		cmocka_unit_test(test_namespaced_rules_narrow),
		cmocka_unit_test(test_namespaced_rules_overflow),
		cmocka_unit_test(test_namespaced_rules_shared),
		cmocka_unit_test(test_verdict_cache),
		cmocka_unit_test(test_as_openat),
		cmocka_unit_test(test_abstractions),
		cmocka_unit_test(test_fixed_rule_sets),
		cmocka_unit_test(test_generated_rule_sets),
		cmocka_unit_test(test_generated_tenant_rule_sets),
		cmocka_unit_test(test_default_rules),
		cmocka_unit_test(test_falco_rules),
		cmocka_unit_test(test_redundant_clauses),
		cmocka_unit_test(test_redundant_analysis),
		cmocka_unit_test(test_no_redundant_clauses),
		cmocka_unit_test(test_prefilter_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
