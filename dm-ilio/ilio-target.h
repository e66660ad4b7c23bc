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
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/device-mapper.h>

#include "ilio-core.h"
#include "ilio-class.h"
#include "ilio-args.h"
#include "ilio-fields.h"
#include "ilio-mmp.h"

#define DM_MSG_PREFIX "ilio"

/*
 * Writes to one 4 KiB block are serialised by a lock hashed from its LBA.
 * A writer holds it across hashing and compression, so two submitters
 * whose blocks share a lock wait a whole write: 256 locks make that 1 in
 * 256 for random blocks (64 gave 1.5% of a two-job profile to spinning).
 */
#define ILIO_BLK_LOCKS	256

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

/* The map function's compression contexts: one per CPU, up to this many. */
#define ILIO_MAX_LANES	64

/**
 * struct ilio_lane - what the map function needs to store a block
 * @lock: makes the lane one submitter's at a time (a submitter sleeps
 *	holding it, on the store lock or in an allocation)
 * @ctx: lz4 workspace and scratch
 * @bounce: one block of bounce buffer
 *
 * Lane i serves the CPUs whose number is i modulo the number of lanes.
 */
struct ilio_lane {
	struct mutex lock;	/* protects ctx, bounce */
	struct ilio_ctx ctx;
	u8 *bounce;
};

/**
 * struct ilio_io - per-bio state (dm's per-bio data)
 * @done: bytes of the bio already served, from its start; a worker goes
 *	on from there
 * @owes_wb: a block was stored that must be written back before the bio
 *	completes (ILIO_OWES_WRITEBACK)
 */
struct ilio_io {
	unsigned int done;
	bool owes_wb;
};

/**
 * struct ilio_front_stats - front-end I/O counters, per CPU (no lock)
 * @read_ios: read bios
 * @read_bytes: bytes read
 * @write_ios: write bios with data
 * @write_bytes: bytes written
 * @inline_reads: read bios served in the submitter's context
 * @inline_writes: write bios served in the submitter's context
 */
struct ilio_front_stats {
	u64 read_ios;
	u64 read_bytes;
	u64 write_ios;
	u64 write_bytes;
	u64 inline_reads;
	u64 inline_writes;
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
 * @lanes: @nr_lanes compression contexts for the map function
 * @nr_lanes: number of lanes
 * @blk_locks: serialise writes (and read-modify-writes) per block
 * @front: front-end I/O counters, per CPU (this_cpu_inc()), summed when read
 * @bdev: persistent: the backing device, the device's own reference (opened
 *	with @bdev_mode); a reload to another path to the same LUN switches
 *	it in preresume (ilio_dev_path_switch()), under @msg_lock
 * @bdev_mode: the mode @bdev was opened with
 * @discard: the store was opened with discards to the backing device
 * @jbdev: persistent, optional: the journal device (reloads must name the
 *	same one)
 * @persistent: has a backing device
 * @bg_wq: persistent: ordered workqueue for @wb_work and @tick
 * @wb_work: persistent: background write-back (ilio_core_writeback())
 * @tick: persistent: periodic ilio_core_tick(), while resumed
 * @ticking: @tick is armed (protected by dm's suspend/resume ordering)
 * @mmp: persistent, read-write: the multihost guard (ilio-mmp.h)
 * @mmp_init: @mmp was initialised (its buffers are to be freed)
 * @mmp_on: @mmp holds a store: every write to the backing and journal
 *	devices is checked against it (set before the store is opened,
 *	constant afterwards)
 * @mmp_wq: persistent, read-write: the beat's own workqueue (not @bg_wq:
 *	write-back must never delay a beat)
 * @beat: ilio_mmp_beat() every interval, while not suspended
 * @beating: @beat is armed (written by the constructor, postsuspend,
 *	resume and destroy, which dm serialises)
 * @beat_wait: woken after each beat and when the beats stop: writes
 *	that found the lease run out wait here (ilio_dev_may_write())
 * @beats: beats done (written only by the beat, which @mmp_wq runs one
 *	at a time, and by resume while no beat is armed)
 * @beat_ret: the newest beat's result (written before @beats)
 * @kobj: /sys/block/dm-N/ilio
 * @kobj_released: completed by the kobject's release
 * @sysfs_ok: @kobj was added
 * @msg_lock: protects @suspended and the switch of @bdev; held by every
 *	message from its check to its end, so that a suspend waits for it
 * @suspended: from presuspend to resume: messages that change the store
 *	are refused
 * @event_work: raises a dm event (dm_table_event()) on the live table
 * @event_lock: protects @live_ti and @event_pending
 * @live_ti: the target of the resumed table, NULL while suspended
 * @event_pending: an event came while suspended: raised at the resume
 * @low_space: the backing device is nearly full (see ilio_check_space())
 * @nospc_seen: nospc_errors at the last tick
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
	struct ilio_lane *lanes;
	unsigned int nr_lanes;

	struct mutex blk_locks[ILIO_BLK_LOCKS];	/* per-block write order */
	struct ilio_front_stats __percpu *front;

	struct block_device *bdev;
	fmode_t bdev_mode;
	bool discard;
	struct block_device *jbdev;
	bool persistent;
	struct workqueue_struct *bg_wq;
	struct work_struct wb_work;
	struct delayed_work tick;
	bool ticking;
	bool damage_logged;	/* chunks_damaged was reported in the log */
	struct ilio_mmp mmp;
	bool mmp_init;
	bool mmp_on;
	struct workqueue_struct *mmp_wq;
	struct delayed_work beat;
	bool beating;
	wait_queue_head_t beat_wait;
	u64 beats;
	int beat_ret;

	struct kobject kobj;
	struct completion kobj_released;
	bool sysfs_ok;

	struct mutex msg_lock;	/* protects suspended */
	bool suspended;

	struct work_struct event_work;
	struct mutex event_lock;	/* protects live_ti, event_pending */
	struct dm_target *live_ti;
	bool event_pending;
	bool low_space;
	u64 nospc_seen;
};

int ilio_sysfs_add(struct ilio_dev *d);
void ilio_sysfs_del(struct ilio_dev *d);
void ilio_stat_values(struct ilio_dev *d, const struct ilio_stats *st,
		      u64 *v);

#endif /* ILIO_TARGET_H */
