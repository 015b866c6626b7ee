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

#endif
