/*
 * Freshness of a cache with no store (backing.mode = none), whose hc_put and hc_delete
 * take the shard mutex only (write_memory in cache/hotcache.c): once hc_put returns, no
 * later get returns an older value; once hc_delete returns, no later get returns any
 * value written before it.
 *
 * Each writer thread owns its keys (key % WRITERS), so the versions of a key are ordered
 * by its one writer: after each put it reads the key back (its own value or a miss, the
 * key evicted), after each delete it must miss. Readers check that the versions they
 * see of a key never go back (a reader that saw version v cannot later see v' < v: v's
 * put had begun before that get, and v' was acknowledged before v's put began). The
 * cache is small (evictions all the time), the keys few (the writers' installs contend
 * on every shard mutex) and the values carry key and version so a torn or misplaced
 * value shows too.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hotcache.h"
#include "tests/unit/testutil.h"

enum { WRITERS = 4, READERS = 2, KEYS = 8192, VLEN = 200, OPS = 60000 };

struct val {
	uint32_t key, version;
	unsigned char fill[VLEN - 8];
};

static hc_cache *cache;
static _Atomic int writers_done;
static _Atomic long stale, torn, bad_rc;

static int key_of(uint32_t k, char *out)
{
	return snprintf(out, 32, "fresh-%u", k);
}

static void make(struct val *v, uint32_t k, uint32_t ver)
{
	v->key = k;
	v->version = ver;
	memset(v->fill, (int)(k * 31 + ver), sizeof(v->fill));
}

static int check(const struct val *v, uint32_t k)
{
	if (v->key != k)
		return 0;
	for (size_t i = 0; i < sizeof(v->fill); i++)
		if (v->fill[i] != (unsigned char)(k * 31 + v->version))
			return 0;
	return 1;
}

/* Gets key k: 1 with *ver set, 0 on a miss. */
static int get(uint32_t k, uint32_t *ver)
{
	char key[32];
	struct val v;
	size_t n = 0;
	int kl = key_of(k, key);
	int rc = hc_get(cache, key, (size_t)kl, &v, sizeof(v), &n);
	if (rc == HC_ENOTFOUND)
		return 0;
	if (rc != 0 || n != sizeof(v)) {
		atomic_fetch_add(&bad_rc, 1);
		return 0;
	}
	if (!check(&v, k))
		atomic_fetch_add(&torn, 1);
	*ver = v.version;
	return 1;
}

static void *writer(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;
	uint32_t next[KEYS] = {0};
	uint64_t seed = 0x9E3779B97F4A7C15u * (id + 1);
	for (int i = 0; i < OPS; i++) {
		uint64_t r = testutil_xorshift(&seed);
		uint32_t k = (uint32_t)(r % (KEYS / WRITERS)) * WRITERS + id;
		char key[32];
		int kl = key_of(k, key);
		uint32_t ver;
		if (r >> 60 == 0) {
			/* About one in sixteen: a delete, after which the key must miss. */
			if (hc_delete(cache, key, (size_t)kl) != 0)
				atomic_fetch_add(&bad_rc, 1);
			next[k]++; /* versions before it are gone for good */
			if (get(k, &ver))
				atomic_fetch_add(&stale, 1);
			continue;
		}
		struct val v;
		make(&v, k, ++next[k]);
		int rc = hc_put(cache, key, (size_t)kl, &v, sizeof(v));
		if (rc != 0 && rc != HC_EBUSY)
			atomic_fetch_add(&bad_rc, 1);
		if (rc == 0 && get(k, &ver) && ver != next[k])
			atomic_fetch_add(&stale, 1);
	}
	return NULL;
}

static void *reader(void *arg)
{
	static _Thread_local uint32_t seen[KEYS];
	uint64_t seed = 0xD6E8FEB86659FD93u * ((uintptr_t)arg + 1);
	memset(seen, 0, sizeof(seen));
	while (atomic_load(&writers_done) < WRITERS) {
		uint32_t k = (uint32_t)(testutil_xorshift(&seed) % KEYS), ver;
		if (get(k, &ver)) {
			if (ver < seen[k])
				atomic_fetch_add(&stale, 1);
			seen[k] = ver;
		}
	}
	return NULL;
}

static void *writer_main(void *arg)
{
	writer(arg);
	atomic_fetch_add(&writers_done, 1);
	hc_thread_detach(cache);
	return NULL;
}

static void fresh_without_store(void **state)
{
	(void)state;
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = 1u << 20; /* under half the keys fit: evictions throughout */
	cfg.max_entry = 4096;
	cfg.shards = 4;
	assert_int_equal(hc_open(&cfg, &cache), 0);
	pthread_t w[WRITERS], r[READERS];
	for (uintptr_t i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, (void *)i), 0);
	for (uintptr_t i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_create(&w[i], NULL, writer_main, (void *)i), 0);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);
	struct hc_stats st;
	assert_int_equal(hc_stats(cache, &st), 0);
	assert_true(st.evictions > 0); /* the installs did evict while readers read */
	assert_true(st.inserts > (uint64_t)OPS);
	assert_int_equal(atomic_load(&stale), 0);
	assert_int_equal(atomic_load(&torn), 0);
	assert_int_equal(atomic_load(&bad_rc), 0);
	hc_close(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fresh_without_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
