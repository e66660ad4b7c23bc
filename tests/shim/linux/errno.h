/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: <linux/errno.h>.  glibc's <errno.h> itself includes
 * <linux/errno.h>, so defer to the real (uapi) header behind this one.
 */
#ifndef ILIO_SHIM_ERRNO_H
#define ILIO_SHIM_ERRNO_H
#include_next <linux/errno.h>
#include <errno.h>
#endif
