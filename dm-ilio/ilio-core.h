/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-core: the portable heart of dm-ilio.
 *
 * The core stores 4 KiB logical blocks: it drops zero blocks, finds
 * duplicates through the content index (confirmed byte for byte), lz4
 * compresses the rest and appends them to segments.  It knows nothing of
 * bios or of device-mapper: the dm glue (ilio-target.c) cuts bios into
 * blocks and calls it, and the userspace tests call it directly, through
 * the very same object code built against tests/shim/.
 *
 * Locking: one mutex, ic->lock, protects the LBA map, the chunk table,
 * the content index, the segment table and the statistics.  Every call
 * below takes it itself; they may sleep.  Data is copied, compressed and
 * decompressed outside the lock where possible: reads pin the segment
 * they decompress from (see ilio-seg.h).  Callers serialise writes to the
 * same block if they need read-modify-write atomicity (the glue does).
 */
#ifndef ILIO_CORE_H
#define ILIO_CORE_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/gfp.h>

#include "ilio-format.h"
#include "ilio-lbamap.h"
#include "ilio-chunk.h"
#include "ilio-seg.h"
#include "ilio-compress.h"

/*
 * Allocations on the I/O path: no I/O recursion (we may be the swap
 * device), no retry loops and no warnings - a failure is -ENOMEM to the
 * caller, never a hang.
 */
#define ILIO_GFP		(GFP_NOIO | __GFP_NORETRY | __GFP_NOWARN)

#define ILIO_SEG_BYTES_DEFAULT	0x100000U

/* How many compaction passes one store may run before giving up. */
#define ILIO_COMPACT_TRIES	8

/**
 * struct ilio_core_params - what a core is created with
 * @nr_blocks: logical size in 4 KiB blocks
 * @ram_limit: RAM budget in bytes (segments and metadata together)
 * @seg_bytes: segment size in bytes
 * @dedup: look duplicates up in the content index
 * @compress: lz4-compress new chunks
 */
struct ilio_core_params {
	u64 nr_blocks;
	u64 ram_limit;
	u32 seg_bytes;
	bool dedup;
	bool compress;
};

/**
 * struct ilio_stats - a snapshot of the core's gauges and counters
 * @logical_bytes: mapped, non-zero logical bytes
 * @unique_bytes: unique chunks times the block size (before compression)
 * @stored_bytes: payload bytes of live chunks (after compression)
 * @unique_chunks: live chunks
 * @ram_used_bytes: segments plus metadata
 * @ram_limit_bytes: the budget
 * @meta_bytes: metadata part of @ram_used_bytes
 * @dedup_hits: blocks written that matched a stored chunk
 * @zero_blocks: zero blocks written (they take no storage)
 * @nospc_errors: writes refused for lack of space
 * @compactions: segments emptied by the compactor
 * @compact_moved_bytes: record bytes the compactor copied
 */
struct ilio_stats {
	u64 logical_bytes;
	u64 unique_bytes;
	u64 stored_bytes;
	u64 unique_chunks;
	u64 ram_used_bytes;
	u64 ram_limit_bytes;
	u64 meta_bytes;
	u64 dedup_hits;
	u64 zero_blocks;
	u64 nospc_errors;
	u64 compactions;
	u64 compact_moved_bytes;
};

/**
 * struct ilio_core - one store
 * @lock: protects everything below
 * @map: LBA -> chunk id
 * @chunks: chunk table and content index
 * @segs: segment table
 * @ram_limit: RAM budget in bytes
 * @dedup: duplicate lookup enabled
 * @compress: compression enabled
 * @stored_bytes: payload bytes of live chunks
 * @stored_gen: bumped for every new chunk; a writer that saw it unchanged
 *	across its unlocked compression need not look for a duplicate again
 * @st: counters (the gauges of struct ilio_stats are derived)
 */
struct ilio_core {
	struct mutex lock;	/* protects the whole store */
	struct ilio_lbamap map;
	struct ilio_chunks chunks;
	struct ilio_segs segs;
	u64 ram_limit;
	bool dedup;
	bool compress;
	u64 stored_bytes;
	u64 stored_gen;
	struct ilio_stats st;
};

struct ilio_core *ilio_core_create(const struct ilio_core_params *p, int *err);
void ilio_core_destroy(struct ilio_core *ic);
int ilio_core_write(struct ilio_core *ic, u64 lba, const void *block,
		    struct ilio_ctx *ctx);
int ilio_core_read(struct ilio_core *ic, u64 lba, void *block);
int ilio_core_read_nowait(struct ilio_core *ic, u64 lba, void *block);
int ilio_core_discard(struct ilio_core *ic, u64 lba);
int ilio_core_compact(struct ilio_core *ic, unsigned int max_segs);
void ilio_core_get_stats(struct ilio_core *ic, struct ilio_stats *out);
void ilio_core_clear_stats(struct ilio_core *ic);
void ilio_core_set_policy(struct ilio_core *ic, bool dedup, bool compress);
int ilio_core_set_ram_limit(struct ilio_core *ic, u64 bytes);
int ilio_core_check(struct ilio_core *ic, char *why, size_t len);
u64 __ilio_ram_used(struct ilio_core *ic);

#endif /* ILIO_CORE_H */
