// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-multihost.c - "ilioctl multihost DEV on|off [--force] [--dry-run]":
 * switch the multihost guard of an inactive store (ILIO_FEAT_RO_COMPAT_
 * MULTIHOST, "multihost record" in dm-ilio/ilio-format.h), as "zpool set
 * multihost" does.  "ilioctl format --multihost" chooses it for a new
 * store.
 *
 * DEV is opened exclusively, so a store active on this host is refused.
 * Another host's activation cannot be seen from here but through the
 * record: "off" refuses a guarded store whose record says ACTIVE unless
 * --force (the admin knows that host is down); "on" needs the store to be
 * inactive everywhere, which only the admin can know (the guard did not
 * run until now), and says so.
 *
 * Write order, each step made durable before the next, both superblock
 * copies with the next generation, copy 0 first (the module and ilioctl
 * use the first valid copy, so the switch happens when copy 0 is durable;
 * the module's open repairs a copy 1 left behind by a crash):
 *  - on: the CLEAN record first, then the superblocks: a guarded store
 *    never lacks its record;
 *  - off: the superblocks first, then the record is zeroed: a store whose
 *    superblock still says guarded keeps its record.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bdev.h"

static const struct ilio_opt ilio_multihost_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
	{ "dry-run", 'n', false, ILIO_OPT_DRY_RUN },
	{ "force", 'f', false, ILIO_OPT_FORCE },
	{ NULL, 0, false, 0 }
};

/*
 * Both superblock copies, made from @sb (the copy in use, geometry @g) for
 * @on with generation @seq, to @b; each durable before the next.
 */
static int ilio_multihost_put_sb(const struct ilio_bdev *b, const u8 *sb,
				 const struct ilio_geom *g, bool on)
{
	static u8 blk[ILIO_BLOCK_SIZE];
	int i, r = 0;

	for (i = 0; i < 2 && !r; i++) {
		memcpy(blk, sb, sizeof(blk));
		ilio_sb_rewrite(blk, ILIO_SB_BLOCK + i, g->seq + 1, g->dev_blocks,
				g->nr_segs);
		ilio_sb_set_multihost(blk, g->seq + 1, on);
		r = ilio_bdev_write(b, blk, ILIO_BLOCK_SIZE,
				    (u64)(ILIO_SB_BLOCK + i) * ILIO_BLOCK_SIZE);
		if (!r && fsync(b->fd))
			r = -errno;
	}
	return r;
}

int ilio_cmd_multihost(int argc, char **argv)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	static u8 head[2 * ILIO_BLOCK_SIZE], rec[ILIO_BLOCK_SIZE];
	static const u8 zero[ILIO_BLOCK_SIZE];
	const char *path = NULL, *word = NULL, *val, *why, *first_why = NULL;
	bool force = false, dry_run = false, on, valid[2];
	const u8 *sb;
	struct ilio_mmp_info m;
	struct ilio_geom g, gc;
	struct ilio_bdev b;
	int id, r, i, use = -1;

	while ((id = ilio_next_arg(&it, ilio_multihost_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (!path)
				path = val;
			else if (!word)
				word = val;
			else
				return ilio_usage_err("multihost: unexpected argument '%s'",
						      val);
			break;
		case ILIO_OPT_HELP:
			return ilio_cmd_help(0, NULL);
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		case ILIO_OPT_FORCE:
			force = true;
			break;
		case ILIO_OPT_DRY_RUN:
			dry_run = true;
			break;
		}
	}
	if (!path || !*path)
		return ilio_usage_err("multihost: missing device DEV");
	if (!word)
		return ilio_usage_err("multihost: missing on or off");
	if (strcmp(word, "on") && strcmp(word, "off"))
		return ilio_usage_err("multihost: '%s' is not on or off", word);
	on = !strcmp(word, "on");

	r = ilio_bdev_open(&b, path, dry_run ? ILIO_OPEN_EXCL_READ :
			   ILIO_OPEN_EXCL_WRITE);
	if (r)
		return r;
	ilio_bdev_forget(&b, (ILIO_MMP_BLOCK + 1) * ILIO_BLOCK_SIZE);
	r = ilio_bdev_read(&b, head, sizeof(head), 0);
	if (!r)
		r = ilio_bdev_read(&b, rec, sizeof(rec),
				   (u64)ILIO_MMP_BLOCK * ILIO_BLOCK_SIZE);
	if (r) {
		r = ilio_fail("cannot read %s: %s", path, strerror(-r));
		goto out;
	}
	for (i = 0; i < 2; i++) {
		valid[i] = !ilio_sb_check(head + i * ILIO_BLOCK_SIZE, ILIO_SB_BLOCK + i,
					  b.bytes, i ? &gc : &g, &why);
		if (!valid[i] && !first_why)
			first_why = why;
		if (valid[i] && use < 0)
			use = i;
	}
	if (use < 0) {
		r = ilio_fail("%s: no valid ilio superblock (%s)", path, first_why);
		goto out;
	}
	if (use == 1)
		g = gc;
	/* Both copies are rewritten from the one in use, as the module repairs. */
	sb = head + use * ILIO_BLOCK_SIZE;
	if (g.multihost == on) {
		printf("%s: multihost is already %s\n", path, word);
		r = ILIO_EXIT_OK;
		goto out;
	}
	if (!on && !ilio_mmp_check(rec, g.uuid, &m, &why) &&
	    m.state == ILIO_MMP_ACTIVE && !force) {
		m.node[sizeof(m.node) - 1] = 0;
		r = ilio_fail("%s: the multihost record says host %s holds the store; %s",
			      path, m.node[0] ? m.node : "(no name)",
			      "if that host is down, add --force");
		goto out;
	}
	if (dry_run) {
		printf("would switch multihost %s on %s (dry run: nothing written)\n",
		       word, path);
		r = ILIO_EXIT_OK;
		goto out;
	}
	if (on) {
		ilio_format_mmp(rec, &g);
		r = ilio_bdev_write(&b, rec, sizeof(rec),
				    (u64)ILIO_MMP_BLOCK * ILIO_BLOCK_SIZE);
		if (!r && fsync(b.fd))
			r = -errno;
		if (!r)
			r = ilio_multihost_put_sb(&b, sb, &g, true);
	} else {
		r = ilio_multihost_put_sb(&b, sb, &g, false);
		if (!r)
			r = ilio_bdev_write(&b, zero, sizeof(zero),
					    (u64)ILIO_MMP_BLOCK * ILIO_BLOCK_SIZE);
		if (!r && fsync(b.fd))
			r = -errno;
	}
	if (r) {
		r = ilio_fail("cannot write to %s: %s", path, strerror(-r));
		goto out;
	}
	/* Read back through the module's validator. */
	ilio_bdev_forget(&b, (ILIO_MMP_BLOCK + 1) * ILIO_BLOCK_SIZE);
	if (ilio_bdev_read(&b, head, sizeof(head), 0)) {
		r = ilio_fail("%s: cannot read the superblocks back", path);
		goto out;
	}
	for (i = 0; i < 2; i++) {
		if (ilio_sb_check(head + i * ILIO_BLOCK_SIZE, ILIO_SB_BLOCK + i,
				  b.bytes, &gc, &why) || gc.multihost != on) {
			r = ilio_fail("%s: superblock %d reads back wrong", path, i);
			goto out;
		}
	}
	printf("%s: multihost %s\n", path, word);
	if (on)
		printf("the guard starts at the next activation; %s\n",
		       "make sure no host has the store active now");
	r = ILIO_EXIT_OK;
out:
	ilio_bdev_close(&b);
	return r;
}
