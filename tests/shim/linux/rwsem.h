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

/*
 * A writer spins a while before it sleeps, as the kernel's does
 * (rwsem_optimistic_spin(), CONFIG_RWSEM_SPIN_ON_OWNER, which Debian's
 * kernels enable: a writer spins while the owner runs on a CPU).  Without
 * this every contended hand-off was a futex sleep and wake-up, which
 * made two writers in bench-core slower than one (0.68-0.87x), a cost
 * the kernel does not pay for a hold of a few hundred ns.  1000 pauses
 * are tens of microseconds: far longer than a hold, short enough that a
 * descheduled owner costs little.  Readers do not spin (neither do the
 * kernel's since 6.0).
 */
#define ILIO_SHIM_WSPIN 1000

static inline void ilio_shim_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static inline void down_write(struct rw_semaphore *s)
{
	int i;

	for (i = 0; i < ILIO_SHIM_WSPIN; i++) {
		if (!pthread_rwlock_trywrlock(&s->l))
			goto got;
		ilio_shim_cpu_relax();
	}
	pthread_rwlock_wrlock(&s->l);
got:
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
