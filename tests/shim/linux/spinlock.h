/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/spinlock.h> on a pthread mutex (irq variants alike). */
#ifndef ILIO_SHIM_SPINLOCK_H
#define ILIO_SHIM_SPINLOCK_H

#include <pthread.h>

typedef struct {
	pthread_mutex_t m;
} spinlock_t;

static inline void spin_lock_init(spinlock_t *l)
{
	pthread_mutex_init(&l->m, NULL);
}

static inline void spin_lock_irq(spinlock_t *l)
{
	pthread_mutex_lock(&l->m);
}

static inline void spin_unlock_irq(spinlock_t *l)
{
	pthread_mutex_unlock(&l->m);
}

#define spin_lock_irqsave(l, flags) do { (flags) = 0; spin_lock_irq(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); spin_unlock_irq(l); } while (0)

#endif
