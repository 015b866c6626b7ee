/* KERI key event logs and key states in the cache (kel.c). */
#ifndef HC_CACHE_KEL_H
#define HC_CACHE_KEL_H

#include "cache/cache.h"

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
 * Calls fn on each stored event of pre in sn order (first-seen order), stopping at
 * fn's non-zero return, which it returns; HC_EIO (with the sentence) when the store
 * fails. *n = the events fn took (returned 0 for). Any thread.
 */
HC_NODISCARD int kel_each_event(struct hc_cache *c, const char *pre, kel_event_fn fn,
                                void *arg, uint64_t *n);

#endif
