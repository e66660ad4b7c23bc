/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace shim: <linux/rwsem.h> on a pthread rwlock.  The writer is
 * tracked as a mutex's owner is, and each thread remembers the locks it
 * holds for reading (shim.c), so that lockdep_assert_held() and
 * lockdep_assert_held_write() are real assertions, and a reader that
 * calls a function which needs the lock for writing aborts the test.
 */
#ifndef ILIO_SHIM_RWSEM_H
#define ILIO_SHIM_RWSEM_H

#include <pthread.h>
#include <linux/types.h>

struct rw_semaphore {
	pthread_rwlock_t l;
	pthread_t owner;
	int wheld;
};

void ilio_shim_rd_note(const struct rw_semaphore *s, int delta);
/* Times any rwsem was taken for writing (for tests that count round trips). */
extern unsigned long ilio_shim_wlocks;
bool ilio_shim_rd_mine(const struct rw_semaphore *s);

static inline void init_rwsem(struct rw_semaphore *s)
{
	pthread_rwlock_init(&s->l, NULL);
	s->wheld = 0;
}

static inline void ilio_shim_rwsem_destroy(struct rw_semaphore *s)
{
	pthread_rwlock_destroy(&s->l);
}

static inline void down_read(struct rw_semaphore *s)
{
	pthread_rwlock_rdlock(&s->l);
	ilio_shim_rd_note(s, 1);
}

static inline void up_read(struct rw_semaphore *s)
{
	ilio_shim_rd_note(s, -1);
	pthread_rwlock_unlock(&s->l);
}

static inline void down_write(struct rw_semaphore *s)
{
	pthread_rwlock_wrlock(&s->l);
	__atomic_fetch_add(&ilio_shim_wlocks, 1, __ATOMIC_RELAXED);
	s->owner = pthread_self();
	s->wheld = 1;
}

static inline void up_write(struct rw_semaphore *s)
{
	s->wheld = 0;
	pthread_rwlock_unlock(&s->l);
}

static inline bool ilio_shim_rwsem_is_mine_w(struct rw_semaphore *s)
{
	return s->wheld && pthread_equal(s->owner, pthread_self());
}

static inline bool ilio_shim_rwsem_is_mine(struct rw_semaphore *s)
{
	return ilio_shim_rwsem_is_mine_w(s) || ilio_shim_rd_mine(s);
}

#endif
