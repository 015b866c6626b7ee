/*
 * Rejection-inversion Zipf sampling; see zipf.h for the reference. H is an integral of
 * h(x) = x^-s chosen so that sampling x by inverting H and rounding gives rank k with
 * probability proportional to h(k) after a cheap acceptance test (almost always passed).
 */
#include "tools/zipf.h"

#include <math.h>

void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += UINT64_C(0x9E3779B97F4A7C15));
		z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
		z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
		r->s[i] = z ^ (z >> 31);
	}
}

/* log1p(x) / x, accurate near 0. */
static double helper1(double x)
{
	if (fabs(x) > 1e-8)
		return log1p(x) / x;
	return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

/* expm1(x) / x, accurate near 0. */
static double helper2(double x)
{
	if (fabs(x) > 1e-8)
		return expm1(x) / x;
	return 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
}

static double h(double s, double x)
{
	return exp(-s * log(x));
}

static double big_h(double s, double x)
{
	double lx = log(x);
	return helper2((1.0 - s) * lx) * lx;
}

static double big_h_inv(double s, double x)
{
	double t = x * (1.0 - s);
	if (t < -1.0)
		t = -1.0; /* rounding could take t past the pole */
	return exp(helper1(t) * x);
}

int zipf_init(struct zipf *z, uint64_t n, double s)
{
	if (n == 0 || !(s >= 0.0))
		return -1;
	z->n = n;
	z->s = s;
	z->h_x1 = big_h(s, 1.5) - 1.0;
	z->h_n = big_h(s, (double)n + 0.5);
	z->accept = 2.0 - big_h_inv(s, big_h(s, 2.5) - h(s, 2.0));
	return 0;
}

uint64_t zipf_next(const struct zipf *z, struct bench_rng *r)
{
	if (z->s == 0.0)
		return bench_rng_below(r, z->n);
	for (;;) {
		double u = z->h_n + bench_rng_double(r) * (z->h_x1 - z->h_n);
		double x = big_h_inv(z->s, u);
		double kd = floor(x + 0.5);
		uint64_t k;
		if (kd < 1.0)
			kd = 1.0;
		else if (kd > (double)z->n)
			kd = (double)z->n;
		k = (uint64_t)kd;
		if (kd - x <= z->accept || u >= big_h(z->s, kd + 0.5) - h(z->s, kd))
			return k - 1;
	}
}
