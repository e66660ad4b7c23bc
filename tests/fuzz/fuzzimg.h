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
#include <linux/kernel.h>
#include <asm/byteorder.h>

#include "ilio-format.h"
#include "ilio-meta.h"

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

/**
 * fuzzimg_encode_mem() - fuzzimg_encode() into a buffer
 * @out: output
 * @max: its size
 * @img: FUZZ_IMG_BYTES bytes
 * @mode: mode byte
 *
 * Return: bytes written, or 0 when the encoding does not fit.
 */
static inline size_t fuzzimg_encode_mem(u8 *out, size_t max, const u8 *img, u8 mode)
{
	FILE *f = fmemopen(out, max, "wb");
	long n;
	int ret;

	if (!f)
		return 0;
	setvbuf(f, NULL, _IONBF, 0);
	ret = fuzzimg_encode(f, img, mode);
	n = ftell(f);
	fclose(f);
	return ret || n <= 0 || (size_t)n >= max ? 0 : (size_t)n;
}

/*
 * DOC: structure-aware mutations
 *
 * Byte flips mostly break a unit's checksum, so they test the checksum and
 * little behind it.  fuzzimg_mutate() instead parses the image the way
 * recovery does (superblock, newest anchor, the chain of units it names),
 * sets one id, index, length or count - a summary entry's LBA, chunk id,
 * record offset or block count; a record header's chunk id, length or
 * flags; a checkpoint descriptor's kind or leaf index; an LBA-map leaf's
 * chunk id; a chunk leaf's location or hash; a unit header's entry count
 * or record bytes; an anchor's position, size or checkpoint end - to a
 * bound (0, 1, max - 1, max, 2^32 - 1, 2^32, huge, or one around a bound
 * of this geometry), and re-seals the unit (or rebuilds the anchor), so
 * that the value reaches the semantic checks behind the checksum.
 */
struct fuzzimg_unit {
	u64 pos;	/* byte position of the header in the image */
	u32 len;
	u16 type;
};

#define FUZZIMG_MAX_UNITS	256

static inline u64 fuzzimg_rand(u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/*
 * The chain of the newest valid anchor.  Return: units found (0..max),
 * or -1 when the image has no valid superblock or anchor.  *@slot: that
 * anchor's slot, *@a its contents.
 */
static inline int fuzzimg_units(const u8 *img, struct ilio_geom *g,
				struct ilio_anchor_info *a, int *slot,
				struct fuzzimg_unit *u, int max)
{
	struct ilio_anchor_info an[2];
	const char *why;
	u32 seg, off, next = 0;
	int ok[2], i, n = 0;
	u64 seq;

	if (ilio_sb_check(img, 0, FUZZ_IMG_BYTES, g, &why) &&
	    ilio_sb_check(img + ILIO_BLOCK_SIZE, 1, FUZZ_IMG_BYTES, g, &why))
		return -1;
	for (i = 0; i < 2; i++)
		ok[i] = !ilio_anchor_check(img + (u64)(ILIO_ANCHOR_BLOCK + i) * ILIO_BLOCK_SIZE,
					   ILIO_ANCHOR_BLOCK + i, g, &an[i], &why);
	if (!ok[0] && !ok[1])
		return -1;
	*slot = !ok[0] || (ok[1] && an[1].seq > an[0].seq);
	*a = an[*slot];
	seg = a->log_seg;
	off = a->log_off;
	seq = a->log_seq;
	while (n < max) {
		const struct ilio_unit_hdr *h = NULL;
		u64 pos = ilio_seg_block(g, seg) * ILIO_BLOCK_SIZE + off;

		if (off + ILIO_BLOCK_SIZE <= g->seg_bytes && pos + ILIO_BLOCK_SIZE <= FUZZ_IMG_BYTES &&
		    !ilio_unit_check_hdr(img + pos, g, seg, off, a->epoch, seq, &why))
			h = (const void *)(img + pos);
		if (!h && n) {
			pos = ilio_seg_block(g, next) * ILIO_BLOCK_SIZE;
			if (pos + ILIO_BLOCK_SIZE <= FUZZ_IMG_BYTES &&
			    !ilio_unit_check_hdr(img + pos, g, next, 0, a->epoch, seq, &why)) {
				h = (const void *)(img + pos);
				seg = next;
				off = 0;
			}
		}
		if (!h || pos + le32_to_cpu(h->len) > FUZZ_IMG_BYTES)
			break;
		u[n].pos = pos;
		u[n].len = le32_to_cpu(h->len);
		u[n].type = le16_to_cpu(h->type);
		n++;
		next = le32_to_cpu(h->next_seg);
		off += le32_to_cpu(h->len);
		seq++;
	}
	return n;
}

/* A value at or around a bound: fixed ones, or @lim (a bound of this geometry) +- 1. */
static inline u64 fuzzimg_bound(u64 *rs, u64 lim)
{
	static const u64 fixed[] = {
		0, 1, 2, 0x7fffffffULL, 0x80000000ULL, 0xfffffffeULL, 0xffffffffULL,
		0x100000000ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
		0xfffffffffffffffeULL, 0xffffffffffffffffULL, 0x0fffffffffffffffULL,
	};
	u64 r = fuzzimg_rand(rs);

	switch (r % 4) {
	case 0:
	case 1:
		return fixed[(r >> 8) % ARRAY_SIZE(fixed)];
	case 2:
		return lim + (r >> 8) % 3 - 1;		/* lim - 1, lim, lim + 1 */
	default:
		return (r >> 8) % (lim + 2);
	}
}

/* Bounds of this geometry that ids and indexes are checked against. */
static inline u64 fuzzimg_lim(u64 *rs, const struct ilio_geom *g)
{
	u64 recs = (u64)g->nr_segs * ((g->seg_bytes - ILIO_BLOCK_SIZE) / 16);
	u64 lims[] = {
		FUZZ_NR_BLOCKS, FUZZ_NR_BLOCKS / 1024, g->nr_segs,
		g->seg_bytes, recs, recs / 512, 0xfffffffeULL, 0xfffffffeULL / 512, ILIO_BLOCK_SIZE,
		g->seg_bytes / sizeof(struct ilio_sum_ent),
	};

	return lims[fuzzimg_rand(rs) % ARRAY_SIZE(lims)];
}

static inline u64 fuzzimg_val(u64 *rs, const struct ilio_geom *g)
{
	return fuzzimg_bound(rs, fuzzimg_lim(rs, g));
}

/* A chunk location with each part at a bound. */
static inline u64 fuzzimg_loc(u64 *rs, const struct ilio_geom *g)
{
	static const u32 lens[] = { 0, 1, 8, 4095, 4096, 4097, 8191 };
	u64 r = fuzzimg_rand(rs);
	u64 seg = (r & 1) ? g->nr_segs - 1 + ((r >> 1) % 3) : fuzzimg_val(rs, g);
	u64 off = (r & 2) ? g->seg_bytes - 8 * ((r >> 3) % 3) : fuzzimg_val(rs, g);

	return ((seg & 0xfffffff) << 36) | (((off >> 3) & 0x3fffff) << 14) |
	       ((u64)(lens[(r >> 8) % ARRAY_SIZE(lens)] & 0x1fff) << 1) | ((r >> 16) & 1);
}

static inline void fuzzimg_put32(void *p, u64 v)
{
	__le32 x = cpu_to_le32((u32)v);

	memcpy(p, &x, sizeof(x));
}

static inline void fuzzimg_put64(void *p, u64 v)
{
	__le64 x = cpu_to_le64(v);

	memcpy(p, &x, sizeof(x));
}

/* One mutation of a data unit's header, summary or records. */
static inline void fuzzimg_mut_data(u8 *u, u32 len, const struct ilio_geom *g, u64 *rs)
{
	struct ilio_unit_hdr *h = (void *)u;
	u32 rec = le32_to_cpu(h->rec_bytes), n = le32_to_cpu(h->nr_ents);
	u64 r = fuzzimg_rand(rs), key;
	u8 *e, *rh;
	u32 off, k;

	if (ILIO_BLOCK_SIZE + (u64)rec + (u64)n * 16 > len)
		return;
	switch (r % 8) {
	case 0:		/* summary entry: kind */
	case 1:		/* ... its argument (LBA, record offset) */
	case 2:		/* ... its value (chunk id, hash, block count) */
	case 3:
		if (!n)
			return;
		e = u + ILIO_BLOCK_SIZE + rec + 16 * ((r >> 8) % n);
		memcpy(&key, e, 8);
		key = le64_to_cpu(key);
		if (r % 8 == 0)
			key = (key & ILIO_SUM_ARG_MASK) | ((r >> 40) % 16) << ILIO_SUM_KIND_SHIFT;
		else if (r % 8 == 1)
			key = (key & ~ILIO_SUM_ARG_MASK) | (fuzzimg_val(rs, g) & ILIO_SUM_ARG_MASK);
		else
			fuzzimg_put64(e + 8, fuzzimg_val(rs, g));
		if (r % 8 < 2)
			fuzzimg_put64(e, key);
		return;
	case 4:		/* a record header: cid, len or flags */
	case 5:
		if (rec < sizeof(struct ilio_chunk_hdr))
			return;
		/* The k-th record, walking as GC does. */
		off = 0;
		for (k = (r >> 8) % 16; k; k--) {
			u32 plen;

			rh = u + ILIO_BLOCK_SIZE + off;
			plen = rh[4] | rh[5] << 8;
			if (!plen || plen > ILIO_BLOCK_SIZE ||
			    off + 8 + ((plen + 7) & ~7U) + 8 > rec)
				break;
			off += 8 + ((plen + 7) & ~7U);
		}
		rh = u + ILIO_BLOCK_SIZE + off;
		if ((r >> 20) % 3 == 0) {
			fuzzimg_put32(rh, fuzzimg_val(rs, g));
		} else {
			u64 v = fuzzimg_val(rs, g);

			rh[(r >> 20) % 3 == 1 ? 4 : 6] = v & 0xff;
			rh[(r >> 20) % 3 == 1 ? 5 : 7] = (v >> 8) & 0xff;
		}
		return;
	case 6:
		fuzzimg_put32(&h->nr_ents, fuzzimg_val(rs, g));
		return;
	default:
		fuzzimg_put32(&h->rec_bytes, fuzzimg_val(rs, g) & ~7ULL);
		return;
	}
}

/* One mutation of a checkpoint unit's descriptors or leaves. */
static inline void fuzzimg_mut_ckpt(u8 *u, u32 len, const struct ilio_geom *g, u64 *rs)
{
	struct ilio_unit_hdr *h = (void *)u;
	struct ilio_ckpt_desc *d = (void *)(h + 1);
	u32 n = le32_to_cpu(h->nr_ents), i, pick, pos = ILIO_BLOCK_SIZE, kind;
	u64 r = fuzzimg_rand(rs);

	if (n > ILIO_CKPT_MAX_DESC)
		n = ILIO_CKPT_MAX_DESC;
	if (r % 6 == 5 || !n) {
		fuzzimg_put32(&h->nr_ents, fuzzimg_val(rs, g));
		return;
	}
	pick = (r >> 8) % n;
	if (r % 6 == 0) {
		fuzzimg_put32(&d[pick].kind, (r >> 24) % 4);
		return;
	}
	if (r % 6 == 1) {
		fuzzimg_put32(&d[pick].index, fuzzimg_val(rs, g));
		return;
	}
	/* An entry of leaf @pick. */
	for (i = 0; i < pick; i++) {
		kind = le32_to_cpu(d[i].kind);
		if (kind != ILIO_CKPT_LBAMAP && kind != ILIO_CKPT_CHUNKS)
			return;
		pos += kind == ILIO_CKPT_LBAMAP ? 4096 : 8192;
	}
	kind = le32_to_cpu(d[pick].kind);
	if (kind == ILIO_CKPT_LBAMAP && pos + 4096 <= len) {
		fuzzimg_put32(u + pos + 4 * ((r >> 24) % 1024), fuzzimg_val(rs, g));
	} else if (kind == ILIO_CKPT_CHUNKS && pos + 8192 <= len) {
		u8 *e = u + pos + 16 * ((r >> 24) % 512);

		if (r % 6 == 4)
			fuzzimg_put64(e + 8, fuzzimg_val(rs, g));
		else
			fuzzimg_put64(e, fuzzimg_loc(rs, g));
	}
}

/* One mutation of the newest anchor, rebuilt so that it stays valid. */
static inline void fuzzimg_mut_anchor(u8 *img, const struct ilio_geom *g,
				      struct ilio_anchor_info a, int slot, u64 *rs)
{
	u64 v = fuzzimg_val(rs, g);

	switch (fuzzimg_rand(rs) % 6) {
	case 0:
		a.log_seq = v;
		break;
	case 1:
		a.log_seg = (u32)v;
		break;
	case 2:
		a.log_off = (u32)v & ~(ILIO_BLOCK_SIZE - 1);
		break;
	case 3:
		a.nr_blocks = v;
		break;
	case 4:
		a.ckpt_end = v;
		break;
	default:
		a.ckpt_end = a.ckpt_end + (v & 3) - 1;
		break;
	}
	ilio_anchor_build(img + (u64)(ILIO_ANCHOR_BLOCK + slot) * ILIO_BLOCK_SIZE, g,
			  ILIO_ANCHOR_BLOCK + slot, &a);
}

/**
 * fuzzimg_mutate() - 1 to 3 structure-aware mutations of an image
 * @img: FUZZ_IMG_BYTES bytes
 * @seed: randomness
 *
 * Return: mutations made (0 when the image has no valid anchor chain).
 */
static inline int fuzzimg_mutate(u8 *img, u64 seed)
{
	static struct fuzzimg_unit u[FUZZIMG_MAX_UNITS];
	struct ilio_anchor_info a;
	struct ilio_geom g;
	u64 rs = seed * 0x9E3779B97F4A7C15ULL + 1;
	int n, slot, k, done = 0, rounds = 1 + fuzzimg_rand(&rs) % 3;

	for (k = 0; k < rounds; k++) {
		struct fuzzimg_unit *p;
		u64 r;

		n = fuzzimg_units(img, &g, &a, &slot, u, FUZZIMG_MAX_UNITS);
		if (n < 0)
			return done;
		r = fuzzimg_rand(&rs);
		if (!n || r % 16 == 0) {
			fuzzimg_mut_anchor(img, &g, a, slot, &rs);
			done++;
			continue;
		}
		p = &u[(r >> 8) % n];
		if (p->type == ILIO_UNIT_DATA)
			fuzzimg_mut_data(img + p->pos, p->len, &g, &rs);
		else
			fuzzimg_mut_ckpt(img + p->pos, p->len, &g, &rs);
		ilio_unit_seal(img + p->pos, p->len);
		done++;
	}
	return done;
}

#endif
