/* pfnsdrv - the kernel's predicates per namespace (docs/prefilter.md,
 * "Namespaced Rules"), on the running kernel, without a cluster.
 *
 *   pfnsdrv CGROUP2_ROOT DIR
 *
 * Builds an engine of a cluster rule and the Rules of three namespaces
 * (about opens of files under DIR: team-a's and team-c's the same, shared
 * in the kernel, team-b's others), writes its prefilter into the
 * real BPF maps through the capture, makes cgroups under CGROUP2_ROOT and
 * places them as the agent does (vg_capture_pf_narrow_add: the host's, a
 * pod's of team-a, of a namespace without Rules; one not placed).  A child
 * in each cgroup opens each file N times; the records the kernel sent for
 * that child are counted.  What the Kubernetes side (pod metadata) would
 * decide is given here: it is the boundary this driver fakes, the kernel
 * and the engine are real.  Prints one line per case and "pfnsdrv: ok",
 * exit 0; any case off: "pfnsdrv: FAIL ...", exit 1; 2: could not run.
 * The kernel matrix (tests/kernels/init) and tests/live/test_prefilter.py
 * run it. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "engine.h"
#include "pfeval.h"
#include "rules.h"
#include "sysreg.h"

#define N 200

struct count {
	pid_t pid;
	unsigned sent;
};

static int on_record(void *ctx, const struct vg_rec *r, size_t size)
{
	struct count *c = ctx;
	(void)size;
	if (r->h.kind == VG_K_SYSCALL && r->h.pid == (uint32_t)c->pid && r->h.ret >= 0 &&
	    (r->h.nr == VG_NR_openat || r->h.nr == VG_NR_open))
		c->sent++;
	return 0;
}

static void drain(struct vg_capture *cap, struct count *c)
{
	for (int i = 0; i < 20; i++)
		vg_capture_poll(cap, 10, on_record, c);
}

/* Opens of path by a child in cgroup dir cg, N times: how many the kernel
 * sent; -1 when the child failed. */
static int opens_in(struct vg_capture *cap, const char *cg, const char *path)
{
	struct count c = {0};
	drain(cap, &c); /* what came before */
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char procs[512];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
		int fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(3);
		close(fd);
		for (int i = 0; i < N; i++) {
			int f = open(path, O_RDONLY);
			if (f < 0)
				_exit(4);
			close(f);
		}
		_exit(0);
	}
	c.pid = pid;
	int st = 0;
	waitpid(pid, &st, 0);
	drain(cap, &c);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return (int)c.sent;
}

/* t into the kernel's maps; exit 2 when it cannot be. */
static void write_table(struct vg_capture *cap, const struct vg_pf_table *t)
{
	char err[512];
	if (vg_capture_set_prefilter(cap, t, err, sizeof(err))) {
		fprintf(stderr, "pfnsdrv: %s\n", err);
		exit(2);
	}
}

static uint64_t cgroup_id(const char *dir)
{
	struct stat st;
	return stat(dir, &st) ? 0 : (uint64_t)st.st_ino;
}

static int failures;

static void expect(struct vg_capture *cap, const char *what, const char *cg, const char *path,
		   int want)
{
	int got = opens_in(cap, cg, path);
	/* all, or none: a few more (a record of the moving child's own
	 * opens) would not be a filter's */
	bool ok = want ? got >= N : got == 0;
	printf("pfnsdrv: %-48s %s: sent %d of %d (want %s)\n", what, strrchr(path, '/') + 1, got, N,
	       want ? "all" : "none");
	if (!ok) {
		printf("pfnsdrv: FAIL %s\n", what);
		failures++;
	}
}

/* The cluster's rule (c-) and the Rules of team-b (b-), team-a (a-) and
 * team-c (the same as team-a's: the kernel's predicate is shared);
 * with_a: team-a's and team-c's too. */
static struct vg_engine *build(const char *dir, bool with_a, struct vg_ruleset *rs[4])
{
	char text[4][512];
	const char *who[4] = {"c", "a", "b", "a"};
	struct vg_diag d;
	memset(&d, 0, sizeof(d));
	for (int i = 0; i < 4; i++) {
		snprintf(text[i], sizeof(text[i]),
			 "- rule: opens of %s\n  desc: d\n  condition: evt.type in (open, openat) "
			 "and fd.name startswith %s/%s-\n  output: o\n  priority: WARNING\n",
			 who[i], dir, who[i]);
		rs[i] = vg_ruleset_new();
		vg_ruleset_add_text(rs[i], who[i], text[i], strlen(text[i]), &d);
	}
	struct vg_engine_src src[4] = {{.rs = rs[0]},
				       {.rs = rs[2], .confined = true, .tenant = "team-b"},
				       {.rs = rs[1], .confined = true, .tenant = "team-a"},
				       {.rs = rs[3], .confined = true, .tenant = "team-c"}};
	struct vg_engine *e = vg_engine_build_multi(src, with_a ? 4 : 2, NULL, &d);
	if (d.errors) {
		vg_engine_free(e);
		e = NULL;
	}
	vg_diag_free(&d);
	return e;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: pfnsdrv CGROUP2_ROOT DIR\n");
		return 2;
	}
	const char *root = argv[1], *dir = argv[2];
	char path[3][512], cg[5][512];
	const char *who[3] = {"c", "a", "b"};
	for (int i = 0; i < 3; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/%s-file", dir, who[i]);
		int fd = open(path[i], O_CREAT | O_WRONLY, 0644);
		if (fd < 0) {
			perror(path[i]);
			return 2;
		}
		close(fd);
	}
	const char *cgn[5] = {"host", "team-a", "team-z", "unplaced", "team-c"};
	for (int i = 0; i < 5; i++) {
		snprintf(cg[i], sizeof(cg[i]), "%s/pfns-%d-%s", root, (int)getpid(), cgn[i]);
		if (mkdir(cg[i], 0755) && errno != EEXIST) {
			perror(cg[i]);
			return 2;
		}
	}
	struct vg_ruleset *rs[4], *rs2[4];
	struct vg_engine *e = build(dir, true, rs), *e2 = build(dir, false, rs2);
	struct vg_pf_table *t = calloc(1, sizeof(*t)), *t2 = calloc(1, sizeof(*t2));
	char err[512];
	struct vg_capture_opts o = {.ringbuf_bytes = 8u << 20, .ignore_self = true};
	struct vg_capture *cap = e && e2 && t && t2 ? vg_capture_open(&o, err, sizeof(err)) : NULL;
	if (!cap) {
		fprintf(stderr, "pfnsdrv: %s\n", e && e2 ? err : "the rules do not build");
		return 2;
	}
	vg_engine_prefilter(e, t);
	vg_engine_prefilter(e2, t2);
	uint8_t want[VG_NR_MAX];
	vg_engine_interest(e, want);
	if (!t->sc[VG_NR_openat].nsplit ||
	    !vg_pf_tpred_of(t, vg_pf_ns_hash("team-a"), VG_NR_openat)) {
		fprintf(stderr, "pfnsdrv: no predicate of team-a's\n");
		return 2;
	}
	if (vg_capture_set_interest(cap, want, err, sizeof(err)) ||
	    vg_capture_set_prefilter(cap, t, err, sizeof(err))) {
		fprintf(stderr, "pfnsdrv: %s\n", err);
		return 2;
	}
	uint64_t id[5];
	for (int i = 0; i < 5; i++)
		id[i] = cgroup_id(cg[i]);
	vg_capture_pf_narrow_add(cap, id[0], 0);
	vg_capture_pf_narrow_add(cap, id[1], vg_pf_ns_hash("team-a"));
	vg_capture_pf_narrow_add(cap, id[2], vg_pf_ns_hash("team-z"));
	vg_capture_pf_narrow_add(cap, id[4], vg_pf_ns_hash("team-c"));
	/* team-a's pod: its own Rule's file and the cluster's, not team-b's */
	expect(cap, "a pod of team-a", cg[1], path[1], 1);
	expect(cap, "a pod of team-a", cg[1], path[0], 1);
	expect(cap, "a pod of team-a", cg[1], path[2], 0);
	/* team-c's Rule is team-a's: one predicate in the kernel for both */
	expect(cap, "a pod of team-c (team-a's predicate)", cg[4], path[1], 1);
	expect(cap, "a pod of team-c (team-a's predicate)", cg[4], path[2], 0);
	/* the host and a namespace without Rules: the cluster's only */
	expect(cap, "the host", cg[0], path[0], 1);
	expect(cap, "the host", cg[0], path[1], 0);
	expect(cap, "the host", cg[0], path[2], 0);
	expect(cap, "a pod of team-z (no Rules)", cg[2], path[1], 0);
	expect(cap, "a pod of team-z (no Rules)", cg[2], path[0], 1);
	/* a cgroup the agent has not placed: every rule's */
	expect(cap, "a cgroup not placed", cg[3], path[1], 1);
	expect(cap, "a cgroup not placed", cg[3], path[2], 1);
	/* written again, twice: the other pool, then this one again over the
	 * entries the live slots no longer name */
	for (int w = 0; w < 2; w++)
		write_table(cap, t);
	expect(cap, "a pod of team-a, table written twice more", cg[1], path[1], 1);
	expect(cap, "a pod of team-a, table written twice more", cg[1], path[2], 0);
	/* team-a's Rules go: its pods get the cluster's predicate; team-b's
	 * file stays filtered for them */
	write_table(cap, t2);
	expect(cap, "a pod of team-a, without its Rules", cg[1], path[2], 0);
	expect(cap, "a pod of team-a, without its Rules", cg[1], path[0], 1);
	/* a reload from there back to both, widened as reload.c does before
	 * the swap: team-a's Rule holds for its pod from the widened table on */
	struct vg_pf_table *w = malloc(sizeof(*w));
	memcpy(w, t2, sizeof(*w));
	vg_pf_table_widen(w, t);
	write_table(cap, w);
	expect(cap, "a pod of team-a, widened table", cg[1], path[1], 1);
	expect(cap, "a pod of team-a, widened table", cg[1], path[2], 0);
	/* more namespaces than predicates (narrow's tover): a pod of a
	 * namespace left without one of its own gets the whole predicate, the
	 * host keeps the cluster's */
	memcpy(w, t, sizeof(*w));
	w->ntp = 0;
	for (int nr = 0; nr < VG_NR_MAX; nr++)
		w->narrow[nr].tover = w->sc[nr].nsplit;
	write_table(cap, w);
	expect(cap, "a pod of team-a, no predicate of its own", cg[1], path[2], 1);
	expect(cap, "a pod of team-z, no predicate of its own", cg[2], path[2], 1);
	expect(cap, "the host, namespaces without predicates", cg[0], path[2], 0);
	vg_capture_close(cap);
	for (int i = 0; i < 5; i++)
		rmdir(cg[i]);
	for (int i = 0; i < 3; i++)
		unlink(path[i]);
	for (int i = 0; i < 4; i++) {
		vg_ruleset_free(rs[i]);
		vg_ruleset_free(rs2[i]);
	}
	vg_engine_free(e);
	vg_engine_free(e2);
	free(t);
	free(t2);
	free(w);
	if (failures) {
		printf("pfnsdrv: FAIL %d cases\n", failures);
		return 1;
	}
	printf("pfnsdrv: ok\n");
	return 0;
}
