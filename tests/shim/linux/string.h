/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/string.h>. */
#ifndef ILIO_SHIM_STRING_H
#define ILIO_SHIM_STRING_H

#include <string.h>
#include <linux/types.h>

static inline void *memchr_inv(const void *s, int c, size_t n)
{
	const u8 *p = s;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != (u8)c)
			return (void *)(p + i);
	return NULL;
}

#endif
