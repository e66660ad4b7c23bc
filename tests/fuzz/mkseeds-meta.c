// SPDX-License-Identifier: GPL-2.0
/*
 * mkseeds-meta: write the seed corpus for fuzz-meta: valid superblocks,
 * anchors and data/checkpoint units built with the module's own builders
 * (dm-ilio/ilio-meta.c), for several geometries.  Each seed is first checked
 * with the validators; a seed that does not validate is an error (exit 1),
 * so this also tests that what the builders write, the validators accept.
 *
 * Usage: mkseeds-meta OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <linux/kernel.h>

#include "ilio-format.h"
#include "ilio-meta.h"

#define BS ILIO_BLOCK_SIZE

struct params {
	u8 flags;
	u8 seg_shift;
	u8 pad[2];
	u32 seg;
	u32 off;
	u32 dev_mb;
	u64 epoch;
	u64 seq;
	u64 spare;
} __packed;

static int bad;

static void check(int ok, const char *what, const char *why)
{
	if (!ok) {
		fprintf(stderr, "mkseeds-meta: %s%s%s\n", what, why ? ": " : "", why ? why : "");
		bad = 1;
	}
}

/* A data unit: one 4 KiB-ish record, a CHUNK and a MAP summary entry. */
static u32 build_data_unit(u8 *u, const struct ilio_geom *g, u32 seg, u32 off,
			   u64 epoch, u64 seq)
{
	struct ilio_unit_hdr *h = (void *)u;
	struct ilio_chunk_hdr *c = (void *)(u + BS);
	struct ilio_sum_ent *e;
	u32 rec = sizeof(*c) + 100, len = 2 * BS;

	memset(u, 0, len);
	rec = (rec + ILIO_CHUNK_ALIGN - 1) & ~(ILIO_CHUNK_ALIGN - 1);
	c->cid = cpu_to_le32(1);
	c->len = cpu_to_le16(100);
	memset(c + 1, 0xab, 100);
	e = (void *)(u + BS + rec);
	e[0].key = cpu_to_le64(ILIO_SUM_CHUNK << ILIO_SUM_KIND_SHIFT | 0);
	e[0].val = cpu_to_le64(0x1234);
	e[1].key = cpu_to_le64(ILIO_SUM_MAP << ILIO_SUM_KIND_SHIFT | 7);
	e[1].val = cpu_to_le64(1);
	h->magic = cpu_to_le32(ILIO_UNIT_MAGIC);
	h->blocknr = cpu_to_le64(ilio_seg_block(g, seg) + off / BS);
	h->type = cpu_to_le16(ILIO_UNIT_DATA);
	h->epoch = cpu_to_le64(epoch);
	h->seq = cpu_to_le64(seq);
	h->len = cpu_to_le32(len);
	h->next_seg = cpu_to_le32(seg + 1 < g->nr_segs ? seg + 1 : 0);
	h->rec_bytes = cpu_to_le32(rec);
	h->nr_ents = cpu_to_le32(2);
	ilio_unit_seal(u, len);
	return len;
}

/* A checkpoint unit with one LBA-map leaf. */
static u32 build_ckpt_unit(u8 *u, const struct ilio_geom *g, u32 seg, u32 off,
			   u64 epoch, u64 seq)
{
	struct ilio_unit_hdr *h = (void *)u;
	struct ilio_ckpt_desc *d = (void *)(h + 1);
	u32 len = 2 * BS;

	memset(u, 0, len);
	d->kind = cpu_to_le32(ILIO_CKPT_LBAMAP);
	d->index = cpu_to_le32(0);
	((__le32 *)(u + BS))[7] = cpu_to_le32(1);
	h->magic = cpu_to_le32(ILIO_UNIT_MAGIC);
	h->blocknr = cpu_to_le64(ilio_seg_block(g, seg) + off / BS);
	h->type = cpu_to_le16(ILIO_UNIT_CKPT);
	h->epoch = cpu_to_le64(epoch);
	h->seq = cpu_to_le64(seq);
	h->len = cpu_to_le32(len);
	h->next_seg = cpu_to_le32(seg);
	h->nr_ents = cpu_to_le32(1);
	ilio_unit_seal(u, len);
	return len;
}

int main(int argc, char **argv)
{
	static const u32 segs[] = { 0x10000, 0x40000, 0x100000 };
	static const u32 devs[] = { 2, 64, 1024 };
	static u8 buf[sizeof(struct params) + 2 * BS + 2 * BS];
	unsigned int i, kind, n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds-meta OUTDIR\n");
		return 2;
	}
	for (i = 0; i < ARRAY_SIZE(segs); i++) {
		for (kind = 0; kind < 2; kind++) {
			struct params *p = (void *)buf;
			struct ilio_geom g, g2;
			struct ilio_anchor_info a = {
				.seq = 3, .epoch = 0xfeedbeefcafe0000ULL + i, .log_seq = 5,
				.log_seg = 2, .log_off = 0, .nr_blocks = 2048,
			}, a2;
			u8 *sb = buf + sizeof(*p), *an = sb + BS, *u = an + BS;
			u64 dev = (u64)devs[i] << 20;
			const char *why = NULL;
			char path[4096];
			u32 len;
			FILE *f;

			memset(buf, 0, sizeof(buf));
			check(!ilio_geom_compute(&g, dev, segs[i], &why), "geom", why);
			if (bad)
				return 1;
			memset(g.uuid, 0x11 * (i + 1), sizeof(g.uuid));
			ilio_sb_build(sb, &g, 0);
			check(!ilio_sb_check(sb, 0, dev, &g2, &why), "sb check", why);
			ilio_anchor_build(an, &g, ILIO_ANCHOR_BLOCK, &a);
			check(!ilio_anchor_check(an, ILIO_ANCHOR_BLOCK, &g, &a2, &why),
			      "anchor check", why);
			p->dev_mb = devs[i] - 1;
			p->seg_shift = i;
			p->seg = a.log_seg;
			p->off = 0;
			p->epoch = a.epoch;
			p->seq = a.log_seq;
			len = kind ? build_ckpt_unit(u, &g, a.log_seg, 0, a.epoch, a.log_seq)
				   : build_data_unit(u, &g, a.log_seg, 0, a.epoch, a.log_seq);
			check(!ilio_unit_check_hdr(u, &g, a.log_seg, 0, a.epoch, a.log_seq, &why),
			      "unit header check", why);
			check(!ilio_unit_check_body(u, &g, &why), "unit body check", why);
			snprintf(path, sizeof(path), "%s/meta-%u-%s", argv[1], i,
				 kind ? "ckpt" : "data");
			f = fopen(path, "wb");
			if (!f || fwrite(buf, 1, sizeof(*p) + 2 * BS + len, f) !=
			    sizeof(*p) + 2 * BS + len || fclose(f)) {
				perror(path);
				return 1;
			}
			n++;
		}
	}
	if (!bad)
		printf("mkseeds-meta: %u seeds in %s\n", n, argv[1]);
	return bad;
}
