/* capfile.h - capture files: `vigil record` writes them, `vigil replay` reads them.
 *
 * A capture file is text, one JSON object per line: a header
 *   {"vigil_capture": 1, "vigil_version": "...", "hostname": "...", "created": "..."}
 * then one event per line in the evjson.h format ("decoded" omitted).  The
 * header is optional when reading, so test fixtures can be written by hand;
 * blank lines and lines starting with '#' are ignored.  A file whose header
 * announces a newer format version is refused.
 */
#ifndef VIGIL_CAPFILE_H
#define VIGIL_CAPFILE_H

#include <stddef.h>

#include "event.h"

#define VG_CAPFILE_VERSION 1
/* vg_capfile_next: this line is no valid record (err says where and why);
 * the next call reads on from the next line. */
#define VG_CAPFILE_BAD (-2)

struct vg_capfile;

/* A new file at path, created 0600 (it holds every process's environment):
 * an existing regular file there is replaced (unlinked, then created with
 * O_EXCL, so nothing planted or held open at the path gets the data), a
 * symbolic link is refused, a FIFO or device is written only when it is
 * the caller's own.  "-" is stdout.  NULL with err set. */
struct vg_capfile *vg_capfile_create(const char *path, const char *hostname, char *err,
				     size_t errlen);
/* Append one event.  Returns 0 or -1 (errno set). */
int vg_capfile_write(struct vg_capfile *f, const struct vg_event *ev);

struct vg_capfile *vg_capfile_open(const char *path, char *err, size_t errlen);
/* Read the next record into buf (cap >= VG_REC_MAX).  Returns 1 with
 * *size set, 0 at the end, VG_CAPFILE_BAD for a line that is not a record
 * (err = "FILE:LINE: message"; call again for the next), -1 when the file
 * cannot be read on (a read error, a newer format version). */
int vg_capfile_next(struct vg_capfile *f, void *buf, size_t cap, size_t *size, char *err,
		    size_t errlen);
/* The line number of the record (or bad line) read last. */
size_t vg_capfile_line(const struct vg_capfile *f);

/* Close; for a written file, returns -1 if flushing failed. */
int vg_capfile_close(struct vg_capfile *f);

#endif
