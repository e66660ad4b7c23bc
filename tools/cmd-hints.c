// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-hints.c - "ilioctl hints": region classes from files.
 *
 *   hints apply NAME|DEV [--rules FILE] [-n|--dry-run]
 *   hints show NAME
 *   hints rules
 *
 * apply finds the files of the device (hints-map.c) that the rules
 * (hints-rules.c; the default rules without --rules) give a class, merges
 * their runs into ranges, and sends them to the ilio device as messages:
 * first "hint clear 0 <len>", so that the device holds what the rules say
 * and nothing older, then "<class> <start> <nr>" per range, in messages of
 * up to ILIO_HINT_BATCH_MAX ranges ("hint clear 0 <len> pin 0 8 ...").  The
 * messages are the contract of Documentation/ilio-design.rst ("Region
 * classes: the message protocol (userspace side)").  With --dry-run
 * nothing is sent, and DEV may be any block device or image file; the
 * ranges are printed in the format documented in ilioctl(8):
 *
 *   fs<TAB>TYPE<TAB>START<TAB>SECTORS<TAB>WHERE     each filesystem walked
 *   run<TAB>CLASS<TAB>START<TAB>SECTORS<TAB>PATH    each run of each file
 *   hint<TAB>clear<TAB>0<TAB>SECTORS                the first message
 *   hint<TAB>CLASS<TAB>START<TAB>SECTORS<TAB>FILES<TAB>PATH
 *                                                   each message after it
 *   count<TAB>files|runs|hints<TAB>N
 *   class<TAB>CLASS<TAB>HINTS<TAB>SECTORS
 *   skipped<TAB>REASON<TAB>N
 *
 * Sectors are 512 bytes, absolute on the device.  In a PATH a tab, a
 * newline and a backslash are written \t, \n and \\, other control bytes
 * \xHH.
 *
 * show sends "hints" and prints the kernel's list of ranges, and per class
 * how many and how much (--parse-reply TEXT, testing: TEXT is the reply);
 * then, for a persistent device, the per-class statistics of sysfs
 * (ILIO_CLASS_FIELDS() of ilio-fields.h) as a table (--parse-stats TEXT,
 * testing: TEXT is those values in the header's order).
 * match (testing) prints the class the rules give each path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "ilioctl.h"
#include "hints.h"

static const struct ilio_opt ilio_hints_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
	{ "dry-run", 'n', false, ILIO_OPT_DRY_RUN },
	{ "rules", 0, true, ILIO_OPT_RULES },
	{ NULL, 0, false, 0 },
};

/* One range of a message: " <class> <start> <nr>", at its longest. */
#define ILIO_HINT_MSG_MAX	64

/**
 * struct ilio_hint - one range to send.
 * @start: first sector.
 * @nr: sectors.
 * @cls: &enum ilio_hint_class.
 * @depth: 0 on the device, 1 inside a disk image (sent later).
 * @file: the first file it came from (&struct ilio_hwalk.paths).
 * @files: how many files' runs it merges.
 */
struct ilio_hint {
	uint64_t start;
	uint64_t nr;
	int cls;
	int depth;
	size_t file;
	size_t files;
};

static int ilio_run_cmp(const void *a, const void *b)
{
	const struct ilio_hrun *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth - y->depth;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return 0;
}

/*
 * Merge the runs into ranges: sorted by depth then start, and a run that
 * touches or overlaps the previous range of its class and depth joins it.
 */
static struct ilio_hint *ilio_hints_merge(struct ilio_hwalk *w, size_t *nr)
{
	struct ilio_hrun *runs;
	struct ilio_hint *h;
	size_t i, n = 0;

	*nr = 0;
	runs = malloc((w->nr_runs ? w->nr_runs : 1) * sizeof(*runs));
	h = malloc((w->nr_runs ? w->nr_runs : 1) * sizeof(*h));
	if (!runs || !h) {
		free(runs);
		free(h);
		return NULL;
	}
	memcpy(runs, w->runs, w->nr_runs * sizeof(*runs));
	qsort(runs, w->nr_runs, sizeof(*runs), ilio_run_cmp);
	for (i = 0; i < w->nr_runs; i++) {
		struct ilio_hrun *r = &runs[i];
		struct ilio_hint *p = n ? &h[n - 1] : NULL;

		if (p && p->cls == r->cls && p->depth == r->depth &&
		    r->start <= p->start + p->nr) {
			if (r->start + r->nr > p->start + p->nr)
				p->nr = r->start + r->nr - p->start;
			if (runs[i - 1].file != r->file)
				p->files++;
			continue;
		}
		h[n++] = (struct ilio_hint){
			.start = r->start, .nr = r->nr, .cls = r->cls,
			.depth = r->depth, .file = r->file, .files = 1,
		};
	}
	free(runs);
	*nr = n;
	return h;
}

/* Print s with tabs, newlines, backslashes and control bytes escaped. */
static void ilio_put_path(const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\\')
			fputs("\\\\", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

static void ilio_hints_print(const struct ilio_hwalk *w, const struct ilio_hint *h,
			     size_t nr, const char *dev, uint64_t len)
{
	uint64_t hints[ILIO_HINT_NR] = { 0 }, sectors[ILIO_HINT_NR] = { 0 };
	size_t i;
	int c;

	printf("# ilioctl hints apply --dry-run %s: %llu sectors\n", dev,
	       (unsigned long long)len);
	if (w->fs)
		fputs(w->fs, stdout);
	for (i = 0; i < w->nr_runs; i++) {
		const struct ilio_hrun *r = &w->runs[i];

		printf("run\t%s\t%llu\t%llu\t", ilio_hint_class_name(r->cls),
		       (unsigned long long)r->start, (unsigned long long)r->nr);
		ilio_put_path(w->paths[r->file]);
		putchar('\n');
	}
	printf("hint\tclear\t0\t%llu\n", (unsigned long long)len);
	for (i = 0; i < nr; i++) {
		printf("hint\t%s\t%llu\t%llu\t%zu\t", ilio_hint_class_name(h[i].cls),
		       (unsigned long long)h[i].start, (unsigned long long)h[i].nr,
		       h[i].files);
		ilio_put_path(w->paths[h[i].file]);
		putchar('\n');
		hints[h[i].cls]++;
		sectors[h[i].cls] += h[i].nr;
	}
	printf("count\tfiles\t%zu\n", w->nr_paths);
	printf("count\truns\t%zu\n", w->nr_runs);
	printf("count\thints\t%zu\n", nr);
	for (c = 0; c < ILIO_HINT_NR; c++)
		printf("class\t%s\t%llu\t%llu\n", ilio_hint_class_name(c),
		       (unsigned long long)hints[c], (unsigned long long)sectors[c]);
	for (c = 0; c < ILIO_SKIP_NR; c++)
		printf("skipped\t%s\t%llu\n", ilio_hint_skip_names[c], w->skipped[c]);
}

/*
 * Explain the kernel's refusal of message msg (holding nr_ranges ranges, or
 * 0 for another message), the sent-th of total, after taken ranges; returns
 * ILIO_EXIT_FAIL.
 */
static int ilio_hints_refused(const char *name, const char *msg, size_t nr_ranges, int err,
			      size_t sent, size_t total, size_t taken)
{
	ilio_lib_errors_discard();
	if (nr_ranges > 1)
		ilio_fail("%s: the kernel refused '%.40s ...' (%zu ranges)%s%s", name, msg,
			  nr_ranges, err ? ": " : "", err ? strerror(err) : "");
	else
		ilio_fail("%s: the kernel refused '%s'%s%s", name, msg, err ? ": " : "",
			  err ? strerror(err) : "");
	ilio_kmsg_report();
	if (err == EINVAL && !sent && nr_ranges > 1)
		ilio_msg("%s: %s", name,
			 "a module older than this ilioctl takes one range a message, and one without region classes no hint message (see ilioctl(8), HINTS)");
	else if (err == EINVAL && !sent)
		ilio_msg("%s: %s", name,
			 "a module without region classes refuses every hint message (see ilioctl(8), HINTS)");
	if (sent)
		ilio_msg("%s: %zu of %zu messages (%zu ranges) were taken before it; %s", name,
			 sent, total, taken, "the device keeps them");
	else
		ilio_msg("%s: nothing was changed", name);
	return ILIO_EXIT_FAIL;
}

/*
 * Send the ranges, "hint clear 0 <len>" first, ILIO_HINT_BATCH_MAX to a
 * message: the kernel takes each message whole or not at all, so a device
 * with fewer than ILIO_HINT_BATCH_MAX ranges changes in one step.  Returns
 * the exit code.
 */
static int ilio_hints_send(const char *name, const struct ilio_hint *h, size_t nr,
			   uint64_t len)
{
	char msg[ILIO_HINT_BATCH_MAX * ILIO_HINT_MSG_MAX], *reply;
	size_t i = 0, n, sent = 0, total;
	int err, used;

	total = (nr + 1 + ILIO_HINT_BATCH_MAX - 1) / ILIO_HINT_BATCH_MAX;
	while (i <= nr) {
		used = snprintf(msg, sizeof(msg), "hint");
		for (n = 0; n < ILIO_HINT_BATCH_MAX && i <= nr; n++, i++) {
			if (!i)
				used += snprintf(msg + used, sizeof(msg) - used, " clear 0 %llu",
						 (unsigned long long)len);
			else
				used += snprintf(msg + used, sizeof(msg) - used, " %s %llu %llu",
						 ilio_hint_class_name(h[i - 1].cls),
						 (unsigned long long)h[i - 1].start,
						 (unsigned long long)h[i - 1].nr);
		}
		if (ilio_dm_message_reply(name, msg, &reply, &err))
			return ilio_hints_refused(name, msg, n, err, sent, total, i - n);
		free(reply);
		sent++;
	}
	return ILIO_EXIT_OK;
}

/* Open dev read-only: fd, its size in bytes, and rdev for a block device. */
static int ilio_hints_open(const char *dev, uint64_t *size, struct stat *st)
{
	unsigned long long bytes;
	int fd;

	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st)) {
		close(fd);
		return -errno;
	}
	if (S_ISBLK(st->st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes)) {
			close(fd);
			return -errno;
		}
		*size = bytes;
	} else if (S_ISREG(st->st_mode)) {
		*size = st->st_size;
	} else {
		close(fd);
		return -ENOTBLK;
	}
	return fd;
}

/* Is name an ilio device?  0, or the exit code after saying why not. */
static int ilio_hints_target(const char *name)
{
	char raw[ILIO_PARAMS_MAX];
	struct ilio_dev dev;
	int r;

	r = ilio_dm_available();
	if (r)
		return r;
	r = ilio_dm_lookup(name, &dev, raw, sizeof(raw));
	if (r && r != -EPROTO)
		return ilio_lookup_fail(name, r, raw);
	ilio_dev_release(&dev);
	ilio_lib_errors_discard();
	return 0;
}

static int ilio_hints_apply(int argc, char **argv)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char *arg = NULL, *rules_path = NULL, *val;
	char path[4096], name[DM_NAME_LEN];
	struct ilio_hint_rules rules;
	struct ilio_hwalk w = { 0 };
	struct ilio_hint *h = NULL;
	bool dry_run = false;
	uint64_t size = 0;
	struct stat st;
	size_t nr = 0;
	int id, r, fd;

	while ((id = ilio_next_arg(&it, ilio_hints_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (arg)
				return ilio_usage_err("hints apply: unexpected argument '%s'", val);
			arg = val;
			break;
		case ILIO_OPT_HELP:
			return ilio_cmd_help(0, NULL);
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		case ILIO_OPT_DRY_RUN:
			dry_run = true;
			break;
		case ILIO_OPT_RULES:
			rules_path = val;
			break;
		}
	}
	if (!arg)
		return ilio_usage_err("hints apply: missing device NAME or DEV");
	name[0] = '\0';
	if (strchr(arg, '/')) {
		snprintf(path, sizeof(path), "%s", arg);
	} else {
		r = ilio_check_name(arg);
		if (r)
			return r;
		snprintf(name, sizeof(name), "%s", arg);
		snprintf(path, sizeof(path), "%s/%s", ilio_dm_dir(), arg);
	}
	r = ilio_hint_rules_load(rules_path, &rules);
	if (r)
		return r;

	if (!dry_run && name[0]) {
		/* The messages go to this ilio device: check it before any work. */
		r = ilio_hints_target(name);
		if (r) {
			ilio_hint_rules_free(&rules);
			return r;
		}
	}
	fd = ilio_hints_open(path, &size, &st);
	if (fd < 0) {
		ilio_hint_rules_free(&rules);
		if (fd == -ENOTBLK)
			return ilio_fail("%s: not a block device nor an image file", path);
		return ilio_fail("cannot open %s: %s", path, strerror(-fd));
	}
	if (!dry_run && !name[0]) {
		/* DEV: the ilio device it is. */
		if (!S_ISBLK(st.st_mode) || ilio_dm_name_of(st.st_rdev, name, sizeof(name)))
			r = ilio_fail("%s is not an ilio device: %s", path,
				      "give --dry-run to print its hints only");
		else
			r = ilio_hints_target(name);
		if (r) {
			close(fd);
			ilio_hint_rules_free(&rules);
			return r;
		}
	}

	w.rules = &rules;
	r = ilio_hints_walk_device(&w, path, fd, size, st.st_rdev, S_ISBLK(st.st_mode));
	close(fd);
	if (!r) {
		h = ilio_hints_merge(&w, &nr);
		if (!h)
			r = -ENOMEM;
	}
	if (r == -ENOMEM) {
		r = ilio_fail("out of memory");
	} else if (r) {
		r = ilio_fail("%s: no hints (above)", path);
	} else if (dry_run) {
		ilio_hints_print(&w, h, nr, path, size >> ILIO_SECTOR_SHIFT);
	} else {
		r = ilio_hints_send(name, h, nr, size >> ILIO_SECTOR_SHIFT);
		if (!r)
			printf("%s: %zu ranges of %zu files sent\n", name, nr, w.nr_paths);
	}
	free(h);
	ilio_hwalk_free(&w);
	ilio_hint_rules_free(&rules);
	return r;
}

/*
 * One pass over the reply of "hints" (the protocol: "ranges <nr> <limit>
 * <bytes>", then "<class> <start> <nr>" a line): checks it, and prints it
 * when print.  Returns 0, or -EPROTO for a reply that is not this.
 */
static int ilio_hints_reply(const char *name, const char *reply, bool print)
{
	unsigned long long nr, limit, bytes, start, len, cnt[ILIO_HINT_NR] = { 0 };
	unsigned long long sum[ILIO_HINT_NR] = { 0 }, seen = 0;
	char word[16], a[32], b[32], c[32], h1[32];
	const char *p = reply;
	size_t n;
	int cls;

	if (sscanf(p, "ranges %31s %31s %31s", a, b, c) != 3 || ilio_parse_u64(a, &nr) ||
	    ilio_parse_u64(b, &limit) || ilio_parse_u64(c, &bytes))
		return -EPROTO;
	if (print)
		printf("%s: %llu ranges (at most %llu), class map %s\n", name, nr, limit,
		       ilio_human_binary(bytes, h1, sizeof(h1)));
	if (print && nr)
		printf("%-8s %12s %12s %12s\n", "CLASS", "START", "SECTORS", "SIZE");
	p = strchr(p, '\n');
	while (p && *++p) {
		n = strcspn(p, "\n");
		if (n > 80 || sscanf(p, "%15s %31s %31s", word, a, b) != 3)
			return -EPROTO;
		cls = ilio_hint_class_parse(word);
		if (cls < 0 || cls >= ILIO_HINT_NR || ilio_parse_u64(a, &start) ||
		    ilio_parse_u64(b, &len) || !len || len > (~0ULL >> ILIO_SECTOR_SHIFT))
			return -EPROTO;
		if (print)
			printf("%-8s %12llu %12llu %12s\n", word, start, len,
			       ilio_human_binary(len << ILIO_SECTOR_SHIFT, h1, sizeof(h1)));
		cnt[cls]++;
		sum[cls] += len;
		seen++;
		p += n;
		if (!*p)
			break;
	}
	if (seen != nr)
		return -EPROTO;
	for (cls = 0; print && cls < ILIO_HINT_NR; cls++)
		if (cnt[cls])
			printf("%-8s %llu ranges, %s\n", ilio_hint_class_name(cls), cnt[cls],
			       ilio_human_binary(sum[cls] << ILIO_SECTOR_SHIFT, h1, sizeof(h1)));
	return 0;
}

/*
 * Print the reply of "hints": the ranges, then per class how many and how
 * much.  A reply that does not follow the protocol is quoted and fails.
 * Returns the exit code.
 */
static int ilio_hints_render(const char *name, const char *reply)
{
	if (ilio_hints_reply(name, reply, false))
		return ilio_fail("%s: unexpected reply to 'hints' (%s): '%s'", name,
				 "see the protocol in ilio-design.rst", reply);
	ilio_hints_reply(name, reply, true);
	return ILIO_EXIT_OK;
}

/* --parse-stats TEXT: the values of ILIO_CLASS_FIELDS(), space-separated. */
static int ilio_hints_parse_stats(const char *text, unsigned long long *v)
{
	const char *p = text;
	char tok[32];
	int i;

	for (i = 0; i < ILIO_ST_CLASSES * ILIO_CST_NR; i++)
		if (ilio_token(&p, tok, sizeof(tok)) <= 0 || ilio_parse_u64(tok, &v[i]))
			return -EPROTO;
	return ilio_token(&p, tok, sizeof(tok)) ? -EPROTO : 0;
}

static int ilio_hints_show(int argc, char **argv)
{
	static const struct ilio_opt opts[] = {
		{ "help", 'h', false, ILIO_OPT_HELP },
		{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
		{ "parse-reply", 0, true, ILIO_OPT_PARSE_REPLY },
		{ "parse-stats", 0, true, ILIO_OPT_PARSE_STATS },
		{ NULL, 0, false, 0 },
	};
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char *name = NULL, *parse = NULL, *pstats = NULL, *val;
	char *reply, raw[ILIO_PARAMS_MAX];
	struct ilio_dev dev;
	int id, r, err;

	while ((id = ilio_next_arg(&it, opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (name)
				return ilio_usage_err("hints show: unexpected argument '%s'", val);
			name = val;
			break;
		case ILIO_OPT_HELP:
			return ilio_cmd_help(0, NULL);
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		case ILIO_OPT_PARSE_REPLY:
			parse = val;
			break;
		case ILIO_OPT_PARSE_STATS:
			pstats = val;
			break;
		}
	}
	if (!name)
		return ilio_usage_err("hints show: missing device NAME");
	r = ilio_check_name(name);
	if (r)
		return r;
	if (pstats && !parse)
		return ilio_usage_err("hints show: --parse-stats needs --parse-reply");
	if (parse) {
		if (pstats && ilio_hints_parse_stats(pstats, dev.classes))
			return ilio_fail("%s: --parse-stats: expected %d numbers", name,
					 ILIO_ST_CLASSES * ILIO_CST_NR);
		r = ilio_hints_render(name, parse);
		if (!r && pstats)
			ilio_print_class_stats(dev.classes);
		return r;
	}
	r = ilio_hints_target(name);
	if (r)
		return r;
	if (ilio_dm_message_reply(name, "hints", &reply, &err))
		return ilio_hints_refused(name, "hints", 0, err, 0, 1, 0);
	r = ilio_hints_render(name, reply);
	free(reply);
	if (r)
		return r;
	/* The statistics: a persistent device's sysfs files (ilio-fields.h). */
	r = ilio_dm_lookup(name, &dev, raw, sizeof(raw));
	if (r)
		return ilio_lookup_fail(name, r, raw);
	if (dev.has_classes)
		ilio_print_class_stats(dev.classes);
	else
		printf("per-class statistics: none (%s)\n",
		       ilio_dev_is_persistent(&dev) ? "a module without them" :
		       "a diskless device has no cache");
	ilio_dev_release(&dev);
	return ILIO_EXIT_OK;
}

/*
 * "hints match [--rules FILE] [--ntfs] PATH...": (testing) the class the
 * rules give each PATH ("-" for none), one "CLASS<TAB>PATH" line each;
 * --ntfs matches as on NTFS (ASCII case ignored).
 */
static int ilio_hints_match(int argc, char **argv)
{
	static const struct ilio_opt opts[] = {
		{ "help", 'h', false, ILIO_OPT_HELP },
		{ "rules", 0, true, ILIO_OPT_RULES },
		{ "ntfs", 0, false, ILIO_OPT_NTFS },
		{ NULL, 0, false, 0 },
	};
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char *rules_path = NULL, *val;
	struct ilio_hint_rules rules;
	bool icase = false;
	int id, r, cls, i, nr = 0;

	while ((id = ilio_next_arg(&it, opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			nr++;
			break;
		case ILIO_OPT_HELP:
			return ilio_cmd_help(0, NULL);
		case ILIO_OPT_RULES:
			rules_path = val;
			break;
		case ILIO_OPT_NTFS:
			icase = true;
			break;
		}
	}
	if (!nr)
		return ilio_usage_err("hints match: missing PATH");
	r = ilio_hint_rules_load(rules_path, &rules);
	if (r)
		return r;
	/* Again, for the paths in order (options are not paths). */
	it = (struct ilio_args){ .argc = argc, .argv = argv };
	for (i = 0; (id = ilio_next_arg(&it, opts, &val)) != ILIO_ARG_END; i++) {
		if (id != ILIO_ARG_POSITIONAL)
			continue;
		cls = ilio_hint_match(&rules, val, icase);
		printf("%s\t%s\n", cls < 0 ? "-" : ilio_hint_class_name(cls), val);
	}
	ilio_hint_rules_free(&rules);
	return ILIO_EXIT_OK;
}

int ilio_cmd_hints(int argc, char **argv)
{
	if (argc < 1)
		return ilio_usage_err("hints: missing apply, show or rules");
	if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))
		return ilio_cmd_help(0, NULL);
	if (!strcmp(argv[0], "apply"))
		return ilio_hints_apply(argc - 1, argv + 1);
	if (!strcmp(argv[0], "show"))
		return ilio_hints_show(argc - 1, argv + 1);
	if (!strcmp(argv[0], "match"))
		return ilio_hints_match(argc - 1, argv + 1);
	if (!strcmp(argv[0], "rules")) {
		if (argc > 1)
			return ilio_usage_err("hints rules: unexpected argument '%s'", argv[1]);
		fputs(ilio_hint_default_rules, stdout);
		return ILIO_EXIT_OK;
	}
	return ilio_usage_err("hints: unknown '%s' (apply, show or rules)", argv[0]);
}
