// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-args: libFuzzer target for the table-line parser and the message
 * parser (dm-ilio/ilio-args.c, the module's own file).  The input is split
 * into words the way dm splits a table line or a message
 * (dm_split_args(): white space separates, a backslash escapes the next
 * character), then parsed.  Proves that no input makes the parsers crash,
 * leak or hit undefined behaviour (ASan, UBSan), or write to the words
 * they were given; that whatever they accept is within the documented
 * bounds; that a refusal is -EINVAL with a message; and that the
 * canonical line (ilio_format_table(), ilio_msg_name()) parses back to
 * exactly the same result and prints the same line again - also into a
 * buffer of any size, which it must never overrun.
 *
 * Input: the first byte selects the parser: 't' table line, 'm' message,
 * anything else by its low bit (0 table, 1 message).  The rest, up to a
 * NUL, is the line.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>

#include "ilio-args.h"
#include "ilio-class.h"

#define MAX_WORDS	256
#define LINE_MAX_LEN	4096

/* The dm glue repoints a parsed backing path at the opened dm_dev's name. */
#define DM_DEV_NAME	"254:16"
/* ... and the journal's likewise. */
#define DM_JDEV_NAME	"254:32"

static void finding(const char *what, const char *line)
{
	fprintf(stderr, "fuzz-args: %s: '%s'\n", what, line);
	abort();
}

/*
 * Split @s in place into at most MAX_WORDS words as dm_split_args() does.
 * Return: the word count, or -1 when there are too many.
 */
static int split(char *s, char **argv)
{
	int argc = 0;
	char *out;

	for (;;) {
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			return argc;
		if (argc == MAX_WORDS)
			return -1;
		argv[argc++] = out = s;
		while (*s && !isspace((unsigned char)*s)) {
			if (*s == '\\' && s[1])
				s++;
			*out++ = *s++;
		}
		if (*s)
			s++;
		*out = '\0';
	}
}

/* Parse @line (a copy) as a table line into @p; the argv check included. */
static int parse_table(const char *line, struct ilio_params *p,
		       const char **err, char *keep, char **argv)
{
	char copy[LINE_MAX_LEN + 1], *words[MAX_WORDS];
	int argc, ret, i;
	size_t off;

	snprintf(keep, LINE_MAX_LEN + 1, "%s", line);
	argc = split(keep, argv);
	if (argc < 0)
		return -E2BIG;
	/* A second copy of the words, to prove the parser wrote none. */
	for (i = 0, off = 0; i < argc; i++) {
		words[i] = copy + off;
		off += strlen(argv[i]) + 1;
		strcpy(words[i], argv[i]);
	}
	*err = NULL;
	ret = ilio_parse_args(p, argc, argv, err);
	for (i = 0; i < argc; i++)
		if (strcmp(words[i], argv[i]))
			finding("the parser changed a word", line);
	return ret;
}

static void check_bounds(const struct ilio_params *p, const char *line)
{
	if (p->ram_mb < ILIO_RAM_MB_MIN || p->ram_mb > ILIO_RAM_MB_MAX)
		finding("ram_mb out of bounds", line);
	if (p->block_size != 4096 && p->block_size != 512)
		finding("block_size out of bounds", line);
	if (p->coalesce != ILIO_ARG_COALESCE_AUTO &&
	    p->coalesce != ILIO_ARG_COALESCE_ALWAYS &&
	    p->coalesce != ILIO_ARG_COALESCE_OFF)
		finding("coalesce out of bounds", line);
	if (p->flush_interval_ms > 3600000)
		finding("flush_interval_ms out of bounds", line);
	if (!p->max_dirty_mb || p->max_dirty_mb > p->ram_mb)
		finding("max_dirty_mb out of bounds", line);
	if (p->backing && !p->backing[0])
		finding("empty backing device accepted", line);
	if (p->backing && !strcmp(p->backing, "-"))
		finding("'-' taken as a backing device", line);
	if (p->journal && (!p->journal[0] || !strcmp(p->journal, "-")))
		finding("empty or '-' journal device accepted", line);
	if (p->journal && !p->backing)
		finding("journal on a diskless table", line);
	/* Diskless: the persistent-only settings keep their defaults. */
	if (!p->backing &&
	    (p->coalesce != ILIO_ARG_COALESCE_AUTO ||
	     p->flush_interval_ms != 1000 ||
	     p->max_dirty_mb != max(p->ram_mb / 4, 1U)))
		finding("persistent-only setting on a diskless table", line);
}

static bool same_params(const struct ilio_params *a,
			const struct ilio_params *b)
{
	if (!a->backing != !b->backing ||
	    (a->backing && strcmp(a->backing, b->backing)))
		return false;
	if (!a->journal != !b->journal ||
	    (a->journal && strcmp(a->journal, b->journal)))
		return false;
	return a->ram_mb == b->ram_mb && a->dedup == b->dedup &&
	       a->compress == b->compress && a->block_size == b->block_size &&
	       a->coalesce == b->coalesce &&
	       a->flush_interval_ms == b->flush_interval_ms &&
	       a->max_dirty_mb == b->max_dirty_mb;
}

static void fuzz_table(const char *line, unsigned int salt)
{
	static char keep[LINE_MAX_LEN + 1], keep2[LINE_MAX_LEN + 1];
	char *argv[MAX_WORDS], *argv2[MAX_WORDS];
	char canon[512], again[512], *small;
	struct ilio_params p, p2;
	const char *err;
	int ret, n, n2;
	size_t len;

	ret = parse_table(line, &p, &err, keep, argv);
	if (ret == -E2BIG)
		return;
	if (ret) {
		if (ret != -EINVAL || !err || !err[0])
			finding("refusal without -EINVAL and a message", line);
		return;
	}
	check_bounds(&p, line);
	if (p.backing)
		p.backing = DM_DEV_NAME;
	if (p.journal)
		p.journal = DM_JDEV_NAME;

	n = ilio_format_table(&p, canon, sizeof(canon));
	if (n <= 0 || (size_t)n >= sizeof(canon) || strlen(canon) != (size_t)n)
		finding("canonical line too long or miscounted", line);
	/* Any buffer size: never overrun, always terminated, same prefix. */
	len = salt % (n + 2);
	small = malloc(len ? len : 1);
	if (!small)
		abort();
	if (ilio_format_table(&p, small, len) != n)
		finding("format into a small buffer counts differently", line);
	if (len && (strlen(small) != min(len - 1, (size_t)n) ||
		    strncmp(small, canon, len - 1)))
		finding("format into a small buffer differs", line);
	free(small);

	ret = parse_table(canon, &p2, &err, keep2, argv2);
	if (ret)
		finding("the canonical line does not parse", canon);
	if (!same_params(&p, &p2))
		finding("the canonical line parses to other parameters", canon);
	n2 = ilio_format_table(&p2, again, sizeof(again));
	if (n2 != n || strcmp(again, canon))
		finding("the canonical line is not a fixed point", canon);
}

static const unsigned int verb_flags[ILIO_MSG_NR] = {
	[ILIO_MSG_CLEAR_STATS] = 0,
	[ILIO_MSG_COMPACT] = ILIO_MSG_WRITES,
	[ILIO_MSG_GC] = ILIO_MSG_WRITES,
	[ILIO_MSG_CHECKPOINT] = ILIO_MSG_WRITES,
	[ILIO_MSG_CHECK] = 0,
	[ILIO_MSG_HINT] = ILIO_MSG_CLASSES,
	[ILIO_MSG_HINTS] = 0,
};

/*
 * An accepted hint: 1 + 3n words for n ranges (1..ILIO_HINT_BATCH_MAX),
 * each a known class and a non-empty range that does not wrap; printed
 * back canonically, it parses to the same ranges.
 */
static void fuzz_hint(const struct ilio_msg *m, int argc, const char *line)
{
	static char buf[ILIO_HINT_BATCH_MAX * 64 + 8];
	char *argv[MAX_WORDS], *p;
	struct ilio_msg m2;
	const char *err = NULL;
	u64 start, nr, start2, nr2;
	int i, cls, cls2;
	size_t len;

	if (m->nr_hints < 1 || m->nr_hints > ILIO_HINT_BATCH_MAX ||
	    argc != 1 + 3 * (int)m->nr_hints)
		finding("accepted a hint with a wrong word count", line);
	len = snprintf(buf, sizeof(buf), "hint");
	for (i = 0; i < (int)m->nr_hints; i++) {
		if (ilio_msg_hint_range(m, i, &start, &nr, &cls) || cls < 0 ||
		    cls >= ILIO_NR_CLASSES || !nr || start + nr < start)
			finding("accepted a hint range out of bounds", line);
		len += snprintf(buf + len, sizeof(buf) - len, " %s %llu %llu",
				ilio_class_name(cls), (unsigned long long)start,
				(unsigned long long)nr);
	}
	for (i = 0, p = strtok(buf, " "); p && i < MAX_WORDS; p = strtok(NULL, " "))
		argv[i++] = p;
	if (i != argc || ilio_parse_message(&m2, i, argv, &err) || m2.verb != m->verb ||
	    m2.nr_hints != m->nr_hints) {
		finding("the canonical hint does not parse back", line);
		return;
	}
	for (i = 0; i < (int)m->nr_hints; i++) {
		ilio_msg_hint_range(m, i, &start, &nr, &cls);
		if (ilio_msg_hint_range(&m2, i, &start2, &nr2, &cls2) || start2 != start ||
		    nr2 != nr || cls2 != cls)
			finding("a canonical hint range differs", line);
	}
}

static void fuzz_message(const char *line)
{
	static char keep[LINE_MAX_LEN + 1];
	char *argv[MAX_WORDS], name[32], *one[1];
	struct ilio_msg m, m2;
	const char *err = NULL;
	int argc, ret;

	snprintf(keep, sizeof(keep), "%s", line);
	argc = split(keep, argv);
	if (argc < 0)
		return;
	ret = ilio_parse_message(&m, argc, argv, &err);
	if (ret) {
		if (ret != -EINVAL || !err || !err[0])
			finding("message refusal without -EINVAL and a message", line);
		return;
	}
	if (m.verb == ILIO_MSG_HINT) {
		fuzz_hint(&m, argc, line);
		return;
	}
	if (m.verb < 0 || m.verb >= ILIO_MSG_NR || argc != 1)
		finding("accepted a message out of bounds", line);
	if (m.flags != verb_flags[m.verb])
		finding("a message with the wrong flags", line);
	if (strcasecmp(argv[0], ilio_msg_name(m.verb)))
		finding("accepted a verb that is not its name", line);
	/* Round trip through the canonical name. */
	snprintf(name, sizeof(name), "%s", ilio_msg_name(m.verb));
	one[0] = name;
	if (ilio_parse_message(&m2, 1, one, &err) || m2.verb != m.verb ||
	    m2.flags != m.flags)
		finding("the canonical verb does not parse back", name);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	char line[LINE_MAX_LEN + 1];
	unsigned int salt = 0;
	size_t n;
	u8 sel;

	if (!size)
		return 0;
	sel = data[0];
	data++;
	size--;
	n = size < LINE_MAX_LEN ? size : LINE_MAX_LEN;
	memcpy(line, data, n);
	line[n] = '\0';
	for (n = 0; n < size; n++)
		salt = salt * 31 + data[n];

	/* The name of an out-of-range verb is empty, never a wild read. */
	if (ilio_msg_name(-1)[0] || ilio_msg_name(ILIO_MSG_NR)[0])
		finding("a name for an out-of-range verb", "");
	if (sel == 'm' || (sel != 't' && (sel & 1)))
		fuzz_message(line);
	else
		fuzz_table(line, salt);
	return 0;
}
