/*
 * Fuzz target for the record decoder (backing_record_check + backing_unseal).
 *
 * Input: [family 1B (mod 4)][key length 1B][key][record...]. The key is fixed (32 bytes
 * of 0x42), so the seed corpus holds valid records sealed under it and the fuzzer starts
 * from the success path. Invariants checked on every input (abort on violation):
 *   - a record opens only if its header checks and its length is plaintext + 42;
 *   - on HC_ECORRUPT no byte of the destination differs from its fill or from zero;
 *   - nothing reads outside the record (the replay driver passes an exact-size copy).
 * Replayed over tests/fuzz/corpus/record by the fuzz_record_replay test in every build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backing/backing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct backing_key *fuzz_key(void)
{
	static struct backing_key *k;

	if (k == NULL) {
		unsigned char raw[BACKING_KEY_BYTES];

		memset(raw, 0x42, sizeof(raw));
		k = backing_key_new(raw, BACKING_KEY_ID);
		if (k == NULL)
			abort();
	}
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct backing_key *k = fuzz_key();
	size_t klen, reclen, plen = 0, checked = 0, i;
	const uint8_t *key, *rec;
	unsigned char *dst;
	int cf, rc, hdr;

	if (size < 2)
		return 0;
	cf = data[0] % BACKING_NCF;
	klen = data[1];
	if (size - 2 < klen)
		return 0;
	key = data + 2;
	rec = key + klen;
	reclen = size - 2 - klen;
	hdr = backing_record_check(k, rec, reclen, &checked);
	dst = malloc(reclen + 1);
	if (dst == NULL)
		return 0;
	memset(dst, 0xA5, reclen + 1);
	rc = backing_unseal(k, cf, key, klen, rec, reclen, dst, reclen, &plen);
	if (klen == 0) {
		if (rc != HC_EINVAL)
			abort();
	} else if (hdr != HC_OK) {
		if (rc != HC_ECORRUPT || hdr != HC_ECORRUPT)
			abort();
		for (i = 0; i <= reclen; i++)
			if (dst[i] != 0xA5) /* a bad header never touches dst */
				abort();
	} else if (rc == HC_OK) {
		if (plen != checked || plen + BACKING_SEAL_OVERHEAD != reclen || dst[plen] != 0xA5)
			abort();
	} else {
		if (rc != HC_ECORRUPT)
			abort();
		for (i = 0; i < plen; i++)
			if (dst[i] != 0) /* a bad tag leaves dst wiped */
				abort();
	}
	free(dst);
	return 0;
}
