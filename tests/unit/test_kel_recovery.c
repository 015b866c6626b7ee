/*
 * test_kel_recovery: issue 10 rule 3 (recovery rotation superseding interaction events,
 * keripy's Kever.update/rotate), the first-seen log behind the state's fn and dt, rollback
 * at rest (a restored older key-state record is refused, then repaired by replay) and the
 * signed duplicity evidence. Own events signed from fixed seeds (keri_sign.h).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cache/cache.h"
#include "hotcache.h"
#include "tests/unit/keri_sign.h"
#include "tests/unit/test_backing_util.h"
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

struct stream {
	size_t len;
	char buf[1 << 16];
};

static int gather(const void *msg, size_t len, void *arg)
{
	struct stream *s = arg;
	assert_true(s->len + len <= sizeof(s->buf));
	memcpy(s->buf + s->len, msg, len);
	s->len += len;
	return 0;
}

/* Exports pre from c (first_seen or the accepted branch), imports the stream into a new
 * store and checks the state there: sn, f, the current key; returns nothing. */
static void reimport(hc_cache *c, const char *pre, int first_seen, uint64_t sn,
                     const char *f, const char *key)
{
	static struct stream s;
	static int round;
	char sub[300];
	uint64_t n = 0;
	s.len = 0;
	assert_int_equal(first_seen ? hc_kel_export_first_seen(c, pre, gather, &s, &n)
	                            : hc_kel_export(c, pre, gather, &s, &n), 0);
	/* With HC_KERI_CORPUS_OUT=dir (as test_keri), the first-seen stream, a recovery in
	 * it, seeds the fuzz corpus (tests/fuzz/corpus/keri/own_recovery_stream.cesr). */
	const char *out = getenv("HC_KERI_CORPUS_OUT");
	if (first_seen && out != NULL) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/own_recovery_stream.cesr", out);
		FILE *fp = fopen(path, "wb");
		assert_non_null(fp);
		assert_int_equal(fwrite(s.buf, 1, s.len, fp), s.len);
		fclose(fp);
	}
	snprintf(sub, sizeof(sub), "%s/fresh%d", testutil_dir, round++);
	assert_int_equal(mkdir(sub, 0700), 0);
	hc_cache *d = testutil_open_rocks(sub, "wal", 32u << 20);
	struct hc_kel_report r = {0};
	assert_int_equal(hc_kel_import(d, s.buf, s.len, &r), 0);
	assert_int_equal(r.accepted, n);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(d, pre, &ks), 0);
	assert_int_equal(ks.sn, sn);
	assert_string_equal(ks.keys[0], key);
	assert_fn(d, pre, f);
	uint64_t events;
	assert_int_equal(hc_kel_verify(d, pre, &events), 0);
	assert_int_equal(events, n);
	hc_close(d);
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
	/* Both exports import into empty stores: the first-seen one replays the recovery
	 * (same state, f 5), the accepted branch takes it in order (same keys, f 3). */
	reimport(c, t.pre, 1, 3, "5", t.k[1].qb);
	reimport(c, t.pre, 0, 3, "3", t.k[1].qb);
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

/* The store alone, with the cache closed: the key-state family as bytes. */
static struct backing *open_backing(void)
{
	struct tb_dir d; /* the cache's store: <dir>/db and its default key file db.key */
	char err[256];
	snprintf(d.db, sizeof d.db, "%s/db", testutil_dir);
	snprintf(d.key, sizeof d.key, "%s/db.key", testutil_dir);
	struct backing_opts o = tb_opts(&d, HC_DURABILITY_SYNC);
	o.create_if_missing = 0;
	struct backing *b = NULL;
	if (backing_open(&o, &b, err, sizeof err) != 0)
		fail_msg("backing_open %s: %s", d.db, err);
	return b;
}

static size_t record_get(const char *pre, unsigned char *out, size_t cap)
{
	struct backing *b = open_backing();
	struct backing_pin pin;
	assert_int_equal(backing_get_raw(b, BACKING_KEYSTATE, pre, KERI_QB64, &pin), 0);
	assert_true(pin.len <= cap);
	size_t n = pin.len;
	memcpy(out, pin.data, n);
	backing_pin_release(&pin);
	backing_close(b);
	return n;
}

static void record_put(const char *pre, const unsigned char *rec, size_t n)
{
	struct backing *b = open_backing();
	assert_int_equal(backing_put_raw(b, BACKING_KEYSTATE, pre, KERI_QB64, rec, n), 0);
	backing_close(b);
}

/* A KEL of icp and nixn ixns; the key-state record as it stands then is copied back
 * into the store after a rot at sn 2 (recovery when nixn >= 2), cache closed. */
static void restore_older_record(struct kel *t, unsigned nixn)
{
	static unsigned char old[16384];
	hc_cache *c = open_store();
	base_kel(c, t, nixn);
	hc_close(c);
	size_t on = record_get(t->pre, old, sizeof(old));
	c = open_store();
	assert_int_equal(append(c, t->m, rot_at(t, t->m, 2, t->d[1], 1, 2, 1)), 0);
	hc_close(c);
	record_put(t->pre, old, on);
}

/*
 * Issue 10 "Rollback at rest": a key-state record copied back from before a rotation
 * (a restored backup, a bad sync) must not serve the old keys. The load finds that the
 * KEL's accepted branch goes on past the event the record names: HC_ECORRUPT, for reads
 * and appends alike; hc_kel_repair (hotcache kel verify) rebuilds it by replay.
 */
static void restored_older_key_state_is_refused_then_repaired(void **state)
{
	(void)state;
	static struct kel t;
	restore_older_record(&t, 1);
	hc_cache *c = open_store();
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), HC_ECORRUPT);
	assert_non_null(strstr(hc_last_error(), "kel verify"));
	size_t b = ixn(t.m, t.pre, "3", said_of(t.m));
	assert_int_equal(append(c, t.m, sign1(t.m, b, &t.k[1])), HC_ECORRUPT);
	uint64_t events = 0;
	assert_int_equal(hc_kel_verify(c, t.pre, &events), HC_ECORRUPT);
	int rewritten = -1;
	assert_int_equal(hc_kel_repair(c, t.pre, &events, &rewritten), 0);
	assert_int_equal(rewritten, 1);
	assert_int_equal(events, 3);
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), 0);
	assert_int_equal(ks.sn, 2);
	assert_string_equal(ks.keys[0], t.k[1].qb);
	assert_fn(c, t.pre, "2");
	assert_int_equal(hc_kel_verify(c, t.pre, &events), 0);
	assert_int_equal(hc_kel_repair(c, t.pre, &events, &rewritten), 0);
	assert_int_equal(rewritten, 0);
	/* Appends work again. */
	b = ixn(t.m, t.pre, "3", ks.said);
	assert_int_equal(append(c, t.m, sign1(t.m, b, &t.k[1])), 0);
	hc_close(c);
}

/* The same after a recovery rotation: the restored record names a superseded ixn, which
 * the accepted branch no longer holds at its sn. */
static void restored_state_naming_a_superseded_event_is_refused(void **state)
{
	(void)state;
	static struct kel t;
	restore_older_record(&t, 3);
	hc_cache *c = open_store();
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), HC_ECORRUPT);
	int rewritten = 0;
	uint64_t events = 0;
	assert_int_equal(hc_kel_repair(c, t.pre, &events, &rewritten), 0);
	assert_int_equal(rewritten, 1);
	assert_int_equal(events, 5);
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), 0);
	assert_int_equal(ks.sn, 2);
	assert_string_equal(ks.ilk, "rot");
	assert_fn(c, t.pre, "4");
	hc_close(c);
}

/*
 * An identifier from a store older than the first-seen log (0.2: no ":f." records, fn
 * was sn) reads and verifies as before; a recovery rotation there fills the log in
 * first, so the superseded events keep their first-seen place and the replay still
 * meets the same states: f 4 after icp, ixn 1-3 and the recovery at sn 2.
 */
static void recovery_in_a_store_older_than_the_log(void **state)
{
	(void)state;
	static struct kel t;
	hc_cache *c = open_store();
	base_kel(c, &t, 3);
	hc_close(c);
	struct backing *bk = open_backing();
	for (unsigned fn = 0; fn <= 3; fn++) {
		char key[128];
		int kl = snprintf(key, sizeof(key), "%s:f.%016x", t.pre, fn);
		assert_int_equal(backing_delete(bk, BACKING_KEL, key, (size_t)kl), 0);
	}
	backing_close(bk);
	c = open_store();
	uint64_t events = 0;
	assert_int_equal(hc_kel_verify(c, t.pre, &events), 0);
	assert_int_equal(events, 4);
	assert_int_equal(append(c, t.m, rot_at(&t, t.m, 2, t.d[1], 1, 2, 1)), 0);
	assert_fn(c, t.pre, "4");
	assert_int_equal(hc_kel_verify(c, t.pre, &events), 0);
	assert_int_equal(events, 5);
	hc_close(c);
}

struct pairs {
	int n;
	uint64_t sn[4];
	char held[4][KERI_QB64 + 1], other[4][KERI_QB64 + 1];
	const struct kp *signer;
};

/* Each side must be a whole signed message whose signature verifies. */
static void signed_by(const void *msg, size_t len, const struct kp *k, char said[KERI_QB64 + 1])
{
	static struct keri_event ev;
	size_t used;
	char why[256];
	assert_int_equal(keri_parse(msg, len, &ev, &used, why, sizeof(why)), KERI_OK);
	assert_int_equal(used, len);
	assert_int_equal(ev.nsigs, 1);
	assert_int_equal(crypto_sign_verify_detached(ev.sigs[0].sig, ev.body, ev.size, k->pk), 0);
	memcpy(said, ev.said, KERI_QB64 + 1);
}

static int pair(uint64_t sn, const void *held, size_t hlen, const void *other, size_t olen,
                void *arg)
{
	struct pairs *p = arg;
	assert_true(p->n < 4);
	p->sn[p->n] = sn;
	signed_by(held, hlen, p->signer, p->held[p->n]);
	signed_by(other, olen, p->signer, p->other[p->n]);
	p->n++;
	return 0;
}

/*
 * Issue 10 rule 8's kept evidence: an authentic conflict (HC_EKERI_DUPLICITY) keeps the
 * conflicting signed message beside the accepted one, at the current sn and below it;
 * hc_kel_duplicity hands out both, each verifying against the keys of that sn. An
 * unsigned or forged conflict is an ordinary rejection and keeps nothing.
 */
static void duplicity_keeps_both_signed_events(void **state)
{
	(void)state;
	static struct kel t;
	static char o[8192];
	static char conflict[2][KERI_QB64 + 1];
	hc_cache *c = open_store();
	base_kel(c, &t, 2);
	struct pairs p = {.signer = &t.k[0]};
	uint64_t count = 9;
	assert_int_equal(hc_kel_duplicity(c, t.pre, pair, &p, &count), 0);
	assert_int_equal(count, 0);

	size_t b = seal_ixn(o, t.pre, "1", t.d[0], t.k[4].dig, t.k[4].dig);
	assert_int_equal(append(c, o, b), HC_EKERI_THRESHOLD);
	assert_int_equal(append(c, o, sign1(o, b, &t.k[5])), HC_EKERI_SIG);
	assert_int_equal(hc_kel_duplicity(c, t.pre, pair, &p, &count), 0);
	assert_int_equal(count, 0);
	/* Below the current sn (judged by replay), then at it (judged by the state). */
	assert_int_equal(append(c, o, sign1(o, b, &t.k[0])), HC_EKERI_DUPLICITY);
	memcpy(conflict[0], said_of(o), KERI_QB64 + 1);
	b = seal_ixn(o, t.pre, "2", t.d[1], t.k[4].dig, t.k[4].dig);
	assert_int_equal(append(c, o, sign1(o, b, &t.k[0])), HC_EKERI_DUPLICITY);
	memcpy(conflict[1], said_of(o), KERI_QB64 + 1);
	/* The same conflict again is kept once. */
	assert_int_equal(append(c, o, sign1(o, b, &t.k[0])), HC_EKERI_DUPLICITY);
	hc_close(c);

	c = open_store();
	assert_int_equal(hc_kel_duplicity(c, t.pre, pair, &p, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(p.n, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(p.sn[i], (uint64_t)i + 1);
		assert_string_equal(p.held[i], t.d[i + 1]);
		assert_string_equal(p.other[i], conflict[i]);
	}
	/* The state and the KEL are untouched by the evidence. */
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), 0);
	assert_int_equal(ks.sn, 2);
	assert_string_equal(ks.said, t.d[2]);
	uint64_t events;
	assert_int_equal(hc_kel_verify(c, t.pre, &events), 0);
	assert_int_equal(events, 3);
	assert_int_equal(hc_kel_duplicity(c, "short", pair, &p, NULL), HC_EINVAL);
	hc_close(c);
}

struct churn {
	hc_cache *c;
	const char *pre;
	_Atomic int done;
	int corrupt, reads;
};

static int drop(void *ctx, const void **val, size_t *vlen)
{
	(void)ctx, (void)val, (void)vlen;
	return CACHE_WRITE_REMOVE;
}

/* Drops the key state from memory and reads it again (a load from the store), while
 * the other thread appends. */
/* Occurrences of needle in s[0..len). */
static int count_in(const char *s, size_t len, const char *needle)
{
	int n = 0;
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= len; i++)
		n += memcmp(s + i, needle, nl) == 0;
	return n;
}

static int export_count(hc_cache *c, const char *pre, const char *needle)
{
	static struct stream s;
	uint64_t n;
	s.len = 0;
	assert_int_equal(hc_kel_export(c, pre, gather, &s, &n), 0);
	return count_in(s.buf, s.len, needle);
}

/*
 * keripy's Kevery on a duplicate of an accepted event: controller signatures it does
 * not hold yet are verified and logged with it (logEvent's putSigs). An icp with two
 * keys and kt 1, accepted with key 0's signature; copies bringing a junk signature or
 * one at an index outside the keys change nothing; a copy with both keys' signatures
 * adds key 1's: the stored (exported) event carries a -A group of two. An ixn's late
 * signature is checked against the keys in force at its sn. The exported stream
 * imports into a new store.
 */
static void late_controller_signatures_join_the_stored_event(void **state)
{
	(void)state;
	hc_cache *c = open_store();
	static struct kel t;
	for (int i = 0; i < 8; i++)
		mkkey(&t.k[i], 1 + i, 'D');
	size_t b = icp(t.m, NULL, "1", list(2, t.k[0].qb, t.k[1].qb), "1", list(1, t.k[2].dig),
	               "0", "", "");
	memcpy(t.pre, said_of(t.m), KERI_QB64 + 1);
	struct sg one[1] = {{&t.k[0], 0, -1}};
	assert_int_equal(append(c, t.m, attach(t.m, b, b, 'A', 1, one)), 0);
	assert_int_equal(export_count(c, t.pre, "-AAB"), 1);
	/* Junk at index 1 (key 5's signature) and key 1's at index 2: nothing added. */
	struct sg bad[2] = {{&t.k[5], 1, -1}, {&t.k[1], 2, -1}};
	assert_int_equal(append(c, t.m, attach(t.m, b, b, 'A', 2, bad)), 0);
	assert_int_equal(export_count(c, t.pre, "-AAB"), 1);
	assert_int_equal(export_count(c, t.pre, "-AAC"), 0);
	/* Both keys: key 1's signature is added. */
	struct sg both[2] = {{&t.k[0], 0, -1}, {&t.k[1], 1, -1}};
	assert_int_equal(append(c, t.m, attach(t.m, b, b, 'A', 2, both)), 0);
	assert_non_null(strstr(hc_last_error(), "1 late controller signature"));
	assert_int_equal(export_count(c, t.pre, "-AAC"), 1);
	/* Again: nothing new. */
	assert_int_equal(append(c, t.m, attach(t.m, b, b, 'A', 2, both)), 0);
	assert_int_equal(export_count(c, t.pre, "-AAC"), 1);
	/* An ixn signed by key 0, then its copy signed by key 1 alone. */
	b = ixn(t.m, t.pre, "1", t.pre);
	assert_int_equal(append(c, t.m, attach(t.m, b, b, 'A', 1, one)), 0);
	struct sg k1[1] = {{&t.k[1], 1, -1}};
	assert_int_equal(append(c, t.m, attach(t.m, b, b, 'A', 1, k1)), 0);
	assert_int_equal(export_count(c, t.pre, "-AAC"), 2);
	struct hc_keystate ks;
	assert_int_equal(hc_keystate_get(c, t.pre, &ks), 0);
	assert_int_equal(ks.sn, 1);
	assert_int_equal(hc_kel_verify(c, t.pre, NULL), 0);
	reimport(c, t.pre, 0, 1, "1", t.k[0].qb);
	hc_close(c);
}

static void *reader(void *arg)
{
	struct churn *r = arg;
	struct hc_keystate ks;
	while (!atomic_load(&r->done)) {
		if (cache_write(r->c->ks, r->pre, KERI_QB64, drop, NULL) != 0)
			continue;
		int rc = hc_keystate_get(r->c, r->pre, &ks);
		r->corrupt += rc == HC_ECORRUPT;
		r->reads++;
	}
	return NULL;
}

/*
 * The rollback check must not mistake a racing append for a rollback: a load that
 * read the state just before an append's batch (event and state together) and the KEL
 * just after sees an event past its state. Loads racing 300 appends: no HC_ECORRUPT.
 */
static void loads_racing_appends_are_not_rollbacks(void **state)
{
	(void)state;
	static struct kel t;
	hc_cache *c = open_store();
	base_kel(c, &t, 0);
	struct churn r = {.c = c, .pre = t.pre};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
	char prior[KERI_QB64 + 1];
	memcpy(prior, t.pre, sizeof(prior));
	for (unsigned sn = 1; sn <= 300; sn++) {
		char h[20];
		hex(h, sn);
		size_t b = ixn(t.m, t.pre, h, prior);
		assert_int_equal(append(c, t.m, sign1(t.m, b, &t.k[0])), 0);
		memcpy(prior, said_of(t.m), sizeof(prior));
	}
	atomic_store(&r.done, 1);
	pthread_join(th, NULL);
	assert_true(r.reads > 0);
	assert_int_equal(r.corrupt, 0);
	hc_close(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(recovery_rotation_supersedes_two_interaction_events,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(recovery_at_the_current_sn_supersedes_one_event,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(restored_older_key_state_is_refused_then_repaired,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(restored_state_naming_a_superseded_event_is_refused,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(late_controller_signatures_join_the_stored_event,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(duplicity_keeps_both_signed_events, testutil_setup,
		                                testutil_teardown),
		cmocka_unit_test_setup_teardown(recovery_in_a_store_older_than_the_log,
		                                testutil_setup, testutil_teardown),
		cmocka_unit_test_setup_teardown(loads_racing_appends_are_not_rollbacks,
		                                testutil_setup, testutil_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
