/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/sched.h>. */
#ifndef ILIO_SHIM_SCHED_H
#define ILIO_SHIM_SCHED_H

static inline void cond_resched(void)
{
}

#endif
