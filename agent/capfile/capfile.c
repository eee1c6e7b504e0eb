/* capfile.c - see capfile.h. */
#include "capfile.h"
#include "evjson.h"
#include "util.h"
#include "version.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vg_capfile {
	FILE *f;
	char *path;
	int writing;
	size_t line;
	int header_seen;
	char *buf;
	size_t bufcap;
};

/* A recording holds every process's command line and environment
 * (tokens, passwords): only its owner may read it, and whoever else can
 * write to its directory (/tmp) must not get it.  So the file is always a
 * new one, created 0600 with O_EXCL (which never follows a symbolic link
 * and never opens a file someone planted, or holds open, at the path): an
 * existing regular file is unlinked first and the creation retried; a
 * symbolic link is refused; an existing FIFO or device is written to only
 * when it is our own (a pipe the user made, /dev/null). */
static int create_private(const char *path, char *err, size_t errlen)
{
	for (int tries = 0; tries < 3; tries++) {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
		struct stat sb;
		if (lstat(path, &sb))
			continue; /* gone meanwhile: create again */
		if (S_ISLNK(sb.st_mode)) {
			snprintf(err, errlen,
				 "%s: is a symbolic link: not writing a recording through it",
				 path);
			return -1;
		}
		if (S_ISREG(sb.st_mode)) {
			if (unlink(path) && errno != ENOENT)
				break;
			continue;
		}
		if ((S_ISFIFO(sb.st_mode) || S_ISCHR(sb.st_mode)) && sb.st_uid == geteuid()) {
			fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
			if (fd >= 0)
				return fd;
			break;
		}
		snprintf(err, errlen,
			 "%s: exists and is not a regular file, nor a pipe or device of ours",
			 path);
		return -1;
	}
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

struct vg_capfile *vg_capfile_create(const char *path, const char *hostname, char *err,
				     size_t errlen)
{
	FILE *f = stdout;
	if (strcmp(path, "-")) {
		int fd = create_private(path, err, errlen);
		if (fd < 0)
			return NULL;
		f = fdopen(fd, "w");
		if (!f) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return NULL;
		}
	}
	char t[40];
	vg_rfc3339(vg_now_wall_ns(), t);
	cJSON *h = cJSON_CreateObject();
	cJSON_AddNumberToObject(h, "vigil_capture", VG_CAPFILE_VERSION);
	cJSON_AddStringToObject(h, "vigil_version", VIGIL_VERSION);
	cJSON_AddStringToObject(h, "hostname", hostname ? hostname : "");
	cJSON_AddStringToObject(h, "created", t);
	char *s = cJSON_PrintUnformatted(h);
	cJSON_Delete(h);
	fprintf(f, "%s\n", s);
	free(s);
	struct vg_capfile *c = vg_xcalloc(1, sizeof(*c));
	c->f = f;
	c->path = vg_xstrdup(path);
	c->writing = 1;
	return c;
}

int vg_capfile_write(struct vg_capfile *f, const struct vg_event *ev)
{
	char *s = vg_evjson_render(ev, 0);
	int rc = fprintf(f->f, "%s\n", s) < 0 ? -1 : 0;
	free(s);
	return rc;
}

struct vg_capfile *vg_capfile_open(const char *path, char *err, size_t errlen)
{
	FILE *f = !strcmp(path, "-") ? stdin : fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct vg_capfile *c = vg_xcalloc(1, sizeof(*c));
	c->f = f;
	c->path = vg_xstrdup(path);
	return c;
}

/* Is this line the header?  Returns 1 (and checks the version), 0, or -1. */
static int header(struct vg_capfile *f, const char *line, char *err, size_t errlen)
{
	if (!strstr(line, "\"vigil_capture\""))
		return 0;
	cJSON *o = cJSON_Parse(line);
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, "vigil_capture") : NULL;
	if (!v) {
		cJSON_Delete(o);
		return 0;
	}
	int rc = 1;
	if (!cJSON_IsNumber(v) || v->valueint < 1 || v->valueint > VG_CAPFILE_VERSION) {
		snprintf(err, errlen,
			 "%s:%zu: capture format version %s not supported (this vigil reads up to "
			 "%d)",
			 f->path, f->line, cJSON_IsNumber(v) ? "newer" : "unknown",
			 VG_CAPFILE_VERSION);
		rc = -1;
	}
	cJSON_Delete(o);
	return rc;
}

int vg_capfile_next(struct vg_capfile *f, void *buf, size_t cap, size_t *size, char *err,
		    size_t errlen)
{
	for (;;) {
		ssize_t n = getline(&f->buf, &f->bufcap, f->f);
		if (n < 0) {
			if (ferror(f->f)) {
				snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
				return -1;
			}
			return 0;
		}
		f->line++;
		char *p = f->buf;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n' || *p == '#')
			continue;
		if (!f->header_seen) {
			f->header_seen = 1;
			int h = header(f, p, err, errlen);
			if (h < 0)
				return -1;
			if (h > 0)
				continue;
		}
		char why[256];
		int sz = vg_evjson_parse(p, buf, cap, why, sizeof(why));
		if (sz < 0) {
			/* this line only: the caller may go on with the next */
			snprintf(err, errlen, "%s:%zu: %s", f->path, f->line, why);
			return VG_CAPFILE_BAD;
		}
		*size = (size_t)sz;
		return 1;
	}
}

size_t vg_capfile_line(const struct vg_capfile *f)
{
	return f->line;
}

int vg_capfile_close(struct vg_capfile *f)
{
	if (!f)
		return 0;
	int rc = 0;
	if (f->f != stdout && f->f != stdin)
		rc = fclose(f->f);
	else
		rc = fflush(f->f);
	free(f->buf);
	free(f->path);
	free(f);
	return rc ? -1 : 0;
}
