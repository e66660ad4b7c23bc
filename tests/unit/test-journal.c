// SPDX-License-Identifier: GPL-2.0
/*
 * test-journal: the NV journal device of persistent mode, in userspace,
 * over two in-memory devices: a LUN with a volatile write cache (pending
 * writes since its last flush are kept, dropped or torn at a power cut)
 * and a journal whose writes are FUA (durable once they complete; the
 * write in progress at a power cut is torn).
 *
 * What it proves:
 *  - a flush with a journal writes one record to the journal and neither
 *    flushes the LUN nor writes a partial segment to it; the data comes
 *    back byte for byte after a clean close and after a power cut;
 *  - power cuts at random points of a workload with frequent flushes:
 *    every block holds what the last completed flush promised or a value
 *    written later, never anything else (>= 100 crash points);
 *  - a power cut at every device write of a journaled flush (and of the
 *    recovery that replays it): the same, and once the flush completed its
 *    data is there;
 *  - the journal is what carries the data: with the journal ring wiped,
 *    the same crash loses flushed blocks;
 *  - a foreign journal (another store's uuid), a stale one (an older
 *    binding generation), a journaled store opened without its journal and
 *    a journal given to a store without one are refused, writing nothing;
 *  - the ring wraps many times and recovery after a wrap finds every
 *    flushed block; the persisted tail moves;
 *  - a journal write error falls back to the LUN path (partial segments
 *    and a LUN flush), sets journal_failed, and loses no data;
 *  - a read-only open that would need the journal's units is refused;
 *  - the journal superblock and record validators refuse damaged, foreign,
 *    misplaced and out-of-bounds blocks.
 */
#include <stdlib.h>
#include <string.h>

#include <linux/string.h>

#include "ut.h"
#include "ilio-core.h"
#include "ilio-meta.h"

#define LUN_BYTES	(24U << 20)
#define JDEV_BYTES	((ILIO_JRING_START + ILIO_JRING_MIN_BLOCKS) * 4096U)
#define SEG_BYTES	(64U << 10)
#define NBLK		2048U

static struct ilio_ctx ctx;

/* One power supply for both devices: a cut stops them together. */
struct power {
	unsigned long die_after;	/* device writes before the cut */
	bool dead;
	u64 rs;
};

struct pend {
	u64 pos;
	u32 len;
	u8 *data;
};

struct mdev {
	u64 size;
	bool fua;		/* every write is durable when it completes */
	u8 *img;
	u8 *dur;
	struct pend *pend;
	size_t npend, cap;
	int fail_writes;	/* -1: all */
	struct power *pw;
	unsigned long writes, flushes, write_bytes;
};

static int md_read(void *priv, u64 pos, void *buf, u32 len)
{
	struct mdev *d = priv;

	if (pos + len > d->size)
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
	if (pos + len > d->size || pos % 4096 || len % 4096)
		return -EIO;
	if (d->pw->dead)
		return 0;
	if (d->pw->die_after && !--d->pw->die_after) {
		/* The cut hits this write: some leading blocks land. */
		u32 keep = (u32)(ut_rand(&d->pw->rs) % (len / 4096 + 1)) * 4096;

		d->pw->dead = true;
		memcpy(d->dur + pos, buf, keep);
		memcpy(d->img + pos, buf, keep);
		return 0;
	}
	memcpy(d->img + pos, buf, len);
	d->writes++;
	d->write_bytes += len;
	if (d->fua) {
		memcpy(d->dur + pos, buf, len);
		return 0;
	}
	if (d->npend == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->pend = realloc(d->pend, d->cap * sizeof(*d->pend));
	}
	p = &d->pend[d->npend++];
	p->pos = pos;
	p->len = len;
	p->data = malloc(len);
	memcpy(p->data, buf, len);
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
	if (d->pw->dead)
		return 0;
	for (i = 0; i < d->npend; i++)
		memcpy(d->dur + d->pend[i].pos, d->pend[i].data, d->pend[i].len);
	md_drop_pending(d);
	d->flushes++;
	return 0;
}

static const struct ilio_backend_ops md_ops = {
	.read = md_read, .write = md_write, .flush = md_flush,
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
			break;
		case 1:
			memcpy(d->dur + p->pos, p->data, p->len);
			break;
		default:
			keep = (u32)(ut_rand(rs) % (p->len / 4096 + 1)) * 4096;
			memcpy(d->dur + p->pos, p->data, keep);
			break;
		}
	}
	md_drop_pending(d);
	memcpy(d->img, d->dur, d->size);
}

struct rig {
	struct power pw;
	struct mdev lun, jd;
};

static void rig_crash(struct rig *r, u64 *rs)
{
	md_crash(&r->lun, rs);
	md_crash(&r->jd, rs);
	r->pw.dead = false;
	r->pw.die_after = 0;
}

static void md_init(struct mdev *d, u64 size, bool fua, struct power *pw)
{
	memset(d, 0, sizeof(*d));
	d->size = size;
	d->fua = fua;
	d->img = calloc(1, size);
	d->dur = calloc(1, size);
	d->pw = pw;
}

static void md_free(struct mdev *d)
{
	md_drop_pending(d);
	free(d->pend);
	free(d->img);
	free(d->dur);
}

/* Write a journal superblock as ilioctl format --journal does. */
static void jd_write_sb(struct mdev *jd, const u8 *uuid, u64 gen)
{
	struct ilio_jsb_info j = {
		.seq = 1, .bind_gen = gen,
		.ring_blocks = jd->size / 4096 - ILIO_JRING_START,
		.tail_pos = 0, .tail_seq = 1,
	};

	memcpy(j.uuid, uuid, 16);
	memset(jd->img, 0, 2 * 4096);
	ilio_jsb_build(jd->img, 0, &j);
	memcpy(jd->dur, jd->img, 2 * 4096);
}

/* Format the LUN (journal generation @gen, 0: none) and the journal. */
static void rig_format(struct rig *r, u64 gen, u64 jbytes)
{
	struct ilio_anchor_info a = { .seq = 1, .epoch = 0x1234, .log_seq = 1 };
	struct ilio_geom g;
	const char *why;

	memset(r, 0, sizeof(*r));
	r->pw.rs = 0x77;
	md_init(&r->lun, LUN_BYTES, false, &r->pw);
	md_init(&r->jd, jbytes, true, &r->pw);
	if (ilio_geom_compute(&g, LUN_BYTES, SEG_BYTES, &why))
		abort();
	memset(g.uuid, 0x5a, sizeof(g.uuid));
	g.keyed_hash = true;
	g.hash_seed = 0x0123456789abcdefULL;
	g.journal_gen = gen;
	ilio_sb_build(r->lun.img, &g, 0);
	ilio_sb_build(r->lun.img + 4096, &g, 1);
	ilio_anchor_build(r->lun.img + 2 * 4096, &g, 2, &a);
	memcpy(r->lun.dur, r->lun.img, LUN_BYTES);
	if (gen)
		jd_write_sb(&r->jd, g.uuid, gen);
}

static void rig_free(struct rig *r)
{
	md_free(&r->lun);
	md_free(&r->jd);
}

static struct ilio_core *rig_open(struct rig *r, bool journal, bool ro,
				  int *err, const char **why)
{
	struct ilio_core_params p = {
		.nr_blocks = NBLK, .ram_limit = 8U << 20, .seg_bytes = SEG_BYTES,
		.dedup = true, .compress = true, .store = &ilio_log_store,
		.bops = &md_ops, .bpriv = &r->lun, .dev_bytes = LUN_BYTES,
		.read_only = ro, .coalesce = ILIO_COALESCE_AUTO,
		.flush_interval_ms = 1000, .max_dirty = 1U << 20,
		.jops = journal ? &md_ops : NULL, .jpriv = &r->jd,
		.jdev_bytes = r->jd.size,
	};

	return ilio_core_open(&p, err, why);
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

/* Per LBA: the version the last completed flush covers, and later ones. */
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
	memset(m, 0, sizeof(*m));
}

/* Every block: the durable version or a later one.  Returns failures. */
static unsigned int verify(struct ilio_core *ic, struct model *m, bool exact)
{
	u8 got[4096], want[4096];
	unsigned int fails = 0;
	u32 lba, i;

	for (lba = 0; lba < NBLK; lba++) {
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
			for (i = 0; i < m->nlater[lba]; i++) {
				content(want, lba, m->later[lba][i]);
				if (!memcmp(got, want, 4096))
					m->dur[lba] = m->later[lba][i];
			}
		}
	}
	if (!exact) {
		for (lba = 0; lba < NBLK; lba++) {
			m->cur[lba] = m->dur[lba];
			m->nlater[lba] = 0;
		}
	}
	return fails;
}

static u32 next_version(u64 *rs)
{
	return (u32)(ut_rand(rs) % 100000) + 1;
}

static int write_one(struct ilio_core *ic, struct model *m, u64 lba, u32 v)
{
	u8 b[4096];

	content(b, lba, v);
	model_write(m, lba, v);
	return ilio_core_write(ic, lba, b, &ctx);
}

/* Flushes through the journal: records, no LUN flush, no partial segment. */
static void test_fsync_path(void)
{
	static struct model m;
	struct ilio_stats st0, st;
	struct ilio_core *ic;
	struct rig r;
	const char *why = "";
	unsigned long lun_flushes, lun_writes;
	u64 rs = 5, hist_small = 0;
	int err = 0, i, bad = 0;
	char cwhy[128];

	rig_format(&r, 1, JDEV_BYTES);
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic)
		goto out;
	ilio_core_get_stats(ic, &st0);
	lun_flushes = r.lun.flushes;
	lun_writes = r.lun.writes;
	for (i = 0; i < 64; i++) {
		if (write_one(ic, &m, (u64)i * 3, next_version(&rs)))
			bad++;
		if (ilio_core_flush(ic))
			bad++;
	}
	CHECK(!bad, "writes and flushes: %d failed", bad);
	ilio_core_get_stats(ic, &st);
	CHECK(st.journal_writes - st0.journal_writes == 64,
	      "one journal record per flush: %llu",
	      (unsigned long long)(st.journal_writes - st0.journal_writes));
	CHECK(st.flushes - st0.flushes == 64, "flushes counted");
	/* 64 units of ~8 KiB fill fewer than 8 segments: no full one yet. */
	CHECK(r.lun.flushes - lun_flushes <= 8,
	      "the LUN is flushed only after whole segments: %lu",
	      r.lun.flushes - lun_flushes);
	for (i = 0; i < 3; i++)
		hist_small += st.backend_write_hist[i] - st0.backend_write_hist[i];
	CHECK(!hist_small, "no small (partial-segment) LUN write on the flush path: %llu",
	      (unsigned long long)hist_small);
	CHECK(r.lun.writes - lun_writes <= 8, "LUN writes: %lu",
	      r.lun.writes - lun_writes);
	CHECK(!st.journal_failed, "journal healthy");
	model_flush(&m);
	CHECK(verify(ic, &m, true) == 0, "before close");
	CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)), "check: %s", cwhy);
	CHECK(ilio_core_close(ic) == 0, "close");
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(ic, "reopen: %d %s", err, why);
	if (ic) {
		CHECK(verify(ic, &m, true) == 0, "after reopen");
		ilio_core_destroy(ic);
	}
out:
	model_free(&m);
	rig_free(&r);
}

/* The journal carries the data: without its ring the same crash loses it. */
static void test_journal_needed(void)
{
	static struct model m;
	struct ilio_core *ic;
	struct rig r;
	const char *why = "";
	u8 *save_lun, *save_j;
	u64 rs = 11;
	int err = 0, i;
	unsigned int lost;

	rig_format(&r, 1, JDEV_BYTES);
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic)
		goto out;
	for (i = 0; i < 40; i++) {
		write_one(ic, &m, (u64)i * 7, next_version(&rs));
		CHECK(!ilio_core_flush(ic) || 0, "flush");
	}
	model_flush(&m);
	ilio_core_destroy(ic);	/* power cut */
	md_drop_pending(&r.lun);	/* the LUN's cache loses everything */
	memcpy(r.lun.img, r.lun.dur, LUN_BYTES);
	save_lun = malloc(LUN_BYTES);
	save_j = malloc(r.jd.size);
	memcpy(save_lun, r.lun.dur, LUN_BYTES);
	memcpy(save_j, r.jd.dur, r.jd.size);

	/* Without the ring: an open that finds no journal record. */
	memset(r.jd.img + ILIO_JRING_START * 4096, 0,
	       r.jd.size - ILIO_JRING_START * 4096);
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(ic, "open with a wiped ring: %d %s", err, why);
	if (ic) {
		u8 got[4096], want[4096];
		u32 lba;

		for (lost = 0, lba = 0; lba < NBLK; lba++) {
			content(want, lba, m.dur[lba]);
			if (ilio_core_read(ic, lba, got) || memcmp(got, want, 4096))
				lost++;
		}
		CHECK(lost > 0, "flushed blocks were only in the journal (lost %u)", lost);
		ilio_core_destroy(ic);
	}
	/* With it: every flushed block. */
	memcpy(r.lun.img, save_lun, LUN_BYTES);
	memcpy(r.lun.dur, save_lun, LUN_BYTES);
	memcpy(r.jd.img, save_j, r.jd.size);
	memcpy(r.jd.dur, save_j, r.jd.size);
	md_drop_pending(&r.lun);
	/* A read-only open would need the journal's units: refused. */
	ic = rig_open(&r, true, true, &err, &why);
	CHECK(!ic && err == -EROFS, "read-only open refused: %d %s", err, why);
	ilio_core_destroy(ic);
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(ic, "open with the journal: %d %s", err, why);
	if (ic) {
		CHECK(verify(ic, &m, true) == 0, "every flushed block");
		ilio_core_destroy(ic);
	}
	free(save_lun);
	free(save_j);
out:
	model_free(&m);
	rig_free(&r);
}

/* Random writes and frequent flushes; power cuts; verify; repeat. */
static void test_crash_points(void)
{
	static struct model m;
	struct ilio_core *ic;
	struct rig r;
	const char *why = "";
	u64 rs = 17;
	unsigned long front_flushes = 0, lun_flushes = 0, lf;
	int err = 0, round, i, points = 0;
	char cwhy[128];

	rig_format(&r, 1, JDEV_BYTES);
	for (round = 0; round < 110; round++) {
		ic = rig_open(&r, true, false, &err, &why);
		CHECK(ic, "round %d open: %d %s", round, err, why);
		if (!ic)
			break;
		if (round) {
			CHECK(verify(ic, &m, false) == 0, "round %d after crash", round);
			CHECK(!ilio_core_check(ic, cwhy, sizeof(cwhy)),
			      "round %d check: %s", round, cwhy);
			points++;
		}
		model_flush(&m);	/* open wrote a checkpoint */
		for (i = 0; i < 250; i++) {
			u64 lba = ut_rand(&rs) % NBLK, x = ut_rand(&rs) % 100;

			if (x < 12) {
				lf = r.lun.flushes;
				CHECK(!ilio_core_flush(ic) || 0, "flush");
				lun_flushes += r.lun.flushes - lf;
				model_flush(&m);
				front_flushes++;
			} else if (x < 13) {
				CHECK(!ilio_core_checkpoint(ic) || 0, "checkpoint");
			} else if (x < 15) {
				CHECK(!ilio_core_discard(ic, lba) || 0, "discard");
				model_write(&m, lba, 0);
			} else {
				CHECK(!write_one(ic, &m, lba, next_version(&rs)) || 0,
				      "write");
			}
		}
		if (round % 10 == 9)
			ilio_core_tick(ic);
		ilio_core_destroy(ic);	/* power cut */
		rig_crash(&r, &rs);
	}
	CHECK(points >= 100, "crash points verified: %d", points);
	CHECK(front_flushes > 10 * lun_flushes,
	      "flushes went to the journal: %lu front, %lu LUN flushes in them",
	      front_flushes, lun_flushes);
	printf("  %d crash points; %lu flushes, %lu LUN flushes in them, %lu journal writes\n",
	       points, front_flushes, lun_flushes, r.jd.writes);
	model_free(&m);
	rig_free(&r);
}

/*
 * A power cut at every device write of a journaled flush, and then again
 * at every write of the recovery after it.
 */
static void test_crash_in_flush(void)
{
	static struct model m;
	struct ilio_core *ic;
	struct rig r;
	const char *why = "";
	int err = 0, i, points = 0, completed = 0;
	unsigned long k;

	for (k = 1; k < 40; k++) {
		u64 rs = 100 + k;
		bool done;

		rig_format(&r, 1, JDEV_BYTES);
		ic = rig_open(&r, true, false, &err, &why);
		CHECK(ic, "k %lu open: %d %s", k, err, why);
		if (!ic) {
			rig_free(&r);
			break;
		}
		model_flush(&m);
		for (i = 0; i < 30; i++)
			write_one(ic, &m, ut_rand(&rs) % NBLK, next_version(&rs));
		CHECK(!ilio_core_flush(ic) || 0, "first flush");
		model_flush(&m);
		for (i = 0; i < 30; i++)
			write_one(ic, &m, ut_rand(&rs) % NBLK, next_version(&rs));
		r.pw.die_after = k;
		ilio_core_flush(ic);
		done = !r.pw.dead;
		if (done) {
			model_flush(&m);
			completed++;
		}
		ilio_core_destroy(ic);
		rig_crash(&r, &rs);
		/* The recovery itself is cut at its k-th write, then retried. */
		r.pw.die_after = k;
		ic = rig_open(&r, true, false, &err, &why);
		ilio_core_destroy(ic);
		rig_crash(&r, &rs);
		ic = rig_open(&r, true, false, &err, &why);
		CHECK(ic, "k %lu reopen: %d %s", k, err, why);
		if (ic) {
			CHECK(verify(ic, &m, false) == 0, "k %lu (flush %s)", k,
			      done ? "completed" : "cut");
			ilio_core_destroy(ic);
			points++;
		}
		model_free(&m);
		rig_free(&r);
		if (done && completed > 3)
			break;	/* the flush needs fewer writes than k now */
	}
	CHECK(points >= 3 && completed, "crash points in a flush: %d, completed %d",
	      points, completed);
	printf("  %d crash points, the flush completed at %d of them\n", points,
	       completed);
}

/* Foreign, stale, missing and unexpected journals are refused. */
static void test_binding(void)
{
	static const u8 other[16] = { 1, 2, 3 };
	struct ilio_core *ic;
	struct rig r;
	const char *why = "";
	int err = 0;
	unsigned long w;

	rig_format(&r, 2, JDEV_BYTES);
	jd_write_sb(&r.jd, r.lun.img + offsetof(struct ilio_sb, uuid), 1);
	w = r.lun.writes + r.jd.writes;
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(!ic && err == -EINVAL && strstr(why, "stale"), "stale journal: %d %s",
	      err, why);
	ilio_core_destroy(ic);
	jd_write_sb(&r.jd, other, 2);
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(!ic && err == -EINVAL && strstr(why, "another store"),
	      "foreign journal: %d %s", err, why);
	ilio_core_destroy(ic);
	ic = rig_open(&r, false, false, &err, &why);
	CHECK(!ic && err == -EINVAL && strstr(why, "journal"),
	      "journaled store without its journal: %d %s", err, why);
	ilio_core_destroy(ic);
	memset(r.jd.img, 0, 8192);
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(!ic && err == -EINVAL, "no journal superblock: %d %s", err, why);
	ilio_core_destroy(ic);
	CHECK(r.lun.writes + r.jd.writes == w, "refusals wrote nothing");
	rig_free(&r);

	rig_format(&r, 0, JDEV_BYTES);
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(!ic && err == -EINVAL && strstr(why, "without a journal"),
	      "journal for a store without one: %d %s", err, why);
	ilio_core_destroy(ic);
	ic = rig_open(&r, false, false, &err, &why);
	CHECK(ic, "the same store opens without: %d %s", err, why);
	ilio_core_destroy(ic);
	rig_free(&r);

	rig_format(&r, 1, JDEV_BYTES);
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(ic, "bound journal opens: %d %s", err, why);
	ilio_core_destroy(ic);
	rig_free(&r);
}

/* fsync after every write, far more than the ring holds; cuts on the way. */
static void test_ring_wrap(void)
{
	static struct model m;
	struct ilio_jsb_info j0, j1;
	struct ilio_stats st;
	struct ilio_core *ic;
	struct rig r;
	const char *why = "", *w;
	u64 rs = 23, jbytes = 0;
	int err = 0, i, cut, bad = 0;

	rig_format(&r, 1, JDEV_BYTES);
	ilio_jsb_check(r.jd.img, 0, r.jd.size, &j0, &w);
	for (cut = 0; cut < 4; cut++) {
		ic = rig_open(&r, true, false, &err, &why);
		CHECK(ic, "cut %d open: %d %s", cut, err, why);
		if (!ic)
			break;
		if (cut)
			CHECK(verify(ic, &m, false) == 0, "after cut %d", cut);
		model_flush(&m);
		for (i = 0; i < 900; i++) {
			if (write_one(ic, &m, ut_rand(&rs) % NBLK, next_version(&rs)) ||
			    ilio_core_flush(ic))
				bad++;
			model_flush(&m);
		}
		ilio_core_get_stats(ic, &st);
		jbytes += st.journal_bytes;
		CHECK(!st.journal_failed, "journal healthy (cut %d)", cut);
		ilio_core_destroy(ic);
		rig_crash(&r, &rs);
	}
	CHECK(!bad, "writes and flushes: %d failed", bad);
	CHECK(jbytes > 4 * (u64)ILIO_JRING_MIN_BLOCKS * 4096,
	      "the ring wrapped: %llu journal bytes over a %u-block ring",
	      (unsigned long long)jbytes, ILIO_JRING_MIN_BLOCKS);
	if (ilio_jsb_check(r.jd.img, 0, r.jd.size, &j0, &w))
		j0.seq = 0;
	if (ilio_jsb_check(r.jd.img + 4096, 1, r.jd.size, &j1, &w))
		j1.seq = 0;
	CHECK(max(j0.seq, j1.seq) > 8, "the persisted tail moved: superblock seq %llu",
	      (unsigned long long)max(j0.seq, j1.seq));
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(ic, "final open: %d %s", err, why);
	if (ic) {
		CHECK(verify(ic, &m, false) == 0, "final");
		ilio_core_destroy(ic);
	}
	model_free(&m);
	rig_free(&r);
}

/* A journal write error: the LUN path takes over, nothing is lost. */
static void test_journal_error(void)
{
	static struct model m;
	struct ilio_stats st;
	struct ilio_core *ic;
	struct rig r;
	const char *why = "";
	unsigned long lf;
	u64 rs = 31;
	int err = 0, i, bad = 0;

	rig_format(&r, 1, JDEV_BYTES);
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(ic, "open: %d %s", err, why);
	if (!ic)
		goto out;
	for (i = 0; i < 20; i++) {
		write_one(ic, &m, (u64)i, next_version(&rs));
		bad += !!ilio_core_flush(ic);
	}
	r.jd.fail_writes = -1;		/* the journal device dies */
	lf = r.lun.flushes;
	for (i = 0; i < 20; i++) {
		write_one(ic, &m, (u64)i + 100, next_version(&rs));
		bad += !!ilio_core_flush(ic);
	}
	CHECK(!bad, "every flush succeeded: %d failed", bad);
	model_flush(&m);
	ilio_core_get_stats(ic, &st);
	CHECK(st.journal_failed == 1, "journal_failed set");
	CHECK(r.lun.flushes - lf >= 20, "each flush flushed the LUN: %lu",
	      r.lun.flushes - lf);
	CHECK(ilio_core_mode(ic) == ILIO_MODE_WRITE, "the device stays writable");
	ilio_core_destroy(ic);		/* power cut */
	rig_crash(&r, &rs);
	r.jd.fail_writes = 0;
	ic = rig_open(&r, true, false, &err, &why);
	CHECK(ic, "reopen: %d %s", err, why);
	if (ic) {
		CHECK(verify(ic, &m, false) == 0, "data intact");
		ilio_core_destroy(ic);
	}
out:
	model_free(&m);
	rig_free(&r);
}

/* The validators of the journal's blocks treat them as hostile. */
static void test_codec(void)
{
	static u8 blk[4096], rec[3 * 4096];
	struct ilio_jsb_info j = { .seq = 3, .bind_gen = 1, .ring_blocks = 2048,
				   .tail_pos = 7, .tail_seq = 9 }, got;
	struct ilio_jrec_info r = { .blocknr = 5, .seq = 9, .bind_gen = 1,
				    .blocks = 3, .nr_ext = 1, .last_useq = 4 };
	struct ilio_geom g;
	const char *why;
	u64 dev = (ILIO_JRING_START + 2048) * 4096ULL, seg0;

	memset(j.uuid, 0x5a, 16);
	ilio_jsb_build(blk, 1, &j);
	CHECK(!ilio_jsb_check(blk, 1, dev, &got, &why) && got.seq == 3 &&
	      got.tail_pos == 7 && got.tail_seq == 9 && got.ring_blocks == 2048 &&
	      !memcmp(got.uuid, j.uuid, 16), "journal superblock round trip");
	CHECK(ilio_jsb_check(blk, 0, dev, &got, &why) == -EINVAL, "wrong slot: %s", why);
	CHECK(ilio_jsb_check(blk, 1, dev - 4096, &got, &why) == -EINVAL,
	      "device shorter than the ring: %s", why);
	blk[100] ^= 1;
	CHECK(ilio_jsb_check(blk, 1, dev, &got, &why) == -EINVAL, "bad checksum: %s", why);
	memset(blk, 0, sizeof(blk));
	CHECK(ilio_jsb_check(blk, 1, dev, &got, &why) == -ENOENT, "no magic: %s", why);
	j.tail_pos = 2048;
	ilio_jsb_build(blk, 1, &j);
	CHECK(ilio_jsb_check(blk, 1, dev, &got, &why) == -EINVAL, "tail outside the ring");
	j.tail_pos = 0;
	j.ring_blocks = ILIO_JRING_MIN_BLOCKS - 1;
	ilio_jsb_build(blk, 1, &j);
	CHECK(ilio_jsb_check(blk, 1, dev, &got, &why) == -EINVAL, "ring too small");
	j.ring_blocks = 2048;

	if (ilio_geom_compute(&g, LUN_BYTES, SEG_BYTES, &why))
		abort();
	memset(g.uuid, 0x5a, 16);
	seg0 = g.seg_start * 4096;
	memcpy(r.uuid, j.uuid, 16);
	memset(rec, 0, sizeof(rec));
	ilio_jrec_pack(rec, &r);
	ilio_jext_pack(rec, 0, seg0 + SEG_BYTES, 8192);
	ilio_jrec_seal(rec, sizeof(rec));
	CHECK(!ilio_jrec_check_hdr(rec, &j, &g, 5, 9, &why), "record header: %s", why);
	CHECK(!ilio_jrec_check_body(rec, &why), "record body: %s", why);
	CHECK(ilio_jrec_check_hdr(rec, &j, &g, 5, 10, &why) == -ENOENT, "other seq: end");
	CHECK(ilio_jrec_check_hdr(rec, &j, &g, 6, 9, &why) == -ENOENT, "other place: end");
	j.bind_gen = 2;
	CHECK(ilio_jrec_check_hdr(rec, &j, &g, 5, 9, &why) == -ENOENT, "other binding: end");
	j.bind_gen = 1;
	j.uuid[0] ^= 1;
	CHECK(ilio_jrec_check_hdr(rec, &j, &g, 5, 9, &why) == -ENOENT, "other store: end");
	j.uuid[0] ^= 1;
	rec[3 * 4096 - 1] ^= 1;
	CHECK(ilio_jrec_check_body(rec, &why) == -ENOENT, "torn record: %s", why);
	ilio_jext_pack(rec, 0, seg0 - 4096, 8192);
	CHECK(ilio_jrec_check_hdr(rec, &j, &g, 5, 9, &why) == -EINVAL,
	      "extent before the segments: %s", why);
	ilio_jext_pack(rec, 0, seg0 + SEG_BYTES - 4096, 8192);
	CHECK(ilio_jrec_check_hdr(rec, &j, &g, 5, 9, &why) == -EINVAL,
	      "extent across two segments: %s", why);
	ilio_jext_pack(rec, 0, seg0, 4096);
	CHECK(ilio_jrec_check_hdr(rec, &j, &g, 5, 9, &why) == -EINVAL,
	      "extents shorter than the record: %s", why);
	ilio_jext_pack(rec, 0, seg0 + 100, 8192);
	CHECK(ilio_jrec_check_hdr(rec, &j, &g, 5, 9, &why) == -EINVAL,
	      "unaligned extent: %s", why);
	ilio_jext_pack(rec, 0, seg0, 8192);
	CHECK(ilio_jrec_check_hdr(rec, &j, &g, 2047, 9, &why) != 0,
	      "record beyond the ring's end");
}

int main(int argc, char **argv)
{
	static const struct ut_case cases[] = {
		{ "codec", test_codec },
		{ "fsync_path", test_fsync_path },
		{ "journal_needed", test_journal_needed },
		{ "crash_points", test_crash_points },
		{ "crash_in_flush", test_crash_in_flush },
		{ "binding", test_binding },
		{ "ring_wrap", test_ring_wrap },
		{ "journal_error", test_journal_error },
	};
	int ret;

	if (ilio_ctx_init(&ctx))
		return 1;
	ret = ut_run(cases, ARRAY_SIZE(cases), argc, argv);
	ilio_ctx_exit(&ctx);
	return ret;
}
