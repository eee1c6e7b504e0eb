/* convert.h - Falco rules files into vigil custom resources (`vigil convert`).
 *
 * The files are loaded in order as one rule set (rules.h), so `override`,
 * `append` and redefinitions are resolved first: what is written out is
 * the effective definition of every item.  A rule's exceptions are folded
 * into its condition the way Falco applies them ("(condition) and not
 * (...)"), so the object behaves exactly like the loaded rule.
 *
 * Output, a YAML stream of vigil.dev/v1alpha1 objects:
 *  - one RuleLibrary with every macro and list (named after the first
 *    file, DNS-1123-safe, e.g. falco_rules.yaml -> falco-rules);
 *  - one ClusterRule per rule whose source is syscall, named from the rule
 *    name (lower case, runs of other characters as '-', at most 63
 *    characters, "-2", "-3"... when two names collide), with the original
 *    name in spec.rule and hostProcesses: true (Falco rules see every
 *    process).
 * Rules of other sources are left out with a warning.  Nothing is written
 * when a file has an error or a rule does not compile.
 */
#ifndef VIGIL_CONVERT_H
#define VIGIL_CONVERT_H

#include <stddef.h>
#include <stdio.h>

#include "rules.h"

/* Returns 0 with the stream written to out, or -1 with errors in d
 * (FILE:LINE:COL). */
int vg_convert(const char *const *files, size_t nfiles, FILE *out, struct vg_diag *d);

/* DNS-1123 label from any name (at most 63 characters, never empty). */
void vg_convert_dns_name(const char *name, char out[64]);

#endif
