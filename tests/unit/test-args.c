// SPDX-License-Identifier: GPL-2.0
/*
 * test-args: proves the table-line parser (dm-ilio/ilio-args.c, the same
 * file the module uses) accepts every valid form with the right values,
 * rejects every malformed one with a specific message, and prints a
 * canonical line that parses back to the same parameters; and that the
 * message parser knows every verb (any case), flags exactly the ones
 * that change the store, and refuses the rest with a specific message;
 * and that the constructor's budget check (ilio_check_budget(), which
 * ilioctl links too) draws the line exactly where the space's own LBA-map
 * check does: the least budget it names is accepted by ilio_space_init(),
 * one byte less is refused by both.
 */
#include <stdlib.h>
#include <strings.h>

#include "ut.h"
#include "ilio-args.h"
#include "ilio-class.h"
#include "ilio-lbamap.h"
#include "ilio-space.h"

static int parse(const char *line, struct ilio_params *p, const char **err)
{
	static char buf[512];
	char *argv[32], *tok;
	unsigned int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok(buf, " "); tok && argc < 32; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	*err = NULL;
	return ilio_parse_args(p, argc, argv, err);
}

static void t_valid(void)
{
	struct ilio_params p;
	const char *err;
	char out[256];

	CHECK(parse("- 2048", &p, &err) == 0, "%s", err);
	CHECK(!p.backing && p.ram_mb == 2048 && p.dedup && p.compress &&
	      p.block_size == 4096, "defaults");
	ilio_format_table(&p, out, sizeof(out));
	CHECK(!strcmp(out, "- 2048 6 dedup on compress lz4 block_size 4096"),
	      "canonical: %s", out);

	CHECK(parse("/dev/sdb 64 6 block_size 512 compress none dedup off",
		    &p, &err) == 0, "%s", err);
	CHECK(p.backing && !strcmp(p.backing, "/dev/sdb") && p.ram_mb == 64 &&
	      !p.dedup && !p.compress && p.block_size == 512, "values");
	ilio_format_table(&p, out, sizeof(out));
	CHECK(!strcmp(out, "/dev/sdb 64 12 dedup off compress none block_size 512 coalesce auto flush_interval_ms 1000 max_dirty_mb 16"),
	      "canonical: %s", out);
	/* The canonical line parses back to itself. */
	CHECK(parse(out, &p, &err) == 0, "reparse: %s", err);
	CHECK(!p.dedup && !p.compress && p.block_size == 512, "reparse values");
	CHECK(parse("/dev/sdb 64 6 coalesce always flush_interval_ms 0 max_dirty_mb 8",
		    &p, &err) == 0, "persistent features: %s", err);
	CHECK(p.coalesce == ILIO_ARG_COALESCE_ALWAYS && p.flush_interval_ms == 0 &&
	      p.max_dirty_mb == 8, "persistent values");
	CHECK(parse("/dev/sdb 64 2 coalesce off", &p, &err) == 0 &&
	      p.coalesce == ILIO_ARG_COALESCE_OFF, "coalesce off");
	CHECK(parse("/dev/sdb 64 2 journal /dev/pmem0", &p, &err) == 0 &&
	      p.journal && !strcmp(p.journal, "/dev/pmem0"), "journal: %s", err);
	ilio_format_table(&p, out, sizeof(out));
	CHECK(!strcmp(out, "/dev/sdb 64 14 dedup on compress lz4 block_size 4096 coalesce auto flush_interval_ms 1000 max_dirty_mb 16 journal /dev/pmem0"),
	      "canonical with journal: %s", out);
	CHECK(parse(out, &p, &err) == 0 && p.journal &&
	      !strcmp(p.journal, "/dev/pmem0"), "journal reparses: %s", err);
	/* takeover: a flag, one-shot, never in the TABLE line. */
	CHECK(parse("/dev/sdb 64 1 takeover", &p, &err) == 0 && p.takeover,
	      "takeover alone: %s", err);
	CHECK(parse("/dev/sdb 64 5 dedup off takeover coalesce off", &p, &err) == 0 &&
	      p.takeover && !p.dedup && p.coalesce == ILIO_ARG_COALESCE_OFF,
	      "takeover between pairs: %s", err);
	ilio_format_table(&p, out, sizeof(out));
	CHECK(!strstr(out, "takeover"), "takeover not printed: %s", out);
	CHECK(parse("/dev/sdb 64 2 dedup off", &p, &err) == 0 && !p.takeover,
	      "no takeover by default");
	CHECK(parse("- 4 0", &p, &err) == 0, "zero features: %s", err);
	CHECK(parse("- 16777216", &p, &err) == 0, "max ram: %s", err);
}

static void t_invalid(void)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{ "", "Not enough arguments" },
		{ "-", "Not enough arguments" },
		{ "- 0", "Invalid ram_mb: must be" },
		{ "- 64 2 coalesce always", "coalesce, flush_interval_ms, max_dirty_mb, journal, takeover need a backing device" },
		{ "- 64 2 max_dirty_mb 8", "coalesce, flush_interval_ms, max_dirty_mb, journal, takeover need a backing device" },
		{ "/dev/x 64 2 coalesce sometimes", "Invalid coalesce" },
		{ "/dev/x 64 2 flush_interval_ms 3600001", "Invalid flush_interval_ms" },
		{ "/dev/x 64 2 flush_interval_ms -1", "Invalid flush_interval_ms" },
		{ "/dev/x 64 2 max_dirty_mb 0", "Invalid max_dirty_mb" },
		{ "/dev/x 64 2 max_dirty_mb 65", "Invalid max_dirty_mb: more than ram_mb" },
		{ "/dev/x 64 4 coalesce auto coalesce off", "Feature argument given twice" },
		{ "- 64 2 journal /dev/y", "coalesce, flush_interval_ms, max_dirty_mb, journal, takeover need a backing device" },
		{ "/dev/x 64 2 journal -", "Invalid journal" },
		{ "/dev/x 64 4 journal /dev/y journal /dev/z", "Feature argument given twice" },
		{ "- 3", "Invalid ram_mb: must be" },
		{ "- 16777217", "Invalid ram_mb: must be" },
		{ "- 12x", "Invalid ram_mb: not a decimal" },
		{ "- -5", "Invalid ram_mb: not a decimal" },
		{ "- 99999999999999999999", "Invalid ram_mb: not a decimal" },
		{ "- 64 2 dedup", "Invalid feature argument count" },
		{ "- 64 x", "Invalid feature argument count" },
		{ "- 64 1 dedup", "Feature arguments must be key/value pairs" },
		{ "- 64 2 dedup on extra", "Feature argument count does not match" },
		{ "- 64 2 frobnicate on", "Unknown feature argument" },
		{ "- 64 2 dedup yes", "Invalid dedup" },
		{ "- 64 2 compress zstd", "Invalid compress" },
		{ "- 64 2 block_size 1024", "Invalid block_size" },
		{ "- 64 2 block_size 4k", "Invalid block_size" },
		{ "- 64 4 dedup on dedup off", "Feature argument given twice" },
		{ "- 64 1 takeover", "coalesce, flush_interval_ms, max_dirty_mb, journal, takeover need a backing device" },
		{ "/dev/x 64 2 takeover takeover", "Feature argument given twice" },
		{ "/dev/x 64 2 takeover dedup", "Feature arguments must be key/value pairs" },
	};
	struct ilio_params p;
	const char *err;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret = parse(bad[i].line, &p, &err);

		CHECK(ret == -EINVAL && err &&
		      !strncmp(err, bad[i].msg, strlen(bad[i].msg)),
		      "'%s': ret %d, error '%s'", bad[i].line, ret,
		      err ? err : "(none)");
	}
}

static int parse_msg(const char *line, struct ilio_msg *m, const char **err)
{
	static char buf[8192];
	static char *argv[256];
	char *tok;
	unsigned int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (tok = strtok(buf, " "); tok && argc < 256; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	*err = NULL;
	return ilio_parse_message(m, argc, argv, err);
}

static void t_messages(void)
{
	static const struct {
		const char *line;
		int verb;
		unsigned int flags;
	} good[] = {
		{ "clear_stats", ILIO_MSG_CLEAR_STATS, 0 },
		{ "compact", ILIO_MSG_COMPACT, ILIO_MSG_WRITES },
		{ "gc", ILIO_MSG_GC, ILIO_MSG_WRITES },
		{ "GC", ILIO_MSG_GC, ILIO_MSG_WRITES },
		{ "checkpoint", ILIO_MSG_CHECKPOINT, ILIO_MSG_WRITES },
		{ "check", ILIO_MSG_CHECK, 0 },
		{ "Check", ILIO_MSG_CHECK, 0 },
	};
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{ "", "Empty message" },
		{ "frobnicate", "Unknown message" },
		{ "checkpoints", "Unknown message" },
		{ "gc 5", "This message takes no arguments" },
		{ "check now", "This message takes no arguments" },
	};
	struct ilio_msg m;
	const char *err;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		int ret = parse_msg(good[i].line, &m, &err);

		CHECK(ret == 0 && m.verb == good[i].verb && m.flags == good[i].flags,
		      "'%s': ret %d verb %d flags %u (%s)", good[i].line, ret,
		      m.verb, m.flags, err ? err : "");
		CHECK(!strcasecmp(ilio_msg_name(m.verb), good[i].line),
		      "name of '%s': '%s'", good[i].line, ilio_msg_name(m.verb));
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret = parse_msg(bad[i].line, &m, &err);

		CHECK(ret == -EINVAL && err && !strcmp(err, bad[i].msg),
		      "'%s': ret %d, error '%s'", bad[i].line, ret,
		      err ? err : "(none)");
	}
	CHECK(!strcmp(ilio_msg_name(ILIO_MSG_NR), "") &&
	      !strcmp(ilio_msg_name(-1), ""), "names out of range");
}

#define HINT_USAGE \
	"Usage: hint <pin|nocache|temp|normal|clear> <start_sector> <nr_sectors> [...]"

/*
 * hint with several ranges: each one read back as sent, 64 accepted and 65
 * refused.
 */
static void t_hint_batches(void)
{
	static char line[8192];
	struct ilio_msg m;
	const char *err;
	unsigned int i, n;
	u64 start, nr;
	int cls, ret, bad = 0;

	ret = parse_msg("hint pin 0 8 nocache 16 8 clear 0 4", &m, &err);
	CHECK(ret == 0 && m.nr_hints == 3 && !ilio_msg_hint_range(&m, 0, &start, &nr, &cls) &&
	      cls == ILIO_CLASS_PIN && start == 0 && nr == 8,
	      "three ranges: ret %d, %u ranges, the first %d %llu+%llu", ret, m.nr_hints, cls,
	      (unsigned long long)start, (unsigned long long)nr);
	CHECK(!ilio_msg_hint_range(&m, 1, &start, &nr, &cls) && cls == ILIO_CLASS_NOCACHE &&
	      start == 16 && nr == 8, "range 2 of 3: nocache 16+8");
	CHECK(!ilio_msg_hint_range(&m, 2, &start, &nr, &cls) && cls == ILIO_CLASS_NORMAL &&
	      start == 0 && nr == 4, "range 3 of 3: clear 0+4");
	CHECK(ilio_msg_hint_range(&m, 3, &start, &nr, &cls) == -EINVAL,
	      "range 4 of 3 is refused");
	ret = parse_msg("hint temp 5 1", &m, &err);
	CHECK(ret == 0 && m.nr_hints == 1 && !ilio_msg_hint_range(&m, 0, &start, &nr, &cls) &&
	      cls == ILIO_CLASS_TEMP && start == 5 && nr == 1, "one range");
	ret = parse_msg("hints", &m, &err);
	CHECK(ret == 0 && ilio_msg_hint_range(&m, 0, &start, &nr, &cls) == -EINVAL,
	      "hints has no range");
	for (n = ILIO_HINT_BATCH_MAX; n <= ILIO_HINT_BATCH_MAX + 1; n++) {
		size_t len = snprintf(line, sizeof(line), "hint");

		for (i = 0; i < n; i++)
			len += snprintf(line + len, sizeof(line) - len, " %s %u %u",
					ilio_class_name(i % ILIO_NR_CLASSES), i * 100, i + 1);
		ret = parse_msg(line, &m, &err);
		if (n == ILIO_HINT_BATCH_MAX) {
			CHECK(ret == 0 && m.nr_hints == n, "%u ranges accepted (ret %d)", n, ret);
			for (i = 0; i < n; i++)
				if (ilio_msg_hint_range(&m, i, &start, &nr, &cls) ||
				    cls != (int)(i % ILIO_NR_CLASSES) || start != i * 100 ||
				    nr != i + 1)
					bad++;
			CHECK(!bad, "each of the %u ranges read back as sent (%d differ)", n, bad);
		} else {
			CHECK(ret == -EINVAL && err &&
			      !strcmp(err, "Too many ranges in one hint message (at most 64)"),
			      "%u ranges refused: '%s'", n, err ? err : "(none)");
		}
	}
}

/* hint <class|clear> <start> <nr> and hints. */
static void t_hint_messages(void)
{
	static const struct {
		const char *line;
		int cls;
		u64 start, nr;
	} good[] = {
		{ "hint pin 0 8", ILIO_CLASS_PIN, 0, 8 },
		{ "hint nocache 2048 1", ILIO_CLASS_NOCACHE, 2048, 1 },
		{ "hint temp 18446744073709551614 1", ILIO_CLASS_TEMP, ~0ULL - 1, 1 },
		{ "hint normal 7 9", ILIO_CLASS_NORMAL, 7, 9 },
		{ "hint clear 0 100", ILIO_CLASS_NORMAL, 0, 100 },
		{ "HINT pin 1 1", ILIO_CLASS_PIN, 1, 1 },
	};
	static const struct {
		const char *line, *msg;
	} bad[] = {
		{ "hint", HINT_USAGE },
		{ "hint pin 0", HINT_USAGE },
		{ "hint pin 0 8 9", HINT_USAGE },
		{ "hint pin 0 8 nocache 16", HINT_USAGE },
		{ "hint pin 0 8 nocache 16 8 temp", HINT_USAGE },
		{ "hint pin 0 8 hot 16 8", "Unknown class (pin, nocache, temp, normal or clear)" },
		{ "hint pin 0 8 temp 16 0", "Bad range: start and a non-zero length, in sectors" },
		{ "hint pin 0 8 temp 18446744073709551615 2",
		  "Bad range: start and a non-zero length, in sectors" },
		{ "hint Pin 0 8", "Unknown class (pin, nocache, temp, normal or clear)" },
		{ "hint hot 0 8", "Unknown class (pin, nocache, temp, normal or clear)" },
		{ "hint pin 0 0", "Bad range: start and a non-zero length, in sectors" },
		{ "hint pin -1 8", "Bad range: start and a non-zero length, in sectors" },
		{ "hint pin 0x10 8", "Bad range: start and a non-zero length, in sectors" },
		{ "hint pin 8 8k", "Bad range: start and a non-zero length, in sectors" },
		{ "hint pin 18446744073709551615 2", "Bad range: start and a non-zero length, in sectors" },
		{ "hint pin 18446744073709551616 1", "Bad range: start and a non-zero length, in sectors" },
		{ "hints all", "This message takes no arguments" },
	};
	struct ilio_msg m;
	const char *err;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		int ret = parse_msg(good[i].line, &m, &err), cls = -1;
		u64 start = 0, nr = 0;

		if (!ret)
			ret = ilio_msg_hint_range(&m, 0, &start, &nr, &cls);
		CHECK(ret == 0 && m.verb == ILIO_MSG_HINT && m.flags == ILIO_MSG_CLASSES &&
		      cls == good[i].cls && start == good[i].start && nr == good[i].nr,
		      "'%s': ret %d verb %d cls %d %llu+%llu (%s)", good[i].line, ret, m.verb,
		      cls, (unsigned long long)start, (unsigned long long)nr, err ? err : "");
	}
	CHECK(parse_msg("hints", &m, &err) == 0 && m.verb == ILIO_MSG_HINTS && !m.flags,
	      "hints");
	CHECK(ilio_class_parse("pin") == ILIO_CLASS_PIN &&
	      ilio_class_parse("nocache") == ILIO_CLASS_NOCACHE &&
	      ilio_class_parse("temp") == ILIO_CLASS_TEMP &&
	      ilio_class_parse("normal") == ILIO_CLASS_NORMAL &&
	      ilio_class_parse("Pin") == -EINVAL && ilio_class_parse("") == -EINVAL,
	      "class names");
	CHECK(!strcmp(ilio_class_name(ILIO_CLASS_NOCACHE), "nocache") &&
	      !strcmp(ilio_class_name(9), "?"), "class names printed");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int ret = parse_msg(bad[i].line, &m, &err);

		CHECK(ret == -EINVAL && err && !strcmp(err, bad[i].msg),
		      "'%s': ret %d, error '%s'", bad[i].line, ret, err ? err : "(none)");
	}
}

static void t_budget(void)
{
	static const u64 sizes[] = {
		1, 1023, 1024, 1025, 262144, 1ULL << 32, ILIO_LBAMAP_MAX_BLOCKS,
	};
	static const u32 segs[] = { 1U << 20, 65536, 4096 };
	struct ilio_space sp;
	const char *err;
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (j = 0; j < ARRAY_SIZE(segs); j++) {
			u64 min = ilio_budget_min_bytes(sizes[i], segs[j]);
			int a, b;

			CHECK(ilio_check_budget(sizes[i], min, segs[j], &err) == 0,
			      "%llu blocks, seg %u: the minimum %llu refused",
			      (unsigned long long)sizes[i], segs[j],
			      (unsigned long long)min);
			err = NULL;
			a = ilio_check_budget(sizes[i], min - 1, segs[j], &err);
			CHECK(a == -E2BIG && err &&
			      !strcmp(err, "ram_mb is too small for the LBA map of this length"),
			      "%llu blocks: one byte less: %d %s",
			      (unsigned long long)sizes[i], a, err ? err : "");
			/* The space (what the constructor builds) agrees. */
			if (sizes[i] > (1ULL << 32))
				continue;	/* a 1 GiB directory: skip allocating it */
			b = ilio_space_init(&sp, sizes[i], min - 1, segs[j]);
			ilio_space_exit(&sp);
			CHECK(b == -E2BIG, "space init below the minimum: %d", b);
			b = ilio_space_init(&sp, sizes[i], min, segs[j]);
			ilio_space_exit(&sp);
			CHECK(b == 0, "space init at the minimum: %d", b);
		}
	}
	CHECK(ilio_check_budget(ILIO_LBAMAP_MAX_BLOCKS + 1, ~0ULL, 1U << 20, &err) == -EFBIG &&
	      !strcmp(err, "Target length too large (at most 512 TiB)"), "too long");
	CHECK(ilio_check_budget(0, ~0ULL, 1U << 20, &err) == -EINVAL, "zero length");
	/* 16 TiB over 4 MiB (issue #10): refused; 35 MiB suffices. */
	CHECK(ilio_check_budget(1ULL << 32, 4ULL << 20, 1U << 20, &err) == -E2BIG, "16T/4M");
	CHECK(ilio_check_budget(1ULL << 32, 35ULL << 20, 1U << 20, &err) == 0, "16T/35M");
	CHECK(ilio_check_budget(1ULL << 32, 34ULL << 20, 1U << 20, &err) == -E2BIG, "16T/34M");
	/* The store's check: map + tables + 4 segments, to the byte. */
	{
		u64 m = ilio_budget_map_start_bytes(262144);
		u64 need = m + ilio_budget_store_bytes(1023, 1U << 20);

		CHECK(m == 256 * 8 + 4 * 8 + 4096, "map start %llu",
		      (unsigned long long)m);
		CHECK(ilio_check_store_budget(m, need, 1023, 1U << 20, &err) == 0,
		      "store budget at the minimum");
		CHECK(ilio_check_store_budget(m, need - 1, 1023, 1U << 20, &err) == -E2BIG &&
		      !strcmp(err, "ram_mb is too small for the segment table of this device"),
		      "store budget one byte short");
	}
	CHECK(ilio_budget_map_bytes(2ULL << 20, 1U << 20) == 0 &&
	      ilio_budget_map_bytes(3ULL << 20, 1U << 20) == 1ULL << 20 &&
	      ilio_budget_map_bytes(1ULL << 20, 4096) == (1ULL << 20) - 2 * 65536,
	      "map bytes: two segments of at least ILIO_SEG_BYTES_MIN spared");
}

static const struct ut_case cases[] = {
	{ "args_valid", t_valid },
	{ "args_invalid", t_invalid },
	{ "messages", t_messages },
	{ "hint_messages", t_hint_messages },
	{ "hint_batches", t_hint_batches },
	{ "budget", t_budget },
};

int main(int argc, char **argv)
{
	return ut_run(cases, ARRAY_SIZE(cases), argc, argv);
}
