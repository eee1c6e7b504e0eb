/* capture.c - see capture.h. */
#include "capture.h"
#include "pfeval.h"
#include "event.h"
#include "util.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "vigil.skel.h"

enum {
	F_BPF_LOOP,
	F_TASK_BTF,
	F_TASK_PT_REGS,
	F_EXIT_GROUP_DEAD,
	F_RDONLY_CAST,
	F_BPF_LSM,
	F_COUNT
};

/* What each feature's absence changes; the names are the values of the
 * label of vigil_capture_features. */
static const struct {
	const char *name;
	const char *without;
} feature_desc[F_COUNT] = {
	[F_BPF_LOOP] = {"bpf_loop", "path and cgroup walks run as bounded loops in global "
				    "functions: same paths, same depth"},
	[F_TASK_BTF] = {"get_current_task_btf",
			"the syscall program reads the current task with CO-RE probe reads"},
	[F_TASK_PT_REGS] = {"task_pt_regs",
			    "exec reads the syscall number from the top of the kernel stack"},
	[F_EXIT_GROUP_DEAD] = {"exit_group_dead",
			       "a process's exit is the thread that took signal->live to 0: two "
			       "threads exiting at the same instant may both report it"},
	[F_RDONLY_CAST] = {"rdonly_cast",
			   "the prefilter's alias check reads the opened file with probe reads "
			   "(a few points of overhead on dropped opens)"},
	/* unlike the others, a loss of events: vg_capture_open() writes the
	 * reason in front (cap->lsm_without) */
	[F_BPF_LSM] =
		{"bpf_lsm",
		 "opens, connects and accepts made through io_uring are not seen (syscalls only)"},
};

#define PROG_LOG_SIZE (64 * 1024)

struct vg_capture {
	struct vigil_bpf *skel;
	struct bpf_program *sys_exit; /* the variant loaded */
	struct vg_capture_feature feat[F_COUNT];
	char lsm_without[384]; /* why bpf_lsm is off, and what that loses */
	struct vg_capture_prog progs[12];
	size_t nprogs;
	char kernel[65];
	struct ring_buffer *rb;
	int ncpus;
	/* the callback of the poll in progress (libbpf's ring buffer takes one
	 * callback at creation) */
	vg_capture_cb cb;
	void *cb_ctx;
	int stop;
	int handed;		 /* records handed to cb in this vg_capture_poll() call */
	struct vg_rec *full;	 /* a syscall record expanded from its wire form */
	uint8_t want[VG_NR_MAX]; /* the interest set last written */
	uint8_t pf[VG_NR_MAX];	 /* each interest row's pf byte (0, or live slot + 1) */
	uint32_t pf_gen;	 /* the last vg_pf_sc.gen written (the kernel's verdict cache) */
	/* the namespaces' predicates (VG_PF_TPREDS): the pool the last write
	 * used, and each pool's entries in vg_pf_tix */
	uint32_t tpool;
	uint32_t ntix[2];
	struct vg_pf_tk tix[2][VG_PF_TREFS];
};

size_t vg_capture_expand(const void *data, size_t size, struct vg_rec *out)
{
	const struct vg_sc_wire *w = data;
	if (size < sizeof(*w) || w->h.size != size)
		return 0;
	size_t room = size - sizeof(*w), strs = 0;
	for (int i = 0; i < VG_NSTR; i++)
		strs += w->len[i];
	if (strs > room)
		return 0;
	size_t full = sizeof(*out) + strs;
	if (full > VG_REC_MAX)
		return 0;
	memset(out, 0, sizeof(*out));
	out->h = w->h;
	memcpy(out->arg, w->arg, sizeof(out->arg));
	memcpy(out->aux, w->aux, sizeof(out->aux));
	memcpy(out->len, w->len, sizeof(out->len));
	memcpy(out->data, w->data, strs);
	if (w->h.flags & VG_F_SOCK) {
		size_t at =
			(strs + VG_SC_WIRE_SOCK_ALIGN - 1) & ~(size_t)(VG_SC_WIRE_SOCK_ALIGN - 1);
		if (at + sizeof(out->sock) > room)
			return 0;
		memcpy(&out->sock, w->data + at, sizeof(out->sock));
	}
	out->h.size = (uint16_t)full;
	return full;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct vg_capture *cap = ctx;
	/* Stopping takes a negative return: libbpf goes on with the batch
	 * after a positive one, consuming records nobody sees, and a ring
	 * filled faster than it is read never ends the batch. */
	if (cap->stop)
		return -ECANCELED;
	if (size >= sizeof(struct vg_hdr) && ((const struct vg_hdr *)data)->kind == VG_K_SYSCALL) {
		/* a malformed one goes on as it came, for the state's
		 * validation to reject and count */
		size_t full = vg_capture_expand(data, size, cap->full);
		if (full) {
			data = cap->full;
			size = full;
		}
	}
	cap->handed++;
	if (cap->cb(cap->cb_ctx, data, size)) {
		cap->stop = 1;
		return -ECANCELED; /* this record is consumed, the next stays */
	}
	return 0;
}

/* libbpf's warnings while this thread opens a capture, kept to explain a
 * failed load (libbpf's print callback has no context argument). */
struct warn_log {
	char buf[32 * 1024];
	size_t len;
};
static _Thread_local struct warn_log *collecting;

/* libbpf prints through this; keep warnings, drop debug chatter */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	if (collecting) {
		struct warn_log *w = collecting;
		va_list cp;
		va_copy(cp, ap);
		if (w->len < sizeof(w->buf) - 1) {
			int n = vsnprintf(w->buf + w->len, sizeof(w->buf) - w->len, fmt, cp);
			if (n > 0)
				w->len += (size_t)n < sizeof(w->buf) - w->len
						  ? (size_t)n
						  : sizeof(w->buf) - w->len - 1;
		}
		va_end(cp);
	}
	return vfprintf(stderr, fmt, ap);
}

/* the rest of the line at p, without its newline, into out */
static void copy_line(const char *p, char *out, size_t outlen)
{
	size_t n = strcspn(p, "\n");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = 0;
}

void vg_capture_explain(const char *log, char *prog, size_t proglen, char *why, size_t whylen)
{
	snprintf(prog, proglen, "?");
	*why = 0;
	/* the program: the one libbpf says failed, else the first named */
	static const char *const failed[] = {"': BPF program load failed", "': failed to load",
					     "': failed to resolve", "': relo #"};
	const char *named = NULL;
	for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]) && !named; i++) {
		const char *f = strstr(log, failed[i]);
		if (!f)
			continue;
		for (const char *q = f; q > log; q--)
			if (!strncmp(q, "prog '", 6)) {
				named = q + 6;
				break;
			}
	}
	if (!named) {
		const char *q = strstr(log, "prog '");
		named = q ? q + 6 : NULL;
	}
	if (named) {
		size_t n = strcspn(named, "'\n");
		snprintf(prog, proglen, "%.*s", (int)n, named);
	}
	/* the reason: the most telling line, in order of preference */
	static const char *const telling[] = {
		"failed to resolve CO-RE relocation",
		"unknown func ",
		"invalid func ",
		"program of this type cannot use helper",
		"func_info",
		"invalid bpf_context access",
		"BPF program is too large",
		"too many states",
		"attach_btf_id",
		"failed to find kernel BTF type",
	};
	for (size_t i = 0; i < sizeof(telling) / sizeof(telling[0]); i++) {
		const char *f = strstr(log, telling[i]);
		if (!f)
			continue;
		if (i > 0)
			while (f > log && f[-1] != '\n')
				f--;
		copy_line(f, why, whylen);
		return;
	}
	/* else the verifier's last words before its statistics */
	const char *end = strstr(log, "-- END PROG LOAD LOG --");
	const char *begin = strstr(log, "-- BEGIN PROG LOAD LOG --");
	if (begin && end && end > begin) {
		const char *best = NULL;
		for (const char *l = strchr(begin, '\n'); l && l + 1 < end;
		     l = strchr(l + 1, '\n')) {
			const char *t = l + 1;
			if (*t == '\n' || !strncmp(t, "processed ", 10) ||
			    !strncmp(t, "verification time", 17) || !strncmp(t, "stack depth", 11))
				continue;
			if (t < end)
				best = t;
		}
		if (best) {
			copy_line(best, why, whylen);
			return;
		}
	}
	/* else libbpf's last warning */
	size_t len = strlen(log);
	while (len && log[len - 1] == '\n')
		len--;
	const char *l = log + len;
	while (l > log && l[-1] != '\n')
		l--;
	copy_line(strncmp(l, "libbpf: ", 8) ? l : l + 8, why, whylen);
}

/* Does this kernel's sched_process_exit tracepoint pass group_dead?  Its
 * BTF prototype (the typedef behind tp_btf) says: (void *, task) before,
 * (void *, task, bool) after. */
static bool exit_has_group_dead(const struct btf *btf)
{
	if (!btf)
		return false;
	bool yes = false;
	int id = btf__find_by_name_kind(btf, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
	if (id > 0) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		t = btf__type_by_id(btf, t->type); /* the pointer */
		if (t && btf_is_ptr(t))
			t = btf__type_by_id(btf, t->type);
		if (t && btf_is_func_proto(t))
			yes = btf_vlen(t) >= 3;
	}
	return yes;
}

/* Does this kernel have the bpf_rdonly_cast kfunc (6.2)? */
static bool have_rdonly_cast(const struct btf *btf)
{
	return btf && btf__find_by_name_kind(btf, "bpf_rdonly_cast", BTF_KIND_FUNC) > 0;
}

/* The helper exists for tracing programs: probed as a raw tracepoint,
 * which shares the tracing helpers (libbpf cannot probe tp_btf itself). */
static bool have_helper(enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, id, NULL) > 0;
}

static void set_feature(struct vg_capture *cap, int f, bool on)
{
	cap->feat[f].name = feature_desc[f].name;
	cap->feat[f].without = feature_desc[f].without;
	cap->feat[f].on = on;
}

/* Choose the program variants the running kernel can load (see the top of
 * bpf/vigil.bpf.c). */
static void choose_variants(struct vg_capture *cap, bool lsm)
{
	struct vigil_bpf *k = cap->skel;
	/* VIGIL_BPF_COMPAT=1 loads the 5.8 variants on any kernel, so that
	 * they are tested on the build machine's kernel too */
	const char *force = getenv("VIGIL_BPF_COMPAT");
	bool compat = force && !strcmp(force, "1");
	set_feature(cap, F_BPF_LOOP, !compat && have_helper(BPF_FUNC_loop));
	set_feature(cap, F_TASK_BTF, !compat && have_helper(BPF_FUNC_get_current_task_btf));
	set_feature(cap, F_TASK_PT_REGS, !compat && have_helper(BPF_FUNC_task_pt_regs));
	/* the kernel's BTF, read once for the probes that look in it */
	struct btf *btf = compat ? NULL : btf__load_vmlinux_btf();
	set_feature(cap, F_EXIT_GROUP_DEAD, !compat && exit_has_group_dead(btf));
	bool modern = cap->feat[F_BPF_LOOP].on && cap->feat[F_TASK_BTF].on &&
		      cap->feat[F_TASK_PT_REGS].on;
	set_feature(cap, F_RDONLY_CAST, modern && have_rdonly_cast(btf));
	btf__free(btf);
	bool cast = cap->feat[F_RDONLY_CAST].on;
	bpf_program__set_autoload(k->progs.vg_sys_exit, modern && !cast);
	bpf_program__set_autoload(k->progs.vg_sys_exit_cast, cast);
	bpf_program__set_autoload(k->progs.vg_exec, modern);
	bpf_program__set_autoload(k->progs.vg_sys_exit_compat, !modern);
	bpf_program__set_autoload(k->progs.vg_exec_compat, !modern);
	bpf_program__set_autoload(k->progs.vg_fork, modern);
	bpf_program__set_autoload(k->progs.vg_fork_compat, !modern);
	bpf_program__set_autoload(k->progs.vg_exit, cap->feat[F_EXIT_GROUP_DEAD].on);
	bpf_program__set_autoload(k->progs.vg_exit_live, !cap->feat[F_EXIT_GROUP_DEAD].on);
	cap->sys_exit = cast	 ? k->progs.vg_sys_exit_cast
			: modern ? k->progs.vg_sys_exit
				 : k->progs.vg_sys_exit_compat;
	bpf_program__set_autoload(k->progs.vg_lsm_file_open, lsm);
	bpf_program__set_autoload(k->progs.vg_lsm_connect, lsm);
	bpf_program__set_autoload(k->progs.vg_lsm_accept, lsm);
	set_feature(cap, F_BPF_LSM, lsm);
}

/* Does the kernel's list of active LSMs name bpf?  1 yes, 0 no (list in
 * out), -1 cannot tell (securityfs not mounted, as in many containers). */
static int lsm_listed(char *out, size_t outlen)
{
	*out = 0;
	FILE *f = fopen("/sys/kernel/security/lsm", "r");
	if (!f)
		return -1;
	char buf[512];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	size_t m = strlen(buf) < outlen - 1 ? strlen(buf) : outlen - 1;
	memcpy(out, buf, m);
	out[m] = 0;
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
		if (!strcmp(tok, "bpf"))
			return 1;
	return 0;
}

/* Can the LSM programs load here?  NULL if they may (whether they run is
 * only known once attached: lsm_runs), else why not, in why. */
static const char *lsm_loadable(char *why, size_t len)
{
	char list[100];
	struct btf *btf = btf__load_vmlinux_btf();
	int id = btf ? btf__find_by_name_kind(btf, "bpf_lsm_file_open", BTF_KIND_FUNC) : -1;
	btf__free(btf);
	if (id <= 0) {
		snprintf(why, len, "the kernel has no BPF LSM hooks (CONFIG_BPF_LSM)");
		return why;
	}
	/* libbpf loads a trivial LSM program: a kernel (or a sandbox's
	 * policy) may refuse BPF trampolines even with the bpf LSM active */
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_LSM, NULL) <= 0) {
		snprintf(why, len,
			 "the kernel refuses to load BPF LSM programs (a trivial one "
			 "fails: trampoline programs not permitted)");
		return why;
	}
	if (lsm_listed(list, sizeof(list)) == 0) {
		snprintf(why, len,
			 "the bpf LSM is not active (/sys/kernel/security/lsm: %s; boot with "
			 "lsm=%s,bpf)",
			 list, list);
		return why;
	}
	return NULL;
}

/* The one sure test that the bpf LSM is active: where it is not, its
 * programs load and attach but never run.  An open by this process must
 * reach lsm/file_open (which counts it before anything else). */
static bool lsm_runs(struct vg_capture *cap, uint32_t self_tgid)
{
	struct vigil_bpf__bss *bss = cap->skel->bss;
	uint64_t before = __atomic_load_n(&bss->vg_lsm_probe_hits, __ATOMIC_SEQ_CST);
	__atomic_store_n(&bss->vg_lsm_probe_tgid, self_tgid, __ATOMIC_SEQ_CST);
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	__atomic_store_n(&bss->vg_lsm_probe_tgid, 0, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&bss->vg_lsm_probe_hits, __ATOMIC_SEQ_CST) != before;
}

static void lsm_detach(struct vigil_bpf *k)
{
	struct bpf_link **l[] = {&k->links.vg_lsm_file_open, &k->links.vg_lsm_connect,
				 &k->links.vg_lsm_accept};
	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		bpf_link__destroy(*l[i]);
		*l[i] = NULL;
	}
}

static void lsm_off(struct vg_capture *cap, const char *why)
{
	set_feature(cap, F_BPF_LSM, false);
	snprintf(cap->lsm_without, sizeof(cap->lsm_without), "%s: %s", why,
		 feature_desc[F_BPF_LSM].without);
	cap->feat[F_BPF_LSM].without = cap->lsm_without;
}

/* Instructions the verifier processed for each loaded program: the
 * kernel's own count where it keeps one (verified_insns, 5.16+), else the
 * "processed N insns" line of the statistics log asked for at load. */
static void record_verifier(struct vg_capture *cap, char **logs)
{
	struct bpf_program *p;
	size_t i = 0;
	bpf_object__for_each_program(p, cap->skel->obj)
	{
		char *log = logs[i++];
		if (!bpf_program__autoload(p) ||
		    cap->nprogs >= sizeof(cap->progs) / sizeof(cap->progs[0]))
			continue;
		struct vg_capture_prog *r = &cap->progs[cap->nprogs++];
		r->name = bpf_program__name(p);
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) &&
		    len > offsetof(struct bpf_prog_info, verified_insns) && info.verified_insns) {
			r->insns = info.verified_insns;
			r->source = "verified_insns";
			continue;
		}
		const char *at = log ? strstr(log, "processed ") : NULL;
		if (at) {
			r->insns = (uint32_t)strtoul(at + 10, NULL, 10);
			r->source = "log";
		} else {
			r->source = "unknown";
		}
	}
}

/* One attempt at loading and attaching, with the LSM programs or not;
 * *lsm_failed set when only they made it fail (loading or attaching). */
static struct vg_capture *open_once(const struct vg_capture_opts *opts, bool lsm,
				    const char *lsm_why, bool *lsm_failed, char *err, size_t errlen)
{
	uint64_t ring = opts->ringbuf_bytes ? opts->ringbuf_bytes : 8u << 20;
	if (ring < 4096 || (ring & (ring - 1))) {
		snprintf(err, errlen, "ring buffer size %llu is not a power of two >= 4096",
			 (unsigned long long)ring);
		return NULL;
	}
	libbpf_set_print(libbpf_print);
	struct utsname u;
	const char *release = uname(&u) ? "?" : u.release;
	/* CO-RE needs the kernel's own BTF: say so plainly rather than let
	 * the first relocation fail */
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen,
			 "kernel %s has no BTF (/sys/kernel/btf/vmlinux: %s); vigil's CO-RE "
			 "programs need a kernel built with CONFIG_DEBUG_INFO_BTF (5.8 or newer)",
			 release, strerror(errno));
		return NULL;
	}
	/* BPF memory is charged to the cgroup on kernels >= 5.11; raising
	 * RLIMIT_MEMLOCK is only a courtesy to older kernels and may fail
	 * without CAP_SYS_RESOURCE. */
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
	setrlimit(RLIMIT_MEMLOCK, &rl);

	struct vg_capture *cap = vg_xcalloc(1, sizeof(*cap));
	snprintf(cap->kernel, sizeof(cap->kernel), "%s", release);
	char *logs[16] = {0};
	struct warn_log *wl = vg_xcalloc(1, sizeof(*wl));
	collecting = wl;
	cap->ncpus = libbpf_num_possible_cpus();
	cap->full = vg_xcalloc(1, VG_REC_MAX);
	cap->skel = vigil_bpf__open();
	if (!cap->skel) {
		snprintf(err, errlen, "opening the BPF object: %s", strerror(errno));
		goto fail;
	}
	if (opts->ignore_self)
		cap->skel->rodata->vg_self_tgid =
			opts->self_tgid ? opts->self_tgid : (uint32_t)getpid();
	/* wake the consumer when about 1/8 of the ring is used (each CPU
	 * counts what it wrote); it also polls */
	uint64_t wake = ring / 8 / (uint64_t)(cap->ncpus > 0 ? cap->ncpus : 1);
	cap->skel->rodata->vg_wakeup_bytes = wake < 4096 ? 4096 : wake;
	int rc = bpf_map__set_max_entries(cap->skel->maps.vg_ring, (uint32_t)ring);
	if (rc) {
		snprintf(err, errlen, "sizing the ring buffer: %s", strerror(-rc));
		goto fail;
	}
	rc = bpf_map__set_max_entries(cap->skel->maps.vg_scratch, (uint32_t)cap->ncpus);
	if (rc) {
		snprintf(err, errlen, "sizing the scratch map: %s", strerror(-rc));
		goto fail;
	}
	choose_variants(cap, lsm);
	if (lsm_why)
		lsm_off(cap, lsm_why);
	/* the verifier's statistics (level 4: no instruction trace), for
	 * the figures of kernels without verified_insns and for the reason
	 * of a failure */
	struct bpf_program *p;
	size_t np = 0;
	bpf_object__for_each_program(p, cap->skel->obj)
	{
		if (np < sizeof(logs) / sizeof(logs[0]) && bpf_program__autoload(p)) {
			logs[np] = vg_xcalloc(1, PROG_LOG_SIZE);
			bpf_program__set_log_buf(p, logs[np], PROG_LOG_SIZE);
			bpf_program__set_log_level(p, 4);
		}
		np++;
	}
	rc = vigil_bpf__load(cap->skel);
	if (rc) {
		char prog[64], why[256];
		vg_capture_explain(wl->buf, prog, sizeof(prog), why, sizeof(why));
		/* libbpf does not always print the verifier's log (not on
		 * E2BIG): the failing program's own log explains better */
		struct bpf_program *failed = bpf_object__find_program_by_name(cap->skel->obj, prog);
		np = 0;
		bpf_object__for_each_program(p, cap->skel->obj)
		{
			if (p == failed && np < sizeof(logs) / sizeof(logs[0]) && logs[np] &&
			    *logs[np]) {
				char *both = vg_xcalloc(1, PROG_LOG_SIZE + sizeof(wl->buf) + 128);
				snprintf(both, PROG_LOG_SIZE + sizeof(wl->buf) + 128,
					 "prog '%s': BPF program load failed\n"
					 "-- BEGIN PROG LOAD LOG --\n%s-- END PROG LOAD LOG --\n%s",
					 prog, logs[np], wl->buf);
				vg_capture_explain(both, prog, sizeof(prog), why, sizeof(why));
				free(both);
			}
			np++;
		}
		snprintf(err, errlen, "loading BPF program %s failed on kernel %s: %s (%s)%s", prog,
			 release, *why ? why : "no reason given", strerror(-rc),
			 rc == -EPERM || rc == -EACCES
				 ? "; vigil needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)"
				 : "");
		*lsm_failed = lsm && !strncmp(prog, "vg_lsm_", 7);
		goto fail;
	}
	record_verifier(cap, logs);
	rc = vigil_bpf__attach(cap->skel);
	if (rc) {
		snprintf(err, errlen, "attaching the BPF programs: %s", strerror(-rc));
		*lsm_failed = lsm;
		goto fail;
	}
	if (lsm && !lsm_runs(cap, opts->self_tgid ? opts->self_tgid : (uint32_t)getpid())) {
		lsm_detach(cap->skel);
		lsm_off(cap, "the bpf LSM is not active (its programs attach but never run; boot "
			     "with bpf in lsm=)");
	}
	cap->rb = ring_buffer__new(bpf_map__fd(cap->skel->maps.vg_ring), on_sample, cap, NULL);
	if (!cap->rb) {
		snprintf(err, errlen, "opening the ring buffer: %s", strerror(errno));
		goto fail;
	}
	collecting = NULL;
	free(wl);
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
		free(logs[i]);
	return cap;
fail:
	collecting = NULL;
	free(wl);
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++)
		free(logs[i]);
	vg_capture_close(cap);
	return NULL;
}

struct vg_capture *vg_capture_open(const struct vg_capture_opts *opts, char *err, size_t errlen)
{
	char why[256];
	const char *lsm_why = NULL;
	if (opts->lsm == VG_CAPTURE_LSM_OFF)
		lsm_why = "off (capture.lsm: off)";
	else
		lsm_why = lsm_loadable(why, sizeof(why));
	bool lsm_failed = false;
	struct vg_capture *cap = open_once(opts, !lsm_why, lsm_why, &lsm_failed, err, errlen);
	if (!cap && lsm_failed && opts->lsm == VG_CAPTURE_LSM_AUTO) {
		/* capture without them rather than not at all */
		snprintf(why, sizeof(why), "%s", err);
		cap = open_once(opts, false, why, &lsm_failed, err, errlen);
	}
	if (cap && opts->lsm == VG_CAPTURE_LSM_ON && !cap->feat[F_BPF_LSM].on) {
		snprintf(err, errlen, "capture.lsm is on, but on kernel %s %s", cap->kernel,
			 cap->lsm_without);
		vg_capture_close(cap);
		return NULL;
	}
	if (!cap && lsm_failed && opts->lsm == VG_CAPTURE_LSM_ON) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, " (capture.lsm: on)");
	}
	return cap;
}

size_t vg_capture_features(const struct vg_capture *cap, const struct vg_capture_feature **out)
{
	*out = cap->feat;
	return F_COUNT;
}

size_t vg_capture_programs(const struct vg_capture *cap, const struct vg_capture_prog **out)
{
	*out = cap->progs;
	return cap->nprogs;
}

void vg_capture_describe(const struct vg_capture *cap, char *buf, size_t len)
{
	size_t at = 0;
	*buf = 0;
	for (int f = 0; f < F_COUNT && at < len; f++) {
		int n = snprintf(buf + at, len - at, "%s%s=%d", f ? " " : "", cap->feat[f].name,
				 cap->feat[f].on);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

const char *vg_capture_kernel(const struct vg_capture *cap)
{
	return cap->kernel;
}

void vg_capture_close(struct vg_capture *cap)
{
	if (!cap)
		return;
	ring_buffer__free(cap->rb);
	vigil_bpf__destroy(cap->skel);
	free(cap->full);
	free(cap);
}

static int write_row(struct vg_capture *cap, uint32_t nr, char *err, size_t errlen)
{
	struct vg_sc_desc row = {0};
	const struct vg_sc_desc *d = vg_syscall_desc((int)nr);
	/* a call the kernel reports as openat comes with openat */
	bool asked = cap->want[nr] || (d && (d->flags & VG_SC_ASOPENAT) && cap->want[VG_NR_openat]);
	if (asked && d) {
		row = *d;
		row.pf = cap->pf[nr];
	}
	/* a zero row (cat 0) is "not interesting" */
	if (bpf_map_update_elem(bpf_map__fd(cap->skel->maps.vg_interest), &nr, &row, BPF_ANY)) {
		snprintf(err, errlen, "updating the interest map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int vg_capture_set_interest(struct vg_capture *cap, const uint8_t want[VG_NR_MAX], char *err,
			    size_t errlen)
{
	memcpy(cap->want, want, VG_NR_MAX);
	for (uint32_t nr = 0; nr < VG_NR_MAX; nr++)
		if (write_row(cap, nr, err, errlen))
			return -1;
	return 0;
}

/* A new vg_pf_sc.gen: never 0, and neither VG_PF_GEN_ANY's bit nor
 * VG_PF_GEN_NARROW's (a slot's predicate for any string has gen ^
 * VG_PF_GEN_ANY, the one without namespaced Rules gen ^ VG_PF_GEN_NARROW). */
static uint32_t next_gen(struct vg_capture *cap)
{
	if (++cap->pf_gen >= VG_PF_GEN_NARROW)
		cap->pf_gen = 1;
	return cap->pf_gen;
}

/* The namespaces' predicates for syscall nr of t, whose whole predicate is
 * at key with gen, into pool: each of t's shared predicates once (at
 * slot[pi], UINT32_MAX: not written yet), an entry of vg_pf_tix per
 * namespace. */
static int write_tpreds(struct vg_capture *cap, const struct vg_pf_table *t, uint32_t nr,
			uint32_t key, uint32_t gen, uint32_t pool, uint32_t *npool, uint32_t *slot,
			uint32_t *slotgen)
{
	int fd = bpf_map__fd(cap->skel->maps.vg_pf), xfd = bpf_map__fd(cap->skel->maps.vg_pf_tix);
	for (uint32_t i = 0; i < t->ntp && i < VG_PF_TREFS; i++) {
		const struct vg_pf_tpred *tp = &t->tp[i];
		if (tp->nr != nr || tp->pi >= t->ntsc)
			continue;
		if (cap->ntix[pool] >= VG_PF_TREFS)
			return -ENOSPC; /* a table holds no more */
		if (slot[tp->pi] == UINT32_MAX) {
			if (*npool >= VG_PF_TPREDS)
				return -ENOSPC;
			struct vg_pf_sc sc = t->tsc[tp->pi];
			sc.gen = next_gen(cap);
			uint32_t idx = pool * VG_PF_TPREDS + (*npool)++;
			uint32_t mkey = 6 * VG_NR_MAX + idx;
			/* the predicate before the entries that name it */
			if (bpf_map_update_elem(fd, &mkey, &sc, BPF_ANY))
				return -errno;
			slot[tp->pi] = idx;
			slotgen[tp->pi] = sc.gen;
		}
		struct vg_pf_tk tk;
		memset(&tk, 0, sizeof(tk));
		tk.h = tp->h;
		tk.key = key;
		tk.gen = gen;
		struct vg_pf_tv tv = {.idx = slot[tp->pi], .gen = slotgen[tp->pi]};
		if (bpf_map_update_elem(xfd, &tk, &tv, BPF_ANY))
			return -errno;
		cap->tix[pool][cap->ntix[pool]++] = tk;
	}
	return 0;
}

int vg_capture_set_prefilter(struct vg_capture *cap, const struct vg_pf_table *t, char *err,
			     size_t errlen)
{
	int fd = bpf_map__fd(cap->skel->maps.vg_pf);
	/* the namespaces' predicates go to the pool the last write did not
	 * use: the live slots name its entries.  The entries of the write
	 * before it (found only with the gens of predicates no slot is live
	 * with any longer) go first */
	uint32_t pool = cap->tpool ^= 1;
	int xfd = bpf_map__fd(cap->skel->maps.vg_pf_tix);
	for (uint32_t i = 0; i < cap->ntix[pool]; i++)
		(void)bpf_map_delete_elem(xfd, &cap->tix[pool][i]);
	cap->ntix[pool] = 0;
	uint32_t npool = 0, slot[VG_PF_TPREDS], slotgen[VG_PF_TPREDS];
	memset(slot, 0xff, sizeof(slot));
	for (uint32_t nr = 0; nr < VG_NR_MAX; nr++) {
		uint8_t pf = 0;
		if (t && t->on[nr]) {
			/* the slot the kernel does not read */
			pf = cap->pf[nr] == 1 ? 2 : 1;
			uint32_t key = (pf == 2 ? VG_NR_MAX : 0) + nr;
			struct vg_pf_sc sc = t->sc[nr];
			sc.gen = next_gen(cap); /* a new predicate: no cached verdict is its */
			/* its predicates for any string naming a file, without
			 * namespaced Rules and of each namespace with some, first:
			 * the kernel reads them only for a live slot */
			uint32_t akey = 2 * VG_NR_MAX + key, nkey = 4 * VG_NR_MAX + key;
			struct vg_pf_sc any = t->any[nr], narrow = t->narrow[nr];
			any.gen = sc.gen ^ VG_PF_GEN_ANY;
			narrow.gen = sc.gen ^ VG_PF_GEN_NARROW;
			int rc = sc.nsplit ? write_tpreds(cap, t, nr, key, sc.gen, pool, &npool,
							  slot, slotgen)
					   : 0;
			if (rc) {
				snprintf(err, errlen, "updating the namespaces' prefilter maps: %s",
					 strerror(-rc));
				return -1;
			}
			if (bpf_map_update_elem(fd, &akey, &any, BPF_ANY) ||
			    bpf_map_update_elem(fd, &nkey, &narrow, BPF_ANY) ||
			    bpf_map_update_elem(fd, &key, &sc, BPF_ANY)) {
				snprintf(err, errlen, "updating the prefilter map: %s",
					 strerror(errno));
				return -1;
			}
		}
		if (pf == cap->pf[nr] && !pf)
			continue;
		cap->pf[nr] = pf;
		if (write_row(cap, nr, err, errlen))
			return -1;
	}
	return 0;
}

int vg_capture_pf_narrow_add(struct vg_capture *cap, uint64_t cgid, uint64_t ns)
{
	if (bpf_map_update_elem(bpf_map__fd(cap->skel->maps.vg_pf_ncg), &cgid, &ns, BPF_ANY))
		return -errno;
	return 0;
}

int vg_capture_pf_narrow_del(struct vg_capture *cap, uint64_t cgid)
{
	if (bpf_map_delete_elem(bpf_map__fd(cap->skel->maps.vg_pf_ncg), &cgid))
		return -errno;
	return 0;
}

int vg_capture_pf_narrow_clear(struct vg_capture *cap)
{
	int fd = bpf_map__fd(cap->skel->maps.vg_pf_ncg);
	uint64_t key, next;
	/* from the first key each time: a deleted key cannot be the cursor */
	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		key = next;
		if (bpf_map_delete_elem(fd, &key) && errno != ENOENT)
			return -errno;
	}
	return errno == ENOENT ? 0 : -errno;
}

void vg_capture_pf_scanned(struct vg_capture *cap)
{
	__atomic_store_n(&cap->skel->bss->vg_pf_scanned, 1, __ATOMIC_SEQ_CST);
}

int vg_capture_poll(struct vg_capture *cap, int timeout_ms, vg_capture_cb cb, void *ctx)
{
	cap->cb = cb;
	cap->cb_ctx = ctx;
	cap->stop = 0;
	cap->handed = 0;
	int n = ring_buffer__poll(cap->rb, timeout_ms);
	if (n == -EINTR)
		return -EINTR;
	if (n < 0 && cap->stop)
		return cap->handed; /* the callback asked to stop */
	if (n < 0)
		return n;
	/* the kernel side wakes us only in batches: take what is waiting
	 * without a notification too */
	int m = ring_buffer__consume(cap->rb);
	if (m < 0 && !cap->stop)
		return m;
	return cap->handed;
}

int vg_capture_stats(struct vg_capture *cap, struct vg_stats *out)
{
	memset(out, 0, sizeof(*out));
	struct vg_stats *per = vg_xcalloc((size_t)cap->ncpus, sizeof(*per));
	uint32_t zero = 0;
	int rc = bpf_map_lookup_elem(bpf_map__fd(cap->skel->maps.vg_stats_map), &zero, per);
	if (!rc) {
		for (int c = 0; c < cap->ncpus; c++)
			for (int i = 0; i < VG_CAT_MAX; i++) {
				out->seen[i] += per[c].seen[i];
				out->dropped[i] += per[c].dropped[i];
			}
		for (int c = 0; c < cap->ncpus; c++)
			for (int t = 0; t < VG_NR_MAX + 4; t++)
				out->by_type[t] += per[c].by_type[t];
		for (int c = 0; c < cap->ncpus; c++)
			for (int t = 0; t < VG_NR_MAX; t++)
				out->filtered[t] += per[c].filtered[t];
	}
	free(per);
	return rc ? -errno : 0;
}

int vg_capture_prog_runtime(struct vg_capture *cap, uint64_t *run_ns, uint64_t *runs)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(cap->sys_exit), &info, &len))
		return -errno;
	*run_ns = info.run_time_ns;
	*runs = info.run_cnt;
	return 0;
}

int vg_capture_lsm_runtime(struct vg_capture *cap, uint64_t *run_ns, uint64_t *runs)
{
	if (!cap->skel->links.vg_lsm_file_open)
		return -ENOENT;
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(cap->skel->progs.vg_lsm_file_open), &info, &len))
		return -errno;
	*run_ns = info.run_time_ns;
	*runs = info.run_cnt;
	return 0;
}

int vg_capture_fd(struct vg_capture *cap)
{
	return ring_buffer__epoll_fd(cap->rb);
}
