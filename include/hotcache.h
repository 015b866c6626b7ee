/*
 * hotcache: an in-process concurrent cache of decrypted payloads and derived KERI key
 * state, written through to RocksDB.
 *
 * This is the only public header. Every function returns 0 or a negative HC_E* code;
 * hc_strerror() names a code and hc_last_error() gives the calling thread's last
 * sentence of detail (a RocksDB message, a config file:line).
 *
 * Threads: any thread may call any function at the same time as any other, except
 * hc_close(), which must be the last call on a cache and must not race with any other.
 * Threads register themselves on first use and are released at thread exit;
 * hc_thread_detach() releases one earlier.
 */
#ifndef HOTCACHE_H
#define HOTCACHE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define HC_EXPORT __attribute__((visibility("default")))
#define HC_NODISCARD __attribute__((warn_unused_result))
#else
#define HC_EXPORT
#define HC_NODISCARD
#endif

/*
 * The version of this header. hc_version() gives the library's, which may be newer:
 * a library runs callers compiled against any header of the same major version.
 */
#define HC_VERSION_MAJOR 0
#define HC_VERSION_MINOR 2
#define HC_VERSION_PATCH 0
#define HC_VERSION_STRING "0.2.0"
/* One comparable number: major * 10000 + minor * 100 + patch. */
#define HC_VERSION_NUMBER (HC_VERSION_MAJOR * 10000 + HC_VERSION_MINOR * 100 + HC_VERSION_PATCH)

/* Error codes: 0 is success, every failure is negative. */
enum {
	HC_OK = 0,
	HC_EINVAL = -1,     /* a bad argument: NULL, empty or oversize key, bad size */
	HC_ENOMEM = -2,     /* an allocation failed; nothing was changed */
	HC_ENOTFOUND = -3,  /* no value for the key */
	HC_ERANGE = -4,     /* the caller's buffer is too small; *vlen holds the size */
	HC_EIO = -5,        /* the backing store failed; hc_last_error() has its text */
	HC_ECORRUPT = -6,   /* a record at rest failed to open; nothing was served */
	HC_EKEY = -7,       /* the key file does not match the store */
	HC_ECONFIG = -8,    /* a bad config key, value or file */
	HC_EEXIST = -9,     /* already present */
	HC_EREADONLY = -10, /* a sync failed: the store refuses writes until reopened */
	HC_ENOTSUP = -11,   /* not supported by this build or mode */
	HC_EBUSY = -12,     /* a resource is busy: reclamation is behind, the store is locked */

	/* KERI rejections (hc_kel_append, hc_kel_import): one code per rule; the
	 * sentence in hc_last_error() names the rule and the field. */
	HC_EKERI_VERSION = -100,   /* version string not KERI10JSON<6 hex>_ */
	HC_EKERI_SIZE = -101,      /* declared size differs from the event's length */
	HC_EKERI_JSON = -102,      /* not canonical compact JSON */
	HC_EKERI_FIELD_ORDER = -103, /* a field missing, extra or out of the ilk's order */
	HC_EKERI_ILK = -104,       /* an unknown ilk */
	HC_EKERI_ILK_UNSUPPORTED = -105, /* dip/drt: delegation is not supported */
	HC_EKERI_FIELD = -106,     /* a field's value has the wrong type or code */
	HC_EKERI_SAID = -107,      /* d (or i) is not the digest of the event */
	HC_EKERI_PREFIX = -108,    /* prefix rules (basic prefix, self-addressing) */
	HC_EKERI_SIG = -109,       /* a controller signature fails or is misindexed */
	HC_EKERI_THRESHOLD = -110, /* a threshold is malformed or not met */
	HC_EKERI_PRIOR = -111,     /* p is not the SAID of the prior event */
	HC_EKERI_SN = -112,        /* sn malformed or out of order */
	HC_EKERI_DUPLICITY = -113, /* same sn as an accepted event, another SAID */
	HC_EKERI_STALE = -114,     /* (internal: resolved to duplicate or duplicity) */
	HC_EKERI_NEXT = -115,      /* new keys do not match the prior next commitment */
	HC_EKERI_WITNESS = -116,   /* b/br/ba/bt rules or witness signatures */
	HC_EKERI_ABANDONED = -117, /* the identifier was abandoned: no more events */
	HC_EKERI_NONTRANS = -118,  /* non-transferable prefix: no more events */
	HC_EKERI_ESTONLY = -119,   /* EO: interaction events are not allowed */
	HC_EKERI_TRAIT = -120,     /* an unknown or duplicated config trait */
	HC_EKERI_CESR = -121,      /* unknown or unsupported CESR code, bad base64 */
	HC_EKERI_PAD = -122,       /* non-zero pad bits in a qb64 primitive */
	HC_EKERI_TRUNCATED = -123, /* input ends inside an event or attachment */
	HC_EKERI_LIMIT = -124,     /* more keys, witnesses or signatures than supported */
	HC_EKERI_STATE = -125,     /* a stored key state does not decode */
	HC_EKERI_NOSTATE = -127    /* no state for a non-inception event, or icp again */
};

/* Largest key, in bytes. */
#define HC_KEY_MAX 1024u
#define HC_PATH_MAX 1024u

enum hc_backing_mode {
	HC_BACKING_NONE = 0,   /* cache only: puts install, misses are HC_ENOTFOUND */
	HC_BACKING_ROCKSDB = 1 /* write through to RocksDB */
};

enum hc_durability {
	HC_DURABILITY_SYNC = 0, /* fsync'd WAL before a write returns */
	HC_DURABILITY_WAL = 1,  /* WAL written, not synced: survives a process crash */
	HC_DURABILITY_NONE = 2  /* no WAL */
};

/*
 * Options. Fill with hc_config_default(), then change fields directly, through
 * hc_config_set() ("section.key", value) or from a file with hc_config_load().
 * The README documents every key, its units and its range. New fields go at the end.
 */
struct hc_config {
	uint64_t memory_limit;  /* cache.memory_limit: bytes for the whole cache */
	uint32_t shards;        /* cache.shards: power of two, 0 = auto */
	uint64_t max_entry;     /* cache.max_entry: larger values are not cached */
	uint64_t expected_entries; /* cache.expected_entries: initial map size hint */
	int backing_mode;       /* backing.mode: enum hc_backing_mode */
	char backing_path[HC_PATH_MAX]; /* backing.path */
	int durability;         /* backing.durability: enum hc_durability */
	uint64_t block_cache;   /* backing.block_cache: RocksDB block cache bytes */
	uint64_t write_buffer;  /* backing.write_buffer: RocksDB memtable bytes */
	int create_if_missing;  /* backing.create: create the store if absent */
	char key_file[HC_PATH_MAX]; /* crypto.key_file: 32-byte data key */
};

typedef struct hc_cache hc_cache;

/* Counters summed over every thread; a snapshot, not an atomic cut. */
struct hc_stats {
	uint64_t hits;           /* hc_get/hc_read served from memory */
	uint64_t misses;         /* not in memory */
	uint64_t inserts;        /* entries installed */
	uint64_t evictions;      /* entries evicted by the policy */
	uint64_t deletes;        /* entries removed by hc_delete or replaced */
	uint64_t not_cached;     /* values stored but not cached (oversize, pressure) */
	uint64_t loads;          /* misses loaded from the backing store */
	uint64_t load_waits;     /* misses that waited for another thread's load */
	uint64_t corrupt;        /* records at rest that failed to open */
	uint64_t entries;        /* entries in memory now */
	uint64_t accounted_bytes; /* entry bytes + metadata + retired bytes */
	uint64_t retired_bytes;  /* removed but awaiting reclamation */
	uint64_t metadata_bytes; /* map buckets and shard structures */
	uint64_t memory_limit;   /* cache.memory_limit */
	uint64_t slack_bytes;    /* documented bound on accounted - limit */
	uint32_t shards;
	/* Reclamation polls given up because membarrier failed (then retired bytes stop
	 * shrinking and puts end in HC_EBUSY naming the errno). */
	uint64_t reclaim_failures;
};

struct hc_shard_stats {
	uint64_t hits, misses, inserts, evictions;
	uint64_t entries;
	uint64_t bytes;          /* entry bytes accounted to the shard */
	uint64_t budget;         /* the shard's share of the limit */
	uint64_t small_entries;  /* entries in the probation queue */
	uint64_t main_entries;   /* entries in the protected queue */
};

/* hc_read's callback: val is valid only during the call. */
typedef void (*hc_read_fn)(const void *val, size_t vlen, void *arg);

/*
 * The library's version as "MAJOR.MINOR.PATCH"; each non-NULL pointer receives its
 * part (LMDB's mdb_version). Any thread; no lock, no allocation.
 */
HC_EXPORT const char *hc_version(int *major, int *minor, int *patch);

/* The name of a code ("HC_ENOMEM: out of memory"); never NULL. */
HC_EXPORT const char *hc_strerror(int code);
/* The calling thread's last error sentence, or "" if none. */
HC_EXPORT const char *hc_last_error(void);

/* Fills cfg with defaults. Any thread. */
HC_EXPORT void hc_config_default(struct hc_config *cfg);
/*
 * Reads an INI file into cfg. Unknown keys, bad units and out-of-range values fail with
 * HC_ECONFIG and a sentence naming file:line and the allowed range (also in err when
 * err != NULL). On failure cfg is unchanged.
 */
HC_EXPORT HC_NODISCARD int hc_config_load(struct hc_config *cfg, const char *path,
                                          char *err, size_t errlen);
/* Sets one "section.key" to a value given as text, with the file's rules. */
HC_EXPORT HC_NODISCARD int hc_config_set(struct hc_config *cfg, const char *key,
                                         const char *value, char *err, size_t errlen);

/* Opens a cache. On failure *out is NULL and nothing is left open. */
HC_EXPORT HC_NODISCARD int hc_open(const struct hc_config *cfg, hc_cache **out);
/* Flushes and frees everything. No other call may run on the cache during or after. */
HC_EXPORT void hc_close(hc_cache *cache);

/*
 * Stores val under key. With a backing store the value is sealed and written with the
 * configured durability before it is installed in memory; it returns only once
 * durable. Values larger than cache.max_entry are stored but not cached.
 * Errors: HC_EINVAL (NULL, klen 0 or > HC_KEY_MAX), HC_ENOMEM, HC_EIO, HC_EREADONLY.
 */
HC_EXPORT HC_NODISCARD int hc_put(hc_cache *cache, const void *key, size_t klen,
                                  const void *val, size_t vlen);
/*
 * Copies the value into buf. HC_ERANGE with *vlen set when cap is too small (nothing
 * copied). A miss loads from the backing store; concurrent misses on one key share
 * one load. HC_ENOTFOUND when there is no value.
 */
HC_EXPORT HC_NODISCARD int hc_get(hc_cache *cache, const void *key, size_t klen,
                                  void *buf, size_t cap, size_t *vlen);
/* Zero copy: fn(val, vlen, arg) runs with a pointer valid only during the call. */
HC_EXPORT HC_NODISCARD int hc_read(hc_cache *cache, const void *key, size_t klen,
                                   hc_read_fn fn, void *arg);
/*
 * Batched zero-copy reads: for each i < n, fn(i, status, val, vlen, arg) runs once, with
 * status 0 and the value (valid only during the call), or with status < 0 (then val is
 * NULL): HC_ENOTFOUND, HC_EINVAL for a bad key, or a load's error. Hashes every key and
 * prefetches buckets and entries before comparing, which hides DRAM latency when the
 * working set is larger than the CPU caches. Returns 0 (per-key outcomes go to fn), or
 * HC_EINVAL / HC_ENOMEM for the call itself. Misses load like hc_read.
 */
typedef void (*hc_batch_fn)(size_t i, int status, const void *val, size_t vlen, void *arg);
HC_EXPORT HC_NODISCARD int hc_read_batch(hc_cache *cache, size_t n, const void *const *keys,
                                         const size_t *klens, hc_batch_fn fn, void *arg);

/* Durable delete, then removal from memory. HC_OK even if the key was absent. */
HC_EXPORT HC_NODISCARD int hc_delete(hc_cache *cache, const void *key, size_t klen);

/* ---- KERI: key event logs and key state -------------------------------------------- */

#define HC_KERI_QB64 44
#define HC_KERI_MAX_KEYS 32
#define HC_KERI_MAX_WITS 32

/* An identifier's current key state (the fields of keripy's KeyStateRecord). */
struct hc_keystate {
	char prefix[HC_KERI_QB64 + 1];   /* i */
	uint64_t sn;                     /* s */
	char said[HC_KERI_QB64 + 1];     /* d: SAID of the last event */
	char prior[HC_KERI_QB64 + 1];    /* p */
	char ilk[4];                     /* et: icp, rot or ixn */
	char dt[40];                     /* when the last event was first seen (ISO-8601) */
	char kt[256], nt[256];           /* thresholds as JSON text ("1", ["1/2","1/2"]) */
	uint32_t nkeys, nnext, nwits;
	char keys[HC_KERI_MAX_KEYS][HC_KERI_QB64 + 1];  /* k */
	char next[HC_KERI_MAX_KEYS][HC_KERI_QB64 + 1];  /* n: digests of the next keys */
	uint32_t bt;
	char wits[HC_KERI_MAX_WITS][HC_KERI_QB64 + 1];  /* b */
	uint64_t est_sn;                 /* ee.s: last establishment event */
	char est_said[HC_KERI_QB64 + 1]; /* ee.d */
};

/* What happened to one message of a stream. */
enum hc_kel_outcome {
	HC_KEL_ACCEPTED = 0,  /* validated, stored, state updated */
	HC_KEL_DUPLICATE = 1, /* the same event was already accepted: no change */
	HC_KEL_RECEIPT = 2,   /* an rct receipt: recognised and skipped */
	HC_KEL_REJECTED = 3   /* refused: code and why say which rule */
};

struct hc_kel_event {
	size_t offset, len;   /* where the message stands in the stream */
	int outcome;          /* enum hc_kel_outcome */
	int code;             /* 0 or the HC_EKERI_* rejection */
	const char *prefix;   /* "" when the message did not parse that far */
	uint64_t sn;
	const char *ilk;
	const char *why;      /* the rejection's sentence, "" otherwise */
};

struct hc_kel_report {
	uint64_t messages, accepted, duplicates, receipts, rejected;
	int first_error;          /* 0 or the first rejection's code */
	size_t first_error_offset;
	/* Optional, set by the caller: called once per message, in stream order. */
	void (*on_event)(const struct hc_kel_event *ev, void *arg);
	void *arg;
};

/*
 * Appends one KERI message (a v1 JSON event and its CESR attachments) at msg: parses
 * it, validates it against the identifier's current state (loaded from the store on a
 * miss), writes the event and the new state in one RocksDB batch with the configured
 * durability, then installs the state in memory. *consumed is set to the message's
 * length whenever it could be determined (so a stream can go on past a rejection).
 * Returns 0 for an accepted event, a duplicate (no change) or a receipt (skipped);
 * an HC_EKERI_* code for a rejection (nothing changed); HC_ENOTSUP without a backing
 * store. Appends to one identifier are serialised: two racing appends of one sn, one
 * wins, the other gets HC_EKERI_DUPLICITY (different event) or succeeds as a duplicate.
 */
HC_EXPORT HC_NODISCARD int hc_kel_append(hc_cache *cache, const void *msg, size_t len,
                                         size_t *consumed);
/*
 * Appends every message of a CESR stream (what keripy exports), in order, going on
 * past rejected ones where their extent is known. Fills *report (its on_event, when
 * set, sees each message). Returns 0 when nothing was rejected, else the first
 * rejection's code; HC_EKERI_TRUNCATED when the stream ends inside a message.
 */
HC_EXPORT HC_NODISCARD int hc_kel_import(hc_cache *cache, const void *stream, size_t len,
                                         struct hc_kel_report *report);
/* The current key state of prefix (44-character qb64). HC_ENOTFOUND if unknown. */
HC_EXPORT HC_NODISCARD int hc_keystate_get(hc_cache *cache, const char *prefix,
                                           struct hc_keystate *state);
/*
 * keripy's KeyStateRecord JSON for prefix, compact, one line, NUL-terminated. HC_ERANGE
 * with *len = the size needed (without the NUL) when cap is too small.
 */
HC_EXPORT HC_NODISCARD int hc_keystate_json(hc_cache *cache, const char *prefix, char *buf,
                                            size_t cap, size_t *len);
/*
 * Replays prefix's whole stored KEL from inception, verifying every event and
 * signature again, and compares the result with the stored state. Returns 0 when they
 * agree (*events = events replayed), HC_ECORRUPT when they do not (the sentence says
 * where), or the first event's rejection.
 */
HC_EXPORT HC_NODISCARD int hc_kel_verify(hc_cache *cache, const char *prefix,
                                         uint64_t *events);

/* Sums the counters. */
HC_EXPORT HC_NODISCARD int hc_stats(hc_cache *cache, struct hc_stats *stats);
/* One shard's figures; HC_EINVAL when shard >= stats.shards. */
HC_EXPORT HC_NODISCARD int hc_shard_stats(hc_cache *cache, unsigned shard,
                                          struct hc_shard_stats *stats);
/* Releases the calling thread's registration now instead of at thread exit. From
 * inside an hc_read / hc_read_batch callback it does nothing (the thread stays
 * registered; hc_last_error says so): call it again after the read returns. */
HC_EXPORT void hc_thread_detach(hc_cache *cache);

#ifdef __cplusplus
}
#endif
#endif /* HOTCACHE_H */
