/* main.c - placeholder while the modules land (see the lead's work in progress). */
#include "version.h"

#include <stdio.h>

int main(void)
{
	printf("vigil %s (commit %s)\n", VIGIL_VERSION, VIGIL_COMMIT);
	return 0;
}
