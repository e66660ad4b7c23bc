// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-clear-stats.c - "ilioctl clear-stats NAME": send the clear_stats
 * message to an ilio device.
 */
#include "ilioctl.h"

int ilio_cmd_clear_stats(int argc, char **argv)
{
	const char *name;
	int r;

	r = ilio_named_ilio_dev("clear-stats", argc, argv, &name);
	if (r)
		return r < 0 ? ILIO_EXIT_OK : r;
	r = ilio_dm_message(name, "clear_stats", "clear statistics of");
	if (!r && ilio_verbose)
		printf("cleared statistics of %s\n", name);
	return r;
}
