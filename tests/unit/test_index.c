/*
 * map/index unit tests: what index.h promises, single threaded against a reference
 * (insert-if-absent, replace, delete, compare-and-delete, rehash, growth from two
 * groups, keys of every length); hostile keys (every key with the same fast hash)
 * keep every probe within INDEX_MAX_PROBE + 1 groups through the keyed rehash; out of
 * memory while growing or rehashing changes nothing; and one writer racing readers.
 *
 * The concurrent test: one writer (the caller's mutex is implicit: there is one)
 * replaces stable keys; inserts, replaces, deletes and compare-and-deletes churn keys
 * (checking every result against its own record); rehashes (fast and keyed) and grows
 * the index, while readers look keys up inside reclaim sections. Entries
 * are freed through reclaim/ by a poisoning free (magic DEAD, bytes 0xDE, quarantined
 * before the real free) and replaced tables by a poisoning hook (every group emptied,
 * so that a reader still probing a freed table misses); readers check that a stable
 * key is never missed, that every entry they get is live (magic) and carries the key
 * they asked for, before use and again before their section ends. Built a second
 * time against index.c with INDEX_BROKEN_NO_GRACE (replaced tables freed at once),
 * the same test must fail (test_index_broken, WILL_FAIL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "map/index.h"
#include "reclaim/alloc.h"
#include "reclaim/reclaim.h"
#include "tests/stress/quarantine.h"

#define MAGIC_LIVE 0x11fe11fe11fe11feull
#define MAGIC_DEAD 0xdeadfeeddeadfeedull
#define KEYMAX 40

/* The entry: lengths and key first (the index reads klen at 0 and the key at 8). */
struct tentry {
	uint32_t klen;
	uint32_t id;
	unsigned char key[KEYMAX];
	_Atomic uint64_t magic;
	uint64_t version;
	struct reclaim_node rn;
};

static const struct index_layout layout = { offsetof(struct tentry, klen),
	                                    offsetof(struct tentry, key) };

static struct tentry *entry_new(uint32_t id, const void *key, uint32_t klen, uint64_t version)
{
	struct tentry *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	e->klen = klen;
	e->id = id;
	memcpy(e->key, key, klen);
	e->version = version;
	atomic_store_explicit(&e->magic, MAGIC_LIVE, memory_order_relaxed);
	return e;
}

/* Key i: length 1 + i % 33 (covering the short, the 8-16 word and the memcmp paths),
 * bytes from i so that keys of different i differ. */
static uint32_t make_key(uint32_t i, unsigned char *k)
{
	uint32_t len = 1 + i % 33;
	uint64_t x = i * 0x9E3779B97F4A7C15ull + 1;
	for (uint32_t j = 0; j < len; j++) {
		k[j] = (unsigned char)(x >> (8 * (j % 8)));
		if (j % 8 == 7)
			x = x * 6364136223846793005ull + i;
	}
	if (len >= 4)
		memcpy(k, &i, 4); /* distinct whatever the mixing */
	else
		k[0] = (unsigned char)i; /* short keys: distinct among themselves by i % 33 */
	return len;
}

static void free_entry(void *e, void *arg)
{
	(*(uint64_t *)arg)++;
	free(e);
}

static struct tentry *get(const struct index *ix, const void *key, uint32_t klen)
{
	return index_get(ix, index_hash(ix, key, klen), key, klen);
}

/* ---- single thread, against a reference ------------------------------------------ */

static void operations_match_a_reference_through_growth_and_rehash(void **state)
{
	(void)state;
	enum { N = 3000, OPS = 200000 };
	struct reclaim r;
	struct index ix;
	assert_int_equal(reclaim_init(&r, 1 << 20, 0), 0);
	assert_int_equal(index_init(&ix, 0, NULL, layout, &r), 0);
	struct index_stats st;
	index_stats(&ix, &st);
	assert_int_equal(st.groups, 2);
	static struct tentry *ref[N];
	static unsigned char keys[N][KEYMAX];
	static uint32_t klens[N];
	memset(ref, 0, sizeof(ref));
	/* Short keys (i % 33 == 0: 1 byte) are distinct only below 256 * 33. */
	for (uint32_t i = 0; i < N; i++)
		klens[i] = make_key(i, keys[i]);
	uint64_t rnd = 42, live = 0, version = 0;
	for (int op = 0; op < OPS; op++) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t i = (uint32_t)(rnd >> 33) % N;
		unsigned kind = (unsigned)(rnd >> 20) % 100;
		const unsigned char *k = keys[i];
		uint32_t kl = klens[i];
		uint64_t h = index_hash(&ix, k, kl);
		if (kind < 30) { /* insert-if-absent */
			struct tentry *e = entry_new(i, k, kl, ++version);
			void *existing = NULL;
			int rc = index_insert(&ix, h, e, &existing);
			if (ref[i] != NULL) {
				assert_int_equal(rc, HC_EEXIST);
				assert_ptr_equal(existing, ref[i]);
				free(e);
			} else {
				assert_int_equal(rc, 0);
				ref[i] = e;
				live++;
			}
		} else if (kind < 50) { /* replace */
			struct tentry *e = entry_new(i, k, kl, ++version);
			void *old = (void *)1;
			assert_int_equal(index_replace(&ix, h, e, &old), 0);
			assert_ptr_equal(old, ref[i]);
			if (old != NULL)
				free(old);
			else
				live++;
			ref[i] = e;
		} else if (kind < 65) { /* delete */
			struct tentry *e = index_delete(&ix, h, k, kl);
			assert_ptr_equal(e, ref[i]);
			if (e != NULL) {
				free(e);
				ref[i] = NULL;
				live--;
			}
		} else if (kind < 70) { /* compare-and-delete: a stale entry is refused */
			struct tentry stale;
			memset(&stale, 0, sizeof(stale));
			stale.klen = kl;
			memcpy(stale.key, k, kl);
			assert_int_equal(index_delete_entry(&ix, h, &stale), 0);
			if (ref[i] != NULL) {
				assert_int_equal(index_delete_entry(&ix, h, ref[i]), 1);
				assert_int_equal(index_delete_entry(&ix, h, ref[i]), 0);
				free(ref[i]);
				ref[i] = NULL;
				live--;
			}
		} else if (kind == 70 && op % 50 == 0) {
			assert_int_equal(index_rehash(&ix, (op / 50) % 2), 0);
		} else {
			assert_ptr_equal(get(&ix, k, kl), ref[i]);
		}
		assert_int_equal(index_count(&ix), live);
		/* A key that is a prefix of a present key is another key. */
		if (kl > 1 && ref[i] != NULL)
			assert_ptr_not_equal(get(&ix, k, kl - 1), ref[i]);
		/* Every 10^4 operations, and at the end: every key agrees. */
		if (op % 10000 == 0 || op == OPS - 1) {
			for (uint32_t j = 0; j < N; j++)
				assert_ptr_equal(get(&ix, keys[j], klens[j]), ref[j]);
			reclaim_poll_now(reclaim_self(&r));
		}
	}
	index_stats(&ix, &st);
	assert_true(st.grows >= 1);
	assert_true(st.keyed == 1 || st.keyed_rehashes >= 1);
	assert_int_equal(st.flood_events, 0); /* random keys never trip the guard */
	assert_true(st.count * INDEX_LOAD_DEN <= st.groups * INDEX_SLOTS * INDEX_LOAD_NUM);
	uint64_t freed = 0;
	index_destroy(&ix, free_entry, &freed);
	assert_int_equal(freed, live);
	reclaim_destroy(&r);
}

static void growth_to_a_million_keeps_every_key_and_the_load_bound(void **state)
{
	(void)state;
	enum { N = 1000000 };
	struct reclaim r;
	struct index ix;
	assert_int_equal(reclaim_init(&r, 1 << 20, 0), 0);
	assert_int_equal(index_init(&ix, 16, NULL, layout, &r), 0);
	struct tentry *es = calloc(N, sizeof(*es));
	assert_non_null(es);
	for (uint32_t i = 0; i < N; i++) {
		es[i].klen = 8;
		uint64_t k = i * 0x9E3779B97F4A7C15ull;
		memcpy(es[i].key, &k, 8);
		assert_int_equal(index_insert(&ix, index_hash(&ix, es[i].key, 8), &es[i], NULL), 0);
	}
	unsigned worst = 0;
	uint64_t total = 0;
	for (uint32_t i = 0; i < N; i++) {
		uint64_t h = index_hash(&ix, es[i].key, 8);
		assert_ptr_equal(index_get(&ix, h, es[i].key, 8), &es[i]);
		unsigned p = index_probe_length(&ix, h, es[i].key, 8);
		total += p;
		worst = p > worst ? p : worst;
	}
	struct index_stats st;
	index_stats(&ix, &st);
	printf("# 10^6 keys: %llu groups, mean probe %.3f groups, worst %u, table %.1f B/entry\n",
	       (unsigned long long)st.groups, (double)total / N, worst,
	       (double)st.table_bytes / N);
	assert_int_equal(st.count, N);
	assert_true(st.count * INDEX_LOAD_DEN <= st.groups * INDEX_SLOTS * INDEX_LOAD_NUM);
	assert_int_equal(st.flood_events, 0);
	assert_int_equal(st.keyed, 0);
	assert_true(worst <= INDEX_MAX_PROBE);
	index_destroy(&ix, NULL, NULL);
	free(es);
	reclaim_poll_now(reclaim_self(&r));
	reclaim_destroy(&r);
}

/* ---- hostile keys ----------------------------------------------------------------- */

static void equal_hash_keys_keep_probes_bounded_through_the_keyed_rehash(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct reclaim r;
	struct index ix;
	assert_int_equal(reclaim_init(&r, 1 << 20, 0), 0);
	assert_int_equal(index_init(&ix, N, NULL, layout, &r), 0);
	ix.weak_hash = 1; /* every key hashes to 0: a full collision flood on the fast hash */
	static struct tentry *es[N];
	unsigned worst_insert = 0;
	for (uint32_t i = 0; i < N; i++) {
		unsigned char k[KEYMAX];
		uint32_t kl = 16;
		memset(k, 0, sizeof(k));
		memcpy(k, &i, 4);
		es[i] = entry_new(i, k, kl, 1);
		uint64_t h = index_hash(&ix, k, kl);
		assert_int_equal(h, 0);
		assert_int_equal(index_insert(&ix, h, es[i], NULL), 0);
		unsigned p = index_probe_length(&ix, h, k, kl);
		worst_insert = p > worst_insert ? p : worst_insert;
	}
	/* Without the guard the 20000th key would probe 20000 / 7 groups. */
	assert_true(worst_insert <= INDEX_MAX_PROBE + 1);
	struct index_stats st;
	index_stats(&ix, &st);
	/* The guard fired, once: the table is keyed and nothing more was flooded. */
	assert_int_equal(st.flood_events, 1);
	assert_int_equal(st.keyed_rehashes, 1);
	assert_int_equal(st.keyed, 1);
	unsigned worst = 0;
	for (uint32_t i = 0; i < N + 1000; i++) {
		unsigned char k[KEYMAX];
		memset(k, 0, sizeof(k));
		memcpy(k, &i, 4);
		assert_ptr_equal(index_get(&ix, 0, k, 16), i < N ? es[i] : NULL);
		unsigned p = index_probe_length(&ix, 0, k, 16);
		worst = p > worst ? p : worst;
	}
	printf("# %d equal-hash keys: worst probe %u groups right after each insert, %u for "
	       "every hit and miss at the end\n", N, worst_insert, worst);
	assert_true(worst <= INDEX_MAX_PROBE + 1);
	uint64_t freed = 0;
	index_destroy(&ix, free_entry, &freed);
	assert_int_equal(freed, N);
	reclaim_poll_now(reclaim_self(&r));
	reclaim_destroy(&r);
}

/* ---- out of memory ------------------------------------------------------------------ */

static void out_of_memory_while_growing_changes_nothing_then_grows(void **state)
{
	(void)state;
	struct reclaim r;
	struct index ix;
	assert_int_equal(reclaim_init(&r, 1 << 20, 0), 0);
	assert_int_equal(index_init(&ix, 0, NULL, layout, &r), 0);
	(void)reclaim_self(&r); /* registered: only the index's own allocations fail */
	enum { CAP = 2 * INDEX_SLOTS };
	struct tentry *es[CAP + 2];
	unsigned char k[8];
	mem_fail_after(1);
	for (uint32_t i = 0; i < CAP + 1; i++) {
		memcpy(k, &i, 4);
		memset(k + 4, 0, 4);
		es[i] = entry_new(i, k, 8, 1);
		int rc = index_insert(&ix, index_hash(&ix, k, 8), es[i], NULL);
		if (i < CAP) {
			assert_int_equal(rc, 0); /* past the load bound, but room is left */
		} else {
			assert_int_equal(rc, HC_ENOMEM); /* full: nothing changed */
			assert_null(get(&ix, k, 8));
		}
	}
	assert_int_equal(index_count(&ix), CAP);
	assert_int_equal(index_rehash(&ix, 1), HC_ENOMEM);
	struct index_stats st;
	index_stats(&ix, &st);
	assert_int_equal(st.groups, 2);
	assert_true(st.grow_failures >= 1);
	assert_int_equal(st.keyed, 0);
	mem_fail_after(0);
	assert_int_equal(index_insert(&ix, index_hash(&ix, k, 8), es[CAP], NULL), 0);
	index_stats(&ix, &st);
	assert_true(st.groups > 2);
	for (uint32_t i = 0; i <= CAP; i++) {
		memcpy(k, &i, 4);
		assert_ptr_equal(get(&ix, k, 8), es[i]);
	}
	uint64_t freed = 0;
	index_destroy(&ix, free_entry, &freed);
	assert_int_equal(freed, CAP + 1);
	reclaim_poll_now(reclaim_self(&r));
	reclaim_destroy(&r);
}

static void growth_reserve_names_the_doubled_table_at_the_bound(void **state)
{
	(void)state;
	struct reclaim r;
	struct index ix;
	assert_int_equal(reclaim_init(&r, 1 << 20, 0), 0);
	assert_int_equal(index_init(&ix, 0, NULL, layout, &r), 0);
	enum { LIMIT = 2 * INDEX_SLOTS * INDEX_LOAD_NUM / INDEX_LOAD_DEN }; /* 2 groups */
	static struct tentry es[LIMIT + 1];
	struct index_stats st;
	for (uint32_t i = 0; i <= LIMIT; i++) {
		index_stats(&ix, &st);
		uint64_t reserve = index_growth_reserve(&ix);
		if (i < LIMIT) {
			assert_int_equal(reserve, 0);
		} else {
			/* At the bound: the next insert doubles the table, and charges this. */
			assert_int_equal(st.groups, 2);
			assert_true(reserve > 4 * sizeof(struct index_group));
		}
		es[i].klen = 8;
		memcpy(es[i].key, &i, 4);
		/* Prefetching, both stages, changes nothing. */
		uint64_t h = index_hash(&ix, es[i].key, 8);
		index_prefetch(&ix, h, es[i].key, 8, 0, 0, 0);
		index_prefetch(&ix, h, es[i].key, 8, 1, 0, 0);
		assert_int_equal(index_insert(&ix, h, &es[i], NULL), 0);
		if (i == LIMIT) {
			index_stats(&ix, &st);
			assert_int_equal(st.groups, 4);
			assert_int_equal(st.table_bytes, reserve);
			assert_int_equal(index_growth_reserve(&ix), 0);
		}
	}
	index_destroy(&ix, NULL, NULL);
	reclaim_poll_now(reclaim_self(&r));
	reclaim_destroy(&r);
}

static void bad_layout_is_einval(void **state)
{
	(void)state;
	struct reclaim r;
	struct index ix;
	assert_int_equal(reclaim_init(&r, 1 << 20, 0), 0);
	struct index_layout bad = { 2, 8 };
	assert_int_equal(index_init(&ix, 0, NULL, bad, &r), HC_EINVAL);
	assert_int_equal(index_init(&ix, 0, NULL, layout, NULL), HC_EINVAL);
	reclaim_destroy(&r);
}

/* ---- one writer, concurrent readers ------------------------------------------------ */

enum { NSTABLE = 512, NCHURN = 1536, NKEYS = NSTABLE + NCHURN, NREADERS = 2 };

struct crun {
	struct index ix;
	struct reclaim r;
	unsigned char keys[NKEYS][KEYMAX];
	uint32_t klens[NKEYS];
	struct tentry *stable[NSTABLE]; /* the prefilled entries, for the writer */
	_Atomic int stop;
	_Atomic uint64_t failures, reads, hits;
	char what[160];
	pthread_mutex_t what_mu;
};

static struct crun *cr;

static void note_failure(const char *msg, uint32_t key)
{
	if (atomic_fetch_add(&cr->failures, 1) == 0) {
		pthread_mutex_lock(&cr->what_mu);
		snprintf(cr->what, sizeof(cr->what), "%s (key %u)", msg, key);
		pthread_mutex_unlock(&cr->what_mu);
	}
}

static void poison_entry(struct reclaim_node *rn)
{
	struct tentry *e = (struct tentry *)((char *)rn - offsetof(struct tentry, rn));
	atomic_store_explicit(&e->magic, MAGIC_DEAD, memory_order_relaxed);
	memset(e, 0xde, offsetof(struct tentry, magic));
	quarantine_put(e);
}

/* Replaced tables: emptied (a reader still probing one would miss every key), held
 * back for TABLE_Q more frees, then freed. */
enum { TABLE_Q = 64 };
static struct index_table *table_q[TABLE_Q];
static size_t table_qi;
static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;

static void poison_table(struct index_table *t)
{
	for (uint64_t g = 0; g <= t->mask; g++) {
		atomic_store_explicit(&t->g[g].ctrl, 0, memory_order_relaxed);
		for (int s = 0; s < INDEX_SLOTS; s++)
			atomic_store_explicit(&t->g[g].slot[s], NULL, memory_order_relaxed);
	}
	pthread_mutex_lock(&table_mu);
	struct index_table *old = table_q[table_qi];
	table_q[table_qi] = t;
	table_qi = (table_qi + 1) % TABLE_Q;
	pthread_mutex_unlock(&table_mu);
	if (old != NULL)
		index_table_release(old);
}

static void table_q_flush(void)
{
	for (size_t i = 0; i < TABLE_Q; i++) {
		if (table_q[i] != NULL)
			index_table_release(table_q[i]);
		table_q[i] = NULL;
	}
}

/* Checks an entry a lookup returned for key i. */
static void check_entry(const struct tentry *e, uint32_t i)
{
	if (atomic_load_explicit(&e->magic, memory_order_relaxed) != MAGIC_LIVE)
		note_failure("a reader saw a freed entry", i);
	else if (e->id != i || e->klen != cr->klens[i] || memcmp(e->key, cr->keys[i], e->klen) != 0)
		note_failure("a reader got another key's entry", i);
}

static void *reader_main(void *arg)
{
	uint64_t s = (uintptr_t)arg * 0x9E3779B97F4A7C15ull + 7, reads = 0, hits = 0;
	while (!atomic_load_explicit(&cr->stop, memory_order_relaxed)) {
		struct reclaim_thread *t = reclaim_enter(&cr->r);
		if (t == NULL) {
			note_failure("reclaim_enter: out of memory", 0);
			break;
		}
		for (int k = 0; k < 64; k++) {
			s = s * 6364136223846793005ull + 1442695040888963407ull;
			uint32_t i = (uint32_t)(s >> 33) % NKEYS;
			const struct tentry *e = get(&cr->ix, cr->keys[i], cr->klens[i]);
			reads++;
			if (e == NULL) {
				if (i < NSTABLE)
					note_failure("a stable key was missed", i);
				continue;
			}
			hits++;
			check_entry(e, i);
			if ((k & 15) == 0)
				check_entry(e, i); /* still live later in the section */
		}
		reclaim_exit(t);
	}
	atomic_fetch_add(&cr->reads, reads);
	atomic_fetch_add(&cr->hits, hits);
	return NULL;
}

static void retire(struct reclaim_thread *t, struct tentry *e)
{
	reclaim_retire(t, &e->rn, sizeof(*e), poison_entry);
}

static void writer_run(double seconds)
{
	struct index *ix = &cr->ix;
	struct reclaim_thread *t = reclaim_self(&cr->r);
	assert_non_null(t);
	static int present[NKEYS];
	static struct tentry *cur[NKEYS];
	memset(present, 0, sizeof(present));
	memset(cur, 0, sizeof(cur));
	for (uint32_t i = 0; i < NSTABLE; i++) {
		cur[i] = cr->stable[i];
		present[i] = 1;
	}
	uint64_t version = 0, s = 99, ops = 0, rehashes = 0;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		s = s * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t i = (uint32_t)(s >> 33) % NKEYS;
		const unsigned char *k = cr->keys[i];
		uint32_t kl = cr->klens[i];
		uint64_t h = index_hash(ix, k, kl);
		void *old = NULL;
		if (i >= NSTABLE && !present[i] && ((s >> 21) & 1)) { /* insert-if-absent */
			struct tentry *e = entry_new(i, k, kl, ++version);
			assert_int_equal(index_insert(ix, h, e, NULL), 0);
			cur[i] = e;
			present[i] = 1;
		} else if (i < NSTABLE || ((s >> 20) & 1)) { /* replace (insert when absent) */
			struct tentry *e = entry_new(i, k, kl, ++version);
			assert_int_equal(index_replace(ix, h, e, &old), 0);
			assert_ptr_equal(old, cur[i]);
			if (old != NULL)
				retire(t, old);
			cur[i] = e;
			present[i] = 1;
		} else if ((s >> 22) & 1) { /* delete a churn key */
			old = index_delete(ix, h, k, kl);
			assert_ptr_equal(old, cur[i]);
			if (old != NULL)
				retire(t, old);
			cur[i] = NULL;
			present[i] = 0;
		} else if (present[i]) { /* compare-and-delete, as eviction does */
			assert_int_equal(index_delete_entry(ix, h, cur[i]), 1);
			retire(t, cur[i]);
			cur[i] = NULL;
			present[i] = 0;
		}
		if (++ops % 997 == 0) {
			assert_int_equal(index_rehash(ix, (ops / 997) % 4 == 0), 0);
			rehashes++;
		}
		if (ops % 64 == 0) {
			reclaim_poll(t);
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 > seconds)
				break;
		}
	}
	printf("# writer: %llu operations, %llu rehashes\n", (unsigned long long)ops,
	       (unsigned long long)rehashes);
}

static void readers_racing_one_writer_never_see_a_freed_or_wrong_entry(void **state)
{
	(void)state;
	cr = calloc(1, sizeof(*cr));
	assert_non_null(cr);
	pthread_mutex_init(&cr->what_mu, NULL);
	index_table_free_hook = poison_table;
	assert_int_equal(reclaim_init(&cr->r, 1 << 20, 0), 0);
	/* Small at first: the writer's inserts grow it while readers run. */
	assert_int_equal(index_init(&cr->ix, 0, NULL, layout, &cr->r), 0);
	for (uint32_t i = 0; i < NKEYS; i++)
		cr->klens[i] = make_key(i, cr->keys[i]);
	/* Stable keys present before the readers start; they stay present throughout. */
	for (uint32_t i = 0; i < NSTABLE; i++) {
		struct tentry *e = entry_new(i, cr->keys[i], cr->klens[i], 0);
		assert_int_equal(index_insert(&cr->ix, index_hash(&cr->ix, e->key, e->klen), e, NULL), 0);
		cr->stable[i] = e;
	}
	pthread_t th[NREADERS];
	for (uintptr_t i = 0; i < NREADERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader_main, (void *)(i + 1)), 0);
	const char *secs = getenv("HC_STRESS_SECONDS");
	writer_run(secs != NULL && atof(secs) > 0 ? atof(secs) : 2.0);
	atomic_store(&cr->stop, 1);
	for (int i = 0; i < NREADERS; i++)
		pthread_join(th[i], NULL);
	printf("# readers: %llu lookups, %llu hits\n", (unsigned long long)cr->reads,
	       (unsigned long long)cr->hits);
	if (cr->failures != 0)
		fail_msg("%llu failures; first: %s", (unsigned long long)cr->failures, cr->what);
	struct reclaim_thread *t = reclaim_self(&cr->r);
	uint64_t n = 0;
	index_destroy(&cr->ix, free_entry, &n);
	assert_int_equal(n, index_count(&cr->ix));
	assert_int_equal(reclaim_drain(t, 5000000000ull), 0);
	reclaim_destroy(&cr->r);
	quarantine_flush();
	table_q_flush();
	index_table_free_hook = NULL;
	free(cr);
}

/* Argument "race": the concurrent test only (what test_index_broken runs). */
int main(int argc, char **argv)
{
	const struct CMUnitTest race[] = {
		cmocka_unit_test(readers_racing_one_writer_never_see_a_freed_or_wrong_entry),
	};
	if (argc > 1 && strcmp(argv[1], "race") == 0)
		return cmocka_run_group_tests(race, NULL, NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(operations_match_a_reference_through_growth_and_rehash),
		cmocka_unit_test(growth_to_a_million_keeps_every_key_and_the_load_bound),
		cmocka_unit_test(equal_hash_keys_keep_probes_bounded_through_the_keyed_rehash),
		cmocka_unit_test(out_of_memory_while_growing_changes_nothing_then_grows),
		cmocka_unit_test(growth_reserve_names_the_doubled_table_at_the_bound),
		cmocka_unit_test(bad_layout_is_einval),
		cmocka_unit_test(readers_racing_one_writer_never_see_a_freed_or_wrong_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
