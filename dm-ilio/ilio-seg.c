// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-seg: segments.
 *
 * Locking: the caller holds s->lock for every __ilio_seg_*() call.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/string.h>
#include <linux/lockdep.h>
#include <linux/bug.h>
#include <linux/sched.h>

#include "ilio-seg.h"
#include "ilio-chunk.h"
#include "ilio-common.h"
#include "ilio-meta.h"

static u8 *ilio_seg_alloc_data(u32 bytes, gfp_t gfp)
{
	return __vmalloc(bytes, gfp);
}

static int ilio_segs_setup(struct ilio_segs *s, u32 nr_segs, u32 seg_bytes,
			   struct rw_semaphore *lock, bool persistent)
{
	memset(s, 0, sizeof(*s));
	if (nr_segs < 2 || nr_segs > ILIO_SEG_MAX || seg_bytes > ILIO_SEG_BYTES_MAX)
		return -EINVAL;
	s->lock = lock;
	s->nr_segs = nr_segs;
	s->seg_bytes = seg_bytes;
	s->open = ILIO_SEG_NONE;
	s->spare = ILIO_SEG_NONE;
	s->persistent = persistent;
	/* Above INT_MAX bytes kvmalloc() WARNs: fail quietly instead. */
	s->segs = kvcalloc(nr_segs, sizeof(*s->segs), GFP_KERNEL | __GFP_NOWARN);
	if (persistent) {
		s->vset = kvcalloc(nr_segs, sizeof(u32), GFP_KERNEL | __GFP_NOWARN);
		s->vpos = kvcalloc(nr_segs, sizeof(u32), GFP_KERNEL | __GFP_NOWARN);
	}
	if (!s->segs || (persistent && (!s->vset || !s->vpos))) {
		ilio_segs_exit(s);
		return -ENOMEM;
	}
	if (persistent)
		memset(s->vpos, 0xff, (size_t)nr_segs * sizeof(u32));
	while (s->nr_reserve < ILIO_SEG_RESERVE) {
		u8 *data = ilio_seg_alloc_data(seg_bytes, GFP_KERNEL);

		if (!data) {
			ilio_segs_exit(s);
			return -ENOMEM;
		}
		s->reserve[s->nr_reserve++] = data;
	}
	return 0;
}

/**
 * ilio_segs_init_disk() - set up the table of a backing device's segments
 * @s: table
 * @nr_segs: segments on the device
 * @seg_bytes: segment size
 * @lock: the lock the caller will hold for every __ilio_seg_* call
 *
 * Every slot starts FREE and without memory, and the segment index
 * empty; recovery sets the states.
 *
 * Return: 0, -EINVAL or -ENOMEM.
 */
int ilio_segs_init_disk(struct ilio_segs *s, u32 nr_segs, u32 seg_bytes,
			struct rw_semaphore *lock)
{
	return ilio_segs_setup(s, nr_segs, seg_bytes, lock, true);
}

/**
 * ilio_segs_init() - set up the segment table and its spare segment
 * @s: table
 * @nr_segs: number of segment slots (at least 2)
 * @seg_bytes: segment size, a multiple of 4096, at most ILIO_SEG_BYTES_MAX
 * @lock: the lock the caller will hold for every __ilio_seg_* call
 *
 * Return: 0, -EINVAL or -ENOMEM.
 */
int ilio_segs_init(struct ilio_segs *s, u32 nr_segs, u32 seg_bytes,
		   struct rw_semaphore *lock)
{
	int ret = ilio_segs_setup(s, nr_segs, seg_bytes, lock, false);

	if (ret)
		return ret;
	s->segs[0].data = ilio_seg_alloc_data(seg_bytes, GFP_KERNEL);
	if (!s->segs[0].data) {
		ilio_segs_exit(s);
		return -ENOMEM;
	}
	s->segs[0].state = ILIO_SEG_SPARE;
	s->spare = 0;
	s->nr_resident = 1;
	s->scan_hint = 1;
	return 0;
}

/**
 * ilio_segs_exit() - free every segment
 * @s: table; no segment may be pinned
 */
void ilio_segs_exit(struct ilio_segs *s)
{
	u32 i;

	while (s->nr_reserve)
		vfree(s->reserve[--s->nr_reserve]);
	kvfree(s->vset);
	kvfree(s->vpos);
	s->vset = NULL;
	s->vpos = NULL;
	if (!s->segs)
		return;
	for (i = 0; i < s->nr_segs; i++)
		vfree(s->segs[i].data);
	kvfree(s->segs);
	s->segs = NULL;
}

/**
 * ilio_segs_reserve_bytes() - RAM held by the reserve buffers
 * @s: table
 *
 * Return: bytes; part of the metadata charged to the budget.
 */
u64 ilio_segs_reserve_bytes(const struct ilio_segs *s)
{
	return (u64)s->nr_reserve * s->seg_bytes;
}

/**
 * __ilio_seg_get_buf() - a buffer for a segment about to open
 * @s: table
 * @may_alloc: the RAM budget has room for one more segment: try the
 *	allocator (no retry) before the reserve
 *
 * A recycled buffer comes first, then the allocator, then the reserve.
 * A buffer from the pool costs the budget nothing: it was charged while
 * it waited there.  Its old bytes are not cleared: nothing reads a
 * segment past @used, and every byte below it is written by its append
 * (record padding included).
 *
 * Return: the buffer, or NULL when the allocator failed (or was not
 * allowed) and the reserve is empty.
 */
u8 *__ilio_seg_get_buf(struct ilio_segs *s, bool may_alloc)
{
	u8 *data;

	lockdep_assert_held_write(s->lock);
	if (s->nr_reserve > ILIO_SEG_RESERVE)
		return s->reserve[--s->nr_reserve];
	data = may_alloc ? ilio_seg_alloc_data(s->seg_bytes, ILIO_GFP) : NULL;
	if (!data && s->nr_reserve)
		data = s->reserve[--s->nr_reserve];
	return data;
}

/**
 * __ilio_seg_put_buf() - a segment buffer is no longer needed
 * @s: table
 * @data: the buffer
 *
 * It refills the reserve first, then the pool of recycled buffers
 * (neutral for the budget: it stays charged), and is freed when both
 * are full.
 */
void __ilio_seg_put_buf(struct ilio_segs *s, u8 *data)
{
	lockdep_assert_held_write(s->lock);
	if (s->nr_reserve < ILIO_SEG_POOL)
		s->reserve[s->nr_reserve++] = data;
	else
		vfree(data);
}

/**
 * __ilio_seg_pool_trim() - give one recycled buffer back to the system
 * @s: table
 *
 * Called whenever the budget is short: a recycled buffer is idle RAM.
 *
 * Return: false when only the reserve is left.
 */
bool __ilio_seg_pool_trim(struct ilio_segs *s)
{
	lockdep_assert_held_write(s->lock);
	if (s->nr_reserve <= ILIO_SEG_RESERVE)
		return false;
	vfree(s->reserve[--s->nr_reserve]);
	return true;
}

/**
 * __ilio_seg_reserve_short() - is a reserve buffer missing?
 * @s: table
 *
 * Return: true when the reserve holds fewer than ILIO_SEG_RESERVE.
 */
bool __ilio_seg_reserve_short(struct ilio_segs *s)
{
	lockdep_assert_held_write(s->lock);
	return s->nr_reserve < ILIO_SEG_RESERVE;
}

/**
 * ilio_seg_alloc_wait() - allocate a segment buffer, waiting for reclaim
 * @s: table (for the size; not locked)
 *
 * For refilling the reserve with the core lock dropped: no I/O
 * recursion, but the allocator may reclaim and retry.
 *
 * Return: the buffer, or NULL.
 */
u8 *ilio_seg_alloc_wait(struct ilio_segs *s)
{
	return ilio_seg_alloc_data(s->seg_bytes, ILIO_GFP_WAIT);
}

/**
 * ilio_segs_grow_alloc() - allocate the tables of a larger segment table
 * @s: table (only its size and mode are read: no lock needed)
 * @nr_segs: new number of slots, above the current, at most ILIO_SEG_MAX
 * @g: filled in
 * @gfp: allocation flags
 *
 * Return: 0 or -ENOMEM (nothing to free).
 */
int ilio_segs_grow_alloc(struct ilio_segs *s, u32 nr_segs,
			 struct ilio_segs_growth *g, gfp_t gfp)
{
	memset(g, 0, sizeof(*g));
	g->nr_segs = nr_segs;
	g->segs = kvcalloc(nr_segs, sizeof(*g->segs), gfp);
	if (g->segs && s->persistent) {
		g->vset = kvcalloc(nr_segs, sizeof(u32), gfp);
		g->vpos = kvcalloc(nr_segs, sizeof(u32), gfp);
	}
	if (!g->segs || (s->persistent && (!g->vset || !g->vpos))) {
		ilio_segs_grow_free(g);
		return -ENOMEM;
	}
	return 0;
}

/**
 * ilio_segs_grow_free() - free what ilio_segs_grow_alloc() allocated
 * @g: the allocation (or what __ilio_segs_grow_commit() left: nothing)
 */
void ilio_segs_grow_free(struct ilio_segs_growth *g)
{
	kvfree(g->segs);
	kvfree(g->vset);
	kvfree(g->vpos);
	memset(g, 0, sizeof(*g));
}

/**
 * __ilio_segs_grow_commit() - take the larger tables; cannot fail
 * @s: table
 * @g: from ilio_segs_grow_alloc() for this table, which has not grown
 *	since; emptied (the old tables are freed)
 *
 * The new slots are FREE.  Persistent: they are new segments on a backing
 * device that grew (the superblock that names them is durable first), and
 * the segment index grows with them: the heap keeps its slots, the
 * waiting set moves to the new end of @vset.
 */
void __ilio_segs_grow_commit(struct ilio_segs *s, struct ilio_segs_growth *g)
{
	u32 old = s->nr_segs, nr = g->nr_segs, i, *t;
	struct ilio_seg *segs = g->segs;

	lockdep_assert_held_write(s->lock);
	memcpy(segs, s->segs, old * sizeof(*segs));
	g->segs = s->segs;
	s->segs = segs;
	if (s->persistent) {
		memcpy(g->vset, s->vset, s->nr_heap * sizeof(u32));
		memcpy(g->vpos, s->vpos, old * sizeof(u32));
		memset(g->vpos + old, 0xff, (size_t)(nr - old) * sizeof(u32));
		for (i = 0; i < s->nr_wait; i++) {
			u32 idx = s->vset[old - s->nr_wait + i];

			g->vset[nr - s->nr_wait + i] = idx;
			g->vpos[idx] = nr - s->nr_wait + i;
		}
		t = s->vset;
		s->vset = g->vset;
		g->vset = t;
		t = s->vpos;
		s->vpos = g->vpos;
		g->vpos = t;
		s->nr_free += nr - old;
	}
	s->nr_segs = nr;
	ilio_segs_grow_free(g);		/* the old tables */
}

/**
 * __ilio_segs_grow() - add segment slots
 * @s: table
 * @nr_segs: new number of slots; no change when not above the current
 *
 * Return: 0, -EINVAL (too many) or -ENOMEM (the table is unchanged).
 */
int __ilio_segs_grow(struct ilio_segs *s, u32 nr_segs)
{
	struct ilio_segs_growth g;

	lockdep_assert_held_write(s->lock);
	if (nr_segs <= s->nr_segs)
		return 0;
	if (nr_segs > ILIO_SEG_MAX)
		return -EINVAL;
	if (ilio_segs_grow_alloc(s, nr_segs, &g, ILIO_GFP))
		return -ENOMEM;
	__ilio_segs_grow_commit(s, &g);
	return 0;
}

/**
 * ilio_segs_mem_bytes() - RAM held by segments and the segment table
 * @s: table
 *
 * Return: bytes.
 */
u64 ilio_segs_mem_bytes(const struct ilio_segs *s)
{
	return (u64)s->nr_resident * s->seg_bytes +
	       (u64)s->nr_segs * sizeof(*s->segs) + ilio_segs_index_bytes(s);
}

/**
 * ilio_segs_index_bytes() - RAM held by the persistent segment index
 * @s: table
 *
 * Return: bytes (0 when diskless).
 */
u64 ilio_segs_index_bytes(const struct ilio_segs *s)
{
	return s->vset ? 2ULL * s->nr_segs * sizeof(u32) : 0;
}

/**
 * __ilio_seg_fits() - can the open segment take a record of @need bytes?
 * @s: table
 * @need: record size (ilio_rec_bytes())
 *
 * Return: true when it can.
 */
bool __ilio_seg_fits(struct ilio_segs *s, u32 need)
{
	lockdep_assert_held_write(s->lock);
	return s->open != ILIO_SEG_NONE &&
	       s->segs[s->open].used + need <= s->seg_bytes;
}

static void __ilio_seg_release(struct ilio_segs *s, u32 idx)
{
	struct ilio_seg *seg = &s->segs[idx];

	if (seg->pins) {
		seg->release_pending = true;
		return;
	}
	seg->release_pending = false;
	seg->used = 0;
	seg->live = 0;
	if (s->spare == ILIO_SEG_NONE) {
		seg->state = ILIO_SEG_SPARE;
		s->spare = idx;
		return;
	}
	__ilio_seg_put_buf(s, seg->data);
	seg->data = NULL;
	seg->state = ILIO_SEG_FREE;
	s->nr_resident--;
	if (idx < s->scan_hint)
		s->scan_hint = idx;
}

static void __ilio_seg_seal(struct ilio_segs *s)
{
	struct ilio_seg *seg;

	if (s->open == ILIO_SEG_NONE)
		return;
	seg = &s->segs[s->open];
	seg->state = ILIO_SEG_SEALED;
	s->open = ILIO_SEG_NONE;
	if (!seg->live)
		__ilio_seg_release(s, seg - s->segs);
}

/**
 * __ilio_seg_open_fresh() - seal the open segment, open a fresh one
 * @s: table
 * @may_alloc: the RAM budget allows one more segment: the buffer may be
 *	allocated; otherwise only a reserve buffer may be used
 *
 * Return: 0; -ENOSPC when every slot is in use; -ENOMEM when there is no
 * buffer (the allocator failed and the reserve is empty).
 */
int __ilio_seg_open_fresh(struct ilio_segs *s, bool may_alloc)
{
	u32 i;
	u8 *data;

	lockdep_assert_held_write(s->lock);
	for (i = s->scan_hint; i < s->nr_segs; i++)
		if (s->segs[i].state == ILIO_SEG_FREE)
			break;
	if (i >= s->nr_segs)
		return -ENOSPC;
	data = __ilio_seg_get_buf(s, may_alloc);
	if (!data)
		return -ENOMEM;
	s->scan_hint = i + 1;
	__ilio_seg_seal(s);	/* may release a slot below i: lowers the hint */
	s->segs[i].data = data;
	s->segs[i].state = ILIO_SEG_OPEN;
	s->segs[i].used = 0;
	s->segs[i].live = 0;
	s->nr_resident++;
	s->open = i;
	return 0;
}

/**
 * __ilio_seg_open_spare() - seal the open segment, open the spare
 * @s: table
 *
 * For the compactor only.
 *
 * Return: 0, or -ENOSPC when there is no spare.
 */
int __ilio_seg_open_spare(struct ilio_segs *s)
{
	u32 idx = s->spare;

	lockdep_assert_held_write(s->lock);
	if (idx == ILIO_SEG_NONE)
		return -ENOSPC;
	__ilio_seg_seal(s);
	s->spare = ILIO_SEG_NONE;
	s->segs[idx].state = ILIO_SEG_OPEN;
	s->open = idx;
	return 0;
}

/**
 * __ilio_seg_append() - append a chunk record to the open segment
 * @s: table; __ilio_seg_fits() was true for ilio_rec_bytes(@len)
 * @cid: owning chunk id
 * @payload: @len bytes
 * @len: payload length, 1..ILIO_BLOCK_SIZE
 * @lz4: payload is lz4-compressed
 *
 * Return: the packed location of the record.
 */
ilio_loc_t __ilio_seg_append(struct ilio_segs *s, ilio_cid_t cid,
			     const void *payload, u32 len, bool lz4)
{
	struct ilio_seg *seg = &s->segs[s->open];
	struct ilio_rec_info r = {
		.cid = ilio_from_cid(cid), .len = len,
		.flags = lz4 ? ILIO_CHUNK_LZ4 : 0,
	};
	struct ilio_chunk_hdr *hdr;
	u32 off = seg->used, need = ilio_rec_bytes(len);

	lockdep_assert_held_write(s->lock);
	hdr = (struct ilio_chunk_hdr *)(seg->data + off);
	ilio_rec_pack(hdr, &r);
	memcpy(hdr + 1, payload, len);
	/* Zero the alignment pad: segment bytes are fully defined. */
	memset((u8 *)(hdr + 1) + len, 0, need - sizeof(*hdr) - len);
	seg->used += need;
	seg->live += need;
	return ilio_loc_make(s->open, off, len, lz4);
}

/*
 * The persistent segment index (see struct ilio_segs): a binary min-heap
 * on (live, index) - the index breaks ties as a scan in index order
 * would - and an unordered set, in one array.  O(log n) per change.
 */
static bool ilio_seg_less(const struct ilio_segs *s, u32 a, u32 b)
{
	return s->segs[a].live < s->segs[b].live ||
	       (s->segs[a].live == s->segs[b].live && a < b);
}

static void ilio_seg_vput(struct ilio_segs *s, u32 pos, u32 idx)
{
	s->vset[pos] = idx;
	s->vpos[idx] = pos;
}

static void ilio_seg_heap_up(struct ilio_segs *s, u32 pos)
{
	u32 idx = s->vset[pos];

	while (pos && ilio_seg_less(s, idx, s->vset[(pos - 1) / 2])) {
		ilio_seg_vput(s, pos, s->vset[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	ilio_seg_vput(s, pos, idx);
}

static void ilio_seg_heap_down(struct ilio_segs *s, u32 pos)
{
	u32 idx = s->vset[pos];

	for (;;) {
		u64 c = 2ULL * pos + 1;

		if (c >= s->nr_heap)
			break;
		if (c + 1 < s->nr_heap &&
		    ilio_seg_less(s, s->vset[c + 1], s->vset[c]))
			c++;
		if (!ilio_seg_less(s, s->vset[c], idx))
			break;
		ilio_seg_vput(s, pos, s->vset[c]);
		pos = (u32)c;
	}
	ilio_seg_vput(s, pos, idx);
}

static void ilio_seg_wait_add(struct ilio_segs *s, u32 idx)
{
	s->nr_wait++;
	ilio_seg_vput(s, s->nr_segs - s->nr_wait, idx);
}

/* A tracked segment lost live bytes: move it up, or to the waiting set. */
static void __ilio_seg_heap_fix(struct ilio_segs *s, u32 idx)
{
	u32 pos = s->vpos[idx], last;

	if (s->segs[idx].live) {
		ilio_seg_heap_up(s, pos);
		return;
	}
	last = s->vset[--s->nr_heap];
	if (last != idx) {
		ilio_seg_vput(s, pos, last);
		ilio_seg_heap_down(s, pos);
		ilio_seg_heap_up(s, s->vpos[last]);
	}
	ilio_seg_wait_add(s, idx);
}

/**
 * __ilio_seg_track() - index a persistent segment that is sealed and written
 * @s: table
 * @idx: segment, SEALED, without a buffer, not indexed yet
 *
 * With live data it becomes a GC candidate, else it waits for a checkpoint.
 */
void __ilio_seg_track(struct ilio_segs *s, u32 idx)
{
	lockdep_assert_held_write(s->lock);
	if (WARN_ON(s->vpos[idx] != ILIO_SEG_NONE))
		return;
	if (!s->segs[idx].live) {
		ilio_seg_wait_add(s, idx);
		return;
	}
	ilio_seg_vput(s, s->nr_heap++, idx);
	ilio_seg_heap_up(s, s->nr_heap - 1);
}

/**
 * __ilio_seg_untrack_waiting() - a waiting segment is being freed
 * @s: table
 * @idx: segment in the waiting set
 *
 * The last waiting segment (by __ilio_seg_waiting() order) takes its place.
 */
void __ilio_seg_untrack_waiting(struct ilio_segs *s, u32 idx)
{
	u32 pos = s->vpos[idx], low = s->nr_segs - s->nr_wait;

	lockdep_assert_held_write(s->lock);
	if (WARN_ON(pos < low || pos >= s->nr_segs))
		return;
	if (pos != low)
		ilio_seg_vput(s, pos, s->vset[low]);
	s->nr_wait--;
	s->vpos[idx] = ILIO_SEG_NONE;
}

/**
 * __ilio_segs_untrack_all() - empty the index (recovery rebuilds it)
 * @s: table
 */
void __ilio_segs_untrack_all(struct ilio_segs *s)
{
	lockdep_assert_held_write(s->lock);
	memset(s->vpos, 0xff, (size_t)s->nr_segs * sizeof(u32));
	s->nr_heap = 0;
	s->nr_wait = 0;
}

/**
 * __ilio_segs_check_index() - verify the persistent segment index
 * @s: table
 * @bad: set to the first segment found wrong
 *
 * Every sealed, written segment is in the heap (live data) or the waiting
 * set (empty), nothing else is, and the heap is ordered.
 *
 * Return: NULL when exact, else what is wrong.
 */
const char *__ilio_segs_check_index(struct ilio_segs *s, u32 *bad)
{
	u32 i, n = 0;

	lockdep_assert_held_write(s->lock);
	if (!s->vset)
		return NULL;
	if ((u64)s->nr_heap + s->nr_wait > s->nr_segs)
		return "index holds more entries than segments";
	for (i = 0; i < s->nr_segs; i++) {
		struct ilio_seg *seg = &s->segs[i];
		bool want = seg->state == ILIO_SEG_SEALED && !seg->data;
		u32 pos = s->vpos[i];

		*bad = i;
		if (seg->state == ILIO_SEG_TRIM)
			continue;
		if (!want) {
			if (pos != ILIO_SEG_NONE)
				return "indexed but not sealed and written";
			continue;
		}
		n++;
		if (pos >= s->nr_segs || s->vset[pos] != i)
			return "sealed and written but not indexed";
		if (seg->live ? pos >= s->nr_heap : pos < s->nr_segs - s->nr_wait)
			return "in the wrong part of the index for its live bytes";
		if (pos && pos < s->nr_heap &&
		    ilio_seg_less(s, i, s->vset[(pos - 1) / 2]))
			return "GC heap out of order";
		if ((i & 4095) == 4095)
			cond_resched();
	}
	if (n != s->nr_heap + s->nr_wait)
		return "index entry count does not match the segments";
	return NULL;
}

/**
 * __ilio_seg_release_bytes() - a chunk stored at @loc died or moved away
 * @s: table
 * @loc: its old location
 *
 * A sealed segment that loses its last live byte is released at once (or
 * when its last pin goes).
 */
void __ilio_seg_release_bytes(struct ilio_segs *s, ilio_loc_t loc)
{
	u32 idx = ilio_loc_seg(loc);
	struct ilio_seg *seg = &s->segs[idx];
	u32 rec = ilio_rec_bytes(ilio_loc_len(loc));

	lockdep_assert_held_write(s->lock);
	if (WARN_ON(seg->live < rec))
		seg->live = rec;
	seg->live -= rec;
	if (s->persistent) {
		/* Freed by the next checkpoint (the free pass, ilio-ckpt.c). */
		if (s->vpos[idx] < s->nr_heap)
			__ilio_seg_heap_fix(s, idx);
		return;
	}
	if (!seg->live && seg->state == ILIO_SEG_SEALED && !seg->release_pending)
		__ilio_seg_release(s, idx);
}

/**
 * __ilio_seg_pin() - keep a segment's memory while reading it unlocked
 * @s: table
 * @seg: segment index
 */
void __ilio_seg_pin(struct ilio_segs *s, u32 seg)
{
	lockdep_assert_held_write(s->lock);
	s->segs[seg].pins++;
}

/**
 * __ilio_seg_unpin() - drop a pin; performs a pending release
 * @s: table
 * @seg: segment index
 */
void __ilio_seg_unpin(struct ilio_segs *s, u32 seg)
{
	struct ilio_seg *sg = &s->segs[seg];

	lockdep_assert_held_write(s->lock);
	if (WARN_ON(!sg->pins))
		return;
	if (!--sg->pins && sg->release_pending)
		__ilio_seg_release(s, seg);
}

/**
 * __ilio_seg_pick_victim() - the sealed segment with the least live data
 * @s: table
 * @max_live: ignore segments with more live bytes than this
 *
 * Greedy choice, for compaction and GC alike: every byte costs the same
 * to move, so the emptiest segment frees the most per byte copied.  A RAM
 * table is scanned (it is small: RAM / segment size); a persistent one
 * keeps its written segments in a heap on live bytes, whose top is the
 * answer (ties go to the lowest index).
 *
 * Return: segment index, or ILIO_SEG_NONE.
 */
u32 __ilio_seg_pick_victim(struct ilio_segs *s, u32 max_live)
{
	u32 i, best = ILIO_SEG_NONE, best_live = max_live;

	lockdep_assert_held_write(s->lock);
	if (s->persistent) {
		/* The top of the segment index's heap: O(1), no scan. */
		i = __ilio_seg_emptiest(s);
		return i != ILIO_SEG_NONE && s->segs[i].live <= max_live ?
		       i : ILIO_SEG_NONE;
	}
	for (i = 0; i < s->nr_segs; i++) {
		struct ilio_seg *seg = &s->segs[i];

		if (seg->state != ILIO_SEG_SEALED || seg->release_pending)
			continue;
		if (seg->live <= best_live) {
			best = i;
			best_live = seg->live;
			if (!best_live)
				break;
		}
	}
	return best;
}

/**
 * __ilio_seg_take_free() - reserve a free device segment for the log
 * @s: persistent table
 *
 * The first FREE slot from the scan hint on (wrapping) becomes NEXT: the
 * log will open it.  The caller checked that @s->nr_free allows it.
 *
 * Return: segment index, or ILIO_SEG_NONE when none is free.
 */
u32 __ilio_seg_take_free(struct ilio_segs *s)
{
	u32 i, n = s->nr_segs;

	lockdep_assert_held_write(s->lock);
	for (i = 0; i < n; i++) {
		u32 idx = (s->scan_hint + i) % n;

		if (s->segs[idx].state == ILIO_SEG_FREE) {
			s->scan_hint = (idx + 1) % n;
			s->segs[idx].state = ILIO_SEG_NEXT;
			s->nr_free--;
			return idx;
		}
	}
	return ILIO_SEG_NONE;
}

/**
 * __ilio_seg_set_free() - a device segment is free again
 * @s: persistent table
 * @idx: segment (its buffer is gone; the log replays nothing from it)
 */
void __ilio_seg_set_free(struct ilio_segs *s, u32 idx)
{
	lockdep_assert_held_write(s->lock);
	s->segs[idx].state = ILIO_SEG_FREE;
	s->nr_free++;
}

/*
 * Persistent segments, as the log uses them: a free device segment is
 * taken as the log's next one (NEXT), opened with a RAM buffer (OPEN),
 * sealed, loses its buffer once written (SEALED, tracked by the segment
 * index), waits for a checkpoint once empty, is discarded (TRIM) and is
 * free again.  The transitions below are the only code that changes
 * those states, so the segment table's counters (nr_free, nr_resident)
 * and the index stay exact.
 */

/**
 * __ilio_seg_open_log() - a NEXT segment becomes the log's open segment
 * @s: persistent table, with no open segment
 * @idx: the segment (NEXT, from __ilio_seg_take_free())
 * @data: its RAM buffer (from __ilio_seg_get_buf())
 */
void __ilio_seg_open_log(struct ilio_segs *s, u32 idx, u8 *data)
{
	lockdep_assert_held_write(s->lock);
	s->segs[idx] = (struct ilio_seg){ .data = data, .state = ILIO_SEG_OPEN };
	s->nr_resident++;
	s->open = idx;
}

/**
 * __ilio_seg_seal_log() - the log's open segment takes nothing more
 * @s: persistent table with an open segment
 *
 * Return: the segment, now SEALED (its buffer stays until it is written).
 */
u32 __ilio_seg_seal_log(struct ilio_segs *s)
{
	u32 idx = s->open;

	lockdep_assert_held_write(s->lock);
	s->segs[idx].state = ILIO_SEG_SEALED;
	s->open = ILIO_SEG_NONE;
	return idx;
}

/**
 * __ilio_seg_drop_buf() - a persistent segment gives its RAM buffer back
 * @s: persistent table
 * @idx: the segment (its data is on the device, or it never had any)
 *
 * The buffer refills the reserve first (__ilio_seg_put_buf()).
 */
void __ilio_seg_drop_buf(struct ilio_segs *s, u32 idx)
{
	lockdep_assert_held_write(s->lock);
	__ilio_seg_put_buf(s, s->segs[idx].data);
	s->segs[idx].data = NULL;
	s->nr_resident--;
}

/**
 * __ilio_seg_set_trim() - a segment freed by a checkpoint is discarded first
 * @s: persistent table
 * @idx: the segment, untracked
 * @next: the rest of the discard list (ILIO_SEG_NONE ends it)
 *
 * The discard list is threaded through @s->vpos, which TRIM segments do
 * not use otherwise.
 */
void __ilio_seg_set_trim(struct ilio_segs *s, u32 idx, u32 next)
{
	lockdep_assert_held_write(s->lock);
	s->segs[idx].state = ILIO_SEG_TRIM;
	s->vpos[idx] = next;
}

/**
 * ilio_seg_trim_next() - the segment after @idx on the discard list
 * @s: persistent table
 * @idx: a TRIM segment (only its owner, the free pass, reads the list)
 *
 * Return: segment, or ILIO_SEG_NONE at the end.
 */
u32 ilio_seg_trim_next(const struct ilio_segs *s, u32 idx)
{
	return s->vpos[idx];
}

/**
 * __ilio_seg_trimmed() - a discarded segment is free again
 * @s: persistent table
 * @idx: the TRIM segment
 */
void __ilio_seg_trimmed(struct ilio_segs *s, u32 idx)
{
	lockdep_assert_held_write(s->lock);
	s->vpos[idx] = ILIO_SEG_NONE;
	s->segs[idx].last_seq = 0;
	__ilio_seg_set_free(s, idx);
}

/**
 * __ilio_seg_recovered() - recovery found a segment in use on the device
 * @s: persistent table, being rebuilt (__ilio_segs_untrack_all() first)
 * @idx: the segment: it holds live records or units replay must read
 *
 * It is SEALED and fully written, without a buffer, and tracked.
 */
void __ilio_seg_recovered(struct ilio_segs *s, u32 idx)
{
	struct ilio_seg *seg = &s->segs[idx];

	lockdep_assert_held_write(s->lock);
	seg->state = ILIO_SEG_SEALED;
	seg->used = s->seg_bytes;
	seg->closed = s->seg_bytes;
	seg->written = s->seg_bytes;
	__ilio_seg_track(s, idx);
}
