/*
 * Own KERI events for the tests, signed with libsodium from fixed seeds: keys and their
 * next-key digests, icp/rot/ixn/dip/drt bodies with their size and SAID filled in,
 * -A/-B signature groups, -G source couples, rct receipts and -C couples. Shared by
 * test_keri (keri/ alone), the cache's KERI tests and tests/tools/keri_fixtures.c, so
 * all sign the same way. Header-only.
 *
 * Test-only; not thread-safe (list() and said_code are shared statics); fails the
 * running cmocka test on a helper's own error.
 */
#ifndef HC_TESTS_UNIT_KERI_SIGN_H
#define HC_TESTS_UNIT_KERI_SIGN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "keri/keri.h"

#ifndef DUMMY
#define DUMMY "############################################"
#endif

/* Own keys: Ed25519 from fixed seeds; qb64 with code D (or B), and their E digest. */
struct kp {
	uint8_t pk[32], sk[64];
	char qb[KERI_QB64 + 1];
	char dig[KERI_QB64 + 1];
};

/* The key pair of a 32-byte seed, its qb64 with derivation code `code`, and the digest
 * of that qb64 (the pre-rotation commitment). */
static inline void mkkey_seed(struct kp *k, const uint8_t seed[32], char code)
{
	uint8_t raw[33] = {0};
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	memcpy(raw + 1, k->pk, 32);
	keri_b64_encode(raw, 33, k->qb);
	k->qb[0] = code;
	k->qb[KERI_QB64] = 0;
	assert_int_equal(keri_digest_qb64('E', (const uint8_t *)k->qb, KERI_QB64, k->dig), 0);
}

static inline void mkkey(struct kp *k, int seedbyte, char code)
{
	uint8_t seed[32];
	memset(seed, seedbyte, sizeof(seed));
	mkkey_seed(k, seed, code);
}

/* `"a","b",...` from n strings. */
static inline const char *list(int n, ...)
{
	static char pool[8][4096];
	static int next;
	char *out = pool[next++ % 8];
	va_list ap;
	size_t o = 0;
	out[0] = 0;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, 4096 - o, "%s\"%s\"", i ? "," : "",
		                      va_arg(ap, const char *));
	va_end(ap);
	return out;
}

/* Fill in the version size and the SAID (d, and i when it is the dummy). */
static char said_code = 'E';
static inline size_t finish(char *buf)
{
	size_t n = strlen(buf);
	char hex[24], said[KERI_QB64 + 1];
	snprintf(hex, sizeof(hex), "%06zx", n);
	memcpy(strstr(buf, "KERI10JSON") + 10, hex, 6);
	char *i = strstr(buf, "\"i\":\"" DUMMY);
	assert_int_equal(keri_digest_qb64(said_code, (uint8_t *)buf, n, said), 0);
	memcpy(strstr(buf, "\"d\":\"") + 5, said, KERI_QB64);
	if (i)
		memcpy(i + 5, said, KERI_QB64);
	return n;
}

static inline size_t icp(char *buf, const char *pre, const char *kt, const char *keys,
                  const char *nt, const char *digs, const char *bt, const char *wits,
                  const char *c)
{
	snprintf(buf, 8192,
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"0\",\"kt\":\"%s\",\"k\":[%s],\"nt\":\"%s\",\"n\":[%s],\"bt\":\"%s\","
	         "\"b\":[%s],\"c\":[%s],\"a\":[]}",
	         pre ? pre : DUMMY, kt, keys, nt, digs, bt, wits, c);
	return finish(buf);
}

static inline size_t rot(char *buf, const char *pre, const char *sn, const char *p, const char *kt,
                  const char *keys, const char *nt, const char *digs, const char *bt,
                  const char *br, const char *ba)
{
	snprintf(buf, 8192,
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"rot\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"%s\",\"p\":\"%s\",\"kt\":\"%s\",\"k\":[%s],\"nt\":\"%s\",\"n\":[%s],"
	         "\"bt\":\"%s\",\"br\":[%s],\"ba\":[%s],\"a\":[]}",
	         pre, sn, p, kt, keys, nt, digs, bt, br, ba);
	return finish(buf);
}

static inline size_t ixn(char *buf, const char *pre, const char *sn, const char *p)
{
	snprintf(buf, 8192,
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"ixn\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"%s\",\"p\":\"%s\",\"a\":[]}",
	         pre, sn, p);
	return finish(buf);
}

/* An ixn anchoring the seal {i, s "0", d}: another event than ixn() at the same sn. */
static inline size_t seal_ixn(char *buf, const char *pre, const char *sn, const char *p,
                              const char *seal_i, const char *seal_d)
{
	snprintf(buf, 8192,
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"ixn\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"%s\",\"p\":\"%s\",\"a\":[{\"i\":\"%s\",\"s\":\"0\",\"d\":\"%s\"}]}",
	         pre, sn, p, seal_i, seal_d);
	return finish(buf);
}

/* A dip: an icp with a delegator `di` (its prefix is the dummy: self-addressing). */
static inline size_t dip(char *buf, const char *kt, const char *keys, const char *nt,
                         const char *digs, const char *bt, const char *wits, const char *c,
                         const char *di)
{
	snprintf(buf, 8192,
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"dip\",\"d\":\"" DUMMY "\",\"i\":\"" DUMMY "\","
	         "\"s\":\"0\",\"kt\":\"%s\",\"k\":[%s],\"nt\":\"%s\",\"n\":[%s],\"bt\":\"%s\","
	         "\"b\":[%s],\"c\":[%s],\"a\":[],\"di\":\"%s\"}",
	         kt, keys, nt, digs, bt, wits, c, di);
	return finish(buf);
}

/* A drt: rot's fields (KERI v1: no di; the delegator is the identifier's). */
static inline size_t drt(char *buf, const char *pre, const char *sn, const char *p,
                         const char *kt, const char *keys, const char *nt, const char *digs)
{
	(void)rot(buf, pre, sn, p, kt, keys, nt, digs, "0", "", "");
	memcpy(strstr(buf, "\"t\":\"rot\"") + 5, "drt", 3);
	memcpy(strstr(buf, "\"d\":\"") + 5, DUMMY, KERI_QB64); /* SAID again, over drt */
	return finish(buf);
}

/* An ixn whose `a` is exactly `a` (a JSON list, e.g. of seals). */
static inline size_t ixn_a(char *buf, const char *pre, const char *sn, const char *p,
                           const char *a)
{
	snprintf(buf, 8192,
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"ixn\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"%s\",\"p\":\"%s\",\"a\":%s}",
	         pre, sn, p, a);
	return finish(buf);
}

/* The event seal {i, s, d} as keripy writes it into `a`. */
static inline const char *seal(const char *i, const char *s, const char *d)
{
	static char pool[4][256];
	static int next;
	char *out = pool[next++ % 4];
	snprintf(out, 256, "{\"i\":\"%s\",\"s\":\"%s\",\"d\":\"%s\"}", i, s, d);
	return out;
}

/* Append a -G seal source couple: the 0A number sn and the SAID of the delegator's
 * anchoring event. */
static inline size_t source_couple(char *buf, size_t len, uint64_t sn, const char *said)
{
	uint8_t raw[18] = {0};
	char txt[25];
	for (int i = 0; i < 8; i++)
		raw[17 - i] = (uint8_t)(sn >> (8 * i));
	keri_b64_encode(raw, 18, txt);
	txt[0] = '0', txt[1] = 'A', txt[24] = 0;
	return len + (size_t)sprintf(buf + len, "-GAB%s%s", txt, said);
}

struct sg {
	const struct kp *k;
	int index;
	int ondex; /* -1: an A-coded signature (ondex = index) */
};

/* Append a counter (-A controller, -B witness) and signatures over buf[0..body). */
static inline size_t attach(char *buf, size_t len, size_t body, char counter, int n,
                     const struct sg *s)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	len += (size_t)sprintf(buf + len, "-%c%c%c", counter, b64[n / 64], b64[n % 64]);
	for (int i = 0; i < n; i++) {
		uint8_t raw[66] = {0};
		char txt[89];
		crypto_sign_detached(raw + 2, NULL, (const uint8_t *)buf, body, s[i].k->sk);
		keri_b64_encode(raw, 66, txt);
		txt[88] = 0;
		if (s[i].ondex < 0)
			len += (size_t)sprintf(buf + len, "A%c%s", b64[s[i].index], txt + 2);
		else
			len += (size_t)sprintf(buf + len, "2A%c%c%c%c%s", b64[s[i].index / 64],
			                       b64[s[i].index % 64], b64[s[i].ondex / 64],
			                       b64[s[i].ondex % 64], txt + 2);
	}
	return len;
}

static inline size_t sign1(char *buf, size_t body, const struct kp *k)
{
	struct sg s = {k, 0, -1};
	return attach(buf, body, body, 'A', 1, &s);
}

/* An rct of (pre, sn, said); attachments are appended by the caller. */
static inline size_t rct(char *buf, const char *pre, const char *sn, const char *said)
{
	size_t n = (size_t)snprintf(buf, 512, "{\"v\":\"KERI10JSON000000_\",\"t\":\"rct\",\"d\":\"%s\","
	                            "\"i\":\"%s\",\"s\":\"%s\"}", said, pre, sn);
	char hex[8];
	snprintf(hex, sizeof(hex), "%06zx", n);
	memcpy(buf + 16, hex, 6);
	return n;
}

/* A -C group of n couples by keys ks over ev[0..evlen). */
static inline size_t couples(char *buf, size_t len, const char *ev, size_t evlen, int n,
                      const struct kp *const *ks)
{
	len += (size_t)sprintf(buf + len, "-CA%c", "ABCDEFGH"[n]);
	for (int i = 0; i < n; i++) {
		uint8_t raw[66] = {0};
		char txt[89];
		crypto_sign_detached(raw + 2, NULL, (const uint8_t *)ev, evlen, ks[i]->sk);
		keri_b64_encode(raw, 66, txt);
		txt[88] = 0;
		len += (size_t)sprintf(buf + len, "%s0B%s", ks[i]->qb, txt + 2);
	}
	return len;
}

#endif
