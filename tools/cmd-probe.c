// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-probe.c - "ilioctl probe DEV": udev's probe for ilio stores.
 *
 * libblkid does not know the ilio superblock, so blkid, wipefs and udev's
 * builtin probe see nothing on a formatted store.  tools/udev/69-ilio.rules
 * runs this probe on block devices in which blkid found nothing (as
 * bcache-tools' 69-bcache.rules runs probe-bcache), and imports what it
 * prints:
 *
 *   ID_FS_TYPE=ilio
 *   ID_FS_USAGE=other
 *   ID_FS_VERSION=<on-disk format version>
 *   ID_FS_UUID=<store uuid>
 *   ID_FS_UUID_ENC=<store uuid>
 *
 * so that lsblk -f (which reads udev's database), /dev/disk/by-uuid and
 * udev rules see the store.  DEV is opened shared and read-only: it may be
 * in use by a live ilio device.  Exit status 0 with the lines above when
 * DEV holds a valid ilio superblock; 1 with nothing on stdout otherwise (no
 * message when DEV simply holds no ilio store: udev probes every blank
 * device).
 */
#include <errno.h>
#include <string.h>

#include "bdev.h"

int ilio_cmd_probe(int argc, char **argv)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char *path = NULL, *val, *why;
	struct ilio_geom g;
	char uuid[40];
	int id, r;

	while ((id = ilio_next_arg(&it, ilio_name_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (path)
				return ilio_usage_err("probe: unexpected argument '%s'",
						      val);
			path = val;
			break;
		case ILIO_OPT_HELP:
			ilio_cmd_help(0, NULL);
			return ILIO_EXIT_OK;
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		}
	}
	if (!path)
		return ilio_usage_err("probe: missing DEV");

	r = ilio_read_store(path, &g, &why);
	if (r == 1)
		return ILIO_EXIT_FAIL;
	if (r == -EINVAL)
		return ilio_fail("%s holds a damaged ilio superblock: %s", path,
				 why ? why : "invalid");
	if (r)
		return ilio_fail("cannot read %s: %s", path, strerror(-r));

	ilio_fmt_uuid(g.uuid, uuid, sizeof(uuid));
	printf("ID_FS_TYPE=ilio\n");
	printf("ID_FS_USAGE=other\n");
	printf("ID_FS_VERSION=%u\n", ILIO_FORMAT_VERSION);
	printf("ID_FS_UUID=%s\n", uuid);
	printf("ID_FS_UUID_ENC=%s\n", uuid);
	return ILIO_EXIT_OK;
}
