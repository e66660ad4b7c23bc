// SPDX-License-Identifier: GPL-2.0
/*
 * ilioctl - manage dm-ilio devices (device-mapper target "ilio").
 *
 * ilioctl builds and loads ilio tables, removes ilio devices, clears their
 * statistics and renders their status (human-readable or JSON).  It talks to
 * the kernel only through libdevmapper.  It also formats a backing device
 * for persistent mode and shows its metadata ("format", "info"), with the
 * module's own builders and validators (dm-ilio/ilio-meta.c, linked in).
 *
 * Interface with the kernel (fixed by dm-ilio, see ilio.rst):
 *
 *   table:  <start> <len> ilio <backing_dev|-> <ram_mb> [<#feature_args>
 *           <feature_args>...]
 *   TABLE status:  <backing|-> <ram_mb> <#feature_args> <key value>...
 *   INFO status:   <mode> followed by ILIO_ST_NR_V1 (older modules) or
 *                  ILIO_ST_NR unsigned decimal counters (enum ilio_stat);
 *                  later versions may append fields, which are ignored.
 *   message:       clear_stats
 *
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad arguments.
 *
 * Error reporting: libdevmapper's own log output is captured (errors only)
 * and printed after ilioctl's one-line explanation of what failed.  Table
 * load and message failures also show the kernel's reason, read back from
 * /dev/kmsg (ti->error only reaches the kernel log).
 */

#define _GNU_SOURCE

#include <ctype.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <blkid/blkid.h>
#include <libdevmapper.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>

/*
 * Kernel helpers that userspace headers lack.  __printf() is written through
 * ilio_attr() because checkpatch asks for __printf() wherever a format
 * attribute is spelled out, including in the definition of __printf().
 */
#define ilio_attr(x)		__attribute__(x)
#define __printf(a, b)		ilio_attr((format(printf, a, b)))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/*
 * The on-disk format (dm-ilio/ilio-format.h) and its builders and
 * validators (dm-ilio/ilio-meta.[ch]) use the kernel's short type names.
 * ilio-meta.c itself is compiled against tests/shim, whose <linux/types.h>
 * defines these same types; this file uses the system's uapi headers, which
 * lack them.
 */
typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;
#define __packed		ilio_attr((packed))

#include "ilio-meta.h"

#define ILIOCTL_VERSION		"0.1.0"
#define ILIO_TARGET		"ilio"

#define ILIO_EXIT_OK		0
#define ILIO_EXIT_FAIL		1
#define ILIO_EXIT_USAGE		2

#define ILIO_SECTOR_SHIFT	9
#define ILIO_MIB_SHIFT		20
#define ILIO_SIZE_ALIGN		4096ULL

/* Longest device name the kernel accepts (DM_NAME_LEN includes the NUL). */
#define ILIO_NAME_MAX		(DM_NAME_LEN - 1)

/* Buffer for one table parameter string (backing path plus features). */
#define ILIO_PARAMS_MAX		(4096 + 256)

/* libdevmapper log levels (lib/log/log.h); the level is in the low bits. */
#define ILIO_DM_LOG_LEVEL_MASK	0x0f
#define ILIO_DM_LOG_ERR		3

#define ILIO_DM_LOG_LINES	8
#define ILIO_DM_LOG_LINE_LEN	512

/**
 * enum ilio_stat - numeric INFO status fields, in kernel order.
 *
 * The INFO line is "<mode> <field 2> ... <field 23>"; the mode word is field
 * 1 and is kept apart in &struct ilio_status.  Modules older than
 * persistent mode print fields 1..17 only (ILIO_ST_NR_V1 counters).
 */
enum ilio_stat {
	ILIO_ST_LOGICAL_BYTES,
	ILIO_ST_UNIQUE_BYTES,
	ILIO_ST_STORED_BYTES,
	ILIO_ST_RAM_USED_BYTES,
	ILIO_ST_RAM_LIMIT_BYTES,
	ILIO_ST_DEDUP_HITS,
	ILIO_ST_ZERO_BLOCKS,
	ILIO_ST_FRONT_READ_IOS,
	ILIO_ST_FRONT_READ_BYTES,
	ILIO_ST_FRONT_WRITE_IOS,
	ILIO_ST_FRONT_WRITE_BYTES,
	ILIO_ST_BACKEND_READ_IOS,
	ILIO_ST_BACKEND_READ_BYTES,
	ILIO_ST_BACKEND_WRITE_IOS,
	ILIO_ST_BACKEND_WRITE_BYTES,
	ILIO_ST_NOSPC_ERRORS,
	/* Fields 18..23, appended with persistent mode. */
	ILIO_ST_DIRTY_BYTES,
	ILIO_ST_CACHE_HITS,
	ILIO_ST_CACHE_MISSES,
	ILIO_ST_FLUSHES,
	ILIO_ST_GC_MOVED_BYTES,
	ILIO_ST_GC_FREED_SEGMENTS,
	ILIO_ST_NR
};

/* Counters an older module prints: fields 2..17. */
#define ILIO_ST_NR_V1		(ILIO_ST_NOSPC_ERRORS + 1)

/* JSON key of each field; also documents the order. */
static const char * const ilio_stat_names[ILIO_ST_NR] = {
	[ILIO_ST_LOGICAL_BYTES]		= "logical_bytes",
	[ILIO_ST_UNIQUE_BYTES]		= "unique_bytes",
	[ILIO_ST_STORED_BYTES]		= "stored_bytes",
	[ILIO_ST_RAM_USED_BYTES]	= "ram_used_bytes",
	[ILIO_ST_RAM_LIMIT_BYTES]	= "ram_limit_bytes",
	[ILIO_ST_DEDUP_HITS]		= "dedup_hits",
	[ILIO_ST_ZERO_BLOCKS]		= "zero_blocks",
	[ILIO_ST_FRONT_READ_IOS]	= "front_read_ios",
	[ILIO_ST_FRONT_READ_BYTES]	= "front_read_bytes",
	[ILIO_ST_FRONT_WRITE_IOS]	= "front_write_ios",
	[ILIO_ST_FRONT_WRITE_BYTES]	= "front_write_bytes",
	[ILIO_ST_BACKEND_READ_IOS]	= "backend_read_ios",
	[ILIO_ST_BACKEND_READ_BYTES]	= "backend_read_bytes",
	[ILIO_ST_BACKEND_WRITE_IOS]	= "backend_write_ios",
	[ILIO_ST_BACKEND_WRITE_BYTES]	= "backend_write_bytes",
	[ILIO_ST_NOSPC_ERRORS]		= "nospc_errors",
	[ILIO_ST_DIRTY_BYTES]		= "dirty_bytes",
	[ILIO_ST_CACHE_HITS]		= "cache_hits",
	[ILIO_ST_CACHE_MISSES]		= "cache_misses",
	[ILIO_ST_FLUSHES]		= "flushes",
	[ILIO_ST_GC_MOVED_BYTES]	= "gc_moved_bytes",
	[ILIO_ST_GC_FREED_SEGMENTS]	= "gc_freed_segments",
};

/**
 * struct ilio_status - parsed INFO status of one ilio target.
 * @mode: mode word (write, read-only, fail, or a later one).
 * @nr: counters the line had: ILIO_ST_NR_V1 or ILIO_ST_NR.
 * @v: numeric fields, indexed by &enum ilio_stat; those at @nr and above
 *	are 0.
 */
struct ilio_status {
	char mode[32];
	int nr;
	unsigned long long v[ILIO_ST_NR];
};

/**
 * struct ilio_table - parsed TABLE status of one ilio target.
 * @backing: backing device as the kernel prints it, "-" when diskless.
 * @ram_mb: RAM budget in MiB.
 * @features: feature key/value pairs without their count ("" if none).
 */
struct ilio_table {
	char *backing;
	unsigned long long ram_mb;
	char *features;
};

/**
 * struct ilio_dev - one ilio device, as read from the kernel or from
 * --parse-status/--parse-table.
 * @name: device-mapper name.
 * @start: first sector of the target (0 for a one-target ilio device).
 * @len: target length in 512-byte sectors.
 * @st: INFO status.
 * @has_table: @tb is valid.
 * @tb: TABLE status.
 * @has_capped: @capped was read from sysfs (a live device on a module that
 *	has the file).
 * @capped: /sys/block/dm-N/ilio/dedup_candidates_capped, which the status
 *	line does not carry.
 */
struct ilio_dev {
	char name[DM_NAME_LEN];
	unsigned long long start;
	unsigned long long len;
	struct ilio_status st;
	bool has_table;
	struct ilio_table tb;
	bool has_capped;
	unsigned long long capped;
};

/**
 * struct ilio_derived - ratios computed from a status; a has_* flag is false
 * when the ratio is undefined (zero denominator).
 */
struct ilio_derived {
	bool has_dedup;
	double dedup_ratio;		/* logical / unique */
	bool has_compress;
	double compress_ratio;		/* unique / stored */
	bool has_savings;
	double savings_pct;		/* 100 * (1 - stored / logical) */
	bool has_ram;
	double ram_pct;			/* 100 * used / limit */
	bool has_offload;
	double offload_pct;		/* 100 * (1 - backend I/Os / front I/Os) */
	bool has_write_offload;
	double write_offload;		/* front write I/Os / backend write I/Os */
	bool has_read_offload;
	double read_offload_pct;	/* 100 * hits / (hits + misses) */
	bool has_ram_reads;
	double ram_reads_pct;		/* 100 * (1 - backend / front read I/Os) */
	bool has_avg_write;
	double avg_write;		/* backend bytes / I/O, writes */
	bool has_avg_read;
	double avg_read;		/* backend bytes / I/O, reads */
};

/* ------------------------------------------------------------------------
 * Messages
 */

static bool ilio_verbose;

static void __printf(1, 2) ilio_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("ilioctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Report bad usage; returns the usage exit code. */
static int __printf(1, 2) ilio_usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("ilioctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ilioctl --help' for more information.\n", stderr);
	return ILIO_EXIT_USAGE;
}

static const char ilio_help_text[] =
"Usage: ilioctl COMMAND [ARGS]\n"
"\n"
"Manage dm-ilio devices (device-mapper target \"ilio\": RAM cache with\n"
"deduplication and compression) and their backing devices.\n"
"\n"
"Commands:\n"
"  create NAME (--diskless | --backing DEV) --size SIZE --ram SIZE [OPTIONS]\n"
"      Create /dev/mapper/NAME.\n"
"        --diskless           no backing device: data lives in RAM only\n"
"        --backing DEV        backing block device (persistent mode),\n"
"                             prepared with \"ilioctl format DEV\"\n"
"        --size SIZE          logical size, a multiple of 4 KiB\n"
"        --ram SIZE           RAM budget, a whole number of MiB (>= 4M)\n"
"        --no-dedup           disable deduplication (default: on)\n"
"        --no-compress        disable compression (default: lz4)\n"
"        --block-size N       4096 (default) or 512\n"
"        --coalesce MODE      persistent: auto (default), always or off\n"
"        --flush-interval-ms N\n"
"                             persistent: write-back interval in ms,\n"
"                             0..3600000 (kernel default 1000)\n"
"        --max-dirty SIZE     persistent: bound on dirty data, whole MiB,\n"
"                             at most --ram (kernel default: --ram / 4)\n"
"        -n, --dry-run        print the table line, change nothing\n"
"        -v, --verbose        print the table line that is loaded\n"
"  remove NAME\n"
"      Remove ilio device NAME.\n"
"  status [NAME] [--json]\n"
"      Show statistics of NAME, or of every ilio device.\n"
"        -j, --json           JSON array, one object per device\n"
"        --parse-status LINE  (testing) render LINE, \"NAME <start> <len> ilio\n"
"                             <info fields>...\", instead of asking the\n"
"                             kernel; may be repeated\n"
"        --parse-table LINE   (testing) TABLE status for a --parse-status\n"
"                             device, \"NAME <start> <len> ilio <table>...\"\n"
"  clear-stats NAME\n"
"      Reset the I/O and dedup counters of NAME.\n"
"  format DEV [--segment-kb N] [--force] [--dry-run]\n"
"      Write an empty ilio store (persistent mode) to DEV, a block device\n"
"      or an image file.  Refuses a device in use, and one that holds a\n"
"      filesystem, partition table, LVM/RAID member, swap or ilio store.\n"
"        --segment-kb N       segment size in KiB, a power of two from 64\n"
"                             to 32768 (default 1024)\n"
"        -f, --force          overwrite (and wipe) whatever DEV holds\n"
"        -n, --dry-run        check and report, write nothing\n"
"  info DEV\n"
"      Show DEV's ilio superblocks and anchor slots (read-only).\n"
"  help\n"
"      Show this help.\n"
"\n"
"Options: -h, --help (this help), -V, --version (version).\n"
"\n"
"SIZE is a number of bytes with an optional binary suffix K, M, G or T,\n"
"optionally followed by B or iB, any case: 4096, 512M, 8G, 1TiB.\n"
"\n"
"Exit status: 0 success, 1 failure, 2 bad usage.\n";

/* ------------------------------------------------------------------------
 * Argument parsing
 */

enum ilio_opt_id {
	ILIO_OPT_HELP = 1,
	ILIO_OPT_VERBOSE,
	ILIO_OPT_DRY_RUN,
	ILIO_OPT_DISKLESS,
	ILIO_OPT_BACKING,
	ILIO_OPT_SIZE,
	ILIO_OPT_RAM,
	ILIO_OPT_NO_DEDUP,
	ILIO_OPT_NO_COMPRESS,
	ILIO_OPT_BLOCK_SIZE,
	ILIO_OPT_JSON,
	ILIO_OPT_PARSE_STATUS,
	ILIO_OPT_PARSE_TABLE,
	ILIO_OPT_COALESCE,
	ILIO_OPT_FLUSH_INTERVAL,
	ILIO_OPT_MAX_DIRTY,
	ILIO_OPT_SEGMENT_KB,
	ILIO_OPT_FORCE,
};

/**
 * struct ilio_opt - one accepted option of a command.
 * @name: long name without the leading "--".
 * @short_name: single-letter form, or 0.
 * @has_arg: takes a value ("--opt VALUE" or "--opt=VALUE").
 * @id: value returned by ilio_next_arg().
 */
struct ilio_opt {
	const char *name;
	char short_name;
	bool has_arg;
	enum ilio_opt_id id;
};

/**
 * struct ilio_args - iterator over a command's arguments.
 * @argc: number of arguments.
 * @argv: the arguments (after the command word).
 * @i: next argument to look at.
 * @no_more_opts: "--" was seen; everything after it is positional.
 */
struct ilio_args {
	int argc;
	char **argv;
	int i;
	bool no_more_opts;
};

#define ILIO_ARG_END		(-1)
#define ILIO_ARG_ERROR		(-2)
#define ILIO_ARG_POSITIONAL	0

/*
 * ilio_next_arg() - fetch the next argument.
 *
 * Options match exactly (no abbreviations).  Returns the option id with
 * *value set to its argument (or NULL), ILIO_ARG_POSITIONAL with *value set
 * to the word, ILIO_ARG_END, or ILIO_ARG_ERROR after printing why.
 */
static int ilio_next_arg(struct ilio_args *it, const struct ilio_opt *opts,
			 const char **value)
{
	const struct ilio_opt *o;
	const char *arg, *eq;
	size_t len;

	*value = NULL;
	if (it->i >= it->argc)
		return ILIO_ARG_END;
	arg = it->argv[it->i++];

	if (it->no_more_opts || arg[0] != '-' || arg[1] == '\0') {
		*value = arg;
		return ILIO_ARG_POSITIONAL;
	}

	if (arg[1] != '-') {
		/* Single short option; no bundling, no short option takes a value. */
		for (o = opts; o->name; o++) {
			if (o->short_name && !o->has_arg &&
			    arg[1] == o->short_name && arg[2] == '\0')
				return o->id;
		}
		ilio_usage_err("unknown option '%s'", arg);
		return ILIO_ARG_ERROR;
	}

	if (arg[2] == '\0') {
		it->no_more_opts = true;
		return ilio_next_arg(it, opts, value);
	}

	eq = strchr(arg + 2, '=');
	len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
	for (o = opts; o->name; o++) {
		if (strlen(o->name) != len || strncmp(o->name, arg + 2, len))
			continue;
		if (!o->has_arg) {
			if (eq) {
				ilio_usage_err("option '--%s' does not take an argument",
					       o->name);
				return ILIO_ARG_ERROR;
			}
			return o->id;
		}
		if (eq) {
			*value = eq + 1;
		} else if (it->i < it->argc) {
			*value = it->argv[it->i++];
		} else {
			ilio_usage_err("option '--%s' requires an argument",
				       o->name);
			return ILIO_ARG_ERROR;
		}
		return o->id;
	}
	ilio_usage_err("unknown option '%.*s'", (int)(len + 2), arg);
	return ILIO_ARG_ERROR;
}

/*
 * ilio_parse_u64() - strict unsigned decimal: digits only, no sign, no
 * spaces, no overflow.  Returns 0 or -EINVAL/-ERANGE.
 */
static int ilio_parse_u64(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int d = *s - '0';

		if (v > (ULLONG_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (*s)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * ilio_parse_size() - parse SIZE: decimal bytes with an optional binary
 * suffix K, M, G or T, optionally followed by "B" or "iB", any case.  A bare
 * trailing "B" means bytes.  Returns 0 or -EINVAL/-ERANGE.
 */
static int ilio_parse_size(const char *s, unsigned long long *bytes)
{
	unsigned int shift = 0;
	unsigned long long v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int d = *s - '0';

		if (v > (ULLONG_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}

	switch (tolower((unsigned char)*s)) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	}
	if (shift) {
		s++;
		if (tolower((unsigned char)*s) == 'i') {
			s++;
			if (tolower((unsigned char)*s) != 'b')
				return -EINVAL;
		}
	}
	if (tolower((unsigned char)*s) == 'b')
		s++;
	if (*s)
		return -EINVAL;

	if (shift && v > (ULLONG_MAX >> shift))
		return -ERANGE;
	*bytes = v << shift;
	return 0;
}

/*
 * ilio_check_name() - validate a device name given on the command line.
 * Prints the reason and returns ILIO_EXIT_USAGE, or returns 0.
 */
static int ilio_check_name(const char *name)
{
	if (!*name)
		return ilio_usage_err("device name must not be empty");
	if (strlen(name) > ILIO_NAME_MAX)
		return ilio_usage_err("device name too long (%zu characters, max %d)",
				      strlen(name), ILIO_NAME_MAX);
	if (strchr(name, '/'))
		return ilio_usage_err("invalid device name '%s': must not contain '/'",
				      name);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return ilio_usage_err("invalid device name '%s'", name);
	return 0;
}

/* ------------------------------------------------------------------------
 * Table line
 */

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
 * @flush_interval_ms: persistent mode: write-back interval, 0..3600000.
 * @max_dirty_mb: persistent mode: dirty data bound in MiB; 0: the
 *	kernel's default.
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
};

/* Bounds of the persistent-mode features (see ilio.rst, Constructor). */
#define ILIO_FLUSH_INTERVAL_MAX	3600000ULL

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

/* ------------------------------------------------------------------------
 * Status parsing
 */

/*
 * ilio_token() - copy the next whitespace-separated word of *p into buf and
 * advance *p past it.  Returns the word length, 0 at end of string, or -1
 * if the word does not fit in buf.
 */
static int ilio_token(const char **p, char *buf, size_t size)
{
	const char *s = *p, *start;
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	start = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	*p = s;
	len = s - start;
	if (len >= size)
		return -1;
	memcpy(buf, start, len);
	buf[len] = '\0';
	return (int)len;
}

/* Skip leading whitespace. */
static const char *ilio_skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/*
 * ilio_parse_status() - parse an INFO status parameter string (what follows
 * the target type): 17 fields (older modules) or 23.  Fields after the ones
 * we know are ignored.  Returns 0, or -EPROTO if the line has fewer than 17
 * fields, between 18 and 22, or a malformed one.
 */
static int ilio_parse_status(const char *params, struct ilio_status *st)
{
	const char *p = params;
	char tok[32];
	int i, n;

	memset(st->v, 0, sizeof(st->v));
	if (ilio_token(&p, st->mode, sizeof(st->mode)) <= 0)
		return -EPROTO;
	for (i = 0; i < ILIO_ST_NR; i++) {
		n = ilio_token(&p, tok, sizeof(tok));
		/* An older module ends after field 17. */
		if (n == 0 && i == ILIO_ST_NR_V1)
			break;
		if (n <= 0 || ilio_parse_u64(tok, &st->v[i]))
			return -EPROTO;
	}
	st->nr = i;
	return 0;
}

static void ilio_table_free(struct ilio_table *tb)
{
	free(tb->backing);
	free(tb->features);
	tb->backing = NULL;
	tb->features = NULL;
}

/*
 * ilio_parse_table() - parse a TABLE status parameter string:
 * "<backing|-> <ram_mb> [<#feature_args> <feature_args>...]".  Returns 0,
 * -EPROTO if malformed, or -ENOMEM.
 */
static int ilio_parse_table(const char *params, struct ilio_table *tb)
{
	const char *p = params;
	char backing[ILIO_PARAMS_MAX], tok[32];
	unsigned long long nr;

	memset(tb, 0, sizeof(*tb));
	if (ilio_token(&p, backing, sizeof(backing)) <= 0 ||
	    ilio_token(&p, tok, sizeof(tok)) <= 0 ||
	    ilio_parse_u64(tok, &tb->ram_mb))
		return -EPROTO;
	/* The feature count is implied by the pairs that follow it. */
	if (ilio_token(&p, tok, sizeof(tok)) > 0 && ilio_parse_u64(tok, &nr))
		return -EPROTO;

	tb->backing = strdup(backing);
	tb->features = strdup(ilio_skip_space(p));
	if (!tb->backing || !tb->features) {
		ilio_table_free(tb);
		return -ENOMEM;
	}
	return 0;
}

static bool ilio_dev_diskless(const struct ilio_dev *dev)
{
	return dev->has_table && !strcmp(dev->tb.backing, "-");
}

/* Known to have a backing device (persistent mode)? */
static bool ilio_dev_persistent(const struct ilio_dev *dev)
{
	return dev->has_table && strcmp(dev->tb.backing, "-");
}

static void ilio_derive(const struct ilio_dev *dev, struct ilio_derived *d)
{
	const unsigned long long *v = dev->st.v;
	double front_ios, backend_ios;

	memset(d, 0, sizeof(*d));

	if (v[ILIO_ST_UNIQUE_BYTES]) {
		d->has_dedup = true;
		d->dedup_ratio = (double)v[ILIO_ST_LOGICAL_BYTES] /
				 (double)v[ILIO_ST_UNIQUE_BYTES];
	}
	if (v[ILIO_ST_STORED_BYTES]) {
		d->has_compress = true;
		d->compress_ratio = (double)v[ILIO_ST_UNIQUE_BYTES] /
				    (double)v[ILIO_ST_STORED_BYTES];
	}
	if (v[ILIO_ST_LOGICAL_BYTES]) {
		d->has_savings = true;
		d->savings_pct = 100.0 *
			((double)v[ILIO_ST_LOGICAL_BYTES] -
			 (double)v[ILIO_ST_STORED_BYTES]) /
			(double)v[ILIO_ST_LOGICAL_BYTES];
	}
	if (v[ILIO_ST_RAM_LIMIT_BYTES]) {
		d->has_ram = true;
		d->ram_pct = 100.0 * (double)v[ILIO_ST_RAM_USED_BYTES] /
			     (double)v[ILIO_ST_RAM_LIMIT_BYTES];
	}

	front_ios = (double)v[ILIO_ST_FRONT_READ_IOS] +
		    (double)v[ILIO_ST_FRONT_WRITE_IOS];
	backend_ios = (double)v[ILIO_ST_BACKEND_READ_IOS] +
		      (double)v[ILIO_ST_BACKEND_WRITE_IOS];
	if (ilio_dev_diskless(dev)) {
		/* Nothing can reach a backend that does not exist. */
		d->has_offload = true;
		d->offload_pct = 100.0;
	} else if (front_ios > 0) {
		d->has_offload = true;
		d->offload_pct = 100.0 * (front_ios - backend_ios) / front_ios;
	}

	/*
	 * Persistent mode: how much the RAM tier spares the backend.  Each
	 * is defined by its denominator alone, so a diskless device gets
	 * "RAM-served reads" 100% and the rest undefined.
	 */
	if (v[ILIO_ST_BACKEND_WRITE_IOS]) {
		d->has_write_offload = true;
		d->write_offload = (double)v[ILIO_ST_FRONT_WRITE_IOS] /
				   (double)v[ILIO_ST_BACKEND_WRITE_IOS];
		d->has_avg_write = true;
		d->avg_write = (double)v[ILIO_ST_BACKEND_WRITE_BYTES] /
			       (double)v[ILIO_ST_BACKEND_WRITE_IOS];
	}
	if (v[ILIO_ST_BACKEND_READ_IOS]) {
		d->has_avg_read = true;
		d->avg_read = (double)v[ILIO_ST_BACKEND_READ_BYTES] /
			      (double)v[ILIO_ST_BACKEND_READ_IOS];
	}
	if (v[ILIO_ST_CACHE_HITS] || v[ILIO_ST_CACHE_MISSES]) {
		d->has_read_offload = true;
		d->read_offload_pct = 100.0 * (double)v[ILIO_ST_CACHE_HITS] /
			((double)v[ILIO_ST_CACHE_HITS] +
			 (double)v[ILIO_ST_CACHE_MISSES]);
	}
	if (v[ILIO_ST_FRONT_READ_IOS]) {
		d->has_ram_reads = true;
		d->ram_reads_pct = 100.0 *
			((double)v[ILIO_ST_FRONT_READ_IOS] -
			 (double)v[ILIO_ST_BACKEND_READ_IOS]) /
			(double)v[ILIO_ST_FRONT_READ_IOS];
	}
}

/* ------------------------------------------------------------------------
 * Rendering
 */

static const char * const ilio_units[] = {
	"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
};

/* "512 B", "1.50 GiB" */
static const char *ilio_human(unsigned long long bytes, char *buf, size_t size)
{
	const int last = (int)ARRAY_SIZE(ilio_units) - 1;
	double v = (double)bytes;
	int i = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%llu B", bytes);
		return buf;
	}
	do {
		v /= 1024;
		i++;
	} while (v >= 1024 && i < last);
	/* Do not print "1024.00 KiB" when rounding reaches the next unit. */
	if (v >= 1023.995 && i < last) {
		v /= 1024;
		i++;
	}
	snprintf(buf, size, "%.2f %s", v, ilio_units[i]);
	return buf;
}

static const char *ilio_fmt_ratio(bool valid, double r, char *buf, size_t size)
{
	if (!valid)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.2fx", r);
	return buf;
}

static const char *ilio_fmt_pct(bool valid, double pct, char *buf, size_t size)
{
	if (!valid)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f%%", pct);
	return buf;
}

/* Write offload: "12.5x". */
static const char *ilio_fmt_times(bool valid, double r, char *buf, size_t size)
{
	if (!valid)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1fx", r);
	return buf;
}

/* An average size in bytes, rounded to whole bytes; "-" if undefined. */
static const char *ilio_fmt_avg(bool valid, double bytes, char *buf, size_t size)
{
	if (!valid)
		snprintf(buf, size, "-");
	else
		ilio_human((unsigned long long)(bytes + 0.5), buf, size);
	return buf;
}

#define ILIO_ROW(label, fmt, ...) printf("  %-20s " fmt "\n", label, __VA_ARGS__)

static void ilio_print_io_row(const char *label, unsigned long long ios, unsigned long long bytes)
{
	char h[32];

	ILIO_ROW(label, "%llu I/Os, %s", ios, ilio_human(bytes, h, sizeof(h)));
}

static void ilio_print_human(const struct ilio_dev *dev)
{
	const unsigned long long *v = dev->st.v;
	bool ext = dev->st.nr > ILIO_ST_NR_V1;
	struct ilio_derived d;
	char a[32], b[32], c[32];

	ilio_derive(dev, &d);

	printf("%s\n", dev->name);
	ILIO_ROW("mode", "%s", dev->st.mode);
	if (dev->has_table) {
		ILIO_ROW("backing", "%s", ilio_dev_diskless(dev) ?
			 "none (diskless)" : dev->tb.backing);
		ILIO_ROW("features", "%s", *dev->tb.features ?
			 dev->tb.features : "-");
	}
	ILIO_ROW("logical size", "%s",
		 ilio_human(dev->len << ILIO_SECTOR_SHIFT, a, sizeof(a)));
	ILIO_ROW("logical data stored", "%s",
		 ilio_human(v[ILIO_ST_LOGICAL_BYTES], a, sizeof(a)));
	ILIO_ROW("unique", "%s", ilio_human(v[ILIO_ST_UNIQUE_BYTES], a, sizeof(a)));
	ILIO_ROW("stored (compressed)", "%s",
		 ilio_human(v[ILIO_ST_STORED_BYTES], a, sizeof(a)));
	ILIO_ROW("dedup ratio", "%s",
		 ilio_fmt_ratio(d.has_dedup, d.dedup_ratio, a, sizeof(a)));
	ILIO_ROW("compression ratio", "%s",
		 ilio_fmt_ratio(d.has_compress, d.compress_ratio, a, sizeof(a)));
	ILIO_ROW("total savings", "%s",
		 ilio_fmt_pct(d.has_savings, d.savings_pct, a, sizeof(a)));
	ILIO_ROW("RAM used / limit", "%s / %s (%s)",
		 ilio_human(v[ILIO_ST_RAM_USED_BYTES], a, sizeof(a)),
		 ilio_human(v[ILIO_ST_RAM_LIMIT_BYTES], b, sizeof(b)),
		 ilio_fmt_pct(d.has_ram, d.ram_pct, c, sizeof(c)));
	if (ext)
		ILIO_ROW("dirty", "%s",
			 ilio_human(v[ILIO_ST_DIRTY_BYTES], a, sizeof(a)));
	ILIO_ROW("dedup hits", "%llu", v[ILIO_ST_DEDUP_HITS]);
	if (dev->has_capped)
		ILIO_ROW("dedup capped", "%llu", dev->capped);
	ILIO_ROW("zero blocks", "%llu", v[ILIO_ST_ZERO_BLOCKS]);
	ilio_print_io_row("front reads", v[ILIO_ST_FRONT_READ_IOS],
			  v[ILIO_ST_FRONT_READ_BYTES]);
	ilio_print_io_row("front writes", v[ILIO_ST_FRONT_WRITE_IOS],
			  v[ILIO_ST_FRONT_WRITE_BYTES]);
	ilio_print_io_row("backend reads", v[ILIO_ST_BACKEND_READ_IOS],
			  v[ILIO_ST_BACKEND_READ_BYTES]);
	ilio_print_io_row("backend writes", v[ILIO_ST_BACKEND_WRITE_IOS],
			  v[ILIO_ST_BACKEND_WRITE_BYTES]);
	ILIO_ROW("I/O offload", "%s",
		 ilio_fmt_pct(d.has_offload, d.offload_pct, a, sizeof(a)));
	if (ilio_dev_persistent(dev)) {
		ILIO_ROW("write offload", "%s",
			 ilio_fmt_times(d.has_write_offload, d.write_offload,
					a, sizeof(a)));
		ILIO_ROW("read offload", "%s",
			 ilio_fmt_pct(d.has_read_offload, d.read_offload_pct,
				      a, sizeof(a)));
		ILIO_ROW("RAM-served reads", "%s",
			 ilio_fmt_pct(d.has_ram_reads, d.ram_reads_pct, a,
				      sizeof(a)));
		ILIO_ROW("avg backend write", "%s",
			 ilio_fmt_avg(d.has_avg_write, d.avg_write, a, sizeof(a)));
		ILIO_ROW("avg backend read", "%s",
			 ilio_fmt_avg(d.has_avg_read, d.avg_read, a, sizeof(a)));
	}
	if (ext) {
		ILIO_ROW("cache hits / misses", "%llu / %llu",
			 v[ILIO_ST_CACHE_HITS], v[ILIO_ST_CACHE_MISSES]);
		ILIO_ROW("flushes", "%llu", v[ILIO_ST_FLUSHES]);
		ILIO_ROW("GC moved", "%s",
			 ilio_human(v[ILIO_ST_GC_MOVED_BYTES], a, sizeof(a)));
		ILIO_ROW("GC freed segments", "%llu",
			 v[ILIO_ST_GC_FREED_SEGMENTS]);
	}
	ILIO_ROW("ENOSPC errors", "%llu", v[ILIO_ST_NOSPC_ERRORS]);
}

/*
 * ilio_json_string() - print s as a JSON string.  Valid UTF-8 passes
 * through; control characters and bytes that are not valid UTF-8 are
 * escaped as \u00XX (the byte read as Latin-1), so the output is always
 * valid JSON.
 */
static void ilio_json_string(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	putchar('"');
	while (*s) {
		unsigned char c = *s;
		int n = 0, i;

		if (c == '"' || c == '\\') {
			printf("\\%c", c);
			s++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n':
				fputs("\\n", stdout);
				break;
			case '\t':
				fputs("\\t", stdout);
				break;
			case '\r':
				fputs("\\r", stdout);
				break;
			default:
				printf("\\u%04x", c);
			}
			s++;
			continue;
		}
		if (c < 0x80) {
			putchar(c);
			s++;
			continue;
		}
		/* Multi-byte UTF-8: lead byte, then n continuation bytes. */
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3;
		for (i = 1; n && i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				n = 0;
		}
		/* Reject overlong, surrogate and out-of-range forms. */
		if (n == 2 && ((c == 0xe0 && s[1] < 0xa0) ||
			       (c == 0xed && s[1] > 0x9f)))
			n = 0;
		if (n == 3 && ((c == 0xf0 && s[1] < 0x90) ||
			       (c == 0xf4 && s[1] > 0x8f)))
			n = 0;
		if (!n) {
			printf("\\u%04x", c);
			s++;
			continue;
		}
		fwrite(s, 1, n + 1, stdout);
		s += n + 1;
	}
	putchar('"');
}

static void ilio_json_key(const char *key)
{
	printf(",\n    \"%s\": ", key);
}

static void ilio_json_num(const char *key, bool valid, double v)
{
	ilio_json_key(key);
	if (valid)
		printf("%.4f", v);
	else
		fputs("null", stdout);
}

static void ilio_print_json(const struct ilio_dev *dev)
{
	struct ilio_derived d;
	int i;

	ilio_derive(dev, &d);

	fputs("  {\n    \"name\": ", stdout);
	ilio_json_string(dev->name);
	ilio_json_key("mode");
	ilio_json_string(dev->st.mode);
	ilio_json_key("start_sector");
	printf("%llu", dev->start);
	ilio_json_key("length_sectors");
	printf("%llu", dev->len);
	ilio_json_key("size_bytes");
	printf("%llu", dev->len << ILIO_SECTOR_SHIFT);

	ilio_json_key("backing");
	if (dev->has_table)
		ilio_json_string(dev->tb.backing);
	else
		fputs("null", stdout);
	ilio_json_key("diskless");
	fputs(!dev->has_table ? "null" :
	      ilio_dev_diskless(dev) ? "true" : "false", stdout);
	ilio_json_key("ram_mb");
	if (dev->has_table)
		printf("%llu", dev->tb.ram_mb);
	else
		fputs("null", stdout);
	ilio_json_key("features");
	if (dev->has_table)
		ilio_json_string(dev->tb.features);
	else
		fputs("null", stdout);

	ilio_json_key("status_fields");
	printf("%d", dev->st.nr + 1);
	for (i = 0; i < ILIO_ST_NR; i++) {
		ilio_json_key(ilio_stat_names[i]);
		if (i < dev->st.nr)
			printf("%llu", dev->st.v[i]);
		else
			fputs("null", stdout);
	}

	ilio_json_key("dedup_candidates_capped");
	if (dev->has_capped)
		printf("%llu", dev->capped);
	else
		fputs("null", stdout);

	ilio_json_num("dedup_ratio", d.has_dedup, d.dedup_ratio);
	ilio_json_num("compression_ratio", d.has_compress, d.compress_ratio);
	ilio_json_num("savings_percent", d.has_savings, d.savings_pct);
	ilio_json_num("ram_used_percent", d.has_ram, d.ram_pct);
	ilio_json_num("io_offload_percent", d.has_offload, d.offload_pct);
	ilio_json_num("write_offload_ratio", d.has_write_offload,
		      d.write_offload);
	ilio_json_num("read_offload_percent", d.has_read_offload,
		      d.read_offload_pct);
	ilio_json_num("ram_served_reads_percent", d.has_ram_reads,
		      d.ram_reads_pct);
	ilio_json_num("avg_backend_write_bytes", d.has_avg_write, d.avg_write);
	ilio_json_num("avg_backend_read_bytes", d.has_avg_read, d.avg_read);
	fputs("\n  }", stdout);
}

static void ilio_print_devs(const struct ilio_dev *devs, size_t nr, bool json)
{
	size_t i;

	if (json) {
		if (!nr) {
			puts("[]");
			return;
		}
		puts("[");
		for (i = 0; i < nr; i++) {
			ilio_print_json(&devs[i]);
			puts(i + 1 < nr ? "," : "");
		}
		puts("]");
		return;
	}

	if (!nr) {
		puts("no ilio devices");
		return;
	}
	for (i = 0; i < nr; i++) {
		if (i)
			putchar('\n');
		ilio_print_human(&devs[i]);
	}
}

/* ------------------------------------------------------------------------
 * libdevmapper glue
 */

/*
 * libdevmapper logs through ilio_dm_log(): errors are kept (last
 * ILIO_DM_LOG_LINES) and printed by ilio_fail() under ilioctl's own message,
 * everything else is dropped unless ILIOCTL_DEBUG is set in the environment.
 */
static char ilio_dm_log_buf[ILIO_DM_LOG_LINES][ILIO_DM_LOG_LINE_LEN];
static unsigned int ilio_dm_log_nr;
static bool ilio_dm_debug;

static void __printf(5, 6)
ilio_dm_log(int level, const char *file, int line, int dm_errno_or_class,
	    const char *f, ...)
{
	char line_buf[ILIO_DM_LOG_LINE_LEN];
	va_list ap;
	char *slot;

	(void)dm_errno_or_class;
	level &= ILIO_DM_LOG_LEVEL_MASK;

	if (ilio_dm_debug) {
		fprintf(stderr, "ilioctl: libdevmapper[%d] %s:%d: ", level, file,
			line);
		va_start(ap, f);
		vfprintf(stderr, f, ap);
		va_end(ap);
		fputc('\n', stderr);
		return;
	}
	if (level > ILIO_DM_LOG_ERR)
		return;

	va_start(ap, f);
	vsnprintf(line_buf, sizeof(line_buf), f, ap);
	va_end(ap);
	/* libdevmapper repeats itself while retrying a busy remove. */
	if (ilio_dm_log_nr &&
	    !strcmp(ilio_dm_log_buf[ilio_dm_log_nr - 1], line_buf))
		return;

	if (ilio_dm_log_nr == ILIO_DM_LOG_LINES) {
		memmove(ilio_dm_log_buf[0], ilio_dm_log_buf[1],
			sizeof(ilio_dm_log_buf[0]) * (ILIO_DM_LOG_LINES - 1));
		ilio_dm_log_nr--;
	}
	slot = ilio_dm_log_buf[ilio_dm_log_nr++];
	memcpy(slot, line_buf, sizeof(line_buf));
}

static void ilio_dm_log_discard(void)
{
	ilio_dm_log_nr = 0;
}

/*
 * Kernel log capture.  A target reports why it refused a table or a message
 * only through DMERR(), i.e. the kernel log.  ilio_kmsg_begin() positions a
 * /dev/kmsg reader at the end of the log before the operation, and
 * ilio_kmsg_report() prints the device-mapper records logged since.
 */
static int ilio_kmsg_fd = -1;

static void ilio_kmsg_begin(void)
{
	ilio_kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (ilio_kmsg_fd >= 0 && lseek(ilio_kmsg_fd, 0, SEEK_END) < 0) {
		close(ilio_kmsg_fd);
		ilio_kmsg_fd = -1;
	}
}

static void ilio_kmsg_end(void)
{
	if (ilio_kmsg_fd >= 0)
		close(ilio_kmsg_fd);
	ilio_kmsg_fd = -1;
}

static void ilio_kmsg_report(void)
{
	char rec[8192];
	ssize_t n;

	if (ilio_kmsg_fd < 0) {
		ilio_msg("(the kernel's reason, if any, is in the kernel log: dmesg)");
		return;
	}
	for (;;) {
		char *msg, *nl;

		n = read(ilio_kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && (errno == EINTR || errno == EPIPE))
			continue;	/* EPIPE: a record was overwritten */
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "<prio>,<seq>,<usec>,<flags>;<text>\n[ KEY=value\n...]" */
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = '\0';
		if (strstr(msg, "device-mapper") || strstr(msg, ILIO_TARGET))
			ilio_msg("kernel: %s", msg);
	}
	ilio_kmsg_end();
}

/*
 * ilio_fail() - report a runtime failure: our message, then the
 * libdevmapper errors that led to it.  Returns ILIO_EXIT_FAIL.
 */
static int __printf(1, 2) ilio_fail(const char *fmt, ...)
{
	unsigned int i;
	va_list ap;

	fputs("ilioctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (i = 0; i < ilio_dm_log_nr; i++)
		ilio_msg("  %s", ilio_dm_log_buf[i]);
	ilio_dm_log_discard();
	return ILIO_EXIT_FAIL;
}

/*
 * ilio_dm_available() - check that the device-mapper control node can be
 * opened, before libdevmapper tries (and, with no device-mapper in the
 * kernel, creates a useless /dev/mapper/control node).  Opening the node
 * also lets the kernel autoload dm_mod.  Returns 0, or ILIO_EXIT_FAIL after
 * printing why.
 */
static int ilio_dm_available(void)
{
	char path[4096];
	int fd, err;
	FILE *f;

	snprintf(path, sizeof(path), "%s/control", dm_dir());
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	err = errno;

	switch (err) {
	case ENOENT:
		/* libdevmapper creates the node if the kernel has the driver. */
		f = fopen("/proc/misc", "re");
		if (f) {
			char line[256];
			bool found = false;

			while (!found && fgets(line, sizeof(line), f))
				found = !!strstr(line, " device-mapper");
			fclose(f);
			if (found)
				return 0;
		}
		return ilio_fail("device-mapper is not available: %s is missing (modprobe dm_mod)",
				 path);
	case ENODEV:
	case ENXIO:
		return ilio_fail("device-mapper is not available (modprobe dm_mod): %s: %s",
				 path, strerror(err));
	case EACCES:
	case EPERM:
		return ilio_fail("cannot open %s: %s (ilioctl needs root)", path,
				 strerror(err));
	default:
		return ilio_fail("cannot open %s: %s", path, strerror(err));
	}
}

/*
 * ilio_dm_target_loaded() - is the "ilio" target registered with the
 * kernel?  Returns 1, 0, or -EIO if the target list cannot be read.
 */
static int ilio_dm_target_loaded(void)
{
	struct dm_versions *t, *last;
	struct dm_task *dmt;
	int found = 0;

	dmt = dm_task_create(DM_DEVICE_LIST_VERSIONS);
	if (!dmt)
		return -EIO;
	if (!dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	t = dm_task_get_versions(dmt);
	if (!t) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	do {
		last = t;
		if (!strcmp(t->name, ILIO_TARGET))
			found = 1;
		t = (struct dm_versions *)((char *)t + t->next);
	} while (last != t && !found);
	dm_task_destroy(dmt);
	return found;
}

static int ilio_module_missing(void)
{
	return ilio_fail("dm-ilio kernel module is not loaded (modprobe dm-ilio)");
}

/*
 * ilio_dm_info() - DM_DEVICE_INFO on name.  Returns 0 with *info filled
 * (info->exists is 0 for an unknown name), or -EIO.
 */
static int ilio_dm_info(const char *name, struct dm_info *info)
{
	struct dm_task *dmt;
	int r = -EIO;

	dmt = dm_task_create(DM_DEVICE_INFO);
	if (!dmt)
		return -EIO;
	if (dm_task_set_name(dmt, name) && dm_task_run(dmt) &&
	    dm_task_get_info(dmt, info))
		r = 0;
	dm_task_destroy(dmt);
	return r;
}

/*
 * ilio_dm_fetch() - read the STATUS or TABLE line of name into dev.
 * Returns 0; -ENOENT if the device vanished; -EMEDIUMTYPE if its table is
 * not exactly one ilio target; -EPROTO if the line cannot be parsed (the
 * line is then in raw); -ENOMEM; or -EIO (libdevmapper error logged).
 */
static int ilio_dm_fetch(const char *name, int type, struct ilio_dev *dev,
			 char *raw, size_t raw_size)
{
	uint64_t start, len;
	char *target, *params;
	struct dm_task *dmt;
	void *next;
	int r, nr = 0;

	dmt = dm_task_create(type);
	if (!dmt)
		return -EIO;
	if (!dm_task_set_name(dmt, name)) {
		r = -EIO;
		goto out;
	}
	if (!dm_task_run(dmt)) {
		r = dm_task_get_errno(dmt) == ENXIO ? -ENOENT : -EIO;
		goto out;
	}

	r = -EMEDIUMTYPE;
	next = NULL;
	do {
		next = dm_get_next_target(dmt, next, &start, &len, &target,
					  &params);
		if (!target)
			break;
		if (nr++ || strcmp(target, ILIO_TARGET))
			goto out;
		dev->start = start;
		dev->len = len;
		snprintf(raw, raw_size, "%s", params ? params : "");
		r = 0;
	} while (next);
	if (r)
		goto out;

	if (type == DM_DEVICE_STATUS) {
		r = ilio_parse_status(raw, &dev->st);
	} else {
		r = ilio_parse_table(raw, &dev->tb);
		dev->has_table = !r;
	}
out:
	dm_task_destroy(dmt);
	return r;
}

static void ilio_dev_release(struct ilio_dev *dev)
{
	if (dev->has_table)
		ilio_table_free(&dev->tb);
	dev->has_table = false;
}

/*
 * ilio_read_sysfs() - read the counter /sys/dev/block/MAJ:MIN/ilio/NAME.
 * Returns 0 with *v set, or -ENOENT when there is no such file (an older
 * module) or it does not hold a number.
 */
static int ilio_read_sysfs(unsigned int maj, unsigned int min, const char *name,
			   unsigned long long *v)
{
	char path[128], buf[32];
	int r = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/ilio/%s", maj, min,
		 name);
	f = fopen(path, "re");
	if (!f)
		return -ENOENT;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (!ilio_parse_u64(buf, v))
			r = 0;
	}
	fclose(f);
	return r;
}

/*
 * ilio_dm_lookup() - find ilio device name and read its status and table.
 * Returns 0; -ENOENT (no such device); -EMEDIUMTYPE (not an ilio device);
 * -EPROTO (unparsable line, copied to raw); -ENOMEM; or -EIO.
 */
static int ilio_dm_lookup(const char *name, struct ilio_dev *dev, char *raw,
			  size_t raw_size)
{
	struct dm_info info;
	int r;

	memset(dev, 0, sizeof(*dev));
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	*raw = '\0';

	r = ilio_dm_info(name, &info);
	if (r)
		return r;
	if (!info.exists)
		return -ENOENT;
	if (!info.live_table)
		return -EMEDIUMTYPE;

	r = ilio_dm_fetch(name, DM_DEVICE_STATUS, dev, raw, raw_size);
	if (r)
		return r;
	r = ilio_dm_fetch(name, DM_DEVICE_TABLE, dev, raw, raw_size);
	if (r) {
		ilio_dev_release(dev);
		return r;
	}
	dev->has_capped = !ilio_read_sysfs(info.major, info.minor,
					   "dedup_candidates_capped",
					   &dev->capped);
	return 0;
}

/* Explain an ilio_dm_lookup() error; returns ILIO_EXIT_FAIL. */
static int ilio_lookup_fail(const char *name, int err, const char *raw)
{
	switch (err) {
	case -ENOENT:
		return ilio_fail("device '%s' not found", name);
	case -EMEDIUMTYPE:
		return ilio_fail("device '%s' is not an ilio device", name);
	case -EPROTO:
		return ilio_fail("device '%s': unexpected status format: '%s'",
				 name, raw);
	case -ENOMEM:
		return ilio_fail("out of memory");
	default:
		return ilio_fail("cannot query device '%s'", name);
	}
}

/* ------------------------------------------------------------------------
 * Commands
 */

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
	{ NULL, 0, false, 0 }
};

static const struct ilio_opt ilio_format_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
	{ "dry-run", 'n', false, ILIO_OPT_DRY_RUN },
	{ "segment-kb", 0, true, ILIO_OPT_SEGMENT_KB },
	{ "force", 'f', false, ILIO_OPT_FORCE },
	{ NULL, 0, false, 0 }
};

static const struct ilio_opt ilio_name_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
	{ NULL, 0, false, 0 }
};

static const struct ilio_opt ilio_status_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "json", 'j', false, ILIO_OPT_JSON },
	{ "parse-status", 0, true, ILIO_OPT_PARSE_STATUS },
	{ "parse-table", 0, true, ILIO_OPT_PARSE_TABLE },
	{ NULL, 0, false, 0 }
};

static int ilio_cmd_help(void)
{
	fputs(ilio_help_text, stdout);
	return ILIO_EXIT_OK;
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

	if (ilio_parse_size(val, &bs) || (bs != 512 && bs != 4096))
		return ilio_usage_err("invalid --block-size '%s' (must be 4096 or 512)",
				      val);
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
	if (ilio_parse_u64(val, ms) || *ms > ILIO_FLUSH_INTERVAL_MAX)
		return ilio_usage_err("invalid --flush-interval-ms '%s' (must be 0..%llu)",
				      val, ILIO_FLUSH_INTERVAL_MAX);
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
	a->block_size = 4096;

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
			ilio_cmd_help();
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
		}
	}

	if (!*name)
		return ilio_usage_err("create: missing device NAME");
	r = ilio_check_name(*name);
	if (r)
		return r;
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
	/* The kernel's bounds: ILIO_RAM_MB_MIN/MAX in dm-ilio/ilio-args.h. */
	if (a->ram_mb < 4 || a->ram_mb > 16777216)
		return ilio_usage_err("--ram must be between 4 MiB and 16 TiB");
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

/* Is there a device called name?  1, 0, or -EIO. */
static int ilio_dm_exists(const char *name)
{
	struct dm_info info;
	int r = ilio_dm_info(name, &info);

	return r ? r : !!info.exists;
}

static int ilio_cmd_create(int argc, char **argv)
{
	char params[ILIO_PARAMS_MAX];
	struct ilio_create_args a;
	unsigned long long len_sectors;
	uint32_t cookie = 0;
	struct dm_task *dmt;
	const char *name;
	bool dry_run;
	int r, err;

	r = ilio_create_parse(argc, argv, &name, &a, &dry_run);
	if (r)
		return r < 0 ? ILIO_EXIT_OK : r;

	len_sectors = a.size_bytes >> ILIO_SECTOR_SHIFT;
	if (ilio_build_params(&a, params, sizeof(params)))
		return ilio_usage_err("table line too long");

	if (dry_run || ilio_verbose)
		printf("0 %llu %s %s\n", len_sectors, ILIO_TARGET, params);
	if (dry_run)
		return ILIO_EXIT_OK;
	fflush(stdout);

	r = ilio_dm_available();
	if (r)
		return r;
	r = ilio_dm_exists(name);
	if (r < 0)
		return ilio_fail("cannot query device '%s'", name);
	if (r)
		return ilio_fail("device '%s' already exists", name);

	dmt = dm_task_create(DM_DEVICE_CREATE);
	if (!dmt)
		return ilio_fail("out of memory");
	if (!dm_task_set_name(dmt, name) ||
	    !dm_task_add_target(dmt, 0, len_sectors, ILIO_TARGET, params) ||
	    !dm_task_set_cookie(dmt, &cookie, 0)) {
		dm_task_destroy(dmt);
		dm_udev_wait(cookie);
		return ilio_fail("cannot set up the create request for '%s'", name);
	}

	ilio_kmsg_begin();
	if (dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		/* Waits for udev, or creates the node itself without udev. */
		dm_udev_wait(cookie);
		ilio_kmsg_end();
		ilio_dm_log_discard();
		if (ilio_verbose)
			printf("created %s/%s\n", dm_dir(), name);
		return ILIO_EXIT_OK;
	}
	err = dm_task_get_errno(dmt);
	dm_task_destroy(dmt);
	dm_udev_wait(cookie);

	if (err == EBUSY && ilio_dm_exists(name) == 1) {
		ilio_kmsg_end();
		return ilio_fail("device '%s' already exists", name);
	}
	if (ilio_dm_target_loaded() == 0) {
		ilio_kmsg_end();
		ilio_dm_log_discard();
		return ilio_module_missing();
	}
	ilio_fail("cannot create device '%s'%s%s", name, err ? ": " : "",
		  err ? strerror(err) : "");
	ilio_kmsg_report();
	return ILIO_EXIT_FAIL;
}

/*
 * Parse "COMMAND NAME [--verbose]"; returns 0, ILIO_EXIT_USAGE, or -1 after
 * --help.
 */
static int ilio_name_parse(const char *cmd, int argc, char **argv,
			   const char **name)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char *val;
	int id;

	*name = NULL;
	while ((id = ilio_next_arg(&it, ilio_name_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (*name)
				return ilio_usage_err("%s: unexpected argument '%s'",
						      cmd, val);
			*name = val;
			break;
		case ILIO_OPT_HELP:
			ilio_cmd_help();
			return -1;
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		}
	}
	if (!*name)
		return ilio_usage_err("%s: missing device NAME", cmd);
	return ilio_check_name(*name);
}

/*
 * The common start of the commands that act on one existing ilio device:
 * parse NAME, check device-mapper, and refuse anything that is not an
 * ilio device.  Returns 0 with *name set, -1 for --help (exit 0), or an
 * exit code.
 */
static int ilio_named_ilio_dev(const char *cmd, int argc, char **argv,
			       const char **name)
{
	char raw[ILIO_PARAMS_MAX];
	struct ilio_dev dev;
	int r;

	r = ilio_name_parse(cmd, argc, argv, name);
	if (r)
		return r;
	r = ilio_dm_available();
	if (r)
		return r;
	r = ilio_dm_lookup(*name, &dev, raw, sizeof(raw));
	if (r && r != -EPROTO)
		return ilio_lookup_fail(*name, r, raw);
	ilio_dev_release(&dev);
	ilio_dm_log_discard();
	return 0;
}

static int ilio_cmd_remove(int argc, char **argv)
{
	struct dm_info info;
	uint32_t cookie = 0;
	struct dm_task *dmt;
	const char *name;
	int r, err;

	/* Refuse to remove anything that is not ours. */
	r = ilio_named_ilio_dev("remove", argc, argv, &name);
	if (r)
		return r < 0 ? ILIO_EXIT_OK : r;

	dmt = dm_task_create(DM_DEVICE_REMOVE);
	if (!dmt)
		return ilio_fail("out of memory");
	if (!dm_task_set_name(dmt, name) || !dm_task_retry_remove(dmt) ||
	    !dm_task_set_cookie(dmt, &cookie, 0)) {
		dm_task_destroy(dmt);
		dm_udev_wait(cookie);
		return ilio_fail("cannot set up the remove request for '%s'", name);
	}

	ilio_kmsg_begin();
	if (dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		dm_udev_wait(cookie);
		ilio_kmsg_end();
		ilio_dm_log_discard();
		if (ilio_verbose)
			printf("removed %s\n", name);
		return ILIO_EXIT_OK;
	}
	err = dm_task_get_errno(dmt);
	dm_task_destroy(dmt);
	dm_udev_wait(cookie);

	if (err == ENXIO) {
		ilio_kmsg_end();
		return ilio_fail("device '%s' not found", name);
	}
	if (err == EBUSY) {
		ilio_kmsg_end();
		if (!ilio_dm_info(name, &info) && info.exists)
			return ilio_fail("device '%s' is busy (open count %d)",
					 name, info.open_count);
		return ilio_fail("device '%s' is busy", name);
	}
	ilio_fail("cannot remove device '%s'%s%s", name, err ? ": " : "",
		  err ? strerror(err) : "");
	ilio_kmsg_report();
	return ILIO_EXIT_FAIL;
}

static int ilio_cmd_clear_stats(int argc, char **argv)
{
	struct dm_task *dmt;
	const char *name;
	int r, err;

	r = ilio_named_ilio_dev("clear-stats", argc, argv, &name);
	if (r)
		return r < 0 ? ILIO_EXIT_OK : r;

	dmt = dm_task_create(DM_DEVICE_TARGET_MSG);
	if (!dmt)
		return ilio_fail("out of memory");
	if (!dm_task_set_name(dmt, name) || !dm_task_set_sector(dmt, 0) ||
	    !dm_task_set_message(dmt, "clear_stats")) {
		dm_task_destroy(dmt);
		return ilio_fail("cannot set up the message for '%s'", name);
	}

	ilio_kmsg_begin();
	if (dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		ilio_kmsg_end();
		ilio_dm_log_discard();
		if (ilio_verbose)
			printf("cleared statistics of %s\n", name);
		return ILIO_EXIT_OK;
	}
	err = dm_task_get_errno(dmt);
	dm_task_destroy(dmt);
	ilio_fail("cannot clear statistics of '%s'%s%s", name, err ? ": " : "",
		  err ? strerror(err) : "");
	ilio_kmsg_report();
	return ILIO_EXIT_FAIL;
}

/*
 * ilio_parse_line() - split a "--parse-status"/"--parse-table" line,
 * "NAME[:] <start> <len> ilio <params>", into its parts.  Returns 0 with
 * *params pointing into line, or -EPROTO.
 */
static int ilio_parse_line(const char *line, struct ilio_dev *dev,
			   const char **params)
{
	const char *p = line;
	char tok[32];
	int n;

	n = ilio_token(&p, dev->name, sizeof(dev->name));
	if (n <= 0)
		return -EPROTO;
	if (dev->name[n - 1] == ':')
		dev->name[n - 1] = '\0';
	if (!dev->name[0])
		return -EPROTO;
	if (ilio_token(&p, tok, sizeof(tok)) <= 0 ||
	    ilio_parse_u64(tok, &dev->start) ||
	    ilio_token(&p, tok, sizeof(tok)) <= 0 ||
	    ilio_parse_u64(tok, &dev->len) ||
	    ilio_token(&p, tok, sizeof(tok)) <= 0 || strcmp(tok, ILIO_TARGET))
		return -EPROTO;
	*params = ilio_skip_space(p);
	return 0;
}

static int ilio_dev_cmp(const void *a, const void *b)
{
	const struct ilio_dev *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/*
 * ilio_status_add() - append a zeroed device slot to *devs.  Returns the
 * slot or NULL (out of memory).
 */
static struct ilio_dev *ilio_status_add(struct ilio_dev **devs, size_t *nr,
					size_t *cap)
{
	struct ilio_dev *p;

	if (*nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;

		p = realloc(*devs, ncap * sizeof(*p));
		if (!p)
			return NULL;
		*devs = p;
		*cap = ncap;
	}
	p = &(*devs)[(*nr)++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* Build the device list from --parse-status and --parse-table lines. */
static int ilio_status_from_lines(const char **st_lines, size_t st_nr,
				  const char **tb_lines, size_t tb_nr,
				  struct ilio_dev **devs, size_t *nr)
{
	size_t cap = 0, i, j;
	struct ilio_dev *dev, tmp;
	const char *params;
	int r;

	for (i = 0; i < st_nr; i++) {
		dev = ilio_status_add(devs, nr, &cap);
		if (!dev)
			return ilio_fail("out of memory");
		if (ilio_parse_line(st_lines[i], dev, &params) ||
		    ilio_parse_status(params, &dev->st)) {
			(*nr)--;
			return ilio_fail("unexpected status format: '%s'",
					 st_lines[i]);
		}
	}
	for (i = 0; i < tb_nr; i++) {
		memset(&tmp, 0, sizeof(tmp));
		if (ilio_parse_line(tb_lines[i], &tmp, &params))
			return ilio_fail("unexpected table format: '%s'",
					 tb_lines[i]);
		for (j = 0; j < *nr; j++) {
			if (!strcmp((*devs)[j].name, tmp.name))
				break;
		}
		if (j == *nr)
			return ilio_fail("--parse-table: no --parse-status line for device '%s'",
					 tmp.name);
		dev = &(*devs)[j];
		ilio_dev_release(dev);
		r = ilio_parse_table(params, &dev->tb);
		if (r == -ENOMEM)
			return ilio_fail("out of memory");
		if (r)
			return ilio_fail("unexpected table format: '%s'",
					 tb_lines[i]);
		dev->has_table = true;
	}
	return 0;
}

/* Build the device list from the kernel: one name, or all ilio devices. */
static int ilio_status_from_kernel(const char *name, struct ilio_dev **devs,
				   size_t *nr)
{
	struct dm_names *names, *last;
	char raw[ILIO_PARAMS_MAX];
	int r, ret = 0, loaded;
	struct ilio_dev *dev;
	struct dm_task *dmt;
	size_t cap = 0;

	r = ilio_dm_available();
	if (r)
		return r;

	if (name) {
		dev = ilio_status_add(devs, nr, &cap);
		if (!dev)
			return ilio_fail("out of memory");
		r = ilio_dm_lookup(name, dev, raw, sizeof(raw));
		if (r) {
			(*nr)--;
			return ilio_lookup_fail(name, r, raw);
		}
		return 0;
	}

	loaded = ilio_dm_target_loaded();
	if (loaded < 0)
		return ilio_fail("cannot read the device-mapper target list");
	if (!loaded)
		return ilio_module_missing();

	dmt = dm_task_create(DM_DEVICE_LIST);
	if (!dmt)
		return ilio_fail("out of memory");
	if (!dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		return ilio_fail("cannot list device-mapper devices");
	}
	names = dm_task_get_names(dmt);
	if (!names || !names->dev) {
		dm_task_destroy(dmt);
		return 0;
	}
	do {
		last = names;
		dev = ilio_status_add(devs, nr, &cap);
		if (!dev) {
			ret = ilio_fail("out of memory");
			break;
		}
		r = ilio_dm_lookup(names->name, dev, raw, sizeof(raw));
		if (r) {
			(*nr)--;
			/* Other targets, and devices removed meanwhile. */
			if (r == -EMEDIUMTYPE || r == -ENOENT)
				ilio_dm_log_discard();
			else
				ret = ilio_lookup_fail(names->name, r, raw);
		}
		names = (struct dm_names *)((char *)names + names->next);
	} while (names != last);
	dm_task_destroy(dmt);

	qsort(*devs, *nr, sizeof(**devs), ilio_dev_cmp);
	return ret;
}

static int ilio_cmd_status(int argc, char **argv)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char **st_lines = NULL, **tb_lines = NULL;
	size_t st_nr = 0, tb_nr = 0, nr = 0, i;
	struct ilio_dev *devs = NULL;
	const char *name = NULL, *val;
	bool json = false;
	int id, r = 0;

	st_lines = calloc(argc + 1, sizeof(*st_lines));
	tb_lines = calloc(argc + 1, sizeof(*tb_lines));
	if (!st_lines || !tb_lines) {
		r = ilio_fail("out of memory");
		goto out;
	}

	while ((id = ilio_next_arg(&it, ilio_status_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			r = ILIO_EXIT_USAGE;
			goto out;
		case ILIO_ARG_POSITIONAL:
			if (name) {
				r = ilio_usage_err("status: unexpected argument '%s'",
						   val);
				goto out;
			}
			name = val;
			break;
		case ILIO_OPT_HELP:
			r = ilio_cmd_help();
			goto out;
		case ILIO_OPT_JSON:
			json = true;
			break;
		case ILIO_OPT_PARSE_STATUS:
			st_lines[st_nr++] = val;
			break;
		case ILIO_OPT_PARSE_TABLE:
			tb_lines[tb_nr++] = val;
			break;
		}
	}

	if (name) {
		r = ilio_check_name(name);
		if (r)
			goto out;
	}
	if (name && st_nr) {
		r = ilio_usage_err("status: NAME cannot be combined with --parse-status");
		goto out;
	}
	if (tb_nr && !st_nr) {
		r = ilio_usage_err("status: --parse-table needs --parse-status");
		goto out;
	}

	if (st_nr)
		r = ilio_status_from_lines(st_lines, st_nr, tb_lines, tb_nr,
					   &devs, &nr);
	else
		r = ilio_status_from_kernel(name, &devs, &nr);

	/* Show what could be read even if another device failed. */
	if (!r || nr)
		ilio_print_devs(devs, nr, json);
out:
	for (i = 0; i < nr; i++)
		ilio_dev_release(&devs[i]);
	free(devs);
	free((void *)st_lines);
	free((void *)tb_lines);
	return r;
}

/* ------------------------------------------------------------------------
 * Backing devices: format and info
 *
 * "format" lays out a backing device for persistent mode with the module's
 * own code (ilio_geom_compute(), ilio_sb_build(), ilio_anchor_build()) and
 * reads the result back through the module's validators; "info" shows
 * what the validators make of a device.  Layout: ilio-format.h.
 */

#define ILIO_SEG_KB_DEFAULT	1024ULL

/* Blocks 0..3: both superblock copies and both anchor slots. */
#define ILIO_HEAD_BYTES		(ILIO_META_BLOCKS * ILIO_BLOCK_SIZE)

/* Signatures wiped by "format --force" before giving up (a loop guard). */
#define ILIO_WIPE_MAX		32

/**
 * struct ilio_bdev - an open backing device or image file
 * @path: as given on the command line
 * @fd: open descriptor
 * @is_blk: a block device (else a regular file)
 * @bytes: size in bytes
 */
struct ilio_bdev {
	const char *path;
	int fd;
	bool is_blk;
	unsigned long long bytes;
};

/**
 * enum ilio_open_mode - how ilio_bdev_open() opens a device
 * @ILIO_OPEN_READ: read-only, shared (info)
 * @ILIO_OPEN_EXCL_READ: read-only, exclusive for a block device
 *	(format --dry-run: refuses a device in use, like format)
 * @ILIO_OPEN_EXCL_WRITE: read-write, exclusive for a block device (format)
 */
enum ilio_open_mode {
	ILIO_OPEN_READ,
	ILIO_OPEN_EXCL_READ,
	ILIO_OPEN_EXCL_WRITE,
};

/* Append to buf (size bytes, *len used so far); stops quietly when full. */
static void __printf(4, 5) ilio_append(char *buf, size_t size, size_t *len,
				       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + n < size - 1 ? *len + n : size - 1;
}

/*
 * ilio_bdev_users() - say why a block device is busy, as far as this
 * process can see: its holders (/sys/dev/block/M:m/holders: dm-N, md...)
 * and where it is mounted (/proc/self/mountinfo).  buf is "" when nothing
 * is found (an active swap area, for one, shows in neither).
 */
static void ilio_bdev_users(dev_t rdev, char *buf, size_t size)
{
	char path[64], line[4096], mnt[4096];
	unsigned int ma, mi;
	struct dirent *de;
	size_t len = 0;
	DIR *dir;
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders",
		 major(rdev), minor(rdev));
	dir = opendir(path);
	if (dir) {
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			ilio_append(buf, size, &len, "%sheld by %s",
				    len ? ", " : "", de->d_name);
		}
		closedir(dir);
	}
	f = fopen("/proc/self/mountinfo", "re");
	if (f) {
		/* "<id> <parent id> <major>:<minor> <root> <mount point> ..." */
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &ma, &mi,
				   mnt) == 3 && makedev(ma, mi) == rdev)
				ilio_append(buf, size, &len, "%smounted on %s",
					    len ? ", " : "", mnt);
		}
		fclose(f);
	}
}

/*
 * ilio_bdev_open() - open path (a block device or a regular file) and find
 * its size.  A block device opened exclusively (O_EXCL) cannot be mounted,
 * in a device-mapper table or otherwise claimed, and is refused when it
 * already is.  Returns 0, or ILIO_EXIT_FAIL after printing why.
 */
static int ilio_bdev_open(struct ilio_bdev *b, const char *path,
			  enum ilio_open_mode mode)
{
	int flags = O_CLOEXEC, err;
	char users[512];
	struct stat st;
	uint64_t bytes;

	memset(b, 0, sizeof(*b));
	b->path = path;
	b->fd = -1;
	if (stat(path, &st))
		return ilio_fail("cannot open %s: %s", path, strerror(errno));
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return ilio_fail("%s is neither a block device nor a regular file",
				 path);
	b->is_blk = S_ISBLK(st.st_mode);
	flags |= mode == ILIO_OPEN_EXCL_WRITE ? O_RDWR : O_RDONLY;
	/* Without O_CREAT, O_EXCL is defined for block devices only. */
	if (b->is_blk && mode != ILIO_OPEN_READ)
		flags |= O_EXCL;

	b->fd = open(path, flags);
	if (b->fd < 0) {
		err = errno;
		if (err == EBUSY && b->is_blk) {
			ilio_bdev_users(st.st_rdev, users, sizeof(users));
			return ilio_fail("%s is in use (%s)", path, *users ? users :
					 "mounted, an active swap area, or held by device-mapper, md or another driver");
		}
		if (err == EACCES || err == EPERM)
			return ilio_fail("cannot open %s%s: %s (run as root?)", path,
					 mode == ILIO_OPEN_EXCL_WRITE ? " for writing" : "",
					 strerror(err));
		return ilio_fail("cannot open %s%s: %s", path,
				 mode == ILIO_OPEN_EXCL_WRITE ? " for writing" : "",
				 strerror(err));
	}

	if (fstat(b->fd, &st) || !!S_ISBLK(st.st_mode) != b->is_blk) {
		close(b->fd);
		b->fd = -1;
		return ilio_fail("%s changed while it was being opened", path);
	}
	if (b->is_blk) {
		if (ioctl(b->fd, BLKGETSIZE64, &bytes)) {
			err = errno;
			close(b->fd);
			b->fd = -1;
			return ilio_fail("cannot get the size of %s: %s", path,
					 strerror(err));
		}
		b->bytes = bytes;
	} else {
		b->bytes = st.st_size;
	}
	return 0;
}

static void ilio_bdev_close(struct ilio_bdev *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
}

/*
 * ilio_bdev_read() - read len bytes at off.  What lies past the end of the
 * device reads as zeros.  Returns 0 or -errno.
 */
static int ilio_bdev_read(const struct ilio_bdev *b, void *buf, size_t len,
			  unsigned long long off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(b->fd, (char *)buf + done, len - done, off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n) {
			memset((char *)buf + done, 0, len - done);
			break;
		}
		done += n;
	}
	return 0;
}

/* Write len bytes at off.  Returns 0 or -errno. */
static int ilio_bdev_write(const struct ilio_bdev *b, const void *buf,
			   size_t len, unsigned long long off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(b->fd, (const char *)buf + done, len - done,
			   off + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ENOSPC;
		done += n;
	}
	return 0;
}

/*
 * ilio_bdev_forget() - drop the clean cached pages of the first len bytes,
 * so that the next read comes from the device, not from what this or an
 * earlier process left in the page cache (dm-ilio writes past that cache).
 */
static void ilio_bdev_forget(const struct ilio_bdev *b, unsigned long long len)
{
	(void)posix_fadvise(b->fd, 0, len, POSIX_FADV_DONTNEED);
}

static bool ilio_geom_equal(const struct ilio_geom *a,
			    const struct ilio_geom *b)
{
	return a->dev_blocks == b->dev_blocks && a->seg_bytes == b->seg_bytes &&
	       a->nr_segs == b->nr_segs && a->seg_start == b->seg_start &&
	       !memcmp(a->uuid, b->uuid, sizeof(a->uuid)) &&
	       a->keyed_hash == b->keyed_hash && a->hash_seed == b->hash_seed;
}

static bool ilio_all_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
static const char *ilio_fmt_uuid(const u8 *u, char *buf, size_t size)
{
	snprintf(buf, size,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
	return buf;
}

/*
 * ilio_find_store() - look for an ilio superblock in a device's first two
 * blocks (head).  Returns 0 with *g from the first valid copy; -ENOENT when
 * neither copy has the ilio magic; -EINVAL when one has it but neither is
 * valid (*why says why, copy 0's reason first).
 */
static int ilio_find_store(const u8 *head, unsigned long long dev_bytes,
			   struct ilio_geom *g, const char **why)
{
	const char *why1 = NULL;
	int r0, r1;

	r0 = ilio_sb_check(head, ILIO_SB_BLOCK, dev_bytes, g, why);
	if (!r0)
		return 0;
	r1 = ilio_sb_check(head + ILIO_BLOCK_SIZE, ILIO_SB_BLOCK + 1,
			   dev_bytes, g, &why1);
	if (!r1)
		return 0;
	if (r0 == -ENOENT && r1 == -ENOENT)
		return -ENOENT;
	if (r0 == -ENOENT)
		*why = why1;
	return -EINVAL;
}

/*
 * ilio_blkid_describe() - what the probe found: "a ext4 filesystem", "a
 * gpt partition table", "a LVM2_member signature (RAID or volume-manager
 * member)"...
 */
static void ilio_blkid_describe(blkid_probe pr, char *buf, size_t size)
{
	const char *type = NULL, *usage = NULL, *pttype = NULL;
	size_t len = 0;

	buf[0] = '\0';
	if (!blkid_probe_lookup_value(pr, "TYPE", &type, NULL)) {
		if (blkid_probe_lookup_value(pr, "USAGE", &usage, NULL))
			usage = "";
		if (!strcmp(usage, "filesystem"))
			ilio_append(buf, size, &len, "a %s filesystem", type);
		else if (!strcmp(usage, "raid"))
			ilio_append(buf, size, &len,
				    "a %s signature (RAID or volume-manager member)",
				    type);
		else if (!strcmp(usage, "crypto"))
			ilio_append(buf, size, &len, "a %s encrypted volume",
				    type);
		else
			ilio_append(buf, size, &len, "a %s signature", type);
	}
	if (!blkid_probe_lookup_value(pr, "PTTYPE", &pttype, NULL))
		ilio_append(buf, size, &len, "%sa %s partition table",
			    len ? " and " : "", pttype);
	if (!len)
		ilio_append(buf, size, &len, "an unnamed signature");
}

/* A prober over fd with superblock and partition-table probing on. */
static blkid_probe ilio_blkid_new(int fd, bool magic)
{
	blkid_probe pr = blkid_new_probe();

	if (!pr)
		return NULL;
	if (blkid_probe_set_device(pr, fd, 0, 0) ||
	    blkid_probe_enable_superblocks(pr, 1) ||
	    blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
					      BLKID_SUBLKS_USAGE |
					      (magic ? BLKID_SUBLKS_MAGIC |
					       BLKID_SUBLKS_BADCSUM : 0)) ||
	    blkid_probe_enable_partitions(pr, 1) ||
	    blkid_probe_set_partitions_flags(pr, magic ? BLKID_PARTS_MAGIC : 0)) {
		blkid_free_probe(pr);
		return NULL;
	}
	return pr;
}

/*
 * ilio_blkid_each() - list every signature libblkid finds, one by one
 * (wipefs's loop), into buf ("a, b"); erase each one if wipe.  Returns the
 * number found, or -EIO.
 */
static int ilio_blkid_each(int fd, bool wipe, char *buf, size_t size)
{
	char one[256];
	size_t len = 0;
	blkid_probe pr;
	int nr = 0;

	buf[0] = '\0';
	pr = ilio_blkid_new(fd, true);
	if (!pr)
		return -EIO;
	while (nr < ILIO_WIPE_MAX && !blkid_do_probe(pr)) {
		ilio_blkid_describe(pr, one, sizeof(one));
		ilio_append(buf, size, &len, "%s%s", len ? ", " : "", one);
		nr++;
		/* On success the prober steps back to look at the spot again. */
		if (wipe && blkid_do_wipe(pr, 0)) {
			blkid_free_probe(pr);
			return -EIO;
		}
		if (wipe && ilio_verbose)
			printf("wiped %s\n", one);
	}
	blkid_free_probe(pr);
	return nr;
}

/*
 * ilio_blkid_find() - does libblkid recognise anything on fd (a
 * filesystem, LVM or RAID member, swap, a partition table...)?  Returns 1
 * with buf describing it, 0 for nothing, or -EIO.
 */
static int ilio_blkid_find(int fd, char *buf, size_t size)
{
	char list[512];
	size_t len = 0;
	blkid_probe pr;
	int r;

	buf[0] = '\0';
	pr = ilio_blkid_new(fd, false);
	if (!pr)
		return -EIO;
	r = blkid_do_safeprobe(pr);
	if (!r)
		ilio_blkid_describe(pr, buf, size);
	blkid_free_probe(pr);
	if (r == 1)
		return 0;
	if (!r)
		return 1;
	if (r != -2)
		return -EIO;
	/* Ambivalent: several signatures; name them all. */
	r = ilio_blkid_each(fd, false, list, sizeof(list));
	if (r < 0)
		return r;
	ilio_append(buf, size, &len, "more than one signature (%s)",
		    r ? list : "conflicting, unnamed");
	return 1;
}

/* Fill buf with len random bytes from the kernel.  Returns 0 or -EIO. */
static int ilio_random(void *buf, size_t len)
{
	ssize_t n;

	do {
		n = getrandom(buf, len, 0);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* A random UUID, RFC 4122 version 4. */
static int ilio_new_uuid(u8 *uuid)
{
	if (ilio_random(uuid, 16))
		return -EIO;
	uuid[6] = (uuid[6] & 0x0f) | 0x40;	/* version 4 */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;	/* variant 10 */
	return 0;
}

static void ilio_print_size_row(const char *label, unsigned long long bytes)
{
	char h[32];

	ILIO_ROW(label, "%s (%llu bytes)", ilio_human(bytes, h, sizeof(h)),
		 bytes);
}

/* The rows format and info share: what the geometry offers. */
static void ilio_print_geom(const struct ilio_geom *g)
{
	char h[32];

	ILIO_ROW("segment size", "%s",
		 ilio_human(g->seg_bytes, h, sizeof(h)));
	ILIO_ROW("segments", "%u", g->nr_segs);
	ILIO_ROW("usable capacity", "%s",
		 ilio_human((unsigned long long)g->nr_segs * g->seg_bytes, h,
			    sizeof(h)));
}

/**
 * struct ilio_format_args - what "format" was asked to do
 * @dev: device or image path
 * @seg_bytes: segment size in bytes
 * @force: overwrite whatever the device holds
 * @dry_run: check and report, write nothing
 */
struct ilio_format_args {
	const char *dev;
	unsigned int seg_bytes;
	bool force;
	bool dry_run;
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
			ilio_cmd_help();
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
 * superblock copies, both anchor slots and the first block of segment 0,
 * and make that durable; then write anchor slot 0 and the two superblock
 * copies, and make that durable.  Returns 0 or -errno.
 */
static int ilio_format_write(const struct ilio_bdev *b,
			     const struct ilio_geom *g, const u8 *head)
{
	static const u8 zero[ILIO_HEAD_BYTES];
	int r;

	r = ilio_bdev_write(b, zero, ILIO_HEAD_BYTES, 0);
	if (!r)
		r = ilio_bdev_write(b, zero, ILIO_BLOCK_SIZE,
				    g->seg_start * ILIO_BLOCK_SIZE);
	if (!r && fsync(b->fd))
		r = -errno;
	if (!r)
		r = ilio_bdev_write(b, head + ILIO_ANCHOR_BLOCK * ILIO_BLOCK_SIZE,
				    ILIO_BLOCK_SIZE,
				    ILIO_ANCHOR_BLOCK * ILIO_BLOCK_SIZE);
	if (!r)
		r = ilio_bdev_write(b, head, 2 * ILIO_BLOCK_SIZE,
				    ILIO_SB_BLOCK * ILIO_BLOCK_SIZE);
	if (!r && fsync(b->fd))
		r = -errno;
	return r;
}

/*
 * ilio_format_verify() - read what format wrote back from the device and
 * check it with the module's validators.  Returns NULL, or what is wrong.
 */
static const char *ilio_format_verify(const struct ilio_bdev *b,
				      const struct ilio_geom *g,
				      const struct ilio_anchor_info *ai)
{
	static u8 head[ILIO_HEAD_BYTES], seg0[ILIO_BLOCK_SIZE];
	struct ilio_anchor_info got_ai;
	struct ilio_geom got;
	const char *why;
	u64 i;

	ilio_bdev_forget(b, (g->seg_start + 1) * ILIO_BLOCK_SIZE);
	if (ilio_bdev_read(b, head, sizeof(head), 0) ||
	    ilio_bdev_read(b, seg0, sizeof(seg0),
			   g->seg_start * ILIO_BLOCK_SIZE))
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
	return NULL;
}

static int ilio_cmd_format(int argc, char **argv)
{
	static u8 head[ILIO_HEAD_BYTES];
	struct ilio_anchor_info ai = {
		.seq = 1, .log_seq = 1, .log_seg = 0, .log_off = 0,
		.nr_blocks = 0,
	};
	char found[1024], left[512], uuid[40], h[32], need[32];
	struct ilio_format_args a;
	struct ilio_bdev b;
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
		r = ilio_format_write(&b, &g, head);
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
	ILIO_ROW("uuid", "%s", a.dry_run ? "(chosen when formatting)" :
		 ilio_fmt_uuid(g.uuid, uuid, sizeof(uuid)));
	ILIO_ROW("keyed hash", "%s", "yes");
	ilio_print_size_row("device size", b.bytes);
	ilio_print_geom(&g);
	if (*found)
		ILIO_ROW(a.dry_run ? "would replace" : "replaced", "%s", found);
	r = ILIO_EXIT_OK;
out:
	ilio_bdev_close(&b);
	return r;
}

/*
 * ilio_info_anchor() - print one anchor slot's row.  Returns true if the
 * slot is valid, with *ai filled in.
 */
static bool ilio_info_anchor(const u8 *blk, unsigned int slot,
			     const struct ilio_geom *g,
			     struct ilio_anchor_info *ai)
{
	char label[16], buf[256] = "";
	const char *why;
	size_t len = 0;

	snprintf(label, sizeof(label), "anchor %u", slot);
	if (ilio_all_zero(blk, ILIO_BLOCK_SIZE)) {
		ILIO_ROW(label, "%s", "invalid: empty (all zeros)");
		return false;
	}
	if (ilio_anchor_check(blk, ILIO_ANCHOR_BLOCK + slot, g, ai, &why)) {
		ILIO_ROW(label, "invalid: %s", why);
		return false;
	}
	ilio_append(buf, sizeof(buf), &len, "valid: seq %llu, epoch 0x%016llx",
		    (unsigned long long)ai->seq, (unsigned long long)ai->epoch);
	ilio_append(buf, sizeof(buf), &len, ", log_seq %llu, log_seg %u",
		    (unsigned long long)ai->log_seq, ai->log_seg);
	ilio_append(buf, sizeof(buf), &len, ", log_off %u, nr_blocks %llu",
		    ai->log_off, (unsigned long long)ai->nr_blocks);
	ILIO_ROW(label, "%s", buf);
	return true;
}

static int ilio_cmd_info(int argc, char **argv)
{
	static u8 head[ILIO_HEAD_BYTES];
	struct ilio_args it = { .argc = argc, .argv = argv };
	struct ilio_anchor_info ai[2], *cur = NULL;
	char label[32], uuid[40], what[512], h[32];
	const struct ilio_sb *sb = NULL;
	struct ilio_geom g, gc;
	const char *path = NULL, *val, *why;
	bool magic = false, valid[2];
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
			return ilio_cmd_help();
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
	ilio_bdev_forget(&b, sizeof(head));
	r = ilio_bdev_read(&b, head, sizeof(head), 0);
	if (r) {
		r = ilio_fail("cannot read %s: %s", path, strerror(-r));
		goto out;
	}

	printf("%s\n", path);
	ilio_print_size_row("device size", b.bytes);
	for (i = 0; i < 2; i++) {
		snprintf(label, sizeof(label), "superblock %d", i);
		r = ilio_sb_check(head + i * ILIO_BLOCK_SIZE, ILIO_SB_BLOCK + i,
				  b.bytes, &gc, &why);
		magic |= r != -ENOENT;
		if (r) {
			ILIO_ROW(label, "invalid: %s", why);
			continue;
		}
		ILIO_ROW(label, "%s", "valid");
		if (!sb) {
			sb = (const struct ilio_sb *)(head + i * ILIO_BLOCK_SIZE);
			g = gc;
		} else if (!ilio_geom_equal(&g, &gc)) {
			ILIO_ROW("note", "%s", "the superblock copies differ; showing copy 0");
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

	ILIO_ROW("uuid", "%s", ilio_fmt_uuid(g.uuid, uuid, sizeof(uuid)));
	ILIO_ROW("version", "%u", le32toh(sb->version));
	ILIO_ROW("sequence", "%llu", (unsigned long long)le64toh(sb->seq));
	ILIO_ROW("features", "compat 0x%llx, ro_compat 0x%llx, incompat 0x%llx",
		 (unsigned long long)le64toh(sb->compat),
		 (unsigned long long)le64toh(sb->ro_compat),
		 (unsigned long long)le64toh(sb->incompat));
	ILIO_ROW("keyed hash", "%s", g.keyed_hash ? "yes" :
		 "no (seed 0: formatted before keyed hashing)");
	ilio_print_size_row("size at format", g.dev_blocks * ILIO_BLOCK_SIZE);
	ILIO_ROW("first segment", "block %llu", (unsigned long long)g.seg_start);
	ilio_print_geom(&g);

	for (i = 0; i < 2; i++) {
		valid[i] = ilio_info_anchor(head + (ILIO_ANCHOR_BLOCK + i) *
					    ILIO_BLOCK_SIZE, i, &g, &ai[i]);
		/* The valid slot with the higher sequence number wins. */
		if (valid[i] && (!cur || ai[i].seq > cur->seq))
			cur = &ai[i];
	}
	if (!cur) {
		ILIO_ROW("current anchor", "%s", "none");
		r = ilio_fail("%s: no valid anchor", path);
		goto out;
	}
	ILIO_ROW("current anchor", "%d (seq %llu)", (int)(cur - ai),
		 (unsigned long long)cur->seq);
	if (cur->nr_blocks)
		ILIO_ROW("logical size", "%s",
			 ilio_human(cur->nr_blocks * ILIO_BLOCK_SIZE, h, sizeof(h)));
	else
		ILIO_ROW("logical size", "%s", "not set (never activated)");
	r = ILIO_EXIT_OK;
out:
	ilio_bdev_close(&b);
	return r;
}

static int ilio_cmd_version(void)
{
	char lib[64];

	if (!dm_get_library_version(lib, sizeof(lib)))
		snprintf(lib, sizeof(lib), "unknown");
	printf("ilioctl %s (libdevmapper %s)\n", ILIOCTL_VERSION, lib);
	return ILIO_EXIT_OK;
}

/**
 * struct ilio_cmd - a sub-command.
 * @name: word on the command line.
 * @fn: handler; gets the arguments after the command word and returns the
 *	exit code.
 */
struct ilio_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static int ilio_cmd_help_argv(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ilio_cmd_help();
}

static const struct ilio_cmd ilio_cmds[] = {
	{ "create", ilio_cmd_create },
	{ "remove", ilio_cmd_remove },
	{ "status", ilio_cmd_status },
	{ "clear-stats", ilio_cmd_clear_stats },
	{ "format", ilio_cmd_format },
	{ "info", ilio_cmd_info },
	{ "help", ilio_cmd_help_argv },
	{ NULL, NULL }
};

/* Flush stdout and report a write error (e.g. a full disk or closed pipe). */
static int ilio_finish(int r)
{
	if (fflush(stdout) || ferror(stdout)) {
		ilio_msg("write error: %s", strerror(errno));
		return r ? r : ILIO_EXIT_FAIL;
	}
	return r;
}

int main(int argc, char **argv)
{
	const struct ilio_cmd *c;
	const char *cmd;

	dm_log_with_errno_init(ilio_dm_log);
	ilio_dm_debug = !!getenv("ILIOCTL_DEBUG");
	if (ilio_dm_debug)
		dm_log_init_verbose(7);

	if (argc < 2)
		return ilio_usage_err("missing COMMAND");
	cmd = argv[1];

	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
		return ilio_finish(ilio_cmd_help());
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V"))
		return ilio_finish(ilio_cmd_version());
	if (cmd[0] == '-')
		return ilio_usage_err("unknown option '%s'", cmd);

	for (c = ilio_cmds; c->name; c++) {
		if (!strcmp(c->name, cmd))
			return ilio_finish(c->fn(argc - 2, argv + 2));
	}
	return ilio_usage_err("unknown command '%s'", cmd);
}
