/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <asm/barrier.h>, acquire/release on the GCC builtins. */
#ifndef ILIO_SHIM_BARRIER_H
#define ILIO_SHIM_BARRIER_H

#define smp_store_release(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define smp_load_acquire(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)

#endif
