/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-space: the state that the dedup core and its store share - the
 * leaves (LBA map, chunk table and index, segment table, clean cache),
 * the RAM budget and the counters - and the few operations on it that
 * both sides need (budget, dropping a chunk, moving a record, decoding a
 * payload).  It knows neither the core nor any store: both include it.
 *
 * Locking: @lock, a read-write semaphore, protects every field of struct
 * ilio_space and every leaf in it.  Functions named __ilio_* expect it
 * held for writing (asserted); the lookups that only read, such as
 * __ilio_lbamap_get(), accept it held for reading.
 */
#ifndef ILIO_SPACE_H
#define ILIO_SPACE_H

#include <linux/types.h>
#include <linux/rwsem.h>
#include <linux/atomic.h>

#include "ilio-common.h"
#include "ilio-format.h"
#include "ilio-lbamap.h"
#include "ilio-chunk.h"
#include "ilio-seg.h"
#include "ilio-cache.h"
#include "ilio-class.h"

#define ILIO_WHIST_BUCKETS	10

/*
 * How the previous shutdown left a persistent store, as its log shows it
 * (struct ilio_recovery's @shutdown).  Every close and suspend ends with
 * the log at a checkpoint (ilio_log_quiesce()), so a log that holds
 * nothing after the checkpoint its anchor names was closed cleanly - or
 * stopped while nothing had been written since that checkpoint, which
 * leaves the same state and loses nothing.
 */
#define ILIO_SHUTDOWN_NONE	0	/* diskless: no store was opened */
#define ILIO_SHUTDOWN_NEW	1	/* the format anchor: first activation */
#define ILIO_SHUTDOWN_CLEAN	2	/* the log ends at the checkpoint */
#define ILIO_SHUTDOWN_UNCLEAN	3	/* units after it, or data in it */

/**
 * struct ilio_recovery - what the open of a persistent store replayed
 * @units: log units replayed from the anchor on (checkpoint and data)
 * @data_units: of them, data units (written after the checkpoint began)
 * @journal_units: of them, units taken from the journal device because
 *	the backing device lacked them
 * @replay_ns: time the replay of the log took
 * @shutdown: ILIO_SHUTDOWN_*
 *
 * Set once by the open, then constant; zero for a diskless store.  Not a
 * counter: clear_stats leaves it.
 */
struct ilio_recovery {
	u64 units;
	u64 data_units;
	u64 journal_units;
	u64 replay_ns;
	u32 shutdown;
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
 * @backend_bytes: persistent: @nr_segments in bytes (the log area)
 * @backend_free_bytes: persistent: @free_segments in bytes
 * @chunks_damaged: persistent: live chunks whose record was found damaged
 *	on the device (their LBAs read as EIO until rewritten)
 * @journal_writes: persistent, with a journal: records written
 * @journal_bytes: bytes written to the journal in records
 * @journal_failed: 1 once a journal write failed (flushes go to the
 *	backing device), else 0
 * @elided_bytes: persistent: record bytes never written because their
 *	chunk died (overwritten, discarded) before their unit closed
 *	(ilio-log.c, __ilio_plog_elide())
 * @class_hits: persistent: @cache_hits by the chunk's region class (enum
 *	ilio_class) at the time of the read; @cache_hits is their sum
 * @class_misses: persistent: @cache_misses by class, likewise
 * @class_cache_bytes: persistent: @cache_bytes by the class each entry was
 *	cached under (ilio-cache.c)
 * @class_dirty_bytes: persistent: record bytes (header and payload, padded)
 *	of chunks not yet written back, by the class the chunk had when its
 *	record was appended; the rest of @dirty_bytes is log-unit headers and
 *	summaries (ilio-log.c, "Dirty bytes by class")
 * @recovery: persistent: what the open replayed (not a status field; the
 *	activation's kernel log line reports it)
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
	u64 backend_bytes;
	u64 backend_free_bytes;
	u64 chunks_damaged;
	u64 journal_writes;
	u64 journal_bytes;
	u64 journal_failed;
	u64 elided_bytes;
	u64 class_hits[ILIO_NR_CLASSES];
	u64 class_misses[ILIO_NR_CLASSES];
	u64 class_cache_bytes[ILIO_NR_CLASSES];
	u64 class_dirty_bytes[ILIO_NR_CLASSES];
	struct ilio_recovery recovery;
};

/**
 * struct ilio_space - what the core and its store share
 * @lock: protects everything below, and every leaf (shared for lookups
 *	that change nothing, exclusive for everything else)
 * @map: LBA -> chunk id
 * @chunks: chunk table and content index
 * @segs: segment table
 * @cache: persistent: clean chunks (set up only when @cached)
 * @cached: @cache is set up
 * @ram_limit: RAM budget in bytes
 * @stored_bytes: payload bytes of live chunks
 * @nr_damaged: live chunks at ILIO_LOC_DAMAGED
 * @hash_seed: the store's content hash key (xxh64 seed): random per store,
 *	from the superblock in persistent mode (0 for stores formatted
 *	before keyed hashing).  Set before the space is used, then constant:
 *	read without the lock.  Secret: never printed.
 * @store_bytes: RAM the store holds for itself, charged as metadata; the
 *	store keeps it current (constant once a store is open)
 * @class_bytes: RAM of the core's class map (ilio-class.h), charged as
 *	metadata; set by the core whenever the map changes
 * @st: counters (the gauges of struct ilio_stats are derived)
 * @shared_hits: persistent: reads served from RAM with @lock held for
 *	reading (several at once, so atomic), by the chunk's region class;
 *	part of @st.class_hits when the counters are read
 */
struct ilio_space {
	struct rw_semaphore lock;	/* protects the whole space */
	struct ilio_lbamap map;
	struct ilio_chunks chunks;
	struct ilio_segs segs;
	struct ilio_cache cache;
	bool cached;
	u64 ram_limit;
	u64 stored_bytes;
	u64 nr_damaged;
	u64 hash_seed;
	u64 store_bytes;
	u64 class_bytes;
	struct ilio_stats st;
	atomic64_t shared_hits[ILIO_NR_CLASSES];
};

int ilio_space_init(struct ilio_space *sp, u64 nr_blocks, u64 ram_limit,
		    u32 seg_bytes);
void ilio_space_exit(struct ilio_space *sp);
u64 __ilio_meta_bytes(struct ilio_space *sp);
u64 __ilio_ram_used(struct ilio_space *sp);
bool __ilio_ram_allows(struct ilio_space *sp, u64 extra);
void __ilio_ram_trim(struct ilio_space *sp, u64 bytes);
void __ilio_chunk_drop(struct ilio_space *sp, ilio_cid_t cid);
int ilio_load_payload(const u8 *p, ilio_loc_t loc, void *block);
void __ilio_hist_write(struct ilio_stats *st, u32 len);
void ilio_space_relieve(struct ilio_space *sp);

/**
 * typedef ilio_move_fn - store a moved record elsewhere
 * @priv: the mover's caller
 * @cid: the record's chunk
 * @payload: its payload
 * @len: payload bytes
 * @lz4: it is lz4
 * @loc: set to the new location
 *
 * Called with the lock held.  Return: 0, or a negative errno (the record
 * stays where it was).
 */
typedef int (*ilio_move_fn)(void *priv, ilio_cid_t cid, const void *payload,
			    u32 len, bool lz4, ilio_loc_t *loc);
int __ilio_move_record(struct ilio_space *sp, ilio_cid_t cid, ilio_loc_t old,
		       const void *payload, ilio_move_fn store, void *priv,
		       u64 *moved_bytes);

#endif /* ILIO_SPACE_H */
