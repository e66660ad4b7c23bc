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
 *
 * Then write-back in flight: the same device with a fixed service time
 * per write (a backend that completes each write DEV_LAT_US after its
 * submission, however many are in flight, from a completion thread),
 * written with the synchronous write op (one in flight) and with
 * write_async; prints the write-back throughput and the most writes the
 * store kept in flight.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include "ut.h"
#include "ilio-core.h"
#include "ilio-meta.h"
#include "ilio-plog.h"

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

/* A device that takes DEV_LAT_US per write, with any number in flight. */
#define DEV_LAT_US	10000
#define DEV_QMAX	64

static struct {
	pthread_mutex_t m;
	pthread_cond_t c;
	struct lreq {
		double due;
		u64 pos;
		u32 len;
		const void *buf;
		struct ilio_backend_io *io;
	} q[DEV_QMAX];
	unsigned int head, n;
	bool stop;
} ld = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };

static int l_write(void *priv, u64 pos, const void *buf, u32 len)
{
	usleep(DEV_LAT_US);
	return b_write(priv, pos, buf, len);
}

static void l_write_async(void *priv, u64 pos, const void *buf, u32 len,
			  struct ilio_backend_io *io)
{
	pthread_mutex_lock(&ld.m);
	if (ld.n == DEV_QMAX)
		abort();
	ld.q[(ld.head + ld.n++) % DEV_QMAX] = (struct lreq){
		now() + DEV_LAT_US / 1e6, pos, len, buf, io };
	pthread_cond_signal(&ld.c);
	pthread_mutex_unlock(&ld.m);
}

/* Completes the queued writes in order, each at its due time. */
static void *l_thread(void *arg)
{
	pthread_mutex_lock(&ld.m);
	while (!ld.stop) {
		struct lreq r;
		double wait;

		if (!ld.n) {
			pthread_cond_wait(&ld.c, &ld.m);
			continue;
		}
		r = ld.q[ld.head];
		wait = r.due - now();
		if (wait > 0) {
			pthread_mutex_unlock(&ld.m);
			usleep((useconds_t)(wait * 1e6));
			pthread_mutex_lock(&ld.m);
		}
		ld.head = (ld.head + 1) % DEV_QMAX;
		ld.n--;
		pthread_mutex_unlock(&ld.m);
		r.io->done(r.io, b_write(NULL, r.pos, r.buf, r.len));
		pthread_mutex_lock(&ld.m);
	}
	pthread_mutex_unlock(&ld.m);
	return NULL;
}

/* Background write-back "later": here, at the flush. */
static void l_kick(void *priv)
{
}

static const struct ilio_backend_ops l_ops_sync = {
	.read = b_read, .write = l_write, .flush = b_flush, .kick = l_kick,
};

static const struct ilio_backend_ops l_ops_async = {
	.read = b_read, .write = b_write, .write_async = l_write_async,
	.flush = b_flush, .kick = l_kick,
};

/*
 * Write 64 MiB of unique blocks (kept in RAM: max_dirty above it), then
 * time the flush: write-back of 64 segments.
 */
static int bench_writeback(struct ilio_ctx *ctx)
{
	static const struct ilio_backend_ops *const ops_of[] = {
		&l_ops_sync, &l_ops_async };
	static const char *const name[] = { "sync write", "write_async" };
	const u64 n = 16384;	/* 64 MiB of 4 KiB blocks */
	pthread_t th;
	unsigned int k;

	pthread_create(&th, NULL, l_thread, NULL);
	printf("\nwrite-back of %llu MiB in 1 MiB segments, device %u us per write\n",
	       (unsigned long long)(n >> 8), DEV_LAT_US);
	printf("%-14s %-10s %-10s %-12s %-10s\n", "backend op", "flush(s)", "MiB/s",
	       "segments", "in flight");
	for (k = 0; k < ARRAY_SIZE(ops_of); k++) {
		struct ilio_core_params p = {
			.nr_blocks = n, .ram_limit = 1ULL << 30, .seg_bytes = 1 << 20,
			.dedup = false, .compress = false, .store = &ilio_log_store,
			.bops = ops_of[k], .coalesce = ILIO_COALESCE_ALWAYS,
			.flush_interval_ms = 100000, .max_dirty = 512ULL << 20,
		};
		struct ilio_anchor_info a = { .seq = 1, .epoch = 99, .log_seq = 1 };
		struct ilio_stats st0, st;
		struct ilio_geom g;
		struct ilio_core *ic;
		const char *why;
		u8 blk[4096];
		double t;
		u64 lba;
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
		for (lba = 0; lba < n; lba++) {
			ut_fill_random(blk, 4096, lba + 1);
			if (ilio_core_write(ic, lba, blk, ctx))
				return 1;
		}
		ilio_core_get_stats(ic, &st0);
		t = now();
		if (ilio_core_flush(ic))
			return 1;
		t = now() - t;
		ilio_core_get_stats(ic, &st);
		printf("%-14s %-10.3f %-10.1f %-12llu %-10u\n", name[k], t,
		       (st.backend_write_bytes - st0.backend_write_bytes) / 1048576.0 / t,
		       (unsigned long long)(st.backend_write_ios - st0.backend_write_ios),
		       ilio_plog_of(ic->store)->wb_peak);
		ilio_core_destroy(ic);
		free(img);
	}
	pthread_mutex_lock(&ld.m);
	ld.stop = true;
	pthread_cond_signal(&ld.c);
	pthread_mutex_unlock(&ld.m);
	pthread_join(th, NULL);
	return 0;
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
	if (bench_writeback(&ctx))
		return 1;
	ilio_ctx_exit(&ctx);
	return 0;
}
