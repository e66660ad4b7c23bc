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

/* Copy at most @size - 1 bytes and terminate; -E2BIG when truncated. */
static inline long strscpy(char *dst, const char *src, size_t size)
{
	size_t len = strnlen(src, size);

	if (!size)
		return -7;
	if (len >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = 0;
		return -7;
	}
	memcpy(dst, src, len + 1);
	return (long)len;
}

#endif
