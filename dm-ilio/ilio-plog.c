// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-plog: persistent mode - log units, write-back, checkpoints,
 * recovery and GC over a backing device.
 *
 * Locking: see ilio-plog.h.  Functions named __ilio_plog_* expect
 * ic->lock held; the others take what they need and may sleep.
 *
 * How does a random 4 KiB write become a large sequential one?
 *
 *   Records and map changes go into the open unit of the open segment, a
 *   RAM buffer.  A unit is closed when the segment is full, when a flush
 *   needs it, or (coalesce auto) when it got old.  Write-back sends each
 *   segment's closed, unwritten bytes as one bio: a whole segment when
 *   nothing forced a partial one.
 *
 * What may a crash lose?
 *
 *   Only writes that no completed flush covered.  A flush closes the
 *   open unit, writes every closed unit, then flushes the device; it
 *   completes after that.  Recovery replays the chain of units from the
 *   newest anchor and stops at the first unit that is missing, torn
 *   (checksum) or not the chain's (epoch, sequence number).  Every unit
 *   before a completed flush is complete on the device, so replay reaches
 *   past all of them.
 *
 * Why can a checkpoint be written while writes go on?
 *
 *   A checkpoint is a run of checkpoint units in the log, each holding
 *   absolute snapshots of some map leaves, taken under ic->lock at the
 *   moment the unit is built.  Replay applies units in log order: a leaf
 *   snapshot replaces whatever replay built for that leaf (it includes
 *   every earlier change), and later data units apply on top.  Replay
 *   starts with empty maps at the checkpoint's first unit, and every leaf
 *   that exists is snapshotted by the checkpoint, so by its last unit the
 *   state is exact.  Reference counts, the free list, the index and
 *   segment usage are not stored: they are derived after replay.
 *
 * When may a segment be written again?
 *
 *   Only when no live chunk is in it and replay from the durable anchor
 *   does not read it: its newest unit precedes the durable checkpoint.
 *   Emptied segments are therefore freed after the next checkpoint
 *   (__ilio_plog_free_pass()), and discarded on the device then.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/string.h>
#include <linux/mutex.h>
#include <linux/lockdep.h>
#include <linux/bug.h>
#include <linux/sched.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <asm/byteorder.h>

#include "ilio-core.h"
#include "ilio-plog.h"

#define ILIO_SUM_ENT	sizeof(struct ilio_sum_ent)
#define ILIO_LBAMAP_LEAF_BYTES	(ILIO_LBAMAP_LEAF_ENTRIES * sizeof(__le32))
#define ILIO_CHUNK_LEAF_BYTES	(ILIO_CHUNK_LEAF_ENTRIES * \
				 sizeof(struct ilio_ckpt_chunk))
/* Leaf bytes a checkpoint unit takes at most: bounds lock hold time. */
#define ILIO_CKPT_UNIT_MAX	(256U << 10)

static inline u64 ilio_align_blk(u64 x)
{
	return (x + ILIO_BLOCK_SIZE - 1) & ~(u64)(ILIO_BLOCK_SIZE - 1);
}

static u64 ilio_seg_pos(const struct ilio_plog *pl, u32 seg)
{
	return ilio_seg_block(&pl->g, seg) * ILIO_BLOCK_SIZE;
}

/**
 * ilio_plog_mem_bytes() - RAM held by the persistent state itself
 * @pl: state
 *
 * Return: bytes (summary buffer, write-back queue, scratch, the reserve
 * read buffer).
 */
u64 ilio_plog_mem_bytes(const struct ilio_plog *pl)
{
	return (u64)pl->sum_cap * ILIO_SUM_ENT +
	       (u64)pl->g.nr_segs * sizeof(u32) + pl->g.seg_bytes +
	       2 * ILIO_BLOCK_SIZE + ILIO_RBUF_BYTES + sizeof(*pl);	/* blk, vbuf */
}

/* Bytes a checkpoint of the current maps takes in the log, at most. */
static u64 __ilio_plog_ckpt_bytes(struct ilio_core *ic)
{
	u64 leaves = ic->map.leaves_allocated * ILIO_LBAMAP_LEAF_BYTES +
		     (u64)ic->chunks.nr_leaves * ILIO_CHUNK_LEAF_BYTES;

	/* One header block per unit; units hold at most 256 KiB of leaves. */
	return leaves + (leaves / ILIO_CKPT_UNIT_MAX + 2) * 2 * ILIO_BLOCK_SIZE;
}

/*
 * Free segments that must stay free for a writer at @level: user writes
 * leave enough for GC to work and then a checkpoint; GC (and discards)
 * leave enough for the checkpoint; a checkpoint may use everything.
 */
/* Segments a checkpoint of the current maps takes, at most. */
static u32 __ilio_plog_ckpt_segs(struct ilio_core *ic)
{
	u64 per = ic->pl->g.seg_bytes - 4 * ILIO_BLOCK_SIZE;

	return (u32)min_t(u64, (__ilio_plog_ckpt_bytes(ic) + per - 1) / per + 1,
			  ic->pl->g.nr_segs / 4);
}

static u32 __ilio_plog_reserve(struct ilio_core *ic, int level)
{
	struct ilio_plog *pl = ic->pl;
	u64 ckpt = __ilio_plog_ckpt_segs(ic);

	/*
	 * GC must be able to empty more segments than the checkpoint that
	 * frees them takes, even when they are 3/4 live: user writes leave
	 * room for a checkpoint and as much again for GC to work in.
	 */
	if (level == ILIO_LEVEL_CKPT)
		return 0;
	if (level == ILIO_LEVEL_GC)
		return (u32)min_t(u64, ckpt + 1, pl->g.nr_segs / 4);
	return (u32)min_t(u64, 2 * ckpt + 4, pl->g.nr_segs / 2);
}

/* Evict clean chunks until the RAM budget holds what is in use. */
void __ilio_plog_fit_ram(struct ilio_core *ic)
{
	while (__ilio_ram_used(ic) > ic->ram_limit &&
	       __ilio_cache_evict_one(&ic->cache))
		;
}

static void __ilio_wbq_push(struct ilio_plog *pl, u32 seg)
{
	pl->wbq[(pl->wbq_head + pl->wbq_len) % pl->g.nr_segs] = seg;
	pl->wbq_len++;
}

static u32 __ilio_plog_pick_free(struct ilio_core *ic)
{
	struct ilio_segs *s = &ic->segs;
	u32 i, n = s->nr_segs;

	for (i = 0; i < n; i++) {
		u32 idx = (s->scan_hint + i) % n;

		if (s->segs[idx].state == ILIO_SEG_FREE) {
			s->scan_hint = (idx + 1) % n;
			return idx;
		}
	}
	return ILIO_SEG_NONE;
}

/*
 * Finish the unit at [@off, @end) of the open segment: header fields,
 * checksum, and queue it for write-back.  The header block is zeroed and
 * holds anything type-specific already.  Return: its sequence number.
 */
static u64 __ilio_plog_finish_unit(struct ilio_core *ic, u32 off, u32 end,
				   u16 type, u32 rec, u32 nents)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_seg *seg = &ic->segs.segs[ic->segs.open];
	struct ilio_unit_hdr *h = (struct ilio_unit_hdr *)(seg->data + off);
	u64 seq = pl->next_seq++;

	h->magic = cpu_to_le32(ILIO_UNIT_MAGIC);
	h->blocknr = cpu_to_le64(ilio_seg_block(&pl->g, ic->segs.open) +
				 off / ILIO_BLOCK_SIZE);
	h->type = cpu_to_le16(type);
	h->epoch = cpu_to_le64(pl->epoch);
	h->seq = cpu_to_le64(seq);
	h->len = cpu_to_le32(end - off);
	h->next_seg = cpu_to_le32(pl->next_seg);
	h->rec_bytes = cpu_to_le32(rec);
	h->nr_ents = cpu_to_le32(nents);
	ilio_unit_seal(h, end - off);

	if (seg->closed == seg->written)
		__ilio_wbq_push(pl, ic->segs.open);
	pl->dirty += end - seg->used;
	pl->log_bytes += end - off;
	seg->used = end;
	seg->closed = end;
	seg->last_seq = seq;
	pl->closed_seq = seq;
	return seq;
}

/*
 * Close the open data unit: summary after the records, padding to a
 * block, header, checksum.  The unit is then ready for write-back.
 */
static void __ilio_plog_close_unit(struct ilio_core *ic)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_seg *seg;
	u32 off, rec, end, i;
	__le64 *out;

	if (!pl->unit_open)
		return;
	seg = &ic->segs.segs[ic->segs.open];
	off = pl->unit_off;
	rec = seg->used - off - ILIO_BLOCK_SIZE;
	pl->unit_open = false;
	if (!rec && !pl->nr_sum) {
		seg->used = off;	/* nothing in it: take the header back */
		pl->dirty -= ILIO_BLOCK_SIZE;
		return;
	}
	out = (__le64 *)(seg->data + seg->used);
	for (i = 0; i < pl->nr_sum; i++) {
		out[2 * i] = pl->sum[i].key;
		out[2 * i + 1] = pl->sum[i].val;
	}
	end = ilio_align_blk(seg->used + pl->nr_sum * ILIO_SUM_ENT);
	memset(seg->data + seg->used + pl->nr_sum * ILIO_SUM_ENT, 0,
	       end - seg->used - pl->nr_sum * ILIO_SUM_ENT);
	memset(seg->data + off, 0, ILIO_BLOCK_SIZE);
	__ilio_plog_finish_unit(ic, off, end, ILIO_UNIT_DATA, rec, pl->nr_sum);
	pl->nr_sum = 0;
}

/*
 * Walk the records of the data units in a segment image (RAM buffer or a
 * copy read from disk) and call @fn for each.  The image is not trusted:
 * the walk stops at the first header that does not parse.
 */
static void ilio_plog_walk(const u8 *img, u32 used, u32 seg_bytes,
			   void (*fn)(struct ilio_core *ic, u32 seg, u32 off,
				      const struct ilio_chunk_hdr *rh),
			   struct ilio_core *ic, u32 seg)
{
	u32 off = 0;

	while (off + ILIO_BLOCK_SIZE <= used) {
		const struct ilio_unit_hdr *h = (const void *)(img + off);
		u32 len = le32_to_cpu(h->len), rec = le32_to_cpu(h->rec_bytes);
		u32 r = off + ILIO_BLOCK_SIZE, rend;

		if (le32_to_cpu(h->magic) != ILIO_UNIT_MAGIC ||
		    len < ILIO_BLOCK_SIZE || len % ILIO_BLOCK_SIZE ||
		    len > seg_bytes - off)
			break;
		if (le16_to_cpu(h->type) == ILIO_UNIT_DATA &&
		    rec <= len - ILIO_BLOCK_SIZE) {
			rend = r + rec;
			while (r + sizeof(struct ilio_chunk_hdr) <= rend) {
				const struct ilio_chunk_hdr *rh = (const void *)(img + r);
				u32 plen = le16_to_cpu(rh->len);

				if (!plen || plen > ILIO_BLOCK_SIZE ||
				    r + ilio_rec_bytes(plen) > rend)
					break;
				fn(ic, seg, r, rh);
				r += ilio_rec_bytes(plen);
			}
		}
		off += len;
	}
}

static u64 ilio_rec_loc(u32 seg, u32 off, const struct ilio_chunk_hdr *rh)
{
	return ilio_loc_make(seg, off, le16_to_cpu(rh->len),
			     le16_to_cpu(rh->flags) & ILIO_CHUNK_LZ4);
}

static void __ilio_plog_cache_rec(struct ilio_core *ic, u32 seg, u32 off,
				  const struct ilio_chunk_hdr *rh)
{
	u32 cid = le32_to_cpu(rh->cid);
	u64 loc = ilio_rec_loc(seg, off, rh);

	if (!ilio_chunk_valid(&ic->chunks, cid) ||
	    ilio_chunk_loc(&ic->chunks, cid) != loc)
		return;
	__ilio_cache_insert(&ic->cache, cid, rh + 1, ilio_loc_len(loc),
			    ilio_loc_lz4(loc));
}

/**
 * __ilio_plog_finalize() - drop the buffer of a sealed, written segment
 * @ic: persistent core, locked
 * @idx: segment
 *
 * Its live chunks move to the clean cache (as probationary entries) and
 * its buffer is freed; nothing happens while it is pinned or not yet
 * fully written.
 */
void __ilio_plog_finalize(struct ilio_core *ic, u32 idx)
{
	struct ilio_seg *seg = &ic->segs.segs[idx];

	if (seg->pins || !seg->data || seg->state != ILIO_SEG_SEALED ||
	    seg->written != seg->used)
		return;
	ilio_plog_walk(seg->data, seg->used, ic->segs.seg_bytes,
		       __ilio_plog_cache_rec, ic, idx);
	__ilio_seg_put_buf(&ic->segs, seg->data);	/* the reserve first */
	seg->data = NULL;
	ic->segs.nr_resident--;
	__ilio_seg_track(&ic->segs, idx);	/* a GC candidate, or waiting */
	__ilio_plog_fit_ram(ic);
}

/* Seal the open segment: it takes nothing more. */
static void __ilio_plog_seal(struct ilio_core *ic)
{
	struct ilio_segs *s = &ic->segs;
	struct ilio_seg *seg;

	if (s->open == ILIO_SEG_NONE)
		return;
	__ilio_plog_close_unit(ic);
	seg = &s->segs[s->open];
	seg->state = ILIO_SEG_SEALED;
	if (seg->written == seg->used && !seg->used) {
		/* Never got a unit: give it back. */
		__ilio_seg_put_buf(s, seg->data);
		seg->data = NULL;
		s->nr_resident--;
		seg->state = ILIO_SEG_FREE;
		ic->pl->nr_free++;
	} else if (seg->written == seg->used) {
		__ilio_plog_finalize(ic, s->open);
	}
	s->open = ILIO_SEG_NONE;
}

/**
 * __ilio_plog_drain() - no RAM for a segment buffer or metadata: drain
 * @ic: persistent core, locked
 *
 * Seals the open segment, so that write-back writes it (with every other
 * closed unit) and frees its buffer; then the caller drops the lock,
 * writes back (ilio_core_relieve()) and tries again.  Without this, a
 * budget filled by metadata plus the open segment could never drain.
 *
 * Return: -EAGAIN when write-back has work that frees buffers, or the
 * seal freed one (try again); -ENOMEM
 * when buffers are held only by readers (pins) or the allocator failed
 * (wait, then try again); -ENOSPC when no segment buffer is left to free:
 * metadata fills the budget.
 */
int __ilio_plog_drain(struct ilio_core *ic)
{
	u32 resident = ic->segs.nr_resident;

	lockdep_assert_held(&ic->lock);
	__ilio_plog_seal(ic);
	/* A written segment is freed by the seal itself: try again at once. */
	if (ic->pl->wbq_len || ic->segs.nr_resident < resident)
		return -EAGAIN;
	return ic->segs.nr_resident ? -ENOMEM : -ENOSPC;
}

/*
 * Open the reserved next segment (or a free one) and reserve its
 * successor.  @level: ILIO_LEVEL_*, how deep into the reserve it may go.
 * The buffer comes from the allocator when the budget has room, else
 * from the reserve; with neither, the open segment is sealed so that
 * write-back can free buffers (__ilio_plog_drain()).
 */
static int __ilio_plog_open_seg(struct ilio_core *ic, int level)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_segs *s = &ic->segs;
	u32 need = pl->next_seg == ILIO_SEG_NONE ? 2 : 1;
	u32 cur, succ;
	bool room;
	u8 *data;
	int ret;

	if (pl->nr_free < need + __ilio_plog_reserve(ic, level))
		return -ENOSPC;
	while (!__ilio_ram_allows(ic, s->seg_bytes) &&
	       __ilio_cache_evict_one(&ic->cache))
		;
	room = __ilio_ram_allows(ic, s->seg_bytes);
	data = __ilio_seg_get_buf(s, room);
	if (!data) {
		ret = __ilio_plog_drain(ic);
		/* Budget room, no memory, nothing to free: wait for memory. */
		return ret == -ENOSPC && room ? -ENOMEM : ret;
	}
	__ilio_plog_seal(ic);
	cur = pl->next_seg;
	if (cur == ILIO_SEG_NONE) {
		cur = __ilio_plog_pick_free(ic);
		s->segs[cur].state = ILIO_SEG_NEXT;
		pl->nr_free--;
	}
	succ = __ilio_plog_pick_free(ic);
	if (WARN_ON(cur == ILIO_SEG_NONE || succ == ILIO_SEG_NONE)) {
		__ilio_seg_put_buf(s, data);
		return -ENOSPC;
	}
	s->segs[succ].state = ILIO_SEG_NEXT;
	pl->nr_free--;
	pl->next_seg = succ;
	s->segs[cur] = (struct ilio_seg){ .data = data, .state = ILIO_SEG_OPEN };
	s->nr_resident++;
	s->open = cur;
	return 0;
}

/* Would the open unit take @rec record bytes and @nents entries more? */
static bool __ilio_plog_room(struct ilio_core *ic, u32 rec, u32 nents)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_seg *seg;
	u64 end;

	if (ic->segs.open == ILIO_SEG_NONE)
		return false;
	seg = &ic->segs.segs[ic->segs.open];
	if (pl->nr_sum + nents > pl->sum_cap)
		return false;
	end = (u64)seg->used + (pl->unit_open ? 0 : ILIO_BLOCK_SIZE) + rec +
	      (u64)((pl->unit_open ? pl->nr_sum : 0) + nents) * ILIO_SUM_ENT;
	return ilio_align_blk(end) <= ic->segs.seg_bytes;
}

/**
 * __ilio_plog_prepare() - make room for a record and summary entries
 * @ic: persistent core, locked
 * @len: payload bytes of the record to append (0: none)
 * @nents: summary entries to log
 * @level: ILIO_LEVEL_USER, _GC (GC and discards) or _CKPT: how much of
 *	the free-segment reserve it may use
 *
 * After success, __ilio_plog_append() and __ilio_plog_log_map() for that
 * much cannot fail, provided the lock is not dropped in between.
 *
 * Return: 0; -EIO when the device is read-only after an error; -EROFS
 * when opened read-only; -ENOSPC when the device (or RAM, with metadata)
 * is full; -EAGAIN when unwritten data must be written back first, or
 * -ENOMEM when memory must be waited for (ilio_core_relieve()).
 */
int __ilio_plog_prepare(struct ilio_core *ic, u32 len, u32 nents, int level)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_seg *seg;
	u32 rec = len ? ilio_rec_bytes(len) : 0;
	int ret;

	lockdep_assert_held(&ic->lock);
	if (pl->read_only)
		return -EROFS;
	if (pl->error)
		return -EIO;
	if (!__ilio_plog_room(ic, rec, nents)) {
		ret = __ilio_plog_open_seg(ic, level);
		if (ret)
			return ret;
		if (WARN_ON(!__ilio_plog_room(ic, rec, nents)))
			return -EINVAL;
	}
	if (!pl->unit_open) {
		seg = &ic->segs.segs[ic->segs.open];
		pl->unit_off = seg->used;
		seg->used += ILIO_BLOCK_SIZE;
		pl->dirty += ILIO_BLOCK_SIZE;
		pl->unit_open = true;
		pl->nr_sum = 0;
		pl->unit_born_ns = ktime_get_ns();
	}
	return 0;
}

static void __ilio_plog_ent(struct ilio_plog *pl, u64 kind, u64 arg, u64 val)
{
	struct ilio_sum_ent *e = &pl->sum[pl->nr_sum++];

	e->key = cpu_to_le64(kind << ILIO_SUM_KIND_SHIFT | arg);
	e->val = cpu_to_le64(val);
}

/**
 * __ilio_plog_append() - append a chunk record and log where it is
 * @ic: persistent core, locked, after __ilio_plog_prepare(@len, ...)
 * @cid: chunk id (its hash is already in the chunk table)
 * @payload: stored payload
 * @len: its bytes
 * @lz4: it is lz4
 *
 * Return: the record's location.
 */
u64 __ilio_plog_append(struct ilio_core *ic, u32 cid, const void *payload,
		       u32 len, bool lz4)
{
	struct ilio_plog *pl = ic->pl;
	u64 loc;

	lockdep_assert_held(&ic->lock);
	loc = __ilio_seg_append(&ic->segs, cid, payload, len, lz4);
	pl->dirty += ilio_rec_bytes(len);
	__ilio_plog_ent(pl, ILIO_SUM_CHUNK, ilio_loc_off(loc),
			ilio_chunk_hash(&ic->chunks, cid));
	pl->front_ops++;
	return loc;
}

/**
 * __ilio_plog_log_map() - log that @lba now maps to @cid
 * @ic: persistent core, locked, after __ilio_plog_prepare(.., 1 or more)
 * @lba: logical block
 * @cid: chunk id, 0 for unmapped
 *
 * Consecutive unmaps merge into one entry.
 */
void __ilio_plog_log_map(struct ilio_core *ic, u64 lba, u32 cid)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_sum_ent *last;

	lockdep_assert_held(&ic->lock);
	pl->front_ops++;
	if (!cid && pl->nr_sum) {
		last = &pl->sum[pl->nr_sum - 1];
		if (le64_to_cpu(last->key) >> ILIO_SUM_KIND_SHIFT == ILIO_SUM_UNMAP &&
		    (le64_to_cpu(last->key) & ILIO_SUM_ARG_MASK) +
		    le64_to_cpu(last->val) == lba &&
		    le64_to_cpu(last->val) < 0xffffffffULL) {
			last->val = cpu_to_le64(le64_to_cpu(last->val) + 1);
			return;
		}
	}
	if (cid)
		__ilio_plog_ent(pl, ILIO_SUM_MAP, lba, cid);
	else
		__ilio_plog_ent(pl, ILIO_SUM_UNMAP, lba, 1);
}

/**
 * __ilio_plog_after_write() - what a writer should do after its update
 * @ic: persistent core, locked
 * @sync: set when the writer must write back itself (backpressure, or
 *	coalesce off)
 * @kick: set when write-back should be started in the background
 */
void __ilio_plog_after_write(struct ilio_core *ic, bool *sync, bool *kick)
{
	struct ilio_plog *pl = ic->pl;

	if (pl->coalesce == ILIO_COALESCE_OFF)
		__ilio_plog_close_unit(ic);
	*sync = pl->coalesce == ILIO_COALESCE_OFF || pl->dirty > pl->max_dirty;
	*kick = !*sync && pl->wbq_len && !pl->wb_busy;
}

static void ilio_plog_hist(struct ilio_stats *st, u32 len)
{
	unsigned int b = 0;

	while (b < ILIO_WHIST_BUCKETS - 1 && len > (ILIO_BLOCK_SIZE << b))
		b++;
	st->backend_write_hist[b]++;
}

/**
 * ilio_core_writeback() - write every closed unit to the backing device
 * @ic: core
 *
 * Segments go in log order, each as one write of its closed, unwritten
 * bytes.  A failed write is retried once; a second failure makes the
 * device read-only (sticky), and the data stays in RAM.
 *
 * Return: 0, or the sticky error.
 */
int ilio_core_writeback(struct ilio_core *ic)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_seg *seg;
	u32 idx, from, to;
	u64 seq, t0;
	int ret = 0;

	if (!pl)
		return 0;
	mutex_lock(&pl->wb_mutex);
	for (;;) {
		mutex_lock(&ic->lock);
		if (pl->error || !pl->wbq_len) {
			ret = pl->error;
			mutex_unlock(&ic->lock);
			break;
		}
		idx = pl->wbq[pl->wbq_head];
		seg = &ic->segs.segs[idx];
		from = seg->written;
		to = seg->closed;
		seq = seg->last_seq;
		pl->wb_busy = true;
		mutex_unlock(&ic->lock);

		/* [from, to) is closed: nobody writes it while we do. */
		t0 = ktime_get_ns();
		ret = pl->ops->write(pl->priv, ilio_seg_pos(pl, idx) + from,
				     seg->data + from, to - from);
		if (ret)
			ret = pl->ops->write(pl->priv, ilio_seg_pos(pl, idx) + from,
					     seg->data + from, to - from);
		t0 = ktime_get_ns() - t0;

		mutex_lock(&ic->lock);
		pl->wb_busy = false;
		if (ret) {
			pl->error = ret;
			mutex_unlock(&ic->lock);
			break;
		}
		seg = &ic->segs.segs[idx];
		ic->st.backend_write_ios++;
		ic->st.backend_write_bytes += to - from;
		ilio_plog_hist(&ic->st, to - from);
		pl->lat_ns = pl->lat_ns ? (pl->lat_ns * 7 + t0) / 8 : t0;
		pl->dirty -= to - from;
		seg->written = to;
		if (seq > pl->written_seq)
			pl->written_seq = seq;
		if (seg->written == seg->closed) {
			pl->wbq_head = (pl->wbq_head + 1) % pl->g.nr_segs;
			pl->wbq_len--;
		}
		if (seg->state == ILIO_SEG_SEALED && seg->written == seg->used)
			__ilio_plog_finalize(ic, idx);
		mutex_unlock(&ic->lock);
	}
	mutex_unlock(&pl->wb_mutex);
	return ret;
}

/* Flush the device so that every written unit is durable. */
static int ilio_plog_flush_dev(struct ilio_core *ic, u64 target)
{
	struct ilio_plog *pl = ic->pl;
	u64 written;
	int ret = 0;

	mutex_lock(&pl->wb_mutex);
	mutex_lock(&ic->lock);
	ret = pl->error;
	written = pl->written_seq;
	mutex_unlock(&ic->lock);
	if (!ret && pl->durable_seq < target) {
		ret = pl->ops->flush(pl->priv);
		mutex_lock(&ic->lock);
		if (ret)
			pl->error = ret;
		else
			pl->durable_seq = written;
		ic->st.backend_flushes++;
		mutex_unlock(&ic->lock);
	}
	mutex_unlock(&pl->wb_mutex);
	return ret;
}

/**
 * ilio_core_flush() - make every write completed so far durable
 * @ic: core
 *
 * Closes the open unit (a partial segment), writes everything back and
 * flushes the backing device.  Concurrent flushes share the device flush
 * when one covers the other.  Diskless: nothing to do.
 *
 * Return: 0, or -EIO when the device cannot keep the promise.
 */
int ilio_core_flush(struct ilio_core *ic)
{
	struct ilio_plog *pl = ic->pl;
	u64 target;
	int ret;

	if (!pl)
		return 0;
	mutex_lock(&ic->lock);
	if (pl->read_only) {
		mutex_unlock(&ic->lock);
		return 0;
	}
	__ilio_plog_close_unit(ic);
	target = pl->closed_seq;
	mutex_unlock(&ic->lock);
	ret = ilio_core_writeback(ic);
	if (!ret)
		ret = ilio_plog_flush_dev(ic, target);
	mutex_lock(&ic->lock);
	if (!ret)
		ic->st.flushes++;
	mutex_unlock(&ic->lock);
	return ret ? -EIO : 0;
}

/* Bytes of the blocks holding the record at @loc: at most ILIO_RBUF_BYTES. */
static u32 ilio_rec_span(u64 loc)
{
	u32 off = ilio_loc_off(loc);

	return ilio_align_blk(off + sizeof(struct ilio_chunk_hdr) +
			      ilio_loc_len(loc)) - (off & ~(ILIO_BLOCK_SIZE - 1));
}

/*
 * Read the blocks holding the record at @loc into @buf (ilio_rec_span()
 * bytes), check its header against @cid, decode it into @block and check
 * it against @hash.  On success *@rhp is the record in @buf.
 * Return: 0 or -EIO.
 */
/*
 * Decode the payload of record @rh (at @loc) into @block and check it
 * against the chunk hash @hash.  Return: true when it is the chunk's
 * content.  Every record read from the device passes here before it is
 * returned, cached or moved.
 */
static bool ilio_rec_verify(struct ilio_core *ic, const struct ilio_chunk_hdr *rh,
			    u64 loc, u64 hash, void *block)
{
	return !ilio_load_payload((const u8 *)(rh + 1), loc, block) &&
	       ilio_hash_block(block, ic->hash_seed) == hash;
}

static int ilio_plog_fetch(struct ilio_core *ic, u64 loc, u32 cid, u64 hash,
			   void *block, u8 *buf, const struct ilio_chunk_hdr **rhp)
{
	struct ilio_plog *pl = ic->pl;
	u32 off = ilio_loc_off(loc), len = ilio_loc_len(loc);
	u32 first = off & ~(ILIO_BLOCK_SIZE - 1);
	const struct ilio_chunk_hdr *rh;
	int ret;

	ret = pl->ops->read(pl->priv, ilio_seg_pos(pl, ilio_loc_seg(loc)) + first,
			    buf, ilio_rec_span(loc)) ? -EIO : 0;
	rh = (const void *)(buf + off - first);
	if (!ret && (le32_to_cpu(rh->cid) != cid || le16_to_cpu(rh->len) != len ||
		     !!(le16_to_cpu(rh->flags) & ILIO_CHUNK_LZ4) != ilio_loc_lz4(loc)))
		ret = -EIO;
	if (!ret && !ilio_rec_verify(ic, rh, loc, hash, block))
		ret = -EIO;
	*rhp = rh;
	return ret;
}

/**
 * ilio_plog_read_record() - load a chunk from the backing device
 * @ic: persistent core, unlocked; the caller pinned the chunk's segment
 * @loc: the chunk's location
 * @cid: the chunk id, checked against the record header
 * @hash: the chunk's content hash, checked against what was read
 * @block: ILIO_BLOCK_SIZE bytes of output
 *
 * Reads only the blocks that hold the record.  Data records carry no
 * checksum of their own: the content hash of the chunk table is one, so
 * a damaged or lost record is an error, never wrong data.  When the read
 * buffer cannot be allocated, the store's reserve read buffer serves
 * (one reader at a time): memory pressure never fails a read.
 *
 * Return: 0; -EIO when the device fails or the record is not what the
 * map says (a lost or damaged write).
 */
int ilio_plog_read_record(struct ilio_core *ic, u64 loc, u32 cid, u64 hash,
			  void *block)
{
	struct ilio_plog *pl = ic->pl;
	const struct ilio_chunk_hdr *rh;
	u32 span = ilio_rec_span(loc);
	u8 *buf = kmalloc(span, ILIO_GFP);
	int ret;

	if (!buf) {
		if (WARN_ON(span > ILIO_RBUF_BYTES))
			return -EIO;
		mutex_lock(&pl->rbuf_mutex);
		buf = pl->rbuf;
	}
	ret = ilio_plog_fetch(ic, loc, cid, hash, block, buf, &rh);
	mutex_lock(&ic->lock);
	ic->st.backend_read_ios++;
	ic->st.backend_read_bytes += span;
	if (!ret && ilio_chunk_valid(&ic->chunks, cid) &&
	    ilio_chunk_loc(&ic->chunks, cid) == loc) {
		__ilio_cache_insert(&ic->cache, cid, rh + 1, ilio_loc_len(loc),
				    ilio_loc_lz4(loc));
		__ilio_plog_fit_ram(ic);
	}
	mutex_unlock(&ic->lock);
	if (buf == pl->rbuf)
		mutex_unlock(&pl->rbuf_mutex);
	else
		kfree(buf);
	return ret;
}

/**
 * __ilio_plog_load_locked() - load a chunk with the lock held
 * @ic: persistent core, locked
 * @loc: its location (segment not in RAM)
 * @cid: its id
 * @block: ILIO_BLOCK_SIZE bytes of output
 *
 * For the consistency check only: it may read the device under the lock.
 *
 * Return: 0, -EIO or -ENOMEM.
 */
int __ilio_plog_load_locked(struct ilio_core *ic, u64 loc, u32 cid, void *block)
{
	struct ilio_centry *e = __ilio_cache_lookup(&ic->cache, cid);
	const struct ilio_chunk_hdr *rh;
	u8 *buf;
	int ret;

	if (e)
		return ilio_load_payload(e->data, loc, block) ? -EIO : 0;
	buf = kmalloc(ilio_rec_span(loc), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = ilio_plog_fetch(ic, loc, cid, ilio_chunk_hash(&ic->chunks, cid),
			      block, buf, &rh);
	kfree(buf);
	return ret;
}

/*
 * Checkpoints
 */

/* Cursor over the leaves a checkpoint snapshots. */
struct ilio_ckpt_cursor {
	u64 map_leaf;
	u32 chunk_leaf;
};

/* Next leaf to snapshot, or false at the end.  @kind/@index set. */
static bool __ilio_ckpt_next(struct ilio_core *ic, struct ilio_ckpt_cursor *cur,
			     u32 *kind, u64 *index)
{
	cur->map_leaf = __ilio_lbamap_next_leaf(&ic->map, cur->map_leaf);
	if (cur->map_leaf < ic->map.nr_leaves) {
		*kind = ILIO_CKPT_LBAMAP;
		*index = cur->map_leaf;
		return true;
	}
	if (cur->chunk_leaf < ic->chunks.nr_leaves) {
		*kind = ILIO_CKPT_CHUNKS;
		*index = cur->chunk_leaf;
		return true;
	}
	return false;
}

static void __ilio_ckpt_copy(struct ilio_core *ic, u32 kind, u64 index, u8 *dst)
{
	u32 i;

	if (kind == ILIO_CKPT_LBAMAP) {
		const u32 *leaf = ic->map.dir[index];
		__le32 *out = (__le32 *)dst;

		for (i = 0; i < ILIO_LBAMAP_LEAF_ENTRIES; i++)
			out[i] = cpu_to_le32(leaf[i]);
		return;
	}
	for (i = 0; i < ILIO_CHUNK_LEAF_ENTRIES; i++) {
		struct ilio_ckpt_chunk *o = (struct ilio_ckpt_chunk *)dst + i;
		u32 cid = (u32)index * ILIO_CHUNK_LEAF_ENTRIES + i;
		bool live = cid && ilio_chunk_valid(&ic->chunks, cid);

		o->loc = cpu_to_le64(live ? ilio_chunk_loc(&ic->chunks, cid) : 0);
		o->hash = cpu_to_le64(live ? ilio_chunk_hash(&ic->chunks, cid) : 0);
	}
}

/*
 * Build one checkpoint unit from the cursor on.  Return: 0, -ENOSPC, or
 * 1 when every leaf is done.  @start_seg/@start_off/@start_seq are set for
 * the first unit (when *@start_seq is 0).
 */
static int __ilio_ckpt_unit(struct ilio_core *ic, struct ilio_ckpt_cursor *cur,
			    u32 *start_seg, u32 *start_off, u64 *start_seq,
			    u64 *end_seq)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_segs *s = &ic->segs;
	struct ilio_unit_hdr *h;
	struct ilio_ckpt_desc *d;
	struct ilio_seg *seg;
	u32 off, pos, n = 0, kind;
	u64 index;
	int ret;

	__ilio_plog_close_unit(ic);
	if (s->open == ILIO_SEG_NONE ||
	    s->segs[s->open].used + ILIO_BLOCK_SIZE + ILIO_CHUNK_LEAF_BYTES >
	    s->seg_bytes) {
		ret = __ilio_plog_open_seg(ic, ILIO_LEVEL_CKPT);
		if (ret)
			return ret;
	}
	seg = &s->segs[s->open];
	off = seg->used;
	pos = off + ILIO_BLOCK_SIZE;
	h = (struct ilio_unit_hdr *)(seg->data + off);
	memset(h, 0, ILIO_BLOCK_SIZE);
	d = (struct ilio_ckpt_desc *)(h + 1);
	while (n < ILIO_CKPT_MAX_DESC && __ilio_ckpt_next(ic, cur, &kind, &index)) {
		u32 bytes = kind == ILIO_CKPT_LBAMAP ? ILIO_LBAMAP_LEAF_BYTES :
						       ILIO_CHUNK_LEAF_BYTES;

		if (pos + bytes > s->seg_bytes ||
		    pos - off - ILIO_BLOCK_SIZE + bytes > ILIO_CKPT_UNIT_MAX)
			break;
		__ilio_ckpt_copy(ic, kind, index, seg->data + pos);
		d[n].kind = cpu_to_le32(kind);
		d[n].index = cpu_to_le32((u32)index);
		n++;
		pos += bytes;
		if (kind == ILIO_CKPT_LBAMAP)
			cur->map_leaf++;
		else
			cur->chunk_leaf++;
	}
	if (!*start_seq) {
		*start_seq = pl->next_seq;
		*start_seg = s->open;
		*start_off = off;
	}
	*end_seq = __ilio_plog_finish_unit(ic, off, pos, ILIO_UNIT_CKPT, 0, n);
	return __ilio_ckpt_next(ic, cur, &kind, &index) ? 0 : 1;
}

/*
 * Free the emptied segments that replay from neither anchor reads (the
 * durable one and the fallback it replaced), and discard them on the
 * device.  Called after an anchor became durable.  It visits only the
 * segments that wait for a checkpoint (the segment index's waiting set),
 * not the segment table: O(segments emptied), whatever the device size.
 */
static void ilio_plog_free_pass(struct ilio_core *ic)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_segs *s = &ic->segs;
	u32 i, n = 0, trim = ILIO_SEG_NONE, idx;

	mutex_lock(&ic->lock);
	for (i = 0; i < s->nr_wait; ) {
		struct ilio_seg *seg;

		idx = __ilio_seg_waiting(s, i);
		seg = &s->segs[idx];
		if (seg->pins || seg->last_seq >= pl->prev_ckpt_start) {
			i++;
			continue;
		}
		/* The last waiting segment moves to position i. */
		__ilio_seg_untrack_waiting(s, idx);
		if (pl->ops->discard) {
			seg->state = ILIO_SEG_TRIM;
			s->vpos[idx] = trim;	/* the discard list */
			trim = idx;
		} else {
			seg->state = ILIO_SEG_FREE;
			pl->nr_free++;
		}
		n++;
		if ((n & 1023) == 0)
			cond_resched();
	}
	ic->st.gc_freed_segments += n;
	mutex_unlock(&ic->lock);
	/* TRIM segments are ours alone: nobody else changes them. */
	for (idx = trim; idx != ILIO_SEG_NONE; idx = trim) {
		trim = s->vpos[idx];
		pl->ops->discard(pl->priv, ilio_seg_pos(pl, idx), s->seg_bytes);
		mutex_lock(&ic->lock);
		s->vpos[idx] = ILIO_SEG_NONE;
		s->segs[idx].state = ILIO_SEG_FREE;
		s->segs[idx].last_seq = 0;
		pl->nr_free++;
		mutex_unlock(&ic->lock);
		cond_resched();
	}
}

/*
 * Write anchor slot 1 - current naming a checkpoint from @seq (at
 * @seg/@off) to @end.  The anchor it replaces stays the fallback.  With
 * @again the checkpoint is the one the current anchor already names (the
 * open's second anchor write): it is not counted as another checkpoint.
 */
static int ilio_plog_write_anchor(struct ilio_core *ic, u32 seg, u32 off,
				  u64 seq, u64 end, bool again)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_anchor_info a = {
		.seq = pl->anchor_seq + 1,
		.epoch = pl->epoch,
		.log_seq = seq,
		.log_seg = seg,
		.log_off = off,
		.nr_blocks = pl->nr_blocks,
		.ckpt_end = end,
	};
	unsigned int slot = pl->anchor_seq ? 1 - pl->anchor_slot : 0;
	int ret;

	ilio_anchor_build(pl->blk, &pl->g, ILIO_ANCHOR_BLOCK + slot, &a);
	ret = pl->ops->write(pl->priv, (u64)(ILIO_ANCHOR_BLOCK + slot) *
			     ILIO_BLOCK_SIZE, pl->blk, ILIO_BLOCK_SIZE);
	if (!ret)
		ret = pl->ops->flush(pl->priv);
	mutex_lock(&ic->lock);
	if (ret) {
		pl->error = ret;
	} else {
		pl->anchor_seq = a.seq;
		pl->anchor_slot = slot;
		pl->anchor = a;
		/* The anchor in the other slot stays a fallback: keep its log. */
		pl->prev_ckpt_start = pl->ckpt_start_seq;
		pl->ckpt_start_seq = seq;
		ic->st.backend_write_ios++;
		ic->st.backend_write_bytes += ILIO_BLOCK_SIZE;
		ilio_plog_hist(&ic->st, ILIO_BLOCK_SIZE);
		ic->st.backend_flushes++;
		if (!again)
			ic->st.checkpoints++;
	}
	mutex_unlock(&ic->lock);
	return ret;
}

/*
 * After the open's checkpoint: name it in the other anchor slot too, so
 * that no anchor of the chain before this open survives as a fallback
 * (see the recovery rules at ilio_core_open()), then free what that
 * releases.
 */
static int ilio_plog_anchor_both(struct ilio_core *ic)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_anchor_info a;
	int ret;

	mutex_lock(&pl->ckpt_mutex);
	mutex_lock(&ic->lock);
	a = pl->anchor;
	mutex_unlock(&ic->lock);
	ret = ilio_plog_write_anchor(ic, a.log_seg, a.log_off, a.log_seq,
				     a.ckpt_end, true);
	mutex_unlock(&pl->ckpt_mutex);
	if (!ret)
		ilio_plog_free_pass(ic);
	return ret;
}

static int ilio_plog_checkpoint_locked(struct ilio_core *ic)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_ckpt_cursor cur = { 0, 0 };
	u32 seg = 0, off = 0;
	u64 seq = 0, log_before = 0, front = 0, end = 0;
	bool retried = false;
	int ret = 0;

	for (;;) {
		mutex_lock(&ic->lock);
		if (pl->error) {
			ret = pl->error;
		} else {
			if (!seq) {
				log_before = pl->log_bytes;
				front = pl->front_ops;
			}
			ret = __ilio_ckpt_unit(ic, &cur, &seg, &off, &seq, &end);
		}
		mutex_unlock(&ic->lock);
		if (ret == -EAGAIN || ret == -ENOMEM) {
			/* Memory pressure: write back, refill or wait; go on. */
			ret = ilio_core_relieve(ic, ret);
			if (ret)
				break;
			continue;
		}
		if (ret == -ENOSPC && !retried) {
			/* Write back what is closed, then try again once. */
			retried = true;
			ret = ilio_core_writeback(ic);
			if (ret)
				break;
			continue;
		}
		if (ret < 0 || ret == 1)
			break;
		retried = false;
		cond_resched();
	}
	if (ret < 0)
		return ret;
	ret = ilio_core_writeback(ic);
	if (!ret) {
		mutex_lock(&ic->lock);
		seq = seq ? seq : pl->next_seq;
		mutex_unlock(&ic->lock);
		ret = ilio_plog_flush_dev(ic, pl->closed_seq);
	}
	if (!ret)
		ret = ilio_plog_write_anchor(ic, seg, off, seq, end, false);
	if (ret)
		return ret;
	mutex_lock(&ic->lock);
	pl->log_bytes -= min(pl->log_bytes, log_before);
	pl->ckpt_front = front;
	mutex_unlock(&ic->lock);
	ilio_plog_free_pass(ic);
	return 0;
}

/**
 * ilio_core_checkpoint() - write a checkpoint and free what it releases
 * @ic: core
 *
 * Return: 0; -EIO (or the sticky error) when the device fails; -ENOSPC
 * when not even the reserve holds the checkpoint; -EROFS read-only.
 */
int ilio_core_checkpoint(struct ilio_core *ic)
{
	struct ilio_plog *pl = ic->pl;
	int ret;

	if (!pl)
		return 0;
	if (pl->read_only)
		return -EROFS;
	mutex_lock(&pl->ckpt_mutex);
	ret = ilio_plog_checkpoint_locked(ic);
	mutex_unlock(&pl->ckpt_mutex);
	return ret;
}

/*
 * GC
 */

#define ILIO_GC_WANT_URGENT	0	/* checkpoint once it frees more than it costs */
#define ILIO_GC_WANT_BACKGROUND	1	/* ... four times more, and 1/16 of the device */

/*
 * Move one live record that GC read from the device.  The copy is not
 * trusted: GC re-seals what it appends under a fresh unit checksum, and
 * the moved chunk is then served from RAM and the clean cache unchecked,
 * so its payload is verified against the chunk hash first.  A record that
 * fails is never moved: its chunk becomes ILIO_LOC_DAMAGED (its LBAs read
 * as EIO, counted in chunks_damaged), and its bytes are released so that
 * the segment can be reused.
 */
static void __ilio_gc_move(struct ilio_core *ic, u32 seg, u32 off,
			   const struct ilio_chunk_hdr *rh)
{
	u32 cid = le32_to_cpu(rh->cid), len = le16_to_cpu(rh->len);
	u64 old = ilio_rec_loc(seg, off, rh), nloc;
	int ret;

	if (ic->pl->gc_full)	/* out of room: leave the rest */
		return;
	if (!ilio_chunk_valid(&ic->chunks, cid) ||
	    ilio_chunk_loc(&ic->chunks, cid) != old)
		return;
	if (!ilio_rec_verify(ic, rh, old, ilio_chunk_hash(&ic->chunks, cid),
			     ic->pl->vbuf)) {
		__ilio_cache_remove(&ic->cache, cid);
		ilio_chunk_set_loc(&ic->chunks, cid, ILIO_LOC_DAMAGED);
		__ilio_seg_release_bytes(&ic->segs, old);
		ic->stored_bytes -= len;
		ic->nr_damaged++;
		ic->pl->front_ops++;	/* the next checkpoint must record it */
		return;
	}
	ret = __ilio_plog_prepare(ic, len, 1, ILIO_LEVEL_GC);
	if (ret) {
		ic->pl->gc_full = true;
		ic->pl->gc_err = ret;
		return;
	}
	nloc = __ilio_plog_append(ic, cid, rh + 1, len, ilio_loc_lz4(old));
	ic->pl->front_ops--;	/* GC is not front-end activity */
	ilio_chunk_set_loc(&ic->chunks, cid, nloc);
	__ilio_seg_release_bytes(&ic->segs, old);
	ic->st.gc_moved_bytes += ilio_rec_bytes(len);
}

/*
 * The written segment with the fewest live bytes, at most @max_live: the
 * top of the segment index's heap (ties go to the lowest index, as a scan
 * would choose), O(1) instead of a scan of the segment table.
 */
static u32 __ilio_gc_victim(struct ilio_core *ic, u32 max_live)
{
	struct ilio_segs *s = &ic->segs;
	u32 idx = __ilio_seg_emptiest(s);

	return idx != ILIO_SEG_NONE && s->segs[idx].live <= max_live ?
	       idx : ILIO_SEG_NONE;
}

/* Clean one victim; *@gain: the bytes it frees net of what was moved. */
static int ilio_gc_one(struct ilio_core *ic, u32 max_live, u64 *gain)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_segs *s = &ic->segs;
	u32 victim;
	int ret, err;

	mutex_lock(&ic->lock);
	victim = pl->error ? ILIO_SEG_NONE : __ilio_gc_victim(ic, max_live);
	if (victim != ILIO_SEG_NONE) {
		__ilio_seg_pin(s, victim);
		*gain = s->seg_bytes - s->segs[victim].live;
	}
	mutex_unlock(&ic->lock);
	if (victim == ILIO_SEG_NONE)
		return -ENOSPC;

	ret = pl->ops->read(pl->priv, ilio_seg_pos(pl, victim), pl->buf,
			    s->seg_bytes);
	mutex_lock(&ic->lock);
	ic->st.backend_read_ios++;
	ic->st.backend_read_bytes += s->seg_bytes;
	while (!ret) {
		pl->gc_full = false;
		pl->gc_err = 0;
		ilio_plog_walk(pl->buf, s->seg_bytes, s->seg_bytes,
			       __ilio_gc_move, ic, victim);
		if (pl->gc_err != -EAGAIN && pl->gc_err != -ENOMEM)
			break;
		/* Memory pressure: relieve it, walk again (moved records are skipped). */
		err = pl->gc_err;
		mutex_unlock(&ic->lock);
		ret = ilio_core_relieve(ic, err);
		mutex_lock(&ic->lock);
	}
	if (!ret && pl->gc_full)
		ret = -ENOSPC;
	__ilio_seg_unpin(s, victim);
	mutex_unlock(&ic->lock);
	return ret ? ret : 0;
}

/* Emptied segments that wait for a checkpoint to become free. */
static u32 ilio_plog_nr_waiting(struct ilio_core *ic)
{
	u32 n;

	mutex_lock(&ic->lock);
	n = ic->segs.nr_wait;
	mutex_unlock(&ic->lock);
	return n;
}

/*
 * GC up to @max_segs victims, then checkpoint once the segments waiting
 * to be freed, net of what GC moved, reach @want (ILIO_GC_WANT_*), or
 * with @force when anything at all waits.  Called with ckpt_mutex held.
 * Return: victims cleaned, or a negative errno (-ENOSPC: nothing worth a
 * checkpoint).
 */
static int ilio_gc_locked(struct ilio_core *ic, unsigned int max_segs,
			  u32 max_live, int want, bool force)
{
	u64 seg = ic->segs.seg_bytes, gain = 0, one;
	u32 waiting = ilio_plog_nr_waiting(ic), ckpt;
	unsigned int n = 0;
	int ret = 0;

	mutex_lock(&ic->lock);
	ckpt = __ilio_plog_ckpt_segs(ic);
	/*
	 * A checkpoint pays off when the space it frees, net of what GC
	 * moved, is more than the checkpoint itself takes (urgent), or at
	 * least four times that, and 1/16 of the device (background: keeps
	 * checkpoint traffic a small part of the backend's writes).
	 */
	if (want == ILIO_GC_WANT_BACKGROUND)
		ckpt = max_t(u32, 4 * ckpt, ic->segs.nr_segs / 16);
	else
		ckpt = ckpt + 1;
	mutex_unlock(&ic->lock);
	gain = waiting * seg;
	while (n < max_segs && gain < max_t(u64, ckpt + 3, 2 * ckpt) * seg) {
		ret = ilio_gc_one(ic, max_live, &one);
		if (ret)
			break;
		gain += one;
		n++;
	}
	if (gain > ckpt * seg || (force && gain))
		ret = ilio_plog_checkpoint_locked(ic);
	else if (ret != -ENOSPC)
		ret = 0;
	return ret ? ret : n;
}

/**
 * ilio_core_gc() - move live chunks out of mostly dead segments
 * @ic: core
 * @max_segs: most segments to clean
 *
 * Greedy: the written segment with the fewest live bytes (at most 3/4
 * live) first.  The segments cleaned become free after the checkpoint
 * this function ends with.
 *
 * Return: segments cleaned, or a negative errno.
 */
int ilio_core_gc(struct ilio_core *ic, unsigned int max_segs)
{
	struct ilio_plog *pl = ic->pl;
	int ret;

	if (!pl || pl->read_only)
		return pl ? -EROFS : 0;
	mutex_lock(&pl->ckpt_mutex);
	ret = ilio_gc_locked(ic, max_segs, ic->segs.seg_bytes / 4 * 3,
			     ILIO_GC_WANT_URGENT, max_segs == UINT_MAX);
	mutex_unlock(&pl->ckpt_mutex);
	if (ret == -ENOSPC)
		ret = 0;
	return ret;
}

/* Background GC from the tick: @urgent when free segments run short. */
static void ilio_core_gc_tick(struct ilio_core *ic, unsigned int max_segs,
			      bool urgent)
{
	struct ilio_plog *pl = ic->pl;

	mutex_lock(&pl->ckpt_mutex);
	ilio_gc_locked(ic, max_segs, ic->segs.seg_bytes / 4 * 3,
		       urgent ? ILIO_GC_WANT_URGENT : ILIO_GC_WANT_BACKGROUND,
		       false);
	mutex_unlock(&pl->ckpt_mutex);
}

/**
 * ilio_plog_reclaim() - a writer found no free segment: clean some now
 * @ic: core
 *
 * Return: 0 when segments were freed, else a negative errno.
 */
int ilio_plog_reclaim(struct ilio_core *ic)
{
	struct ilio_plog *pl = ic->pl;
	int ret;

	mutex_lock(&pl->ckpt_mutex);
	ret = ilio_gc_locked(ic, UINT_MAX, ic->segs.seg_bytes / 4 * 3,
			     ILIO_GC_WANT_URGENT, false);
	mutex_unlock(&pl->ckpt_mutex);
	return ret < 0 ? ret : 0;
}

/**
 * ilio_core_tick() - background work, called every 100 ms or so
 * @ic: core
 *
 * coalesce auto: closes an aging partial unit and writes it back - soon
 * when the backing device is idle and fast, after flush_interval_ms
 * otherwise.  Writes back sealed segments.  Runs GC when free segments
 * run low (one segment per tick while front-end I/O goes on, more when
 * idle or urgent), and a checkpoint when the log since the last one got
 * long or GC emptied segments.
 */
void ilio_core_tick(struct ilio_core *ic)
{
	struct ilio_plog *pl = ic->pl;
	bool wb, idle, ckpt, urgent = false;
	u32 low, gc = 0;
	u64 age, limit;

	if (!pl || pl->read_only)
		return;
	mutex_lock(&ic->lock);
	if (pl->error) {
		mutex_unlock(&ic->lock);
		return;
	}
	idle = pl->front_ops == pl->last_front;
	pl->last_front = pl->front_ops;
	if (pl->coalesce == ILIO_COALESCE_AUTO && pl->unit_open) {
		age = ktime_get_ns() - pl->unit_born_ns;
		limit = (u64)pl->flush_interval_ms * 1000000ULL;
		/* Fast (writes under 1 ms) and idle: do not keep data dirty. */
		if (pl->lat_ns < 1000000ULL && !pl->wb_busy)
			limit /= 10;
		if (age >= limit)
			__ilio_plog_close_unit(ic);
	}
	wb = pl->wbq_len && !pl->wb_busy;
	low = max_t(u32, 4, pl->g.nr_segs / 16) +
	      __ilio_plog_reserve(ic, ILIO_LEVEL_USER);
	if (pl->nr_free < low) {
		urgent = pl->nr_free < low / 2 + 2;
		gc = idle || urgent ? 4 : 1;
	}
	ckpt = pl->log_bytes > max_t(u64, 2 * __ilio_plog_ckpt_bytes(ic),
				     (u64)pl->g.nr_segs * ic->segs.seg_bytes / 8);
	mutex_unlock(&ic->lock);
	if (wb)
		ilio_core_writeback(ic);
	if (gc)
		ilio_core_gc_tick(ic, gc, urgent);
	else if (ckpt)
		ilio_core_checkpoint(ic);
}

/*
 * Recovery
 */

/*
 * Untrusted metadata: bounds.  Every id and index that replay reads from
 * the device is checked against what the geometry can hold before it
 * sizes an allocation, and what replay allocates is charged to the RAM
 * budget as it goes (see "Untrusted metadata: bounds" in
 * Documentation/ilio-design.rst).
 *
 * The highest chunk id a store of geometry @g can have handed out: a new
 * id is taken only when every lower one is live (the free list is empty),
 * and each live chunk has its own record - at least ilio_rec_bytes(1)
 * bytes after the header block of a unit - in one of the segments.
 */
static u32 ilio_plog_cid_limit(const struct ilio_geom *g)
{
	u64 n = (u64)g->nr_segs *
		((g->seg_bytes - ILIO_BLOCK_SIZE) / ilio_rec_bytes(1));

	return (u32)min_t(u64, n, ILIO_CID_MAX);
}

/*
 * Before anything is allocated for the geometry that the superblock gives:
 * the per-segment tables (segment table, segment index, write-back queue),
 * the summary buffer and the scratch segment must fit the budget with the
 * LBA map and two segments to spare.
 */
static int ilio_plog_geom_fits(struct ilio_core *ic, const char **why)
{
	const struct ilio_geom *g = &ic->pl->g;
	u64 need = (u64)g->nr_segs * (sizeof(struct ilio_seg) + 3 * sizeof(u32)) +
		   4ULL * g->seg_bytes;

	if (ilio_lbamap_mem_bytes(&ic->map) + need <= ic->ram_limit)
		return 0;
	*why = "ram_mb is too small for the segment table of this device";
	return -E2BIG;
}

/* Charge @bytes that replay is about to allocate to the RAM budget. */
static int __ilio_replay_charge(struct ilio_core *ic, u64 bytes,
				const char **why)
{
	if (!bytes || __ilio_ram_allows(ic, bytes + 2ULL * ic->segs.seg_bytes))
		return 0;
	*why = "ram_mb is too small for the metadata of this store";
	return -E2BIG;
}

/* Restore one chunk from the log or a checkpoint, within the budget. */
static int __ilio_replay_chunk(struct ilio_core *ic, u32 cid, u64 loc,
			       u64 hash, const char **why)
{
	u32 limit = ilio_plog_cid_limit(&ic->pl->g);
	int ret;

	if (cid > limit) {
		if (!loc)
			return 0;	/* a free id in a checkpoint's last leaf */
		*why = "chunk id beyond what the device can hold";
		return -EINVAL;
	}
	ret = __ilio_replay_charge(ic, __ilio_chunk_restore_bytes(&ic->chunks, cid),
				   why);
	if (ret)
		return ret;
	return __ilio_chunk_restore(&ic->chunks, cid, loc, hash, limit);
}

/* Allocate the map leaf of @lba during replay, within the budget. */
static int __ilio_replay_leaf(struct ilio_core *ic, u64 lba, const char **why)
{
	int ret;

	ret = __ilio_replay_charge(ic, __ilio_lbamap_prepare_bytes(&ic->map, lba),
				   why);
	return ret ? ret : __ilio_lbamap_prepare(&ic->map, lba);
}

/* Apply one data unit's summary.  Return: 0 or -EINVAL (corrupt). */
static int __ilio_replay_data(struct ilio_core *ic, const u8 *u, u32 seg,
			      u32 off, const char **why)
{
	const struct ilio_unit_hdr *h = (const void *)u;
	u32 rec = le32_to_cpu(h->rec_bytes), n = le32_to_cpu(h->nr_ents), i;
	const struct ilio_sum_ent *e = (const void *)(u + ILIO_BLOCK_SIZE + rec);
	u32 rstart = off + ILIO_BLOCK_SIZE, rend = rstart + rec;
	u64 nr_blocks = ic->map.nr_blocks;
	u32 cid_limit = ilio_plog_cid_limit(&ic->pl->g);
	int ret;

	for (i = 0; i < n; i++) {
		u64 key = le64_to_cpu(e[i].key), val = le64_to_cpu(e[i].val);
		u64 arg = key & ILIO_SUM_ARG_MASK;
		const struct ilio_chunk_hdr *rh;
		u32 cid, len, flags;

		switch (key >> ILIO_SUM_KIND_SHIFT) {
		case ILIO_SUM_MAP:
			if (arg >= nr_blocks || !val || val > cid_limit) {
				*why = "log entry maps an LBA outside the device or to no chunk";
				return -EINVAL;
			}
			ret = __ilio_replay_leaf(ic, arg, why);
			if (ret)
				return ret;
			__ilio_lbamap_set(&ic->map, arg, (u32)val);
			break;
		case ILIO_SUM_UNMAP:
			if (arg >= nr_blocks || val > nr_blocks - arg) {
				*why = "log entry unmaps LBAs outside the device";
				return -EINVAL;
			}
			/* One entry may cover the whole device: per leaf. */
			__ilio_lbamap_unmap_range(&ic->map, arg, val);
			break;
		case ILIO_SUM_CHUNK:
			if (arg % ILIO_CHUNK_ALIGN || arg < rstart ||
			    arg + sizeof(*rh) > rend) {
				*why = "log entry names a record outside its unit";
				return -EINVAL;
			}
			rh = (const void *)(u + (arg - off));
			cid = le32_to_cpu(rh->cid);
			len = le16_to_cpu(rh->len);
			flags = le16_to_cpu(rh->flags);
			if (!cid || !len ||
			    len > ILIO_BLOCK_SIZE || flags & ~ILIO_CHUNK_LZ4 ||
			    arg + ilio_rec_bytes(len) > rend) {
				*why = "log record header is invalid";
				return -EINVAL;
			}
			if (cid > cid_limit) {
				*why = "log record has a chunk id beyond what the device can hold";
				return -EINVAL;
			}
			ret = __ilio_replay_chunk(ic, cid,
						  ilio_loc_make(seg, (u32)arg, len,
								flags & ILIO_CHUNK_LZ4),
						  val, why);
			if (ret)
				return ret;
			break;
		default:
			*why = "log entry of unknown kind";
			return -EINVAL;
		}
		if ((i & 1023) == 1023)
			cond_resched();
	}
	return 0;
}

/* Apply one checkpoint unit's leaves.  Return: 0 or -EINVAL (corrupt). */
static int __ilio_replay_ckpt(struct ilio_core *ic, const u8 *u, u32 len,
			      const char **why)
{
	const struct ilio_unit_hdr *h = (const void *)u;
	const struct ilio_ckpt_desc *d = (const void *)(h + 1);
	u32 n = le32_to_cpu(h->nr_ents), i, k, pos = ILIO_BLOCK_SIZE;
	u32 cid_limit = ilio_plog_cid_limit(&ic->pl->g);
	int ret;

	for (i = 0; i < n; i++) {
		u32 kind = le32_to_cpu(d[i].kind), index = le32_to_cpu(d[i].index);

		if (kind == ILIO_CKPT_LBAMAP) {
			const __le32 *in = (const void *)(u + pos);
			u32 *leaf;

			if (index >= ic->map.nr_leaves ||
			    pos + ILIO_LBAMAP_LEAF_BYTES > len) {
				*why = "checkpoint has an LBA-map leaf outside the device";
				return -EINVAL;
			}
			ret = __ilio_replay_leaf(ic, (u64)index << ILIO_LBAMAP_LEAF_SHIFT,
						 why);
			if (ret)
				return ret;
			leaf = ic->map.dir[index];
			for (k = 0; k < ILIO_LBAMAP_LEAF_ENTRIES; k++) {
				u32 cid = le32_to_cpu(in[k]);

				if (cid > cid_limit ||
				    (cid && ((u64)index << ILIO_LBAMAP_LEAF_SHIFT) + k >=
				     ic->map.nr_blocks)) {
					*why = "checkpoint maps an invalid chunk id";
					return -EINVAL;
				}
				leaf[k] = cid;
			}
			pos += ILIO_LBAMAP_LEAF_BYTES;
		} else if (kind == ILIO_CKPT_CHUNKS) {
			const struct ilio_ckpt_chunk *in = (const void *)(u + pos);

			if (index > cid_limit >> ILIO_CHUNK_LEAF_SHIFT ||
			    pos + ILIO_CHUNK_LEAF_BYTES > len) {
				*why = "checkpoint chunk leaf is beyond what the device can hold";
				return -EINVAL;
			}
			for (k = 0; k < ILIO_CHUNK_LEAF_ENTRIES; k++) {
				u32 cid = index * ILIO_CHUNK_LEAF_ENTRIES + k;

				if (!cid)
					continue;
				ret = __ilio_replay_chunk(ic, cid,
							  le64_to_cpu(in[k].loc),
							  le64_to_cpu(in[k].hash), why);
				if (ret)
					return ret;
			}
			pos += ILIO_CHUNK_LEAF_BYTES;
		} else {
			*why = "checkpoint leaf of unknown kind";
			return -EINVAL;
		}
		cond_resched();
	}
	return 0;
}

/* Read the unit expected at @seg/@off into pl->buf.  -ENOENT: log end. */
static int ilio_replay_read(struct ilio_core *ic, u32 seg, u32 off, u64 seq,
			    const char **why)
{
	struct ilio_plog *pl = ic->pl;
	const struct ilio_unit_hdr *h = (const void *)pl->buf;
	u32 len;
	int ret;

	if (off + ILIO_BLOCK_SIZE > pl->g.seg_bytes)
		return -ENOENT;
	ret = pl->ops->read(pl->priv, ilio_seg_pos(pl, seg) + off, pl->buf,
			    ILIO_BLOCK_SIZE);
	if (ret) {
		*why = "cannot read the log";
		return -EIO;
	}
	ret = ilio_unit_check_hdr(pl->buf, &pl->g, seg, off, pl->epoch, seq, why);
	if (ret)
		return ret;
	len = le32_to_cpu(h->len);
	if (len > ILIO_BLOCK_SIZE &&
	    pl->ops->read(pl->priv, ilio_seg_pos(pl, seg) + off + ILIO_BLOCK_SIZE,
			  pl->buf + ILIO_BLOCK_SIZE, len - ILIO_BLOCK_SIZE)) {
		*why = "cannot read the log";
		return -EIO;
	}
	return ilio_unit_check_body(pl->buf, &pl->g, why);
}

/*
 * Replay the chain from the anchor.  Return: 0, or -EINVAL/-EIO/-ENOMEM
 * with @why set.  Sets pl->next_seq and the last unit's position.
 */
static int ilio_replay(struct ilio_core *ic, const struct ilio_anchor_info *a,
		       const char **why)
{
	struct ilio_plog *pl = ic->pl;
	const struct ilio_unit_hdr *h = (const void *)pl->buf;
	u32 seg = a->log_seg, off = a->log_off, len;
	u64 seq = a->log_seq, units = 0;
	u32 next = 0;
	const char *end;
	int ret;

	for (;;) {
		ret = ilio_replay_read(ic, seg, off, seq, &end);
		if (ret == -ENOENT && units) {
			/* Not directly after the last unit: in its successor? */
			ret = ilio_replay_read(ic, next, 0, seq, &end);
			if (!ret) {
				seg = next;
				off = 0;
			}
		}
		if (ret == -ENOENT)
			break;
		if (ret) {
			*why = end;
			return ret;
		}
		len = le32_to_cpu(h->len);
		next = le32_to_cpu(h->next_seg);
		mutex_lock(&ic->lock);
		if (le16_to_cpu(h->type) == ILIO_UNIT_DATA)
			ret = __ilio_replay_data(ic, pl->buf, seg, off, why);
		else
			ret = __ilio_replay_ckpt(ic, pl->buf, len, why);
		ic->segs.segs[seg].last_seq = seq;
		mutex_unlock(&ic->lock);
		if (ret)
			return ret;
		units++;
		seq++;
		off += len;
		cond_resched();
	}
	pl->next_seq = seq;
	if (a->ckpt_end && seq <= a->ckpt_end) {
		*why = "the checkpoint that the anchor names is damaged or missing";
		return -EINVAL;
	}
	return 0;
}

/*
 * Derive references, the free list, the index and segment usage from the
 * replayed maps, checking every cross reference.
 */
static int __ilio_rebuild(struct ilio_core *ic, u64 log_seq, const char **why)
{
	struct ilio_plog *pl = ic->pl;
	struct ilio_segs *s = &ic->segs;
	struct ilio_lbamap *m = &ic->map;
	u64 i;
	u32 k, cid;

	m->mapped = 0;
	ic->nr_damaged = 0;
	for (i = 0; i < m->nr_leaves; i++) {
		u32 *leaf = m->dir[i];

		if ((i & 4095) == 4095)
			cond_resched();
		if (!leaf)
			continue;
		for (k = 0; k < ILIO_LBAMAP_LEAF_ENTRIES; k++) {
			cid = leaf[k];
			if (!cid)
				continue;
			if (cid >= ic->chunks.next_new ||
			    !ilio_chunk_loc(&ic->chunks, cid)) {
				*why = "an LBA maps to a chunk that has no location";
				return -EINVAL;
			}
			if (__ilio_chunk_count_ref(&ic->chunks, cid)) {
				*why = "a chunk has too many references";
				return -EINVAL;
			}
			m->mapped++;
		}
		cond_resched();
	}
	__ilio_chunks_rebuild(&ic->chunks);
	ic->stored_bytes = 0;
	for (cid = 1; cid < ic->chunks.next_new; cid++) {
		u64 loc;
		u32 sg, len;

		if ((cid & 4095) == 0)
			cond_resched();
		if (!ilio_chunk_ref(&ic->chunks, cid))
			continue;
		loc = ilio_chunk_loc(&ic->chunks, cid);
		if (ilio_loc_damaged(loc)) {
			ic->nr_damaged++;
			continue;
		}
		sg = ilio_loc_seg(loc);
		len = ilio_loc_len(loc);
		if (sg >= s->nr_segs || !len || len > ILIO_BLOCK_SIZE ||
		    ilio_loc_off(loc) + ilio_rec_bytes(len) > s->seg_bytes ||
		    (!ilio_loc_lz4(loc) && len != ILIO_BLOCK_SIZE)) {
			*why = "a chunk location is outside the device";
			return -EINVAL;
		}
		s->segs[sg].live += ilio_rec_bytes(len);
		ic->stored_bytes += len;
	}
	pl->nr_free = 0;
	__ilio_segs_untrack_all(s);
	for (k = 0; k < s->nr_segs; k++) {
		struct ilio_seg *seg = &s->segs[k];

		if (seg->live || seg->last_seq >= log_seq) {
			seg->state = ILIO_SEG_SEALED;
			seg->used = s->seg_bytes;
			seg->closed = s->seg_bytes;
			seg->written = s->seg_bytes;
			__ilio_seg_track(s, k);
		} else {
			seg->state = ILIO_SEG_FREE;
			pl->nr_free++;
		}
		if ((k & 4095) == 4095)
			cond_resched();
	}
	return 0;
}

/* What a read of the two anchor slots found. */
#define ILIO_SLOT_BLANK		0	/* all zeroes: never written (format) */
#define ILIO_SLOT_VALID		1
#define ILIO_SLOT_DAMAGED	2	/* written once, now fails validation */

/**
 * struct ilio_anchors - both anchor slots as recovery found them
 * @a: the content of each valid slot
 * @state: ILIO_SLOT_* per slot
 * @why: the validator's reason for each damaged slot
 * @newest: the valid slot with the highest sequence number, or -1
 * @chain_damaged: set by ilio_core_recover() when replay or rebuild found
 *	the chain invalid (the only failure that may allow a fallback)
 */
struct ilio_anchors {
	struct ilio_anchor_info a[2];
	int state[2];
	const char *why[2];
	int newest;
	bool chain_damaged;
};

/* Read and validate the superblock (either copy) and both anchor slots. */
static int ilio_plog_read_meta(struct ilio_core *ic, u64 dev_bytes,
			       struct ilio_anchors *an, const char **why)
{
	struct ilio_plog *pl = ic->pl;
	const char *why0 = NULL, *why1;
	int ret, r0 = -EINVAL, i;

	for (i = 0; i < 2; i++) {
		ret = pl->ops->read(pl->priv, (u64)(ILIO_SB_BLOCK + i) *
				    ILIO_BLOCK_SIZE, pl->blk, ILIO_BLOCK_SIZE);
		if (ret) {
			*why = "cannot read the superblock";
			return -EIO;
		}
		ret = ilio_sb_check(pl->blk, ILIO_SB_BLOCK + i, dev_bytes, &pl->g,
				    i ? &why1 : &why0);
		if (!ret)
			break;
		if (!i)
			r0 = ret;
	}
	if (ret) {
		*why = why0;
		return r0 == -ENOENT ? -ENOENT : -EINVAL;
	}
	an->newest = -1;
	for (i = 0; i < 2; i++) {
		ret = pl->ops->read(pl->priv, (u64)(ILIO_ANCHOR_BLOCK + i) *
				    ILIO_BLOCK_SIZE, pl->blk, ILIO_BLOCK_SIZE);
		if (ret) {
			*why = "cannot read the anchors";
			return -EIO;
		}
		an->why[i] = NULL;
		if (!ilio_anchor_check(pl->blk, ILIO_ANCHOR_BLOCK + i, &pl->g,
				       &an->a[i], &an->why[i]))
			an->state[i] = ILIO_SLOT_VALID;
		else if (!memchr_inv(pl->blk, 0, ILIO_BLOCK_SIZE))
			an->state[i] = ILIO_SLOT_BLANK;
		else
			an->state[i] = ILIO_SLOT_DAMAGED;
		if (an->state[i] == ILIO_SLOT_VALID &&
		    (an->newest < 0 || an->a[i].seq > an->a[an->newest].seq))
			an->newest = i;
	}
	if (an->newest < 0) {
		*why = an->why[1] ? an->why[1] : an->why[0] ? an->why[0] :
		       "no anchor slot was ever written";
		return -EINVAL;
	}
	return 0;
}

/**
 * ilio_plog_free() - free the persistent state (no I/O)
 * @pl: state, or NULL
 */
void ilio_plog_free(struct ilio_plog *pl)
{
	if (!pl)
		return;
	kvfree(pl->sum);
	kvfree(pl->wbq);
	vfree(pl->buf);
	kfree(pl->blk);
	kfree(pl->vbuf);
	kfree(pl->rbuf);
	mutex_destroy(&pl->wb_mutex);
	mutex_destroy(&pl->ckpt_mutex);
	mutex_destroy(&pl->rbuf_mutex);
	kfree(pl);
}

/* Allocate the persistent state; the geometry is read later. */
static struct ilio_plog *ilio_plog_alloc(const struct ilio_core_params *p)
{
	struct ilio_plog *pl = kzalloc(sizeof(*pl), GFP_KERNEL);

	if (!pl)
		return NULL;
	mutex_init(&pl->wb_mutex);
	mutex_init(&pl->ckpt_mutex);
	mutex_init(&pl->rbuf_mutex);
	pl->ops = p->bops;
	pl->priv = p->bpriv;
	pl->read_only = p->read_only;
	pl->coalesce = p->coalesce;
	pl->flush_interval_ms = p->flush_interval_ms;
	pl->nr_blocks = p->nr_blocks;
	pl->next_seg = ILIO_SEG_NONE;
	pl->blk = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
	pl->vbuf = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
	pl->rbuf = kmalloc(ILIO_RBUF_BYTES, GFP_KERNEL);
	if (!pl->blk || !pl->vbuf || !pl->rbuf) {
		ilio_plog_free(pl);
		return NULL;
	}
	return pl;
}

/*
 * Recover the maps from anchor slot @slot: replay its chain and rebuild
 * everything derived.  Writes nothing.  On success pl->next_seq is one
 * past the chain's last unit.
 */
static struct ilio_core *
ilio_core_recover(const struct ilio_core_params *p, struct ilio_anchors *an,
		  int slot, int *err, const char **why)
{
	struct ilio_anchor_info a;
	struct ilio_core *ic;
	struct ilio_plog *pl;
	int ret, i;

	*why = "out of memory";
	ic = ilio_core_alloc(p, err);
	if (!ic) {
		if (*err == -E2BIG || *err == -EFBIG)
			*why = *err == -E2BIG ?
				"ram_mb is too small for the LBA map of this length" :
				"Target length too large (at most 512 TiB)";
		return NULL;
	}
	pl = ilio_plog_alloc(p);
	ic->pl = pl;
	ret = pl ? ilio_cache_init(&ic->cache, p->ram_limit, &ic->lock) : -ENOMEM;
	if (ret)
		goto fail;

	ret = ilio_plog_read_meta(ic, p->dev_bytes, an, why);
	if (ret)
		goto fail;
	/* The superblock's key (0 for a store formatted before keyed hashing). */
	ic->hash_seed = pl->g.hash_seed;
	/* A size mismatch is a refusal, never a reason to try another anchor. */
	for (i = 0; i < 2; i++) {
		if (an->state[i] == ILIO_SLOT_VALID && an->a[i].nr_blocks &&
		    an->a[i].nr_blocks != p->nr_blocks) {
			*why = "the store on this device has another size than the table";
			ret = -EINVAL;
			goto fail;
		}
	}
	if (slot < 0)
		slot = an->newest;
	if (an->state[slot] != ILIO_SLOT_VALID) {
		*why = "internal: recovery from an invalid anchor";
		ret = -EINVAL;
		goto fail;
	}
	a = an->a[slot];
	/* The next anchor goes to the other slot, with a higher seq than both. */
	pl->anchor_slot = slot;
	pl->anchor_seq = a.seq;
	if (an->state[1 - slot] == ILIO_SLOT_VALID)
		pl->anchor_seq = max(a.seq, an->a[1 - slot].seq);
	pl->anchor = a;
	ret = ilio_plog_geom_fits(ic, why);
	if (!ret)
		ret = ilio_segs_init_disk(&ic->segs, pl->g.nr_segs, pl->g.seg_bytes,
					  &ic->lock);
	if (ret)
		goto fail;
	pl->sum_cap = pl->g.seg_bytes / sizeof(struct ilio_sum_ent);
	pl->sum = kvcalloc(pl->sum_cap, sizeof(*pl->sum), GFP_KERNEL);
	pl->wbq = kvcalloc(pl->g.nr_segs, sizeof(u32), GFP_KERNEL);
	pl->buf = vmalloc(pl->g.seg_bytes);
	if (!pl->sum || !pl->wbq || !pl->buf) {
		ret = -ENOMEM;
		goto fail;
	}
	pl->max_dirty = max_t(u64, p->max_dirty, 2ULL * pl->g.seg_bytes);
	pl->epoch = a.epoch;

	ret = ilio_replay(ic, &a, why);
	if (!ret) {
		mutex_lock(&ic->lock);
		ret = __ilio_rebuild(ic, a.log_seq, why);
		/* Metadata with the reserve buffer, and one more segment. */
		if (!ret && __ilio_ram_used(ic) + pl->g.seg_bytes >
		    ic->ram_limit) {
			*why = "ram_mb is too small for the metadata of this store";
			ret = -E2BIG;
		}
		mutex_unlock(&ic->lock);
	}
	an->chain_damaged = ret == -EINVAL;
	if (ret)
		goto fail;
	pl->ckpt_start_seq = a.log_seq;
	pl->prev_ckpt_start = a.log_seq;
	pl->written_seq = pl->next_seq - 1;
	pl->durable_seq = pl->written_seq;
	pl->closed_seq = pl->written_seq;
	return ic;
fail:
	*err = ret;
	ilio_core_destroy(ic);
	return NULL;
}

/*
 * May recovery use the older anchor @o because the newest one, @n, failed?
 * Only when the older chain provably covers everything the newer anchor
 * made durable: it is the same chain (same epoch, so the newer checkpoint
 * and everything after it are units of the older anchor's chain too) and
 * its replay went past the newer checkpoint's last unit, so that from
 * there on both replays read the very same units.  Replay from @o then
 * ends where replay from @n would have ended.
 */
static bool ilio_fallback_covers(const struct ilio_anchor_info *n,
				 const struct ilio_anchor_info *o, u64 next_seq)
{
	return o->epoch == n->epoch && o->seq < n->seq && n->ckpt_end &&
	       next_seq > n->ckpt_end;
}

/**
 * ilio_core_open() - open (recover) a persistent store
 * @p: parameters, with @bops set
 * @err: set on failure: -ENOENT (not an ilio device), -EINVAL (damaged,
 *	or another size than @p), -EIO, -ENOMEM, -E2BIG (RAM budget too
 *	small)
 * @why: set on failure: a static string for the admin
 *
 * DOC: recovery rules
 *
 * - A size mismatch is always a refusal, never a reason to try another
 *   anchor.
 * - An I/O error while reading the metadata or the log fails the open; it
 *   never opens an older state.
 * - The newest valid anchor is replayed.  If its chain is damaged, the
 *   other anchor is used only when its chain provably covers everything
 *   the newest one made durable (ilio_fallback_covers()); otherwise the
 *   open is refused and nothing is written.
 * - A slot that fails validation but is not blank (all zeroes, as format
 *   leaves it) is damaged.  The remaining valid anchor is used only if it
 *   is not the format anchor: every completed open writes the new epoch's
 *   anchor into both slots, so the other valid anchor of a completed open
 *   is of the same chain as the damaged one, and its replay covers it.
 * - Nothing is written (no new epoch, no checkpoint) until the recovered
 *   state has passed replay and rebuild.  Unless @p->read_only, the open
 *   then starts a new chain (a fresh epoch) with a checkpoint, and names
 *   it in both anchor slots, so that units of the old chain that were
 *   never acknowledged can never be mistaken for new ones and no anchor
 *   of an older chain survives as a fallback.
 *
 * Return: the core, or NULL.
 */
struct ilio_core *ilio_core_open(const struct ilio_core_params *p, int *err,
				 const char **why)
{
	struct ilio_anchors an;
	struct ilio_core *ic;
	const char *why2;
	int n, o, err2, ret;

	an.newest = -1;
	an.chain_damaged = false;
	ic = ilio_core_recover(p, &an, -1, err, why);
	if (!ic && (!an.chain_damaged || an.newest < 0))
		return NULL;	/* I/O error, size, memory, no anchor: final */
	n = an.newest;
	o = 1 - n;
	if (an.state[o] == ILIO_SLOT_DAMAGED && !an.a[n].ckpt_end &&
	    !an.a[n].nr_blocks) {
		/* Only the format anchor is valid: never open an empty store. */
		ilio_core_destroy(ic);
		*err = -EINVAL;
		*why = "an anchor is damaged, the other is the format one (reformat if never used)";
		return NULL;
	}
	if (!ic) {
		struct ilio_anchors an2;

		if (an.state[o] != ILIO_SLOT_VALID)
			return NULL;
		ic = ilio_core_recover(p, &an2, o, &err2, &why2);
		if (!ic)
			return NULL;	/* report the newest anchor's problem */
		if (!ilio_fallback_covers(&an.a[n], &an.a[o], ic->pl->next_seq)) {
			ilio_core_destroy(ic);
			return NULL;
		}
		ic->pl->fallback = true;
	}
	if (p->read_only)
		return ic;
	ic->pl->epoch = get_random_u64();
	ret = ilio_core_checkpoint(ic);
	if (!ret)
		ret = ilio_plog_anchor_both(ic);
	if (ret) {
		*err = ret;
		*why = ret == -ENOSPC ?
			"no free space on the backing device for a checkpoint" :
			"cannot write to the backing device";
		ilio_core_destroy(ic);
		return NULL;
	}
	return ic;
}

/**
 * ilio_core_close() - write everything back, checkpoint, and free
 * @ic: core, or NULL; no other call may be in progress
 *
 * Return: 0, or the error that kept data from reaching the device (the
 * core is freed either way).
 */
int ilio_core_close(struct ilio_core *ic)
{
	int ret = 0;

	if (ic && ic->pl && !ic->pl->read_only)
		ret = ilio_core_quiesce(ic);
	ilio_core_destroy(ic);
	return ret;
}

/**
 * ilio_core_quiesce() - write everything back and checkpoint if needed
 * @ic: core
 *
 * For suspend and close: afterwards the backing device holds every write
 * and a checkpoint that makes the next recovery short.  The checkpoint is
 * skipped when nothing changed since the last one.
 *
 * Return: 0, or the error that kept data from reaching the device.
 */
int ilio_core_quiesce(struct ilio_core *ic)
{
	struct ilio_plog *pl = ic->pl;
	bool changed;
	int ret;

	if (!pl || pl->read_only)
		return 0;
	ret = ilio_core_flush(ic);
	if (ret)
		return ret;
	mutex_lock(&ic->lock);
	changed = pl->front_ops != pl->ckpt_front;
	mutex_unlock(&ic->lock);
	return changed ? ilio_core_checkpoint(ic) : 0;
}

/**
 * ilio_core_error() - the sticky backend error of a persistent core
 * @ic: core
 *
 * Return: 0 while healthy.
 */
int ilio_core_error(struct ilio_core *ic)
{
	return ic->pl ? READ_ONCE(ic->pl->error) : 0;
}

/**
 * ilio_core_persistent() - does this core have a backing device?
 * @ic: core
 *
 * Return: true in persistent mode.
 */
bool ilio_core_persistent(struct ilio_core *ic)
{
	return ic->pl;
}

/**
 * ilio_core_used_fallback() - did recovery use the older anchor?
 * @ic: core
 *
 * Return: true when the newest anchor's chain was damaged and the older
 * anchor's chain, which provably covers it, was replayed instead.
 */
bool ilio_core_used_fallback(struct ilio_core *ic)
{
	return ic->pl && ic->pl->fallback;
}

/**
 * ilio_core_set_coalesce() - change the coalescing policy (table reload)
 * @ic: core
 * @coalesce: enum ilio_coalesce
 * @flush_interval_ms: coalesce auto: oldest unwritten data
 * @max_dirty: unwritten bytes before writers write back themselves
 */
void ilio_core_set_coalesce(struct ilio_core *ic, int coalesce,
			    u32 flush_interval_ms, u64 max_dirty)
{
	struct ilio_plog *pl = ic->pl;

	if (!pl)
		return;
	mutex_lock(&ic->lock);
	pl->coalesce = coalesce;
	pl->flush_interval_ms = flush_interval_ms;
	pl->max_dirty = max_t(u64, max_dirty, 2ULL * pl->g.seg_bytes);
	mutex_unlock(&ic->lock);
}
