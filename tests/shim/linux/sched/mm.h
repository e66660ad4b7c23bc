/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: <linux/sched/mm.h>, memalloc_retry_wait() only.  It
 * yields instead of sleeping a jiffy, and counts the waits.
 */
#ifndef ILIO_SHIM_SCHED_MM_H
#define ILIO_SHIM_SCHED_MM_H

#include <sched.h>
#include <linux/gfp.h>

extern unsigned long ilio_shim_retry_waits;

static inline void memalloc_retry_wait(gfp_t gfp)
{
	ilio_shim_retry_waits++;
	sched_yield();
}

#endif
