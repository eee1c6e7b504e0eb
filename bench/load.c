/* bench/load.c - workloads for the agent-level benchmarks (bench/load.py).
 *
 * It only makes system calls and processes; the agent under test is a
 * separate `vigil run` that bench/load.py starts and reads.  Modes:
 *
 *   bench_load rate EVENTS_PER_S SECONDS DIR [MATCH_PER_S [THREADS]]
 *       A steady stream of captured syscalls: open+close of DIR/plain (two
 *       events each) paced to EVENTS_PER_S for SECONDS, shared by THREADS
 *       threads (default 1: one thread reaches ~1.4M/s here).  MATCH_PER_S times
 *       a second (default 10) the open is of DIR/.ssh/id_bench instead,
 *       read by a program that is no ssh tool: the default rule "Sensitive
 *       file read by an untrusted program" fires.  Pacing: the loop runs
 *       the ops due by the clock, in batches of at most 64, and sleeps
 *       when it is ahead, so the stream is even at 100 us granularity.
 *       Prints one line: target=, achieved=, events=, matches=, seconds=,
 *       lag_max_ms= (the most a loop was behind its schedule), threads=.
 *
 *   bench_load procs N
 *       N children that exec /bin/sleep (the agent sees fork and exec) and
 *       live until this process ends: prints "ready N" once all run, then
 *       waits for its stdin to close (or SIGTERM), kills and reaps them.
 *       Each child has PR_SET_PDEATHSIG, so none outlives a killed parent.
 *
 *   bench_load alert N INTERVAL_MS DIR
 *       N alerting syscalls INTERVAL_MS apart: opens DIR/.ssh/id_bench_I
 *       (made beforehand) for reading, I = 0..N-1, and prints "alert I NS"
 *       per open, NS the wall clock (CLOCK_REALTIME) just before it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_load: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void make_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path);
	if (write(fd, "x\n", 2) != 2)
		die(path);
	close(fd);
}

static void make_ssh_dir(const char *dir, char *out, size_t len)
{
	snprintf(out, len, "%s/.ssh", dir);
	if (mkdir(out, 0700) && errno != EEXIST)
		die(out);
}

/* one pacing thread of mode rate: its share of the ops, at its share of the rate */
struct pacer {
	const char *plain, *key;
	double op_rate;
	uint64_t every; /* every Nth op opens the key; 0 = never */
	uint64_t t0, end;
	uint64_t done, matches, lag_max;
	pthread_t th;
};

static void *pace(void *arg)
{
	struct pacer *p = arg;
	uint64_t now;
	while ((now = clock_ns(CLOCK_MONOTONIC)) < p->end) {
		uint64_t due = (uint64_t)((double)(now - p->t0) / 1e9 * p->op_rate);
		if (p->done >= due) {
			/* ahead: sleep until the next op is due (at most 100 us) */
			uint64_t next =
				p->t0 + (uint64_t)((double)(p->done + 1) / p->op_rate * 1e9);
			uint64_t wait = next > now ? next - now : 0;
			if (wait > 100000)
				wait = 100000;
			struct timespec ts = {0, (long)wait};
			nanosleep(&ts, NULL);
			continue;
		}
		uint64_t behind_ns = (uint64_t)((double)(due - p->done) / p->op_rate * 1e9);
		if (behind_ns > p->lag_max)
			p->lag_max = behind_ns;
		uint64_t n = due - p->done > 64 ? 64 : due - p->done;
		for (uint64_t i = 0; i < n; i++) {
			const char *path = p->plain;
			if (p->every && (p->done + i) % p->every == p->every - 1) {
				path = p->key;
				p->matches++;
			}
			int fd = open(path, O_RDONLY);
			if (fd >= 0)
				close(fd);
		}
		p->done += n;
	}
	return NULL;
}

static int mode_rate(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: bench_load rate EVENTS_PER_S SECONDS DIR [MATCH_PER_S "
				"[THREADS]]\n");
		return 2;
	}
	double rate = atof(argv[2]), secs = atof(argv[3]);
	const char *dir = argv[4];
	double match_rate = argc > 5 ? atof(argv[5]) : 10;
	int threads = argc > 6 ? atoi(argv[6]) : 1;
	if (rate <= 0 || secs <= 0 || threads < 1 || threads > 64) {
		fprintf(stderr, "bench_load: rate and seconds must be > 0, threads 1..64\n");
		return 2;
	}
	char plain[4096], ssh[4096], key[4200];
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	make_file(plain);
	make_ssh_dir(dir, ssh, sizeof(ssh));
	snprintf(key, sizeof(key), "%s/id_bench", ssh);
	make_file(key);

	/* one op = open + close = two captured events; the matching opens
	 * are all on the first thread */
	struct pacer p[64];
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC), end = t0 + (uint64_t)(secs * 1e9);
	for (int i = 0; i < threads; i++) {
		p[i] = (struct pacer){.plain = plain,
				      .key = key,
				      .op_rate = rate / 2 / threads,
				      .t0 = t0,
				      .end = end};
		if (i == 0 && match_rate > 0) {
			p[i].every = (uint64_t)(p[i].op_rate / match_rate);
			if (p[i].every == 0)
				p[i].every = 1;
		}
		if (pthread_create(&p[i].th, NULL, pace, &p[i])) {
			fprintf(stderr, "bench_load: pthread_create failed\n");
			return 1;
		}
	}
	uint64_t done = 0, matches = 0, lag_max = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(p[i].th, NULL);
		done += p[i].done;
		matches += p[i].matches;
		if (p[i].lag_max > lag_max)
			lag_max = p[i].lag_max;
	}
	double took = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
	printf("target=%.0f achieved=%.0f events=%llu matches=%llu seconds=%.3f "
	       "lag_max_ms=%.1f threads=%d\n",
	       rate, (double)done * 2 / took, (unsigned long long)done * 2,
	       (unsigned long long)matches, took, (double)lag_max / 1e6, threads);
	return 0;
}

static volatile sig_atomic_t stop_flag;

static void on_term(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int mode_procs(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_load procs N\n");
		return 2;
	}
	long n = atol(argv[2]);
	if (n <= 0) {
		fprintf(stderr, "bench_load: N must be > 0\n");
		return 2;
	}
	pid_t *kids = calloc((size_t)n, sizeof(*kids));
	if (!kids)
		die("calloc");
	struct sigaction sa = {.sa_handler = on_term};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pid_t self = getpid();
	long made = 0;
	for (; made < n && !stop_flag; made++) {
		pid_t p = fork();
		if (p < 0) {
			fprintf(stderr, "bench_load: fork %ld: %s\n", made, strerror(errno));
			break;
		}
		if (p == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != self)
				_exit(1);
			execl("/bin/sleep", "sleep", "100000", (char *)NULL);
			_exit(127);
		}
		kids[made] = p;
	}
	/* all children exec'd: each one's comm is "sleep" once it has */
	for (long i = 0; i < made && !stop_flag; i++) {
		char path[64], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)kids[i]);
		for (int tries = 0; tries < 2000; tries++) {
			FILE *f = fopen(path, "r");
			if (!f)
				break;
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = 0;
			fclose(f);
			if (!strncmp(comm, "sleep", 5))
				break;
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
	}
	printf("ready %ld\n", made);
	fflush(stdout);
	char buf[256];
	while (!stop_flag && read(0, buf, sizeof(buf)) > 0)
		;
	for (long i = 0; i < made; i++)
		kill(kids[i], SIGKILL);
	for (long i = 0; i < made; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	return made == n ? 0 : 1;
}

static int mode_alert(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: bench_load alert N INTERVAL_MS DIR\n");
		return 2;
	}
	long n = atol(argv[2]);
	double interval = atof(argv[3]);
	char ssh[4096], path[4200];
	make_ssh_dir(argv[4], ssh, sizeof(ssh));
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/id_bench_%ld", ssh, i);
		make_file(path);
	}
	uint64_t *t = calloc((size_t)(n > 0 ? n : 1), sizeof(*t));
	if (!t)
		die("calloc");
	for (long i = 0; i < n; i++) {
		struct timespec ts = {
			(time_t)(interval / 1000),
			(long)((interval - (double)(long)(interval / 1000) * 1000) * 1e6)};
		nanosleep(&ts, NULL);
		snprintf(path, sizeof(path), "%s/id_bench_%ld", ssh, i);
		t[i] = clock_ns(CLOCK_REALTIME);
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			die(path);
		close(fd);
	}
	for (long i = 0; i < n; i++)
		printf("alert %ld %llu\n", i, (unsigned long long)t[i]);
	free(t);
	return 0;
}

/* loop KIND SECONDS PATH CPU: one thread pinned to CPU runs open+read+close
 * (orc) or open+close (oc) of PATH, or getppid (ppid), for SECONDS; prints
 * the loop iterations per second (bench/prefilter.py). */
static int mode_loop(int argc, char **argv)
{
	if (argc < 6)
		return fprintf(stderr, "usage: bench_load loop orc|oc|ppid SECONDS PATH CPU\n"), 2;
	const char *kind = argv[2];
	double secs = atof(argv[3]);
	const char *path = argv[4];
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(atoi(argv[5]), &set);
	sched_setaffinity(0, sizeof(set), &set);
	int orc = !strcmp(kind, "orc"), ppid = !strcmp(kind, "ppid");
	char buf[64];
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC), end = t0 + (uint64_t)(secs * 1e9), t;
	unsigned long ops = 0;
	do {
		for (int i = 0; i < 1000; i++) {
			if (ppid) {
				getppid();
				continue;
			}
			int fd = open(path, O_RDONLY);
			if (fd < 0)
				die("open");
			if (orc && read(fd, buf, sizeof(buf)) < 0)
				die("read");
			close(fd);
		}
		ops += 1000;
		t = clock_ns(CLOCK_MONOTONIC);
	} while (t < end);
	printf("%.0f\n", ops / ((double)(t - t0) / 1e9));
	return 0;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "rate"))
		return mode_rate(argc, argv);
	if (!strcmp(m, "procs"))
		return mode_procs(argc, argv);
	if (!strcmp(m, "alert"))
		return mode_alert(argc, argv);
	if (!strcmp(m, "loop"))
		return mode_loop(argc, argv);
	fprintf(stderr, "usage: bench_load rate|procs|alert|loop ... (see bench/load.c)\n");
	return 2;
}
