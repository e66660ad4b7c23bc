/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-plog: persistent mode - the log on the backing device.
 *
 * The write path appends records and map changes to the open log unit of
 * the open segment (in RAM); closed units are written to the backing
 * device in log order, whole segments at a time when they can be;
 * checkpoints snapshot the maps into the same log; recovery replays the
 * log from the newest anchor.  The design and the crash-consistency
 * argument are in Documentation/ilio-design.rst.
 *
 * Locking:
 *  - ic->lock (the core mutex) protects every field marked (L), the
 *    segment table and the cache.  Backend I/O never happens under it.
 *  - @wb_mutex serialises backend writes and flushes, so that units reach
 *    the device in log order and a flush covers everything written before
 *    it.  Taken before ic->lock, never while holding it.
 *  - @ckpt_mutex serialises checkpoints and GC.  Taken before @wb_mutex.
 */
#ifndef ILIO_PLOG_H
#define ILIO_PLOG_H

#include <linux/types.h>
#include <linux/mutex.h>

#include "ilio-format.h"
#include "ilio-meta.h"

struct ilio_core;

/**
 * struct ilio_plog - persistent state of a core
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
 * @sum: (L) its summary entries so far
 * @nr_sum: (L) number of them
 * @sum_cap: capacity of @sum
 * @wbq: (L) ring of segments with closed, unwritten units, in log order
 * @wbq_head: (L) first entry of @wbq
 * @wbq_len: (L) entries in @wbq
 * @closed_seq: (L) newest closed unit
 * @written_seq: (L) every unit up to this one is written
 * @durable_seq: (L) every unit up to this one is durable (flushed)
 * @ckpt_start_seq: (L) first unit of the durable checkpoint
 * @prev_ckpt_start: (L) first unit of the checkpoint the other anchor
 *	slot names (the fallback); segments from there on are kept
 * @anchor_seq: (L) generation of the durable anchor
 * @anchor_slot: (L) its slot (0 or 1)
 * @anchor: (L) its content
 * @fallback: recovery used the older anchor (the newest one's chain was
 *	damaged, and the older chain provably covers it)
 * @log_bytes: (L) unit bytes closed since the durable checkpoint
 * @nr_free: (L) FREE segments
 * @dirty: (L) bytes in segment buffers not yet written
 * @lat_ns: (L) smoothed backend write service time
 * @wb_busy: (L) a backend write is in flight
 * @last_front: (L) front-end operation count at the last tick
 * @front_ops: (L) front-end operations so far
 * @ckpt_front: (L) @front_ops when the durable checkpoint began
 * @gc_full: (L) GC found no room to move a record to
 * @wb_mutex: serialises backend writes and flushes (see Locking)
 * @ckpt_mutex: serialises checkpoints and GC
 * @buf: one segment of scratch for recovery and GC (under @ckpt_mutex)
 * @blk: one block of scratch for anchors (under @ckpt_mutex)
 * @vbuf: one block of scratch to verify what GC moves (under @ckpt_mutex
 *	and ic->lock)
 */
struct ilio_plog {
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
	u64 log_bytes;
	u32 nr_free;
	u64 dirty;
	u64 lat_ns;
	bool wb_busy;
	u64 last_front;
	u64 front_ops;
	u64 ckpt_front;
	bool gc_full;

	struct mutex wb_mutex;	/* backend write order; see Locking */
	struct mutex ckpt_mutex;	/* checkpoints and GC */
	u8 *buf;
	u8 *blk;
	u8 *vbuf;
};

u64 ilio_plog_mem_bytes(const struct ilio_plog *pl);
/* How deep into the free-segment reserve a log writer may go. */
#define ILIO_LEVEL_USER	0	/* front-end writes */
#define ILIO_LEVEL_GC	1	/* GC moves and discards: they free space */
#define ILIO_LEVEL_CKPT	2	/* checkpoints: they make freed space usable */

int __ilio_plog_prepare(struct ilio_core *ic, u32 len, u32 nents, int level);
u64 __ilio_plog_append(struct ilio_core *ic, u32 cid, const void *payload,
		       u32 len, bool lz4);
void __ilio_plog_log_map(struct ilio_core *ic, u64 lba, u32 cid);
void __ilio_plog_after_write(struct ilio_core *ic, bool *sync, bool *kick);
int ilio_plog_read_record(struct ilio_core *ic, u64 loc, u32 cid, u64 hash,
			  void *block);
void __ilio_plog_fit_ram(struct ilio_core *ic);
void __ilio_plog_finalize(struct ilio_core *ic, u32 idx);
int __ilio_plog_load_locked(struct ilio_core *ic, u64 loc, u32 cid, void *block);
int ilio_plog_reclaim(struct ilio_core *ic);
void ilio_plog_free(struct ilio_plog *pl);

#endif /* ILIO_PLOG_H */
