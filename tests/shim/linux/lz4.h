/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: <linux/lz4.h> on liblz4 (same block format).  The
 * kernel's LZ4_compress_default() takes a workspace; liblz4's extState
 * variant is the same operation.
 */
#ifndef ILIO_SHIM_LZ4_H
#define ILIO_SHIM_LZ4_H

#include <lz4.h>

#define LZ4_MEM_COMPRESS ((size_t)LZ4_sizeofState())

static inline int ilio_shim_lz4_compress(const char *src, char *dst, int n,
					 int max, void *wrkmem)
{
	return LZ4_compress_fast_extState(wrkmem, src, dst, n, max, 1);
}

#define LZ4_compress_default(s, d, n, m, w) ilio_shim_lz4_compress(s, d, n, m, w)

#endif
