// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-meta: libFuzzer target for the metadata validators alone
 * (dm-ilio/ilio-meta.c, the module's own file): ilio_sb_check(),
 * ilio_anchor_check(), ilio_unit_check_hdr(), ilio_unit_check_body(),
 * ilio_cmap_check_hdr() and ilio_cmap_check() on hostile blocks.  Proves that no input makes them read outside the
 * block or unit they were given (ASan), hit undefined behaviour (UBSan), or
 * accept a field that the geometry forbids.
 *
 * Input: a 40-byte parameter header, then a superblock block, an anchor
 * block and a unit (each zero-padded to size).  Flag bits make the harness
 * put a correct checksum in before checking, so that the fuzzer also gets
 * past the checksum into the field checks.  When the superblock is refused,
 * the anchor and unit are checked against a valid geometry computed from
 * the parameters instead: the validators only ever see validated geometry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>
#include <linux/kernel.h>

#include "ilio-format.h"
#include "ilio-meta.h"

#define BS		ILIO_BLOCK_SIZE
#define HDR		40
#define UNIT_MAX	(256 * 1024)	/* body checks beyond this only cost time */

struct params {
	u8 flags;	/* 1: fix sb csum, 2: fix anchor csum, 4: seal unit, 16: keyed sb,
			 * 32: the unit as a class map slot, identity and csum fixed */
	u8 seg_shift;	/* fallback geometry: 16 + (x % 10) */
	u8 pad[2];
	u32 seg;
	u32 off;
	u32 dev_mb;	/* fallback geometry and the "device now" size */
	u64 epoch;
	u64 seq;
	u64 spare;
} __packed;

_Static_assert(sizeof(struct params) == HDR, "params size");

/* Checksum as the format defines it: crc32c with bytes 4..7 as zero. */
static void fix_csum(u8 *blk, u32 len)
{
	static const u8 zero[4];
	u32 crc = ilio_crc32c(~0U, blk, 4);

	crc = ilio_crc32c(crc, zero, 4);
	crc = ilio_crc32c(crc, blk + 8, len - 8);
	memcpy(blk + 4, &crc, 4);
}

static void fail(const char *what)
{
	fprintf(stderr, "fuzz-meta: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct params p;
	struct ilio_geom g, g2;
	struct ilio_anchor_info a;
	const struct ilio_unit_hdr *h;
	u8 *sb, *an, *unit;
	const char *why = NULL;
	u64 dev_bytes;
	size_t n;
	u32 len;
	int ret;

	if (size < HDR)
		return 0;
	/* Whole-struct compares below: no stray padding bytes. */
	memset(&g, 0, sizeof(g));
	memset(&g2, 0, sizeof(g2));
	memcpy(&p, data, HDR);
	data += HDR;
	size -= HDR;

	sb = calloc(1, BS);
	an = calloc(1, BS);
	if (!sb || !an)
		abort();
	n = size < BS ? size : BS;
	memcpy(sb, data, n);
	data += n;
	size -= n;
	n = size < BS ? size : BS;
	memcpy(an, data, n);
	data += n;
	size -= n;

	dev_bytes = ((u64)p.dev_mb % 65536 + 1) << 20;
	if (p.flags & 1)
		fix_csum(sb, BS);
	ret = ilio_sb_check(sb, 0, dev_bytes, &g, &why);
	if (ret == 0) {
		u64 end = g.seg_start + (u64)g.nr_segs * (g.seg_bytes / BS);

		/* What the validator promises the rest of the code. */
		if (g.seg_bytes < ILIO_SEG_BYTES_MIN || (g.seg_bytes & (g.seg_bytes - 1)) ||
		    g.nr_segs < ILIO_MIN_SEGS || g.seg_start < ILIO_META_BLOCKS ||
		    end > dev_bytes / BS || end > g.dev_blocks)
			fail("ilio_sb_check accepted an impossible geometry");
	} else {
		if (!why)
			fail("ilio_sb_check refused without a reason");
		if (ilio_geom_compute(&g, dev_bytes, 1U << (16 + p.seg_shift % 10), &why))
			goto out;
		memset(g.uuid, 0x5a, sizeof(g.uuid));
		if (p.flags & 16) {
			g.keyed_hash = true;
			g.hash_seed = dev_bytes * 0x9E3779B97F4A7C15ULL;
		}
		/* A valid format must pass its own validator. */
		ilio_sb_build(sb, &g, 1);
		if (ilio_sb_check(sb, 1, dev_bytes, &g2, &why) ||
		    memcmp(&g, &g2, sizeof(g)))
			fail("a freshly built superblock does not validate");
		/* Let the anchor below claim the fallback uuid. */
		memcpy(an + offsetof(struct ilio_anchor, uuid), g.uuid, sizeof(g.uuid));
	}

	if (p.flags & 2)
		fix_csum(an, BS);
	why = NULL;
	ret = ilio_anchor_check(an, ILIO_ANCHOR_BLOCK, &g, &a, &why);
	if (ret == 0 && (a.log_seg >= g.nr_segs || a.log_off >= g.seg_bytes ||
			 a.log_off % BS))
		fail("ilio_anchor_check accepted a position outside the log");
	if (ret && !why)
		fail("ilio_anchor_check refused without a reason");

	/* The unit: as long as the input says (the core reads len bytes). */
	h = (const void *)data;
	len = size >= sizeof(*h) ? le32_to_cpu(h->len) : 0;
	if (len < BS)
		len = BS;
	if (len > UNIT_MAX)
		len = UNIT_MAX;
	unit = calloc(1, len);
	if (!unit)
		abort();
	memcpy(unit, data, size < len ? size : len);
	{
		u32 seg = p.seg % g.nr_segs;
		u32 off = (p.off % (g.seg_bytes / BS)) * BS;
		struct ilio_unit_hdr *w = (void *)unit;

		/* Help the fuzzer: put the expected identity in (flag 8). */
		if (p.flags & 8) {
			w->magic = cpu_to_le32(ILIO_UNIT_MAGIC);
			w->blocknr = cpu_to_le64(ilio_seg_block(&g, seg) + off / BS);
			w->epoch = cpu_to_le64(p.epoch);
			w->seq = cpu_to_le64(p.seq);
		}
		why = NULL;
		ret = ilio_unit_check_hdr(unit, &g, seg, off, p.epoch, p.seq, &why);
		if (ret && !why)
			fail("ilio_unit_check_hdr refused without a reason");
		if (ret == 0) {
			u32 ulen = le32_to_cpu(w->len);

			if (ulen < BS || ulen % BS || ulen > g.seg_bytes - off)
				fail("ilio_unit_check_hdr accepted a unit that leaves its segment");
			if (le16_to_cpu(w->type) == ILIO_UNIT_DATA &&
			    (u64)BS + le32_to_cpu(w->rec_bytes) +
			    (u64)le32_to_cpu(w->nr_ents) * sizeof(struct ilio_sum_ent) > ulen)
				fail("ilio_unit_check_hdr accepted an overflowing summary");
			if (ulen <= len) {
				if (p.flags & 4)
					ilio_unit_seal(unit, ulen);
				why = NULL;
				ret = ilio_unit_check_body(unit, &g, &why);
				if ((p.flags & 4) && ret)
					fail("a sealed unit fails its checksum");
			}
		}
	}
	/*
	 * The same bytes as a class map slot (flag 32: with the identity of
	 * slot p.seg & 1 and a correct checksum over the entries it claims).
	 */
	{
		struct ilio_cmap_hdr *c = (void *)unit;
		unsigned int slot = p.seg & 1;
		u64 nr_sectors = (dev_bytes / BS) * 8, seq, prev = 0;
		struct ilio_crange *r;
		u32 nr, i;

		if ((p.flags & 32) && ilio_cmap_slot_blocks(&g)) {
			c->magic = cpu_to_le32(ILIO_CMAP_MAGIC);
			c->blocknr = cpu_to_le64(ilio_cmap_slot_block(&g, slot));
			c->version = cpu_to_le32(ILIO_FORMAT_VERSION);
			memcpy(c->uuid, g.uuid, sizeof(c->uuid));
			nr = le32_to_cpu(c->nr);
			if (sizeof(*c) + (u64)nr * sizeof(struct ilio_cmap_ent) <= len)
				fix_csum(unit, sizeof(*c) + nr * sizeof(struct ilio_cmap_ent));
		}
		why = NULL;
		ret = ilio_cmap_check_hdr(unit, &g, slot, &seq, &nr, &why);
		if (ret && !why)
			fail("ilio_cmap_check_hdr refused without a reason");
		if (!ret && nr > ilio_cmap_capacity(&g))
			fail("ilio_cmap_check_hdr accepted more ranges than a slot holds");
		if (!ret && ilio_cmap_len(nr) <= len) {
			r = calloc(nr + 1, sizeof(*r));
			if (!r)
				abort();
			why = NULL;
			ret = ilio_cmap_check(unit, nr, nr_sectors, r, &why);
			if (ret && !why)
				fail("ilio_cmap_check refused without a reason");
			for (i = 0; !ret && i < nr; i++) {
				if (r[i].start < prev || r[i].end <= r[i].start ||
				    r[i].end > nr_sectors || !r[i].cls || r[i].cls > 3)
					fail("ilio_cmap_check accepted a bad range");
				prev = r[i].end;
			}
			free(r);
		}
	}
	free(unit);
out:
	free(sb);
	free(an);
	return 0;
}
