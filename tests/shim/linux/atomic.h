/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim of <linux/atomic.h>: cmpxchg() and a few atomic64 ops. */
#ifndef ILIO_SHIM_ATOMIC_H
#define ILIO_SHIM_ATOMIC_H

#include <linux/types.h>

#define cmpxchg(ptr, old, new) __sync_val_compare_and_swap(ptr, old, new)

typedef struct {
	s64 counter;
} atomic64_t;

static inline s64 atomic64_read(const atomic64_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

static inline void atomic64_set(atomic64_t *v, s64 i)
{
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic64_inc(atomic64_t *v)
{
	__atomic_fetch_add(&v->counter, 1, __ATOMIC_RELAXED);
}

#endif
