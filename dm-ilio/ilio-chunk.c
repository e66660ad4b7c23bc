// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-chunk: the chunk table and the content index.
 *
 * Locking: the caller holds c->lock for every __ilio_*() call.
 *
 * Chunk ids are handed out densely from 1 and recycled through a free
 * list, so the table stays compact under churn.  The id space is split in
 * leaves of ILIO_CHUNK_LEAF_ENTRIES entries that are allocated on demand.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/lockdep.h>
#include <linux/bug.h>
#include <linux/sched.h>

#include "ilio-chunk.h"
#include "ilio-common.h"

#define ILIO_BUCKETS_MIN	1024U
#define ILIO_BUCKETS_MAX	0x40000000U

static inline ilio_cid_t *ilio_chunk_next(struct ilio_chunks *c, ilio_cid_t cid)
{
	return &ilio_chunk_leaf(c, cid)->next[ILIO_CIDX(cid)];
}

static inline u32 *ilio_chunk_refp(struct ilio_chunks *c, ilio_cid_t cid)
{
	return &ilio_chunk_leaf(c, cid)->ref[ILIO_CIDX(cid)];
}

static inline u32 ilio_bucket(u64 hash, u32 nr_buckets)
{
	/* xxh64 mixes all bits; fold the top into the bottom anyway. */
	return (u32)(hash ^ (hash >> 32)) & (nr_buckets - 1);
}

/* Slots __ilio_chunk_reserve() grows the leaf directory to for @leaves. */
static u64 ilio_chunk_dir_cap(u32 cap, u64 leaves)
{
	while (cap < leaves)
		cap = cap ? cap * 2 : 16;
	return cap;
}

/**
 * ilio_chunks_init() - set up an empty chunk table and index
 * @c: table
 * @lock: the lock the caller will hold for every __ilio_* call
 *
 * Return: 0, or -ENOMEM.
 */
int ilio_chunks_init(struct ilio_chunks *c, struct rw_semaphore *lock)
{
	memset(c, 0, sizeof(*c));
	c->lock = lock;
	c->next_new = 1;
	c->nr_buckets = ILIO_BUCKETS_MIN;
	c->buckets = kvcalloc(c->nr_buckets, sizeof(*c->buckets), GFP_KERNEL);
	if (!c->buckets)
		return -ENOMEM;
	return 0;
}

/**
 * ilio_chunks_exit() - free the table and the index
 * @c: table
 */
void ilio_chunks_exit(struct ilio_chunks *c)
{
	u32 i;

	for (i = 0; i < c->nr_leaves; i++)
		kvfree(c->dir[i]);
	kvfree(c->dir);
	kvfree(c->buckets);
	kvfree(c->spare);
	c->spare = NULL;
	c->dir = NULL;
	c->buckets = NULL;
	c->nr_leaves = 0;
}

/**
 * ilio_chunks_mem_bytes() - RAM used by the table and the index
 * @c: table
 *
 * Return: bytes.
 */
u64 ilio_chunks_mem_bytes(const struct ilio_chunks *c)
{
	return (u64)c->dir_cap * sizeof(*c->dir) +
	       (u64)(c->nr_leaves + !!c->spare) * sizeof(struct ilio_chunk_leaf) +
	       (u64)c->nr_buckets * sizeof(*c->buckets);
}

/**
 * __ilio_chunk_reserve_bytes() - what __ilio_chunk_reserve() would allocate
 * @c: table
 *
 * Return: bytes (0 when a free id is at hand).
 */
u64 __ilio_chunk_reserve_bytes(struct ilio_chunks *c)
{
	lockdep_assert_held_write(c->lock);
	if (c->free_head ||
	    c->next_new < (u64)c->nr_leaves * ILIO_CHUNK_LEAF_ENTRIES ||
	    c->next_new > ILIO_CID_MAX || !c->next_new)
		return 0;
	return sizeof(struct ilio_chunk_leaf) +
	       (c->nr_leaves == c->dir_cap ?
		(u64)(c->dir_cap ? c->dir_cap * 2 : 16) * sizeof(*c->dir) : 0);
}

/**
 * __ilio_chunk_reserve() - make sure the next __ilio_chunk_alloc() succeeds
 * @c: table
 *
 * May allocate a leaf (and grow the leaf directory).  When the allocator
 * fails, the spare leaf is used; a directory that cannot grow is grown by
 * the caller with the lock dropped (__ilio_chunk_dir_want()).
 *
 * Return: 0; -ENOMEM; -ENOSPC when the id space is exhausted.
 */
int __ilio_chunk_reserve(struct ilio_chunks *c)
{
	struct ilio_chunk_leaf *leaf;

	lockdep_assert_held_write(c->lock);
	if (c->free_head)
		return 0;
	/*
	 * Before the leaf test: the last leaf reaches id 2^32 - 1, past
	 * ILIO_CID_MAX, and the id after it wraps to 0 ("unmapped").
	 */
	if (c->next_new > ILIO_CID_MAX || !c->next_new)
		return -ENOSPC;
	if (c->next_new < (u64)c->nr_leaves * ILIO_CHUNK_LEAF_ENTRIES)
		return 0;
	if (c->nr_leaves == c->dir_cap) {
		u32 cap = (u32)ilio_chunk_dir_cap(c->dir_cap, c->nr_leaves + 1ULL);
		struct ilio_chunk_leaf **dir;

		dir = kvcalloc(cap, sizeof(*dir), ILIO_GFP);
		if (!dir)
			return -ENOMEM;
		if (c->dir)
			memcpy(dir, c->dir, c->dir_cap * sizeof(*dir));
		kvfree(c->dir);
		c->dir = dir;
		c->dir_cap = cap;
	}
	leaf = kvmalloc(sizeof(*leaf), ILIO_GFP);
	if (!leaf) {
		leaf = c->spare;
		c->spare = NULL;
	}
	if (!leaf)
		return -ENOMEM;
	memset(leaf->ref, 0, sizeof(leaf->ref));
	memset(leaf->loc, 0, sizeof(leaf->loc));
	c->dir[c->nr_leaves++] = leaf;
	return 0;
}

/**
 * __ilio_chunk_add_spare() - hand the table a spare leaf
 * @c: table
 * @leaf: a leaf (contents need not be initialised)
 *
 * Return: true when taken; false when the table has one (free @leaf).
 */
bool __ilio_chunk_add_spare(struct ilio_chunks *c, struct ilio_chunk_leaf *leaf)
{
	lockdep_assert_held_write(c->lock);
	if (c->spare)
		return false;
	c->spare = leaf;
	return true;
}

/**
 * __ilio_chunk_dir_want() - does the next new leaf need a larger directory?
 * @c: table
 *
 * Return: the capacity __ilio_chunk_reserve() would grow the directory
 * to, or 0 when it has a free slot.
 */
u32 __ilio_chunk_dir_want(struct ilio_chunks *c)
{
	lockdep_assert_held_write(c->lock);
	if (c->nr_leaves < c->dir_cap)
		return 0;
	return c->dir_cap ? c->dir_cap * 2 : 16;
}

/**
 * __ilio_chunk_set_dir() - install a larger directory allocated unlocked
 * @c: table
 * @dir: zeroed array of @cap leaf pointers
 * @cap: its capacity
 *
 * Return: true when installed; false when not larger (free @dir).
 */
bool __ilio_chunk_set_dir(struct ilio_chunks *c, struct ilio_chunk_leaf **dir,
			  u32 cap)
{
	lockdep_assert_held_write(c->lock);
	if (cap <= c->dir_cap)
		return false;
	if (c->dir)
		memcpy(dir, c->dir, c->dir_cap * sizeof(*dir));
	kvfree(c->dir);
	c->dir = dir;
	c->dir_cap = cap;
	return true;
}

static void __ilio_index_insert(struct ilio_chunks *c, ilio_cid_t cid)
{
	u32 b = ilio_bucket(ilio_chunk_hash(c, cid), c->nr_buckets);

	*ilio_chunk_next(c, cid) = c->buckets[b];
	c->buckets[b] = cid;
}

static void __ilio_index_remove(struct ilio_chunks *c, ilio_cid_t cid)
{
	ilio_cid_t *link = &c->buckets[ilio_bucket(ilio_chunk_hash(c, cid),
					    c->nr_buckets)];

	while (*link && *link != cid)
		link = ilio_chunk_next(c, *link);
	if (WARN_ON(!*link))
		return;
	*link = *ilio_chunk_next(c, cid);
}

/**
 * __ilio_chunk_alloc() - create a chunk with one reference and index it
 * @c: table
 * @hash: content hash
 * @loc: packed location of the payload
 *
 * The caller must have called __ilio_chunk_reserve() successfully since
 * the last allocation.
 *
 * Return: the new chunk id (never 0).
 */
ilio_cid_t __ilio_chunk_alloc(struct ilio_chunks *c, u64 hash, ilio_loc_t loc)
{
	struct ilio_chunk_leaf *leaf;
	ilio_cid_t cid;

	lockdep_assert_held_write(c->lock);
	if (c->free_head) {
		cid = c->free_head;
		c->free_head = *ilio_chunk_next(c, cid);
	} else {
		cid = ilio_to_cid(c->next_new++);
	}
	leaf = ilio_chunk_leaf(c, cid);
	leaf->loc[ILIO_CIDX(cid)] = loc;
	leaf->hash[ILIO_CIDX(cid)] = hash;
	leaf->ref[ILIO_CIDX(cid)] = 1;
	leaf->cls[ILIO_CIDX(cid)] = 0;
	__ilio_index_insert(c, cid);
	c->nr_live++;
	return cid;
}

/**
 * __ilio_chunk_get() - take a reference on a live chunk
 * @c: table
 * @cid: live chunk, with fewer than ILIO_REF_MAX references
 */
void __ilio_chunk_get(struct ilio_chunks *c, ilio_cid_t cid)
{
	lockdep_assert_held_write(c->lock);
	WARN_ON(!ilio_chunk_ref(c, cid));
	(*ilio_chunk_refp(c, cid))++;
}

/**
 * __ilio_chunk_put() - drop a reference
 * @c: table
 * @cid: live chunk
 *
 * On the last reference the chunk leaves the index and its id goes back
 * to the free list.  Its location stays readable until the id is reused,
 * so the caller can release the space it occupied.
 *
 * Return: the remaining reference count (0: the chunk was freed).
 */
u32 __ilio_chunk_put(struct ilio_chunks *c, ilio_cid_t cid)
{
	u32 *ref;

	lockdep_assert_held_write(c->lock);
	ref = ilio_chunk_refp(c, cid);
	if (WARN_ON(!*ref))
		return 0;
	if (--(*ref))
		return *ref;
	__ilio_index_remove(c, cid);
	*ilio_chunk_next(c, cid) = c->free_head;
	c->free_head = cid;
	c->nr_live--;
	return 0;
}

/**
 * __ilio_index_first() - first indexed chunk whose hash equals @hash
 * @c: table
 * @hash: content hash
 *
 * Return: chunk id, or 0 when there is none.
 */
ilio_cid_t __ilio_index_first(struct ilio_chunks *c, u64 hash)
{
	ilio_cid_t cid;

	lockdep_assert_held_write(c->lock);
	cid = c->buckets[ilio_bucket(hash, c->nr_buckets)];
	while (cid && ilio_chunk_hash(c, cid) != hash)
		cid = *ilio_chunk_next(c, cid);
	return cid;
}

/**
 * __ilio_index_next() - next indexed chunk after @cid with the same hash
 * @c: table
 * @cid: a chunk returned by __ilio_index_first() or __ilio_index_next()
 * @hash: the same hash
 *
 * Return: chunk id, or 0 at the end of the chain.
 */
ilio_cid_t __ilio_index_next(struct ilio_chunks *c, ilio_cid_t cid, u64 hash)
{
	lockdep_assert_held_write(c->lock);
	do
		cid = *ilio_chunk_next(c, cid);
	while (cid && ilio_chunk_hash(c, cid) != hash);
	return cid;
}

/**
 * __ilio_index_maybe_grow() - double the buckets when chains get long
 * @c: table
 *
 * Keeps the load factor at or below two chunks per bucket, so a bucket
 * costs 2 to 4 bytes per chunk.  Failure to allocate is harmless: the
 * chains just stay longer.
 */
void __ilio_index_maybe_grow(struct ilio_chunks *c)
{
	ilio_cid_t *old = c->buckets, *nb;
	u32 old_n = c->nr_buckets, i;

	lockdep_assert_held_write(c->lock);
	if (c->nr_live <= 2 * c->nr_buckets || c->nr_buckets >= ILIO_BUCKETS_MAX)
		return;
	nb = kvcalloc(2 * old_n, sizeof(*nb), ILIO_GFP);
	if (!nb)
		return;
	c->buckets = nb;
	c->nr_buckets = 2 * old_n;
	for (i = 0; i < old_n; i++) {
		ilio_cid_t cid = old[i];

		while (cid) {
			ilio_cid_t next = *ilio_chunk_next(c, cid);

			__ilio_index_insert(c, cid);
			cid = next;
		}
		if ((i & 4095) == 4095)
			cond_resched();
	}
	kvfree(old);
}

/**
 * __ilio_chunk_restore_bytes() - what __ilio_chunk_restore() would allocate
 * @c: table
 * @cid: chunk id, 1..ILIO_CID_MAX
 *
 * Ids exist densely from 1, so restoring @cid allocates every leaf up to
 * the one that holds it.  Recovery charges this to the RAM budget before
 * it restores an id read from the device.
 *
 * Return: bytes (0 when @cid's leaf exists).
 */
u64 __ilio_chunk_restore_bytes(struct ilio_chunks *c, ilio_cid_t cid)
{
	u64 leaves = ((u64)ilio_from_cid(cid) >> ILIO_CHUNK_LEAF_SHIFT) + 1;
	u64 cap;

	lockdep_assert_held_write(c->lock);
	if (leaves <= c->nr_leaves)
		return 0;
	cap = ilio_chunk_dir_cap(c->dir_cap, leaves);
	return (leaves - c->nr_leaves) * sizeof(struct ilio_chunk_leaf) +
	       (cap > c->dir_cap ? cap * sizeof(*c->dir) : 0);
}

/**
 * __ilio_chunk_restore() - set a chunk's location and hash during recovery
 * @c: table
 * @cid: chunk id, 1..@limit
 * @loc: packed location (0: the id is free)
 * @hash: content hash
 * @limit: the highest id the store can have handed out (its geometry
 *	bounds it); a free id above it is ignored
 *
 * References stay untouched; __ilio_chunks_rebuild() derives them.  The
 * caller has charged __ilio_chunk_restore_bytes() to its budget.
 *
 * Return: 0, -EINVAL for an impossible id, or -ENOMEM.
 */
int __ilio_chunk_restore(struct ilio_chunks *c, ilio_cid_t cid, ilio_loc_t loc,
			 u64 hash, u32 limit)
{
	struct ilio_chunk_leaf *leaf;
	u32 next_new = c->next_new, id = ilio_from_cid(cid);
	int ret;

	lockdep_assert_held_write(c->lock);
	if (limit > ILIO_CID_MAX)
		limit = ILIO_CID_MAX;
	if (id > limit && !loc)
		return 0;	/* the free tail of a checkpoint's last leaf */
	if (!id || id > limit)
		return -EINVAL;
	while (id >= (u64)c->nr_leaves * ILIO_CHUNK_LEAF_ENTRIES) {
		c->next_new = c->nr_leaves * ILIO_CHUNK_LEAF_ENTRIES;
		if (!c->next_new)
			c->next_new = 1;
		c->free_head = 0;
		ret = __ilio_chunk_reserve(c);
		c->next_new = next_new;
		if (ret)
			return ret;
		if ((c->nr_leaves & 63) == 0)
			cond_resched();
	}
	leaf = ilio_chunk_leaf(c, cid);
	leaf->loc[ILIO_CIDX(cid)] = loc;
	leaf->hash[ILIO_CIDX(cid)] = hash;
	if (id >= c->next_new)
		c->next_new = id + 1;
	return 0;
}

/**
 * __ilio_chunk_count_ref() - count one LBA reference during recovery
 * @c: table
 * @cid: chunk id below next_new
 *
 * Return: 0, or -EINVAL when the count would overflow.
 */
int __ilio_chunk_count_ref(struct ilio_chunks *c, ilio_cid_t cid)
{
	u32 *ref = ilio_chunk_refp(c, cid);

	if (*ref >= ILIO_REF_MAX)
		return -EINVAL;
	(*ref)++;
	return 0;
}

/**
 * __ilio_chunks_rebuild() - derive the free list and the index
 * @c: table whose locations, hashes and references were restored
 *
 * Chunks without references are freed (location cleared); the others are
 * indexed.  The buckets grow to the usual load first (best effort).
 */
void __ilio_chunks_rebuild(struct ilio_chunks *c)
{
	u32 i, n = 0, nb;
	ilio_cid_t *b;

	lockdep_assert_held_write(c->lock);
	for (i = 1; i < c->next_new; i++) {
		n += ilio_chunk_ref(c, ilio_to_cid(i)) != 0;
		if ((i & 4095) == 0)
			cond_resched();
	}
	nb = c->nr_buckets;
	while (n > 2 * nb && nb < ILIO_BUCKETS_MAX)
		nb <<= 1;
	if (nb != c->nr_buckets) {
		b = kvcalloc(nb, sizeof(*b), GFP_KERNEL | __GFP_NOWARN);
		if (b) {
			kvfree(c->buckets);
			c->buckets = b;
			c->nr_buckets = nb;
		}
	}
	memset(c->buckets, 0, (size_t)c->nr_buckets * sizeof(*c->buckets));
	c->free_head = 0;
	c->nr_live = 0;
	/* Highest ids first, so the free list hands out low ids first. */
	for (i = c->next_new - 1; i >= 1; i--) {
		ilio_cid_t cid = ilio_to_cid(i);

		if (ilio_chunk_ref(c, cid)) {
			__ilio_index_insert(c, cid);
			c->nr_live++;
		} else {
			ilio_chunk_set_loc(c, cid, 0);
			*ilio_chunk_next(c, cid) = c->free_head;
			c->free_head = cid;
		}
		if ((i & 4095) == 0)
			cond_resched();
	}
}
