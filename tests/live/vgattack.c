/* vgattack - performs one attacker technique per call, for the live tests of
 * the default rules (tests/live/test_default_rules.py).  Each action is the
 * real system call an intruder makes; nothing is left changed.  Built by
 * CMake for the host and statically by the test for busybox containers.
 *
 *   vgattack memfd-exec          copy itself into a memfd and run it (fileless)
 *   vgattack traceme             ptrace(PTRACE_TRACEME)
 *   vgattack attach              fork a child and PTRACE_ATTACH to it
 *   vgattack setuid-root UID     set loginuid, drop to UID keeping saved uid 0, setuid(0)
 *   vgattack unshare-user UID    become UID, unshare(CLONE_NEWUSER)
 *   vgattack bpf-load            load a two-instruction socket filter program
 *   vgattack finit FILE          finit_module on FILE (not a module: fails)
 *   vgattack open-write FILE     open FILE O_WRONLY and close it (no write)
 *   vgattack rawsock             socket(AF_INET, SOCK_RAW, IPPROTO_ICMP)
 *   vgattack packetsock          socket(AF_PACKET, SOCK_RAW, 0)
 *   vgattack connect IP PORT     non-blocking TCP connect (EINPROGRESS is fine)
 *   vgattack flood FILE SECONDS  open and close FILE as fast as it can
 *   vgattack fd-churn FILE N     N times: open FILE, close it
 *   vgattack fd-threads FILE N   one thread opens FILE N times, another closes them
 *   vgattack tid-fds FILE N      N threads started and joined one after the other,
 *                                then FILE opened N times and the N fds closed (in a
 *                                new pid namespace the threads' ids are the fd
 *                                numbers that follow)
 *   vgattack stale-fd FILE       open FILE, close it with close_range, get the
 *                                same fd number from socket(), close that, open
 *                                FILE again on it and fchmod it (a socket's entry
 *                                left in the state would call it a socket)
 *   vgattack sock-fchmod         fchmod a UDP socket
 *   vgattack known-fds FILE      the ways an fd number whose close was sent (or
 *                                that a new process or image never had open)
 *                                becomes a socket the state knows: socket(),
 *                                dup2() onto it, a socket inherited over fork
 *                                and kept over exec; each socket then closed,
 *                                FILE opened on its number and fchmod'ed (a
 *                                socket's entry left in the state, its close
 *                                dropped in the kernel, would call it a socket)
 *   vgattack noop                exit 0
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what)
{
	fprintf(stderr, "vgattack: %s: %s\n", what, strerror(errno));
	return 1;
}

static int memfd_exec(void)
{
	int in = open("/proc/self/exe", O_RDONLY);
	if (in < 0)
		return fail("open /proc/self/exe");
	int fd = (int)syscall(SYS_memfd_create, "vgpayload", 0);
	if (fd < 0)
		return fail("memfd_create");
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return fail("write memfd");
	close(in);
	char *argv[] = {"vgpayload", "noop", NULL};
	syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	return fail("execveat");
}

static int attach(void)
{
	pid_t c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	usleep(100000);
	if (ptrace(PTRACE_ATTACH, c, NULL, NULL) != 0)
		return fail("PTRACE_ATTACH");
	waitpid(c, NULL, 0);
	ptrace(PTRACE_DETACH, c, NULL, NULL);
	kill(c, SIGKILL);
	waitpid(c, NULL, 0);
	return 0;
}

static int setuid_root(const char *uid)
{
	int fd = open("/proc/self/loginuid", O_WRONLY);
	if (fd < 0 || write(fd, uid, strlen(uid)) < 0)
		return fail("loginuid");
	close(fd);
	uid_t u = (uid_t)atoi(uid);
	if (setresuid(u, u, 0) != 0)
		return fail("setresuid");
	if (setuid(0) != 0)
		return fail("setuid(0)");
	return 0;
}

static int unshare_user(const char *uid)
{
	uid_t u = (uid_t)atoi(uid);
	if (u && setresuid(u, u, u) != 0)
		return fail("setresuid");
	if (unshare(CLONE_NEWUSER) != 0)
		return fail("unshare");
	return 0;
}

static int bpf_load(void)
{
	struct bpf_insn insns[2];
	memset(insns, 0, sizeof(insns));
	insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K; /* r0 = 0 */
	insns[1].code = BPF_JMP | BPF_EXIT;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (unsigned long)insns;
	a.insn_cnt = 2;
	a.license = (unsigned long)"GPL";
	int fd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (fd < 0)
		return fail("BPF_PROG_LOAD");
	close(fd);
	return 0;
}

static int do_connect(const char *ip, const char *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	inet_pton(AF_INET, ip, &sa.sin_addr);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
		return fail("connect");
	usleep(50000);
	close(s);
	return 0;
}

/* A syscall flood: the ring never empties while one runs on each CPU. */
static int flood(const char *file, const char *secs)
{
	time_t end = time(NULL) + atoi(secs);
	while (time(NULL) < end)
		for (int i = 0; i < 4096; i++) {
			int fd = open(file, O_RDONLY);
			if (fd < 0)
				return fail(file);
			close(fd);
		}
	return 0;
}

static int fd_churn(const char *file, int n)
{
	for (int i = 0; i < n; i++) {
		int fd = open(file, O_RDONLY);
		if (fd < 0)
			return fail(file);
		close(fd);
	}
	return 0;
}

struct fdbatch {
	const char *file;
	int n;
	int fds[4096];
};

static void *open_all(void *arg)
{
	struct fdbatch *b = arg;
	for (int i = 0; i < b->n; i++)
		b->fds[i] = open(b->file, O_RDONLY);
	return NULL;
}

static void *close_all(void *arg)
{
	struct fdbatch *b = arg;
	for (int i = 0; i < b->n; i++)
		if (b->fds[i] >= 0)
			close(b->fds[i]);
	return NULL;
}

/* Opens in one thread, closes in another, in batches below the fd limit. */
static int fd_threads(const char *file, int n)
{
	static struct fdbatch b;
	b.file = file;
	for (int done = 0; done < n; done += b.n) {
		b.n = n - done < 500 ? n - done : 500;
		pthread_t t;
		if (pthread_create(&t, NULL, open_all, &b) || pthread_join(t, NULL))
			return fail("thread");
		if (pthread_create(&t, NULL, close_all, &b) || pthread_join(t, NULL))
			return fail("thread");
	}
	return 0;
}

static void *noop_thread(void *arg)
{
	return arg;
}

static int tid_fds(const char *file, int n)
{
	static int fds[4096];
	if (n < 1 || n > 4096)
		return fail("tid-fds: N");
	for (int i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, noop_thread, NULL) || pthread_join(t, NULL))
			return fail("thread");
	}
	for (int i = 0; i < n; i++)
		if ((fds[i] = open(file, O_RDONLY)) < 0)
			return fail(file);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

/* FILE reopened on fd (just closed), fchmod'ed, closed. */
static int reopen_on(const char *file, int fd)
{
	int again = open(file, O_RDONLY);
	if (again != fd) {
		fprintf(stderr, "vgattack: the reopen got fd %d, not %d\n", again, fd);
		return 2;
	}
	fchmod(again, 0644);
	close(again);
	return 0;
}

static int stale_fd(const char *file)
{
	int fd = open(file, O_RDONLY);
	if (fd < 0)
		return fail(file);
	if (syscall(SYS_close_range, fd, fd, 0))
		return fail("close_range");
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s != fd) {
		fprintf(stderr, "vgattack: socket got fd %d, not %d\n", s, fd);
		return 2;
	}
	close(s);
	return reopen_on(file, fd);
}

static int known_fds(const char *file, int argc, char **argv)
{
	if (argc > 4 && !strcmp(argv[3], "after-exec")) {
		/* the new image: the socket it kept is the state's */
		int s = atoi(argv[4]);
		if (close(s))
			return fail("close after exec");
		return reopen_on(file, s);
	}
	/* socket() on a number whose last close was sent */
	int f = open(file, O_RDONLY);
	if (f < 0)
		return fail(file);
	close(f);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s != f) {
		fprintf(stderr, "vgattack: socket got fd %d, not %d\n", s, f);
		return 2;
	}
	close(s);
	int r = reopen_on(file, f);
	if (r)
		return r;
	/* dup2() of a socket onto a number never used before */
	int hi = 700;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || dup2(s, hi) != hi)
		return fail("dup2");
	close(s);
	close(hi);
	int d = open(file, O_RDONLY);
	if (d < 0 || dup2(d, hi) != hi)
		return fail("dup2 file");
	close(d);
	fchmod(hi, 0644);
	close(hi);
	/* a socket inherited over fork, closed by the child */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return fail("socket");
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0) {
		close(s);
		_exit(reopen_on(file, s));
	}
	int st = 0;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return fail("fork child");
	/* and kept over exec (the socket has no FD_CLOEXEC) */
	pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0) {
		char num[16];
		snprintf(num, sizeof(num), "%d", s);
		char *args[] = {"/proc/self/exe", "known-fds", (char *)file,
				"after-exec",	  num,	       NULL};
		execve("/proc/self/exe", args, environ);
		_exit(fail("execve"));
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return fail("exec child");
	close(s);
	return 0;
}

static int sock_fchmod(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		return fail("socket");
	fchmod(s, 0644); /* the call is what counts, not its result */
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	const char *a = argc > 1 ? argv[1] : "";
	const char *x = argc > 2 ? argv[2] : "";
	if (!strcmp(a, "noop"))
		return 0;
	if (!strcmp(a, "fd-churn"))
		return fd_churn(x, argc > 3 ? atoi(argv[3]) : 1000);
	if (!strcmp(a, "fd-threads"))
		return fd_threads(x, argc > 3 ? atoi(argv[3]) : 1000);
	if (!strcmp(a, "tid-fds"))
		return tid_fds(x, argc > 3 ? atoi(argv[3]) : 100);
	if (!strcmp(a, "stale-fd"))
		return stale_fd(x);
	if (!strcmp(a, "sock-fchmod"))
		return sock_fchmod();
	if (!strcmp(a, "known-fds"))
		return known_fds(x, argc, argv);
	if (!strcmp(a, "flood"))
		return flood(x, argc > 3 ? argv[3] : "5");
	if (!strcmp(a, "memfd-exec"))
		return memfd_exec();
	if (!strcmp(a, "traceme"))
		return ptrace(PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 0 : fail("PTRACE_TRACEME");
	if (!strcmp(a, "attach"))
		return attach();
	if (!strcmp(a, "setuid-root"))
		return setuid_root(x);
	if (!strcmp(a, "unshare-user"))
		return unshare_user(x);
	if (!strcmp(a, "bpf-load"))
		return bpf_load();
	if (!strcmp(a, "finit")) {
		int fd = open(x, O_RDONLY);
		if (fd < 0)
			return fail(x);
		syscall(SYS_finit_module, fd, "", 0); /* expected to fail */
		return 0;
	}
	if (!strcmp(a, "open-write")) {
		int fd = open(x, O_WRONLY);
		if (fd < 0)
			return fail(x);
		close(fd);
		return 0;
	}
	if (!strcmp(a, "rawsock"))
		return socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) >= 0 ? 0 : fail("raw socket");
	if (!strcmp(a, "packetsock"))
		return socket(AF_PACKET, SOCK_RAW, 0) >= 0 ? 0 : fail("packet socket");
	if (!strcmp(a, "connect") && argc > 3)
		return do_connect(x, argv[3]);
	fprintf(stderr, "vgattack: unknown action '%s'\n", a);
	return 2;
}
