/*
 * Stress: 4 threads doing random hc_put / hc_get / hc_read / hc_read_batch / hc_delete on
 * 20,000 keys,
 * values of 16 B .. 4 KiB, cache-only, under a 4 MiB limit so that evictions never
 * stop, for HC_STRESS_SECONDS (default 2).
 *
 * Every value encodes its key id, a version, its length and a checksum, and the rest of
 * its bytes are derived from those: every read regenerates the value it claims to be and
 * compares it byte for byte (hc_read and hc_read_batch inside the callback, hc_get on
 * the copy). Reads race with evictions and replaces of the entries they hit, so a read
 * path that leaves its reclaim section before it is done with an entry (the index
 * lookup, the key compare, the callback) reads freed, wiped or reused memory here: with
 * the section removed from hc_read's or hc_read_batch's path this test fails. A value
 * from the future (a version not yet handed out for its key) is an error too. Gets with
 * a small buffer check HC_ERANGE: the size reported, nothing copied.
 *
 * A sampler thread reads hc_stats every millisecond and checks accounted_bytes <=
 * memory_limit + slack_bytes (the design's bound), recording the largest value seen.
 */
#include <pthread.h>
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

#include "tests/stress/seconds.h"

#include "hotcache.h"

enum {
	THREADS = 4,
	KEYS = 20000,
	VMIN = 16,
	VMAX = 4096,
	HEAD = 14,   /* key id 4, length 2, version 4, checksum 4 */
	SMALL_CAP = 64,
};
#define LIMIT (4u << 20)

struct shared {
	hc_cache *c;
	_Atomic int stop;
	_Atomic uint32_t next_ver[KEYS];   /* versions handed out per key */
	_Atomic long bad;                  /* values that did not check */
	_Atomic long errors;               /* calls that failed unexpectedly */
	_Atomic long puts, gets, reads, deletes, hits, eranges, busy;
	_Atomic int first_set;
	char first[256];                   /* the first failure, for the report */
};

static struct shared S;

static void failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failure(const char *fmt, ...)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&S.first_set, &expected, 1)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(S.first, sizeof(S.first), fmt, ap);
		va_end(ap);
	}
}

static uint32_t fnv(const unsigned char *p, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The value of (key, version, len): head, then bytes from a generator seeded by them.
 * The checksum covers the head's first 10 bytes and the body. */
static void make_value(unsigned char *v, uint32_t key, uint32_t ver, size_t len)
{
	uint16_t l16 = (uint16_t)len;
	memcpy(v, &key, 4);
	memcpy(v + 4, &l16, 2);
	memcpy(v + 6, &ver, 4);
	uint64_t x = ((uint64_t)key << 32 | ver) * 0x9e3779b97f4a7c15ull + len;
	for (size_t i = HEAD; i < len; i++) {
		x ^= x >> 29;
		x *= 0xbf58476d1ce4e5b9ull;
		v[i] = (unsigned char)(x >> 56);
	}
	uint32_t sum = fnv(v + HEAD, len - HEAD, fnv(v, 10, 2166136261u));
	memcpy(v + 10, &sum, 4);
}

static size_t value_len(uint32_t key, uint32_t ver)
{
	uint64_t x = ((uint64_t)key * 2654435761u) ^ ((uint64_t)ver * 40503u);
	x ^= x >> 13;
	/* Mostly small values, some up to 4 KiB. */
	if (x % 4 == 0)
		return VMIN + (size_t)(x >> 3) % (VMAX - VMIN + 1);
	return VMIN + (size_t)(x >> 3) % 240;
}

/* Checks a value read for key: 0 if it is exactly what its head says. */
static int check_value(uint32_t key, const unsigned char *v, size_t len)
{
	if (len < VMIN || len > VMAX) {
		failure("key %u: length %zu outside %d..%d", key, len, VMIN, VMAX);
		return -1;
	}
	uint32_t k, ver, sum;
	uint16_t l16;
	memcpy(&k, v, 4);
	memcpy(&l16, v + 4, 2);
	memcpy(&ver, v + 6, 4);
	memcpy(&sum, v + 10, 4);
	if (k != key || l16 != len) {
		failure("key %u: value claims key %u length %u, read %zu bytes", key, k, l16, len);
		return -1;
	}
	if (ver >= atomic_load_explicit(&S.next_ver[key], memory_order_acquire)) {
		failure("key %u: version %u was never written", key, ver);
		return -1;
	}
	if (sum != fnv(v + HEAD, len - HEAD, fnv(v, 10, 2166136261u))) {
		failure("key %u version %u: checksum mismatch", key, ver);
		return -1;
	}
	unsigned char want[VMAX];
	make_value(want, key, ver, len);
	if (memcmp(want, v, len) != 0) {
		failure("key %u version %u: bytes differ from the value written", key, ver);
		return -1;
	}
	return 0;
}

static void keyname(char *k, size_t cap, uint32_t key, size_t *klen)
{
	*klen = (size_t)snprintf(k, cap, "stress-key-%u", key);
}

struct read_ctx {
	uint32_t key;
	int calls;
};

static void read_cb(const void *val, size_t vlen, void *arg)
{
	struct read_ctx *r = arg;
	r->calls++;
	if (check_value(r->key, val, vlen) != 0)
		atomic_fetch_add(&S.bad, 1);
}

enum { BATCH_KEYS = 8 };

struct batch_ctx {
	uint32_t key[BATCH_KEYS];
	int calls[BATCH_KEYS];
	int hits;
};

static void batch_cb(size_t i, int rc, const void *val, size_t vlen, void *arg)
{
	struct batch_ctx *b = arg;
	if (i >= BATCH_KEYS) {
		failure("hc_read_batch: callback for index %zu of %d", i, BATCH_KEYS);
		atomic_fetch_add(&S.errors, 1);
		return;
	}
	b->calls[i]++;
	if (rc == HC_ENOTFOUND)
		return;
	if (rc != 0) {
		failure("hc_read_batch key %u: %s", b->key[i], hc_strerror(rc));
		atomic_fetch_add(&S.errors, 1);
		return;
	}
	b->hits++;
	if (check_value(b->key[i], val, vlen) != 0)
		atomic_fetch_add(&S.bad, 1);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void do_put(uint32_t key, const char *k, size_t kl, unsigned char *v)
{
	/* A version is handed out before its value can be stored, so a reader that loads
	 * next_ver after reading a value always finds it ahead of that value's version. */
	uint32_t ver = atomic_fetch_add_explicit(&S.next_ver[key], 1, memory_order_acq_rel);
	size_t len = value_len(key, ver);
	make_value(v, key, ver, len);
	int rc = hc_put(S.c, k, kl, v, len);
	if (rc == HC_EBUSY) {
		atomic_fetch_add(&S.busy, 1); /* reclamation behind: documented, not stored */
	} else if (rc != 0) {
		failure("hc_put key %u: %s", key, hc_strerror(rc));
		atomic_fetch_add(&S.errors, 1);
	}
	atomic_fetch_add(&S.puts, 1);
}

static void do_get(uint32_t key, const char *k, size_t kl, unsigned char *buf, int small)
{
	size_t cap = small ? SMALL_CAP : VMAX;
	size_t n = (size_t)-1;
	if (small)
		memset(buf, 0xA5, SMALL_CAP);
	int rc = hc_get(S.c, k, kl, buf, cap, &n);
	atomic_fetch_add(&S.gets, 1);
	if (rc == HC_ENOTFOUND)
		return;
	if (rc == HC_ERANGE) {
		atomic_fetch_add(&S.eranges, 1);
		int untouched = 1;
		for (size_t i = 0; i < SMALL_CAP; i++)
			untouched &= buf[i] == 0xA5;
		if (!small || n <= cap || n > VMAX || !untouched) {
			failure("key %u: HC_ERANGE with cap %zu, vlen %zu, buffer %s", key, cap, n,
			        untouched ? "untouched" : "written");
			atomic_fetch_add(&S.bad, 1);
		}
		return;
	}
	if (rc != 0) {
		failure("hc_get key %u: %s", key, hc_strerror(rc));
		atomic_fetch_add(&S.errors, 1);
		return;
	}
	atomic_fetch_add(&S.hits, 1);
	if (n > cap || check_value(key, buf, n) != 0)
		atomic_fetch_add(&S.bad, 1);
}

static uint32_t pick_key(uint64_t r)
{
	/* A skewed key choice: a quarter of the ops on 1/20 of the keys. */
	uint32_t key = (uint32_t)((r >> 8) % KEYS);
	if ((r & 3) == 0)
		key %= KEYS / 20;
	return key;
}

/* BATCH_KEYS keys at once: each gets exactly one callback, a hit checked as hc_read's. */
static void do_batch(uint64_t *rng)
{
	struct batch_ctx b = {.hits = 0};
	char names[BATCH_KEYS][32];
	const void *keys[BATCH_KEYS];
	size_t klens[BATCH_KEYS];
	for (int i = 0; i < BATCH_KEYS; i++) {
		b.key[i] = pick_key(xorshift(rng));
		keyname(names[i], sizeof(names[i]), b.key[i], &klens[i]);
		keys[i] = names[i];
	}
	int e = hc_read_batch(S.c, BATCH_KEYS, keys, klens, batch_cb, &b);
	atomic_fetch_add(&S.reads, 1);
	if (e != 0) {
		failure("hc_read_batch: %s", hc_strerror(e));
		atomic_fetch_add(&S.errors, 1);
	}
	for (int i = 0; i < BATCH_KEYS; i++)
		if (b.calls[i] != 1) {
			failure("hc_read_batch key %u: %d callbacks", b.key[i], b.calls[i]);
			atomic_fetch_add(&S.errors, 1);
		}
	atomic_fetch_add(&S.hits, b.hits);
}

static void *worker(void *arg)
{
	uint64_t rng = 0x9e3779b97f4a7c15ull * ((uintptr_t)arg + 1);
	unsigned char *v = malloc(VMAX), *buf = malloc(VMAX);
	assert_non_null(v);
	assert_non_null(buf);
	char k[32];
	size_t kl;
	while (!atomic_load_explicit(&S.stop, memory_order_relaxed)) {
		uint64_t r = xorshift(&rng);
		uint32_t key = pick_key(r);
		keyname(k, sizeof(k), key, &kl);
		unsigned op = (unsigned)((r >> 40) % 100);
		if (op < 35) {
			do_put(key, k, kl, v);
		} else if (op < 65) {
			do_get(key, k, kl, buf, 0);
		} else if (op < 75) {
			do_get(key, k, kl, buf, 1);
		} else if (op < 80) {
			do_batch(&rng);
		} else if (op < 95) {
			struct read_ctx rc = {.key = key};
			int e = hc_read(S.c, k, kl, read_cb, &rc);
			atomic_fetch_add(&S.reads, 1);
			if ((e == 0 && rc.calls != 1) || (e == HC_ENOTFOUND && rc.calls != 0) ||
			    (e != 0 && e != HC_ENOTFOUND)) {
				failure("hc_read key %u: rc %d, %d callbacks", key, e, rc.calls);
				atomic_fetch_add(&S.errors, 1);
			}
			if (e == 0)
				atomic_fetch_add(&S.hits, 1);
		} else {
			int e = hc_delete(S.c, k, kl);
			atomic_fetch_add(&S.deletes, 1);
			if (e != 0) {
				failure("hc_delete key %u: %s", key, hc_strerror(e));
				atomic_fetch_add(&S.errors, 1);
			}
		}
	}
	free(v);
	free(buf);
	return NULL;
}

struct sampler {
	uint64_t max_accounted, samples, over, limit, slack;
};

static void *sampler(void *arg)
{
	struct sampler *sm = arg;
	while (!atomic_load_explicit(&S.stop, memory_order_relaxed)) {
		struct hc_stats st;
		if (hc_stats(S.c, &st) != 0) {
			failure("hc_stats failed");
			atomic_fetch_add(&S.errors, 1);
			break;
		}
		sm->samples++;
		sm->limit = st.memory_limit;
		sm->slack = st.slack_bytes;
		if (st.accounted_bytes > sm->max_accounted)
			sm->max_accounted = st.accounted_bytes;
		if (st.accounted_bytes > st.memory_limit + st.slack_bytes) {
			if (sm->over++ == 0)
				failure("accounted %llu > limit %llu + slack %llu",
				        (unsigned long long)st.accounted_bytes,
				        (unsigned long long)st.memory_limit,
				        (unsigned long long)st.slack_bytes);
		}
		usleep(1000);
	}
	return NULL;
}


static void concurrent_ops_under_eviction_serve_exact_values_within_the_limit(void **state)
{
	(void)state;
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = LIMIT;
	cfg.max_entry = 16 << 10;
	assert_int_equal(hc_open(&cfg, &S.c), 0);
	for (uint32_t i = 0; i < KEYS; i++)
		atomic_init(&S.next_ver[i], 0);

	pthread_t th[THREADS], samp;
	struct sampler sm = {0};
	assert_int_equal(pthread_create(&samp, NULL, sampler, &sm), 0);
	for (uintptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker, (void *)i), 0);
	double secs = stress_seconds(2.0);
	struct timespec run = {(time_t)secs, (long)((secs - (double)(time_t)secs) * 1e9)};
	nanosleep(&run, NULL);
	atomic_store(&S.stop, 1);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	pthread_join(samp, NULL);

	struct hc_stats st;
	assert_int_equal(hc_stats(S.c, &st), 0);
	print_message("stress_cache: %.1fs, %u shards: %ld puts (%ld refused busy), %ld gets "
	              "(%ld ERANGE), %ld reads, %ld deletes, %ld hits; %llu evictions, %llu "
	              "entries; accounted max %llu of limit %llu + slack %llu over %llu samples\n",
	              secs, st.shards, atomic_load(&S.puts), atomic_load(&S.busy),
	              atomic_load(&S.gets), atomic_load(&S.eranges), atomic_load(&S.reads),
	              atomic_load(&S.deletes), atomic_load(&S.hits),
	              (unsigned long long)st.evictions, (unsigned long long)st.entries,
	              (unsigned long long)sm.max_accounted, (unsigned long long)sm.limit,
	              (unsigned long long)sm.slack, (unsigned long long)sm.samples);
	if (S.first_set)
		print_message("first failure: %s\n", S.first);
	assert_int_equal(atomic_load(&S.bad), 0);
	assert_int_equal(atomic_load(&S.errors), 0);
	assert_int_equal(sm.over, 0);
	assert_true(sm.samples > 0);
	assert_true(sm.max_accounted <= sm.limit + sm.slack);
	/* The run did what it is for: evictions, hits, ERANGE checked. */
	assert_true(st.evictions > 1000);
	assert_true(atomic_load(&S.hits) > 1000);
	assert_true(atomic_load(&S.eranges) > 0);
	assert_true(st.accounted_bytes <= st.memory_limit + st.slack_bytes);
	hc_close(S.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(concurrent_ops_under_eviction_serve_exact_values_within_the_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
