/* cond.c - Falco's condition language: parse, compile, evaluate (see cond.h).
 *
 * Parsing and compiling are one pass: each comparison is compiled as soon
 * as it is read, against the field's type, so the tree that comes out
 * holds typed constants, hashed sets, compiled regexes and bitmaps of
 * event types, and evaluating it reads field values and compares, nothing
 * else.  Macros are parsed from their own text (at their own position, so
 * errors point into the macro) and inlined where they are used.
 *
 * Evaluation is a flat jump program per condition; comparisons equal
 * across the conditions of one field set share one result per event, and
 * field values one extraction.  A group (the engine's rules of one event
 * type) also knows, per rule, the comparisons it needs: one made by any
 * rule rules out at once every rule that needs the other result.
 */
#include "cond.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- compiled form ------------------------------------------------------ */

enum nkind { N_AND, N_OR, N_NOT, N_CHECK, N_CONST };

enum op {
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_CONTAINS,
	OP_ICONTAINS,
	OP_BCONTAINS,
	OP_STARTSWITH,
	OP_BSTARTSWITH,
	OP_ENDSWITH,
	OP_GLOB,
	OP_IGLOB,
	OP_REGEX,
	OP_IN,
	OP_INTERSECTS,
	OP_PMATCH,
	OP_EXISTS,
};

static const struct {
	const char *name;
	enum op op;
} op_names[] = {
	{"=", OP_EQ},
	{"==", OP_EQ},
	{"!=", OP_NE},
	{"<", OP_LT},
	{"<=", OP_LE},
	{">", OP_GT},
	{">=", OP_GE},
	{"contains", OP_CONTAINS},
	{"icontains", OP_ICONTAINS},
	{"bcontains", OP_BCONTAINS},
	{"startswith", OP_STARTSWITH},
	{"bstartswith", OP_BSTARTSWITH},
	{"endswith", OP_ENDSWITH},
	{"glob", OP_GLOB},
	{"iglob", OP_IGLOB},
	{"regex", OP_REGEX},
	{"in", OP_IN},
	{"intersects", OP_INTERSECTS},
	{"pmatch", OP_PMATCH},
	{"exists", OP_EXISTS},
};

enum xform { X_TOLOWER, X_TOUPPER, X_B64, X_BASENAME, X_LEN };
static const char *const xform_names[] = {"tolower", "toupper", "b64", "basename", "len"};
#define MAX_XF 4

/* how a set of several values is compared (Falco's list modifiers) */
enum quant { Q_DEFAULT, Q_ANY, Q_ALL, Q_ONE };

struct fref {
	const struct vg_field *f;
	struct vg_farg arg;
	char *key; /* owned copy of the [key] argument */
	uint8_t xf[MAX_XF];
	int nxf;
	int type; /* value type after the transformers */
	int slot; /* index in the field set's per-event cache, -1 for none */
};

struct fs_ent {
	const struct vg_field *f;
	int kind;
	int64_t index;
	char *key;
};

/* a distinct comparison, by its serialized form (see memo_id) */
struct fs_check {
	uint32_t hash, len;
	char *key;
};

struct vg_cond_fieldset {
	uint64_t id; /* unique in the process: a scratch tells field sets apart by it, not by
			address (a new set may reuse a freed one's) */
	struct fs_ent *v;
	int n;
	struct fs_check *chk;
	int nchk, capchk;
	uint32_t *chk_slots; /* open addressing over chk, index+1, 0 = empty */
	uint32_t chk_mask;
};

struct vg_cond_fieldset *vg_cond_fieldset_new(void)
{
	static _Atomic uint64_t next_id = 1;
	struct vg_cond_fieldset *fs = vg_xcalloc(1, sizeof(*fs));
	fs->id = next_id++;
	return fs;
}

void vg_cond_fieldset_free(struct vg_cond_fieldset *fs)
{
	if (!fs)
		return;
	for (int i = 0; i < fs->n; i++)
		free(fs->v[i].key);
	free(fs->v);
	for (int i = 0; i < fs->nchk; i++)
		free(fs->chk[i].key);
	free(fs->chk);
	free(fs->chk_slots);
	free(fs);
}

/* The slot of (field, argument) in fs, added when new. */
static int fs_slot(struct vg_cond_fieldset *fs, const struct fref *fr)
{
	for (int i = 0; i < fs->n; i++) {
		const struct fs_ent *e = &fs->v[i];
		if (e->f == fr->f && e->kind == fr->arg.kind && e->index == fr->arg.index &&
		    ((!e->key && !fr->arg.key) ||
		     (e->key && fr->arg.key && !strcmp(e->key, fr->arg.key))))
			return i;
	}
	fs->v = vg_xrealloc(fs->v, (size_t)(fs->n + 1) * sizeof(*fs->v));
	struct fs_ent *e = &fs->v[fs->n];
	e->f = fr->f;
	e->kind = fr->arg.kind;
	e->index = fr->arg.index;
	e->key = fr->arg.key ? vg_xstrdup(fr->arg.key) : NULL;
	return fs->n++;
}

/* a typed constant */
struct konst {
	int type;
	char *s; /* VG_FT_STR (also kept for the other types, for messages) */
	uint32_t len;
	uint64_t u;
	int64_t i;
	uint8_t family, prefix, ip[16];
};

/* a set of constants: strings are hashed, the rest scanned */
struct kset {
	struct konst *k;
	uint32_t n;
	uint32_t *slots; /* open addressing, index+1, 0 = empty */
	uint32_t mask;
	int icase;
};

struct node {
	enum nkind kind;
	union {
		struct {
			struct node **kids;
			int n;
		} list;
		struct node *kid;
		bool value;
		struct {		/* what every evaluation reads first, rarely used last */
			uint8_t *types; /* evt.type fast path: bitmap of VG_T_MAX */
			enum op op;
			enum quant quant;
			int rhs_field; /* compare against val(field) */
			int pc1;       /* 1 + its instruction in the program, 0: none */
			int has_re;
			struct fref lhs;
			struct konst k;
			struct kset set;
			struct fref rhs;
			regex_t re;
		} chk;
	};
};

/* The tree flattened into jumps: one instruction per comparison, with where
 * to go when it is true and when it is false (AND, OR, NOT and constants
 * become edges), so evaluating is a loop over comparisons, in the tree's
 * order and with its short circuits, without recursion. */
#define PC_TRUE (-1)
#define PC_FALSE (-2)

struct ins {		      /* 64 bytes; what a shared result needs in the first 16 */
	int memo;	      /* the comparison's id in the field set, -1 for none */
	int t, f;	      /* next pc, or PC_TRUE / PC_FALSE */
	int fslot;	      /* see below */
	const uint8_t *types; /* evt.type check: its bitmap, else NULL */
	const struct node *chk;
	/* A copy of the common comparison (one cached field against one
	 * constant, no modifier) so that it is made without reading the
	 * node: fslot >= 0 when it applies. */
	union {
		const char *ks;
		const struct kset *set; /* in (strings) */
	};
	uint64_t ku;
	int64_t ki;
	uint32_t klen;
	uint8_t fop, ftype;
	uint8_t neg; /* evt.type check with != */
};

#define TBITS_WORDS ((VG_T_MAX + 63) / 64)

/* One allocation, cache-line aligned, what evaluation reads first at the
 * front: the header and the first instruction share a line. */
struct vg_cond {
	int entry, nprog;
	uint64_t fs_id; /* the field set slots and memo ids refer to */
	/* the event types the condition can match (vg_cond_evttypes), after
	 * the program; the program is specialized for them */
	uint64_t *tbits;
	struct node *root;
	struct ins prog[];
};

/* Field values already extracted for the current event: many rules read
 * the same fields (proc.name, fd.name, evt.arg.flags), and some fields
 * render text.  Indexed by the field set's slot; valid while gen matches.
 * One cache line per field, the entries side by side: a single value is
 * held in the entry, several values and copied text in the per-event arena
 * (an entry with the 8 KB text buffer of a struct vg_fvals inline made
 * every field read of an event a cache and TLB miss of its own). */
#define FC_HASHES 3
struct fcache_ent {
	uint64_t gen;
	uint32_t n;	 /* number of values; 0 = unset */
	uint32_t hashed; /* bit i: hash[i] holds the hash of value i */
	uint32_t hash[FC_HASHES];
	const struct vg_fval *v; /* the values when n > 1 (in the arena) */
	struct vg_fval v0;	 /* the value when n == 1 */
};
_Static_assert(sizeof(struct fcache_ent) == 64, "a field-cache entry is one cache line");

static inline const struct vg_fval *ent_vals(const struct fcache_ent *e)
{
	return e->n > 1 ? e->v : &e->v0;
}

/* The arena: chunks kept across events, reset (not freed) when the event
 * changes.  A chunk always has room for one whole extraction. */
#define ARENA_CHUNK (64 * 1024)

struct vg_cond_scratch { /* read for every comparison: one cache line */
	/* results of comparisons on the current event, by memo id: gen << 1
	 * | result, valid where the gen is the current one */
	uint64_t *memo;
	int mcap;
	int cap;
	struct fcache_ent *ent;	   /* cap entries, 64-byte aligned */
	const struct vg_event *ev; /* the event the cache holds values of */
	uint64_t fs_id;		   /* the field set whose slots and ids the cache holds */
	uint64_t ev_num, ev_ts, gen;
	char **chunk; /* the arena */
	int nchunk, cur;
	size_t aused; /* bytes used of chunk[cur] */
	/* rarely used, large (lhs also receives what the cache then copies) */
	struct vg_fvals lhs, rhs;
	char xbuf[VG_FVALS_BUF];  /* transformed lhs values */
	char rxbuf[VG_FVALS_BUF]; /* transformed val() values */
};

/* ---- small helpers ------------------------------------------------------ */

/* Set lookups hash whole paths and command lines: util.h's word-at-a-time
 * hash, case-folded byte by byte for the icase sets (the same value as
 * hashing the lowered string). */
static uint32_t hash_bytes(const char *p, size_t n, int icase)
{
	if (!icase)
		return vg_hash_bytes(p, n);
	uint64_t h = vg_hash_seed(n);
	while (n) {
		size_t k = n < 8 ? n : 8;
		uint64_t w = 0;
		for (size_t i = 0; i < k; i++)
			w |= (uint64_t)(unsigned char)tolower((unsigned char)p[i]) << (8 * i);
		h = vg_hash_mix(h, w);
		p += k;
		n -= k;
	}
	return vg_hash_end(h);
}

static int bytes_eq(const char *a, size_t an, const char *b, size_t bn, int icase)
{
	if (an != bn)
		return 0;
	return icase ? !strncasecmp(a, b, an) : !memcmp(a, b, an);
}

/* Substring search for the short needles of rule constants over short
 * values (paths, names).  glibc's memmem clears a 256-byte shift table on
 * every call, which costs more than the whole scan here: find the needle's
 * first byte with memchr, then compare the rest. */
static int has_sub(const char *h, size_t hn, const char *n, size_t nn)
{
	if (nn == 0)
		return 1;
	if (hn < nn)
		return 0;
	const char *end = h + (hn - nn) + 1;
	const char c = n[0];
	while (h < end) {
		const char *q = memchr(h, c, (size_t)(end - h));
		if (!q)
			return 0;
		if (!memcmp(q + 1, n + 1, nn - 1))
			return 1;
		h = q + 1;
	}
	return 0;
}

static const char *memmem_icase(const char *h, size_t hn, const char *n, size_t nn)
{
	if (nn == 0)
		return h;
	const int c = tolower((unsigned char)n[0]);
	for (size_t i = 0; i + nn <= hn; i++)
		if (tolower((unsigned char)h[i]) == c && !strncasecmp(h + i, n, nn))
			return h + i;
	return NULL;
}

static void kset_build(struct kset *s, int icase)
{
	s->icase = icase;
	uint32_t cap = 8;
	while (cap < s->n * 2)
		cap <<= 1;
	s->mask = cap - 1;
	s->slots = vg_xcalloc(cap, sizeof(uint32_t));
	for (uint32_t i = 0; i < s->n; i++) {
		uint32_t h = hash_bytes(s->k[i].s, s->k[i].len, icase) & s->mask;
		/* a value already in is not added again: lists repeat items
		 * (nested lists), and runs of equal keys would make every
		 * insert and look-up walk them */
		while (s->slots[h] && !bytes_eq(s->k[s->slots[h] - 1].s, s->k[s->slots[h] - 1].len,
						s->k[i].s, s->k[i].len, icase))
			h = (h + 1) & s->mask;
		if (!s->slots[h])
			s->slots[h] = i + 1;
	}
}

static int kset_has_hashed(const struct kset *s, const char *p, size_t n, uint32_t hash)
{
	uint32_t h = hash & s->mask;
	while (s->slots[h]) {
		const struct konst *k = &s->k[s->slots[h] - 1];
		if (bytes_eq(k->s, k->len, p, n, s->icase))
			return 1;
		h = (h + 1) & s->mask;
	}
	return 0;
}

static int kset_has_str(const struct kset *s, const char *p, size_t n)
{
	uint32_t h = hash_bytes(p, n, s->icase) & s->mask;
	while (s->slots[h]) {
		const struct konst *k = &s->k[s->slots[h] - 1];
		if (bytes_eq(k->s, k->len, p, n, s->icase))
			return 1;
		h = (h + 1) & s->mask;
	}
	return 0;
}

/* ---- lexer and parser --------------------------------------------------- */

struct parser {
	const char *p;	   /* next character */
	struct vg_pos pos; /* of *p */
	const struct vg_cond_env *env;
	struct vg_cond_err *err;
	int failed;
	const char *stack[64]; /* macros being expanded, to catch loops */
	int depth;
	int nest;	       /* open parentheses, nots and transformers: bounds the recursion */
	struct budget *budget; /* shared with the parsers of the macros inside */
};

#define MAX_NEST 200

/* What one condition may grow to, macros and lists expanded (see cond.h):
 * spent as macros are inlined, comparisons made and list items added.
 * top is the macro the condition itself uses that is being expanded, so
 * that an error names it where the condition uses it. */
struct budget {
	size_t text, checks, items;
	const char *top;
	struct vg_pos top_at;
};

/* Enter one level of nesting; 0 (error set) when too deep. */
static int nest_in(struct parser *ps);

static void perr(struct parser *ps, const struct vg_pos *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void perr(struct parser *ps, const struct vg_pos *at, const char *fmt, ...)
{
	if (ps->failed)
		return; /* keep the first, innermost error */
	ps->failed = 1;
	ps->err->pos = *at;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
	va_end(ap);
}

/* Spend n of *left; 0 (error set at the macro the condition uses, or at)
 * when that goes past the budget. */
static int spend(struct parser *ps, size_t *left, size_t n, const struct vg_pos *at,
		 const char *what, size_t max)
{
	if (n <= *left) {
		*left -= n;
		return 1;
	}
	*left = 0;
	if (ps->depth && ps->budget->top)
		perr(ps, &ps->budget->top_at,
		     "condition too large: macro '%s' expands to more than %zu %s (the limit of "
		     "one condition)",
		     ps->budget->top, max, what);
	else
		perr(ps, at, "condition too large: more than %zu %s (the limit of one condition)",
		     max, what);
	return 0;
}

static void advance(struct parser *ps, size_t n)
{
	for (size_t i = 0; i < n && *ps->p; i++, ps->p++) {
		if (*ps->p == '\n') {
			ps->pos.line++;
			ps->pos.col = 1;
		} else {
			ps->pos.col++;
		}
	}
}

static void skip_ws(struct parser *ps)
{
	while (*ps->p && isspace((unsigned char)*ps->p))
		advance(ps, 1);
}

static int is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* A keyword or operator word at the cursor, not followed by an identifier char. */
static int at_word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);
	return !strncmp(ps->p, w, n) && !is_ident_char(ps->p[n]);
}

/* Read an identifier (field or macro name) with an optional [arg]. */
static char *read_ident(struct parser *ps, size_t *name_len)
{
	const char *start = ps->p;
	size_t n = 0;
	while (is_ident_char(ps->p[n]))
		n++;
	if (n == 0)
		return NULL;
	*name_len = n;
	if (ps->p[n] == '[') {
		int depth = 0;
		size_t i = n;
		for (; ps->p[i]; i++) {
			if (ps->p[i] == '[')
				depth++;
			else if (ps->p[i] == ']' && --depth == 0)
				break;
		}
		if (ps->p[i] != ']') {
			perr(ps, &ps->pos, "unbalanced '[' in '%.*s'", (int)n, start);
			return NULL;
		}
		n = i + 1;
	}
	char *s = vg_xstrndup(start, n);
	advance(ps, n);
	return s;
}

/* A quoted string with escapes; the cursor is on the quote. */
static char *read_quoted(struct parser *ps, uint32_t *len)
{
	char q = *ps->p;
	struct vg_pos at = ps->pos;
	advance(ps, 1);
	size_t cap = 64, n = 0;
	char *out = vg_xmalloc(cap);
	while (*ps->p && *ps->p != q) {
		char c = *ps->p;
		if (c == '\\' && ps->p[1]) {
			advance(ps, 1);
			c = *ps->p;
			switch (c) {
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			default:
				break; /* \\ \" \' and anything else: the char itself */
			}
		}
		if (n + 2 > cap)
			out = vg_xrealloc(out, cap *= 2);
		out[n++] = c;
		advance(ps, 1);
	}
	if (*ps->p != q) {
		perr(ps, &at, "unterminated string");
		free(out);
		return NULL;
	}
	advance(ps, 1);
	out[n] = 0;
	*len = (uint32_t)n;
	return out;
}

/* A value: quoted, or a bare word up to whitespace, ',', '(' or ')'. */
static char *read_value(struct parser *ps, uint32_t *len, int *quoted)
{
	skip_ws(ps);
	*quoted = 0;
	if (*ps->p == '"' || *ps->p == '\'') {
		*quoted = 1;
		return read_quoted(ps, len);
	}
	size_t n = 0;
	while (ps->p[n] && !isspace((unsigned char)ps->p[n]) && ps->p[n] != ',' &&
	       ps->p[n] != '(' && ps->p[n] != ')')
		n++;
	if (n == 0) {
		if (*ps->p)
			perr(ps, &ps->pos, "expected a value, found '%c'", *ps->p);
		else
			perr(ps, &ps->pos, "expected a value, found the end of the condition");
		return NULL;
	}
	char *s = vg_xstrndup(ps->p, n);
	*len = (uint32_t)n;
	advance(ps, n);
	return s;
}

static const struct vg_field *resolve_field(struct parser *ps, const char *name, size_t len,
					    struct vg_farg *arg, size_t *keylen)
{
	if (ps->env->field)
		return ps->env->field(ps->env->ctx, name, len, arg, keylen);
	return vg_field_find(name, len, arg, keylen);
}

static int evtype_id(struct parser *ps, const char *name)
{
	if (ps->env->evtype)
		return ps->env->evtype(ps->env->ctx, name);
	return vg_evtype_by_name(name);
}

/* Resolve "name" or "name[arg]" into a field reference; 0 if not a field. */
static int make_fref(struct parser *ps, const char *text, size_t name_len, struct fref *fr,
		     const struct vg_pos *at)
{
	memset(fr, 0, sizeof(*fr));
	size_t keylen = 0;
	struct vg_farg arg = {0};
	const struct vg_field *f = resolve_field(ps, text, name_len, &arg, &keylen);
	if (!f)
		return 0;
	fr->f = f;
	fr->type = f->type;
	if (arg.kind == 2 && arg.key) { /* dotted key: evt.arg.flags */
		fr->key = vg_xstrndup(arg.key, keylen);
		fr->arg.kind = 2;
		fr->arg.key = fr->key;
	}
	if (text[name_len] == '[') {
		size_t alen = strlen(text) - name_len - 2;
		const char *a = text + name_len + 1;
		if (!(f->flags & (VG_FF_ARG_INDEX | VG_FF_ARG_KEY))) {
			perr(ps, at, "field %s takes no argument", f->name);
			return -1;
		}
		char *end;
		long long idx = strtoll(a, &end, 10);
		if ((f->flags & VG_FF_ARG_INDEX) && alen && end == a + alen) {
			fr->arg.kind = 1;
			fr->arg.index = idx;
		} else if (f->flags & VG_FF_ARG_KEY) {
			free(fr->key);
			fr->key = vg_xstrndup(a, alen);
			fr->arg.kind = 2;
			fr->arg.key = fr->key;
		} else {
			perr(ps, at, "field %s needs a numeric index, got '%.*s'", f->name,
			     (int)alen, a);
			return -1;
		}
	} else if ((f->flags & VG_FF_ARG_REQ) && !fr->arg.kind) {
		perr(ps, at, "field %s needs an argument, e.g. %s[...]", f->name, f->name);
		return -1;
	}
	return 1;
}

/* Idempotent: parse_lhs() frees on error and so may the node holding fr. */
static void fref_free(struct fref *fr)
{
	free(fr->key);
	fr->key = NULL;
	fr->arg.key = NULL;
}

/* lhs: field, or transformer(lhs).  Returns 1 field, 0 not a field (text
 * is then the identifier read, for a macro), -1 error. */
static int parse_lhs(struct parser *ps, struct fref *fr, char **ident, struct vg_pos *at)
{
	skip_ws(ps);
	*at = ps->pos;
	for (int x = 0; x < (int)(sizeof(xform_names) / sizeof(xform_names[0])); x++) {
		size_t n = strlen(xform_names[x]);
		if (!strncmp(ps->p, xform_names[x], n) && ps->p[n] == '(') {
			if (!nest_in(ps))
				return -1;
			advance(ps, n + 1);
			char *dummy = NULL;
			struct vg_pos inner;
			int r = parse_lhs(ps, fr, &dummy, &inner);
			ps->nest--;
			if (r == 0) {
				perr(ps, &inner, "%s() needs a field, found '%s'", xform_names[x],
				     dummy);
				free(dummy);
				return -1;
			}
			free(dummy);
			if (r < 0)
				return -1;
			skip_ws(ps);
			if (*ps->p != ')') {
				perr(ps, &ps->pos, "expected ')' after the field in %s()",
				     xform_names[x]);
				fref_free(fr);
				return -1;
			}
			advance(ps, 1);
			if (fr->nxf == MAX_XF) {
				perr(ps, at, "too many nested transformers");
				fref_free(fr);
				return -1;
			}
			/* len() too: it counts the bytes of a string value */
			if (fr->type != VG_FT_STR) {
				perr(ps, at, "%s() applies to string fields, %s is %s",
				     xform_names[x], fr->f->name, vg_ftype_name(fr->type));
				fref_free(fr);
				return -1;
			}
			if (x == X_LEN)
				fr->type = VG_FT_U64;
			fr->xf[fr->nxf++] = (uint8_t)x;
			return 1;
		}
	}
	size_t name_len = 0;
	char *text = read_ident(ps, &name_len);
	if (!text) {
		if (!ps->failed)
			perr(ps, at, "unexpected %s%.1s%s", *ps->p ? "'" : "end of condition",
			     ps->p, *ps->p ? "'" : "");
		return -1;
	}
	int r = make_fref(ps, text, name_len, fr, at);
	if (r <= 0)
		*ident = text;
	else
		free(text);
	return r;
}

static int read_op(struct parser *ps, enum op *op)
{
	skip_ws(ps);
	const char *p = ps->p;
	if (p[0] == '=' && p[1] == '=')
		return advance(ps, 2), *op = OP_EQ, 1;
	if (p[0] == '=')
		return advance(ps, 1), *op = OP_EQ, 1;
	if (p[0] == '!' && p[1] == '=')
		return advance(ps, 2), *op = OP_NE, 1;
	if (p[0] == '<' && p[1] == '=')
		return advance(ps, 2), *op = OP_LE, 1;
	if (p[0] == '<')
		return advance(ps, 1), *op = OP_LT, 1;
	if (p[0] == '>' && p[1] == '=')
		return advance(ps, 2), *op = OP_GE, 1;
	if (p[0] == '>')
		return advance(ps, 1), *op = OP_GT, 1;
	for (size_t i = 7; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (at_word(ps, op_names[i].name)) {
			advance(ps, strlen(op_names[i].name));
			*op = op_names[i].op;
			return 1;
		}
	return 0;
}

static const char *op_name(enum op op)
{
	for (size_t i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (op_names[i].op == op)
			return op_names[i].name;
	return "?";
}

static int parse_ip(const char *s, struct konst *k, int allow_net)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	int prefix = -1;
	if (slash) {
		if (!allow_net)
			return -1;
		*slash = 0;
		char *end;
		prefix = (int)strtol(slash + 1, &end, 10);
		if (*end || slash[1] == 0)
			return -1;
	}
	memset(k->ip, 0, sizeof(k->ip));
	if (inet_pton(AF_INET, buf, k->ip) == 1) {
		k->family = 4;
		if (prefix < 0)
			prefix = 32;
		if (prefix > 32)
			return -1;
	} else if (inet_pton(AF_INET6, buf, k->ip) == 1) {
		k->family = 6;
		if (prefix < 0)
			prefix = 128;
		if (prefix > 128)
			return -1;
	} else {
		return -1;
	}
	k->prefix = (uint8_t)prefix;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Convert the text s into a constant of the lhs type.  Returns -1 with a
 * reason in why. */
static int make_konst(char *s, uint32_t len, int type, enum op op, struct konst *k, char *why,
		      size_t wlen)
{
	memset(k, 0, sizeof(*k));
	k->s = s;
	k->len = len;
	k->type = type;
	if (op == OP_BCONTAINS || op == OP_BSTARTSWITH) {
		/* hex bytes */
		if (len % 2) {
			snprintf(why, wlen, "'%s' is not an even number of hex digits", s);
			return -1;
		}
		for (uint32_t i = 0; i < len; i += 2) {
			int hi = hexval(s[i]), lo = hexval(s[i + 1]);
			if (hi < 0 || lo < 0) {
				snprintf(why, wlen, "'%s' is not hex bytes", s);
				return -1;
			}
			s[i / 2] = (char)(hi << 4 | lo);
		}
		k->len = len / 2;
		k->type = VG_FT_STR;
		return 0;
	}
	if (op == OP_CONTAINS || op == OP_ICONTAINS || op == OP_STARTSWITH || op == OP_ENDSWITH ||
	    op == OP_GLOB || op == OP_IGLOB || op == OP_REGEX || op == OP_PMATCH) {
		k->type = VG_FT_STR;
		return 0;
	}
	char *end;
	switch (type) {
	case VG_FT_STR:
		return 0;
	case VG_FT_U64:
	case VG_FT_ABSTIME:
	case VG_FT_RELTIME:
		if (!len)
			goto num;
		if (s[0] == '-') {
			k->i = strtoll(s, &end, 0);
			k->u = (uint64_t)k->i;
		} else {
			k->u = strtoull(s, &end, 0);
			k->i = (int64_t)k->u;
		}
		if (*end)
			goto num;
		return 0;
	case VG_FT_S64:
		if (!len)
			goto num;
		k->i = strtoll(s, &end, 0);
		k->u = (uint64_t)k->i;
		if (*end)
			goto num;
		return 0;
	case VG_FT_BOOL:
		if (!strcasecmp(s, "true"))
			k->u = 1;
		else if (!strcasecmp(s, "false"))
			k->u = 0;
		else {
			snprintf(why, wlen, "expected true or false, got '%s'", s);
			return -1;
		}
		return 0;
	case VG_FT_IP:
	case VG_FT_NET:
		if (parse_ip(s, k, type == VG_FT_NET || op == OP_IN || op == OP_INTERSECTS)) {
			snprintf(why, wlen, "'%s' is not an IP address%s", s,
				 type == VG_FT_NET ? " or network" : "");
			return -1;
		}
		return 0;
	}
	return 0;
num:
	snprintf(why, wlen, "expected a number, got '%s'", s);
	return -1;
}

static void konst_free(struct konst *k)
{
	free(k->s);
}

static struct node *new_node(enum nkind kind)
{
	struct node *n = vg_xcalloc(1, sizeof(*n));
	n->kind = kind;
	return n;
}

static void node_free(struct node *n)
{
	if (!n)
		return;
	switch (n->kind) {
	case N_AND:
	case N_OR:
		for (int i = 0; i < n->list.n; i++)
			node_free(n->list.kids[i]);
		free(n->list.kids);
		break;
	case N_NOT:
		node_free(n->kid);
		break;
	case N_CHECK:
		fref_free(&n->chk.lhs);
		fref_free(&n->chk.rhs);
		konst_free(&n->chk.k);
		for (uint32_t i = 0; i < n->chk.set.n; i++)
			konst_free(&n->chk.set.k[i]);
		free(n->chk.set.k);
		free(n->chk.set.slots);
		if (n->chk.has_re)
			regfree(&n->chk.re);
		free(n->chk.types);
		break;
	case N_CONST:
		break;
	}
	free(n);
}

/* List items are condition text in Falco: an item written with quotes
 * ('"10.0.0.0/8"') stands for the string inside them. */
static char *list_item(const char *item, uint32_t *len)
{
	size_t n = strlen(item);
	if (n >= 2 && (item[0] == '"' || item[0] == '\'') && item[n - 1] == item[0]) {
		char *out = vg_xmalloc(n);
		size_t k = 0;
		for (size_t i = 1; i + 1 < n; i++) {
			if (item[i] == '\\' && i + 2 < n)
				i++;
			out[k++] = item[i];
		}
		out[k] = 0;
		*len = (uint32_t)k;
		return out;
	}
	*len = (uint32_t)n;
	return vg_xstrdup(item);
}

/* The items of list `name` from the environment (-1: no such list), spent
 * from the budget; -2 (error set at at) when too many. */
static int env_list(struct parser *ps, const char *name, const struct vg_pos *at,
		    const char *const **items)
{
	int n = ps->env->list ? ps->env->list(ps->env->ctx, name, items) : -1;
	if (n == -2)
		perr(ps, at, "list '%s' has more than %d items once its lists are expanded", name,
		     VG_COND_MAX_ITEMS);
	else if (n > 0 &&
		 !spend(ps, &ps->budget->items, (size_t)n, at, "list items", VG_COND_MAX_ITEMS))
		return -2;
	return n < -1 ? -2 : n;
}

/* Append the items of a parenthesised list (list names expanded). */
static int parse_list(struct parser *ps, struct fref *lhs, enum op op, struct kset *set)
{
	size_t cap = 8;
	set->k = vg_xcalloc(cap, sizeof(struct konst));
	skip_ws(ps);
	if (*ps->p != '(') {
		/* Falco also accepts a bare list name after in/intersects/pmatch */
		uint32_t len;
		int quoted;
		struct vg_pos at = ps->pos;
		char *w = read_value(ps, &len, &quoted);
		if (!w)
			return -1;
		const char *const *items;
		int n = quoted ? -1 : env_list(ps, w, &at, &items);
		if (n == -2) {
			free(w);
			return -1;
		}
		if (n < 0) {
			perr(ps, &at, "'%s' needs a list in parentheses, found '%s'", op_name(op),
			     w);
			free(w);
			return -1;
		}
		free(w);
		for (int i = 0; i < n; i++) {
			if (set->n == cap)
				set->k = vg_xrealloc(set->k, (cap *= 2) * sizeof(struct konst));
			char why[200];
			uint32_t slen;
			char *s = list_item(items[i], &slen);
			if (make_konst(s, slen, lhs->type, op, &set->k[set->n], why, sizeof(why))) {
				perr(ps, &at, "%s: %s", lhs->f->name, why);
				free(s);
				return -1;
			}
			set->n++;
		}
		return 0;
	}
	advance(ps, 1);
	for (;;) {
		skip_ws(ps);
		if (*ps->p == ')') {
			advance(ps, 1);
			return 0;
		}
		struct vg_pos at = ps->pos;
		uint32_t len;
		int quoted;
		char *w = read_value(ps, &len, &quoted);
		if (!w)
			return -1;
		const char *const *items = NULL;
		int n = quoted ? -1 : env_list(ps, w, &at, &items);
		if (n == -2) {
			free(w);
			return -1;
		}
		if (n < 0 &&
		    !spend(ps, &ps->budget->items, 1, &at, "list items", VG_COND_MAX_ITEMS)) {
			free(w);
			return -1;
		}
		int count = n >= 0 ? n : 1;
		for (int i = 0; i < count; i++) {
			uint32_t slen = len;
			char *s = n >= 0 ? list_item(items[i], &slen) : w;
			if (set->n == cap)
				set->k = vg_xrealloc(set->k, (cap *= 2) * sizeof(struct konst));
			char why[200];
			if (make_konst(s, slen, lhs->type, op, &set->k[set->n], why, sizeof(why))) {
				perr(ps, &at, "%s: %s", lhs->f->name, why);
				free(s);
				if (n >= 0)
					free(w);
				return -1;
			}
			set->n++;
		}
		if (n >= 0)
			free(w);
		skip_ws(ps);
		if (*ps->p == ',') {
			advance(ps, 1);
			continue;
		}
		if (*ps->p != ')') {
			perr(ps, &ps->pos, "expected ',' or ')' in the list, found '%c'",
			     *ps->p ? *ps->p : ' ');
			return -1;
		}
	}
}

static int is_evtype_field(const struct fref *fr)
{
	return fr->nxf == 0 && !strcmp(fr->f->name, "evt.type");
}

/* lhs op rhs, with lhs already read */
static struct node *parse_check(struct parser *ps, struct fref *lhs, const struct vg_pos *at)
{
	if (!spend(ps, &ps->budget->checks, 1, at, "comparisons", VG_COND_MAX_CHECKS)) {
		fref_free(lhs);
		return NULL;
	}
	struct node *n = new_node(N_CHECK);
	n->chk.lhs = *lhs;
	memset(lhs, 0, sizeof(*lhs));
	struct fref *L = &n->chk.lhs;
	L->slot = L->nxf == 0 && ps->env->fieldset ? fs_slot(ps->env->fieldset, L) : -1;
	enum op op;
	if (!read_op(ps, &op)) {
		perr(ps, &ps->pos, "expected an operator after %s, found '%.10s'", L->f->name,
		     *ps->p ? ps->p : "end of condition");
		goto fail;
	}
	n->chk.op = op;
	if (op == OP_EXISTS)
		return n;
	skip_ws(ps);
	/* modifiers for list-valued fields */
	static const char *const quants[] = {NULL, "anyof", "allof", "oneof"};
	for (int q = 1; q <= 3; q++)
		if (at_word(ps, quants[q])) {
			n->chk.quant = (enum quant)q;
			advance(ps, strlen(quants[q]));
			skip_ws(ps);
		}
	/* the list fields of Falco's plugins (ka.*): `in` holds when every
	 * value is in the set (intersects: when one is) */
	if (op == OP_IN && n->chk.quant == Q_DEFAULT && (L->f->flags & VG_FF_SETCMP))
		n->chk.quant = Q_ALL;
	if (op == OP_IN || op == OP_INTERSECTS || op == OP_PMATCH) {
		if (op == OP_PMATCH && L->type != VG_FT_STR) {
			/* its constants would be strings, compared as such */
			perr(ps, at, "operator pmatch applies to strings, %s is %s", L->f->name,
			     vg_ftype_name(L->type));
			goto fail;
		}
		if (parse_list(ps, L, op, &n->chk.set))
			goto fail;
		if (L->type == VG_FT_STR)
			kset_build(&n->chk.set, 0);
	} else if (!strncmp(ps->p, "val(", 4)) {
		struct vg_pos vat = ps->pos;
		advance(ps, 4);
		char *ident = NULL;
		struct vg_pos fat;
		int r = parse_lhs(ps, &n->chk.rhs, &ident, &fat);
		if (r == 0)
			perr(ps, &fat, "val() needs a field, found '%s'", ident);
		free(ident);
		if (r <= 0)
			goto fail;
		skip_ws(ps);
		if (*ps->p != ')') {
			perr(ps, &ps->pos, "expected ')' to close val(");
			goto fail;
		}
		advance(ps, 1);
		n->chk.rhs_field = 1;
		if (n->chk.rhs.type != L->type) {
			perr(ps, &vat, "cannot compare %s (%s) with %s (%s)", L->f->name,
			     vg_ftype_name(L->type), n->chk.rhs.f->name,
			     vg_ftype_name(n->chk.rhs.type));
			goto fail;
		}
	} else {
		struct vg_pos vat = ps->pos;
		uint32_t len;
		int quoted;
		char *v = read_value(ps, &len, &quoted);
		if (!v)
			goto fail;
		char why[200];
		if (make_konst(v, len, L->type, op, &n->chk.k, why, sizeof(why))) {
			/* v is n->chk.k.s now: node_free() releases it */
			perr(ps, &vat, "%s: %s", L->f->name, why);
			goto fail;
		}
		if (op == OP_REGEX) {
			int rc = regcomp(&n->chk.re, v, REG_EXTENDED | REG_NOSUB);
			if (rc) {
				char msg[128];
				regerror(rc, &n->chk.re, msg, sizeof(msg));
				perr(ps, &vat, "invalid regex '%s': %s", v, msg);
				goto fail;
			}
			n->chk.has_re = 1;
		}
		if (n->chk.k.type == VG_FT_STR && L->type != VG_FT_STR) {
			perr(ps, &vat, "operator %s applies to strings, %s is %s", op_name(op),
			     L->f->name, vg_ftype_name(L->type));
			goto fail;
		}
		if ((op == OP_LT || op == OP_LE || op == OP_GT || op == OP_GE) &&
		    (L->type == VG_FT_IP || L->type == VG_FT_NET || L->type == VG_FT_BOOL)) {
			perr(ps, &vat, "operator %s does not apply to %s (%s)", op_name(op),
			     L->f->name, vg_ftype_name(L->type));
			goto fail;
		}
	}
	/* evt.type: compare type ids through a bitmap */
	if (is_evtype_field(L) && !n->chk.rhs_field &&
	    (op == OP_EQ || op == OP_NE || op == OP_IN)) {
		n->chk.types = vg_xcalloc(VG_T_MAX, 1);
		if (op == OP_IN) {
			for (uint32_t i = 0; i < n->chk.set.n; i++) {
				int t = evtype_id(ps, n->chk.set.k[i].s);
				if (t >= 0 && t < VG_T_MAX)
					n->chk.types[t] = 1;
			}
		} else {
			int t = evtype_id(ps, n->chk.k.s);
			if (t >= 0 && t < VG_T_MAX)
				n->chk.types[t] = 1;
		}
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

static struct node *parse_or(struct parser *ps);

static struct node *expand_macro(struct parser *ps, const char *name, const struct vg_pos *at)
{
	struct vg_pos mpos = {0};
	const char *text = ps->env->macro ? ps->env->macro(ps->env->ctx, name, &mpos) : NULL;
	if (!text) {
		perr(ps, at, "undefined macro or unknown field '%s'", name);
		return NULL;
	}
	for (int i = 0; i < ps->depth; i++)
		if (!strcmp(ps->stack[i], name)) {
			perr(ps, at, "macro '%s' refers to itself", name);
			return NULL;
		}
	if (ps->depth == (int)(sizeof(ps->stack) / sizeof(ps->stack[0]))) {
		perr(ps, at, "macros nested too deep at '%s'", name);
		return NULL;
	}
	if (!ps->depth) {
		ps->budget->top = name;
		ps->budget->top_at = *at;
	}
	if (!spend(ps, &ps->budget->text, strlen(text) + 1, at, "bytes of text", VG_COND_MAX_TEXT))
		return NULL;
	struct parser sub = *ps;
	sub.p = text;
	sub.pos = mpos;
	if (!sub.pos.line)
		sub.pos.line = sub.pos.col = 1;
	sub.stack[sub.depth++] = name;
	struct node *n = parse_or(&sub);
	if (!ps->depth)
		ps->budget->top = NULL;
	if (n) {
		skip_ws(&sub);
		if (*sub.p) {
			perr(&sub, &sub.pos, "unexpected '%.10s' in macro '%s'", sub.p, name);
			node_free(n);
			n = NULL;
		}
	}
	ps->failed = sub.failed;
	return n;
}

static int nest_in(struct parser *ps)
{
	if (ps->nest >= MAX_NEST) {
		perr(ps, &ps->pos, "condition nested too deep (more than %d levels)", MAX_NEST);
		return 0;
	}
	ps->nest++;
	return 1;
}

static struct node *parse_unary_1(struct parser *ps);

static struct node *parse_unary(struct parser *ps)
{
	skip_ws(ps);
	if (!nest_in(ps))
		return NULL;
	struct node *n = parse_unary_1(ps);
	ps->nest--;
	return n;
}

static struct node *parse_unary_1(struct parser *ps)
{
	skip_ws(ps);
	if (ps->failed)
		return NULL;
	if (at_word(ps, "not")) {
		advance(ps, 3);
		struct node *kid = parse_unary(ps);
		if (!kid)
			return NULL;
		struct node *n = new_node(N_NOT);
		n->kid = kid;
		return n;
	}
	if (*ps->p == '(') {
		struct vg_pos at = ps->pos;
		advance(ps, 1);
		struct node *n = parse_or(ps);
		if (!n)
			return NULL;
		skip_ws(ps);
		if (*ps->p != ')') {
			perr(ps, *ps->p ? &ps->pos : &at,
			     *ps->p ? "expected ')', found '%.10s'" : "unbalanced '(': no ')'%.0s",
			     ps->p);
			node_free(n);
			return NULL;
		}
		advance(ps, 1);
		return n;
	}
	struct fref fr;
	char *ident = NULL;
	struct vg_pos at;
	int r = parse_lhs(ps, &fr, &ident, &at);
	if (r < 0) {
		free(ident);
		return NULL;
	}
	if (r == 0) {
		/* not a field: a macro, unless an operator follows (a typo in a field) */
		enum op op;
		const char *save = ps->p;
		struct vg_pos savepos = ps->pos;
		int has_op = read_op(ps, &op);
		ps->p = save;
		ps->pos = savepos;
		if (has_op || strchr(ident, '[')) {
			perr(ps, &at, "unknown field '%s'", ident);
			free(ident);
			return NULL;
		}
		struct node *n = expand_macro(ps, ident, &at);
		free(ident);
		return n;
	}
	return parse_check(ps, &fr, &at);
}

static struct node *parse_chain(struct parser *ps, enum nkind kind)
{
	const char *word = kind == N_OR ? "or" : "and";
	struct node *first = kind == N_OR ? parse_chain(ps, N_AND) : parse_unary(ps);
	if (!first)
		return NULL;
	struct node *n = NULL;
	for (;;) {
		skip_ws(ps);
		if (!at_word(ps, word))
			break;
		advance(ps, strlen(word));
		struct node *next = kind == N_OR ? parse_chain(ps, N_AND) : parse_unary(ps);
		if (!next) {
			node_free(n ? n : first);
			return NULL;
		}
		if (!n && first->kind == kind) {
			n = first; /* extend "(a and b)" rather than nest it */
			n->list.kids =
				vg_xrealloc(n->list.kids, sizeof(struct node *) * (n->list.n + 1));
		} else if (!n) {
			n = new_node(kind);
			n->list.kids = vg_xmalloc(sizeof(struct node *) * 2);
			n->list.kids[0] = first;
			n->list.n = 1;
		} else {
			n->list.kids =
				vg_xrealloc(n->list.kids, sizeof(struct node *) * (n->list.n + 1));
		}
		if (next->kind == kind) { /* (a and b) and c: one flat list */
			n->list.kids = vg_xrealloc(n->list.kids,
						   sizeof(struct node *) *
							   (size_t)(n->list.n + next->list.n));
			memcpy(n->list.kids + n->list.n, next->list.kids,
			       sizeof(struct node *) * (size_t)next->list.n);
			n->list.n += next->list.n;
			free(next->list.kids);
			free(next);
		} else {
			n->list.kids[n->list.n++] = next;
		}
	}
	return n ? n : first;
}

static struct node *parse_or(struct parser *ps)
{
	return parse_chain(ps, N_OR);
}

struct keybuf {
	char *p;
	size_t n, cap;
};

static void kb_put(struct keybuf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = vg_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void kb_konst(struct keybuf *b, const struct konst *k)
{
	kb_put(b, &k->type, sizeof(k->type));
	kb_put(b, &k->len, sizeof(k->len));
	if (k->s)
		kb_put(b, k->s, k->len);
	kb_put(b, &k->u, sizeof(k->u));
	kb_put(b, &k->i, sizeof(k->i));
	kb_put(b, &k->family, 1);
	kb_put(b, &k->prefix, 1);
	kb_put(b, k->ip, sizeof(k->ip));
}

/* Rules share macros (open_read, container, spawned_process...), so the
 * same comparison is made by many rules on one event.  Comparisons whose
 * serialized form (field slot, operator, modifier, constants) is equal get
 * one id in the field set, and each is computed once per event.  Only
 * comparisons of a cached field against constants qualify: the others
 * (transformers, val()) are rare. */
static int memo_id(struct vg_cond_fieldset *fs, const struct node *n)
{
	const struct fref *L = &n->chk.lhs;
	if (!fs || L->slot < 0 || L->nxf || n->chk.rhs_field || n->chk.types)
		return -1;
	struct keybuf b = {0};
	int op = n->chk.op, q = n->chk.quant, ic = n->chk.set.icase;
	kb_put(&b, &L->slot, sizeof(L->slot));
	kb_put(&b, &op, sizeof(op));
	kb_put(&b, &q, sizeof(q));
	kb_put(&b, &ic, sizeof(ic));
	kb_put(&b, &n->chk.set.n, sizeof(n->chk.set.n));
	if (op == OP_IN || op == OP_INTERSECTS || op == OP_PMATCH) {
		for (uint32_t i = 0; i < n->chk.set.n; i++)
			kb_konst(&b, &n->chk.set.k[i]);
	} else if (op != OP_EXISTS) {
		kb_konst(&b, &n->chk.k);
	}
	uint32_t h = hash_bytes(b.p, b.n, 0);
	if (fs->nchk * 2 >= (int)fs->chk_mask) { /* grow and rehash */
		uint32_t cap = fs->chk_mask ? (fs->chk_mask + 1) * 2 : 256;
		free(fs->chk_slots);
		fs->chk_slots = vg_xcalloc(cap, sizeof(uint32_t));
		fs->chk_mask = cap - 1;
		for (int i = 0; i < fs->nchk; i++) {
			uint32_t j = fs->chk[i].hash & fs->chk_mask;
			while (fs->chk_slots[j])
				j = (j + 1) & fs->chk_mask;
			fs->chk_slots[j] = (uint32_t)i + 1;
		}
	}
	uint32_t j = h & fs->chk_mask;
	for (; fs->chk_slots[j]; j = (j + 1) & fs->chk_mask) {
		const struct fs_check *c = &fs->chk[fs->chk_slots[j] - 1];
		if (c->hash == h && c->len == b.n && !memcmp(c->key, b.p, b.n)) {
			free(b.p);
			return (int)fs->chk_slots[j] - 1;
		}
	}
	if (fs->nchk == fs->capchk)
		fs->chk = vg_xrealloc(fs->chk, (size_t)(fs->capchk = fs->capchk * 2 + 64) *
						       sizeof(*fs->chk));
	fs->chk[fs->nchk] = (struct fs_check){h, (uint32_t)b.n, b.p};
	fs->chk_slots[j] = (uint32_t)fs->nchk + 1;
	return fs->nchk++;
}

static int evttypes(const struct node *n, uint8_t *types);

static void fast_setup(struct ins *in, const struct node *n)
{
	const struct fref *L = &n->chk.lhs;
	enum op op = n->chk.op;
	in->fslot = -1;
	if (n->chk.types || L->slot < 0 || L->nxf || n->chk.rhs_field || n->chk.quant != Q_DEFAULT)
		return;
	if (L->type == VG_FT_STR && op == OP_IN) {
		if (n->chk.set.icase)
			return;
	} else if (L->type == VG_FT_STR) {
		if (n->chk.k.type != VG_FT_STR ||
		    (op != OP_EQ && op != OP_NE && op != OP_STARTSWITH && op != OP_ENDSWITH &&
		     op != OP_CONTAINS))
			return;
	} else if (L->type == VG_FT_U64 || L->type == VG_FT_S64 || L->type == VG_FT_BOOL) {
		if (n->chk.k.type == VG_FT_STR || (op != OP_EQ && op != OP_NE && op != OP_LT &&
						   op != OP_LE && op != OP_GT && op != OP_GE))
			return;
	} else {
		return;
	}
	in->fslot = L->slot;
	in->fop = (uint8_t)op;
	in->ftype = (uint8_t)L->type;
	if (op == OP_IN)
		in->set = &n->chk.set;
	else
		in->ks = n->chk.k.s;
	in->klen = n->chk.k.len;
	in->ku = n->chk.k.u;
	in->ki = n->chk.k.i;
}

static int count_checks(const struct node *n)
{
	switch (n->kind) {
	case N_AND:
	case N_OR: {
		int k = 0;
		for (int i = 0; i < n->list.n; i++)
			k += count_checks(n->list.kids[i]);
		return k;
	}
	case N_NOT:
		return count_checks(n->kid);
	case N_CHECK:
		return 1;
	case N_CONST:
		return 0;
	}
	return 0;
}

/* Emit n so that it continues at t when true and f when false; returns its
 * entry.  Kids are emitted last first, since each one's targets are the
 * entries of those after it; the program is reversed afterwards. */
/* Whether evt.type check n is true (1) or false (0) for every type the
 * whole condition can match, or depends on the type (-1). */
static int type_check_const(const struct vg_cond *c, const struct node *n)
{
	int seen_t = 0, seen_f = 0;
	for (int t = 0; t < VG_T_MAX; t++) {
		if (!(c->tbits[t / 64] >> (t % 64) & 1))
			continue;
		int in = n->chk.types[t] != 0;
		if (n->chk.op == OP_NE)
			in = !in;
		seen_t |= in;
		seen_f |= !in;
	}
	return seen_t && seen_f ? -1 : seen_t;
}

static int emit(struct vg_cond *c, const struct node *n, int t, int f, struct vg_cond_fieldset *fs)
{
	switch (n->kind) {
	case N_AND:
		for (int i = n->list.n - 1; i >= 0; i--)
			t = emit(c, n->list.kids[i], t, f, fs);
		return t;
	case N_OR:
		for (int i = n->list.n - 1; i >= 0; i--)
			f = emit(c, n->list.kids[i], t, f, fs);
		return f;
	case N_NOT:
		return emit(c, n->kid, f, t, fs);
	case N_CONST:
		return n->value ? t : f;
	case N_CHECK: {
		/* events outside the condition's types never reach the program,
		 * so an evt.type check that those types decide is an edge (most
		 * rules start with one the engine's index already made) */
		int k = n->chk.types ? type_check_const(c, n) : -1;
		if (k >= 0)
			return k ? t : f;
		struct ins *in = &c->prog[c->nprog];
		in->chk = n;
		in->types = n->chk.types;
		in->neg = n->chk.op == OP_NE;
		in->memo = memo_id(fs, n);
		fast_setup(in, n);
		in->t = t;
		in->f = f;
		return c->nprog++;
	}
	}
	return f;
}

static void flatten(struct vg_cond *c, struct vg_cond_fieldset *fs)
{
	int n;
	uint8_t types[VG_T_MAX];
	evttypes(c->root, types);
	for (int t = 0; t < VG_T_MAX; t++)
		if (types[t])
			c->tbits[t / 64] |= 1ull << (t % 64);
	c->entry = emit(c, c->root, PC_TRUE, PC_FALSE, fs);
	/* reverse, so that the program runs forwards (first comparison first) */
	n = c->nprog;
	for (int i = 0; i < n; i++) {
		struct ins *in = &c->prog[i];
		if (in->t >= 0)
			in->t = n - 1 - in->t;
		if (in->f >= 0)
			in->f = n - 1 - in->f;
	}
	for (int i = 0; i < n / 2; i++) {
		struct ins tmp = c->prog[i];
		c->prog[i] = c->prog[n - 1 - i];
		c->prog[n - 1 - i] = tmp;
	}
	if (c->entry >= 0)
		c->entry = n - 1 - c->entry;
	/* each comparison is emitted once: its instruction, without a search
	 * (groups look it up for every comparison of every member) */
	for (int i = 0; i < n; i++)
		((struct node *)c->prog[i].chk)->chk.pc1 = i + 1;
}

struct vg_cond *vg_cond_compile(const char *text, const struct vg_pos *where,
				const struct vg_cond_env *env, struct vg_cond_err *err)
{
	static const struct vg_cond_env none = {0};
	struct parser ps = {0};
	ps.p = text;
	ps.pos = where ? *where : (struct vg_pos){NULL, 1, 1};
	if (!ps.pos.line)
		ps.pos.line = ps.pos.col = 1;
	ps.env = env ? env : &none;
	ps.err = err;
	struct budget budget = {VG_COND_MAX_TEXT, VG_COND_MAX_CHECKS, VG_COND_MAX_ITEMS, NULL, {0}};
	ps.budget = &budget;
	err->msg[0] = 0;
	err->pos = ps.pos;
	skip_ws(&ps);
	if (!*ps.p) {
		perr(&ps, &ps.pos, "empty condition");
		return NULL;
	}
	if (!spend(&ps, &budget.text, strlen(text), &ps.pos, "bytes of text", VG_COND_MAX_TEXT))
		return NULL;
	struct node *root = parse_or(&ps);
	if (root) {
		skip_ws(&ps);
		if (*ps.p) {
			perr(&ps, &ps.pos,
			     *ps.p == ')' ? "unbalanced ')'%.0s" : "unexpected '%.10s'", ps.p);
			node_free(root);
			root = NULL;
		}
	}
	if (!root)
		return NULL;
	size_t nins = (size_t)count_checks(root);
	size_t size = sizeof(struct vg_cond) + nins * sizeof(struct ins) + TBITS_WORDS * 8;
	size = (size + 63) & ~(size_t)63;
	struct vg_cond *c = aligned_alloc(64, size);
	if (!c)
		abort(); /* like vg_xcalloc */
	memset(c, 0, size);
	c->tbits = (uint64_t *)&c->prog[nins];
	c->root = root;
	c->fs_id = ps.env->fieldset ? ps.env->fieldset->id : 0;
	flatten(c, ps.env->fieldset);
	return c;
}

void vg_cond_free(struct vg_cond *c)
{
	if (!c)
		return;
	node_free(c->root);
	free(c);
}

/* ---- evaluation --------------------------------------------------------- */

struct vg_cond_scratch *vg_cond_scratch_new(void)
{
	return vg_xcalloc(1, sizeof(struct vg_cond_scratch));
}

void vg_cond_scratch_free(struct vg_cond_scratch *s)
{
	if (s) {
		for (int i = 0; i < s->nchunk; i++)
			free(s->chunk[i]);
		free(s->chunk);
		free(s->ent);
		free(s->memo);
	}
	free(s);
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Apply the transformers of fr to every value of v (strings are rewritten
 * into xbuf). */
static void transform(const struct fref *fr, struct vg_fvals *v, char *xbuf)
{
	size_t used = 0;
	for (int x = 0; x < fr->nxf; x++) {
		for (uint32_t i = 0; i < v->n; i++) {
			struct vg_fval *f = &v->v[i];
			const char *p = f->s.p;
			uint32_t n = f->s.len;
			switch (fr->xf[x]) {
			case X_LEN:
				f->u = n;
				continue;
			case X_BASENAME: {
				uint32_t j = n;
				while (j > 0 && p[j - 1] != '/')
					j--;
				f->s.p = p + j;
				f->s.len = n - j;
				continue;
			}
			default:
				break;
			}
			if (used + n + 1 > VG_FVALS_BUF)
				return; /* out of room: leave the rest untransformed */
			char *d = xbuf + used;
			uint32_t out = 0;
			if (fr->xf[x] == X_B64) {
				uint32_t acc = 0;
				int bits = 0;
				for (uint32_t j = 0; j < n; j++) {
					int b = b64val(p[j]);
					if (b < 0)
						continue; /* padding and line breaks */
					acc = acc << 6 | (uint32_t)b;
					bits += 6;
					if (bits >= 8) {
						bits -= 8;
						d[out++] = (char)(acc >> bits);
					}
				}
			} else {
				int up = fr->xf[x] == X_TOUPPER;
				for (uint32_t j = 0; j < n; j++)
					d[out++] = (char)(up ? toupper((unsigned char)p[j])
							     : tolower((unsigned char)p[j]));
			}
			d[out] = 0;
			f->s.p = d;
			f->s.len = out;
			used += out + 1;
		}
	}
	if (fr->nxf && fr->xf[fr->nxf - 1] == X_LEN)
		v->type = VG_FT_U64;
}

static int ip_in_net(const struct vg_fval *v, const struct konst *k)
{
	if (v->ip.family != k->family)
		return 0;
	int bits = k->prefix;
	int bytes = bits / 8;
	if (memcmp(v->ip.b, k->ip, (size_t)bytes))
		return 0;
	int rem = bits % 8;
	if (!rem)
		return 1;
	uint8_t mask = (uint8_t)(0xff << (8 - rem));
	return (v->ip.b[bytes] & mask) == (k->ip[bytes] & mask);
}

/* NUL-terminated copy for libc matchers when the value is not terminated */
static const char *cstr(const struct vg_fval *v, char *tmp, size_t cap)
{
	if (v->s.p[v->s.len] == 0)
		return v->s.p;
	size_t n = v->s.len < cap - 1 ? v->s.len : cap - 1;
	memcpy(tmp, v->s.p, n);
	tmp[n] = 0;
	return tmp;
}

/* Whether a three-way comparison result c (<0, 0, >0) satisfies the
 * ordering operator op; -1 when op is not one. */
static inline int order_holds(int op, int c)
{
	switch (op) {
	case OP_EQ:
		return c == 0;
	case OP_NE:
		return c != 0;
	case OP_LT:
		return c < 0;
	case OP_LE:
		return c <= 0;
	case OP_GT:
		return c > 0;
	case OP_GE:
		return c >= 0;
	default:
		return -1;
	}
}

static int cmp_num(int type, const struct vg_fval *v, const struct konst *k)
{
	if (type == VG_FT_S64)
		return v->i < k->i ? -1 : v->i > k->i;
	return v->u < k->u ? -1 : v->u > k->u;
}

/* one value against one constant */
static int match_one(const struct node *n, int type, const struct vg_fval *v, const struct konst *k)
{
	const enum op op = n->chk.op;
	if (type == VG_FT_STR || k->type == VG_FT_STR) {
		const char *p = v->s.p;
		uint32_t len = v->s.len;
		char tmp[4096];
		switch (op) {
		case OP_EQ:
		case OP_IN:
		case OP_INTERSECTS:
			return len == k->len && !memcmp(p, k->s, len);
		case OP_NE:
			return !(len == k->len && !memcmp(p, k->s, len));
		case OP_CONTAINS:
		case OP_BCONTAINS:
			return has_sub(p, len, k->s, k->len);
		case OP_ICONTAINS:
			return memmem_icase(p, len, k->s, k->len) != NULL;
		case OP_STARTSWITH:
		case OP_BSTARTSWITH:
			return len >= k->len && !memcmp(p, k->s, k->len);
		case OP_ENDSWITH:
			return len >= k->len && !memcmp(p + len - k->len, k->s, k->len);
		case OP_GLOB:
			return !fnmatch(k->s, cstr(v, tmp, sizeof(tmp)), 0);
		case OP_IGLOB:
			return !fnmatch(k->s, cstr(v, tmp, sizeof(tmp)), FNM_CASEFOLD);
		case OP_REGEX:
			return !regexec(&n->chk.re, cstr(v, tmp, sizeof(tmp)), 0, NULL, 0);
		case OP_PMATCH:
			if (len < k->len || memcmp(p, k->s, k->len))
				return 0;
			return len == k->len || p[k->len] == '/' ||
			       (k->len && k->s[k->len - 1] == '/');
		case OP_LT:
		case OP_LE:
		case OP_GT:
		case OP_GE: {
			size_t m = len < k->len ? len : k->len;
			int c = memcmp(p, k->s, m);
			if (!c)
				c = len < k->len ? -1 : len > k->len;
			return order_holds(op, c);
		}
		default:
			return 0;
		}
	}
	if (type == VG_FT_IP || type == VG_FT_NET) {
		int in = ip_in_net(v, k);
		return op == OP_NE ? !in : in;
	}
	/* in/intersects reach here one set member at a time: equality */
	int r = order_holds(op == OP_IN || op == OP_INTERSECTS ? OP_EQ : op, cmp_num(type, v, k));
	return r < 0 ? 0 : r;
}

/* one value against the check's set (in, intersects, pmatch) */
static int match_set(const struct node *n, int type, const struct vg_fval *v)
{
	const struct kset *s = &n->chk.set;
	if (type == VG_FT_STR && n->chk.op != OP_PMATCH)
		return kset_has_str(s, v->s.p, v->s.len);
	if (type == VG_FT_STR) { /* pmatch: the value or one of its parents is listed */
		const char *p = v->s.p;
		uint32_t len = v->s.len;
		/* j = 0 with a leading '/' tries the root "/" */
		for (uint32_t j = 0; j <= len; j++)
			if ((j == len || p[j] == '/') && ((j && kset_has_str(s, p, j)) ||
							  (j < len && kset_has_str(s, p, j + 1))))
				return 1;
		return 0;
	}
	for (uint32_t i = 0; i < s->n; i++)
		if (match_one(n, type, v, &s->k[i]))
			return 1;
	return 0;
}

/* The values of fr for ev, from the cache or extracted into it; NULL when
 * fr has no slot (compiled without a field set). */
/* A new event invalidates the cached values and results (called before any
 * comparison). */
static void scratch_event(struct vg_cond_scratch *s, const struct vg_cond *c,
			  const struct vg_event *ev)
{
	if (s->ev != ev || s->ev_num != ev->num || s->ev_ts != ev->ts || s->fs_id != c->fs_id) {
		s->fs_id = c->fs_id;
		s->ev = ev;
		s->ev_num = ev->num;
		s->ev_ts = ev->ts;
		s->gen++;
		s->cur = 0;
		s->aused = 0;
	}
}

static void *arena_alloc(struct vg_cond_scratch *s, size_t size)
{
	size = (size + 7) & ~(size_t)7;
	for (;;) {
		if (s->cur == s->nchunk) {
			s->chunk =
				vg_xrealloc(s->chunk, (size_t)(s->nchunk + 1) * sizeof(*s->chunk));
			s->chunk[s->nchunk++] = vg_xmalloc(ARENA_CHUNK);
		}
		if (s->aused + size <= ARENA_CHUNK) {
			void *p = s->chunk[s->cur] + s->aused;
			s->aused += size;
			return p;
		}
		s->cur++;
		s->aused = 0;
	}
}

_Static_assert(VG_FVALS_MAX * sizeof(struct vg_fval) + VG_FVALS_BUF <= ARENA_CHUNK,
	       "an arena chunk holds a whole extraction");

/* Keep what x holds in e: its values, and the text it copied (values
 * pointing into x's buffer are moved to the copy in the arena). */
static void store(struct vg_cond_scratch *s, struct fcache_ent *e, const struct vg_fvals *x)
{
	e->n = x->n;
	if (x->n == 0)
		return;
	struct vg_fval *v = x->n > 1 ? arena_alloc(s, x->n * sizeof(*v)) : &e->v0;
	memcpy(v, x->v, x->n * sizeof(*v));
	e->v = v;
	if (x->used && x->type == VG_FT_STR) {
		char *b = arena_alloc(s, x->used);
		memcpy(b, x->buf, x->used);
		uintptr_t lo = (uintptr_t)x->buf, hi = lo + x->used;
		for (uint32_t i = 0; i < x->n; i++) {
			uintptr_t p = (uintptr_t)v[i].s.p;
			if (p >= lo && p < hi)
				v[i].s.p = b + (p - lo);
		}
	}
}

static struct fcache_ent *fetch(struct vg_cond_scratch *s, const struct fref *fr,
				const struct vg_event *ev)
{
	if (fr->slot < 0)
		return NULL;
	if (fr->slot >= s->cap) { /* entries hold no pointers into themselves */
		int cap = fr->slot + 16;
		size_t size = (size_t)cap * sizeof(*s->ent);
		struct fcache_ent *ne = aligned_alloc(64, size);
		if (!ne)
			abort(); /* like vg_xcalloc */
		memset(ne, 0, size);
		if (s->cap)
			memcpy(ne, s->ent, (size_t)s->cap * sizeof(*s->ent));
		free(s->ent);
		s->ent = ne;
		s->cap = cap;
	}
	struct fcache_ent *e = &s->ent[fr->slot];
	if (e->gen != s->gen) {
		e->gen = s->gen;
		e->hashed = 0;
		vg_field_extract(fr->f, ev, &fr->arg, &s->lhs);
		store(s, e, &s->lhs);
	}
	return e;
}

static bool eval_check(const struct node *n, const struct vg_event *ev, struct vg_cond_scratch *s)
{
	const struct fref *L = &n->chk.lhs;
	enum op op = n->chk.op;
	if (n->chk.types) {
		int t = ev->type;
		int in = t >= 0 && t < VG_T_MAX && n->chk.types[t];
		return op == OP_NE ? !in : in;
	}
	struct fcache_ent *ce = NULL;
	struct vg_fvals *lv = &s->lhs;
	if (!L->nxf)
		ce = fetch(s, L, ev);
	uint32_t ln;
	const struct vg_fval *lvv;
	if (ce) {
		ln = ce->n;
		lvv = ent_vals(ce);
	} else { /* transformers rewrite the values: work on a copy */
		vg_field_extract(L->f, ev, &L->arg, lv);
		ln = lv->n;
		lvv = lv->v;
	}
	if (op == OP_EXISTS)
		return ln > 0;
	if (ln == 0)
		return false; /* unset: every comparison is false */
	if (L->nxf)
		transform(L, lv, s->xbuf);
	int type = L->type;
	if (n->chk.rhs_field) {
		struct vg_fvals *rv = &s->rhs;
		vg_field_extract(n->chk.rhs.f, ev, &n->chk.rhs.arg, rv);
		if (rv->n == 0)
			return false;
		if (n->chk.rhs.nxf)
			transform(&n->chk.rhs, rv, s->rxbuf);
		for (uint32_t i = 0; i < ln; i++)
			for (uint32_t j = 0; j < rv->n; j++) {
				struct konst k = {0};
				k.type = type;
				if (type == VG_FT_STR) {
					k.s = (char *)rv->v[j].s.p;
					k.len = rv->v[j].s.len;
				} else if (type == VG_FT_IP || type == VG_FT_NET) {
					k.family = rv->v[j].ip.family;
					k.prefix = k.family == 4 ? 32 : 128;
					memcpy(k.ip, rv->v[j].ip.b, 16);
				} else {
					k.u = rv->v[j].u;
					k.i = rv->v[j].i;
				}
				if (match_one(n, type, &lvv[i], &k))
					return true;
			}
		return false;
	}
	int is_set = op == OP_IN || op == OP_INTERSECTS || op == OP_PMATCH;
	/* several values: any must match, except != (none may equal) and the
	 * allof / oneof modifiers */
	uint32_t hits = 0;
	for (uint32_t i = 0; i < ln; i++) {
		int m;
		if (is_set && ce && type == VG_FT_STR && op != OP_PMATCH && !n->chk.set.icase) {
			/* hash each cached value once per event, not once per rule */
			uint32_t h;
			if (i >= FC_HASHES) {
				h = hash_bytes(lvv[i].s.p, lvv[i].s.len, 0);
			} else if (ce->hashed & (1u << i)) {
				h = ce->hash[i];
			} else {
				h = ce->hash[i] = hash_bytes(lvv[i].s.p, lvv[i].s.len, 0);
				ce->hashed |= 1u << i;
			}
			m = kset_has_hashed(&n->chk.set, lvv[i].s.p, lvv[i].s.len, h);
		} else {
			m = is_set ? match_set(n, type, &lvv[i])
				   : match_one(n, type, &lvv[i], &n->chk.k);
		}
		if (op == OP_NE && !m)
			return false;
		if (m) {
			hits++;
			if (op != OP_NE && n->chk.quant <= Q_ANY)
				return true;
		}
	}
	switch (n->chk.quant) {
	case Q_ALL:
		return hits == ln;
	case Q_ONE:
		return hits == 1;
	default:
		return op == OP_NE;
	}
}

static bool eval(const struct node *n, const struct vg_event *ev, struct vg_cond_scratch *s)
{
	switch (n->kind) {
	case N_AND:
		for (int i = 0; i < n->list.n; i++)
			if (!eval(n->list.kids[i], ev, s))
				return false;
		return true;
	case N_OR:
		for (int i = 0; i < n->list.n; i++)
			if (eval(n->list.kids[i], ev, s))
				return true;
		return false;
	case N_NOT:
		return !eval(n->kid, ev, s);
	case N_CHECK:
		return eval_check(n, ev, s);
	case N_CONST:
		return n->value;
	}
	return false;
}

/* The comparison from the instruction's copy, its field read into the
 * cache first when this event has not read it yet (most comparisons are
 * the first to read their field): with one value, what eval_check
 * concludes is the comparison itself, unset is false; -1 when that does
 * not apply (several values). */
static int fast_check(const struct ins *in, struct vg_cond_scratch *s, const struct vg_event *ev)
{
	if (in->fslot < 0)
		return -1;
	struct fcache_ent *e;
	if (in->fslot < s->cap && s->ent[in->fslot].gen == s->gen)
		e = &s->ent[in->fslot];
	else
		e = fetch(s, &in->chk->chk.lhs, ev);
	if (e->n != 1)
		return e->n ? -1 : 0; /* unset: every comparison is false */
	const struct vg_fval *v = &e->v0;
	if (in->ftype == VG_FT_STR) {
		const char *p = v->s.p;
		uint32_t len = v->s.len, kl = in->klen;
		switch (in->fop) {
		case OP_EQ:
			return len == kl && !memcmp(p, in->ks, len);
		case OP_NE:
			return !(len == kl && !memcmp(p, in->ks, len));
		case OP_STARTSWITH:
			return len >= kl && !memcmp(p, in->ks, kl);
		case OP_ENDSWITH:
			return len >= kl && !memcmp(p + len - kl, in->ks, kl);
		case OP_CONTAINS:
			return has_sub(p, len, in->ks, kl);
		case OP_IN: /* the value hashed once per event, whichever set asks */
			if (!(e->hashed & 1)) {
				e->hash[0] = hash_bytes(p, len, 0);
				e->hashed |= 1;
			}
			return kset_has_hashed(in->set, p, len, e->hash[0]);
		}
		return -1;
	}
	int c = in->ftype == VG_FT_S64 ? (v->i < in->ki ? -1 : v->i > in->ki)
				       : (v->u < in->ku ? -1 : v->u > in->ku);
	return order_holds(in->fop, c);
}

static void memo_grow(struct vg_cond_scratch *s, int id)
{
	int cap = id + 64;
	s->memo = vg_xrealloc(s->memo, (size_t)cap * sizeof(*s->memo));
	memset(s->memo + s->mcap, 0, (size_t)(cap - s->mcap) * sizeof(*s->memo));
	s->mcap = cap;
}

static bool run_from(const struct vg_cond *c, int pc, const struct vg_event *ev,
		     struct vg_cond_scratch *s);

static bool run(const struct vg_cond *c, const struct vg_event *ev, struct vg_cond_scratch *s)
{
	return run_from(c, c->entry, ev, s);
}

bool vg_cond_eval(const struct vg_cond *c, const struct vg_event *ev, struct vg_cond_scratch *s)
{
	const int t = ev->type;
	scratch_event(s, c, ev);
	if (t < 0 || t >= VG_T_MAX)
		return eval(c->root, ev, s); /* not what the program is made for */
	if (!(c->tbits[t / 64] >> (t % 64) & 1))
		return false;
	return run(c, ev, s);
}

bool vg_cond_eval_typed(const struct vg_cond *c, const struct vg_event *ev,
			struct vg_cond_scratch *s)
{
	scratch_event(s, c, ev);
	return run(c, ev, s);
}

void vg_cond_begin(const struct vg_cond *c, const struct vg_event *ev, struct vg_cond_scratch *s)
{
	scratch_event(s, c, ev);
}

bool vg_cond_eval_begun(const struct vg_cond *c, const struct vg_event *ev,
			struct vg_cond_scratch *s)
{
	return run(c, ev, s);
}

/* A comparison with a memo id: its shared result, computed when new. */
static inline bool eval_memo(const struct ins *in, const struct vg_event *ev,
			     struct vg_cond_scratch *s)
{
	if (in->memo >= s->mcap)
		memo_grow(s, in->memo);
	uint64_t m = s->memo[in->memo];
	if (m >> 1 == s->gen)
		return m & 1;
	int k = fast_check(in, s, ev);
	bool r = k >= 0 ? k : eval_check(in->chk, ev, s);
	s->memo[in->memo] = s->gen << 1 | r;
	return r;
}

static bool run_from(const struct vg_cond *c, int pc, const struct vg_event *ev,
		     struct vg_cond_scratch *s)
{
	const int t = ev->type;
	while (pc >= 0) {
		const struct ins *in = &c->prog[pc];
		bool r;
		if (in->types) {
			r = (in->types[t] != 0) ^ in->neg;
		} else if (in->memo >= 0) {
			r = eval_memo(in, ev, s);
		} else {
			r = eval_check(in->chk, ev, s);
		}
		pc = r ? in->t : in->f;
	}
	return pc == PC_TRUE;
}

bool vg_cond_eval_tree(const struct vg_cond *c, const struct vg_event *ev,
		       struct vg_cond_scratch *s)
{
	scratch_event(s, c, ev);
	return eval(c->root, ev, s);
}

/* ---- event types -------------------------------------------------------- */

/* Fill types with what n can match; returns 1 when the set is exact (n is
 * true for exactly those types), 0 when it is an over-approximation. */
static int evttypes(const struct node *n, uint8_t *types)
{
	switch (n->kind) {
	case N_CHECK:
		if (n->chk.types) {
			for (int t = 0; t < VG_T_MAX; t++)
				types[t] = n->chk.op == OP_NE ? !n->chk.types[t] : n->chk.types[t];
			return 1;
		}
		memset(types, 1, VG_T_MAX);
		return 0;
	case N_CONST:
		memset(types, n->value, VG_T_MAX);
		return 1;
	case N_NOT: {
		int exact = evttypes(n->kid, types);
		if (!exact) {
			memset(types, 1, VG_T_MAX);
			return 0;
		}
		for (int t = 0; t < VG_T_MAX; t++)
			types[t] = !types[t];
		return 1;
	}
	case N_AND:
	case N_OR: {
		uint8_t tmp[VG_T_MAX];
		int exact = evttypes(n->list.kids[0], types);
		for (int i = 1; i < n->list.n; i++) {
			exact &= evttypes(n->list.kids[i], tmp);
			for (int t = 0; t < VG_T_MAX; t++)
				types[t] = n->kind == N_AND ? (types[t] && tmp[t])
							    : (types[t] || tmp[t]);
		}
		return exact;
	}
	}
	memset(types, 1, VG_T_MAX);
	return 0;
}

void vg_cond_evttypes(const struct vg_cond *c, uint8_t types[VG_T_MAX])
{
	evttypes(c->root, types);
}

static void fields_of(const struct node *n, void (*fn)(void *, const struct vg_field *), void *ctx)
{
	switch (n->kind) {
	case N_AND:
	case N_OR:
		for (int i = 0; i < n->list.n; i++)
			fields_of(n->list.kids[i], fn, ctx);
		break;
	case N_NOT:
		fields_of(n->kid, fn, ctx);
		break;
	case N_CHECK:
		fn(ctx, n->chk.lhs.f);
		if (n->chk.rhs_field)
			fn(ctx, n->chk.rhs.f);
		break;
	case N_CONST:
		break;
	}
}

void vg_cond_fields(const struct vg_cond *c, void (*fn)(void *ctx, const struct vg_field *f),
		    void *ctx)
{
	fields_of(c->root, fn, ctx);
}

/* ---- groups: the conditions an event can still satisfy ------------------- */

/* Most rules of an event type begin with the same few comparisons (their
 * macros: open_write, open_read, spawned_process, container...), and most
 * events fail them: evaluating each rule only to fail on a shared result
 * costs a program start per rule.  A group finds, at build time, the
 * comparisons each member needs to have a given result to be true
 * ("literals"), and at run time makes each such comparison once, dropping
 * every member it rules out.  A literal is only ever a necessary
 * condition, so the members left are a superset of those that match. */

#define LITS_MAX 32

struct lits { /* code: memo id << 1 | the result the condition needs */
	int n;
	int never; /* the node cannot take the value at all on this type */
	int v[LITS_MAX];
};

static int lits_has(const struct lits *a, int code)
{
	for (int i = 0; i < a->n; i++)
		if (a->v[i] == code)
			return 1;
	return 0;
}

/* a subset of necessary literals is still necessary: dropping past the cap is safe */
static void lits_add(struct lits *a, int code)
{
	if (a->n < LITS_MAX && !lits_has(a, code))
		a->v[a->n++] = code;
}

static const struct ins *ins_of(const struct vg_cond *c, const struct node *n)
{
	return n->chk.pc1 ? &c->prog[n->chk.pc1 - 1] : NULL;
}

/* Into out, literals that hold whenever n evaluates to val on an event of
 * type t (evt.type checks are known there: constants). */
static void necessary(const struct vg_cond *c, const struct node *n, int val, int t,
		      struct lits *out)
{
	out->n = 0;
	out->never = 0;
	switch (n->kind) {
	case N_CONST:
		out->never = n->value != val;
		return;
	case N_NOT:
		necessary(c, n->kid, !val, t, out);
		return;
	case N_CHECK: {
		if (n->chk.types) {
			int in = (n->chk.types[t] != 0) ^ (n->chk.op == OP_NE);
			out->never = in != val;
			return;
		}
		const struct ins *in = ins_of(c, n);
		if (in && in->memo >= 0)
			out->v[out->n++] = in->memo << 1 | val;
		return;
	}
	case N_AND:
	case N_OR: {
		struct lits k;
		/* and = true, or = false: every kid takes the value, each one's
		 * literals hold; otherwise only those common to the kids that
		 * can take it */
		if ((n->kind == N_AND) == (val != 0)) {
			for (int i = 0; i < n->list.n; i++) {
				necessary(c, n->list.kids[i], val, t, &k);
				if (k.never) {
					out->n = 0;
					out->never = 1;
					return;
				}
				for (int j = 0; j < k.n; j++)
					lits_add(out, k.v[j]);
			}
			return;
		}
		int some = 0;
		for (int i = 0; i < n->list.n; i++) {
			necessary(c, n->list.kids[i], val, t, &k);
			if (k.never)
				continue;
			if (!some) {
				*out = k;
				some = 1;
				continue;
			}
			int m = 0;
			for (int j = 0; j < out->n; j++)
				if (lits_has(&k, out->v[j]))
					out->v[m++] = out->v[j];
			out->n = m;
		}
		out->never = !some;
		return;
	}
	}
}

/* Member i's chain: the comparisons its program makes first, in its order,
 * as long as each is one it needs (followed along the needed result's
 * edge); end_pc[i] is where the program goes when they all have them. */
#define CHAIN_MAX 16

struct gkey {
	const struct ins *in; /* one member's instruction for the comparison */
	uint64_t kill[2];     /* members ruled out when it is false / true */
};

struct vg_cond_group {
	uint64_t init; /* members that can match this type at all */
	int nkeys;
	struct gkey *keys;
	const struct vg_cond *c[64];
	int end_pc[64];
	uint16_t chain_start[65];	/* member i: chain[chain_start[i] .. [i + 1]) */
	uint16_t chain[64 * CHAIN_MAX]; /* key index << 1 | the result needed */
};

static int key_of(struct gkey **k, int *nk, int *capk, const struct ins *in)
{
	for (int x = 0; x < *nk; x++)
		if ((*k)[x].in->memo == in->memo)
			return x;
	if (*nk == *capk)
		*k = vg_xrealloc(*k, (size_t)(*capk = *capk * 2 + 16) * sizeof(**k));
	(*k)[*nk] = (struct gkey){in, {0, 0}};
	return (*nk)++;
}

struct vg_cond_group *vg_cond_group_new(const struct vg_cond *const *c, size_t n, int type)
{
	if (n > 64 || type < 0 || type >= VG_T_MAX)
		return NULL;
	struct vg_cond_group *g = vg_xcalloc(1, sizeof(*g));
	struct lits *L = vg_xcalloc(n ? n : 1, sizeof(*L));
	int nk = 0, capk = 0, nchain = 0;
	for (size_t i = 0; i < n; i++) {
		g->c[i] = c[i];
		necessary(c[i], c[i]->root, 1, type, &L[i]);
		for (int j = 0; j < L[i].n && !L[i].never; j++)
			if (lits_has(&L[i], L[i].v[j] ^ 1))
				L[i].never = 1; /* needs one comparison both true and false */
		g->chain_start[i] = (uint16_t)nchain;
		g->end_pc[i] = PC_FALSE;
		if (L[i].never)
			continue;
		g->init |= 1ull << i;
		int pc = c[i]->entry, len = 0;
		while (pc >= 0 && len < CHAIN_MAX) {
			const struct ins *in = &c[i]->prog[pc];
			if (in->types) { /* known for this type */
				pc = ((in->types[type] != 0) ^ in->neg) ? in->t : in->f;
				continue;
			}
			int need;
			if (in->memo >= 0 && lits_has(&L[i], in->memo << 1 | 1))
				need = 1;
			else if (in->memo >= 0 && lits_has(&L[i], in->memo << 1))
				need = 0;
			else
				break;
			g->chain[nchain++] =
				(uint16_t)(key_of(&g->keys, &nk, &capk, in) << 1 | need);
			len++;
			pc = need ? in->t : in->f;
		}
		g->end_pc[i] = pc;
	}
	for (size_t i = n; i < 64; i++)
		g->chain_start[i + 1] = (uint16_t)nchain;
	g->chain_start[n] = (uint16_t)nchain;
	/* a chained comparison rules out every member that needs it, chained
	 * or not */
	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < L[i].n && !L[i].never; j++)
			for (int x = 0; x < nk; x++)
				if (g->keys[x].in->memo == L[i].v[j] >> 1)
					g->keys[x].kill[!(L[i].v[j] & 1)] |= 1ull << i;
	g->nkeys = nk;
	free(L);
	return g;
}

void vg_cond_group_free(struct vg_cond_group *g)
{
	if (g)
		free(g->keys);
	free(g);
}

uint64_t vg_cond_group_members(const struct vg_cond_group *g)
{
	return g->init;
}

int vg_cond_group_keys(const struct vg_cond_group *g)
{
	return g->nkeys;
}

void vg_cond_group_start(const struct vg_cond_group *g, struct vg_cond_group_it *it)
{
	it->alive = g->init;
	it->done = 0;
}

int vg_cond_group_next(const struct vg_cond_group *g, const struct vg_event *ev,
		       struct vg_cond_scratch *s, struct vg_cond_group_it *it)
{
	uint64_t a = it->alive, done = it->done;
	while (a) {
		int i = __builtin_ctzll(a);
		uint64_t bit = 1ull << i;
		/* comparisons its program makes first anyway, each ruling out
		 * every member that needs the other result; one made already
		 * has ruled out every member it could */
		for (int j = g->chain_start[i]; j < g->chain_start[i + 1] && (a & bit); j++) {
			int x = g->chain[j] >> 1;
			if (x < 64) {
				if (done >> x & 1)
					continue;
				done |= 1ull << x;
			}
			const struct gkey *k = &g->keys[x];
			a &= ~k->kill[eval_memo(k->in, ev, s)];
		}
		if (!(a & bit))
			continue;
		a &= ~bit;
		if (a)
			__builtin_prefetch(g->c[__builtin_ctzll(a)]);
		if (run_from(g->c[i], g->end_pc[i], ev, s)) {
			it->alive = a;
			it->done = done;
			return i;
		}
	}
	it->alive = 0;
	return -1;
}

/* ---- walking the compiled tree (cond.h) ----------------------------------- */

const struct vg_cond_node *vg_cond_root(const struct vg_cond *c)
{
	return (const struct vg_cond_node *)c->root;
}

#define NODE(n) ((const struct node *)(n))

enum vg_cnode vg_cond_node_kind(const struct vg_cond_node *cn)
{
	const struct node *n = NODE(cn);
	switch (n->kind) {
	case N_AND:
		return VG_CN_AND;
	case N_OR:
		return VG_CN_OR;
	case N_NOT:
		return VG_CN_NOT;
	case N_CHECK:
		return VG_CN_CHECK;
	case N_CONST:
		break;
	}
	return n->value ? VG_CN_TRUE : VG_CN_FALSE;
}

int vg_cond_node_nkids(const struct vg_cond_node *cn)
{
	const struct node *n = NODE(cn);
	return n->kind == N_AND || n->kind == N_OR ? n->list.n : n->kind == N_NOT ? 1 : 0;
}

const struct vg_cond_node *vg_cond_node_kid(const struct vg_cond_node *cn, int i)
{
	const struct node *n = NODE(cn);
	if (n->kind == N_NOT)
		return (const struct vg_cond_node *)n->kid;
	return (const struct vg_cond_node *)n->list.kids[i];
}

void vg_cond_node_check(const struct vg_cond_node *cn, struct vg_cond_check *out)
{
	const struct node *n = NODE(cn);
	memset(out, 0, sizeof(*out));
	if (n->kind != N_CHECK)
		return;
	out->field = n->chk.lhs.f;
	out->plain = n->chk.lhs.nxf == 0 && n->chk.lhs.arg.kind == 0 && n->chk.quant == Q_DEFAULT &&
		     !n->chk.rhs_field;
	out->arg = n->chk.lhs.arg.kind != 0;
	out->xform = n->chk.lhs.nxf != 0;
	out->quant = n->chk.quant != Q_DEFAULT;
	out->rhs_field = n->chk.rhs_field != 0;
	out->farg = n->chk.lhs.arg;
	if (out->rhs_field) {
		out->rhs = n->chk.rhs.f;
		out->rhs_arg = n->chk.rhs.arg;
	}
	out->op = op_name(n->chk.op);
	out->types = n->chk.types;
	out->ktype = n->chk.k.type;
	out->s = n->chk.k.s;
	out->len = n->chk.k.len;
	out->i = n->chk.k.type == VG_FT_U64 || n->chk.k.type == VG_FT_BOOL ? (int64_t)n->chk.k.u
									   : n->chk.k.i;
	out->nset = n->chk.set.n;
}

const char *vg_cond_check_item(const struct vg_cond_node *cn, uint32_t i, uint32_t *len,
			       int64_t *num)
{
	const struct node *n = NODE(cn);
	const struct konst *k = &n->chk.set.k[i];
	*len = k->len;
	*num = k->type == VG_FT_U64 ? (int64_t)k->u : k->i;
	return k->s;
}
