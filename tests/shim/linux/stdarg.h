/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/stdarg.h>. */
#ifndef ILIO_SHIM_STDARG_H
#define ILIO_SHIM_STDARG_H
#include <stdarg.h>
#endif
