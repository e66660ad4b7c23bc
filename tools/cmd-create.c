// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-create.c - "ilioctl create": build the table line from the options,
 * check it with the module's own table parser (dm-ilio/ilio-args.c), and
 * load it (or, with --dry-run, print it).
 *
 * The option checks speak in options ("--ram must be ..."); the kernel's
 * parser then has the last word, with the same bounds
 * (dm-ilio/ilio-limits.h), so that a line ilioctl would load is one the
 * module accepts.  Before anything is printed or loaded, the line also
 * passes the constructor's own RAM budget check (ilio_check_budget(),
 * ilio-args.c) and, in persistent mode, the checks of the backing device
 * that the constructor would make: a block device, not in use, an ilio
 * store with a valid anchor, the logical size it records, its journal.
 *
 * "activate" (cmd-activate.c) shares the options, the checks and the load.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bdev.h"
#include "ilio-args.h"

#define ILIO_MIB		BIT_ULL(ILIO_MIB_SHIFT)

/*
 * ilio_build_params() - the parameter string after "ilio" in the table line.
 * dedup, compress and block_size are always spelled out.  The persistent
 * features (coalesce, flush_interval_ms, max_dirty_mb, journal, takeover) appear only
 * when given, so that the kernel applies its own defaults (max_dirty_mb's
 * depends on the segment size, which only the backing device knows).
 * Returns 0 or -ENAMETOOLONG.
 */
static int ilio_build_params(const struct ilio_create_args *a, char *buf,
			     size_t size)
{
	char extra[ILIO_PARAMS_MAX / 2] = "";
	unsigned int nr = 6;
	size_t len = 0;
	int n;

	if (a->coalesce) {
		ilio_append(extra, sizeof(extra), &len, " coalesce %s",
			    a->coalesce);
		nr += 2;
	}
	if (a->has_flush_interval) {
		ilio_append(extra, sizeof(extra), &len, " flush_interval_ms %llu",
			    a->flush_interval_ms);
		nr += 2;
	}
	if (a->max_dirty_bytes) {
		ilio_append(extra, sizeof(extra), &len, " max_dirty_mb %llu",
			    a->max_dirty_bytes >> ILIO_MIB_SHIFT);
		nr += 2;
	}
	if (a->journal) {
		ilio_append(extra, sizeof(extra), &len, " %s %s", ILIO_KEY_JOURNAL,
			    a->journal);
		nr += 2;
	}
	if (a->takeover) {
		ilio_append(extra, sizeof(extra), &len, " %s", ILIO_KEY_TAKEOVER);
		nr += 1;
	}
	if (len >= sizeof(extra) - 1)
		return -ENAMETOOLONG;

	n = snprintf(buf, size, "%s %llu %u dedup %s compress %s block_size %u%s",
		     a->backing ? a->backing : "-", a->ram_mb, nr,
		     a->dedup ? "on" : "off", a->compress ? "lz4" : "none",
		     a->block_size, extra);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * The options of create and activate.  --diskless, --backing and
 * --table-params are create's alone, --name is activate's
 * (ilio_create_parse() refuses them in the other command).
 */
static const struct ilio_opt ilio_create_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
	{ "dry-run", 'n', false, ILIO_OPT_DRY_RUN },
	{ "size", 0, true, ILIO_OPT_SIZE },
	{ "ram", 0, true, ILIO_OPT_RAM },
	{ "no-dedup", 0, false, ILIO_OPT_NO_DEDUP },
	{ "no-compress", 0, false, ILIO_OPT_NO_COMPRESS },
	{ "block-size", 0, true, ILIO_OPT_BLOCK_SIZE },
	{ "coalesce", 0, true, ILIO_OPT_COALESCE },
	{ "flush-interval-ms", 0, true, ILIO_OPT_FLUSH_INTERVAL },
	{ "max-dirty", 0, true, ILIO_OPT_MAX_DIRTY },
	{ "journal", 0, true, ILIO_OPT_JOURNAL },
	{ "readonly", 0, false, ILIO_OPT_READONLY },
	{ "takeover", 0, false, ILIO_OPT_TAKEOVER },
	{ "overcommit-warn", 0, true, ILIO_OPT_OVERCOMMIT_WARN },
	{ "diskless", 0, false, ILIO_OPT_DISKLESS },
	{ "backing", 0, true, ILIO_OPT_BACKING },
	{ "table-params", 0, true, ILIO_OPT_TABLE_PARAMS },
	{ "name", 0, true, ILIO_OPT_NAME },
	{ NULL, 0, false, 0 }
};

/* Is option id one of the other command's? */
static bool ilio_opt_foreign(int id, bool activate)
{
	if (id == ILIO_OPT_NAME)
		return !activate;
	return activate && (id == ILIO_OPT_DISKLESS || id == ILIO_OPT_BACKING ||
			    id == ILIO_OPT_TABLE_PARAMS);
}

/* Parse a SIZE option value; prints the reason and returns 2 on error. */
static int ilio_opt_size(const char *opt, const char *val, unsigned long long *bytes)
{
	int r = ilio_parse_size(val, bytes);

	if (r == -ERANGE)
		return ilio_usage_err("size '%s' for --%s is too large", val, opt);
	if (r)
		return ilio_usage_err("invalid size '%s' for --%s (examples: 4096, 512M, 8G)",
				      val, opt);
	return 0;
}

static int ilio_opt_block_size(const char *val, unsigned int *block_size)
{
	unsigned long long bs;

	if (ilio_parse_size(val, &bs) ||
	    (bs != ILIO_BLOCK_SIZE_SMALL && bs != ILIO_BLOCK_SIZE_DEFAULT))
		return ilio_usage_err("invalid --block-size '%s' (must be %d or %d)",
				      val, ILIO_BLOCK_SIZE_DEFAULT,
				      ILIO_BLOCK_SIZE_SMALL);
	*block_size = (unsigned int)bs;
	return 0;
}

static int ilio_opt_coalesce(const char *val, const char **coalesce)
{
	static const char * const modes[] = { "auto", "always", "off" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		if (!strcmp(val, modes[i])) {
			*coalesce = modes[i];
			return 0;
		}
	}
	return ilio_usage_err("invalid --coalesce '%s' (must be auto, always or off)",
			      val);
}

static int ilio_opt_flush_interval(const char *val, unsigned long long *ms)
{
	if (ilio_parse_u64(val, ms) || *ms > ILIO_FLUSH_INTERVAL_MS_MAX)
		return ilio_usage_err("invalid --flush-interval-ms '%s' (must be 0..%d)",
				      val, ILIO_FLUSH_INTERVAL_MS_MAX);
	return 0;
}

/*
 * A backing or journal device (opt: "--backing", "--journal", or "DEV" for
 * activate's): one word, usable in a table line.
 */
static int ilio_check_dev(const char *opt, const char *dev)
{
	const char *what = strcmp(opt, "--journal") ? "backing" : "journal";
	const char *s;

	if (!*dev)
		return ilio_usage_err("%s needs a device path", opt);
	if (!strcmp(dev, "-"))
		return ilio_usage_err("invalid %s device '-'%s", what,
				      strcmp(opt, "--backing") ? "" :
				      " (use --diskless)");
	if (strlen(dev) >= ILIO_PARAMS_MAX - 256)
		return ilio_usage_err("%s: device path too long", opt);
	for (s = dev; *s; s++) {
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return ilio_usage_err("invalid %s device '%s' (whitespace)",
					      what, dev);
	}
	return 0;
}

/* The long name of option id in opts, for messages. */
static const char *ilio_opt_name(const struct ilio_opt *opts, int id)
{
	for (; opts->name; opts++) {
		if ((int)opts->id == id)
			return opts->name;
	}
	return "?";
}

/*
 * ilio_create_parse() - turn "create" (NAME) or "activate" (DEV) arguments
 * into &struct ilio_create_args, with the checks that need nothing but the
 * arguments.  Returns 0, ILIO_EXIT_USAGE (message printed), or -1 when
 * --help was handled.
 */
int ilio_create_parse(int argc, char **argv, bool activate,
		      struct ilio_create_args *a)
{
	const struct ilio_opt *opts = ilio_create_opts;
	const char *cmd = activate ? "activate" : "create";
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char *persistent_opt = NULL, *pos = NULL;
	unsigned long long ram_bytes = 0;
	bool diskless = false;
	const char *val;
	int id, r;

	memset(a, 0, sizeof(*a));
	a->dedup = true;
	a->compress = true;
	a->block_size = ILIO_BLOCK_SIZE_DEFAULT;
	a->overcommit_warn = ILIO_OVERCOMMIT_WARN_DEFAULT;

	while ((id = ilio_next_arg(&it, opts, &val)) != ILIO_ARG_END) {
		if (id > 0 && ilio_opt_foreign(id, activate))
			return ilio_usage_err("%s: '--%s' is an option of '%s'", cmd,
					      ilio_opt_name(opts, id),
					      activate ? "create" : "activate");
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (pos)
				return ilio_usage_err("%s: unexpected argument '%s'",
						      cmd, val);
			pos = val;
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
		case ILIO_OPT_DISKLESS:
			diskless = true;
			break;
		case ILIO_OPT_BACKING:
			r = ilio_check_dev("--backing", val);
			if (r)
				return r;
			a->backing = val;
			break;
		case ILIO_OPT_NAME:
			a->name = val;
			break;
		case ILIO_OPT_SIZE:
			r = ilio_opt_size("size", val, &a->size_bytes);
			if (r)
				return r;
			a->has_size = true;
			break;
		case ILIO_OPT_RAM:
			r = ilio_opt_size("ram", val, &ram_bytes);
			if (r)
				return r;
			a->has_ram = true;
			break;
		case ILIO_OPT_NO_DEDUP:
			a->dedup = false;
			break;
		case ILIO_OPT_NO_COMPRESS:
			a->compress = false;
			break;
		case ILIO_OPT_BLOCK_SIZE:
			r = ilio_opt_block_size(val, &a->block_size);
			if (r)
				return r;
			break;
		case ILIO_OPT_COALESCE:
			r = ilio_opt_coalesce(val, &a->coalesce);
			if (r)
				return r;
			persistent_opt = persistent_opt ?: "--coalesce";
			break;
		case ILIO_OPT_FLUSH_INTERVAL:
			r = ilio_opt_flush_interval(val, &a->flush_interval_ms);
			if (r)
				return r;
			a->has_flush_interval = true;
			persistent_opt = persistent_opt ?: "--flush-interval-ms";
			break;
		case ILIO_OPT_MAX_DIRTY:
			r = ilio_opt_size("max-dirty", val, &a->max_dirty_bytes);
			if (r)
				return r;
			a->has_max_dirty = true;
			persistent_opt = persistent_opt ?: "--max-dirty";
			break;
		case ILIO_OPT_JOURNAL:
			r = ilio_check_dev("--journal", val);
			if (r)
				return r;
			a->journal = val;
			persistent_opt = persistent_opt ?: "--journal";
			break;
		case ILIO_OPT_READONLY:
			a->read_only = true;
			persistent_opt = persistent_opt ?: "--readonly";
			break;
		case ILIO_OPT_TAKEOVER:
			a->takeover = true;
			persistent_opt = persistent_opt ?: "--takeover";
			break;
		case ILIO_OPT_OVERCOMMIT_WARN:
			if (ilio_parse_u64(val, &a->overcommit_warn))
				return ilio_usage_err("invalid --overcommit-warn '%s' (%s)",
						      val, "a whole factor; 0: never warn");
			break;
		case ILIO_OPT_TABLE_PARAMS:
			a->table_params = val;
			break;
		}
	}

	if (activate) {
		if (!pos)
			return ilio_usage_err("activate: missing backing device DEV");
		r = ilio_check_dev("DEV", pos);
		if (r)
			return r;
		a->backing = pos;
		if (a->name) {
			r = ilio_check_name(a->name);
			if (r)
				return r;
		}
	} else {
		if (!pos)
			return ilio_usage_err("create: missing device NAME");
		r = ilio_check_name(pos);
		if (r)
			return r;
		a->name = pos;
	}
	if (a->takeover && a->read_only)
		return ilio_usage_err("--takeover is for a read-write activation, not --readonly");
	if (a->has_size && !a->size_bytes)
		return ilio_usage_err("--size must be greater than 0");
	if (a->has_size && a->size_bytes % ILIO_SIZE_ALIGN)
		return ilio_usage_err("--size must be a multiple of 4 KiB (got %llu bytes)",
				      a->size_bytes);
	if (a->table_params) {
		if (diskless || a->backing || a->has_ram || persistent_opt ||
		    !a->dedup || !a->compress ||
		    a->block_size != ILIO_BLOCK_SIZE_DEFAULT)
			return ilio_usage_err("--table-params replaces %s",
					      "the options that build the table line");
		if (!a->has_size)
			return ilio_usage_err("create: --size is required");
		return 0;
	}
	if (!activate) {
		if (diskless && a->backing)
			return ilio_usage_err("--diskless and --backing are mutually exclusive");
		if (!diskless && !a->backing)
			return ilio_usage_err("one of --diskless or --backing DEV is required");
		if (diskless && persistent_opt)
			return ilio_usage_err("%s is for persistent mode %s",
					      persistent_opt,
					      "(--backing DEV), not --diskless");
		if (!a->has_size)
			return ilio_usage_err("create: --size is required");
		if (!a->has_ram)
			return ilio_usage_err("create: --ram is required");
	}
	if (a->has_ram) {
		if (ram_bytes % ILIO_MIB)
			return ilio_usage_err("--ram must be a whole number of MiB (got %llu %s)",
					      ram_bytes, "bytes");
		a->ram_mb = ram_bytes >> ILIO_MIB_SHIFT;
		/* The kernel's bounds (dm-ilio/ilio-limits.h). */
		if (a->ram_mb < ILIO_RAM_MB_MIN || a->ram_mb > ILIO_RAM_MB_MAX)
			return ilio_usage_err("--ram must be between %d MiB and %d TiB",
					      ILIO_RAM_MB_MIN,
					      ILIO_RAM_MB_MAX >> (40 - ILIO_MIB_SHIFT));
	}
	if (a->has_max_dirty && !a->max_dirty_bytes)
		return ilio_usage_err("--max-dirty must be at least 1 MiB");
	if (a->max_dirty_bytes % ILIO_MIB)
		return ilio_usage_err("--max-dirty must be a whole number of MiB (got %llu bytes)",
				      a->max_dirty_bytes);
	return 0;
}

/*
 * ilio_kernel_check() - parse params with the module's own table parser
 * (dm-ilio/ilio-args.c, linked in), split into words as dm splits a table
 * line.  Returns 0; -EINVAL with *why set to the parser's reason (the
 * constructor's ti->error); or -ENOMEM.
 */
static int ilio_kernel_check(const char *params, const char **why)
{
	char *copy = strdup(params), *argv[ILIO_PARAMS_MAX / 2], *s, *save;
	struct ilio_params p;
	unsigned int argc = 0;
	int r;

	if (!copy)
		return -ENOMEM;
	for (s = strtok_r(copy, " \t\n", &save); s && argc < ARRAY_SIZE(argv);
	     s = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = s;
	r = ilio_parse_args(&p, argc, argv, why);
	free(copy);
	return r ? -EINVAL : 0;
}

/* A budget check refused --ram for what; need: the least that fits. */
static int ilio_budget_refused(unsigned long long ram_mb, const char *what,
			       const char *why, unsigned long long need)
{
	char h[32];

	ilio_human_binary(ram_mb << ILIO_MIB_SHIFT, h, sizeof(h));
	return ilio_usage_err("--ram %s is too small for %s: %s (%s); %s %llu MiB",
			      h, what, "the kernel refuses it", why,
			      "it needs at least",
			      (need + ILIO_MIB - 1) >> ILIO_MIB_SHIFT);
}

/*
 * ilio_budget_check() - the constructor's first RAM budget check
 * (ilio_check_budget(), linked in): the LBA map of this length and two
 * segments must fit --ram.  Returns 0 or ILIO_EXIT_USAGE.
 */
static int ilio_budget_check(const struct ilio_create_args *a)
{
	unsigned long long blocks = a->size_bytes / ILIO_BLOCK_SIZE, need;
	const char *why;
	char h[32], r[48];
	int ret;

	ret = ilio_check_budget(blocks, a->ram_mb << ILIO_MIB_SHIFT,
				ILIO_SEG_BYTES_CTR, &why);
	if (!ret)
		return 0;
	ilio_human_binary(a->size_bytes, h, sizeof(h));
	if (ret != -E2BIG)
		return ilio_usage_err("--size %s is too large: the kernel refuses it (%s)",
				      h, why);
	need = ilio_budget_min_bytes(blocks, ILIO_SEG_BYTES_CTR);
	snprintf(r, sizeof(r), "--size %s", h);
	return ilio_budget_refused(a->ram_mb, r, why, need);
}

/*
 * ilio_journal_check() - the journal device of a persistent table: a block
 * device whose journal superblock binds it to this store (its uuid and
 * binding generation).  Returns 0 or ILIO_EXIT_FAIL.
 */
static int ilio_journal_check(const char *path, const struct ilio_geom *g)
{
	static u8 head[2 * ILIO_BLOCK_SIZE];
	struct ilio_jsb_info ji, best = { 0 };
	char real[4096];
	const char *why;
	struct ilio_bdev b;
	bool found = false;
	int r, i;

	r = ilio_blk_check("journal device", path, real, sizeof(real));
	if (r)
		return r;
	r = ilio_bdev_open(&b, path, ILIO_OPEN_EXCL_READ);
	if (r)
		return r;
	ilio_bdev_forget(&b, sizeof(head));
	r = ilio_bdev_read(&b, head, sizeof(head), ILIO_JSB_BLOCK * ILIO_BLOCK_SIZE);
	for (i = 0; !r && i < 2; i++) {
		if (ilio_jsb_check(head + i * ILIO_BLOCK_SIZE, ILIO_JSB_BLOCK + i,
				   b.bytes, &ji, &why))
			continue;
		if (!found || ji.seq > best.seq)
			best = ji;
		found = true;
	}
	ilio_bdev_close(&b);
	if (r)
		return ilio_fail("cannot read %s: %s", path, strerror(-r));
	if (!found)
		return ilio_fail("journal device %s holds no ilio journal (%s %s)",
				 path, "ilioctl format DEV --journal", path);
	if (memcmp(best.uuid, g->uuid, sizeof(g->uuid)) ||
	    best.bind_gen != g->journal_gen)
		return ilio_fail("journal device %s belongs to another store (%s)",
				 path, "or an older binding of this one");
	return 0;
}

/*
 * ilio_store_check() - what the constructor will find on the backing
 * device: an ilio store (si, read already by activate, or read here), the
 * logical size it records, a budget that holds its segment table
 * (ilio_check_store_budget()), its journal; and a warning when the
 * logical size overcommits the store's capacity.  Returns 0,
 * ILIO_EXIT_USAGE (the budget) or ILIO_EXIT_FAIL.
 */
static int ilio_store_check(const struct ilio_create_args *a,
			    const struct ilio_store_info *si)
{
	unsigned long long cap, need, blocks = a->size_bytes / ILIO_BLOCK_SIZE;
	char h[32], s[ILIO_PARAMS_MAX];
	const char *why;
	int r;

	if (si->nr_blocks && si->nr_blocks != blocks)
		return ilio_fail("%s records a logical size of %s (%llu bytes), not %s: %s",
				 a->backing,
				 ilio_human_binary(si->nr_blocks * ILIO_BLOCK_SIZE,
						   h, sizeof(h)),
				 si->nr_blocks * ILIO_BLOCK_SIZE,
				 ilio_human_binary(a->size_bytes, s, sizeof(s)),
				 "activate it at its size, then grow it with ilioctl grow");
	/* The constructor's second budget check, with this superblock. */
	need = ilio_budget_map_start_bytes(blocks) +
	       ilio_budget_store_bytes(si->g.nr_segs, si->g.seg_bytes);
	if (ilio_check_store_budget(ilio_budget_map_start_bytes(blocks),
				    a->ram_mb << ILIO_MIB_SHIFT, si->g.nr_segs,
				    si->g.seg_bytes, &why)) {
		snprintf(s, sizeof(s), "the store on %s", a->backing);
		return ilio_budget_refused(a->ram_mb, s, why, need);
	}
	if (si->g.journal_gen && !a->journal)
		return ilio_fail("%s is bound to a journal device: give --journal JDEV",
				 a->backing);
	if (!si->g.journal_gen && a->journal)
		return ilio_fail("%s was formatted without a journal: %s",
				 a->backing,
				 "--journal needs a store formatted with one (ilioctl format DEV --journal JDEV)");
	if (a->journal) {
		r = ilio_journal_check(a->journal, &si->g);
		if (r)
			return r;
	}
	cap = (unsigned long long)si->g.nr_segs * si->g.seg_bytes;
	if (a->overcommit_warn && cap &&
	    a->size_bytes / cap >= a->overcommit_warn &&
	    a->size_bytes > cap * a->overcommit_warn)
		ilio_msg("warning: the logical size %s is %.1fx the capacity of %s (%s): %s",
			 ilio_human_binary(a->size_bytes, h, sizeof(h)),
			 (double)a->size_bytes / cap, a->backing,
			 ilio_human_binary(cap, s, sizeof(s)),
			 "writes fail once the store is full, unless dedup and compression keep up (--overcommit-warn 0 silences this)");
	return 0;
}

/*
 * ilio_create_run() - the checks that need the options complete, then the
 * load: the --max-dirty bound, the table line through the kernel's parser
 * and budget check, and in persistent mode the backing device (si when the
 * caller read it, else read here).  Prints the line with --dry-run or
 * --verbose.  Returns the exit code.
 */
int ilio_create_run(const struct ilio_create_args *a,
		    const struct ilio_store_info *si)
{
	struct ilio_store_info own;
	char params[ILIO_PARAMS_MAX];
	unsigned long long len_sectors;
	const char *why;
	int r;

	if (a->max_dirty_bytes >> ILIO_MIB_SHIFT > a->ram_mb)
		return ilio_usage_err("--max-dirty (%llu MiB) must not exceed --ram (%llu MiB)",
				      a->max_dirty_bytes >> ILIO_MIB_SHIFT,
				      a->ram_mb);
	len_sectors = a->size_bytes >> ILIO_SECTOR_SHIFT;
	if (a->table_params) {
		if (strlen(a->table_params) >= sizeof(params))
			return ilio_usage_err("table line too long");
		snprintf(params, sizeof(params), "%s", a->table_params);
	} else if (ilio_build_params(a, params, sizeof(params))) {
		return ilio_usage_err("table line too long");
	}
	/* What the module's constructor would refuse is bad usage here. */
	r = ilio_kernel_check(params, &why);
	if (r == -ENOMEM)
		return ilio_fail("out of memory");
	if (r)
		return ilio_usage_err("the kernel's table parser refuses '%s': %s",
				      params, why);
	if (!a->table_params) {
		r = ilio_budget_check(a);
		if (r)
			return r;
	}
	if (a->backing && !a->table_params) {
		if (!si) {
			r = ilio_store_read(a->backing, true, &own);
			if (r)
				return r;
			si = &own;
		}
		r = ilio_store_check(a, si);
		if (r)
			return r;
	}

	if (a->dry_run || ilio_verbose)
		printf("0 %llu %s %s\n", len_sectors, ILIO_TARGET, params);
	if (a->dry_run)
		return ILIO_EXIT_OK;
	fflush(stdout);

	return ilio_dm_create(a->name, len_sectors, params, a->read_only);
}

int ilio_cmd_create(int argc, char **argv)
{
	struct ilio_create_args a;
	int r;

	r = ilio_create_parse(argc, argv, false, &a);
	if (r)
		return r < 0 ? ILIO_EXIT_OK : r;
	return ilio_create_run(&a, NULL);
}
