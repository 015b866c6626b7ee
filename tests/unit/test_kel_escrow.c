/* KERI witness rule, receipts and escrows through the cache (issue 10: rule 1,
 * "Receipts", "Escrows"), with our own streams signed from fixed seeds. Outcomes
 * follow keripy's tests/core/test_witness.py and test_escrow.py where they overlap:
 * a witnessed event waits for bt receipts, a receipt of an unseen event waits for it,
 * out-of-order and partially signed events wait and are promoted in first-seen order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backing/backing.h"
#include "cache/cache.h"
#include "hotcache.h"
#include "tests/unit/keri_sign.h"
#include "tests/unit/testutil.h"

static char dir[256];
static struct kp K[8], W[4], V; /* controller keys, witnesses, a watcher (B) */
static char m[16384], m2[16384];

static hc_cache *open_cfg(const char *key, const char *value)
{
	struct hc_config cfg;
	hc_config_default(&cfg);
	char err[256], path[1100];
	snprintf(path, sizeof(path), "%s/db", dir);
	assert_int_equal(hc_config_set(&cfg, "backing.path", path, err, sizeof(err)), 0);
	assert_int_equal(hc_config_set(&cfg, "backing.durability", "wal", err, sizeof(err)), 0);
	cfg.memory_limit = 32u << 20;
	cfg.max_entry = 64u << 10;
	if (key != NULL && hc_config_set(&cfg, key, value, err, sizeof(err)) != 0)
		fail_msg("%s: %s", key, err);
	hc_cache *c = NULL;
	int rc = hc_open(&cfg, &c);
	if (rc != 0)
		fail_msg("hc_open: %s: %s", hc_strerror(rc), hc_last_error());
	return c;
}

static hc_cache *open_store(void)
{
	return open_cfg(NULL, NULL);
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	for (int i = 0; i < 8; i++)
		mkkey(&K[i], i + 1, 'D');
	for (int i = 0; i < 4; i++)
		mkkey(&W[i], 100 + i, 'B');
	mkkey(&V, 120, 'B');
	return 0;
}

static int each_setup(void **state)
{
	(void)state;
	return testutil_dir_make(dir, sizeof(dir), "hc-kel-escrow");
}

static int each_teardown(void **state)
{
	(void)state;
	return testutil_dir_remove(dir);
}

/* The outcome of one message, as hc_kel_import reports it. */
struct one {
	int outcome, code;
	char why[512];
};

static void note(const struct hc_kel_event *ev, void *arg)
{
	struct one *o = arg;
	o->outcome = ev->outcome;
	o->code = ev->code;
	snprintf(o->why, sizeof(o->why), "%s", ev->why);
}

static struct one import1(hc_cache *c, const void *msg, size_t len)
{
	struct one o = {-1, 0, ""};
	struct hc_kel_report r = {.on_event = note, .arg = &o};
	int rc = hc_kel_import(c, msg, len, &r);
	(void)rc;
	return o;
}

#define assert_outcome(o, want, wcode)                                                  \
	do {                                                                            \
		struct one o_ = (o);                                                    \
		if (o_.outcome != (want) || o_.code != (wcode))                         \
			fail_msg("outcome %d code %d (%s), wanted %d %d", o_.outcome,   \
			         o_.code, o_.why, (want), (wcode));                     \
	} while (0)

/* A -D quadruple: receiptor pre, its est event sn (0A) and SAID, one siger by k. */
static size_t quadruple(char *buf, size_t len, const char *ev, size_t evlen, const char *pre,
                        const char *said, const struct kp *k)
{
	uint8_t snraw[18] = {0};
	char sntxt[25];
	keri_b64_encode(snraw, 18, sntxt); /* sn 0: 0A + 22 chars */
	sntxt[24] = 0;
	len += (size_t)sprintf(buf + len, "-DAB%s0A%s%s", pre, sntxt + 2, said);
	uint8_t raw[66] = {0};
	char txt[89];
	crypto_sign_detached(raw + 2, NULL, (const uint8_t *)ev, evlen, k->sk);
	keri_b64_encode(raw, 66, txt);
	txt[88] = 0;
	len += (size_t)sprintf(buf + len, "AA%s", txt + 2);
	return len;
}

/* The event's SAID and prefix out of its body. */
static void said_of(const char *ev, char out[45])
{
	memcpy(out, strstr(ev, "\"d\":\"") + 5, 44);
	out[44] = 0;
}

struct rlist {
	int n, kinds[8];
	char who[8][45];
};

static int collect(const struct hc_kel_receipt *r, void *arg)
{
	struct rlist *l = arg;
	if (l->n < 8) {
		l->kinds[l->n] = r->kind;
		snprintf(l->who[l->n], 45, "%s", r->receiptor);
	}
	l->n++;
	return 0;
}

/* icp of K0 with witnesses W0, W1 and bt 2, signed by K0; body length in *body. */
static size_t witnessed_icp(char *buf, size_t *body)
{
	*body = icp(buf, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "2",
	            list(2, W[0].qb, W[1].qb), "");
	return sign1(buf, *body, &K[0]);
}

/* Rule 1 with its controls: 2 of 2 receipts attached is accepted; 0, then 1 of 2,
 * wait in the partially witnessed escrow (before issue 10: accepted with none,
 * rejected with one); the second receipt arriving later as an rct promotes it. */
static void witnessed_icp_waits_for_bt_receipts(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	size_t b, l = witnessed_icp(m, &b);
	char pre[45];
	said_of(m, pre);
	struct sg w01[2] = {{&W[0], 0, -1}, {&W[1], 1, -1}};
	struct hc_keystate ks;

	/* 0 receipts. */
	assert_outcome(import1(c, m, l), HC_KEL_ESCROWED, HC_EKERI_UNWITNESSED);
	assert_int_equal(hc_keystate_get(c, pre, &ks), HC_ENOTFOUND);
	/* The same event with 1 of 2: merged into the entry, still waiting. */
	memcpy(m2, m, l);
	size_t l1 = attach(m2, l, b, 'B', 1, w01);
	assert_outcome(import1(c, m2, l1), HC_KEL_ESCROWED, HC_EKERI_UNWITNESSED);
	assert_int_equal(hc_keystate_get(c, pre, &ks), HC_ENOTFOUND);
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.escrow_entries, 1);
	/* W1's receipt as an rct (-B at index 1): the event is promoted. */
	struct sg w1 = {&W[1], 1, -1};
	/* -B over the receipted event's body, not the rct's. */
	static char sig[16384];
	memcpy(sig, m, b);
	size_t sl = attach(sig, b, b, 'B', 1, &w1);
	size_t rl = rct(m2, pre, "0", pre);
	memcpy(m2 + rl, sig + b, sl - b);
	rl += sl - b;
	struct one o = import1(c, m2, rl);
	assert_int_equal(o.outcome, HC_KEL_ESCROWED); /* the rct: its event unseen then */
	assert_int_equal(o.code, HC_EKERI_UNSEEN);
	assert_int_equal(hc_keystate_get(c, pre, &ks), 0);
	assert_int_equal(ks.sn, 0);
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.escrow_entries, 0);
	assert_true(st.promoted >= 1);
	struct rlist rlst = {0};
	uint64_t n = 0;
	assert_int_equal(hc_kel_receipts(c, pre, 0, collect, &rlst, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rlst.kinds[0], HC_RECEIPT_WITNESS);
	assert_int_equal(rlst.kinds[1], HC_RECEIPT_WITNESS);
	hc_close(c);
	assert_int_equal(testutil_dir_remove(dir), 0);
	assert_int_equal(testutil_dir_make(dir, sizeof(dir), "hc-kel-escrow"), 0);

	/* Control: both receipts attached, accepted at once. */
	c = open_store();
	l = attach(m, l, b, 'B', 2, w01);
	assert_outcome(import1(c, m, l), HC_KEL_ACCEPTED, 0);
	assert_int_equal(hc_kel_receipts(c, pre, 0, collect, &(struct rlist){0}, &n), 0);
	assert_int_equal(n, 2);
	hc_close(c);
}

/* keripy's locallyOwned / locallyWitnessed: the node's own identifier, or one it
 * witnesses, is accepted without receipts; set per cache or through keri.witness. */
static void local_prefixes_are_exempt_from_bt(void **state)
{
	(void)state;
	size_t b, l = witnessed_icp(m, &b);
	char pre[45];
	said_of(m, pre);
	struct hc_keystate ks;
	hc_cache *c = open_store();
	const char *own[1] = {pre};
	assert_int_equal(hc_kel_set_local(c, own, 1, NULL, 0), 0);
	assert_outcome(import1(c, m, l), HC_KEL_ACCEPTED, 0);
	assert_int_equal(hc_keystate_get(c, pre, &ks), 0);
	/* Its stored KEL verifies (signatures again; bt is not re-counted: the event was
	 * accepted without receipts, as a local one). */
	uint64_t events;
	if (hc_kel_verify(c, pre, &events) != 0)
		fail_msg("verify: %s", hc_last_error());
	const char *bad[1] = {"short"};
	assert_int_equal(hc_kel_set_local(c, bad, 1, NULL, 0), HC_EINVAL);
	hc_close(c);
	assert_int_equal(testutil_dir_remove(dir), 0);
	assert_int_equal(testutil_dir_make(dir, sizeof(dir), "hc-kel-escrow"), 0);

	/* A witness node (keri.witness = W1): accepted without receipts; a receipt by W1
	 * itself arriving in a stream is skipped (keripy skips a remote own receipt). */
	c = open_cfg("keri.witness", W[1].qb);
	assert_outcome(import1(c, m, l), HC_KEL_ACCEPTED, 0);
	const struct kp *w1[1] = {&W[1]};
	size_t rl = rct(m2, pre, "0", pre);
	rl = couples(m2, rl, m, b, 1, w1);
	struct one o = import1(c, m2, rl);
	assert_int_equal(o.outcome, HC_KEL_REJECTED);
	assert_true(strstr(o.why, "receipt rejected: own receipt") != NULL);
	hc_close(c);
	assert_int_equal(testutil_dir_remove(dir), 0);
	assert_int_equal(testutil_dir_make(dir, sizeof(dir), "hc-kel-escrow"), 0);
}

/* Receipts of an accepted event: a witness's couple (stored as its indexed
 * signature), a watcher's couple, a transferable -D receipt; a forged one and one of
 * another event are rejected with the reason; a duplicate brings a late receipt. */
static void receipts_are_verified_stored_and_listed(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	/* A witnessed icp accepted with W0's signature only once bt is 1. */
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "1",
	               list(2, W[0].qb, W[1].qb), "");
	size_t l = sign1(m, b, &K[0]);
	char pre[45];
	said_of(m, pre);
	struct sg w0 = {&W[0], 0, -1};
	size_t la = attach(m, l, b, 'B', 1, &w0);
	assert_outcome(import1(c, m, la), HC_KEL_ACCEPTED, 0);
	/* A transferable receiptor's KEL: icp of K5 (no witnesses). */
	size_t rb = icp(m2, NULL, "1", list(1, K[5].qb), "1", list(1, K[6].dig), "0", "", "");
	char rpre[45];
	said_of(m2, rpre);
	assert_outcome(import1(c, m2, sign1(m2, rb, &K[5])), HC_KEL_ACCEPTED, 0);

	static char r[8192];
	const struct kp *cw[2] = {&W[1], &V};
	size_t rl = rct(r, pre, "0", pre);
	rl = couples(r, rl, m, b, 2, cw);
	struct one o = import1(c, r, rl);
	assert_int_equal(o.outcome, HC_KEL_RECEIPT);
	assert_true(strncmp(o.why, "receipt stored: 2", 17) == 0);
	rl = rct(r, pre, "0", pre);
	rl = quadruple(r, rl, m, b, rpre, rpre, &K[5]);
	o = import1(c, r, rl);
	if (o.outcome != HC_KEL_RECEIPT)
		fail_msg("trans receipt: %s", o.why);
	/* Forged: V signs, W1's key is named. */
	const struct kp *forged[1] = {&V};
	rl = rct(r, pre, "0", pre);
	size_t at = rl;
	rl = couples(r, rl, m, b, 1, forged);
	memcpy(r + at + 4, W[1].qb, 44);
	o = import1(c, r, rl);
	assert_int_equal(o.outcome, HC_KEL_REJECTED);
	assert_true(strstr(o.why, "receipt rejected: receipt couple of") != NULL);
	/* A receipt naming another SAID at sn 0. */
	rl = rct(r, pre, "0", K[3].dig);
	rl = couples(r, rl, m, b, 1, cw);
	o = import1(c, r, rl);
	assert_int_equal(o.outcome, HC_KEL_REJECTED);
	assert_true(strstr(o.why, "not the receipted") != NULL);

	struct rlist lst = {0};
	uint64_t n = 0;
	assert_int_equal(hc_kel_receipts(c, pre, 0, collect, &lst, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(lst.kinds[0], HC_RECEIPT_WITNESS);
	assert_int_equal(lst.kinds[1], HC_RECEIPT_WITNESS);
	assert_int_equal(lst.kinds[2], HC_RECEIPT_NONTRANS);
	assert_string_equal(lst.who[2], V.qb);
	assert_int_equal(lst.kinds[3], HC_RECEIPT_TRANS);
	assert_string_equal(lst.who[3], rpre);
	assert_int_equal(hc_kel_receipts(c, pre, 7, collect, &lst, &n), HC_ENOTFOUND);
	hc_close(c);
	assert_int_equal(testutil_dir_remove(dir), 0);
	assert_int_equal(testutil_dir_make(dir, sizeof(dir), "hc-kel-escrow"), 0);

	/* A duplicate of an accepted event with a late witness signature: merged. */
	c = open_store();
	assert_outcome(import1(c, m, la), HC_KEL_ACCEPTED, 0);
	struct sg w1 = {&W[1], 1, -1};
	size_t ld = attach(m, l, b, 'B', 1, &w1);
	o = import1(c, m, ld);
	assert_int_equal(o.outcome, HC_KEL_DUPLICATE);
	assert_int_equal(hc_kel_receipts(c, pre, 0, collect, &(struct rlist){0}, &n), 0);
	assert_int_equal(n, 2);
	hc_close(c);
	assert_int_equal(testutil_dir_remove(dir), 0);
	assert_int_equal(testutil_dir_make(dir, sizeof(dir), "hc-kel-escrow"), 0);
}

/* A 2-of-3 icp signed by K0 in one message and K1 in a second: the first waits as
 * partially signed (it was HC_EKERI_THRESHOLD, rejected), the second completes it and
 * the stored event carries both signatures. keripy test_escrow.py's partial sigs. */
static void partially_signed_event_completed_by_second_message(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	size_t b = icp(m, NULL, "2", list(3, K[0].qb, K[1].qb, K[2].qb), "1", list(1, K[3].dig),
	               "0", "", "");
	char pre[45];
	said_of(m, pre);
	memcpy(m2, m, b);
	struct sg s0 = {&K[0], 0, -1}, s1 = {&K[1], 1, -1};
	size_t l0 = attach(m, b, b, 'A', 1, &s0);
	size_t l1 = attach(m2, b, b, 'A', 1, &s1);
	assert_outcome(import1(c, m, l0), HC_KEL_ESCROWED, HC_EKERI_THRESHOLD);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, pre, &ks), HC_ENOTFOUND);
	/* Again the same half: no second entry. */
	assert_outcome(import1(c, m, l0), HC_KEL_ESCROWED, HC_EKERI_THRESHOLD);
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.escrow_entries, 1);
	assert_outcome(import1(c, m2, l1), HC_KEL_ACCEPTED, 0);
	assert_int_equal(hc_keystate_get(c, pre, &ks), 0);
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.escrow_entries, 0);
	uint64_t events;
	assert_int_equal(hc_kel_verify(c, pre, &events), 0);
	hc_close(c);
	assert_int_equal(testutil_dir_remove(dir), 0);
	assert_int_equal(testutil_dir_make(dir, sizeof(dir), "hc-kel-escrow"), 0);
}

/* A 20-event KEL (icp, rot, 18 ixn) in a fixed random order reaches the same state as
 * in order; some of it waits in the escrow across a close and reopen. */
#define NEV 20
static char evs[NEV][2048];
static size_t evl[NEV];

static void build_kel(char pre[45])
{
	size_t b = icp(evs[0], NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	evl[0] = sign1(evs[0], b, &K[0]);
	said_of(evs[0], pre);
	char prior[45], sn[8];
	memcpy(prior, pre, 45);
	b = rot(evs[1], pre, "1", prior, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "0", "",
	        "");
	evl[1] = sign1(evs[1], b, &K[1]);
	said_of(evs[1], prior);
	for (int i = 2; i < NEV; i++) {
		snprintf(sn, sizeof(sn), "%x", i);
		b = ixn(evs[i], pre, sn, prior);
		evl[i] = sign1(evs[i], b, &K[1]);
		said_of(evs[i], prior);
	}
}

static void out_of_order_kel_reaches_the_in_order_state(void **state)
{
	(void)state;
	char pre[45];
	build_kel(pre);
	struct hc_keystate want, got;
	hc_cache *c = open_store();
	for (int i = 0; i < NEV; i++)
		assert_outcome(import1(c, evs[i], evl[i]), HC_KEL_ACCEPTED, 0);
	assert_int_equal(hc_keystate_get(c, pre, &want), 0);
	hc_close(c);
	assert_int_equal(testutil_dir_remove(dir), 0);
	assert_int_equal(testutil_dir_make(dir, sizeof(dir), "hc-kel-escrow"), 0);

	int order[NEV];
	for (int i = 0; i < NEV; i++)
		order[i] = i;
	uint64_t seed = 0x1234567;
	for (int i = NEV - 1; i > 0; i--) {
		int j = (int)(testutil_xorshift(&seed) % (uint64_t)(i + 1));
		int t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	c = open_store();
	int half = NEV / 2;
	for (int i = 0; i < half; i++)
		(void)import1(c, evs[order[i]], evl[order[i]]);
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	uint64_t pending = st.escrow_entries;
	assert_true(pending > 0);
	hc_close(c);
	/* Restart with escrowed events pending: they are still there. */
	c = open_store();
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.escrow_entries, pending);
	assert_true(st.escrow_bytes > 0);
	for (int i = half; i < NEV; i++)
		(void)import1(c, evs[order[i]], evl[order[i]]);
	assert_int_equal(hc_keystate_get(c, pre, &got), 0);
	assert_int_equal(got.sn, want.sn);
	assert_string_equal(got.said, want.said);
	assert_string_equal(got.keys[0], want.keys[0]);
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.escrow_entries, 0);
	assert_int_equal(st.escrow_bytes, 0);
	uint64_t events;
	assert_int_equal(hc_kel_verify(c, pre, &events), 0);
	assert_int_equal(events, NEV);
	hc_close(c);
	assert_int_equal(testutil_dir_remove(dir), 0);
	assert_int_equal(testutil_dir_make(dir, sizeof(dir), "hc-kel-escrow"), 0);
}

/* A flood of out-of-order events stays within keri.escrow_limit, oldest dropped first
 * and counted; it evicts no key state. */
static void escrow_flood_is_bounded_by_its_limit(void **state)
{
	(void)state;
	char pre[45];
	build_kel(pre);
	hc_cache *c = open_cfg("keri.escrow_limit", "64 KiB");
	assert_outcome(import1(c, evs[0], evl[0]), HC_KEL_ACCEPTED, 0);
	/* 400 distinct events claiming sn 5.. of pre: never acceptable. */
	for (int i = 0; i < 400; i++) {
		char sn[16];
		snprintf(sn, sizeof(sn), "%x", 5 + i);
		size_t b = ixn(m, pre, sn, pre);
		assert_outcome(import1(c, m, sign1(m, b, &K[0])), HC_KEL_ESCROWED, HC_EKERI_SN);
	}
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_true(st.escrow_bytes <= 64u << 10);
	assert_true(st.escrow_evicted > 0);
	assert_int_equal(st.escrowed, 400);
	assert_int_equal(st.escrow_entries + st.escrow_evicted, 400);
	assert_int_equal(st.keystate_evictions, 0);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, pre, &ks), 0);
	/* The newest stayed: the last one is still escrowed, the first is gone (the rot
	 * and ixn 1..4 arriving now promote nothing from the flood). */
	hc_close(c);
	assert_int_equal(testutil_dir_remove(dir), 0);
	assert_int_equal(testutil_dir_make(dir, sizeof(dir), "hc-kel-escrow"), 0);
}

/* keri.escrow_timeout: an entry older than it is dropped and counted as expired. */
static void escrow_entries_expire(void **state)
{
	(void)state;
	char pre[45];
	build_kel(pre);
	hc_cache *c = open_cfg("keri.escrow_timeout", "1");
	assert_outcome(import1(c, evs[0], evl[0]), HC_KEL_ACCEPTED, 0);
	assert_outcome(import1(c, evs[3], evl[3]), HC_KEL_ESCROWED, HC_EKERI_SN);
	sleep(2);
	/* The next acceptance sweeps first: ixn 3 expired, so ixn 2 does not promote it. */
	assert_outcome(import1(c, evs[1], evl[1]), HC_KEL_ACCEPTED, 0);
	assert_outcome(import1(c, evs[2], evl[2]), HC_KEL_ACCEPTED, 0);
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.escrow_entries, 0);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, pre, &ks), 0);
	assert_int_equal(ks.sn, 2);
	hc_close(c);
}

/* The retry's batch (256 index keys per seek) is not a cap: a 300-event KEL delivered
 * in reverse, the icp last, is promoted whole (before: the first 256 entries listed in
 * first-seen order were sn 299..44, none promotable, and the pass ended there: sn 1..299
 * waited for their timeout, lost). */
#define LONG_KEL 300
static void reversed_kel_longer_than_a_retry_batch_is_promoted(void **state)
{
	(void)state;
	static char ev[LONG_KEL][1024];
	static size_t el[LONG_KEL];
	char pre[45], prior[45], sn[8];
	size_t b = icp(ev[0], NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	el[0] = sign1(ev[0], b, &K[0]);
	said_of(ev[0], pre);
	memcpy(prior, pre, sizeof(prior));
	for (int i = 1; i < LONG_KEL; i++) {
		snprintf(sn, sizeof(sn), "%x", i);
		b = ixn(ev[i], pre, sn, prior);
		el[i] = sign1(ev[i], b, &K[0]);
		said_of(ev[i], prior);
	}
	hc_cache *c = open_store();
	for (int i = LONG_KEL - 1; i > 0; i--)
		assert_outcome(import1(c, ev[i], el[i]), HC_KEL_ESCROWED, HC_EKERI_SN);
	struct hc_kel_report r = {0};
	assert_int_equal(hc_kel_import(c, ev[0], el[0], &r), 0);
	assert_int_equal(r.promoted, LONG_KEL - 1);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, pre, &ks), 0);
	assert_int_equal(ks.sn, LONG_KEL - 1);
	assert_string_equal(ks.said, prior);
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.escrow_entries, 0);
	hc_close(c);
}

/* A cascade has no prefix cap: a delegator's one ixn anchors 20 delegates' dips, each
 * delegate's ixn at sn 1 escrowed out of order beside it; the anchor promotes every dip
 * and then every ixn (before: the first 16 prefixes only; the other ixns were lost). */
#define NDEL 20
static void anchor_promotes_many_delegates_and_their_escrowed_events(void **state)
{
	(void)state;
	static char d[NDEL][2048], x[NDEL][2048], a[NDEL * 160 + 8], bm[NDEL * 160 + 4096];
	static size_t dl[NDEL], xl[NDEL];
	static struct kp dk[NDEL];
	char bpre[45], dpre[NDEL][45];
	for (int i = 0; i < NDEL; i++)
		mkkey(&dk[i], 200 + i, 'D');
	size_t b = icp(bm, NULL, "1", list(1, K[5].qb), "1", list(1, K[6].dig), "0", "", "");
	hc_cache *c = open_store();
	assert_outcome(import1(c, bm, sign1(bm, b, &K[5])), HC_KEL_ACCEPTED, 0);
	said_of(bm, bpre);
	size_t al = (size_t)sprintf(a, "[");
	for (int i = 0; i < NDEL; i++) {
		/* Delegate i: its own key (seed 200 + i), next K[4]. */
		b = dip(d[i], "1", list(1, dk[i].qb), "1", list(1, K[4].dig), "0", "", "", bpre);
		dl[i] = sign1(d[i], b, &dk[i]);
		said_of(d[i], dpre[i]);
		b = ixn(x[i], dpre[i], "1", dpre[i]);
		xl[i] = sign1(x[i], b, &dk[i]);
		al += (size_t)sprintf(a + al, "%s%s", i ? "," : "", seal(dpre[i], "0", dpre[i]));
	}
	sprintf(a + al, "]");
	for (int i = 0; i < NDEL; i++) {
		assert_outcome(import1(c, x[i], xl[i]), HC_KEL_ESCROWED, HC_EKERI_SN);
		assert_outcome(import1(c, d[i], dl[i]), HC_KEL_ESCROWED, HC_EKERI_DELEGATION);
	}
	b = ixn_a(bm, bpre, "1", bpre, a);
	struct hc_kel_report r = {0};
	assert_int_equal(hc_kel_import(c, bm, sign1(bm, b, &K[5]), &r), 0);
	assert_int_equal(r.promoted, 2 * NDEL);
	for (int i = 0; i < NDEL; i++) {
		struct hc_keystate ks;
		assert_int_equal(hc_keystate_get(c, dpre[i], &ks), 0);
		assert_int_equal(ks.sn, 1);
		assert_string_equal(ks.di, bpre);
	}
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.escrow_entries, 0);
	hc_close(c);
}

/* A store whose escrow has the first index layout ("<pre>:e.<seq>", no layout mark) is
 * re-indexed when opened: its escrowed event is still promoted. The old layout is made
 * by hand from a new entry: its index key rewritten, the mark deleted. */
static void first_layout_escrow_is_reindexed_at_open(void **state)
{
	(void)state;
	char pre[45];
	build_kel(pre);
	hc_cache *c = open_store();
	assert_outcome(import1(c, evs[2], evl[2]), HC_KEL_ESCROWED, HC_EKERI_SN);
	char nk[128], ok[128];
	snprintf(nk, sizeof(nk), "%s:e.%016x.%016x", pre, 2, 1); /* sn 2, seq 1 */
	snprintf(ok, sizeof(ok), "%s:e.%016x", pre, 1);
	struct backing_batch *bt = backing_batch_new(c->backing);
	assert_non_null(bt);
	assert_int_equal(backing_batch_delete(bt, BACKING_KEL, nk, strlen(nk)), 0);
	assert_int_equal(backing_batch_delete(bt, BACKING_KEL, "~esc!layout", 11), 0);
	assert_int_equal(backing_batch_put_raw(bt, BACKING_KEL, ok, strlen(ok), "", 0), 0);
	assert_int_equal(backing_batch_commit(bt), 0);
	backing_batch_free(bt);
	hc_close(c);
	c = open_store();
	struct backing_pin pin;
	assert_int_equal(backing_get_raw(c->backing, BACKING_KEL, ok, strlen(ok), &pin),
	                 HC_ENOTFOUND);
	assert_int_equal(backing_get_raw(c->backing, BACKING_KEL, nk, strlen(nk), &pin), 0);
	backing_pin_release(&pin);
	assert_outcome(import1(c, evs[0], evl[0]), HC_KEL_ACCEPTED, 0);
	assert_outcome(import1(c, evs[1], evl[1]), HC_KEL_ACCEPTED, 0);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, pre, &ks), 0);
	assert_int_equal(ks.sn, 2);
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.escrow_entries, 0);
	hc_close(c);
}

/* Two threads deliver the same KEL, one in reverse (escrowing and retrying), one in
 * order: the escrow's lock and the appends' stripe locks interleave; the KEL ends whole
 * and verifies. */
struct deliver {
	hc_cache *c;
	int reverse;
};

static void *deliver_main(void *arg)
{
	struct deliver *d = arg;
	for (int k = 0; k < NEV; k++) {
		int i = d->reverse ? NEV - 1 - k : k;
		size_t used;
		int rc = hc_kel_append(d->c, evs[i], evl[i], &used);
		(void)rc;
	}
	return NULL;
}

static void concurrent_delivery_in_two_orders(void **state)
{
	(void)state;
	char pre[45];
	build_kel(pre);
	hc_cache *c = open_store();
	pthread_t t[2];
	struct deliver d[2] = {{c, 1}, {c, 0}};
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, deliver_main, &d[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	/* An entry the reverse thread escrowed after the in-order thread passed its sn
	 * is a stale copy: the next retry of the identifier drops it as a duplicate. */
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, pre, &ks), 0);
	assert_int_equal(ks.sn, NEV - 1);
	uint64_t events;
	assert_int_equal(hc_kel_verify(c, pre, &events), 0);
	assert_int_equal(events, NEV);
	hc_close(c);
}

/* keri.own / keri.witness: each setting adds prefixes, "" clears, a bad one changes
 * nothing and names itself. */
static void config_prefix_lists(void **state)
{
	(void)state;
	struct hc_config cfg;
	char err[512], two[100];
	hc_config_default(&cfg);
	snprintf(two, sizeof(two), "%s, %s", W[0].qb, W[1].qb);
	assert_int_equal(hc_config_set(&cfg, "keri.own", two, err, sizeof(err)), 0);
	assert_int_equal(hc_config_set(&cfg, "keri.own", W[2].qb, err, sizeof(err)), 0);
	assert_int_equal(strlen(cfg.keri_own), 3 * 44 + 2);
	assert_true(strstr(cfg.keri_own, W[2].qb) == cfg.keri_own + 90);
	assert_int_equal(hc_config_set(&cfg, "keri.own", "Bshort", err, sizeof(err)),
	                 HC_ECONFIG);
	assert_true(strstr(err, "Bshort") != NULL);
	assert_int_equal(strlen(cfg.keri_own), 3 * 44 + 2);
	assert_int_equal(hc_config_set(&cfg, "keri.own", "", err, sizeof(err)), 0);
	assert_string_equal(cfg.keri_own, "");
	assert_int_equal(hc_config_set(&cfg, "keri.escrow_limit", "1 KiB", err, sizeof(err)),
	                 HC_ECONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(witnessed_icp_waits_for_bt_receipts, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(local_prefixes_are_exempt_from_bt, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(receipts_are_verified_stored_and_listed, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(partially_signed_event_completed_by_second_message, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(out_of_order_kel_reaches_the_in_order_state, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(escrow_flood_is_bounded_by_its_limit, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(escrow_entries_expire, each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(first_layout_escrow_is_reindexed_at_open, each_setup,
		                                each_teardown),
		cmocka_unit_test_setup_teardown(reversed_kel_longer_than_a_retry_batch_is_promoted,
		                                each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(
			anchor_promotes_many_delegates_and_their_escrowed_events, each_setup,
			each_teardown),
		cmocka_unit_test(config_prefix_lists),
		cmocka_unit_test_setup_teardown(concurrent_delivery_in_two_orders, each_setup,
		                                each_teardown),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
