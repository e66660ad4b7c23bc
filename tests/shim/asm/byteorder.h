/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <asm/byteorder.h> (little-endian hosts only). */
#ifndef ILIO_SHIM_BYTEORDER_H
#define ILIO_SHIM_BYTEORDER_H

#include <linux/types.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the userspace shim supports little-endian hosts only"
#endif
#define cpu_to_le16(x) ((__le16)(x))
#define cpu_to_le32(x) ((__le32)(x))
#define cpu_to_le64(x) ((__le64)(x))
#define le16_to_cpu(x) ((u16)(x))
#define le32_to_cpu(x) ((u32)(x))
#define le64_to_cpu(x) ((u64)(x))

#endif
