/* log.c - see log.h.
 *
 * A line is written whole with one write(2) (at most PIPE_BUF bytes, so
 * lines of several threads never mix on a pipe) and never blocks for long:
 * stderr may be a pipe nobody reads, and the thread logging may be the one
 * that must notice a SIGTERM.  A pipe gets a non-blocking description of
 * its own (setting O_NONBLOCK on the inherited one would change it for
 * every process sharing it); a socket is written with MSG_DONTWAIT;
 * anything else is polled for room first.  A line that finds no room
 * within LOG_WAIT_MS is dropped and counted, and until a line gets through
 * again the next ones do not wait at all. */
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_WAIT_MS 100 /* the longest a line waits for room on stderr */

/* Process-wide state: the verbosity, set once at start, and where lines go
 * (set up once, on the first line) with what did not get there. */
static enum vg_log_level log_level = VG_LOG_INFO;
static pthread_once_t out_once = PTHREAD_ONCE_INIT;
static int out_fd = STDERR_FILENO;
static enum { OUT_POLL, OUT_NONBLOCK, OUT_SOCKET } out_kind = OUT_POLL;
static atomic_uint_fast64_t out_dropped;
static atomic_bool out_stalled;

static void out_open(void)
{
	struct stat st;
	if (fstat(STDERR_FILENO, &st))
		return;
	if (S_ISSOCK(st.st_mode)) {
		out_kind = OUT_SOCKET;
	} else if (S_ISFIFO(st.st_mode)) {
		int fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0) {
			out_fd = fd;
			out_kind = OUT_NONBLOCK;
		}
	}
}

/* Room on out_fd by end_ns (one look without waiting when that is past). */
static bool out_wait(uint64_t end_ns)
{
	for (;;) {
		uint64_t now = vg_now_mono_ns();
		int ms = now >= end_ns ? 0 : (int)((end_ns - now + 999999) / 1000000);
		struct pollfd p = {.fd = out_fd, .events = POLLOUT};
		int r = poll(&p, 1, ms);
		if (r > 0)
			return !(p.revents & (POLLERR | POLLNVAL)) || (p.revents & POLLOUT);
		if (r == 0 || errno != EINTR || ms == 0)
			return false;
	}
}

static void out_write(const char *buf, size_t n)
{
	pthread_once(&out_once, out_open);
	uint64_t end = vg_now_mono_ns() +
		       (atomic_load(&out_stalled) ? 0 : (uint64_t)LOG_WAIT_MS * 1000000);
	size_t off = 0;
	while (off < n) {
		if (out_kind == OUT_POLL && !out_wait(end))
			break;
		ssize_t w = out_kind == OUT_SOCKET
				    ? send(out_fd, buf + off, n - off, MSG_DONTWAIT | MSG_NOSIGNAL)
				    : write(out_fd, buf + off, n - off);
		if (w > 0) {
			off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!out_wait(end))
				break;
		} else {
			break; /* closed, or an error: no waiting helps */
		}
	}
	if (off == n) {
		atomic_store(&out_stalled, false);
		return;
	}
	atomic_fetch_add(&out_dropped, 1);
	atomic_store(&out_stalled, true);
}

uint64_t vg_log_dropped(void)
{
	return atomic_load(&out_dropped);
}

static const char *const names[] = {"error", "warning", "info", "debug"};

void vg_log_set_level(enum vg_log_level lvl)
{
	log_level = lvl;
}

int vg_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!strcasecmp(s, names[i]))
			return i;
	return -1;
}

void vg_log(enum vg_log_level lvl, const char *fmt, ...)
{
	if (lvl > log_level)
		return;
	char t[40];
	vg_rfc3339(vg_now_wall_ns(), t);
	char msg[2048], line[2200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int n = snprintf(line, sizeof(line), "%s vigil %s: %s\n", t, names[lvl], msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) { /* cut: still one line */
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	out_write(line, (size_t)n);
}

int vg_ratelimit_ok(struct vg_ratelimit *rl, uint64_t now_ns)
{
	if (rl->last_ns && now_ns - rl->last_ns < rl->interval_ns) {
		rl->suppressed++;
		return 0;
	}
	rl->last_ns = now_ns;
	return 1;
}

void vg_log_lws(int level, const char *line)
{
	(void)level;
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	vg_log(VG_LOG_DEBUG, "libwebsockets: %.*s", (int)n, line);
}
