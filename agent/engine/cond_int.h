/* cond_int.h - private to the files of the condition language (see cond.h).
 *
 * The compiled form they share, the small string and set helpers both
 * compiling and evaluating use (inline: evaluation's hot path calls them),
 * and what one file offers the others:
 *
 *   cond_parse.c    the lexer and the parser (vg_cond_compile)
 *   cond_compile.c  field sets, typed constants, nodes, and the tree
 *                   flattened into a jump program
 *   cond_eval.c     evaluation: the per-event field cache and shared
 *                   results, the program, the tree, and walking a group
 *   cond_evtype.c   what a condition can match (event types) and reads
 *   cond_group.c    building a group: what each member needs
 */
#ifndef VIGIL_COND_INT_H
#define VIGIL_COND_INT_H

#include "cond.h"
#include "cond_regex.h"
#include "util.h"

#include <ctype.h>
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

enum xform { X_TOLOWER, X_TOUPPER, X_B64, X_BASENAME, X_LEN };
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
	uint32_t *v_slots; /* open addressing over v, index+1, 0 = empty */
	uint32_t v_mask;
	struct fs_check *chk;
	int nchk, capchk;
	uint32_t *chk_slots; /* open addressing over chk, index+1, 0 = empty */
	uint32_t chk_mask;
};

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
			int n, cap;
		} list;
		struct node *kid;
		bool value;
		struct {		/* what every evaluation reads first, rarely used last */
			uint8_t *types; /* evt.type fast path: bitmap of VG_T_MAX */
			enum op op;
			enum quant quant;
			int rhs_field; /* compare against val(field) */
			int memo;      /* its instruction's memo id (set by emit) */
			struct fref lhs;
			struct konst k;
			struct kset set;
			struct fref rhs;
			struct cond_re *re; /* regex */
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

/* ---- small helpers ------------------------------------------------------ */

/* Set lookups hash whole paths and command lines: util.h's word-at-a-time
 * hash, case-folded byte by byte for the icase sets (the same value as
 * hashing the lowered string). */
static inline uint32_t hash_bytes(const char *p, size_t n, int icase)
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

static inline int bytes_eq(const char *a, size_t an, const char *b, size_t bn, int icase)
{
	if (an != bn)
		return 0;
	return icase ? !strncasecmp(a, b, an) : !memcmp(a, b, an);
}

/* Substring search for the short needles of rule constants over short
 * values (paths, names).  glibc's memmem clears a 256-byte shift table on
 * every call, which costs more than the whole scan here: find the needle's
 * first byte with memchr, then compare the rest. */
static inline int has_sub(const char *h, size_t hn, const char *n, size_t nn)
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

static inline const char *memmem_icase(const char *h, size_t hn, const char *n, size_t nn)
{
	if (nn == 0)
		return h;
	const int c = tolower((unsigned char)n[0]);
	for (size_t i = 0; i + nn <= hn; i++)
		if (tolower((unsigned char)h[i]) == c && !strncasecmp(h + i, n, nn))
			return h + i;
	return NULL;
}

static inline int kset_has_hashed(const struct kset *s, const char *p, size_t n, uint32_t hash)
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

static inline int kset_has_str(const struct kset *s, const char *p, size_t n)
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

/* ---- between the files -------------------------------------------------- */

/* cond_compile.c */
int cond_fs_slot(struct vg_cond_fieldset *fs, const struct fref *fr);
void cond_kset_build(struct kset *s, int icase);
/* Convert the text s into a constant of the lhs type.  Returns -1 with a
 * reason in why. */
int cond_make_konst(char *s, uint32_t len, int type, enum op op, struct konst *k, char *why,
		    size_t wlen);
char *cond_list_item(const char *item, uint32_t *len);
struct node *cond_new_node(enum nkind kind);
void cond_node_free(struct node *n);
void cond_fref_free(struct fref *fr);
struct vg_cond *cond_program(struct node *root, struct vg_cond_fieldset *fs);

/* cond_evtype.c */
int cond_evttypes(const struct node *n, uint8_t *types);

#endif
