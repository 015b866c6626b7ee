/*
 * put_loop: a fixed, single-threaded run of cache-only puts, for profilers that count
 * rather than time (valgrind --tool=cachegrind, callgrind, perf stat): the same work
 * every run, so a change's effect on instructions and cache misses per put is read
 * exactly, where a timed benchmark on a shared machine swings by a third.
 *
 *   put_loop [--limit-mib M] [--puts N] [--keys K] [--value BYTES]
 *
 * Defaults: a 64 MiB cache, 1M puts of 64-byte values under 16-byte keys drawn
 * uniformly (tools/zipf.h's generator, fixed seed) from 1.5M keys, so the cache fills within the
 * first third and every later put of a new key installs and evicts. Prints the puts
 * refused and the entries held at the end; exit status 1 if hc_open failed. It times
 * nothing: divide the profiler's counts by --puts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/common.h"
#include "hotcache.h"
#include "tools/zipf.h"

int main(int argc, char **argv)
{
	uint64_t mib = 64, puts = 1000000, keys = 1500000, vlen = 64;
	const char *v;
	for (int i = 1; i < argc; i++) {
		if ((v = bench_opt(argc, argv, &i, "--limit-mib")))
			mib = bench_parse_u64("--limit-mib", v);
		else if ((v = bench_opt(argc, argv, &i, "--puts")))
			puts = bench_parse_u64("--puts", v);
		else if ((v = bench_opt(argc, argv, &i, "--keys")))
			keys = bench_parse_u64("--keys", v);
		else if ((v = bench_opt(argc, argv, &i, "--value")))
			vlen = bench_parse_u64("--value", v);
		else {
			fprintf(stderr, "usage: put_loop [--limit-mib M] [--puts N] [--keys K] "
			                "[--value BYTES]\n");
			return 2;
		}
	}
	if (keys == 0 || vlen > (1u << 20)) {
		fprintf(stderr, "put_loop: --keys must be > 0 and --value at most 1 MiB\n");
		return 2;
	}
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = mib << 20;
	hc_cache *c;
	if (hc_open(&cfg, &c) != 0) {
		fprintf(stderr, "put_loop: hc_open: %s\n", hc_last_error());
		return 1;
	}
	unsigned char key[BENCH_KEY_LEN];
	unsigned char *val = bench_xcalloc(1, vlen ? vlen : 1);
	struct bench_rng rng;
	uint64_t refused = 0;
	bench_rng_seed(&rng, 1);
	for (uint64_t i = 0; i < puts; i++) {
		bench_key16(bench_rng_below(&rng, keys), key);
		memcpy(val, &i, vlen < sizeof i ? vlen : sizeof i);
		refused += hc_put(c, key, sizeof key, val, vlen) != 0;
	}
	struct hc_stats st;
	if (hc_stats(c, &st) == 0)
		printf("put_loop: %llu puts, %llu refused, %llu entries held\n",
		       (unsigned long long)puts, (unsigned long long)refused,
		       (unsigned long long)st.entries);
	hc_close(c);
	free(val);
	return 0;
}
