// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-status.c - "ilioctl status [NAME] [--json|--prometheus]
 * [--bytes|--si]": read the status of one or every ilio device from the
 * kernel (or, for testing, from --parse-status/--parse-table lines) and
 * render it (status.c, metrics.c).
 * "list" (cmd-list.c) reads its devices the same way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ilioctl.h"

static const struct ilio_opt ilio_status_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "json", 'j', false, ILIO_OPT_JSON },
	{ "bytes", 'b', false, ILIO_OPT_BYTES },
	{ "si", 0, false, ILIO_OPT_SI },
	{ "prometheus", 0, false, ILIO_OPT_PROMETHEUS },
	{ "parse-status", 0, true, ILIO_OPT_PARSE_STATUS },
	{ "parse-table", 0, true, ILIO_OPT_PARSE_TABLE },
	{ NULL, 0, false, 0 }
};

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
 * ilio_devs_from_lines() - build the device list from --parse-status and
 * --parse-table lines (testing).  Returns 0 or ILIO_EXIT_FAIL.
 */
int ilio_devs_from_lines(const char **st_lines, size_t st_nr,
			 const char **tb_lines, size_t tb_nr,
			 struct ilio_dev **devs, size_t *nr)
{
	size_t cap = 0, i, j;
	struct ilio_dev *dev, tmp;
	const char *params;
	int r;

	for (i = 0; i < st_nr; i++) {
		dev = ilio_dev_add(devs, nr, &cap);
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

/*
 * ilio_devs_from_kernel() - build the device list from the kernel: one
 * name, or every ilio device sorted by name.  Returns 0 or an exit code.
 */
int ilio_devs_from_kernel(const char *name, struct ilio_dev **devs,
			  size_t *nr)
{
	char raw[ILIO_PARAMS_MAX];
	struct ilio_dev *dev;
	size_t cap = 0;
	int r;

	r = ilio_dm_available();
	if (r)
		return r;

	if (name) {
		dev = ilio_dev_add(devs, nr, &cap);
		if (!dev)
			return ilio_fail("out of memory");
		r = ilio_dm_lookup(name, dev, raw, sizeof(raw));
		if (r) {
			(*nr)--;
			return ilio_lookup_fail(name, r, raw);
		}
		return 0;
	}

	r = ilio_dm_list(devs, nr);
	qsort(*devs, *nr, sizeof(**devs), ilio_dev_cmp);
	return r;
}

int ilio_cmd_status(int argc, char **argv)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char **st_lines = NULL, **tb_lines = NULL;
	size_t st_nr = 0, tb_nr = 0, nr = 0, i;
	struct ilio_dev *devs = NULL;
	const char *name = NULL, *val;
	bool json = false, units = false, prom = false;
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
			r = ilio_cmd_help(0, NULL);
			goto out;
		case ILIO_OPT_JSON:
			json = true;
			break;
		case ILIO_OPT_PROMETHEUS:
			prom = true;
			break;
		case ILIO_OPT_BYTES:
		case ILIO_OPT_SI:
			r = ilio_units_opt("status", id, &units);
			if (r)
				goto out;
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
	if (json && prom) {
		r = ilio_usage_err("status: give --json or --prometheus, not both");
		goto out;
	}
	if (tb_nr && !st_nr) {
		r = ilio_usage_err("status: --parse-table needs --parse-status");
		goto out;
	}

	if (st_nr)
		r = ilio_devs_from_lines(st_lines, st_nr, tb_lines, tb_nr,
					 &devs, &nr);
	else
		r = ilio_devs_from_kernel(name, &devs, &nr);

	/* Show what could be read even if another device failed. */
	if ((!r || nr) && prom)
		ilio_print_prometheus(devs, nr);
	else if (!r || nr)
		ilio_print_devs(devs, nr, json);
out:
	for (i = 0; i < nr; i++)
		ilio_dev_release(&devs[i]);
	free(devs);
	free((void *)st_lines);
	free((void *)tb_lines);
	return r;
}
