// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-remove.c - "ilioctl remove NAME": remove an ilio device, and refuse
 * any device that is not one.
 */
#include "ilioctl.h"

int ilio_cmd_remove(int argc, char **argv)
{
	const char *name;
	int r;

	/* Refuse to remove anything that is not ours. */
	r = ilio_named_ilio_dev("remove", argc, argv, &name);
	if (r)
		return r < 0 ? ILIO_EXIT_OK : r;
	return ilio_dm_remove(name);
}
