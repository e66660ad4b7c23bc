/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-seg: segments, the unit of storage and (later) of backend I/O.
 *
 * Chunks are appended to the one open segment.  A full segment is sealed
 * and never written again; it loses live bytes as its chunks die, and the
 * compactor (in ilio-ram.c) moves the survivors of a mostly dead segment
 * into the open one so that the whole segment can be released.
 *
 * One spare segment is kept allocated at all times when it can be, for the
 * compactor alone: compaction must never need a fresh allocation in order
 * to make room, or a full store could not recover.
 *
 * Locking: none of its own; the caller holds the lock given at init for
 * writing for every __ilio_seg_* call (asserted).  Reading a segment's
 * @data pointer and its records needs it held, shared or not.  Segment data may be read without
 * the lock while the segment is pinned (__ilio_seg_pin()): a pinned
 * segment's memory is not released or reused until the last unpin.
 */
#ifndef ILIO_SEG_H
#define ILIO_SEG_H

#include <linux/types.h>
#include <linux/rwsem.h>

#include "ilio-format.h"
#include "ilio-types.h"

#define ILIO_SEG_NONE	0xffffffffU

/*
 * Segment buffers kept allocated for when the allocator fails: a write
 * needs at most one new segment buffer (see "Memory reserve" in
 * Documentation/ilio-design.rst).
 */
#define ILIO_SEG_RESERVE	1
/*
 * Segment buffers kept in all: the reserve, then up to this many
 * recycled ones, so that a segment opens without the allocator (under
 * init_on_alloc, without zeroing it either).  Recycled buffers are
 * charged to the budget like the reserve, and given back as soon as the
 * budget needs their room (__ilio_seg_pool_trim()).
 */
#define ILIO_SEG_POOL	4

enum ilio_seg_state {
	ILIO_SEG_FREE = 0,	/* no memory */
	ILIO_SEG_OPEN,		/* taking appends */
	ILIO_SEG_SEALED,	/* full or closed; read-only */
	ILIO_SEG_SPARE,		/* memory kept for the compactor */
	ILIO_SEG_NEXT,		/* persistent: reserved as the log's next segment */
	ILIO_SEG_TRIM,		/* persistent: being discarded, then FREE */
};

/**
 * struct ilio_seg - one segment
 * @data: the segment's bytes, NULL when FREE
 * @used: bytes appended so far
 * @live: bytes of records whose chunk still lives here
 * @pins: readers working on @data without the lock
 * @state: enum ilio_seg_state
 * @release_pending: release once @pins drops to zero
 * @closed: persistent: bytes in closed log units (ready to write)
 * @written: persistent: bytes written to the backing device
 * @last_seq: persistent: sequence number of the newest unit in it; the
 *	segment is part of the replay log while this is not below the
 *	durable checkpoint's first unit
 *
 * In persistent mode the table has one slot per segment of the backing
 * device, and @data is a RAM buffer only while the segment has data that
 * is not yet written (OPEN, or SEALED with @written < @used).
 */
struct ilio_seg {
	u8 *data;
	u32 used;
	u32 live;
	u32 pins;
	u8 state;
	bool release_pending;
	u32 closed;
	u32 written;
	u64 last_seq;
};

/**
 * struct ilio_segs - the segment table
 * @lock: protects every field below and every struct ilio_seg (not owned)
 * @segs: table of @nr_segs segments
 * @nr_segs: number of segment slots
 * @seg_bytes: bytes per segment
 * @open: the open segment, or ILIO_SEG_NONE
 * @spare: the spare segment, or ILIO_SEG_NONE
 * @nr_resident: segments that hold memory (open, sealed, spare)
 * @persistent: slots are backing-device segments; emptied segments wait
 *	for a checkpoint instead of being released (ilio-ckpt.c)
 * @scan_hint: where the search for a free slot starts
 * @reserve: segment buffers held for when an allocation fails, the first
 *	ILIO_SEG_RESERVE, and recycled ones beyond them (up to
 *	ILIO_SEG_POOL); charged to the RAM budget as metadata
 *	(ilio_segs_reserve_bytes())
 * @nr_reserve: buffers in @reserve, at most ILIO_SEG_POOL
 * @nr_free: persistent: FREE segments (on the device, not in RAM)
 * @vset: persistent: the written segments, so that GC and checkpoints
 *	never scan the table: [0, @nr_heap) is a min-heap on (live bytes,
 *	index) of the sealed, written segments that hold live data (the GC
 *	victims); [@nr_segs - @nr_wait, @nr_segs) holds the sealed, written,
 *	empty ones that wait for a checkpoint to become free
 * @vpos: persistent: each segment's slot in @vset, or ILIO_SEG_NONE; a
 *	TRIM segment's successor in the free pass's discard list
 * @nr_heap: entries in the heap
 * @nr_wait: entries in the waiting set
 *
 * A segment enters @vset when it is sealed and its buffer is gone
 * (__ilio_seg_track()); it moves from the heap to the waiting set when
 * its last live byte goes, and leaves when a checkpoint frees it.  Both
 * are exact, so ilio_core_check() verifies them.
 */
struct ilio_segs {
	struct rw_semaphore *lock;	/* the core lock */
	struct ilio_seg *segs;
	u32 nr_segs;
	u32 seg_bytes;
	u32 open;
	u32 spare;
	u32 nr_resident;
	u32 scan_hint;
	bool persistent;
	u8 *reserve[ILIO_SEG_POOL];
	u32 nr_reserve;
	u32 nr_free;
	u32 *vset;
	u32 *vpos;
	u32 nr_heap;
	u32 nr_wait;
};

int ilio_segs_init(struct ilio_segs *s, u32 nr_segs, u32 seg_bytes, struct rw_semaphore *lock);
int ilio_segs_init_disk(struct ilio_segs *s, u32 nr_segs, u32 seg_bytes, struct rw_semaphore *lock);
void ilio_segs_exit(struct ilio_segs *s);
int __ilio_segs_grow(struct ilio_segs *s, u32 nr_segs);

/* A larger segment table, allocated unlocked before it is taken. */
struct ilio_segs_growth {
	struct ilio_seg *segs;
	u32 *vset;
	u32 *vpos;
	u32 nr_segs;
};

int ilio_segs_grow_alloc(struct ilio_segs *s, u32 nr_segs,
			 struct ilio_segs_growth *g, gfp_t gfp);
void ilio_segs_grow_free(struct ilio_segs_growth *g);
void __ilio_segs_grow_commit(struct ilio_segs *s, struct ilio_segs_growth *g);
u64 ilio_segs_mem_bytes(const struct ilio_segs *s);
u64 ilio_segs_index_bytes(const struct ilio_segs *s);
bool __ilio_seg_fits(struct ilio_segs *s, u32 need);
int __ilio_seg_open_fresh(struct ilio_segs *s, bool may_alloc);
u64 ilio_segs_reserve_bytes(const struct ilio_segs *s);
u8 *__ilio_seg_get_buf(struct ilio_segs *s, bool may_alloc);
void __ilio_seg_put_buf(struct ilio_segs *s, u8 *data);
bool __ilio_seg_reserve_short(struct ilio_segs *s);
u8 *ilio_seg_alloc_wait(struct ilio_segs *s);
int __ilio_seg_open_spare(struct ilio_segs *s);
ilio_loc_t __ilio_seg_append(struct ilio_segs *s, ilio_cid_t cid,
			     const void *payload, u32 len, bool lz4);
void __ilio_seg_release_bytes(struct ilio_segs *s, ilio_loc_t loc);
void __ilio_seg_pin(struct ilio_segs *s, u32 seg);
void __ilio_seg_unpin(struct ilio_segs *s, u32 seg);
bool __ilio_seg_pool_trim(struct ilio_segs *s);
u32 __ilio_seg_pick_victim(struct ilio_segs *s, u32 max_live);
void __ilio_seg_track(struct ilio_segs *s, u32 idx);
void __ilio_seg_untrack_waiting(struct ilio_segs *s, u32 idx);
void __ilio_segs_untrack_all(struct ilio_segs *s);
const char *__ilio_segs_check_index(struct ilio_segs *s, u32 *bad);
u32 __ilio_seg_take_free(struct ilio_segs *s);
void __ilio_seg_set_free(struct ilio_segs *s, u32 idx);
void __ilio_seg_open_log(struct ilio_segs *s, u32 idx, u8 *data);
u32 __ilio_seg_seal_log(struct ilio_segs *s);
void __ilio_seg_drop_buf(struct ilio_segs *s, u32 idx);
void __ilio_seg_set_trim(struct ilio_segs *s, u32 idx, u32 next);
u32 ilio_seg_trim_next(const struct ilio_segs *s, u32 idx);
void __ilio_seg_trimmed(struct ilio_segs *s, u32 idx);
void __ilio_seg_recovered(struct ilio_segs *s, u32 idx);

/* Persistent: the written segment with the fewest live bytes, or NONE. */
static inline u32 __ilio_seg_emptiest(const struct ilio_segs *s)
{
	return s->nr_heap ? s->vset[0] : ILIO_SEG_NONE;
}

/* Persistent: the @i-th segment that waits for a checkpoint. */
static inline u32 __ilio_seg_waiting(const struct ilio_segs *s, u32 i)
{
	return s->vset[s->nr_segs - 1 - i];
}

#endif /* ILIO_SEG_H */
