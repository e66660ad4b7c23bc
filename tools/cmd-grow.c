// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-grow.c - "ilioctl grow NAME [--size SIZE] [--ram SIZE] [--dry-run]":
 * grow a live ilio device online, as lvextend does.
 *
 * The device's table is reloaded with the new length (and RAM budget) and
 * the device is resumed.  The kernel grows the store in the resume, with
 * the device suspended (dm-ilio/ilio-target.c, ilio_grow()): to the new
 * logical size, and over the whole new segments of a backing device that
 * was extended since (so "ilioctl grow NAME" alone joins a grown LUN).
 * Shrinking is refused here and by the kernel.  When the resume fails the
 * old table is loaded again, so the device comes back as it was, and the
 * kernel's reason is printed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ilioctl.h"
#include "ilio-args.h"
#include "ilio-format.h"

static const struct ilio_opt ilio_grow_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
	{ "dry-run", 'n', false, ILIO_OPT_DRY_RUN },
	{ "size", 0, true, ILIO_OPT_SIZE },
	{ "ram", 0, true, ILIO_OPT_RAM },
	{ NULL, 0, false, 0 },
};

/*
 * The live TABLE line @table ("<backing> <ram_mb> [<#features> ...]") with
 * ram_mb @ram_mb, the rest as it is.
 */
static int ilio_grow_params(const char *table, unsigned long long ram_mb,
			    char *buf, size_t size)
{
	const char *ram = strchr(table, ' '), *rest;
	int n;

	if (!ram)
		return -EPROTO;
	rest = strchr(ram + 1, ' ');
	n = snprintf(buf, size, "%.*s %llu%s", (int)(ram - table), table, ram_mb,
		     rest ? rest : "");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int ilio_cmd_grow(int argc, char **argv)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	char raw[ILIO_PARAMS_MAX], old_params[ILIO_PARAMS_MAX];
	char params[ILIO_PARAMS_MAX], h1[32], h2[32], h3[32], h4[32];
	char failed[64], back[64];
	unsigned long long size = 0, ram = 0, ram_mb, len, old_len, old_back;
	bool has_size = false, has_ram = false, dry_run = false;
	const char *name = NULL, *val, *why, *opt;
	struct ilio_dev dev;
	int id, r;

	while ((id = ilio_next_arg(&it, ilio_grow_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (name)
				return ilio_usage_err("grow: unexpected argument '%s'", val);
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
		case ILIO_OPT_SIZE:
		case ILIO_OPT_RAM:
			opt = id == ILIO_OPT_SIZE ? "size" : "ram";
			r = ilio_parse_size(val, id == ILIO_OPT_SIZE ? &size : &ram);
			if (r)
				return ilio_usage_err("invalid size '%s' for --%s (%s)",
						      val, opt, "examples: 512M, 8G, 2T");
			if (id == ILIO_OPT_SIZE)
				has_size = true;
			else
				has_ram = true;
			break;
		}
	}
	if (!name)
		return ilio_usage_err("grow: missing device NAME");
	r = ilio_check_name(name);
	if (r)
		return r;
	if (has_size && (!size || size % ILIO_BLOCK_SIZE))
		return ilio_usage_err("grow: --size must be a non-zero multiple of 4 KiB");
	if (has_ram && (ram < (1ULL << ILIO_MIB_SHIFT) ||
			ram >> ILIO_MIB_SHIFT > ILIO_RAM_MB_MAX))
		return ilio_usage_err("grow: --ram must be from 1 MiB to %u MiB",
				      ILIO_RAM_MB_MAX);

	r = ilio_dm_available();
	if (r)
		return r;
	r = ilio_dm_lookup(name, &dev, raw, sizeof(raw));
	if (r)
		return ilio_lookup_fail(name, r, raw);
	ilio_lib_errors_discard();
	old_len = dev.len;
	len = has_size ? size >> 9 : dev.len;
	ram_mb = has_ram ? ram >> ILIO_MIB_SHIFT : dev.tb.ram_mb;
	old_back = dev.st.v[ILIO_ST_BACKEND_BYTES];
	r = ilio_grow_params(raw, dev.tb.ram_mb, old_params, sizeof(old_params));
	if (!r)
		r = ilio_grow_params(raw, ram_mb, params, sizeof(params));
	if (r) {
		ilio_dev_release(&dev);
		return ilio_fail("%s: the table line is too long", name);
	}
	if (len < old_len) {
		r = ilio_fail("%s: shrinking is not supported (%s is %s, %s %s); %s",
			      name, name,
			      ilio_human_binary(old_len << 9, h1, sizeof(h1)),
			      "--size asks for",
			      ilio_human_binary(len << 9, h2, sizeof(h2)),
			      "an ilio device can only grow");
		ilio_dev_release(&dev);
		return r;
	}
	/* The kernel's own budget check at the new size (ilio-args.c). */
	if (ilio_check_budget(len >> 3, ram_mb << ILIO_MIB_SHIFT, ILIO_SEG_BYTES_CTR,
			      &why)) {
		r = ilio_fail("%s: %s at %s with %llu MiB of RAM (give more with --ram)",
			      name, why, ilio_human_binary(len << 9, h1, sizeof(h1)),
			      ram_mb);
		ilio_dev_release(&dev);
		return r;
	}
	ilio_dev_release(&dev);
	if (dry_run) {
		printf("would grow %s from %s to %s: table '0 %llu %s %s'\n", name,
		       ilio_human_binary(old_len << 9, h1, sizeof(h1)),
		       ilio_human_binary(len << 9, h2, sizeof(h2)), len, ILIO_TARGET,
		       params);
		return ILIO_EXIT_OK;
	}

	snprintf(failed, sizeof(failed), "cannot grow to %s",
		 ilio_human_binary(len << 9, h1, sizeof(h1)));
	snprintf(back, sizeof(back), "at %s",
		 ilio_human_binary(old_len << 9, h2, sizeof(h2)));
	if (ilio_dm_swap_table(name, len, params, old_len, old_params,
			       "the kernel refused the grown table", failed, back))
		return ILIO_EXIT_FAIL;
	ilio_lib_errors_discard();

	r = ilio_dm_lookup(name, &dev, raw, sizeof(raw));
	if (r)
		return ilio_lookup_fail(name, r, raw);
	printf("%s: logical size %s -> %s", name,
	       ilio_human_binary(old_len << 9, h1, sizeof(h1)),
	       ilio_human_binary(dev.len << 9, h2, sizeof(h2)));
	if (strcmp(dev.tb.backing, "-"))
		printf(", log area %s -> %s",
		       ilio_human_binary(old_back, h3, sizeof(h3)),
		       ilio_human_binary(dev.st.v[ILIO_ST_BACKEND_BYTES], h4, sizeof(h4)));
	printf("\n");
	ilio_dev_release(&dev);
	return ILIO_EXIT_OK;
}
