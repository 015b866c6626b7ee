/* KERI key event logs and key states in the cache (kel.c). */
#ifndef HC_CACHE_KEL_H
#define HC_CACHE_KEL_H

#include "cache/cache.h"

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

#endif
