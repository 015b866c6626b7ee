/*
 * Freed objects held back before the real free: a poisoned object stays mapped for the
 * next QUARANTINE frees, so a late reader reads poison rather than a new object that
 * happens to reuse the address (ASan builds catch that on their own). Any thread.
 */
#ifndef HC_TESTS_QUARANTINE_H
#define HC_TESTS_QUARANTINE_H

#include <pthread.h>
#include <stdlib.h>

enum { QUARANTINE = 1 << 14 };
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static void *quarantine[QUARANTINE];
static size_t q_head;

/* Holds p (already poisoned) and frees the oldest held object. */
static void quarantine_put(void *p)
{
	pthread_mutex_lock(&q_mu);
	void *old = quarantine[q_head];
	quarantine[q_head] = p;
	q_head = (q_head + 1) % QUARANTINE;
	pthread_mutex_unlock(&q_mu);
	free(old);
}

/* Frees everything held. */
static void quarantine_flush(void)
{
	pthread_mutex_lock(&q_mu);
	for (size_t i = 0; i < QUARANTINE; i++) {
		free(quarantine[i]);
		quarantine[i] = NULL;
	}
	pthread_mutex_unlock(&q_mu);
}

#endif
