// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-iostat.c - "ilioctl iostat [NAME] [--interval S] [--count N]": a live
 * view, one line per device and interval, as iostat(1) and vmstat(1)
 * print them: front and backend I/O rates, the share of written blocks
 * that dedup or zero detection absorbed, the share of reads RAM served,
 * dirty data and RAM use.
 *
 * Rates come from the difference of two status readings; a counter that
 * went down (clear_stats) counts from zero.  A device that appears only
 * in the newer reading gets its first line one interval later.
 *
 * Testing without a kernel: --parse-status LINE, repeated, gives the
 * readings in order (LINE as for "status"; the lines of one reading are
 * the lines up to the next line of a device already seen), --interval is
 * taken as the time between them and nothing sleeps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ilioctl.h"

static const struct ilio_opt ilio_iostat_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "interval", 0, true, ILIO_OPT_INTERVAL },
	{ "count", 0, true, ILIO_OPT_COUNT },
	{ "parse-status", 0, true, ILIO_OPT_PARSE_STATUS },
	{ NULL, 0, false, 0 }
};

struct ilio_reading {
	struct ilio_dev *devs;
	size_t nr;
};

static void ilio_reading_free(struct ilio_reading *rd)
{
	size_t i;

	for (i = 0; i < rd->nr; i++)
		ilio_dev_release(&rd->devs[i]);
	free(rd->devs);
	rd->devs = NULL;
	rd->nr = 0;
}

/* Counter @i of @cur since @old (from zero if it went down). */
static unsigned long long ilio_delta(const struct ilio_dev *cur,
				     const struct ilio_dev *old, int i)
{
	unsigned long long c = i < (int)cur->st.nr ? cur->st.v[i] : 0;
	unsigned long long o = i < (int)old->st.nr ? old->st.v[i] : 0;

	return c >= o ? c - o : c;
}

static void ilio_iostat_header(void)
{
	printf("%-16s %9s %9s %9s %9s %8s %8s %9s %6s %6s %9s %5s\n",
	       "device", "r/s", "w/s", "rMiB/s", "wMiB/s", "be_r/s", "be_w/s",
	       "be_wMiB/s", "dedup%", "ram_r%", "dirtyMiB", "ram%");
}

static void ilio_pct(char *buf, size_t size, unsigned long long part,
		     unsigned long long whole)
{
	if (whole)
		snprintf(buf, size, "%.1f", 100.0 * (double)part / (double)whole);
	else
		snprintf(buf, size, "-");
}

/* One line: @cur against @old, @secs apart. */
static void ilio_iostat_line(const struct ilio_dev *cur,
			     const struct ilio_dev *old, double secs)
{
	const double mib = 1048576.0;
	unsigned long long w = ilio_delta(cur, old, ILIO_ST_FRONT_WRITE_BYTES);
	unsigned long long r = ilio_delta(cur, old, ILIO_ST_FRONT_READ_IOS);
	unsigned long long absorbed = ilio_delta(cur, old, ILIO_ST_DEDUP_HITS) +
				      ilio_delta(cur, old, ILIO_ST_ZERO_BLOCKS);
	unsigned long long be_r = ilio_delta(cur, old, ILIO_ST_BACKEND_READ_IOS);
	const unsigned long long *v = cur->st.v;
	char dedup[16], ramr[16], ram[16];

	ilio_pct(dedup, sizeof(dedup), absorbed, w / 4096);
	/*
	 * Reads the backend did not serve; "-" for a diskless device (no log
	 * area; an older module without field 24: nothing ever read).
	 */
	if (cur->st.nr >= ILIO_ST_NR ? v[ILIO_ST_BACKEND_BYTES] != 0 :
	    v[ILIO_ST_BACKEND_READ_IOS] || v[ILIO_ST_BACKEND_WRITE_IOS])
		ilio_pct(ramr, sizeof(ramr), r > be_r ? r - be_r : 0, r);
	else
		snprintf(ramr, sizeof(ramr), "-");
	ilio_pct(ram, sizeof(ram), v[ILIO_ST_RAM_USED_BYTES],
		 v[ILIO_ST_RAM_LIMIT_BYTES]);
	printf("%-16s %9.1f %9.1f %9.2f %9.2f %8.1f %8.1f %9.2f %6s %6s %9.1f %5s\n",
	       cur->name, (double)r / secs,
	       (double)ilio_delta(cur, old, ILIO_ST_FRONT_WRITE_IOS) / secs,
	       (double)ilio_delta(cur, old, ILIO_ST_FRONT_READ_BYTES) / mib / secs,
	       (double)w / mib / secs, (double)be_r / secs,
	       (double)ilio_delta(cur, old, ILIO_ST_BACKEND_WRITE_IOS) / secs,
	       (double)ilio_delta(cur, old, ILIO_ST_BACKEND_WRITE_BYTES) / mib / secs,
	       dedup, ramr,
	       cur->st.nr > ILIO_ST_DIRTY_BYTES ? (double)v[ILIO_ST_DIRTY_BYTES] / mib : 0.0,
	       ram);
}

static void ilio_iostat_report(const struct ilio_reading *cur,
			       const struct ilio_reading *old, double secs)
{
	size_t i, j;

	for (i = 0; i < cur->nr; i++)
		for (j = 0; j < old->nr; j++)
			if (!strcmp(cur->devs[i].name, old->devs[j].name)) {
				ilio_iostat_line(&cur->devs[i], &old->devs[j], secs);
				break;
			}
}

/* The next reading from the --parse-status lines, from *@pos on. */
static int ilio_iostat_next_lines(const char **lines, size_t nr, size_t *pos,
				  struct ilio_reading *rd)
{
	size_t end = *pos, i, j;
	int r;

	/* A reading ends before a device it already has. */
	for (end = *pos; end < nr; end++) {
		for (j = *pos; j < end; j++) {
			size_t a = strcspn(lines[j], " :"), b = strcspn(lines[end], " :");

			if (a == b && !strncmp(lines[j], lines[end], a))
				break;
		}
		if (j < end)
			break;
	}
	r = ilio_devs_from_lines(lines + *pos, end - *pos, NULL, 0, &rd->devs,
				 &rd->nr);
	for (i = 0; r && i < rd->nr; i++)
		ilio_dev_release(&rd->devs[i]);
	*pos = end;
	return r;
}

int ilio_cmd_iostat(int argc, char **argv)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	struct ilio_reading cur = { 0 }, old = { 0 };
	unsigned long long interval = 1, count = 0, n;
	const char **lines = NULL, *name = NULL, *val;
	size_t nr_lines = 0, pos = 0;
	int id, r = 0;

	lines = calloc(argc + 1, sizeof(*lines));
	if (!lines)
		return ilio_fail("out of memory");
	while ((id = ilio_next_arg(&it, ilio_iostat_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			r = ILIO_EXIT_USAGE;
			goto out;
		case ILIO_ARG_POSITIONAL:
			if (name) {
				r = ilio_usage_err("iostat: unexpected argument '%s'", val);
				goto out;
			}
			name = val;
			break;
		case ILIO_OPT_HELP:
			r = ilio_cmd_help(0, NULL);
			goto out;
		case ILIO_OPT_INTERVAL:
			if (ilio_parse_u64(val, &interval) || !interval || interval > 3600) {
				r = ilio_usage_err("iostat: --interval: 1 to 3600 s, not '%s'",
						   val);
				goto out;
			}
			break;
		case ILIO_OPT_COUNT:
			if (ilio_parse_u64(val, &count) || count > 1000000) {
				r = ilio_usage_err("iostat: --count: 0 (no end) to 10^6, not '%s'",
						   val);
				goto out;
			}
			break;
		case ILIO_OPT_PARSE_STATUS:
			lines[nr_lines++] = val;
			break;
		}
	}
	if (name && nr_lines) {
		r = ilio_usage_err("iostat: NAME cannot be combined with --parse-status");
		goto out;
	}
	if (name) {
		r = ilio_check_name(name);
		if (r)
			goto out;
	}
	r = nr_lines ? ilio_iostat_next_lines(lines, nr_lines, &pos, &old) :
		       ilio_devs_from_kernel(name, &old.devs, &old.nr);
	if (r)
		goto out;
	if (!nr_lines && !old.nr) {
		puts("no ilio devices");
		goto out;
	}
	ilio_iostat_header();
	fflush(stdout);
	for (n = 0; !count || n < count; n++) {
		if (nr_lines) {
			if (pos == nr_lines)
				break;
			r = ilio_iostat_next_lines(lines, nr_lines, &pos, &cur);
		} else {
			sleep((unsigned int)interval);
			r = ilio_devs_from_kernel(name, &cur.devs, &cur.nr);
		}
		if (r)
			break;
		ilio_iostat_report(&cur, &old, (double)interval);
		fflush(stdout);
		ilio_reading_free(&old);
		old = cur;
		cur.devs = NULL;
		cur.nr = 0;
	}
out:
	ilio_reading_free(&cur);
	ilio_reading_free(&old);
	free((void *)lines);
	return r;
}
