/* replay_audit.c - vigil replay of recorded Kubernetes audit events: one
 * audit.k8s.io/v1 Event (or EventList) per line, as the API server's log
 * backend writes them, through the rules of source k8s_audit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "kaudit.h"
#include "replay_audit.h"
#include "util.h"

/* Is the first non-blank line an audit object? */
static int looks_audit(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int yes = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (strspn(line, " \t\r\n") == (size_t)n)
			continue;
		cJSON *o = cJSON_ParseWithLength(line, (size_t)n);
		const char *api =
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "apiVersion"));
		yes = api && !strncmp(api, "audit.k8s.io/", 13);
		cJSON_Delete(o);
		break;
	}
	free(line);
	rewind(f);
	return yes;
}

int vg_replay_audit(const char *path, struct vg_engine *eng, vg_match_fn fn, void *ctx, char *err,
		    size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0; /* the capture reader says why */
	if (!looks_audit(f)) {
		fclose(f);
		return 0;
	}
	struct vg_cond_scratch *s = vg_cond_scratch_new();
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 1;
	uint64_t num = 0;
	for (int lineno = 1; (n = getline(&line, &cap, f)) >= 0; lineno++) {
		if (strspn(line, " \t\r\n") == (size_t)n)
			continue;
		const cJSON *events;
		size_t k;
		const char *why;
		cJSON *doc = vg_audit_decode(line, (size_t)n, (size_t)-1, &events, &k, &why);
		if (!doc) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			rc = -1;
			break;
		}
		const cJSON *e = events ? events->child : doc;
		for (size_t i = 0; i < k && e; i++, e = events ? e->next : NULL) {
			struct vg_kaudit_event ke;
			vg_kaudit_event_init(&ke, e, ++num, vg_now_wall_ns());
			vg_engine_match(eng, &ke.ev, s, fn, ctx);
		}
		cJSON_Delete(doc);
	}
	if (rc > 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	vg_cond_scratch_free(s);
	return rc;
}
