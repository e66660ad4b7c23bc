// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-gc: the persistent store's cleaner - GC of mostly dead segments on
 * the device, and the background tick that decides when to write back,
 * clean and checkpoint.
 *
 * Locking: see ilio-plog.h.  GC runs under pl->ckpt_mutex.
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

#include "ilio-plog.h"

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
/* What GC's way of storing a moved record needs to know. */
struct ilio_gc_move {
	struct ilio_plog *pl;
	ilio_loc_t old;
};

/*
 * GC's part of the move (__ilio_move_record()): verify, then append to
 * the log.  Return: 0 (moved), 1 (damaged: the chunk was marked), or the
 * prepare error (GC is out of room: the rest of the victim stays).
 */
static int __ilio_gc_store(void *priv, ilio_cid_t cid, const void *payload,
			   u32 len, bool lz4, ilio_loc_t *loc)
{
	struct ilio_gc_move *m = priv;
	struct ilio_plog *pl = m->pl;
	struct ilio_space *sp = pl->base.sp;
	const struct ilio_chunk_hdr *rh = (const void *)((const u8 *)payload -
							 sizeof(*rh));
	int ret;

	if (!ilio_rec_verify(pl, rh, m->old, ilio_chunk_hash(&sp->chunks, cid),
			     pl->vbuf)) {
		__ilio_cache_remove(&sp->cache, cid);
		ilio_chunk_set_loc(&sp->chunks, cid, ILIO_LOC_DAMAGED);
		__ilio_seg_release_bytes(&sp->segs, m->old);
		sp->stored_bytes -= len;
		sp->nr_damaged++;
		pl->front_ops++;	/* the next checkpoint must record it */
		return 1;
	}
	ret = __ilio_plog_prepare(pl, len, 1, ILIO_LEVEL_GC);
	if (ret) {
		pl->gc_full = true;
		pl->gc_err = ret;
		return ret;
	}
	*loc = __ilio_plog_append(pl, cid, payload, len, lz4);
	pl->front_ops--;	/* GC is not front-end activity */
	return 0;
}

static void __ilio_gc_move(struct ilio_plog *pl, u32 seg, u32 off,
			   const struct ilio_rec_info *ri, const void *payload)
{
	struct ilio_gc_move m = {
		.pl = pl, .old = ilio_to_loc(ilio_rec_make_loc(seg, off, ri)),
	};

	if (pl->gc_full)	/* out of room: leave the rest */
		return;
	__ilio_move_record(pl->base.sp, ilio_to_cid(ri->cid), m.old, payload,
			   __ilio_gc_store, &m, &pl->base.sp->st.gc_moved_bytes);
}

/* Clean one victim; *@gain: the bytes it frees net of what was moved. */
static int ilio_gc_one(struct ilio_plog *pl, u32 max_live, u64 *gain)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_segs *s = &sp->segs;
	u32 victim;
	int ret, err;

	down_write(&sp->lock);
	victim = pl->error ? ILIO_SEG_NONE : __ilio_seg_pick_victim(s, max_live);
	if (victim != ILIO_SEG_NONE) {
		__ilio_seg_pin(s, victim);
		*gain = s->seg_bytes - s->segs[victim].live;
	}
	up_write(&sp->lock);
	if (victim == ILIO_SEG_NONE)
		return -ENOSPC;

	ret = pl->ops->read(pl->priv, ilio_seg_pos(pl, victim), pl->buf,
			    s->seg_bytes);
	down_write(&sp->lock);
	sp->st.backend_read_ios++;
	sp->st.backend_read_bytes += s->seg_bytes;
	while (!ret) {
		pl->gc_full = false;
		pl->gc_err = 0;
		ilio_plog_walk(pl->buf, s->seg_bytes, s->seg_bytes,
			       __ilio_gc_move, pl, victim);
		if (pl->gc_err != -EAGAIN && pl->gc_err != -ENOMEM)
			break;
		/* Memory pressure: relieve it, walk again (moved records are skipped). */
		err = pl->gc_err;
		up_write(&sp->lock);
		ret = ilio_log_relieve(pl, err);
		down_write(&sp->lock);
	}
	if (!ret && pl->gc_full)
		ret = -ENOSPC;
	__ilio_seg_unpin(s, victim);
	up_write(&sp->lock);
	return ret ? ret : 0;
}

/* Emptied segments that wait for a checkpoint to become free. */
static u32 ilio_plog_nr_waiting(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	u32 n;

	down_write(&sp->lock);
	n = sp->segs.nr_wait;
	up_write(&sp->lock);
	return n;
}

/*
 * GC up to @max_segs victims, then checkpoint once the segments waiting
 * to be freed, net of what GC moved, reach @want (ILIO_GC_WANT_*), or
 * with @force when anything at all waits.  Called with ckpt_mutex held.
 * Return: victims cleaned, or a negative errno (-ENOSPC: nothing worth a
 * checkpoint).
 */
static int ilio_gc_locked(struct ilio_plog *pl, unsigned int max_segs,
			  u32 max_live, int want, bool force)
{
	struct ilio_space *sp = pl->base.sp;
	u64 seg = sp->segs.seg_bytes, gain = 0, one;
	u32 waiting = ilio_plog_nr_waiting(pl), ckpt;
	unsigned int n = 0;
	int ret = 0;

	down_write(&sp->lock);
	ckpt = __ilio_plog_ckpt_segs(pl);
	/*
	 * A checkpoint pays off when the space it frees, net of what GC
	 * moved, is more than the checkpoint itself takes (urgent), or at
	 * least four times that, and 1/16 of the device (background: keeps
	 * checkpoint traffic a small part of the backend's writes).
	 */
	if (want == ILIO_GC_WANT_BACKGROUND)
		ckpt = max_t(u32, 4 * ckpt, sp->segs.nr_segs / 16);
	else
		ckpt = ckpt + 1;
	up_write(&sp->lock);
	gain = waiting * seg;
	while (n < max_segs && gain < max_t(u64, ckpt + 3, 2 * ckpt) * seg) {
		ret = ilio_gc_one(pl, max_live, &one);
		if (ret)
			break;
		gain += one;
		n++;
	}
	if (gain > ckpt * seg || (force && gain))
		ret = ilio_plog_checkpoint_locked(pl);
	else if (ret != -ENOSPC)
		ret = 0;
	return ret ? ret : n;
}

/**
 * ilio_log_gc() - move live chunks out of mostly dead segments
 * @pl: core
 * @max_segs: most segments to clean
 *
 * Greedy: the written segment with the fewest live bytes (at most 3/4
 * live) first.  The segments cleaned become free after the checkpoint
 * this function ends with.
 *
 * Return: segments cleaned, or a negative errno.
 */
int ilio_log_gc(struct ilio_plog *pl, unsigned int max_segs)
{
	struct ilio_space *sp = pl->base.sp;
	int ret;

	if (!pl || pl->read_only)
		return pl ? -EROFS : 0;
	mutex_lock(&pl->ckpt_mutex);
	ret = ilio_gc_locked(pl, max_segs, sp->segs.seg_bytes / 4 * 3,
			     ILIO_GC_WANT_URGENT, max_segs == UINT_MAX);
	mutex_unlock(&pl->ckpt_mutex);
	if (ret == -ENOSPC)
		ret = 0;
	return ret;
}

/* Background GC from the tick: @urgent when free segments run short. */
static void ilio_log_gc_tick(struct ilio_plog *pl, unsigned int max_segs,
			     bool urgent)
{
	struct ilio_space *sp = pl->base.sp;

	mutex_lock(&pl->ckpt_mutex);
	ilio_gc_locked(pl, max_segs, sp->segs.seg_bytes / 4 * 3,
		       urgent ? ILIO_GC_WANT_URGENT : ILIO_GC_WANT_BACKGROUND,
		       false);
	mutex_unlock(&pl->ckpt_mutex);
}

/**
 * ilio_log_reclaim() - a writer found no free segment: clean some now
 * @pl: core
 *
 * Return: 0 when segments were freed, else a negative errno.
 */
int ilio_log_reclaim(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	int ret;

	mutex_lock(&pl->ckpt_mutex);
	ret = ilio_gc_locked(pl, UINT_MAX, sp->segs.seg_bytes / 4 * 3,
			     ILIO_GC_WANT_URGENT, false);
	mutex_unlock(&pl->ckpt_mutex);
	return ret < 0 ? ret : 0;
}

/**
 * ilio_log_tick() - background work, called every 100 ms or so
 * @pl: core
 *
 * coalesce auto: closes an aging partial unit and writes it back - soon
 * when the backing device is idle and fast, after flush_interval_ms
 * otherwise, and up to ILIO_TEMP_HOLD_FACTOR times later when the unit
 * holds only temp data (__ilio_plog_hold_temp()).  Writes back sealed
 * segments.  Runs GC when free segments run low (one segment per tick
 * while front-end I/O goes on, more when idle or urgent), and a
 * checkpoint when the log since the last one got long or GC emptied
 * segments.
 */
void ilio_log_tick(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	bool wb, idle, ckpt, urgent = false, aged = false;
	u32 low, gc = 0;
	u64 age, limit;

	if (!pl || pl->read_only)
		return;
	down_write(&sp->lock);
	if (pl->error) {
		up_write(&sp->lock);
		return;
	}
	idle = pl->front_ops == pl->last_front;
	pl->last_front = pl->front_ops;
	if (pl->coalesce == ILIO_COALESCE_AUTO && pl->unit_open) {
		age = ktime_get_ns() - pl->unit_born_ns;
		limit = (u64)pl->flush_interval_ms * 1000000ULL;
		if (__ilio_plog_hold_temp(pl))
			limit = min_t(u64, limit * ILIO_TEMP_HOLD_FACTOR,
				      limit + ILIO_TEMP_HOLD_MS_MAX * 1000000ULL);
		/* Fast (writes under 1 ms) and idle: do not keep data dirty. */
		else if (pl->lat_ns < 1000000ULL && !pl->wb_nr)
			limit /= 10;
		if (age >= limit) {
			__ilio_plog_close_unit(pl);
			aged = true;
		}
	}
	wb = pl->wbq_len && !pl->wb_nr;
	low = max_t(u32, 4, pl->g.nr_segs / 16) +
	      __ilio_plog_reserve(pl, ILIO_LEVEL_USER);
	if (sp->segs.nr_free < low) {
		urgent = sp->segs.nr_free < low / 2 + 2;
		gc = idle || urgent ? 4 : 1;
	}
	ckpt = pl->log_bytes > max_t(u64, 2 * __ilio_plog_ckpt_bytes(pl),
				     (u64)pl->g.nr_segs * sp->segs.seg_bytes / 8);
	up_write(&sp->lock);
	/* With a journal, aged data goes there: segments leave whole. */
	if (aged && pl->jn)
		ilio_journal_flush(pl);
	if (wb)
		ilio_log_writeback(pl);
	if (gc)
		ilio_log_gc_tick(pl, gc, urgent);
	else if (ckpt)
		ilio_log_checkpoint(pl);
}
