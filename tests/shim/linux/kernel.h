/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/kernel.h>: the helpers the core uses. */
#ifndef ILIO_SHIM_KERNEL_H
#define ILIO_SHIM_KERNEL_H

#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <linux/types.h>
#include <asm/byteorder.h>
#include <linux/bug.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
/* @a a power of 2, as the kernel's. */
#define round_up(x, a) ((((x) - 1) | ((__typeof__(x))(a) - 1)) + 1)
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define swap(a, b) \
	do { __typeof__(a) __swap_tmp = (a); (a) = (b); (b) = __swap_tmp; } while (0)

#endif
