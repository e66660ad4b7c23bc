// SPDX-License-Identifier: GPL-2.0
/*
 * test-mmp: proves the multihost guard (dm-ilio/ilio-mmp.c, the module's
 * own file) keeps two hosts off one store.  Two or three "hosts" (guards
 * with their own owner ids) share one in-memory formatted device and one
 * virtual clock; a host is "alive" when the world's sleep runs its beats
 * on time, "dead" when it does not.  It proves: a host is refused while
 * another beats (and the holder's record and writes are untouched); a
 * host takes over a record that stopped changing only after the wait, by
 * which time the old holder's lease has run out; takeover forces at once;
 * the old holder finds the record taken at its next beat and may not write
 * any more; a clean close (release) lets the next host in without waiting;
 * a claim that raced with another is lost at confirm; a refused open puts
 * the block back byte for byte; writes are refused while the lease has run
 * out, and a late beat renews it when nobody took over; read-only peeks write
 * nothing; crafted records (bad checksum, other uuid, huge interval, bad
 * state, garbage, zeroes) give the bounded default wait or no record; a
 * device without a superblock, or a store formatted without --multihost,
 * is not guarded (its record is never read or written); read errors
 * refuse.
 */
#include <stdlib.h>

#include "ut.h"
#include "ilio-format.h"
#include "ilio-meta.h"
#include "ilio-mmp.h"

#define BS		ILIO_BLOCK_SIZE
#define DEV_BYTES	(4U << 20)
#define MAX_HOSTS	3

struct host;

/* The shared world: one device, one clock, the hosts that beat. */
static struct {
	u8 *dev;
	u64 now;		/* virtual monotonic ms */
	struct host *alive[MAX_HOSTS];
	u64 next_beat[MAX_HOSTS];
	int fail_reads;		/* reads fail while set */
	unsigned long writes;	/* writes to the device */
	u8 uuid[16];
	struct host *release;	/* released when the clock passes... */
	u64 release_at;		/* ...this */
} w;

struct host {
	struct ilio_mmp m;
	int beat_err;		/* first error of a background beat */
};

static int w_read(void *priv, u64 pos, void *buf, u32 len)
{
	if (w.fail_reads || pos + len > DEV_BYTES)
		return -EIO;
	memcpy(buf, w.dev + pos, len);
	return 0;
}

static int w_write(void *priv, u64 pos, const void *buf, u32 len)
{
	if (pos + len > DEV_BYTES)
		return -EIO;
	memcpy(w.dev + pos, buf, len);
	w.writes++;
	return 0;
}

/* Advance the clock by @ms, running the beats of the live hosts on time. */
static void w_sleep(void *priv, u32 ms)
{
	u64 end = w.now + ms;
	int i, best;

	for (;;) {
		best = -1;
		for (i = 0; i < MAX_HOSTS; i++)
			if (w.alive[i] && w.next_beat[i] <= end &&
			    (best < 0 || w.next_beat[i] < w.next_beat[best]))
				best = i;
		if (best < 0)
			break;
		if (w.next_beat[best] > w.now)
			w.now = w.next_beat[best];
		w.next_beat[best] += w.alive[best]->m.interval_ms;
		{
			int ret = ilio_mmp_beat(&w.alive[best]->m);

			if (ret && !w.alive[best]->beat_err)
				w.alive[best]->beat_err = ret;
		}
	}
	w.now = end;
	if (w.release && w.now >= w.release_at) {
		ilio_mmp_release(&w.release->m);
		w.release = NULL;
	}
}

static u64 w_now(void *priv)
{
	return w.now;
}

static s64 w_wall(void *priv)
{
	return 1700000000 + (s64)(w.now / 1000);
}

static const struct ilio_mmp_ops w_ops = {
	.read = w_read,
	.write = w_write,
	.sleep = w_sleep,
	.now_ms = w_now,
	.wall = w_wall,
};

/* A fresh world: a formatted device (superblocks and a CLEAN record). */
static void world(void)
{
	struct ilio_mmp_info r = {
		.state = ILIO_MMP_CLEAN, .seq = 1,
		.interval_ms = ILIO_MMP_INTERVAL_MS, .fence_ms = ILIO_MMP_FENCE_MS,
	};
	struct ilio_geom g;
	const char *why;

	free(w.dev);
	memset(&w, 0, sizeof(w));
	w.dev = calloc(1, DEV_BYTES);
	w.now = 1000;
	memset(&g, 0, sizeof(g));
	if (ilio_geom_compute(&g, DEV_BYTES, ILIO_SEG_BYTES_MIN, &why))
		abort();
	g.multihost = true;	/* format --multihost */
	ut_fill_random(g.uuid, sizeof(g.uuid), 77);
	memcpy(w.uuid, g.uuid, sizeof(w.uuid));
	ilio_sb_build(w.dev, &g, 0);
	ilio_sb_build(w.dev + BS, &g, 1);
	ilio_mmp_build(w.dev + ILIO_MMP_BLOCK * BS, g.uuid, &r);
}

static void host_init(struct host *h, const char *node)
{
	memset(h, 0, sizeof(*h));
	if (ilio_mmp_init(&h->m, &w_ops, NULL, node))
		abort();
}

/* @h beats from now on, every interval, whenever the world sleeps. */
static void host_live(struct host *h, int slot)
{
	w.alive[slot] = h;
	w.next_beat[slot] = w.now + h->m.interval_ms;
}

static void host_die(int slot)
{
	w.alive[slot] = NULL;
}

static int rec(struct ilio_mmp_info *r)
{
	const char *why;

	return ilio_mmp_check(w.dev + ILIO_MMP_BLOCK * BS, w.uuid, r, &why);
}

static void t_codec(void)
{
	struct ilio_mmp_info a = {
		.state = ILIO_MMP_ACTIVE, .seq = 0x0102030405060708ULL,
		.owner = 0x1111222233334444ULL, .time = 1700000000,
		.interval_ms = 1000, .fence_ms = 5000, .node = "host-a",
	}, b;
	u8 blk[BS], uuid[16], other[16];
	const char *why;

	memset(uuid, 0xab, sizeof(uuid));
	memset(other, 0xcd, sizeof(other));
	ilio_mmp_build(blk, uuid, &a);
	CHECK(blk[0] == 'I' && blk[1] == 'L' && blk[2] == 'M' && blk[3] == 'P',
	      "magic bytes");
	CHECK(blk[8] == ILIO_MMP_BLOCK && !blk[9] && blk[24] == 0x08 && blk[31] == 0x01,
	      "blocknr and seq little-endian at their offsets");
	CHECK(!memcmp(blk + 72, "host-a", 7), "node at offset 72");
	CHECK(!ilio_mmp_check(blk, uuid, &b, &why), "valid record accepted: %s", why);
	CHECK(b.state == a.state && b.seq == a.seq && b.owner == a.owner &&
	      b.time == a.time && b.interval_ms == a.interval_ms &&
	      b.fence_ms == a.fence_ms && !strcmp(b.node, a.node), "round trip");
	CHECK(ilio_mmp_check(blk, other, &b, &why) == -EINVAL, "other uuid refused");
	blk[100] ^= 1;
	CHECK(ilio_mmp_check(blk, uuid, &b, &why) == -EINVAL, "bad csum refused");
	memset(blk, 0, BS);
	CHECK(ilio_mmp_check(blk, uuid, &b, &why) == -ENOENT, "zeroes: no record");
	a.interval_ms = 1000000000;
	ilio_mmp_build(blk, uuid, &a);
	CHECK(ilio_mmp_check(blk, uuid, &b, &why) == -EINVAL, "huge interval refused");
	a.interval_ms = 1000;
	a.fence_ms = 500;
	ilio_mmp_build(blk, uuid, &a);
	CHECK(ilio_mmp_check(blk, uuid, &b, &why) == -EINVAL, "fence below interval");
	a.fence_ms = 5000;
	a.state = 7;
	ilio_mmp_build(blk, uuid, &a);
	CHECK(ilio_mmp_check(blk, uuid, &b, &why) == -EINVAL, "bad state refused");
	/* An unterminated node is cut, never read past. */
	a.state = ILIO_MMP_ACTIVE;
	ilio_mmp_build(blk, uuid, &a);
	memset(blk + 72, 'x', ILIO_MMP_NODE_LEN);
	ilio_mmp_unpack(blk, &b);
	CHECK(strlen(b.node) == ILIO_MMP_NODE_LEN - 1, "node terminated");
}

static void t_fresh_then_busy(void)
{
	struct host a, b;
	struct ilio_mmp_info r;
	u64 t0;
	int ret;

	world();
	host_init(&a, "host-a");
	host_init(&b, "host-b");
	t0 = w.now;
	ret = ilio_mmp_acquire(&a.m, DEV_BYTES, false);
	CHECK(!ret && a.m.held && a.m.found == ILIO_MMP_FOUND_CLEAN,
	      "A claims the formatted store: %d", ret);
	CHECK(w.now == t0, "no wait on a CLEAN record (%llu ms)",
	      (unsigned long long)(w.now - t0));
	CHECK(!rec(&r) && r.state == ILIO_MMP_ACTIVE && r.owner == a.m.owner &&
	      !strcmp(r.node, "host-a") && r.seq == 2, "record ACTIVE, A's");
	CHECK(!ilio_mmp_may_write(&a.m) && a.m.confirmed, "A confirmed, may write");
	CHECK(w.now - t0 >= ILIO_MMP_CONFIRM_MS, "confirm waited its delay");
	host_live(&a, 0);

	t0 = w.now;
	ret = ilio_mmp_acquire(&b.m, DEV_BYTES, false);
	CHECK(ret == -EBUSY && !b.m.held, "B refused while A beats: %d", ret);
	CHECK(!strcmp(b.m.prev.node, "host-a") && b.m.prev.owner == a.m.owner,
	      "B saw who holds it");
	CHECK(w.now - t0 <= 2 * ILIO_MMP_INTERVAL_MS, "refused within 2 beats (%llu ms)",
	      (unsigned long long)(w.now - t0));
	CHECK(!rec(&r) && r.owner == a.m.owner, "record still A's");
	w_sleep(NULL, 3 * ILIO_MMP_INTERVAL_MS);
	CHECK(!a.beat_err && !ilio_mmp_may_write(&a.m), "A unharmed: beats, writes");
	CHECK(ilio_mmp_may_write(&b.m) == -EBUSY, "B may not write");
	CHECK(!rec(&r) && r.seq > 5, "A's beats bump seq (%llu)",
	      (unsigned long long)r.seq);
	ilio_mmp_exit(&a.m);
	ilio_mmp_exit(&b.m);
}

static void t_stale_takeover(void)
{
	struct host a, b;
	struct ilio_mmp_info r;
	u64 t0, a_last;
	int ret;

	world();
	host_init(&a, "host-a");
	host_init(&b, "host-b");
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false) && !ilio_mmp_may_write(&a.m),
	      "A holds");
	host_live(&a, 0);
	w_sleep(NULL, 2500);
	host_die(0);		/* A hangs: no more beats (it is not released) */
	a_last = a.m.last_ok_ms;
	t0 = w.now;
	ret = ilio_mmp_acquire(&b.m, DEV_BYTES, false);
	CHECK(!ret && b.m.held && b.m.took_over, "B takes over a stale record: %d", ret);
	CHECK(w.now - t0 >= ilio_mmp_wait_ms(&b.m.prev) &&
	      ilio_mmp_wait_ms(&b.m.prev) == 2 * ILIO_MMP_FENCE_MS + ILIO_MMP_INTERVAL_MS,
	      "B waited the whole wait (%llu ms)", (unsigned long long)(w.now - t0));
	CHECK(b.m.claim_ms - a_last > a.m.fence_ms,
	      "A's lease had run out before B's claim");
	CHECK(!rec(&r) && r.owner == b.m.owner && r.state == ILIO_MMP_ACTIVE,
	      "record is B's");
	/* A wakes up: its lease ran out, its beat finds B: lost, no write. */
	{
		unsigned long wr = w.writes;

		CHECK(ilio_mmp_may_write(&a.m) == -ETIMEDOUT, "A's lease ran out");
		CHECK(ilio_mmp_beat(&a.m) == -EBUSY && a.m.lost && w.writes == wr,
		      "A's beat sees B and writes nothing");
		CHECK(ilio_mmp_may_write(&a.m) == -EBUSY, "A may never write again");
	}
	CHECK(!rec(&r) && r.owner == b.m.owner, "record still B's");
	CHECK(!ilio_mmp_may_write(&b.m), "B may write");
	ilio_mmp_exit(&a.m);
	ilio_mmp_exit(&b.m);
}

static void t_forced_takeover(void)
{
	struct host a, b;
	struct ilio_mmp_info r;
	u64 t0;
	int ret;

	world();
	host_init(&a, "host-a");
	host_init(&b, "host-b");
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false) && !ilio_mmp_may_write(&a.m),
	      "A holds");
	host_live(&a, 0);
	w_sleep(NULL, 1500);
	t0 = w.now;
	ret = ilio_mmp_acquire(&b.m, DEV_BYTES, true);
	CHECK(!ret && b.m.took_over && b.m.found == ILIO_MMP_FOUND_ACTIVE,
	      "takeover forces: %d", ret);
	CHECK(w.now == t0, "without waiting");
	CHECK(!ilio_mmp_may_write(&b.m), "B confirmed");
	/* A's next beat finds the record taken: lost, no write, no more writes. */
	w_sleep(NULL, ILIO_MMP_INTERVAL_MS);
	CHECK(a.beat_err == -EBUSY && a.m.lost, "A's next beat sees B: %d", a.beat_err);
	CHECK(!strcmp(a.m.prev.node, "host-b"), "A saw who took it");
	CHECK(ilio_mmp_may_write(&a.m) == -EBUSY, "A may not write any more");
	CHECK(!rec(&r) && r.owner == b.m.owner, "A's beat did not overwrite B");
	/* A's release after losing writes nothing. */
	{
		unsigned long wr = w.writes;

		CHECK(!ilio_mmp_release(&a.m) && w.writes == wr, "lost release writes nothing");
	}
	ilio_mmp_exit(&a.m);
	ilio_mmp_exit(&b.m);
}

static void t_clean_close(void)
{
	struct host a, b;
	struct ilio_mmp_info r;
	u64 t0;

	world();
	host_init(&a, "host-a");
	host_init(&b, "host-b");
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false) && !ilio_mmp_may_write(&a.m),
	      "A holds");
	host_live(&a, 0);
	w_sleep(NULL, 3000);
	host_die(0);
	CHECK(!ilio_mmp_release(&a.m), "A releases");
	CHECK(!rec(&r) && r.state == ILIO_MMP_CLEAN, "record CLEAN");
	CHECK(ilio_mmp_may_write(&a.m), "A may not write after release");
	t0 = w.now;
	CHECK(!ilio_mmp_acquire(&b.m, DEV_BYTES, false) && !b.m.took_over,
	      "B claims a CLEAN store");
	CHECK(w.now == t0, "without waiting");
	CHECK(!rec(&r) && r.seq > 4, "seq goes on from A's (%llu)",
	      (unsigned long long)r.seq);
	ilio_mmp_exit(&a.m);
	ilio_mmp_exit(&b.m);
}

/* A holder that closes cleanly during B's wait lets B in at once. */
static void t_release_during_wait(void)
{
	struct host a, b;
	struct ilio_mmp_info r;
	u64 t0;

	world();
	host_init(&a, "host-a");
	host_init(&b, "host-b");
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false), "A holds");
	w.release = &a;
	w.release_at = w.now + 2500;
	t0 = w.now;
	CHECK(!ilio_mmp_acquire(&b.m, DEV_BYTES, false) && b.m.held &&
	      !b.m.took_over && b.m.found == ILIO_MMP_FOUND_CLEAN,
	      "B gets the store A released");
	CHECK(w.now - t0 >= 2500 && w.now - t0 <= 2500 + ILIO_MMP_INTERVAL_MS,
	      "as soon as it saw CLEAN (%llu ms)", (unsigned long long)(w.now - t0));
	CHECK(!rec(&r) && r.owner == b.m.owner, "record is B's");
	ilio_mmp_exit(&a.m);
	ilio_mmp_exit(&b.m);
}

static void t_race(void)
{
	struct host a, b;
	u8 clean[BS], a_claim[BS];

	world();
	host_init(&a, "host-a");
	host_init(&b, "host-b");
	memcpy(clean, w.dev + ILIO_MMP_BLOCK * BS, BS);
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false), "A claims");
	memcpy(a_claim, w.dev + ILIO_MMP_BLOCK * BS, BS);
	/* B read the CLEAN record before A's claim landed... */
	memcpy(w.dev + ILIO_MMP_BLOCK * BS, clean, BS);
	CHECK(!ilio_mmp_acquire(&b.m, DEV_BYTES, false), "B claims too");
	/* ...and A's claim lands after B's: the later write wins. */
	memcpy(w.dev + ILIO_MMP_BLOCK * BS, a_claim, BS);
	CHECK(ilio_mmp_may_write(&b.m) == -EBUSY && b.m.lost,
	      "B's confirm sees A's claim: no write");
	CHECK(!ilio_mmp_may_write(&a.m), "A confirmed");
	ilio_mmp_exit(&a.m);
	ilio_mmp_exit(&b.m);
}

static void t_abort_restores(void)
{
	struct host a;
	u8 before[BS];

	world();
	host_init(&a, "host-a");
	memcpy(before, w.dev + ILIO_MMP_BLOCK * BS, BS);
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false), "A claims");
	CHECK(memcmp(before, w.dev + ILIO_MMP_BLOCK * BS, BS), "claim written");
	ilio_mmp_abort(&a.m);
	CHECK(!memcmp(before, w.dev + ILIO_MMP_BLOCK * BS, BS),
	      "refused open: block as it was");
	CHECK(ilio_mmp_may_write(&a.m), "no write after abort");
	ilio_mmp_exit(&a.m);
}

static void t_late_beat_fences(void)
{
	struct host a;
	struct ilio_mmp_info r;
	unsigned long wr;

	world();
	host_init(&a, "host-a");
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false) && !ilio_mmp_may_write(&a.m),
	      "A holds");
	w.now += ILIO_MMP_FENCE_MS - 100;
	CHECK(!ilio_mmp_may_write(&a.m), "within the lease");
	CHECK(!ilio_mmp_beat(&a.m), "a beat renews it");
	w.now += ILIO_MMP_FENCE_MS - 100;
	CHECK(!ilio_mmp_may_write(&a.m), "renewed lease");
	w.now += 200;
	CHECK(ilio_mmp_may_write(&a.m) == -ETIMEDOUT, "lease ran out: writes refused");
	CHECK(ilio_mmp_may_write(&a.m) == -ETIMEDOUT, "and stay refused");
	wr = w.writes;
	CHECK(!rec(&r) && r.state == ILIO_MMP_ACTIVE, "record left ACTIVE (stale)");
	/* Nobody took it: a late beat (after a stall, a suspend) renews it. */
	CHECK(!ilio_mmp_beat(&a.m) && w.writes == wr + 1 && a.m.expired == 1,
	      "a late beat renews the lease");
	CHECK(!a.m.confirmed, "as a new claim, to be confirmed");
	wr = w.now;
	CHECK(!ilio_mmp_may_write(&a.m) && w.now - wr >= ILIO_MMP_CONFIRM_MS,
	      "writes allowed again after the confirm");
	/* A late renewal that races with another host's claim loses. */
	w.now += ILIO_MMP_FENCE_MS + 100;
	{
		struct host b;
		u8 a_beat[BS];

		CHECK(!ilio_mmp_beat(&a.m) && !a.m.confirmed, "late renewal again");
		memcpy(a_beat, w.dev + ILIO_MMP_BLOCK * BS, BS);
		host_init(&b, "host-b");
		CHECK(!ilio_mmp_acquire(&b.m, DEV_BYTES, true), "B claims (takeover)");
		CHECK(ilio_mmp_may_write(&a.m) == -EBUSY && a.m.lost,
		      "A's confirm finds B's later claim: no write");
		CHECK(!ilio_mmp_may_write(&b.m), "B confirmed");
		ilio_mmp_exit(&b.m);
	}
	ilio_mmp_exit(&a.m);
	/* A read error at a beat is not final; the lease decides. */
	world();
	host_init(&a, "host-a");
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false) && !ilio_mmp_may_write(&a.m),
	      "A holds");
	w.fail_reads = 1;
	CHECK(ilio_mmp_beat(&a.m) == -EIO, "beat read error");
	w.fail_reads = 0;
	CHECK(!ilio_mmp_beat(&a.m) && !ilio_mmp_may_write(&a.m), "next beat fine");
	ilio_mmp_exit(&a.m);
}

/* Put @blk at the record's place, then let B try; returns B's result. */
static int b_over(const void *blk, bool takeover, u64 *waited, struct host *b)
{
	u64 t0;
	int ret;

	memcpy(w.dev + ILIO_MMP_BLOCK * BS, blk, BS);
	host_init(b, "host-b");
	t0 = w.now;
	ret = ilio_mmp_acquire(&b->m, DEV_BYTES, takeover);
	*waited = w.now - t0;
	return ret;
}

static void t_crafted(void)
{
	struct ilio_mmp_info a = {
		.state = ILIO_MMP_ACTIVE, .seq = 9, .owner = 42, .time = 1,
		.interval_ms = 1000, .fence_ms = 5000, .node = "ghost",
	}, r;
	u8 blk[BS], other[16];
	struct host b;
	u64 waited, def = ilio_mmp_wait_ms(NULL);
	int ret;

	/* A valid ACTIVE record nobody beats: its own wait, then taken. */
	world();
	ilio_mmp_build(blk, w.uuid, &a);
	ret = b_over(blk, false, &waited, &b);
	CHECK(!ret && b.m.took_over && waited == ilio_mmp_wait_ms(&a),
	      "stale: %d after %llu ms", ret, (unsigned long long)waited);
	CHECK(!rec(&r) && r.seq == 10, "claim seq after the record's (%llu)",
	      (unsigned long long)r.seq);
	ilio_mmp_exit(&b.m);

	/* Bad checksum: not valid, the default wait, then taken. */
	world();
	ilio_mmp_build(blk, w.uuid, &a);
	blk[80] ^= 0x40;
	ret = b_over(blk, false, &waited, &b);
	CHECK(!ret && b.m.found == ILIO_MMP_FOUND_INVALID && waited == def,
	      "bad csum: %d after %llu ms", ret, (unsigned long long)waited);
	CHECK(!rec(&r) && r.owner == b.m.owner && r.seq == 1, "claimed anew");
	ilio_mmp_exit(&b.m);

	/* Another store's record: not valid. */
	world();
	memset(other, 0x5a, sizeof(other));
	ilio_mmp_build(blk, other, &a);
	ret = b_over(blk, false, &waited, &b);
	CHECK(!ret && b.m.found == ILIO_MMP_FOUND_INVALID && waited == def,
	      "other uuid: %d after %llu ms", ret, (unsigned long long)waited);
	ilio_mmp_exit(&b.m);

	/* A huge interval or fence: bounded by the default wait, not hours. */
	world();
	a.interval_ms = 3600000;
	a.fence_ms = 4000000;
	ilio_mmp_build(blk, w.uuid, &a);
	ret = b_over(blk, false, &waited, &b);
	CHECK(!ret && waited == def, "huge interval: %d after %llu ms", ret,
	      (unsigned long long)waited);
	ilio_mmp_exit(&b.m);
	a.interval_ms = 1000;
	a.fence_ms = 5000;

	/* Zeroes or garbage (a store formatted before the record): no record. */
	world();
	memset(blk, 0, BS);
	ret = b_over(blk, false, &waited, &b);
	CHECK(!ret && b.m.found == ILIO_MMP_FOUND_NONE && !waited && !b.m.took_over,
	      "zeroes: no record, no wait");
	ilio_mmp_exit(&b.m);
	world();
	ut_fill_random(blk, BS, 5);
	ret = b_over(blk, false, &waited, &b);
	CHECK(!ret && b.m.found == ILIO_MMP_FOUND_NONE && !waited, "garbage: no record");
	ilio_mmp_exit(&b.m);

	/* A holder whose record gets damaged stops; B then takes it. */
	world();
	{
		struct host a2;

		host_init(&a2, "host-a");
		CHECK(!ilio_mmp_acquire(&a2.m, DEV_BYTES, false), "A holds");
		host_live(&a2, 0);
		memcpy(blk, w.dev + ILIO_MMP_BLOCK * BS, BS);
		blk[80] ^= 0x40;
		ret = b_over(blk, false, &waited, &b);
		CHECK(a2.beat_err == -EBUSY && a2.m.lost,
		      "holder seeing a damaged record stops: %d", a2.beat_err);
		CHECK(!ret && waited == def, "then B takes it (%d)", ret);
		host_die(0);
		ilio_mmp_exit(&a2.m);
	}
	ilio_mmp_exit(&b.m);
}

static void t_peek_and_unguarded(void)
{
	struct host a, b;
	unsigned long wr;
	u8 before[BS];

	world();
	host_init(&a, "host-a");
	host_init(&b, "host-b");
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false), "A holds");
	wr = w.writes;
	CHECK(ilio_mmp_peek(&b.m, DEV_BYTES) == ILIO_MMP_FOUND_ACTIVE &&
	      !strcmp(b.m.prev.node, "host-a"), "read-only peek sees A");
	CHECK(w.writes == wr, "peek writes nothing");
	CHECK(!ilio_mmp_may_write(&b.m), "peek: nothing guarded");
	ilio_mmp_exit(&a.m);
	ilio_mmp_exit(&b.m);

	/* No superblock: not guarded (the store's open refuses the device). */
	world();
	memset(w.dev, 0, 2 * BS);
	memcpy(before, w.dev + ILIO_MMP_BLOCK * BS, BS);
	host_init(&a, "host-a");
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false) && !a.m.guarded && !a.m.held,
	      "no superblock: not guarded");
	CHECK(!memcmp(before, w.dev + ILIO_MMP_BLOCK * BS, BS), "nothing written");
	ilio_mmp_exit(&a.m);

	/*
	 * A store formatted without --multihost is not guarded: its block 4
	 * is never read or written, and nothing fences its writes, however
	 * long the beats stall: even a record another host left ACTIVE there
	 * does not stop it (the admin chose no guard).
	 */
	world();
	{
		struct ilio_geom g;
		const char *why;

		ilio_sb_unpack(w.dev, &g);
		g.multihost = false;
		ilio_sb_build(w.dev, &g, 0);
		ilio_sb_build(w.dev + BS, &g, 1);
		CHECK(!ilio_sb_check(w.dev, 0, DEV_BYTES, &g, &why) && !g.multihost,
		      "unguarded superblock is valid and says so");
	}
	{
		struct ilio_mmp_info r = {
			.state = ILIO_MMP_ACTIVE, .seq = 9, .owner = 42,
			.interval_ms = ILIO_MMP_INTERVAL_MS,
			.fence_ms = ILIO_MMP_FENCE_MS,
		};

		strcpy(r.node, "host-b");
		ilio_mmp_build(w.dev + ILIO_MMP_BLOCK * BS, w.uuid, &r);
	}
	host_init(&a, "host-a");
	memcpy(before, w.dev + ILIO_MMP_BLOCK * BS, BS);
	wr = w.writes;
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false) && !a.m.guarded && !a.m.held,
	      "unguarded store: acquired at once, not guarded");
	CHECK(w.now == 1000, "unguarded store: no wait");
	w.now += 60000;
	CHECK(!ilio_mmp_may_write(&a.m), "unguarded store: no lease to run out");
	CHECK(!ilio_mmp_beat(&a.m) && !ilio_mmp_release(&a.m), "beat and release: no-ops");
	CHECK(w.writes == wr && !memcmp(before, w.dev + ILIO_MMP_BLOCK * BS, BS),
	      "unguarded store: block 4 never written");
	ilio_mmp_exit(&a.m);

	/* The copy-1 superblock alone is enough. */
	world();
	memset(w.dev, 0, BS);
	host_init(&a, "host-a");
	CHECK(!ilio_mmp_acquire(&a.m, DEV_BYTES, false) && a.m.held,
	      "superblock copy 1: guarded");
	ilio_mmp_exit(&a.m);

	/* A read error refuses. */
	world();
	host_init(&a, "host-a");
	w.fail_reads = 1;
	CHECK(ilio_mmp_acquire(&a.m, DEV_BYTES, false) == -EIO && !a.m.held,
	      "read error: refused");
	ilio_mmp_exit(&a.m);
}

int main(int argc, char **argv)
{
	static const struct ut_case cases[] = {
		{ "codec", t_codec },
		{ "fresh_then_busy", t_fresh_then_busy },
		{ "stale_takeover", t_stale_takeover },
		{ "forced_takeover", t_forced_takeover },
		{ "clean_close", t_clean_close },
		{ "release_during_wait", t_release_during_wait },
		{ "race", t_race },
		{ "abort_restores", t_abort_restores },
		{ "late_beat_fences", t_late_beat_fences },
		{ "crafted", t_crafted },
		{ "peek_and_unguarded", t_peek_and_unguarded },
	};
	int ret = ut_run(cases, ARRAY_SIZE(cases), argc, argv);

	free(w.dev);
	return ret;
}
