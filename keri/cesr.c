/*
 * keri/cesr.c: CESR text-domain primitives (qb64).
 *
 * A fixed-size primitive is `code || b64url(ps zero bytes || raw)[ps:]` where ps =
 * (3 - rawlen % 3) % 3 equals the code length mod 4. Decoding therefore prepends ps
 * 'A's to the text after the code, decodes, and requires the ps leading bytes to be
 * zero: those are the pad bits, and a non-zero one is KERI_EPAD, because two texts
 * differing there would decode to the same raw bytes (a malleability keripy rejects).
 *
 * Supported matter codes: B D (Ed25519 keys), E F I (BLAKE3-256, BLAKE2b-256,
 * SHA2-256 digests), 0A (128-bit number), 0B (Ed25519 non-indexed signature),
 * 1AAG (DateTime). Indexed signatures: A, B (1-char index), 2A, 2B (2-char index and
 * ondex). Everything else is KERI_ECESR, by code.
 */
#include <stdio.h>
#include <string.h>

#include "keri/keri.h"

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int keri_b64_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

void keri_b64_encode(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0, o = 0; i < n; i += 3, o += 4) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[o] = b64chars[(v >> 18) & 63];
		out[o + 1] = b64chars[(v >> 12) & 63];
		out[o + 2] = b64chars[(v >> 6) & 63];
		out[o + 3] = b64chars[v & 63];
	}
}

/* Decode `ps` virtual 'A's followed by t[0..n) into ps + rawlen bytes of out;
 * (ps + n) is a multiple of 4. Fails on a non-base64 char or non-zero pad. */
static int decode_padded(const char *t, size_t n, size_t ps, uint8_t *raw, size_t rawlen,
                         const char *code, char *why, size_t whylen)
{
	uint8_t tmp[72];
	size_t nch = ps + n, o = 0;
	uint32_t acc = 0;

	if (nch % 4 || nch / 4 * 3 > sizeof(tmp) || nch / 4 * 3 != ps + rawlen)
		return keri_fail(why, whylen, KERI_ECESR, "CESR: bad size for code %s", code);
	for (size_t i = 0; i < nch; i++) {
		int v = i < ps ? 0 : keri_b64_val((unsigned char)t[i - ps]);
		if (v < 0)
			return keri_fail(why, whylen, KERI_ECESR,
			                 "CESR: non-base64url character in a %s primitive", code);
		acc = (acc << 6) | (uint32_t)v;
		if (i % 4 == 3) {
			tmp[o++] = (uint8_t)(acc >> 16);
			tmp[o++] = (uint8_t)(acc >> 8);
			tmp[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	for (size_t i = 0; i < ps; i++)
		if (tmp[i])
			return keri_fail(why, whylen, KERI_EPAD,
			                 "CESR pad rule: non-zero pad bits in a %s primitive", code);
	memcpy(raw, tmp + ps, rawlen);
	return KERI_OK;
}

struct matter {
	const char *code;
	size_t hs, fs, rawlen;
};

static const struct matter matters[] = {
	{"B", 1, 44, 32}, {"D", 1, 44, 32}, {"E", 1, 44, 32}, {"F", 1, 44, 32},
	{"I", 1, 44, 32}, {"0A", 2, 24, 16}, {"0B", 2, 88, 64}, {"1AAG", 4, 36, 24},
};

int keri_prim_decode(const char *t, size_t avail, struct keri_prim *p, char *why,
                     size_t whylen)
{
	const struct matter *m = NULL;

	if (avail < 1)
		return keri_fail(why, whylen, KERI_ETRUNCATED, "CESR: truncated primitive");
	for (size_t i = 0; i < sizeof(matters) / sizeof(matters[0]); i++) {
		size_t hs = matters[i].hs;
		if (avail >= hs && memcmp(t, matters[i].code, hs) == 0) {
			m = &matters[i];
			break;
		}
	}
	if (!m) {
		char c[3] = {t[0], avail > 1 ? t[1] : 0, 0};
		if (avail < 4 && (t[0] == '0' || t[0] == '1'))
			return keri_fail(why, whylen, KERI_ETRUNCATED, "CESR: truncated code");
		if (keri_b64_val((unsigned char)c[0]) < 0 || (c[1] && keri_b64_val((unsigned char)c[1]) < 0))
			c[0] = '?', c[1] = 0;
		return keri_fail(why, whylen, KERI_ECESR,
		                 "CESR: unsupported primitive code starting '%s'", c);
	}
	if (avail < m->fs)
		return keri_fail(why, whylen, KERI_ETRUNCATED,
		                 "CESR: truncated %s primitive (%zu of %zu chars)", m->code, avail,
		                 m->fs);
	memset(p, 0, sizeof(*p));
	memcpy(p->code, m->code, m->hs);
	p->fs = m->fs;
	p->rawlen = m->rawlen;
	size_t ps = (3 - m->rawlen % 3) % 3;
	return decode_padded(t + m->hs, m->fs - m->hs, ps, p->raw, m->rawlen, m->code, why,
	                     whylen);
}

int keri_qb64_check(const char *s, size_t slen, const char *codes, const char *what,
                    char *why, size_t whylen)
{
	struct keri_prim p;
	if (slen != KERI_QB64 || !strchr(codes, s[0]) || s[0] == 0)
		return keri_fail(why, whylen, KERI_EFIELD,
		                 "field %s: expected a 44-char qb64 primitive with code in [%s]",
		                 what, codes);
	int rc = keri_prim_decode(s, slen, &p, why, whylen);
	if (rc == KERI_ETRUNCATED || (rc == KERI_OK && p.fs != slen))
		return keri_fail(why, whylen, KERI_EFIELD, "field %s: bad primitive length", what);
	if (rc < 0) {
		char tmp[160];
		snprintf(tmp, sizeof(tmp), "%s", why && whylen ? why : "");
		return keri_fail(why, whylen, rc, "field %s: %s", what, tmp);
	}
	return KERI_OK;
}

int keri_siger_decode(const char *t, size_t avail, struct keri_sig *s, size_t *fs,
                      char *why, size_t whylen)
{
	size_t cs, full;
	int a, b2;

	if (avail < 1)
		return keri_fail(why, whylen, KERI_ETRUNCATED, "CESR: truncated indexed signature");
	memset(s, 0, sizeof(*s));
	if (t[0] == 'A' || t[0] == 'B') {
		cs = 2, full = 88;
		if (avail < 2)
			return keri_fail(why, whylen, KERI_ETRUNCATED,
			                 "CESR: truncated indexed signature code");
		a = keri_b64_val((unsigned char)t[1]);
		if (a < 0)
			return keri_fail(why, whylen, KERI_ECESR, "CESR: bad signature index char");
		s->index = (uint16_t)a;
		s->has_ondex = t[0] == 'A';
		s->ondex = s->has_ondex ? s->index : 0;
	} else if (t[0] == '2') {
		cs = 6, full = 92;
		if (avail < 6)
			return keri_fail(why, whylen, KERI_ETRUNCATED,
			                 "CESR: truncated indexed signature code");
		if (t[1] != 'A' && t[1] != 'B')
			return keri_fail(why, whylen, KERI_ECESR,
			                 "CESR: unsupported indexed signature code 2%c", t[1]);
		int v[4];
		for (int i = 0; i < 4; i++)
			if ((v[i] = keri_b64_val((unsigned char)t[2 + i])) < 0)
				return keri_fail(why, whylen, KERI_ECESR,
				                 "CESR: bad signature index char");
		a = v[0] * 64 + v[1];
		b2 = v[2] * 64 + v[3];
		s->index = (uint16_t)a;
		s->has_ondex = t[1] == 'A';
		if (!s->has_ondex && b2 != 0)
			return keri_fail(why, whylen, KERI_ECESR,
			                 "CESR: 2B current-only signature with non-zero ondex");
		s->ondex = (uint16_t)b2;
	} else {
		char c = keri_b64_val((unsigned char)t[0]) >= 0 ? t[0] : '?';
		return keri_fail(why, whylen, KERI_ECESR,
		                 "CESR: unsupported indexed signature code '%c' (only Ed25519 "
		                 "A, B, 2A, 2B)", c);
	}
	if (avail < full)
		return keri_fail(why, whylen, KERI_ETRUNCATED,
		                 "CESR: truncated indexed signature (%zu of %zu chars)", avail, full);
	*fs = full;
	return decode_padded(t + cs, full - cs, 2, s->sig, 64, "indexed signature", why, whylen);
}
