/*
 * The shard policy seen through the public API, one thread, one shard, equal-sized
 * values: scan resistance (a stream of one-time keys ten times the cache's capacity
 * does not flush keys hit twice, nor keys never hit: admission is by frequency), bounded
 * work when every entry is hot (new keys still get in and something is evicted for
 * each), loops longer than the cache (a part stays resident), zigzags over twice the
 * cache (as many hits as LRU whatever the phase of the sketch's halving) and SMALL's
 * sizing (it grows for moving hot sets and stays grown between their moves, or drifts
 * back when its confirmations are sporadic in a large cache, shrinks for
 * loops, holds near its floor when nothing changes), and a replace taking the old
 * value's room (no eviction for a value of the same size).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/sim.h"
#include "bench/trace.h"
#include "hotcache.h"

enum { VLEN = 512 };

/* A cache of one shard; expected sets cache.expected_entries (0: the default). */
static hc_cache *open_cache_expecting(uint64_t limit, uint64_t expected)
{
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = limit;
	cfg.expected_entries = expected;
	cfg.shards = 1;
	cfg.max_entry = 16 << 10;
	hc_cache *c = NULL;
	int rc = hc_open(&cfg, &c);
	if (rc != 0)
		fail_msg("hc_open: %s: %s", hc_strerror(rc), hc_last_error());
	return c;
}

static hc_cache *open_cache(uint64_t limit)
{
	return open_cache_expecting(limit, 0);
}

static struct hc_stats stats_of(hc_cache *c)
{
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	return st;
}

static size_t key_of(char *k, size_t cap, const char *prefix, int i)
{
	return (size_t)snprintf(k, cap, "%s-%d", prefix, i);
}

/* How many VLEN-byte entries the cache holds: fill with one-time keys until entries
 * stop growing (a throwaway cache of the same configuration). */
static uint64_t capacity(uint64_t limit)
{
	hc_cache *c = open_cache(limit);
	char k[32], v[VLEN] = {0};
	uint64_t most = 0;
	for (int i = 0; i < 1000000; i++) {
		assert_int_equal(hc_put(c, k, key_of(k, sizeof(k), "cap", i), v, sizeof(v)), 0);
		struct hc_stats st = stats_of(c);
		if (st.evictions > 0 && st.entries > most)
			most = st.entries;
		if (st.evictions > 2 * most && most > 0)
			break;
	}
	hc_close(c);
	assert_true(most > 100);
	return most;
}

static int hits(hc_cache *c, const char *prefix, int n)
{
	char k[32], buf[VLEN];
	size_t len;
	int got = 0;
	for (int i = 0; i < n; i++) {
		int rc = hc_get(c, k, key_of(k, sizeof(k), prefix, i), buf, sizeof(buf), &len);
		assert_true(rc == 0 || rc == HC_ENOTFOUND);
		got += rc == 0;
	}
	return got;
}

/*
 * A hot set (80% of the capacity) is put and each key hit twice; then one-time keys,
 * ten times the capacity, are streamed through. At least 90% of the hot set must still
 * be in memory (the stream cycles through the probation queue, and its keys, seen once,
 * are never admitted over the hot set's).
 */
static void one_time_stream_of_ten_capacities_keeps_the_twice_hit_set(void **state)
{
	(void)state;
	const uint64_t limit = 2u << 20;
	uint64_t cap = capacity(limit);
	int hot = (int)(cap * 8 / 10);
	hc_cache *c = open_cache(limit);
	char k[32], v[VLEN] = {0};
	for (int i = 0; i < hot; i++)
		assert_int_equal(hc_put(c, k, key_of(k, sizeof(k), "hot", i), v, sizeof(v)), 0);
	assert_int_equal(hits(c, "hot", hot), hot);
	assert_int_equal(hits(c, "hot", hot), hot);
	for (int i = 0; i < (int)(10 * cap); i++)
		assert_int_equal(hc_put(c, k, key_of(k, sizeof(k), "scan", i), v, sizeof(v)), 0);
	struct hc_stats st = stats_of(c);
	assert_true(st.evictions >= 9 * cap); /* the stream really went through */
	int kept = hits(c, "hot", hot);
	print_message("capacity %llu entries, hot set %d, kept %d after a %llu-key scan\n",
	              (unsigned long long)cap, hot, kept, (unsigned long long)(10 * cap));
	assert_true(kept * 10 >= hot * 9);
	hc_close(c);
}

/* Control for the test above: keys put but never hit are flushed by a stream of the
 * same length whose keys are each read once after their put (so "kept" above is the
 * policy's doing, not a cache too big to be flushed); and a stream of one-time keys
 * does not flush them either: admission to MAIN needs a key seen more often than the
 * resident it would replace (the frequency sketch), and a key seen once never is. */
static void stream_of_reused_keys_flushes_keys_never_hit(void **state)
{
	(void)state;
	const uint64_t limit = 2u << 20;
	uint64_t cap = capacity(limit);
	int cold = (int)(cap * 8 / 10);
	hc_cache *c = open_cache(limit);
	char k[32], v[VLEN] = {0}, buf[VLEN];
	size_t n;
	for (int i = 0; i < cold; i++)
		assert_int_equal(hc_put(c, k, key_of(k, sizeof(k), "cold", i), v, sizeof(v)), 0);
	for (int i = 0; i < (int)(10 * cap); i++) {
		size_t kl = key_of(k, sizeof(k), "scan", i);
		assert_int_equal(hc_put(c, k, kl, v, sizeof(v)), 0);
		assert_int_equal(hc_get(c, k, kl, buf, sizeof(buf), &n), 0);
	}
	assert_true(hits(c, "cold", cold) * 10 < cold);
	hc_close(c);
}

static void one_time_stream_does_not_displace_residents(void **state)
{
	(void)state;
	const uint64_t limit = 2u << 20;
	uint64_t cap = capacity(limit);
	int cold = (int)(cap * 8 / 10);
	hc_cache *c = open_cache(limit);
	char k[32], v[VLEN] = {0};
	for (int i = 0; i < cold; i++)
		assert_int_equal(hc_put(c, k, key_of(k, sizeof(k), "cold", i), v, sizeof(v)), 0);
	for (int i = 0; i < (int)(10 * cap); i++)
		assert_int_equal(hc_put(c, k, key_of(k, sizeof(k), "scan", i), v, sizeof(v)), 0);
	int kept = hits(c, "cold", cold);
	print_message("capacity %llu: %d of %d never-hit keys kept through a one-time stream\n",
	              (unsigned long long)cap, kept, cold);
	assert_true(kept * 10 >= cold * 9);
	hc_close(c);
}

/*
 * Every entry hot: the cache is filled and each entry hit 3 times (the frequency cap),
 * then new keys are put. Each put succeeds, the new key is readable right after, and
 * each put evicts a bounded number of entries (equal sizes: about one, never a
 * flush), so the work an insert does stays bounded when nothing is cold.
 */
static void all_hot_cache_admits_new_keys_and_evicts_a_few_for_each(void **state)
{
	(void)state;
	const uint64_t limit = 1u << 20;
	uint64_t cap = capacity(limit);
	hc_cache *c = open_cache(limit);
	char k[32], v[VLEN] = {0}, buf[VLEN];
	size_t n;
	int filled = (int)cap;
	for (int i = 0; i < filled; i++)
		assert_int_equal(hc_put(c, k, key_of(k, sizeof(k), "hot", i), v, sizeof(v)), 0);
	for (int r = 0; r < 3; r++)
		assert_int_equal(hits(c, "hot", filled), filled);
	struct hc_stats st = stats_of(c);
	assert_int_equal(st.evictions, 0);
	assert_int_equal(st.entries, (uint64_t)filled);
	uint64_t most = 0;
	for (int i = 0; i < (int)cap; i++) {
		uint64_t ev0 = stats_of(c).evictions;
		size_t kl = key_of(k, sizeof(k), "new", i);
		assert_int_equal(hc_put(c, k, kl, v, sizeof(v)), 0);
		assert_int_equal(hc_get(c, k, kl, buf, sizeof(buf), &n), 0);
		uint64_t d = stats_of(c).evictions - ev0;
		most = d > most ? d : most;
		if (i >= 2) /* a slot or two may be free at the start */
			assert_true(d >= 1);
		assert_true(d <= 4);
	}
	st = stats_of(c);
	print_message("capacity %llu: %llu inserts into an all-hot cache evicted %llu, at most "
	              "%llu for one insert\n", (unsigned long long)cap, (unsigned long long)cap,
	              (unsigned long long)st.evictions, (unsigned long long)most);
	assert_true(st.evictions >= cap - 2);
	assert_true(st.entries + 4 >= cap);
	hc_close(c);
}

/* Look-aside access with a value of vlen bytes (v, read into buf): a hit, or a miss
 * and a put. Returns 1 on a hit. */
static int access_value(hc_cache *c, const char *prefix, int i, const char *v, char *buf,
                        size_t vlen)
{
	char k[32];
	size_t kl = key_of(k, sizeof(k), prefix, i), n;
	int rc = hc_get(c, k, kl, buf, vlen, &n);
	if (rc == 0)
		return 1;
	assert_int_equal(rc, HC_ENOTFOUND);
	assert_int_equal(hc_put(c, k, kl, v, vlen), 0);
	return 0;
}

static int access_key(hc_cache *c, const char *prefix, int i)
{
	char v[VLEN] = {0}, buf[VLEN];
	return access_value(c, prefix, i, v, buf, VLEN);
}

static void sort_u64(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++) /* insertion sort */
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

static struct hc_shard_stats shard0(hc_cache *c)
{
	struct hc_shard_stats st;
	assert_int_equal(hc_shard_stats(c, 0, &st), 0);
	return st;
}

/*
 * A loop over 1.5 times the capacity: LRU and CLOCK never hit, S3-FIFO keeps about 45%
 * (what the older policy got: 41% in bench/hitratio), OPT 67%. Admission by frequency
 * (a candidate must be seen more often than MAIN's victim) keeps a fixed part of the
 * loop resident: from the fourth lap on, at least half the accesses hit.
 */
static void loop_longer_than_the_cache_keeps_a_resident_part(void **state)
{
	(void)state;
	const uint64_t limit = 2u << 20;
	uint64_t cap = capacity(limit);
	int len = (int)(cap * 3 / 2), got = 0, total = 0;
	hc_cache *c = open_cache(limit);
	for (int lap = 0; lap < 12; lap++)
		for (int i = 0; i < len; i++) {
			int h = access_key(c, "loop", i);
			if (lap >= 3) {
				got += h;
				total++;
			}
		}
	struct hc_shard_stats st = shard0(c);
	print_message("capacity %llu, loop of %d: %d of %d hits from lap 4 on (%.1f%%); SMALL %llu "
	              "of %llu entries\n", (unsigned long long)cap, len, got, total,
	              100.0 * got / total, (unsigned long long)st.small_entries,
	              (unsigned long long)st.entries);
	assert_true(got * 2 >= total);
	hc_close(c);
}

/*
 * SMALL's share follows the workload: a hot set that moves often (new hot keys must be
 * caught on probation, so a larger SMALL pays; their confirmed ghost hits grow it) takes
 * it from its starting 1% to 15% or more (medians of 28-33% in runs); a loop longer
 * than the cache that follows (where SMALL only churns, and nothing confirms a ghost
 * hit) lets the drift shrink it again, to half of that or less and at most 12%.
 */
static void climber_grows_small_for_moving_hot_sets_and_shrinks_it_for_loops(void **state)
{
	(void)state;
	const uint64_t limit = 2u << 20;
	uint64_t cap = capacity(limit);
	hc_cache *c = open_cache(limit);
	uint64_t seed = 7;
	int hot = (int)(cap / 4);
	/* SMALL after each of the last 11 phases: one snapshot can land on a probe down
	 * (the climber drifts down while the gain is within the noise), so the median. */
	uint64_t grown[11];
	struct hc_shard_stats st;
	for (int phase = 0; phase < 200; phase++) {
		for (int i = 0; i < (int)cap; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			int r = (int)(seed >> 33);
			int key = r % 10 < 9 ? phase * hot + r % hot : 1000000 + r % (int)(20 * cap);
			(void)access_key(c, "shift", key);
		}
		if (phase >= 189)
			grown[phase - 189] = shard0(c).small_entries;
	}
	sort_u64(grown, 11);
	st = shard0(c);
	print_message("moving hot set: SMALL median %llu (%llu .. %llu) of %llu entries\n",
	              (unsigned long long)grown[5], (unsigned long long)grown[0],
	              (unsigned long long)grown[10], (unsigned long long)st.entries);
	assert_true(grown[5] * 100 >= st.entries * 15);
	uint64_t shifted = grown[5];

	int len = (int)(cap * 3 / 2);
	/* SMALL after each of the last 11 laps: the climber keeps probing, a step (6.25% at
	 * most) up and back, and one sample can land two steps up (seen once: 12.9%), so
	 * the median is what must sit near the floor. */
	uint64_t small[11], entries = 0;
	for (int lap = 0; lap < 100; lap++) {
		for (int i = 0; i < len; i++)
			(void)access_key(c, "loop", i);
		if (lap >= 89) {
			st = shard0(c);
			small[lap - 89] = st.small_entries;
			entries = st.entries;
		}
	}
	sort_u64(small, 11);
	print_message("loop: SMALL median %llu (%llu .. %llu) of %llu entries\n",
	              (unsigned long long)small[5], (unsigned long long)small[0],
	              (unsigned long long)small[10], (unsigned long long)entries);
	assert_true(small[5] * 100 <= entries * 12);
	assert_true(small[5] * 2 <= shifted);
	hc_close(c);
}

/*
 * A stationary workload in a cache of about 200 entries: Zipf 0.9 over 20000 keys, where
 * SMALL's floor (frequency admission) is best (W-TinyLFU's 1% window beats S3-FIFO's 10%
 * in bench/hitratio). Nothing changes, so the climber should stay near its floor; with
 * samples of 560 requests (4 * entries) the hit ratio's noise (binomial, about 2
 * points) made a climber that followed every change random-walk SMALL to 15-28% of the
 * entries on average (3% with the noise test). The average SMALL share over the run
 * must stay under 10%.
 */
enum { BIGV = 4096 };

static int access_big(hc_cache *c, int i)
{
	static char v[BIGV], buf[BIGV];
	return access_value(c, "zipf", i, v, buf, BIGV);
}

static void climber_holds_small_near_its_floor_on_a_stationary_workload(void **state)
{
	(void)state;
	enum { KEYS = 20000, REQUESTS = 600000 };
	static double cdf[KEYS];
	double sum = 0;
	for (int i = 0; i < KEYS; i++)
		cdf[i] = sum += 1.0 / pow(i + 1, 0.9);
	hc_cache *c = open_cache(1u << 20);
	uint64_t seed = 11, entries = 0, small = 0;
	int hit = 0;
	for (int r = 0; r < REQUESTS; r++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		double u = (double)(seed >> 11) / 9007199254740992.0 * sum;
		int lo = 0, hi = KEYS - 1;
		while (lo < hi) {
			int mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		hit += access_big(c, lo);
		if (r >= REQUESTS / 4 && r % 1000 == 0) {
			struct hc_shard_stats st = shard0(c);
			small += st.small_entries;
			entries += st.entries;
		}
	}
	print_message("zipf 0.9, %llu entries: hit ratio %.1f%%, SMALL %.1f%% of entries on "
	              "average\n", (unsigned long long)shard0(c).entries, 100.0 * hit / REQUESTS,
	              100.0 * (double)small / (double)entries);
	assert_true(small * 10 < entries);
	hc_close(c);
}

/* One phase of a moving hot set: cap requests, 90% on hot keys [base, base + hot), the
 * rest on one-time keys; *seed is the generator's state. */
static void hot_phase(hc_cache *c, uint64_t cap, int base, int hot, uint64_t *seed)
{
	for (int i = 0; i < (int)cap; i++) {
		*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
		int r = (int)(*seed >> 33);
		int key = r % 10 < 9 ? base + r % hot : 100000000 + (int)(*seed % 1000000000);
		(void)access_key(c, "moving", key);
	}
}

/*
 * Ghost hits grow SMALL fast once confirmed: a hot set of a quarter of the cache moves
 * every cap requests. Each new hot key misses, is evicted from the 1% SMALL before its
 * next access, comes back within the ghost's window and is hit again on probation: by
 * the end of the fourth phase SMALL holds a tenth of the entries or more (14-15% in
 * runs). The drift alone only moves SMALL down (about a sample of 4 * cap requests per
 * move), so without the ghost SMALL stays at its 1% floor.
 */
/* A cache of 2 MiB after four phases of a hot set of a quarter of it moving every cap
 * (its capacity, *cap) requests. */
static hc_cache *after_a_moving_hot_set(uint64_t *cap)
{
	const uint64_t limit = 2u << 20;
	*cap = capacity(limit);
	hc_cache *c = open_cache(limit);
	uint64_t seed = 5;
	for (int phase = 0; phase < 4; phase++)
		hot_phase(c, *cap, phase * (int)(*cap / 4), (int)(*cap / 4), &seed);
	return c;
}

static void confirmed_ghost_hits_grow_small_within_a_few_phases(void **state)
{
	(void)state;
	uint64_t cap;
	hc_cache *c = after_a_moving_hot_set(&cap);
	struct hc_shard_stats st = shard0(c);
	print_message("hot set of %d moving every %llu requests: SMALL %llu of %llu entries "
	              "after 4 phases\n", (int)(cap / 4), (unsigned long long)cap,
	              (unsigned long long)st.small_entries, (unsigned long long)st.entries);
	assert_true(st.small_entries * 10 >= st.entries);
	/* Every entry is in one of the two queues (hotcache.h: hc_shard_stats). */
	assert_int_equal(st.small_entries + st.main_entries, st.entries);
	hc_close(c);
}

/*
 * A sample without hits drifts: SMALL grown by a moving hot set (as above) goes back
 * towards its floor under a stream of one-time keys, where nothing hits and nothing is
 * confirmed. When confirmations were first weighed against the sample's hits (fewer
 * than one per CLIMB_CONFIRM_HITS hits drift), the comparison was strict and a sample
 * with no hits and no confirmations (0 < 0) no longer drifted: SMALL filled to where the
 * hot set left its target, 561 of 2478 entries (seen; now 26, 28 of 2604 under ASan).
 * After 40 samples of one-time keys SMALL must hold under 5% of the entries.
 */
static void a_sample_without_hits_drifts(void **state)
{
	(void)state;
	uint64_t cap;
	hc_cache *c = after_a_moving_hot_set(&cap);
	struct hc_shard_stats st = shard0(c);
	uint64_t grown = st.small_entries;
	assert_true(grown * 10 >= st.entries);
	for (int i = 0; i < (int)(160 * cap); i++)
		assert_int_equal(access_key(c, "once", i), 0);
	st = shard0(c);
	print_message("SMALL %llu of %llu entries after the moving hot set, %llu after %llu "
	              "one-time keys\n", (unsigned long long)grown,
	              (unsigned long long)st.entries, (unsigned long long)st.small_entries,
	              (unsigned long long)(160 * cap));
	assert_true(st.small_entries * 20 < st.entries);
	hc_close(c);
}

/*
 * Ghost hits that are not confirmed move nothing: a zigzag over 1.25 times the cache
 * (forward, then backward sweeps) brings every turning key back soon after its eviction
 * from SMALL, into the ghost's window, but never again while it is on probation (its next
 * access is a sweep away). Counted on return, as ARC counts them, those hits grew SMALL
 * to 40-80% and cost the zigzag 4-16 points (bench/hitratio); here SMALL must stay under
 * 5% of the entries at the end of every one of the last 10 sweeps, and at least 70% of
 * the accesses hit from the fifth sweep on (LRU: 80%, hotcache 78-79% in runs).
 */
static void unconfirmed_ghost_hits_leave_small_at_its_floor(void **state)
{
	(void)state;
	const uint64_t limit = 2u << 20;
	uint64_t cap = capacity(limit);
	hc_cache *c = open_cache(limit);
	int len = (int)(cap * 5 / 4), got = 0, total = 0;
	uint64_t most = 0, entries = 0;
	for (int sweep = 0; sweep < 40; sweep++) {
		for (int j = 0; j < len; j++) {
			int h = access_key(c, "zigzag", sweep % 2 ? len - 1 - j : j);
			if (sweep >= 4) {
				got += h;
				total++;
			}
		}
		if (sweep >= 30) {
			struct hc_shard_stats st = shard0(c);
			most = st.small_entries > most ? st.small_entries : most;
			entries = st.entries;
		}
	}
	print_message("zigzag over %d keys, capacity %llu: SMALL at most %llu of %llu entries "
	              "over the last 10 sweeps; %.1f%% hits from the fifth sweep on\n", len,
	              (unsigned long long)cap, (unsigned long long)most,
	              (unsigned long long)entries, 100.0 * got / total);
	assert_true(most * 20 < entries);
	assert_true(got * 10 >= total * 7);
	hc_close(c);
}

/*
 * A hot set of half the cache that moves every ten cache-fulls of requests (90% on it,
 * the rest one-time keys), in a cache of about 140 entries. Each move needs a large
 * SMALL, which confirmed ghost hits grow; the move also pushes old hot keys out of the
 * MAIN the growth shrank. When those keys' confirmed returns shrank SMALL (ARC's other
 * ghost list), they came in bursts just after each growth and undid it: SMALL fell to
 * 2 entries between moves and 81.5% of the requests of the last 20 of 60 phases hit.
 * With the ghost remembering only SMALL's evictions, SMALL stays at 71 entries or more
 * and 83.9% hit (the same in every run). SMALL must stay at a quarter of the entries or
 * more after each of those phases, and 82.5% must hit.
 */
static void moving_hot_set_keeps_small_grown_between_moves(void **state)
{
	(void)state;
	static char v[BIGV], buf[BIGV];
	const uint64_t limit = 1u << 20;
	hc_cache *c = open_cache(limit);
	for (int i = 0; i < 5000; i++) /* as many one-time keys as the cache can hold */
		(void)access_value(c, "fill", i, v, buf, BIGV);
	uint64_t cap = shard0(c).entries, seed = 3, least = UINT64_MAX, entries = 0;
	int hot = (int)(cap / 2), got = 0, total = 0;
	for (int phase = 0; phase < 60; phase++) {
		for (int i = 0; i < 10 * (int)cap; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			int r = (int)(seed >> 33);
			int key = r % 10 < 9 ? phase * hot + r % hot
			                     : 100000000 + (int)(seed % 1000000000);
			int h = access_value(c, "halfhot", key, v, buf, BIGV);
			if (phase >= 40) {
				got += h;
				total++;
			}
		}
		if (phase >= 40) {
			struct hc_shard_stats st = shard0(c);
			least = st.small_entries < least ? st.small_entries : least;
			entries = st.entries;
		}
	}
	print_message("hot set of %d moving every %llu requests: SMALL at least %llu of %llu "
	              "entries after each of the last 20 phases; %.2f%% hits over them\n", hot,
	              (unsigned long long)(10 * cap), (unsigned long long)least,
	              (unsigned long long)entries, 100.0 * got / total);
	assert_true(least * 4 >= entries);
	assert_true(got * 200 >= total * 165);
	hc_close(c);
}

/*
 * A zigzag (forward then backward sweeps) over twice the capacity, with 8 KiB values: LRU
 * hits about half the accesses (each sweep first meets the keys the last one ended on),
 * and so does keeping any fixed set of residents, as admission by frequency does (every
 * key is seen once a sweep: a tie, and ties keep MAIN). But the sketch halves every ten
 * capacities of additions, five sweeps here, and when the halving falls just after the
 * residents' sweep and before the candidates' (a phase that repeats at these sizes), the
 * halving takes half the residents' counts while the candidates' two accesses since come
 * in full: they lead by two, beat the margin, and replace nearly every resident just
 * before the residents' own turn. Without the halving's grace (policy.c) 42.8% and
 * 43.7% hit at the first two limits (the only two of 97 from 1 to 4 MiB in steps of
 * 32 KiB below 48%; before SMALL was held to its target, also 41.6% to 41.9% at the
 * other two), 49.4% to 49.5% with it (when this was written).
 */
enum { ZIGZAG_VLEN = 8192 };

static void zigzag_over_twice_the_cache_hits_as_lru_does_at_any_halving_phase(void **state)
{
	(void)state;
	static const uint64_t limits[] = { 1146880, 1277952, 1490944, 2719744 };
	static char v[ZIGZAG_VLEN], buf[ZIGZAG_VLEN];
	int low = 0; /* limits where fewer than 48% hit */
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		hc_cache *c = open_cache(limits[l]);
		char k[32];
		for (int i = 0; i < 3000; i++)
			assert_int_equal(hc_put(c, k, key_of(k, sizeof(k), "cap", i), v, sizeof(v)), 0);
		int len = (int)(2 * stats_of(c).entries), sweeps = 40, got = 0, total = 0;
		hc_close(c);
		c = open_cache(limits[l]);
		for (int sw = 0; sw < sweeps; sw++)
			for (int i = 0; i < len; i++) {
				int h = access_value(c, "zz", sw % 2 ? len - 1 - i : i, v, buf, sizeof(v));
				if (sw >= 2) {
					got += h;
					total++;
				}
			}
		print_message("limit %llu: zigzag over %d keys, %d of %d hits from sweep 3 on "
		              "(%.1f%%)\n", (unsigned long long)limits[l], len, got, total,
		              100.0 * got / total);
		low += got * 100 < total * 48;
		hc_close(c);
	}
	assert_int_equal(low, 0);
}

/*
 * SMALL holds at most its target, counting the entry being installed: with 8 KiB values
 * and SMALL at its 1% floor, two entries' bytes, it used to hold three (an install
 * evicted from SMALL only once SMALL was over its target before it), and on a zigzag
 * over 1.25 times the cache the third slot held a key missed in the sweep and evicted
 * at the next turn before its reuse, every sweep.
 */
static void small_holds_at_most_its_target_counting_the_install(void **state)
{
	(void)state;
	const uint64_t limit = 2621440;
	static char v[ZIGZAG_VLEN], buf[ZIGZAG_VLEN];
	hc_cache *c = open_cache(limit);
	char k[32];
	for (int i = 0; i < 3000; i++)
		assert_int_equal(hc_put(c, k, key_of(k, sizeof(k), "cap", i), v, sizeof(v)), 0);
	int len = (int)(stats_of(c).entries * 5 / 4), sweeps = 60, got = 0, total = 0;
	hc_close(c);
	c = open_cache(limit);
	uint64_t most = 0, floor_entries = 0;
	for (int sw = 0; sw < sweeps; sw++)
		for (int i = 0; i < len; i++) {
			int h = access_value(c, "zz", sw % 2 ? len - 1 - i : i, v, buf, sizeof(v));
			if (sw >= 20) {
				struct hc_shard_stats st = shard0(c);
				uint64_t small = st.small_entries;
				floor_entries = st.budget / 100 / (st.bytes / st.entries);
				most = small > most ? small : most;
				got += h;
				total++;
			}
		}
	print_message("limit %llu: zigzag over %d keys: SMALL at most %llu entries (1%% of the "
	              "budget: %llu), %d of %d hits from sweep 21 on (%.2f%%)\n",
	              (unsigned long long)limit, len, (unsigned long long)most,
	              (unsigned long long)floor_entries, got, total, 100.0 * got / total);
	assert_true(most <= floor_entries);
	hc_close(c);
}

/*
 * A hot set five times the cache that moves every PHASE_FULLS cache-fulls of requests
 * (90% of them on it, the rest one-time keys), in one shard of about 140 entries
 * (bench/hitratio's shift rows at 1%). Each hot key comes back about every 5.5
 * cache-fulls of requests, so only recency catches it: LRU hits the keys reused within
 * a cache-full, while frequency admission cannot learn a set it sees once or twice a
 * key before it moves. With SMALL at its 1% floor (one or two entries) a returning key
 * is never on probation when it is hit again, so no ghost hit is confirmed; the returns'
 * test (policy.c) sees the misses a larger SMALL would have hit outnumber what the
 * entries give and grows SMALL. Without it 10.9% hit here where LRU hits 16.4% (SMALL's
 * median 1 entry); with it 15.9% (SMALL's median 101 of 139 entries). It must hit within
 * a point of LRU from the fifth phase on, SMALL at 40% of the entries or more (the
 * median over the last ten phases). The cache's hash seed is random, and over seeds 1-100
 * (cache_fix_seed) SMALL's median was at least 80 of 139 entries (58%) in the release
 * build and 80 of 169 (47%) under ASan (glibc malloc's charges): 2 seeds of 100 there,
 * which failed the half this test first asked (once in make test).
 */
enum { PHASE_FULLS = 20 };

static void returns_grow_small_for_a_hot_set_moving_in_a_small_cache(void **state)
{
	(void)state;
	static char v[BIGV], buf[BIGV];
	hc_cache *c = open_cache(1u << 20);
	for (int i = 0; i < 5000; i++) /* as many one-time keys as the cache can hold */
		(void)access_value(c, "fill", i, v, buf, BIGV);
	int cap = (int)shard0(c).entries, hot = 5 * cap, phases = 40;
	size_t n = (size_t)phases * PHASE_FULLS * (size_t)cap, warm = 4 * PHASE_FULLS * (size_t)cap;
	uint64_t *keys = malloc(n * sizeof(*keys)), seed = 9, small[10];
	assert_non_null(keys);
	int got = 0, total = 0;
	for (int phase = 0; phase < phases; phase++) {
		for (int i = 0; i < PHASE_FULLS * cap; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			int r = (int)(seed >> 33);
			int key = r % 10 < 9 ? phase * hot + r % hot
			                     : 100000000 + (int)(seed % 1000000000);
			keys[(size_t)phase * PHASE_FULLS * (size_t)cap + (size_t)i] = (uint64_t)key;
			int h = access_value(c, "moving5", key, v, buf, BIGV);
			if (phase >= 4) {
				got += h;
				total++;
			}
		}
		if (phase >= phases - 10)
			small[phase - (phases - 10)] = shard0(c).small_entries;
	}
	sort_u64(small, 10);
	/* LRU's hits from the fifth phase on: those of the whole trace less the first four
	 * phases' (LRU's state after them is the same either way). */
	int lru_got = (int)(sim_lru(keys, n, (size_t)cap) - sim_lru(keys, warm, (size_t)cap));
	struct hc_shard_stats st = shard0(c);
	print_message("hot set of %d moving every %d requests, %d entries: %.2f%% hits, LRU "
	              "%.2f%%; SMALL median %llu of %llu entries\n", hot, PHASE_FULLS * cap, cap,
	              100.0 * got / total, 100.0 * lru_got / total, (unsigned long long)small[5],
	              (unsigned long long)st.entries);
	assert_true(got * 100 + total >= lru_got * 100); /* within a point of LRU */
	assert_true(small[5] * 10 >= st.entries * 4);
	free(keys);
	hc_close(c);
}

/*
 * Loops a little longer than the cache bring every key SMALL evicted back a lap later,
 * within the returns' window when a lap's misses are fewer than a quarter of the
 * entries; but every resident of MAIN is hit once a lap, so the returns stay below the
 * entries' hits times the margin (policy.c) and SMALL stays at its floor. With a margin
 * of 1 (returns against the hits alone) the loop of 1.2 times this cache of about 1300
 * entries (1 KiB values, a ghost of 1024 slots) grew SMALL at some lap, the grown SMALL
 * missed and returned more, and 38.6% hit instead of 82.5% (bench/hitratio: a loop of
 * 1.2 times 2072 entries, 80% to 50%). Loops of 1.1 to 1.3 times the cache, 80 laps
 * each, must keep 95% of what a fixed set of residents hits (capacity / length) from
 * the fourth lap on.
 */
static void loops_just_longer_than_the_cache_do_not_grow_small(void **state)
{
	(void)state;
	static const int pct[] = { 110, 115, 120, 125, 130 };
	enum { LV = 1008, LAPS = 80 };
	static char v[LV], buf[LV];
	const uint64_t limit = 2200000, expect = 2000;
	hc_cache *c = open_cache_expecting(limit, expect);
	for (int i = 0; i < 6000; i++)
		(void)access_value(c, "fill", i, v, buf, LV);
	int cap = (int)shard0(c).entries;
	hc_close(c);
	for (size_t t = 0; t < sizeof(pct) / sizeof(pct[0]); t++) {
		int len = cap * pct[t] / 100, got = 0, total = 0;
		c = open_cache_expecting(limit, expect);
		for (int lap = 0; lap < LAPS; lap++)
			for (int i = 0; i < len; i++) {
				int h = access_value(c, "loopk", i, v, buf, LV);
				if (lap >= 3) {
					got += h;
					total++;
				}
			}
		struct hc_shard_stats st = shard0(c);
		print_message("loop of %d over %d entries: %.1f%% hits from lap 4 on (%d/%d: "
		              "%.1f%%); SMALL %llu entries\n", len, cap, 100.0 * got / total, cap,
		              len, 100.0 * cap / len, (unsigned long long)st.small_entries);
		assert_true((double)got * len >= 0.95 * cap * (double)total);
		hc_close(c);
	}
}

/*
 * A hot set of half the cache that moves every ten cache-fulls of requests, as above,
 * but in a cache of about 2000 entries (bench/hitratio's shift5%x10 at 10%): 90% of the
 * requests on the hot set, the rest uniform over twenty cache-fulls of keys. At each
 * move the new hot keys must outscore the old ones' sketch counts to enter MAIN, and
 * confirmed ghost hits grow SMALL (to 60% of the entries) so that they are promoted on
 * probation instead. Between moves SMALL should come back down, or MAIN cannot hold the
 * hot set: when the hot keys that came in at a move reach SMALL's head they are promoted
 * together and MAIN's hand evicts other hot keys (a dip of 5-9 points mid-phase). But a
 * few confirmations come in every sample (1-6 in 8000 requests: the hand evicts a hot
 * key now and then), and while any confirmation held the drift, SMALL stayed at 60-70%
 * and 83.31% of the requests hit, 2.34 points under exact LRU at the cache's measured
 * capacity (1761 entries). Confirmations of one or fewer per CLIMB_CONFIRM_HITS of the
 * sample's hits no longer hold it: SMALL drifts back to about half, and 84.31-84.47%
 * hit over hash seeds 1-40 (-1.18 to -1.34). Under ASan (glibc malloc's charges: 1849
 * entries) 83.03% -> 84.06-84.16% (seeds 1-20) against LRU's 85.54%. Over 20 phases,
 * hotcache must be within 1.8 points of LRU.
 */
static void sporadic_confirmations_let_small_drift_down_between_moves(void **state)
{
	(void)state;
	enum { PHASES = 20 };
	const uint64_t limit = 3u << 19;
	hc_cache *c = open_cache(limit);
	for (int i = 0; i < 20000; i++) /* fill: the measured capacity */
		(void)access_key(c, "fill", i);
	uint64_t cap = shard0(c).entries, n = PHASES * 10 * cap, seed = 9, got = 0;
	uint64_t *keys = malloc(n * sizeof(*keys));
	assert_non_null(keys);
	uint64_t hot = cap / 2, universe = 20 * cap, base = 0;
	for (uint64_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		if (i % (10 * cap) == 0)
			base = (seed >> 33) % universe; /* the hot set moves */
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t r = seed >> 33;
		keys[i] = r % 10 < 9 ? (base + (r / 10) % hot) % universe : (r / 10) % universe;
		got += (uint64_t)access_key(c, "shift", (int)keys[i]);
	}
	uint64_t lru = sim_lru(keys, n, cap);
	print_message("hot set of %llu of %llu entries moving every %llu requests: %.2f%% hits, "
	              "LRU %.2f%%; SMALL %llu entries at the end\n", (unsigned long long)hot,
	              (unsigned long long)cap, (unsigned long long)(10 * cap),
	              100.0 * (double)got / (double)n, 100.0 * (double)lru / (double)n,
	              (unsigned long long)shard0(c).small_entries);
	assert_true((double)got >= (double)lru - 0.018 * (double)n);
	free(keys);
	hc_close(c);
}


/*
 * cache.expected_entries widens the frequency sketch to four counters a row per expected
 * entry (policy.c), as W-TinyLFU sizes its own, within 3.1% of the budget. With 64-byte
 * values the budget's own width is two counters an entry or less, and a Zipf 0.99 stream
 * over twice the cache's keys with scans of one-time keys (a tenth to four tenths of the
 * entries every fifth of them, as bench/hitratio's zipf0.99+scan) fills the counters: the
 * colder Zipf keys tie with one-time keys and lose their slots. A cache told to expect
 * its entries must come within 0.35 points of W-TinyLFU (bench/sim_wtinylfu.c, four
 * counters per entry and a doorkeeper), the best policy on this trace in bench/hitratio.
 * Seen failing before the sketch followed expected_entries (the same ghost, the
 * budget's width): 35.91-35.97% over hash seeds 1-6 against W-TinyLFU's 36.45%; since,
 * -0.08 to +0.02 points of it over hash seeds 1-20 (release), -0.10 to -0.20 under ASan.
 * Told as many entries as the limit can hold at the least an entry takes, a cache
 * still holds 80% of what one told nothing holds: the sketch's width is bounded by the
 * budget (without that bound, 63%), and the index starts within an eighth of it
 * (before that bound, 78%; now 88%); told one more, hc_open refuses with HC_ECONFIG and
 * says why. Before that check, a cache told 10^9 entries opened with an index sized
 * for them and refused every insert (HC_EBUSY).
 */
static double zipf_scan_hits(uint64_t limit, uint64_t expected, const uint64_t *keys,
                             size_t n, uint64_t *entries)
{
	enum { SMALL_VLEN = 64 };
	hc_cache *c = open_cache_expecting(limit, expected);
	char v[SMALL_VLEN] = {0}, buf[SMALL_VLEN];
	uint64_t got = 0;
	for (size_t i = 0; i < n; i++)
		got += (uint64_t)access_value(c, "zs", (int)keys[i], v, buf, sizeof(v));
	*entries = shard0(c).entries;
	hc_close(c);
	return 100.0 * (double)got / (double)n;
}

static void expected_entries_widen_the_sketch_for_small_values(void **state)
{
	(void)state;
	enum { SMALL_VLEN = 64 };
	const uint64_t limit = 1u << 20;
	hc_cache *c = open_cache(limit);
	char v[SMALL_VLEN] = {0}, buf[SMALL_VLEN];
	for (int i = 0; i < 100000; i++) /* fill: the measured capacity */
		(void)access_value(c, "fill", i, v, buf, sizeof(v));
	uint64_t cap = shard0(c).entries, held, held_dflt, held_huge;
	hc_close(c);
	struct trace t;
	trace_zipf_scan(&t, 0.99, 2 * cap, 20 * cap, cap / 5, cap / 10, 2 * cap / 5, 7);
	for (size_t i = 0; i < t.n; i++) /* scan keys start at 2^40: fold them above the pool */
		if (t.keys[i] >= 2 * cap)
			t.keys[i] = 2 * cap + (t.keys[i] & 0xFFFFFFF);
	double told = zipf_scan_hits(limit, cap, t.keys, t.n, &held);
	double dflt = zipf_scan_hits(limit, 0, t.keys, t.n, &held_dflt);
	uint64_t most = 0;
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = limit;
	cfg.shards = 1;
	cfg.max_entry = 16 << 10;
	for (uint64_t step = 1u << 20; step > 0; step /= 2) { /* the largest accepted */
		cfg.expected_entries = most + step;
		hc_cache *probe = NULL;
		int rc = hc_open(&cfg, &probe);
		if (rc == 0) {
			most += step;
			hc_close(probe);
		} else {
			assert_int_equal(rc, HC_ECONFIG);
			assert_non_null(strstr(hc_last_error(), "cache.expected_entries"));
		}
	}
	print_message("expected_entries up to %llu accepted for a limit of %llu: %s\n",
	              (unsigned long long)most, (unsigned long long)limit, hc_last_error());
	assert_true(most >= limit / 256 && most < limit / 32);
	double huge = zipf_scan_hits(limit, most, t.keys, t.n, &held_huge);
	double wt = 100.0 * (double)sim_wtinylfu(t.keys, t.n, cap) / (double)t.n;
	double lru = 100.0 * (double)sim_lru(t.keys, t.n, cap) / (double)t.n;
	print_message("zipf0.99+scan over %llu keys, %zu requests, %llu entries of 64 bytes: "
	              "expected_entries %llu %.2f%% (%llu held), 0 %.2f%% (%llu), %llu %.2f%% "
	              "(%llu); W-TinyLFU %.2f%%, LRU %.2f%%\n",
	              (unsigned long long)(2 * cap), t.n, (unsigned long long)cap,
	              (unsigned long long)cap, told, (unsigned long long)held, dflt,
	              (unsigned long long)held_dflt, (unsigned long long)most, huge,
	              (unsigned long long)held_huge, wt, lru);
	assert_true(told >= wt - 0.35);
	assert_true(held_huge * 100 >= held_dflt * 80);
	trace_free(&t);
}

/*
 * A put that replaces a value with one of the same size, in a full shard, takes the old
 * value's room: it evicts nothing and the shard keeps its entries. Until 2026-12-08 the
 * install made room for the whole new value before it unlinked the old one, so every
 * such put evicted an entry (and, when MAIN's head was hot, walked the CLOCK hand up to
 * EVICT_STEPS agings to find one: the insert p99 of cache_bench's mixed work). A larger
 * value evicts only what the difference needs; the replaced keys read their new values.
 */
static void a_replace_takes_the_old_values_room(void **state)
{
	(void)state;
	const uint64_t limit = 1u << 20;
	hc_cache *c = open_cache(limit);
	char k[32], v[VLEN], buf[2 * VLEN];
	size_t n, kl;
	memset(v, 'a', sizeof(v));
	int filled = 0;
	while (stats_of(c).evictions < 50) { /* full: evicting for each new key */
		kl = key_of(k, sizeof(k), "fill", filled++);
		assert_int_equal(hc_put(c, k, kl, v, sizeof(v)), 0);
	}
	int replaced = 0;
	for (int i = filled - 1; i >= 0 && replaced < 50; i--) {
		kl = key_of(k, sizeof(k), "fill", i);
		if (hc_get(c, k, kl, buf, sizeof(buf), &n) != 0)
			continue; /* evicted */
		struct hc_stats before = stats_of(c);
		memset(v, 'b' + replaced % 20, sizeof(v));
		assert_int_equal(hc_put(c, k, kl, v, sizeof(v)), 0);
		struct hc_stats after = stats_of(c);
		assert_int_equal(after.evictions, before.evictions);
		assert_int_equal(after.entries, before.entries);
		assert_int_equal(hc_get(c, k, kl, buf, sizeof(buf), &n), 0);
		assert_int_equal(n, sizeof(v));
		assert_memory_equal(buf, v, sizeof(v));
		replaced++;
	}
	assert_int_equal(replaced, 50);
	/* Twice the size: the difference is evicted, one VLEN entry's worth or two a
	 * replace (none when the shard's slack below its budget covers it: an ASan
	 * build's glibc-model charges leave more), and the shard stays within budget. */
	static char big[2 * VLEN];
	memset(big, 'z', sizeof(big));
	int grown = 0;
	uint64_t evicted = 0;
	for (int i = filled - 1; i >= 0 && grown < 20; i--) {
		kl = key_of(k, sizeof(k), "fill", i);
		if (hc_get(c, k, kl, buf, sizeof(buf), &n) != 0 || n != VLEN)
			continue;
		struct hc_stats before = stats_of(c);
		assert_int_equal(hc_put(c, k, kl, big, sizeof(big)), 0);
		struct hc_stats after = stats_of(c);
		assert_true(after.evictions - before.evictions <= 2);
		evicted += after.evictions - before.evictions;
		struct hc_shard_stats sh = shard0(c);
		assert_true(sh.bytes <= sh.budget);
		assert_int_equal(hc_get(c, k, kl, buf, sizeof(buf), &n), 0);
		assert_int_equal(n, sizeof(big));
		assert_memory_equal(buf, big, sizeof(big));
		grown++;
	}
	assert_int_equal(grown, 20);
	/* 20 * VLEN more bytes than the shard held: at least 10 VLEN entries' worth. */
	assert_true(evicted >= 10);
	print_message("%d keys filled a shard of %llu entries; 50 same-size replaces evicted "
	              "nothing, 20 double-size ones %llu in all\n", filled,
	              (unsigned long long)stats_of(c).entries, (unsigned long long)evicted);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_time_stream_of_ten_capacities_keeps_the_twice_hit_set),
		cmocka_unit_test(stream_of_reused_keys_flushes_keys_never_hit),
		cmocka_unit_test(one_time_stream_does_not_displace_residents),
		cmocka_unit_test(all_hot_cache_admits_new_keys_and_evicts_a_few_for_each),
		cmocka_unit_test(loop_longer_than_the_cache_keeps_a_resident_part),
		cmocka_unit_test(climber_grows_small_for_moving_hot_sets_and_shrinks_it_for_loops),
		cmocka_unit_test(climber_holds_small_near_its_floor_on_a_stationary_workload),
		cmocka_unit_test(confirmed_ghost_hits_grow_small_within_a_few_phases),
		cmocka_unit_test(a_sample_without_hits_drifts),
		cmocka_unit_test(unconfirmed_ghost_hits_leave_small_at_its_floor),
		cmocka_unit_test(moving_hot_set_keeps_small_grown_between_moves),
		cmocka_unit_test(zigzag_over_twice_the_cache_hits_as_lru_does_at_any_halving_phase),
		cmocka_unit_test(small_holds_at_most_its_target_counting_the_install),
		cmocka_unit_test(returns_grow_small_for_a_hot_set_moving_in_a_small_cache),
		cmocka_unit_test(loops_just_longer_than_the_cache_do_not_grow_small),
		cmocka_unit_test(sporadic_confirmations_let_small_drift_down_between_moves),
		cmocka_unit_test(expected_entries_widen_the_sketch_for_small_values),
		cmocka_unit_test(a_replace_takes_the_old_values_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
