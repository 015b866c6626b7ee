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
 * delegator's KEL here anchors it (delegation_check, keripy's validateDelegation), or
 * when the node owns or witnesses the delegate (KERI_APPLY_LOCAL); the lookup reads the
 * store directly, never the key-state cache, so it takes no lock. A delegated drt that
 * supersedes the latest drt must be approved later than it (kel_supersede.c).
 *
 * At rest: kel    "<prefix>.<sn as 16 hex digits>" -> the message as received, the
 *                  accepted branch only; beside it (kel_history.c) the first-seen log
 *                  "<prefix>:f.<fn>", events a recovery rotation superseded
 *                  "<prefix>:x.<sn>.<SAID>" and duplicity evidence "<prefix>:d.<sn>.<SAID>"
 *          keystate "<prefix>" -> [dt, 40 bytes][keri_state_encode]
 * The record names its last event (sn, d): a load checks that the KEL's accepted branch
 * ends there (ks_tip), so a restored older record is refused, not served.
 *
 * A recovery rotation (a rot or drt after the last establishment event at or below the
 * current sn, keripy's Kever.rotate) is applied against the current state with p
 * checked against the accepted event at sn - 1; a delegated drt at the last
 * establishment event's sn, against the state replayed to sn - 1 (recover_state); its
 * batch moves the superseded events to their ":x." keys, writes the rotation at sn,
 * its first-seen record and the state.
 * fn counts first-seen events, superseded ones included; hc_kel_verify replays them in
 * first-seen order, so it meets the same sequence of states the appends did.
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
#include "cache/log.h"
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

/*
 * Rollback at rest: the record names its last event (sn, SAID); the KEL must hold that
 * event on its accepted branch and nothing after it, or the record is not the one the
 * KEL's last append wrote (a restored older copy would silently undo a rotation).
 */
static int ks_tip(struct hc_cache *c, const char *pre, const unsigned char *rec, size_t len)
{
	struct ks_value *v = malloc(sizeof(*v));
	if (v == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory loading a key state");
	int rc = ks_decode(pre, rec, len, v);
	if (rc == 0 && memcmp(v->st.pre, pre, KERI_QB64) != 0)
		rc = hc_error_ret(HC_ECORRUPT, "the stored key state under %.44s is %s's",
		                  pre, v->st.pre);
	if (rc == 0)
		rc = kel_tip_check(c, v->st.pre, v->st.sn, v->st.d);
	free(v);
	return rc;
}

/* 1 when the stored record of pre is no longer rec[0..len) (an append moved it). */
static int ks_moved(struct hc_cache *c, const char *pre, const unsigned char *rec,
                    size_t len)
{
	struct backing_pin now;
	if (backing_get_raw(c->backing, BACKING_KEYSTATE, pre, KERI_QB64, &now) != 0)
		return 0;
	int moved = now.len != len || memcmp(now.data, rec, len) != 0;
	backing_pin_release(&now);
	return moved;
}

/*
 * The record, checked against the KEL's tip. The two reads are not one snapshot: an
 * append whose batch (event and state together) lands between them shows an event past
 * the record. Such a mismatch is a rollback only if the record is still the stored one
 * after the KEL was read (a batch visible to the KEL read is visible to any later read);
 * if it moved, check the new record. Each retry means an append committed meanwhile.
 */
#define KS_LOAD_TRIES 64
static int ks_load(void *ctx, const void *key, size_t klen, struct cache_load *ld)
{
	struct hc_cache *c = ctx;
	(void)klen;
	struct backing_pin pin;
	int rc;
	for (int tries = 1;; tries++) {
		rc = backing_get_raw(c->backing, BACKING_KEYSTATE, key, KERI_QB64, &pin);
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
		rc = ks_tip(c, key, pin.data, pin.len);
		if (rc != HC_ECORRUPT || !ks_moved(c, key, pin.data, pin.len))
			break;
		backing_pin_release(&pin);
		if (tries == KS_LOAD_TRIES)
			return hc_error_ret(HC_EBUSY, "the key state of %.44s changed under %d loads "
			                    "in a row (appends faster than a load)", (const char *)key,
			                    tries);
	}
	if (rc != 0) {
		backing_pin_release(&pin);
		return rc;
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
	if ((rc = kel_escrow_open(c)) != 0) {
		hc_close(c->ks);
		c->ks = NULL;
	}
	return rc;
}

void kel_close(struct hc_cache *c)
{
	kel_escrow_close(c);
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

#define MERGE_MAX 64
/* A -G couple: "-GAB", the 0A-coded sn (24) and the anchoring event's SAID (44). */
#define KEL_COUPLE_MAX (4 + 24 + KERI_QB64)
struct append {
	struct hc_cache *c;
	const uint8_t *msg;
	size_t len;
	struct keri_event ev;
	int outcome;
	struct ks_value next;
	uint8_t rec[KS_DT + KERI_STATE_ENC_MAX];
	/* Receipts and escrow (kel_escrow.c): */
	int from_escrow;       /* a retry: never escrowed again here */
	int have_prior;
	uint64_t prior_sn;
	int partial;           /* keri_apply said KERI_EUNSIGNED: partially signed */
	int deleg_wait;        /* HC_EKERI_DELEGATION for want of the delegator's KEL or its
	                          anchoring event (not DND): escrowed, retried on deleg_di's
	                          next accepted event */
	char deleg_di[KERI_QB64 + 1];
	int merged;            /* signatures were gathered from escrowed copies */
	unsigned apply_flags;  /* keri_apply's flags (local, partial), for a recovery too */
	unsigned nseqs;        /* escrow entries of this event (dropped once accepted) */
	uint64_t seqs[MERGE_MAX];
	char wits[KERI_MAX_WITS][KERI_QB64 + 1];
	unsigned nw;
	/* The message with the merged signatures: body, -A group, -B group, -G couple. */
	uint8_t merged_msg[8192 + 8 + 2 * KERI_MAX_SIGS * 92 + KEL_COUPLE_MAX];
	size_t merged_len;
};

/* msg rebuilt from ev's body, its (merged) signatures and its -G seal source couple,
 * the form the event arrived in; 0 when it does not fit. */
static size_t rebuild(const struct keri_event *ev, uint8_t *out, size_t cap)
{
	if (ev->size > cap)
		return 0;
	memcpy(out, ev->body, ev->size);
	size_t n = ev->size, k;
	if (ev->nsigs) {
		if ((k = keri_sigs_encode('A', ev->sigs, ev->nsigs, (char *)out + n, cap - n)) == 0)
			return 0;
		n += k;
	}
	if (ev->nwigs) {
		if ((k = keri_sigs_encode('B', ev->wigs, ev->nwigs, (char *)out + n, cap - n)) == 0)
			return 0;
		n += k;
	}
	if (ev->has_src) {
		if ((k = keri_src_encode(ev->src_sn, ev->src_said, (char *)out + n, cap - n)) == 0)
			return 0;
		n += k;
	}
	return n;
}

static int kel_replay(struct hc_cache *c, const char *prefix, uint64_t end, unsigned flags,
                      struct keri_state st[2], struct keri_event *ev, uint64_t *n);
static int state_below(struct hc_cache *c, const char *pre, uint64_t sn,
                       struct keri_state *out);
static int append_one(struct hc_cache *c, const uint8_t *msg, size_t len, struct append *a,
                      size_t *consumed);

/* Keeps the signed conflicting message as duplicity evidence (issue 10 rule 8). A
 * failure to keep it is logged; the conflict is reported all the same. */
static void evidence(struct append *a, const char *held)
{
	int rc = kel_duplicity_keep(a->c, a->ev.pre, a->ev.sn, held, a->ev.said, a->msg,
	                            a->len);
	if (rc != 0)
		cache_log(a->c, HC_LOG_ERROR, "duplicity evidence for sn %llu of %s not kept: %s",
		          (unsigned long long)a->ev.sn, a->ev.pre,
		          rc == HC_ENOMEM ? "out of memory" : backing_last_error());
}

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
		/* Authenticity is the controller's signatures: receipts are not required. */
		int krc = keri_apply_flags(n ? &st[0] : NULL, &a->ev, KERI_APPLY_LOCAL, &st[1],
		                           why, sizeof(why));
		if (krc == KERI_OK)
			evidence(a, held);
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

/*
 * keripy's Kevery on a duplicate of an accepted event (logEvent's putSigs): controller
 * signatures the stored event lacks (by index) that verify against the keys that
 * governed it (an establishment event's own, an ixn's from the state before it; prior,
 * when not NULL, is the current state) are added. The stored message becomes its body,
 * the -A group of old and new signatures, its -B group and its -G couple (the form an
 * escrow merge stores); one put, under pre's stripe (the durable step). Returns
 * CACHE_WRITE_NOOP (the state does not change) or a failure with its sentence.
 */
static int late_sigs(struct append *a, const struct keri_state *prior)
{
	if (a->ev.nsigs == 0)
		return CACHE_WRITE_NOOP;
	struct hc_cache *c = a->c;
	char key[KEL_KEY + 1], why[256];
	size_t kl = kel_key(a->ev.pre, a->ev.sn, key), used;
	struct backing_pin pin;
	int rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
	if (rc != 0)
		return rc == HC_ENOTFOUND ? CACHE_WRITE_NOOP
		                          : hc_error_ret(rc, "%s", backing_last_error());
	struct keri_event *old = malloc(sizeof(*old));
	struct keri_state *below = malloc(sizeof(*below));
	uint8_t *out = malloc(sizeof(a->merged_msg));
	rc = old && below && out ? 0 : hc_error_ret(HC_ENOMEM, "out of memory");
	if (rc == 0 && (keri_parse(pin.data, pin.len, old, &used, why, sizeof(why)) != KERI_OK ||
	                strcmp(old->said, a->ev.said) != 0))
		rc = CACHE_WRITE_NOOP; /* another event there: not this duplicate's to change */
	/* Only a signature at an index the stored event lacks may add anything: the common
	 * duplicate (the same signatures again) costs no key lookup. */
	unsigned fresh = 0;
	for (unsigned i = 0; rc == 0 && i < a->ev.nsigs; i++) {
		int have = 0;
		for (unsigned j = 0; j < old->nsigs; j++)
			have |= old->sigs[j].index == a->ev.sigs[i].index;
		fresh += !have;
	}
	if (rc == 0 && fresh == 0)
		rc = CACHE_WRITE_NOOP;
	const char (*k)[KERI_QB64 + 1] = NULL;
	unsigned nk = 0;
	if (rc == 0 && old->ilk != KERI_ILK_IXN) {
		k = (const char (*)[KERI_QB64 + 1])old->k;
		nk = old->nk;
	} else if (rc == 0 && prior && a->ev.sn > prior->ee_sn && a->ev.sn <= prior->sn) {
		k = prior->k;
		nk = prior->nk;
	} else if (rc == 0 && (rc = state_below(c, a->ev.pre, a->ev.sn, below)) == 0) {
		k = below->k;
		nk = below->nk;
	}
	unsigned added = 0;
	for (unsigned i = 0; rc == 0 && i < a->ev.nsigs && old->nsigs < KERI_MAX_SIGS; i++) {
		const struct keri_sig *s = &a->ev.sigs[i];
		int have = 0;
		for (unsigned j = 0; j < old->nsigs; j++)
			have |= old->sigs[j].index == s->index;
		if (have || s->index >= nk || keri_verify_raw(old, s->sig, k[s->index]) != 0)
			continue;
		old->sigs[old->nsigs++] = *s;
		added++;
	}
	size_t n = 0;
	if (rc == 0 && added > 0) {
		n = rebuild(old, out, sizeof(a->merged_msg));
		if (n == 0)
			rc = hc_error_ret(HC_EKERI_LIMIT, "event %s with %u more signature(s) does "
			                  "not fit a stored message", key, added);
		else if ((rc = backing_put_raw(c->backing, BACKING_KEL, key, kl, out, n)) != 0)
			rc = hc_error_ret(rc, "%s", backing_last_error());
	}
	backing_pin_release(&pin);
	free(old);
	free(below);
	free(out);
	if (rc == 0 && added > 0) {
		hc_error_set("duplicate; %u late controller signature(s) verified and added to "
		             "the stored event", added);
		cache_log(c, HC_LOG_INFO, "%u late controller signature(s) added to %s", added, key);
	}
	return rc == 0 || rc == CACHE_WRITE_NOOP ? CACHE_WRITE_NOOP : rc;
}

/* An event a recovery superseded, seen again: accepted once, kept aside, a duplicate
 * (CACHE_WRITE_NOOP); 0 when it is not one; or a failure with its sentence. */
static int superseded_again(struct append *a)
{
	char key[KEL_SIDE_KEY + 1];
	size_t kl = kel_side_key(a->ev.pre, 'x', a->ev.sn, a->ev.said, key);
	struct backing_pin pin;
	int rc = backing_get_raw(a->c->backing, BACKING_KEL, key, kl, &pin);
	if (rc == 0) {
		backing_pin_release(&pin);
		a->outcome = HC_KEL_DUPLICATE;
		return CACHE_WRITE_NOOP;
	}
	return rc == HC_ENOTFOUND ? 0 : hc_error_ret(rc, "%s", backing_last_error());
}

/* An sn at or below the current one: the same event again, or a conflict. */
static int stale(struct append *a)
{
	char key[KEL_SIDE_KEY + 1];
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
		return late_sigs(a, NULL);
	}
	if ((rc = superseded_again(a)) != 0)
		return rc;
	return conflict(a, old.said);
}

/* ---- delegation ------------------------------------------------------------------------ */

/*
 * keripy's validateDelegation for a dip, or a drt of a delegated identifier, that
 * keri_apply accepted (signatures, thresholds, witnesses already met): the delegator
 * di must have a KEL here without the DND trait, and one of its stored events must
 * anchor ev's seal {i, s, d} in its `a` list. An attached -G couple names where to
 * look first: its sn's event on the delegator's accepted branch (keripy takes the last
 * event at that sn and does not require the couple's SAID to match it); when that event
 * does not anchor ev, or there is no couple, the delegator's KEL is walked in sn order,
 * as keripy's escrow does (fetchLastSealingEventByEventSeal); with `ever` (a
 * verification of events accepted before) every event the delegator ever accepted
 * counts, superseded ones included. *found gets the anchoring event.
 * HC_EKERI_DELEGATION names what is missing. Reads the store only (no key-state cache
 * lock is taken).
 */
static int delegation_check(struct hc_cache *c, const struct keri_event *ev, const char *di,
                            int ever, int *waiting, struct keri_anchor *found)
{
	*waiting = 0;
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
		*waiting = dst == NULL; /* no KEL of the delegator yet: it may come */
		if (krc != KERI_OK)
			rc = hc_error_ret(krc, "%s %llu of %s: %s", ilk_text(ev->ilk),
			                  (unsigned long long)ev->sn, ev->pre, why);
	}
	int found_it = 0, src_tried = 0;
	if (rc == 0 && ev->has_src) {
		size_t kl = kel_key(di, ev->src_sn, key), used;
		int g = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
		if (g == 0) {
			src_tried = 1;
			int at = keri_parse(pin.data, pin.len, scratch, &used, why, sizeof(why)) ==
			                         KERI_OK
			                 ? keri_seal_index(scratch, ev->pre, ev->sn, ev->said)
			                 : -1;
			if (at >= 0) {
				found_it = 1;
				found->sn = scratch->sn;
				memcpy(found->said, scratch->said, sizeof(found->said));
				found->ilk = (uint8_t)scratch->ilk;
				found->index = at;
			}
			backing_pin_release(&pin);
		} else if (g != HC_ENOTFOUND) {
			rc = hc_error_ret(g, "%s", backing_last_error());
		}
	}
	if (rc == 0 && !found_it) {
		rc = kel_anchor_find(c, di, ev->pre, ev->sn, ev->said, ever, found);
		found_it = rc == 1;
		if (rc == 1)
			rc = 0;
	}
	if (rc == 0 && !found_it) {
		*waiting = 1; /* the anchoring event may come */
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

/* The state after pre's accepted event at sn - 1, by a replay of its accepted branch
 * (signatures checked when each was appended): what a superseding drt at sn answers to. */
static int state_below(struct hc_cache *c, const char *pre, uint64_t sn,
                       struct keri_state *out)
{
	struct keri_state *st = calloc(2, sizeof(*st));
	struct keri_event *ev = malloc(sizeof(*ev));
	uint64_t n = 0;
	int rc = st == NULL || ev == NULL ? hc_error_ret(HC_ENOMEM, "out of memory") : 0;
	if (rc == 0)
		rc = kel_replay(c, pre, sn, KERI_APPLY_SKIP_SIGS, st, ev, &n);
	if (rc == 0 && n != sn)
		rc = hc_error_ret(HC_ECORRUPT, "the KEL of %s has %llu events below sn %llu", pre,
		                  (unsigned long long)n, (unsigned long long)sn);
	if (rc == 0)
		*out = st[0];
	free(st);
	free(ev);
	return rc;
}

/* A delegated identifier's drt at the sn of its last establishment event (a drt):
 * valid against the state at sn - 1, whose witness list also decides whether the node
 * is local to it (keri_apply_supersede). Sets a->next.st. */
static int supersede_state(struct append *a, const struct keri_state *prior, char *why,
                           size_t whylen)
{
	struct keri_state *below = malloc(sizeof(*below));
	if (below == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory");
	int rc = state_below(a->c, a->ev.pre, a->ev.sn, below);
	if (rc == 0) {
		kel_event_wits(below, &a->ev, a->wits, &a->nw);
		a->apply_flags &= ~KERI_APPLY_LOCAL;
		if (kel_is_local(a->c, a->ev.pre, (const char (*)[KERI_QB64 + 1])a->wits, a->nw))
			a->apply_flags |= KERI_APPLY_LOCAL;
		rc = keri_apply_supersede(prior, below, &a->ev, a->apply_flags, &a->next.st, why,
		                          whylen);
		if (rc == KERI_EUNSIGNED) {
			a->partial = 1;
			rc = KERI_ETHRESHOLD;
		}
		if (rc != KERI_OK)
			rc = keri_fail_rc(rc, why);
	}
	free(below);
	return rc;
}

/*
 * A recovery rotation's state (keripy Kever.rotate) into a->next.st: a rot or drt above
 * the last establishment event against the current state, p the accepted event at
 * sn - 1 (keri_apply_recover); a delegated drt at the last establishment event's sn
 * against the state at sn - 1 (supersede_state). An event this KEL superseded before,
 * seen again, is a duplicate (CACHE_WRITE_NOOP): accepted once, it does not come back.
 */
static int recover_state(struct append *a, const struct ks_value *pv)
{
	struct hc_cache *c = a->c;
	const struct keri_state *prior = &pv->st;
	char psaid[KEL_SAID + 1], why[256];
	int rc = superseded_again(a);
	if (rc != 0)
		return rc;
	if (a->ev.ilk == KERI_ILK_DRT && a->ev.sn == prior->ee_sn)
		return supersede_state(a, prior, why, sizeof(why));
	rc = kel_said_at(c, a->ev.pre, a->ev.sn - 1, psaid);
	if (rc == HC_ENOTFOUND)
		return hc_error_ret(HC_ECORRUPT, "the KEL of %s has no event at sn %llu below its "
		                    "current one", a->ev.pre, (unsigned long long)a->ev.sn - 1);
	if (rc != 0)
		return rc;
	rc = keri_apply_recover(prior, &a->ev, a->apply_flags, psaid, &a->next.st, why,
	                        sizeof(why));
	if (rc == KERI_EUNSIGNED) {
		a->partial = 1;
		rc = KERI_ETHRESHOLD;
	}
	return rc == KERI_OK ? 0 : keri_fail_rc(rc, why);
}

/*
 * The recovery's batch: the events at sn .. the current sn leave the accepted branch
 * for their ":x." keys in bt, the rotation's own batch, so the KEL and the state move
 * together.
 */
static int recover_move(struct append *a, const struct ks_value *pv, struct backing_batch *bt)
{
	struct hc_cache *c = a->c;
	const struct keri_state *prior = &pv->st;
	int rc;
	if ((rc = kel_fel_backfill(c, a->ev.pre, prior->fn, pv->dt, bt)) != 0)
		return rc;
	for (uint64_t sn = a->ev.sn; sn <= prior->sn && rc == 0; sn++) {
		char key[KEL_KEY + 1], xkey[KEL_SIDE_KEY + 1], said[KEL_SAID + 1];
		size_t kl = kel_key(a->ev.pre, sn, key);
		struct backing_pin pin;
		rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
		if (rc == HC_ENOTFOUND)
			return hc_error_ret(HC_ECORRUPT, "the KEL of %s has no event at sn %llu below "
			                    "its current one", a->ev.pre, (unsigned long long)sn);
		if (rc != 0)
			return hc_error_ret(rc, "%s", backing_last_error());
		if (kel_msg_said(pin.data, pin.len, said) != 0) {
			backing_pin_release(&pin);
			return hc_error_ret(HC_ECORRUPT, "stored event %s has no SAID", key);
		}
		size_t xl = kel_side_key(a->ev.pre, 'x', sn, said, xkey);
		rc = backing_batch_put_raw(bt, BACKING_KEL, xkey, xl, pin.data, pin.len);
		backing_pin_release(&pin);
		/* sn itself is overwritten by the rotation (commit); later ones go. */
		if (rc == 0 && sn > a->ev.sn)
			rc = backing_batch_delete(bt, BACKING_KEL, key, kl);
		if (rc != 0)
			rc = hc_error_ret(rc, "%s", backing_last_error());
	}
	if (rc == 0)
		cache_log(c, HC_LOG_INFO, "recovery rotation %s (%s) at sn %llu of %s supersedes "
		          "%llu event(s)", a->ev.said, ilk_text(a->ev.ilk),
		          (unsigned long long)a->ev.sn, a->ev.pre,
		          (unsigned long long)(prior->sn - a->ev.sn + 1));
	return rc;
}

/* The accepted event, its first-seen record and the new state, with what bt already
 * holds, in one batch; then the state is installed (cache_write). */
static int commit(struct append *a, struct backing_batch *bt, const void **val, size_t *vlen)
{
	now_dt(a->next.dt);
	size_t enc;
	memcpy(a->rec, a->next.dt, KS_DT);
	if (keri_state_encode(&a->next.st, a->rec + KS_DT, KERI_STATE_ENC_MAX, &enc) != KERI_OK)
		return hc_error_ret(HC_EKERI_LIMIT, "the new key state of %s does not encode",
		                    a->ev.pre);
	char key[KEL_KEY + 1], fkey[KEL_SIDE_KEY + 1], frec[KEL_FEL_MAX + 1];
	size_t kl = kel_key(a->ev.pre, a->ev.sn, key);
	struct kel_fel f = {.sn = a->ev.sn};
	memcpy(f.said, a->ev.said, sizeof(f.said));
	memcpy(f.dt, a->next.dt, sizeof(f.dt));
	f.dt[sizeof(f.dt) - 1] = '\0';
	size_t fkl = kel_fel_key(a->ev.pre, a->next.st.fn, fkey);
	size_t frl = kel_fel_encode(&f, frec);
	const uint8_t *msg = a->msg;
	size_t mlen = a->len;
	if (a->merged && (a->merged_len = rebuild(&a->ev, a->merged_msg,
	                                          sizeof(a->merged_msg))) > 0) {
		msg = a->merged_msg;
		mlen = a->merged_len;
	}
	int rc;
	if ((rc = backing_batch_put_raw(bt, BACKING_KEL, key, kl, msg, mlen)) == 0 &&
	    (rc = backing_batch_put_raw(bt, BACKING_KEL, fkey, fkl, frec, frl)) == 0 &&
	    (rc = backing_batch_put_raw(bt, BACKING_KEYSTATE, a->ev.pre, KERI_QB64, a->rec,
	                                KS_DT + enc)) == 0 &&
	    (rc = kel_receipts_put_wigs(bt, &a->ev, (const char (*)[KERI_QB64 + 1])a->wits,
	                                a->nw)) == 0)
		rc = backing_batch_commit(bt);
	if (rc != 0)
		return hc_error_ret(rc, "%s", backing_last_error());
	a->outcome = HC_KEL_ACCEPTED;
	*val = a->rec;
	*vlen = KS_DT + enc;
	return 0;
}

/*
 * The delegator's approval of a dip or a delegated drt whose state a->next.st holds
 * (keripy's validateDelegation): none is needed when the node owns or witnesses the
 * delegate (KERI_APPLY_LOCAL: keripy's locallyOwned, locallyMembered and
 * locallyWitnessed accept it first, so receipts and the approval can follow); else the
 * anchor (delegation_check) and, for a recovery, the superseding rules
 * (kel_supersede_check). Sets a->deleg_wait / a->deleg_di for the escrow.
 */
static int delegation(struct append *a, const struct keri_state *cur, int recovery)
{
	if ((a->ev.ilk != KERI_ILK_DIP && a->ev.ilk != KERI_ILK_DRT) || !a->next.st.di[0] ||
	    (a->apply_flags & KERI_APPLY_LOCAL))
		return 0;
	struct keri_anchor an;
	int rc = delegation_check(a->c, &a->ev, a->next.st.di, 0, &a->deleg_wait, &an);
	if (rc == 0 && recovery)
		rc = kel_supersede_check(a->c, &a->ev, cur, &an, &a->deleg_wait);
	if (rc != 0)
		memcpy(a->deleg_di, a->next.st.di, sizeof(a->deleg_di));
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
	const struct keri_state *pst = rc == 0 ? &prior.st : NULL;
	a->have_prior = pst != NULL;
	a->prior_sn = pst ? pst->sn : 0;
	/* Issue 10 rule 1: the witness list this event answers to decides whether the
	 * node is local to it; signatures from escrowed copies of it add up. */
	kel_event_wits(pst, &a->ev, a->wits, &a->nw);
	unsigned before = (unsigned)a->ev.nsigs + a->ev.nwigs;
	if ((rc = kel_escrow_gather(c, &a->ev, (const char (*)[KERI_QB64 + 1])a->wits, a->nw,
	                            a->seqs, MERGE_MAX, &a->nseqs)) != 0)
		return rc;
	a->merged = (unsigned)a->ev.nsigs + a->ev.nwigs != before;
	unsigned flags = KERI_APPLY_PARTIAL;
	if (kel_is_local(c, a->ev.pre, (const char (*)[KERI_QB64 + 1])a->wits, a->nw))
		flags |= KERI_APPLY_LOCAL;
	char why[256];
	rc = keri_apply_flags(pst, &a->ev, flags, &a->next.st, why, sizeof(why));
	if (rc == KERI_DUPLICATE) {
		a->outcome = HC_KEL_DUPLICATE;
		return late_sigs(a, pst);
	}
	if (rc == KERI_ESTALE)
		return stale(a);
	if (rc == KERI_EUNSIGNED) {
		a->partial = 1;
		rc = KERI_ETHRESHOLD;
	}
	if (rc == KERI_EDUPLICITY)
		evidence(a, a->ev.sn == prior.st.sn ? prior.st.d : prior.st.ee_d);
	if (rc != KERI_OK && rc != KERI_RECOVERY)
		return keri_fail_rc(rc, why);
	a->apply_flags = flags;
	int recovery = rc == KERI_RECOVERY;
	if (recovery && (rc = recover_state(a, &prior)) != 0)
		return rc;
	if ((rc = delegation(a, &prior.st, recovery)) != 0)
		return rc;
	struct backing_batch *bt = backing_batch_new(c->backing);
	if (bt == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory for a write batch");
	rc = recovery ? recover_move(a, &prior, bt) : 0;
	if (rc == 0)
		rc = commit(a, bt, val, vlen);
	backing_batch_free(bt);
	return rc;
}

/* The reason an event refused with rc waits in the escrow (keripy's out-of-order,
 * partially signed and partially witnessed escrows), or 0 for a plain rejection. */
static int escrow_reason(const struct append *a, int rc)
{
	if (rc == HC_EKERI_SN && a->have_prior && a->ev.sn > a->prior_sn + 1 &&
	    a->ev.ilk != KERI_ILK_ICP)
		return HC_EKERI_SN;
	if (rc == HC_EKERI_NOSTATE && !a->have_prior && a->ev.ilk != KERI_ILK_ICP &&
	    a->ev.ilk != KERI_ILK_DIP && a->ev.sn > 0)
		return HC_EKERI_SN;
	if (rc == HC_EKERI_THRESHOLD && a->partial)
		return HC_EKERI_THRESHOLD;
	if (rc == HC_EKERI_UNWITNESSED)
		return HC_EKERI_UNWITNESSED;
	if (rc == HC_EKERI_DELEGATION && a->deleg_wait)
		return HC_EKERI_DELEGATION;
	return 0;
}

/* After cache_write: escrow (or keep escrowed), drop merged copies once accepted,
 * store the receipts a duplicate brings. Returns the append's code. */
static int append_after(struct hc_cache *c, struct append *a, int rc)
{
	int reason = rc != 0 ? escrow_reason(a, rc) : 0;
	if (reason != 0) {
		a->outcome = HC_KEL_ESCROWED;
		if (a->from_escrow)
			return reason;
		char why[512];
		snprintf(why, sizeof(why), "%s", hc_last_error());
		size_t mlen = a->merged ? rebuild(&a->ev, a->merged_msg, sizeof(a->merged_msg)) : 0;
		const uint8_t *msg = mlen ? a->merged_msg : a->msg;
		int erc = kel_escrow_put(c, KEL_ESC_EVENT, a->ev.pre, a->ev.sn, a->ev.said, msg,
		                         mlen ? mlen : a->len, reason,
		                         reason == HC_EKERI_DELEGATION ? a->deleg_di : NULL);
		if (erc != 0) {
			a->outcome = HC_KEL_REJECTED;
			return hc_error_ret(erc, "%s; not escrowed: %s", why, hc_last_error());
		}
		/* Copies merged into this one are replaced by it (kel_escrow_put kept the
		 * first one's place, if it was one of them). */
		return hc_error_ret(reason, "escrowed: %s", why);
	}
	if (rc == 0 && a->outcome == HC_KEL_ACCEPTED && a->nseqs > 0) {
		kel_escrow_drop(c, a->seqs, a->nseqs);
		if (!a->from_escrow)
			kel_escrow_promoted(c, 1);
	}
	if (rc == 0 && a->outcome == HC_KEL_DUPLICATE &&
	    (a->ev.nwigs || a->ev.ncigs || a->ev.ntrcs)) {
		/* Late witness signatures and receipts with a duplicate: verified, merged. */
		int outcome;
		unsigned stored;
		if (kel_receipt_apply(c, &a->ev, a->msg, a->len, 1, &outcome, &stored) == 0)
			hc_error_set("duplicate; %s", hc_last_error());
		else
			hc_error_set("duplicate; its %s", hc_last_error());
	}
	return rc;
}

int kel_append_escrowed(struct hc_cache *c, const void *msg, size_t len, int *outcome,
                        char *trigger)
{
	struct append *a = malloc(sizeof(*a));
	if (a == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory retrying an escrowed event");
	size_t consumed;
	a->from_escrow = 1;
	a->ev.pre[0] = a->deleg_di[0] = 0;
	int rc = append_one(c, msg, len, a, &consumed);
	*outcome = rc != 0 && a->outcome != HC_KEL_ESCROWED ? HC_KEL_REJECTED : a->outcome;
	snprintf(trigger, KERI_QB64 + 1, "%.44s",
	         rc == HC_EKERI_DELEGATION && a->deleg_wait ? a->deleg_di : a->ev.pre);
	free(a);
	return rc;
}

int kel_state_at(struct hc_cache *c, const char *pre, uint64_t sn, struct keri_state *out)
{
	struct ks_value *v = malloc(sizeof(*v));
	if (v == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory");
	int rc = state_read(c, pre, v);
	if (rc == 0 && (sn == UINT64_MAX || (sn >= v->st.ee_sn && sn <= v->st.sn))) {
		*out = v->st;
		free(v);
		return 0;
	}
	free(v);
	if (rc != 0)
		return rc;
	struct keri_state *st = calloc(2, sizeof(*st));
	struct keri_event *ev = malloc(sizeof(*ev));
	uint64_t n = 0;
	rc = st == NULL || ev == NULL ? hc_error_ret(HC_ENOMEM, "out of memory") : 0;
	if (rc == 0)
		rc = kel_replay(c, pre, sn + 1, KERI_APPLY_SKIP_SIGS, st, ev, &n);
	if (rc == 0 && n != sn + 1)
		rc = HC_ENOTFOUND; /* an answer: hc_last_error() left alone (README) */
	if (rc == 0)
		*out = st[0];
	free(st);
	free(ev);
	return rc;
}

/* One message: parse, append; outcome and the message's extent for the caller. */
static int append_one(struct hc_cache *c, const uint8_t *msg, size_t len, struct append *a,
                      size_t *consumed)
{
	char why[256];
	*consumed = 0;
	a->c = c;
	a->outcome = HC_KEL_REJECTED;
	a->have_prior = a->partial = a->merged = a->deleg_wait = 0;
	a->nseqs = a->nw = 0;
	hc_error_clear();
	int rc = keri_parse(msg, len, &a->ev, consumed, why, sizeof(why));
	if (rc == KERI_RECEIPT) {
		unsigned stored;
		return kel_receipt_apply(c, &a->ev, msg, *consumed, a->from_escrow, &a->outcome,
		                         &stored);
	}
	if (rc != KERI_OK)
		return keri_fail_rc(rc, why);
	a->msg = msg;
	a->len = *consumed;
	unsigned char key[KS_KEY];
	ks_key(a->ev.pre, key);
	rc = cache_write(c->ks, key, KS_KEY, append_durable, a);
	return append_after(c, a, rc);
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

/* Whether what just happened can let escrowed messages of a->ev.pre through: an event
 * accepted, a receipt stored or escrowed (an escrowed event may wait for it). */
static int retry_after(const struct append *a, int rc)
{
	if (a->ev.pre[0] == 0)
		return 0;
	if (a->outcome == HC_KEL_ACCEPTED && rc == 0)
		return 1;
	return a->ev.ilk == KERI_ILK_RCT &&
	       (a->outcome == HC_KEL_RECEIPT || a->outcome == HC_KEL_ESCROWED);
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
	a->from_escrow = 0;
	int rc = append_one(c, msg, len, a, consumed);
	if (retry_after(a, rc)) {
		char pre[KERI_QB64 + 1];
		char why[HC_ERROR_MAX];
		memcpy(pre, a->ev.pre, sizeof(pre));
		snprintf(why, sizeof(why), "%s", hc_last_error());
		kel_escrow_retry(c, pre, NULL);
		hc_error_set("%s", why);
	}
	append_done(a);
	return rc;
}

_Static_assert(offsetof(struct hc_kel_report, escrowed) == ABI_END(struct hc_kel_report, arg),
               "escrowed follows arg, the previous layout's end");

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
		a->from_escrow = 0;
		int rc = append_one(c, p + off, len - off, a, &used);
		r->messages++;
		int outcome = rc != 0 && a->outcome != HC_KEL_ESCROWED ? HC_KEL_REJECTED
		                                                        : a->outcome;
		const char *text = hc_last_error();
		struct hc_kel_event ev = {.size = sizeof(ev), .offset = off, .len = used, .code = rc,
		                          .prefix = a->ev.pre, .sn = a->ev.sn,
		                          .ilk = ilk_text(a->ev.ilk),
		                          .why = rc != 0 || outcome == HC_KEL_RECEIPT ||
		                                         outcome == HC_KEL_DUPLICATE ? text : ""};
		ev.outcome = outcome;
		switch (ev.outcome) {
		case HC_KEL_ACCEPTED: r->accepted++; break;
		case HC_KEL_DUPLICATE: r->duplicates++; break;
		case HC_KEL_RECEIPT: r->receipts++; break;
		case HC_KEL_ESCROWED: r->escrowed++; break;
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
		if (retry_after(a, rc))
			kel_escrow_retry(c, a->ev.pre, &r->promoted);
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
	int wait;
	struct keri_anchor an;
	if (r->flags == 0 && (r->ev->ilk == KERI_ILK_DIP || r->ev->ilk == KERI_ILK_DRT) &&
	    r->st[1].di[0] &&
	    (rc = delegation_check(r->c, r->ev, r->st[1].di, 1, &wait, &an)) != 0) {
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

/* ---- replay in first-seen order, verification and repair ---------------------------- */

struct check {
	struct hc_cache *c;
	const char *pre;
	struct keri_state st[2]; /* [0] the state so far, [1] the next one */
	struct keri_event ev;
	uint64_t n;
	char dt[KS_DT];          /* the last event's first-seen time ("" before the log) */
	int differs;             /* the stored state is not the replay's */
	uint8_t rec[KS_REC_MAX]; /* the replay's record, [dt][keri_state_encode] */
	size_t rlen;
};

static int check_one(const void *msg, size_t len, uint64_t fn, const struct kel_fel *f,
                     void *arg)
{
	struct check *k = arg;
	char why[256], psaid[KEL_SAID + 1];
	size_t used;
	int rc = keri_parse(msg, len, &k->ev, &used, why, sizeof(why));
	if (rc == KERI_OK && (k->ev.sn != f->sn || strcmp(k->ev.said, f->said) != 0))
		return hc_error_ret(HC_ECORRUPT, "first-seen record %llu of %s names %s at sn %llu "
		                    "but its event is %s at sn %llu", (unsigned long long)fn, k->pre,
		                    f->said, (unsigned long long)f->sn, k->ev.said,
		                    (unsigned long long)k->ev.sn);
	/* Every signature again; bt is not re-counted: an event accepted as local (or with
	 * receipts stored apart) carries fewer witness signatures than bt. */
	if (rc == KERI_OK)
		rc = keri_apply_flags(k->n ? &k->st[0] : NULL, &k->ev, KERI_APPLY_LOCAL, &k->st[1],
		                      why, sizeof(why));
	int superseding = rc == KERI_RECOVERY && k->ev.ilk == KERI_ILK_DRT &&
	                  k->ev.sn == k->st[0].ee_sn;
	if (superseding) {
		/* A drt superseding a drt: against the state at sn - 1, which no later
		 * recovery changed (each supersedes only events from its own sn on). */
		struct keri_state *below = malloc(sizeof(*below));
		if (below == NULL)
			return hc_error_ret(HC_ENOMEM, "out of memory");
		int src = state_below(k->c, k->pre, k->ev.sn, below);
		if (src == 0)
			rc = keri_apply_supersede(&k->st[0], below, &k->ev, KERI_APPLY_LOCAL,
			                          &k->st[1], why, sizeof(why));
		free(below);
		if (src != 0)
			return src;
	} else if (rc == KERI_RECOVERY) {
		/* The accepted event at sn - 1 is the one the rotation found: later recoveries
		 * supersede only events above their own last establishment event. */
		int src = kel_said_at(k->c, k->pre, k->ev.sn - 1, psaid);
		if (src != 0)
			return src == HC_ENOTFOUND
			               ? hc_error_ret(HC_ECORRUPT, "the KEL of %s has no event at sn "
			                              "%llu", k->pre, (unsigned long long)k->ev.sn - 1)
			               : src;
		rc = keri_apply_recover(&k->st[0], &k->ev, KERI_APPLY_LOCAL, psaid, &k->st[1], why,
		                        sizeof(why));
	}
	if (rc != KERI_OK)
		return hc_error_ret(rc < 0 ? rc : HC_ECORRUPT, "stored event %s at sn %llu (first "
		                    "seen %llu) of %s fails: %s", f->said, (unsigned long long)f->sn,
		                    (unsigned long long)fn, k->pre,
		                    rc > 0 ? "it replays as a duplicate" : why);
	/* The delegator's anchor of a dip or drt, again, among every event the delegator
	 * accepted (it may have superseded the anchor since), and for a drt superseding a
	 * drt rules B and C; none for a delegate the node owns or witnesses (accepted
	 * without, as keripy does). */
	int wait;
	struct keri_anchor an;
	if ((k->ev.ilk == KERI_ILK_DIP || k->ev.ilk == KERI_ILK_DRT) && k->st[1].di[0] &&
	    !kel_is_local(k->c, k->pre, (const char (*)[KERI_QB64 + 1])k->st[1].b,
	                  k->st[1].nb) &&
	    ((rc = delegation_check(k->c, &k->ev, k->st[1].di, 1, &wait, &an)) != 0 ||
	     (superseding && (rc = kel_supersede_check(k->c, &k->ev, &k->st[0], &an, &wait)) !=
	                             0))) {
		char text[512];
		snprintf(text, sizeof(text), "%s", hc_last_error());
		return hc_error_ret(rc, "stored event %s at sn %llu of %s fails: %s", f->said,
		                    (unsigned long long)f->sn, k->pre, text);
	}
	k->st[0] = k->st[1];
	memset(k->dt, 0, sizeof(k->dt));
	memcpy(k->dt, f->dt, sizeof(k->dt) - 1);
	k->n++;
	return 0;
}

/*
 * Replays prefix's events in first-seen order with every check, and compares with the
 * stored record: 0 with k->differs set (and the sentence) when only the state is off,
 * or the replay's failure. k->rec gets the replay's record (the stored dt where the
 * replay does not know one).
 */
static int check_run(struct hc_cache *c, const char *prefix, struct check *k)
{
	k->c = c;
	k->pre = prefix;
	uint64_t seen;
	int rc = kel_each_first_seen(c, prefix, check_one, k, &seen);
	if (rc == 0 && k->n == 0)
		rc = HC_ENOTFOUND; /* an answer: hc_last_error() left alone (README) */
	if (rc != 0)
		return rc;
	struct backing_pin pin;
	struct ks_value *stored = calloc(1, sizeof(*stored));
	if (stored == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory");
	rc = backing_get_raw(c->backing, BACKING_KEYSTATE, prefix, KERI_QB64, &pin);
	int have = rc == 0;
	if (rc == 0) {
		have = ks_decode(prefix, pin.data, pin.len, stored) == 0;
		backing_pin_release(&pin);
	} else if (rc != HC_ENOTFOUND) {
		free(stored);
		return hc_error_ret(rc, "%s", backing_last_error());
	}
	if (k->dt[0] == '\0') {
		if (have)
			memcpy(k->dt, stored->dt, KS_DT);
		else
			now_dt(k->dt);
	}
	size_t xl = 0, yl = 0;
	uint8_t *y = malloc(KERI_STATE_ENC_MAX);
	memcpy(k->rec, k->dt, KS_DT);
	if (y == NULL ||
	    keri_state_encode(&k->st[0], k->rec + KS_DT, KERI_STATE_ENC_MAX, &xl) != KERI_OK) {
		free(y);
		free(stored);
		return hc_error_ret(HC_ENOMEM, "the replayed state of %s does not encode", prefix);
	}
	k->rlen = KS_DT + xl;
	if (!have)
		k->differs = hc_error_ret(HC_ECORRUPT, "%s has a KEL but no readable stored key "
		                          "state", prefix);
	else if (keri_state_encode(&stored->st, y, KERI_STATE_ENC_MAX, &yl) != KERI_OK ||
	         xl != yl || memcmp(k->rec + KS_DT, y, xl) != 0)
		k->differs = hc_error_ret(HC_ECORRUPT, "the stored key state of %s (sn %llu, fn "
		                          "%llu) differs from the replay of its %llu events (sn "
		                          "%llu, fn %llu)", prefix,
		                          (unsigned long long)stored->st.sn,
		                          (unsigned long long)stored->st.fn,
		                          (unsigned long long)k->n, (unsigned long long)k->st[0].sn,
		                          (unsigned long long)k->st[0].fn);
	else if (strcmp(stored->dt, k->dt) != 0)
		k->differs = hc_error_ret(HC_ECORRUPT, "the stored key state of %s was first seen "
		                          "at %s by its state, at %s by its first-seen log", prefix,
		                          stored->dt, k->dt);
	free(y);
	free(stored);
	return 0;
}

/* The arguments checked and a zeroed struct check for them (free it). */
static int check_new(struct hc_cache *c, const char *prefix, const char *fn,
                     struct check **out)
{
	int rc = check_prefix(c, prefix, fn);
	if (rc != 0)
		return rc;
	if ((*out = calloc(1, sizeof(**out))) == NULL)
		return hc_error_ret(HC_ENOMEM, "%s: out of memory", fn);
	(*out)->c = c;
	(*out)->pre = prefix;
	return 0;
}

int hc_kel_verify(hc_cache *c, const char *prefix, uint64_t *events)
{
	struct check *k;
	int rc = check_new(c, prefix, "hc_kel_verify", &k);
	if (rc != 0)
		return rc;
	rc = check_run(c, prefix, k);
	if (rc == 0 && k->differs)
		rc = k->differs; /* its sentence is the last one set */
	if (rc == 0 && events != NULL)
		*events = k->n;
	free(k);
	return rc;
}

struct repair {
	struct check *k;
	int rewritten;
};

/* cache_write's durable step: under the stripe, so no append moves the KEL meanwhile. */
static int repair_durable(void *ctx, const void **val, size_t *vlen)
{
	struct repair *r = ctx;
	struct check *k = r->k;
	int rc = check_run(k->c, k->pre, k);
	if (rc != 0)
		return rc;
	if (!k->differs)
		return CACHE_WRITE_NOOP;
	rc = backing_put_raw(k->c->backing, BACKING_KEYSTATE, k->pre, KERI_QB64, k->rec,
	                     k->rlen);
	if (rc != 0)
		return hc_error_ret(rc, "%s", backing_last_error());
	cache_log(k->c, HC_LOG_WARN, "key state of %s rewritten from the replay of its %llu "
	          "events (sn %llu)", k->pre, (unsigned long long)k->n,
	          (unsigned long long)k->st[0].sn);
	r->rewritten = 1;
	*val = k->rec;
	*vlen = k->rlen;
	return 0;
}

int hc_kel_repair(hc_cache *c, const char *prefix, uint64_t *events, int *rewritten)
{
	if (rewritten != NULL)
		*rewritten = 0;
	struct check *k;
	int rc = check_new(c, prefix, "hc_kel_repair", &k);
	if (rc != 0)
		return rc;
	struct repair r = {k, 0};
	unsigned char key[KS_KEY];
	ks_key(prefix, key);
	rc = cache_write(c->ks, key, KS_KEY, repair_durable, &r);
	if (rc == 0 && events != NULL)
		*events = k->n;
	if (rc == 0 && rewritten != NULL)
		*rewritten = r.rewritten;
	free(k);
	return rc;
}
