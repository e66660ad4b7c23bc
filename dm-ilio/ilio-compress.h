/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-compress: block hashing and lz4 compression.
 *
 * Each worker owns one &struct ilio_ctx: its lz4 workspace and scratch
 * buffers.  A context is used by one thread at a time, so it needs no
 * lock; the dm glue keeps one per worker and runs one worker per CPU.
 */
#ifndef ILIO_COMPRESS_H
#define ILIO_COMPRESS_H

#include <linux/types.h>

#include "ilio-format.h"

/*
 * A block is stored raw unless lz4 saves at least 1/8 of it: decompressing
 * costs read time, and a chunk that barely shrinks is not worth it.
 */
#define ILIO_RAW_THRESHOLD	(ILIO_BLOCK_SIZE - ILIO_BLOCK_SIZE / 8)

/*
 * ILIO_HASH_BITS limits the content hash to its low bits.  Production
 * builds use all 64.  The unit tests also build the core with 8 bits to
 * prove that blocks whose hashes collide are never shared: sharing is
 * decided by a byte-for-byte comparison, the hash only finds candidates.
 */
#ifndef ILIO_HASH_BITS
#define ILIO_HASH_BITS		64
#endif

/**
 * struct ilio_ctx - per-worker compression context
 * @wrkmem: lz4 compression workspace (LZ4_MEM_COMPRESS bytes)
 * @cbuf: compression output, LZ4_COMPRESSBOUND(ILIO_BLOCK_SIZE) bytes
 * @dbuf: one block of scratch for decompression
 */
struct ilio_ctx {
	void *wrkmem;
	u8 *cbuf;
	u8 *dbuf;
};

int ilio_ctx_init(struct ilio_ctx *ctx);
void ilio_ctx_exit(struct ilio_ctx *ctx);
u64 ilio_hash_block(const void *block, u64 seed);
bool ilio_block_is_zero(const void *block);
u32 ilio_compress_block(struct ilio_ctx *ctx, const void *block,
			const void **payload, bool *lz4);
int ilio_decompress_block(const void *payload, u32 len, void *block);

#endif /* ILIO_COMPRESS_H */
