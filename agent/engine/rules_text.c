/* rules_text.c - diagnostics, and texts that remember where their pieces
 * come from (struct vg_text: a condition or output built from the rule's own
 * text, appended text and generated exception terms).  Part of the rules
 * loader: see rules.c and rules_int.h.
 */
#include "rules_int.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- diagnostics -------------------------------------------------------- */

void vg_diag_add(struct vg_diag *d, int error, const char *file, int line, int col, const char *fmt,
		 ...)
{
	if (d->n == d->cap)
		d->v = vg_xrealloc(d->v, (d->cap = d->cap ? d->cap * 2 : 16) * sizeof(*d->v));
	struct vg_diag_entry *e = &d->v[d->n++];
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->error = error;
	e->file = vg_xstrdup(file ? file : "<input>");
	e->line = line;
	e->col = col;
	e->msg = vg_xstrdup(msg);
	if (error)
		d->errors++;
	else
		d->warnings++;
}

void vg_diag_print(const struct vg_diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].line > 0)
			fprintf(f, "%s:%d:%d: %s: %s\n", d->v[i].file, d->v[i].line, d->v[i].col,
				d->v[i].error ? "error" : "warning", d->v[i].msg);
		else /* about the whole file */
			fprintf(f, "%s: %s: %s\n", d->v[i].file,
				d->v[i].error ? "error" : "warning", d->v[i].msg);
}

void vg_diag_free(struct vg_diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* ---- texts that remember where their pieces come from -------------------- */

/* The text put next comes from pos. */
void rl_tb_seg(struct tbuf *b, struct vg_pos pos, bool fixed)
{
	if (b->nsegs && b->segs[b->nsegs - 1].off == b->len) {
		b->segs[b->nsegs - 1].pos = pos;
		b->segs[b->nsegs - 1].fixed = fixed;
		return;
	}
	if (b->nsegs == b->capsegs)
		b->segs =
			vg_xrealloc(b->segs, (b->capsegs = b->capsegs * 2 + 4) * sizeof(*b->segs));
	b->segs[b->nsegs++] = (struct vg_text_seg){b->len, pos, fixed};
}

void rl_tb_put(struct tbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
		b->s = vg_xrealloc(b->s, b->cap = (b->len + n + 1) * 2);
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

void rl_tb_puts(struct tbuf *b, const char *s)
{
	rl_tb_put(b, s, strlen(s));
}

void rl_tb_text(struct tbuf *b, const struct vg_text *t)
{
	size_t len = strlen(t->text);
	for (size_t i = 0; i < t->nsegs; i++) {
		size_t end = i + 1 < t->nsegs ? t->segs[i + 1].off : len;
		rl_tb_seg(b, t->segs[i].pos, t->segs[i].fixed);
		rl_tb_put(b, t->text + t->segs[i].off, end - t->segs[i].off);
	}
}

struct vg_text rl_tb_take(struct tbuf *b)
{
	if (!b->s)
		rl_tb_put(b, "", 0);
	if (!b->nsegs || b->segs[0].off)
		abort(); /* every text starts with its origin */
	struct vg_text t = {b->s, b->segs[0].pos, b->segs, b->nsegs};
	memset(b, 0, sizeof(*b));
	return t;
}

void rl_tb_free(struct tbuf *b)
{
	free(b->s);
	free(b->segs);
	memset(b, 0, sizeof(*b));
}

struct vg_text rl_text_make(const char *s, size_t n, struct vg_pos pos)
{
	struct tbuf b = {0};
	rl_tb_seg(&b, pos, false);
	rl_tb_put(&b, s, n);
	return rl_tb_take(&b);
}

struct vg_text rl_text_dup(const struct vg_text *t)
{
	struct tbuf b = {0};
	rl_tb_text(&b, t);
	return rl_tb_take(&b);
}

void rl_text_free(struct vg_text *t)
{
	free(t->text);
	free(t->segs);
	memset(t, 0, sizeof(*t));
}

/* dst = dst + " " + add (Falco joins appended conditions and outputs with a space) */
static void text_append(struct vg_text *dst, const struct vg_text *add)
{
	struct tbuf b = {0};
	rl_tb_text(&b, dst);
	rl_tb_put(&b, " ", 1);
	rl_tb_text(&b, add);
	rl_text_free(dst);
	*dst = rl_tb_take(&b);
}

/* An override of a text: append t to dst, or replace dst with it.  Takes t. */
void rl_text_modify(struct vg_text *dst, struct vg_text *t, bool append)
{
	if (append) {
		text_append(dst, t);
		rl_text_free(t);
	} else {
		rl_text_free(dst);
		*dst = *t;
	}
}

struct vg_pos vg_text_locate(const struct vg_text *t, int line, int col)
{
	/* the offset the compiler meant: it counts lines, and bytes within a
	 * line, from {1, 1} */
	size_t off = 0;
	int l = 1, c = 1;
	while (t->text[off] && (l < line || (l == line && c < col))) {
		if (t->text[off] == '\n')
			l++, c = 1;
		else
			c++;
		off++;
	}
	if (!t->nsegs)
		return t->pos;
	size_t i = t->nsegs - 1;
	while (i > 0 && t->segs[i].off > off)
		i--;
	struct vg_pos p = t->segs[i].pos;
	if (t->segs[i].fixed)
		return p;
	/* YAML columns count characters, not bytes */
	for (size_t k = t->segs[i].off; k < off; k++) {
		unsigned char ch = (unsigned char)t->text[k];
		if (ch == '\n')
			p.line++, p.col = 1;
		else if ((ch & 0xC0) != 0x80)
			p.col++;
	}
	return p;
}
