// SPDX-License-Identifier: GPL-2.0
/*
 * bench-plog: how recovery time grows with the metadata of a persistent
 * store (userspace build of the core, in-memory backing device, so the
 * figures are CPU cost: replay, derivation and checksums, not I/O).
 *
 * For each size: map N logical blocks (64 distinct contents, so the
 * metadata is mostly LBA map), write a checkpoint, write N/8 more blocks
 * (the log since the checkpoint), then "crash" (free the core without
 * write-back after a flush) and time ilio_core_open().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ut.h"
#include "ilio-core.h"
#include "ilio-meta.h"

unsigned long ut_passed, ut_failed;
const char *ut_current = "bench";

static u8 *img;
static u64 img_bytes;

static int b_read(void *priv, u64 pos, void *buf, u32 len)
{
	if (pos + len > img_bytes)
		return -EIO;
	memcpy(buf, img + pos, len);
	return 0;
}

static int b_write(void *priv, u64 pos, const void *buf, u32 len)
{
	if (pos + len > img_bytes)
		return -EIO;
	memcpy(img + pos, buf, len);
	return 0;
}

static int b_flush(void *priv)
{
	return 0;
}

static const struct ilio_backend_ops ops = {
	.read = b_read, .write = b_write, .flush = b_flush,
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	static const u64 sizes[] = { 1 << 18, 1 << 20, 1 << 22 };
	struct ilio_ctx ctx;
	unsigned int k;

	if (ilio_ctx_init(&ctx))
		return 1;
	printf("%-14s %-12s %-12s %-10s %-10s\n", "logical", "metadata", "log-since", "open(s)",
	       "ms/MiB-meta");
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		u64 n = sizes[k], lba;
		struct ilio_core_params p = {
			.nr_blocks = n, .ram_limit = 1ULL << 30, .seg_bytes = 1 << 20,
			.dedup = true, .compress = true, .store = &ilio_log_store, .bops = &ops, .dev_bytes = 0,
			.coalesce = ILIO_COALESCE_ALWAYS, .flush_interval_ms = 1000,
			.max_dirty = 64 << 20,
		};
		struct ilio_anchor_info a = { .seq = 1, .epoch = 99, .log_seq = 1 };
		struct ilio_stats st;
		struct ilio_geom g;
		struct ilio_core *ic;
		const char *why;
		u8 blk[4096];
		double t;
		int err;

		img_bytes = 256ULL << 20;
		img = calloc(1, img_bytes);
		p.dev_bytes = img_bytes;
		ilio_geom_compute(&g, img_bytes, 1 << 20, &why);
		memset(g.uuid, 1, 16);
		ilio_sb_build(img, &g, 0);
		ilio_sb_build(img + 4096, &g, 1);
		ilio_anchor_build(img + 8192, &g, 2, &a);
		ic = ilio_core_open(&p, &err, &why);
		if (!ic) {
			fprintf(stderr, "open: %s\n", why);
			return 1;
		}
		for (lba = 0; lba < n + n / 8; lba++) {
			ut_fill_random(blk, 4096, lba % 64 + 1);
			if (ilio_core_write(ic, lba % n, blk, &ctx))
				return 1;
			if (lba == n - 1)
				ilio_core_checkpoint(ic);
		}
		ilio_core_flush(ic);
		ilio_core_get_stats(ic, &st);
		ilio_core_destroy(ic);
		t = now();
		ic = ilio_core_open(&p, &err, &why);
		t = now() - t;
		if (!ic) {
			fprintf(stderr, "reopen: %s\n", why);
			return 1;
		}
		printf("%-10llu MiB %-8.1f MiB %-8.1f MiB %-10.3f %-10.2f\n",
		       (unsigned long long)(n >> 8), st.meta_bytes / 1048576.0,
		       n / 8 * 16 / 1048576.0, t, t * 1000 / (st.meta_bytes / 1048576.0));
		ilio_core_destroy(ic);
		free(img);
	}
	ilio_ctx_exit(&ctx);
	return 0;
}
