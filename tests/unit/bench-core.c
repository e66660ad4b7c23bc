// SPDX-License-Identifier: GPL-2.0
/*
 * bench-core: what the portable core costs in CPU and in metadata RAM,
 * measured natively on the module's own ilio-*.c files (built against
 * tests/shim, -O2, no sanitizers).  A benchmark reports; it never fails:
 * the exit code is 0 unless something crashes or a store call errors.
 *
 * What is measured, per 4 KiB block, single-threaded, best of 3 runs on a
 * fresh core each time (CLOCK_MONOTONIC):
 *
 *   write  ilio_core_write_nowait() (what the dm map function calls) of N blocks to LBAs 0..N-1, against the raw
 *          work a dedup+compress store cannot avoid on the same blocks:
 *          ilio_hash_block() (xxh64) + ilio_compress_block() (lz4).  The
 *          ratio core/raw is the overhead of the map, index, verify, locks
 *          and segment append (target <= 1.3x).  lz4 alone is shown too:
 *          that is about what zram pays per page.
 *   read   ilio_core_read_nowait() with a context, likewise, of the same N LBAs, against decoding the same
 *          payloads from a flat array: LZ4_decompress_safe() for blocks
 *          lz4 shrank, memcpy() for blocks stored raw.
 *
 * Data sets: "unique" (random, incompressible), "comp50" (each block half
 * random, half zero: fio's buffer_compress_percentage=50 with
 * buffer_compress_chunk=4k), "dup80" (80% of the blocks repeat an earlier
 * random block, picked uniformly), and "dup80c" (the same over comp50
 * blocks: every hit decompresses its candidate to verify it).
 *
 * Metadata: a 1 GiB logical device written in full with distinct blocks
 * (which compress to a few bytes, so the test needs little RAM), then
 * ilio_chunks_mem_bytes()/nr_live (target <= 32 B per unique chunk) and
 * ilio_lbamap_mem_bytes()/mapped (target <= 8 B per mapped LBA).
 *
 * Two writers: unique data written by 2 threads (disjoint LBA halves, one
 * ilio_ctx each, like the module's one worker per CPU) against 2 threads of
 * raw hashing + compression: how much the single core mutex serialises.
 * The shim's mutex is a plain pthread mutex (no optimistic spinning as in
 * the kernel), so this overstates contention somewhat; it is informational.
 *
 * Forged collisions (trust #7 item 3): a store holding 16384 distinct
 * blocks that share one hash (forged under the store's own key with
 * tests/unit/xxh64-forge.h: the worst case, a leaked key), then the cost
 * of each of 512 more such writes, against the same writes on a store
 * holding 16384 blocks of the same shape whose hashes differ ("normal").
 * The 16384 are written with dedup off (they are indexed all the same),
 * so that the set-up does not itself pay the attack.  "raw": random
 * blocks compared in place; "lz4": compressible blocks, each candidate
 * decoded.  Target: collide/normal <= 2.00x.
 *
 * Options: -n BLOCKS (default 200000), -s to skip the two-writer run, -c
 * to run the forged-collision part only.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>
#include <errno.h>
#include <lz4.h>

#include "ilio-core.h"
#include "xxh64-forge.h"

#define BS	ILIO_BLOCK_SIZE
#define RUNS	3

static unsigned long nr_blocks = 200000;
/* Results of the raw baselines land here, so that no call is optimised out. */
u64 bench_sink;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static u64 rnd(u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static void fill_random(u8 *p, size_t n, u64 *s)
{
	size_t i;

	for (i = 0; i < n; i += 8) {
		u64 v = rnd(s);

		memcpy(p + i, &v, 8);
	}
}

enum dataset { DS_UNIQUE, DS_COMP50, DS_DUP80, DS_DUP80C, DS_NR };

static const char *const ds_name[DS_NR] = {
	[DS_UNIQUE] = "unique",
	[DS_COMP50] = "comp50",
	[DS_DUP80] = "dup80",
	[DS_DUP80C] = "dup80c",
};

/* One fresh block of @ds's kind (never a duplicate). */
static void fill_block(u8 *p, enum dataset ds, u64 *s)
{
	if (ds == DS_COMP50 || ds == DS_DUP80C) {
		fill_random(p, BS / 2, s);
		memset(p + BS / 2, 0, BS / 2);
	} else {
		fill_random(p, BS, s);
	}
}

/* @n blocks of data set @ds, deterministic. */
static u8 *make_data(enum dataset ds, unsigned long n, unsigned long *distinct)
{
	u8 *d = malloc((size_t)n * BS);
	u64 s = 0x1234567 + ds;
	unsigned long i, nd = 0;
	bool dup = ds == DS_DUP80 || ds == DS_DUP80C;

	if (!d) {
		perror("malloc data");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		u8 *b = d + (size_t)i * BS;

		if (dup && i && rnd(&s) % 100 < 80) {
			memcpy(b, d + (size_t)(rnd(&s) % i) * BS, BS);
		} else {
			fill_block(b, ds, &s);
			nd++;
		}
	}
	*distinct = nd;
	return d;
}

static struct ilio_core *mk_core(u64 blocks, u64 ram)
{
	struct ilio_core_params p = {
		.nr_blocks = blocks, .ram_limit = ram,
		.seg_bytes = ILIO_SEG_BYTES_DEFAULT,
		.dedup = true, .compress = true,
	};
	int err = 0;
	struct ilio_core *ic = ilio_core_create(&p, &err);

	if (!ic) {
		fprintf(stderr, "bench-core: ilio_core_create: %d\n", err);
		exit(1);
	}
	return ic;
}

/* Enough RAM that nothing is ever refused or compacted. */
static u64 ram_for(unsigned long n)
{
	return (u64)n * (BS + 64) + (64ULL << 20);
}

struct result {
	double w_core, w_raw, w_lz4, w_copy, r_core, r_raw;	/* ns per block */
	struct ilio_stats st;
	unsigned long distinct;
};

enum raw_mode {
	RAW_LZ4,		/* lz4 alone (about what zram computes) */
	RAW_HASH_LZ4,		/* xxh64 + lz4: the target's baseline */
	RAW_HASH_LZ4_COPY,	/* ... + appending the payload to an arena */
};

/*
 * Raw write baseline: hash and compress every block; with COPY, also
 * append the payload to a flat, already faulted-in arena, the copy any
 * RAM store makes (ilio's segment append, zram's zsmalloc copy).
 */
static double time_raw_write(const u8 *d, unsigned long n, struct ilio_ctx *ctx,
			     enum raw_mode mode)
{
	u8 *arena = NULL;
	double best = 1e30;
	int r;

	if (mode == RAW_HASH_LZ4_COPY) {
		arena = malloc((size_t)n * BS);
		if (!arena) {
			perror("malloc arena");
			exit(1);
		}
		memset(arena, 1, (size_t)n * BS);
	}
	for (r = 0; r < RUNS; r++) {
		double t0 = now_ns(), t;
		size_t off = 0;
		unsigned long i;

		for (i = 0; i < n; i++) {
			const void *pl;
			bool lz4;
			const u8 *b = d + (size_t)i * BS;
			u32 len;

			if (mode != RAW_LZ4)
				bench_sink += ilio_hash_block(b, 0);
			len = ilio_compress_block(ctx, b, &pl, &lz4);
			if (arena) {
				memcpy(arena + off, pl, len);
				off += (len + 7) & ~7U;
			}
			bench_sink += len;
		}
		t = now_ns() - t0;
		if (t < best)
			best = t;
	}
	free(arena);
	return best / n;
}

/*
 * Raw read baseline: the stored payload of each block, decoded from a
 * flat array (lz4 where lz4 shrank it, memcpy where it is raw).
 */
static double time_raw_read(const u8 *d, unsigned long n, struct ilio_ctx *ctx)
{
	u8 *pay = malloc((size_t)n * BS), *out = malloc(BS);
	u32 *len = malloc(n * sizeof(*len));
	bool *isl = malloc(n * sizeof(*isl));
	double best = 1e30;
	unsigned long i;
	int r;

	if (!pay || !out || !len || !isl) {
		perror("malloc");
		exit(1);
	}
	for (i = 0; i < n; i++) {
		const void *pl;

		len[i] = ilio_compress_block(ctx, d + (size_t)i * BS, &pl,
					     &isl[i]);
		memcpy(pay + (size_t)i * BS, pl, len[i]);
	}
	for (r = 0; r < RUNS; r++) {
		double t0 = now_ns(), t;

		for (i = 0; i < n; i++) {
			const u8 *p = pay + (size_t)i * BS;

			if (isl[i]) {
				if (LZ4_decompress_safe((const char *)p,
							(char *)out, len[i],
							BS) != BS) {
					fprintf(stderr, "bench-core: lz4 failed\n");
					exit(1);
				}
			} else {
				memcpy(out, p, BS);
			}
		}
		t = now_ns() - t0;
		if (t < best)
			best = t;
	}
	free(pay);
	free(out);
	free(len);
	free(isl);
	return best / n;
}

/*
 * What the dm map function does per block: the _nowait call, and the
 * worker's call only when that one must wait (never here: RAM store).
 */
static int bench_write(struct ilio_core *ic, u64 lba, const void *b,
		       struct ilio_ctx *ctx)
{
	int ret = ilio_core_write_nowait(ic, lba, b, ctx);

	return ret == -EAGAIN ? ilio_core_write(ic, lba, b, ctx) : ret;
}

static int bench_read(struct ilio_core *ic, u64 lba, void *out,
		      struct ilio_ctx *ctx)
{
	int ret = ilio_core_read_nowait(ic, lba, out, ctx);

	return ret == -EAGAIN ? ilio_core_read(ic, lba, out) : ret;
}

static void bench_core_rw(const u8 *d, unsigned long n, struct ilio_ctx *ctx,
			  struct result *res)
{
	u8 *out = malloc(BS);
	double bw = 1e30, br = 1e30;
	int r;

	for (r = 0; r < RUNS; r++) {
		struct ilio_core *ic = mk_core(n, ram_for(n));
		double t0, t;
		unsigned long i;

		t0 = now_ns();
		for (i = 0; i < n; i++) {
			int ret = bench_write(ic, i, d + (size_t)i * BS, ctx);

			if (ret) {
				fprintf(stderr, "bench-core: write %lu: %d\n",
					i, ret);
				exit(1);
			}
		}
		t = now_ns() - t0;
		if (t < bw)
			bw = t;

		t0 = now_ns();
		for (i = 0; i < n; i++) {
			if (bench_read(ic, i, out, ctx)) {
				fprintf(stderr, "bench-core: read %lu failed\n", i);
				exit(1);
			}
		}
		t = now_ns() - t0;
		if (t < br)
			br = t;
		/* Correctness spot check: a benchmark of a broken store is void. */
		for (i = 0; i < n; i += 997) {
			if (ilio_core_read(ic, i, out) ||
			    memcmp(out, d + (size_t)i * BS, BS)) {
				fprintf(stderr, "bench-core: lba %lu reads back wrong\n", i);
				exit(1);
			}
		}
		ilio_core_get_stats(ic, &res->st);
		ilio_core_destroy(ic);
	}
	free(out);
	res->w_core = bw / n;
	res->r_core = br / n;
}

/* --- two writers ----------------------------------------------------- */

struct thr {
	struct ilio_core *ic;	/* NULL: raw baseline */
	const u8 *d;
	unsigned long first, n;
	double ns;
	bool read;		/* read @ic's blocks back instead */
};

static void *thr_fn(void *arg)
{
	struct thr *t = arg;
	struct ilio_ctx ctx;
	u64 sink = 0;
	unsigned long i;
	double t0;

	if (ilio_ctx_init(&ctx))
		exit(1);
	t0 = now_ns();
	for (i = t->first; i < t->first + t->n; i++) {
		const u8 *b = t->d + (size_t)i * BS;

		if (t->ic && t->read) {
			u8 out[BS];

			if (bench_read(t->ic, i, out, &ctx) || memcmp(out, b, BS))
				exit(1);
		} else if (t->ic) {
			if (bench_write(t->ic, i, b, &ctx))
				exit(1);
		} else {
			const void *pl;
			bool lz4;

			sink += ilio_hash_block(b, 0);
			sink += ilio_compress_block(&ctx, b, &pl, &lz4);
		}
	}
	t->ns = now_ns() - t0;
	__atomic_fetch_add(&bench_sink, sink, __ATOMIC_RELAXED);
	ilio_ctx_exit(&ctx);
	return NULL;
}

/* Wall time per block with two threads, each on half of the blocks. */
static double time_two(const u8 *d, unsigned long n, bool core)
{
	double best = 1e30;
	int r;

	for (r = 0; r < RUNS; r++) {
		struct ilio_core *ic = core ? mk_core(n, ram_for(n)) : NULL;
		struct thr t[2] = {
			{ ic, d, 0, n / 2, 0 },
			{ ic, d, n / 2, n - n / 2, 0 },
		};
		pthread_t th[2];
		double t0 = now_ns(), w;
		int i;

		for (i = 0; i < 2; i++)
			pthread_create(&th[i], NULL, thr_fn, &t[i]);
		for (i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		w = now_ns() - t0;
		if (w < best)
			best = w;
		ilio_core_destroy(ic);
	}
	return best / n;
}

/*
 * Wall ns per block reading a filled core with @nthr threads, each on its
 * part of the blocks (best of RUNS): how reads scale with submitters.
 */
static double time_readers(struct ilio_core *ic, const u8 *d, unsigned long n,
			   int nthr)
{
	double best = 1e30;
	int r, i;

	for (r = 0; r < RUNS; r++) {
		struct thr t[2];
		pthread_t th[2];
		double t0 = now_ns(), w;

		for (i = 0; i < nthr; i++) {
			t[i] = (struct thr){ ic, d, n * i / nthr,
					     n * (i + 1) / nthr - n * i / nthr, 0, true };
			pthread_create(&th[i], NULL, thr_fn, &t[i]);
		}
		for (i = 0; i < nthr; i++)
			pthread_join(th[i], NULL);
		w = now_ns() - t0;
		if (w < best)
			best = w;
	}
	return best / n;
}

/* One and two readers on a core holding @d (written once). */
static void bench_readers(const u8 *d, unsigned long n, struct ilio_ctx *ctx,
			  double *one, double *two)
{
	struct ilio_core *ic = mk_core(n, ram_for(n));
	unsigned long i;

	for (i = 0; i < n; i++)
		if (bench_write(ic, i, d + (size_t)i * BS, ctx))
			exit(1);
	*one = time_readers(ic, d, n, 1);
	*two = time_readers(ic, d, n, 2);
	ilio_core_destroy(ic);
}

/* --- metadata ---------------------------------------------------------- */

struct meta {
	u64 blocks, live, mapped;
	u64 chunks_mem, lbamap_mem, meta_bytes, segs_bytes;
	double per_chunk, per_lba;
	u64 dmapped, dlive, dchunks_mem, dlbamap_mem;
};

static void bench_meta(struct ilio_ctx *ctx, struct meta *m)
{
	const u64 blocks = (1ULL << 30) / BS;	/* 1 GiB logical */
	struct ilio_core *ic;
	struct ilio_stats st;
	u8 *b = calloc(1, BS);
	u64 i;

	/* Distinct blocks that lz4 squeezes to ~20 bytes: 8-byte tag + zeros. */
	ic = mk_core(blocks, 256ULL << 20);
	for (i = 0; i < blocks; i++) {
		u64 tag = i + 1;

		memcpy(b, &tag, sizeof(tag));
		if (ilio_core_write(ic, i, b, ctx)) {
			fprintf(stderr, "bench-core: meta write %llu failed\n",
				(unsigned long long)i);
			exit(1);
		}
	}
	ilio_core_get_stats(ic, &st);
	m->blocks = blocks;
	m->live = ic->sp.chunks.nr_live;
	m->mapped = ic->sp.map.mapped;
	m->chunks_mem = ilio_chunks_mem_bytes(&ic->sp.chunks);
	m->lbamap_mem = ilio_lbamap_mem_bytes(&ic->sp.map);
	m->meta_bytes = st.meta_bytes;
	m->segs_bytes = st.ram_used_bytes - st.meta_bytes;
	m->per_chunk = (double)m->chunks_mem / m->live;
	m->per_lba = (double)m->lbamap_mem / m->mapped;
	ilio_core_destroy(ic);

	/* The same device holding one block content 262144 times. */
	ic = mk_core(blocks, 64ULL << 20);
	memset(b, 0x5a, BS);
	for (i = 0; i < blocks; i++)
		if (ilio_core_write(ic, i, b, ctx))
			exit(1);
	m->dmapped = ic->sp.map.mapped;
	m->dlive = ic->sp.chunks.nr_live;
	m->dchunks_mem = ilio_chunks_mem_bytes(&ic->sp.chunks);
	m->dlbamap_mem = ilio_lbamap_mem_bytes(&ic->sp.map);
	ilio_core_destroy(ic);
	free(b);
}

/* --- forged collisions ------------------------------------------------ */

#define COLL_STORED	16384UL
#define COLL_TIMED	512UL

/*
 * Block @i of a forged set: a shared base (random, or lz4-compressible
 * with @lz4), @i in the stripe before the last, and a last stripe forged
 * to the base's xxh64 under @seed (@forge), or random (distinct hashes).
 */
static void coll_block(u8 *b, const u8 *base, const uint64_t *lanes, u64 seed,
		       u64 i, bool forge, u64 *rs)
{
	memcpy(b, base, BS);
	memcpy(b + BS - 64, &i, sizeof(i));
	if (forge)
		xf_forge(b, seed, lanes);
	else
		fill_random(b + BS - 32, 32, rs);
}

/* ns per write of COLL_TIMED blocks into a store holding COLL_STORED. */
static double coll_run(bool lz4, bool forge, struct ilio_ctx *ctx,
		       struct ilio_stats *st)
{
	const unsigned long n = COLL_STORED + COLL_TIMED;
	double best = 1e30;
	int r;

	for (r = 0; r < RUNS; r++) {
		struct ilio_core *ic = mk_core(n, ram_for(n));
		u8 *d = malloc((size_t)n * BS), base[BS];
		uint64_t lanes[4];
		u64 rs = 0x5eed + r, i;
		double t0, t;

		if (!d) {
			perror("malloc");
			exit(1);
		}
		fill_random(base, lz4 ? BS / 2 : BS, &rs);
		if (lz4)
			memset(base + BS / 2, 0x33, BS / 2);
		xf_lanes(base, XF_STRIPES, ic->sp.hash_seed, lanes);
		for (i = 0; i < n; i++)
			coll_block(d + i * BS, base, lanes, ic->sp.hash_seed, i, forge,
				   &rs);
		ilio_core_set_policy(ic, false, true);
		for (i = 0; i < COLL_STORED; i++)
			if (ilio_core_write(ic, i, d + i * BS, ctx))
				exit(1);
		ilio_core_set_policy(ic, true, true);
		t0 = now_ns();
		for (i = COLL_STORED; i < n; i++) {
			if (ilio_core_write(ic, i, d + i * BS, ctx)) {
				fprintf(stderr, "bench-core: collide write %llu failed\n",
					(unsigned long long)i);
				exit(1);
			}
		}
		t = now_ns() - t0;
		if (t < best)
			best = t;
		for (i = 0; i < n; i += 61) {
			u8 out[BS];

			if (ilio_core_read(ic, i, out) || memcmp(out, d + i * BS, BS)) {
				fprintf(stderr, "bench-core: collide lba %llu reads back wrong\n",
					(unsigned long long)i);
				exit(1);
			}
		}
		ilio_core_get_stats(ic, st);
		ilio_core_destroy(ic);
		free(d);
	}
	return best / COLL_TIMED;
}

/* Returns false when a ratio misses the 2x target. */
static bool bench_collide(struct ilio_ctx *ctx)
{
	bool all = true;
	int lz4;

	printf("\nFORGED COLLISIONS  ns per write into a store holding %lu blocks with\n"
	       "       one hash (forged under the store's key), vs %lu blocks of the same\n"
	       "       shape with distinct hashes; mean of %lu writes, best of %d runs\n",
	       COLL_STORED, COLL_STORED, COLL_TIMED, RUNS);
	printf("%-8s %10s %10s %8s %10s %8s\n", "data", "collide", "normal",
	       "ratio", "cand/write", "capped");
	for (lz4 = 0; lz4 < 2; lz4++) {
		struct ilio_stats sc, sn;
		double c = coll_run(lz4, true, ctx, &sc);
		double nrm = coll_run(lz4, false, ctx, &sn);

		printf("%-8s %10.0f %10.0f %7.2fx %10.1f %8llu   (target <= 2.00x: %s)\n",
		       lz4 ? "lz4" : "raw", c, nrm, c / nrm,
		       (double)sc.dedup_candidates / COLL_TIMED,
		       (unsigned long long)sc.dedup_candidates_capped,
		       c / nrm <= 2.0 ? "MEET" : "MISS");
		printf("bench-core: collide %s %.0f ns/write vs normal %.0f ns/write: %.2fx\n",
		       lz4 ? "lz4" : "raw", c, nrm, c / nrm);
		if (c / nrm > 2.0)
			all = false;
	}
	return all;
}

static const char *verdict(double v, double target, bool *all)
{
	if (v <= target)
		return "MEET";
	*all = false;
	return "MISS";
}

int main(int argc, char **argv)
{
	struct result res[DS_NR];
	struct ilio_ctx ctx;
	struct meta m;
	double two_core = 0, two_raw = 0, one_core = 0, one_raw = 0;
	double one_rd = 0, two_rd = 0;
	bool threads = true, all = true, collide_only = false;
	char line[512];
	int opt, ds;

	while ((opt = getopt(argc, argv, "n:sc")) != -1) {
		switch (opt) {
		case 'n':
			nr_blocks = strtoul(optarg, NULL, 0);
			break;
		case 's':
			threads = false;
			break;
		case 'c':
			collide_only = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-n BLOCKS] [-s] [-c]\n", argv[0]);
			return 2;
		}
	}
	if (nr_blocks < 1000)
		nr_blocks = 1000;
	/*
	 * Keep freed memory in the heap: runs 2 and 3 then reuse pages that
	 * are already faulted in, as the kernel's page allocator would hand
	 * out resident pages.  Run 1 pays the page faults; best-of-3 drops it.
	 */
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	mallopt(M_TRIM_THRESHOLD, -1);
	mallopt(M_ARENA_MAX, 1);	/* the -t threads reuse those pages too */
	if (ilio_ctx_init(&ctx)) {
		fprintf(stderr, "bench-core: ilio_ctx_init failed\n");
		return 1;
	}

	if (collide_only) {
		bench_collide(&ctx);
		ilio_ctx_exit(&ctx);
		return 0;
	}
	printf("bench-core: native CPU cost of the ilio core, %lu blocks of %u bytes,\n"
	       "single thread, best of %d runs (userspace build: tests/shim, -O2)\n\n",
	       nr_blocks, BS, RUNS);

	for (ds = 0; ds < DS_NR; ds++) {
		u8 *d = make_data(ds, nr_blocks, &res[ds].distinct);

		res[ds].w_raw = time_raw_write(d, nr_blocks, &ctx, RAW_HASH_LZ4);
		res[ds].w_lz4 = time_raw_write(d, nr_blocks, &ctx, RAW_LZ4);
		res[ds].w_copy = time_raw_write(d, nr_blocks, &ctx, RAW_HASH_LZ4_COPY);
		res[ds].r_raw = time_raw_read(d, nr_blocks, &ctx);
		bench_core_rw(d, nr_blocks, &ctx, &res[ds]);
		if (threads && ds == DS_UNIQUE) {
			one_core = res[ds].w_core;
			one_raw = res[ds].w_raw;
			two_core = time_two(d, nr_blocks, true);
			two_raw = time_two(d, nr_blocks, false);
		}
		if (threads && ds == DS_COMP50)
			bench_readers(d, nr_blocks, &ctx, &one_rd, &two_rd);
		free(d);
	}

	printf("WRITE  ns per 4 KiB block: ilio_core_write against xxh64 + lz4 on the same\n"
	       "       blocks (\"raw\", the target's baseline), lz4 alone, and xxh64 + lz4 +\n"
	       "       appending the payload to a flat arena (\"raw+copy\")\n");
	printf("%-8s %7s %7s %7s %7s %8s %6s %8s %7s %9s\n", "data", "core",
	       "raw", "ratio", "lz4", "raw+copy", "ratio", "vs lz4", "dedup", "stored/uq");
	for (ds = 0; ds < DS_NR; ds++) {
		struct result *r = &res[ds];

		printf("%-8s %7.0f %7.0f %6.2fx %7.0f %8.0f %5.2fx %7.2fx %6.1f%% %8.1f%%\n",
		       ds_name[ds], r->w_core, r->w_raw, r->w_core / r->w_raw,
		       r->w_lz4, r->w_copy, r->w_core / r->w_copy,
		       r->w_core / r->w_lz4,
		       100.0 * r->st.dedup_hits / nr_blocks,
		       r->st.unique_bytes ?
		       100.0 * r->st.stored_bytes / r->st.unique_bytes : 0);
	}
	printf("\nREAD   ns per 4 KiB block (ilio_core_read vs decoding the same payloads\n"
	       "       from a flat array: lz4 where it was compressed, else memcpy)\n");
	printf("%-8s %10s %10s %8s\n", "data", "core", "raw", "ratio");
	for (ds = 0; ds < DS_NR; ds++) {
		struct result *r = &res[ds];

		printf("%-8s %10.0f %10.0f %7.2fx\n", ds_name[ds], r->r_core,
		       r->r_raw, r->r_core / r->r_raw);
	}
	if (threads) {
		printf("\nTWO WRITERS (unique data, disjoint LBA halves, wall ns per block; "
		       "lower is better)\n");
		printf("%-10s %10s %10s %9s\n", "", "1 thread", "2 threads", "speedup");
		printf("%-10s %10.0f %10.0f %8.2fx\n", "core", one_core, two_core,
		       one_core / two_core);
		printf("%-10s %10.0f %10.0f %8.2fx\n", "xxh64+lz4", one_raw, two_raw,
		       one_raw / two_raw);
		printf("\nTWO READERS (comp50 data, disjoint LBA halves, map()'s inline read,\n"
		       "wall ns per block; lower is better)\n");
		printf("%-10s %10s %10s %9s\n", "", "1 thread", "2 threads", "speedup");
		printf("%-10s %10.0f %10.0f %8.2fx\n", "core", one_rd, two_rd,
		       one_rd / two_rd);
		printf("(this host has %ld online CPUs; other load skews this)\n",
		       sysconf(_SC_NPROCESSORS_ONLN));
	}

	bench_meta(&ctx, &m);
	if (!bench_collide(&ctx))
		all = false;
	printf("\nMETADATA  1 GiB logical (%llu blocks), every block written\n",
	       (unsigned long long)m.blocks);
	printf("  all distinct:  %llu live chunks, %llu mapped LBAs\n",
	       (unsigned long long)m.live, (unsigned long long)m.mapped);
	printf("    chunk table + index  %10llu B  = %6.2f B per unique chunk  (target <= 32)\n",
	       (unsigned long long)m.chunks_mem, m.per_chunk);
	printf("    LBA map              %10llu B  = %6.2f B per mapped LBA    (target <= 8)\n",
	       (unsigned long long)m.lbamap_mem, m.per_lba);
	printf("    all metadata         %10llu B  = %6.2f B per mapped LBA (+ segment table)\n",
	       (unsigned long long)m.meta_bytes, (double)m.meta_bytes / m.mapped);
	printf("  one content:   %llu live chunk(s), %llu mapped LBAs:\n"
	       "    LBA map %.2f B per LBA, chunk table + index %llu B\n",
	       (unsigned long long)m.dlive, (unsigned long long)m.dmapped,
	       (double)m.dlbamap_mem / m.dmapped, (unsigned long long)m.dchunks_mem);

	printf("\nTARGETS\n");
	for (ds = 0; ds < DS_NR; ds++) {
		double ratio = res[ds].w_core / res[ds].w_raw;

		printf("  write %-7s core/raw %.2fx <= 1.30x: %s\n", ds_name[ds],
		       ratio, verdict(ratio, 1.3, &all));
	}
	printf("  metadata per unique chunk %.2f B <= 32: %s\n", m.per_chunk,
	       verdict(m.per_chunk, 32, &all));
	printf("  metadata per mapped LBA %.2f B <= 8: %s\n", m.per_lba,
	       verdict(m.per_lba, 8, &all));

	snprintf(line, sizeof(line),
		 "bench-core: write core/raw unique %.2fx comp50 %.2fx dup80 %.2fx dup80c %.2fx",
		 res[DS_UNIQUE].w_core / res[DS_UNIQUE].w_raw,
		 res[DS_COMP50].w_core / res[DS_COMP50].w_raw,
		 res[DS_DUP80].w_core / res[DS_DUP80].w_raw,
		 res[DS_DUP80C].w_core / res[DS_DUP80C].w_raw);
	printf("\n%s (target 1.30x); %.1f B/chunk (32); %.2f B/LBA (8): %s\n", line,
	       m.per_chunk, m.per_lba,
	       all ? "all targets met" : "some targets MISSED (see above)");
	ilio_ctx_exit(&ctx);
	return 0;
}
