/* evjson.h - events as JSON lines: `vigil capture` output and capture files.
 *
 * One object per event.  The raw record's fields are at the top level
 * ("kind", "type", "ts", "pid", "args", "path", "sock", ...), so a line
 * can be turned back into the same raw record; what the state added
 * (absolute paths, fd, process, container) is under "decoded" and is
 * ignored when reading.  Hand-written test fixtures need only the keys
 * they care about: see docs/capture-format.md.
 */
#ifndef VIGIL_EVJSON_H
#define VIGIL_EVJSON_H

#include <stddef.h>

#include "event.h"

/* One line (no newline) for ev; with_decoded adds the "decoded" object.
 * Returns a malloc'd string. */
char *vg_evjson_render(const struct vg_event *ev, int with_decoded);

/* Parse one JSON object into a raw record in buf (cap bytes, at least
 * VG_REC_MAX).  ts in the object is wall-clock ns.  Returns the record
 * size, or -1 with err filled ("key 'pid': expected a number"). */
int vg_evjson_parse(const char *text, void *buf, size_t cap, char *err, size_t errlen);

#endif
