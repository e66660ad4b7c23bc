// SPDX-License-Identifier: GPL-2.0
/*
 * bitwise.c: proves that sparse sees dm-ilio's __bitwise types
 * (dm-ilio/ilio-types.h) through tests/shim: scripts/lint.sh runs sparse on
 * this file twice.  As it is, it must be clean: the helpers are the way
 * across.  With -DILIO_MIX it must warn on each line that passes one type
 * for another.
 */
#include <linux/types.h>

#include "ilio-types.h"

u64 ilio_lint_ok(ilio_lba_t lba, ilio_loc_t loc, ilio_cid_t cid);
u64 ilio_lint_ok(ilio_lba_t lba, ilio_loc_t loc, ilio_cid_t cid)
{
	ilio_lba_t next = ilio_to_lba(ilio_from_lba(lba) + 1);

	return ilio_from_lba(next) + ilio_from_loc(loc) + ilio_from_cid(cid);
}

#ifdef ILIO_MIX
ilio_loc_t ilio_lint_mix(ilio_lba_t lba, ilio_cid_t cid);
ilio_loc_t ilio_lint_mix(ilio_lba_t lba, ilio_cid_t cid)
{
	u32 plain = cid;		/* ILIO_MIX 1: a cid as a plain u32 */
	ilio_loc_t loc = lba;		/* ILIO_MIX 2: an LBA as a location */

	return loc + plain;		/* ILIO_MIX 3: arithmetic on a location */
}
#endif
