/*
 * Shared helpers for the bench programs: a monotonic clock, a growing text buffer for
 * the one-line JSON result, resident memory from /proc/self/statm, the cheap 16-byte key
 * that every cache under test gets (hotcache, HyperClockCache, LRUCache alike), and
 * option parsing. Header only (static inline), so each program stays one file plus the
 * generators it uses.
 *
 * Benchmarks print ratios measured side by side in one run; they never assert a time.
 */
#ifndef HC_BENCH_COMMON_H
#define HC_BENCH_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__GNUC__)
#define BENCH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define BENCH_NOINLINE __attribute__((noinline))
#else
#define BENCH_PRINTF(f, a)
#define BENCH_NOINLINE
#endif

/* Worker structs are padded to this so that per-thread counters never share a line. */
#define BENCH_LINE 128

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: what it ran, whatever else shares the machine. */
static inline uint64_t bench_thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void bench_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
	while (nanosleep(&ts, &ts) != 0) {
	}
}

static inline void *bench_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "bench: out of memory (%zu bytes)\n", n);
		exit(2);
	}
	return p;
}

static inline void *bench_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p) {
		fprintf(stderr, "bench: out of memory (%zu x %zu bytes)\n", n, size);
		exit(2);
	}
	return p;
}

/*
 * The 16-byte key of logical key i, the same for every implementation and built inside
 * every timed loop (HyperClockCache requires exactly 16 bytes). One multiply: distinct
 * for distinct i (odd multiplier, a bijection) and spread over the high bytes, so no
 * implementation is handed pre-hashed keys it could exploit or be hurt by.
 */
#define BENCH_KEY_LEN 16
static inline void bench_key16(uint64_t i, unsigned char out[BENCH_KEY_LEN])
{
	uint64_t a = i * UINT64_C(0x9E3779B97F4A7C15);
	uint64_t b = i ^ UINT64_C(0xD6E8FEB86659FD93);
	memcpy(out, &a, 8);
	memcpy(out + 8, &b, 8);
}

/* Resident set size in bytes (second field of /proc/self/statm), 0 if unreadable. */
static inline uint64_t bench_rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long size = 0, resident = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* A growing text buffer: the JSON line is built while results come in. */
struct bench_buf {
	char *s;
	size_t len, cap;
};

static inline BENCH_PRINTF(2, 3) void bench_buf_printf(struct bench_buf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		size_t room = b->cap - b->len;
		int n;
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->s && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s) {
			fprintf(stderr, "bench: out of memory\n");
			exit(2);
		}
	}
}

static inline void bench_buf_free(struct bench_buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* Option parsing: "--name value" or "--name=value". */
static inline const char *bench_opt(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0') {
		if (*i + 1 >= argc) {
			fprintf(stderr, "%s needs a value\n", name);
			exit(2);
		}
		return argv[++*i];
	}
	return NULL;
}

static inline double bench_parse_double(const char *name, const char *v)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end != '\0') {
		fprintf(stderr, "%s: not a number: %s\n", name, v);
		exit(2);
	}
	return d;
}

static inline uint64_t bench_parse_u64(const char *name, const char *v)
{
	char *end;
	unsigned long long u = strtoull(v, &end, 0);
	if (end == v || *end != '\0') {
		fprintf(stderr, "%s: not an integer: %s\n", name, v);
		exit(2);
	}
	return (uint64_t)u;
}

/* Parses "1,2,8" into out (at most max values); returns the count. */
static inline size_t bench_parse_list(const char *name, const char *v, double *out, size_t max)
{
	size_t n = 0;
	char *copy = strdup(v), *save = NULL, *tok;
	if (!copy)
		exit(2);
	for (tok = strtok_r(copy, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save))
		out[n++] = bench_parse_double(name, tok);
	free(copy);
	return n;
}

#endif /* HC_BENCH_COMMON_H */
