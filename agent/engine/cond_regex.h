/* cond_regex.h - the `regex` operator's matcher (cond_regex.cc), private
 * to the condition language; C, and C++ for its one C++ file.
 *
 * Falco's rule language has RE2's semantics: RE2's syntax, no
 * backreferences, no lookaround, and matching in time linear in the
 * subject.  This is RE2 itself, behind a C interface.  Bounds: patterns
 * whose program would take more than COND_RE_MEM bytes do not compile
 * (RE2's own "pattern too large"); subjects longer than
 * COND_RE_SUBJECT_MAX bytes are not matched ("not decided").
 */
#ifndef VIGIL_COND_REGEX_H
#define VIGIL_COND_REGEX_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define COND_RE_SUBJECT_MAX 8192
#define COND_RE_MEM (1 << 20)

struct cond_re;
/* NULL with RE2's reason in why when pat is not RE2 syntax (or too large). */
struct cond_re *cond_re_compile(const char *pat, size_t len, char *why, size_t wlen);
void cond_re_free(struct cond_re *re);
/* 1 when pat matches somewhere in s[0..n), 0 when not, -1 when not decided
 * (n over COND_RE_SUBJECT_MAX).  Thread-safe on a shared re. */
int cond_re_match(const struct cond_re *re, const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif
