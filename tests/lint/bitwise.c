// SPDX-License-Identifier: GPL-2.0
/*
 * bitwise.c: proves that sparse sees dm-ilio's __bitwise types
 * (dm-ilio/ilio-types.h) through tests/shim, and that the core's own
 * prototypes use them: scripts/lint.sh runs sparse on this file twice.  As
 * it is, it must be clean: the helpers are the way across, and calls with
 * the arguments in their places pass.  With -DILIO_MIX it must warn on each
 * line that passes one type for another, and on no other line.
 */
#include <linux/types.h>

#include "ilio-types.h"
#include "ilio-chunk.h"
#include "ilio-lbamap.h"

u64 ilio_lint_ok(ilio_lba_t lba, ilio_loc_t loc, ilio_cid_t cid);
u64 ilio_lint_ok(ilio_lba_t lba, ilio_loc_t loc, ilio_cid_t cid)
{
	ilio_lba_t next = ilio_to_lba(ilio_from_lba(lba) + 1);

	return ilio_from_lba(next) + ilio_from_loc(loc) + ilio_from_cid(cid);
}

int ilio_lint_calls(struct ilio_chunks *c, struct ilio_lbamap *m,
		    ilio_lba_t lba, ilio_cid_t cid, ilio_loc_t loc, u64 hash);
int ilio_lint_calls(struct ilio_chunks *c, struct ilio_lbamap *m,
		    ilio_lba_t lba, ilio_cid_t cid, ilio_loc_t loc, u64 hash)
{
	__ilio_lbamap_set(m, lba, cid);
	return __ilio_chunk_restore(c, cid, loc, hash, 0);
}

#ifdef ILIO_MIX
ilio_loc_t ilio_lint_mix(ilio_lba_t lba, ilio_cid_t cid);
ilio_loc_t ilio_lint_mix(ilio_lba_t lba, ilio_cid_t cid)
{
	u32 plain = cid;		/* ILIO_MIX 1: a cid as a plain u32 */
	ilio_loc_t loc = lba;		/* ILIO_MIX 2: an LBA as a location */

	return loc + plain;		/* ILIO_MIX 3: arithmetic on a location */
}

int ilio_lint_swap(struct ilio_chunks *c, struct ilio_lbamap *m,
		   ilio_lba_t lba, ilio_cid_t cid, ilio_loc_t loc, u64 hash);
int ilio_lint_swap(struct ilio_chunks *c, struct ilio_lbamap *m,
		   ilio_lba_t lba, ilio_cid_t cid, ilio_loc_t loc, u64 hash)
{
	int ret;

	__ilio_lbamap_set(m, lba, lba);	/* ILIO_MIX 4: an LBA for a cid */
	ret = __ilio_chunk_restore(c, loc, cid, hash, 0); /* ILIO_MIX 5: cid, loc swapped */
	if (!ret)
		ret = __ilio_chunk_restore(c, cid, hash, loc, 0); /* ILIO_MIX 6: loc, hash swapped */
	if (!ret)
		__ilio_chunk_get(c, ilio_from_cid(cid)); /* ILIO_MIX 7: a plain u32 for a cid */
	return ret;
}
#endif
