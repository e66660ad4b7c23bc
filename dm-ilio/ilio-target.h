/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-target: kernel-only state shared by the dm glue and sysfs.
 */
#ifndef ILIO_TARGET_H
#define ILIO_TARGET_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/bio.h>
#include <linux/completion.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/device-mapper.h>

#include "ilio-core.h"
#include "ilio-args.h"
#include "ilio-fields.h"

#define DM_MSG_PREFIX "ilio"

/* Writes to one 4 KiB block are serialised by a lock hashed from its LBA. */
#define ILIO_BLK_LOCKS	64

/**
 * struct ilio_worker - one of the device's workers
 * @work: queued on the device's workqueue
 * @dev: owning device
 * @ctx: lz4 workspace and scratch, used by this worker only
 * @bounce: one block of bounce buffer, used by this worker only
 */
struct ilio_worker {
	struct work_struct work;
	struct ilio_dev *dev;
	struct ilio_ctx ctx;
	u8 *bounce;
};

/**
 * struct ilio_front_stats - front-end I/O counters (atomic, no lock)
 * @read_ios: read bios
 * @read_bytes: bytes read
 * @write_ios: write bios with data
 * @write_bytes: bytes written
 * @inline_reads: read bios served in the submitter's context
 */
struct ilio_front_stats {
	atomic64_t read_ios;
	atomic64_t read_bytes;
	atomic64_t write_ios;
	atomic64_t write_bytes;
	atomic64_t inline_reads;
};

/**
 * struct ilio_dev - one ilio device, shared by the tables loaded on it
 * @list: entry in ilio_devs (protected by ilio_devs_lock)
 * @md: the mapped device this store belongs to
 * @users: tables referring to this device (protected by ilio_devs_lock)
 * @name: the dm disk name (dm-N), for messages
 * @core: the store
 * @nr_blocks: logical size in 4 KiB blocks
 * @bio_lock: protects @bios
 * @bios: bios waiting for a worker
 * @wq: the workers' workqueue (unbound, one active work per CPU)
 * @workers: @nr_workers workers
 * @nr_workers: number of workers
 * @next_worker: round-robin cursor for queueing
 * @map_bounce: per-CPU block buffer for reads served by map()
 * @blk_locks: serialise writes (and read-modify-writes) per block
 * @front: front-end I/O counters
 * @bdev: persistent: the backing device (the first table's; reloads must
 *	name the same device)
 * @jbdev: persistent, optional: the journal device (reloads must name the
 *	same one)
 * @persistent: has a backing device
 * @bg_wq: persistent: ordered workqueue for @wb_work and @tick
 * @wb_work: persistent: background write-back (ilio_core_writeback())
 * @tick: persistent: periodic ilio_core_tick(), while resumed
 * @ticking: @tick is armed (protected by dm's suspend/resume ordering)
 * @kobj: /sys/block/dm-N/ilio
 * @kobj_released: completed by the kobject's release
 * @sysfs_ok: @kobj was added
 * @msg_lock: protects @suspended; held by a message that changes the store
 *	from its check to its end, so that a suspend waits for it
 * @suspended: from presuspend to resume: messages that change the store
 *	are refused
 *
 * A reload keeps the device, and so the data of a diskless store: the new
 * table's constructor finds the device of its mapped device here.
 */
struct ilio_dev {
	struct list_head list;
	struct mapped_device *md;
	unsigned int users;
	char name[32];
	struct ilio_core *core;
	u64 nr_blocks;

	spinlock_t bio_lock;	/* protects bios */
	struct bio_list bios;

	struct workqueue_struct *wq;
	struct ilio_worker *workers;
	unsigned int nr_workers;
	atomic_t next_worker;
	void __percpu *map_bounce;

	struct mutex blk_locks[ILIO_BLK_LOCKS];	/* per-block write order */
	struct ilio_front_stats front;

	struct block_device *bdev;
	struct block_device *jbdev;
	bool persistent;
	struct workqueue_struct *bg_wq;
	struct work_struct wb_work;
	struct delayed_work tick;
	bool ticking;
	bool damage_logged;	/* chunks_damaged was reported in the log */

	struct kobject kobj;
	struct completion kobj_released;
	bool sysfs_ok;

	struct mutex msg_lock;	/* protects suspended */
	bool suspended;
};

int ilio_sysfs_add(struct ilio_dev *d);
void ilio_sysfs_del(struct ilio_dev *d);
void ilio_stat_values(struct ilio_dev *d, const struct ilio_stats *st,
		      u64 *v);

#endif /* ILIO_TARGET_H */
