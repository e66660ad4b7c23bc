/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: <linux/slab.h>, with fault injection:
 * ilio_shim_fail_alloc_after >= 0 counts allocations down and fails the
 * one that finds it at 0, and then ilio_shim_fail_alloc_burst - 1 more
 * (a burst; 0 or 1: just that one); ilio_shim_fail_alloc_every = N > 0
 * fails every Nth allocation (transient pressure that never ends).
 * ilio_shim_alloc_failed counts the allocations failed on purpose.
 */
#ifndef ILIO_SHIM_SLAB_H
#define ILIO_SHIM_SLAB_H

#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <linux/gfp.h>

extern long ilio_shim_fail_alloc_after;
extern long ilio_shim_fail_alloc_burst;
extern long ilio_shim_fail_alloc_every;
extern unsigned long ilio_shim_allocs;
extern unsigned long ilio_shim_alloc_failed;
extern long ilio_shim_burst_left;

static inline bool ilio_shim_alloc_fails(void)
{
	bool fail = false;

	ilio_shim_allocs++;
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

	if (ilio_shim_alloc_fails())
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
	return kmalloc(n, gfp);
}

static inline void *kvcalloc(size_t n, size_t size, gfp_t gfp)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kmalloc(n * size, gfp | __GFP_ZERO);
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

static inline void kvfree(const void *p)
{
	free((void *)p);
}

#endif
