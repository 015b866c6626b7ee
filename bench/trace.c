/* Trace generators for bench/hitratio; see trace.h. */
#include "bench/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/sim.h"
#include "tools/zipf.h"

/* Scan keys live above every generated Zipf/loop/shift key. */
#define SCAN_BASE (UINT64_C(1) << 40)

static uint64_t *alloc_keys(size_t n)
{
	uint64_t *k = malloc((n ? n : 1) * sizeof *k);
	if (k == NULL) {
		fprintf(stderr, "trace: out of memory\n");
		exit(2);
	}
	return k;
}

void trace_zipf(struct trace *t, double s, size_t universe, size_t n, uint64_t seed)
{
	struct zipf z;
	struct bench_rng r;
	zipf_init(&z, universe, s);
	bench_rng_seed(&r, seed);
	snprintf(t->name, sizeof t->name, "zipf%g", s);
	t->keys = alloc_keys(n);
	t->n = n;
	t->universe = universe;
	t->scan = false;
	for (size_t i = 0; i < n; i++)
		t->keys[i] = zipf_next(&z, &r);
}

void trace_zipf_scan(struct trace *t, double s, size_t universe, size_t n, size_t every,
                     size_t scan_min, size_t scan_max, uint64_t seed)
{
	struct zipf z;
	struct bench_rng r;
	size_t cap = n + (n / every + 1) * scan_max, len = 0;
	uint64_t next_scan = SCAN_BASE;
	zipf_init(&z, universe, s);
	bench_rng_seed(&r, seed);
	snprintf(t->name, sizeof t->name, "zipf%g+scan", s);
	t->keys = alloc_keys(cap);
	t->universe = universe;
	t->scan = true;
	for (size_t i = 0; i < n; i++) {
		t->keys[len++] = zipf_next(&z, &r);
		if ((i + 1) % every == 0) {
			size_t scan = scan_min + bench_rng_below(&r, scan_max - scan_min + 1);
			for (size_t j = 0; j < scan; j++)
				t->keys[len++] = next_scan++;
		}
	}
	t->n = len;
}

void trace_loop(struct trace *t, size_t len, size_t n)
{
	snprintf(t->name, sizeof t->name, "loop%zu", len);
	t->keys = alloc_keys(n);
	t->n = n;
	t->universe = len;
	t->scan = false;
	for (size_t i = 0; i < n; i++)
		t->keys[i] = i % len;
}

void trace_zigzag(struct trace *t, size_t len, size_t n)
{
	snprintf(t->name, sizeof t->name, "zigzag%zu", len);
	t->keys = alloc_keys(n);
	t->n = n;
	t->universe = len;
	t->scan = false;
	for (size_t i = 0; i < n; i++) {
		size_t lap = i / len, pos = i % len;
		t->keys[i] = lap % 2 ? len - 1 - pos : pos;
	}
}

/* Loop keys sit above the Zipf pool's ranks, scan keys above both (SCAN_BASE). */
void trace_mix(struct trace *t, double s, size_t zipf_keys, size_t loop_keys, double w_zipf,
               double w_loop, size_t n, uint64_t seed)
{
	struct zipf z;
	struct bench_rng r;
	uint64_t next_scan = SCAN_BASE;
	size_t pos = 0;
	zipf_init(&z, zipf_keys, s);
	bench_rng_seed(&r, seed);
	snprintf(t->name, sizeof t->name, "mix%g/%g", w_zipf, w_loop);
	t->keys = alloc_keys(n);
	t->n = n;
	t->universe = zipf_keys + loop_keys;
	t->scan = false; /* one-time keys, but not the +5 target of the zipf scan mixes */
	for (size_t i = 0; i < n; i++) {
		double u = bench_rng_double(&r);
		if (u < w_zipf) {
			t->keys[i] = zipf_next(&z, &r);
		} else if (u < w_zipf + w_loop) {
			t->keys[i] = zipf_keys + pos;
			pos = pos + 1 == loop_keys ? 0 : pos + 1;
		} else {
			t->keys[i] = next_scan++;
		}
	}
}

void trace_shift(struct trace *t, size_t universe, double hot_frac, double hot_prob,
                 size_t phase, size_t n, uint64_t seed)
{
	struct bench_rng r;
	size_t hot = (size_t)((double)universe * hot_frac), base = 0;
	if (hot == 0)
		hot = 1;
	bench_rng_seed(&r, seed);
	snprintf(t->name, sizeof t->name, "shift%g%%", hot_frac * 100);
	t->keys = alloc_keys(n);
	t->n = n;
	t->universe = universe;
	t->scan = false;
	for (size_t i = 0; i < n; i++) {
		if (i % phase == 0)
			base = bench_rng_below(&r, universe); /* a fresh hot window */
		if (bench_rng_double(&r) < hot_prob)
			t->keys[i] = (base + bench_rng_below(&r, hot)) % universe;
		else
			t->keys[i] = bench_rng_below(&r, universe);
	}
}

/* FNV-1a, 64 bits: trace keys only need to be distinct, not secret. */
static uint64_t hash_line(const char *s, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h == SIM_EMPTY ? h - 1 : h;
}

int trace_load(struct trace *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t lcap = 0, cap = 1 << 20, n = 0;
	ssize_t len;
	const char *base = strrchr(path, '/');
	if (f == NULL) {
		perror(path);
		return -1;
	}
	t->keys = alloc_keys(cap);
	while ((len = getline(&line, &lcap, f)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		if (n == cap) {
			cap *= 2;
			t->keys = realloc(t->keys, cap * sizeof *t->keys);
			if (t->keys == NULL) {
				fprintf(stderr, "trace: out of memory\n");
				exit(2);
			}
		}
		t->keys[n++] = hash_line(line, (size_t)len);
	}
	free(line);
	fclose(f);
	if (n == 0 || n >= SIM_NEVER) {
		fprintf(stderr, "%s: %s\n", path, n ? "too many requests" : "no keys");
		free(t->keys);
		t->keys = NULL;
		return -1;
	}
	snprintf(t->name, sizeof t->name, "file:%s", base ? base + 1 : path);
	t->n = n;
	t->universe = sim_distinct(t->keys, n);
	t->scan = false;
	return 0;
}

void trace_free(struct trace *t)
{
	free(t->keys);
	t->keys = NULL;
	t->n = 0;
}
