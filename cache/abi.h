/*
 * cache/abi.h: sized public structs (the library side of hotcache.h's ABI rule).
 *
 * Every public struct begins with `uint32_t size`. A caller's struct is as large as the
 * hotcache.h it was compiled against says: the header's macros (hc_config_default,
 * hc_stats, ...) pass sizeof(struct ...) to the *_sized entry points. The library works
 * on a struct of its own size and moves min(caller, library) bytes across:
 *  - an older caller (smaller struct): fields it does not have take their defaults on
 *    the way in and are not written on the way out;
 *  - a newer caller (larger struct): bytes the library does not know must be zero on
 *    the way in (else HC_ENOTSUP: the caller asked for something this library cannot
 *    do, as Linux's copy_struct_from_user answers E2BIG) and are zeroed on the way out.
 * A size below the first sized release's (0.2.0) or above ABI_SIZE_MAX is a struct
 * hotcache did not initialise: HC_EINVAL. So is, for struct hc_config (the one struct
 * brought in, whose fields the library would join to its defaults), a size that ends
 * inside a field (config.c: config_size_ok).
 *
 * Threads: pure functions of their arguments (and the thread's last-error sentence).
 */
#ifndef HC_CACHE_ABI_H
#define HC_CACHE_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "hotcache.h"

#ifdef __cplusplus
extern "C" {
#endif

/* No public struct will ever be this large; a larger size is garbage. */
#define ABI_SIZE_MAX (1u << 20)

/* The end of a struct's last field in 0.2.0, the first release with sized structs:
 * the smallest size any caller can have. */
#define ABI_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
/* The first layout's sizeof: the end of its last field rounded up to the struct's
 * alignment (8: it holds uint64_t). Its tail padding belongs to that layout, so no
 * later field may start before it (asserted where the fields are added). */
#define ABI_ROUND8(n) (((n) + 7u) & ~(size_t)7u)
#define ABI_CONFIG_MIN ABI_ROUND8(ABI_END(struct hc_config, key_file))
#define ABI_STATS_MIN ABI_ROUND8(ABI_END(struct hc_stats, shards))
#define ABI_SHARD_STATS_MIN ABI_ROUND8(ABI_END(struct hc_shard_stats, main_entries))
#define ABI_KEYSTATE_MIN ABI_ROUND8(ABI_END(struct hc_keystate, est_said))
#define ABI_KEL_REPORT_MIN ABI_ROUND8(ABI_END(struct hc_kel_report, arg))

/*
 * Checks a caller's size: 0, or HC_EINVAL (too small or too large: `what` names the
 * function in the sentence). Any thread.
 */
int abi_check(size_t size, size_t min, const char *what);

/*
 * Brings a caller's struct in: lib (lib_size bytes, already holding defaults) takes the
 * first min(size, lib_size) bytes of user; bytes of user beyond lib_size must be zero.
 * lib's size field is set to lib_size. 0, HC_EINVAL (bad size) or HC_ENOTSUP (a newer
 * caller set a field this library does not know). Any thread.
 */
int abi_in(void *lib, size_t lib_size, const void *user, size_t size, size_t min,
           const char *what);

/*
 * Hands a struct out: the first min(size, lib_size) bytes of lib to user, zero for the
 * rest of user's size bytes, and user's size field set to `size_field`. Any thread.
 */
void abi_out(void *user, size_t size, const void *lib, size_t lib_size, uint32_t size_field);

/* abi_out for a struct the library fills: its size field says how many bytes it
 * filled, min(size, lib_size). Any thread. */
void abi_out_filled(void *user, size_t size, const void *lib, size_t lib_size);

#ifdef __cplusplus
}
#endif
#endif /* HC_CACHE_ABI_H */
