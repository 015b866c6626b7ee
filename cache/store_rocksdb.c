/*
 * The cache's store over backing/: payloads sealed in the `payload` column family.
 * Any thread may call these concurrently (backing/ is thread-safe); each turns a
 * backing error into the calling thread's hc_last_error sentence.
 */
#include <stdio.h>
#include <string.h>

#include "backing/backing.h"
#include "cache/error.h"
#include "cache/log.h"
#include "cache/store.h"

int cache_store_rocksdb(struct hc_cache *c);
void cache_store_rocksdb_stats(const struct hc_cache *c, struct hc_stats *st);

void cache_store_rocksdb_stats(const struct hc_cache *c, struct hc_stats *st)
{
	uint64_t records[BACKING_NCF];

	st->store_corrupt = backing_store_corrupt(c->backing);
	backing_store_figures(c->backing, records, &st->store_sst_bytes);
	st->store_payload_records = records[BACKING_PAYLOAD];
	st->store_kel_records = records[BACKING_KEL];
	st->store_keystate_records = records[BACKING_KEYSTATE];
}

static int fail(int rc)
{
	if (rc != 0 && rc != HC_ENOTFOUND)
		hc_error_set("%s", backing_last_error());
	return rc;
}

static int store_put(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	return fail(backing_put(ctx, BACKING_PAYLOAD, key, klen, val, vlen));
}

static int store_del(void *ctx, const void *key, size_t klen)
{
	return fail(backing_delete(ctx, BACKING_PAYLOAD, key, klen));
}

/* Reads the record pinned (no copy) and opens it straight into the entry's buffer. */
static int store_load(void *ctx, const void *key, size_t klen, struct cache_load *ld)
{
	struct backing_pin pin;
	size_t plain;
	int rc = backing_get_sealed(ctx, BACKING_PAYLOAD, key, klen, &pin, &plain);
	if (rc != 0)
		return fail(rc);
	void *dst = ld->alloc(ld, plain);
	if (dst == NULL) {
		backing_pin_release(&pin);
		return hc_error_ret(HC_ENOMEM, "out of memory for a %zu-byte value", plain);
	}
	rc = backing_unseal_into(ctx, &pin, dst);
	backing_pin_release(&pin);
	return fail(rc);
}

static void store_close(void *ctx)
{
	backing_close(ctx);
}

int cache_store_rocksdb(struct hc_cache *c)
{
	char key_file[HC_PATH_MAX + 8];
	if (c->cfg.key_file[0] != '\0')
		snprintf(key_file, sizeof(key_file), "%s", c->cfg.key_file);
	else
		snprintf(key_file, sizeof(key_file), "%s.key", c->cfg.backing_path);
	struct backing_opts o = {
		.path = c->cfg.backing_path,
		.key_file = key_file,
		.durability = c->cfg.durability,
		.block_cache = c->cfg.block_cache,
		.write_buffer = c->cfg.write_buffer,
		.create_if_missing = c->cfg.create_if_missing,
		.open_mode = c->cfg.open_mode,
		.log_level = c->cfg.store_log_level,
		.log_dir = c->cfg.store_log_dir,
		.key_file_permissive = c->cfg.key_file_permissive,
	};
	char err[HC_ERROR_MAX];
	struct backing *b = NULL;
	int rc = backing_open(&o, &b, err, sizeof(err));
	if (rc != 0)
		return hc_error_ret(rc, "%s", err);
	if (backing_flags(b) & BACKING_CREATED_KEY_FILE)
		cache_log(c, HC_LOG_INFO, "created a new store %s and its data key %s (mode "
		          "0600); keep the key with the store, it cannot be recovered",
		          c->cfg.backing_path, key_file);
	c->backing = b;
	c->store = (struct cache_store){
		.ctx = b, .put = store_put, .del = store_del, .load = store_load,
		.close = store_close};
	return 0;
}
