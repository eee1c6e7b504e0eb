/* sink_stream.c - the stdout and file sinks: one alert per line.
 *
 * Lines are buffered and written with write(2) when the buffer fills or
 * the dispatcher flushes (its queue ran empty), so a burst costs a few
 * system calls while a lone alert still goes out at once.  An alert is
 * held (VG_SINK_HELD) until its line is written: only then is it counted
 * as sent.  A full disk fails the lines that could not be written (reason
 * no_space), never leaves half a line glued to the next one, and the sink
 * goes on by itself once there is room again.
 *
 * A pipe, terminal or socket nobody reads must not hold the agent past
 * its shutdown deadline: on those, a write waits in poll(2) (checking the
 * sink's give_up flag every WAIT_TICK_MS), then writes at most what poll
 * promised room for without blocking: PIPE_BUF bytes (a socket: a send
 * with MSG_DONTWAIT).  Once the dispatcher gives up, only what fits at
 * once is still written; the rest fails with reason shutdown.  Regular
 * files never block for long and are written whole. */
#include "held.h"
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
	char *buf; /* whole lines, each '\n'-terminated */
	size_t len, cap;
	struct vg_held held; /* the alerts in buf, not yet counted */
	/* A line the last write cut short (the disk filled up mid-line): its
	 * first owe_done bytes are in the file.  The next write finishes it
	 * before anything else, so no line is ever glued to another; its
	 * alert is counted once it is complete. */
	char *owe;
	size_t owe_len, owe_done;
	char *owe_ns; /* the namespace of its alert's Rule object (NULL: none) */
};

static const char *where(const struct stream *st)
{
	return st->path ? st->path : "stdout";
}

static const char *reason_of(int e)
{
	if (e == ECANCELED) /* wait_writable: the shutdown deadline passed */
		return VG_SINK_R_SHUTDOWN;
	return e == ENOSPC || e == EDQUOT || e == EFBIG ? VG_SINK_R_NO_SPACE : VG_SINK_R_WRITE;
}

static enum fdkind fd_kind(int fd)
{
	struct stat sb;
	if (fstat(fd, &sb) || S_ISREG(sb.st_mode))
		return FD_FILE;
	return S_ISSOCK(sb.st_mode) ? FD_SOCKET : FD_PIPE;
}

/* Wait until the fd takes bytes; -1 (errno ECANCELED) once the sink gives
 * up and it still does not. */
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
			errno = ECANCELED;
			return -1;
		}
	}
}

/* One write that does not block on a reader that does not read. */
static ssize_t write_once(struct stream *st, const char *p, size_t n)
{
	if (st->kind == FD_FILE)
		return write(st->fd, p, n);
	for (;;) {
		if (wait_writable(st))
			return -1;
		if (st->kind == FD_PIPE)
			return write(st->fd, p, n < PIPE_BUF ? n : PIPE_BUF);
		ssize_t w = send(st->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return w;
	}
}

/* Write what it can: the bytes written; *err_no set when short. */
static size_t write_some(struct stream *st, const char *p, size_t n, int *err_no)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = write_once(st, p + done, n - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			*err_no = errno;
			return done;
		}
		if (w == 0) { /* should not happen on a file; do not spin */
			*err_no = EIO;
			return done;
		}
		done += (size_t)w;
	}
	return done;
}

/* Finish the cut line; 0 when it is (or there was none). */
static int pay_owed(struct vg_sink *s, int *err_no)
{
	struct stream *st = s->impl;
	if (!st->owe)
		return 0;
	st->owe_done += write_some(st, st->owe + st->owe_done, st->owe_len - st->owe_done, err_no);
	if (st->owe_done < st->owe_len)
		return -1;
	free(st->owe);
	st->owe = NULL;
	st->owe_len = st->owe_done = 0;
	st->owe_ns = NULL;
	free(st->owe_ns);
	st->owe_ns = NULL;
	vg_sink_settle(s, 1, 0, NULL);
	return 0;
}

/* Take the written part of the cut line back out of a regular file (the
 * file is ours alone: O_APPEND, one writer), so no broken line stays. */
static void unwrite_owed(struct stream *st)
{
	struct stat sb;
	if (st->owe_done && fstat(st->fd, &sb) == 0 && S_ISREG(sb.st_mode) &&
	    (size_t)sb.st_size >= st->owe_done)
		(void)!ftruncate(st->fd, sb.st_size - (off_t)st->owe_done);
	st->owe_done = 0;
}

/* Give up on the cut line (closing): out of the file, counted as failed. */
static void drop_owed(struct vg_sink *s, const char *reason)
{
	struct stream *st = s->impl;
	if (!st->owe)
		return;
	unwrite_owed(st);
	free(st->owe);
	st->owe = NULL;
	st->owe_len = st->owe_done = 0;
	vg_sink_settle_ns(s, 0, 1, reason, st->owe_ns);
	free(st->owe_ns);
	st->owe_ns = NULL;
}

/* Write the buffered lines.  Each complete line is an alert sent; on a
 * short write the line it cut is owed (pay_owed) and the lines after it
 * are failed, counted with the reason: the buffer is bounded and the disk
 * may stay full for long. */
static int stream_flush(struct vg_sink *s, char *err, size_t errlen)
{
	struct stream *st = s->impl;
	int err_no = 0;
	if (pay_owed(s, &err_no)) {
		vg_held_failed(s, &st->held, vg_held_count(&st->held), reason_of(err_no));
		st->len = 0;
		snprintf(err, errlen, "writing %s: %s (%s)", where(st), strerror(err_no),
			 "a line still cut short");
		return -1;
	}
	if (!st->len)
		return 0;
	size_t done = write_some(st, st->buf, st->len, &err_no);
	if (done == st->len) {
		vg_held_sent(s, &st->held, vg_held_count(&st->held));
		st->len = 0;
		return 0;
	}
	size_t sent = 0, start = 0; /* start: of the line done falls in */
	for (size_t i = 0; i < done; i++)
		if (st->buf[i] == '\n') {
			sent++;
			start = i + 1;
		}
	vg_held_sent(s, &st->held, sent);
	size_t failed = vg_held_count(&st->held);
	if (done > start) { /* a line cut: finish it later */
		size_t end = start;
		while (st->buf[end] != '\n')
			end++;
		st->owe_len = end + 1 - start;
		st->owe = vg_xmalloc(st->owe_len);
		memcpy(st->owe, st->buf + start, st->owe_len);
		st->owe_done = done - start;
		st->owe_ns = vg_held_take(&st->held);
		failed--;
	}
	vg_held_failed(s, &st->held, failed, reason_of(err_no));
	st->len = 0;
	snprintf(err, errlen, "writing %s: %s (%zu alerts lost)", where(st), strerror(err_no),
		 failed);
	return -1;
}

static int stream_deliver(struct vg_sink *s, const struct vg_alert *a, char *err, size_t errlen)
{
	struct stream *st = s->impl;
	const char *line = st->text && a->text ? a->text : a->json;
	size_t n = st->text && a->text ? a->text_len : a->json_len;
	if (st->len + n + 1 > st->cap && st->len)
		stream_flush(s, err, errlen); /* its failures are counted there */
	if (n + 1 > st->cap) {		      /* a line larger than the buffer: grow for it */
		st->cap = n + 1;
		st->buf = vg_xrealloc(st->buf, st->cap);
	}
	memcpy(st->buf + st->len, line, n);
	st->buf[st->len + n] = '\n';
	st->len += n + 1;
	vg_held_push(&st->held, a);
	return VG_SINK_HELD;
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
	if (st->owe)	   /* the cut line: out of the old file, whole into the new */
		unwrite_owed(st);
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
	/* still cut: no broken line left behind */
	drop_owed(s, vg_sink_giving_up(s) ? VG_SINK_R_SHUTDOWN : VG_SINK_R_NO_SPACE);
	if (st->owned)
		close(st->fd);
	free(st->buf);
	free(st->path);
	vg_held_free(&st->held);
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
	memset(&st->held, 0, sizeof(st->held));
	st->cap = BUFSZ;
	st->buf = vg_xmalloc(st->cap);
	st->owe = NULL;
	st->owe_len = st->owe_done = 0;
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
