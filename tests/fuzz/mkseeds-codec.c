// SPDX-License-Identifier: GPL-2.0
/*
 * mkseeds-codec: write the seed corpus for fuzz-codec: inputs whose block
 * and items are built with the module's own packers (dm-ilio/ilio-meta.c)
 * and pass the validators: records and the summary entries that name them,
 * map and unmap entries, an LBA-map leaf, chunk leaf entries with valid
 * locations, and the damaged sentinel.  A seed that does not validate is
 * an error (exit 1): what the packers write, the validators accept.
 *
 * Usage: mkseeds-codec OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <linux/kernel.h>

#include "ilio-format.h"
#include "ilio-meta.h"
#include "ilio-types.h"

#define BS ILIO_BLOCK_SIZE

struct params {
	u64 nr_blocks;
	u32 cid_limit;
	u32 nr_segs;
	u32 seg_shift;
	u32 rec_bytes;
	u32 index;
	u32 seg;
} __packed;

static int bad;

static void check(int ok, const char *what, const char *why)
{
	if (!ok) {
		fprintf(stderr, "mkseeds-codec: %s%s%s\n", what, why ? ": " : "",
			why ? why : "");
		bad = 1;
	}
}

static void put(const char *dir, int n, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/codec-%02d", dir, n);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static u8 in[sizeof(struct params) + BS + 16 * 16];
	struct params p = {
		.nr_blocks = 5000, .cid_limit = 1000, .nr_segs = 63,
		.seg_shift = 4, .rec_bytes = 2048, .index = 1, .seg = 3,
	};
	u8 *blk = in + sizeof(p);
	struct ilio_sum_ent *items = (void *)(blk + BS);
	u32 leaf[ILIO_CKPT_MAP_ENTRIES] = { 0 }, off = 0, i, n = 0, k;
	const char *why = NULL;
	int seed;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds-codec OUTDIR\n");
		return 2;
	}
	for (seed = 0; seed < 4; seed++) {
		memset(in, 0, sizeof(in));
		p.index = seed;
		p.rec_bytes = 512U << seed;
		memcpy(in, &p, sizeof(p));
		n = 0;
		off = 0;
		/* Records of 1, 100, ... bytes, each named by a CHUNK entry. */
		for (i = 0; i < 4; i++) {
			struct ilio_rec_info r = {
				.cid = 10 * seed + i + 1, .len = 1 + 37 * i,
				.flags = i & 1 ? ILIO_CHUNK_LZ4 : 0,
			};
			struct ilio_sum_info s = {
				.kind = ILIO_SUM_CHUNK, .arg = off, .val = 0x1234 + i,
			};

			ilio_rec_pack((void *)(blk + off), &r);
			check(!ilio_rec_check(&r, off, p.rec_bytes, p.cid_limit, &why),
			      "record", why);
			check(!ilio_sum_check(&s, p.nr_blocks, p.cid_limit, 0,
					      p.rec_bytes, &why), "chunk entry", why);
			ilio_sum_pack(&items[n++], &s);
			off += ilio_rec_bytes(r.len);
		}
		ilio_sum_pack(&items[n++], &(struct ilio_sum_info){
			.kind = ILIO_SUM_MAP, .arg = 7 + seed, .val = 5 });
		ilio_sum_pack(&items[n++], &(struct ilio_sum_info){
			.kind = ILIO_SUM_UNMAP, .arg = 10, .val = 20 << seed });
		ilio_ckpt_chunk_pack((void *)&items[n++],
				     ilio_loc_make(seed, 4096, BS, false), 0xabcd);
		ilio_ckpt_chunk_pack((void *)&items[n++],
				     ilio_loc_make(62, 8, 1 + seed, true), 0xef01);
		ilio_ckpt_chunk_pack((void *)&items[n++], ILIO_LOC_DAMAGED, 0);
		ilio_ckpt_desc_pack((void *)&items[n++], &(struct ilio_desc_info){
			.kind = ILIO_CKPT_CHUNKS, .index = seed });
		for (i = 0; i < n; i++) {
			struct ilio_sum_info s;

			ilio_sum_unpack(&items[i], &s);
			if (s.kind == ILIO_SUM_MAP || s.kind == ILIO_SUM_UNMAP)
				check(!ilio_sum_check(&s, p.nr_blocks, p.cid_limit, 0,
						      p.rec_bytes, &why), "map entry", why);
		}
		for (i = 6; i < 8; i++) {
			u64 loc, hash;

			ilio_ckpt_chunk_unpack((void *)&items[i], &loc, &hash);
			check(!ilio_loc_check(loc, p.nr_segs % ILIO_SEG_MAX + 1,
					      1U << (16 + p.seg_shift), &why),
			      "location", why);
		}
		put(argv[1], seed, in, sizeof(p) + BS + n * 16);

		/* The block as an LBA-map leaf of leaf number @seed. */
		memset(blk, 0, BS);
		for (k = 0; k < ILIO_CKPT_MAP_ENTRIES; k += 1 + seed)
			leaf[k] = (k * 7) % p.cid_limit;
		ilio_ckpt_map_pack(blk, leaf);
		check(!ilio_ckpt_map_check(blk, seed, p.nr_blocks, p.cid_limit, &why),
		      "map leaf", why);
		put(argv[1], 10 + seed, in, sizeof(p) + BS);
	}
	printf("mkseeds-codec: 8 seeds\n");
	return bad;
}
