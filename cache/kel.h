/* KERI key event logs and key states in the cache (kel.c). */
#ifndef HC_CACHE_KEL_H
#define HC_CACHE_KEL_H

#include "cache/cache.h"
#include "keri/keri.h"

struct backing_batch;

/* Opens the key-state cache with `limit` bytes; c->backing must be open. hc_open. */
HC_NODISCARD int kel_open(struct hc_cache *c, uint64_t limit);
/* Closes it. hc_close. */
void kel_close(struct hc_cache *c);

/* The kel family's key of prefix's event at sn: "<prefix>.<sn as 16 hex digits>". */
#define KEL_KEY (44 + 1 + 16)
size_t kel_key(const char *pre, uint64_t sn, char key[KEL_KEY + 1]);

/* Called with each stored event (valid during the call) and its kel key. */
typedef int (*kel_event_fn)(const void *msg, size_t len, const char *key, void *arg);
/*
 * Calls fn on each event of pre's accepted branch in sn order, stopping at
 * fn's non-zero return, which it returns; HC_EIO (with the sentence) when the store
 * fails. *n = the events fn took (returned 0 for). Any thread.
 */
HC_NODISCARD int kel_each_event(struct hc_cache *c, const char *pre, kel_event_fn fn,
                                void *arg, uint64_t *n);

/*
 * prefix's key state after its event at sn (the current state when sn is within the
 * current establishment span, else a replay of the stored events up to sn, whose
 * signatures were checked when they were appended). HC_ENOTFOUND when no state or no
 * event at sn. Any thread.
 */
struct keri_state;
HC_NODISCARD int kel_state_at(struct hc_cache *c, const char *pre, uint64_t sn,
                              struct keri_state *out);

/* An append from the escrow (kel_escrow_retry): *outcome is an enum hc_kel_outcome
 * (HC_KEL_ESCROWED when the entry must stay); returns the HC_EKERI_* code of a
 * rejection or of the reason it stays. When it stays, trigger (KERI_QB64 + 1 bytes)
 * gets the prefix whose next accepted event may unblock it: the delegator for
 * HC_EKERI_DELEGATION, the event's own prefix otherwise. Any thread. */
HC_NODISCARD int kel_append_escrowed(struct hc_cache *c, const void *msg, size_t len,
                                     int *outcome, char *trigger);

/* ---- receipts and escrow (kel_escrow.c) ----------------------------------------------
 *
 * The escrow is kept in the kel family, beside the events, so it survives a restart
 * and costs no memory beyond a few counters:
 *   "~esc.<seq 16 hex>"        -> [header][message as received, merged]
 *   "<prefix>:e.<sn 16 hex>.<seq 16 hex>" -> "" (an index of prefix's own entries by
 *                                 sn: the ones to retry when an event of prefix is
 *                                 accepted, or a receipt of it arrives)
 *   "<trigger>:d.<seq 16 hex>" -> "" (an entry waiting on another prefix: a delegated
 *                                 event on its delegator's anchor)
 *   "~esc!layout"              -> "2" (this layout; kel_escrow_open re-indexes a store
 *                                 without it, whose index was "<prefix>:e.<seq>")
 * seq is the first-seen order; the front of "~esc." is the oldest entry.
 * Receipts: "<prefix>:r.<sn 16 hex>.<said>.<kind digit>.<receiptor>[...]" -> qb64 sig.
 */
struct keri_event;
enum kel_esc_kind { KEL_ESC_EVENT = 1, KEL_ESC_RECEIPT = 2 };

/* Opens / closes the escrow's bookkeeping (from kel_open / kel_close): the local
 * prefix lists from the config, the counters from a scan of "~esc.". */
HC_NODISCARD int kel_escrow_open(struct hc_cache *c);
void kel_escrow_close(struct hc_cache *c);

/* 1 when pre, or one of the event's witnesses wits[0..nw), is one of the node's own or
 * witness prefixes (keripy's locallyOwned/Membered/Witnessed). Any thread. */
int kel_is_local(struct hc_cache *c, const char *pre, const char (*wits)[KERI_QB64 + 1],
                 unsigned nw);
/* The witness list an event establishes or is witnessed by: icp b; rot prior b - br +
 * ba; ixn prior b. *nw = 0 when it cannot be derived (the rules reject it later). */
void kel_event_wits(const struct keri_state *prior, const struct keri_event *ev,
                    char (*wits)[KERI_QB64 + 1], unsigned *nw);

/*
 * THE ESCROW ENTRY POINT (also for delegation). Keeps msg[0..len) (one message as
 * received: an event of pre at sn with SAID said, kind KEL_ESC_EVENT, or an rct,
 * KEL_ESC_RECEIPT) in the escrow with reason (an HC_EKERI_* code, reported with
 * HC_KEL_ESCROWED), to be retried, in first-seen order, when an event of `trigger` is
 * accepted (NULL: of pre; a delegated event names its delegator, whose anchoring event
 * it waits for) or when a receipt of pre arrives. The retry re-appends the message:
 * accepted, it leaves the escrow (promoted); refused for the same reason, it stays;
 * refused otherwise, it is dropped. An entry of the same event (pre, sn, said) is
 * replaced (keeping its place in the order): the caller merges signatures first
 * (kel_escrow_gather). Bounded by keri.escrow_limit (the oldest entries are dropped
 * first, counted in escrow_evicted) and keri.escrow_timeout (expired). Takes the
 * escrow's mutex, a leaf lock: callable under a stripe lock (inside append_durable).
 * HC_EKERI_LIMIT when the message alone exceeds the limit, HC_EIO. Any thread.
 */
HC_NODISCARD int kel_escrow_put(struct hc_cache *c, int kind, const char *pre, uint64_t sn,
                                const char *said, const void *msg, size_t len, int reason,
                                const char *trigger);
/* Retries the entries indexed under pre (then under the prefixes whose events that
 * promoted), until none moves; *promoted (when non-NULL) grows by the events accepted
 * and receipts stored. Must not be called under a stripe lock. Any thread. */
void kel_escrow_retry(struct hc_cache *c, const char *pre, uint64_t *promoted);
/* Merges into ev the controller and witness signatures (and witness receipt couples,
 * mapped through wits) of escrow entries of the same event; their seqs go to
 * seqs[0..*n) (cap max), to be dropped once ev is accepted or re-escrowed. 0 or HC_EIO.
 */
HC_NODISCARD int kel_escrow_gather(struct hc_cache *c, struct keri_event *ev,
                                   const char (*wits)[KERI_QB64 + 1], unsigned nw,
                                   uint64_t *seqs, unsigned max, unsigned *n);
/* Drops entries by seq (after their event was accepted). Any thread. */
void kel_escrow_drop(struct hc_cache *c, const uint64_t *seqs, unsigned n);
/* 1 when the escrow holds any entry (a relaxed read: a hint, no ordering). */
int kel_escrow_nonempty(struct hc_cache *c);
/* Counts a promotion (an escrowed message accepted through a path other than retry). */
void kel_escrow_promoted(struct hc_cache *c, uint64_t n);

/*
 * Verifies and stores the receipts ev carries for the accepted event (ev->pre, ev->sn,
 * ev->said): an rct's, or those attached to a duplicate of the event. msg/len is the
 * rct as received (escrowed with HC_EKERI_UNSEEN when the event is not accepted, unless
 * from_escrow). *outcome: HC_KEL_RECEIPT (some stored), HC_KEL_ESCROWED, or
 * HC_KEL_REJECTED; *stored = signatures stored. Returns 0 or the rejection's code with
 * its sentence ("receipt rejected: ..."). Any thread; not under a stripe lock.
 */
HC_NODISCARD int kel_receipt_apply(struct hc_cache *c, const struct keri_event *ev,
                                   const void *msg, size_t len, int from_escrow,
                                   int *outcome, unsigned *stored);
/* Writes into bt the "<pre>:r." keys of ev's witness signatures that verify against
 * wits[0..nw) (for an event being accepted). Returns 0 or HC_ENOMEM. */
struct backing_batch;
HC_NODISCARD int kel_receipts_put_wigs(struct backing_batch *bt, const struct keri_event *ev,
                                       const char (*wits)[KERI_QB64 + 1], unsigned nw);
/* hc_stats' escrow figures: relaxed loads, no lock (the metrics' walk calls it). */
void kel_escrow_stats(struct hc_cache *c, struct hc_stats *st);
/* The escrow's mutex, NULL without an escrow: tests hold it to show who waits. */
pthread_mutex_t *kel_escrow_mutex(struct hc_cache *c);
/* ---- beside the accepted branch (kel_history.c; the layout is described there) ---- */

#define KERI_PRE_LEN 44
#define KEL_SAID 44
/* "<prefix>:<kind>.<16 hex>.<SAID>", the longest of the other kel keys. */
#define KEL_SIDE_KEY (44 + 3 + 16 + 1 + 44)
/* A first-seen record: "<sn 16 hex> <SAID> <dt>", dt shorter than 40. */
#define KEL_FEL_MAX (16 + 1 + 44 + 1 + 39)

struct kel_fel {
	uint64_t sn;
	char said[KEL_SAID + 1];
	char dt[40]; /* "" for an event stored before the first-seen log */
};

/* "<prefix>:f.<fn 16 hex>": the first-seen log's key of ordinal fn. */
size_t kel_fel_key(const char *pre, uint64_t fn, char key[KEL_SIDE_KEY + 1]);
/* "<prefix>:<kind>.<sn 16 hex>.<said>": kind 'x' superseded, 'd' duplicity evidence. */
size_t kel_side_key(const char *pre, char kind, uint64_t sn, const char *said,
                    char key[KEL_SIDE_KEY + 1]);
/* The record of f, NUL-terminated; returns its length. */
size_t kel_fel_encode(const struct kel_fel *f, char out[KEL_FEL_MAX + 1]);
/* The `d` of a stored message (canonical JSON puts it in its first 64 bytes): 0 or -1. */
int kel_msg_said(const void *msg, size_t len, char said[KEL_SAID + 1]);
/* The SAID of the accepted event at sn: 0, HC_ENOTFOUND (no sentence), or a failure
 * with its sentence. Any thread. */
HC_NODISCARD int kel_said_at(struct hc_cache *c, const char *pre, uint64_t sn,
                             char said[KEL_SAID + 1]);

/* Called with each first-seen event (its message valid during the call) and its fn. */
typedef int (*kel_fs_fn)(const void *msg, size_t len, uint64_t fn, const struct kel_fel *f,
                         void *arg);
/*
 * Calls fn on each event pre accepted, superseded ones included, in first-seen order
 * (fn 0, 1, ...), stopping at fn's non-zero return, which it returns; *n = the events
 * handed out. A store's events from before the log are handed out as the accepted event
 * at sn = fn with dt "". HC_ECORRUPT when the log names an event the KEL lacks. Any
 * thread.
 */
HC_NODISCARD int kel_each_first_seen(struct hc_cache *c, const char *pre, kel_fs_fn fn,
                                     void *arg, uint64_t *n);
/*
 * When pre's first-seen log has no record for last_fn (an identifier from a store older
 * than the log, whose fn were its sn), adds records fn = sn = 0..last_fn to bt (dt ""
 * but last_dt for the last), so the log stays complete once events leave the accepted
 * branch. 0 or a failure with its sentence. Called under pre's stripe. Any thread.
 */
HC_NODISCARD int kel_fel_backfill(struct hc_cache *c, const char *pre, uint64_t last_fn,
                                  const char *last_dt, struct backing_batch *bt);
/*
 * Rollback at rest: 0 when the KEL's accepted branch holds the event (sn, said) and
 * nothing after it (one seek and one step), else HC_ECORRUPT with a sentence that
 * names the repair. Any thread.
 */
HC_NODISCARD int kel_tip_check(struct hc_cache *c, const char *pre, uint64_t sn,
                               const char *said);
/* Keeps msg (said, at sn) as duplicity evidence against the accepted event held; one
 * synced-as-configured put. 0 or a backing failure. Any thread. */
HC_NODISCARD int kel_duplicity_keep(struct hc_cache *c, const char *pre, uint64_t sn,
                                    const char *held, const char *said, const void *msg,
                                    size_t len);

/* ---- delegating events and delegated recovery (kel_supersede.c) ------------------- */

/*
 * The delegating event of the event (pre, sn, said) in di's KEL: the first event, in sn
 * order on di's accepted branch (ever = 0) or in first-seen order among every event di
 * ever accepted, superseded ones included (ever = 1), whose `a` list holds its seal.
 * Returns 1 (and *out), 0 when there is none, or a failure with its sentence. Any
 * thread; reads the store only.
 */
HC_NODISCARD int kel_anchor_find(struct hc_cache *c, const char *di, const char *pre,
                                 uint64_t sn, const char *said, int ever,
                                 struct keri_anchor *out);
/* di = the delegator named by pre's inception (a dip), or "" (an icp). 0, HC_ENOTFOUND
 * (no inception stored, no sentence) or a failure. Any thread. */
HC_NODISCARD int kel_delegator_of(struct hc_cache *c, const char *pre,
                                  char di[KERI_QB64 + 1]);
/*
 * keripy's rules B and C for ev, a drt that keri_apply took as a recovery of cur (the
 * current state of a delegated identifier) and whose delegating event on its
 * delegator's accepted branch is *an: 0 when ev supersedes nothing but interaction
 * events (rule A0) or its approval is later than that of cur's last establishment
 * event (B1-B3, or C up the delegation chain); HC_EKERI_DELEGATION with the sentence
 * otherwise, *waiting = 1 when a delegating event it needs is not stored yet (it may
 * come: the caller escrows), 0 when refused. Any thread; reads the store only.
 */
HC_NODISCARD int kel_supersede_check(struct hc_cache *c, const struct keri_event *ev,
                                     const struct keri_state *cur,
                                     const struct keri_anchor *an, int *waiting);

#endif
