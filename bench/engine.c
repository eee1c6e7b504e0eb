/* engine.c - single-thread throughput of decoding (state) and rule matching.
 *
 * Generates in memory a trace of raw records (struct vg_rec) shaped like
 * a busy Kubernetes node: a few hundred processes seeded as /proc would
 * (host daemons, containers running web servers, databases and apps, an
 * ssh session), then a mix of exec (with its fork and exit), open/close,
 * network and other syscalls with varied paths, names and addresses.
 *
 * The trace is replayed through vg_state_apply() + vg_engine_match() with:
 *   empty      no rules: the floor, decoding and state alone
 *   falco      the three official Falco files ($VIGIL_FALCO_RULES or
 *              ../shared/falco-rules): falco_rules.yaml, incubating, sandbox
 *   vigil      vigil's default rules (the YAML files of rules/, embedded)
 * Each set runs once to warm up, then 3 times; the best run is reported.
 *
 *   bench_engine [EVENTS [SET...]]    (default 1200000 events, every set;
 *                                      the floor always runs)
 *   bench_engine EVENTS profile SET   cost of each rule of SET (falco or
 *                                      vigil) in CPU cycles, costliest first
 *   bench_engine EVENTS verify        every rule of both sets on every event:
 *                                      the compiled conditions, and the rules
 *                                      the engine's matching reports, must
 *                                      agree with their trees (exit 1 when not)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef __x86_64__
#include <x86intrin.h>
#endif

#include "../tests/unit/recbuild.h"
#include "embedded.h"
#include "engine.h"
#include "event.h"
#include "rules.h"
#include "state.h"

#define RUNS 3

/* ------------------------------------------------------------------ */
/* deterministic randomness                                            */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return (uint32_t)(x >> 16);
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

#define PICK(arr) (arr)[below(sizeof(arr) / sizeof((arr)[0]))]

/* ------------------------------------------------------------------ */
/* the trace: records packed in one arena                              */

struct trace {
	char *arena;
	size_t used, cap;
	size_t *off;
	size_t n, ncap;
	size_t per_type[VG_T_MAX];
};

static void trace_add(struct trace *t, struct rb *b)
{
	size_t size = rb_size(b);
	size_t need = (size + 7) & ~(size_t)7;
	if (t->used + need > t->cap) {
		t->cap = t->cap ? t->cap * 2 : (64u << 20);
		t->arena = realloc(t->arena, t->cap);
	}
	if (t->n == t->ncap) {
		t->ncap = t->ncap ? t->ncap * 2 : (1u << 20);
		t->off = realloc(t->off, t->ncap * sizeof(*t->off));
	}
	if (!t->arena || !t->off) {
		fprintf(stderr, "bench_engine: out of memory\n");
		exit(1);
	}
	memcpy(t->arena + t->used, b->buf, size);
	memset(t->arena + t->used + size, 0, need - size);
	t->off[t->n++] = t->used;
	t->used += need;
	int type = b->r.h.kind == VG_K_SYSCALL ? b->r.h.nr
		   : b->r.h.kind == VG_K_EXEC  ? b->r.h.nr
		   : b->r.h.kind == VG_K_FORK  ? VG_T_PROCFORK
		   : b->r.h.kind == VG_K_EXIT  ? VG_T_PROCEXIT
					       : VG_T_PROCSNAP;
	t->per_type[type]++;
}

/* ------------------------------------------------------------------ */
/* the simulated node                                                  */

enum role { R_SYS, R_SHELL, R_WEB, R_PHP, R_JAVA, R_NODE, R_PY, R_DB, R_CACHE, R_KUBE, R_NROLES };

struct prog {
	const char *comm, *exepath, *args;
	enum role role;
};

#define MAXFD 24

struct bproc {
	uint32_t pid, ppid, uid;
	const struct prog *prog;
	const char *cgroup; /* interned */
	const char *cwd;
	int ctr;	    /* container index, -1 on the host */
	int32_t fds[MAXFD]; /* open fds, oldest first */
	uint8_t fdsock[MAXFD];
	struct vg_sock fdtup[MAXFD]; /* tuple of a connected socket (family 0: none) */
	int nfd, next_fd;
	int listen_fd;	  /* server socket or -1 */
	uint64_t exit_at; /* short-lived child: exit after this event count */
	int alive;
};

static const struct prog host_progs[] = {
	{"systemd", "/usr/lib/systemd/systemd", "--system --deserialize 31", R_SYS},
	{"systemd-journal", "/usr/lib/systemd/systemd-journald", "", R_SYS},
	{"systemd-udevd", "/usr/lib/systemd/systemd-udevd", "", R_SYS},
	{"systemd-logind", "/usr/lib/systemd/systemd-logind", "", R_SYS},
	{"dbus-daemon", "/usr/bin/dbus-daemon", "--system --address=systemd: --nofork", R_SYS},
	{"rsyslogd", "/usr/sbin/rsyslogd", "-n -iNONE", R_SYS},
	{"cron", "/usr/sbin/cron", "-f -P", R_SYS},
	{"chronyd", "/usr/sbin/chronyd", "-F 1", R_SYS},
	{"sshd", "/usr/sbin/sshd", "-D", R_SYS},
	{"containerd", "/usr/bin/containerd", "", R_KUBE},
	{"kubelet", "/usr/bin/kubelet",
	 "--config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf", R_KUBE},
	{"kube-proxy", "/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
	 R_KUBE},
	{"node_exporter", "/bin/node_exporter", "--path.rootfs=/host", R_SYS},
	{"fluent-bit", "/fluent-bit/bin/fluent-bit", "-c /fluent-bit/etc/fluent-bit.conf", R_SYS},
};

/* what runs in containers: main process and its workers */
static const struct prog ctr_progs[] = {
	{"nginx", "/usr/sbin/nginx", "-g daemon off;", R_WEB},
	{"php-fpm8.2", "/usr/sbin/php-fpm8.2", "--nodaemonize", R_PHP},
	{"java", "/opt/java/openjdk/bin/java", "-Xmx2g -jar /app/service.jar", R_JAVA},
	{"node", "/usr/local/bin/node", "/app/server.js", R_NODE},
	{"gunicorn", "/usr/local/bin/python3.11", "/usr/local/bin/gunicorn -w 4 app:app", R_PY},
	{"postgres", "/usr/lib/postgresql/15/bin/postgres", "-D /var/lib/postgresql/data", R_DB},
	{"redis-server", "/usr/local/bin/redis-server", "*:6379", R_CACHE},
};

/* short-lived programs exec'd by the long-running ones */
static const struct prog child_progs[] = {
	{"sh", "/usr/bin/dash", "-c /usr/local/bin/healthcheck", R_SHELL},
	{"bash", "/usr/bin/bash", "-c date", R_SHELL},
	{"ls", "/usr/bin/ls", "-la /tmp", R_SYS},
	{"cat", "/usr/bin/cat", "/proc/meminfo", R_SYS},
	{"grep", "/usr/bin/grep", "-q ready /tmp/status", R_SYS},
	{"curl", "/usr/bin/curl", "-fsS http://localhost:8080/healthz", R_SYS},
	{"git", "/usr/bin/git", "rev-parse HEAD", R_SYS},
	{"gcc", "/usr/bin/gcc", "-O2 -c main.c -o main.o", R_SYS},
	{"cc1", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "-quiet main.c", R_SYS},
	{"ps", "/usr/bin/ps", "aux", R_SYS},
	{"run-parts", "/usr/bin/run-parts", "--report /etc/cron.hourly", R_SYS},
	{"logrotate", "/usr/sbin/logrotate", "/etc/logrotate.conf", R_SYS},
	{"runc", "/usr/bin/runc", "--root /run/containerd/runc/k8s.io state", R_KUBE},
	{"iptables", "/usr/sbin/xtables-nft-multi", "-w 5 -t nat -S", R_KUBE},
	{"python3", "/usr/bin/python3.11", "/usr/local/bin/job.py", R_PY},
	{"uname", "/usr/bin/uname", "-r", R_SYS},
	{"sed", "/usr/bin/sed", "-n 1p /etc/os-release", R_SYS},
	{"psql", "/usr/lib/postgresql/15/bin/psql", "-c select 1", R_DB},
};

static const struct prog session_progs[] = {
	{"bash", "/usr/bin/bash", "", R_SHELL},
	{"vim", "/usr/bin/vim.basic", "src/main.c", R_SYS},
	{"tmux: server", "/usr/bin/tmux", "new -s work", R_SYS},
	{"kubectl", "/usr/local/bin/kubectl", "get pods -A -w", R_KUBE},
};

#define MAXPROC 4096
#define NCTR 24

struct node {
	struct bproc p[MAXPROC];
	int n;
	uint32_t next_pid;
	char *cgroups[NCTR];
	char host_cg[64];
	uint64_t events;
};

static struct bproc *proc_add(struct node *nd, uint32_t ppid, const struct prog *pg, int ctr,
			      uint32_t uid, const char *cwd)
{
	struct bproc *b = NULL;
	for (int i = 0; i < nd->n; i++)
		if (!nd->p[i].alive) {
			b = &nd->p[i];
			break;
		}
	if (!b) {
		if (nd->n == MAXPROC)
			return NULL;
		b = &nd->p[nd->n++];
	}
	memset(b, 0, sizeof(*b));
	b->pid = nd->next_pid++;
	b->ppid = ppid;
	b->uid = uid;
	b->prog = pg;
	b->ctr = ctr;
	b->cgroup = ctr >= 0 ? nd->cgroups[ctr] : nd->host_cg;
	b->cwd = cwd;
	b->next_fd = 3;
	b->listen_fd = -1;
	b->alive = 1;
	return b;
}

static void set_argv(struct rb *b, const struct prog *pg)
{
	/* argv: comm-like argv[0] then the space-separated args */
	char tmp[VG_STR_MAX];
	size_t n = 0;
	const char *a0 = strrchr(pg->exepath, '/');
	a0 = a0 ? a0 + 1 : pg->exepath;
	n += (size_t)snprintf(tmp, sizeof(tmp), "%s", a0) + 1;
	for (const char *s = pg->args; *s && n < sizeof(tmp) - 256;) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		const char *e = strchr(s, ' ');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		memcpy(tmp + n, s, l);
		tmp[n + l] = 0;
		n += l + 1;
		s += l;
	}
	memcpy(b->str[VG_X_ARGS], tmp, n);
	b->slen[VG_X_ARGS] = n;
}

static void exec_record(struct rb *b, int kind, const struct bproc *p)
{
	rb_init(b, kind, VG_NR_execve, p->pid, p->ppid, p->prog->comm);
	b->r.h.uid = b->r.h.gid = p->uid;
	b->r.h.loginuid = p->uid == 1000 ? 1000 : (uint32_t)-1;
	struct vg_exec_info *x = &b->r.exec;
	x->start_ns = b->ts * 1000;
	x->exe_ino = 100000 + (p->pid * 7u) % 5000;
	x->exe_ctime_ns = x->exe_mtime_ns = 1700000000000000000ull;
	x->ruid = p->uid;
	x->rgid = p->uid;
	x->sid = p->ppid;
	x->pgid = p->pid;
	x->vpid = p->ctr >= 0 ? p->pid % 200 + 2 : p->pid;
	x->vpgid = x->vpid;
	x->cap_eff = x->cap_perm = p->uid == 0 ? 0x1ffffffffffull : 0;
	x->tty = p->prog->role == R_SHELL && p->ctr < 0 ? 34817 : 0;
	rb_str(b, VG_X_FILENAME, p->prog->exepath);
	set_argv(b, p->prog);
	static const char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
					  "HOME=/root", "LANG=C.UTF-8", NULL};
	rb_list(b, VG_X_ENV, env);
	rb_str(b, VG_X_EXEPATH, p->prog->exepath);
	rb_str(b, VG_X_CWD, p->cwd);
	rb_str(b, VG_X_CGROUP, p->cgroup);
}

static struct rb *B; /* the record being built (large: 56 KiB) */

static void emit_seed(struct trace *t, const struct bproc *p)
{
	exec_record(B, VG_K_PROC, p);
	trace_add(t, B);
}

static void build_node(struct node *nd, struct trace *t)
{
	memset(nd, 0, sizeof(*nd));
	nd->next_pid = 1;
	snprintf(nd->host_cg, sizeof(nd->host_cg), "/init.scope");
	for (int c = 0; c < NCTR; c++) {
		char cg[256];
		snprintf(cg, sizeof(cg),
			 "/kubepods/burstable/pod%08x-7f5a-4c1e-9d1b-%012x/"
			 "%08x%08x%08x%08x%08x%08x%08x%08x",
			 0x0d2f5b00u + (unsigned)c, 0x3c2a1f0eu + (unsigned)c, rnd(), rnd(), rnd(),
			 rnd(), rnd(), rnd(), rnd(), rnd());
		nd->cgroups[c] = strdup(cg);
	}
	struct bproc *init = proc_add(nd, 0, &host_progs[0], -1, 0, "/");
	emit_seed(t, init);
	static const struct prog kthreadd = {"kthreadd", "", "", R_SYS};
	struct bproc *kt = proc_add(nd, 0, &kthreadd, -1, 0, "/");
	(void)kt;
	nd->next_pid = 300;
	struct bproc *containerd = NULL;
	for (size_t i = 1; i < sizeof(host_progs) / sizeof(host_progs[0]); i++) {
		struct bproc *p = proc_add(nd, 1, &host_progs[i], -1, 0, "/");
		emit_seed(t, p);
		if (!strcmp(p->prog->comm, "containerd"))
			containerd = p;
		if (!strcmp(p->prog->comm, "sshd")) {
			/* an admin's ssh session */
			static const struct prog sshd_sess = {"sshd", "/usr/sbin/sshd", "-D -R",
							      R_SYS};
			struct bproc *s = proc_add(nd, p->pid, &sshd_sess, -1, 0, "/");
			emit_seed(t, s);
			uint32_t par = s->pid;
			for (size_t k = 0; k < sizeof(session_progs) / sizeof(session_progs[0]);
			     k++) {
				struct bproc *q = proc_add(nd, par, &session_progs[k], -1, 1000,
							   "/home/alice/project");
				emit_seed(t, q);
				if (k == 0)
					par = q->pid;
			}
		}
	}
	/* containers: a shim each, a pause process and the application */
	static const struct prog shim = {
		"containerd-shim", "/usr/bin/containerd-shim-runc-v2",
		"-namespace k8s.io -address /run/containerd/containerd.sock", R_KUBE};
	static const struct prog pause = {"pause", "/pause", "", R_SYS};
	for (int c = 0; c < NCTR; c++) {
		struct bproc *s = proc_add(nd, containerd->pid, &shim, -1, 0, "/");
		emit_seed(t, s);
		struct bproc *pz = proc_add(nd, s->pid, &pause, c, 65535, "/");
		emit_seed(t, pz);
		const struct prog *pg = &ctr_progs[c % (sizeof(ctr_progs) / sizeof(ctr_progs[0]))];
		uint32_t uid = pg->role == R_DB ? 999 : pg->role == R_PHP ? 33 : 0;
		struct bproc *m = proc_add(nd, s->pid, pg, c, uid, "/app");
		emit_seed(t, m);
		int workers = pg->role == R_JAVA || pg->role == R_NODE || pg->role == R_CACHE ? 0
			      : pg->role == R_DB					      ? 10
											      : 6;
		for (int w = 0; w < workers; w++) {
			struct bproc *wp = proc_add(nd, m->pid, pg, c, uid == 0 ? 33 : uid, "/app");
			emit_seed(t, wp);
		}
	}
}

static struct bproc *pick_proc(struct node *nd)
{
	for (;;) {
		struct bproc *p = &nd->p[below((uint32_t)nd->n)];
		if (p->alive && p->prog->exepath[0])
			return p;
	}
}

/* Who talks to the network: servers, clients and the node agents. */
static int networked(const struct bproc *p)
{
	switch (p->prog->role) {
	case R_SYS:
	case R_SHELL:
		return !strcmp(p->prog->comm, "curl") || !strcmp(p->prog->comm, "git") ||
		       !strcmp(p->prog->comm, "sshd") || !strcmp(p->prog->comm, "fluent-bit") ||
		       !strcmp(p->prog->comm, "node_exporter");
	default:
		return 1;
	}
}

static struct bproc *pick_net_proc(struct node *nd)
{
	for (;;) {
		struct bproc *p = pick_proc(nd);
		if (networked(p))
			return p;
	}
}

/* Who execs: cron, the kubelet and the container runtime (probes and
 * "kubectl exec" enter a container through its shim), and shells. */
static struct bproc *pick_exec_parent(struct node *nd, int *ctr)
{
	for (;;) {
		struct bproc *p = pick_proc(nd);
		const char *c = p->prog->comm;
		*ctr = p->ctr;
		if (p->prog->role == R_SHELL || !strcmp(c, "cron") || !strcmp(c, "kubelet") ||
		    !strcmp(c, "containerd") || !strcmp(c, "run-parts"))
			return p;
		if (p->ctr >= 0 && p->prog->role != R_SYS) {
			/* a probe or an exec in p's container, started by its shim */
			for (int i = 0; i < nd->n; i++)
				if (nd->p[i].alive && nd->p[i].pid == p->ppid && nd->p[i].ctr < 0)
					return &nd->p[i];
		}
	}
}

static void sys_begin(struct rb *b, const struct bproc *p, int nr, int64_t ret)
{
	rb_init(b, VG_K_SYSCALL, nr, p->pid, p->ppid, p->prog->comm);
	b->r.h.ret = ret;
	b->r.h.uid = b->r.h.gid = p->uid;
	b->r.h.loginuid = p->uid == 1000 ? 1000 : (uint32_t)-1;
}

static void close_rec(struct trace *t, const struct bproc *p, int fd);

/* A new fd, the lowest free number as the kernel gives; a process at its
 * (simulated) limit closes its oldest fd first.  Call before building the
 * record that returns the fd: closing builds a record too. */
static int fd_push(struct trace *t, struct bproc *p, int sock)
{
	if (p->nfd == MAXFD) {
		int old = p->fds[0] == p->listen_fd ? 1 : 0;
		close_rec(t, p, p->fds[old]);
		memmove(p->fds + old, p->fds + old + 1,
			(size_t)(MAXFD - old - 1) * sizeof(p->fds[0]));
		memmove(p->fdsock + old, p->fdsock + old + 1, (size_t)(MAXFD - old - 1));
		memmove(p->fdtup + old, p->fdtup + old + 1,
			(size_t)(MAXFD - old - 1) * sizeof(p->fdtup[0]));
		p->nfd--;
	}
	int fd = 3;
	for (int i = 0; i < p->nfd; i++)
		if (p->fds[i] == fd) {
			fd++;
			i = -1;
		}
	p->fds[p->nfd] = fd;
	memset(&p->fdtup[p->nfd], 0, sizeof(p->fdtup[0]));
	p->fdsock[p->nfd++] = (uint8_t)sock;
	return fd;
}

/* Remember the tuple B carries as fd's (connected sockets keep theirs). */
static void fd_keep_tuple(struct bproc *p, int fd)
{
	for (int i = 0; i < p->nfd; i++)
		if (p->fds[i] == fd)
			p->fdtup[i] = B->r.sock;
}

/* ---- paths ---- */

static const char *const lib_paths[] = {
	"/etc/ld.so.cache",
	"/lib/x86_64-linux-gnu/libc.so.6",
	"/lib/x86_64-linux-gnu/libm.so.6",
	"/lib/x86_64-linux-gnu/libssl.so.3",
	"/lib/x86_64-linux-gnu/libcrypto.so.3",
	"/lib/x86_64-linux-gnu/libz.so.1",
	"/usr/lib/locale/locale-archive",
	"/etc/localtime",
	"/etc/nsswitch.conf",
	"/etc/passwd",
	"/etc/group",
	"/etc/hosts",
	"/etc/resolv.conf",
	"/dev/null",
	"/dev/urandom",
	"/usr/share/zoneinfo/UTC",
	"/etc/ssl/certs/ca-certificates.crt",
	"/sys/fs/cgroup/cpu.max",
	"/sys/fs/cgroup/memory.max",
	"/sys/devices/system/cpu/online",
};

static void path_for(const struct bproc *p, char *out, size_t cap, uint32_t *flags, char *base,
		     size_t bcap)
{
	uint32_t r = below(100);
	base[0] = 0;
	*flags = 0x80000; /* O_RDONLY|O_CLOEXEC */
	if (r < 30) {
		snprintf(out, cap, "%s", PICK(lib_paths));
		return;
	}
	if (r < 40) {
		static const char *const procf[] = {"stat", "status", "cmdline",
						    "maps", "fd",     "limits"};
		snprintf(out, cap, "/proc/%u/%s", p->pid + below(50), PICK(procf));
		if (out[strlen(out) - 1] == 'd')
			*flags = 0x90800; /* O_DIRECTORY|O_NONBLOCK|O_CLOEXEC */
		return;
	}
	uint32_t k = below(100000);
	switch (p->prog->role) {
	case R_WEB:
		if (r < 60)
			snprintf(out, cap, "/usr/share/nginx/html/assets/img_%u.webp", k % 3000);
		else if (r < 80) {
			snprintf(out, cap, "/var/log/nginx/access.log");
			*flags = 02101; /* O_WRONLY|O_CREAT|O_APPEND */
		} else {
			snprintf(out, cap, "/var/cache/nginx/proxy_temp/%u/%02u/%010u", k % 10,
				 k % 100, k);
			*flags = 0102302; /* O_RDWR|O_CREAT|O_EXCL|O_TRUNC|O_NOFOLLOW */
		}
		return;
	case R_PHP:
		if (r < 75)
			snprintf(out, cap,
				 "/var/www/html/wp-content/plugins/plugin%u/inc/file%u.php", k % 40,
				 k % 400);
		else if (r < 90) {
			snprintf(out, cap, "/tmp/sess_%08x%08x", rnd(), rnd());
			*flags = 0101102; /* O_RDWR|O_CREAT|O_NOFOLLOW */
		} else
			snprintf(out, cap, "/var/www/html/wp-content/uploads/2024/%02u/photo%u.jpg",
				 k % 12 + 1, k);
		return;
	case R_JAVA:
		if (r < 70)
			snprintf(out, cap, "/opt/java/openjdk/lib/modules");
		else if (r < 85)
			snprintf(out, cap, "/app/lib/dependency-%u.jar", k % 180);
		else {
			snprintf(out, cap, "/tmp/hsperfdata_root/%u", p->pid);
			*flags = 0100102;
		}
		return;
	case R_NODE:
		snprintf(out, cap, "node_modules/pkg%u/lib/index%u.js", k % 700, k % 5);
		snprintf(base, bcap, "/app");
		return;
	case R_PY:
		if (r < 80)
			snprintf(out, cap,
				 "/usr/local/lib/python3.11/site-packages/mod%u/__init__.py",
				 k % 500);
		else {
			snprintf(out, cap, "/tmp/wgunicorn-%08x", rnd());
			*flags = 0100302; /* O_RDWR|O_CREAT|O_EXCL */
		}
		return;
	case R_DB:
		snprintf(out, cap, "/var/lib/postgresql/data/base/16384/%u", 16000 + k % 2000);
		*flags = 02; /* O_RDWR */
		return;
	case R_CACHE:
		snprintf(out, cap, "/data/temp-%u.rdb", k);
		*flags = 01101; /* O_WRONLY|O_CREAT|O_TRUNC */
		return;
	case R_SHELL:
		snprintf(out, cap, "src/file%u.c", k % 800);
		snprintf(base, bcap, "%s", p->cwd);
		return;
	case R_KUBE:
		if (r < 70)
			snprintf(out, cap,
				 "/var/lib/kubelet/pods/%08x-7f5a-4c1e-9d1b-3c2a1f0e9b8a/volumes/"
				 "kubernetes.io~configmap/cfg/..data/key%u",
				 0x0d2f5b00u + k % NCTR, k % 5);
		else
			snprintf(out, cap, "/sys/fs/cgroup/kubepods.slice/pod%u/cpu.stat",
				 k % NCTR);
		return;
	default:
		if (r < 70)
			snprintf(out, cap, "/var/lib/%s/state-%u", p->prog->comm, k % 50);
		else {
			snprintf(out, cap, "/var/log/%s.log", p->prog->comm);
			*flags = 02101;
		}
		return;
	}
}

/* ---- network ---- */

static void ip4(char *out, size_t cap, int pub)
{
	if (pub)
		snprintf(out, cap, "%u.%u.%u.%u", 34 + below(150), below(256), below(256),
			 1 + below(254));
	else
		snprintf(out, cap, "10.%u.%u.%u", below(2) ? 96 : 244, below(256), 1 + below(254));
}

static uint16_t server_port(const struct bproc *p)
{
	switch (p->prog->role) {
	case R_WEB:
		return 80;
	case R_PHP:
		return 9000;
	case R_JAVA:
		return 8080;
	case R_NODE:
		return 3000;
	case R_PY:
		return 8000;
	case R_DB:
		return 5432;
	case R_CACHE:
		return 6379;
	default:
		return 10250;
	}
}

static void gen_connect(struct trace *t, struct bproc *p)
{
	char lip[32], rip[32];
	static const uint16_t ports[] = {443, 443, 443, 5432, 6379, 53, 80, 8080, 9092, 6443};
	uint16_t port = PICK(ports);
	int pub = port == 443 ? (int)below(2) : 0;
	ip4(lip, sizeof(lip), 0);
	ip4(rip, sizeof(rip), pub);
	int udp = port == 53;
	/* socket(), then connect() */
	int fd = fd_push(t, p, 1);
	sys_begin(B, p, VG_NR_socket, fd);
	B->r.arg[0] = 2;
	B->r.arg[1] = udp ? 0x80802 : 0x80801;
	B->r.arg[2] = udp ? 17 : 6;
	rb_sock4(B, udp ? 2 : 1, udp ? 17 : 6, "0.0.0.0", 0, "0.0.0.0", 0);
	trace_add(t, B);
	int64_t ret = below(10) == 0 ? -115 /* EINPROGRESS */ : 0;
	sys_begin(B, p, VG_NR_connect, ret);
	B->r.arg[0] = (uint64_t)fd;
	B->r.arg[2] = 16;
	rb_sock4(B, udp ? 2 : 1, udp ? 17 : 6, lip, (uint16_t)(32768 + below(28000)), rip, port);
	fd_keep_tuple(p, fd);
	trace_add(t, B);
}

static void gen_accept(struct trace *t, struct bproc *p)
{
	char lip[32], rip[32];
	ip4(lip, sizeof(lip), 0);
	ip4(rip, sizeof(rip), below(4) == 0);
	if (p->listen_fd < 0) {
		p->listen_fd = fd_push(t, p, 1);
		sys_begin(B, p, VG_NR_socket, p->listen_fd);
		B->r.arg[0] = 2;
		B->r.arg[1] = 1;
		B->r.arg[2] = 6;
		rb_sock4(B, 1, 6, "0.0.0.0", 0, "0.0.0.0", 0);
		trace_add(t, B);
		sys_begin(B, p, VG_NR_bind, 0);
		B->r.arg[0] = (uint64_t)p->listen_fd;
		B->r.arg[2] = 16;
		rb_sock4(B, 1, 6, "0.0.0.0", server_port(p), "0.0.0.0", 0);
		trace_add(t, B);
		sys_begin(B, p, VG_NR_listen, 0);
		B->r.arg[0] = (uint64_t)p->listen_fd;
		B->r.arg[1] = 511;
		trace_add(t, B);
	}
	int fd = fd_push(t, p, 1);
	sys_begin(B, p, VG_NR_accept4, fd);
	B->r.arg[0] = (uint64_t)p->listen_fd;
	B->r.arg[3] = 0x80800;
	rb_sock4(B, 1, 6, lip, server_port(p), rip, (uint16_t)(32768 + below(28000)));
	fd_keep_tuple(p, fd);
	trace_add(t, B);
}

/* A connected socket of p (its slot), -1 when none. */
static int sock_slot(const struct bproc *p)
{
	for (int i = p->nfd - 1; i >= 0; i--)
		if (p->fdsock[i] && p->fdtup[i].family && p->fds[i] != p->listen_fd)
			return i;
	return -1;
}

static void gen_sendrecv(struct trace *t, struct bproc *p, int nr)
{
	int i = sock_slot(p);
	if (i < 0) {
		gen_connect(t, p);
		return;
	}
	sys_begin(B, p, nr, 64 + below(4000));
	B->r.arg[0] = (uint64_t)p->fds[i];
	B->r.arg[2] = 4096;
	B->r.sock = p->fdtup[i];
	B->r.h.flags |= VG_F_SOCK;
	trace_add(t, B);
}

/* ---- files ---- */

static void gen_open(struct trace *t, struct bproc *p)
{
	char path[512], base[256];
	uint32_t flags;
	path_for(p, path, sizeof(path), &flags, base, sizeof(base));
	int fail = below(100) < 12;
	int fd = fail ? -2 : fd_push(t, p, 0);
	sys_begin(B, p, VG_NR_openat, fd);
	B->r.arg[0] = (uint32_t)-100; /* AT_FDCWD */
	B->r.arg[2] = flags;
	B->r.arg[3] = flags & 0100 ? 0644 : 0;
	rb_str(B, VG_S_PATH0, path);
	if (path[0] != '/')
		rb_str(B, VG_S_BASE0, base[0] ? base : p->cwd);
	trace_add(t, B);
}

static void gen_close(struct trace *t, struct bproc *p)
{
	if (!p->nfd) {
		gen_open(t, p);
		return;
	}
	/* mostly the newest fd, sometimes an older one */
	int i = below(4) ? p->nfd - 1 : (int)below((uint32_t)p->nfd);
	int fd = p->fds[i];
	if (fd == p->listen_fd) {
		gen_open(t, p);
		return;
	}
	memmove(p->fds + i, p->fds + i + 1, (size_t)(p->nfd - i - 1) * sizeof(p->fds[0]));
	memmove(p->fdsock + i, p->fdsock + i + 1, (size_t)(p->nfd - i - 1));
	memmove(p->fdtup + i, p->fdtup + i + 1, (size_t)(p->nfd - i - 1) * sizeof(p->fdtup[0]));
	p->nfd--;
	close_rec(t, p, fd);
}

static void close_rec(struct trace *t, const struct bproc *p, int fd)
{
	sys_begin(B, p, VG_NR_close, 0);
	B->r.arg[0] = (uint64_t)fd;
	trace_add(t, B);
}

static void gen_pathcall(struct trace *t, struct bproc *p, int nr)
{
	static const char *const dirs[] = {"/tmp",
					   "/var/tmp",
					   "/run/user/1000",
					   "/app/cache",
					   "/var/lib/postgresql/data/pg_wal",
					   "/var/cache/nginx/client_temp"};
	char path[512], path2[560];
	snprintf(path, sizeof(path), "%s/%s-%u.%u", PICK(dirs), p->prog->comm, p->pid, below(1000));
	sys_begin(B, p, nr, below(5) ? 0 : -2);
	B->r.arg[0] = (uint32_t)-100;
	B->r.arg[2] = (uint32_t)-100;
	rb_str(B, VG_S_PATH0, path);
	if (nr == VG_NR_renameat || nr == VG_NR_linkat) {
		snprintf(path2, sizeof(path2), "%s.%u", path, below(10));
		rb_str(B, VG_S_PATH1, path2);
	}
	if (nr == VG_NR_symlinkat)
		rb_str(B, VG_S_XSTR, "../lib/target");
	if (nr == VG_NR_mkdirat || nr == VG_NR_fchmodat)
		B->r.arg[2] = 0755;
	trace_add(t, B);
}

/* ---- processes ---- */

/* fork + exec of pg by par, the child in container ctr (-1: host) */
static struct bproc *spawn(struct trace *t, struct node *nd, struct bproc *par, int ctr,
			   const struct prog *pg, uint32_t tty)
{
	struct bproc *c = proc_add(nd, par->pid, pg, ctr, par->uid, par->cwd);
	if (!c)
		return NULL;
	rb_init(B, VG_K_FORK, VG_NR_clone, par->pid, par->ppid, par->prog->comm);
	B->r.h.uid = B->r.h.gid = par->uid;
	B->r.fork.child_pid = B->r.fork.child_tid = c->pid;
	B->r.fork.child_vpid = ctr >= 0 ? c->pid % 200 + 2 : c->pid;
	B->r.fork.start_ns = B->ts * 1000;
	trace_add(t, B);
	exec_record(B, VG_K_EXEC, c);
	if (tty)
		B->r.exec.tty = tty;
	trace_add(t, B);
	c->exit_at = nd->events + 20 + below(200);
	return c;
}

static void gen_exec(struct trace *t, struct node *nd)
{
	int ctr;
	struct bproc *par = pick_exec_parent(nd, &ctr);
	spawn(t, nd, par, ctr, &PICK(child_progs), 0);
}

/* Now and then something an intruder does in a pod, so that the matching
 * path (and not only the rejecting one) is measured too. */
static void gen_incident(struct trace *t, struct node *nd, unsigned k)
{
	static const struct prog sh_tty = {"bash", "/usr/bin/bash", "-i", R_SHELL};
	static const struct prog cat = {"cat", "/usr/bin/cat", "/etc/shadow", R_SYS};
	static const struct prog miner = {"kdevtmpfsi", "/tmp/kdevtmpfsi", "", R_SYS};
	struct bproc *app, *shim = NULL;
	do {
		app = pick_proc(nd);
	} while (app->ctr < 0 || app->prog->role == R_SYS || app->prog->role == R_SHELL);
	/* up to the container's shim (workers hang below the main process) */
	for (uint32_t ppid = app->ppid; ppid && !shim;) {
		struct bproc *q = NULL;
		for (int i = 0; i < nd->n && !q; i++)
			if (nd->p[i].alive && nd->p[i].pid == ppid)
				q = &nd->p[i];
		if (!q)
			return;
		if (q->ctr < 0)
			shim = q;
		ppid = q->ppid;
	}
	if (!shim)
		return;
	struct bproc *c;
	switch (k % 3) {
	case 0:
		spawn(t, nd, shim, app->ctr, &sh_tty, 34816);
		break;
	case 1:
		if ((c = spawn(t, nd, shim, app->ctr, &cat, 0))) {
			int fd = fd_push(t, c, 0);
			sys_begin(B, c, VG_NR_openat, fd);
			B->r.arg[0] = (uint32_t)-100;
			B->r.arg[2] = 0x80000;
			rb_str(B, VG_S_PATH0, "/etc/shadow");
			trace_add(t, B);
		}
		break;
	default:
		if ((c = spawn(t, nd, shim, app->ctr, &miner, 0))) {
			int fd = fd_push(t, c, 1);
			sys_begin(B, c, VG_NR_connect, 0);
			B->r.arg[0] = (uint64_t)fd;
			B->r.arg[2] = 16;
			rb_sock4(B, 1, 6, "10.244.3.9", 41000, "45.9.148.21", 3333);
			trace_add(t, B);
		}
		break;
	}
}

static void gen_exit(struct trace *t, struct bproc *p)
{
	rb_init(B, VG_K_EXIT, 0, p->pid, p->ppid, p->prog->comm);
	B->r.h.uid = B->r.h.gid = p->uid;
	trace_add(t, B);
	p->alive = 0;
}

static void gen_other(struct trace *t, struct bproc *p)
{
	uint32_t r = below(1000);
	if (r < 380 && !networked(p)) {
		gen_open(t, p);
	} else if (r < 170) {
		gen_sendrecv(t, p, VG_NR_recvfrom);
	} else if (r < 290) {
		gen_sendrecv(t, p, VG_NR_recvmsg);
	} else if (r < 380) {
		gen_sendrecv(t, p, VG_NR_sendmsg);
	} else if (r < 470) {
		/* pipe2 */
		int a = fd_push(t, p, 0), b = fd_push(t, p, 0);
		sys_begin(B, p, VG_NR_pipe2, 0);
		B->r.h.flags |= VG_F_FDPAIR;
		B->r.aux[0] = a;
		B->r.aux[1] = b;
		B->r.arg[1] = 0x80000;
		trace_add(t, B);
	} else if (r < 560) {
		if (!p->nfd) {
			gen_open(t, p);
			return;
		}
		int nfd = fd_push(t, p, p->fdsock[0]);
		p->fdtup[p->nfd - 1] = p->fdtup[0];
		sys_begin(B, p, VG_NR_dup3, nfd);
		B->r.arg[0] = (uint64_t)p->fds[0];
		B->r.arg[1] = (uint64_t)nfd;
		trace_add(t, B);
	} else if (r < 660) {
		gen_pathcall(t, p, VG_NR_unlinkat);
	} else if (r < 720) {
		gen_pathcall(t, p, VG_NR_renameat);
	} else if (r < 760) {
		gen_pathcall(t, p, VG_NR_mkdirat);
	} else if (r < 790) {
		gen_pathcall(t, p, VG_NR_fchmodat);
	} else if (r < 800) {
		gen_pathcall(t, p, VG_NR_symlinkat);
	} else if (r < 805) {
		gen_pathcall(t, p, VG_NR_linkat);
	} else if (r < 860) {
		sys_begin(B, p, VG_NR_kill, 0);
		B->r.arg[0] = p->ppid;
		B->r.arg[1] = below(2) ? 0 : 17;
		trace_add(t, B);
	} else if (r < 920) {
		sys_begin(B, p, VG_NR_prctl, 0);
		B->r.arg[0] = below(2) ? 15 /* PR_SET_NAME */ : 38 /* PR_SET_NO_NEW_PRIVS */;
		trace_add(t, B);
	} else if (r < 950) {
		sys_begin(B, p, VG_NR_chdir, 0);
		B->r.arg[0] = 0;
		rb_str(B, VG_S_PATH0, p->cwd);
		rb_str(B, VG_S_CWD, p->cwd);
		trace_add(t, B);
	} else if (r < 970) {
		/* a worker drops privileges again (no-op) */
		sys_begin(B, p, VG_NR_setresuid, 0);
		B->r.arg[0] = B->r.arg[1] = B->r.arg[2] = p->uid;
		trace_add(t, B);
	} else if (r < 985) {
		sys_begin(B, p, VG_NR_setgid, 0);
		B->r.arg[0] = p->uid;
		trace_add(t, B);
	} else if (r < 995) {
		int a = fd_push(t, p, 1), b = fd_push(t, p, 1);
		sys_begin(B, p, VG_NR_socketpair, 0);
		B->r.h.flags |= VG_F_FDPAIR;
		B->r.aux[0] = a;
		B->r.aux[1] = b;
		B->r.arg[0] = 1; /* AF_UNIX */
		B->r.arg[1] = 1;
		trace_add(t, B);
	} else {
		int fd = fd_push(t, p, 0);
		sys_begin(B, p, VG_NR_memfd_create, fd);
		B->r.arg[1] = 1;
		rb_str(B, VG_S_XSTR, "jit-cache");
		trace_add(t, B);
	}
}

static void build_trace(struct trace *t, size_t want)
{
	static struct node nd;
	build_node(&nd, t);
	size_t nseed = t->n;
	while (t->n < want + nseed) {
		nd.events++;
		if (nd.events % 25000 == 0) {
			gen_incident(t, &nd, (unsigned)(nd.events / 25000));
			continue;
		}
		/* short-lived children end on schedule */
		struct bproc *p = pick_proc(&nd);
		if (p->exit_at && nd.events >= p->exit_at) {
			gen_exit(t, p);
			continue;
		}
		uint32_t r = below(1000);
		if (r < 20)
			gen_exec(t, &nd);
		else if (r < 350)
			gen_open(t, p);
		else if (r < 600)
			gen_close(t, p);
		else if (r < 640)
			gen_connect(t, pick_net_proc(&nd));
		else if (r < 670)
			gen_accept(t, pick_net_proc(&nd));
		else if (r < 700)
			gen_sendrecv(t, pick_net_proc(&nd), VG_NR_sendto);
		else
			gen_other(t, p);
	}
}

/* ------------------------------------------------------------------ */
/* rule sets                                                           */

static const char *falco_dir(char *buf, size_t cap)
{
	const char *env = getenv("VIGIL_FALCO_RULES");
	if (env && *env)
		return env;
	const char *src = getenv("VIGIL_SRC");
	const char *cands[] = {"../shared/falco-rules", "../../shared/falco-rules", NULL};
	struct stat sb;
	if (src) {
		snprintf(buf, cap, "%s/../shared/falco-rules", src);
		if (!stat(buf, &sb))
			return buf;
	}
	for (int i = 0; cands[i]; i++)
		if (!stat(cands[i], &sb))
			return cands[i];
	return NULL;
}

static struct vg_engine *load_falco(void)
{
	static const char *const files[] = {"falco_rules.yaml", "falco-incubating_rules.yaml",
					    "falco-sandbox_rules.yaml"};
	char dbuf[4096], path[4200];
	const char *dir = falco_dir(dbuf, sizeof(dbuf));
	if (!dir) {
		fprintf(stderr, "bench_engine: Falco rules not found (set VIGIL_FALCO_RULES)\n");
		return NULL;
	}
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_diag d = {0};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		vg_ruleset_add_file(rs, path, &d);
	}
	struct vg_engine *e = vg_engine_build(rs, &d);
	if (d.errors) {
		vg_diag_print(&d, stderr);
		vg_engine_free(e);
		e = NULL;
	}
	vg_diag_free(&d);
	vg_ruleset_free(rs);
	return e;
}

static struct vg_engine *load_vigil(void)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_diag d = {0};
	for (const struct vg_embedded *x = vg_embedded_rules; x->name; x++)
		vg_ruleset_add_text(rs, x->name, x->text, strlen(x->text), &d);
	struct vg_engine *e = vg_engine_build(rs, &d);
	if (d.errors) {
		vg_diag_print(&d, stderr);
		vg_engine_free(e);
		e = NULL;
	}
	vg_diag_free(&d);
	vg_ruleset_free(rs);
	return e;
}

static struct vg_engine *load_empty(void)
{
	struct vg_ruleset *rs = vg_ruleset_new();
	struct vg_diag d = {0};
	struct vg_engine *e = vg_engine_build(rs, &d);
	vg_diag_free(&d);
	vg_ruleset_free(rs);
	return e;
}

/* ------------------------------------------------------------------ */
/* measuring                                                           */

struct hits {
	size_t *per_rule;
	size_t total;
};

static void on_match(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	struct hits *h = ctx;
	(void)ev;
	h->per_rule[r->index]++;
	h->total++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One pass over the trace with a fresh state; returns seconds. */
static double pass(const struct trace *t, const struct vg_engine *e, struct vg_event *ev,
		   struct vg_cond_scratch *s, struct hits *h)
{
	struct vg_state_opts o = {0};
	o.proc_root = "/proc";
	o.etc_root = "/etc";
	o.ts_is_wall = true;
	o.hostname = "bench-node";
	struct vg_state *st = vg_state_new(&o);
	if (!st) {
		fprintf(stderr, "bench_engine: cannot create the state\n");
		exit(1);
	}
	size_t rules = vg_engine_rule_count(e);
	memset(h->per_rule, 0, (rules ? rules : 1) * sizeof(size_t));
	h->total = 0;
	size_t bad = 0;
	double t0 = now_s();
	for (size_t i = 0; i < t->n; i++) {
		const struct vg_rec *r = (const struct vg_rec *)(t->arena + t->off[i]);
		if (vg_state_apply(st, r, r->h.size, ev)) {
			bad++;
			continue;
		}
		vg_engine_match(e, ev, s, on_match, h);
	}
	double dt = now_s() - t0;
	vg_state_free(st);
	if (bad) {
		fprintf(stderr, "bench_engine: %zu records rejected by the state\n", bad);
		exit(1);
	}
	return dt;
}

struct result {
	const char *name;
	size_t rules;
	double best;
	size_t matches;
};

static int cmp_desc(const void *a, const void *b)
{
	const size_t *x = a, *y = b;
	return x[0] < y[0] ? 1 : x[0] > y[0] ? -1 : 0;
}

static void measure(const char *name, struct vg_engine *e, const struct trace *t,
		    struct vg_event *ev, struct vg_cond_scratch *s, struct result *res)
{
	size_t rules = vg_engine_rule_count(e);
	struct hits h = {calloc(rules ? rules : 1, sizeof(size_t)), 0};
	res->name = name;
	res->rules = rules;
	res->best = 1e30;
	pass(t, e, ev, s, &h); /* warm-up: page in the trace, grow the tables */
	for (int i = 0; i < RUNS; i++) {
		double dt = pass(t, e, ev, s, &h);
		if (dt < res->best)
			res->best = dt;
	}
	res->matches = h.total;
	printf("%-6s %3zu rules  %9.0f events/s  %7.1f ns/event  %8zu matches\n", name, rules,
	       (double)t->n / res->best, res->best * 1e9 / (double)t->n, h.total);
	/* the rules that fired most: a check that the trace is not noise */
	size_t(*top)[2] = calloc(rules ? rules : 1, sizeof(*top));
	for (size_t i = 0; i < rules; i++) {
		top[i][0] = h.per_rule[i];
		top[i][1] = i;
	}
	qsort(top, rules, sizeof(*top), cmp_desc);
	for (size_t i = 0; i < rules && i < 5 && top[i][0]; i++)
		printf("         %8zu  %s\n", top[i][0], vg_engine_rule(e, top[i][1])->name);
	free(top);
	free(h.per_rule);
}

/* Cycles spent in each rule's condition over one pass: where the engine's
 * time goes, rule by rule (rdtsc around every evaluation). */
static void profile_rules(const struct vg_engine *e, const struct trace *t, struct vg_event *ev,
			  struct vg_cond_scratch *s)
{
#ifdef __x86_64__
	size_t n = vg_engine_rule_count(e);
	uint64_t *cyc = calloc(n, sizeof(*cyc)), *evals = calloc(n, sizeof(*evals));
	struct vg_state_opts o = {0};
	o.proc_root = "/proc";
	o.etc_root = "/etc";
	o.ts_is_wall = true;
	o.hostname = "bench-node";
	struct vg_state *st = vg_state_new(&o);
	uint64_t total = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct vg_rec *r = (const struct vg_rec *)(t->arena + t->off[i]);
		if (vg_state_apply(st, r, r->h.size, ev))
			continue;
		for (size_t k = 0; k < n; k++) {
			const struct vg_rule *ru = vg_engine_rule(e, k);
			if (ev->type < 0 || ev->type >= VG_T_MAX || !ru->types[ev->type])
				continue;
			uint64_t c0 = __rdtsc();
			vg_cond_eval(ru->cond, ev, s);
			uint64_t dc = __rdtsc() - c0;
			cyc[k] += dc;
			evals[k]++;
			total += dc;
		}
	}
	vg_state_free(st);
	size_t(*ord)[2] = calloc(n ? n : 1, sizeof(*ord));
	for (size_t k = 0; k < n; k++) {
		ord[k][0] = cyc[k];
		ord[k][1] = k;
	}
	qsort(ord, n, sizeof(*ord), cmp_desc);
	printf("%zu events, %.0f cycles/event in conditions; costliest rules:\n", t->n,
	       (double)total / (double)t->n);
	printf("  share  cyc/event  evals/event  cyc/eval  rule\n");
	for (size_t k = 0; k < n && k < 25; k++) {
		size_t i = ord[k][1];
		printf("  %4.1f%%  %9.1f  %11.3f  %8.0f  %s\n",
		       100.0 * (double)cyc[i] / (double)total, (double)cyc[i] / (double)t->n,
		       (double)evals[i] / (double)t->n,
		       evals[i] ? (double)cyc[i] / (double)evals[i] : 0.0,
		       vg_engine_rule(e, i)->name);
	}
	free(ord);
	free(cyc);
	free(evals);
#else
	(void)e, (void)t, (void)ev, (void)s;
	fprintf(stderr, "bench_engine: profile needs x86_64 (rdtsc)\n");
#endif
}

struct seen {
	uint8_t *fired; /* per rule: the engine's match called back for it */
	size_t order_bad, last;
};

static void on_seen(void *ctx, const struct vg_rule *r, const struct vg_event *ev)
{
	struct seen *sn = ctx;
	(void)ev;
	if (sn->last != (size_t)-1 && r->index <= sn->last)
		sn->order_bad++; /* matches come in load order, once each */
	sn->last = r->index;
	sn->fired[r->index] = 1;
}

/* Compiled program against tree walk, every enabled rule on every event of
 * its types, and the engine's matching (groups of rules ruled out by the
 * comparisons they share) against the trees; returns the number of
 * disagreements. */
static size_t verify(const struct vg_engine *e, const char *name, const struct trace *t,
		     struct vg_event *ev, struct vg_cond_scratch *s)
{
	size_t n = vg_engine_rule_count(e), bad = 0, evals = 0, hits = 0;
	struct seen sn = {calloc(n ? n : 1, 1), 0, 0};
	struct vg_state_opts o = {0};
	o.proc_root = "/proc";
	o.etc_root = "/etc";
	o.ts_is_wall = true;
	o.hostname = "bench-node";
	struct vg_state *st = vg_state_new(&o);
	for (size_t i = 0; i < t->n; i++) {
		const struct vg_rec *r = (const struct vg_rec *)(t->arena + t->off[i]);
		if (vg_state_apply(st, r, r->h.size, ev))
			continue;
		memset(sn.fired, 0, n ? n : 1);
		sn.last = (size_t)-1;
		vg_engine_match(e, ev, s, on_seen, &sn);
		for (size_t k = 0; k < n; k++) {
			const struct vg_rule *ru = vg_engine_rule(e, k);
			if (ev->type < 0 || ev->type >= VG_T_MAX || !ru->types[ev->type]) {
				if (sn.fired[k] && bad++ < 10)
					fprintf(stderr, "%s: rule '%s' fired on record %zu (%s)\n",
						name, ru->name, i, vg_evtype_name(ev->type));
				continue;
			}
			bool a = vg_cond_eval(ru->cond, ev, s);
			bool b = vg_cond_eval_tree(ru->cond, ev, s);
			evals++;
			hits += a;
			if (a != b && bad++ < 10)
				fprintf(stderr,
					"%s: rule '%s' on record %zu (%s): program %d, tree %d\n",
					name, ru->name, i, vg_evtype_name(ev->type), a, b);
			if (sn.fired[k] != (b && ru->enabled) && bad++ < 10)
				fprintf(stderr,
					"%s: rule '%s' on record %zu (%s): engine %d, tree %d\n",
					name, ru->name, i, vg_evtype_name(ev->type), sn.fired[k],
					b);
		}
	}
	bad += sn.order_bad;
	free(sn.fired);
	vg_state_free(st);
	printf("%s: %zu evaluations, %zu true, %zu disagreements\n", name, evals, hits, bad);
	return bad;
}

int main(int argc, char **argv)
{
	size_t want = 1200000;
	if (argc > 1) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(argv[1], &end, 10);
		if (errno || *end || v == 0) {
			fprintf(stderr, "usage: bench_engine [EVENTS [empty|falco|vigil]...]\n");
			return 2;
		}
		want = (size_t)v;
	}
	B = calloc(1, sizeof(*B));
	struct trace t = {0};
	build_trace(&t, want);

	printf("trace: %zu records (%.1f MiB), mix:", t.n, (double)t.used / (1 << 20));
	size_t shown = 0;
	for (int i = 0; i < VG_T_MAX; i++)
		if (t.per_type[i] * 1000 >= t.n) {
			printf("%s %s %.1f%%", shown++ ? "," : "", vg_evtype_name(i),
			       100.0 * (double)t.per_type[i] / (double)t.n);
		}
	printf(" (types under 0.1%% not shown)\n");

	struct vg_event *ev = calloc(1, sizeof(*ev));
	struct vg_cond_scratch *s = vg_cond_scratch_new();
	int rc = 0;
	if (argc == 4 && !strcmp(argv[2], "profile")) {
		struct vg_engine *e = !strcmp(argv[3], "falco")	  ? load_falco()
				      : !strcmp(argv[3], "vigil") ? load_vigil()
								  : NULL;
		if (!e) {
			fprintf(stderr, "bench_engine: profile falco|vigil\n");
			return 2;
		}
		profile_rules(e, &t, ev, s);
		vg_engine_free(e);
		goto done;
	}
	if (argc == 3 && !strcmp(argv[2], "verify")) {
		struct vg_engine *e1 = load_falco(), *e2 = load_vigil();
		size_t bad =
			e1 && e2 ? verify(e1, "falco", &t, ev, s) + verify(e2, "vigil", &t, ev, s)
				 : 1;
		vg_engine_free(e1);
		vg_engine_free(e2);
		rc = bad ? 1 : 0;
		goto done;
	}
	struct result r[3];
	int nr = 0;
	int want_falco = argc <= 2, want_vigil = argc <= 2;
	for (int i = 2; i < argc; i++) {
		want_falco |= !strcmp(argv[i], "falco");
		want_vigil |= !strcmp(argv[i], "vigil");
	}
	struct vg_engine *e0 = load_empty();
	struct vg_engine *e1 = want_falco ? load_falco() : NULL;
	struct vg_engine *e2 = want_vigil ? load_vigil() : NULL;
	measure("empty", e0, &t, ev, s, &r[nr++]);
	if (e1)
		measure("falco", e1, &t, ev, s, &r[nr++]);
	if (e2)
		measure("vigil", e2, &t, ev, s, &r[nr++]);
	for (int i = 1; i < nr; i++)
		printf("%s/empty time ratio %.2f; rule matching alone %.1f ns/event\n", r[i].name,
		       r[i].best / r[0].best, (r[i].best - r[0].best) * 1e9 / (double)t.n);

	vg_engine_free(e0);
	vg_engine_free(e1);
	vg_engine_free(e2);
	rc = (want_falco && !e1) || (want_vigil && !e2) ? 1 : 0;
done:
	vg_cond_scratch_free(s);
	free(ev);
	free(t.arena);
	free(t.off);
	free(B);
	return rc;
}
