/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim of <linux/atomic.h>: cmpxchg() only. */
#ifndef ILIO_SHIM_ATOMIC_H
#define ILIO_SHIM_ATOMIC_H

#define cmpxchg(ptr, old, new) __sync_val_compare_and_swap(ptr, old, new)

#endif
