/* sink_stream.c - the stdout and file sinks: one alert per line.
 *
 * Lines are buffered and written with write(2) when the buffer fills or
 * the dispatcher flushes (its queue ran empty), so a burst costs a few
 * system calls while a lone alert still goes out at once. */
#include "log.h"
#include "sink.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUFSZ 65536

struct stream {
	int fd;
	bool owned; /* a file we opened (and reopen) */
	bool text;
	char *path;
	size_t len;
	char buf[BUFSZ];
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
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
	int rc = write_all(st->fd, st->buf, st->len);
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
		if (write_all(st->fd, line, n) || write_all(st->fd, "\n", 1)) {
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
	st->fd = fd;
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
