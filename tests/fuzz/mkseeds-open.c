// SPDX-License-Identifier: GPL-2.0
/*
 * mkseeds-open: build the seed corpus for fuzz-open with the core itself,
 * and on the way prove that those images recover correctly.
 *
 * Each scenario formats an in-memory device (the layout ilioctl format
 * writes, built with ilio-meta's builders), opens it read-write, writes
 * (unique, duplicate, zero and compressible blocks; overwrites; discards),
 * flushes, sometimes checkpoints, and then either crashes
 * (ilio_core_destroy: no I/O) or closes.  The image is then opened
 * read-only: every LBA must read back exactly what it held at the last
 * flush (a crash may lose only what no flush covered; the tests write
 * nothing after the last flush, so the model is exact), ilio_core_check()
 * must pass and nothing may be written.  The image is saved as a seed.
 *
 * Usage: mkseeds-open OUTDIR       exit 1 if any image does not recover
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kernel.h>

#include "ilio-core.h"
#include "ilio-meta.h"
#include "membe.h"
#include "fuzzimg.h"

#define BS ILIO_BLOCK_SIZE

static struct ilio_ctx ctx;
static int failures;

static void bad(const char *scn, const char *what, long long a, const char *why)
{
	if (failures++ > 5)
		return;		/* the first few say enough */
	fprintf(stderr, "mkseeds-open: %s: %s (%lld)%s%s\n", scn, what, a,
		why ? ": " : "", why ? why : "");
}

/* Content of generation @gen of @lba; gen 0 = never written (zeros). */
static void content(u8 *b, u64 lba, u32 gen)
{
	u64 x = lba * 0x9e3779b97f4a7c15ULL ^ gen * 0xbf58476d1ce4e5b9ULL;
	u32 i, kind = gen ? (u32)(x >> 60) % 4 : 0;

	memset(b, 0, BS);
	if (!gen)
		return;
	switch (kind) {
	case 0:		/* duplicate: one of 4 shared blocks */
		memset(b, 0x40 + (int)(x % 4), BS);
		b[0] = 1;
		break;
	case 1:		/* compressible */
		for (i = 0; i < BS / 2; i += 8)
			memcpy(b + i, &x, 8);
		memcpy(b, &lba, 8);
		break;
	default:	/* incompressible */
		for (i = 0; i < BS; i += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(b + i, &x, 8);
		}
		memcpy(b, &lba, 8);
		memcpy(b + 8, &gen, 4);
		break;
	}
}

static void format(u8 *img)
{
	struct ilio_geom g;
	struct ilio_anchor_info a = {
		.seq = 1, .epoch = 0x1234567890abcdefULL, .log_seq = 1,
	};
	const char *why = NULL;

	memset(img, 0, FUZZ_IMG_BYTES);
	if (ilio_geom_compute(&g, FUZZ_IMG_BYTES, FUZZ_SEG_BYTES, &why)) {
		fprintf(stderr, "mkseeds-open: geometry: %s\n", why);
		exit(1);
	}
	memset(g.uuid, 0xa5, sizeof(g.uuid));
	ilio_sb_build(img + ILIO_SB_BLOCK * BS, &g, ILIO_SB_BLOCK);
	ilio_sb_build(img + (ILIO_SB_BLOCK + 1) * BS, &g, ILIO_SB_BLOCK + 1);
	ilio_anchor_build(img + ILIO_ANCHOR_BLOCK * BS, &g, ILIO_ANCHOR_BLOCK, &a);
}

static struct ilio_core *open_img(struct membe *m, u8 *img, bool ro,
				  const char *scn)
{
	struct ilio_core_params p = {
		.nr_blocks = FUZZ_NR_BLOCKS,
		.ram_limit = FUZZ_RAM,
		.dedup = true,
		.compress = true,
		.store = &ilio_log_store, .bops = &membe_ops,
		.dev_bytes = FUZZ_IMG_BYTES,
		.coalesce = ILIO_COALESCE_AUTO,
		.flush_interval_ms = 1000,
		.max_dirty = FUZZ_MAX_DIRTY,
		.read_only = ro,
	};
	struct ilio_core *ic;
	const char *why = NULL;
	int err = 0;

	memset(m, 0, sizeof(*m));
	m->img = img;
	m->size = FUZZ_IMG_BYTES;
	m->read_only = ro;
	p.bpriv = m;
	ic = ilio_core_open(&p, &err, &why);
	if (!ic)
		bad(scn, ro ? "read-only open failed" : "open failed", err, why);
	return ic;
}

struct scenario {
	const char *name;
	u32 lbas;	/* LBAs touched */
	u32 rounds;	/* overwrite rounds */
	u32 flush_every;	/* writes between flushes (0: only at the end) */
	bool ckpt_mid;	/* checkpoint after the first round */
	bool discard;	/* discard some LBAs each round */
	bool close;	/* close cleanly instead of crashing */
};

static const struct scenario scenarios[] = {
	{ "fresh", 0, 0, 0, false, false, true },
	{ "crash-small", 64, 1, 0, false, false, false },
	{ "crash-ckpt", 200, 3, 50, true, true, false },
	{ "clean-ckpt", 200, 3, 50, true, true, true },
	{ "crash-gc", 256, 12, 64, true, false, false },
	{ "clean-gc", 256, 12, 64, false, true, true },
};

static void run(const struct scenario *s, u8 *img, u32 *gen, const char *dir)
{
	int before = failures;
	static u8 buf[BS], want[BS];
	struct ilio_core *ic;
	struct membe m;
	u32 r, i, n = 0;
	char path[4096];
	char why[256] = "";
	FILE *f;
	int ret;

	format(img);
	memset(gen, 0, FUZZ_NR_BLOCKS * sizeof(*gen));
	ic = open_img(&m, img, false, s->name);
	if (!ic)
		return;
	for (r = 0; r < s->rounds; r++) {
		for (i = 0; i < s->lbas; i++) {
			u64 lba = (u64)i * 7 % FUZZ_NR_BLOCKS;

			if (s->discard && i % 17 == r % 17) {
				ret = ilio_core_discard(ic, lba);
				if (ret)
					bad(s->name, "discard failed", ret, NULL);
				else
					gen[lba] = 0;
			} else {
				content(buf, lba, r + 1);
				ret = ilio_core_write(ic, lba, buf, &ctx);
				if (ret)
					bad(s->name, "write failed", r * s->lbas + i, NULL);
				else
					gen[lba] = r + 1;
			}
			/* What the glue's timer does: writeback, GC, checkpoints. */
			if (++n % 16 == 0)
				ilio_core_tick(ic);
			if (s->flush_every && n % s->flush_every == 0) {
				ret = ilio_core_flush(ic);
				if (ret)
					bad(s->name, "flush failed", ret, NULL);
			}
		}
		if (r == 0 && s->ckpt_mid) {
			ret = ilio_core_checkpoint(ic);
			if (ret)
				bad(s->name, "checkpoint failed", ret, NULL);
		}
	}
	ret = ilio_core_flush(ic);
	if (ret)
		bad(s->name, "final flush failed", ret, NULL);
	if (s->close)
		ilio_core_close(ic);
	else
		ilio_core_destroy(ic);	/* crash: RAM lost, no I/O */

	/* Recover read-only and compare with the model at the last flush. */
	ic = open_img(&m, img, true, s->name);
	if (!ic)
		return;
	for (i = 0; i < FUZZ_NR_BLOCKS; i++) {
		content(want, i, gen[i]);
		ret = ilio_core_read(ic, i, buf);
		if (ret || memcmp(buf, want, BS)) {
			bad(s->name, "after recovery an LBA differs from the last flush", i, NULL);
			break;
		}
	}
	ret = ilio_core_check(ic, why, sizeof(why));
	if (ret)
		bad(s->name, "recovered store fails ilio_core_check", ret, why);
	ilio_core_destroy(ic);
	if (m.writes)
		bad(s->name, "read-only open wrote", (long long)m.writes, NULL);

	snprintf(path, sizeof(path), "%s/open-%s", dir, s->name);
	f = fopen(path, "wb");
	if (!f || fuzzimg_encode(f, img, 0) || fclose(f)) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/open-%s-rw", dir, s->name);
	f = fopen(path, "wb");
	if (!f || fuzzimg_encode(f, img, FUZZ_MODE_RW) || fclose(f)) {
		perror(path);
		exit(1);
	}
	/*
	 * And structure-aware mutations of it (fuzzimg_mutate()): ids,
	 * indexes and counts at their bounds behind a valid checksum, so
	 * that even a short run starts at the semantic checks.
	 */
	for (r = 0; r < 6; r++) {
		static u8 mut[FUZZ_IMG_BYTES];

		memcpy(mut, img, FUZZ_IMG_BYTES);
		if (!fuzzimg_mutate(mut, (u64)(s - scenarios) * 1000 + r))
			continue;
		snprintf(path, sizeof(path), "%s/open-%s-mut%u", dir, s->name, r);
		f = fopen(path, "wb");
		if (!f || fuzzimg_encode(f, mut, r & 1 ? FUZZ_MODE_RW : 0) || fclose(f)) {
			perror(path);
			exit(1);
		}
	}
	/* And with an allocation failure at a few points of the open. */
	for (r = 0; r < 64; r += 21) {
		snprintf(path, sizeof(path), "%s/open-%s-enomem%u", dir, s->name, r);
		f = fopen(path, "wb");
		if (!f || fuzzimg_encode(f, img, FUZZ_MODE_ENOMEM | r << 2) || fclose(f)) {
			perror(path);
			exit(1);
		}
	}
	printf("mkseeds-open: %s: %s, saved\n", s->name,
	       failures == before ? "recovered exactly" : "FAILED");
}

int main(int argc, char **argv)
{
	u8 *img = malloc(FUZZ_IMG_BYTES);
	u32 *gen = calloc(FUZZ_NR_BLOCKS, sizeof(*gen));
	size_t i;
	int bad_scn = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds-open OUTDIR\n");
		return 2;
	}
	if (!img || !gen || ilio_ctx_init(&ctx))
		return 1;
	for (i = 0; i < ARRAY_SIZE(scenarios); i++) {
		int before = failures;

		run(&scenarios[i], img, gen, argv[1]);
		bad_scn += failures != before;
	}
	ilio_ctx_exit(&ctx);
	free(img);
	free(gen);
	printf("mkseeds-open: %d passed, %d failed\n", (int)ARRAY_SIZE(scenarios) - bad_scn,
	       bad_scn);
	return bad_scn ? 1 : 0;
}
