/*
 * keri/state_codec.c: a key state at rest.
 *
 * Layout (integers little-endian):
 *   "KST2" | et u8 | nc u8 | c[nc] u8 | sn u64 | fn u64 | ee_sn u64 | bt u32 |
 *   pre 44 | d 44 | has_p u8 [p 44] | ee_d 44 | kt | nt |
 *   nk u8 k[nk]*44 | nn u8 n[nn]*44 | nb u8 b[nb]*44 | nbr u8 br*44 | nba u8 ba*44 |
 *   has_di u8 [di 44] |
 *   BLAKE2b-128 of everything before it
 *   threshold: weighted u8; numeric: num u64; weighted: nclauses u8, clause_len[],
 *              then (wn u32, wd u32) per weight.
 * Decoding checks the checksum first (random corruption), then re-validates every
 * field as keri_apply would have (codes, pad bits, counts, reduced fractions,
 * thresholds against list sizes, bt bounds), and requires the input to end exactly
 * after the checksum. Every accepted format-2 input re-encodes to the same bytes.
 *
 * Format 1 ("KST1", written before delegation was supported) is the same without
 * has_di/di, and its et is icp, rot or ixn only: it still decodes (to a state with no
 * delegator) and re-encodes as format 2. The fourth byte of the magic is the format.
 */
#include <string.h>

#include <sodium.h>

#include "keri/keri.h"

#define SUM_LEN 16

struct wr {
	uint8_t *b;
	size_t cap, len;
};

static void w(struct wr *o, const void *p, size_t n)
{
	if (o->len + n <= o->cap)
		memcpy(o->b + o->len, p, n);
	o->len += n;
}

static void w8(struct wr *o, unsigned v)
{
	uint8_t b = (uint8_t)v;
	w(o, &b, 1);
}

static void wle(struct wr *o, uint64_t v, int n)
{
	uint8_t b[8];
	for (int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	w(o, b, (size_t)n);
}

static void wtholder(struct wr *o, const struct keri_tholder *t)
{
	w8(o, t->weighted);
	if (!t->weighted) {
		wle(o, t->num, 8);
		return;
	}
	w8(o, t->nclauses);
	w(o, t->clause_len, t->nclauses);
	for (unsigned i = 0; i < t->size; i++) {
		wle(o, t->wn[i], 4);
		wle(o, t->wd[i], 4);
	}
}

static void wlist(struct wr *o, const char (*l)[KERI_QB64 + 1], unsigned n)
{
	w8(o, n);
	for (unsigned i = 0; i < n; i++)
		w(o, l[i], KERI_QB64);
}

int keri_state_encode(const struct keri_state *st, uint8_t *buf, size_t cap, size_t *len)
{
	struct wr o = {buf, buf ? cap : 0, 0};
	if (!st || !len || st->nk > KERI_MAX_KEYS || st->nn > KERI_MAX_KEYS ||
	    st->nb > KERI_MAX_WITS || st->nc > KERI_MAX_TRAITS || st->ee_nbr > KERI_MAX_WITS ||
	    st->ee_nba > KERI_MAX_WITS || st->kt.size > KERI_MAX_KEYS ||
	    st->nt.size > KERI_MAX_KEYS || st->kt.nclauses > KERI_MAX_KEYS ||
	    st->nt.nclauses > KERI_MAX_KEYS)
		return KERI_EINVAL;
	w(&o, "KST2", 4);
	w8(&o, st->et);
	w8(&o, st->nc);
	w(&o, st->c, st->nc);
	wle(&o, st->sn, 8);
	wle(&o, st->fn, 8);
	wle(&o, st->ee_sn, 8);
	wle(&o, st->bt, 4);
	w(&o, st->pre, KERI_QB64);
	w(&o, st->d, KERI_QB64);
	w8(&o, st->p[0] != 0);
	if (st->p[0])
		w(&o, st->p, KERI_QB64);
	w(&o, st->ee_d, KERI_QB64);
	wtholder(&o, &st->kt);
	wtholder(&o, &st->nt);
	wlist(&o, st->k, st->nk);
	wlist(&o, st->n, st->nn);
	wlist(&o, st->b, st->nb);
	wlist(&o, st->ee_br, st->ee_nbr);
	wlist(&o, st->ee_ba, st->ee_nba);
	w8(&o, st->di[0] != 0);
	if (st->di[0])
		w(&o, st->di, KERI_QB64);
	*len = o.len + SUM_LEN;
	if (*len > o.cap)
		return KERI_ERANGE;
	crypto_generichash(buf + o.len, SUM_LEN, buf, o.len, NULL, 0);
	return KERI_OK;
}

struct rd {
	const uint8_t *b;
	size_t len, pos;
	int bad;
};

static const uint8_t *r(struct rd *i, size_t n)
{
	if (i->bad || i->len - i->pos < n) {
		i->bad = 1;
		return NULL;
	}
	i->pos += n;
	return i->b + i->pos - n;
}

static unsigned r8(struct rd *i)
{
	const uint8_t *p = r(i, 1);
	return p ? p[0] : 0;
}

static uint64_t rle(struct rd *i, int n)
{
	const uint8_t *p = r(i, (size_t)n);
	uint64_t v = 0;
	for (int k = n - 1; p && k >= 0; k--)
		v = (v << 8) | p[k];
	return v;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static int rqb64(struct rd *i, char *out, const char *codes)
{
	const uint8_t *p = r(i, KERI_QB64);
	if (!p || keri_qb64_check((const char *)p, KERI_QB64, codes, "", NULL, 0))
		return i->bad = 1, -1;
	memcpy(out, p, KERI_QB64);
	out[KERI_QB64] = 0;
	return 0;
}

static int rlist(struct rd *i, char (*l)[KERI_QB64 + 1], uint8_t *n, unsigned max,
                 const char *codes)
{
	*n = (uint8_t)r8(i);
	if (*n > max)
		return i->bad = 1, -1;
	for (unsigned k = 0; k < *n; k++)
		if (rqb64(i, l[k], codes))
			return -1;
	return 0;
}

static int rtholder(struct rd *i, struct keri_tholder *t)
{
	t->weighted = (uint8_t)r8(i);
	if (t->weighted > 1)
		return i->bad = 1, -1;
	if (!t->weighted) {
		t->num = rle(i, 8);
		return 0;
	}
	t->nclauses = (uint8_t)r8(i);
	if (t->nclauses < 1 || t->nclauses > KERI_MAX_KEYS)
		return i->bad = 1, -1;
	unsigned size = 0;
	for (unsigned c = 0; c < t->nclauses; c++) {
		t->clause_len[c] = (uint8_t)r8(i);
		if (t->clause_len[c] == 0)
			return i->bad = 1, -1;
		size += t->clause_len[c];
	}
	if (size > KERI_MAX_KEYS)
		return i->bad = 1, -1;
	t->size = (uint8_t)size;
	for (unsigned k = 0; k < size; k++) {
		t->wn[k] = (uint32_t)rle(i, 4);
		t->wd[k] = (uint32_t)rle(i, 4);
		if (t->wd[k] == 0 || t->wn[k] > t->wd[k] ||
		    (t->wn[k] == 0 ? t->wd[k] != 1 : gcd(t->wn[k], t->wd[k]) != 1))
			return i->bad = 1, -1;
	}
	return i->bad ? -1 : 0;
}

static int fail(struct keri_state *st, char *why, size_t whylen, const char *what)
{
	memset(st, 0, sizeof(*st));
	return keri_fail(why, whylen, KERI_ESTATE, "stored key state: %s", what);
}

int keri_state_decode(const uint8_t *buf, size_t len, struct keri_state *st, char *why,
                      size_t whylen)
{
	uint8_t sum[SUM_LEN];
	if (!st)
		return KERI_EINVAL;
	memset(st, 0, sizeof(*st));
	if (!buf || len < 4 + SUM_LEN || memcmp(buf, "KST", 3) != 0 ||
	    (buf[3] != '1' && buf[3] != '2'))
		return fail(st, why, whylen, "not a KST1 or KST2 record");
	int v2 = buf[3] == '2';
	crypto_generichash(sum, SUM_LEN, buf, len - SUM_LEN, NULL, 0);
	if (sodium_memcmp(sum, buf + len - SUM_LEN, SUM_LEN) != 0)
		return fail(st, why, whylen, "checksum mismatch (corrupt record)");
	struct rd i = {buf, len - SUM_LEN, 4, 0};
	st->et = (uint8_t)r8(&i);
	st->nc = (uint8_t)r8(&i);
	if (st->et < KERI_ILK_ICP || st->et > (v2 ? KERI_ILK_DRT : KERI_ILK_IXN) ||
	    st->nc > KERI_MAX_TRAITS)
		return fail(st, why, whylen, "bad ilk or trait count");
	const uint8_t *c = r(&i, st->nc);
	for (unsigned k = 0; c && k < st->nc; k++) {
		if (c[k] < KERI_TRAIT_EO || c[k] > KERI_TRAIT_NB || memchr(c, c[k], k))
			return fail(st, why, whylen, "bad config trait");
		st->c[k] = c[k];
	}
	st->sn = rle(&i, 8);
	st->fn = rle(&i, 8);
	st->ee_sn = rle(&i, 8);
	uint64_t bt = rle(&i, 4);
	st->bt = (uint32_t)bt;
	rqb64(&i, st->pre, "BDEFI");
	rqb64(&i, st->d, "EFI");
	unsigned has_p = r8(&i);
	if (has_p > 1 || (has_p == 0) != (st->sn == 0))
		return fail(st, why, whylen, "p present iff sn > 0");
	if (has_p)
		rqb64(&i, st->p, "EFI");
	rqb64(&i, st->ee_d, "EFI");
	rtholder(&i, &st->kt);
	rtholder(&i, &st->nt);
	rlist(&i, st->k, &st->nk, KERI_MAX_KEYS, "BD");
	rlist(&i, st->n, &st->nn, KERI_MAX_KEYS, "EFI");
	rlist(&i, st->b, &st->nb, KERI_MAX_WITS, "BD");
	rlist(&i, st->ee_br, &st->ee_nbr, KERI_MAX_WITS, "BD");
	rlist(&i, st->ee_ba, &st->ee_nba, KERI_MAX_WITS, "BD");
	unsigned has_di = v2 ? r8(&i) : 0;
	if (has_di > 1)
		return fail(st, why, whylen, "bad has_di");
	if (has_di)
		rqb64(&i, st->di, "BDEFI");
	if (i.bad || i.pos != i.len)
		return fail(st, why, whylen, "truncated, overlong or bad field");
	int incept = st->et == KERI_ILK_ICP || st->et == KERI_ILK_DIP;
	if (st->ee_sn > st->sn || (st->et != KERI_ILK_IXN) != (st->ee_sn == st->sn) ||
	    st->fn < st->sn || incept != (st->sn == 0) ||
	    (st->ee_sn == st->sn && strcmp(st->ee_d, st->d) != 0))
		return fail(st, why, whylen, "inconsistent sequence numbers");
	/* A dip gives its identifier a delegator, and only a dip does. */
	if ((st->et == KERI_ILK_DIP && !has_di) || (st->et == KERI_ILK_ICP && has_di) ||
	    (has_di && !strchr("EFI", st->pre[0])))
		return fail(st, why, whylen, "delegator inconsistent with the event type");
	if (st->nk == 0 || keri_tholder_check(&st->kt, st->nk, 0, "kt", NULL, 0) ||
	    keri_tholder_check(&st->nt, st->nn, 1, "nt", NULL, 0))
		return fail(st, why, whylen, "thresholds do not fit the key lists");
	if (st->nb ? (st->bt < 1 || st->bt > st->nb) : st->bt != 0)
		return fail(st, why, whylen, "bt outside its bounds");
	return KERI_OK;
}
