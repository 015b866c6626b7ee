/* Delegated identifiers in the cache (issue 10, "Delegation"): keripy's delegation
 * stream, the delegator's anchor before, after and never, found by -G couple or by
 * lookup, DND, rot vs drt, di in hc_keystate and the KeyStateRecord, persistence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hotcache.h"
#include "tests/unit/keri_sign.h"
#include "tests/unit/testutil.h"
#include "tests/unit/vectors.h"

#define BOB "EA_SbBUZYwqLVlAAn14d6QUBQCSReJlZ755JqTgmRhXH"
#define DEL "EHng2fV42DdKb5TLMIs6bbjFkPNmIdQ5mSFn6BTnySJj"

static hc_cache *open_store(void)
{
	return testutil_open_rocks(testutil_dir, "wal", 32u << 20);
}

static int group_setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* keripy's test_delegation stream, split into its five messages. */
static unsigned char vec[4096];
static size_t vlen, moff[6];

static void load_vector(void)
{
	vlen = vectors_read("16_delegation_bob_del.cesr", vec, sizeof(vec));
	moff[0] = 0;
	for (int i = 1; i < 5; i++) {
		const char *p = strstr((const char *)vec + moff[i - 1] + 1, "{\"v\":");
		assert_non_null(p);
		moff[i] = (size_t)(p - (const char *)vec);
	}
	moff[5] = vlen;
}

/* Message i of the vector (0 bob icp, 1 bob ixn, 2 del dip, 3 bob ixn, 4 del drt). */
static int put(hc_cache *c, int i)
{
	size_t consumed;
	return hc_kel_append(c, vec + moff[i], moff[i + 1] - moff[i], &consumed);
}

#define append testutil_kel_append
#define expect testutil_expect

static void keripy_delegation_stream_imports_with_di(void **state)
{
	(void)state;
	load_vector();
	hc_cache *c = open_store();
	struct hc_kel_report r = {0};
	expect(hc_kel_import(c, vec, vlen, &r), 0);
	assert_int_equal(r.accepted, 5);
	struct hc_keystate ks;
	expect(hc_keystate_get(c, DEL, &ks), 0);
	assert_int_equal(ks.sn, 1);
	assert_string_equal(ks.ilk, "drt");
	assert_string_equal(ks.di, BOB);
	assert_string_equal(ks.keys[0], "DE3-kGVqHrdeeKPcL83jLjYS0Ea_CWgFHogusIwf-P9P");
	expect(hc_keystate_get(c, BOB, &ks), 0);
	assert_string_equal(ks.di, "");
	/* The KeyStateRecord ends with keripy's di: the delegator, or "". */
	char js[4096];
	size_t jl;
	expect(hc_keystate_json(c, DEL, js, sizeof(js), &jl), 0);
	const char *tail = "\"br\":[],\"ba\":[]},\"di\":\"" BOB "\"}";
	assert_string_equal(js + jl - strlen(tail), tail);
	expect(hc_keystate_json(c, BOB, js, sizeof(js), &jl), 0);
	assert_string_equal(js + jl - 10, "},\"di\":\"\"}");
	/* A full verification checks the anchors again. */
	uint64_t n;
	expect(hc_kel_verify(c, DEL, &n), 0);
	assert_int_equal(n, 2);
	hc_close(c);
	/* di is stored: it survives a restart. */
	c = open_store();
	expect(hc_keystate_get(c, DEL, &ks), 0);
	assert_string_equal(ks.di, BOB);
	assert_string_equal(ks.ilk, "drt");
	hc_close(c);
}

/* The anchor after the delegated event: escrowed with HC_EKERI_DELEGATION naming the
 * missing seal, no state yet; promoted, without being sent again, once the delegator's
 * anchoring event is accepted. The anchor never: escrowed, the delegator has no KEL. */
static void anchor_before_after_and_never(void **state)
{
	(void)state;
	load_vector();
	hc_cache *c = open_store();
	struct hc_keystate ks;
	/* Never: no KEL of bob at all. */
	expect(put(c, 2), HC_EKERI_DELEGATION);
	assert_non_null(strstr(hc_last_error(), "escrowed:"));
	assert_non_null(strstr(hc_last_error(), BOB));
	assert_non_null(strstr(hc_last_error(), "no KEL"));
	expect(hc_keystate_get(c, DEL, &ks), HC_ENOTFOUND);
	/* Bob's icp only: the anchoring ixn is not seen yet. */
	expect(put(c, 0), 0);
	expect(put(c, 2), HC_EKERI_DELEGATION);
	assert_non_null(strstr(hc_last_error(), "{\"i\":\"" DEL "\",\"s\":\"0\",\"d\":\"" DEL
	                                        "\"}"));
	assert_non_null(strstr(hc_last_error(), "not stored"));
	expect(hc_keystate_get(c, DEL, &ks), HC_ENOTFOUND);
	/* After: bob's anchoring ixn arrives, and the escrowed dip is promoted. */
	struct hc_stats st0, st1;
	expect(hc_stats(c, &st0), 0);
	expect(put(c, 1), 0);
	expect(hc_keystate_get(c, DEL, &ks), 0);
	expect(hc_stats(c, &st1), 0);
	assert_true(st1.promoted > st0.promoted);
	expect(put(c, 2), 0); /* a duplicate now */
	expect(hc_keystate_get(c, DEL, &ks), 0);
	assert_string_equal(ks.ilk, "dip");
	assert_string_equal(ks.di, BOB);
	/* The drt before bob's second ixn: refused, state unchanged; then accepted. */
	expect(put(c, 4), HC_EKERI_DELEGATION);
	assert_non_null(strstr(hc_last_error(), "\"s\":\"1\""));
	expect(hc_keystate_get(c, DEL, &ks), 0);
	assert_int_equal(ks.sn, 0);
	expect(put(c, 3), 0);
	expect(hc_keystate_get(c, DEL, &ks), 0);
	assert_int_equal(ks.sn, 1); /* the escrowed drt promoted by bob's ixn */
	expect(put(c, 4), 0); /* a duplicate */
	expect(hc_keystate_get(c, DEL, &ks), 0);
	assert_int_equal(ks.sn, 1);
	hc_close(c);
}

/* Without a -G couple, or with one that names the wrong event, the seal is found by a
 * walk over the delegator's KEL (keripy's escrow does the same walk). */
static void anchor_found_by_lookup_without_or_with_a_wrong_couple(void **state)
{
	(void)state;
	load_vector();
	hc_cache *c = open_store();
	expect(put(c, 0), 0);
	expect(put(c, 1), 0);
	expect(put(c, 3), 0);
	static char m[4096];
	/* The dip without its -GAB couple (the last 4 + 24 + 44 characters). */
	size_t dl = moff[3] - moff[2] - 72;
	memcpy(m, vec + moff[2], dl);
	assert_memory_equal(vec + moff[2] + dl, "-GAB", 4);
	expect(append(c, m, dl), 0);
	/* The drt with a couple naming bob's icp (sn 0), which anchors nothing. */
	size_t rl = moff[5] - moff[4] - 72;
	memcpy(m, vec + moff[4], rl);
	rl = source_couple(m, rl, 0, BOB);
	expect(append(c, m, rl), 0);
	struct hc_keystate ks;
	expect(hc_keystate_get(c, DEL, &ks), 0);
	assert_int_equal(ks.sn, 1);
	expect(hc_kel_verify(c, DEL, NULL), 0);
	hc_close(c);
}

/* Own signed streams: a delegator with and without DND, a seal that does not match,
 * rot vs drt on a delegated identifier. */
static void dnd_refuses_and_seal_must_match(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	static struct kp k[8];
	static char m[8192], d[8192], dpre[KERI_QB64 + 1], dsaid[KERI_QB64 + 1];
	static char bpre[2][KERI_QB64 + 1];
	for (int i = 0; i < 8; i++)
		mkkey(&k[i], 40 + i, 'D');
	/* Two delegators: bpre[0] with DND, bpre[1] without. */
	for (int b = 0; b < 2; b++) {
		size_t l = icp(m, NULL, "1", list(1, k[b].qb), "1", list(1, k[b + 2].dig), "0", "",
		               b ? "" : "\"DND\"");
		expect(append(c, m, sign1(m, l, &k[b])), 0);
		memcpy(bpre[b], strstr(m, "\"i\":\"") + 5, KERI_QB64);
	}
	for (int b = 0; b < 2; b++) {
		size_t l = dip(d, "1", list(1, k[4].qb), "1", list(1, k[5].dig), "0", "", "",
		               bpre[b]);
		l = sign1(d, l, &k[4]);
		memcpy(dpre, strstr(d, "\"i\":\"") + 5, KERI_QB64);
		/* The delegator anchors it in an ixn at sn 1. */
		char a0[512];
		snprintf(a0, sizeof(a0), "[%s]", seal(dpre, "0", dpre));
		size_t al = ixn_a(m, bpre[b], "1", bpre[b], a0);
		expect(append(c, m, sign1(m, al, &k[b])), 0);
		char asaid[KERI_QB64 + 1] = {0};
		memcpy(asaid, strstr(m, "\"d\":\"") + 5, KERI_QB64);
		int rc = append(c, d, source_couple(d, l, 1, asaid));
		if (b == 0) {
			expect(rc, HC_EKERI_DELEGATION);
			assert_non_null(strstr(hc_last_error(), "DND"));
		} else {
			expect(rc, 0);
		}
	}
	struct hc_keystate ks;
	expect(hc_keystate_get(c, dpre, &ks), 0);
	assert_string_equal(ks.di, bpre[1]);
	memcpy(dsaid, ks.said, sizeof(dsaid));
	/* A rot of the delegated identifier: refused (drt only). */
	struct sg g = {&k[5], 0, 0};
	size_t l = rot(d, dpre, "1", dsaid, "1", list(1, k[5].qb), "1", list(1, k[6].dig), "0",
	               "", "");
	expect(append(c, d, attach(d, l, l, 'A', 1, &g)), HC_EKERI_DELEGATION);
	/* A drt anchored by a seal with another sn: refused. */
	l = drt(d, dpre, "1", dsaid, "1", list(1, k[5].qb), "1", list(1, k[6].dig));
	l = attach(d, l, l, 'A', 1, &g);
	char said[KERI_QB64 + 1], a[512];
	memcpy(said, strstr(d, "\"d\":\"") + 5, KERI_QB64);
	said[KERI_QB64] = 0;
	char bprev[KERI_QB64 + 1];
	memcpy(bprev, strstr(m, "\"d\":\"") + 5, KERI_QB64);
	bprev[KERI_QB64] = 0;
	snprintf(a, sizeof(a), "[%s]", seal(dpre, "2", said));
	size_t al = ixn_a(m, bpre[1], "2", bprev, a);
	expect(append(c, m, sign1(m, al, &k[1])), 0);
	expect(append(c, d, l), HC_EKERI_DELEGATION);
	expect(hc_keystate_get(c, dpre, &ks), 0);
	assert_int_equal(ks.sn, 0);
	/* The matching seal in the delegator's next event: accepted. */
	memcpy(bprev, strstr(m, "\"d\":\"") + 5, KERI_QB64);
	snprintf(a, sizeof(a), "[%s]", seal(dpre, "1", said));
	al = ixn_a(m, bpre[1], "3", bprev, a);
	expect(append(c, m, sign1(m, al, &k[1])), 0);
	expect(append(c, d, l), 0);
	expect(hc_keystate_get(c, dpre, &ks), 0);
	assert_int_equal(ks.sn, 1);
	assert_string_equal(ks.ilk, "drt");
	assert_string_equal(ks.keys[0], k[5].qb);
	expect(hc_kel_verify(c, dpre, NULL), 0);
	hc_close(c);
}

struct grab {
	char buf[16384];
	size_t len;
};

static int grab_msg(const void *msg, size_t len, void *arg)
{
	struct grab *g = arg;
	assert_true(g->len + len < sizeof(g->buf));
	memcpy(g->buf + g->len, msg, len);
	g->len += len;
	g->buf[g->len] = 0;
	return 0;
}

/* A 2-of-2 dip that arrives as two copies, each with one signature and the -G couple:
 * the first waits in the partially-signed escrow, the second merges with it and is
 * accepted. The stored event, rebuilt from the merged signatures, keeps its couple:
 * hc_kel_export gives it back with both signatures and the -GAB naming the anchor. */
static void merged_dip_keeps_its_source_couple(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	static struct kp k[6];
	static char m[8192], d[8192], d2[8192], bpre[KERI_QB64 + 1], dpre[KERI_QB64 + 1];
	for (int i = 0; i < 6; i++)
		mkkey(&k[i], 80 + i, 'D');
	size_t l = icp(m, NULL, "1", list(1, k[0].qb), "1", list(1, k[1].dig), "0", "", "");
	expect(append(c, m, sign1(m, l, &k[0])), 0);
	memcpy(bpre, strstr(m, "\"i\":\"") + 5, KERI_QB64);
	size_t body = dip(d, "2", list(2, k[2].qb, k[3].qb), "1", list(1, k[4].dig), "0", "",
	                  "", bpre);
	memcpy(dpre, strstr(d, "\"i\":\"") + 5, KERI_QB64);
	char a0[512], asaid[KERI_QB64 + 1] = {0};
	snprintf(a0, sizeof(a0), "[%s]", seal(dpre, "0", dpre));
	size_t al = ixn_a(m, bpre, "1", bpre, a0);
	expect(append(c, m, sign1(m, al, &k[0])), 0);
	memcpy(asaid, strstr(m, "\"d\":\"") + 5, KERI_QB64);
	memcpy(d2, d, body);
	struct sg s0 = {&k[2], 0, -1}, s1 = {&k[3], 1, -1};
	size_t l1 = source_couple(d, attach(d, body, body, 'A', 1, &s0), 1, asaid);
	size_t l2 = source_couple(d2, attach(d2, body, body, 'A', 1, &s1), 1, asaid);
	expect(append(c, d, l1), HC_EKERI_THRESHOLD);
	expect(append(c, d2, l2), 0);
	struct hc_keystate ks;
	expect(hc_keystate_get(c, dpre, &ks), 0);
	assert_string_equal(ks.di, bpre);
	static struct grab g;
	g.len = 0;
	uint64_t n = 0;
	expect(hc_kel_export(c, dpre, grab_msg, &g, &n), 0);
	assert_int_equal(n, 1);
	assert_non_null(strstr(g.buf, "-AAC")); /* both signatures */
	const char *couple = d + l1 - 72;
	assert_memory_equal(couple, "-GAB", 4);
	assert_non_null(strstr(g.buf, couple));
	/* The exported stream imports into another store as it is. */
	expect(hc_kel_verify(c, dpre, NULL), 0);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(keripy_delegation_stream_imports_with_di, testutil_setup,
		                                testutil_teardown),
		cmocka_unit_test_setup_teardown(anchor_before_after_and_never, testutil_setup,
		                                testutil_teardown),
		cmocka_unit_test_setup_teardown(anchor_found_by_lookup_without_or_with_a_wrong_couple,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(dnd_refuses_and_seal_must_match, testutil_setup,
		                                testutil_teardown),
		cmocka_unit_test_setup_teardown(merged_dip_keeps_its_source_couple, testutil_setup,
		                                testutil_teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
