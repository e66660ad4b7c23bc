// SPDX-License-Identifier: GPL-2.0
/*
 * test-codec: proves that the on-disk codec (dm-ilio/ilio-meta.c and the
 * location layout in dm-ilio/ilio-format.h, the module's own files) is
 * exact and pinned: unpack then pack reproduces every byte of any encoded
 * value (so a field dropped from either half fails here), pack writes each
 * field at the offset and in the byte order of the format (a known value
 * is compared with its bytes), a build/unpack round trip keeps every
 * in-core field, and each validator refuses a bad magic, checksum,
 * location or out-of-range field while it accepts what the packers write.
 */
#include <stdlib.h>

#include "ut.h"
#include "ilio-format.h"
#include "ilio-meta.h"
#include "ilio-types.h"

#define BS	ILIO_BLOCK_SIZE
#define ROUNDS	2000

static u64 seed = 0x1234567;

/* Checksum as the format defines it: crc32c with bytes 4..7 as zero. */
static void fix_csum(void *p, u32 len)
{
	static const u8 zero[4];
	u8 *b = p;
	u32 crc = ilio_crc32c(~0U, b, 4);

	crc = ilio_crc32c(crc, zero, 4);
	crc = ilio_crc32c(crc, b + 8, len - 8);
	memcpy(b + 4, &crc, 4);
}

static void t_loc_layout(void)
{
	u64 x;
	int i, fails = 0;

	/* The layout is on disk: pin one value bit by bit. */
	x = ilio_loc_make(1, 8, 1, true);
	CHECK(x == ((1ULL << 36) | (1ULL << 14) | (1ULL << 1) | 1),
	      "loc_make(1, 8, 1, lz4) = %#llx", (unsigned long long)x);
	x = ilio_loc_make(ILIO_SEG_MAX, ILIO_SEG_BYTES_MAX - 8,
			  (1U << ILIO_LOC_LEN_BITS) - 1, false);
	CHECK(x == ~1ULL, "all fields full = %#llx", (unsigned long long)x);
	CHECK(ILIO_LOC_DAMAGED == 0xfffffff000000000ULL, "damaged sentinel moved");
	CHECK(ilio_loc_damaged(ILIO_LOC_DAMAGED) && !ilio_loc_damaged(0),
	      "damaged test");
	CHECK(ilio_loc_seg(ILIO_LOC_DAMAGED) == ILIO_SEG_MAX &&
	      !ilio_loc_len(ILIO_LOC_DAMAGED), "damaged names no segment or length");
	/* Every bit belongs to one field: decode then encode is exact. */
	for (i = 0; i < ROUNDS; i++) {
		x = ut_rand(&seed);
		CHECK_QUIET(ilio_loc_make(ilio_loc_seg(x), ilio_loc_off(x),
					  ilio_loc_len(x), ilio_loc_lz4(x)) == x,
			    fails, "loc %#llx", (unsigned long long)x);
	}
	CHECK(!fails, "%d locations did not round-trip", fails);
	/* And encode then decode returns each field. */
	fails = 0;
	for (i = 0; i < ROUNDS; i++) {
		u32 seg = ut_rand(&seed) & ILIO_SEG_MAX;
		u32 off = (ut_rand(&seed) % ILIO_SEG_BYTES_MAX) & ~7U;
		u32 len = ut_rand(&seed) & ((1U << ILIO_LOC_LEN_BITS) - 1);
		bool lz4 = ut_rand(&seed) & 1;

		x = ilio_loc_make(seg, off, len, lz4);
		CHECK_QUIET(ilio_loc_seg(x) == seg && ilio_loc_off(x) == off &&
			    ilio_loc_len(x) == len && ilio_loc_lz4(x) == lz4,
			    fails, "fields %u %u %u %d", seg, off, len, lz4);
	}
	CHECK(!fails, "%d field sets did not round-trip", fails);
}

static void t_loc_check(void)
{
	const char *why = NULL;
	u32 nr = 100, sb = 1U << 20;

	CHECK(!ilio_loc_check(ilio_loc_make(99, sb - ilio_rec_bytes(BS), BS, false),
			      nr, sb, &why), "last raw record in the last segment");
	CHECK(!ilio_loc_check(ilio_loc_make(0, 0, 1, true), nr, sb, &why),
	      "one-byte lz4 record");
	CHECK(ilio_loc_check(0, nr, sb, &why) == -EINVAL, "location 0");
	CHECK(ilio_loc_check(ILIO_LOC_DAMAGED, nr, sb, &why) == -EINVAL, "damaged");
	CHECK(ilio_loc_check(ilio_loc_make(100, 0, BS, false), nr, sb, &why) ==
	      -EINVAL, "segment past the store");
	CHECK(ilio_loc_check(ilio_loc_make(0, sb - 8, 1, true), nr, sb, &why) ==
	      -EINVAL, "record leaves its segment");
	CHECK(ilio_loc_check(ilio_loc_make(0, 0, BS + 1, true), nr, sb, &why) ==
	      -EINVAL, "longer than a block");
	CHECK(ilio_loc_check(ilio_loc_make(0, 0, 100, false), nr, sb, &why) ==
	      -EINVAL, "short raw record");
	CHECK(why && strstr(why, "outside"), "why: %s", why ? why : "(none)");
}

static void t_rec(void)
{
	static const u8 want[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct ilio_rec_info r = { .cid = 0x04030201, .len = 0x0605, .flags = 0x0807 };
	struct ilio_chunk_hdr h, h2;
	const char *why = NULL;
	int i, fails = 0;

	ilio_rec_pack(&h, &r);
	CHECK(!memcmp(&h, want, 8), "record header bytes");
	for (i = 0; i < ROUNDS; i++) {
		ut_fill_random(&h, sizeof(h), ut_rand(&seed));
		ilio_rec_unpack(&h, &r);
		memset(&h2, 0xa5, sizeof(h2));
		ilio_rec_pack(&h2, &r);
		CHECK_QUIET(!memcmp(&h, &h2, sizeof(h)), fails, "round %d", i);
	}
	CHECK(!fails, "%d record headers did not round-trip", fails);

	r = (struct ilio_rec_info){ .cid = 7, .len = 100, .flags = ILIO_CHUNK_LZ4 };
	CHECK(ilio_rec_fits(&r, 4096, 4096 + ilio_rec_bytes(100)), "fits exactly");
	CHECK(!ilio_rec_fits(&r, 4096, 4096 + ilio_rec_bytes(100) - 1), "one short");
	CHECK(!ilio_rec_check(&r, 4096, 8192, 7, &why), "valid record");
	CHECK(ilio_rec_make_loc(3, 4096, &r) == ilio_loc_make(3, 4096, 100, true),
	      "record location");
	CHECK(ilio_rec_matches(&r, 7, ilio_loc_make(3, 4096, 100, true)), "matches");
	CHECK(!ilio_rec_matches(&r, 8, ilio_loc_make(3, 4096, 100, true)), "other cid");
	CHECK(!ilio_rec_matches(&r, 7, ilio_loc_make(3, 4096, 101, true)), "other len");
	CHECK(!ilio_rec_matches(&r, 7, ilio_loc_make(3, 4096, 100, false)), "raw");
	CHECK(ilio_rec_check(&r, 4096, 8192, 6, &why) == -EINVAL &&
	      strstr(why, "beyond"), "cid above the limit");
	r.cid = 0;
	CHECK(ilio_rec_check(&r, 4096, 8192, 7, &why) == -EINVAL, "cid 0");
	r.cid = 7;
	r.flags = 2;
	CHECK(ilio_rec_check(&r, 4096, 8192, 7, &why) == -EINVAL, "unknown flag");
	r.flags = 0;
	r.len = 0;
	CHECK(!ilio_rec_fits(&r, 0, 8192) &&
	      ilio_rec_check(&r, 4096, 8192, 7, &why) == -EINVAL, "length 0");
	r.len = BS + 1;
	CHECK(!ilio_rec_fits(&r, 0, 8192) &&
	      ilio_rec_check(&r, 0, 8192, 7, &why) == -EINVAL, "longer than a block");
	r.len = BS;
	CHECK(ilio_rec_fits(&r, 0xfffffff8U, 0xffffffffU) == false,
	      "no 32-bit wrap of the end");
}

static void t_sum(void)
{
	static const u8 want[16] = { 0x10, 0, 0, 0, 0, 0, 0, 0x30,
				     0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
	struct ilio_sum_info s = { .kind = ILIO_SUM_CHUNK, .arg = 0x10,
				   .val = 0x1122334455667788ULL };
	struct ilio_sum_ent e, e2;
	const char *why = NULL;
	int i, fails = 0;

	ilio_sum_pack(&e, &s);
	CHECK(!memcmp(&e, want, 16), "summary entry bytes");
	for (i = 0; i < ROUNDS; i++) {
		ut_fill_random(&e, sizeof(e), ut_rand(&seed));
		ilio_sum_unpack(&e, &s);
		CHECK_QUIET(s.kind < 16 && s.arg <= ILIO_SUM_ARG_MASK, fails, "range");
		memset(&e2, 0xa5, sizeof(e2));
		ilio_sum_pack(&e2, &s);
		CHECK_QUIET(!memcmp(&e, &e2, sizeof(e)), fails, "round %d", i);
	}
	CHECK(!fails, "%d summary entries did not round-trip", fails);

#define SUM(k, a, v) (&(struct ilio_sum_info){ .kind = (k), .arg = (a), .val = (v) })
	CHECK(!ilio_sum_check(SUM(ILIO_SUM_MAP, 99, 5), 100, 5, 4096, 8192, &why), "map");
	CHECK(ilio_sum_check(SUM(ILIO_SUM_MAP, 100, 5), 100, 5, 4096, 8192, &why), "map lba");
	CHECK(ilio_sum_check(SUM(ILIO_SUM_MAP, 0, 0), 100, 5, 4096, 8192, &why), "map to 0");
	CHECK(ilio_sum_check(SUM(ILIO_SUM_MAP, 0, 6), 100, 5, 4096, 8192, &why), "map cid");
	CHECK(!ilio_sum_check(SUM(ILIO_SUM_UNMAP, 0, 100), 100, 5, 4096, 8192, &why),
	      "unmap all");
	CHECK(ilio_sum_check(SUM(ILIO_SUM_UNMAP, 1, 100), 100, 5, 4096, 8192, &why),
	      "unmap past the end");
	CHECK(ilio_sum_check(SUM(ILIO_SUM_UNMAP, 100, 0), 100, 5, 4096, 8192, &why),
	      "unmap start");
	CHECK(!ilio_sum_check(SUM(ILIO_SUM_CHUNK, 8184, 1), 100, 5, 4096, 8192, &why),
	      "last record header");
	CHECK(ilio_sum_check(SUM(ILIO_SUM_CHUNK, 8188, 1), 100, 5, 4096, 8192, &why),
	      "misaligned");
	CHECK(ilio_sum_check(SUM(ILIO_SUM_CHUNK, 4088, 1), 100, 5, 4096, 8192, &why),
	      "before the records");
	CHECK(ilio_sum_check(SUM(ILIO_SUM_CHUNK, 8192, 1), 100, 5, 4096, 8192, &why),
	      "after the records");
	CHECK(ilio_sum_check(SUM(0, 0, 1), 100, 5, 4096, 8192, &why) == -EINVAL &&
	      strstr(why, "unknown"), "kind 0");
	CHECK(ilio_sum_check(SUM(15, 0, 1), 100, 5, 4096, 8192, &why) == -EINVAL,
	      "kind 15");
#undef SUM
}

static void t_ckpt(void)
{
	static u32 leaf[ILIO_CKPT_MAP_ENTRIES], leaf2[ILIO_CKPT_MAP_ENTRIES];
	static u8 blk[ILIO_CKPT_MAP_BYTES], blk2[ILIO_CKPT_MAP_BYTES];
	struct ilio_ckpt_desc d, d2;
	struct ilio_ckpt_chunk c, c2;
	struct ilio_desc_info di = { .kind = 0x04030201, .index = 0x08070605 };
	static const u8 want[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	const char *why = NULL;
	u64 loc, hash;
	int i, fails = 0;

	ilio_ckpt_desc_pack(&d, &di);
	CHECK(!memcmp(&d, want, 8), "descriptor bytes");
	ilio_ckpt_chunk_pack(&c, 0x0807060504030201ULL, 0x100f0e0d0c0b0a09ULL);
	CHECK(!memcmp(&c, (u8[16]){ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
				    15, 16 }, 16), "chunk entry bytes");
	for (i = 0; i < ROUNDS; i++) {
		ut_fill_random(&d, sizeof(d), ut_rand(&seed));
		ilio_ckpt_desc_unpack(&d, &di);
		memset(&d2, 0xa5, sizeof(d2));
		ilio_ckpt_desc_pack(&d2, &di);
		CHECK_QUIET(!memcmp(&d, &d2, sizeof(d)), fails, "desc round %d", i);
		ut_fill_random(&c, sizeof(c), ut_rand(&seed));
		ilio_ckpt_chunk_unpack(&c, &loc, &hash);
		memset(&c2, 0xa5, sizeof(c2));
		ilio_ckpt_chunk_pack(&c2, loc, hash);
		CHECK_QUIET(!memcmp(&c, &c2, sizeof(c)), fails, "chunk round %d", i);
	}
	CHECK(!fails, "%d descriptors or chunk entries did not round-trip", fails);

	ut_fill_random(blk, sizeof(blk), 42);
	ilio_ckpt_map_unpack(blk, leaf);
	memset(blk2, 0xa5, sizeof(blk2));
	ilio_ckpt_map_pack(blk2, leaf);
	CHECK(!memcmp(blk, blk2, sizeof(blk)), "map leaf round trip");
	CHECK(leaf[1] == ((u32)blk[4] | (u32)blk[5] << 8 | (u32)blk[6] << 16 |
			  (u32)blk[7] << 24), "map leaf entry 1 is bytes 4..7");

	/* Leaf 2 of a device of 2 * 1024 + 10 blocks, ids up to 50. */
	for (i = 0; i < ILIO_CKPT_MAP_ENTRIES; i++)
		leaf[i] = i < 10 ? 50 - i : 0;
	ilio_ckpt_map_pack(blk, leaf);
	CHECK(!ilio_ckpt_map_check(blk, 2, 2058, 50, &why), "valid leaf");
	ilio_ckpt_map_unpack(blk, leaf2);
	CHECK(!memcmp(leaf, leaf2, sizeof(leaf)), "leaf unpacked");
	CHECK(ilio_ckpt_map_check(blk, 2, 2058, 49, &why) == -EINVAL &&
	      strstr(why, "invalid chunk id"), "id above the limit");
	CHECK(ilio_ckpt_map_check(blk, 2, 2057, 50, &why) == -EINVAL,
	      "maps an LBA past the device");
	CHECK(ilio_ckpt_map_check(blk, 3, 2058, 50, &why) == -EINVAL,
	      "a leaf past the device maps nothing");
	memset(blk, 0, sizeof(blk));
	CHECK(!ilio_ckpt_map_check(blk, 3, 2058, 50, &why), "empty leaf anywhere");
}

static void t_unit(void)
{
	struct ilio_geom g;
	struct ilio_unit_info u, u2;
	static u8 unit[4 * BS], hdr2[BS];
	const char *why = NULL;
	u8 raw[sizeof(struct ilio_unit_hdr)];
	struct ilio_unit_hdr *h = (void *)unit;
	int i, fails = 0;

	memset(&g, 0, sizeof(g));
	CHECK(!ilio_geom_compute(&g, 64ULL << 20, 1U << 20, &why), "geometry");

	/* Any header with the magic and zero flags, pad and csum round-trips. */
	for (i = 0; i < ROUNDS; i++) {
		ut_fill_random(raw, sizeof(raw), ut_rand(&seed));
		((struct ilio_unit_hdr *)raw)->magic = cpu_to_le32(ILIO_UNIT_MAGIC);
		((struct ilio_unit_hdr *)raw)->csum = 0;
		((struct ilio_unit_hdr *)raw)->flags = 0;
		((struct ilio_unit_hdr *)raw)->pad = 0;
		CHECK_QUIET(ilio_unit_hdr_unpack(raw, &u), fails, "magic");
		memset(hdr2, 0xa5, sizeof(hdr2));
		ilio_unit_hdr_pack(hdr2, &u);
		CHECK_QUIET(!memcmp(raw, hdr2, sizeof(raw)), fails, "round %d", i);
		CHECK_QUIET(hdr2[sizeof(raw)] == 0xa5, fails, "wrote past the header");
	}
	CHECK(!fails, "%d unit headers did not round-trip", fails);
	raw[0] ^= 1;
	CHECK(!ilio_unit_hdr_unpack(raw, &u), "wrong magic reported");

	/* A packed, sealed unit passes both validators and unpacks to itself. */
	memset(unit, 0, sizeof(unit));
	memset(&u, 0, sizeof(u));	/* whole-struct compare below */
	u.blocknr = ilio_seg_block(&g, 3) + 2;
	u.type = ILIO_UNIT_DATA;
	u.epoch = 0xfeedULL << 32;
	u.seq = 77;
	u.len = sizeof(unit);
	u.next_seg = 4;
	u.rec_bytes = 64;
	u.nr_ents = 2;
	ut_fill_random(unit + BS, sizeof(unit) - BS, 7);
	ilio_unit_hdr_pack(unit, &u);
	ilio_unit_seal(unit, sizeof(unit));
	CHECK(!ilio_unit_check_hdr(unit, &g, 3, 2 * BS, u.epoch, 77, &why), "hdr: %s", why);
	CHECK(!ilio_unit_check_body(unit, &g, &why), "body: %s", why);
	memset(&u2, 0, sizeof(u2));
	CHECK(ilio_unit_hdr_unpack(unit, &u2) && !memcmp(&u, &u2, sizeof(u)),
	      "unpack gives back what was packed");
	/* Identity mismatches end the log; impossible fields are damage. */
	CHECK(ilio_unit_check_hdr(unit, &g, 3, 2 * BS, u.epoch + 1, 77, &why) == -ENOENT,
	      "other epoch");
	CHECK(ilio_unit_check_hdr(unit, &g, 3, 2 * BS, u.epoch, 78, &why) == -ENOENT,
	      "other seq");
	CHECK(ilio_unit_check_hdr(unit, &g, 3, BS, u.epoch, 77, &why) == -ENOENT,
	      "other place");
	h->magic ^= 1;
	CHECK(ilio_unit_check_hdr(unit, &g, 3, 2 * BS, u.epoch, 77, &why) == -ENOENT,
	      "bad magic");
	h->magic ^= 1;
	h->pad = 1;
	CHECK(ilio_unit_check_hdr(unit, &g, 3, 2 * BS, u.epoch, 77, &why) == -EINVAL,
	      "padding set");
	h->pad = 0;
	h->flags = 1;
	CHECK(ilio_unit_check_hdr(unit, &g, 3, 2 * BS, u.epoch, 77, &why) == -EINVAL,
	      "flags set");
	h->flags = 0;
	h->type = cpu_to_le16(3);
	CHECK(ilio_unit_check_hdr(unit, &g, 3, 2 * BS, u.epoch, 77, &why) == -EINVAL,
	      "unknown type");
	h->type = cpu_to_le16(ILIO_UNIT_DATA);
	h->nr_ents = cpu_to_le32(BS);
	CHECK(ilio_unit_check_hdr(unit, &g, 3, 2 * BS, u.epoch, 77, &why) == -EINVAL,
	      "summary overflows the unit");
	h->nr_ents = cpu_to_le32(2);
	h->next_seg = cpu_to_le32(g.nr_segs);
	CHECK(ilio_unit_check_hdr(unit, &g, 3, 2 * BS, u.epoch, 77, &why) == -EINVAL,
	      "successor past the store");
	h->next_seg = cpu_to_le32(4);
	CHECK(!ilio_unit_check_body(unit, &g, &why), "restored");
	unit[sizeof(unit) - 1] ^= 0x80;
	CHECK(ilio_unit_check_body(unit, &g, &why) == -ENOENT, "torn body");
}

static void t_sb_anchor(void)
{
	struct ilio_geom g, g2;
	struct ilio_anchor_info a, a2;
	static u8 blk[BS], blk2[BS];
	const char *why = NULL;
	u64 dev = 256ULL << 20;

	memset(&g, 0, sizeof(g));
	memset(&g2, 0, sizeof(g2));
	CHECK(!ilio_geom_compute(&g, dev, 1U << 20, &why), "geometry");
	memset(g.uuid, 0x3c, sizeof(g.uuid));
	g.uuid[15] = 1;
	g.keyed_hash = true;
	g.hash_seed = 0x0123456789abcdefULL;
	ilio_sb_build(blk, &g, 1);
	ilio_sb_unpack(blk, &g2);
	CHECK(!memcmp(&g, &g2, sizeof(g)), "superblock unpack keeps every field");
	ilio_sb_build(blk2, &g2, 1);
	CHECK(!memcmp(blk, blk2, BS), "superblock pack(unpack(x)) == x");
	memset(&g2, 0, sizeof(g2));
	CHECK(!ilio_sb_check(blk, 1, dev, &g2, &why) && !memcmp(&g, &g2, sizeof(g)),
	      "superblock validates: %s", why);
	CHECK(ilio_sb_check(blk, 0, dev, &g2, &why) == -EINVAL, "wrong block");
	CHECK(ilio_sb_check(blk, 1, dev - (2U << 20), &g2, &why) == -EINVAL,
	      "device shrank");
	blk[100] ^= 1;
	CHECK(ilio_sb_check(blk, 1, dev, &g2, &why) == -EINVAL &&
	      strstr(why, "checksum"), "bad checksum");
	blk[100] ^= 1;
	blk[0] ^= 1;
	CHECK(ilio_sb_check(blk, 1, dev, &g2, &why) == -ENOENT, "no magic");
	blk[0] ^= 1;
	((struct ilio_sb *)blk)->incompat |= cpu_to_le64(1ULL << 40);
	fix_csum(blk, BS);
	CHECK(ilio_sb_check(blk, 1, dev, &g2, &why) == -EINVAL &&
	      strstr(why, "incompatible"), "unknown incompat feature");
	ilio_sb_build(blk, &g, 1);
	((struct ilio_sb *)blk)->nr_segs = cpu_to_le32(ILIO_MIN_SEGS - 1);
	fix_csum(blk, BS);
	CHECK(ilio_sb_check(blk, 1, dev, &g2, &why) == -EINVAL, "too few segments");

	a = (struct ilio_anchor_info){
		.seq = 5, .epoch = 0x1122334455667788ULL, .log_seq = 1000,
		.log_seg = g.nr_segs - 1, .log_off = g.seg_bytes - BS,
		.nr_blocks = 12345, .ckpt_end = 1003,
	};
	ilio_anchor_build(blk, &g, ILIO_ANCHOR_BLOCK, &a);
	memset(&a2, 0, sizeof(a2));
	ilio_anchor_unpack(blk, &a2);
	CHECK(!memcmp(&a, &a2, sizeof(a)), "anchor unpack keeps every field");
	ilio_anchor_build(blk2, &g, ILIO_ANCHOR_BLOCK, &a2);
	CHECK(!memcmp(blk, blk2, BS), "anchor pack(unpack(x)) == x");
	memset(&a2, 0, sizeof(a2));
	CHECK(!ilio_anchor_check(blk, ILIO_ANCHOR_BLOCK, &g, &a2, &why) &&
	      !memcmp(&a, &a2, sizeof(a)), "anchor validates: %s", why);
	CHECK(ilio_anchor_check(blk, ILIO_ANCHOR_BLOCK + 1, &g, &a2, &why) == -EINVAL,
	      "wrong slot");
	blk[200] ^= 1;
	CHECK(ilio_anchor_check(blk, ILIO_ANCHOR_BLOCK, &g, &a2, &why) == -EINVAL,
	      "bad checksum");
	blk[200] ^= 1;
	g2 = g;
	g2.uuid[0] ^= 1;
	CHECK(ilio_anchor_check(blk, ILIO_ANCHOR_BLOCK, &g2, &a2, &why) == -EINVAL,
	      "other store");
	a.log_seg = g.nr_segs;
	ilio_anchor_build(blk, &g, ILIO_ANCHOR_BLOCK, &a);
	CHECK(ilio_anchor_check(blk, ILIO_ANCHOR_BLOCK, &g, &a2, &why) == -EINVAL &&
	      strstr(why, "outside"), "log past the store");
	a.log_seg = 0;
	a.log_off = 8;
	ilio_anchor_build(blk, &g, ILIO_ANCHOR_BLOCK, &a);
	CHECK(ilio_anchor_check(blk, ILIO_ANCHOR_BLOCK, &g, &a2, &why) == -EINVAL,
	      "unaligned log start");
}

static void t_types(void)
{
	CHECK(sizeof(ilio_lba_t) == 8 && sizeof(ilio_loc_t) == 8 &&
	      sizeof(ilio_cid_t) == 4, "type sizes");
	CHECK(ilio_from_lba(ilio_to_lba(1ULL << 40)) == 1ULL << 40 &&
	      ilio_from_loc(ilio_to_loc(ILIO_LOC_DAMAGED)) == ILIO_LOC_DAMAGED &&
	      ilio_from_cid(ilio_to_cid(0xfffffffeU)) == 0xfffffffeU,
	      "to/from helpers");
}

int main(int argc, char **argv)
{
	static const struct ut_case cases[] = {
		{ "loc_layout", t_loc_layout },
		{ "loc_check", t_loc_check },
		{ "rec", t_rec },
		{ "sum", t_sum },
		{ "ckpt", t_ckpt },
		{ "unit", t_unit },
		{ "sb_anchor", t_sb_anchor },
		{ "types", t_types },
	};

	return ut_run(cases, ARRAY_SIZE(cases), argc, argv);
}
