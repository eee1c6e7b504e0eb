/* capfile.c - see capfile.h. */
#include "capfile.h"
#include "evjson.h"
#include "util.h"
#include "version.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vg_capfile {
	FILE *f;
	char *path;
	int writing;
	size_t line;
	int header_seen;
	char *buf;
	size_t bufcap;
};

struct vg_capfile *vg_capfile_create(const char *path, const char *hostname, char *err,
				     size_t errlen)
{
	FILE *f = !strcmp(path, "-") ? stdout : fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
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
			snprintf(err, errlen, "%s:%zu: %s", f->path, f->line, why);
			return -1;
		}
		*size = (size_t)sz;
		return 1;
	}
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
