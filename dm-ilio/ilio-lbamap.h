/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-lbamap: the logical block map, LBA -> chunk id.
 *
 * Locking: none of its own.  Every __ilio_lbamap_* call requires the lock
 * named at init time (the core lock) to be held, for writing except
 * __ilio_lbamap_get(); it is asserted.
 */
#ifndef ILIO_LBAMAP_H
#define ILIO_LBAMAP_H

#include <linux/types.h>
#include <linux/rwsem.h>
#include <linux/gfp.h>
#include <linux/build_bug.h>

#include "ilio-format.h"
#include "ilio-types.h"

/* Entries per leaf: one 4 KiB leaf maps 4 MiB of logical space. */
#define ILIO_LBAMAP_LEAF_SHIFT	10
#define ILIO_LBAMAP_LEAF_ENTRIES 1024U	/* 1 << ILIO_LBAMAP_LEAF_SHIFT */

/* ilio_lba_leaf() - the index of the leaf that maps @lba */
static inline u64 ilio_lba_leaf(ilio_lba_t lba)
{
	return ilio_from_lba(lba) >> ILIO_LBAMAP_LEAF_SHIFT;
}

/* ilio_lba_slot() - the entry of @lba in its leaf */
static inline u32 ilio_lba_slot(ilio_lba_t lba)
{
	return ilio_from_lba(lba) & (ILIO_LBAMAP_LEAF_ENTRIES - 1);
}

/* A leaf is checkpointed whole, as one ILIO_CKPT_LBAMAP leaf. */
static_assert(ILIO_LBAMAP_LEAF_ENTRIES == ILIO_CKPT_MAP_ENTRIES,
	      "an LBA-map leaf is one checkpoint leaf");

/**
 * struct ilio_lbamap - two-level map from logical block to chunk id
 * @lock: the lock that protects every field below (not owned)
 * @nr_blocks: number of logical blocks mapped by this map
 * @nr_leaves: number of slots in @dir
 * @dir: leaf pointers; a NULL leaf maps all its blocks to chunk 0
 * @leaves_allocated: number of non-NULL leaves
 * @mapped: number of blocks whose chunk id is not 0
 * @spare: a zeroed leaf held for when the allocator fails (a write needs
 *	at most one new leaf); charged to the budget, NULL when used up
 * @present: one bit per slot of @dir, set when its leaf exists: a walk
 *	over the allocated leaves of a sparse map (a checkpoint) skips 64
 *	absent leaves per word
 *
 * Chunk id 0 means "unmapped": the block reads as zeroes.  Leaves are
 * allocated on first write, so a sparse device costs little.  Each mapped
 * block costs 4 bytes once its leaf is dense.
 */
struct ilio_lbamap {
	struct rw_semaphore *lock;	/* the core lock */
	u64 nr_blocks;
	u64 nr_leaves;
	ilio_cid_t **dir;
	u64 leaves_allocated;
	u64 mapped;
	ilio_cid_t *spare;
	u64 *present;
};

/*
 * The largest logical size: 512 TiB, whose leaf directory (1 GiB) stays
 * below what kvmalloc() accepts at all (INT_MAX bytes).
 */
#define ILIO_LBAMAP_MAX_BLOCKS	0x2000000000ULL	/* 2^37 */

/**
 * ilio_lbamap_dir_bytes() - size of the leaf directory of a map
 * @nr_blocks: number of logical blocks, any u64
 *
 * Inline, so that the table parser's budget check (ilio-args.c, also built
 * alone into ilioctl and the fuzzer) uses the very same sum.
 *
 * Return: bytes (no overflow for any @nr_blocks).
 */
static inline u64 ilio_lbamap_dir_bytes(u64 nr_blocks)
{
	u64 leaves = (nr_blocks >> ILIO_LBAMAP_LEAF_SHIFT) +
		     !!(nr_blocks & (ILIO_LBAMAP_LEAF_ENTRIES - 1));

	/* The slots, and the bitmap of the leaves that exist. */
	return leaves * sizeof(ilio_cid_t *) + (leaves + 63) / 64 * sizeof(u64);
}

int ilio_lbamap_init(struct ilio_lbamap *m, u64 nr_blocks, u64 max_bytes,
		     struct rw_semaphore *lock);
void ilio_lbamap_exit(struct ilio_lbamap *m);
int __ilio_lbamap_grow(struct ilio_lbamap *m, u64 nr_blocks);
void __ilio_lbamap_ungrow(struct ilio_lbamap *m, u64 nr_blocks);
u64 ilio_lbamap_mem_bytes(const struct ilio_lbamap *m);
ilio_cid_t __ilio_lbamap_get(struct ilio_lbamap *m, ilio_lba_t lba);
int __ilio_lbamap_prepare(struct ilio_lbamap *m, ilio_lba_t lba);
u64 __ilio_lbamap_prepare_bytes(struct ilio_lbamap *m, ilio_lba_t lba);
ilio_cid_t __ilio_lbamap_set(struct ilio_lbamap *m, ilio_lba_t lba,
			     ilio_cid_t cid);
ilio_cid_t *ilio_lbamap_alloc_leaf(gfp_t gfp);
bool __ilio_lbamap_add_spare(struct ilio_lbamap *m, ilio_cid_t *leaf);
void __ilio_lbamap_unmap_range(struct ilio_lbamap *m, ilio_lba_t lba,
			       u64 count);
u64 __ilio_lbamap_next_leaf(struct ilio_lbamap *m, u64 from);

#endif /* ILIO_LBAMAP_H */
