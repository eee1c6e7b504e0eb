/* bench/capture.c - what capture costs a syscall-heavy workload.
 *
 * One thread pinned to CPU 0 runs a loop (getppid, or open+close of a
 * file) for a fixed time under three set-ups measured in the same run:
 *   none    nothing attached
 *   floor   bpf/floor.bpf.c: a tp_btf/sys_exit program that only counts
 *   vigil   vigil's capture with the 41 syscalls the official Falco rules
 *           use (plus close, which the state needs) interesting, a
 *           consumer thread on CPU 1 draining the ring and decoding every
 *           record into the process/fd state
 * and prints ops/s and the ratios.  Machines here are shared: only the
 * ratios within one run mean something.  After the timed loops of the
 * vigil set-up, one more second of open+close runs with the kernel's BPF
 * run-time statistics on (they cost a clock read per program run, so the
 * ratios are measured without them) and the median nanoseconds vigil's
 * sys_exit program takes per syscall are printed: a figure other load
 * barely moves, to compare kernel-side changes.  First, the instructions
 * the verifier processed for each of vigil's programs.  Root only.
 *
 * With --lsm, only the open+close loop, under vigil's capture with
 * capture.lsm off and on, alternating (off,on then on,off, ...): what the
 * lsm/file_open program, which runs inside every open and stays silent
 * for an ordinary one, adds.  The kernel matrix runs it in a guest with
 * the bpf LSM (tests/kernels/init): the ratio is the figure there.
 *
 * usage: bench_capture [--lsm] [SECONDS_PER_RUN] [RUNS]
 *        bench_capture hold-floor   attach the floor program, print "ready",
 *                                   detach when stdin closes (bench/prefilter.py)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "capture.h"
#include "event.h"
#include "floor.skel.h"
#include "state.h"

static const char *const rule_syscalls[] = {
	"accept",      "accept4",   "bpf",     "chmod",	   "connect", "creat",	     "dup",
	"dup2",	       "dup3",	    "execve",  "execveat", "fchmod",  "fchmodat",    "finit_module",
	"init_module", "link",	    "linkat",  "listen",   "mkdir",   "mkdirat",     "open",
	"openat",      "openat2",   "ptrace",  "recvfrom", "recvmsg", "rename",	     "renameat",
	"renameat2",   "rmdir",	    "sendmsg", "sendto",   "setns",   "setuid",	     "socket",
	"symlink",     "symlinkat", "unlink",  "unlinkat", "unshare", "userfaultfd", "close",
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* Instructions the verifier processed per loaded program on this kernel
 * (the figure the kernel matrix prints for each guest, tests/kernels). */
static void print_verifier(struct vg_capture *cap)
{
	const struct vg_capture_prog *p;
	size_t n = vg_capture_programs(cap, &p);
	char desc[256];
	vg_capture_describe(cap, desc, sizeof(desc));
	printf("kernel %s, capture features: %s\n", vg_capture_kernel(cap), desc);
	for (size_t i = 0; i < n; i++)
		printf("verifier: %-20s %8u insns processed (%s)\n", p[i].name, p[i].insns,
		       p[i].source);
}

enum loop_kind { L_GETPPID, L_OPENCLOSE };

/* ops per second of one loop run for `secs` */
static double run_loop(enum loop_kind k, double secs, const char *path)
{
	pin(0);
	unsigned long ops = 0;
	double end = now() + secs, t0 = now();
	while (1) {
		for (int i = 0; i < 1000; i++) {
			if (k == L_GETPPID) {
				getppid();
			} else {
				int fd = open(path, O_RDONLY);
				if (fd >= 0)
					close(fd);
			}
		}
		ops += 1000;
		if (now() >= end)
			break;
	}
	return ops / (now() - t0);
}

struct consumer {
	struct vg_capture *cap;
	struct vg_state *st;
	struct vg_event *ev;
	atomic_int stop;
	unsigned long records;
};

static int on_record(void *ctx, const struct vg_rec *raw, size_t size)
{
	struct consumer *c = ctx;
	vg_state_apply(c->st, raw, size, c->ev);
	c->records++;
	return 0;
}

static void *consume(void *arg)
{
	struct consumer *c = arg;
	pin(1);
	while (!atomic_load(&c->stop))
		vg_capture_poll(c->cap, 50, on_record, c);
	vg_capture_poll(c->cap, 0, on_record, c);
	return NULL;
}

/* ns per run of the sys_exit program over 1 s of open+close; -1 if the
 * kernel has no run-time statistics */
static double prog_cost(struct vg_capture *cap, const char *path)
{
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		return -1;
	uint64_t ns0, n0, ns1, n1;
	double cost = -1;
	if (!vg_capture_prog_runtime(cap, &ns0, &n0)) {
		run_loop(L_OPENCLOSE, 1, path);
		if (!vg_capture_prog_runtime(cap, &ns1, &n1) && n1 > n0)
			cost = (double)(ns1 - ns0) / (double)(n1 - n0);
	}
	close(fd);
	return cost;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* vigil's capture with the rules' syscalls interesting and a consumer
 * thread decoding every record; -1 (message printed) on failure */
static int vigil_start(struct consumer *c, pthread_t *th, enum vg_capture_lsm lsm, bool verifier)
{
	char err[512];
	struct vg_capture_opts o = {.ringbuf_bytes = 8u << 20, .ignore_self = false, .lsm = lsm};
	c->cap = vg_capture_open(&o, err, sizeof(err));
	if (!c->cap) {
		fprintf(stderr, "capture: %s\n", err);
		return -1;
	}
	if (verifier) /* the verifier's budget, once */
		print_verifier(c->cap);
	uint8_t want[VG_NR_MAX] = {0};
	for (size_t i = 0; i < sizeof(rule_syscalls) / sizeof(*rule_syscalls); i++)
		want[vg_evtype_by_name(rule_syscalls[i])] = 1;
	if (vg_capture_set_interest(c->cap, want, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		vg_capture_close(c->cap);
		return -1;
	}
	struct vg_state_opts so = {0};
	c->st = vg_state_new(&so);
	c->ev = calloc(1, sizeof(*c->ev));
	pthread_create(th, NULL, consume, c);
	return 0;
}

/* stops the consumer and closes the capture; adds its counts */
static void vigil_stop(struct consumer *c, pthread_t th, unsigned long *records,
		       unsigned long *dropped)
{
	atomic_store(&c->stop, 1);
	pthread_join(th, NULL);
	struct vg_stats st;
	vg_capture_stats(c->cap, &st);
	for (int i = 0; i < VG_CAT_MAX; i++)
		*dropped += st.dropped[i];
	*records += c->records;
	vg_capture_close(c->cap);
	vg_state_free(c->st);
	free(c->ev);
}

/* --lsm: open+close under capture.lsm off and on, in alternating order */
static int bench_lsm(double secs, int runs, const char *path)
{
	double res[2][15], ratio[15];
	unsigned long records = 0, dropped = 0;
	for (int r = 0; r < runs; r++) {
		for (int i = 0; i < 2; i++) {
			int on = r % 2 ? 1 - i : i;
			struct consumer c = {0};
			pthread_t th;
			if (vigil_start(&c, &th, on ? VG_CAPTURE_LSM_ON : VG_CAPTURE_LSM_OFF,
					r == 0 && on))
				return 1;
			res[on][r] = run_loop(L_OPENCLOSE, secs, path);
			vigil_stop(&c, th, &records, &dropped);
		}
		ratio[r] = res[1][r] / res[0][r];
	}
	printf("lsm benchmark: %d rounds x %.1f s per set-up (alternating), open+close ops/s\n",
	       runs, secs);
	printf("lsm rounds on/off:");
	for (int r = 0; r < runs; r++)
		printf(" %.3f", ratio[r]);
	printf("\n");
	qsort(res[0], (size_t)runs, sizeof(double), cmp_d);
	qsort(res[1], (size_t)runs, sizeof(double), cmp_d);
	qsort(ratio, (size_t)runs, sizeof(double), cmp_d);
	printf("lsm off %.0f, lsm on %.0f (medians); on/off ratio %.3f (median of rounds, "
	       "%.3f-%.3f): the file_open hook costs %.1f%% of an open+close\n",
	       res[0][runs / 2], res[1][runs / 2], ratio[runs / 2], ratio[0], ratio[runs - 1],
	       100.0 * (1 - ratio[runs / 2]));
	printf("vigil consumed %lu records, %lu dropped by the kernel ring\n", records, dropped);
	return 0;
}

static int hold_floor(void)
{
	struct floor_bpf *fl = floor_bpf__open_and_load();
	if (!fl || floor_bpf__attach(fl)) {
		fprintf(stderr, "floor program: %s\n", strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	char b[64];
	while (read(0, b, sizeof(b)) > 0)
		;
	floor_bpf__destroy(fl);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "hold-floor"))
		return hold_floor();
	bool lsm = argc > 1 && !strcmp(argv[1], "--lsm");
	if (lsm) {
		argv++;
		argc--;
	}
	double secs = argc > 1 ? atof(argv[1]) : 3;
	int runs = argc > 2 ? atoi(argv[2]) : 3;
	if (runs < 1 || runs > 15 || secs <= 0) {
		fprintf(stderr, "usage: bench_capture [--lsm] [SECONDS_PER_RUN] [RUNS<=15]\n");
		return 2;
	}
	char path[] = "/tmp/vigil-bench-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 1;
	}
	close(fd);
	if (lsm) {
		int rc = bench_lsm(secs, runs, path);
		unlink(path);
		return rc;
	}

	const char *loops[] = {"getppid", "open+close"};
	double res[3][2][15], prog_ns[15];
	unsigned long dropped = 0, records = 0;

	for (int r = 0; r < runs; r++) {
		for (int s = 0; s < 3; s++) {
			struct floor_bpf *fl = NULL;
			struct consumer c = {0};
			pthread_t th;
			if (s == 1) {
				fl = floor_bpf__open_and_load();
				if (!fl || floor_bpf__attach(fl)) {
					fprintf(stderr, "floor program: %s\n", strerror(errno));
					return 1;
				}
			} else if (s == 2 && vigil_start(&c, &th, VG_CAPTURE_LSM_AUTO, r == 0)) {
				return 1;
			}
			for (int l = 0; l < 2; l++)
				res[s][l][r] = run_loop((enum loop_kind)l, secs, path);
			if (c.cap)
				prog_ns[r] = prog_cost(c.cap, path);
			if (fl)
				floor_bpf__destroy(fl);
			if (c.cap)
				vigil_stop(&c, th, &records, &dropped);
		}
	}
	unlink(path);

	printf("capture benchmark: %d runs x %.1f s per loop, median ops/s\n", runs, secs);
	printf("%-12s %14s %14s %14s %10s %10s\n", "loop", "none", "floor", "vigil", "floor/none",
	       "vigil/floor");
	for (int l = 0; l < 2; l++) {
		double med[3];
		for (int s = 0; s < 3; s++) {
			qsort(res[s][l], (size_t)runs, sizeof(double), cmp_d);
			med[s] = res[s][l][runs / 2];
		}
		printf("%-12s %14.0f %14.0f %14.0f %10.3f %10.3f   (vigil overhead vs none: "
		       "%.1f%%)\n",
		       loops[l], med[0], med[1], med[2], med[1] / med[0], med[2] / med[1],
		       100.0 * (1 - med[2] / med[0]));
	}
	qsort(prog_ns, (size_t)runs, sizeof(double), cmp_d);
	printf("vigil sys_exit program: %.0f ns per syscall on open+close (median; runs "
	       "%.0f-%.0f)\n",
	       prog_ns[runs / 2], prog_ns[0], prog_ns[runs - 1]);
	printf("vigil consumed %lu records, %lu dropped by the kernel ring\n", records, dropped);
	return 0;
}
