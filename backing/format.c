/*
 * backing/format.c: the store's format version (backing.h, BACKING_STORE_FORMAT).
 * Called after the key check on every open, including the read-only precheck that
 * runs before a primary's recovery, so a store of another format is refused before
 * RocksDB writes anything to it.
 */
#define BACKING_INTERNAL
#include "backing/backing.h"

#include <string.h>

static int stamp(struct backing *b)
{
	unsigned char v[4] = {BACKING_STORE_FORMAT & 0xff, (BACKING_STORE_FORMAT >> 8) & 0xff,
	                      (BACKING_STORE_FORMAT >> 16) & 0xff, BACKING_STORE_FORMAT >> 24};
	rocksdb_writeoptions_t *w = rocksdb_writeoptions_create();
	char *err = NULL;
	if (w == NULL)
		return backing_set_error(HC_ENOMEM, "no memory for RocksDB options");
	rocksdb_writeoptions_set_sync(w, 1); /* the stamp is durable before any new write */
	rocksdb_put_cf(b->db, w, b->cf[BACKING_META], BACKING_META_FORMAT,
	               sizeof(BACKING_META_FORMAT) - 1, (const char *)v, sizeof(v), &err);
	rocksdb_writeoptions_destroy(w);
	if (err != NULL)
		return backing_rocks_error(err, "cannot write the store's format version");
	return HC_OK;
}

int backing_format_check(struct backing *b, const char *path)
{
	if (b->cf[BACKING_META] == NULL) /* a precheck of a store without our families */
		return HC_OK;
	char *err = NULL;
	rocksdb_pinnableslice_t *ps = rocksdb_get_pinned_cf(
		b->db, b->ropts, b->cf[BACKING_META], BACKING_META_FORMAT,
		sizeof(BACKING_META_FORMAT) - 1, &err);
	if (err != NULL)
		return backing_rocks_error(err, "cannot read the store's format version");
	if (ps == NULL) /* older than the stamp: format 1; only a primary writes it */
		return b->open_mode == HC_OPEN_PRIMARY && !(b->flags & BACKING_PRECHECK)
		               ? stamp(b) : HC_OK;
	size_t vl;
	const unsigned char *v = (const unsigned char *)rocksdb_pinnableslice_value(ps, &vl);
	unsigned long f = 0;
	if (vl == 4)
		f = (unsigned long)v[0] | (unsigned long)v[1] << 8 | (unsigned long)v[2] << 16 |
		    (unsigned long)v[3] << 24;
	rocksdb_pinnableslice_destroy(ps);
	if (vl != 4)
		return backing_set_error(HC_ECORRUPT, "the store %s has a format version of %zu "
		                         "bytes, not 4: it is damaged or not a hotcache store",
		                         path, vl);
	if (f != BACKING_STORE_FORMAT)
		return backing_set_error(HC_ENOTSUP, "the store %s is in format %lu; this build "
		                         "(hotcache %s) reads format %u only: open it with a "
		                         "hotcache that reads format %lu", path, f,
		                         HC_VERSION_STRING, BACKING_STORE_FORMAT, f);
	return HC_OK;
}
