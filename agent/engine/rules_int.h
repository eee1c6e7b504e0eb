/* rules_int.h - private to the rules loader (rules*.c), not an API.
 *
 * The rules loader is split by what each part does:
 *   rules_text.c    diagnostics; texts that remember where their pieces
 *                   come from (struct tbuf builds a struct vg_text)
 *   rules_set.c     the rule set: items, look-ups, expanded lists
 *   rules_yaml.c    reading libyaml nodes: keys, values, append/override,
 *                   conditions and outputs with their positions
 *   rules_except.c  exceptions: parsed from YAML, rendered into the
 *                   condition the engine compiles
 *   rules.c         priorities, lists, macros, rules, and items,
 *                   documents and files (the rules.h entry points)
 * What the files share is declared here; its functions carry the prefix
 * rl_ so that none of them can clash with another library's symbol.
 */
#ifndef VIGIL_RULES_INT_H
#define VIGIL_RULES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "rules.h"

/* ---- texts (rules_text.c) ------------------------------------------------ */

/* A text being built, with the segments that say where each piece is from. */
struct tbuf {
	char *s;
	size_t len, cap;
	struct vg_text_seg *segs;
	size_t nsegs, capsegs;
};

void rl_tb_seg(struct tbuf *b, struct vg_pos pos, bool fixed);
void rl_tb_put(struct tbuf *b, const char *s, size_t n);
void rl_tb_puts(struct tbuf *b, const char *s);
void rl_tb_text(struct tbuf *b, const struct vg_text *t);
struct vg_text rl_tb_take(struct tbuf *b);
void rl_tb_free(struct tbuf *b);
struct vg_text rl_text_make(const char *s, size_t n, struct vg_pos pos);
struct vg_text rl_text_dup(const struct vg_text *t);
void rl_text_free(struct vg_text *t);
void rl_text_modify(struct vg_text *dst, struct vg_text *t, bool append);

/* ---- the rule set (rules_set.c) ------------------------------------------ */

/* An exception: its fields and comparisons, and one rendered term per value
 * (one field: the value; several: "f1 c1 v1 and f2 c2 v2"). */
struct exc {
	char *name;
	struct vg_pos pos;
	bool single; /* `fields` was one string */
	size_t nf;
	char **fields;
	struct vg_pos *fpos;
	char **comps; /* nf operators, or NULL: "=" per field ("in" for a list value) */
	struct vg_pos *cpos;
	struct vg_text *terms;
	size_t nterms;
};

struct rule_slot {
	struct vg_rule_def def; /* first member: rules[] point at it */
	struct vg_text base;	/* the condition without its exceptions */
	struct exc *exc;
	size_t nexc;
};

struct list_slot {
	struct vg_list_def def;
	const char **expanded; /* cache of vg_ruleset_list_items */
	size_t nexp;
	int expanding;
	bool too_large; /* (cached) more than VG_COND_MAX_ITEMS items expanded */
};

/* Open addressing over one kind of item by name: index + 1, 0 empty. */
struct name_ix {
	uint32_t *slots;
	uint32_t mask;
};

struct vg_ruleset {
	struct vg_rule_def **rules;
	size_t nrules, caprules;
	struct vg_macro_def **macros;
	size_t nmacros, capmacros;
	struct list_slot **lists;
	size_t nlists, caplists;
	char **files; /* names kept alive for positions */
	size_t nfiles;
	struct vg_ruleset *parent; /* look-ups fall back to it */
	struct name_ix rule_ix, macro_ix, list_ix;
	bool cached; /* some list's expansion is cached */
};

struct rule_slot *rl_slot_of(struct vg_rule_def *r);
void rl_free_strv(char **v, size_t n);
void rl_exc_free(struct exc *e);
void rl_exc_free_all(struct exc *v, size_t n);
void rl_rule_free(struct vg_rule_def *r);
void rl_list_uncache(struct vg_ruleset *rs);
/* rs's own items only (no parent) */
long rl_rule_index(const struct vg_ruleset *rs, const char *name); /* -1: none */
struct vg_rule_def *rl_find_rule(const struct vg_ruleset *rs, const char *name);
struct vg_macro_def *rl_find_macro(const struct vg_ruleset *rs, const char *name);
struct list_slot *rl_find_list(const struct vg_ruleset *rs, const char *name);
/* Append an item whose name rs does not have yet. */
void rl_add_rule(struct vg_ruleset *rs, struct vg_rule_def *r);
void rl_add_macro(struct vg_ruleset *rs, struct vg_macro_def *m);
void rl_add_list(struct vg_ruleset *rs, struct list_slot *l);

/* ---- reading YAML (rules_yaml.c) ----------------------------------------- */

/* One input being loaded. */
struct loader {
	struct vg_ruleset *rs;
	struct vg_diag *d;
	const char *file;
	const char *src; /* the whole text, for raw scalar slices */
	size_t srclen;
	size_t *cmap; /* character index -> byte offset (libyaml marks count
		       * characters); NULL when they are the same */
	size_t nchars;
	yaml_document_t doc;
	int errors;
	const char *kind; /* "rule", "macro", "list": how messages name the item */
};

void rl_build_cmap(struct loader *l);
struct vg_pos rl_node_pos(const struct loader *l, const yaml_node_t *n);
/* An error / a warning at node n, naming the item when there is one. */
void rl_lerr(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void rl_lwarn(struct loader *l, const yaml_node_t *n, const char *item, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
yaml_node_t *rl_node(struct loader *l, int id);
const char *rl_scalar(yaml_node_t *n);
yaml_node_t *rl_get(struct loader *l, yaml_node_t *map, const char *key);
size_t rl_seq_len(const yaml_node_t *n);
yaml_node_t *rl_seq_at(struct loader *l, yaml_node_t *n, size_t i);
int rl_in_strs(const char *const *v, const char *s);
int rl_check_keys(struct loader *l, yaml_node_t *map, const char *const *known, const char *what,
		  const char *item);
int rl_want_scalar(struct loader *l, yaml_node_t *n, const char *key, const char *item);
int rl_get_bool(struct loader *l, yaml_node_t *n, const char *key, const char *item, bool *out);
struct vg_text rl_cond_text(struct loader *l, yaml_node_t *n);
struct vg_text rl_output_text(struct loader *l, yaml_node_t *n);
char *rl_trimmed_value(yaml_node_t *n);
char **rl_strings_of(struct loader *l, yaml_node_t *n, const char *key, const char *item,
		     size_t *count);
int rl_read_modifiers(struct loader *l, yaml_node_t *item, const char *name,
		      const char *const *keys, const char *const *appendable, int *modes,
		      bool *append, yaml_node_t **ov);

/* ---- exceptions (rules_except.c) ----------------------------------------- */

/* What an item's `exceptions` does to a rule: new exceptions, or values
 * appended to an existing one (target >= 0). */
struct exc_op {
	struct exc e;
	long target;
};

/* The public condition from the base and the exceptions. */
void rl_rule_rebuild(struct rule_slot *s);
int rl_parse_exceptions(struct loader *l, const char *item, yaml_node_t *seq,
			const struct rule_slot *old, struct exc_op **out, size_t *nout);
void rl_apply_exceptions(struct rule_slot *s, struct exc_op *ops, size_t n);

#endif
