/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace shim: <linux/mutex.h> on pthreads, owner tracked for lockdep. */
#ifndef ILIO_SHIM_MUTEX_H
#define ILIO_SHIM_MUTEX_H

#include <pthread.h>
#include <linux/types.h>

struct mutex {
	pthread_mutex_t m;
	pthread_t owner;
	int held;
};

#define DEFINE_MUTEX(name) \
	struct mutex name = { .m = PTHREAD_MUTEX_INITIALIZER }

static inline void mutex_init(struct mutex *l)
{
	pthread_mutex_init(&l->m, NULL);
	l->held = 0;
}

static inline void mutex_destroy(struct mutex *l)
{
	pthread_mutex_destroy(&l->m);
}

static inline void mutex_lock(struct mutex *l)
{
	pthread_mutex_lock(&l->m);
	l->owner = pthread_self();
	l->held = 1;
}

static inline int mutex_trylock(struct mutex *l)
{
	if (pthread_mutex_trylock(&l->m))
		return 0;
	l->owner = pthread_self();
	l->held = 1;
	return 1;
}

static inline void mutex_unlock(struct mutex *l)
{
	l->held = 0;
	pthread_mutex_unlock(&l->m);
}

static inline bool ilio_shim_mutex_is_mine(struct mutex *l)
{
	return l->held && pthread_equal(l->owner, pthread_self());
}

#endif
