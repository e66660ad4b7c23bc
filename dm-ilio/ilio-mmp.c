// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-mmp: the multihost guard (see ilio-mmp.h for the protocol and
 * ilio-format.h for the record).
 *
 * Locking: m->lock serialises the entry points, which may sleep and do
 * I/O; it protects every field of struct ilio_mmp.  @held and
 * @last_ok_ms are written under it with WRITE_ONCE() and read without
 * it by ilio_mmp_may_write(), the write path's check, which takes it
 * only to change them.  @guarded and @uuid are set by acquire, before
 * any write can be checked, and constant afterwards.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/lockdep.h>
#include <linux/random.h>

#include "ilio-mmp.h"

#define ILIO_MMP_POS	((u64)ILIO_MMP_BLOCK * ILIO_BLOCK_SIZE)

/**
 * ilio_mmp_init() - set up a guard for one activation
 * @m: the guard
 * @ops: environment
 * @priv: for @ops
 * @node: this host's name, written to the record
 *
 * Return: 0 or -ENOMEM.
 */
int ilio_mmp_init(struct ilio_mmp *m, const struct ilio_mmp_ops *ops,
		  void *priv, const char *node)
{
	memset(m, 0, sizeof(*m));
	m->ops = ops;
	m->priv = priv;
	mutex_init(&m->lock);
	do {
		m->owner = get_random_u64();
	} while (!m->owner);
	m->interval_ms = ILIO_MMP_INTERVAL_MS;
	m->fence_ms = ILIO_MMP_FENCE_MS;
	strscpy(m->node, node, sizeof(m->node));
	m->blk = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
	m->saved = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
	if (!m->blk || !m->saved) {
		ilio_mmp_exit(m);
		return -ENOMEM;
	}
	return 0;
}

/**
 * ilio_mmp_exit() - free a guard (after release or abort)
 * @m: the guard
 */
void ilio_mmp_exit(struct ilio_mmp *m)
{
	kfree(m->blk);
	kfree(m->saved);
	m->blk = NULL;
	m->saved = NULL;
	mutex_destroy(&m->lock);
}

/**
 * ilio_mmp_wait_ms() - how long to watch a record before taking it over
 * @r: a valid ACTIVE record, or NULL for one that is not valid (the
 *	defaults apply)
 *
 * Return: 2 x @fence_ms + @interval_ms: bounded, since the validator
 * bounds both.
 */
u32 ilio_mmp_wait_ms(const struct ilio_mmp_info *r)
{
	if (!r)
		return 2 * ILIO_MMP_FENCE_MS + ILIO_MMP_INTERVAL_MS;
	return 2 * r->fence_ms + r->interval_ms;
}

static int ilio_mmp_read(struct ilio_mmp *m, void *blk)
{
	return m->ops->read(m->priv, ILIO_MMP_POS, blk, ILIO_BLOCK_SIZE);
}

/* Classify the record in @blk; @r is filled when it is valid. */
static int ilio_mmp_classify(struct ilio_mmp *m, const void *blk,
			     struct ilio_mmp_info *r)
{
	const char *why;
	int ret = ilio_mmp_check(blk, m->uuid, r, &why);

	if (ret == -ENOENT)
		return ILIO_MMP_FOUND_NONE;
	if (ret)
		return ILIO_MMP_FOUND_INVALID;
	return r->state == ILIO_MMP_ACTIVE ? ILIO_MMP_FOUND_ACTIVE :
					     ILIO_MMP_FOUND_CLEAN;
}

/* Write a record of @state with the next seq (durably); m->lock held. */
static int __ilio_mmp_put(struct ilio_mmp *m, u32 state, u64 after_seq)
{
	struct ilio_mmp_info r = {
		.state = state,
		.seq = after_seq + 1,
		.owner = m->owner,
		.time = m->ops->wall(m->priv),
		.interval_ms = m->interval_ms,
		.fence_ms = m->fence_ms,
	};
	int ret;

	lockdep_assert_held(&m->lock);
	strscpy(r.node, m->node, sizeof(r.node));
	ilio_mmp_build(m->blk, m->uuid, &r);
	ret = m->ops->write(m->priv, ILIO_MMP_POS, m->blk, ILIO_BLOCK_SIZE);
	if (!ret)
		m->seq = r.seq;
	return ret;
}

/*
 * Find the store's uuid in the first valid superblock copy (the one the
 * store's open uses), and whether it is guarded; m->lock held.
 */
static int __ilio_mmp_read_sb(struct ilio_mmp *m, u64 dev_bytes)
{
	struct ilio_geom g;
	const char *why;
	int i, ret;

	lockdep_assert_held(&m->lock);
	m->guarded = false;
	for (i = 0; i < 2; i++) {
		ret = m->ops->read(m->priv, (u64)(ILIO_SB_BLOCK + i) * ILIO_BLOCK_SIZE,
				   m->blk, ILIO_BLOCK_SIZE);
		if (ret)
			return ret;
		if (!ilio_sb_check(m->blk, ILIO_SB_BLOCK + i, dev_bytes, &g, &why)) {
			memcpy(m->uuid, g.uuid, sizeof(m->uuid));
			m->guarded = g.multihost;
			return 0;
		}
	}
	return 0;	/* no store: the open refuses it */
}

/*
 * Watch the record found in m->saved (ACTIVE, or not valid) for the wait
 * it asks for.  Return 0 when it did not change (stale), or when it
 * became CLEAN or no record (m->saved and m->found then say so);
 * -EBUSY when it changed otherwise (another host is alive; m->prev is
 * the newest valid record seen); -errno on a read error.
 */
static int __ilio_mmp_watch(struct ilio_mmp *m)
{
	const struct ilio_mmp_info *r =
		m->found == ILIO_MMP_FOUND_ACTIVE ? &m->prev : NULL;
	u32 wait = ilio_mmp_wait_ms(r);
	u32 step = r ? r->interval_ms : ILIO_MMP_INTERVAL_MS;
	u64 t0 = m->ops->now_ms(m->priv);
	struct ilio_mmp_info nr;
	int ret, found;

	while (m->waited_ms < wait) {
		m->ops->sleep(m->priv, min(step, wait - m->waited_ms));
		m->waited_ms = min_t(u64, m->ops->now_ms(m->priv) - t0, 0xffffffffU);
		ret = ilio_mmp_read(m, m->blk);
		if (ret)
			return ret;
		if (!memcmp(m->blk, m->saved, ILIO_BLOCK_SIZE))
			continue;
		found = ilio_mmp_classify(m, m->blk, &nr);
		if (found == ILIO_MMP_FOUND_ACTIVE || found == ILIO_MMP_FOUND_CLEAN)
			m->prev = nr;
		if (found == ILIO_MMP_FOUND_ACTIVE || found == ILIO_MMP_FOUND_INVALID)
			return -EBUSY;
		/* The holder closed cleanly meanwhile: no need to wait. */
		m->found = found;
		memcpy(m->saved, m->blk, ILIO_BLOCK_SIZE);
		return 0;
	}
	return 0;
}

/**
 * ilio_mmp_acquire() - claim the store for writing
 * @m: the guard, initialised
 * @dev_bytes: the backing device's size
 * @takeover: take an ACTIVE (or not valid) record over without waiting
 *
 * Reads the superblock (a device without a valid one is not guarded:
 * the store's open refuses it anyway; a store formatted without
 * --multihost is not guarded either, and its record is never read or
 * written) and the record.  No record, or a
 * CLEAN one: claim at once.  An ACTIVE record, or one that is not valid:
 * unless @takeover, watch it for ilio_mmp_wait_ms() and refuse if it
 * changes; claim it otherwise (@took_over).  The claim is an ACTIVE
 * record with this activation's @owner, written durably; the lease
 * starts when it was issued.  m->found and m->prev say what was there.
 *
 * Return: 0 (@held unless not guarded); -EBUSY when another host beats;
 * -errno when the device cannot be read or the claim cannot be written.
 */
int ilio_mmp_acquire(struct ilio_mmp *m, u64 dev_bytes, bool takeover)
{
	u64 t;
	int ret;

	mutex_lock(&m->lock);
	ret = __ilio_mmp_read_sb(m, dev_bytes);
	if (ret || !m->guarded)
		goto out;
	ret = ilio_mmp_read(m, m->saved);
	if (ret)
		goto out;
	m->found = ilio_mmp_classify(m, m->saved, &m->prev);
	if (m->found == ILIO_MMP_FOUND_ACTIVE ||
	    m->found == ILIO_MMP_FOUND_INVALID) {
		if (!takeover)
			ret = __ilio_mmp_watch(m);
		if (ret)
			goto out;
		m->took_over = m->found == ILIO_MMP_FOUND_ACTIVE ||
			       m->found == ILIO_MMP_FOUND_INVALID;
	}
	t = m->ops->now_ms(m->priv);
	ret = __ilio_mmp_put(m, ILIO_MMP_ACTIVE,
			     m->found == ILIO_MMP_FOUND_ACTIVE ||
			     m->found == ILIO_MMP_FOUND_CLEAN ? m->prev.seq : 0);
	if (ret)
		goto out;
	m->claim_ms = m->ops->now_ms(m->priv);
	WRITE_ONCE(m->last_ok_ms, t);
	WRITE_ONCE(m->held, true);
out:
	mutex_unlock(&m->lock);
	return ret;
}

/**
 * ilio_mmp_peek() - what the record says, for a read-only activation
 * @m: the guard, initialised
 * @dev_bytes: the backing device's size
 *
 * Writes nothing, waits for nothing.
 *
 * Return: enum ilio_mmp_found (m->prev holds a valid record), or -errno.
 */
int ilio_mmp_peek(struct ilio_mmp *m, u64 dev_bytes)
{
	int ret;

	mutex_lock(&m->lock);
	ret = __ilio_mmp_read_sb(m, dev_bytes);
	if (!ret && m->guarded)
		ret = ilio_mmp_read(m, m->blk);
	if (!ret)
		ret = m->guarded ? ilio_mmp_classify(m, m->blk, &m->prev) :
				   ILIO_MMP_FOUND_NONE;
	m->guarded = false;	/* nothing to guard: no write is checked */
	mutex_unlock(&m->lock);
	return ret;
}

/**
 * ilio_mmp_confirm() - check that the claim is still ours
 * @m: the guard, after a successful acquire
 *
 * Waits until ILIO_MMP_CONFIRM_MS after the claim, then re-reads the
 * record.  Called by the first ilio_mmp_may_write(); idempotent.
 *
 * Return: 0; -EBUSY when another activation's claim replaced ours
 * (@lost); -errno on a read error (not confirmed: the next write tries
 * again).
 */
int ilio_mmp_confirm(struct ilio_mmp *m)
{
	struct ilio_mmp_info r;
	u64 el;
	int ret = 0;

	mutex_lock(&m->lock);
	if (!m->guarded || m->confirmed)
		goto out;
	ret = -EBUSY;
	if (!m->held)
		goto out;
	el = m->ops->now_ms(m->priv) - m->claim_ms;
	if (el < ILIO_MMP_CONFIRM_MS)
		m->ops->sleep(m->priv, ILIO_MMP_CONFIRM_MS - el);
	ret = ilio_mmp_read(m, m->blk);
	if (ret)
		goto out;
	if (ilio_mmp_classify(m, m->blk, &r) == ILIO_MMP_FOUND_ACTIVE &&
	    r.owner == m->owner) {
		m->confirmed = true;
		goto out;
	}
	m->prev = r;
	m->lost = true;
	WRITE_ONCE(m->held, false);
	ret = -EBUSY;
out:
	mutex_unlock(&m->lock);
	return ret;
}

/**
 * ilio_mmp_may_write() - may the activation write to the store now?
 * @m: the guard, after a successful acquire (or a peek: not guarded)
 *
 * The check before every write to the backing and journal devices.
 * The first one confirms the claim (it may sleep: never call it from
 * atomic context).  Afterwards lockless.
 *
 * Return: 0; -EBUSY (this activation does not hold the store: lost,
 * released or never claimed) or -ETIMEDOUT (the lease ran out: no beat
 * completed in time; a later beat may renew it): the write must not be
 * submitted.  -EIO when the confirm could not read the record.
 */
int ilio_mmp_may_write(struct ilio_mmp *m)
{
	int ret;

	if (!m->guarded)
		return 0;
	if (!READ_ONCE(m->confirmed)) {
		ret = ilio_mmp_confirm(m);
		if (ret)
			return ret == -EBUSY ? ret : -EIO;
	}
	if (!READ_ONCE(m->held))
		return -EBUSY;
	if (m->ops->now_ms(m->priv) - READ_ONCE(m->last_ok_ms) > m->fence_ms)
		return -ETIMEDOUT;
	return 0;
}

/**
 * ilio_mmp_beat() - renew the record (every @interval_ms)
 * @m: the guard
 *
 * Re-reads the record first: if it is not ours any more, another host
 * took the store over and this activation must stop writing (@lost,
 * final; m->prev is what it found).  Otherwise writes the record with the
 * next seq, durably; the lease then runs from when this beat
 * began.  A beat after the lease ran out (beats stalled, or the device
 * was suspended) renews it the same way, as a new claim: it reads first,
 * so it never renews a record another host took, and writes wait for a
 * new confirm (ilio_mmp_confirm()): of two claims that race, the later
 * write wins the block and the other host finds it at its confirm.
 *
 * Return: 0 (also when not guarded); -EBUSY when lost (later beats
 * return the same and write nothing); -errno when the device failed (the
 * next beat tries again; the lease runs out if none succeeds).
 */
int ilio_mmp_beat(struct ilio_mmp *m)
{
	struct ilio_mmp_info r;
	int ret = 0, found;
	bool late;
	u64 t;

	mutex_lock(&m->lock);
	if (!m->held) {
		ret = m->lost ? -EBUSY : 0;
		goto out;
	}
	t = m->ops->now_ms(m->priv);
	late = t - m->last_ok_ms > m->fence_ms;
	ret = ilio_mmp_read(m, m->blk);
	if (ret)
		goto out;
	found = ilio_mmp_classify(m, m->blk, &r);
	if (found != ILIO_MMP_FOUND_ACTIVE || r.owner != m->owner) {
		memset(&m->prev, 0, sizeof(m->prev));
		if (found == ILIO_MMP_FOUND_ACTIVE || found == ILIO_MMP_FOUND_CLEAN)
			m->prev = r;
		m->lost = true;
		WRITE_ONCE(m->held, false);
		ret = -EBUSY;
		goto out;
	}
	ret = __ilio_mmp_put(m, ILIO_MMP_ACTIVE, r.seq);
	if (!ret && late) {
		/*
		 * Renewing a lease that ran out is a claim like acquire's:
		 * another host may have found the record stale and claimed it
		 * between our read and our write.  Writes wait for the
		 * confirm, as after acquire.
		 */
		m->expired++;
		m->claim_ms = m->ops->now_ms(m->priv);
		WRITE_ONCE(m->confirmed, false);
	}
	if (!ret)
		WRITE_ONCE(m->last_ok_ms, t);
out:
	mutex_unlock(&m->lock);
	return ret;
}

/**
 * ilio_mmp_release() - mark the store CLEAN after a clean close
 * @m: the guard
 *
 * Writes the CLEAN record only if the record is still ours.
 *
 * Return: 0, or -errno when the record could not be read or written
 * (the next activation then waits, or needs takeover).
 */
int ilio_mmp_release(struct ilio_mmp *m)
{
	struct ilio_mmp_info r;
	int ret = 0;

	mutex_lock(&m->lock);
	if (!m->held)
		goto out;
	WRITE_ONCE(m->held, false);
	ret = ilio_mmp_read(m, m->blk);
	if (!ret && ilio_mmp_classify(m, m->blk, &r) == ILIO_MMP_FOUND_ACTIVE &&
	    r.owner == m->owner)
		ret = __ilio_mmp_put(m, ILIO_MMP_CLEAN, r.seq);
out:
	mutex_unlock(&m->lock);
	return ret;
}

/**
 * ilio_mmp_abort() - undo the claim of an activation that failed
 * @m: the guard
 *
 * Puts back the block that acquire found, if the record is still ours:
 * a refused activation leaves the device as it was.
 */
void ilio_mmp_abort(struct ilio_mmp *m)
{
	struct ilio_mmp_info r;

	mutex_lock(&m->lock);
	if (m->held) {
		WRITE_ONCE(m->held, false);
		if (!ilio_mmp_read(m, m->blk) &&
		    ilio_mmp_classify(m, m->blk, &r) == ILIO_MMP_FOUND_ACTIVE &&
		    r.owner == m->owner)
			m->ops->write(m->priv, ILIO_MMP_POS, m->saved, ILIO_BLOCK_SIZE);
	}
	mutex_unlock(&m->lock);
}
