/*
 * backing/: the RocksDB store behind the cache, and the sealing of payloads at rest.
 *
 * One struct backing owns one RocksDB instance with the column families payload, kel,
 * keystate and meta (plus any unknown family an older or newer build left, opened and
 * left alone). Every logical write is one RocksDB write batch, written with the store's
 * durability: sync (fsync'd WAL before the call returns), wal (WAL written, not synced)
 * or none (no WAL; memtables are flushed at a clean close).
 *
 * Records at rest (seal.c). A sealed value is
 *
 *     [format 1B = 1][key id 1B][nonce 24B][ciphertext = plaintext length][tag 16B]
 *
 * XChaCha20-Poly1305-IETF under the store's data key, a fresh nonce per record (a random
 * per-thread prefix and a counter, fork-safe: nonce.c), and associated data
 *
 *     format || key id || length of the family name (1B) || family name || key bytes
 *
 * so a record copied under another key or into another family fails to open (the length
 * byte keeps the encoding injective whatever names are added later). A record that
 * fails to open for any reason (short, unknown format, unknown key id, tag) is
 * HC_ECORRUPT and no plaintext byte reaches the caller: the destination is wiped.
 * Only the payload family holds sealed records today; kel and keystate hold raw bytes
 * (public KERI data) written through the raw and batch calls.
 *
 * The data key (keyfile.c). 32 bytes in the file opts.key_file, loaded into
 * sodium_malloc memory (guard pages, mlock'd, read-only after load, wiped and freed at
 * close). A new store whose key file is absent creates one (random, mode 0600, O_EXCL,
 * fsync'd with its directory) and says so through backing_flags(). At creation the store
 * writes a key check value into meta: BLAKE2b-256 keyed by the data key over a fixed
 * label. Opening with a different key fails with HC_EKEY ("the key file ... does not
 * match the store ..."), before any record is read. A store that has no check value
 * (written by a build that predates it, or its creation was cut short) is checked
 * against its first payload record instead: if that opens, the check value is written
 * and the open succeeds; if it does not, HC_EKEY. A store with neither gets a check value.
 * Key bytes are never printed, logged or copied outside the guarded allocation
 * (libsodium copies them onto its stack for each seal and wipes them there).
 *
 * Errors. Every fallible call returns 0 or a negative HC_E* code (hotcache.h). On a
 * failure it also leaves a sentence in the calling thread's backing_last_error(): for
 * HC_EIO it contains RocksDB's own message. The cache copies it into hc_last_error().
 * HC_ENOTFOUND is not a failure and leaves no sentence (it is the common miss).
 * RocksDB's info LOG is switched off: Debian's assert-enabled librocksdb aborts the
 * process on the line after a failed LOG write, so a full disk would kill the daemon
 * through a debug log (store.c; tests/unit/test_backing_iofail shows it).
 *
 * The failed state. Any RocksDB write error (a failed WAL write or sync, a full disk)
 * puts the store in the failed state: every later write, by any thread, returns
 * HC_EREADONLY without touching RocksDB, until the store is closed and opened again.
 * Reads keep working. The failed write itself never reaches the memtable (RocksDB inserts
 * only after the WAL write and sync succeeded), so no read in this process serves it. Its
 * outcome on disk is unknown, as for any write cut short by a crash: if the WAL bytes
 * reached the page cache and only the sync failed, a later open may recover them. The
 * caller was never told the write succeeded, so the freshness rule still holds. A
 * background error of RocksDB's own (a failed flush or compaction) stops its writes; the
 * next write reports it as HC_EIO and enters the failed state the same way.
 *
 * Threads. After backing_open() returns and until backing_close() begins, any thread may
 * call any function at the same time as any other: RocksDB's handles are thread safe and
 * the struct is read-only apart from the failed flag (an atomic). backing_open() and
 * backing_close() must not race with anything on the same store. A pin and a batch are
 * owned by the thread that made them (they may be handed to another thread with the
 * usual happens-before, but not used by two at once). No function blocks on a lock of
 * ours; RocksDB's write path serialises writers internally (group commit).
 */
#ifndef HC_BACKING_H
#define HC_BACKING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hotcache.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Column families. The order is fixed; backing_cf_name() gives the on-disk names. */
enum backing_cf {
	BACKING_PAYLOAD = 0, /* sealed payload records */
	BACKING_KEL = 1,     /* KERI events, raw */
	BACKING_KEYSTATE = 2, /* derived key state, raw */
	BACKING_META = 3,    /* key check value and other store metadata, raw */
	BACKING_NCF = 4
};

/* Record layout. */
#define BACKING_FORMAT 1u          /* the only record format this build reads */
/*
 * The store's format version, kept in meta under "format" (4 bytes, little endian):
 * the layout of every family's keys and values together. This build reads and writes
 * format 1 only. A store without the key predates the stamp and is format 1 (the
 * layout has not changed): a primary open stamps it, one synced put, safe to repeat
 * after a crash. A store stamped with another number is refused before recovery
 * touches it (HC_ENOTSUP, both numbers named), never misread.
 */
#define BACKING_STORE_FORMAT 1u
#define BACKING_KEY_ID 1u          /* the id of the (single) data key */
#define BACKING_KEY_BYTES 32u      /* data key size */
#define BACKING_NONCE_BYTES 24u    /* XChaCha20 nonce */
#define BACKING_TAG_BYTES 16u      /* Poly1305 tag */
#define BACKING_HEADER_BYTES (2u + BACKING_NONCE_BYTES)
#define BACKING_SEAL_OVERHEAD (BACKING_HEADER_BYTES + BACKING_TAG_BYTES) /* 42 */

/* backing_flags() bits. */
#define BACKING_CREATED_STORE 0x1u    /* this open created the RocksDB store */
#define BACKING_CREATED_KEY_FILE 0x2u /* this open created the key file */
#define BACKING_WROTE_KEY_CHECK 0x4u  /* this open wrote the key check value */
#define BACKING_CHECKED_META 0x8u     /* this open's key check opened only META, so
                                       * the WAL's other records were skipped (store.c) */
#define BACKING_PRECHECK 0x100u       /* internal: the read-only key check before open */
#define BACKING_PRECHECK_META 0x200u  /* internal: that check with only META open */

struct backing_opts {
	const char *path;      /* RocksDB directory (backing.path) */
	const char *key_file;  /* 32-byte data key (crypto.key_file) */
	int durability;        /* enum hc_durability */
	uint64_t block_cache;  /* RocksDB LRU block cache bytes; 0 = no block cache */
	uint64_t write_buffer; /* memtable bytes for all families together (>= 256 KiB used) */
	int create_if_missing; /* create the store (and the key file) when absent */
	int open_mode;         /* enum hc_open_mode: primary, read_only, secondary */
	int log_level;         /* enum hc_store_log_level: RocksDB's info log */
	const char *log_dir;   /* RocksDB's info log directory; NULL or "" = the store's */
	int key_file_permissive; /* accept a key file group or others may access */
};

struct backing;     /* an open store */
struct backing_key; /* a data key in guarded memory */
struct backing_batch;

/*
 * A pinned read: the stored bytes stay valid, without a copy, until
 * backing_pin_release(). Filled by backing_get_raw() / backing_get_sealed(); the caller
 * owns the struct (usually on its stack) and must release it after any successful get.
 */
struct backing_pin {
	const unsigned char *data; /* stored bytes (the record, for a sealed get) */
	size_t len;
	size_t plain_len;          /* sealed gets: plaintext length */
	const void *key;           /* sealed gets: the lookup key, kept for the AD */
	size_t klen;
	int cf;
	void *slice_;              /* private: the RocksDB pinnable slice */
};

/* ---- errors (error.c) ---- */

/*
 * The calling thread's last failure sentence, "" if none. Valid until the thread's next
 * backing call. Any thread; wait-free.
 */
const char *backing_last_error(void);

/* ---- store (store.c) ---- */

/*
 * Opens (or creates) the store described by opts. On success *out is the store; on
 * failure *out is NULL, nothing is left open, the sentence is in err (when err != NULL)
 * and in backing_last_error(). Errors: HC_EINVAL (bad opts), HC_ENOMEM, HC_EIO (RocksDB
 * could not open: its message; also a store that is absent without create_if_missing),
 * HC_EBUSY (another process holds the store's lock), HC_EKEY (key file absent for an
 * existing store, wrong size or unreadable, or not the store's key).
 * Threads: any thread, but not concurrently with any other call on the same path.
 */
HC_NODISCARD int backing_open(const struct backing_opts *opts, struct backing **out,
                              char *err, size_t errlen);
/*
 * Flushes what the durability mode leaves unflushed (none: memtables; wal: the WAL,
 * synced), closes RocksDB, wipes and frees the key. b may be NULL. Never fails (a flush
 * error at close is lost; with none durability that loses the unflushed writes, which
 * that mode accepts). Threads: must be the last call on b; must not race with any other.
 */
void backing_close(struct backing *b);
/* BACKING_CREATED_* bits from the open. Any thread; wait-free. */
unsigned backing_flags(const struct backing *b);
/* The store's data key, for backing_seal()/backing_unseal(). Valid until close. Any thread. */
const struct backing_key *backing_key_of(const struct backing *b);
/*
 * What the store holds, from RocksDB's estimates: records per family
 * (rocksdb.estimate-num-keys: memtables and SST files, deletions not yet compacted
 * counted) and SST bytes over every family. Any thread, concurrently; a snapshot.
 */
void backing_store_figures(const struct backing *b, uint64_t records[BACKING_NCF],
                           uint64_t *sst_bytes);
/* RocksDB reads that failed its own checksums ("Corruption"). Any thread; wait-free. */
uint64_t backing_store_corrupt(const struct backing *b);
/* 1 once a write failed (see the failed state), else 0. Any thread; wait-free. */
int backing_failed(const struct backing *b);
/* The on-disk name of a column family ("payload", ...); NULL if out of range. Any thread. */
const char *backing_cf_name(int cf);

/* ---- memory (memory.c) ---- */

/* RocksDB's memory now, in bytes (see store.c for how the budget is split). */
struct backing_memory {
	uint64_t memtables;            /* all families, including memtables being flushed */
	uint64_t table_readers;        /* index/filter memory held outside the block cache */
	uint64_t block_cache_capacity; /* 0 when there is no block cache */
	uint64_t block_cache_usage;    /* includes index and filter blocks */
	uint64_t block_cache_pinned;
	uint64_t sst_bytes;            /* live SST files on disk, all families */
};
/* Fills m from RocksDB's counters. Any thread, concurrently; a snapshot. */
void backing_memory(const struct backing *b, struct backing_memory *m);
/*
 * RocksDB's DB-wide property name (rocksdb_property_value: "rocksdb.stats",
 * "rocksdb.dbstats", ...) as a NUL-terminated string the caller frees with
 * backing_property_free(), or NULL when RocksDB does not know it. Any thread.
 */
char *backing_property(const struct backing *b, const char *name);
void backing_property_free(char *s);

/* ---- writes (write.c) ---- */

/*
 * Seals val under the store's key for (cf, key) and writes it as one batch with the
 * store's durability; returns once the durability mode is satisfied (sync: on disk).
 * Errors: HC_EINVAL (bad cf, NULL key, klen 0 or > HC_KEY_MAX, NULL val with vlen > 0),
 * HC_ENOMEM, HC_EIO (RocksDB's text; the store enters the failed state), HC_EREADONLY
 * (the store is in the failed state; nothing written). Any thread, concurrently.
 */
HC_NODISCARD int backing_put(struct backing *b, int cf, const void *key, size_t klen,
                             const void *val, size_t vlen);
/* Writes val as is (no sealing): for kel, keystate, meta, and tests. As backing_put. */
HC_NODISCARD int backing_put_raw(struct backing *b, int cf, const void *key, size_t klen,
                                 const void *val, size_t vlen);
/* Deletes key from cf (HC_OK if absent), durably as backing_put. Any thread. */
HC_NODISCARD int backing_delete(struct backing *b, int cf, const void *key, size_t klen);

/*
 * Batches: all of a batch's puts and deletes are committed atomically (one RocksDB
 * write batch) with the store's durability, or none is. Build with the add calls, then
 * commit, then free (free also discards an uncommitted batch). A batch is used by one
 * thread at a time; different batches may be built and committed concurrently.
 * batch_new returns NULL on allocation failure (backing_last_error says so).
 */
struct backing_batch *backing_batch_new(struct backing *b);
/* Adds a raw put; copies key and val. HC_EINVAL, HC_ENOMEM. The batch's owner thread. */
HC_NODISCARD int backing_batch_put_raw(struct backing_batch *t, int cf, const void *key,
                                       size_t klen, const void *val, size_t vlen);
/* Adds a sealed put (as backing_put); copies. HC_EINVAL, HC_ENOMEM. Owner thread. */
HC_NODISCARD int backing_batch_put(struct backing_batch *t, int cf, const void *key,
                                   size_t klen, const void *val, size_t vlen);
/* Adds a delete; copies key. HC_EINVAL. Owner thread. */
HC_NODISCARD int backing_batch_delete(struct backing_batch *t, int cf, const void *key,
                                      size_t klen);
/* Number of operations added so far. Owner thread. */
size_t backing_batch_count(const struct backing_batch *t);
/*
 * Writes the batch atomically. HC_OK, HC_EIO (failed state entered), HC_EREADONLY.
 * An empty batch commits as HC_OK without a write; a second commit is HC_EINVAL.
 * Owner thread; commits of different batches run concurrently (grouped by RocksDB).
 */
HC_NODISCARD int backing_batch_commit(struct backing_batch *t);
/* Frees the batch (NULL is fine). Owner thread. */
void backing_batch_free(struct backing_batch *t);

/* ---- reads (read.c) ---- */

/*
 * Calls fn(key, klen, arg) for every key of family cf in key order (a RocksDB iterator:
 * a consistent snapshot), stopping at fn's non-zero return, which it returns; HC_EIO
 * with RocksDB's text when the iteration fails. key is valid only during the call.
 * Any thread.
 */
typedef int (*backing_key_fn)(const void *key, size_t klen, void *arg);
HC_NODISCARD int backing_each_key(struct backing *b, int cf, backing_key_fn fn, void *arg);
/*
 * Calls fn(key, klen, value, vlen, arg) for each record of family cf whose key k has
 * from <= k < until (bytewise), in key order, from one seek; the bytes are valid only
 * during the call. Stops at fn's non-zero return, which it returns. HC_EIO with
 * RocksDB's text when the iteration fails. Any thread.
 */
typedef int (*backing_kv_fn)(const void *key, size_t klen, const void *val, size_t vlen,
                             void *arg);
HC_NODISCARD int backing_each_range(struct backing *b, int cf, const void *from,
                                    size_t flen, const void *until, size_t ulen,
                                    backing_kv_fn fn, void *arg);

/*
 * Calls fn(key, klen, val, vlen, arg) for every record of family cf whose key starts
 * with prefix[0..plen), in key order (one seek, a consistent snapshot), stopping at
 * fn's non-zero return, which it returns; HC_EIO with RocksDB's text when the
 * iteration fails. key and val (raw, not unsealed) are valid only during the call.
 * Any thread.
 */
typedef int (*backing_kv_fn)(const void *key, size_t klen, const void *val, size_t vlen,
                             void *arg);
HC_NODISCARD int backing_each_prefixed(struct backing *b, int cf, const void *prefix,
                                       size_t plen, backing_kv_fn fn, void *arg);

/*
 * Pins the stored bytes of (cf, key) without copying: pin->data, pin->len.
 * HC_OK (release the pin later), HC_ENOTFOUND, HC_EINVAL, HC_EIO. Any thread.
 */
HC_NODISCARD int backing_get_raw(struct backing *b, int cf, const void *key, size_t klen,
                                 struct backing_pin *pin);
/*
 * Pins a sealed record and checks its header: on HC_OK, *plain_len (and pin->plain_len)
 * is the plaintext length, so the caller can allocate exactly that and then call
 * backing_unseal_into(). key must stay valid until the pin is released. HC_ENOTFOUND,
 * HC_EINVAL, HC_EIO, HC_ECORRUPT (short record, unknown format or key id; the pin is
 * already released). Any thread.
 */
HC_NODISCARD int backing_get_sealed(struct backing *b, int cf, const void *key,
                                    size_t klen, struct backing_pin *pin,
                                    size_t *plain_len);
/*
 * Opens the pinned record into dst (pin->plain_len bytes). HC_OK, or HC_ECORRUPT (the
 * tag does not verify: dst is wiped to zeros). Does not release the pin. Any thread.
 */
HC_NODISCARD int backing_unseal_into(const struct backing *b, const struct backing_pin *pin,
                                     void *dst);
/* Releases a pin from a successful get; idempotent; a zeroed pin is fine. Pin's owner. */
void backing_pin_release(struct backing_pin *pin);
/*
 * Convenience: get_sealed + unseal_into buf. *vlen is the plaintext length on HC_OK and
 * on HC_ERANGE (cap too small: nothing written). HC_ENOTFOUND, HC_EIO, HC_ECORRUPT (buf
 * wiped, or untouched when the header was bad). Any thread.
 */
HC_NODISCARD int backing_get(struct backing *b, int cf, const void *key, size_t klen,
                             void *buf, size_t cap, size_t *vlen);

/* ---- keys and records, pure (seal.c) ---- */

/*
 * A key object from 32 raw bytes (guarded memory, read-only). NULL on allocation
 * failure. For the benchmark, the fuzzer and tests; a store makes its own.
 * Any thread; the key may be shared read-only by any number of threads.
 */
struct backing_key *backing_key_new(const unsigned char raw[BACKING_KEY_BYTES], uint8_t id);
/* Wipes and frees (NULL is fine). Must not race with users of the key. */
void backing_key_free(struct backing_key *k);
/* The key's id byte. Any thread. */
uint8_t backing_key_id(const struct backing_key *k);

/* The sealed size of a plaintext of plen bytes. Any thread. */
static inline size_t backing_sealed_len(size_t plen)
{
	return plen + BACKING_SEAL_OVERHEAD;
}

/*
 * Seals val for (cf, key) into out (backing_sealed_len(vlen) bytes, must not overlap
 * val). HC_OK, HC_EINVAL (bad cf, klen 0 or > HC_KEY_MAX, out too small: cap).
 * Pure apart from the random nonce; any thread.
 */
HC_NODISCARD int backing_seal(const struct backing_key *k, int cf, const void *key,
                              size_t klen, const void *val, size_t vlen, void *out,
                              size_t cap);
/*
 * Checks a record's header: HC_OK with *plain_len, or HC_ECORRUPT (shorter than the
 * overhead, format != 1, key id != the key's). Pure; any thread.
 */
HC_NODISCARD int backing_record_check(const struct backing_key *k, const void *rec,
                                      size_t reclen, size_t *plain_len);
/*
 * Opens rec (stored under cf, key) into dst, which holds cap bytes. HC_OK with
 * *plain_len; HC_ECORRUPT (header or tag; dst untouched for a bad header, wiped for a
 * bad tag); HC_ERANGE (cap < plaintext length; *plain_len set, dst untouched);
 * HC_EINVAL (bad cf or key length). Pure; any thread.
 */
HC_NODISCARD int backing_unseal(const struct backing_key *k, int cf, const void *key,
                                size_t klen, const void *rec, size_t reclen, void *dst,
                                size_t cap, size_t *plain_len);

/* ---- key file and check value (keyfile.c) ---- */

/*
 * Loads the key file at path (exactly 32 bytes) into a new key, or, when it is absent
 * and create is set, creates it (random, 0600, O_EXCL; *created = 1). HC_EKEY with a
 * sentence for a missing, unreadable or wrong-sized file; HC_EIO for a failed create;
 * HC_ENOMEM. Never prints key bytes. Any thread.
 */
HC_NODISCARD int backing_keyfile_load(const char *path, int create, int permissive,
                                      struct backing_key **out, int *created, char *err,
                                      size_t errlen);
/* The key check value: BLAKE2b-256 keyed by the key over a fixed label, with a header.
 * Any thread. */
/* fsyncs the directory holding path, so that a file or directory just created there
 * survives a power loss. 0 or -1 (errno set). Any thread. */
int backing_fsync_parent(const char *path);

#define BACKING_CHECK_BYTES (2u + 32u)
void backing_key_check_value(const struct backing_key *k,
                             unsigned char out[BACKING_CHECK_BYTES]);
/* 1 if value (len bytes, from meta) is k's check value, else 0. Constant time. */
int backing_key_check_matches(const struct backing_key *k, const void *value, size_t len);

/*
 * A consistent copy of the open store in the new directory dir (it must not exist):
 * every write acknowledged before the call is in it. With key_file non-NULL the data
 * key is also written there (a new file, mode 0600); otherwise the copy opens only with
 * the original key file. HC_EEXIST when dir or key_file exists, HC_EIO with RocksDB's
 * text. Any thread, concurrently with reads and writes.
 */
HC_NODISCARD int backing_checkpoint(struct backing *b, const char *dir, const char *key_file);

/* ---- internal: for the backing/ sources only ---- */
#ifdef BACKING_INTERNAL
#include <rocksdb/c.h>

/* The meta key under which the check value is stored. */
#define BACKING_META_KEYCHECK "keycheck"
/* The meta key under which the store's format version is stored (format.c). */
#define BACKING_META_FORMAT "format"
/* Checks (and, on a primary, stamps) the store's format version: format.c. */
int backing_format_check(struct backing *b, const char *path);

struct backing {
	rocksdb_t *db;
	rocksdb_options_t *dbopts;
	rocksdb_options_t *cfopts[BACKING_NCF];
	rocksdb_options_t *extra_opts; /* for families we do not know */
	rocksdb_column_family_handle_t *cf[BACKING_NCF];
	rocksdb_column_family_handle_t **extra_cf; /* default and unknown families */
	size_t n_extra;
	rocksdb_block_based_table_options_t *table;
	rocksdb_cache_t *cache;
	rocksdb_filterpolicy_t *filter; /* owned by table once set */
	rocksdb_writeoptions_t *wopts;
	rocksdb_readoptions_t *ropts;
	struct backing_key *key;
	int durability;
	unsigned flags;
	atomic_int failed;          /* 0, 1 once a write failed */
	char failed_msg[256];       /* first failure's text; written before failed is set */
	atomic_int failed_msg_owner; /* who writes failed_msg */
	int open_mode;              /* enum hc_open_mode */
	atomic_uint_fast64_t store_corrupt; /* reads RocksDB's checksums refused */
	char *secondary_dir;        /* a secondary's private directory, removed at close */
};
/* Counts a RocksDB error that is a checksum failure (text starts "Corruption"). */
void backing_count_corrupt(struct backing *b, const char *rocks_err);

/* Sets the calling thread's error sentence (printf style). Returns code. */
int backing_set_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Turns a RocksDB errptr into HC_EIO + text ("what: rocksdb message"), frees it. */
int backing_rocks_error(char *rocks_err, const char *what);
/* HC_EINVAL unless cf and key are valid for a store call. */
int backing_check_args(int cf, const void *key, size_t klen);
/* Builds the associated data into ad (BACKING_AD_MAX bytes); returns its length. */
size_t backing_ad(unsigned char *ad, uint8_t format, uint8_t key_id, int cf,
                  const void *key, size_t klen);
/* Records the first write failure and enters the failed state. Returns HC_EIO. */
int backing_enter_failed(struct backing *b, char *rocks_err, const char *what);
/* HC_EREADONLY (with a sentence) when the store is in the failed state, else HC_OK. */
int backing_writable(struct backing *b);
/* The largest associated data: format, key id, name length, name, key. */
#define BACKING_AD_MAX (3u + 16u + HC_KEY_MAX)
/* A writable key in guarded memory (read-write until backing_key_lock()). NULL: ENOMEM. */
struct backing_key *backing_key_alloc(uint8_t id);
/* Its 32 raw bytes, writable only before backing_key_lock(). */
unsigned char *backing_key_raw(struct backing_key *k);
/* The raw key bytes (guarded memory) for crypto calls inside backing/. */
const unsigned char *backing_key_bytes(const struct backing_key *k);
/* A fresh XChaCha20 nonce, never repeated under any key (nonce.c). Any thread. */
void backing_nonce(unsigned char out[BACKING_NONCE_BYTES]);
/* Makes the key read-only (sodium_mprotect_readonly). */
void backing_key_lock(struct backing_key *k);
#endif /* BACKING_INTERNAL */

#ifdef __cplusplus
}
#endif
#endif /* HC_BACKING_H */
