/*
 * Single-flight loads and the freshness rule, on a cache-only cache given a fake
 * write-through store through the cache_store_set seam.
 *
 * The fake store keeps the latest value of each key under a mutex, gives every put and
 * delete a per-key version, counts loads per key, and can hold a load between reading
 * the store and returning, or a put before the store applies it (gates the test opens),
 * which makes the stale-set race of look-aside caches deterministic: a load reads v1, a
 * put of v2 returns, then the load returns v1.
 *
 * Freshness rule (design.md): once hc_put returns, no hc_get that starts later returns
 * an older value. The held-load tests check it for one interleaving each; the
 * recorded-history test checks it per key over a concurrent run with forced misses.
 * Negative controls (run on a scratch tree, see the report in the lead's notes): with
 * install_loaded's stale-flight check disabled, the evicted, in-flight, delete and
 * history tests fail; with flights marked before the store write instead of after, the
 * in-flight test fails.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cache/cache.h"
#include "cache/store.h"
#include "hotcache.h"
#include "map/hash.h"
#include "tests/unit/history.h"
#include "tests/unit/testutil.h"

/* ---- fake store ------------------------------------------------------------------- */

struct fkv {
	struct fkv *next;
	unsigned char *key, *val;
	size_t klen, vlen;
	uint64_t ver;            /* per-key version: 1 for the first put, +1 per put */
	long loads;              /* load calls for this key */
};

#define FS_BUCKETS 4096u

struct fake_store;
/* Runs inside load after the value was read from the store, before it is returned. */
typedef void load_hook_fn(struct fake_store *fs, const void *key, size_t klen);

struct fake_store {
	pthread_mutex_t mu;
	struct fkv *tab[FS_BUCKETS];
	_Atomic long loads;      /* all load calls */
	_Atomic long active;     /* loads running now */
	_Atomic long max_active; /* most loads seen running at once */
	unsigned load_sleep_us;  /* every load spins this long (after reading) */
	load_hook_fn *hook;
	void *hook_arg;
	/* Runs at the start of every put, before the store applies it. */
	load_hook_fn *put_hook;
	void *put_hook_arg;
	int load_fail;           /* nonzero: every load fails with this code */
};

static uint32_t fs_hash(const void *key, size_t klen)
{
	const unsigned char *p = key;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < klen; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* fs->mu held. */
static struct fkv *fs_find(struct fake_store *fs, const void *key, size_t klen, int create)
{
	uint32_t b = fs_hash(key, klen) & (FS_BUCKETS - 1);
	for (struct fkv *e = fs->tab[b]; e != NULL; e = e->next)
		if (e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	if (!create)
		return NULL;
	struct fkv *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->key = malloc(klen);
	assert_non_null(e->key);
	memcpy(e->key, key, klen);
	e->klen = klen;
	e->next = fs->tab[b];
	fs->tab[b] = e;
	return e;
}

static int fs_put(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct fake_store *fs = ctx;
	if (fs->put_hook != NULL)
		fs->put_hook(fs, key, klen);
	pthread_mutex_lock(&fs->mu);
	struct fkv *e = fs_find(fs, key, klen, 1);
	unsigned char *nv = malloc(vlen ? vlen : 1);
	if (nv == NULL) {
		pthread_mutex_unlock(&fs->mu);
		return HC_ENOMEM;
	}
	if (vlen > 0)
		memcpy(nv, val, vlen);
	free(e->val);
	e->val = nv;
	e->vlen = vlen;
	e->ver++;
	/* the recorded history's version of this write: under the mutex, so in the
	 * store's order (history.h) */
	if (history_ver_out != NULL)
		*history_ver_out = e->ver;
	pthread_mutex_unlock(&fs->mu);
	return 0;
}

static int fs_del(void *ctx, const void *key, size_t klen)
{
	struct fake_store *fs = ctx;
	pthread_mutex_lock(&fs->mu);
	struct fkv *e = fs_find(fs, key, klen, 1);
	free(e->val);
	e->val = NULL;
	e->vlen = 0;
	e->ver++;
	if (history_ver_out != NULL)
		*history_ver_out = e->ver;
	pthread_mutex_unlock(&fs->mu);
	return 0;
}

static void note_active(struct fake_store *fs)
{
	long a = atomic_fetch_add(&fs->active, 1) + 1;
	long m = atomic_load(&fs->max_active);
	while (a > m && !atomic_compare_exchange_weak(&fs->max_active, &m, a))
		;
}

static int fs_load(void *ctx, const void *key, size_t klen, struct cache_load *ld)
{
	struct fake_store *fs = ctx;
	atomic_fetch_add(&fs->loads, 1);
	note_active(fs);
	pthread_mutex_lock(&fs->mu);
	struct fkv *e = fs_find(fs, key, klen, 1);
	e->loads++;
	unsigned char *copy = NULL;
	size_t vlen = 0;
	int found = e->val != NULL;
	if (found) {
		vlen = e->vlen;
		copy = malloc(vlen ? vlen : 1);
		assert_non_null(copy);
		memcpy(copy, e->val, vlen);
	}
	pthread_mutex_unlock(&fs->mu);
	/* What was read is now fixed; widen the window before returning it (a spin: a
	 * few microseconds of usleep would be tens under the timer slack). */
	if (fs->load_sleep_us > 0) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &t1);
		while ((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000 <
		       (long)fs->load_sleep_us);
	}
	if (fs->hook != NULL)
		fs->hook(fs, key, klen);
	int rc = HC_ENOTFOUND;
	if (fs->load_fail != 0) {
		found = 0;
		rc = fs->load_fail;
	}
	if (found) {
		void *dst = ld->alloc(ld, vlen);
		rc = HC_ENOMEM;
		if (dst != NULL) {
			memcpy(dst, copy, vlen);
			rc = 0;
		}
	}
	free(copy);
	atomic_fetch_sub(&fs->active, 1);
	return rc;
}

static void fs_close(void *ctx)
{
	struct fake_store *fs = ctx;
	for (unsigned b = 0; b < FS_BUCKETS; b++) {
		struct fkv *e = fs->tab[b];
		while (e != NULL) {
			struct fkv *n = e->next;
			free(e->key);
			free(e->val);
			free(e);
			e = n;
		}
	}
	pthread_mutex_destroy(&fs->mu);
	free(fs);
}

static struct fake_store *fs_new(void)
{
	struct fake_store *fs = calloc(1, sizeof(*fs));
	assert_non_null(fs);
	pthread_mutex_init(&fs->mu, NULL);
	return fs;
}

static long fs_key_loads(struct fake_store *fs, const void *key, size_t klen)
{
	pthread_mutex_lock(&fs->mu);
	struct fkv *e = fs_find(fs, key, klen, 0);
	long n = e != NULL ? e->loads : 0;
	pthread_mutex_unlock(&fs->mu);
	return n;
}

/* Stores a value behind the cache's back (as if written before the cache started). */
static void fs_seed(struct fake_store *fs, const char *key, const void *val, size_t vlen)
{
	assert_int_equal(fs_put(fs, key, strlen(key), val, vlen), 0);
}

/* Opens a cache-only cache and gives it fs as its store (closed by hc_close). */
static hc_cache *open_with_store(struct fake_store *fs, uint64_t limit, uint32_t shards,
                                 uint64_t max_entry)
{
	hc_cache *c = testutil_open_mem(limit, shards, max_entry);
	struct cache_store st = {.ctx = fs, .put = fs_put, .del = fs_del, .load = fs_load,
	                         .close = fs_close};
	cache_store_set(c, &st);
	return c;
}

static struct hc_stats stats_of(hc_cache *c)
{
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	return st;
}

/* Whether key has an entry in memory now (an index lookup: no load, no counters). */
static int in_memory(hc_cache *c, const void *key, size_t klen)
{
	uint64_t h = map_hash_bytes(&c->seed, key, klen);
	struct reclaim_thread *t = reclaim_enter(&c->rc);
	assert_non_null(t);
	int found = index_get(&shard_of(c, h)->ix, h, key, (uint32_t)klen) != NULL;
	reclaim_exit(t);
	return found;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits (polling) until cond(arg) or timeout; returns cond's last value. */
static int wait_until(int (*cond)(void *), void *arg, uint64_t timeout_ms)
{
	uint64_t end = now_ns() + timeout_ms * 1000000u;
	while (!cond(arg)) {
		if (now_ns() > end)
			return cond(arg);
		usleep(200);
	}
	return 1;
}

/* ---- single flight ------------------------------------------------------------------ */

enum { FLIGHT_THREADS = 8 };

struct flight_test {
	hc_cache *c;
	pthread_barrier_t start;
	const char *key;
	int rc[FLIGHT_THREADS];
	char got[FLIGHT_THREADS][32];
	size_t len[FLIGHT_THREADS];
	_Atomic int next;
};

static int all_others_wait(void *arg)
{
	hc_cache *c = arg;
	return stats_of(c).load_waits >= FLIGHT_THREADS - 1;
}

/* The load sleeps 50 ms, then holds on until the other 7 misses are waiting for it
 * (load_waits, counted under the stripe mutex before a waiter sleeps), so that "one
 * load" cannot pass because a thread came late and found the value cached. Gives up
 * after 5 s: with a broken single flight the waiters never show and loads != 1. */
static void flight_hook(struct fake_store *fs, const void *key, size_t klen)
{
	(void)key;
	(void)klen;
	usleep(50000);
	wait_until(all_others_wait, fs->hook_arg, 5000);
}

static void *flight_getter(void *arg)
{
	struct flight_test *ft = arg;
	int i = atomic_fetch_add(&ft->next, 1);
	pthread_barrier_wait(&ft->start);
	ft->rc[i] = hc_get(ft->c, ft->key, strlen(ft->key), ft->got[i], sizeof(ft->got[i]),
	                   &ft->len[i]);
	return NULL;
}

/* FLIGHT_THREADS threads get ft->key at once. */
static void run_flight(struct flight_test *ft)
{
	pthread_barrier_init(&ft->start, NULL, FLIGHT_THREADS);
	pthread_t th[FLIGHT_THREADS];
	for (int i = 0; i < FLIGHT_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, flight_getter, ft), 0);
	for (int i = 0; i < FLIGHT_THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&ft->start);
}

static void concurrent_misses_on_one_key_share_one_load(void **state)
{
	(void)state;
	struct fake_store *fs = fs_new();
	hc_cache *c = open_with_store(fs, 8u << 20, 4, 64 << 10);
	fs_seed(fs, "the-key", "the-value", 9);
	fs->hook = flight_hook;
	fs->hook_arg = c;

	struct flight_test ft = {.c = c, .key = "the-key"};
	run_flight(&ft);

	for (int i = 0; i < FLIGHT_THREADS; i++) {
		assert_int_equal(ft.rc[i], 0);
		assert_int_equal(ft.len[i], 9);
		assert_memory_equal(ft.got[i], "the-value", 9);
	}
	assert_int_equal(fs_key_loads(fs, "the-key", 7), 1);
	struct hc_stats st = stats_of(c);
	assert_int_equal(st.loads, 1);
	assert_int_equal(st.load_waits, FLIGHT_THREADS - 1);
	assert_true(st.load_waits >= 1);
	/* Every get missed once (and is counted once): the waiters were then served
	 * from the entry the loader installed, not counted again as hits. */
	assert_int_equal(st.misses, FLIGHT_THREADS);
	assert_int_equal(st.hits, 0);
	assert_int_equal(st.inserts, 1);
	hc_close(c);
}

struct two_keys {
	hc_cache *c;
	const char *key;
	int rc;
	char got[32];
	size_t len;
};

static int two_loads_running(void *arg)
{
	struct fake_store *fs = arg;
	return atomic_load(&fs->max_active) >= 2;
}

/* Each load holds on until the other key's load runs too (up to 5 s): with loads of
 * different keys serialised, max_active stays 1. */
static void parallel_hook(struct fake_store *fs, const void *key, size_t klen)
{
	(void)key;
	(void)klen;
	wait_until(two_loads_running, fs, 5000);
	usleep(20000);
}

static void *two_keys_getter(void *arg)
{
	struct two_keys *tk = arg;
	tk->rc = hc_get(tk->c, tk->key, strlen(tk->key), tk->got, sizeof(tk->got), &tk->len);
	return NULL;
}

/* An 8 MiB cache over a fresh fake store holding key-a and key-b; hook runs in loads. */
static hc_cache *open_two_keys(struct fake_store **fsp, load_hook_fn *hook)
{
	struct fake_store *fs = fs_new();
	hc_cache *c = open_with_store(fs, 8u << 20, 4, 64 << 10);
	fs_seed(fs, "key-a", "value-a", 7);
	fs_seed(fs, "key-b", "value-b", 7);
	fs->hook = hook;
	*fsp = fs;
	return c;
}

static void misses_on_different_keys_load_in_parallel(void **state)
{
	(void)state;
	struct fake_store *fs;
	hc_cache *c = open_two_keys(&fs, parallel_hook);
	struct two_keys tk[2] = {{.c = c, .key = "key-a"}, {.c = c, .key = "key-b"}};
	pthread_t th[2];
	uint64_t t0 = now_ns();
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, two_keys_getter, &tk[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	uint64_t took_ms = (now_ns() - t0) / 1000000u;
	assert_int_equal(tk[0].rc, 0);
	assert_int_equal(tk[1].rc, 0);
	assert_memory_equal(tk[0].got, "value-a", 7);
	assert_memory_equal(tk[1].got, "value-b", 7);
	/* Both loads were running at the same time. */
	assert_int_equal(atomic_load(&fs->max_active), 2);
	assert_int_equal(stats_of(c).loads, 2);
	assert_int_equal(stats_of(c).load_waits, 0);
	assert_true(took_ms < 5000);
	hc_close(c);
}

/* ---- freshness with a held load --------------------------------------------------- */

struct gate {
	sem_t loaded;   /* posted by the load once it has read the store */
	sem_t proceed;  /* posted by the test to let the load return */
	const char *key;
};

static void gate_pass(struct gate *g, const void *key, size_t klen)
{
	if (klen != strlen(g->key) || memcmp(key, g->key, klen) != 0)
		return;
	sem_post(&g->loaded);
	while (sem_wait(&g->proceed) != 0 && errno == EINTR)
		;
}

static void gate_hook(struct fake_store *fs, const void *key, size_t klen)
{
	gate_pass(fs->hook_arg, key, klen);
}

static void put_gate_hook(struct fake_store *fs, const void *key, size_t klen)
{
	gate_pass(fs->put_hook_arg, key, klen);
}

static void gate_init(struct gate *g, const char *key)
{
	g->key = key;
	sem_init(&g->loaded, 0, 0);
	sem_init(&g->proceed, 0, 0);
}

static void gate_wait(struct gate *g)
{
	while (sem_wait(&g->loaded) != 0 && errno == EINTR)
		;
}

static void gate_destroy(struct gate *g)
{
	sem_destroy(&g->loaded);
	sem_destroy(&g->proceed);
}

struct held_get {
	hc_cache *c;
	const char *key;
	int rc;
	char got[2048];
	size_t len;
};

static void *held_getter(void *arg)
{
	struct held_get *hg = arg;
	hg->rc = hc_get(hg->c, hg->key, strlen(hg->key), hg->got, sizeof(hg->got), &hg->len);
	return NULL;
}

enum { FRESH_VLEN = 1000 };

static void fill_value(char *v, char tag)
{
	memset(v, tag, FRESH_VLEN);
}

static struct stripe *stripe_of_key(hc_cache *c, const void *key, size_t klen)
{
	return stripe_of(c, map_hash_bytes(&c->seed, key, klen));
}

/* Puts other keys, each read twice so that they are not one-time keys and the policy
 * has to push key out of memory too, until key is gone. Returns how many it took.
 * Skips keys of key's stripe, so that a check per stripe instead of per key could not
 * hide a broken one. */
static int evict_by_pressure(hc_cache *c, const char *key, int round)
{
	char k[48], v[FRESH_VLEN], buf[FRESH_VLEN];
	size_t n;
	memset(v, 'f', sizeof(v));
	struct stripe *mine = stripe_of_key(c, key, strlen(key));
	for (int i = 0; i < 200000; i++) {
		if (!in_memory(c, key, strlen(key)))
			return i + 1;
		int kl = snprintf(k, sizeof(k), "filler-%d-%d", round, i);
		if (stripe_of_key(c, k, (size_t)kl) == mine)
			continue;
		assert_int_equal(hc_put(c, k, (size_t)kl, v, sizeof(v)), 0);
		for (int r = 0; r < 2; r++)
			assert_int_equal(hc_get(c, k, (size_t)kl, buf, sizeof(buf), &n), 0);
	}
	fail_msg("%s still in memory after 200000 fillers", key);
	return -1;
}

static void get_is_value(hc_cache *c, const char *key, char tag)
{
	char buf[FRESH_VLEN], want[FRESH_VLEN];
	size_t n = 0;
	fill_value(want, tag);
	assert_int_equal(hc_get(c, key, strlen(key), buf, sizeof(buf), &n), 0);
	assert_int_equal(n, FRESH_VLEN);
	if (memcmp(buf, want, FRESH_VLEN) != 0)
		fail_msg("%s: got value '%c', want '%c' (a stale load was installed)", key, buf[0],
		         tag);
}

/*
 * The stale-set race, made deterministic: A misses on k and its load reads v1 from the
 * store, then is held; B's hc_put(k, v2) returns; if evict_before_release, v2's entry
 * is then pushed out of memory, so only the version check can stop v1 (an
 * insert-if-absent alone would not); then A's load returns v1 (A's own get started
 * before the put returned, so v1 is a fine answer for it). After that, every get of k
 * returns v2: from memory, and again after v2 is evicted and loaded from the store.
 */
static void stale_load_is_not_installed_after_put(int evict_before_release)
{
	struct fake_store *fs = fs_new();
	/* Tiny: 1 MiB, one shard, about 600 entries of 1 KiB. */
	hc_cache *c = open_with_store(fs, 1u << 20, 1, 16 << 10);
	char v1[FRESH_VLEN], v2[FRESH_VLEN];
	fill_value(v1, '1');
	fill_value(v2, '2');
	const char *k = "fresh-key";
	fs_seed(fs, k, v1, sizeof(v1));

	struct gate g = {.key = k};
	sem_init(&g.loaded, 0, 0);
	sem_init(&g.proceed, 0, 0);
	fs->hook = gate_hook;
	fs->hook_arg = &g;

	struct held_get a = {.c = c, .key = k};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, held_getter, &a), 0);
	while (sem_wait(&g.loaded) != 0 && errno == EINTR)
		;
	/* A has read v1 and is held. */
	assert_int_equal(hc_put(c, k, strlen(k), v2, sizeof(v2)), 0);
	assert_true(in_memory(c, k, strlen(k)));
	if (evict_before_release)
		assert_true(evict_by_pressure(c, k, 0) > 0);
	struct hc_stats before = stats_of(c);
	sem_post(&g.proceed);
	pthread_join(th, NULL);
	fs->hook = NULL;

	assert_int_equal(a.rc, 0);
	assert_int_equal(a.len, FRESH_VLEN);
	assert_memory_equal(a.got, v1, FRESH_VLEN); /* what its load read */
	struct hc_stats after = stats_of(c);
	int present = in_memory(c, k, strlen(k));
	/* The behaviour: a get that starts now returns v2. */
	get_is_value(c, k, '2');
	/* The mechanism: the load's value was discarded, not installed. */
	assert_int_equal(after.inserts, before.inserts);
	assert_int_equal(after.not_cached, before.not_cached + 1);
	assert_int_equal(present, !evict_before_release);
	assert_true(in_memory(c, k, strlen(k)));
	/* Push v2 out and read it back through a load. */
	assert_true(evict_by_pressure(c, k, 1) > 0);
	long loads0 = fs_key_loads(fs, k, strlen(k));
	get_is_value(c, k, '2');
	assert_int_equal(fs_key_loads(fs, k, strlen(k)), loads0 + 1);
	sem_destroy(&g.loaded);
	sem_destroy(&g.proceed);
	hc_close(c);
}

static void stale_load_is_not_installed_over_a_newer_put(void **state)
{
	(void)state;
	stale_load_is_not_installed_after_put(0);
}

static void stale_load_is_not_installed_after_the_newer_put_was_evicted(void **state)
{
	(void)state;
	stale_load_is_not_installed_after_put(1);
}

struct held_put {
	hc_cache *c;
	const char *key;
	const void *val;
	size_t vlen;
	int rc;
};

static void *held_putter(void *arg)
{
	struct held_put *hp = arg;
	hp->rc = hc_put(hp->c, hp->key, strlen(hp->key), hp->val, hp->vlen);
	return NULL;
}

/*
 * The race with a put in flight: B's hc_put(k, v2) is held inside the store before
 * the store applies it; A misses on k and its load reads v1 and is held; B's put then
 * completes and returns; v2's entry is pushed out of memory; A's load returns v1. A
 * get of k must then return v2. This is what fails if the write version were bumped
 * before the store write instead of after it (A's load would start after the bump,
 * see no change, and install v1).
 */
static void stale_load_that_overlapped_a_put_in_flight_is_not_installed(void **state)
{
	(void)state;
	struct fake_store *fs = fs_new();
	hc_cache *c = open_with_store(fs, 1u << 20, 1, 16 << 10);
	char v1[FRESH_VLEN], v2[FRESH_VLEN];
	fill_value(v1, '1');
	fill_value(v2, '2');
	const char *k = "fresh-key";
	fs_seed(fs, k, v1, sizeof(v1));
	struct gate lg, pg;
	gate_init(&lg, k);
	gate_init(&pg, k);
	fs->hook = gate_hook;
	fs->hook_arg = &lg;
	fs->put_hook = put_gate_hook;
	fs->put_hook_arg = &pg;

	struct held_put b = {.c = c, .key = k, .val = v2, .vlen = sizeof(v2)};
	struct held_get a = {.c = c, .key = k};
	pthread_t tb, ta;
	assert_int_equal(pthread_create(&tb, NULL, held_putter, &b), 0);
	gate_wait(&pg); /* B is inside the store, v2 not applied */
	assert_int_equal(pthread_create(&ta, NULL, held_getter, &a), 0);
	gate_wait(&lg); /* A's load has read v1 */
	fs->put_hook = NULL;
	sem_post(&pg.proceed);
	pthread_join(tb, NULL);
	assert_int_equal(b.rc, 0);
	assert_true(evict_by_pressure(c, k, 0) > 0);
	sem_post(&lg.proceed);
	pthread_join(ta, NULL);
	fs->hook = NULL;
	assert_int_equal(a.rc, 0);
	assert_memory_equal(a.got, v1, FRESH_VLEN);
	get_is_value(c, k, '2');
	gate_destroy(&lg);
	gate_destroy(&pg);
	hc_close(c);
}

/* The same race with hc_delete: a load that read v1 before the delete returned must not
 * bring v1 back. */
static void stale_load_is_not_installed_after_delete(void **state)
{
	(void)state;
	struct fake_store *fs = fs_new();
	hc_cache *c = open_with_store(fs, 1u << 20, 1, 16 << 10);
	char v1[FRESH_VLEN];
	fill_value(v1, '1');
	const char *k = "deleted-key";
	fs_seed(fs, k, v1, sizeof(v1));
	struct gate g = {.key = k};
	sem_init(&g.loaded, 0, 0);
	sem_init(&g.proceed, 0, 0);
	fs->hook = gate_hook;
	fs->hook_arg = &g;
	struct held_get a = {.c = c, .key = k};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, held_getter, &a), 0);
	while (sem_wait(&g.loaded) != 0 && errno == EINTR)
		;
	assert_int_equal(hc_delete(c, k, strlen(k)), 0);
	sem_post(&g.proceed);
	pthread_join(th, NULL);
	fs->hook = NULL;
	assert_int_equal(a.rc, 0);
	assert_memory_equal(a.got, v1, FRESH_VLEN);
	int present = in_memory(c, k, strlen(k));
	char buf[FRESH_VLEN];
	size_t n;
	int rc = hc_get(c, k, strlen(k), buf, sizeof(buf), &n);
	if (rc == 0)
		fail_msg("%s: deleted, yet a get served '%c' (a stale load was installed)", k, buf[0]);
	assert_int_equal(rc, HC_ENOTFOUND);
	assert_false(present);
	sem_destroy(&g.loaded);
	sem_destroy(&g.proceed);
	hc_close(c);
}

/* ---- recorded-history freshness check (tests/unit/history.c) ----------------------- */

static struct history *flight_history_new(void)
{
	struct fake_store *fs = fs_new();
	fs->load_sleep_us = 5;
	return history_new(open_with_store(fs, 1u << 20, 2, 128 << 10));
}

/*
 * Writers put unique values to 4 hot keys through the fake store while readers get
 * them, half of the reads right after forcing the key out of memory; every op's span
 * on a global clock and every value are recorded, then checked per key offline: no
 * read returns a value older than the newest put acknowledged before the read began.
 */
static void no_read_returns_a_value_older_than_an_acknowledged_put(void **state)
{
	(void)state;
	struct history *h = flight_history_new();
	struct hc_stats st0 = stats_of(h->c);
	history_run(h, 12345u);
	struct hc_stats st = stats_of(h->c);
	long n = history_nops(h);
	long reads = atomic_load(&h->reads), writes = atomic_load(&h->writes);
	/* Only the readers read, and a read loads at most once: loads is a lower bound on
	 * the reads that missed. */
	uint64_t loads = st.loads - st0.loads;
	print_message("history: %ld reads (%ld not found), %ld puts, %ld deletes, %llu misses, "
	              "%llu loads (%.0f%% of reads), %llu load waits, %llu evictions, %ld forced, "
	              "%llu not cached\n", reads, atomic_load(&h->notfound), writes,
	              atomic_load(&h->deletes), (unsigned long long)(st.misses - st0.misses),
	              (unsigned long long)loads, reads ? 100.0 * (double)loads / (double)reads : 0,
	              (unsigned long long)(st.load_waits - st0.load_waits),
	              (unsigned long long)(st.evictions - st0.evictions), atomic_load(&h->forced),
	              (unsigned long long)(st.not_cached - st0.not_cached));
	assert_int_equal(atomic_load(&h->errors), 0);
	assert_int_equal(atomic_load(&h->bad_value), 0);
	assert_true(reads >= 500);
	assert_true(writes >= 100);
	assert_true(st.evictions > st0.evictions); /* the fillers overflow the cache */
	/* At least 30% of reads missed and loaded, racing their loads with the puts. */
	assert_true(loads * 10 >= (uint64_t)reads * 3);
	assert_int_equal(history_check(h, n), 0);
	history_free(h);
}

/* ---- re-entry from callbacks and shared outcomes (issue 11) ----------------------- */

/* Runs fn(arg) on a thread and waits at most 10 s for it: a deadlock fails the test
 * with a message instead of hanging ctest (the stuck thread is left behind). */
struct bounded_run {
	void (*fn)(void *);
	void *arg;
	sem_t done;
};

static void *bounded_main(void *arg)
{
	struct bounded_run *b = arg;
	b->fn(b->arg);
	sem_post(&b->done);
	return NULL;
}

static int run_bounded(void (*fn)(void *), void *arg)
{
	struct bounded_run *b = calloc(1, sizeof(*b)); /* leaked if the thread is stuck */
	assert_non_null(b);
	b->fn = fn;
	b->arg = arg;
	sem_init(&b->done, 0, 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, bounded_main, b), 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	int rc;
	while ((rc = sem_timedwait(&b->done, &ts)) != 0 && errno == EINTR)
		;
	if (rc != 0) {
		pthread_detach(th);
		return -1;
	}
	pthread_join(th, NULL);
	sem_destroy(&b->done);
	free(b);
	return 0;
}

struct reentry {
	hc_cache *c;
	const char *key;   /* what the outer call reads */
	const char *inner; /* what its callback gets */
	int outer_rc, inner_rc;
	char got[32];
	size_t len;
};

static void reentry_get(struct reentry *r)
{
	r->inner_rc = hc_get(r->c, r->inner, strlen(r->inner), r->got, sizeof(r->got), &r->len);
}

static void reentry_read_cb(const void *val, size_t vlen, void *arg)
{
	(void)val;
	(void)vlen;
	reentry_get(arg);
}

static void reentry_batch_cb(size_t i, int rc, const void *val, size_t vlen, void *arg)
{
	(void)i;
	(void)val;
	(void)vlen;
	if (rc == 0)
		reentry_get(arg);
}

static void reentry_read(void *arg)
{
	struct reentry *r = arg;
	r->outer_rc = hc_read(r->c, r->key, strlen(r->key), reentry_read_cb, r);
}

static void reentry_batch(void *arg)
{
	struct reentry *r = arg;
	const void *keys[1] = {r->key};
	size_t klens[1] = {strlen(r->key)};
	r->outer_rc = hc_read_batch(r->c, 1, keys, klens, reentry_batch_cb, r);
}

/* Regression (issue 11, defect 1): a callback delivering a loaded value that gets the
 * same key waited forever on its own flight. */
static void a_callback_can_get_the_key_it_is_delivered(void **state)
{
	(void)state;
	void (*runs[2])(void *) = {reentry_read, reentry_batch};
	for (int i = 0; i < 2; i++) {
		struct fake_store *fs = fs_new();
		hc_cache *c = open_with_store(fs, 8u << 20, 4, 64 << 10);
		fs_seed(fs, "k", "v-of-k", 6);
		struct reentry r = {.c = c, .key = "k", .inner = "k"};
		if (run_bounded(runs[i], &r) != 0)
			fail_msg("%s: the callback's hc_get of the delivered key deadlocked",
			         i == 0 ? "hc_read" : "hc_read_batch");
		assert_int_equal(r.outer_rc, 0);
		assert_int_equal(r.inner_rc, 0);
		assert_int_equal(r.len, 6);
		assert_memory_equal(r.got, "v-of-k", 6);
		hc_close(c);
	}
}

/* Each load holds on until both keys' loads run (or 5 s pass). */
static void cycle_hook(struct fake_store *fs, const void *key, size_t klen)
{
	(void)key;
	(void)klen;
	wait_until(two_loads_running, fs, 5000);
}

static void *reentry_read_thread(void *arg)
{
	reentry_read(arg);
	return NULL;
}

static void cycle_pair(void *arg)
{
	struct reentry *r = arg;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, reentry_read_thread, &r[1]), 0);
	reentry_read(&r[0]);
	pthread_join(th, NULL);
}

/* Regression (issue 11, defect 1): two loaders whose callbacks get each other's key
 * waited on each other's flight forever. */
static void two_loaders_whose_callbacks_get_each_others_key_finish(void **state)
{
	(void)state;
	struct fake_store *fs;
	hc_cache *c = open_two_keys(&fs, cycle_hook);
	struct reentry r[2] = {{.c = c, .key = "key-a", .inner = "key-b"},
	                       {.c = c, .key = "key-b", .inner = "key-a"}};
	if (run_bounded(cycle_pair, r) != 0)
		fail_msg("two loaders reading each other's key from their callbacks deadlocked");
	fs->hook = NULL;
	assert_int_equal(atomic_load(&fs->max_active), 2); /* the loads did overlap */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(r[i].outer_rc, 0);
		assert_int_equal(r[i].inner_rc, 0);
		assert_memory_equal(r[i].got, r[i].inner[4] == 'a' ? "value-a" : "value-b", 7);
	}
	hc_close(c);
}

/*
 * Regression (issue 11, defect 4): FLIGHT_THREADS concurrent gets of a key whose load
 * does not install (absent, failing, or larger than max_entry) cost one load each in
 * turn: every waiter became the next loader. The loader's outcome must reach every
 * waiter: one load, the same answer for all.
 */
static void flight_outcome_is_shared(const char *key, int fail, size_t vlen, int want_rc)
{
	struct fake_store *fs = fs_new();
	hc_cache *c = open_with_store(fs, 8u << 20, 4, 16 << 10);
	char *val = malloc(vlen ? vlen : 1);
	assert_non_null(val);
	memset(val, 'x', vlen);
	if (vlen > 0)
		fs_seed(fs, key, val, vlen);
	fs->load_fail = fail;
	fs->hook = flight_hook;
	fs->hook_arg = c;
	struct flight_test ft = {.c = c, .key = key};
	run_flight(&ft);
	long loads = fs_key_loads(fs, key, strlen(key));
	print_message("%s: %ld loads for %d concurrent gets\n", key, loads, FLIGHT_THREADS);
	for (int i = 0; i < FLIGHT_THREADS; i++) {
		assert_int_equal(ft.rc[i], want_rc);
		if (want_rc == HC_ERANGE)
			assert_int_equal(ft.len[i], vlen);
	}
	assert_int_equal(loads, 1);
	assert_int_equal(stats_of(c).load_waits, FLIGHT_THREADS - 1);
	free(val);
	hc_close(c);
}

static void waiters_share_a_not_found(void **state)
{
	(void)state;
	flight_outcome_is_shared("absent-key", 0, 0, HC_ENOTFOUND);
}

static void waiters_share_a_load_error(void **state)
{
	(void)state;
	flight_outcome_is_shared("failing-key", HC_EIO, 9, HC_EIO);
}

static void waiters_share_a_value_too_large_to_cache(void **state)
{
	(void)state;
	/* 20 KiB > max_entry 16 KiB: stored, read through, never installed; each getter's
	 * 32-byte buffer is too small, so each gets HC_ERANGE with the size. */
	flight_outcome_is_shared("large-key", 0, 20 << 10, HC_ERANGE);
}

/* Finds a key other than key that falls in key's stripe. */
static void same_stripe_key(hc_cache *c, const char *key, char *out, size_t cap)
{
	struct stripe *mine = stripe_of_key(c, key, strlen(key));
	for (int i = 0; i < 1000000; i++) {
		int n = snprintf(out, cap, "neighbour-%d", i);
		if (stripe_of_key(c, out, (size_t)n) == mine)
			return;
	}
	fail_msg("no key shares %s's stripe", key);
}

/* A 1 MiB one-shard cache over a fresh fake store holding k = v1 ('1's), with every
 * load of k held at g. */
static hc_cache *open_held(struct fake_store **fsp, struct gate *g, const char *k)
{
	struct fake_store *fs = fs_new();
	hc_cache *c = open_with_store(fs, 1u << 20, 1, 16 << 10);
	char v1[FRESH_VLEN];
	fill_value(v1, '1');
	fs_seed(fs, k, v1, sizeof(v1));
	gate_init(g, k);
	fs->hook = gate_hook;
	fs->hook_arg = g;
	*fsp = fs;
	return c;
}

/* Regression (issue 11, defect 4): a write of any key of a stripe discarded every load
 * of the stripe in flight, so a hot key made 1/1024th of the key space uncacheable. */
static void a_write_of_another_key_does_not_discard_a_load(void **state)
{
	(void)state;
	struct fake_store *fs;
	struct gate g;
	const char *k = "loaded-key";
	hc_cache *c = open_held(&fs, &g, k);
	char other[48];
	same_stripe_key(c, k, other, sizeof(other));
	struct held_get a = {.c = c, .key = k};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, held_getter, &a), 0);
	gate_wait(&g);
	assert_int_equal(hc_put(c, other, strlen(other), "w", 1), 0);
	sem_post(&g.proceed);
	pthread_join(th, NULL);
	fs->hook = NULL;
	assert_int_equal(a.rc, 0);
	if (!in_memory(c, k, strlen(k)))
		fail_msg("a put of %s (same stripe) discarded the load of %s", other, k);
	gate_destroy(&g);
	hc_close(c);
}

/* A get that starts after a put returned must not take the outcome of a load that read
 * the store before the put (it would return the old value). */
static void a_get_after_a_put_does_not_share_a_stale_load(void **state)
{
	(void)state;
	struct fake_store *fs;
	struct gate g;
	const char *k = "fresh-key";
	hc_cache *c = open_held(&fs, &g, k);
	char v2[FRESH_VLEN];
	fill_value(v2, '2');
	struct held_get a = {.c = c, .key = k}, b = {.c = c, .key = k};
	pthread_t ta, tb;
	assert_int_equal(pthread_create(&ta, NULL, held_getter, &a), 0);
	gate_wait(&g); /* A's load has read v1 */
	assert_int_equal(hc_put(c, k, strlen(k), v2, sizeof(v2)), 0);
	assert_true(evict_by_pressure(c, k, 0) > 0);
	fs->hook = NULL; /* B's own load, if it makes one, is not held */
	assert_int_equal(pthread_create(&tb, NULL, held_getter, &b), 0);
	usleep(50000); /* B is waiting on A's flight now, if it joined it */
	sem_post(&g.proceed);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(a.got[0], '1');
	assert_int_equal(b.rc, 0);
	if (b.got[0] != '2')
		fail_msg("a get that began after the put returned got '%c'", b.got[0]);
	gate_destroy(&g);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(concurrent_misses_on_one_key_share_one_load),
		cmocka_unit_test(misses_on_different_keys_load_in_parallel),
		cmocka_unit_test(stale_load_is_not_installed_over_a_newer_put),
		cmocka_unit_test(stale_load_is_not_installed_after_the_newer_put_was_evicted),
		cmocka_unit_test(stale_load_that_overlapped_a_put_in_flight_is_not_installed),
		cmocka_unit_test(stale_load_is_not_installed_after_delete),
		cmocka_unit_test(no_read_returns_a_value_older_than_an_acknowledged_put),
		cmocka_unit_test(a_callback_can_get_the_key_it_is_delivered),
		cmocka_unit_test(two_loaders_whose_callbacks_get_each_others_key_finish),
		cmocka_unit_test(waiters_share_a_not_found),
		cmocka_unit_test(waiters_share_a_load_error),
		cmocka_unit_test(waiters_share_a_value_too_large_to_cache),
		cmocka_unit_test(a_write_of_another_key_does_not_discard_a_load),
		cmocka_unit_test(a_get_after_a_put_does_not_share_a_stale_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
