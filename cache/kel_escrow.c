/*
 * KERI receipts and escrows (issue 10): what keripy's Kevery keeps beside the KEL.
 *
 * Local prefixes. The node's own identifiers (keri.own) and witness identifiers
 * (keri.witness), or hc_kel_set_local: keripy's .prefixes. An event of one of them,
 * or witnessed by one of them, is exempt from the bt rule (locallyOwned,
 * locallyMembered, locallyWitnessed); a receipt signed by one of them arriving in a
 * stream is skipped, as keripy skips a remote copy of its own receipt.
 *
 * Receipts. An rct (-B witness indexed signatures, -C couples, -D/-F transferable
 * receipts), or the same groups attached to a duplicate of an accepted event, are
 * verified against the accepted event at (prefix, sn) with that SAID: a -B signature
 * against the witness at its index in the event's witness list, a -C couple against
 * its own key (a witness's couple becomes a witness signature at its index, as keripy
 * does), a transferable one against the receiptor's keys at its establishment event
 * (its KEL must be in the store). The ones that verify are stored under
 * "<prefix>:r.<sn>.<said>.<kind>.<receiptor>..." (idempotent puts); the others are
 * dropped with a reason. A receipt of an event not accepted (yet) is escrowed.
 *
 * Escrow. Out-of-order events (sn ahead, or no inception yet), partially signed (some
 * controller signatures verify, kt unmet), partially witnessed (fewer than bt verified
 * witness signatures), receipts of unseen events, and whatever kel_escrow_put is given
 * (delegation). Entries live in RocksDB (kel family, layout in kel.h), so a restart
 * keeps them and memory holds only counters: a flood of entries costs store bytes up
 * to keri.escrow_limit, never key states or cache memory. The oldest entries go first,
 * when the limit needs room (escrow_evicted) or once keri.escrow_timeout has passed
 * (expired). Retries: after an event of prefix P is accepted or a receipt of P arrives,
 * P's own entries are re-appended in (sn, seq) order, from the lowest sn up to the
 * first past P's next sn (re-read after each promotion), so a KEL escrowed in reverse
 * is promoted in one pass, each entry read once (keripy's out-of-order escrow is keyed
 * by (prefix, sn) too; seq keeps first-seen order within an sn); then the entries
 * waiting on P (delegated events on their delegator's anchor), in seq order; again
 * while a pass promotes. Each promoted event's prefix is visited in turn (a cascade).
 * Neither is capped: keys are listed RETRY_BATCH per seek and the walk goes on from
 * the last, and the cascade's prefix list grows as needed (out of memory, a prefix
 * left out waits for its next event or receipt, logged). An entry retried that now
 * waits for another reason or on another prefix is re-indexed in place (requeue).
 * Cost: an escrowing append reads only the entries at its own (prefix, sn). A new copy of an escrowed event merges its signatures with the
 * entry's (kel_escrow_gather), so signatures arriving in separate messages add up.
 *
 * Locks: esc->mu (a leaf: no other lock is taken under it; RocksDB writes are) guards
 * the sequence number and the byte/entry levels, and serialises entry writes and
 * deletions so the levels match the store. esc->local_mu guards the prefix lists.
 * Counters are relaxed atomics (statistics, no ordering); so are two hints read
 * without a lock on every append, n_entries (an empty escrow: no retry, no gather)
 * and any_local (no local prefixes: no lock): a stale hint only means an append
 * races the change that flipped it, which either order of the two allows.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backing/backing.h"
#include "cache/cache.h"
#include "cache/error.h"
#include "cache/kel.h"
#include "cache/log.h"
#include "keri/keri.h"

typedef char qb64_t[KERI_QB64 + 1];

struct kel_escrow {
	_Atomic int any_local;  /* n_own + n_wit > 0: lets appends skip local_mu */
	pthread_rwlock_t local_mu;
	unsigned n_own, n_wit;
	qb64_t own[HC_KERI_LOCAL_MAX], wit[HC_KERI_LOCAL_MAX];
	pthread_mutex_t mu;
	uint64_t seq;       /* next entry's sequence number (esc->mu) */
	uint64_t bytes;     /* escrowed bytes now (esc->mu) */
	uint64_t entries;
	/* Mirrors of bytes and entries, stored (relaxed) under esc->mu whenever those
	 * change, for the lock-free hint and the stats: the stats never wait for the
	 * mutex, which is held across RocksDB batches and sweeps. */
	_Atomic uint64_t n_bytes, n_entries;
	_Atomic uint64_t escrowed, promoted, expired, evicted;
	uint64_t limit, timeout;
};

#define ESC_PREFIX "~esc."
#define ESC_KEY (sizeof(ESC_PREFIX) - 1 + 16)
/* Entry header: 'E', kind, reason (i32), time (u64), pre, trigger, sn (u64), said. */
#define H_KIND 1
#define H_REASON 2
#define H_TIME 6
#define H_PRE 14
#define H_TRIG (H_PRE + KERI_QB64)
#define H_SN (H_TRIG + KERI_QB64)
#define H_SAID (H_SN + 8)
#define ESC_HDR (H_SAID + KERI_QB64)
#define IDX_KEY (KERI_QB64 + 3 + 16 + 1 + 16) /* "<pre>:e.<sn>.<seq>" */
#define TRG_KEY (KERI_QB64 + 3 + 16)          /* "<trigger>:d.<seq>" */
/* The index layout's version mark: absent in a store whose escrow still has the first
 * layout's "<pre>:e.<seq>" keys (kel_escrow_open re-indexes it). */
#define ESC_LAYOUT "~esc!layout"
#define ESC_LAYOUT_V "2"

struct esc_entry {
	int kind, reason;
	uint64_t t, sn, seq;
	qb64_t pre, trig, said;
	const uint8_t *msg;
	size_t len;
};

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static size_t esc_key(uint64_t seq, char *k)
{
	return (size_t)snprintf(k, ESC_KEY + 1, ESC_PREFIX "%016" PRIx64, seq);
}

static size_t idx_key(const char *pre, uint64_t sn, uint64_t seq, char *k)
{
	return (size_t)snprintf(k, IDX_KEY + 1, "%.44s:e.%016" PRIx64 ".%016" PRIx64, pre, sn,
	                        seq);
}

static size_t trg_key(const char *trig, uint64_t seq, char *k)
{
	return (size_t)snprintf(k, TRG_KEY + 1, "%.44s:d.%016" PRIx64, trig, seq);
}

/* The seq a key names: an entry's or an index key of either kind (each ends with the
 * seq's 16 hex digits). */
static uint64_t key_seq(const void *key, size_t klen)
{
	char hex[17];
	memcpy(hex, (const char *)key + klen - 16, 16);
	hex[16] = 0;
	return strtoull(hex, NULL, 16);
}

static int entry_decode(const void *val, size_t vlen, uint64_t seq, struct esc_entry *e)
{
	const uint8_t *v = val;
	if (vlen < ESC_HDR || v[0] != 'E')
		return -1;
	e->kind = v[H_KIND];
	uint32_t r = (uint32_t)v[H_REASON] | (uint32_t)v[H_REASON + 1] << 8 |
	             (uint32_t)v[H_REASON + 2] << 16 | (uint32_t)v[H_REASON + 3] << 24;
	e->reason = (int)(int32_t)r;
	e->t = get64(v + H_TIME);
	e->sn = get64(v + H_SN);
	memcpy(e->pre, v + H_PRE, KERI_QB64);
	e->pre[KERI_QB64] = 0;
	memcpy(e->trig, v + H_TRIG, KERI_QB64);
	e->trig[KERI_QB64] = 0;
	memcpy(e->said, v + H_SAID, KERI_QB64);
	e->said[KERI_QB64] = 0;
	e->msg = v + ESC_HDR;
	e->len = vlen - ESC_HDR;
	e->seq = seq;
	return 0;
}

/* What an entry costs against keri.escrow_limit: its value and its keys. */
static uint64_t entry_cost(size_t vlen, int two_index)
{
	return vlen + ESC_KEY + IDX_KEY + (two_index ? TRG_KEY : 0u);
}

static uint64_t now_s(void)
{
	return (uint64_t)time(NULL);
}

/* ---- local prefixes ------------------------------------------------------------------ */

static int parse_list(const char *text, qb64_t *out, unsigned *n)
{
	*n = 0;
	for (const char *p = text; *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		if (!*p)
			break;
		if (strlen(p) < KERI_QB64 || (p[KERI_QB64] && p[KERI_QB64] != ',') ||
		    *n >= HC_KERI_LOCAL_MAX)
			return -1;
		memcpy(out[*n], p, KERI_QB64);
		out[(*n)++][KERI_QB64] = 0;
		p += KERI_QB64;
	}
	return 0;
}

static int in_list(const qb64_t *l, unsigned n, const char *p)
{
	for (unsigned i = 0; i < n; i++)
		if (memcmp(l[i], p, KERI_QB64) == 0)
			return 1;
	return 0;
}

static int is_local_prefix(struct kel_escrow *e, const char *p)
{
	return in_list(e->own, e->n_own, p) || in_list(e->wit, e->n_wit, p);
}

int kel_is_local(struct hc_cache *c, const char *pre, const char (*wits)[KERI_QB64 + 1],
                 unsigned nw)
{
	struct kel_escrow *e = c->esc;
	/* Relaxed: an append racing hc_kel_set_local may see the old lists or the new. */
	if (e == NULL || !atomic_load_explicit(&e->any_local, memory_order_relaxed))
		return 0;
	pthread_rwlock_rdlock(&e->local_mu);
	int local = is_local_prefix(e, pre);
	for (unsigned i = 0; i < nw && !local; i++)
		local = is_local_prefix(e, wits[i]);
	pthread_rwlock_unlock(&e->local_mu);
	return local;
}

static int receiptor_is_local(struct hc_cache *c, const char *p)
{
	return kel_is_local(c, p, NULL, 0);
}

static int check_qb64(const char *p)
{
	if (p == NULL || strlen(p) != KERI_QB64)
		return -1;
	for (const char *q = p; *q; q++)
		if (keri_b64_val((unsigned char)*q) < 0)
			return -1;
	return 0;
}

int hc_kel_set_local(hc_cache *c, const char *const *own, size_t n_own,
                     const char *const *wit, size_t n_wit)
{
	if (c == NULL || (own == NULL && n_own) || (wit == NULL && n_wit))
		return hc_error_ret(HC_EINVAL, "hc_kel_set_local: NULL argument");
	if (c->esc == NULL)
		return hc_error_ret(HC_ENOTSUP, "hc_kel_set_local: KERI needs backing.mode = "
		                    "rocksdb");
	if (n_own > HC_KERI_LOCAL_MAX || n_wit > HC_KERI_LOCAL_MAX)
		return hc_error_ret(HC_EINVAL, "hc_kel_set_local: at most %u prefixes per list",
		                    HC_KERI_LOCAL_MAX);
	for (size_t i = 0; i < n_own + n_wit; i++) {
		const char *p = i < n_own ? own[i] : wit[i - n_own];
		if (check_qb64(p) != 0)
			return hc_error_ret(HC_EINVAL, "hc_kel_set_local: %s prefix %zu is not 44 "
			                    "base64url characters", i < n_own ? "own" : "witness",
			                    i < n_own ? i : i - n_own);
	}
	struct kel_escrow *e = c->esc;
	pthread_rwlock_wrlock(&e->local_mu);
	for (size_t i = 0; i < n_own; i++)
		memcpy(e->own[i], own[i], KERI_QB64 + 1);
	for (size_t i = 0; i < n_wit; i++)
		memcpy(e->wit[i], wit[i], KERI_QB64 + 1);
	e->n_own = (unsigned)n_own;
	e->n_wit = (unsigned)n_wit;
	atomic_store_explicit(&e->any_local, n_own + n_wit > 0, memory_order_relaxed);
	pthread_rwlock_unlock(&e->local_mu);
	return 0;
}

void kel_event_wits(const struct keri_state *prior, const struct keri_event *ev,
                    char (*wits)[KERI_QB64 + 1], unsigned *nw)
{
	unsigned n = 0;
	*nw = 0;
	if (ev->ilk == KERI_ILK_ICP || ev->ilk == KERI_ILK_DIP) {
		memcpy(wits, ev->b, sizeof(qb64_t) * ev->nb);
		*nw = ev->nb;
		return;
	}
	if (prior == NULL)
		return;
	if (ev->ilk != KERI_ILK_ROT && ev->ilk != KERI_ILK_DRT) {
		memcpy(wits, prior->b, sizeof(qb64_t) * prior->nb);
		*nw = prior->nb;
		return;
	}
	for (unsigned i = 0; i < prior->nb; i++) {
		int cut = 0;
		for (unsigned j = 0; j < ev->nbr; j++)
			cut |= strcmp(prior->b[i], ev->br[j]) == 0;
		if (!cut)
			memcpy(wits[n++], prior->b[i], sizeof(qb64_t));
	}
	for (unsigned j = 0; j < ev->nba && n < KERI_MAX_WITS; j++)
		memcpy(wits[n++], ev->ba[j], sizeof(qb64_t));
	*nw = n;
}

/* ---- open, close, stats ----------------------------------------------------------------- */

struct scan {
	uint64_t bytes, entries, next;
};

static int scan_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct scan *s = arg;
	struct esc_entry e;
	char hex[17];
	if (klen != ESC_KEY)
		return 0;
	memcpy(hex, (const char *)key + ESC_KEY - 16, 16);
	hex[16] = 0;
	uint64_t seq = strtoull(hex, NULL, 16);
	if (entry_decode(val, vlen, seq, &e) != 0)
		return 0;
	s->bytes += entry_cost(vlen, strcmp(e.pre, e.trig) != 0);
	s->entries++;
	if (seq + 1 > s->next)
		s->next = seq + 1;
	return 0;
}

/* The first layout indexed an entry as "<pre>:e.<seq>" (and "<trigger>:e.<seq>"),
 * which a retry no longer reads: each entry is indexed again (the new keys put, the old
 * deleted, one batch), then the layout is marked. */
struct reindex {
	struct backing_batch *bt;
	int rc;
};

static int reindex_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct reindex *r = arg;
	struct esc_entry e;
	char ik[IDX_KEY + 1], tk[TRG_KEY + 1], old[TRG_KEY + 1];
	if (klen != ESC_KEY)
		return 0;
	uint64_t seq = key_seq(key, klen);
	if (entry_decode(val, vlen, seq, &e) != 0)
		return 0;
	int two = strcmp(e.pre, e.trig) != 0;
	r->rc = backing_batch_put_raw(r->bt, BACKING_KEL, ik, idx_key(e.pre, e.sn, seq, ik), "",
	                              0);
	if (r->rc == 0 && two)
		r->rc = backing_batch_put_raw(r->bt, BACKING_KEL, tk, trg_key(e.trig, seq, tk), "",
		                              0);
	for (int i = 0; i <= two && r->rc == 0; i++) {
		size_t ol = (size_t)snprintf(old, sizeof(old), "%.44s:e.%016" PRIx64,
		                             i ? e.trig : e.pre, seq);
		r->rc = backing_batch_delete(r->bt, BACKING_KEL, old, ol);
	}
	return r->rc != 0;
}

static int reindex(struct hc_cache *c)
{
	struct backing_pin pin;
	int rc = backing_get_raw(c->backing, BACKING_KEL, ESC_LAYOUT, sizeof(ESC_LAYOUT) - 1,
	                         &pin);
	if (rc == 0) {
		backing_pin_release(&pin);
		return 0;
	}
	if (rc != HC_ENOTFOUND)
		return rc;
	struct reindex r = {backing_batch_new(c->backing), 0};
	if (r.bt == NULL)
		return HC_ENOMEM;
	rc = backing_each_prefixed(c->backing, BACKING_KEL, ESC_PREFIX, sizeof(ESC_PREFIX) - 1,
	                           reindex_one, &r);
	rc = rc < 0 ? rc : r.rc;
	if (rc == 0)
		rc = backing_batch_put_raw(r.bt, BACKING_KEL, ESC_LAYOUT, sizeof(ESC_LAYOUT) - 1,
		                           ESC_LAYOUT_V, 1);
	if (rc == 0)
		rc = backing_batch_commit(r.bt);
	backing_batch_free(r.bt);
	return rc;
}

int kel_escrow_open(struct hc_cache *c)
{
	struct kel_escrow *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory for the KERI escrow");
	if (parse_list(c->cfg.keri_own, e->own, &e->n_own) != 0 ||
	    parse_list(c->cfg.keri_witness, e->wit, &e->n_wit) != 0) {
		free(e);
		return hc_error_ret(HC_ECONFIG, "keri.own / keri.witness: not a list of 44-"
		                    "character prefixes");
	}
	e->limit = c->cfg.keri_escrow_limit;
	e->timeout = c->cfg.keri_escrow_timeout;
	if (e->limit == 0) /* a caller's struct from before the keri keys */
		e->limit = UINT64_C(16) << 20;
	if (e->timeout == 0)
		e->timeout = 3600;
	pthread_rwlock_init(&e->local_mu, NULL);
	pthread_mutex_init(&e->mu, NULL);
	atomic_store_explicit(&e->any_local, e->n_own + e->n_wit > 0, memory_order_relaxed);
	struct scan s = {0, 0, 1};
	int rc = backing_each_prefixed(c->backing, BACKING_KEL, ESC_PREFIX,
	                               sizeof(ESC_PREFIX) - 1, scan_one, &s);
	if (rc != 0) {
		pthread_rwlock_destroy(&e->local_mu);
		pthread_mutex_destroy(&e->mu);
		free(e);
		return hc_error_ret(rc, "%s", backing_last_error());
	}
	if (reindex(c) != 0) /* then they wait for their timeout, never retried */
		cache_log(c, HC_LOG_WARN, "escrow: entries of the first index layout not "
		          "re-indexed: %s", backing_last_error());
	e->bytes = s.bytes;
	e->entries = s.entries;
	e->seq = s.next;
	atomic_store_explicit(&e->n_bytes, s.bytes, memory_order_relaxed);
	atomic_store_explicit(&e->n_entries, s.entries, memory_order_relaxed);
	c->esc = e;
	return 0;
}

void kel_escrow_close(struct hc_cache *c)
{
	struct kel_escrow *e = c->esc;
	if (e == NULL)
		return;
	pthread_rwlock_destroy(&e->local_mu);
	pthread_mutex_destroy(&e->mu);
	free(e);
	c->esc = NULL;
}

void kel_escrow_stats(struct hc_cache *c, struct hc_stats *st)
{
	struct kel_escrow *e = c->esc;
	if (e == NULL)
		return;
	st->escrowed = atomic_load_explicit(&e->escrowed, memory_order_relaxed);
	st->promoted = atomic_load_explicit(&e->promoted, memory_order_relaxed);
	st->expired = atomic_load_explicit(&e->expired, memory_order_relaxed);
	st->escrow_evicted = atomic_load_explicit(&e->evicted, memory_order_relaxed);
	st->escrow_bytes = atomic_load_explicit(&e->n_bytes, memory_order_relaxed);
	st->escrow_entries = atomic_load_explicit(&e->n_entries, memory_order_relaxed);
}

pthread_mutex_t *kel_escrow_mutex(struct hc_cache *c)
{
	return c->esc != NULL ? &c->esc->mu : NULL;
}

int kel_escrow_nonempty(struct hc_cache *c)
{
	return c->esc != NULL && atomic_load_explicit(&c->esc->n_entries, memory_order_relaxed);
}

void kel_escrow_promoted(struct hc_cache *c, uint64_t n)
{
	if (c->esc != NULL)
		atomic_fetch_add_explicit(&c->esc->promoted, n, memory_order_relaxed);
}

/* ---- entries ----------------------------------------------------------------------------- */

/* Deletes entry seq (value val, vlen) in one batch with its index keys. esc->mu held. */
static int del_locked(struct hc_cache *c, uint64_t seq, const void *val, size_t vlen)
{
	struct kel_escrow *e = c->esc;
	struct esc_entry en;
	char k[ESC_KEY + 1], ik[IDX_KEY + 1], tk[TRG_KEY + 1];
	if (entry_decode(val, vlen, seq, &en) != 0)
		memset(&en, 0, sizeof(en));
	struct backing_batch *bt = backing_batch_new(c->backing);
	if (bt == NULL)
		return HC_ENOMEM;
	int two = en.pre[0] && strcmp(en.pre, en.trig) != 0;
	int rc = backing_batch_delete(bt, BACKING_KEL, k, esc_key(seq, k));
	if (rc == 0 && en.pre[0])
		rc = backing_batch_delete(bt, BACKING_KEL, ik, idx_key(en.pre, en.sn, seq, ik));
	if (rc == 0 && two)
		rc = backing_batch_delete(bt, BACKING_KEL, tk, trg_key(en.trig, seq, tk));
	if (rc == 0)
		rc = backing_batch_commit(bt);
	backing_batch_free(bt);
	if (rc != 0)
		return rc;
	uint64_t cost = entry_cost(vlen, two);
	e->bytes = e->bytes > cost ? e->bytes - cost : 0;
	e->entries = e->entries ? e->entries - 1 : 0;
	atomic_store_explicit(&e->n_bytes, e->bytes, memory_order_relaxed);
	atomic_store_explicit(&e->n_entries, e->entries, memory_order_relaxed);
	return 0;
}

/* Deletes entry seq if it is still there. esc->mu held. */
static int del_seq_locked(struct hc_cache *c, uint64_t seq)
{
	char k[ESC_KEY + 1];
	struct backing_pin pin;
	int rc = backing_get_raw(c->backing, BACKING_KEL, k, esc_key(seq, k), &pin);
	if (rc == HC_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	rc = del_locked(c, seq, pin.data, pin.len);
	backing_pin_release(&pin);
	return rc;
}

struct front {
	struct hc_cache *c;
	uint64_t need;   /* bytes to make room for */
	uint64_t before; /* drop entries first seen before this time */
	int rc;
};

/* Drops from the front (oldest first) what is expired or needed for room. */
static int front_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct front *f = arg;
	struct kel_escrow *e = f->c->esc;
	struct esc_entry en;
	char hex[17];
	if (klen != ESC_KEY)
		return 0;
	memcpy(hex, (const char *)key + ESC_KEY - 16, 16);
	hex[16] = 0;
	uint64_t seq = strtoull(hex, NULL, 16);
	int old = entry_decode(val, vlen, seq, &en) != 0 || en.t < f->before;
	int room = e->bytes + f->need > e->limit;
	if (!old && !room)
		return 1;
	if ((f->rc = del_locked(f->c, seq, val, vlen)) != 0)
		return 1;
	atomic_fetch_add_explicit(old ? &e->expired : &e->evicted, 1, memory_order_relaxed);
	return 0;
}

static int sweep_locked(struct hc_cache *c, uint64_t need)
{
	struct kel_escrow *e = c->esc;
	uint64_t now = now_s();
	struct front f = {c, need, now > e->timeout ? now - e->timeout : 0, 0};
	if (e->entries == 0)
		return 0;
	int rc = backing_each_prefixed(c->backing, BACKING_KEL, ESC_PREFIX,
	                               sizeof(ESC_PREFIX) - 1, front_one, &f);
	if (rc < 0)
		return hc_error_ret(rc, "%s", backing_last_error());
	return f.rc;
}

/* Writes entry seq (a new one, or one replaced in place), first seen at time t.
 * esc->mu held. */
static int write_locked(struct hc_cache *c, uint64_t seq, int kind, const char *pre,
                        uint64_t sn, const char *said, const void *msg, size_t len,
                        int reason, const char *trig, uint64_t t)
{
	struct kel_escrow *e = c->esc;
	size_t vlen = ESC_HDR + len;
	uint8_t *v = malloc(vlen);
	if (v == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory for an escrow entry");
	memset(v, 0, ESC_HDR);
	v[0] = 'E';
	v[H_KIND] = (uint8_t)kind;
	uint32_t r = (uint32_t)reason;
	for (int i = 0; i < 4; i++)
		v[H_REASON + i] = (uint8_t)(r >> (8 * i));
	put64(v + H_TIME, t);
	memcpy(v + H_PRE, pre, KERI_QB64);
	memcpy(v + H_TRIG, trig, KERI_QB64);
	put64(v + H_SN, sn);
	if (said != NULL && said[0])
		memcpy(v + H_SAID, said, KERI_QB64);
	memcpy(v + ESC_HDR, msg, len);
	char k[ESC_KEY + 1], ik[IDX_KEY + 1], tk[TRG_KEY + 1];
	int two = strcmp(pre, trig) != 0;
	struct backing_batch *bt = backing_batch_new(c->backing);
	int rc = bt == NULL ? HC_ENOMEM : 0;
	if (rc == 0)
		rc = backing_batch_put_raw(bt, BACKING_KEL, k, esc_key(seq, k), v, vlen);
	if (rc == 0)
		rc = backing_batch_put_raw(bt, BACKING_KEL, ik, idx_key(pre, sn, seq, ik), "", 0);
	if (rc == 0 && two)
		rc = backing_batch_put_raw(bt, BACKING_KEL, tk, trg_key(trig, seq, tk), "", 0);
	if (rc == 0)
		rc = backing_batch_commit(bt);
	backing_batch_free(bt);
	free(v);
	if (rc != 0)
		return hc_error_ret(rc, "escrow: %s", backing_last_error());
	e->bytes += entry_cost(vlen, two);
	e->entries++;
	atomic_store_explicit(&e->n_bytes, e->bytes, memory_order_relaxed);
	atomic_store_explicit(&e->n_entries, e->entries, memory_order_relaxed);
	return 0;
}

/* Finds an entry of the same message (kind, pre, sn, said) to replace. */
struct same {
	struct hc_cache *c;
	int kind;
	const char *pre, *said;
	uint64_t sn, seq;
	int found;
};

/* The escrow entry an index key ("<prefix>:e.<sn>.<seq>", IDX_KEY bytes) names:
 * *seq and the entry pinned; non-zero when it is gone. */
static int idx_pin(struct hc_cache *c, const void *key, uint64_t *seq,
                   struct backing_pin *pin)
{
	char k[ESC_KEY + 1];
	*seq = key_seq(key, IDX_KEY);
	return backing_get_raw(c->backing, BACKING_KEL, k, esc_key(*seq, k), pin);
}

static int same_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct same *s = arg;
	(void)val, (void)vlen;
	uint64_t seq;
	struct backing_pin pin;
	if (klen != IDX_KEY || idx_pin(s->c, key, &seq, &pin) != 0)
		return 0;
	struct esc_entry en;
	int hit = entry_decode(pin.data, pin.len, seq, &en) == 0 && en.kind == s->kind &&
	          en.kind == KEL_ESC_EVENT && en.sn == s->sn && strcmp(en.pre, s->pre) == 0 &&
	          strcmp(en.said, s->said) == 0;
	backing_pin_release(&pin);
	if (!hit)
		return 0;
	s->seq = seq;
	s->found = 1;
	return 1;
}

int kel_escrow_put(struct hc_cache *c, int kind, const char *pre, uint64_t sn,
                   const char *said, const void *msg, size_t len, int reason,
                   const char *trigger)
{
	struct kel_escrow *e = c->esc;
	if (e == NULL)
		return hc_error_ret(HC_ENOTSUP, "the KERI escrow needs backing.mode = rocksdb");
	if (trigger == NULL || !trigger[0])
		trigger = pre;
	uint64_t cost = entry_cost(ESC_HDR + len, strcmp(pre, trigger) != 0);
	if (cost > e->limit)
		return hc_error_ret(HC_EKERI_LIMIT, "escrow: a %zu-byte message exceeds "
		                    "keri.escrow_limit (%llu bytes)", len,
		                    (unsigned long long)e->limit);
	char ip[IDX_KEY + 1];
	size_t il = idx_key(pre, sn, 0, ip) - 16; /* "<pre>:e.<sn>.": the copies at sn */
	struct same s = {c, kind, pre, said ? said : "", sn, 0, 0};
	pthread_mutex_lock(&e->mu);
	int rc = 0;
	if (kind == KEL_ESC_EVENT && said != NULL)
		rc = backing_each_prefixed(c->backing, BACKING_KEL, ip, il, same_one, &s);
	if (rc < 0)
		rc = hc_error_ret(rc, "%s", backing_last_error());
	else
		rc = 0;
	uint64_t seq = s.found ? s.seq : e->seq++;
	if (rc == 0 && s.found)
		rc = del_seq_locked(c, seq);
	if (rc == 0)
		rc = sweep_locked(c, cost);
	if (rc == 0)
		rc = write_locked(c, seq, kind, pre, sn, said, msg, len, reason, trigger, now_s());
	pthread_mutex_unlock(&e->mu);
	if (rc == 0 && !s.found)
		atomic_fetch_add_explicit(&e->escrowed, 1, memory_order_relaxed);
	return rc;
}

void kel_escrow_drop(struct hc_cache *c, const uint64_t *seqs, unsigned n)
{
	struct kel_escrow *e = c->esc;
	if (e == NULL || n == 0)
		return;
	pthread_mutex_lock(&e->mu);
	for (unsigned i = 0; i < n; i++)
		if (del_seq_locked(c, seqs[i]) != 0)
			cache_log(c, HC_LOG_WARN, "escrow: entry %llu not dropped: %s",
			          (unsigned long long)seqs[i], backing_last_error());
	pthread_mutex_unlock(&e->mu);
}

/* ---- gathering signatures from escrowed copies ---------------------------------------- */

static void add_sig(struct keri_sig *arr, uint8_t *n, const struct keri_sig *s)
{
	for (unsigned i = 0; i < *n; i++)
		if (arr[i].index == s->index && memcmp(arr[i].sig, s->sig, 64) == 0)
			return;
	if (*n < KERI_MAX_SIGS)
		arr[(*n)++] = *s;
}

struct gather {
	struct hc_cache *c;
	struct keri_event *ev, *scratch;
	const qb64_t *wits;
	unsigned nw, max, *n;
	uint64_t *seqs;
};

static int gather_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct gather *g = arg;
	(void)val, (void)vlen;
	char why[256];
	uint64_t seq;
	struct backing_pin pin;
	if (klen != IDX_KEY || *g->n >= g->max || idx_pin(g->c, key, &seq, &pin) != 0)
		return 0;
	struct esc_entry en;
	struct keri_event *x = g->scratch, *ev = g->ev;
	size_t used;
	if (entry_decode(pin.data, pin.len, seq, &en) == 0 && en.sn == ev->sn &&
	    strcmp(en.pre, ev->pre) == 0 && strcmp(en.said, ev->said) == 0) {
		int prc = keri_parse(en.msg, en.len, x, &used, why, sizeof(why));
		if (prc == KERI_OK || prc == KERI_RECEIPT) {
			if (prc == KERI_OK)
				for (unsigned i = 0; i < x->nsigs; i++)
					add_sig(ev->sigs, &ev->nsigs, &x->sigs[i]);
			for (unsigned i = 0; i < x->nwigs; i++)
				add_sig(ev->wigs, &ev->nwigs, &x->wigs[i]);
			for (unsigned i = 0; i < x->ncigs; i++)
				for (unsigned w = 0; w < g->nw; w++)
					if (strcmp(x->cigs[i].pre, g->wits[w]) == 0) {
						struct keri_sig s = {(uint16_t)w, (uint16_t)w, 1, {0}};
						memcpy(s.sig, x->cigs[i].sig, 64);
						add_sig(ev->wigs, &ev->nwigs, &s);
					}
			if (ev->nwigs)
				ev->has_wigs = 1;
			if (prc == KERI_OK)
				g->seqs[(*g->n)++] = seq;
		}
	}
	backing_pin_release(&pin);
	return 0;
}

int kel_escrow_gather(struct hc_cache *c, struct keri_event *ev,
                      const char (*wits)[KERI_QB64 + 1], unsigned nw, uint64_t *seqs,
                      unsigned max, unsigned *n)
{
	*n = 0;
	if (!kel_escrow_nonempty(c))
		return 0;
	struct keri_event *x = malloc(sizeof(*x));
	if (x == NULL)
		return hc_error_ret(HC_ENOMEM, "out of memory gathering escrowed signatures");
	char ip[IDX_KEY + 1];
	size_t il = idx_key(ev->pre, ev->sn, 0, ip) - 16; /* the copies at ev's sn */
	struct gather g = {c, ev, x, wits, nw, max, n, seqs};
	int rc = backing_each_prefixed(c->backing, BACKING_KEL, ip, il, gather_one, &g);
	free(x);
	return rc < 0 ? hc_error_ret(rc, "%s", backing_last_error()) : 0;
}

/* ---- retries ----------------------------------------------------------------------------- */

/* Index keys listed per seek; a retry goes on from the last one listed. */
#define RETRY_BATCH 256

struct list_keys {
	size_t klen;                 /* IDX_KEY (own entries) or TRG_KEY (waiting on P) */
	uint64_t sn[RETRY_BATCH];    /* own entries only */
	uint64_t seq[RETRY_BATCH];
	unsigned n;
	char last[IDX_KEY + 1];      /* the last key listed, then a NUL: the next seek */
};

static int list_one(const void *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	struct list_keys *l = arg;
	(void)val, (void)vlen;
	if (klen != l->klen)
		return 0;
	if (l->n >= RETRY_BATCH)
		return 1;
	if (klen == IDX_KEY) {
		char hex[17];
		memcpy(hex, (const char *)key + KERI_QB64 + 3, 16);
		hex[16] = 0;
		l->sn[l->n] = strtoull(hex, NULL, 16);
	}
	l->seq[l->n++] = key_seq(key, klen);
	memcpy(l->last, key, klen);
	l->last[klen] = 0;
	return 0;
}

/* Lists up to RETRY_BATCH index keys from `from` (flen bytes) up to the end of the
 * prefix `pfx` (plen bytes). 0, or HC_EIO. */
static int list_from(struct hc_cache *c, struct list_keys *l, const char *from, size_t flen,
                     const char *pfx, size_t plen)
{
	char until[IDX_KEY + 1];
	memcpy(until, pfx, plen);
	until[plen - 1]++; /* "<pre>:e." -> "<pre>:e/": the first key past the prefix */
	l->n = 0;
	int rc = backing_each_range(c->backing, BACKING_KEL, from, flen, until, plen, list_one, l);
	return rc < 0 ? rc : 0;
}

/* Loads entry seq as a private copy (*val, free it). HC_ENOTFOUND when gone. */
static int load_entry(struct hc_cache *c, uint64_t seq, uint8_t **val, struct esc_entry *en)
{
	char k[ESC_KEY + 1];
	struct backing_pin pin;
	int rc = backing_get_raw(c->backing, BACKING_KEL, k, esc_key(seq, k), &pin);
	if (rc != 0)
		return rc;
	*val = malloc(pin.len);
	if (*val == NULL) {
		backing_pin_release(&pin);
		return HC_ENOMEM;
	}
	memcpy(*val, pin.data, pin.len);
	size_t len = pin.len;
	backing_pin_release(&pin);
	if (entry_decode(*val, len, seq, en) != 0) {
		free(*val);
		return HC_ECORRUPT;
	}
	return 0;
}

/* The current sn of pre, or -1 when it has no state. */
static int64_t current_sn(struct hc_cache *c, const char *pre)
{
	struct keri_state *st = malloc(sizeof(*st));
	int64_t sn = -1;
	if (st != NULL && kel_state_at(c, pre, UINT64_MAX, st) == 0)
		sn = (int64_t)st->sn;
	free(st);
	return sn;
}

/* The prefixes a retry has yet to visit: the first, then each promoted event's. */
struct todo {
	qb64_t *p;
	unsigned n, cap;
};

static void add_prefix(struct hc_cache *c, struct todo *t, const char *p)
{
	if (in_list(t->p, t->n, p))
		return;
	if (t->n == t->cap) {
		unsigned cap = t->cap ? 2 * t->cap : 16;
		qb64_t *np = realloc(t->p, cap * sizeof(*np));
		if (np == NULL) {
			/* Its entries wait for the prefix's next event or receipt. */
			cache_log(c, HC_LOG_WARN, "escrow: out of memory; entries of %.44s are "
			          "retried with its next event", p);
			return;
		}
		t->p = np;
		t->cap = cap;
	}
	memcpy(t->p[t->n++], p, sizeof(qb64_t));
}

/*
 * An entry retried that still waits, now for another reason or on another prefix: an
 * out-of-order drt whose dip has come and which now waits for its delegator's anchor.
 * Indexed only under its old trigger it would never be retried again (no event of that
 * prefix is coming), and expire: a lost event. It is rewritten in place under its new
 * reason and trigger, keeping its seq (its first-seen place) and its time (its timeout
 * runs on). Skipped when the entry is gone (promoted or dropped meanwhile) or was
 * replaced by a merged copy (whose writer indexed it itself).
 */
static void requeue(struct hc_cache *c, const struct esc_entry *en, int reason,
                    const char *trig)
{
	struct kel_escrow *e = c->esc;
	char k[ESC_KEY + 1];
	struct backing_pin pin;
	pthread_mutex_lock(&e->mu);
	int rc = backing_get_raw(c->backing, BACKING_KEL, k, esc_key(en->seq, k), &pin);
	if (rc == 0) {
		int same = pin.len == ESC_HDR + en->len &&
		           memcmp((const uint8_t *)pin.data + ESC_HDR, en->msg, en->len) == 0;
		rc = same ? del_locked(c, en->seq, pin.data, pin.len) : HC_ENOTFOUND;
		backing_pin_release(&pin);
		if (rc == 0)
			rc = write_locked(c, en->seq, en->kind, en->pre, en->sn, en->said, en->msg,
			                  en->len, reason, trig, en->t);
	}
	pthread_mutex_unlock(&e->mu);
	if (rc != 0 && rc != HC_ENOTFOUND)
		cache_log(c, HC_LOG_WARN, "escrow: entry %llu not re-indexed under %.44s: %s",
		          (unsigned long long)en->seq, trig, hc_last_error());
}

/* Retries one entry: 1 when it was promoted, 0 otherwise. */
static int retry_one(struct hc_cache *c, uint64_t seq, struct todo *t)
{
	uint8_t *val;
	struct esc_entry en;
	if (load_entry(c, seq, &val, &en) != 0)
		return 0;
	int outcome = HC_KEL_REJECTED, promoted = 0;
	if (en.kind == KEL_ESC_EVENT) {
		qb64_t trig;
		int rc = kel_append_escrowed(c, en.msg, en.len, &outcome, trig);
		if (outcome == HC_KEL_ESCROWED && (rc != en.reason || strcmp(trig, en.trig) != 0))
			requeue(c, &en, rc, trig);
	} else {
		struct keri_event *ev = malloc(sizeof(*ev));
		size_t used;
		char why[256];
		unsigned stored = 0;
		if (ev != NULL &&
		    keri_parse(en.msg, en.len, ev, &used, why, sizeof(why)) == KERI_RECEIPT &&
		    kel_receipt_apply(c, ev, en.msg, en.len, 1, &outcome, &stored) != 0 &&
		    outcome != HC_KEL_ESCROWED)
			outcome = HC_KEL_REJECTED;
		free(ev);
	}
	if (outcome != HC_KEL_ESCROWED) {
		kel_escrow_drop(c, &seq, 1);
		if (outcome == HC_KEL_ACCEPTED || outcome == HC_KEL_RECEIPT) {
			promoted = 1;
			atomic_fetch_add_explicit(&c->esc->promoted, 1, memory_order_relaxed);
			if (outcome == HC_KEL_ACCEPTED)
				add_prefix(c, t, en.pre);
		}
	}
	free(val);
	return promoted;
}

/*
 * One pass over the index keys of p, from their start, RETRY_BATCH keys per seek: its
 * own entries ("<p>:e.", own != 0) in (sn, seq) order, up to the first whose sn is past
 * p's next (the current sn + 1, read again after each promotion: a KEL escrowed in
 * reverse is promoted in one pass), or the entries waiting on p ("<p>:d.": other
 * prefixes' events waiting for p's anchor) in seq order. Returns the promotions.
 */
static uint64_t retry_pass(struct hc_cache *c, const char *p, int own, struct list_keys *l,
                           struct todo *t)
{
	char pfx[KERI_QB64 + 4], from[IDX_KEY + 2];
	size_t plen = (size_t)snprintf(pfx, sizeof(pfx), "%.44s:%c.", p, own ? 'e' : 'd');
	size_t flen = plen;
	memcpy(from, pfx, plen);
	l->klen = own ? IDX_KEY : TRG_KEY;
	int64_t cur = own ? current_sn(c, p) : 0;
	uint64_t moved = 0;
	for (;;) {
		if (list_from(c, l, from, flen, pfx, plen) != 0 || l->n == 0)
			return moved;
		for (unsigned i = 0; i < l->n; i++) {
			if (own && (int64_t)l->sn[i] > cur + 1)
				return moved; /* every later key is further ahead */
			if (retry_one(c, l->seq[i], t)) {
				moved++;
				if (own)
					cur = current_sn(c, p);
			}
		}
		if (l->n < RETRY_BATCH)
			return moved;
		flen = l->klen + 1; /* the last key and a NUL: the first key after it */
		memcpy(from, l->last, flen);
	}
}

void kel_escrow_retry(struct hc_cache *c, const char *pre, uint64_t *promoted)
{
	struct kel_escrow *e = c->esc;
	if (e == NULL || !kel_escrow_nonempty(c))
		return; /* the common case: no lock taken */
	pthread_mutex_lock(&e->mu);
	if (sweep_locked(c, 0) != 0)
		cache_log(c, HC_LOG_WARN, "escrow: expiry failed: %s", hc_last_error());
	pthread_mutex_unlock(&e->mu);
	struct todo t = {NULL, 0, 0};
	struct list_keys *l = malloc(sizeof(*l));
	add_prefix(c, &t, pre);
	if (l == NULL || t.n == 0) {
		cache_log(c, HC_LOG_WARN, "escrow: out of memory; entries of %.44s are retried "
		          "with its next event", pre);
		free(l);
		free(t.p);
		return;
	}
	/* Another pass while one promotes: a receipt met before its event (same sn, seen
	 * first) is stored on the next. Every promotion drops an entry: this ends. */
	for (unsigned i = 0; i < t.n && kel_escrow_nonempty(c); i++) {
		qb64_t p; /* t.p moves when a promotion adds a prefix */
		memcpy(p, t.p[i], sizeof(p));
		uint64_t moved;
		do {
			moved = retry_pass(c, p, 1, l, &t);
			moved += retry_pass(c, p, 0, l, &t);
			if (promoted != NULL)
				*promoted += moved;
		} while (moved > 0 && kel_escrow_nonempty(c));
	}
	free(l);
	free(t.p);
}

/* ---- receipts ------------------------------------------------------------------------------ */

/* "<pre>:r.<sn>.<said>." */
#define RCT_PFX (KERI_QB64 + 3 + 16 + 1 + KERI_QB64 + 1)

static size_t rct_prefix(const char *pre, uint64_t sn, const char *said, char *k)
{
	return (size_t)snprintf(k, RCT_PFX + 1, "%.44s:r.%016" PRIx64 ".%.44s.", pre, sn, said);
}

/* One indexed signature as qb64 (no counter). */
static size_t siger_text(const struct keri_sig *s, char *out)
{
	char buf[128];
	size_t n = keri_sigs_encode('A', s, 1, buf, sizeof(buf));
	if (n < 4)
		return 0;
	memcpy(out, buf + 4, n - 4);
	out[n - 4] = 0;
	return n - 4;
}

static size_t cigar_text(const uint8_t sig[64], char *out)
{
	uint8_t raw[66] = {0};
	memcpy(raw + 2, sig, 64);
	keri_b64_encode(raw, 66, out);
	out[0] = '0';
	out[1] = 'B';
	out[88] = 0;
	return 88;
}

static int put_witness(struct backing_batch *bt, const struct keri_event *ev,
                       const char *wit, uint16_t index, const uint8_t sig[64])
{
	char k[RCT_PFX + 2 + KERI_QB64 + 1], txt[128];
	struct keri_sig s = {index, index, 1, {0}};
	memcpy(s.sig, sig, 64);
	size_t kl = rct_prefix(ev->pre, ev->sn, ev->said, k);
	kl += (size_t)snprintf(k + kl, sizeof(k) - kl, "0.%.44s", wit);
	size_t tl = siger_text(&s, txt);
	return backing_batch_put_raw(bt, BACKING_KEL, k, kl, txt, tl);
}

int kel_receipts_put_wigs(struct backing_batch *bt, const struct keri_event *ev,
                          const char (*wits)[KERI_QB64 + 1], unsigned nw)
{
	uint32_t done = 0;
	for (unsigned i = 0; i < ev->nwigs; i++) {
		const struct keri_sig *s = &ev->wigs[i];
		if (s->index >= nw || (done & (UINT32_C(1) << s->index)) ||
		    keri_verify_raw(ev, s->sig, wits[s->index]) != 0)
			continue;
		done |= UINT32_C(1) << s->index;
		int rc = put_witness(bt, ev, wits[s->index], s->index, s->sig);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Why the last receipt signature was dropped, kept for the report. */
struct rct_tally {
	unsigned stored, dropped;
	char why[200];
};

static void drop(struct rct_tally *t, const char *fmt, ...) HC_PRINTF(2, 3);
static void drop(struct rct_tally *t, const char *fmt, ...)
{
	va_list ap;
	t->dropped++;
	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
}

/* A transferable receipt: verify against the receiptor's keys at its est event. */
static int trans_one(struct hc_cache *c, const struct keri_event *sev,
                     const struct keri_trc *r, struct backing_batch *bt,
                     struct rct_tally *t, struct keri_state *rs)
{
	if (kel_state_at(c, r->pre, r->sn, rs) != 0) {
		drop(t, "transferable receiptor %.44s: its establishment event is not in the "
		     "store", r->pre);
		return 0;
	}
	if (rs->ee_sn != r->sn || strcmp(rs->ee_d, r->said) != 0) {
		drop(t, "transferable receiptor %.44s: sn and SAID are not its establishment "
		     "event", r->pre);
		return 0;
	}
	if (r->sig.index >= rs->nk ||
	    keri_verify_raw(sev, r->sig.sig, rs->k[r->sig.index]) != 0) {
		drop(t, "transferable receipt of %.44s does not verify", r->pre);
		return 0;
	}
	char k[RCT_PFX + 2 + KERI_QB64 + 1 + 16 + 1 + KERI_QB64 + 8], txt[128];
	size_t kl = rct_prefix(sev->pre, sev->sn, sev->said, k);
	kl += (size_t)snprintf(k + kl, sizeof(k) - kl, "2.%.44s.%016" PRIx64 ".%.44s.%04x",
	                       r->pre, r->sn, r->said, (unsigned)r->sig.index);
	size_t tl = siger_text(&r->sig, txt);
	t->stored++;
	return backing_batch_put_raw(bt, BACKING_KEL, k, kl, txt, tl);
}

static int receipts_verify(struct hc_cache *c, const struct keri_event *ev,
                           const struct keri_event *sev, const qb64_t *wits, unsigned nw,
                           struct backing_batch *bt, struct rct_tally *t)
{
	int rc = 0;
	for (unsigned i = 0; i < ev->nwigs && rc == 0; i++) {
		const struct keri_sig *s = &ev->wigs[i];
		if (s->index >= nw) {
			drop(t, "witness index %u beyond the event's %u witnesses", s->index, nw);
			continue;
		}
		if (receiptor_is_local(c, wits[s->index])) {
			drop(t, "own receipt by %.44s from a stream (keripy skips it)", wits[s->index]);
			continue;
		}
		if (keri_verify_raw(sev, s->sig, wits[s->index]) != 0) {
			drop(t, "witness signature of %.44s does not verify", wits[s->index]);
			continue;
		}
		t->stored++;
		rc = put_witness(bt, sev, wits[s->index], s->index, s->sig);
	}
	for (unsigned i = 0; i < ev->ncigs && rc == 0; i++) {
		const struct keri_cig *g = &ev->cigs[i];
		if (g->pre[0] != 'B') {
			drop(t, "receipt couple by %.44s: a couple's signer must be non-transferable "
			     "(B)", g->pre);
			continue;
		}
		if (receiptor_is_local(c, g->pre)) {
			drop(t, "own receipt by %.44s from a stream (keripy skips it)", g->pre);
			continue;
		}
		if (keri_verify_raw(sev, g->sig, g->pre) != 0) {
			drop(t, "receipt couple of %.44s does not verify", g->pre);
			continue;
		}
		int w = -1;
		for (unsigned j = 0; j < nw; j++)
			if (strcmp(wits[j], g->pre) == 0)
				w = (int)j;
		t->stored++;
		if (w >= 0) {
			rc = put_witness(bt, sev, g->pre, (uint16_t)w, g->sig);
		} else {
			char k[RCT_PFX + 2 + KERI_QB64 + 1], txt[96];
			size_t kl = rct_prefix(sev->pre, sev->sn, sev->said, k);
			kl += (size_t)snprintf(k + kl, sizeof(k) - kl, "1.%.44s", g->pre);
			rc = backing_batch_put_raw(bt, BACKING_KEL, k, kl, txt, cigar_text(g->sig, txt));
		}
	}
	if (ev->ntrcs && rc == 0) {
		struct keri_state *rs = malloc(sizeof(*rs));
		if (rs == NULL)
			return HC_ENOMEM;
		for (unsigned i = 0; i < ev->ntrcs && rc == 0; i++) {
			if (receiptor_is_local(c, ev->trcs[i].pre))
				drop(t, "own receipt by %.44s from a stream (keripy skips it)",
				     ev->trcs[i].pre);
			else
				rc = trans_one(c, sev, &ev->trcs[i], bt, t, rs);
		}
		free(rs);
	}
	return rc;
}

int kel_receipt_apply(struct hc_cache *c, const struct keri_event *ev, const void *msg,
                      size_t len, int from_escrow, int *outcome, unsigned *stored)
{
	*outcome = HC_KEL_REJECTED;
	*stored = 0;
	char key[KEL_KEY + 1], why[256];
	size_t kl = kel_key(ev->pre, ev->sn, key);
	struct backing_pin pin;
	int rc = backing_get_raw(c->backing, BACKING_KEL, key, kl, &pin);
	if (rc == HC_ENOTFOUND) {
		if (from_escrow) {
			*outcome = HC_KEL_ESCROWED;
			return HC_EKERI_UNSEEN;
		}
		rc = kel_escrow_put(c, KEL_ESC_RECEIPT, ev->pre, ev->sn, ev->said, msg, len,
		                    HC_EKERI_UNSEEN, NULL);
		if (rc != 0)
			return hc_error_ret(rc, "receipt rejected: %s", hc_last_error());
		*outcome = HC_KEL_ESCROWED;
		return hc_error_ret(HC_EKERI_UNSEEN, "receipt escrowed: no event of %s is "
		                    "accepted at sn %llu yet", ev->pre,
		                    (unsigned long long)ev->sn);
	}
	if (rc != 0)
		return hc_error_ret(rc, "%s", backing_last_error());
	struct keri_event *sev = malloc(sizeof(*sev));
	struct keri_state *st = malloc(sizeof(*st));
	size_t used;
	rc = sev == NULL || st == NULL ? hc_error_ret(HC_ENOMEM, "out of memory") : 0;
	if (rc == 0 && keri_parse(pin.data, pin.len, sev, &used, why, sizeof(why)) != KERI_OK)
		rc = hc_error_ret(HC_ECORRUPT, "stored event %s does not parse: %s", key, why);
	if (rc == 0 && strcmp(sev->said, ev->said) != 0)
		rc = hc_error_ret(HC_EKERI_DUPLICITY, "receipt rejected: sn %llu of %s is %s, "
		                  "not the receipted %s (a stale or foreign receipt)",
		                  (unsigned long long)ev->sn, ev->pre, sev->said, ev->said);
	if (rc == 0 && (rc = kel_state_at(c, ev->pre, ev->sn, st)) != 0)
		rc = hc_error_ret(rc == HC_ENOTFOUND ? HC_ECORRUPT : rc, "receipt rejected: no key "
		                  "state of %s at sn %llu: %s", ev->pre, (unsigned long long)ev->sn,
		                  hc_last_error());
	struct rct_tally t = {0, 0, ""};
	struct backing_batch *bt = NULL;
	if (rc == 0) {
		bt = backing_batch_new(c->backing);
		rc = bt == NULL ? hc_error_ret(HC_ENOMEM, "out of memory for a batch") : 0;
	}
	if (rc == 0 && (rc = receipts_verify(c, ev, sev, (const qb64_t *)st->b, st->nb, bt,
	                                     &t)) != 0)
		rc = hc_error_ret(rc, "receipt rejected: %s", backing_last_error());
	if (rc == 0 && t.stored && (rc = backing_batch_commit(bt)) != 0)
		rc = hc_error_ret(rc, "receipt rejected: %s", backing_last_error());
	backing_batch_free(bt);
	backing_pin_release(&pin);
	free(sev);
	free(st);
	if (rc != 0)
		return rc;
	*stored = t.stored;
	if (t.stored == 0)
		return hc_error_ret(HC_EKERI_SIG, "receipt rejected: %s%s", t.why,
		                    t.dropped ? "" : "no receipt signature attached");
	*outcome = HC_KEL_RECEIPT;
	if (t.dropped)
		hc_error_set("receipt stored: %u signature(s); %u dropped (%s)", t.stored,
		             t.dropped, t.why);
	else
		hc_error_set("receipt stored: %u signature(s)", t.stored);
	return 0;
}

/* ---- listing -------------------------------------------------------------------------------- */

struct listing {
	hc_kel_receipt_fn fn;
	void *arg;
	size_t pfx;
	uint64_t n;
};

static int list_receipt(const void *key, size_t klen, const void *val, size_t vlen,
                        void *arg)
{
	struct listing *l = arg;
	const char *k = (const char *)key + l->pfx;
	size_t rest = klen - l->pfx;
	char who[KERI_QB64 + 1], sig[128], esaid[KERI_QB64 + 1] = "";
	struct hc_kel_receipt r = {.size = sizeof(r), .receiptor = who, .signature = sig,
	                           .est_said = esaid};
	if (rest < 2 + KERI_QB64 || vlen >= sizeof(sig))
		return 0;
	r.kind = k[0] - '0';
	memcpy(who, k + 2, KERI_QB64);
	who[KERI_QB64] = 0;
	memcpy(sig, val, vlen);
	sig[vlen] = 0;
	if (r.kind == HC_RECEIPT_WITNESS || r.kind == HC_RECEIPT_TRANS) {
		struct keri_sig s;
		size_t fs;
		if (keri_siger_decode(sig, vlen, &s, &fs, NULL, 0) != KERI_OK)
			return 0;
		r.index = s.index;
	}
	if (r.kind == HC_RECEIPT_TRANS) {
		if (rest < 2 + KERI_QB64 + 1 + 16 + 1 + KERI_QB64)
			return 0;
		char hex[17];
		memcpy(hex, k + 2 + KERI_QB64 + 1, 16);
		hex[16] = 0;
		r.est_sn = strtoull(hex, NULL, 16);
		memcpy(esaid, k + 2 + KERI_QB64 + 18, KERI_QB64);
		esaid[KERI_QB64] = 0;
	}
	int rc = l->fn(&r, l->arg);
	if (rc == 0)
		l->n++;
	return rc;
}

int hc_kel_receipts(hc_cache *c, const char *prefix, uint64_t sn, hc_kel_receipt_fn fn,
                    void *arg, uint64_t *count)
{
	if (count != NULL)
		*count = 0;
	if (c == NULL || prefix == NULL || fn == NULL)
		return hc_error_ret(HC_EINVAL, "hc_kel_receipts: NULL argument");
	if (strlen(prefix) != KERI_QB64)
		return hc_error_ret(HC_EINVAL, "hc_kel_receipts: a prefix is 44 characters");
	if (c->esc == NULL)
		return hc_error_ret(HC_ENOTSUP, "hc_kel_receipts: KERI needs backing.mode = "
		                    "rocksdb");
	char key[KEL_KEY + 1], why[256];
	struct backing_pin pin;
	int rc = backing_get_raw(c->backing, BACKING_KEL, key, kel_key(prefix, sn, key), &pin);
	if (rc == HC_ENOTFOUND)
		return rc; /* an answer: hc_last_error() left alone (README) */
	if (rc != 0)
		return hc_error_ret(rc, "%s", backing_last_error());
	struct keri_event *ev = malloc(sizeof(*ev));
	size_t used;
	qb64_t said;
	rc = ev == NULL ? HC_ENOMEM : 0;
	if (rc == 0 && keri_parse(pin.data, pin.len, ev, &used, why, sizeof(why)) != KERI_OK)
		rc = hc_error_ret(HC_ECORRUPT, "stored event %s does not parse: %s", key, why);
	if (rc == 0)
		memcpy(said, ev->said, sizeof(said));
	backing_pin_release(&pin);
	free(ev);
	if (rc != 0)
		return rc;
	char pfx[RCT_PFX + 1];
	struct listing l = {fn, arg, rct_prefix(prefix, sn, said, pfx), 0};
	rc = backing_each_prefixed(c->backing, BACKING_KEL, pfx, l.pfx, list_receipt, &l);
	if (count != NULL)
		*count = l.n;
	return rc;
}
