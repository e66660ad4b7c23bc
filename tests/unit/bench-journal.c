// SPDX-License-Identifier: GPL-2.0
/*
 * bench-journal: what fsync every N writes costs the backing LUN, with and
 * without an NV journal (userspace build of the core over in-memory
 * devices that count their I/O; the figures are I/O counts and sizes, not
 * latency).  For N = 1, 4, 16, 64: 8192 new 4 KiB blocks (about half
 * compressible), a flush after every N, through a fresh store; then the
 * LUN's writes (count, average size), its flushes, and the journal's
 * writes (count, bytes per flush).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ut.h"
#include "ilio-core.h"
#include "ilio-meta.h"

unsigned long ut_passed, ut_failed;
const char *ut_current = "bench";

#define LUN_BYTES	(256ULL << 20)
#define J_BYTES		(64ULL << 20)
#define WRITES		8192U

struct cdev {
	u8 *img;
	u64 size;
	unsigned long writes, flushes;
	u64 bytes;
};

static int c_read(void *priv, u64 pos, void *buf, u32 len)
{
	struct cdev *d = priv;

	if (pos + len > d->size)
		return -EIO;
	memcpy(buf, d->img + pos, len);
	return 0;
}

static int c_write(void *priv, u64 pos, const void *buf, u32 len)
{
	struct cdev *d = priv;

	if (pos + len > d->size)
		return -EIO;
	memcpy(d->img + pos, buf, len);
	d->writes++;
	d->bytes += len;
	return 0;
}

static int c_flush(void *priv)
{
	struct cdev *d = priv;

	d->flushes++;
	return 0;
}

static const struct ilio_backend_ops c_ops = {
	.read = c_read, .write = c_write, .flush = c_flush,
};

static int run(struct ilio_ctx *ctx, unsigned int every, bool journal)
{
	struct ilio_anchor_info a = { .seq = 1, .epoch = 99, .log_seq = 1 };
	struct cdev lun = { .size = LUN_BYTES }, jd = { .size = J_BYTES };
	struct ilio_core_params p = {
		.nr_blocks = 1 << 16, .ram_limit = 256ULL << 20, .seg_bytes = 1 << 20,
		.dedup = true, .compress = true, .store = &ilio_log_store,
		.bops = &c_ops, .bpriv = &lun, .dev_bytes = LUN_BYTES,
		.coalesce = ILIO_COALESCE_AUTO, .flush_interval_ms = 1000,
		.max_dirty = 64 << 20, .jops = journal ? &c_ops : NULL,
		.jpriv = &jd, .jdev_bytes = J_BYTES,
	};
	struct ilio_jsb_info j = { .seq = 1, .bind_gen = 1, .tail_seq = 1,
				   .ring_blocks = J_BYTES / 4096 - ILIO_JRING_START };
	unsigned long lw, lf, jw, flushes = 0;
	struct ilio_core *ic;
	struct ilio_geom g;
	const char *why;
	u64 lb, jb, i;
	u8 blk[4096];
	int err;

	lun.img = calloc(1, LUN_BYTES);
	jd.img = calloc(1, J_BYTES);
	ilio_geom_compute(&g, LUN_BYTES, 1 << 20, &why);
	memset(g.uuid, 1, 16);
	g.journal_gen = journal;
	ilio_sb_build(lun.img, &g, 0);
	ilio_sb_build(lun.img + 4096, &g, 1);
	ilio_anchor_build(lun.img + 8192, &g, 2, &a);
	memcpy(j.uuid, g.uuid, 16);
	ilio_jsb_build(jd.img, 0, &j);
	ic = ilio_core_open(&p, &err, &why);
	if (!ic) {
		fprintf(stderr, "open: %s\n", why);
		return 1;
	}
	lw = lun.writes;
	lb = lun.bytes;
	lf = lun.flushes;
	jw = jd.writes;
	jb = jd.bytes;
	for (i = 0; i < WRITES; i++) {
		ut_fill_compressible(blk, 4096, i + 1);
		if (ilio_core_write(ic, i, blk, ctx))
			return 1;
		if ((i + 1) % every == 0) {
			if (ilio_core_flush(ic))
				return 1;
			flushes++;
		}
	}
	lw = lun.writes - lw;
	lb = lun.bytes - lb;
	lf = lun.flushes - lf;
	jw = jd.writes - jw;
	jb = jd.bytes - jb;
	printf("%-6u %-8s %7u %7lu %9lu %9.1f %8lu %8lu %9.1f\n", every,
	       journal ? "journal" : "none", WRITES, flushes, lw,
	       lw ? lb / 1024.0 / lw : 0.0, lf, jw,
	       flushes ? jb / 1024.0 / flushes : 0.0);
	ilio_core_destroy(ic);
	free(lun.img);
	free(jd.img);
	return 0;
}

int main(void)
{
	static const unsigned int every[] = { 1, 4, 16, 64 };
	struct ilio_ctx ctx;
	unsigned int k;

	if (ilio_ctx_init(&ctx))
		return 1;
	printf("fsync every N 4 KiB writes (LUN writes/flushes; journal KiB per flush)\n");
	printf("%-6s %-8s %7s %7s %9s %9s %8s %8s %9s\n", "N", "journal", "writes",
	       "flushes", "lun-wr", "lun-KiB", "lun-fl", "j-wr", "j-KiB/fl");
	for (k = 0; k < ARRAY_SIZE(every); k++)
		if (run(&ctx, every[k], false) || run(&ctx, every[k], true))
			return 1;
	ilio_ctx_exit(&ctx);
	return 0;
}
