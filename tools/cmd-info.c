// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-info.c - "ilioctl info DEV": show a backing device's superblock
 * copies and anchor slots as the module's validators see them
 * (read-only).
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bdev.h"

/*
 * ilio_info_anchor() - print one anchor slot's row.  A slot of all zeros
 * is blank - never written, as format leaves slot 1 - and, as for the
 * kernel's recovery (ILIO_SLOT_BLANK), never damage: whether the store
 * has a usable anchor is the other slot's business ("current anchor").
 * fresh: the other slot is the valid anchor of a store never activated,
 * whose first activation writes this one.  Returns true if the slot is
 * valid, with *ai filled in.
 */
static bool ilio_info_anchor(struct ilio_rows *rows, const u8 *blk,
			     unsigned int slot, const struct ilio_geom *g,
			     bool fresh, struct ilio_anchor_info *ai)
{
	char label[16], buf[256] = "";
	const char *why;
	size_t len = 0;

	snprintf(label, sizeof(label), "anchor %u", slot);
	if (ilio_all_zero(blk, ILIO_BLOCK_SIZE)) {
		ilio_row(rows, label, "%s", fresh ?
			 "blank (unused, as format leaves it; the first activation writes it)" :
			 "blank (unused, as format leaves it)");
		return false;
	}
	if (ilio_anchor_check(blk, ILIO_ANCHOR_BLOCK + slot, g, ai, &why)) {
		ilio_row(rows, label, "invalid: %s", why);
		return false;
	}
	ilio_append(buf, sizeof(buf), &len, "valid: seq %llu, epoch 0x%016llx",
		    (unsigned long long)ai->seq, (unsigned long long)ai->epoch);
	ilio_append(buf, sizeof(buf), &len, ", log_seq %llu, log_seg %u",
		    (unsigned long long)ai->log_seq, ai->log_seg);
	ilio_append(buf, sizeof(buf), &len, ", log_off %u, nr_blocks %llu",
		    ai->log_off, (unsigned long long)ai->nr_blocks);
	ilio_row(rows, label, "%s", buf);
	return true;
}

/*
 * The multihost record (block 4): who holds the store, for the failover
 * runbook.  Read-only like the rest: "off" (the store is not guarded),
 * "clean", "held by host H (last heartbeat at T)", "none" or "invalid:
 * why".
 */
static void ilio_info_mmp(struct ilio_rows *rows, const struct ilio_bdev *b,
			  const struct ilio_geom *g)
{
	static u8 blk[ILIO_BLOCK_SIZE];
	struct ilio_mmp_info m;
	const char *why;
	char when[64];
	time_t t;
	int ret;

	if (!g->multihost) {
		ilio_row(rows, "multihost", "%s",
			 "off (not guarded; \"ilioctl multihost DEV on\" guards it)");
		return;
	}
	if (ilio_bdev_read(b, blk, sizeof(blk), (u64)ILIO_MMP_BLOCK * ILIO_BLOCK_SIZE)) {
		ilio_row(rows, "multihost", "%s", "unreadable");
		return;
	}
	ret = ilio_mmp_check(blk, g->uuid, &m, &why);
	if (ret == -ENOENT) {
		ilio_row(rows, "multihost", "%s", "none (nobody holds the store)");
		return;
	}
	if (ret) {
		ilio_row(rows, "multihost", "invalid: %s", why);
		return;
	}
	t = (time_t)m.time;
	if (!strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime(&t)))
		snprintf(when, sizeof(when), "%lld", (long long)m.time);
	m.node[sizeof(m.node) - 1] = 0;
	if (m.state == ILIO_MMP_ACTIVE)
		ilio_row(rows, "multihost", "held by host %s (heartbeat written %s, every %u ms)",
			 m.node[0] ? m.node : "(no name)", when, m.interval_ms);
	else
		ilio_row(rows, "multihost", "clean (last written by host %s, %s)",
			 m.node[0] ? m.node : "(no name)", when);
}

/*
 * The class map slots (region class hints, saved by the module): one row
 * each, "none", "invalid: why" or its ranges and generation, and which one
 * the module uses.  @nr_blocks is the logical size (0: never activated).
 */
static void ilio_info_cmap(struct ilio_rows *rows, const struct ilio_bdev *b,
			   const struct ilio_geom *g, u64 nr_blocks)
{
	u32 cap = ilio_cmap_limit(g), nr;
	struct ilio_crange *r = NULL;
	u64 seq, best_seq = 0;
	int best = -1, i, ret;
	const char *why;
	char label[32];
	u8 *buf;

	if (!cap) {
		ilio_row(rows, "class map", "%s", "no room (segment 0 too early)");
		return;
	}
	buf = calloc(1, ilio_cmap_len(cap));
	r = calloc(cap, sizeof(*r));
	if (!buf || !r) {
		ilio_row(rows, "class map", "%s", "not read: out of memory");
		goto out;
	}
	for (i = 0; i < 2; i++) {
		u64 pos = ilio_cmap_slot_block(g, i) * ILIO_BLOCK_SIZE;

		snprintf(label, sizeof(label), "class map slot %d", i);
		if (ilio_bdev_read(b, buf, ILIO_BLOCK_SIZE, pos)) {
			ilio_row(rows, label, "%s", "unreadable");
			continue;
		}
		ret = ilio_cmap_check_hdr(buf, g, i, &seq, &nr, &why);
		if (ret == -ENOENT) {
			ilio_row(rows, label, "%s", "none");
			continue;
		}
		if (!ret && ilio_cmap_len(nr) > ILIO_BLOCK_SIZE &&
		    ilio_bdev_read(b, buf + ILIO_BLOCK_SIZE,
				   ilio_cmap_len(nr) - ILIO_BLOCK_SIZE,
				   pos + ILIO_BLOCK_SIZE)) {
			ilio_row(rows, label, "%s", "unreadable");
			continue;
		}
		if (!ret)
			ret = ilio_cmap_check(buf, nr, nr_blocks * ILIO_SECTORS_PER_BLOCK,
					      r, &why);
		if (ret) {
			ilio_row(rows, label, "invalid: %s", why);
			continue;
		}
		ilio_row(rows, label, "%u ranges, generation %llu", nr,
			 (unsigned long long)seq);
		if (seq > best_seq) {
			best_seq = seq;
			best = i;
		}
	}
	if (best < 0)
		ilio_row(rows, "class map in use", "%s", "none saved");
	else
		ilio_row(rows, "class map in use", "slot %d (at most %u ranges)", best, cap);
out:
	free(r);
	free(buf);
}

int ilio_cmd_info(int argc, char **argv)
{
	static u8 head[ILIO_HEAD_BYTES];
	struct ilio_args it = { .argc = argc, .argv = argv };
	struct ilio_anchor_info ai[2], *cur = NULL;
	char label[32], uuid[40], what[512], h[32];
	const struct ilio_sb *sb = NULL;
	struct ilio_geom g, gc;
	const char *path = NULL, *val, *why;
	bool magic = false, valid[2];
	struct ilio_rows *rows;
	struct ilio_bdev b;
	int id, r, i;

	while ((id = ilio_next_arg(&it, ilio_name_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (path)
				return ilio_usage_err("info: unexpected argument '%s'",
						      val);
			path = val;
			break;
		case ILIO_OPT_HELP:
			return ilio_cmd_help(0, NULL);
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		}
	}
	if (!path || !*path)
		return ilio_usage_err("info: missing device DEV");

	r = ilio_bdev_open(&b, path, ILIO_OPEN_READ);
	if (r)
		return r;
	rows = ilio_rows_new();
	ilio_bdev_forget(&b, sizeof(head));
	r = ilio_bdev_read(&b, head, sizeof(head), 0);
	if (r) {
		r = ilio_fail("cannot read %s: %s", path, strerror(-r));
		goto out;
	}

	printf("%s\n", path);
	ilio_row_size(rows, "device size", b.bytes);
	for (i = 0; i < 2; i++) {
		snprintf(label, sizeof(label), "superblock %d", i);
		r = ilio_sb_check(head + i * ILIO_BLOCK_SIZE, ILIO_SB_BLOCK + i,
				  b.bytes, &gc, &why);
		magic |= r != -ENOENT;
		if (r) {
			ilio_row(rows, label, "invalid: %s", why);
			continue;
		}
		ilio_row(rows, label, "%s", "valid");
		if (!sb) {
			sb = (const struct ilio_sb *)(head + i * ILIO_BLOCK_SIZE);
			g = gc;
		} else if (!ilio_geom_equal(&g, &gc)) {
			ilio_row(rows, "note", "%s",
				 "the superblock copies differ; showing copy 0");
		}
	}
	if (!sb) {
		if (magic) {
			r = ilio_fail("%s: no valid ilio superblock", path);
			goto out;
		}
		if (ilio_blkid_find(b.fd, what, sizeof(what)) == 1)
			r = ilio_fail("%s is not an ilio store (it contains %s)",
				      path, what);
		else
			r = ilio_fail("%s is not an ilio store (no ilio superblock)",
				      path);
		goto out;
	}

	ilio_row(rows, "uuid", "%s", ilio_fmt_uuid(g.uuid, uuid, sizeof(uuid)));
	ilio_row(rows, "version", "%u", le32toh(sb->version));
	ilio_row(rows, "sequence", "%llu", (unsigned long long)le64toh(sb->seq));
	ilio_row(rows, "features", "compat 0x%llx, ro_compat 0x%llx, incompat 0x%llx",
		 (unsigned long long)le64toh(sb->compat),
		 (unsigned long long)le64toh(sb->ro_compat),
		 (unsigned long long)le64toh(sb->incompat));
	ilio_row(rows, "keyed hash", "%s", g.keyed_hash ? "yes" :
		 "no (seed 0: formatted before keyed hashing)");
	if (g.journal_gen)
		ilio_row(rows, "journal", "bound, generation %llu",
			 (unsigned long long)g.journal_gen);
	else
		ilio_row(rows, "journal", "none");
	ilio_row_size(rows, "size at format", g.dev_blocks * ILIO_BLOCK_SIZE);
	ilio_row(rows, "first segment", "block %llu", (unsigned long long)g.seg_start);
	ilio_rows_geom(rows, &g);

	for (i = 0; i < 2; i++) {
		const u8 *other = head + (ILIO_ANCHOR_BLOCK + 1 - i) * ILIO_BLOCK_SIZE;
		struct ilio_anchor_info oi;
		bool fresh;

		fresh = !ilio_anchor_check(other, ILIO_ANCHOR_BLOCK + 1 - i, &g,
					   &oi, &why) && !oi.nr_blocks;
		valid[i] = ilio_info_anchor(rows, head + (ILIO_ANCHOR_BLOCK + i) *
					    ILIO_BLOCK_SIZE, i, &g, fresh, &ai[i]);
		/* The valid slot with the higher sequence number wins. */
		if (valid[i] && (!cur || ai[i].seq > cur->seq))
			cur = &ai[i];
	}
	if (!cur) {
		ilio_row(rows, "current anchor", "%s", "none");
		r = ilio_fail("%s: no valid anchor", path);
		goto out;
	}
	ilio_row(rows, "current anchor", "%d (seq %llu)", (int)(cur - ai),
		 (unsigned long long)cur->seq);
	if (cur->nr_blocks)
		ilio_row(rows, "logical size", "%s",
			 ilio_human(cur->nr_blocks * ILIO_BLOCK_SIZE, h, sizeof(h)));
	else
		ilio_row(rows, "logical size", "%s", "not set (never activated)");
	ilio_info_mmp(rows, &b, &g);
	ilio_info_cmap(rows, &b, &g, cur->nr_blocks);
	r = ILIO_EXIT_OK;
out:
	ilio_rows_print(rows);
	ilio_bdev_close(&b);
	return r;
}
