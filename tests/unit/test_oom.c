/*
 * Allocation failure on every public operation (issue 7): fail the 1st, 2nd, ...
 * allocation of the cache's memory seam until the operation completes. Each failure
 * must be HC_ENOMEM (or, where the store already made the write durable, success
 * without caching), must change nothing (entries and accounted bytes as before, the
 * old value still served), and the cache must work afterwards. Leaks are caught by
 * the ASan build's LeakSanitizer.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache/cache.h"
#include "hotcache.h"
#include "reclaim/alloc.h"
#include "tests/unit/testutil.h"
#include "tests/unit/vectors.h"

static char dir[256];

/* A cache-only cache of 8 MiB; expected_entries 0 sizes the index from the limit. */
static hc_cache *open_none_with(uint32_t shards, uint64_t expected_entries)
{
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = 8u << 20;
	cfg.shards = shards;
	cfg.max_entry = 64u << 10;
	cfg.expected_entries = expected_entries;
	hc_cache *c;
	assert_int_equal(hc_open(&cfg, &c), 0);
	return c;
}

static hc_cache *open_none(void)
{
	return open_none_with(2, 0);
}

static hc_cache *open_rocks(void)
{
	return testutil_open_rocks(dir, "none", 16u << 20);
}

static int setup(void **state)
{
	(void)state;
	return testutil_dir_make(dir, sizeof(dir), "hc-oom");
}

static int teardown(void **state)
{
	(void)state;
	return testutil_dir_remove(dir);
}

struct snap {
	uint64_t entries, accounted;
};

static struct snap snap_of(hc_cache *c)
{
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	return (struct snap){st.entries, st.accounted_bytes};
}

static void assert_value(hc_cache *c, const char *key, const char *want)
{
	char buf[64];
	size_t n;
	int rc = hc_get(c, key, strlen(key), buf, sizeof(buf), &n);
	if (want == NULL) {
		assert_int_equal(rc, HC_ENOTFOUND);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(buf, want, n);
}

typedef int op_fn(hc_cache *c, void *arg);

/* Runs op with the k-th allocation failing, k = 1, 2, ...; returns the k that let it
 * through. check(c, arg) runs after every failure. */
static long oom_loop(hc_cache *c, op_fn *op, void *arg, void (*check)(hc_cache *, void *),
                     int may_succeed_uncached)
{
	for (long k = 1; k < 200; k++) {
		struct snap before = snap_of(c);
		mem_fail_after(k);
		int rc = op(c, arg);
		mem_fail_after(0);
		if (rc == 0 && !may_succeed_uncached)
			return k;
		if (rc == 0) {
			/* Durable but perhaps not cached: done once nothing failed. */
			if (k > 8)
				return k;
			continue;
		}
		if (rc != HC_ENOMEM)
			fail_msg("allocation %ld: %s, not HC_ENOMEM: %s", k, hc_strerror(rc),
			         hc_last_error());
		struct snap after = snap_of(c);
		assert_int_equal(after.entries, before.entries);
		assert_int_equal(after.accounted, before.accounted);
		if (check != NULL)
			check(c, arg);
	}
	fail_msg("the operation never completed");
	return -1;
}

static int op_put_new(hc_cache *c, void *arg)
{
	(void)arg;
	return hc_put(c, "fresh", 5, "new-value", 9);
}

static int op_put_replace(hc_cache *c, void *arg)
{
	(void)arg;
	return hc_put(c, "old", 3, "second", 6);
}

static void check_old_first(hc_cache *c, void *arg)
{
	(void)arg;
	assert_value(c, "old", "first");
	assert_value(c, "fresh", NULL);
}

static void every_put_under_oom_is_enomem_and_changes_nothing(void **state)
{
	(void)state;
	hc_cache *c = open_none();
	assert_int_equal(hc_put(c, "old", 3, "first", 5), 0);
	oom_loop(c, op_put_new, NULL, check_old_first, 0);
	assert_value(c, "fresh", "new-value");
	assert_int_equal(hc_delete(c, "fresh", 5), 0);
	oom_loop(c, op_put_replace, NULL, check_old_first, 0);
	assert_value(c, "old", "second");
	hc_close(c);
}

struct thread_op {
	hc_cache *c;
	int rc_first, rc_later;
};

static void *first_call_of_a_thread(void *arg)
{
	struct thread_op *t = arg;
	char buf[16];
	size_t n;
	/* The thread's first call registers it: its record allocation fails. */
	mem_fail_after(1);
	t->rc_first = hc_get(t->c, "old", 3, buf, sizeof(buf), &n);
	mem_fail_after(0);
	t->rc_later = hc_get(t->c, "old", 3, buf, sizeof(buf), &n);
	return NULL;
}

static void thread_registration_under_oom_is_enomem_then_works(void **state)
{
	(void)state;
	hc_cache *c = open_none();
	assert_int_equal(hc_put(c, "old", 3, "first", 5), 0);
	struct thread_op t = {c, 0, 0};
	pthread_t th;
	pthread_create(&th, NULL, first_call_of_a_thread, &t);
	pthread_join(th, NULL);
	assert_int_equal(t.rc_first, HC_ENOMEM);
	assert_int_equal(t.rc_later, 0);
	hc_close(c);
}

static void batch_note(size_t i, int status, const void *val, size_t vlen, void *arg)
{
	int *seen = arg;
	(void)val;
	(void)vlen;
	seen[i] = status == 0 ? 1 : status;
}

static void reads_and_deletes_do_not_allocate(void **state)
{
	(void)state;
	hc_cache *c = open_none();
	assert_int_equal(hc_put(c, "old", 3, "first", 5), 0);
	/* Every allocation fails from here: hits, batches, stats and deletes still work. */
	mem_fail_after(1);
	assert_value(c, "old", "first");
	const void *keys[2] = {"old", "none"};
	size_t kl[2] = {3, 4};
	int seen[2] = {0, 0};
	assert_int_equal(hc_read_batch(c, 2, keys, kl, batch_note, seen), 0);
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], HC_ENOTFOUND);
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(hc_delete(c, "old", 3), 0);
	assert_value(c, "old", NULL);
	mem_fail_after(0);
	hc_close(c);
}

static int op_get_loads(hc_cache *c, void *arg)
{
	(void)arg;
	char buf[64];
	size_t n;
	return hc_get(c, "stored", 6, buf, sizeof(buf), &n);
}

static void miss_that_loads_under_oom_is_enomem_and_caches_nothing(void **state)
{
	(void)state;
	hc_cache *c = open_rocks();
	assert_int_equal(hc_put(c, "stored", 6, "durable", 7), 0);
	hc_close(c);
	c = open_rocks();
	oom_loop(c, op_get_loads, NULL, NULL, 0);
	assert_value(c, "stored", "durable");
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.entries, 1);
	hc_close(c);
}

static int op_put_backed(hc_cache *c, void *arg)
{
	(void)arg;
	return hc_put(c, "stored", 6, "newer", 5);
}

/* With a store the write is durable before the entry is allocated: a failed
 * allocation leaves the value stored but uncached, and the old entry is dropped. */
static void backed_put_under_oom_is_durable_and_never_stale(void **state)
{
	(void)state;
	hc_cache *c = open_rocks();
	assert_int_equal(hc_put(c, "stored", 6, "durable", 7), 0);
	for (long k = 1; k <= 4; k++) {
		mem_fail_after(k);
		int rc = hc_put(c, "stored", 6, "newer", 5);
		mem_fail_after(0);
		assert_true(rc == 0 || rc == HC_ENOMEM);
		if (rc == 0)
			assert_value(c, "stored", "newer");
		else
			assert_value(c, "stored", "durable");
		assert_int_equal(hc_put(c, "stored", 6, "durable", 7), 0);
	}
	oom_loop(c, op_put_backed, NULL, NULL, 1);
	assert_value(c, "stored", "newer");
	hc_close(c);
}

static unsigned char kel[1 << 14];
static size_t kel_len;

static int op_import(hc_cache *c, void *arg)
{
	(void)arg;
	struct hc_kel_report r = {0};
	return hc_kel_import(c, kel, kel_len, &r);
}

/* The shard's budget set to what it holds now: the next install must evict. */
static void shard_budget_to_holdings(struct shard *s)
{
	pthread_mutex_lock(&s->mu);
	s->budget = atomic_load(&s->bytes) + atomic_load(&s->ix.table_bytes) +
	            index_growth_reserve(&s->ix);
	pthread_mutex_unlock(&s->mu);
}

/*
 * The index's table is full and cannot grow (its allocation fails). A put of a new key
 * that needs no eviction fails with HC_ENOMEM and changes nothing (entries, bytes,
 * values, evictions); a replace takes its key's own slot and goes through; a put that
 * must evict to fit takes the slot its eviction freed and goes through.
 */
static void put_into_a_full_index_that_cannot_grow(void **state)
{
	(void)state;
	hc_cache *c = open_none_with(1, 1); /* the smallest table: 2 groups, 14 slots */
	struct shard *s = &c->shards[0];
	struct index_stats is;
	index_stats(&s->ix, &is);
	uint64_t slots = is.groups * INDEX_SLOTS;
	char key[16];
	size_t n;
	/* Registers this thread (an allocation of its own) before any injection. */
	assert_int_equal(hc_get(c, "none", 4, key, sizeof(key), &n), HC_ENOTFOUND);
	/* Fill every slot; the growths past the load bound fail (the 2nd allocation of a
	 * put is the table's: the 1st is the entry), so the table keeps its size. */
	for (uint64_t i = 0; i < slots; i++) {
		snprintf(key, sizeof(key), "k%02u", (unsigned)i);
		mem_fail_after(2);
		int rc = hc_put(c, key, strlen(key), "v", 1);
		mem_fail_after(0);
		assert_int_equal(rc, 0);
	}
	index_stats(&s->ix, &is);
	assert_int_equal(is.count, slots);
	assert_int_equal(is.groups * INDEX_SLOTS, slots);
	assert_true(is.grow_failures > 0);

	struct snap before = snap_of(c);
	struct hc_stats st0, st1;
	assert_int_equal(hc_stats(c, &st0), 0);
	mem_fail_after(2);
	int rc = hc_put(c, "new", 3, "v", 1);
	mem_fail_after(0);
	assert_int_equal(rc, HC_ENOMEM);
	struct snap after = snap_of(c);
	assert_int_equal(hc_stats(c, &st1), 0);
	assert_int_equal(st1.evictions, st0.evictions);
	assert_int_equal(after.entries, before.entries);
	assert_int_equal(after.accounted, before.accounted);
	for (uint64_t i = 0; i < slots; i++) {
		snprintf(key, sizeof(key), "k%02u", (unsigned)i);
		assert_value(c, key, "v");
	}
	assert_value(c, "new", NULL);

	mem_fail_after(2);
	rc = hc_put(c, "k00", 3, "w", 1);
	mem_fail_after(0);
	assert_int_equal(rc, 0);
	assert_value(c, "k00", "w");

	shard_budget_to_holdings(s);
	mem_fail_after(2);
	rc = hc_put(c, "new", 3, "v", 1);
	mem_fail_after(0);
	assert_int_equal(rc, 0);
	assert_value(c, "new", "v");
	assert_int_equal(hc_stats(c, &st1), 0);
	assert_int_equal(st1.evictions, st0.evictions + 1);
	assert_int_equal(st1.entries, slots);
	hc_close(c);
}

static void kel_import_and_keystate_under_oom(void **state)
{
	(void)state;
	kel_len = vectors_read("01_direct_mode_coe_icp_rot_ixn.cesr", kel, sizeof(kel));
	hc_cache *c = open_rocks();
	/* An import under OOM: appends are durable before the state is cached, so each
	 * either completes or fails with nothing written; in the end all three are in. */
	for (long k = 1; k < 40; k++) {
		mem_fail_after(k);
		int rc = op_import(c, NULL);
		mem_fail_after(0);
		assert_true(rc == 0 || rc == HC_ENOMEM);
	}
	assert_int_equal(op_import(c, NULL), 0);
	struct hc_keystate ks;
	const char *pre = "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL";
	assert_int_equal(hc_keystate_get(c, pre, &ks), 0);
	assert_int_equal(ks.sn, 2);
	hc_close(c);
	/* A key-state miss under OOM: HC_ENOMEM, then the state loads. */
	c = open_rocks();
	int rc;
	long k = 1;
	do {
		mem_fail_after(k++);
		rc = hc_keystate_get(c, pre, &ks);
		mem_fail_after(0);
		assert_true(rc == 0 || rc == HC_ENOMEM);
	} while (rc != 0 && k < 100);
	assert_int_equal(rc, 0);
	assert_int_equal(ks.sn, 2);
	assert_int_equal(hc_kel_verify(c, pre, NULL), 0);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_put_under_oom_is_enomem_and_changes_nothing),
		cmocka_unit_test(thread_registration_under_oom_is_enomem_then_works),
		cmocka_unit_test(reads_and_deletes_do_not_allocate),
		cmocka_unit_test(put_into_a_full_index_that_cannot_grow),
		cmocka_unit_test_setup_teardown(miss_that_loads_under_oom_is_enomem_and_caches_nothing,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(backed_put_under_oom_is_durable_and_never_stale, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(kel_import_and_keystate_under_oom, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
