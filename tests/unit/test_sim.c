/*
 * The hit-ratio benchmark's reference policies (bench/sim_*.c) on tiny traces whose
 * hit counts were worked out by hand; each case names the behaviour it pins down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bench/sim.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t opt(const uint64_t *k, size_t n, size_t cap)
{
	uint32_t *next = malloc(n * sizeof *next);
	uint64_t h;
	assert_non_null(next);
	sim_opt_next(k, n, next);
	h = sim_opt(k, next, n, cap);
	free(next);
	return h;
}

/* 0 1 2 3 0 1 2 3 ...: five laps of a loop one longer than the cache. */
static void loop4(uint64_t *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		k[i] = i % 4;
}

static void test_lru_loop_one_longer_than_cache_never_hits(void **state)
{
	uint64_t k[20];
	(void)state;
	loop4(k, N(k));
	assert_int_equal(sim_lru(k, N(k), 3), 0);
}

static void test_lru_evicts_least_recently_used(void **state)
{
	/* 1m 2m 3m 1h 4m(evicts 2) 1h 2m(evicts 3) */
	static const uint64_t k[] = { 1, 2, 3, 1, 4, 1, 2 };
	(void)state;
	assert_int_equal(sim_lru(k, N(k), 3), 2);
	/* A B A C(evicts B) B(evicts A) A */
	static const uint64_t k2[] = { 10, 11, 10, 12, 11, 10 };
	assert_int_equal(sim_lru(k2, N(k2), 2), 1);
}

static void test_lru_capacity_one(void **state)
{
	static const uint64_t k[] = { 5, 5, 6, 6, 5 };
	(void)state;
	assert_int_equal(sim_lru(k, N(k), 1), 2);
}

static void test_clock_second_chance_differs_from_lru(void **state)
{
	/* A B B(ref) A(ref) C: hand clears A and B, evicts A; A: evicts B. LRU keeps A. */
	static const uint64_t k[] = { 1, 2, 2, 1, 3, 1 };
	(void)state;
	assert_int_equal(sim_clock(k, N(k), 2), 2);
	assert_int_equal(sim_lru(k, N(k), 2), 3);
}

static void test_clock_loop_one_longer_than_cache_never_hits(void **state)
{
	uint64_t k[20];
	(void)state;
	loop4(k, N(k));
	assert_int_equal(sim_clock(k, N(k), 3), 0);
}

static void test_s3fifo_scan_cannot_flush_keys_hit_twice(void **state)
{
	/* cap 10 (small 1, main 9): 1..5 hit once each in small; a scan of 20 one-time keys
	 * promotes them to main and cycles through small; 1..5 then hit again. LRU loses
	 * them to the scan. */
	uint64_t k[35];
	size_t n = 0;
	(void)state;
	for (uint64_t i = 1; i <= 5; i++) {
		k[n++] = i;
		k[n++] = i;
	}
	for (uint64_t i = 100; i < 120; i++)
		k[n++] = i;
	for (uint64_t i = 1; i <= 5; i++)
		k[n++] = i;
	assert_int_equal(n, N(k));
	assert_int_equal(sim_s3fifo(k, n, 10), 10);
	assert_int_equal(sim_lru(k, n, 10), 5);
}

static void test_s3fifo_ghost_hit_goes_to_main(void **state)
{
	/* 0..9 fill; 10 evicts 0 into the ghost; 0 comes back into main, is hit, survives
	 * 20 one-time keys and is hit again. */
	uint64_t k[34];
	size_t n = 0;
	(void)state;
	for (uint64_t i = 0; i <= 10; i++)
		k[n++] = i;
	k[n++] = 0;
	k[n++] = 0;
	for (uint64_t i = 20; i < 39; i++)
		k[n++] = i;
	k[n++] = 0;
	k[n++] = 0;
	assert_int_equal(n, N(k));
	assert_int_equal(sim_s3fifo(k, n, 10), 3);
	assert_int_equal(sim_lru(k, n, 10), 2);
}

static void test_arc_keeps_a_key_seen_twice_across_one_time_keys(void **state)
{
	/* cap 2: 1 miss (T1); 1 hit (T2); 2 miss (T1); 3 miss: |T1| = 1 > p = 0, so 2 goes
	 * to B1 and 1 stays in T2; 1 hits. LRU evicted 1 for 3. */
	static const uint64_t k[] = { 1, 1, 2, 3, 1 };
	(void)state;
	assert_int_equal(sim_arc(k, N(k), 2), 2);
	assert_int_equal(sim_lru(k, N(k), 2), 1);
}

static void test_arc_ghost_hit_in_b1_raises_t1_target(void **state)
{
	/* cap 2: 1 1 2 3 as above (T1 [3], T2 [1], B1 [2], p 0). 2 hits B1: p = 0 +
	 * max(|B2| / |B1|, 1) = 1; REPLACE: |T1| = 1 is not > p, so T2's 1 goes to B2; 2
	 * enters T2. 4 (new, |T1| + |B1| = 1 < 2, 3 listed): REPLACE again evicts from T2
	 * (2), keeping 3 in T1; 3 hits. With p stuck at 0 the two REPLACEs take 3 and 1
	 * from T1 and T2 and 3 misses. */
	static const uint64_t k[] = { 1, 1, 2, 3, 2, 4, 3 };
	(void)state;
	assert_int_equal(sim_arc(k, N(k), 2), 2);
}

static void test_wtinylfu_loop_one_longer_than_cache_keeps_main(void **state)
{
	/* cap 4: window 1, main 3 (protected 2). Lap 1: 0, 1, 2 pass the window into
	 * probation (main not full); 3 is the window's overflow when 4 arrives, estimate 1
	 * against probation's oldest 0 (estimate 1): not above, dropped. Lap 2: 0, 1, 2 hit (3 hits; protected takes them, 0 demoted back to
	 * probation); 3 and 4 miss, each pushing the other out of the window as the loser
	 * against 0 (estimates 1 or 2 against 2). Laps 3 and 4 the same: 3 hits each, 9 in
	 * all. Admitting on a tie (>=) churns main and loses hits; LRU gets none. */
	uint64_t k[25];
	(void)state;
	for (size_t i = 0; i < 20; i++)
		k[i] = i % 5;
	assert_int_equal(sim_wtinylfu(k, 20, 4), 9);
	assert_int_equal(sim_lru(k, 20, 4), 0);
	/* A fifth lap: 3 more. */
	for (size_t i = 20; i < 25; i++)
		k[i] = i % 5;
	assert_int_equal(sim_wtinylfu(k, 25, 4), 12);
}

static void test_opt_textbook_reference_string(void **state)
{
	/* Silberschatz's string, 3 frames: demand-paging OPT takes 9 faults (11 hits); with
	 * bypass, 4 (never used again) is not admitted, so 3 stays for its hits at 9 and
	 * 11 and is dropped for 1 at 13: 8 misses, 12 hits. */
	static const uint64_t k[] = { 7, 0, 1, 2, 0, 3, 0, 4, 2, 3,
	                              0, 3, 2, 1, 2, 0, 1, 7, 0, 1 };
	(void)state;
	assert_int_equal(opt(k, N(k), 3), 12);
	assert_true(opt(k, N(k), 3) >= sim_lru(k, N(k), 3));
}

static void test_opt_loop_keeps_cap_keys_and_bypasses_the_rest(void **state)
{
	/* laps 2..5 each hit 0, 1, 2: 12 hits, the most any policy can get. */
	uint64_t k[20];
	(void)state;
	loop4(k, N(k));
	assert_int_equal(opt(k, N(k), 3), 12);
}

static void test_table_delete_keeps_colliding_keys_reachable(void **state)
{
	struct sim_table t;
	(void)state;
	sim_table_init(&t, 64);
	for (uint64_t i = 0; i < 64; i++)
		sim_table_put(&t, i * 1024, (uint32_t)i);
	for (uint64_t i = 0; i < 64; i += 2)
		assert_true(sim_table_del(&t, i * 1024));
	for (uint64_t i = 0; i < 64; i++) {
		uint32_t *v = sim_table_find(&t, i * 1024);
		if (i % 2) {
			assert_non_null(v);
			assert_int_equal(*v, i);
		} else {
			assert_null(v);
		}
	}
	assert_false(sim_table_del(&t, 0));
	sim_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lru_loop_one_longer_than_cache_never_hits),
		cmocka_unit_test(test_lru_evicts_least_recently_used),
		cmocka_unit_test(test_lru_capacity_one),
		cmocka_unit_test(test_clock_second_chance_differs_from_lru),
		cmocka_unit_test(test_clock_loop_one_longer_than_cache_never_hits),
		cmocka_unit_test(test_s3fifo_scan_cannot_flush_keys_hit_twice),
		cmocka_unit_test(test_s3fifo_ghost_hit_goes_to_main),
		cmocka_unit_test(test_arc_keeps_a_key_seen_twice_across_one_time_keys),
		cmocka_unit_test(test_arc_ghost_hit_in_b1_raises_t1_target),
		cmocka_unit_test(test_wtinylfu_loop_one_longer_than_cache_keeps_main),
		cmocka_unit_test(test_opt_textbook_reference_string),
		cmocka_unit_test(test_opt_loop_keeps_cap_keys_and_bypasses_the_rest),
		cmocka_unit_test(test_table_delete_keeps_colliding_keys_reachable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
