/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/build_bug.h>: static_assert() with a message. */
#ifndef ILIO_SHIM_BUILD_BUG_H
#define ILIO_SHIM_BUILD_BUG_H

#ifndef static_assert
#define static_assert(expr, msg) _Static_assert(expr, msg)
#endif

#endif
