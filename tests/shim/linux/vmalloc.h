/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/vmalloc.h>. */
#ifndef ILIO_SHIM_VMALLOC_H
#define ILIO_SHIM_VMALLOC_H

#include <linux/slab.h>

static inline void *__vmalloc(unsigned long size, gfp_t gfp)
{
	return kmalloc(size, gfp);
}

static inline void *vmalloc(unsigned long size)
{
	return kmalloc(size, 0);
}

static inline void vfree(const void *p)
{
	free((void *)p);
}

#endif
