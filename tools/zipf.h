/*
 * Random numbers and a Zipf generator for `hotcache load` (tools/load.c) and the
 * benchmarks (cache_bench, hitratio, memory_bench), which borrow it from here.
 *
 * bench_rng is xoshiro256** seeded through splitmix64: fast, good enough for workload
 * generation, reproducible from one 64-bit seed.
 *
 * zipf_next() returns a rank in [0, n): rank 0 is the most popular, with probability
 * proportional to 1 / (rank + 1)^s. It uses rejection-inversion sampling (W. Hörmann and
 * G. Derflinger, "Rejection-inversion to generate variates from monotone discrete
 * distributions", 1996), as in Apache Commons RNG: O(1) per sample, no table, exact for
 * every s > 0 (including s = 1 and s > 1). s = 0 gives the uniform distribution.
 * Callers that want the popular keys scattered over the key space map ranks through a
 * permutation or a hash; the caches under test hash the keys themselves.
 */
#ifndef HC_TOOLS_ZIPF_H
#define HC_TOOLS_ZIPF_H

#include <stdint.h>

struct bench_rng {
	uint64_t s[4];
};

void bench_rng_seed(struct bench_rng *r, uint64_t seed);

static inline uint64_t bench_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t bench_rng_next(struct bench_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = bench_rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = bench_rng_rotl(s[3], 45);
	return out;
}

/* Uniform in [0, 1). */
static inline double bench_rng_double(struct bench_rng *r)
{
	return (double)(bench_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; the bias is below 2^-32 here). */
static inline uint64_t bench_rng_below(struct bench_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)bench_rng_next(r) * n) >> 64);
}

struct zipf {
	uint64_t n;
	double s;
	double h_x1;   /* H(1.5) - 1 */
	double h_n;    /* H(n + 0.5) */
	double accept; /* 2 - H^-1(H(2.5) - h(2)) */
};

/* n >= 1, s >= 0. Returns 0, or -1 for bad arguments. */
int zipf_init(struct zipf *z, uint64_t n, double s);
/* A rank in [0, n). Thread-safe for distinct rngs (z is read only). */
uint64_t zipf_next(const struct zipf *z, struct bench_rng *r);

#endif /* HC_TOOLS_ZIPF_H */
