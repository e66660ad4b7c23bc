/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ilio-args: the table line grammar, parsed and printed.
 *
 * Usage (the constructor's arguments after "<start> <len> ilio"):
 *
 *   <backing_dev|-> <ram_mb> [<#feature_args> <feature_args>...]
 *
 *   backing_dev   block device that holds the persistent store;
 *                 "-" for diskless mode (everything in RAM)
 *   ram_mb        RAM budget in MiB: data, cache and metadata together
 *   feature_args  key/value pairs (and the takeover flag), each key at
 *                 most once:
 *     dedup on|off            inline deduplication (default on)
 *     compress lz4|none       lz4 compression (default lz4)
 *     block_size 4096|512     advertised logical block size (default 4096);
 *                             512 is served by read-modify-write
 *   persistent mode only:
 *     coalesce auto|always|off  when partial segments are written (auto)
 *     flush_interval_ms N     auto: oldest unwritten data, 0..3600000 (1000)
 *     max_dirty_mb N          unwritten data before writers wait
 *                             (default ram_mb / 4)
 *     journal <dev>           NV journal device that takes the flushes; the
 *                             store must be formatted with it (ilioctl
 *                             format --journal), and is refused without it
 *     takeover                a flag, no value: activate even if another
 *                             host's multihost record is ACTIVE, without
 *                             waiting for it to go stale (ilio-mmp.h);
 *                             read-write tables only, and a one-shot
 *                             choice: not printed in the TABLE line
 *
 * Messages ("dmsetup message <dev> 0 <verb>"), case-insensitive, none
 * takes an argument:
 *
 *   clear_stats   zero the counters
 *   compact, gc   reclaim space now (diskless: compaction; persistent: GC)
 *   checkpoint    persistent: write a checkpoint now
 *   check         a full consistency check; answers "ok" or what is wrong
 *
 * compact, gc and checkpoint change the store (ILIO_MSG_WRITES): the dm
 * glue refuses them while the device is suspended or degraded.
 *
 * The constructor's RAM budget checks are here too (ilio_check_budget(),
 * ilio_check_store_budget()), so that ilioctl, which links this file,
 * refuses what the constructor refuses.
 */
#ifndef ILIO_ARGS_H
#define ILIO_ARGS_H

#include <linux/types.h>

#include "ilio-limits.h"

/* The table key of the journal feature (ilioctl builds lines with it). */
#define ILIO_KEY_JOURNAL		"journal"
/* The takeover flag (ilioctl create/activate --takeover). */
#define ILIO_KEY_TAKEOVER		"takeover"

/* Values of struct ilio_params.coalesce (same as enum ilio_coalesce). */
#define ILIO_ARG_COALESCE_AUTO		0
#define ILIO_ARG_COALESCE_ALWAYS	1
#define ILIO_ARG_COALESCE_OFF		2

/**
 * struct ilio_params - a parsed table line
 * @backing: backing device (points into argv: the dm glue repoints it at
 *	the name of the device it opened, which lives as long as the table);
 *	NULL when diskless
 * @ram_mb: RAM budget in MiB
 * @dedup: inline deduplication on
 * @compress: lz4 compression on
 * @block_size: advertised logical block size, 4096 or 512
 * @coalesce: ILIO_ARG_COALESCE_*
 * @flush_interval_ms: coalesce auto: oldest unwritten data
 * @max_dirty_mb: unwritten data before writers wait
 * @journal: journal device (points into argv, repointed by the dm glue as
 *	@backing is); NULL without one
 * @takeover: take the store over from another host without waiting
 *	(multihost guard); never printed by ilio_format_table()
 */
struct ilio_params {
	const char *backing;
	u32 ram_mb;
	bool dedup;
	bool compress;
	u32 block_size;
	int coalesce;
	u32 flush_interval_ms;
	u32 max_dirty_mb;
	const char *journal;
	bool takeover;
};

int ilio_parse_args(struct ilio_params *p, unsigned int argc, char **argv,
		    const char **error);
int ilio_format_table(const struct ilio_params *p, char *buf, size_t len);
u64 ilio_budget_map_bytes(u64 ram_bytes, u32 seg_bytes);
u64 ilio_budget_min_bytes(u64 nr_blocks, u32 seg_bytes);
u64 ilio_budget_map_start_bytes(u64 nr_blocks);
u64 ilio_budget_store_bytes(u32 nr_segs, u32 seg_bytes);
int ilio_check_store_budget(u64 map_bytes, u64 ram_bytes, u32 nr_segs,
			    u32 seg_bytes, const char **error);
int ilio_check_budget(u64 nr_blocks, u64 ram_bytes, u32 seg_bytes,
		      const char **error);

/* Message verbs, the values of struct ilio_msg.verb. */
enum ilio_msg_verb {
	ILIO_MSG_CLEAR_STATS = 0,
	ILIO_MSG_COMPACT,
	ILIO_MSG_GC,
	ILIO_MSG_CHECKPOINT,
	ILIO_MSG_CHECK,
	ILIO_MSG_HINT,
	ILIO_MSG_HINTS,
	ILIO_MSG_NR,
};

/* struct ilio_msg.flags: the message changes the store. */
#define ILIO_MSG_WRITES		0x1U
/* ... or the device's region classes: refused while suspended only. */
#define ILIO_MSG_CLASSES	0x2U

/**
 * struct ilio_msg - a parsed message
 * @verb: enum ilio_msg_verb
 * @flags: ILIO_MSG_* of @verb
 * @nr_hints: hint: ranges in the message, 1..ILIO_HINT_BATCH_MAX
 *             (ilio-limits.h)
 * @hint_argv: hint: their words, 3 a range, all checked by the parser
 *             (ilio_msg_hint_range() reads range i: its class, clear
 *             as ILIO_CLASS_NORMAL, and its sectors, at least 1, the
 *             caller checks the device's end; valid while the message's
 *             argv is)
 */
struct ilio_msg {
	int verb;
	unsigned int flags;
	unsigned int nr_hints;
	char **hint_argv;
};

int ilio_parse_message(struct ilio_msg *m, unsigned int argc, char **argv,
		       const char **error);
const char *ilio_msg_name(int verb);
int ilio_msg_hint_range(const struct ilio_msg *m, unsigned int i, u64 *start,
			u64 *nr, int *cls);

#endif /* ILIO_ARGS_H */
