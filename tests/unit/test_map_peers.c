/*
 * The map benchmark's tables (bench/map_peer_*.c) do what the vtable says, so that the
 * benchmark compares correct maps: for each of ours, ck_hs + spinlock, rculfhash and
 * the rwlock table, with 8- and 16-byte keys: put/get/replace/delete/re-insert on a
 * few thousand keys (and the opt-in rwlock_ptr and index tables), then threads updating disjoint key ranges while others read,
 * with the final contents checked key by key.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bench/map_peer.h"

#define NKEYS 4000
#define NTHREADS 4

static void key_of(uint64_t i, uint32_t klen, unsigned char *out)
{
	uint64_t a = i * UINT64_C(0x9E3779B97F4A7C15), b = ~i;
	memcpy(out, &a, 8);
	if (klen == 16)
		memcpy(out + 8, &b, 8);
}

static void check_single(const struct map_peer *p, uint32_t klen)
{
	unsigned char k[MAP_PEER_MAX_KLEN];
	uint64_t v;
	void *h = p->init(NKEYS, klen);
	assert_non_null(h);
	p->thread_enter(h, 0);
	for (uint64_t i = 0; i < NKEYS; i++) {
		key_of(i, klen, k);
		assert_int_equal(p->get(h, 0, k, &v), 0);
		assert_int_equal(p->put(h, 0, k, i), 0);
	}
	for (uint64_t i = 0; i < NKEYS; i++) {
		key_of(i, klen, k);
		assert_int_equal(p->get(h, 0, k, &v), 1);
		assert_int_equal(v, i);
	}
	/* Replace every other value, delete every third key. */
	for (uint64_t i = 0; i < NKEYS; i += 2) {
		key_of(i, klen, k);
		assert_int_equal(p->put(h, 0, k, i + 1000000), 0);
	}
	for (uint64_t i = 0; i < NKEYS; i += 3) {
		key_of(i, klen, k);
		assert_int_equal(p->del(h, 0, k), 1);
		assert_int_equal(p->del(h, 0, k), 0);
	}
	for (uint64_t i = 0; i < NKEYS; i++) {
		key_of(i, klen, k);
		int hit = p->get(h, 0, k, &v);
		assert_int_equal(hit, i % 3 != 0);
		if (hit)
			assert_int_equal(v, i % 2 == 0 ? i + 1000000 : i);
	}
	/* Re-insert the deleted ones, many times over (tombstone churn). */
	for (int round = 0; round < 20; round++) {
		for (uint64_t i = 0; i < NKEYS; i += 3) {
			key_of(i, klen, k);
			assert_int_equal(p->put(h, 0, k, i + (uint64_t)round), 0);
			if (round < 19)
				assert_int_equal(p->del(h, 0, k), 1);
		}
	}
	for (uint64_t i = 0; i < NKEYS; i += 3) {
		key_of(i, klen, k);
		assert_int_equal(p->get(h, 0, k, &v), 1);
		assert_int_equal(v, i + 19);
	}
	p->thread_exit(h, 0);
	assert_int_equal(p->count(h), NKEYS);
	assert_true(p->bytes(h) >= (uint64_t)NKEYS * (klen + 8));
	p->destroy(h);
}

struct targ {
	const struct map_peer *p;
	void *h;
	unsigned tid;
	uint32_t klen;
	uint64_t errors;
};

/* Thread tid owns keys i with i % NTHREADS == tid: it deletes, re-inserts and
 * replaces them, and reads everyone's keys (a hit must carry the key's own index). */
static void *churn(void *arg)
{
	struct targ *a = arg;
	unsigned char k[MAP_PEER_MAX_KLEN];
	uint64_t v;
	a->p->thread_enter(a->h, a->tid);
	for (int round = 0; round < 5; round++) {
		for (uint64_t i = a->tid; i < NKEYS; i += NTHREADS) {
			key_of(i, a->klen, k);
			if (a->p->del(a->h, a->tid, k) != 1)
				a->errors++;
			if (a->p->put(a->h, a->tid, k, i << 8 | (uint64_t)round) != 0)
				a->errors++;
			if (a->p->put(a->h, a->tid, k, i << 8 | (uint64_t)(round + 1)) != 0)
				a->errors++;
			uint64_t j = (i * 7919) % NKEYS;
			key_of(j, a->klen, k);
			if (a->p->get(a->h, a->tid, k, &v) && (v >> 8) != j)
				a->errors++;
		}
	}
	a->p->thread_exit(a->h, a->tid);
	return NULL;
}

static void check_threads(const struct map_peer *p, uint32_t klen)
{
	unsigned char k[MAP_PEER_MAX_KLEN];
	uint64_t v;
	void *h = p->init(NKEYS, klen);
	assert_non_null(h);
	p->thread_enter(h, 0);
	for (uint64_t i = 0; i < NKEYS; i++) {
		key_of(i, klen, k);
		assert_int_equal(p->put(h, 0, k, i << 8), 0);
	}
	p->thread_exit(h, 0);
	pthread_t th[NTHREADS];
	struct targ a[NTHREADS];
	for (unsigned t = 0; t < NTHREADS; t++) {
		a[t] = (struct targ){ p, h, t, klen, 0 };
		assert_int_equal(pthread_create(&th[t], NULL, churn, &a[t]), 0);
	}
	for (unsigned t = 0; t < NTHREADS; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(a[t].errors, 0);
	}
	p->thread_enter(h, 0);
	for (uint64_t i = 0; i < NKEYS; i++) {
		key_of(i, klen, k);
		assert_int_equal(p->get(h, 0, k, &v), 1);
		assert_int_equal(v, i << 8 | 5);
	}
	p->thread_exit(h, 0);
	assert_int_equal(p->count(h), NKEYS);
	p->destroy(h);
	assert_int_equal(map_peer_ours_mismatch, 0);
}

static void test_peer(void **state)
{
	const struct map_peer *p = *state;
	check_single(p, 8);
	check_single(p, 16);
	check_threads(p, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(test_peer, (void *)&map_peer_ours),
		cmocka_unit_test_prestate(test_peer, (void *)&map_peer_ckhs),
		cmocka_unit_test_prestate(test_peer, (void *)&map_peer_rculfhash),
		cmocka_unit_test_prestate(test_peer, (void *)&map_peer_rwlock),
		cmocka_unit_test_prestate(test_peer, (void *)&map_peer_rwlock_ptr),
		cmocka_unit_test_prestate(test_peer, (void *)&map_peer_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
