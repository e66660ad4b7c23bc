/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: <linux/slab.h>, with fault injection:
 * ilio_shim_fail_alloc_after >= 0 counts allocations down and fails the
 * one that finds it at 0, and then ilio_shim_fail_alloc_burst - 1 more
 * (a burst; 0 or 1: just that one); ilio_shim_fail_alloc_every = N > 0
 * fails every Nth allocation (transient pressure that never ends).
 * ilio_shim_alloc_failed counts the allocations failed on purpose.
 * ilio_shim_alloc_bytes adds up every byte asked for; once it passes
 * ilio_shim_alloc_limit (>= 0) allocations fail and
 * ilio_shim_alloc_refused counts them - a test's guard against code that
 * would allocate without bound.  kvmalloc() refuses more than INT_MAX
 * bytes with a WARN unless __GFP_NOWARN, as the kernel's does.
 */
#ifndef ILIO_SHIM_SLAB_H
#define ILIO_SHIM_SLAB_H

#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <linux/gfp.h>

#include <linux/bug.h>

extern long ilio_shim_fail_alloc_after;
extern long ilio_shim_fail_alloc_burst;
extern long ilio_shim_fail_alloc_every;
extern unsigned long ilio_shim_allocs;
extern unsigned long ilio_shim_alloc_failed;
extern long ilio_shim_burst_left;
extern unsigned long long ilio_shim_alloc_bytes;
extern long long ilio_shim_alloc_limit;
extern unsigned long ilio_shim_alloc_refused;

static inline bool ilio_shim_alloc_fails(size_t n)
{
	bool fail = false;

	ilio_shim_allocs++;
	ilio_shim_alloc_bytes += n;
	if (ilio_shim_alloc_limit >= 0 &&
	    ilio_shim_alloc_bytes > (unsigned long long)ilio_shim_alloc_limit) {
		ilio_shim_alloc_refused++;
		return true;
	}
	if (ilio_shim_burst_left > 0) {
		ilio_shim_burst_left--;
		fail = true;
	} else if (ilio_shim_fail_alloc_after >= 0 &&
		   ilio_shim_fail_alloc_after-- == 0) {
		ilio_shim_burst_left = ilio_shim_fail_alloc_burst > 1 ?
				       ilio_shim_fail_alloc_burst - 1 : 0;
		fail = true;
	} else if (ilio_shim_fail_alloc_every > 0 &&
		   ilio_shim_allocs % ilio_shim_fail_alloc_every == 0) {
		fail = true;
	}
	ilio_shim_alloc_failed += fail;
	return fail;
}

static inline void *kmalloc(size_t n, gfp_t gfp)
{
	void *p;

	if (ilio_shim_alloc_fails(n))
		return NULL;
	p = malloc(n ? n : 1);
	if (p && (gfp & __GFP_ZERO))
		memset(p, 0, n);
	return p;
}

static inline void *kzalloc(size_t n, gfp_t gfp)
{
	return kmalloc(n, gfp | __GFP_ZERO);
}

static inline void *kvmalloc(size_t n, gfp_t gfp)
{
	if (n > 0x7fffffff) {	/* INT_MAX: "Don't even allow crazy sizes" */
		WARN_ON(!(gfp & __GFP_NOWARN));
		return NULL;
	}
	return kmalloc(n, gfp);
}

static inline void *kvzalloc(size_t n, gfp_t gfp)
{
	return kvmalloc(n, gfp | __GFP_ZERO);
}

static inline void *kvmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kvmalloc(n * size, gfp);
}

static inline void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kmalloc(n * size, gfp);
}

static inline void *kvcalloc(size_t n, size_t size, gfp_t gfp)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kvmalloc(n * size, gfp | __GFP_ZERO);
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

/* SLUB's kmalloc size classes: 8..192 (with 96 and 192), then powers of 2. */
static inline size_t kmalloc_size_roundup(size_t n)
{
	size_t c = 8;

	if (n > 64 && n <= 96)
		return 96;
	if (n > 128 && n <= 192)
		return 192;
	while (c < n)
		c <<= 1;
	return c;
}

/*
 * Slab caches: objects of one size, from malloc() (fault injection too).
 * Each object carries its cache in a hidden header, so that freeing it to
 * another cache aborts the test, and a cache counts its live objects, so
 * that destroying one that still has some aborts too (the kernel warns).
 */
struct kmem_cache {
	size_t size;
	long live;
};

#define ILIO_SHIM_SLAB_HDR 16

static inline struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
						   unsigned int align, unsigned int flags,
						   void (*ctor)(void *))
{
	struct kmem_cache *c;

	(void)name;
	(void)align;
	(void)flags;
	(void)ctor;
	if (ilio_shim_alloc_fails(sizeof(*c)))
		return NULL;
	c = malloc(sizeof(*c));
	if (c) {
		c->size = size;
		c->live = 0;
	}
	return c;
}

static inline void *kmem_cache_alloc(struct kmem_cache *c, gfp_t gfp)
{
	char *p = kmalloc(c->size + ILIO_SHIM_SLAB_HDR, gfp);

	if (!p)
		return NULL;
	*(struct kmem_cache **)p = c;
	c->live++;
	return p + ILIO_SHIM_SLAB_HDR;
}

static inline void kmem_cache_free(struct kmem_cache *c, void *obj)
{
	char *p = (char *)obj - ILIO_SHIM_SLAB_HDR;

	if (!obj)
		return;
	if (*(struct kmem_cache **)p != c)
		abort();	/* freed to another cache than it came from */
	c->live--;
	free(p);
}

static inline void kmem_cache_destroy(struct kmem_cache *c)
{
	if (c && c->live)
		abort();	/* objects still allocated */
	free(c);
}

#endif
