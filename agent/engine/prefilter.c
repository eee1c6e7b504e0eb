/* prefilter.c - the kernel-side prefilter computed from the rules (see
 * engine.h and bpf/prefilter.h).
 *
 * For each syscall type t and each enabled rule that can match t, the
 * rule's condition is abstracted into a disjunction of clauses over what
 * the kernel sees cheaply (bpf/prefilter.h): the return value's sign, the
 * open access mode and flags, a prefix of the path.  A comparison the
 * abstraction knows maps to the clause it implies; any other comparison
 * maps to "anything" (TOP): the result over-approximates the events the
 * condition can be true on.  `and` meets clauses, `or` unites them, `not`
 * is pushed down to the comparisons (negated comparisons the abstraction
 * does not know are TOP as well).  A clause that holds only where another
 * does is dropped; too many clauses are joined into fewer, wider ones.
 * The union over the rules of t is t's predicate.
 *
 * What the state needs is sent whatever the rules say (the registry's
 * VG_SR_STATE rows), with two exceptions, the open family and close, which
 * only feed the fd table:
 *   - an open need not be sent when no rule reads a file's fd table entry
 *     on a later event.  Then the table with the prefilter on differs from
 *     the table without it only where an open was dropped: that fd has no
 *     entry instead of a file's (close is still sent, and dup copies "no
 *     entry").  A rule reads no file entry when each comparison it makes
 *     on the table is one a file entry and no entry answer alike (the fd's
 *     type is one of the socket types: fd.typechar in (4, 6), fd.types[0]
 *     in (ipv4, ipv6)), or when it only matches when the event's fd is a
 *     socket (such a comparison must hold, or the call is one that only
 *     works on sockets and must have succeeded or failed with a network
 *     error, which it can only do on a socket);
 *   - a close need not be sent when no rule reads the table at all after
 *     its open (stale entries are then read by nothing).
 * fchdir falls back to the fd table only when the kernel could not read
 * the new cwd (it sends it with every successful fchdir).  The analysis
 * runs on the fields and comparisons of conditions and outputs; what it
 * cannot bound sends everything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "pfeval.h"
#include "sysreg.h"
#include "util.h"

/* An abstract value: top (anything), or the union of n clauses (none:
 * false). */
#define DNF_MAX 64
struct dnf {
	bool top;
	int n;
	struct vg_pf_clause c[DNF_MAX];
};

/* The analysis splits the kernel's failure class in two: R_SERR, the
 * errors a socket call returns only on a socket (it checks the fd is a
 * socket first), and R_FAIL, the others (EBADF, ENOTSOCK, EFAULT...).
 * Written to the kernel as VG_PF_RET_FAIL. */
#define R_OK 1
#define R_SERR 2
#define R_FAIL 4
#define R_ANY 7
/* Also analysis-only: clause.nonsimple's bit EVSOCK says the event's fd is
 * a socket wherever the clause holds (bit 1 is the kernel's nonsimple). */
#define EVSOCK 2

static const struct vg_pf_clause any_clause = {.ret = R_ANY, .acc = VG_PF_ACC_ANY};

static const struct {
	int64_t num;
	const char *name;
} sock_errs[] = {
	{-115, "EINPROGRESS"},	{-114, "EALREADY"},	{-111, "ECONNREFUSED"},
	{-110, "ETIMEDOUT"},	{-113, "EHOSTUNREACH"}, {-101, "ENETUNREACH"},
	{-106, "EISCONN"},	{-107, "ENOTCONN"},	{-104, "ECONNRESET"},
	{-103, "ECONNABORTED"}, {-98, "EADDRINUSE"},	{-99, "EADDRNOTAVAIL"},
};
#define NSOCK_ERRS (sizeof(sock_errs) / sizeof(sock_errs[0]))

static uint8_t class_of(int64_t v)
{
	if (v >= 0)
		return R_OK;
	return vg_sock_errno(v) ? R_SERR : R_FAIL;
}

static void set_top(struct dnf *d)
{
	d->top = true;
	d->n = 0;
}

static void set_false(struct dnf *d)
{
	d->top = false;
	d->n = 0;
}

static void set_one(struct dnf *d, const struct vg_pf_clause *c)
{
	d->top = false;
	d->n = 1;
	d->c[0] = *c;
}

#define join vg_pf_clause_join

/* a := a and b; false when no event can satisfy both */
static bool meet(struct vg_pf_clause *a, const struct vg_pf_clause *b)
{
	a->ret &= b->ret;
	a->acc &= b->acc;
	a->flags_all |= b->flags_all;
	a->nonsimple |= b->nonsimple;
	if (b->plen) {
		uint8_t m = a->plen < b->plen ? a->plen : b->plen;
		if (memcmp(a->prefix, b->prefix, m))
			return false; /* fd.name cannot start with both */
		if (b->plen > a->plen) {
			memcpy(a->prefix, b->prefix, VG_PF_PREFIX);
			a->plen = b->plen;
		}
	}
	if (b->tkind && !a->tkind) {
		a->tkind = b->tkind;
		a->nt = b->nt;
		memcpy(a->th, b->th, sizeof(a->th));
	} else if (b->tkind && a->tkind == b->tkind) {
		uint8_t k = 0; /* both sets: their intersection */
		for (int i = 0; i < a->nt; i++)
			for (int j = 0; j < b->nt; j++)
				if (a->th[i] == b->th[j]) {
					a->th[k++] = a->th[i];
					break;
				}
		if (!k)
			return false;
		a->nt = k;
		memset(a->th + k, 0, (VG_PF_TAILS - k) * sizeof(a->th[0]));
	} /* two tests of different components: a's alone (wider) */
	/* two substrings: either alone is wider than both; the longer */
	if (b->slen > a->slen) {
		memcpy(a->sub, b->sub, VG_PF_SUBMAX);
		a->slen = b->slen;
	}
	return a->ret && a->acc;
}

/* How much a clause lets through, roughly: what its path tests leave
 * (a prefix of two bytes or more, a set of names; "/" alone is every
 * simple path) times its access modes and return classes. */
static long width(const struct vg_pf_clause *c)
{
	long path = c->plen >= 2 ? 64 - c->plen : c->tkind ? 8 + c->nt : 4096;
	if (c->slen && path > 512 - 16 * c->slen)
		path = 512 - 16 * c->slen;
	/* one that holds on strings that are not simple only lets few of the
	 * callers' strings through, but its tests of fd.name are what the
	 * predicate for any string naming a file has (struct vg_pf_table's
	 * any): joining it with another kind of test loses them */
	if (c->nonsimple & 1)
		path = (path + 15) / 16;
	return path * __builtin_popcount(c->acc) * __builtin_popcount(c->ret);
}

/* Whether every event clause a holds for, b holds for too (exact, not a
 * guess: false when unsure).  b's return classes and access modes must
 * cover a's, b's open flags be among a's, b's nonsimple bits (each narrows)
 * among a's, its tail test the same component with a superset of a's
 * names, its prefix one a's extends, its substring one a's prefix or
 * substring holds.  In the analysis a clause's prefix
 * and names are facts about fd.name whether the path is simple or not;
 * the kernel (bpf/prefilter.h, `kernel`) tests them on simple paths only,
 * so there a clause that holds on paths that are not simple alone is
 * covered by any b of its classes, modes and flags, and a prefix "/" tests
 * nothing. */
static bool subsumed(const struct vg_pf_clause *a, const struct vg_pf_clause *b, bool kernel)
{
	if ((a->ret & ~b->ret) || (a->acc & ~b->acc) || (b->flags_all & ~a->flags_all) ||
	    (b->nonsimple & ~a->nonsimple))
		return false;
	if (kernel && (a->nonsimple & 1))
		return true;
	if (b->slen && !vg_pf_clause_implies_sub(a, b->sub, b->slen))
		return false;
	if (b->tkind) {
		if (a->tkind != b->tkind)
			return false;
		for (int i = 0; i < a->nt; i++) {
			int j = 0;
			while (j < b->nt && b->th[j] != a->th[i])
				j++;
			if (j == b->nt)
				return false;
		}
	}
	/* the kernel's simple paths all start with '/' */
	uint8_t bl = kernel && b->plen == 1 && b->prefix[0] == '/' ? 0 : b->plen;
	return !bl || (a->plen >= bl && !memcmp(a->prefix, b->prefix, bl));
}

/* Drop each clause another holds wherever it holds (of equal ones, the
 * first stays): the union is the same, with fewer clauses for the kernel
 * to test and for shrink() to join (a join widens). */
static void prune(struct dnf *d, bool kernel)
{
	bool drop[DNF_MAX] = {false};
	for (int i = 0; i < d->n; i++)
		for (int j = 0; j < d->n && !drop[i]; j++)
			drop[i] = j != i && subsumed(&d->c[i], &d->c[j], kernel) &&
				  (j < i || !subsumed(&d->c[j], &d->c[i], kernel));
	int k = 0;
	for (int i = 0; i < d->n; i++)
		if (!drop[i])
			d->c[k++] = d->c[i];
	d->n = k;
}

/* Bring d down to at most max clauses, joining the pairs whose join lets
 * through least that neither let through before, after dropping the
 * clauses others cover (again after each join: the wider clause may cover
 * more).  kernel: d is in the kernel's terms (bpf/prefilter.h), no longer
 * the analysis'. */
static void shrink(struct dnf *d, int max, bool kernel)
{
	prune(d, kernel);
	while (d->n > max) {
		int bi = 0, bj = 1;
		long best = -1;
		for (int i = 0; i < d->n; i++)
			for (int j = i + 1; j < d->n; j++) {
				struct vg_pf_clause c = d->c[i];
				join(&c, &d->c[j]);
				long cost = width(&c) - width(&d->c[i]) - width(&d->c[j]);
				if (best < 0 || cost < best) {
					best = cost < 0 ? 0 : cost;
					bi = i;
					bj = j;
				}
			}
		join(&d->c[bi], &d->c[bj]);
		d->c[bj] = d->c[--d->n];
		prune(d, kernel);
	}
}

static void add(struct dnf *d, const struct vg_pf_clause *c)
{
	if (d->top)
		return;
	if (d->n == DNF_MAX)
		shrink(d, DNF_MAX - 1, false);
	d->c[d->n++] = *c;
}

static void dnf_or(struct dnf *a, const struct dnf *b)
{
	if (a->top)
		return;
	if (b->top) {
		set_top(a);
		return;
	}
	for (int i = 0; i < b->n; i++)
		add(a, &b->c[i]);
}

static void dnf_and(struct dnf *a, const struct dnf *b)
{
	if (b->top)
		return;
	if (a->top) {
		*a = *b;
		return;
	}
	struct dnf r = {.top = false, .n = 0};
	for (int i = 0; i < a->n; i++)
		for (int j = 0; j < b->n; j++) {
			struct vg_pf_clause c = a->c[i];
			if (meet(&c, &b->c[j]))
				add(&r, &c);
		}
	*a = r;
}

/* ---- comparisons -------------------------------------------------------- */

struct ctx {
	int type;	/* the event type analysed */
	bool open;	/* an open-family call: fd.* is the opened path */
	bool has_flags; /* its open flags are known to the kernel */
};

/* Whether `v op k` holds. */
static bool holds(const char *op, int64_t v, int64_t k)
{
	if (!strcmp(op, "="))
		return v == k;
	if (!strcmp(op, ">="))
		return v >= k;
	if (!strcmp(op, ">"))
		return v > k;
	if (!strcmp(op, "<"))
		return v < k;
	if (!strcmp(op, "<="))
		return v <= k;
	return true;
}

/* The return classes in which `ret op k` can hold. */
static uint8_t ret_classes(const char *op, int64_t k)
{
	if (!strcmp(op, "="))
		return class_of(k);
	if (strcmp(op, ">=") && strcmp(op, ">") && strcmp(op, "<") && strcmp(op, "<="))
		return R_ANY;
	uint8_t c = 0;
	/* OK: some v >= 0 (0 or a large one); FAIL: -1 or a very negative
	 * one (neither is a socket error); SERR: each socket error */
	if (holds(op, 0, k) || holds(op, INT64_MAX, k))
		c |= R_OK;
	if (holds(op, -1, k) || holds(op, INT64_MIN, k))
		c |= R_FAIL;
	for (size_t i = 0; i < NSOCK_ERRS; i++)
		if (holds(op, sock_errs[i].num, k))
			c |= R_SERR;
	return c;
}

/* The negation of a comparison operator on numbers (NULL: none). */
static const char *neg_op(const char *op)
{
	static const char *const pairs[][2] = {{"=", "!="}, {"!=", "="}, {"<", ">="},
					       {">=", "<"}, {">", "<="}, {"<=", ">"}};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (!strcmp(op, pairs[i][0]))
			return pairs[i][1];
	return NULL;
}

static void prefix_clause(struct vg_pf_clause *c, const char *s, uint32_t len)
{
	*c = any_clause;
	if (len > VG_PF_PREFIX)
		len = VG_PF_PREFIX;
	memcpy(c->prefix, s, len);
	c->plen = (uint8_t)len;
}

/* The literal head of a glob pattern (up to its first wildcard). */
static uint32_t glob_head(const char *s, uint32_t len)
{
	uint32_t n = 0;
	while (n < len && s[n] != '*' && s[n] != '?' && s[n] != '[' && s[n] != '\\')
		n++;
	return n;
}

/* Whether a string holds "/.", "//" or "..", which no simple path does. */
static bool has_dot_or_slashes(const char *s, uint32_t len)
{
	for (uint32_t i = 0; i + 1 < len; i++)
		if ((s[i] == '/' && (s[i + 1] == '/' || s[i + 1] == '.')) ||
		    (s[i] == '.' && s[i + 1] == '.'))
			return true;
	return false;
}

static bool is_sock_item(const char *field, const char *s, uint32_t len)
{
	static const char *const chars[] = {"4", "6", "u"};
	static const char *const names[] = {"ipv4", "ipv6", "unix"};
	bool tc = !strcmp(field, "fd.typechar");
	for (int i = 0; i < 3; i++) {
		const char *w = tc ? chars[i] : names[i];
		if (strlen(w) == len && !memcmp(w, s, len))
			return true;
	}
	return false;
}

/* `fd.typechar|fd.type|fd.types[n] =|in` socket types only: true on a
 * socket, false on a file's entry and on no entry alike.  fd.types
 * (another fd than the event's) only when want_types. */
static bool sock_types_of(const struct vg_cond_check *k, const struct vg_cond_node *n,
			  bool want_types)
{
	if (!k->field || k->xform || k->quant || k->rhs_field)
		return false;
	const char *f = k->field->name;
	bool types = !strcmp(f, "fd.types");
	if (types ? !(want_types && k->arg)
		  : (k->arg || (strcmp(f, "fd.typechar") && strcmp(f, "fd.type"))))
		return false;
	if (!strcmp(k->op, "="))
		return is_sock_item(f, k->s, k->len);
	if (strcmp(k->op, "in") || !k->nset)
		return false;
	for (uint32_t i = 0; i < k->nset; i++) {
		uint32_t len;
		int64_t v;
		const char *s = vg_cond_check_item(n, i, &len, &v);
		if (!is_sock_item(f, s, len))
			return false;
	}
	return true;
}

static bool sock_types(const struct vg_cond_check *k, const struct vg_cond_node *n)
{
	return sock_types_of(k, n, false);
}

/* A comparison (negated when neg) as an abstract value. */
static void check(const struct ctx *x, const struct vg_cond_node *n, bool neg, struct dnf *out)
{
	struct vg_cond_check k;
	vg_cond_node_check(n, &k);
	set_top(out);
	if (k.types) { /* evt.type = / != / in */
		bool in = k.types[x->type] != 0;
		if (!strcmp(k.op, "!="))
			in = !in;
		if (neg)
			in = !in;
		if (!in)
			set_false(out);
		return;
	}
	/* `evt.arg.flags contains O_CREAT`: the open flag must be set (the
	 * rendered flags hold the name exactly when the bit is set; only names
	 * no other flag's name contains) */
	if (k.field && !k.xform && !k.quant && !k.rhs_field && !neg && x->open && x->has_flags &&
	    !strcmp(k.field->name, "evt.arg") && k.arg && k.farg.kind == 2 && k.farg.key &&
	    !strcmp(k.farg.key, "flags") && !strcmp(k.op, "contains") && k.ktype == VG_FT_STR) {
		static const struct {
			const char *name;
			uint32_t bit;
		} oflags[] = {{"O_CREAT", 0100},
			      {"O_EXCL", 0200},
			      {"O_TRUNC", 01000},
			      {"O_APPEND", 02000}};
		for (size_t i = 0; i < sizeof(oflags) / sizeof(oflags[0]); i++)
			if (k.len == strlen(oflags[i].name) &&
			    !memcmp(k.s, oflags[i].name, k.len)) {
				struct vg_pf_clause c = any_clause;
				c.flags_all = oflags[i].bit;
				set_one(out, &c);
				return;
			}
		return;
	}
	if (!k.field || !k.plain)
		return;
	const char *f = k.field->name;
	struct vg_pf_clause c = any_clause;

	if (!strcmp(f, "evt.rawres") && !strcmp(k.op, "in") && !neg) {
		c.ret = 0;
		for (uint32_t i = 0; i < k.nset; i++) {
			uint32_t len;
			int64_t v;
			vg_cond_check_item(n, i, &len, &v);
			c.ret |= class_of(v);
		}
		set_one(out, &c);
		return;
	}
	if (!strcmp(f, "evt.rawres") && k.ktype == VG_FT_S64) {
		const char *op = neg ? neg_op(k.op) : k.op;
		if (!op)
			return;
		c.ret = ret_classes(op, k.i);
		set_one(out, &c);
		return;
	}
	bool isbool = k.ktype == VG_FT_BOOL && (!strcmp(k.op, "=") || !strcmp(k.op, "!="));
	bool want = isbool && ((k.i != 0) != (!strcmp(k.op, "!=") != neg));
	if (isbool && !strcmp(f, "evt.failed")) {
		/* no value (a call without a result) makes `=` false and `!=` true */
		if (strcmp(k.op, "=") != 0 || neg)
			return;
		c.ret = want ? R_SERR | R_FAIL : R_OK;
		set_one(out, &c);
		return;
	}
	if (isbool && x->open && x->has_flags &&
	    (!strcmp(f, "evt.is_open_read") || !strcmp(f, "evt.is_open_write"))) {
		/* open-family calls always have the value */
		uint8_t rd = VG_PF_ACC_RDONLY | VG_PF_ACC_RDWR,
			wr = VG_PF_ACC_WRONLY | VG_PF_ACC_RDWR;
		uint8_t yes = f[12] == 'r' ? rd : wr;
		c.acc = want ? yes : (uint8_t)(VG_PF_ACC_ANY & ~yes);
		set_one(out, &c);
		return;
	}
	if (!strcmp(f, "evt.res") && k.ktype == VG_FT_STR && !neg && !strcmp(k.op, "=")) {
		c.ret = R_FAIL;
		if (k.len == 7 && !memcmp(k.s, "SUCCESS", 7))
			c.ret = R_OK;
		for (size_t i = 0; i < NSOCK_ERRS; i++)
			if (!strcmp(k.s, sock_errs[i].name))
				c.ret = R_SERR;
		set_one(out, &c);
		return;
	}
	/* the event's fd is a socket: its type names socket types only */
	if (!neg && sock_types(&k, n)) {
		c.nonsimple = EVSOCK;
		set_one(out, &c);
		return;
	}
	/* paths: positive comparisons only (a negated one also holds on
	 * events without the field) */
	if (neg || !x->open)
		return;
	bool name = !strcmp(f, "fd.name"), dir = !strcmp(f, "fd.directory");
	bool fname = !strcmp(f, "fd.filename");
	/* the path contains the literal: fd.name contains it when it, its
	 * directory or its file name contains it, ends with it, or its file
	 * name starts with it.  A longer literal's head is enough. */
	if ((name || dir || fname) && k.ktype == VG_FT_STR &&
	    (!strcmp(k.op, "contains") || (fname && !strcmp(k.op, "startswith")) ||
	     (!strcmp(k.op, "endswith") && (fname || !k.len || !memchr(k.s, '/', k.len))))) {
		if (!k.len || memchr(k.s, 0, k.len))
			return; /* every path contains "", none a NUL */
		c.slen = (uint8_t)(k.len < VG_PF_SUBMAX ? k.len : VG_PF_SUBMAX);
		memcpy(c.sub, k.s, c.slen);
		set_one(out, &c);
		return;
	}
	if (!strcmp(f, "fd.filename") && (!strcmp(k.op, "=") || !strcmp(k.op, "in"))) {
		/* the path's last component is one of these names */
		uint32_t nitems = !strcmp(k.op, "=") ? 1 : k.nset;
		if (!nitems)
			return;
		set_false(out);
		for (uint32_t i = 0; i < nitems; i += VG_PF_TAILS) {
			struct vg_pf_clause t = any_clause;
			t.tkind = VG_PF_TAIL_BASE;
			for (uint32_t j = i; j < nitems && j < i + VG_PF_TAILS; j++) {
				uint32_t len = k.len;
				int64_t v;
				const char *sj = nitems == 1 && !strcmp(k.op, "=")
							 ? k.s
							 : vg_cond_check_item(n, j, &len, &v);
				if (!len || memchr(sj, '/', len)) {
					set_top(out); /* no file name has a '/' or is "" */
					return;
				}
				t.th[t.nt++] = vg_pf_hash(sj, len);
			}
			add(out, &t);
		}
		return;
	}
	if ((name || dir) && !strcmp(k.op, "endswith")) {
		/* "/.aws/credentials": the last component of fd.name (of
		 * fd.directory: the path's one before last) is the literal's
		 * last, when the literal has a '/' before it */
		const char *slash = k.len ? memrchr(k.s, '/', k.len) : NULL;
		uint32_t tl = slash ? (uint32_t)(k.s + k.len - slash - 1) : 0;
		if (!tl)
			return;
		c.tkind = name ? VG_PF_TAIL_BASE : VG_PF_TAIL_PARENT;
		c.nt = 1;
		c.th[0] = vg_pf_hash(slash + 1, tl);
		set_one(out, &c);
		return;
	}
	if (name || dir) {
		if (!strcmp(k.op, "=") || !strcmp(k.op, "startswith")) {
			prefix_clause(&c, k.s, k.len);
		} else if (!strcmp(k.op, "glob") && name) {
			prefix_clause(&c, k.s, glob_head(k.s, k.len));
		} else if ((!strcmp(k.op, "in") || !strcmp(k.op, "pmatch")) && k.nset > 0) {
			/* one clause per item: the joins that follow keep the
			 * longest common prefixes */
			set_false(out);
			for (uint32_t i = 0; i < k.nset; i++) {
				uint32_t len;
				int64_t v;
				const char *si = vg_cond_check_item(n, i, &len, &v);
				prefix_clause(&c, si, len);
				add(out, &c);
			}
			return;
		} else {
			return;
		}
		set_one(out, &c);
		return;
	}
	/* fd.nameraw: the path as passed; a simple path contains no "/.", "//"
	 * nor ".." and starts with '/', and neither does its normal form */
	if (!strcmp(f, "fd.nameraw") && k.ktype == VG_FT_STR) {
		if ((!strcmp(k.op, "contains") && has_dot_or_slashes(k.s, k.len)) ||
		    (!strcmp(k.op, "startswith") && k.len && k.s[0] != '/')) {
			c.nonsimple = 1;
			set_one(out, &c);
		}
		return;
	}
}

static void walk(const struct ctx *x, const struct vg_cond_node *n, bool neg, struct dnf *out)
{
	switch (vg_cond_node_kind(n)) {
	case VG_CN_TRUE:
	case VG_CN_FALSE:
		if ((vg_cond_node_kind(n) == VG_CN_TRUE) != neg)
			set_top(out);
		else
			set_false(out);
		return;
	case VG_CN_NOT:
		walk(x, vg_cond_node_kid(n, 0), !neg, out);
		return;
	case VG_CN_CHECK:
		check(x, n, neg, out);
		return;
	case VG_CN_AND:
	case VG_CN_OR: {
		/* not (a and b) = not a or not b */
		bool conj = (vg_cond_node_kind(n) == VG_CN_AND) != neg;
		struct dnf *kid = vg_xmalloc(sizeof(*kid));
		int nk = vg_cond_node_nkids(n);
		walk(x, vg_cond_node_kid(n, 0), neg, out);
		for (int i = 1; i < nk; i++) {
			if (conj && !out->top && out->n == 0)
				break; /* false already */
			if (!conj && out->top)
				break;
			walk(x, vg_cond_node_kid(n, i), neg, kid);
			if (conj)
				dnf_and(out, kid);
			else
				dnf_or(out, kid);
		}
		free(kid);
		return;
	}
	}
	set_top(out);
}

/* Calls that only work on a socket: one that succeeded, or failed with a
 * network error, worked on a socket. */
static bool socket_call(int t)
{
	const struct vg_sysreg *row = vg_sysreg(t);
	if (!row)
		return false;
	switch (row->apply) {
	case VG_SA_SOCKET:
	case VG_SA_SOCKETPAIR:
	case VG_SA_CONNECT:
	case VG_SA_ACCEPT:
	case VG_SA_BIND:
	case VG_SA_SEND:
	case VG_SA_RECV:
		return true;
	}
	return false;
}

/* Rule r's condition on type t as an abstract value. */
static void analyse(const struct vg_rule *r, int t, struct dnf *out)
{
	const struct vg_sysreg *row = vg_sysreg(t);
	struct ctx x = {t, row && row->open != VG_OPEN_NONE,
			row && (row->open == VG_OPEN_ARGS || row->open == VG_OPEN_HOW ||
				row->open == VG_OPEN_CREAT)};
	walk(&x, vg_cond_root(r->cond), false, out);
	if (out->top || !socket_call(t))
		return;
	/* a socket call that succeeded or failed with a network error */
	for (int i = 0; i < out->n; i++)
		if (!(out->c[i].ret & R_FAIL))
			out->c[i].nonsimple |= EVSOCK;
}

/* ---- which rules read fd table entries later ---------------------------- */

/* What a field read costs the table with the prefilter on. */
enum read_kind {
	RD_NONE,   /* reads no fd table entry */
	RD_EVFD,   /* the entry of the event's own fd */
	RD_STRICT, /* other entries (another fd, the fd list, parameters) */
};

/* What rendering a parameter of this kind reads on type t's events. */
static enum read_kind param_read(const struct vg_sysreg *row, uint8_t kind)
{
	switch (kind) {
	case VG_P_FDRET: /* the fd the call made: its own entry (dup: a copy) */
		return row->apply == VG_SA_DUP ? RD_STRICT : RD_NONE;
	case VG_P_FD: /* the fd argument: the event's fd (dup: the source) */
		return row->apply == VG_SA_DUP ? RD_STRICT : RD_EVFD;
	case VG_P_FD1:
	case VG_P_FD2: /* made by the call (pipe, socketpair) */
		return RD_NONE;
	case VG_P_DIRFD:
		return RD_STRICT;
	}
	return RD_NONE;
}

/* Field f (argument arg) read on an event of type t. */
static enum read_kind read_of(int t, const struct vg_field *f, const struct vg_farg *arg)
{
	const char *n = f->name;
	const struct vg_sysreg *row = vg_sysreg(t);
	if (!strncmp(n, "proc.fd", 7) || !strcmp(n, "fd.types"))
		return RD_STRICT;
	if (!row)
		return RD_NONE;
	if (!strncmp(n, "fd.", 3)) {
		/* the fd the state handler names (agent/state/state_sys.c): none,
		 * or one the call made (its own entry), or an argument's */
		switch (row->apply) {
		case VG_SA_NONE:
		case VG_SA_CHDIR:
		case VG_SA_SETUID:
		case VG_SA_SETGID:
		case VG_SA_CLONE:
		case VG_SA_OPEN:
		case VG_SA_SOCKET:
		case VG_SA_MEMFD:
		case VG_SA_PIPE:
		case VG_SA_SOCKETPAIR:
			return RD_NONE;
		}
		return RD_EVFD;
	}
	if (strcmp(n, "evt.args") && strcmp(n, "evt.rawarg") && strncmp(n, "evt.rawarg.", 11) &&
	    strcmp(n, "evt.arg") && strncmp(n, "evt.arg.", 8))
		return RD_NONE;
	if (arg && arg->kind) { /* one parameter; none of that name: no value */
		for (int i = 0; i < row->nparams; i++)
			if ((arg->kind == 1 && arg->index == i) ||
			    (arg->kind == 2 && arg->key && !strcmp(arg->key, row->params[i].name)))
				return param_read(row, row->params[i].kind);
		return RD_NONE;
	}
	enum read_kind worst = RD_NONE;
	for (int i = 0; i < row->nparams; i++) {
		enum read_kind k = param_read(row, row->params[i].kind);
		if (k > worst)
			worst = k;
	}
	return worst;
}

struct reads {
	int type;
	enum read_kind worst;
	bool any; /* reads some entry at all */
};

static void note(struct reads *x, enum read_kind k)
{
	if (k != RD_NONE)
		x->any = true;
	if (k > x->worst)
		x->worst = k;
}

static void note_output(void *ctx, const struct vg_field *f, const struct vg_farg *arg)
{
	struct reads *x = ctx;
	note(x, read_of(x->type, f, arg));
}

static void note_cond(struct reads *x, const struct vg_cond_node *n)
{
	if (vg_cond_node_kind(n) != VG_CN_CHECK) {
		for (int i = 0; i < vg_cond_node_nkids(n); i++)
			note_cond(x, vg_cond_node_kid(n, i));
		return;
	}
	struct vg_cond_check k;
	vg_cond_node_check(n, &k);
	if (!k.field)
		return;
	enum read_kind r = read_of(x->type, k.field, &k.farg);
	if (r != RD_NONE) {
		x->any = true;
		/* a file's entry and no entry answer it alike */
		if (sock_types_of(&k, n, true))
			r = RD_NONE;
	}
	note(x, r);
	if (k.rhs_field && k.rhs)
		note(x, read_of(x->type, k.rhs, &k.rhs_arg));
}

static void analyse(const struct vg_rule *r, int t, struct dnf *out);

/* Whether rule r, on type t, can only match when the event's fd is a
 * socket. */
static bool only_sockets(const struct vg_rule *r, int t)
{
	struct dnf *d = vg_xmalloc(sizeof(*d));
	analyse(r, t, d);
	bool ok = !d->top;
	for (int i = 0; ok && i < d->n; i++)
		ok = (d->c[i].nonsimple & EVSOCK) != 0;
	free(d);
	return ok;
}

/* Rule r's reads of the fd table over the types it can match: *any when it
 * reads an entry at all; the result: it may read a file's entry. */
static bool reads_files(const struct vg_rule *r, bool *any)
{
	for (int t = 0; t < VG_NR_MAX; t++) {
		if (!r->types[t] || !vg_sysreg(t))
			continue;
		struct reads x = {t, RD_NONE, false};
		note_cond(&x, vg_cond_root(r->cond));
		if (r->out)
			vg_output_fields(r->out, note_output, &x);
		*any |= x.any;
		if (x.worst == RD_STRICT || (x.worst == RD_EVFD && !only_sockets(r, t)))
			return true;
	}
	return false;
}

static const struct vg_rule *fdtable_reader(const struct vg_engine *e, bool files)
{
	size_t n = vg_engine_rule_count(e);
	for (size_t i = 0; i < n; i++) {
		const struct vg_rule *r = vg_engine_rule(e, i);
		if (!r->enabled || r->types[VG_T_AUDIT])
			continue;
		bool any = false;
		if (reads_files(r, &any) || (!files && any))
			return r;
	}
	return NULL;
}

const struct vg_rule *vg_engine_fdtable_reader(const struct vg_engine *e)
{
	return fdtable_reader(e, true);
}

size_t vg_engine_fdtable_readers(const struct vg_engine *e,
				 void (*fn)(void *ctx, const struct vg_rule *r), void *ctx)
{
	size_t n = vg_engine_rule_count(e), k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct vg_rule *r = vg_engine_rule(e, i);
		bool any = false;
		if (r->enabled && !r->types[VG_T_AUDIT] && reads_files(r, &any)) {
			k++;
			if (fn)
				fn(ctx, r);
		}
	}
	return k;
}

bool vg_engine_needs_fdtable(const struct vg_engine *e)
{
	return vg_engine_fdtable_reader(e) != NULL;
}

/* ---- the table ------------------------------------------------------------ */

/* Clause c's return classes in the kernel's terms. */
static void kernel_ret(struct vg_pf_clause *c)
{
	uint8_t rc = c->ret;
	c->ret = (uint8_t)((rc & R_OK ? VG_PF_RET_OK : 0) |
			   (rc & (R_SERR | R_FAIL) ? VG_PF_RET_FAIL : 0));
}

/* f := the predicate of clauses cl for syscall row/d: where its flags are,
 * and its path argument when a clause looks at the path (masks apart). */
static void sc_fill(struct vg_pf_sc *f, const struct dnf *cl, const struct vg_sysreg *row,
		    const struct vg_sc_desc *d)
{
	memset(f, 0, sizeof(*f));
	f->n = (uint8_t)cl->n;
	memcpy(f->c, cl->c, (size_t)cl->n * sizeof(cl->c[0]));
	f->fsrc = row->open == VG_OPEN_ARGS    ? VG_PF_FL_ARG
		  : row->open == VG_OPEN_HOW   ? VG_PF_FL_HOW
		  : row->open == VG_OPEN_CREAT ? VG_PF_FL_CREAT
					       : VG_PF_FL_NONE;
	f->farg = row->flags_arg;
	f->parg = -1;
	for (int i = 0; i < f->n; i++)
		if (f->c[i].plen || f->c[i].nonsimple || f->c[i].tkind || f->c[i].slen)
			f->pathcheck = 1;
	if (f->pathcheck)
		f->parg = d->p0;
}

/* Whether predicate a can drop a successful open of some simple path: no
 * clause holds for every one of them. */
static bool any_drops(const struct vg_pf_sc *a)
{
	for (int i = 0; i < a->n; i++) {
		const struct vg_pf_clause *c = &a->c[i];
		if ((c->ret & VG_PF_RET_OK) && (c->acc & 7) == 7 && !c->flags_all && c->plen < 2 &&
		    !c->tkind && !c->slen)
			return false;
	}
	return true;
}

/* The predicate for any string that names the file (struct vg_pf_table's
 * any): acc's clauses with their tests of fd.name made on the file's own
 * path, which is simple (absolute, exact), so that a clause that holds
 * only on strings that are not simple (fd.nameraw contains "/../") holds
 * there wherever its tests of fd.name do.  acc is the analysis of one
 * open-family syscall's rules; tmp is scratch. */
static void any_of(const struct dnf *acc, const struct vg_sc_desc *d, const struct vg_sysreg *row,
		   struct vg_pf_sc *f, struct dnf *tmp)
{
	*tmp = *acc;
	for (int i = 0; i < tmp->n; i++) {
		kernel_ret(&tmp->c[i]);
		tmp->c[i].nonsimple = 0;
	}
	shrink(tmp, VG_PF_CLAUSES, true);
	sc_fill(f, tmp, row, d);
	vg_pf_sc_masks(f);
}

/* f := the kernel's predicate from the analysis' clauses acc (changed) for
 * syscall row/d; track: the kernel tracks the fds the state does not know (closes). */
static void kernel_sc(struct dnf *acc, const struct vg_sc_desc *d, const struct vg_sysreg *row,
		      bool track, struct vg_pf_sc *f)
{
	/* in the kernel's terms before the clauses others cover are dropped
	 * and the rest joined: clauses the analysis alone tells apart are
	 * then equal */
	for (int i = 0; i < acc->n; i++) {
		struct vg_pf_clause *c = &acc->c[i];
		kernel_ret(c);
		c->nonsimple &= 1;
		/* no path argument to look at: no path is simple.  On a path
		 * that is not simple the kernel makes no path test */
		if (d->p0 < 0)
			c->nonsimple = 0;
		if (d->p0 < 0 || c->nonsimple) {
			memset(c->prefix, 0, sizeof(c->prefix));
			memset(c->sub, 0, sizeof(c->sub));
			memset(c->th, 0, sizeof(c->th));
			c->plen = c->tkind = c->nt = c->slen = 0;
		}
	}
	shrink(acc, VG_PF_CLAUSES, true);
	sc_fill(f, acc, row, d);
	if (track && row->apply == VG_SA_CLOSE)
		f->track = VG_PF_TRACK_CLOSE;
	vg_pf_sc_masks(f);
}

/* The kernel's predicate that keeps every event of syscall row (a rule
 * may match any): track as kernel_sc's. */
static void keep_all_sc(const struct vg_sysreg *row, bool track, struct vg_pf_sc *f)
{
	vg_pf_sc_keep_all(f);
	if (track && row->apply == VG_SA_CLOSE)
		f->track = VG_PF_TRACK_CLOSE;
}

/* An enabled namespaced Rule: its namespace's hash (vg_pf_ns_hash; the
 * Rules of one hash are one namespace's) and its index. */
struct trule {
	uint64_t h;
	size_t i;
};

static int trule_cmp(const void *a, const void *b)
{
	const struct trule *x = a, *y = b;
	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* The enabled namespaced Rules of e, grouped by namespace (*n of them). */
static struct trule *trules_of(const struct vg_engine *e, size_t *n)
{
	size_t nrules = vg_engine_rule_count(e);
	struct trule *tr = vg_xcalloc(nrules + 1, sizeof(*tr));
	*n = 0;
	for (size_t i = 0; i < nrules; i++) {
		const struct vg_rule *r = vg_engine_rule(e, i);
		if (r->enabled && r->tenant)
			tr[(*n)++] = (struct trule){vg_pf_ns_hash(r->tenant), i};
	}
	qsort(tr, *n, sizeof(*tr), trule_cmp);
	return tr;
}

/* The predicates of the namespaces with Rules for syscall nr (rules of
 * type as; tr, ntr: trules_of's): each the cluster's clauses base and its
 * own Rules'.  Once per namespace: a reload with thousands of them must
 * not take seconds.  acc, one, f: scratch. */
static void tenant_preds(const struct vg_engine *e, int nr, int as, const struct vg_sc_desc *d,
			 const struct vg_sysreg *row, bool track, const struct dnf *base,
			 const struct trule *tr, size_t ntr, struct vg_pf_table *t, struct dnf *acc,
			 struct dnf *one, struct vg_pf_sc *f)
{
	for (size_t g = 0, end; g < ntr && !t->narrow[nr].tover; g = end) {
		bool any = false;
		for (end = g; end < ntr && tr[end].h == tr[g].h; end++)
			any |= vg_engine_rule(e, tr[end].i)->types[as] != 0;
		if (!any)
			continue;
		*acc = *base;
		for (size_t j = g; j < end && !acc->top; j++) {
			const struct vg_rule *q = vg_engine_rule(e, tr[j].i);
			if (!q->types[as])
				continue;
			analyse(q, as, one);
			dnf_or(acc, one);
		}
		memset(f, 0, sizeof(*f)); /* compared whole: shared when the same */
		if (acc->top)
			keep_all_sc(row, track, f);
		else
			kernel_sc(acc, d, row, track, f);
		const char *ns = vg_engine_rule(e, tr[g].i)->tenant;
		if (!vg_pf_tpred_add(t, tr[g].h, ns, (uint32_t)nr, f))
			t->narrow[nr].tover = 1; /* its pods get the whole predicate */
	}
}

void vg_engine_prefilter(const struct vg_engine *e, struct vg_pf_table *t)
{
	vg_pf_table_all(t);
	uint8_t want[VG_NR_MAX];
	vg_engine_interest(e, want);
	/* opens: when no rule may read a file's entry; closes: when none reads
	 * an entry at all */
	bool files = fdtable_reader(e, true) != NULL, any = fdtable_reader(e, false) != NULL;
	size_t nrules = vg_engine_rule_count(e);
	struct dnf *acc = vg_xmalloc(sizeof(*acc)), *one = vg_xmalloc(sizeof(*one));
	struct dnf *anyd = vg_xmalloc(sizeof(*anyd)), *nacc = vg_xmalloc(sizeof(*nacc));
	struct dnf *base = vg_xmalloc(sizeof(*base));
	struct vg_pf_sc *tsc = vg_xmalloc(sizeof(*tsc));
	size_t ntr;
	struct trule *tr = trules_of(e, &ntr);
	for (int nr = 0; nr < VG_NR_MAX; nr++) {
		const struct vg_sysreg *row = vg_sysreg(nr);
		if (!want[nr] || !row || !vg_syscall_desc(nr))
			continue;
		/* closes the state needs only for fds whose open it saw: the
		 * kernel remembers the opens it dropped (VG_PF_TRACK_*) */
		bool track = !files && any;
		bool needed = row->apply == VG_SA_OPEN	  ? files
			      : row->apply == VG_SA_CLOSE ? any && !track
							  : true;
		if ((row->flags & VG_SR_STATE) && needed)
			continue; /* the state needs every one */
		/* a call the kernel reports as another (open_by_handle_at as
		 * openat, VG_SC_ASOPENAT) meets the rules of that one */
		const struct vg_sc_desc *d = vg_syscall_desc(nr);
		int as = d->flags & VG_SC_ASOPENAT ? VG_NR_openat : nr;
		/* acc: every rule's; nacc: the rules that are not a namespaced
		 * Rule's (the predicate for the tasks of no such namespace) */
		set_false(acc);
		set_false(nacc);
		bool split = false;
		for (size_t i = 0; i < nrules && !nacc->top; i++) {
			const struct vg_rule *r = vg_engine_rule(e, i);
			if (!r->enabled || !r->types[as])
				continue;
			analyse(r, as, one);
			dnf_or(acc, one);
			if (r->tenant)
				split = true;
			else
				dnf_or(nacc, one);
		}
		if (nacc->top)
			continue; /* the cluster's rules may match any: all are sent */
		struct vg_pf_sc *f = &t->sc[nr];
		/* a namespaced Rule that may match any event keeps every one
		 * of its namespace's pods, not of every task */
		if (acc->top) {
			keep_all_sc(row, track, f);
		} else {
			if (d->flags & VG_SC_FDPATH)
				any_of(acc, d, row, &t->any[nr], anyd);
			kernel_sc(acc, d, row, track, f);
			f->dcache = (d->flags & VG_SC_FDPATH) && any_drops(&t->any[nr]);
		}
		f->nsplit = split;
		if (f->nsplit) {
			*base = *nacc;
			kernel_sc(nacc, d, row, track, &t->narrow[nr]);
			tenant_preds(e, nr, as, d, row, track, base, tr, ntr, t, acc, one, tsc);
		} else {
			t->narrow[nr] = *f;
		}
		t->on[nr] = 1;
	}
	free(acc);
	free(one);
	free(anyd);
	free(nacc);
	free(base);
	free(tsc);
	free(tr);
}
