/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilioctl.h - what the parts of ilioctl share: the device model, the
 * interfaces between the parts, and the kernel's headers for userspace.
 *
 * The parts, one concern each:
 *   ilioctl.c       the command table and main()
 *   cli.c           messages, exit codes, option and number parsing
 *   dm.c            the dm control plane (libdevmapper, /dev/kmsg, sysfs)
 *   status.c        INFO/TABLE status parsing and device rendering
 *                   (human rows, JSON through json-c)
 *   render.c        label/value rows (libsmartcols) and human sizes
 *   bdev.c          offline backing-device access (raw I/O, libblkid)
 *   cmd-*.c         one command each
 *
 * The kernel's own code is linked in: dm-ilio/ilio-args.c (the table
 * parser, so that create checks its line as the module will) and
 * dm-ilio/ilio-meta.c (the on-disk builders and validators), both
 * compiled against tests/shim.  dm-ilio/ilio-fields.h and ilio-limits.h
 * define the status fields and the table's bounds for both sides.
 */
#ifndef ILIOCTL_H
#define ILIOCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/dm-ioctl.h>

/*
 * Kernel helpers that userspace headers lack.  __printf() is written through
 * ilio_attr() because checkpatch asks for __printf() wherever a format
 * attribute is spelled out, including in the definition of __printf().
 */
#define ilio_attr(x)		__attribute__(x)
#define __printf(a, b)		ilio_attr((format(printf, a, b)))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define BIT_ULL(n)		(1ULL << (n))

/*
 * The module's headers use the kernel's short type names.  ilio-meta.c and
 * ilio-args.c are compiled against tests/shim, whose <linux/types.h>
 * defines these same types; ilioctl uses the system's uapi headers, which
 * lack them.
 */
typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
#define __packed		ilio_attr((packed))

#include "ilio-fields.h"
#include "ilio-limits.h"

/* The project version, from the top-level VERSION file (tools/Makefile). */
#ifndef ILIOCTL_VERSION
#error "ILIOCTL_VERSION is not defined: build with tools/Makefile"
#endif
#define ILIO_TARGET		"ilio"

#define ILIO_EXIT_OK		0
#define ILIO_EXIT_FAIL		1
#define ILIO_EXIT_USAGE		2

#define ILIO_SECTOR_SHIFT	9
/* "status --json" and "list --json": the "schema_version" of every object. */
#define ILIO_JSON_SCHEMA	1
#define ILIO_MIB_SHIFT		20
#define ILIO_SIZE_ALIGN		((unsigned long long)ILIO_LEN_ALIGN_BYTES)

/* Longest device name the kernel accepts (DM_NAME_LEN includes the NUL). */
#define ILIO_NAME_MAX		(DM_NAME_LEN - 1)

/* Buffer for one table parameter string (backing path plus features). */
#define ILIO_PARAMS_MAX		(4096 + 256)

/**
 * struct ilio_status - parsed INFO status of one ilio target.
 * @mode: mode word (write, read-only, fail, or a later one).
 * @nr: counters the line had: ILIO_ST_NR_V1 or ILIO_ST_NR.
 * @v: numeric fields, indexed by &enum ilio_stat (ilio-fields.h); those at
 *	@nr and above are 0.
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
 * @has_segs: @nr_segments and @free_segments were read from sysfs (a live
 *	persistent device).
 * @nr_segments: /sys/block/dm-N/ilio/nr_segments: segments of the backing
 *	device.
 * @free_segments: /sys/block/dm-N/ilio/free_segments.
 * @has_classes: @classes was read from sysfs (a live persistent device on
 *	a module with per-class statistics).
 * @classes: the per-class values of ilio-fields.h (ILIO_CLASS_FIELDS()),
 *	@classes[i] being enum ilio_stat ILIO_ST_CLASS(0, 0) + i.
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
	bool has_segs;
	unsigned long long nr_segments;
	unsigned long long free_segments;
	bool has_classes;
	unsigned long long classes[ILIO_ST_CLASSES * ILIO_CST_NR];
};

/* cli.c: messages */
extern bool ilio_verbose;
void __printf(1, 2) ilio_msg(const char *fmt, ...);
int __printf(1, 2) ilio_usage_err(const char *fmt, ...);
int __printf(1, 2) ilio_fail(const char *fmt, ...);
void ilio_lib_error(const char *line);
void ilio_lib_errors_discard(void);

/* cli.c: options */
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
	ILIO_OPT_JOURNAL,
	ILIO_OPT_TAKEOVER,
	ILIO_OPT_TABLE_PARAMS,
	ILIO_OPT_PROMETHEUS,
	ILIO_OPT_INTERVAL,
	ILIO_OPT_COUNT,
	ILIO_OPT_NAME,
	ILIO_OPT_READONLY,
	ILIO_OPT_OVERCOMMIT_WARN,
	ILIO_OPT_BYTES,
	ILIO_OPT_SI,
	ILIO_OPT_NOHEADINGS,
	ILIO_OPT_RULES,
	ILIO_OPT_NTFS,
	ILIO_OPT_PARSE_REPLY,
	ILIO_OPT_PARSE_STATS,
	ILIO_OPT_MULTIHOST,
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
 * @sub: within the bundle of short options argv[i - 1] ("-nv"): the
 *	letter to look at next; 0 when not in one.
 * @seen: BIT_ULL(id) of each option given so far.
 */
struct ilio_args {
	int argc;
	char **argv;
	int i;
	bool no_more_opts;
	int sub;
	unsigned long long seen;
};

#define ILIO_ARG_END		(-1)
#define ILIO_ARG_ERROR		(-2)
#define ILIO_ARG_POSITIONAL	0

extern const struct ilio_opt ilio_name_opts[];
int ilio_next_arg(struct ilio_args *it, const struct ilio_opt *opts,
		  const char **value);
int ilio_parse_u64(const char *s, unsigned long long *out);
int ilio_parse_size(const char *s, unsigned long long *bytes);
int ilio_check_name(const char *name);
int ilio_name_parse(const char *cmd, int argc, char **argv, const char **name);

/* bdev.c: who holds a block device (holders, mounts), for messages */
void ilio_bdev_users(dev_t rdev, char *buf, size_t size);

/* dm.c: the control plane */
void ilio_dm_init(void);
void ilio_kmsg_begin(void);
void ilio_kmsg_end(void);
void ilio_kmsg_report(void);
int ilio_dm_available(void);
int ilio_dm_target_loaded(void);
int ilio_module_missing(void);
int ilio_dm_exists(const char *name);
int ilio_dm_name_of(dev_t rdev, char *name, size_t size);
const char *ilio_dm_dir(void);
int ilio_dm_lookup(const char *name, struct ilio_dev *dev, char *raw,
		   size_t raw_size);
int ilio_lookup_fail(const char *name, int err, const char *raw);
int ilio_named_ilio_dev(const char *cmd, int argc, char **argv,
			const char **name);
int ilio_dm_create(const char *name, unsigned long long len_sectors,
		   const char *params, bool read_only);
int ilio_dm_remove(const char *name);
int ilio_dm_reload(const char *name, unsigned long long len, const char *params,
		   bool read_only);
int ilio_dm_resume(const char *name);
int ilio_dm_read_only(const char *name);
int ilio_dm_swap_table(const char *name, unsigned long long len,
		       const char *params, unsigned long long old_len,
		       const char *old_params, const char *refused,
		       const char *failed, const char *back);
int ilio_dm_message(const char *name, const char *msg, const char *what);
int ilio_dm_message_reply(const char *name, const char *msg, char **reply,
			  int *err);
int ilio_dm_list(struct ilio_dev **devs, size_t *nr);
const char *ilio_dm_library_version(char *buf, size_t size);

/* status.c: status lines and devices */
int ilio_token(const char **p, char *buf, size_t size);
const char *ilio_skip_space(const char *s);
int ilio_parse_status(const char *params, struct ilio_status *st);
int ilio_parse_table(const char *params, struct ilio_table *tb);
void ilio_dev_release(struct ilio_dev *dev);
struct ilio_dev *ilio_dev_add(struct ilio_dev **devs, size_t *nr,
			      size_t *cap);
void ilio_print_devs(const struct ilio_dev *devs, size_t nr, bool json);
/* metrics.c */
void ilio_print_prometheus(const struct ilio_dev *devs, size_t nr);
bool ilio_dev_is_persistent(const struct ilio_dev *dev);
bool ilio_savings(const struct ilio_dev *dev, double *ratio, double *pct);

/* cmd-status.c: the device list of "status" and "list" */
int ilio_devs_from_lines(const char **st_lines, size_t st_nr,
			 const char **tb_lines, size_t tb_nr,
			 struct ilio_dev **devs, size_t *nr);
int ilio_devs_from_kernel(const char *name, struct ilio_dev **devs,
			  size_t *nr);

/**
 * enum ilio_units - how sizes are printed (--bytes, --si)
 * @ILIO_UNITS_BINARY: powers of 1024, "1.50 GiB" (the default)
 * @ILIO_UNITS_SI: powers of 1000, "1.61 GB"
 * @ILIO_UNITS_BYTES: exact byte counts, "1610612736"
 */
enum ilio_units {
	ILIO_UNITS_BINARY,
	ILIO_UNITS_SI,
	ILIO_UNITS_BYTES,
};

extern enum ilio_units ilio_size_units;
int ilio_units_opt(const char *cmd, int id, bool *seen);

/* status.c: every value's name, from ilio-fields.h */
extern const struct ilio_field ilio_fields[ILIO_ST_ALL];

/* render.c: rows and sizes */
struct ilio_rows;
struct ilio_rows *ilio_rows_new(void);
void __printf(3, 4) ilio_row(struct ilio_rows *r, const char *label,
			     const char *fmt, ...);
void ilio_rows_print(struct ilio_rows *r);
const char *ilio_human(unsigned long long bytes, char *buf, size_t size);
void ilio_print_class_stats(const unsigned long long *v);
const char *ilio_human_binary(unsigned long long bytes, char *buf,
			      size_t size);
void __printf(4, 5) ilio_append(char *buf, size_t size, size_t *len,
				const char *fmt, ...);

/* The commands, one file each (cmd-*.c); each returns the exit code. */
int ilio_cmd_help(int argc, char **argv);
int ilio_cmd_version(int argc, char **argv);
int ilio_cmd_create(int argc, char **argv);
int ilio_cmd_remove(int argc, char **argv);
int ilio_cmd_status(int argc, char **argv);
int ilio_cmd_iostat(int argc, char **argv);
int ilio_cmd_clear_stats(int argc, char **argv);
int ilio_cmd_format(int argc, char **argv);
int ilio_cmd_info(int argc, char **argv);
int ilio_cmd_multihost(int argc, char **argv);
int ilio_cmd_probe(int argc, char **argv);
int ilio_cmd_activate(int argc, char **argv);
int ilio_cmd_message(int argc, char **argv);
int ilio_cmd_list(int argc, char **argv);
int ilio_cmd_grow(int argc, char **argv);
int ilio_cmd_path(int argc, char **argv);
int ilio_cmd_hints(int argc, char **argv);

/**
 * struct ilio_create_args - what "create" or "activate" was asked to build.
 * @name: device-mapper name (activate: NULL until the default is chosen).
 * @backing: backing device path, or NULL for diskless.
 * @journal: journal device path (persistent), or NULL.
 * @has_size: @size_bytes was given.
 * @size_bytes: logical size, a non-zero multiple of ILIO_SIZE_ALIGN.
 * @has_ram: @ram_mb was given.
 * @ram_mb: RAM budget in MiB, >= 1.
 * @dedup: deduplication on.
 * @compress: lz4 compression on.
 * @block_size: 4096 or 512.
 * @coalesce: persistent mode: "auto", "always" or "off"; NULL: the
 *	kernel's default.
 * @has_flush_interval: @flush_interval_ms was given.
 * @flush_interval_ms: persistent mode: write-back interval, 0 to
 *	ILIO_FLUSH_INTERVAL_MS_MAX.
 * @max_dirty_bytes: persistent mode: dirty data bound as given; 0: the
 *	kernel's default.
 * @has_max_dirty: --max-dirty was given.
 * @read_only: load a read-only table (--readonly).
 * @takeover: add the takeover flag (--takeover): activate without waiting
 *	for another host's multihost record to go stale.
 * @overcommit_warn: warn when the logical size exceeds this many times the
 *	store's capacity; 0: never.
 * @dry_run: check and print, load nothing.
 * @table_params: (testing) the parameter string given whole, instead of
 *	one built from the above.
 */
struct ilio_create_args {
	const char *name;
	const char *backing;
	const char *journal;
	bool has_size;
	unsigned long long size_bytes;
	bool has_ram;
	unsigned long long ram_mb;
	bool dedup;
	bool compress;
	unsigned int block_size;
	const char *coalesce;
	bool has_flush_interval;
	unsigned long long flush_interval_ms;
	unsigned long long max_dirty_bytes;
	bool has_max_dirty;
	bool read_only;
	bool takeover;
	unsigned long long overcommit_warn;
	bool dry_run;
	const char *table_params;
};

/* Default of --overcommit-warn: warn past 10 times the store's capacity. */
#define ILIO_OVERCOMMIT_WARN_DEFAULT	10

/* cmd-create.c: the options and checks that create and activate share */
int ilio_create_parse(int argc, char **argv, bool activate,
		      struct ilio_create_args *a);
struct ilio_store_info;
int ilio_create_run(const struct ilio_create_args *a,
		    const struct ilio_store_info *si);

#endif /* ILIOCTL_H */
