// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-journal: the NV journal of the persistent store (see
 * ilio-journal.h and "journal layout" in ilio-format.h).
 *
 * Locking: see ilio-journal.h.  Lock order: jn->mutex, pl->wb_mutex,
 * sp->lock.
 *
 * What does a journaled flush promise, and why does it hold?
 *
 *   ilio_journal_flush() closes the open unit, then makes every closed
 *   unit durable in one of two places: units the LUN already completed
 *   (up to pl->written_seq) by a LUN flush - rare, since background
 *   write-back flushes the LUN after it writes (ilio_journal_settle()) -
 *   and the units not yet written by one journal record, written with
 *   FUA.  Only then does the flush complete.  Recovery replays the log's
 *   chain from the anchor; where the LUN lacks the unit the chain expects
 *   next (torn, missing, stale), ilio_journal_find() takes that very unit
 *   (same epoch, sequence number and location, checksum valid) from the
 *   journal and writes it to the LUN.  So replay reaches past every unit
 *   a completed flush covered, as without a journal.  A stale record
 *   never matches: epochs are random per activation and sequence numbers
 *   never repeat within one, so an old record cannot stand in for a unit
 *   of a segment that was since reused.
 *
 * When is ring space free?
 *
 *   A record is live until the LUN durably holds its newest unit
 *   (pl->durable_seq); then the chain finds all its units on the LUN, and
 *   later checkpoints move the anchor past them.  The ring's persisted
 *   tail (the superblock's @tail_pos) only moves forward when a record is
 *   about to need the space, by one FUA superblock write: recovery walks
 *   from it, so nothing between it and the head is ever overwritten.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/string.h>
#include <linux/mutex.h>
#include <linux/lockdep.h>
#include <linux/printk.h>
#include <linux/bug.h>
#include <linux/sched.h>

#include "ilio-plog.h"

/* Records the ring may hold at once (bounds the RAM of @fifo). */
#define ILIO_JFIFO_MAX	65536U

static u64 ilio_jpos(u64 ring_block)
{
	return (ILIO_JRING_START + ring_block) * ILIO_BLOCK_SIZE;
}

/**
 * ilio_journal_mem_bytes() - RAM the journal holds
 * @jn: journal, or NULL
 *
 * Return: bytes (record scratch, live-record ring, recovery extents).
 */
u64 ilio_journal_mem_bytes(const struct ilio_journal *jn)
{
	if (!jn)
		return 0;
	return sizeof(*jn) + ILIO_BLOCK_SIZE + jn->max_data +
	       (u64)jn->fifo_cap * sizeof(*jn->fifo) +
	       (u64)jn->jx_cap * sizeof(*jn->jx);
}

/**
 * ilio_journal_free() - free the journal's state (no I/O)
 * @jn: journal, or NULL
 */
void ilio_journal_free(struct ilio_journal *jn)
{
	if (!jn)
		return;
	vfree(jn->buf);
	kvfree(jn->fifo);
	kvfree(jn->jx);
	mutex_destroy(&jn->mutex);
	kfree(jn);
}

/* Write the superblock into the other slot, FUA.  jn->mutex held. */
static int ilio_journal_write_sb(struct ilio_journal *jn, u64 tail_pos,
				 u64 tail_seq)
{
	struct ilio_jsb_info j = jn->sb;
	unsigned int slot = 1 - jn->sb_slot;
	int ret;

	j.seq++;
	j.tail_pos = tail_pos;
	j.tail_seq = tail_seq;
	ilio_jsb_build(jn->buf, ILIO_JSB_BLOCK + slot, &j);
	ret = jn->ops->write(jn->priv, (u64)(ILIO_JSB_BLOCK + slot) *
			     ILIO_BLOCK_SIZE, jn->buf, ILIO_BLOCK_SIZE);
	if (ret)
		return ret;
	jn->sb = j;
	jn->sb_slot = slot;
	return 0;
}

/* Keep the extents of a valid record for the lookups of replay. */
static int ilio_journal_keep(struct ilio_journal *jn, const u8 *hdr,
			     u32 nr_ext, u64 pos)
{
	u64 jb = pos + 1, xpos;
	u32 i, len;

	if (jn->nr_jx + nr_ext > jn->jx_cap) {
		u32 cap = max(2 * jn->jx_cap, jn->nr_jx + nr_ext + 64);
		struct ilio_jx *n = kvcalloc(cap, sizeof(*n), GFP_KERNEL);

		if (!n)
			return -ENOMEM;
		if (jn->nr_jx)
			memcpy(n, jn->jx, jn->nr_jx * sizeof(*n));
		kvfree(jn->jx);
		jn->jx = n;
		jn->jx_cap = cap;
	}
	for (i = 0; i < nr_ext; i++) {
		ilio_jext_unpack(hdr, i, &xpos, &len);
		jn->jx[jn->nr_jx++] = (struct ilio_jx){ xpos, len, jb };
		jb += len / ILIO_BLOCK_SIZE;
	}
	return 0;
}

/*
 * Read the record expected at ring block @pos with sequence number @seq
 * into jn->buf.  Return: its length in blocks; -ENOENT (not there: the
 * end of the journal); -EIO; -EINVAL (impossible fields).
 */
static long ilio_journal_read_rec(struct ilio_plog *pl, u64 pos, u64 seq,
				  const char **why)
{
	struct ilio_journal *jn = pl->jn;
	struct ilio_jrec_info r;
	const char *end;
	int ret;

	if (pos + 2 > jn->sb.ring_blocks)
		return -ENOENT;
	if (jn->ops->read(jn->priv, ilio_jpos(pos), jn->buf, ILIO_BLOCK_SIZE)) {
		*why = "cannot read the journal";
		return -EIO;
	}
	ret = ilio_jrec_check_hdr(jn->buf, &jn->sb, &pl->g, pos, seq, &end);
	if (ret == -ENOENT)
		return ret;
	if (ret) {
		*why = end;
		return ret;
	}
	ilio_jrec_unpack(jn->buf, &r);
	if ((r.blocks - 1) * ILIO_BLOCK_SIZE > jn->max_data) {
		*why = "journal record is larger than this store writes";
		return -EINVAL;
	}
	if (jn->ops->read(jn->priv, ilio_jpos(pos + 1), jn->buf + ILIO_BLOCK_SIZE,
			  (r.blocks - 1) * ILIO_BLOCK_SIZE)) {
		*why = "cannot read the journal";
		return -EIO;
	}
	if (ilio_jrec_check_body(jn->buf, &end))
		return -ENOENT;
	return (long)r.blocks;
}

/*
 * Walk the ring from the persisted tail and index every valid record.
 * A record follows its predecessor directly, or at ring block 0 when it
 * did not fit before the ring's end.  Sets jn->head and jn->head_seq.
 */
static int ilio_journal_walk(struct ilio_plog *pl, const char **why)
{
	struct ilio_journal *jn = pl->jn;
	u64 pos = jn->sb.tail_pos, seq = jn->sb.tail_seq, walked = 0;
	struct ilio_jrec_info r;
	long n;
	int ret;

	for (;;) {
		n = ilio_journal_read_rec(pl, pos, seq, why);
		if (n == -ENOENT && pos) {
			pos = 0;
			n = ilio_journal_read_rec(pl, pos, seq, why);
		}
		if (n == -ENOENT)
			break;
		if (n < 0)
			return (int)n;
		ilio_jrec_unpack(jn->buf, &r);
		ret = ilio_journal_keep(jn, jn->buf, r.nr_ext, pos);
		if (ret) {
			*why = "out of memory";
			return ret;
		}
		seq++;
		pos = (pos + n) % jn->sb.ring_blocks;
		walked += n;
		if (walked >= jn->sb.ring_blocks)
			break;		/* full circle: cannot happen, do not loop */
		cond_resched();
	}
	jn->head = pos;
	jn->head_seq = seq;
	return 0;
}

/**
 * ilio_journal_open() - bind and read the journal of a store being opened
 * @pl: the store, its superblock read (pl->g)
 * @p: the open's parameters (@p->jops, @p->jpriv, @p->jdev_bytes)
 * @why: set on failure to a static string for the admin
 *
 * A store with a journal binding must be opened with its journal, and a
 * journal only with its store: same uuid, same binding generation.  Then
 * the ring is walked from its persisted tail and the valid records are
 * indexed for replay (ilio_journal_find()).
 *
 * Return: 0 (also without a journal on either side); -EINVAL refused
 * (foreign, stale, missing or damaged journal); -EIO; -ENOMEM.
 */
int ilio_journal_open(struct ilio_plog *pl, const struct ilio_core_params *p,
		      const char **why)
{
	struct ilio_journal *jn;
	struct ilio_jsb_info j[2];
	const char *w[2] = { NULL, NULL };
	int ret, i, best = -1, r[2];

	if (!p->jops && !pl->g.journal_gen)
		return 0;
	if (!p->jops) {
		*why = "the store has a journal device: give it (feature journal)";
		return -EINVAL;
	}
	if (!pl->g.journal_gen) {
		*why = "the store was formatted without a journal";
		return -EINVAL;
	}
	jn = kzalloc(sizeof(*jn), GFP_KERNEL);
	if (!jn) {
		*why = "out of memory";
		return -ENOMEM;
	}
	mutex_init(&jn->mutex);
	strscpy(jn->name, p->name ? p->name : "ilio", sizeof(jn->name));
	pl->jn = jn;
	jn->ops = p->jops;
	jn->priv = p->jpriv;
	jn->dev_bytes = p->jdev_bytes;
	jn->max_data = pl->g.seg_bytes;
	jn->buf = vmalloc(ILIO_BLOCK_SIZE + jn->max_data);
	if (!jn->buf) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (i = 0; i < 2; i++) {
		if (jn->ops->read(jn->priv, (u64)(ILIO_JSB_BLOCK + i) * ILIO_BLOCK_SIZE,
				  jn->buf, ILIO_BLOCK_SIZE)) {
			*why = "cannot read the journal superblock";
			return -EIO;
		}
		r[i] = ilio_jsb_check(jn->buf, ILIO_JSB_BLOCK + i, jn->dev_bytes,
				      &j[i], &w[i]);
		if (!r[i] && (best < 0 || j[i].seq > j[best].seq))
			best = i;
	}
	if (best < 0) {
		*why = w[0];
		return -EINVAL;
	}
	if (memcmp(j[best].uuid, pl->g.uuid, sizeof(pl->g.uuid))) {
		*why = "the journal belongs to another store (uuid)";
		return -EINVAL;
	}
	if (j[best].bind_gen != pl->g.journal_gen) {
		*why = j[best].bind_gen < pl->g.journal_gen ?
		       "the journal is stale: an older binding of this store" :
		       "the journal is newer than the store's binding";
		return -EINVAL;
	}
	jn->sb = j[best];
	jn->sb_slot = best;
	jn->fifo_cap = (u32)min_t(u64, jn->sb.ring_blocks / 2, ILIO_JFIFO_MAX);
	jn->fifo = kvcalloc(jn->fifo_cap, sizeof(*jn->fifo), GFP_KERNEL);
	if (!jn->fifo) {
		*why = "out of memory";
		return -ENOMEM;
	}
	ret = ilio_journal_walk(pl, why);
	return ret;
}

/**
 * ilio_journal_find() - replay: take the unit the chain expects from the
 *	journal
 * @pl: the store, recovering; the unit goes to pl->buf
 * @seg: segment where the chain expects it
 * @off: byte offset there
 * @seq: its sequence number (the epoch is pl->epoch)
 * @why: set when the return is neither 0 nor -ENOENT
 *
 * Looks for exactly that unit (epoch, sequence number, location, whole
 * checksum) in the records the walk found, newest first, and writes it to
 * the LUN at its place, so that what replay builds on is on the LUN (made
 * durable by the open's checkpoint).  A read-only open cannot do that: it
 * is refused.
 *
 * Return: 0 (pl->buf holds the unit); -ENOENT (not in the journal: the
 * end of the log); -EROFS; -EIO; -EINVAL.
 */
int ilio_journal_find(struct ilio_plog *pl, u32 seg, u32 off, u64 seq,
		      const char **why)
{
	struct ilio_journal *jn = pl->jn;
	u64 p = ilio_seg_pos(pl, seg) + off, jb;
	struct ilio_unit_info u;
	const char *end;
	u32 i, in;

	if (!jn || off + ILIO_BLOCK_SIZE > pl->g.seg_bytes)
		return -ENOENT;
	for (i = jn->nr_jx; i--; ) {
		const struct ilio_jx *x = &jn->jx[i];

		if (p < x->pos || p >= x->pos + x->len)
			continue;
		in = (u32)(p - x->pos);
		jb = x->jblock + in / ILIO_BLOCK_SIZE;
		if (jn->ops->read(jn->priv, ilio_jpos(jb), pl->buf, ILIO_BLOCK_SIZE)) {
			*why = "cannot read the journal";
			return -EIO;
		}
		if (ilio_unit_check_hdr(pl->buf, &pl->g, seg, off, pl->epoch, seq,
					&end))
			continue;
		ilio_unit_hdr_unpack(pl->buf, &u);
		if (u.len > x->len - in)
			continue;
		if (u.len > ILIO_BLOCK_SIZE &&
		    jn->ops->read(jn->priv, ilio_jpos(jb + 1),
				  pl->buf + ILIO_BLOCK_SIZE, u.len - ILIO_BLOCK_SIZE)) {
			*why = "cannot read the journal";
			return -EIO;
		}
		if (ilio_unit_check_body(pl->buf, &pl->g, &end))
			continue;
		if (pl->read_only) {
			*why = "journal holds flushed writes the LUN lacks: open read-write once";
			return -EROFS;
		}
		if (pl->ops->write(pl->priv, p, pl->buf, u.len)) {
			*why = "cannot write the journal's units to the backing device";
			return -EIO;
		}
		jn->used++;
		return 0;
	}
	return -ENOENT;
}

/**
 * ilio_journal_reset() - after an open: start the ring afresh
 * @pl: the store, its new chain anchored (everything replayed is durable
 *	on the LUN)
 *
 * Every record from before is now covered by the LUN: the persisted tail
 * moves to the head.  The recovery index is dropped.
 *
 * Return: 0; a journal write error leaves the journal failed (flushes go
 * to the LUN) and is not an error of the open.
 */
int ilio_journal_reset(struct ilio_plog *pl)
{
	struct ilio_journal *jn = pl->jn;
	struct ilio_space *sp = pl->base.sp;
	int ret;

	if (!jn)
		return 0;
	kvfree(jn->jx);
	jn->jx = NULL;
	jn->nr_jx = 0;
	jn->jx_cap = 0;
	mutex_lock(&jn->mutex);
	ret = ilio_journal_write_sb(jn, jn->head, jn->head_seq);
	mutex_unlock(&jn->mutex);
	down_write(&sp->lock);
	if (ret) {
		jn->failed = true;
		pr_err("device-mapper: ilio: %s: journal superblock write failed (%d): flushes go to the backing device\n",
		       jn->name, ret);
	}
	jn->covered = pl->durable_seq;
	sp->store_bytes = ilio_plog_mem_bytes(pl);
	up_write(&sp->lock);
	return 0;
}

/* Drop the live records the LUN now holds durably.  Both locks held. */
static void __ilio_journal_trim(struct ilio_plog *pl)
{
	struct ilio_journal *jn = pl->jn;

	while (jn->fifo_len &&
	       jn->fifo[jn->fifo_head].last_useq <= pl->durable_seq) {
		jn->fifo_head = (jn->fifo_head + 1) % jn->fifo_cap;
		jn->fifo_len--;
	}
}

/* Ring block where the oldest live record starts (the head when none). */
static void ilio_journal_tail(struct ilio_journal *jn, u64 *pos, u64 *seq)
{
	if (jn->fifo_len) {
		*pos = jn->fifo[jn->fifo_head].pos;
		*seq = jn->fifo[jn->fifo_head].seq;
	} else {
		*pos = jn->head;
		*seq = jn->head_seq;
	}
}

/*
 * Where a record of @need blocks goes, given the persisted tail t and the
 * head h (reserved: [t, h), circularly): at the head, or at block 0 when
 * it does not fit before the ring's end; never onto the reserved blocks,
 * and never so that the head lands on the tail (an empty ring).
 * Return: its ring block, or -1.
 */
static s64 ilio_journal_place(struct ilio_journal *jn, u64 need)
{
	u64 r = jn->sb.ring_blocks, h = jn->head, t = jn->sb.tail_pos;

	if (jn->fifo_len == jn->fifo_cap || need >= r)
		return -1;
	if (h >= t) {
		if (h + need <= r)
			return (h + need) % r == t ? -1 : (s64)h;
		return need < t ? 0 : -1;
	}
	return h + need < t ? (s64)h : -1;
}

/* A journal write failed: from now on flushes go to the LUN. */
static void ilio_journal_fail(struct ilio_plog *pl, int err)
{
	struct ilio_space *sp = pl->base.sp;

	down_write(&sp->lock);
	if (!pl->jn->failed)
		pr_err("device-mapper: ilio: %s: journal write failed (%d): flushes go to the backing device from now on\n",
		       pl->jn->name, err);
	pl->jn->failed = true;
	up_write(&sp->lock);
}

/*
 * Collect the closed, unwritten units newer than @lo from the write-back
 * queue (log order) and pin their segments.  Return: false when they do
 * not fit one record (the caller takes the LUN path).
 */
static bool __ilio_journal_gather(struct ilio_plog *pl, u64 lo,
				  struct ilio_jgather *jg)
{
	struct ilio_space *sp = pl->base.sp;
	u32 i, idx, off;

	jg->n = 0;
	jg->bytes = 0;
	for (i = 0; i < pl->wbq_len; i++) {
		struct ilio_seg *seg;

		idx = pl->wbq[(pl->wbq_head + i) % pl->g.nr_segs];
		seg = &sp->segs.segs[idx];
		off = seg->written;
		while (off < seg->closed) {
			struct ilio_unit_info u;

			ilio_unit_hdr_unpack(seg->data + off, &u);
			if (u.seq > lo || WARN_ON(!u.len))
				break;
			off += u.len;
		}
		if (off >= seg->closed)
			continue;
		if (jg->n == ILIO_JREC_MAX_EXT ||
		    jg->bytes + seg->closed - off > pl->jn->max_data)
			return false;
		jg->seg[jg->n] = idx;
		jg->off[jg->n] = off;
		jg->len[jg->n] = seg->closed - off;
		jg->bytes += seg->closed - off;
		jg->n++;
	}
	for (i = 0; i < jg->n; i++)
		__ilio_seg_pin(&sp->segs, jg->seg[i]);
	return true;
}

static void __ilio_journal_unpin(struct ilio_plog *pl, struct ilio_jgather *jg)
{
	struct ilio_space *sp = pl->base.sp;
	u32 i;

	for (i = 0; i < jg->n; i++) {
		__ilio_seg_unpin(&sp->segs, jg->seg[i]);
		__ilio_plog_finalize(pl, jg->seg[i]);
	}
	jg->n = 0;
}

/*
 * Checksum each unit of a run copied into a record.  The checksum field
 * does not enter the checksum, so the copy's is the one write-back gives
 * the unit in the segment, whether or not (or while) it sealed it there:
 * the journal never depends on when write-back seals.
 */
static void ilio_journal_seal_units(u8 *run, u32 len)
{
	struct ilio_unit_info u;
	u32 off = 0;

	while (off < len) {
		if (WARN_ON(!ilio_unit_hdr_unpack(run + off, &u) ||
			    u.len < ILIO_BLOCK_SIZE || u.len > len - off))
			return;
		ilio_unit_seal(run + off, u.len);
		off += u.len;
	}
}

/* Build the record of @jg at ring block @pos in jn->buf and write it. */
static int ilio_journal_write_rec(struct ilio_plog *pl, struct ilio_jgather *jg,
				  u64 pos, u64 last_useq)
{
	struct ilio_journal *jn = pl->jn;
	struct ilio_space *sp = pl->base.sp;
	struct ilio_jrec_info r = {
		.blocknr = pos,
		.seq = jn->head_seq,
		.bind_gen = jn->sb.bind_gen,
		.blocks = 1 + jg->bytes / ILIO_BLOCK_SIZE,
		.nr_ext = jg->n,
		.last_useq = last_useq,
	};
	u8 *d = jn->buf + ILIO_BLOCK_SIZE;
	u32 i;

	memcpy(r.uuid, jn->sb.uuid, sizeof(r.uuid));
	memset(jn->buf, 0, ILIO_BLOCK_SIZE);
	ilio_jrec_pack(jn->buf, &r);
	for (i = 0; i < jg->n; i++) {
		/* Closed units never change, and the pin keeps the buffer. */
		ilio_jext_pack(jn->buf, i, ilio_seg_pos(pl, jg->seg[i]) + jg->off[i],
			       jg->len[i]);
		memcpy(d, sp->segs.segs[jg->seg[i]].data + jg->off[i], jg->len[i]);
		ilio_journal_seal_units(d, jg->len[i]);
		d += jg->len[i];
	}
	ilio_jrec_seal(jn->buf, r.blocks * ILIO_BLOCK_SIZE);
	return jn->ops->write(jn->priv, ilio_jpos(pos), jn->buf,
			      r.blocks * ILIO_BLOCK_SIZE);
}

/**
 * ilio_journal_flush() - make every completed write durable through the
 *	journal
 * @pl: the store, with a journal
 *
 * Closes the open unit.  Units the LUN completed since its last flush are
 * made durable by a LUN flush (background write-back usually did that
 * already); the closed units not written yet go to the journal as one
 * record, written with FUA.  The segments stay in RAM and leave for the
 * LUN whole, later (__ilio_journal_defer()).
 *
 * Return: 0 when the flush is complete; 1 when the caller must take the
 * LUN path instead (journal failed, the data does not fit one record or
 * the ring); -EIO when the LUN failed.
 */
int ilio_journal_flush(struct ilio_plog *pl)
{
	struct ilio_journal *jn = pl->jn;
	struct ilio_space *sp = pl->base.sp;
	struct ilio_jgather *jg = &jn->jg;
	u64 target, lo, written, tpos, tseq, need;
	bool lun_flush;
	s64 pos;
	int ret = 0;

	mutex_lock(&jn->mutex);
	down_write(&sp->lock);
	if (jn->failed || pl->error) {
		up_write(&sp->lock);
		mutex_unlock(&jn->mutex);
		return 1;
	}
	__ilio_plog_close_unit(pl);
	target = pl->closed_seq;
	lo = max(jn->covered, pl->durable_seq);
	written = pl->written_seq;
	if (target <= lo) {
		up_write(&sp->lock);
		mutex_unlock(&jn->mutex);
		return 0;
	}
	lun_flush = written > lo;
	if (!__ilio_journal_gather(pl, max(lo, written), jg)) {
		up_write(&sp->lock);
		mutex_unlock(&jn->mutex);
		return 1;
	}
	jn->pending = target;
	up_write(&sp->lock);

	if (lun_flush) {
		ret = ilio_plog_flush_dev(pl, written);
		if (ret)
			goto out;
	}
	if (jg->n) {
		need = 1 + jg->bytes / ILIO_BLOCK_SIZE;
		down_write(&sp->lock);
		__ilio_journal_trim(pl);
		up_write(&sp->lock);
		pos = ilio_journal_place(jn, need);
		ilio_journal_tail(jn, &tpos, &tseq);
		if (pos < 0 && tpos != jn->sb.tail_pos) {
			/* Free what the LUN covers: move the persisted tail. */
			ret = ilio_journal_write_sb(jn, tpos, tseq);
			if (ret) {
				ilio_journal_fail(pl, ret);
				ret = 1;
				goto out;
			}
			pos = ilio_journal_place(jn, need);
		}
		if (pos < 0) {
			ret = 1;	/* the ring is full of what the LUN lacks */
			goto out;
		}
		ret = ilio_journal_write_rec(pl, jg, (u64)pos, target);
		if (ret) {
			ilio_journal_fail(pl, ret);
			ret = 1;
			goto out;
		}
		jn->fifo[(jn->fifo_head + jn->fifo_len) % jn->fifo_cap] =
			(struct ilio_jlive){ (u64)pos, need, jn->head_seq, target };
		jn->fifo_len++;
		jn->head = ((u64)pos + need) % jn->sb.ring_blocks;
		jn->head_seq++;
	}
	down_write(&sp->lock);
	if (jg->n) {
		sp->st.journal_writes++;
		sp->st.journal_bytes += (jg->bytes + ILIO_BLOCK_SIZE);
	}
	if (target > jn->covered)
		jn->covered = target;
	up_write(&sp->lock);
out:
	down_write(&sp->lock);
	jn->pending = 0;
	__ilio_journal_unpin(pl, jg);
	up_write(&sp->lock);
	mutex_unlock(&jn->mutex);
	return ret;
}

/**
 * __ilio_journal_defer() - may write-back leave segment @idx in RAM?
 * @pl: the store, locked
 * @idx: the segment at the head of the write-back queue
 *
 * The open segment waits to leave whole while the journal covers (or is
 * writing) every unit closed in it; anything else (not journaled units, a failed
 * journal, the LUN path) is written as without a journal.
 *
 * Return: true to stop write-back at @idx for now.
 */
bool __ilio_journal_defer(struct ilio_plog *pl, u32 idx)
{
	struct ilio_space *sp = pl->base.sp;
	struct ilio_journal *jn = pl->jn;

	lockdep_assert_held_write(&sp->lock);
	return jn && !jn->failed && !jn->force && idx == sp->segs.open &&
	       sp->segs.segs[idx].last_seq <= max(jn->covered, jn->pending) &&
	       pl->dirty <= pl->max_dirty;
}

/**
 * ilio_journal_settle() - after background write-back: flush the LUN
 * @pl: the store
 *
 * With a journal no front-end flush reaches the LUN; this one, after
 * whole segments were written, lets the ring free their records.
 */
void ilio_journal_settle(struct ilio_plog *pl)
{
	struct ilio_space *sp = pl->base.sp;
	u64 written;
	bool need;

	if (!pl->jn)
		return;
	down_write(&sp->lock);
	written = pl->written_seq;
	need = !pl->error && written > pl->durable_seq;
	up_write(&sp->lock);
	if (need)
		ilio_plog_flush_dev(pl, written);
}
