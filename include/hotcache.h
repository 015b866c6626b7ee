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
 *
 * ABI: the library's soname is libhotcache.so.1 for every 0.x release from 0.2.0 on. Every public struct begins with `uint32_t size` and only ever grows at its end.
 * The macros below with the functions' design names (hc_config_default, hc_stats,
 * hc_shard_stats, hc_keystate_get, hc_kel_import) pass sizeof the struct as this header
 * declares it to the *_sized entry points, so a program compiled against an older
 * header keeps working with a newer library: fields it does not know take their
 * defaults and are never written. A newer program on an older library works too as long
 * as it leaves the fields the library does not know at zero (otherwise HC_ENOTSUP).
 * Bindings from other languages call the *_sized functions with their struct's size.
 * Library-owned structs handed to callbacks (struct hc_kel_event) carry the library's
 * size: read a field only when ev->size says it is there.
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
	HC_EREADONLY = -10, /* a sync failed: the store refuses writes until reopened; or the
	                     * store is open read_only or secondary (backing.open) */
	HC_ENOTSUP = -11,   /* not supported by this build or mode */
	HC_EBUSY = -12,     /* a resource is busy: reclamation is behind, the store is locked */

	/* KERI rejections (hc_kel_append, hc_kel_import): one code per rule; the
	 * sentence in hc_last_error() names the rule and the field. */
	HC_EKERI_VERSION = -100,   /* version string not KERI10JSON<6 hex>_ */
	HC_EKERI_SIZE = -101,      /* declared size differs from the event's length */
	HC_EKERI_JSON = -102,      /* not canonical compact JSON */
	HC_EKERI_FIELD_ORDER = -103, /* a field missing, extra or out of the ilk's order */
	HC_EKERI_ILK = -104,       /* an unknown ilk */
	HC_EKERI_ILK_UNSUPPORTED = -105, /* reserved (dip/drt before delegation was supported) */
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
	HC_EKERI_NOSTATE = -127,   /* no state for a non-inception event, or icp again */
	HC_EKERI_DELEGATION = -128, /* dip/drt: the delegator's anchoring event ({i,s,d} seal
	                              in its `a`) is not in this cache, or the delegator has
	                              DND, or a delegated identifier used rot, not drt */
	/* -129 is unused. The two below are also the reasons of an escrowed event or
	 * receipt (HC_KEL_ESCROWED). */
	HC_EKERI_UNWITNESSED = -130, /* fewer than bt verified witness signatures */
	HC_EKERI_UNSEEN = -131     /* a receipt of an event not accepted (yet) */
};

/* Largest key, in bytes. */
#define HC_KEY_MAX 1024u
/* keri.own / keri.witness: at most this many prefixes each, as "P1,P2,..." text. */
#define HC_KERI_LOCAL_MAX 32u
#define HC_KERI_LOCAL_TEXT (HC_KERI_LOCAL_MAX * 45u)
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

/* backing.open: how the store is opened. Only a primary writes or creates a store. */
enum hc_open_mode {
	HC_OPEN_PRIMARY = 0,   /* read-write, takes the store's lock */
	HC_OPEN_READ_ONLY = 1, /* no lock, the store as it was at open; writes: HC_EREADONLY */
	HC_OPEN_SECONDARY = 2  /* no lock, beside a live primary (RocksDB secondary): the
	                        * store as of the open; writes: HC_EREADONLY */
};

/* backing.log_level: RocksDB's info log. NONE writes nothing (the LOG file may exist,
 * empty). */
enum hc_store_log_level {
	HC_STORE_LOG_NONE = 0,
	HC_STORE_LOG_FATAL = 1,
	HC_STORE_LOG_ERROR = 2,
	HC_STORE_LOG_WARN = 3,
	HC_STORE_LOG_INFO = 4,
	HC_STORE_LOG_DEBUG = 5
};

/* Levels of what the library reports through hc_config.log_fn. */
enum hc_log_level {
	HC_LOG_ERROR = 0, /* an operation failed in a way the caller's return code alone
	                   * does not explain (e.g. the store turned read-only) */
	HC_LOG_WARN = 1,  /* something degraded but still working */
	HC_LOG_INFO = 2,  /* a one-time event worth keeping (a new data key was created) */
	HC_LOG_DEBUG = 3
};

/*
 * The log callback: level (enum hc_log_level), one line of text without a newline
 * (valid only during the call), and hc_config.log_arg. It may run on any thread that
 * calls into the library, inside hc_open or any call, so it must be thread-safe, must
 * not block for long and must not call back into the same cache.
 */
typedef void (*hc_log_fn)(int level, const char *msg, void *arg);

/*
 * Options. Fill with hc_config_default(), then change fields directly, through
 * hc_config_set() ("section.key", value) or from a file with hc_config_load().
 * The README documents every key, its units and its range. New fields go at the end.
 */
struct hc_config {
	uint32_t size;          /* sizeof(struct hc_config) of the caller's header: set by
	                         * hc_config_default, do not change it */
	uint64_t memory_limit;  /* cache.memory_limit: bytes for the whole cache */
	uint32_t shards;        /* cache.shards: power of two, 0 = auto */
	uint64_t max_entry;     /* cache.max_entry: larger values are not cached */
	uint64_t expected_entries; /* cache.expected_entries: initial index size hint,
	                            * the policy's ghost size (a slot per two, under
	                            * 12.5% of the limit) and its sketch's width (four
	                            * counters a row each, under 6.25% of the limit);
	                            * README, Memory; with shards 0, at most one
	                            * shard per 1024 of them. No more than the limit
	                            * holds at the least an entry takes (hc_open:
	                            * HC_ECONFIG) */
	int backing_mode;       /* backing.mode: enum hc_backing_mode */
	char backing_path[HC_PATH_MAX]; /* backing.path */
	int durability;         /* backing.durability: enum hc_durability */
	uint64_t block_cache;   /* backing.block_cache: RocksDB block cache bytes */
	uint64_t write_buffer;  /* backing.write_buffer: RocksDB memtable bytes */
	int create_if_missing;  /* backing.create: create the store if absent */
	char key_file[HC_PATH_MAX]; /* crypto.key_file: 32-byte data key */
	/* Fields below were added after the first sized layout; an older caller's struct
	 * lacks them and gets their defaults. A new field never starts inside an older
	 * layout's tail padding (cache/config.c asserts it): a caller may not have kept
	 * its padding bytes at zero. */
	hc_log_fn log_fn;       /* NULL (the default): the library reports nothing by
	                         * itself; it never writes to stderr or stdout */
	void *log_arg;          /* passed to log_fn */
	int open_mode;          /* backing.open: enum hc_open_mode */
	int store_log_level;    /* backing.log_level: enum hc_store_log_level */
	char store_log_dir[HC_PATH_MAX]; /* backing.log_dir: RocksDB's LOG there, not in
	                                  * the store ("" = in the store) */
	int key_file_permissive; /* crypto.key_file_permissive: accept a key file readable
	                          * by group or others */
	/* KERI (issue 10): the escrow's bounds, then the node's own identifiers and its
	 * witness identifiers, each a comma-separated list of 44-character prefixes (at
	 * most HC_KERI_LOCAL_MAX). */
	uint64_t keri_escrow_limit;   /* keri.escrow_limit: bytes of escrowed messages */
	uint64_t keri_escrow_timeout; /* keri.escrow_timeout: seconds an entry may wait */
	char keri_own[HC_KERI_LOCAL_TEXT];     /* keri.own */
	char keri_witness[HC_KERI_LOCAL_TEXT]; /* keri.witness */
};

typedef struct hc_cache hc_cache;

/* Counters summed over every thread; a snapshot, not an atomic cut. */
struct hc_stats {
	uint32_t size;           /* bytes the library filled (<= the caller's struct) */
	uint64_t hits;           /* hc_get/hc_read served from memory */
	uint64_t misses;         /* not in memory */
	uint64_t inserts;        /* entries installed */
	uint64_t evictions;      /* entries evicted by the policy */
	uint64_t deletes;        /* entries removed by hc_delete, replaced, or dropped by a
	                          * write whose new value is not cached */
	uint64_t not_cached;     /* values stored but not cached (oversize, pressure) */
	uint64_t loads;          /* misses loaded from the backing store */
	uint64_t load_waits;     /* misses that waited for another thread's load */
	uint64_t corrupt;        /* records at rest that failed to open */
	uint64_t entries;        /* entries in memory now */
	uint64_t accounted_bytes; /* entry bytes + metadata + retired bytes */
	uint64_t retired_bytes;  /* removed but awaiting reclamation */
	uint64_t metadata_bytes; /* index tables, shard structures, frequency sketches
	                          * and ghosts */
	uint64_t memory_limit;   /* cache.memory_limit */
	uint64_t slack_bytes;    /* how far accounted_bytes, a snapshot taken while
	                          * writers run, may exceed the limit (README, Memory) */
	uint32_t shards;
	uint64_t store_corrupt;  /* RocksDB checksum failures (its "Corruption" errors,
	                          * returned as HC_EIO); `corrupt` counts sealing failures */
	uint64_t store_payload_records;  /* RocksDB's estimates of the records stored, */
	uint64_t store_kel_records;      /* per family (deletions not yet compacted
	                                  * included; kel: every record of the family, so
	                                  * an event's first-seen record, any superseded
	                                  * event, duplicity evidence, escrow entry and
	                                  * the escrow's one layout mark count too) */
	uint64_t store_keystate_records; /* included); 0 without a store */
	uint64_t store_sst_bytes;        /* the store's SST files, every family */
	uint64_t load_not_found; /* loads that found no value in the store */
	uint64_t load_failures;  /* loads that failed (I/O, corrupt record, out of memory) */
	uint64_t load_nanos;     /* time spent in loads, summed over threads (monotonic ns) */
	uint64_t keystate_hits;  /* key-state reads served from memory */
	uint64_t keystate_misses; /* key-state reads loaded from the store (or unknown) */
	uint64_t keystate_entries; /* key states in memory now */
	uint64_t keystate_evictions; /* key states evicted by the policy */
	/* Reclamation polls given up because membarrier failed (then retired bytes stop
	 * shrinking and puts end in HC_EBUSY naming the errno). */
	uint64_t reclaim_failures;
	/* KERI escrow (keri.escrow_limit, keri.escrow_timeout): counters since hc_open,
	 * then levels read from the store's escrow. */
	uint64_t escrowed;       /* events and receipts put in the escrow */
	uint64_t promoted;       /* escrowed events accepted, receipts stored, later */
	uint64_t expired;        /* dropped after keri.escrow_timeout */
	uint64_t escrow_evicted; /* dropped, oldest first, to stay within escrow_limit */
	uint64_t escrow_bytes;   /* bytes escrowed now (<= keri.escrow_limit) */
	uint64_t escrow_entries; /* entries escrowed now */
	/* Writers' costs, since hc_open (the mixed workload's figures; issue 14): */
	uint64_t reclaim_barriers; /* reclamation polls that ran the process-wide barrier
	                            * (membarrier, an IPI to every CPU running the process) */
	uint64_t write_waits;      /* writes that waited for reclamation before installing */
	uint64_t write_wait_nanos; /* time in those waits, summed over threads */
	uint64_t shard_locks;      /* shard mutex acquisitions by writers and loaders */
	uint64_t shard_lock_wait_nanos; /* time waiting for those (trylock failed) */
	uint64_t shard_lock_hold_nanos; /* time holding them */
	/* Read sections (README, Configuration): 1 while they take a fence and polls skip
	 * the barrier (the choice each cache makes as it runs, or HC_NO_MEMBARRIER), 0
	 * while they go without; and the switches between the two since hc_open. The
	 * key-state cache's count is added; its mode is its own. */
	uint64_t reclaim_fenced;
	uint64_t reclaim_mode_switches;
};

struct hc_shard_stats {
	uint32_t size;           /* bytes the library filled (<= the caller's struct) */
	uint64_t hits, misses, inserts, evictions;
	uint64_t entries;
	uint64_t bytes;          /* entry bytes accounted to the shard */
	uint64_t budget;         /* what the shard's entries and index table may take: its
	                          * share of the limit less the room kept for retired
	                          * bytes (an eighth, or one max_entry) and less its
	                          * frequency sketch and ghost */
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

/*
 * Fills cfg (size bytes: the caller's sizeof(struct hc_config)) with defaults and sets
 * cfg->size. Returns 0, or HC_EINVAL for a NULL cfg or a size no hotcache.h declared.
 * Call it as hc_config_default(&cfg). Any thread.
 */
HC_EXPORT int hc_config_default_sized(struct hc_config *cfg, size_t size);
#define hc_config_default(cfg) hc_config_default_sized((cfg), sizeof(struct hc_config))
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
 * Errors: HC_EINVAL (cache or key NULL, klen 0 or > HC_KEY_MAX, val NULL with vlen > 0,
 * vlen > UINT32_MAX, or vlen > cache.max_entry with backing.mode = none), HC_ENOMEM,
 * HC_EBUSY (cache-only: see README), HC_EIO, HC_EREADONLY. Nothing changed on any.
 */
HC_EXPORT HC_NODISCARD int hc_put(hc_cache *cache, const void *key, size_t klen,
                                  const void *val, size_t vlen);
/*
 * Copies the value into buf. HC_ERANGE with *vlen set when cap is too small (nothing
 * copied; a miss still installs what it loaded, so a retry with cap >= *vlen is a hit).
 * A miss loads from the backing store; concurrent misses on one key share one load.
 * HC_ENOTFOUND when there is no value.
 */
HC_EXPORT HC_NODISCARD int hc_get(hc_cache *cache, const void *key, size_t klen,
                                  void *buf, size_t cap, size_t *vlen);
/* Zero copy: fn(val, vlen, arg) runs with a pointer valid only during the call. */
HC_EXPORT HC_NODISCARD int hc_read(hc_cache *cache, const void *key, size_t klen,
                                   hc_read_fn fn, void *arg);
/*
 * Batched zero-copy reads: for each i < n, fn(i, status, val, vlen, arg) runs once, with
 * status 0 and the value (valid only during the call), or with status < 0 (then val is
 * NULL): HC_ENOTFOUND, HC_EINVAL for a bad key, or a load's error (for the last two,
 * hc_last_error() in that call says what went wrong with key i). Hashes every key and
 * prefetches index groups and entries before comparing, which hides DRAM latency when the
 * working set is larger than the CPU caches. Returns 0 (per-key outcomes go to fn), or
 * HC_EINVAL / HC_ENOMEM for the call itself. Misses load like hc_read.
 * Order: fn is not called in index order. Keys are taken in groups of 16; within a
 * group, the hits are delivered first (ascending i), then the bad keys and the misses
 * (ascending i, each miss after its load). Use i, not the call order, to place results.
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
/*
 * Room for a threshold's JSON text and its NUL. The longest is HC_KERI_MAX_KEYS
 * weights of the longest fraction hotcache accepts, "4294967294/4294967295"
 * (numerator and denominator below 2^32; keripy's nested weight maps are refused), in
 * the nested form with every weight its own clause: 23 characters per quoted weight,
 * 2 brackets per clause, 31 commas between weights and 2 outer brackets:
 * 23 * 32 + 2 * 32 + 31 + 2 = 833 characters, plus the NUL.
 */
#define HC_KERI_SITH_MAX 834

/* An identifier's current key state (the fields of keripy's KeyStateRecord). */
struct hc_keystate {
	uint32_t size;                   /* bytes the library filled */
	char prefix[HC_KERI_QB64 + 1];   /* i */
	uint64_t sn;                     /* s */
	char said[HC_KERI_QB64 + 1];     /* d: SAID of the last event */
	char prior[HC_KERI_QB64 + 1];    /* p */
	char ilk[4];                     /* et: icp, rot, ixn, dip or drt */
	char dt[40];                     /* when the last event was first seen (ISO-8601) */
	char kt[HC_KERI_SITH_MAX], nt[HC_KERI_SITH_MAX]; /* thresholds as JSON text ("1",
	                                                    ["1/2","1/2"]) */
	uint32_t nkeys, nnext, nwits;
	char keys[HC_KERI_MAX_KEYS][HC_KERI_QB64 + 1];  /* k */
	char next[HC_KERI_MAX_KEYS][HC_KERI_QB64 + 1];  /* n: digests of the next keys */
	uint32_t bt;
	char wits[HC_KERI_MAX_WITS][HC_KERI_QB64 + 1];  /* b */
	uint64_t est_sn;                 /* ee.s: last establishment event */
	char est_said[HC_KERI_QB64 + 1]; /* ee.d */
	/* Since 0.2 with delegation (a caller's struct that ends above has none of these): */
	char reserved0[3];               /* zero; keeps di out of the first layout's padding */
	char di[HC_KERI_QB64 + 1];       /* the delegator's prefix, "" when not delegated */
};

/* What happened to one message of a stream. */
enum hc_kel_outcome {
	HC_KEL_ACCEPTED = 0,  /* validated, stored, state updated */
	HC_KEL_DUPLICATE = 1, /* the same event was already accepted: no change */
	HC_KEL_RECEIPT = 2,   /* an rct receipt: its verified signatures stored */
	HC_KEL_REJECTED = 3,  /* refused: code and why say which rule */
	HC_KEL_ESCROWED = 4   /* kept in the escrow until what it lacks arrives: code is
	                       * the reason (HC_EKERI_SN out of order, HC_EKERI_THRESHOLD
	                       * partially signed, HC_EKERI_UNWITNESSED partially
	                       * witnessed, HC_EKERI_UNSEEN a receipt of an unseen event) */
};

struct hc_kel_event {
	uint32_t size;        /* the library's sizeof: fields beyond it are not there */
	size_t offset, len;   /* where the message stands in the stream */
	int outcome;          /* enum hc_kel_outcome */
	int code;             /* 0 or the HC_EKERI_* rejection */
	const char *prefix;   /* "" when the message did not parse that far */
	uint64_t sn;
	const char *ilk;
	const char *why;      /* the rejection's or the escrow's sentence, a receipt's
	                       * ("receipt stored: 2 signature(s)"), else "" */
};

struct hc_kel_report {
	uint32_t size;            /* set by hc_kel_import (the caller's sizeof) */
	uint64_t messages, accepted, duplicates, receipts, rejected;
	int first_error;          /* 0 or the first rejection's code */
	size_t first_error_offset;
	/* Optional, set by the caller: called once per message, in stream order. */
	void (*on_event)(const struct hc_kel_event *ev, void *arg);
	void *arg;
	uint64_t escrowed;        /* messages put in the escrow (HC_KEL_ESCROWED) */
	uint64_t promoted;        /* escrowed messages accepted during this import */
};

/*
 * Appends one KERI message (a v1 JSON event and its CESR attachments) at msg: parses
 * it, validates it against the identifier's current state (loaded from the store on a
 * miss), writes the event and the new state in one RocksDB batch with the configured
 * durability, then installs the state in memory. *consumed is set to the message's
 * length whenever it could be determined (so a stream can go on past a rejection).
 * Returns 0 for an accepted event (a recovery rotation included: a rot after the last
 * establishment event at or below the current sn supersedes the interaction events
 * from its sn on, as keripy's Kever.rotate; README "KERI: recovery, ..."), a duplicate
 * (no change; an event a recovery superseded, seen again, too) or a receipt (its
 * verified signatures stored); an HC_EKERI_* code for a rejection (nothing changed);
 * for a message put in the escrow (README: KERI semantics) its reason code
 * (HC_EKERI_SN, HC_EKERI_THRESHOLD, HC_EKERI_UNWITNESSED, HC_EKERI_UNSEEN) with a
 * sentence starting "escrowed:" or "receipt escrowed:"; HC_ENOTSUP without a backing
 * store. An accepted event or a stored receipt retries the escrowed messages it may
 * complete, in this thread, before the call returns. Appends to one identifier are
 * serialised: two racing appends of one sn, one wins, the other gets
 * HC_EKERI_DUPLICITY (different event) or succeeds as a duplicate.
 * A dip, or a drt of a delegated identifier, is accepted only once its delegator's KEL
 * in this cache anchors it (README, "KERI semantics: delegation"); until then it is
 * escrowed with reason HC_EKERI_DELEGATION and promoted when the delegator's anchoring
 * event is accepted (a DND delegator, or a rot of a delegated identifier, is refused
 * with the same code, and not escrowed).
 */
HC_EXPORT HC_NODISCARD int hc_kel_append(hc_cache *cache, const void *msg, size_t len,
                                         size_t *consumed);
/*
 * Appends every message of a CESR stream (what keripy exports), in order, going on
 * past rejected ones where their extent is known. Fills *report (its on_event, when
 * set, sees each message). Returns 0 when nothing was rejected (escrowed messages are
 * not rejections), else the first rejection's code; HC_EKERI_TRUNCATED when the
 * stream ends inside a message.
 */
HC_EXPORT HC_NODISCARD int hc_kel_import_sized(hc_cache *cache, const void *stream,
                                               size_t len, struct hc_kel_report *report,
                                               size_t size);
#define hc_kel_import(cache, stream, len, report) \
	hc_kel_import_sized((cache), (stream), (len), (report), sizeof(struct hc_kel_report))
/* The current key state of prefix (44-character qb64). HC_ENOTFOUND if unknown;
 * HC_ECORRUPT when the stored state is not the one its KEL ends with (a record
 * restored from an older copy: hc_kel_repair rebuilds it; appends are refused alike).
 * size is the caller's sizeof(struct hc_keystate): use the macro hc_keystate_get. */
HC_EXPORT HC_NODISCARD int hc_keystate_get_sized(hc_cache *cache, const char *prefix,
                                                 struct hc_keystate *state, size_t size);
#define hc_keystate_get(cache, prefix, state) \
	hc_keystate_get_sized((cache), (prefix), (state), sizeof(struct hc_keystate))
/*
 * keripy's KeyStateRecord JSON for prefix, compact, one line, NUL-terminated. HC_ERANGE
 * with *len = the size needed (without the NUL) when cap is too small.
 */
HC_EXPORT HC_NODISCARD int hc_keystate_json(hc_cache *cache, const char *prefix, char *buf,
                                            size_t cap, size_t *len);
/*
 * Replays every event prefix ever accepted, in first-seen order (so a recovery rotation
 * supersedes its interaction events as it did when it arrived), verifying every event
 * and controller signature again (witness signatures are not re-counted against bt: an
 * event of a local identifier was accepted without them), and compares the result, fn
 * and dt included, with the stored state. Returns 0 when they agree (*events = events
 * replayed, superseded ones included), HC_ECORRUPT when they do not (the sentence says
 * where), or the first event's rejection. It reads the stored state itself, so it works
 * on a state that hc_keystate_get refuses as rolled back.
 */
HC_EXPORT HC_NODISCARD int hc_kel_verify(hc_cache *cache, const char *prefix,
                                         uint64_t *events);
/*
 * hc_kel_verify, then, when only the stored state differs from the replay (a record
 * restored from an older copy, say: hc_keystate_get refuses such a state with
 * HC_ECORRUPT), rewrites the stored state from the replay and installs it in memory.
 * *rewritten (when non-NULL) is 1 when it did, 0 when the state already agreed. A KEL
 * whose events fail the replay is not repaired (that rejection is returned). Appends to
 * prefix wait for it. Any thread; blocking (the replay and one write).
 */
HC_EXPORT HC_NODISCARD int hc_kel_repair(hc_cache *cache, const char *prefix,
                                         uint64_t *events, int *rewritten);
/*
 * Signed duplicity evidence kept for prefix: fn(sn, held, hlen, other, olen, arg) once
 * per conflicting event recorded (in sn order, then by the conflicting SAID), with held
 * the event accepted at sn when the conflict arrived and other the conflicting one,
 * each as received with its signatures (so a watcher can hand both on: both verify
 * against the keys that governed sn). Only an authentic conflict (HC_EKERI_DUPLICITY)
 * is recorded. A non-zero return from fn stops the walk and is returned; *count (when
 * non-NULL) gets the pairs fn took. 0 with *count 0 when there is none; HC_ENOTSUP
 * without a store. Any thread; reads RocksDB.
 */
typedef int (*hc_kel_duplicity_fn)(uint64_t sn, const void *held, size_t hlen,
                                   const void *other, size_t olen, void *arg);
HC_EXPORT HC_NODISCARD int hc_kel_duplicity(hc_cache *cache, const char *prefix,
                                            hc_kel_duplicity_fn fn, void *arg,
                                            uint64_t *count);

/*
 * The node's own identifiers (own: those it controls or is a group member of) and its
 * witness identifiers (wit): keripy's locallyOwned, locallyMembered and
 * locallyWitnessed. An event of an identifier in either list, or whose witness list
 * names one in either list, is accepted without waiting for bt witness receipts; every
 * other identifier is remote and must meet bt. A receipt signed by one of these
 * prefixes from a stream is skipped (keripy skips a remote copy of its own receipt).
 * Replaces the lists given by keri.own / keri.witness or an earlier call; each prefix
 * is 44 qb64 characters, at most HC_KERI_LOCAL_MAX per list (HC_EINVAL otherwise,
 * nothing changed). Any thread; appends running meanwhile see the old or new lists.
 */
HC_EXPORT HC_NODISCARD int hc_kel_set_local(hc_cache *cache, const char *const *own,
                                            size_t n_own, const char *const *wit,
                                            size_t n_wit);

/* One verified receipt of an event, handed to hc_kel_receipts' callback. */
enum hc_kel_receipt_kind {
	HC_RECEIPT_WITNESS = 0,   /* a witness of the event (-B, or a -C couple of one) */
	HC_RECEIPT_NONTRANS = 1,  /* another non-transferable receiptor (-C), a watcher */
	HC_RECEIPT_TRANS = 2      /* a transferable receiptor (-D, -F): est_sn, est_said */
};
struct hc_kel_receipt {
	uint32_t size;          /* the library's sizeof */
	int kind;               /* enum hc_kel_receipt_kind */
	const char *receiptor;  /* the signer's prefix (the witness's, for a witness) */
	uint32_t index;         /* witness: its index in the event's witness list;
	                         * trans: the key index in the receiptor's est event */
	const char *signature;  /* qb64: an indexed signature (witness, trans) or 0B */
	uint64_t est_sn;        /* trans only: the receiptor's establishment event */
	const char *est_said;   /* trans only; "" otherwise */
};
/*
 * Calls fn once per verified receipt stored for prefix's accepted event at sn (witness
 * receipts first, by witness prefix, then the others), with the pointers valid only
 * during the call. A non-zero return from fn stops and is returned. *count (when
 * non-NULL) gets the receipts fn took. HC_ENOTFOUND when no event is accepted at sn,
 * HC_ENOTSUP without a store. Any thread; reads RocksDB.
 */
typedef int (*hc_kel_receipt_fn)(const struct hc_kel_receipt *r, void *arg);
HC_EXPORT HC_NODISCARD int hc_kel_receipts(hc_cache *cache, const char *prefix, uint64_t sn,
                                           hc_kel_receipt_fn fn, void *arg, uint64_t *count);

/*
 * Online backup: a consistent copy of the store in the new directory dir (it must not
 * exist), taken while every other call goes on; every write acknowledged before the call
 * began is in it (the memtables are flushed; SST files are hard-linked where the file
 * system allows). The data key is not copied unless key_file is non-NULL: then it is
 * written there as a new file with mode 0600. Open the copy like any store
 * (backing.path = dir, crypto.key_file = key_file or the original key). HC_EEXIST when
 * dir or key_file exists, HC_ENOTSUP without a store, HC_EIO with RocksDB's text.
 * Any thread; blocks for the flush and the copy.
 */
HC_EXPORT HC_NODISCARD int hc_checkpoint(hc_cache *cache, const char *dir,
                                         const char *key_file);

/*
 * Exports prefix's stored KEL as a CESR stream, the form hc_kel_import and keripy's
 * Kevery ingest: fn(msg, len, arg) once per event of the accepted branch, in sn order
 * (events a recovery rotation superseded are not exported; importing the stream gives
 * the same keys, sn and SAID, fn then counts only these events), each event with
 * the attachments it was accepted with (controller and witness signatures); msg is
 * valid only during the call. A non-zero return from fn stops the export and is
 * returned. *events (when non-NULL) gets the number of events fn took (returned 0 for). HC_ENOTFOUND
 * when no KEL is stored for prefix, HC_ENOTSUP without a store. Any thread.
 */
typedef int (*hc_kel_export_fn)(const void *msg, size_t len, void *arg);
HC_EXPORT HC_NODISCARD int hc_kel_export(hc_cache *cache, const char *prefix,
                                         hc_kel_export_fn fn, void *arg, uint64_t *events);

/*
 * hc_kel_export in first-seen order, superseded events included: every event prefix
 * accepted, as received, in the order it was accepted (the first-seen log, keripy's
 * .fels), so an import of the stream into an empty store meets the same recovery
 * rotations and reaches the same state, fn included. *events gets the events fn took.
 * HC_ENOTFOUND when no KEL is stored for prefix, HC_ENOTSUP without a store. Any thread.
 */
HC_EXPORT HC_NODISCARD int hc_kel_export_first_seen(hc_cache *cache, const char *prefix,
                                                    hc_kel_export_fn fn, void *arg,
                                                    uint64_t *events);

/*
 * Calls fn(prefix, arg) for every identifier with a stored key state, in the store's key
 * order, from a consistent snapshot; prefix (44 characters, NUL-terminated) is valid
 * only during the call. A non-zero return from fn stops the walk and is returned;
 * *count (when non-NULL) gets the identifiers handed out. HC_ENOTSUP without a store.
 * Any thread; reads RocksDB, not the cache.
 */
typedef int (*hc_prefix_fn)(const char *prefix, void *arg);
HC_EXPORT HC_NODISCARD int hc_keystate_foreach(hc_cache *cache, hc_prefix_fn fn, void *arg,
                                               uint64_t *count);

/* Sums the counters into stats (size: the caller's sizeof; use the macro hc_stats). */
HC_EXPORT HC_NODISCARD int hc_stats_sized(hc_cache *cache, struct hc_stats *stats,
                                          size_t size);
#define hc_stats(cache, stats) hc_stats_sized((cache), (stats), sizeof(struct hc_stats))
/* One shard's figures; HC_EINVAL when shard >= stats.shards. */
HC_EXPORT HC_NODISCARD int hc_shard_stats_sized(hc_cache *cache, unsigned shard,
                                                struct hc_shard_stats *stats, size_t size);
#define hc_shard_stats(cache, shard, stats) \
	hc_shard_stats_sized((cache), (shard), (stats), sizeof(struct hc_shard_stats))
/*
 * Metrics, for a daemon to export without knowing struct hc_stats: one record per
 * figure, owned by the library and passed by pointer. Records only ever grow at the end:
 * size is sizeof(struct hc_metric) of the library that filled it, so a caller compiled
 * against an older header reads the fields it knows and a newer one checks size before
 * reading a field added later. Names follow Prometheus (snake_case, "hotcache_" prefix,
 * counters end in _total, units as suffixes: _bytes, _seconds); a metric, once
 * published, keeps its name, type and meaning. labels is NULL or Prometheus label text
 * without braces (hotcache_build_info's version="0.2.0").
 */
enum hc_metric_type {
	HC_METRIC_COUNTER = 0, /* only grows (until hc_open again) */
	HC_METRIC_GAUGE = 1    /* a level now */
};
struct hc_metric {
	uint32_t size;      /* sizeof(struct hc_metric) in the library that filled it */
	const char *name;   /* e.g. "hotcache_hits_total" */
	const char *help;   /* one line, no newline */
	int type;           /* enum hc_metric_type */
	const char *labels; /* NULL, or label pairs without braces */
	double value;       /* integers up to 2^53 exactly */
};
/*
 * Calls fn once per metric, in a fixed order, from one snapshot of the counters (taken
 * when the call starts, not an atomic cut across threads). m and its strings are valid
 * only during the call. fn returns 0 to go on; any other value stops the walk and is
 * returned. Which metrics exist depends on the mode: the hotcache_rocksdb_* and
 * hotcache_keystate_* ones only with a backing store. Returns 0, HC_EINVAL (NULL cache
 * or fn), or fn's value. Any thread, concurrently with anything but hc_close; it takes
 * no lock of the cache's (relaxed reads of its counters) and asks RocksDB for its
 * properties; it allocates nothing of its own.
 */
typedef int (*hc_metric_fn)(const struct hc_metric *m, void *arg);
HC_EXPORT int hc_metrics_foreach(hc_cache *cache, hc_metric_fn fn, void *arg);
/*
 * The metrics in Prometheus' text exposition format (version 0.0.4: # HELP, # TYPE and
 * one sample line per metric), NUL-terminated, into buf. *len = the text's length
 * without the NUL. HC_ERANGE when cap is too small: *len is then the length needed (ask
 * again with at least *len + 1 bytes; a counter growing meanwhile can add a few bytes),
 * and buf holds nothing useful. Threads and cost as hc_metrics_foreach.
 */
HC_EXPORT HC_NODISCARD int hc_stats_prometheus(hc_cache *cache, char *buf, size_t cap,
                                               size_t *len);

/*
 * Reads key's value from the backing store, bypassing memory: no lookup, no install, no
 * stats (what a miss costs, for comparisons and audits). Copies into buf as hc_get does:
 * HC_ERANGE with *vlen set when cap is too small. HC_ENOTFOUND, HC_ECORRUPT, HC_EIO as
 * a load; HC_ENOTSUP in cache-only mode. Any thread; blocking (RocksDB's read).
 */
HC_EXPORT HC_NODISCARD int hc_store_get(hc_cache *cache, const void *key, size_t klen,
                                        void *buf, size_t cap, size_t *vlen);
/*
 * One of RocksDB's DB-wide properties by name ("rocksdb.stats", "rocksdb.dbstats",
 * "rocksdb.estimate-num-keys", ...: RocksDB's documentation lists them), as text,
 * NUL-terminated, into buf; *len = its length without the NUL. HC_ERANGE with *len =
 * the length needed when cap is too small; HC_ENOTFOUND when RocksDB does not know the
 * name; HC_ENOTSUP in cache-only mode. For diagnostics: the text's format is RocksDB's,
 * not part of this API. Any thread.
 */
HC_EXPORT HC_NODISCARD int hc_store_property(hc_cache *cache, const char *name, char *buf,
                                             size_t cap, size_t *len);
/*
 * Parses a size as the config does ("64 MiB", "1.5 GiB", "512", "4096 B": a decimal
 * number, optional blanks, an optional unit B, KiB, MiB, GiB or TiB, any case; K, KB,
 * M, MB, G, GB refused). HC_EINVAL for anything else (no sentence is kept). Any thread.
 */
HC_EXPORT HC_NODISCARD int hc_parse_size(const char *text, uint64_t *bytes);

/* Releases the calling thread's registration now instead of at thread exit. From
 * inside an hc_read / hc_read_batch callback it does nothing (the thread stays
 * registered; hc_last_error says so): call it again after the read returns. */
HC_EXPORT void hc_thread_detach(hc_cache *cache);

#ifdef __cplusplus
}
#endif
#endif /* HOTCACHE_H */
