// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-compress: block hashing and lz4 compression.
 *
 * The content hash is xxh64: about ten times cheaper than a cryptographic
 * hash, and safe here because a hash match is only a candidate that
 * ilio-core.c confirms byte for byte before sharing.  It is seeded with
 * the store's secret key, so that collisions cannot be forged cheaply;
 * the candidate bound in ilio-core.c caps what a collision can cost.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/lz4.h>
#include <linux/xxhash.h>

#include "ilio-compress.h"

/**
 * ilio_ctx_init() - allocate a context's workspace and buffers
 * @ctx: context
 *
 * Return: 0, or -ENOMEM.
 */
int ilio_ctx_init(struct ilio_ctx *ctx)
{
	/* Zeroed: an lz4 stream's initial state (LZ4_resetStream()). */
	ctx->wrkmem = kvzalloc(LZ4_MEM_COMPRESS, GFP_KERNEL);
	ctx->cbuf = kmalloc(LZ4_COMPRESSBOUND(ILIO_BLOCK_SIZE), GFP_KERNEL);
	ctx->dbuf = kmalloc(ILIO_BLOCK_SIZE, GFP_KERNEL);
	if (!ctx->wrkmem || !ctx->cbuf || !ctx->dbuf) {
		ilio_ctx_exit(ctx);
		return -ENOMEM;
	}
	return 0;
}

/**
 * ilio_ctx_exit() - free a context
 * @ctx: context, possibly half-initialised
 */
void ilio_ctx_exit(struct ilio_ctx *ctx)
{
	kvfree(ctx->wrkmem);
	kfree(ctx->cbuf);
	kfree(ctx->dbuf);
	ctx->wrkmem = NULL;
	ctx->cbuf = NULL;
	ctx->dbuf = NULL;
}

/**
 * ilio_hash_block() - content hash of one block
 * @block: ILIO_BLOCK_SIZE bytes
 * @seed: the store's hash key (&struct ilio_core @hash_seed)
 *
 * Return: xxh64 of the block seeded with @seed, truncated to
 * ILIO_HASH_BITS.
 */
u64 ilio_hash_block(const void *block, u64 seed)
{
	u64 h = xxh64(block, ILIO_BLOCK_SIZE, seed);

#if ILIO_HASH_BITS < 64
	h &= (1ULL << ILIO_HASH_BITS) - 1;
#endif
	return h;
}

/**
 * ilio_block_is_zero() - does a block hold only zero bytes?
 * @block: ILIO_BLOCK_SIZE bytes
 *
 * Return: true for a zero block.
 */
bool ilio_block_is_zero(const void *block)
{
	return !memchr_inv(block, 0, ILIO_BLOCK_SIZE);
}

/**
 * ilio_compress_block() - compress one block, or decide to store it raw
 * @ctx: the caller's context
 * @block: ILIO_BLOCK_SIZE bytes
 * @payload: set to the bytes to store (ctx->cbuf, or @block itself)
 * @lz4: set to true when @payload is compressed
 *
 * Return: the payload length.
 */
u32 ilio_compress_block(struct ilio_ctx *ctx, const void *block,
			const void **payload, bool *lz4)
{
	int n;

	/*
	 * Each block is compressed on its own, through the context's stream
	 * with its dictionary dropped first, not by LZ4_compress_default():
	 * that one clears the 16 KiB hash table before every block (a
	 * memset that under TCG was 15% of all guest samples of a QD1
	 * write).  The kernel's LZ4_loadDict() with no dictionary only
	 * forgets it: earlier blocks' table entries then lie before the
	 * input and below the no-dictionary limit, and are never matched
	 * (the table is cleared again every 1 GiB of input, when the offsets
	 * would overflow).  The output is a plain lz4 block that
	 * LZ4_decompress_safe() decodes alone; test-core's lz4_independent
	 * and t-10 check that blocks repeating earlier ones still do.  The
	 * stream's table is 4096 32-bit entries where LZ4_compress_default()
	 * used 8192 16-bit ones for a 4 KiB input: a review's sample of
	 * 20,000 mixed blocks came out 0.1% larger, 2.8% of them just
	 * missing the 1/8 saving and stored raw.  liblz4 (the userspace
	 * build) clears the table in LZ4_loadDict(): independent blocks, the
	 * old cost.
	 */
	LZ4_loadDict(ctx->wrkmem, NULL, 0);
	n = LZ4_compress_fast_continue(ctx->wrkmem, block, (char *)ctx->cbuf,
				       ILIO_BLOCK_SIZE, ILIO_RAW_THRESHOLD, 1);
	if (n > 0 && n <= ILIO_RAW_THRESHOLD) {
		*payload = ctx->cbuf;
		*lz4 = true;
		return n;
	}
	*payload = block;
	*lz4 = false;
	return ILIO_BLOCK_SIZE;
}

/**
 * ilio_decompress_block() - decode a stored payload into a block
 * @payload: stored bytes
 * @len: payload length
 * @block: ILIO_BLOCK_SIZE bytes of output
 *
 * Return: 0, or -EIO when the payload does not decode to exactly one block.
 */
int ilio_decompress_block(const void *payload, u32 len, void *block)
{
	int n = LZ4_decompress_safe(payload, block, len, ILIO_BLOCK_SIZE);

	return n == ILIO_BLOCK_SIZE ? 0 : -EIO;
}
