/*
 * test_keri: the keri/ module against keripy's byte-exact vectors
 * (tests/data/keri, read through vectors.h) and against our own events, signed here
 * with libsodium from fixed seeds, for what keripy's vectors lack (witness rotation
 * with br/ba and -B receipts, dual-indexed signatures, and one rejection per rule).
 * Every rejection asserts its own error code and that a sentence was written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "keri/keri.h"
#include "tests/unit/keri_sign.h"
#include "tests/unit/vectors.h"

#define DUMMY "############################################"
#define DT "2021-01-01T00:00:00.000000+00:00"

static char why[512];
static struct keri_event ev;

/* ---- helpers ------------------------------------------------------------------- */

static size_t read_vector(const char *name, uint8_t *buf, size_t cap)
{
	return vectors_read(name, buf, cap);
}

/* With HC_KERI_CORPUS_OUT=dir set, the own vectors are also written there as seeds
 * for the fuzz corpus (tests/fuzz/corpus/keri was made this way). */
static void dump(const char *name, const void *p, size_t n)
{
	const char *dir = getenv("HC_KERI_CORPUS_OUT");
	char path[1024];
	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Parse one message that must be exactly msg[0..len), then apply it. */
static int feed_flags(const struct keri_state *prior, const void *msg, size_t len,
                      unsigned flags, struct keri_state *next)
{
	size_t used = 0;
	why[0] = 0;
	int rc = keri_parse(msg, len, &ev, &used, why, sizeof(why));
	if (rc != KERI_OK)
		return rc;
	assert_int_equal(used, len);
	return keri_apply_flags(prior, &ev, flags, next, why, sizeof(why));
}

static int feed(const struct keri_state *prior, const void *msg, size_t len,
                struct keri_state *next)
{
	return feed_flags(prior, msg, len, 0, next);
}

#define assert_rejects(expr, code)                                                  \
	do {                                                                        \
		why[0] = 0;                                                         \
		int rc_ = (expr);                                                   \
		if (rc_ != (code))                                                  \
			fail_msg("expected %s, got %d (%s): %s", #code, rc_,        \
			         keri_strerror(rc_), why);                          \
		if ((code) < 0)                                                     \
			assert_true(why[0] != 0);                                   \
	} while (0)

/* Replay a whole stream; returns the number of events accepted, all must be. */
static int replay(const uint8_t *buf, size_t len, struct keri_state *st, char saids[][45])
{
	static struct keri_state tmp;
	size_t off = 0;
	int n = 0;
	while (off < len) {
		size_t used;
		int rc = keri_parse(buf + off, len - off, &ev, &used, why, sizeof(why));
		if (rc != KERI_OK)
			fail_msg("event %d: parse %d: %s", n, rc, why);
		rc = keri_apply(n ? st : NULL, &ev, &tmp, why, sizeof(why));
		if (rc != KERI_OK)
			fail_msg("event %d: apply %d: %s", n, rc, why);
		*st = tmp;
		if (saids)
			strcpy(saids[n], ev.said);
		off += used;
		n++;
	}
	return n;
}

static struct kp K[8], W[4];
static char m[8192], m2[8192];

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	for (int i = 0; i < 8; i++)
		mkkey(&K[i], i + 1, 'D');
	for (int i = 0; i < 4; i++)
		mkkey(&W[i], 100 + i, 'B');
	return 0;
}

/* ---- keripy's vectors ---------------------------------------------------------- */

static void vec01_direct_mode_reaches_keripy_state(void **state)
{
	(void)state;
	static uint8_t buf[65536];
	static struct keri_state st;
	char saids[8][45];
	size_t n = read_vector("01_direct_mode_coe_icp_rot_ixn.cesr", buf, sizeof(buf));
	assert_int_equal(replay(buf, n, &st, saids), 3);
	assert_int_equal(st.sn, 2);
	assert_string_equal(st.pre, "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL");
	assert_string_equal(saids[0], "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL");
	assert_string_equal(saids[1], "EKlC013XEpwYuCQ84aVnEAqzNurjAJDN6ayK-9NxggAr");
	assert_string_equal(saids[2], "EG3O9AV3lhySOadwTn810vHOZDc6B8TZY_u_4_iy_ono");
	assert_string_equal(st.d, saids[2]);
	assert_int_equal(st.nk, 1);
	assert_string_equal(st.k[0], "DIR7b_v2seXd-1PMMQn2j4atO2B1YiRQwKUQNgKBLUSV");
	assert_int_equal(st.nn, 1);
	assert_string_equal(st.n[0], "ED9O5NCpb7MABWrOY82keABUCkUrljKBds1mHStvG3RR");
	assert_int_equal(st.et, KERI_ILK_IXN);
	assert_int_equal(st.ee_sn, 1);
	assert_string_equal(st.ee_d, saids[1]);
}

static void vec04_weighted_kel_reaches_sn6(void **state)
{
	(void)state;
	static uint8_t buf[65536];
	static struct keri_state st;
	char saids[8][45];
	size_t n = read_vector("04_replay_deb_weighted_kel.cesr", buf, sizeof(buf));
	assert_int_equal(replay(buf, n, &st, saids), 7);
	assert_int_equal(st.sn, 6);
	assert_string_equal(st.d, "ECSAoB-QcY3Vnia2G80NLVMkiGssUV70JoWxwJbqx9gL");
	assert_int_equal(st.kt.weighted, 1);
	assert_int_equal(st.kt.size, 3);
	assert_int_equal(st.kt.wn[0], 1);
	assert_int_equal(st.kt.wd[0], 2);
	assert_string_equal(st.k[0], "DI_g1MHwpjqxN4o6rnEdCPPf32ExW8qLWqnkMg37qZBF");
	assert_string_equal(st.k[2], "DFhtmRbFmFLGwyNSprvCR9tohmlQxrzO6Z7k-MtqEd1S");
	assert_string_equal(st.n[1], "EM64JMyn8UliE8JY7zBEGyoudykA8ql52WkviIWs86ov");
	assert_int_equal(st.ee_sn, 2);
}

static void vec04_one_of_three_weighted_sigs_is_below_threshold(void **state)
{
	(void)state;
	static uint8_t buf[65536];
	static struct keri_state st;
	size_t n = read_vector("04_replay_deb_weighted_kel.cesr", buf, sizeof(buf));
	(void)n;
	/* The icp is 0x207 bytes, then -AAD and three 88-char signatures: keep one. */
	memcpy(buf + 0x207, "-AAB", 4);
	assert_rejects(feed(NULL, buf, 0x207 + 4 + 88, &st), KERI_ETHRESHOLD);
	/* Two halves reach 1. */
	memcpy(buf + 0x207, "-AAC", 4);
	assert_int_equal(feed(NULL, buf, 0x207 + 4 + 2 * 88, &st), KERI_OK);
}

static void vec07_multiclause_weighted_kel_accepted(void **state)
{
	(void)state;
	static uint8_t buf[65536];
	static struct keri_state st;
	size_t n = read_vector("07_weighted_wes_kel.cesr", buf, sizeof(buf));
	assert_int_equal(replay(buf, n, &st, NULL), 5);
	assert_int_equal(st.sn, 4);
	assert_string_equal(st.d, "EDDsDwylK-5wRXvhhFcR9A1wWn5MDXhA-dJgTolQpRh3");
	assert_int_equal(st.kt.nclauses, 2);
	assert_int_equal(st.kt.clause_len[0], 3);
	assert_int_equal(st.kt.clause_len[1], 2);
	assert_int_equal(st.nk, 5);
	assert_string_equal(st.n[4], "EMoJxeWkCePGAvhwa20i6kJsacO-54GNfTV5kRiSnnJy");
	char sith[256];
	int l = keri_tholder_json(&st.kt, sith, sizeof(sith));
	assert_true(l > 0);
	assert_string_equal(sith, "[[\"1/2\",\"1/2\",\"1/2\"],[\"1\",\"1\"]]");
	/* Multi-clause satisfaction: both clauses are needed. */
	assert_false(keri_tholder_satisfied(&st.kt, 0x07));  /* first clause only */
	assert_false(keri_tholder_satisfied(&st.kt, 0x18));  /* second clause only */
	assert_true(keri_tholder_satisfied(&st.kt, 0x03 | 0x08));
	assert_false(keri_tholder_satisfied(&st.kt, 0x01 | 0x18));
}

static void vec09_10_abandoned_at_inception(void **state)
{
	(void)state;
	static uint8_t buf[4096];
	static struct keri_state a, b, c;
	size_t n = read_vector("09_messagize_icp_sig.cesr", buf, sizeof(buf));
	assert_int_equal(feed(NULL, buf, n, &a), KERI_OK);
	assert_int_equal(ev.nsigs, 1);
	assert_int_equal(a.nn, 0);
	n = read_vector("10_messagize_icp_sig_pipelined.cesr", buf, sizeof(buf));
	assert_int_equal(feed(NULL, buf, n, &b), KERI_OK);
	assert_int_equal(ev.nsigs, 1);
	assert_memory_equal(&a, &b, sizeof(a));
	/* No later event can be accepted: an ixn with a correct SAID and p. */
	size_t l = ixn(m, a.pre, "1", a.d);
	assert_rejects(feed(&a, m, l, &c), KERI_EABANDONED);
	l = rot(m, a.pre, "1", a.d, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	assert_rejects(feed(&a, m, l, &c), KERI_EABANDONED);
}

static void vec11_every_body_said_correct(void **state)
{
	(void)state;
	static uint8_t buf[8192];
	static struct keri_state s[12];
	static const enum keri_ilk ilks[11] = {
		KERI_ILK_ICP, KERI_ILK_ICP, KERI_ILK_ICP, KERI_ILK_ICP, KERI_ILK_ICP, KERI_ILK_ICP,
		KERI_ILK_ROT, KERI_ILK_ROT, KERI_ILK_IXN, KERI_ILK_DIP, KERI_ILK_DRT};
	size_t n = read_vector("11_keyeventfuncs_bodies.jsonl", buf, sizeof(buf));
	uint8_t *line[11];
	size_t len[11];
	int count = 0;
	for (uint8_t *p = buf; p < buf + n && count < 11;) {
		uint8_t *nl = memchr(p, '\n', (size_t)(buf + n - p));
		line[count] = p;
		len[count] = (size_t)((nl ? nl : buf + n) - p);
		count++;
		p = nl ? nl + 1 : buf + n;
	}
	assert_int_equal(count, 11);
	for (int i = 0; i < 11; i++) {
		size_t used;
		int rc = keri_parse(line[i], len[i], &ev, &used, why, sizeof(why));
		if (rc != KERI_OK)
			fail_msg("line %d: %d %s", i + 1, rc, why);
		assert_int_equal(used, len[i]);
		assert_int_equal(ev.ilk, ilks[i]);
		/* Any changed byte of d breaks the SAID. */
		uint8_t save = line[i][45];
		line[i][45] = save == 'A' ? 'B' : 'A';
		assert_rejects(keri_parse(line[i], len[i], &ev, &used, why, sizeof(why)),
		               KERI_ESAID);
		line[i][45] = save;
	}
	/* Key configurations (unsigned bodies: signatures skipped). */
	for (int i = 0; i < 6; i++)
		assert_int_equal(feed_flags(NULL, line[i], len[i], KERI_APPLY_SKIP_SIGS, &s[i]),
		                 KERI_OK);
	assert_int_equal(s[3].nt.num, 1); /* intive threshold */
	assert_int_equal(s[3].kt.weighted, 0);
	/* rot (line 7) after icp (line 6); the intive rot (line 8) is another event at sn 1. */
	assert_int_equal(feed_flags(&s[5], line[6], len[6], KERI_APPLY_SKIP_SIGS, &s[6]), KERI_OK);
	assert_string_equal(s[6].k[0], "DB4GWvru73jWZKpNgMQp8ayDRin0NG0Ymn_RXQP_v-PQ");
	assert_rejects(feed_flags(&s[6], line[7], len[7], KERI_APPLY_SKIP_SIGS, &s[7]),
	               KERI_EDUPLICITY);
	assert_int_equal(feed_flags(&s[5], line[7], len[7], KERI_APPLY_SKIP_SIGS, &s[7]), KERI_OK);
	assert_int_equal(feed_flags(&s[7], line[8], len[8], KERI_APPLY_SKIP_SIGS, &s[8]), KERI_OK);
	assert_int_equal(s[8].sn, 2);
	/* ixn (p = line 8's SAID) does not chain on line 7's rot. */
	assert_rejects(feed_flags(&s[6], line[8], len[8], KERI_APPLY_SKIP_SIGS, &s[8]),
	               KERI_EPRIOR);
	/* Delegation: the dip incepts a delegated state; the drt (sn 4) is out of order
	 * after it, and another identifier's state is not its own. */
	assert_int_equal(feed_flags(NULL, line[9], len[9], KERI_APPLY_SKIP_SIGS, &s[9]), KERI_OK);
	assert_string_equal(s[9].di, "EAdHxtdjCQUM-TVO8CgJAKb8ykXsFe4u9epTUQFCL7Yd");
	assert_int_equal(s[9].et, KERI_ILK_DIP);
	assert_rejects(feed_flags(&s[9], line[10], len[10], KERI_APPLY_SKIP_SIGS, &s[10]),
	               KERI_ESN);
	assert_rejects(feed_flags(&s[5], line[10], len[10], KERI_APPLY_SKIP_SIGS, &s[10]),
	               KERI_EPREFIX);
	/* The README's pre-rotation note: BLAKE3 over the key's qb64 text. */
	char dig[45];
	assert_int_equal(keri_digest_qb64('E',
	                                  (const uint8_t *)"DB4GWvru73jWZKpNgMQp8ayDRin0NG0Ymn_RXQP_v-PQ",
	                                  44, dig), 0);
	assert_string_equal(dig, "EIf-ENw7PrM52w4H-S7NGU2qVIfraXVIlV9hEAaMHg7W");
}

static void vec12_said_blake2b_and_blake3(void **state)
{
	(void)state;
	static uint8_t f[1024], d[1024], e[1024];
	size_t nf = read_vector("12_said_blake2b_schema.json", f, sizeof(f)) - 1; /* \n */
	size_t nd = read_vector("12_said_dummied_input.json", d, sizeof(d)) - 1;
	size_t ne = read_vector("12_said_blake3_schema_derived.json", e, sizeof(e)) - 1;
	char out[45];
	assert_int_equal(keri_digest_qb64('F', d, nd, out), 0);
	assert_string_equal(out, "FFtf9ZYDSevUD5ySvqQ-bPHIpxRWIZxjfJ7ss_DHa3s4");
	assert_int_equal(keri_digest_qb64('E', d, nd, out), 0);
	assert_string_equal(out, "EMRvS7lGxc1eDleXBkvSHkFs8vUrslRcla6UXOJdcczw");
	/* Both documents dummy to exactly the hashed bytes. */
	assert_int_equal(nf, nd);
	assert_int_equal(ne, nd);
	memcpy(f + 8, DUMMY, 44);
	memcpy(e + 8, DUMMY, 44);
	assert_memory_equal(f, d, nd);
	assert_memory_equal(e, d, nd);
	assert_int_equal(keri_digest_qb64('I', d, nd, out), 0);
	assert_int_equal(out[0], 'I');
	assert_int_equal(keri_digest_qb64('H', d, nd, out), KERI_ECESR);
}

static void vec15_keystate_record_byte_exact(void **state)
{
	(void)state;
	static uint8_t icpb[1024], rec[2048];
	static struct keri_state st;
	char json[4096];
	size_t len;
	size_t ni = read_vector("15_kever_icp_reconstructed.json", icpb, sizeof(icpb)) - 1;
	size_t nr = read_vector("15_kever_keystate_record.json", rec, sizeof(rec)) - 1;
	assert_int_equal(feed_flags(NULL, icpb, ni, KERI_APPLY_SKIP_SIGS, &st), KERI_OK);
	assert_string_equal(st.d, "EBTCANzIfUThxmM1z1SFxQuwooGdF4QwtotRS01vZGqi");
	assert_int_equal(keri_state_json(&st, DT, json, sizeof(json), &len), KERI_OK);
	assert_int_equal(len, nr);
	assert_memory_equal(json, rec, nr);
	/* A short buffer reports the size needed. */
	assert_int_equal(keri_state_json(&st, DT, json, 10, &len), KERI_ERANGE);
	assert_int_equal(len, nr);
	assert_int_equal(keri_state_json(&st, "bad\"dt", json, sizeof(json), &len), KERI_EINVAL);
}

static void vec13_record_layout_matches_ours(void **state)
{
	(void)state;
	/* File 13 is synthetic; rebuild its state by hand and compare byte for byte. */
	static uint8_t rec[2048];
	static struct keri_state st;
	char json[4096];
	size_t len, nr = read_vector("13_keystate_record_example.json", rec, sizeof(rec)) - 1;
	memset(&st, 0, sizeof(st));
	strcpy(st.pre, "DN6WBhWqp6wC08no2iWhgFYTaUgrasnqz6llSvWQTWZN");
	st.sn = 4;
	st.fn = 4;
	strcpy(st.p, "EAskHI462CuIMS_gNkcl_QewzrRSKH2p9zHQIO132Z30");
	strcpy(st.d, "EANkcl_QewzrRSKH2p9zUskHI462CuIMS_HQIO132Z30");
	st.et = KERI_ILK_IXN;
	st.kt.num = 1;
	st.nt.num = 1;
	st.nk = 1;
	strcpy(st.k[0], "DN6WBhWqp6wC08no2iWhgFYTaUgrasnqz6llSvWQTWZN");
	st.nn = 1;
	strcpy(st.n[0], "EDDOarj1lzr8pqG5a-SSnM2cc_3JgstRRjmzrrA_Bibg");
	st.bt = 2;
	st.nb = 3;
	strcpy(st.b[0], "BGhCNcrRBR6mlBduhbuCYL7Bwc3gbuyaGo9opZsd0D8F");
	strcpy(st.b[1], "BO7x6ctSA7FllJx39hlObnetizGFjuZT1jq0geno0NRK");
	strcpy(st.b[2], "BK7isi_2-A-RE6Pbtdg7S1NSeinNQkJ4oCFASqwRc_9W");
	st.ee_sn = 3;
	strcpy(st.ee_d, "EUskHI462CuIMS_gNkcl_QewzrRSKH2p9zHQIO132Z30");
	st.ee_nbr = 1;
	strcpy(st.ee_br[0], "BDU5LLVHxQSb9EdSKDTYyqViusxGT8Y4DHOyktkOv5Rt");
	st.ee_nba = 1;
	strcpy(st.ee_ba[0], "BK7isi_2-A-RE6Pbtdg7S1NSeinNQkJ4oCFASqwRc_9W");
	assert_int_equal(keri_state_json(&st, DT, json, sizeof(json), &len), KERI_OK);
	assert_int_equal(len, nr);
	assert_memory_equal(json, rec, nr);
}

/* ---- own signed vectors -------------------------------------------------------- */

/* An E-prefixed controller: icp with K0, committing to K1. */
static size_t own_icp(char *buf, struct keri_state *st)
{
	size_t b = icp(buf, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	size_t l = sign1(buf, b, &K[0]);
	assert_int_equal(feed(NULL, buf, l, st), KERI_OK);
	return l;
}

static void said_codes_blake2b_and_sha256(void **state)
{
	(void)state;
	static struct keri_state s0, s1;
	const char codes[] = {'F', 'I'};
	for (int c = 0; c < 2; c++) {
		said_code = codes[c];
		size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
		size_t l = sign1(m, b, &K[0]);
		assert_int_equal(feed(NULL, m, l, &s0), KERI_OK);
		assert_int_equal(s0.pre[0], codes[c]);
		assert_int_equal(s0.d[0], codes[c]);
		b = ixn(m2, s0.pre, "1", s0.d);
		assert_int_equal(feed(&s0, m2, sign1(m2, b, &K[0]), &s1), KERI_OK);
		/* The same bytes with the other code's letter are not self-addressing. */
		m[strstr(m, "\"d\":\"") - m + 5] = codes[1 - c];
		assert_rejects(keri_parse((uint8_t *)m, l, &ev, &(size_t){0}, why, sizeof(why)),
		               KERI_ESAID);
	}
	said_code = 'E';
}

static void witness_rotation_with_br_ba_and_receipts(void **state)
{
	(void)state;
	static struct keri_state s0, s1, s2, x;
	char json[8192];
	size_t len;
	/* icp: K0, witnesses W0 W1, bt 2, both receipts attached. */
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "2",
	               list(2, W[0].qb, W[1].qb), "");
	size_t l = sign1(m, b, &K[0]);
	struct sg w01[2] = {{&W[0], 0, -1}, {&W[1], 1, -1}};
	/* Issue 10 rule 1 (keripy valSigsWigsDel): no receipt, or 1 < bt 2, is partially
	 * witnessed (the cache escrows it), unless the node owns or witnesses it. */
	assert_rejects(feed(NULL, m, l, &s0), KERI_EUNWITNESSED);
	assert_int_equal(feed_flags(NULL, m, l, KERI_APPLY_LOCAL, &x), KERI_OK);
	size_t l1 = attach(m, l, b, 'B', 1, w01);
	assert_rejects(feed(NULL, m, l1, &s0), KERI_EUNWITNESSED);
	assert_int_equal(feed_flags(NULL, m, l1, KERI_APPLY_LOCAL, &x), KERI_OK);
	l = attach(m, l, b, 'B', 2, w01);
	assert_int_equal(feed(NULL, m, l, &s0), KERI_OK);
	static char stream[32768];
	size_t sl = 0;
	memcpy(stream, m, l);
	sl = l;
	assert_int_equal(s0.nb, 2);
	assert_int_equal(s0.bt, 2);
	/* A forged receipt: W2 signs at W0's index. */
	struct sg bad[2] = {{&W[2], 0, -1}, {&W[1], 1, -1}};
	l = attach(m, sign1(m, b, &K[0]), b, 'B', 2, bad);
	assert_rejects(feed(NULL, m, l, &x), KERI_EUNWITNESSED);
	/* bt above the witness count. */
	b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "3",
	        list(2, W[0].qb, W[1].qb), "");
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &x), KERI_EWITNESS);
	/* Duplicate witness in b. */
	b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "1",
	        list(2, W[0].qb, W[0].qb), "");
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &x), KERI_EWITNESS);

	/* rot: K1, cut W0, add W2: new witnesses [W1, W2]; receipts by index there. */
	b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "2",
	        list(1, W[0].qb), list(1, W[2].qb));
	l = sign1(m, b, &K[1]);
	struct sg w12[2] = {{&W[1], 0, -1}, {&W[2], 1, -1}};
	struct sg w01old[2] = {{&W[0], 0, -1}, {&W[1], 1, -1}};
	memcpy(m2, m, l);
	size_t lold = attach(m2, l, b, 'B', 2, w01old);
	assert_rejects(feed(&s0, m2, lold, &x), KERI_EUNWITNESSED); /* old list's receipts */
	l = attach(m, l, b, 'B', 2, w12);
	assert_int_equal(feed(&s0, m, l, &s1), KERI_OK);
	memcpy(stream + sl, m, l);
	sl += l;
	assert_int_equal(s1.nb, 2);
	assert_string_equal(s1.b[0], W[1].qb);
	assert_string_equal(s1.b[1], W[2].qb);
	assert_int_equal(s1.ee_nbr, 1);
	assert_string_equal(s1.ee_br[0], W[0].qb);
	assert_int_equal(s1.ee_nba, 1);
	assert_string_equal(s1.ee_ba[0], W[2].qb);
	assert_int_equal(keri_state_json(&s1, DT, json, sizeof(json), &len), KERI_OK);
	char expect[512];
	snprintf(expect, sizeof(expect), "\"ee\":{\"s\":\"1\",\"d\":\"%s\",\"br\":[\"%s\"],\"ba\":[\"%s\"]}",
	         s1.d, W[0].qb, W[2].qb);
	assert_non_null(strstr(json, expect));

	/* Bad witness arithmetic in a rotation. */
	b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "1",
	        list(1, W[3].qb), "");
	assert_rejects(feed(&s0, m, sign1(m, b, &K[1]), &x), KERI_EWITNESS); /* cut non-witness */
	b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "1", "",
	        list(1, W[1].qb));
	assert_rejects(feed(&s0, m, sign1(m, b, &K[1]), &x), KERI_EWITNESS); /* add existing */
	b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "1",
	        list(1, W[0].qb), list(1, W[0].qb));
	assert_rejects(feed(&s0, m, sign1(m, b, &K[1]), &x), KERI_EWITNESS); /* cut and add */
	b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "0", "", "");
	assert_rejects(feed(&s0, m, sign1(m, b, &K[1]), &x), KERI_EWITNESS); /* bt 0 with wits */

	/* ixn: receipts from the rotated list; one receipt is below bt 2. */
	b = ixn(m, s1.pre, "2", s1.d);
	l = sign1(m, b, &K[1]);
	memcpy(m2, m, l);
	assert_rejects(feed(&s1, m2, attach(m2, l, b, 'B', 1, w12), &x), KERI_EUNWITNESSED);
	l = attach(m, l, b, 'B', 2, w12);
	assert_int_equal(feed(&s1, m, l, &s2), KERI_OK);
	memcpy(stream + sl, m, l);
	sl += l;
	dump("own_witness_rotation_stream.cesr", stream, sl);
	uint8_t enc[KERI_STATE_ENC_MAX];
	assert_int_equal(keri_state_encode(&s2, enc, sizeof(enc), &len), KERI_OK);
	dump("own_state_record.bin", enc, len);
	assert_int_equal(s2.sn, 2);
	assert_int_equal(s2.nb, 2);
	/* Without any -B group the ixn waits for receipts (it was accepted on the
	 * controller's signature alone before issue 10 rule 1), unless it is local. */
	assert_rejects(feed(&s1, m, sign1(m, b, &K[1]), &x), KERI_EUNWITNESSED);
	assert_int_equal(feed_flags(&s1, m, sign1(m, b, &K[1]), KERI_APPLY_LOCAL, &x), KERI_OK);
}

static void forged_signature_rejected(void **state)
{
	(void)state;
	static struct keri_state st;
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	/* Signed by the wrong key. */
	assert_rejects(feed(NULL, m, sign1(m, b, &K[5]), &st), KERI_ESIG);
	/* One bit of a correct signature flipped (a char well inside the signature). */
	size_t l = sign1(m, b, &K[0]);
	m[b + 4 + 40] = m[b + 4 + 40] == 'A' ? 'B' : 'A';
	assert_rejects(feed(NULL, m, l, &st), KERI_ESIG);
	/* An index beyond the keys. */
	struct sg s = {&K[0], 1, -1};
	assert_rejects(feed(NULL, m, attach(m, b, b, 'A', 1, &s), &st), KERI_ESIG);
	/* No signature at all. */
	assert_rejects(feed(NULL, m, b, &st), KERI_ETHRESHOLD);
	/* A signature over other bytes: the body changed after signing (SAID redone). */
	l = sign1(m, b, &K[0]);
	memcpy(m2, m, l);
	b = icp(m2, NULL, "1", list(1, K[0].qb), "1", list(1, K[2].dig), "0", "", "");
	memcpy(m2 + b, m + b, l - b);
	assert_rejects(feed(NULL, m2, l, &st), KERI_ESIG);
}

/* Issue 10 rule 2 (keripy verifySigs and valSigsWigsDel): a signature that fails, or
 * whose index is outside the key (witness) list, is dropped; the event stands or falls
 * by the signatures that verify. Below the threshold keripy escrows the event as
 * partially signed; without an escrow that is KERI_ETHRESHOLD here. */
static void bad_and_out_of_range_signatures_are_dropped(void **state)
{
	(void)state;
	static struct keri_state s0, s1;
	/* A valid icp with a junk signature (K5 at index 0) and one at index 5 appended. */
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "2", list(2, K[1].dig, K[2].dig), "0",
	               "", "");
	struct sg junk[3] = {{&K[0], 0, -1}, {&K[5], 0, -1}, {&K[0], 5, -1}};
	size_t l = attach(m, b, b, 'A', 3, junk);
	assert_int_equal(feed(NULL, m, l, &s0), KERI_OK);
	dump("own_icp_junk_sigs.cesr", m, l);
	/* Nothing verifies: rejected (keripy: "No verified signatures"). */
	assert_rejects(feed(NULL, m, attach(m, b, b, 'A', 2, junk + 1), &s1), KERI_ESIG);

	/* kt 2 of 3: two good and a junk one pass; one good and a junk one do not. */
	b = icp(m, NULL, "2", list(3, K[0].qb, K[1].qb, K[2].qb), "1", list(1, K[3].dig), "0",
	        "", "");
	struct sg two[3] = {{&K[0], 0, -1}, {&K[5], 1, -1}, {&K[2], 2, -1}};
	assert_int_equal(feed(NULL, m, attach(m, b, b, 'A', 3, two), &s1), KERI_OK);
	assert_rejects(feed(NULL, m, attach(m, b, b, 'A', 2, two), &s1), KERI_ETHRESHOLD);

	/* A rotation exposes a prior next key only through a signature that verifies:
	 * prior nt 2 of [K1, K2]; K2's signature is junk, so only one is exposed. */
	b = rot(m, s0.pre, "1", s0.d, "1", list(2, K[1].qb, K[2].qb), "1", list(1, K[3].dig),
	        "0", "", "");
	struct sg exp[3] = {{&K[1], 0, -1}, {&K[6], 1, -1}, {&K[2], 1, -1}};
	assert_rejects(feed(&s0, m, attach(m, b, b, 'A', 2, exp), &s1), KERI_ENEXT);
	assert_int_equal(feed(&s0, m, attach(m, b, b, 'A', 3, exp), &s1), KERI_OK);

	/* Witnesses, bt 1 of [W0, W1]: a forged W1 receipt and one at index 7 are dropped. */
	b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "1",
	        list(2, W[0].qb, W[1].qb), "");
	l = sign1(m, b, &K[0]);
	struct sg wj[3] = {{&W[2], 1, -1}, {&W[1], 7, -1}, {&W[0], 0, -1}};
	memcpy(m2, m, l);
	assert_int_equal(feed(NULL, m2, attach(m2, l, b, 'B', 3, wj), &s1), KERI_OK);
	assert_rejects(feed(NULL, m, attach(m, l, b, 'B', 2, wj), &s1), KERI_EUNWITNESSED);
}

static void wrong_prior_next_key_rejected(void **state)
{
	(void)state;
	static struct keri_state s0, s1;
	own_icp(m, &s0);
	/* K3 was never committed to: a valid signature by it does not expose a next key. */
	size_t b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[3].qb), "1", list(1, K[4].dig), "0",
	               "", "");
	assert_rejects(feed(&s0, m, sign1(m, b, &K[3]), &s1), KERI_ENEXT);
	assert_rejects(feed_flags(&s0, m, sign1(m, b, &K[3]), KERI_APPLY_SKIP_SIGS, &s1),
	               KERI_ENEXT);
	/* The committed key works. */
	b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "0", "", "");
	assert_int_equal(feed(&s0, m, sign1(m, b, &K[1]), &s1), KERI_OK);
	assert_string_equal(s1.k[0], K[1].qb);
	assert_string_equal(s1.n[0], K[2].dig);
}

static void dual_indexed_signature_uses_ondex(void **state)
{
	(void)state;
	static struct keri_state s0, s1;
	/* icp K0; next commitment [K1, K2] with nt 1. */
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(2, K[1].dig, K[2].dig), "0", "",
	               "");
	assert_int_equal(feed(NULL, m, sign1(m, b, &K[0]), &s0), KERI_OK);
	/* rot to K2 alone: index 0 in k, but it was prior next index 1. */
	b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[2].qb), "1", list(1, K[3].dig), "0", "", "");
	struct sg a = {&K[2], 0, -1}, dual = {&K[2], 0, 1};
	assert_rejects(feed(&s0, m, attach(m, b, b, 'A', 1, &a), &s1), KERI_ENEXT);
	size_t ld = attach(m, b, b, 'A', 1, &dual);
	assert_int_equal(feed(&s0, m, ld, &s1), KERI_OK);
	dump("own_rot_dual_indexed.cesr", m, ld);
	assert_int_equal(ev.sigs[0].ondex, 1);
	assert_string_equal(s1.k[0], K[2].qb);
}

static void wrong_prior_digest_rejected(void **state)
{
	(void)state;
	static struct keri_state s0, s1;
	own_icp(m, &s0);
	size_t b = ixn(m, s0.pre, "1", K[1].dig); /* a digest, but not of the prior event */
	assert_rejects(feed(&s0, m, sign1(m, b, &K[0]), &s1), KERI_EPRIOR);
	b = rot(m, s0.pre, "1", K[1].dig, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "0", "",
	        "");
	assert_rejects(feed(&s0, m, sign1(m, b, &K[1]), &s1), KERI_EPRIOR);
}

static void out_of_order_sn_rejected(void **state)
{
	(void)state;
	static struct keri_state s0, s1;
	own_icp(m, &s0);
	size_t b = ixn(m, s0.pre, "2", s0.d);
	assert_rejects(feed(&s0, m, sign1(m, b, &K[0]), &s1), KERI_ESN);
	/* Non-canonical sn text. */
	b = ixn(m, s0.pre, "01", s0.d);
	assert_rejects(feed(&s0, m, sign1(m, b, &K[0]), &s1), KERI_ESN);
	/* A non-inception event with no state, and an event of another prefix. */
	b = ixn(m, s0.pre, "1", s0.d);
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &s1), KERI_ENOSTATE);
	b = ixn(m, K[7].dig, "1", s0.d);
	assert_rejects(feed(&s0, m, sign1(m, b, &K[0]), &s1), KERI_EPREFIX);
}

static void duplicity_duplicate_and_stale(void **state)
{
	(void)state;
	static struct keri_state s0, s1, s2, x, keep;
	size_t li = own_icp(m2, &s0);
	/* Same icp again: a duplicate, next untouched. */
	memset(&x, 0x5a, sizeof(x));
	memcpy(&keep, &x, sizeof(x));
	assert_int_equal(feed(&s0, m2, li, &x), KERI_DUPLICATE);
	assert_memory_equal(&x, &keep, sizeof(x));
	size_t b = ixn(m, s0.pre, "1", s0.d);
	size_t l = sign1(m, b, &K[0]);
	assert_int_equal(feed(&s0, m, l, &s1), KERI_OK);
	assert_int_equal(feed(&s1, m, l, &x), KERI_DUPLICATE);
	assert_memory_equal(&x, &keep, sizeof(x));
	/* Another ixn at sn 1 (different anchor): duplicity. */
	char other[8192];
	b = seal_ixn(other, s0.pre, "1", s0.d, K[3].dig, K[4].dig);
	size_t lo = sign1(other, b, &K[0]);
	assert_rejects(feed(&s1, other, lo, &x), KERI_EDUPLICITY);
	dump("own_ixn_with_seal.cesr", other, lo);
	/* The icp at sn 0 after the state moved on: still a duplicate (last est. event). */
	assert_int_equal(feed(&s1, m2, li, &x), KERI_DUPLICATE);
	/* Below the current sn and not the last establishment event: the caller decides
	 * against its stored KEL, for the duplicate and the duplicitous one alike. */
	b = ixn(m2, s1.pre, "2", s1.d);
	assert_int_equal(feed(&s1, m2, sign1(m2, b, &K[0]), &s2), KERI_OK);
	assert_rejects(feed(&s2, m, l, &x), KERI_ESTALE);
	assert_rejects(feed(&s2, other, lo, &x), KERI_ESTALE);
}

/* Issue 10 rule 8: a conflicting event is duplicity only when it is authentic, signed
 * to threshold by the keys that governed its sn; else it is an ordinary rejection.
 * At the current sn after an ixn those keys are the state's; a conflict with an
 * establishment event needs the state before it, which only the caller's KEL has
 * (KERI_ESTALE: cache/kel.c replays to sn - 1 and applies the event there). */
static void duplicity_only_for_an_authentic_conflict(void **state)
{
	(void)state;
	static struct keri_state s0, s1, x;
	own_icp(m2, &s0);
	size_t b = ixn(m, s0.pre, "1", s0.d);
	assert_int_equal(feed(&s0, m, sign1(m, b, &K[0]), &s1), KERI_OK);
	char other[8192];
	b = seal_ixn(other, s0.pre, "1", s0.d, K[3].dig, K[4].dig);
	assert_rejects(feed(&s1, other, b, &x), KERI_ETHRESHOLD);            /* unsigned */
	assert_rejects(feed(&s1, other, sign1(other, b, &K[5]), &x), KERI_ESIG); /* forged */
	assert_rejects(feed(&s1, other, sign1(other, b, &K[0]), &x), KERI_EDUPLICITY);
	/* A rotation at the current sn after an ixn is no conflict but a recovery (issue
	 * 10 rule 3, keripy's Kevery: lastEst.s < sn <= sn + 1): keri_apply hands it back,
	 * keri_apply_recover applies it given the SAID at sn - 1: its own keys sign,
	 * exposing the committed next key (K1); a key never committed to is refused. */
	b = rot(other, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "0",
	        "", "");
	size_t lr = sign1(other, b, &K[1]);
	assert_int_equal(feed(&s1, other, lr, &x), KERI_RECOVERY);
	static struct keri_event rev;
	size_t used;
	assert_int_equal(keri_parse((const uint8_t *)other, lr, &rev, &used, why, sizeof(why)),
	                 KERI_OK);
	assert_int_equal(keri_apply_recover(&s1, &rev, 0, s0.d, &x, why, sizeof(why)), KERI_OK);
	assert_int_equal(x.sn, 1);
	assert_int_equal(x.fn, 2);
	assert_int_equal(x.ee_sn, 1);
	assert_string_equal(x.k[0], K[1].qb);
	assert_int_equal(keri_apply_recover(&s1, &rev, 0, s1.d, &x, why, sizeof(why)),
	                 KERI_EPRIOR);
	b = rot(other, s0.pre, "1", s0.d, "1", list(1, K[6].qb), "1", list(1, K[2].dig), "0",
	        "", "");
	lr = sign1(other, b, &K[6]);
	assert_int_equal(feed(&s1, other, lr, &x), KERI_RECOVERY);
	assert_int_equal(keri_parse((const uint8_t *)other, lr, &rev, &used, why, sizeof(why)),
	                 KERI_OK);
	assert_int_equal(keri_apply_recover(&s1, &rev, 0, s0.d, &x, why, sizeof(why)),
	                 KERI_ENEXT);
	/* Against an establishment event (here the current rot) the module cannot judge
	 * alone: the keys that governed sn 1 are no longer in the state. */
	static struct keri_state r1;
	b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "0", "",
	        "");
	assert_int_equal(feed(&s0, m, sign1(m, b, &K[1]), &r1), KERI_OK);
	b = ixn(other, s0.pre, "1", s0.d);
	assert_rejects(feed(&r1, other, sign1(other, b, &K[0]), &x), KERI_ESTALE);
	/* Replays of stored events (signatures skipped) keep naming the conflict. */
	assert_rejects(feed_flags(&r1, other, b, KERI_APPLY_SKIP_SIGS, &x), KERI_EDUPLICITY);
}

static void non_canonical_json_rejected(void **state)
{
	(void)state;
	static struct keri_state st;
	size_t b, used;
	/* A space before the a value, size adjusted, SAID and signature redone. */
	snprintf(m, sizeof(m),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\"" DUMMY
	         "\",\"s\":\"0\",\"kt\":\"1\",\"k\":[\"%s\"],\"nt\":\"1\",\"n\":[\"%s\"],"
	         "\"bt\":\"0\",\"b\":[],\"c\":[],\"a\": []}", K[0].qb, K[1].dig);
	b = finish(m);
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &st), KERI_EJSON);
	/* kt and k swapped. */
	snprintf(m, sizeof(m),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\"" DUMMY
	         "\",\"s\":\"0\",\"k\":[\"%s\"],\"kt\":\"1\",\"nt\":\"1\",\"n\":[\"%s\"],"
	         "\"bt\":\"0\",\"b\":[],\"c\":[],\"a\":[]}", K[0].qb, K[1].dig);
	b = finish(m);
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &st), KERI_EFIELD_ORDER);
	/* An extra field, and a missing one. */
	snprintf(m, sizeof(m),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"ixn\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"1\",\"p\":\"%s\",\"a\":[],\"x\":1}", K[0].dig, K[1].dig);
	b = finish(m);
	assert_rejects(keri_parse((uint8_t *)m, b, &ev, &used, why, sizeof(why)),
	               KERI_EFIELD_ORDER);
	snprintf(m, sizeof(m),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"ixn\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"1\",\"p\":\"%s\"}", K[0].dig, K[1].dig);
	b = finish(m);
	assert_rejects(keri_parse((uint8_t *)m, b, &ev, &used, why, sizeof(why)),
	               KERI_EFIELD_ORDER);
	/* Version string: size off by one, uppercase hex, other kinds and versions. */
	b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	size_t l = sign1(m, b, &K[0]);
	memcpy(m2, m, l);
	char hex[24];
	snprintf(hex, sizeof(hex), "%06zx", b - 1);
	memcpy(m2 + 16, hex, 6);
	assert_rejects(keri_parse((uint8_t *)m2, l, &ev, &used, why, sizeof(why)), KERI_ESIZE);
	snprintf(hex, sizeof(hex), "%06zX", (size_t)0xab);
	memcpy(m2 + 16, hex, 6);
	assert_rejects(keri_parse((uint8_t *)m2, l, &ev, &used, why, sizeof(why)), KERI_EVERSION);
	memcpy(m2, m, l);
	memcpy(m2 + 10, "CBOR", 4);
	assert_rejects(keri_parse((uint8_t *)m2, l, &ev, &used, why, sizeof(why)), KERI_EVERSION);
	memcpy(m2, m, l);
	memcpy(m2 + 10 - 2, "20", 2);
	assert_rejects(keri_parse((uint8_t *)m2, l, &ev, &used, why, sizeof(why)), KERI_EVERSION);
	memcpy(m2, m, l);
	memcpy(m2 + 6, "ACDC", 4);
	assert_rejects(keri_parse((uint8_t *)m2, l, &ev, &used, why, sizeof(why)), KERI_EVERSION);
	/* A key with non-zero pad bits (second char above 'P'). */
	memcpy(m2, m, l);
	char *k = strstr(m2, K[0].qb);
	k[1] = 'z';
	assert_rejects(keri_parse((uint8_t *)m2, l, &ev, &used, why, sizeof(why)), KERI_EPAD);
	/* A digest code for a key. */
	memcpy(m2, m, l);
	k = strstr(m2, K[0].qb);
	k[0] = 'E';
	assert_rejects(keri_parse((uint8_t *)m2, l, &ev, &used, why, sizeof(why)), KERI_EFIELD);
	/* Unknown ilk, and an unknown trait. */
	memcpy(m2, m, l);
	memcpy(strstr(m2, "\"icp\""), "\"qry\"", 5);
	assert_rejects(keri_parse((uint8_t *)m2, l, &ev, &used, why, sizeof(why)), KERI_EILK);
	b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", list(1, "XX"));
	assert_rejects(keri_parse((uint8_t *)m, b, &ev, &used, why, sizeof(why)), KERI_ETRAIT);
	/* Thresholds: above the key count, zero, malformed weight. */
	b = icp(m, NULL, "2", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &st), KERI_ETHRESHOLD);
	b = icp(m, NULL, "0", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &st), KERI_ETHRESHOLD);
	snprintf(m, sizeof(m),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\"" DUMMY
	         "\",\"s\":\"0\",\"kt\":[\"3/2\"],\"k\":[\"%s\"],\"nt\":\"1\",\"n\":[\"%s\"],"
	         "\"bt\":\"0\",\"b\":[],\"c\":[],\"a\":[]}", K[0].qb, K[1].dig);
	b = finish(m);
	assert_rejects(keri_parse((uint8_t *)m, b, &ev, &used, why, sizeof(why)), KERI_ETHRESHOLD);
	/* A weighted clause that can never reach 1. */
	snprintf(m, sizeof(m),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\"" DUMMY
	         "\",\"s\":\"0\",\"kt\":[\"1/3\",\"1/3\"],\"k\":[\"%s\",\"%s\"],\"nt\":\"1\","
	         "\"n\":[\"%s\"],\"bt\":\"0\",\"b\":[],\"c\":[],\"a\":[]}", K[0].qb, K[2].qb,
	         K[1].dig);
	b = finish(m);
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &st), KERI_ETHRESHOLD);
}

/* Issue 10 rule 9 (keripy Tholder._satisfy_weighted): a verified signature at an index
 * beyond the weight list makes the weighted threshold unmet (keripy's sats[idx] raises
 * and satisfy returns False; the event waits as partially signed). */
static void weighted_signature_beyond_the_weights_does_not_satisfy(void **state)
{
	(void)state;
	static struct keri_state st;
	snprintf(m, sizeof(m),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\"" DUMMY
	         "\",\"s\":\"0\",\"kt\":[\"1/2\",\"1/2\"],\"k\":[\"%s\",\"%s\",\"%s\"],"
	         "\"nt\":\"1\",\"n\":[\"%s\"],\"bt\":\"0\",\"b\":[],\"c\":[],\"a\":[]}",
	         K[0].qb, K[1].qb, K[2].qb, K[3].dig);
	size_t b = finish(m);
	struct sg s[3] = {{&K[0], 0, -1}, {&K[1], 1, -1}, {&K[2], 2, -1}};
	assert_int_equal(feed(NULL, m, attach(m, b, b, 'A', 2, s), &st), KERI_OK);
	assert_rejects(feed(NULL, m, attach(m, b, b, 'A', 3, s), &st), KERI_ETHRESHOLD);
	assert_true(keri_tholder_satisfied(&st.kt, 0x3));
	assert_false(keri_tholder_satisfied(&st.kt, 0x7));
	assert_false(keri_tholder_satisfied(&st.kt, 0x5));
}

/* keri_parse of an ixn whose a is [{"i":..,"s":"0","d":..,"x":<value>}] */
static int parse_ixn_with_x(const char *value)
{
	size_t used;
	snprintf(m, sizeof(m),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"ixn\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"1\",\"p\":\"%s\",\"a\":[{\"i\":\"%s\",\"s\":\"0\",\"d\":\"%s\","
	         "\"x\":%s}]}", K[0].dig, K[1].dig, K[3].dig, K[4].dig, value);
	size_t b = finish(m);
	why[0] = 0;
	return keri_parse((uint8_t *)m, b, &ev, &used, why, sizeof(why));
}

/* Issue 10 rule 7 (keripy Serder._verify: json.dumps(json.loads(raw)) must give raw
 * back): numbers as Python writes them back, and no repeated object key. Each pair
 * below was checked against CPython's json module. */
static void json_that_python_rewrites_is_refused(void **state)
{
	(void)state;
	static const char *const kept[] = {
		"1.5", "100000.0", "1e+16", "1e-05", "0.0001", "-0.0", "0.0", "1.0", "0.1", "-1",
		"0", "2.5e-07", "1234567890123456.0", "123456789012345678901234567890",
		"1.7976931348623157e+308", "5e-324", "[1,2.25,{\"y\":-3}]",
	};
	static const char *const rewritten[] = {
		"1e5", "-0", "1.50", "1E5", "1e16", "1e400", "12345678901234567.0", "0.10",
		"1.0e+16", "1e+05", "2.50e-07", "-0e0", "[1,{\"y\":1.0e0}]",
	};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (parse_ixn_with_x(kept[i]) != KERI_OK)
			fail_msg("%s refused: %s", kept[i], why);
	for (size_t i = 0; i < sizeof(rewritten) / sizeof(rewritten[0]); i++)
		if (parse_ixn_with_x(rewritten[i]) != KERI_EJSON)
			fail_msg("%s not refused as KERI_EJSON: %s", rewritten[i], why);
	/* A repeated key, at the seal's level and nested; distinct keys pass. */
	assert_rejects(parse_ixn_with_x("1,\"i\":\"x\""), KERI_EJSON);
	assert_rejects(parse_ixn_with_x("{\"y\":1,\"z\":2,\"y\":3}"), KERI_EJSON);
	assert_int_equal(parse_ixn_with_x("{\"y\":1,\"yy\":{\"y\":2}}"), KERI_OK);
}

static void truncated_input_rejected(void **state)
{
	(void)state;
	size_t used;
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	size_t l = sign1(m, b, &K[0]);
	/* Inside the signature, inside the counter, inside the body. */
	assert_rejects(keri_parse((uint8_t *)m, l - 10, &ev, &used, why, sizeof(why)),
	               KERI_ETRUNCATED);
	assert_int_equal(used, 0);
	assert_rejects(keri_parse((uint8_t *)m, b + 2, &ev, &used, why, sizeof(why)),
	               KERI_ETRUNCATED);
	assert_rejects(keri_parse((uint8_t *)m, b - 1, &ev, &used, why, sizeof(why)),
	               KERI_ETRUNCATED);
	assert_rejects(keri_parse((uint8_t *)m, 10, &ev, &used, why, sizeof(why)),
	               KERI_ETRUNCATED);
	/* A counter promising two signatures with one present. */
	memcpy(m + b, "-AAC", 4);
	assert_rejects(keri_parse((uint8_t *)m, l, &ev, &used, why, sizeof(why)), KERI_ETRUNCATED);
	/* A -V group whose size is too small for its content. */
	memcpy(m + b, "-AAB", 4);
	memmove(m + b + 4, m + b, l - b);
	memcpy(m + b, "-VAW", 4);
	assert_rejects(keri_parse((uint8_t *)m, l + 4, &ev, &used, why, sizeof(why)), KERI_ECESR);
	memcpy(m + b, "-VAX", 4);
	assert_int_equal(keri_parse((uint8_t *)m, l + 4, &ev, &used, why, sizeof(why)), KERI_OK);
	dump("own_icp_pipelined.cesr", m, l + 4);
	/* Garbage where an attachment counter belongs, and an unsupported counter. */
	memcpy(m + b, "xVAX", 4);
	assert_rejects(keri_parse((uint8_t *)m, l + 4, &ev, &used, why, sizeof(why)), KERI_ECESR);
	memcpy(m + b, "-MAB", 4);
	assert_rejects(keri_parse((uint8_t *)m, l + 4, &ev, &used, why, sizeof(why)), KERI_ECESR);
}

static void signature_pad_bits_rejected(void **state)
{
	(void)state;
	size_t used;
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	size_t l = sign1(m, b, &K[0]);
	/* The third char of an A signature carries 4 pad bits. */
	m[b + 4 + 2] = 'Q';
	assert_rejects(keri_parse((uint8_t *)m, l, &ev, &used, why, sizeof(why)), KERI_EPAD);
	/* Ed448 indexed signatures are refused by name. */
	m[b + 4] = '0';
	assert_rejects(keri_parse((uint8_t *)m, l, &ev, &used, why, sizeof(why)), KERI_ECESR);
}

static void abandoned_identifier_cannot_rotate(void **state)
{
	(void)state;
	static struct keri_state s0, s1, s2;
	own_icp(m, &s0);
	/* Rotate to K1 with an empty next list: abandonment. */
	size_t b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "0", "", "0", "", "");
	assert_int_equal(feed(&s0, m, sign1(m, b, &K[1]), &s1), KERI_OK);
	assert_int_equal(s1.nn, 0);
	b = rot(m, s0.pre, "2", s1.d, "1", list(1, K[2].qb), "1", list(1, K[3].dig), "0", "", "");
	assert_rejects(feed(&s1, m, sign1(m, b, &K[2]), &s2), KERI_EABANDONED);
	b = ixn(m, s0.pre, "2", s1.d);
	assert_rejects(feed(&s1, m, sign1(m, b, &K[1]), &s2), KERI_EABANDONED);
	/* An nt with n empty is abandonment all the same (keripy checks nt against
	 * nothing; see next_threshold_beyond_next_keys_accepted_as_keripy_does). */
	b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", "", "0", "", "");
	assert_int_equal(feed(&s0, m, sign1(m, b, &K[1]), &s1), KERI_OK);
	b = ixn(m, s0.pre, "2", s1.d);
	assert_rejects(feed(&s1, m, sign1(m, b, &K[1]), &s2), KERI_EABANDONED);
}

/* Issue 10 rule 11: keripy's Kever.incept and rotate check kt against k but nt against
 * nothing, and its numeric Tholder is never met at 0. An nt above the size of n, or 0
 * with n non-empty, is accepted; no rotation can then meet it (keripy would hold one
 * as partially signed; here it is KERI_ENEXT). */
static void next_threshold_beyond_next_keys_accepted_as_keripy_does(void **state)
{
	(void)state;
	static struct keri_state s0, s1;
	static const char *const nts[] = {"2", "0", "[\"1/2\",\"1/2\"]"};
	for (size_t i = 0; i < sizeof(nts) / sizeof(nts[0]); i++) {
		snprintf(m, sizeof(m),
		         "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\""
		         DUMMY "\",\"s\":\"0\",\"kt\":\"1\",\"k\":[\"%s\"],\"nt\":%s%s%s,"
		         "\"n\":[\"%s\"],\"bt\":\"0\",\"b\":[],\"c\":[],\"a\":[]}", K[0].qb,
		         nts[i][0] == '[' ? "" : "\"", nts[i], nts[i][0] == '[' ? "" : "\"",
		         K[1].dig);
		size_t b = finish(m);
		if (feed(NULL, m, sign1(m, b, &K[0]), &s0) != KERI_OK)
			fail_msg("nt %s: %s", nts[i], why);
		b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "0",
		        "", "");
		assert_rejects(feed(&s0, m, sign1(m, b, &K[1]), &s1), KERI_ENEXT);
		assert_rejects(feed_flags(&s0, m, b, KERI_APPLY_SKIP_SIGS, &s1), KERI_ENEXT);
		/* Stored and read back as it is. */
		uint8_t enc[KERI_STATE_ENC_MAX];
		size_t len;
		assert_int_equal(keri_state_encode(&s0, enc, sizeof(enc), &len), KERI_OK);
		assert_int_equal(keri_state_decode(enc, len, &s1, why, sizeof(why)), KERI_OK);
	}
}

static void establishment_only_refuses_ixn(void **state)
{
	(void)state;
	static struct keri_state s0, s1;
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "",
	               list(1, "EO"));
	assert_int_equal(feed(NULL, m, sign1(m, b, &K[0]), &s0), KERI_OK);
	assert_int_equal(s0.nc, 1);
	b = ixn(m, s0.pre, "1", s0.d);
	assert_rejects(feed(&s0, m, sign1(m, b, &K[0]), &s1), KERI_EESTONLY);
	b = rot(m, s0.pre, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "0", "", "");
	assert_int_equal(feed(&s0, m, sign1(m, b, &K[1]), &s1), KERI_OK);
	char json[4096];
	size_t len;
	assert_int_equal(keri_state_json(&s1, DT, json, sizeof(json), &len), KERI_OK);
	assert_non_null(strstr(json, "\"c\":[\"EO\"]"));
}

/* keripy's KeyStateRecord of an icp of K0 committing to K1, with c as given. */
static void expect_icp_record(const struct keri_state *st, const char *c)
{
	char json[4096], expect[4096];
	size_t len;
	snprintf(expect, sizeof(expect),
	         "{\"vn\":[1,0],\"i\":\"%s\",\"s\":\"0\",\"p\":\"\",\"d\":\"%s\",\"f\":\"0\","
	         "\"dt\":\"" DT "\",\"et\":\"icp\",\"kt\":\"1\",\"k\":[\"%s\"],\"nt\":\"1\","
	         "\"n\":[\"%s\"],\"bt\":\"0\",\"b\":[],\"c\":[%s],\"ee\":{\"s\":\"0\","
	         "\"d\":\"%s\",\"br\":[],\"ba\":[]},\"di\":\"\"}",
	         st->pre, st->d, K[0].qb, K[1].dig, c, st->d);
	assert_int_equal(keri_state_json(st, DT, json, sizeof(json), &len), KERI_OK);
	assert_string_equal(json, expect);
	assert_int_equal(len, strlen(expect));
}

/* Issue 10 rule 5 (keripy Kever.state): the record's c holds EO then DND, in that
 * order whatever the event listed; NB (a TEL trait) never appears. */
static void keystate_record_traits_are_eo_then_dnd(void **state)
{
	(void)state;
	static struct keri_state st;
	static const char *const cases[][2] = {
		{"\"DND\",\"EO\"", "\"EO\",\"DND\""}, {"\"EO\",\"DND\"", "\"EO\",\"DND\""},
		{"\"NB\"", ""}, {"\"NB\",\"DND\"", "\"DND\""}, {"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "",
		               cases[i][0]);
		assert_int_equal(feed(NULL, m, sign1(m, b, &K[0]), &st), KERI_OK);
		expect_icp_record(&st, cases[i][1]);
	}
}

/* Issue 10 rule 6: keripy's TraitDex also has RB, NRB (registrar backers, TEL) and
 * DID (delegate is delegator); its Kever ignores them. Accepted, kept out of the
 * record; a trait outside TraitDex is still refused by name. */
static void registrar_and_did_traits_accepted_and_ignored(void **state)
{
	(void)state;
	static struct keri_state st;
	static const char *const cases[][2] = {
		{"\"RB\"", ""}, {"\"NRB\"", ""}, {"\"DID\"", ""},
		{"\"DID\",\"EO\",\"RB\",\"DND\"", "\"EO\",\"DND\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "",
		               cases[i][0]);
		assert_int_equal(feed(NULL, m, sign1(m, b, &K[0]), &st), KERI_OK);
		expect_icp_record(&st, cases[i][1]);
	}
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "",
	               list(2, "RB", "RB"));
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &st), KERI_ETRAIT);
	b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", list(1, "DIDX"));
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &st), KERI_ETRAIT);
}

static void non_transferable_and_basic_prefix_rules(void **state)
{
	(void)state;
	static struct keri_state s0, s1;
	struct kp nt;
	mkkey(&nt, 50, 'B');
	size_t b = icp(m, nt.qb, "1", list(1, nt.qb), "0", "", "0", "", "");
	assert_int_equal(feed(NULL, m, sign1(m, b, &nt), &s0), KERI_OK);
	b = ixn(m, nt.qb, "1", s0.d);
	assert_rejects(feed(&s0, m, sign1(m, b, &nt), &s1), KERI_ENONTRANS);
	b = rot(m, nt.qb, "1", s0.d, "1", list(1, K[1].qb), "0", "", "0", "", "");
	assert_rejects(feed(&s0, m, sign1(m, b, &K[1]), &s1), KERI_ENONTRANS);
	/* Non-transferable with a next commitment. */
	b = icp(m, nt.qb, "1", list(1, nt.qb), "1", list(1, K[1].dig), "0", "", "");
	assert_rejects(feed(NULL, m, sign1(m, b, &nt), &s1), KERI_ENONTRANS);
	/* A basic prefix must be the single key. */
	b = icp(m, K[0].qb, "1", list(1, K[2].qb), "1", list(1, K[1].dig), "0", "", "");
	assert_rejects(feed(NULL, m, sign1(m, b, &K[2]), &s1), KERI_EPREFIX);
	b = icp(m, K[0].qb, "1", list(2, K[0].qb, K[2].qb), "1", list(1, K[1].dig), "0", "", "");
	assert_rejects(feed(NULL, m, sign1(m, b, &K[0]), &s1), KERI_EPREFIX);
	/* A transferable basic prefix works and can rotate. */
	b = icp(m, K[0].qb, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	assert_int_equal(feed(NULL, m, sign1(m, b, &K[0]), &s0), KERI_OK);
	b = rot(m, K[0].qb, "1", s0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "0", "", "");
	assert_int_equal(feed(&s0, m, sign1(m, b, &K[1]), &s1), KERI_OK);
}

/* An icp with an anchor list `a` of our choosing (icp() always writes "a":[]). */
static size_t icp_with_a(char *buf, const char *pre, const char *key, const char *digs,
                         const char *bt, const char *wits, const char *a)
{
	snprintf(buf, 8192,
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\"%s\","
	         "\"s\":\"0\",\"kt\":\"1\",\"k\":[\"%s\"],\"nt\":\"%s\",\"n\":[%s],"
	         "\"bt\":\"%s\",\"b\":[%s],\"c\":[],\"a\":%s}",
	         pre, key, digs[0] ? "1" : "0", digs, bt, wits, a);
	return finish(buf);
}

/* Issue 10 rule 4 (keripy SerderKERI._verify and Kever.incept): a non-transferable
 * (B) prefix has empty n, b and a; a transferable basic (D) prefix may have them. */
static void non_transferable_inception_has_no_witnesses_or_anchors(void **state)
{
	(void)state;
	static struct keri_state st;
	struct kp nt;
	mkkey(&nt, 50, 'B');
	char seal[256];
	snprintf(seal, sizeof(seal), "[{\"i\":\"%s\",\"s\":\"0\",\"d\":\"%s\"}]", K[3].dig,
	         K[4].dig);
	/* Controls: B with nothing, D with witnesses and an anchor. */
	size_t b = icp_with_a(m, nt.qb, nt.qb, "", "0", "", "[]");
	assert_int_equal(feed(NULL, m, sign1(m, b, &nt), &st), KERI_OK);
	b = icp_with_a(m, K[0].qb, K[0].qb, list(1, K[1].dig), "1", list(1, W[0].qb), seal);
	struct sg w0 = {&W[0], 0, -1};
	assert_int_equal(feed(NULL, m, attach(m, sign1(m, b, &K[0]), b, 'B', 1, &w0), &st),
	                 KERI_OK);
	/* B with a witness, and B with an anchor. */
	b = icp_with_a(m, nt.qb, nt.qb, "", "1", list(1, W[0].qb), "[]");
	assert_rejects(feed(NULL, m, sign1(m, b, &nt), &st), KERI_ENONTRANS);
	b = icp_with_a(m, nt.qb, nt.qb, "", "0", "", seal);
	assert_rejects(feed(NULL, m, sign1(m, b, &nt), &st), KERI_ENONTRANS);
	/* kt above its single key, and nt above its empty n. */
	b = icp(m, nt.qb, "2", list(1, nt.qb), "0", "", "0", "", "");
	assert_rejects(feed(NULL, m, sign1(m, b, &nt), &st), KERI_ETHRESHOLD);
}

static void receipt_recognised_and_skipped(void **state)
{
	(void)state;
	static struct keri_state s0;
	static struct keri_state none;
	size_t li = own_icp(m2, &s0);
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"rct\",\"d\":\"%s\",\"i\":\"%s\",\"s\":\"0\"}",
	         s0.d, s0.pre);
	char hex[24];
	size_t b = strlen(body);
	snprintf(hex, sizeof(hex), "%06zx", b);
	memcpy(body + 16, hex, 6);
	/* -C couple: witness key + 0B non-indexed signature. */
	uint8_t raw[66] = {0};
	char txt[89];
	crypto_sign_detached(raw + 2, NULL, (const uint8_t *)m2, li, W[0].sk);
	keri_b64_encode(raw, 66, txt);
	txt[88] = 0;
	size_t l = (size_t)snprintf(m, sizeof(m), "%s-CAB%s0B%s", body, W[0].qb, txt + 2);
	size_t total = l;
	l += (size_t)snprintf(m + l, sizeof(m) - l, "%s", "{next");
	size_t used;
	assert_int_equal(keri_parse((uint8_t *)m, l, &ev, &used, why, sizeof(why)), KERI_RECEIPT);
	dump("own_rct_nontrans_couple.cesr", m, total);
	assert_int_equal(used, total);
	assert_int_equal(ev.ilk, KERI_ILK_RCT);
	/* The couple is kept for the cache to verify. */
	assert_int_equal(ev.ncigs, 1);
	assert_string_equal(ev.cigs[0].pre, W[0].qb);
	assert_memory_equal(ev.cigs[0].sig, raw + 2, 64);
	assert_rejects(keri_apply(&s0, &ev, &none, why, sizeof(why)), KERI_EILK);
}

static void other_attachment_groups_are_skipped(void **state)
{
	(void)state;
	static struct keri_state st;
	size_t used;
	const char *sn0 = "0AAAAAAAAAAAAAAAAAAAAAAA";
	const char *dts = "1AAG2020-08-22T17c50c09d988921p00c00";
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	size_t l = sign1(m, b, &K[0]);
	const char *sig = m + b + 4; /* any well-formed indexed signature */
	char groups[4096];
	int n = snprintf(groups, sizeof(groups),
	                 "-EAB%s%s"          /* first-seen replay couple */
	                 "-GAB%s%s"          /* seal source couple */
	                 "-DAB%s%s%s%.88s"   /* trans receipt quadruple */
	                 "-FAB%s%s%s-AAB%.88s", /* trans indexed sig group */
	                 sn0, dts, sn0, K[3].dig, K[2].qb, sn0, K[3].dig, sig, K[2].qb, sn0,
	                 K[3].dig, sig);
	memcpy(m + l, groups, (size_t)n);
	l += (size_t)n;
	assert_int_equal(keri_parse((uint8_t *)m, l, &ev, &used, why, sizeof(why)), KERI_OK);
	assert_int_equal(used, l);
	assert_int_equal(ev.nsigs, 1); /* the -F group's signature is not the controller's */
	assert_int_equal(keri_apply(NULL, &ev, &st, why, sizeof(why)), KERI_OK);
	dump("own_icp_other_groups.cesr", m, l);
	/* A -F group without its -A counter. */
	memcpy(strstr(m + b + 92, "-FAB") + 4 + 44 + 24 + 44, "-BAB", 4);
	assert_rejects(keri_parse((uint8_t *)m, l, &ev, &used, why, sizeof(why)), KERI_ECESR);
	/* A sequence number with non-zero pad bits. */
	memcpy(m + b + 92, "-EAB0AQ", 7);
	assert_rejects(keri_parse((uint8_t *)m, l, &ev, &used, why, sizeof(why)), KERI_EPAD);
}

/* Issue 10 rule 10: the other v1 counters keripy 1.1 may attach to an event (-H trans
 * last sig groups, -I seal source triples, -L pathed material, -0V big attachment
 * group) are parsed and skipped, not fatal; -J/-K (SAD path signatures of exn and
 * ACDC messages) are refused by name. */
static void keripy_v1_counters_on_events_are_skipped(void **state)
{
	(void)state;
	static struct keri_state st;
	size_t used;
	const char *sn0 = "0AAAAAAAAAAAAAAAAAAAAAAA";
	size_t b = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	size_t l = sign1(m, b, &K[0]);
	char sig[89];
	memcpy(sig, m + b + 4, 88);
	sig[88] = 0;
	char groups[4096];
	int n = snprintf(groups, sizeof(groups),
	                 "-HAB%s-AAB%s"   /* trans last sig group: pre + -A group */
	                 "-IAB%s%s%s"     /* seal source triple: pre + sn + digest */
	                 "-LAC%s",        /* pathed material: 2 quadlets, skipped */
	                 K[2].qb, sig, K[3].dig, sn0, K[4].dig, "4AABabcd");
	memcpy(m + l, groups, (size_t)n);
	size_t lg = l + (size_t)n;
	assert_int_equal(keri_parse((uint8_t *)m, lg, &ev, &used, why, sizeof(why)), KERI_OK);
	assert_int_equal(used, lg);
	assert_int_equal(ev.nsigs, 1); /* the -H group's signature is not the controller's */
	assert_int_equal(keri_apply(NULL, &ev, &st, why, sizeof(why)), KERI_OK);
	dump("own_icp_counters_h_i_l.cesr", m, lg);
	/* The controller signature inside a big attachment group: -0V, count of quadlets
	 * in 5 characters (92 chars = 23 quadlets). */
	memmove(m + b + 8, m + b, 92);
	memcpy(m + b, "-0VAAAAX", 8);
	assert_int_equal(keri_parse((uint8_t *)m, b + 100, &ev, &used, why, sizeof(why)), KERI_OK);
	assert_int_equal(used, b + 100);
	assert_int_equal(ev.nsigs, 1);
	assert_int_equal(keri_apply(NULL, &ev, &st, why, sizeof(why)), KERI_OK);
	dump("own_icp_big_attachment_group.cesr", m, b + 100);
	/* A big group whose size overruns its content, and the exn-only counters. */
	memcpy(m + b, "-0VAAAAY", 8);
	assert_rejects(keri_parse((uint8_t *)m, b + 100, &ev, &used, why, sizeof(why)),
	               KERI_ETRUNCATED);
	l = sign1(m, b, &K[0]);
	memcpy(m + l, "-JAB", 4);
	assert_rejects(keri_parse((uint8_t *)m, l + 4, &ev, &used, why, sizeof(why)), KERI_ECESR);
	memcpy(m + l, "-LAB{abc", 8);
	assert_rejects(keri_parse((uint8_t *)m, l + 8, &ev, &used, why, sizeof(why)), KERI_ECESR);
	/* The big pathed material group, count in 5 characters. */
	memcpy(m + l, "-0LAAAAB4AAB", 12);
	assert_int_equal(keri_parse((uint8_t *)m, l + 12, &ev, &used, why, sizeof(why)), KERI_OK);
	assert_int_equal(used, l + 12);
}

static void stream_of_events_parses_one_at_a_time(void **state)
{
	(void)state;
	static uint8_t buf[65536];
	size_t n = read_vector("01_direct_mode_coe_icp_rot_ixn.cesr", buf, sizeof(buf));
	size_t off = 0, used;
	int count = 0;
	while (off < n) {
		assert_int_equal(keri_parse(buf + off, n - off, &ev, &used, why, sizeof(why)), 0);
		assert_true(used > ev.size);
		assert_true(off + used == n || buf[off + used] == '{');
		off += used;
		count++;
	}
	assert_int_equal(off, n);
	assert_int_equal(count, 3);
}

static int tholder(const char *text, struct keri_tholder *t)
{
	struct keri_json j = {(const uint8_t *)text, strlen(text), 0};
	int rc = keri_tholder_parse(&j, t, "kt", why, sizeof(why));
	if (rc == KERI_OK && j.pos != j.len)
		return keri_fail(why, sizeof(why), KERI_EJSON, "trailing bytes after threshold");
	return rc;
}

static void thresholds_are_exact_fractions(void **state)
{
	(void)state;
	struct keri_tholder t;
	char out[256];
	/* Three thirds make exactly 1 (a float sum would give 0.999...). */
	assert_int_equal(tholder("[\"1/3\",\"1/3\",\"1/3\"]", &t), KERI_OK);
	assert_int_equal(keri_tholder_check(&t, 3, 0, "kt", why, sizeof(why)), KERI_OK);
	assert_true(keri_tholder_satisfied(&t, 0x7));
	assert_false(keri_tholder_satisfied(&t, 0x3));
	/* Fractions are reduced the way keripy renders them. */
	assert_int_equal(tholder("[\"2/4\",\"4/8\",\"0\",\"3/3\"]", &t), KERI_OK);
	assert_true(keri_tholder_json(&t, out, sizeof(out)) > 0);
	assert_string_equal(out, "[\"1/2\",\"1/2\",\"0\",\"1\"]");
	assert_true(keri_tholder_satisfied(&t, 0x8));
	assert_false(keri_tholder_satisfied(&t, 0x1 | 0x4));
	/* Hex numeric, intive, and their normalised form. */
	assert_int_equal(tholder("\"a\"", &t), KERI_OK);
	assert_int_equal(t.num, 10);
	assert_int_equal(tholder("10", &t), KERI_OK);
	assert_true(keri_tholder_json(&t, out, sizeof(out)) > 0);
	assert_string_equal(out, "\"a\"");
	/* Denominators whose common multiple cannot be summed exactly in 64 bits. */
	assert_int_equal(tholder("[\"1/4294967291\",\"1/4294967279\",\"1/4294967231\","
	                         "\"1/1\"]", &t), KERI_OK);
	assert_rejects(keri_tholder_check(&t, 4, 0, "kt", why, sizeof(why)), KERI_ETHRESHOLD);
	/* Malformed: weight above 1, leading zero, empty, weight maps, mixed clauses. */
	assert_rejects(tholder("[\"3/2\"]", &t), KERI_ETHRESHOLD);
	assert_rejects(tholder("[\"01/2\"]", &t), KERI_ETHRESHOLD);
	assert_rejects(tholder("[]", &t), KERI_ETHRESHOLD);
	assert_rejects(tholder("[{\"1/2\":[\"1\"]}]", &t), KERI_ETHRESHOLD);
	assert_rejects(tholder("[[\"1\"],\"1\"]", &t), KERI_ETHRESHOLD);
	assert_rejects(tholder("\"01\"", &t), KERI_ETHRESHOLD);
	assert_rejects(tholder("1.5", &t), KERI_EJSON);
	/* The longest text: 32 clauses of one weight with 10-digit terms (KERI_SITH_MAX). */
	memset(&t, 0, sizeof(t));
	t.weighted = 1;
	t.nclauses = t.size = KERI_MAX_KEYS;
	for (int i = 0; i < KERI_MAX_KEYS; i++) {
		t.clause_len[i] = 1;
		t.wn[i] = 4294967294u;
		t.wd[i] = 4294967295u;
	}
	char big[KERI_SITH_MAX + 1];
	assert_int_equal(keri_tholder_json(&t, big, sizeof(big)), KERI_SITH_MAX);
	assert_int_equal(keri_tholder_json(&t, big, sizeof(big) - 1), -1);
}

/* ---- state at rest ------------------------------------------------------------- */

static void state_codec_round_trips_and_refuses_corruption(void **state)
{
	(void)state;
	static uint8_t buf[65536], enc[KERI_STATE_ENC_MAX], enc2[KERI_STATE_ENC_MAX];
	static struct keri_state st, back;
	const char *files[] = {"01_direct_mode_coe_icp_rot_ixn.cesr", "07_weighted_wes_kel.cesr",
	                       "09_messagize_icp_sig.cesr"};
	for (int f = 0; f < 3; f++) {
		size_t n = read_vector(files[f], buf, sizeof(buf)), len, len2;
		replay(buf, n, &st, NULL);
		assert_int_equal(keri_state_encode(&st, enc, sizeof(enc), &len), KERI_OK);
		assert_int_equal(keri_state_encode(&st, enc, 10, &len2), KERI_ERANGE);
		assert_int_equal(len2, len);
		assert_int_equal(keri_state_decode(enc, len, &back, why, sizeof(why)), KERI_OK);
		assert_memory_equal(&back, &st, sizeof(st));
		assert_int_equal(keri_state_encode(&back, enc2, sizeof(enc2), &len2), KERI_OK);
		assert_int_equal(len2, len);
		assert_memory_equal(enc, enc2, len);
		/* Every single-bit flip and every truncation is refused. */
		for (size_t i = 0; i < len; i++) {
			for (int bit = 0; bit < 8; bit++) {
				enc[i] ^= (uint8_t)(1u << bit);
				assert_rejects(keri_state_decode(enc, len, &back, why, sizeof(why)),
				               KERI_ESTATE);
				enc[i] ^= (uint8_t)(1u << bit);
			}
			assert_rejects(keri_state_decode(enc, i, &back, why, sizeof(why)), KERI_ESTATE);
		}
		/* A well-checksummed record with an invalid field is refused too. */
		memcpy(enc2, enc, len);
		enc2[4] = 9; /* et */
		crypto_generichash(enc2 + len - 16, 16, enc2, len - 16, NULL, 0);
		assert_rejects(keri_state_decode(enc2, len, &back, why, sizeof(why)), KERI_ESTATE);
		static const uint8_t zero[sizeof(back)];
		assert_memory_equal(&back, zero, sizeof(back));
	}
}

/* ---- delegation (keripy test_delegating.py, and own streams) ------------------- */

#define BOB "EA_SbBUZYwqLVlAAn14d6QUBQCSReJlZ755JqTgmRhXH"
#define DEL "EHng2fV42DdKb5TLMIs6bbjFkPNmIdQ5mSFn6BTnySJj"

/* keripy's test_delegation stream: bob's icp and ixn (anchoring del's dip), del's dip
 * with a -G couple, bob's second ixn (anchoring del's drt), del's drt with its couple. */
static void vec16_keripy_delegation_stream(void **state)
{
	(void)state;
	static uint8_t buf[8192];
	static struct keri_state bob[2], del[2];
	static struct keri_event bixn[2];
	size_t n = read_vector("16_delegation_bob_del.cesr", buf, sizeof(buf)), off = 0, used;
	const int who[5] = {0, 0, 1, 0, 1};
	int nb = 0, nd = 0;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(keri_parse(buf + off, n - off, &ev, &used, why, sizeof(why)),
		                 KERI_OK);
		struct keri_state *s = who[i] ? del : bob;
		int *k = who[i] ? &nd : &nb;
		int rc = keri_apply(*k ? &s[0] : NULL, &ev, &s[1], why, sizeof(why));
		if (rc != KERI_OK)
			fail_msg("message %d: %d %s", i, rc, why);
		s[0] = s[1];
		if (!who[i] && *k)
			bixn[*k - 1] = ev;
		if (who[i]) {
			/* The -G couple names bob's anchoring ixn (sn 1, then 2). */
			assert_true(ev.has_src);
			assert_int_equal(ev.src_sn, (uint64_t)(i / 2));
			assert_string_equal(ev.src_said, bixn[*k].said);
			/* ... and that ixn holds the seal {i, s, d} of this event. */
			assert_int_equal(keri_seal_anchors(&bixn[*k], ev.pre, ev.sn, ev.said), 1);
			assert_int_equal(keri_seal_anchors(&bixn[!*k], ev.pre, ev.sn, ev.said), 0);
		}
		(*k)++;
		off += used;
	}
	assert_int_equal(off, n);
	assert_string_equal(del[0].pre, DEL);
	assert_string_equal(del[0].di, BOB);
	assert_int_equal(del[0].et, KERI_ILK_DRT);
	assert_string_equal(del[0].d, "EM5fj7YtOQYH3iLyWJr6HZVVxrY5t46LRL2vkNpdnPi0");
	assert_string_equal(del[0].k[0], "DE3-kGVqHrdeeKPcL83jLjYS0Ea_CWgFHogusIwf-P9P");
	assert_string_equal(bob[0].di, "");
	assert_int_equal(keri_delegator_check(&bob[0], BOB, why, sizeof(why)), KERI_OK);
	/* keripy's KeyStateRecord: di last, the delegator's prefix ("" when none). */
	char js[4096];
	size_t jl;
	assert_int_equal(keri_state_json(&del[0], "2021-01-01T00:00:00.000000+00:00", js,
	                                 sizeof(js), &jl), KERI_OK);
	assert_non_null(strstr(js, "\"et\":\"drt\""));
	const char *tail = ",\"di\":\"" BOB "\"}";
	assert_string_equal(js + jl - strlen(tail), tail);
	assert_int_equal(keri_state_json(&bob[0], "2021-01-01T00:00:00.000000+00:00", js,
	                                 sizeof(js), &jl), KERI_OK);
	assert_string_equal(js + jl - 10, "},\"di\":\"\"}");
}

/* The seal is matched exactly as keripy's SealEvent: a top-level element of `a` with
 * the keys i, s, d in that order and s as lowercase hex. */
static void seal_anchors_only_an_exact_top_level_event_seal(void **state)
{
	(void)state;
	const char *P = DEL, *D = "EM5fj7YtOQYH3iLyWJr6HZVVxrY5t46LRL2vkNpdnPi0";
	/* @ stands for the prefix P, # for the SAID D. */
	static const struct {
		const char *a;
		int want;
	} cases[] = {
		{"[{\"i\":\"@\",\"s\":\"1a\",\"d\":\"#\"}]", 1},
		{"[{\"d\":\"#\"},{\"i\":\"@\",\"s\":\"1a\",\"d\":\"#\"}]", 1},
		{"[{\"i\":\"@\",\"s\":\"1A\",\"d\":\"#\"}]", 0},
		{"[{\"i\":\"@\",\"s\":\"01a\",\"d\":\"#\"}]", 0},
		{"[{\"i\":\"@\",\"s\":\"1b\",\"d\":\"#\"}]", 0},
		{"[{\"s\":\"1a\",\"i\":\"@\",\"d\":\"#\"}]", 0},
		{"[{\"i\":\"@\",\"s\":\"1a\",\"d\":\"#\",\"x\":1}]", 0},
		{"[[{\"i\":\"@\",\"s\":\"1a\",\"d\":\"#\"}]]", 0},
		{"[{\"x\":{\"i\":\"@\",\"s\":\"1a\",\"d\":\"#\"}}]", 0},
		{"[\"{\\\"i\\\":\\\"@\\\",\\\"s\\\":\\\"1a\\\",\\\"d\\\":\\\"#\\\"}\"]", 0},
		{"[]", 0},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char a[2048];
		size_t o = 0;
		for (const char *t = cases[c].a; *t; t++)
			o += (size_t)snprintf(a + o, sizeof(a) - o, "%s",
			                      *t == '@' ? P : *t == '#' ? D : (char[2]){*t, 0});
		size_t l = ixn_a(m, BOB, "5", BOB, a);
		size_t used;
		assert_int_equal(keri_parse((uint8_t *)m, l, &ev, &used, why, sizeof(why)), KERI_OK);
		if (keri_seal_anchors(&ev, P, 0x1a, D) != cases[c].want)
			fail_msg("case %zu (%s): expected %d", c, a, cases[c].want);
		/* Its position among the elements of `a` (rule B2 compares them). */
		int at = keri_seal_index(&ev, P, 0x1a, D);
		if (at != (cases[c].want ? (int)c : -1))
			fail_msg("case %zu (%s): index %d", c, a, at);
	}
}

/* keripy's superseding rules B1-B3 and the climb of rule C, on the two delegating
 * events alone. */
static void supersede_rule_compares_delegating_events(void **state)
{
	(void)state;
	struct keri_anchor o = {5, "E_old", KERI_ILK_IXN, 1}, n;
	n = (struct keri_anchor){6, "E_new", KERI_ILK_IXN, 0}; /* B1: later sn */
	assert_int_equal(keri_supersede_rule(&n, &o, why, sizeof(why)), KERI_OK);
	n = (struct keri_anchor){4, "E_new", KERI_ILK_IXN, 3}; /* earlier sn */
	assert_int_equal(keri_supersede_rule(&n, &o, why, sizeof(why)), KERI_EDELEGATION);
	assert_non_null(strstr(why, "not later"));
	n = (struct keri_anchor){5, "E_old", KERI_ILK_IXN, 2}; /* B2: same event, later seal */
	assert_int_equal(keri_supersede_rule(&n, &o, why, sizeof(why)), KERI_OK);
	n.index = 0; /* same event, earlier seal */
	assert_int_equal(keri_supersede_rule(&n, &o, why, sizeof(why)), KERI_EDELEGATION);
	assert_non_null(strstr(why, "B2"));
	n = (struct keri_anchor){5, "E_rot", KERI_ILK_ROT, 0}; /* B3: rot over ixn, one sn */
	assert_int_equal(keri_supersede_rule(&n, &o, why, sizeof(why)), KERI_OK);
	n.sn = 4; /* a rotation at a lower sn: not later */
	assert_int_equal(keri_supersede_rule(&n, &o, why, sizeof(why)), KERI_EDELEGATION);
	o = (struct keri_anchor){5, "E_drt1", KERI_ILK_DRT, 0};
	n = (struct keri_anchor){5, "E_drt2", KERI_ILK_DRT, 0}; /* C: two drts at one sn */
	assert_int_equal(keri_supersede_rule(&n, &o, why, sizeof(why)), KERI_CLIMB);
	n.ilk = KERI_ILK_IXN; /* an ixn against a drt at one sn */
	assert_int_equal(keri_supersede_rule(&n, &o, why, sizeof(why)), KERI_EDELEGATION);
	assert_int_equal(keri_supersede_rule(NULL, &o, why, sizeof(why)), KERI_EINVAL);
}

/* keripy's own rules of the delegated events, on signed streams. */
static void delegated_event_rules(void **state)
{
	(void)state;
	static struct keri_state d0, d1, x;
	/* A dip from K[0] committing to K[1], delegated by bob. */
	size_t l = dip(m, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "", BOB);
	size_t body = l;
	l = sign1(m, body, &K[0]);
	l = source_couple(m, l, 1, "EJtQndkvwnMpVGE5oVVbLWSCm-jLviGw1AOOkzBvNwsS");
	assert_int_equal(feed(NULL, m, l, &d0), KERI_OK);
	assert_string_equal(d0.di, BOB);
	assert_true(ev.has_src);
	assert_int_equal(ev.src_sn, 1);
	/* A delegated identifier rotates with drt only: a rot is refused. */
	char dpre[45];
	strcpy(dpre, d0.pre);
	struct sg g = {&K[1], 0, 0};
	l = rot(m2, dpre, "1", d0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig), "0", "", "");
	l = attach(m2, l, l, 'A', 1, &g);
	assert_rejects(feed(&d0, m2, l, &d1), KERI_EDELEGATION);
	assert_non_null(strstr(why, "drt"));
	l = drt(m2, dpre, "1", d0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig));
	l = attach(m2, l, l, 'A', 1, &g);
	assert_int_equal(feed(&d0, m2, l, &d1), KERI_OK);
	assert_int_equal(d1.et, KERI_ILK_DRT);
	assert_string_equal(d1.di, BOB);
	assert_string_equal(d1.k[0], K[1].qb);
	/* The drt keeps every rotation rule: keys not committed to are refused. */
	struct sg bad = {&K[3], 0, 0};
	l = drt(m2, dpre, "1", d0.d, "1", list(1, K[3].qb), "1", list(1, K[2].dig));
	l = attach(m2, l, l, 'A', 1, &bad);
	assert_rejects(feed(&d0, m2, l, &x), KERI_ENEXT);
	/* A dip's prefix is self-addressing: a basic prefix is refused. */
	l = dip(m, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "", BOB);
	memcpy(strstr(m, "\"i\":\"") + 5, K[0].qb, KERI_QB64);
	memcpy(strstr(m, "\"d\":\"") + 5, DUMMY, KERI_QB64);
	l = finish(m);
	l = sign1(m, l, &K[0]);
	assert_rejects(feed(NULL, m, l, &x), KERI_EPREFIX);
	/* keripy: a drt of an identifier without a delegator is an ordinary rotation. */
	l = icp(m, NULL, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "");
	l = sign1(m, l, &K[0]);
	assert_int_equal(feed(NULL, m, l, &d0), KERI_OK);
	l = drt(m2, d0.pre, "1", d0.d, "1", list(1, K[1].qb), "1", list(1, K[2].dig));
	l = attach(m2, l, l, 'A', 1, &g);
	assert_int_equal(feed(&d0, m2, l, &d1), KERI_OK);
	assert_int_equal(d1.et, KERI_ILK_DRT);
	assert_string_equal(d1.di, "");
	/* The delegator's side: no KEL, or DND, refuses. */
	assert_rejects(keri_delegator_check(NULL, BOB, why, sizeof(why)), KERI_EDELEGATION);
	l = icp(m, NULL, "1", list(1, K[4].qb), "1", list(1, K[5].dig), "0", "", "\"DND\"");
	l = sign1(m, l, &K[4]);
	assert_int_equal(feed(NULL, m, l, &x), KERI_OK);
	assert_rejects(keri_delegator_check(&x, x.pre, why, sizeof(why)), KERI_EDELEGATION);
	assert_non_null(strstr(why, "DND"));
	/* A -G couple must start with a 0A number. */
	l = dip(m, "1", list(1, K[0].qb), "1", list(1, K[1].dig), "0", "", "", BOB);
	l = sign1(m, l, &K[0]);
	l += (size_t)sprintf(m + l, "-GAB%s%s", K[6].dig, K[6].dig);
	assert_rejects(feed(NULL, m, l, &x), KERI_ECESR);
}

/* The stored state's format 2 carries di; format 1 (before delegation) still decodes. */
static void state_codec_carries_di_and_reads_format_1(void **state)
{
	(void)state;
	static uint8_t buf[8192], enc[KERI_STATE_ENC_MAX], old[KERI_STATE_ENC_MAX];
	static struct keri_state st, back;
	size_t n = read_vector("16_delegation_bob_del.cesr", buf, sizeof(buf)), off = 0, used;
	struct keri_state *dst = NULL;
	static struct keri_state s[2], tmp;
	/* del's dip is the third message; bob's icp the first. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(keri_parse(buf + off, n - off, &ev, &used, why, sizeof(why)),
		                 KERI_OK);
		if (i != 1) {
			assert_int_equal(keri_apply(NULL, &ev, &tmp, why, sizeof(why)), KERI_OK);
			s[i / 2] = tmp;
		}
		off += used;
	}
	dst = &s[1];
	size_t len, len2;
	assert_int_equal(keri_state_encode(dst, enc, sizeof(enc), &len), KERI_OK);
	assert_memory_equal(enc, "KST2", 4);
	dump("own_state_record_delegated.bin", enc, len);
	assert_int_equal(keri_state_decode(enc, len, &back, why, sizeof(why)), KERI_OK);
	assert_memory_equal(&back, dst, sizeof(back));
	assert_string_equal(back.di, BOB);
	/* A delegated state's record without its di is inconsistent: refused. */
	memcpy(old, enc, len - 16 - 45);
	old[len - 16 - 45] = 0;
	crypto_generichash(old + len - 16 - 44, 16, old, len - 16 - 44, NULL, 0);
	assert_rejects(keri_state_decode(old, len - 44, &back, why, sizeof(why)), KERI_ESTATE);
	/* Format 1: bob's state as the previous release wrote it (no has_di byte). */
	st = s[0];
	assert_int_equal(keri_state_encode(&st, enc, sizeof(enc), &len), KERI_OK);
	assert_int_equal(enc[len - 17], 0); /* has_di */
	memcpy(old, enc, len - 17);
	old[3] = '1';
	crypto_generichash(old + len - 17, 16, old, len - 17, NULL, 0);
	assert_int_equal(keri_state_decode(old, len - 1, &back, why, sizeof(why)), KERI_OK);
	assert_memory_equal(&back, &st, sizeof(st));
	assert_int_equal(keri_state_encode(&back, old + 1024, 4096, &len2), KERI_OK);
	assert_int_equal(len2, len);
	assert_memory_equal(old + 1024, enc, len);
	/* Format 1 holds no delegated event type (dip, drt). */
	old[4] = KERI_ILK_DRT;
	crypto_generichash(old + len - 17, 16, old, len - 17, NULL, 0);
	assert_rejects(keri_state_decode(old, len - 1, &back, why, sizeof(why)), KERI_ESTATE);
	/* An unknown format is refused. */
	memcpy(old, enc, len);
	old[3] = '3';
	crypto_generichash(old + len - 16, 16, old, len - 16, NULL, 0);
	assert_rejects(keri_state_decode(old, len, &back, why, sizeof(why)), KERI_ESTATE);
}

static void strerror_names_every_code(void **state)
{
	(void)state;
	for (int c = -128; c <= -100; c++) {
		const char *s = keri_strerror(c);
		assert_non_null(strstr(s, "KERI_E"));
		for (int d = c + 1; d <= -100; d++)
			assert_string_not_equal(s, keri_strerror(d));
	}
	assert_non_null(strstr(keri_strerror(KERI_DUPLICATE), "DUPLICATE"));
	assert_non_null(strstr(keri_strerror(-150), "unknown"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vec01_direct_mode_reaches_keripy_state),
		cmocka_unit_test(vec04_weighted_kel_reaches_sn6),
		cmocka_unit_test(vec04_one_of_three_weighted_sigs_is_below_threshold),
		cmocka_unit_test(vec07_multiclause_weighted_kel_accepted),
		cmocka_unit_test(vec09_10_abandoned_at_inception),
		cmocka_unit_test(vec11_every_body_said_correct),
		cmocka_unit_test(vec12_said_blake2b_and_blake3),
		cmocka_unit_test(vec13_record_layout_matches_ours),
		cmocka_unit_test(vec15_keystate_record_byte_exact),
		cmocka_unit_test(said_codes_blake2b_and_sha256),
		cmocka_unit_test(witness_rotation_with_br_ba_and_receipts),
		cmocka_unit_test(forged_signature_rejected),
		cmocka_unit_test(bad_and_out_of_range_signatures_are_dropped),
		cmocka_unit_test(wrong_prior_next_key_rejected),
		cmocka_unit_test(dual_indexed_signature_uses_ondex),
		cmocka_unit_test(wrong_prior_digest_rejected),
		cmocka_unit_test(out_of_order_sn_rejected),
		cmocka_unit_test(duplicity_duplicate_and_stale),
		cmocka_unit_test(duplicity_only_for_an_authentic_conflict),
		cmocka_unit_test(non_canonical_json_rejected),
		cmocka_unit_test(weighted_signature_beyond_the_weights_does_not_satisfy),
		cmocka_unit_test(json_that_python_rewrites_is_refused),
		cmocka_unit_test(truncated_input_rejected),
		cmocka_unit_test(signature_pad_bits_rejected),
		cmocka_unit_test(abandoned_identifier_cannot_rotate),
		cmocka_unit_test(next_threshold_beyond_next_keys_accepted_as_keripy_does),
		cmocka_unit_test(establishment_only_refuses_ixn),
		cmocka_unit_test(keystate_record_traits_are_eo_then_dnd),
		cmocka_unit_test(registrar_and_did_traits_accepted_and_ignored),
		cmocka_unit_test(non_transferable_and_basic_prefix_rules),
		cmocka_unit_test(non_transferable_inception_has_no_witnesses_or_anchors),
		cmocka_unit_test(receipt_recognised_and_skipped),
		cmocka_unit_test(other_attachment_groups_are_skipped),
		cmocka_unit_test(keripy_v1_counters_on_events_are_skipped),
		cmocka_unit_test(stream_of_events_parses_one_at_a_time),
		cmocka_unit_test(thresholds_are_exact_fractions),
		cmocka_unit_test(state_codec_round_trips_and_refuses_corruption),
		cmocka_unit_test(vec16_keripy_delegation_stream),
		cmocka_unit_test(seal_anchors_only_an_exact_top_level_event_seal),
		cmocka_unit_test(delegated_event_rules),
		cmocka_unit_test(supersede_rule_compares_delegating_events),
		cmocka_unit_test(state_codec_carries_di_and_reads_format_1),
		cmocka_unit_test(strerror_names_every_code),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
