/* sink_stream.c - the stdout and file sinks: one alert per line.
 *
 * Lines are buffered and written with write(2) when the buffer fills or
 * the dispatcher flushes (its queue ran empty), so a burst costs a few
 * system calls while a lone alert still goes out at once.
 *
 * A pipe, terminal or socket nobody reads must not hold the agent past
 * its shutdown deadline: on those, a write waits in poll(2) (checking the
 * sink's give_up flag every WAIT_TICK_MS), then writes at most what poll
 * promised room for without blocking: PIPE_BUF bytes (a socket: a send
 * with MSG_DONTWAIT).  Once the dispatcher gives up, only what fits at
 * once is still written; the rest fails.  Regular files never block for
 * long and are written whole. */
#include "log.h"
#include "sink.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUFSZ 65536
#define WAIT_TICK_MS 50

enum fdkind { FD_FILE, FD_PIPE, FD_SOCKET }; /* FD_PIPE: also terminals, devices */

struct stream {
	struct vg_sink *sink; /* its give_up flag */
	int fd;
	enum fdkind kind;
	bool owned; /* a file we opened (and reopen) */
	bool text;
	char *path;
	size_t len;
	char buf[BUFSZ];
};

static enum fdkind fd_kind(int fd)
{
	struct stat sb;
	if (fstat(fd, &sb) || S_ISREG(sb.st_mode))
		return FD_FILE;
	return S_ISSOCK(sb.st_mode) ? FD_SOCKET : FD_PIPE;
}

/* Wait until fd takes bytes; -1 (errno ETIMEDOUT) once the sink gives up
 * and it still does not. */
static int wait_writable(struct stream *st)
{
	struct pollfd pfd = {st->fd, POLLOUT, 0};
	for (;;) {
		bool last = vg_sink_giving_up(st->sink);
		int r = poll(&pfd, 1, last ? 0 : WAIT_TICK_MS);
		if (r > 0)
			return 0; /* writable, or an error the write will report */
		if (r < 0 && errno != EINTR)
			return -1;
		if (last) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

static int write_all(struct stream *st, const char *p, size_t n)
{
	while (n) {
		ssize_t w;
		if (st->kind == FD_FILE) {
			w = write(st->fd, p, n);
		} else if (wait_writable(st)) {
			return -1;
		} else if (st->kind == FD_SOCKET) {
			w = send(st->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				continue;
		} else {
			w = write(st->fd, p, n < PIPE_BUF ? n : PIPE_BUF);
		}
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int stream_flush(struct vg_sink *s, char *err, size_t errlen)
{
	struct stream *st = s->impl;
	if (!st->len)
		return 0;
	int rc = write_all(st, st->buf, st->len);
	st->len = 0; /* a failed write loses the buffer: retrying a dead fd would stall */
	if (rc) {
		snprintf(err, errlen, "writing %s: %s", st->path ? st->path : "stdout",
			 strerror(errno));
		return -1;
	}
	return 0;
}

static int stream_deliver(struct vg_sink *s, const struct vg_alert *a, char *err, size_t errlen)
{
	struct stream *st = s->impl;
	const char *line = st->text && a->text ? a->text : a->json;
	size_t n = st->text && a->text ? a->text_len : a->json_len;
	if (st->len + n + 1 > BUFSZ && stream_flush(s, err, errlen))
		return -1;
	if (n + 1 > BUFSZ) { /* larger than the buffer: straight out */
		if (write_all(st, line, n) || write_all(st, "\n", 1)) {
			snprintf(err, errlen, "writing %s: %s", st->path ? st->path : "stdout",
				 strerror(errno));
			return -1;
		}
		return 0;
	}
	memcpy(st->buf + st->len, line, n);
	st->buf[st->len + n] = '\n';
	st->len += n + 1;
	return 0;
}

static int open_file(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
	return fd;
}

static int stream_reopen(struct vg_sink *s, char *err, size_t errlen)
{
	struct stream *st = s->impl;
	if (!st->owned)
		return 0;
	int rc = stream_flush(s, err, errlen); /* the rest belongs to the old file */
	int fd = open_file(st->path, err, errlen);
	if (fd < 0)
		return -1; /* keep writing to the old file rather than nowhere */
	close(st->fd);
	st->fd = fd;
	st->kind = fd_kind(fd);
	return rc;
}

static void stream_close(struct vg_sink *s)
{
	struct stream *st = s->impl;
	char err[256];
	if (stream_flush(s, err, sizeof(err)))
		vg_log(VG_LOG_WARNING, "sink %s: %s", s->name, err);
	if (st->owned)
		close(st->fd);
	free(st->path);
	free(st);
	free(s);
}

static const struct vg_sink_ops stream_ops = {
	.deliver = stream_deliver,
	.flush = stream_flush,
	.reopen = stream_reopen,
	.close = stream_close,
};

static struct vg_sink *stream_new(const char *name, int fd, bool owned, const char *path, bool text,
				  int min_priority)
{
	struct vg_sink *s = vg_xcalloc(1, sizeof(*s));
	struct stream *st = vg_xmalloc(sizeof(*st));
	st->sink = s;
	st->fd = fd;
	st->kind = fd_kind(fd);
	st->owned = owned;
	st->text = text;
	st->path = path ? vg_xstrdup(path) : NULL;
	st->len = 0;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->min_priority = min_priority;
	s->wants_text = text;
	s->ops = &stream_ops;
	s->impl = st;
	return s;
}

struct vg_sink *vg_sink_stdout_new(bool text, int min_priority)
{
	return stream_new("stdout", STDOUT_FILENO, false, NULL, text, min_priority);
}

struct vg_sink *vg_sink_file_new(const char *path, bool text, int min_priority, char *err,
				 size_t errlen)
{
	int fd = open_file(path, err, errlen);
	if (fd < 0)
		return NULL;
	return stream_new("file", fd, true, path, text, min_priority);
}
