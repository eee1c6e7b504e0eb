/* falco_dir.h - where the unit tests find the official Falco rules (test
 * data, never part of the project): $VIGIL_FALCO_RULES, else
 * $VIGIL_SRC/../shared/falco-rules (VIGIL_SRC defaults to "."). */
#ifndef VIGIL_TEST_FALCO_DIR_H
#define VIGIL_TEST_FALCO_DIR_H

#include <stdio.h>
#include <stdlib.h>

static inline void falco_rules_dir(char *dir, size_t n)
{
	const char *env = getenv("VIGIL_FALCO_RULES");
	const char *src = getenv("VIGIL_SRC");
	if (env)
		snprintf(dir, n, "%s", env);
	else
		snprintf(dir, n, "%s/../shared/falco-rules", src ? src : ".");
}

#endif
