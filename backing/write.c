/*
 * backing/write.c: puts, deletes and batches, and the failed state.
 *
 * Every logical write is one RocksDB write batch (a single put or delete is a batch of
 * one inside RocksDB) written with the store's write options, so it is atomic and, with
 * sync durability, on disk when the call returns. Concurrent writers are grouped by
 * RocksDB's write path (one WAL write and one sync for a group).
 *
 * The failed state (backing.h): the first RocksDB write error stores its text in
 * failed_msg (the thread that wins failed_msg_owner writes it) and then sets failed with
 * a release store; writers load failed with acquire before writing, so a writer that sees
 * the flag also sees the whole text. Without the pairing a writer could print a torn
 * message; without the flag itself, a write after a failed sync could succeed and be
 * served although the earlier, unacknowledged one was lost in between, reordering
 * history. A writer that loaded 0 just before another failed may still reach RocksDB;
 * RocksDB itself stops accepting writes after a WAL error, so that write fails too (and
 * returns HC_EIO). Threads: any, concurrently.
 */
#define BACKING_INTERNAL
#include "backing/backing.h"

#include <stdio.h>
#include <stdlib.h>

#define STACK_SEAL 4096u

struct backing_batch {
	struct backing *b;
	rocksdb_writebatch_t *wb;
	size_t n;
	int committed;
};

int backing_enter_failed(struct backing *b, char *rocks_err, const char *what)
{
	int expected = 0;

	if (atomic_compare_exchange_strong_explicit(&b->failed_msg_owner, &expected, 1,
	                                            memory_order_relaxed,
	                                            memory_order_relaxed)) {
		snprintf(b->failed_msg, sizeof(b->failed_msg), "%s: %s", what,
		         rocks_err != NULL ? rocks_err : "unknown error");
		/* pairs with the acquire in backing_writable: the message is complete */
		atomic_store_explicit(&b->failed, 1, memory_order_release);
	}
	backing_rocks_error(rocks_err, what); /* the text; a write error is never EBUSY */
	return HC_EIO;
}

int backing_writable(struct backing *b)
{
	if (b->open_mode != HC_OPEN_PRIMARY)
		return backing_set_error(HC_EREADONLY, "the store is open %s (backing.open): it "
		                         "takes no writes; open it as primary to write",
		                         b->open_mode == HC_OPEN_READ_ONLY ? "read_only"
		                                                           : "secondary");
	/* pairs with the release in backing_enter_failed */
	if (atomic_load_explicit(&b->failed, memory_order_acquire) == 0)
		return HC_OK;
	return backing_set_error(HC_EREADONLY, "the store refuses writes since an earlier "
	                         "write failed (%s); close and reopen it", b->failed_msg);
}

static int check_val(const void *val, size_t vlen)
{
	if (val == NULL && vlen > 0)
		return backing_set_error(HC_EINVAL, "a value of %zu bytes at NULL", vlen);
	if (vlen > SIZE_MAX - BACKING_SEAL_OVERHEAD)
		return backing_set_error(HC_EINVAL, "a value of %zu bytes is too large", vlen);
	return HC_OK;
}

/* Seals into *buf: the stack buffer when it fits, else a malloc'd one (caller frees). */
static int seal_tmp(const struct backing_key *k, int cf, const void *key, size_t klen,
                    const void *val, size_t vlen, unsigned char *stack, unsigned char **buf)
{
	size_t n = backing_sealed_len(vlen);
	int rc;

	*buf = n <= STACK_SEAL ? stack : malloc(n);
	if (*buf == NULL)
		return backing_set_error(HC_ENOMEM, "no memory to seal a %zu-byte value", vlen);
	rc = backing_seal(k, cf, key, klen, val, vlen, *buf, n);
	if (rc != HC_OK && *buf != stack) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

static int put_bytes(struct backing *b, int cf, const void *key, size_t klen,
                     const void *val, size_t vlen)
{
	char *err = NULL;

	rocksdb_put_cf(b->db, b->wopts, b->cf[cf], key, klen, val, vlen, &err);
	if (err != NULL)
		return backing_enter_failed(b, err, "a write to the store failed");
	return HC_OK;
}

int backing_put(struct backing *b, int cf, const void *key, size_t klen, const void *val,
                size_t vlen)
{
	unsigned char stack[STACK_SEAL], *rec;
	int rc;

	rc = backing_check_args(cf, key, klen);
	if (rc == HC_OK)
		rc = check_val(val, vlen);
	if (rc == HC_OK)
		rc = backing_writable(b);
	if (rc == HC_OK)
		rc = seal_tmp(b->key, cf, key, klen, val, vlen, stack, &rec);
	if (rc != HC_OK)
		return rc;
	rc = put_bytes(b, cf, key, klen, rec, backing_sealed_len(vlen));
	if (rec != stack)
		free(rec);
	return rc;
}

int backing_put_raw(struct backing *b, int cf, const void *key, size_t klen,
                    const void *val, size_t vlen)
{
	int rc;

	rc = backing_check_args(cf, key, klen);
	if (rc == HC_OK)
		rc = check_val(val, vlen);
	if (rc == HC_OK)
		rc = backing_writable(b);
	if (rc != HC_OK)
		return rc;
	return put_bytes(b, cf, key, klen, vlen > 0 ? val : "", vlen);
}

int backing_delete(struct backing *b, int cf, const void *key, size_t klen)
{
	char *err = NULL;
	int rc;

	rc = backing_check_args(cf, key, klen);
	if (rc == HC_OK)
		rc = backing_writable(b);
	if (rc != HC_OK)
		return rc;
	rocksdb_delete_cf(b->db, b->wopts, b->cf[cf], key, klen, &err);
	if (err != NULL)
		return backing_enter_failed(b, err, "a delete from the store failed");
	return HC_OK;
}

struct backing_batch *backing_batch_new(struct backing *b)
{
	struct backing_batch *t = calloc(1, sizeof(*t));

	if (t != NULL)
		t->wb = rocksdb_writebatch_create();
	if (t == NULL || t->wb == NULL) {
		free(t);
		backing_set_error(HC_ENOMEM, "no memory for a write batch");
		return NULL;
	}
	t->b = b;
	return t;
}

int backing_batch_put_raw(struct backing_batch *t, int cf, const void *key, size_t klen,
                          const void *val, size_t vlen)
{
	int rc = backing_check_args(cf, key, klen);

	if (rc == HC_OK)
		rc = check_val(val, vlen);
	if (rc != HC_OK)
		return rc;
	rocksdb_writebatch_put_cf(t->wb, t->b->cf[cf], key, klen, vlen > 0 ? val : "", vlen);
	t->n++;
	return HC_OK;
}

int backing_batch_put(struct backing_batch *t, int cf, const void *key, size_t klen,
                      const void *val, size_t vlen)
{
	unsigned char stack[STACK_SEAL], *rec;
	int rc = backing_check_args(cf, key, klen);

	if (rc == HC_OK)
		rc = check_val(val, vlen);
	if (rc == HC_OK)
		rc = seal_tmp(t->b->key, cf, key, klen, val, vlen, stack, &rec);
	if (rc != HC_OK)
		return rc;
	rocksdb_writebatch_put_cf(t->wb, t->b->cf[cf], key, klen, (const char *)rec,
	                          backing_sealed_len(vlen));
	if (rec != stack)
		free(rec);
	t->n++;
	return HC_OK;
}

int backing_batch_delete(struct backing_batch *t, int cf, const void *key, size_t klen)
{
	int rc = backing_check_args(cf, key, klen);

	if (rc != HC_OK)
		return rc;
	rocksdb_writebatch_delete_cf(t->wb, t->b->cf[cf], key, klen);
	t->n++;
	return HC_OK;
}

size_t backing_batch_count(const struct backing_batch *t)
{
	return t->n;
}

int backing_batch_commit(struct backing_batch *t)
{
	char *err = NULL;
	int rc;

	if (t->committed)
		return backing_set_error(HC_EINVAL, "a batch was committed twice");
	rc = backing_writable(t->b);
	if (rc != HC_OK)
		return rc;
	t->committed = 1;
	if (t->n == 0)
		return HC_OK;
	rocksdb_write(t->b->db, t->b->wopts, t->wb, &err);
	if (err != NULL)
		return backing_enter_failed(t->b, err, "a batch write to the store failed");
	return HC_OK;
}

void backing_batch_free(struct backing_batch *t)
{
	if (t == NULL)
		return;
	rocksdb_writebatch_destroy(t->wb);
	free(t);
}
