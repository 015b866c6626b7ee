/*
 * backing/read.c: pinned reads, and opening sealed records straight into the caller's
 * buffer.
 *
 * A cache miss reads the record with rocksdb_get_pinned_cf: the value stays in RocksDB's
 * memtable or block cache (pinned) with no copy, the header gives the exact plaintext
 * size, the cache allocates the entry of that size, and backing_unseal_into decrypts into
 * it. One copy in all (the decryption itself).
 *
 * Threads: any thread, concurrently with any other call but open/close. HC_ENOTFOUND sets
 * no error sentence (it is the common miss, not a failure worth a snprintf).
 */
#define BACKING_INTERNAL
#include "backing/backing.h"

#include <string.h>

int backing_get_raw(struct backing *b, int cf, const void *key, size_t klen,
                    struct backing_pin *pin)
{
	rocksdb_pinnableslice_t *ps;
	char *err = NULL;
	int rc;

	memset(pin, 0, sizeof(*pin));
	rc = backing_check_args(cf, key, klen);
	if (rc != HC_OK)
		return rc;
	ps = rocksdb_get_pinned_cf(b->db, b->ropts, b->cf[cf], key, klen, &err);
	if (err != NULL) {
		backing_count_corrupt(b, err);
		return backing_rocks_error(err, "cannot read the store");
	}
	if (ps == NULL)
		return HC_ENOTFOUND;
	pin->slice_ = ps;
	pin->data = (const unsigned char *)rocksdb_pinnableslice_value(ps, &pin->len);
	pin->cf = cf;
	return HC_OK;
}

int backing_get_sealed(struct backing *b, int cf, const void *key, size_t klen,
                       struct backing_pin *pin, size_t *plain_len)
{
	int rc = backing_get_raw(b, cf, key, klen, pin);

	if (rc != HC_OK)
		return rc;
	rc = backing_record_check(b->key, pin->data, pin->len, &pin->plain_len);
	if (rc != HC_OK) {
		backing_pin_release(pin);
		return rc;
	}
	pin->key = key;
	pin->klen = klen;
	*plain_len = pin->plain_len;
	return HC_OK;
}

int backing_unseal_into(const struct backing *b, const struct backing_pin *pin, void *dst)
{
	size_t plen;

	if (pin->slice_ == NULL || pin->key == NULL)
		return backing_set_error(HC_EINVAL, "unseal_into: the pin holds no sealed record");
	return backing_unseal(b->key, pin->cf, pin->key, pin->klen, pin->data, pin->len, dst,
	                      pin->plain_len, &plen);
}

void backing_pin_release(struct backing_pin *pin)
{
	if (pin->slice_ != NULL)
		rocksdb_pinnableslice_destroy(pin->slice_);
	memset(pin, 0, sizeof(*pin));
}

int backing_get(struct backing *b, int cf, const void *key, size_t klen, void *buf,
                size_t cap, size_t *vlen)
{
	struct backing_pin pin;
	size_t plen;
	int rc;

	rc = backing_get_sealed(b, cf, key, klen, &pin, &plen);
	if (rc != HC_OK)
		return rc;
	*vlen = plen;
	if (cap < plen)
		rc = backing_set_error(HC_ERANGE, "a %zu-byte value does not fit a %zu-byte "
		                       "buffer", plen, cap);
	else
		rc = backing_unseal_into(b, &pin, buf);
	backing_pin_release(&pin);
	return rc;
}

/* Destroys it; RocksDB's iteration failure (counted when it is corruption) or rc. */
static int iter_done(struct backing *b, rocksdb_iterator_t *it, int rc)
{
	char *err = NULL;
	rocksdb_iter_get_error(it, &err);
	rocksdb_iter_destroy(it);
	if (err != NULL) {
		backing_count_corrupt(b, err);
		return backing_rocks_error(err, "cannot iterate over the store");
	}
	return rc;
}

int backing_each_key(struct backing *b, int cf, backing_key_fn fn, void *arg)
{
	if (cf < 0 || cf >= BACKING_NCF || fn == NULL)
		return backing_set_error(HC_EINVAL, "backing_each_key: bad argument");
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(b->db, b->ropts, b->cf[cf]);
	if (it == NULL)
		return backing_set_error(HC_ENOMEM, "no memory for an iterator");
	int rc = HC_OK;
	for (rocksdb_iter_seek_to_first(it); rc == HC_OK && rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t kl;
		const char *k = rocksdb_iter_key(it, &kl);
		rc = fn(k, kl, arg);
	}
	return iter_done(b, it, rc);
}

int backing_each_range(struct backing *b, int cf, const void *from, size_t flen,
                       const void *until, size_t ulen, backing_kv_fn fn, void *arg)
{
	if (cf < 0 || cf >= BACKING_NCF || fn == NULL || from == NULL || until == NULL)
		return backing_set_error(HC_EINVAL, "backing_each_range: bad argument");
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(b->db, b->ropts, b->cf[cf]);
	if (it == NULL)
		return backing_set_error(HC_ENOMEM, "no memory for an iterator");
	int rc = HC_OK;
	for (rocksdb_iter_seek(it, from, flen); rc == HC_OK && rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t kl, vl;
		const char *k = rocksdb_iter_key(it, &kl);
		size_t n = kl < ulen ? kl : ulen;
		int cmp = memcmp(k, until, n);
		if (cmp > 0 || (cmp == 0 && kl >= ulen))
			break;
		const char *v = rocksdb_iter_value(it, &vl);
		rc = fn(k, kl, v, vl, arg);
	}
	return iter_done(b, it, rc);
}

int backing_each_prefixed(struct backing *b, int cf, const void *prefix, size_t plen,
                          backing_kv_fn fn, void *arg)
{
	if (cf < 0 || cf >= BACKING_NCF || fn == NULL || (prefix == NULL && plen > 0))
		return backing_set_error(HC_EINVAL, "backing_each_prefixed: bad argument");
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(b->db, b->ropts, b->cf[cf]);
	if (it == NULL)
		return backing_set_error(HC_ENOMEM, "no memory for an iterator");
	int rc = HC_OK;
	for (rocksdb_iter_seek(it, prefix, plen); rc == HC_OK && rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t kl, vl;
		const char *k = rocksdb_iter_key(it, &kl);
		if (kl < plen || memcmp(k, prefix, plen) != 0)
			break;
		const char *v = rocksdb_iter_value(it, &vl);
		rc = fn(k, kl, v, vl, arg);
	}
	char *err = NULL;
	rocksdb_iter_get_error(it, &err);
	rocksdb_iter_destroy(it);
	if (err != NULL) {
		backing_count_corrupt(b, err);
		return backing_rocks_error(err, "cannot iterate over the store");
	}
	return rc;
}
