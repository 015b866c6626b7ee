/*
 * keri/threshold.c: signing thresholds (keripy's Tholder), exact.
 *
 * Numeric: a hex string ("2") or a JSON integer (the "intive" form, decimal), met by
 * that many distinct signing indices. Weighted: a list of fraction strings ("1/2",
 * "1", "0"), or a list of such lists (clauses, ANDed). Clause c covers the next
 * clause_len[c] indices; it is met when the weights of its signed indices sum to at
 * least 1. Sums are done over the clause's least common denominator L with integer
 * numerators: each term is at most L and there are at most 32, so with L <= 2^58 no
 * sum can overflow 64 bits. A clause whose L exceeds that is refused when the
 * threshold is checked, so satisfaction never has to approximate. Nested weight maps
 * (keripy's {"1/2": [...]}) are refused as unsupported.
 *
 * Stricter than keripy, on purpose (issue 10 rule 11): keripy's weights are Python
 * Fractions of any size, and its weight() also reads "1.0", "01/2" or " 1/2". Here a
 * numerator or denominator has at most 10 digits (below 2^32) and a clause's common
 * denominator at most 2^58, so every sum is exact in 64 bits without a bignum; real
 * thresholds use denominators of a few units. A larger one is an explicit
 * KERI_ETHRESHOLD, never an approximated decision.
 */
#include <stdio.h>
#include <string.h>

#include "keri/keri.h"

#define LCM_MAX (UINT64_C(1) << 58)

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Decimal without leading zeros in s[0..n), < 2^32; -1 if malformed. */
static int64_t dec(const uint8_t *s, size_t n)
{
	uint64_t v = 0;
	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v > UINT32_MAX ? -1 : (int64_t)v;
}

static int weight(const uint8_t *s, size_t n, uint32_t *wn, uint32_t *wd)
{
	const uint8_t *slash = memchr(s, '/', n);
	int64_t a, b = 1;
	if (slash) {
		a = dec(s, (size_t)(slash - s));
		b = dec(slash + 1, n - (size_t)(slash - s) - 1);
	} else {
		a = dec(s, n);
	}
	if (a < 0 || b <= 0 || a > b)
		return -1;
	uint64_t g = gcd((uint64_t)a, (uint64_t)b);
	if (a == 0)
		g = (uint64_t)b;
	*wn = (uint32_t)((uint64_t)a / g);
	*wd = (uint32_t)((uint64_t)b / g);
	return 0;
}

static int clause(struct keri_json *j, struct keri_tholder *t, const char *what, char *why,
                  size_t whylen)
{
	int rc = keri_json_expect(j, '[', "opening a weight clause", why, whylen);
	if (rc)
		return rc;
	if (t->nclauses >= KERI_MAX_KEYS)
		return keri_fail(why, whylen, KERI_ELIMIT, "limit: %s has too many clauses", what);
	uint8_t len = 0;
	for (;;) {
		size_t off, sl;
		if (j->pos < j->len && j->b[j->pos] != '"')
			return keri_fail(why, whylen, KERI_ETHRESHOLD,
			                 "threshold %s: weights must be fraction strings", what);
		if ((rc = keri_json_string(j, &off, &sl, why, whylen)))
			return rc;
		if (t->size >= KERI_MAX_KEYS)
			return keri_fail(why, whylen, KERI_ELIMIT, "limit: %s has more than %d weights",
			                 what, KERI_MAX_KEYS);
		if (weight(j->b + off, sl, &t->wn[t->size], &t->wd[t->size]))
			return keri_fail(why, whylen, KERI_ETHRESHOLD,
			                 "threshold %s: weight \"%.*s\" is not a fraction in [0,1]",
			                 what, (int)(sl > 24 ? 24 : sl), (const char *)j->b + off);
		t->size++;
		len++;
		if (j->pos < j->len && j->b[j->pos] == ',') {
			j->pos++;
			continue;
		}
		break;
	}
	t->clause_len[t->nclauses++] = len;
	return keri_json_expect(j, ']', "closing a weight clause", why, whylen);
}

int keri_tholder_parse(struct keri_json *j, struct keri_tholder *t, const char *what,
                       char *why, size_t whylen)
{
	memset(t, 0, sizeof(*t));
	if (j->pos >= j->len)
		return keri_fail(why, whylen, KERI_ESIZE, "JSON: event ends inside %s", what);
	uint8_t c = j->b[j->pos];
	if (c == '"') {
		size_t off, sl;
		int rc = keri_json_string(j, &off, &sl, why, whylen);
		if (rc)
			return rc;
		const uint8_t *s = j->b + off;
		if (sl == 0 || sl > 16 || (sl > 1 && s[0] == '0'))
			return keri_fail(why, whylen, KERI_ETHRESHOLD,
			                 "threshold %s: not canonical lowercase hex", what);
		for (size_t i = 0; i < sl; i++) {
			int v = (s[i] >= '0' && s[i] <= '9') ? s[i] - '0'
			        : (s[i] >= 'a' && s[i] <= 'f') ? s[i] - 'a' + 10 : -1;
			if (v < 0)
				return keri_fail(why, whylen, KERI_ETHRESHOLD,
				                 "threshold %s: not canonical lowercase hex", what);
			t->num = t->num * 16 + (uint64_t)v;
		}
		return KERI_OK;
	}
	if (c >= '0' && c <= '9') {
		size_t s = j->pos;
		while (j->pos < j->len && j->b[j->pos] >= '0' && j->b[j->pos] <= '9')
			j->pos++;
		int64_t v = dec(j->b + s, j->pos - s);
		if (v < 0)
			return keri_fail(why, whylen, KERI_ETHRESHOLD,
			                 "threshold %s: integer malformed or too large", what);
		t->num = (uint64_t)v;
		return KERI_OK;
	}
	if (c != '[')
		return keri_fail(why, whylen, KERI_ETHRESHOLD,
		                 "threshold %s: must be a hex string, an integer or a list of "
		                 "weights", what);
	t->weighted = 1;
	if (j->pos + 1 < j->len && j->b[j->pos + 1] == '"')
		return clause(j, t, what, why, whylen);
	if (j->pos + 1 < j->len && j->b[j->pos + 1] != '[')
		return keri_fail(why, whylen, KERI_ETHRESHOLD,
		                 "threshold %s: a weighted threshold is a non-empty list of weight "
		                 "strings or of weight lists (weight maps are unsupported)", what);
	j->pos++;
	for (;;) {
		int rc = clause(j, t, what, why, whylen);
		if (rc)
			return rc;
		if (j->pos < j->len && j->b[j->pos] == ',') {
			j->pos++;
			if (j->pos < j->len && j->b[j->pos] != '[')
				return keri_fail(why, whylen, KERI_ETHRESHOLD,
				                 "threshold %s: clauses must all be lists", what);
			continue;
		}
		return keri_json_expect(j, ']', "closing a weighted threshold", why, whylen);
	}
}

/* LCM of the denominators of weights [from, from+n), or 0 past LCM_MAX. */
static uint64_t clause_lcm(const struct keri_tholder *t, unsigned from, unsigned n)
{
	uint64_t l = 1;
	for (unsigned i = from; i < from + n; i++) {
		uint64_t d = t->wd[i], g = gcd(l, d);
		if (d == 0 || l / g > LCM_MAX / d)
			return 0;
		l = l / g * d;
	}
	return l;
}

static uint64_t clause_sum(const struct keri_tholder *t, unsigned from, unsigned n,
                           uint64_t l, uint32_t have)
{
	uint64_t sum = 0;
	for (unsigned i = from; i < from + n; i++)
		if (have & (UINT32_C(1) << i))
			sum += (uint64_t)t->wn[i] * (l / t->wd[i]);
	return sum;
}

int keri_tholder_check(const struct keri_tholder *t, unsigned count, int is_next,
                       const char *what, char *why, size_t whylen)
{
	/* keripy's Kever checks kt against k, but nt against nothing: an nt that n cannot
	 * meet is accepted and leaves an identifier no rotation can satisfy. */
	if (!t->weighted) {
		if (is_next)
			return KERI_OK;
		if (t->num < 1 || t->num > count)
			return keri_fail(why, whylen, KERI_ETHRESHOLD,
			                 "threshold %s = %llu: must be in 1..%u (the list size)", what,
			                 (unsigned long long)t->num, count);
		return KERI_OK;
	}
	if (!is_next && (count == 0 || t->size > count))
		return keri_fail(why, whylen, KERI_ETHRESHOLD,
		                 "threshold %s: %u weights for a list of %u", what, t->size, count);
	unsigned from = 0;
	for (unsigned c = 0; c < t->nclauses; c++) {
		uint64_t l = clause_lcm(t, from, t->clause_len[c]);
		if (!l)
			return keri_fail(why, whylen, KERI_ETHRESHOLD,
			                 "threshold %s: clause %u denominators too large to sum "
			                 "exactly", what, c);
		if (clause_sum(t, from, t->clause_len[c], l, UINT32_MAX) < l)
			return keri_fail(why, whylen, KERI_ETHRESHOLD,
			                 "threshold %s: clause %u can never be met (weights sum "
			                 "below 1)", what, c);
		from += t->clause_len[c];
	}
	return KERI_OK;
}

int keri_tholder_satisfied(const struct keri_tholder *t, uint32_t have)
{
	if (!t->weighted) /* keripy: thold > 0 and len(indices) >= thold */
		return t->num > 0 && (uint64_t)__builtin_popcount(have) >= t->num;
	/* keripy's _satisfy_weighted marks sats[idx] in a list of size entries: an index
	 * beyond the weights raises there and the whole threshold is unmet. */
	if (t->size < 32 && (have >> t->size) != 0)
		return 0;
	unsigned from = 0;
	for (unsigned c = 0; c < t->nclauses; c++) {
		uint64_t l = clause_lcm(t, from, t->clause_len[c]);
		if (!l || clause_sum(t, from, t->clause_len[c], l, have) < l)
			return 0;
		from += t->clause_len[c];
	}
	return 1;
}

int keri_tholder_json(const struct keri_tholder *t, char *buf, size_t cap)
{
	size_t o = 0;
	int n;
#define PUT(...)                                                                   \
	do {                                                                       \
		n = snprintf(o < cap ? buf + o : NULL, o < cap ? cap - o : 0, __VA_ARGS__);         \
		if (n < 0)                                                         \
			return -1;                                                 \
		o += (size_t)n;                                                    \
	} while (0)
	if (!t->weighted) {
		PUT("\"%llx\"", (unsigned long long)t->num);
		return o < cap ? (int)o : -1;
	}
	unsigned i = 0;
	if (t->nclauses > 1)
		PUT("[");
	for (unsigned c = 0; c < t->nclauses; c++) {
		PUT("%s[", c ? "," : "");
		for (unsigned k = 0; k < t->clause_len[c]; k++, i++) {
			if (t->wd[i] == 1)
				PUT("%s\"%u\"", k ? "," : "", t->wn[i]);
			else
				PUT("%s\"%u/%u\"", k ? "," : "", t->wn[i], t->wd[i]);
		}
		PUT("]");
	}
	if (t->nclauses > 1)
		PUT("]");
#undef PUT
	return o < cap ? (int)o : -1;
}
