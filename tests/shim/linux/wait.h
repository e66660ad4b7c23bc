/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: <linux/wait.h>, wait_event() and wake_up() only; the
 * queue's spinlock is real.
 *
 * wait_event() re-checks its condition after each ilio_shim_wait(): that
 * calls ilio_shim_wait_hook when a test set one (a test backend that
 * completes deferred writes there, in the order it chooses), else sleeps
 * briefly so that another thread can make the condition true.  A wait
 * that lasts 20 s aborts: in a single-threaded test it is a deadlock.
 */
#ifndef ILIO_SHIM_WAIT_H
#define ILIO_SHIM_WAIT_H

#include <linux/spinlock.h>

struct wait_queue_head {
	spinlock_t lock;
	unsigned long wakeups;
};
typedef struct wait_queue_head wait_queue_head_t;

extern void (*ilio_shim_wait_hook)(void);
void ilio_shim_wait(unsigned long *spins);

static inline void init_waitqueue_head(struct wait_queue_head *wq)
{
	spin_lock_init(&wq->lock);
	wq->wakeups = 0;
}

/* With @wq->lock held. */
static inline void wake_up_locked(struct wait_queue_head *wq)
{
	__atomic_add_fetch(&wq->wakeups, 1, __ATOMIC_SEQ_CST);
}

static inline void wake_up(struct wait_queue_head *wq)
{
	spin_lock_irq(&wq->lock);
	wake_up_locked(wq);
	spin_unlock_irq(&wq->lock);
}

#define wait_event(wq, cond) do {				\
	unsigned long __spins = 0;				\
								\
	while (!(cond))						\
		ilio_shim_wait(&__spins);			\
} while (0)

#endif
