/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-types: distinct integer types for the address spaces of dm-ilio,
 * so that sparse catches one passed for another.
 *
 * Three numbers travel together through the core and are easy to swap: a
 * logical block number, a chunk id and a packed location (the layout is in
 * ilio-format.h).  Each gets a __bitwise type, as dm-cache-block-types.h
 * does for origin and cache blocks: sparse (make C=1) then warns when one
 * is assigned to another or to a plain integer, and the only way across is
 * a to/from helper below.  Outside sparse the types are the plain integers,
 * so the code generated is the same.
 *
 * A function that takes them, say
 *
 *	int __ilio_chunk_restore(struct ilio_chunks *c, ilio_cid_t cid,
 *				 ilio_loc_t loc, u64 hash, u32 limit);
 *
 * cannot be called with its @cid and @loc swapped without a warning.
 * Arithmetic on an LBA (lba + 1, lba >> LEAF_SHIFT) is done on the plain
 * value: ilio_from_lba(), compute, ilio_to_lba().
 */
#ifndef ILIO_TYPES_H
#define ILIO_TYPES_H

#include <linux/types.h>

/* A logical block number (4 KiB blocks), 0 .. nr_blocks - 1. */
typedef u64 __bitwise ilio_lba_t;
/* A packed record location (ilio-format.h, "location encoding"). */
typedef u64 __bitwise ilio_loc_t;
/* A chunk id, 1 .. ILIO_CID_MAX; 0 is "no chunk". */
typedef u32 __bitwise ilio_cid_t;

static inline ilio_lba_t ilio_to_lba(u64 b)
{
	return (__force ilio_lba_t)b;
}

static inline u64 ilio_from_lba(ilio_lba_t b)
{
	return (__force u64)b;
}

static inline ilio_loc_t ilio_to_loc(u64 loc)
{
	return (__force ilio_loc_t)loc;
}

static inline u64 ilio_from_loc(ilio_loc_t loc)
{
	return (__force u64)loc;
}

static inline ilio_cid_t ilio_to_cid(u32 cid)
{
	return (__force ilio_cid_t)cid;
}

static inline u32 ilio_from_cid(ilio_cid_t cid)
{
	return (__force u32)cid;
}

#endif /* ILIO_TYPES_H */
