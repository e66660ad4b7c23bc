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
 * they decompress from (see ilio-seg.h), and say so in ic->holds (struct
 * ilio_hold), so that the consistency check can tell them from a leak.
 * Callers serialise writes to the same block if they need
 * read-modify-write atomicity (the glue does).
 */
#ifndef ILIO_CORE_H
#define ILIO_CORE_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/gfp.h>

#include "ilio-format.h"
#include "ilio-lbamap.h"
#include "ilio-chunk.h"
#include "ilio-seg.h"
#include "ilio-compress.h"
#include "ilio-cache.h"

struct ilio_plog;

/* Coalescing policies of persistent mode (table feature "coalesce"). */
enum ilio_coalesce {
	ILIO_COALESCE_AUTO = 0,
	ILIO_COALESCE_ALWAYS,
	ILIO_COALESCE_OFF,
};

/**
 * struct ilio_backend_ops - how a persistent core reaches its device
 * @read: read @len bytes at byte @pos into @buf; may sleep
 * @write: write @len bytes from @buf at byte @pos; may sleep; returns when
 *	the device completed the write (not necessarily durable)
 * @flush: make every completed write durable
 * @discard: optional; tell the device that a byte range is unused
 * @kick: optional; ask for ilio_core_writeback() to run soon in another
 *	context.  Without it the core writes back synchronously.
 *
 * Each returns 0 or a negative errno; positions and lengths are 4 KiB
 * multiples.
 */
struct ilio_backend_ops {
	int (*read)(void *priv, u64 pos, void *buf, u32 len);
	int (*write)(void *priv, u64 pos, const void *buf, u32 len);
	int (*flush)(void *priv);
	int (*discard)(void *priv, u64 pos, u64 len);
	void (*kick)(void *priv);
};

/*
 * Allocations on the I/O path, under the core lock: no I/O recursion (we
 * may be the swap device), no retry loops and no warnings.  A failure
 * falls back to a reserve (segment buffer, map and chunk leaf), and else
 * is -ENOMEM to the write path, which drops the lock, refills the reserve
 * with ILIO_GFP_WAIT (the allocator may reclaim and retry), or waits, and
 * tries again: transient pressure delays a write, it never fails it.
 */
#define ILIO_GFP		(GFP_NOIO | __GFP_NORETRY | __GFP_NOWARN)
#define ILIO_GFP_WAIT		(GFP_NOIO | __GFP_RETRY_MAYFAIL | __GFP_NOWARN)

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
 * @bops: persistent mode: backing device access (NULL: diskless)
 * @bpriv: passed to @bops
 * @dev_bytes: persistent mode: size of the backing device
 * @read_only: persistent mode: recover without writing, serve reads only
 * @coalesce: persistent mode: enum ilio_coalesce
 * @flush_interval_ms: persistent mode: longest time dirty data waits
 *	(coalesce auto)
 * @max_dirty: persistent mode: bytes of unwritten data before writers
 *	wait for the backing device
 */
struct ilio_core_params {
	u64 nr_blocks;
	u64 ram_limit;
	u32 seg_bytes;
	bool dedup;
	bool compress;
	const struct ilio_backend_ops *bops;
	void *bpriv;
	u64 dev_bytes;
	bool read_only;
	int coalesce;
	u32 flush_interval_ms;
	u64 max_dirty;
};

/*
 * What one duplicate lookup may spend on the candidates that share its
 * hash: it may compare 4 raw candidates in RAM (a memcmp under the lock),
 * or decode 2 compressed ones (lz4, then the memcmp), or read 1 that only
 * the backing device holds (a device read, a decode, the memcmp), or a mix
 * within the same budget.  Past that the block is stored as a new chunk
 * and counted in dedup_candidates_capped.  Why these numbers: see
 * Documentation/ilio-design.rst, "The hash key and the candidate bound".
 */
#define ILIO_DEDUP_BUDGET	4
#define ILIO_DEDUP_COST_CMP	1
#define ILIO_DEDUP_COST_DECODE	2
#define ILIO_DEDUP_COST_READ	4

#define ILIO_WHIST_BUCKETS	10

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
 * @dedup_candidates: chunks with an equal hash that duplicate lookups
 *	examined (compared, decoded or read); core only, for the tests and
 *	the benchmark (not in status or sysfs)
 * @dedup_candidates_capped: blocks stored as new chunks because their
 *	duplicate lookup spent ILIO_DEDUP_BUDGET with candidates left
 * @zero_blocks: zero blocks written (they take no storage)
 * @nospc_errors: writes refused for lack of space
 * @compactions: segments emptied by the compactor
 * @compact_moved_bytes: record bytes the compactor copied
 * @dirty_bytes: persistent: bytes in RAM not yet written to the device
 * @cache_bytes: persistent: RAM held by the clean-chunk cache
 * @cache_hits: persistent: reads served from RAM
 * @cache_misses: persistent: reads that went to the backing device
 * @flushes: persistent: flush (and FUA) requests completed
 * @backend_flushes: persistent: flushes sent to the backing device
 * @gc_moved_bytes: persistent: record bytes GC moved
 * @gc_freed_segments: persistent: segments returned to the free pool
 * @checkpoints: persistent: checkpoints completed
 * @backend_read_ios: persistent: reads sent to the backing device
 * @backend_read_bytes: persistent: bytes read from it
 * @backend_write_ios: persistent: writes sent to it
 * @backend_write_bytes: persistent: bytes written to it
 * @backend_write_hist: backend writes by size: <=4K, <=8K, ... <=1M, more
 * @free_segments: persistent: segments free on the device
 * @nr_segments: persistent: segments on the device
 * @chunks_damaged: persistent: live chunks whose record was found damaged
 *	on the device (their LBAs read as EIO until rewritten)
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
	u64 dedup_candidates;
	u64 dedup_candidates_capped;
	u64 zero_blocks;
	u64 nospc_errors;
	u64 compactions;
	u64 compact_moved_bytes;
	u64 dirty_bytes;
	u64 cache_bytes;
	u64 cache_hits;
	u64 cache_misses;
	u64 flushes;
	u64 backend_flushes;
	u64 gc_moved_bytes;
	u64 gc_freed_segments;
	u64 checkpoints;
	u64 backend_read_ios;
	u64 backend_read_bytes;
	u64 backend_write_ios;
	u64 backend_write_bytes;
	u64 backend_write_hist[ILIO_WHIST_BUCKETS];
	u64 free_segments;
	u64 nr_segments;
	u64 chunks_damaged;
};

/**
 * struct ilio_hold - what a call keeps while it works with the lock dropped
 * @node: in ilio_core.holds
 * @seg: the segment it pinned
 * @cid: the chunk it holds a reference to, or 0
 *
 * It lives on the caller's stack, linked in from the pin to the unpin,
 * both under the lock.  The check (ilio-check.c) runs under the lock, so
 * it sees exactly the pins and references that are in flight.
 */
struct ilio_hold {
	struct list_head node;
	u32 seg;
	u32 cid;
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
 * @nr_damaged: live chunks at ILIO_LOC_DAMAGED
 * @hash_seed: the store's content hash key (xxh64 seed): random per store,
 *	from the superblock in persistent mode (0 for stores formatted
 *	before keyed hashing).  Set before the core is used, then constant:
 *	read without the lock.  Secret: never printed.
 * @st: counters (the gauges of struct ilio_stats are derived)
 * @cache: persistent: clean chunks
 * @pl: persistent state (ilio-plog.h), NULL when diskless
 * @holds: struct ilio_hold of every call working unlocked on a pinned
 *	segment (readers, duplicate comparisons)
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
	u64 nr_damaged;
	u64 hash_seed;
	struct ilio_stats st;
	struct ilio_cache cache;
	struct ilio_plog *pl;
	struct list_head holds;
};

struct ilio_core *ilio_core_alloc(const struct ilio_core_params *p, int *err);
struct ilio_core *ilio_core_create(const struct ilio_core_params *p, int *err);
void ilio_core_destroy(struct ilio_core *ic);
int ilio_core_write(struct ilio_core *ic, u64 lba, const void *block,
		    struct ilio_ctx *ctx);
int ilio_core_read(struct ilio_core *ic, u64 lba, void *block);
int ilio_core_read_nowait(struct ilio_core *ic, u64 lba, void *block);
int ilio_core_discard(struct ilio_core *ic, u64 lba);
u64 ilio_core_unmapped_run(struct ilio_core *ic, u64 lba, u64 max);
int ilio_core_compact(struct ilio_core *ic, unsigned int max_segs);
void ilio_core_get_stats(struct ilio_core *ic, struct ilio_stats *out);
void ilio_core_clear_stats(struct ilio_core *ic);
void ilio_core_set_policy(struct ilio_core *ic, bool dedup, bool compress);
int ilio_core_set_ram_limit(struct ilio_core *ic, u64 bytes);
int ilio_core_check(struct ilio_core *ic, char *why, size_t len);
u64 __ilio_ram_used(struct ilio_core *ic);
bool __ilio_ram_allows(struct ilio_core *ic, u64 extra);
void __ilio_chunk_drop(struct ilio_core *ic, u32 cid);
int ilio_load_payload(const u8 *p, u64 loc, void *block);
int ilio_core_relieve(struct ilio_core *ic, int err);

struct ilio_core *ilio_core_open(const struct ilio_core_params *p, int *err,
				 const char **why);
int ilio_core_flush(struct ilio_core *ic);
int ilio_core_writeback(struct ilio_core *ic);
int ilio_core_checkpoint(struct ilio_core *ic);
int ilio_core_gc(struct ilio_core *ic, unsigned int max_segs);
void ilio_core_tick(struct ilio_core *ic);
int ilio_core_close(struct ilio_core *ic);
int ilio_core_quiesce(struct ilio_core *ic);
int ilio_core_error(struct ilio_core *ic);
bool ilio_core_persistent(struct ilio_core *ic);
bool ilio_core_used_fallback(struct ilio_core *ic);
void ilio_core_set_coalesce(struct ilio_core *ic, int coalesce,
			    u32 flush_interval_ms, u64 max_dirty);

#endif /* ILIO_CORE_H */
