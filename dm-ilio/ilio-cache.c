// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-cache: segmented-LRU cache of clean chunks (see ilio-cache.h).
 *
 * Locking: the caller holds c->lock (the core lock) for every
 * __ilio_cache_*() call.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/bits.h>
#include <linux/slab.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/lockdep.h>
#include <linux/bug.h>

#include "ilio-cache.h"
#include "ilio-chunk.h"
#include "ilio-class.h"
#include "ilio-common.h"

#define ILIO_CACHE_BUCKETS_MIN	1024U
#define ILIO_CACHE_BUCKETS_MAX	BIT(24)

/*
 * Where cache entries come from, and what they cost.  A kmalloc() of the
 * entry and its payload together rounds up to a power of two: a raw 4 KiB
 * block (4 KiB + the header) took an 8 KiB object, a 2.1 KiB compressed
 * one 4 KiB, about twice what the budget was charged.  So an entry of at
 * most ILIO_CENTRY_SLAB_MAX bytes comes from a slab cache of its size
 * rounded up to ILIO_CENTRY_STEP (16 caches, objects 256 B to 4 KiB),
 * and a larger one (a raw block) is a small header plus the payload's
 * own kmalloc() (4 KiB exactly).  Each entry is charged what it really
 * takes, computed from its length alone (ilio_centry_charge()), so that
 * the queues' byte counts add and subtract the same amounts.  The caches
 * are shared by every device: created by the first ilio_cache_init(),
 * destroyed by the last ilio_cache_exit().
 */
#define ILIO_CENTRY_STEP	256U
#define ILIO_CENTRY_SLAB_MAX	4096U
#define ILIO_CENTRY_NR_SLABS	(ILIO_CENTRY_SLAB_MAX / ILIO_CENTRY_STEP)

static struct kmem_cache *ilio_centry_slabs[ILIO_CENTRY_NR_SLABS];
static DEFINE_MUTEX(ilio_centry_slab_lock);
static unsigned int ilio_centry_slab_users;

static int ilio_centry_slabs_get(void)
{
	unsigned int i;
	int ret = 0;

	mutex_lock(&ilio_centry_slab_lock);
	if (ilio_centry_slab_users++)
		goto out;
	for (i = 0; i < ILIO_CENTRY_NR_SLABS; i++) {
		unsigned int size = (i + 1) * ILIO_CENTRY_STEP;
		char name[24];

		snprintf(name, sizeof(name), "ilio_centry_%u", size);
		ilio_centry_slabs[i] = kmem_cache_create(name, size, 0, 0, NULL);
		if (!ilio_centry_slabs[i]) {
			while (i--) {
				kmem_cache_destroy(ilio_centry_slabs[i]);
				ilio_centry_slabs[i] = NULL;
			}
			ilio_centry_slab_users = 0;
			ret = -ENOMEM;
			break;
		}
	}
out:
	mutex_unlock(&ilio_centry_slab_lock);
	return ret;
}

static void ilio_centry_slabs_put(void)
{
	unsigned int i;

	mutex_lock(&ilio_centry_slab_lock);
	if (!--ilio_centry_slab_users) {
		for (i = 0; i < ILIO_CENTRY_NR_SLABS; i++) {
			kmem_cache_destroy(ilio_centry_slabs[i]);
			ilio_centry_slabs[i] = NULL;
		}
	}
	mutex_unlock(&ilio_centry_slab_lock);
}

/* Bytes an entry with a payload of @len bytes takes. */
static u32 ilio_centry_charge(u32 len)
{
	u32 sz = sizeof(struct ilio_centry) + len;

	if (sz <= ILIO_CENTRY_SLAB_MAX)
		return round_up(sz, ILIO_CENTRY_STEP);
	return kmalloc_size_roundup(sizeof(struct ilio_centry)) +
	       kmalloc_size_roundup(len);
}

/* The slab of an entry with a payload of @len bytes; NULL: split in two. */
static struct kmem_cache *ilio_centry_slab(u32 len)
{
	u32 sz = sizeof(struct ilio_centry) + len;

	return sz <= ILIO_CENTRY_SLAB_MAX ?
	       ilio_centry_slabs[(sz - 1) / ILIO_CENTRY_STEP] : NULL;
}

static u64 ilio_centry_bytes(const struct ilio_centry *e)
{
	return ilio_centry_charge(e->len);
}

static u32 ilio_cache_hash(const struct ilio_cache *c, ilio_cid_t cid)
{
	return (ilio_from_cid(cid) * 0x9e3779b1U) >> 8 & (c->nr_buckets - 1);
}

/**
 * ilio_cache_init() - set up an empty cache
 * @c: cache
 * @ram_bytes: the RAM budget it lives in (sizes the hash table)
 * @lock: the core lock
 *
 * Return: 0, or -ENOMEM.
 */
int ilio_cache_init(struct ilio_cache *c, u64 ram_bytes, struct rw_semaphore *lock)
{
	u32 n = ILIO_CACHE_BUCKETS_MIN;

	memset(c, 0, sizeof(*c));
	c->lock = lock;
	/* About one bucket per two 2 KiB payloads that fit in the budget. */
	while (n < ILIO_CACHE_BUCKETS_MAX && (u64)n * 4096 < ram_bytes)
		n <<= 1;
	if (ilio_centry_slabs_get())
		return -ENOMEM;
	c->buckets = kvcalloc(n, sizeof(*c->buckets), GFP_KERNEL);
	if (!c->buckets) {
		ilio_centry_slabs_put();
		return -ENOMEM;
	}
	c->nr_buckets = n;
	return 0;
}

/**
 * ilio_cache_exit() - free every entry and the table
 * @c: cache
 */
void ilio_cache_exit(struct ilio_cache *c)
{
	struct ilio_cqueue *qs[] = { &c->prob, &c->prot, &c->pin };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(qs); i++) {
		struct ilio_centry *e = qs[i]->head, *n;

		for (; e; e = n) {
			n = e->next;
			ilio_centry_free(e);
		}
		qs[i]->head = NULL;
		qs[i]->tail = NULL;
		qs[i]->bytes = 0;
	}
	if (c->buckets)
		ilio_centry_slabs_put();
	kvfree(c->buckets);
	c->buckets = NULL;
	c->nr = 0;
	memset(c->cls_bytes, 0, sizeof(c->cls_bytes));
}

/**
 * ilio_cache_bytes() - RAM held by cached entries
 * @c: cache
 *
 * Return: bytes.
 */
u64 ilio_cache_bytes(const struct ilio_cache *c)
{
	return c->prob.bytes + c->prot.bytes + c->pin.bytes;
}

/**
 * ilio_cache_meta_bytes() - RAM held by the hash table
 * @c: cache
 *
 * Return: bytes.
 */
u64 ilio_cache_meta_bytes(const struct ilio_cache *c)
{
	return (u64)c->nr_buckets * sizeof(*c->buckets);
}

static void ilio_cq_unlink(struct ilio_cqueue *q, struct ilio_centry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		q->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		q->tail = e->prev;
	e->prev = NULL;
	e->next = NULL;
	q->bytes -= ilio_centry_bytes(e);
}

static void ilio_cq_push_head(struct ilio_cqueue *q, struct ilio_centry *e)
{
	e->prev = NULL;
	e->next = q->head;
	if (q->head)
		q->head->prev = e;
	else
		q->tail = e;
	q->head = e;
	q->bytes += ilio_centry_bytes(e);
}

static void ilio_cq_push_tail(struct ilio_cqueue *q, struct ilio_centry *e)
{
	e->next = NULL;
	e->prev = q->tail;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	q->bytes += ilio_centry_bytes(e);
}

/* The queue @e is on. */
static struct ilio_cqueue *ilio_cq_of(struct ilio_cache *c,
				      const struct ilio_centry *e)
{
	return e->prot == 2 ? &c->pin : e->prot ? &c->prot : &c->prob;
}

static struct ilio_centry **ilio_cache_slot(struct ilio_cache *c,
					    ilio_cid_t cid)
{
	struct ilio_centry **p = &c->buckets[ilio_cache_hash(c, cid)];

	while (*p && (*p)->cid != cid)
		p = &(*p)->hnext;
	return p;
}

/*
 * A hit, applied: the entry goes to the head of the protected queue (a
 * probationary one is promoted), and the protected queue is kept at most
 * 3/4 of the cache by demoting its tail.  Clears the reference bit.
 */
static void __ilio_cache_promote(struct ilio_cache *c, struct ilio_centry *e)
{
	WRITE_ONCE(e->ref, 0);
	if (e->prot == 2) {	/* pinned: to the head of its own queue */
		ilio_cq_unlink(&c->pin, e);
		ilio_cq_push_head(&c->pin, e);
		return;
	}
	ilio_cq_unlink(e->prot ? &c->prot : &c->prob, e);
	e->prot = 1;
	ilio_cq_push_head(&c->prot, e);
	while (c->prot.tail && c->prot.bytes * 4 > ilio_cache_bytes(c) * 3) {
		struct ilio_centry *d = c->prot.tail;

		ilio_cq_unlink(&c->prot, d);
		d->prot = 0;
		ilio_cq_push_head(&c->prob, d);
	}
}

/**
 * __ilio_cache_lookup() - find a chunk, and apply the hit at once
 * @c: cache
 * @cid: chunk id
 *
 * A hit on a probationary entry promotes it; the protected queue is kept
 * at most 3/4 of the cache by demoting its tail.
 *
 * Return: the entry (valid while the lock is held), or NULL.
 */
struct ilio_centry *__ilio_cache_lookup(struct ilio_cache *c, ilio_cid_t cid)
{
	struct ilio_centry *e;

	lockdep_assert_held_write(c->lock);
	e = *ilio_cache_slot(c, cid);
	if (e)
		__ilio_cache_promote(c, e);
	return e;
}

/**
 * __ilio_cache_find() - find a chunk, and mark the hit for later
 * @c: cache
 * @cid: chunk id
 *
 * For readers that may hold the lock shared: the queues are not touched,
 * only the entry's reference bit is set (several readers may set it at
 * once; each stores the same byte).  The hit is applied when the entry
 * reaches a queue's tail: a marked probationary tail is promoted instead
 * of evicted, a marked protected tail goes back to the protected head
 * instead of being demoted (a second chance, as CLOCK gives).
 *
 * Return: the entry (valid while the lock is held), or NULL.
 */
struct ilio_centry *__ilio_cache_find(struct ilio_cache *c, ilio_cid_t cid)
{
	struct ilio_centry *e;

	lockdep_assert_held(c->lock);
	e = *ilio_cache_slot(c, cid);
	if (e && !READ_ONCE(e->ref))
		WRITE_ONCE(e->ref, 1);
	return e;
}

/**
 * ilio_centry_new() - a cache entry for a chunk, not in any cache yet
 * @cid: chunk id
 * @payload: stored payload
 * @len: payload bytes, 1..ILIO_BLOCK_SIZE
 * @lz4: payload is lz4
 *
 * Needs no lock: write-back prepares the entries of a whole segment
 * unlocked and links them with __ilio_cache_link().
 *
 * Return: the entry, or NULL (no memory: the chunk is simply not cached).
 */
struct ilio_centry *ilio_centry_new(ilio_cid_t cid, const void *payload,
				    u32 len, bool lz4)
{
	struct kmem_cache *slab = ilio_centry_slab(len);
	struct ilio_centry *e;

	if (slab) {
		e = kmem_cache_alloc(slab, ILIO_GFP);
		if (!e)
			return NULL;
		e->data = (u8 *)(e + 1);
	} else {
		e = kmalloc(sizeof(*e), ILIO_GFP);
		if (!e)
			return NULL;
		e->data = kmalloc(len, ILIO_GFP);
		if (!e->data) {
			kfree(e);
			return NULL;
		}
	}
	e->cid = cid;
	e->len = len;
	e->lz4 = lz4;
	e->prot = 0;
	e->ref = 0;
	e->cls = ILIO_CLASS_NORMAL;
	memcpy(e->data, payload, len);
	return e;
}

/**
 * ilio_centry_free() - free an entry from ilio_centry_new()
 * @e: the entry, in no cache (or NULL)
 */
void ilio_centry_free(struct ilio_centry *e)
{
	struct kmem_cache *slab;

	if (!e)
		return;
	slab = ilio_centry_slab(e->len);
	if (slab) {
		kmem_cache_free(slab, e);
	} else {
		kfree(e->data);
		kfree(e);
	}
}

/**
 * __ilio_cache_link() - cache an entry, placed by its chunk's class
 * @c: cache
 * @e: from ilio_centry_new(); replaces any entry its chunk id has.  The
 *	cache owns it from now on.
 *
 * Normal chunks enter the probationary queue at its head, temp chunks at
 * its tail (the next to go), pin chunks the pinned queue; a nocache chunk
 * is not cached (@e is freed).
 *
 * The caller evicts afterwards to stay within its budget.
 */
void __ilio_cache_link(struct ilio_cache *c, struct ilio_centry *e)
{
	int cls = c->chunks ? ilio_chunk_class(c->chunks, e->cid) : ILIO_CLASS_NORMAL;

	lockdep_assert_held_write(c->lock);
	__ilio_cache_remove(c, e->cid);
	if (cls == ILIO_CLASS_NOCACHE) {
		ilio_centry_free(e);	/* clean nocache data is not kept */
		return;
	}
	e->hnext = *ilio_cache_slot(c, e->cid);
	*ilio_cache_slot(c, e->cid) = e;
	if (cls == ILIO_CLASS_PIN) {
		e->prot = 2;
		ilio_cq_push_head(&c->pin, e);
	} else if (cls == ILIO_CLASS_TEMP) {
		ilio_cq_push_tail(&c->prob, e);	/* the next to go */
	} else {
		cls = ILIO_CLASS_NORMAL;	/* a value a damaged table may hold */
		ilio_cq_push_head(&c->prob, e);
	}
	e->cls = cls;
	c->cls_bytes[cls] += ilio_centry_bytes(e);
	c->nr++;
}

/**
 * __ilio_cache_insert() - cache a clean chunk on the probationary queue
 * @c: cache
 * @cid: chunk id (replaces any entry it has, even when out of memory)
 * @payload: stored payload
 * @len: payload bytes, 1..ILIO_BLOCK_SIZE
 * @lz4: payload is lz4
 *
 * The caller evicts afterwards to stay within its budget.
 *
 * Return: 0, or -ENOMEM (the chunk is simply not cached).
 */
int __ilio_cache_insert(struct ilio_cache *c, ilio_cid_t cid,
			const void *payload, u32 len, bool lz4)
{
	struct ilio_centry *e;

	lockdep_assert_held_write(c->lock);
	__ilio_cache_remove(c, cid);
	e = ilio_centry_new(cid, payload, len, lz4);
	if (!e)
		return -ENOMEM;
	__ilio_cache_link(c, e);
	return 0;
}

static void __ilio_cache_free(struct ilio_cache *c, struct ilio_centry *e)
{
	struct ilio_centry **p = ilio_cache_slot(c, e->cid);

	if (WARN_ON(*p != e))
		return;
	*p = e->hnext;
	ilio_cq_unlink(ilio_cq_of(c, e), e);
	c->cls_bytes[e->cls] -= ilio_centry_bytes(e);
	c->nr--;
	ilio_centry_free(e);
}

/**
 * __ilio_cache_reclass() - move a cached chunk to the place of its class
 * @c: cache
 * @cid: a chunk whose class may have changed (a hint re-classed it)
 *
 * An entry cached under another class than its chunk's now is placed
 * again as __ilio_cache_link() places a new one: pin to the pinned queue,
 * temp to the probationary tail, normal to the probationary head (a hit it
 * had is forgotten), nocache out of the cache.  Nothing happens to an
 * entry already in its class's place, or to a chunk that is not cached.
 */
void __ilio_cache_reclass(struct ilio_cache *c, ilio_cid_t cid)
{
	struct ilio_centry **p, *e;
	int cls;

	lockdep_assert_held_write(c->lock);
	if (!c->chunks || !c->buckets)
		return;
	p = ilio_cache_slot(c, cid);
	e = *p;
	if (!e)
		return;
	cls = ilio_chunk_class(c->chunks, cid);
	if (cls >= ILIO_NR_CLASSES)
		cls = ILIO_CLASS_NORMAL;
	if (cls == e->cls)
		return;
	*p = e->hnext;
	ilio_cq_unlink(ilio_cq_of(c, e), e);
	c->cls_bytes[e->cls] -= ilio_centry_bytes(e);
	c->nr--;
	e->prot = 0;
	e->ref = 0;
	__ilio_cache_link(c, e);
}

/**
 * __ilio_cache_remove() - forget a chunk (it died, or its id is reused)
 * @c: cache
 * @cid: chunk id
 */
void __ilio_cache_remove(struct ilio_cache *c, ilio_cid_t cid)
{
	struct ilio_centry *e;

	lockdep_assert_held_write(c->lock);
	e = *ilio_cache_slot(c, cid);
	if (e)
		__ilio_cache_free(c, e);
}

/**
 * __ilio_cache_evict_one() - drop the coldest entry
 * @c: cache
 *
 * Probationary entries go first; the protected queue only when the
 * probationary one is empty.  A tail marked by __ilio_cache_find() gets
 * its hit applied instead (promoted, or back to the protected head, its
 * mark cleared), so each entry is passed over at most once per mark and
 * the loop ends.
 *
 * Return: false when the cache is empty.
 */
bool __ilio_cache_evict_one(struct ilio_cache *c)
{
	struct ilio_centry *e;

	lockdep_assert_held_write(c->lock);
	for (;;) {
		e = c->prob.tail ? c->prob.tail :
		    c->prot.tail ? c->prot.tail : c->pin.tail;
		if (!e)
			return false;
		if (!e->ref)
			break;
		__ilio_cache_promote(c, e);
	}
	__ilio_cache_free(c, e);
	return true;
}
