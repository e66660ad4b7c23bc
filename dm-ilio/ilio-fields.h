/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-fields: the statistics interface, defined once.
 *
 * Every value that users read - the INFO status line ("dmsetup status"),
 * the files of /sys/block/dm-N/ilio/ and the keys of "ilioctl status
 * --json" - is one row of the lists below.  ilio_status() (ilio-target.c)
 * emits the status line from them, ilio-sysfs.c makes one attribute per
 * row, and ilioctl (tools/) parses the line and names its JSON keys with
 * them.  A field is added here and nowhere else, at the end of its list.
 *
 * The header includes nothing: it is built into the module, into the
 * userspace unit tests and into ilioctl alike.
 *
 * A row is X(ID, name, pos, src, scope, member, doc):
 *   ID      suffix of the enum ilio_stat constant ILIO_ST_<ID>
 *   name    sysfs file name and JSON key (and the status field's name in
 *           the admin guide, Documentation/admin-guide/device-mapper/
 *           ilio.rst)
 *   pos     position on the INFO line (field 1 is the mode word); 0 for
 *           a value that only sysfs shows
 *   src     CORE: member of struct ilio_stats (ilio-core.h); FRONT:
 *           member of struct ilio_front_stats (ilio-target.h), the dm
 *           glue's own atomic counters
 *   scope   ANY: meaningful on every device; PERSISTENT: only with a
 *           backing device (always 0 on a diskless one, whose sysfs
 *           directory does not show it; its doc starts "persistent:")
 *   member  that struct member
 *   doc     one line for the reader
 */
#ifndef ILIO_FIELDS_H
#define ILIO_FIELDS_H

/*
 * ILIO_STATUS_FIELDS() - the numeric INFO status fields, in line order:
 * fields 2, 3, ...  Only appended to: ilioctl reads the 17-field line of
 * modules older than persistent mode (ILIO_STATUS_FIELDS_V1()) and the
 * 23-field line of modules before the fill fields (..._V2()) as well as
 * today's.  The header checks that each row's pos is its place.
 *
 * Fields 2 to 17, the line of modules older than persistent mode.
 */
#define ILIO_STATUS_FIELDS_V1(X)					\
	X(LOGICAL_BYTES, logical_bytes, 2, CORE, ANY, logical_bytes,	\
	  "mapped, non-zero logical bytes")				\
	X(UNIQUE_BYTES, unique_bytes, 3, CORE, ANY, unique_bytes,	\
	  "unique chunks x block size: after dedup, before compression") \
	X(STORED_BYTES, stored_bytes, 4, CORE, ANY, stored_bytes,	\
	  "payload bytes of the unique chunks after compression")	\
	X(RAM_USED_BYTES, ram_used_bytes, 5, CORE, ANY, ram_used_bytes,	\
	  "RAM charged to the budget: segments + metadata")		\
	X(RAM_LIMIT_BYTES, ram_limit_bytes, 6, CORE, ANY, ram_limit_bytes, \
	  "the RAM budget")						\
	X(DEDUP_HITS, dedup_hits, 7, CORE, ANY, dedup_hits,		\
	  "blocks written that matched a stored chunk")			\
	X(ZERO_BLOCKS, zero_blocks, 8, CORE, ANY, zero_blocks,		\
	  "blocks written that were all zeroes")			\
	X(FRONT_READ_IOS, front_read_ios, 9, FRONT, ANY, read_ios,	\
	  "read bios received")						\
	X(FRONT_READ_BYTES, front_read_bytes, 10, FRONT, ANY, read_bytes, \
	  "bytes read")							\
	X(FRONT_WRITE_IOS, front_write_ios, 11, FRONT, ANY, write_ios,	\
	  "write bios with data received")				\
	X(FRONT_WRITE_BYTES, front_write_bytes, 12, FRONT, ANY, write_bytes, \
	  "bytes written")						\
	X(BACKEND_READ_IOS, backend_read_ios, 13, CORE, ANY, backend_read_ios, \
	  "reads sent to the backing device")				\
	X(BACKEND_READ_BYTES, backend_read_bytes, 14, CORE, ANY,	\
	  backend_read_bytes, "bytes read from the backing device")	\
	X(BACKEND_WRITE_IOS, backend_write_ios, 15, CORE, ANY,		\
	  backend_write_ios, "writes sent to the backing device")	\
	X(BACKEND_WRITE_BYTES, backend_write_bytes, 16, CORE, ANY,	\
	  backend_write_bytes, "bytes written to the backing device")	\
	X(NOSPC_ERRORS, nospc_errors, 17, CORE, ANY, nospc_errors,	\
	  "writes refused with ENOSPC")

/* Fields 18 to 23, appended with persistent mode. */
#define ILIO_STATUS_FIELDS_V2(X)					\
	X(DIRTY_BYTES, dirty_bytes, 18, CORE, PERSISTENT, dirty_bytes,	\
	  "persistent: bytes in RAM not yet written back")		\
	X(CACHE_HITS, cache_hits, 19, CORE, PERSISTENT, cache_hits,	\
	  "persistent: reads served from RAM")				\
	X(CACHE_MISSES, cache_misses, 20, CORE, PERSISTENT, cache_misses, \
	  "persistent: reads that went to the backing device")		\
	X(FLUSHES, flushes, 21, CORE, PERSISTENT, flushes,		\
	  "persistent: flush and FUA requests completed")		\
	X(GC_MOVED_BYTES, gc_moved_bytes, 22, CORE, PERSISTENT, gc_moved_bytes, \
	  "persistent: record bytes GC moved")				\
	X(GC_FREED_SEGMENTS, gc_freed_segments, 23, CORE, PERSISTENT,	\
	  gc_freed_segments, "persistent: segments returned to the free pool")

/* Fields 24 and 25: the backing device's fill. */
#define ILIO_STATUS_FIELDS_V3(X)					\
	X(BACKEND_BYTES, backend_bytes, 24, CORE, PERSISTENT, backend_bytes, \
	  "persistent: bytes of the backing device's log area")	\
	X(BACKEND_FREE_BYTES, backend_free_bytes, 25, CORE, PERSISTENT,	\
	  backend_free_bytes,						\
	  "persistent: bytes of free segments in the log area")

/* ILIO_SYSFS_FIELDS() - the values that only sysfs shows. */
#define ILIO_SYSFS_FIELDS(X)						\
	X(UNIQUE_CHUNKS, unique_chunks, 0, CORE, ANY, unique_chunks,	\
	  "unique chunks stored")					\
	X(METADATA_BYTES, metadata_bytes, 0, CORE, ANY, meta_bytes,	\
	  "the metadata part of ram_used_bytes")			\
	X(DEDUP_CANDIDATES_CAPPED, dedup_candidates_capped, 0, CORE, ANY, \
	  dedup_candidates_capped,					\
	  "blocks stored new because their lookup hit the candidate bound") \
	X(COMPACTIONS, compactions, 0, CORE, ANY, compactions,		\
	  "segments emptied by the compactor")				\
	X(COMPACT_MOVED_BYTES, compact_moved_bytes, 0, CORE, ANY,	\
	  compact_moved_bytes, "record bytes the compactor copied")	\
	X(INLINE_READS, inline_reads, 0, FRONT, ANY, inline_reads,	\
	  "read bios served in the submitter's context")		\
	X(INLINE_WRITES, inline_writes, 0, FRONT, ANY, inline_writes,	\
	  "write bios served in the submitter's context")		\
	X(CACHE_BYTES, cache_bytes, 0, CORE, PERSISTENT, cache_bytes,	\
	  "persistent: RAM held by the clean-chunk cache")		\
	X(BACKEND_FLUSHES, backend_flushes, 0, CORE, PERSISTENT, backend_flushes, \
	  "persistent: flushes sent to the backing device")		\
	X(CHECKPOINTS, checkpoints, 0, CORE, PERSISTENT, checkpoints,	\
	  "persistent: checkpoints written")				\
	X(FREE_SEGMENTS, free_segments, 0, CORE, PERSISTENT, free_segments, \
	  "persistent: free segments on the backing device")		\
	X(NR_SEGMENTS, nr_segments, 0, CORE, PERSISTENT, nr_segments,	\
	  "persistent: segments on the backing device")			\
	X(CHUNKS_DAMAGED, chunks_damaged, 0, CORE, PERSISTENT, chunks_damaged, \
	  "persistent: live chunks whose record was found damaged")	\
	X(JOURNAL_WRITES, journal_writes, 0, CORE, PERSISTENT, journal_writes, \
	  "persistent: records written to the journal device")		\
	X(JOURNAL_BYTES, journal_bytes, 0, CORE, PERSISTENT, journal_bytes, \
	  "persistent: bytes written to the journal device")		\
	X(JOURNAL_FAILED, journal_failed, 0, CORE, PERSISTENT, journal_failed, \
	  "persistent: 1 once the journal failed and flushes went to the LUN") \
	X(ELIDED_BYTES, elided_bytes, 0, CORE, PERSISTENT, elided_bytes,	\
	  "persistent: record bytes dropped unwritten: dead before their unit closed") \
	ILIO_CLASS_FIELDS(X)

/*
 * ILIO_CLASS_FIELDS() - the per-class values (issue 12), sysfs only: for
 * each region class of ilio-class.h, in the order of enum ilio_class,
 * its cache hits, cache misses, cached bytes and dirty bytes.  The rows of
 * class C are ILIO_ST_CLASS(C, ILIO_CST_HITS) .. (C, ILIO_CST_DIRTY_BYTES).
 * The members index the class arrays of struct ilio_stats by the
 * ILIO_CLASS_* constants, which only the module's expansion needs.
 */
#define ILIO_CLASS_FIELDS(X)						\
	X(NORMAL_CACHE_HITS, normal_cache_hits, 0, CORE, PERSISTENT,		\
	  class_hits[ILIO_CLASS_NORMAL], "persistent: reads of normal chunks served from RAM") \
	X(NORMAL_CACHE_MISSES, normal_cache_misses, 0, CORE, PERSISTENT,	\
	  class_misses[ILIO_CLASS_NORMAL],					\
	  "persistent: reads of normal chunks that went to the backing device") \
	X(NORMAL_CACHE_BYTES, normal_cache_bytes, 0, CORE, PERSISTENT,	\
	  class_cache_bytes[ILIO_CLASS_NORMAL],				\
	  "persistent: clean-cache RAM held by normal chunks")		\
	X(NORMAL_DIRTY_BYTES, normal_dirty_bytes, 0, CORE, PERSISTENT,	\
	  class_dirty_bytes[ILIO_CLASS_NORMAL],				\
	  "persistent: record bytes of normal chunks not yet written back") \
	X(PIN_CACHE_HITS, pin_cache_hits, 0, CORE, PERSISTENT,		\
	  class_hits[ILIO_CLASS_PIN], "persistent: reads of pin chunks served from RAM") \
	X(PIN_CACHE_MISSES, pin_cache_misses, 0, CORE, PERSISTENT,	\
	  class_misses[ILIO_CLASS_PIN],					\
	  "persistent: reads of pin chunks that went to the backing device") \
	X(PIN_CACHE_BYTES, pin_cache_bytes, 0, CORE, PERSISTENT,	\
	  class_cache_bytes[ILIO_CLASS_PIN],				\
	  "persistent: clean-cache RAM held by pin chunks")		\
	X(PIN_DIRTY_BYTES, pin_dirty_bytes, 0, CORE, PERSISTENT,	\
	  class_dirty_bytes[ILIO_CLASS_PIN],				\
	  "persistent: record bytes of pin chunks not yet written back") \
	X(NOCACHE_CACHE_HITS, nocache_cache_hits, 0, CORE, PERSISTENT,		\
	  class_hits[ILIO_CLASS_NOCACHE], "persistent: reads of nocache chunks served from RAM") \
	X(NOCACHE_CACHE_MISSES, nocache_cache_misses, 0, CORE, PERSISTENT,	\
	  class_misses[ILIO_CLASS_NOCACHE],					\
	  "persistent: reads of nocache chunks that went to the backing device") \
	X(NOCACHE_CACHE_BYTES, nocache_cache_bytes, 0, CORE, PERSISTENT,	\
	  class_cache_bytes[ILIO_CLASS_NOCACHE],				\
	  "persistent: clean-cache RAM held by nocache chunks")		\
	X(NOCACHE_DIRTY_BYTES, nocache_dirty_bytes, 0, CORE, PERSISTENT,	\
	  class_dirty_bytes[ILIO_CLASS_NOCACHE],				\
	  "persistent: record bytes of nocache chunks not yet written back") \
	X(TEMP_CACHE_HITS, temp_cache_hits, 0, CORE, PERSISTENT,		\
	  class_hits[ILIO_CLASS_TEMP], "persistent: reads of temp chunks served from RAM") \
	X(TEMP_CACHE_MISSES, temp_cache_misses, 0, CORE, PERSISTENT,	\
	  class_misses[ILIO_CLASS_TEMP],					\
	  "persistent: reads of temp chunks that went to the backing device") \
	X(TEMP_CACHE_BYTES, temp_cache_bytes, 0, CORE, PERSISTENT,	\
	  class_cache_bytes[ILIO_CLASS_TEMP],				\
	  "persistent: clean-cache RAM held by temp chunks")		\
	X(TEMP_DIRTY_BYTES, temp_dirty_bytes, 0, CORE, PERSISTENT,	\
	  class_dirty_bytes[ILIO_CLASS_TEMP],				\
	  "persistent: record bytes of temp chunks not yet written back")

#define ILIO_STATUS_FIELDS(X)						\
	ILIO_STATUS_FIELDS_V1(X) ILIO_STATUS_FIELDS_V2(X) ILIO_STATUS_FIELDS_V3(X)

/* Every numeric value: the status fields, then the sysfs-only ones. */
#define ILIO_ALL_FIELDS(X)	ILIO_STATUS_FIELDS(X) ILIO_SYSFS_FIELDS(X)

/* ILIO_FIELD_ENUM() - generator: the enum ilio_stat constant of a row. */
#define ILIO_FIELD_ENUM(ID, name, pos, src, scope, member, doc) ILIO_ST_##ID,

/**
 * enum ilio_stat - index of every numeric value, ILIO_ST_<ID>
 * @ILIO_ST_NR_V1: numeric fields of the 17-field line of older modules
 * @ILIO_ST_NR_V2: numeric fields of the 23-field line of modules before
 *	the backing device's fill was on it
 * @ILIO_ST_NR: numeric status fields today (the line has one more, the
 *	mode word); status field N is ILIO_ST_<ID> N - 2
 * @ILIO_ST_ALL: every value, the sysfs-only ones after ILIO_ST_NR
 *
 * The _BASE constants only restart the numbering after each count.
 */
enum ilio_stat {
	ILIO_STATUS_FIELDS_V1(ILIO_FIELD_ENUM)
	ILIO_ST_NR_V1,
	ILIO_ST_V2_BASE = ILIO_ST_NR_V1 - 1,
	ILIO_STATUS_FIELDS_V2(ILIO_FIELD_ENUM)
	ILIO_ST_NR_V2,
	ILIO_ST_V3_BASE = ILIO_ST_NR_V2 - 1,
	ILIO_STATUS_FIELDS_V3(ILIO_FIELD_ENUM)
	ILIO_ST_NR,
	ILIO_ST_SYSFS_BASE = ILIO_ST_NR - 1,
	ILIO_SYSFS_FIELDS(ILIO_FIELD_ENUM)
	ILIO_ST_ALL
};

/*
 * The per-class rows: ILIO_CST_NR statistics (ILIO_CST_*) for each of
 * ILIO_ST_CLASSES classes, the last rows of all; ILIO_ST_CLASS() is the
 * enum ilio_stat of one.  The check below fails to build if the list and
 * these counts disagree.
 */
#define ILIO_CST_HITS		0
#define ILIO_CST_MISSES		1
#define ILIO_CST_CACHE_BYTES	2
#define ILIO_CST_DIRTY_BYTES	3
#define ILIO_CST_NR		4
#define ILIO_ST_CLASSES		4
#define ILIO_ST_CLASS(cls, cst) \
	(ILIO_ST_NORMAL_CACHE_HITS + (cls) * ILIO_CST_NR + (cst))

enum ilio_stat_class_check {
	ILIO_CLASS_ROWS_CHECK = 1 / (ILIO_ST_CLASS(ILIO_ST_CLASSES, 0) == ILIO_ST_ALL &&
				     ILIO_ST_CLASS(3, ILIO_CST_DIRTY_BYTES) ==
				     ILIO_ST_TEMP_DIRTY_BYTES),
};

/* Each status row's pos is its place on the line (1 / 0 fails to build). */
#define ILIO_FIELD_POS_CHECK(ID, name, pos, src, scope, member, doc) \
	ILIO_POS_CHECK_##ID = 1 / (ILIO_ST_##ID + 2 == (pos)),
enum ilio_stat_pos_check {
	ILIO_STATUS_FIELDS(ILIO_FIELD_POS_CHECK)
};

/* A row's scope as a truth value: persistent only? */
#define ILIO_SCOPE_PERSISTENT_ANY		0
#define ILIO_SCOPE_PERSISTENT_PERSISTENT	1
#define ILIO_SCOPE_PERSISTENT(scope)	ILIO_SCOPE_PERSISTENT_##scope
#define ILIO_FIELD_PERSISTENT(scope)	ILIO_SCOPE_PERSISTENT(scope)

/**
 * struct ilio_field - what a user of the lists may need of a row
 * @name: sysfs file name and JSON key
 * @pos: position on the status line, 0 for a sysfs-only value
 * @persistent: only meaningful with a backing device (scope PERSISTENT)
 * @doc: one line for the reader
 */
struct ilio_field {
	const char *name;
	int pos;
	int persistent;
	const char *doc;
};

/*
 * ILIO_FIELD_INFO() - generator: the struct ilio_field of a row, for
 * "static const struct ilio_field f[ILIO_ST_ALL] = {
 * ILIO_ALL_FIELDS(ILIO_FIELD_INFO) };".
 */
#define ILIO_FIELD_INFO(ID, _name, _pos, src, scope, member, _doc) \
	[ILIO_ST_##ID] = { .name = #_name, .pos = (_pos), \
			   .persistent = ILIO_FIELD_PERSISTENT(scope), .doc = (_doc) },

/*
 * Two sysfs files are not numbers: the mode word (also status field 1)
 * and the backend write size histogram (struct ilio_stats's
 * backend_write_hist, ten space-separated counts), whose scope is
 * ILIO_SYSFS_WHIST_SCOPE.
 */
#define ILIO_SYSFS_MODE		"mode"
#define ILIO_SYSFS_WHIST	"backend_write_size_hist"
#define ILIO_SYSFS_WHIST_SCOPE	PERSISTENT

/*
 * ILIO_MODE_WORDS() - X(ID, word): the mode word of each device mode, best
 * first, in the order of enum ilio_mode (ILIO_MODE_<ID>).
 */
#define ILIO_MODE_WORDS(X)						\
	X(WRITE, "write")						\
	X(READ_ONLY, "read-only")					\
	X(FAIL, "fail")

#define ILIO_MODE_ENUM(ID, word) ILIO_MODE_WORD_##ID,
#define ILIO_MODE_STR(ID, word) word,

/**
 * enum ilio_mode_word - index of a mode word, ILIO_MODE_WORD_<ID>
 * @ILIO_MODE_WORD_NR: number of modes
 *
 * Equal to enum ilio_mode's ILIO_MODE_<ID> (ilio-core.h generates that
 * enum from the same list).
 */
enum ilio_mode_word {
	ILIO_MODE_WORDS(ILIO_MODE_ENUM)
	ILIO_MODE_WORD_NR
};

/**
 * ilio_mode_word() - the status word of a device mode
 * @mode: enum ilio_mode
 *
 * Return: a static string; "fail" for a value out of range.
 */
static inline const char *ilio_mode_word(int mode)
{
	static const char * const words[] = { ILIO_MODE_WORDS(ILIO_MODE_STR) };

	if (mode < 0 || mode >= ILIO_MODE_WORD_NR)
		return "fail";
	return words[mode];
}

#endif /* ILIO_FIELDS_H */
