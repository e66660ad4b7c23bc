/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim of <linux/printk.h>: pr_err() and pr_warn() keep the
 * last line and count them, so that tests can assert what the core logs.
 */
#ifndef ILIO_SHIM_PRINTK_H
#define ILIO_SHIM_PRINTK_H

#include <stdio.h>

extern char ilio_shim_last_log[256];
extern unsigned long ilio_shim_nr_log;

#define pr_err(fmt, ...) do {						\
	snprintf(ilio_shim_last_log, sizeof(ilio_shim_last_log),	\
		 fmt, ##__VA_ARGS__);					\
	ilio_shim_nr_log++;						\
} while (0)
#define pr_warn(fmt, ...) pr_err(fmt, ##__VA_ARGS__)

#endif
