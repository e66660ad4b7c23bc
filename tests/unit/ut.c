// SPDX-License-Identifier: GPL-2.0
/* The unit test runner: runs every case (or those named on the command line). */
#include <stdlib.h>
#include "ut.h"

unsigned long ut_passed, ut_failed;
const char *ut_current = "";
extern unsigned long ilio_shim_warnings;

int ut_run(const struct ut_case *cases, size_t n, int argc, char **argv)
{
	const char *name;
	size_t i;
	int j;

	for (i = 0; i < n; i++) {
		int selected = argc < 2;
		unsigned long f0 = ut_failed, w0 = ilio_shim_warnings;

		for (j = 1; j < argc; j++)
			if (!strcmp(argv[j], cases[i].name))
				selected = 1;
		if (!selected)
			continue;
		ut_current = cases[i].name;
		cases[i].fn();
		CHECK(ilio_shim_warnings == w0, "%lu kernel WARNs",
		      ilio_shim_warnings - w0);
		printf("%-28s %s\n", cases[i].name,
		       ut_failed == f0 ? "ok" : "FAILED");
		fflush(stdout);
	}
	name = strrchr(argv[0], '/');
	printf("%s: %lu passed, %lu failed\n", name ? name + 1 : argv[0],
	       ut_passed, ut_failed);
	return ut_failed ? 1 : 0;
}
