/* Log-bucketed histograms; see hist.h for the layout and the threading rules. */
#include "tools/hist.h"

#include <string.h>

#define LD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

/* Bucket of v: values below HIST_SUB map to themselves; above, (exponent, top bits). */
static unsigned bucket_of(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - HIST_SUB_BITS;
	unsigned sub = (unsigned)(v >> shift) & (HIST_SUB - 1u);
	return (shift + 1u) * HIST_SUB + sub;
}

uint64_t hist_bucket_low(unsigned i)
{
	if (i < HIST_SUB)
		return i;
	unsigned shift = i / HIST_SUB - 1u;
	uint64_t sub = i % HIST_SUB;
	return (HIST_SUB + sub) << shift;
}

uint64_t hist_bucket_high(unsigned i)
{
	if (i + 1u >= HIST_BUCKETS)
		return UINT64_MAX;
	return hist_bucket_low(i + 1u) - 1u;
}

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void hist_record(struct hist *h, uint64_t v)
{
	unsigned i = bucket_of(v);
	ST(h->b[i], LD(h->b[i]) + 1u);
	ST(h->sum, LD(h->sum) + v);
	if (v > LD(h->max))
		ST(h->max, v);
	/* count last: a reader that sees it sees at most that many bucket entries missing */
	ST(h->count, LD(h->count) + 1u);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		uint64_t n = LD(src->b[i]);
		if (n != 0)
			ST(dst->b[i], LD(dst->b[i]) + n);
	}
	ST(dst->count, LD(dst->count) + LD(src->count));
	ST(dst->sum, LD(dst->sum) + LD(src->sum));
	if (LD(src->max) > LD(dst->max))
		ST(dst->max, LD(src->max));
}

void hist_diff(struct hist *dst, const struct hist *a, const struct hist *b)
{
	uint64_t n = 0, top = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		uint64_t x = LD(a->b[i]), y = LD(b->b[i]);
		uint64_t d = x > y ? x - y : 0;
		ST(dst->b[i], d);
		n += d;
		if (d != 0)
			top = i;
	}
	ST(dst->count, n);
	uint64_t sa = LD(a->sum), sb = LD(b->sum);
	ST(dst->sum, sa > sb ? sa - sb : 0);
	/* The interval's max is not kept: the highest non-empty bucket's edge, capped. */
	uint64_t m = n ? hist_bucket_high(top) : 0;
	ST(dst->max, m < LD(a->max) ? m : LD(a->max));
}

uint64_t hist_percentile(const struct hist *h, double q)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		total += LD(h->b[i]);
	if (total == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	uint64_t rank = (uint64_t)(q * (double)total + 0.999999);
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0, max = LD(h->max);
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += LD(h->b[i]);
		if (seen >= rank) {
			uint64_t v = hist_bucket_high(i);
			return v < max ? v : max;
		}
	}
	return max;
}

uint64_t hist_count(const struct hist *h)
{
	return LD(h->count);
}

uint64_t hist_max(const struct hist *h)
{
	return LD(h->max);
}

double hist_mean(const struct hist *h)
{
	uint64_t n = LD(h->count);
	return n ? (double)LD(h->sum) / (double)n : 0.0;
}

uint64_t hist_bucket_count(const struct hist *h, unsigned i)
{
	return i < HIST_BUCKETS ? LD(h->b[i]) : 0;
}
