/*
 * backing/seal.c: data keys in guarded memory and the record format at rest.
 *
 *     [format 1B = 1][key id 1B][nonce 24B][ciphertext][tag 16B]
 *
 * XChaCha20-Poly1305-IETF: the 24-byte nonce is unique per record (nonce.c: a random
 * per-thread prefix and a counter, safe across fork). The associated data binds the format, the key id, the column
 * family and the lookup key (see backing_ad), so a valid record copied to another key
 * or family, or relabelled with another format or key id, fails the tag check.
 *
 * Failure policy: every way a record can fail to open is HC_ECORRUPT, and no plaintext
 * byte reaches the caller: a bad header is found before dst is touched, and a bad tag is
 * found by libsodium before it decrypts (it zeroes its output; we wipe again so the
 * contract does not rest on that detail).
 *
 * These functions are pure apart from the nonce; any thread may call them at once.
 */
#define BACKING_INTERNAL
#include "backing/backing.h"

#include <sodium.h>
#include <string.h>

/* Lives entirely in sodium_malloc memory (all bytes, so alignment 1 is fine). */
struct backing_key {
	unsigned char raw[BACKING_KEY_BYTES];
	uint8_t id;
};

static const char *const cf_names[BACKING_NCF] = { "payload", "kel", "keystate", "meta" };

const char *backing_cf_name(int cf)
{
	if (cf < 0 || cf >= BACKING_NCF)
		return NULL;
	return cf_names[cf];
}

int backing_check_args(int cf, const void *key, size_t klen)
{
	if (cf < 0 || cf >= BACKING_NCF)
		return backing_set_error(HC_EINVAL, "column family %d does not exist", cf);
	if (key == NULL || klen == 0 || klen > HC_KEY_MAX)
		return backing_set_error(HC_EINVAL, "a key must be 1 to %u bytes, not %zu",
		                         HC_KEY_MAX, key == NULL ? (size_t)0 : klen);
	return HC_OK;
}

struct backing_key *backing_key_alloc(uint8_t id)
{
	struct backing_key *k;

	if (sodium_init() < 0)
		return NULL;
	k = sodium_malloc(sizeof(*k));
	if (k == NULL)
		return NULL;
	k->id = id;
	return k;
}

unsigned char *backing_key_raw(struct backing_key *k)
{
	return k->raw;
}

const unsigned char *backing_key_bytes(const struct backing_key *k)
{
	return k->raw;
}

void backing_key_lock(struct backing_key *k)
{
	/* Read-only from here on: a stray write through a dangling pointer faults. */
	sodium_mprotect_readonly(k);
}

struct backing_key *backing_key_new(const unsigned char raw[BACKING_KEY_BYTES], uint8_t id)
{
	struct backing_key *k = backing_key_alloc(id);

	if (k == NULL)
		return NULL;
	memcpy(k->raw, raw, BACKING_KEY_BYTES);
	backing_key_lock(k);
	return k;
}

void backing_key_free(struct backing_key *k)
{
	if (k == NULL)
		return;
	/* sodium_free wipes the region; it must be writable again first. */
	sodium_mprotect_readwrite(k);
	sodium_free(k);
}

uint8_t backing_key_id(const struct backing_key *k)
{
	return k->id;
}

size_t backing_ad(unsigned char *ad, uint8_t format, uint8_t key_id, int cf,
                  const void *key, size_t klen)
{
	const char *name = cf_names[cf];
	size_t nlen = strlen(name);

	ad[0] = format;
	ad[1] = key_id;
	ad[2] = (unsigned char)nlen;
	memcpy(ad + 3, name, nlen);
	memcpy(ad + 3 + nlen, key, klen);
	return 3 + nlen + klen;
}

int backing_seal(const struct backing_key *k, int cf, const void *key, size_t klen,
                 const void *val, size_t vlen, void *out, size_t cap)
{
	unsigned char ad[BACKING_AD_MAX];
	unsigned char *rec = out;
	unsigned long long clen;
	static const unsigned char empty[1];
	size_t adlen;
	int rc;

	rc = backing_check_args(cf, key, klen);
	if (rc != HC_OK)
		return rc;
	if (k == NULL || (val == NULL && vlen > 0) || out == NULL ||
	    vlen > SIZE_MAX - BACKING_SEAL_OVERHEAD || cap < backing_sealed_len(vlen))
		return backing_set_error(HC_EINVAL, "seal: bad arguments (value of %zu bytes, "
		                         "output of %zu)", vlen, cap);
	rec[0] = BACKING_FORMAT;
	rec[1] = k->id;
	backing_nonce(rec + 2);
	adlen = backing_ad(ad, BACKING_FORMAT, k->id, cf, key, klen);
	crypto_aead_xchacha20poly1305_ietf_encrypt(rec + BACKING_HEADER_BYTES, &clen,
	                                           vlen > 0 ? val : empty, vlen, ad, adlen,
	                                           NULL, rec + 2, k->raw);
	return HC_OK;
}

int backing_record_check(const struct backing_key *k, const void *rec, size_t reclen,
                         size_t *plain_len)
{
	const unsigned char *r = rec;

	if (reclen < BACKING_SEAL_OVERHEAD)
		return backing_set_error(HC_ECORRUPT, "a record at rest is %zu bytes, shorter "
		                         "than the %u-byte minimum", reclen,
		                         BACKING_SEAL_OVERHEAD);
	if (r[0] != BACKING_FORMAT)
		return backing_set_error(HC_ECORRUPT, "a record at rest has format %u; this "
		                         "build reads format %u", r[0], BACKING_FORMAT);
	if (r[1] != k->id)
		return backing_set_error(HC_ECORRUPT, "a record at rest names key id %u; the "
		                         "store's key is id %u", r[1], k->id);
	*plain_len = reclen - BACKING_SEAL_OVERHEAD;
	return HC_OK;
}

int backing_unseal(const struct backing_key *k, int cf, const void *key, size_t klen,
                   const void *rec, size_t reclen, void *dst, size_t cap, size_t *plain_len)
{
	unsigned char ad[BACKING_AD_MAX];
	const unsigned char *r = rec;
	unsigned char scratch[1];
	unsigned long long mlen;
	size_t plen = 0, adlen = 0;
	int rc;

	rc = backing_check_args(cf, key, klen);
	if (rc != HC_OK)
		return rc;
	if (k == NULL || (rec == NULL && reclen > 0))
		return backing_set_error(HC_EINVAL, "unseal: no key or no record");
	rc = backing_record_check(k, rec, reclen, &plen);
	if (rc != HC_OK)
		return rc;
	*plain_len = plen;
	if (cap < plen)
		return backing_set_error(HC_ERANGE, "unseal: %zu-byte value, %zu-byte buffer",
		                         plen, cap);
	if (plen > 0 && dst == NULL)
		return backing_set_error(HC_EINVAL, "unseal: no destination");
	adlen = backing_ad(ad, r[0], r[1], cf, key, klen);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(plen > 0 ? dst : scratch, &mlen, NULL,
	                                               r + BACKING_HEADER_BYTES,
	                                               reclen - BACKING_HEADER_BYTES, ad, adlen,
	                                               r + 2, k->raw) != 0) {
		if (plen > 0)
			sodium_memzero(dst, plen);
		return backing_set_error(HC_ECORRUPT, "a record at rest in %s failed "
		                         "authentication (altered, truncated or moved)",
		                         cf_names[cf]);
	}
	return HC_OK;
}
