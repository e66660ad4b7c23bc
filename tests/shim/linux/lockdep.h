/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/lockdep.h>: assertions are real here. */
#ifndef ILIO_SHIM_LOCKDEP_H
#define ILIO_SHIM_LOCKDEP_H

#include <stdio.h>
#include <stdlib.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>

#define ilio_shim_lock_is_mine(l) _Generic((l),				\
	struct mutex *: ilio_shim_mutex_is_mine,			\
	struct rw_semaphore *: ilio_shim_rwsem_is_mine)(l)

#define ilio_shim_lock_is_mine_w(l) _Generic((l),			\
	struct mutex *: ilio_shim_mutex_is_mine,			\
	struct rw_semaphore *: ilio_shim_rwsem_is_mine_w)(l)

#define ilio_shim_assert(ok, what) do {					\
	if (!(ok)) {							\
		fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__,	\
			what);						\
		abort();						\
	}								\
} while (0)

/* Held for reading or writing. */
#define lockdep_assert_held(l)						\
	ilio_shim_assert(ilio_shim_lock_is_mine(l), "lock not held")

#define lockdep_assert_held_write(l)					\
	ilio_shim_assert(ilio_shim_lock_is_mine_w(l),			\
			 "lock not held for writing")

#endif
