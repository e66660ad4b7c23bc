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
 * Where records live is the store's business (ilio-store.h): the core
 * calls a RAM store (diskless) or the persistent store through struct
 * ilio_store_ops, and never knows which beyond the persistent flag.
 *
 * Locking: one read-write semaphore, the space lock ic->sp.lock, protects
 * the LBA map, the chunk table, the content index, the segment table and
 * the statistics.  Every call below takes it itself; they may sleep.  A
 * read of a chunk in a RAM segment holds it shared, so readers run in
 * parallel; everything that changes the space holds it exclusive.  Data
 * is copied, compressed and decompressed outside the lock where possible:
 * reads pin the segment
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

#include "ilio-format.h"
#include "ilio-space.h"
#include "ilio-class.h"
#include "ilio-store.h"
#include "ilio-compress.h"
#include "ilio-fields.h"

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

/*
 * Below this share of dedup hits (in 1/65536: 1/16), a write compresses
 * before it takes the lock, and stores with one lock round trip; above
 * it, it looks for a duplicate first and compresses only a new chunk.
 */
#define ILIO_HIT_AVG_EARLY	4096U
#define ILIO_DEDUP_COST_CMP	1
#define ILIO_DEDUP_COST_DECODE	2
#define ILIO_DEDUP_COST_READ	4

/**
 * enum ilio_mode - what the device still does, from best to worst
 * @ILIO_MODE_WRITE: everything
 * @ILIO_MODE_READ_ONLY: reads; writes, discards and messages that change
 *	the store fail (-EROFS when opened read-only, -EIO after a backend
 *	write error)
 * @ILIO_MODE_FAIL: nothing: the store found its own state corrupt, so
 *	nothing it holds can be trusted; every I/O fails with -EIO
 *
 * Sticky: a core only ever moves down this list (ilio_core_set_mode()).
 * Status and sysfs lead with its word (ilio_mode_word()); the list, with
 * the words, is ILIO_MODE_WORDS() in ilio-fields.h.
 */
#define ILIO_MODE_CONST(ID, word) ILIO_MODE_##ID,
enum ilio_mode {
	ILIO_MODE_WORDS(ILIO_MODE_CONST)
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
	ilio_cid_t cid;
};

/**
 * struct ilio_core - one store, as the dm glue sees it
 * @sp: the maps, the segments and the counters it shares with @store;
 *	@sp.lock protects everything below too
 * @store: where records live (ilio-store.h)
 * @persistent: @store has a backing device
 * @dedup: duplicate lookup enabled
 * @compress: compression enabled
 * @stored_gen: bumped for every new chunk; a writer that saw it unchanged
 *	across its unlocked compression need not look for a duplicate again
 * @hit_avg: recent share of dedup hits among the writes that looked for
 *	a duplicate, in 1/65536 (an exponential average over ~32 writes);
 *	updated under the lock, read without it to choose the write order
 *	(see ilio_core_write_once())
 * @classes: region classes by sector (hint messages); a block takes the
 *	class of its first sector
 * @class_mutex: serialises changes of @classes with their saves (a
 *	persistent store writes the map with the space lock dropped);
 *	taken before @sp.lock
 * @holds: struct ilio_hold of every call working unlocked on a pinned
 *	segment (readers, duplicate comparisons)
 * @mode: enum ilio_mode; read without a lock, changed only by
 *	ilio_core_set_mode() (cmpxchg)
 * @name: the device's name, for the kernel log
 * @event: called when @mode changes (struct ilio_core_params @event)
 * @event_priv: for @event
 */
struct ilio_core {
	struct ilio_space sp;
	struct ilio_store *store;
	bool persistent;
	int mode;
	char name[32];
	bool dedup;
	bool compress;
	u64 stored_gen;
	u32 hit_avg;
	struct ilio_classmap classes;
	struct mutex class_mutex;	/* hint changes and their saves */
	struct list_head holds;
	void (*event)(void *priv);
	void *event_priv;
};

/*
 * ilio_core_write_nowait() and ilio_core_discard_nowait(): the block is
 * stored, and the caller must write back (ilio_core_writeback()) before
 * it completes the write.
 */
#define ILIO_OWES_WRITEBACK	1

struct ilio_core *ilio_core_create(const struct ilio_core_params *p, int *err);
bool ilio_core_precheck(const struct ilio_core_params *p, int *err,
			const char **why);
struct ilio_core *ilio_core_open(const struct ilio_core_params *p, int *err,
				 const char **why);
void ilio_core_destroy(struct ilio_core *ic);
int ilio_core_close(struct ilio_core *ic);
int ilio_core_hint(struct ilio_core *ic, u64 start, u64 nr, int cls);
int ilio_core_hints_set(struct ilio_core *ic, const struct ilio_hint *h, u32 n);
u32 ilio_core_hints(struct ilio_core *ic, struct ilio_crange *out, u32 max,
		    u32 *limit, u64 *bytes);
int ilio_core_write(struct ilio_core *ic, u64 lba, const void *block,
		    struct ilio_ctx *ctx);
int ilio_core_write_nowait(struct ilio_core *ic, u64 lba, const void *block,
			   struct ilio_ctx *ctx);
int ilio_core_read(struct ilio_core *ic, u64 lba, void *block);
int ilio_core_read_nowait(struct ilio_core *ic, u64 lba, void *block,
			  struct ilio_ctx *ctx);
int ilio_core_read_ctx(struct ilio_core *ic, u64 lba, void *block,
		       struct ilio_ctx *ctx);
int ilio_core_prefetch(struct ilio_core *ic, u64 lba, unsigned int nr);
int ilio_core_discard(struct ilio_core *ic, u64 lba);
int ilio_core_discard_nowait(struct ilio_core *ic, u64 lba);
u64 ilio_core_unmapped_run(struct ilio_core *ic, u64 lba, u64 max);
int ilio_core_compact(struct ilio_core *ic, unsigned int max_segs);
void ilio_core_get_stats(struct ilio_core *ic, struct ilio_stats *out);
void ilio_core_clear_stats(struct ilio_core *ic);
void ilio_core_set_policy(struct ilio_core *ic, bool dedup, bool compress);
int ilio_core_set_ram_limit(struct ilio_core *ic, u64 bytes);
int ilio_core_grow(struct ilio_core *ic, u64 nr_blocks, u64 dev_bytes,
		   const char **why);
int ilio_core_check(struct ilio_core *ic, char *why, size_t len);
int ilio_core_relieve(struct ilio_core *ic, int err);

int ilio_core_flush(struct ilio_core *ic);
int ilio_core_writeback(struct ilio_core *ic);
int ilio_core_checkpoint(struct ilio_core *ic);
int ilio_core_gc(struct ilio_core *ic, unsigned int max_segs);
void ilio_core_tick(struct ilio_core *ic);
int ilio_core_quiesce(struct ilio_core *ic);
int ilio_core_error(struct ilio_core *ic);
bool ilio_core_persistent(struct ilio_core *ic);
bool ilio_core_used_fallback(struct ilio_core *ic);
void ilio_core_set_coalesce(struct ilio_core *ic, int coalesce,
			    u32 flush_interval_ms, u64 max_dirty);
int ilio_core_mode(struct ilio_core *ic);
bool ilio_core_set_mode(struct ilio_core *ic, int mode, const char *why,
			int err);

#endif /* ILIO_CORE_H */
