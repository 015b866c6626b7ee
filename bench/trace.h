/*
 * Request traces for bench/hitratio: arrays of 64-bit keys (never SIM_EMPTY).
 *
 *   zipf      n requests, Zipf(s) over `universe` keys (rank r is key r).
 *   zipf_scan the same, and after every `every` Zipf requests a sequential scan of
 *             scan_min..scan_max (uniform) one-time keys, never requested again.
 *   loop      0, 1, ..., len-1, 0, 1, ... for n requests.
 *   zigzag    0, 1, ..., len-1, len-1, ..., 1, 0, 0, 1, ... (forward then backward
 *             sweeps) for n requests.
 *   shift     a hot set of hot_frac * universe keys gets hot_prob of the requests
 *             (uniform inside it), the rest are uniform over the universe; the hot set
 *             moves to fresh keys every `phase` requests.
 *   mix       three pools interleaved, each request drawn from one at random with
 *             weights w_zipf, w_loop and the rest: a Zipf(s) pool of zipf_keys keys, a
 *             loop pool of loop_keys keys walked in order, and one-time scan keys
 *             (never requested again); universe = zipf_keys + loop_keys.
 *   load      a file, one key per line (any text; lines are hashed to 64 bits).
 */
#ifndef HC_BENCH_TRACE_H
#define HC_BENCH_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trace {
	char name[64];
	uint64_t *keys;
	size_t n;
	size_t universe; /* the keys cache sizes are a fraction of (scan keys not counted) */
	bool scan;       /* one-time scans mixed in */
};

void trace_zipf(struct trace *t, double s, size_t universe, size_t n, uint64_t seed);
void trace_zipf_scan(struct trace *t, double s, size_t universe, size_t n, size_t every,
                     size_t scan_min, size_t scan_max, uint64_t seed);
void trace_loop(struct trace *t, size_t len, size_t n);
void trace_zigzag(struct trace *t, size_t len, size_t n);
void trace_mix(struct trace *t, double s, size_t zipf_keys, size_t loop_keys, double w_zipf,
               double w_loop, size_t n, uint64_t seed);
void trace_shift(struct trace *t, size_t universe, double hot_frac, double hot_prob,
                 size_t phase, size_t n, uint64_t seed);
/* 0, or -1 with a message on stderr. */
int trace_load(struct trace *t, const char *path);
void trace_free(struct trace *t);

#endif /* HC_BENCH_TRACE_H */
