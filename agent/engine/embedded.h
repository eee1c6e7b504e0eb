/* embedded.h - the default rules (the YAML files of rules/) compiled into the binary,
 * used when no rules file or directory is configured or present. */
#ifndef VIGIL_EMBEDDED_H
#define VIGIL_EMBEDDED_H

struct vg_embedded {
	const char *name; /* file name, e.g. "vigil_rules.yaml" */
	const char *text; /* NUL-terminated YAML */
};

extern const struct vg_embedded vg_embedded_rules[]; /* ends with {0, 0} */

#endif
