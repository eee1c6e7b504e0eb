/* replay_audit.h - vigil replay of recorded audit events (JSON lines). */
#ifndef VIGIL_REPLAY_AUDIT_H
#define VIGIL_REPLAY_AUDIT_H

#include <stddef.h>

#include "engine.h"

/* When path holds audit events (its first line is an audit.k8s.io object),
 * evaluate every event with eng, calling fn on each match, and return 1
 * (-1 with err "FILE:LINE: why" on a line that is not one); 0 when path
 * is not an audit recording (a capture file). */
int vg_replay_audit(const char *path, struct vg_engine *eng, vg_match_fn fn, void *ctx, char *err,
		    size_t errlen);

#endif
