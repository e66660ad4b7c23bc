/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-cache: the clean-chunk cache of persistent mode.
 *
 * Content-addressed: an entry is keyed by chunk id, and a chunk is stored
 * once whatever the number of LBAs that share it.  It holds the stored
 * payload (lz4 or raw), so compression multiplies the cache too.
 *
 * Eviction is segmented LRU (SLRU, the two-queue idea of 2Q without the
 * ghost list): a chunk enters the probationary queue; only a second hit
 * promotes it to the protected queue, which may hold at most 3/4 of the
 * cache.  A one-pass scan (a backup, a virus scan, a boot storm touching
 * each block once) only churns the probationary queue and cannot push the
 * working set out.
 *
 * Locking: the caller holds the core lock for writing for every
 * __ilio_cache_*() call except __ilio_cache_find(), which a reader holding
 * it shared may call.
 */
#ifndef ILIO_CACHE_H
#define ILIO_CACHE_H

#include <linux/types.h>
#include <linux/rwsem.h>

#include "ilio-class.h"
#include "ilio-types.h"

struct ilio_chunks;

/**
 * struct ilio_centry - one cached chunk
 * @hnext: next entry in the hash bucket
 * @prev: LRU neighbour towards the head (most recent)
 * @next: LRU neighbour towards the tail
 * @cid: chunk id
 * @len: payload bytes
 * @lz4: payload is an lz4 block
 * @prot: the queue it is on: 0 probationary, 1 protected, 2 pinned
 * @ref: hit by a reader holding the lock shared, not yet applied to the
 *	queues (__ilio_cache_find())
 * @cls: the region class it was cached under (enum ilio_class), which
 *	@cls_bytes charges it to until it leaves
 * @data: payload: right after the entry, or (a payload that would make
 *	the entry larger than ILIO_CENTRY_SLAB_MAX) its own kmalloc()
 */
struct ilio_centry {
	struct ilio_centry *hnext;
	struct ilio_centry *prev;
	struct ilio_centry *next;
	ilio_cid_t cid;
	u16 len;
	u8 lz4;
	u8 prot;
	u8 ref;
	u8 cls;
	u8 *data;
};

/**
 * struct ilio_cqueue - an LRU queue
 * @head: most recently used
 * @tail: least recently used
 * @bytes: bytes charged for its entries
 */
struct ilio_cqueue {
	struct ilio_centry *head;
	struct ilio_centry *tail;
	u64 bytes;
};

/**
 * struct ilio_cache - the cache
 * @lock: the core lock
 * @buckets: hash buckets, by chunk id
 * @nr_buckets: a power of two
 * @prob: probationary queue
 * @prot: protected queue
 * @pin: chunks of class pin, evicted only when the other queues are empty
 * @chunks: the chunk table whose classes place new entries (NULL: all
 *	normal)
 * @nr: entries
 * @cls_bytes: bytes charged for the entries, by their @cls (the three
 *	queues' @bytes summed the other way)
 */
struct ilio_cache {
	struct rw_semaphore *lock;	/* the core lock, not owned */
	struct ilio_centry **buckets;
	u32 nr_buckets;
	struct ilio_cqueue prob;
	struct ilio_cqueue prot;
	struct ilio_cqueue pin;
	struct ilio_chunks *chunks;
	u64 nr;
	u64 cls_bytes[ILIO_NR_CLASSES];
};

int ilio_cache_init(struct ilio_cache *c, u64 ram_bytes, struct rw_semaphore *lock);
void ilio_cache_exit(struct ilio_cache *c);
u64 ilio_cache_bytes(const struct ilio_cache *c);
u64 ilio_cache_meta_bytes(const struct ilio_cache *c);
struct ilio_centry *__ilio_cache_lookup(struct ilio_cache *c, ilio_cid_t cid);
struct ilio_centry *__ilio_cache_find(struct ilio_cache *c, ilio_cid_t cid);
void ilio_centry_free(struct ilio_centry *e);
struct ilio_centry *ilio_centry_new(ilio_cid_t cid, const void *payload,
				    u32 len, bool lz4);
void __ilio_cache_link(struct ilio_cache *c, struct ilio_centry *e);
int __ilio_cache_insert(struct ilio_cache *c, ilio_cid_t cid,
			const void *payload, u32 len, bool lz4);
void __ilio_cache_remove(struct ilio_cache *c, ilio_cid_t cid);
void __ilio_cache_reclass(struct ilio_cache *c, ilio_cid_t cid);
bool __ilio_cache_evict_one(struct ilio_cache *c);

#endif /* ILIO_CACHE_H */
