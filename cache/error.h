/*
 * cache/error.h: the one seam through which every module reports an error.
 *
 * Each thread owns one last-error sentence (a thread-local buffer of HC_ERROR_MAX bytes)
 * that hc_last_error() returns. A failing call writes a sentence with the detail a
 * user needs ("FILE:LINE: cache.shards: '3' is not 0 or a power of two ...", a RocksDB
 * message) and returns a negative HC_E* code. Like errno, the sentence is meaningful
 * only right after a call that failed: a successful call leaves it as it was.
 *
 * Threads: every function here may be called by any thread at any time; each touches
 * only the calling thread's buffer, takes no lock and never allocates (wait-free).
 */
#ifndef HC_CACHE_ERROR_H
#define HC_CACHE_ERROR_H

#include <stdarg.h>
#include <stddef.h>

#include "hotcache.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size of the per-thread sentence buffer, terminating NUL included. */
#define HC_ERROR_MAX 512u

#if defined(__GNUC__)
#define HC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define HC_PRINTF(f, a)
#endif

/*
 * Replaces the calling thread's sentence with the printf-style text. A sentence longer
 * than HC_ERROR_MAX - 1 bytes is cut and ends in "...". The arguments may point into
 * the current sentence (hc_error_set("%s; %s", hc_last_error(), more) is fine).
 * Any thread; wait-free; no allocation.
 */
void hc_error_set(const char *fmt, ...) HC_PRINTF(1, 2);

/* hc_error_set() with a va_list. Any thread; wait-free; no allocation. */
void hc_error_vset(const char *fmt, va_list ap) HC_PRINTF(1, 0);

/* Empties the calling thread's sentence. Any thread; wait-free. */
void hc_error_clear(void);

/*
 * Sets the sentence and returns code, for one-line failure exits:
 *   return hc_error_ret(HC_EINVAL, "key length %zu exceeds %u", klen, HC_KEY_MAX);
 * Any thread; wait-free; no allocation.
 */
int hc_error_ret(int code, const char *fmt, ...) HC_PRINTF(2, 3);

/*
 * The library's log: it never writes to stderr or stdout by itself; every message a
 * module wants an operator to see goes through hc_log. Levels, most severe first.
 */
enum hc_log_level { HC_LOG_ERROR = 1, HC_LOG_WARN = 2, HC_LOG_INFO = 3, HC_LOG_DEBUG = 4 };

/* Where hc_log's messages go: msg is one line without a newline, valid during the call. */
typedef void (*hc_log_sink)(int level, const char *msg, void *arg);

/*
 * Formats one message and hands it to the sink set by hc_log_sink_set; a no-op (not even
 * formatted) while none is set, which is the default. Any thread; no lock, no
 * allocation (the message is cut at HC_ERROR_MAX bytes); the sink runs on the caller's
 * thread.
 */
void hc_log(int level, const char *fmt, ...) HC_PRINTF(2, 3);

/*
 * Sets (or with NULL, clears) the process's sink; to be wired to the config's log
 * callback. Not concurrently with hc_log or itself (set it before opening a cache).
 */
void hc_log_sink_set(hc_log_sink sink, void *arg);

#ifdef __cplusplus
}
#endif
#endif /* HC_CACHE_ERROR_H */
