/*
 * cache/log.h: the library's reports to the embedder (hc_config.log_fn).
 *
 * Threads: any thread; the callback runs on the calling thread, no lock held by the
 * caller of cache_log may be one the callback could need (it must not re-enter the
 * cache, as hotcache.h tells embedders).
 */
#ifndef HC_CACHE_LOG_H
#define HC_CACHE_LOG_H

#include "cache/error.h"
#include "hotcache.h"

struct hc_cache;

/* Formats one line (cut at 511 bytes) and hands it to c's log_fn, if it has one. */
void cache_log(const struct hc_cache *c, int level, const char *fmt, ...) HC_PRINTF(3, 4);

#endif /* HC_CACHE_LOG_H */
