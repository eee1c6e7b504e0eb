// cond_regex.cc - the `regex` operator: RE2 behind the C interface of
// cond_regex.h (vigil's only C++: RE2 has no C API).
//
// Why RE2: Falco's rule language is defined with RE2, so its syntax and its
// semantics are RE2's by construction (no re-implemented syntax check), and
// RE2 matches in time linear in the subject (automata, never backtracking;
// constructs that need backtracking -- backreferences, lookaround, atomic
// and possessive groups, conditionals, recursion -- do not compile).  POSIX
// regexec() backtracked: (.*)(.*)\2\1b took 15 s on 200 bytes.  PCRE2's
// pcre2_dfa_match() was tried first: its state lists are not deduplicated,
// so ^(a+)+$ ran out of workspace on 800 bytes (no answer), and a pattern
// with a hundred live states cost 10-50 ms per 8 KB subject.
#include "cond_regex.h"

#include <re2/re2.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

struct cond_re {
	RE2 re;
	cond_re(const re2::StringPiece &pat, const RE2::Options &o) : re(pat, o)
	{
	}
};

extern "C" struct cond_re *cond_re_compile(const char *pat, size_t len, char *why, size_t wlen)
{
	RE2::Options o;
	o.set_log_errors(false);    // errors are returned, not printed
	o.set_max_mem(COND_RE_MEM); // bounds the program and the DFA cache
	cond_re *r = new (std::nothrow) cond_re(re2::StringPiece(pat, len), o);
	if (!r)
		abort(); // like vg_xcalloc
	if (!r->re.ok()) {
		// what Perl and PCRE have and RE2 has not: say why it is refused
		RE2::ErrorCode e = r->re.error_code();
		bool perlish = e == RE2::ErrorBadEscape || e == RE2::ErrorBadPerlOp ||
			       e == RE2::ErrorRepeatOp;
		snprintf(why, wlen, "%s%s", r->re.error().c_str(),
			 perlish ? " (RE2 syntax: no backreferences, lookaround, atomic "
				   "groups, possessive quantifiers, conditionals or recursion)"
				 : "");
		delete r;
		return nullptr;
	}
	return r;
}

extern "C" void cond_re_free(struct cond_re *re)
{
	delete re;
}

extern "C" int cond_re_match(const struct cond_re *re, const char *s, size_t n)
{
	if (n > COND_RE_SUBJECT_MAX)
		return -1;
	return RE2::PartialMatch(re2::StringPiece(s, n), re->re) ? 1 : 0;
}
