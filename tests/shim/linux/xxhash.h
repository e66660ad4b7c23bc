/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/xxhash.h> on libxxhash (same XXH64). */
#ifndef ILIO_SHIM_XXHASH_H
#define ILIO_SHIM_XXHASH_H

#include <xxhash.h>
#include <linux/types.h>

static inline u64 xxh64(const void *input, size_t len, u64 seed)
{
	return XXH64(input, len, seed);
}

#endif
