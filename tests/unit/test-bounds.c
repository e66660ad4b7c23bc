// SPDX-License-Identifier: GPL-2.0
/*
 * test-bounds: untrusted metadata, huge geometries and the top of the id
 * space (issue #7 items 4 to 7), over a sparse in-memory backing device
 * that can be terabytes large.
 *
 * What it proves:
 *  - a log record, a map entry or a checkpoint leaf that names a chunk id
 *    or a leaf index that the device's geometry cannot hold is refused
 *    with a clear reason, before anything is allocated for it; one that
 *    the geometry allows but the RAM budget does not is refused with
 *    -E2BIG ("ram_mb is too small ..."), and recovery never allocates past
 *    the budget (item 4); a superblock whose segment count the budget
 *    cannot hold is refused before the segment table is allocated;
 *  - a whole-device UNMAP entry on a large, sparse store replays without
 *    allocating and without visiting every LBA (item 5);
 *  - the per-tick work of GC and checkpoints on a store with millions of
 *    segments but few live ones does not grow with the segment count, nor
 *    a checkpoint's with the length of a sparse map; a discard of a whole
 *    sparse 16 TiB device takes a few thousand store calls, not 2^32
 *    (item 5);
 *  - a length whose LBA-map directory does not fit the RAM budget, up to
 *    lengths near 2^64 sectors, is refused with -E2BIG or -EFBIG before
 *    any large allocation and without a kernel WARN (item 6);
 *  - the chunk allocator refuses with -ENOSPC at the top of the id space
 *    and never hands out id 0 ("unmapped") or an id past ILIO_CID_MAX
 *    (item 7).
 *
 * The shim's allocation limit (ilio_shim_alloc_limit) guards every open:
 * code that would allocate without bound fails the test instead of
 * exhausting the machine.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/string.h>
#include <linux/slab.h>

#include "ut.h"
#include "ilio-core.h"
#include "ilio-meta.h"

extern unsigned long long ilio_shim_alloc_bytes;
extern long long ilio_shim_alloc_limit;
extern unsigned long ilio_shim_alloc_refused;
extern unsigned long ilio_shim_allocs;

static struct ilio_ctx ctx;

/* A sparse device: 4 MiB pieces allocated on first write; reads of the rest are zeros. */
#define SD_PIECE	(4ULL << 20)

struct sdev {
	u64 size;
	u8 **piece;
	u64 npieces;
	unsigned long reads, writes;
};

static int sd_io(struct sdev *d, u64 pos, void *buf, u64 len, bool wr)
{
	u8 *p = buf;

	if (pos > d->size || len > d->size - pos)
		return -EIO;
	while (len) {
		u64 i = pos / SD_PIECE, o = pos % SD_PIECE;
		u64 n = SD_PIECE - o < len ? SD_PIECE - o : len;

		if (wr) {
			if (!d->piece[i])
				d->piece[i] = calloc(1, SD_PIECE);
			memcpy(d->piece[i] + o, p, n);
		} else if (d->piece[i]) {
			memcpy(p, d->piece[i] + o, n);
		} else {
			memset(p, 0, n);
		}
		pos += n;
		p += n;
		len -= n;
	}
	return 0;
}

static int sd_read(void *priv, u64 pos, void *buf, u32 len)
{
	((struct sdev *)priv)->reads++;
	return sd_io(priv, pos, buf, len, false);
}

static int sd_write(void *priv, u64 pos, const void *buf, u32 len)
{
	((struct sdev *)priv)->writes++;
	return sd_io(priv, pos, (void *)buf, len, true);
}

static int sd_flush(void *priv)
{
	return 0;
}

static int sd_discard(void *priv, u64 pos, u64 len)
{
	return 0;
}

static const struct ilio_backend_ops sd_ops = {
	.read = sd_read, .write = sd_write, .flush = sd_flush,
	.discard = sd_discard,
};

static void sd_format(struct sdev *d, u64 size, u32 seg_bytes)
{
	struct ilio_anchor_info a = { .seq = 1, .epoch = 0x4242, .log_seq = 1 };
	struct ilio_geom g;
	const char *why;
	u8 blk[4096];

	memset(d, 0, sizeof(*d));
	d->size = size;
	d->npieces = (size + SD_PIECE - 1) / SD_PIECE;
	d->piece = calloc(d->npieces, sizeof(*d->piece));
	if (ilio_geom_compute(&g, size, seg_bytes, &why))
		abort();
	memset(g.uuid, 0x77, sizeof(g.uuid));
	ilio_sb_build(blk, &g, 0);
	sd_io(d, 0, blk, 4096, true);
	ilio_sb_build(blk, &g, 1);
	sd_io(d, 4096, blk, 4096, true);
	ilio_anchor_build(blk, &g, 2, &a);
	sd_io(d, 2 * 4096, blk, 4096, true);
}

static void sd_free(struct sdev *d)
{
	u64 i;

	for (i = 0; i < d->npieces; i++)
		free(d->piece[i]);
	free(d->piece);
}

/*
 * Open with the shim's allocation guard at @guard bytes (counted from
 * here): an open that would allocate more fails instead of eating the
 * machine.  *@used: bytes the open allocated.
 */
static struct ilio_core *sd_open(struct sdev *d, u64 nblk, u64 ram, u64 guard,
				 int *err, const char **why, u64 *used)
{
	struct ilio_core_params p = {
		.nr_blocks = nblk, .ram_limit = ram, .seg_bytes = 0,
		.dedup = true, .compress = true, .store = &ilio_log_store, .bops = &sd_ops, .bpriv = d,
		.dev_bytes = d->size, .coalesce = ILIO_COALESCE_ALWAYS,
		.flush_interval_ms = 1000, .max_dirty = 1U << 20,
	};
	unsigned long long b0 = ilio_shim_alloc_bytes;
	struct ilio_core *ic;

	*err = 0;
	*why = "";
	ilio_shim_alloc_refused = 0;
	ilio_shim_alloc_limit = (long long)(b0 + guard);
	ic = ilio_core_open(&p, err, why);
	ilio_shim_alloc_limit = -1;
	if (used)
		*used = ilio_shim_alloc_bytes - b0;
	return ic;
}

static void put_block(struct ilio_core *ic, u64 lba, u32 v)
{
	u8 b[4096];

	ut_fill_random(b, sizeof(b), lba * 7919 + v);
	CHECK(!ilio_core_write(ic, lba, b, &ctx), "write lba %llu",
	      (unsigned long long)lba);
}

static bool got_block(struct ilio_core *ic, u64 lba, u32 v)
{
	u8 b[4096], got[4096];

	if (v)
		ut_fill_random(b, sizeof(b), lba * 7919 + v);
	else
		memset(b, 0, sizeof(b));
	return !ilio_core_read(ic, lba, got) && !memcmp(got, b, sizeof(b));
}

/* Log units: find the @nth unit of @type in the chain of the newest anchor. */
struct unit_ref {
	u64 pos;	/* byte position of its header on the device */
	u32 len;
	struct ilio_geom g;
	int slot;	/* the anchor slot it hangs off */
};

static bool find_unit(struct sdev *d, u16 type, int nth, struct unit_ref *u)
{
	struct ilio_anchor_info an[2], *a;
	struct ilio_unit_hdr h;
	const char *why;
	u8 blk[4096];
	bool ok[2];
	u32 seg, off, next = 0;
	u64 seq;
	int i, units;

	sd_io(d, 0, blk, 4096, false);
	if (ilio_sb_check(blk, 0, d->size, &u->g, &why))
		return false;
	for (i = 0; i < 2; i++) {
		sd_io(d, (2 + i) * 4096ULL, blk, 4096, false);
		ok[i] = !ilio_anchor_check(blk, 2 + i, &u->g, &an[i], &why);
	}
	if (!ok[0] && !ok[1])
		return false;
	u->slot = !ok[0] || (ok[1] && an[1].seq > an[0].seq);
	a = &an[u->slot];
	seg = a->log_seg;
	off = a->log_off;
	seq = a->log_seq;
	for (units = 0; units < 100000; units++) {
		int r = -ENOENT;

		if (off + 4096 <= u->g.seg_bytes) {
			sd_io(d, ilio_seg_block(&u->g, seg) * 4096ULL + off, blk, 4096, false);
			r = ilio_unit_check_hdr(blk, &u->g, seg, off, a->epoch, seq, &why);
		}
		if (r == -ENOENT && units) {
			sd_io(d, ilio_seg_block(&u->g, next) * 4096ULL, blk, 4096, false);
			r = ilio_unit_check_hdr(blk, &u->g, next, 0, a->epoch, seq, &why);
			if (!r) {
				seg = next;
				off = 0;
			}
		}
		if (r)
			return false;
		memcpy(&h, blk, sizeof(h));
		next = le32_to_cpu(h.next_seg);
		if (le16_to_cpu(h.type) == type && nth-- == 0) {
			u->pos = ilio_seg_block(&u->g, seg) * 4096ULL + off;
			u->len = le32_to_cpu(h.len);
			return true;
		}
		off += le32_to_cpu(h.len);
		seq++;
	}
	return false;
}

static u8 *unit_load(struct sdev *d, const struct unit_ref *u)
{
	u8 *buf = malloc(u->len);

	sd_io(d, u->pos, buf, u->len, false);
	return buf;
}

/*
 * Write a mutated unit back under a fresh checksum, and make the other
 * anchor slot invalid: the mutation must meet the semantic checks of the
 * newest chain, with no fallback to hide it.
 */
static void unit_store(struct sdev *d, const struct unit_ref *u, u8 *buf)
{
	u8 zero[4096] = { 0 };

	ilio_unit_seal(buf, u->len);
	sd_io(d, u->pos, buf, u->len, true);
	sd_io(d, (2 + !u->slot) * 4096ULL, zero, 4096, true);
	free(buf);
}

#define SMALL_DEV	(64ULL << 20)	/* 64 KiB segments: a few thousand ids */
#define BIG_DEV		(1ULL << 40)	/* 1 TiB, 1 MiB segments: every id */
#define RAM		(64ULL << 20)

/* A store with @n blocks written and flushed since the open, then a crash. */
static void make_store(struct sdev *d, u64 size, u32 seg_bytes, u64 nblk,
		       u64 ram, int n, bool ckpt)
{
	struct ilio_core *ic;
	const char *why;
	int err, i;

	sd_format(d, size, seg_bytes);
	ic = sd_open(d, nblk, ram, 4 * ram, &err, &why, NULL);
	CHECK(ic, "open a fresh store: %d %s", err, why);
	if (!ic)
		return;
	for (i = 0; i < n; i++)
		put_block(ic, i, 1);
	if (ckpt)
		CHECK(!ilio_core_checkpoint(ic), "checkpoint");
	CHECK(!ilio_core_flush(ic), "flush");
	ilio_core_destroy(ic);	/* crash: the data units stay in the log */
}

/* Item 4: a record whose chunk id the device cannot hold. */
static void test_cid_bound(void)
{
	static const struct {
		u64 size;
		u32 seg;
		u32 cid;
		int err;
		const char *why;
	} cases[] = {
		{ SMALL_DEV, 64 << 10, 0xfffffff0U, -EINVAL, "beyond what the device can hold" },
		{ SMALL_DEV, 64 << 10, ILIO_CID_MAX, -EINVAL, "beyond what the device can hold" },
		{ SMALL_DEV, 64 << 10, 0xffffffffU, -EINVAL, "beyond what the device can hold" },
		{ BIG_DEV, 1 << 20, 0xfffffff0U, -E2BIG, "ram_mb is too small" },
		{ BIG_DEV, 1 << 20, ILIO_CID_MAX, -E2BIG, "ram_mb is too small" },
		{ BIG_DEV, 1 << 20, 0xffffffffU, -EINVAL, "beyond what the device can hold" },
	};
	size_t k;

	for (k = 0; k < ARRAY_SIZE(cases); k++) {
		struct ilio_chunk_hdr *rh;
		struct ilio_core *ic;
		struct unit_ref u;
		struct sdev d;
		const char *why;
		u64 used;
		int err;
		u8 *buf;

		make_store(&d, cases[k].size, cases[k].seg, 4096, RAM, 8, false);
		CHECK(find_unit(&d, ILIO_UNIT_DATA, 0, &u), "case %zu: a data unit", k);
		buf = unit_load(&d, &u);
		rh = (struct ilio_chunk_hdr *)(buf + 4096);
		rh->cid = cpu_to_le32(cases[k].cid);
		unit_store(&d, &u, buf);
		ic = sd_open(&d, 4096, RAM, 4 * RAM, &err, &why, &used);
		CHECK(!ic && err == cases[k].err && strstr(why, cases[k].why),
		      "case %zu: cid %#x refused with %d (%s), got %d: %s", k,
		      cases[k].cid, cases[k].err, cases[k].why, err, why);
		CHECK(!ilio_shim_alloc_refused && used <= 2 * RAM,
		      "case %zu: the open allocated %llu bytes (%lu refused) for a %llu budget",
		      k, (unsigned long long)used, ilio_shim_alloc_refused,
		      (unsigned long long)RAM);
		ilio_core_destroy(ic);
		sd_free(&d);
	}
}

/* Item 4: a checkpoint leaf descriptor with a huge index, and huge map ids. */
static void test_ckpt_index_bound(void)
{
	static const struct {
		u64 size;
		u32 seg;
		u32 kind;
		u32 index;	/* for kind CHUNKS; for LBAMAP the cid put in it */
		int err;
		const char *why;
	} cases[] = {
		{ SMALL_DEV, 64 << 10, ILIO_CKPT_CHUNKS, 0x7fffff, -EINVAL, "beyond what the device can hold" },
		{ SMALL_DEV, 64 << 10, ILIO_CKPT_CHUNKS, 0xffffffffU, -EINVAL, "beyond what the device can hold" },
		{ BIG_DEV, 1 << 20, ILIO_CKPT_CHUNKS, 0x7fffff, -E2BIG, "ram_mb is too small" },
		{ BIG_DEV, 1 << 20, ILIO_CKPT_CHUNKS, 0x800000, -EINVAL, "beyond what the device can hold" },
		{ BIG_DEV, 1 << 20, ILIO_CKPT_CHUNKS, 0xffffffffU, -EINVAL, "beyond what the device can hold" },
		{ SMALL_DEV, 64 << 10, ILIO_CKPT_LBAMAP, 0xfffffff0U, -EINVAL, "invalid chunk id" },
		{ BIG_DEV, 1 << 20, ILIO_CKPT_LBAMAP, 0xffffffffU, -EINVAL, "invalid chunk id" },
	};
	size_t k;

	for (k = 0; k < ARRAY_SIZE(cases); k++) {
		struct ilio_ckpt_desc *desc;
		struct ilio_unit_hdr *h;
		struct ilio_core *ic;
		struct unit_ref u;
		struct sdev d;
		const char *why;
		u32 i, n, pos = 4096;
		bool done = false;
		u64 used;
		int err;
		u8 *buf;

		make_store(&d, cases[k].size, cases[k].seg, 4096, RAM, 8, true);
		CHECK(find_unit(&d, ILIO_UNIT_CKPT, 0, &u), "case %zu: a checkpoint unit", k);
		buf = unit_load(&d, &u);
		h = (struct ilio_unit_hdr *)buf;
		desc = (struct ilio_ckpt_desc *)(h + 1);
		n = le32_to_cpu(h->nr_ents);
		for (i = 0; i < n && !done; i++) {
			u32 kind = le32_to_cpu(desc[i].kind);

			if (kind == cases[k].kind && kind == ILIO_CKPT_CHUNKS) {
				desc[i].index = cpu_to_le32(cases[k].index);
				done = true;
			} else if (kind == cases[k].kind) {
				((__le32 *)(buf + pos))[3] = cpu_to_le32(cases[k].index);
				done = true;
			}
			pos += kind == ILIO_CKPT_LBAMAP ? 4096 : 8192;
		}
		CHECK(done, "case %zu: the checkpoint has a leaf of kind %u", k, cases[k].kind);
		unit_store(&d, &u, buf);
		ic = sd_open(&d, 4096, RAM, 4 * RAM, &err, &why, &used);
		CHECK(!ic && err == cases[k].err && strstr(why, cases[k].why),
		      "case %zu: kind %u index/id %#x refused with %d (%s), got %d: %s",
		      k, cases[k].kind, cases[k].index, cases[k].err, cases[k].why,
		      err, why);
		CHECK(!ilio_shim_alloc_refused && used <= 2 * RAM,
		      "case %zu: the open allocated %llu bytes (%lu refused) for a %llu budget",
		      k, (unsigned long long)used, ilio_shim_alloc_refused,
		      (unsigned long long)RAM);
		ilio_core_destroy(ic);
		sd_free(&d);
	}
}

/*
 * Item 4: the superblock's geometry sizes the segment table (52 bytes per
 * segment with the index and the write-back queue): a 1 TiB device (1 M
 * segments) with a 32 MiB budget is refused before the table is allocated.
 */
static void test_seg_table_bound(void)
{
	struct ilio_core *ic;
	struct sdev d;
	const char *why;
	u64 used;
	int err;

	sd_format(&d, BIG_DEV, 1 << 20);
	ic = sd_open(&d, 4096, 32ULL << 20, 256ULL << 20, &err, &why, &used);
	CHECK(!ic && err == -E2BIG && strstr(why, "segment table"),
	      "1 M segments in a 32 MiB budget: refused with -E2BIG (segment table), got %d: %s",
	      err, why);
	CHECK(used < (8ULL << 20) && !ilio_shim_alloc_refused,
	      "%llu bytes allocated before the refusal", (unsigned long long)used);
	ilio_core_destroy(ic);
	sd_free(&d);
}

/* Item 4: the bounds refuse nothing that a real store holds. */
static void test_bounds_accept(void)
{
	struct ilio_core *ic;
	struct sdev d;
	const char *why;
	int err, i, fails = 0;

	make_store(&d, BIG_DEV, 1 << 20, 1 << 20, RAM, 300, true);
	ic = sd_open(&d, 1 << 20, RAM, 4 * RAM, &err, &why, NULL);
	CHECK(ic, "a real store on a big device opens: %d %s", err, why);
	if (ic) {
		for (i = 0; i < 300; i++)
			CHECK_QUIET(got_block(ic, i, 1), fails, "lba %d", i);
		CHECK(fails == 0, "data intact");
		CHECK(!ilio_core_close(ic), "close");
	}
	sd_free(&d);
}

/*
 * CPU time of this process, not wall time: check.sh runs the unit tests
 * at nice 10 beside the VM lanes, where waking QEMU threads can preempt a
 * sub-millisecond GC in every one of five tries (CI saw 5.7 ms for a
 * 0.6 ms gc(1)). The bounds here are about work done, which CPU time
 * measures whatever the host is doing.
 */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Item 5: a whole-device UNMAP entry (a legitimate whole-device discard
 * merges into one) on a 16 TiB sparse map replays per leaf: no leaf is
 * allocated for it and the open does not walk 2^32 LBAs.
 */
static void test_unmap_whole_device(void)
{
	const u64 nblk = 1ULL << 32, ram = 128ULL << 20;
	struct ilio_sum_ent *e;
	struct ilio_unit_hdr *h;
	struct ilio_core *ic;
	struct unit_ref u;
	struct sdev d;
	const char *why;
	double t0, t;
	u32 i, n, found = 0;
	int err, fails = 0;
	u8 *buf;

	sd_format(&d, BIG_DEV, 1 << 20);
	ic = sd_open(&d, nblk, ram, 4 * ram, &err, &why, NULL);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic)
		goto out;
	for (i = 0; i < 8; i++)
		put_block(ic, i, 1);
	put_block(ic, nblk - 1, 1);
	CHECK(!ilio_core_discard(ic, 9), "discard");
	CHECK(!ilio_core_flush(ic), "flush");
	ilio_core_destroy(ic);

	CHECK(find_unit(&d, ILIO_UNIT_DATA, 0, &u), "a data unit");
	buf = unit_load(&d, &u);
	h = (struct ilio_unit_hdr *)buf;
	n = le32_to_cpu(h->nr_ents);
	e = (struct ilio_sum_ent *)(buf + 4096 + le32_to_cpu(h->rec_bytes));
	for (i = 0; i < n; i++) {
		if (le64_to_cpu(e[i].key) >> ILIO_SUM_KIND_SHIFT != ILIO_SUM_UNMAP)
			continue;
		e[i].key = cpu_to_le64(ILIO_SUM_UNMAP << ILIO_SUM_KIND_SHIFT);
		e[i].val = cpu_to_le64(nblk);
		found++;
	}
	CHECK(found == 1, "one UNMAP entry in the unit (%u)", found);
	unit_store(&d, &u, buf);

	t0 = now_s();
	ic = sd_open(&d, nblk, ram, 4 * ram, &err, &why, NULL);
	t = now_s() - t0;
	CHECK(ic, "open with a whole-device UNMAP entry: %d %s", err, why);
	if (!ic)
		goto out;
	printf("  whole-device UNMAP of 2^32 LBAs: open in %.3f s CPU, %llu map leaves\n",
	       t, (unsigned long long)ic->sp.map.leaves_allocated);
	CHECK(t < 3.0, "replayed in %.3f s CPU (a walk of 2^32 LBAs takes tens)", t);
	CHECK(ic->sp.map.leaves_allocated == 2,
	      "only the two leaves the MAP entries need (%llu)",
	      (unsigned long long)ic->sp.map.leaves_allocated);
	for (i = 0; i < 8; i++)
		CHECK_QUIET(got_block(ic, i, 0), fails, "lba %u reads zeroes", i);
	CHECK_QUIET(got_block(ic, nblk - 1, 0), fails, "the last lba reads zeroes");
	CHECK(fails == 0, "everything the UNMAP covers reads zeroes");
	CHECK(ic->sp.map.mapped == 0, "nothing mapped (%llu)",
	      (unsigned long long)ic->sp.map.mapped);
	ilio_core_destroy(ic);
out:
	sd_free(&d);
}

/* Best of @reps timings of @fn on @ic, in seconds. */
static double best_of(struct ilio_core *ic, int reps, int (*fn)(struct ilio_core *))
{
	double best = 1e9, t0, t;
	int r;

	for (r = 0; r < reps; r++) {
		t0 = now_s();
		fn(ic);
		t = now_s() - t0;
		if (t < best)
			best = t;
	}
	return best;
}

static int do_tick(struct ilio_core *ic)
{
	ilio_core_tick(ic);
	return 0;
}

static int do_gc1(struct ilio_core *ic)
{
	return ilio_core_gc(ic, 1);
}

/* The same small workload on a store of @size: GC has victims and waiters. */
static struct ilio_core *tick_store(struct sdev *d, u64 size, u64 ram)
{
	struct ilio_core *ic;
	const char *why;
	int err, i, r;

	sd_format(d, size, 1 << 20);
	ic = sd_open(d, 1 << 20, ram, 4 * ram, &err, &why, NULL);
	CHECK(ic, "open a %llu GiB store: %d %s", (unsigned long long)(size >> 30),
	      err, why);
	if (!ic)
		return NULL;
	for (r = 0; r < 4; r++) {
		for (i = 0; i < 1500; i++)
			if (r == 0 || i % 3 == 0)
				put_block(ic, i, r + 1);
		CHECK(!ilio_core_flush(ic), "flush");
	}
	return ic;
}

/*
 * Item 5: what GC, checkpoints and the tick cost on a store with 4 M
 * segments (4 TiB at 1 MiB; ILIO_TEST_BIG_TIB=16 for 16 M) but a few
 * live ones, against the same store on 4 GiB: O(work), not O(segments).
 */
static void test_tick_cost(void)
{
	const char *env = getenv("ILIO_TEST_BIG_TIB");
	u64 big = (env ? strtoull(env, NULL, 0) : 4) << 40;
	struct ilio_core *ic[2];
	struct sdev d[2];
	double ck[2], gc[2], tk[2];
	char cwhy[160];
	int k, r;

	for (k = 0; k < 2; k++) {
		u64 size = k ? big : 4ULL << 30;
		u64 ram = k ? (u64)(size >> 20) * 64 + (64ULL << 20) : 64ULL << 20;

		ic[k] = tick_store(&d[k], size, ram);
		if (!ic[k])
			break;
		gc[k] = 1e9;
		ck[k] = 1e9;
		tk[k] = 1e9;
	}
	if (k < 2) {
		if (k)
			ilio_core_close(ic[0]);
		for (r = 0; r <= k; r++)
			sd_free(&d[r]);
		return;
	}
	/*
	 * Each store sees the same sequence (five GCs, five checkpoints, 20
	 * ticks), the two stores' turns interleaved so that a change in the
	 * host's load hits both; best of each.
	 */
	for (r = 0; r < 5; r++)
		for (k = 0; k < 2; k++)
			gc[k] = min_t(double, gc[k], best_of(ic[k], 1, do_gc1));
	for (r = 0; r < 5; r++)
		for (k = 0; k < 2; k++)
			ck[k] = min_t(double, ck[k], best_of(ic[k], 1, ilio_core_checkpoint));
	for (r = 0; r < 5; r++)
		for (k = 0; k < 2; k++)
			tk[k] = min_t(double, tk[k], best_of(ic[k], 4, do_tick));
	for (k = 0; k < 2; k++)
		CHECK(!ilio_core_check(ic[k], cwhy, sizeof(cwhy)), "check: %s", cwhy);
	printf("  %u vs %u segments: gc(1) %.3f vs %.3f ms, checkpoint %.3f vs %.3f ms, tick %.4f vs %.4f ms (CPU)\n",
	       ic[0]->sp.segs.nr_segs, ic[1]->sp.segs.nr_segs, gc[0] * 1e3, gc[1] * 1e3,
	       ck[0] * 1e3, ck[1] * 1e3, tk[0] * 1e3, tk[1] * 1e3);
	CHECK(gc[1] <= 4 * gc[0] + 0.002, "gc(1) on %u segments: %.3f ms (%.3f ms on %u)",
	      ic[1]->sp.segs.nr_segs, gc[1] * 1e3, gc[0] * 1e3, ic[0]->sp.segs.nr_segs);
	CHECK(ck[1] <= 4 * ck[0] + 0.002, "checkpoint on %u segments: %.3f ms (%.3f ms on %u)",
	      ic[1]->sp.segs.nr_segs, ck[1] * 1e3, ck[0] * 1e3, ic[0]->sp.segs.nr_segs);
	CHECK(tk[1] <= 4 * tk[0] + 0.002, "tick on %u segments: %.4f ms (%.4f ms on %u)",
	      ic[1]->sp.segs.nr_segs, tk[1] * 1e3, tk[0] * 1e3, ic[0]->sp.segs.nr_segs);
	for (k = 0; k < 2; k++) {
		CHECK(!ilio_core_close(ic[k]), "close");
		sd_free(&d[k]);
	}
}

/*
 * Item 5: a checkpoint of a sparse map on a long device visits the
 * leaves that exist, not every slot of the directory: 64 TiB logical
 * (16 M slots) with two leaves costs what 4 GiB does.
 */
static void test_ckpt_sparse_map(void)
{
	struct ilio_core *ic[2];
	struct sdev d[2];
	double ck[2];
	char cwhy[160];
	int k, err;
	const char *why;

	for (k = 0; k < 2; k++) {
		u64 nblk = k ? 1ULL << 34 : 1ULL << 20;
		u64 ram = k ? 512ULL << 20 : 64ULL << 20;

		sd_format(&d[k], BIG_DEV, 1 << 20);
		ic[k] = sd_open(&d[k], nblk, ram, 4 * ram, &err, &why, NULL);
		CHECK(ic[k], "open %llu blocks: %d %s", (unsigned long long)nblk, err, why);
		if (!ic[k])
			return;
		put_block(ic[k], 0, 1);
		put_block(ic[k], nblk - 1, 1);
		ck[k] = best_of(ic[k], 5, ilio_core_checkpoint);
		CHECK(!ilio_core_check(ic[k], cwhy, sizeof(cwhy)), "check: %s", cwhy);
	}
	printf("  checkpoint of a two-leaf map: %.3f ms at 4 GiB, %.3f ms at 64 TiB logical\n",
	       ck[0] * 1e3, ck[1] * 1e3);
	CHECK(ck[1] <= 4 * ck[0] + 0.002, "checkpoint at 64 TiB logical: %.3f ms (%.3f ms at 4 GiB)",
	      ck[1] * 1e3, ck[0] * 1e3);
	for (k = 0; k < 2; k++) {
		ilio_core_destroy(ic[k]);
		ic[k] = sd_open(&d[k], k ? 1ULL << 34 : 1ULL << 20, k ? 512ULL << 20 : 64ULL << 20,
				2ULL << 30, &err, &why, NULL);
		CHECK(ic[k] && got_block(ic[k], 0, 1) &&
		      got_block(ic[k], (k ? 1ULL << 34 : 1ULL << 20) - 1, 1),
		      "both leaves come back after a crash (%d %s)", err, why);
		ilio_core_destroy(ic[k]);
		sd_free(&d[k]);
	}
}

/*
 * Item 5: a discard of a whole sparse 16 TiB device, walked the way the
 * glue walks a discard bio: blocks in absent leaves are skipped by
 * ilio_core_unmapped_run() in bulk; the rest are discarded one by one.
 */
static int discard_range(struct ilio_core *ic, u64 lba, u64 n, u64 *calls)
{
	int ret = 0;

	while (n && !ret) {
		u64 skip = ilio_core_unmapped_run(ic, lba, n);

		(*calls)++;
		if (skip) {
			lba += skip;
			n -= skip;
			continue;
		}
		ret = ilio_core_discard(ic, lba);
		lba++;
		n--;
	}
	return ret;
}

static void test_discard_sparse(void)
{
	const u64 nblk = 1ULL << 32, ram = 128ULL << 20;
	struct ilio_core *ic;
	struct sdev d;
	const char *why;
	u64 calls = 0, lbas[] = { 0, 5, 1ULL << 20, (1ULL << 31) + 3, nblk - 1 };
	char cwhy[160];
	double t0, t;
	int err, k, fails = 0;

	for (k = 0; k < 2; k++) {
		if (k) {
			sd_format(&d, BIG_DEV, 1 << 20);
			ic = sd_open(&d, nblk, ram, 4 * ram, &err, &why, NULL);
		} else {
			struct ilio_core_params p = {
				.nr_blocks = nblk, .ram_limit = ram, .seg_bytes = 1 << 20,
				.dedup = true, .compress = true,
			};

			ic = ilio_core_create(&p, &err);
		}
		CHECK(ic, "%s: create a 16 TiB store: %d", k ? "persistent" : "diskless", err);
		if (!ic)
			continue;
		for (size_t j = 0; j < ARRAY_SIZE(lbas); j++)
			put_block(ic, lbas[j], 2);
		CHECK(ilio_core_unmapped_run(ic, 1024, 1ULL << 40) == (1ULL << 20) - 1024,
		      "from lba 1024 to the leaf of 2^20: %llu",
		      (unsigned long long)ilio_core_unmapped_run(ic, 1024, 1ULL << 40));
		CHECK(ilio_core_unmapped_run(ic, 5, 100) == 0, "a present leaf is not skipped");
		CHECK(ilio_core_unmapped_run(ic, 2048, 7) == 7, "at most @max");
		CHECK(ilio_core_unmapped_run(ic, nblk, 7) == 0, "past the end");
		calls = 0;
		t0 = now_s();
		CHECK(!discard_range(ic, 1, nblk - 2, &calls), "discard all but the first and last");
		t = now_s() - t0;
		printf("  %s: discard of 2^32 - 2 blocks: %.3f s CPU, %llu calls\n",
		       k ? "persistent" : "diskless", t, (unsigned long long)calls);
		CHECK(calls < 6 * 1024, "%llu calls, not one per block", (unsigned long long)calls);
		CHECK_QUIET(got_block(ic, 0, 2) && got_block(ic, nblk - 1, 2), fails,
			    "the ends survive");
		CHECK_QUIET(got_block(ic, 5, 0) && got_block(ic, 1ULL << 20, 0) &&
			    got_block(ic, (1ULL << 31) + 3, 0), fails, "the rest reads zeroes");
		CHECK(fails == 0, "%s: data after the discard", k ? "persistent" : "diskless");
		CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)), "check: %s", cwhy);
		if (k) {
			CHECK(!ilio_core_flush(ic), "flush");
			ilio_core_destroy(ic);	/* crash */
			ic = sd_open(&d, nblk, ram, 4 * ram, &err, &why, NULL);
			CHECK(ic && got_block(ic, 0, 2) && got_block(ic, nblk - 1, 2) &&
			      got_block(ic, 5, 0) && got_block(ic, (1ULL << 31) + 3, 0),
			      "after a crash: the discard holds (%d %s)", err, why);
			ilio_core_destroy(ic);
			sd_free(&d);
		} else {
			ilio_core_destroy(ic);
		}
	}
}

/*
 * Item 6: a length whose map directory does not fit the budget, up to
 * lengths near 2^64 sectors: refused before any large allocation, no WARN.
 */
static void test_huge_length(void)
{
	static const struct {
		u64 nblk;
		int err;
	} cases[] = {
		{ 1ULL << 34, -E2BIG },		/* 64 TiB: a 128 MiB directory */
		{ 1ULL << 37, -E2BIG },		/* the largest size: 1 GiB */
		{ (1ULL << 37) + 1, -EFBIG },
		{ 1ULL << 40, -EFBIG },		/* 8 GiB: past kvmalloc's INT_MAX */
		{ (~0ULL - 7) >> 3, -EFBIG },	/* a length of 2^64 - 8 sectors */
		{ ~0ULL, -EFBIG },		/* the u64 the core takes */
		{ ~0ULL - 1022, -EFBIG },	/* nr_blocks + 1023 wraps */
	};
	unsigned long w0 = ilio_shim_warnings;
	size_t k;

	for (k = 0; k < ARRAY_SIZE(cases); k++) {
		struct ilio_core_params p = {
			.nr_blocks = cases[k].nblk, .ram_limit = RAM,
			.seg_bytes = 1 << 20, .dedup = true, .compress = true,
		};
		unsigned long long b0 = ilio_shim_alloc_bytes;
		struct ilio_core *ic;
		struct sdev d;
		const char *why;
		int err = 0;
		u64 used;

		ilio_shim_alloc_refused = 0;
		ilio_shim_alloc_limit = (long long)(b0 + 4 * RAM);
		ic = ilio_core_create(&p, &err);
		ilio_shim_alloc_limit = -1;
		CHECK(!ic && err == cases[k].err,
		      "diskless, %llu blocks: refused with %d, got %d",
		      (unsigned long long)cases[k].nblk, cases[k].err, err);
		CHECK(ilio_shim_alloc_bytes - b0 < RAM && !ilio_shim_alloc_refused,
		      "diskless, %llu blocks: %llu bytes allocated before the refusal",
		      (unsigned long long)cases[k].nblk, ilio_shim_alloc_bytes - b0);
		ilio_core_destroy(ic);

		sd_format(&d, SMALL_DEV, 64 << 10);
		ic = sd_open(&d, cases[k].nblk, RAM, 4 * RAM, &err, &why, &used);
		CHECK(!ic && err == cases[k].err &&
		      strstr(why, err == -E2BIG ? "ram_mb is too small" : "too large"),
		      "persistent, %llu blocks: refused with %d, got %d: %s",
		      (unsigned long long)cases[k].nblk, cases[k].err, err, why);
		CHECK(used < RAM && !ilio_shim_alloc_refused,
		      "persistent, %llu blocks: %llu bytes allocated before the refusal",
		      (unsigned long long)cases[k].nblk, (unsigned long long)used);
		ilio_core_destroy(ic);
		sd_free(&d);
	}
	CHECK(ilio_shim_warnings == w0, "no WARN (%lu)", ilio_shim_warnings - w0);
	/* What fits still works: 16 TiB logical in a 64 MiB budget (32 MiB directory). */
	{
		struct ilio_core_params p = {
			.nr_blocks = 1ULL << 32, .ram_limit = RAM,
			.seg_bytes = 1 << 20, .dedup = true, .compress = true,
		};
		struct ilio_core *ic;
		int err = 0;

		ic = ilio_core_create(&p, &err);
		CHECK(ic, "16 TiB logical, 64 MiB budget: %d", err);
		if (ic) {
			put_block(ic, (1ULL << 32) - 1, 3);
			CHECK(got_block(ic, (1ULL << 32) - 1, 3), "last block");
			ilio_core_destroy(ic);
		}
	}
}

/*
 * Item 7: the allocator at the top of the id space.  The directory is
 * filled with one shared leaf, so that next_new can start near 2^32
 * without 96 GiB of leaves; only the last ids are touched.
 */
static void test_cid_wrap(void)
{
	struct rw_semaphore lock;
	struct ilio_chunks c;
	struct ilio_chunk_leaf *leaf;
	u32 nleaves = 1U << (32 - ILIO_CHUNK_LEAF_SHIFT), i, got[8];
	int n = 0, ret = 0;

	init_rwsem(&lock);
	CHECK(!ilio_chunks_init(&c, &lock), "init");
	leaf = calloc(1, sizeof(*leaf));
	kvfree(c.dir);
	c.dir = calloc(nleaves, sizeof(*c.dir));
	for (i = 0; i < nleaves; i++)
		c.dir[i] = leaf;
	c.dir_cap = nleaves;
	c.nr_leaves = nleaves;
	c.next_new = ILIO_CID_MAX - 2;
	down_write(&lock);
	while (n < 8) {
		ret = __ilio_chunk_reserve(&c);
		if (ret)
			break;
		got[n] = __ilio_chunk_alloc(&c, 0x1234 + n, 8);
		n++;
	}
	CHECK(ret == -ENOSPC, "the id space runs out with -ENOSPC (%d)", ret);
	CHECK(n == 3, "exactly the last three ids are handed out (%d)", n);
	for (i = 0; i < (u32)n; i++)
		CHECK(got[i] && got[i] <= ILIO_CID_MAX, "id %u: %#x is a valid id",
		      i, got[i]);
	CHECK(__ilio_chunk_reserve_bytes(&c) == 0, "nothing to reserve at the top");
	/* A freed id is handed out again, and then the space is full again. */
	if (n == 3) {
		CHECK(__ilio_chunk_put(&c, got[1]) == 0, "free one");
		CHECK(!__ilio_chunk_reserve(&c), "a freed id can be reused");
		CHECK(__ilio_chunk_alloc(&c, 99, 8) == got[1], "the freed id");
		CHECK(__ilio_chunk_reserve(&c) == -ENOSPC, "full again");
	}
	up_write(&lock);
	free(c.dir);
	free(leaf);
	kvfree(c.buckets);
}

/*
 * The clean cache's policy (not a bound, but it lives with the leaves):
 * a working set hit once more survives a one-pass scan of 8x the cache,
 * whether the hit was applied at once (__ilio_cache_lookup(), a writer)
 * or only marked by a reader holding the lock shared (__ilio_cache_find());
 * unhit, it does not.  Eviction ends even when every entry is marked.
 */
static int cache_scan(int how)
{
	enum { CAP = 16, WS = 8, SCAN = 128 };
	struct rw_semaphore lock;
	struct ilio_cache c;
	u8 payload[64] = { 1 };
	int i, kept = 0;

	init_rwsem(&lock);
	if (ilio_cache_init(&c, 1 << 20, &lock))
		return -1;
	/* A full cache: older entries, then the working set. */
	down_write(&lock);
	for (i = 1; i <= CAP - WS; i++)
		__ilio_cache_insert(&c, ilio_to_cid(500 + i), payload, sizeof(payload),
				    false);
	for (i = 1; i <= WS; i++)
		__ilio_cache_insert(&c, ilio_to_cid(i), payload, sizeof(payload), false);
	up_write(&lock);
	for (i = 1; i <= WS; i++) {
		if (how == 1) {
			down_write(&lock);
			__ilio_cache_lookup(&c, ilio_to_cid(i));
			up_write(&lock);
		} else if (how == 2) {
			down_read(&lock);
			__ilio_cache_find(&c, ilio_to_cid(i));
			up_read(&lock);
		}
	}
	down_write(&lock);
	for (i = 0; i < SCAN; i++) {
		__ilio_cache_insert(&c, ilio_to_cid(1000 + i), payload, sizeof(payload),
				    false);
		while (c.nr > CAP)
			__ilio_cache_evict_one(&c);
	}
	for (i = 1; i <= WS; i++)
		kept += !!__ilio_cache_lookup(&c, ilio_to_cid(i));
	up_write(&lock);
	ilio_cache_exit(&c);
	return kept;
}

static void test_cache_policy(void)
{
	struct rw_semaphore lock;
	struct ilio_cache c;
	u8 payload[64] = { 2 };
	int i, n;

	CHECK(cache_scan(0) == 0, "an unhit working set survived a scan (%d of 8)",
	      cache_scan(0));
	CHECK(cache_scan(1) == 8, "a working set hit (applied) lost %d of 8 to a scan",
	      8 - cache_scan(1));
	CHECK(cache_scan(2) == 8, "a working set hit (marked, shared lock) lost %d of 8 to a scan",
	      8 - cache_scan(2));

	/* Every entry marked: each eviction still drops exactly one. */
	init_rwsem(&lock);
	CHECK(!ilio_cache_init(&c, 1 << 20, &lock), "cache init");
	down_write(&lock);
	for (i = 1; i <= 32; i++)
		__ilio_cache_insert(&c, ilio_to_cid(i), payload, sizeof(payload), false);
	for (i = 1; i <= 32; i++)
		__ilio_cache_find(&c, ilio_to_cid(i));
	for (n = 32; n > 0; n--) {
		if (!__ilio_cache_evict_one(&c) || c.nr != (u64)n - 1)
			break;
	}
	CHECK(n == 0 && c.nr == 0 && ilio_cache_bytes(&c) == 0,
	      "evicting a fully marked cache: stopped with %llu entries, %llu bytes",
	      (unsigned long long)c.nr, (unsigned long long)ilio_cache_bytes(&c));
	CHECK(!__ilio_cache_evict_one(&c), "an empty cache evicts nothing");
	up_write(&lock);
	ilio_cache_exit(&c);
}

int main(int argc, char **argv)
{
	static const struct ut_case cases[] = {
		{ "cid_bound", test_cid_bound },
		{ "ckpt_index_bound", test_ckpt_index_bound },
		{ "seg_table_bound", test_seg_table_bound },
		{ "bounds_accept", test_bounds_accept },
		{ "unmap_whole_device", test_unmap_whole_device },
		{ "tick_cost", test_tick_cost },
		{ "ckpt_sparse_map", test_ckpt_sparse_map },
		{ "discard_sparse", test_discard_sparse },
		{ "huge_length", test_huge_length },
		{ "cid_wrap", test_cid_wrap },
		{ "cache_policy", test_cache_policy },
	};
	int ret;

	if (ilio_ctx_init(&ctx))
		return 1;
	ret = ut_run(cases, ARRAY_SIZE(cases), argc, argv);
	ilio_ctx_exit(&ctx);
	return ret;
}
