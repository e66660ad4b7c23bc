/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzzimg: the backing-device image that fuzz-open feeds to the core, and
 * its input encoding.
 *
 * The device is FUZZ_SEGS segments of 64 KiB after a 64 KiB metadata area
 * (the layout "ilioctl format --segment-kb 64" gives a device this size),
 * and the table length is FUZZ_NR_BLOCKS blocks.  An input is a mode byte
 * followed by runs, each a 4-byte header {__le16 first block, __le16 block
 * count} and that many 4 KiB blocks (the last run may be cut short).  Runs
 * land on a zeroed image, block numbers modulo the image size, so the
 * fuzzer's mutations fall on the metadata the seeds carry, not on megabytes
 * of zeros.
 */
#ifndef ILIO_FUZZ_IMG_H
#define ILIO_FUZZ_IMG_H

#include <stdio.h>
#include <string.h>
#include <linux/types.h>

#include "ilio-format.h"

#define FUZZ_SEG_BYTES		0x10000U
#define FUZZ_SEGS		32
#define FUZZ_IMG_BYTES		((u64)(FUZZ_SEGS + 1) * FUZZ_SEG_BYTES)
#define FUZZ_IMG_BLOCKS		((u32)(FUZZ_IMG_BYTES / ILIO_BLOCK_SIZE))
#define FUZZ_NR_BLOCKS		2048	/* 8 MiB logical */
#define FUZZ_RAM		(16ULL << 20)
#define FUZZ_MAX_DIRTY		(256ULL << 10)

/*
 * Mode byte bits.  FUZZ_MODE_ENOMEM makes allocation number (mode >> 2)
 * inside ilio_core_open() fail (tests/shim's fault injection): the error
 * paths of recovery must neither leak nor crash.
 */
#define FUZZ_MODE_RW		0x01	/* open read-write, write, close */
#define FUZZ_MODE_ENOMEM	0x02
#define FUZZ_MODE_ENOMEM_AT(m)	((m) >> 2)

/**
 * fuzzimg_decode() - lay the runs of an input onto a zeroed image
 * @img: FUZZ_IMG_BYTES bytes
 * @data: the input after the mode byte
 * @size: its length
 */
static inline void fuzzimg_decode(u8 *img, const u8 *data, size_t size)
{
	memset(img, 0, FUZZ_IMG_BYTES);
	while (size >= 4) {
		u32 blk = (data[0] | data[1] << 8) % FUZZ_IMG_BLOCKS;
		u32 n = data[2] | data[3] << 8;

		data += 4;
		size -= 4;
		while (n-- && size) {
			size_t take = size < ILIO_BLOCK_SIZE ? size : ILIO_BLOCK_SIZE;

			memcpy(img + (u64)blk * ILIO_BLOCK_SIZE, data, take);
			data += take;
			size -= take;
			blk = (blk + 1) % FUZZ_IMG_BLOCKS;
		}
	}
}

static inline int fuzzimg_blk_zero(const u8 *b)
{
	u32 i;

	for (i = 0; i < ILIO_BLOCK_SIZE; i++)
		if (b[i])
			return 0;
	return 1;
}

/**
 * fuzzimg_encode() - write an image as an input: mode byte, non-zero runs
 * @f: output
 * @img: FUZZ_IMG_BYTES bytes
 * @mode: mode byte
 *
 * Return: 0, or -1 on a write error.
 */
static inline int fuzzimg_encode(FILE *f, const u8 *img, u8 mode)
{
	u32 b = 0, n, k;

	if (fputc(mode, f) == EOF)
		return -1;
	while (b < FUZZ_IMG_BLOCKS) {
		u8 hdr[4];

		if (fuzzimg_blk_zero(img + (u64)b * ILIO_BLOCK_SIZE)) {
			b++;
			continue;
		}
		for (n = 1; b + n < FUZZ_IMG_BLOCKS &&
		     !fuzzimg_blk_zero(img + (u64)(b + n) * ILIO_BLOCK_SIZE); n++)
			;
		hdr[0] = b & 0xff;
		hdr[1] = b >> 8;
		hdr[2] = n & 0xff;
		hdr[3] = n >> 8;
		if (fwrite(hdr, 1, 4, f) != 4)
			return -1;
		for (k = 0; k < n; k++)
			if (fwrite(img + (u64)(b + k) * ILIO_BLOCK_SIZE, 1,
				   ILIO_BLOCK_SIZE, f) != ILIO_BLOCK_SIZE)
				return -1;
		b += n;
	}
	return 0;
}

#endif
