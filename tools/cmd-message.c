// SPDX-License-Identifier: GPL-2.0
/*
 * cmd-message.c - "ilioctl message NAME VERB": send one of the target's
 * messages (gc, compact, checkpoint, check, clear_stats), checked first
 * with the module's own message parser (dm-ilio/ilio-args.c), and print
 * the kernel's answer: "cleaned 3 segments", "ok" or what check found.
 * The kernel's refusals become one clear line each: a suspended device
 * (EBUSY), a read-only one (EROFS), a failed one (EIO), checkpoint on a
 * diskless device (EOPNOTSUPP).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ilioctl.h"
#include "ilio-args.h"

/* The messages, for the usage errors. */
#define ILIO_VERBS	"gc, compact, checkpoint, check or clear_stats"

/* Explain the kernel's refusal of verb; returns ILIO_EXIT_FAIL. */
static int ilio_message_refused(const char *name, const char *verb, int err)
{
	/* The known refusals are the whole story: one line, nothing after. */
	if (err == EBUSY || err == EROFS || err == EOPNOTSUPP) {
		ilio_lib_errors_discard();
		ilio_kmsg_end();
	}
	switch (err) {
	case EBUSY:
		return ilio_fail("%s: '%s' refused: the device is suspended (%s %s)",
				 name, verb, "resume it first: dmsetup resume",
				 name);
	case EROFS:
		return ilio_fail("%s: '%s' refused: the device is read-only (%s %s)",
				 name, verb,
				 "a read-only table, or read-only mode after a backend error: see ilioctl status",
				 name);
	case EIO:
		/* A failed device, or an I/O error on the way: the kernel says. */
		ilio_lib_errors_discard();
		ilio_fail("%s: '%s' failed: %s (%s %s %s)", name, verb, strerror(EIO),
			  "a failed device is in mode fail: see ilioctl status", name,
			  "and the kernel log");
		ilio_kmsg_report();
		return ILIO_EXIT_FAIL;
	case EOPNOTSUPP:
		return ilio_fail("%s: '%s' needs a persistent device (%s is diskless)",
				 name, verb, name);
	}
	ilio_fail("%s: cannot send '%s'%s%s", name, verb, err ? ": " : "",
		  err ? strerror(err) : "");
	ilio_kmsg_report();
	return ILIO_EXIT_FAIL;
}

int ilio_cmd_message(int argc, char **argv)
{
	struct ilio_args it = { .argc = argc, .argv = argv };
	const char *name = NULL, *verb = NULL, *val, *why;
	char *reply, *words[1], raw[ILIO_PARAMS_MAX];
	struct ilio_dev dev;
	struct ilio_msg m;
	int id, r, err;

	while ((id = ilio_next_arg(&it, ilio_name_opts, &val)) != ILIO_ARG_END) {
		switch (id) {
		case ILIO_ARG_ERROR:
			return ILIO_EXIT_USAGE;
		case ILIO_ARG_POSITIONAL:
			if (!name)
				name = val;
			else if (!verb)
				verb = val;
			else
				return ilio_usage_err("message: unexpected argument '%s' (%s)",
						      val, "messages take no arguments");
			break;
		case ILIO_OPT_HELP:
			return ilio_cmd_help(0, NULL);
		case ILIO_OPT_VERBOSE:
			ilio_verbose = true;
			break;
		}
	}
	if (!name)
		return ilio_usage_err("message: missing device NAME");
	r = ilio_check_name(name);
	if (r)
		return r;
	if (!verb)
		return ilio_usage_err("message: missing MESSAGE (%s)", ILIO_VERBS);
	words[0] = (char *)verb;
	if (ilio_parse_message(&m, 1, words, &why))
		return ilio_usage_err("message: unknown message '%s' (%s)", verb,
				      ILIO_VERBS);
	verb = ilio_msg_name(m.verb);

	r = ilio_dm_available();
	if (r)
		return r;
	r = ilio_dm_lookup(name, &dev, raw, sizeof(raw));
	if (r && r != -EPROTO)
		return ilio_lookup_fail(name, r, raw);
	ilio_dev_release(&dev);
	ilio_lib_errors_discard();
	if (ilio_dm_message_reply(name, verb, &reply, &err))
		return ilio_message_refused(name, verb, err);

	if (m.verb == ILIO_MSG_CHECK && strcmp(reply, "ok")) {
		printf("%s\n", reply);
		free(reply);
		return ilio_fail("%s: the consistency check found a problem (above)",
				 name);
	}
	if (*reply)
		printf("%s\n", reply);
	else if (m.verb == ILIO_MSG_CHECKPOINT)
		printf("checkpoint written\n");
	else if (ilio_verbose)
		printf("sent %s to %s\n", verb, name);
	free(reply);
	return ILIO_EXIT_OK;
}
