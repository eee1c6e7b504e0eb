/* rules.h - load Falco rules files (libyaml) into a rule set.
 *
 * A rule set is the merge of rules files in load order: `list`, `macro`
 * and `rule` items, later definitions replacing earlier ones, `append:
 * true` and `override:` (append or replace per key) changing them,
 * `exceptions` turned into `and not (...)` terms, `enabled` toggles.
 * Nothing is compiled here: engine.h compiles a rule set.
 *
 * Every problem is a diagnostic naming FILE:LINE:COL and the item; loading
 * goes on after an error so that one run reports them all.
 */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cond.h"

enum vg_priority {
	VG_PRIO_EMERGENCY = 0,
	VG_PRIO_ALERT,
	VG_PRIO_CRITICAL,
	VG_PRIO_ERROR,
	VG_PRIO_WARNING,
	VG_PRIO_NOTICE,
	VG_PRIO_INFORMATIONAL,
	VG_PRIO_DEBUG,
};

/* "Emergency".."Debug" (Falco's spelling); parse is case-insensitive and
 * takes "info" too; -1 when unknown. */
const char *vg_priority_name(int prio);
int vg_priority_parse(const char *s);

struct vg_diag_entry {
	int error; /* 1 error, 0 warning */
	char *file;
	int line, col;
	char *msg;
};

struct vg_diag {
	struct vg_diag_entry *v;
	size_t n, cap;
	size_t errors, warnings;
};

void vg_diag_add(struct vg_diag *d, int error, const char *file, int line, int col, const char *fmt,
		 ...) __attribute__((format(printf, 6, 7)));
/* "FILE:LINE:COL: error: message" per line */
void vg_diag_print(const struct vg_diag *d, FILE *f);
void vg_diag_free(struct vg_diag *d);

/* A text with where it starts (for conditions and outputs). */
struct vg_text {
	char *text;
	struct vg_pos pos;
};

struct vg_rule_def {
	char *name;
	struct vg_pos pos; /* of the item */
	struct vg_text cond;
	struct vg_text output;
	char *desc;
	char *source;
	int priority;
	char **tags;
	size_t ntags;
	bool enabled;
	bool skip_if_unknown_filter;
	bool warn_evttypes;
};

struct vg_macro_def {
	char *name;
	struct vg_text cond;
};

struct vg_list_def {
	char *name;
	struct vg_pos pos;
	char **items; /* as written (may name other lists) */
	size_t n;
};

struct vg_ruleset;

struct vg_ruleset *vg_ruleset_new(void);
void vg_ruleset_free(struct vg_ruleset *rs);

/* Add a file, or a text (name is what diagnostics call it).  Returns the
 * number of errors this input added. */
int vg_ruleset_add_file(struct vg_ruleset *rs, const char *path, struct vg_diag *d);
int vg_ruleset_add_text(struct vg_ruleset *rs, const char *name, const char *text, size_t len,
			struct vg_diag *d);

/* Items in definition order (a redefinition keeps its first place). */
size_t vg_ruleset_rules(const struct vg_ruleset *rs, const struct vg_rule_def *const **out);
const struct vg_macro_def *vg_ruleset_macro(const struct vg_ruleset *rs, const char *name);
const struct vg_list_def *vg_ruleset_list(const struct vg_ruleset *rs, const char *name);
size_t vg_ruleset_count_macros(const struct vg_ruleset *rs);
size_t vg_ruleset_count_lists(const struct vg_ruleset *rs);

/* Items of a list with nested lists expanded (cached); -1 if no such list. */
int vg_ruleset_list_items(struct vg_ruleset *rs, const char *name, const char *const **items);

#endif
