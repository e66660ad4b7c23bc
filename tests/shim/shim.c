// SPDX-License-Identifier: GPL-2.0
/* Userspace shim: the globals behind the shim headers. */
#include <linux/slab.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/wait.h>
#include <linux/rwsem.h>
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

/*
 * <linux/rwsem.h>: the locks this thread holds for reading.  The core
 * holds at most one at a time; a few slots catch a nested misuse too.
 */
unsigned long ilio_shim_wlocks;

#define ILIO_SHIM_RD_SLOTS 4
static __thread const struct rw_semaphore *ilio_shim_rd[ILIO_SHIM_RD_SLOTS];

void ilio_shim_rd_note(const struct rw_semaphore *s, int delta)
{
	const struct rw_semaphore *want = delta > 0 ? NULL : s;
	int i;

	for (i = 0; i < ILIO_SHIM_RD_SLOTS; i++) {
		if (ilio_shim_rd[i] == want) {
			ilio_shim_rd[i] = delta > 0 ? s : NULL;
			return;
		}
	}
	fprintf(stderr, "shim: read lock %p %s\n", (const void *)s,
		delta > 0 ? "taken with every slot of this thread in use" :
		"released by a thread that does not hold it");
	abort();
}

bool ilio_shim_rd_mine(const struct rw_semaphore *s)
{
	int i;

	for (i = 0; i < ILIO_SHIM_RD_SLOTS; i++)
		if (ilio_shim_rd[i] == s)
			return true;
	return false;
}
