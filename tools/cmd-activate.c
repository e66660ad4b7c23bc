// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-activate.c - "ilioctl activate DEV [--name NAME] [--ram SIZE]
 * [--readonly] [create's options]": bring up the ilio store on DEV
 * without retyping its geometry.  The store's current anchor records the
 * logical size of its first activation (dm-ilio/ilio-format.h), which
 * becomes --size; the name defaults to "ilio-" and the first 8 hex digits
 * of the store's uuid, stable whatever DEV is called; --ram defaults to
 * ILIO_ACTIVATE_RAM_MB (more when the LBA map of the size, or the
 * store's segment table, needs it: what the kernel's budget checks ask,
 * plus ILIO_ACTIVATE_RAM_MB_EXTRA).
 * The table line is then checked and loaded as "create" does
 * (cmd-create.c).
 */
#include <string.h>

#include "bdev.h"
#include "ilio-args.h"

/* --ram when not given: 256 MiB ... */
#define ILIO_ACTIVATE_RAM_MB		256ULL
/* ... or what the budget check needs for the size, and this much more. */
#define ILIO_ACTIVATE_RAM_MB_EXTRA	64ULL

int ilio_cmd_activate(int argc, char **argv)
{
	struct ilio_create_args a;
	struct ilio_store_info si;
	char name[DM_NAME_LEN], uuid[40];
	unsigned long long need, store, blocks;
	int r;

	r = ilio_create_parse(argc, argv, true, &a);
	if (r)
		return r < 0 ? ILIO_EXIT_OK : r;

	r = ilio_store_read(a.backing, true, &si);
	if (r)
		return r;
	if (!a.name) {
		ilio_fmt_uuid(si.g.uuid, uuid, sizeof(uuid));
		snprintf(name, sizeof(name), "ilio-%.8s", uuid);
		a.name = name;
	}
	if (!a.has_size) {
		if (!si.nr_blocks)
			return ilio_fail("%s was never activated, so it %s",
					 a.backing,
					 "records no logical size yet: give --size once");
		a.size_bytes = si.nr_blocks * ILIO_BLOCK_SIZE;
		a.has_size = true;
	}
	if (!a.has_ram) {
		blocks = a.size_bytes / ILIO_BLOCK_SIZE;
		need = ilio_budget_min_bytes(blocks, ILIO_SEG_BYTES_CTR);
		store = ilio_budget_map_start_bytes(blocks) +
			ilio_budget_store_bytes(si.g.nr_segs, si.g.seg_bytes);
		if (store > need)
			need = store;
		need = (need + (1ULL << ILIO_MIB_SHIFT) - 1) >> ILIO_MIB_SHIFT;
		a.ram_mb = ILIO_ACTIVATE_RAM_MB;
		if (need + ILIO_ACTIVATE_RAM_MB_EXTRA > a.ram_mb)
			a.ram_mb = need + ILIO_ACTIVATE_RAM_MB_EXTRA;
		if (a.ram_mb > ILIO_RAM_MB_MAX)
			a.ram_mb = ILIO_RAM_MB_MAX;
		a.has_ram = true;
	}
	r = ilio_create_run(&a, &si);
	/* The name may be ilioctl's choice: always say it. */
	if (!r && a.dry_run)
		printf("would create /dev/mapper/%s%s\n", a.name,
		       a.read_only ? " (read-only)" : "");
	else if (!r && !ilio_verbose)
		printf("/dev/mapper/%s\n", a.name);
	return r;
}
