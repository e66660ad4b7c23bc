/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/random.h>. */
#ifndef ILIO_SHIM_RANDOM_H
#define ILIO_SHIM_RANDOM_H

#include <sys/random.h>
#include <linux/types.h>

static inline u64 get_random_u64(void)
{
	u64 v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (u64)(uintptr_t)&v ^ 0x9e3779b97f4a7c15ULL;
	return v;
}

#endif
