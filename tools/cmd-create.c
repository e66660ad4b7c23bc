// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-create.c - "ilioctl create": build the table line from the options,
 * check it with the module's own table parser (dm-ilio/ilio-args.c), and
 * load it (or, with --dry-run, print it).
 *
 * The option checks speak in options ("--ram must be ..."); the kernel's
 * parser then has the last word, with the same bounds
 * (dm-ilio/ilio-limits.h), so that a line ilioctl would load is one the
 * module accepts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ilioctl.h"
#include "ilio-args.h"

/**
 * struct ilio_create_args - what "create" was asked to build.
 * @backing: backing device path, or NULL for diskless.
 * @size_bytes: logical size, a non-zero multiple of ILIO_SIZE_ALIGN.
 * @ram_mb: RAM budget in MiB, >= 1.
 * @dedup: deduplication on.
 * @compress: lz4 compression on.
 * @block_size: 4096 or 512.
 * @coalesce: persistent mode: "auto", "always" or "off"; NULL: the
 *	kernel's default.
 * @has_flush_interval: @flush_interval_ms was given.
 * @flush_interval_ms: persistent mode: write-back interval, 0 to
 *	ILIO_FLUSH_INTERVAL_MS_MAX.
 * @max_dirty_mb: persistent mode: dirty data bound in MiB; 0: the
 *	kernel's default.
 * @table_params: (testing) the parameter string given whole, instead of
 *	one built from the above.
 */
struct ilio_create_args {
	const char *backing;
	unsigned long long size_bytes;
	unsigned long long ram_mb;
	bool dedup;
	bool compress;
	unsigned int block_size;
	const char *coalesce;
	bool has_flush_interval;
	unsigned long long flush_interval_ms;
	unsigned long long max_dirty_mb;
	const char *table_params;
};

/*
 * ilio_build_params() - the parameter string after "ilio" in the table line.
 * dedup, compress and block_size are always spelled out.  The persistent
 * features (coalesce, flush_interval_ms, max_dirty_mb) appear only when
 * given, so that the kernel applies its own defaults (max_dirty_mb's
 * depends on the segment size, which only the backing device knows).
 * Returns 0 or -ENAMETOOLONG.
 */
static int ilio_build_params(const struct ilio_create_args *a, char *buf,
			     size_t size)
{
	char extra[128] = "";
	unsigned int nr = 6;
	size_t len = 0;
	int n;

	if (a->coalesce) {
		len += snprintf(extra + len, sizeof(extra) - len,
				" coalesce %s", a->coalesce);
		nr += 2;
	}
	if (a->has_flush_interval) {
		len += snprintf(extra + len, sizeof(extra) - len,
				" flush_interval_ms %llu", a->flush_interval_ms);
		nr += 2;
	}
	if (a->max_dirty_mb) {
		len += snprintf(extra + len, sizeof(extra) - len,
				" max_dirty_mb %llu", a->max_dirty_mb);
		nr += 2;
	}

	n = snprintf(buf, size, "%s %llu %u dedup %s compress %s block_size %u%s",
		     a->backing ? a->backing : "-", a->ram_mb, nr,
		     a->dedup ? "on" : "off", a->compress ? "lz4" : "none",
		     a->block_size, extra);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static const struct ilio_opt ilio_create_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
	{ "dry-run", 'n', false, ILIO_OPT_DRY_RUN },
	{ "diskless", 0, false, ILIO_OPT_DISKLESS },
	{ "backing", 0, true, ILIO_OPT_BACKING },
	{ "size", 0, true, ILIO_OPT_SIZE },
	{ "ram", 0, true, ILIO_OPT_RAM },
	{ "no-dedup", 0, false, ILIO_OPT_NO_DEDUP },
	{ "no-compress", 0, false, ILIO_OPT_NO_COMPRESS },
	{ "block-size", 0, true, ILIO_OPT_BLOCK_SIZE },
	{ "coalesce", 0, true, ILIO_OPT_COALESCE },
	{ "flush-interval-ms", 0, true, ILIO_OPT_FLUSH_INTERVAL },
	{ "max-dirty", 0, true, ILIO_OPT_MAX_DIRTY },
	{ "table-params", 0, true, ILIO_OPT_TABLE_PARAMS },
	{ NULL, 0, false, 0 }
};

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

/* Backing device: one word, usable in a table line. */
static int ilio_check_backing(const char *dev)
{
	const char *s;

	if (!*dev)
		return ilio_usage_err("--backing needs a device path");
	if (!strcmp(dev, "-"))
		return ilio_usage_err("invalid backing device '-' (use --diskless)");
	if (strlen(dev) >= ILIO_PARAMS_MAX - 256)
		return ilio_usage_err("backing device path too long");
	for (s = dev; *s; s++) {
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return ilio_usage_err("invalid backing device '%s' (whitespace)",
					      dev);
	}
	return 0;
}

/*
 * ilio_create_parse() - turn "create" arguments into a name and
 * &struct ilio_create_args.  Returns 0, ILIO_EXIT_USAGE (message printed),
 * or -1 when --help was handled.
 */
static int ilio_create_parse(int argc, char **argv, const char **name,
			     struct ilio_create_args *a, bool *dry_run)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	bool diskless = false, have_size = false, have_ram = false;
	bool have_max_dirty = false;
	unsigned long long ram_bytes = 0, max_dirty = 0;
	const char *persistent_opt = NULL;
	const char *val;
	int id, r;

	*name = NULL;
	*dry_run = false;
	memset(a, 0, sizeof(*a));
	a->dedup = true;
	a->compress = true;
	a->block_size = ILIO_BLOCK_SIZE_DEFAULT;

	while ((id = ilio_next_arg(&it, ilio_create_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (*name)
				return ilio_usage_err("create: unexpected argument '%s'",
						      val);
			*name = val;
			break;
		case ILIO_OPT_HELP:
			ilio_cmd_help(0, NULL);
			return -1;
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		case ILIO_OPT_DRY_RUN:
			*dry_run = true;
			break;
		case ILIO_OPT_DISKLESS:
			diskless = true;
			break;
		case ILIO_OPT_BACKING:
			r = ilio_check_backing(val);
			if (r)
				return r;
			a->backing = val;
			break;
		case ILIO_OPT_SIZE:
			r = ilio_opt_size("size", val, &a->size_bytes);
			if (r)
				return r;
			have_size = true;
			break;
		case ILIO_OPT_RAM:
			r = ilio_opt_size("ram", val, &ram_bytes);
			if (r)
				return r;
			have_ram = true;
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
			r = ilio_opt_size("max-dirty", val, &max_dirty);
			if (r)
				return r;
			have_max_dirty = true;
			persistent_opt = persistent_opt ?: "--max-dirty";
			break;
		case ILIO_OPT_TABLE_PARAMS:
			a->table_params = val;
			break;
		}
	}

	if (!*name)
		return ilio_usage_err("create: missing device NAME");
	r = ilio_check_name(*name);
	if (r)
		return r;
	if (a->table_params) {
		if (diskless || a->backing || have_ram || persistent_opt ||
		    !a->dedup || !a->compress ||
		    a->block_size != ILIO_BLOCK_SIZE_DEFAULT)
			return ilio_usage_err("--table-params replaces %s",
					      "the options that build the table line");
		if (!have_size)
			return ilio_usage_err("create: --size is required");
		if (!a->size_bytes || a->size_bytes % ILIO_SIZE_ALIGN)
			return ilio_usage_err("--size must be a non-zero multiple of 4 KiB");
		return 0;
	}
	if (diskless && a->backing)
		return ilio_usage_err("--diskless and --backing are mutually exclusive");
	if (!diskless && !a->backing)
		return ilio_usage_err("one of --diskless or --backing DEV is required");
	if (diskless && persistent_opt)
		return ilio_usage_err("%s is for persistent mode (--backing DEV), not --diskless",
				      persistent_opt);
	if (!have_size)
		return ilio_usage_err("create: --size is required");
	if (!a->size_bytes)
		return ilio_usage_err("--size must be greater than 0");
	if (a->size_bytes % ILIO_SIZE_ALIGN)
		return ilio_usage_err("--size must be a multiple of 4 KiB (got %llu bytes)",
				      a->size_bytes);
	if (!have_ram)
		return ilio_usage_err("create: --ram is required");
	if (ram_bytes % (1ULL << ILIO_MIB_SHIFT))
		return ilio_usage_err("--ram must be a whole number of MiB (got %llu bytes)",
				      ram_bytes);
	a->ram_mb = ram_bytes >> ILIO_MIB_SHIFT;
	/* The kernel's bounds (dm-ilio/ilio-limits.h). */
	if (a->ram_mb < ILIO_RAM_MB_MIN || a->ram_mb > ILIO_RAM_MB_MAX)
		return ilio_usage_err("--ram must be between %d MiB and %d TiB",
				      ILIO_RAM_MB_MIN,
				      ILIO_RAM_MB_MAX >> (40 - ILIO_MIB_SHIFT));
	if (have_max_dirty && !max_dirty)
		return ilio_usage_err("--max-dirty must be at least 1 MiB");
	if (max_dirty % (1ULL << ILIO_MIB_SHIFT))
		return ilio_usage_err("--max-dirty must be a whole number of MiB (got %llu bytes)",
				      max_dirty);
	a->max_dirty_mb = max_dirty >> ILIO_MIB_SHIFT;
	if (a->max_dirty_mb > a->ram_mb)
		return ilio_usage_err("--max-dirty (%llu MiB) must not exceed --ram (%llu MiB)",
				      a->max_dirty_mb, a->ram_mb);
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

int ilio_cmd_create(int argc, char **argv)
{
	char params[ILIO_PARAMS_MAX];
	struct ilio_create_args a;
	unsigned long long len_sectors;
	const char *name, *why;
	bool dry_run;
	int r;

	r = ilio_create_parse(argc, argv, &name, &a, &dry_run);
	if (r)
		return r < 0 ? ILIO_EXIT_OK : r;

	len_sectors = a.size_bytes >> ILIO_SECTOR_SHIFT;
	if (a.table_params) {
		if (strlen(a.table_params) >= sizeof(params))
			return ilio_usage_err("table line too long");
		snprintf(params, sizeof(params), "%s", a.table_params);
	} else if (ilio_build_params(&a, params, sizeof(params))) {
		return ilio_usage_err("table line too long");
	}
	/* What the module's constructor would refuse is bad usage here. */
	r = ilio_kernel_check(params, &why);
	if (r == -ENOMEM)
		return ilio_fail("out of memory");
	if (r)
		return ilio_usage_err("the kernel's table parser refuses '%s': %s",
				      params, why);

	if (dry_run || ilio_verbose)
		printf("0 %llu %s %s\n", len_sectors, ILIO_TARGET, params);
	if (dry_run)
		return ILIO_EXIT_OK;
	fflush(stdout);

	return ilio_dm_create(name, len_sectors, params);
}
