// SPDX-License-Identifier: GPL-2.0
/*
 * dm-ilio: a device-mapper target that deduplicates, compresses and caches
 * virtual desktop storage in RAM.
 *
 * This file is the only dm glue: constructor, destructor, map, status,
 * messages and limits.  It cuts bios into 4 KiB blocks for the portable
 * core (ilio-core.c).
 *
 * Locking:
 *  - ilio_devs_lock (mutex) protects the ilio_devs list, each device's
 *    @users, and the ilio_claims list.
 *  - d->msg_lock (mutex) protects d->suspended and the switch of d->bdev
 *    (a path change, ilio_dev_path_switch()); every message holds it
 *    throughout, and presuspend takes it, so no message that changes the
 *    store runs on a suspended device and none reads a path being
 *    switched.  Taken before ilio_devs_lock.
 *  - d->bio_lock (spinlock, irq-safe) protects d->bios.
 *  - d->blk_locks[] serialise writes to one block, so that a partial
 *    write's read-modify-write is atomic against other writes.  A worker
 *    holds at most one at a time.
 *  - The core's own mutex protects the store (ilio-core.h).
 *  - d->lanes[i].lock (mutex) makes one lane (compression context and
 *    bounce block) the map function's on one CPU at a time; taken before
 *    a block lock.
 * map() serves bios in the submitter's context, in memalloc_noio scope,
 * and may sleep on these mutexes, but never waits for I/O: what must goes
 * to a worker (ilio_map_inline()).  Workers run in memalloc_noio scope.
 *
 * Persistent mode adds one ordered workqueue per device (d->bg_wq) for
 * background write-back and the periodic tick (coalescing, GC,
 * checkpoints).  The core's own mutexes order backend I/O (ilio-plog.h).
 */
#include <linux/module.h>
#include <linux/init.h>
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/highmem.h>
#include <linux/percpu.h>

#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/vmalloc.h>
#include <linux/mm.h>
#include <linux/ratelimit.h>
#include <linux/delay.h>
#include <linux/timekeeping.h>
#include <linux/utsname.h>

#include "ilio-target.h"

/*
 * ILIO_VERSION ("1.1.0") and its three numbers come from the top-level
 * VERSION file, through dm-ilio/Kbuild: one version for the module, the
 * target and ilioctl.
 */
#ifndef ILIO_VERSION
#error "ILIO_VERSION is not defined: build through dm-ilio/Kbuild"
#endif

/* Split I/O at 64 KiB so that large bios spread over the workers. */
#define ILIO_MAX_IO_SECTORS	128

static LIST_HEAD(ilio_devs);
static DEFINE_MUTEX(ilio_devs_lock);

/*
 * One store per backing device.  dm opens the devices of every table with
 * one holder for all of dm, so the block layer's exclusive open does not
 * keep two dm devices off one LUN, and two stores there would overwrite
 * each other's log and anchors.  The constructor that creates a store
 * claims its backing device here; the claim goes once the store's close
 * has written its last block.  A reload of the same mapped device shares
 * the store (ilio_dev_get()) and claims nothing.
 *
 * struct ilio_claim - a backing device in use (on ilio_claims)
 * @list: entry in ilio_claims (protected by ilio_devs_lock)
 * @dev: the backing device
 * @owner: the dm disk name of the device whose store is on it
 */
struct ilio_claim {
	struct list_head list;
	dev_t dev;
	char owner[32];
};

static LIST_HEAD(ilio_claims);

/**
 * struct ilio_target - one table's target instance
 * @dev: the device, shared with other tables of the same mapped device
 * @params: this table's parameters
 * @backing: persistent mode: this table's reference to the backing device
 * @journal: persistent mode, optional: its reference to the journal device
 */
struct ilio_target {
	struct ilio_dev *dev;
	struct ilio_params params;
	struct dm_dev *backing;
	struct dm_dev *journal;
};

/* Period of the persistent-mode tick. */
#define ILIO_TICK_MS	100

/*
 * Bio data movement
 */

/* Copy @len bytes between the bio at @iter and @buf; advances @iter. */
static void ilio_bio_copy(struct bio *bio, struct bvec_iter *iter, u8 *buf,
			  unsigned int len, bool to_bio)
{
	while (len) {
		struct bio_vec bv = bio_iter_iovec(bio, *iter);
		unsigned int n = min(len, bv.bv_len);
		u8 *p = bvec_kmap_local(&bv);

		if (to_bio) {
			memcpy(p, buf, n);
			flush_dcache_page(bv.bv_page);
		} else {
			memcpy(buf, p, n);
		}
		kunmap_local(p);
		bio_advance_iter_single(bio, iter, n);
		buf += n;
		len -= n;
	}
}

/*
 * The next step of a walk over a bio in 4 KiB blocks: the block holding
 * @sector, the byte offset in it, and the bytes (at most @left) to move.
 */
static unsigned int ilio_block_step(sector_t sector, unsigned int left,
				    u64 *lba, unsigned int *off)
{
	*lba = sector >> (ILIO_BLOCK_SHIFT - SECTOR_SHIFT);
	*off = (sector << SECTOR_SHIFT) & (ILIO_BLOCK_SIZE - 1);
	return min(left, ILIO_BLOCK_SIZE - *off);
}

static struct mutex *ilio_blk_lock(struct ilio_dev *d, u64 lba)
{
	return &d->blk_locks[hash_64(lba, ilog2(ILIO_BLK_LOCKS))];
}

/*
 * One block's read, for the map function (@nowait: never waits for I/O,
 * -EAGAIN when the block needs the device) or for a worker.
 */
static int ilio_read_block(struct ilio_dev *d, struct ilio_ctx *ctx, u64 lba,
			   u8 *buf, bool nowait)
{
	if (nowait)
		return ilio_core_read_nowait(d->core, lba, buf, ctx);
	return ilio_core_read_ctx(d->core, lba, buf, ctx);
}

/*
 * Write @n bytes at byte @off of block @lba: from the bio at @iter, or
 * zeroes when @iter is NULL (discard, write-zeroes).  A whole block is
 * written directly; a part is merged into the old content first.  With
 * @nowait, see ilio_core_write_nowait().
 */
static int ilio_write_part(struct ilio_dev *d, struct ilio_ctx *ctx, u8 *bounce,
			   struct bio *bio, struct bvec_iter *iter, u64 lba,
			   unsigned int off, unsigned int n, bool nowait)
{
	struct mutex *bl = ilio_blk_lock(d, lba);
	int ret = 0;

	if (n == ILIO_BLOCK_SIZE) {
		if (!iter) {
			mutex_lock(bl);
			ret = nowait ? ilio_core_discard_nowait(d->core, lba) :
				       ilio_core_discard(d->core, lba);
			mutex_unlock(bl);
			return ret;
		}
		ilio_bio_copy(bio, iter, bounce, n, false);
		mutex_lock(bl);
		ret = nowait ? ilio_core_write_nowait(d->core, lba, bounce, ctx) :
			       ilio_core_write(d->core, lba, bounce, ctx);
		mutex_unlock(bl);
		return ret;
	}
	mutex_lock(bl);
	ret = ilio_read_block(d, ctx, lba, bounce, nowait);
	if (!ret) {
		if (iter)
			ilio_bio_copy(bio, iter, bounce + off, n, false);
		else
			memset(bounce + off, 0, n);
		ret = nowait ? ilio_core_write_nowait(d->core, lba, bounce, ctx) :
			       ilio_core_write(d->core, lba, bounce, ctx);
	}
	mutex_unlock(bl);
	return ret;
}

static const char *ilio_op_word(enum req_op op)
{
	return op == REQ_OP_READ ? "read" : op == REQ_OP_WRITE ? "write" :
	       "discard";
}

/*
 * Walk a bio block by block from @io->done on, and advance @io->done past
 * each block served.  @op: REQ_OP_READ, _WRITE or _DISCARD.  With @nowait
 * (the map function) nothing waits for I/O: the walk stops with -EAGAIN
 * at the first block that would, and a worker goes on from there (every
 * block before it is done; the one it stopped at is unchanged).  A write
 * that owes write-back sets @io->owes_wb.
 *
 * Return: 0, -EAGAIN (with @nowait only), or the error that ended the bio.
 */
/*
 * A write refused with ENOSPC: say which space is full and how full, not
 * an errno.  Persistent: the backing device when under an eighth of its
 * log is free segments, or when the RAM budget is not nearly full (GC's
 * reserve of free segments may be all that is left), else the RAM budget
 * (metadata filled it).
 */
static void ilio_log_nospc(struct ilio_dev *d, enum req_op op, sector_t sector)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL,
				      DEFAULT_RATELIMIT_BURST);
	struct ilio_stats st;

	if (!__ratelimit(&rs))
		return;
	ilio_core_get_stats(d->core, &st);
	if (d->persistent && (st.backend_free_bytes * 8 < st.backend_bytes ||
			      st.ram_used_bytes * 8 < st.ram_limit_bytes * 7))
		DMERR("%s: %s at sector %llu: backing device full: %llu MiB live in a %llu MiB log",
		      d->name, ilio_op_word(op), (unsigned long long)sector,
		      st.stored_bytes >> 20, st.backend_bytes >> 20);
	else
		DMERR("%s: %s at sector %llu: RAM budget full: %llu of %llu MiB used",
		      d->name, ilio_op_word(op), (unsigned long long)sector,
		      st.ram_used_bytes >> 20, st.ram_limit_bytes >> 20);
}

static int ilio_walk_bio(struct ilio_dev *d, struct ilio_ctx *ctx, u8 *bounce,
			 struct bio *bio, struct ilio_io *io, enum req_op op,
			 bool nowait)
{
	struct bvec_iter iter = bio->bi_iter;
	sector_t sector;
	unsigned int left;
	int ret = 0;

	bio_advance_iter(bio, &iter, io->done);
	sector = iter.bi_sector;
	left = iter.bi_size;
	/* A worker's multi-block read: one device read for neighbours. */
	if (op == REQ_OP_READ && !nowait && left > ILIO_BLOCK_SIZE)
		ilio_core_prefetch(d->core, sector >> (ILIO_BLOCK_SHIFT - SECTOR_SHIFT),
				   DIV_ROUND_UP(left + ((sector << SECTOR_SHIFT) &
						(ILIO_BLOCK_SIZE - 1)), ILIO_BLOCK_SIZE));
	while (left) {
		u64 lba, skip;
		unsigned int off, n = ilio_block_step(sector, left, &lba, &off);

		if (op != REQ_OP_READ && op != REQ_OP_WRITE &&
		    n == ILIO_BLOCK_SIZE && !off) {
			/* Discard or zeroes over never-mapped leaves: nothing to do. */
			skip = ilio_core_unmapped_run(d->core, lba, left >> ILIO_BLOCK_SHIFT);
			if (skip) {
				sector += skip << (ILIO_BLOCK_SHIFT - SECTOR_SHIFT);
				left -= skip << ILIO_BLOCK_SHIFT;
				io->done += skip << ILIO_BLOCK_SHIFT;
				cond_resched();
				continue;
			}
		}
		if (op == REQ_OP_READ && n == ILIO_BLOCK_SIZE &&
		    bio_iter_len(bio, iter) >= ILIO_BLOCK_SIZE) {
			/* The block lies in one page: decode straight into it. */
			struct bio_vec bv = bio_iter_iovec(bio, iter);
			u8 *p = bvec_kmap_local(&bv);

			ret = ilio_read_block(d, ctx, lba, p, nowait);
			flush_dcache_page(bv.bv_page);
			kunmap_local(p);
			if (ret)
				break;
			bio_advance_iter_single(bio, &iter, n);
		} else if (op == REQ_OP_READ) {
			ret = ilio_read_block(d, ctx, lba, bounce, nowait);
			if (ret)
				break;
			ilio_bio_copy(bio, &iter, bounce + off, n, true);
		} else {
			ret = ilio_write_part(d, ctx, bounce, bio,
					      op == REQ_OP_WRITE ? &iter : NULL,
					      lba, off, n, nowait);
			if (ret == ILIO_OWES_WRITEBACK) {
				io->owes_wb = true;
				ret = 0;
			}
			if (ret)
				break;
		}
		sector += n >> SECTOR_SHIFT;
		left -= n;
		io->done += n;
		/* A whole-device discard is one bio of millions of blocks. */
		if (!(lba & 255))
			cond_resched();
	}
	if (ret == -ENOSPC)
		ilio_log_nospc(d, op, sector);
	else if (ret && ret != -EAGAIN)
		DMERR_LIMIT("%s: %s at sector %llu failed: %d", d->name,
			    ilio_op_word(op), (unsigned long long)sector, ret);
	return ret;
}

/* The walk's REQ_OP_* for @bio: discards and zeroes are one kind. */
static enum req_op ilio_walk_op(struct bio *bio)
{
	return bio_op(bio) == REQ_OP_WRITE_ZEROES ? REQ_OP_DISCARD : bio_op(bio);
}

/* A bio's status from the core's errno. */
static void ilio_bio_end(struct bio *bio, int ret)
{
	/*
	 * The core waits out memory pressure (ilio_core_relieve()).  Should
	 * -EAGAIN or -ENOMEM still come back, a bio that did not ask for
	 * REQ_NOWAIT must not complete with BLK_STS_AGAIN or _RESOURCE.
	 */
	if (ret == -EAGAIN || ret == -ENOMEM)
		ret = -EIO;
	bio->bi_status = errno_to_blk_status(ret);
	bio_endio(bio);
}

/*
 * A worker finishes what the map function could not: the flush before
 * the data, the blocks from @io->done on, the write-back the inline part
 * owes, and the flush after it (FUA).
 */
static void ilio_process_bio(struct ilio_dev *d, struct ilio_worker *wk,
			     struct bio *bio)
{
	struct ilio_io *io = dm_per_bio_data(bio, sizeof(struct ilio_io));
	int ret = 0;

	switch (bio_op(bio)) {
	case REQ_OP_WRITE:
		/* Diskless: nothing is volatile, ilio_core_flush() is a no-op. */
		if ((bio->bi_opf & REQ_PREFLUSH) && !io->done) {
			ret = ilio_core_flush(d->core);
			if (ret)
				break;
		}
		if (io->done < bio->bi_iter.bi_size)
			ret = ilio_walk_bio(d, &wk->ctx, wk->bounce, bio, io,
					    REQ_OP_WRITE, false);
		if (!ret && io->owes_wb)
			ret = ilio_core_writeback(d->core);
		if (!ret && (bio->bi_opf & REQ_FUA) && bio->bi_iter.bi_size)
			ret = ilio_core_flush(d->core);
		break;
	case REQ_OP_READ:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		ret = ilio_walk_bio(d, &wk->ctx, wk->bounce, bio, io,
				    ilio_walk_op(bio), false);
		if (!ret && io->owes_wb)
			ret = ilio_core_writeback(d->core);
		break;
	default:
		ret = -EOPNOTSUPP;
		break;
	}
	ilio_bio_end(bio, ret);
}

static void ilio_worker_fn(struct work_struct *work)
{
	struct ilio_worker *wk = container_of(work, struct ilio_worker, work);
	struct ilio_dev *d = wk->dev;
	unsigned int noio = memalloc_noio_save();
	struct bio *bio;

	for (;;) {
		spin_lock_irq(&d->bio_lock);
		bio = bio_list_pop(&d->bios);
		spin_unlock_irq(&d->bio_lock);
		if (!bio)
			break;
		ilio_process_bio(d, wk, bio);
		cond_resched();
	}
	memalloc_noio_restore(noio);
}

/*
 * Backing device access for the core (struct ilio_backend_ops).  Buffers
 * are kmalloc'ed or vmalloc'ed.  Reads, flushes, discards and @write are
 * synchronous; @write_async (segment write-back) submits and returns, and
 * its completion runs from the bio's end_io.  A write of a segment leaves
 * as one bio (up to BIO_MAX_VECS pages), or a chain of them.
 */

/* Add as much of [@p, @p + @len) to @bio as it takes; returns the bytes. */
static u32 ilio_bio_fill(struct bio *bio, u8 *p, u32 len)
{
	u32 done = 0;

	while (done < len) {
		u8 *q = p + done;
		unsigned int off = offset_in_page(q);
		unsigned int n = min_t(u32, PAGE_SIZE - off, len - done);
		struct page *pg = is_vmalloc_addr(q) ? vmalloc_to_page(q) :
						       virt_to_page(q);

		if (bio_add_page(bio, pg, n, off) != n)
			break;
		done += n;
	}
	return done;
}

static int ilio_bdev_rw(struct block_device *bdev, blk_opf_t opf, u64 pos,
			u8 *p, u32 len)
{
	int ret = 0;

	while (len && !ret) {
		struct bio *bio = bio_alloc(bdev, BIO_MAX_VECS, opf, GFP_NOIO);
		u32 done;

		bio->bi_iter.bi_sector = pos >> SECTOR_SHIFT;
		done = ilio_bio_fill(bio, p, len);
		ret = submit_bio_wait(bio);
		bio_put(bio);
		p += done;
		pos += done;
		len -= done;
	}
	return ret;
}

/*
 * The multihost guard's check before a write to the backing or journal
 * device (ilio_mmp_may_write()): once another host took the store over,
 * nothing is written any more.  The first write of an activation confirms
 * its claim (it may sleep).
 *
 * While this host's lease has run out (its heartbeats are late: a LUN
 * that stalls writes for longer than the fence, a multipath failover),
 * the write waits for the next beat instead of failing: a beat that finds
 * the record still ours renews the lease (and the write then waits for
 * the confirm, as after a claim), one that finds it taken fails the
 * device.  So a stall that no other host used costs time, not the device.
 * The wait ends with an error when a beat fails with an I/O error (the
 * lease cannot be renewed) or the beats stop (suspend, removal).  The
 * beat is issued from @mmp_wq, never from the waiting context, so this
 * waits for no bio the waiter submitted (the rule for map(), in
 * ilio-design.rst "Locking").
 */
static int ilio_dev_may_write(struct ilio_dev *d)
{
	bool waited = false;
	u64 beats;
	int ret;

	if (!d->mmp_on)
		return 0;
	for (;;) {
		beats = READ_ONCE(d->beats);
		smp_rmb();	/* the beat count before the lease it renewed */
		ret = ilio_mmp_may_write(&d->mmp);
		if (ret != -ETIMEDOUT || !READ_ONCE(d->beating) ||
		    (waited && READ_ONCE(d->beat_ret)))
			break;
		if (!waited)
			DMWARN_LIMIT("%s: the multihost lease ran out (heartbeats late): %s",
				     d->name, "writes wait for the next heartbeat");
		wait_event(d->beat_wait, READ_ONCE(d->beats) != beats ||
			   !READ_ONCE(d->beating));
		waited = true;
	}
	if (!ret)
		return 0;
	DMERR_LIMIT("%s: write to the backing device refused: %s", d->name,
		    ret == -ETIMEDOUT ? "the multihost lease ran out (heartbeats late)" :
		    "this device does not hold the store (another host took it)");
	return -EIO;
}

static int ilio_be_read(void *priv, u64 pos, void *buf, u32 len)
{
	struct ilio_dev *d = priv;

	return ilio_bdev_rw(d->bdev, REQ_OP_READ, pos, buf, len);
}

static int ilio_be_write(void *priv, u64 pos, const void *buf, u32 len)
{
	struct ilio_dev *d = priv;
	int ret = ilio_dev_may_write(d);

	if (ret)
		return ret;
	return ilio_bdev_rw(d->bdev, REQ_OP_WRITE | REQ_SYNC, pos, (u8 *)buf,
			    len);
}

/* Interrupt context: hand the result to the core, which only records it. */
static void ilio_be_write_endio(struct bio *bio)
{
	struct ilio_backend_io *io = bio->bi_private;
	int err = blk_status_to_errno(bio->bi_status);

	bio_put(bio);
	io->done(io, err);
}

/*
 * Submit a write of [@pos, @pos + @len) and return.  Bios past the first
 * BIO_MAX_VECS pages are chained to the last one, which carries the
 * completion: it runs once all of them completed, with the first error.
 * bio_alloc() with GFP_NOIO waits on the bio mempool at worst, never on
 * I/O this device issued.
 */
static void ilio_be_write_async(void *priv, u64 pos, const void *buf, u32 len,
				struct ilio_backend_io *io)
{
	struct ilio_dev *d = priv;
	u8 *p = (u8 *)buf;
	struct bio *prev = NULL, *bio;

	if (WARN_ON_ONCE(!len)) {
		io->done(io, 0);
		return;
	}
	if (ilio_dev_may_write(d)) {
		io->done(io, -EIO);
		return;
	}
	if (is_vmalloc_addr(p))
		flush_kernel_vmap_range(p, len);
	for (;;) {
		u32 done;

		bio = bio_alloc(d->bdev, BIO_MAX_VECS, REQ_OP_WRITE | REQ_SYNC,
				GFP_NOIO);
		bio->bi_iter.bi_sector = pos >> SECTOR_SHIFT;
		done = ilio_bio_fill(bio, p, len);
		if (prev) {
			bio_chain(prev, bio);
			submit_bio(prev);
		}
		prev = bio;
		p += done;
		pos += done;
		len -= done;
		if (!len)
			break;
	}
	bio->bi_end_io = ilio_be_write_endio;
	bio->bi_private = io;
	submit_bio(bio);
}

static int ilio_be_flush(void *priv)
{
	struct ilio_dev *d = priv;

	return blkdev_issue_flush(d->bdev);
}

static int ilio_be_discard(void *priv, u64 pos, u64 len)
{
	struct ilio_dev *d = priv;
	int ret = ilio_dev_may_write(d);

	if (ret)
		return ret;
	return blkdev_issue_discard(d->bdev, pos >> SECTOR_SHIFT,
				    len >> SECTOR_SHIFT, GFP_NOIO);
}

static void ilio_be_kick(void *priv)
{
	struct ilio_dev *d = priv;

	queue_work(d->bg_wq, &d->wb_work);
}

static const struct ilio_backend_ops ilio_be_ops = {
	.read = ilio_be_read,
	.write = ilio_be_write,
	.write_async = ilio_be_write_async,
	.flush = ilio_be_flush,
	.discard = ilio_be_discard,
	.kick = ilio_be_kick,
};

/*
 * The journal device (struct ilio_core_params @jops): every write is
 * FUA, so that it is durable when it completes; no flush is needed.
 */
static int ilio_jbe_read(void *priv, u64 pos, void *buf, u32 len)
{
	struct ilio_dev *d = priv;

	return ilio_bdev_rw(d->jbdev, REQ_OP_READ, pos, buf, len);
}

static int ilio_jbe_write(void *priv, u64 pos, const void *buf, u32 len)
{
	struct ilio_dev *d = priv;
	int ret = ilio_dev_may_write(d);

	if (ret)
		return ret;
	return ilio_bdev_rw(d->jbdev, REQ_OP_WRITE | REQ_SYNC | REQ_FUA, pos,
			    (u8 *)buf, len);
}

static int ilio_jbe_flush(void *priv)
{
	struct ilio_dev *d = priv;

	return blkdev_issue_flush(d->jbdev);
}

static const struct ilio_backend_ops ilio_jbe_ops = {
	.read = ilio_jbe_read,
	.write = ilio_jbe_write,
	.flush = ilio_jbe_flush,
};

static const struct ilio_backend_ops ilio_be_ops_nodiscard = {
	.read = ilio_be_read,
	.write = ilio_be_write,
	.write_async = ilio_be_write_async,
	.flush = ilio_be_flush,
	.kick = ilio_be_kick,
};

static void ilio_wb_fn(struct work_struct *work)
{
	struct ilio_dev *d = container_of(work, struct ilio_dev, wb_work);
	unsigned int noio = memalloc_noio_save();

	ilio_core_writeback(d->core);
	memalloc_noio_restore(noio);
}

/*
 * dm events (dmsetup wait, dmeventd): a mode change (read-only, fail) and
 * the backing device getting nearly full, or no longer.  The core reports
 * a mode change from whatever context it happened in; dm_table_event()
 * may sleep, so a work item raises it, on the live table.
 */
static void ilio_event_fn(struct work_struct *work)
{
	struct ilio_dev *d = container_of(work, struct ilio_dev, event_work);

	mutex_lock(&d->event_lock);
	if (d->live_ti)
		dm_table_event(d->live_ti->table);
	else
		d->event_pending = true;
	mutex_unlock(&d->event_lock);
}

/* struct ilio_core_params @event: any context. */
static void ilio_dev_event(void *priv)
{
	struct ilio_dev *d = priv;

	schedule_work(&d->event_work);
}

/*
 * The backing device is nearly full when live data (stored_bytes) reaches
 * ILIO_LOW_SPACE_PCT of its log area, or when a write got ENOSPC since the
 * last tick; no longer once live data is ILIO_LOW_SPACE_HYST points below
 * that and no write got ENOSPC.  Each change is one log line and one dm
 * event, as dm-thin raises one when its pool runs low.
 */
#define ILIO_LOW_SPACE_PCT	80
#define ILIO_LOW_SPACE_HYST	10

static void ilio_check_space(struct ilio_dev *d, const struct ilio_stats *st)
{
	u64 size = st->backend_bytes, live = st->stored_bytes;
	bool nospc = st->nospc_errors > d->nospc_seen, low;

	d->nospc_seen = st->nospc_errors;
	if (!size)
		return;
	if (d->low_space)
		low = nospc ||
		      live * 100 >= size * (ILIO_LOW_SPACE_PCT - ILIO_LOW_SPACE_HYST);
	else
		low = nospc || live * 100 >= size * ILIO_LOW_SPACE_PCT;
	if (low == d->low_space)
		return;
	d->low_space = low;
	if (low)
		DMWARN("%s: backing device nearly full: %llu MiB live in a %llu MiB log%s",
		       d->name, live >> 20, size >> 20,
		       nospc ? "; writes get ENOSPC" : "");
	else
		DMINFO("%s: backing device no longer nearly full: %llu MiB live in a %llu MiB log",
		       d->name, live >> 20, size >> 20);
	schedule_work(&d->event_work);
}

static void ilio_tick_fn(struct work_struct *work)
{
	struct ilio_dev *d = container_of(to_delayed_work(work), struct ilio_dev,
					  tick);
	unsigned int noio = memalloc_noio_save();

	struct ilio_stats st;

	ilio_core_tick(d->core);
	memalloc_noio_restore(noio);
	ilio_core_get_stats(d->core, &st);
	if (!d->damage_logged && st.chunks_damaged) {
		d->damage_logged = true;
		DMERR("%s: %llu damaged chunk(s) on the backing device read as EIO",
		      d->name, (unsigned long long)st.chunks_damaged);
	}
	ilio_check_space(d, &st);
	if (READ_ONCE(d->ticking))
		queue_delayed_work(d->bg_wq, &d->tick,
				   msecs_to_jiffies(ILIO_TICK_MS));
}

/*
 * The multihost guard (ilio-mmp.h) of a read-write persistent store.
 * Its own I/O goes straight to the backing device, FUA (no flush of the
 * whole device), never through
 * ilio_dev_may_write(); its clocks are the kernel's.  The record is
 * claimed before the store is opened (ilio_dev_mmp_start()), beaten from
 * @mmp_wq every interval while the device is not suspended (see
 * ilio_dev_mmp_pause()), and released (CLEAN) once the store's close has
 * written its last block.
 */
static int ilio_mmp_kread(void *priv, u64 pos, void *buf, u32 len)
{
	struct ilio_dev *d = priv;

	return ilio_bdev_rw(d->bdev, REQ_OP_READ, pos, buf, len);
}

static int ilio_mmp_kwrite(void *priv, u64 pos, const void *buf, u32 len)
{
	struct ilio_dev *d = priv;

	return ilio_bdev_rw(d->bdev, REQ_OP_WRITE | REQ_SYNC | REQ_FUA, pos,
			    (u8 *)buf, len);
}

static void ilio_mmp_ksleep(void *priv, u32 ms)
{
	msleep(ms);
}

static u64 ilio_mmp_know(void *priv)
{
	return div_u64(ktime_get_ns(), NSEC_PER_MSEC);
}

static s64 ilio_mmp_kwall(void *priv)
{
	return ktime_get_real_seconds();
}

static const struct ilio_mmp_ops ilio_mmp_kops = {
	.read = ilio_mmp_kread,
	.write = ilio_mmp_kwrite,
	.sleep = ilio_mmp_ksleep,
	.now_ms = ilio_mmp_know,
	.wall = ilio_mmp_kwall,
};

/* Seconds since the record @r was written, by this host's clock. */
static long long ilio_mmp_ago(const struct ilio_mmp_info *r)
{
	return ktime_get_real_seconds() - r->time;
}

/*
 * One heartbeat (ilio_mmp_beat()) and what follows from it; @resume: the
 * first after a suspend (a lease that ran out meanwhile is no news).  Return: true
 * while the device holds the store (beat again), false once another host
 * took it over (the device is in fail mode then).
 */
static bool ilio_dev_beat(struct ilio_dev *d, bool resume)
{
	unsigned int noio = memalloc_noio_save();
	u32 expired = d->mmp.expired;
	struct ilio_core *core;
	int ret;

	ret = ilio_mmp_beat(&d->mmp);
	memalloc_noio_restore(noio);
	WRITE_ONCE(d->beat_ret, ret);
	smp_wmb();	/* the result before the count (ilio_dev_may_write()) */
	WRITE_ONCE(d->beats, d->beats + 1);
	wake_up_all(&d->beat_wait);
	core = READ_ONCE(d->core);
	if (ret == -EBUSY) {
		DMERR("%s: host %s took the store over: this device writes nothing more",
		      d->name, d->mmp.prev.node[0] ? d->mmp.prev.node : "(unknown)");
		if (core)
			ilio_core_set_mode(core, ILIO_MODE_FAIL,
					   "another host took the store over", ret);
		return false;
	}
	if (ret)
		DMWARN_LIMIT("%s: heartbeat failed: %d", d->name, ret);
	else if (d->mmp.expired != expired && !resume)
		DMWARN("%s: heartbeats were late (lease of %u ms ran out); renewed",
		       d->name, d->mmp.fence_ms);
	return true;
}

static void ilio_beat_fn(struct work_struct *work)
{
	struct ilio_dev *d = container_of(to_delayed_work(work), struct ilio_dev,
					  beat);

	if (ilio_dev_beat(d, false) && READ_ONCE(d->beating))
		queue_delayed_work(d->mmp_wq, &d->beat,
				   msecs_to_jiffies(d->mmp.interval_ms));
}

/*
 * Claim the store on @backing for this read-write activation before it
 * is opened; start beating.  A refusal sets ti->error.
 */
static int ilio_dev_mmp_start(struct ilio_dev *d, struct dm_target *ti,
			      struct dm_dev *backing, bool takeover)
{
	struct ilio_mmp *m = &d->mmp;
	int ret;

	ret = ilio_mmp_init(m, &ilio_mmp_kops, d, utsname()->nodename);
	if (ret) {
		ti->error = "Cannot allocate device";
		return ret;
	}
	d->mmp_init = true;
	INIT_DELAYED_WORK(&d->beat, ilio_beat_fn);
	init_waitqueue_head(&d->beat_wait);
	d->mmp_wq = alloc_ordered_workqueue("ilio-mmp-%s",
					    WQ_MEM_RECLAIM | WQ_HIGHPRI, d->name);
	if (!d->mmp_wq) {
		ti->error = "Cannot allocate workqueue";
		return -ENOMEM;
	}
	ret = ilio_mmp_acquire(m, bdev_nr_bytes(d->bdev), takeover);
	if (ret == -EBUSY) {
		DMERR("%s: the store on %s is in use by host %s (heartbeat %lld s ago)",
		      d->name, backing->name, m->prev.node[0] ? m->prev.node : "(unknown)",
		      ilio_mmp_ago(&m->prev));
		ti->error = "Store in use by another host (see the kernel log; takeover forces)";
		return ret;
	}
	if (ret) {
		DMERR("%s: cannot read or write the multihost record on %s: %d",
		      d->name, backing->name, ret);
		ti->error = "Cannot read or write the multihost record";
		return ret;
	}
	if (!m->guarded)
		return 0;	/* no superblock: the store's open refuses it */
	d->mmp_on = true;
	if (m->took_over && m->found == ILIO_MMP_FOUND_INVALID)
		DMWARN("%s: %s the store on %s from an unreadable multihost record",
		       d->name, takeover ? "TAKEOVER: took" : "took", backing->name);
	else if (m->took_over && takeover)
		DMWARN("%s: TAKEOVER: took the store on %s from host %s (heartbeat %lld s ago)",
		       d->name, backing->name, m->prev.node, ilio_mmp_ago(&m->prev));
	else if (m->took_over)
		DMWARN("%s: took the store on %s from host %s: its heartbeat stopped %lld s ago",
		       d->name, backing->name, m->prev.node, ilio_mmp_ago(&m->prev));
	if (m->took_over && takeover)
		DMWARN("%s: TAKEOVER, no wait: if that host still writes, the store is corrupted",
		       d->name);
	WRITE_ONCE(d->beating, true);
	queue_delayed_work(d->mmp_wq, &d->beat, msecs_to_jiffies(m->interval_ms));
	return 0;
}

/*
 * A suspended device writes nothing to its LUN (a copy or snapshot of it
 * is exact), heartbeats included: they stop after the suspend's last
 * write-back.  The resume beats at once, before any write (a beat after
 * the lease ran out renews it, unless another host took the store over
 * meanwhile: a suspend longer than the standby's wait lets it), and
 * beats go on.
 */
static void ilio_dev_mmp_pause(struct ilio_dev *d)
{
	if (!d->mmp_on || !d->beating)
		return;
	WRITE_ONCE(d->beating, false);
	cancel_delayed_work_sync(&d->beat);
	wake_up_all(&d->beat_wait);
}

static void ilio_dev_mmp_resume(struct ilio_dev *d)
{
	if (!d->mmp_on || d->beating || !ilio_dev_beat(d, true))
		return;
	WRITE_ONCE(d->beating, true);
	queue_delayed_work(d->mmp_wq, &d->beat, msecs_to_jiffies(d->mmp.interval_ms));
}

/* A read-only activation claims nothing; it warns if a host holds it. */
static void ilio_dev_mmp_peek(struct ilio_dev *d, struct dm_dev *backing)
{
	struct ilio_mmp *m = &d->mmp;

	if (ilio_mmp_init(m, &ilio_mmp_kops, d, utsname()->nodename))
		return;
	d->mmp_init = true;
	if (ilio_mmp_peek(m, bdev_nr_bytes(d->bdev)) == ILIO_MMP_FOUND_ACTIVE)
		DMWARN("%s: read-only, but host %s holds the store on %s (heartbeat %lld s ago)",
		       d->name, m->prev.node, backing->name, ilio_mmp_ago(&m->prev));
}

/*
 * Stop beating; then mark the store CLEAN if it was opened (its close has
 * written its last block), or put the record back as it was if the open
 * failed.  Either only while the record is still ours.
 */
static void ilio_dev_mmp_stop(struct ilio_dev *d, bool opened)
{
	if (d->mmp_wq) {
		WRITE_ONCE(d->beating, false);
		cancel_delayed_work_sync(&d->beat);
		wake_up_all(&d->beat_wait);
		destroy_workqueue(d->mmp_wq);
	}
	if (!d->mmp_init)
		return;
	if (d->mmp_on && !opened)
		ilio_mmp_abort(&d->mmp);
	else if (d->mmp_on && ilio_mmp_release(&d->mmp))
		DMWARN("%s: cannot mark the multihost record clean: the next activation waits",
		       d->name);
	ilio_mmp_exit(&d->mmp);
}

/*
 * Devices: created by the first table of a mapped device, kept across
 * reloads, destroyed with its last table.
 */

static void ilio_dev_destroy(struct ilio_dev *d)
{
	unsigned int i;
	bool opened;

	ilio_sysfs_del(d);
	if (d->bg_wq) {
		WRITE_ONCE(d->ticking, false);
		cancel_delayed_work_sync(&d->tick);
		flush_work(&d->wb_work);
		destroy_workqueue(d->bg_wq);
	}
	if (d->wq)
		destroy_workqueue(d->wq);
	for (i = 0; d->workers && i < d->nr_workers; i++) {
		ilio_ctx_exit(&d->workers[i].ctx);
		kfree(d->workers[i].bounce);
	}
	kfree(d->workers);
	for (i = 0; i < ILIO_BLK_LOCKS; i++)
		mutex_destroy(&d->blk_locks[i]);
	mutex_destroy(&d->msg_lock);
	for (i = 0; d->lanes && i < d->nr_lanes; i++) {
		ilio_ctx_exit(&d->lanes[i].ctx);
		kfree(d->lanes[i].bounce);
		mutex_destroy(&d->lanes[i].lock);
	}
	kfree(d->lanes);
	free_percpu(d->front);
	opened = d->core;
	if (d->persistent && d->core &&
	    ilio_core_mode(d->core) == ILIO_MODE_WRITE) {
		int ret = ilio_core_close(d->core);

		if (ret)
			DMERR("%s: could not write everything back on close: %d",
			      d->name, ret);
		else
			DMINFO("%s: store closed, everything written back", d->name);
	} else {
		ilio_core_destroy(d->core);
	}
	ilio_dev_mmp_stop(d, opened);
	/* No table is live, and the core is gone: nothing raises one again. */
	cancel_work_sync(&d->event_work);
	mutex_destroy(&d->event_lock);
	if (d->bdev)
		blkdev_put(d->bdev, d->bdev_mode);
	kfree(d);
}

/*
 * The recovery line of an activation: how the previous shutdown left the
 * store (see ilio_replay() for how the log tells), what replay read and
 * how long it took.  Documented in the admin guide ("Kernel log").
 */
static void ilio_log_recovery(struct ilio_dev *d, const struct ilio_recovery *r,
			      struct dm_dev *journal)
{
	char kinds[96];
	int n;

	if (r->shutdown == ILIO_SHUTDOWN_NEW) {
		DMINFO("%s: recovery: first activation of a new store, nothing to replay",
		       d->name);
		return;
	}
	/* "3 checkpoint, 9 data", then "; 4 from the journal" with one. */
	n = snprintf(kinds, sizeof(kinds), "%llu checkpoint, %llu data",
		     r->units - r->data_units, r->data_units);
	if (journal && n < sizeof(kinds))
		snprintf(kinds + n, sizeof(kinds) - n, "; %llu from the journal",
			 r->journal_units);
	DMINFO("%s: recovery: %s shutdown, replayed %llu log unit%s (%s) in %llu ms",
	       d->name, r->shutdown == ILIO_SHUTDOWN_CLEAN ? "clean" : "unclean",
	       r->units, r->units == 1 ? "" : "s", kinds,
	       div_u64(r->replay_ns, NSEC_PER_MSEC));
}

/* One line per activation: what the admin's boot log should show. */
static void ilio_log_activation(struct ilio_dev *d, const struct ilio_params *p,
				struct dm_dev *backing, struct dm_dev *journal,
				u64 open_ns)
{
	struct ilio_stats st;

	ilio_core_get_stats(d->core, &st);
	if (!backing) {
		DMINFO("%s: diskless store created: %llu MiB logical, RAM budget %u MiB",
		       d->name, (d->nr_blocks * ILIO_BLOCK_SIZE) >> 20, p->ram_mb);
		return;
	}
	DMINFO("%s: store on %s opened%s in %llu ms: %llu MiB logical, %llu MiB stored",
	       d->name, backing->name,
	       ilio_core_mode(d->core) == ILIO_MODE_WRITE ? "" : " read-only",
	       div_u64(open_ns, NSEC_PER_MSEC),
	       (d->nr_blocks * ILIO_BLOCK_SIZE) >> 20, st.stored_bytes >> 20);
	DMINFO("%s: log area %llu MiB (%llu MiB free), RAM budget %u MiB%s%s",
	       d->name, st.backend_bytes >> 20, st.backend_free_bytes >> 20,
	       p->ram_mb, journal ? ", journal on " : "",
	       journal ? journal->name : "");
	ilio_log_recovery(d, &st.recovery, journal);
}

static struct ilio_dev *ilio_dev_create(struct dm_target *ti,
					const struct ilio_params *p,
					u64 nr_blocks, struct dm_dev *backing,
					struct dm_dev *journal)
{
	struct mapped_device *md = dm_table_get_md(ti->table);
	struct ilio_core_params cp = {
		.nr_blocks = nr_blocks,
		.ram_limit = (u64)p->ram_mb << 20,
		.seg_bytes = ILIO_SEG_BYTES_DEFAULT,
		.dedup = p->dedup,
		.compress = p->compress,
	};
	const char *why = NULL;
	struct ilio_dev *d;
	unsigned int i;
	u64 t0 = 0;
	int ret;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d) {
		ti->error = "Cannot allocate device";
		return ERR_PTR(-ENOMEM);
	}
	d->md = md;
	d->nr_blocks = nr_blocks;
	strscpy(d->name, dm_disk(md)->disk_name, sizeof(d->name));
	cp.name = d->name;
	spin_lock_init(&d->bio_lock);
	bio_list_init(&d->bios);
	for (i = 0; i < ILIO_BLK_LOCKS; i++)
		mutex_init(&d->blk_locks[i]);
	mutex_init(&d->msg_lock);
	d->suspended = true;	/* until the first resume */
	INIT_WORK(&d->event_work, ilio_event_fn);
	mutex_init(&d->event_lock);
	cp.event = ilio_dev_event;
	cp.event_priv = d;

	INIT_WORK(&d->wb_work, ilio_wb_fn);
	INIT_DELAYED_WORK(&d->tick, ilio_tick_fn);
	if (backing) {
		bool ro = !(dm_table_get_mode(ti->table) & FMODE_WRITE);

		d->persistent = true;
		/*
		 * The device's own reference, not the table's: a reload to
		 * another path switches it (ilio_dev_path_switch()) while
		 * the old table still holds the old path.
		 */
		d->bdev_mode = ro ? FMODE_READ : FMODE_READ | FMODE_WRITE;
		d->bdev = blkdev_get_by_dev(backing->bdev->bd_dev, d->bdev_mode,
					    NULL);
		if (IS_ERR(d->bdev)) {
			ret = PTR_ERR(d->bdev);
			d->bdev = NULL;
			ti->error = "Cannot open the backing device";
			goto fail;
		}
		d->discard = bdev_max_discard_sectors(d->bdev);
		d->bg_wq = alloc_ordered_workqueue("ilio-bg-%s", WQ_MEM_RECLAIM,
						   d->name);
		if (!d->bg_wq) {
			ti->error = "Cannot allocate workqueue";
			ret = -ENOMEM;
			goto fail;
		}
		cp.store = &ilio_log_store;
		cp.bops = d->discard ? &ilio_be_ops : &ilio_be_ops_nodiscard;
		cp.bpriv = d;
		cp.dev_bytes = bdev_nr_bytes(d->bdev);
		cp.read_only = ro;
		cp.coalesce = p->coalesce;
		cp.flush_interval_ms = p->flush_interval_ms;
		cp.max_dirty = (u64)p->max_dirty_mb << 20;
		if (journal) {
			d->jbdev = journal->bdev;
			cp.jops = &ilio_jbe_ops;
			cp.jpriv = d;
			cp.jdev_bytes = bdev_nr_bytes(d->jbdev);
		}
		t0 = ktime_get_ns();
		/* A wrong size is refused before the claim: it writes nothing. */
		if (!ilio_core_precheck(&cp, &ret, &why))
			goto refused;
		if (ro) {
			ilio_dev_mmp_peek(d, backing);
		} else {
			ret = ilio_dev_mmp_start(d, ti, backing, p->takeover);
			if (ret)
				goto fail;
		}
		WRITE_ONCE(d->core, ilio_core_open(&cp, &ret, &why));
		if (d->core && d->mmp_on && ilio_mmp_may_write(&d->mmp)) {
			/* The open wrote nothing the guard did not allow. */
			ilio_core_destroy(d->core);
			d->core = NULL;
			why = "another host claimed the store at the same time";
			ret = -EBUSY;
		}
		if (!d->core)
			goto refused;
		if (ilio_core_used_fallback(d->core))
			DMWARN("%s: newest checkpoint on %s damaged; used the older anchor",
			       d->name, backing->name);
	} else {
		d->core = ilio_core_create(&cp, &ret);
	}
	if (!d->core) {
		ti->error = ret == -E2BIG ?
			"ram_mb too small for this device size (metadata plus two segments)" :
			ret == -EFBIG ? "Target length too large (at most 512 TiB)" :
			"Cannot create the store";
		goto fail;
	}
	d->nr_workers = clamp_t(unsigned int, num_online_cpus(), 1, 16);
	d->workers = kcalloc(d->nr_workers, sizeof(*d->workers), GFP_KERNEL);
	if (!d->workers) {
		ti->error = "Cannot allocate workers";
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < d->nr_workers; i++) {
		struct ilio_worker *wk = &d->workers[i];

		wk->dev = d;
		INIT_WORK(&wk->work, ilio_worker_fn);
		wk->bounce = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
		ret = wk->bounce ? ilio_ctx_init(&wk->ctx) : -ENOMEM;
		if (ret) {
			ti->error = "Cannot allocate compression workspaces";
			goto fail;
		}
	}
	d->front = alloc_percpu(struct ilio_front_stats);
	if (!d->front) {
		ti->error = "Cannot allocate per-CPU counters";
		ret = -ENOMEM;
		goto fail;
	}
	d->nr_lanes = min_t(unsigned int, nr_cpu_ids, ILIO_MAX_LANES);
	d->lanes = kcalloc(d->nr_lanes, sizeof(*d->lanes), GFP_KERNEL);
	if (!d->lanes) {
		ti->error = "Cannot allocate compression workspaces";
		ret = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < d->nr_lanes; i++) {
		struct ilio_lane *ln = &d->lanes[i];

		mutex_init(&ln->lock);
		ln->bounce = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
		ret = ln->bounce ? ilio_ctx_init(&ln->ctx) : -ENOMEM;
		if (ret) {
			/* ilio_dev_destroy() frees lanes [0, i]. */
			d->nr_lanes = i + 1;
			ti->error = "Cannot allocate compression workspaces";
			goto fail;
		}
	}
	d->wq = alloc_workqueue("ilio-%s", WQ_UNBOUND | WQ_MEM_RECLAIM,
				d->nr_workers, d->name);
	if (!d->wq) {
		ti->error = "Cannot allocate workqueue";
		ret = -ENOMEM;
		goto fail;
	}
	ilio_log_activation(d, p, backing, journal, ktime_get_ns() - t0);
	return d;
refused:
	/* The store refused the open (precheck or open): @why says why. */
	ti->error = (char *)why;
	DMERR("%s: cannot open the store on %s: %s", d->name, backing->name, why);
fail:
	ilio_dev_destroy(d);
	return ERR_PTR(ret);
}

/* The claim on @dev, or NULL; ilio_devs_lock held. */
static struct ilio_claim *ilio_claim_find(dev_t dev)
{
	struct ilio_claim *c;

	lockdep_assert_held(&ilio_devs_lock);
	list_for_each_entry(c, &ilio_claims, list)
		if (c->dev == dev)
			return c;
	return NULL;
}

/* Claim @backing for a new store of @md; ilio_devs_lock held. */
static int ilio_claim_take(struct dm_target *ti, struct mapped_device *md,
			   struct dm_dev *backing)
{
	struct ilio_claim *c = ilio_claim_find(backing->bdev->bd_dev);

	if (c) {
		DMERR("%s: backing device %s already holds the store of %s",
		      dm_disk(md)->disk_name, backing->name, c->owner);
		ti->error = "backing device is already used by another ilio device";
		return -EBUSY;
	}
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		ti->error = "Cannot allocate device";
		return -ENOMEM;
	}
	c->dev = backing->bdev->bd_dev;
	strscpy(c->owner, dm_disk(md)->disk_name, sizeof(c->owner));
	list_add(&c->list, &ilio_claims);
	return 0;
}

/* The store on @dev is closed (or was never opened): drop its claim. */
static void ilio_claim_drop(dev_t dev)
{
	struct ilio_claim *c = ilio_claim_find(dev);

	if (WARN_ONCE(!c, "ilio: no claim on backing device %u:%u\n",
		      MAJOR(dev), MINOR(dev)))
		return;
	list_del(&c->list);
	kfree(c);
}

/*
 * Path change.  A reload may name another path to the same LUN (another
 * multipath map, another iSCSI session, a dm-linear or a copy made while
 * the device was suspended).  The store stays open; the constructor checks
 * that the new path shows the same store, and preresume checks again with
 * the device suspended (nothing writes to the LUN then: write-back,
 * heartbeats and messages have stopped) and switches.  The same store
 * means the same first blocks: both superblock copies, both anchor slots
 * (which change at every checkpoint, so a copy made before the suspend's
 * checkpoint is refused) and, suspended, the multihost record.  Live, a
 * checkpoint may write between the two reads: the constructor tries
 * again before it refuses.
 */
#define ILIO_PATH_CMP_LIVE	ILIO_META_BLOCKS
#define ILIO_PATH_CMP_SUSPENDED	(ILIO_MMP_BLOCK + 1)
#define ILIO_PATH_TRIES		3

/*
 * May @nb replace d->bdev?  Compares its first @nr blocks with d->bdev's,
 * up to @tries times.  0, or an error with @why set.  d->msg_lock held.
 */
static int ilio_dev_path_check(struct ilio_dev *d, struct block_device *nb,
			       unsigned int nr, unsigned int tries,
			       const char **why)
{
	u32 len = nr * ILIO_BLOCK_SIZE;
	struct ilio_claim *c;
	u8 *a, *b;
	int ret;

	lockdep_assert_held(&d->msg_lock);
	if (bdev_nr_bytes(nb) < bdev_nr_bytes(d->bdev)) {
		*why = "it is smaller than the backing device";
		return -EINVAL;
	}
	if (d->discard && !bdev_max_discard_sectors(nb)) {
		*why = "it does not support discard, and the backing device does";
		return -EINVAL;
	}
	mutex_lock(&ilio_devs_lock);
	c = ilio_claim_find(nb->bd_dev);
	ret = c && strcmp(c->owner, d->name) ? -EBUSY : 0;
	mutex_unlock(&ilio_devs_lock);
	if (ret) {
		*why = "it holds the store of another ilio device";
		return ret;
	}
	a = kvmalloc(len, GFP_KERNEL);
	b = kvmalloc(len, GFP_KERNEL);
	ret = a && b ? 0 : -ENOMEM;
	*why = "out of memory";
	while (!ret && tries--) {
		ret = ilio_bdev_rw(d->bdev, REQ_OP_READ, 0, a, len);
		*why = "cannot read the backing device";
		if (!ret) {
			ret = ilio_bdev_rw(nb, REQ_OP_READ, 0, b, len);
			*why = "cannot read it";
		}
		if (ret)
			break;
		if (!memcmp(a, b, len))
			break;
		ret = -EINVAL;
		*why = "its first blocks differ (another LUN, or a stale copy)";
		if (tries)
			msleep(ILIO_TICK_MS);
	}
	kvfree(a);
	kvfree(b);
	return ret;
}

/*
 * Preresume: make the resuming table's backing device the store's, if it
 * is another path.  The old path's reference goes; its table may still
 * hold it until dm destroys that table.
 */
static int ilio_dev_path_switch(struct ilio_dev *d, struct dm_dev *backing)
{
	struct block_device *nb, *old = d->bdev;
	const char *why;
	dev_t od = old->bd_dev;
	int ret;

	if (backing->bdev == old)
		return 0;
	mutex_lock(&d->msg_lock);
	ret = ilio_dev_path_check(d, backing->bdev, ILIO_PATH_CMP_SUSPENDED, 1,
				  &why);
	if (!ret) {
		nb = blkdev_get_by_dev(backing->bdev->bd_dev, d->bdev_mode, NULL);
		ret = PTR_ERR_OR_ZERO(nb);
		why = "cannot open it";
	}
	if (!ret) {
		mutex_lock(&ilio_devs_lock);
		if (ilio_claim_find(nb->bd_dev)) {
			ret = -EBUSY;
			why = "it holds the store of another ilio device";
		} else {
			struct ilio_claim *c = ilio_claim_find(od);

			if (!WARN_ON_ONCE(!c))
				c->dev = nb->bd_dev;
			WRITE_ONCE(d->bdev, nb);
		}
		mutex_unlock(&ilio_devs_lock);
		blkdev_put(ret ? nb : old, d->bdev_mode);
	}
	mutex_unlock(&d->msg_lock);
	if (ret) {
		DMERR("%s: cannot switch the backing device to %s: %s", d->name,
		      backing->name, why);
		return ret;
	}
	DMINFO("%s: backing device switched from %u:%u to %s (same store)",
	       d->name, MAJOR(od), MINOR(od), backing->name);
	return 0;
}

static void ilio_dev_put(struct ilio_dev *d);

/* Find or create the device of @ti's mapped device; takes a user. */
static struct ilio_dev *ilio_dev_get(struct dm_target *ti,
				     const struct ilio_params *p, u64 nr_blocks,
				     struct dm_dev *backing, struct dm_dev *journal)
{
	struct mapped_device *md = dm_table_get_md(ti->table);
	bool path_change = false;
	struct ilio_dev *d;

	mutex_lock(&ilio_devs_lock);
	list_for_each_entry(d, &ilio_devs, list) {
		if (d->md != md)
			continue;
		if (nr_blocks < d->nr_blocks) {
			ti->error = "Cannot shrink an ilio device (it can only grow)";
			d = ERR_PTR(-EINVAL);
		} else if (d->persistent && !backing) {
			ti->error = "Cannot make a persistent device diskless";
			d = ERR_PTR(-EINVAL);
		} else if (!d->persistent && backing) {
			ti->error = "Cannot give a diskless device a backing device";
			d = ERR_PTR(-EINVAL);
		} else if (backing &&
			   (ilio_core_mode(d->core) == ILIO_MODE_READ_ONLY) !=
			   !(dm_table_get_mode(ti->table) & FMODE_WRITE) &&
			   !ilio_core_error(d->core)) {
			ti->error = "Cannot change read-only/read-write on a live device";
			d = ERR_PTR(-EINVAL);
		} else if (d->jbdev != (journal ? journal->bdev : NULL)) {
			ti->error = "Cannot change the journal device of a live device";
			d = ERR_PTR(-EINVAL);
		} else {
			d->users++;
			path_change = backing && backing->bdev != d->bdev;
		}
		goto out;
	}
	if (backing) {
		int ret = ilio_claim_take(ti, md, backing);

		if (ret) {
			d = ERR_PTR(ret);
			goto out;
		}
	}
	d = ilio_dev_create(ti, p, nr_blocks, backing, journal);
	if (!IS_ERR(d)) {
		d->users = 1;
		list_add(&d->list, &ilio_devs);
	} else if (backing) {
		ilio_claim_drop(backing->bdev->bd_dev);
	}
out:
	mutex_unlock(&ilio_devs_lock);
	if (path_change) {
		const char *why;
		int ret;

		mutex_lock(&d->msg_lock);
		ret = ilio_dev_path_check(d, backing->bdev, ILIO_PATH_CMP_LIVE,
					  ILIO_PATH_TRIES, &why);
		mutex_unlock(&d->msg_lock);
		if (ret) {
			DMERR("%s: new backing path %s refused: %s", d->name,
			      backing->name, why);
			ti->error = "New backing path refused (see the kernel log)";
			ilio_dev_put(d);
			d = ERR_PTR(ret);
		}
	}
	return d;
}

static void ilio_dev_put(struct ilio_dev *d)
{
	dev_t backing = d->persistent ? d->bdev->bd_dev : 0;
	bool last;

	mutex_lock(&ilio_devs_lock);
	last = !--d->users;
	if (last)
		list_del(&d->list);
	mutex_unlock(&ilio_devs_lock);
	if (!last)
		return;
	ilio_dev_destroy(d);	/* the store's close writes its last block */
	if (backing) {
		mutex_lock(&ilio_devs_lock);
		ilio_claim_drop(backing);
		mutex_unlock(&ilio_devs_lock);
	}
}

/*
 * Target methods
 */

/*
 * Construct an ilio target:
 *
 *   <backing_dev|-> <ram_mb> [<#feature_args> <feature_args>...]
 *
 * See ilio-args.h for the features.  "-" selects diskless mode; a device
 * path selects persistent mode over that device, which must have been
 * formatted (ilioctl format).  A read-only table recovers without writing.
 */
static int ilio_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct ilio_target *t;
	struct ilio_dev *d;
	const char *error;
	int ret;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t) {
		ti->error = "Cannot allocate target";
		return -ENOMEM;
	}
	ret = ilio_parse_args(&t->params, argc, argv, &error);
	if (ret) {
		ti->error = (char *)error;
		goto bad;
	}
	if (ti->begin || ti->len & (ILIO_SECTORS_PER_BLOCK - 1)) {
		ti->error = "Target must start at sector 0 and span a multiple of 4 KiB";
		ret = -EINVAL;
		goto bad;
	}
	if (t->params.backing) {
		ret = dm_get_device(ti, t->params.backing,
				    dm_table_get_mode(ti->table), &t->backing);
		if (ret) {
			ti->error = "Cannot open the backing device";
			goto bad;
		}
		/*
		 * argv lives in dm's ioctl buffer, freed after the load; the
		 * opened device's name ("major:minor") lives with the table
		 * and is what the TABLE line prints.
		 */
		t->params.backing = t->backing->name;
	}
	if (t->params.journal) {
		ret = dm_get_device(ti, t->params.journal,
				    dm_table_get_mode(ti->table), &t->journal);
		if (ret) {
			ti->error = "Cannot open the journal device";
			goto bad;
		}
		if (t->journal->bdev == t->backing->bdev) {
			ti->error = "The journal device must not be the backing device";
			ret = -EINVAL;
			goto bad;
		}
		t->params.journal = t->journal->name;
	}
	d = ilio_dev_get(ti, &t->params,
			 ti->len >> (ILIO_BLOCK_SHIFT - SECTOR_SHIFT), t->backing,
			 t->journal);
	if (IS_ERR(d)) {
		ret = PTR_ERR(d);
		goto bad;
	}
	t->dev = d;

	ret = dm_set_target_max_io_len(ti, ILIO_MAX_IO_SECTORS);
	if (ret) {
		ti->error = "Cannot set the maximum I/O size";
		ilio_dev_put(d);
		goto bad;
	}
	ti->num_flush_bios = 1;
	/* Persistent: a volatile write cache that keeps REQ_PREFLUSH/FUA. */
	ti->flush_supported = d->persistent;
	ti->num_discard_bios = 1;
	ti->discards_supported = true;
	ti->num_write_zeroes_bios = 1;
	ti->per_io_data_size = sizeof(struct ilio_io);
	ti->private = t;
	return 0;
bad:
	if (t->journal)
		dm_put_device(ti, t->journal);
	if (t->backing)
		dm_put_device(ti, t->backing);
	kfree(t);
	return ret;
}

static void ilio_dtr(struct dm_target *ti)
{
	struct ilio_target *t = ti->private;

	ilio_dev_put(t->dev);	/* the last one writes everything back */
	if (t->journal)
		dm_put_device(ti, t->journal);
	if (t->backing)
		dm_put_device(ti, t->backing);
	kfree(t);
}

/* Hand @bio to a worker, which goes on from its struct ilio_io. */
static void ilio_queue_bio(struct ilio_dev *d, struct bio *bio)
{
	unsigned long flags;
	unsigned int w;

	spin_lock_irqsave(&d->bio_lock, flags);
	bio_list_add(&d->bios, bio);
	spin_unlock_irqrestore(&d->bio_lock, flags);
	w = (unsigned int)atomic_inc_return(&d->next_worker) % d->nr_workers;
	queue_work(d->wq, &d->workers[w].work);
}

/*
 * Serve @bio in the submitter's context (rule 4 of the house style, and
 * Documentation/ilio-design.rst, "Locking"): map may sleep on a mutex and
 * allocate with GFP_NOIO, but never waits for I/O it issued, which would
 * only be dispatched after map returns.  So the walk runs with @nowait
 * and stops at the first block that needs the device; the lane (this
 * CPU's compression context) is held throughout.
 *
 * Return: 0 when every block is done (and nothing is owed), -EAGAIN
 * when a worker must go on, or the error that ends the bio.
 */
static int ilio_map_inline(struct ilio_dev *d, struct bio *bio,
			   struct ilio_io *io)
{
	struct ilio_lane *ln = &d->lanes[raw_smp_processor_id() % d->nr_lanes];
	unsigned int noio;
	int ret;

	mutex_lock(&ln->lock);
	noio = memalloc_noio_save();
	ret = ilio_walk_bio(d, &ln->ctx, ln->bounce, bio, io, ilio_walk_op(bio),
			    true);
	memalloc_noio_restore(noio);
	mutex_unlock(&ln->lock);
	if (!ret && io->owes_wb)
		ret = -EAGAIN;
	return ret;
}

/*
 * The dispatcher: count the bio, then serve it here or hand it on.  Only
 * what must wait for the device goes to a worker: a persistent store's
 * flushes (PREFLUSH, FUA: the flush part only), the blocks from the first
 * one that needs a device read or write-back on, and discards too long to
 * hold a lane for.
 */
static int ilio_map(struct dm_target *ti, struct bio *bio)
{
	struct ilio_target *t = ti->private;
	struct ilio_dev *d = t->dev;
	struct ilio_io *io = dm_per_bio_data(bio, sizeof(struct ilio_io));
	unsigned int size = bio->bi_iter.bi_size;
	int ret;

	if (unlikely(ilio_core_mode(d->core) == ILIO_MODE_FAIL))
		return DM_MAPIO_KILL;
	io->done = 0;
	io->owes_wb = false;
	bio->bi_iter.bi_sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	switch (bio_op(bio)) {
	case REQ_OP_READ:
		this_cpu_inc(d->front->read_ios);
		this_cpu_add(d->front->read_bytes, size);
		break;
	case REQ_OP_WRITE:
		if (!size) {
			/* Empty flush: a RAM store has no volatile cache. */
			if (!d->persistent) {
				bio_endio(bio);
				return DM_MAPIO_SUBMITTED;
			}
			ilio_queue_bio(d, bio);
			return DM_MAPIO_SUBMITTED;
		}
		this_cpu_inc(d->front->write_ios);
		this_cpu_add(d->front->write_bytes, size);
		/* The flush goes before the data: all of it to a worker. */
		if (d->persistent && (bio->bi_opf & REQ_PREFLUSH)) {
			ilio_queue_bio(d, bio);
			return DM_MAPIO_SUBMITTED;
		}
		break;
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		if (size > ILIO_MAX_IO_SECTORS << SECTOR_SHIFT) {
			ilio_queue_bio(d, bio);
			return DM_MAPIO_SUBMITTED;
		}
		break;
	default:
		ilio_bio_end(bio, -EOPNOTSUPP);
		return DM_MAPIO_SUBMITTED;
	}

	ret = ilio_map_inline(d, bio, io);
	if (!ret && bio_op(bio) == REQ_OP_WRITE && d->persistent &&
	    (bio->bi_opf & REQ_FUA))
		ret = -EAGAIN;	/* the data is in; a worker flushes */
	if (ret == -EAGAIN) {
		ilio_queue_bio(d, bio);
		return DM_MAPIO_SUBMITTED;
	}
	if (!ret && io->done == size) {
		if (bio_op(bio) == REQ_OP_READ)
			this_cpu_inc(d->front->inline_reads);
		else if (bio_op(bio) == REQ_OP_WRITE)
			this_cpu_inc(d->front->inline_writes);
	}
	ilio_bio_end(bio, ret);
	return DM_MAPIO_SUBMITTED;
}

/*
 * Online grow, with the device suspended: to the length of the resuming
 * table, and over the whole new segments of a backing device that was
 * extended since the store was opened or last resumed.
 */
static int ilio_grow(struct ilio_dev *d, struct dm_target *ti)
{
	u64 nr_blocks = ti->len >> (ILIO_BLOCK_SHIFT - SECTOR_SHIFT);
	u64 old_blocks = d->nr_blocks, old_back, dev_bytes = 0;
	struct ilio_stats st;
	const char *why;
	int ret;

	if (!d->persistent && nr_blocks == old_blocks)
		return 0;
	ilio_core_get_stats(d->core, &st);
	old_back = st.backend_bytes;
	if (d->persistent)
		dev_bytes = bdev_nr_bytes(d->bdev);
	ret = ilio_core_grow(d->core, nr_blocks, dev_bytes, &why);
	if (ret) {
		DMERR("%s: cannot grow to %llu MiB logical: %s", d->name,
		      (nr_blocks * ILIO_BLOCK_SIZE) >> 20, why);
		return ret;
	}
	if (*why)
		DMWARN("%s: the backing device grew, but its new space cannot join now: %s",
		       d->name, why);
	if (nr_blocks != old_blocks) {
		mutex_lock(&ilio_devs_lock);
		d->nr_blocks = nr_blocks;
		mutex_unlock(&ilio_devs_lock);
		DMINFO("%s: logical size grown from %llu MiB to %llu MiB", d->name,
		       (old_blocks * ILIO_BLOCK_SIZE) >> 20,
		       (nr_blocks * ILIO_BLOCK_SIZE) >> 20);
	}
	ilio_core_get_stats(d->core, &st);
	if (st.backend_bytes != old_back)
		DMINFO("%s: backing device grew: log area %llu -> %llu MiB, %llu MiB free",
		       d->name, old_back >> 20, st.backend_bytes >> 20,
		       st.backend_free_bytes >> 20);
	return 0;
}

/*
 * A reload may name another path to the same LUN (ilio_dev_path_switch(),
 * first, so that a larger LUN grows the store below).  It may change
 * ram_mb: grow always, shrink down to what is in use.  It may grow the
 * logical size (ilio_grow()), with the new budget.  A
 * refusal fails the resume; the device stays suspended until a workable
 * table is loaded (the old one works: nothing changed).
 */
static int ilio_preresume(struct dm_target *ti)
{
	struct ilio_target *t = ti->private;
	struct ilio_dev *d = t->dev;
	int ret;

	if (d->persistent) {
		ret = ilio_dev_path_switch(d, t->backing);
		if (ret)
			return ret;
	}
	ret = ilio_core_set_ram_limit(d->core, (u64)t->params.ram_mb << 20);
	if (ret) {
		DMERR("%s: cannot set ram_mb to %u: %s", d->name,
		      t->params.ram_mb, ret == -ENOSPC ?
		      "more RAM than that is in use" : "out of memory");
		return ret;
	}
	return ilio_grow(d, ti);
}

/*
 * From here to the resume no message changes the store; one that is
 * running finishes first.
 */
static void ilio_presuspend(struct dm_target *ti)
{
	struct ilio_target *t = ti->private;
	struct ilio_dev *d = t->dev;

	mutex_lock(&d->msg_lock);
	d->suspended = true;
	mutex_unlock(&d->msg_lock);
	mutex_lock(&d->event_lock);
	d->live_ti = NULL;
	mutex_unlock(&d->event_lock);
}

/* The suspend failed after presuspend: the device stays live. */
static void ilio_presuspend_undo(struct dm_target *ti)
{
	struct ilio_target *t = ti->private;
	struct ilio_dev *d = t->dev;

	mutex_lock(&d->msg_lock);
	d->suspended = false;
	mutex_unlock(&d->msg_lock);
	mutex_lock(&d->event_lock);
	d->live_ti = ti;
	mutex_unlock(&d->event_lock);
}

/*
 * Suspend writes everything back and takes a checkpoint, so that a
 * suspended device's backing LUN holds all its data (snapshots, takeover
 * by another host) and a later recovery is short.
 */
static void ilio_postsuspend(struct dm_target *ti)
{
	struct ilio_target *t = ti->private;
	struct ilio_dev *d = t->dev;
	int ret;

	if (!d->persistent)
		return;
	WRITE_ONCE(d->ticking, false);
	cancel_delayed_work_sync(&d->tick);
	flush_work(&d->wb_work);
	if (ilio_core_mode(d->core) != ILIO_MODE_WRITE) {
		ilio_dev_mmp_pause(d);
		return;
	}
	ret = ilio_core_quiesce(d->core);
	if (ret)
		DMERR("%s: write-back on suspend failed: %d", d->name, ret);
	ilio_dev_mmp_pause(d);
}

static void ilio_resume(struct dm_target *ti)
{
	struct ilio_target *t = ti->private;
	struct ilio_dev *d = t->dev;

	/* The resuming table's policy becomes the store's. */
	ilio_core_set_policy(d->core, t->params.dedup, t->params.compress);
	mutex_lock(&d->msg_lock);
	d->suspended = false;
	mutex_unlock(&d->msg_lock);
	mutex_lock(&d->event_lock);
	d->live_ti = ti;
	if (d->event_pending) {
		d->event_pending = false;
		dm_table_event(ti->table);
	}
	mutex_unlock(&d->event_lock);
	if (d->persistent) {
		ilio_core_set_coalesce(d->core, t->params.coalesce,
				       t->params.flush_interval_ms,
				       (u64)t->params.max_dirty_mb << 20);
		ilio_dev_mmp_resume(d);
		if (!d->ticking) {
			WRITE_ONCE(d->ticking, true);
			queue_delayed_work(d->bg_wq, &d->tick,
					   msecs_to_jiffies(ILIO_TICK_MS));
		}
	}

	/*
	 * dm adds the gendisk after the first table is loaded, so the sysfs
	 * directory is created on the first resume.  Resumes of one mapped
	 * device are serialised by dm.  Statistics stay readable through
	 * dmsetup status if this fails.
	 */
	if (!d->sysfs_ok) {
		int ret = ilio_sysfs_add(d);

		if (ret)
			DMWARN("%s: cannot create sysfs directory: %d", d->name,
			       ret);
	}
}

/*
 * Status INFO fields, in this order (documented and numbered in
 * Documentation/admin-guide/device-mapper/ilio.rst):
 *  1 mode  2 logical_bytes  3 unique_bytes  4 stored_bytes
 *  5 ram_used_bytes  6 ram_limit_bytes  7 dedup_hits  8 zero_blocks
 *  9 front_read_ios  10 front_read_bytes  11 front_write_ios
 * 12 front_write_bytes  13 backend_read_ios  14 backend_read_bytes
 * 15 backend_write_ios  16 backend_write_bytes  17 nospc_errors
 * 18 dirty_bytes  19 cache_hits  20 cache_misses  21 flushes
 * 22 gc_moved_bytes  23 gc_freed_segments  24 backend_bytes
 * 25 backend_free_bytes
 */
static void ilio_status(struct dm_target *ti, status_type_t type,
			unsigned int status_flags, char *result,
			unsigned int maxlen)
{
	struct ilio_target *t = ti->private;
	struct ilio_dev *d = t->dev;
	struct ilio_stats st;
	u64 v[ILIO_ST_ALL];
	unsigned int sz = 0, i;

	switch (type) {
	case STATUSTYPE_INFO:
		/* Field 1, then ILIO_STATUS_FIELDS() of ilio-fields.h. */
		ilio_core_get_stats(d->core, &st);
		ilio_stat_values(d, &st, v);
		DMEMIT("%s", ilio_mode_word(ilio_core_mode(d->core)));
		for (i = 0; i < ILIO_ST_NR; i++)
			DMEMIT(" %llu", v[i]);
		break;
	case STATUSTYPE_TABLE:
		ilio_format_table(&t->params, result, maxlen);
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",diskless=%c,ram_mb=%u,dedup=%c,compress=%c,block_size=%u",
		       d->persistent ? 'n' : 'y', t->params.ram_mb,
		       t->params.dedup ? 'y' : 'n',
		       t->params.compress ? 'y' : 'n', t->params.block_size);
		if (d->persistent)
			DMEMIT(",backing=%s,coalesce=%d,flush_interval_ms=%u,max_dirty_mb=%u",
			       t->backing->name, t->params.coalesce,
			       t->params.flush_interval_ms, t->params.max_dirty_mb);
		if (t->journal)
			DMEMIT(",journal=%s", t->journal->name);
		DMEMIT(";");
		break;
	}
}

static void ilio_clear_front_stats(struct ilio_dev *d)
{
	int cpu;

	/* Racy against a concurrent increment, which it may miss: a counter. */
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(d->front, cpu), 0, sizeof(*d->front));
}

static int ilio_msg_clear_stats(struct ilio_dev *d, char *result,
				unsigned int maxlen)
{
	ilio_core_clear_stats(d->core);
	ilio_clear_front_stats(d);
	return 0;
}

/*
 * "gc" and "compact" are one message: persistent, GC cleans log segments
 * on the backing device; diskless, the compactor (the RAM store's GC)
 * empties sealed RAM segments that are at most 3/4 live, and the answer
 * says what that moved and what RAM it gave back - or, when no segment
 * qualified, that this is why nothing was done.
 */
static int ilio_msg_compact(struct ilio_dev *d, char *result,
			    unsigned int maxlen)
{
	unsigned int sz = 0;
	struct ilio_stats st;
	u64 moved, ram;
	int n;

	if (d->persistent) {
		n = ilio_core_gc(d->core, UINT_MAX);
		if (n < 0)
			return n == -ENOSPC ? 0 : n;
		DMEMIT("cleaned %d segments", n);
		return 1;
	}
	ilio_core_get_stats(d->core, &st);
	moved = st.compact_moved_bytes;
	ram = st.ram_used_bytes;
	n = ilio_core_compact(d->core, UINT_MAX);
	/* A record that did not parse put the store in fail mode. */
	if (ilio_core_mode(d->core) == ILIO_MODE_FAIL)
		return -EIO;
	if (!n) {
		DMEMIT("compacted 0 segments: no sealed RAM segment is at most 3/4 live");
		return 1;
	}
	ilio_core_get_stats(d->core, &st);
	DMEMIT("compacted %d segments: moved %llu bytes, RAM used %llu -> %llu bytes",
	       n, st.compact_moved_bytes - min(moved, st.compact_moved_bytes),
	       ram, st.ram_used_bytes);
	return 1;
}

static int ilio_msg_checkpoint(struct ilio_dev *d, char *result,
			       unsigned int maxlen)
{
	if (!d->persistent) {
		DMERR("%s: checkpoint: a diskless device has nothing to write", d->name);
		return -EOPNOTSUPP;
	}
	return ilio_core_checkpoint(d->core);
}

static int ilio_msg_check(struct ilio_dev *d, char *result,
			  unsigned int maxlen)
{
	char why[128];
	unsigned int sz = 0, noio;
	int ret;

	/*
	 * The check allocates (GFP_KERNEL) and may read the device with the
	 * store lock held: reclaim must not write to a device (swap on
	 * ilio) that would need that lock.
	 */
	noio = memalloc_noio_save();
	ret = ilio_core_check(d->core, why, sizeof(why));
	memalloc_noio_restore(noio);
	if (ret == -ENOMEM)
		return ret;
	if (ret)
		DMERR("%s: consistency check failed: %s", d->name, why);
	DMEMIT("%s", ret ? why : "ok");
	return 1;
}

/* One ilio_msg_<verb>() per enum ilio_msg_verb (ilio-args.c parses). */
/*
 * hints: the class map through the result buffer (DMEMIT: a list that does
 * not fit sets DM_BUFFER_FULL_FLAG, and libdevmapper asks again with a
 * larger buffer).  Returns 1: there is a result.
 */
static int ilio_msg_hints(struct ilio_dev *d, char *result, unsigned int maxlen)
{
	struct ilio_crange *r;
	unsigned int sz = 0;
	u32 n, i, limit;
	u64 bytes;

	/* Every map holds at most the default limit (ilio_core_new()). */
	r = kvmalloc_array(ILIO_CLASS_RANGES_DEFAULT, sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	n = ilio_core_hints(d->core, r, ILIO_CLASS_RANGES_DEFAULT, &limit, &bytes);
	DMEMIT("ranges %u %u %llu\n", n, limit, bytes);
	for (i = 0; i < n; i++)
		DMEMIT("%s %llu %llu\n", ilio_class_name(r[i].cls), r[i].start,
		       r[i].end - r[i].start);
	kvfree(r);
	return 1;
}

static int (*const ilio_msg_fns[ILIO_MSG_NR])(struct ilio_dev *d,
					       char *result,
					       unsigned int maxlen) = {
	[ILIO_MSG_CLEAR_STATS] = ilio_msg_clear_stats,
	[ILIO_MSG_COMPACT] = ilio_msg_compact,
	[ILIO_MSG_GC] = ilio_msg_compact,
	[ILIO_MSG_CHECKPOINT] = ilio_msg_checkpoint,
	[ILIO_MSG_CHECK] = ilio_msg_check,
	[ILIO_MSG_HINTS] = ilio_msg_hints,
};

/*
 * A message that changes the store (ILIO_MSG_WRITES) is refused while the
 * device is suspended - a suspended LUN stays exactly as suspend left it,
 * for snapshots and takeover - with -EBUSY, as dm-writecache does; and in
 * a degraded mode with -EROFS (read-only) or -EIO (fail).  A refusal is
 * the caller's answer, not a device error: nothing is logged.  It runs
 * under d->msg_lock, so a suspend that starts meanwhile waits for it.
 */
/*
 * hint: under d->msg_lock; refused while suspended, as store changes are.
 * The message's ranges (up to ILIO_HINT_BATCH_MAX) are one change.
 */
static int ilio_msg_hint(struct ilio_dev *d, struct dm_target *ti,
			 const struct ilio_msg *m)
{
	struct ilio_hint *h;
	unsigned int i;
	int ret;

	h = kmalloc_array(m->nr_hints, sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	for (i = 0; i < m->nr_hints; i++) {
		ret = ilio_msg_hint_range(m, i, &h[i].start, &h[i].nr, &h[i].cls);
		if (ret)
			goto out;
		if (h[i].start + h[i].nr > ti->len) {
			DMERR("%s: message hint: range %u (%llu+%llu) past the end (%llu sectors)",
			      d->name, i + 1, h[i].start, h[i].nr, (u64)ti->len);
			ret = -EINVAL;
			goto out;
		}
	}
	mutex_lock(&d->msg_lock);
	if (d->suspended || dm_suspended(ti)) {
		ret = -EBUSY;
	} else {
		/*
		 * No reclaim through this device while the change holds the
		 * space lock (map() needs it) or saves the map to the LUN.
		 */
		unsigned int noio = memalloc_noio_save();

		ret = ilio_core_hints_set(d->core, h, m->nr_hints);
		memalloc_noio_restore(noio);
	}
	mutex_unlock(&d->msg_lock);
	if (ret == -ENOSPC) {
		u32 limit;
		u64 bytes;

		ilio_core_hints(d->core, NULL, 0, &limit, &bytes);
		DMERR("%s: message hint: the class map holds at most %u ranges",
		      d->name, limit);
	} else if (ret == -EIO) {
		DMERR("%s: message hint: applied, but the class map was not saved (backing device)",
		      d->name);
	} else if (ret) {
		DMERR("%s: message hint: %d", d->name, ret);
	}
out:
	kfree(h);
	return ret;
}

static int ilio_message(struct dm_target *ti, unsigned int argc, char **argv,
			char *result, unsigned int maxlen)
{
	struct ilio_target *t = ti->private;
	struct ilio_dev *d = t->dev;
	const char *error;
	struct ilio_msg m;
	int ret;

	ret = ilio_parse_message(&m, argc, argv, &error);
	if (ret) {
		DMERR("%s: message %s: %s", d->name, argc ? argv[0] : "", error);
		return ret;
	}
	if (m.verb == ILIO_MSG_HINT)
		return ilio_msg_hint(d, ti, &m);
	mutex_lock(&d->msg_lock);
	if (!(m.flags & ILIO_MSG_WRITES))
		ret = ilio_msg_fns[m.verb](d, result, maxlen);
	else if (d->suspended || dm_suspended(ti))
		ret = -EBUSY;
	else if (ilio_core_mode(d->core) == ILIO_MODE_READ_ONLY)
		ret = -EROFS;
	else if (ilio_core_mode(d->core) != ILIO_MODE_WRITE)
		ret = -EIO;
	else
		ret = ilio_msg_fns[m.verb](d, result, maxlen);
	mutex_unlock(&d->msg_lock);
	return ret;
}

static void ilio_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct ilio_target *t = ti->private;

	limits->logical_block_size = t->params.block_size;
	limits->physical_block_size = ILIO_BLOCK_SIZE;
	limits->io_min = ILIO_BLOCK_SIZE;
	limits->discard_granularity = ILIO_BLOCK_SIZE;
	limits->max_discard_sectors = UINT_MAX >> SECTOR_SHIFT;
	limits->max_hw_discard_sectors = UINT_MAX >> SECTOR_SHIFT;
	limits->max_write_zeroes_sectors = UINT_MAX >> SECTOR_SHIFT;
}

/*
 * A diskless store uses no device.  dm only applies io_hints to targets
 * that can iterate their devices, so iterate the empty set.
 */
static int ilio_iterate_devices(struct dm_target *ti,
				iterate_devices_callout_fn fn, void *data)
{
	struct ilio_target *t = ti->private;

	if (!t->backing)
		return 0;
	return fn(ti, t->backing, 0, bdev_nr_sectors(t->backing->bdev), data);
}

static struct target_type ilio_target = {
	.name = "ilio",
	.version = { ILIO_VERSION_MAJOR, ILIO_VERSION_MINOR, ILIO_VERSION_PATCH },
	.module = THIS_MODULE,
	.ctr = ilio_ctr,
	.dtr = ilio_dtr,
	.map = ilio_map,
	.presuspend = ilio_presuspend,
	.presuspend_undo = ilio_presuspend_undo,
	.postsuspend = ilio_postsuspend,
	.preresume = ilio_preresume,
	.resume = ilio_resume,
	.status = ilio_status,
	.message = ilio_message,
	.io_hints = ilio_io_hints,
	.iterate_devices = ilio_iterate_devices,
};

static int __init dm_ilio_init(void)
{
	int ret = dm_register_target(&ilio_target);

	if (ret < 0)
		DMERR("register failed %d", ret);
	return ret;
}

static void __exit dm_ilio_exit(void)
{
	dm_unregister_target(&ilio_target);
}

module_init(dm_ilio_init);
module_exit(dm_ilio_exit);

MODULE_DESCRIPTION(DM_NAME " ilio: RAM deduplicating, compressing store for virtual desktops");
MODULE_AUTHOR("dm-ilio developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(ILIO_VERSION);
