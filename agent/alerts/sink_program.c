/* sink_program.c - alerts as lines on a long-running program's stdin.
 *
 * The program is started with posix_spawn from an argument list (never a
 * shell): the configured program is the feature, so the product still
 * runs no command line of its own making.  Its stdout and stderr are the
 * agent's.
 *
 * Counting is exact: a line written into the pipe is only buffered, and
 * the program may die before reading it.  The sink holds each alert
 * (VG_SINK_HELD) with the offset where its line ends, and asks the kernel
 * how much of the pipe is still unread (FIONREAD): lines the program has
 * read are settled as sent, lines still in the pipe when it exits as
 * failed (program_exit).  A program that exits is restarted with
 * exponential backoff, reset once it has run for a while.
 */
#include "held.h"
#include "log.h"
#include "sink.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RUN_OK_NS (10ull * 1000000000ull) /* ran this long: backoff starts over */

struct program {
	char **argv;
	bool text;
	unsigned timeout_ms, backoff_ms, backoff_max_ms, retries;
	size_t pipe_bytes;

	pid_t pid;	  /* 0: not running */
	int wr;		  /* the pipe's write end, -1 when not running */
	uint64_t written; /* bytes written into this pipe */
	uint64_t *ends;	  /* held lines: the offset where each ends (a ring) */
	size_t head, count, cap;
	struct vg_held held; /* their alerts' namespaces, in the same order */
	uint64_t started_ns, restart_at_ns;
	unsigned wait_ms; /* the next backoff */
	char *line;
	size_t linecap;
};

/* Settle the held lines the program has read. */
static void progress(struct vg_sink *s, struct program *p)
{
	if (p->wr < 0 || !p->count)
		return;
	int unread = 0;
	if (ioctl(p->wr, FIONREAD, &unread) < 0)
		return;
	uint64_t consumed = p->written - (uint64_t)unread;
	uint64_t n = 0;
	while (p->count && p->ends[p->head] <= consumed) {
		p->head = (p->head + 1) % p->cap;
		p->count--;
		n++;
	}
	vg_held_sent(s, &p->held, n);
}

static void hold(struct program *p, uint64_t end)
{
	if (p->count == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 256;
		uint64_t *e = vg_xmalloc(ncap * sizeof(*e));
		for (size_t i = 0; i < p->count; i++)
			e[i] = p->ends[(p->head + i) % p->cap];
		free(p->ends);
		p->ends = e;
		p->head = 0;
		p->cap = ncap;
	}
	p->ends[(p->head + p->count++) % p->cap] = end;
}

/* The program is gone or going: settle what it read, fail the rest,
 * reap it and plan the restart. */
static void ended(struct vg_sink *s, struct program *p, bool kill_it, const char *reason)
{
	progress(s, p);
	vg_held_failed(s, &p->held, p->count, reason);
	p->count = p->head = 0;
	if (p->wr >= 0)
		close(p->wr);
	p->wr = -1;
	if (!p->pid)
		return;
	if (kill_it)
		kill(p->pid, SIGKILL);
	int st = 0;
	/* closing stdin ends a well-behaved program; give it a moment */
	for (int i = 0; i < 100 && waitpid(p->pid, &st, WNOHANG) == 0; i++) {
		if (i == 50)
			kill(p->pid, SIGTERM);
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	if (waitpid(p->pid, &st, WNOHANG) == 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, &st, 0);
	}
	uint64_t now = vg_now_mono_ns();
	if (now - p->started_ns >= RUN_OK_NS)
		p->wait_ms = p->backoff_ms;
	p->restart_at_ns = now + (uint64_t)p->wait_ms * 1000000ull;
	vg_log(VG_LOG_WARNING, "sink %s: program %s (pid %d) %s %d; restart in %u ms", s->name,
	       p->argv[0], (int)p->pid, WIFSIGNALED(st) ? "killed by signal" : "exited with status",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), p->wait_ms);
	p->wait_ms = p->wait_ms * 2 > p->backoff_max_ms ? p->backoff_max_ms : p->wait_ms * 2;
	p->pid = 0;
}

/* Has it exited on its own? */
static void check_exit(struct vg_sink *s, struct program *p)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	if (p->pid && !waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid)
		ended(s, p, false, VG_SINK_R_PROGRAM_EXIT);
}

static int start(struct vg_sink *s, struct program *p, char *err, size_t errlen)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	/* the sink thread blocks every signal; the program must not inherit that */
	sigset_t none, def;
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int e = strchr(p->argv[0], '/')
			? posix_spawn(&pid, p->argv[0], &fa, &at, p->argv, environ)
			: posix_spawnp(&pid, p->argv[0], &fa, &at, p->argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[0]);
	uint64_t now = vg_now_mono_ns();
	if (e) {
		close(fds[1]);
		p->restart_at_ns = now + (uint64_t)p->wait_ms * 1000000ull;
		p->wait_ms =
			p->wait_ms * 2 > p->backoff_max_ms ? p->backoff_max_ms : p->wait_ms * 2;
		snprintf(err, errlen, "cannot start %s: %s", p->argv[0], strerror(e));
		return -1;
	}
	fcntl(fds[1], F_SETFL, O_NONBLOCK);
	if (p->pipe_bytes)
		fcntl(fds[1], F_SETPIPE_SZ, (int)p->pipe_bytes);
	p->pid = pid;
	p->wr = fds[1];
	p->written = 0;
	p->started_ns = now;
	vg_log(VG_LOG_INFO, "sink %s: started %s (pid %d)", s->name, p->argv[0], (int)pid);
	return 0;
}

enum { W_OK_, W_EXITED, W_TIMEOUT };

/* Write the whole line: W_OK_, W_EXITED (the reader is gone) or
 * W_TIMEOUT (*partial: some of it went in). */
static int write_line(struct vg_sink *s, struct program *p, size_t len, bool *partial)
{
	uint64_t deadline = vg_now_mono_ns() + (uint64_t)p->timeout_ms * 1000000ull;
	size_t off = 0;
	*partial = false;
	while (off < len) {
		ssize_t w = write(p->wr, p->line + off, len - off);
		if (w > 0) {
			off += (size_t)w;
			p->written += (uint64_t)w;
			*partial = off < len;
			continue;
		}
		if (w < 0 && errno == EPIPE)
			return W_EXITED;
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return W_EXITED;
		if (vg_sink_giving_up(s) || vg_now_mono_ns() >= deadline)
			return W_TIMEOUT;
		progress(s, p);
		struct pollfd pf = {p->wr, POLLOUT, 0};
		poll(&pf, 1, 20);
	}
	return W_OK_;
}

static int program_deliver(struct vg_sink *s, const struct vg_alert *a, char *err, size_t errlen)
{
	struct program *p = s->impl;
	const char *src = p->text && a->text ? a->text : a->json;
	size_t n = p->text && a->text ? a->text_len : a->json_len;
	if (p->linecap < n + 2) {
		p->linecap = (n + 2) * 2;
		p->line = vg_xrealloc(p->line, p->linecap);
	}
	memcpy(p->line, src, n);
	p->line[n] = '\n';
	check_exit(s, p);
	progress(s, p);
	for (unsigned i = 0;; i++) {
		if (vg_sink_giving_up(s)) {
			s->reason = VG_SINK_R_SHUTDOWN;
			snprintf(err, errlen, "program %s: shutting down", p->argv[0]);
			return -1;
		}
		if (!p->pid) {
			vg_sink_sleep_until(s, p->restart_at_ns);
			if (vg_sink_giving_up(s))
				continue;
			if (start(s, p, err, errlen)) {
				if (i >= p->retries) {
					s->reason = VG_SINK_R_PROGRAM_EXIT;
					return -1;
				}
				continue;
			}
		}
		bool partial;
		int w = write_line(s, p, n + 1, &partial);
		if (w == W_OK_) {
			hold(p, p->written);
			vg_held_push(&p->held, a);
			return VG_SINK_HELD;
		}
		if (w == W_TIMEOUT) {
			/* half a line in the pipe cannot be taken back: the program
			 * is stuck and is restarted; otherwise it just keeps up
			 * slower than alerts come and this one is lost */
			if (partial)
				ended(s, p, true, VG_SINK_R_TIMEOUT);
			s->reason = vg_sink_giving_up(s) ? VG_SINK_R_SHUTDOWN : VG_SINK_R_TIMEOUT;
			snprintf(err, errlen, "program %s did not read for %u ms", p->argv[0],
				 p->timeout_ms);
			return -1;
		}
		ended(s, p, false, VG_SINK_R_PROGRAM_EXIT);
		if (i >= p->retries) {
			s->reason = VG_SINK_R_PROGRAM_EXIT;
			snprintf(err, errlen, "program %s exited (after %u restarts)", p->argv[0],
				 i);
			return -1;
		}
	}
}

static int program_flush(struct vg_sink *s, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	struct program *p = s->impl;
	/* the queue ran empty (or is closing): let the program catch up, so
	 * that what it read is counted before a shutdown gives up on it */
	uint64_t until = vg_now_mono_ns() + (uint64_t)p->timeout_ms * 1000000ull;
	for (;;) {
		check_exit(s, p);
		progress(s, p);
		if (!p->pid || !p->count || vg_sink_giving_up(s) || vg_now_mono_ns() >= until)
			return 0;
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
}

static void program_close(struct vg_sink *s)
{
	struct program *p = s->impl;
	/* let the program read what it was given, until the deadline */
	uint64_t until = vg_now_mono_ns() + (uint64_t)p->timeout_ms * 1000000ull;
	while (p->pid && p->count && !vg_sink_giving_up(s) && vg_now_mono_ns() < until) {
		check_exit(s, p);
		progress(s, p);
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
	}
	if (p->pid || p->wr >= 0)
		ended(s, p, false, VG_SINK_R_SHUTDOWN);
	for (char **a = p->argv; *a; a++)
		free(*a);
	free(p->argv);
	free(p->ends);
	vg_held_free(&p->held);
	free(p->line);
	free(p);
	free(s);
}

static const struct vg_sink_ops program_ops = {
	.deliver = program_deliver,
	.flush = program_flush,
	.close = program_close,
};

struct vg_sink *vg_sink_program_new(const struct vg_sink_program_opts *o, char *err, size_t errlen)
{
	if (!o->argv || !o->argv[0] || !*o->argv[0]) {
		snprintf(err, errlen, "no program: the command is a list, program first");
		return NULL;
	}
	size_t n = 0;
	while (o->argv[n])
		n++;
	struct program *p = vg_xcalloc(1, sizeof(*p));
	p->argv = vg_xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		p->argv[i] = vg_xstrdup(o->argv[i]);
	p->text = o->text;
	p->timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
	p->backoff_ms = o->backoff_ms ? o->backoff_ms : 1;
	p->backoff_max_ms = o->backoff_max_ms < p->backoff_ms ? p->backoff_ms : o->backoff_max_ms;
	p->wait_ms = p->backoff_ms;
	p->retries = o->retries;
	p->pipe_bytes = o->pipe_bytes;
	p->wr = -1;
	struct vg_sink *s = vg_xcalloc(1, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "program");
	s->min_priority = o->min_priority;
	s->wants_text = o->text;
	s->ops = &program_ops;
	s->impl = p;
	return s;
}
