/* cond_compile.c - the condition's compiled form: field sets, typed
 * constants, nodes, and the tree flattened into a jump program (see
 * cond_int.h). */
#include "cond_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

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
	free(fs->v_slots);
	for (int i = 0; i < fs->nchk; i++)
		free(fs->chk[i].key);
	free(fs->chk);
	free(fs->chk_slots);
	free(fs);
}

static uint32_t fs_ent_hash(const struct vg_field *f, int kind, int64_t index, const char *key)
{
	uint64_t w[3] = {(uint64_t)(uintptr_t)f, (uint64_t)kind, (uint64_t)index};
	uint32_t h = hash_bytes((const char *)w, sizeof(w), 0);
	return key ? h ^ hash_bytes(key, strlen(key), 0) : h;
}

/* The slot of (field, argument) in fs, added when new.  Hashed: a rule
 * set may read thousands of distinct arguments (evt.arg[...]). */
int cond_fs_slot(struct vg_cond_fieldset *fs, const struct fref *fr)
{
	if ((uint32_t)fs->n * 2 >= fs->v_mask) { /* grow and rehash */
		uint32_t cap = fs->v_mask ? (fs->v_mask + 1) * 2 : 64;
		free(fs->v_slots);
		fs->v_slots = vg_xcalloc(cap, sizeof(uint32_t));
		fs->v_mask = cap - 1;
		for (int i = 0; i < fs->n; i++) {
			const struct fs_ent *e = &fs->v[i];
			uint32_t j = fs_ent_hash(e->f, e->kind, e->index, e->key) & fs->v_mask;
			while (fs->v_slots[j])
				j = (j + 1) & fs->v_mask;
			fs->v_slots[j] = (uint32_t)i + 1;
		}
	}
	uint32_t j = fs_ent_hash(fr->f, fr->arg.kind, fr->arg.index, fr->arg.key) & fs->v_mask;
	for (; fs->v_slots[j]; j = (j + 1) & fs->v_mask) {
		int i = (int)fs->v_slots[j] - 1;
		const struct fs_ent *e = &fs->v[i];
		if (e->f == fr->f && e->kind == fr->arg.kind && e->index == fr->arg.index &&
		    ((!e->key && !fr->arg.key) ||
		     (e->key && fr->arg.key && !strcmp(e->key, fr->arg.key))))
			return i;
	}
	if ((fs->n & (fs->n - 1)) == 0) /* grow at powers of two */
		fs->v = vg_xrealloc(fs->v, (size_t)(fs->n ? fs->n * 2 : 1) * sizeof(*fs->v));
	struct fs_ent *e = &fs->v[fs->n];
	e->f = fr->f;
	e->kind = fr->arg.kind;
	e->index = fr->arg.index;
	e->key = fr->arg.key ? vg_xstrdup(fr->arg.key) : NULL;
	fs->v_slots[j] = (uint32_t)fs->n + 1;
	return fs->n++;
}

void cond_kset_build(struct kset *s, int icase)
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
int cond_make_konst(char *s, uint32_t len, int type, enum op op, struct konst *k, char *why,
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

/* Idempotent: parse_lhs() frees on error and so may the node holding fr. */
void cond_fref_free(struct fref *fr)
{
	free(fr->key);
	fr->key = NULL;
	fr->arg.key = NULL;
}

struct node *cond_new_node(enum nkind kind)
{
	struct node *n = vg_xcalloc(1, sizeof(*n));
	n->kind = kind;
	return n;
}

void cond_node_free(struct node *n)
{
	if (!n)
		return;
	switch (n->kind) {
	case N_AND:
	case N_OR:
		for (int i = 0; i < n->list.n; i++)
			cond_node_free(n->list.kids[i]);
		free(n->list.kids);
		break;
	case N_NOT:
		cond_node_free(n->kid);
		break;
	case N_CHECK:
		cond_fref_free(&n->chk.lhs);
		cond_fref_free(&n->chk.rhs);
		konst_free(&n->chk.k);
		for (uint32_t i = 0; i < n->chk.set.n; i++)
			konst_free(&n->chk.set.k[i]);
		free(n->chk.set.k);
		free(n->chk.set.slots);
		cond_re_free(n->chk.re);
		free(n->chk.types);
		break;
	case N_CONST:
		break;
	}
	free(n);
}

/* List items are condition text in Falco: an item written with quotes
 * ('"10.0.0.0/8"') stands for the string inside them. */
char *cond_list_item(const char *item, uint32_t *len)
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

static int emit(struct vg_cond *c, struct node *n, int t, int f, struct vg_cond_fieldset *fs)
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
		in->memo = n->chk.memo = memo_id(fs, n);
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
	cond_evttypes(c->root, types);
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
}

/* The program of a parsed condition: root and the flat jumps in one
 * allocation (root is the condition's now). */
struct vg_cond *cond_program(struct node *root, struct vg_cond_fieldset *fs)
{
	size_t nins = (size_t)count_checks(root);
	size_t size = sizeof(struct vg_cond) + nins * sizeof(struct ins) + TBITS_WORDS * 8;
	size = (size + 63) & ~(size_t)63;
	struct vg_cond *c = aligned_alloc(64, size);
	if (!c)
		abort(); /* like vg_xcalloc */
	memset(c, 0, size);
	c->tbits = (uint64_t *)&c->prog[nins];
	c->root = root;
	c->fs_id = fs ? fs->id : 0;
	flatten(c, fs);
	return c;
}

void vg_cond_free(struct vg_cond *c)
{
	if (!c)
		return;
	cond_node_free(c->root);
	free(c);
}
