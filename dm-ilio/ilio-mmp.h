/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-mmp: the multihost guard - who holds a persistent store for
 * writing, kept in the record at block ILIO_MMP_BLOCK (ilio-format.h,
 * "multihost record"), as ZFS's multihost protection (MMP) does.
 *
 * A portable leaf: it reaches the backing device and the clocks only
 * through struct ilio_mmp_ops, so the userspace tests run two "hosts"
 * over one in-memory device with a virtual clock.  The dm glue drives
 * it: ilio_mmp_acquire() before the store is opened, ilio_mmp_beat()
 * every @interval_ms from a work item while the device is not
 * suspended (and once at each resume), ilio_mmp_may_write() before
 * every write to the backing or journal device, ilio_mmp_release()
 * after a clean close, and ilio_mmp_abort() when the open fails.
 *
 * Timing (the argument is in Documentation/ilio-design.rst, "Multihost
 * guard"): the holder beats every @interval_ms; its lease is the issue
 * time of its newest completed beat plus @fence_ms, on its own
 * monotonic clock, and it submits no write while the lease has run out.
 * A host that finds the record ACTIVE watches it for
 * ilio_mmp_wait_ms(), 2 x @fence_ms + @interval_ms of the record: if the
 * block did not change, every lease the holder may have had has run out.
 */
#ifndef ILIO_MMP_H
#define ILIO_MMP_H

#include <linux/types.h>
#include <linux/mutex.h>

#include "ilio-meta.h"

/*
 * After writing its claim, an activation waits this long (at least)
 * before its first write to the store and then re-reads the record:
 * another host that read the same CLEAN record a moment before and
 * claimed too is seen there (the later claim wins the block).
 */
#define ILIO_MMP_CONFIRM_MS	50U

/**
 * struct ilio_mmp_ops - what the guard needs from its environment
 * @read: read @len bytes at byte @pos of the backing device; 0 or -errno
 * @write: write them durably (FUA: durable when it returns, no flush
 *	needed, none issued: a beat must not flush the whole device every
 *	second); 0 or -errno.  Never subject to the lease (the guard's own
 *	writes renew it)
 * @sleep: sleep about @ms milliseconds (may return early)
 * @now_ms: a monotonic clock, in milliseconds
 * @wall: wall-clock seconds since the epoch (only written to the
 *	record, for the admin)
 */
struct ilio_mmp_ops {
	int (*read)(void *priv, u64 pos, void *buf, u32 len);
	int (*write)(void *priv, u64 pos, const void *buf, u32 len);
	void (*sleep)(void *priv, u32 ms);
	u64 (*now_ms)(void *priv);
	s64 (*wall)(void *priv);
};

/* What ilio_mmp_acquire() found in the record, for the log line. */
enum ilio_mmp_found {
	ILIO_MMP_FOUND_NONE = 0,	/* no record (no magic) */
	ILIO_MMP_FOUND_CLEAN,		/* a clean close, or format */
	ILIO_MMP_FOUND_ACTIVE,		/* held by another activation */
	ILIO_MMP_FOUND_INVALID,		/* damaged, out of bounds, other uuid */
};

/**
 * struct ilio_mmp - one activation's guard
 * @ops: environment
 * @priv: for @ops
 * @lock: serialises every entry point (they may sleep); protects the
 *	fields below but @held and @last_ok_ms, which it writes and
 *	ilio_mmp_may_write() reads without it
 * @guarded: the device holds a valid superblock with the multihost
 *	feature (ILIO_FEAT_RO_COMPAT_MULTIHOST): the record is in use
 * @held: this activation holds the record (written ACTIVE with @owner,
 *	not seen taken since, lease not run out)
 * @confirmed: the claim was re-read ILIO_MMP_CONFIRM_MS after it was
 *	written, and was still ours
 * @lost: another activation took the record over (seen by a beat)
 * @expired: beats that found the lease run out (and renewed it)
 * @took_over: the claim replaced an ACTIVE or invalid record
 * @uuid: the store's, from its superblock
 * @owner: this activation's random id
 * @seq: the seq of the record last written by this activation
 * @interval_ms: beat interval
 * @fence_ms: lease length
 * @node: host name written to the record
 * @last_ok_ms: issue time of the newest beat (or claim) that completed
 * @claim_ms: when the claim write completed
 * @found: enum ilio_mmp_found
 * @prev: the record acquire found (valid when @found is ACTIVE or CLEAN),
 *	or the one a beat found after @lost
 * @waited_ms: how long acquire watched the record
 * @blk: one block of scratch
 * @saved: block ILIO_MMP_BLOCK as acquire found it (for ilio_mmp_abort())
 */
struct ilio_mmp {
	const struct ilio_mmp_ops *ops;
	void *priv;
	struct mutex lock;	/* see above */
	bool guarded;
	bool held;
	bool confirmed;
	bool lost;
	u32 expired;
	bool took_over;
	u8 uuid[16];
	u64 owner;
	u64 seq;
	u32 interval_ms;
	u32 fence_ms;
	char node[ILIO_MMP_NODE_LEN];
	u64 last_ok_ms;
	u64 claim_ms;
	int found;
	struct ilio_mmp_info prev;
	u32 waited_ms;
	u8 *blk;
	u8 *saved;
};

int ilio_mmp_init(struct ilio_mmp *m, const struct ilio_mmp_ops *ops,
		  void *priv, const char *node);
void ilio_mmp_exit(struct ilio_mmp *m);
u32 ilio_mmp_wait_ms(const struct ilio_mmp_info *r);
int ilio_mmp_acquire(struct ilio_mmp *m, u64 dev_bytes, bool takeover);
int ilio_mmp_peek(struct ilio_mmp *m, u64 dev_bytes);
int ilio_mmp_confirm(struct ilio_mmp *m);
int ilio_mmp_may_write(struct ilio_mmp *m);
int ilio_mmp_beat(struct ilio_mmp *m);
int ilio_mmp_release(struct ilio_mmp *m);
void ilio_mmp_abort(struct ilio_mmp *m);

#endif /* ILIO_MMP_H */
