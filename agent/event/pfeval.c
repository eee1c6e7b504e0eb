/* pfeval.c - see pfeval.h. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "pfeval.h"
#include "sysreg.h"

void vg_pf_sc_keep_all(struct vg_pf_sc *f)
{
	memset(f, 0, sizeof(*f));
	f->n = 1;
	f->c[0].ret = VG_PF_RET_OK | VG_PF_RET_FAIL;
	f->c[0].acc = VG_PF_ACC_ANY;
	vg_pf_sc_masks(f);
}

void vg_pf_table_all(struct vg_pf_table *t)
{
	memset(t, 0, sizeof(*t));
	for (int nr = 0; nr < VG_NR_MAX; nr++) {
		vg_pf_sc_keep_all(&t->any[nr]);
		vg_pf_sc_keep_all(&t->narrow[nr]);
	}
}

uint64_t vg_pf_ns_hash(const char *ns)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)ns; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h ? h : 1;
}

const struct vg_pf_sc *vg_pf_tpred_of(const struct vg_pf_table *t, uint64_t h, uint32_t nr)
{
	for (uint32_t i = 0; i < t->ntp && i < VG_PF_TREFS; i++)
		if (t->tp[i].h == h && t->tp[i].nr == nr)
			return t->tp[i].pi < t->ntsc ? &t->tsc[t->tp[i].pi] : NULL;
	return NULL;
}

bool vg_pf_tpred_add(struct vg_pf_table *t, uint64_t h, const char *ns, uint32_t nr,
		     const struct vg_pf_sc *f)
{
	if (t->ntp >= VG_PF_TREFS)
		return false;
	uint32_t pi = 0;
	while (pi < t->ntsc && memcmp(&t->tsc[pi], f, sizeof(*f)))
		pi++;
	if (pi == t->ntsc) {
		if (t->ntsc >= VG_PF_TPREDS)
			return false;
		t->tsc[t->ntsc++] = *f;
	}
	struct vg_pf_tpred *tp = &t->tp[t->ntp++];
	memset(tp, 0, sizeof(*tp));
	tp->h = h;
	tp->nr = nr;
	tp->pi = pi;
	snprintf(tp->ns, sizeof(tp->ns), "%s", ns);
	return true;
}

/* The open flags of record r for predicate f, as the kernel reads them;
 * *have: whether it did. */
static uint32_t rec_flags(const struct vg_pf_sc *f, const struct vg_rec *r, int *have)
{
	uint32_t fl = 0;
	int have_flags = 0;
	switch (f->fsrc) {
	case VG_PF_FL_ARG:
		if (f->farg >= 0 && f->farg < 6) {
			fl = (uint32_t)r->arg[f->farg];
			have_flags = 1;
		}
		break;
	case VG_PF_FL_HOW:
		if (r->h.flags & VG_F_OPENHOW) {
			fl = (uint32_t)r->aux[0];
			have_flags = 1;
		}
		break;
	case VG_PF_FL_CREAT:
		fl = VG_O_WRONLY | VG_O_CREAT | VG_O_TRUNC;
		have_flags = 1;
		break;
	}
	*have = have_flags;
	return fl;
}

bool vg_pf_rec_keep_any(const struct vg_pf_table *t, const struct vg_rec *r, const char *path)
{
	if (r->h.kind != VG_K_SYSCALL || r->h.nr >= VG_NR_MAX || !t->on[r->h.nr] || !path)
		return true;
	const struct vg_pf_sc *a = &t->any[r->h.nr];
	int have_flags;
	uint32_t fl = rec_flags(a, r, &have_flags);
	size_t l = strlen(path);
	if (l > VG_PF_SCAN - 1)
		return true; /* the kernel caches no such path */
	char p[VG_PF_BUF] __attribute__((aligned(8))) = {0};
	memcpy(p, path, l);
	return vg_pf_keep(a, r->h.ret, fl, have_flags, p, (uint32_t)l + 1) == VG_PF_KEEP;
}

bool vg_pf_rec_keep(const struct vg_pf_table *t, const struct vg_rec *r)
{
	if (r->h.kind != VG_K_SYSCALL || r->h.nr >= VG_NR_MAX || !t->on[r->h.nr])
		return true;
	const struct vg_pf_sc *f = &t->sc[r->h.nr];
	int have_flags;
	uint32_t fl = rec_flags(f, r, &have_flags);
	/* the kernel reads at most VG_PF_BUF - 1 bytes of the path */
	char p[VG_PF_BUF] __attribute__((aligned(8))) = {0};
	uint32_t n = 0;
	if (f->parg >= 0 && r->len[VG_S_PATH0]) {
		size_t l = r->len[VG_S_PATH0] - 1;
		if (l > VG_PF_BUF - 1)
			l = VG_PF_BUF - 1;
		memcpy(p, r->data, l);
		n = (uint32_t)strnlen(p, l) + 1;
	}
	int k = vg_pf_keep(f, r->h.ret, fl, have_flags, p, n);
	if (k == VG_PF_KEEP)
		return true;
	/* the kernel keeps a successful open whose string may be an alias
	 * (PF_ALIAS, str_is_path) when a path test dropped it: the ones whose record
	 * carries the file's own path */
	const struct vg_sc_desc *d = vg_syscall_desc(r->h.nr);
	return k == VG_PF_DROP_PATH && d && (d->flags & VG_SC_FDPATH) && r->h.ret >= 0 &&
	       r->len[VG_S_FILE] > 0;
}

/* The index of (pid, fd) in sim's keys, -1 when not there. */
static ssize_t sim_find(const struct vg_pf_sim *sim, uint32_t pid, int64_t fd)
{
	uint64_t key = (uint64_t)pid << 32 | (uint32_t)fd;
	for (size_t i = 0; i < sim->n; i++)
		if (sim->keys[i] == key)
			return (ssize_t)i;
	return -1;
}

static bool sim_has(const struct vg_pf_sim *sim, uint32_t pid, int64_t fd)
{
	return sim_find(sim, pid, fd) >= 0;
}

static void sim_take(struct vg_pf_sim *sim, uint32_t pid, int64_t fd)
{
	ssize_t i = sim_find(sim, pid, fd);
	if (i >= 0)
		sim->keys[i] = sim->keys[--sim->n];
}

static void sim_put(struct vg_pf_sim *sim, uint32_t pid, int64_t fd)
{
	if (fd < 0 || fd >= VG_PF_TFDS || sim_has(sim, pid, fd))
		return;
	if (sim->n == sim->cap) {
		sim->cap = sim->cap * 2 + 64;
		sim->keys = realloc(sim->keys, sim->cap * sizeof(*sim->keys));
		if (!sim->keys)
			abort();
	}
	sim->keys[sim->n++] = (uint64_t)pid << 32 | (uint32_t)fd;
}

static void sim_forget_pid(struct vg_pf_sim *sim, uint32_t pid)
{
	for (size_t i = 0; i < sim->n;)
		if ((uint32_t)(sim->keys[i] >> 32) == pid)
			sim->keys[i] = sim->keys[--sim->n];
		else
			i++;
}

/* A record the kernel sends: the fds it names are ones the state may know
 * from now on (the kernel's test in sys_exit: any return of 0 or more but
 * a close's and a process id's, the socket fd argument, a pipe's pair);
 * and a close it sends for a predicate that tracks closes, one it no
 * longer knows. */
static void sim_sent(struct vg_pf_sim *sim, const struct vg_rec *r, uint8_t track)
{
	uint32_t pid = r->h.pid;
	bool close = r->h.nr == VG_NR_close;
	const struct vg_sc_desc *d = vg_syscall_desc(r->h.nr);
	if (r->h.ret >= 0 && !close && !(d && (d->flags & VG_SC_RETPID)))
		sim_take(sim, pid, r->h.ret);
	if (d && d->sfd >= 0 && d->sfd < 6)
		sim_take(sim, pid, (int32_t)r->arg[d->sfd]);
	if (r->h.flags & VG_F_FDPAIR) {
		sim_take(sim, pid, (int32_t)r->aux[0]);
		sim_take(sim, pid, (int32_t)r->aux[1]);
	}
	if ((track & VG_PF_TRACK_CLOSE) && r->h.ret == 0)
		sim_put(sim, pid, (int32_t)r->arg[0]);
}

bool vg_pf_sim_keep(const struct vg_pf_table *t, struct vg_pf_sim *sim, const struct vg_rec *r)
{
	uint32_t pid = r->h.pid;
	if (r->h.kind == VG_K_EXEC || r->h.kind == VG_K_EXIT) {
		/* a new process image: the kernel's entries no longer match it */
		sim_forget_pid(sim, pid);
		return true;
	}
	if (r->h.kind != VG_K_SYSCALL)
		return true;
	if (r->h.nr >= VG_NR_MAX || !t->on[r->h.nr]) {
		sim_sent(sim, r, 0);
		return true;
	}
	uint8_t track = t->sc[r->h.nr].track;
	if (vg_pf_rec_keep(t, r) ||
	    ((track & VG_PF_TRACK_CLOSE) && !sim_has(sim, pid, (int32_t)r->arg[0]))) {
		sim_sent(sim, r, track);
		return true;
	}
	return false; /* a close's bit stays set: the state still does not know the fd */
}

void vg_pf_sim_free(struct vg_pf_sim *sim)
{
	free(sim->keys);
	memset(sim, 0, sizeof(*sim));
}

void vg_pf_sc_masks(struct vg_pf_sc *f)
{
	memset(f->cmask, 0, sizeof(f->cmask));
	f->pmask = f->nsmask = f->tbase = f->tparent = f->smask = 0;
	memset(f->bloom, 0, sizeof(f->bloom));
	for (int k = 0; k < 256; k++)
		f->second[k] = 0;
	for (int i = 0; i < f->n && i < VG_PF_CLAUSES; i++) {
		const struct vg_pf_clause *c = &f->c[i];
		uint16_t bit = (uint16_t)(1u << i);
		if (c->plen || c->nonsimple || c->tkind || c->slen)
			f->pmask |= bit;
		if (c->nonsimple)
			f->nsmask |= bit;
		if (c->slen)
			f->smask |= bit;
		if (c->tkind == VG_PF_TAIL_BASE || c->tkind == VG_PF_TAIL_PARENT) {
			int kind = c->tkind == VG_PF_TAIL_PARENT;
			if (kind)
				f->tparent |= bit;
			else
				f->tbase |= bit;
			for (int j = 0; j < c->nt && j < VG_PF_TAILS; j++)
				f->bloom[kind][(c->th[j] >> 6) & 3] |= 1ull << (c->th[j] & 63);
		}
		for (int k = 0; k < 256; k++)
			if (c->plen < 2 || (uint8_t)c->prefix[1] == k)
				f->second[k] |= bit;
		for (int k = 0; k < 8; k++) {
			uint8_t rc = k >= 4 ? VG_PF_RET_FAIL : VG_PF_RET_OK;
			if ((c->ret & rc) && (c->acc & (1u << (k & 3))))
				f->cmask[k] |= bit;
		}
	}
	f->masked = 1;
}

bool vg_pf_clause_implies_sub(const struct vg_pf_clause *c, const char *sub, uint8_t slen)
{
	return (c->slen && memmem(c->sub, c->slen, sub, slen)) ||
	       (c->plen && memmem(c->prefix, c->plen, sub, slen));
}

void vg_pf_clause_join(struct vg_pf_clause *a, const struct vg_pf_clause *b)
{
	/* a substring survives when the other clause holds only on paths
	 * that contain it too (the longer of two such) */
	bool ka = a->slen && vg_pf_clause_implies_sub(b, a->sub, a->slen);
	bool kb = b->slen && vg_pf_clause_implies_sub(a, b->sub, b->slen);
	if (kb && (!ka || b->slen > a->slen)) {
		memcpy(a->sub, b->sub, VG_PF_SUBMAX);
		a->slen = b->slen;
	} else if (!ka) {
		memset(a->sub, 0, VG_PF_SUBMAX);
		a->slen = 0;
	}
	a->ret |= b->ret;
	a->acc |= b->acc;
	a->flags_all &= b->flags_all;
	a->nonsimple &= b->nonsimple;
	uint8_t n = 0;
	while (n < a->plen && n < b->plen && a->prefix[n] == b->prefix[n])
		n++;
	a->plen = n;
	memset(a->prefix + n, 0, VG_PF_PREFIX - n);
	/* a tail test survives when both test the same component and their
	 * sets fit together */
	if (a->tkind && a->tkind == b->tkind) {
		for (int i = 0; i < b->nt; i++) {
			int j = 0;
			while (j < a->nt && a->th[j] != b->th[i])
				j++;
			if (j < a->nt)
				continue;
			if (a->nt == VG_PF_TAILS) {
				a->tkind = 0;
				break;
			}
			a->th[a->nt++] = b->th[i];
		}
	} else {
		a->tkind = 0;
	}
	if (!a->tkind) {
		a->nt = 0;
		memset(a->th, 0, sizeof(a->th));
	}
}

/* d := a predicate that keeps what d or s keeps. */
static void sc_widen(struct vg_pf_sc *d, const struct vg_pf_sc *s)
{
	d->pathcheck |= s->pathcheck;
	if (s->parg >= 0)
		d->parg = s->parg;
	d->track |= s->track; /* keep what either keeps */
	for (int i = 0; i < s->n; i++) {
		if (d->n < VG_PF_CLAUSES)
			d->c[d->n++] = s->c[i];
		else
			vg_pf_clause_join(&d->c[VG_PF_CLAUSES - 1], &s->c[i]);
	}
	vg_pf_sc_masks(d);
}

/* The predicate the kernel tests on the tasks of namespace h's pods for
 * syscall nr (t->on[nr]). */
static const struct vg_pf_sc *tenant_sc(const struct vg_pf_table *t, uint64_t h, uint32_t nr)
{
	const struct vg_pf_sc *f = vg_pf_tpred_of(t, h, nr);
	return f ? f : t->narrow[nr].tover ? &t->sc[nr] : &t->narrow[nr];
}

/* w := namespace (h, name)'s predicate for nr in the union of t and a,
 * unless it is there; *over: no room. */
static void tenant_widen(struct vg_pf_table *w, bool *over, const struct vg_pf_table *t,
			 const struct vg_pf_table *a, uint64_t h, const char *name, uint32_t nr)
{
	if (vg_pf_tpred_of(w, h, nr))
		return;
	struct vg_pf_sc f = *tenant_sc(t, h, nr);
	sc_widen(&f, tenant_sc(a, h, nr));
	if (!vg_pf_tpred_add(w, h, name, nr, &f))
		*over = true;
}

void vg_pf_table_widen(struct vg_pf_table *t, const struct vg_pf_table *a)
{
	/* the namespaces' predicates first, from both tables as they were */
	struct vg_pf_table *w = malloc(sizeof(*w));
	bool over[VG_NR_MAX] = {0};
	if (w) {
		w->ntp = w->ntsc = 0;
		for (int pass = 0; pass < 2; pass++) {
			const struct vg_pf_table *x = pass ? a : t;
			for (uint32_t i = 0; i < x->ntp && i < VG_PF_TREFS; i++) {
				uint32_t nr = x->tp[i].nr;
				if (nr < VG_NR_MAX && t->on[nr] && a->on[nr])
					tenant_widen(w, &over[nr], t, a, x->tp[i].h, x->tp[i].ns,
						     nr);
			}
		}
	}
	for (int nr = 0; nr < VG_NR_MAX; nr++) {
		if (!t->on[nr])
			continue;
		if (!a->on[nr]) {
			t->on[nr] = 0;
			vg_pf_sc_keep_all(&t->any[nr]);
			continue;
		}
		uint8_t split = t->sc[nr].nsplit | a->sc[nr].nsplit;
		uint8_t tover = t->narrow[nr].tover | a->narrow[nr].tover | over[nr] | !w;
		sc_widen(&t->sc[nr], &a->sc[nr]);
		sc_widen(&t->any[nr], &a->any[nr]);
		sc_widen(&t->narrow[nr], &a->narrow[nr]);
		t->sc[nr].dcache &= a->sc[nr].dcache;
		t->sc[nr].nsplit = split;
		t->narrow[nr].tover = split && tover;
	}
	t->ntp = t->ntsc = 0;
	if (w) {
		memcpy(t->tp, w->tp, w->ntp * sizeof(w->tp[0]));
		memcpy(t->tsc, w->tsc, w->ntsc * sizeof(w->tsc[0]));
		t->ntp = w->ntp;
		t->ntsc = w->ntsc;
	}
	free(w);
}

void vg_pf_table_count(const struct vg_pf_table *t, int *filtered, int *dropped)
{
	*filtered = *dropped = 0;
	for (int nr = 0; nr < VG_NR_MAX; nr++)
		if (t->on[nr]) {
			(*filtered)++;
			*dropped += t->sc[nr].n == 0;
		}
}
