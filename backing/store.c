/*
 * backing/store.c: opening and closing the RocksDB store.
 *
 * Open, in order:
 *   1. The store exists iff <path>/CURRENT exists. An absent store without
 *      create_if_missing, or opened read_only or secondary, fails before anything is
 *      created.
 *   2. The key file and the store go together (HC_EKEY naming both paths otherwise): an
 *      existing store needs its key file (a missing one is never replaced by a fresh
 *      key: that would make every record unreadable); an absent store is created only
 *      when its key file is absent too, and both are created then (keyfile.c). A key
 *      file without its store is what a vanished store directory leaves, and opening an
 *      empty store in its place would hide that every record is gone. A key file that
 *      group or others may access is refused unless key_file_permissive is set.
 *   3. For an existing store opened as primary: the key check first, on a read-only
 *      instance (no lock, no recovery written: the WAL is replayed into memory only, no
 *      LOG is created), so a wrong key leaves every file of the store as it was. Then
 *      RocksDB with every family the store already has (RocksDB refuses to open a store
 *      without naming all of them: unknown ones are opened with default options and left
 *      alone) plus ours, created when missing. read_only and secondary open the
 *      families the store has (ours must be there) and take no lock; a secondary keeps
 *      its own LOG and state in a private directory under $TMPDIR, removed at close.
 *   4. The key check value (see backing.h): match, or verify against the first payload
 *      record, or write it (primary only; the others never write).
 *
 * The info LOG: backing.log_level maps to RocksDB's levels (none = HEADER_LEVEL, at
 * which this RocksDB writes nothing; the LOG file is still created, empty), in
 * backing.log_dir when set (RocksDB names the file after the store's path there).
 * A level above HEADER_LEVEL is not a valid InfoLogLevel: RocksDB 7.8 then fails to
 * serialise its options and leaves a truncated OPTIONS-*.dbtmp at every open instead of
 * an OPTIONS file (issue 12).
 *
 * Memory (the budget the cache's config splits): RocksDB's block cache is an LRU cache of
 * block_cache bytes shared by every family, and index and filter blocks are charged to it
 * (cache_index_and_filter_blocks) instead of growing outside it. Memtables: write_buffer
 * bytes in all, as db_write_buffer_size (RocksDB flushes the largest memtable when the
 * total passes it), split per family as write_buffer_size payload 1/2, kel 1/4, keystate
 * and meta 1/8 each (at least 64 KiB each), two memtables per family at most. The bound is
 * RocksDB's, not ours: a memtable being flushed still counts until its flush ends, so the
 * peak is up to about 2 x write_buffer under a write burst. Table readers, iterators and
 * pinned blocks outside the cache are small and not counted.
 *
 * Threads: open and close are single-threaded per store (backing.h).
 */
#define BACKING_INTERNAL
#include "backing/backing.h"

#include <errno.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_WRITE_BUFFER (64u << 10)

static const unsigned cf_share[BACKING_NCF] = { 2, 4, 8, 8 }; /* 1/2, 1/4, 1/8, 1/8 */

static int store_exists(const char *path)
{
	char current[HC_PATH_MAX + 16];
	struct stat st;

	snprintf(current, sizeof(current), "%s/CURRENT", path);
	return stat(current, &st) == 0;
}

static void copy_err(char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", backing_last_error());
}

static int check_opts(const struct backing_opts *o)
{
	if (o == NULL || o->path == NULL || o->path[0] == '\0')
		return backing_set_error(HC_EINVAL, "backing.path is empty");
	if (strlen(o->path) >= HC_PATH_MAX)
		return backing_set_error(HC_EINVAL, "backing.path is longer than %u bytes",
		                         HC_PATH_MAX - 1);
	if (o->key_file == NULL || o->key_file[0] == '\0')
		return backing_set_error(HC_EINVAL, "crypto.key_file is empty: a store needs a "
		                         "data key file");
	if (o->durability < HC_DURABILITY_SYNC || o->durability > HC_DURABILITY_NONE)
		return backing_set_error(HC_EINVAL, "backing.durability %d is not sync, wal or "
		                         "none", o->durability);
	if (o->open_mode < HC_OPEN_PRIMARY || o->open_mode > HC_OPEN_SECONDARY)
		return backing_set_error(HC_EINVAL, "backing.open %d is not primary, read_only "
		                         "or secondary", o->open_mode);
	if (o->log_level < HC_STORE_LOG_NONE || o->log_level > HC_STORE_LOG_DEBUG)
		return backing_set_error(HC_EINVAL, "backing.log_level %d is not none, fatal, "
		                         "error, warn, info or debug", o->log_level);
	return HC_OK;
}

/* Options shared by every family, then the per-family memtable shares. */
static int make_options(struct backing *b, const struct backing_opts *o, int create)
{
	uint64_t wb = o->write_buffer < 4 * MIN_WRITE_BUFFER ? 4 * MIN_WRITE_BUFFER
	                                                     : o->write_buffer;
	int i;

	b->dbopts = rocksdb_options_create();
	b->extra_opts = rocksdb_options_create();
	b->table = rocksdb_block_based_options_create();
	b->wopts = rocksdb_writeoptions_create();
	b->ropts = rocksdb_readoptions_create();
	if (!b->dbopts || !b->extra_opts || !b->table || !b->wopts || !b->ropts)
		return backing_set_error(HC_ENOMEM, "no memory for RocksDB options");
	if (o->block_cache > 0) {
		b->cache = rocksdb_cache_create_lru((size_t)o->block_cache);
		if (b->cache == NULL)
			return backing_set_error(HC_ENOMEM, "no memory for the block cache");
		rocksdb_block_based_options_set_block_cache(b->table, b->cache);
		rocksdb_block_based_options_set_cache_index_and_filter_blocks(b->table, 1);
		rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(b->table, 1);
	} else {
		rocksdb_block_based_options_set_no_block_cache(b->table, 1);
	}
	/* A miss on an absent key should not read a data block: bloom filters. */
	rocksdb_block_based_options_set_filter_policy(b->table,
	                                              rocksdb_filterpolicy_create_bloom(10));

	rocksdb_options_set_create_if_missing(b->dbopts, (unsigned char)create);
	rocksdb_options_set_create_missing_column_families(b->dbopts, 1);
	rocksdb_options_set_db_write_buffer_size(b->dbopts, (size_t)wb);
	rocksdb_options_set_keep_log_file_num(b->dbopts, 2);
	/*
	 * The info LOG, off by default (none = HEADER_LEVEL, 5: nothing written). Debian's
	 * librocksdb 7.8.3 is built with assertions on, and its file logger asserts (aborts
	 * the process) on the next line after one of its own writes failed: with a level
	 * set, a full or failing disk can kill the embedding daemon through the log
	 * (README; tests/unit/test_backing_iofail shows it). RocksDB's errors reach the
	 * caller as HC_EIO text either way. Not 6: see the top of the file.
	 */
	static const int rocks_level[] = {
		[HC_STORE_LOG_NONE] = 5, [HC_STORE_LOG_FATAL] = 4, [HC_STORE_LOG_ERROR] = 3,
		[HC_STORE_LOG_WARN] = 2, [HC_STORE_LOG_INFO] = 1, [HC_STORE_LOG_DEBUG] = 0,
	};
	rocksdb_options_set_info_log_level(b->dbopts, rocks_level[o->log_level]);
	if (o->log_dir != NULL && o->log_dir[0] != '\0')
		rocksdb_options_set_db_log_dir(b->dbopts, o->log_dir);
	if (o->open_mode == HC_OPEN_SECONDARY)
		rocksdb_options_set_max_open_files(b->dbopts, -1); /* RocksDB requires it */
	rocksdb_options_set_block_based_table_factory(b->dbopts, b->table);
	rocksdb_options_set_block_based_table_factory(b->extra_opts, b->table);
	rocksdb_options_set_write_buffer_size(b->extra_opts, MIN_WRITE_BUFFER);
	for (i = 0; i < BACKING_NCF; i++) {
		uint64_t share = wb / cf_share[i];

		b->cfopts[i] = rocksdb_options_create();
		if (b->cfopts[i] == NULL)
			return backing_set_error(HC_ENOMEM, "no memory for RocksDB options");
		rocksdb_options_set_block_based_table_factory(b->cfopts[i], b->table);
		rocksdb_options_set_write_buffer_size(b->cfopts[i], (size_t)(share < MIN_WRITE_BUFFER ?
		                                                             MIN_WRITE_BUFFER : share));
		rocksdb_options_set_max_write_buffer_number(b->cfopts[i], 2);
	}

	switch (o->durability) {
	case HC_DURABILITY_SYNC:
		rocksdb_writeoptions_set_sync(b->wopts, 1);
		break;
	case HC_DURABILITY_WAL:
		rocksdb_writeoptions_set_sync(b->wopts, 0);
		break;
	default:
		rocksdb_writeoptions_disable_WAL(b->wopts, 1);
		break;
	}
	return HC_OK;
}

static int known_cf(const char *name)
{
	int i;

	for (i = 0; i < BACKING_NCF; i++)
		if (strcmp(name, backing_cf_name(i)) == 0)
			return i;
	return -1;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* A secondary's private directory under $TMPDIR (or /tmp). */
static int make_secondary_dir(struct backing *b)
{
	const char *tmp = getenv("TMPDIR");
	size_t n;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = strlen(tmp) + sizeof("/hotcache-secondary-XXXXXX");
	b->secondary_dir = malloc(n);
	if (b->secondary_dir == NULL)
		return backing_set_error(HC_ENOMEM, "no memory for the secondary's path");
	snprintf(b->secondary_dir, n, "%s/hotcache-secondary-XXXXXX", tmp);
	if (mkdtemp(b->secondary_dir) == NULL) {
		int e = errno;

		free(b->secondary_dir);
		b->secondary_dir = NULL;
		return backing_set_error(HC_EIO, "cannot make a directory for the secondary "
		                         "instance in %s: %s", tmp, strerror(e));
	}
	return HC_OK;
}

/*
 * Opens RocksDB naming every existing family plus ours (primary), or the families the
 * store has, ours required (read_only, secondary).
 */
static int open_db(struct backing *b, const char *path, int exists, int mode)
{
	int precheck = b->flags & BACKING_PRECHECK;
	const rocksdb_options_t *opts[BACKING_NCF + 64];
	rocksdb_column_family_handle_t *handles[BACKING_NCF + 64];
	const char *names[BACKING_NCF + 64];
	int slot[BACKING_NCF + 64];
	char **existing = NULL;
	size_t nexisting = 0, n = 0, i, j;
	char *err = NULL;

	if (exists) {
		existing = rocksdb_list_column_families(b->dbopts, path, &nexisting, &err);
		if (err != NULL)
			return backing_rocks_error(err, "cannot list the store's column families");
		if (nexisting > 64) {
			rocksdb_list_column_families_destroy(existing, nexisting);
			return backing_set_error(HC_EIO, "the store %s has %zu column families; "
			                         "at most 64 unknown ones are supported", path,
			                         nexisting);
		}
	}
	for (i = 0; i < BACKING_NCF; i++) {
		int found = 0;

		for (j = 0; j < nexisting && !found; j++)
			found = strcmp(existing[j], backing_cf_name((int)i)) == 0;
		if (mode != HC_OPEN_PRIMARY && !found && precheck)
			continue; /* nothing sealed there: verify_key sees a NULL handle */
		if ((b->flags & BACKING_PRECHECK_META) && i != BACKING_META)
			continue; /* read-only opens may name a subset: the WAL's records of
			           * the others are skipped, not replayed into memtables */
		if (mode != HC_OPEN_PRIMARY && !found) {
			rocksdb_list_column_families_destroy(existing, nexisting);
			return backing_set_error(HC_EIO, "the store %s has no column family %s: open "
			                         "it once as primary", path, backing_cf_name((int)i));
		}
		names[n] = backing_cf_name((int)i);
		opts[n] = b->cfopts[i];
		slot[n++] = (int)i;
	}
	names[n] = "default";
	opts[n] = b->extra_opts;
	slot[n++] = -1;
	for (i = 0; i < nexisting && !(b->flags & BACKING_PRECHECK_META); i++) {
		if (known_cf(existing[i]) >= 0 || strcmp(existing[i], "default") == 0)
			continue;
		names[n] = existing[i];
		opts[n] = b->extra_opts;
		slot[n++] = -1;
	}
	if (mode == HC_OPEN_PRIMARY)
		b->db = rocksdb_open_column_families(b->dbopts, path, (int)n, names, opts, handles,
		                                     &err);
	else if (mode == HC_OPEN_READ_ONLY)
		b->db = rocksdb_open_for_read_only_column_families(b->dbopts, path, (int)n, names,
		                                                   opts, handles, 0, &err);
	else
		b->db = rocksdb_open_as_secondary_column_families(b->dbopts, path,
		                                                  b->secondary_dir, (int)n, names,
		                                                  opts, handles, &err);
	if (existing != NULL)
		rocksdb_list_column_families_destroy(existing, nexisting);
	if (err != NULL) {
		char what[HC_PATH_MAX + 64];

		snprintf(what, sizeof(what), "RocksDB cannot open %s", path);
		return backing_rocks_error(err, what);
	}
	b->extra_cf = calloc(n, sizeof(*b->extra_cf));
	for (i = 0, j = 0; i < n; i++) {
		if (slot[i] >= 0)
			b->cf[slot[i]] = handles[i];
		else if (b->extra_cf != NULL)
			b->extra_cf[j++] = handles[i];
		else
			rocksdb_column_family_handle_destroy(handles[i]);
	}
	b->n_extra = j;
	return HC_OK;
}

/* Writes the check value with sync, whatever the store's durability. */
static int write_check(struct backing *b)
{
	unsigned char cv[BACKING_CHECK_BYTES];
	rocksdb_writeoptions_t *w = rocksdb_writeoptions_create();
	char *err = NULL;

	if (w == NULL)
		return backing_set_error(HC_ENOMEM, "no memory for RocksDB options");
	rocksdb_writeoptions_set_sync(w, 1);
	backing_key_check_value(b->key, cv);
	rocksdb_put_cf(b->db, w, b->cf[BACKING_META], BACKING_META_KEYCHECK,
	               sizeof(BACKING_META_KEYCHECK) - 1, (const char *)cv, sizeof(cv), &err);
	rocksdb_writeoptions_destroy(w);
	if (err != NULL)
		return backing_rocks_error(err, "cannot write the key check value");
	b->flags |= BACKING_WROTE_KEY_CHECK;
	return HC_OK;
}

/* No check value: the first payload record decides (see backing.h). */
static int verify_by_record(struct backing *b, const struct backing_opts *o)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(b->db, b->ropts, b->cf[BACKING_PAYLOAD]);
	const char *k, *v;
	size_t kl, vl, pl;
	unsigned char *tmp;
	int rc;

	if (it == NULL)
		return backing_set_error(HC_ENOMEM, "no memory for an iterator");
	rocksdb_iter_seek_to_first(it);
	if (!rocksdb_iter_valid(it)) {
		char *err = NULL;

		rocksdb_iter_get_error(it, &err);
		rocksdb_iter_destroy(it);
		if (err != NULL)
			return backing_rocks_error(err, "cannot read the store");
		/* nothing sealed yet: this key is the store's key */
		return b->open_mode == HC_OPEN_PRIMARY ? write_check(b) : HC_OK;
	}
	k = rocksdb_iter_key(it, &kl);
	v = rocksdb_iter_value(it, &vl);
	tmp = malloc(vl > 0 ? vl : 1);
	if (tmp == NULL) {
		rocksdb_iter_destroy(it);
		return backing_set_error(HC_ENOMEM, "no memory to check the key");
	}
	rc = kl > HC_KEY_MAX ? HC_ECORRUPT
	                     : backing_unseal(b->key, BACKING_PAYLOAD, k, kl, v, vl, tmp, vl, &pl);
	sodium_memzero(tmp, vl > 0 ? vl : 1);
	free(tmp);
	rocksdb_iter_destroy(it);
	if (rc != HC_OK)
		return backing_set_error(HC_EKEY, "the key file %s does not match the store %s: "
		                         "the store has no key check value and the key does not "
		                         "open its first record", o->key_file, o->path);
	return b->open_mode == HC_OPEN_PRIMARY ? write_check(b) : HC_OK;
}

static int verify_key(struct backing *b, const struct backing_opts *o)
{
	rocksdb_pinnableslice_t *ps;
	const char *v;
	size_t vl;
	char *err = NULL;
	int ok;

	if (b->cf[BACKING_META] == NULL) /* the precheck of a store without our families */
		return b->cf[BACKING_PAYLOAD] != NULL ? verify_by_record(b, o) : HC_OK;
	ps = rocksdb_get_pinned_cf(b->db, b->ropts, b->cf[BACKING_META], BACKING_META_KEYCHECK,
	                           sizeof(BACKING_META_KEYCHECK) - 1, &err);
	if (err != NULL) {
		backing_count_corrupt(b, err);
		return backing_rocks_error(err, "cannot read the key check value");
	}
	if (ps == NULL)
		return b->cf[BACKING_PAYLOAD] != NULL ? verify_by_record(b, o) : HC_OK;
	v = rocksdb_pinnableslice_value(ps, &vl);
	ok = backing_key_check_matches(b->key, v, vl);
	rocksdb_pinnableslice_destroy(ps);
	if (!ok)
		return backing_set_error(HC_EKEY, "the key file %s does not match the store %s "
		                         "(the store's key check value differs): open it with "
		                         "the key file it was created with", o->key_file, o->path);
	return HC_OK;
}

static int load_key(struct backing *b, const struct backing_opts *o, int exists)
{
	struct stat st;
	int created, rc, key_exists;

	key_exists = stat(o->key_file, &st) == 0 || errno != ENOENT;
	if (exists && !key_exists)
		return backing_set_error(HC_EKEY, "the key file %s does not exist, but the store "
		                         "%s does: its records are sealed under the key that was "
		                         "in that file; restore it (a new key cannot open them)",
		                         o->key_file, o->path);
	if (!exists && key_exists)
		return backing_set_error(HC_EKEY, "the store %s does not exist, but its key file "
		                         "%s does: the store's directory is gone, or a creation "
		                         "was cut short. Restore the store; only if it never held "
		                         "data, remove the key file to create a new store and key",
		                         o->path, o->key_file);
	rc = backing_keyfile_load(o->key_file, !exists, o->key_file_permissive, &b->key,
	                          &created, NULL, 0);
	if (rc == HC_OK && created)
		b->flags |= BACKING_CREATED_KEY_FILE;
	return rc;
}

/* Whether the META family has key (a read of the instance's current view). */
static int meta_has(struct backing *b, const char *key, size_t klen)
{
	char *err = NULL;
	rocksdb_pinnableslice_t *ps;

	if (b->cf[BACKING_META] == NULL)
		return 0;
	ps = rocksdb_get_pinned_cf(b->db, b->ropts, b->cf[BACKING_META], key, klen, &err);
	free(err);
	if (ps == NULL)
		return 0;
	rocksdb_pinnableslice_destroy(ps);
	return 1;
}

/*
 * One read-only look at the store for the precheck: with meta_only, only the META
 * family (and default, which RocksDB requires) is opened, so the WAL is read but only
 * META's records go into memtables. Sets *decided when the answer stands: always with
 * every family; with META alone when it holds both the key check value and the format
 * stamp, which is all the full look would read then (verify_key reads the payload
 * family only when there is no key check value). META's view is the same either way:
 * its SST files and its share of the WAL.
 */
static int precheck_look(const struct backing_opts *o, const struct backing_key *key,
                         int meta_only, int *decided)
{
	struct backing_opts ro = *o;
	struct backing *r;
	int rc;

	*decided = !meta_only;
	ro.open_mode = HC_OPEN_READ_ONLY;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return backing_set_error(HC_ENOMEM, "no memory for the store");
	r->open_mode = HC_OPEN_READ_ONLY;
	r->flags = BACKING_PRECHECK | (meta_only ? BACKING_PRECHECK_META : 0);
	r->key = (struct backing_key *)key; /* borrowed: not freed below */
	rc = make_options(r, &ro, 0);
	if (rc == HC_OK)
		rc = open_db(r, o->path, 1, HC_OPEN_READ_ONLY);
	if (rc == HC_OK && meta_only)
		*decided = meta_has(r, BACKING_META_KEYCHECK, sizeof(BACKING_META_KEYCHECK) - 1) &&
		           meta_has(r, BACKING_META_FORMAT, sizeof(BACKING_META_FORMAT) - 1);
	if (rc == HC_OK && *decided)
		rc = verify_key(r, o);
	if (rc == HC_OK && *decided)
		rc = backing_format_check(r, o->path);
	if (rc != HC_OK && *decided) {
		char keep[512];

		snprintf(keep, sizeof(keep), "%s", backing_last_error());
		r->key = NULL;
		backing_close(r);
		return backing_set_error(rc, "%s", keep);
	}
	r->key = NULL;
	backing_close(r);
	return *decided ? HC_OK : rc;
}

/*
 * The key check of an existing store before the primary open: on a read-only instance,
 * which takes no lock and writes nothing (RocksDB's read-only open creates no LOG), so a
 * wrong key leaves the store's files as they were. A read-only open replays the WAL
 * into memtables, which after a crash with a large WAL made the precheck about half of
 * hc_open's time: so it first opens META alone, whose records are a few small values,
 * and opens every family only when META does not decide (precheck_look).
 */
static int precheck_key(struct backing *b, const struct backing_opts *o)
{
	int decided = 0;
	int rc = precheck_look(o, b->key, 1, &decided);

	if (decided) {
		if (rc == HC_OK)
			b->flags |= BACKING_CHECKED_META;
		return rc;
	}
	return precheck_look(o, b->key, 0, &decided);
}

/*
 * A creation that failed leaves neither half: the store and its key are created
 * together, and a key file alone would be refused at the next open. Nothing was sealed
 * under the new key yet. RocksDB's files of the new store go too (the store did not
 * exist before this open, and this open won the race to create its key).
 */
static void undo_create(const struct backing_opts *o)
{
	rocksdb_options_t *opts = rocksdb_options_create();
	char *err = NULL;

	if (opts != NULL && store_exists(o->path)) {
		rocksdb_destroy_db(opts, o->path, &err);
		free(err);
	}
	if (opts != NULL)
		rocksdb_options_destroy(opts);
	if (unlink(o->key_file) == 0)
		(void)backing_fsync_parent(o->key_file);
}

int backing_open(const struct backing_opts *o, struct backing **out, char *err, size_t errlen)
{
	struct backing *b;
	int exists, rc;

	if (out != NULL)
		*out = NULL;
	rc = out == NULL ? backing_set_error(HC_EINVAL, "backing_open: out is NULL")
	                 : check_opts(o);
	if (rc != HC_OK) {
		copy_err(err, errlen);
		return rc;
	}
	exists = store_exists(o->path);
	if (!exists && (!o->create_if_missing || o->open_mode != HC_OPEN_PRIMARY)) {
		backing_set_error(HC_EIO, "the store %s does not exist and %s", o->path,
		                  o->open_mode == HC_OPEN_READ_ONLY ? "backing.open = read_only "
		                  "never creates one" : o->open_mode == HC_OPEN_SECONDARY ?
		                  "backing.open = secondary never creates one" :
		                  "backing.create is off");
		copy_err(err, errlen);
		return HC_EIO;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		backing_set_error(HC_ENOMEM, "no memory for the store");
		copy_err(err, errlen);
		return HC_ENOMEM;
	}
	b->durability = o->durability;
	b->open_mode = o->open_mode;
	atomic_init(&b->failed, 0);
	atomic_init(&b->failed_msg_owner, 0);
	atomic_init(&b->store_corrupt, 0);
	rc = load_key(b, o, exists);
	if (rc == HC_OK && exists && o->open_mode == HC_OPEN_PRIMARY)
		rc = precheck_key(b, o);
	if (rc == HC_OK && o->open_mode == HC_OPEN_SECONDARY)
		rc = make_secondary_dir(b);
	if (rc == HC_OK)
		rc = make_options(b, o, !exists);
	if (rc == HC_OK)
		rc = open_db(b, o->path, exists, o->open_mode);
	if (rc == HC_OK && !exists) {
		b->flags |= BACKING_CREATED_STORE;
		/* RocksDB syncs the files inside the new directory, not the directory's own
		 * entry in its parent: without this a power cut can take the whole new store,
		 * writes acknowledged with sync durability included (test_powerloss fresh). */
		if (backing_fsync_parent(o->path) != 0) {
			backing_set_error(HC_EIO, "cannot sync the directory holding the new store "
			                  "%s: %s", o->path, strerror(errno));
			rc = HC_EIO;
		}
	}
	if (rc == HC_OK)
		rc = verify_key(b, o);
	if (rc == HC_OK)
		rc = backing_format_check(b, o->path);
	if (rc != HC_OK) {
		char keep[512];
		unsigned created = b->flags;

		/* close must not overwrite the sentence that explains the failure */
		snprintf(keep, sizeof(keep), "%s", backing_last_error());
		backing_close(b);
		if (!exists && (created & BACKING_CREATED_KEY_FILE))
			undo_create(o);
		backing_set_error(rc, "%s", keep);
		copy_err(err, errlen);
		return rc;
	}
	*out = b;
	return HC_OK;
}

static void flush_at_close(struct backing *b)
{
	char *err = NULL;
	int i;

	/*
	 * Not after a failed write: the WAL writer that saw the error must not be touched
	 * again (Debian's assert-enabled RocksDB 7.8 aborts on it, and without asserts it
	 * would only repeat the error). What was acknowledged before is already in the WAL
	 * file; a reopen recovers it.
	 */
	if (b->durability == HC_DURABILITY_WAL && !backing_failed(b)) {
		rocksdb_flush_wal(b->db, 1, &err);
	} else if (b->durability == HC_DURABILITY_NONE) {
		rocksdb_flushoptions_t *f = rocksdb_flushoptions_create();

		if (f == NULL)
			return;
		rocksdb_flushoptions_set_wait(f, 1);
		for (i = 0; i < BACKING_NCF && err == NULL; i++)
			rocksdb_flush_cf(b->db, f, b->cf[i], &err);
		rocksdb_flushoptions_destroy(f);
	}
	free(err); /* documented: a flush error at close is lost */
}

void backing_close(struct backing *b)
{
	size_t i;

	if (b == NULL)
		return;
	if (b->db != NULL && b->open_mode == HC_OPEN_PRIMARY)
		flush_at_close(b);
	for (i = 0; i < BACKING_NCF; i++)
		if (b->cf[i] != NULL)
			rocksdb_column_family_handle_destroy(b->cf[i]);
	for (i = 0; i < b->n_extra; i++)
		rocksdb_column_family_handle_destroy(b->extra_cf[i]);
	free(b->extra_cf);
	if (b->db != NULL)
		rocksdb_close(b->db);
	for (i = 0; i < BACKING_NCF; i++)
		if (b->cfopts[i] != NULL)
			rocksdb_options_destroy(b->cfopts[i]);
	if (b->extra_opts != NULL)
		rocksdb_options_destroy(b->extra_opts);
	if (b->dbopts != NULL)
		rocksdb_options_destroy(b->dbopts);
	if (b->table != NULL)
		rocksdb_block_based_options_destroy(b->table);
	if (b->cache != NULL)
		rocksdb_cache_destroy(b->cache);
	if (b->wopts != NULL)
		rocksdb_writeoptions_destroy(b->wopts);
	if (b->ropts != NULL)
		rocksdb_readoptions_destroy(b->ropts);
	backing_key_free(b->key);
	if (b->secondary_dir != NULL) {
		nftw(b->secondary_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(b->secondary_dir);
	}
	free(b);
}

void backing_store_figures(const struct backing *b, uint64_t records[BACKING_NCF],
                           uint64_t *sst_bytes)
{
	uint64_t v;
	int i;

	*sst_bytes = 0;
	for (i = 0; i < BACKING_NCF; i++) {
		records[i] = 0;
		if (b->cf[i] == NULL)
			continue;
		if (rocksdb_property_int_cf(b->db, b->cf[i], "rocksdb.estimate-num-keys", &v) == 0)
			records[i] = v;
		if (rocksdb_property_int_cf(b->db, b->cf[i], "rocksdb.total-sst-files-size",
		                            &v) == 0)
			*sst_bytes += v;
	}
}

uint64_t backing_store_corrupt(const struct backing *b)
{
	return atomic_load_explicit(&((struct backing *)b)->store_corrupt, memory_order_relaxed);
}

void backing_count_corrupt(struct backing *b, const char *rocks_err)
{
	if (rocks_err != NULL && strncmp(rocks_err, "Corruption", 10) == 0)
		atomic_fetch_add_explicit(&b->store_corrupt, 1, memory_order_relaxed);
}

unsigned backing_flags(const struct backing *b)
{
	return b->flags;
}

const struct backing_key *backing_key_of(const struct backing *b)
{
	return b->key;
}

int backing_failed(const struct backing *b)
{
	/* Acquire pairs with the release store of 1 in backing_enter_failed: failed_msg is
	 * written before it. */
	return atomic_load_explicit(&b->failed, memory_order_acquire);
}
