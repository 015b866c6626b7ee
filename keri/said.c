/*
 * keri/said.c: digests and self-addressing identifiers.
 *
 * A SAID is the digest of the serialised event in which the SAID field itself (and
 * `i` too, for an inception whose prefix is a digest) holds 44 '#' characters. The
 * dummy has the same length as the real value, so the version string's size is the
 * same in both serialisations and the event never needs copying: the hash is fed the
 * body in pieces with the dummies in between. Codes: E BLAKE3-256 (Debian's
 * official BLAKE3 C sources), F BLAKE2b-256 and I SHA2-256 (libsodium).
 */
#include <string.h>

#include <blake3.h>
#include <sodium.h>

#include "keri/keri.h"

struct hasher {
	char code;
	union {
		blake3_hasher b3;
		crypto_generichash_state b2;
		crypto_hash_sha256_state s2;
	} u;
};

static int h_init(struct hasher *h, char code)
{
	h->code = code;
	switch (code) {
	case 'E':
		blake3_hasher_init(&h->u.b3);
		return 0;
	case 'F':
		return crypto_generichash_init(&h->u.b2, NULL, 0, 32) ? -1 : 0;
	case 'I':
		return crypto_hash_sha256_init(&h->u.s2) ? -1 : 0;
	default:
		return -1;
	}
}

static void h_update(struct hasher *h, const uint8_t *d, size_t n)
{
	switch (h->code) {
	case 'E':
		blake3_hasher_update(&h->u.b3, d, n);
		break;
	case 'F':
		crypto_generichash_update(&h->u.b2, d, n);
		break;
	default:
		crypto_hash_sha256_update(&h->u.s2, d, n);
		break;
	}
}

static void h_final_qb64(struct hasher *h, char *out)
{
	uint8_t raw[33];
	raw[0] = 0;
	switch (h->code) {
	case 'E':
		blake3_hasher_finalize(&h->u.b3, raw + 1, 32);
		break;
	case 'F':
		crypto_generichash_final(&h->u.b2, raw + 1, 32);
		break;
	default:
		crypto_hash_sha256_final(&h->u.s2, raw + 1);
		break;
	}
	keri_b64_encode(raw, 33, out);
	out[0] = h->code;
	out[KERI_QB64] = 0;
}

int keri_digest_qb64(char code, const uint8_t *data, size_t len, char *out)
{
	struct hasher h;
	if (!out || (!data && len) || h_init(&h, code))
		return KERI_ECESR;
	h_update(&h, data, len);
	h_final_qb64(&h, out);
	return KERI_OK;
}

int keri_said_verify(const uint8_t *body, size_t len, size_t d_off, size_t i_off,
                     int dummy_i, char *why, size_t whylen)
{
	static const uint8_t dummy[KERI_QB64] = {
		'#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#',
		'#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#',
		'#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#', '#'};
	struct hasher h;
	char got[KERI_QB64 + 1];
	size_t cuts[2] = {d_off, i_off};
	size_t ncut = dummy_i ? 2 : 1;

	if (d_off + KERI_QB64 > len || (dummy_i && i_off + KERI_QB64 > len))
		return KERI_EINVAL;
	if (ncut == 2 && cuts[1] < cuts[0]) {
		cuts[0] = i_off;
		cuts[1] = d_off;
	}
	if (ncut == 2 && cuts[0] + KERI_QB64 > cuts[1])
		return KERI_EINVAL;
	if (h_init(&h, (char)body[d_off]))
		return keri_fail(why, whylen, KERI_EFIELD,
		                 "field d: SAID code '%c' is not a supported digest (E, F, I)",
		                 body[d_off]);
	size_t pos = 0;
	for (size_t c = 0; c < ncut; c++) {
		h_update(&h, body + pos, cuts[c] - pos);
		h_update(&h, dummy, KERI_QB64);
		pos = cuts[c] + KERI_QB64;
	}
	h_update(&h, body + pos, len - pos);
	h_final_qb64(&h, got);
	if (memcmp(got, body + d_off, KERI_QB64) != 0)
		return keri_fail(why, whylen, KERI_ESAID,
		                 "SAID rule: field d is %.44s but the event digests to %s",
		                 (const char *)body + d_off, got);
	if (dummy_i && memcmp(got, body + i_off, KERI_QB64) != 0)
		return keri_fail(why, whylen, KERI_ESAID,
		                 "SAID rule: self-addressing prefix i is %.44s but the event "
		                 "digests to %s", (const char *)body + i_off, got);
	return KERI_OK;
}
