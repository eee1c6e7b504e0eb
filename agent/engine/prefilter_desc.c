/* prefilter_desc.c - the kernel-side prefilter in words (engine.h,
 * `vigil validate --prefilter`): per syscall the clauses of the table
 * vg_engine_prefilter() computes, what is dropped whole, and what the fd
 * table needs.
 *
 * The tail tests hold 32-bit hashes (bpf/prefilter.h); the names are found
 * again by hashing the strings the enabled rules' conditions compare to
 * (whole, and the part after their last '/', as the analysis does).  A
 * hash none of them gives is printed as such.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "pfeval.h"
#include "util.h"

/* hash -> one of the rules' strings (not owned) */
struct names {
	struct name {
		uint32_t h;
		const char *s;
		uint32_t len;
	} * v;
	size_t n, cap;
};

static void name_add(struct names *t, const char *s, uint32_t len)
{
	if (!len)
		return;
	uint32_t h = vg_pf_hash(s, len);
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].h == h)
			return;
	if (t->n == t->cap) {
		t->cap = t->cap * 2 + 64;
		t->v = vg_xrealloc(t->v, t->cap * sizeof(*t->v));
	}
	t->v[t->n++] = (struct name){h, s, len};
}

static void name_add_str(struct names *t, const char *s, uint32_t len)
{
	name_add(t, s, len);
	const char *slash = len ? memrchr(s, '/', len) : NULL;
	if (slash)
		name_add(t, slash + 1, (uint32_t)(s + len - slash - 1));
}

static void names_of(struct names *t, const struct vg_cond_node *n)
{
	if (vg_cond_node_kind(n) != VG_CN_CHECK) {
		for (int i = 0; i < vg_cond_node_nkids(n); i++)
			names_of(t, vg_cond_node_kid(n, i));
		return;
	}
	struct vg_cond_check k;
	vg_cond_node_check(n, &k);
	if (k.types)
		return;
	if (k.s)
		name_add_str(t, k.s, k.len);
	for (uint32_t i = 0; i < k.nset; i++) {
		uint32_t len;
		int64_t v;
		const char *s = vg_cond_check_item(n, i, &len, &v);
		if (s)
			name_add_str(t, s, len);
	}
}

static void put_str(FILE *out, const char *s, uint32_t len)
{
	fputc('"', out);
	for (uint32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* ", " between a clause's tests */
static void sep(FILE *out, int *first)
{
	if (!*first)
		fputs(", ", out);
	*first = 0;
}

static void put_clause(FILE *out, const struct vg_pf_sc *f, const struct vg_pf_clause *c,
		       const struct names *names)
{
	int first = 1;
	fputs("  ", out);
	if (c->ret == VG_PF_RET_OK || c->ret == VG_PF_RET_FAIL) {
		sep(out, &first);
		fputs(c->ret == VG_PF_RET_OK ? "ret>=0" : "ret<0", out);
	}
	if (f->fsrc != VG_PF_FL_NONE && (c->acc & VG_PF_ACC_ANY) != VG_PF_ACC_ANY) {
		static const char *const modes[] = {"read", "write", "read-write", "O_ACCMODE"};
		sep(out, &first);
		fputs("access ", out);
		const char *bar = "";
		for (int i = 0; i < 4; i++)
			if (c->acc & (1u << i)) {
				fprintf(out, "%s%s", bar, modes[i]);
				bar = "|";
			}
	}
	if (f->fsrc != VG_PF_FL_NONE && c->flags_all) {
		static const struct {
			uint32_t bit;
			const char *name;
		} fl[] = {{0100, "O_CREAT"},
			  {0200, "O_EXCL"},
			  {01000, "O_TRUNC"},
			  {02000, "O_APPEND"}};
		uint32_t rest = c->flags_all;
		const char *bar = "";
		sep(out, &first);
		fputs("flags ", out);
		for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
			if (rest & fl[i].bit) {
				fprintf(out, "%s%s", bar, fl[i].name);
				bar = "|";
				rest &= ~fl[i].bit;
			}
		if (rest)
			fprintf(out, "%s0%o", bar, rest);
	}
	if (f->pathcheck && c->nonsimple) {
		sep(out, &first);
		fputs("path not simple", out);
	}
	if (f->pathcheck && !c->nonsimple && c->plen) {
		sep(out, &first);
		fputs("path starts with ", out);
		put_str(out, c->prefix, c->plen);
	}
	if (f->pathcheck && !c->nonsimple && c->slen) {
		sep(out, &first);
		fputs("path contains ", out);
		put_str(out, c->sub, c->slen);
	}
	if (f->pathcheck && !c->nonsimple && c->tkind) {
		sep(out, &first);
		fputs(c->tkind == VG_PF_TAIL_BASE ? "last component" : "parent directory's name",
		      out);
		if (c->nt == 1)
			fputs(" is ", out);
		else
			fprintf(out, " one of %d names: ", c->nt);
		for (int i = 0; i < c->nt; i++) {
			if (i)
				fputs(", ", out);
			size_t j = 0;
			while (j < names->n && names->v[j].h != c->th[i])
				j++;
			if (j < names->n)
				put_str(out, names->v[j].s, names->v[j].len);
			else
				fprintf(out, "(hash 0x%08x)", c->th[i]);
		}
	}
	if (first)
		fputs("any event", out);
	fputc('\n', out);
}

struct readers {
	FILE *out;
};

static void put_reader(void *ctx, const struct vg_rule *r)
{
	struct readers *x = ctx;
	fprintf(x->out, "  %s\n", r->name);
}

/* A predicate: its title line, then its clauses, each after indent. */
static void put_pred(FILE *out, const char *title, const char *indent, const struct vg_pf_sc *f,
		     const struct names *names)
{
	fprintf(out, "%s: kept when one of %d clause%s holds\n", title, f->n, f->n == 1 ? "" : "s");
	for (int i = 0; i < f->n; i++) {
		fputs(indent, out);
		put_clause(out, f, &f->c[i], names);
	}
}

void vg_engine_prefilter_print(const struct vg_engine *e, FILE *out)
{
	struct vg_pf_table *t = vg_xmalloc(sizeof(*t));
	vg_engine_prefilter(e, t);
	struct names names = {0};
	size_t nrules = vg_engine_rule_count(e);
	for (size_t i = 0; i < nrules; i++) {
		const struct vg_rule *r = vg_engine_rule(e, i);
		if (r->enabled)
			names_of(&names, vg_cond_root(r->cond));
	}
	fputs("prefilter (capture.prefilter: on): prefix and name tests are made on simple "
	      "paths only\n",
	      out);
	int whole = 0;
	for (int nr = 0; nr < VG_NR_MAX; nr++) {
		const struct vg_pf_sc *f = &t->sc[nr];
		if (!t->on[nr] || !f->n) {
			whole += t->on[nr];
			continue;
		}
		put_pred(out, vg_evtype_name(nr), "", f, &names);
		if (f->nsplit) {
			put_pred(out,
				 t->narrow[nr].tover
					 ? "  on the host (pods of namespaces with no predicate of "
					   "their own: the whole one)"
					 : "  on the host and in pods of namespaces without Rules "
					   "for it",
				 "  ", &t->narrow[nr], &names);
			for (uint32_t i = 0; i < t->ntp; i++) {
				if (t->tp[i].nr != (uint32_t)nr)
					continue;
				char head[128];
				snprintf(head, sizeof(head), "  in pods of namespace %s",
					 t->tp[i].ns);
				if (t->tp[i].pi < t->ntsc)
					put_pred(out, head, "  ", &t->tsc[t->tp[i].pi], &names);
			}
		}
		const struct vg_sc_desc *d = vg_syscall_desc(nr);
		if (d && (d->flags & VG_SC_FDPATH) && f->pathcheck)
			put_pred(out,
				 "  on the file's own path, for any string naming it (the kernel's "
				 "cache per file)",
				 "  ", &t->any[nr], &names);
	}
	fputs("dropped whole:", out);
	for (int nr = 0; nr < VG_NR_MAX; nr++)
		if (t->on[nr] && !t->sc[nr].n)
			fprintf(out, " %s", vg_evtype_name(nr));
	fputs(whole ? "\n" : " none\n", out);
	struct readers x = {out};
	if (vg_engine_fdtable_readers(e, NULL, NULL)) {
		fputs("opens: all sent: the fd table keeps every open for these rules:\n", out);
		vg_engine_fdtable_readers(e, put_reader, &x);
	} else {
		fputs("opens: filtered (no rule reads a file's fd table entry)\n", out);
	}
	const struct vg_pf_sc *c = &t->sc[VG_NR_close];
	if (!t->on[VG_NR_close])
		fputs("closes: all sent\n", out);
	else if (c->track & VG_PF_TRACK_CLOSE)
		fputs("closes: dropped when the state does not know their fd (the kernel "
		      "tracks which)\n",
		      out);
	else
		fputs("closes: filtered (no rule reads the fd table)\n", out);
	free(names.v);
	free(t);
}
