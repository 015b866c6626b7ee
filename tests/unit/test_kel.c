/* KERI in the cache: importing keripy's KELs, key state reads, duplicates, rejections,
 * persistence, verification, and racing appends. */
#include <pthread.h>
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

#define PRE01 "EJe_sKQb1otKrz6COIL8VFvBv3DEFvtKaVFGn1vm0IlL"
#define PRE04 "ELfp9ZhqQCGov3wPRLa6vn5VkIQjug2sb2QD17T-TIpY"
#define PRE07 "EIL2dvwm6lYAsyKKtzxIEFm51gSfwe3IIZSx8kI8ve7_"

static char dir[256];

static unsigned char *slurp(const char *name, size_t *len)
{
	static unsigned char buf[1 << 16];
	*len = vectors_read(name, buf, sizeof(buf));
	return buf;
}

static hc_cache *open_store(void)
{
	return testutil_open_rocks(dir, "wal", 32u << 20);
}

static int setup(void **state)
{
	(void)state;
	return testutil_dir_make(dir, sizeof(dir), "hc-kel");
}

static int teardown(void **state)
{
	(void)state;
	return testutil_dir_remove(dir);
}

struct lines {
	int n;
	int outcome[16];
};

static void note(const struct hc_kel_event *ev, void *arg)
{
	struct lines *l = arg;
	if (l->n < 16)
		l->outcome[l->n] = ev->outcome;
	l->n++;
}

static void import_of_direct_mode_kel_reaches_keripys_state(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	size_t len;
	unsigned char *s = slurp("01_direct_mode_coe_icp_rot_ixn.cesr", &len);
	struct lines l = {0};
	struct hc_kel_report r = {.on_event = note, .arg = &l};
	int rc = hc_kel_import(c, s, len, &r);
	if (rc != 0)
		fail_msg("import: %s: %s", hc_strerror(rc), hc_last_error());
	assert_int_equal(r.accepted, 3);
	assert_int_equal(r.rejected, 0);
	assert_int_equal(l.n, 3);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, PRE01, &ks), 0);
	assert_int_equal(ks.sn, 2);
	assert_string_equal(ks.ilk, "ixn");
	assert_true(strncmp(ks.said, "EG3O9AV3", 8) == 0);
	assert_int_equal(ks.nkeys, 1);
	assert_true(strncmp(ks.keys[0], "DIR7b_v2", 8) == 0);
	assert_true(strncmp(ks.next[0], "ED9O5NCp", 8) == 0);
	assert_string_equal(ks.kt, "\"1\"");

	/* The same stream again: every event a duplicate, nothing changes. */
	memset(&l, 0, sizeof(l));
	r = (struct hc_kel_report){.on_event = note, .arg = &l};
	assert_int_equal(hc_kel_import(c, s, len, &r), 0);
	assert_int_equal(r.duplicates, 3);
	assert_int_equal(l.outcome[0], HC_KEL_DUPLICATE);
	uint64_t events = 0;
	assert_int_equal(hc_kel_verify(c, PRE01, &events), 0);
	assert_int_equal(events, 3);
	hc_close(c);

	/* Reopened: the state loads from the store, the JSON has keripy's layout. */
	c = open_store();
	char json[4096];
	size_t jl;
	assert_int_equal(hc_keystate_json(c, PRE01, json, sizeof(json), &jl), 0);
	assert_int_equal(strlen(json), jl);
	assert_true(strncmp(json, "{\"vn\":[1,0],\"i\":\"" PRE01 "\",\"s\":\"2\"", 60) == 0);
	assert_int_equal(hc_keystate_json(c, PRE01, json, 10, &jl), HC_ERANGE);
	assert_true(jl > 10);
	hc_close(c);
}

/* A stream file that ends with a newline (as editors leave them) imports cleanly. */
static void trailing_newline_is_not_a_message(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	size_t len;
	unsigned char *s = slurp("01_direct_mode_coe_icp_rot_ixn.cesr", &len);
	static unsigned char buf[1 << 16];
	memcpy(buf, s, len);
	memcpy(buf + len, "\n\n", 2);
	struct hc_kel_report r = {0};
	assert_int_equal(hc_kel_import(c, buf, len + 2, &r), 0);
	assert_int_equal(r.messages, 3);
	assert_int_equal(r.accepted, 3);
	hc_close(c);
}

static void weighted_kels_import(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	size_t len;
	unsigned char *s = slurp("04_replay_deb_weighted_kel.cesr", &len);
	struct hc_kel_report r = {0};
	int rc = hc_kel_import(c, s, len, &r);
	if (rc != 0)
		fail_msg("import 04: %s: %s", hc_strerror(rc), hc_last_error());
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, PRE04, &ks), 0);
	assert_int_equal(ks.sn, 6);
	s = slurp("07_weighted_wes_kel.cesr", &len);
	rc = hc_kel_import(c, s, len, &r);
	if (rc != 0)
		fail_msg("import 07: %s: %s", hc_strerror(rc), hc_last_error());
	assert_int_equal(r.accepted, 5);
	assert_int_equal(hc_keystate_get(c, PRE07, &ks), 0);
	assert_int_equal(ks.sn, 4);
	assert_int_equal(hc_kel_verify(c, PRE07, NULL), 0);
	hc_close(c);
}

static void rejections_change_nothing(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	size_t len, consumed;
	unsigned char *s = slurp("01_direct_mode_coe_icp_rot_ixn.cesr", &len);
	unsigned char msg[1 << 12];
	/* A rot before the icp: no state yet, so it waits in the escrow as out of order
	 * (issue 10; it was rejected with HC_EKERI_NOSTATE before). */
	const unsigned char *rot = (const unsigned char *)strstr((const char *)s, "{\"v\":\"KERI10JSON000160_\",\"t\":\"rot\"");
	assert_non_null(rot);
	int rc = hc_kel_append(c, rot, len - (size_t)(rot - s), &consumed);
	assert_int_equal(rc, HC_EKERI_SN);
	assert_true(strncmp(hc_last_error(), "escrowed: ", 10) == 0);
	assert_true(consumed > 0);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, PRE01, &ks), HC_ENOTFOUND);
	/* A forged byte in the icp's signature. */
	memcpy(msg, s, len);
	size_t icp_len = 0x12b;
	msg[icp_len + 10] = msg[icp_len + 10] == 'A' ? 'B' : 'A';
	rc = hc_kel_append(c, msg, len, &consumed);
	assert_true(rc == HC_EKERI_SIG || rc == HC_EKERI_PAD || rc == HC_EKERI_CESR);
	assert_int_equal(hc_keystate_get(c, PRE01, &ks), HC_ENOTFOUND);
	/* The genuine icp: accepted, and the escrowed rot is promoted behind it. */
	assert_int_equal(hc_kel_append(c, s, len, &consumed), 0);
	assert_int_equal(hc_keystate_get(c, PRE01, &ks), 0);
	assert_int_equal(ks.sn, 1);
	struct hc_stats st;
	assert_int_equal(hc_stats(c, &st), 0);
	assert_int_equal(st.escrowed, 1);
	assert_int_equal(st.promoted, 1);
	assert_int_equal(st.escrow_entries, 0);
	assert_int_equal(st.escrow_bytes, 0);
	assert_int_equal(hc_kel_append(NULL, s, len, &consumed), HC_EINVAL);
	assert_int_equal(hc_keystate_get(c, "short", &ks), HC_EINVAL);
	hc_close(c);
}

/* Issue 10 rule 9: a valid threshold of 32 long weights (keripy has no length limit)
 * renders through hc_keystate_get; it used to overflow a 256-byte kt. */
static void threshold_of_32_weights_renders_through_keystate_get(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	hc_cache *c = open_store();
	static struct kp k[32];
	static char msg[16384], keys[32 * 48], kt[32 * 24 + 2];
	size_t ko = 0, to = 0;
	to += (size_t)snprintf(kt, sizeof(kt), "[");
	for (int i = 0; i < 32; i++) {
		mkkey(&k[i], 200 + i, 'D');
		ko += (size_t)snprintf(keys + ko, sizeof(keys) - ko, "%s\"%s\"", i ? "," : "",
		                       k[i].qb);
		to += (size_t)snprintf(kt + to, sizeof(kt) - to, "%s\"4294967294/4294967295\"",
		                       i ? "," : "");
	}
	snprintf(kt + to, sizeof(kt) - to, "]");
	snprintf(msg, sizeof(msg),
	         "{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\"" DUMMY "\",\"i\":\"" DUMMY
	         "\",\"s\":\"0\",\"kt\":%s,\"k\":[%s],\"nt\":\"1\",\"n\":[\"%s\"],\"bt\":\"0\","
	         "\"b\":[],\"c\":[],\"a\":[]}", kt, keys, k[0].dig);
	size_t b = finish(msg);
	struct sg s[2] = {{&k[0], 0, -1}, {&k[31], 31, -1}};
	size_t len = attach(msg, b, b, 'A', 2, s), consumed;
	int rc = hc_kel_append(c, msg, len, &consumed);
	if (rc != 0)
		fail_msg("append: %s: %s", hc_strerror(rc), hc_last_error());
	char pre[HC_KERI_QB64 + 1];
	memcpy(pre, msg + strlen("{\"v\":\"KERI10JSON000000_\",\"t\":\"icp\",\"d\":\""), 44);
	pre[44] = 0;
	struct hc_keystate ks;
	rc = hc_keystate_get(c, pre, &ks);
	if (rc != 0)
		fail_msg("keystate_get: %s: %s", hc_strerror(rc), hc_last_error());
	assert_string_equal(ks.kt, kt);
	assert_int_equal(strlen(ks.kt), 769);
	assert_string_equal(ks.nt, "\"1\"");
	assert_int_equal(ks.nkeys, 32);
	hc_close(c);
}

/* Appends msg[0..len) and returns hc_kel_append's code. */
static int append(hc_cache *c, const char *msg, size_t len)
{
	size_t consumed;
	return hc_kel_append(c, msg, len, &consumed);
}

/* Issue 10 rule 8: HC_EKERI_DUPLICITY only for a conflicting event signed by the keys
 * that governed its sn, below the current event (replayed from the KEL) and at it;
 * an unsigned or forged one is an ordinary rejection and changes nothing. */
static void duplicity_reported_only_for_an_authentic_conflict(void **state)
{
	(void)state;
	assert_true(sodium_init() >= 0);
	hc_cache *c = open_store();
	static struct kp k[7];
	static char m[8192], o[8192], d[4][KERI_QB64 + 1], pre[KERI_QB64 + 1];
	for (int i = 0; i < 7; i++)
		mkkey(&k[i], 1 + i, 'D');
	size_t b = icp(m, NULL, "1", list(1, k[0].qb), "1", list(1, k[1].dig), "0", "", "");
	assert_int_equal(append(c, m, sign1(m, b, &k[0])), 0);
	memcpy(pre, strstr(m, "\"i\":\"") + 5, KERI_QB64);
	memcpy(d[0], pre, KERI_QB64);
	for (int sn = 1; sn <= 2; sn++) {
		char snh[4];
		snprintf(snh, sizeof(snh), "%x", sn);
		b = ixn(m, pre, snh, d[sn - 1]);
		assert_int_equal(append(c, m, sign1(m, b, &k[0])), 0);
		memcpy(d[sn], strstr(m, "\"d\":\"") + 5, KERI_QB64);
	}
	/* Below the current event (sn 1) and at it (sn 2). */
	const char *sns[2] = {"1", "2"};
	for (int i = 0; i < 2; i++) {
		b = seal_ixn(o, pre, sns[i], d[i], k[4].dig, k[4].dig);
		assert_int_equal(append(c, o, b), HC_EKERI_THRESHOLD);
		assert_int_equal(append(c, o, sign1(o, b, &k[5])), HC_EKERI_SIG);
		assert_int_equal(append(c, o, sign1(o, b, &k[0])), HC_EKERI_DUPLICITY);
	}
	/* Against a rotation: the new key must be the committed one. */
	b = rot(m, pre, "3", d[2], "1", list(1, k[1].qb), "1", list(1, k[2].dig), "0", "", "");
	assert_int_equal(append(c, m, sign1(m, b, &k[1])), 0);
	b = rot(o, pre, "3", d[2], "1", list(1, k[6].qb), "1", list(1, k[2].dig), "0", "", "");
	assert_int_equal(append(c, o, sign1(o, b, &k[6])), HC_EKERI_NEXT);
	b = rot(o, pre, "3", d[2], "1", list(1, k[1].qb), "1", list(1, k[3].dig), "0", "", "");
	assert_int_equal(append(c, o, sign1(o, b, &k[1])), HC_EKERI_DUPLICITY);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, pre, &ks), 0);
	assert_int_equal(ks.sn, 3);
	assert_string_equal(ks.next[0], k[2].dig);
	uint64_t events;
	assert_int_equal(hc_kel_verify(c, pre, &events), 0);
	assert_int_equal(events, 4);
	hc_close(c);
}

struct racer {
	hc_cache *c;
	const unsigned char *msg;
	size_t len;
	pthread_barrier_t *bar;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	size_t consumed;
	pthread_barrier_wait(r->bar);
	r->rc = hc_kel_append(r->c, r->msg, r->len, &consumed);
	return NULL;
}

/* Two threads append the same next event at once: the KEL gets it once. */
static void racing_appends_of_one_event_store_it_once(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	size_t len, consumed;
	unsigned char *s = slurp("01_direct_mode_coe_icp_rot_ixn.cesr", &len);
	assert_int_equal(hc_kel_append(c, s, len, &consumed), 0);
	const unsigned char *rot = (const unsigned char *)strstr((const char *)s, "{\"v\":\"KERI10JSON000160_\",\"t\":\"rot\"");
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, 4);
	struct racer rs[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		rs[i] = (struct racer){c, rot, len - (size_t)(rot - s), &bar, -999};
		pthread_create(&th[i], NULL, race, &rs[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(rs[i].rc, 0); /* one accepted, the others duplicates */
	}
	pthread_barrier_destroy(&bar);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, PRE01, &ks), 0);
	assert_int_equal(ks.sn, 1);
	uint64_t events;
	assert_int_equal(hc_kel_verify(c, PRE01, &events), 0);
	assert_int_equal(events, 2);
	hc_close(c);
}

static void kel_without_backing_is_enotsup(void **state)
{
	(void)state;
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	hc_cache *c;
	assert_int_equal(hc_open(&cfg, &c), 0);
	size_t consumed;
	assert_int_equal(hc_kel_append(c, "{}", 2, &consumed), HC_ENOTSUP);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(import_of_direct_mode_kel_reaches_keripys_state, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(weighted_kels_import, setup, teardown),
		cmocka_unit_test_setup_teardown(trailing_newline_is_not_a_message, setup, teardown),
		cmocka_unit_test_setup_teardown(rejections_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(threshold_of_32_weights_renders_through_keystate_get,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(duplicity_reported_only_for_an_authentic_conflict,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(racing_appends_of_one_event_store_it_once, setup,
		                                teardown),
		cmocka_unit_test(kel_without_backing_is_enotsup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
