// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-ram: the RAM store - records in RAM segments, and the compactor
 * that keeps them dense.  Diskless mode is the dedup core over this store.
 *
 * Locking: the ops run with the space lock held unless ilio-store.h says
 * otherwise; functions named __ilio_* expect it held.
 *
 * How is space reclaimed?
 *
 *   A chunk whose last reference goes releases its record bytes in its
 *   segment; a sealed segment with no live byte left is freed at once.
 *   When a store finds no room and the RAM budget allows no new segment,
 *   the compactor empties the sealed segment with the fewest live bytes
 *   (__ilio_seg_pick_victim()): it walks the segment's records and moves
 *   each one that its chunk still points at (__ilio_move_record()).  The
 *   compactor may use the spare segment, so it never needs a fresh
 *   allocation to make room.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/container_of.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/lockdep.h>
#include <linux/bug.h>
#include <linux/random.h>
#include <linux/printk.h>

#include "ilio-store.h"
#include "ilio-meta.h"

/**
 * struct ilio_ram - the RAM store
 * @base: what the core sees
 * @error: (L) sticky: -EUCLEAN once the compactor found a record that
 *	does not parse (RAM corruption: the core enters fail mode)
 */
struct ilio_ram {
	struct ilio_store base;
	int error;
};

static inline struct ilio_ram *ilio_ram_of(struct ilio_store *st)
{
	return container_of(st, struct ilio_ram, base);
}

static int __ilio_ram_reserve(struct ilio_ram *r, u32 len, int level);

/* The compactor's way of storing a moved record: the spare may serve. */
static int __ilio_ram_move(void *priv, ilio_cid_t cid, const void *payload,
			   u32 len, bool lz4, ilio_loc_t *loc)
{
	struct ilio_ram *r = priv;
	int ret = __ilio_ram_reserve(r, len, ILIO_LEVEL_GC);

	if (!ret)
		*loc = __ilio_seg_append(&r->base.sp->segs, cid, payload, len,
					 lz4);
	return ret;
}

/*
 * Empty the sealed segment with the fewest live bytes, if it has at most
 * @max_live of them.  Return: 0, or -ENOSPC when there is no such victim
 * or the moved records found no room.
 */
static int __ilio_compact_one(struct ilio_ram *r, u32 max_live)
{
	struct ilio_space *sp = r->base.sp;
	struct ilio_segs *s = &sp->segs;
	struct ilio_seg *seg;
	u32 victim, off = 0;
	int ret = 0;

	lockdep_assert_held_write(&sp->lock);
	victim = __ilio_seg_pick_victim(s, max_live);
	if (victim == ILIO_SEG_NONE)
		return -ENOSPC;
	seg = &s->segs[victim];
	/* Pinned: the walk goes on after the last live record releases it. */
	__ilio_seg_pin(s, victim);
	while (off + sizeof(struct ilio_chunk_hdr) <= seg->used) {
		const struct ilio_chunk_hdr *hdr = (void *)(seg->data + off);
		struct ilio_rec_info ri;
		ilio_loc_t loc;

		ilio_rec_unpack(hdr, &ri);
		if (!ilio_rec_fits(&ri, off, seg->used)) {
			/* RAM corruption: nothing here can be trusted. */
			pr_err("device-mapper: ilio: corrupt record in RAM segment %u at offset %u\n",
			       victim, off);
			r->error = -EUCLEAN;
			ret = -EIO;
			break;
		}
		loc = ilio_to_loc(ilio_rec_make_loc(victim, off, &ri));
		ret = __ilio_move_record(sp, ilio_to_cid(ri.cid), loc,
					 hdr + 1, __ilio_ram_move, r,
					 &sp->st.compact_moved_bytes);
		if (ret)
			break;
		off += ilio_rec_bytes(ri.len);
	}
	__ilio_seg_unpin(s, victim);
	if (!ret)
		sp->st.compactions++;
	return ret;
}

/*
 * Room in the open segment for a record of @len bytes.  @level
 * ILIO_LEVEL_GC: the caller is the compactor, which may use the spare
 * segment and must not recurse into compaction.
 */
static int __ilio_ram_reserve(struct ilio_ram *r, u32 len, int level)
{
	struct ilio_space *sp = r->base.sp;
	struct ilio_segs *s = &sp->segs;
	u32 need = ilio_rec_bytes(len);
	bool nomem = false;
	int tries = 0, ret;

	lockdep_assert_held_write(&sp->lock);
	while (!__ilio_seg_fits(s, need)) {
		/* A recycled buffer needs no room: it is charged already. */
		bool room = s->nr_reserve > ILIO_SEG_RESERVE ||
			    __ilio_ram_allows(sp, s->seg_bytes);

		/* A reserve buffer is already charged: it needs no room. */
		if (room || s->nr_reserve) {
			ret = __ilio_seg_open_fresh(s, room);
			if (!ret)
				continue;
			if (ret == -ENOMEM)
				nomem = true;	/* compaction may still help */
			else if (ret != -ENOSPC)
				return ret;
		}
		if (level == ILIO_LEVEL_GC) {
			ret = __ilio_seg_open_spare(s);
			if (ret)
				return ret;
			continue;
		}
		/* Out of memory, not of budget: the caller waits, retries. */
		if (tries++ >= ILIO_COMPACT_TRIES)
			return nomem ? -ENOMEM : -ENOSPC;
		ret = __ilio_compact_one(r, s->seg_bytes - need);
		if (ret)
			return nomem && ret == -ENOSPC ? -ENOMEM : ret;
	}
	return 0;
}

static int ilio_ram_reserve(struct ilio_store *st, u32 len, u32 nents,
			    int level)
{
	struct ilio_ram *r = ilio_ram_of(st);

	if (r->error)
		return -EIO;
	return len ? __ilio_ram_reserve(r, len, level) : 0;
}

static ilio_loc_t ilio_ram_append(struct ilio_store *st, ilio_cid_t cid,
				  const void *payload, u32 len, bool lz4)
{
	return __ilio_seg_append(&st->sp->segs, cid, payload, len, lz4);
}

static int ilio_ram_make_room(struct ilio_store *st, u64 bytes)
{
	struct ilio_space *sp = st->sp;
	int tries;

	for (tries = 0; tries < ILIO_COMPACT_TRIES; tries++) {
		if (__ilio_ram_allows(sp, bytes))
			return 0;
		if (__ilio_compact_one(ilio_ram_of(st), sp->segs.seg_bytes - 1))
			break;
	}
	return __ilio_ram_allows(sp, bytes) ? 0 : -ENOSPC;
}

static int ilio_ram_set_ram_limit(struct ilio_store *st, u64 bytes)
{
	struct ilio_space *sp = st->sp;
	u64 nr = bytes / sp->segs.seg_bytes;
	int ret;

	if (nr > ILIO_SEG_MAX)
		return -EINVAL;
	__ilio_ram_trim(sp, bytes);
	if (bytes < __ilio_ram_used(sp))
		return -ENOSPC;
	ret = __ilio_segs_grow(&sp->segs, nr);
	if (!ret)
		sp->ram_limit = bytes;
	return ret;
}

/* Empty sealed segments that are at most 3/4 live, emptiest first. */
static int ilio_ram_compact(struct ilio_store *st, unsigned int max)
{
	struct ilio_space *sp = st->sp;
	unsigned int n;

	down_write(&sp->lock);
	for (n = 0; n < max; n++)
		if (__ilio_compact_one(ilio_ram_of(st), sp->segs.seg_bytes / 4 * 3))
			break;
	up_write(&sp->lock);
	return n;
}

static int ilio_ram_error(struct ilio_store *st)
{
	return READ_ONCE(ilio_ram_of(st)->error);
}

static void ilio_ram_destroy(struct ilio_store *st)
{
	kfree(ilio_ram_of(st));
}

static const struct ilio_store_ops ilio_ram_ops = {
	.reserve = ilio_ram_reserve,
	.append = ilio_ram_append,
	.make_room = ilio_ram_make_room,
	.set_ram_limit = ilio_ram_set_ram_limit,
	.compact = ilio_ram_compact,
	.error = ilio_ram_error,
	.destroy = ilio_ram_destroy,
};

/*
 * A RAM store of p->ram_limit / p->seg_bytes segments.  *@err: -EINVAL
 * (bad parameters) or -E2BIG (the budget cannot hold the metadata of this
 * size plus two segments), -ENOMEM.
 */
static struct ilio_store *ilio_ram_open(struct ilio_space *sp,
					const struct ilio_core_params *p,
					int *err, const char **why)
{
	struct ilio_ram *r;
	u64 nr_segs;
	int ret;

	*why = NULL;
	if (!p->nr_blocks || !p->seg_bytes || p->seg_bytes % ILIO_BLOCK_SIZE ||
	    p->seg_bytes > ILIO_SEG_BYTES_MAX) {
		*err = -EINVAL;
		return NULL;
	}
	nr_segs = p->ram_limit / p->seg_bytes;
	if (nr_segs < 2) {
		*err = -E2BIG;
		return NULL;
	}
	if (nr_segs > ILIO_SEG_MAX)
		nr_segs = ILIO_SEG_MAX;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	r->base.ops = &ilio_ram_ops;
	r->base.sp = sp;
	/* Diskless: a key of its own for the life of the store. */
	sp->hash_seed = get_random_u64();
	ret = ilio_segs_init(&sp->segs, nr_segs, p->seg_bytes, &sp->lock);
	if (!ret) {
		/*
		 * Metadata, the compactor's spare and the reserve buffer,
		 * which is the one segment a write needs when no other fits.
		 */
		down_write(&sp->lock);
		if (__ilio_ram_used(sp) > sp->ram_limit)
			ret = -E2BIG;
		up_write(&sp->lock);
	}
	if (ret) {
		kfree(r);
		*err = ret;
		return NULL;
	}
	return &r->base;
}

/* The store of diskless mode. */
const struct ilio_store_type ilio_ram_store = {
	.name = "ram",
	.open = ilio_ram_open,
};
