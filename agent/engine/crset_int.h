/* crset_int.h - private to the rule-object set (crset*.c), not an API.
 *
 *   crset.c       object kinds, scopes, messages, loading objects into
 *                 rule sets and the engine (the crset.h entry points)
 *   crset_spec.c  an object's spec: checked, and written as rule text
 *                 with the map of its lines back to spec fields
 */
#ifndef VIGIL_CRSET_INT_H
#define VIGIL_CRSET_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "crset.h"

/* Where a ClusterRule's or Rule's rule applies (crset.c's scope_match). */
struct scope {
	const char *ns;			 /* Rule: its namespace */
	bool host;			 /* events outside pods */
	struct k8s_selector *pods, *nss; /* NULL: everything */
};

/* Lines of the generated text: [line, line + nlines) hold `path`; a string
 * value's first character is at column col (0: not a string value). */
struct lmap {
	int line, nlines, col;
	char *path;
};

struct obj {
	struct vg_crset_result res; /* about the object's own generation */
	char *ns, *name, *label;    /* label: "Kind ns/name" */
	char *msg;
	bool active;	       /* a version of it is loaded into the set */
	const cJSON *fallback; /* the last accepted version, if any */
	bool using_fallback;   /* ... and it is the version loaded */
	unsigned fails;	       /* failures so far (a change means: build again) */
	const cJSON *spec;     /* of the version loaded */
	char *yaml;
	struct lmap *map;
	size_t nmap;
	struct scope scope;
	struct vg_rule_origin origin; /* of the version loaded, for its alerts */
	struct vg_ruleset *rs;	      /* ClusterRule, Rule: its own rule set */
	struct vg_engine_src *src;
	size_t src_index;
	size_t rule_first, nrules; /* its rules in the engine */
};

/* The first problem found in a spec. */
struct chk {
	char msg[512];
	bool bad;
};

/* Record a problem (the first one is kept).  What crset*.c share carries
 * the prefix cr_. */
void cr_bad(struct chk *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Check a version (json) of the object and make its rule text; false with
 * c->msg when the spec is not valid. */
bool cr_obj_version(struct obj *o, const cJSON *json, struct chk *c);

#endif
