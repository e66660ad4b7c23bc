// SPDX-License-Identifier: GPL-2.0
/*
 * render.c - ilioctl's text output: label/value rows, laid out by
 * libsmartcols (as zramctl does), and human-readable sizes.
 *
 * A block of rows prints as "  <label, padded to 20> <value>", one row a
 * line, the layout that tests and scripts read ("ilioctl status", "format",
 * "info").  The table never adapts to the terminal's width: a long value
 * (a features string, a path) is printed whole.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libsmartcols.h>

#include "ilioctl.h"

/* Width of the label column. */
#define ILIO_LABEL_WIDTH	20

/**
 * struct ilio_rows - a block of label/value rows being built
 * @tb: the libsmartcols table: an indent column, labels, values
 * @failed: out of memory on the way: ilio_rows_print() says so
 */
struct ilio_rows {
	struct libscols_table *tb;
	bool failed;
};

/* A new, empty block of rows; NULL when out of memory. */
struct ilio_rows *ilio_rows_new(void)
{
	struct ilio_rows *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->tb = scols_new_table();
	if (!r->tb ||
	    scols_table_enable_noheadings(r->tb, 1) ||
	    scols_table_set_termforce(r->tb, SCOLS_TERMFORCE_NEVER) ||
	    scols_table_set_column_separator(r->tb, " ") ||
	    /* The indent: one space of data, then the separator. */
	    !scols_table_new_column(r->tb, " ", 1, SCOLS_FL_STRICTWIDTH) ||
	    !scols_table_new_column(r->tb, "LABEL", ILIO_LABEL_WIDTH,
				    SCOLS_FL_STRICTWIDTH) ||
	    !scols_table_new_column(r->tb, "VALUE", 1, 0)) {
		scols_unref_table(r->tb);
		free(r);
		return NULL;
	}
	return r;
}

/* Add the row "label value", the value formatted as printf() does. */
void __printf(3, 4) ilio_row(struct ilio_rows *r, const char *label,
			     const char *fmt, ...)
{
	struct libscols_line *ln;
	char *value = NULL;
	va_list ap;
	int n;

	if (!r)
		return;
	va_start(ap, fmt);
	n = vasprintf(&value, fmt, ap);
	va_end(ap);
	if (n < 0) {
		r->failed = true;
		return;
	}
	ln = scols_table_new_line(r->tb, NULL);
	if (!ln || scols_line_set_data(ln, 0, " ") ||
	    scols_line_set_data(ln, 1, label) ||
	    scols_line_set_data(ln, 2, value))
		r->failed = true;
	free(value);
}

/* Print the rows on stdout and free them; r may be NULL (no memory). */
void ilio_rows_print(struct ilio_rows *r)
{
	if (!r || r->failed) {
		ilio_msg("out of memory: output incomplete");
		if (!r)
			return;
	}
	if (scols_table_get_nlines(r->tb))
		scols_print_table(r->tb);
	scols_unref_table(r->tb);
	free(r);
}

enum ilio_units ilio_size_units = ILIO_UNITS_BINARY;

/**
 * ilio_units_opt() - take --bytes or --si (option @id) for command @cmd
 * @cmd: the command's name, for the message
 * @id: ILIO_OPT_BYTES or ILIO_OPT_SI
 * @seen: set once either was given
 *
 * Return: 0, or ILIO_EXIT_USAGE after the message when both were given.
 */
int ilio_units_opt(const char *cmd, int id, bool *seen)
{
	if (*seen)
		return ilio_usage_err("%s: --bytes and --si are mutually exclusive",
				      cmd);
	*seen = true;
	ilio_size_units = id == ILIO_OPT_SI ? ILIO_UNITS_SI : ILIO_UNITS_BYTES;
	return 0;
}

static const char * const ilio_units_binary[] = {
	"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
};

static const char * const ilio_units_si[] = {
	"kB", "MB", "GB", "TB", "PB", "EB"
};

/* "512 B", "1.50 GiB" (base 1024) or "1.61 GB" (base 1000). */
static const char *ilio_human_base(unsigned long long bytes, unsigned int base,
				   const char * const *units, char *buf,
				   size_t size)
{
	const int last = 5;
	double v = (double)bytes;
	int i = -1;

	if (bytes < base) {
		snprintf(buf, size, "%llu B", bytes);
		return buf;
	}
	do {
		v /= base;
		i++;
	} while (v >= base && i < last);
	/* Do not print "1024.00 KiB" when rounding reaches the next unit. */
	if (v >= base - 0.005 && i < last) {
		v /= base;
		i++;
	}
	snprintf(buf, size, "%.2f %s", v, units[i]);
	return buf;
}

/* A size in binary units whatever --bytes or --si say (messages). */
const char *ilio_human_binary(unsigned long long bytes, char *buf, size_t size)
{
	return ilio_human_base(bytes, 1024, ilio_units_binary, buf, size);
}

/*
 * ilio_human() - a size as the output's units ask (ilio_size_units):
 * "1.50 GiB" by default, "1.61 GB" with --si, "1610612736" with --bytes.
 */
const char *ilio_human(unsigned long long bytes, char *buf, size_t size)
{
	switch (ilio_size_units) {
	case ILIO_UNITS_BYTES:
		snprintf(buf, size, "%llu", bytes);
		return buf;
	case ILIO_UNITS_SI:
		return ilio_human_base(bytes, 1000, ilio_units_si, buf, size);
	default:
		return ilio_human_binary(bytes, buf, size);
	}
}

/* Append to buf (size bytes, *len used so far); stops quietly when full. */
void __printf(4, 5) ilio_append(char *buf, size_t size, size_t *len,
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
