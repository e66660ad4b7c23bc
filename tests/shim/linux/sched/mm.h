/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: <linux/sched/mm.h>, memalloc_retry_wait() only.  It
 * yields instead of sleeping a jiffy, and counts the waits.  The core
 * waits out memory pressure without bound, so a bug that never relieves
 * it would hang a test: far more waits than any test needs abort instead.
 */
#ifndef ILIO_SHIM_SCHED_MM_H
#define ILIO_SHIM_SCHED_MM_H

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/gfp.h>

#define ILIO_SHIM_RETRY_WAITS_MAX	1000000UL

extern unsigned long ilio_shim_retry_waits;

static inline void memalloc_retry_wait(gfp_t gfp)
{
	if (++ilio_shim_retry_waits > ILIO_SHIM_RETRY_WAITS_MAX) {
		fprintf(stderr, "memalloc_retry_wait: %lu waits: livelock\n",
			ilio_shim_retry_waits);
		abort();
	}
	sched_yield();
}

#endif
