/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/crc32c.h>, the raw (uninverted) crc32c update. */
#ifndef ILIO_SHIM_CRC32C_H
#define ILIO_SHIM_CRC32C_H

#include <linux/types.h>

static inline u32 crc32c(u32 crc, const void *address, unsigned int length)
{
	static u32 table[256];
	const u8 *p = address;
	unsigned int i, j;

	if (!table[1]) {
		for (i = 0; i < 256; i++) {
			u32 c = i;

			for (j = 0; j < 8; j++)
				c = (c >> 1) ^ (c & 1 ? 0x82f63b78U : 0);
			table[i] = c;
		}
	}
	while (length--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#endif
