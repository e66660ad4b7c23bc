/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/bug.h>: warnings are counted for the tests. */
#ifndef ILIO_SHIM_BUG_H
#define ILIO_SHIM_BUG_H

#include <stdio.h>
#include <stdlib.h>

extern unsigned long ilio_shim_warnings;

#define WARN_ON(cond) ({						\
	int __c = !!(cond);						\
	if (__c) {							\
		ilio_shim_warnings++;					\
		fprintf(stderr, "WARNING: %s:%d: %s\n", __FILE__,	\
			__LINE__, #cond);				\
	}								\
	__c;								\
})
#define WARN_ONCE(cond, ...) ({						\
	int __c = !!(cond);						\
	if (__c) {							\
		ilio_shim_warnings++;					\
		fprintf(stderr, __VA_ARGS__);				\
	}								\
	__c;								\
})
/* Counted every time: the tests care that it fired, not how often. */
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define BUG_ON(cond) do { if (cond) abort(); } while (0)

#endif
