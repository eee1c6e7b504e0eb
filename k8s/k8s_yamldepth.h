/* k8s_yamldepth.h - a bound on how deep YAML collections nest.
 *
 * libyaml's scanner keeps a possible simple key per open flow collection
 * and rescans them all at every token, so a document nested N deep costs
 * O(N^2) to parse ("items: [[[[..." 100,000 deep takes seconds), and
 * yaml_parser_load() then builds every level.  Checking the depth on the
 * event stream first stops at the first collection past the limit, before
 * the scanner has read much further: the load stays linear. */
#ifndef K8S_YAMLDEPTH_H
#define K8S_YAMLDEPTH_H

#include <stddef.h>
#include <yaml.h>

/* The deepest nesting of sequences and mappings a vigil YAML file may have
 * (Falco's rules files nest about 5 deep). */
#define K8S_YAML_MAX_DEPTH 256

/* Reads p's events to the end of the stream.  Returns 1 when a collection
 * opens deeper than max, with its 1-based line and column in *line, *col;
 * 0 otherwise, including when the text is not valid YAML (the loader that
 * parses it again reports that error with its own context).  p is set up
 * with its input and deleted by the caller. */
int k8s_yaml_too_deep(yaml_parser_t *p, int max, size_t *line, size_t *col);

#endif
