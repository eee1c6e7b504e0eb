/* argfmt_int.h - private to agent/fields/: what argfmt.c (the parameter
 * lists and their rendering) and argfmt_names.c (the name tables) share.
 */
#ifndef VIGIL_ARGFMT_INT_H
#define VIGIL_ARGFMT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "argfmt.h"

struct fname {
	uint64_t v;
	const char *n;
};

/* Formatting without printf: evt.arg.NAME is rendered for every event a
 * rule reads it on (evt.arg.flags on every open), and vsnprintf's machinery
 * cost more than the rest of the condition.  Each truncates like snprintf. */
static inline size_t cpyn(char *out, size_t cap, const char *s, size_t n)
{
	if (cap == 0)
		return 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

static inline size_t cpy(char *out, size_t cap, const char *s)
{
	return cpyn(out, cap, s, strlen(s));
}

/* digits of v in base (8, 10 or 16, lower case) after prefix */
static inline void fmt_base(char *out, size_t cap, const char *prefix, bool neg, uint64_t v,
			    unsigned base)
{
	char tmp[32];
	size_t i = sizeof(tmp);
	do {
		tmp[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[--i] = '-';
	size_t pl = strlen(prefix);
	memcpy(tmp + i - pl, prefix, pl);
	i -= pl;
	cpyn(out, cap, tmp + i, sizeof(tmp) - i);
}

static inline void fmt_u64(char *out, size_t cap, uint64_t v)
{
	fmt_base(out, cap, "", false, v, 10);
}

static inline void fmt_s64(char *out, size_t cap, int64_t v)
{
	fmt_base(out, cap, "", v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, 10);
}

static inline void fmt_hex(char *out, size_t cap, const char *prefix, uint64_t v)
{
	fmt_base(out, cap, prefix, false, v, 16);
}

static inline void fmt_oct(char *out, size_t cap, uint32_t v)
{
	fmt_base(out, cap, "0", false, v, 8);
}

/* Append s to out (length *n), separated by sep when not first. */
static inline void put(char *out, size_t cap, size_t *n, const char *sep, const char *s)
{
	if (cap == 0 || *n + 1 >= cap)
		return;
	/* byte by byte: names are short, and strlen + memcpy calls for each
	 * flag cost more than the copy (flags are rendered on every open that
	 * a rule tests them on) */
	size_t i = *n;
	if (i)
		for (; *sep && i + 1 < cap; sep++)
			out[i++] = *sep;
	for (; *s && i + 1 < cap; s++)
		out[i++] = *s;
	out[i] = '\0';
	*n = i;
}

/* ------------------------------------------------------------------ */
/* the name tables (argfmt_names.c): lists of {value, name} ended by   */
/* {0, NULL}                                                           */

extern const struct fname vg_argfmt_nsflags[];	   /* CLONE_* */
extern const struct fname vg_argfmt_atflags[];	   /* AT_* */
extern const struct fname vg_argfmt_mfdflags[];	   /* MFD_* (memfd_create) */
extern const struct fname vg_argfmt_exeflags[];	   /* vigil's VG_EXE_* */
extern const struct fname vg_argfmt_domains[];	   /* AF_* */
extern const struct fname vg_argfmt_ptrace_reqs[]; /* PTRACE_* */
extern const struct fname vg_argfmt_signames[];	   /* SIG* */
extern const struct fname vg_argfmt_prctl_opts[];  /* PR_* */
/* BPF_* commands by number */
extern const char *const vg_argfmt_bpf_cmds[];
extern const size_t vg_argfmt_nbpf_cmds;

/* The names of the flags of t set in v, '|'-separated ("" when none). */
void vg_argfmt_flags_render(const struct fname *t, uint64_t v, char *out, size_t cap);
/* The name of value v in t ("" when none). */
void vg_argfmt_enum_render(const struct fname *t, uint64_t v, char *out, size_t cap);

#endif
