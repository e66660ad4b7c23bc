/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-plog: the persistent store - the log on the backing device.  This
 * header is shared by its four files, one concern each:
 *
 *   ilio-log.c      log units, write-back, flush, reading records back
 *   ilio-ckpt.c     checkpoints, anchors, the free pass, the class
 *                   map slots
 *   ilio-gc.c       GC and the background tick
 *   ilio-recover.c  replay, rebuild, the recovery rules and open; the
 *                   store's ops (the only way in from the core)
 *   ilio-journal.c  the optional NV journal device (ilio-journal.h)
 *
 * The core reaches it only through struct ilio_store_ops (ilio-store.h),
 * and it reaches the core's state only through struct ilio_space.
 *
 * The write path appends records and map changes to the open log unit of
 * the open segment (in RAM); closed units are written to the backing
 * device in log order, whole segments at a time when they can be;
 * checkpoints snapshot the maps into the same log; recovery replays the
 * log from the newest anchor.  The design and the crash-consistency
 * argument are in Documentation/ilio-design.rst.
 *
 * Locking:
 *  - sp->lock (the space rwsem, held for writing) protects every field marked (L), the
 *    segment table and the cache.  Backend I/O never happens under it, and
 *    neither does checksumming: a unit is checksummed by write-back, with
 *    the lock dropped, just before it is written.  (Closing a unit does
 *    pass over its summary and move its live records down, once:
 *    __ilio_plog_elide().)
 *  - @wb_mutex is held by the one context that runs write-back (it
 *    submits up to ILIO_WB_DEPTH segment writes and retires them in
 *    submission order) and by device flushes, so that a flush covers
 *    everything retired before it.  Taken before sp->lock, never while
 *    holding it.
 *  - A write's completion (struct ilio_wb_io: @err, @t_done, @done) runs
 *    in the backend's completion context, perhaps an interrupt: it writes
 *    only those three fields, @done last (release), and wakes @wb_wait.
 *    Everything else in the ring is (L).
 *  - @ckpt_mutex serialises checkpoints and GC.  Taken before @wb_mutex.
 */
#ifndef ILIO_PLOG_H
#define ILIO_PLOG_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/wait.h>

#include <linux/container_of.h>

#include "ilio-format.h"
#include "ilio-meta.h"
#include "ilio-store.h"
#include "ilio-compress.h"
#include "ilio-journal.h"
#include "ilio-class.h"

#define ILIO_SUM_ENT	sizeof(struct ilio_sum_ent)
/* Leaf bytes a checkpoint unit takes at most: bounds lock hold time. */
#define ILIO_CKPT_UNIT_MAX	(256U << 10)
/* Segment writes write-back keeps in flight at most. */
#define ILIO_WB_DEPTH	8
/* Cache entries write-back's finalize links per lock hold. */
#ifndef ILIO_FIN_BATCH
#define ILIO_FIN_BATCH	64
#endif

struct ilio_centry;

/*
 * Late write-back of temp data: a log unit that holds only temp data may
 * stay open ILIO_TEMP_HOLD_FACTOR times flush_interval_ms, and at most
 * ILIO_TEMP_HOLD_MS_MAX ms longer than flush_interval_ms (ilio_log_tick()).
 */
#define ILIO_TEMP_HOLD_FACTOR	8
#define ILIO_TEMP_HOLD_MS_MAX	30000

/* Entries of the dirty-by-class queue (struct ilio_dirty_ent). */
#define ILIO_DIRTY_Q	32

/**
 * struct ilio_dirty_ent - record bytes by class of closed, unwritten units
 * @seq: the newest unit they are in: they are written once @written_seq
 *	reaches it
 * @bytes: record bytes by region class (enum ilio_class)
 */
struct ilio_dirty_ent {
	u64 seq;
	u64 bytes[ILIO_NR_CLASSES];
};

/**
 * struct ilio_fin_ent - a record of a written segment, copied for the cache
 * @e: its cache entry, not linked yet
 * @loc: where the record is: linked only if its chunk still lives there
 */
struct ilio_fin_ent {
	struct ilio_centry *e;
	ilio_loc_t loc;
};

struct ilio_plog;

/**
 * struct ilio_wb_io - one segment write in flight
 * @bio: the backend's handle; its done() is ilio_wb_done()
 * @pl: the store
 * @seg: (L) the segment
 * @from: (L) first byte written, in the segment
 * @to: (L) end of the write: a unit boundary
 * @seq: (L) the newest unit in [@from, @to)
 * @t0: (L) when it was submitted
 * @retried: (L) it failed once and went out again
 * @t_done: when it completed (written by the completion)
 * @err: its result (written by the completion)
 * @done: it completed (written last by the completion, with release)
 */
struct ilio_wb_io {
	struct ilio_backend_io bio;
	struct ilio_plog *pl;
	u32 seg;
	u32 from;
	u32 to;
	u64 seq;
	u64 t0;
	bool retried;
	u64 t_done;
	int err;
	int done;
};

/**
 * struct ilio_plog - the persistent store
 * @base: what the core sees (struct ilio_store)
 * @ops: backing device access
 * @priv: for @ops
 * @g: geometry from the superblock
 * @read_only: opened read-only: nothing is ever written
 * @coalesce: enum ilio_coalesce
 * @flush_interval_ms: coalesce auto: oldest a partial unit may get
 * @max_dirty: unwritten bytes before writers write back themselves
 * @nr_blocks: logical size
 * @error: (L) sticky first backend write error; the device is read-only
 * @epoch: (L) epoch of the current chain
 * @next_seq: (L) sequence number of the next unit
 * @next_seg: (L) segment reserved to follow the open one
 * @unit_open: (L) the open segment has an open data unit
 * @unit_off: (L) its header's offset
 * @unit_born_ns: (L) when it was opened
 * @unit_temp_only: (L) every record and map entry in it so far is of a
 *	temp chunk: the tick may hold it open longer (ilio_log_tick())
 * @sum: (L) its summary entries so far, packed as they go on disk
 * @nr_sum: (L) number of them
 * @sum_cap: capacity of @sum
 * @wbq: (L) ring of segments with closed, unwritten units, in log order
 * @wbq_head: (L) first entry of @wbq
 * @wbq_len: (L) entries in @wbq
 * @closed_seq: (L) newest closed unit
 * @written_seq: (L) every unit up to this one is written (completed, in
 *	order: no unit at or before it has a write outstanding)
 * @durable_seq: (L) every unit up to this one is durable (flushed)
 * @ckpt_start_seq: (L) first unit of the durable checkpoint
 * @prev_ckpt_start: (L) first unit of the checkpoint the other anchor
 *	slot names (the fallback); segments from there on are kept
 * @anchor_seq: (L) generation of the durable anchor
 * @anchor_slot: (L) its slot (0 or 1)
 * @anchor: (L) its content
 * @fallback: recovery used the older anchor (the newest one's chain was
 *	damaged, and the older chain provably covers it)
 * @recovery: what recovery replayed (set by ilio_replay(), then constant)
 * @log_bytes: (L) unit bytes closed since the durable checkpoint
 * @dirty: (L) bytes in segment buffers not yet written
 * @dirty_cls: (L) the record bytes of @dirty by the class of their chunk
 *	at append (ilio-log.c, "Dirty bytes by class")
 * @unit_cls: (L) the part of @dirty_cls in the open unit
 * @dq: (L) ring of the closed units' part, oldest first
 * @dq_head: (L) first entry of @dq
 * @dq_len: (L) entries in @dq
 * @lat_ns: (L) smoothed backend write service time
 * @wb_io: (L) ring of the segment writes in flight, in submission order
 *	(which is log order); retired from @wb_first only, so the durable
 *	point (@written_seq, seg->written) follows completion order
 * @wb_first: (L) oldest entry of @wb_io
 * @wb_nr: (L) entries in flight (0: write-back is idle)
 * @wb_peak: (L) most entries in flight at once since open
 * @wb_more: (L, read without it) a unit was closed while writes were in
 *	flight: write-back should submit it without waiting for a completion
 * @wb_wait: write-back waits here for a completion or @wb_more
 * @last_front: (L) front-end operation count at the last tick
 * @front_ops: (L) front-end operations so far
 * @ckpt_front: (L) @front_ops when the durable checkpoint began
 * @gc_full: (L) GC found no room to move a record to
 * @gc_err: (L) why (__ilio_plog_prepare()'s error): pressure is waited out
 * @wb_mutex: held by the one context running write-back, and by device
 *	flushes (see Locking)
 * @ckpt_mutex: serialises checkpoints and GC
 * @buf: one segment of scratch for recovery and GC (under @ckpt_mutex)
 * @blk: one block of scratch for anchors (under @ckpt_mutex)
 * @vbuf: one block of scratch to verify what GC moves (under @ckpt_mutex
 *	and sp->lock)
 * @rbuf_mutex: protects @rbuf; taken before sp->lock, never while holding it
 * @rbuf: ILIO_RBUF_BYTES reserve for reading a record from the device when
 *	a read buffer cannot be allocated (under @rbuf_mutex)
 * @jn: the NV journal device, NULL without one (ilio-journal.h)
 * @fin: records of a written segment copied for the cache, not linked yet
 *	(ilio_wb_finalize(); under @wb_mutex)
 * @fin_nr: entries in @fin (under @wb_mutex)
 * @cmap_buf: one class map slot of scratch, ilio_cmap_len(@cmap_cap)
 *	bytes: what the next save writes (under the core's class mutex)
 * @cmap_cap: ranges a saved map may hold (the core's limit and the slot's)
 * @cmap_len: bytes of @cmap_buf the next save writes (class mutex)
 * @cmap_seq: generation of the newest valid slot, 0 for none (class mutex)
 * @cmap_slot: its slot (class mutex)
 * @cmap_broken: a slot could not be read at open: saves fail
 */
struct ilio_plog {
	struct ilio_store base;
	const struct ilio_backend_ops *ops;
	void *priv;
	struct ilio_geom g;
	bool read_only;
	int coalesce;
	u32 flush_interval_ms;
	u64 max_dirty;
	u64 nr_blocks;

	int error;
	u64 epoch;
	u64 next_seq;
	u32 next_seg;
	bool unit_open;
	u32 unit_off;
	u64 unit_born_ns;
	bool unit_temp_only;
	struct ilio_sum_ent *sum;
	u32 nr_sum;
	u32 sum_cap;
	u32 *wbq;
	u32 wbq_head;
	u32 wbq_len;
	u64 closed_seq;
	u64 written_seq;
	u64 durable_seq;
	u64 ckpt_start_seq;
	u64 prev_ckpt_start;
	u64 anchor_seq;
	unsigned int anchor_slot;
	struct ilio_anchor_info anchor;
	bool fallback;
	struct ilio_recovery recovery;
	u64 log_bytes;
	u64 dirty;
	u64 dirty_cls[ILIO_NR_CLASSES];
	u64 unit_cls[ILIO_NR_CLASSES];
	struct ilio_dirty_ent dq[ILIO_DIRTY_Q];
	u32 dq_head;
	u32 dq_len;
	u64 lat_ns;
	struct ilio_wb_io wb_io[ILIO_WB_DEPTH];
	u32 wb_first;
	u32 wb_nr;
	u32 wb_peak;
	bool wb_more;
	wait_queue_head_t wb_wait;
	u64 last_front;
	u64 front_ops;
	u64 ckpt_front;
	bool gc_full;
	int gc_err;

	struct mutex wb_mutex;	/* write-back and flushes; see Locking */
	struct mutex ckpt_mutex;	/* checkpoints and GC */
	u8 *buf;
	u8 *blk;
	u8 *vbuf;
	struct mutex rbuf_mutex;	/* protects rbuf */
	u8 *rbuf;
	struct ilio_journal *jn;
	struct ilio_fin_ent fin[ILIO_FIN_BATCH];
	u32 fin_nr;
	u8 *cmap_buf;
	u32 cmap_cap;
	u32 cmap_len;
	u64 cmap_seq;
	unsigned int cmap_slot;
	bool cmap_broken;
};

/* The blocks one record spans at most: a header and a full block. */
#define ILIO_RBUF_BYTES	(2 * ILIO_BLOCK_SIZE)

static inline u64 ilio_align_blk(u64 x)
{
	return (x + ILIO_BLOCK_SIZE - 1) & ~(u64)(ILIO_BLOCK_SIZE - 1);
}

/* Byte position of segment @seg on the device. */
static inline u64 ilio_seg_pos(const struct ilio_plog *pl, u32 seg)
{
	return ilio_seg_block(&pl->g, seg) * ILIO_BLOCK_SIZE;
}

static inline struct ilio_plog *ilio_plog_of(struct ilio_store *st)
{
	return container_of(st, struct ilio_plog, base);
}

/* ilio-log.c */
u64 ilio_plog_mem_bytes(const struct ilio_plog *pl);
u64 __ilio_plog_ckpt_bytes(struct ilio_plog *pl);
u32 __ilio_plog_ckpt_segs(struct ilio_plog *pl);
u32 __ilio_plog_reserve(struct ilio_plog *pl, int level);
void __ilio_plog_fit_ram(struct ilio_plog *pl);
u64 __ilio_plog_finish_unit(struct ilio_plog *pl, u32 off, u32 end,
			    u16 type, u32 rec, u32 nents);
void __ilio_plog_close_unit(struct ilio_plog *pl);
bool __ilio_plog_hold_temp(struct ilio_plog *pl);
void ilio_plog_walk(const u8 *img, u32 used, u32 seg_bytes,
		    void (*fn)(struct ilio_plog *pl, u32 seg, u32 off,
			       const struct ilio_rec_info *ri,
			       const void *payload),
		    struct ilio_plog *pl, u32 seg);
bool ilio_rec_verify(struct ilio_plog *pl, const struct ilio_chunk_hdr *rh,
		     ilio_loc_t loc, u64 hash, void *block);
int __ilio_plog_open_seg(struct ilio_plog *pl, int level);
int __ilio_plog_prepare(struct ilio_plog *pl, u32 len, u32 nents, int level);
ilio_loc_t __ilio_plog_append(struct ilio_plog *pl, ilio_cid_t cid,
			      const void *payload, u32 len, bool lz4);
void __ilio_plog_finalize(struct ilio_plog *pl, u32 idx);
int __ilio_plog_drain(struct ilio_plog *pl);
void __ilio_plog_log_map(struct ilio_plog *pl, ilio_lba_t lba, ilio_cid_t cid);
void __ilio_plog_after_write(struct ilio_plog *pl, bool *sync, bool *kick);
int ilio_plog_prefetch(struct ilio_plog *pl, const struct ilio_fetch *f,
		       unsigned int n);
int ilio_plog_read_record(struct ilio_plog *pl, ilio_loc_t loc, ilio_cid_t cid,
			  u64 hash, void *block);
int __ilio_plog_load_locked(struct ilio_plog *pl, ilio_loc_t loc,
			    ilio_cid_t cid, void *block);
int ilio_log_writeback(struct ilio_plog *pl);
int ilio_plog_flush_dev(struct ilio_plog *pl, u64 target);
int ilio_log_flush(struct ilio_plog *pl);
int ilio_log_flush_lun(struct ilio_plog *pl);
int ilio_log_relieve(struct ilio_plog *pl, int err);

/* ilio-ckpt.c */
int ilio_plog_checkpoint_locked(struct ilio_plog *pl);
int ilio_log_checkpoint(struct ilio_plog *pl);
int ilio_plog_anchor_both(struct ilio_plog *pl);
int ilio_plog_sync_sb(struct ilio_plog *pl, u64 dev_bytes);
void __ilio_plog_count_meta_write(struct ilio_space *sp);
int ilio_plog_load_classes(struct ilio_plog *pl, struct ilio_classmap *m,
			   const char **why);
void __ilio_plog_pack_classes(struct ilio_plog *pl, const struct ilio_classmap *m);
int ilio_plog_save_classes(struct ilio_plog *pl);
int ilio_log_quiesce(struct ilio_plog *pl);

/* ilio-recover.c */
void ilio_plog_free(struct ilio_plog *pl);

/* ilio-gc.c */
int ilio_log_gc(struct ilio_plog *pl, unsigned int max_segs);
int ilio_log_reclaim(struct ilio_plog *pl);
void ilio_log_tick(struct ilio_plog *pl);

#endif /* ILIO_PLOG_H */
