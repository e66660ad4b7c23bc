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
 * value: ilio_from_lba(), compute, ilio_to_lba().  Sparse allows ==, !=
 * and ! on these types, and comparison with the constant 0.
 *
 * The on-disk codec (ilio-meta.h, shared with tools/) keeps plain integers:
 * the core converts where it calls it.  The location layout is in
 * ilio-format.h as raw u64 helpers; their typed twins are below.
 */
#ifndef ILIO_TYPES_H
#define ILIO_TYPES_H

#include <linux/types.h>

#include "ilio-format.h"

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

/*
 * ILIO_LOC_DAMAGED: ILIO_LOC_RAW_DAMAGED as a location, the sentinel of a
 * live chunk whose record was found damaged (ilio-format.h).
 */
#define ILIO_LOC_DAMAGED	((__force ilio_loc_t)ILIO_LOC_RAW_DAMAGED)

/* ilio_loc_make() - ilio_loc_raw_make() as an ilio_loc_t */
static inline ilio_loc_t ilio_loc_make(u32 seg, u32 off, u32 len, bool lz4)
{
	return ilio_to_loc(ilio_loc_raw_make(seg, off, len, lz4));
}

/* ilio_loc_seg() - the segment number of location @loc */
static inline u32 ilio_loc_seg(ilio_loc_t loc)
{
	return ilio_loc_raw_seg(ilio_from_loc(loc));
}

/* ilio_loc_off() - the byte offset of the record at location @loc */
static inline u32 ilio_loc_off(ilio_loc_t loc)
{
	return ilio_loc_raw_off(ilio_from_loc(loc));
}

/* ilio_loc_len() - the payload length of the record at location @loc */
static inline u32 ilio_loc_len(ilio_loc_t loc)
{
	return ilio_loc_raw_len(ilio_from_loc(loc));
}

/* ilio_loc_lz4() - is the payload at location @loc an lz4 block? */
static inline bool ilio_loc_lz4(ilio_loc_t loc)
{
	return ilio_loc_raw_lz4(ilio_from_loc(loc));
}

/* ilio_loc_damaged() - is @loc the ILIO_LOC_DAMAGED sentinel? */
static inline bool ilio_loc_damaged(ilio_loc_t loc)
{
	return loc == ILIO_LOC_DAMAGED;
}

#endif /* ILIO_TYPES_H */
