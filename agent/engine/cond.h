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
	 * there is no such list, -2 if it has more than VG_COND_MAX_ITEMS
	 * items once flattened (the compiler reports it). */
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
	/* Optional: told of what compiles but is suspect, with where it is (an
	 * evt.type name no event has: the comparison never matches).  Called
	 * during vg_cond_compile, also when it then fails. */
	void (*warn)(void *ctx, const struct vg_pos *pos, const char *msg);
};

struct vg_cond_fieldset;
struct vg_cond_fieldset *vg_cond_fieldset_new(void);
/* Free only after every condition compiled with it. */
void vg_cond_fieldset_free(struct vg_cond_fieldset *fs);

/* The most one condition may grow to once its macros and lists are
 * expanded: a macro is inlined at each use, so twenty macros that each use
 * the one before twice are a million comparisons.  Past a limit the
 * compile fails with "condition too large: ...", at the use of the macro
 * the condition names.  Compile time is bounded with them (no part of the
 * compiler is worse than linear in these, per event type). */
#define VG_COND_MAX_TEXT (1 << 20) /* bytes of condition and macro text */
#define VG_COND_MAX_CHECKS 20000   /* comparisons */
#define VG_COND_MAX_ITEMS 262144   /* list items in `in`/`intersects`/`pmatch` sets */

/* What kind of error a compile failed with: callers decide on the kind,
 * never on the message's text (which is for people). */
enum vg_cond_errkind {
	VG_CERR_NONE,	       /* no error (a compile that succeeded) */
	VG_CERR_SYNTAX,	       /* malformed text: a token out of place, unbalanced
				  parentheses, an unterminated string... */
	VG_CERR_UNKNOWN_FIELD, /* a name used as a field (an operator or an argument
				  follows it) that no field has */
	VG_CERR_UNKNOWN_MACRO, /* a name that is neither a field nor a macro */
	VG_CERR_MACRO_LOOP,    /* a macro that refers to itself */
	VG_CERR_FIELD_ARG,     /* a field argument missing, not taken, or malformed */
	VG_CERR_TYPE,	       /* a constant or operator that does not fit the field */
	VG_CERR_REGEX,	       /* a regex that does not compile */
	VG_CERR_LIMIT,	       /* nesting past what the compiler allows, or a
				  condition past VG_COND_MAX_* */
};

struct vg_cond_err {
	struct vg_pos pos; /* where the error is */
	enum vg_cond_errkind kind;
	char msg[512];
};

struct vg_cond;

/* Compile `text` found at `where` (its first character).  NULL on error with
 * *err filled (its kind, and a message: "unknown field proc.nme", "expected
 * ')'", "undefined macro x"...). */
struct vg_cond *vg_cond_compile(const char *text, const struct vg_pos *where,
				const struct vg_cond_env *env, struct vg_cond_err *err);
void vg_cond_free(struct vg_cond *c);

/* Per-thread evaluation scratch (field values); reuse it across events. */
struct vg_cond_scratch;
struct vg_cond_scratch *vg_cond_scratch_new(void);
void vg_cond_scratch_free(struct vg_cond_scratch *s);
/* How many regex matches made with s were not decided (a subject over the
 * length cap, or a pattern needing more matcher states than allowed) and
 * counted as matches; see docs/rules.md. */
uint64_t vg_cond_scratch_regex_undecided(const struct vg_cond_scratch *s);

bool vg_cond_eval(const struct vg_cond *c, const struct vg_event *ev, struct vg_cond_scratch *s);
/* The same for an event whose type the caller knows is one of
 * vg_cond_evttypes(c) (0 <= type < VG_T_MAX): the engine's index. */
bool vg_cond_eval_typed(const struct vg_cond *c, const struct vg_event *ev,
			struct vg_cond_scratch *s);
/* vg_cond_eval_typed for a run of conditions compiled against one field
 * set, on one event: vg_cond_begin() once (and again after anything else
 * used s), then vg_cond_eval_begun() for each. */
void vg_cond_begin(const struct vg_cond *c, const struct vg_event *ev, struct vg_cond_scratch *s);
bool vg_cond_eval_begun(const struct vg_cond *c, const struct vg_event *ev,
			struct vg_cond_scratch *s);
/* The same by walking the tree: the reference vg_cond_eval's compiled form
 * is tested against (slower). */
bool vg_cond_eval_tree(const struct vg_cond *c, const struct vg_event *ev,
		       struct vg_cond_scratch *s);

/* Event types the condition can match: types[t] = 1 for each t < VG_T_MAX
 * that can match.  A condition that does not constrain evt.type sets all. */
void vg_cond_evttypes(const struct vg_cond *c, uint8_t types[VG_T_MAX]);

/* A group: up to 64 conditions compiled against one field set, evaluated
 * in order on events of one type (the engine's rules of that type).  Most
 * share their first comparisons (macros: open_write, spawned_process...)
 * and most events fail them.  The build finds for each member the
 * comparisons it needs to have a given result to be true (its conjuncts,
 * through macros, and those common to every branch of an or) and the ones
 * its program makes first; evaluating walks the members in order, and each
 * comparison a member's program makes first rules out, at once, every
 * member that needs the other result.  Nothing is evaluated that the
 * members would not evaluate themselves.  NULL when n > 64 or type is out
 * of range. */
struct vg_cond_group;
struct vg_cond_group *vg_cond_group_new(const struct vg_cond *const *c, size_t n, int type);
void vg_cond_group_free(struct vg_cond_group *g);
/* The members that can be true on this type at all: bit i for c[i]. */
uint64_t vg_cond_group_members(const struct vg_cond_group *g);
/* Walking the members on one event: vg_cond_group_start, then (after
 * vg_cond_begin) vg_cond_group_next returns each member true on ev, in
 * order, and -1 when none is left. */
struct vg_cond_group_it {
	uint64_t alive; /* members not yet ruled out nor returned */
	uint64_t done;	/* comparisons made (the first 64) */
};
void vg_cond_group_start(const struct vg_cond_group *g, struct vg_cond_group_it *it);
int vg_cond_group_next(const struct vg_cond_group *g, const struct vg_event *ev,
		       struct vg_cond_scratch *s, struct vg_cond_group_it *it);
/* How many distinct comparisons the members' programs make first (tests). */
int vg_cond_group_keys(const struct vg_cond_group *g);

/* The fields a condition reads (for warnings and docs): calls fn per field. */
void vg_cond_fields(const struct vg_cond *c, void (*fn)(void *ctx, const struct vg_field *f),
		    void *ctx);

/* Walking a compiled condition, for analyses outside the compiler (the
 * prefilter, agent/engine/prefilter.c).  A node is an and/or of kids, a
 * not of one kid, a constant or a comparison. */
enum vg_cnode { VG_CN_AND, VG_CN_OR, VG_CN_NOT, VG_CN_CHECK, VG_CN_TRUE, VG_CN_FALSE };
struct vg_cond_node;
const struct vg_cond_node *vg_cond_root(const struct vg_cond *c);
enum vg_cnode vg_cond_node_kind(const struct vg_cond_node *n);
int vg_cond_node_nkids(const struct vg_cond_node *n);
const struct vg_cond_node *vg_cond_node_kid(const struct vg_cond_node *n, int i);

/* A comparison as an analysis sees it.  plain: the left side is the field
 * itself (no argument, no transformer, no list modifier) compared to a
 * constant or a set of constants (not to another field). */
struct vg_cond_check {
	const struct vg_field *field;
	bool plain;
	bool arg;	     /* the field has an argument ([n], [key]) */
	bool xform;	     /* transformers apply to the field */
	bool quant;	     /* a list modifier (anyof, allof...) */
	bool rhs_field;	     /* compared to another field: rhs, rhs_arg */
	struct vg_farg farg; /* the field's argument */
	const struct vg_field *rhs;
	struct vg_farg rhs_arg;
	const char *op;	      /* "=", "!=", "<", "startswith", "in", "pmatch", "exists"... */
	const uint8_t *types; /* evt.type: the types named (op "=" or "!="), else NULL */
	int ktype;	      /* the constant's enum vg_ftype */
	const char *s;	      /* the constant as a string (its text for other types) */
	uint32_t len;
	int64_t i;     /* numbers and booleans */
	uint32_t nset; /* in, intersects, pmatch: the set's size */
};
void vg_cond_node_check(const struct vg_cond_node *n, struct vg_cond_check *out);
/* Item i < nset of a comparison's set: as a string (len) and a number. */
const char *vg_cond_check_item(const struct vg_cond_node *n, uint32_t i, uint32_t *len,
			       int64_t *num);

#endif
