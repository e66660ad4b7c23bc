// SPDX-License-Identifier: GPL-2.0
/*
 * ilioctl.c - the command table and main() of ilioctl, which manages
 * dm-ilio devices (device-mapper target "ilio").  The other parts, one
 * concern each, are listed in ilioctl.h.
 *
 * ilioctl builds and loads ilio tables, removes ilio devices, clears their
 * statistics and renders their status (human-readable or JSON).  It talks to
 * the kernel only through libdevmapper.  It also formats a backing device
 * for persistent mode and shows its metadata ("format", "info"), with the
 * module's own builders and validators (dm-ilio/ilio-meta.c, linked in).
 *
 * Interface with the kernel (fixed by dm-ilio, see ilio.rst):
 *
 *   table:  <start> <len> ilio <backing_dev|-> <ram_mb> [<#feature_args>
 *           <feature_args>...]
 *   TABLE status:  <backing|-> <ram_mb> <#feature_args> <key value>...
 *   INFO status:   <mode> followed by ILIO_ST_NR_V1 (older modules) or
 *                  ILIO_ST_NR unsigned decimal counters (enum ilio_stat,
 *                  dm-ilio/ilio-fields.h); later versions may append
 *                  fields, which are ignored.
 *   messages:      clear_stats, gc, compact, checkpoint, check
 *
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad arguments.
 *
 * Error reporting: libdevmapper's own log output is captured (errors only)
 * and printed after ilioctl's one-line explanation of what failed.  Table
 * load and message failures also show the kernel's reason, read back from
 * /dev/kmsg (ti->error only reaches the kernel log).
 */

#include <errno.h>
#include <string.h>

#include "ilioctl.h"

/**
 * struct ilio_cmd - a sub-command.
 * @name: word on the command line.
 * @fn: handler; gets the arguments after the command word and returns the
 *	exit code.
 */
struct ilio_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct ilio_cmd ilio_cmds[] = {
	{ "create", ilio_cmd_create },
	{ "activate", ilio_cmd_activate },
	{ "remove", ilio_cmd_remove },
	{ "status", ilio_cmd_status },
	{ "iostat", ilio_cmd_iostat },
	{ "list", ilio_cmd_list },
	{ "grow", ilio_cmd_grow },
	{ "path", ilio_cmd_path },
	{ "message", ilio_cmd_message },
	{ "hints", ilio_cmd_hints },
	{ "clear-stats", ilio_cmd_clear_stats },
	{ "format", ilio_cmd_format },
	{ "info", ilio_cmd_info },
	{ "multihost", ilio_cmd_multihost },
	{ "probe", ilio_cmd_probe },
	{ "help", ilio_cmd_help },
	{ NULL, NULL }
};

/* Flush stdout and report a write error (e.g. a full disk or closed pipe). */
static int ilio_finish(int r)
{
	if (fflush(stdout) || ferror(stdout)) {
		ilio_msg("write error: %s", strerror(errno));
		return r ? r : ILIO_EXIT_FAIL;
	}
	return r;
}

int main(int argc, char **argv)
{
	const struct ilio_cmd *c;
	const char *cmd;

	ilio_dm_init();

	if (argc < 2)
		return ilio_usage_err("missing COMMAND");
	cmd = argv[1];

	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
		return ilio_finish(ilio_cmd_help(0, NULL));
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V"))
		return ilio_finish(ilio_cmd_version(0, NULL));
	if (cmd[0] == '-')
		return ilio_usage_err("unknown option '%s'", cmd);

	for (c = ilio_cmds; c->name; c++) {
		if (!strcmp(c->name, cmd))
			return ilio_finish(c->fn(argc - 2, argv + 2));
	}
	return ilio_usage_err("unknown command '%s'", cmd);
}
