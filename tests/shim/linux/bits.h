/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/bits.h>. */
#ifndef ILIO_SHIM_BITS_H
#define ILIO_SHIM_BITS_H

#define BIT(n) (1UL << (n))
#define BIT_ULL(n) (1ULL << (n))

#endif
