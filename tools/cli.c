// SPDX-License-Identifier: GPL-2.0
/*
 * cli.c - ilioctl's conversation with its user: messages on stderr, the
 * exit codes, and the parsing of options, numbers, sizes and names.
 *
 * Library errors (libdevmapper's log, see dm.c) are noted here and printed
 * under ilioctl's own message by ilio_fail().
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "ilioctl.h"

/* Library error lines kept for the next ilio_fail(). */
#define ILIO_LIB_ERR_LINES	8
#define ILIO_LIB_ERR_LINE_LEN	512

bool ilio_verbose;

static char ilio_lib_err[ILIO_LIB_ERR_LINES][ILIO_LIB_ERR_LINE_LEN];
static unsigned int ilio_lib_err_nr;

void __printf(1, 2) ilio_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("ilioctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Report bad usage; returns the usage exit code. */
int __printf(1, 2) ilio_usage_err(const char *fmt, ...)
{
	va_list ap;

	fputs("ilioctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ilioctl --help' for more information.\n", stderr);
	return ILIO_EXIT_USAGE;
}

/*
 * ilio_lib_error() - keep one error line of a library (the last
 * ILIO_LIB_ERR_LINES), for the next ilio_fail().  A line equal to the last
 * one is dropped: libdevmapper repeats itself while retrying a busy remove.
 */
void ilio_lib_error(const char *line)
{
	char *slot;

	if (ilio_lib_err_nr &&
	    !strncmp(ilio_lib_err[ilio_lib_err_nr - 1], line,
		     ILIO_LIB_ERR_LINE_LEN - 1))
		return;
	if (ilio_lib_err_nr == ILIO_LIB_ERR_LINES) {
		memmove(ilio_lib_err[0], ilio_lib_err[1],
			sizeof(ilio_lib_err[0]) * (ILIO_LIB_ERR_LINES - 1));
		ilio_lib_err_nr--;
	}
	slot = ilio_lib_err[ilio_lib_err_nr++];
	snprintf(slot, ILIO_LIB_ERR_LINE_LEN, "%s", line);
}

/* Forget the library errors: what led to them was handled. */
void ilio_lib_errors_discard(void)
{
	ilio_lib_err_nr = 0;
}

/*
 * ilio_fail() - report a runtime failure: our message, then the library
 * errors that led to it.  Returns ILIO_EXIT_FAIL.
 */
int __printf(1, 2) ilio_fail(const char *fmt, ...)
{
	unsigned int i;
	va_list ap;

	fputs("ilioctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (i = 0; i < ilio_lib_err_nr; i++)
		ilio_msg("  %s", ilio_lib_err[i]);
	ilio_lib_errors_discard();
	return ILIO_EXIT_FAIL;
}

/* Options of the commands that take one NAME or DEV. */
const struct ilio_opt ilio_name_opts[] = {
	{ "help", 'h', false, ILIO_OPT_HELP },
	{ "verbose", 'v', false, ILIO_OPT_VERBOSE },
	{ NULL, 0, false, 0 }
};

/*
 * ilio_opt_once() - o was given: its id, or ILIO_ARG_ERROR (printed) when
 * it was given before.  An option keeps one value, so a second one is a
 * mistake, not an override.  --help and --verbose may repeat, and so
 * may the options whose every value counts (--parse-status, --parse-table).
 */
static int ilio_opt_once(struct ilio_args *it, const struct ilio_opt *o)
{
	unsigned long long bit = BIT_ULL(o->id);

	switch (o->id) {
	case ILIO_OPT_HELP:
	case ILIO_OPT_VERBOSE:
	case ILIO_OPT_PARSE_STATUS:
	case ILIO_OPT_PARSE_TABLE:
		return o->id;
	default:
		break;
	}
	if (it->seen & bit) {
		ilio_usage_err("option '--%s' given twice", o->name);
		return ILIO_ARG_ERROR;
	}
	it->seen |= bit;
	return o->id;
}

/*
 * ilio_next_arg() - fetch the next argument.
 *
 * Options match exactly (no abbreviations); short ones may be bundled
 * ("-nv" is "-n -v"); an option given twice is refused (ilio_opt_once()).
 * Returns the option id with
 * *value set to its argument (or NULL), ILIO_ARG_POSITIONAL with *value set
 * to the word, ILIO_ARG_END, or ILIO_ARG_ERROR after printing why.
 */
int ilio_next_arg(struct ilio_args *it, const struct ilio_opt *opts,
		  const char **value)
{
	const struct ilio_opt *o;
	const char *arg, *eq;
	size_t len;
	char c;

	*value = NULL;
	if (it->sub) {
		/* The next letter of a bundle of short options ("-nv"). */
		arg = it->argv[it->i - 1];
		c = arg[it->sub++];
		if (!arg[it->sub])
			it->sub = 0;
		for (o = opts; o->name; o++) {
			if (o->short_name && !o->has_arg && c == o->short_name)
				return ilio_opt_once(it, o);
		}
		if (arg[2])
			ilio_usage_err("unknown option '-%c' in '%s'", c, arg);
		else
			ilio_usage_err("unknown option '%s'", arg);
		return ILIO_ARG_ERROR;
	}
	if (it->i >= it->argc)
		return ILIO_ARG_END;
	arg = it->argv[it->i++];

	if (it->no_more_opts || arg[0] != '-' || arg[1] == '\0') {
		*value = arg;
		return ILIO_ARG_POSITIONAL;
	}

	if (arg[1] != '-') {
		/* Short options, alone or bundled; none takes a value. */
		it->sub = 1;
		return ilio_next_arg(it, opts, value);
	}

	if (arg[2] == '\0') {
		it->no_more_opts = true;
		return ilio_next_arg(it, opts, value);
	}

	eq = strchr(arg + 2, '=');
	len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
	for (o = opts; o->name; o++) {
		if (strlen(o->name) != len || strncmp(o->name, arg + 2, len))
			continue;
		if (!o->has_arg) {
			if (eq) {
				ilio_usage_err("option '--%s' does not take an argument",
					       o->name);
				return ILIO_ARG_ERROR;
			}
			return ilio_opt_once(it, o);
		}
		if (eq) {
			*value = eq + 1;
		} else if (it->i < it->argc) {
			*value = it->argv[it->i++];
		} else {
			ilio_usage_err("option '--%s' requires an argument",
				       o->name);
			return ILIO_ARG_ERROR;
		}
		return ilio_opt_once(it, o);
	}
	ilio_usage_err("unknown option '%.*s'", (int)(len + 2), arg);
	return ILIO_ARG_ERROR;
}

/*
 * ilio_parse_u64() - strict unsigned decimal: digits only, no sign, no
 * spaces, no overflow.  Returns 0 or -EINVAL/-ERANGE.
 */
int ilio_parse_u64(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int d = *s - '0';

		if (v > (ULLONG_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (*s)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * ilio_parse_size() - parse SIZE: decimal bytes with an optional binary
 * suffix K, M, G or T, optionally followed by "B" or "iB", any case.  A bare
 * trailing "B" means bytes.  Returns 0 or -EINVAL/-ERANGE.
 */
int ilio_parse_size(const char *s, unsigned long long *bytes)
{
	unsigned int shift = 0;
	unsigned long long v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int d = *s - '0';

		if (v > (ULLONG_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}

	switch (tolower((unsigned char)*s)) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	}
	if (shift) {
		s++;
		if (tolower((unsigned char)*s) == 'i') {
			s++;
			if (tolower((unsigned char)*s) != 'b')
				return -EINVAL;
		}
	}
	if (tolower((unsigned char)*s) == 'b')
		s++;
	if (*s)
		return -EINVAL;

	if (shift && v > (ULLONG_MAX >> shift))
		return -ERANGE;
	*bytes = v << shift;
	return 0;
}

/*
 * ilio_check_name() - validate a device name given on the command line.
 * Prints the reason and returns ILIO_EXIT_USAGE, or returns 0.
 */
int ilio_check_name(const char *name)
{
	const char *s;

	if (!*name)
		return ilio_usage_err("device name must not be empty");
	if (strlen(name) > ILIO_NAME_MAX)
		return ilio_usage_err("device name too long (%zu characters, max %d)",
				      strlen(name), ILIO_NAME_MAX);
	if (strchr(name, '/'))
		return ilio_usage_err("invalid device name '%s': must not contain '/'",
				      name);
	for (s = name; *s; s++) {
		/* udev, dmsetup's columns and iliotab all split on blanks. */
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return ilio_usage_err("invalid device name '%s': %s", name,
					      "must not contain blanks or control characters");
	}
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return ilio_usage_err("invalid device name '%s'", name);
	return 0;
}

/*
 * Parse "COMMAND NAME [--verbose]"; returns 0, ILIO_EXIT_USAGE, or -1 after
 * --help.
 */
int ilio_name_parse(const char *cmd, int argc, char **argv, const char **name)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char *val;
	int id;

	*name = NULL;
	while ((id = ilio_next_arg(&it, ilio_name_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (*name)
				return ilio_usage_err("%s: unexpected argument '%s'",
						      cmd, val);
			*name = val;
			break;
		case ILIO_OPT_HELP:
			ilio_cmd_help(0, NULL);
			return -1;
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		}
	}
	if (!*name)
		return ilio_usage_err("%s: missing device NAME", cmd);
	return ilio_check_name(*name);
}
