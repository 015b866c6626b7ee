/*
 * Reference replacement policies for bench/hitratio, simulated exactly over a trace of
 * 64-bit keys (any value but SIM_EMPTY), each with a capacity in entries. Every entry
 * costs one unit (the traces use one fixed value size), so capacities are entry counts.
 *
 *   sim_lru     exact LRU (hash table + doubly linked list).
 *   sim_clock   CLOCK, one reference bit; a new entry starts with its bit clear; the
 *               hand clears set bits and evicts the first clear one.
 *   sim_s3fifo  S3-FIFO (Yang et al., SOSP 2023): a small FIFO of 10% of the capacity
 *               (at least 1), a main FIFO with reinsertion (CLOCK) and a 2-bit
 *               frequency (0..3, +1 per hit), a ghost FIFO of keys as long as main's
 *               share. Miss: a key found in ghost goes to main, any other to small.
 *               Eviction from small when it holds >= its share (or main is empty): its
 *               oldest moves to main (freq reset to 0) if it was hit at least once
 *               while in small, else it is dropped and remembered in ghost. Eviction
 *               from main: the oldest with freq > 0 is reinserted with freq - 1; the
 *               first with freq 0 is dropped.
 *   sim_arc     ARC (Megiddo and Modha, FAST 2003), the paper's algorithm: T1 and T2
 *               (resident: seen once, seen twice or more recently) and their ghosts B1
 *               and B2 (keys only), each an LRU list, |T1| + |T2| <= cap, the four
 *               together <= 2 * cap; a ghost hit in B1 raises T1's target p (by
 *               max(1, |B2| / |B1|), at most cap), one in B2 lowers it; REPLACE evicts
 *               from T1 when |T1| > p (or == p on a B2 hit), else from T2.
 *   sim_wtinylfu W-TinyLFU (Einziger et al. 2017, Caffeine's shape without hill
 *               climbing): a window LRU of 1% of the capacity (at least 1), a main SLRU
 *               (protected 80% of main, probation the rest; a hit in probation moves
 *               to protected, whose overflow goes back to probation's recent end) and
 *               a count-min sketch (4 rows of 4-bit counters) behind a doorkeeper,
 *               halved every 10 * cap accesses (sim_wtinylfu.c). Every access is
 *               recorded; a miss enters the window, whose overflow is admitted to main
 *               only if its estimate is strictly above that of main's victim
 *               (probation's LRU end, protected's when probation is empty).
 *   sim_opt     Belady's OPT with bypass: on a miss with the cache full, among the
 *               cached keys and the new one, the key whose next use is farthest is not
 *               kept (the new key is not admitted if it is that key). next[] from
 *               sim_opt_next(); the optimum for any policy, admission included.
 *
 * Each returns the number of hits; misses are n - hits (compulsory misses included).
 * They abort the process if memory runs out (benchmark code).
 */
#ifndef HC_BENCH_SIM_H
#define HC_BENCH_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_EMPTY UINT64_MAX   /* never a trace key */
#define SIM_NEVER UINT32_MAX   /* next-use of a key that never comes back */

uint64_t sim_lru(const uint64_t *keys, size_t n, size_t cap);
uint64_t sim_clock(const uint64_t *keys, size_t n, size_t cap);
uint64_t sim_s3fifo(const uint64_t *keys, size_t n, size_t cap);
uint64_t sim_arc(const uint64_t *keys, size_t n, size_t cap);
uint64_t sim_wtinylfu(const uint64_t *keys, size_t n, size_t cap);
/* next[i] = the index of the next request for keys[i], or SIM_NEVER. n < SIM_NEVER. */
void sim_opt_next(const uint64_t *keys, size_t n, uint32_t *next);
uint64_t sim_opt(const uint64_t *keys, const uint32_t *next, size_t n, size_t cap);

/*
 * The key -> slot table the simulators share: open addressing, linear probing, deletion
 * by backward shift (no tombstones, so long runs stay fast). Sized at init for at most
 * max_items keys at a load factor of 1/2 or less; it does not grow.
 */
struct sim_table {
	uint64_t *keys;
	uint32_t *vals;
	size_t mask;
	unsigned shift;
};

void sim_table_init(struct sim_table *t, size_t max_items);
void sim_table_free(struct sim_table *t);
/* The value slot of key, or NULL when absent. */
uint32_t *sim_table_find(const struct sim_table *t, uint64_t key);
/* Inserts or overwrites. */
void sim_table_put(struct sim_table *t, uint64_t key, uint32_t val);
/* Removes key; false when it was absent. */
bool sim_table_del(struct sim_table *t, uint64_t key);

/* Number of distinct keys in a trace. */
size_t sim_distinct(const uint64_t *keys, size_t n);

#endif /* HC_BENCH_SIM_H */
