/* rules.h - load Falco rules files (libyaml) into a rule set.
 *
 * A rule set is the merge of rules files in load order, with Falco's
 * semantics:
 *  - items: `rule`, `macro`, `list`, `required_engine_version` (a higher
 *    version than VG_RULES_ENGINE_VERSION is a warning),
 *    `required_plugin_versions` (accepted); a file may hold several YAML
 *    documents; unknown items and keys, and duplicate keys, are errors;
 *  - a later definition of a name replaces the earlier one in its place;
 *  - `append: true` (deprecated) appends to a list's items, a macro's
 *    condition, a rule's condition and exceptions;
 *  - `override: {key: append|replace}`: append for condition, output,
 *    desc, tags, exceptions, list items; replace for those and priority,
 *    enabled, warn_evttypes, skip-if-unknown-filter, capture,
 *    capture_duration.  Every other key of the item must be listed there;
 *  - an item with only `rule` and `enabled` enables or disables a rule;
 *  - exceptions stay a key of their own: the condition a rule compiles is
 *    "(condition) and not (exc1 or exc2 ...)", rebuilt after each change.
 *    Appending an exception whose name exists adds its values (only
 *    values); a new name needs `fields`.  One field compares with `comps`
 *    (default `in`) against the values; several fields compare each value
 *    tuple field by field (default `=`, or `in` for a list value);
 *  - appended conditions and outputs are joined with a space; outputs and
 *    descriptions are the YAML value without surrounding whitespace.
 * Nothing is compiled here: engine.h compiles a rule set.
 *
 * Every problem is a diagnostic naming FILE:LINE:COL and the item; loading
 * goes on after an error so that one run reports them all.  Texts keep where
 * each piece was written (struct vg_text_seg), so that errors found when
 * compiling are reported there too.
 */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cond.h"

/* The Falco engine version whose rule language vigil implements; a file
 * whose required_engine_version is higher loads with a warning. */
#define VG_RULES_ENGINE_VERSION "0.57.0"

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
/* "FILE:LINE:COL: error: message" per line ("FILE: error: message" for a
 * whole file: line 0) */
void vg_diag_print(const struct vg_diag *d, FILE *f);
void vg_diag_free(struct vg_diag *d);

/* Where a piece of a text comes from.  text[off..] (up to the next segment)
 * starts at pos; positions advance over it character by character, unless
 * `fixed` (generated text, such as the `and not (...)` of exceptions, is
 * reported at the YAML node it was made from). */
struct vg_text_seg {
	size_t off;
	struct vg_pos pos;
	bool fixed;
};

/* A condition or output with where its pieces come from: the rule's own
 * text, text appended by later items (possibly from other files), and
 * generated exception terms.  segs[0].off == 0 and segs[0].pos == pos. */
struct vg_text {
	char *text;
	struct vg_pos pos;
	struct vg_text_seg *segs;
	size_t nsegs;
};

/* The file position of a (line, col) that the condition compiler or
 * vg_output_compile() reported for t->text compiled from {any, 1, 1}. */
struct vg_pos vg_text_locate(const struct vg_text *t, int line, int col);

struct vg_rule_def {
	char *name;
	struct vg_pos pos;     /* of the item */
	struct vg_text cond;   /* with its exceptions: what the engine compiles */
	struct vg_text output; /* the format, trimmed */
	char *desc;
	char *source; /* "syscall" unless set */
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

/* The largest rules file read: a bigger one is an error, not read. */
#define VG_RULES_MAX_FILE (16 << 20)

/* Add a file, or a text (name is what diagnostics call it).  Returns the
 * number of errors this input added.  A file must be a regular file (a
 * symlink to one is fine) of at most VG_RULES_MAX_FILE bytes: a FIFO, a
 * device or a directory is "not a regular file". */
int vg_ruleset_add_file(struct vg_ruleset *rs, const char *path, struct vg_diag *d);
/* Add a rules file, or the *.yaml / *.yml files of a directory in name
 * order (each of them as vg_ruleset_add_file: one that is not a regular
 * file is an error).  Returns 0 (errno ENOENT or ENOTDIR) if there is
 * nothing at path, else 1; a path that is there but cannot be reached (a
 * symlink loop: ELOOP; no permission) is an error "cannot read: ...". */
int vg_ruleset_add_path(struct vg_ruleset *rs, const char *path, struct vg_diag *d);
int vg_ruleset_add_text(struct vg_ruleset *rs, const char *name, const char *text, size_t len,
			struct vg_diag *d);

/* Items in definition order (a redefinition keeps its first place). */
size_t vg_ruleset_rules(const struct vg_ruleset *rs, const struct vg_rule_def *const **out);
const struct vg_macro_def *vg_ruleset_macro(const struct vg_ruleset *rs, const char *name);
const struct vg_list_def *vg_ruleset_list(const struct vg_ruleset *rs, const char *name);
size_t vg_ruleset_count_macros(const struct vg_ruleset *rs);
size_t vg_ruleset_count_lists(const struct vg_ruleset *rs);
/* The i-th macro / list of rs itself, in definition order; NULL past the end. */
const struct vg_macro_def *vg_ruleset_macro_at(const struct vg_ruleset *rs, size_t i);
const struct vg_list_def *vg_ruleset_list_at(const struct vg_ruleset *rs, size_t i);

/* A ruleset whose look-ups (vg_ruleset_macro, vg_ruleset_list_items and
 * nested list names) fall back to parent for names it does not define: a
 * custom resource's own macros and lists shadow the shared ones.  Loading
 * never modifies the parent (append/override see only rs's own items);
 * parent must outlive rs. */
void vg_ruleset_set_parent(struct vg_ruleset *rs, struct vg_ruleset *parent);

/* Items of a list with nested lists expanded (cached); -1 if no such list,
 * -2 if that is more than VG_COND_MAX_ITEMS items or visits more than
 * VG_RULES_MAX_LIST_VISITS items (nested lists used many times over: a
 * list bomb). */
#define VG_RULES_MAX_LIST_VISITS (4 * VG_COND_MAX_ITEMS)
int vg_ruleset_list_items(struct vg_ruleset *rs, const char *name, const char *const **items);

#endif
