/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/compiler.h>. */
#ifndef ILIO_SHIM_COMPILER_H
#define ILIO_SHIM_COMPILER_H
#include <linux/types.h>
#define __printf(a, b) __attribute__((format(printf, a, b)))
#endif
