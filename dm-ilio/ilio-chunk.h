/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-chunk: the chunk table and the content index.
 *
 * A chunk is one stored block content (compressed or raw).  Logical
 * blocks reach it through the LBA map (LBA -> chunk id) and the chunk
 * table (chunk id -> location).  Moving a chunk therefore updates one
 * entry, however many LBAs share it.
 *
 * The content index is a chained hash table over the chunk table: the
 * buckets hold chunk ids and each chunk's @next links the chain, so it
 * costs nothing per chunk beyond the 4-byte link and the bucket heads.
 *
 * Locking: none of its own; the caller holds the lock given at init for
 * writing for every __ilio_* call (asserted).  The inline readers
 * (ilio_chunk_loc(), ilio_chunk_hash(), ...) need it held, shared or not.
 */
#ifndef ILIO_CHUNK_H
#define ILIO_CHUNK_H

#include <linux/types.h>
#include <linux/rwsem.h>
#include <linux/build_bug.h>

#include "ilio-format.h"
#include "ilio-types.h"

#define ILIO_CHUNK_LEAF_SHIFT	9
#define ILIO_CHUNK_LEAF_ENTRIES	512U	/* 1 << ILIO_CHUNK_LEAF_SHIFT */
#define ILIO_CID_MAX		0xfffffffeU
#define ILIO_REF_MAX		0xfffffff0U

/*
 * The leaves are checkpointed whole (the location codec and the on-disk
 * leaf are in ilio-format.h).
 */
static_assert(ILIO_CHUNK_LEAF_ENTRIES == ILIO_CKPT_CHUNK_ENTRIES,
	      "a chunk leaf is one checkpoint leaf");

/**
 * struct ilio_chunk_leaf - ILIO_CHUNK_LEAF_ENTRIES chunk table entries
 * @loc: packed location (see ilio_loc_make()); 0 for a free id
 * @hash: content hash
 * @ref: references (LBA map entries plus transient holders); 0 = free
 * @next: next chunk id in the index chain, or in the free list
 * @cls: region class (enum ilio_class), 0 (normal) when allocated
 *
 * Structure of arrays, so that an entry costs exactly 25 bytes.
 */
struct ilio_chunk_leaf {
	ilio_loc_t loc[ILIO_CHUNK_LEAF_ENTRIES];
	u64 hash[ILIO_CHUNK_LEAF_ENTRIES];
	u32 ref[ILIO_CHUNK_LEAF_ENTRIES];
	ilio_cid_t next[ILIO_CHUNK_LEAF_ENTRIES];
	u8 cls[ILIO_CHUNK_LEAF_ENTRIES];
};

/**
 * struct ilio_chunks - chunk table plus content index
 * @lock: protects everything below (not owned)
 * @dir: leaf pointers, @dir_cap slots, @nr_leaves allocated
 * @dir_cap: slots in @dir
 * @nr_leaves: leaves allocated; ids below nr_leaves * LEAF_ENTRIES exist
 * @next_new: lowest id never handed out (ids start at 1)
 * @free_head: head of the list of freed ids, linked by @next
 * @nr_live: chunks with ref > 0
 * @buckets: index heads (chunk ids), @nr_buckets of them, a power of two
 * @nr_buckets: number of buckets
 * @spare: a leaf held for when the allocator fails (a write needs at most
 *	one new leaf); charged to the budget, NULL when used up
 */
struct ilio_chunks {
	struct rw_semaphore *lock;	/* the core lock */
	struct ilio_chunk_leaf **dir;
	u32 dir_cap;
	u32 nr_leaves;
	u32 next_new;
	ilio_cid_t free_head;
	u32 nr_live;
	ilio_cid_t *buckets;
	u32 nr_buckets;
	struct ilio_chunk_leaf *spare;
};

static inline struct ilio_chunk_leaf *ilio_chunk_leaf(struct ilio_chunks *c,
						      ilio_cid_t cid)
{
	return c->dir[ilio_from_cid(cid) >> ILIO_CHUNK_LEAF_SHIFT];
}

/* ILIO_CIDX() - the index of chunk id @cid in its leaf */
#define ILIO_CIDX(cid) (ilio_from_cid(cid) & (ILIO_CHUNK_LEAF_ENTRIES - 1))

static inline ilio_loc_t ilio_chunk_loc(struct ilio_chunks *c, ilio_cid_t cid)
{
	return ilio_chunk_leaf(c, cid)->loc[ILIO_CIDX(cid)];
}

static inline void ilio_chunk_set_loc(struct ilio_chunks *c, ilio_cid_t cid,
				      ilio_loc_t loc)
{
	ilio_chunk_leaf(c, cid)->loc[ILIO_CIDX(cid)] = loc;
}

/* The chunk's region class (enum ilio_class; ilio-class.h). */
static inline int ilio_chunk_class(struct ilio_chunks *c, ilio_cid_t cid)
{
	return ilio_chunk_leaf(c, cid)->cls[ILIO_CIDX(cid)];
}

static inline void ilio_chunk_set_class(struct ilio_chunks *c, ilio_cid_t cid,
					int cls)
{
	ilio_chunk_leaf(c, cid)->cls[ILIO_CIDX(cid)] = cls;
}

static inline u64 ilio_chunk_hash(struct ilio_chunks *c, ilio_cid_t cid)
{
	return ilio_chunk_leaf(c, cid)->hash[ILIO_CIDX(cid)];
}

static inline u32 ilio_chunk_ref(struct ilio_chunks *c, ilio_cid_t cid)
{
	return ilio_chunk_leaf(c, cid)->ref[ILIO_CIDX(cid)];
}

/* True when @cid names an allocated (live) chunk. */
static inline bool ilio_chunk_valid(struct ilio_chunks *c, ilio_cid_t cid)
{
	return cid && ilio_from_cid(cid) < c->next_new && ilio_chunk_ref(c, cid);
}

int ilio_chunks_init(struct ilio_chunks *c, struct rw_semaphore *lock);
void ilio_chunks_exit(struct ilio_chunks *c);
u64 ilio_chunks_mem_bytes(const struct ilio_chunks *c);
int __ilio_chunk_reserve(struct ilio_chunks *c);
bool __ilio_chunk_add_spare(struct ilio_chunks *c, struct ilio_chunk_leaf *leaf);
u32 __ilio_chunk_dir_want(struct ilio_chunks *c);
bool __ilio_chunk_set_dir(struct ilio_chunks *c, struct ilio_chunk_leaf **dir,
			  u32 cap);
u64 __ilio_chunk_reserve_bytes(struct ilio_chunks *c);
ilio_cid_t __ilio_chunk_alloc(struct ilio_chunks *c, u64 hash, ilio_loc_t loc);
void __ilio_chunk_get(struct ilio_chunks *c, ilio_cid_t cid);
u32 __ilio_chunk_put(struct ilio_chunks *c, ilio_cid_t cid);
ilio_cid_t __ilio_index_first(struct ilio_chunks *c, u64 hash);
ilio_cid_t __ilio_index_next(struct ilio_chunks *c, ilio_cid_t cid, u64 hash);
void __ilio_index_maybe_grow(struct ilio_chunks *c);
u64 __ilio_chunk_restore_bytes(struct ilio_chunks *c, ilio_cid_t cid);
int __ilio_chunk_restore(struct ilio_chunks *c, ilio_cid_t cid, ilio_loc_t loc,
			 u64 hash, u32 limit);
int __ilio_chunk_count_ref(struct ilio_chunks *c, ilio_cid_t cid);
void __ilio_chunks_rebuild(struct ilio_chunks *c);

#endif /* ILIO_CHUNK_H */
