// SPDX-License-Identifier: GPL-2.0
/*
 * ilio-args: the table line grammar and the messages (see ilio-args.h),
 * one parser per argument.  Error strings are static: they become
 * ti->error.  Portable, so that tests/fuzz runs this very file.
 */
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/string.h>

#include "ilio-args.h"
#include "ilio-class.h"
#include "ilio-format.h"
#include "ilio-lbamap.h"
#include "ilio-seg.h"

static int parse_backing(struct ilio_params *p, const char *arg,
			 const char **error)
{
	if (!arg[0]) {
		*error = "Empty backing device";
		return -EINVAL;
	}
	p->backing = strcmp(arg, "-") ? arg : NULL;
	return 0;
}

static int parse_ram_mb(struct ilio_params *p, const char *arg,
			const char **error)
{
	if (kstrtouint(arg, 10, &p->ram_mb)) {
		*error = "Invalid ram_mb: not a decimal number";
		return -EINVAL;
	}
	if (p->ram_mb < ILIO_RAM_MB_MIN || p->ram_mb > ILIO_RAM_MB_MAX) {
		*error = "Invalid ram_mb: must be between " ILIO_STR(ILIO_RAM_MB_MIN)
			 " and " ILIO_STR(ILIO_RAM_MB_MAX);
		return -EINVAL;
	}
	return 0;
}

static int parse_on_off(bool *val, const char *arg)
{
	if (!strcmp(arg, "on"))
		*val = true;
	else if (!strcmp(arg, "off"))
		*val = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_dedup(struct ilio_params *p, const char *arg,
		       const char **error)
{
	if (parse_on_off(&p->dedup, arg)) {
		*error = "Invalid dedup: expected on or off";
		return -EINVAL;
	}
	return 0;
}

static int parse_compress(struct ilio_params *p, const char *arg,
			  const char **error)
{
	if (!strcmp(arg, "lz4")) {
		p->compress = true;
	} else if (!strcmp(arg, "none")) {
		p->compress = false;
	} else {
		*error = "Invalid compress: expected lz4 or none";
		return -EINVAL;
	}
	return 0;
}

static int parse_block_size(struct ilio_params *p, const char *arg,
			    const char **error)
{
	if (kstrtouint(arg, 10, &p->block_size) ||
	    (p->block_size != ILIO_BLOCK_SIZE_DEFAULT &&
	     p->block_size != ILIO_BLOCK_SIZE_SMALL)) {
		*error = "Invalid block_size: expected " ILIO_STR(ILIO_BLOCK_SIZE_DEFAULT)
			 " or " ILIO_STR(ILIO_BLOCK_SIZE_SMALL);
		return -EINVAL;
	}
	return 0;
}

static int parse_coalesce(struct ilio_params *p, const char *arg,
			  const char **error)
{
	if (!strcmp(arg, "auto")) {
		p->coalesce = ILIO_ARG_COALESCE_AUTO;
	} else if (!strcmp(arg, "always")) {
		p->coalesce = ILIO_ARG_COALESCE_ALWAYS;
	} else if (!strcmp(arg, "off")) {
		p->coalesce = ILIO_ARG_COALESCE_OFF;
	} else {
		*error = "Invalid coalesce: expected auto, always or off";
		return -EINVAL;
	}
	return 0;
}

static int parse_flush_interval(struct ilio_params *p, const char *arg,
				const char **error)
{
	if (kstrtouint(arg, 10, &p->flush_interval_ms) ||
	    p->flush_interval_ms > ILIO_FLUSH_INTERVAL_MS_MAX) {
		*error = "Invalid flush_interval_ms: expected 0.."
			 ILIO_STR(ILIO_FLUSH_INTERVAL_MS_MAX);
		return -EINVAL;
	}
	return 0;
}

static int parse_max_dirty(struct ilio_params *p, const char *arg,
			   const char **error)
{
	if (kstrtouint(arg, 10, &p->max_dirty_mb) || !p->max_dirty_mb) {
		*error = "Invalid max_dirty_mb: expected a positive number";
		return -EINVAL;
	}
	return 0;
}

static int parse_journal(struct ilio_params *p, const char *arg,
			 const char **error)
{
	if (!arg[0] || !strcmp(arg, "-")) {
		*error = "Invalid journal: expected a device";
		return -EINVAL;
	}
	p->journal = arg;
	return 0;
}

static int parse_takeover(struct ilio_params *p, const char *arg,
			  const char **error)
{
	p->takeover = true;
	return 0;
}

/* A feature is a key and one value, or a flag (@flag: a key alone). */
struct ilio_feature {
	const char *key;
	int (*parse)(struct ilio_params *p, const char *arg, const char **error);
	bool flag;
};

static const struct ilio_feature ilio_features[] = {
	{ "dedup", parse_dedup, false },
	{ "compress", parse_compress, false },
	{ "block_size", parse_block_size, false },
	{ "coalesce", parse_coalesce, false },
	{ "flush_interval_ms", parse_flush_interval, false },
	{ "max_dirty_mb", parse_max_dirty, false },
	{ ILIO_KEY_JOURNAL, parse_journal, false },
	{ ILIO_KEY_TAKEOVER, parse_takeover, true },
};

/* Features that only persistent mode has: their bits in "seen". */
static const char ilio_err_persistent[] =
	"coalesce, flush_interval_ms, max_dirty_mb, journal, takeover need a backing device";
#define ILIO_PERSISTENT_FEATURES	(31U << 3)

static int parse_features(struct ilio_params *p, unsigned int argc,
			  char **argv, const char **error)
{
	unsigned int n, i, take, seen = 0;

	if (kstrtouint(argv[0], 10, &n) || n > argc - 1) {
		*error = "Invalid feature argument count";
		return -EINVAL;
	}
	if (n != argc - 1) {
		*error = "Feature argument count does not match the arguments";
		return -EINVAL;
	}
	for (argv++; n; n -= take, argv += take) {
		for (i = 0; i < ARRAY_SIZE(ilio_features); i++)
			if (!strcmp(argv[0], ilio_features[i].key))
				break;
		take = i < ARRAY_SIZE(ilio_features) && ilio_features[i].flag ? 1 : 2;
		if (take > n) {
			*error = "Feature arguments must be key/value pairs";
			return -EINVAL;
		}
		if (i == ARRAY_SIZE(ilio_features)) {
			*error = "Unknown feature argument";
			return -EINVAL;
		}
		if (seen & (1U << i)) {
			*error = "Feature argument given twice";
			return -EINVAL;
		}
		seen |= 1U << i;
		if (ilio_features[i].parse(p, take == 2 ? argv[1] : NULL, error))
			return -EINVAL;
	}
	if (!p->backing && (seen & ILIO_PERSISTENT_FEATURES)) {
		*error = ilio_err_persistent;
		return -EINVAL;
	}
	if (p->max_dirty_mb > p->ram_mb) {
		*error = "Invalid max_dirty_mb: more than ram_mb";
		return -EINVAL;
	}
	return 0;
}

/**
 * ilio_parse_args() - parse a table line into @p
 * @p: result; defaults are filled in first
 * @argc: argument count
 * @argv: arguments (kept referenced by @p->backing)
 * @error: set to a static message on failure
 *
 * Return: 0, or -EINVAL with @error set.
 */
int ilio_parse_args(struct ilio_params *p, unsigned int argc, char **argv,
		    const char **error)
{
	memset(p, 0, sizeof(*p));
	p->dedup = true;
	p->compress = true;
	p->block_size = ILIO_BLOCK_SIZE_DEFAULT;
	p->coalesce = ILIO_ARG_COALESCE_AUTO;
	p->flush_interval_ms = ILIO_FLUSH_INTERVAL_MS_DEFAULT;

	if (argc < 2) {
		*error = "Not enough arguments: <backing_dev|-> <ram_mb> [<#features> ...]";
		return -EINVAL;
	}
	if (parse_backing(p, argv[0], error) || parse_ram_mb(p, argv[1], error))
		return -EINVAL;
	if (argc > 2 && parse_features(p, argc - 2, argv + 2, error))
		return -EINVAL;
	if (!p->max_dirty_mb)
		p->max_dirty_mb = max(p->ram_mb / 4, 1U);
	return 0;
}

/**
 * ilio_format_table() - print the canonical table line for @p
 * @p: parameters
 * @buf: output
 * @len: size of @buf
 *
 * Every feature is printed, so that the line reloads to the same device
 * whatever the defaults of a later version.
 *
 * Return: the number of characters that the full line needs (as snprintf).
 */
int ilio_format_table(const struct ilio_params *p, char *buf, size_t len)
{
	static const char * const co[] = { "auto", "always", "off" };

	if (!p->backing)
		return snprintf(buf, len, "- %u 6 dedup %s compress %s block_size %u",
				p->ram_mb, p->dedup ? "on" : "off",
				p->compress ? "lz4" : "none", p->block_size);
	return snprintf(buf, len,
			"%s %u %u dedup %s compress %s block_size %u coalesce %s flush_interval_ms %u max_dirty_mb %u%s%s",
			p->backing, p->ram_mb, p->journal ? 14 : 12,
			p->dedup ? "on" : "off", p->compress ? "lz4" : "none",
			p->block_size, co[p->coalesce], p->flush_interval_ms,
			p->max_dirty_mb, p->journal ? " " ILIO_KEY_JOURNAL " " : "",
			p->journal ? p->journal : "");
}

/*
 * The RAM budget against the length: the first check of the constructor,
 * before anything is allocated (ilio_core_new()), and of "ilioctl create
 * --dry-run", which links this file.
 */

/**
 * ilio_budget_map_bytes() - the most the LBA map's directory may take
 * @ram_bytes: the RAM budget
 * @seg_bytes: segment size; two segments (of at least ILIO_SEG_BYTES_MIN)
 *	stay free for data
 *
 * Return: bytes, 0 when the budget holds no more than the two segments.
 */
u64 ilio_budget_map_bytes(u64 ram_bytes, u32 seg_bytes)
{
	u64 room = 2ULL * max_t(u32, seg_bytes, ILIO_SEG_BYTES_MIN);

	return ram_bytes > room ? ram_bytes - room : 0;
}

/**
 * ilio_budget_min_bytes() - the smallest budget ilio_check_budget() passes
 * @nr_blocks: logical size in 4 KiB blocks, at most ILIO_LBAMAP_MAX_BLOCKS
 * @seg_bytes: segment size
 *
 * Return: bytes: the LBA map's directory and two segments.
 */
u64 ilio_budget_min_bytes(u64 nr_blocks, u32 seg_bytes)
{
	return ilio_lbamap_dir_bytes(nr_blocks) +
	       2ULL * max_t(u32, seg_bytes, ILIO_SEG_BYTES_MIN);
}

/**
 * ilio_check_budget() - can a device of @nr_blocks live in @ram_bytes?
 * @nr_blocks: logical size in 4 KiB blocks
 * @ram_bytes: the RAM budget
 * @seg_bytes: segment size
 * @error: set to a static message on failure
 *
 * The LBA map's directory and two segments must fit the budget, and the
 * length must not pass ILIO_LBAMAP_MAX_BLOCKS.  A store checks more once
 * it knows its geometry (the segment table of a backing device).
 *
 * Return: 0; -EFBIG (too long); -E2BIG (budget too small); -EINVAL (no
 * blocks).
 */
int ilio_check_budget(u64 nr_blocks, u64 ram_bytes, u32 seg_bytes,
		      const char **error)
{
	if (!nr_blocks) {
		*error = "Target length is zero";
		return -EINVAL;
	}
	if (nr_blocks > ILIO_LBAMAP_MAX_BLOCKS) {
		*error = "Target length too large (at most 512 TiB)";
		return -EFBIG;
	}
	if (ram_bytes < ilio_budget_min_bytes(nr_blocks, seg_bytes)) {
		*error = "ram_mb is too small for the LBA map of this length";
		return -E2BIG;
	}
	return 0;
}

/**
 * ilio_budget_map_start_bytes() - what the LBA map holds before any write
 * @nr_blocks: logical size in 4 KiB blocks
 *
 * Return: bytes: its directory and the spare leaf the write path keeps
 * (ilio_lbamap_mem_bytes() of a fresh map).
 */
u64 ilio_budget_map_start_bytes(u64 nr_blocks)
{
	return ilio_lbamap_dir_bytes(nr_blocks) +
	       ILIO_LBAMAP_LEAF_ENTRIES * sizeof(ilio_cid_t);
}

/**
 * ilio_budget_store_bytes() - what a persistent store's geometry needs
 * @nr_segs: segments on the backing device (its superblock)
 * @seg_bytes: segment size (its superblock)
 *
 * Return: bytes: the per-segment tables (segment table, segment index,
 * write-back queue), the summary buffer, the scratch segment and two
 * segments to spare.
 */
u64 ilio_budget_store_bytes(u32 nr_segs, u32 seg_bytes)
{
	return (u64)nr_segs * (sizeof(struct ilio_seg) + 3 * sizeof(u32)) +
	       4ULL * seg_bytes;
}

/**
 * ilio_check_store_budget() - does a persistent store's geometry fit?
 * @map_bytes: what the LBA map holds now (ilio_lbamap_mem_bytes(); before
 *	replay: ilio_budget_map_start_bytes())
 * @ram_bytes: the RAM budget
 * @nr_segs: segments on the backing device
 * @seg_bytes: segment size
 * @error: set to a static message on failure
 *
 * The second check of the constructor, once the superblock is read and
 * before anything is allocated for its geometry (ilio-recover.c); ilioctl
 * makes it with the superblock it reads.
 *
 * Return: 0 or -E2BIG.
 */
int ilio_check_store_budget(u64 map_bytes, u64 ram_bytes, u32 nr_segs,
			    u32 seg_bytes, const char **error)
{
	if (map_bytes + ilio_budget_store_bytes(nr_segs, seg_bytes) <= ram_bytes)
		return 0;
	*error = "ram_mb is too small for the segment table of this device";
	return -E2BIG;
}

/*
 * Messages
 */

static const struct {
	const char *verb;
	unsigned int flags;
} ilio_msgs[ILIO_MSG_NR] = {
	[ILIO_MSG_CLEAR_STATS] = { "clear_stats", 0 },
	[ILIO_MSG_COMPACT] = { "compact", ILIO_MSG_WRITES },
	[ILIO_MSG_GC] = { "gc", ILIO_MSG_WRITES },
	[ILIO_MSG_CHECKPOINT] = { "checkpoint", ILIO_MSG_WRITES },
	[ILIO_MSG_CHECK] = { "check", 0 },
	[ILIO_MSG_HINT] = { "hint", ILIO_MSG_CLASSES },
	[ILIO_MSG_HINTS] = { "hints", 0 },
};

static const char *const ilio_class_names[ILIO_NR_CLASSES] = {
	[ILIO_CLASS_NORMAL] = "normal",
	[ILIO_CLASS_PIN] = "pin",
	[ILIO_CLASS_NOCACHE] = "nocache",
	[ILIO_CLASS_TEMP] = "temp",
};

/**
 * ilio_class_name() - a class's name in messages and statistics
 * @cls: enum ilio_class
 *
 * Return: the name, "?" for a value out of range.
 */
const char *ilio_class_name(int cls)
{
	return cls >= 0 && cls < ILIO_NR_CLASSES ? ilio_class_names[cls] : "?";
}

/**
 * ilio_class_parse() - a class by name
 * @s: "pin", "nocache", "temp" or "normal" (exactly, lower case)
 *
 * Return: enum ilio_class, or -EINVAL.
 */
int ilio_class_parse(const char *s)
{
	int i;

	for (i = 0; i < ILIO_NR_CLASSES; i++)
		if (!strcmp(s, ilio_class_names[i]))
			return i;
	return -EINVAL;
}

/* One range, words @w[0..2]: <class|clear> <start_sector> <nr_sectors>. */
static int ilio_parse_hint_words(char **w, u64 *start, u64 *nr, int *cls,
				 const char **error)
{
	unsigned long long s, n;

	*cls = strcmp(w[0], "clear") ? ilio_class_parse(w[0]) : ILIO_CLASS_NORMAL;
	if (*cls < 0) {
		*error = "Unknown class (pin, nocache, temp, normal or clear)";
		return -EINVAL;
	}
	if (kstrtoull(w[1], 10, &s) || kstrtoull(w[2], 10, &n) || !n || s + n < s) {
		*error = "Bad range: start and a non-zero length, in sectors";
		return -EINVAL;
	}
	*start = s;
	*nr = n;
	return 0;
}

#define ILIO_HINT_USAGE \
	"Usage: hint <pin|nocache|temp|normal|clear> <start_sector> <nr_sectors> [...]"

/*
 * hint <class|clear> <start_sector> <nr_sectors> [<class|clear> <start> <nr>]...
 * Every range is checked here, so that a bad one refuses the whole message
 * before anything is applied.
 */
static int ilio_parse_hint(struct ilio_msg *m, unsigned int argc, char **argv,
			   const char **error)
{
	unsigned int i;
	u64 start, nr;
	int cls, ret;

	if (argc < 4 || (argc - 1) % 3) {
		*error = ILIO_HINT_USAGE;
		return -EINVAL;
	}
	if ((argc - 1) / 3 > ILIO_HINT_BATCH_MAX) {
		*error = "Too many ranges in one hint message (at most "
			 ILIO_STR(ILIO_HINT_BATCH_MAX) ")";
		return -EINVAL;
	}
	m->nr_hints = (argc - 1) / 3;
	m->hint_argv = argv + 1;
	for (i = 0; i < m->nr_hints; i++) {
		ret = ilio_parse_hint_words(argv + 1 + 3 * i, &start, &nr, &cls, error);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * ilio_msg_hint_range() - one range of a parsed hint message
 * @m: a hint message that ilio_parse_message() accepted
 * @i: range, below @m->nr_hints
 * @start: set to its first sector
 * @nr: set to its sectors
 * @cls: set to its enum ilio_class
 *
 * Return: 0, or -EINVAL when @m is not a hint or @i is out of range.
 */
int ilio_msg_hint_range(const struct ilio_msg *m, unsigned int i, u64 *start,
			u64 *nr, int *cls)
{
	const char *error;

	if (m->verb != ILIO_MSG_HINT || i >= m->nr_hints)
		return -EINVAL;
	return ilio_parse_hint_words(m->hint_argv + 3 * i, start, nr, cls, &error);
}

/**
 * ilio_parse_message() - parse a message into @m
 * @m: result
 * @argc: argument count (dm passes at least one)
 * @argv: the verb, then its arguments
 * @error: set to a static message on failure
 *
 * Return: 0, or -EINVAL with @error set.
 */
int ilio_parse_message(struct ilio_msg *m, unsigned int argc, char **argv,
		       const char **error)
{
	int i;

	memset(m, 0, sizeof(*m));
	if (!argc) {
		*error = "Empty message";
		return -EINVAL;
	}
	for (i = 0; i < ILIO_MSG_NR; i++)
		if (!strcasecmp(argv[0], ilio_msgs[i].verb))
			break;
	if (i == ILIO_MSG_NR) {
		*error = "Unknown message";
		return -EINVAL;
	}
	m->verb = i;
	m->flags = ilio_msgs[i].flags;
	if (i == ILIO_MSG_HINT)
		return ilio_parse_hint(m, argc, argv, error);
	if (argc != 1) {
		*error = "This message takes no arguments";
		return -EINVAL;
	}
	m->verb = i;
	m->flags = ilio_msgs[i].flags;
	return 0;
}

/**
 * ilio_msg_name() - the canonical (lower case) verb of a message
 * @verb: enum ilio_msg_verb
 *
 * Return: a static string; "" for a value out of range.
 */
const char *ilio_msg_name(int verb)
{
	if (verb < 0 || verb >= ILIO_MSG_NR)
		return "";
	return ilio_msgs[verb].verb;
}
