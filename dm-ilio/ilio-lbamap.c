// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-lbamap: the logical block map, LBA -> chunk id.
 *
 * Locking: the caller holds m->lock for every __ilio_lbamap_*() call.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/lockdep.h>
#include <linux/string.h>
#include <linux/sched.h>

#include "ilio-lbamap.h"
#include "ilio-common.h"

/**
 * ilio_lbamap_init() - set up an empty map
 * @m: map to initialise
 * @nr_blocks: number of logical blocks, 1..ILIO_LBAMAP_MAX_BLOCKS
 * @max_bytes: the most its directory may take (the RAM budget, less room
 *	for the rest); checked before anything is allocated
 * @lock: the lock that the caller will hold for every access
 *
 * Return: 0; -EFBIG above ILIO_LBAMAP_MAX_BLOCKS; -E2BIG when the
 * directory would take more than @max_bytes; -ENOMEM.
 */
int ilio_lbamap_init(struct ilio_lbamap *m, u64 nr_blocks, u64 max_bytes,
		     struct rw_semaphore *lock)
{
	memset(m, 0, sizeof(*m));
	m->lock = lock;
	if (nr_blocks > ILIO_LBAMAP_MAX_BLOCKS)
		return -EFBIG;
	if (ilio_lbamap_dir_bytes(nr_blocks) > max_bytes)
		return -E2BIG;
	m->nr_blocks = nr_blocks;
	m->nr_leaves = (nr_blocks >> ILIO_LBAMAP_LEAF_SHIFT) +
		       !!(nr_blocks & (ILIO_LBAMAP_LEAF_ENTRIES - 1));
	m->dir = kvcalloc(m->nr_leaves, sizeof(*m->dir), GFP_KERNEL);
	m->present = kvcalloc((m->nr_leaves + 63) / 64, sizeof(u64), GFP_KERNEL);
	return m->dir && m->present ? 0 : -ENOMEM;
}

/**
 * __ilio_lbamap_grow() - make the map cover more blocks
 * @m: the map
 * @nr_blocks: the new number of blocks, at least m->nr_blocks and at most
 *	ILIO_LBAMAP_MAX_BLOCKS (the caller checked both, and the budget)
 *
 * Only the directory and its presence bits grow; every leaf stays where
 * it is, and the new blocks are unmapped (a partial last leaf was zeroed
 * whole when it was allocated, and no block beyond the old size was ever
 * set in it).  May sleep (allocation under the core lock, GFP_NOIO).
 *
 * Return: 0 or -ENOMEM (the map is unchanged).
 */
int __ilio_lbamap_grow(struct ilio_lbamap *m, u64 nr_blocks)
{
	u64 leaves = (nr_blocks >> ILIO_LBAMAP_LEAF_SHIFT) +
		     !!(nr_blocks & (ILIO_LBAMAP_LEAF_ENTRIES - 1));
	ilio_cid_t **dir;
	u64 *present;

	lockdep_assert_held_write(m->lock);
	if (nr_blocks <= m->nr_blocks)
		return 0;
	if (leaves > m->nr_leaves) {
		dir = kvcalloc(leaves, sizeof(*dir), ILIO_GFP_WAIT);
		present = kvcalloc((leaves + 63) / 64, sizeof(u64), ILIO_GFP_WAIT);
		if (!dir || !present) {
			kvfree(dir);
			kvfree(present);
			return -ENOMEM;
		}
		memcpy(dir, m->dir, m->nr_leaves * sizeof(*dir));
		memcpy(present, m->present, (m->nr_leaves + 63) / 64 * sizeof(u64));
		kvfree(m->dir);
		kvfree(m->present);
		m->dir = dir;
		m->present = present;
		m->nr_leaves = leaves;
	}
	m->nr_blocks = nr_blocks;
	return 0;
}

/**
 * __ilio_lbamap_ungrow() - undo __ilio_lbamap_grow() before any use
 * @m: the map
 * @nr_blocks: the size it had; no block at or beyond it was set since
 *
 * The larger directory stays allocated (its extra slots are empty).
 */
void __ilio_lbamap_ungrow(struct ilio_lbamap *m, u64 nr_blocks)
{
	lockdep_assert_held_write(m->lock);
	m->nr_blocks = nr_blocks;
	m->nr_leaves = (nr_blocks >> ILIO_LBAMAP_LEAF_SHIFT) +
		       !!(nr_blocks & (ILIO_LBAMAP_LEAF_ENTRIES - 1));
}

/**
 * ilio_lbamap_exit() - free the map
 * @m: map to free; references held by its entries are not dropped
 */
void ilio_lbamap_exit(struct ilio_lbamap *m)
{
	u64 i;

	kvfree(m->spare);
	m->spare = NULL;
	kvfree(m->present);
	m->present = NULL;
	if (!m->dir)
		return;
	for (i = 0; i < m->nr_leaves; i++)
		kvfree(m->dir[i]);
	kvfree(m->dir);
	m->dir = NULL;
}

/**
 * ilio_lbamap_mem_bytes() - RAM used by the map
 * @m: the map
 *
 * Return: bytes of the directory plus allocated leaves.
 */
u64 ilio_lbamap_mem_bytes(const struct ilio_lbamap *m)
{
	return ilio_lbamap_dir_bytes(m->nr_blocks) +
	       (m->leaves_allocated + !!m->spare) * ILIO_LBAMAP_LEAF_ENTRIES *
	       sizeof(ilio_cid_t);
}

/**
 * ilio_lbamap_alloc_leaf() - allocate a zeroed leaf
 * @gfp: allocation flags
 *
 * Return: the leaf, or NULL.
 */
ilio_cid_t *ilio_lbamap_alloc_leaf(gfp_t gfp)
{
	return kvcalloc(ILIO_LBAMAP_LEAF_ENTRIES, sizeof(ilio_cid_t), gfp);
}

/**
 * __ilio_lbamap_add_spare() - hand the map a spare leaf
 * @m: the map
 * @leaf: a zeroed leaf (ilio_lbamap_alloc_leaf())
 *
 * Return: true when taken; false when the map has one (free @leaf).
 */
bool __ilio_lbamap_add_spare(struct ilio_lbamap *m, ilio_cid_t *leaf)
{
	lockdep_assert_held_write(m->lock);
	if (m->spare)
		return false;
	m->spare = leaf;
	return true;
}

/**
 * __ilio_lbamap_get() - look up a block
 * @m: the map
 * @lba: logical block, below m->nr_blocks
 *
 * Changes nothing: the lock may be held for reading.
 *
 * Return: the chunk id, 0 when unmapped.
 */
ilio_cid_t __ilio_lbamap_get(struct ilio_lbamap *m, ilio_lba_t lba)
{
	ilio_cid_t *leaf;

	lockdep_assert_held(m->lock);
	leaf = m->dir[ilio_lba_leaf(lba)];
	return leaf ? leaf[ilio_lba_slot(lba)] : 0;
}

/**
 * __ilio_lbamap_prepare() - make sure the leaf holding @lba exists
 * @m: the map
 * @lba: logical block
 *
 * Call before __ilio_lbamap_set() with a non-zero id, so that the set
 * cannot fail.  May sleep (allocation under the core lock, GFP_NOIO).
 * When the allocator fails, the spare leaf is used.
 *
 * Return: 0, or -ENOMEM (allocator failed, no spare).
 */
int __ilio_lbamap_prepare(struct ilio_lbamap *m, ilio_lba_t lba)
{
	ilio_cid_t **slot;

	lockdep_assert_held_write(m->lock);
	slot = &m->dir[ilio_lba_leaf(lba)];
	if (*slot)
		return 0;
	*slot = ilio_lbamap_alloc_leaf(ILIO_GFP);
	if (!*slot && m->spare) {
		*slot = m->spare;	/* zeroed when it was allocated */
		m->spare = NULL;
	}
	if (!*slot)
		return -ENOMEM;
	m->present[ilio_lba_leaf(lba) / 64] |= 1ULL << (ilio_lba_leaf(lba) % 64);
	m->leaves_allocated++;
	return 0;
}

/**
 * __ilio_lbamap_next_leaf() - the first allocated leaf at or after @from
 * @m: the map
 * @from: leaf index
 *
 * One step per 64 slots of @dir, whatever the map's size: a checkpoint of a
 * sparse 512 TiB map does not visit 2^27 empty slots under the lock.
 *
 * Return: the leaf index, or m->nr_leaves when there is none.
 */
u64 __ilio_lbamap_next_leaf(struct ilio_lbamap *m, u64 from)
{
	u64 w = from / 64, words = (m->nr_leaves + 63) / 64, bits;

	lockdep_assert_held_write(m->lock);
	if (from >= m->nr_leaves)
		return m->nr_leaves;
	bits = m->present[w] & (~0ULL << (from % 64));
	while (!bits) {
		if (++w >= words)
			return m->nr_leaves;
		bits = m->present[w];
	}
	from = w * 64;
	while (!(bits & 1)) {
		bits >>= 1;
		from++;
	}
	return from;
}

/**
 * __ilio_lbamap_prepare_bytes() - what __ilio_lbamap_prepare() would allocate
 * @m: the map
 * @lba: logical block
 *
 * Return: bytes (0 when the leaf exists).
 */
u64 __ilio_lbamap_prepare_bytes(struct ilio_lbamap *m, ilio_lba_t lba)
{
	lockdep_assert_held_write(m->lock);
	return m->dir[ilio_lba_leaf(lba)] ? 0 :
	       ILIO_LBAMAP_LEAF_ENTRIES * sizeof(ilio_cid_t);
}

/**
 * __ilio_lbamap_set() - point a block at a chunk
 * @m: the map
 * @lba: logical block
 * @cid: new chunk id, 0 to unmap
 *
 * A non-zero @cid needs a prior successful __ilio_lbamap_prepare().
 * The caller owns the reference that the entry now holds, and receives
 * the one that the old entry held.
 *
 * Return: the previous chunk id (0 when it was unmapped).
 */
ilio_cid_t __ilio_lbamap_set(struct ilio_lbamap *m, ilio_lba_t lba,
			     ilio_cid_t cid)
{
	ilio_cid_t *leaf, old;

	lockdep_assert_held_write(m->lock);
	leaf = m->dir[ilio_lba_leaf(lba)];
	if (!leaf)
		return 0;	/* only reachable with cid == 0 */
	old = leaf[ilio_lba_slot(lba)];
	leaf[ilio_lba_slot(lba)] = cid;
	m->mapped += (cid != 0) - (old != 0);
	return old;
}

/**
 * __ilio_lbamap_unmap_range() - unmap @count blocks from @lba (recovery)
 * @m: the map
 * @lba: first block
 * @count: blocks; @lba + @count is at most m->nr_blocks
 *
 * For replay, which derives references afterwards: the references the
 * old entries held are not handed back.  Absent leaves map nothing and
 * are skipped, so nothing is allocated and the cost is one step per leaf
 * of the range (a whole-device discard is one such range), with a
 * reschedule point every 4096 leaves.
 */
void __ilio_lbamap_unmap_range(struct ilio_lbamap *m, ilio_lba_t lba,
			       u64 count)
{
	u64 b = ilio_from_lba(lba), end = b + count;

	lockdep_assert_held_write(m->lock);
	while (b < end) {
		u64 li = b >> ILIO_LBAMAP_LEAF_SHIFT;
		u64 stop = min_t(u64, end, (li + 1) << ILIO_LBAMAP_LEAF_SHIFT);
		ilio_cid_t *leaf = m->dir[li];
		u32 k;

		if (leaf) {
			for (k = b & (ILIO_LBAMAP_LEAF_ENTRIES - 1);
			     b < stop; k++, b++) {
				m->mapped -= leaf[k] != 0;
				leaf[k] = 0;
			}
		}
		b = stop;
		if ((li & 4095) == 4095)
			cond_resched();
	}
}
