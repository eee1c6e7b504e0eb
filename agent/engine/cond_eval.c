/* cond_eval.c - evaluating conditions: the per-event field cache and
 * shared results, the jump program, the tree (the reference), and walking
 * a group's members (see cond.h, cond_int.h). */
#include "cond_int.h"

#include <fnmatch.h>
#include <stdlib.h>

/* ---- evaluation --------------------------------------------------------- */

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
	uint64_t re_undecided;
	struct vg_fvals lhs, rhs;
	char xbuf[VG_FVALS_BUF];  /* transformed lhs values */
	char rxbuf[VG_FVALS_BUF]; /* transformed val() values */
};

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

uint64_t vg_cond_scratch_regex_undecided(const struct vg_cond_scratch *s)
{
	return s->re_undecided;
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

/* regex: not decided (see cond_regex.c) counts as a match, and is counted */
static int regex_match(const struct node *n, const char *p, uint32_t len, struct vg_cond_scratch *s)
{
	int r = cond_re_match(n->chk.re, p, len);
	if (r < 0) {
		s->re_undecided++;
		return 1;
	}
	return r;
}

/* one value against one constant */
static int match_one(const struct node *n, int type, const struct vg_fval *v, const struct konst *k,
		     struct vg_cond_scratch *s)
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
			return regex_match(n, p, len, s);
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
static int match_set(const struct node *n, int type, const struct vg_fval *v,
		     struct vg_cond_scratch *scr)
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
		if (match_one(n, type, v, &s->k[i], scr))
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
		/* doubling: a condition reading thousands of new slots in a row
		 * must not copy the cache at each */
		int cap = fr->slot + 16 > s->cap * 2 ? fr->slot + 16 : s->cap * 2;
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
				if (match_one(n, type, &lvv[i], &k, s))
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
			m = is_set ? match_set(n, type, &lvv[i], s)
				   : match_one(n, type, &lvv[i], &n->chk.k, s);
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
	int cap = id + 64 > s->mcap * 2 ? id + 64 : s->mcap * 2;
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

/* ---- groups: walking the members on an event (built in cond_group.c) ----- */

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
