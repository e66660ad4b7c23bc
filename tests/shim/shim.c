// SPDX-License-Identifier: GPL-2.0
/* Userspace shim: the globals behind the shim headers. */
#include <linux/slab.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

long ilio_shim_fail_alloc_after = -1;
long ilio_shim_fail_alloc_burst;
long ilio_shim_fail_alloc_every;
long ilio_shim_burst_left;
unsigned long ilio_shim_alloc_failed;
unsigned long ilio_shim_allocs;
unsigned long long ilio_shim_alloc_bytes;
long long ilio_shim_alloc_limit = -1;
unsigned long ilio_shim_alloc_refused;
unsigned long ilio_shim_warnings;
unsigned long ilio_shim_retry_waits;
char ilio_shim_last_log[256];
unsigned long ilio_shim_nr_log;

/* <linux/wait.h>: see there. */
void (*ilio_shim_wait_hook)(void);

void ilio_shim_wait(unsigned long *spins)
{
	if (ilio_shim_wait_hook) {
		ilio_shim_wait_hook();
		return;
	}
	if (++*spins > 200000) {
		fprintf(stderr, "shim: wait_event() waited 20 s: deadlock\n");
		abort();
	}
	usleep(100);
}
