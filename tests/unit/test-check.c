// SPDX-License-Identifier: GPL-2.0
/*
 * test-check: proves that the consistency check (dm-ilio/ilio-check.c, the
 * module's own file) is exact on a busy store.  Readers decode chunks with
 * the store lock dropped, holding a segment pin, and writers compare
 * duplicate candidates the same way, holding a chunk reference as well;
 * the check runs in a loop among them and must report nothing, over
 * thousands of runs, while the readers verify every byte they get.  Then
 * the same check must still find a pin or a reference that nobody holds,
 * a release that never happened, and a hold that the pin count lost.
 */
#include <stdlib.h>
#include <pthread.h>

#include "ut.h"
#include "ilio-core.h"

#define BS		ILIO_BLOCK_SIZE
#define NR_BLOCKS	2048U
#define RO_BLOCKS	1024U	/* read-only region: verified byte for byte */
#define NR_READERS	3
#define NR_CHECKS	3000

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

/* Content of read-only LBA @lba: compressible, one in four a duplicate. */
static void ro_content(u8 *buf, u64 lba)
{
	ut_fill_compressible(buf, BS, lba % 4 ? lba + 1 : 1000000 + lba % 64);
}

struct load {
	struct ilio_core *ic;
	volatile int stop;
	int read_fails;
	int write_fails;
	unsigned long reads, writes;
};

static void *reader_fn(void *arg)
{
	struct load *ld = arg;
	u64 s = (u64)(uintptr_t)&s | 1, lba;
	u8 want[BS], got[BS];

	while (!ld->stop) {
		lba = ut_rand(&s) % NR_BLOCKS;
		if (ilio_core_read(ld->ic, lba, got)) {
			__atomic_add_fetch(&ld->read_fails, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (lba < RO_BLOCKS) {
			ro_content(want, lba);
			if (memcmp(want, got, BS))
				__atomic_add_fetch(&ld->read_fails, 1,
						   __ATOMIC_RELAXED);
		}
		__atomic_add_fetch(&ld->reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * Overwrite the second half: a small pool of compressible contents (dedup
 * candidates compared with the lock dropped) and fresh random blocks and
 * discards (chunks die, segments empty and get compacted under the
 * readers' pins).
 */
static void *writer_fn(void *arg)
{
	struct load *ld = arg;
	struct ilio_ctx wctx;
	u64 s = 77, r, lba;
	u8 buf[BS];
	int ret;

	if (ilio_ctx_init(&wctx)) {
		ld->write_fails++;
		return NULL;
	}
	while (!ld->stop) {
		r = ut_rand(&s);
		lba = RO_BLOCKS + r % (NR_BLOCKS - RO_BLOCKS);
		if ((r >> 40) % 8 == 0) {
			ret = ilio_core_discard(ld->ic, lba);
		} else {
			if ((r >> 40) % 8 < 5)
				ut_fill_compressible(buf, BS, 5000 + (r >> 20) % 16);
			else
				ut_fill_random(buf, BS, r);
			ret = ilio_core_write(ld->ic, lba, buf, &wctx);
		}
		if (ret)
			ld->write_fails++;
		ld->writes++;
	}
	ilio_ctx_exit(&wctx);
	return NULL;
}

/* The check among readers and writers: never a false report. */
static void t_check_under_load(void)
{
	/* 64 KiB segments, a budget that makes the writer compact. */
	struct ilio_core *ic = mk(NR_BLOCKS, 8 << 20, 64 << 10);
	struct load ld = { .ic = ic };
	pthread_t rd[NR_READERS], wr;
	struct ilio_ctx wctx;
	char why[200], first[256] = "";
	int i, bad = 0, ret, pinned = 0, empty = 0, refs = 0, busy = 0, nchecks;
	u8 buf[BS];
	u64 lba;

	if (!ic || ilio_ctx_init(&wctx))
		return;
	for (lba = 0; lba < NR_BLOCKS; lba++) {
		ro_content(buf, lba);
		ret = ilio_core_write(ic, lba, buf, &wctx);
		if (ret)
			break;
	}
	CHECK(lba == NR_BLOCKS, "prefill stopped at %llu: %d",
	      (unsigned long long)lba, ret);
	ilio_ctx_exit(&wctx);
	for (i = 0; i < NR_READERS; i++)
		pthread_create(&rd[i], NULL, reader_fn, &ld);
	pthread_create(&wr, NULL, writer_fn, &ld);
	/* NR_CHECKS at least, and on until the load did some work (slow hosts). */
	for (i = 0; i < NR_CHECKS ||
	     ((__atomic_load_n(&ld.reads, __ATOMIC_RELAXED) <= 1000 ||
	       __atomic_load_n(&ld.writes, __ATOMIC_RELAXED) <= 1000) &&
	      i < 50 * NR_CHECKS); i++) {
		ret = ilio_core_check(ic, why, sizeof(why));
		/* 0 with "N in flight": N readers were working unlocked. */
		if (!ret && strcmp(why, "0 in flight"))
			busy++;
		if (ret) {
			if (!bad++)
				snprintf(first, sizeof(first), "%d %s", ret, why);
			pinned += !!strstr(why, "pinned while idle");
			empty += !!strstr(why, "sealed and empty");
			refs += !!strstr(why, "refcount");
		}
	}
	ld.stop = 1;
	nchecks = i;
	for (i = 0; i < NR_READERS; i++)
		pthread_join(rd[i], NULL);
	pthread_join(wr, NULL);
	printf("  %d checks among %lu reads and %lu writes, %d with readers in flight: %d reports (%d pinned while idle, %d sealed and empty, %d refcount)%s%s\n",
	       nchecks, ld.reads, ld.writes, busy, bad, pinned, empty, refs,
	       bad ? ", first: " : "", first);
	CHECK(bad == 0, "%d of %d checks reported under load, first: %s", bad,
	      nchecks, first);
	CHECK(ld.read_fails == 0, "%d reads failed or differed", ld.read_fails);
	CHECK(ld.write_fails == 0, "%d writes failed", ld.write_fails);
	CHECK(busy >= NR_CHECKS / 20, "only %d checks met readers in flight",
	      busy);
	CHECK(ld.reads > 1000 && ld.writes > 1000,
	      "the load ran: %lu reads, %lu writes", ld.reads, ld.writes);
	ret = ilio_core_check(ic, why, sizeof(why));
	CHECK(ret == 0, "idle: %d %s", ret, why);
	ilio_core_destroy(ic);
}

/* ilio_core_check() must fail with a message containing @want. */
static void expect_report(struct ilio_core *ic, const char *want,
			  const char *desc)
{
	char why[200];
	int ret = ilio_core_check(ic, why, sizeof(why));

	CHECK(ret == -EUCLEAN && strstr(why, want),
	      "%s: check gave %d '%s', expected a report of '%s'", desc, ret,
	      why, want);
}

static void expect_clean(struct ilio_core *ic, const char *desc)
{
	char why[200];
	int ret = ilio_core_check(ic, why, sizeof(why));

	CHECK(ret == 0, "%s: check gave %d '%s'", desc, ret, why);
}

/* The segment of the chunk that @lba maps to. */
static u32 seg_of(struct ilio_core *ic, u64 lba)
{
	u32 seg;

	down_write(&ic->sp.lock);
	seg = ilio_loc_seg(ilio_chunk_loc(&ic->sp.chunks,
					  __ilio_lbamap_get(&ic->sp.map, lba)));
	up_write(&ic->sp.lock);
	return seg;
}

/* Exact is not lenient: what no reader holds is still reported. */
static void t_check_finds_leaks(void)
{
	struct ilio_core *ic = mk(256, 4 << 20, 64 << 10);
	struct ilio_ctx wctx;
	struct ilio_hold h;
	u32 seg, cid, first_seg;
	u8 buf[BS];
	u64 lba;

	if (!ic || ilio_ctx_init(&wctx))
		return;
	/* Distinct compressible blocks: several sealed 64 KiB segments. */
	for (lba = 0; lba < 256; lba++) {
		ut_fill_compressible(buf, BS, lba + 1);
		CHECK(!ilio_core_write(ic, lba, buf, &wctx), "write %llu",
		      (unsigned long long)lba);
	}
	expect_clean(ic, "idle store");
	seg = first_seg = seg_of(ic, 0);
	CHECK(seg_of(ic, 255) != seg, "the data spans segments");

	/* A pin that no reader holds. */
	down_write(&ic->sp.lock);
	__ilio_seg_pin(&ic->sp.segs, seg);
	up_write(&ic->sp.lock);
	expect_report(ic, "1 pins, 0 readers hold it", "leaked pin");
	/* The same pin with a reader that says it holds it: fine. */
	down_write(&ic->sp.lock);
	h.seg = seg;
	h.cid = 0;
	list_add(&h.node, &ic->holds);
	up_write(&ic->sp.lock);
	expect_clean(ic, "pin held by a listed reader");
	/* A listed reader whose pin was lost. */
	down_write(&ic->sp.lock);
	__ilio_seg_unpin(&ic->sp.segs, seg);
	up_write(&ic->sp.lock);
	expect_report(ic, "0 pins, 1 readers hold it", "lost pin");
	down_write(&ic->sp.lock);
	list_del(&h.node);
	up_write(&ic->sp.lock);
	expect_clean(ic, "after the reader left");

	/* A chunk reference that no reader or LBA holds. */
	down_write(&ic->sp.lock);
	cid = __ilio_lbamap_get(&ic->sp.map, 7);
	__ilio_chunk_get(&ic->sp.chunks, cid);
	up_write(&ic->sp.lock);
	expect_report(ic, "refcount 2, 1 references", "leaked reference");
	/* Listed as a reader's, with the pin it takes: fine. */
	down_write(&ic->sp.lock);
	__ilio_chunk_drop(&ic->sp, cid);
	up_write(&ic->sp.lock);
	seg = seg_of(ic, 7);
	down_write(&ic->sp.lock);
	__ilio_seg_pin(&ic->sp.segs, seg);
	__ilio_chunk_get(&ic->sp.chunks, cid);
	h.seg = seg;
	h.cid = cid;
	list_add(&h.node, &ic->holds);
	up_write(&ic->sp.lock);
	expect_clean(ic, "reference held by a listed reader");
	memset(buf, 0, BS);
	CHECK(!ilio_core_write(ic, 7, buf, &wctx), "overwrite lba 7");
	expect_clean(ic, "a chunk that only a reader keeps alive");
	down_write(&ic->sp.lock);
	list_del(&h.node);
	__ilio_seg_unpin(&ic->sp.segs, seg);
	__ilio_chunk_drop(&ic->sp, cid);
	up_write(&ic->sp.lock);
	expect_clean(ic, "after that reader left");

	/* A sealed segment emptied under a reader's pin. */
	seg = seg_of(ic, 1);
	CHECK(seg == first_seg && ic->sp.segs.segs[seg].state == ILIO_SEG_SEALED,
	      "lba 1 in sealed segment %u", seg);
	down_write(&ic->sp.lock);
	__ilio_seg_pin(&ic->sp.segs, seg);
	h.seg = seg;
	h.cid = 0;
	list_add(&h.node, &ic->holds);
	up_write(&ic->sp.lock);
	for (lba = 0; lba < 256; lba++) {
		if (lba == 7 || seg_of(ic, lba) != seg)
			continue;
		CHECK(!ilio_core_write(ic, lba, buf, &wctx), "zero %llu",
		      (unsigned long long)lba);
	}
	CHECK(ic->sp.segs.segs[seg].state == ILIO_SEG_SEALED &&
	      !ic->sp.segs.segs[seg].live && ic->sp.segs.segs[seg].release_pending,
	      "segment %u: state %u live %u pending %d", seg,
	      ic->sp.segs.segs[seg].state, ic->sp.segs.segs[seg].live,
	      ic->sp.segs.segs[seg].release_pending);
	expect_clean(ic, "sealed, empty, its release waiting for the reader");
	down_write(&ic->sp.lock);
	ic->sp.segs.segs[seg].release_pending = false;
	up_write(&ic->sp.lock);
	expect_report(ic, "sealed and empty", "sealed and empty, not released");
	down_write(&ic->sp.lock);
	ic->sp.segs.segs[seg].release_pending = true;
	list_del(&h.node);
	ic->sp.segs.segs[seg].pins--;	/* a pin lost without its release */
	up_write(&ic->sp.lock);
	expect_report(ic, "release pending, not pinned", "pending release, no pin");
	down_write(&ic->sp.lock);
	ic->sp.segs.segs[seg].pins++;
	__ilio_seg_unpin(&ic->sp.segs, seg);
	up_write(&ic->sp.lock);
	CHECK(ic->sp.segs.segs[seg].state != ILIO_SEG_SEALED,
	      "released at the unpin: state %u", ic->sp.segs.segs[seg].state);
	expect_clean(ic, "after the release");
	ilio_ctx_exit(&wctx);
	ilio_core_destroy(ic);
}

int main(int argc, char **argv)
{
	static const struct ut_case cases[] = {
		{ "check_under_load", t_check_under_load },
		{ "check_finds_leaks", t_check_finds_leaks },
	};

	return ut_run(cases, ARRAY_SIZE(cases), argc, argv);
}
