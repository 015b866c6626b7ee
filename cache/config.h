/*
 * cache/config.h: internal config entry points shared by hotcache.c, tools/ and the
 * config fuzzer. The public ones (hc_config_default/load/set) are in hotcache.h.
 *
 * Threads: every function here may be called by any thread; none keeps state between
 * calls, takes a lock or touches anything but its arguments and the calling thread's
 * last-error sentence.
 */
#ifndef HC_CACHE_CONFIG_H
#define HC_CACHE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "hotcache.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest config file hc_config_load reads; anything larger is refused. */
#define HC_CONFIG_FILE_MAX (1u << 20)

/*
 * Checks every field of cfg against its documented range (fields may have been set
 * directly by an embedder) and the rules between fields: max_entry <= half a shard's
 * share of the cache's part of memory_limit (memory_limit less config_keystate_share;
 * shards 0 counts as 1, see hc_config_shards), which hc_open needs at the least (a shard
 * keeps room to evict one such entry while it installs another; hc_open checks the
 * rest, which depends on the index and the policy's sizing), and backing.path non-empty
 * when backing.mode is rocksdb. Returns 0, or HC_ECONFIG with a sentence naming the key in
 * err (when non-NULL) and in hc_last_error(). hc_config_load runs it on its result;
 * hc_open must run it before using cfg. Any thread; reads cfg only.
 */
HC_NODISCARD int hc_config_check(const struct hc_config *cfg, char *err, size_t errlen);

/*
 * hc_config_load on a buffer instead of a file: data[0..len) is the file's text (need
 * not be NUL-terminated), name is what messages call it ("FILE:LINE: ..."). The same
 * rules and the same all-or-nothing update of cfg. It is the fuzz target's entry point.
 * Any thread; allocates nothing.
 */
HC_NODISCARD int hc_config_parse(struct hc_config *cfg, const char *name, const void *data,
                                 size_t len, char *err, size_t errlen);

/*
 * Brings a caller's cfg (cfg->size bytes) into full, a struct of the library's size:
 * fields the caller's header lacks take their defaults (cache/abi.h). 0, HC_EINVAL (a
 * size hc_config_default never set) or HC_ENOTSUP (a newer caller set a field this
 * library does not know), with the sentence naming `what`. Any thread.
 */
HC_NODISCARD int hc_config_in(const struct hc_config *cfg, struct hc_config *full,
                              const char *what);

/*
 * The shard count hc_open should use: cfg->shards when set, otherwise ("auto") the
 * smallest power of two >= 16 * ncpu, at most 1024, halved until memory_limit / shards
 * >= 4 * max_entry (a shard keeps room for four of the largest entries, which the
 * policy needs) and, when expected_entries is set, until a shard expects
 * SHARD_MIN_ENTRIES of them (1 at least). Any thread; pure.
 */
uint32_t hc_config_shards(const struct hc_config *cfg, unsigned ncpu);

/* The part of memory_limit hc_open gives the key states: with a store a sixteenth, at
 * least 1 MiB (so memory_limit may be all of it); 0 without. Any thread; pure. */
uint64_t config_keystate_share(const struct hc_config *cfg);

#ifdef __cplusplus
}
#endif
#endif /* HC_CACHE_CONFIG_H */
