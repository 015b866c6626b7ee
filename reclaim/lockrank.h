/*
 * Lock ranks, checked in debug and sanitizer builds (HC_LOCK_RANKS; jemalloc's
 * witness.h on a small scale). Every mutex the cache keeps has a rank, and a thread
 * takes mutexes in increasing rank only: stripe write mutex (1) before shard mutex (2)
 * before stripe flight mutex (3); the reclamation poll mutex (4), the registration
 * mutex (5) and a thread record's flush mutex (6) are leaves. Taking a mutex while
 * holding one of the same or a higher rank could deadlock against a thread that takes
 * them in order, so it aborts with the ranks named, in the build that tests run,
 * instead of hanging one day in production. A trylock never waits, so it is not
 * checked: reclaim_poll tries the poll mutex while it holds its flush mutex.
 *
 * A per-thread word holds one bit per rank held; release builds compile it all away.
 * Two mutexes of one rank are never held at once (a stripe's write mutex is the only
 * rank-1 mutex a thread holds, and so on), which the check enforces too.
 */
#ifndef HC_RECLAIM_LOCKRANK_H
#define HC_RECLAIM_LOCKRANK_H

#include <pthread.h>

enum lock_rank {
	RANK_STRIPE_WRITE = 1,
	RANK_SHARD = 2,
	RANK_STRIPE = 3,
	RANK_POLL = 4,
	RANK_REGISTRY = 5,
	RANK_FLUSH = 6,
};

#ifdef HC_LOCK_RANKS
/* Bit r set: the thread holds its rank-r mutex. */
extern _Thread_local unsigned lockrank_held;
/* Aborts: rank taken out of order (held is the word at the time). */
void lockrank_violation(unsigned rank, unsigned held);

static inline void lockrank_before(unsigned rank)
{
	if (lockrank_held >> rank)
		lockrank_violation(rank, lockrank_held);
}
static inline void lockrank_acquired(unsigned rank)
{
	lockrank_held |= 1u << rank;
}
static inline void lockrank_released(unsigned rank)
{
	lockrank_held &= ~(1u << rank);
}
#else
static inline void lockrank_before(unsigned rank)
{
	(void)rank;
}
static inline void lockrank_acquired(unsigned rank)
{
	(void)rank;
}
static inline void lockrank_released(unsigned rank)
{
	(void)rank;
}
#endif

/* pthread_mutex_lock with the rank check. Blocking. */
static inline void rank_lock(pthread_mutex_t *m, unsigned rank)
{
	lockrank_before(rank);
	pthread_mutex_lock(m);
	lockrank_acquired(rank);
}
/* pthread_mutex_trylock: never blocks, so no order to check; 0 when taken. */
static inline int rank_trylock(pthread_mutex_t *m, unsigned rank)
{
	int rc = pthread_mutex_trylock(m);
	if (rc == 0)
		lockrank_acquired(rank);
	return rc;
}
static inline void rank_unlock(pthread_mutex_t *m, unsigned rank)
{
	lockrank_released(rank);
	pthread_mutex_unlock(m);
}

/*
 * Initialises a mutex held only for short sections (a shard's install or eviction,
 * hundreds of nanoseconds): a thread that finds it taken spins a little, reading it,
 * before it sleeps (glibc's adaptive mutex: at most glibc.pthread.mutex_spin_count
 * tries, 100 by default, fewer as the mutex's own mean spin falls), since sleeping
 * costs a futex wait, a wake-up system call from the holder and two context switches,
 * microseconds each. Where that kind does not exist, the default mutex. Returns
 * pthread_mutex_init's result.
 */
static inline int rank_mutex_init_short(pthread_mutex_t *m)
{
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
	pthread_mutexattr_t a;
	int rc = pthread_mutexattr_init(&a);
	if (rc != 0)
		return rc;
	rc = pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	if (rc == 0)
		rc = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
#else
	return pthread_mutex_init(m, NULL);
#endif
}

#endif
