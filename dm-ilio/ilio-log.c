// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-log: the persistent store's log - units, write-back, flush, and
 * reading records back from the device; and the store's ops.
 *
 * Locking: see ilio-plog.h.  Functions named __ilio_plog_* expect
 * sp->lock held; the others take what they need and may sleep.
 *
 * How does a random 4 KiB write become a large sequential one?
 *
 *   Records and map changes go into the open unit of the open segment, a
 *   RAM buffer.  A unit is closed when the segment is full, when a flush
 *   needs it, or (coalesce auto) when it got old.  Write-back sends each
 *   segment's closed, unwritten bytes as one write: a whole segment when
 *   nothing forced a partial one.  Up to ILIO_WB_DEPTH such writes are in
 *   flight at once.
 *
 * Who checksums a unit, and when?
 *
 *   Closing a unit (under the lock) writes its header with a zero
 *   checksum.  A closed unit's bytes never change again, so write-back
 *   computes the crc32c of each unit it is about to submit with the lock
 *   dropped (ilio_wb_seal()), exactly once: a claimed range is never
 *   claimed again.
 *   Nothing reads a unit's checksum from RAM: recovery, GC and the check
 *   read units from the device, which only ever receives sealed units;
 *   the finalize walk and record reads parse headers and records, which
 *   the checksum does not change.
 *
 * How can writes complete out of order and flushes still be honest?
 *
 *   Writes are submitted in log order and kept in a ring in that order.
 *   A completion only marks its entry; write-back retires entries from
 *   the ring's head, and stops at the first that has not completed.  Only
 *   retiring advances seg->written and @written_seq, so a later write
 *   that completes first is not counted until every earlier one has
 *   completed too.  A device flush then promises exactly the retired
 *   units, and a segment buffer is freed only once its last byte is
 *   retired.  A failed write (after one retry) sets the sticky error,
 *   and nothing after it is retired: the durable point stops before it.
 *
 * Dirty bytes by class: how are they kept without a walk?
 *
 *   Appending a record adds its bytes (ilio_rec_bytes()) to @dirty_cls
 *   and @unit_cls under the class its chunk has then.  Closing the unit
 *   queues @unit_cls with the unit's sequence number on @dq, and
 *   retiring pops every entry whose unit @written_seq has reached,
 *   subtracting it: what was added is what is taken away, whatever
 *   classes hints give the chunks meanwhile (a record dropped at close,
 *   dead, is taken away under the class it was added under, which its
 *   summary entry carries until then).  @dq holds ILIO_DIRTY_Q
 *   entries; when it is full a unit joins the newest entry, whose bytes
 *   then leave only with the later unit: the figure may lag write-back by
 *   that entry while write-back runs behind, and is exact whenever it has
 *   caught up (after a flush: 0 in every class).  Header, summary and
 *   checkpoint bytes are in @dirty only.
 *
 * Why may a closing unit leave records out?
 *
 *   Nothing of the open unit has left RAM, and replay applies a unit
 *   whole or not at all.  A record whose chunk died before the unit
 *   closed is referenced by no LBA at the end of the unit, and every map
 *   entry that named it is followed in the same unit by the one that
 *   took its LBA away: dropping the record and its ILIO_SUM_CHUNK entry
 *   leaves the unit's final effect as it was (__ilio_plog_elide(); the
 *   argument in full is in Documentation/ilio-design.rst, "Late
 *   write-back of temp, and dead records").  That is what makes holding
 *   a temp-only unit open longer (__ilio_plog_hold_temp()) pay: a temp
 *   file deleted meanwhile is never written.
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
#include <linux/wait.h>
#include <linux/spinlock.h>
#include <asm/barrier.h>

#include "ilio-plog.h"

/**
 * ilio_plog_mem_bytes() - RAM held by the persistent state itself
 * @pl: state
 *
 * Return: bytes (summary buffer, write-back queue, scratch, the reserve
 * read buffer, the class map's save buffer).
 */
u64 ilio_plog_mem_bytes(const struct ilio_plog *pl)
{
	return (u64)pl->sum_cap * ILIO_SUM_ENT +
	       (u64)pl->g.nr_segs * sizeof(u32) + pl->g.seg_bytes +
	       2 * ILIO_BLOCK_SIZE + ILIO_RBUF_BYTES + sizeof(*pl) +	/* blk, vbuf */
	       ilio_journal_mem_bytes(pl->jn) +
	       (pl->cmap_cap ? ilio_cmap_len(pl->cmap_cap) : 0);
}

/* Bytes a checkpoint of the current maps takes in the log, at most. */
u64 __ilio_plog_ckpt_bytes(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	u64 leaves = sp->map.leaves_allocated * ILIO_CKPT_MAP_BYTES +
		     (u64)sp->chunks.nr_leaves * ILIO_CKPT_CHUNK_BYTES;

	/* One header block per unit; units hold at most 256 KiB of leaves. */
	return leaves + (leaves / ILIO_CKPT_UNIT_MAX + 2) * 2 * ILIO_BLOCK_SIZE;
}

/*
 * Free segments that must stay free for a writer at @level: user writes
 * leave enough for GC to work and then a checkpoint; GC (and discards)
 * leave enough for the checkpoint; a checkpoint may use everything.
 */
/* Segments a checkpoint of the current maps takes, at most. */
u32 __ilio_plog_ckpt_segs(struct ilio_plog *pl)
{
	u64 per = pl->g.seg_bytes - 4 * ILIO_BLOCK_SIZE;

	return (u32)min_t(u64, (__ilio_plog_ckpt_bytes(pl) + per - 1) / per + 1,
			  pl->g.nr_segs / 4);
}

u32 __ilio_plog_reserve(struct ilio_plog *pl, int level)
{
	u64 ckpt = __ilio_plog_ckpt_segs(pl);

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
void __ilio_plog_fit_ram(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;

	__ilio_ram_trim(sp, sp->ram_limit);
	while (__ilio_ram_used(sp) > sp->ram_limit &&
	       __ilio_cache_evict_one(&sp->cache))
		;
}

static void __ilio_wbq_push(struct ilio_plog *pl, u32 seg)
{
	pl->wbq[(pl->wbq_head + pl->wbq_len) % pl->g.nr_segs] = seg;
	pl->wbq_len++;
}

/*
 * Finish the unit at [@off, @end) of the open segment: header fields,
 * and queue it for write-back, which checksums it (ilio_wb_seal()).  The
 * header block is zeroed and holds anything type-specific already.
 * Return: its sequence number.
 */
u64 __ilio_plog_finish_unit(struct ilio_plog *pl, u32 off, u32 end,
			    u16 type, u32 rec, u32 nents)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_seg *seg = &sp->segs.segs[sp->segs.open];
	void *h = seg->data + off;
	u64 seq = pl->next_seq++;
	struct ilio_unit_info u = {
		.blocknr = ilio_seg_block(&pl->g, sp->segs.open) +
			   off / ILIO_BLOCK_SIZE,
		.type = type,
		.epoch = pl->epoch,
		.seq = seq,
		.len = end - off,
		.next_seg = pl->next_seg,
		.rec_bytes = rec,
		.nr_ents = nents,
	};

	ilio_unit_hdr_pack(h, &u);

	if (seg->closed == seg->written)
		__ilio_wbq_push(pl, sp->segs.open);
	if (pl->wb_nr && pl->wb_nr < ILIO_WB_DEPTH && !pl->wb_more) {
		/* Write-back waits for a completion, but can send this now. */
		WRITE_ONCE(pl->wb_more, true);
		wake_up(&pl->wb_wait);
	}
	pl->dirty += end - seg->used;
	pl->log_bytes += end - off;
	seg->used = end;
	seg->closed = end;
	seg->last_seq = seq;
	pl->closed_seq = seq;
	return seq;
}

/* Queue the open unit's record bytes by class: unit @seq just closed. */
static void __ilio_dirty_queue(struct ilio_plog *pl, u64 seq)
{
	struct ilio_dirty_ent *d;
	int i;

	if (pl->dq_len == ILIO_DIRTY_Q) {	/* full: join the newest */
		d = &pl->dq[(pl->dq_head + pl->dq_len - 1) % ILIO_DIRTY_Q];
	} else {
		d = &pl->dq[(pl->dq_head + pl->dq_len++) % ILIO_DIRTY_Q];
		memset(d->bytes, 0, sizeof(d->bytes));
	}
	d->seq = seq;
	for (i = 0; i < ILIO_NR_CLASSES; i++) {
		d->bytes[i] += pl->unit_cls[i];
		pl->unit_cls[i] = 0;
	}
}

/* The queued bytes of every unit up to @written_seq are written. */
static void __ilio_dirty_retire(struct ilio_plog *pl)
{
	int i;

	while (pl->dq_len && pl->dq[pl->dq_head].seq <= pl->written_seq) {
		struct ilio_dirty_ent *d = &pl->dq[pl->dq_head];

		for (i = 0; i < ILIO_NR_CLASSES; i++)
			pl->dirty_cls[i] -= d->bytes[i];
		pl->dq_head = (pl->dq_head + 1) % ILIO_DIRTY_Q;
		pl->dq_len--;
	}
}

/*
 * In RAM only, the ILIO_SUM_CHUNK entries of the open unit carry the
 * class their chunk had at append (the class @unit_cls and @dirty_cls
 * counted the record under) in these bits of the argument, above the
 * record offset; __ilio_plog_elide() takes it off before the summary
 * goes into the unit.
 */
#define ILIO_SUM_CLS_SHIFT	48
#define ILIO_SUM_OFF_MASK	((1ULL << ILIO_SUM_CLS_SHIFT) - 1)

/*
 * Is the record of summary entry @s (an ILIO_SUM_CHUNK one) of segment
 * @idx still where its chunk lives?  *@ri gets its header.
 */
static bool __ilio_plog_rec_live(struct ilio_plog *pl, u32 idx,
				 const struct ilio_sum_info *s,
				 struct ilio_rec_info *ri)
{
	struct ilio_space *sp = pl->base.sp;
	u32 off = (u32)(s->arg & ILIO_SUM_OFF_MASK);
	ilio_cid_t cid;

	ilio_rec_unpack((const void *)(sp->segs.segs[idx].data + off), ri);
	cid = ilio_to_cid(ri->cid);
	return ilio_chunk_valid(&sp->chunks, cid) &&
	       ilio_chunk_loc(&sp->chunks, cid) ==
	       ilio_to_loc(ilio_rec_make_loc(idx, off, ri));
}

/*
 * Dead-record elision: the open unit is closing, and nothing of it has
 * left RAM.  A record whose chunk no longer lives there (overwritten or
 * discarded since, or moved on by a later record) is dropped with its
 * ILIO_SUM_CHUNK entry, and the live records after it move down, their
 * chunks' locations and entries following.  The map entries all stay:
 * every one that names a dropped record's chunk is followed, in this
 * same unit, by the entry that took its LBA away (the chunk had no
 * reference left when the unit closed), and replay applies a unit whole
 * or not at all (see "Dead records" in Documentation/ilio-design.rst).
 * Nothing moves while a reader holds the segment (a pin: it copies from
 * the buffer with the lock dropped) or when the records are not exactly
 * the entries' (a WARN: never expected); the class bits come off anyway.
 */
static void __ilio_plog_elide(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	u32 idx = sp->segs.open, start = pl->unit_off + ILIO_BLOCK_SIZE;
	struct ilio_seg *seg = &sp->segs.segs[idx];
	u32 i, n = 0, src = start, dst = start, bytes;
	bool move = !seg->pins, live;
	struct ilio_rec_info ri;
	struct ilio_sum_info s;
	ilio_cid_t cid;
	int cls;

	lockdep_assert_held_write(&sp->lock);
	for (i = 0; move && i < pl->nr_sum; i++) {
		ilio_sum_unpack(&pl->sum[i], &s);
		if (s.kind != ILIO_SUM_CHUNK)
			continue;
		if (WARN_ON((u32)(s.arg & ILIO_SUM_OFF_MASK) != src))
			move = false;
		ilio_rec_unpack((const void *)(seg->data + src), &ri);
		src += ilio_rec_bytes(ri.len);
	}
	if (move && WARN_ON(src != seg->used))
		move = false;
	for (i = 0; i < pl->nr_sum; i++) {
		ilio_sum_unpack(&pl->sum[i], &s);
		if (s.kind != ILIO_SUM_CHUNK) {
			pl->sum[n++] = pl->sum[i];
			continue;
		}
		cls = (int)(s.arg >> ILIO_SUM_CLS_SHIFT) & 0xf;
		if (cls >= ILIO_NR_CLASSES)
			cls = ILIO_CLASS_NORMAL;
		live = __ilio_plog_rec_live(pl, idx, &s, &ri);
		s.arg &= ILIO_SUM_OFF_MASK;
		bytes = ilio_rec_bytes(ri.len);
		if (move && !live) {
			pl->dirty -= bytes;
			pl->dirty_cls[cls] -= bytes;
			pl->unit_cls[cls] -= bytes;
			sp->st.elided_bytes += bytes;
			continue;
		}
		if (move && s.arg != dst) {
			memmove(seg->data + dst, seg->data + s.arg, bytes);
			if (live) {
				cid = ilio_to_cid(ri.cid);
				ilio_chunk_set_loc(&sp->chunks, cid,
						   ilio_to_loc(ilio_rec_make_loc(idx, dst, &ri)));
			}
			s.arg = dst;
		}
		dst += bytes;
		ilio_sum_pack(&pl->sum[n++], &s);
	}
	pl->nr_sum = n;
	if (move)
		seg->used = dst;
}

/*
 * Close the open data unit: dead records out, summary after the
 * records, padding to a block, header.  The unit is then ready for
 * write-back, which checksums it.
 */
void __ilio_plog_close_unit(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_seg *seg;
	u32 off, rec, end;
	u64 seq;

	if (!pl->unit_open)
		return;
	seg = &sp->segs.segs[sp->segs.open];
	off = pl->unit_off;
	__ilio_plog_elide(pl);
	rec = seg->used - off - ILIO_BLOCK_SIZE;
	pl->unit_open = false;
	if (!rec && !pl->nr_sum) {
		seg->used = off;	/* nothing in it: take the header back */
		pl->dirty -= ILIO_BLOCK_SIZE;
		return;
	}
	/* pl->sum holds the entries packed already. */
	memcpy(seg->data + seg->used, pl->sum, pl->nr_sum * ILIO_SUM_ENT);
	end = ilio_align_blk(seg->used + pl->nr_sum * ILIO_SUM_ENT);
	memset(seg->data + seg->used + pl->nr_sum * ILIO_SUM_ENT, 0,
	       end - seg->used - pl->nr_sum * ILIO_SUM_ENT);
	memset(seg->data + off, 0, ILIO_BLOCK_SIZE);
	seq = __ilio_plog_finish_unit(pl, off, end, ILIO_UNIT_DATA, rec, pl->nr_sum);
	pl->nr_sum = 0;
	__ilio_dirty_queue(pl, seq);
}

/**
 * __ilio_plog_hold_temp() - may the open unit stay open past
 *	flush_interval_ms?
 * @pl: persistent core, locked
 *
 * Late write-back of temp data: yes while it holds temp records and
 * nothing but temp data (every record and map entry of a temp chunk;
 * unmaps do not count), and unwritten data takes at most half of
 * max_dirty_mb.  Flushes, checkpoints, a full segment and memory
 * pressure close it as any other.
 *
 * Return: true to hold it (ILIO_TEMP_HOLD_FACTOR times longer).
 */
bool __ilio_plog_hold_temp(struct ilio_plog *pl)
{
	lockdep_assert_held_write(&pl->base.sp->lock);
	return pl->unit_open && pl->unit_temp_only &&
	       pl->unit_cls[ILIO_CLASS_TEMP] && pl->dirty <= pl->max_dirty / 2;
}

/*
 * Walk the records of the data units in a segment image (RAM buffer or a
 * copy read from disk) and call @fn for each, with its decoded header
 * and its payload.  The image is not trusted: the walk stops at the first
 * header that does not parse (ilio_rec_fits()).
 */
void ilio_plog_walk(const u8 *img, u32 used, u32 seg_bytes,
		    void (*fn)(struct ilio_plog *pl, u32 seg, u32 off,
			       const struct ilio_rec_info *ri,
			       const void *payload),
		    struct ilio_plog *pl, u32 seg)
{
	u32 off = 0;

	while (off + ILIO_BLOCK_SIZE <= used) {
		struct ilio_unit_info u;
		bool magic = ilio_unit_hdr_unpack(img + off, &u);
		u32 r = off + ILIO_BLOCK_SIZE, rend;

		if (!magic || u.len < ILIO_BLOCK_SIZE || u.len % ILIO_BLOCK_SIZE ||
		    u.len > seg_bytes - off)
			break;
		if (u.type == ILIO_UNIT_DATA &&
		    u.rec_bytes <= u.len - ILIO_BLOCK_SIZE) {
			rend = r + u.rec_bytes;
			while (r + sizeof(struct ilio_chunk_hdr) <= rend) {
				const struct ilio_chunk_hdr *rh = (const void *)(img + r);
				struct ilio_rec_info ri;

				ilio_rec_unpack(rh, &ri);
				if (!ilio_rec_fits(&ri, r, rend))
					break;
				fn(pl, seg, r, &ri, rh + 1);
				r += ilio_rec_bytes(ri.len);
			}
		}
		off += u.len;
	}
}

static void __ilio_plog_cache_rec(struct ilio_plog *pl, u32 seg, u32 off,
				  const struct ilio_rec_info *ri,
				  const void *payload)
{
	struct ilio_space *sp = pl->base.sp;
	ilio_loc_t loc = ilio_to_loc(ilio_rec_make_loc(seg, off, ri));
	ilio_cid_t cid = ilio_to_cid(ri->cid);

	if (!ilio_chunk_valid(&sp->chunks, cid) ||
	    ilio_chunk_loc(&sp->chunks, cid) != loc)
		return;
	__ilio_cache_insert(&sp->cache, cid, payload, ilio_loc_len(loc),
			    ilio_loc_lz4(loc));
}

/* A sealed segment is written whole: may its buffer go? */
static bool __ilio_plog_finalizable(struct ilio_plog *pl, u32 idx)
{
	struct ilio_seg *seg = &pl->base.sp->segs.segs[idx];

	return !seg->pins && seg->data && seg->state == ILIO_SEG_SEALED &&
	       seg->written == seg->used;
}

/* Its live chunks are in the cache: drop the buffer, track the segment. */
static void __ilio_plog_drop_written(struct ilio_plog *pl, u32 idx)
{
	struct ilio_space *sp = pl->base.sp;

	__ilio_seg_drop_buf(&sp->segs, idx);	/* the reserve first */
	__ilio_seg_track(&sp->segs, idx);	/* a GC candidate, or waiting */
	__ilio_plog_fit_ram(pl);
}

/**
 * __ilio_plog_finalize() - drop the buffer of a sealed, written segment
 * @pl: persistent core, locked
 * @idx: segment
 *
 * Its live chunks move to the clean cache (as probationary entries) and
 * its buffer is freed; nothing happens while it is pinned or not yet
 * fully written.  Write-back does the same with the copies made outside
 * the lock (ilio_wb_finalize()); this is for the other callers (a
 * reader's release, the journal, seal, recovery).
 */
void __ilio_plog_finalize(struct ilio_plog *pl, u32 idx)
{
	struct ilio_space *sp = pl->base.sp;

	if (!__ilio_plog_finalizable(pl, idx))
		return;
	ilio_plog_walk(sp->segs.segs[idx].data, sp->segs.segs[idx].used,
		       sp->segs.seg_bytes, __ilio_plog_cache_rec, pl, idx);
	__ilio_plog_drop_written(pl, idx);
}

/* A segment written whole, to finalize with the lock dropped. */
struct ilio_wb_fin {
	u32 seg;
	u32 used;
	u8 *data;	/* the pin keeps it; nobody changes it */
};

/* Link the prepared entries whose chunk still lives where they were. */
static void __ilio_wb_link(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	u32 i;

	for (i = 0; i < pl->fin_nr; i++) {
		struct ilio_fin_ent *f = &pl->fin[i];
		ilio_cid_t cid = f->e->cid;

		if (ilio_chunk_valid(&sp->chunks, cid) &&
		    ilio_chunk_loc(&sp->chunks, cid) == f->loc)
			__ilio_cache_link(&sp->cache, f->e);
		else
			ilio_centry_free(f->e);
	}
	pl->fin_nr = 0;
}

/* Walk callback: copy one record for the cache, unlocked. */
static void ilio_wb_fin_rec(struct ilio_plog *pl, u32 seg, u32 off,
			    const struct ilio_rec_info *ri, const void *payload)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_fin_ent *f = &pl->fin[pl->fin_nr];

	f->loc = ilio_to_loc(ilio_rec_make_loc(seg, off, ri));
	f->e = ilio_centry_new(ilio_to_cid(ri->cid), payload,
			       ilio_loc_len(f->loc), ilio_loc_lz4(f->loc));
	if (f->e && ++pl->fin_nr == ILIO_FIN_BATCH) {
		down_write(&sp->lock);
		__ilio_wb_link(pl);
		/* The buffer is still charged: the budget holds at every unlock. */
		__ilio_plog_fit_ram(pl);
		up_write(&sp->lock);
	}
}

/*
 * Finalize segment @idx, which __ilio_wb_retire() found written whole and
 * pinned: the lock is not held.  The buffer of a sealed, written segment
 * never changes again and the pin keeps it, so its records are copied
 * for the cache without the lock (a kmalloc and a copy each, a segment's
 * worth, which writers used to wait behind); the lock is taken only to
 * link each batch of ILIO_FIN_BATCH entries, and only entries whose chunk
 * still lives at that record are linked.  The copies are charged to the
 * budget as they are linked, and __ilio_plog_fit_ram() evicts after each
 * batch: the buffer is still charged then, and the budget must hold
 * whenever the lock is free (the check verifies it, writers rely on it).
 * (Persistent mode checks no pins against readers, so ilio_core_check()
 * does not mind this one.)
 */
static void ilio_wb_finalize(struct ilio_plog *pl, struct ilio_wb_fin *f)
{
	struct ilio_space *sp = pl->base.sp;
	u32 idx = f->seg;

	pl->fin_nr = 0;
	ilio_plog_walk(f->data, f->used, sp->segs.seg_bytes, ilio_wb_fin_rec,
		       pl, idx);
	down_write(&sp->lock);
	__ilio_wb_link(pl);
	/* Emptied meanwhile: the last unpin releases it, and that is all. */
	__ilio_seg_unpin(&sp->segs, idx);
	/* A reader holds it now: its release finalizes it (again). */
	if (__ilio_plog_finalizable(pl, idx))
		__ilio_plog_drop_written(pl, idx);
	else
		__ilio_plog_fit_ram(pl);
	up_write(&sp->lock);
}

/* Seal the open segment: it takes nothing more. */
static void __ilio_plog_seal(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_segs *s = &sp->segs;
	struct ilio_seg *seg;
	u32 idx;

	if (s->open == ILIO_SEG_NONE)
		return;
	__ilio_plog_close_unit(pl);
	idx = __ilio_seg_seal_log(s);
	seg = &s->segs[idx];
	if (seg->written == seg->used && !seg->used) {
		/* Never got a unit: give it back. */
		__ilio_seg_drop_buf(s, idx);
		__ilio_seg_set_free(s, idx);
	} else if (seg->written == seg->used) {
		__ilio_plog_finalize(pl, idx);
	}
}

/**
 * __ilio_plog_drain() - no RAM for a segment buffer or metadata: drain
 * @pl: persistent core, locked
 *
 * Seals the open segment, so that write-back writes it (with every other
 * closed unit) and frees its buffer; then the caller drops the lock,
 * writes back (ilio_log_relieve()) and tries again.  Without this, a
 * budget filled by metadata plus the open segment could never drain.
 *
 * Return: -EAGAIN when write-back has work that frees buffers, or the
 * seal freed one (try again); -ENOMEM
 * when buffers are held only by readers (pins) or the allocator failed
 * (wait, then try again); -ENOSPC when no segment buffer is left to free:
 * metadata fills the budget.
 */
int __ilio_plog_drain(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	u32 resident = sp->segs.nr_resident;

	lockdep_assert_held_write(&sp->lock);
	__ilio_plog_seal(pl);
	/* A written segment is freed by the seal itself: try again at once. */
	if (pl->wbq_len || sp->segs.nr_resident < resident)
		return -EAGAIN;
	return sp->segs.nr_resident ? -ENOMEM : -ENOSPC;
}

/*
 * Open the reserved next segment (or a free one) and reserve its
 * successor.  @level: ILIO_LEVEL_*, how deep into the reserve it may go.
 * The buffer comes from the allocator when the budget has room, else
 * from the reserve; with neither, the open segment is sealed so that
 * write-back can free buffers (__ilio_plog_drain()).
 */
int __ilio_plog_open_seg(struct ilio_plog *pl, int level)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_segs *s = &sp->segs;
	u32 need = pl->next_seg == ILIO_SEG_NONE ? 2 : 1;
	u32 cur, succ;
	bool room;
	u8 *data;
	int ret;

	if (sp->segs.nr_free < need + __ilio_plog_reserve(pl, level))
		return -ENOSPC;
	/* A recycled buffer needs no room: it is charged already. */
	room = s->nr_reserve > ILIO_SEG_RESERVE;
	if (!room) {
		while (!__ilio_ram_allows(sp, s->seg_bytes) &&
		       __ilio_cache_evict_one(&sp->cache))
			;
		room = __ilio_ram_allows(sp, s->seg_bytes);
	}
	data = __ilio_seg_get_buf(s, room);
	if (!data) {
		ret = __ilio_plog_drain(pl);
		/* Budget room, no memory, nothing to free: wait for memory. */
		return ret == -ENOSPC && room ? -ENOMEM : ret;
	}
	__ilio_plog_seal(pl);
	cur = pl->next_seg;
	if (cur == ILIO_SEG_NONE)
		cur = __ilio_seg_take_free(s);
	succ = __ilio_seg_take_free(s);
	if (WARN_ON(cur == ILIO_SEG_NONE || succ == ILIO_SEG_NONE)) {
		__ilio_seg_put_buf(s, data);
		return -ENOSPC;
	}
	pl->next_seg = succ;
	__ilio_seg_open_log(s, cur, data);
	return 0;
}

/* Would the open unit take @rec record bytes and @nents entries more? */
static bool __ilio_plog_room(struct ilio_plog *pl, u32 rec, u32 nents)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_seg *seg;
	u64 end;

	if (sp->segs.open == ILIO_SEG_NONE)
		return false;
	seg = &sp->segs.segs[sp->segs.open];
	if (pl->nr_sum + nents > pl->sum_cap)
		return false;
	end = (u64)seg->used + (pl->unit_open ? 0 : ILIO_BLOCK_SIZE) + rec +
	      (u64)((pl->unit_open ? pl->nr_sum : 0) + nents) * ILIO_SUM_ENT;
	return ilio_align_blk(end) <= sp->segs.seg_bytes;
}

/**
 * __ilio_plog_prepare() - make room for a record and summary entries
 * @pl: persistent core, locked
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
 * -ENOMEM when memory must be waited for (ilio_log_relieve()).
 */
int __ilio_plog_prepare(struct ilio_plog *pl, u32 len, u32 nents, int level)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_seg *seg;
	u32 rec = len ? ilio_rec_bytes(len) : 0;
	int ret;

	lockdep_assert_held_write(&sp->lock);
	if (pl->read_only)
		return -EROFS;
	if (pl->error)
		return -EIO;
	if (!__ilio_plog_room(pl, rec, nents)) {
		ret = __ilio_plog_open_seg(pl, level);
		if (ret)
			return ret;
		if (WARN_ON(!__ilio_plog_room(pl, rec, nents)))
			return -EINVAL;
	}
	if (!pl->unit_open) {
		seg = &sp->segs.segs[sp->segs.open];
		pl->unit_off = seg->used;
		seg->used += ILIO_BLOCK_SIZE;
		pl->dirty += ILIO_BLOCK_SIZE;
		pl->unit_open = true;
		pl->nr_sum = 0;
		pl->unit_born_ns = ktime_get_ns();
		pl->unit_temp_only = true;
	}
	return 0;
}

static void __ilio_plog_ent(struct ilio_plog *pl, u64 kind, u64 arg, u64 val)
{
	struct ilio_sum_info s = { .kind = kind, .arg = arg, .val = val };

	ilio_sum_pack(&pl->sum[pl->nr_sum++], &s);
}

/**
 * __ilio_plog_append() - append a chunk record and log where it is
 * @pl: persistent core, locked, after __ilio_plog_prepare(@len, ...)
 * @cid: chunk id (its hash is already in the chunk table)
 * @payload: stored payload
 * @len: its bytes
 * @lz4: it is lz4
 *
 * Return: the record's location.
 */
ilio_loc_t __ilio_plog_append(struct ilio_plog *pl, ilio_cid_t cid,
			      const void *payload, u32 len, bool lz4)
{
	struct ilio_space *sp = pl->base.sp;
	ilio_loc_t loc;
	int cls;

	lockdep_assert_held_write(&sp->lock);
	loc = __ilio_seg_append(&sp->segs, cid, payload, len, lz4);
	pl->dirty += ilio_rec_bytes(len);
	cls = ilio_chunk_class(&sp->chunks, cid);
	if (cls >= ILIO_NR_CLASSES)
		cls = ILIO_CLASS_NORMAL;
	pl->dirty_cls[cls] += ilio_rec_bytes(len);
	pl->unit_cls[cls] += ilio_rec_bytes(len);
	if (cls != ILIO_CLASS_TEMP)
		pl->unit_temp_only = false;
	__ilio_plog_ent(pl, ILIO_SUM_CHUNK,
			(u64)cls << ILIO_SUM_CLS_SHIFT | ilio_loc_off(loc),
			ilio_chunk_hash(&sp->chunks, cid));
	pl->front_ops++;
	return loc;
}

/**
 * __ilio_plog_log_map() - log that @lba now maps to @cid
 * @pl: persistent core, locked, after __ilio_plog_prepare(.., 1 or more)
 * @lba: logical block
 * @cid: chunk id, 0 for unmapped
 *
 * Consecutive unmaps merge into one entry.
 */
void __ilio_plog_log_map(struct ilio_plog *pl, ilio_lba_t lba, ilio_cid_t cid)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_sum_ent *last;
	struct ilio_sum_info s;
	u64 b = ilio_from_lba(lba);

	lockdep_assert_held_write(&sp->lock);
	pl->front_ops++;
	if (!cid && pl->nr_sum) {
		last = &pl->sum[pl->nr_sum - 1];
		ilio_sum_unpack(last, &s);
		if (s.kind == ILIO_SUM_UNMAP && s.arg + s.val == b &&
		    s.val < 0xffffffffULL) {
			s.val++;
			ilio_sum_pack(last, &s);
			return;
		}
	}
	if (cid && ilio_chunk_class(&sp->chunks, cid) != ILIO_CLASS_TEMP)
		pl->unit_temp_only = false;
	if (cid)
		__ilio_plog_ent(pl, ILIO_SUM_MAP, b, ilio_from_cid(cid));
	else
		__ilio_plog_ent(pl, ILIO_SUM_UNMAP, b, 1);
}

/**
 * __ilio_plog_after_write() - what a writer should do after its update
 * @pl: persistent core, locked
 * @sync: set when the writer must write back itself (backpressure, or
 *	coalesce off)
 * @kick: set when write-back should be started in the background
 */
void __ilio_plog_after_write(struct ilio_plog *pl, bool *sync, bool *kick)
{
	if (pl->coalesce == ILIO_COALESCE_OFF)
		__ilio_plog_close_unit(pl);
	*sync = pl->coalesce == ILIO_COALESCE_OFF || pl->dirty > pl->max_dirty;
	*kick = !*sync && pl->wbq_len && !pl->wb_nr;
}

/*
 * Write-back.  One context at a time runs it (under @wb_mutex): it
 * claims closed, unsubmitted byte ranges in log order, submits them with
 * the lock dropped, and retires completed writes from the ring's head
 * only.  See "How can writes complete out of order" above.
 */

/*
 * The backend's completion: may run in interrupt context.  Record, wake.
 * All of it under the wait queue's lock, so that once write-back has seen
 * @done and taken that lock (ilio_wb_quiet()), no completion still
 * touches the store: it may be freed.
 */
static void ilio_wb_done(struct ilio_backend_io *bio, int err)
{
	struct ilio_wb_io *io = container_of(bio, struct ilio_wb_io, bio);
	struct ilio_plog *pl = io->pl;
	unsigned long flags;

	spin_lock_irqsave(&pl->wb_wait.lock, flags);
	io->t_done = ktime_get_ns();
	io->err = err;
	/* Pairs with the acquires in the waiter and in retiring: @err first. */
	smp_store_release(&io->done, 1);
	wake_up_locked(&pl->wb_wait);
	spin_unlock_irqrestore(&pl->wb_wait.lock, flags);
}

/* Every write retired: wait for the last completion to leave the store. */
static void ilio_wb_quiet(struct ilio_plog *pl)
{
	spin_lock_irq(&pl->wb_wait.lock);
	spin_unlock_irq(&pl->wb_wait.lock);
}

/* Has the oldest write in flight completed, or is there more to send? */
static bool ilio_wb_progress(struct ilio_plog *pl, struct ilio_wb_io *head)
{
	/* Pairs with ilio_wb_done()'s release of @done. */
	return smp_load_acquire(&head->done) || READ_ONCE(pl->wb_more);
}

/*
 * How far segment @idx is submitted: the end of its newest write in the
 * ring, else what is written.  (Not a field of struct ilio_seg: the table
 * has a slot per device segment, and only ILIO_WB_DEPTH are in flight.)
 */
static u32 __ilio_wb_issued(struct ilio_plog *pl, u32 idx)
{
	u32 i;

	for (i = pl->wb_nr; i--; ) {
		struct ilio_wb_io *io = &pl->wb_io[(pl->wb_first + i) % ILIO_WB_DEPTH];

		if (io->seg == idx)
			return io->to;
	}
	return pl->base.sp->segs.segs[idx].written;
}

/*
 * Claim the next closed, unsubmitted range in log order, or NULL.  The
 * segments before it in the write-back queue are all submitted, and each
 * has a write in the ring: the scan passes at most ILIO_WB_DEPTH of them.
 */
static struct ilio_wb_io *__ilio_wb_claim(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_wb_io *io;
	struct ilio_seg *seg = NULL;
	u32 i, idx = 0, from = 0;

	/* A backend without write_async gets one write at a time. */
	if (pl->wb_nr == (pl->ops->write_async ? ILIO_WB_DEPTH : 1) ||
	    pl->error)
		return NULL;
	for (i = 0; i < pl->wbq_len; i++) {
		idx = pl->wbq[(pl->wbq_head + i) % pl->g.nr_segs];
		seg = &sp->segs.segs[idx];
		from = __ilio_wb_issued(pl, idx);
		if (from < seg->closed)
			break;
	}
	if (i == pl->wbq_len)
		return NULL;
	/* Journaled: the open segment leaves whole, later. */
	if (__ilio_journal_defer(pl, idx))
		return NULL;
	io = &pl->wb_io[(pl->wb_first + pl->wb_nr) % ILIO_WB_DEPTH];
	pl->wb_nr++;
	pl->wb_peak = max(pl->wb_peak, pl->wb_nr);
	io->pl = pl;
	io->bio.done = ilio_wb_done;
	io->seg = idx;
	io->from = from;
	io->to = seg->closed;
	io->seq = seg->last_seq;
	io->retried = false;
	io->err = 0;
	io->done = 0;
	return io;
}

/*
 * Checksum every unit of [@from, @to) of a segment buffer: closed units,
 * which nobody changes any more, so no lock is needed.  Each unit is
 * sealed once: once claimed, a range is never claimed again.
 */
static void ilio_wb_seal(struct ilio_plog *pl, u8 *data, u32 from, u32 to)
{
	struct ilio_unit_info u;

	while (from < to) {
		if (WARN_ON(!ilio_unit_hdr_unpack(data + from, &u) ||
			    u.len < ILIO_BLOCK_SIZE || u.len > to - from))
			return;
		ilio_unit_seal(data + from, u.len);
		from += u.len;
	}
}

/* Send @io (claimed, or failed once); the lock is not held. */
static void ilio_wb_submit(struct ilio_plog *pl, struct ilio_wb_io *io,
			   u8 *data)
{
	u64 pos = ilio_seg_pos(pl, io->seg) + io->from;
	u32 len = io->to - io->from;

	io->t0 = ktime_get_ns();
	if (pl->ops->write_async)
		pl->ops->write_async(pl->priv, pos, data + io->from, len, &io->bio);
	else
		ilio_wb_done(&io->bio, pl->ops->write(pl->priv, pos,
						      data + io->from, len));
}

/*
 * Retire completed writes from the ring's head, in submission order: the
 * only place where the durable point advances.  A segment written whole
 * is pinned and added to @fin (@nr_fin entries): the caller finalizes it
 * with the lock dropped (ilio_wb_finalize()).  Returns the head write
 * when it failed for the first time: the caller submits it again (it
 * stays at the head).  After the sticky error, completions are retired
 * without effect: their data stays in RAM, unwritten.
 */
static struct ilio_wb_io *__ilio_wb_retire(struct ilio_plog *pl,
					   struct ilio_wb_fin *fin,
					   unsigned int *nr_fin)
{
	struct ilio_space *sp = pl->base.sp;

	while (pl->wb_nr) {
		struct ilio_wb_io *io = &pl->wb_io[pl->wb_first];
		struct ilio_seg *seg = &sp->segs.segs[io->seg];
		u32 len = io->to - io->from;
		u64 t;

		/* Pairs with ilio_wb_done(): @err and @t_done are set. */
		if (!smp_load_acquire(&io->done))
			break;
		if (io->err && !pl->error && !io->retried) {
			io->retried = true;
			io->err = 0;
			io->done = 0;
			return io;
		}
		pl->wb_first = (pl->wb_first + 1) % ILIO_WB_DEPTH;
		pl->wb_nr--;
		if (io->err && !pl->error)
			pl->error = io->err;
		if (pl->error)
			continue;
		t = io->t_done - io->t0;
		sp->st.backend_write_ios++;
		sp->st.backend_write_bytes += len;
		__ilio_hist_write(&sp->st, len);
		pl->lat_ns = pl->lat_ns ? (pl->lat_ns * 7 + t) / 8 : t;
		pl->dirty -= len;
		WARN_ON(seg->written != io->from);
		seg->written = io->to;
		if (io->seq > pl->written_seq)
			pl->written_seq = io->seq;
		__ilio_dirty_retire(pl);
		while (pl->wbq_len) {
			struct ilio_seg *h = &sp->segs.segs[pl->wbq[pl->wbq_head]];

			if (h->written != h->closed)
				break;
			pl->wbq_head = (pl->wbq_head + 1) % pl->g.nr_segs;
			pl->wbq_len--;
		}
		/* At most one per entry retired: ILIO_WB_DEPTH. */
		if (__ilio_plog_finalizable(pl, io->seg)) {
			__ilio_seg_pin(&sp->segs, io->seg);
			fin[*nr_fin].seg = io->seg;
			fin[*nr_fin].data = seg->data;
			fin[*nr_fin].used = seg->used;
			(*nr_fin)++;
		}
	}
	return NULL;
}

/**
 * ilio_log_writeback() - write every closed unit to the backing device
 * @pl: core
 *
 * Segments go in log order, each as one write of its closed, unwritten
 * bytes, up to ILIO_WB_DEPTH writes in flight; units closed meanwhile go
 * out too.  Returns once nothing is left to send and every write it sent
 * has completed.  A failed write is sent once more; a second failure
 * makes the device read-only (sticky), and the data stays in RAM.
 *
 * Return: 0, or the sticky error.
 */
int ilio_log_writeback(struct ilio_plog *pl)
{
	struct ilio_space *sp;
	struct ilio_wb_io *claim[ILIO_WB_DEPTH], *again, *head;
	u8 *data[ILIO_WB_DEPTH], *again_data = NULL;
	struct ilio_wb_fin fin[ILIO_WB_DEPTH];
	unsigned int n, i, nr_fin;
	int ret;

	if (!pl)
		return 0;
	sp = pl->base.sp;
	mutex_lock(&pl->wb_mutex);
	for (;;) {
		down_write(&sp->lock);
		WRITE_ONCE(pl->wb_more, false);
		nr_fin = 0;
		again = __ilio_wb_retire(pl, fin, &nr_fin);
		if (again)
			again_data = sp->segs.segs[again->seg].data;
		for (n = 0; n < ILIO_WB_DEPTH; n++) {
			claim[n] = __ilio_wb_claim(pl);
			if (!claim[n])
				break;
			data[n] = sp->segs.segs[claim[n]->seg].data;
		}
		head = pl->wb_nr ? &pl->wb_io[pl->wb_first] : NULL;
		ret = pl->error;
		up_write(&sp->lock);

		/* Closed ranges: nobody changes them, nobody frees them. */
		if (again)
			ilio_wb_submit(pl, again, again_data);
		for (i = 0; i < n; i++) {
			ilio_wb_seal(pl, data[i], claim[i]->from, claim[i]->to);
			ilio_wb_submit(pl, claim[i], data[i]);
		}
		/* With the next writes on their way. */
		for (i = 0; i < nr_fin; i++)
			ilio_wb_finalize(pl, &fin[i]);
		if (!head)
			break;
		wait_event(pl->wb_wait, ilio_wb_progress(pl, head));
	}
	ilio_wb_quiet(pl);
	mutex_unlock(&pl->wb_mutex);
	return ret;
}

/* Flush the device so that every written unit is durable. */
int ilio_plog_flush_dev(struct ilio_plog *pl, u64 target)
{
	struct ilio_space *sp = pl->base.sp;
	u64 written;
	int ret = 0;

	mutex_lock(&pl->wb_mutex);
	down_write(&sp->lock);
	ret = pl->error;
	written = pl->written_seq;
	up_write(&sp->lock);
	if (!ret && pl->durable_seq < target) {
		ret = pl->ops->flush(pl->priv);
		down_write(&sp->lock);
		if (ret)
			pl->error = ret;
		else
			pl->durable_seq = written;
		sp->st.backend_flushes++;
		up_write(&sp->lock);
	}
	mutex_unlock(&pl->wb_mutex);
	return ret;
}

/**
 * ilio_log_flush_lun() - make every write completed so far durable on the
 *	backing device
 * @pl: core
 *
 * Closes the open unit (a partial segment), writes everything back and
 * flushes the backing device.  Concurrent flushes share the device flush
 * when one covers the other.  Diskless: nothing to do.  A journal's
 * deferral of the open segment is off meanwhile (suspend, close, and
 * flushes the journal cannot take).
 *
 * Return: 0, or -EIO when the device cannot keep the promise.
 */
int ilio_log_flush_lun(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	u64 target;
	int ret;

	if (!pl)
		return 0;
	down_write(&sp->lock);
	if (pl->read_only) {
		up_write(&sp->lock);
		return 0;
	}
	__ilio_plog_close_unit(pl);
	target = pl->closed_seq;
	if (pl->jn)
		pl->jn->force++;
	up_write(&sp->lock);
	ret = ilio_log_writeback(pl);
	if (!ret)
		ret = ilio_plog_flush_dev(pl, target);
	down_write(&sp->lock);
	if (pl->jn)
		pl->jn->force--;
	if (!ret)
		sp->st.flushes++;
	up_write(&sp->lock);
	return ret ? -EIO : 0;
}

/**
 * ilio_log_flush() - make every write completed so far durable
 * @pl: core
 *
 * Through the journal when the store has a healthy one
 * (ilio_journal_flush()), else on the backing device
 * (ilio_log_flush_lun()).
 *
 * Return: 0, or -EIO when the device cannot keep the promise.
 */
int ilio_log_flush(struct ilio_plog *pl)
{
	struct ilio_space *sp;
	int ret;

	if (!pl)
		return 0;
	if (!pl->jn || pl->read_only)
		return ilio_log_flush_lun(pl);
	ret = ilio_journal_flush(pl);
	if (ret > 0)
		return ilio_log_flush_lun(pl);
	sp = pl->base.sp;
	down_write(&sp->lock);
	if (!ret)
		sp->st.flushes++;
	up_write(&sp->lock);
	return ret ? -EIO : 0;
}

/* Bytes of the blocks holding the record at @loc: at most ILIO_RBUF_BYTES. */
static u32 ilio_rec_span(ilio_loc_t loc)
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
bool ilio_rec_verify(struct ilio_plog *pl, const struct ilio_chunk_hdr *rh,
		     ilio_loc_t loc, u64 hash, void *block)
{
	struct ilio_space *sp = pl->base.sp;

	return !ilio_load_payload((const u8 *)(rh + 1), loc, block) &&
	       ilio_hash_block(block, sp->hash_seed) == hash;
}

static int ilio_plog_fetch(struct ilio_plog *pl, ilio_loc_t loc, ilio_cid_t cid,
			   u64 hash, void *block, u8 *buf,
			   const struct ilio_chunk_hdr **rhp)
{
	u32 off = ilio_loc_off(loc);
	u32 first = off & ~(ILIO_BLOCK_SIZE - 1);
	const struct ilio_chunk_hdr *rh;
	struct ilio_rec_info ri;
	int ret;

	ret = pl->ops->read(pl->priv, ilio_seg_pos(pl, ilio_loc_seg(loc)) + first,
			    buf, ilio_rec_span(loc)) ? -EIO : 0;
	rh = (const void *)(buf + off - first);
	if (!ret) {
		ilio_rec_unpack(rh, &ri);
		if (!ilio_rec_matches(&ri, ilio_from_cid(cid),
				      ilio_from_loc(loc)))
			ret = -EIO;
	}
	if (!ret && !ilio_rec_verify(pl, rh, loc, hash, block))
		ret = -EIO;
	*rhp = rh;
	return ret;
}

/**
 * ilio_plog_read_record() - load a chunk from the backing device
 * @pl: persistent core, unlocked; the caller pinned the chunk's segment
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
int ilio_plog_read_record(struct ilio_plog *pl, ilio_loc_t loc, ilio_cid_t cid,
			  u64 hash, void *block)
{
	struct ilio_space *sp = pl->base.sp;
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
	ret = ilio_plog_fetch(pl, loc, cid, hash, block, buf, &rh);
	down_write(&sp->lock);
	sp->st.backend_read_ios++;
	sp->st.backend_read_bytes += span;
	if (!ret && ilio_chunk_valid(&sp->chunks, cid) &&
	    ilio_chunk_loc(&sp->chunks, cid) == loc) {
		__ilio_cache_insert(&sp->cache, cid, rh + 1, ilio_loc_len(loc),
				    ilio_loc_lz4(loc));
		__ilio_plog_fit_ram(pl);
	}
	up_write(&sp->lock);
	if (buf == pl->rbuf)
		mutex_unlock(&pl->rbuf_mutex);
	else
		kfree(buf);
	return ret;
}

/**
 * ilio_plog_prefetch() - cache several records of one segment, one read
 * @pl: persistent core, unlocked; the caller pinned the records' segment
 * @f: the chunks, all in that segment
 * @n: how many
 *
 * A read miss of a multi-block bio (an 8 KiB guest read) used to cost one
 * device read per block although the records usually sit side by side in
 * one unit.  This reads the blocks from the first record's to the last
 * one's end at once, when that is at most ILIO_FETCH_SPAN bytes, and
 * checks and caches each record exactly as ilio_plog_read_record() does.
 * It is only an optimisation: a record it does not cache (damaged, moved
 * meanwhile, no memory) is read on its own by the caller's load.
 *
 * Return: records cached; 0 when it read nothing; -EIO when the read failed.
 */
int ilio_plog_prefetch(struct ilio_plog *pl, const struct ilio_fetch *f,
		       unsigned int n)
{
	struct ilio_space *sp = pl->base.sp;
	u32 seg = ilio_loc_seg(f[0].loc), lo = ~0U, hi = 0, i;
	int ret, got = 0;
	u8 *buf, *block;

	for (i = 0; i < n; i++) {
		u32 first = ilio_loc_off(f[i].loc) & ~(ILIO_BLOCK_SIZE - 1);

		lo = min(lo, first);
		hi = max(hi, first + ilio_rec_span(f[i].loc));
	}
	if (n < 2 || hi - lo > ILIO_FETCH_SPAN)
		return 0;
	buf = kvmalloc(hi - lo + ILIO_BLOCK_SIZE, ILIO_GFP);
	if (!buf)
		return 0;
	block = buf + (hi - lo);
	ret = pl->ops->read(pl->priv, ilio_seg_pos(pl, seg) + lo, buf,
			    hi - lo) ? -EIO : 0;
	down_write(&sp->lock);
	sp->st.backend_read_ios++;
	sp->st.backend_read_bytes += hi - lo;
	up_write(&sp->lock);
	for (i = 0; !ret && i < n; i++) {
		const struct ilio_chunk_hdr *rh =
			(const void *)(buf + ilio_loc_off(f[i].loc) - lo);
		struct ilio_rec_info ri;

		ilio_rec_unpack(rh, &ri);
		if (!ilio_rec_matches(&ri, ilio_from_cid(f[i].cid),
				      ilio_from_loc(f[i].loc)) ||
		    !ilio_rec_verify(pl, rh, f[i].loc, f[i].hash, block))
			continue;	/* its own load reports it */
		down_write(&sp->lock);
		if (ilio_chunk_valid(&sp->chunks, f[i].cid) &&
		    ilio_chunk_loc(&sp->chunks, f[i].cid) == f[i].loc &&
		    !__ilio_cache_lookup(&sp->cache, f[i].cid)) {
			__ilio_cache_insert(&sp->cache, f[i].cid, rh + 1,
					    ilio_loc_len(f[i].loc),
					    ilio_loc_lz4(f[i].loc));
			__ilio_plog_fit_ram(pl);
			got++;
		}
		up_write(&sp->lock);
	}
	kvfree(buf);
	return ret ? ret : got;
}

/**
 * __ilio_plog_load_locked() - load a chunk with the lock held
 * @pl: persistent core, locked
 * @loc: its location (segment not in RAM)
 * @cid: its id
 * @block: ILIO_BLOCK_SIZE bytes of output
 *
 * For the consistency check only: it may read the device under the lock.
 *
 * Return: 0, -EIO or -ENOMEM.
 */
int __ilio_plog_load_locked(struct ilio_plog *pl, ilio_loc_t loc,
			    ilio_cid_t cid, void *block)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_centry *e = __ilio_cache_lookup(&sp->cache, cid);
	const struct ilio_chunk_hdr *rh;
	u8 *buf;
	int ret;

	if (e)
		return ilio_load_payload(e->data, loc, block) ? -EIO : 0;
	buf = kmalloc(ilio_rec_span(loc), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = ilio_plog_fetch(pl, loc, cid, ilio_chunk_hash(&sp->chunks, cid),
			      block, buf, &rh);
	kfree(buf);
	return ret;
}

/**
 * ilio_log_relieve() - a log writer met memory pressure: make progress
 * @pl: store, unlocked
 * @err: -EAGAIN (segment buffers wait for write-back) or -ENOMEM
 *
 * Writes back first: that frees segment buffers, and a freed buffer
 * refills the reserve before it goes back to the system.  For -ENOMEM it
 * then refills the reserves, or waits (ilio_space_relieve()).
 *
 * Return: 0 to try again, or the sticky backend error.
 */
int ilio_log_relieve(struct ilio_plog *pl, int err)
{
	int ret = ilio_log_writeback(pl);

	if (ret)
		return ret;
	if (err == -ENOMEM)
		ilio_space_relieve(pl->base.sp);
	return 0;
}
