// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-format.c - "ilioctl format DEV": lay out an empty ilio store on a
 * backing device or image for persistent mode, with the module's own code
 * (ilio_geom_compute(), ilio_sb_build(), ilio_anchor_build()), and read
 * the result back through the module's validators.  Refuses a device that
 * holds anything unless --force.  Layout: dm-ilio/ilio-format.h.
 *
 * With --journal JDEV it also lays out an empty journal ring on JDEV
 * (ilio_jsb_build()) bound to the new store: the store's uuid, binding
 * generation 1 in both superblocks.  The journal is written first, so a
 * store that names a journal always has one.  With --multihost the store
 * is guarded (ILIO_FEAT_RO_COMPAT_MULTIHOST) and block ILIO_MMP_BLOCK gets
 * a CLEAN multihost record (nobody holds the new store); without it the
 * block is zero.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bdev.h"

#define ILIO_SEG_KB_DEFAULT	1024ULL

static const struct ilio_opt ilio_format_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
	{ "dry-run", 'n', false, ILIO_OPT_DRY_RUN },
	{ "segment-kb", 0, true, ILIO_OPT_SEGMENT_KB },
	{ "force", 'f', false, ILIO_OPT_FORCE },
	{ "journal", 0, true, ILIO_OPT_JOURNAL },
	{ "multihost", 0, false, ILIO_OPT_MULTIHOST },
	{ NULL, 0, false, 0 }
};

/**
 * struct ilio_format_args - what "format" was asked to do
 * @dev: device or image path
 * @seg_bytes: segment size in bytes
 * @force: overwrite whatever the device holds
 * @dry_run: check and report, write nothing
 * @journal: journal device or image to bind, or NULL
 * @multihost: guard the store with the multihost record
 */
struct ilio_format_args {
	const char *dev;
	const char *journal;
	unsigned int seg_bytes;
	bool force;
	bool dry_run;
	bool multihost;
};

static int ilio_opt_segment_kb(const char *val, unsigned int *seg_bytes)
{
	unsigned long long kb;

	if (ilio_parse_u64(val, &kb) || kb < ILIO_SEG_BYTES_MIN / 1024 ||
	    kb > ILIO_FMT_SEG_BYTES_MAX / 1024 || (kb & (kb - 1)))
		return ilio_usage_err("invalid --segment-kb '%s' (a power of two, %u..%u)",
				      val, ILIO_SEG_BYTES_MIN / 1024,
				      ILIO_FMT_SEG_BYTES_MAX / 1024);
	*seg_bytes = (unsigned int)(kb * 1024);
	return 0;
}

/*
 * Parse "format DEV [--segment-kb N] [--force] [--dry-run] [--verbose]";
 * returns 0, ILIO_EXIT_USAGE, or -1 after --help.
 */
static int ilio_format_parse(int argc, char **argv, struct ilio_format_args *a)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char *val;
	int id, r;

	memset(a, 0, sizeof(*a));
	a->seg_bytes = ILIO_SEG_KB_DEFAULT * 1024;
	while ((id = ilio_next_arg(&it, ilio_format_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (a->dev)
				return ilio_usage_err("format: unexpected argument '%s'",
						      val);
			a->dev = val;
			break;
		case ILIO_OPT_HELP:
			ilio_cmd_help(0, NULL);
			return -1;
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		case ILIO_OPT_DRY_RUN:
			a->dry_run = true;
			break;
		case ILIO_OPT_FORCE:
			a->force = true;
			break;
		case ILIO_OPT_MULTIHOST:
			a->multihost = true;
			break;
		case ILIO_OPT_JOURNAL:
			if (!*val)
				return ilio_usage_err("format: --journal needs a device");
			a->journal = val;
			break;
		case ILIO_OPT_SEGMENT_KB:
			r = ilio_opt_segment_kb(val, &a->seg_bytes);
			if (r)
				return r;
			break;
		}
	}
	if (!a->dev || !*a->dev)
		return ilio_usage_err("format: missing device DEV");
	return 0;
}

static const char ilio_force_hint[] = "use --force to overwrite";

/*
 * ilio_format_check() - refuse a device that holds anything, unless
 * --force: an ilio store (found by our validator) or any signature that
 * libblkid recognises.  found gets a description of what is there ("" if
 * nothing).  Returns 0 to go on, or ILIO_EXIT_FAIL after printing why.
 */
static int ilio_format_check(const struct ilio_bdev *b, bool force,
			     char *found, size_t size)
{
	u8 head[2 * ILIO_BLOCK_SIZE];
	char what[512], uuid[40];
	struct ilio_jsb_info ji;
	struct ilio_geom old;
	const char *why = "";
	size_t len = 0;
	int r;

	found[0] = '\0';
	r = ilio_bdev_read(b, head, sizeof(head), 0);
	if (r)
		return ilio_fail("cannot read %s: %s", b->path, strerror(-r));
	r = ilio_find_store(head, b->bytes, &old, &why);
	if (!r) {
		ilio_fmt_uuid(old.uuid, uuid, sizeof(uuid));
		if (!force)
			return ilio_fail("%s is already an ilio store (uuid %s); %s",
					 b->path, uuid, ilio_force_hint);
		ilio_append(found, size, &len, "an ilio store (uuid %s)", uuid);
	} else if (r == -EINVAL) {
		if (!force)
			return ilio_fail("%s holds a damaged ilio superblock (%s); %s",
					 b->path, why, ilio_force_hint);
		ilio_append(found, size, &len, "a damaged ilio store");
	}
	/* A journal's superblock, in either slot: it may hold flushed data. */
	if (!ilio_jsb_check(head, ILIO_JSB_BLOCK, b->bytes, &ji, &why) ||
	    !ilio_jsb_check(head + ILIO_BLOCK_SIZE, ILIO_JSB_BLOCK + 1, b->bytes,
			    &ji, &why)) {
		ilio_fmt_uuid(ji.uuid, uuid, sizeof(uuid));
		if (!force)
			return ilio_fail("%s is the journal of the ilio store %s; %s",
					 b->path, uuid, ilio_force_hint);
		ilio_append(found, size, &len, "%sthe journal of ilio store %s",
			    len ? ", " : "", uuid);
	}

	r = ilio_blkid_find(b->fd, what, sizeof(what));
	if (r < 0)
		return ilio_fail("cannot probe %s for signatures (libblkid failed)",
				 b->path);
	if (r) {
		if (!force)
			return ilio_fail("%s contains %s; %s", b->path, what,
					 ilio_force_hint);
		ilio_append(found, size, &len, "%s%s", len ? ", " : "", what);
	}
	return 0;
}

/*
 * ilio_format_write() - put the store on the device, in an order that
 * never leaves a half-written store that looks valid: first zero both
 * superblock copies, both anchor slots, the blocks before segment 0 (the
 * multihost record and the class map slots) and the first block of
 * segment 0, and make that durable; then write anchor slot 0, the CLEAN
 * multihost record (@mmp, NULL when the store is not guarded) and the two
 * superblock copies, and make that durable.
 * Returns 0 or -errno.
 */
static int ilio_format_write(const struct ilio_bdev *b,
			     const struct ilio_geom *g, const u8 *head,
			     const u8 *mmp)
{
	static const u8 zero[ILIO_HEAD_BYTES], zero16[16 * ILIO_BLOCK_SIZE];
	u64 blk;
	int r;

	r = ilio_bdev_write(b, zero, ILIO_HEAD_BYTES, 0);
	if (!r)
		r = ilio_bdev_write(b, zero, ILIO_BLOCK_SIZE,
				    g->seg_start * ILIO_BLOCK_SIZE);
	/*
	 * The reserved blocks and the class map slots: an earlier store's
	 * slots would be refused by their uuid anyway, but "ilioctl info"
	 * would call them invalid.
	 */
	for (blk = ILIO_META_BLOCKS; !r && blk < g->seg_start; blk += 16) {
		u64 n = g->seg_start - blk < 16 ? g->seg_start - blk : 16;

		r = ilio_bdev_write(b, zero16, n * ILIO_BLOCK_SIZE,
				    blk * ILIO_BLOCK_SIZE);
	}
	if (!r && fsync(b->fd))
		r = -errno;
	if (!r)
		r = ilio_bdev_write(b, head + ILIO_ANCHOR_BLOCK * ILIO_BLOCK_SIZE,
				    ILIO_BLOCK_SIZE,
				    ILIO_ANCHOR_BLOCK * ILIO_BLOCK_SIZE);
	if (!r && mmp)
		r = ilio_bdev_write(b, mmp, ILIO_BLOCK_SIZE,
				    ILIO_MMP_BLOCK * ILIO_BLOCK_SIZE);
	if (!r)
		r = ilio_bdev_write(b, head, 2 * ILIO_BLOCK_SIZE,
				    ILIO_SB_BLOCK * ILIO_BLOCK_SIZE);
	if (!r && fsync(b->fd))
		r = -errno;
	return r;
}

/**
 * ilio_format_mmp() - the CLEAN multihost record of a store (nobody holds
 * it; see "multihost record" in ilio-format.h), into @blk
 * @blk: ILIO_BLOCK_SIZE bytes
 * @g: the store's geometry (its uuid)
 */
void ilio_format_mmp(void *blk, const struct ilio_geom *g)
{
	struct ilio_mmp_info m = {
		.state = ILIO_MMP_CLEAN,
		.seq = 1,
		.time = time(NULL),
		.interval_ms = ILIO_MMP_INTERVAL_MS,
		.fence_ms = ILIO_MMP_FENCE_MS,
	};

	if (gethostname(m.node, sizeof(m.node) - 1))
		m.node[0] = 0;
	m.node[sizeof(m.node) - 1] = 0;
	ilio_mmp_build(blk, g->uuid, &m);
}

/*
 * ilio_format_verify() - read what format wrote back from the device and
 * check it with the module's validators.  Returns NULL, or what is wrong.
 */
static const char *ilio_format_verify(const struct ilio_bdev *b,
				      const struct ilio_geom *g,
				      const struct ilio_anchor_info *ai)
{
	static u8 head[ILIO_HEAD_BYTES], seg0[ILIO_BLOCK_SIZE], mmp[ILIO_BLOCK_SIZE];
	struct ilio_anchor_info got_ai;
	struct ilio_mmp_info mi;
	struct ilio_geom got;
	const char *why;
	u64 i;

	ilio_bdev_forget(b, (g->seg_start + 1) * ILIO_BLOCK_SIZE);
	if (ilio_bdev_read(b, head, sizeof(head), 0) ||
	    ilio_bdev_read(b, seg0, sizeof(seg0),
			   g->seg_start * ILIO_BLOCK_SIZE) ||
	    ilio_bdev_read(b, mmp, sizeof(mmp), ILIO_MMP_BLOCK * ILIO_BLOCK_SIZE))
		return "cannot read the metadata back";
	for (i = 0; i < 2; i++) {
		if (ilio_sb_check(head + i * ILIO_BLOCK_SIZE, ILIO_SB_BLOCK + i,
				  b->bytes, &got, &why))
			return why;
		if (!ilio_geom_equal(&got, g))
			return "a superblock reads back different from what was written";
	}
	if (ilio_anchor_check(head + ILIO_ANCHOR_BLOCK * ILIO_BLOCK_SIZE,
			      ILIO_ANCHOR_BLOCK, g, &got_ai, &why))
		return why;
	if (got_ai.seq != ai->seq || got_ai.epoch != ai->epoch ||
	    got_ai.log_seq != ai->log_seq || got_ai.log_seg != ai->log_seg ||
	    got_ai.log_off != ai->log_off || got_ai.nr_blocks != ai->nr_blocks)
		return "anchor slot 0 reads back different from what was written";
	if (!ilio_all_zero(head + (ILIO_ANCHOR_BLOCK + 1) * ILIO_BLOCK_SIZE,
			   ILIO_BLOCK_SIZE))
		return "anchor slot 1 is not zeroed";
	if (!ilio_all_zero(seg0, sizeof(seg0)))
		return "the first block of segment 0 is not zeroed";
	if (!g->multihost)
		return ilio_all_zero(mmp, sizeof(mmp)) ? NULL :
		       "the multihost record block is not zeroed";
	if (ilio_mmp_check(mmp, g->uuid, &mi, &why))
		return why;
	if (mi.state != ILIO_MMP_CLEAN)
		return "the multihost record is not CLEAN";
	return NULL;
}

/*
 * ilio_journal_write() - lay out the journal on @j for the store of @g:
 * zero both superblock slots and the first ring block, make that durable,
 * then write slot 0 and make it durable; read it back through the
 * module's validator.  Returns 0 or ILIO_EXIT_FAIL after printing why.
 */
static int ilio_journal_write(const struct ilio_bdev *j,
			      const struct ilio_geom *g)
{
	static u8 blk[3 * ILIO_BLOCK_SIZE];
	struct ilio_jsb_info ji = {
		.seq = 1, .bind_gen = g->journal_gen, .tail_pos = 0, .tail_seq = 1,
	};
	struct ilio_jsb_info got;
	const char *why;
	int r;

	ji.ring_blocks = j->bytes / ILIO_BLOCK_SIZE - ILIO_JRING_START;
	memcpy(ji.uuid, g->uuid, sizeof(ji.uuid));
	memset(blk, 0, sizeof(blk));
	r = ilio_bdev_write(j, blk, sizeof(blk), 0);
	if (!r && fsync(j->fd))
		r = -errno;
	ilio_jsb_build(blk, ILIO_JSB_BLOCK, &ji);
	if (!r)
		r = ilio_bdev_write(j, blk, ILIO_BLOCK_SIZE, 0);
	if (!r && fsync(j->fd))
		r = -errno;
	if (r)
		return ilio_fail("cannot write to %s: %s", j->path, strerror(-r));
	ilio_bdev_forget(j, sizeof(blk));
	if (ilio_bdev_read(j, blk, ILIO_BLOCK_SIZE, 0))
		return ilio_fail("%s: cannot read the journal superblock back", j->path);
	if (ilio_jsb_check(blk, ILIO_JSB_BLOCK, j->bytes, &got, &why))
		return ilio_fail("%s: read-back check failed: %s", j->path, why);
	if (memcmp(got.uuid, g->uuid, sizeof(got.uuid)) ||
	    got.bind_gen != g->journal_gen)
		return ilio_fail("%s: the journal superblock reads back different", j->path);
	return 0;
}

int ilio_cmd_format(int argc, char **argv)
{
	static u8 head[ILIO_HEAD_BYTES], mmp[ILIO_BLOCK_SIZE];
	struct ilio_anchor_info ai = {
		.seq = 1, .log_seq = 1, .log_seg = 0, .log_off = 0,
		.nr_blocks = 0,
	};
	char found[1024], left[512], uuid[40], h[32], need[32];
	struct ilio_format_args a;
	struct ilio_rows *rows;
	char jfound[1024] = "";
	struct ilio_bdev b, jb;
	bool jopen = false;
	struct ilio_geom g;
	const char *why;
	int r;

	r = ilio_format_parse(argc, argv, &a);
	if (r)
		return r < 0 ? ILIO_EXIT_OK : r;

	r = ilio_bdev_open(&b, a.dev, a.dry_run ? ILIO_OPEN_EXCL_READ :
			   ILIO_OPEN_EXCL_WRITE);
	if (r)
		return r;
	if (a.journal) {
		r = ilio_bdev_open(&jb, a.journal, a.dry_run ? ILIO_OPEN_EXCL_READ :
				   ILIO_OPEN_EXCL_WRITE);
		if (r)
			goto out;
		jopen = true;
		if (jb.bytes / ILIO_BLOCK_SIZE < ILIO_JRING_START + ILIO_JRING_MIN_BLOCKS) {
			r = ilio_fail("%s is too small for a journal (%s; at least %u KiB)",
				      jb.path, ilio_human(jb.bytes, h, sizeof(h)),
				      (ILIO_JRING_START + ILIO_JRING_MIN_BLOCKS) * 4);
			goto out;
		}
		r = ilio_format_check(&jb, a.force, jfound, sizeof(jfound));
		if (r)
			goto out;
	}

	memset(&g, 0, sizeof(g));
	if (ilio_geom_compute(&g, b.bytes, a.seg_bytes, &why)) {
		r = ilio_fail("cannot format %s: %s (it has %s; %u KiB segments need at least %s)",
			      b.path, why, ilio_human(b.bytes, h, sizeof(h)),
			      a.seg_bytes / 1024,
			      ilio_human((1ULL + ILIO_MIN_SEGS) * a.seg_bytes,
					 need, sizeof(need)));
		goto out;
	}

	r = ilio_format_check(&b, a.force, found, sizeof(found));
	if (r)
		goto out;

	/* The content hash key: random, secret, never printed. */
	g.keyed_hash = true;
	g.journal_gen = a.journal ? 1 : 0;
	g.multihost = a.multihost;
	if (ilio_new_uuid(g.uuid) || ilio_random(&ai.epoch, sizeof(ai.epoch)) ||
	    ilio_random(&g.hash_seed, sizeof(g.hash_seed))) {
		r = ilio_fail("cannot get random bytes from the kernel");
		goto out;
	}
	memset(head, 0, sizeof(head));
	ilio_sb_build(head, &g, ILIO_SB_BLOCK);
	ilio_sb_build(head + ILIO_BLOCK_SIZE, &g, ILIO_SB_BLOCK + 1);
	ilio_anchor_build(head + ILIO_ANCHOR_BLOCK * ILIO_BLOCK_SIZE, &g,
			  ILIO_ANCHOR_BLOCK, &ai);

	if (!a.dry_run) {
		/* Erase every foreign signature, not only those in our blocks. */
		if (a.force && ilio_blkid_each(b.fd, true, left, sizeof(left)) < 0) {
			r = ilio_fail("cannot wipe the old signatures on %s (libblkid failed)",
				      b.path);
			goto out;
		}
		if (a.journal && a.force &&
		    ilio_blkid_each(jb.fd, true, left, sizeof(left)) < 0) {
			r = ilio_fail("cannot wipe the old signatures on %s (libblkid failed)",
				      jb.path);
			goto out;
		}
		if (a.journal) {
			r = ilio_journal_write(&jb, &g);
			if (r)
				goto out;
		}
		ilio_format_mmp(mmp, &g);
		r = ilio_format_write(&b, &g, head, a.multihost ? mmp : NULL);
		if (r) {
			r = ilio_fail("cannot write to %s: %s", b.path,
				      strerror(-r));
			goto out;
		}
		why = ilio_format_verify(&b, &g, &ai);
		if (why) {
			r = ilio_fail("%s: read-back check failed: %s", b.path, why);
			goto out;
		}
		if (ilio_blkid_find(b.fd, left, sizeof(left)) == 1)
			ilio_msg("warning: %s still shows %s to libblkid", b.path,
				 left);
	}

	if (a.dry_run)
		printf("would format %s (dry run: nothing written)\n", b.path);
	else
		printf("formatted %s\n", b.path);
	rows = ilio_rows_new();
	ilio_row(rows, "uuid", "%s", a.dry_run ? "(chosen when formatting)" :
		 ilio_fmt_uuid(g.uuid, uuid, sizeof(uuid)));
	ilio_row(rows, "keyed hash", "%s", "yes");
	ilio_row(rows, "multihost", "%s", a.multihost ?
		 "on (guarded: one host at a time)" : "off");
	ilio_row_size(rows, "device size", b.bytes);
	ilio_rows_geom(rows, &g);
	if (*found)
		ilio_row(rows, a.dry_run ? "would replace" : "replaced", "%s", found);
	if (a.journal) {
		ilio_row(rows, "journal", "%s", jb.path);
		ilio_row_size(rows, "journal ring",
			      (jb.bytes / ILIO_BLOCK_SIZE - ILIO_JRING_START) *
			      ILIO_BLOCK_SIZE);
		if (*jfound)
			ilio_row(rows, a.dry_run ? "would replace on journal" :
				 "replaced on journal", "%s", jfound);
	}
	ilio_rows_print(rows);
	r = ILIO_EXIT_OK;
out:
	if (jopen)
		ilio_bdev_close(&jb);
	ilio_bdev_close(&b);
	return r;
}
