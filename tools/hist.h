/*
 * Log-bucketed latency histograms for `hotcache load` (HdrHistogram's layout, fixed
 * size, no allocation): values in nanoseconds; below 2^HIST_SUB_BITS every value has
 * its own bucket, above that each power of two is split into 2^HIST_SUB_BITS linear
 * sub-buckets, so a percentile read back is within 1/2^HIST_SUB_BITS (3.1%) of the
 * recorded value. The exact maximum and sum are kept beside the buckets.
 *
 * Threads: one writer per histogram (its worker thread) and any number of readers.
 * The writer updates each counter with a relaxed load and a relaxed store (no
 * read-modify-write: nobody else writes), readers load relaxed; a reader's snapshot is
 * therefore not an atomic cut, only each counter is exact, which is what a once-a-second
 * status line needs. hist_merge/hist_percentile on private copies need no atomics at all
 * but use the same accessors.
 */
#ifndef HC_TOOLS_HIST_H
#define HC_TOOLS_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
/* Powers of two from 2^HIST_SUB_BITS to 2^63: enough for any uint64_t. */
#define HIST_BUCKETS ((64u - HIST_SUB_BITS + 1u) * HIST_SUB)

struct hist {
	_Atomic uint64_t count, sum, max;
	_Atomic uint64_t b[HIST_BUCKETS];
};

/* Zeroes h. Not concurrently with anything on h. */
void hist_reset(struct hist *h);
/* Records one value. Only h's writer thread. Wait-free. */
void hist_record(struct hist *h, uint64_t v);
/* dst += src (counts, sums; max of maxima). dst private to the caller; src any. */
void hist_merge(struct hist *dst, const struct hist *src);
/* dst = a - b for cumulative snapshots (b taken earlier from the same series). */
void hist_diff(struct hist *dst, const struct hist *a, const struct hist *b);
/*
 * The value at quantile q in [0, 1] (the upper edge of the bucket holding the
 * ceil(q * count)-th value, capped at the recorded max); 0 for an empty histogram.
 */
uint64_t hist_percentile(const struct hist *h, double q);
uint64_t hist_count(const struct hist *h);
uint64_t hist_max(const struct hist *h);
double hist_mean(const struct hist *h);
/* Bucket i's lowest value and its highest (inclusive). */
uint64_t hist_bucket_low(unsigned i);
uint64_t hist_bucket_high(unsigned i);
uint64_t hist_bucket_count(const struct hist *h, unsigned i);

#endif
