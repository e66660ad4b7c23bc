// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-list.c - "ilioctl list": one line per ilio device, as zramctl and
 * vdostats print theirs, laid out by libsmartcols: name, mode, logical
 * size, data held, stored bytes, savings, RAM used and limit, and the fill
 * of the backing device.  --bytes and --si choose the units, --json prints
 * the same columns as JSON (sizes in bytes), each object led by the
 * "schema_version" of "status --json".  The devices are read as
 * "status" reads them (cmd-status.c), --parse-status included.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libsmartcols.h>

#include "ilioctl.h"

/**
 * struct ilio_list_col - one column of "list"
 * @name: heading (and JSON key, in lower case)
 * @flags: SCOLS_FL_* (numbers are right-aligned)
 * @number: a number in JSON (its cell is null when undefined)
 */
struct ilio_list_col {
	const char *name;
	int flags;
	bool number;
};

enum {
	ILIO_COL_NAME,
	ILIO_COL_MODE,
	ILIO_COL_DISKSIZE,
	ILIO_COL_DATA,
	ILIO_COL_STORED,
	ILIO_COL_RATIO,
	ILIO_COL_SAVINGS,
	ILIO_COL_RAM_USED,
	ILIO_COL_RAM_LIMIT,
	ILIO_COL_FILL,
	ILIO_COL_NR,
};

static const struct ilio_list_col ilio_list_cols[ILIO_COL_NR] = {
	[ILIO_COL_NAME] = { "NAME", 0, false },
	[ILIO_COL_MODE] = { "MODE", 0, false },
	[ILIO_COL_DISKSIZE] = { "DISKSIZE", SCOLS_FL_RIGHT, true },
	[ILIO_COL_DATA] = { "DATA", SCOLS_FL_RIGHT, true },
	[ILIO_COL_STORED] = { "STORED", SCOLS_FL_RIGHT, true },
	[ILIO_COL_RATIO] = { "RATIO", SCOLS_FL_RIGHT, true },
	[ILIO_COL_SAVINGS] = { "SAVINGS", SCOLS_FL_RIGHT, true },
	[ILIO_COL_RAM_USED] = { "RAM-USED", SCOLS_FL_RIGHT, true },
	[ILIO_COL_RAM_LIMIT] = { "RAM-LIMIT", SCOLS_FL_RIGHT, true },
	[ILIO_COL_FILL] = { "FILL", SCOLS_FL_RIGHT, true },
};

static const struct ilio_opt ilio_list_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "json", 'j', false, ILIO_OPT_JSON },
	{ "bytes", 'b', false, ILIO_OPT_BYTES },
	{ "si", 0, false, ILIO_OPT_SI },
	{ "noheadings", 0, false, ILIO_OPT_NOHEADINGS },
	{ "parse-status", 0, true, ILIO_OPT_PARSE_STATUS },
	{ "parse-table", 0, true, ILIO_OPT_PARSE_TABLE },
	{ NULL, 0, false, 0 }
};

/*
 * The MODE cell: "diskless" or "persistent" (from the table; "-" when
 * unknown), with ",ro" or ",fail" when the kernel's mode word says so
 * (",<mode>" for a mode this ilioctl does not know).
 */
static void ilio_list_mode(const struct ilio_dev *dev, char *buf, size_t size)
{
	const char *kind = !dev->has_table ? "-" :
			   ilio_dev_is_persistent(dev) ? "persistent" : "diskless";
	const char *m = dev->st.mode;

	if (!strcmp(m, "read-only"))
		m = "ro";
	if (!strcmp(m, "write"))
		snprintf(buf, size, "%s", kind);
	else if (!dev->has_table)
		snprintf(buf, size, "%s", m);
	else
		snprintf(buf, size, "%s,%s", kind, m);
}

/* Set cell col of ln: a copy of s, or null (JSON) / "-" when s is NULL. */
static int ilio_cell(struct libscols_line *ln, int col, const char *s,
		     bool json)
{
	if (!s)
		return json ? 0 : scols_line_set_data(ln, col, "-");
	return scols_line_set_data(ln, col, s);
}

/*
 * One device's line.  In JSON, column 0 is "schema_version" (as in
 * "status --json"), and the columns of ilio_list_cols follow it.
 */
static int ilio_list_line(struct libscols_table *tb, const struct ilio_dev *dev,
			  bool json)
{
	const unsigned long long *v = dev->st.v;
	char cell[ILIO_COL_NR][64], schema[16];
	const char *c[ILIO_COL_NR];
	struct libscols_line *ln;
	double ratio, pct;
	int i, base = json ? 1 : 0;

	ln = scols_table_new_line(tb, NULL);
	if (!ln)
		return -1;
	snprintf(schema, sizeof(schema), "%d", ILIO_JSON_SCHEMA);
	if (json && scols_line_set_data(ln, 0, schema))
		return -1;
	c[ILIO_COL_NAME] = dev->name;
	ilio_list_mode(dev, cell[ILIO_COL_MODE], sizeof(cell[0]));
	c[ILIO_COL_MODE] = cell[ILIO_COL_MODE];
	c[ILIO_COL_DISKSIZE] = ilio_human(dev->len << ILIO_SECTOR_SHIFT,
					  cell[ILIO_COL_DISKSIZE], sizeof(cell[0]));
	c[ILIO_COL_DATA] = ilio_human(v[ILIO_ST_LOGICAL_BYTES],
				      cell[ILIO_COL_DATA], sizeof(cell[0]));
	c[ILIO_COL_STORED] = ilio_human(v[ILIO_ST_STORED_BYTES],
					cell[ILIO_COL_STORED], sizeof(cell[0]));
	c[ILIO_COL_RATIO] = NULL;
	c[ILIO_COL_SAVINGS] = NULL;
	if (ilio_savings(dev, &ratio, &pct)) {
		snprintf(cell[ILIO_COL_RATIO], sizeof(cell[0]),
			 json ? "%.2f" : "%.2fx", ratio);
		snprintf(cell[ILIO_COL_SAVINGS], sizeof(cell[0]),
			 json ? "%.1f" : "%.1f%%", pct);
		c[ILIO_COL_RATIO] = cell[ILIO_COL_RATIO];
		c[ILIO_COL_SAVINGS] = cell[ILIO_COL_SAVINGS];
	}
	c[ILIO_COL_RAM_USED] = ilio_human(v[ILIO_ST_RAM_USED_BYTES],
					  cell[ILIO_COL_RAM_USED], sizeof(cell[0]));
	c[ILIO_COL_RAM_LIMIT] = ilio_human(v[ILIO_ST_RAM_LIMIT_BYTES],
					   cell[ILIO_COL_RAM_LIMIT], sizeof(cell[0]));
	c[ILIO_COL_FILL] = NULL;
	if (dev->has_segs && dev->free_segments <= dev->nr_segments) {
		snprintf(cell[ILIO_COL_FILL], sizeof(cell[0]), json ? "%.1f" : "%.1f%%",
			 100.0 * (double)(dev->nr_segments - dev->free_segments) /
			 (double)dev->nr_segments);
		c[ILIO_COL_FILL] = cell[ILIO_COL_FILL];
	}
	for (i = 0; i < ILIO_COL_NR; i++) {
		if (ilio_cell(ln, base + i, c[i], json))
			return -1;
	}
	return 0;
}

/* The table of devs; returns 0 or ILIO_EXIT_FAIL. */
static int ilio_list_print(const struct ilio_dev *devs, size_t nr, bool json,
			   bool noheadings)
{
	struct libscols_column *cl;
	struct libscols_table *tb;
	char key[32];
	size_t i, k;
	int r = ILIO_EXIT_FAIL;

	tb = scols_new_table();
	if (!tb)
		return ilio_fail("out of memory");
	if (scols_table_enable_json(tb, json) ||
	    scols_table_enable_noheadings(tb, noheadings) ||
	    (json && scols_table_set_name(tb, "devices")))
		goto out;
	/* The JSON schema, as "status --json" has it: first in each object. */
	if (json) {
		cl = scols_table_new_column(tb, "schema_version", 0, 0);
		if (!cl || scols_column_set_json_type(cl, SCOLS_JSON_NUMBER))
			goto out;
	}
	for (i = 0; i < ILIO_COL_NR; i++) {
		const struct ilio_list_col *col = &ilio_list_cols[i];

		/* JSON keys in lower case: "ram-used". */
		for (k = 0; col->name[k] && k < sizeof(key) - 1; k++)
			key[k] = json ? (char)tolower((unsigned char)col->name[k]) :
					col->name[k];
		key[k] = '\0';
		cl = scols_table_new_column(tb, key, 0, col->flags);
		if (!cl || (json && col->number &&
			    scols_column_set_json_type(cl, SCOLS_JSON_NUMBER)))
			goto out;
	}
	for (i = 0; i < nr; i++) {
		if (ilio_list_line(tb, &devs[i], json))
			goto out;
	}
	if (!nr && !json) {
		puts("no ilio devices");
		r = ILIO_EXIT_OK;
		goto out;
	}
	scols_print_table(tb);
	r = ILIO_EXIT_OK;
out:
	scols_unref_table(tb);
	if (r)
		ilio_msg("out of memory: no output");
	return r;
}

int ilio_cmd_list(int argc, char **argv)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char **st_lines = NULL, **tb_lines = NULL;
	size_t st_nr = 0, tb_nr = 0, nr = 0, i;
	bool json = false, noheadings = false, units = false;
	struct ilio_dev *devs = NULL;
	const char *val;
	int id, r = 0;

	st_lines = calloc(argc + 1, sizeof(*st_lines));
	tb_lines = calloc(argc + 1, sizeof(*tb_lines));
	if (!st_lines || !tb_lines) {
		r = ilio_fail("out of memory");
		goto out;
	}
	while ((id = ilio_next_arg(&it, ilio_list_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			r = ILIO_EXIT_USAGE;
			goto out;
		case ILIO_ARG_POSITIONAL:
			r = ilio_usage_err("list: unexpected argument '%s' (%s)", val,
					   "ilioctl status NAME shows one device");
			goto out;
		case ILIO_OPT_HELP:
			r = ilio_cmd_help(0, NULL);
			goto out;
		case ILIO_OPT_JSON:
			json = true;
			break;
		case ILIO_OPT_BYTES:
		case ILIO_OPT_SI:
			r = ilio_units_opt("list", id, &units);
			if (r)
				goto out;
			break;
		case ILIO_OPT_NOHEADINGS:
			noheadings = true;
			break;
		case ILIO_OPT_PARSE_STATUS:
			st_lines[st_nr++] = val;
			break;
		case ILIO_OPT_PARSE_TABLE:
			tb_lines[tb_nr++] = val;
			break;
		}
	}
	if (tb_nr && !st_nr) {
		r = ilio_usage_err("list: --parse-table needs --parse-status");
		goto out;
	}
	/* JSON carries exact numbers. */
	if (json)
		ilio_size_units = ILIO_UNITS_BYTES;

	if (st_nr)
		r = ilio_devs_from_lines(st_lines, st_nr, tb_lines, tb_nr,
					 &devs, &nr);
	else
		r = ilio_devs_from_kernel(NULL, &devs, &nr);
	/* Show what could be read even if another device failed. */
	if (!r || nr) {
		int p = ilio_list_print(devs, nr, json, noheadings);

		r = r ? r : p;
	}
out:
	for (i = 0; i < nr; i++)
		ilio_dev_release(&devs[i]);
	free(devs);
	free((void *)st_lines);
	free((void *)tb_lines);
	return r;
}
