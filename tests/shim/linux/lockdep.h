/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/lockdep.h>: assertions are real here. */
#ifndef ILIO_SHIM_LOCKDEP_H
#define ILIO_SHIM_LOCKDEP_H

#include <stdio.h>
#include <stdlib.h>
#include <linux/mutex.h>

#define lockdep_assert_held(l) do {					\
	if (!ilio_shim_mutex_is_mine(l)) {				\
		fprintf(stderr, "%s:%d: lock not held\n", __FILE__,	\
			__LINE__);					\
		abort();						\
	}								\
} while (0)

#endif
