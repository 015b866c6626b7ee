/*
 * test_kel_recovery: issue 10 rule 3 (recovery rotation superseding interaction events,
 * keripy's Kever.update/rotate), the first-seen log behind the state's fn and dt, rollback
 * at rest (a restored older key-state record is refused, then repaired by replay) and the
 * signed duplicity evidence. Own events signed from fixed seeds (keri_sign.h).
 */
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

static hc_cache *open_store(void)
{
	return testutil_open_rocks(testutil_dir, "wal", 32u << 20);
}

static int append(hc_cache *c, const char *msg, size_t len)
{
	size_t consumed;
	return hc_kel_append(c, msg, len, &consumed);
}

/* A KEL under test: keys k[0..7] (seeds 1..8), the prefix, each event's SAID by sn. */
struct kel {
	struct kp k[8];
	char pre[KERI_QB64 + 1];
	char d[16][KERI_QB64 + 1];
	char m[8192];
};

static const char *said_of(const char *m)
{
	static char s[KERI_QB64 + 1];
	memcpy(s, strstr(m, "\"d\":\"") + 5, KERI_QB64);
	s[KERI_QB64] = 0;
	return s;
}

static void hex(char out[20], unsigned sn)
{
	snprintf(out, 20, "%x", sn);
}

/* icp with k0 (next k1), then interaction events 1..nixn signed by k0. */
static void base_kel(hc_cache *c, struct kel *t, unsigned nixn)
{
	assert_true(sodium_init() >= 0);
	for (int i = 0; i < 8; i++)
		mkkey(&t->k[i], 1 + i, 'D');
	size_t b = icp(t->m, NULL, "1", list(1, t->k[0].qb), "1", list(1, t->k[1].dig), "0", "",
	               "");
	assert_int_equal(append(c, t->m, sign1(t->m, b, &t->k[0])), 0);
	memcpy(t->pre, said_of(t->m), KERI_QB64 + 1);
	memcpy(t->d[0], t->pre, KERI_QB64 + 1);
	for (unsigned sn = 1; sn <= nixn; sn++) {
		char h[20];
		hex(h, sn);
		b = ixn(t->m, t->pre, h, t->d[sn - 1]);
		assert_int_equal(append(c, t->m, sign1(t->m, b, &t->k[0])), 0);
		memcpy(t->d[sn], said_of(t->m), KERI_QB64 + 1);
	}
}

/* A rot at sn with prior p, new key k[key] (its signature exposes prior next index 0),
 * next k[next]; signed by k[signer]. Returns the message length. */
static size_t rot_at(struct kel *t, char *m, unsigned sn, const char *p, int key, int next,
                     int signer)
{
	char h[20];
	hex(h, sn);
	size_t b = rot(m, t->pre, h, p, "1", list(1, t->k[key].qb), "1", list(1, t->k[next].dig),
	               "0", "", "");
	struct sg s = {&t->k[signer], 0, 0};
	return attach(m, b, b, 'A', 1, &s);
}

struct collected {
	int n;
	char said[8][KERI_QB64 + 1];
};

static int collect(const void *msg, size_t len, void *arg)
{
	struct collected *s = arg;
	char said[KERI_QB64 + 1];
	assert_true(len > 64);
	memcpy(said, strstr((const char *)msg, "\"d\":\"") + 5, KERI_QB64);
	said[KERI_QB64] = 0;
	if (s->n < 8)
		memcpy(s->said[s->n], said, sizeof(said));
	s->n++;
	return 0;
}

/* The state's f as keripy's KeyStateRecord renders it (lower-case hex). */
static void assert_fn(hc_cache *c, const char *pre, const char *f)
{
	char js[16384], want[32];
	size_t jl;
	assert_int_equal(hc_keystate_json(c, pre, js, sizeof(js), &jl), 0);
	snprintf(want, sizeof(want), "\"f\":\"%s\"", f);
	if (strstr(js, want) == NULL)
		fail_msg("want %s in %s", want, js);
}

/*
 * Issue 10 rule 3, as keripy's test_eventing recovery: icp, ixn 1..3, then a rot at sn 2
 * with p = the ixn at sn 1, signed by the committed next key: accepted, superseding the
 * ixns at 2 and 3; an ixn at sn 3 follows the rotation. keripy's first-seen ordinals
 * count every first-seen event (Kever.logEvent appends each to .fels): icp 0, ixn 1-3,
 * rot 4, ixn 5, so the state is s 3, f 5. Controls: a wrong p, keys not committed, a rot
 * trying to supersede a rot, the superseded ixn seen again.
 */
static void recovery_rotation_supersedes_two_interaction_events(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	static struct kel t;
	static char o[8192];
	base_kel(c, &t, 3);
	struct hc_keystate ks;

	/* Controls first: each changes nothing. */
	assert_int_equal(append(c, o, rot_at(&t, o, 2, t.d[2], 1, 2, 1)), HC_EKERI_PRIOR);
	assert_int_equal(append(c, o, rot_at(&t, o, 2, t.d[1], 5, 2, 5)), HC_EKERI_NEXT);
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), 0);
	assert_int_equal(ks.sn, 3);
	assert_string_equal(ks.said, t.d[3]);

	/* The recovery rotation. */
	size_t rl = rot_at(&t, t.m, 2, t.d[1], 1, 2, 1);
	assert_int_equal(append(c, t.m, rl), 0);
	char rsaid[KERI_QB64 + 1];
	memcpy(rsaid, said_of(t.m), sizeof(rsaid));
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), 0);
	assert_int_equal(ks.sn, 2);
	assert_string_equal(ks.said, rsaid);
	assert_string_equal(ks.prior, t.d[1]);
	assert_string_equal(ks.ilk, "rot");
	assert_string_equal(ks.keys[0], t.k[1].qb);
	assert_string_equal(ks.next[0], t.k[2].dig);
	assert_int_equal(ks.est_sn, 2);
	assert_fn(c, t.pre, "4");
	/* The same rotation again is a duplicate. */
	assert_int_equal(append(c, t.m, rl), 0);
	assert_fn(c, t.pre, "4");

	/* An ixn on the new branch, signed by the rotated key. */
	size_t b = ixn(t.m, t.pre, "3", rsaid);
	assert_int_equal(append(c, t.m, sign1(t.m, b, &t.k[1])), 0);
	char isaid[KERI_QB64 + 1];
	memcpy(isaid, said_of(t.m), sizeof(isaid));
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), 0);
	assert_int_equal(ks.sn, 3);
	assert_fn(c, t.pre, "5");

	/* A superseded ixn seen again: accepted once already, no change. */
	b = ixn(o, t.pre, "2", t.d[1]);
	assert_int_equal(append(c, o, sign1(o, b, &t.k[0])), 0);
	/* A rot cannot supersede a rot: another rot at sn 2, signed to threshold by the
	 * committed key, is duplicity against the recovery rotation. */
	assert_int_equal(append(c, o, rot_at(&t, o, 2, t.d[1], 1, 3, 1)), HC_EKERI_DUPLICITY);
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), 0);
	assert_int_equal(ks.sn, 3);
	assert_string_equal(ks.said, isaid);

	/* Replay in first-seen order reaches the same state, fn and dt included. */
	uint64_t events = 0;
	assert_int_equal(hc_kel_verify(c, t.pre, &events), 0);
	assert_int_equal(events, 6);
	/* Export: the accepted branch, in sn order. */
	struct collected s = {0};
	assert_int_equal(hc_kel_export(c, t.pre, collect, &s, &events), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.said[0], t.d[0]);
	assert_string_equal(s.said[1], t.d[1]);
	assert_string_equal(s.said[2], rsaid);
	assert_string_equal(s.said[3], isaid);
	hc_close(c);

	/* After a restart the state loads (its tip is the KEL's) and still verifies. */
	c = open_store();
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), 0);
	assert_int_equal(ks.sn, 3);
	assert_string_equal(ks.said, isaid);
	assert_fn(c, t.pre, "5");
	assert_int_equal(hc_kel_verify(c, t.pre, &events), 0);
	assert_int_equal(events, 6);
	hc_close(c);
}

/* keripy's Kevery: a rot at the current sn + 1 is in order, and one at the current sn
 * (superseding the last ixn alone) is a recovery too; the dt of the state is the
 * first-seen time of its last event, replay included. */
static void recovery_at_the_current_sn_supersedes_one_event(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	static struct kel t;
	base_kel(c, &t, 2);
	assert_int_equal(append(c, t.m, rot_at(&t, t.m, 2, t.d[1], 1, 2, 1)), 0);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), 0);
	assert_int_equal(ks.sn, 2);
	assert_string_equal(ks.ilk, "rot");
	assert_fn(c, t.pre, "3");
	uint64_t events = 0;
	assert_int_equal(hc_kel_verify(c, t.pre, &events), 0);
	assert_int_equal(events, 4);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(recovery_rotation_supersedes_two_interaction_events,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(recovery_at_the_current_sn_supersedes_one_event,
		                                testutil_setup, testutil_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
