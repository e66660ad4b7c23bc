// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-path.c - "ilioctl path NAME DEV [--dry-run]": switch a live
 * persistent ilio device to another path to its store (another multipath
 * map or iSCSI session to the same LUN, or a copy made while the device
 * was suspended: a migration).
 *
 * The live table is reloaded with DEV as its backing device and the device
 * is resumed.  The kernel checks that DEV shows the same store (size,
 * discard, superblocks, anchors and, suspended, the multihost record:
 * ilio_dev_path_check() in dm-ilio/ilio-target.c) at the reload and again
 * in the resume, and switches there.  Before that, this command refuses a
 * DEV that is not a block device, holds no ilio store, or holds a store
 * with another uuid than the one on the current path (when that path can
 * be read).  When the resume fails, the old table is loaded again.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ilioctl.h"
#include "bdev.h"

static const struct ilio_opt ilio_path_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
	{ "dry-run", 'n', false, ILIO_OPT_DRY_RUN },
	{ NULL, 0, false, 0 },
};

/* The live TABLE line @table with its first word (the backing) @backing. */
static int ilio_path_params(const char *table, const char *backing, char *buf,
			    size_t size)
{
	const char *rest = strchr(table, ' ');
	int n;

	if (!rest)
		return -EPROTO;
	n = snprintf(buf, size, "%s%s", backing, rest);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Check DEV (block device, a store, the same uuid); @mm gets "M:m". */
static int ilio_path_check(const char *name, const char *cur, const char *path,
			   char *mm, size_t size)
{
	static struct ilio_store_info si, ci;
	char node[PATH_MAX + 8], u1[40], u2[40];
	struct stat st;
	int r;

	r = ilio_blk_check("backing device", path, si.real, sizeof(si.real));
	if (r)
		return r;
	if (stat(si.real, &st))
		return ilio_fail("cannot use backing device %s: %s", path, strerror(errno));
	snprintf(mm, size, "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	if (!strcmp(mm, cur))
		return ilio_fail("%s: %s is already its backing device (%s)", name, path, mm);
	if (ilio_store_read(path, false, &si))
		return ILIO_EXIT_FAIL;
	/* The current path may be dead: then only the kernel compares. */
	if (!ilio_majmin_node(cur, node, sizeof(node)))
		return 0;
	ilio_lib_errors_discard();
	if (ilio_store_read(node, false, &ci)) {
		ilio_msg("%s: cannot read the current backing device %s; the kernel decides",
			 name, cur);
		return 0;
	}
	if (memcmp(si.g.uuid, ci.g.uuid, sizeof(si.g.uuid)))
		return ilio_fail("%s: %s holds the store %s, not %s's (%s, on %s)", name,
				 path, ilio_fmt_uuid(si.g.uuid, u1, sizeof(u1)), name,
				 ilio_fmt_uuid(ci.g.uuid, u2, sizeof(u2)), cur);
	return 0;
}

int ilio_cmd_path(int argc, char **argv)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	char raw[ILIO_PARAMS_MAX], old_params[ILIO_PARAMS_MAX];
	char params[ILIO_PARAMS_MAX], cur[64], mm[32];
	char refused[PATH_MAX + 64], failed[PATH_MAX + 32], back[80];
	const char *name = NULL, *path = NULL, *val;
	unsigned long long len;
	bool dry_run = false;
	struct ilio_dev dev;
	int id, r;

	while ((id = ilio_next_arg(&it, ilio_path_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (path)
				return ilio_usage_err("path: unexpected argument '%s'", val);
			if (name)
				path = val;
			else
				name = val;
			break;
		case ILIO_OPT_HELP:
			return ilio_cmd_help(0, NULL);
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		case ILIO_OPT_DRY_RUN:
			dry_run = true;
			break;
		}
	}
	if (!name)
		return ilio_usage_err("path: missing device NAME");
	if (!path)
		return ilio_usage_err("path: missing the new backing device DEV");
	r = ilio_check_name(name);
	if (r)
		return r;
	r = ilio_dm_available();
	if (r)
		return r;
	r = ilio_dm_lookup(name, &dev, raw, sizeof(raw));
	if (r)
		return ilio_lookup_fail(name, r, raw);
	ilio_lib_errors_discard();
	len = dev.len;
	if (!ilio_dev_is_persistent(&dev)) {
		ilio_dev_release(&dev);
		return ilio_fail("%s: a diskless device has no backing device", name);
	}
	snprintf(cur, sizeof(cur), "%s", dev.tb.backing);
	ilio_dev_release(&dev);
	r = ilio_path_check(name, cur, path, mm, sizeof(mm));
	if (r)
		return r;
	r = ilio_path_params(raw, cur, old_params, sizeof(old_params));
	if (!r)
		r = ilio_path_params(raw, mm, params, sizeof(params));
	if (r)
		return ilio_fail("%s: the table line is too long", name);
	if (dry_run) {
		printf("would switch %s from %s to %s (%s): table '0 %llu %s %s'\n", name,
		       cur, path, mm, len, ILIO_TARGET, params);
		return ILIO_EXIT_OK;
	}
	snprintf(refused, sizeof(refused), "the kernel refused %s as its backing device",
		 path);
	snprintf(failed, sizeof(failed), "cannot switch to %s", path);
	snprintf(back, sizeof(back), "on %s", cur);
	if (ilio_dm_swap_table(name, len, params, len, old_params, refused, failed,
			       back))
		return ILIO_EXIT_FAIL;
	printf("%s: backing device %s -> %s (%s)\n", name, cur, mm, path);
	return ILIO_EXIT_OK;
}
