// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-lbamap: the logical block map, LBA -> chunk id.
 *
 * Locking: the caller holds m->lock for every __ilio_lbamap_*() call.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/lockdep.h>

#include "ilio-lbamap.h"
#include "ilio-core.h"

/**
 * ilio_lbamap_init() - set up an empty map
 * @m: map to initialise
 * @nr_blocks: number of logical blocks
 * @lock: the lock that the caller will hold for every access
 *
 * Return: 0, or -ENOMEM.
 */
int ilio_lbamap_init(struct ilio_lbamap *m, u64 nr_blocks, struct mutex *lock)
{
	m->lock = lock;
	m->nr_blocks = nr_blocks;
	m->nr_leaves = (nr_blocks + ILIO_LBAMAP_LEAF_ENTRIES - 1) >>
		       ILIO_LBAMAP_LEAF_SHIFT;
	m->leaves_allocated = 0;
	m->mapped = 0;
	m->dir = kvcalloc(m->nr_leaves, sizeof(*m->dir), GFP_KERNEL);
	return m->dir ? 0 : -ENOMEM;
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
	return m->nr_leaves * sizeof(*m->dir) +
	       (m->leaves_allocated + !!m->spare) * ILIO_LBAMAP_LEAF_ENTRIES *
	       sizeof(u32);
}

/**
 * ilio_lbamap_alloc_leaf() - allocate a zeroed leaf
 * @gfp: allocation flags
 *
 * Return: the leaf, or NULL.
 */
u32 *ilio_lbamap_alloc_leaf(gfp_t gfp)
{
	return kvcalloc(ILIO_LBAMAP_LEAF_ENTRIES, sizeof(u32), gfp);
}

/**
 * __ilio_lbamap_add_spare() - hand the map a spare leaf
 * @m: the map
 * @leaf: a zeroed leaf (ilio_lbamap_alloc_leaf())
 *
 * Return: true when taken; false when the map has one (free @leaf).
 */
bool __ilio_lbamap_add_spare(struct ilio_lbamap *m, u32 *leaf)
{
	lockdep_assert_held(m->lock);
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
 * Return: the chunk id, 0 when unmapped.
 */
u32 __ilio_lbamap_get(struct ilio_lbamap *m, u64 lba)
{
	u32 *leaf;

	lockdep_assert_held(m->lock);
	leaf = m->dir[lba >> ILIO_LBAMAP_LEAF_SHIFT];
	return leaf ? leaf[lba & (ILIO_LBAMAP_LEAF_ENTRIES - 1)] : 0;
}

/**
 * __ilio_lbamap_prepare() - make sure the leaf holding @lba exists
 * @m: the map
 * @lba: logical block
 *
 * Call before __ilio_lbamap_set() with a non-zero id, so that the set
 * cannot fail.  May sleep (allocation under the core mutex, GFP_NOIO).
 * When the allocator fails, the spare leaf is used.
 *
 * Return: 0, or -ENOMEM (allocator failed, no spare).
 */
int __ilio_lbamap_prepare(struct ilio_lbamap *m, u64 lba)
{
	u32 **slot;

	lockdep_assert_held(m->lock);
	slot = &m->dir[lba >> ILIO_LBAMAP_LEAF_SHIFT];
	if (*slot)
		return 0;
	*slot = ilio_lbamap_alloc_leaf(ILIO_GFP);
	if (!*slot && m->spare) {
		*slot = m->spare;	/* zeroed when it was allocated */
		m->spare = NULL;
	}
	if (!*slot)
		return -ENOMEM;
	m->leaves_allocated++;
	return 0;
}

/**
 * __ilio_lbamap_prepare_bytes() - what __ilio_lbamap_prepare() would allocate
 * @m: the map
 * @lba: logical block
 *
 * Return: bytes (0 when the leaf exists).
 */
u64 __ilio_lbamap_prepare_bytes(struct ilio_lbamap *m, u64 lba)
{
	lockdep_assert_held(m->lock);
	return m->dir[lba >> ILIO_LBAMAP_LEAF_SHIFT] ? 0 :
	       ILIO_LBAMAP_LEAF_ENTRIES * sizeof(u32);
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
u32 __ilio_lbamap_set(struct ilio_lbamap *m, u64 lba, u32 cid)
{
	u32 *leaf, old;

	lockdep_assert_held(m->lock);
	leaf = m->dir[lba >> ILIO_LBAMAP_LEAF_SHIFT];
	if (!leaf)
		return 0;	/* only reachable with cid == 0 */
	old = leaf[lba & (ILIO_LBAMAP_LEAF_ENTRIES - 1)];
	leaf[lba & (ILIO_LBAMAP_LEAF_ENTRIES - 1)] = cid;
	m->mapped += (cid != 0) - (old != 0);
	return old;
}
