/*
 * KERI in the cache: appends validated against the current key state, event and state
 * written in one batch, the state cached.
 *
 * Key states live in a second, internal cache (c->ks, cache-only with a loader over
 * the `keystate` column family), so they get the same lock-free hits, byte budget and
 * single-flight loads as payloads without sharing a key space with them. Its key is
 * the 44-character prefix and its value the record as stored: [dt][keri_state_encode],
 * a few hundred bytes, decoded (and its checksum checked) on every read. The decoded
 * struct is 8 KiB (fixed arrays for 32 keys and witnesses); caching it would cost 20x
 * the memory for a decode of about a microsecond, against milliseconds for a replay.
 *
 * An append runs as cache_write's durable step on c->ks, under the prefix's stripe
 * write mutex: appends to one identifier are serialised there, so of two racing
 * appends of one sn exactly one is validated against the old state and wins; the
 * other sees the new state and is a duplicate or duplicity. The KEL event and the new
 * state go to RocksDB in one write batch (all or nothing across a crash), and the
 * state is installed only after the batch is durable.
 *
 * A delegated event (dip, or a drt of a delegated identifier) is kept only when the
 * delegator's KEL here anchors it (delegation_check, keripy's validateDelegation); the
 * lookup reads the store directly, never the key-state cache, so it takes no lock.
 *
 * At rest: kel    "<prefix>.<sn as 16 hex digits>" -> the message as received
 *          keystate "<prefix>" -> [dt, 40 bytes][keri_state_encode]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include "backing/backing.h"
#include "cache/abi.h"
#include "cache/cache.h"
#include "cache/error.h"
#include "cache/kel.h"
#include "cache/store.h"
#include "keri/keri.h"

_Static_assert(sizeof(((struct hc_keystate *)0)->kt) > KERI_SITH_MAX &&
               sizeof(((struct hc_keystate *)0)->nt) > KERI_SITH_MAX,
               "hc_keystate's kt and nt hold any threshold keri/ accepts");

#define KS_KEY KERI_QB64
#define KS_DT 40
#define KS_REC_MAX (KS_DT + KERI_STATE_ENC_MAX)

struct ks_value {
	char dt[KS_DT];
	struct keri_state st;
};

static void ks_key(const char *pre, unsigned char key[KS_KEY])
{
	memcpy(key, pre, KERI_QB64);
}

size_t kel_key(const char *pre, uint64_t sn, char key[KEL_KEY + 1])
{
	return (size_t)snprintf(key, KEL_KEY + 1, "%.44s.%016llx", pre, (unsigned long long)sn);
}

static void now_dt(char dt[KS_DT])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	memset(dt, 0, KS_DT);
	size_t n = strftime(dt, KS_DT, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(dt + n, KS_DT - n, ".%06u+00:00", (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

/* keri/'s codes are the HC_EKERI_* codes (the same numbers); others pass through. */
static int keri_fail_rc(int rc, const char *why)
{
	return hc_error_ret(rc, "%s", why);
}

/* ---- the key-state cache's loader ---------------------------------------------------- */

static int ks_decode(const char *pre, const unsigned char *rec, size_t len,
                     struct ks_value *v)
{
	char why[256];
	if (len < KS_DT)
		return hc_error_ret(HC_ECORRUPT, "stored key state of %.44s is truncated", pre);
	memcpy(v->dt, rec, KS_DT);
	v->dt[KS_DT - 1] = '\0';
	if (keri_state_decode(rec + KS_DT, len - KS_DT, &v->st, why, sizeof(why)) != KERI_OK)
		return hc_error_ret(HC_ECORRUPT, "stored key state of %.44s does not decode: %s",
		                    pre, why);
	return 0;
}

static int ks_load(void *ctx, const void *key, size_t klen, struct cache_load *ld)
{
	struct hc_cache *c = ctx;
	(void)klen;
	struct backing_pin pin;
	int rc = backing_get_raw(c->backing, BACKING_KEYSTATE, key, KERI_QB64, &pin);
	if (rc != 0) {
		if (rc != HC_ENOTFOUND)
			hc_error_set("%s", backing_last_error());
		return rc;
	}
	if (pin.len < KS_DT || pin.len > KS_REC_MAX) {
		backing_pin_release(&pin);
		return hc_error_ret(HC_ECORRUPT, "stored key state of %.44s has a bad length",
		                    (const char *)key);
	}
	void *v = ld->alloc(ld, pin.len);
	if (v == NULL) {
		backing_pin_release(&pin);
		return hc_error_ret(HC_ENOMEM, "out of memory loading a key state");
	}
	memcpy(v, pin.data, pin.len);
	backing_pin_release(&pin);
	return 0;
}

/* Never called: key states are written by append's batch (cache_write's durable step);
 * its presence marks the key-state cache as backed. */
static int ks_put(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	(void)ctx, (void)key, (void)klen, (void)val, (void)vlen;
	return hc_error_ret(HC_ENOTSUP, "key states are written by hc_kel_append only");
}

/* BLAKE3 picks its implementation on first use through a plain global: do it once
 * here, before any appending thread, so that first use is not a data race. */
static void digest_warm(void)
{
	char out[KERI_QB64 + 1];
	if (keri_digest_qb64('E', (const uint8_t *)"", 0, out) != KERI_OK)
		abort();
}
static pthread_once_t warm_once = PTHREAD_ONCE_INIT;

int kel_open(struct hc_cache *c, uint64_t limit)
{
	pthread_once(&warm_once, digest_warm);
	struct hc_config cfg;
	hc_config_default(&cfg);
	cfg.backing_mode = HC_BACKING_NONE;
	cfg.memory_limit = limit;
	cfg.shards = 1;
	cfg.max_entry = 64u << 10;
	int rc = hc_open(&cfg, &c->ks);
	if (rc != 0)
		return rc;
	struct cache_store st = {.ctx = c, .put = ks_put, .load = ks_load};
	cache_store_set(c->ks, &st);
	return 0;
}

void kel_close(struct hc_cache *c)
{
	hc_close(c->ks);
	c->ks = NULL;
}

/* ---- reading states ---------------------------------------------------------------- */

struct state_out {
	const char *pre;
	struct ks_value *v;
	int rc;
};

/* Decodes straight from the cached record, inside the read's section. */
static void decode_value(const void *val, size_t vlen, void *arg)
{
	struct state_out *o = arg;
	o->rc = ks_decode(o->pre, val, vlen, o->v);
}

static int state_read(struct hc_cache *c, const char *pre, struct ks_value *v)
{
	unsigned char key[KS_KEY];
	ks_key(pre, key);
	struct state_out o = {pre, v, HC_ECORRUPT};
	int rc = hc_read(c->ks, key, KS_KEY, decode_value, &o);
	return rc != 0 ? rc : o.rc;
}

static int check_prefix(struct hc_cache *c, const char *prefix, const char *fn)
{
	if (c == NULL || prefix == NULL)
		return hc_error_ret(HC_EINVAL, "%s: NULL argument", fn);
	if (strlen(prefix) != KERI_QB64)
		return hc_error_ret(HC_EINVAL, "%s: a prefix is 44 qb64 characters, not %zu", fn,
		                    strlen(prefix));
	if (c->ks == NULL)
		return hc_error_ret(HC_ENOTSUP, "%s: KERI needs backing.mode = rocksdb", fn);
	return 0;
}

static const char *ilk_text(unsigned et)
{
	switch (et) {
	case KERI_ILK_ICP: return "icp";
	case KERI_ILK_ROT: return "rot";
	case KERI_ILK_IXN: return "ixn";
	case KERI_ILK_DIP: return "dip";
	case KERI_ILK_DRT: return "drt";
	case KERI_ILK_RCT: return "rct";
	default: return "";
	}
}

_Static_assert(offsetof(struct hc_keystate, di) >= ABI_KEYSTATE_MIN,
               "a field added to struct hc_keystate starts inside the first layout's padding");
_Static_assert(sizeof(((struct hc_keystate *)0)->di) == KERI_QB64 + 1, "di holds a prefix");

int hc_keystate_get_sized(hc_cache *c, const char *prefix, struct hc_keystate *user,
                          size_t size)
{
	int rc = check_prefix(c, prefix, "hc_keystate_get");
	if (rc != 0)
		return rc;
	if (user == NULL)
		return hc_error_ret(HC_EINVAL, "hc_keystate_get: state is NULL");
	if ((rc = abi_check(size, ABI_KEYSTATE_MIN, "hc_keystate_get")) != 0)
		return rc;
	struct ks_value v;
	if ((rc = state_read(c, prefix, &v)) != 0)
		return rc;
	const struct keri_state *s = &v.st;
	struct hc_keystate full, *out = &full;
	memset(out, 0, sizeof(*out));
	memcpy(out->prefix, s->pre, sizeof(out->prefix));
	out->sn = s->sn;
	memcpy(out->said, s->d, sizeof(out->said));
	memcpy(out->prior, s->p, sizeof(out->prior));
	snprintf(out->ilk, sizeof(out->ilk), "%s", ilk_text(s->et));
	memcpy(out->dt, v.dt, sizeof(out->dt));
	if (keri_tholder_json(&s->kt, out->kt, sizeof(out->kt)) < 0 ||
	    keri_tholder_json(&s->nt, out->nt, sizeof(out->nt)) < 0)
		return hc_error_ret(HC_ECORRUPT, "key state of %s: threshold does not render", prefix);
	out->nkeys = s->nk;
	out->nnext = s->nn;
	out->nwits = s->nb;
	memcpy(out->keys, s->k, sizeof(s->k));
	memcpy(out->next, s->n, sizeof(s->n));
	memcpy(out->wits, s->b, sizeof(s->b));
	out->bt = s->bt;
	out->est_sn = s->ee_sn;
	memcpy(out->est_said, s->ee_d, sizeof(out->est_said));
	memcpy(out->di, s->di, sizeof(out->di));
	abi_out_filled(user, size, out, sizeof(*out));
	return 0;
}

int hc_keystate_json(hc_cache *c, const char *prefix, char *buf, size_t cap, size_t *len)
{
	int rc = check_prefix(c, prefix, "hc_keystate_json");
	if (rc != 0)
		return rc;
	if (len == NULL || (buf == NULL && cap > 0))
		return hc_error_ret(HC_EINVAL, "hc_keystate_json: len is NULL, or buf with cap > 0");
	struct ks_value v;
	if ((rc = state_read(c, prefix, &v)) != 0)
		return rc;
	rc = keri_state_json(&v.st, v.dt, buf, cap, len);
	if (rc == KERI_ERANGE)
		return hc_error_ret(HC_ERANGE, "key state JSON is %zu bytes, buffer holds %zu", *len,
		                    cap);
	if (rc != KERI_OK)
		return hc_error_ret(HC_ECORRUPT, "key state of %s does not render as JSON", prefix);
	return 0;
}

/* ---- appending ---------------------------------------------------------------------- */

struct append {
	struct hc_cache *c;
	const uint8_t *msg;
	size_t len;
	struct keri_event ev;
	int outcome;
	struct ks_value next;
	uint8_t rec[KS_DT + KERI_STATE_ENC_MAX];
};

static int kel_replay(struct hc_cache *c, const char *prefix, uint64_t end, unsigned flags,
                      struct keri_state st[2], struct keri_event *ev, uint64_t *n);

/*
 * Another event than the stored one (SAID held) at a->ev.sn. It is duplicity only if
 * authentic (issue 10 rule 8): replay the stored KEL up to sn - 1 (its signatures were
 * checked when it was appended) and apply the event there with every check keri_apply
 * makes, signatures included. Otherwise it is that check's ordinary rejection. The
 * replay is O(sn); it runs only for a conflict keri_apply cannot judge from the
 * current state (below the current sn, or at an establishment event).
 */
static int conflict(struct append *a, const char *held)
{
	struct keri_state *st = calloc(2, sizeof(*st));
	struct keri_event *ev = malloc(sizeof(*ev));
	uint64_t n = 0;
	char why[256];
	int rc = st == NULL || ev == NULL ? hc_error_ret(HC_ENOMEM, "out of memory") : 0;
	if (rc == 0 && a->ev.sn > 0)
		rc = kel_replay(a->c, a->ev.pre, a->ev.sn, KERI_APPLY_SKIP_SIGS, st, ev, &n);
	if (rc == 0 && n != a->ev.sn)
		rc = hc_error_ret(HC_ECORRUPT, "the KEL of %s has %llu events below sn %llu",
		                  a->ev.pre, (unsigned long long)n, (unsigned long long)a->ev.sn);
	if (rc == 0) {
		int krc = keri_apply(n ? &st[0] : NULL, &a->ev, &st[1], why, sizeof(why));
		rc = krc == KERI_OK
		             ? hc_error_ret(HC_EKERI_DUPLICITY, "duplicity: sn %llu of %s is already "
		                            "%s, not %s, which its keys at that sn signed",
		                            (unsigned long long)a->ev.sn, a->ev.pre, held, a->ev.said)
		             : hc_error_ret(krc < 0 ? krc : HC_ECORRUPT, "sn %llu of %s is already %s; "
		                            "the other event %s is not authentic: %s",
		                            (unsigned long long)a->ev.sn, a->ev.pre, held, a->ev.said,
		                            why);
	}
	free(st);
	free(ev);
	return rc;
}

/* An sn at or below the current one: the same event again, or a conflict. */
static int stale(struct append *a)
{
	char key[KEL_KEY + 1];
	size_t kl = kel_key(a->ev.pre, a->ev.sn, key);
	struct backing_pin pin;
	int rc = backing_get_raw(a->c->backing, BACKING_KEL, key, kl, &pin);
	if (rc == HC_ENOTFOUND)
		return hc_error_ret(HC_EKERI_SN, "sn %llu of %s is below its current sn, and no "
		                    "event is stored there", (unsigned long long)a->ev.sn, a->ev.pre);
	if (rc != 0)
		return hc_error_ret(rc, "%s", backing_last_error());
	struct keri_event old;
	size_t used;
	char why[256];
	int prc = keri_parse(pin.data, pin.len, &old, &used, why, sizeof(why));
	backing_pin_release(&pin);
	if (prc < 0)
		return hc_error_ret(HC_ECORRUPT, "stored event %s does not parse: %s", key, why);
	if (strcmp(old.said, a->ev.said) == 0) {
		a->outcome = HC_KEL_DUPLICATE;
		return CACHE_WRITE_NOOP;
	}
	return conflict(a, old.said);
}

/* ---- delegation ------------------------------------------------------------------------ */

struct seal_walk {
	const struct keri_event *of; /* the delegated event */
	struct keri_event *ev;       /* scratch for the delegator's events */
	int found;
	uint64_t at;                 /* sn of the anchoring event when found */
};

/* 1 when the stored delegator event msg anchors w->of. */
static int anchors(const void *msg, size_t len, struct seal_walk *w)
{
	size_t used;
	char why[256];
	if (keri_parse(msg, len, w->ev, &used, why, sizeof(why)) != KERI_OK)
		return 0;
	return keri_seal_anchors(w->ev, w->of->pre, w->of->sn, w->of->said);
}

static int seal_one(const void *msg, size_t len, const char *key, void *arg)
{
	struct seal_walk *w = arg;
	(void)key;
	if (!anchors(msg, len, w))
		return 0;
	w->found = 1;
	w->at = w->ev->sn;
	return 1; /* stop: the first anchoring event in sn order */
}

/*
 * keripy's validateDelegation for a dip, or a drt of a delegated identifier, that
 * keri_apply accepted (signatures, thresholds, witnesses already met): the delegator
 * di must have a KEL here without the DND trait, and one of its stored events must
 * anchor ev's seal {i, s, d} in its `a` list. An attached -G couple names where to
 * look first: its sn's event on the delegator's accepted branch (keripy takes the last
 * event at that sn and does not require the couple's SAID to match it); when that event
 * does not anchor ev, or there is no couple, the delegator's KEL is walked in sn order,
 * as keripy's escrow does (fetchLastSealingEventByEventSeal). HC_EKERI_DELEGATION names
 * what is missing. Reads the store only (no key-state cache lock is taken).
 */
static int delegation_check(struct hc_cache *c, const struct keri_event *ev, const char *di)
{
	struct ks_value *dv = malloc(sizeof(*dv));
	struct keri_event *scratch = malloc(sizeof(*scratch));
	char why[256], key[KEL_KEY + 1];
	struct backing_pin pin;
	int rc = dv == NULL || scratch == NULL ? hc_error_ret(HC_ENOMEM, "out of memory") : 0;
	const struct keri_state *dst = NULL;
	if (rc == 0) {
		rc = backing_get_raw(c->backing, BACKING_KEYSTATE, di, KERI_QB64, &pin);
		if (rc == 0) {
			rc = ks_decode(di, pin.data, pin.len, dv);
			backing_pin_release(&pin);
			dst = &dv->st;
		} else if (rc == HC_ENOTFOUND) {
			rc = 0;
		} else {
			rc = hc_error_ret(rc, "%s", backing_last_error());
		}
	}
	if (rc == 0) {
		int krc = keri_delegator_check(dst, di, why, sizeof(why));
		if (krc != KERI_OK)
			rc = hc_error_ret(krc, "%s %llu of %s: %s", ilk_text(ev->ilk),
			                  (unsigned long long)ev->sn, ev->pre, why);
	}
	struct seal_walk w = {ev, scratch, 0, 0};
	int src_tried = 0;
	if (rc == 0 && ev->has_src) {
		size_t kl = kel_key(di, ev->src_sn, key);
		int g = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
		if (g == 0) {
			src_tried = 1;
			if (anchors(pin.data, pin.len, &w))
				w.found = 1, w.at = ev->src_sn;
			backing_pin_release(&pin);
		} else if (g != HC_ENOTFOUND) {
			rc = hc_error_ret(g, "%s", backing_last_error());
		}
	}
	if (rc == 0 && !w.found) {
		uint64_t n;
		rc = kel_each_event(c, di, seal_one, &w, &n);
		if (rc == 1)
			rc = 0;
	}
	if (rc == 0 && !w.found) {
		char src[128] = "";
		if (ev->has_src)
			snprintf(src, sizeof(src), "; the attached -G couple names its sn %llu (%s), "
			         "%s", (unsigned long long)ev->src_sn, ev->src_said,
			         src_tried ? "which does not hold the seal" : "which is not stored");
		rc = hc_error_ret(HC_EKERI_DELEGATION, "delegation: %s %llu of %s is not anchored: "
		                  "no event of its delegator %s stored here has the seal "
		                  "{\"i\":\"%s\",\"s\":\"%llx\",\"d\":\"%s\"} in its a list (the "
		                  "delegator's anchoring event is not seen)%s", ilk_text(ev->ilk),
		                  (unsigned long long)ev->sn, ev->pre, di, ev->pre,
		                  (unsigned long long)ev->sn, ev->said, src);
	}
	free(dv);
	free(scratch);
	return rc;
}

static int append_durable(void *ctx, const void **val, size_t *vlen)
{
	struct append *a = ctx;
	struct hc_cache *c = a->c;
	struct ks_value prior;
	int rc = state_read(c, a->ev.pre, &prior);
	if (rc != 0 && rc != HC_ENOTFOUND)
		return rc;
	char why[256];
	rc = keri_apply(rc == 0 ? &prior.st : NULL, &a->ev, &a->next.st, why, sizeof(why));
	if (rc == KERI_DUPLICATE) {
		a->outcome = HC_KEL_DUPLICATE;
		return CACHE_WRITE_NOOP;
	}
	if (rc == KERI_ESTALE)
		return stale(a);
	if (rc != KERI_OK)
		return keri_fail_rc(rc, why);
	if ((a->ev.ilk == KERI_ILK_DIP || a->ev.ilk == KERI_ILK_DRT) && a->next.st.di[0] &&
	    (rc = delegation_check(c, &a->ev, a->next.st.di)) != 0)
		return rc;

	now_dt(a->next.dt);
	size_t enc;
	memcpy(a->rec, a->next.dt, KS_DT);
	if (keri_state_encode(&a->next.st, a->rec + KS_DT, KERI_STATE_ENC_MAX, &enc) != KERI_OK)
		return hc_error_ret(HC_EKERI_LIMIT, "the new key state of %s does not encode",
		                    a->ev.pre);
	char key[KEL_KEY + 1];
	size_t kl = kel_key(a->ev.pre, a->ev.sn, key);
	struct backing_batch *bt = backing_batch_new(c->backing);
	if (bt == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory for a write batch");
	if ((rc = backing_batch_put_raw(bt, BACKING_KEL, key, kl, a->msg, a->len)) == 0 &&
	    (rc = backing_batch_put_raw(bt, BACKING_KEYSTATE, a->ev.pre, KERI_QB64, a->rec,
	                                KS_DT + enc)) == 0)
		rc = backing_batch_commit(bt);
	backing_batch_free(bt);
	if (rc != 0)
		return hc_error_ret(rc, "%s", backing_last_error());
	a->outcome = HC_KEL_ACCEPTED;
	*val = a->rec;
	*vlen = KS_DT + enc;
	return 0;
}

/* One message: parse, append; outcome and the message's extent for the caller. */
static int append_one(struct hc_cache *c, const uint8_t *msg, size_t len, struct append *a,
                      size_t *consumed)
{
	char why[256];
	*consumed = 0;
	a->c = c;
	a->outcome = HC_KEL_REJECTED;
	int rc = keri_parse(msg, len, &a->ev, consumed, why, sizeof(why));
	if (rc == KERI_RECEIPT) {
		a->outcome = HC_KEL_RECEIPT;
		return 0;
	}
	if (rc != KERI_OK)
		return keri_fail_rc(rc, why);
	a->msg = msg;
	a->len = *consumed;
	unsigned char key[KS_KEY];
	ks_key(a->ev.pre, key);
	return cache_write(c->ks, key, KS_KEY, append_durable, a);
}

/*
 * One append buffer per thread, kept for the thread's life: it is ~37 KiB (a parsed
 * event and a state), and a fresh calloc each time came back as purged pages whose
 * faults cost more than the append's own work (keri_bench). Freed at thread exit.
 */
static pthread_key_t append_key;
static pthread_once_t append_once = PTHREAD_ONCE_INIT;
static int append_key_ok;

static void append_key_init(void)
{
	append_key_ok = pthread_key_create(&append_key, free) == 0;
}

static struct append *append_new(void)
{
	pthread_once(&append_once, append_key_init);
	struct append *a = append_key_ok ? pthread_getspecific(append_key) : NULL;
	if (a == NULL) {
		a = malloc(sizeof(*a));
		if (a == NULL)
			return NULL;
		if (append_key_ok && pthread_setspecific(append_key, a) != 0) {
			free(a);
			return NULL;
		}
	}
	return a;
}

/* The buffer stays with the thread (see append_new); without a key it was malloc'd. */
static void append_done(struct append *a)
{
	if (!append_key_ok)
		free(a);
}

int hc_kel_append(hc_cache *c, const void *msg, size_t len, size_t *consumed)
{
	if (c == NULL || msg == NULL || consumed == NULL)
		return hc_error_ret(HC_EINVAL, "hc_kel_append: NULL argument");
	*consumed = 0;
	if (c->ks == NULL)
		return hc_error_ret(HC_ENOTSUP, "hc_kel_append: KERI needs backing.mode = rocksdb");
	struct append *a = append_new();
	if (a == NULL)
		return hc_error_ret(HC_ENOMEM, "hc_kel_append: out of memory");
	int rc = append_one(c, msg, len, a, consumed);
	append_done(a);
	return rc;
}

/* The report in the library's size; copied out to the caller's at every return. */
static int report_out(struct hc_kel_report *user, size_t size, const struct hc_kel_report *r,
                      int rc)
{
	abi_out(user, size, r, sizeof(*r), (uint32_t)size);
	return rc;
}

int hc_kel_import_sized(hc_cache *c, const void *stream, size_t len,
                        struct hc_kel_report *user, size_t size)
{
	if (c == NULL || user == NULL || (stream == NULL && len > 0))
		return hc_error_ret(HC_EINVAL, "hc_kel_import: NULL argument");
	int rc0 = abi_check(size, ABI_KEL_REPORT_MIN, "hc_kel_import");
	if (rc0 != 0)
		return rc0;
	/* on_event and arg are the caller's input; everything else is output. */
	struct hc_kel_report full, *r = &full;
	memset(r, 0, sizeof(*r));
	r->on_event = user->on_event;
	r->arg = user->arg;
	if (c->ks == NULL)
		return report_out(user, size, r, hc_error_ret(HC_ENOTSUP, "hc_kel_import: KERI "
		                                              "needs backing.mode = rocksdb"));
	struct append *a = append_new();
	if (a == NULL)
		return report_out(user, size, r,
		                  hc_error_ret(HC_ENOMEM, "hc_kel_import: out of memory"));
	const uint8_t *p = stream;
	size_t off = 0;
	int first = 0;
	/* A file's trailing newline is not part of its last message's attachments. */
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	while (off < len) {
		size_t used = 0;
		memset(&a->ev, 0, sizeof(a->ev));
		int rc = append_one(c, p + off, len - off, a, &used);
		r->messages++;
		struct hc_kel_event ev = {.size = sizeof(ev), .offset = off, .len = used, .code = rc,
		                          .prefix = a->ev.pre, .sn = a->ev.sn,
		                          .ilk = ilk_text(a->ev.ilk),
		                          .why = rc != 0 ? hc_last_error() : ""};
		ev.outcome = rc != 0 ? HC_KEL_REJECTED : a->outcome;
		switch (ev.outcome) {
		case HC_KEL_ACCEPTED: r->accepted++; break;
		case HC_KEL_DUPLICATE: r->duplicates++; break;
		case HC_KEL_RECEIPT: r->receipts++; break;
		default:
			r->rejected++;
			if (first == 0) {
				first = rc;
				r->first_error = rc;
				r->first_error_offset = off;
			}
		}
		if (r->on_event != NULL)
			r->on_event(&ev, r->arg);
		if (used == 0)
			break; /* the message's extent is unknown: nothing after it can be read */
		off += used;
	}
	append_done(a);
	if (first != 0)
		hc_error_set("hc_kel_import: %llu of %llu messages rejected; the first, at byte "
		             "%zu: %s", (unsigned long long)r->rejected,
		             (unsigned long long)r->messages, r->first_error_offset,
		             hc_strerror(first));
	return report_out(user, size, r, first);
}

/* ---- verification --------------------------------------------------------------------- */

int kel_each_event(struct hc_cache *c, const char *pre, kel_event_fn fn, void *arg,
                   uint64_t *n)
{
	uint64_t sn = 0;
	int rc;
	for (;; sn++) {
		char key[KEL_KEY + 1];
		size_t kl = kel_key(pre, sn, key);
		struct backing_pin pin;
		rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
		if (rc == HC_ENOTFOUND) {
			rc = 0;
			break;
		}
		if (rc != 0) {
			rc = hc_error_ret(rc, "%s", backing_last_error());
			break;
		}
		rc = fn(pin.data, pin.len, key, arg);
		backing_pin_release(&pin);
		if (rc != 0)
			break;
	}
	*n = sn;
	return rc;
}

struct replay {
	struct hc_cache *c;
	struct keri_state *st; /* [0] the state so far, [1] the next one */
	struct keri_event *ev;
	unsigned flags;
	uint64_t end, n;
};

/* kel_each_event's stop at r->end: positive, so never taken for a failure. */
#define REPLAY_END 1

static int replay_one(const void *msg, size_t len, const char *key, void *arg)
{
	struct replay *r = arg;
	char why[256];
	size_t used;
	if (r->n == r->end)
		return REPLAY_END;
	int rc = keri_parse(msg, len, r->ev, &used, why, sizeof(why));
	if (rc == KERI_OK)
		rc = keri_apply_flags(r->n ? &r->st[0] : NULL, r->ev, r->flags, &r->st[1], why,
		                      sizeof(why));
	if (rc != KERI_OK)
		return hc_error_ret(rc < 0 ? rc : HC_ECORRUPT, "stored event %s fails: %s", key, why);
	/* A full verification (flags 0) checks the delegator's anchor again too. */
	if (r->flags == 0 && (r->ev->ilk == KERI_ILK_DIP || r->ev->ilk == KERI_ILK_DRT) &&
	    r->st[1].di[0] && (rc = delegation_check(r->c, r->ev, r->st[1].di)) != 0) {
		char text[512];
		snprintf(text, sizeof(text), "%s", hc_last_error());
		return hc_error_ret(rc, "stored event %s fails: %s", key, text);
	}
	r->st[0] = r->st[1];
	r->n++;
	return 0;
}

/*
 * Replays prefix's stored events from sn 0 while they exist and sn < end, through
 * keri_apply_flags(flags), into st[0]; ev is scratch. *n = events replayed (st[0] is
 * meaningful only when *n > 0). Returns 0 or the first failure, with its sentence.
 */
static int kel_replay(struct hc_cache *c, const char *prefix, uint64_t end, unsigned flags,
                      struct keri_state st[2], struct keri_event *ev, uint64_t *n)
{
	struct replay r = {c, st, ev, flags, end, 0};
	uint64_t seen;
	int rc = kel_each_event(c, prefix, replay_one, &r, &seen);
	*n = r.n;
	return rc == REPLAY_END ? 0 : rc;
	return 0;
}

int hc_kel_verify(hc_cache *c, const char *prefix, uint64_t *events)
{
	int rc = check_prefix(c, prefix, "hc_kel_verify");
	if (rc != 0)
		return rc;
	struct keri_state *st = calloc(2, sizeof(*st));
	struct keri_event *ev = calloc(1, sizeof(*ev));
	if (st == NULL || ev == NULL) {
		free(st);
		free(ev);
		return hc_error_ret(HC_ENOMEM, "hc_kel_verify: out of memory");
	}
	uint64_t sn = 0;
	rc = kel_replay(c, prefix, UINT64_MAX, 0, st, ev, &sn);
	if (rc == 0 && sn == 0)
		rc = hc_error_ret(HC_ENOTFOUND, "no KEL stored for %s", prefix);
	if (rc == 0) {
		struct backing_pin pin;
		struct ks_value *stored = calloc(1, sizeof(*stored));
		rc = stored == NULL ? HC_ENOMEM
		                    : backing_get_raw(c->backing, BACKING_KEYSTATE, prefix,
		                                      KERI_QB64, &pin);
		if (rc == 0) {
			rc = ks_decode(prefix, pin.data, pin.len, stored);
			backing_pin_release(&pin);
			uint8_t x[KERI_STATE_ENC_MAX], y[KERI_STATE_ENC_MAX];
			size_t xl = 0, yl = 0;
			if (rc == 0 &&
			    (keri_state_encode(&st[0], x, sizeof(x), &xl) != KERI_OK ||
			     keri_state_encode(&stored->st, y, sizeof(y), &yl) != KERI_OK || xl != yl ||
			     memcmp(x, y, xl) != 0))
				rc = hc_error_ret(HC_ECORRUPT, "the stored key state of %s differs from the "
				                  "replay of its %llu events", prefix,
				                  (unsigned long long)sn);
		} else if (rc == HC_ENOTFOUND) {
			rc = hc_error_ret(HC_ECORRUPT, "%s has a KEL but no stored key state", prefix);
		}
		free(stored);
	}
	if (rc == 0 && events != NULL)
		*events = sn;
	free(st);
	free(ev);
	return rc;
}
