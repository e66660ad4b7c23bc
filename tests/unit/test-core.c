// SPDX-License-Identifier: GPL-2.0
/*
 * test-core: proves the portable core (the module's own ilio-*.c files,
 * built against tests/shim) stores and returns every block byte for byte
 * under unique, duplicate, zero, compressible and incompressible data;
 * that refcounts, the index, segment accounting and compaction stay
 * consistent (ilio_core_check() after every scenario); that a full store
 * fails with -ENOSPC without losing data and recovers after discard; that
 * allocation failures at every point, every Nth allocation failing or
 * bursts of failures never fail a write or a discard (the reserve and
 * the retry wait them out) and lose no data; that
 * concurrent workers are safe; and that the metadata budget holds.
 *
 * Built twice: normally, and with ILIO_HASH_BITS=8, where thousands of
 * distinct blocks share a hash, to prove colliding blocks are never shared.
 *
 * Forged collisions (trust #7 item 3): blocks built to share one xxh64
 * value at seed 0 (tests/unit/xxh64-forge.h) do not collide in a store,
 * whose hash is keyed; and even a forger who knows the key cannot make a
 * write examine more than ILIO_DEDUP_BUDGET worth of candidates.
 */
#include <stdlib.h>
#include <pthread.h>
#include <unistd.h>
#include <linux/lz4.h>
#include <linux/xxhash.h>

#include <linux/printk.h>

#include "ut.h"
#include "ilio-core.h"
#include "xxh64-forge.h"

extern long ilio_shim_fail_alloc_after;
extern long ilio_shim_fail_alloc_burst;
extern long ilio_shim_fail_alloc_every;
extern long ilio_shim_burst_left;
extern unsigned long ilio_shim_alloc_failed;

#define BS ILIO_BLOCK_SIZE

static struct ilio_core *mk(u64 nr_blocks, u64 ram, u32 seg)
{
	struct ilio_core_params p = {
		.nr_blocks = nr_blocks, .ram_limit = ram, .seg_bytes = seg,
		.dedup = true, .compress = true,
	};
	int err = 0;
	struct ilio_core *ic = ilio_core_create(&p, &err);

	CHECK(ic, "create failed: %d", err);
	return ic;
}

static void check_consistent(struct ilio_core *ic)
{
	char why[256];
	int ret = ilio_core_check(ic, why, sizeof(why));

	CHECK(ret == 0, "ilio_core_check: %d %s", ret, why);
}

static struct ilio_ctx ctx;

/* A model of what each LBA must read back as: a seed, 0 = zeroes. */
static void content_for(u8 *buf, u64 seed)
{
	if (!seed)
		memset(buf, 0, BS);
	else if (seed & 1)
		ut_fill_compressible(buf, BS, seed);
	else
		ut_fill_random(buf, BS, seed);
}

static int verify_model(struct ilio_core *ic, const u64 *model, u64 n)
{
	u8 want[BS], got[BS];
	int fails = 0;
	u64 lba;

	for (lba = 0; lba < n; lba++) {
		int ret = ilio_core_read(ic, lba, got);

		content_for(want, model[lba]);
		CHECK_QUIET(ret == 0 && !memcmp(want, got, BS), fails,
			    "lba %llu (seed %llu) ret %d",
			    (unsigned long long)lba,
			    (unsigned long long)model[lba], ret);
	}
	CHECK(fails == 0, "%d blocks differ from the model", fails);
	return fails;
}

static void t_hash_and_zero(void)
{
	u8 a[BS], b[BS];

	ut_fill_random(a, BS, 1);
	memcpy(b, a, BS);
	CHECK(ilio_hash_block(a, 0) == ilio_hash_block(b, 0), "hash not stable");
	b[BS - 1] ^= 1;
	if (ILIO_HASH_BITS == 64)
		CHECK(ilio_hash_block(a, 0) != ilio_hash_block(b, 0),
		      "one flipped bit kept the hash");
	memset(a, 0, BS);
	CHECK(ilio_block_is_zero(a), "zero block not detected");
	a[BS - 1] = 1;
	CHECK(!ilio_block_is_zero(a), "last byte ignored");
	a[BS - 1] = 0;
	a[0] = 1;
	CHECK(!ilio_block_is_zero(a), "first byte ignored");
}

static void t_lz4_roundtrip(void)
{
	u8 in[BS], out[BS];
	const void *payload;
	bool lz4;
	u32 len;

	ut_fill_compressible(in, BS, 7);
	len = ilio_compress_block(&ctx, in, &payload, &lz4);
	CHECK(lz4 && len < BS * 3 / 4, "compressible block: lz4 %d len %u",
	      lz4, len);
	CHECK(ilio_decompress_block(payload, len, out) == 0 &&
	      !memcmp(in, out, BS), "lz4 round trip");
	/* Random data: the raw fallback, payload is the block itself. */
	ut_fill_random(in, BS, 8);
	len = ilio_compress_block(&ctx, in, &payload, &lz4);
	CHECK(!lz4 && len == BS && payload == in, "raw fallback: lz4 %d len %u",
	      lz4, len);
	/* A truncated or corrupt payload must fail cleanly, not overrun. */
	ut_fill_compressible(in, BS, 9);
	len = ilio_compress_block(&ctx, in, &payload, &lz4);
	CHECK(ilio_decompress_block(payload, len - 3, out) == -EIO,
	      "truncated payload accepted");
}

/*
 * Blocks compressed one after another through one context (its stream
 * keeps the hash table between blocks, ilio_compress_block()) decode
 * alone: a block that repeats earlier ones, whole or shifted, must not
 * refer to them.  Every decode gets a fresh output buffer of garbage.
 */
static void t_lz4_independent(void)
{
	static u8 blk[64][BS];
	u8 out[BS], copy[BS];
	unsigned int i, fails = 0;
	const void *payload;
	bool lz4;
	u32 len;

	for (i = 0; i < 64; i++) {
		if (i % 4 == 0)
			ut_fill_compressible(blk[i], BS, 100 + i);
		else if (i % 4 == 1)
			memcpy(blk[i], blk[i - 1], BS);		/* the same again */
		else if (i % 4 == 2)
			memcpy(blk[i], blk[i - 2] + 7, BS - 7),	/* shifted */
			memset(blk[i] + BS - 7, 0x5a, 7);
		else
			memcpy(blk[i], blk[i - 3], BS), blk[i][BS / 2] ^= 0xff;
		memcpy(copy, blk[i], BS);
		len = ilio_compress_block(&ctx, blk[i], &payload, &lz4);
		memset(out, 0xa5, BS);
		CHECK_QUIET(lz4 && ilio_decompress_block(payload, len, out) == 0 &&
			    !memcmp(out, copy, BS), fails,
			    "block %u (lz4 %d, %u bytes) does not decode alone", i, lz4, len);
	}
	CHECK(!fails, "%u of 64 blocks need an earlier one", fails);
}

/*
 * Online grow of a RAM store (issue 10): from a size that ends inside an
 * LBA-map leaf to several leaves more; the old blocks keep their data,
 * the new ones read as zeroes and take writes; shrinking and a size the
 * budget cannot map are refused with nothing changed.
 */
static void t_grow(void)
{
	static u64 model[5000];
	struct ilio_core *ic = mk(1000, 16 << 20, 256 << 10);
	const char *why;
	u8 buf[BS];
	u64 lba;

	if (!ic)
		return;
	memset(model, 0, sizeof(model));
	for (lba = 0; lba < 1000; lba++) {
		model[lba] = lba + 7;
		content_for(buf, model[lba]);
		CHECK(ilio_core_write(ic, lba, buf, &ctx) == 0, "write");
	}
	CHECK(ilio_core_write(ic, 1000, buf, &ctx) == -EINVAL, "write past the old end");
	CHECK(ilio_core_grow(ic, 999, 0, &why) == -EINVAL && strstr(why, "shrink"),
	      "shrink refused: %s", why);
	CHECK(ilio_core_grow(ic, 1ULL << 36, 0, &why) == -E2BIG && *why,
	      "a map the budget cannot hold is refused: %s", why);
	verify_model(ic, model, 1000);
	CHECK(ilio_core_grow(ic, 1000, 0, &why) == 0, "same size: %s", why);
	CHECK(ilio_core_grow(ic, 5000, 0, &why) == 0, "grow: %s", why);
	verify_model(ic, model, 5000);	/* new blocks read as zeroes */
	for (lba = 990; lba < 5000; lba += 3) {
		model[lba] = lba + 100000;
		content_for(buf, model[lba]);
		CHECK(ilio_core_write(ic, lba, buf, &ctx) == 0, "write after grow");
	}
	CHECK(ilio_core_write(ic, 5000, buf, &ctx) == -EINVAL, "write past the new end");
	verify_model(ic, model, 5000);
	check_consistent(ic);
	ilio_core_destroy(ic);
}

static void t_basic_rw(void)
{
	struct ilio_core *ic = mk(1024, 16 << 20, 256 << 10);
	u64 model[1024] = { 0 }, lba;
	u8 buf[BS];
	struct ilio_stats st;

	if (!ic)
		return;
	verify_model(ic, model, 1024);	/* never written: zeroes */
	for (lba = 0; lba < 1024; lba++) {
		model[lba] = lba + 100;
		content_for(buf, model[lba]);
		CHECK(ilio_core_write(ic, lba, buf, &ctx) == 0, "write");
	}
	verify_model(ic, model, 1024);
	ilio_core_get_stats(ic, &st);
	CHECK(st.logical_bytes == 1024ULL * BS, "logical %llu",
	      (unsigned long long)st.logical_bytes);
	CHECK(st.unique_chunks == 1024, "unique %llu",
	      (unsigned long long)st.unique_chunks);
	CHECK(st.stored_bytes < st.unique_bytes, "no compression at all");
	CHECK(st.dedup_hits == 0, "dedup hits on unique data");
	CHECK(ilio_core_read(ic, 1024, buf) == -EINVAL, "read past end");
	/* The map function's read: same bytes, with a context or without. */
	for (lba = 0; lba < 1024; lba += 97) {
		u8 want[BS];

		content_for(want, model[lba]);
		CHECK(ilio_core_read_nowait(ic, lba, buf, &ctx) == 0 &&
		      !memcmp(buf, want, BS), "read_nowait lba %llu",
		      (unsigned long long)lba);
		memset(buf, 0xa5, BS);
		CHECK(ilio_core_read_nowait(ic, lba, buf, NULL) == 0 &&
		      !memcmp(buf, want, BS), "read_nowait without ctx lba %llu",
		      (unsigned long long)lba);
	}
	CHECK(ilio_core_read_nowait(ic, 1024, buf, &ctx) == -EINVAL, "nowait past end");
	CHECK(ilio_core_write(ic, 1024, buf, &ctx) == -EINVAL, "write past end");
	check_consistent(ic);
	ilio_core_destroy(ic);
}

static void t_dedup_refcount(void)
{
	struct ilio_core *ic = mk(4096, 16 << 20, 256 << 10);
	u8 buf[BS];
	struct ilio_stats st;
	u64 lba;

	if (!ic)
		return;
	content_for(buf, 42);
	for (lba = 0; lba < 200; lba++)
		CHECK(ilio_core_write(ic, lba, buf, &ctx) == 0, "write");
	ilio_core_get_stats(ic, &st);
	CHECK(st.unique_chunks == 1, "200 copies stored as %llu chunks",
	      (unsigned long long)st.unique_chunks);
	CHECK(st.dedup_hits == 199, "dedup_hits %llu",
	      (unsigned long long)st.dedup_hits);
	CHECK(st.logical_bytes == 200ULL * BS, "logical");
	check_consistent(ic);
	/* Rewriting the same content in place must not leak a reference. */
	CHECK(ilio_core_write(ic, 5, buf, &ctx) == 0, "rewrite");
	check_consistent(ic);
	/* Overwrite all but one: the chunk survives with one reference. */
	for (lba = 1; lba < 200; lba++) {
		content_for(buf, 1000 + lba);
		CHECK(ilio_core_write(ic, lba, buf, &ctx) == 0, "overwrite");
	}
	ilio_core_get_stats(ic, &st);
	CHECK(st.unique_chunks == 200, "unique after overwrite %llu",
	      (unsigned long long)st.unique_chunks);
	CHECK(ilio_core_discard(ic, 0) == 0, "discard");
	ilio_core_get_stats(ic, &st);
	CHECK(st.unique_chunks == 199, "shared chunk not freed");
	check_consistent(ic);
	ilio_core_destroy(ic);
}

static void t_zero_blocks(void)
{
	struct ilio_core *ic = mk(512, 16 << 20, 256 << 10);
	u8 buf[BS];
	struct ilio_stats st;
	u64 lba;

	if (!ic)
		return;
	memset(buf, 0, BS);
	for (lba = 0; lba < 256; lba++)
		CHECK(ilio_core_write(ic, lba, buf, &ctx) == 0, "zero write");
	ilio_core_get_stats(ic, &st);
	CHECK(st.zero_blocks == 256 && st.logical_bytes == 0 &&
	      st.unique_chunks == 0 && st.stored_bytes == 0,
	      "zero blocks took storage: %llu %llu %llu",
	      (unsigned long long)st.zero_blocks,
	      (unsigned long long)st.logical_bytes,
	      (unsigned long long)st.unique_chunks);
	/* A zero write over data unmaps it. */
	content_for(buf, 5);
	CHECK(ilio_core_write(ic, 3, buf, &ctx) == 0, "write");
	memset(buf, 0, BS);
	CHECK(ilio_core_write(ic, 3, buf, &ctx) == 0, "zero over data");
	ilio_core_get_stats(ic, &st);
	CHECK(st.unique_chunks == 0 && st.logical_bytes == 0, "not unmapped");
	ilio_core_clear_stats(ic);
	ilio_core_get_stats(ic, &st);
	CHECK(st.zero_blocks == 0 && st.dedup_hits == 0, "clear_stats");
	check_consistent(ic);
	ilio_core_destroy(ic);
}

/* Random workload against a model, with a small RAM store and segments. */
static void t_random_model(void)
{
	const u64 n = 8192;
	struct ilio_core *ic = mk(n, 24 << 20, 64 << 10);
	u64 *model = calloc(n, sizeof(u64)), s = 12345, i;
	struct ilio_stats st;
	u8 buf[BS];
	int fails = 0;

	if (!ic || !model)
		return;
	for (i = 0; i < 200000; i++) {
		u64 r = ut_rand(&s), lba = r % n, op = (r >> 20) % 100;
		int ret;

		if (op < 10) {
			ret = ilio_core_discard(ic, lba);
			CHECK_QUIET(ret == 0, fails, "discard %d", ret);
			model[lba] = 0;
			continue;
		}
		if (op < 15) {
			u8 got[BS];

			content_for(buf, model[lba]);
			ret = ilio_core_read(ic, lba, got);
			CHECK_QUIET(!ret && !memcmp(got, buf, BS), fails,
				    "read lba %llu", (unsigned long long)lba);
			continue;
		}
		/* 40% from a small pool of contents: lots of sharing. */
		u64 seed = op < 55 ? 1 + (r >> 40) % 64 : 1000 + i;

		if (op == 99)
			seed = 0;
		content_for(buf, seed);
		ret = ilio_core_write(ic, lba, buf, &ctx);
		CHECK_QUIET(ret == 0, fails, "write %d at op %llu", ret,
			    (unsigned long long)i);
		if (!ret)
			model[lba] = seed;
	}
	CHECK(fails == 0, "%d operations failed", fails);
	verify_model(ic, model, n);
	ilio_core_get_stats(ic, &st);
	CHECK(st.compactions > 0, "workload never compacted (%llu)",
	      (unsigned long long)st.compactions);
	CHECK(st.dedup_hits > 10000, "dedup hits %llu",
	      (unsigned long long)st.dedup_hits);
	CHECK(st.ram_used_bytes <= st.ram_limit_bytes, "RAM over the limit");
	check_consistent(ic);
	CHECK(ilio_core_compact(ic, 1000) >= 0, "explicit compaction");
	check_consistent(ic);
	verify_model(ic, model, n);
	free(model);
	ilio_core_destroy(ic);
}

/* Fill with incompressible unique data until -ENOSPC; nothing is lost. */
static void t_enospc(void)
{
	const u64 n = 16384;
	struct ilio_core *ic = mk(n, 8 << 20, 256 << 10);
	u64 *model = calloc(n, sizeof(u64)), lba, full = 0;
	struct ilio_stats st;
	u8 buf[BS];
	int ret = 0;

	if (!ic || !model)
		return;
	for (lba = 0; lba < n; lba++) {
		ut_fill_random(buf, BS, 2 * lba + 2);
		ret = ilio_core_write(ic, lba, buf, &ctx);
		if (ret)
			break;
		model[lba] = 2 * lba + 2;
	}
	full = lba;
	CHECK(ret == -ENOSPC, "expected -ENOSPC, got %d after %llu blocks",
	      ret, (unsigned long long)full);
	CHECK(full > 1000 && full < 2048, "stored %llu 4K blocks in 8 MiB",
	      (unsigned long long)full);
	ilio_core_get_stats(ic, &st);
	CHECK(st.nospc_errors == 1 && st.ram_used_bytes <= st.ram_limit_bytes,
	      "nospc %llu used %llu", (unsigned long long)st.nospc_errors,
	      (unsigned long long)st.ram_used_bytes);
	/* Overwriting a stored block with new data also needs room. */
	ut_fill_random(buf, BS, 999999);
	CHECK(ilio_core_write(ic, 0, buf, &ctx) == -ENOSPC, "overwrite when full");
	/*
	 * Dedup of existing content needs no room.  (The newest block: in the
	 * 8-bit build an older one may sit behind more colliding chunks than
	 * the candidate bound examines.)
	 */
	ut_fill_random(buf, BS, model[full - 1]);
	CHECK(ilio_core_write(ic, full + 5, buf, &ctx) == 0, "dedup when full");
	model[full + 5] = model[full - 1];
	verify_model(ic, model, n);
	check_consistent(ic);
	/* Discard every other block: compaction must make room again. */
	for (lba = 0; lba < full; lba += 2) {
		CHECK(ilio_core_discard(ic, lba) == 0, "discard");
		model[lba] = 0;
	}
	for (lba = 0; lba < full / 2 - 64; lba++) {
		content_for(buf, 2 * lba + 2000002);	/* even: random */
		ret = ilio_core_write(ic, n - 1 - lba, buf, &ctx);
		if (ret)
			break;
		model[n - 1 - lba] = 2 * lba + 2000002;
	}
	CHECK(ret == 0, "write after discard: %d at %llu", ret,
	      (unsigned long long)lba);
	ilio_core_get_stats(ic, &st);
	CHECK(st.compactions > 0, "no compaction");
	verify_model(ic, model, n);
	check_consistent(ic);
	free(model);
	ilio_core_destroy(ic);
}

/*
 * Every allocation point fails once: transient, so the write waits and
 * succeeds (trust #7 item 12: it used to return -ENOMEM), and the store
 * stays consistent.
 */
static void t_alloc_failures(void)
{
	const u64 n = 2048;
	u64 model[2048] = { 0 }, k;
	struct ilio_core *ic = mk(n, 8 << 20, 64 << 10);
	u8 buf[BS];
	int failed = 0, errs = 0;

	if (!ic)
		return;
	for (k = 0; k < 600; k++) {
		u64 lba = (k * 37) % n, seed = 5000 + k;
		int ret;

		unsigned long f0 = ilio_shim_alloc_failed;

		content_for(buf, seed);
		ilio_shim_fail_alloc_after = (long)(k % 5);
		ret = ilio_core_write(ic, lba, buf, &ctx);
		ilio_shim_fail_alloc_after = -1;
		failed += ilio_shim_alloc_failed != f0;
		CHECK_QUIET(ret == 0, errs, "write %llu under one failed allocation: %d",
			    (unsigned long long)k, ret);
		if (ret == 0)
			model[lba] = seed;
	}
	CHECK(failed > 0, "fault injection never hit");
	CHECK(errs == 0, "%d writes failed under one failed allocation", errs);
	verify_model(ic, model, n);
	check_consistent(ic);
	ilio_core_destroy(ic);
	/* Creation itself under failing allocations. */
	for (k = 0; k < 8; k++) {
		struct ilio_core_params p = {
			.nr_blocks = 1024, .ram_limit = 8 << 20,
			.seg_bytes = 64 << 10, .dedup = true, .compress = true,
		};
		int err = 0;

		ilio_shim_fail_alloc_after = (long)k;
		ic = ilio_core_create(&p, &err);
		ilio_shim_fail_alloc_after = -1;
		CHECK(ic || err == -ENOMEM, "create: %d", err);
		ilio_core_destroy(ic);
	}
}

/*
 * trust #7 item 12: transient allocation failure - every Nth allocation,
 * or a burst of them - during writes, overwrites, duplicates, zero blocks
 * and discards on a diskless store that compacts.  No operation may fail;
 * every block reads back byte for byte.
 */
static void t_transient_enomem(void)
{
	const u64 n = 2048;
	static u64 model[2048];
	struct ilio_core *ic;
	unsigned long f0;
	u64 rs = 77, k;
	int phase, errs = 0, fails;
	u8 buf[BS];

	for (phase = 0; phase < 3; phase++) {
		/* 8 MiB of data in a 6 MiB budget: compaction runs too. */
		ic = mk(n, 6 << 20, 64 << 10);
		if (!ic)
			return;
		memset(model, 0, sizeof(model));
		f0 = ilio_shim_alloc_failed;
		fails = 0;
		for (k = 0; k < 6000; k++) {
			u64 lba = ut_rand(&rs) % n, r = ut_rand(&rs) % 100, seed;
			int ret;

			/* phase 0: every 3rd; 1: every 2nd; 2: bursts of 40 */
			ilio_shim_fail_alloc_every = phase == 0 ? 3 : phase == 1 ? 2 : 0;
			if (phase == 2 && k % 64 == 0) {
				ilio_shim_fail_alloc_after = (long)(r % 3);
				ilio_shim_fail_alloc_burst = 40;
			}
			if (r < 10) {
				ret = ilio_core_discard(ic, lba);
				seed = 0;
			} else {
				seed = r < 15 ? 0 : r < 35 ? 900 + r % 4 :
				       0x10000 + k * 2 + (r & 1);
				content_for(buf, seed);
				ret = ilio_core_write(ic, lba, buf, &ctx);
			}
			CHECK_QUIET(ret == 0, errs, "phase %d op %llu (%s lba %llu): %d",
				    phase, (unsigned long long)k,
				    r < 10 ? "discard" : "write",
				    (unsigned long long)lba, ret);
			if (!ret)
				model[lba] = seed;
			else
				fails++;
		}
		ilio_shim_fail_alloc_every = 0;
		ilio_shim_fail_alloc_after = -1;
		ilio_shim_fail_alloc_burst = 0;
		ilio_shim_burst_left = 0;
		printf("  phase %d: %lu allocations failed, %d operations failed\n",
		       phase, ilio_shim_alloc_failed - f0, fails);
		CHECK(ilio_shim_alloc_failed - f0 > 20, "phase %d: only %lu failures injected",
		      phase, ilio_shim_alloc_failed - f0);
		CHECK(fails == 0, "phase %d: %d operations failed", phase, fails);
		verify_model(ic, model, n);
		check_consistent(ic);
		ilio_core_destroy(ic);
	}
}

static void t_bad_params(void)
{
	struct ilio_core_params p = {
		.nr_blocks = 1 << 20, .ram_limit = 1 << 20,
		.seg_bytes = 1 << 20, .dedup = true, .compress = true,
	};
	int err = 0;

	CHECK(!ilio_core_create(&p, &err) && err == -E2BIG, "tiny RAM: %d", err);
	p.ram_limit = 64 << 20;
	p.seg_bytes = 1000;
	CHECK(!ilio_core_create(&p, &err) && err == -EINVAL, "odd seg: %d", err);
	p.seg_bytes = 1 << 20;
	p.nr_blocks = 0;
	CHECK(!ilio_core_create(&p, &err) && err == -EINVAL, "no blocks: %d", err);
	/* Metadata of a huge device does not fit in a small budget. */
	p.nr_blocks = 1ULL << 32;
	p.ram_limit = 4 << 20;
	CHECK(!ilio_core_create(&p, &err) && err == -E2BIG, "huge: %d", err);
}

static void t_policy(void)
{
	struct ilio_core *ic = mk(64, 8 << 20, 64 << 10);
	struct ilio_stats st;
	u8 buf[BS];

	if (!ic)
		return;
	ilio_core_set_policy(ic, false, false);
	content_for(buf, 3);	/* compressible */
	CHECK(ilio_core_write(ic, 0, buf, &ctx) == 0, "write");
	CHECK(ilio_core_write(ic, 1, buf, &ctx) == 0, "write");
	ilio_core_get_stats(ic, &st);
	CHECK(st.unique_chunks == 2 && st.stored_bytes == 2 * BS,
	      "dedup/compress off: %llu chunks %llu bytes",
	      (unsigned long long)st.unique_chunks,
	      (unsigned long long)st.stored_bytes);
	ilio_core_set_policy(ic, true, true);
	CHECK(ilio_core_write(ic, 2, buf, &ctx) == 0, "write");
	ilio_core_get_stats(ic, &st);
	CHECK(st.unique_chunks == 2 && st.dedup_hits == 1,
	      "dedup back on finds old data");
	check_consistent(ic);
	ilio_core_destroy(ic);
}

/* Colliding hashes: distinct contents are never shared. */
static void t_collisions(void)
{
	const u64 n = 6000;
	struct ilio_core *ic = mk(n, 64 << 20, 256 << 10);
	u64 *model = calloc(n, sizeof(u64)), lba, collisions = 0, h0, c0;
	u64 missed = 0;
	struct ilio_stats st;
	static u64 seen[256];
	u8 buf[BS];

	if (!ic || !model)
		return;
	memset(seen, 0, sizeof(seen));
	for (lba = 0; lba < n; lba++) {
		/* 3000 distinct contents, each written twice. */
		u64 seed = 2 + 2 * (lba % 3000);

		content_for(buf, seed);
		if (lba < 3000 && ILIO_HASH_BITS <= 8)
			collisions += seen[ilio_hash_block(buf, ic->sp.hash_seed)]++ > 0;
		h0 = ic->sp.st.dedup_hits;
		c0 = ic->sp.st.dedup_candidates_capped;
		CHECK(ilio_core_write(ic, lba, buf, &ctx) == 0, "write");
		/* A second copy is shared, or its lookup hit the bound. */
		if (lba >= 3000 && ic->sp.st.dedup_hits == h0) {
			missed++;
			CHECK(ic->sp.st.dedup_candidates_capped == c0 + 1,
			      "lba %llu: a duplicate neither shared nor capped",
			      (unsigned long long)lba);
		}
		model[lba] = seed;
	}
	ilio_core_get_stats(ic, &st);
	if (ILIO_HASH_BITS <= 8)
		CHECK(collisions > 2000, "only %llu colliding blocks",
		      (unsigned long long)collisions);
	else
		CHECK(missed == 0 && st.dedup_candidates_capped == 0,
		      "64-bit hash: %llu duplicates missed, %llu capped",
		      (unsigned long long)missed,
		      (unsigned long long)st.dedup_candidates_capped);
	CHECK(st.unique_chunks == 3000 + missed, "%llu chunks for 3000 contents (%llu missed)",
	      (unsigned long long)st.unique_chunks, (unsigned long long)missed);
	CHECK(st.dedup_hits == 3000 - missed, "dedup_hits %llu",
	      (unsigned long long)st.dedup_hits);
	verify_model(ic, model, n);
	check_consistent(ic);
	free(model);
	ilio_core_destroy(ic);
}

/* How forge_blocks() makes its blocks distinct. */
enum forge_mode {
	/* Every block random from its first byte: differences everywhere. */
	FORGE_SPREAD,
	/*
	 * One shared base; block i carries i in the stripe before the forged
	 * one, so a compare runs through 4032 bytes before it differs (the
	 * forger's best case).  Only lane 0 differs, in the last two rounds,
	 * and those rounds are nearly linear in the seed: the set collapses
	 * to a handful of hash values under ANY seed.
	 */
	FORGE_TAIL,
};

/*
 * @n distinct blocks whose xxh64 under @seed is one value.  @lz4: blocks
 * that lz4 compresses, so that every candidate must be decoded to be
 * compared; else random blocks, stored raw and compared in place.
 */
static u8 *forge_blocks(u64 n, u64 seed, bool lz4, enum forge_mode mode,
			u64 tag)
{
	u8 *d = malloc(n * BS), ref[BS];
	uint64_t lanes[4];
	u64 i;

	if (!d)
		return NULL;
	if (lz4)
		ut_fill_compressible(ref, BS, tag);
	else
		ut_fill_random(ref, BS, tag);
	xf_lanes(ref, XF_STRIPES, seed, lanes);
	for (i = 0; i < n; i++) {
		u8 *b = d + i * BS;

		if (mode == FORGE_SPREAD && lz4)
			ut_fill_compressible(b, BS, tag * 100003 + i + 1);
		else if (mode == FORGE_SPREAD)
			ut_fill_random(b, BS, tag * 100003 + i + 1);
		else
			memcpy(b, ref, BS);
		memcpy(b + BS - 64, &i, sizeof(i));
		xf_forge(b, seed, lanes);
	}
	return d;
}

/* Every block of @d (at LBAs @first...) reads back byte for byte. */
static void verify_blocks(struct ilio_core *ic, const u8 *d, u64 first, u64 n)
{
	u8 got[BS];
	int fails = 0;
	u64 i;

	for (i = 0; i < n; i++) {
		int ret = ilio_core_read(ic, first + i, got);

		CHECK_QUIET(!ret && !memcmp(got, d + i * BS, BS), fails,
			    "lba %llu reads back wrong (%d)",
			    (unsigned long long)(first + i), ret);
	}
	CHECK(fails == 0, "%d of %llu blocks read back wrong", fails,
	      (unsigned long long)n);
}

/*
 * Write the @n distinct blocks of @d to LBAs 0.., and check that each
 * write examines exactly min(k, @per) candidates, k being the blocks
 * written before it with the same hash under the store's key, and that
 * the write is capped exactly when k > @per.  *@classes: distinct hashes.
 * Return: how many writes must have been capped.
 */
static u64 write_forged(struct ilio_core *ic, const u8 *d, u64 n, u64 per,
			u64 *classes)
{
	u64 *hv = calloc(n, sizeof(u64)), *cnt = calloc(n, sizeof(u64));
	u64 i, j, nh = 0, c0, k0, capped = 0, want;
	int fails = 0;

	if (!hv || !cnt) {
		CHECK(0, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		u64 h = ilio_hash_block(d + i * BS, ic->sp.hash_seed);

		for (j = 0; j < nh && hv[j] != h; j++)
			;
		if (j == nh)
			hv[nh++] = h;
		want = min(cnt[j], per);
		c0 = ic->sp.st.dedup_candidates;
		k0 = ic->sp.st.dedup_candidates_capped;
		CHECK_QUIET(ilio_core_write(ic, i, d + i * BS, &ctx) == 0, fails,
			    "write %llu", (unsigned long long)i);
		CHECK_QUIET(ic->sp.st.dedup_candidates - c0 == want &&
			    ic->sp.st.dedup_candidates_capped - k0 == (cnt[j] > per),
			    fails, "write %llu: %llu candidates (want %llu), capped %llu",
			    (unsigned long long)i,
			    (unsigned long long)(ic->sp.st.dedup_candidates - c0),
			    (unsigned long long)want,
			    (unsigned long long)(ic->sp.st.dedup_candidates_capped - k0));
		capped += cnt[j]++ > per;
		if (fails)
			break;	/* today's unbounded walk is quadratic */
	}
	CHECK(fails == 0, "%d bad writes", fails);
out:
	*classes = nh;
	free(hv);
	free(cnt);
	return capped;
}

/*
 * Forge 2048 blocks with one xxh64 at seed 0 (no key, as every store was
 * before keyed hashing), each random from its first byte: a store with a
 * random key sees no collision at all, and an unkeyed store examines at
 * most ILIO_DEDUP_BUDGET of them per write.
 */
static void t_forged_unkeyed(void)
{
	const u64 n = 2048, per = ILIO_DEDUP_BUDGET / ILIO_DEDUP_COST_CMP;
	struct ilio_core *keyed = mk(n, 64 << 20, 256 << 10);
	struct ilio_core *plain = mk(n, 64 << 20, 256 << 10);
	u8 *d = forge_blocks(n, 0, false, FORGE_SPREAD, 11);
	struct ilio_stats st;
	u64 i, capped, classes;
	int fails = 0;

	if (!keyed || !plain || !d)
		return;
	for (i = 1; i < n; i++)
		CHECK_QUIET(xxh64(d + i * BS, BS, 0) == xxh64(d, BS, 0), fails,
			    "block %llu: the forgery failed", (unsigned long long)i);
	CHECK(fails == 0, "forged blocks do not collide at seed 0");
	CHECK(keyed->sp.hash_seed != plain->sp.hash_seed,
	      "two stores drew the same key %llx",
	      (unsigned long long)keyed->sp.hash_seed);

	capped = write_forged(keyed, d, n, per, &classes);
	ilio_core_get_stats(keyed, &st);
	/* (The 8-bit build collides by chance; write_forged() knows how.) */
	if (ILIO_HASH_BITS == 64) {
		CHECK(classes == n && st.dedup_candidates == 0 && !capped,
		      "keyed store: %llu hashes for %llu blocks forged at seed 0, %llu candidates examined",
		      (unsigned long long)classes, (unsigned long long)n,
		      (unsigned long long)st.dedup_candidates);
	}
	CHECK(st.dedup_candidates_capped == capped, "keyed store capped %llu, want %llu",
	      (unsigned long long)st.dedup_candidates_capped,
	      (unsigned long long)capped);
	CHECK(st.unique_chunks == n && st.dedup_hits == 0,
	      "keyed: %llu chunks, %llu hits", (unsigned long long)st.unique_chunks,
	      (unsigned long long)st.dedup_hits);
	verify_blocks(keyed, d, 0, n);
	check_consistent(keyed);

	/* The same blocks in a store without a key: they all collide. */
	plain->sp.hash_seed = 0;
	capped = write_forged(plain, d, n, per, &classes);
	ilio_core_get_stats(plain, &st);
	CHECK(classes == 1 && capped == n - per - 1 &&
	      st.dedup_candidates_capped == capped,
	      "unkeyed store: %llu hashes, capped %llu lookups, want %llu",
	      (unsigned long long)classes,
	      (unsigned long long)st.dedup_candidates_capped,
	      (unsigned long long)(n - per - 1));
	CHECK(st.unique_chunks == n && st.dedup_hits == 0,
	      "unkeyed: %llu chunks, %llu hits", (unsigned long long)st.unique_chunks,
	      (unsigned long long)st.dedup_hits);
	verify_blocks(plain, d, 0, n);
	check_consistent(plain);
	free(d);
	ilio_core_destroy(keyed);
	ilio_core_destroy(plain);
}

/*
 * Why the key alone is no defence: 16384 blocks forged at seed 0 that
 * differ only in their last two stripes fall into a handful of hash
 * values under any key (xxh64 is not a PRF).  The candidate bound still
 * holds every write to ILIO_DEDUP_BUDGET.
 */
static void t_forged_any_key(void)
{
	const u64 n = 16384, per = ILIO_DEDUP_BUDGET / ILIO_DEDUP_COST_CMP;
	struct ilio_core *ic = mk(n, 160 << 20, 1 << 20);
	u8 *d = forge_blocks(n, 0, false, FORGE_TAIL, 12);
	struct ilio_stats st;
	u64 capped, classes;

	if (!ic || !d)
		return;
	CHECK(ic->sp.hash_seed, "a store without a key");
	capped = write_forged(ic, d, n, per, &classes);
	ilio_core_get_stats(ic, &st);
	printf("  %llu blocks forged at seed 0: %llu hash values under the store's key\n",
	       (unsigned long long)n, (unsigned long long)classes);
	CHECK(classes <= 16 && capped >= n - 16 * (per + 1),
	      "%llu hash values, %llu capped: the tail forgery no longer shows the point",
	      (unsigned long long)classes, (unsigned long long)capped);
	CHECK(st.dedup_candidates_capped == capped, "capped %llu, want %llu",
	      (unsigned long long)st.dedup_candidates_capped,
	      (unsigned long long)capped);
	CHECK(st.unique_chunks == n && st.dedup_hits == 0, "%llu chunks, %llu hits",
	      (unsigned long long)st.unique_chunks, (unsigned long long)st.dedup_hits);
	verify_blocks(ic, d, 0, n);
	check_consistent(ic);
	free(d);
	ilio_core_destroy(ic);
}

/*
 * The key leaked: 16384 distinct blocks forged under the store's own key.
 * Raw ones cost each write at most ILIO_DEDUP_BUDGET compares, compressed
 * ones at most ILIO_DEDUP_BUDGET / ILIO_DEDUP_COST_DECODE decodes; every
 * write past the bound is counted in dedup_candidates_capped, every block
 * reads back, and a real duplicate of a recent block still shares.
 */
static void t_forged_leaked_key(void)
{
	const u64 n = 16384;
	const u64 per[2] = { ILIO_DEDUP_BUDGET / ILIO_DEDUP_COST_CMP,
			     ILIO_DEDUP_BUDGET / ILIO_DEDUP_COST_DECODE };
	struct ilio_stats st;
	int lz4;

	for (lz4 = 0; lz4 < 2; lz4++) {
		struct ilio_core *ic = mk(n + 1, 160 << 20, 1 << 20);
		u64 capped, classes;
		u8 *d;

		if (!ic)
			return;
		d = forge_blocks(n, ic->sp.hash_seed, lz4, FORGE_TAIL, 20 + lz4);
		if (!d)
			return;
		capped = write_forged(ic, d, n, per[lz4], &classes);
		ilio_core_get_stats(ic, &st);
		CHECK(classes == 1 && capped == n - per[lz4] - 1 &&
		      st.dedup_candidates_capped == capped,
		      "%s: %llu hashes, capped %llu writes, want %llu",
		      lz4 ? "lz4" : "raw", (unsigned long long)classes,
		      (unsigned long long)st.dedup_candidates_capped,
		      (unsigned long long)(n - per[lz4] - 1));
		CHECK(st.unique_chunks == n, "%s: %llu chunks for %llu blocks",
		      lz4 ? "lz4" : "raw", (unsigned long long)st.unique_chunks,
		      (unsigned long long)n);
		CHECK(st.stored_bytes < (lz4 ? n * BS * 3 / 4 : n * BS + 1),
		      "lz4 %d: stored %llu", lz4, (unsigned long long)st.stored_bytes);
		/* The newest chunk heads the chain: its duplicate still shares. */
		CHECK(ilio_core_write(ic, n, d + (n - 1) * BS, &ctx) == 0,
		      "write a duplicate");
		ilio_core_get_stats(ic, &st);
		CHECK(st.dedup_hits == 1 && st.unique_chunks == n,
		      "%s: a duplicate of the newest block: %llu hits, %llu chunks",
		      lz4 ? "lz4" : "raw", (unsigned long long)st.dedup_hits,
		      (unsigned long long)st.unique_chunks);
		verify_blocks(ic, d, 0, n);
		verify_blocks(ic, d + (n - 1) * BS, n, 1);
		check_consistent(ic);
		free(d);
		ilio_core_destroy(ic);
	}
}

struct worker_arg {
	struct ilio_core *ic;
	u64 base, n, seed;
	int fails;
};

static void *worker(void *p)
{
	struct worker_arg *a = p;
	struct ilio_ctx wctx;
	u8 buf[BS], got[BS];
	u64 s = a->seed, i;

	if (ilio_ctx_init(&wctx)) {
		a->fails++;
		return NULL;
	}
	for (i = 0; i < 20000; i++) {
		u64 r = ut_rand(&s), lba = a->base + r % a->n;
		/* Half shared content (same seeds in every thread). */
		u64 seed = (r >> 33) & 1 ? 1 + (r >> 40) % 32 : a->seed * 1000000 + i;

		content_for(buf, seed);
		if (ilio_core_write(a->ic, lba, buf, &wctx) ||
		    ilio_core_read(a->ic, lba, got) || memcmp(buf, got, BS))
			a->fails++;
		if ((r & 15) == 0)
			ilio_core_discard(a->ic, a->base + (r >> 8) % a->n);
	}
	ilio_ctx_exit(&wctx);
	return NULL;
}

/* Workers on disjoint LBA ranges, sharing content and segments. */
static void t_concurrency(void)
{
	struct ilio_core *ic = mk(4 * 1024, 24 << 20, 64 << 10);
	struct worker_arg a[4];
	pthread_t th[4];
	int i;

	if (!ic)
		return;
	for (i = 0; i < 4; i++) {
		a[i] = (struct worker_arg){ ic, (u64)i * 1024, 1024, (u64)i + 1, 0 };
		pthread_create(&th[i], NULL, worker, &a[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(a[i].fails == 0, "worker %d: %d failures", i, a[i].fails);
	}
	check_consistent(ic);
	ilio_core_destroy(ic);
}

/*
 * Content that names its block and version: @lba and @ver in the first 16
 * bytes, then either a compressible pattern (odd @ver: lz4) or noise (raw).
 */
static void versioned(u8 *buf, u64 lba, u64 ver)
{
	if (ver & 1)
		ut_fill_compressible(buf, BS, lba * 7919 + ver);
	else
		ut_fill_random(buf, BS, lba * 7919 + ver);
	memcpy(buf, &lba, 8);
	memcpy(buf + 8, &ver, 8);
}

struct shared_arg {
	struct ilio_core *ic;
	u64 n;
	u64 seed;
	int inline_reads;
	volatile int stop;
	volatile int done;
	int fails;
	u64 reads;
};

/* Read every block once, inline with a context, and check it. */
static void *shared_reader_once(void *p)
{
	struct shared_arg *a = p;
	struct ilio_ctx rctx;
	u8 want[BS], got[BS];
	u64 lba;

	if (ilio_ctx_init(&rctx)) {
		a->fails++;
		return NULL;
	}
	for (lba = 0; lba < a->n; lba++) {
		versioned(want, lba, lba + 1);
		if (ilio_core_read_nowait(a->ic, lba, got, &rctx) ||
		    memcmp(want, got, BS))
			a->fails++;
	}
	ilio_ctx_exit(&rctx);
	a->done = 1;
	return NULL;
}

static void *shared_writer_once(void *p)
{
	struct shared_arg *a = p;
	struct ilio_ctx wctx;
	u8 buf[BS];

	versioned(buf, 0, 1000);
	if (ilio_ctx_init(&wctx) || ilio_core_write(a->ic, 0, buf, &wctx))
		a->fails++;
	ilio_ctx_exit(&wctx);
	a->done = 1;
	return NULL;
}

/*
 * A reader under stress: whatever it reads must be a whole version of
 * that very block (or zeroes, after a discard): never another block's
 * chunk, never a torn or stale-segment copy.
 */
static void *shared_reader(void *p)
{
	struct shared_arg *a = p;
	struct ilio_ctx rctx;
	u8 want[BS], got[BS];
	u64 s = a->seed, lba, ver;
	int ret;

	if (ilio_ctx_init(&rctx)) {
		a->fails++;
		return NULL;
	}
	while (!a->stop) {
		lba = ut_rand(&s) % a->n;
		if (a->inline_reads) {
			ret = ilio_core_read_nowait(a->ic, lba, got, &rctx);
			if (ret == -EAGAIN)
				continue;
		} else {
			ret = ilio_core_read_ctx(a->ic, lba, got, &rctx);
		}
		a->reads++;
		memcpy(&ver, got + 8, 8);
		if (ret) {
			a->fails++;
			continue;
		}
		memset(want, 0, BS);
		if (ver || memcmp(got, want, BS))
			versioned(want, lba, ver);
		if (memcmp(got, want, BS)) {
			if (a->fails++ < 3)
				fprintf(stderr, "  lba %llu: read neither version %llu nor zeroes\n",
					(unsigned long long)lba, (unsigned long long)ver);
		}
	}
	ilio_ctx_exit(&rctx);
	return NULL;
}

/*
 * Readers hold the space lock shared: a read of a chunk in RAM proceeds
 * while another reader holds it, a write waits; and readers, a writer
 * rewriting and discarding blocks, and the compactor run together with
 * every read checked.
 */
static void t_shared_readers(void)
{
	const u64 n = 256;
	struct ilio_core *ic = mk(n, 2 << 20, 64 << 10);
	struct shared_arg r = { 0 }, w = { 0 }, sr[3];
	struct ilio_stats st;
	pthread_t th, rt[3];
	u64 lba, i, s = 42, *ver;
	u8 buf[BS];
	int k;

	if (!ic)
		return;
	ver = calloc(n, sizeof(*ver));
	for (lba = 0; lba < n; lba++) {
		ver[lba] = lba + 1;
		versioned(buf, lba, ver[lba]);
		CHECK(ilio_core_write(ic, lba, buf, &ctx) == 0, "write %llu",
		      (unsigned long long)lba);
	}

	/* Another reader holds the lock: reads from RAM still complete. */
	r.ic = ic;
	r.n = n;
	down_read(&ic->sp.lock);
	pthread_create(&th, NULL, shared_reader_once, &r);
	for (k = 0; k < 500 && !r.done; k++)
		usleep(10000);
	CHECK(r.done, "a read from RAM waited for another reader (lock not shared)");
	w.ic = ic;
	pthread_create(&rt[0], NULL, shared_writer_once, &w);
	usleep(100000);
	CHECK(!w.done, "a write ran while a reader held the space lock");
	up_read(&ic->sp.lock);
	pthread_join(th, NULL);
	pthread_join(rt[0], NULL);
	CHECK(r.fails == 0, "%d blocks read wrong beside a reader", r.fails);
	CHECK(w.done && w.fails == 0, "the write after the reader: %d", w.fails);
	ver[0] = 1000;

	/* Stress: three readers, a writer, discards and the compactor. */
	for (k = 0; k < 3; k++) {
		sr[k] = (struct shared_arg){ .ic = ic, .n = n, .seed = 7 + k,
					     .inline_reads = k != 2 };
		pthread_create(&rt[k], NULL, shared_reader, &sr[k]);
	}
	for (i = 0; i < 20000; i++) {
		u64 x = ut_rand(&s);

		lba = x % n;
		if ((x >> 20) % 16 == 0) {
			CHECK_QUIET(ilio_core_discard(ic, lba) == 0, w.fails,
				    "discard %llu", (unsigned long long)lba);
			ver[lba] = 0;
		} else {
			int ret;

			ver[lba] += 1;
			versioned(buf, lba, ver[lba]);
			ret = ilio_core_write(ic, lba, buf, &ctx);
			CHECK_QUIET(ret == 0, w.fails, "rewrite %llu: %d",
				    (unsigned long long)lba, ret);
		}
		if (i % 500 == 0)
			ilio_core_compact(ic, 2);
	}
	for (k = 0; k < 3; k++)
		sr[k].stop = 1;
	for (k = 0; k < 3; k++) {
		pthread_join(rt[k], NULL);
		CHECK(sr[k].fails == 0 && sr[k].reads > 100,
		      "reader %d: %d of %llu reads wrong", k, sr[k].fails,
		      (unsigned long long)sr[k].reads);
	}
	ilio_core_get_stats(ic, &st);
	CHECK(st.compactions > 0, "the compactor never moved a segment (%llu)",
	      (unsigned long long)st.compactions);
	for (lba = 0; lba < n; lba++) {
		u8 got[BS];

		if (ver[lba])
			versioned(buf, lba, ver[lba]);
		else
			memset(buf, 0, BS);
		CHECK_QUIET(ilio_core_read(ic, lba, got) == 0 && !memcmp(buf, got, BS),
			    w.fails, "final lba %llu", (unsigned long long)lba);
	}
	CHECK(w.fails == 0, "%d writer-side failures", w.fails);
	check_consistent(ic);
	free(ver);
	ilio_core_destroy(ic);
}

/*
 * The write order follows the recent share of dedup hits: unique blocks
 * compress first and take the space lock once each; duplicate-heavy
 * writes look up first (a second round trip only for a new chunk); dedup
 * off: once.  Every block reads back, and the hits are the same.
 */
static void t_write_order(void)
{
	struct ilio_core *ic = mk(4096, 32 << 20, 256 << 10);
	struct ilio_stats st;
	unsigned long before;
	int fails = 0;
	u8 buf[BS];
	u64 lba;

	if (!ic)
		return;
	before = ilio_shim_wlocks;
	for (lba = 0; lba < 1000; lba++) {
		content_for(buf, 2 * lba + 1);
		CHECK_QUIET(ilio_core_write(ic, lba, buf, &ctx) == 0, fails,
			    "unique %llu", (unsigned long long)lba);
	}
	CHECK(ilio_shim_wlocks - before <= 1000 + 5,
	      "1000 unique writes took the lock %lu times (one each expected)",
	      ilio_shim_wlocks - before);
	/*
	 * Duplicates of what is stored, all shared: a compressed candidate is
	 * decoded with the lock dropped, so two round trips each, no more.
	 */
	before = ilio_shim_wlocks;
	for (lba = 1000; lba < 2000; lba++) {
		content_for(buf, 2 * (lba - 1000) + 1);
		CHECK_QUIET(ilio_core_write(ic, lba, buf, &ctx) == 0, fails,
			    "dup %llu", (unsigned long long)lba);
	}
	ilio_core_get_stats(ic, &st);
	CHECK(st.dedup_hits == 1000 && st.unique_chunks == 1000,
	      "duplicates: %llu hits, %llu chunks", (unsigned long long)st.dedup_hits,
	      (unsigned long long)st.unique_chunks);
	CHECK(ilio_shim_wlocks - before <= 2000 + 5 + 1,
	      "1000 duplicate writes took the lock %lu times",
	      ilio_shim_wlocks - before);
	CHECK(ic->hit_avg >= ILIO_HIT_AVG_EARLY, "hit share %u after 1000 hits",
	      ic->hit_avg);
	/* Now new blocks among duplicates: looked up first, then stored. */
	before = ilio_shim_wlocks;
	for (lba = 2000; lba < 2010; lba++) {
		content_for(buf, 100000 + 2 * lba + 1);
		CHECK(ilio_core_write(ic, lba, buf, &ctx) == 0, "new %llu",
		      (unsigned long long)lba);
	}
	CHECK(ilio_shim_wlocks - before >= 11 && ilio_shim_wlocks - before <= 20 + 1,
	      "10 new blocks after many hits: %lu round trips (2 each expected at first)",
	      ilio_shim_wlocks - before);
	/* Dedup off: one round trip whatever the history. */
	ilio_core_set_policy(ic, false, true);
	before = ilio_shim_wlocks;
	for (lba = 2010; lba < 2110; lba++) {
		content_for(buf, 200000 + 2 * lba + 1);
		CHECK_QUIET(ilio_core_write(ic, lba, buf, &ctx) == 0, fails,
			    "nodedup %llu", (unsigned long long)lba);
	}
	CHECK(ilio_shim_wlocks - before <= 100 + 1 + 1,
	      "100 writes with dedup off took the lock %lu times",
	      ilio_shim_wlocks - before);
	for (lba = 0; lba < 2110; lba++) {
		u8 got[BS];
		u64 seed = lba < 1000 ? 2 * lba + 1 : lba < 2000 ? 2 * (lba - 1000) + 1 :
			   lba < 2010 ? 100000 + 2 * lba + 1 : 200000 + 2 * lba + 1;

		content_for(buf, seed);
		CHECK_QUIET(ilio_core_read(ic, lba, got) == 0 && !memcmp(buf, got, BS),
			    fails, "read back %llu", (unsigned long long)lba);
	}
	CHECK(fails == 0, "%d writes or reads failed", fails);
	check_consistent(ic);
	ilio_core_destroy(ic);
}

/* The metadata budget: at most 32 bytes per unique chunk, 8 per LBA. */
static void t_memory_budget(void)
{
	const u64 n = 1 << 18;	/* 1 GiB logical, 256 Ki unique chunks */
	struct ilio_core *ic = mk(n, 1280ULL << 20, 1 << 20);
	double per_chunk, per_lba;
	u8 buf[BS];
	u64 lba;

	if (!ic)
		return;
	for (lba = 0; lba < n; lba++) {
		ut_fill_compressible(buf, BS, lba + 1);
		if (ilio_core_write(ic, lba, buf, &ctx))
			break;
	}
	CHECK(lba == n, "stopped at %llu", (unsigned long long)lba);
	down_write(&ic->sp.lock);
	per_chunk = (double)ilio_chunks_mem_bytes(&ic->sp.chunks) / ic->sp.chunks.nr_live;
	per_lba = (double)ilio_lbamap_mem_bytes(&ic->sp.map) / ic->sp.map.mapped;
	up_write(&ic->sp.lock);
	printf("  metadata: %.2f bytes per unique chunk, %.2f per mapped LBA\n",
	       per_chunk, per_lba);
	CHECK(per_chunk <= 32.0, "%.2f bytes per chunk", per_chunk);
	CHECK(per_lba <= 8.0, "%.2f bytes per LBA", per_lba);
	ilio_core_destroy(ic);
}

/* The budget can grow, and shrink down to what is in use. */
static void t_ram_limit(void)
{
	struct ilio_core *ic = mk(4096, 4 << 20, 256 << 10);
	struct ilio_stats st;
	u64 lba = 0;
	u8 buf[BS];
	int ret;

	if (!ic)
		return;
	do {
		content_for(buf, 2 * lba + 2);
		ret = ilio_core_write(ic, lba++, buf, &ctx);
	} while (!ret && lba < 4096);
	CHECK(ret == -ENOSPC, "4 MiB never filled: %d", ret);
	ilio_core_get_stats(ic, &st);
	CHECK(ilio_core_set_ram_limit(ic, st.ram_used_bytes - 1) == -ENOSPC,
	      "shrank below what is in use");
	CHECK(ilio_core_set_ram_limit(ic, 8 << 20) == 0, "grow");
	content_for(buf, 2 * lba + 2);
	CHECK(ilio_core_write(ic, lba, buf, &ctx) == 0, "write after growing");
	ilio_core_get_stats(ic, &st);
	CHECK(st.ram_limit_bytes == 8 << 20, "limit %llu",
	      (unsigned long long)st.ram_limit_bytes);
	CHECK(ilio_core_set_ram_limit(ic, st.ram_used_bytes) == 0,
	      "shrink to exactly what is used");
	check_consistent(ic);
	ilio_core_destroy(ic);
}

/*
 * Modes (arch #8 item 3): a record that does not parse in a RAM segment
 * is RAM corruption.  The compactor that finds it logs where, and puts the
 * device into fail mode - one line naming the device, sticky - and from then on
 * every read and write fails with -EIO, never with data.
 */
static void t_fail_mode(void)
{
	struct ilio_core_params p = {
		.name = "dm-test", .nr_blocks = 4096, .ram_limit = 8 << 20,
		.seg_bytes = 256 << 10, .dedup = true, .compress = false,
	};
	struct ilio_core *ic;
	unsigned long logs;
	u32 i, n = 0;
	u8 buf[BS];
	int err = 0;

	ic = ilio_core_create(&p, &err);
	CHECK(ic, "create: %d", err);
	if (!ic)
		return;
	CHECK(ilio_core_mode(ic) == ILIO_MODE_WRITE, "a new store is in write mode");
	for (i = 0; i < 1024; i++) {
		ut_fill_random(buf, BS, 7000 + i);
		CHECK_QUIET(!ilio_core_write(ic, i, buf, &ctx), n, "write %u", i);
	}
	for (i = 0; i < 1024; i += 2)
		ilio_core_discard(ic, i);
	/* Rot the first record header of every sealed segment. */
	down_write(&ic->sp.lock);
	for (i = 0; i < ic->sp.segs.nr_segs; i++) {
		struct ilio_seg *sg = &ic->sp.segs.segs[i];

		if (sg->state == ILIO_SEG_SEALED && sg->data)
			memset(sg->data, 0, sizeof(struct ilio_chunk_hdr));
	}
	up_write(&ic->sp.lock);
	logs = ilio_shim_nr_log;
	ilio_core_compact(ic, 1);
	CHECK(ilio_core_mode(ic) == ILIO_MODE_FAIL, "corrupt record: fail mode, not %d",
	      ilio_core_mode(ic));
	CHECK(ilio_shim_nr_log == logs + 2 &&
	      strstr(ilio_shim_last_log, "ilio: dm-test: ") &&
	      strstr(ilio_shim_last_log, "fail mode"),
	      "one log line naming the device: %lu, '%s'", ilio_shim_nr_log - logs,
	      ilio_shim_last_log);
	CHECK(ilio_core_read(ic, 1, buf) == -EIO, "fail mode: reads fail");
	CHECK(ilio_core_read_nowait(ic, 1, buf, &ctx) == -EIO, "fail mode: inline reads fail");
	CHECK(ilio_core_write_nowait(ic, 1, buf, &ctx) == -EIO, "fail mode: inline writes fail");
	CHECK(ilio_core_discard_nowait(ic, 1) == -EIO, "fail mode: inline discards fail");
	CHECK(ilio_core_write(ic, 1, buf, &ctx) == -EIO, "fail mode: writes fail");
	CHECK(ilio_core_discard(ic, 1) == -EIO, "fail mode: discards fail");
	CHECK(ilio_core_flush(ic) == -EIO, "fail mode: flushes fail");
	CHECK(ilio_core_compact(ic, 4) == 0, "fail mode: no compaction");
	CHECK(!ilio_core_set_mode(ic, ILIO_MODE_READ_ONLY, "test", 0) &&
	      ilio_core_mode(ic) == ILIO_MODE_FAIL && ilio_shim_nr_log == logs + 2,
	      "sticky, and logged once");
	ilio_core_destroy(ic);
}

static const struct ut_case cases[] = {
	{ "ram_limit", t_ram_limit },
	{ "hash_and_zero", t_hash_and_zero },
	{ "lz4_roundtrip", t_lz4_roundtrip },
	{ "lz4_independent", t_lz4_independent },
	{ "basic_rw", t_basic_rw },
	{ "grow", t_grow },
	{ "dedup_refcount", t_dedup_refcount },
	{ "zero_blocks", t_zero_blocks },
	{ "policy", t_policy },
	{ "bad_params", t_bad_params },
	{ "collisions", t_collisions },
	{ "forged_unkeyed", t_forged_unkeyed },
	{ "forged_any_key", t_forged_any_key },
	{ "forged_leaked_key", t_forged_leaked_key },
	{ "random_model", t_random_model },
	{ "enospc", t_enospc },
	{ "alloc_failures", t_alloc_failures },
	{ "transient_enomem", t_transient_enomem },
	{ "concurrency", t_concurrency },
	{ "shared_readers", t_shared_readers },
	{ "write_order", t_write_order },
	{ "memory_budget", t_memory_budget },
	{ "fail_mode", t_fail_mode },
};

int main(int argc, char **argv)
{
	int ret;

	if (ilio_ctx_init(&ctx)) {
		fprintf(stderr, "cannot allocate a context\n");
		return 1;
	}
	ret = ut_run(cases, ARRAY_SIZE(cases), argc, argv);
	ilio_ctx_exit(&ctx);
	return ret;
}
