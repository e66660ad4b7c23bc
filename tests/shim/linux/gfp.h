/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/gfp.h>.  Flags are accepted and ignored. */
#ifndef ILIO_SHIM_GFP_H
#define ILIO_SHIM_GFP_H
#include <linux/types.h>
#define GFP_KERNEL	0x1u
#define GFP_NOIO	0x2u
#define GFP_NOWAIT	0x4u
#define __GFP_NORETRY	0x8u
#define __GFP_NOWARN	0x10u
#define __GFP_ZERO	0x20u
#define __GFP_RETRY_MAYFAIL	0x40u
#endif
