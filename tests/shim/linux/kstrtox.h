/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/kstrtox.h>, with the kernel's strictness. */
#ifndef ILIO_SHIM_KSTRTOX_H
#define ILIO_SHIM_KSTRTOX_H

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <linux/types.h>

static inline int kstrtoull(const char *s, unsigned int base,
			    unsigned long long *res)
{
	unsigned long long v = 0;
	const char *p = s;

	if (*p == '+')
		p++;
	if (base != 10 || !*p)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (ULLONG_MAX - (unsigned int)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned int)(*p - '0');
	}
	if (*p == '\n')
		p++;
	if (*p || p == s)
		return -EINVAL;
	*res = v;
	return 0;
}

static inline int kstrtouint(const char *s, unsigned int base,
			     unsigned int *res)
{
	unsigned long long v;
	int ret = kstrtoull(s, base, &v);

	if (ret)
		return ret;
	if (v > UINT_MAX)
		return -ERANGE;
	*res = (unsigned int)v;
	return 0;
}

#endif
