/* cond.h - Falco's condition language: parse, compile, evaluate.
 *
 * A condition is compiled once (macros inlined, lists expanded, fields
 * resolved, globs/regexes precompiled, `in` sets hashed, pmatch prefix
 * trees built) into an immutable struct vg_cond that evaluates without
 * allocating.  Grammar and semantics follow Falco: or < and < not,
 * parentheses, comparison operators, `exists`, modifiers, transformers,
 * val(field), field arguments [n] / [key].
 *
 * The compiler never reads YAML: it asks the caller's environment for
 * macros (their text and where that text starts, for error positions)
 * and lists.
 */
#ifndef VIGIL_COND_H
#define VIGIL_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "fields.h"

/* A position in a rules file; line and col are 1-based. */
struct vg_pos {
	const char *file;
	int line, col;
};

struct vg_cond_env {
	void *ctx;
	/* Text of macro `name` and the position of its first character (the
	 * compiler advances line/col over the text itself); NULL if unknown. */
	const char *(*macro)(void *ctx, const char *name, struct vg_pos *pos);
	/* Items of list `name` (already flattened); returns the count, -1 if
	 * there is no such list. */
	int (*list)(void *ctx, const char *name, const char *const **items);
	/* Field resolver; NULL means vg_field_find (tests install fakes). */
	const struct vg_field *(*field)(void *ctx, const char *name, size_t len,
					struct vg_farg *arg, size_t *keylen);
	/* Event type id of a name; NULL means vg_evtype_by_name.  Names that
	 * are not known (-1) match nothing: Falco rules may name syscalls
	 * vigil does not capture. */
	int (*evtype)(void *ctx, const char *name);
	/* Optional: conditions compiled with the same field set read each
	 * (field, argument) once per event, whichever rule asks first. */
	struct vg_cond_fieldset *fieldset;
};

struct vg_cond_fieldset;
struct vg_cond_fieldset *vg_cond_fieldset_new(void);
/* Free only after every condition compiled with it. */
void vg_cond_fieldset_free(struct vg_cond_fieldset *fs);

struct vg_cond_err {
	struct vg_pos pos; /* where the error is */
	char msg[512];
};

struct vg_cond;

/* Compile `text` found at `where` (its first character).  NULL on error with
 * *err filled ("unknown field proc.nme", "expected ')'", "undefined macro
 * x"...). */
struct vg_cond *vg_cond_compile(const char *text, const struct vg_pos *where,
				const struct vg_cond_env *env, struct vg_cond_err *err);
void vg_cond_free(struct vg_cond *c);

/* Per-thread evaluation scratch (field values); reuse it across events. */
struct vg_cond_scratch;
struct vg_cond_scratch *vg_cond_scratch_new(void);
void vg_cond_scratch_free(struct vg_cond_scratch *s);

bool vg_cond_eval(const struct vg_cond *c, const struct vg_evt *ev, struct vg_cond_scratch *s);
/* The same for an event whose type the caller knows is one of
 * vg_cond_evttypes(c) (0 <= type < VG_T_MAX): the engine's index. */
bool vg_cond_eval_typed(const struct vg_cond *c, const struct vg_evt *ev,
			struct vg_cond_scratch *s);
/* vg_cond_eval_typed for a run of conditions compiled against one field
 * set, on one event: vg_cond_begin() once (and again after anything else
 * used s), then vg_cond_eval_begun() for each. */
void vg_cond_begin(const struct vg_cond *c, const struct vg_evt *ev, struct vg_cond_scratch *s);
bool vg_cond_eval_begun(const struct vg_cond *c, const struct vg_evt *ev,
			struct vg_cond_scratch *s);
/* The same by walking the tree: the reference vg_cond_eval's compiled form
 * is tested against (slower). */
bool vg_cond_eval_tree(const struct vg_cond *c, const struct vg_evt *ev, struct vg_cond_scratch *s);

/* Event types the condition can match: types[t] = 1 for each t < VG_T_MAX
 * that can match.  A condition that does not constrain evt.type sets all. */
void vg_cond_evttypes(const struct vg_cond *c, uint8_t types[VG_T_MAX]);

/* The fields a condition reads (for warnings and docs): calls fn per field. */
void vg_cond_fields(const struct vg_cond *c, void (*fn)(void *ctx, const struct vg_field *f),
		    void *ctx);

#endif
