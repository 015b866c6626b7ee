/*
 * test_delegated_recovery: issue 10, delegated recovery rotation and the local
 * delegation exemption (keripy Kevery.processEvent routing, Kever.rotate and
 * Kever.validateDelegation's superseding rules A, B, C; its locallyOwned /
 * locallyMembered / locallyWitnessed short cut). Own signed streams from fixed seeds
 * (keri_sign.h), each rule with the stream that must be accepted next to the one that
 * must not.
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

static int group_setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

#define append testutil_kel_append
#define expect testutil_expect

/* An identifier under test: keys k[0..7] from seeds seed..seed+7, its prefix. */
struct id {
	struct kp k[8];
	char pre[KERI_QB64 + 1];
};

static void said_into(const char *m, char out[KERI_QB64 + 1])
{
	memcpy(out, strstr(m, "\"d\":\"") + 5, KERI_QB64);
	out[KERI_QB64] = 0;
}

static void keys(struct id *x, int seed)
{
	for (int i = 0; i < 8; i++)
		mkkey(&x->k[i], seed + i, 'D');
}

/* A root (not delegated) identifier: icp with k0, next k1. */
static size_t root_icp(char *m, struct id *x, int seed)
{
	keys(x, seed);
	size_t l = icp(m, NULL, "1", list(1, x->k[0].qb), "1", list(1, x->k[1].dig), "0", "", "");
	said_into(m, x->pre);
	return sign1(m, l, &x->k[0]);
}

/* A dip delegated by di: k0, next k1, witnesses wits (bt as given). */
static size_t dip_of(char *m, struct id *x, int seed, const char *di, const char *bt,
                     const char *wits)
{
	keys(x, seed);
	size_t l = dip(m, "1", list(1, x->k[0].qb), "1", list(1, x->k[1].dig), bt, wits, "", di);
	said_into(m, x->pre);
	return sign1(m, l, &x->k[0]);
}

/* A rot or drt (ilk) of pre at sn with prior p: key `key` (its signature exposes the
 * prior next digest 0), next `next`, `a` as given; signed by key. */
static size_t est(char *m, const char *ilk, const char *pre, unsigned sn, const char *p,
                  const struct kp *key, const struct kp *next, const char *a)
{
	snprintf(m, 8192,
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"%s\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"%x\",\"p\":\"%s\",\"kt\":\"1\",\"k\":[\"%s\"],\"nt\":\"1\",\"n\":[\"%s\"],"
	         "\"bt\":\"0\",\"br\":[],\"ba\":[],\"a\":%s}",
	         ilk, pre, sn, p, key->qb, next->dig, a);
	size_t b = finish(m);
	struct sg s = {key, 0, 0};
	return attach(m, b, b, 'A', 1, &s);
}

/* An ixn of pre at sn with prior p and list a, signed by k. */
static size_t ixn_of(char *m, const char *pre, unsigned sn, const char *p, const char *a,
                     const struct kp *k)
{
	char h[20];
	snprintf(h, sizeof(h), "%x", sn);
	size_t l = ixn_a(m, pre, h, p, a);
	return sign1(m, l, k);
}

/* "[seal]" or "[seal,seal,...]" of n events (pre, sn, said) given as triples. */
static const char *seals(int n, ...)
{
	static char out[4][2048];
	static int next;
	char *o = out[next++ % 4];
	size_t w = 0;
	va_list ap;
	va_start(ap, n);
	w += (size_t)snprintf(o + w, 2048 - w, "[");
	for (int i = 0; i < n; i++) {
		const char *pre = va_arg(ap, const char *);
		unsigned sn = va_arg(ap, unsigned);
		const char *said = va_arg(ap, const char *);
		char h[20];
		snprintf(h, sizeof(h), "%x", sn);
		w += (size_t)snprintf(o + w, 2048 - w, "%s%s", i ? "," : "", seal(pre, h, said));
	}
	va_end(ap);
	snprintf(o + w, 2048 - w, "]");
	return o;
}

/* x incepted by a dip (seed) delegated by del, which anchors it in its ixn at sn
 * (prior p, signed by k): both appended, the ixn's SAID into ixn_said. */
static void delegate(hc_cache *c, struct id *x, int seed, const struct id *del, unsigned sn,
                     const char *p, const struct kp *k, char ixn_said[KERI_QB64 + 1])
{
	static char dm[8192], im[8192];
	size_t dl = dip_of(dm, x, seed, del->pre, "0", "");
	expect(append(c, im, ixn_of(im, del->pre, sn, p, seals(1, x->pre, 0u, x->pre), k)), 0);
	said_into(im, ixn_said);
	expect(append(c, dm, dl), 0);
}

/* A drt of x at sn 1 from its dip: key k1, next k[next]; its SAID into said. */
static size_t drt1(char *m, const struct id *x, int next, char said[KERI_QB64 + 1])
{
	size_t l = est(m, "drt", x->pre, 1, x->pre, &x->k[1], &x->k[next], "[]");
	said_into(m, said);
	return l;
}

static void assert_state(hc_cache *c, const char *pre, uint64_t sn, const char *said,
                         const char *ilk)
{
	struct hc_keystate ks;
	expect(hc_keystate_get(c, pre, &ks), 0);
	if (ks.sn != sn || strcmp(ks.said, said) != 0 || strcmp(ks.ilk, ilk) != 0)
		fail_msg("state of %s: sn %llu %s %s, want sn %llu %s %s", pre,
		         (unsigned long long)ks.sn, ks.ilk, ks.said, (unsigned long long)sn, ilk,
		         said);
}

/*
 * Rule A (keripy A0): a drt of a delegated identifier, above its last establishment
 * event and at or below its current sn, supersedes the interaction events there once
 * its delegator anchors it (Kevery routes a drt with lastEst.s <= sn <= sn + 1 to
 * Kever.update). Before the anchor it waits in the escrow; a `rot` recovery of a
 * delegated identifier is refused (Kever.update: delegated rotates with drt only).
 */
static void drt_supersedes_interaction_events_once_anchored(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	static struct id d, e;
	static char m[8192];
	char d1[45], d2[45], e1[45], e2[45], rsaid[45];
	expect(append(c, m, root_icp(m, &d, 1)), 0);
	delegate(c, &e, 20, &d, 1, d.pre, &d.k[0], d1);
	expect(append(c, m, ixn_of(m, e.pre, 1, e.pre, "[]", &e.k[0])), 0);
	said_into(m, e1);
	expect(append(c, m, ixn_of(m, e.pre, 2, e1, "[]", &e.k[0])), 0);
	said_into(m, e2);

	/* A rot recovery of the delegated identifier: refused, nothing changes. */
	expect(append(c, m, est(m, "rot", e.pre, 1, e.pre, &e.k[1], &e.k[2], "[]")),
	       HC_EKERI_DELEGATION);
	assert_non_null(strstr(hc_last_error(), "drt"));
	assert_state(c, e.pre, 2, e2, "ixn");

	/* The drt at sn 1 before its anchor: escrowed, the state unchanged. */
	static char drtm[8192];
	size_t rl = est(drtm, "drt", e.pre, 1, e.pre, &e.k[1], &e.k[2], "[]");
	said_into(drtm, rsaid);
	expect(append(c, drtm, rl), HC_EKERI_DELEGATION);
	assert_non_null(strstr(hc_last_error(), "escrowed:"));
	assert_state(c, e.pre, 2, e2, "ixn");

	/* The delegator anchors it: promoted, the two ixns superseded. */
	expect(append(c, m, ixn_of(m, d.pre, 2, d1, seals(1, e.pre, 1u, rsaid), &d.k[0])), 0);
	said_into(m, d2);
	assert_state(c, e.pre, 1, rsaid, "drt");
	struct hc_keystate ks;
	expect(hc_keystate_get(c, e.pre, &ks), 0);
	assert_string_equal(ks.keys[0], e.k[1].qb);
	assert_int_equal(ks.est_sn, 1);
	expect(append(c, drtm, rl), 0); /* a duplicate now */
	/* A superseded ixn seen again: at sn 1 a duplicate (kept aside); at sn 2 it is the
	 * next sn with a p off the branch, refused as keripy's Kever.update does. */
	expect(append(c, m, ixn_of(m, e.pre, 1, e.pre, "[]", &e.k[0])), 0);
	expect(append(c, m, ixn_of(m, e.pre, 2, e1, "[]", &e.k[0])), HC_EKERI_PRIOR);
	assert_state(c, e.pre, 1, rsaid, "drt");
	/* The KEL goes on from the drt, with its new key. */
	expect(append(c, m, ixn_of(m, e.pre, 2, rsaid, "[]", &e.k[1])), 0);
	said_into(m, e2);
	assert_state(c, e.pre, 2, e2, "ixn");
	uint64_t n;
	expect(hc_kel_verify(c, e.pre, &n), 0);
	assert_int_equal(n, 5); /* dip, ixn 1, ixn 2, drt 1, ixn 2 in first-seen order */
	hc_close(c);
	/* After a restart the state is the same (the record names the drt's branch). */
	c = open_store();
	assert_state(c, e.pre, 2, e2, "ixn");
	expect(hc_kel_verify(c, e.pre, NULL), 0);
	hc_close(c);
}

/*
 * Rule B (keripy B1, B2): a drt supersedes the latest accepted drt at its sn only when
 * its delegating event is later in the delegator's KEL (B1), or is the same event with
 * the seal later in its `a` list (B2). Otherwise it is refused, not escrowed.
 */
static void drt_supersedes_drt_when_its_delegation_is_later(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	static struct id d, e;
	static char m[8192];
	static char r[5][8192];
	size_t rl[5];
	char rs[5][45], d1[45], d2[45], d3[45];
	expect(append(c, m, root_icp(m, &d, 1)), 0);
	delegate(c, &e, 20, &d, 1, d.pre, &d.k[0], d1);
	/* Five drts at sn 1 from the dip, differing in their next key: A B X C D. */
	for (int i = 0; i < 5; i++)
		rl[i] = drt1(r[i], &e, 2 + i, rs[i]);
	enum { A, B, X, C, D };
	/* The delegator anchors A at sn 2, then B, X and C in one ixn at sn 3. */
	expect(append(c, m, ixn_of(m, d.pre, 2, d1, seals(1, e.pre, 1u, rs[A]), &d.k[0])), 0);
	said_into(m, d2);
	expect(append(c, m, ixn_of(m, d.pre, 3, d2,
	                           seals(3, e.pre, 1u, rs[B], e.pre, 1u, rs[X], e.pre, 1u, rs[C]),
	                           &d.k[0])), 0);
	said_into(m, d3);

	expect(append(c, r[B], rl[B]), 0);
	assert_state(c, e.pre, 1, rs[B], "drt");
	/* A's delegating event (sn 2) is earlier than B's (sn 3): refused, not escrowed. */
	struct hc_stats s0, s1;
	expect(hc_stats(c, &s0), 0);
	expect(append(c, r[A], rl[A]), HC_EKERI_DELEGATION);
	assert_null(strstr(hc_last_error(), "escrowed"));
	expect(hc_stats(c, &s1), 0);
	assert_int_equal(s1.escrowed, s0.escrowed);
	assert_state(c, e.pre, 1, rs[B], "drt");
	/* C: the same delegating event, its seal later than B's: supersedes B (B2). */
	expect(append(c, r[C], rl[C]), 0);
	assert_state(c, e.pre, 1, rs[C], "drt");
	/* X: the same event, its seal before C's: refused. */
	expect(append(c, r[X], rl[X]), HC_EKERI_DELEGATION);
	assert_state(c, e.pre, 1, rs[C], "drt");
	/* B again: superseded once, a duplicate; it does not come back. */
	expect(append(c, r[B], rl[B]), 0);
	assert_state(c, e.pre, 1, rs[C], "drt");
	/* D, anchored in the delegator's next ixn (sn 4): later, supersedes C (B1). */
	expect(append(c, m, ixn_of(m, d.pre, 4, d3, seals(1, e.pre, 1u, rs[D]), &d.k[0])), 0);
	expect(append(c, r[D], rl[D]), 0);
	assert_state(c, e.pre, 1, rs[D], "drt");
	struct hc_keystate ks;
	expect(hc_keystate_get(c, e.pre, &ks), 0);
	assert_string_equal(ks.next[0], e.k[2 + D].dig);
	/* An ixn follows D; a drt at sn 1 approved later still (the delegator's sn 5)
	 * supersedes D and that ixn: D is the latest drt (rule B, as keripy's docstring
	 * states it). */
	char d4[45], x2[45], sf[45];
	said_into(m, d4);
	expect(append(c, m, ixn_of(m, e.pre, 2, rs[D], "[]", &e.k[1])), 0);
	said_into(m, x2);
	assert_state(c, e.pre, 2, x2, "ixn");
	static char fm[8192];
	size_t fl = est(fm, "drt", e.pre, 1, e.pre, &e.k[1], &e.k[7], "[]");
	said_into(fm, sf);
	expect(append(c, m, ixn_of(m, d.pre, 5, d4, seals(1, e.pre, 1u, sf), &d.k[0])), 0);
	expect(append(c, fm, fl), 0);
	assert_state(c, e.pre, 1, sf, "drt");
	uint64_t n;
	expect(hc_kel_verify(c, e.pre, &n), 0);
	assert_int_equal(n, 6); /* dip, B, C, D, ixn 2, F */
	hc_close(c);
}

/*
 * Rule B3: the new drt's delegating event is a rotation of the delegator at the same sn
 * as the old drt's delegating ixn, which that rotation superseded (a recovery of the
 * delegator). The old anchor is then off the delegator's accepted branch; it is still
 * found (first-seen log) for the comparison and for hc_kel_verify.
 */
static void drt_supersedes_drt_anchored_by_a_delegator_recovery(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	static struct id d, e;
	static char m[8192], ra[8192], rr[8192];
	char d1[45], sa[45], sr[45], dr[45];
	expect(append(c, m, root_icp(m, &d, 1)), 0);
	delegate(c, &e, 20, &d, 1, d.pre, &d.k[0], d1);
	size_t la = drt1(ra, &e, 2, sa), lr = drt1(rr, &e, 3, sr);
	/* The delegator's ixn at sn 2 anchors A; A is accepted. */
	expect(append(c, m, ixn_of(m, d.pre, 2, d1, seals(1, e.pre, 1u, sa), &d.k[0])), 0);
	expect(append(c, ra, la), 0);
	/* R before the delegator's recovery: no anchor, escrowed. */
	expect(append(c, rr, lr), HC_EKERI_DELEGATION);
	assert_state(c, e.pre, 1, sa, "drt");
	/* The delegator recovers: a rot at sn 2 supersedes its ixn there and anchors R;
	 * the escrowed R is promoted, superseding A. */
	expect(append(c, m, est(m, "rot", d.pre, 2, d1, &d.k[1], &d.k[2],
	                        seals(1, e.pre, 1u, sr))), 0);
	said_into(m, dr);
	assert_state(c, d.pre, 2, dr, "rot");
	assert_state(c, e.pre, 1, sr, "drt");
	/* A again: a duplicate, R stays. */
	expect(append(c, ra, la), 0);
	assert_state(c, e.pre, 1, sr, "drt");
	uint64_t n;
	expect(hc_kel_verify(c, e.pre, &n), 0);
	assert_int_equal(n, 3); /* dip, A, R */
	expect(hc_kel_verify(c, d.pre, NULL), 0);
	hc_close(c);
}

/*
 * Rule C: two drts of E at the same sn anchored by two drts of its delegator M at one
 * sn (neither A nor B decides): the rules climb to M's delegator T, whose anchors of
 * M's two drts decide (T's later ixn anchors M's later drt, so E's later drt wins).
 * Control: a drt of E anchored only by M's superseded drt is not anchored (keripy's
 * getKeLast: the last event at that sn counts) and waits.
 */
static void rules_climb_to_the_delegators_delegator(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	static struct id t, mm, e;
	static char m[8192];
	static char e1m[8192], e2m[8192], e3m[8192], m1m[8192], m2m[8192];
	char t1[45], t2[45], m1[45], se1[45], se2[45], se3[45], sm1[45], sm2[45];
	expect(append(c, m, root_icp(m, &t, 1)), 0);
	delegate(c, &mm, 20, &t, 1, t.pre, &t.k[0], t1);
	delegate(c, &e, 40, &mm, 1, mm.pre, &mm.k[0], m1);

	/* E's drt 1 (and drt 3) anchored by M's drt 1 at sn 2, anchored by T's ixn 2. */
	size_t le1 = est(e1m, "drt", e.pre, 1, e.pre, &e.k[1], &e.k[2], "[]");
	said_into(e1m, se1);
	size_t le3 = est(e3m, "drt", e.pre, 1, e.pre, &e.k[1], &e.k[4], "[]");
	said_into(e3m, se3);
	size_t lm1 = est(m1m, "drt", mm.pre, 2, m1, &mm.k[1], &mm.k[2],
	                 seals(2, e.pre, 1u, se1, e.pre, 1u, se3));
	said_into(m1m, sm1);
	expect(append(c, m, ixn_of(m, t.pre, 2, t1, seals(1, mm.pre, 2u, sm1), &t.k[0])), 0);
	said_into(m, t2);
	expect(append(c, m1m, lm1), 0);
	expect(append(c, e1m, le1), 0);
	assert_state(c, e.pre, 1, se1, "drt");

	/* E's drt 2 anchored by M's drt 2 at sn 2, which T's ixn 3 anchors (later than
	 * ixn 2): M's drt 2 supersedes M's drt 1 (rule B1 on M), and E's drt 2 supersedes
	 * E's drt 1 by rule C (M's two drts tie at sn 2; T decides). */
	size_t le2 = est(e2m, "drt", e.pre, 1, e.pre, &e.k[1], &e.k[3], "[]");
	said_into(e2m, se2);
	size_t lm2 = est(m2m, "drt", mm.pre, 2, m1, &mm.k[1], &mm.k[3],
	                 seals(1, e.pre, 1u, se2));
	said_into(m2m, sm2);
	expect(append(c, m, ixn_of(m, t.pre, 3, t2, seals(1, mm.pre, 2u, sm2), &t.k[0])), 0);
	expect(append(c, m2m, lm2), 0);
	assert_state(c, mm.pre, 2, sm2, "drt");
	expect(append(c, e2m, le2), 0);
	assert_state(c, e.pre, 1, se2, "drt");

	/* E's drt 3: its only anchor is M's superseded drt 1: not anchored, waits. */
	expect(append(c, e3m, le3), HC_EKERI_DELEGATION);
	assert_non_null(strstr(hc_last_error(), "escrowed:"));
	assert_state(c, e.pre, 1, se2, "drt");
	expect(hc_kel_verify(c, e.pre, NULL), 0);
	expect(hc_kel_verify(c, mm.pre, NULL), 0);
	hc_close(c);
}

/*
 * keripy's validateDelegation accepts a delegated event without the delegator's anchor
 * when the node owns (or is a group member of) the delegate, or witnesses it
 * (locallyOwned / locallyMembered / locallyWitnessed of the delegate's Kever): the
 * controller and its witnesses accept first so receipts and the approval can follow.
 * The delegator being local is no exemption (keripy holds that event in its delegables
 * escrow until the delegator approves it).
 */
static void local_delegate_or_witness_needs_no_anchor(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	static struct id d, e, f, g;
	static struct kp w;
	static char m[8192];
	expect(append(c, m, root_icp(m, &d, 1)), 0);

	/* Remote: no anchor, waits. */
	size_t l = dip_of(m, &e, 20, d.pre, "0", "");
	expect(append(c, m, l), HC_EKERI_DELEGATION);
	struct hc_keystate ks;
	expect(hc_keystate_get(c, e.pre, &ks), HC_ENOTFOUND);
	/* The delegator is the node's own: still waits for its approval (anchor). */
	const char *own[1] = {d.pre};
	expect(hc_kel_set_local(c, own, 1, NULL, 0), 0);
	expect(append(c, m, l), HC_EKERI_DELEGATION);
	expect(hc_keystate_get(c, e.pre, &ks), HC_ENOTFOUND);
	/* The delegate is the node's own: accepted without the anchor, and its drt too. */
	own[0] = e.pre;
	expect(hc_kel_set_local(c, own, 1, NULL, 0), 0);
	expect(append(c, m, l), 0);
	assert_state(c, e.pre, 0, e.pre, "dip");
	char rs[45];
	expect(append(c, m, est(m, "drt", e.pre, 1, e.pre, &e.k[1], &e.k[2], "[]")), 0);
	said_into(m, rs);
	assert_state(c, e.pre, 1, rs, "drt");
	expect(hc_kel_verify(c, e.pre, NULL), 0);

	/* The superseding rules are skipped for a local delegate too (keripy returns
	 * before them). Once the node no longer owns it, hc_kel_verify applies them: a drt
	 * approved earlier than the one it superseded fails rule B. */
	char d1[45], d2[45], sa[45], sb[45];
	static char ra[8192], rb[8192];
	static struct id h;
	expect(hc_kel_set_local(c, NULL, 0, NULL, 0), 0);
	delegate(c, &h, 100, &d, 1, d.pre, &d.k[0], d1);
	size_t la = drt1(ra, &h, 2, sa), lb = drt1(rb, &h, 3, sb);
	expect(append(c, m, ixn_of(m, d.pre, 2, d1, seals(1, h.pre, 1u, sa), &d.k[0])), 0);
	said_into(m, d2);
	expect(append(c, m, ixn_of(m, d.pre, 3, d2, seals(1, h.pre, 1u, sb), &d.k[0])), 0);
	expect(append(c, rb, lb), 0);
	expect(append(c, ra, la), HC_EKERI_DELEGATION); /* remote: A is approved earlier */
	own[0] = h.pre;
	expect(hc_kel_set_local(c, own, 1, NULL, 0), 0);
	expect(append(c, ra, la), 0);
	assert_state(c, h.pre, 1, sa, "drt");
	expect(hc_kel_verify(c, h.pre, NULL), 0);
	expect(hc_kel_set_local(c, NULL, 0, NULL, 0), 0);
	expect(hc_kel_verify(c, h.pre, NULL), HC_EKERI_DELEGATION);
	assert_non_null(strstr(hc_last_error(), "rule B"));

	/* Witnessed by the node: accepted without the anchor (and without receipts). */
	mkkey(&w, 90, 'B');
	l = dip_of(m, &f, 60, d.pre, "1", list(1, w.qb));
	expect(hc_kel_set_local(c, NULL, 0, NULL, 0), 0);
	expect(append(c, m, l), HC_EKERI_UNWITNESSED);
	const char *wit[1] = {w.qb};
	expect(hc_kel_set_local(c, NULL, 0, wit, 1), 0);
	expect(append(c, m, l), 0);
	assert_state(c, f.pre, 0, f.pre, "dip");

	/* Remote again: another delegate waits for its anchor. */
	expect(hc_kel_set_local(c, NULL, 0, NULL, 0), 0);
	l = dip_of(m, &g, 80, d.pre, "0", "");
	expect(append(c, m, l), HC_EKERI_DELEGATION);
	expect(hc_keystate_get(c, g.pre, &ks), HC_ENOTFOUND);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(drt_supersedes_interaction_events_once_anchored,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(drt_supersedes_drt_when_its_delegation_is_later,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(drt_supersedes_drt_anchored_by_a_delegator_recovery,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(rules_climb_to_the_delegators_delegator,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(local_delegate_or_witness_needs_no_anchor,
		                                testutil_setup, testutil_teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
