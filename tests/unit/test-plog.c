// SPDX-License-Identifier: GPL-2.0
/*
 * test-plog: persistent mode of the portable core, in userspace, over an
 * in-memory backing device that models a volatile write cache.
 *
 * What it proves:
 *  - data written and closed comes back byte for byte after a re-open;
 *  - after a simulated power cut (pending writes since the last flush are
 *    kept, dropped or torn at random) every block holds what the last
 *    completed flush promised or a value written to it later, never
 *    anything else - at hundreds of crash points;
 *  - GC reclaims space under overwrite; a full device gives -ENOSPC with
 *    data intact and space comes back after discards;
 *  - damaged metadata (superblock, anchors, log units, garbage) gives a
 *    clear refusal or a correct recovery, never a crash;
 *  - a backend write error makes writes and flushes fail, reads work;
 *  - a read-only open writes nothing;
 *  - recovery never opens an older state (trust #7 item 1): power cuts at
 *    every write of the first two checkpoints' window, then wrong-size
 *    opens, transient read errors and a damaged newest anchor refuse
 *    without writing or recover every flushed block; a fallback is taken
 *    only when it provably covers the newest anchor;
 *  - the recovery counters (the activation's kernel log line): a new
 *    store replays nothing, a close leaves only checkpoint units (clean),
 *    a power cut after flushed writes leaves data units (unclean), and a
 *    close after GC alone still ends the log at a checkpoint (clean);
 *  - GC never moves a record that rotted on the device (trust #7 item 2):
 *    its chunk reads as EIO, is counted, survives a re-open as such;
 *  - the content hash key (trust #7 item 3): a keyed store reopens with
 *    its key and dedups across the reopen, a store formatted before keyed
 *    hashing opens with seed 0, an unknown incompat bit is refused, and
 *    collisions forged under the key cost a write at most one device read.
 *  - transient allocation failure (every Nth, or bursts) fails no write,
 *    discard or flush, and loses no data; a RAM budget that metadata plus
 *    the open segment fill drains through write-back instead of failing
 *    with ENOMEM/EAGAIN (trust #7 items 12 and 13).
 *  - asynchronous write-back (issue 9): a burst keeps at least 4 segment
 *    writes in flight; writes completed out of order (newest first) never
 *    move the durable point past an earlier incomplete write, and what a
 *    flush promised survives a power cut taken mid-burst; a failure of the
 *    2nd of several writes in flight fails the flush, makes the store
 *    read-only and keeps acknowledged data readable; every unit on the
 *    device carries a valid checksum (units are sealed outside the lock,
 *    at submission).  The crash-point rounds alternate between immediate
 *    and deferred, newest-first completion.
 */
#include <stdlib.h>
#include <pthread.h>
#include <unistd.h>
#include <string.h>

#include <linux/string.h>
#include <asm/byteorder.h>

#include <linux/printk.h>

#include <linux/wait.h>

#include "ut.h"
#include "ilio-core.h"
#include "ilio-meta.h"
#include "ilio-plog.h"
#include "xxh64-forge.h"

#define DEV_BYTES	(24U << 20)
#define SEG_BYTES	(64U << 10)
#define NBLK		2048U	/* logical blocks (8 MiB) */

static struct ilio_ctx ctx;

extern long ilio_shim_fail_alloc_after;
extern long ilio_shim_fail_alloc_burst;
extern long ilio_shim_fail_alloc_every;
extern long ilio_shim_burst_left;
extern unsigned long ilio_shim_alloc_failed;
extern unsigned long ilio_shim_retry_waits;

static void inject_off(void)
{
	ilio_shim_fail_alloc_every = 0;
	ilio_shim_fail_alloc_after = -1;
	ilio_shim_fail_alloc_burst = 0;
	ilio_shim_burst_left = 0;
}

/* Pending (volatile) write: applied to img, not yet to dur. */
struct pend {
	u64 pos;
	u32 len;
	u8 *data;
};

struct mdev {
	u8 *img;	/* what reads see */
	u8 *dur;	/* what survives a power cut */
	struct pend *pend;
	size_t npend, cap;
	int fail_writes;	/* fail this many writes from now (-1: all) */
	int fail_reads;
	unsigned long fail_read_at;	/* the read this many from now fails */
	unsigned long die_after;	/* writes accepted before a power cut */
	bool dead;		/* past die_after: writes and flushes vanish */
	unsigned long writes, flushes, discards;
	/* Asynchronous writes (write_async). */
	bool kick_later;	/* open with md_ops_bg */
	bool defer;		/* queue them; the wait hook completes them */
	bool fifo;		/* complete the oldest first (else the newest) */
	struct aio {
		u64 pos;
		u32 len;
		const void *buf;
		struct ilio_backend_io *io;
	} q[ILIO_WB_DEPTH * 2];
	unsigned int nq;	/* queued, not completed */
	unsigned int peak;	/* most queued at once */
	unsigned long submitted;
	unsigned long fail_nth;	/* this submission fails, and so does its range */
	u64 fail_pos;		/* ... (set when it is submitted) */
	u64 fail_seq;		/* its first unit */
	unsigned int peak_while_failing;	/* queued with it pending */
	unsigned long cut_after;	/* power cut after this many completions */
	unsigned long completed;
};

static int md_read(void *priv, u64 pos, void *buf, u32 len)
{
	struct mdev *d = priv;

	if (d->fail_reads) {
		if (d->fail_reads > 0)
			d->fail_reads--;
		return -EIO;
	}
	if (d->fail_read_at && !--d->fail_read_at)
		return -EIO;
	if (pos + len > DEV_BYTES)
		return -EIO;
	memcpy(buf, d->img + pos, len);
	return 0;
}

static int md_write(void *priv, u64 pos, const void *buf, u32 len)
{
	struct mdev *d = priv;
	struct pend *p;

	if (d->fail_writes) {
		if (d->fail_writes > 0)
			d->fail_writes--;
		return -EIO;
	}
	if (pos + len > DEV_BYTES || pos % 4096 || len % 4096)
		return -EIO;
	if (d->die_after && !--d->die_after)
		d->dead = true;
	if (d->dead)
		return 0;	/* the power is gone: nothing reaches the disk */
	memcpy(d->img + pos, buf, len);
	if (d->npend == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->pend = realloc(d->pend, d->cap * sizeof(*d->pend));
	}
	p = &d->pend[d->npend++];
	p->pos = pos;
	p->len = len;
	p->data = malloc(len);
	memcpy(p->data, buf, len);
	d->writes++;
	return 0;
}

static void md_drop_pending(struct mdev *d)
{
	size_t i;

	for (i = 0; i < d->npend; i++)
		free(d->pend[i].data);
	d->npend = 0;
}

static int md_flush(void *priv)
{
	struct mdev *d = priv;
	size_t i;

	if (d->fail_writes)
		return -EIO;
	if (d->dead)
		return 0;
	for (i = 0; i < d->npend; i++)
		memcpy(d->dur + d->pend[i].pos, d->pend[i].data, d->pend[i].len);
	md_drop_pending(d);
	d->flushes++;
	return 0;
}

static int md_discard(void *priv, u64 pos, u64 len)
{
	struct mdev *d = priv;

	d->discards++;
	return 0;
}

/*
 * Asynchronous writes.  Immediate mode completes inside write_async; in
 * deferred mode they queue, and the core's wait (ilio_shim_wait_hook)
 * completes one per call, newest first unless @fifo.  Before each
 * completion md_check_durable() asserts the completion-order rule.
 */
static struct mdev *g_md;		/* the device the wait hook serves */
static struct ilio_plog *g_pl;		/* its store, for the invariant check */
static unsigned long g_order_checks, g_order_fails;

static int md_complete_one(struct mdev *d, struct aio *a)
{
	if (d->fail_pos != ~0ULL && a->pos == d->fail_pos)
		return -EIO;
	if (d->cut_after && d->completed++ == d->cut_after)
		d->dead = true;		/* from here on nothing reaches the disk */
	return md_write(d, a->pos, a->buf, a->len);
}

static void md_write_async(void *priv, u64 pos, const void *buf, u32 len,
			   struct ilio_backend_io *io)
{
	struct mdev *d = priv;
	struct aio a = { .pos = pos, .len = len, .buf = buf, .io = io };

	if (++d->submitted == d->fail_nth) {
		struct ilio_unit_info u;

		ilio_unit_hdr_unpack(buf, &u);
		d->fail_pos = pos;
		d->fail_seq = u.seq;
	}
	if (!d->defer) {
		io->done(io, md_complete_one(d, &a));
		return;
	}
	if (d->nq == ARRAY_SIZE(d->q))
		abort();	/* more in flight than the core may have */
	d->q[d->nq++] = a;
	d->peak = max(d->peak, d->nq);
}

/*
 * The completion-order rule: no unit of a write still in flight is
 * counted as written, or durable.  The first unit of each queued write
 * is sealed, so its header names its sequence number.
 */
static void md_check_durable(struct mdev *d)
{
	unsigned int i;

	if (!g_pl)
		return;
	for (i = 0; i < d->nq; i++) {
		struct ilio_unit_info u;
		bool ok;

		ilio_unit_hdr_unpack(d->q[i].buf, &u);
		ok = g_pl->written_seq < u.seq && g_pl->durable_seq < u.seq;
		g_order_checks++;
		if (!ok && g_order_fails++ < 5)
			fprintf(stderr, "FAIL %s: unit %llu in flight, written %llu durable %llu\n",
				ut_current, (unsigned long long)u.seq,
				(unsigned long long)g_pl->written_seq,
				(unsigned long long)g_pl->durable_seq);
	}
}

static void md_wait_hook(void)
{
	struct mdev *d = g_md;
	struct aio a;
	unsigned int k;

	if (!d || !d->nq) {
		fprintf(stderr, "test-plog: the core waits with no write queued\n");
		abort();
	}
	md_check_durable(d);
	if (d->fail_pos != ~0ULL)
		for (k = 0; k < d->nq; k++)
			if (d->q[k].pos == d->fail_pos)
				d->peak_while_failing = max(d->peak_while_failing, d->nq);
	k = d->fifo ? 0 : d->nq - 1;
	a = d->q[k];
	memmove(&d->q[k], &d->q[k + 1], (d->nq - k - 1) * sizeof(d->q[0]));
	d->nq--;
	a.io->done(a.io, md_complete_one(d, &a));
}

/* Deferred completion on @d (newest first unless @fifo), checked. */
static void md_defer(struct mdev *d, bool on, bool fifo)
{
	d->defer = on;
	d->fifo = fifo;
	g_md = on ? d : NULL;
	ilio_shim_wait_hook = on ? md_wait_hook : NULL;
}

static const struct ilio_backend_ops md_ops = {
	.read = md_read, .write = md_write, .write_async = md_write_async,
	.flush = md_flush, .discard = md_discard,
};

/*
 * With a kick, write-back is "started in the background" (that is, not
 * at all until a writer passes max_dirty or a flush comes): closed
 * segments pile up, as they do behind a busy device.
 */
static unsigned long md_kicks;

static void md_kick(void *priv)
{
	md_kicks++;
}

static const struct ilio_backend_ops md_ops_bg = {
	.read = md_read, .write = md_write, .write_async = md_write_async,
	.flush = md_flush, .discard = md_discard, .kick = md_kick,
};

/* Power cut: durable image plus a random subset of pending writes, torn. */
static void md_crash(struct mdev *d, u64 *rs)
{
	size_t i;

	for (i = 0; i < d->npend; i++) {
		struct pend *p = &d->pend[i];
		u32 keep;

		switch (ut_rand(rs) % 3) {
		case 0:
			break;		/* lost */
		case 1:
			memcpy(d->dur + p->pos, p->data, p->len);
			break;
		default:		/* torn: some leading blocks only */
			keep = (u32)(ut_rand(rs) % (p->len / 4096 + 1)) * 4096;
			memcpy(d->dur + p->pos, p->data, keep);
			break;
		}
	}
	md_drop_pending(d);
	memcpy(d->img, d->dur, DEV_BYTES);
	d->dead = false;
	d->die_after = 0;
}

#define TEST_KEY	0x0123456789abcdefULL

static void md_format_dev(struct mdev *d, u32 seg_bytes, bool keyed, u64 key,
			  u64 fmt_bytes);

/* Format as ilioctl does; @keyed false: as it did before keyed hashing. */
static void md_format_key(struct mdev *d, u32 seg_bytes, bool keyed, u64 key)
{
	md_format_dev(d, seg_bytes, keyed, key, DEV_BYTES);
}

/* ... the first @fmt_bytes of the device (it grew after the format). */
static void md_format_dev(struct mdev *d, u32 seg_bytes, bool keyed, u64 key,
			  u64 fmt_bytes)
{
	struct ilio_geom g;
	struct ilio_anchor_info a = { .seq = 1, .epoch = 0x1234, .log_seq = 1 };
	const char *why;

	memset(d, 0, sizeof(*d));
	d->fail_pos = ~0ULL;
	d->img = calloc(1, DEV_BYTES);
	d->dur = calloc(1, DEV_BYTES);
	if (ilio_geom_compute(&g, fmt_bytes, seg_bytes, &why))
		abort();
	memset(g.uuid, 0x5a, sizeof(g.uuid));
	g.keyed_hash = keyed;
	g.hash_seed = keyed ? key : 0;
	ilio_sb_build(d->img, &g, 0);
	ilio_sb_build(d->img + 4096, &g, 1);
	ilio_anchor_build(d->img + 2 * 4096, &g, 2, &a);
	memcpy(d->dur, d->img, DEV_BYTES);
}

static void md_format(struct mdev *d, u32 seg_bytes)
{
	md_format_key(d, seg_bytes, true, TEST_KEY);
}

static void md_free(struct mdev *d)
{
	md_drop_pending(d);
	free(d->pend);
	free(d->img);
	free(d->dur);
}

static struct ilio_core_params md_params(struct mdev *d, u64 nblk, int coalesce,
					  bool ro)
{
	struct ilio_core_params p = {
		.nr_blocks = nblk, .ram_limit = 8U << 20, .seg_bytes = SEG_BYTES,
		.dedup = true, .compress = true, .store = &ilio_log_store,
		.bops = d->kick_later ? &md_ops_bg : &md_ops, .bpriv = d,
		.dev_bytes = DEV_BYTES, .read_only = ro, .coalesce = coalesce,
		.flush_interval_ms = 1000, .max_dirty = 1U << 20,
	};

	return p;
}

static struct ilio_core *md_open(struct mdev *d, u64 nblk, int coalesce,
				 bool ro, int *err, const char **why)
{
	struct ilio_core_params p = md_params(d, nblk, coalesce, ro);

	return ilio_core_open(&p, err, why);
}

/* ilio_core_precheck() of an open of @nblk blocks; *@writes: its writes. */
static bool md_precheck(struct mdev *d, u64 nblk, int *err, const char **why,
			unsigned long *writes)
{
	struct ilio_core_params p = md_params(d, nblk, ILIO_COALESCE_ALWAYS, false);
	unsigned long w0 = d->writes + d->discards + d->npend;
	bool ok;

	*err = 0;
	*why = "";
	ok = ilio_core_precheck(&p, err, why);
	*writes = d->writes + d->discards + d->npend - w0;
	return ok;
}

/* Content of version @v of block @lba: compressible, some duplicates. */
static void content(u8 *b, u64 lba, u32 v)
{
	u64 key = v % 5 == 0 ? 7777 + v % 3 : (lba << 20) | v;

	if (v == 0) {
		memset(b, 0, 4096);
		return;
	}
	ut_fill_random(b, 4096, key);
	memset(b + 2048, (int)(key & 0xff), 1024);
	memcpy(b, &key, sizeof(key));
}

/*
 * The model: per LBA the version the last completed flush covers, and
 * every version written after it (any of which may have survived).
 */
struct model {
	u32 dur[NBLK];
	u32 *later[NBLK];
	u32 nlater[NBLK];
	u32 cur[NBLK];
};

static void model_write(struct model *m, u64 lba, u32 v)
{
	m->later[lba] = realloc(m->later[lba], (m->nlater[lba] + 1) * sizeof(u32));
	m->later[lba][m->nlater[lba]++] = v;
	m->cur[lba] = v;
}

static void model_flush(struct model *m)
{
	u32 i;

	for (i = 0; i < NBLK; i++) {
		m->dur[i] = m->cur[i];
		m->nlater[i] = 0;
	}
}

static void model_free(struct model *m)
{
	u32 i;

	for (i = 0; i < NBLK; i++)
		free(m->later[i]);
}

/*
 * Every block below @n: the durable version or a later one (@exact: the
 * last written).  Returns failures.
 */
static unsigned int verify_n(struct ilio_core *ic, struct model *m, bool exact,
			     u32 n)
{
	u8 got[4096], want[4096];
	unsigned int fails = 0;
	u32 lba, i;

	for (lba = 0; lba < n; lba++) {
		bool ok;

		if (ilio_core_read(ic, lba, got)) {
			CHECK_QUIET(0, fails, "lba %u: read error", lba);
			continue;
		}
		content(want, lba, exact ? m->cur[lba] : m->dur[lba]);
		ok = !memcmp(got, want, 4096);
		for (i = 0; !ok && !exact && i < m->nlater[lba]; i++) {
			content(want, lba, m->later[lba][i]);
			ok = !memcmp(got, want, 4096);
		}
		CHECK_QUIET(ok, fails, "lba %u: content never written there (durable v%u)",
			    lba, m->dur[lba]);
		if (ok && !exact) {
			/* Adopt what survived as the new truth. */
			for (i = 0; i < m->nlater[lba]; i++) {
				content(want, lba, m->later[lba][i]);
				if (!memcmp(got, want, 4096))
					m->dur[lba] = m->later[lba][i];
			}
		}
	}
	if (!exact) {
		for (lba = 0; lba < n; lba++) {
			m->cur[lba] = m->dur[lba];
			m->nlater[lba] = 0;
		}
	}
	return fails;
}

/* Every block of the device: verify_n() over all NBLK blocks. */
static unsigned int verify(struct ilio_core *ic, struct model *m, bool exact)
{
	return verify_n(ic, m, exact, NBLK);
}

static u32 next_version(u64 *rs)
{
	u32 v = (u32)(ut_rand(rs) % 100000) + 1;

	return ut_rand(rs) % 10 == 0 ? 0 : v;
}

static void test_roundtrip(void)
{
	static struct model m;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096];
	u64 rs = 42;
	int err = 0, i;
	char cwhy[128];

	memset(&m, 0, sizeof(m));
	md_format(&d, SEG_BYTES);
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic)
		return;
	for (i = 0; i < 6000; i++) {
		u64 lba = ut_rand(&rs) % NBLK;
		u32 v = next_version(&rs);

		content(b, lba, v);
		CHECK(!ilio_core_write(ic, lba, b, &ctx) || 0, "write");
		model_write(&m, lba, v);
	}
	CHECK(verify(ic, &m, true) == 0, "before close");
	CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)), "check: %s", cwhy);
	CHECK(ilio_core_close(ic) == 0, "close");
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "reopen: %d %s", err, why);
	if (!ic)
		goto out;
	CHECK(verify(ic, &m, true) == 0, "after reopen");
	CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)), "check after reopen: %s", cwhy);
	ilio_core_destroy(ic);
	/* The same store with another size is refused. */
	ic = md_open(&d, NBLK * 2, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(!ic && err == -EINVAL, "size mismatch refused: %s", why);
	ilio_core_destroy(ic);
	/*
	 * ... and by the precheck, which the target runs before it claims a
	 * guarded store: a larger or a smaller table, without a write.  The
	 * right size passes, and so does what only the open can judge (a
	 * superblock that cannot be read).
	 */
	{
		static const u64 sizes[] = { NBLK * 2, NBLK - 1, NBLK + 1, 1 };
		unsigned long w;
		size_t k;

		for (k = 0; k < ARRAY_SIZE(sizes); k++) {
			CHECK(!md_precheck(&d, sizes[k], &err, &why, &w) && err == -EINVAL &&
			      strstr(why, "another size") && !w,
			      "precheck of %llu blocks (the store has %u): refused (%d, %s), %lu writes",
			      (unsigned long long)sizes[k], NBLK, err, why, w);
		}
		CHECK(md_precheck(&d, NBLK, &err, &why, &w) && !err && !w,
		      "precheck of the right size passes (%d), %lu writes", err, w);
		d.fail_reads = -1;
		CHECK(md_precheck(&d, NBLK * 2, &err, &why, &w) && !err && !w,
		      "precheck with every read failing: left to the open (%d)", err);
		d.fail_reads = 0;
		ilio_shim_fail_alloc_after = 0;
		CHECK(!md_precheck(&d, NBLK, &err, &why, &w) && err == -ENOMEM,
		      "precheck out of memory: refused (%d %s)", err, why);
		ilio_shim_fail_alloc_after = -1;
	}
out:
	model_free(&m);
	md_free(&d);
}

/* Random writes, discards, flushes, checkpoints; crash; verify; repeat. */
static void test_crash_points(void)
{
	static struct model m;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096];
	u64 rs = 7;
	int err = 0, round, i, points = 0;
	char cwhy[128];

	memset(&m, 0, sizeof(m));
	md_format(&d, SEG_BYTES);
	for (round = 0; round < 120; round++) {
		int coalesce = round % 3;

		ic = md_open(&d, NBLK, coalesce, false, &err, &why);
		CHECK(ic, "round %d open: %d %s", round, err, why);
		if (!ic)
			break;
		if (round) {
			CHECK(verify(ic, &m, false) == 0, "round %d after crash", round);
			CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)),
			      "round %d check: %s", round, cwhy);
			points++;
		}
		model_flush(&m);	/* open wrote a checkpoint: all durable */
		/* Odd rounds: writes complete later, newest first. */
		md_defer(&d, round % 2, false);
		g_pl = ilio_plog_of(ic->store);
		for (i = 0; i < 300; i++) {
			u64 lba = ut_rand(&rs) % NBLK, r = ut_rand(&rs) % 100;
			u32 v = next_version(&rs);

			if (r < 3) {
				CHECK(!ilio_core_flush(ic) || 0, "flush");
				model_flush(&m);
				continue;
			}
			if (r < 4) {
				CHECK(!ilio_core_checkpoint(ic) || 0, "checkpoint");
				continue;
			}
			if (r < 6) {
				CHECK(!ilio_core_discard(ic, lba) || 0, "discard");
				model_write(&m, lba, 0);
				continue;
			}
			content(b, lba, v);
			CHECK(!ilio_core_write(ic, lba, b, &ctx) || 0, "write");
			model_write(&m, lba, v);
		}
		if (round % 10 == 9)
			ilio_core_tick(ic);
		CHECK(d.nq == 0, "round %d: writes left in flight", round);
		g_pl = NULL;
		md_defer(&d, false, false);
		ilio_core_destroy(ic);	/* power cut: no write-back */
		md_crash(&d, &rs);
	}
	CHECK(points >= 100, "crash points verified: %d", points);
	CHECK(g_order_checks > 1000 && !g_order_fails,
	      "completion order: %lu checks, %lu failed", g_order_checks, g_order_fails);
	model_free(&m);
	md_free(&d);
}

/* Overwrite far more than the device holds: GC must keep up. */
static void test_gc_enospc(void)
{
	struct ilio_stats st;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	static u8 b[4096];
	static u32 ver[NBLK * 4];
	u64 rs = 99, lba;
	int err = 0, i, ret = 0, fails = 0;
	u32 n = NBLK * 4;	/* 32 MiB logical on a 24 MiB device */

	md_format(&d, SEG_BYTES);
	ic = md_open(&d, n, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open: %s", why);
	if (!ic)
		goto out;
	memset(ver, 0, sizeof(ver));
	/* Live set: 1024 unique blocks (4 MiB raw); write 40 MiB of overwrites. */
	for (i = 0; i < 10240; i++) {
		lba = ut_rand(&rs) % 1024;
		ver[lba] = (u32)i + 1;
		ut_fill_random(b, 4096, lba * 1000003 + ver[lba]);
		ret = ilio_core_write(ic, lba, b, &ctx);
		if (ret)
			break;
		if (i % 500 == 0)
			ilio_core_tick(ic);
	}
	CHECK(ret == 0, "overwrite workload: %d at write %d", ret, i);
	ilio_core_get_stats(ic, &st);
	CHECK(st.gc_freed_segments > 0, "gc freed %llu segments",
	      (unsigned long long)st.gc_freed_segments);
	for (lba = 0; lba < 1024; lba++) {
		u8 got[4096];

		if (!ver[lba])
			continue;
		ut_fill_random(b, 4096, lba * 1000003 + ver[lba]);
		CHECK_QUIET(!ilio_core_read(ic, lba, got) && !memcmp(got, b, 4096),
			    fails, "lba %llu after GC", (unsigned long long)lba);
	}
	CHECK(fails == 0, "data intact after GC");
	/* Fill with unique data until the device refuses. */
	for (lba = 1024; lba < n; lba++) {
		ver[lba] = 1;
		ut_fill_random(b, 4096, lba * 1000003 + 1);
		ret = ilio_core_write(ic, lba, b, &ctx);
		if (ret) {
			ver[lba] = 0;
			break;
		}
	}
	CHECK(ret == -ENOSPC, "full device gives -ENOSPC (%d at lba %llu)", ret,
	      (unsigned long long)lba);
	fails = 0;
	for (i = 0; i < (int)lba; i++) {
		u8 got[4096];

		if (!ver[i])
			continue;
		ut_fill_random(b, 4096, (u64)i * 1000003 + ver[i]);
		CHECK_QUIET(!ilio_core_read(ic, i, got) && !memcmp(got, b, 4096),
			    fails, "lba %d after ENOSPC", i);
	}
	CHECK(fails == 0, "data intact after ENOSPC");
	/* A writer that keeps hitting the full device must not eat the reserve. */
	for (i = 0; i < 200; i++) {
		ut_fill_random(b, 4096, 777 + i);
		ret = ilio_core_write(ic, n - 1 - i % 8, b, &ctx);
		CHECK_QUIET(ret == -ENOSPC || ret == 0, fails,
			    "repeated write on a full device: %d", ret);
	}
	CHECK(fails == 0, "repeated writes on a full device keep failing cleanly");
	/* Discard half, and space comes back. */
	for (i = 1024; i < (int)lba; i += 2) {
		CHECK_QUIET(!ilio_core_discard(ic, i), fails, "discard %d", i);
		ver[i] = 0;
	}
	CHECK(fails == 0, "discards on a full device work");
	ut_fill_random(b, 4096, 123456789);
	ret = -1;
	for (i = 0; i < 50 && ret; i++)
		ret = ilio_core_write(ic, lba, b, &ctx);
	CHECK(ret == 0, "write after discards: %d", ret);
	CHECK(ilio_core_close(ic) == 0, "close");
	CHECK(d.discards > 0, "segments discarded on the device: %lu", d.discards);
out:
	md_free(&d);
}

static void flip(struct mdev *d, u64 pos)
{
	d->img[pos] ^= 0x40;
	d->dur[pos] ^= 0x40;
}

static void test_corrupt(void)
{
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096], got[4096];
	u64 rs = 5;
	int err = 0, i, ok;

	md_format(&d, SEG_BYTES);
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open");
	if (!ic)
		goto out;
	for (i = 0; i < 500; i++) {
		content(b, i, 3);
		ilio_core_write(ic, i, b, &ctx);
		if (i == 250)
			CHECK(ilio_core_checkpoint(ic) == 0, "checkpoint");
	}
	CHECK(ilio_core_close(ic) == 0, "close");
	md_drop_pending(&d);
	memcpy(d.dur, d.img, DEV_BYTES);

	/* Superblock copy 0 damaged: copy 1 serves. */
	flip(&d, 100);
	ic = md_open(&d, NBLK, 0, true, &err, &why);
	CHECK(ic, "sb copy 0 damaged: opens from copy 1 (%s)", why);
	if (ic) {
		CHECK(!ilio_core_read(ic, 7, got) && (content(b, 7, 3), !memcmp(got, b, 4096)),
		      "data after sb0 damage");
		ilio_core_destroy(ic);
	}
	/* Both copies: a clear refusal. */
	flip(&d, 4096 + 100);
	ic = md_open(&d, NBLK, 0, true, &err, &why);
	CHECK(!ic && err == -EINVAL && strstr(why, "superblock"),
	      "both sb copies damaged refused: %d %s", err, why);
	flip(&d, 100);
	flip(&d, 4096 + 100);
	/* Not formatted at all. */
	memset(d.img, 0, 2 * 4096);
	ic = md_open(&d, NBLK, 0, true, &err, &why);
	CHECK(!ic && err == -ENOENT, "unformatted refused: %s", why);
	memcpy(d.img, d.dur, 2 * 4096);
	/* Both anchors damaged: refusal. */
	flip(&d, 2 * 4096 + 50);
	flip(&d, 3 * 4096 + 50);
	ic = md_open(&d, NBLK, 0, true, &err, &why);
	CHECK(!ic && err == -EINVAL, "anchors damaged refused: %s", why);
	flip(&d, 2 * 4096 + 50);
	flip(&d, 3 * 4096 + 50);
	/*
	 * The newest anchor, then the first unit of its checkpoint, damaged:
	 * the other anchor (whose log the store keeps) recovers everything.
	 */
	{
		struct ilio_anchor_info an[2];
		struct ilio_geom g;
		int k, newest, ok0, ok1;
		u64 pos;

		ilio_sb_check(d.img, 0, DEV_BYTES, &g, &why);
		ok0 = !ilio_anchor_check(d.img + 2 * 4096, 2, &g, &an[0], &why);
		ok1 = !ilio_anchor_check(d.img + 3 * 4096, 3, &g, &an[1], &why);
		CHECK(ok0 && ok1, "both anchor slots valid after a few checkpoints");
		newest = an[1].seq > an[0].seq;
		for (k = 0; k < 2 && ok0 && ok1; k++) {
			pos = k ? (2 + newest) * 4096ULL + 40 :
				  ilio_seg_block(&g, an[newest].log_seg) * 4096ULL +
				  an[newest].log_off + 4096 + 100;
			flip(&d, pos);
			ic = md_open(&d, NBLK, 0, true, &err, &why);
			if (!k) {
				/*
				 * The older chain stops at the damaged unit: it
				 * cannot prove that no flushed unit followed it,
				 * so this is a refusal (issue #7 item 1).
				 */
				CHECK(!ic && err == -EINVAL && strstr(why, "checkpoint"),
				      "newest checkpoint damaged: refused (%s)",
				      ic ? "opened" : why);
				ilio_core_destroy(ic);
				flip(&d, pos);
				continue;
			}
			CHECK(ic, "newest anchor damaged: the other anchor recovers (%s)",
			      ic ? "" : why);
			if (ic) {
				int j, fails = 0;

				for (j = 0; j < 500; j++) {
					content(b, j, 3);
					if (ilio_core_read(ic, j, got) || memcmp(got, b, 4096))
						fails++;
				}
				CHECK(fails == 0, "%d blocks wrong after fallback", fails);
				ilio_core_destroy(ic);
			}
			flip(&d, pos);
		}
		/*
		 * The newest anchor re-sealed with a wrong start (its chain
		 * cannot be replayed): the older anchor of the same epoch runs
		 * through the newest checkpoint, so it is a proven fallback.
		 * The same with the older anchor in another epoch: refused.
		 */
		if (ok0 && ok1) {
			u8 save[2][4096];
			struct ilio_anchor_info bad = an[newest], old = an[!newest];

			memcpy(save[0], d.img + (2 + newest) * 4096, 4096);
			memcpy(save[1], d.img + (2 + !newest) * 4096, 4096);
			bad.log_off = (bad.log_off + 4096) % SEG_BYTES;
			ilio_anchor_build(d.img + (2 + newest) * 4096, &g, 2 + newest, &bad);
			ic = md_open(&d, NBLK, 0, true, &err, &why);
			CHECK(ic && ilio_core_used_fallback(ic),
			      "unreplayable newest anchor: proven fallback (%s)", ic ? "" : why);
			if (ic) {
				int j, fails = 0;

				for (j = 0; j < 500; j++) {
					content(b, j, 3);
					if (ilio_core_read(ic, j, got) || memcmp(got, b, 4096))
						fails++;
				}
				CHECK(fails == 0, "%d blocks wrong after the proven fallback", fails);
				ilio_core_destroy(ic);
			}
			old.epoch ^= 1;
			ilio_anchor_build(d.img + (2 + !newest) * 4096, &g, 2 + !newest, &old);
			ic = md_open(&d, NBLK, 0, true, &err, &why);
			CHECK(!ic && err == -EINVAL,
			      "fallback to an anchor of another epoch refused (%s)",
			      ic ? "opened" : why);
			ilio_core_destroy(ic);
			memcpy(d.img + (2 + newest) * 4096, save[0], 4096);
			memcpy(d.img + (2 + !newest) * 4096, save[1], 4096);
		}
		/* Both the newest checkpoint and the other anchor: refusal, not emptiness. */
		if (ok0 && ok1) {
			pos = ilio_seg_block(&g, an[newest].log_seg) * 4096ULL +
			      an[newest].log_off + 4096 + 100;
			flip(&d, pos);
			flip(&d, (2 + !newest) * 4096ULL + 40);
			ic = md_open(&d, NBLK, 0, true, &err, &why);
			CHECK(!ic && strstr(why, "checkpoint"),
			      "damaged checkpoint without fallback is refused: %s", ic ? "opened" : why);
			ilio_core_destroy(ic);
			flip(&d, pos);
			flip(&d, (2 + !newest) * 4096ULL + 40);
		}
	}
	/* Random bytes flipped over the log: refusal or exact old data. */
	for (i = 0; i < 200; i++) {
		u64 pos = SEG_BYTES + ut_rand(&rs) % (4U << 20);

		flip(&d, pos);
		ic = md_open(&d, NBLK, 0, true, &err, &why);
		if (ic) {
			int j, fails = 0;

			for (j = 0; j < 500; j++) {
				content(b, j, 3);
				ok = !ilio_core_read(ic, j, got);
				/* Damage may cost data (-EIO, or an older map): never garbage. */
				if (ok && memcmp(got, b, 4096) && memchr_inv(got, 0, 4096))
					fails++;
			}
			CHECK(fails == 0, "flip at %llu: %d blocks hold garbage",
			      (unsigned long long)pos, fails);
			ilio_core_destroy(ic);
		} else {
			CHECK(why && *why, "flip at %llu: refusal has a reason", (unsigned long long)pos);
		}
		flip(&d, pos);
	}
	/* Garbage everywhere in the metadata: no crash. */
	for (i = 0; i < 50; i++) {
		ut_fill_random(d.img + 4 * 4096, 4096, i);
		ic = md_open(&d, NBLK, 0, true, &err, &why);
		ilio_core_destroy(ic);
	}
	CHECK(1, "garbage survived");
out:
	md_free(&d);
}


/* Newest valid anchor slot of the image, or -1. */
static int newest_anchor(struct mdev *d, struct ilio_anchor_info *a)
{
	struct ilio_anchor_info an[2];
	struct ilio_geom g;
	const char *why;
	int ok0, ok1;

	if (ilio_sb_check(d->img, 0, DEV_BYTES, &g, &why))
		return -1;
	ok0 = !ilio_anchor_check(d->img + 2 * 4096, 2, &g, &an[0], &why);
	ok1 = !ilio_anchor_check(d->img + 3 * 4096, 3, &g, &an[1], &why);
	if (!ok0 && !ok1)
		return -1;
	if (ok0 && (!ok1 || an[0].seq > an[1].seq)) {
		*a = an[0];
		return 0;
	}
	*a = an[1];
	return 1;
}

/*
 * Issue #7 item 1: recovery never opens an older state.  A power cut at
 * every device write of the first two checkpoints' window (format anchor
 * still in a slot), then opens that must refuse - a table of another size,
 * a transient read error - and must write nothing; a damaged newest
 * anchor; then the right open: every flushed block is there.
 */
static void test_open_window(void)
{
	static struct model m;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096];
	unsigned long total = 0, k, j;
	int err = 0, i, cuts = 0, refusals = 0, fallbacks = 0, sized = 0;
	u8 *copy = malloc(DEV_BYTES);
	u64 rs = 99;

	for (k = 0; ; k++) {
		bool flushed = false;

		memset(&m, 0, sizeof(m));
		md_format(&d, SEG_BYTES);
		d.die_after = k ? k : 0;
		ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
		if (!ic) {
			CHECK(0, "cut %lu: first open: %s", k, why);
			md_free(&d);
			break;
		}
		model_flush(&m);
		for (i = 0; i < 300; i++) {
			content(b, i, 1 + i % 7);
			ilio_core_write(ic, i, b, &ctx);
			model_write(&m, i, 1 + i % 7);
			if (i == 199) {
				ilio_core_flush(ic);
				if (!d.dead)
					model_flush(&m);
			}
			if (i == 249)
				ilio_core_checkpoint(ic);
		}
		ilio_core_flush(ic);
		if (!d.dead) {
			model_flush(&m);
			flushed = true;
		}
		ilio_core_destroy(ic);	/* power cut */
		if (!k) {
			total = d.writes;	/* writes in the whole window */
			md_free(&d);
			model_free(&m);
			continue;
		}
		md_crash(&d, &rs);
		cuts++;
		memcpy(copy, d.img, DEV_BYTES);

		/*
		 * Another size: refused, and nothing written - once an
		 * activation is durable (before that the store is still
		 * fresh, and any size may claim it).
		 */
		{
			struct ilio_anchor_info a;

			if (newest_anchor(&d, &a) >= 0 && a.nr_blocks) {
				ic = md_open(&d, NBLK * 2, ILIO_COALESCE_ALWAYS,
					     false, &err, &why);
				CHECK_QUIET(!ic && err == -EINVAL, refusals,
					    "cut %lu: a table of twice the size opened", k);
				ilio_core_destroy(ic);
				CHECK_QUIET(!memcmp(copy, d.img, DEV_BYTES) && !d.npend,
					    refusals,
					    "cut %lu: the wrong-size open wrote to the device", k);
				sized++;
			}
		}
		/* A transient read error at each of the first reads: never older data. */
		for (j = 1; j <= 12; j++) {
			d.fail_read_at = j;
			ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
			d.fail_read_at = 0;
			if (ic) {
				/* The error hit no read of the open: it must be right. */
				CHECK_QUIET(verify(ic, &m, false) == 0, refusals,
					    "cut %lu read error %lu: opened with lost data",
					    k, j);
				ilio_core_close(ic);
				md_drop_pending(&d);
				memcpy(d.dur, d.img, DEV_BYTES);
				memcpy(copy, d.img, DEV_BYTES);
				continue;
			}
			CHECK_QUIET(err == -EIO, refusals,
				    "cut %lu read error %lu: err %d (%s)", k, j, err, why);
			CHECK_QUIET(!memcmp(copy, d.img, DEV_BYTES) && !d.npend, refusals,
				    "cut %lu read error %lu: a failed open wrote", k, j);
		}
		/* The newest anchor damaged: refused, or everything flushed is there. */
		{
			struct ilio_anchor_info a;
			int slot = newest_anchor(&d, &a);

			if (slot >= 0) {
				flip(&d, (2 + slot) * 4096ULL + 40);
				ic = md_open(&d, NBLK, 0, true, &err, &why);
				if (ic) {
					fallbacks++;
					CHECK_QUIET(verify(ic, &m, false) == 0, refusals,
						    "cut %lu: damaged newest anchor lost data", k);
					ilio_core_destroy(ic);
				}
				flip(&d, (2 + slot) * 4096ULL + 40);
			}
		}
		/* The right open: every flushed block survives. */
		ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
		CHECK_QUIET(ic, refusals, "cut %lu: right open: %s", k, why);
		if (ic) {
			CHECK_QUIET(verify(ic, &m, false) == 0, refusals,
				    "cut %lu (%s): flushed data lost", k,
				    flushed ? "all flushed" : "partly");
			ilio_core_destroy(ic);
		}
		md_free(&d);
		model_free(&m);
		if (k >= total)
			break;
	}
	CHECK(refusals == 0, "%d failures over %d power cuts", refusals, cuts);
	CHECK(cuts >= 10, "power cuts tried: %d (window of %lu writes)", cuts, total);
	CHECK(sized >= cuts - 4, "wrong-size opens tried at %d of %d cuts", sized, cuts);
	CHECK(fallbacks > 0, "damaged newest anchor opened from the other at %d cuts",
	      fallbacks);
	free(copy);
}

/*
 * Issue #7 item 2: GC verifies what it moves.  A record rots on the device
 * after it was written; GC moves its segment.  The chunk must read as EIO
 * (never the rotten bytes), stay so after a re-open, be counted, and be
 * reported by check; every other block reads back exactly.
 */
static void test_gc_rot(void)
{
	struct ilio_stats st;
	struct ilio_core *ic;
	struct ilio_geom g;
	struct mdev d;
	const char *why = "";
	static u8 b[4096], got[4096];
	char cwhy[128];
	int err = 0, i, fails = 0, ret, round;
	const u32 rot_lba = 5;
	u64 loc, pos;
	u32 cid;

	md_format(&d, SEG_BYTES);
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open: %s", why);
	if (!ic)
		goto out;
	for (i = 0; i < 256; i++) {
		ut_fill_random(b, 4096, 5000 + i);	/* incompressible: raw */
		ilio_core_write(ic, i, b, &ctx);
	}
	CHECK(ilio_core_close(ic) == 0, "close");
	md_drop_pending(&d);
	memcpy(d.dur, d.img, DEV_BYTES);
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "reopen: %s", why);
	if (!ic)
		goto out;
	/* Rot one byte of rot_lba's payload on the device. */
	down_write(&ic->sp.lock);
	cid = __ilio_lbamap_get(&ic->sp.map, rot_lba);
	loc = ilio_chunk_loc(&ic->sp.chunks, cid);
	up_write(&ic->sp.lock);
	ilio_sb_check(d.img, 0, DEV_BYTES, &g, &why);
	pos = ilio_seg_block(&g, ilio_loc_seg(loc)) * 4096ULL + ilio_loc_off(loc) +
	      sizeof(struct ilio_chunk_hdr) + 100;
	flip(&d, pos);
	/* Everything else overwritten: GC must move rot_lba's record. */
	for (i = 0; i < 256; i++) {
		if (i == (int)rot_lba)
			continue;
		ut_fill_random(b, 4096, 9000 + i);
		ilio_core_write(ic, i, b, &ctx);
	}
	CHECK(ilio_core_flush(ic) == 0, "flush");
	/* Free the dead segments first, so that GC has to take live ones. */
	CHECK(ilio_core_checkpoint(ic) == 0, "checkpoint");
	ret = ilio_core_gc(ic, 1000);
	ilio_core_get_stats(ic, &st);
	CHECK(ret >= 0 && st.gc_freed_segments > 0, "gc ran: %d, %llu freed", ret,
	      (unsigned long long)st.gc_freed_segments);
	CHECK(ilio_chunk_loc(&ic->sp.chunks, cid) != loc,
	      "GC took the rotten record's segment");
	for (round = 0; round < 2; round++) {
		const char *when = round ? "after re-open" : "after GC";

		ret = ilio_core_read(ic, rot_lba, got);
		ut_fill_random(b, 4096, 5000 + rot_lba);
		CHECK(ret == -EIO, "%s: the rotten chunk reads as EIO (ret %d, %s)", when,
		      ret, ret ? "-" : !memcmp(got, b, 4096) ? "right data" : "WRONG DATA");
		ilio_core_get_stats(ic, &st);
		CHECK(st.chunks_damaged == 1, "%s: damaged chunks counted: %llu", when,
		      (unsigned long long)st.chunks_damaged);
		CHECK(ilio_core_check(ic, cwhy, sizeof(cwhy)) != 0,
		      "%s: check reports the damaged chunk", when);
		fails = 0;
		for (i = 0; i < 256; i++) {
			if (i == (int)rot_lba)
				continue;
			ut_fill_random(b, 4096, 9000 + i);
			CHECK_QUIET(!ilio_core_read(ic, i, got) && !memcmp(got, b, 4096),
				    fails, "%s: lba %d", when, i);
		}
		CHECK(fails == 0, "%s: every other block intact", when);
		/* Writing the block again heals the LBA. */
		if (round) {
			ut_fill_random(b, 4096, 1);
			CHECK(!ilio_core_write(ic, rot_lba, b, &ctx) &&
			      !ilio_core_read(ic, rot_lba, got) && !memcmp(got, b, 4096),
			      "rewrite heals the LBA");
			break;
		}
		CHECK(ilio_core_close(ic) == 0, "close after GC");
		ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
		CHECK(ic, "re-open after GC: %s", why);
		if (!ic)
			goto out;
	}
	ilio_core_destroy(ic);
out:
	md_free(&d);
}

/* What the open replayed (the recovery line's counters), or fail. */
static struct ilio_recovery reopen_recovery(struct mdev *d, struct ilio_core **icp,
					    const char *what)
{
	struct ilio_recovery r = { 0 };
	struct ilio_stats st;
	const char *why = "";
	int err = 0;

	*icp = md_open(d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(*icp, "%s: open: %d %s", what, err, why);
	if (*icp) {
		ilio_core_get_stats(*icp, &st);
		r = st.recovery;
	}
	return r;
}

/*
 * The recovery counters, and how the log tells a clean shutdown: a new
 * store replays nothing; a close leaves only the checkpoint's units
 * (clean); a power cut after flushed writes leaves data units after it
 * (unclean); and a close after GC alone (no front-end write since the
 * checkpoint, but GC's data units after it) still ends the log at a
 * checkpoint, so the next open says clean.  clear_stats keeps them.
 */
static void test_recovery_info(void)
{
	struct ilio_recovery r;
	struct ilio_stats st;
	struct ilio_core *ic;
	struct mdev d;
	static u8 b[4096];
	u64 rs = 7;
	int i, ret;

	md_format(&d, SEG_BYTES);
	r = reopen_recovery(&d, &ic, "new store");
	if (!ic)
		goto out;
	CHECK(r.shutdown == ILIO_SHUTDOWN_NEW && r.units == 0 && r.data_units == 0,
	      "new store: shutdown %u, %llu units", r.shutdown,
	      (unsigned long long)r.units);
	for (i = 0; i < 512; i++) {
		ut_fill_random(b, 4096, 100 + i);	/* incompressible: raw */
		ilio_core_write(ic, i, b, &ctx);
	}
	CHECK(ilio_core_close(ic) == 0, "close");

	r = reopen_recovery(&d, &ic, "after a close");
	if (!ic)
		goto out;
	CHECK(r.shutdown == ILIO_SHUTDOWN_CLEAN && r.units >= 1 && r.data_units == 0 &&
	      r.journal_units == 0, "after a close: shutdown %u, %llu units, %llu data",
	      r.shutdown, (unsigned long long)r.units, (unsigned long long)r.data_units);
	ilio_core_clear_stats(ic);
	ilio_core_get_stats(ic, &st);
	CHECK(st.recovery.shutdown == r.shutdown && st.recovery.units == r.units,
	      "clear_stats keeps the recovery counters");
	for (i = 0; i < 64; i++) {
		ut_fill_random(b, 4096, 2000 + i);
		ilio_core_write(ic, i, b, &ctx);
	}
	CHECK(ilio_core_flush(ic) == 0, "flush");
	ilio_core_destroy(ic);		/* power cut: the flushed writes are durable */
	md_crash(&d, &rs);

	r = reopen_recovery(&d, &ic, "after a power cut");
	if (!ic)
		goto out;
	CHECK(r.shutdown == ILIO_SHUTDOWN_UNCLEAN && r.data_units >= 1 &&
	      r.units > r.data_units, "after a power cut: shutdown %u, %llu units, %llu data",
	      r.shutdown, (unsigned long long)r.units, (unsigned long long)r.data_units);
	for (i = 0; i < 64; i++) {
		static u8 got[4096];

		ut_fill_random(b, 4096, 2000 + i);
		if (ilio_core_read(ic, i, got) || memcmp(got, b, 4096)) {
			CHECK(0, "after a power cut: flushed lba %d", i);
			break;
		}
	}
	/* Every other block rewritten: segments half live, GC has work. */
	for (i = 64; i < 512; i += 2) {
		ut_fill_random(b, 4096, 3000 + i);
		ilio_core_write(ic, i, b, &ctx);
	}
	CHECK(ilio_core_flush(ic) == 0 && ilio_core_checkpoint(ic) == 0,
	      "flush, checkpoint: the log ends at a checkpoint");
	ret = ilio_core_gc(ic, 1);
	ilio_core_get_stats(ic, &st);
	CHECK(ret == 1 && st.gc_moved_bytes > 0, "GC cleaned one segment: %d, %llu moved",
	      ret, (unsigned long long)st.gc_moved_bytes);
	CHECK(ilio_core_close(ic) == 0, "close after GC alone");

	r = reopen_recovery(&d, &ic, "after GC and a close");
	if (!ic)
		goto out;
	CHECK(r.shutdown == ILIO_SHUTDOWN_CLEAN && r.data_units == 0,
	      "after GC and a close: shutdown %u, %llu data units", r.shutdown,
	      (unsigned long long)r.data_units);
	for (i = 64; i < 512; i++) {
		static u8 got[4096];

		ut_fill_random(b, 4096, (i & 1 ? 100 : 3000) + i);
		if (ilio_core_read(ic, i, got) || memcmp(got, b, 4096)) {
			CHECK(0, "after GC and a close: lba %d", i);
			break;
		}
	}
	ilio_core_destroy(ic);
out:
	md_free(&d);
}

static void test_errors_ro(void)
{
	unsigned long logs;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096], got[4096];
	int err = 0, i, ret;
	u8 *copy;

	md_format(&d, SEG_BYTES);
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open");
	if (!ic)
		goto out;
	for (i = 0; i < 100; i++) {
		content(b, i, 9);
		ilio_core_write(ic, i, b, &ctx);
	}
	CHECK(ilio_core_flush(ic) == 0, "flush");
	CHECK(ilio_core_mode(ic) == ILIO_MODE_WRITE, "healthy: write mode");
	logs = ilio_shim_nr_log;
	d.fail_writes = -1;
	for (i = 100; i < 400; i++) {
		content(b, i, 9);
		ret = ilio_core_write(ic, i, b, &ctx);
		if (ret)
			break;
	}
	CHECK(ilio_core_flush(ic) == -EIO, "flush fails after backend error");
	CHECK(ilio_core_error(ic) != 0, "sticky error");
	/* One mode change, logged once, naming the device. */
	CHECK(ilio_core_mode(ic) == ILIO_MODE_READ_ONLY, "read-only mode: %d",
	      ilio_core_mode(ic));
	CHECK(ilio_shim_nr_log == logs + 1 &&
	      strstr(ilio_shim_last_log, "ilio: ilio: backing device write failed") &&
	      strstr(ilio_shim_last_log, "read-only mode"),
	      "one log line: %lu, '%s'", ilio_shim_nr_log - logs, ilio_shim_last_log);
	CHECK(!ilio_core_set_mode(ic, ILIO_MODE_WRITE, "test", 0) &&
	      ilio_core_mode(ic) == ILIO_MODE_READ_ONLY, "sticky: never back to write");
	CHECK(ilio_core_checkpoint(ic) && ilio_core_gc(ic, 1) <= 0 &&
	      ilio_shim_nr_log == logs + 1, "more failures log nothing more");
	content(b, 0, 9);
	CHECK(ilio_core_write(ic, 0, b, &ctx) == -EIO, "write refused read-only");
	CHECK(!ilio_core_read(ic, 5, got) && !memcmp(got, b, 0) &&
	      (content(b, 5, 9), !memcmp(got, b, 4096)), "reads still work");
	ilio_core_destroy(ic);
	d.fail_writes = 0;
	md_drop_pending(&d);
	memcpy(d.img, d.dur, DEV_BYTES);
	/* Read-only open: serves the flushed data, writes nothing. */
	copy = malloc(DEV_BYTES);
	memcpy(copy, d.img, DEV_BYTES);
	logs = ilio_shim_nr_log;
	ic = md_open(&d, NBLK, 0, true, &err, &why);
	CHECK(ic, "read-only open: %s", why);
	if (ic) {
		CHECK(ilio_core_mode(ic) == ILIO_MODE_READ_ONLY &&
		      ilio_shim_nr_log == logs,
		      "opened read-only: read-only mode, nothing logged");
		content(b, 50, 9);
		CHECK(!ilio_core_read(ic, 50, got) && !memcmp(got, b, 4096), "ro read");
		CHECK(ilio_core_write(ic, 1, b, &ctx) == -EROFS, "ro write refused");
		ilio_core_close(ic);
	}
	CHECK(!memcmp(copy, d.img, DEV_BYTES) && d.npend == 0, "read-only wrote nothing");
	free(copy);
	/* Read errors reach the caller. */
	ic = md_open(&d, NBLK, 0, false, &err, &why);
	CHECK(ic, "reopen");
	if (ic) {
		d.fail_reads = -1;
		CHECK(ilio_core_read(ic, 60, got) == -EIO, "read error surfaces");
		d.fail_reads = 0;
		content(b, 60, 9);
		CHECK(!ilio_core_read(ic, 60, got) && !memcmp(got, b, 4096), "then reads");
		ilio_core_destroy(ic);
	}
out:
	md_free(&d);
}

/*
 * Coalescing policies: "always" leaves a partial segment in RAM until a
 * flush; "auto" writes it once it is old (sooner on a fast idle device,
 * which this in-memory one is); "off" writes every block through.
 */
static void test_coalesce(void)
{
	static const int modes[] = { ILIO_COALESCE_ALWAYS, ILIO_COALESCE_AUTO,
				     ILIO_COALESCE_OFF };
	struct ilio_stats st;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096];
	int err = 0, i, m;
	u64 w0, w1, w2;

	for (m = 0; m < 3; m++) {
		struct ilio_core_params p = {
			.nr_blocks = NBLK, .ram_limit = 8U << 20, .seg_bytes = SEG_BYTES,
			.dedup = true, .compress = true, .store = &ilio_log_store, .bops = &md_ops, .bpriv = &d,
			.dev_bytes = DEV_BYTES, .coalesce = modes[m],
			.flush_interval_ms = 100, .max_dirty = 1U << 20,
		};

		md_format(&d, SEG_BYTES);
		ic = ilio_core_open(&p, &err, &why);
		CHECK(ic, "open: %s", why);
		if (!ic) {
			md_free(&d);
			continue;
		}
		ilio_core_get_stats(ic, &st);
		w0 = st.backend_write_ios;
		for (i = 0; i < 4; i++) {
			content(b, i, 11);
			ilio_core_write(ic, i, b, &ctx);
		}
		ilio_core_get_stats(ic, &st);
		w1 = st.backend_write_ios;
		usleep(30 * 1000);	/* > flush_interval_ms / 10 */
		ilio_core_tick(ic);
		ilio_core_tick(ic);
		ilio_core_get_stats(ic, &st);
		w2 = st.backend_write_ios;
		switch (modes[m]) {
		case ILIO_COALESCE_ALWAYS:
			CHECK(w1 == w0 && w2 == w0, "always: nothing written before a flush (%llu %llu %llu)",
			      (unsigned long long)w0, (unsigned long long)w1, (unsigned long long)w2);
			break;
		case ILIO_COALESCE_AUTO:
			CHECK(w1 == w0 && w2 > w1, "auto: an aging partial segment is written (%llu %llu %llu)",
			      (unsigned long long)w0, (unsigned long long)w1, (unsigned long long)w2);
			CHECK(st.dirty_bytes == 0, "auto: nothing dirty after the tick (%llu)",
			      (unsigned long long)st.dirty_bytes);
			break;
		default:
			CHECK(w1 - w0 == 4, "off: each block written through (%llu)",
			      (unsigned long long)(w1 - w0));
			break;
		}
		ilio_core_close(ic);
		md_free(&d);
	}
}

static bool ilio_all_zero_range(const u8 *p, size_t n)
{
	return !memchr_inv(p, 0, n);
}

/* Re-seal superblock copy @i of @d (both views) after editing it. */
static void sb_reseal(struct mdev *d, int i)
{
	static const u8 zero[4];
	u8 *b = d->img + i * 4096;
	u32 crc = ilio_crc32c(~0U, b, 4);

	crc = ilio_crc32c(crc, zero, 4);
	crc = ilio_crc32c(crc, b + 8, 4096 - 8);
	memcpy(b + 4, &crc, 4);
	memcpy(d->dur + i * 4096, b, 4096);
}

/* Write 64 blocks, close, reopen, write them again elsewhere: all shared. */
static void hash_key_roundtrip(struct mdev *d, u64 want_key, const char *what)
{
	struct ilio_core *ic;
	struct ilio_stats st;
	const char *why = "";
	u8 b[4096], got[4096];
	int err = 0, fails = 0;
	u32 lba;

	ic = md_open(d, NBLK, 0, false, &err, &why);
	CHECK(ic, "%s: open: %d %s", what, err, why);
	if (!ic)
		return;
	CHECK(ic->sp.hash_seed == want_key, "%s: opened with key %llx", what,
	      (unsigned long long)ic->sp.hash_seed);
	for (lba = 0; lba < 64; lba++) {
		content(b, lba, 1);
		CHECK_QUIET(!ilio_core_write(ic, lba, b, &ctx), fails, "write %u", lba);
	}
	CHECK(ilio_core_close(ic) == 0, "%s: close", what);
	ic = md_open(d, NBLK, 0, false, &err, &why);
	CHECK(ic, "%s: reopen: %d %s", what, err, why);
	if (!ic)
		return;
	CHECK(ic->sp.hash_seed == want_key, "%s: reopened with key %llx", what,
	      (unsigned long long)ic->sp.hash_seed);
	for (lba = 0; lba < 64; lba++) {
		content(b, lba, 1);
		CHECK_QUIET(!ilio_core_write(ic, 64 + lba, b, &ctx), fails,
			    "write %u", 64 + lba);
	}
	ilio_core_get_stats(ic, &st);
	CHECK(st.dedup_hits == 64 && st.unique_chunks == 64,
	      "%s: across the reopen %llu hits, %llu chunks (want 64, 64)", what,
	      (unsigned long long)st.dedup_hits,
	      (unsigned long long)st.unique_chunks);
	for (lba = 0; lba < 128; lba++) {
		content(b, lba % 64, 1);
		CHECK_QUIET(!ilio_core_read(ic, lba, got) && !memcmp(got, b, 4096),
			    fails, "lba %u reads back wrong", lba);
	}
	CHECK(fails == 0, "%s: %d failures", what, fails);
	CHECK(ilio_core_close(ic) == 0, "%s: close again", what);
}

static void test_hash_key(void)
{
	const u64 nfg = 64, nw = 16;
	const struct ilio_sb *sb;
	struct ilio_core *ic;
	struct ilio_stats st;
	struct mdev d;
	const char *why = "";
	uint64_t lanes[4];
	u8 *fb, base[4096], got[4096];
	u64 i, before_r, before_c;
	int err = 0, fails = 0;

	/* A keyed store: the key is in the superblock, behind an incompat bit. */
	md_format(&d, SEG_BYTES);
	sb = (const void *)d.img;
	CHECK(le64_to_cpu(sb->incompat) ==
	      (ILIO_FEAT_INCOMPAT_LZ4 | ILIO_FEAT_INCOMPAT_KEYED_HASH) &&
	      le64_to_cpu(sb->hash_seed) == TEST_KEY,
	      "keyed superblock: incompat %llx seed %llx",
	      (unsigned long long)le64_to_cpu(sb->incompat),
	      (unsigned long long)le64_to_cpu(sb->hash_seed));
	/* What a reader from before keyed hashing checks: it must refuse. */
	CHECK(le64_to_cpu(sb->incompat) & ~ILIO_FEAT_INCOMPAT_LZ4,
	      "an old reader would open a keyed store");
	hash_key_roundtrip(&d, TEST_KEY, "keyed");
	md_free(&d);

	/* A store formatted before: no bit, zero bytes there, seed 0. */
	md_format_key(&d, SEG_BYTES, false, 0);
	sb = (const void *)d.img;
	CHECK(le64_to_cpu(sb->incompat) == ILIO_FEAT_INCOMPAT_LZ4 &&
	      ilio_all_zero_range(d.img + 96, 4096 - 96),
	      "old superblock: incompat %llx, bytes after the old fields not zero",
	      (unsigned long long)le64_to_cpu(sb->incompat));
	hash_key_roundtrip(&d, 0, "unkeyed");
	md_free(&d);

	/* An unknown incompat bit, in both copies, is refused. */
	md_format(&d, SEG_BYTES);
	for (i = 0; i < 2; i++) {
		struct ilio_sb *w = (void *)(d.img + i * 4096);

		w->incompat = cpu_to_le64(le64_to_cpu(w->incompat) | (1ULL << 40));
		sb_reseal(&d, i);
	}
	ic = md_open(&d, NBLK, 0, false, &err, &why);
	CHECK(!ic && err == -EINVAL &&
	      !strcmp(why, "superblock has unknown incompatible features"),
	      "unknown incompat bit: %d %s", err, ic ? "opened" : why);
	ilio_core_destroy(ic);
	md_free(&d);

	/* A key without the feature bit is damage, not an unkeyed store. */
	md_format(&d, SEG_BYTES);
	for (i = 0; i < 2; i++) {
		struct ilio_sb *w = (void *)(d.img + i * 4096);

		w->incompat = cpu_to_le64(ILIO_FEAT_INCOMPAT_LZ4);
		sb_reseal(&d, i);
	}
	ic = md_open(&d, NBLK, 0, false, &err, &why);
	CHECK(!ic && err == -EINVAL &&
	      !strcmp(why, "superblock has a hash key but not the keyed-hash feature"),
	      "key without the bit: %d %s", err, ic ? "opened" : why);
	ilio_core_destroy(ic);
	md_free(&d);

	/*
	 * The key leaked: 64 colliding blocks on the device, none cached.
	 * Each of 16 more costs at most one device read and the budget.
	 */
	md_format(&d, SEG_BYTES);
	fb = malloc((nfg + nw) * 4096);
	ut_fill_random(base, 4096, 99);
	xf_lanes(base, XF_STRIPES, TEST_KEY, lanes);
	for (i = 0; i < nfg + nw; i++) {
		memcpy(fb + i * 4096, base, 4096);
		memcpy(fb + i * 4096 + 4096 - 64, &i, sizeof(i));
		xf_forge(fb + i * 4096, TEST_KEY, lanes);
	}
	ic = md_open(&d, NBLK, 0, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic)
		goto out;
	ilio_core_set_policy(ic, false, true);	/* set-up: no lookups */
	for (i = 0; i < nfg; i++)
		CHECK_QUIET(!ilio_core_write(ic, i, fb + i * 4096, &ctx), fails,
			    "write %llu", (unsigned long long)i);
	CHECK(ilio_core_close(ic) == 0, "close");
	ic = md_open(&d, NBLK, 0, false, &err, &why);
	CHECK(ic, "reopen: %d %s", err, why);
	if (!ic)
		goto out;
	for (i = nfg; i < nfg + nw; i++) {
		before_r = ic->sp.st.backend_read_ios;
		before_c = ic->sp.st.dedup_candidates;
		CHECK_QUIET(!ilio_core_write(ic, i, fb + i * 4096, &ctx), fails,
			    "write %llu", (unsigned long long)i);
		CHECK_QUIET(ic->sp.st.backend_read_ios - before_r <= 1 &&
			    ic->sp.st.dedup_candidates - before_c <= ILIO_DEDUP_BUDGET,
			    fails, "write %llu: %llu device reads, %llu candidates",
			    (unsigned long long)i,
			    (unsigned long long)(ic->sp.st.backend_read_ios - before_r),
			    (unsigned long long)(ic->sp.st.dedup_candidates - before_c));
	}
	ilio_core_get_stats(ic, &st);
	CHECK(st.dedup_candidates_capped == nw && st.dedup_hits == 0,
	      "capped %llu of %llu writes, %llu hits",
	      (unsigned long long)st.dedup_candidates_capped,
	      (unsigned long long)nw, (unsigned long long)st.dedup_hits);
	for (i = 0; i < nfg + nw; i++)
		CHECK_QUIET(!ilio_core_read(ic, i, got) &&
			    !memcmp(got, fb + i * 4096, 4096), fails,
			    "lba %llu reads back wrong", (unsigned long long)i);
	CHECK(fails == 0, "forged on the device: %d failures", fails);
	CHECK(ilio_core_close(ic) == 0, "close after the forgery");
out:
	free(fb);
	md_free(&d);
}

static struct ilio_core *md_open_ram(struct mdev *d, u64 ram, int *err,
				     const char **why)
{
	struct ilio_core_params p = {
		.nr_blocks = NBLK, .ram_limit = ram, .seg_bytes = SEG_BYTES,
		.dedup = true, .compress = true, .store = &ilio_log_store, .bops = &md_ops, .bpriv = d,
		.dev_bytes = DEV_BYTES, .coalesce = ILIO_COALESCE_AUTO,
		.flush_interval_ms = 1000, .max_dirty = 1U << 20,
	};

	return ilio_core_open(&p, err, why);
}

/*
 * A write/discard/flush workload; with @inject, allocations fail
 * transiently (every 3rd, every 2nd, or bursts of 40).  Every operation
 * must succeed.  Return: operations that failed.
 */
static int pressure_workload(struct ilio_core *ic, struct model *m, u64 *rs,
			     int ops, int inject)
{
	u8 b[4096];
	int i, fails = 0, errs = 0, ret;

	for (i = 0; i < ops; i++) {
		u64 lba = ut_rand(rs) % NBLK, r = ut_rand(rs) % 100;
		u32 v = next_version(rs);
		const char *what = "write";

		if (inject == 1)
			ilio_shim_fail_alloc_every = 3;
		else if (inject == 2)
			ilio_shim_fail_alloc_every = 2;
		else if (inject == 3 && i % 64 == 0) {
			ilio_shim_fail_alloc_after = (long)(r % 3);
			ilio_shim_fail_alloc_burst = 40;
		}
		if (r < 2) {
			what = "flush";
			ret = ilio_core_flush(ic);
		} else if (r < 12) {
			what = "discard";
			ret = ilio_core_discard(ic, lba);
			if (!ret)
				model_write(m, lba, 0);
		} else {
			content(b, lba, v);
			ret = ilio_core_write(ic, lba, b, &ctx);
			if (!ret)
				model_write(m, lba, v);
		}
		if (i % 200 == 199)
			ilio_core_tick(ic);
		CHECK_QUIET(ret == 0, errs, "op %d (%s lba %llu): %d", i, what,
			    (unsigned long long)lba, ret);
		fails += ret != 0;
	}
	inject_off();
	return fails;
}

/*
 * trust #7 item 12: transient allocation failures during writes,
 * discards, flushes, write-back and GC of a persistent store: nothing
 * fails, every block reads back exactly, before and after a re-open.
 */
static void test_transient_enomem(void)
{
	static struct model m;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	char cwhy[128];
	unsigned long f0;
	u64 rs = 2024;
	int err = 0, inject, fails;

	for (inject = 1; inject <= 3; inject++) {
		memset(&m, 0, sizeof(m));
		md_format(&d, SEG_BYTES);
		/* 2 MiB of RAM for 8 MiB logical: segments come and go. */
		ic = md_open_ram(&d, 2U << 20, &err, &why);
		CHECK(ic, "open: %d %s", err, why);
		if (!ic) {
			md_free(&d);
			continue;
		}
		f0 = ilio_shim_alloc_failed;
		fails = pressure_workload(ic, &m, &rs, 5000, inject);
		printf("  inject %d: %lu allocations failed, %d operations failed, %lu waits so far\n",
		       inject, ilio_shim_alloc_failed - f0, fails, ilio_shim_retry_waits);
		CHECK(ilio_shim_alloc_failed - f0 > 20, "inject %d: only %lu failures",
		      inject, ilio_shim_alloc_failed - f0);
		CHECK(fails == 0, "inject %d: %d operations failed", inject, fails);
		CHECK(verify(ic, &m, true) == 0, "inject %d: data before close", inject);
		CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)), "check: %s", cwhy);
		CHECK(ilio_core_close(ic) == 0, "close");
		ic = md_open_ram(&d, 2U << 20, &err, &why);
		CHECK(ic, "reopen: %d %s", err, why);
		if (ic) {
			CHECK(verify(ic, &m, true) == 0, "inject %d: data after reopen", inject);
			ilio_core_destroy(ic);
		}
		model_free(&m);
		md_free(&d);
	}
}

/*
 * trust #7 item 13: the smallest RAM budget the store opens with, so that
 * metadata plus the open segment fill it once the maps grow.  The budget
 * is not genuinely full (metadata plus one segment fit): writes and
 * discards must drain the open segment and succeed, never ENOMEM/EAGAIN.
 */
static void test_ram_full_drain(void)
{
	static struct model m;
	struct ilio_stats st;
	struct ilio_core *ic = NULL;
	struct mdev d;
	const char *why = "";
	char cwhy[128];
	u64 ram;
	u8 b[4096];
	int err = 0, fails = 0, errs = 0, ret, i, pass;

	memset(&m, 0, sizeof(m));
	md_format(&d, SEG_BYTES);
	for (ram = 128U << 10; ram < (4U << 20) && !ic; ram += 4096)
		ic = md_open_ram(&d, ram, &err, &why);
	CHECK(ic, "no budget below 4 MiB opens: %d %s", err, why);
	if (!ic)
		goto out;
	ram -= 4096;
	ilio_core_get_stats(ic, &st);
	printf("  smallest budget: %llu KiB, metadata %llu KiB\n",
	       (unsigned long long)ram >> 10, (unsigned long long)st.meta_bytes >> 10);
	/* Unique data everywhere (map and chunk leaves grow), twice. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < (int)NBLK; i++) {
			u32 v = (u32)(pass * NBLK + i) * 7 + 1;

			content(b, i, v % 5 ? v : v + 1);
			ret = ilio_core_write(ic, i, b, &ctx);
			CHECK_QUIET(ret == 0, errs, "pass %d write %d: %d", pass, i, ret);
			fails += ret != 0;
			if (!ret)
				model_write(&m, i, v % 5 ? v : v + 1);
			if (i % 3 == 2) {
				ret = ilio_core_discard(ic, i - 1);
				CHECK_QUIET(ret == 0, errs, "pass %d discard %d: %d", pass,
					    i - 1, ret);
				fails += ret != 0;
				if (!ret)
					model_write(&m, i - 1, 0);
			}
			if (i % 256 == 255)
				ilio_core_tick(ic);
		}
	}
	ilio_core_get_stats(ic, &st);
	printf("  after: ram used %llu of %llu KiB, metadata %llu KiB, %d failures\n",
	       (unsigned long long)st.ram_used_bytes >> 10,
	       (unsigned long long)st.ram_limit_bytes >> 10,
	       (unsigned long long)st.meta_bytes >> 10, fails);
	CHECK(fails == 0, "%d writes/discards failed in a drainable budget", fails);
	CHECK(st.ram_used_bytes <= st.ram_limit_bytes, "budget exceeded: %llu > %llu",
	      (unsigned long long)st.ram_used_bytes,
	      (unsigned long long)st.ram_limit_bytes);
	CHECK(verify(ic, &m, true) == 0, "data in the tight budget");
	CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)), "check: %s", cwhy);
	CHECK(ilio_core_close(ic) == 0, "close");
	ic = md_open_ram(&d, 8U << 20, &err, &why);
	CHECK(ic, "reopen: %d %s", err, why);
	if (ic) {
		CHECK(verify(ic, &m, true) == 0, "data after reopen");
		ilio_core_destroy(ic);
	}
out:
	model_free(&m);
	md_free(&d);
}

static struct ilio_core *md_open_kick(struct mdev *d, int coalesce, u64 ram,
				      u64 max_dirty, int *err, const char **why)
{
	struct ilio_core_params p = {
		.nr_blocks = NBLK, .ram_limit = ram, .seg_bytes = SEG_BYTES,
		.dedup = true, .compress = true, .store = &ilio_log_store,
		.bops = &md_ops_bg, .bpriv = d, .dev_bytes = DEV_BYTES,
		.coalesce = coalesce, .flush_interval_ms = 1000,
		.max_dirty = max_dirty,
	};

	return ilio_core_open(&p, err, why);
}

/*
 * The map function's calls (ilio_core_*_nowait()) never touch the device:
 * what needs it - a chunk only the device holds, a dedup candidate there,
 * write-back under pressure - comes back as -EAGAIN with nothing changed,
 * or (stored, write-back owed) ILIO_OWES_WRITEBACK; the worker's call
 * then finishes the job.  Device I/O is counted on the mdev, so "no I/O"
 * is checked directly.
 */
static void test_nowait(void)
{
	static struct model m;
	struct ilio_stats st, st2;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	char cwhy[128];
	unsigned long w0, again = 0, owes = 0;
	u8 b[4096], r[4096];
	int err = 0, ret, i, errs = 0;

	memset(&m, 0, sizeof(m));
	md_format(&d, SEG_BYTES);
	ic = md_open_kick(&d, ILIO_COALESCE_AUTO, 8U << 20, 1U << 20, &err, &why);
	CHECK(ic, "open: %s", why);
	if (!ic)
		goto out;
	/* Plain writes: stored here, write-back only kicked. */
	md_kicks = 0;
	w0 = d.writes;
	for (i = 0; i < 64; i++) {
		content(b, i, 3 + i);
		ret = ilio_core_write_nowait(ic, i, b, &ctx);
		CHECK_QUIET(ret == 0, errs, "write_nowait %d: %d", i, ret);
		ret = ilio_core_read_nowait(ic, i, r, &ctx);
		CHECK_QUIET(ret == 0 && !memcmp(b, r, 4096), errs,
			    "read_nowait %d back: %d", i, ret);
		model_write(&m, i, 3 + i);
	}
	CHECK(d.writes == w0, "nowait writes wrote to the device (%lu)", d.writes - w0);
	CHECK(md_kicks > 0, "full units never kicked write-back");
	CHECK(ilio_core_discard_nowait(ic, 63) == 0, "discard_nowait");
	model_write(&m, 63, 0);
	CHECK(ilio_core_close(ic) == 0, "close");

	/* Reopened: every chunk is on the device only. */
	ic = md_open_kick(&d, ILIO_COALESCE_AUTO, 8U << 20, 1U << 20, &err, &why);
	CHECK(ic, "reopen: %s", why);
	if (!ic)
		goto out;
	ilio_core_get_stats(ic, &st);
	w0 = d.writes;
	memset(r, 0x5a, 4096);
	CHECK(ilio_core_read_nowait(ic, 5, r, &ctx) == -EAGAIN,
	      "a chunk on the device only is not read inline");
	ilio_core_get_stats(ic, &st2);
	CHECK(st2.cache_misses == st.cache_misses && st2.backend_read_ios ==
	      st.backend_read_ios, "the inline attempt counted or read (%llu %llu)",
	      (unsigned long long)(st2.cache_misses - st.cache_misses),
	      (unsigned long long)(st2.backend_read_ios - st.backend_read_ios));
	content(b, 5, 3 + 5);
	CHECK(ilio_core_read_ctx(ic, 5, r, &ctx) == 0 && !memcmp(b, r, 4096),
	      "worker read (the device, in one call)");
	ilio_core_get_stats(ic, &st2);
	CHECK(st2.cache_misses == st.cache_misses + 1 &&
	      st2.backend_read_ios == st.backend_read_ios + 1,
	      "the worker read: one miss, one device read (%llu %llu)",
	      (unsigned long long)(st2.cache_misses - st.cache_misses),
	      (unsigned long long)(st2.backend_read_ios - st.backend_read_ios));
	CHECK(ilio_core_read_nowait(ic, 5, r, &ctx) == 0 && !memcmp(b, r, 4096),
	      "now cached: inline");
	CHECK(ilio_core_read_ctx(ic, 5, r, &ctx) == 0 && !memcmp(b, r, 4096),
	      "now cached: the worker's read decodes the cached copy");

	/*
	 * A dedup candidate on the device only: -EAGAIN, nothing changed.
	 * Version 20 (lba 17) is content that does not depend on the lba.
	 */
	content(b, 100, 20);
	ilio_core_get_stats(ic, &st);
	CHECK(ilio_core_write_nowait(ic, 100, b, &ctx) == -EAGAIN,
	      "dedup against the device inline");
	ilio_core_get_stats(ic, &st2);
	CHECK(st2.dedup_hits == st.dedup_hits && st2.logical_bytes == st.logical_bytes &&
	      st2.unique_chunks == st.unique_chunks, "the failed attempt changed the store");
	CHECK(st2.backend_read_ios == st.backend_read_ios,
	      "the inline write read the device");
	CHECK(ilio_core_read_nowait(ic, 100, r, &ctx) == 0 && ilio_all_zero_range(r, 4096),
	      "lba 100 written by an attempt");
	CHECK(ilio_core_write(ic, 100, b, &ctx) == 0, "worker write");
	model_write(&m, 100, 20);
	ilio_core_get_stats(ic, &st2);
	CHECK(st2.dedup_hits == st.dedup_hits + 1, "worker write shared the chunk");
	CHECK(d.writes == w0, "still nothing written");
	CHECK(verify(ic, &m, true) == 0, "data");
	CHECK(ilio_core_close(ic) == 0, "close 2");

	/* No coalescing: every stored block owes its write-back. */
	ic = md_open_kick(&d, ILIO_COALESCE_OFF, 8U << 20, 1U << 20, &err, &why);
	CHECK(ic, "open off: %s", why);
	if (!ic)
		goto out;
	content(b, 7, 99);
	w0 = d.writes;
	CHECK(ilio_core_write_nowait(ic, 7, b, &ctx) == ILIO_OWES_WRITEBACK,
	      "coalesce off: write-back owed");
	CHECK(d.writes == w0, "owed, not done");
	CHECK(ilio_core_writeback(ic) == 0 && d.writes > w0, "the worker's write-back");
	model_write(&m, 7, 99);
	CHECK(ilio_core_close(ic) == 0, "close 3");

	/*
	 * A tight budget, coalescing, and nobody writing back: the inline
	 * writer is stopped by -EAGAIN (pressure) or owes write-back (more
	 * than max_dirty), never loses a block, and never waits.
	 */
	ic = md_open_kick(&d, ILIO_COALESCE_ALWAYS, 2U << 20, 256U << 10, &err, &why);
	CHECK(ic, "open tight: %s", why);
	if (!ic)
		goto out;
	w0 = d.writes;
	for (i = 0; i < (int)NBLK; i++) {
		u32 v = 1000 + (u32)i * 7;

		content(b, i, v % 5 ? v : v + 1);
		ret = ilio_core_write_nowait(ic, i, b, &ctx);
		if (ret == -EAGAIN) {
			again++;
			CHECK_QUIET(d.writes == w0, errs, "-EAGAIN after device writes");
			/* Nothing changed: the block still reads as before. */
			ret = ilio_core_read(ic, i, r);
			content(b, i, m.cur[i]);
			CHECK_QUIET(ret == 0 && !memcmp(r, b, 4096), errs,
				    "lba %d changed by a refused write", i);
			content(b, i, v % 5 ? v : v + 1);
			ret = ilio_core_write(ic, i, b, &ctx);
			w0 = d.writes;
		} else if (ret == ILIO_OWES_WRITEBACK) {
			owes++;
			ret = 0;
		}
		CHECK_QUIET(ret == 0, errs, "write %d: %d", i, ret);
		if (!ret)
			model_write(&m, i, v % 5 ? v : v + 1);
	}
	printf("  tight budget: %lu refused (-EAGAIN), %lu owed write-back\n",
	       again, owes);
	CHECK(owes > 0, "more than max_dirty never made the writer pay");
	CHECK(verify(ic, &m, true) == 0, "data after pressure");
	CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)), "check: %s", cwhy);
	CHECK(ilio_core_close(ic) == 0, "close 4");
out:
	model_free(&m);
	md_free(&d);
}

/*
 * Every unit on the device must carry a valid checksum: units are sealed
 * by write-back, outside the lock, just before they are submitted.  Walks
 * each segment of @img from its start while headers parse; a zeroed (or
 * never written) segment ends at once.  Returns the units of @epoch seen
 * (older epochs may hold units torn by an earlier power cut); *@bad
 * counts those whose checksum is wrong.
 */
static unsigned int md_units_sealed(const u8 *img, u64 epoch, unsigned int *bad)
{
	struct ilio_geom g;
	const char *why;
	unsigned int n = 0;
	u32 i, off;

	*bad = 0;
	if (ilio_geom_compute(&g, DEV_BYTES, SEG_BYTES, &why))
		abort();
	for (i = 0; i < g.nr_segs; i++) {
		const u8 *seg = img + ilio_seg_block(&g, i) * 4096;

		for (off = 0; off + 4096 <= SEG_BYTES; ) {
			struct ilio_unit_info u;

			if (!ilio_unit_hdr_unpack(seg + off, &u) || u.len < 4096 ||
			    u.len % 4096 || u.len > SEG_BYTES - off)
				break;
			if (u.epoch == epoch) {
				n++;
				if (ilio_unit_check_body(seg + off, &g, &why))
					(*bad)++;
			}
			off += u.len;
		}
	}
	return n;
}

/*
 * Asynchronous write-back, completion order and the flush promise.  A
 * burst of unique blocks fills many segments; write-back keeps several
 * writes in flight and the backend completes them newest first.  The
 * durable point never passes an incomplete write (md_check_durable() at
 * every completion), the flush promises every block, every unit on the
 * device is sealed, and a power cut taken in the middle of the next burst
 * (after a few out-of-order completions) recovers what the flush
 * promised, with each later block either old or new.
 */
static void test_wb_order(void)
{
	static struct model m;
	unsigned long checks = g_order_checks, fails = g_order_fails;
	unsigned int units, bad;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096];
	u64 rs = 99;
	int err = 0, cut, ret;
	u32 lba;

	memset(&m, 0, sizeof(m));
	md_format(&d, SEG_BYTES);
	d.kick_later = true;
	for (cut = 0; cut < 6; cut++) {
		ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
		CHECK(ic, "open %d: %s", cut, why);
		if (!ic)
			break;
		if (cut)
			CHECK(verify(ic, &m, false) == 0, "cut %d: recovered state", cut);
		model_flush(&m);
		g_pl = ilio_plog_of(ic->store);
		md_defer(&d, true, false);
		d.peak = 0;
		for (lba = 0; lba < 400; lba++) {
			u32 v = 1 + cut * 1000 + lba;

			content(b, lba, v);
			ret = ilio_core_write(ic, lba, b, &ctx);
			CHECK_QUIET(!ret, err, "write %u: %d", lba, ret);
			model_write(&m, lba, v);
		}
		CHECK(!ilio_core_flush(ic), "cut %d: flush", cut);
		CHECK(d.nq == 0, "flush returned with %u writes in flight", d.nq);
		model_flush(&m);
		CHECK(d.peak >= 4, "cut %d: %u writes in flight at most, want >= 4",
		      cut, d.peak);
		CHECK(g_pl->wb_peak >= 4, "store's own peak %u", g_pl->wb_peak);
		CHECK(g_pl->durable_seq == g_pl->written_seq &&
		      g_pl->written_seq == g_pl->closed_seq,
		      "after the flush everything closed is durable");
		units = md_units_sealed(d.dur, g_pl->epoch, &bad);
		CHECK(units >= 10 && !bad, "cut %d: %u units on the device, %u not sealed",
		      cut, units, bad);
		/* The next burst is cut by a power loss after cut + 1 completions. */
		d.completed = 0;
		d.cut_after = cut + 1;
		for (lba = 0; lba < 400; lba++) {
			u32 v = 500 + cut * 1000 + lba;

			content(b, (lba * 7) % NBLK, v);
			if (!ilio_core_write(ic, (lba * 7) % NBLK, b, &ctx))
				model_write(&m, (lba * 7) % NBLK, v);
		}
		ilio_core_flush(ic);	/* the power is gone: nothing reaches the disk */
		CHECK(d.nq == 0, "writes left in flight");
		g_pl = NULL;
		md_defer(&d, false, false);
		d.cut_after = 0;
		ilio_core_destroy(ic);
		md_crash(&d, &rs);
	}
	CHECK(g_order_checks - checks > 100 && g_order_fails == fails,
	      "completion order: %lu checks, %lu failed", g_order_checks - checks,
	      g_order_fails - fails);
	model_free(&m);
	md_free(&d);
}

/*
 * A write error on the 2nd of several writes in flight (its retry fails
 * too): the flush fails, the store is read-only with the sticky error and
 * one log line, the writes completed after the failed one do not count
 * (the durable point stays before it), and every acknowledged block -
 * flushed before, or only in RAM since - still reads back.  After a power
 * cut the flushed data is all there.
 */
static void test_wb_error(void)
{
	static bool acked[NBLK];
	unsigned long logs;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096], got[4096];
	int err = 0, ret;
	unsigned int fails = 0;
	u32 lba;
	unsigned long writes_before;

	md_format(&d, SEG_BYTES);
	d.kick_later = true;
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open: %s", why);
	if (!ic)
		goto out;
	for (lba = 0; lba < 200; lba++) {
		content(b, lba, 3);
		CHECK_QUIET(!ilio_core_write(ic, lba, b, &ctx), fails, "write %u", lba);
	}
	CHECK(!ilio_core_flush(ic), "flush before the burst");
	g_pl = ilio_plog_of(ic->store);
	md_defer(&d, true, true);
	d.peak = 0;
	d.fail_nth = d.submitted + 2;
	writes_before = d.writes;
	logs = ilio_shim_nr_log;
	memset(acked, 0, sizeof(acked));
	for (lba = 200; lba < 800; lba++) {
		content(b, lba, 4);
		ret = ilio_core_write(ic, lba, b, &ctx);
		if (ret)
			break;
		acked[lba] = true;
	}
	CHECK(ilio_core_flush(ic) == -EIO, "flush fails");
	CHECK(d.nq == 0, "writes left in flight");
	CHECK(d.peak_while_failing >= 4, "%u writes in flight with the failed one",
	      d.peak_while_failing);
	CHECK(ilio_core_error(ic) == -EIO, "sticky error %d", ilio_core_error(ic));
	CHECK(ilio_core_mode(ic) == ILIO_MODE_READ_ONLY, "read-only: %d",
	      ilio_core_mode(ic));
	CHECK(ilio_shim_nr_log == logs + 1, "one log line: %lu", ilio_shim_nr_log - logs);
	/* Writes after the failed one completed, but nothing from it on counts. */
	CHECK(d.fail_seq && g_pl->written_seq < d.fail_seq &&
	      g_pl->durable_seq <= g_pl->written_seq && d.writes > writes_before + 1,
	      "durable point stops before the failed unit %llu: written %llu, %lu writes completed",
	      (unsigned long long)d.fail_seq, (unsigned long long)g_pl->written_seq,
	      d.writes - writes_before);
	CHECK(ilio_core_flush(ic) == -EIO, "a second flush fails too");
	content(b, 0, 5);
	CHECK(ilio_core_write(ic, 0, b, &ctx) == -EIO, "writes refused");
	fails = 0;
	for (lba = 0; lba < 800; lba++) {
		if (lba >= 200 && !acked[lba])
			continue;
		content(b, lba, lba < 200 ? 3 : 4);
		CHECK_QUIET(!ilio_core_read(ic, lba, got) && !memcmp(got, b, 4096),
			    fails, "lba %u reads back", lba);
	}
	CHECK(!fails, "every acknowledged block reads back (%u bad)", fails);
	g_pl = NULL;
	md_defer(&d, false, false);
	ilio_core_destroy(ic);
	d.fail_pos = ~0ULL;
	d.fail_nth = 0;
	md_drop_pending(&d);
	memcpy(d.img, d.dur, DEV_BYTES);
	ic = md_open(&d, NBLK, 0, false, &err, &why);
	CHECK(ic, "reopen: %s", why);
	if (ic) {
		fails = 0;
		for (lba = 0; lba < 200; lba++) {
			content(b, lba, 3);
			CHECK_QUIET(!ilio_core_read(ic, lba, got) && !memcmp(got, b, 4096),
				    fails, "lba %u after the power cut", lba);
		}
		CHECK(!fails, "flushed data survives (%u bad)", fails);
		ilio_core_destroy(ic);
	}
out:
	md_free(&d);
}

/*
 * An 8 KiB (or 64 KiB) read miss costs one device read: the worker's
 * ilio_core_prefetch() reads neighbouring records of one segment at once
 * and caches them, and a damaged record among them is still an error for
 * its own block only.
 */
static void test_prefetch(void)
{
	struct ilio_stats st, st2;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096], r[4096];
	int err = 0, i, bad = 0;

	md_format(&d, SEG_BYTES);
	ic = md_open(&d, NBLK, 0, false, &err, &why);
	CHECK(ic, "open: %s", why);
	if (!ic)
		goto out;
	for (i = 0; i < 16; i++) {
		content(b, 200 + i, 1 + i * 5 + 1);
		CHECK(ilio_core_write(ic, 200 + i, b, &ctx) == 0, "write %d", i);
	}
	CHECK(ilio_core_close(ic) == 0, "close");
	ic = md_open(&d, NBLK, 0, false, &err, &why);
	CHECK(ic, "reopen: %s", why);
	if (!ic)
		goto out;
	/* Control: without it, each block of a miss is one device read. */
	ilio_core_get_stats(ic, &st);
	CHECK(ilio_core_read(ic, 214, r) == 0 && ilio_core_read(ic, 215, r) == 0,
	      "plain reads");
	ilio_core_get_stats(ic, &st2);
	CHECK(st2.backend_read_ios - st.backend_read_ios == 2,
	      "two plain misses: %llu device reads",
	      (unsigned long long)(st2.backend_read_ios - st.backend_read_ios));
	/* 8 KiB: one read, then both blocks from RAM. */
	ilio_core_get_stats(ic, &st);
	CHECK(ilio_core_prefetch(ic, 200, 2) == 0, "prefetch 2");
	for (i = 0; i < 2; i++) {
		content(b, 200 + i, 1 + i * 5 + 1);
		CHECK(ilio_core_read(ic, 200 + i, r) == 0 && !memcmp(b, r, 4096),
		      "block %d after prefetch", i);
	}
	ilio_core_get_stats(ic, &st2);
	CHECK(st2.backend_read_ios - st.backend_read_ios == 1,
	      "8 KiB miss: %llu device reads, want 1",
	      (unsigned long long)(st2.backend_read_ios - st.backend_read_ios));
	/* Already cached: no read at all. */
	ilio_core_get_stats(ic, &st);
	CHECK(ilio_core_prefetch(ic, 200, 2) == 0, "prefetch again");
	ilio_core_get_stats(ic, &st2);
	CHECK(st2.backend_read_ios == st.backend_read_ios, "cached blocks read again");
	ilio_core_destroy(ic);

	/* A damaged record among 10: the other 9 come from one read. */
	ic = md_open(&d, NBLK, 0, false, &err, &why);
	CHECK(ic, "reopen 2: %s", why);
	if (!ic)
		goto out;
	down_write(&ic->sp.lock);
	{
		ilio_cid_t cid = __ilio_lbamap_get(&ic->sp.map, ilio_to_lba(207));
		ilio_loc_t loc = ilio_chunk_loc(&ic->sp.chunks, cid);
		u64 pos = (u64)ilio_seg_block(&ilio_plog_of(ic->store)->g,
					      ilio_loc_seg(loc)) * 4096 +
			  ilio_loc_off(loc) + sizeof(struct ilio_chunk_hdr) + 100;

		d.img[pos] ^= 0x40;
	}
	up_write(&ic->sp.lock);
	ilio_core_get_stats(ic, &st);
	CHECK(ilio_core_prefetch(ic, 204, 10) == 0, "prefetch 10");
	for (i = 4; i < 14; i++) {
		int ret = ilio_core_read(ic, 200 + i, r);

		content(b, 200 + i, 1 + i * 5 + 1);
		if (i == 7)
			CHECK(ret == -EIO, "the damaged block reads %d, not EIO", ret);
		else
			CHECK_QUIET(ret == 0 && !memcmp(b, r, 4096), bad,
				    "block %d next to a damaged one", i);
	}
	ilio_core_get_stats(ic, &st2);
	CHECK(st2.backend_read_ios - st.backend_read_ios == 2,
	      "10 blocks, one damaged: %llu device reads, want 2 (the span, then the damaged one alone)",
	      (unsigned long long)(st2.backend_read_ios - st.backend_read_ios));
	ilio_core_destroy(ic);
out:
	md_free(&d);
}

/*
 * Write-back finalizes a written segment with the lock dropped: it copies
 * every record for the cache, then links only the copies whose chunk
 * still lives at that record.  A writer kills chunks and reuses their ids
 * meanwhile, a second thread writes back, and the check runs throughout:
 * no false report, every block reads back as written, and every cache
 * entry holds what the device holds for its chunk.
 */
#define RACE_BLOCKS	48

struct wb_race {
	struct ilio_core *ic;
	volatile int stop;
	int fails;
	u32 ver[RACE_BLOCKS];
	unsigned long writes, writebacks;
};

static void *race_writer(void *arg)
{
	struct wb_race *r = arg;
	struct ilio_ctx wctx;
	u64 rs = 5;
	u8 b[4096];
	int i;

	if (ilio_ctx_init(&wctx)) {
		r->fails++;
		return NULL;
	}
	for (i = 0; i < 6000; i++) {
		u32 lba = ut_rand(&rs) % RACE_BLOCKS;
		u32 v = r->ver[lba] + 1;

		content(b, lba, v);
		if (ilio_core_write(r->ic, lba, b, &wctx)) {
			r->fails++;
			break;
		}
		r->ver[lba] = v;
		r->writes++;
	}
	ilio_ctx_exit(&wctx);
	r->stop = 1;
	return NULL;
}

static void *race_writeback(void *arg)
{
	struct wb_race *r = arg;

	while (!r->stop) {
		if (ilio_core_writeback(r->ic))
			__atomic_add_fetch(&r->fails, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&r->writebacks, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void wb_finalize_race(u64 ram)
{
	static struct wb_race r;
	struct ilio_plog *pl;
	struct mdev d;
	const char *why = "";
	char cwhy[200], first[256] = "";
	unsigned int checks = 0, reports = 0, cached = 0, wrong = 0, bad = 0;
	pthread_t wr, wb;
	u8 b[4096], got[4096];
	int err = 0;
	u32 lba, i;

	memset(&r, 0, sizeof(r));
	md_format(&d, SEG_BYTES);
	r.ic = ram ? md_open_ram(&d, ram, &err, &why) :
		     md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(r.ic, "open (ram %llu): %s", (unsigned long long)ram, why);
	if (!r.ic)
		goto out;
	pl = ilio_plog_of(r.ic->store);
	CHECK(!pthread_create(&wb, NULL, race_writeback, &r) &&
	      !pthread_create(&wr, NULL, race_writer, &r), "threads");
	while (!r.stop) {
		int ret = ilio_core_check(r.ic, cwhy, sizeof(cwhy));

		checks++;
		if (ret && ret != -ENOMEM && !reports++)
			snprintf(first, sizeof(first), "%s", cwhy);
	}
	pthread_join(wr, NULL);
	pthread_join(wb, NULL);
	CHECK(!r.fails, "%d writes or write-backs failed", r.fails);
	CHECK(!reports, "%u of %u checks under load failed; first: %s",
	      reports, checks, first);
	CHECK(ilio_core_writeback(r.ic) == 0, "final write-back");
	CHECK(r.writebacks > 10 && checks > 10,
	      "the threads overlapped (%lu write-backs, %u checks)",
	      r.writebacks, checks);
	for (lba = 0; lba < RACE_BLOCKS; lba++) {
		content(b, lba, r.ver[lba]);
		CHECK_QUIET(!ilio_core_read(r.ic, lba, got) && !memcmp(b, got, 4096),
			    bad, "block %u, version %u", lba, r.ver[lba]);
	}
	CHECK(!bad, "%u blocks read back wrong", bad);
	/* Every cache entry: the payload of its chunk's record on the device. */
	down_write(&r.ic->sp.lock);
	for (i = 0; i < r.ic->sp.cache.nr_buckets; i++) {
		struct ilio_centry *e;

		for (e = r.ic->sp.cache.buckets[i]; e; e = e->hnext) {
			ilio_loc_t loc;
			u64 pos;

			cached++;
			if (!ilio_chunk_valid(&r.ic->sp.chunks, e->cid)) {
				wrong++;
				continue;
			}
			loc = ilio_chunk_loc(&r.ic->sp.chunks, e->cid);
			pos = (u64)ilio_seg_block(&pl->g, ilio_loc_seg(loc)) * 4096 +
			      ilio_loc_off(loc) + sizeof(struct ilio_chunk_hdr);
			if (e->len != ilio_loc_len(loc) ||
			    memcmp(e->data, d.img + pos, e->len))
				wrong++;
		}
	}
	up_write(&r.ic->sp.lock);
	CHECK(cached > 0, "write-back cached nothing");
	CHECK(!wrong, "%u of %u cache entries differ from their chunk on the device",
	      wrong, cached);
	ilio_core_destroy(r.ic);
out:
	md_free(&d);
}

/*
 * Roomy, then a budget the cache fills: the copies a finalize links are
 * charged while the buffer still is, and a check between two batches
 * must still find the budget held.
 */
static void test_wb_finalize_race(void)
{
	wb_finalize_race(0);
	wb_finalize_race(1536U << 10);
}

#define GROW_FMT	(1U << 20)	/* 15 segments of 64 KiB before the grow */

/*
 * Issue 10, online grow: a store formatted on the first MiB of the device
 * and activated at NBLK / 2 blocks grows to NBLK blocks over the whole
 * device, then takes more data than the old log area could hold.  A power
 * cut at every device write from the grow's first to well after it: the
 * store opens at exactly one of the two sizes (the new one once an anchor
 * of it is durable), every block flushed before the grow is there, and so
 * is every block flushed after it; an interrupted grow can be redone.
 * Shrinking and a grow beyond what the budget holds are refused with the
 * store unchanged.
 */
static void test_grow(void)
{
	static struct model m;
	struct ilio_core *ic;
	struct ilio_stats st;
	struct mdev d;
	const char *why = "";
	char cwhy[128];
	u8 b[4096];
	unsigned long total = 0, k;
	int err = 0, i, cuts = 0, fails = 0, at_new = 0, at_old = 0, ret;
	u64 rs = 5, old_back = 0;

	for (k = 0; ; k++) {
		bool grown;

		memset(&m, 0, sizeof(m));
		md_format_dev(&d, SEG_BYTES, true, TEST_KEY, GROW_FMT);
		ic = md_open(&d, NBLK / 2, ILIO_COALESCE_ALWAYS, false, &err, &why);
		if (!ic) {
			CHECK(0, "grow cut %lu: first open: %d %s", k, err, why);
			md_free(&d);
			break;
		}
		for (i = 0; i < 100; i++) {
			content(b, i * 7 % (NBLK / 2), 1 + i);
			ilio_core_write(ic, i * 7 % (NBLK / 2), b, &ctx);
			model_write(&m, i * 7 % (NBLK / 2), 1 + i);
		}
		CHECK_QUIET(!ilio_core_flush(ic), fails, "grow cut %lu: flush", k);
		model_flush(&m);
		ilio_core_get_stats(ic, &st);
		old_back = st.backend_bytes;
		if (!k) {
			/* Refusals first: the store must be unchanged by them. */
			ret = ilio_core_grow(ic, NBLK / 4, DEV_BYTES, &why);
			CHECK(ret == -EINVAL && strstr(why, "shrink"),
			      "shrink refused: %d %s", ret, why);
			ret = ilio_core_grow(ic, 1ULL << 38, DEV_BYTES, &why);
			CHECK(ret == -EFBIG, "grow beyond 512 TiB refused: %d %s", ret, why);
			ret = ilio_core_grow(ic, 1ULL << 33, DEV_BYTES, &why);
			CHECK(ret == -E2BIG && *why, "grow beyond the budget refused: %d %s",
			      ret, why);
			ilio_core_get_stats(ic, &st);
			CHECK(st.backend_bytes == old_back,
			      "refusals joined no segments before their checks");
		}
		d.writes = 0;
		d.die_after = k;
		ret = ilio_core_grow(ic, NBLK, DEV_BYTES, &why);
		grown = !ret && !d.dead;
		if (!k) {
			CHECK(!ret, "grow: %d %s", ret, why);
			ilio_core_get_stats(ic, &st);
			CHECK(st.backend_bytes > 20 * old_back,
			      "log area grew from %llu to %llu bytes",
			      (unsigned long long)old_back,
			      (unsigned long long)st.backend_bytes);
			CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)),
			      "check after grow: %s", cwhy);
		}
		if (grown) {
			/* More than the old log area: new segments hold it. */
			for (i = 0; i < 1500; i++) {
				u32 lba = (NBLK / 2 + i * 13) % NBLK;
				u32 v = 1000 + i;

				content(b, lba, v);
				CHECK_QUIET(!ilio_core_write(ic, lba, b, &ctx), fails,
					    "grow cut %lu: write %d after the grow", k, i);
				model_write(&m, lba, v);
				if (i == 999) {
					ilio_core_flush(ic);
					if (!d.dead)
						model_flush(&m);
				}
			}
			ilio_core_flush(ic);
			if (!d.dead)
				model_flush(&m);
		}
		if (!k) {
			CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)),
			      "check after writes into the grown store: %s", cwhy);
			total = d.writes;
			CHECK(ilio_core_close(ic) == 0, "close after grow");
			ic = md_open(&d, NBLK, 0, false, &err, &why);
			CHECK(ic, "reopen at the new size: %d %s", err, why);
			if (ic) {
				CHECK(verify_n(ic, &m, false, NBLK) == 0, "grown store after reopen");
				ilio_core_get_stats(ic, &st);
				CHECK(st.backend_bytes > 20 * old_back,
				      "reopened log area %llu bytes",
				      (unsigned long long)st.backend_bytes);
				ilio_core_destroy(ic);
			}
			ic = md_open(&d, NBLK / 2, 0, true, &err, &why);
			CHECK(!ic && err == -EINVAL, "reopen at the old size refused: %s", why);
			ilio_core_destroy(ic);
			md_free(&d);
			model_free(&m);
			continue;
		}
		ilio_core_destroy(ic);	/* power cut */
		md_crash(&d, &rs);
		cuts++;
		ic = md_open(&d, NBLK, 0, false, &err, &why);
		if (ic) {
			at_new++;
			CHECK_QUIET(verify_n(ic, &m, false, NBLK) == 0, fails,
				    "grow cut %lu: data lost at the new size", k);
		} else {
			CHECK_QUIET(err == -EINVAL, fails,
				    "grow cut %lu: new size: %d %s", k, err, why);
			ic = md_open(&d, NBLK / 2, 0, false, &err, &why);
			CHECK_QUIET(ic, fails, "grow cut %lu: opens at neither size: %s",
				    k, why);
			if (ic) {
				at_old++;
				CHECK_QUIET(verify_n(ic, &m, false, NBLK / 2) == 0, fails,
					    "grow cut %lu: data lost at the old size", k);
				/* Redo the grow. */
				ret = ilio_core_grow(ic, NBLK, DEV_BYTES, &why);
				CHECK_QUIET(!ret, fails, "grow cut %lu: grow again: %s",
					    k, why);
			}
		}
		if (ic) {
			ilio_core_get_stats(ic, &st);
			CHECK_QUIET(st.backend_bytes == old_back ||
				    st.backend_bytes > 20 * old_back, fails,
				    "grow cut %lu: log area %llu bytes", k,
				    (unsigned long long)st.backend_bytes);
			CHECK_QUIET(!ilio_core_check(ic, cwhy, sizeof(cwhy)), fails,
				    "grow cut %lu: check: %s", k, cwhy);
			ilio_core_destroy(ic);
		}
		md_free(&d);
		model_free(&m);
		if (k >= total)
			break;
	}
	CHECK(fails == 0, "%d failures over %d power cuts", fails, cuts);
	CHECK(cuts >= 20, "power cuts tried: %d (window of %lu writes)", cuts, total);
	CHECK(at_old >= 2 && at_new >= 2,
	      "cuts opened at the old size %d times, at the new %d", at_old, at_new);
}

/*
 * Review: a logical grow that ilio_core_grow() accepts must leave a store
 * that opens again with the same table (length and ram_mb).  The grow
 * checks only that the RAM in use plus the larger directory fits the
 * budget; the open checks the store geometry, the budget and one more
 * segment on top of the metadata.  The largest size the grow accepts is
 * found by bisection (a refused grow changes nothing), then the store is
 * closed and opened at that size with the same budget.
 */
static void test_grow_reopen_budget(void)
{
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096];
	u64 lo = NBLK, hi = ILIO_LBAMAP_MAX_BLOCKS, mid;
	int err = 0, i;

	md_format(&d, SEG_BYTES);
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	for (i = 0; i < 200; i++) {
		content(b, i, 1 + i);
		ilio_core_write(ic, i, b, &ctx);
	}
	CHECK(!ilio_core_flush(ic), "flush");
	/* Largest logical size the grow accepts: grow step by step. */
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (!ilio_core_grow(ic, mid, DEV_BYTES, &why))
			lo = mid;
		else
			hi = mid - 1;
	}
	printf("grow accepted up to %llu blocks\n", (unsigned long long)lo);
	CHECK(lo > NBLK, "some grow accepted");
	CHECK(ilio_core_close(ic) == 0, "close after grow");
	ic = md_open(&d, lo, 0, false, &err, &why);
	CHECK(ic, "reopen at the grown size %llu with the same ram_mb: %d %s",
	      (unsigned long long)lo, err, why);
	if (ic) {
		for (i = 0; i < 50; i++) {
			content(b, i, 7 + i);
			CHECK_QUIET(!ilio_core_write(ic, i, b, &ctx), err,
				    "write %d after the reopen", i);
		}
		ilio_core_destroy(ic);
	}
	md_free(&d);
}

/*
 * Review: a power cut between the grow's two superblock writes leaves
 * copy 0 new and copy 1 of the old geometry.  Nothing repairs copy 1: the
 * open takes copy 0, and a grow that is redone finds the segments already
 * joined and writes no superblock.  The store then has one valid copy of
 * its geometry: damage to copy 0 makes the open fall back to copy 1, which
 * does not know the segments that now hold data.
 */
static void test_grow_sb_copy1(void)
{
	static struct model m;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096];
	int err = 0, i, ret;
	u64 rs = 11;

	memset(&m, 0, sizeof(m));
	md_format_dev(&d, SEG_BYTES, true, TEST_KEY, GROW_FMT);
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	d.die_after = 2;	/* copy 0 and its flush land, copy 1 does not */
	ilio_core_grow(ic, NBLK, DEV_BYTES, &why);
	ilio_core_destroy(ic);
	md_crash(&d, &rs);
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "reopen after the cut: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	/* The admin redoes the grow: it reports success. */
	ret = ilio_core_grow(ic, NBLK, DEV_BYTES, &why);
	CHECK(!ret, "grow redone: %d %s", ret, why);
	for (i = 0; i < 1500; i++) {
		u32 lba = i * 13 % NBLK, v = 1 + i;

		content(b, lba, v);
		ilio_core_write(ic, lba, b, &ctx);
		model_write(&m, lba, v);
	}
	CHECK(!ilio_core_flush(ic), "flush");
	model_flush(&m);
	CHECK(ilio_core_close(ic) == 0, "close");
	{
		struct ilio_geom g0, g1;
		const char *w0 = "", *w1 = "";
		int r0 = ilio_sb_check(d.dur, 0, DEV_BYTES, &g0, &w0);
		int r1 = ilio_sb_check(d.dur + 4096, 1, DEV_BYTES, &g1, &w1);

		CHECK(!r0 && !r1 && g0.nr_segs == g1.nr_segs &&
		      g0.dev_blocks == g1.dev_blocks,
		      "both superblock copies name the grown geometry (copy 0: %d %u segs, copy 1: %d %u segs)",
		      r0, g0.nr_segs, r1, g1.nr_segs);
	}
	/* Copy 0 is damaged: copy 1 must still open the store. */
	flip(&d, 200);
	ic = md_open(&d, NBLK, 0, false, &err, &why);
	CHECK(ic, "open with copy 0 damaged: %d %s", err, why);
	if (ic) {
		CHECK(verify_n(ic, &m, false, NBLK) == 0, "data with copy 0 damaged");
		ilio_core_destroy(ic);
	}
	md_free(&d);
	model_free(&m);
}

/*
 * Review: every resume of a persistent device calls ilio_core_grow() with
 * the table's length and the backing device's size (ilio_grow()), and a
 * failure fails the resume.  When the LUN was extended but its new
 * segments cannot join (the segment table of the larger device does not
 * fit ram_mb; or memory is short), a resume with the very same table -
 * the "old table" that ilioctl grow's rollback and the design promise
 * works - fails too: the device stays suspended.  Nothing about the
 * logical size changed, so this must succeed (the LUN can join later).
 */
static void test_grow_resume_unchanged(void)
{
	struct ilio_core *ic;
	struct ilio_stats st;
	struct mdev d;
	const char *why = "";
	u8 b[4096];
	u64 lo, hi, mid;
	int err = 0, i, ret;

	md_format_dev(&d, SEG_BYTES, true, TEST_KEY, GROW_FMT);
	ic = md_open(&d, NBLK / 4, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	for (i = 0; i < 100; i++) {
		content(b, i, 1 + i);
		ilio_core_write(ic, i, b, &ctx);
	}
	CHECK(!ilio_core_flush(ic), "flush");
	/* ram_mb as small as the store allows (a reload may set it so). */
	lo = 1;
	hi = 8U << 20;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (!ilio_core_set_ram_limit(ic, mid))
			hi = mid;
		else
			lo = mid + 1;
	}
	CHECK(!ilio_core_set_ram_limit(ic, lo), "ram limit %llu", (unsigned long long)lo);
	/* The LUN is now DEV_BYTES (it was GROW_FMT); same table resumes. */
	ret = ilio_core_grow(ic, NBLK / 4, DEV_BYTES, &why);
	CHECK(ret == 0, "resume with the unchanged table after the LUN grew: %d %s",
	      ret, why);
	ilio_core_get_stats(ic, &st);
	CHECK(!ilio_core_flush(ic), "store still works");
	ilio_core_destroy(ic);
	md_free(&d);

	/* ENOMEM after the superblock write: "join at the next resume". */
	md_format_dev(&d, SEG_BYTES, true, TEST_KEY, GROW_FMT);
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	ilio_shim_fail_alloc_after = 1;	/* the wbq, then the segment table */
	ret = ilio_core_grow(ic, NBLK, DEV_BYTES, &why);
	inject_off();
	CHECK(ret == 0, "unchanged table, segment table allocation failed: %d %s",
	      ret, why);
	ilio_core_destroy(ic);
	md_free(&d);
}

/*
 * Review: the anchor write of a logical grow fails (EIO).  The store
 * turns read-only, but the LBA map and pl->nr_blocks keep the new size
 * although no anchor of it is durable.  ilioctl grow's rollback then
 * reloads the old table, whose resume calls ilio_core_grow() with the old
 * length: refused as a shrink, so the device can resume with neither the
 * size its anchors record nor the old table.
 */
static void test_grow_anchor_fail(void)
{
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	int err = 0, ret;

	md_format(&d, SEG_BYTES);
	ic = md_open(&d, NBLK / 2, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	d.fail_writes = -1;	/* the backing device fails from here on */
	ret = ilio_core_grow(ic, NBLK, DEV_BYTES, &why);
	CHECK(ret == -EIO, "grow with failing anchor writes: %d %s", ret, why);
	d.fail_writes = 0;
	/* The rollback's resume with the old table (read-only device). */
	ret = ilio_core_grow(ic, NBLK / 2, DEV_BYTES, &why);
	CHECK(ret == 0 || ret == -EIO,
	      "resume with the old table after the failed grow: %d %s", ret, why);
	CHECK(ic->sp.map.nr_blocks == NBLK / 2,
	      "the map keeps the size of the durable anchors (%llu)",
	      (unsigned long long)ic->sp.map.nr_blocks);
	ilio_core_destroy(ic);
	md_free(&d);
}

/*
 * Review: the grow rewrites both superblock copies from struct ilio_geom
 * (ilio_sb_build()), not from the block on the device.  What the geometry
 * does not carry is lost: compat feature bits (which a reader that does
 * not know them accepts, so a newer ilioctl's compat feature survives an
 * older module only until its first grow) and the flags word.
 */
static void test_grow_sb_features(void)
{
	struct ilio_core *ic;
	struct ilio_sb *sb;
	struct mdev d;
	const char *why = "";
	int err = 0, ret, i;

	md_format_dev(&d, SEG_BYTES, true, TEST_KEY, GROW_FMT);
	for (i = 0; i < 2; i++) {
		sb = (struct ilio_sb *)(d.img + i * 4096);
		sb->compat = cpu_to_le64(0x8);	/* a compat feature of a later version */
		sb_reseal(&d, i);
	}
	ic = md_open(&d, NBLK, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open with an unknown compat feature: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	ret = ilio_core_grow(ic, NBLK, DEV_BYTES, &why);
	CHECK(!ret, "grow: %d %s", ret, why);
	ilio_core_destroy(ic);
	for (i = 0; i < 2; i++) {
		sb = (struct ilio_sb *)(d.dur + i * 4096);
		CHECK(le64_to_cpu(sb->compat) == 0x8,
		      "superblock copy %d keeps its compat features after the grow (0x%llx)",
		      i, (unsigned long long)le64_to_cpu(sb->compat));
	}
	md_free(&d);
}

/*
 * Review: "a refusal changes nothing" (ilio-design.rst, Online grow, step
 * 1).  A grow whose LBA map passes the table parser's check but not the
 * RAM the store has left is refused - after the backing device's new
 * segments joined and the superblock was rewritten (and after they took
 * part of the RAM the map then lacks).
 */
static void test_grow_refusal_joins(void)
{
	struct ilio_core *ic;
	struct ilio_stats st;
	struct mdev d;
	const char *why = "";
	u64 before, big = (1ULL << 30) / 100 * 95;
	int err = 0, ret;

	md_format_dev(&d, SEG_BYTES, true, TEST_KEY, GROW_FMT);
	ic = md_open(&d, NBLK / 2, ILIO_COALESCE_ALWAYS, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	ilio_core_get_stats(ic, &st);
	before = st.backend_bytes;
	d.writes = 0;
	ret = ilio_core_grow(ic, big, DEV_BYTES, &why);
	ilio_core_get_stats(ic, &st);
	CHECK(ret == -E2BIG, "grow to %llu blocks refused: %d %s",
	      (unsigned long long)big, ret, why);
	CHECK(st.backend_bytes == before && d.writes == 0,
	      "the refused grow changed nothing (log area %llu -> %llu, %lu device writes)",
	      (unsigned long long)before, (unsigned long long)st.backend_bytes,
	      d.writes);
	ilio_core_destroy(ic);
	md_free(&d);
}

/*
 * Region classes (issue 12) on a persistent store whose clean cache holds
 * a fraction of the data: a pinned working set of 64 blocks stays cached
 * while a nocache "pagefile" of 16x its size streams through twice, and
 * the pagefile takes no cache at all; without hints the stream pushes the
 * working set out.  Every block reads back the same either way.
 */
struct class_run {
	u64 ws_hits, ws_reads, pf_cached_bytes, cache_bytes;
	int fails;
};

/*
 * The class tests' data sets: blocks [@first, @first + @n), block @lba
 * filled with ut_fill_random(@seed + @lba).  set_write() writes them,
 * set_read() reads them back and compares.  Return: the blocks that
 * failed.
 */
static int set_write(struct ilio_core *ic, u64 first, u64 n, u64 seed)
{
	u8 b[4096];
	int fails = 0;
	u64 lba;

	for (lba = first; lba < first + n; lba++) {
		ut_fill_random(b, 4096, seed + lba);
		fails += ilio_core_write(ic, lba, b, &ctx) != 0;
	}
	return fails;
}

static int set_read(struct ilio_core *ic, u64 first, u64 n, u64 seed)
{
	u8 b[4096], got[4096];
	int fails = 0;
	u64 lba;

	for (lba = first; lba < first + n; lba++) {
		ut_fill_random(b, 4096, seed + lba);
		fails += ilio_core_read(ic, lba, got) != 0 || memcmp(b, got, 4096);
	}
	return fails;
}

static void class_workload(bool hints, struct class_run *out)
{
	enum { WS = 64, PF0 = 512, PF = 1024 };
	struct ilio_stats st, st0;
	struct ilio_core *ic;
	const char *why = "";
	struct mdev d;
	int err = 0, pass;

	memset(out, 0, sizeof(*out));
	md_format(&d, SEG_BYTES);
	ic = md_open_ram(&d, 3U << 20, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		out->fails++;
		return;
	}
	if (hints) {
		CHECK(ilio_core_hint(ic, 0, WS * 8, ILIO_CLASS_PIN) == 0, "hint pin");
		CHECK(ilio_core_hint(ic, PF0 * 8, PF * 8, ILIO_CLASS_NOCACHE) == 0,
		      "hint nocache");
	}
	out->fails += set_write(ic, 0, WS, 0xc1a55);
	out->fails += set_write(ic, PF0, PF, 0x9a9e);
	out->fails += ilio_core_flush(ic) != 0;
	/* The working set is read, then the pagefile streams through twice. */
	out->fails += set_read(ic, 0, WS, 0xc1a55);
	for (pass = 0; pass < 2; pass++)
		out->fails += set_read(ic, PF0, PF, 0x9a9e);
	ilio_core_get_stats(ic, &st0);
	out->fails += set_read(ic, 0, WS, 0xc1a55);
	ilio_core_get_stats(ic, &st);
	out->ws_hits = st.cache_hits - st0.cache_hits;
	out->ws_reads = WS;
	out->cache_bytes = st.cache_bytes;
	CHECK(ilio_core_close(ic) == 0, "close");
	md_free(&d);
}

/* Hints are advisory: random hints among verified writes, reads, flushes. */
static void test_classes_advisory(void)
{
	static u32 ver[NBLK];
	struct ilio_core *ic;
	const char *why = "";
	struct mdev d;
	u8 b[4096], got[4096];
	int err = 0, i, fails = 0, hints = 0;
	u64 rs = 777, lba;

	memset(ver, 0, sizeof(ver));
	md_format(&d, SEG_BYTES);
	ic = md_open_ram(&d, 3U << 20, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	for (i = 0; i < 30000; i++) {
		u64 r = ut_rand(&rs);

		lba = r % NBLK;
		switch ((r >> 20) % 16) {
		case 0: {
			u64 start = ut_rand(&rs) % ((u64)NBLK * 8);
			u64 nr = 1 + ut_rand(&rs) % 4096;

			if (start + nr > (u64)NBLK * 8)
				nr = (u64)NBLK * 8 - start;
			CHECK_QUIET(ilio_core_hint(ic, start, nr, (int)(ut_rand(&rs) % 4)) == 0,
				    fails, "hint %d", i);
			hints++;
			break;
		}
		case 1:
			CHECK_QUIET(ilio_core_flush(ic) == 0, fails, "flush %d", i);
			break;
		case 2: case 3: case 4: case 5: case 6:
			ver[lba]++;
			content(b, lba, ver[lba]);
			CHECK_QUIET(ilio_core_write(ic, lba, b, &ctx) == 0, fails, "write %d", i);
			break;
		default:
			content(b, lba, ver[lba]);
			CHECK_QUIET(ilio_core_read(ic, lba, got) == 0 && !memcmp(b, got, 4096),
				    fails, "read lba %llu v%u", (unsigned long long)lba, ver[lba]);
			break;
		}
	}
	CHECK(ilio_core_close(ic) == 0, "close");
	ic = md_open_ram(&d, 3U << 20, &err, &why);
	CHECK(ic, "reopen: %d %s", err, why);
	for (lba = 0; ic && lba < NBLK; lba++) {
		content(b, lba, ver[lba]);
		CHECK_QUIET(ilio_core_read(ic, lba, got) == 0 && !memcmp(b, got, 4096), fails,
			    "after reopen, lba %llu", (unsigned long long)lba);
	}
	CHECK(fails == 0 && hints > 1000, "%d failures under %d random hints", fails, hints);
	if (ic)
		CHECK(ilio_core_close(ic) == 0, "close after reopen");
	md_free(&d);
}

static void test_classes_cache(void)
{
	struct class_run with, without;

	class_workload(true, &with);
	class_workload(false, &without);
	printf("  working set hits after the pagefile: %llu of %llu with hints, %llu without;"
	       " cache %llu and %llu bytes\n",
	       (unsigned long long)with.ws_hits, (unsigned long long)with.ws_reads,
	       (unsigned long long)without.ws_hits, (unsigned long long)with.cache_bytes,
	       (unsigned long long)without.cache_bytes);
	CHECK(with.fails == 0 && without.fails == 0, "%d and %d failed reads or writes",
	      with.fails, without.fails);
	CHECK(with.ws_hits == with.ws_reads, "pinned: %llu of %llu reads hit",
	      (unsigned long long)with.ws_hits, (unsigned long long)with.ws_reads);
	CHECK(with.cache_bytes <= 64 * 4200, "with hints the cache holds %llu bytes (the pagefile?)",
	      (unsigned long long)with.cache_bytes);
	CHECK(without.ws_hits < without.ws_reads / 2,
	      "without hints the stream should push the working set out (%llu hits)",
	      (unsigned long long)without.ws_hits);
}

/*
 * A hint re-classes what is cached already: a working set cached as
 * normal and then pinned survives a stream that is read twice (which
 * would push a normal set out), and data cached before a nocache hint
 * leaves the cache at the hint.
 */
static void test_classes_recache(void)
{
	enum { WS = 64, PF0 = 512, PF = 1024 };
	struct ilio_stats st0, st;
	struct ilio_core *ic;
	const char *why = "";
	struct mdev d;
	int err = 0, fails = 0, pass;
	u64 before;

	md_format(&d, SEG_BYTES);
	ic = md_open_ram(&d, 3U << 20, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	fails += set_write(ic, 0, WS, 0xc1a55);
	fails += set_write(ic, PF0, PF, 0x9a9e);
	fails += ilio_core_flush(ic) != 0;
	fails += set_read(ic, 0, WS, 0xc1a55);
	/* Cached as normal; now pinned, without another read. */
	CHECK(ilio_core_hint(ic, 0, WS * 8, ILIO_CLASS_PIN) == 0, "hint pin");
	ilio_core_get_stats(ic, &st);
	CHECK(st.class_cache_bytes[ILIO_CLASS_PIN] >= WS * 4096ULL,
	      "the cached working set moved to pin: %llu bytes",
	      (unsigned long long)st.class_cache_bytes[ILIO_CLASS_PIN]);
	for (pass = 0; pass < 2; pass++)
		fails += set_read(ic, PF0, PF, 0x9a9e);
	ilio_core_get_stats(ic, &st0);
	fails += set_read(ic, 0, WS, 0xc1a55);
	ilio_core_get_stats(ic, &st);
	CHECK(st.cache_hits - st0.cache_hits == WS,
	      "pinned after it was cached, it stays: %llu of %d hits",
	      (unsigned long long)(st.cache_hits - st0.cache_hits), WS);
	/* The stream is cached as normal now; a nocache hint drops it. */
	before = st.cache_bytes;
	CHECK(st.class_cache_bytes[ILIO_CLASS_NORMAL] > 0, "the stream is cached as normal");
	CHECK(ilio_core_hint(ic, PF0 * 8, PF * 8, ILIO_CLASS_NOCACHE) == 0, "hint nocache");
	ilio_core_get_stats(ic, &st);
	CHECK(st.class_cache_bytes[ILIO_CLASS_NORMAL] == 0 &&
	      st.class_cache_bytes[ILIO_CLASS_NOCACHE] == 0 && st.cache_bytes < before,
	      "a nocache hint drops what was cached: normal %llu, cache %llu -> %llu",
	      (unsigned long long)st.class_cache_bytes[ILIO_CLASS_NORMAL],
	      (unsigned long long)before, (unsigned long long)st.cache_bytes);
	fails += set_read(ic, PF0, PF, 0x9a9e);
	CHECK(fails == 0, "%d failed reads or writes", fails);
	CHECK(ilio_core_close(ic) == 0, "close");
	md_free(&d);
}

/*
 * The class map is saved on the backing device (issue 12): it comes back
 * at the next open, and the chunks of the mapped blocks get their classes
 * back (a pinned working set survives a nocache stream after a reopen).
 * Saves alternate between two slots, so a lost or damaged save falls back
 * to the previous map; crafted slots (too many ranges, unsorted ranges,
 * another store's uuid) are refused, the open goes on, and no data
 * changes.
 */
static u32 hints_copy(struct ilio_core *ic, struct ilio_crange *r, u32 max)
{
	u32 limit;
	u64 bytes;

	return ilio_core_hints(ic, r, max, &limit, &bytes);
}

/* Two copies of a map (field by field: struct ilio_crange has padding). */
static bool cranges_equal(const struct ilio_crange *x, u32 nx, const struct ilio_crange *y,
			  u32 ny)
{
	u32 i;

	if (nx != ny)
		return false;
	for (i = 0; i < nx; i++)
		if (x[i].start != y[i].start || x[i].end != y[i].end || x[i].cls != y[i].cls)
			return false;
	return true;
}

static bool hints_equal(struct ilio_core *ic, const struct ilio_crange *want, u32 n)
{
	static struct ilio_crange got[64];
	u32 m = hints_copy(ic, got, 64);

	return cranges_equal(got, m, want, n);
}

static u32 hints_limit(struct ilio_core *ic)
{
	u32 limit;
	u64 bytes;

	ilio_core_hints(ic, NULL, 0, &limit, &bytes);
	return limit;
}

/* Reseal class map slot @slot of @d's image after editing it. */
static void cmap_write(struct mdev *d, unsigned int slot, u64 seq, const u8 *uuid,
		       const struct ilio_crange *r, u32 nr)
{
	struct ilio_geom g;
	const char *why;
	static u8 buf[257 * 4096];

	if (ilio_sb_check(d->img, 0, DEV_BYTES, &g, &why))
		abort();
	if (uuid)
		memcpy(g.uuid, uuid, sizeof(g.uuid));
	ilio_cmap_build(buf, &g, slot, seq, (u64)NBLK * 8, r, nr);
	memcpy(d->img + ilio_cmap_slot_block(&g, slot) * 4096, buf, ilio_cmap_len(nr));
	memcpy(d->dur, d->img, DEV_BYTES);
}

/* The class a map gives sector @s. */
static int cranges_get(const struct ilio_crange *r, u32 n, u64 s)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (r[i].start <= s && s < r[i].end)
			return (int)r[i].cls;
	return ILIO_CLASS_NORMAL;
}

/*
 * Chunk classes against the map @r: an unshared block's chunk has its
 * block's class exactly; a chunk shared by blocks x and x + 512 (x < 256)
 * at least the better of theirs (pin, normal, temp, nocache).  Returns the
 * blocks that break it.
 */
static int chunk_classes_check(const int *cls, const struct ilio_crange *r, u32 n)
{
	static const int prio[ILIO_NR_CLASSES] = {
		[ILIO_CLASS_NORMAL] = 2, [ILIO_CLASS_PIN] = 3,
		[ILIO_CLASS_NOCACHE] = 0, [ILIO_CLASS_TEMP] = 1,
	};
	int bad = 0, x, c1, c2;

	for (x = 256; x < 512; x++)
		bad += cls[x] != cranges_get(r, n, (u64)x * 8);
	for (x = 0; x < 256; x++) {
		c1 = cranges_get(r, n, (u64)x * 8);
		c2 = cranges_get(r, n, (u64)(x + 512) * 8);
		if (prio[c2] > prio[c1])
			c1 = c2;
		bad += cls[x] != cls[x + 512] || cls[x] < 0 || prio[cls[x]] < prio[c1];
	}
	return bad;
}

/* The class of the chunk each of blocks [0, n) maps to (-1: unmapped). */
static void chunk_classes(struct ilio_core *ic, int *cls, u64 n)
{
	u64 lba;

	down_write(&ic->sp.lock);
	for (lba = 0; lba < n; lba++) {
		ilio_cid_t cid = __ilio_lbamap_get(&ic->sp.map, ilio_to_lba(lba));

		cls[lba] = cid ? ilio_chunk_class(&ic->sp.chunks, cid) : -1;
	}
	up_write(&ic->sp.lock);
}

/*
 * A hint message with several ranges (ilioctl hints apply sends up to 64
 * in one) is the same change as those ranges one at a time: the same map,
 * and the same class for every unshared block's chunk, under random
 * batches.  A shared chunk is only raised, in both, to at least the best
 * class of its blocks; the batch skips the classes that a later range of
 * the same message overrides, so there the two may differ.  And a batch
 * is one change: one with a range that would pass the map's limit, or
 * with a bad class, changes nothing, in RAM or on the device.
 */
static void test_classes_batch(void)
{
	enum { NW = 768, ROUNDS = 300 };
	static struct ilio_hint h[ILIO_HINT_BATCH_MAX];
	static struct ilio_crange ma[1024], mb[1024];
	static int ca[NW], cb[NW];
	struct ilio_core *a, *b;
	const char *why = "";
	struct mdev da, db;
	int err = 0, fails = 0, r, mapdiff = 0, clsdiff = 0;
	u32 i, n, na, nb, lim;
	u64 rs = 4242;

	md_format(&da, SEG_BYTES);
	md_format(&db, SEG_BYTES);
	a = md_open_ram(&da, 3U << 20, &err, &why);
	b = md_open_ram(&db, 3U << 20, &err, &why);
	CHECK(a && b, "open both: %d %s", err, why);
	if (!a || !b)
		goto out;
	CHECK(ilio_core_hints_set(a, h, 0) == -EINVAL, "an empty batch is refused");
	/* Blocks 512..767 repeat 0..255: their chunks are shared. */
	fails += set_write(a, 0, 512, 0xba7c) + set_write(a, 512, 256, 0xba7c - 512);
	fails += set_write(b, 0, 512, 0xba7c) + set_write(b, 512, 256, 0xba7c - 512);
	for (r = 0; r < ROUNDS; r++) {
		n = 1 + ut_rand(&rs) % ILIO_HINT_BATCH_MAX;
		for (i = 0; i < n; i++) {
			h[i].start = (ut_rand(&rs) % 128) * 128 + ut_rand(&rs) % 8;
			h[i].nr = 1 + ut_rand(&rs) % 512;
			if (h[i].start + h[i].nr > (u64)NBLK * 8)
				h[i].nr = (u64)NBLK * 8 - h[i].start;
			h[i].cls = (int)(ut_rand(&rs) % ILIO_NR_CLASSES);
		}
		fails += ilio_core_hints_set(a, h, n) != 0;
		for (i = 0; i < n; i++)
			fails += ilio_core_hint(b, h[i].start, h[i].nr, h[i].cls) != 0;
		na = hints_copy(a, ma, 1024);
		nb = hints_copy(b, mb, 1024);
		mapdiff += !cranges_equal(ma, na, mb, nb);
		chunk_classes(a, ca, NW);
		chunk_classes(b, cb, NW);
		clsdiff += chunk_classes_check(ca, ma, na) + chunk_classes_check(cb, mb, nb);
		for (i = 256; i < 512; i++)
			clsdiff += ca[i] != cb[i];
	}
	CHECK(!fails, "every batch and every single hint taken (%d failed)", fails);
	CHECK(!mapdiff, "%d random batches: the map equals one hint at a time (%d differ)",
	      ROUNDS, mapdiff);
	CHECK(!clsdiff, "%d random batches: unshared chunks' classes equal one hint at a time, "
	      "shared ones at least their blocks' best (%d differ)", ROUNDS, clsdiff);
	n = 0;
	for (i = 0; i < NW; i++)
		n += ca[i] > 0;
	CHECK(n > 0, "the last map gives %u blocks a class", n);

	/* Fill the map to one below its limit: single sectors, 64 a batch. */
	lim = hints_limit(a);
	h[0] = (struct ilio_hint){ .start = 0, .nr = (u64)NBLK * 8, .cls = ILIO_CLASS_NORMAL };
	CHECK(ilio_core_hints_set(a, h, 1) == 0 && hints_copy(a, ma, 1024) == 0, "cleared");
	for (i = 0; i < lim - 1; i += n) {
		u32 j;

		n = min(lim - 1 - i, ILIO_HINT_BATCH_MAX);
		for (j = 0; j < n; j++)
			h[j] = (struct ilio_hint){ .start = 2 * (u64)(i + j), .nr = 1,
						   .cls = ILIO_CLASS_PIN };
		fails += ilio_core_hints_set(a, h, n) != 0;
	}
	na = hints_copy(a, ma, 1024);
	CHECK(!fails && na == lim - 1, "%u of at most %u ranges", na, lim);
	h[0] = (struct ilio_hint){ .start = 10001, .nr = 1, .cls = ILIO_CLASS_TEMP };
	h[1] = (struct ilio_hint){ .start = 10003, .nr = 1, .cls = ILIO_CLASS_TEMP };
	CHECK(ilio_core_hints_set(a, h, 2) == -ENOSPC, "a batch whose second range passes "
	      "the limit: -ENOSPC");
	nb = hints_copy(a, mb, 1024);
	CHECK(cranges_equal(ma, na, mb, nb),
	      "... and its first range was not applied either (%u ranges)", nb);
	h[1].cls = ILIO_NR_CLASSES;
	CHECK(ilio_core_hints_set(a, h, 2) == -EINVAL, "a batch with a bad class: -EINVAL");
	nb = hints_copy(a, mb, 1024);
	CHECK(cranges_equal(ma, na, mb, nb), "... and nothing of it was applied");
	CHECK(ilio_core_close(a) == 0, "close");
	a = md_open_ram(&da, 3U << 20, &err, &why);
	CHECK(a, "reopen: %d %s", err, why);
	if (!a)
		goto out;
	nb = hints_copy(a, mb, 1024);
	CHECK(cranges_equal(ma, na, mb, nb),
	      "after reopen: the saved map is the last accepted batch's (%u ranges)", nb);
	fails = set_read(a, 0, 512, 0xba7c) + set_read(a, 512, 256, 0xba7c - 512);
	CHECK(!fails, "the data reads back (%d differ)", fails);
out:
	if (a)
		CHECK(ilio_core_close(a) == 0, "close a");
	if (b)
		CHECK(ilio_core_close(b) == 0, "close b");
	md_free(&da);
	md_free(&db);
}

static void test_classes_persist(void)
{
	enum { WS = 64, PF0 = 512, PF = 1024 };
	static struct ilio_crange snap[64], snap2[64];
	struct ilio_stats st0, st;
	struct ilio_core *ic;
	const char *why = "";
	struct mdev d;
	int err = 0, fails = 0, pass;
	u32 n, n2, i;
	unsigned long w0;

	md_format(&d, SEG_BYTES);
	ic = md_open_ram(&d, 3U << 20, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	/* 64 KiB segments: a slot is 4 blocks, (16384 - 64) / 16 ranges. */
	CHECK(hints_limit(ic) == 1020, "the limit is what a slot holds: %u", hints_limit(ic));
	CHECK(ilio_core_hint(ic, 0, WS * 8, ILIO_CLASS_PIN) == 0, "hint pin");
	CHECK(ilio_core_hint(ic, PF0 * 8, PF * 8, ILIO_CLASS_NOCACHE) == 0, "hint nocache");
	CHECK(ilio_core_hint(ic, 1700 * 8 + 3, 77, ILIO_CLASS_TEMP) == 0, "hint temp");
	CHECK(ilio_core_hint(ic, 1720 * 8, 800, ILIO_CLASS_TEMP) == 0, "hint temp 2");
	CHECK(ilio_core_hint(ic, 1730 * 8, 8, ILIO_CLASS_NORMAL) == 0, "clear a hole");
	n = hints_copy(ic, snap, 64);
	CHECK(n == 5, "5 ranges, not %u", n);
	{
		struct ilio_stats s0;
		u32 limit;
		u64 bytes;

		ilio_core_get_stats(ic, &s0);
		ilio_core_hints(ic, NULL, 0, &limit, &bytes);
		CHECK(bytes == 5 * sizeof(struct ilio_crange), "5 ranges take %llu bytes",
		      (unsigned long long)bytes);
		CHECK(ilio_core_hint(ic, 1900 * 8, 8, ILIO_CLASS_PIN) == 0, "a sixth range");
		ilio_core_get_stats(ic, &st);
		CHECK(st.meta_bytes - s0.meta_bytes == sizeof(struct ilio_crange),
		      "metadata_bytes counts the map: +%lld for one range",
		      (long long)(st.meta_bytes - s0.meta_bytes));
		CHECK(ilio_core_hint(ic, 1900 * 8, 8, ILIO_CLASS_NORMAL) == 0, "and gone again");
	}
	fails += set_write(ic, 0, WS, 0xc1a55);
	fails += set_write(ic, PF0, PF, 0x9a9e);
	CHECK(ilio_core_close(ic) == 0, "close");

	/* Reopen: the same map, and the pinned blocks' chunks are pinned. */
	ic = md_open_ram(&d, 3U << 20, &err, &why);
	CHECK(ic, "reopen: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	CHECK(hints_equal(ic, snap, n), "the map came back as it was saved");
	fails += set_read(ic, 0, WS, 0xc1a55);
	for (pass = 0; pass < 2; pass++)
		fails += set_read(ic, PF0, PF, 0x9a9e);
	ilio_core_get_stats(ic, &st0);
	fails += set_read(ic, 0, WS, 0xc1a55);
	ilio_core_get_stats(ic, &st);
	CHECK(st.cache_hits - st0.cache_hits == WS,
	      "after reopen the pinned set still stays cached: %llu of %d hits",
	      (unsigned long long)(st.cache_hits - st0.cache_hits), WS);

	/* A lost save: the previous map comes back. */
	CHECK(ilio_core_hint(ic, 100 * 8, 8, ILIO_CLASS_PIN) == 0, "hint before the cut");
	n2 = hints_copy(ic, snap2, 64);
	d.die_after = 1;
	ilio_core_hint(ic, 200 * 8, 8, ILIO_CLASS_PIN);
	ilio_core_destroy(ic);
	md_crash(&d, &(u64){ 5 });
	ic = md_open_ram(&d, 3U << 20, &err, &why);
	CHECK(ic && hints_equal(ic, snap2, n2), "a lost save leaves the previous map");
	if (ic)
		CHECK(ilio_core_close(ic) == 0, "close");

	/* A damaged newest slot: the older one is used. */
	{
		struct ilio_geom g;

		ilio_sb_check(d.img, 0, DEV_BYTES, &g, &why);
		ic = md_open_ram(&d, 3U << 20, &err, &why);
		CHECK(ic && ilio_core_hint(ic, 300 * 8, 8, ILIO_CLASS_TEMP) == 0, "hint");
		if (ic)
			CHECK(ilio_core_close(ic) == 0, "close");
		/* The save just made went to the slot the older map was in. */
		for (i = 0; i < 2; i++) {
			u64 seq;
			u32 nr;

			if (!ilio_cmap_check_hdr(d.img + ilio_cmap_slot_block(&g, i) * 4096,
						 &g, i, &seq, &nr, &why) && nr == n2 + 1) {
				d.img[ilio_cmap_slot_block(&g, i) * 4096 + 64 + 5] ^= 0x40;
				memcpy(d.dur, d.img, DEV_BYTES);
				break;
			}
		}
		CHECK(i < 2, "found the newest slot");
		ic = md_open_ram(&d, 3U << 20, &err, &why);
		CHECK(ic && hints_equal(ic, snap2, n2), "a damaged newest slot: the older map");
		if (ic)
			CHECK(ilio_core_close(ic) == 0, "close");
	}

	/* Crafted slots are refused: the open goes on with no map. */
	{
		static struct ilio_crange bad[2000];
		static const u8 other[16] = { 1, 2, 3 };
		struct ilio_geom g;
		u64 s1 = 1000;

		ilio_sb_check(d.img, 0, DEV_BYTES, &g, &why);
		for (i = 0; i < 2000; i++) {
			bad[i].start = i * 16;
			bad[i].end = i * 16 + 8;
			bad[i].cls = ILIO_CLASS_PIN;
		}
		/* More ranges than a slot holds (the header says so). */
		cmap_write(&d, 0, s1, NULL, bad, 0);
		{
			struct ilio_cmap_hdr *h = (void *)(d.img + ilio_cmap_slot_block(&g, 0) * 4096);

			h->nr = 1u << 30;
			memcpy(d.dur, d.img, DEV_BYTES);
		}
		cmap_write(&d, 1, s1 - 1, other, bad, 3);	/* another store's */
		ic = md_open_ram(&d, 3U << 20, &err, &why);
		CHECK(ic && hints_copy(ic, snap, 64) == 0, "huge or foreign slots: no map");
		if (ic)
			CHECK(ilio_core_close(ic) == 0, "close");
		/* Unsorted, of class normal, past the end: each refused. */
		bad[1].start = 0;
		cmap_write(&d, 0, s1 + 1, NULL, bad, 3);
		cmap_write(&d, 1, 0, NULL, bad, 0);	/* seq 0: not valid */
		ic = md_open_ram(&d, 3U << 20, &err, &why);
		CHECK(ic && hints_copy(ic, snap, 64) == 0, "overlapping ranges refused");
		if (ic)
			CHECK(ilio_core_close(ic) == 0, "close");
		bad[1].start = 16;
		bad[2].cls = 0;
		cmap_write(&d, 0, s1 + 2, NULL, bad, 3);
		ic = md_open_ram(&d, 3U << 20, &err, &why);
		CHECK(ic && hints_copy(ic, snap, 64) == 0, "a class 0 range refused");
		if (ic)
			CHECK(ilio_core_close(ic) == 0, "close");
		bad[2].cls = ILIO_CLASS_PIN;
		bad[2].end = (u64)NBLK * 8 + 1;
		cmap_write(&d, 0, s1 + 3, NULL, bad, 3);
		ic = md_open_ram(&d, 3U << 20, &err, &why);
		CHECK(ic && hints_copy(ic, snap, 64) == 0, "a range past the end refused");
		/* The data is untouched by all of it. */
		if (ic)
			fails += set_read(ic, 0, WS, 0xc1a55);
		/* The next save goes over the bad slot and is read back. */
		CHECK(ic && ilio_core_hint(ic, 8, 8, ILIO_CLASS_NOCACHE) == 0, "hint after");
		if (ic)
			CHECK(ilio_core_close(ic) == 0, "close");
		ic = md_open_ram(&d, 3U << 20, &err, &why);
		CHECK(ic && hints_copy(ic, snap, 64) == 1, "the new map replaced the bad one");
		/* The limit: as many ranges as a slot holds, then -ENOSPC. */
		for (i = 0; ic && i < 1019; i++)
			if (ilio_core_hint(ic, 64 + (u64)i * 8, 4, ILIO_CLASS_TEMP))
				break;
		CHECK(i == 1019, "1020 ranges fit (%u)", i + 1);
		CHECK(ic && ilio_core_hint(ic, 64 + (u64)i * 8, 4, ILIO_CLASS_TEMP) == -ENOSPC,
		      "range 1021 is refused");
		if (ic)
			CHECK(ilio_core_close(ic) == 0, "close");
		ic = md_open_ram(&d, 3U << 20, &err, &why);
		CHECK(ic && hints_copy(ic, NULL, 0) == 1020, "a full map is saved whole");
		if (ic)
			CHECK(ilio_core_close(ic) == 0, "close");
	}

	/* A failed save: -EIO, the map holds in RAM, the next save has it. */
	ic = md_open_ram(&d, 3U << 20, &err, &why);
	CHECK(ic, "open");
	if (ic) {
		CHECK(ilio_core_hint(ic, 0, (u64)NBLK * 8, ILIO_CLASS_NORMAL) == 0, "clear all");
		d.fail_writes = 1;
		CHECK(ilio_core_hint(ic, 0, 8, ILIO_CLASS_PIN) == -EIO, "a failed save is -EIO");
		CHECK(hints_copy(ic, snap, 64) == 1, "the failed save's change holds in RAM");
		CHECK(ilio_core_hint(ic, 16, 8, ILIO_CLASS_PIN) == 0, "the next save");
		CHECK(ilio_core_close(ic) == 0, "close");
		ic = md_open_ram(&d, 3U << 20, &err, &why);
		CHECK(ic && hints_copy(ic, snap, 64) == 2, "both changes were saved");
		if (ic)
			CHECK(ilio_core_close(ic) == 0, "close");
	}
	/* Read-only: hints hold in RAM and nothing is written. */
	ic = md_open(&d, NBLK, ILIO_COALESCE_AUTO, true, &err, &why);
	CHECK(ic, "open read-only: %d %s", err, why);
	if (ic) {
		w0 = d.writes;
		CHECK(hints_copy(ic, snap, 64) == 2, "read-only sees the saved map");
		CHECK(ilio_core_hint(ic, 64, 8, ILIO_CLASS_TEMP) == 0, "hint read-only");
		CHECK(hints_copy(ic, snap, 64) == 3 && d.writes == w0,
		      "read-only: in RAM, %lu writes", d.writes - w0);
		ilio_core_destroy(ic);
	}
	CHECK(fails == 0, "%d failed reads or writes", fails);
	md_free(&d);
}

/*
 * Per-class statistics (issue 12) against a known workload: N reads of
 * pinned blocks give exactly N hits in pin and nothing in the other
 * classes; nocache takes no cache; the class sums are the totals; dirty
 * bytes by class are the records written and not yet written back, and
 * reach 0 in every class after a flush - also when a hint re-classes
 * dirty chunks before the write-back (what is subtracted is what was
 * added: counting by the current class would underflow here).
 */
static u64 cls_sum(const u64 *v)
{
	return v[0] + v[1] + v[2] + v[3];
}

static void test_classes_stats(void)
{
	enum { PIN0 = 0, NPIN = 32, NC0 = 512, NNC = 64, TMP0 = 1024, NTMP = 16,
	       NRM0 = 1536, NNRM = 16, N = 5 };
	const u32 rec = ilio_rec_bytes(4096);
	struct ilio_stats st;
	struct ilio_core *ic;
	const char *why = "";
	struct mdev d;
	u8 b[4096], got[4096];
	int err = 0, fails = 0, i, c;
	u64 lba;

	md_format(&d, SEG_BYTES);
	ic = md_open_ram(&d, 3U << 20, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	CHECK(ilio_core_hint(ic, PIN0 * 8, NPIN * 8, ILIO_CLASS_PIN) == 0 &&
	      ilio_core_hint(ic, NC0 * 8, NNC * 8, ILIO_CLASS_NOCACHE) == 0 &&
	      ilio_core_hint(ic, TMP0 * 8, NTMP * 8, ILIO_CLASS_TEMP) == 0, "hints");
	/* Random content: stored raw, one record of rec bytes a block. */
	for (lba = PIN0; lba < PIN0 + NPIN; lba++) {
		ut_fill_random(b, 4096, 0x5717 + lba);
		fails += ilio_core_write(ic, lba, b, &ctx) != 0;
	}
	for (lba = NC0; lba < NC0 + NNC; lba++) {
		ut_fill_random(b, 4096, 0x5717 + lba);
		fails += ilio_core_write(ic, lba, b, &ctx) != 0;
	}
	for (lba = TMP0; lba < TMP0 + NTMP; lba++) {
		ut_fill_random(b, 4096, 0x5717 + lba);
		fails += ilio_core_write(ic, lba, b, &ctx) != 0;
	}
	for (lba = NRM0; lba < NRM0 + NNRM; lba++) {
		ut_fill_random(b, 4096, 0x5717 + lba);
		fails += ilio_core_write(ic, lba, b, &ctx) != 0;
	}
	ilio_core_get_stats(ic, &st);
	printf("  dirty after the writes: %llu, by class %llu %llu %llu %llu\n",
	       (unsigned long long)st.dirty_bytes,
	       (unsigned long long)st.class_dirty_bytes[0],
	       (unsigned long long)st.class_dirty_bytes[1],
	       (unsigned long long)st.class_dirty_bytes[2],
	       (unsigned long long)st.class_dirty_bytes[3]);
	/* Each class: whole records, at most what it wrote, some still dirty. */
	for (c = 0; c < ILIO_NR_CLASSES; c++) {
		static const u64 wrote[ILIO_NR_CLASSES] = { NNRM, NPIN, NNC, NTMP };

		CHECK(st.class_dirty_bytes[c] % rec == 0 &&
		      st.class_dirty_bytes[c] <= wrote[c] * rec,
		      "class %d dirty %llu: not whole records of at most %llu blocks", c,
		      (unsigned long long)st.class_dirty_bytes[c], (unsigned long long)wrote[c]);
	}
	CHECK(cls_sum(st.class_dirty_bytes) > 0 &&
	      cls_sum(st.class_dirty_bytes) <= st.dirty_bytes,
	      "dirty by class %llu of dirty_bytes %llu",
	      (unsigned long long)cls_sum(st.class_dirty_bytes),
	      (unsigned long long)st.dirty_bytes);
	/* Re-class the dirty normal blocks before they are written back. */
	CHECK(ilio_core_hint(ic, NRM0 * 8, NNRM * 8, ILIO_CLASS_TEMP) == 0, "re-hint");
	fails += ilio_core_flush(ic) != 0;
	ilio_core_get_stats(ic, &st);
	CHECK(st.dirty_bytes == 0 && cls_sum(st.class_dirty_bytes) == 0 &&
	      st.class_dirty_bytes[0] == 0 && st.class_dirty_bytes[1] == 0 &&
	      st.class_dirty_bytes[2] == 0 && st.class_dirty_bytes[3] == 0,
	      "after a flush: dirty %llu, by class %llu %llu %llu %llu",
	      (unsigned long long)st.dirty_bytes,
	      (unsigned long long)st.class_dirty_bytes[0],
	      (unsigned long long)st.class_dirty_bytes[1],
	      (unsigned long long)st.class_dirty_bytes[2],
	      (unsigned long long)st.class_dirty_bytes[3]);

	/* Warm: every block read once, then the counters zeroed. */
	for (lba = 0; lba < NBLK; lba++)
		fails += ilio_core_read(ic, lba, got) != 0;
	ilio_core_clear_stats(ic);
	ilio_core_get_stats(ic, &st);
	CHECK(cls_sum(st.class_hits) == 0 && cls_sum(st.class_misses) == 0 &&
	      st.cache_hits == 0 && st.cache_misses == 0, "clear_stats zeroes hits and misses");
	/* N reads of each pinned block: N * NPIN hits in pin, nothing else. */
	for (i = 0; i < N; i++) {
		for (lba = PIN0; lba < PIN0 + NPIN; lba++) {
			ut_fill_random(b, 4096, 0x5717 + lba);
			fails += ilio_core_read(ic, lba, got) != 0 || memcmp(b, got, 4096);
		}
	}
	ilio_core_get_stats(ic, &st);
	CHECK(st.class_hits[ILIO_CLASS_PIN] == N * NPIN &&
	      st.class_misses[ILIO_CLASS_PIN] == 0 &&
	      st.class_hits[ILIO_CLASS_NORMAL] == 0 && st.class_misses[ILIO_CLASS_NORMAL] == 0 &&
	      st.class_hits[ILIO_CLASS_NOCACHE] == 0 && st.class_misses[ILIO_CLASS_NOCACHE] == 0 &&
	      st.class_hits[ILIO_CLASS_TEMP] == 0 && st.class_misses[ILIO_CLASS_TEMP] == 0,
	      "%d reads of %d pinned blocks: pin %llu/%llu, normal %llu/%llu, nocache %llu/%llu, temp %llu/%llu (hits/misses)",
	      N, NPIN, (unsigned long long)st.class_hits[1], (unsigned long long)st.class_misses[1],
	      (unsigned long long)st.class_hits[0], (unsigned long long)st.class_misses[0],
	      (unsigned long long)st.class_hits[2], (unsigned long long)st.class_misses[2],
	      (unsigned long long)st.class_hits[3], (unsigned long long)st.class_misses[3]);
	/* The nocache blocks, twice: every read counted under nocache. */
	for (i = 0; i < 2; i++)
		for (lba = NC0; lba < NC0 + NNC; lba++)
			fails += ilio_core_read(ic, lba, got) != 0;
	ilio_core_get_stats(ic, &st);
	printf("  cached by class %llu %llu %llu %llu of %llu; nocache %llu hits, %llu misses\n",
	       (unsigned long long)st.class_cache_bytes[0],
	       (unsigned long long)st.class_cache_bytes[1],
	       (unsigned long long)st.class_cache_bytes[2],
	       (unsigned long long)st.class_cache_bytes[3],
	       (unsigned long long)st.cache_bytes,
	       (unsigned long long)st.class_hits[2], (unsigned long long)st.class_misses[2]);
	CHECK(st.class_hits[ILIO_CLASS_NOCACHE] + st.class_misses[ILIO_CLASS_NOCACHE] == 2 * NNC &&
	      st.class_hits[ILIO_CLASS_PIN] == N * NPIN,
	      "nocache reads %llu + %llu, want %d",
	      (unsigned long long)st.class_hits[2], (unsigned long long)st.class_misses[2], 2 * NNC);
	CHECK(st.class_cache_bytes[ILIO_CLASS_NOCACHE] == 0, "nocache holds %llu cache bytes",
	      (unsigned long long)st.class_cache_bytes[ILIO_CLASS_NOCACHE]);
	CHECK(st.class_cache_bytes[ILIO_CLASS_PIN] >= NPIN * 4096ULL,
	      "pin holds %llu cache bytes, want its %d blocks",
	      (unsigned long long)st.class_cache_bytes[ILIO_CLASS_PIN], NPIN);
	CHECK(cls_sum(st.class_cache_bytes) == st.cache_bytes &&
	      cls_sum(st.class_hits) == st.cache_hits &&
	      cls_sum(st.class_misses) == st.cache_misses,
	      "class sums %llu %llu %llu, totals %llu %llu %llu",
	      (unsigned long long)cls_sum(st.class_cache_bytes),
	      (unsigned long long)cls_sum(st.class_hits),
	      (unsigned long long)cls_sum(st.class_misses), (unsigned long long)st.cache_bytes,
	      (unsigned long long)st.cache_hits, (unsigned long long)st.cache_misses);
	CHECK(fails == 0, "%d failed reads or writes", fails);
	CHECK(ilio_core_close(ic) == 0, "close");
	md_free(&d);
}

/*
 * A chunk shared by a pinned block and a nocache block keeps the class
 * that caches it best (pin: "a DLL's block that a pagefile repeats stays
 * pinned"), and it must keep it across a reopen: the map is the same, so
 * the classes must be too.  The reopen re-classes the chunks range by
 * range in sector order, so the nocache range (higher sectors) wins and
 * the pinned blocks are no longer cached after the reopen.
 */
static void test_classes_shared_reopen(void)
{
	enum { WS = 8, PF0 = 600 };
	struct ilio_stats st0, st;
	struct ilio_core *ic;
	const char *why = "";
	struct mdev d;
	u8 b[4096], got[4096];
	int err = 0, fails = 0, round;
	u64 lba, hits[2];

	md_format(&d, SEG_BYTES);
	ic = md_open_ram(&d, 3U << 20, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	CHECK(ilio_core_hint(ic, 0, WS * 8, ILIO_CLASS_PIN) == 0, "hint pin");
	CHECK(ilio_core_hint(ic, PF0 * 8, WS * 8, ILIO_CLASS_NOCACHE) == 0, "hint nocache");
	/* The "pagefile" repeats the "DLL" blocks: one chunk each, shared. */
	for (lba = 0; lba < WS; lba++) {
		ut_fill_random(b, 4096, 0x5a5e + lba);
		fails += ilio_core_write(ic, lba, b, &ctx) != 0;
		fails += ilio_core_write(ic, PF0 + lba, b, &ctx) != 0;
	}
	fails += ilio_core_flush(ic) != 0;
	for (round = 0; round < 2; round++) {
		if (round) {
			CHECK(ilio_core_close(ic) == 0, "close");
			ic = md_open_ram(&d, 3U << 20, &err, &why);
			CHECK(ic, "reopen: %d %s", err, why);
			if (!ic) {
				md_free(&d);
				return;
			}
		}
		/* One pass to cache them, then count the hits of a second. */
		for (lba = 0; lba < WS; lba++)
			fails += ilio_core_read(ic, lba, got) != 0;
		ilio_core_get_stats(ic, &st0);
		for (lba = 0; lba < WS; lba++) {
			ut_fill_random(b, 4096, 0x5a5e + lba);
			fails += ilio_core_read(ic, lba, got) != 0 || memcmp(b, got, 4096);
		}
		ilio_core_get_stats(ic, &st);
		hits[round] = st.class_hits[ILIO_CLASS_PIN] - st0.class_hits[ILIO_CLASS_PIN];
	}
	printf("  shared pin/nocache chunks: %llu of %d pin hits before the reopen, %llu after\n",
	       (unsigned long long)hits[0], WS, (unsigned long long)hits[1]);
	CHECK(hits[0] == WS, "before the reopen the shared chunks are pinned: %llu of %d",
	      (unsigned long long)hits[0], WS);
	CHECK(hits[1] == hits[0], "after the reopen they are too: %llu of %d pin hits",
	      (unsigned long long)hits[1], WS);
	CHECK(fails == 0, "%d failed reads or writes", fails);
	CHECK(ilio_core_close(ic) == 0, "close after reopen");
	md_free(&d);
}

/*
 * A whole slot with more ranges than this module allows (saved by a module
 * with a larger limit) is not loaded, and the older slot must not stand in
 * for it (the map would go back in time); the next save goes beside it
 * with a higher generation, and wins at the next open.
 */
static void test_classes_too_big(void)
{
	static struct ilio_crange r[4097], got[8];
	struct ilio_core *ic;
	const char *why = "";
	struct mdev d;
	int err = 0;
	u32 i, limit;
	u64 bytes;

	md_format(&d, 1U << 20);
	for (i = 0; i < 4097; i++) {
		r[i].start = (u64)i * 2;
		r[i].end = (u64)i * 2 + 1;
		r[i].cls = ILIO_CLASS_TEMP;
	}
	cmap_write(&d, 0, 99, NULL, r, 1);		/* older, 1 range */
	cmap_write(&d, 1, 100, NULL, r, 4097);		/* newer, too big */
	ic = md_open_ram(&d, 16U << 20, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	ilio_core_hints(ic, NULL, 0, &limit, &bytes);
	CHECK(limit == 4096, "1 MiB segments: the limit is 4096 (%u)", limit);
	CHECK(hints_copy(ic, got, 8) == 0, "neither the too-big map nor the older one is loaded");
	CHECK(ilio_core_hint(ic, 800, 8, ILIO_CLASS_PIN) == 0, "a hint");
	CHECK(ilio_core_close(ic) == 0, "close");
	ic = md_open_ram(&d, 16U << 20, &err, &why);
	CHECK(ic && hints_copy(ic, got, 8) == 1 && got[0].start == 800 &&
	      got[0].cls == ILIO_CLASS_PIN, "the new save won over the too-big slot");
	if (ic)
		CHECK(ilio_core_close(ic) == 0, "close");
	md_free(&d);
}

/* A store for the temp tests: coalesce auto, @interval ms. */
static struct ilio_core *md_open_temp(struct mdev *d, u32 interval, int *err,
				      const char **why)
{
	struct ilio_core_params p = {
		.nr_blocks = NBLK, .ram_limit = 8U << 20, .seg_bytes = SEG_BYTES,
		.dedup = true, .compress = true, .store = &ilio_log_store,
		.bops = &md_ops, .bpriv = d, .dev_bytes = DEV_BYTES,
		.coalesce = ILIO_COALESCE_AUTO, .flush_interval_ms = interval,
		.max_dirty = 1U << 20,
	};

	return ilio_core_open(&p, err, why);
}

static int zero_read(struct ilio_core *ic, u64 first, u64 n)
{
	u8 got[4096], zero[4096] = { 0 };
	int fails = 0;
	u64 lba;

	for (lba = first; lba < first + n; lba++)
		fails += ilio_core_read(ic, lba, got) != 0 || memcmp(got, zero, 4096);
	return fails;
}

/*
 * Late write-back of temp (issue 12).  A unit that holds only temp data
 * stays open past flush_interval_ms (100 ms here; up to 8 times that),
 * and a unit drops its dead records when it closes: temp data
 * overwritten or discarded meanwhile never reaches the backing device,
 * while the normal data of the same period does.  Bounded by the age
 * limit and by a flush, which makes everything durable as before (a
 * power cut after it loses nothing).  Random content: one raw record of
 * rec bytes a block.
 */
static void test_classes_temp(void)
{
	enum { T0 = 1024, TN = 32, D0 = 1100, DN = 16, N0 = 0, NN = 16 };
	const u64 rec = ilio_rec_bytes(4096);
	struct ilio_stats st0, st1, st2;
	struct ilio_core *ic;
	const char *why = "";
	char cwhy[128];
	struct mdev d;
	u64 lba, rs = 12, w;
	int err = 0, fails = 0;

	/* 1 MiB segments: the open unit takes all of it (a unit is one segment at most). */
	md_format(&d, 1U << 20);
	ic = md_open_temp(&d, 100, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic) {
		md_free(&d);
		return;
	}
	CHECK(ilio_core_hint(ic, T0 * 8, (D0 + DN - T0) * 8, ILIO_CLASS_TEMP) == 0,
	      "hint temp");
	CHECK(ilio_core_flush(ic) == 0, "flush");
	ilio_core_get_stats(ic, &st0);

	/* Temp data, past flush_interval_ms: held. */
	fails += set_write(ic, T0, TN, 100);
	fails += set_write(ic, D0, DN, 300);
	usleep(150 * 1000);
	ilio_core_tick(ic);
	ilio_core_get_stats(ic, &st1);
	CHECK(st1.backend_write_bytes == st0.backend_write_bytes,
	      "a temp-only unit is held past flush_interval_ms (%llu bytes written)",
	      (unsigned long long)(st1.backend_write_bytes - st0.backend_write_bytes));
	CHECK(st1.class_dirty_bytes[ILIO_CLASS_TEMP] == (TN + DN) * rec,
	      "temp dirty: %llu", (unsigned long long)st1.class_dirty_bytes[ILIO_CLASS_TEMP]);

	/* Overwritten and discarded while held; then normal data. */
	fails += set_write(ic, T0, TN, 200);
	for (lba = D0; lba < D0 + DN; lba++)
		fails += ilio_core_discard(ic, lba) != 0;
	fails += set_write(ic, N0, NN, 400);
	usleep(150 * 1000);
	ilio_core_tick(ic);	/* not temp-only now: it goes */
	ilio_core_get_stats(ic, &st2);
	w = st2.backend_write_bytes - st1.backend_write_bytes;
	CHECK(w >= (TN + NN) * rec, "the live data is written: %llu bytes",
	      (unsigned long long)w);
	CHECK(w < (TN + NN) * rec + 4 * 4096,
	      "dead temp records are not written: %llu bytes for %llu live",
	      (unsigned long long)w, (unsigned long long)((TN + NN) * rec));
	CHECK(st2.elided_bytes - st1.elided_bytes == (TN + DN) * rec,
	      "elided_bytes counts the dead records: %llu, want %llu",
	      (unsigned long long)(st2.elided_bytes - st1.elided_bytes),
	      (unsigned long long)((TN + DN) * rec));
	CHECK(st2.dirty_bytes == 0 && st2.class_dirty_bytes[ILIO_CLASS_TEMP] == 0,
	      "nothing dirty after the tick: %llu, temp %llu",
	      (unsigned long long)st2.dirty_bytes,
	      (unsigned long long)st2.class_dirty_bytes[ILIO_CLASS_TEMP]);
	fails += set_read(ic, T0, TN, 200) + set_read(ic, N0, NN, 400) +
		 zero_read(ic, D0, DN);
	CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)), "check: %s", cwhy);

	/* The age limit: 8 x flush_interval_ms. */
	fails += set_write(ic, T0, 4, 500);
	usleep(150 * 1000);
	ilio_core_tick(ic);
	ilio_core_get_stats(ic, &st1);
	CHECK(st1.backend_write_bytes == st2.backend_write_bytes, "held again");
	usleep(900 * 1000);
	ilio_core_tick(ic);
	ilio_core_get_stats(ic, &st2);
	CHECK(st2.backend_write_bytes - st1.backend_write_bytes >= 4 * rec &&
	      st2.dirty_bytes == 0, "written at the age limit: %llu bytes, %llu dirty",
	      (unsigned long long)(st2.backend_write_bytes - st1.backend_write_bytes),
	      (unsigned long long)st2.dirty_bytes);

	/* A flush is not held back: a power cut after it loses nothing. */
	fails += set_write(ic, T0, 8, 600);
	ilio_core_tick(ic);
	CHECK(ilio_core_flush(ic) == 0, "flush");
	ilio_core_get_stats(ic, &st1);
	CHECK(st1.dirty_bytes == 0, "nothing dirty after the flush: %llu",
	      (unsigned long long)st1.dirty_bytes);
	fails += set_write(ic, T0 + 8, 8, 700);	/* held, not flushed */
	ilio_core_destroy(ic);			/* power cut */
	md_crash(&d, &rs);
	ic = md_open_temp(&d, 100, &err, &why);
	CHECK(ic, "reopen: %d %s", err, why);
	if (ic) {
		int lost = set_read(ic, T0, 8, 600) + set_read(ic, N0, NN, 400) +
			   zero_read(ic, D0, DN);

		for (lba = T0 + 8; lba < T0 + 16; lba++)
			lost += set_read(ic, lba, 1, 700) && set_read(ic, lba, 1, 200);
		lost += set_read(ic, T0 + 16, TN - 16, 200);
		CHECK(lost == 0, "flushed data survives the power cut: %d blocks lost", lost);
		CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)), "check after the cut: %s", cwhy);
		CHECK(ilio_core_close(ic) == 0, "close");
	}
	CHECK(fails == 0, "writes and reads: %d failed", fails);
	md_free(&d);
}

/*
 * Power cuts anywhere while temp units are held and dead records are
 * dropped: half the device is temp, writes, overwrites, discards,
 * flushes and ticks at random (flush_interval_ms 2: temp units wait up
 * to 16 ms), writes completing late on odd rounds.  After each cut,
 * every block holds what the last completed flush covered or a later
 * write, and the check passes.
 */
static void test_classes_temp_crash(void)
{
	static struct model m;
	struct ilio_stats st;
	struct ilio_core *ic;
	struct mdev d;
	const char *why = "";
	u8 b[4096];
	u64 rs = 77, elided = 0;
	int err = 0, round, i, points = 0;
	char cwhy[128];

	memset(&m, 0, sizeof(m));
	md_format(&d, SEG_BYTES);
	for (round = 0; round < 60; round++) {
		ic = md_open_temp(&d, 2, &err, &why);
		CHECK(ic, "round %d open: %d %s", round, err, why);
		if (!ic)
			break;
		if (round) {
			CHECK(verify(ic, &m, false) == 0, "round %d after the cut", round);
			CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)),
			      "round %d check: %s", round, cwhy);
			points++;
		} else {
			CHECK(ilio_core_hint(ic, 0, NBLK * 4, ILIO_CLASS_TEMP) == 0,
			      "hint temp");
		}
		model_flush(&m);
		md_defer(&d, round % 2, false);
		g_pl = ilio_plog_of(ic->store);
		for (i = 0; i < 300; i++) {
			/* Mostly a small set, so that units hold dead records. */
			u64 lba = ut_rand(&rs) % (ut_rand(&rs) % 2 ? 64 : NBLK);
			u64 r = ut_rand(&rs) % 100;
			u32 v = next_version(&rs);

			if (lba < 32 && ut_rand(&rs) % 2)
				lba += NBLK / 2;	/* the same in the normal half */
			if (r < 2) {
				CHECK(!ilio_core_flush(ic) || 0, "flush");
				model_flush(&m);
				continue;
			}
			if (r < 6) {
				if (r == 5)
					usleep(ut_rand(&rs) % 3000);
				ilio_core_tick(ic);
				continue;
			}
			if (r < 12) {
				CHECK(!ilio_core_discard(ic, lba) || 0, "discard");
				model_write(&m, lba, 0);
				continue;
			}
			content(b, lba, v);
			CHECK(!ilio_core_write(ic, lba, b, &ctx) || 0, "write");
			model_write(&m, lba, v);
		}
		CHECK(d.nq == 0, "round %d: writes left in flight", round);
		ilio_core_get_stats(ic, &st);
		elided += st.elided_bytes;
		g_pl = NULL;
		md_defer(&d, false, false);
		ilio_core_destroy(ic);	/* power cut: no write-back */
		md_crash(&d, &rs);
	}
	CHECK(points >= 59, "cut points verified: %d", points);
	CHECK(elided > 100 * 4096, "dead records were dropped: %llu bytes",
	      (unsigned long long)elided);
	model_free(&m);
	md_free(&d);
}

int main(int argc, char **argv)
{
	static const struct ut_case cases[] = {
		{ "roundtrip", test_roundtrip },
		{ "classes_cache", test_classes_cache },
		{ "classes_advisory", test_classes_advisory },
		{ "classes_batch", test_classes_batch },
		{ "classes_stats", test_classes_stats },
		{ "classes_persist", test_classes_persist },
		{ "classes_recache", test_classes_recache },
		{ "classes_too_big", test_classes_too_big },
		{ "classes_shared_reopen", test_classes_shared_reopen },
		{ "crash_points", test_crash_points },
		{ "gc_enospc", test_gc_enospc },
		{ "corrupt", test_corrupt },
		{ "open_window", test_open_window },
		{ "gc_rot", test_gc_rot },
		{ "recovery_info", test_recovery_info },
		{ "errors_ro", test_errors_ro },
		{ "coalesce", test_coalesce },
		{ "hash_key", test_hash_key },
		{ "transient_enomem", test_transient_enomem },
		{ "ram_full_drain", test_ram_full_drain },
		{ "nowait", test_nowait },
		{ "prefetch", test_prefetch },
		{ "wb_order", test_wb_order },
		{ "wb_error", test_wb_error },
		{ "wb_finalize_race", test_wb_finalize_race },
		{ "grow", test_grow },
		{ "grow_reopen_budget", test_grow_reopen_budget },
		{ "grow_sb_copy1", test_grow_sb_copy1 },
		{ "grow_resume_unchanged", test_grow_resume_unchanged },
		{ "grow_anchor_fail", test_grow_anchor_fail },
		{ "grow_sb_features", test_grow_sb_features },
		{ "grow_refusal_joins", test_grow_refusal_joins },
		{ "classes_temp", test_classes_temp },
		{ "classes_temp_crash", test_classes_temp_crash },
	};
	int ret;

	if (ilio_ctx_init(&ctx))
		return 1;
	ret = ut_run(cases, ARRAY_SIZE(cases), argc, argv);
	ilio_ctx_exit(&ctx);
	return ret;
}
